#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch top with its output in a file (not a terminal: one block per
# refresh) while a workload holds pins for 3 s: the refreshes during the hold
# show the holder with its pages, bytes and kind split, AGE growing from
# one refresh to the next; the tracked total equals the vmstat delta; the row
# is gone once the workload exited; top stops by itself after -n refreshes
# (exit 0, exactly N blocks). The memlock ledger: VMPIN equals the VmPin the
# kernel shows in gwload's /proc/PID/status while it holds (io_uring charges
# its long-term pins: LEDGER ok; process_vm_readv's short-term pins are
# charged nowhere: 0B, uncharged), and CGROUP is gwload's (the root here).
. /gw/tests/lib.sh
. /gw/tests/trace.sh

TOP=/tmp/gw-top
N=8

# top_rows PID: per block showing PID:
#   "BLOCK HELD BYTES HELD-R/O HELD-R/W HELD-LT AGE_MS PINS/s VMPIN LEDGER CGROUP"
top_rows() {
	awk -v p="$1" '
		/^gupwatch top/ { b++ }
		$1 == "PID" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		b && col["PID"] && $1 == p {
			age = $(col["AGE"])
			if (age ~ /ns$/) age = substr(age, 1, length(age) - 2) / 1e6
			else if (age ~ /us$/) age = substr(age, 1, length(age) - 2) / 1e3
			else if (age ~ /ms$/) age = substr(age, 1, length(age) - 2) + 0
			else if (age ~ /^[0-9.]+s$/) age = substr(age, 1, length(age) - 1) * 1000
			else age = -1
			print b, $(col["HELD"]), $(col["BYTES"]), $(col["HELD-R/O"]), $(col["HELD-R/W"]),
				$(col["HELD-LT"]), age, $(col["PINS/s"]), $(col["VMPIN"]), $(col["LEDGER"]),
				$(col["CGROUP"])
		}' $TOP.out
}

# held BLOCK: "TRACKED SYSTEM-WIDE" of the header of refresh BLOCK
held() {
	awk -v n="$1" '/^gupwatch top/ && ++b == n {
		sub(/.*held: /, ""); print $1, $4; exit }' $TOP.out
}

# top_case NAME HELD BYTES HELD-R/O HELD-R/W HELD-LT LEDGER GWLOAD-ARGS...
# (VMPIN, the kernel's charge, is checked against gwload's /proc/PID/status while it holds)
top_case() {
	name=$1 pages=$2 bytes=$3 ro=$4 rw=$5 lt=$6 ledger=$7
	shift 7
	echo "+ gupwatch top -d 1 -n $N > file  //  gwload $*"
	set -- $(vm_pins) "$@"
	base=$(($1 - $2))
	shift 2
	top_start "-d 1 -n $N"
	gwload_bg "$@"
	gwload_wait "$(case $1 in iouring-*) echo registered ;; *) echo hold ;; esac)" >/dev/null
	vmpin=$(awk '$1 == "VmPin:" { print $2 }' /proc/$GW_PID/status)
	wait $GW_PID || { echo "FAIL: gwload $1 exited $?"; cat "$GW_OUT"; gw_cleanup; exit 1; }
	sed 's/^/  | /' "$GW_OUT"
	gw_check "$name: top still running when gwload exited" \
		"$(kill -0 $top_pid 2>/dev/null && echo yes)" yes
	wait $top_pid
	gw_check "$name: top exit status" $? 0
	sed 's/^/  > /' $TOP.out
	grep -v '^gupwatch: tracing' $TOP.err | sed 's/^/  2> /'

	gw_check "$name: refresh blocks" "$(grep -c '^gupwatch top' $TOP.out)" $N
	gw_check "$name: blank lines between blocks" "$(grep -c '^$' $TOP.out)" $((2 * N - 1))
	top_rows $GW_PID >$TOP.rows
	# the hold is 3 s, refreshes come every second: 2 or more show it
	gw_check "$name: refreshes showing pid $GW_PID >= 2" \
		"$([ "$(wc -l <$TOP.rows)" -ge 2 ] && echo yes)" yes
	gw_check "$name: rows with HELD BYTES HELD-R/O HELD-R/W HELD-LT other than $pages $bytes $ro $rw $lt" \
		"$(awk -v w="$pages $bytes $ro $rw $lt" '$2 " " $3 " " $4 " " $5 " " $6 != w' $TOP.rows)" ""
	gw_check "$name: VMPIN while held = the kernel's VmPin ($vmpin kB)" \
		"$(awk -v w="$( [ "$vmpin" = 0 ] && echo 0B || echo "${vmpin}K")" '$9 != w' $TOP.rows)" ""
	gw_check "$name: LEDGER, CGROUP" "$(awk '{ print $10, $11 }' $TOP.rows | sort -u)" "$ledger /"
	gw_check "$name: AGE grows from refresh to refresh" \
		"$(awk '$7 < 0 || (NR > 1 && $7 <= last) { bad++ } { last = $7 } END { print bad + 0 }' $TOP.rows)" 0
	gw_check "$name: PINS/s in the first refresh showing it > 0" \
		"$(awk 'NR == 1 { print ($8 > 0) ? "yes" : "no" }' $TOP.rows)" yes
	want=$(gw_get phase "$(awk '$1 == "phase=hold" || $1 == "phase=registered" { print substr($1, 7); exit }' "$GW_OUT")" outstanding)
	gw_check "$name: vmstat delta while held (gwload)" "$want" "$pages"
	for b in $(awk '{ print $1 }' $TOP.rows); do
		set -- $(held "$b")
		gw_check "$name: refresh $b tracked refs = vmstat delta" "$1" "$want"
		gw_check "$name: refresh $b system-wide refs - before" "$(($2 - base))" "$want"
	done
	last=$(awk 'END { print $1 }' $TOP.rows)
	gw_check "$name: last refresh showing pid $GW_PID is before the last one" \
		"$([ "${last:-$N}" -lt $N ] && echo yes)" yes
	gw_check "$name: pid $GW_PID in the last refresh" "$(awk -v n=$N '$1 == n' $TOP.rows)" ""
	set -- $(held $N)
	gw_check "$name: last refresh tracked refs" "$1" 0
}

# top_start ARGS: gupwatch top ARGS >$TOP.out in the background ($top_pid), attached
top_start() {
	# shellcheck disable=SC2086 # several options
	gw_start $TOP top $1
	top_pid=$GW_TRACER
}

# io_uring registered buffer: long-term R/W pins
top_case iouring 4 16K 0 4 4 ok iouring-reg --pages 4 --hold-ms 3000
# process_vm_readv held by a userfaultfd fault: short-term R/O pins
top_case pvm-read 4 16K 4 0 0 uncharged pvm-read --pages 4 --hold-ms 3000

# A pin storm (process_vm_readv of 256 pages, over and over) while top runs:
# the refreshes still come every second, and the storm's process is shown in
# each (it pinned during every interval, whatever it holds at the moment).
echo "+ gupwatch top -d 1 -n 3 > file  //  gwload pvm-read --pages 256 --no-hold --repeat 1000000"
gw_wait_detached || GW_FAILS=$((GW_FAILS + 1))
gwload_bg pvm-read --pages 256 --no-hold --repeat 1000000
# niced, so that the attach gets the CPU (one host thread runs all vCPUs of a TCG guest)
renice -n 19 -p $GW_PID >/dev/null
sleep 1
top_start "-d 1 -n 3"
wait $top_pid
gw_check "storm: top exit status" $? 0
kill $GW_PID 2>/dev/null || { echo "FAIL: the storm ended early:"; cat "$GW_OUT"; GW_FAILS=$((GW_FAILS + 1)); }
wait $GW_PID 2>/dev/null
sed 's/^/  > /' $TOP.out
gw_check "storm: refresh blocks" "$(grep -c '^gupwatch top' $TOP.out)" 3
gw_check "storm: refreshes more than 1.5 s apart" \
	"$(awk '/^gupwatch top/ { sub(/.*interval /, ""); if ($1 + 0 > 1.5) n++ } END { print n + 0 }' $TOP.out)" 0
top_rows $GW_PID >$TOP.rows
gw_check "storm: refreshes showing pid $GW_PID with PINS/s > 0" "$(awk '$8 > 0' $TOP.rows | wc -l)" 3
gw_check "storm: its R/W and long-term refs held" "$(awk '$5 != 0 || $6 != 0' $TOP.rows)" ""
# One process_vm_readv holds at most its 256 pages at a time, and only for
# the syscall: none is left over from the attach (hooks attach one by one).
gw_check "storm: refreshes showing more than 256 refs held" \
	"$(awk '/^gupwatch top/ { sub(/.*held: /, ""); if ($1 + 0 > 256) n++ } END { print n + 0 }' $TOP.out)" 0
gw_check "storm: refreshes with AGE of 1 s or more" "$(awk '$7 >= 1000' $TOP.rows | wc -l)" 0
gw_done
