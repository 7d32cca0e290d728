#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A long-term pin of ZONE_MOVABLE memory, in the guest make check boots with
# movablecore= (tests/check.sh; elsewhere it skips). Anon pages come from
# ZONE_MOVABLE first; io_uring's long-term pin must migrate them out before it
# pins. With the pages also spliced into a pipe (extra references) the
# migration fails: the syscall's errno (ENOMEM) is the truth, and gupwatch
# must report PIN-FAILED with it, naming gwload, and one MIGRATE-BLOCKED per
# page (reason longterm_pin) at its pagemap PFN, blaming no pin: the pipe's
# extra reference is a FOLL_GET one. The twin without the pipe:
# the registration succeeds, pagemap shows every page moved out of
# ZONE_MOVABLE, and nothing is reported.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

# the Movable zones' PFN spans (one per node): "START END START END ..."
spans=$(awk '/^Node/ { z = $4 } z == "Movable" && $1 == "spanned" { s = $2 }
	z == "Movable" && $1 == "start_pfn:" && s { printf "%d %d ", $2, $2 + s; s = 0 }' /proc/zoneinfo)
[ -n "$spans" ] || gw_skip "no ZONE_MOVABLE here: this test runs in make check's movablecore= boot"
echo "ZONE_MOVABLE: PFN spans $spans"

# in_movable LIST: how many PFNs of the comma-separated LIST lie in ZONE_MOVABLE
in_movable() {
	echo "$1" | tr , '\n' | while read -r p; do
		v=$(printf '%d' "$p")
		set -- $spans
		while [ $# -ge 2 ]; do
			[ "$v" -ge "$1" ] && [ "$v" -lt "$2" ] && { echo; break; }
			shift 2
		done
	done | wc -l
}

PAGES=16
for mode in $(trace_modes); do
	trace_case "$mode" "" movable-pin --pages $PAGES
	gw_check "buffer pages in ZONE_MOVABLE before the pin" \
		"$(in_movable "$(gw_get phase registered before)")" $PAGES
	gw_expect phase registered errno 12
	gw_check "PIN-FAILED findings" "$(finding_count PIN-FAILED)" 1
	gw_check "PIN-FAILED: gwload's long-term pin, ENOMEM, its pages not migrated" \
		"$(findings PIN-FAILED | grep -c "$GW_PID/gwload .*R/W,longterm pin of $PAGES pages failed: ENOMEM (-12): $PAGES folios could not be migrated out first (MIGRATE-BLOCKED)$")" 1
	gw_check "MIGRATE-BLOCKED at the buffer's PFNs" \
		"$(findings MIGRATE-BLOCKED | awk '{ print $6 }' | sort | tr '\n' ' ')" \
		"$(gw_get phase registered before | tr , '\n' | sort | tr '\n' ' ')"
	gw_check "each: longterm_pin, in ZONE_MOVABLE, the pipe's reference, no pin" \
		"$(findings MIGRATE-BLOCKED | grep -c " $GW_PID/gwload .* longterm_pin, node [0-9]* Movable: 1 extra reference (refcount 3, migration expects 2): none of them FOLL_PIN pins gupwatch saw$")" $PAGES

	trace_case "$mode" "" movable-pin --pages $PAGES --no-hold
	gw_expect phase registered errno 0
	gw_check "twin: buffer pages in ZONE_MOVABLE before the pin" \
		"$(in_movable "$(gw_get phase registered before)")" $PAGES
	gw_check "twin: buffer pages in ZONE_MOVABLE once pinned (migrated out)" \
		"$(in_movable "$(gw_get phase registered after)")" 0
	gw_check "twin: PIN-FAILED findings" "$(finding_count PIN-FAILED)" 0
	gw_check "twin: MIGRATE-BLOCKED findings" "$(finding_count MIGRATE-BLOCKED)" 0
done
gw_done
