// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch kernel side: FOLL_PIN pins and unpins, write-protect faults that
 * copy a page (COW / unshare), and fork's eager copies of pinned pages.
 *
 * Every hook comes as fentry/fexit and as kprobe/kretprobe; the loader keeps
 * one mode per hook, and among same-named functions whose prototypes differ
 * between kernels it keeps the variant whose name suffix "__<nargs>_<type of
 * the first argument>" matches the running kernel's BTF (see src/attach.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "gupwatch.h"
#include "core_fixes.bpf.h"
#include "folio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* FOLL_* differ per kernel (#defines in 6.1, anonymous enums later): the loader resolves them. */
const volatile __u32 foll_write = 0;
const volatile __u32 foll_pin = 0;
const volatile __u32 foll_longterm = 0;
const volatile __u32 foll_remote = 0;
const volatile __u32 foll_force = 0;
const volatile __u32 foll_get = 0;
const volatile bool trace_get = false;   /* --get: report FOLL_GET references too */
const volatile bool stacks = false;     /* capture kernel and user stacks (costly: only when read) */
const volatile bool user_stacks = true; /* with stacks: user stacks too (daemon --call-sites: no) */
/* Unpins' comm and stacks (with stacks) too: only trace -v prints them. The engine attributes
 * an unpin to its pin, whose comm and stacks it keeps; the unpinner is often whoever ran the
 * completion, and a stack walk per unpin (every O_DIRECT completion) is costly. */
const volatile bool unpin_details = false;

/*
 * Set by user space when the session stops: every hook returns at once, so
 * that the ring buffer and the counters stay still while they are read and
 * while the (slow) detach runs after gupwatch has gone.
 */
bool stopped = false;

#define RINGBUF_BYTES (8 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GW_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, GW_STACK_MAP_SIZE);
} stack_traces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GW_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Per-task window state: which fault or fork we are inside of, so that the
 * "new anon page" hook knows the page is a copy. Only faults that can lead
 * to a finding open one: an unshare, or a write whose old page the kernel's
 * own state shows pinned; a COW of an unpinned page returns after a few
 * loads. A fault window has no exit hook (an fexit would cost every fault a
 * trampoline call): the copy consumes it, and a fault that did not copy
 * leaves it behind until its thread's next window or new page, where it no
 * longer matches the fault in progress (mm, address, flags, orig_pte, and
 * for do_cow_fault the page-cache page) and is dropped.
 */
enum window { WIN_NONE, WIN_WP, WIN_HUGETLB_WP, WIN_FORK };

struct task_state {
	__u32 window;          /* enum window */
	__u32 fault_flags;     /* enum fault_flag of the fault */
	__u64 mm;              /* the faulting mm (WIN_FORK: the child's) */
	__u64 address;         /* WIN_WP, WIN_HUGETLB_WP: the fault's page-aligned address */
	struct vm_fault *vmf;  /* WIN_WP */
	__u64 old_pte;         /* WIN_WP: vmf->orig_pte; WIN_HUGETLB_WP: the PTE (cleared before
				  the copy is mapped) */
	__u64 old_page;        /* WIN_WP from do_cow_fault: the page-cache page */
	__u32 kind;            /* GW_WP_* of the copy it expects */
	__u32 _pad;
};

/* Windows open, over all threads: the new-anon hook, which runs for every new
 * anonymous page, looks its thread's up only when there may be one. */
static __s64 open_windows;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_TASK_STATE_SIZE);
	__type(key, __u32);
	__type(value, struct task_state);
} task_states SEC(".maps");

/*
 * Threads inside a GUP call: where the pages they pin are. Both paths walk
 * the range in address order and take every pin of a page before moving on,
 * so the next pinned page's address is a cursor advanced by each pin's refs.
 * Task-local storage (5.11): a lookup is a cached slot of the task rather
 * than a hash, and a call needs no map update or delete (an O_DIRECT I/O is
 * one GUP-fast call). It is freed with the task.
 */
struct gup_call {
	__u32 fast_depth;  /* GUP-fast calls entered (their unpins are undos) */
	__u32 slow_depth;  /* __get_user_pages calls entered (its fallback included) */
	__u64 fast_next;   /* GUP-fast: address of the next page it pins, in current->mm */
	__u64 mm;          /* slow path: the mm it walks (a remote pin's: the target's) */
	__u64 slow_next;   /* slow path: address of the next page it pins */
	__s32 kstack_id;   /* with stacks: the stacks of the call's first pin, which its */
	__s32 ustack_id;   /* later pins share (one stack walk per call, not per page) */
	__u32 stacks_taken;
	__u32 batching;    /* the innermost GUP call is for more than one page: batch its pins */
	__u32 unpin_depth; /* unpin_user_pages*() calls of many pages entered: their unpins are
			      batched too */
	__u32 pin_call_flags; /* __gup_longterm_locked or a long-term GUP-fast call: FOLL_* of the
				 call in progress; 0: none (or its return sent) */
	__u64 pin_call_mm;    /* ... its mm, first address and pages asked for */
	__u64 pin_call_start;
	__u64 pin_call_pages;
	__u64 migrate_from;   /* migrate_pages: its list (at return: the folios not migrated) */
	__u32 migrate_reason; /* ... and enum migrate_reason; migrate_from 0: none in progress */
	struct gw_pin_batch batch; /* its pins and unpins not sent yet (pending_batches counts these) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gup_call);
} gup_calls SEC(".maps");

static __always_inline struct gup_call *gup_call_of_current(__u64 flags)
{
	return bpf_task_storage_get(&gup_calls, bpf_get_current_task_btf(), NULL, flags);
}


/* kprobe mode: the pin functions' arguments, which a kretprobe cannot see (task storage as above). */
struct grab_args {
	void *ptr; /* page or folio */
	__s32 refs;
	__u32 flags;
	__u32 saved; /* set by the kprobe, consumed by its kretprobe */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct grab_args);
} kprobe_args SEC(".maps");


#define PTE_PFN_MASK 0x000ffffffffff000ULL
#define PAGE_MASK (~((1ULL << PAGE_SHIFT) - 1))
#define VM_SHARED 0x00000008               /* include/linux/mm.h, not in BTF */

static __always_inline int count(enum gw_counter c, __u64 n)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += n;
	return 0;
}

/* The thread's state, created if need be; NULL (counted): no memory for it. */
static __always_inline struct gup_call *gup_call_create(void)
{
	struct gup_call *c = gup_call_of_current(BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!c)
		count(GW_CNT_MAP_FULL, 1);
	return c;
}

/* __per_cpu_offset[cpu], read once per CPU: the unpin path then reads only the count. */
#define CPU_BASE_SLOTS 1024
static __u64 cpu_bases[CPU_BASE_SLOTS];

static __always_inline bool in_interrupt_ctx(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 cpu_base = 0, offset;
	int pc = 0;

	if (!ksym_per_cpu_offset) /* the per-CPU area bases: preempt_count is at base + offset */
		return false;
	if (cpu < CPU_BASE_SLOTS)
		cpu_base = cpu_bases[cpu];
	if (!cpu_base) {
		bpf_probe_read_kernel(&cpu_base, sizeof(cpu_base),
				      (const void *)(ksym_per_cpu_offset + cpu * sizeof(__u64)));
		if (cpu < CPU_BASE_SLOTS)
			cpu_bases[cpu] = cpu_base;
	}
	offset = preempt_count_offset();
	if (!offset)
		return false;
	bpf_probe_read_kernel(&pc, sizeof(pc), (void *)(cpu_base + offset));
	return pc & (PREEMPT_NMI_MASK | PREEMPT_HARDIRQ_MASK | PREEMPT_SOFTIRQ_OFFSET);
}

/* bpf_get_current_task_btf() (5.11): a trusted task, read directly in both modes. */
static __always_inline __u64 current_mm(void)
{
	return (__u64)bpf_get_current_task_btf()->mm;
}

/*
 * A BTF pointer is a value the verifier allows no arithmetic on. Stored into
 * the ring buffer record and loaded back, it is a plain number: cheaper than
 * laundering it through bpf_probe_read_kernel().
 */
static __always_inline __u64 stored_value(__u64 *slot, const void *ptr)
{
	*slot = (__u64)ptr;
	return *(volatile __u64 *)slot;
}

/* The PFN of a page given as a BTF pointer, computed in the event's slot for it. */
static __always_inline void store_pfn(__u64 *slot, const void *page)
{
	*slot = addr_to_pfn(stored_value(slot, page));
}

/*
 * No wakeup per event: the reader polls on a short timer and is woken only
 * when a quarter of the buffer waits (a pin storm fills it in milliseconds).
 */
static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > RINGBUF_BYTES / 4 ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void event_submit(struct gw_event *e)
{
	bpf_ringbuf_submit(e, wakeup_flag());
}

/* A GUP call's stacks: walked at its first pin, shared by the rest (kstack: -1 without stacks). */
static __always_inline void call_stacks(void *ctx, struct gup_call *call, __s32 *kstack, __s32 *ustack)
{
	*kstack = -1;
	*ustack = -1;
	if (!stacks)
		return;
	if (call && call->stacks_taken) {
		*kstack = call->kstack_id;
		*ustack = call->ustack_id;
		return;
	}
	*kstack = bpf_get_stackid(ctx, &stack_traces, 0);
	if (user_stacks)
		*ustack = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
	if (*kstack < 0)
		count(GW_CNT_STACK_DROP, 1);
	if (call) {
		call->kstack_id = *kstack;
		call->ustack_id = *ustack;
		call->stacks_taken = 1;
	}
}

/* Threads whose GUP call has pins not sent yet: only then does an event look for them. */
static __s64 pending_batches;

static __always_inline void batch_flush(struct gup_call *c)
{
	__u32 nr = c->batch.nr;

	if (!nr)
		return;
	if (nr > GW_PIN_BATCH_MAX)
		nr = GW_PIN_BATCH_MAX;
	if (bpf_ringbuf_output(&events, &c->batch, offsetof(struct gw_pin_batch, pins) +
			       nr * sizeof(struct gw_batch_pin), wakeup_flag()))
		count(GW_CNT_RINGBUF_DROP, nr);
	c->batch.nr = 0;
	__sync_fetch_and_add(&pending_batches, -1);
}

/* The events of a thread stay in order: its pending pins go before anything else it sends. */
static __always_inline void flush_pins_of_current(void)
{
	struct gup_call *c;

	if (!pending_batches)
		return;
	c = gup_call_of_current(0);
	if (c)
		batch_flush(c);
}

/*
 * Pins, copies and forks happen in process context (GUP and page faults never
 * run in interrupt context); only an unpin may come from an interrupt (an
 * O_DIRECT completion), so only its context is looked at (irq), and then the
 * interrupted thread's pending pins, which may be half written, stay put.
 */
/* A record with its header filled in (no stacks), or NULL: ring buffer full. */
static __always_inline struct gw_event *event_new(enum gw_event_type type, bool irq)
{
	struct gw_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		count(GW_CNT_RINGBUF_DROP, 1);
		return NULL;
	}
	e->type = type;
	e->ts_ns = bpf_ktime_get_ns();
	e->task.pid = id >> 32;
	e->task.tid = (__u32)id;
	if (type == GW_EV_UNPIN && !unpin_details)
		__builtin_memset(e->task.comm, 0, sizeof(e->task.comm));
	else
		bpf_get_current_comm(e->task.comm, sizeof(e->task.comm));
	e->in_irq = irq;
	e->kstack_id = -1;
	e->ustack_id = -1;
	return e;
}

static __always_inline struct gw_event *event_reserve(void *ctx, enum gw_event_type type,
						      struct gup_call *call, bool irq)
{
	struct gw_event *e;
	bool unpin = type == GW_EV_UNPIN;

	if (!irq)
		flush_pins_of_current();
	e = event_new(type, irq);
	if (!e)
		return NULL;
	if (!unpin)
		call_stacks(ctx, call, &e->kstack_id, &e->ustack_id);
	else if (stacks && unpin_details)
		e->kstack_id = bpf_get_stackid(ctx, &stack_traces, 0);
	return e;
}

static __always_inline __u32 pin_flags(__u32 gup_flags, bool fast)
{
	return (gup_flags & foll_write ? GW_PIN_WRITE : 0) |
	       (gup_flags & foll_longterm ? GW_PIN_LONGTERM : 0) |
	       (gup_flags & foll_remote ? GW_PIN_REMOTE : 0) |
	       (gup_flags & foll_force ? GW_PIN_FORCE : 0) |
	       (fast ? GW_PIN_FAST : 0);
}

/* Threads inside a GUP-fast call, and inside an unpin call, over all: an unpin looks its thread
 * up only if any is. */
static __s64 fast_calls;
static __s64 unpin_calls;

/* Inside a GUP-fast call? Not asked in interrupt context (an interrupt's unpin is not its undo). */
static __always_inline bool in_gup_fast(void)
{
	struct gup_call *c;

	if (!fast_calls)
		return false;
	c = gup_call_of_current(0);
	return c && c->fast_depth;
}

/* A call begins or ends: the pins before it are sent (a nested call walks other stacks). */
static __always_inline int gup_enter(bool fast, __u64 mm, __u64 start, __u64 nr_pages)
{
	struct gup_call *c = gup_call_create();

	if (!c)
		return 0;
	batch_flush(c);
	c->batching = nr_pages > 1;
	if (fast) {
		if (!c->fast_depth++) {
			c->fast_next = start;
			__sync_fetch_and_add(&fast_calls, 1);
		}
	} else {
		c->slow_depth++;
		c->mm = mm;
		c->slow_next = start;
	}
	c->stacks_taken = 0;
	return 0;
}

static __always_inline void call_exit(struct gup_call *c, bool fast)
{
	batch_flush(c);
	if (fast && c->fast_depth) {
		if (!--c->fast_depth)
			__sync_fetch_and_add(&fast_calls, -1);
	} else if (!fast && c->slow_depth)
		c->slow_depth--;
}

static __always_inline int gup_exit(bool fast)
{
	struct gup_call *c = gup_call_of_current(0);

	if (c)
		call_exit(c, fast);
	return 0;
}

/*
 * Where the refs pages a grab just pinned are: the mm and the first page's
 * address. Returns the GUP call it is part of, if any.
 */
static __always_inline struct gup_call *pin_place(int refs, __u64 *mm, __u64 *address)
{
	struct gup_call *c = gup_call_of_current(0);

	*mm = 0;
	*address = 0;
	if (!c) /* GUP never runs in interrupt context: c is this thread's own call */
		return NULL;
	if (c->slow_depth) {
		*mm = c->mm;
		*address = c->slow_next;
		c->slow_next += (__u64)refs << PAGE_SHIFT;
	} else if (c->fast_depth) {
		*mm = current_mm();
		*address = c->fast_next;
		c->fast_next += (__u64)refs << PAGE_SHIFT;
	} else
		return NULL;
	return c;
}

/*
 * A pin's or unpin's fields. Its PFN is page's, the first pinned subpage,
 * when the kernel passed it; given only the folio (6.12's slow path), a large
 * folio's subpage follows from the address where the folio is mapped
 * naturally aligned, as PMD-mapped THPs always are (doc/kernel.md). flags:
 * the folio's flags word.
 */
static __always_inline void fill_pin(struct gw_pin *p, struct folio *folio, unsigned long flags,
				     struct page *page, __u64 mm, __u64 address, __u32 refs,
				     __u32 pin_flags, __u32 gup_flags)
{
	__u32 nr = folio_nr_pages_of(folio, flags);
	__u64 folio_addr = stored_value(&p->folio, folio);

	if (page)
		store_pfn(&p->pfn, page);
	else
		p->pfn = addr_to_pfn(folio_addr) +
			 (nr > 1 && address ? (address >> PAGE_SHIFT) & (nr - 1) : 0);
	p->mm = mm;
	p->address = address;
	p->refs = refs;
	p->flags = pin_flags;
	p->gup_flags = gup_flags;
	p->nr_pages = nr;
}

/* A pin or unpin (irq: in interrupt context) as an event of its own. */
static __always_inline void emit_pin(void *ctx, enum gw_event_type type, struct gup_call *call,
				     struct folio *folio, unsigned long flags, struct page *page,
				     __u64 mm, __u64 address, __u32 refs, __u32 pin_flags,
				     __u32 gup_flags, bool irq)
{
	struct gw_event *e = event_reserve(ctx, type, call, irq);

	if (!e)
		return;
	fill_pin(&e->pin, folio, flags, page, mm, address, refs, pin_flags, gup_flags);
	event_submit(e);
}

/*
 * A pin taken inside a GUP call, or an unpin inside a GUP-fast or unpin call
 * (process context), joins the thread's batch; a full batch is sent first.
 * The batch's stacks are its pins' (unpins carry none).
 */
static __always_inline void batch_add(void *ctx, struct gup_call *c, enum gw_event_type type,
				      struct folio *folio, unsigned long flags, struct page *page,
				      __u64 mm, __u64 address, __u32 refs, __u32 pin_flags, __u32 gup_flags)
{
	struct gw_batch_pin *b;
	__u32 i;

	if (c->batch.nr >= GW_PIN_BATCH_MAX)
		batch_flush(c);
	i = c->batch.nr;
	if (!i) {
		__u64 id = bpf_get_current_pid_tgid();

		c->batch.type = GW_EV_PIN_BATCH;
		c->batch.ts_ns = bpf_ktime_get_ns();
		c->batch.task.pid = id >> 32;
		c->batch.task.tid = (__u32)id;
		bpf_get_current_comm(c->batch.task.comm, sizeof(c->batch.task.comm));
		c->batch.kstack_id = -1;
		c->batch.ustack_id = -1;
		__sync_fetch_and_add(&pending_batches, 1);
	}
	if (stacks && type != GW_EV_UNPIN && c->batch.kstack_id < 0 && c->batch.ustack_id < 0)
		call_stacks(ctx, c, &c->batch.kstack_id, &c->batch.ustack_id);
	b = &c->batch.pins[i & (GW_PIN_BATCH_MAX - 1)];
	b->type = type;
	fill_pin(&b->pin, folio, flags, page, mm, address, refs, pin_flags, gup_flags);
	c->batch.nr = i + 1;
}

/*
 * A grab function succeeded: refs references on folio (page: the first
 * subpage, if known). On the shared zero page it succeeds without taking
 * anything: a R/O long-term "pin" of it leaves the device reading zeros while
 * the process's first write maps a new page, which 6.1 allows (6.12 unshares
 * first: gup_must_unshare() is true for it).
 */
static __always_inline int on_grab(void *ctx, bool btf, struct folio *folio, struct page *page,
				   int refs, __u32 gup_flags, bool fast)
{
	enum gw_event_type type = GW_EV_ZERO_PIN;
	struct gup_call *call;
	unsigned long flags;
	__u64 mm, address;

	if (refs <= 0 || stopped)
		return 0;
	if (!(gup_flags & foll_pin) && !(trace_get && (gup_flags & foll_get)))
		return 0;
	call = pin_place(refs, &mm, &address); /* the cursor moves past the zero page too */
	flags = folio_flags(btf, folio);
	if (!flags_zero_or_reserved(flags)) {
		type = gup_flags & foll_pin ? GW_EV_PIN : GW_EV_GET;
		if (type == GW_EV_PIN)
			count(GW_CNT_PIN_REFS, refs);
	} else if (!(gup_flags & foll_pin) || !(gup_flags & foll_longterm) || (gup_flags & foll_write))
		return 0;
	if (call && call->batching)
		batch_add(ctx, call, type, folio, flags, page, mm, address, refs,
			  pin_flags(gup_flags, fast), gup_flags);
	else /* a call for one page (an O_DIRECT I/O: staging it would only add a copy), or none seen */
		emit_pin(ctx, type, call, folio, flags, page, mm, address, refs,
			 pin_flags(gup_flags, fast), gup_flags, false);
	return 0;
}

/*
 * page->compound_head of a BTF page, without a helper call (57 instructions
 * less a pin on 6.1's slow path, make bench-progs). The verifier types the direct load as
 * lru.next, a pointer it allows no bit test on (folio.bpf.h), so it goes
 * through a per-CPU slot like stored_value(). Only fexit_try_grab_page uses
 * the slots, and a program never runs nested on one CPU (the trampoline's
 * recursion check skips it), so no other run can overwrite one in between.
 */
static __u64 head_slots[CPU_BASE_SLOTS];

static __always_inline unsigned long btf_page_head(struct page *page)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu >= CPU_BASE_SLOTS)
		return page_head(page);
	return stored_value(&head_slots[cpu], (const void *)page->compound_head);
}

/* 6.1's slow path grabs a page: its folio is a BTF pointer only if it is not a tail page. */
static __always_inline int on_grab_page(void *ctx, bool btf, struct page *page, __u32 gup_flags)
{
	unsigned long head = btf ? btf_page_head(page) : page_head(page);

	if (head & 1)
		return on_grab(ctx, false, (struct folio *)(head - 1), page, 1, gup_flags, false);
	return on_grab(ctx, btf, (struct folio *)page, page, 1, gup_flags, false);
}

/* 6.12+ legacy direct I/O adds a pin to a pinned folio: not in nr_foll_pin_acquired. */
static __always_inline int on_add_pin(void *ctx, bool btf, struct folio *folio)
{
	unsigned long flags = folio_flags(btf, folio);

	if (!flags_zero_or_reserved(flags))
		emit_pin(ctx, GW_EV_PIN, NULL, folio, flags, NULL, 0, 0, 1, GW_PIN_ADDED, foll_pin, false);
	return 0;
}

static __always_inline int on_put(void *ctx, bool btf, struct folio *folio, int refs, __u32 gup_flags)
{
	unsigned long flags;
	bool irq;

	if (!(gup_flags & foll_pin) || refs <= 0)
		return 0;
	flags = folio_flags(btf, folio);
	if (flags_zero_or_reserved(flags))
		return 0;
	count(GW_CNT_UNPIN_REFS, refs);
	irq = in_interrupt_ctx();
	if (!irq && !unpin_details && (fast_calls || unpin_calls)) {
		struct gup_call *c = gup_call_of_current(0);

		if (c && ((c->fast_depth && c->batching) || c->unpin_depth)) {
			batch_add(ctx, c, GW_EV_UNPIN, folio, flags, NULL, 0, 0, refs,
				  c->fast_depth ? GW_UNPIN_GUP_UNDO : 0, gup_flags);
			return 0;
		}
	}
	emit_pin(ctx, GW_EV_UNPIN, NULL, folio, flags, NULL, 0, 0, refs,
		 !irq && in_gup_fast() ? GW_UNPIN_GUP_UNDO : 0, gup_flags, irq);
	return 0;
}

/*
 * One handler, attachable both ways: fentry/fexit and kprobe/kretprobe get the
 * same typed arguments from BPF_PROG / BPF_KPROBE, and BTF_ARGS says which
 * kind they are (see RD). VARIANT is "" or a prototype suffix
 * "__<nargs>_<type of the first argument>" (see attach.c).
 */
#define ENTRY_HOOK(func, variant, call, ...)                                        \
	SEC("fentry/" #func)                                                        \
	int BPF_PROG(fentry_##func##variant, ##__VA_ARGS__)                         \
	{ const bool BTF_ARGS __attribute__((unused)) = true; return stopped ? 0 : call; } \
	SEC("kprobe/" #func)                                                        \
	int BPF_KPROBE(kprobe_##func##variant, ##__VA_ARGS__)                       \
	{ const bool BTF_ARGS __attribute__((unused)) = false; return stopped ? 0 : call; }

#define EXIT_HOOK(func, call)                                                       \
	SEC("fexit/" #func)                                                         \
	int BPF_PROG(fexit_##func) { return stopped ? 0 : call; }                   \
	SEC("kretprobe/" #func)                                                     \
	int BPF_KRETPROBE(kretprobe_##func) { return stopped ? 0 : call; }

/* ---- pins: fexit ---- */

/* 6.1: GUP-fast (and the hugetlb slow path, also reached from a GUP-fast call's fallback) */
SEC("fexit/try_grab_folio")
int BPF_PROG(fexit_try_grab_folio__3_page, struct page *page, int refs, unsigned int flags,
	     struct folio *ret)
{
	return ret ? on_grab(ctx, true, ret, page, refs, flags, in_gup_fast()) : 0;
}

/* 6.12+: slow path */
SEC("fexit/try_grab_folio")
int BPF_PROG(fexit_try_grab_folio__3_folio, struct folio *folio, int refs, unsigned int flags, int ret)
{
	return ret == 0 ? on_grab(ctx, true, folio, NULL, refs, flags, false) : 0;
}

/* 6.1: slow path, one reference */
SEC("fexit/try_grab_page")
int BPF_PROG(fexit_try_grab_page, struct page *page, unsigned int flags, bool ret)
{
	return ret ? on_grab_page(ctx, true, page, flags) : 0;
}

/* 6.12+: GUP-fast */
SEC("fexit/try_grab_folio_fast")
int BPF_PROG(fexit_try_grab_folio_fast, struct page *page, int refs, unsigned int flags,
	     struct folio *ret)
{
	return ret ? on_grab(ctx, true, ret, page, refs, flags, true) : 0;
}

/* 6.12+: legacy direct-io adds a pin to an already pinned folio (no vmstat ACQUIRED update) */
ENTRY_HOOK(folio_add_pin, , on_add_pin(ctx, BTF_ARGS, folio), struct folio *folio)

/* ---- pins: kprobe mode (arguments saved at entry for the return probe) ---- */

static __always_inline int save_args(void *ptr, int refs, __u32 flags)
{
	struct grab_args *args;

	if (stopped)
		return 0;
	args = bpf_task_storage_get(&kprobe_args, bpf_get_current_task_btf(), NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!args) {
		count(GW_CNT_MAP_FULL, 1);
		return 0;
	}
	args->ptr = ptr;
	args->refs = refs;
	args->flags = flags;
	args->saved = 1;
	return 0;
}

/* Copy the saved arguments out and forget them: every return consumes its entry. */
static __always_inline bool take_args(struct grab_args *out)
{
	struct grab_args *args = bpf_task_storage_get(&kprobe_args, bpf_get_current_task_btf(), NULL, 0);

	if (!args || !args->saved)
		return false;
	*out = *args;
	args->saved = 0;
	return true;
}

SEC("kprobe/try_grab_folio")
int BPF_KPROBE(kprobe_try_grab_folio, void *page_or_folio, int refs, unsigned int flags)
{
	return save_args(page_or_folio, refs, flags);
}

SEC("kretprobe/try_grab_folio")
int BPF_KRETPROBE(kretprobe_try_grab_folio__3_page, struct folio *ret)
{
	struct grab_args a;

	return take_args(&a) && ret ? on_grab(ctx, false, ret, a.ptr, a.refs, a.flags, in_gup_fast()) : 0;
}

SEC("kretprobe/try_grab_folio")
int BPF_KRETPROBE(kretprobe_try_grab_folio__3_folio, int ret)
{
	struct grab_args a;

	return take_args(&a) && ret == 0 ? on_grab(ctx, false, a.ptr, NULL, a.refs, a.flags, false) : 0;
}

SEC("kprobe/try_grab_page")
int BPF_KPROBE(kprobe_try_grab_page, struct page *page, unsigned int flags)
{
	return save_args(page, 1, flags);
}

SEC("kretprobe/try_grab_page")
int BPF_KRETPROBE(kretprobe_try_grab_page, bool ret)
{
	struct grab_args a;

	return take_args(&a) && ret ? on_grab_page(ctx, false, a.ptr, a.flags) : 0;
}

SEC("kprobe/try_grab_folio_fast")
int BPF_KPROBE(kprobe_try_grab_folio_fast, struct page *page, int refs, unsigned int flags)
{
	return save_args(page, refs, flags);
}

SEC("kretprobe/try_grab_folio_fast")
int BPF_KRETPROBE(kretprobe_try_grab_folio_fast, struct folio *ret)
{
	struct grab_args a;

	return take_args(&a) && ret ? on_grab(ctx, false, ret, a.ptr, a.refs, a.flags, true) : 0;
}

/* ---- unpins: every FOLL_PIN release funnels into gup_put_folio on 6.1 and 6.12 ---- */

ENTRY_HOOK(gup_put_folio, , on_put(ctx, BTF_ARGS, folio, refs, flags),
	   struct folio *folio, int refs, unsigned int flags)

/*
 * The unpin calls that release many pages at once (process_vm_*, vfio, RDMA,
 * AF_XDP): their unpins go out as one batch at the end. Not in interrupt
 * context, where current is whoever was interrupted, its batch maybe half
 * written.
 */
static __always_inline int unpin_call_enter(__u64 npages)
{
	struct gup_call *c;

	if (npages < 2 || unpin_details || in_interrupt_ctx())
		return 0;
	c = gup_call_create();
	if (!c)
		return 0;
	if (!c->unpin_depth++)
		__sync_fetch_and_add(&unpin_calls, 1);
	return 0;
}

static __always_inline int unpin_call_exit(void)
{
	struct gup_call *c;

	if (!unpin_calls || in_interrupt_ctx())
		return 0;
	c = gup_call_of_current(0);
	if (!c || !c->unpin_depth)
		return 0;
	if (!--c->unpin_depth) {
		batch_flush(c);
		__sync_fetch_and_add(&unpin_calls, -1);
	}
	return 0;
}

ENTRY_HOOK(unpin_user_pages, , unpin_call_enter(npages), struct page **pages, unsigned long npages)
EXIT_HOOK(unpin_user_pages, unpin_call_exit())
ENTRY_HOOK(unpin_user_pages_dirty_lock, , unpin_call_enter(npages), struct page **pages,
	   unsigned long npages)
EXIT_HOOK(unpin_user_pages_dirty_lock, unpin_call_exit())
ENTRY_HOOK(unpin_user_page_range_dirty_lock, , unpin_call_enter(npages), struct page *page,
	   unsigned long npages)
EXIT_HOOK(unpin_user_page_range_dirty_lock, unpin_call_exit())
ENTRY_HOOK(unpin_folios, , unpin_call_enter(nfolios), struct folio **folios, unsigned long nfolios)
EXIT_HOOK(unpin_folios, unpin_call_exit())

/*
 * Every slow-path pin_user_pages*() call goes through __gup_longterm_locked
 * (6.1's non-long-term pin_user_pages_remote() excepted): a negative return
 * is a pin call that failed (EFAULT, ENOMEM when a long-term pin's page could
 * not be migrated out of ZONE_MOVABLE, EINTR...). A short count is not: the
 * callers decide what it means. A long-term call's success is sent too: it
 * pins, unpins and migrates what it may not keep pinned, and pins again, so
 * only the pins still held when it returns say where long-term pins landed
 * (LONGTERM-IN-MOVABLE). Long-term calls are registrations, not I/O: rare.
 */
static __always_inline int pin_call_enter(__u64 mm, __u64 start, __u64 nr_pages, __u32 gup_flags)
{
	struct gup_call *c;

	if (!(gup_flags & foll_pin))
		return 0;
	c = gup_call_create();
	if (!c)
		return 0;
	c->pin_call_flags = gup_flags;
	c->pin_call_mm = mm;
	c->pin_call_start = start;
	c->pin_call_pages = nr_pages;
	return 0;
}

static __always_inline void pin_call_done(void *ctx, struct gup_call *c, long ret)
{
	struct gw_event *e;
	__u32 gup_flags;

	if (!c->pin_call_flags)
		return;
	gup_flags = c->pin_call_flags;
	c->pin_call_flags = 0;
	if (ret >= 0 && !(gup_flags & foll_longterm))
		return;
	/* A failure's stacks say where it came from. A return needs none (its pins have theirs):
	 * with stacks on, a walk per registration made record's io_uring loop +50 %. */
	if (ret < 0) {
		e = event_reserve(ctx, GW_EV_PIN_CALL, NULL, false);
	} else {
		batch_flush(c);
		e = event_new(GW_EV_PIN_CALL, false);
	}
	if (!e)
		return;
	e->call.mm = c->pin_call_mm;
	e->call.address = c->pin_call_start;
	e->call.nr_pages = c->pin_call_pages;
	e->call.ret = ret;
	e->call.flags = pin_flags(gup_flags, false);
	e->call.gup_flags = gup_flags;
	event_submit(e);
}

static __always_inline int pin_call_exit(void *ctx, long ret)
{
	struct gup_call *c = gup_call_of_current(0);

	if (c)
		pin_call_done(ctx, c, ret);
	return 0;
}

SEC("fentry/__gup_longterm_locked")
int BPF_PROG(fentry___gup_longterm_locked, struct mm_struct *mm, unsigned long start,
	     unsigned long nr_pages, void *pages, void *arg5, unsigned int gup_flags)
{
	return stopped ? 0 : pin_call_enter((__u64)mm, start, nr_pages, gup_flags);
}

/* Six arguments, one more than BPF_KPROBE takes in libbpf 1.1: the sixth is in r9 (x86-64). */
SEC("kprobe/__gup_longterm_locked")
int BPF_KPROBE(kprobe___gup_longterm_locked, struct mm_struct *mm, unsigned long start,
	       unsigned long nr_pages)
{
	return stopped ? 0 : pin_call_enter((__u64)mm, start, nr_pages,
					    (__u32)((struct pt_regs *)ctx)->r9);
}

SEC("fexit/__gup_longterm_locked")
int BPF_PROG(fexit___gup_longterm_locked, void *mm, unsigned long start, unsigned long nr_pages,
	     void *pages, void *arg5, unsigned int gup_flags, long ret)
{
	return stopped ? 0 : pin_call_exit(ctx, ret);
}

SEC("kretprobe/__gup_longterm_locked")
int BPF_KRETPROBE(kretprobe___gup_longterm_locked, long ret)
{
	return stopped ? 0 : pin_call_exit(ctx, ret);
}

/*
 * Folios migration could not move. migrate_pages() is where every migration
 * ends (move_pages/mbind, NUMA balancing, compaction, memory offline,
 * alloc_contig_range, a long-term pin's move out of ZONE_MOVABLE/CMA): when it
 * returns, the folios it could not move are back on the caller's list, still
 * isolated (one reference) and mapped again, whatever step gave up (the unmap
 * that would not share a maybe-pinned anon page, or the refcount check in
 * folio_migrate_mapping). doc/kernel.md, "Migration failures".
 */
#define MIGRATE_WALK_MAX 512 /* NR_MAX_BATCHED_MIGRATION: folios of one batch */
#define MIGRATE_REPEAT_NS 1000000000ULL

/* Folio -> when its last failure was sent: at most one event per folio per second, as memory
 * offline retries a failing range in a tight loop until it times out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} migrate_sent SEC(".maps");

#define PAGE_MAPPING_ANON    0x1 /* include/linux/page-flags.h, not in BTF */
#define PAGE_MAPPING_MOVABLE 0x2

struct migrate_walk {
	__u64 head;    /* the list_head of migrate_pages()'s list */
	__u64 node;    /* the entry being looked at */
	__u32 reason;
	__s32 kstack_id, ustack_id;
};

/* The references migration accounts for on a folio it gave back (see struct gw_migrate_failed). */
static __always_inline __s32 migrate_expected_refs(struct folio *folio, unsigned long flags,
						   __u32 nr_pages)
{
	__u64 mapping = (__u64)BPF_CORE_READ(folio, mapping);
	__s32 maps, cache = 0;

	if ((mapping & (PAGE_MAPPING_ANON | PAGE_MAPPING_MOVABLE)) == PAGE_MAPPING_MOVABLE)
		return -1; /* a driver's movable page: its own rules */
	if (flags_large(flags))
		maps = large_folio_mapcount(folio);
	else
		maps = BPF_CORE_READ(folio, _mapcount.counter) + 1;
	if (maps < 0)
		return -1;
	if (mapping & PAGE_MAPPING_ANON) {
		if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_swapcache)))
			cache = nr_pages;
	} else if (mapping) {
		cache = nr_pages + !!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_private)));
	}
	return 1 + maps + cache;
}

static long migrate_walk_one(__u64 i, struct migrate_walk *w)
{
	struct folio *folio;
	struct gw_event *e;
	unsigned long flags = 0;
	__u64 now, *last;

	if (bpf_probe_read_kernel(&w->node, sizeof(w->node), (void *)w->node) || !w->node ||
	    w->node == w->head)
		return 1;
	folio = (struct folio *)(w->node - bpf_core_field_offset(struct folio, lru));
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&migrate_sent, &folio);
	if (last && now - *last < MIGRATE_REPEAT_NS)
		return 0;
	bpf_map_update_elem(&migrate_sent, &folio, &now, BPF_ANY);
	e = event_new(GW_EV_MIGRATE_FAILED, false);
	if (!e)
		return 1;
	e->kstack_id = w->kstack_id;
	e->ustack_id = w->ustack_id;
	flags = folio_flags(false, folio);
	e->migrate.folio = (__u64)folio;
	e->migrate.pfn = addr_to_pfn((__u64)folio);
	e->migrate.nr_pages = folio_nr_pages_of(folio, flags);
	e->migrate.reason = w->reason;
	e->migrate.refcount = BPF_CORE_READ(folio, _refcount.counter);
	e->migrate.expected = migrate_expected_refs(folio, flags, e->migrate.nr_pages);
	e->migrate.pins = folio_pincount(folio);
	e->migrate.node = -1;
	e->migrate.zone = GW_ZONE_UNKNOWN;
	e->migrate._pad = 0;
	event_submit(e);
	return 0;
}

static __always_inline int migrate_enter(__u64 from, __u32 reason)
{
	struct gup_call *c = gup_call_create();

	if (!c)
		return 0;
	c->migrate_from = from;
	c->migrate_reason = reason;
	return 0;
}

/* ret: folios not migrated, or a negative errno (then the rest of the list was not tried). */
static __always_inline int migrate_exit(void *ctx, long ret)
{
	struct gup_call *c = gup_call_of_current(0);
	struct migrate_walk w;

	if (!c || !c->migrate_from)
		return 0;
	w.head = w.node = c->migrate_from;
	w.reason = c->migrate_reason;
	c->migrate_from = 0;
	if (!ret)
		return 0;
	flush_pins_of_current();
	call_stacks(ctx, NULL, &w.kstack_id, &w.ustack_id);
	bpf_loop(MIGRATE_WALK_MAX, migrate_walk_one, &w, 0);
	return 0;
}

/* Seven arguments: fentry/fexit need 6.6's trampolines ("bpf, x86: allow function arguments up
 * to 12 for TRACING"); 6.1 uses the kprobes, whose sixth argument is in r9. */
SEC("fentry/migrate_pages")
int BPF_PROG(fentry_migrate_pages, struct list_head *from, void *get_new, void *put_new,
	     unsigned long private, int mode, int reason)
{
	return stopped ? 0 : migrate_enter((__u64)from, reason);
}

SEC("kprobe/migrate_pages")
int BPF_KPROBE(kprobe_migrate_pages, struct list_head *from)
{
	return stopped ? 0 : migrate_enter((__u64)from, (__u32)((struct pt_regs *)ctx)->r9);
}

SEC("fexit/migrate_pages")
int BPF_PROG(fexit_migrate_pages, void *from, void *get_new, void *put_new, unsigned long private,
	     int mode, int reason, void *ret_succeeded, int ret)
{
	return stopped ? 0 : migrate_exit(ctx, ret);
}

SEC("kretprobe/migrate_pages")
int BPF_KRETPROBE(kretprobe_migrate_pages, int ret)
{
	return stopped ? 0 : migrate_exit(ctx, ret);
}

/*
 * The GUP-fast calls (their slow-path fallback included): 6.1 and 6.12 names.
 * A long-term one is a pin call too (pin_call_enter): its fallback's
 * __gup_longterm_locked sends the return and clears the call, so the return
 * sent here is that of a call GUP-fast completed alone.
 */
static __always_inline int fast_enter(__u64 start, __u64 nr_pages, __u32 gup_flags)
{
	gup_enter(true, 0, start, nr_pages);
	if (gup_flags & foll_longterm)
		pin_call_enter(current_mm(), start, nr_pages, gup_flags);
	return 0;
}

static __always_inline int fast_exit(void *ctx, long ret)
{
	struct gup_call *c = gup_call_of_current(0);

	if (c) {
		call_exit(c, true);
		pin_call_done(ctx, c, ret);
	}
	return 0;
}

/* Both return int: the upper half of the return register is not theirs. */
#define FAST_CALL_HOOK(func)                                                        \
	ENTRY_HOOK(func, , fast_enter(start, nr_pages, gup_flags), unsigned long start, \
		   unsigned long nr_pages, unsigned int gup_flags)                  \
	SEC("fexit/" #func)                                                         \
	int BPF_PROG(fexit_##func, unsigned long start, unsigned long nr_pages,     \
		     unsigned int gup_flags, void *pages, int ret)                  \
	{ return stopped ? 0 : fast_exit(ctx, ret); }                               \
	SEC("kretprobe/" #func)                                                     \
	int BPF_KRETPROBE(kretprobe_##func, long ret)                               \
	{ return stopped ? 0 : fast_exit(ctx, (int)ret); }

FAST_CALL_HOOK(internal_get_user_pages_fast) /* 6.1 */
FAST_CALL_HOOK(gup_fast_fallback)            /* 6.12 */

/* Every slow-path pin is taken inside __get_user_pages (6.1 and 6.12): the mm it walks. */
ENTRY_HOOK(__get_user_pages, , gup_enter(false, (__u64)mm, start, nr_pages),
	   struct mm_struct *mm, unsigned long start, unsigned long nr_pages)
EXIT_HOOK(__get_user_pages, gup_exit(false))

/* ---- write-protect faults ---- */

static __always_inline void window_open(const struct task_state *st)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_update_elem(&task_states, &tid, st, BPF_NOEXIST))
		__sync_fetch_and_add(&open_windows, 1);
	else if (bpf_map_update_elem(&task_states, &tid, st, BPF_EXIST))
		count(GW_CNT_MAP_FULL, 1);
}

static __always_inline void window_close(__u32 tid)
{
	if (!bpf_map_delete_elem(&task_states, &tid))
		__sync_fetch_and_add(&open_windows, -1);
}

static __always_inline int window_exit(void)
{
	window_close((__u32)bpf_get_current_pid_tgid());
	return 0;
}

static __always_inline __u64 fault_mm(bool btf, struct vm_fault *vmf)
{
	return (__u64)(btf ? vmf->vma->vm_mm : BPF_CORE_READ(vmf, vma, vm_mm));
}

/*
 * Has the faulting mm ever pinned? A kprobe pays a helper call per field of
 * vmf, and only a remote fault (FAULT_FLAG_REMOTE: GUP on another process's
 * mm) is in an mm other than current's, which it reads without one.
 */
static __always_inline bool fault_mm_has_pinned(bool btf, struct vm_fault *vmf, __u32 flags)
{
	struct mm_struct *mm;

	if (btf)
		return mm_has_pinned(true, vmf->vma->vm_mm);
	if (!(flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_REMOTE)) &&
	    (mm = bpf_get_current_task_btf()->mm))
		return mm_has_pinned(true, mm);
	return mm_has_pinned(false, BPF_CORE_READ(vmf, vma, vm_mm));
}

/* What the kernel's own state says before a copy: can the old page be pinned? */
/*
 * The same test as folio_pincount(), on every write fault, so in one read of
 * the struct page (64 bytes on every kernel we know) rather than five: flags,
 * compound_head, _mapcount and _refcount all live in it. Only a large folio
 * needs a second read, of its _pincount.
 */
static __always_inline bool page_maybe_pinned(struct page *page)
{
	__u64 w[8];
	unsigned long flags, head;
	int refs, maps;

	if (!page || bpf_probe_read_kernel(w, sizeof(w), page))
		return false;
	flags = w[0];
	head = w[bpf_core_field_offset(struct page, compound_head) / 8];
	if (head & 1) /* a tail page: its folio is large */
		return BPF_CORE_READ((struct folio *)(head - 1), _pincount.counter) > 0;
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_reserved)))
		return false; /* the zero page: never pinned */
	if (flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head)))
		return BPF_CORE_READ((struct folio *)page, _pincount.counter) > 0;
	refs = ((int *)w)[bpf_core_field_offset(struct page, _refcount) / 4];
	maps = ((int *)w)[bpf_core_field_offset(struct page, _mapcount) / 4] + 1;
	return refs - maps >= GUP_PIN_COUNTING_BIAS;
}

static __always_inline __u64 pte_pfn(__u64 pte)
{
	return (pte & PTE_PFN_MASK) >> PAGE_SHIFT;
}

/*
 * A write or unshare fault on a present, write-protected PTE. A pin the
 * writer can leave stale was taken through the writer's own mm (pins through
 * other mms stay coherent: doc/kernel.md), and every FOLL_PIN GUP marks the
 * mm it walks with MMF_HAS_PINNED, never cleared (5.13, "mm: gup: pack
 * has_pinned in MMF_HAS_PINNED"): the COW of a process that never
 * pinned ends at that flag, before the struct page is read.
 */
static __always_inline int wp_enter(bool btf, struct vm_fault *vmf)
{
	__u32 flags = RD(btf, vmf, flags);
	__u64 pte = RD(btf, vmf, orig_pte.pte);

	count(GW_CNT_WP_FAULT, 1);
	if (!(flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_UNSHARE)) &&
	    (!fault_mm_has_pinned(btf, vmf, flags) || !page_maybe_pinned(pfn_to_page(pte_pfn(pte)))))
		return 0;
	window_open(&(struct task_state){ .window = WIN_WP, .fault_flags = flags, .vmf = vmf,
					  .old_pte = pte, .mm = fault_mm(btf, vmf),
					  .address = RD(btf, vmf, address) });
	return 0;
}

ENTRY_HOOK(do_wp_page, , wp_enter(BTF_ARGS, vmf), struct vm_fault *vmf)
/* THP COW never copies a PMD (split, then the PTE path above): only counted. */
ENTRY_HOOK(do_huge_pmd_wp_page, , count(GW_CNT_THP_WP_FAULT, 1), struct vm_fault *vmf)

/*
 * do_cow_fault (inlined into do_fault): a write to a not-present page of a
 * private file mapping copies the page-cache page (vmf->page, the exact
 * subpage of a THP) into vmf->cow_page, which finish_fault maps. It is how a
 * write lands on a page-cache THP whose PMD the write fault zapped.
 */
static __always_inline int cow_fault_enter(bool btf, struct vm_fault *vmf)
{
	__u32 flags = RD(btf, vmf, flags);
	struct page *old;

	if (!(flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_WRITE)) ||
	    !fault_mm_has_pinned(btf, vmf, flags) ||
	    ((btf ? vmf->vma->vm_flags : BPF_CORE_READ(vmf, vma, vm_flags)) & VM_SHARED))
		return 0;
	old = RD(btf, vmf, page);
	if (!page_maybe_pinned(old))
		return 0;
	window_open(&(struct task_state){ .window = WIN_WP, .kind = GW_WP_COW_FAULT,
					  .fault_flags = flags, .vmf = vmf, .mm = fault_mm(btf, vmf),
					  .address = RD(btf, vmf, address),
					  .old_pte = RD(btf, vmf, orig_pte.pte), .old_page = (__u64)old });
	return 0;
}

ENTRY_HOOK(finish_fault, , cow_fault_enter(BTF_ARGS, vmf), struct vm_fault *vmf)

/* hugetlb_wp: three prototypes; remember the old PTE, hugetlb_wp clears it before mapping the copy. */
static __always_inline int hugetlb_wp_enter(struct vm_fault *vmf, __u64 mm, __u64 address,
					    pte_t *ptep, __u32 fault_flags)
{
	struct task_state st = { .window = WIN_HUGETLB_WP, .kind = GW_WP_HUGETLB };
	__u64 old_pte = 0;

	count(GW_CNT_WP_FAULT, 1);
	if (vmf) {
		old_pte = BPF_CORE_READ(vmf, orig_pte.pte);
		mm = fault_mm(false, vmf);
		address = BPF_CORE_READ(vmf, address);
		fault_flags = BPF_CORE_READ(vmf, flags);
		/* 6.12 hugetlb_no_page() calls it with orig_pte unset: the PTE is mapped by then */
		if (!old_pte)
			ptep = BPF_CORE_READ(vmf, pte);
	}
	if (!old_pte && ptep)
		bpf_probe_read_kernel(&old_pte, sizeof(old_pte), ptep);
	if (!(fault_flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_UNSHARE)) &&
	    !page_maybe_pinned(pfn_to_page(pte_pfn(old_pte))))
		return 0;
	st.fault_flags = fault_flags;
	st.mm = mm;
	st.address = address;
	st.old_pte = old_pte;
	window_open(&st);
	return 0;
}

ENTRY_HOOK(hugetlb_wp, __7_mm_struct, hugetlb_wp_enter(NULL, (__u64)mm, address, ptep, flags), /* 6.1 */
	   struct mm_struct *mm, struct vm_area_struct *vma, unsigned long address, pte_t *ptep,
	   unsigned int flags)
ENTRY_HOOK(hugetlb_wp, __2_folio, hugetlb_wp_enter(vmf, 0, 0, NULL, 0),   /* 6.12.0 - 6.12.116 */
	   struct folio *pagecache_folio, struct vm_fault *vmf)
ENTRY_HOOK(hugetlb_wp, __1_vm_fault, hugetlb_wp_enter(vmf, 0, 0, NULL, 0), /* 6.12.117+, 6.18 */
	   struct vm_fault *vmf)
EXIT_HOOK(hugetlb_wp, window_exit())

/* ---- fork: copy_page_range is the window (it also calls copy_hugetlb_page_range) ---- */

static __always_inline int fork_enter(bool btf, struct vm_area_struct *dst_vma,
				      struct vm_area_struct *src_vma)
{
	struct task_state st = { .window = WIN_FORK };

	if (!mm_has_pinned(btf, RD(btf, src_vma, vm_mm)))
		return 0;
	st.mm = (__u64)RD(btf, dst_vma, vm_mm);
	window_open(&st);
	return 0;
}

ENTRY_HOOK(copy_page_range, , fork_enter(BTF_ARGS, dst_vma, src_vma),
	   struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
EXIT_HOOK(copy_page_range, window_exit())

/* ---- the copy signal: a new anon page mapped inside one of the windows ---- */

static __always_inline void emit_wp_copy(void *ctx, __u32 fault_flags, __u64 mm, __u64 address,
					 struct folio *new_folio, struct page *old_page, __u32 kind)
{
	bool unshare = fault_flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_UNSHARE);
	struct folio *old = old_page ? page_folio_of(old_page) : NULL;
	struct gw_event *e;
	__u32 flags = kind;

	count(GW_CNT_WP_COPY, 1);
	if (unshare)
		count(GW_CNT_UNSHARE_COPY, 1);
	e = event_reserve(ctx, GW_EV_WP_COPY, NULL, false);
	if (!e)
		return;
	/* read after the reserve: an unpin that raced with us is ahead of us in the ring */
	e->wp.old_pincount = old ? folio_pincount(old) : 0;
	if (unshare)
		flags |= GW_WP_UNSHARE;
	if (e->wp.old_pincount)
		flags |= GW_WP_OLD_PINNED;
	if (old && (__u64)BPF_CORE_READ(old, mapping) & 1)
		flags |= GW_WP_OLD_ANON;
	if (old && !(kind & GW_WP_HUGETLB) && folio_is_large(old))
		flags |= GW_WP_THP;
	e->wp.address = address;
	e->wp.mm = mm;
	e->wp.old_folio = (__u64)old;
	e->wp.old_pfn = addr_to_pfn((__u64)old_page);
	store_pfn(&e->wp.new_pfn, new_folio);
	e->wp.flags = flags;
	event_submit(e);
}

static __always_inline void emit_fork_copy(void *ctx, struct folio *new_folio, __u64 address, bool huge)
{
	struct gw_event *e;

	count(GW_CNT_FORK_COPY, 1);
	e = event_reserve(ctx, GW_EV_FORK_COPY, NULL, false);
	if (!e)
		return;
	e->fork.address = address;
	store_pfn(&e->fork.new_pfn, new_folio);
	e->fork.huge = huge;
	e->fork._pad = 0;
	event_submit(e);
}

/* Is this new page the window's copy? Same mm, the fault's page, and for a fault window the
 * fault still in progress (its vm_fault unchanged: a window left behind describes a past one). */
static __always_inline bool window_matches(const struct task_state *st, __u64 mm, __u64 address)
{
	struct vm_fault *vmf = st->vmf;

	if (st->mm != mm)
		return false;
	switch (st->window) {
	case WIN_WP:
		return (address & PAGE_MASK) == st->address && BPF_CORE_READ(vmf, address) == st->address &&
		       BPF_CORE_READ(vmf, flags) == st->fault_flags &&
		       BPF_CORE_READ(vmf, orig_pte.pte) == st->old_pte &&
		       (!st->old_page || (__u64)BPF_CORE_READ(vmf, page) == st->old_page);
	case WIN_HUGETLB_WP: /* the copy is mapped at the huge page's start, at most 1 GiB below */
		return address <= st->address && st->address - address < (1ULL << 30);
	default:
		return true;
	}
}

static __always_inline int on_new_anon(void *ctx, struct folio *new_folio,
				       struct vm_area_struct *vma, __u64 address, bool huge)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct task_state *st;
	struct vm_fault *vmf;

	if (!open_windows) /* every anonymous fault gets here: nothing to look up */
		return 0;
	st = bpf_map_lookup_elem(&task_states, &tid);
	if (!st)
		return 0;
	/* a number, not a BTF pointer: compared with the window's */
	if (!window_matches(st, (__u64)BPF_CORE_READ(vma, vm_mm), address)) {
		count(GW_CNT_WINDOW_STALE, 1);
		window_close(tid);
		return 0;
	}
	switch (st->window) {
	case WIN_WP:
		/* do_wp_page has set vmf->page to the old page (NULL for the zero page);
		 * do_cow_fault's is the page-cache page. The copy ends the window. */
		vmf = st->vmf; /* a local: task_state is ours, not the kernel's, no CO-RE on it */
		emit_wp_copy(ctx, st->fault_flags, st->mm, st->address, new_folio,
			     BPF_CORE_READ(vmf, page), st->kind);
		window_close(tid);
		break;
	case WIN_HUGETLB_WP:
		emit_wp_copy(ctx, st->fault_flags, st->mm, st->address, new_folio,
			     pfn_to_page(pte_pfn(st->old_pte)), st->kind);
		break;
	case WIN_FORK:
		emit_fork_copy(ctx, new_folio, address, huge);
		break;
	}
	return 0;
}

ENTRY_HOOK(page_add_new_anon_rmap, , on_new_anon(ctx, (struct folio *)page, vma, address, false),
	   struct page *page, struct vm_area_struct *vma, unsigned long address)     /* 6.1 */
ENTRY_HOOK(folio_add_new_anon_rmap, , on_new_anon(ctx, folio, vma, address, false),
	   struct folio *folio, struct vm_area_struct *vma, unsigned long address)   /* 6.12+ */
ENTRY_HOOK(hugepage_add_new_anon_rmap, , on_new_anon(ctx, (struct folio *)page, vma, address, true),
	   struct page *page, struct vm_area_struct *vma, unsigned long address)     /* 6.1 */
ENTRY_HOOK(hugetlb_add_new_anon_rmap, , on_new_anon(ctx, folio, vma, address, true),
	   struct folio *folio, struct vm_area_struct *vma, unsigned long address)   /* 6.12+ */

/* A thread that exits inside a window or GUP call (or whose exit probe was missed) leaves nothing behind. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(task_exit)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gup_call *c = gup_call_of_current(0); /* its storage goes with the task */

	window_close(tid);
	if (c && c->fast_depth) {
		c->fast_depth = 0;
		__sync_fetch_and_add(&fast_calls, -1);
	}
	return 0;
}
