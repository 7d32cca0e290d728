#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (i) THP and hugetlb (2 MiB) variants of iouring-reg (a), cow-fork (d) and
# pin-fork (e).  One 2 MiB folio = 512 pages; the pin counters count refs, one
# per 4 KiB page handed to the pinner.
#
# io_uring registration, measured:
#   6.1:  512 acquired, nothing released until UNREGISTER (one pin per page;
#         6.1 io_sqe_buffer_register keeps a page array without coalescing).
#   6.12: 512 acquired and 511 released *during* REGISTER: io_check_coalesce_buffer
#         sees that all 512 pages belong to one folio, io_coalesce_buffer unpins
#         pages 1..511 and keeps a single pin on the folio (one bvec).
#         UNREGISTER then releases that last ref.
# pin-fork: fork copies all 512 pages for the child on both kernels - also on
#   6.12, where one pin is left: folio_maybe_dma_pinned() is per folio and
#   every subpage is PageAnonExclusive (THP: copy_huge_pmd splits the PMD and
#   copies per PTE, so the child gets 512 small pages; hugetlb:
#   copy_hugetlb_page_range copies the huge page).
#   The parent's write reuses its pinned pages (no PFN change).
# cow-fork: without pins fork shares the folio; the parent's writes copy every
#   page (THP: PMD split, then 512 4 KiB COWs; hugetlb: one 2 MiB copy).
. /gw/tests/lib.sh

case $(gw_series) in
6.1) rel=0 ;;
*) rel=511 ;;
esac
hugetlb_reserve 4	# pin-fork and cow-fork need 2 (parent's + copy)

for m in thp hugetlb; do
	echo "--- $m"
	# copies made by fork / COW: THP ones are 4 KiB pages, hugetlb ones a huge page
	case $m in
	thp) copy_huge=0 ;;
	hugetlb) copy_huge=512 ;;
	esac
	gw_run iouring-reg --mem $m --hold-ms 200
	gw_expect workload iouring-reg huge 512	# really a 2 MiB folio
	gw_pins registered 512 $rel
	gw_pins hold 512 $rel
	gw_pins after 512 512

	gw_run pin-fork --mem $m --hold-ms 100
	gw_expect workload pin-fork huge 512
	gw_pins hold 512 $rel
	gw_pins forked 512 $rel
	gw_expect phase forked child_differs 512
	gw_expect phase forked parent_same 512
	gw_expect phase forked child_huge $copy_huge
	gw_pins written 512 $rel
	gw_expect phase written parent_same 512
	gw_pins after 512 512
	gw_expect phase after child_old 512

	gw_run cow-fork --mem $m --hold-ms 0
	gw_expect workload cow-fork huge 512
	gw_pins forked 0 0
	gw_expect phase forked child_same 512
	gw_pins written 0 0
	gw_expect phase written parent_changed 512
	gw_expect phase written parent_huge $copy_huge
	gw_pins after 0 0
	gw_expect phase after child_old 512
done
gw_done
