#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gupwatch report on a synthetic recording (build/gwgen -n 200000 -s 7: pin
# storms, io_uring, GUP-fast undos, COW of pinned pages, unshares, forks) must
# print exactly what it printed before the engine was optimised: the SHA-256
# of each output below was taken from the engine as it stood then. A change
# of results is a change of these digests, made on purpose
# (GW_DIGEST_PRINT=1 prints the current ones).
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
gen=${GW_GEN:-build/gwgen}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$gen" ] || fail "$gen missing: run 'make $gen'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rec=$tmp/replay.gw
"$gen" -n 200000 -s 7 -o "$rec" || fail "gwgen failed"
# the recording itself: the generator is deterministic
want=70211de15175c7cbeac8767d4ed0c11f9540ef18f4115c27f1bd415e38631db1
got=$(sha256sum <"$rec" | cut -d' ' -f1)
[ -n "${GW_DIGEST_PRINT:-}" ] && echo "recording $got"
[ "$got" = "$want" ] || fail "gwgen wrote other bytes: $got"

# options | SHA-256 of the output (file name replaced by FILE, times in UTC)
while IFS='|' read -r opts want; do
	# shellcheck disable=SC2086 # the options
	out=$(TZ=UTC "$gw" report -i "$rec" $opts 2>&1) || fail "report $opts exited $?"
	got=$(printf '%s\n' "$out" | sed "s|$rec|FILE|g" | sha256sum | cut -d' ' -f1)
	[ -n "${GW_DIGEST_PRINT:-}" ] && { echo "$opts|$got"; continue; }
	[ "$got" = "$want" ] || fail "report $opts: output changed ($got)"
	echo "ok: report $opts: $(printf '%s\n' "$out" | wc -l) lines as before"
done <<'DIGESTS'
|dc8118e2fcdbf06136e99afd436cc31cb1d0f45c3ac6f5937f4867c6185bce78
--json|e9cbeecac501682c07e6e73c36fa48a6449c53f6b4f3f4fa7ea608d461032d22
--max-folios 3000|95a36d3d944973cfd5013a3449f3195802909c829ea1e20dffb54af1aab275c5
--sort pin-seconds --min-age 1ms|2e01e6948a86a5bb01a7f645cf9be06cf2a85f64ee8fb4f8cda5d8f4026d23aa
-c gdb --no-stacks|5dba20da06afb84229d80fc16789a77e0679c8800dd7a9e0c26cf5fe531173e0
DIGESTS
