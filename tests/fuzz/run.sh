#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs each libFuzzer target SECONDS, starting from its seed corpus in
# tests/fuzz/corpus/TARGET (copied to build/fuzz/corpus/TARGET, where what the
# fuzzer finds stays for the next run; crashes go to build/fuzz/crashes/).
# One line per target: "PASS|FAIL fuzz TARGET: N execs in S s, C crashes";
# exits 1 if any target crashed.   tests/fuzz/run.sh SECONDS TARGET...
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=$1
shift
status=0
for t in "$@"; do
	name=$(basename "$t")
	corpus=build/fuzz/corpus/$name crashes=build/fuzz/crashes/$name
	mkdir -p "$corpus" "$crashes"
	cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
	log=build/fuzz/$name.log
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: ASan's own memory included
	"$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
	found=$(find "$crashes" -type f | wc -l)
	if [ $rc -eq 0 ] && [ "$found" -eq 0 ] && [ -n "$execs" ]; then
		echo "PASS fuzz $name: $execs execs in $secs s, 0 crashes"
	else
		echo "FAIL fuzz $name: exit $rc, ${execs:-?} execs, $found crashes in $crashes (log: $log)"
		grep -m 5 -E 'ERROR|SUMMARY|in (check|LLVMFuzzer)' "$log" | sed 's/^/    /'
		status=1
	fi
done
exit $status
