#!/bin/sh
# gupwatch record -- COMMAND and gupwatch report in the guest: the stale-pin
# workload recorded for its lifetime, then reported as text and as JSON with
# the same STALE-PIN findings gupwatch trace shows (test-trace-cow.sh); the
# command's exit status is record's; -d stops a command that outlives it;
# a record that cannot run its command exits 127; and gupwatch trace --json
# prints the header, the findings live and the summary objects.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

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
pins=$(awk '{ l = $0; sub(/^ +/, "", l) } l ~ /^pin refs / { print $(NF - 1), $NF; exit }' /tmp/gw-rep.txt)
set -- $pins
gw_check "pin refs: events = kernel" "$1" "$2"

gupwatch report -i $rec --json >/tmp/gw-rep.json 2>&1
gw_check "report --json exit status" $? 0
gw_check "JSON: first line is the header" \
	"$(head -n 1 /tmp/gw-rep.json | grep -c "^{\"type\":\"header\",\"schema_version\":1,.*\"kernel_release\":\"$(uname -r)\"")" 1
gw_check "JSON: STALE-PIN findings" "$(grep -c '^{"type":"finding","kind":"STALE-PIN"' /tmp/gw-rep.json)" 4
gw_check "JSON: STALE-PIN pinner" \
	"$(grep '"kind":"STALE-PIN"' /tmp/gw-rep.json | grep -c "\"pinners\":\[{\"pid\":$pinner,")" 4
gw_check "JSON: last lines" "$(tail -n 2 /tmp/gw-rep.json | cut -d, -f1 | tr '\n' ' ')" \
	'{"type":"totals" {"type":"losses" '
gw_check "JSON: every line an object" "$(grep -vc '^{.*}$' /tmp/gw-rep.json)" 0
# Kept for the host: tests/vm logs carry it (base64) for host-side report checks.
echo "GWREC BEGIN $(uname -r)"; base64 $rec; echo "GWREC END"

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
gw_done
