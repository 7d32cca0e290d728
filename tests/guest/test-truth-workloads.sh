#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Ground truth of the STALE-PIN scenarios (tests/workloads/wl_truth.c), from
# the kernel alone: "a write copy replaced a page that has an outstanding R/O
# pin taken through the writer's own mm at the same address".
#   cross-mm:     pin via S's MAP_SHARED mapping, T COWs its MAP_PRIVATE one:
#                 T's old page == S's page == the pinned page, nothing stale.
#   thp-file:     pin one subpage of a PMD-mapped tmpfs THP (MAP_PRIVATE) in T,
#                 T writes a subpage: the PMD is zapped and that subpage copied.
#                 Neighbour subpage: not stale (T maps the pinned page again);
#                 the pinned subpage itself: stale.
#   shared-cow:   1100 children share the pages, the parent COWs them: no pins.
#   unshare-held: a R/O pin unshares child 1's pages, and while it is held a
#                 second R/O pin unshares child 2's: two copies, nothing stale.
# Same on 6.1 and 6.12.
. /gw/tests/lib.sh

n=4

echo "--- cross-mm"
gw_run cross-mm --file /tmp/gw-cross-mm.dat --pages $n --hold-ms 100
gw_pins mapped 0 0
gw_expect phase mapped shared_file $n
gw_expect phase mapped private_file $n	# T maps the page cache pages R/O
gw_expect phase mapped same_pfn $n	# T's PFN == S's PFN
gw_pins hold $n 0
gw_expect phase hold pinned_private_old $n	# the pinned page is T's page too
gw_pins written $n 0	# pin still outstanding after T's write
gw_expect phase written private_changed $n	# T COWed ...
gw_expect phase written private_file 0	# ... to anon copies
gw_expect phase written shared_same $n	# S still maps the pinned page
gw_pins after $n $n
gw_expect phase after faults 1
gw_expect phase after pinner_old $n
gw_expect phase after pinner_coherent $n	# we got what S sees
gw_expect phase after stale 0
gw_expect phase after shared_old $n
gw_expect phase after private_new $n

echo "--- thp-file"
huge=/tmp/gw-huge
mkdir -p $huge
mount -t tmpfs -o huge=always,size=16m none $huge || { echo "FAIL: mount tmpfs huge=always"; exit 1; }
for kj in 0:1 1:1; do
	k=${kj%:*} j=${kj#*:}
	echo "--- thp-file pin page $k, write page $j"
	gw_run thp-file --file $huge/thp.dat --pin-page "$k" --write-page "$j" --hold-ms 100
	gw_pins mapped 0 0
	gw_expect phase mapped huge 512	# one 2 MiB folio in the page cache
	gw_expect phase mapped shmem_pmd_mapped_kb 2048	# T maps it with one PMD
	gw_expect phase mapped was_pmd_mapped 1
	gw_pins hold 1 0
	gw_pins written 1 0	# pin outstanding during T's write
	gw_expect phase written shmem_pmd_mapped_kb 0	# the write zapped the PMD
	gw_expect phase written write_changed 1	# page J copied (do_cow_fault)
	gw_pins after 1 1
	gw_expect phase after faults 1
	gw_expect phase after pinner_old 1
	if [ "$k" = "$j" ]; then
		gw_expect phase after pin_page_same 0	# T's page K is the copy now
		gw_expect phase after target_new 1
		gw_expect phase after stale 1
	else
		gw_expect phase after pin_page_same 1	# T maps the pinned subpage again
		gw_expect phase after pin_page_huge 1	# a subpage of the THP, PTE-mapped
		gw_expect phase after target_new 0
		gw_expect phase after stale 0
	fi
done
umount $huge

echo "--- shared-cow"
gw_run shared-cow --pages $n --children 1100
gw_expect phase forked children 1100
gw_expect phase forked first_child_same $n	# all share the parent's pages
gw_expect phase forked last_child_same $n
gw_pins written 0 0	# COW without any pin
gw_expect phase written parent_changed $n
gw_expect phase written parent_new $n
gw_expect phase written first_child_same $n
gw_expect phase written last_child_same $n
gw_expect phase written child_old $n
gw_pins after 0 0
gw_expect phase after reaped 1100

echo "--- unshare-held"
gw_run unshare-held --pages $n --hold-ms 100
gw_pins forked 0 0
gw_expect phase forked child1_same $n	# 3-way shared
gw_expect phase forked child2_same $n
gw_pins hold1 $n 0
gw_expect phase hold1 child1_changed $n	# unshared by the first pin
gw_expect phase hold1 child2_changed 0
gw_pins hold2 $((2 * n)) 0	# both pins outstanding
gw_expect phase hold2 child1_changed $n
gw_expect phase hold2 child2_changed $n	# unshared by the second pin
gw_expect phase hold2 parent_same $n
gw_pins after $((2 * n)) $((2 * n))
gw_expect phase after faults1 1
gw_expect phase after faults2 1
gw_expect phase after data_ok1 $n
gw_expect phase after data_ok2 $n
gw_expect phase after stale 0
gw_done
