#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (e) pin, fork, write: 4 anon pages pinned by io_uring (R/W long-term), then
# fork.  copy_page_range sees MMF_HAS_PINNED + folio_maybe_dma_pinned and copies
# the pinned pages for the child right away (doc/kernel.md, "fork's eager copy"): the child's PFNs
# differ from the parent's right after fork, the parent's stay, and the
# parent's later writes reuse its (exclusive, pinned) pages without COW.
# Same on 6.1 and 6.12.
. /gw/tests/lib.sh

gw_run pin-fork --pages 4 --hold-ms 200
gw_pins hold 4 0
gw_pins forked 4 0
gw_expect phase forked child_differs 4	# eager copy for the child at fork
gw_expect phase forked parent_same 4
gw_pins written 4 0
gw_expect phase written parent_same 4	# parent's write: no COW
gw_pins after 4 4
gw_expect phase after child_old 4	# child kept the pre-fork content
gw_done
