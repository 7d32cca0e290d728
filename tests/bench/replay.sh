#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench-replay: how fast the engine (build/gwbench) and `gupwatch report`
# replay a synthetic recording (build/gwgen), in CPU time per core, with
# instructions per event and memory per tracked folio. Host only, no guests.
#   GW_BENCH_EVENTS     events in the recording (default 10000000), cached in build/bench/
#   GW_BENCH_CG_EVENTS  events in the recording callgrind counts (default 1000000)
#   GW_BENCH_REPEAT     runs, best CPU time kept (default 3)
set -euo pipefail
gw=${GUPWATCH:-./gupwatch}
n=${GW_BENCH_EVENTS:-10000000}
cg_n=${GW_BENCH_CG_EVENTS:-1000000}
repeat=${GW_BENCH_REPEAT:-3}
mkdir -p build/bench

gen() { # EVENTS: the cached file's path; regenerated when gwgen changed
	local f=build/bench/replay-$1.gw
	if [ ! -s "$f" ] || [ build/gwgen -nt "$f" ]; then
		echo "generating $f ($1 events)" >&2
		build/gwgen -n "$1" -s 1 -o "$f"
	fi
	echo "$f"
}
file=$(gen "$n")

echo "== engine alone: build/gwbench --repeat $repeat $file"
build/gwbench --repeat "$repeat" "$file"

echo
echo "== gupwatch report -i $file > /dev/null (best of $repeat, CPU = user + sys)"
best=
for _ in $(seq "$repeat"); do
	t=$( { /usr/bin/time -f '%U %S %M' "$gw" report -i "$file" >/dev/null; } 2>&1 | tail -1)
	read -r u s m <<<"$t"
	c=$(echo "$u + $s" | bc -l)
	if [ -z "$best" ] || [ "$(echo "$c < $best" | bc -l)" = 1 ]; then best=$c rss=$m; fi
done
printf 'report:      %.2f s CPU for %d events: %.2f M events/s/core; peak RSS %.1f MiB (incl. the mapped file, %.1f MiB)\n' \
	"$best" "$n" "$(echo "$n / $best / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
	"$(echo "$(stat -c %s "$file") / 1048576" | bc -l)"

echo
# perf counts instructions where the PMU is there (not in most VMs); callgrind everywhere
if perf stat -x, -e instructions true 2>&1 >/dev/null | grep -q '^[0-9]'; then
	ins=$(perf stat -x, -e instructions "$gw" report -i "$file" 2>&1 >/dev/null | awk -F, '/instructions/ { print $1 }')
	printf 'perf stat:   report %.0f instructions/event (%d events, whole process)\n' "$(echo "$ins / $n" | bc -l)" "$n"
fi
command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind): no instruction counts"; exit 0; }
small=$(gen "$cg_n")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ir() { # OUTFILE: the instructions callgrind collected
	awk '/^(summary|totals):/ { print $2; exit }' "$1"
}
echo "== instructions/event, valgrind --tool=callgrind on $small"
valgrind -q --tool=callgrind --callgrind-out-file="$tmp/engine" --toggle-collect=engine_event \
	build/gwbench "$small" >/dev/null
valgrind -q --tool=callgrind --callgrind-out-file="$tmp/report" "$gw" report -i "$small" >/dev/null
valgrind -q --tool=callgrind --callgrind-out-file="$tmp/open" --toggle-collect=rec_reader_open_mem \
	"$gw" report -i "$small" >/dev/null
printf 'callgrind:   engine_event %.0f instructions/event; gupwatch report %.0f instructions/event, of which validating the file %.0f\n' \
	"$(echo "$(ir "$tmp/engine") / $cg_n" | bc -l)" "$(echo "$(ir "$tmp/report") / $cg_n" | bc -l)" \
	"$(echo "$(ir "$tmp/open") / $cg_n" | bc -l)"
