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
want=a799473235e16beccb14a14224eba5d4397029a6f8773013b61e13683fd75d95
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
|aa9fe70c74b681d0f79ace12554d79c6887074724002823ae085c6d40bcd41e6
--json|987d8397836e270c5e30ab510bfbbf25cb60fbf0aac7734b1d86fff04d30545f
--max-folios 3000|247a1343f9f2cb1787b0165fa99fee18446e83a6809ce7e9044f06278cd433df
--sort pin-seconds --min-age 1ms|6eacb18021fb86b2fb0bd92210857ef6f99d409f1defbce6c58f8a085024afce
-c gdb --no-stacks|7b09d72451707d465eef9136201c46409f488d1dc2aefdafb6ea0bf6c0fda0cc
DIGESTS
