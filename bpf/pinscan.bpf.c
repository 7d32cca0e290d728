// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch blockers: the kernel's own pin state of every page in a PFN range,
 * read through vmemmap. Nothing is attached: user space runs the program
 * with BPF_PROG_TEST_RUN (raw tracepoint programs allow it since 5.10), one
 * run per PINSCAN_RUN_PAGES pages, so it finds pins taken before gupwatch
 * started and works where hooking kernel functions is not allowed.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "gupwatch.h"
#include "pinscan.h"
#include "core_fixes.bpf.h"
#include "folio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* In: [scan_next, scan_end) of the range that starts at scan_first. Out: found[0..nr_found),
 * scan_next where the next run starts. */
__u64 scan_first = 0;
__u64 scan_next = 0;
__u64 scan_end = 0;
__u32 nr_found = 0;
__u64 pages_read = 0;   /* struct pages that could be read (holes in vmemmap cannot) */
bool no_vmemmap = false; /* vmemmap_base is not in kallsyms: no struct page can be found */
struct pinscan_folio found[PINSCAN_MAX_FOUND];

/* The first 64 bytes of struct page hold flags, compound_head, _mapcount and _refcount. */
#define PAGE_HEAD_BYTES 64

static __always_inline int field_s32(const char *buf, __u32 off)
{
	return off <= PAGE_HEAD_BYTES - sizeof(int) ? *(const int *)(buf + off) : 0;
}

static long scan_page(__u64 index, void *ctx)
{
	char buf[PAGE_HEAD_BYTES];
	__u64 pfn = scan_next, head;
	struct pinscan_folio *f;
	struct folio *folio;
	unsigned long flags;
	__u32 pins, i = nr_found;
	int refs, maps;

	if (pfn >= scan_end || i >= PINSCAN_MAX_FOUND)
		return 1;
	scan_next = pfn + 1;
	folio = (struct folio *)pfn_to_page(pfn);
	if (!folio) {
		no_vmemmap = true;
		return 1;
	}
	if ( bpf_core_field_offset(struct page, _refcount) > PAGE_HEAD_BYTES - sizeof(int) ||
	    bpf_probe_read_kernel(buf, sizeof(buf), folio))
		return 0;
	pages_read++;
	flags = *(unsigned long *)buf;
	head = *(__u64 *)(buf + bpf_core_field_offset(struct page, compound_head));
	if (flags_zero_or_reserved(flags))
		return 0;
	if (head & 1) {
		/* a tail page: its folio was counted at its head, unless the range began inside it */
		if (pfn != scan_first)
			return 0;
		folio = (struct folio *)(head - 1);
		flags = folio_flags(false, folio);
		pfn = addr_to_pfn((__u64)folio);
	}
	refs = field_s32(buf, bpf_core_field_offset(struct page, _refcount));
	maps = field_s32(buf, bpf_core_field_offset(struct page, _mapcount)) + 1;
	if (flags_large(flags))
		pins = folio_pincount(folio);
	else if (maps < 0 || flags_slab(flags))
		/* not user memory: a page type shares _mapcount (buddy, page table, 6.12's slab,
		 * all negative), 6.1's slab pages have a flag and their own use of the fields */
		return 0;
	else if (refs - maps >= GUP_PIN_COUNTING_BIAS)
		pins = (__u32)(refs - maps) / GUP_PIN_COUNTING_BIAS;
	else
		return 0;
	if (!pins)
		return 0;
	f = &found[i & (PINSCAN_MAX_FOUND - 1)];
	f->pfn = pfn;
	f->nr_pages = folio_nr_pages_of(folio, flags);
	f->pins = pins;
	f->refcount = head & 1 ? BPF_CORE_READ(folio, _refcount.counter) : refs;
	f->mapcount = head & 1 ? BPF_CORE_READ(folio, _mapcount.counter) + 1 : maps;
	nr_found = i + 1;
	return 0;
}

SEC("raw_tp")
int scan(void *ctx)
{
	nr_found = 0;
	bpf_loop(PINSCAN_RUN_PAGES, scan_page, NULL, 0);
	return 0;
}
