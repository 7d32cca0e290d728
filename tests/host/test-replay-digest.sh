#!/bin/bash
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
want=21928352d26c535ffdc6087a5926a10ae586053419fad20e5be6f5d27ff7b33d
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
|89fcbf7b93c41cf5f8c2f8ba6cf826ae30df05d7e83433a5bc5d122d8227c286
--json|a3252f7e5c05ce41f050d0050516ec515e1075e1e513584454698edba73dbdd0
--max-folios 3000|dd5b23032378cc074de48b37a2dfa0c980fe1cd09b3fc4d7d0b200f0e1de6777
--sort pin-seconds --min-age 1ms|d8dabdf0ca477fe94ecde44943a8cacf6256414f10a43159bc73992f554720fc
-c gdb --no-stacks|68f5462712ba3172e6e145e01247c9c59bf666d950b0c3d56ce772e00c698de0
DIGESTS
