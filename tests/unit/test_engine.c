// SPDX-License-Identifier: GPL-2.0
/* Correlation engine: hand-made event sequences in, findings and numbers out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

#define US(x) ((uint64_t)(x) * 1000)
#define MS(x) ((uint64_t)(x) * 1000 * 1000)
#define SEC(x) ((uint64_t)(x) * 1000 * 1000 * 1000)

/* struct page addresses: folio n has PFN n */
#define VMEMMAP 0xffffea0000000000ull
#define FOLIO(pfn) (VMEMMAP + (uint64_t)(pfn) * 64)

/* mm_struct addresses; user addresses: folio n is mapped at ADDR(n) */
#define MM(pid) (0xffff888000000000ull + ((uint64_t)(pid) << 16))
#define ADDR(pfn) (0x7f0000000000ull + (uint64_t)(pfn) * 4096)

#define RO 0
#define RW GW_PIN_WRITE
#define LT GW_PIN_LONGTERM
#define FAST GW_PIN_FAST

static struct gw_task tk(uint32_t pid, uint32_t tid, const char *comm)
{
	struct gw_task t = { .pid = pid, .tid = tid };

	strncpy(t.comm, comm, GW_COMM_LEN - 1);
	return t;
}

#define DD tk(100, 100, "dd")         /* a pinner */
#define FIO tk(110, 111, "fio")       /* another pinner */
#define WRITER tk(200, 200, "writer") /* writes to pinned memory */
#define SOFTIRQ tk(15, 15, "ksoftirqd/1")

static struct gw_event ev_base(uint32_t type, uint64_t ts, struct gw_task t)
{
	return (struct gw_event){ .type = type, .ts_ns = ts, .task = t, .kstack_id = -1, .ustack_id = -1 };
}

/* A pin of the page at address in mm (a large folio: folio is its head's PFN). */
static struct gw_event ev_pin_in(uint64_t ts, struct gw_task t, uint64_t folio, uint64_t pfn,
				 uint32_t refs, uint32_t flags, uint64_t mm, uint64_t address)
{
	struct gw_event ev = ev_base(GW_EV_PIN, ts, t);

	ev.pin = (struct gw_pin){ .folio = FOLIO(folio), .pfn = pfn, .mm = mm, .address = address,
				  .refs = refs, .flags = flags, .nr_pages = 1 };
	return ev;
}

/* A pin of the writer's page at ADDR(pfn), as process_vm_readv of its memory takes it. */
static struct gw_event ev_pin(uint64_t ts, struct gw_task t, uint64_t pfn, uint32_t refs, uint32_t flags)
{
	return ev_pin_in(ts, t, pfn, pfn, refs, flags, MM(200), ADDR(pfn));
}

static struct gw_event ev_unpin(uint64_t ts, struct gw_task t, uint64_t pfn, uint32_t refs, bool irq)
{
	struct gw_event ev = ev_base(GW_EV_UNPIN, ts, t);

	ev.in_irq = irq;
	ev.pin = (struct gw_pin){ .folio = FOLIO(pfn), .pfn = pfn, .refs = refs, .nr_pages = 1 };
	return ev;
}

/* An unpin the kernel side saw inside the GUP-fast call that pinned. */
static struct gw_event ev_undo(uint64_t ts, struct gw_task t, uint64_t pfn, uint32_t refs)
{
	struct gw_event ev = ev_unpin(ts, t, pfn, refs, false);

	ev.pin.flags = GW_UNPIN_GUP_UNDO;
	return ev;
}

/* A write-protect fault that copied folio old_pfn to new_pfn. */
static struct gw_event ev_wp(uint64_t ts, struct gw_task t, uint64_t addr, uint64_t old_pfn,
			     uint64_t new_pfn, uint32_t wp_flags, uint32_t pincount)
{
	struct gw_event ev = ev_base(GW_EV_WP_COPY, ts, t);

	ev.wp = (struct gw_wp_copy){ .address = addr, .mm = MM(t.pid), .old_folio = FOLIO(old_pfn), .old_pfn = old_pfn,
				     .new_pfn = new_pfn, .flags = wp_flags, .old_pincount = pincount };
	return ev;
}

static struct gw_event ev_fork(uint64_t ts, struct gw_task t, uint64_t addr, uint64_t new_pfn)
{
	struct gw_event ev = ev_base(GW_EV_FORK_COPY, ts, t);

	ev.fork = (struct gw_fork_copy){ .address = addr, .new_pfn = new_pfn };
	return ev;
}

/* Findings as the callback delivered them. */
static struct engine_finding got[64];
static size_t ngot;

static void capture(const struct engine_finding *f, void *ctx)
{
	(void)ctx;
	assert_true(ngot < 64);
	got[ngot++] = *f;
}

static struct engine *mk(struct engine_opts o)
{
	struct engine *e;

	o.on_finding = capture;
	if (!o.max_folios)
		o.max_folios = 1024;
	e = engine_new(&o);
	assert_non_null(e);
	ngot = 0;
	return e;
}

static void feed(struct engine *e, struct gw_event ev)
{
	assert_int_equal(engine_event(e, &ev), 0);
}

static struct engine_totals totals(const struct engine *e)
{
	struct engine_totals t;

	engine_totals(e, &t);
	return t;
}

/* The row of pid; fails the test if it is not reported. */
static struct engine_proc proc(const struct engine *e, uint32_t pid)
{
	struct engine_proc p[16];
	size_t n = engine_procs(e, p, 16), i;

	for (i = 0; i < n && i < 16; i++)
		if (p[i].pid == pid)
			return p[i];
	fail_msg("no row for pid %u", pid);
	return p[0];
}

/* Every unpin ref is credited to a process, or counted as unknown or unattributed. */
static void assert_unpins_add_up(const struct engine *e)
{
	struct engine_totals t = totals(e);
	struct engine_proc p[16];
	size_t n = engine_procs(e, p, 16), i;
	uint64_t sum = 0;

	assert_true(n <= 16);
	for (i = 0; i < n; i++)
		sum += p[i].unpin_refs;
	assert_int_equal(t.unpin_refs, sum + t.unknown_unpin_refs + t.unattributed_unpin_refs);
}

static char *render_finding(const struct engine *e, const struct engine_finding *f)
{
	char *s = NULL;
	size_t len;
	FILE *m = open_memstream(&s, &len);

	engine_print_finding(m, e, f);
	fclose(m);
	return s;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" not in:\n%s", needle, hay);
}

/* ---- pins, unpins, refs ---- */

static void test_refs_above_one(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 3, RO));
	feed(e, ev_unpin(US(5), DD, 0x10, 1, false));
	assert_int_equal(totals(e).out_refs, 2);
	assert_int_equal(proc(e, 100).out_refs, 2);
	feed(e, ev_unpin(US(9), DD, 0x10, 2, false));

	struct engine_totals t = totals(e);
	struct engine_proc p = proc(e, 100);
	assert_int_equal(t.pin_refs, 3);
	assert_int_equal(t.unpin_refs, 3);
	assert_int_equal(t.out_folios, 0);
	assert_int_equal(t.out_refs, 0);
	assert_int_equal(p.pin_refs, 3);
	assert_int_equal(p.unpin_refs, 3);
	assert_int_equal(p.ro_refs, 3);
	assert_int_equal(p.rw_refs, 0);
	assert_int_equal(p.out_folios, 0);
	assert_int_equal(t.unknown_unpin_refs + t.ambiguous_unpin_refs, 0);
	engine_free(e);
}

static void test_unpin_before_pin_of_other_folio(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_unpin(US(1), DD, 0x20, 1, false)); /* pinned before tracing started */
	feed(e, ev_pin(US(2), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(3), FIO, 0x20, 1, RW));
	feed(e, ev_unpin(US(4), DD, 0x10, 1, false));

	struct engine_totals t = totals(e);
	assert_int_equal(t.unknown_unpin_refs, 1);
	assert_int_equal(t.out_folios, 1);
	assert_int_equal(t.out_refs, 1);
	assert_int_equal(proc(e, 100).out_refs, 0);
	assert_int_equal(proc(e, 100).unpin_refs, 1);
	assert_int_equal(proc(e, 110).out_refs, 1);
	assert_int_equal(proc(e, 110).out_folios, 1);
	assert_unpins_add_up(e);
	engine_free(e);
}

static void test_interleaved_holders(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RO));
	feed(e, ev_pin(US(3), DD, 0x10, 1, RO));
	feed(e, ev_unpin(US(4), FIO, 0x10, 1, false)); /* process context: its own pin */
	feed(e, ev_unpin(US(5), DD, 0x10, 1, false));

	assert_int_equal(proc(e, 100).out_refs, 1);
	assert_int_equal(proc(e, 100).unpin_refs, 1);
	assert_int_equal(proc(e, 110).out_refs, 0);
	assert_int_equal(proc(e, 110).unpin_refs, 1);
	assert_int_equal(totals(e).by_age_unpin_refs, 0);
	assert_int_equal(totals(e).ambiguous_unpin_refs, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

static void test_large_folio_partial_unpins(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task lt = tk(120, 120, "iou");

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x200, 4, RO));
	feed(e, ev_pin(US(2), FIO, 0x200, 2, RW | LT));
	feed(e, ev_pin(US(3), lt, 0x200, 1, RO | LT));
	feed(e, ev_unpin(US(4), FIO, 0x200, 1, false));
	feed(e, ev_unpin(US(5), DD, 0x200, 2, false));
	assert_int_equal(totals(e).out_folios, 1);
	assert_int_equal(totals(e).out_refs, 4);
	assert_int_equal(totals(e).ambiguous_unpin_refs, 0);
	engine_finish(e, SEC(1));

	assert_int_equal(ngot, 3);
	for (size_t i = 0; i < ngot; i++) {
		assert_int_equal(got[i].kind, ENGINE_HELD_AT_EXIT);
		assert_int_equal(got[i].old_pfn, 0x200);
		assert_int_equal(got[i].pinners[0].folios, 1);
	}
	/* by pid */
	assert_int_equal(got[0].task.pid, 100);
	assert_int_equal(got[0].pinners[0].flags, RO);
	assert_int_equal(got[0].pinners[0].refs, 2);
	assert_int_equal(got[0].pinners[0].refs_min, 2);
	assert_int_equal(got[1].task.pid, 110);
	assert_int_equal(got[1].pinners[0].flags, RW | LT);
	assert_int_equal(got[1].pinners[0].refs, 1);
	assert_int_equal(got[2].task.pid, 120);
	assert_int_equal(got[2].pinners[0].flags, RO | LT);
	assert_int_equal(got[2].pinners[0].since_ns, US(3));
	engine_free(e);
}

static void test_irq_unpin_goes_to_holder_not_running_task(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x20, 1, RO));
	/* the O_DIRECT completion interrupts fio: dd's pin is dropped */
	feed(e, ev_unpin(US(3), FIO, 0x10, 1, true));
	assert_int_equal(proc(e, 100).out_refs, 0);
	assert_int_equal(proc(e, 100).unpin_refs, 1);
	assert_int_equal(proc(e, 110).out_refs, 1);
	assert_int_equal(proc(e, 110).unpin_refs, 0);

	/* process context, no pin of its own (ksoftirqd): the holder again */
	feed(e, ev_unpin(US(4), SOFTIRQ, 0x20, 1, false));
	assert_int_equal(proc(e, 110).out_refs, 0);
	assert_int_equal(proc(e, 110).unpin_refs, 1);
	assert_int_equal(totals(e).out_folios, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

static void test_irq_unpin_same_kind_takes_oldest(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RO));
	feed(e, ev_unpin(US(3), WRITER, 0x10, 1, true));
	assert_int_equal(totals(e).by_age_unpin_refs, 1);
	assert_int_equal(totals(e).ambiguous_unpin_refs, 0);

	/* the R/O split is exact, so the stale pin is certain, and names fio */
	feed(e, ev_wp(US(4), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].sev, ENGINE_SEV_MEDIUM);
	assert_int_equal(got[0].nr_pinners, 1);
	assert_int_equal(got[0].pinners[0].task.pid, 110);
	assert_int_equal(got[0].pinners[0].refs_min, 1);
	engine_free(e);
}

/* ---- ambiguity ---- */

static void test_ambiguous_irq_unpin(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RW));
	feed(e, ev_unpin(US(3), WRITER, 0x10, 1, true));

	struct engine_totals t = totals(e);
	assert_int_equal(t.ambiguous_unpin_refs, 1);
	assert_int_equal(t.unattributed_unpin_refs, 1);
	assert_int_equal(t.out_refs, 1); /* exact for the folio */
	assert_int_equal(t.out_ambiguous_folios, 1);
	assert_int_equal(proc(e, 100).out_refs, 1);
	assert_int_equal(proc(e, 100).out_refs_min, 0);
	assert_int_equal(proc(e, 110).out_refs_min, 0);
	assert_unpins_add_up(e);

	/* a write now: the R/O pin may be the one left */
	feed(e, ev_wp(SEC(2), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_STALE_PIN);
	assert_int_equal(got[0].sev, ENGINE_SEV_POSSIBLE);
	assert_int_equal(got[0].who, ENGINE_WHO_TRACKED);
	assert_int_equal(got[0].nr_pinners, 1);
	assert_int_equal(got[0].pinners[0].task.pid, 100);
	assert_int_equal(got[0].pinners[0].refs, 1);
	assert_int_equal(got[0].pinners[0].refs_min, 0);
	assert_int_equal(got[0].untracked_pins, 0);
	char *line = render_finding(e, &got[0]);
	assert_contains(line, "possible");
	assert_contains(line, "maybe 100/dd R/O 0-1 refs");
	free(line);

	engine_finish(e, SEC(3));
	assert_int_equal(ngot, 3);
	assert_int_equal(got[1].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[1].pinners[0].refs_min, 0);
	assert_int_equal(got[1].pinners[0].refs, 1);
	assert_int_equal(got[2].pinners[0].flags, RW);
	assert_int_equal(got[2].pinners[0].refs_min, 0);
	engine_free(e);
}

static void test_ambiguity_resolved_by_later_unpins(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	/* the IRQ unpin must have been dd's once fio drops its own pin */
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RW));
	feed(e, ev_unpin(US(3), WRITER, 0x10, 1, true));
	feed(e, ev_unpin(US(4), FIO, 0x10, 1, false));
	assert_int_equal(totals(e).out_folios, 0);
	assert_int_equal(totals(e).out_ambiguous_folios, 0);
	feed(e, ev_wp(US(5), WRITER, 0x7f0000001000, 0x10, 0x99, 0, 0));
	assert_int_equal(ngot, 0);

	/* 2 R/O + 1 R/W: one IRQ and one own unpin leave it open, the next IRQ closes it */
	feed(e, ev_pin(US(10), DD, 0x30, 2, RO));
	feed(e, ev_pin(US(11), FIO, 0x30, 1, RW));
	feed(e, ev_unpin(US(12), WRITER, 0x30, 1, true));
	feed(e, ev_unpin(US(13), DD, 0x30, 1, false));
	assert_int_equal(totals(e).out_refs, 1);
	assert_int_equal(totals(e).out_ambiguous_folios, 1);
	assert_int_equal(proc(e, 100).out_refs, 1);
	assert_int_equal(proc(e, 100).out_refs_min, 0);
	feed(e, ev_unpin(US(14), WRITER, 0x30, 1, true));
	assert_int_equal(totals(e).out_folios, 0);
	assert_int_equal(proc(e, 100).out_folios, 0);
	assert_int_equal(proc(e, 110).out_folios, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

static void test_ambiguous_within_one_process(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), DD, 0x10, 1, RW));
	feed(e, ev_unpin(US(3), DD, 0x10, 1, false));

	struct engine_totals t = totals(e);
	assert_int_equal(t.ambiguous_unpin_refs, 1);
	assert_int_equal(t.unattributed_unpin_refs, 0); /* the process is known */
	assert_int_equal(proc(e, 100).unpin_refs, 1);
	assert_int_equal(proc(e, 100).out_refs, 2);
	assert_int_equal(proc(e, 100).out_refs_min, 0);
	assert_int_equal(proc(e, 100).out_folios, 1);
	assert_unpins_add_up(e);
	engine_free(e);
}

/* ---- capacity and losses ---- */

static void test_table_overflow(void **state)
{
	struct engine *e = mk((struct engine_opts){ .max_folios = 2 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), DD, 0x20, 1, RO));
	feed(e, ev_pin(US(3), DD, 0x30, 2, RO));

	struct engine_totals t = totals(e);
	assert_int_equal(t.lost_pins, 1);
	assert_int_equal(t.lost_pin_refs, 2);
	assert_int_equal(t.pin_refs, 4); /* raw sum all the same */
	assert_int_equal(t.out_folios, 2);

	feed(e, ev_unpin(US(4), DD, 0x30, 2, false));
	assert_int_equal(totals(e).unknown_unpin_refs, 2);
	assert_int_equal(totals(e).unpin_refs, 2);

	/* room again: the folio is tracked from now on */
	feed(e, ev_unpin(US(5), DD, 0x10, 1, false));
	feed(e, ev_pin(US(6), DD, 0x30, 1, RO));
	assert_int_equal(totals(e).lost_pins, 1);
	assert_int_equal(totals(e).out_folios, 2);
	assert_unpins_add_up(e);
	engine_free(e);

	/* holder rows (twice max_folios) run out too: many holders on one folio */
	e = mk((struct engine_opts){ .max_folios = 1 });
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RO));
	feed(e, ev_pin(US(3), WRITER, 0x10, 1, RO));
	feed(e, ev_pin(US(4), DD, 0x10, 1, RO)); /* an existing row still takes refs */
	assert_int_equal(totals(e).lost_pins, 1);
	assert_int_equal(totals(e).out_refs, 3);
	engine_free(e);
}

static void test_gup_fast_undo_is_netted(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	/* however late (emulated guests take milliseconds), the kernel says so */
	feed(e, ev_pin(US(10), DD, 0x10, 1, RO | FAST));
	feed(e, ev_undo(MS(9), DD, 0x10, 1));
	/* outside a GUP-fast call: a real pin and unpin, however soon */
	feed(e, ev_pin(MS(10), DD, 0x10, 1, RO | FAST));
	feed(e, ev_unpin(MS(10) + 1, DD, 0x10, 1, false));
	/* not the pinning thread */
	feed(e, ev_pin(MS(20), DD, 0x20, 1, RW | FAST));
	feed(e, ev_undo(MS(20) + 500, tk(100, 101, "dd"), 0x20, 1));
	/* interrupt context is never an undo */
	feed(e, ev_pin(MS(30), DD, 0x30, 4, RO | FAST));
	feed(e, ev_unpin(MS(30) + 500, DD, 0x30, 4, true));

	struct engine_totals t = totals(e);
	struct engine_proc p = proc(e, 100);
	assert_int_equal(t.pin_refs, 7);
	assert_int_equal(t.unpin_refs, 7);
	assert_int_equal(t.fast_undone_refs, 1);
	assert_int_equal(p.fast_undone_refs, 1);
	assert_int_equal(p.ro_refs, 5);
	assert_int_equal(p.rw_refs, 1);
	assert_int_equal(p.ro_refs + p.rw_refs, p.pin_refs - p.fast_undone_refs);
	assert_int_equal(t.out_folios, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

static void test_fast_undo_keeps_older_pins(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(MS(1), DD, 0x10, 2, RO));
	feed(e, ev_pin(MS(2), DD, 0x10, 1, RO | FAST));
	feed(e, ev_undo(MS(2) + 300, DD, 0x10, 1));
	assert_int_equal(totals(e).fast_undone_refs, 1);
	assert_int_equal(proc(e, 100).out_refs, 2);
	assert_int_equal(proc(e, 100).oldest_ns, MS(1));
	engine_free(e);
}

/* GUP-fast pins a large folio page by page and undoes the folio in one call. */
static void test_batched_fast_undo(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	for (int i = 0; i < 3; i++)
		feed(e, ev_pin_in(US(1 + i), DD, 0x200, 0x200 + i, 1, RO | FAST, MM(100), ADDR(0x200 + i)));
	feed(e, ev_undo(US(5), DD, 0x200, 3));
	assert_int_equal(totals(e).fast_undone_refs, 3);
	assert_int_equal(totals(e).unknown_unpin_refs, 0);
	assert_int_equal(totals(e).out_refs, 0);
	assert_int_equal(proc(e, 100).ro_refs, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

/* An undo of more refs than the call's pins hold: no wrap, the rest is counted as unknown. */
static void test_fast_undo_beyond_held_is_clamped(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(US(1), DD, 0x10, 2, RO | FAST));
	feed(e, ev_undo(US(2), DD, 0x10, 5));
	assert_int_equal(totals(e).fast_undone_refs, 2);
	assert_int_equal(totals(e).unknown_unpin_refs, 3);
	assert_int_equal(totals(e).out_refs, 0);
	assert_int_equal(totals(e).out_folios, 0);
	assert_unpins_add_up(e);
	engine_free(e);
}

/* ---- STALE-PIN ---- */

static void test_stale_pin_names_pinner_and_writer(void **state)
{
	struct engine *e = mk((struct engine_opts){ .t0_ns = SEC(1) });

	(void)state;
	feed(e, ev_pin(SEC(1), DD, 0x10, 1, RO));
	feed(e, ev_wp(SEC(3), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 1);

	const struct engine_finding *f = &got[0];
	assert_int_equal(f->kind, ENGINE_STALE_PIN);
	assert_int_equal(f->sev, ENGINE_SEV_MEDIUM);
	assert_int_equal(f->task.pid, 200);
	assert_int_equal(f->address, ADDR(0x10));
	assert_int_equal(f->folio, FOLIO(0x10));
	assert_int_equal(f->old_pfn, 0x10);
	assert_int_equal(f->new_pfn, 0x99);
	assert_int_equal(f->who, ENGINE_WHO_TRACKED);
	assert_int_equal(f->nr_pinners, 1);
	assert_int_equal(f->pinners[0].task.pid, 100);
	assert_string_equal(f->pinners[0].task.comm, "dd");
	assert_int_equal(f->pinners[0].flags, RO);
	assert_int_equal(f->pinners[0].refs, 1);
	assert_int_equal(f->pinners[0].since_ns, SEC(1));
	assert_int_equal(proc(e, 200).wp_copies, 1);
	assert_int_equal(proc(e, 200).findings[ENGINE_STALE_PIN], 1);
	assert_int_equal(proc(e, 100).findings[ENGINE_STALE_PIN], 1);

	char *line = render_finding(e, f);
	assert_contains(line, "2.000000 STALE-PIN");
	assert_contains(line, "medium");
	assert_contains(line, "200/writer");
	assert_contains(line, "0x7f0000010000");
	assert_contains(line, "0x10->0x99");
	assert_contains(line, "100/dd R/O 1 ref held 2.00s");
	free(line);

	size_t n;
	assert_non_null(engine_findings(e, &n));
	assert_int_equal(n, 1);
	engine_free(e);
}

static void test_stale_pin_severity(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	/* long-term R/O among others: high; the R/W pin is no pinner of stale data */
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x10, 1, RO | LT));
	feed(e, ev_pin(US(3), WRITER, 0x10, 1, RW));
	feed(e, ev_wp(US(4), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 3));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].sev, ENGINE_SEV_HIGH);
	assert_int_equal(got[0].nr_pinners, 2);
	assert_int_equal(got[0].pinners[0].task.pid, 100); /* oldest first */
	assert_int_equal(got[0].pinners[1].task.pid, 110);
	assert_int_equal(got[0].untracked_pins, 0);

	/* only R/W pins: no finding */
	feed(e, ev_pin(US(5), DD, 0x20, 1, RW | LT));
	feed(e, ev_wp(US(6), WRITER, ADDR(0x20), 0x20, 0x98, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 1);

	/* the kernel saw no pin on a folio we think R/O-pinned: say so, as possible */
	feed(e, ev_pin(US(7), DD, 0x30, 1, RO));
	feed(e, ev_wp(US(8), WRITER, ADDR(0x30), 0x30, 0x97, 0, 0));
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].sev, ENGINE_SEV_POSSIBLE);
	char *line = render_finding(e, &got[1]);
	assert_contains(line, "(kernel: not pinned)");
	free(line);
	engine_free(e);
}

static void test_stale_pin_taken_before_start(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_wp(US(1), WRITER, 0x5000, 0x40, 0x96, 0, 0)); /* an ordinary COW */
	assert_int_equal(ngot, 0);
	feed(e, ev_wp(US(2), WRITER, 0x6000, 0x50, 0x95, GW_WP_OLD_PINNED | GW_WP_OLD_ANON, 0));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_STALE_PIN);
	assert_int_equal(got[0].sev, ENGINE_SEV_POSSIBLE);
	assert_int_equal(got[0].who, ENGINE_WHO_NONE);
	assert_int_equal(got[0].nr_pinners, 0);
	assert_int_equal(got[0].untracked_pins, 1);
	assert_int_equal(got[0].task.pid, 200);
	char *line = render_finding(e, &got[0]);
	assert_contains(line, "unknown (pinned before tracing started)");
	free(line);

	/* a large folio's exact _pincount beyond what the table holds (R/W only here) */
	feed(e, ev_pin(US(3), DD, 0x60, 1, RW));
	feed(e, ev_wp(US(4), WRITER, 0x7000, 0x60, 0x94, GW_WP_OLD_PINNED | GW_WP_THP, 3));
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].untracked_pins, 2);
	assert_int_equal(got[1].nr_pinners, 0);
	assert_int_equal(got[1].sev, ENGINE_SEV_POSSIBLE);
	assert_int_equal(totals(e).wp_copies, 3);
	engine_free(e);
}

/* ---- UNSHARE ---- */

static void test_unshare_linked_to_its_pin(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task gup = tk(300, 301, "reader");

	(void)state;
	/* GUP-fast grabs the shared page, must unshare, undoes; the slow path faults and pins the copy */
	feed(e, ev_pin(US(100), gup, 0x10, 1, RO | LT | FAST));
	feed(e, ev_undo(US(101), gup, 0x10, 1));
	feed(e, ev_wp(US(110), gup, 0x7f0000002000, 0x10, 0x5000, GW_WP_UNSHARE | GW_WP_OLD_ANON, 0));
	assert_int_equal(ngot, 0); /* waits for its pin */
	feed(e, ev_pin(US(120), tk(300, 302, "reader"), 0x5000, 1, RO | LT)); /* other thread */
	assert_int_equal(ngot, 0);
	feed(e, ev_pin(US(125), gup, 0x5000, 1, RO | LT));
	assert_int_equal(ngot, 1);

	const struct engine_finding *f = &got[0];
	assert_int_equal(f->kind, ENGINE_UNSHARE);
	assert_int_equal(f->task.tid, 301);
	assert_int_equal(f->address, 0x7f0000002000);
	assert_int_equal(f->old_pfn, 0x10);
	assert_int_equal(f->new_pfn, 0x5000);
	assert_int_equal(f->who, ENGINE_WHO_TRACKED);
	assert_int_equal(f->pinners[0].flags, RO | LT);
	assert_int_equal(f->pinners[0].since_ns, US(125));
	char *line = render_finding(e, f);
	assert_contains(line, "pinned it: R/O,longterm 1 ref after 15.0us");
	free(line);

	assert_int_equal(proc(e, 300).unshares, 1);
	assert_int_equal(totals(e).unshares, 1);
	assert_int_equal(totals(e).wp_copies, 0);
	assert_int_equal(totals(e).fast_undone_refs, 1);
	engine_free(e);
}

static void test_unshare_without_pin_and_order(void **state)
{
	struct engine *e = mk((struct engine_opts){ .link_ns = MS(1) });
	struct gw_task a = tk(300, 301, "reader"), b = tk(400, 400, "other");

	(void)state;
	feed(e, ev_wp(US(10), a, 0x1000, 0x10, 0x5000, GW_WP_UNSHARE, 0)); /* no pin follows */
	feed(e, ev_wp(US(20), b, 0x2000, 0x20, 0x6000, GW_WP_UNSHARE, 0));
	feed(e, ev_pin(US(30), b, 0x6000, 1, RO));
	assert_int_equal(ngot, 0); /* reported in order: the first still waits */
	feed(e, ev_pin(MS(5), DD, 0x70, 1, RW)); /* any later event moves time on */
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].task.pid, 300);
	assert_int_equal(got[0].who, ENGINE_WHO_NONE);
	assert_int_equal(got[1].task.pid, 400);
	assert_int_equal(got[1].who, ENGINE_WHO_TRACKED);

	/* the idle live loop, and the end of tracing, flush too */
	feed(e, ev_wp(MS(6), a, 0x3000, 0x30, 0x7000, GW_WP_UNSHARE, 0));
	engine_tick(e, MS(6) + US(10));
	assert_int_equal(ngot, 2);
	engine_tick(e, MS(8));
	assert_int_equal(ngot, 3);
	feed(e, ev_wp(MS(9), a, 0x4000, 0x40, 0x8000, GW_WP_UNSHARE, 0));
	engine_finish(e, MS(9));
	assert_int_equal(got[3].kind, ENGINE_UNSHARE);
	char *line = render_finding(e, &got[3]);
	assert_contains(line, "no pin followed");
	free(line);
	engine_free(e);
}

/* ---- FORK-COPY ---- */

static void test_fork_copy_names_parent_pins(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task parent = tk(500, 500, "uring"), lonely = tk(600, 600, "lonely");

	(void)state;
	feed(e, ev_pin(US(1), parent, 0x10, 1, RW | LT));
	feed(e, ev_pin(US(1), parent, 0x11, 1, RW | LT));
	feed(e, ev_pin(US(2), parent, 0x12, 1, RO));
	feed(e, ev_fork(US(3), parent, 0x7f0000010000, 0x900));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_FORK_COPY);
	assert_int_equal(got[0].task.pid, 500);
	assert_int_equal(got[0].address, 0x7f0000010000);
	assert_int_equal(got[0].new_pfn, 0x900);
	assert_int_equal(got[0].who, ENGINE_WHO_CANDIDATES);
	assert_int_equal(got[0].nr_pinners, 2);
	assert_int_equal(got[0].pinners[0].flags, RO);
	assert_int_equal(got[0].pinners[0].folios, 1);
	assert_int_equal(got[0].pinners[1].flags, RW | LT);
	assert_int_equal(got[0].pinners[1].refs, 2);
	assert_int_equal(got[0].pinners[1].folios, 2);
	assert_int_equal(got[0].pinners[1].refs_min, 0); /* not known to be on the copied page */

	feed(e, ev_fork(US(4), lonely, 0x7f0000020000, 0x901));
	assert_int_equal(got[1].who, ENGINE_WHO_NONE);
	char *line = render_finding(e, &got[1]);
	assert_contains(line, "->0x901");
	assert_contains(line, "not identifiable");
	free(line);
	assert_int_equal(proc(e, 500).fork_copies, 1);
	assert_int_equal(totals(e).fork_copies, 2);
	engine_free(e);
}

static void test_fork_and_cow_sequence(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task parent = tk(500, 500, "srv"), child = tk(501, 501, "srv");
	struct gw_task reader = tk(700, 700, "reader");

	(void)state;
	feed(e, ev_pin(MS(1), parent, 0x10, 1, RW | LT));         /* io_uring buffer */
	feed(e, ev_fork(MS(2), parent, 0x7f0000000000, 0x800));   /* child gets a copy */
	feed(e, ev_wp(MS(3), child, 0x7f0000001000, 0x20, 0x801, GW_WP_OLD_ANON, 0)); /* plain COW */
	/* process_vm_readv of a file page mapped by the parent, which it then writes */
	feed(e, ev_pin_in(MS(4), reader, 0x30, 0x30, 1, RO | GW_PIN_REMOTE, MM(500), ADDR(0x30)));
	feed(e, ev_wp(MS(5), parent, ADDR(0x30), 0x30, 0x802, GW_WP_OLD_PINNED, 1));
	/* the child maps the same page cache page, and its write copies it: the pin is of the
	 * parent's mapping, which still shows the pinned page */
	feed(e, ev_wp(MS(6), child, ADDR(0x30), 0x30, 0x804, GW_WP_OLD_PINNED, 1));
	feed(e, ev_unpin(MS(7), reader, 0x30, 1, false));
	feed(e, ev_wp(MS(8), child, 0x7f0000004000, 0x30, 0x803, 0, 0)); /* pin gone: nothing */
	engine_finish(e, MS(9));

	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].kind, ENGINE_FORK_COPY);
	assert_int_equal(got[0].pinners[0].flags, RW | LT);
	assert_int_equal(got[1].kind, ENGINE_STALE_PIN);
	assert_int_equal(got[1].task.pid, 500);
	assert_int_equal(got[1].pinners[0].task.pid, 700);
	assert_int_equal(got[1].pinners[0].flags, RO | GW_PIN_REMOTE);
	assert_int_equal(got[1].sev, ENGINE_SEV_MEDIUM);
	assert_int_equal(got[2].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[2].task.pid, 500);
	assert_int_equal(totals(e).cow_other_pin_copies, 1);
	assert_int_equal(proc(e, 501).wp_copies, 3);
	assert_int_equal(proc(e, 500).wp_copies, 1);
	engine_free(e);
}

/* STALE-PIN is about the pinned mapping: pinner P pins S's MAP_SHARED page, T COWs it. */
static void test_cross_mm_copy_is_not_stale(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task p = tk(300, 300, "pinner"), t = tk(400, 400, "private");

	(void)state;
	feed(e, ev_pin_in(US(1), p, 0x10, 0x10, 1, RO | LT | GW_PIN_REMOTE, MM(350), ADDR(0x10)));
	feed(e, ev_wp(US(2), t, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 0);
	assert_int_equal(totals(e).cow_other_pin_copies, 1);
	assert_int_equal(totals(e).wp_copies, 1);
	/* where the pin's mm is unknown (pinned inside no GUP call gupwatch saw): possible */
	feed(e, ev_pin_in(US(3), p, 0x20, 0x20, 1, RO, 0, 0));
	feed(e, ev_wp(US(4), t, ADDR(0x20), 0x20, 0x98, GW_WP_OLD_PINNED, 1));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].sev, ENGINE_SEV_POSSIBLE);
	assert_int_equal(got[0].pinners[0].task.pid, 300);
	assert_int_equal(got[0].pinners[0].refs_min, 0);
	engine_free(e);
}

/* A pin of subpage 0 of a large folio; the writer copies subpage 1, then subpage 0. */
static void test_neighbour_subpage_copy_is_not_stale(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	uint64_t base = ADDR(0x200);

	(void)state;
	feed(e, ev_pin_in(US(1), DD, 0x200, 0x200, 1, RO, MM(200), base));
	feed(e, ev_wp(US(2), WRITER, base + 4096, 0x200, 0x99, GW_WP_OLD_PINNED | GW_WP_THP, 1));
	assert_int_equal(ngot, 0);
	assert_int_equal(totals(e).cow_other_pin_copies, 1);
	/* a second pin of subpages 2-3 in one grab: the row covers 0-3 */
	feed(e, ev_pin_in(US(3), DD, 0x200, 0x202, 2, RO, MM(200), base + 2 * 4096));
	feed(e, ev_wp(US(4), WRITER, base + 3 * 4096, 0x200, 0x98, GW_WP_OLD_PINNED | GW_WP_THP, 3));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].sev, ENGINE_SEV_MEDIUM);
	assert_int_equal(got[0].pinners[0].refs, 3);
	feed(e, ev_wp(US(5), WRITER, base + 4 * 4096, 0x200, 0x97, GW_WP_OLD_PINNED | GW_WP_THP, 3));
	assert_int_equal(ngot, 1);
	engine_free(e);
}

/* ---- ZERO-PIN ---- */

/* 6.1 hands a R/O long-term pin the shared zero page without pinning it. */
static void test_zero_page_pin(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_event ev = ev_pin_in(US(1), DD, 0x5, 0x5, 1, RO | LT, MM(100), ADDR(0x5));

	(void)state;
	ev.type = GW_EV_ZERO_PIN;
	feed(e, ev);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_ZERO_PIN);
	assert_int_equal(got[0].sev, ENGINE_SEV_HIGH);
	assert_int_equal(got[0].address, ADDR(0x5));
	assert_int_equal(got[0].old_pfn, 0x5);
	assert_int_equal(got[0].pinners[0].flags, RO | LT);
	char *line = render_finding(e, &got[0]);
	assert_contains(line, "ZERO-PIN");
	assert_contains(line, "100/dd");
	assert_contains(line, "R/O,longterm pin got the zero page");
	free(line);
	/* no pin exists: nothing outstanding, nothing to unpin, not in the pin refs */
	assert_int_equal(totals(e).pin_refs, 0);
	assert_int_equal(totals(e).zero_pin_refs, 1);
	assert_int_equal(totals(e).out_refs, 0);
	assert_int_equal(proc(e, 100).findings[ENGINE_ZERO_PIN], 1);
	engine_free(e);
}

/* ---- PIN-FAILED ---- */

static void test_pin_failed(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_event ev = ev_base(GW_EV_PIN_CALL, SEC(2), FIO);

	(void)state;
	ev.call = (struct gw_pin_call){ .address = 0x7000, .nr_pages = 4, .ret = -14,
					    .flags = GW_PIN_WRITE | GW_PIN_LONGTERM | GW_PIN_FAST };
	feed(e, ev);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_PIN_FAILED);
	assert_int_equal(got[0].sev, ENGINE_SEV_HIGH);
	assert_int_equal(got[0].error, -14);
	assert_int_equal(got[0].nr_pages, 4);
	assert_int_equal(got[0].address, 0x7000);
	assert_int_equal(got[0].pinners[0].flags, GW_PIN_WRITE | GW_PIN_LONGTERM);
	char *line = render_finding(e, &got[0]);
	assert_contains(line, "PIN-FAILED");
	assert_contains(line, "R/W,longterm pin of 4 pages failed: EFAULT (-14)");
	free(line);
	assert_int_equal(totals(e).findings[ENGINE_PIN_FAILED], 1);
	/* a success that is not a long-term call's, or a failure of no pages, is a bad event */
	ev.call.ret = 4;
	ev.call.flags = GW_PIN_WRITE;
	assert_int_equal(engine_event(e, &ev), -EINVAL);
	ev.call.flags = GW_PIN_WRITE | GW_PIN_LONGTERM;
	assert_int_equal(engine_event(e, &ev), 0);
	assert_int_equal(ngot, 1);
	ev.call.ret = -14;
	ev.call.nr_pages = 0;
	assert_int_equal(engine_event(e, &ev), -EINVAL);
	engine_free(e);
}

/* ---- LONGTERM-IN-MOVABLE ---- */

#define MOV GW_PIN_IN_MOVABLE

static struct gw_event ev_lt_call(uint64_t ts, struct gw_task t, uint64_t pages)
{
	struct gw_event ev = ev_base(GW_EV_PIN_CALL, ts, t);

	ev.call = (struct gw_pin_call){ .address = ADDR(0x20), .nr_pages = pages,
					.ret = (int64_t)pages, .flags = RW | LT };
	return ev;
}

static void test_longterm_in_movable(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_task fio2 = tk(110, 112, "fio");
	char *line;

	(void)state;
	/* what the kernel does: pin, unpin the movable pages, migrate, pin the copies */
	feed(e, ev_pin(SEC(1), FIO, 0x20, 1, RW | LT | MOV));
	feed(e, ev_pin(SEC(1), FIO, 0x21, 1, RW | LT | MOV));
	feed(e, ev_unpin(SEC(1), FIO, 0x20, 1, false));
	feed(e, ev_unpin(SEC(1), FIO, 0x21, 1, false));
	feed(e, ev_pin(SEC(1), FIO, 0x30, 1, RW | LT));
	feed(e, ev_pin(SEC(1), FIO, 0x31, 1, RW | LT));
	feed(e, ev_lt_call(SEC(1), FIO, 2));
	assert_int_equal(ngot, 0);
	/* a short-term pin of movable memory is allowed (and is not placed) */
	feed(e, ev_pin(SEC(2), DD, 0x22, 1, RO));
	/* a call that kept a movable page: one finding, for its page, its pinner */
	feed(e, ev_pin(SEC(2), FIO, 0x23, 1, RW | LT | MOV));
	feed(e, ev_pin(SEC(2), FIO, 0x32, 1, RW | LT));
	/* another thread's call in progress, with a page not moved yet: not this call's */
	feed(e, ev_pin(SEC(2), fio2, 0x24, 1, RO | LT | MOV));
	feed(e, ev_lt_call(SEC(3), FIO, 2));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_LONGTERM_IN_MOVABLE);
	assert_int_equal(got[0].sev, ENGINE_SEV_HIGH);
	assert_int_equal(got[0].old_pfn, 0x23);
	assert_int_equal(got[0].address, ADDR(0x23));
	assert_int_equal(got[0].task.tid, 111);
	assert_int_equal(got[0].nr_pinners, 1);
	assert_int_equal(got[0].pinners[0].flags, RW | LT);
	assert_int_equal(got[0].pinners[0].refs, 1);
	assert_int_equal(got[0].pinners[0].since_ns, SEC(2));
	line = render_finding(e, &got[0]);
	assert_contains(line, "LONGTERM-IN-MOVABLE");
	assert_contains(line, "0x23 ");
	assert_contains(line, "R/W,longterm 1 ref kept in ZONE_MOVABLE");
	free(line);
	/* reported once; the other thread's comes with its own call */
	feed(e, ev_lt_call(SEC(4), FIO, 1));
	assert_int_equal(ngot, 1);
	feed(e, ev_lt_call(SEC(4), fio2, 1));
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].old_pfn, 0x24);
	assert_int_equal(got[1].pinners[0].flags, RO | LT);
	/* the mark is the folio's: a row's flags and the per-process numbers are not split by it */
	assert_int_equal(proc(e, 110).longterm_refs, 7);
	assert_int_equal(proc(e, 110).findings[ENGINE_LONGTERM_IN_MOVABLE], 2);
	assert_int_equal(totals(e).findings[ENGINE_LONGTERM_IN_MOVABLE], 2);
	/* unpinned and pinned again: a new pin that stays is a new finding */
	feed(e, ev_unpin(SEC(5), FIO, 0x23, 1, false));
	feed(e, ev_pin(SEC(5), FIO, 0x23, 1, RW | LT | MOV));
	feed(e, ev_lt_call(SEC(5), FIO, 1));
	assert_int_equal(ngot, 3);
	assert_int_equal(got[2].old_pfn, 0x23);
	engine_free(e);
}

/* ---- MIGRATE-BLOCKED ---- */

static struct gw_event ev_migrate(uint64_t ts, uint64_t pfn, int32_t refcount, int32_t expected,
				  uint32_t pins)
{
	struct gw_event ev = ev_base(GW_EV_MIGRATE_FAILED, ts, WRITER);

	ev.migrate = (struct gw_migrate_failed){ .folio = FOLIO(pfn), .pfn = pfn, .nr_pages = 1,
						 .reason = 3 /* MR_SYSCALL */, .refcount = refcount,
						 .expected = expected, .pins = pins, .node = 0,
						 .zone = GW_ZONE_MOVABLE };
	return ev;
}

static void test_migrate_blocked(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	char *line;

	(void)state;
	/* a long-term R/W pin on page 0x10 and a short-term R/O one on 0x11 */
	feed(e, ev_pin(SEC(1), DD, 0x10, 1, RW | LT));
	feed(e, ev_pin(SEC(1), FIO, 0x11, 1, RO));
	feed(e, ev_migrate(SEC(3), 0x10, 1026, 2, 1));
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_MIGRATE_BLOCKED);
	assert_int_equal(got[0].sev, ENGINE_SEV_HIGH);
	assert_int_equal(got[0].old_pfn, 0x10);
	assert_int_equal(got[0].who, ENGINE_WHO_TRACKED);
	assert_int_equal(got[0].nr_pinners, 1);
	assert_int_equal(got[0].pinners[0].task.pid, 100);
	assert_int_equal(got[0].untracked_pins, 0);
	line = render_finding(e, &got[0]);
	assert_contains(line, "MIGRATE-BLOCKED");
	assert_contains(line, "syscall, node 0 Movable: 1024 extra references (refcount 1026, "
			"migration expects 2): 100/dd R/W,longterm 1 ref held 2.00s");
	free(line);
	/* the pinner is a party of the finding too */
	assert_int_equal(proc(e, 100).findings[ENGINE_MIGRATE_BLOCKED], 1);
	assert_int_equal(proc(e, 200).findings[ENGINE_MIGRATE_BLOCKED], 1);

	feed(e, ev_migrate(SEC(3), 0x11, 1026, 2, 1));
	assert_int_equal(got[1].sev, ENGINE_SEV_MEDIUM);
	assert_int_equal(got[1].pinners[0].task.pid, 110);

	/* an extra FOLL_GET reference (a pipe's): no pin to blame */
	feed(e, ev_migrate(SEC(4), 0x12, 3, 2, 0));
	assert_int_equal(got[2].sev, ENGINE_SEV_POSSIBLE);
	assert_int_equal(got[2].who, ENGINE_WHO_NONE);
	line = render_finding(e, &got[2]);
	assert_contains(line, "1 extra reference (refcount 3, migration expects 2): none of them "
			"FOLL_PIN pins gupwatch saw");
	free(line);

	/* a pin the kernel shows that was taken before tracing started */
	feed(e, ev_migrate(SEC(5), 0x13, 1026, 2, 1));
	assert_int_equal(got[3].untracked_pins, 1);
	line = render_finding(e, &got[3]);
	assert_contains(line, "unknown (pinned before tracing started)");
	free(line);

	/* the unpinned page moves: a failure with no extra references says so */
	feed(e, ev_unpin(SEC(6), DD, 0x10, 1, false));
	feed(e, ev_migrate(SEC(7), 0x10, 2, 2, 0));
	assert_int_equal(got[4].nr_pinners, 0);
	line = render_finding(e, &got[4]);
	assert_contains(line, "no extra references (refcount 2), failed for another reason");
	free(line);
	assert_int_equal(totals(e).findings[ENGINE_MIGRATE_BLOCKED], 5);

	/* a long-term pin call's migration fails in its thread, then the call: linked */
	struct gw_event lt = ev_migrate(SEC(8), 0x14, 3, 2, 0);
	struct gw_event pf = ev_base(GW_EV_PIN_CALL, SEC(8), WRITER);

	lt.migrate.reason = 7; /* MR_LONGTERM_PIN */
	feed(e, lt);
	lt.migrate.folio = FOLIO(0x15);
	feed(e, lt);
	pf.call = (struct gw_pin_call){ .nr_pages = 2, .ret = -12,
					    .flags = GW_PIN_WRITE | GW_PIN_LONGTERM };
	feed(e, pf);
	assert_int_equal(got[7].kind, ENGINE_PIN_FAILED);
	assert_int_equal(got[7].blocked_folios, 2);
	line = render_finding(e, &got[7]);
	assert_contains(line, "R/W,longterm pin of 2 pages failed: ENOMEM (-12): 2 folios could not "
			"be migrated out first (MIGRATE-BLOCKED)");
	free(line);
	feed(e, pf); /* another failure of the thread, with no migration before it */
	assert_int_equal(got[8].blocked_folios, 0);

	struct gw_event bad = ev_migrate(SEC(8), 0x10, 2, 2, 0);
	bad.migrate.folio = 0;
	assert_int_equal(engine_event(e, &bad), -EINVAL);
	engine_free(e);
}

/* ---- HELD-AT-EXIT ---- */

static void test_held_at_exit(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });

	(void)state;
	feed(e, ev_pin(SEC(1), DD, 0x10, 2, RO));
	feed(e, ev_pin(SEC(2), DD, 0x11, 1, RO | FAST));
	feed(e, ev_pin(SEC(3), DD, 0x12, 1, RW));
	feed(e, ev_pin(SEC(3), FIO, 0x13, 1, RW));
	feed(e, ev_unpin(SEC(3), FIO, 0x13, 1, false));
	engine_finish(e, SEC(5));
	engine_finish(e, SEC(6)); /* once */

	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[0].ts_ns, SEC(5));
	assert_int_equal(got[0].task.pid, 100);
	assert_int_equal(got[0].pinners[0].flags, RO);
	assert_int_equal(got[0].pinners[0].refs, 3);
	assert_int_equal(got[0].pinners[0].folios, 2);
	assert_int_equal(got[0].pinners[0].since_ns, SEC(1));
	assert_int_equal(got[0].old_pfn, 0x10);
	assert_int_equal(got[1].pinners[0].flags, RW);
	assert_int_equal(got[1].pinners[0].refs, 1);
	char *line = render_finding(e, &got[0]);
	assert_contains(line, "HELD-AT-EXIT");
	assert_contains(line, "R/O 3 refs on 2 folios, held 4.00s");
	free(line);
	assert_int_equal(proc(e, 100).oldest_ns, SEC(1));
	assert_int_equal(proc(e, 100).out_folios, 3);
	assert_int_equal(totals(e).end_ns, SEC(5));
	assert_int_equal(engine_event(e, &(struct gw_event){ .type = GW_EV_GET }), -EINVAL);
	engine_free(e);
}

/* ---- filters ---- */

/* dd pins, the writer COWs, fio only holds another pin. */
static void feed_filter_story(struct engine *e)
{
	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x20, 1, RW));
	feed(e, ev_wp(US(3), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	engine_finish(e, US(4));
}

static void test_filter_pid(void **state)
{
	struct engine_proc rows[8];
	struct engine *e;

	(void)state;
	/* -p writer: sees the stale pin though dd pinned, and only its own row */
	e = mk((struct engine_opts){ .filter_pid = 200 });
	feed_filter_story(e);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_STALE_PIN);
	assert_int_equal(engine_procs(e, rows, 8), 1);
	assert_int_equal(rows[0].pid, 200);
	assert_int_equal(totals(e).findings[ENGINE_HELD_AT_EXIT], 2);
	assert_int_equal(totals(e).findings_shown[ENGINE_HELD_AT_EXIT], 0);
	assert_int_equal(totals(e).pin_refs, 2); /* totals stay system-wide */
	engine_free(e);

	/* -p dd: the stale pin (as pinner) and its own held pin */
	e = mk((struct engine_opts){ .filter_pid = 100 });
	feed_filter_story(e);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].kind, ENGINE_STALE_PIN);
	assert_int_equal(got[1].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[1].task.pid, 100);
	engine_free(e);

	/* -p fio: only its held pin */
	e = mk((struct engine_opts){ .filter_pid = 110 });
	feed_filter_story(e);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[0].task.pid, 110);
	size_t n;
	engine_findings(e, &n);
	assert_int_equal(n, 1);
	assert_int_equal(totals(e).findings[ENGINE_STALE_PIN], 1);
	assert_int_equal(totals(e).findings_shown[ENGINE_STALE_PIN], 0);
	engine_free(e);
}

static void test_filter_unshare_and_stored_findings(void **state)
{
	struct engine *e = mk((struct engine_opts){ .filter_pid = 300, .max_findings = 1 });
	size_t n;

	(void)state;
	feed(e, ev_wp(US(1), tk(300, 301, "reader"), 0x1000, 0x10, 0x5000, GW_WP_UNSHARE, 0));
	feed(e, ev_wp(US(2), tk(400, 400, "other"), 0x2000, 0x20, 0x6000, GW_WP_UNSHARE, 0));
	feed(e, ev_wp(US(3), tk(300, 301, "reader"), 0x3000, 0x30, 0x7000, GW_WP_UNSHARE, 0));
	engine_finish(e, 0);
	assert_int_equal(totals(e).end_ns, US(3));
	assert_int_equal(ngot, 2); /* the callback sees every reported finding */
	assert_int_equal(got[0].address, 0x1000);
	assert_int_equal(got[1].address, 0x3000);
	assert_int_equal(engine_findings(e, &n)->address, 0x1000);
	assert_int_equal(n, 1);
	assert_int_equal(totals(e).findings_unstored, 1);
	assert_int_equal(totals(e).findings[ENGINE_UNSHARE], 3);
	assert_int_equal(totals(e).findings_shown[ENGINE_UNSHARE], 2);
	engine_free(e);
}

static void test_filter_comm(void **state)
{
	struct engine_proc rows[8];
	struct engine *e = mk((struct engine_opts){ .filter_comm = "fio" });

	(void)state;
	feed_filter_story(e);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].task.pid, 110);
	assert_int_equal(engine_procs(e, rows, 8), 1);
	assert_string_equal(rows[0].comm, "fio");
	engine_free(e);

	e = mk((struct engine_opts){ .filter_comm = "dd", .filter_pid = 200 }); /* both must match */
	feed_filter_story(e);
	assert_int_equal(ngot, 0);
	assert_int_equal(engine_procs(e, NULL, 0), 0);
	engine_free(e);
}

/* the filter story's processes in cgroups, until they are gone (no /proc entry) */
static bool story_gone;
static bool story_cgroup_of(void *ctx, uint32_t pid, char *path, size_t len)
{
	(void)ctx;
	const char *cg = story_gone ? NULL : pid == 100 ? "/system.slice/dd.service" :
			 pid == 110 ? "/kubepods/fio" : pid == 200 ? "/user.slice/writer" : NULL;

	if (cg)
		snprintf(path, len, "%s", cg);
	return cg;
}

static void test_filter_cgroup(void **state)
{
	static const struct {
		const char *cgroup;
		size_t findings;
	} cases[] = {
		{ "/system.slice", 2 }, /* dd: the stale pin (as pinner) and its held pin, as -p 100 */
		{ "/kubepods/", 1 },    /* fio's held pin; a trailing slash is the same cgroup */
		{ "/", 3 },             /* everyone */
		{ "/system", 0 },       /* a prefix of a name is not a parent */
	};
	struct engine_proc rows[8];
	struct engine *e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = mk((struct engine_opts){ .filter_cgroup = cases[i].cgroup, .cgroup_of = story_cgroup_of });
		feed_filter_story(e);
		if (ngot != cases[i].findings)
			fail_msg("--cgroup %s: %zu findings, expected %zu", cases[i].cgroup, ngot, cases[i].findings);
		engine_free(e);
	}
	e = mk((struct engine_opts){ .filter_cgroup = "/system.slice", .cgroup_of = story_cgroup_of });
	feed_filter_story(e);
	assert_int_equal(engine_procs(e, rows, 8), 1);
	assert_int_equal(rows[0].pid, 100);
	engine_free(e);

	/* a cgroup is the one the process had when first seen: dd's pin is seen, then /proc
	 * forgets everyone; dd's findings still pass, the writer first seen after that does not */
	for (int i = 0; i < 2; i++) {
		e = mk((struct engine_opts){ .filter_cgroup = i ? "/user.slice" : "/system.slice",
					      .cgroup_of = story_cgroup_of });
		feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
		story_gone = true;
		feed(e, ev_wp(US(3), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
		engine_finish(e, US(4));
		story_gone = false;
		assert_int_equal(ngot, i ? 0 : 2);
		engine_free(e);
	}
	/* a cgroup filter needs a way to learn cgroups */
	errno = 0;
	assert_null(engine_new(&(struct engine_opts){ .max_folios = 8, .filter_cgroup = "/" }));
	assert_int_equal(errno, EINVAL);
}

/* ---- table mechanics, bad input, rendering ---- */

static void test_table_churn_matches_model(void **state)
{
	enum { N = 300 };
	struct engine *e = mk((struct engine_opts){ .max_folios = N });
	uint32_t model[N] = { 0 }, seed = 12345;
	uint64_t out_refs = 0, out_folios = 0;

	(void)state;
	/* many adds and deletes with colliding probe chains exercise backward-shift deletion */
	for (int i = 0; i < 20000; i++) {
		uint32_t k;

		seed = seed * 1103515245 + 12345;
		k = (seed >> 8) % N;
		if (model[k] && (seed >> 30) & 1) {
			feed(e, ev_unpin(US(i), DD, 0x1000 + k * 512, 1, false));
			out_folios -= !--model[k];
			out_refs--;
		} else {
			feed(e, ev_pin(US(i), DD, 0x1000 + k * 512, 1, RO));
			out_folios += !model[k]++;
			out_refs++;
		}
		if (i % 97 == 0) {
			assert_int_equal(totals(e).out_folios, out_folios);
			assert_int_equal(totals(e).out_refs, out_refs);
		}
	}
	assert_int_equal(totals(e).out_refs, out_refs);
	assert_int_equal(proc(e, 100).out_folios, out_folios);
	assert_int_equal(totals(e).unknown_unpin_refs, 0);
	assert_int_equal(totals(e).lost_pins, 0);
	engine_free(e);
}

static void test_bad_events_and_proc_overflow(void **state)
{
	struct engine *e = mk((struct engine_opts){ .max_procs = 2 });
	struct engine_proc rows[4];

	(void)state;
	assert_int_equal(engine_event(e, &(struct gw_event){ .type = 99 }), -EINVAL);
	struct gw_event zero = ev_pin(US(1), DD, 0x10, 0, RO);
	assert_int_equal(engine_event(e, &zero), -EINVAL);
	assert_int_equal(totals(e).bad_events, 2);
	assert_int_equal(totals(e).events, 0);

	feed(e, ev_pin(US(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(US(2), FIO, 0x20, 1, RO));
	feed(e, ev_pin(US(3), WRITER, 0x30, 1, RO)); /* third process: the "(other)" row */
	assert_int_equal(engine_procs(e, rows, 4), 3);
	assert_int_equal(rows[0].pid, 0);
	assert_string_equal(rows[0].comm, "(other)");
	assert_int_equal(rows[0].pin_refs, 1);
	assert_int_equal(rows[0].out_refs, 1);
	feed(e, ev_fork(US(4), WRITER, 0x1000, 0x99)); /* its pins are not the parent's */
	assert_int_equal(got[0].who, ENGINE_WHO_NONE);
	engine_free(e);

	errno = 0;
	assert_null(engine_new(&(struct engine_opts){ 0 }));
	assert_int_equal(errno, EINVAL);
}

/* A pin event with its stacks, as record captures them. */
static struct gw_event ev_pin_at(uint64_t ts, struct gw_task t, uint64_t pfn, uint32_t flags,
				 int32_t kstack, int32_t ustack)
{
	struct gw_event ev = ev_pin(ts, t, pfn, 1, flags);

	ev.kstack_id = kstack;
	ev.ustack_id = ustack;
	return ev;
}

static const struct engine_site *site_of(const struct engine_site *s, size_t n, uint32_t pid, int32_t kstack)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].task.pid == pid && s[i].kstack_id == kstack)
			return &s[i];
	fail_msg("no site of pid %u kstack %d", pid, kstack);
	return NULL;
}

/*
 * Sites split a process's pins by stack: hold times land in log2 slots of
 * their own site, pin-seconds integrate refs over time (outstanding ones up
 * to the clock), GUP-fast undos are no holds, and a site holds what is still
 * outstanding with its age.
 */
static void test_sites_hold_times_and_pin_seconds(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct engine_site s[8];
	const struct engine_site *io, *rd;
	struct engine_proc p;
	size_t n;

	(void)state;
	/* io_uring-like: 2 long-term R/W pins from stack 7, held 2 s and still held */
	feed(e, ev_pin_at(SEC(1), DD, 10, RW | LT, 7, 70));
	feed(e, ev_pin_at(SEC(1), DD, 11, RW | LT, 7, 70));
	/* pvm-like: R/O pins from stack 8: one held 3 ms, one undone by GUP-fast */
	feed(e, ev_pin_at(SEC(2), DD, 20, RO | FAST, 8, 80));
	feed(e, ev_undo(SEC(2) + US(1), DD, 20, 1));
	feed(e, ev_pin_at(SEC(2) + US(2), DD, 20, RO, 8, 80));
	feed(e, ev_unpin(SEC(2) + US(2) + MS(3), DD, 20, 1, false));
	engine_tick(e, SEC(3));

	n = engine_sites(e, s, 8);
	assert_int_equal(n, 2);
	io = site_of(s, n, 100, 7);
	assert_int_equal(io->ustack_id, 70);
	assert_int_equal(io->flags, RW | LT);
	assert_int_equal(io->pin_refs, 2);
	assert_int_equal(io->released_refs, 0);
	assert_int_equal(io->out_refs, 2);
	assert_int_equal(io->out_folios, 2);
	assert_int_equal(io->oldest_ns, SEC(1));
	assert_int_equal(io->pin_ns, 2 * SEC(2));

	rd = site_of(s, n, 100, 8);
	assert_int_equal(rd->flags, RO);
	assert_int_equal(rd->pin_refs, 2);
	assert_int_equal(rd->fast_undone_refs, 1);
	assert_int_equal(rd->released_refs, 1);
	assert_int_equal(rd->out_refs, 0);
	assert_int_equal(rd->oldest_ns, 0);
	/* 3 ms = 3000 us: slot [2048, 4096) us is 12 */
	assert_int_equal(engine_hold_slot(MS(3)), 12);
	assert_int_equal(rd->hold[12], 1);
	for (unsigned int i = 0; i < ENGINE_HOLD_SLOTS; i++)
		if (i != 12)
			assert_int_equal(rd->hold[i], 0);
	/* pin-seconds integrate every moment a ref was out: the undone one too (1 us) */
	assert_int_equal(rd->pin_ns, MS(3) + US(1));

	p = proc(e, 100);
	assert_int_equal(p.out_rw_refs, 2);
	assert_int_equal(p.out_ro_refs, 0);
	assert_int_equal(p.out_longterm_refs, 2);
	assert_int_equal(p.pin_ns, io->pin_ns + rd->pin_ns);

	/* the engine's clock moves on: outstanding pins keep adding pin-seconds */
	engine_finish(e, SEC(5));
	n = engine_sites(e, s, 8);
	assert_int_equal(site_of(s, n, 100, 7)->pin_ns, 2 * SEC(4));
	assert_int_equal(engine_hold_slot(0), 0);
	assert_int_equal(engine_hold_slot(US(1)), 1);
	assert_int_equal(engine_hold_slot(UINT64_MAX), ENGINE_HOLD_SLOTS - 1);
	engine_free(e);
}

/* Findings carry the stacks of their event, and of each pinner's pin. */
static void test_findings_carry_stacks(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	struct gw_event w = ev_wp(SEC(2), WRITER, ADDR(30), 30, 31, 0, 1);

	(void)state;
	feed(e, ev_pin_at(SEC(1), DD, 30, RO, 5, 50));
	w.kstack_id = 6;
	w.ustack_id = 60;
	feed(e, w);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].kind, ENGINE_STALE_PIN);
	assert_int_equal(got[0].kstack_id, 6);
	assert_int_equal(got[0].ustack_id, 60);
	assert_int_equal(got[0].pinners[0].kstack_id, 5);
	assert_int_equal(got[0].pinners[0].ustack_id, 50);
	engine_finish(e, SEC(3));
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].kind, ENGINE_HELD_AT_EXIT);
	assert_int_equal(got[1].pinners[0].kstack_id, 5);
	engine_free(e);
}

/* More sites than max_sites: the rest share "(other)" and nothing is lost. */
static void test_site_overflow(void **state)
{
	struct engine *e = mk((struct engine_opts){ .max_sites = 2 });
	struct engine_site s[8];
	uint64_t pins = 0, out = 0;
	size_t n, i;

	(void)state;
	for (i = 0; i < 5; i++)
		feed(e, ev_pin_at(SEC(1), DD, 40 + i, RO, i, -1));
	feed(e, ev_unpin(SEC(2), DD, 44, 1, false));
	n = engine_sites(e, s, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		pins += s[i].pin_refs;
		out += s[i].out_refs;
	}
	assert_int_equal(pins, 5);
	assert_int_equal(out, 4);
	assert_int_equal(site_of(s, n, 0, -1)->pin_refs, 3);
	engine_free(e);
}

static void test_summary_render(void **state)
{
	struct engine *e = mk((struct engine_opts){ 0 });
	uint64_t cnt[GW_CNT__MAX] = {
		[GW_CNT_PIN_REFS] = 5, [GW_CNT_UNPIN_REFS] = 2, [GW_CNT_WP_FAULT] = 9,
		[GW_CNT_WP_COPY] = 2, [GW_CNT_UNSHARE_COPY] = 1, [GW_CNT_RINGBUF_DROP] = 3,
	};
	char *s = NULL, *hdr, *row;
	size_t len;
	FILE *m;

	(void)state;
	feed(e, ev_pin(SEC(1), DD, 0x10, 1, RO));
	feed(e, ev_pin(SEC(1), FIO, 0x10, 1, RW));
	feed(e, ev_unpin(SEC(2), WRITER, 0x10, 1, true));
	feed(e, ev_wp(SEC(3), WRITER, ADDR(0x10), 0x10, 0x99, GW_WP_OLD_PINNED, 1));
	feed(e, ev_wp(SEC(3), tk(300, 301, "reader"), 0x2000, 0x20, 0x98, GW_WP_UNSHARE, 0));
	engine_set_counters(e, cnt);
	engine_finish(e, SEC(4));
	assert_true(totals(e).have_counters);
	assert_int_equal(totals(e).counters[GW_CNT_RINGBUF_DROP], 3);

	m = open_memstream(&s, &len);
	engine_print_summary(m, e, NULL, NULL);
	fclose(m);
	assert_contains(s, "gupwatch summary: 3.000 s, 5 events");
	assert_contains(s, "    100 dd                        1          0          0          1          0");
	assert_contains(s, "    100 dd                        1         0-1      3.00s");
	assert_contains(s, "  STALE-PIN                    1          1");
	assert_contains(s, "  unpin refs                                1            2");
	assert_contains(s, "  copies: pinned COW + unshare              2            2");
	assert_contains(s, "  events lost: ring buffer full                           3");
	assert_contains(s, "  unpin refs of ambiguous kind (R/O, R/W, LT)             1");
	/* columns line up: the first data row is as wide as its header */
	hdr = strstr(s, "    PID COMM");
	row = strchr(hdr, '\n') + 1;
	assert_int_equal(strchr(hdr, '\n') - hdr, strchr(row, '\n') - row);
	free(s);
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs_above_one),
		cmocka_unit_test(test_unpin_before_pin_of_other_folio),
		cmocka_unit_test(test_interleaved_holders),
		cmocka_unit_test(test_large_folio_partial_unpins),
		cmocka_unit_test(test_irq_unpin_goes_to_holder_not_running_task),
		cmocka_unit_test(test_irq_unpin_same_kind_takes_oldest),
		cmocka_unit_test(test_ambiguous_irq_unpin),
		cmocka_unit_test(test_ambiguity_resolved_by_later_unpins),
		cmocka_unit_test(test_ambiguous_within_one_process),
		cmocka_unit_test(test_table_overflow),
		cmocka_unit_test(test_gup_fast_undo_is_netted),
		cmocka_unit_test(test_fast_undo_keeps_older_pins),
		cmocka_unit_test(test_batched_fast_undo),
		cmocka_unit_test(test_fast_undo_beyond_held_is_clamped),
		cmocka_unit_test(test_stale_pin_names_pinner_and_writer),
		cmocka_unit_test(test_stale_pin_severity),
		cmocka_unit_test(test_stale_pin_taken_before_start),
		cmocka_unit_test(test_unshare_linked_to_its_pin),
		cmocka_unit_test(test_unshare_without_pin_and_order),
		cmocka_unit_test(test_fork_copy_names_parent_pins),
		cmocka_unit_test(test_fork_and_cow_sequence),
		cmocka_unit_test(test_cross_mm_copy_is_not_stale),
		cmocka_unit_test(test_neighbour_subpage_copy_is_not_stale),
		cmocka_unit_test(test_zero_page_pin),
		cmocka_unit_test(test_pin_failed),
		cmocka_unit_test(test_longterm_in_movable),
		cmocka_unit_test(test_migrate_blocked),
		cmocka_unit_test(test_held_at_exit),
		cmocka_unit_test(test_filter_pid),
		cmocka_unit_test(test_filter_unshare_and_stored_findings),
		cmocka_unit_test(test_filter_comm),
		cmocka_unit_test(test_filter_cgroup),
		cmocka_unit_test(test_table_churn_matches_model),
		cmocka_unit_test(test_bad_events_and_proc_overflow),
		cmocka_unit_test(test_summary_render),
		cmocka_unit_test(test_sites_hold_times_and_pin_seconds),
		cmocka_unit_test(test_findings_carry_stacks),
		cmocka_unit_test(test_site_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
