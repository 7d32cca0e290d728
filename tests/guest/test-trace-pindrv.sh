#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch against the test pin device /dev/gwpin (tests/pindrv), in both attach
# modes; each case checks its own ground truth (pagemap PFNs, what the device
# reads) first, then gupwatch's findings against it (see test-pindrv.sh):
#  1 pindrv-stale (R/O long-term pin of private file pages, then a write):
#    6.1: STALE-PIN, severity high (long-term), naming pinner, writer, address and
#         old (still pinned) -> new PFN of every page; no UNSHARE.
#    6.12: the pin unshares first: UNSHARE (file page -> pinned anon copy), linked to
#         the R/O long-term pin that followed; no STALE-PIN.  Also with GUP-fast.
#  2 pindrv-unshare (R/O long-term pin of fork-shared anon pages): UNSHARE on both.
#  3 pindrv-forkcopy (R/W long-term pin, then fork): FORK-COPY on both.
# trace_case checks gupwatch's pin/unpin refs against the vmstat deltas.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

gwpin_load
old=0
[ "$(gw_series)" = 6.1 ] && old=1

count_is() { # STALE UNSHARE FORK
	gw_check "STALE-PIN findings" "$(finding_count STALE-PIN)" "$1"
	gw_check "UNSHARE findings" "$(finding_count UNSHARE)" "$2"
	gw_check "FORK-COPY findings" "$(finding_count FORK-COPY)" "$3"
}

# "ADDRESS OLD->NEW" per page, from gwload's first page address and two comma
# lists of PFNs (address arithmetic in the shell: busybox awk has no strtonum).
want_pages() { # ADDR OLD-PFNS NEW-PFNS
	wp_i=0 wp_o=$2 wp_n=$3
	while [ -n "$wp_o" ]; do
		printf '0x%x %s->%s\n' $(($1 + wp_i * 4096)) "${wp_o%%,*}" "${wp_n%%,*}"
		case $wp_o in *,*) wp_o=${wp_o#*,} wp_n=${wp_n#*,} ;; *) wp_o= ;; esac
		wp_i=$((wp_i + 1))
	done
}
got_pages() { findings "$1" | awk '{ print $5, $6 }' | sort; }
# One GUP call's unshares of 4 pages print as one folded line: the range, and the
# first page's PFNs (-v would list each, but its load on a TCG guest delays a pin
# past the 100 ms an UNSHARE waits for it).
unshares_are() { # ADDR OLD-PFNS NEW-PFNS
	gw_check "UNSHAREs: one folded line, linked to the R/O long-term pin" \
		"$(findings UNSHARE | grep 'pinned it: R/O,longterm' | grep -c '\[4 pages, folded')" 1
	gw_check "UNSHARE range and first page's PFNs (pagemap: old -> the pinned copy)" \
		"$(got_pages UNSHARE)" \
		"$(printf '0x%x-0x%x %s\n' "$1" $(($1 + 3 * 4096)) "$(want_pages "$1" "$2" "$3" | head -n 1 | cut -d' ' -f2)")"
}

# The pinner's pins as gupwatch counted them, against gwload's vmstat deltas.  A
# GUP-fast pin that is undone inside the same call (must unshare: "pinned"
# released=1) counts in PINS and UNPINS and as FAST-UNDO, not as a kept pin.
pins_are() { # PID R/O|R/W
	pa=$(gw_get phase after acquired) pu=$(gw_get phase pinned released)
	gw_check "pins by $1 (PINS)" "$(proc_pins "$1" PINS)" "$pa"
	gw_check "unpins by $1 (UNPINS)" "$(proc_pins "$1" UNPINS)" "$(gw_get phase after released)"
	gw_check "GUP-fast undos by $1 (FAST-UNDO)" "$(proc_pins "$1" FAST-UNDO)" "$pu"
	gw_check "$2 pins kept by $1" "$(proc_pins "$1" "$2")" "$((pa - pu))"
	gw_check "LONGTERM pins kept by $1" "$(proc_pins "$1" LONGTERM)" "$((pa - pu))"
}

for mode in $(trace_modes); do
	for fast in "" --fast; do
		trace_case "$mode" "" pindrv-stale --pages 4 --hold-ms 50 --file /tmp/gw-trace-pindrv.dat $fast
		pid=$(gw_get phase mapped pid) addr=$(gw_get phase mapped addr)
		pins_are "$pid" R/O
		if [ $old = 1 ]; then
			# ground truth: copied away from under the pin, the device kept the old pages
			gw_expect phase written changed 4
			gw_expect phase written dev_old 4
			count_is 4 0 0
			gw_check "STALE-PIN writer" "$(findings STALE-PIN | awk '{ print $4 }' | sort -u)" "$pid/gwload"
			gw_check "STALE-PIN pinner" "$(findings STALE-PIN | awk '{ print $7 }' | sort -u)" "$pid/gwload"
			gw_check "STALE-PIN severity (long-term R/O pin)" \
				"$(findings STALE-PIN | awk '{ print $3 }' | sort -u)" high
			gw_check "STALE-PIN pins named R/O,longterm" "$(findings STALE-PIN | grep -c ' R/O,longterm ')" 4
			gw_check "STALE-PIN address old->new PFN (device's -> ours)" "$(got_pages STALE-PIN)" \
				"$(want_pages "$addr" "$(gw_get phase written dev_pfns)" "$(gw_get phase written pfns)" | sort)"
		else
			# ground truth: unshared at pin time, the write reused the pinned copies
			gw_expect phase pinned moved 4
			gw_expect phase written changed 0
			gw_expect phase written dev_new 4
			count_is 0 4 0
			gw_check "UNSHARE by the pinner" "$(findings UNSHARE | awk '{ print $4 }' | sort -u)" "$pid/gwload"
			unshares_are "$addr" "$(gw_get phase mapped pfns)" "$(gw_get phase pinned dev_pfns)"
		fi
	done

	trace_case "$mode" "" pindrv-unshare --pages 4 --hold-ms 50
	pid=$(gw_get phase forked pid) addr=$(gw_get phase forked addr)
	gw_expect phase pinned moved 4
	gw_expect phase pinned child_same 4
	count_is 0 4 0
	pins_are "$pid" R/O
	gw_check "UNSHARE by the pinner" "$(findings UNSHARE | awk '{ print $4 }' | sort -u)" "$pid/gwload"
	unshares_are "$addr" "$(gw_get phase forked pfns)" "$(gw_get phase pinned dev_pfns)"

	# -v: a FORK-COPY line per page (text folds one fork's pages into one line)
	trace_case "$mode" "-v" pindrv-forkcopy --pages 4 --hold-ms 50
	pid=$(gw_get phase pinned pid) addr=$(gw_get phase pinned addr)
	gw_expect phase forked child_same 0
	count_is 0 0 4
	pins_are "$pid" R/W
	gw_check "fork copies (events kernel)" "$(sum_row 'fork copies')" "4 4"
	gw_check "FORK-COPY parent" "$(findings FORK-COPY | awk '{ print $4 }' | sort -u)" "$pid/gwload"
	gw_check "FORK-COPY names the R/W long-term pins" \
		"$(findings FORK-COPY | grep -c "parent's pins: R/W,longterm")" 4
	want=$(want_pages "$addr" "$(gw_get phase forked child_pfns)" "$(gw_get phase forked child_pfns)" |
		awk '{ split($2, p, "->"); print $1, "->" p[2] }' | sort)
	gw_check "FORK-COPY address ->child's PFN" "$(got_pages FORK-COPY)" "$want"
done
gw_done
