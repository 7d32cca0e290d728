#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch + unpack the newest Debian stock kernel of a series, for guest tests.
#
#   tests/vm/kernel.sh SERIES [FLAVOUR]     SERIES: 6.1 | 6.12   FLAVOUR: cloud (default) | generic | rt ...
#
# stdout: the unpacked directory .cache/kernels/<kver>/ holding
#   vmlinuz, config, modules/<name>.ko (decompressed), modules.order (load order, deps first)
# stderr: the exact version used.  Env: GW_MODULES (module names to ship, default below;
# generic flavour: also soft-RoCE, rdma_rxe).
# Exit 0 on success, 1 on error (no such kernel, apt index empty, offline with nothing cached).
set -euo pipefail

series=${1:?usage: kernel.sh SERIES [FLAVOUR]}
flavour=${2:-cloud}
# Modules the guest needs (dependencies are added automatically, before their users).
# The generic flavour also ships soft-RoCE for test-rdma.sh: rdma_rxe needs crc32_generic
# (a crypto lookup by name, not in its depends=); test-rdma.sh binds rxe to a dummy netdev.
# virtio_net (and 6.1's modular virtio_pci) for run.sh's GW_HOSTFWD network.
defmods="configfs null_blk virtio_pci virtio_net"
[ "$flavour" != generic ] || defmods="$defmods crc32_generic rdma_rxe dummy"
modules=${GW_MODULES:-$defmods}

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=$root/.cache/kernels
mkdir -p "$cache"
[ -e "$root/.cache/.gitignore" ] || printf '*\n' >"$root/.cache/.gitignore"

say() { echo "kernel.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# Debian names: linux-image-6.1.0-56-cloud-amd64, linux-image-6.12.117+deb12-amd64 (generic).
# The version part never contains '-' except the ABI number, so -cloud/-rt don't match "generic".
case $flavour in generic) suffix=amd64 ;; *) suffix=$flavour-amd64 ;; esac
kre="${series//./\\.}\.[0-9][0-9a-z+~.]*(-[0-9]+)?-${suffix}"

# Newest already-unpacked kernel of this series (the offline fallback).
cached() {
    local d
    for d in "$cache"/*/.done; do [ -e "$d" ] && basename "$(dirname "$d")"; done |
        grep -E "^${kre}\$" | sort -V | tail -n1 || true
}

use_cached() {
    local k
    k=$(cached)
    [ -n "$k" ] || return 1
    say "$1; using cached kernel $k"
    echo "$cache/$k"
    exit 0
}

pkg=$(apt-cache search --names-only "^linux-image-${kre}\$" 2>/dev/null | awk '{print $1}' |
    grep -E "^linux-image-${kre}\$" | sort -V | tail -n1 || true)
if [ -z "$pkg" ]; then
    use_cached "apt index lists no linux-image-$series.*-$suffix" || true
    if [ -n "$(apt-cache pkgnames linux-image-6 2>/dev/null)" ]; then
        die "no package linux-image-$series.*-$suffix in the apt index (unknown series or flavour?)"
    fi
    die "the apt index lists no kernels: run 'apt-get update' (or 'make deps')"
fi
kver=${pkg#linux-image-}
dir=$cache/$kver

# Reuse an unpacked tree if it was made with the same module list.
if [ -e "$dir/version" ] && [ -e "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$modules" ]; then
    say "using $(cat "$dir/version") (cached)"
    echo "$dir"
    exit 0
fi

# Newest downloaded .deb of this package, if any.
newest_deb() { printf '%s\n' "$cache/${pkg}"_*.deb | grep -v '\*' | sort -V | tail -n1 || true; }
deb=$(newest_deb)
if [ -z "$deb" ]; then
    say "downloading $pkg"
    # Sandbox user root: the cache dir need not be writable by _apt (no warning).
    if ! (cd "$cache" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >&2); then
        use_cached "download of $pkg failed (offline?)" || die "download of $pkg failed"
    fi
    deb=$(newest_deb)
fi
debver=$(dpkg-deb -f "$deb" Version)
say "using $pkg version $debver"

tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/x"
out=$tmp/out
mkdir -p "$out/modules"
cp "$tmp/x/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$tmp/x/boot/config-$kver" "$out/config"
mdir=$tmp/x/lib/modules/$kver

# Copy one module, decompressed, and remember its path.
fetch_mod() {
    local f
    f=$(find "$mdir" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" | head -n1)
    [ -n "$f" ] || return 1
    case $f in
    *.xz) xz -dc "$f" ;;
    *.zst) zstd -qdc "$f" ;;
    *.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
    esac >"$out/modules/$1.ko"
}

# Depth-first: dependencies (from the .modinfo "depends=" string) go first.
declare -A seen=()
add_mod() {
    local m=$1 d
    m=${m//-/_}
    [ -z "${seen[$m]:-}" ] || return 0
    seen[$m]=1
    if ! fetch_mod "$m"; then
        say "warning: module $m not found in $pkg (built in?), not shipped"
        return 0
    fi
    for d in $(tr '\0' '\n' <"$out/modules/$m.ko" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '); do
        add_mod "$d"
    done
    echo "$m" >>"$out/modules.order"
}
: >"$out/modules.order"
for m in $modules; do add_mod "$m"; done

echo "$pkg $debver" >"$out/version"
echo "$modules" >"$out/.done"
rm -rf "$dir"
mv "$out" "$dir"
say "unpacked $kver -> $dir (modules: $(tr '\n' ' ' <"$dir/modules.order"))"
echo "$dir"
