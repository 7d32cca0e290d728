# SPDX-License-Identifier: GPL-2.0
# Helpers for the tests that run gupwatch alongside a workload (busybox sh).
# Source after lib.sh:  . /gw/tests/lib.sh; . /gw/tests/trace.sh
#
#   trace_modes               attach modes to test on this kernel (both ways)
#   trace_case MODE "GUPWATCH ARGS" GWLOAD-ARGS...
#                             vmstat baseline, start gupwatch, run gwload (its
#                             records in $GW_OUT, pid in $GW_PID), stop gupwatch
#                             with SIGINT; checks the exit status and that the
#                             pin/unpin refs gupwatch saw equal the vmstat deltas
#   trace_start MODE ARGS / trace_stop     the two halves, for custom sequences
#   sum_row LABEL             "EVENTS KERNEL" of a row of the summary's totals
#   finding_count KIND        findings of KIND in the summary
#   proc_pins PID COLUMN      PINS|UNPINS|FAST-UNDO|R/O|R/W|LONGTERM|GETS of PID
#   findings KIND             the live finding lines of KIND
#   gwload_wait PHASE         wait (up to 10 s) for the background gwload's phase=PHASE in
#                             $GW_OUT; prints how many such lines there are (1: it came)
#   gwload_pfns WHICH         its --verbose pfn= values of which=WHICH, sorted
#   blockers_folios OUTFILE   gupwatch blockers' "Pinned folios": PFN, pages, pins
#   blockers_row OUTFILE PID  PINNED FOLIOS KPINS of PID's row in gupwatch blockers' table
#   memory_block PFN          the memory block (/sys/devices/system/memory) holding PFN

GW_TRACE=/tmp/gw-trace
GW_PID=

trace_modes() {
	# 6.1's hugetlb_wp has 7 arguments: no fentry (ENOTSUPP), so "fentry"
	# there means auto (fentry + kprobe for that one); see test-check.sh.
	case $(gw_series) in
	6.1) echo "auto kprobe" ;;
	*) echo "fentry kprobe" ;;
	esac
}

vm_pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 }
		END { print a, r }' /proc/vmstat
}

# gw_start BASE ARGS...: gupwatch ARGS in the background, stdout to BASE.out,
# stderr to BASE.err, its pid in GW_TRACER; returns once it says "tracing".
gw_start() {
	gw_base=$1
	shift
	# The old file must go first: the background shell truncates it only when
	# it gets to run, and the previous session's "tracing" would be seen.
	rm -f $gw_base.out $gw_base.err
	gupwatch "$@" >$gw_base.out 2>$gw_base.err &
	GW_TRACER=$!
	local i=0
	until grep -qs '^gupwatch: tracing' $gw_base.err; do
		if ! kill -0 $GW_TRACER 2>/dev/null || [ $i -ge 900 ]; then
			echo "FAIL: gupwatch $* did not start:"
			cat $gw_base.err
			gw_cleanup
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

trace_start() {
	# shellcheck disable=SC2086 # $2: several options
	gw_start $GW_TRACE --attach="$1" $2
}

trace_stop() {
	kill -INT $GW_TRACER
	wait $GW_TRACER
	gw_check "gupwatch exit status" $? 0
	sed 's/^/  > /' $GW_TRACE.out
	grep -v '^gupwatch: tracing' $GW_TRACE.err | sed 's/^/  2> /'
}

trace_case() {
	mode=$1 gwargs=$2
	shift 2
	echo "+ gupwatch --attach=$mode $gwargs  //  gwload $*"
	set -- $(vm_pins) "$@"
	before_acq=$1 before_rel=$2
	shift 2
	trace_start "$mode" "$gwargs"
	gwload_bg "$@"
	wait $GW_PID || { echo "FAIL: gwload $1 exited $?"; cat "$GW_OUT"; gw_cleanup; exit 1; }
	trace_stop
	set -- $(vm_pins)
	gw_check "pin refs (events kernel) vs vmstat" "$(sum_row 'pin refs')" \
		"$(($1 - before_acq)) $(($1 - before_acq))"
	gw_check "unpin refs (events kernel) vs vmstat" "$(sum_row 'unpin refs')" \
		"$(($2 - before_rel)) $(($2 - before_rel))"
}

sum_row() {
	awk -v l="$1" '{ label = $0; sub(/^ +/, "", label); sub(/ +[^ ]+ +[^ ]+$/, "", label) }
		label == l { print $(NF - 1), $NF; exit }' $GW_TRACE.out
}

finding_count() {
	awk -v k="$1" '/^Findings$/ { s = 1; next } s && $1 == k { print $2; exit }' $GW_TRACE.out
}

findings() {
	awk -v k="$1" '$2 == k && $1 ~ /^[0-9.]+$/' $GW_TRACE.out
}

proc_pins() {
	awk -v p="$1" -v c="$2" '
		/^Pins by process/ { s = 1; next }
		s && $1 == "PID" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		s && /^[^ ]/ { s = 0 }
		s && $1 == p { print $(col[c]); exit }' $GW_TRACE.out
}

blockers_folios() {
	awk '/^Pinned folios/ { t = 1; next } t && $1 ~ /^0x/ { print $1, $2, $3 }' "$1"
}

blockers_row() {
	awk -v p="$2" '$1 == "PID" { for (i = 1; i <= NF; i++) col[$i] = i; t = 1; next }
		t && /^$/ { t = 0 }
		t && $1 == p { print $(col["PINNED"]), $(col["FOLIOS"]), $(col["KPINS"]) }' "$1"
}

memory_block() {
	echo $(($(printf '%d' "$1") * 4096 / $(printf '%d' 0x$(cat /sys/devices/system/memory/block_size_bytes))))
}

gwload_wait() {
	local i=0
	while ! grep -q "^phase=$1 " "$GW_OUT" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -c "^phase=$1 " "$GW_OUT"
}

gwload_pfns() {
	awk -v w="which=$1" '$1 ~ /^pfn=/ && $2 == w { sub(/value=/, "", $3); print $3 }' "$GW_OUT" | sort
}
