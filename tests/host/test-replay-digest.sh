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
|95684fb2aa9219e9626ff434ca06338a8bdc8a725c135b5a01cf677cb3b95f0d
--json|65f63f250b65fedf3fd75f7d8988331b9bf4fd127f9a2f5d6659b8128f0774a8
--max-folios 3000|d46fd9775e3ee53fa80ef32f5f37488c713e5aa7d951ee79c3d0f317c057e323
--sort pin-seconds --min-age 1ms|18c69c889e0c43c07e6c8eeb9b315919076ad8339c839d0f45256cfc9dda550a
-c gdb --no-stacks|81d74b4d1afe65ab191c518ed56323341fe4fd38757e5108f3ada17b8ad269ad
DIGESTS
