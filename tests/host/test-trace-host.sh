#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# On a host that cannot attach to kernel functions (fentry refused, no
# kprobes), `gupwatch` and `gupwatch top` must fail fast with the cause, leave nothing attached,
# and the kernel's verifier must still accept every program it can load.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
fail() { echo "FAIL: $*"; exit 1; }
progs() { bpftool prog show 2>/dev/null | grep -c '^[0-9]*:'; }

# one line naming the cause and the fix, on any host: no privileges, no BTF
one_line() { # description, expected line, command...
	local what=$1 want=$2 out rc; shift 2
	out=$(timeout 60 "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] && [ "$out" = "$want" ] || fail "$what: exit $rc: $out"
	echo "ok: $what -> $out"
}
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	bin=$(mktemp -d)
	cp "$gw" "$bin/gupwatch" && chmod 755 "$bin" "$bin/gupwatch"
	for cmd in trace top; do
		one_line "$cmd as nobody" "gupwatch: the kernel refused gupwatch's BPF programs (EPERM at load): tracing needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); fix: run it as root, e.g. sudo gupwatch" \
			setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/gupwatch" $cmd
	done
	rm -rf "$bin"
fi

# blockers attaches nothing: on any host it reads the range (exit 0) or names why it
# cannot in one line (exit 1: no vmemmap_base in kallsyms), and leaves no program loaded
before=$(progs)
out=$(timeout 120 "$gw" blockers --node 0 2>&1); rc=$?
case $rc in
0) printf '%s\n' "$out" | grep -q '^gupwatch blockers: node 0: [0-9]* struct pages read' ||
	fail "blockers exit 0 without its header: $out" ;;
1) [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && printf '%s\n' "$out" | grep -q '^gupwatch: .*; blockers needs it$\|fix:' ||
	fail "blockers exit 1 without a one-line cause: $out" ;;
*) fail "blockers exit $rc: $out" ;;
esac
[ "$(progs)" = "$before" ] || fail "blockers left BPF programs loaded"
echo "ok: blockers on this host: exit $rc: $(printf '%s\n' "$out" | head -1)"

if unshare -m true 2>/dev/null; then
	nobtf="gupwatch: the kernel has no BTF (/sys/kernel/btf/vmlinux: No such file or directory); fix: a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's are)"
	one_line "trace without BTF" "$nobtf" unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec $gw trace -d 1"
	out=$(unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec $gw check" 2>&1)
	printf '%s\n' "$out" | grep -q '^libbpf' && fail "check without BTF passes libbpf's messages: $out"
	printf '%s\n' "$out" | grep -q '^btf *NO: /sys/kernel/btf/vmlinux is missing' || fail "check without BTF: $out"
	echo "ok: check without BTF says so, without libbpf's messages"
fi

if "$gw" check >/dev/null 2>&1; then
	echo "this host can trace: the cannot-attach path is tested in no guest; skipping"
	exit 0
fi

before=$(progs)
err=$(mktemp)
trap 'rm -f "$err"' EXIT
# trace and top alike: one line on stderr with the cause and the fix, nothing
# on stdout, exit 1, nothing left loaded
for cmd in "trace -d 1" "top -d 1 -n 2"; do
	# shellcheck disable=SC2086 # the command and its options
	out=$(timeout 60 "$gw" $cmd 2>"$err"); rc=$?
	[ $rc -ne 124 ] || fail "gupwatch $cmd hung"
	[ $rc -eq 1 ] || fail "$cmd: exit $rc, expected 1: $(cat "$err")"
	[ -z "$out" ] || fail "$cmd: output on stdout: $out"
	[ "$(wc -l <"$err")" -eq 1 ] || fail "$cmd: expected a one-line error, got: $(cat "$err")"
	grep -Eq '^gupwatch: cannot hook [a-z_]+: .*gupwatch check' "$err" || fail "$cmd: no cause/fix: $(cat "$err")"
	[ "$(progs)" -eq "$before" ] || fail "$cmd: BPF programs left loaded after the failure"
	echo "ok: $cmd refuses with: $(cat "$err")"
done

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
