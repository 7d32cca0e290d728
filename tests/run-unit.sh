#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the cmocka unit-test binaries given as arguments; print one result line
# per test case ("PASS|FAIL $LABEL <binary>:<case>", LABEL default host) to the
# file in $RESULTS (default: stdout only) and exit non-zero if any case failed.
set -uo pipefail
results=${RESULTS:-/dev/null}
rc=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	status=$?
	printf '%s\n' "$out"
	# cmocka prints "[       OK ] name" and "[  FAILED  ] name" per case.
	printf '%s\n' "$out" | sed -n "s/^\[       OK \] \(.*\)/PASS ${LABEL:-host} $(basename "$bin"):\1/p;
		s/^\[  FAILED  \] \([^ ]*\)$/FAIL ${LABEL:-host} $(basename "$bin"):\1/p" >> "$results"
	[ $status = 0 ] && continue
	rc=1
	# a crash (e.g. ASan's abort) ends the binary with neither line for its case
	printf '%s\n' "$out" | grep -q '^\[  FAILED  \] [^ ]*$' ||
		echo "FAIL ${LABEL:-host} $(basename "$bin"): exit $status without a failed case (crashed?)" >> "$results"
done
exit $rc
