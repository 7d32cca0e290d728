#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A long-term pin of ZONE_MOVABLE memory, in the guest make check boots with
# movablecore= (tests/check.sh; elsewhere it skips). Anon pages come from
# ZONE_MOVABLE first; io_uring's long-term pin must migrate them out before it
# pins. With the pages also spliced into a pipe (extra references) the
# migration fails: the syscall's errno (ENOMEM) is the truth, and gupwatch
# must report PIN-FAILED with it, naming gwload. The twin without the pipe:
# the registration succeeds, pagemap shows every page moved out of
# ZONE_MOVABLE, and nothing is reported.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

# the Movable zone's PFN span: "START END"
set -- $(awk '/^Node/ { z = $4 } z == "Movable" && $1 == "spanned" { s = $2 }
	z == "Movable" && $1 == "start_pfn:" && s { print $2, $2 + s; exit }' /proc/zoneinfo)
[ $# -eq 2 ] || gw_skip "no ZONE_MOVABLE here: this test runs in make check's movablecore= boot"
lo=$1 hi=$2
echo "ZONE_MOVABLE: PFN $lo-$hi"

# in_movable LIST: how many PFNs of the comma-separated LIST lie in ZONE_MOVABLE
in_movable() {
	echo "$1" | tr , '\n' | while read -r p; do
		v=$(printf '%d' "$p")
		[ "$v" -ge "$lo" ] && [ "$v" -lt "$hi" ] && echo
	done | wc -l
}

PAGES=16
for mode in $(trace_modes); do
	trace_case "$mode" "" movable-pin --pages $PAGES
	gw_check "buffer pages in ZONE_MOVABLE before the pin" \
		"$(in_movable "$(gw_get phase registered before)")" $PAGES
	gw_expect phase registered errno 12
	gw_check "PIN-FAILED findings" "$(finding_count PIN-FAILED)" 1
	gw_check "PIN-FAILED: gwload's long-term pin, ENOMEM" "$(findings PIN-FAILED |
		grep -c "$GW_PID/gwload .*R/W,longterm pin of $PAGES pages failed: ENOMEM (-12)")" 1

	trace_case "$mode" "" movable-pin --pages $PAGES --no-hold
	gw_expect phase registered errno 0
	gw_check "twin: buffer pages in ZONE_MOVABLE before the pin" \
		"$(in_movable "$(gw_get phase registered before)")" $PAGES
	gw_check "twin: buffer pages in ZONE_MOVABLE once pinned (migrated out)" \
		"$(in_movable "$(gw_get phase registered after)")" 0
	gw_check "twin: PIN-FAILED findings" "$(finding_count PIN-FAILED)" 0
done
gw_done
