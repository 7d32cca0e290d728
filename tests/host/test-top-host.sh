#!/bin/bash
# On a host that cannot attach to kernel functions, `gupwatch top` fails like
# `gupwatch trace`: one line with the cause and the fix, exit 1, nothing on
# stdout, nothing left attached.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
fail() { echo "FAIL: $*"; exit 1; }
progs() { bpftool prog show 2>/dev/null | grep -c '^[0-9]*:'; }

if "$gw" check >/dev/null 2>&1; then
	echo "this host can trace: the cannot-attach path is tested in no guest; skipping"
	exit 0
fi

before=$(progs)
err=$(mktemp)
trap 'rm -f "$err"' EXIT
out=$(timeout 60 "$gw" top -d 1 -n 2 2>"$err"); rc=$?
[ $rc -ne 124 ] || fail "gupwatch top hung"
[ $rc -eq 1 ] || fail "exit $rc, expected 1: $(cat "$err")"
[ -z "$out" ] || fail "output on stdout: $out"
[ "$(wc -l <"$err")" -eq 1 ] || fail "expected a one-line error, got: $(cat "$err")"
grep -Eq '^gupwatch: cannot hook [a-z_]+: .*gupwatch check' "$err" || fail "no cause/fix: $(cat "$err")"
[ "$(progs)" -eq "$before" ] || fail "BPF programs left loaded after the failure"
echo "ok: top refuses with: $(cat "$err")"
