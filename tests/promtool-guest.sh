#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The scrapes test-daemon.sh leaves in each guest log (between "GWPROM BEGIN
# KVER" and "GWPROM END", several per log) checked by Prometheus' own linter: promtool check
# metrics must find nothing to say. Prints one "PASS|FAIL promtool KVER" per
# scrape and exits non-zero if any failed.
#   tests/promtool-guest.sh [LOG...]   (default: .cache/vm/logs/*.log)
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- .cache/vm/logs/*.log
command -v promtool >/dev/null || { echo "FAIL promtool: not installed (make deps installs prometheus)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for log in "$@"; do
	tr -d '\r' <"$log" | awk -v dir="$tmp" '
		/^GWPROM BEGIN / { f = dir "/" $3 "." ++n[$3] ".prom"; next }
		/^GWPROM END/ { close(f); f = ""; next }
		f { print > f }'
done
for f in "$tmp"/*.prom; do
	[ -e "$f" ] || continue
	kver=$(basename "$f" .prom) # KVER.N: the Nth scrape of that kernel
	if out=$(promtool check metrics <"$f" 2>&1) && [ -z "$out" ] && [ -s "$f" ]; then
		echo "PASS promtool $kver ($(grep -vc '^#' "$f") samples)"
	else
		echo "FAIL promtool $kver: ${out:-empty scrape}" | head -n 5
		status=1
	fi
done
exit $status
