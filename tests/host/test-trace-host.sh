#!/bin/bash
# On a host that cannot attach to kernel functions (fentry refused, no
# kprobes), `gupwatch` must fail fast with the cause, leave nothing attached,
# and the kernel's verifier must still accept every program it can load.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
fail() { echo "FAIL: $*"; exit 1; }
progs() { bpftool prog show 2>/dev/null | grep -c '^[0-9]*:'; }

if "$gw" check >/dev/null 2>&1; then
	echo "this host can trace: the cannot-attach path is tested in no guest; skipping"
	exit 0
fi

before=$(progs)
out=$(timeout 60 "$gw" -d 1 2>&1); rc=$?
[ $rc -ne 124 ] || fail "gupwatch hung"
[ $rc -eq 1 ] || fail "exit $rc, expected 1: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "expected a one-line error, got: $out"
printf '%s\n' "$out" | grep -Eq '^gupwatch: cannot hook [a-z_]+: .*gupwatch check' || fail "no cause/fix: $out"
[ "$(progs)" -eq "$before" ] || fail "BPF programs left loaded after the failure"
echo "ok: trace refuses with: $out"

# kprobe programs load here (the PMU is needed only to attach): the host's
# verifier checks every variant that fits this kernel's BTF.
out=$("$gw" trace --attach=kprobe --load-only 2>&1) || fail "kprobe programs rejected: $out"
echo "ok: $out"
[ "$(progs)" -eq "$before" ] || fail "BPF programs left loaded after --load-only"

# fentry programs are refused at load on this kind of host: say so, fail.
if ! out=$("$gw" trace --attach=fentry --load-only 2>&1); then
	printf '%s\n' "$out" | grep -q 'EPERM' || fail "fentry refusal without its cause: $out"
	echo "ok: fentry refused: $out"
fi
[ "$(progs)" -eq "$before" ] || fail "BPF programs left loaded after the fentry refusal"
