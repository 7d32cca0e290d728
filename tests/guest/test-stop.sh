#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Stopping gupwatch trace while a pin storm fills its ring buffer
# (process_vm_readv of 256 pages, over and over): SIGTERM ends it within
# a second with its summary (the hooks fall silent first, the buffer is read
# for at most 500 ms and what is left is said, the kernel's slow detach runs
# in a child after gupwatch exits); SIGHUP (a dropped ssh session) stops it
# the same way; a second signal exits at once. With -v every event is
# printed: the storm outruns it, so that its stop meets a full buffer.
# A start while an earlier session still detaches says that it may wait.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

uptime_cs() { awk '{ sub(/\./, "", $1); print $1 + 0 }' /proc/uptime; }

storm_start() {
	gwload_bg pvm-read --pages 256 --no-hold --repeat 100000000
	# niced, so that gupwatch gets the CPU (one host thread runs a TCG guest)
	renice -n 19 -p $GW_PID >/dev/null
}

storm_stop() {
	kill $GW_PID 2>/dev/null || { echo "FAIL: the storm ended early:"; cat "$GW_OUT"; GW_FAILS=$((GW_FAILS + 1)); }
	wait $GW_PID 2>/dev/null
}

for case in "TERM" "HUP" "TERM -v"; do
	set -- $case
	sig=$1 args=${2:-}
	what="SIG$sig${args:+ $args}"
	echo "+ gupwatch trace${args:+ $args} under a pin storm, then SIG$sig"
	# SIGTERM -v attaches under the storm, as on a busy machine, and its stop meets the
	# full buffer; the others attach first (under the storm that takes ~40 s in TCG:
	# RCU grace periods). Not behind the last case's detach: under the storm that
	# can take minutes, and the attach waits for it (doc/kernel.md).
	gw_wait_detached || GW_FAILS=$((GW_FAILS + 1))
	if [ -n "$args" ]; then
		storm_start
		gw_start $GW_TRACE $args
	else
		gw_start $GW_TRACE $args
		storm_start
	fi
	sleep 2
	t0=$(uptime_cs)
	kill -$sig $GW_TRACER
	wait $GW_TRACER
	rc=$? t1=$(uptime_cs)
	storm_stop
	grep -v '^gupwatch: tracing' $GW_TRACE.err | sed 's/^/  2> /'
	gw_check "$what: exit status" $rc 0
	gw_check "$what: summary printed" "$(grep -c '^gupwatch summary:' $GW_TRACE.out)" 1
	ms=$(((t1 - t0) * 10))
	[ $ms -le 1500 ] && echo "ok   $what: exited ${ms} ms after the signal (at most 1500 in this TCG guest)" ||
		gw_check "$what: ms from the signal to the exit" $ms "<= 1500"
	[ -n "$args" ] && gw_check "$what: says what it left unread" \
		"$(grep -c '^gupwatch: stopped reading the ring buffer 500 ms after the stop: about [0-9]* events ([0-9]* KiB) left unread$' $GW_TRACE.err)" 1
done

echo "+ gupwatch trace -v under a pin storm, then SIGINT twice"
gw_start $GW_TRACE -v
storm_start
sleep 2
kill -INT $GW_TRACER
sleep 0.1 # two signals sent together merge into one pending signal
kill -INT $GW_TRACER
wait $GW_TRACER
rc=$?
storm_stop
grep -v '^gupwatch: tracing' $GW_TRACE.err | sed 's/^/  2> /'
gw_check "second SIGINT: exit status" $rc 130
gw_check "second SIGINT: said so" "$(grep -c '^gupwatch: second signal: exiting now$' $GW_TRACE.err)" 1

# A start behind an earlier session's detach says why it may wait (the attach
# waits for that detach in the kernel). A script named gupwatch-detach stands in
# for the detaching child (its comm: the script's name); once all are gone, nothing.
gw_wait_detached || GW_FAILS=$((GW_FAILS + 1))
mkdir -p /tmp/gw-fake
printf '#!/bin/sh\nsleep 60\n' >/tmp/gw-fake/gupwatch-detach
chmod +x /tmp/gw-fake/gupwatch-detach
for n in 1 0; do
	echo "+ gupwatch trace with $n process named gupwatch-detach running"
	fake=
	[ $n = 1 ] && { /tmp/gw-fake/gupwatch-detach & fake=$!; }
	gw_start $GW_TRACE
	kill -INT $GW_TRACER
	wait $GW_TRACER
	[ -n "$fake" ] && kill $fake
	grep -v '^gupwatch: tracing' $GW_TRACE.err | sed 's/^/  2> /'
	gw_check "$n detaching: the start says so" "$(grep -c '^gupwatch: 1 earlier session is still detaching (gupwatch-detach); the kernel attaches only after that' $GW_TRACE.err)" $n
	gw_wait_detached || GW_FAILS=$((GW_FAILS + 1))
done
gw_done
