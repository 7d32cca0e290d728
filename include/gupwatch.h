/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events from the BPF programs to user space, shared by both sides.
 * BPF includes vmlinux.h first and user space <linux/types.h>, so only the
 * __u32/__u64 family is used here. The layout is also the record format's
 * payload: change it only together with GW_EVENT_VERSION.
 */
#ifndef GUPWATCH_H
#define GUPWATCH_H

#define GW_EVENT_VERSION 6
#define GW_EVENT_VERSION_MIN 3 /* readable: 3 to 5 have the same layout, without PIN_CALL (3),
				  MIGRATE_FAILED (3, 4) and PIN_CALL's successful returns (3-5) */
#define GW_COMM_LEN 16

/* Sizes both sides agree on. */
#define GW_STACK_DEPTH      127   /* frames per stack: the kernel's PERF_MAX_STACK_DEPTH */
#define GW_STACK_MAP_SIZE   16384 /* distinct stacks kept by the BPF stack map */
#define GW_TASK_STATE_SIZE  16384 /* threads inside a fault or fork window at once */
#define GW_PAGE_SHIFT       12    /* x86-64 base pages: addresses and refs in events count them */

enum gw_event_type {
	GW_EV_PIN = 1,   /* FOLL_PIN references taken on a folio */
	GW_EV_UNPIN,     /* FOLL_PIN references dropped from a folio */
	GW_EV_WP_COPY,   /* a write-protect fault copied a page: COW or unshare */
	GW_EV_FORK_COPY, /* fork copied a maybe-pinned page for the child */
	GW_EV_GET,       /* a FOLL_GET reference (opt-in, --get): not a pin */
	GW_EV_ZERO_PIN,  /* a R/O long-term FOLL_PIN "pin" of the shared zero page: the kernel
			    takes no pin and the process's writes go to a new page (6.1) */
	GW_EV_PIN_BATCH, /* ring buffer only (struct gw_pin_batch): a GUP call's pins, which user
			    space expands into PIN/GET/ZERO_PIN events before anything else sees
			    them; never in a recording */
	GW_EV_PIN_CALL,  /* a pin call (__gup_longterm_locked) returned: an error, or a long-term
			    call's pages (the pins it still holds are final: its migration out of
			    ZONE_MOVABLE/CMA is done) */
	GW_EV_MIGRATE_FAILED, /* migrate_pages() could not move a folio */
};

/* Pin flags normalised from the kernel's FOLL_* (whose values differ per kernel). */
#define GW_PIN_WRITE    (1u << 0) /* FOLL_WRITE: R/W pin; clear: R/O pin */
#define GW_PIN_LONGTERM (1u << 1) /* FOLL_LONGTERM */
#define GW_PIN_FAST     (1u << 2) /* taken by GUP-fast (lockless) */
#define GW_PIN_REMOTE   (1u << 3) /* FOLL_REMOTE: another process's pages */
#define GW_PIN_FORCE    (1u << 4) /* FOLL_FORCE */
/* On UNPIN events: dropped inside the GUP-fast call that took it (GUP-fast
 * grabs, re-checks and undoes; or it must unshare and retries the slow way). */
#define GW_UNPIN_GUP_UNDO (1u << 5)
/* On PIN events: folio_add_pin() added a pin to an already pinned folio (legacy direct
 * I/O). The kernel counts it in nr_foll_pin_released but not in _acquired, and does not
 * say whether the I/O reads or writes: neither R/O nor R/W. */
#define GW_PIN_ADDED    (1u << 6)
/* On long-term PIN events, set by user space (/proc/zoneinfo; the kernel side cannot name
 * zones): the pinned page lies in ZONE_MOVABLE, where the kernel must migrate it out first. */
#define GW_PIN_IN_MOVABLE (1u << 7)

/* Write-protect fault kinds. */
#define GW_WP_UNSHARE   (1u << 0) /* FAULT_FLAG_UNSHARE (GUP R/O pin), else a write */
#define GW_WP_THP       (1u << 1) /* the old page belonged to a THP */
#define GW_WP_HUGETLB   (1u << 2) /* hugetlb_wp */
#define GW_WP_OLD_ANON  (1u << 3) /* the old page was anonymous (else page cache / zero page) */
#define GW_WP_OLD_PINNED (1u << 4) /* the kernel's state shows pins on the old folio that its
				      mappings do not explain (see old_pincount) */
#define GW_WP_COW_FAULT (1u << 5) /* do_cow_fault: a write to a page not mapped yet (e.g. after a
				     page-cache THP's PMD was zapped) copied the page-cache page */

struct gw_task {
	__u32 pid;  /* tgid */
	__u32 tid;
	char comm[GW_COMM_LEN]; /* empty on UNPIN events (but trace -v's): the engine
				   attributes an unpin to its pin's holder, and the helper
				   call is a tenth of the unpin's cost */
};

struct gw_pin {
	__u64 folio;      /* kernel address of the folio: the identity of pinned memory */
	__u64 pfn;        /* PFN of the first pinned page (UNPIN: the folio's head PFN) */
	__u64 mm;         /* PIN: kernel address of the mm the pages were looked up in (a remote
			     pin's: the target's); 0: unknown (no GUP call seen around it) */
	__u64 address;    /* PIN: user address of the first pinned page in mm; 0: unknown.
			     The refs cover consecutive pages from there. */
	__u32 refs;       /* pin references taken or dropped */
	__u32 flags;      /* PIN: GW_PIN_*; UNPIN: GW_UNPIN_GUP_UNDO or 0 (the kernel passes no FOLL flags) */
	__u32 gup_flags;  /* raw FOLL_* as the kernel passed them (PIN events) */
	__u32 nr_pages;   /* pages in the folio */
};

struct gw_wp_copy {
	__u64 address;    /* user virtual address of the fault */
	__u64 mm;         /* kernel address of the faulting mm (the writer's) */
	__u64 old_folio;
	__u64 old_pfn;
	__u64 new_pfn;
	__u32 flags;      /* GW_WP_* */
	__u32 old_pincount; /* large folios: _pincount; small: (refcount - mapcount) / 1024, the
			       references no mapping explains, in units of a pin */
};

struct gw_fork_copy {
	__u64 address;    /* user address of the copied page (same in parent and child) */
	__u64 new_pfn;    /* the child's copy; the parent keeps the pinned page */
	__u32 huge;       /* 1 when hugetlb */
	__u32 _pad;
};

struct gw_pin_call {
	__u64 mm;         /* the mm it pinned in (a remote pin's: the target's) */
	__u64 address;    /* user address of the first page asked for */
	__u64 nr_pages;   /* pages asked for */
	__s64 ret;        /* a negative errno, or (long-term calls only) the pages pinned */
	__u32 flags;      /* GW_PIN_* of the call */
	__u32 gup_flags;  /* raw FOLL_* */
};

/*
 * Zones as gupwatch names them; the kernel's enum zone_type depends on its
 * config, so the kernel side leaves the zone to user space (/proc/zoneinfo).
 */
enum gw_zone {
	GW_ZONE_UNKNOWN,
	GW_ZONE_DMA,
	GW_ZONE_DMA32,
	GW_ZONE_NORMAL,
	GW_ZONE_MOVABLE,
	GW_ZONE_DEVICE,
};

/*
 * A folio left on migrate_pages()'s list when it returned: not migrated. Its
 * counts are read then, with the folio still isolated and mapped again.
 */
struct gw_migrate_failed {
	__u64 folio;
	__u64 pfn;        /* head PFN */
	__u32 nr_pages;
	__u32 reason;     /* the kernel's enum migrate_reason (same values 6.1-6.18) */
	__s32 refcount;   /* folio _refcount */
	__s32 expected;   /* references migration accounts for: its isolation, each mapping,
			     the page cache's (and private data's); -1: not an LRU folio */
	__u32 pins;       /* pins the kernel's state shows (large: _pincount; small: the
			     references no mapping explains, in units of a pin) */
	__s16 node;       /* NUMA node, -1: unknown; filled in by user space (/proc/zoneinfo) */
	__u8 zone;        /* enum gw_zone, likewise */
	__u8 _pad;
};

struct gw_event {
	__u32 type;       /* enum gw_event_type */
	__u32 in_irq;     /* happened in interrupt context: task is whoever was running */
	__u64 ts_ns;      /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	struct gw_task task;
	__s32 kstack_id;  /* stack map ids, < 0: not captured */
	__s32 ustack_id;
	union {
		struct gw_pin pin;           /* GW_EV_PIN, GW_EV_UNPIN, GW_EV_GET, GW_EV_ZERO_PIN */
		struct gw_wp_copy wp;        /* GW_EV_WP_COPY */
		struct gw_fork_copy fork;    /* GW_EV_FORK_COPY */
		struct gw_pin_call call;     /* GW_EV_PIN_CALL */
		struct gw_migrate_failed migrate; /* GW_EV_MIGRATE_FAILED */
	};
};

/*
 * The pins one thread took in one GUP call, sent as one ring-buffer record
 * (at the call's end, when full, or before any other event of the thread) so
 * that a pin costs a few stores instead of a reserve, a submit, the clock and
 * the comm. The header is gw_event's with in_irq replaced by nr; the entries
 * share its time (the first pin's), task and stacks.
 */
#define GW_PIN_BATCH_MAX 32

struct gw_batch_pin {
	__u32 type;       /* GW_EV_PIN, GW_EV_GET or GW_EV_ZERO_PIN */
	__u32 _pad;
	struct gw_pin pin;
};

struct gw_pin_batch {
	__u32 type;       /* GW_EV_PIN_BATCH */
	__u32 nr;         /* entries used; the record ends after the last */
	__u64 ts_ns;
	struct gw_task task;
	__s32 kstack_id;
	__s32 ustack_id;
	struct gw_batch_pin pins[GW_PIN_BATCH_MAX];
};

/* Per-CPU counters kept in the kernel: totals that need no event each. */
enum gw_counter {
	GW_CNT_WP_FAULT,      /* do_wp_page / hugetlb_wp calls seen */
	GW_CNT_THP_WP_FAULT,  /* do_huge_pmd_wp_page calls: a THP is reused, or split and
				 its PTE-mapped page then goes through do_wp_page */
	GW_CNT_WP_COPY,       /* copies of maybe-pinned pages and unshare copies (a COW of a page
				 the kernel shows unpinned is only a WP_FAULT: no window is opened) */
	GW_CNT_UNSHARE_COPY,  /* copies made for FAULT_FLAG_UNSHARE */
	GW_CNT_FORK_COPY,     /* eager copies at fork */
	GW_CNT_PIN_REFS,      /* FOLL_PIN references taken (equals nr_foll_pin_acquired) */
	GW_CNT_UNPIN_REFS,    /* FOLL_PIN references dropped (equals nr_foll_pin_released) */
	GW_CNT_RINGBUF_DROP,  /* events lost: ring buffer full */
	GW_CNT_STACK_DROP,    /* stacks lost: stack map full or unwinding failed */
	GW_CNT_PROG_MISSED,   /* hook runs the kernel skipped (BPF recursion protection);
				 filled in by user space from bpf_prog_info, not by BPF */
	GW_CNT_MAP_FULL,      /* per-task state not stored: map full (a window or GUP call missed) */
	GW_CNT_WINDOW_STALE,  /* windows dropped at their thread's next new page because they
				 describe another fault: one that did not copy (fault windows
				 have no exit hook), or a missed exit probe */
	GW_CNT__MAX
};

#endif
