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
|a0aca065e34a1c62fa8bc306bb395e449429ba456ebdf3f452aa1361d86af303
--json|a3252f7e5c05ce41f050d0050516ec515e1075e1e513584454698edba73dbdd0
--max-folios 3000|21b2a773d045d1c0a52d960df10b9b6c83fff7512fd2de4d3d0e978f0909e505
--sort pin-seconds --min-age 1ms|ace8e357285e6398b6fa6812ade2614b826479a54162aea31d1c328f11f1e662
-c gdb --no-stacks|fe74e2f0edcc525f8f696a5a3119f41fd249cc152ac646e73ed8e96a32b48abf
DIGESTS
