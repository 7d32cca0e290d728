#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (f) fork, then a R/O pin (process_vm_readv) of the child's 4 anon pages,
# which are still shared with the parent.  GUP must not R/O-pin a shared anon
# page: gup_must_unshare -> FAULT_FLAG_UNSHARE fault in the child, which gets
# its own copy before the pin is taken.  Ground truth: the child's PFNs
# changed by the time the pin is held; the parent's did not.
# Same on 6.1 and 6.12.
. /gw/tests/lib.sh

gw_run fork-unshare --pages 4 --hold-ms 300
gw_pins forked 0 0
gw_expect phase forked child_same 4	# shared after fork
gw_pins hold 4 0
gw_expect phase hold child_changed 4	# unshared at pin time
gw_expect phase hold parent_same 4
gw_pins after 4 4
gw_expect phase after child_changed 4
gw_expect phase after data_ok 4
gw_done
