#!/bin/sh
# make bench: what gupwatch costs the workloads it watches, measured inside one
# boot under `-icount shift=0,sleep=off -smp 1` (guest time = instructions:
# deterministic to <1 %, TESTBED.md; it measures instruction overhead, not
# cache or TLB effects). Each case runs REPS times per configuration and the
# median is printed; the first run of each configuration is discarded (warm-up).
#   cow storm: fork, the parent writes 4096 pages: 4096 COW faults, no pins
#              (gwload's own write_ms);
#   pin storm: process_vm_readv of 1024 remote pages, 64 times in one process:
#              65536 R/O pins and unpins (gwload's own syscall_ms);
#   populate:  the first write of those 4096 pages: anonymous faults, no COW,
#              no pin (gwload cow-fork's populate_ms).
# Configurations: gupwatch (trace) with --attach=auto and kprobe, and
# gupwatch record (auto) with its default stacks and with --no-stacks.
REPS=${REPS:-5}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

cow_storm() {
	gwload cow-fork --pages 4096 | awk -F'write_ms=' '/write_ms/ { split($2, a, " "); print a[1] }'
}

populate() {
	gwload cow-fork --pages 4096 | awk -F'populate_ms=' '/populate_ms/ { split($2, a, " "); print a[1] }'
}

pin_storm() {
	gwload pvm-read --pages 1024 --no-hold --repeat 64 |
		awk -F'syscall_ms=' '/syscall_ms/ { split($2, a, " "); print a[1] }'
}

measure() { # CASE
	$1 >/dev/null
	i=0
	while [ $i -lt "$REPS" ]; do $1; i=$((i + 1)); done | median
}

with_gupwatch() { # "GUPWATCH ARGS" CASE
	rm -f /tmp/bench.err
	# shellcheck disable=SC2086 # the arguments
	gupwatch $1 >/tmp/bench.out 2>/tmp/bench.err &
	gw=$!
	until grep -qs '^gupwatch: tracing' /tmp/bench.err; do sleep 0.1; done
	measure "$2"
	kill -INT $gw
	wait $gw
	awk '/events lost|hook runs skipped/ && $NF != 0 { print "  (" $0 ")" }' /tmp/bench.out >&2
}

echo "kernel $(uname -r), $(nproc) CPU, REPS=$REPS, median"
for case in cow_storm pin_storm populate; do
	base=$(measure $case)
	line="$case: none $base ms"
	for config in auto:--attach=auto kprobe:--attach=kprobe "record:record -o /tmp/bench.gw" \
		"record-no-stacks:record --no-stacks -o /tmp/bench.gw"; do
		v=$(with_gupwatch "${config#*:}" $case)
		line="$line, ${config%%:*} $v ms ($(awk -v a="$v" -v b="$base" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }'))"
	done
	rm -f /tmp/bench.gw
	echo "$line"
done
