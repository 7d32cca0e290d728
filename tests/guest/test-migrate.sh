#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# move_pages(2) of pinned pages, in the two-node guest make check boots
# (tests/check.sh; elsewhere it skips). A pinned page cannot migrate: the
# syscall's return (pages not migrated) and the pages' nodes afterwards are
# the truth. gupwatch must report one MIGRATE-BLOCKED per page, at its
# pagemap PFN, naming the process that holds the pin (not the mover, not the
# pages' owner) with the pin's kind:
#   numa-move-iouring: gwload's own io_uring buffer, long-term R/W pins;
#   numa-move-pvm: a child's pages, R/O pins of gwload's process_vm_readv.
# The twins (--no-hold, no pin held during the move): every page moves,
# nothing is reported.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
[ "$nodes" -ge 2 ] || gw_skip "one NUMA node: this test runs in make check's two-node boot"

PAGES=8
# blocked_pfns: the PFN column of the MIGRATE-BLOCKED findings, as a sorted list
blocked_pfns() { findings MIGRATE-BLOCKED | awk '{ print $6 }' | sort | tr '\n' ' '; }
want_pfns() { gw_get phase moved pfns | tr , '\n' | sort | tr '\n' ' '; }

for mode in $(trace_modes); do
	for wl in iouring:R/W,longterm pvm:R/O,remote; do
		kind=${wl#*:} wl=numa-move-${wl%%:*}
		trace_case "$mode" "" $wl --pages $PAGES
		from=$(gw_get phase moved from) mover=$(gw_get phase moved mover)
		gw_expect phase moved ret $PAGES
		gw_expect phase moved left $PAGES
		gw_check "MIGRATE-BLOCKED findings" "$(finding_count MIGRATE-BLOCKED)" $PAGES
		gw_check "MIGRATE-BLOCKED at the pinned pages' PFNs" "$(blocked_pfns)" "$(want_pfns)"
		gw_check "each names gw-mover's syscall, node $from and gwload's $kind pin" \
			"$(findings MIGRATE-BLOCKED | grep -c " $mover/gw-mover .* syscall, node $from [A-Za-z0-9]*: 1024 extra references (refcount 1026, migration expects 2): $GW_PID/gwload $kind 1 ref held ")" $PAGES
		[ $wl = numa-move-pvm ] && gw_check "none blames the pages' owner" \
			"$(findings MIGRATE-BLOCKED | grep -c ": $(gw_get phase moved owner)/")" 0

		trace_case "$mode" "" $wl --pages $PAGES --no-hold
		gw_expect phase moved ret 0
		gw_expect phase moved moved $PAGES
		gw_check "twin: MIGRATE-BLOCKED findings" "$(finding_count MIGRATE-BLOCKED)" 0
	done
done
gw_done
