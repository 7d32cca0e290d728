// SPDX-License-Identifier: GPL-2.0
/*
 * gwgen: a synthetic gupwatch recording, written through recfile.c's writer,
 * for replay benchmarks (make bench-replay) and the report digest test.
 *
 *   gwgen [-n EVENTS] [-s SEED] -o FILE
 *
 * The mix, per 100 steps (one step = one PIN/UNPIN batch or one fault):
 *   ~55 process_vm_readv storms: a reader R/O-pins 1..8 pages of the target
 *       (remote: the target's mm and user address, some pages in THPs) and
 *       unpins them 2..50 us later;
 *   ~25 O_DIRECT GUP-fast pins of dio's own buffer, 1/16 undone at once
 *       (GW_UNPIN_GUP_UNDO), the rest completed 20..200 us later, half of
 *       them in interrupt context;
 *   ~13 write COW faults by the target: mostly of unpinned pages, 1 in 25
 *       of a page a reader holds (STALE-PIN), 1 in 10 through a THP;
 *   ~2 FOLL_GET; rarely: an unshare linked to the reader's pin of the copy,
 *       io_uring re-registering 64 of its 4096 long-term R/W buffer pages, a
 *       fork of fio copying pinned pages, a zero-page long-term pin.
 * Same seed and size, same bytes (the header's clocks and host are fixed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recfile.h"

#define VMEMMAP 0xffffea0000000000ull
#define FOLIO(pfn) (VMEMMAP + (uint64_t)(pfn) * 64)
#define MM(pid) (0xffff888100000000ull + ((uint64_t)(pid) << 20))
#define T0 (3600ull * 1000000000ull) /* monotonic start: one hour after boot */
#define KTEXT 0xffffffff81000000ull
#define PAGE 4096ull

#define FOLL_WRITE 0x1
#define FOLL_GET 0x4
#define FOLL_FORCE 0x10
#define FOLL_REMOTE 0x2000
#define FOLL_LONGTERM 0x100
#define FOLL_PIN 0x40000

/* The target's memory: TARGET_PAGES pages from TARGET_VA, the first THP_PAGES in 2 MB THPs. */
#define TARGET_PID 2000
#define TARGET_VA 0x7f3a00000000ull
#define TARGET_PAGES (1u << 20) /* 4 GB: most readv pins are of folios not pinned before */
#define THP_PAGES (1u << 16)
#define DIO_PID 4000
#define DIO_VA 0x7f5000000000ull
#define DIO_PAGES (1u << 14)
#define FIO_PID 3000
#define FIO_VA 0x7f6000000000ull
#define FIO_PAGES 4096u
#define NR_READERS 4

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) * n >> 32);
}

static struct rec_writer w;
static const char *out_path;
static uint64_t now = T0, written, next_pfn = 0x100000;
static uint64_t cnt[GW_CNT__MAX];
static uint64_t *tpfn;   /* target page -> its PFN (changes on COW) */
static uint32_t *tpins;  /* target page -> R/O refs readers hold on it now */
static uint64_t fio_pfn[FIO_PAGES];

static struct gw_task task(uint32_t pid, uint32_t tid, const char *comm)
{
	struct gw_task t = { .pid = pid, .tid = tid };

	strncpy(t.comm, comm, GW_COMM_LEN - 1);
	return t;
}

static void put(struct gw_event *e)
{
	if (rec_writer_event(&w, e)) {
		fprintf(stderr, "gwgen: %s\n", strerror(w.err));
		rec_writer_close(&w);
		unlink(out_path); /* a partial file must not pass for a generated one */
		exit(1);
	}
	written++;
}

static void emit_pin(uint32_t type, const struct gw_task *t, uint64_t folio_pfn, uint64_t pfn,
		     uint32_t nr_pages, uint64_t mm, uint64_t addr, uint32_t refs, uint32_t flags,
		     int32_t kstack, int32_t ustack, uint32_t in_irq)
{
	struct gw_event e = { .type = type, .ts_ns = now, .task = *t, .in_irq = in_irq,
			      .kstack_id = kstack, .ustack_id = ustack };

	e.pin = (struct gw_pin){ .folio = FOLIO(folio_pfn), .pfn = pfn, .refs = refs, .flags = flags,
				 .nr_pages = nr_pages };
	if (type == GW_EV_PIN || type == GW_EV_ZERO_PIN || type == GW_EV_GET) {
		e.pin.mm = mm;
		e.pin.address = addr;
		e.pin.gup_flags = (type == GW_EV_GET ? FOLL_GET : FOLL_PIN) |
				  (flags & GW_PIN_WRITE ? FOLL_WRITE : 0) |
				  (flags & GW_PIN_LONGTERM ? FOLL_LONGTERM : 0) |
				  (flags & GW_PIN_REMOTE ? FOLL_REMOTE : 0);
	}
	if (type == GW_EV_PIN)
		cnt[GW_CNT_PIN_REFS] += refs;
	else if (type == GW_EV_UNPIN)
		cnt[GW_CNT_UNPIN_REFS] += refs;
	put(&e);
	now += 1 + below(40);
}

/* ---- pending unpins, by due time (binary heap) ---- */

struct unpin {
	uint64_t due, folio_pfn;
	uint32_t refs, pid, tid, irq, target_page; /* target_page: UINT32_MAX if none */
};

static struct unpin *heap;
static size_t nheap, heap_cap;

static void heap_push(struct unpin u)
{
	size_t i = nheap++;

	if (nheap > heap_cap) {
		heap_cap = heap_cap ? 2 * heap_cap : 1024;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		if (!heap)
			exit(1);
	}
	for (; i && heap[(i - 1) / 2].due > u.due; i = (i - 1) / 2)
		heap[i] = heap[(i - 1) / 2];
	heap[i] = u;
}

static struct unpin heap_pop(void)
{
	struct unpin top = heap[0], last = heap[--nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < nheap) {
		if (c + 1 < nheap && heap[c + 1].due < heap[c].due)
			c++;
		if (last.due <= heap[c].due)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

static const char *const reader_comm[NR_READERS] = { "pvm-reader", "criu", "gdb", "pvm-reader" };

static struct gw_task reader(uint32_t r)
{
	return task(1000 + r, 1000 + r + 100 * below(2), reader_comm[r]);
}

/* A target page's folio: a THP's head, or the page itself. */
static uint64_t target_folio(uint32_t page, uint32_t *nr_pages)
{
	if (page < THP_PAGES) {
		*nr_pages = 512;
		return tpfn[page & ~511u];
	}
	*nr_pages = 1;
	return tpfn[page];
}

static void reader_pin(const struct gw_task *t, uint32_t page, uint64_t hold)
{
	uint32_t nr_pages;
	uint64_t head = target_folio(page, &nr_pages);
	uint64_t pfn = page < THP_PAGES ? head + (page & 511) : head;

	emit_pin(GW_EV_PIN, t, head, pfn, nr_pages, MM(TARGET_PID), TARGET_VA + page * PAGE, 1,
		 GW_PIN_REMOTE, 1, 10 + t->pid - 1000, 0);
	tpins[page]++;
	heap_push((struct unpin){ .due = now + hold, .folio_pfn = head, .refs = 1, .pid = t->pid,
				  .tid = t->tid, .target_page = page });
}

static void pvm_storm(void)
{
	struct gw_task t = reader(below(NR_READERS));
	uint32_t page = below(TARGET_PAGES - 8), n = 1 + below(8);
	uint64_t hold = 2000 + below(48000);

	for (uint32_t i = 0; i < n; i++)
		reader_pin(&t, page + i, hold);
}

static void dio(void)
{
	struct gw_task t = task(DIO_PID, DIO_PID + 1 + below(4), "dio");
	uint32_t page = below(DIO_PAGES - 4), n = 1 + below(4);
	uint32_t flags = GW_PIN_FAST | (below(2) ? GW_PIN_WRITE : 0);
	bool undo = !below(16);
	uint64_t hold = 20000 + below(180000);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t pfn = 0x10000000 + page + i;

		emit_pin(GW_EV_PIN, &t, pfn, pfn, 1, MM(DIO_PID), DIO_VA + (page + i) * PAGE, 1, flags,
			 2, 20, 0);
		if (undo)
			emit_pin(GW_EV_UNPIN, &t, pfn, pfn, 1, 0, 0, 1, GW_UNPIN_GUP_UNDO, 3, -1, 0);
		else
			heap_push((struct unpin){ .due = now + hold, .folio_pfn = pfn, .refs = 1,
						  .pid = DIO_PID, .tid = t.tid, .irq = below(2),
						  .target_page = UINT32_MAX });
	}
}

static void complete(const struct unpin *u)
{
	struct gw_task t = u->irq ? task(0, 0, "swapper/3") :
		u->pid == DIO_PID ? task(DIO_PID, u->tid, "dio") :
		task(u->pid, u->tid, reader_comm[u->pid - 1000]);

	emit_pin(GW_EV_UNPIN, &t, u->folio_pfn, u->folio_pfn, 1, 0, 0, u->refs, 0, 3, -1, u->irq);
	if (u->target_page != UINT32_MAX)
		tpins[u->target_page]--;
}

/* The target writes a page: COW copies it (it was shared with a fork child). */
static void write_cow(void)
{
	struct gw_task t = task(TARGET_PID, TARGET_PID + below(2), "target");
	uint32_t page = below(TARGET_PAGES), nr_pages, pins = 0;
	struct gw_event e = { .type = GW_EV_WP_COPY, .task = t, .kstack_id = 4, .ustack_id = 30 };
	uint64_t head;

	/* 1 in 25: a page some reader holds now (the heap has its pins) */
	if (!below(25) && nheap) {
		const struct unpin *u = &heap[below(nheap)];

		if (u->target_page != UINT32_MAX)
			page = u->target_page;
	} else if (!below(10)) {
		page = below(THP_PAGES);
	}
	head = target_folio(page, &nr_pages);
	for (uint32_t i = 0; i < nr_pages; i++)
		pins += tpins[(page & (nr_pages == 1 ? ~0u : ~511u)) + i];
	e.ts_ns = now;
	e.wp = (struct gw_wp_copy){ .address = TARGET_VA + page * PAGE, .mm = MM(TARGET_PID),
				    .old_folio = FOLIO(head),
				    .old_pfn = nr_pages == 1 ? head : head + (page & 511),
				    .new_pfn = next_pfn, .old_pincount = pins,
				    .flags = GW_WP_OLD_ANON | (nr_pages > 1 ? GW_WP_THP : 0) |
					     (pins ? GW_WP_OLD_PINNED : 0) };
	cnt[GW_CNT_WP_FAULT]++;
	cnt[GW_CNT_WP_COPY]++;
	put(&e);
	now += 1 + below(40);
	/* the target maps the copy: a THP is split, the written page becomes a small one */
	if (nr_pages == 1)
		tpfn[page] = next_pfn++;
}

/* A reader's R/O pin of a page shared with a fork child: unshare, then pin the copy. */
static void unshare(void)
{
	struct gw_task t = reader(below(NR_READERS));
	uint32_t page = THP_PAGES + below(TARGET_PAGES - THP_PAGES);
	struct gw_event e = { .type = GW_EV_WP_COPY, .ts_ns = now, .task = t, .kstack_id = 5,
			      .ustack_id = -1 };

	e.wp = (struct gw_wp_copy){ .address = TARGET_VA + page * PAGE, .mm = MM(TARGET_PID),
				    .old_folio = FOLIO(tpfn[page]), .old_pfn = tpfn[page],
				    .new_pfn = next_pfn, .flags = GW_WP_UNSHARE | GW_WP_OLD_ANON };
	cnt[GW_CNT_WP_FAULT]++;
	cnt[GW_CNT_WP_COPY]++;
	cnt[GW_CNT_UNSHARE_COPY]++;
	put(&e);
	now += 1 + below(40);
	tpfn[page] = next_pfn++;
	reader_pin(&t, page, 5000 + below(20000));
}

/* io_uring: register buffers (long-term R/W), or unregister and re-register 64 of them. */
static void uring_register(uint32_t first, uint32_t n, bool unregister)
{
	struct gw_task t = task(FIO_PID, FIO_PID + 1, "fio");

	for (uint32_t i = first; i < first + n; i++) {
		if (unregister)
			emit_pin(GW_EV_UNPIN, &t, fio_pfn[i], fio_pfn[i], 1, 0, 0, 1, 0, 3, -1, 0);
		fio_pfn[i] = 0x20000000 + (unregister ? next_pfn++ : i);
		emit_pin(GW_EV_PIN, &t, fio_pfn[i], fio_pfn[i], 1, MM(FIO_PID), FIO_VA + i * PAGE, 1,
			 GW_PIN_WRITE | GW_PIN_LONGTERM, 6, 40, 0);
	}
}

/* fio forks: fork copies the pages that may be pinned for the child. */
static void fork_copy(void)
{
	struct gw_task t = task(FIO_PID, FIO_PID + 1, "fio");
	uint32_t first = below(FIO_PAGES - 4);

	for (uint32_t i = first; i < first + 4; i++) {
		struct gw_event e = { .type = GW_EV_FORK_COPY, .ts_ns = now, .task = t,
				      .kstack_id = 7, .ustack_id = 41 };

		e.fork = (struct gw_fork_copy){ .address = FIO_VA + i * PAGE, .new_pfn = next_pfn++ };
		cnt[GW_CNT_FORK_COPY]++;
		put(&e);
		now += 1 + below(40);
	}
}

static void get_ref(void)
{
	struct gw_task t = task(DIO_PID, DIO_PID + 1, "dio");
	uint64_t pfn = 0x10000000 + below(DIO_PAGES);

	emit_pin(GW_EV_GET, &t, pfn, pfn, 1, MM(DIO_PID), DIO_VA + (pfn - 0x10000000) * PAGE, 1, 0,
		 8, 20, 0);
}

static void zero_pin(void)
{
	struct gw_task t = task(5000, 5000, "rdma-app");

	emit_pin(GW_EV_ZERO_PIN, &t, 0x8000, 0x8000, 1, MM(5000), 0x7f7000000000ull + PAGE * below(64),
		 1, GW_PIN_LONGTERM, 9, 50, 0);
}

/* Kernel symbols, stacks (ids 1-9 kernel, 10+ user) before the first event. */
static void write_stacks(void)
{
	static const char *const syms[] = { "try_grab_folio", "__get_user_pages",
		"process_vm_rw_core.constprop.0", "gup_fast_fallback", "iomap_dio_bio_iter",
		"unpin_user_pages", "bio_release_pages", "do_wp_page", "handle_mm_fault",
		"io_pin_pages", "io_sqe_buffers_register", "copy_present_ptes", "get_user_pages_fast",
		"pin_user_pages", "rdma_umem_get" };
	static const uint8_t kst[9][4] = { /* symbol indexes + 1 */
		{ 1, 2, 3 }, { 1, 4, 5 }, { 6, 7 }, { 8, 9 }, { 8, 2, 3 }, { 1, 10, 11 }, { 12 },
		{ 13, 5 }, { 1, 14, 15 } };
	uint64_t f[4];

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		rec_writer_ksym(&w, KTEXT + 0x10000 * (i + 1), syms[i]);
	for (uint32_t id = 1; id <= 9; id++) {
		uint32_t nr = 0;

		for (; nr < 4 && kst[id - 1][nr]; nr++)
			f[nr] = KTEXT + 0x10000 * kst[id - 1][nr] + 0x10 * (nr + 1);
		rec_writer_stack(&w, id, false, f, nr);
	}
	for (uint32_t id = 10; id <= 50; id++) {
		f[0] = 0x401000 + id * 0x40;
		f[1] = 0x7f1234560000ull + id * 0x100;
		rec_writer_stack(&w, id, true, f, 2);
	}
}

int main(int argc, char **argv)
{
	uint64_t n = 10000000, seed = 1;
	const char *out = NULL;
	struct rec_header h;
	char err[512];
	int opt;

	while ((opt = getopt(argc, argv, "n:s:o:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			out = NULL;
			optind = argc + 1;
		}
	}
	if (!out || optind != argc || n < FIO_PAGES * 2) {
		fprintf(stderr, "usage: gwgen [-n EVENTS (>= %u, default 10000000)] [-s SEED] -o FILE\n",
			FIO_PAGES * 2);
		return 2;
	}
	rng_state = seed;
	tpfn = malloc(TARGET_PAGES * sizeof(*tpfn));
	tpins = calloc(TARGET_PAGES, sizeof(*tpins));
	if (!tpfn || !tpins)
		return 1;
	for (uint32_t i = 0; i < TARGET_PAGES; i++)
		tpfn[i] = 0x1000000 + i;

	rec_header_init(&h);
	h.start_realtime_ns = 1767225600ull * 1000000000ull; /* 2026-01-01T00:00:00Z */
	h.start_mono_ns = T0;
	snprintf(h.release, sizeof(h.release), "6.12.0-synthetic-amd64");
	snprintf(h.boot_id, sizeof(h.boot_id), "00000000-0000-0000-0000-00000000%04x", (unsigned)seed & 0xffff);
	snprintf(h.hostname, sizeof(h.hostname), "gwgen");
	h.foll_write = FOLL_WRITE, h.foll_get = FOLL_GET, h.foll_force = FOLL_FORCE;
	h.foll_remote = FOLL_REMOTE, h.foll_longterm = FOLL_LONGTERM, h.foll_pin = FOLL_PIN;
	h.foll_from_btf = true;
	h.trace_get = true;
	h.attach_mode = 1;
	snprintf(h.command, sizeof(h.command), "gwgen -n %llu -s %llu", (unsigned long long)n,
		 (unsigned long long)seed);
	out_path = out;
	if (rec_writer_open(&w, out, err, sizeof(err))) {
		fprintf(stderr, "gwgen: %s\n", err);
		return 1;
	}
	rec_writer_header(&w, &h);
	write_stacks();
	uring_register(0, FIO_PAGES, false);

	/* room left for the largest step (re-registering) and every pending unpin */
	while (written + nheap + 130 <= n) {
		uint32_t r;

		if (nheap && heap[0].due <= now) {
			struct unpin u = heap_pop();

			complete(&u);
			continue;
		}
		r = below(10000);
		if (r < 5500)
			pvm_storm();
		else if (r < 8000)
			dio();
		else if (r < 9300)
			write_cow();
		else if (r < 9500)
			get_ref();
		else if (r < 9520)
			uring_register(64 * below(FIO_PAGES / 64), 64, true);
		else if (r < 9540)
			unshare();
		else if (r < 9541)
			fork_copy();
		else if (r < 9542)
			zero_pin();
		else
			now += below(2000); /* idle */
	}
	while (nheap) {
		struct unpin u = heap_pop();

		if (u.due > now)
			now = u.due;
		complete(&u);
	}
	/* pad to exactly n with FOLL_GETs: sizes are what the option says */
	while (written < n)
		get_ref();
	if (rec_writer_finish(&w, cnt, now + 1000, err, sizeof(err))) {
		fprintf(stderr, "gwgen: %s\n", err);
		return 1;
	}
	free(tpfn);
	free(tpins);
	free(heap);
	return 0;
}
