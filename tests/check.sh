#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The whole suite (`make check`): host unit tests, host behaviour tests (also
# under ASan+UBSan), libFuzzer runs, then the guest suite on real Debian
# kernels. Ends with one summary line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
results=build/results.txt
mkdir -p build
: > "$results"

echo "== host unit tests"
RESULTS=$results tests/run-unit.sh build/unit/test_* || true

# host_tests LABEL: every tests/host script, its result as "PASS|FAIL LABEL NAME"
host_tests() {
	for t in tests/host/test-*.sh; do
		name=$(basename "$t" .sh); name=${name#test-}
		if out=$("$t" 2>&1); then
			echo "PASS $1 $name" >> "$results"; echo "PASS $name"
		else
			echo "FAIL $1 $name" >> "$results"; echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/    /'
		fi
	done
}

echo "== host tests ($(uname -r))"
host_tests host

# The same under AddressSanitizer and UBSan (make SANITIZE=1: build/asan/), without
# test-hostile's CPU and memory limits, which the sanitizers' own costs would break.
echo "== host unit tests and host tests under ASan+UBSan"
LABEL=host-asan RESULTS=$results tests/run-unit.sh build/asan/unit/test_* >/dev/null || true
GUPWATCH=build/asan/gupwatch GW_RECFILE_WRITER=build/asan/unit/test_recfile GW_COST_LIMITS=0 \
	host_tests host-asan

# libFuzzer with ASan and UBSan: the report path and the engine, FUZZ_SECONDS each
echo "== fuzz (${FUZZ_SECONDS:-60} s each)"
tests/fuzz/run.sh "${FUZZ_SECONDS:-60}" build/fuzz/fuzz_* | tee -a "$results"

# collect WHAT: the last guest run's results, or one failure if there are none.
collect() {
	if [ -s .cache/vm/results.txt ]; then
		cat .cache/vm/results.txt >> "$results"
	else
		echo "FAIL $1 (no results: see the output above)" >> "$results"
	fi
	rm -f .cache/vm/results.txt
}

echo "== guest tests (KERNELS=${KERNELS:-6.1 6.12})"
rm -f .cache/vm/results.txt
marker=$(mktemp)
tests/vm/run.sh || true
collect "guest harness"

# What test-record.sh recorded in each guest, reported by this host's gupwatch.
echo "== guest recordings reported on the host"
mapfile -t logs < <(find .cache/vm/logs -name '*.log' -newer "$marker" 2>/dev/null | sort)
rm -f "$marker"
if [ ${#logs[@]} -gt 0 ]; then
	tests/report-guest.sh "${logs[@]}" | tee -a "$results"
else
	echo "FAIL host-report: the guest run left no logs" | tee -a "$results"
fi

# test-truth.sh's rows: STALE-PIN as the kernel's own truth has it, and as gupwatch said.
if [ ${#logs[@]} -gt 0 ]; then
	tests/truth-table.sh "${logs[@]}"
fi

# test-movable needs ZONE_MOVABLE, which only a movablecore= boot has (it skips above).
echo "== guest test with ZONE_MOVABLE (movablecore=50%)"
GW_GUEST_ARGS="movablecore=50%" tests/vm/run.sh --tests movable || true
collect "guest movable"

# Soft-RoCE needs rdma_rxe, which only Debian's generic flavour ships, and
# rdma-core's userland in the guest (test-rdma skips on the cloud kernels).
echo "== guest RDMA test on the generic kernels"
if rdma_root=$(tests/vm/rdmaroot.sh); then
	GW_EXTRA_ROOT=$rdma_root tests/vm/run.sh --kernels "6.1:generic 6.12:generic" --tests rdma || true
fi
collect "guest rdma on the generic kernels"

passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
skipped=$(grep -c '^SKIP' "$results")
if [ "$failed" -gt 0 ]; then
	echo "== failures"; grep '^FAIL' "$results"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
