#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# STALE-PIN against the kernel's own truth, in both attach modes. Each
# scenario (tests/workloads/wl_truth.c, wl_pvm.c) says from pagemap PFNs,
# vmstat and what the pinner received whether a pinner reads data the
# writer no longer sees; gupwatch must report exactly those pages, and
# trace_case checks its pin and unpin refs against vmstat. One line per
# scenario, kernel and mode: "TRUTH scenario kernel mode KIND want=N[,sev] got=..."
# (tests/check.sh prints them as the truth table).
#   must flag:     file-stale (pvm R/O pin of a private file page, then a write),
#                  thp-same (pin subpage 1 of a PMD-mapped tmpfs THP, write it: do_cow_fault),
#                  pindrv-stale (R/O long-term pin of private file pages, then a write:
#                  stale on 6.1, high; 6.12 unshares at pin time: nothing stale),
#                  pindrv-zero (R/O long-term "pin" of the zero page: 6.1 takes no pin and
#                  the device keeps reading zeros, ZERO-PIN high at pin time; 6.12 unshares)
#   must not flag: cross-mm (pin via S's MAP_SHARED page, T COWs its private mapping),
#                  thp-neighbour (pin subpage 0, write subpage 1),
#                  shared-cow (one page shared by 1100 children, then written),
#                  unshare-held (an unshare copy while a short-term R/O pin is held),
#                  churn (gupwatch started and stopped 20 times under fork and pin
#                  storms, then a plain run: no finding, no GUP-fast undo)
. /gw/tests/lib.sh
. /gw/tests/trace.sh

n=4
huge=/tmp/gw-huge

# truth SCENARIO WANT-COUNT [WANT-SEVERITY [KIND]]: gupwatch's findings of KIND
# (default STALE-PIN) against the count of stale pages the ground truth gives
truth() {
	kind=${4:-STALE-PIN}
	got=$(finding_count "$kind")
	sev=$(findings "$kind" | awk '{ print $3 }' | sort -u | tr '\n' ' ')
	sev=${sev% }
	[ "$2" = 0 ] && set -- "$1" 0 "" "$kind" # nothing stale: no severity to name
	echo "TRUTH $1 $(gw_series) $mode $kind want=$2${3:+,$3} got=${got:-none}${sev:+,$sev}"
	gw_check "$1: $kind findings" "$got" "$2"
	[ -z "$3" ] || gw_check "$1: $kind severity" "$sev" "$3"
}

# flagged_as WRITER-PID PINNER-PID [OLD-PFN NEW-PFN]: the findings name both sides (and pages)
flagged_as() {
	gw_check "writer" "$(findings STALE-PIN | awk '{ print $4 }' | sort -u)" "$1/gwload"
	gw_check "pinner" "$(findings STALE-PIN | awk '{ print $7 }' | sort -u)" "$2/gwload"
	[ -z "$3" ] || gw_check "old->new PFN" "$(findings STALE-PIN | awk '{ print $6 }')" "$3->$4"
}

gwpin_load
mkdir -p $huge
mount -t tmpfs -o huge=always,size=16m none $huge || { echo "FAIL: mount tmpfs huge=always"; exit 1; }

for mode in $(trace_modes); do
	echo "=== attach mode $mode"
	trace_case "$mode" "" file-stale --file /tmp/gw-truth-stale.dat --pages $n --hold-ms 100
	truth file-stale "$(gw_get phase after stale)" medium
	flagged_as "$(gw_get phase mapped target_pid)" "$(gw_get phase mapped pinner_pid)"

	# the device's view: pages it reads as the old data after our write are stale
	trace_case "$mode" "" pindrv-stale --pages $n --hold-ms 50 --file /tmp/gw-truth-pindrv.dat
	truth pindrv-stale "$(gw_get phase written dev_old)" high
	[ "$(gw_get phase written dev_old)" = 0 ] ||
		flagged_as "$(gw_get phase mapped pid)" "$(gw_get phase mapped pid)"

	trace_case "$mode" "" pindrv-zero --pages $n --hold-ms 50
	gw_expect phase mapped zero $n
	truth pindrv-zero "$(gw_get phase written dev_old)" high ZERO-PIN
	if [ "$(gw_get phase written dev_old)" != 0 ]; then
		gw_check "pindrv-zero: no pin taken (vmstat)" "$(gw_get phase pinned acquired)" 0
		gw_check "pindrv-zero: ZERO-PIN names the pinner" \
			"$(findings ZERO-PIN | awk '{ print $4 }' | sort -u)" "$(gw_get phase mapped pid)/gwload"
		gw_check "pindrv-zero: ZERO-PIN PFN is the device's page" \
			"$(findings ZERO-PIN | awk '{ print $6 }' | sort -u)" \
			"$(gw_get phase pinned dev_pfns | tr ',' '\n' | sort -u)"
	fi

	trace_case "$mode" "" cross-mm --file /tmp/gw-truth-cross.dat --pages $n --hold-ms 100
	gw_expect phase written private_changed $n
	truth cross-mm "$(gw_get phase after stale)"
	# T never pinned (no MMF_HAS_PINNED): its COWs end in do_wp_page's filter
	gw_check "cross-mm: the writer's COWs are no copy events" \
		"$(sum_row 'copies: pinned COW + unshare' | awk '{ print $1 }')" 0

	for kj in 0:1 1:1; do
		k=${kj%:*} j=${kj#*:}
		name=thp-neighbour
		[ "$k" = "$j" ] && name=thp-same
		trace_case "$mode" "" thp-file --file $huge/thp.dat --pin-page "$k" --write-page "$j" --hold-ms 100
		gw_expect phase mapped was_pmd_mapped 1
		gw_expect phase written write_changed 1
		if [ "$k" = "$j" ]; then
			truth $name "$(gw_get phase after stale)" medium
			flagged_as "$(gw_get phase mapped writer_pid)" "$(gw_get phase mapped pinner_pid)" \
				"$(gw_get phase hold pin_page_pfn)" "$(gw_get phase written write_page_pfn)"
			gw_check "$name: the copy was do_cow_fault's (PMD zapped)" \
				"$(gw_get phase written shmem_pmd_mapped_kb)" 0
		else
			truth $name "$(gw_get phase after stale)"
			gw_check "$name: the copy of the pinned folio's other page (events)" \
				"$(sum_row 'of pages pinned elsewhere' | awk '{ print $1 }')" \
				"$(gw_get phase written write_changed)"
		fi
		rm -f $huge/thp.dat
	done

	trace_case "$mode" "" shared-cow --pages $n --children 1100
	gw_expect phase written parent_changed $n
	truth shared-cow "$(gw_get phase written acquired)"
	gw_check "shared-cow: FORK-COPY findings" "$(finding_count FORK-COPY)" 0

	trace_case "$mode" "" unshare-held --pages $n --hold-ms 100
	truth unshare-held "$(gw_get phase after stale)"
	gw_check "unshare-held: UNSHARE findings = unshared pages" "$(finding_count UNSHARE)" \
		"$(($(gw_get phase hold2 child1_changed) + $(gw_get phase hold2 child2_changed)))"

	# Windows and GUP calls cut by the attach and detach of 20 sessions must
	# not leak into a later one.
	echo "+ 20 gupwatch sessions during fork+write and process_vm_readv storms"
	(while :; do gwload cow-fork --pages 64 >/dev/null 2>&1; done) &
	storm1=$!
	(while :; do gwload pvm-read --pages 16 --no-hold --repeat 200 >/dev/null 2>&1; done) &
	storm2=$!
	i=0
	while [ $i -lt 20 ]; do
		gw_start /tmp/gw-churn --attach="$mode"
		kill -INT $GW_TRACER
		wait $GW_TRACER || { echo "FAIL: session $i exited $?"; GW_FAILS=$((GW_FAILS + 1)); }
		i=$((i + 1))
	done
	kill $storm1 $storm2
	wait $storm1 $storm2 2>/dev/null
	trace_start "$mode" ""
	dd if=/dev/zero of=/dev/null bs=4M count=64 2>/dev/null # anon faults, no fork, no pin
	trace_stop
	truth churn 0
	for k in UNSHARE FORK-COPY; do
		gw_check "churn: $k findings" "$(finding_count $k)" 0
	done
	gw_check "churn: GUP-fast undo refs" "$(sum_row 'of which GUP-fast undo' | awk '{ print $1 }')" 0
done
umount $huge
gw_done
