#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gupwatch report on a hand-made recording (build/unit/test_recfile --write:
# a STALE-PIN, an UNSHARE, a FORK-COPY, a pin held at exit, a FOLL_GET, a comm
# that needs escaping): the text report, the filters, --json validated line
# by line against doc/gupwatch-json.schema.json, and bad files rejected with
# one line and exit 1. Also: record on a host that cannot attach leaves no
# file behind and never runs the command.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
writer=${GW_RECFILE_WRITER:-build/unit/test_recfile}
schema=doc/gupwatch-json.schema.json
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$writer" ] || fail "$writer missing: run 'make $writer'"
python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema missing: run 'make deps'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rec=$tmp/sample.gw
"$writer" --write "$rec" || fail "cannot write the sample recording"

# --- text, as gupwatch trace prints it
out=$("$gw" report -i "$rec" 2>&1) || fail "report exited $?: $out"
printf '%s\n' "$out" | sed 's/^/  > /'
findings() { printf '%s\n' "$out" | awk -v k="$1" '$2 == k && $1 ~ /^[0-9.]+$/'; }
sum_row() {
	printf '%s\n' "$out" | awk -v l="$1" '{ label = $0; sub(/^ +/, "", label); sub(/ +[^ ]+ +[^ ]+$/, "", label) }
		label == l { print $(NF - 1), $NF; exit }'
}
[ "$(findings STALE-PIN | awk '{ print $3, $4, $5, $6, $7 }')" = "medium 200/writer 0x7f0000001000 0x1000->0x2000 100/dd" ] ||
	fail "STALE-PIN line: $(findings STALE-PIN)"
[ "$(findings FORK-COPY | awk '{ print $4, $6 }')" = "110/fio ->0x4000" ] || fail "FORK-COPY line"
[ "$(findings UNSHARE | grep -c 'pinned it: R/O 1 ref')" = 1 ] || fail "UNSHARE line"
[ "$(findings HELD-AT-EXIT | grep -c '110/fio .* R/W,longterm 4 refs on 1 folio')" = 1 ] || fail "HELD-AT-EXIT line"
[ "$(sum_row 'pin refs')" = "6 6" ] || fail "pin refs row: $(sum_row 'pin refs')"
[ "$(sum_row 'unpin refs')" = "2 2" ] || fail "unpin refs row"
[ "$(sum_row 'copies: pinned COW + unshare')" = "2 5" ] || fail "page copies row"
printf '%s\n' "$out" | grep -q '^# gupwatch record of testhost, kernel 6.12.0-test-amd64' || fail "no file header"
printf '%s\n' "$out" | grep -q '^# command (pid 4242): gwload file-stale --pages 1$' || fail "no command line"
# a process may name itself with terminal escapes: text output shows them as \xNN
printf '%s\n' "$out" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f-\xff]' && fail "control bytes in the text report"
[ "$(findings UNSHARE | awk '{ print $4 }')" = '300/we"ird\c\xff\x09' ] || fail "escaped comm: $(findings UNSHARE)"
echo "ok: text report has the 4 findings, the totals against the kernel counters and the file header"

# --- stacks: named from the file's kernel symbols; user frames whose ELF is
# not on this machine stay addresses with module+offset; nothing vanishes
blk=$(printf '%s\n' "$out" | awk '$2 == "STALE-PIN" { f = 1; next } $1 ~ /^[0-9]+\.[0-9]+$/ { f = 0 } f && /^    / { print; next } { f = 0 }')
want='    writer 200/writer:
      k do_wp_page+0x4
      k 0xffffffff80000001
      u 0x400456 [gwtest-dd+0x400456]
    pinner 100/dd (R/O pin):
      k try_grab_folio+0x10
      k __get_user_pages+0x20
      k process_vm_rw_core.constprop.0+0x8
      u 0x400123 [gwtest-dd+0x400123]
      u 0x7f1234560042 [libgwtest.so+0x60042]'
[ "$blk" = "$want" ] || fail "STALE-PIN stacks:
$blk"
[ -z "$("$gw" report -i "$rec" --no-stacks | grep '^      [ku] ')" ] || fail "--no-stacks prints stacks"
echo "ok: finding stacks named from the recorded symbols and maps; --no-stacks hides them"

# --- call sites, user stacks, hold-time histograms, outstanding pins
table() { # TITLE-REGEX: the rows of that table
	printf '%s\n' "$out" | awk -v t="$1" '$0 ~ t { s = 1; getline; next } s && /^$/ { s = 0 } s'
}
[ "$(table '^Pins by kernel call site' | awk '$1 ~ /^process_vm/ { print $1, $2, $3, $4, $5, $6, $7, $8 }')" = \
  "process_vm_rw_core.constprop.0 __get_user_pages 1 1 1 0 0 0" ] || fail "call-site table: $(table '^Pins by kernel call site')"
[ "$(table '^Pins by kernel call site' | awk '$1 == "(no" { print $4, $5, $6, $7, $8, $9 }')" = "2 5 1 4 4 4" ] ||
	fail "call-site table, pins without stacks"
[ "$(table '^Hold times of pins taken at process_vm_rw_core' | awk '{ print $1, $2, $3, $5 }')" = "1024 -> 2047 1" ] ||
	fail "hold-time histogram: $(table '^Hold times of pins taken at process_vm_rw_core')"
[ "$(table '^Pins by user stack' | awk '$1 == "dd" { $1 = $2 = $3 = $4 = $5 = $6 = $7 = ""; sub(/^ +/, ""); print }')" = \
  "0x400123 [gwtest-dd+0x400123] <- 0x7f1234560042 [libgwtest.so+0x60042]" ] || fail "user-stack table: $(table '^Pins by user stack')"
[ "$(table '^Outstanding pins at the end' | awk '{ print $1, $2, $3, $4, $5, $6 }')" = "110 fio R/W,longterm 4 1 6.0ms" ] ||
	fail "outstanding table: $(table '^Outstanding pins at the end')"
[ "$(table '^Findings by the two sides' | awk '$1 == "STALE-PIN" { print $2, $3, $4, $5, $6 }')" = "1 medium writer 200/writer 100/dd" ] ||
	fail "findings by side: $(table '^Findings by the two sides')"
echo "ok: call-site, user-stack, hold-time, outstanding and both-sides tables"

# --- --sort and --min-age
order() { "$gw" report -i "$rec" "$@" | awk '/^Pins by process/ { s = 1; getline; next } s && /^$/ { exit } s { printf "%s ", $1 }'; }
[ "$(order)" = "110 100 300 200 " ] || fail "default order (pins, pid): $(order)"
[ "$(order --sort pid)" = "100 110 200 300 " ] || fail "--sort pid: $(order --sort pid)"
[ "$(order --sort pin-seconds)" = "110 100 300 200 " ] || fail "--sort pin-seconds: $(order --sort pin-seconds)"
[ "$(order --sort ro,comm)" = "100 300 110 200 " ] || fail "--sort ro,comm: $(order --sort ro,comm)"
o=$("$gw" report -i "$rec" --min-age 10ms | awk '/^Outstanding pins at the end/ { print; getline; getline; print }')
[ "$o" = "Outstanding pins at the end, oldest first (held at least 10.0ms)
  (none)" ] || fail "--min-age 10ms: $o"
"$gw" report -i "$rec" --min-age 5ms | grep -q '^      110 fio .*6.0ms' || fail "--min-age 5ms hides fio's 6 ms pin"
e=$("$gw" report -i "$rec" --sort bogus 2>&1); [ $? = 64 ] && printf '%s\n' "$e" | grep -q "unknown sort key 'bogus' (keys are column names: pid, comm, .*, pin-seconds, held," ||
	fail "--sort bogus: $e"
e=$("$gw" report -i "$rec" --min-age 5parsecs 2>&1); [ $? = 64 ] && printf '%s\n' "$e" | grep -q "invalid --min-age '5parsecs'" ||
	fail "--min-age 5parsecs: $e"
echo "ok: --sort orders the tables, --min-age filters outstanding pins, bad values are usage errors"

# --- filters
out=$("$gw" report -i "$rec" -p 110 2>&1) || fail "report -p exited $?"
[ "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+\.[0-9]+$/ { print $2 }' | tr '\n' ' ')" = "FORK-COPY HELD-AT-EXIT " ] ||
	fail "-p 110 shows: $out"
out=$("$gw" report -i "$rec" -c dd 2>&1) || fail "report -c exited $?"
[ "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+\.[0-9]+$/ { print $2 }' | tr '\n' ' ')" = "STALE-PIN " ] ||
	fail "-c dd shows: $out"
echo "ok: -p and -c select the findings involving them"

# --- what /proc said of dd and the writer (PROCINFO records): the ledger table and --cgroup
out=$("$gw" report -i "$rec" 2>&1)
ledger=$(printf '%s\n' "$out" | awk '/^Memlock ledger and cgroup/ { s = 1; next } s && /^$/ { s = 0 }
	s && ($1 == 100 || $1 == 200 || $1 == 110) { print $1, $5, $6, $7, $8 }' | sort)
[ "$ledger" = "100 32K 64K - /system.slice/dd.service
110 - - - -
200 0B unlimited - -" ] || fail "ledger table: $ledger"
out=$("$gw" report -i "$rec" --cgroup /system.slice 2>&1) || fail "report --cgroup exited $?"
[ "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+\.[0-9]+$/ { print $2 }' | tr '\n' ' ')" = "STALE-PIN " ] ||
	fail "--cgroup /system.slice shows: $out"
out=$("$gw" report -i "$rec" --cgroup /user.slice 2>&1) || fail "report --cgroup exited $?"
[ -z "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+\.[0-9]+$/')" ] || fail "--cgroup /user.slice shows: $out"
"$writer" --write "$tmp/bare.gw" --no-procinfo 2>/dev/null &&
	out=$("$gw" report -i "$tmp/bare.gw" --cgroup /system.slice 2>&1 >/dev/null) &&
	[ "$out" = "gupwatch: $tmp/bare.gw holds no process info (an older gupwatch recorded it): --cgroup matches no process" ] ||
	fail "--cgroup on a recording without process info: $out"
echo "ok: the ledger table and --cgroup follow the recorded process info"

# --- JSON: every line valid against the schema, in the documented order
"$gw" report -i "$rec" --json >"$tmp/out.json" 2>"$tmp/err" || fail "report --json exited $?: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "report --json wrote to stderr: $(cat "$tmp/err")"
"$gw" report -i "$rec" --json -c dd >"$tmp/dd.json" || fail "report --json -c exited $?"
python3 - "$schema" "$tmp/out.json" "$tmp/dd.json" <<'EOF' || fail "JSON output"
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
val = jsonschema.Draft202012Validator(schema)

def load(path):
    objs = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            sys.exit(f"{path}:{n}: not JSON: {e}: {line!r}")
        errs = sorted(val.iter_errors(o), key=str)
        if errs:
            sys.exit(f"{path}:{n}: does not match the schema: {errs[0].message} in {line!r}")
        objs.append(o)
    types = [o["type"] for o in objs]
    order = {"header": 0, "finding": 1, "process": 2, "callsite": 3, "user_stack": 4, "outstanding": 5,
             "totals": 6, "losses": 7}
    if types[0] != "header" or types.count("header") != 1 or types.count("totals") != 1 \
            or types[-1] != "losses" or [order[t] for t in types] != sorted(order[t] for t in types):
        sys.exit(f"{path}: objects out of order: {types}")
    return objs

objs = load(sys.argv[2])
print(f"ok: {len(objs)} JSON lines match {sys.argv[1]}")
h = objs[0]
assert h["schema_version"] == 1 and h["source"] == "report" and h["file"].endswith("sample.gw"), h
assert h["kernel_release"] == "6.12.0-test-amd64" and h["start_time"] == "2026-01-01T00:00:00Z", h
assert h["foll"]["pin"] == "0x40000" and h["command_pid"] == 4242, h
f = {o["kind"]: o for o in objs if o["type"] == "finding"}
assert sorted(f) == ["FORK-COPY", "HELD-AT-EXIT", "STALE-PIN", "UNSHARE"], f
s = f["STALE-PIN"]
assert (s["pid"], s["comm"], s["address"], s["old_pfn"], s["new_pfn"], s["severity"]) == \
    (200, "writer", "0x7f0000001000", "0x1000", "0x2000", "medium"), s
assert [(p["pid"], p["comm"], p["access"], p["refs"]) for p in s["pinners"]] == [(100, "dd", "ro", 1)], s
# cgroups from the recorded process info: dd's; the writer's has no cgroup v2 path
assert s["pinners"][0]["cgroup"] == "/system.slice/dd.service" and s["cgroup"] is None, s
assert s["wp_flags"] == ["kernel_pinned"] and abs(s["pinners"][0]["held_s"] - 0.001) < 1e-9, s
assert f["UNSHARE"]["comm"] == 'we"ird\\c\u00ff\t', f["UNSHARE"]["comm"]
assert f["HELD-AT-EXIT"]["pinners"][0]["longterm"] is True
procs = {o["pid"]: o for o in objs if o["type"] == "process"}
assert sorted(procs) == [100, 110, 200, 300] and procs[110]["longterm_refs"] == 4, procs
assert procs[100]["get_refs"] == 1 and procs[200]["wp_copies"] == 1, procs
assert procs[100]["proc"] == {"cgroup": "/system.slice/dd.service", "vm_pinned_bytes": 32768,
                              "vm_locked_bytes": 4096, "memlock_limit_bytes": 65536, "ledger": "-"}, procs
assert procs[200]["proc"]["memlock_limit_bytes"] is None and procs[110]["proc"] is None, procs
assert abs(procs[110]["pin_seconds"] - 0.024) < 1e-9 and abs(procs[100]["pin_seconds"] - 0.002) < 1e-9, procs
# stacks of both sides, named as in the text report
assert s["kernel_stack"] == ["do_wp_page+0x4", "0xffffffff80000001"], s
assert s["user_stack"] == ["0x400456 [gwtest-dd+0x400456]"], s
assert s["pinners"][0]["kernel_stack"] == ["try_grab_folio+0x10", "__get_user_pages+0x20",
                                           "process_vm_rw_core.constprop.0+0x8"], s
assert "kernel_stack" not in f["FORK-COPY"], f["FORK-COPY"]
cs = {o["call_site"]: o for o in objs if o["type"] == "callsite"}
c = cs["process_vm_rw_core.constprop.0"]
assert (c["via"], c["pin_refs"], c["ro_refs"], c["released_refs"]) == ("__get_user_pages", 1, 1, 1), c
assert c["hold_us_log2"] == [{"from_us": 1024, "to_us": 2047, "refs": 1}], c
assert cs["(no stack)"]["out_refs"] == 4, cs
us = [o for o in objs if o["type"] == "user_stack" and o["comm"] == "dd"]
assert us and us[0]["user_stack"] == "0x400123 [gwtest-dd+0x400123] <- 0x7f1234560042 [libgwtest.so+0x60042]", us
out = [o for o in objs if o["type"] == "outstanding"]
assert [(o["pid"], o["access"], o["longterm"], o["out_refs"]) for o in out] == [(110, "rw", True, 4)], out
assert abs(out[0]["age_s"] - 0.006) < 1e-9, out
t = [o for o in objs if o["type"] == "totals"][0]
assert (t["pin_refs"], t["unpin_refs"], t["kernel"]["pin_refs"], t["kernel"]["page_copies"]) == (6, 2, 6, 5), t
l = objs[-1]
assert l["stack_drops"] == 3 and l["ringbuf_drops"] == 0, l
print("ok: JSON header, findings, processes, totals and losses carry the recorded numbers")

objs = load(sys.argv[3])
assert objs[0]["filter"] == {"pid": None, "comm": "dd", "cgroup": None}, objs[0]
assert [o["kind"] for o in objs if o["type"] == "finding"] == ["STALE-PIN"], objs
assert sorted(o["pid"] for o in objs if o["type"] == "process") == [100], objs
print("ok: JSON with -c dd: header says the filter, one finding, one process")
EOF
if command -v jq >/dev/null; then
	[ "$(jq -r 'select(.type == "finding" and .kind == "STALE-PIN") | .pinners[0].comm' "$tmp/out.json")" = dd ] ||
		fail "jq cannot read the output"
	echo "ok: jq reads it"
fi

# --- bad files: one line naming the problem and the offset, exit 1
expect_bad() { # description, file, pattern
	local out rc
	out=$("$gw" report -i "$2" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] || fail "$1: exit $rc"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$1: not one line: $out"
	printf '%s\n' "$out" | grep -Eq "$3" || fail "$1: '$out' does not match '$3'"
	echo "ok: $1 -> $out"
}
expect_bad "missing file" "$tmp/nonexistent.gw" "^gupwatch: $tmp/nonexistent.gw: cannot open: No such file or directory$"
size=$(stat -c %s "$rec")
# a recording cut short (kill -9, power cut, full disk): read up to its last checkpoint
# (the sample has one after each 104-byte event record, then the 136-byte trailer),
# one line saying so, no kernel counters
expect_cut() { # description, bytes kept, cut at, events, what, last checkpoint
	local out rc
	head -c "$2" "$rec" >"$tmp/cut.gw"
	out=$("$gw" report -i "$tmp/cut.gw" 2>"$tmp/cut.err"); rc=$?
	[ $rc -eq 0 ] || fail "$1: exit $rc: $(cat "$tmp/cut.err")"
	[ "$(cat "$tmp/cut.err")" = "gupwatch: $tmp/cut.gw: truncated at byte $3 ($5; recording interrupted?): reporting the first $4 events, up to the last checkpoint at byte $6" ] ||
		fail "$1: $(cat "$tmp/cut.err")"
	printf '%s\n' "$out" | grep -q "^# $4 events (cut short: no trailer)" || fail "$1: header: $out"
	printf '%s\n' "$out" | awk '$1 == "pin" && $2 == "refs" { print $4 }' | grep -qx -- - ||
		fail "$1: kernel counters shown for a cut recording"
	echo "ok: $1 -> $(cat "$tmp/cut.err")"
}
t=$((size - 136)) e9=$((size - 136 - 24 - 104))
expect_cut "cut in the trailer" $((size - 100)) $t 9 "a partial trailer record" $t
expect_cut "cut in the last event" $((e9 + 50)) $e9 8 "a partial event record" $e9
expect_cut "cut after a checkpoint" $t $t 9 "no trailer" $t
mkfifo "$tmp/fifo"
out=$(timeout 10 "$gw" report -i "$tmp/fifo" 2>&1); rc=$?
[ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "fifo: not a regular file" || fail "FIFO without a writer: exit $rc: $out"
echo "ok: a FIFO without a writer -> $out"
: >"$tmp/empty.gw"
expect_bad "empty file" "$tmp/empty.gw" "empty file at byte 0"
printf 'not a recording\n' >"$tmp/text.gw"
expect_bad "not a record file" "$tmp/text.gw" "not a gupwatch record file \(bad magic\) at byte 0"
{ printf 'GUPWATCH\002\0\0\0\0\0\0\0'; tail -c +17 "$rec"; } >"$tmp/newer.gw"
expect_bad "newer format" "$tmp/newer.gw" "format version 2 is newer than this gupwatch reads \(1\) at byte 8"
cp "$rec" "$tmp/flip.gw"
printf '\377' | dd of="$tmp/flip.gw" bs=1 seek=700 conv=notrunc status=none
expect_bad "corrupt event" "$tmp/flip.gw" "corrupt file: CRC-32 mismatch at a checkpoint .* at byte [0-9]+ \(file ends at $size\)"
expect_bad "a directory" "$tmp" "not a regular file"

# --- usage errors
"$gw" report -i "$rec" extra >/dev/null 2>&1 && fail "report accepted a stray argument"
"$gw" record -d abc >/dev/null 2>&1 && fail "record accepted -d abc"
"$gw" trace --json -v >/dev/null 2>&1 && fail "trace accepted --json -v"
"$gw" report --help | grep -q Examples || fail "report --help has no examples"
"$gw" record --help | grep -q Examples || fail "record --help has no examples"
echo "ok: usage errors and help texts"

# --- record checks its output before it attaches: a directory is refused at once
out=$(timeout 60 "$gw" record -o "$tmp" -- touch "$tmp/ran" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$out" = "gupwatch: $tmp: is a directory; fix: give -o a file name, e.g. $tmp/gupwatch.data" ] ||
	fail "record -o DIR: exit $rc: $out"
[ ! -e "$tmp/ran" ] || fail "record -o DIR ran the command"
echo "ok: record -o DIR -> $out"

# --- record where nothing can attach: exit 1, no file, command never run
if ! "$gw" check >/dev/null 2>&1; then
	out=$(timeout 60 "$gw" record -o "$tmp/r.gw" -- touch "$tmp/ran" 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "record without attach: exit $rc: $out"
	[ ! -e "$tmp/ran" ] || fail "record ran the command although the tracer never attached"
	ls "$tmp" | grep -q '^r\.gw' && fail "record left a file behind: $(ls "$tmp")"
	echo "ok: record without attach: exit 1, no file, command not run: $out"
fi
exit 0
