#!/bin/bash
# The whole suite (`make check`): host unit tests, host behaviour tests, then
# the guest suite on real Debian kernels. Ends with one summary line:
# "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
results=build/results.txt
mkdir -p build
: > "$results"

echo "== host unit tests"
RESULTS=$results tests/run-unit.sh build/unit/test_* || true

echo "== host tests ($(uname -r))"
for t in tests/host/test-*.sh; do
	name=$(basename "$t" .sh); name=${name#test-}
	if out=$("$t" 2>&1); then
		echo "PASS host $name" >> "$results"; echo "PASS $name"
	else
		echo "FAIL host $name" >> "$results"; echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/    /'
	fi
done

echo "== guest tests (KERNELS=${KERNELS:-6.1 6.12})"
rm -f .cache/vm/results.txt
tests/vm/run.sh || true
if [ -s .cache/vm/results.txt ]; then
	cat .cache/vm/results.txt >> "$results"
else
	echo "FAIL guest harness (no results: see the output above)" >> "$results"
fi
rm -f .cache/vm/results.txt; GW_EXTRA_ROOT=$(tests/vm/rdmaroot.sh) tests/vm/run.sh --kernels "6.1:generic 6.12:generic" --tests rdma; cat .cache/vm/results.txt >> "$results" 2>/dev/null || echo "FAIL guest rdma on generic kernels (no results)" >> "$results" # soft-RoCE: test-rdma.sh

passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
skipped=$(grep -c '^SKIP' "$results")
if [ "$failed" -gt 0 ]; then
	echo "== failures"; grep '^FAIL' "$results"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
