#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Recorded in a guest, reported on the host: the recordings test-record.sh
# leaves in each guest log (base64 between "GWREC BEGIN NAME KVER" and
# "GWREC END") are read by this host's gupwatch report. With --symfs pointing
# /gw/bin (the guest's binaries) at build/static, user frames name gwload's
# own functions; without it they stay addresses with module and offset, and
# no frame vanishes; valgrind finds no memory error and no definite leak in
# report reading them. Prints one "PASS|FAIL host-report KVER NAME" per check
# group and exits non-zero if any failed.
#   tests/report-guest.sh [LOG...]   (default: .cache/vm/logs/*.log)
set -uo pipefail
cd "$(dirname "$0")/.."
gw=${GUPWATCH:-./gupwatch}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/symfs/gw"
ln -s "$PWD/build/static" "$tmp/symfs/gw/bin"
status=0

# check MSG COND (COND "1": holds): one result line per recording, naming its first failure
failed=
check() {
	[ "$2" = 1 ] && return
	[ -n "$failed" ] || failed="$1"
}
result() {
	if [ -z "$failed" ]; then
		echo "PASS host-report $1 $2"
	else
		echo "FAIL host-report $1 $2: $failed"
		status=1
	fi
	failed=
}

# STALE-PIN blocks: "SIDE k|u FRAME" lines
stack_lines() {
	awk '$2 == "STALE-PIN" && $1 ~ /^[0-9]+\.[0-9]+$/ { f = 1; next }
		f && /^    [a-z]/ { side = $1; next }
		f && /^      [ku] / { print side, $1, $2, $3; next }
		{ f = 0 }' "$1"
}

file_stale() { # KVER FILE
	local with=$tmp/with.txt without=$tmp/without.txt rc
	"$gw" report -i "$2" --symfs "$tmp/symfs" >"$with" 2>&1
	rc=$?; check "report --symfs exited $rc" "$([ $rc = 0 ] && echo 1)"
	"$gw" report -i "$2" >"$without" 2>&1
	rc=$?; check "report exited $rc" "$([ $rc = 0 ] && echo 1)"
	check "header names the guest kernel" \
		"$(grep -c "^# gupwatch record of .*, kernel $1, started" "$with")"
	check "4 STALE-PIN findings" \
		"$(awk '$2 == "STALE-PIN" && $1 ~ /^[0-9]+\.[0-9]+$/' "$with" | wc -l | awk '{ print ($1 == 4) }')"
	check "pinner user stacks name wl_file_stale" \
		"$(stack_lines "$with" | grep -c '^pinner u wl_file_stale+0x[0-9a-f]* \[gwload\]$' | awk '{ print ($1 == 4) }')"
	check "writer user stacks name wl_file_stale" \
		"$(stack_lines "$with" | grep -c '^writer u wl_file_stale+0x[0-9a-f]* \[gwload\]$' | awk '{ print ($1 == 4) }')"
	check "pinner kernel stacks go through GUP from process_vm_rw" \
		"$(stack_lines "$with" | grep -c '^pinner k process_vm_rw' | awk '{ print ($1 >= 4) }')"
	check "writer kernel stacks go through handle_mm_fault" \
		"$(stack_lines "$with" | grep -c '^writer k handle_mm_fault+' | awk '{ print ($1 == 4) }')"
	# without the binaries: the same frames, as addresses in gwload
	check "without --symfs: same number of frames" \
		"$([ "$(stack_lines "$with" | wc -l)" = "$(stack_lines "$without" | wc -l)" ] && echo 1)"
	check "without --symfs: gwload frames as address [gwload+offset]" \
		"$(stack_lines "$without" | grep -c '^pinner u 0x[0-9a-f]* \[gwload+0x[0-9a-f]*\]$' | awk '{ print ($1 >= 4) }')"
	# --json of the same: every line valid against the schema, both sides' stacks in each STALE-PIN
	"$gw" report -i "$2" --symfs "$tmp/symfs" --json >"$tmp/fs.json" 2>&1
	check "report --json: schema-valid, 4 STALE-PIN with wl_file_stale on both sides" "$(python3 - "$tmp/fs.json" <<'EOF'
import json, sys
import jsonschema
val = jsonschema.Draft202012Validator(json.load(open("doc/gupwatch-json.schema.json")))
objs = [json.loads(line) for line in open(sys.argv[1])]
ok = all(not list(val.iter_errors(o)) for o in objs)
stale = [o for o in objs if o["type"] == "finding" and o["kind"] == "STALE-PIN"]
both = [o for o in stale if any(f.startswith("wl_file_stale+") for f in o.get("user_stack", []))
        and any(f.startswith("wl_file_stale+") for f in o["pinners"][0].get("user_stack", []))]
print(int(ok and len(stale) == 4 and len(both) == 4))
EOF
)"
	check "call site process_vm_rw*: 1 process, 4 R/O pins" \
		"$(awk '/^Pins by kernel call site/ { s = 1; next } s && $1 ~ /^process_vm_rw/ { print ($3 $4 $5 $6 == "1440"); exit }' "$with")"
	result "$1" file-stale
}

iouring_reg() { # KVER FILE
	local out=$tmp/io.txt pid rc
	"$gw" report -i "$2" --symfs "$tmp/symfs" >"$out" 2>&1
	rc=$?; check "report exited $rc" "$([ $rc = 0 ] && echo 1)"
	pid=$(sed -n 's/^# command (pid \([0-9]*\)).*/\1/p' "$out")
	check "pid $pid: 4 long-term R/W pins, all unpinned, >= 4 pin-seconds" \
		"$(awk -v p="$pid" '/^Pins by process/ { s = 1; next } s && $1 == p {
			print ($3 == 4 && $4 == 4 && $6 == 0 && $7 == 4 && $8 == 4 && $NF >= 4.0); exit }' "$out")"
	check "call site io_*: 4 R/W long-term pins" \
		"$(awk '/^Pins by kernel call site/ { s = 1; next } s && $1 ~ /^io_/ { print ($4 $6 $7 == "444"); exit }' "$out")"
	check "4 hold times >= 0.5 s in the histogram" \
		"$(awk '/^Hold times of pins taken at io_/ { s = 1; next } s && /->/ { if ($1 >= 524288) n += $5 }
			s && /^$/ { s = 0 } END { print (n == 4) }' "$out")"
	check "user stack through gwload's main" \
		"$(awk '/^Pins by user stack/ { s = 1; next } s && /main \[gwload\]/ { print 1; exit }' "$out")"
	result "$1" iouring-reg
}

# the same recording under valgrind, as text and as JSON: no memory error, no definite leak
under_valgrind() { # KVER NAME FILE
	local opts rc
	for opts in "" --json; do
		# shellcheck disable=SC2086 # no option or one
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$gw" report -i "$3" --symfs "$tmp/symfs" $opts >/dev/null 2>"$tmp/vg.err"
		rc=$?
		check "valgrind, report ${opts:-(text)}: exit $rc: $(head -c 400 "$tmp/vg.err")" \
			"$([ $rc = 0 ] && echo 1)"
	done
	result "$1" "$2 under valgrind"
}

logs=("$@")
[ ${#logs[@]} -gt 0 ] || logs=(.cache/vm/logs/*.log)
for log in "${logs[@]}"; do
	[ -f "$log" ] || continue
	found=0
	while read -r name kver; do
		f=$tmp/$name-$kver.gw
		awk -v n="$name" -v k="$kver" '{ sub(/\r$/, "") }
			$1 == "GWREC" && $2 == "BEGIN" && $3 == n && $4 == k { f = 1; next }
			/^GWREC END/ { f = 0 } f' "$log" | base64 -d >"$f" 2>/dev/null
		found=$((found + 1))
		case $name in
		file-stale) file_stale "$kver" "$f" ;;
		iouring-reg) iouring_reg "$kver" "$f" ;;
		*) echo "FAIL host-report $kver $name: no checks for this recording"; status=1 ;;
		esac
		under_valgrind "$kver" "$name" "$f"
	done < <(awk '$1 == "GWREC" && $2 == "BEGIN" { sub(/\r$/, ""); print $3, $4 }' "$log")
	if [ $found = 0 ]; then
		echo "FAIL host-report $(basename "$log" .log): no recordings in its log (did test-record run?)"
		status=1
	fi
done
exit $status
