#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gupwatch check on the build host: its verdict must match what this kernel
# really allows (probed here independently), and it must never crash.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
out=$("$gw" check 2>&1); rc=$?
printf '%s\n' "$out"
fail() { echo "FAIL: $*"; exit 1; }

[ $rc -le 1 ] || fail "exit status $rc (crash or usage error)"
verdict=$(printf '%s\n' "$out" | tail -n 1)
case "$verdict" in verdict:*) ;; *) fail "last line is not the verdict: $verdict" ;; esac

if [ ! -e /sys/bus/event_source/devices/kprobe ]; then
	printf '%s\n' "$verdict" | grep -q 'kprobes are not configured' ||
		fail "no kprobe PMU here, but the verdict does not say kprobes are not configured"
fi
if [ $rc -eq 0 ]; then
	printf '%s\n' "$verdict" | grep -q '^verdict: live tracing works' || fail "exit 0 without a positive verdict"
else
	printf '%s\n' "$verdict" | grep -q '^verdict: cannot trace: .*; fix: ' ||
		fail "exit 1 without a cause and a fix"
	# fentry is refused on this kind of host (TESTBED.md): the cause must be named.
	if printf '%s\n' "$out" | grep -q 'EPERM(load)'; then
		printf '%s\n' "$verdict" | grep -q 'fentry/fexit is refused' || fail "EPERM at load not explained"
	fi
fi
echo "ok: exit $rc, $verdict"

# Unprivileged, the cause is the missing privilege, whatever the kernel allows.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$gw" check 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "unprivileged: exit $rc, expected 1"
	printf '%s\n' "$out" | tail -n 1 | grep -q 'fix: run as root' || fail "unprivileged: verdict does not say to run as root"
	echo "ok: unprivileged -> exit 1, fix: run as root"
fi
