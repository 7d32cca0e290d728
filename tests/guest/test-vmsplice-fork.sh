#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (h) doc/kernel.md G3: vmsplice() of 4 anon pages ('a') into a pipe takes FOLL_GET
# references (no pins), fork, the parent writes 'b': the parent's write COWs
# away from the pages the pipe references, the pipe returns the old 'a'.
# Same on 6.1 and 6.12.
. /gw/tests/lib.sh

gw_run vmsplice-fork --pages 4 --hold-ms 100
gw_pins spliced 0 0	# FOLL_GET, not FOLL_PIN
gw_expect phase spliced spliced 16384
gw_pins forked 0 0
gw_expect phase forked child_same 4
gw_pins written 0 0
gw_expect phase written parent_changed 4	# COW although the pipe holds refs
gw_pins after 0 0
gw_expect phase after pipe_old 4	# pipe still returns the old data
gw_expect phase after pipe_new 0
gw_expect phase after child_old 4
gw_done
