#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print a vmlinux.h generated from the BTF of a Debian cloud kernel (default
# series 6.12), so building gupwatch never needs BTF on the build machine.
set -euo pipefail
series=${1:-6.12}
top=$(cd "$(dirname "$0")/.." && pwd)
kdir=$("$top/tests/vm/kernel.sh" "$series")
vmlinuz=$(ls "$kdir"/vmlinuz*)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bzImage carries a compressed ELF payload; try each format's magic until one
# decompresses to an ELF file (what scripts/extract-vmlinux does in the kernel tree).
try() { # magic-as-printf-escapes decompressor
	local off
	for off in $(LC_ALL=C grep -obUaP "$1" "$vmlinuz" | cut -d: -f1 | head -3); do
		tail -c +$((off + 1)) "$vmlinuz" | $2 > "$tmp/vmlinux" 2>/dev/null || true
		if [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			return 0
		fi
	done
	return 1
}
try '\x28\xb5\x2f\xfd' 'zstd -dc' || try '\x02\x21\x4c\x18' 'lz4 -dc' ||
	try '\xfd\x37\x7a\x58\x5a\x00' 'xz -dc' || try '\x1f\x8b\x08' 'gzip -dc' || {
	echo "gen-vmlinux-h: no known compressed ELF payload in $vmlinuz" >&2
	exit 1
}
bpftool btf dump file "$tmp/vmlinux" format c
