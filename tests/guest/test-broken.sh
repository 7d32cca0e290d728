#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Meta test: every workload test must notice a broken workload.  Runs each
# test-*.sh that uses gw_run with GW_BREAK=1 (lib.sh then passes --no-hold:
# pins released before the hold sample, fork skipped, O_DIRECT sampled after
# the I/O) and requires it to exit 1 (FAIL), not 0 (PASS) or 77 (SKIP).
. /gw/tests/lib.sh

for t in /gw/tests/test-*.sh; do
	grep -q '^[[:space:]]*gw_run ' "$t" || continue	# not a workload test
	name=${t##*/}
	out=/tmp/broken.$$.out
	GW_BREAK=1 sh "$t" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 1 ]; then
		echo "ok   $name fails when broken ($(grep -c '^FAIL' "$out") failed checks)"
	else
		echo "FAIL $name exited $rc with GW_BREAK=1 (expected 1):"
		sed 's/^/  | /' "$out"
		GW_FAILS=$((GW_FAILS + 1))
	fi
	rm -f "$out"
done
gw_done
