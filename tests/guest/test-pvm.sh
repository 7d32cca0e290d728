#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (b) process_vm_readv / process_vm_writev of 4 pages of a child process:
# short-term pins of the remote pages (readv: R/O, writev: FOLL_WRITE), held
# while the copy is stuck on our userfaultfd-missing local buffer.
# Same on 6.1 and 6.12 (doc/kernel.md, "Which interfaces pin").
. /gw/tests/lib.sh

for w in pvm-read pvm-write; do
	gw_run $w --pages 4 --hold-ms 300
	gw_pins hold 4 0	# remote pages pinned while the local copy blocks
	gw_pins after 4 4
	gw_expect phase after faults 1	# the copy really blocked on userfaultfd
	gw_expect phase after data_ok 4	# and then copied every page
done
gw_done
