#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The truth table from guest serial logs: test-truth.sh prints
#   TRUTH <scenario> <kernel> <mode> <kind> want=<N>[,<severity>] got=<N|none>[,<severity>]
# per scenario, kernel series and attach mode. A row is right when gupwatch
# reported exactly the stale pages the ground truth counts, with the severity.
#   tests/truth-table.sh LOG...
set -uo pipefail
grep -ah '^TRUTH ' "$@" 2>/dev/null | tr -d '\r' | awk '
	{
		want = substr($6, 6); got = substr($7, 5)
		split(want, w, ","); split(got, g, ",")
		flag = w[1] > 0; said = g[1] != "none" && g[1] > 0
		ok = want == got
		rows[++n] = sprintf("  %-14s %-5s %-7s %-10s %-10s %-10s %s", $2, $3, $4, $5, want, got,
				    ok ? "right" : "WRONG")
		if (flag && ok) tp++
		else if (flag) fn++
		if (!flag && said) fp++
		if (!flag && !said) tn++
	}
	END {
		if (!n) { print "Truth table: no TRUTH rows in the logs"; exit }
		print "Truth table (WANT: stale pages per the kernel; GOT: gupwatch'"'"'s findings of KIND)"
		printf "  %-14s %-5s %-7s %-10s %-10s %-10s %s\n", "SCENARIO", "KERN", "MODE", "KIND", "WANT",
			"GOT", ""
		for (i = 1; i <= n; i++) print rows[i]
		printf "  must flag: %d of %d reported right (recall %.2f); must not flag: %d of %d silent",
			tp, tp + fn, tp + fn ? tp / (tp + fn) : 1, tn, tn + fp
		printf " (precision %.2f)\n", tp + fp ? tp / (tp + fp) : 1
	}'
