#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch daemon: its Prometheus metrics and JSON Lines log against the
# kernel's and the workloads' own answers. While io_uring holds 8 long-term
# R/W pins in cgroup gw-a and process_vm_readv 4 short-term R/O ones in
# gw-b, the held gauges say so per cgroup, what the kernel charged
# equals gw-a's VmPin (gw-b's: nothing) and the memlock headroom is gw-a's
# RLIMIT_MEMLOCK less its VmPin and VmLck (gw-b's: unlimited); afterwards the pin and unpin
# counters equal the /proc/vmstat deltas and the kernel's own counters equal
# /proc/vmstat; a file-stale run's STALE-PIN findings (its twin --no-hold has
# none) equal the pages gwload read stale, in the counter and in the log, one
# JSON object per line; after SIGHUP (logrotate moved the log) the next
# finding goes to a new file of the old name; a fork of io_uring-pinned
# pages counts the pages the child got copied; a second daemon with --cgroup
# /gw-a logs none of those, and exactly the stale pages of a run below gw-a;
# the first daemon's hold-time histogram names io_uring's and
# process_vm_readv's kernel call sites (--call-sites), the second's has
# site="" and only gw-a's pins; restarted on its port while its old hooks
# still detach, the second daemon serves at once;
# after a 20 s pin/COW/fork storm the counts still equal vmstat's and nothing
# was lost (its RSS every 2 s: a FIGURE line); SIGTERM exits 0. Both run with only the systemd unit's capabilities. The last
# scrape goes to the log for the host's promtool (tests/promtool-guest.sh).
# With gw.hostport (run.sh GW_HOSTFWD) a real Prometheus on the host scrapes
# this daemon through QEMU's user network: each GWPROMQ line names a PromQL
# query and the ground truth it must return (tests/prometheus-guest.sh).
. /gw/tests/lib.sh
. /gw/tests/trace.sh

D=/tmp/gw-daemon
LOG=$D.jsonl
URL=http://127.0.0.1:9776/metrics
command -v wget >/dev/null || gw_skip "no wget in this guest"
# the guest's init leaves loopback down
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
listen=127.0.0.1:9776
hostport=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^gw\.hostport=//p')
if [ -n "$hostport" ]; then
	# QEMU's user network: the guest is 10.0.2.15, the host's port forwards to 9776
	gw_check "gw.hostport=$hostport: eth0 up" \
		"$(ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && echo up)" up
	listen=0.0.0.0:9776
fi
# promq NAME WANT SELECTOR [FUNCTION]: the host's Prometheus must answer WANT to
# sum(FUNCTION(SELECTOR[1h])), FUNCTION max_over_time unless given,
# SELECTOR narrowed to this guest's instance
promq() {
	[ -n "$hostport" ] || return 0
	case $3 in
	*\}) sel="${3%\}},instance=\"$hostport\"}" ;;
	*) sel="$3{instance=\"$hostport\"}" ;;
	esac
	echo "GWPROMQ $(uname -r) $1 $2 sum(${4:-max_over_time}($sel[1h]))"
}

# metric FILE SERIES: the value of SERIES (name with its labels, as printed) in a scrape
metric() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }
scrape() { sleep 1.2; wget -q -O "$1" $URL; } # metrics are rendered once a second
# counts_equal_vmstat FILE PREFIX: a scrape's pin and unpin counters against the
# /proc/vmstat deltas since the daemon started (acq0, rel0)
counts_equal_vmstat() {
	set -- "$1" "$2" $(vm_pins)
	gw_check "${2}pin references = vmstat acquired delta" \
		"$(metric "$1" gupwatch_pin_references_total)" $(($3 - acq0))
	gw_check "${2}unpin references = vmstat released delta" \
		"$(metric "$1" gupwatch_unpin_references_total)" $(($4 - rel0))
}
# show FILE: a scrape into the log, for the host's promtool (tests/promtool-guest.sh)
show() { echo "GWPROM BEGIN $(uname -r)"; cat "$1"; echo "GWPROM END"; }

# As the systemd unit runs it: root with its CapabilityBoundingSet= only
# (tests/tools/gwcaps.c drops the rest from the bounding set, as systemd does).
caps=$(sed -n 's/^CapabilityBoundingSet=//p' /gw/gupwatch.service)
mkdir -p $D.bin
printf '#!/bin/sh\nexec gwcaps "%s" /gw/bin/gupwatch "$@"\n' "$caps" >$D.bin/gupwatch
chmod +x $D.bin/gupwatch
# twin: without CAP_PERFMON it cannot trace, and must say so
gwcaps CAP_BPF gupwatch daemon --listen 127.0.0.1:9777 >$D.nocap.out 2>$D.nocap.err
gw_check "without CAP_PERFMON: exit status" $? 1
sed 's/^/  2> /' $D.nocap.err
export PATH=$D.bin:$PATH

rm -f $LOG $LOG.1
set -- $(vm_pins)
acq0=$1 rel0=$2
# a second daemon logs only the findings of processes in cgroup gw-a (--cgroup)
gw_start $D.a daemon --cgroup /gw-a --log $D.a.jsonl --listen 127.0.0.1:9777
cg_daemon=$GW_TRACER
gw_start $D daemon --log $LOG --listen $listen --call-sites
main_daemon=$GW_TRACER
scrape $D.prom0
gw_check "runs with the unit's capabilities only ($caps)" \
	"$(awk '/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } END { print (e == b && b != "000001ffffffffff") }' /proc/$GW_TRACER/status)" 1
gw_check "scrape: exposition with HELP and TYPE" \
	"$(grep -c '^# TYPE gupwatch_pin_references_total counter$' $D.prom0)" 1
gw_check "GET / is 404" "$(wget -q -O /dev/null http://127.0.0.1:9776/ 2>&1 | grep -c '404 Not Found')" 1

# in two cgroups at once: io_uring's long-term pins in gw-a, process_vm_readv's short-term
# ones in gw-b
cg=/sys/fs/cgroup # cgroup v2, mounted by the guest's init
mkdir -p $cg/gw-a/stale $cg/gw-b
rm -f "$GW_OUT" # not the last run's phase lines: see gwload_bg
sh -c "ulimit -l 8192 && echo \$\$ >$cg/gw-a/cgroup.procs && exec gwload iouring-reg --pages 8 --hold-ms 4000" >"$GW_OUT" 2>&1 &
GW_PID=$!
sh -c "echo \$\$ >$cg/gw-b/cgroup.procs && exec gwload pvm-read --pages 4 --hold-ms 4000" >$D.pvm 2>&1 &
pvm_pid=$!
gw_check "gwload registered its buffer" "$(gwload_wait registered)" 1
gw_check "the other gwload holds its pins" "$(GW_OUT=$D.pvm; gwload_wait hold)" 1
vmpin=$(awk '$1 == "VmPin:" { print $2 * 1024 }' /proc/$GW_PID/status)
vmlck=$(awk '$1 == "VmLck:" { print $2 * 1024 }' /proc/$GW_PID/status)
limit=$(awk '/^Max locked memory/ { print $4 }' /proc/$GW_PID/limits)
scrape $D.prom1
show $D.prom1
a='cgroup="/gw-a",pod="",container="",comm="gwload"' b='cgroup="/gw-b",pod="",container="",comm="gwload"'
gw_check "gw-a: held R/W, long-term" "$(metric $D.prom1 "gupwatch_pin_references_held{$a,access=\"rw\"}") $(metric $D.prom1 "gupwatch_longterm_pin_references_held{$a}")" "8 8"
gw_check "gw-a: charged = the kernel's VmPin ($vmpin bytes)" \
	"$(metric $D.prom1 "gupwatch_charged_pinned_bytes{$a}")" "$vmpin"
gw_check "gw-b: held R/O, long-term, charged (short-term pins: nothing)" "$(metric $D.prom1 "gupwatch_pin_references_held{$b,access=\"ro\"}") $(metric $D.prom1 "gupwatch_longterm_pin_references_held{$b}") $(metric $D.prom1 "gupwatch_charged_pinned_bytes{$b}")" "4 0 0"
# the memlock ledger: gw-a runs under an 8 MiB RLIMIT_MEMLOCK, gw-b under none
gw_check "gw-a: locked, limit, headroom = VmLck, RLIMIT_MEMLOCK, the limit less VmPin and VmLck" \
	"$(metric $D.prom1 "gupwatch_charged_locked_bytes{$a}") $(metric $D.prom1 "gupwatch_memlock_limit_bytes{$a}") $(metric $D.prom1 "gupwatch_memlock_headroom_bytes{$a}")" \
	"$vmlck $limit $((limit - vmpin - vmlck))"
gw_check "gw-b: limit, headroom (unlimited)" \
	"$(metric $D.prom1 "gupwatch_memlock_limit_bytes{$b}") $(metric $D.prom1 "gupwatch_memlock_headroom_bytes{$b}")" "+Inf +Inf"
promq memlock-headroom-gw-a $((limit - vmpin - vmlck)) 'gupwatch_memlock_headroom_bytes{cgroup="/gw-a"}'
promq held-gw-a-rw 8 'gupwatch_pin_references_held{cgroup="/gw-a",access="rw"}'
promq held-gw-a-ro 0 'gupwatch_pin_references_held{cgroup="/gw-a",access="ro"}'
promq longterm-held-gw-a 8 'gupwatch_longterm_pin_references_held{cgroup="/gw-a"}'
promq charged-gw-a-vmpin "$vmpin" 'gupwatch_charged_pinned_bytes{cgroup="/gw-a"}'
promq held-gw-b-ro 4 'gupwatch_pin_references_held{cgroup="/gw-b",access="ro"}'
promq held-gw-b-rw 0 'gupwatch_pin_references_held{cgroup="/gw-b",access="rw"}'
promq charged-gw-b 0 'gupwatch_charged_pinned_bytes{cgroup="/gw-b"}'
wait $pvm_pid
wait $GW_PID
scrape $D.prom2
counts_equal_vmstat $D.prom2 ""
set -- $(vm_pins)
gw_check "kernel counters = /proc/vmstat" \
	"$(metric $D.prom2 gupwatch_kernel_foll_pin_acquired_total) $(metric $D.prom2 gupwatch_kernel_foll_pin_released_total)" \
	"$1 $2"
gw_check "nothing held by gwload once unregistered" \
	"$(metric $D.prom2 "gupwatch_pin_references_held{$a,access=\"rw\"}")" ""
gw_check "events lost" "$(metric $D.prom2 gupwatch_events_lost_total)" 0
# the hold-time histogram, with --call-sites: io_uring's 8 pins at its call site (report's
# call-site table names it the same way), each held 4 s or more; process_vm_readv's 4 R/O
# ones at its own
sites() { # FILE ACCESS LONGTERM: "site count" of gwload's released pins of that kind
	awk -v p="gupwatch_pin_hold_seconds_count{comm=\"gwload\",access=\"$2\",longterm=\"$3\",site=\"" \
		'index($1, p) == 1 { s = substr($1, length(p) + 1); sub(/"}$/, "", s); print s, $2 }' $1
}
gw_check "hold-time histogram: io_uring's 8 long-term R/W pins at io_*" \
	"$(sites $D.prom2 rw true | sed 's/^io_[a-z_.0-9]* /io_* /')" "io_* 8"
gw_check "... each held 4 s or more" \
	"$(awk '/^gupwatch_pin_hold_seconds_sum[{]comm="gwload",access="rw",longterm="true",site="io_/ { print ($2 >= 32) }' $D.prom2)" 1
gw_check "hold-time histogram: process_vm_readv's 4 R/O pins at process_vm_rw*" \
	"$(sites $D.prom2 ro false | sed 's/^process_vm_rw[a-z_.0-9]* /process_vm_rw* /')" "process_vm_rw* 4"
# the second daemon: no call sites, and gw-b's pins are not its (--cgroup /gw-a)
wget -q -O $D.a.prom http://127.0.0.1:9777/metrics
gw_check "--cgroup /gw-a, no --call-sites: the histogram's gwload groups" \
	"$(sites $D.a.prom rw true | tr '\n' ' ')$(sites $D.a.prom ro false)" " 8 "

gwload file-stale --pages 2 --no-hold --file /tmp/gw-daemon-stale.dat >"$GW_OUT" 2>&1
scrape $D.prom3
gw_check "twin (--no-hold): STALE-PIN findings" \
	"$(metric $D.prom3 'gupwatch_findings_total{kind="STALE-PIN",severity="medium"}')" 0
gwload file-stale --pages 2 --file /tmp/gw-daemon-stale.dat >"$GW_OUT" 2>&1
stale=$(gw_get phase after stale)
scrape $D.prom4
show $D.prom4
# process_vm_readv's pins are short-term R/O: medium
gw_check "STALE-PIN findings (medium) = pages gwload read stale" \
	"$(metric $D.prom4 'gupwatch_findings_total{kind="STALE-PIN",severity="medium"}')" "$stale"
gw_check "log: one STALE-PIN object per line, naming the pinner" \
	"$(grep -c "^{\"type\":\"finding\",\"kind\":\"STALE-PIN\".*\"pinners\":\[{\"pid\":$(gw_get phase mapped pinner_pid)," $LOG)" \
	"$stale"

mv $LOG $LOG.1
kill -HUP $GW_TRACER
sleep 0.5
gw_check "SIGHUP: still running" "$(kill -0 $GW_TRACER && echo running)" running
gwload file-stale --pages 1 --file /tmp/gw-daemon-stale.dat >"$GW_OUT" 2>&1
sleep 0.5
gw_check "after SIGHUP: the new finding in a new log, the old one kept" \
	"$(grep -c STALE-PIN $LOG) $(grep -c STALE-PIN $LOG.1)" "1 $stale"
stale=$((stale + $(gw_get phase after stale)))

# fork with pinned buffers: what the child got as copies (its PFNs differ from the
# parent's) is what the fork-copy counter adds
copies() { metric "$1" 'gupwatch_page_copies_total{reason="fork"}'; }
scrape $D.prom5
gwload pin-fork --pages 16 >"$GW_OUT" 2>&1
scrape $D.prom6
gw_check "fork copies counted = pages the child got copied" \
	"$(($(copies $D.prom6) - $(copies $D.prom5)))" "$(gw_get phase forked child_differs)"

# --cgroup: none of those ran in gw-a; a stale pin below it (gw-a/stale: not in the
# gw-a series the host's Prometheus is asked about) is logged there too
gw_check "--cgroup /gw-a: nothing logged from the root cgroup" "$(grep -c STALE-PIN $D.a.jsonl)" 0
sh -c "echo \$\$ >$cg/gw-a/stale/cgroup.procs && exec gwload file-stale --pages 2 --file /tmp/gw-daemon-stale.dat" >"$GW_OUT" 2>&1
stale_a=$(gw_get phase after stale)
stale=$((stale + stale_a))
sleep 0.5
gw_check "--cgroup /gw-a: its STALE-PIN findings = pages read stale in gw-a/stale" \
	"$(grep -c '^{"type":"finding","kind":"STALE-PIN"' $D.a.jsonl)" "$stale_a"
gw_check "... each naming the writer's and the pinner's cgroup" \
	"$(grep -c '^{"type":"finding","kind":"STALE-PIN".*"comm":"gwload","cgroup":"/gw-a/stale","address".*"pinners":\[{[^}]*"comm":"gwload","cgroup":"/gw-a/stale","access"' $D.a.jsonl)" "$stale_a"

# A restart on the same port. The stopped daemon's hooks detach in a child of
# it, for seconds here (RCU grace periods): that child must not keep the
# listening socket, or the new daemon cannot bind until the detach is over.
kill -TERM $cg_daemon
wait $cg_daemon
detaching=$(grep -lx gupwatch-detach /proc/[0-9]*/comm 2>/dev/null | wc -l)
gw_start $D.b daemon --listen 127.0.0.1:9777
gw_check "restarted on the same port while the old one detaches ($detaching detaching then): serves" \
	"$(wget -q -O - http://127.0.0.1:9777/metrics | grep -c '^# TYPE gupwatch_pin_references_total counter$')" 1
kill -TERM $GW_TRACER
wait $GW_TRACER
gw_check "the restarted daemon's exit status" $? 0
GW_TRACER=$main_daemon

# Under a storm (make soak runs one for 10 minutes): 20 s of process_vm_readv pin
# storms, COW storms and forks of io_uring-pinned buffers. The daemon's RSS every 2 s
# is a figure; its counts must still equal vmstat's, with nothing lost.
storm() { while [ -e $D.storm ]; do gwload "$@" >/dev/null 2>&1; done; }
touch $D.storm
storm pvm-read --pages 256 --no-hold --repeat 200 &
s1=$!
storm cow-fork --pages 1024 &
s2=$!
storm pin-fork --pages 16 &
s3=$!
rss=
for i in 1 2 3 4 5 6 7 8 9 10; do
	sleep 2
	rss="$rss $(awk '/^VmRSS:/ { print int($2 / 1024) }' /proc/$GW_TRACER/status)"
done
rm $D.storm
wait $s1 $s2 $s3
echo "FIGURE $(uname -r) daemon RSS (MiB) every 2 s of a 20 s pin/COW/fork storm:$rss"
scrape $D.prom7
counts_equal_vmstat $D.prom7 "after the storm: "
gw_check "after the storm: events lost" "$(metric $D.prom7 gupwatch_events_lost_total)" 0

if [ -n "$hostport" ]; then
	set -- $(vm_pins)
	promq pins-total-vmstat $(($1 - acq0)) gupwatch_pin_references_total last_over_time
	promq unpins-total-vmstat $(($2 - rel0)) gupwatch_unpin_references_total last_over_time
	promq kernel-acquired-vmstat "$1" gupwatch_kernel_foll_pin_acquired_total last_over_time
	promq kernel-released-vmstat "$2" gupwatch_kernel_foll_pin_released_total last_over_time
	promq stale-pin-findings $stale \
		'gupwatch_findings_total{kind="STALE-PIN",severity="medium"}' last_over_time
	promq events-lost 0 gupwatch_events_lost_total last_over_time
	sleep 3 # a rendering (1 s) and a scrape (1 s) of the final values
fi

kill -TERM $GW_TRACER
wait $GW_TRACER
gw_check "SIGTERM: exit status" $? 0
grep -v '^gupwatch: tracing' $D.err | sed 's/^/  2> /'
gw_done
