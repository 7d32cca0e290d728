#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch alongside the pinning workloads, in both attach modes: the pin and
# unpin refs it reports equal the /proc/vmstat deltas, they are attributed to
# the pinning process with the right R/O, R/W and long-term split (O_DIRECT
# unpins run in interrupt context and still go to the pinner), and none of
# these workloads is reported as a finding.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

no_findings() {
	for k in STALE-PIN UNSHARE FORK-COPY PIN-FAILED HELD-AT-EXIT; do
		gw_check "$k findings" "$(finding_count $k)" 0
	done
}

split() { # PID R/O R/W LONGTERM
	gw_check "pid $1 R/O refs" "$(proc_pins "$1" R/O)" "$2"
	gw_check "pid $1 R/W refs" "$(proc_pins "$1" R/W)" "$3"
	gw_check "pid $1 long-term refs" "$(proc_pins "$1" LONGTERM)" "$4"
}

nullb_create gwtrace 500000000
for mode in $(trace_modes); do
	trace_case "$mode" "" iouring-reg --pages 4 --hold-ms 200
	split $GW_PID 0 4 4
	no_findings

	trace_case "$mode" "" pvm-read --pages 4 --hold-ms 200
	split $GW_PID 4 0 0
	no_findings

	trace_case "$mode" "" pvm-write --pages 4 --hold-ms 200
	split $GW_PID 0 4 0
	no_findings

	# O_DIRECT pins on 6.12; 6.1 takes FOLL_GET references instead, which
	# --get shows as their own class (and trace_case checks 0 pins = vmstat).
	# FOLL_GET is common (exec copying argv, futexes, /proc/pid/mem): the
	# process has at least the 4 of its I/O.
	trace_case "$mode" "--get" odirect-write --pages 4 --dev "$GW_NULLB"
	if [ "$(gw_series)" = 6.1 ]; then
		split $GW_PID 0 0 0
		gets=$(proc_pins $GW_PID GETS)
		gw_check "pid $GW_PID FOLL_GET refs >= 4" "$([ "${gets:-0}" -ge 4 ] && echo yes)" yes
	else
		split $GW_PID 4 0 0
		gw_check "pid $GW_PID unpin refs (dropped in IRQ context)" \
			"$(proc_pins $GW_PID UNPINS)" 4
	fi
	no_findings

	trace_case "$mode" "" odirect-read --pages 4 --dev "$GW_NULLB"
	if [ "$(gw_series)" = 6.1 ]; then
		gw_check "pid $GW_PID in the pin table" "$(proc_pins $GW_PID PINS)" ""
	else
		split $GW_PID 0 4 0
	fi
	no_findings

	# vmsplice takes FOLL_GET references: never pins; --get shows them apart
	# (at least its 4; see above).
	trace_case "$mode" "--get" vmsplice-fork --pages 4
	split $GW_PID 0 0 0
	gets=$(proc_pins $GW_PID GETS)
	gw_check "pid $GW_PID FOLL_GET refs >= 4" "$([ "${gets:-0}" -ge 4 ] && echo yes)" yes
	no_findings

	# A long-term pin call that fails: io_uring registers a range whose first
	# page is unmapped; the syscall's errno is the truth. Its twin, the same
	# range mapped, registers and is no finding.
	trace_case "$mode" "" iouring-fault --pages 4
	gw_expect phase registered errno 14
	gw_check "PIN-FAILED findings" "$(finding_count PIN-FAILED)" 1
	gw_check "PIN-FAILED names the caller" "$(findings PIN-FAILED | awk '{ print $4 }')" "$GW_PID/gwload"
	gw_check "PIN-FAILED says what failed" \
		"$(findings PIN-FAILED | grep -c 'R/W,longterm pin of 4 pages failed: EFAULT (-14)')" 1
	trace_case "$mode" "" iouring-fault --pages 4 --no-hold
	gw_expect phase registered errno 0
	gw_check "PIN-FAILED findings when the range is mapped" "$(finding_count PIN-FAILED)" 0

	# Pins still held when gupwatch stops: HELD-AT-EXIT names the holder.
	echo "+ gupwatch --attach=$mode stops while io_uring holds its pins"
	trace_start "$mode" ""
	gwload_bg iouring-reg --pages 4 --hold-ms 3000
	gwload_wait registered >/dev/null
	trace_stop
	wait $GW_PID
	gw_check "HELD-AT-EXIT findings" "$(finding_count HELD-AT-EXIT)" 1
	gw_check "HELD-AT-EXIT holder" "$(findings HELD-AT-EXIT | awk '{ print $4 }')" "$GW_PID/gwload"
	gw_check "HELD-AT-EXIT kind" "$(findings HELD-AT-EXIT | grep -c 'R/W,longterm 4 refs')" 1
	gw_check "outstanding refs at the end" "$(sum_row 'outstanding refs')" "4 -"
done
gw_done
