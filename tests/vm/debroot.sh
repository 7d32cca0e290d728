# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by rdmaroot.sh and bpftraceroot.sh: trees of Debian userland for the
# guests, from packages fetched with apt-get download (never installed).
#   debroot_init NAME        sets root (the checkout), cache (.cache/NAME), creates cache/debs
#   debroot_download PKGS    apt-get download into $cache/debs; exits 1 when that fails
#   debroot_libs DEST LIBDIRS OBJ...
#                            copies every shared library the OBJs load into DEST: ldd with
#                            LIBDIRS (the unpacked packages) first, the host's for the rest
say() { echo "${0##*/}: $*" >&2; }

debroot_init() {
    root=$(cd "$(dirname "$0")/../.." && pwd)
    cache=$root/.cache/$1
    mkdir -p "$cache/debs"
    [ -e "$root/.cache/.gitignore" ] || printf '*\n' >"$root/.cache/.gitignore"
}

debroot_download() {
    if ! (cd "$cache/debs" && apt-get -q -o APT::Sandbox::User=root download "$@" >&2); then
        say "apt-get download failed (offline? run 'apt-get update')"
        exit 1
    fi
}

debroot_libs() {
    local dest=$1 libdirs=$2 o
    shift 2
    for o in "$@"; do
        LD_LIBRARY_PATH=$libdirs ldd "$o" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
    done | sort -u | while read -r l; do
        cp -L "$l" "$dest/${l##*/}"
    done
}
