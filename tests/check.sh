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
# A Prometheus on this host scrapes each guest's daemon (test-daemon) through QEMU.
prom=$(mktemp -d)
trap 'tests/prometheus-guest.sh stop "$prom/state"; rm -rf "$prom"' EXIT
read -ra kernels <<<"${KERNELS:-6.1 6.12}"
hostfwd=$(tests/prometheus-guest.sh start "$prom/state" ${#kernels[@]}) ||
	echo "FAIL prometheus: could not start it (see above)" >>"$results"
# Both kernels at once (GW_PARALLEL): each TCG guest runs on one host thread.
GW_HOSTFWD=$hostfwd GW_PARALLEL=1 tests/vm/run.sh || true
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

# test-daemon.sh's scrape of the daemon's metrics, linted by Prometheus' promtool.
echo "== guest metrics checked by promtool"
if [ ${#logs[@]} -gt 0 ]; then
	tests/promtool-guest.sh "${logs[@]}" | tee -a "$results"
fi

# What that Prometheus answers against what each guest measured.
echo "== guest daemons scraped by Prometheus on the host"
if [ -n "$hostfwd" ] && [ ${#logs[@]} -gt 0 ]; then
	tests/prometheus-guest.sh check "$prom/state" "${logs[@]}" | tee -a "$results"
fi
tests/prometheus-guest.sh stop "$prom/state"

# Figures the guest tests print (not pass/fail): e.g. the daemon's RSS under a storm.
if [ ${#logs[@]} -gt 0 ]; then
	echo "== figures from the guests"
	for log in "${logs[@]}"; do tr -d '\r' <"$log" | sed -n 's/^FIGURE /    /p'; done
fi

# test-truth.sh's rows: STALE-PIN as the kernel's own truth has it, and as gupwatch said.
if [ ${#logs[@]} -gt 0 ]; then
	tests/truth-table.sh "${logs[@]}"
fi

# ZONE_MOVABLE (test-movable) only a movablecore= boot has, two NUMA nodes
# (test-migrate) only a -numa one, a hot-plugged DIMM (test-offline, on a
# memory-only node 2, onlined movable) only one with a pc-dimm: one boot has
# them all (these tests skip above). One socket per node: CPUs sharing a cache
# across nodes make the kernel WARN.
echo "== guest tests with ZONE_MOVABLE, two NUMA nodes and a DIMM"
GW_GUEST_ARGS="movablecore=50% memhp_default_state=online_movable" \
	GW_QEMU_SMP="2,sockets=2,cores=1,threads=1" \
	GW_QEMU_OPTS="-m 2048,slots=1,maxmem=2304M
	-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G
	-object memory-backend-ram,id=d2,size=256M
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
	-numa node,nodeid=2 -device pc-dimm,id=dimm2,memdev=d2,node=2" \
	GW_PARALLEL=1 tests/vm/run.sh --tests "movable migrate offline" || true
collect "guest movable, NUMA, DIMM"

# Soft-RoCE needs rdma_rxe, which only Debian's generic flavour ships, and
# rdma-core's userland in the guest (test-rdma skips on the cloud kernels).
echo "== guest RDMA test on the generic kernels"
if rdma_root=$(tests/vm/rdmaroot.sh); then
	GW_EXTRA_ROOT=$rdma_root GW_PARALLEL=1 tests/vm/run.sh --kernels "6.1:generic 6.12:generic" \
		--tests rdma || true
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
