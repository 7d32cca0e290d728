#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest initramfs (gzip'd newc cpio, everything owned by root):
#   /bin/busybox + applet symlinks, /init (tests/vm/init), /lib/modules/*.ko + modules.order
#   from KDIR (made by kernel.sh), /gw/bin/ <- build/static/* (top-level files, no *.h),
#   /gw/tests/ <- tests/guest/*, /gw/modules/ <- KDIR/extra/*.ko (test modules, modules.sh),
#   /gw/gupwatch.service <- systemd/gupwatch.service.in
#
#   tests/vm/mkinitramfs.sh KDIR OUT
# Env: GW_STATIC_DIR (default build/static), GW_GUEST_DIR (default tests/guest),
#      BUSYBOX (default: the busybox-static binary on PATH),
#      GW_EXTRA_ROOT (a directory copied over the root last, e.g. rdmaroot.sh's). Exit 0 ok, 1 error.
set -euo pipefail

kdir=${1:?usage: mkinitramfs.sh KDIR OUT}
out=${2:?usage: mkinitramfs.sh KDIR OUT}
root=$(cd "$(dirname "$0")/../.." && pwd)
static=${GW_STATIC_DIR:-$root/build/static}
guest=${GW_GUEST_DIR:-$root/tests/guest}
busybox=${BUSYBOX:-$(command -v busybox || true)}

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }
[ -x "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
# A dynamic busybox would not run in an initramfs without libc.
if command -v file >/dev/null && file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
    die "$busybox is dynamically linked: install busybox-static"
fi
[ -f "$kdir/modules.order" ] || die "$kdir is not a kernel.sh directory"

mkdir -p "$root/.cache/vm"
st=$(mktemp -d "$root/.cache/vm/.initramfs.XXXXXX")
trap 'rm -rf "$st"' EXIT

mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,lib/modules,gw/bin,gw/tests}
cp "$busybox" "$st/bin/busybox"
# Applet symlinks now, so /init's first line already has a complete /bin.
for a in $("$busybox" --list-full); do
    [ -e "$st/$a" ] || ln -s /bin/busybox "$st/$a"
done
install -m 0755 "$root/tests/vm/init" "$st/init"
cp "$kdir/modules.order" "$st/lib/modules/"
while read -r m; do cp "$kdir/modules/$m.ko" "$st/lib/modules/"; done <"$kdir/modules.order"
# Out-of-tree test modules (modules.sh), loaded by the tests that need them.
for f in "$kdir"/extra/*.ko; do
    [ -f "$f" ] && mkdir -p "$st/gw/modules" && cp "$f" "$st/gw/modules/"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$st/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$st/etc/group"

# Whatever the Makefile built / the test authors wrote (either may be absent or empty).
# build/static also holds obj/ and skeleton headers: ship its top-level files but headers.
for f in "$static"/*; do
    [ -f "$f" ] && [ "${f%.h}" = "$f" ] && cp -a "$f" "$st/gw/bin/"
done
[ -d "$guest" ] && cp -a "$guest/." "$st/gw/tests/"
# The systemd unit: test-daemon runs gupwatch with exactly its capabilities.
cp "$root/systemd/gupwatch.service.in" "$st/gw/gupwatch.service"
# An extra tree (its files replace busybox applet links of the same name, never busybox).
if [ -n "${GW_EXTRA_ROOT:-}" ]; then
    [ -d "$GW_EXTRA_ROOT" ] || die "GW_EXTRA_ROOT $GW_EXTRA_ROOT is not a directory"
    cp -a --remove-destination "$GW_EXTRA_ROOT/." "$st/"
    rm -f "$st/.done"
fi

mkdir -p "$(dirname "$out")"
(cd "$st" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc --owner root:root --quiet) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
