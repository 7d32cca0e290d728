#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch and the THP / hugetlb variants (see test-huge.sh for what the
# kernels do), in both attach modes: pin and unpin refs equal vmstat (6.12's
# io_uring releases 511 of 512 at registration), the io_uring pins are R/W
# long-term, fork of a pinned huge folio is reported as FORK-COPY (THP: 512
# small copies; hugetlb: one huge copy), and COW of unpinned huge pages is
# counted in the kernel without events or findings.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

hugetlb_reserve 4
for mode in $(trace_modes); do
	for m in thp hugetlb; do
		case $m in
		thp) fork_copies=512 ;;
		hugetlb) fork_copies=1 ;;
		esac
		trace_case "$mode" "" iouring-reg --mem $m --hold-ms 200
		gw_check "$m: pid $GW_PID R/O refs" "$(proc_pins $GW_PID R/O)" 0
		gw_check "$m: pid $GW_PID pins all R/W" \
			"$(($(proc_pins $GW_PID R/W) + $(proc_pins $GW_PID FAST-UNDO)))" 512
		gw_check "$m: pins long-term" "$(proc_pins $GW_PID LONGTERM)" "$(proc_pins $GW_PID R/W)"
		gw_check "$m: outstanding refs at the end" "$(sum_row 'outstanding refs')" "0 -"

		trace_case "$mode" "" pin-fork --mem $m --hold-ms 100
		gw_check "$m: FORK-COPY findings" "$(finding_count FORK-COPY)" $fork_copies
		gw_check "$m: fork copies (events kernel)" "$(sum_row 'fork copies')" "$fork_copies $fork_copies"
		gw_check "$m: STALE-PIN findings" "$(finding_count STALE-PIN)" 0

		trace_case "$mode" "" cow-fork --mem $m
		gw_check "$m: findings" "$(finding_count STALE-PIN)$(finding_count UNSHARE)$(finding_count FORK-COPY)" 000
		gw_check "$m: copies of pinned pages (events kernel)" \
			"$(sum_row 'copies: pinned COW + unshare')" "0 0"
		set -- $(sum_row "write-protect faults")
		[ "$2" -ge "$fork_copies" ] && echo "ok   $m: kernel counted $2 write faults" ||
			gw_check "$m: write-protect faults >= $fork_copies" "$2" ">= $fork_copies"
	done
done
gw_done
