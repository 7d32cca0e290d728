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
# ZONE_MOVABLE, and nothing is reported. In it the kernel first pins the
# ZONE_MOVABLE pages, then unpins, migrates and pins the copies: gupwatch -v
# must mark exactly the pins at the PFNs /proc/zoneinfo puts in ZONE_MOVABLE,
# see the call return, and report no LONGTERM-IN-MOVABLE (a long-term pin
# kept in ZONE_MOVABLE; neither kernel keeps one, so only the unit test
# shows it reported).
. /gw/tests/lib.sh
. /gw/tests/trace.sh

# the Movable zones' PFN spans (one per node): "START END START END ..."
spans=$(awk '/^Node/ { z = $4 } z == "Movable" && $1 == "spanned" { s = $2 }
	z == "Movable" && $1 == "start_pfn:" && s { printf "%d %d ", $2, $2 + s; s = 0 }' /proc/zoneinfo)
[ -n "$spans" ] || gw_skip "no ZONE_MOVABLE here: this test runs in make check's movablecore= boot"
echo "ZONE_MOVABLE: PFN spans $spans"

# pin_pfns MARKED: the PFNs (decimal, sorted, unique) of gwload's PIN events in trace -v's
# output with (MARKED 1) or without (0) the ZONE_MOVABLE mark, GW_PIN_IN_MOVABLE 0x80
pin_pfns() {
	awk -v p="$GW_PID/" '$1 == "event" && $2 == "PIN" && index($4, p) == 1 {
		f = ""; n = ""
		for (i = 5; i <= NF; i++) {
			if ($i ~ /^flags=/) f = substr($i, 7)
			if ($i ~ /^pfn=/) n = substr($i, 5)
		}
		print f, n
	}' $GW_TRACE.out | while read -r f v; do
		[ $(((f & 0x80) != 0)) = "$1" ] && printf '%d\n' "$v"
	done | sort -n | uniq | tr '\n' ' '
}

# decimal, sorted: the comma-separated hex LIST
pfn_list() {
	echo "$1" | tr , '\n' | while read -r v; do printf '%d\n' "$v"; done | sort -n | tr '\n' ' '
}

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
	gw_check "LONGTERM-IN-MOVABLE findings (the call failed)" "$(finding_count LONGTERM-IN-MOVABLE)" 0

	trace_case "$mode" "-v" movable-pin --pages $PAGES --no-hold
	gw_expect phase registered errno 0
	gw_check "twin: buffer pages in ZONE_MOVABLE before the pin" \
		"$(in_movable "$(gw_get phase registered before)")" $PAGES
	gw_check "twin: buffer pages in ZONE_MOVABLE once pinned (migrated out)" \
		"$(in_movable "$(gw_get phase registered after)")" 0
	gw_check "twin: PIN-FAILED findings" "$(finding_count PIN-FAILED)" 0
	gw_check "twin: MIGRATE-BLOCKED findings" "$(finding_count MIGRATE-BLOCKED)" 0
	gw_check "twin: pins marked in ZONE_MOVABLE: at the PFNs pagemap had before" \
		"$(pin_pfns 1)" "$(pfn_list "$(gw_get phase registered before)")"
	unmarked=" $(pin_pfns 0)"
	gw_check "twin: pins at the PFNs pagemap has after, unmarked" \
		"$(for v in $(pfn_list "$(gw_get phase registered after)"); do
			case $unmarked in *" $v "*) echo ;; esac; done | wc -l)" $PAGES
	gw_check "twin: the call's return seen, with its $PAGES pages" \
		"$(grep -c "^event PIN-CALL .* $GW_PID/.* nr_pages=$PAGES ret=$PAGES " $GW_TRACE.out)" 1
	gw_check "twin: LONGTERM-IN-MOVABLE findings" "$(finding_count LONGTERM-IN-MOVABLE)" 0
done
gw_done
