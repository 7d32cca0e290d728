#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (d) COW storm without pins: 256 anon pages written, fork, the parent writes
# every page.  Each write fault copies (the page is shared with the child), so
# every parent PFN changes, the child keeps the old pages and content, and no
# pin is taken at any time.  Same on 6.1 and 6.12.
. /gw/tests/lib.sh

gw_run cow-fork --pages 256 --hold-ms 100
gw_pins forked 0 0
gw_expect phase forked child_same 256	# fork shared every page
gw_pins written 0 0
gw_expect phase written parent_changed 256	# every write copied
gw_pins after 0 0
gw_expect phase after child_old 256	# the child still sees 'a'
gw_done
