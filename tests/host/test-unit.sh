#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install's systemd unit passes `systemd-analyze verify` (its ExecStart
# binary and its man page where make install put them) and stays at an
# exposure of at most 3.0 ("OK") in `systemd-analyze security`. Whether its
# capability set is enough to trace is test-daemon's part, in the guests.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
command -v systemd-analyze >/dev/null || fail "no systemd-analyze (make deps installs systemd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# PREFIX inside the temporary tree, so ExecStart= names a file that exists
make -s install PREFIX="$tmp/usr" >"$tmp/install.out" 2>&1 || fail "make install: $(cat "$tmp/install.out")"
unit=$tmp/usr/lib/systemd/system/gupwatch.service
[ -f "$unit" ] || fail "make install put no unit at $unit"
grep -q "^ExecStart=$tmp/usr/sbin/gupwatch daemon " "$unit" || fail "ExecStart= is not the installed binary: $(grep ^ExecStart= "$unit")"
out=$(MANPATH=$tmp/usr/share/man systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
echo "ok: systemd-analyze verify is clean"
level=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for gupwatch.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || fail "systemd-analyze security gave no exposure level"
awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }' || fail "exposure level $level > 3.0"
echo "ok: exposure level $level"
