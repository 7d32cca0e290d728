#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages gupwatch needs to build, test and boot guest
# kernels. Idempotent: installs only what is missing, does nothing otherwise.
set -euo pipefail

PKGS=(
	clang llvm make gcc pkg-config       # BPF objects and user space
	groff-base                           # man page checks
	python3 python3-jsonschema jq        # JSON output checked against its schema
	libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev
	libdw-dev libbz2-dev liblzma-dev     # user stack symbols (libdwfl); the static link needs libbz2.a, liblzma.a
	qemu-system-x86 busybox-static cpio  # guest kernels
	xz-utils zstd lz4                    # kernel modules and vmlinuz payloads
	gcc-12 pahole                        # test modules (tests/vm/modules.sh: Debian's kbuild)
	libclang-rt-dev valgrind             # make fuzz (libFuzzer, ASan, UBSan); report under valgrind
	systemd                              # systemd-analyze verifies the unit (tests/host/test-unit.sh)
	prometheus curl                      # a real Prometheus scrapes the guests (tests/prometheus-guest.sh); promtool
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# The guest harness resolves kernel versions from the apt index: it must exist.
need_index=0
apt-cache search --names-only '^linux-image-6\.1\..*-cloud-amd64$' 2>/dev/null | grep -q . ||
	need_index=1

[ ${#missing[@]} -eq 0 ] && [ $need_index -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]:-the apt package index}; run 'sudo make deps' (needs root for apt-get)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]:-nothing, refreshing the package index}" >&2
apt-get update -qq
[ ${#missing[@]} -eq 0 ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
