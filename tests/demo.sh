#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: show gupwatch on a kernel that lets it attach. Here if this
# machine can trace, otherwise in a Debian guest kernel under QEMU
# (DEMO_KERNELS, default 6.12; e.g. DEMO_KERNELS="6.1 6.12").
set -euo pipefail
cd "$(dirname "$0")/.."

if verdict=$(./gupwatch check 2>&1 | tail -n 1) && [[ $verdict == "verdict: live tracing works"* ]]; then
	echo "== this kernel ($(uname -r)) can be traced: demo on the host"
	PATH=$PWD:$PWD/build:$PATH tests/guest/demo.sh
else
	echo "== this kernel ($(uname -r)) cannot be traced by gupwatch:"
	echo "   ${verdict#verdict: }"
	echo "== so the demo boots Debian's own kernels in QEMU (TCG, about a minute each)"
	tests/vm/run.sh --kernels "${DEMO_KERNELS:-6.12}" --run demo.sh
fi
