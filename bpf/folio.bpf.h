/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading struct page and struct folio: shared by the tracer (gupwatch.bpf.c)
 * and the pin-state scan (pinscan.bpf.c). Pointers computed from numbers are
 * read with BPF_CORE_READ; folio_flags() may load directly from a BTF pointer.
 * Includes vmlinux.h, bpf_core_read.h and core_fixes.bpf.h first.
 */
#ifndef GUPWATCH_FOLIO_BPF_H
#define GUPWATCH_FOLIO_BPF_H

#define GUP_PIN_COUNTING_BIAS 1024         /* include/linux/mm.h, not in BTF */
#define PAGE_SHIFT GW_PAGE_SHIFT

/* Kernel's vmemmap base, read once: PFN = (page - vmemmap) / sizeof(struct page). */
static __u64 vmemmap;

static __always_inline __u64 addr_to_pfn(__u64 addr)
{
	if (!vmemmap && ksym_vmemmap_base)
		bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), (const void *)ksym_vmemmap_base);
	if (!vmemmap || !addr)
		return 0;
	return (addr - vmemmap) / bpf_core_type_size(struct page);
}

static __always_inline struct page *pfn_to_page(__u64 pfn)
{
	if (!vmemmap && ksym_vmemmap_base)
		bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), (const void *)ksym_vmemmap_base);
	return vmemmap ? (struct page *)(vmemmap + pfn * bpf_core_type_size(struct page)) : NULL;
}

/*
 * compound_head of a page: bit 0 set on a tail page, the rest is its head's
 * address. Read with a helper: in a union with lru.next, a direct load of it
 * is typed as a pointer by the verifier (6.1; btf_page_head() in the tracer
 * launders such a load instead).
 */
static __always_inline unsigned long page_head(struct page *page)
{
	return BPF_CORE_READ(page, compound_head);
}

static __always_inline struct folio *page_folio_of(struct page *page)
{
	unsigned long head = page_head(page);

	return head & 1 ? (struct folio *)(head - 1) : (struct folio *)page;
}

/* The flags word is the first word of struct page on every kernel (its type changed in 6.18). */
static __always_inline unsigned long folio_flags(bool btf, struct folio *folio)
{
	unsigned long flags = 0;

	if (btf)
		return *(unsigned long *)folio;
	bpf_probe_read_kernel(&flags, sizeof(flags), folio);
	return flags;
}

static __always_inline bool flags_large(unsigned long flags)
{
	return flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head));
}

/* The shared zero page is PG_reserved: GUP "succeeds" on it without taking a pin. */
static __always_inline bool flags_zero_or_reserved(unsigned long flags)
{
	return flags & (1UL << bpf_core_enum_value(enum pageflags, PG_reserved));
}

static __always_inline bool folio_is_large(struct folio *folio)
{
	return flags_large(folio_flags(false, folio));
}

/* Pages in a folio whose flags word is known (a large folio's count is read: rare). */
static __always_inline __u32 folio_nr_pages_of(struct folio *folio, unsigned long flags)
{
	return flags_large(flags) ? large_folio_nr_pages(folio) : 1;
}

/*
 * Pins the kernel's own state shows on a folio: _pincount for large folios;
 * for small ones folio_maybe_dma_pinned() guesses refcount >= 1024, which
 * also holds for a page mapped by 1024 processes, so the references that no
 * mapping explains are counted instead (_mapcount starts at -1).
 */
static __always_inline __u32 folio_pincount(struct folio *folio)
{
	int refs, maps;

	if (folio_is_large(folio))
		return BPF_CORE_READ(folio, _pincount.counter);
	refs = BPF_CORE_READ(folio, _refcount.counter);
	maps = BPF_CORE_READ(folio, _mapcount.counter) + 1;
	return refs > maps ? (__u32)(refs - maps) / GUP_PIN_COUNTING_BIAS : 0;
}

#endif
