#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build gupwatch's out-of-tree test modules (tests/pindrv) for a kernel unpacked by
# kernel.sh, against that exact kernel's Debian headers.
#
#   tests/vm/modules.sh KDIR
#
# Downloads linux-headers-<kver> (same package version as the image in KDIR/version)
# and the linux-headers-*-common / linux-kbuild-* packages it depends on into
# .cache/headers/, unpacks them to .cache/headers/<kver>/ (absolute paths rewritten),
# builds there with the kernel's compiler (gcc-12) and installs KDIR/extra/*.ko;
# mkinitramfs.sh ships those as /gw/modules/*.ko (the tests insmod what they need).
# stdout: the installed .ko paths. Exit 0 ok, 1 error (build log: <kver>/build.log).
set -euo pipefail

kdir=${1:?usage: modules.sh KDIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=$root/.cache/headers
kver=$(basename "$kdir")
debver=$(awk '{ print $2 }' "$kdir/version")
hd=$cache/$kver
mods=(pindrv)

say() { echo "modules.sh: $*" >&2; }
die() { say "$*"; exit 1; }
[ -n "$debver" ] || die "$kdir/version names no package version"
mkdir -p "$cache"
[ -e "$root/.cache/.gitignore" ] || printf '*\n' >"$root/.cache/.gitignore"

# The headers, unpacked once per kernel version.
if [ "$(cat "$hd/.done" 2>/dev/null)" != "$debver" ]; then
    pkg=linux-headers-$kver
    # linux-headers-<kver>-common(-rt) and linux-kbuild-<series>, same source package/version.
    deps=$(apt-cache depends "$pkg=$debver" 2>/dev/null |
        sed -n 's/^ *|\{0,1\}Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p' | sort -u)
    [ -n "$deps" ] || die "apt index has no $pkg=$debver (run 'apt-get update')"
    debs=()
    for p in $pkg $deps; do
        deb=$(printf '%s\n' "$cache/${p}_${debver//:/%3a}_"*.deb | grep -v '\*' | head -n1 || true)
        if [ -z "$deb" ]; then
            say "downloading $p=$debver"
            (cd "$cache" && apt-get -q -o APT::Sandbox::User=root download "$p=$debver" >&2) ||
                die "download of $p=$debver failed"
            deb=$(printf '%s\n' "$cache/${p}_${debver//:/%3a}_"*.deb | grep -v '\*' | head -n1)
        fi
        debs+=("$deb")
    done
    rm -rf "$hd"
    mkdir -p "$hd/x"
    for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$hd/x"; done
    # Absolute symlinks and the flavour Makefile's include point into /usr/src: re-root them.
    find "$hd/x" -type l -lname '/*' | while read -r l; do
        ln -sfn "$hd/x$(readlink "$l")" "$l"
    done
    sed -i "s#^include /usr/src/#include $hd/x/usr/src/#" "$hd/x/usr/src/$pkg/Makefile"
    echo "$debver" >"$hd/.done"
fi
hdrs=$hd/x/usr/src/linux-headers-$kver
[ -f "$hdrs/Makefile" ] || die "no $hdrs/Makefile"

# Build in a copy (one per kernel) so the source tree stays clean; make rebuilds on change.
mkdir -p "$kdir/extra"
: >"$hd/build.log"
for m in "${mods[@]}"; do
    b=$hd/build-$m
    mkdir -p "$b"
    cp -p "$root/tests/$m"/{Kbuild,*.c,*.h} "$b/"
    if ! make -C "$hdrs" M="$b" modules >>"$hd/build.log" 2>&1; then
        tail -n 30 "$hd/build.log" >&2
        die "building tests/$m for $kver failed (log $hd/build.log)"
    fi
    for ko in "$b"/*.ko; do
        cp "$ko" "$kdir/extra/"
        echo "$kdir/extra/${ko##*/}"
    done
done
