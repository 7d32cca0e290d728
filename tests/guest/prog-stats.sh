#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench-progs: what each BPF program costs per run (doc/kernel.md, "What
# a hook costs"). One gupwatch trace --prog-stats session ($GWARGS: its attach
# mode) over a COW storm by a process that never pinned and a pin storm,
# stopped with SIGINT; under -icount a ns is one emulated instruction. One
# session per boot: 6.1 under -icount has run a boot's second session with
# silent hooks (doc/kernel.md).
gupwatch trace --prog-stats ${GWARGS:-} >/tmp/o 2>/tmp/e &
gw=$!
until grep -qs '^gupwatch: tracing' /tmp/e; do sleep 0.1; done
gwload cow-fork --pages 4096 >/dev/null
gwload pvm-read --pages 1024 --no-hold --repeat 64 >/dev/null
kill -INT $gw
wait $gw
echo "### $(uname -r) gupwatch trace --prog-stats ${GWARGS:-}"
sed -n '/BPF program runs/,$p' /tmp/e
grep -E "^  (pin|unpin) refs " /tmp/o
