#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch record -- COMMAND and gupwatch report in the guest: the stale-pin
# workload recorded for its lifetime, then reported as text and as JSON with
# the same STALE-PIN findings gupwatch trace shows (test-trace-cow.sh); the
# command's exit status is record's; -d stops a command that outlives it;
# a record that cannot run its command exits 127; and gupwatch trace --json
# prints the header, the findings live and the summary objects.
. /gw/tests/lib.sh
. /gw/tests/trace.sh
cg=/sys/fs/cgroup # cgroup v2, mounted by the guest's init

rec=/tmp/gw-rec.gw
echo "+ gupwatch record -o $rec -- gwload file-stale --pages 4"
gupwatch record -o $rec -- gwload file-stale --pages 4 --file /tmp/gw-rec-stale.dat \
	>"$GW_OUT" 2>/tmp/gw-rec.err
gw_check "record exit status (gwload's)" $? 0
sed 's/^/  | /' "$GW_OUT"
sed 's/^/  2> /' /tmp/gw-rec.err
gw_check "record's last line" "$(tail -n 1 /tmp/gw-rec.err | sed 's/ [0-9]* events/ N events/')" \
	"gupwatch: recorded N events into $rec; 'gupwatch report -i $rec' shows them"
pinner=$(gw_get phase mapped pinner_pid) writer=$(gw_get phase mapped target_pid)
addr=$(gw_get phase mapped addr)
ls $rec.* 2>/dev/null && gw_check "temporary files left" "$(ls $rec.*)" ""

gupwatch report -i $rec >/tmp/gw-rep.txt 2>&1
gw_check "report exit status" $? 0
sed 's/^/  > /' /tmp/gw-rep.txt
findings() { awk -v k="$1" '$2 == k && $1 ~ /^[0-9]+\.[0-9]+$/' /tmp/gw-rep.txt; }
gw_check "STALE-PIN findings" "$(findings STALE-PIN | wc -l)" 4
gw_check "STALE-PIN writer" "$(findings STALE-PIN | awk '{ print $4 }' | sort -u)" "$writer/gwload"
gw_check "STALE-PIN pinner" "$(findings STALE-PIN | awk '{ print $7 }' | sort -u)" "$pinner/gwload"
want=$(for i in 0 1 2 3; do printf '0x%x\n' $((addr + i * 4096)); done)
gw_check "STALE-PIN addresses" "$(findings STALE-PIN | awk '{ print $5 }' | sort)" "$want"
gw_check "report header: kernel" "$(awk 'NR == 1 { print $7 }' /tmp/gw-rep.txt)" "$(uname -r),"
gw_check "report header: command" "$(grep -c '^# command (pid [0-9]*): gwload file-stale' /tmp/gw-rep.txt)" 1
refs_row() { awk -v l="$1" '{ r = $0; sub(/^ +/, "", r) } index(r, l " ") == 1 { print $(NF - 1), $NF; exit }' /tmp/gw-rep.txt; }
# the recording's pins against the workload's /proc/vmstat deltas (nothing else pins here)
acq=$(gw_get phase after acquired) rel=$(gw_get phase after released)
gw_check "pin refs (events kernel) = vmstat acquired" "$(refs_row 'pin refs')" "$acq $acq"
gw_check "unpin refs (events kernel) = vmstat released" "$(refs_row 'unpin refs')" "$rel $rel"

gupwatch report -i $rec --json >/tmp/gw-rep.json 2>&1
gw_check "report --json exit status" $? 0
gw_check "JSON: first line is the header" \
	"$(head -n 1 /tmp/gw-rep.json | grep -c "^{\"type\":\"header\",\"schema_version\":1,.*\"kernel_release\":\"$(uname -r)\"")" 1
gw_check "JSON: STALE-PIN findings" "$(grep -c '^{"type":"finding","kind":"STALE-PIN"' /tmp/gw-rep.json)" 4
gw_check "JSON: STALE-PIN pinner" \
	"$(grep '"kind":"STALE-PIN"' /tmp/gw-rep.json | grep -c "\"pinners\":\[{\"pid\":$pinner,")" 4
mycg=$(sed -n 's/^0:://p' /proc/$$/cgroup)
gw_check "JSON: STALE-PIN writer's and pinner's cgroup = /proc/PID/cgroup's ($mycg)" \
	"$(grep '"kind":"STALE-PIN"' /tmp/gw-rep.json | grep -c "\"comm\":\"gwload\",\"cgroup\":\"$mycg\",\"address\".*\"comm\":\"gwload\",\"cgroup\":\"$mycg\",\"access\"")" 4
gw_check "JSON: last lines" "$(tail -n 2 /tmp/gw-rep.json | cut -d, -f1 | tr '\n' ' ')" \
	'{"type":"totals" {"type":"losses" '
gw_check "JSON: every line an object" "$(grep -vc '^{.*}$' /tmp/gw-rep.json)" 0
# Stacks under each finding (record captures them by default): both sides
# of every STALE-PIN named down to gwload's own function, wl_file_stale —
# the pinner's process_vm_readv and the writer's memset return into it (the
# workloads keep frame pointers; libc's leaf wrappers do not, so the frame
# in between is skipped, as with any frame-pointer unwinder).
stack_lines() { # SIDE: "SIDE k|u FRAME" of every STALE-PIN block
	awk '$2 == "STALE-PIN" && $1 ~ /^[0-9]+\.[0-9]+$/ { f = 1; next }
		f && /^    [a-z]/ { side = $1; next }
		f && /^      [ku] / { print side, $1, $2; next }
		{ f = 0 }' /tmp/gw-rep.txt
}
gw_check "STALE-PIN pinner user stacks through wl_file_stale" \
	"$(stack_lines | grep -c '^pinner u wl_file_stale+0x[0-9a-f]*$')" 4
gw_check "STALE-PIN writer user stacks through wl_file_stale" \
	"$(stack_lines | grep -c '^writer u wl_file_stale+0x[0-9a-f]*$')" 4
gw_check "STALE-PIN pinner kernel stacks through process_vm_rw*" \
	"$(stack_lines | grep '^pinner k process_vm_rw' | wc -l | awk '{ print ($1 >= 4) }')" 1
gw_check "STALE-PIN writer kernel stacks through handle_mm_fault" \
	"$(stack_lines | grep -c '^writer k handle_mm_fault+')" 4
# the call-site table: the 4 R/O pins came from process_vm_readv's GUP call
site=$(awk '/^Pins by kernel call site/ { s = 1; next } s && $1 ~ /^process_vm_rw/ { print $3, $4, $5, $6; exit }' /tmp/gw-rep.txt)
gw_check "call site process_vm_rw*: PROCS PINS R/O R/W" "$site" "1 4 4 0"

# One consumer for live and recorded events: gupwatch trace -v and gupwatch
# record watch the same run side by side; report of the recording must print
# the findings trace printed live, with the same stacks under them (only the
# times may differ: each session counts from its own start and reads the
# clock in its own BPF programs).
#
# Both also keep what /proc said of a process: gwload then registers an
# io_uring buffer in cgroup gw-rec, under an 8 MiB RLIMIT_MEMLOCK, and still
# holds it when both stop, so the ledger of trace's summary and of the
# report is its VmPin, VmLck and RLIMIT_MEMLOCK as its /proc/PID/status and
# limits showed them while it held; report --cgroup keeps it, another
# cgroup nothing.
echo "+ gupwatch -v  and  gupwatch record, side by side  //  gwload file-stale --pages 4; gwload iouring-reg --pages 4 in cgroup gw-rec"
gw_start /tmp/gw-live -v
live=$GW_TRACER
gw_start /tmp/gw-side record -o /tmp/gw-side.gw
side=$GW_TRACER
gwload file-stale --pages 4 --file /tmp/gw-side-stale.dat >"$GW_OUT" 2>&1
mkdir -p $cg/gw-rec
sh -c "ulimit -l 8192 && echo \$\$ >$cg/gw-rec/cgroup.procs && exec gwload iouring-reg --pages 4 --hold-ms 20000" >/tmp/gw-led.out 2>&1 &
io_pid=$!
gw_check "gwload registered its buffer" "$(GW_OUT=/tmp/gw-led.out; gwload_wait registered)" 1
vmpin=$(awk '$1 == "VmPin:" { print $2 * 1024 }' /proc/$io_pid/status)
vmlck=$(awk '$1 == "VmLck:" { print $2 * 1024 }' /proc/$io_pid/status)
limit=$(awk '/^Max locked memory/ { print $4 }' /proc/$io_pid/limits)
[ "$limit" = unlimited ] && limit=null
kill -INT $live $side
wait $live; gw_check "trace -v exit status" $? 0
wait $side; gw_check "record exit status" $? 0
gw_check "gwload still held its buffer when both stopped" "$(kill -0 $io_pid 2>/dev/null && echo yes)" yes
kill $io_pid
wait $io_pid 2>/dev/null
gupwatch report -i /tmp/gw-side.gw >/tmp/gw-side.txt 2>&1
finding_blocks() { # each finding without its times, and the stack lines under it
	# (each session stamps events with its own clock reads: ages differ by microseconds)
	awk '$1 ~ /^[0-9]+\.[0-9]+$/ && NF > 3 { f = 1; $1 = ""; gsub(/held [0-9.]+[a-z]+/, "held T"); print; next }
		f && (/^    [a-z].*:$/ || /^      [ku] /) { print; next }
		{ f = 0 }' "$1"
}
finding_blocks /tmp/gw-live.out >/tmp/gw-live.blocks
finding_blocks /tmp/gw-side.txt >/tmp/gw-side.blocks
gw_check "trace -v: STALE-PIN findings with stacks" \
	"$(grep -c ' STALE-PIN ' /tmp/gw-live.blocks) $(grep -c '^      u wl_file_stale+' /tmp/gw-live.blocks)" "4 8"
gw_check "report prints the findings and stacks trace printed live" \
	"$(diff /tmp/gw-live.blocks /tmp/gw-side.blocks | head -n 20)" ""
ledger_row() { # FILE: PID HELD CGROUP of the io_uring holder's ledger row
	awk -v p=$io_pid '/^Memlock ledger/ { s = 1; next } s && /^$/ { exit } s && $1 == p { print $1, $3, $NF }' "$1"
}
gw_check "trace -v's ledger row: PID HELD CGROUP" "$(ledger_row /tmp/gw-live.out)" "$io_pid 4 /gw-rec"
gupwatch report -i /tmp/gw-side.gw --json >/tmp/gw-led.json 2>&1
gw_check "report --json exit status" $? 0
gw_check "JSON: gwload's /proc, as it was while it held (VmPin $vmpin)" \
	"$(grep "^{\"type\":\"process\",\"pid\":$io_pid," /tmp/gw-led.json | grep -o '"proc":{[^}]*}')" \
	"\"proc\":{\"cgroup\":\"/gw-rec\",\"vm_pinned_bytes\":$vmpin,\"vm_locked_bytes\":$vmlck,\"memlock_limit_bytes\":$limit,\"ledger\":\"ok\"}"
procs_rows() { awk '/^Pins by process/ { s = 1; next } s && /^$/ { exit } s && $1 ~ /^[0-9]+$/ { print $1 }' "$1"; }
gupwatch report -i /tmp/gw-side.gw --cgroup /gw-rec >/tmp/gw-led.txt 2>&1
gw_check "report --cgroup /gw-rec exit status" $? 0
gw_check "report --cgroup /gw-rec: the processes" "$(procs_rows /tmp/gw-led.txt)" "$io_pid"
gw_check "its ledger row: PID HELD CGROUP" "$(ledger_row /tmp/gw-led.txt)" "$io_pid 4 /gw-rec"
gupwatch report -i /tmp/gw-side.gw --cgroup /gw-none >/tmp/gw-led2.txt 2>&1
gw_check "report --cgroup /gw-none: the processes" "$(procs_rows /tmp/gw-led2.txt)" ""

# Kept for the host: tests/vm logs carry it (base64) for host-side report checks.
echo "GWREC BEGIN file-stale $(uname -r)"; base64 $rec; echo "GWREC END"

# io_uring registration: long-term R/W pins for as long as the buffer was
# registered (--hold-ms 1000): >= 4 pin-seconds, 4 releases held >= 0.5 s.
echo "+ gupwatch record -o /tmp/gw-io.gw -- gwload iouring-reg --pages 4 --hold-ms 1000"
gupwatch record -o /tmp/gw-io.gw -- gwload iouring-reg --pages 4 --hold-ms 1000 >"$GW_OUT" 2>/tmp/gw-rec.err
gw_check "record iouring-reg exit status" $? 0
gupwatch report -i /tmp/gw-io.gw >/tmp/gw-io.txt 2>&1
gw_check "report iouring-reg exit status" $? 0
io_pid=$(sed -n 's/^# command (pid \([0-9]*\)).*/\1/p' /tmp/gw-io.txt)
sed 's/^/  > /' /tmp/gw-io.txt
row=$(awk -v p="$io_pid" '/^Pins by process/ { s = 1; next } s && $1 == p { print $3, $4, $6, $7, $8; exit }' /tmp/gw-io.txt)
gw_check "pid $io_pid: PINS UNPINS R/O R/W LONGTERM" "$row" "4 4 0 4 4"
pinsec=$(awk -v p="$io_pid" '/^Pins by process/ { s = 1; next } s && $1 == p { print $NF; exit }' /tmp/gw-io.txt)
gw_check "pid $io_pid pin-seconds >= 4 (4 refs x >= 1 s)" "$(awk -v v="$pinsec" 'BEGIN { print (v >= 4.0) }')" 1
site=$(awk '/^Pins by kernel call site/ { s = 1; next } s && $1 ~ /^io_/ { print $4, $6, $7; exit }' /tmp/gw-io.txt)
gw_check "io_uring call site: PINS R/W LONGTERM" "$site" "4 4 4"
hist=$(awk '/^Hold times of pins taken at io_/ { s = 1; next } s && /->/ { n += $5; if ($1 < 524288) short += $5 } s && /^$/ { s = 0 }
	END { print n + 0, short + 0 }' /tmp/gw-io.txt)
gw_check "io_uring hold-time histogram: released, of which < 0.5 s" "$hist" "4 0"
echo "GWREC BEGIN iouring-reg $(uname -r)"; base64 /tmp/gw-io.gw; echo "GWREC END"

echo "+ gupwatch record -- sh -c 'exit 3'"
gupwatch record -o /tmp/gw-rec3.gw -- sh -c 'exit 3' >/dev/null 2>&1
gw_check "record exit status = the command's" $? 3
gupwatch report -i /tmp/gw-rec3.gw >/dev/null 2>&1
gw_check "its file reads" $? 0

echo "+ gupwatch record -- /nonexistent"
out=$(gupwatch record -o /tmp/gw-rec4.gw -- /nonexistent 2>&1)
gw_check "record exit status, command not found" $? 127
gw_check "says why" "$(echo "$out" | grep -c "cannot run '/nonexistent': No such file or directory")" 1

echo "+ gupwatch record -d 1 -- sleep 60"
start=$(date +%s)
gupwatch record -d 1 -o /tmp/gw-rec5.gw -- sleep 60 >/dev/null 2>&1
gw_check "record exit status, command stopped by SIGTERM" $? 143
[ $(($(date +%s) - start)) -lt 30 ] && echo "ok   stopped within 30 s" ||
	gw_check "stopped within 30 s" "$(($(date +%s) - start)) s" "< 30 s"
gupwatch report -i /tmp/gw-rec5.gw >/dev/null 2>&1
gw_check "its file reads" $? 0
echo "+ gupwatch --json  //  gwload file-stale --pages 4"
trace_start auto --json
gwload file-stale --pages 4 --file /tmp/gw-rec-stale.dat >"$GW_OUT" 2>&1
trace_stop
pinner=$(gw_get phase mapped pinner_pid)
gw_check "trace --json: header first" "$(head -n 1 $GW_TRACE.out | grep -c '^{"type":"header","schema_version":1,"source":"trace"')" 1
gw_check "trace --json: STALE-PIN findings" \
	"$(grep '^{"type":"finding","kind":"STALE-PIN"' $GW_TRACE.out | grep -c "\"pinners\":\[{\"pid\":$pinner,")" 4
gw_check "trace --json: ends in totals, losses" "$(tail -n 2 $GW_TRACE.out | cut -d, -f1 | tr '\n' ' ')" \
	'{"type":"totals" {"type":"losses" '
gw_check "trace --json: every line an object" "$(grep -vc '^{.*}$' $GW_TRACE.out)" 0

# trace -v names user frames live (libdwfl on the running process: held 1 s,
# so that it still runs when gupwatch reads its maps under TCG)
echo "+ gupwatch -v  //  gwload pvm-read --pages 1"
trace_start auto -v
gwload pvm-read --pages 1 --hold-ms 1000 >"$GW_OUT" 2>&1
trace_stop
gw_check "trace -v: a pin's user stack named down to gwload's main" \
	"$(awk '/^event PIN .* gwload / { p = 1; next } /^event / { p = 0 }
		p && /^    u process_vm_readv[+]0x[0-9a-f]+ \[gwload\]$/ { a = 1 }
		p && /^    u main[+]0x[0-9a-f]+ \[gwload\]$/ { b = 1 } END { print a + b }' $GW_TRACE.out)" 2
# kill -9 in the middle of a pin storm: the file keeps what reached it, up to
# its last checkpoint, and reads; no other file is left next to it
echo "+ gupwatch record -o /tmp/gw-kill/k.gw --no-stacks, a pin storm, kill -9"
mkdir -p /tmp/gw-kill
gupwatch record -o /tmp/gw-kill/k.gw --no-stacks 2>/tmp/gw-kill.err &
rp=$!
i=0
until grep -q '^gupwatch: tracing' /tmp/gw-kill.err || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
gwload pvm-read --pages 256 --no-hold --repeat 200 >"$GW_OUT" 2>&1
# record has caught up when its file stops growing (it writes at least every 100 ms)
last=-1 i=0
while [ $i -lt 120 ]; do
	size=$(stat -c %s /tmp/gw-kill/k.gw 2>/dev/null || echo 0)
	[ "$size" = "$last" ] && break
	last=$size i=$((i + 1))
	sleep 1
done
kill -9 $rp
wait $rp 2>/dev/null
gw_check "files left by record killed with -9" "$(ls /tmp/gw-kill)" "k.gw"
gupwatch report -i /tmp/gw-kill/k.gw >/tmp/gw-kill.txt 2>/tmp/gw-kill.rep
gw_check "report of the killed recording: exit status" $? 0
sed 's/^/  2> /' /tmp/gw-kill.rep
gw_check "report says where it was cut" \
	"$(grep -c '^gupwatch: /tmp/gw-kill/k.gw: truncated at byte [0-9]* (.*): reporting the first [0-9]* events, up to the last checkpoint' /tmp/gw-kill.rep)" 1
# every pin of the storm reached the file before the kill: as many as vmstat counted
refs=$(awk '{ r = $0; sub(/^ +/, "", r) } index(r, "pin refs ") == 1 { print $(NF - 1); exit }' /tmp/gw-kill.txt)
gw_check "the killed recording's pin refs = the storm's vmstat acquired" "$refs" "$(gw_get phase after acquired)"
gw_done
