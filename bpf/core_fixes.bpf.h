/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel differences the BPF side meets, one block per change: the kernel
 * that made it, the ___flavor types CO-RE matches against the running
 * kernel's BTF, and one accessor. Callers use the accessors and never test
 * versions. doc/kernel.md says which kernels were checked and how; the
 * versions below are those of mainline releases (Debian's 6.1 and 6.12
 * carry their own backports, so the BTF decides, never a version number).
 */
#ifndef GUPWATCH_CORE_FIXES_BPF_H
#define GUPWATCH_CORE_FIXES_BPF_H

/*
 * Reading kernel memory: fentry/fexit programs get BTF-typed arguments that
 * the verifier lets us load from directly (a plain load; a fault is caught by
 * an exception table entry), kprobes get numbers that need
 * bpf_probe_read_kernel(), a helper call of ~100 instructions. Every handler
 * takes `bool btf`, a constant in each program, so clang keeps one of the two.
 * Pointers computed from numbers (a PFN's page, a tail page's folio) are
 * always read with BPF_CORE_READ.
 */
#define RD(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/*
 * Kernel data symbols without a BTF VAR, at the addresses user space read
 * from /proc/kallsyms before the load (ksyms_kernel_data(), src/ksyms.h);
 * 0: not listed, or hidden. Typeless __ksym externs would do the same
 * through libbpf, whose fscanf() over every line of the file was 44 % of
 * gupwatch's start-up instructions (callgrind; 1-2 s in a TCG guest).
 */
const volatile __u64 ksym_vmemmap_base = 0;    /* vmemmap_base */
const volatile __u64 ksym_per_cpu_offset = 0;  /* __per_cpu_offset */
const volatile __u64 ksym_pcpu_hot = 0;        /* pcpu_hot (6.2 - 6.14) */
const volatile __u64 ksym_preempt_count = 0;   /* __preempt_count */

/*
 * --- preempt_count's per-CPU home (x86) ---
 * A per-CPU __preempt_count up to 6.1; 6.2 gathered it with current_task
 * into struct pcpu_hot ("x86: Put hot per CPU variables into a struct");
 * 6.15 dissolved pcpu_hot into a hot per-CPU section, __preempt_count again.
 */

/* Where preempt_count lives relative to a CPU's per-CPU base; 0: unknown. */
static __always_inline __u64 preempt_count_offset(void)
{
	if (bpf_core_type_exists(struct pcpu_hot) && ksym_pcpu_hot)
		return ksym_pcpu_hot + bpf_core_field_offset(struct pcpu_hot, preempt_count);
	return ksym_preempt_count;
}

/* preempt_count bits (include/linux/preempt.h, the same on every kernel we know):
 * NMI, hard IRQ, and *serving* a softirq (not the bh-disabled sections above it). */
#define PREEMPT_NMI_MASK       0x00f00000
#define PREEMPT_HARDIRQ_MASK   0x000f0000
#define PREEMPT_SOFTIRQ_OFFSET 0x00000100

/*
 * --- a large folio's page count ---
 * folio->_folio_nr_pages (6.1, 6.12) is folio->_nr_pages in 6.18, where it
 * moved in the first tail page's struct.
 */
struct folio___v618 {
	unsigned int _nr_pages;
} __attribute__((preserve_access_index));

static __always_inline __u32 large_folio_nr_pages(struct folio *folio)
{
	if (bpf_core_field_exists(folio->_folio_nr_pages))
		return BPF_CORE_READ(folio, _folio_nr_pages);
	return BPF_CORE_READ((struct folio___v618 *)folio, _nr_pages);
}

/*
 * --- mm->flags and MMF_HAS_PINNED ---
 * MMF_HAS_PINNED (5.13, "mm: gup: pack has_pinned in MMF_HAS_PINNED") is
 * bit 27 of mm->flags, a #define (include/linux/sched/coredump.h; 6.18:
 * mm_types.h), so not in BTF. mm->flags is an unsigned long up to 6.17 and
 * mm_flags_t, a one-word bitmap struct, in 6.18.
 */
#define MMF_HAS_PINNED 27

struct mm_flags___v618 {
	unsigned long __mm_flags[1];
} __attribute__((preserve_access_index));

struct mm_struct___v618 {
	struct mm_flags___v618 flags;
} __attribute__((preserve_access_index));

/* Has this mm ever been walked by a FOLL_PIN GUP? (Set on the walked mm, never cleared.) */
static __always_inline bool mm_has_pinned(bool btf, struct mm_struct *mm)
{
	unsigned long flags;

	if (bpf_core_field_exists(struct mm_struct___v618, flags))
		flags = RD(btf, (struct mm_struct___v618 *)mm, flags.__mm_flags[0]);
	else
		flags = RD(btf, mm, flags);
	return flags & (1UL << MMF_HAS_PINNED);
}

/*
 * --- PG_slab ---
 * A page flag up to 6.9; 6.10 made slab a page type kept in _mapcount ("mm:
 * turn folio_test_slab into a page type"), so PG_slab left enum pageflags
 * (6.12 has no such enumerator; 6.1 does).
 */
enum pageflags___pg_slab {
	PG_slab___pg_slab = 0,
};

static __always_inline bool flags_slab(unsigned long flags)
{
	return bpf_core_enum_value_exists(enum pageflags___pg_slab, PG_slab___pg_slab) &&
	       (flags & (1UL << bpf_core_enum_value(enum pageflags___pg_slab, PG_slab___pg_slab)));
}

/*
 * --- a large folio's mappings ---
 * 6.1 counts every mapping of a large folio (PMD and PTE) in the first tail
 * page's _total_mapcount. 6.2 replaced it with _nr_pages_mapped ("mm,thp,rmap:
 * subpages_mapcount of PTE-mapped subpages", cb67f4282bf9), which counts
 * mapped pages, not mappings; 6.11 added _large_mapcount ("mm: track mapcount
 * of large folios in single value", 05c5323b2a34), the count again. Both
 * start at -1. Kernels in between have neither: -1 (unknown).
 */
struct folio___v61 {
	atomic_t _total_mapcount;
} __attribute__((preserve_access_index));

static __always_inline int large_folio_mapcount(struct folio *folio)
{
	if (bpf_core_field_exists(folio->_large_mapcount))
		return BPF_CORE_READ(folio, _large_mapcount.counter) + 1;
	if (bpf_core_field_exists(struct folio___v61, _total_mapcount))
		return BPF_CORE_READ((struct folio___v61 *)folio, _total_mapcount.counter) + 1;
	return -1;
}

#endif
