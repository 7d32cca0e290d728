#!/bin/sh
# gupwatch alongside the pinning workloads, in both attach modes: the pin and
# unpin refs it reports equal the /proc/vmstat deltas, they are attributed to
# the pinning process with the right R/O, R/W and long-term split (O_DIRECT
# unpins run in interrupt context and still go to the pinner), and none of
# these workloads is reported as a finding.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

no_findings() {
	for k in STALE-PIN UNSHARE FORK-COPY HELD-AT-EXIT; do
		t_expect "$k findings" "$(finding_count $k)" 0
	done
}

split() { # PID R/O R/W LONGTERM
	t_expect "pid $1 R/O refs" "$(proc_pins "$1" R/O)" "$2"
	t_expect "pid $1 R/W refs" "$(proc_pins "$1" R/W)" "$3"
	t_expect "pid $1 long-term refs" "$(proc_pins "$1" LONGTERM)" "$4"
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
		t_expect "pid $GW_PID FOLL_GET refs >= 4" "$([ "${gets:-0}" -ge 4 ] && echo yes)" yes
	else
		split $GW_PID 4 0 0
		t_expect "pid $GW_PID unpin refs (dropped in IRQ context)" \
			"$(proc_pins $GW_PID UNPINS)" 4
	fi
	no_findings

	trace_case "$mode" "" odirect-read --pages 4 --dev "$GW_NULLB"
	if [ "$(gw_series)" = 6.1 ]; then
		t_expect "pid $GW_PID in the pin table" "$(proc_pins $GW_PID PINS)" ""
	else
		split $GW_PID 0 4 0
	fi
	no_findings

	# vmsplice takes FOLL_GET references: never pins; --get shows them apart
	# (at least its 4; see above).
	trace_case "$mode" "--get" vmsplice-fork --pages 4
	split $GW_PID 0 0 0
	gets=$(proc_pins $GW_PID GETS)
	t_expect "pid $GW_PID FOLL_GET refs >= 4" "$([ "${gets:-0}" -ge 4 ] && echo yes)" yes
	no_findings
done
gw_done
