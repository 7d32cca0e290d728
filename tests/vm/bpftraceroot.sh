#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Debian bookworm's bpftrace (0.17) as an ext4 disk image for guests (make bench
# runs it next to gupwatch): the binary, every shared library it loads (ldd:
# the packages' libraries first, the host's for the rest, e.g. libc, libz3,
# libicu) and the dynamic loader, in /usr/bin, /lib/x86_64-linux-gnu and /lib64.
#
#   tests/vm/bpftraceroot.sh    prints the image's path (.cache/bpftrace/bpftrace.img)
#
# Attach it with GW_DISK=IMG tests/vm/run.sh (an NVMe disk, /dev/nvme0n1 in the
# guest); run it there with
#   mount -o ro /dev/nvme0n1 /bt
#   /bt/lib64/ld-linux-x86-64.so.2 --library-path /bt/lib/x86_64-linux-gnu /bt/usr/bin/bpftrace ...
# The .debs are fetched with apt-get download into .cache/bpftrace/debs (git-ignored);
# offline, an image already built is reused. Exit 0 ok, 1 error.
set -euo pipefail

# shellcheck source=tests/vm/debroot.sh
. "$(dirname "$0")/debroot.sh"
debroot_init bpftrace
img=$cache/bpftrace.img
pkgs="bpftrace libbpf1 libbpfcc libclang1-14 libllvm14 libdw1"

if [ -e "$img" ] && [ "$img" -nt "$0" ] && [ "$img" -nt "$(dirname "$0")/debroot.sh" ]; then
    echo "$img"
    exit 0
fi
# shellcheck disable=SC2086
debroot_download $pkgs
tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for p in $pkgs; do
    d=$(find "$cache/debs" -name "${p}_*.deb" | sort -V | tail -n1)
    [ -n "$d" ] || { say "no .deb of $p"; exit 1; }
    dpkg-deb -x "$d" "$tmp/x"
done
x=$tmp/x
r=$tmp/root
mkdir -p "$r/usr/bin" "$r/lib64" "$r/lib/x86_64-linux-gnu"
cp "$x/usr/bin/bpftrace" "$r/usr/bin/"
debroot_libs "$r/lib/x86_64-linux-gnu" "$x/lib/x86_64-linux-gnu:$x/usr/lib/x86_64-linux-gnu" "$x/usr/bin/bpftrace"
if LD_LIBRARY_PATH=$r/lib/x86_64-linux-gnu ldd "$r/usr/bin/bpftrace" | grep -q 'not found'; then
    say "libraries missing:"
    LD_LIBRARY_PATH=$r/lib/x86_64-linux-gnu ldd "$r/usr/bin/bpftrace" | grep 'not found' >&2
    exit 1
fi
cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
size=$(du -sm "$r" | cut -f1)
rm -f "$tmp/img"
mke2fs -q -t ext4 -L bpftrace -d "$r" "$tmp/img" "$((size + size / 4 + 16))M" >&2
mv "$tmp/img" "$img"
say "bpftrace image $img (${size} MiB of files)"
echo "$img"
