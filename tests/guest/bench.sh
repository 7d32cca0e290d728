#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench: what gupwatch costs the workloads it watches, next to bpftrace
# merely counting the same hooks, measured inside one boot under `-icount
# shift=0,sleep=off -smp 1` (guest time = instructions: deterministic to <1 %,
# TESTBED.md; it measures instruction overhead, not cache or TLB effects).
# Each case runs REPS times per configuration and the median is printed; the
# first run of each case in each configuration is discarded (warm-up).
#   cow:      fork, the parent writes 4096 pages: 4096 COW faults, no pins
#             (gwload cow-fork's write_ms; events: pages written);
#   pin:      process_vm_readv of 1024 remote pages, 64 times in one process:
#             65536 R/O pins and unpins (syscall_ms; events: vmstat pins +
#             unpins);
#   populate: the first write of those 4096 pages: anonymous faults, no COW,
#             no pin (cow-fork's populate_ms; events: pages written);
#   odirect:  4096 O_DIRECT 4 KiB preads from a null_blk disk completing in
#             the submitter (irqmode=0, no memory: the I/O path alone), IOPS
#             (6.12: one R/W pin per I/O; 6.1: FOLL_GET, no pin; events: I/Os);
#   iouring:  128 IORING_REGISTER_BUFFERS + UNREGISTER of 16 pages: 2048
#             long-term pins and unpins (events: vmstat pins + unpins); the
#             loop's CPU time: 6.1's UNREGISTER idles ~12 ms for an RCU grace
#             period, which would drown the instructions.
# Configurations, each started once for all cases: none; bpftrace 0.17
# counting ({ @[probe] = count(); }) the hooks `gupwatch check --hooks` lists,
# on the sides gupwatch's programs take, by kfunc/kretfunc where fentry
# attaches (else kprobe, as gupwatch's auto mode) and by kprobe/kretprobe;
# gupwatch (trace) --attach=auto and kprobe; gupwatch record (auto) with
# stacks and with --no-stacks. bpftrace comes from the NVMe disk make bench
# attaches (tests/vm/bpftraceroot.sh); without it those columns say "n/a".
# Cells: % over untraced / added instructions per event, i.e. (traced -
# untraced) ms * 1e6 / events (1 ns = 1 instruction under icount). gupwatch's
# cells count its reader's work in full (run_case); after the table, trace's
# cost split into the BPF side and the reader.
REPS=${REPS:-5}
B=/tmp/bench
mkdir -p $B

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# kv KEY [PHASE]: the value of KEY= in gwload's output on stdin (in the PHASE record).
kv() { awk -v k="$1" -v p="${2:-}" '
	p == "" || index($0, "phase=" p " ") == 1 {
		for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2)
	} END { print v }'; }

# Cases: one run each, printing "MS EVENTS".
case_cow() { gwload cow-fork --pages 4096 >$B/out && echo "$(kv write_ms <$B/out) 4096"; }
case_populate() { gwload cow-fork --pages 4096 >$B/out && echo "$(kv populate_ms <$B/out) 4096"; }
case_pin() {
	gwload pvm-read --pages 1024 --no-hold --repeat 64 >$B/out &&
		echo "$(kv syscall_ms <$B/out) $(($(kv acquired after <$B/out) + $(kv released after <$B/out)))"
}
case_odirect() {
	gwload odirect-read --dev "$NULLB" --pages 1 --no-hold --repeat 4096 >$B/out &&
		echo "$(kv loop_ms <$B/out) 4096"
}
case_iouring() {
	gwload iouring-reg --pages 16 --no-hold --repeat 128 >$B/out &&
		echo "$(kv loop_cpu_ms <$B/out) $(($(kv acquired after <$B/out) + $(kv released after <$B/out)))"
}
CASES="cow pin populate odirect iouring"
label() { case $1 in cow) echo "COW storm" ;; pin) echo "pin storm" ;; odirect) echo O_DIRECT ;;
	iouring) echo io_uring ;; *) echo "$1" ;; esac; }
units() { case $1 in cow | populate) echo pages ;; iouring) echo "refs (CPU time)" ;; *) echo refs ;; esac; }

# measure CONFIG [READER]: every case, warm-up + REPS runs; $B/CONFIG.CASE =
# "median-ms events median-ms-without-the-reader".
measure() {
	for c in $CASES; do
		run_case "$c" "${2:-}" >/dev/null || echo "bench: $c failed: $(cat $B/out)" >&2
		i=0
		while [ $i -lt "$REPS" ]; do run_case "$c" "${2:-}"; i=$((i + 1)); done >$B/runs
		echo "$(cut -d' ' -f1 $B/runs | median) $(tail -n1 $B/runs | cut -d' ' -f2)" \
			"$(cut -d' ' -f3 $B/runs | median)" >"$B/$1.$c"
	done
}

# cpu_ns PID: the CPU time PID's threads have had, in ns (= instructions under -icount).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { print n + 0 }'; }

# The reader (gupwatch's user space) drains a stopped run within a second: it
# polls every 100 ms. What it spends in a second with nothing to read (polls,
# the lost-events check) is measured once per session and taken off.
DRAIN_S=1
idle_ns() { cpu0=$(cpu_ns "$1"); sleep $DRAIN_S; echo $(($(cpu_ns "$1") - cpu0)); }

# run_case CASE [READER]: "MS EVENTS MS-WITHOUT-THE-READER". With a READER pid, the
# case runs with the reader stopped (SIGSTOP) and the CPU time it then takes to
# drain the run is added: on one CPU, the reader's work is the workload's cost
# wherever it falls, and a run shorter than the poll interval would otherwise
# include it or not by chance.
run_case() {
	if [ -z "${2:-}" ]; then
		out=$("case_$1") || return 1
		echo "$out" | awk '{ print $1, $2, $1 }'
		return
	fi
	kill -STOP "$2"
	out=$("case_$1")
	rc=$?
	cpu0=$(cpu_ns "$2")
	kill -CONT "$2"
	sleep $DRAIN_S
	d=$(($(cpu_ns "$2") - cpu0 - IDLE_NS))
	[ $rc = 0 ] && echo "$out" | awk -v d="$d" '{ printf "%.3f %s %s\n", $1 + d / 1e6, $2, $1 }'
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# FOLL_PIN references taken and dropped so far, system-wide (the kernel's count).
vmstat_pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_(acquired|released) / { n += $2 } END { print n + 0 }' /proc/vmstat
}

# seen CONFIG TOOL-COUNT PINS-BEFORE: a configuration whose hooks did not see the
# session's pins measured nothing (under -icount, 6.1 has run later sessions'
# hooks silent, never without -icount: most likely QEMU); its cells are
# dropped, and it says so.
seen() {
	want=$(($(vmstat_pins) - $3))
	[ "${2:-0}" -ge "$want" ] && return 0
	echo "$1: INVALID, its hooks saw ${2:-0} of $want pin and unpin references" >>$B/lost
	rm -f "$B/$1".*
}

# started PID FILE REGEX: wait until FILE has a line matching REGEX (0) or PID is gone (1).
started() {
	until grep -qs "$3" "$2"; do
		kill -0 "$1" 2>/dev/null || { echo "bench: did not start: $(cat "$2")" >&2; return 1; }
		sleep 0.2
	done
}

# measured_under CONFIG PID FILE REGEX [reader]: once the tool PID has written its
# start line to FILE, every case (vmstat's pin count before them in $before),
# with PID as the reader if asked; then SIGINT it and wait.
measured_under() {
	started "$2" "$3" "$4" || return 1
	before=$(vmstat_pins)
	if [ -n "${5:-}" ]; then
		IDLE_NS=$(idle_ns "$2")
		measure "$1" "$2"
	else
		measure "$1"
	fi
	kill -INT "$2"
	wait "$2"
}

# A stopped gupwatch's hooks detach in a child of it (gupwatch-detach) that outlives it by
# seconds; the RCU work of that detach would fall into the next configuration's first runs.
detached() {
	while grep -qsx gupwatch-detach /proc/[0-9]*/comm; do sleep 0.2; done
}

with_gupwatch() { # CONFIG ARGS...
	cfg=$1
	shift
	rm -f $B/gw.err # not the last run's start line
	gupwatch "$@" >$B/gw.out 2>$B/gw.err &
	measured_under "$cfg" $! $B/gw.err '^gupwatch: tracing' reader || return 1
	[ ! -e $B/gw.data ] || gupwatch report -i $B/gw.data >$B/gw.out
	lost=$(awk '/events lost|hook runs skipped/ && $NF != 0 { printf "%s%s", sep, $0; sep = "; " }' $B/gw.out)
	echo "$cfg: ${lost:-nothing lost or skipped}" >>$B/lost
	seen "$cfg" "$(awk '$2 == "refs" && $3 ~ /^[0-9]+$/ && ($1 == "pin" || $1 == "unpin") { n += $3 }
		END { print n + 0 }' $B/gw.out)" "$before"
	rm -f $B/gw.data
	detached
}

# bpftrace probes for MODE (fentry: kfunc where gupwatch's fentry attaches, else kprobe).
# bpftrace 0.17 generates no code for a kfunc of more than six arguments, which 6.6+
# kernels attach (migrate_pages, 7: "Code not generated for probe"): a kprobe counts it.
bt_probes() {
	awk -v mode="$1" '
	function add(p) { list = list (list == "" ? "" : ",") p }
	{
		if (mode == "fentry" && $4 == "ok" && $1 != "migrate_pages") {
			sides = $3; e = "kfunc:"; x = "kretfunc:"
		}
		else if ($6 == "ok") { sides = $5; e = "kprobe:"; x = "kretprobe:" }
		else next
		if (sides ~ /entry/) add(e $1)
		if (sides ~ /exit/) add(x $1)
	} END { print list }' $B/hooks
}

with_bpftrace() { # CONFIG MODE
	probes=$(bt_probes "$2")
	rm -f $B/bt.out
	"$BT" -e "BEGIN { printf(\"ready\\n\"); } $probes { @[probe] = count(); }" >$B/bt.out 2>&1 &
	# BEGIN runs once every probe is attached (LLVM under TCG takes a while)
	measured_under "$1" $! $B/bt.out '^ready' || return 1
	seen "$1" "$(awk -F': ' '/^@.*(try_grab|gup_put_folio)/ { n += $2 } END { print n + 0 }' $B/bt.out)" "$before"
	echo "$1: $(grep -c '^@' $B/bt.out) probes counted $(awk -F': ' '/^@/ { n += $2 } END { print n + 0 }' $B/bt.out) hook runs:" \
		"$probes" >>$B/probes
}

# The I/O device: null_blk without memory, completing each I/O in the submitter.
nb=/sys/kernel/config/nullb/gwbench
mkdir $nb && echo 64 >$nb/size && echo 4096 >$nb/blocksize && echo 0 >$nb/irqmode &&
	echo 0 >$nb/memory_backed && echo 1 >$nb/power || echo "bench: cannot create null_blk gwbench" >&2
NULLB=/dev/gwbench
i=0
while [ ! -b $NULLB ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

BT=
if mkdir -p /bt && mount -o ro /dev/nvme0n1 /bt 2>/dev/null && [ -x /bt/usr/bin/bpftrace ]; then
	BT=$B/bpftrace
	printf '#!/bin/sh\nexec /bt/lib64/ld-linux-x86-64.so.2 --library-path /bt/lib/x86_64-linux-gnu /bt/usr/bin/bpftrace "$@"\n' >$BT
	chmod +x $BT
fi
gupwatch check --hooks >$B/hooks || echo "bench: gupwatch check --hooks failed" >&2

t0=$(uptime_s)
echo "kernel $(uname -r), $(nproc) CPU, REPS=$REPS, median; $($BT --version 2>/dev/null || echo 'no bpftrace disk')"
CONFIGS="none bt-kfunc bt-kprobe auto kprobe record record-no-stacks"
for cfg in $CONFIGS; do
	t=$(uptime_s)
	case $cfg in
	none) measure none ;;
	bt-kfunc) [ -z "$BT" ] || with_bpftrace "$cfg" fentry ;;
	bt-kprobe) [ -z "$BT" ] || with_bpftrace "$cfg" kprobe ;;
	auto) with_gupwatch "$cfg" --attach=auto ;;
	kprobe) with_gupwatch "$cfg" --attach=kprobe ;;
	record) with_gupwatch "$cfg" record -o $B/gw.data ;;
	record-no-stacks) with_gupwatch "$cfg" record --no-stacks -o $B/gw.data ;;
	esac
	echo "  $cfg done in $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }') s"
done

series=$(uname -r | cut -d. -f1,2)
echo
echo "| | untraced | bpftrace kfunc | bpftrace kprobe | trace (auto = fentry) | trace --attach=kprobe | record | record --no-stacks |"
echo "|---|---|---|---|---|---|---|---|"
for c in $CASES; do
	read -r base ev _ <"$B/none.$c"
	if [ "$c" = odirect ]; then
		row="| $series $(label "$c") | $(awk -v m="$base" -v n="$ev" 'BEGIN { printf "%.1f µs/IO, %.0f k IOPS", m * 1000 / n, n / m }')"
	else
		row="| $series $(label "$c") | $base ms, $ev $(units "$c")"
	fi
	for cfg in $CONFIGS; do
		[ "$cfg" != none ] || continue
		if [ ! -s "$B/$cfg.$c" ]; then
			row="$row | n/a"
			continue
		fi
		read -r v _ <"$B/$cfg.$c"
		row="$row | $(awk -v a="$v" -v b="$base" -v n="$ev" -v io="$([ "$c" = odirect ] && echo 1 || echo 0)" 'BEGIN {
			printf "%+.1f %% / %.0f", (a - b) * 100 / b, (a - b) * 1e6 / n
			if (io) printf " (%.0f %%)", b * 100 / a }')"
	done
	echo "$row |"
done
echo
if [ -s $B/auto.pin ]; then
	echo "Where trace (auto) costs it: the BPF side (the run with the reader stopped) + the reader"
	for c in $CASES; do
		read -r base ev _ <"$B/none.$c"
		read -r all _ bpf <"$B/auto.$c"
		awk -v l="$series $(label "$c")" -v b="$base" -v k="$bpf" -v a="$all" -v n="$ev" 'BEGIN {
			printf "  %s: %+.1f %% / %.0f + %+.1f %% / %.0f\n", l, (k - b) * 100 / b,
				(k - b) * 1e6 / n, (a - k) * 100 / b, (a - k) * 1e6 / n }'
	done
	echo
fi
cat $B/probes 2>/dev/null
cat $B/lost
echo "bench took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }') s of guest time"
echo 0 >$nb/power
rmdir $nb
