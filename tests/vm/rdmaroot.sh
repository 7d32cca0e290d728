#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the rdma-core userland for guests (Debian's ibverbs-utils, libibverbs1 with
# the rxe provider, iproute2's rdma tool) as an extra root tree for mkinitramfs.sh
# (GW_EXTRA_ROOT): the binaries, every shared library they load (ldd), the dynamic
# loader, librxe-rdmav*.so and /etc/libibverbs.d/rxe.driver.
#
#   tests/vm/rdmaroot.sh        prints the tree's directory (.cache/rdma/root)
#
# Also mrprobe (tests/vm/rdma/mrprobe.c, ibv_reg_mr cases for test-rdma.sh), built
# against libibverbs-dev's headers. The .debs are fetched with apt-get download into .cache/rdma/debs (git-ignored);
# offline, a tree already built is reused. Exit 0 ok, 1 error.
set -euo pipefail

# shellcheck source=tests/vm/debroot.sh
. "$(dirname "$0")/debroot.sh"
debroot_init rdma
out=$cache/root
pkgs="ibverbs-utils libibverbs1 ibverbs-providers libnl-3-200 libnl-route-3-200 iproute2 libibverbs-dev"
bins="usr/bin/ibv_rc_pingpong usr/bin/ibv_devinfo usr/bin/ibv_devices usr/bin/rdma"

if [ -e "$out/.done" ] && [ "$out/.done" -nt "$root/tests/vm/rdma/mrprobe.c" ]; then
    echo "$out"
    exit 0
fi
# shellcheck disable=SC2086
debroot_download $pkgs
tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for d in "$cache"/debs/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
x=$tmp/x
r=$tmp/root
mkdir -p "$r/usr/bin" "$r/lib64" "$r/lib/x86_64-linux-gnu" "$r/etc/libibverbs.d"
libdirs="$x/lib/x86_64-linux-gnu:$x/usr/lib/x86_64-linux-gnu"
objs=""
for b in $bins; do
    [ -f "$x/$b" ] || { say "no $b in the packages"; exit 1; }
    cp "$x/$b" "$r/usr/bin/"
    objs="$objs $x/$b"
done
prov=$(find "$x/usr/lib/x86_64-linux-gnu/libibverbs" -name 'librxe-rdmav*.so' | head -n1)
[ -n "$prov" ] || { say "no librxe provider in ibverbs-providers"; exit 1; }
mkdir -p "$r/usr/lib/x86_64-linux-gnu/libibverbs"
cp "$prov" "$r/usr/lib/x86_64-linux-gnu/libibverbs/"
cp "$x/etc/libibverbs.d/rxe.driver" "$r/etc/libibverbs.d/"
objs="$objs $prov"
# Shared libraries: from the unpacked packages first, the rest (libc, libmnl, ...) from the host.
# shellcheck disable=SC2086
debroot_libs "$r/lib/x86_64-linux-gnu" "$libdirs" $objs
cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
${CC:-gcc} -O1 -Wall -o "$r/usr/bin/mrprobe" "$root/tests/vm/rdma/mrprobe.c" -I"$x/usr/include" \
    -L"$r/lib/x86_64-linux-gnu" -l:libibverbs.so.1 -Wl,--allow-shlib-undefined
touch "$r/.done"
rm -rf "$out"
mv "$r" "$out"
say "rdma userland in $out"
echo "$out"
