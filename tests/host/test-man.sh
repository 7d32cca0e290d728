#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every man page is clean under `groff -man -ww -z`, and every subcommand of
# gupwatch has a page.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
fail() { echo "FAIL: $*"; exit 1; }
for m in man/*.8; do
	out=$(groff -man -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "$m: $out"
	echo "ok: $m is clean"
done
for cmd in $("$gw" --help | awk '/^commands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }'); do
	[ -f "man/gupwatch-$cmd.8" ] || fail "no man page for 'gupwatch $cmd'"
	echo "ok: gupwatch $cmd has man/gupwatch-$cmd.8"
done
