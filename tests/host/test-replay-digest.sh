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
want=1f23e8600904c05d1b58242a90a976e5c3abe6c30f63005c7ab4acad8ea1faf8
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
|c3f5fb1e140780e8f9dd4565b455abb980b1eda7ef2527c733e76de7198a25f1
--json|81c8ec2d2f63290debc7e6529720a8014ad90519a18bb833d8bf34d327114dca
--max-folios 3000|92e8b2de86d0cfbc7696ce88be135845ccd1c30fed80c9fa544e100e80714aa8
--sort pin-seconds --min-age 1ms|19bc53a4882ab0d6a7a552e873a38c548251c8fa08c515549da2b771ab23592a
-c gdb --no-stacks|8eed70fd165f96a48be79bab905f8bd0e60cba2b2de716ebf36c97d4979852ec
DIGESTS
