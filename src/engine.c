// SPDX-License-Identifier: GPL-2.0
/*
 * Correlation engine: outstanding pins per folio, unpin matching, findings.
 * See engine.h for the model; the comments here say why the code does it so.
 */
#include "engine.h"
#include "procinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define PENDING_MAX 64 /* UNSHAREs waiting for their pin */
#define NR_CLS 4       /* R/O, R/W, R/O long-term, R/W long-term */
#define UNATTRIBUTED_MAX 0x7fffffffu /* fslot.unattributed's 31 bits */

/* The kind of a pin that matters for staleness and severity. */
static unsigned int cls(uint32_t flags)
{
	return (flags & GW_PIN_WRITE ? 1 : 0) | (flags & GW_PIN_LONGTERM ? 2 : 0);
}

static uint32_t cls_flags(unsigned int c)
{
	return (c & 1 ? GW_PIN_WRITE : 0) | (c & 2 ? GW_PIN_LONGTERM : 0);
}

/* Pins of one process, of one kind (flags), through one mm, on one folio. */
struct holder {
	struct gw_task task; /* of its first pin */
	uint64_t since_ns;   /* its oldest outstanding pin */
	uint64_t mm;         /* the mm the pages were looked up in; 0: unknown */
	uint64_t addr_lo, addr_hi; /* user addresses its pins cover, [lo, hi); lo 0: unknown */
	uint32_t fast_tid, fast_refs; /* its GUP-fast pins since the thread's last other pin here:
					 by whom, and how many refs that call may still undo */
	uint32_t flags;      /* GW_PIN_* without FAST: with the pid and site, the row's key */
	uint32_t site;       /* index into sites[], NIL: the "(other)" site */
	uint32_t refs;       /* taken minus surely dropped */
	uint32_t next;       /* next row of the folio, NIL: last */
	uint32_t proc;       /* its process: index into procs[], NIL: the "(other)" row */
	bool maybe;          /* the folio's unattributed unpins may be this row's */
	bool reported;       /* LONGTERM-IN-MOVABLE was reported for it */
	bool cand;           /* scratch: a candidate of the unpin being matched */
};

struct fslot {
	uint64_t folio;        /* 0: empty slot */
	uint64_t pfn;          /* of its first pin */
	uint32_t head;         /* holder rows */
	uint32_t unattributed : 31; /* refs ambiguous unpins dropped from the "maybe" rows
				       (at most UNATTRIBUTED_MAX) */
	uint32_t movable : 1;  /* in ZONE_MOVABLE (GW_PIN_IN_MOVABLE): long-term pins may not stay */
};

struct proc {
	struct engine_proc pub;
	bool used;
	bool in_cgroup; /* in filter_cgroup when first seen (its cgroup is unknown once it exits) */
	/* outstanding pins kept in step with the rows (for FORK-COPY): by kind, refs at most */
	uint64_t out_refs[NR_CLS], out_folios[NR_CLS];
};

struct site {
	struct engine_site pub;
	bool used;
	uint64_t last_ns; /* pub.pin_ns is up to date until then */
};

struct pending {
	struct engine_finding f;
	bool ready; /* linked to its pin */
};

/* Refs at least / at most still outstanding. */
struct range {
	uint32_t lo, hi;
};

/* A row as HELD-AT-EXIT sees it. */
struct held {
	struct gw_task task;
	uint32_t flags, site;
	struct range refs;
	uint64_t since_ns, folio, pfn;
};

struct engine {
	struct engine_opts opts;
	char comm[GW_COMM_LEN];  /* filter_comm, copied */
	struct fslot *slots;     /* open addressing, linear probing, power of two */
	uint32_t slot_mask, nfolios;
	uint32_t max_slot_mask;  /* what max_folios needs; the table grows up to it */
	struct holder *rows;     /* handed out in order, then from the free list: RSS follows use */
	uint32_t nrows, used_rows, free_row;
	struct held *held;       /* scratch for engine_finish, nrows long */
	struct proc *procs;      /* open addressing by pid, never deleted */
	uint32_t proc_mask, nprocs;
	struct proc other;       /* processes beyond max_procs */
	struct proc *last_proc;  /* proc_get's last answer (a pid's never changes) ... */
	uint32_t last_pid;       /* ... for this pid */
	struct site *sites;      /* open addressing by (pid, flags, stacks), never deleted */
	uint32_t site_mask, nsites;
	struct site other_site;  /* sites beyond max_sites */
	uint64_t now;            /* the engine's clock: latest event, tick or finish time */
	struct engine_finding *found;
	size_t nfound;
	struct pending pending[PENDING_MAX];
	unsigned int phead, pcount;
	struct engine_totals t;  /* out_* kept in step by row_set() and set_unattributed() */
	uint64_t row_refs;       /* sum of all rows' refs */
	uint64_t unattributed;   /* sum of all folios' unattributed refs */
	uint32_t lt_migrate_tid; /* the thread whose long-term pin call's migration failed last */
	uint32_t lt_migrate_folios; /* ... and the folios it could not move, so far */
	uint32_t movable_suspects;  /* rows with long-term refs on movable folios, not reported */
	bool finished;
};

#define MR_LONGTERM_PIN 7 /* enum migrate_reason (engine_migrate_reason_name) */

static uint32_t hash64(uint64_t key, uint32_t mask)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 4;

	while (p < n)
		p <<= 1;
	return p;
}

/* ---- folio table ---- */

static struct fslot *folio_find(const struct engine *e, uint64_t folio)
{
	uint32_t i = hash64(folio, e->slot_mask);

	for (; e->slots[i].folio; i = (i + 1) & e->slot_mask)
		if (e->slots[i].folio == folio)
			return &e->slots[i];
	return NULL;
}

static struct fslot *folio_add(struct engine *e, uint64_t folio, uint64_t pfn)
{
	uint32_t i = hash64(folio, e->slot_mask);

	while (e->slots[i].folio)
		i = (i + 1) & e->slot_mask;
	e->slots[i] = (struct fslot){ .folio = folio, .pfn = pfn, .head = NIL };
	e->nfolios++;
	return &e->slots[i];
}

/*
 * Room for one more folio. The table starts small and doubles at half full:
 * lookups stay within a cache-sized table instead of missing all over one
 * sized for max_folios. If doubling fails, it fills up further (one slot
 * always stays empty to end probes); beyond that, pins are lost as when full.
 */
static bool folio_room(struct engine *e)
{
	uint32_t size = e->slot_mask + 1;

	if (e->nfolios >= e->opts.max_folios)
		return false;
	if (2 * (e->nfolios + 1) > size && e->slot_mask < e->max_slot_mask) {
		struct fslot *old = e->slots, *n = calloc(2ull * size, sizeof(*n));

		if (n) {
			e->slots = n;
			e->slot_mask = 2 * size - 1;
			e->nfolios = 0;
			for (uint32_t k = 0; k < size; k++)
				if (old[k].folio)
					*folio_add(e, old[k].folio, old[k].pfn) = old[k];
			free(old);
		}
	}
	return e->nfolios + 1 < e->slot_mask + 1;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void folio_del(struct engine *e, struct fslot *s)
{
	uint32_t mask = e->slot_mask, i = s - e->slots, j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!e->slots[j].folio)
			break;
		/* j may fill the hole at i unless its home lies cyclically in (i, j] */
		if (((j - hash64(e->slots[j].folio, mask)) & mask) >= ((j - i) & mask)) {
			e->slots[i] = e->slots[j];
			i = j;
		}
	}
	e->slots[i].folio = 0;
	e->nfolios--;
}

#define for_each_row(e, s, h) \
	for (struct holder *h = (s)->head == NIL ? NULL : &(e)->rows[(s)->head]; h; \
	     h = h->next == NIL ? NULL : &(e)->rows[h->next])

/* ---- processes ---- */

static bool cgroup_match(const struct engine *e, uint32_t pid)
{
	char path[256];

	return e->opts.cgroup_of(e->opts.ctx, pid, path, sizeof(path)) &&
	       procinfo_cgroup_within(path, e->opts.filter_cgroup);
}

static const struct proc *proc_find(const struct engine *e, uint32_t pid)
{
	uint32_t i = hash64(pid, e->proc_mask);

	for (; e->procs[i].used; i = (i + 1) & e->proc_mask)
		if (e->procs[i].pub.pid == pid)
			return &e->procs[i];
	return NULL;
}

/* the process filters, cheapest first; the cgroup as when the process was first seen */
static bool task_match(const struct engine *e, const struct gw_task *t)
{
	const struct proc *p;

	if ((e->opts.filter_pid && t->pid != e->opts.filter_pid) ||
	    (e->comm[0] && strncmp(t->comm, e->comm, GW_COMM_LEN)))
		return false;
	if (!e->opts.filter_cgroup)
		return true;
	p = proc_find(e, t->pid);
	return p ? p->in_cgroup : cgroup_match(e, t->pid);
}

static struct proc *proc_get(struct engine *e, uint32_t pid, const char *comm)
{
	uint32_t i = hash64(pid, e->proc_mask);

	/* events come in runs of one process: skip the hash then */
	if (e->last_proc && e->last_pid == pid)
		return e->last_proc;
	e->last_pid = pid;
	for (; e->procs[i].used; i = (i + 1) & e->proc_mask)
		if (e->procs[i].pub.pid == pid)
			return e->last_proc = &e->procs[i];
	if (e->nprocs == e->opts.max_procs) {
		e->other.used = true;
		return e->last_proc = &e->other;
	}
	e->nprocs++;
	e->procs[i].used = true;
	e->procs[i].pub.pid = pid;
	memcpy(e->procs[i].pub.comm, comm, GW_COMM_LEN);
	/* a /proc read per new process, only with --cgroup */
	e->procs[i].in_cgroup = e->opts.filter_cgroup && cgroup_match(e, pid);
	return e->last_proc = &e->procs[i];
}

/* Name a process by its main thread's latest comm: after exec, the new program. */
static struct proc *proc_named(struct engine *e, struct proc *p, const struct gw_task *t)
{
	if (t->tid == t->pid && p != &e->other)
		memcpy(p->pub.comm, t->comm, GW_COMM_LEN);
	return p;
}

static struct proc *proc_of(struct engine *e, const struct gw_task *t)
{
	return proc_named(e, proc_get(e, t->pid, t->comm), t);
}

/* proc_of(e, &h->task), from the index the row keeps */
static struct proc *row_proc(struct engine *e, const struct holder *h)
{
	return proc_named(e, h->proc == NIL ? &e->other : &e->procs[h->proc], &h->task);
}

/* Pins a process keeps (not undone by GUP-fast), by kind; delta < 0 on undo. */
static void kept_add(struct engine *e, struct proc *p, uint32_t flags, int64_t delta)
{
	uint64_t *ro_rw = flags & GW_PIN_WRITE ? &p->pub.rw_refs : &p->pub.ro_refs;
	uint64_t *t_ro_rw = flags & GW_PIN_WRITE ? &e->t.rw_refs : &e->t.ro_refs;

	*ro_rw += delta;
	*t_ro_rw += delta;
	if (flags & GW_PIN_LONGTERM) {
		p->pub.longterm_refs += delta;
		e->t.longterm_refs += delta;
	}
}

/* ---- pin sites ---- */

static uint64_t site_key(uint32_t pid, uint32_t flags, int32_t kstack, int32_t ustack)
{
	return ((uint64_t)pid << 32 | flags) ^ ((uint64_t)(uint32_t)kstack << 40) ^
	       ((uint64_t)(uint32_t)ustack << 8) ^ (uint64_t)(uint32_t)ustack >> 24;
}

static uint32_t site_get(struct engine *e, const struct gw_event *ev, uint32_t flags)
{
	uint32_t i = hash64(site_key(ev->task.pid, flags, ev->kstack_id, ev->ustack_id), e->site_mask);

	for (; e->sites[i].used; i = (i + 1) & e->site_mask) {
		const struct engine_site *p = &e->sites[i].pub;

		if (p->task.pid == ev->task.pid && p->flags == flags &&
		    p->kstack_id == ev->kstack_id && p->ustack_id == ev->ustack_id)
			return i;
	}
	if (e->nsites == e->opts.max_sites)
		return NIL;
	e->nsites++;
	e->sites[i] = (struct site){ .used = true, .last_ns = e->now, .pub = {
		.task = ev->task, .flags = flags, .kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id } };
	return i;
}

static struct site *site_at(struct engine *e, uint32_t idx)
{
	return idx == NIL ? &e->other_site : &e->sites[idx];
}

/* Bring pin-seconds up to the clock before the site's outstanding refs change. */
static void site_advance(struct engine *e, struct site *st)
{
	if (e->now > st->last_ns) {
		st->pub.pin_ns += st->pub.out_refs * (e->now - st->last_ns);
		st->last_ns = e->now;
	}
}

unsigned int engine_hold_slot(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int slot = us ? 64 - __builtin_clzll(us) : 0; /* bits in us */

	return slot < ENGINE_HOLD_SLOTS - 1 ? slot : ENGINE_HOLD_SLOTS - 1;
}

/* ---- holder rows ---- */

/* A long-term pin on ZONE_MOVABLE memory, counted in movable_suspects while it has refs. */
static bool row_suspect(const struct fslot *s, const struct holder *h)
{
	return s->movable && (h->flags & GW_PIN_LONGTERM) && !h->reported;
}

/*
 * The only place a row's refs change, so that the per-process outstanding
 * numbers follow. A process holds a folio (of a kind) while any of its rows
 * there has refs.
 */
static void row_set(struct engine *e, const struct fslot *s, struct holder *h, uint32_t refs)
{
	struct proc *p = row_proc(e, h);
	struct site *st = site_at(e, h->site);
	unsigned int c = cls(h->flags);
	bool other_any = false, other_same = false;
	int d;

	site_advance(e, st);
	st->pub.out_refs += (int64_t)refs - h->refs;
	if (!h->refs != !refs)
		st->pub.out_folios += refs ? 1 : -1;
	p->out_refs[c] += (int64_t)refs - h->refs;
	e->row_refs += (int64_t)refs - h->refs;
	if (!h->refs != !refs && row_suspect(s, h))
		e->movable_suspects += refs ? 1 : -1;
	if (!h->refs == !refs) {
		h->refs = refs;
		return;
	}
	for_each_row(e, s, o) {
		if (o == h || !o->refs || o->task.pid != h->task.pid)
			continue;
		other_any = true;
		other_same |= cls(o->flags) == c;
	}
	d = refs ? 1 : -1;
	if (!other_any)
		p->pub.out_folios += d;
	if (!other_same)
		p->out_folios[c] += d;
	h->refs = refs;
}

/* A pin released after being held (not a GUP-fast undo): its hold time counts. */
static void row_release(struct engine *e, struct fslot *s, struct holder *h, uint32_t n)
{
	struct site *st = site_at(e, h->site);
	uint64_t held = e->now > h->since_ns ? e->now - h->since_ns : 0;

	st->pub.released_refs += n;
	st->pub.released_ns += n * held;
	st->pub.hold[engine_hold_slot(held)] += n;
	row_set(e, s, h, h->refs - n);
}

static struct holder *row_find(struct engine *e, struct fslot *s, uint32_t pid, uint32_t flags,
			       uint32_t site, uint64_t mm)
{
	for_each_row(e, s, h)
		if (h->task.pid == pid && h->flags == flags && h->site == site && h->mm == mm)
			return h;
	return NULL;
}

static bool row_available(const struct engine *e)
{
	return e->free_row != NIL || e->used_rows < e->nrows;
}

static struct holder *row_new(struct engine *e, struct fslot *s, const struct gw_event *ev,
			      uint32_t flags, uint32_t site, const struct proc *p)
{
	uint32_t idx = e->free_row != NIL ? e->free_row : e->used_rows++;
	struct holder *h = &e->rows[idx];

	if (idx == e->free_row)
		e->free_row = h->next;
	/* field by field: a compound literal compiles to a slow rep stos */
	h->task = ev->task;
	h->since_ns = ev->ts_ns;
	h->mm = ev->pin.mm;
	h->addr_lo = h->addr_hi = ev->pin.address;
	h->fast_tid = h->fast_refs = h->refs = 0;
	h->flags = flags;
	h->site = site;
	h->next = s->head;
	h->proc = p == &e->other ? NIL : (uint32_t)(p - e->procs);
	h->maybe = h->cand = h->reported = false;
	s->head = idx;
	return h;
}

/* Free rows without refs, and the folio once none is left. */
static void folio_settle(struct engine *e, struct fslot *s)
{
	uint32_t *link = &s->head;

	while (*link != NIL) {
		struct holder *h = &e->rows[*link];
		uint32_t idx = *link;

		if (h->refs) {
			link = &h->next;
			continue;
		}
		*link = h->next;
		h->next = e->free_row;
		e->free_row = idx;
	}
	if (s->head == NIL)
		folio_del(e, s);
}

static void set_unattributed(struct engine *e, struct fslot *s, uint32_t refs)
{
	if (refs > UNATTRIBUTED_MAX) /* no kernel pins a folio that often: a corrupt recording */
		refs = UNATTRIBUTED_MAX;
	e->unattributed += (int64_t)refs - s->unattributed;
	e->t.out_ambiguous_folios += !!refs - !!s->unattributed;
	s->unattributed = refs;
}

/*
 * Drop n refs from the selected rows (candidates, or the "maybe" rows),
 * oldest pin first; credit the unpins to their processes if asked.
 */
static void take_oldest(struct engine *e, struct fslot *s, uint32_t n, bool maybe_rows, bool credit)
{
	while (n) {
		struct holder *old = NULL;
		uint32_t k;

		for_each_row(e, s, h)
			if (h->refs && (maybe_rows ? h->maybe : h->cand) &&
			    (!old || h->since_ns < old->since_ns))
				old = h;
		if (!old)
			return;
		k = n < old->refs ? n : old->refs;
		if (credit)
			row_proc(e, old)->pub.unpin_refs += k;
		row_release(e, s, old, k);
		n -= k;
	}
}

/* What a set of rows has in common: refs, kind, process. */
struct rowset {
	const struct holder *first;
	uint32_t refs;
	bool one_cls, one_pid;
};

static struct rowset rowset(const struct engine *e, const struct fslot *s, bool maybe_rows)
{
	struct rowset r = { .one_cls = true, .one_pid = true };

	for_each_row(e, s, h) {
		if (!h->refs || !(maybe_rows ? h->maybe : h->cand))
			continue;
		if (!r.first)
			r.first = h;
		r.refs += h->refs;
		r.one_cls &= cls(h->flags) == cls(r.first->flags);
		r.one_pid &= h->task.pid == r.first->task.pid;
	}
	return r;
}

/*
 * Settle what later unpins decided: if the "maybe" rows cannot hold more than
 * was dropped from them, all of it is gone; if they are all of one kind, the
 * split is exact again and the oldest pins are taken to be the ones dropped.
 */
static void resolve(struct engine *e, struct fslot *s)
{
	struct rowset m = rowset(e, s, true);

	if (s->unattributed && s->unattributed >= m.refs) {
		for_each_row(e, s, h)
			if (h->maybe)
				row_release(e, s, h, h->refs);
		set_unattributed(e, s, 0);
	} else if (s->unattributed && m.one_cls) {
		if (!m.one_pid)
			e->t.by_age_unpin_refs += s->unattributed;
		take_oldest(e, s, s->unattributed, true, false);
		set_unattributed(e, s, 0);
	}
	if (!s->unattributed)
		for_each_row(e, s, h)
			h->maybe = false;
}

/*
 * Refs of some rows (part, of which part_m on "maybe" rows) still outstanding,
 * when the folio's "maybe" rows (whole_m refs) lost `unatt` refs between them.
 */
static struct range bounds(uint32_t part, uint32_t part_m, uint32_t whole_m, uint32_t unatt)
{
	uint32_t lost_max = part_m < unatt ? part_m : unatt;
	uint32_t rest_m = whole_m - part_m;

	return (struct range){ part - lost_max, part - (unatt > rest_m ? unatt - rest_m : 0) };
}

static struct range row_bounds(const struct engine *e, const struct fslot *s, const struct holder *h)
{
	return bounds(h->refs, h->maybe ? h->refs : 0, rowset(e, s, true).refs, s->unattributed);
}

/* ---- findings ---- */

static void emit(struct engine *e, const struct engine_finding *f, bool shown)
{
	struct proc *p = proc_of(e, &f->task);
	uint32_t i, j;

	e->t.findings[f->kind]++;
	e->t.findings_sev[f->kind][f->sev]++;
	p->pub.findings[f->kind]++;
	/* every other process named as a pinner is a party too, once */
	for (i = 0; f->who == ENGINE_WHO_TRACKED && i < f->nr_pinners && i < ENGINE_MAX_PINNERS; i++) {
		const struct gw_task *t = &f->pinners[i].task;

		for (j = 0; j < i && f->pinners[j].task.pid != t->pid; j++)
			;
		if (j == i && t->pid != f->task.pid)
			proc_of(e, t)->pub.findings[f->kind]++;
	}
	if (!shown)
		return;
	e->t.findings_shown[f->kind]++;
	if (e->nfound < e->opts.max_findings)
		e->found[e->nfound++] = *f;
	else
		e->t.findings_unstored++;
	if (e->opts.on_finding)
		e->opts.on_finding(f, e->opts.ctx);
}

/* Keep pinners[] as: surely outstanding before "maybe", then oldest first. */
static void pinner_add(struct engine_finding *f, const struct engine_pinner *p)
{
	unsigned int n = f->nr_pinners < ENGINE_MAX_PINNERS ? f->nr_pinners : ENGINE_MAX_PINNERS;
	unsigned int i = n;

	f->nr_pinners++;
	while (i > 0) {
		const struct engine_pinner *q = &f->pinners[i - 1];

		if (!q->refs_min > !p->refs_min ||
		    (!q->refs_min == !p->refs_min && q->since_ns > p->since_ns)) {
			if (i < ENGINE_MAX_PINNERS)
				f->pinners[i] = *q;
			i--;
		} else {
			break;
		}
	}
	if (i < ENGINE_MAX_PINNERS)
		f->pinners[i] = *p;
}

static void pending_pop(struct engine *e)
{
	struct pending *p = &e->pending[e->phead];

	e->phead = (e->phead + 1) % PENDING_MAX;
	e->pcount--;
	emit(e, &p->f, task_match(e, &p->f.task));
}

/* UNSHAREs are reported in order, once linked or once their window passed. */
static void pending_flush(struct engine *e, uint64_t now)
{
	while (e->pcount) {
		const struct pending *p = &e->pending[e->phead];

		if (!p->ready && now <= p->f.ts_ns + e->opts.link_ns)
			break;
		pending_pop(e);
	}
}

static void on_unshare(struct engine *e, const struct gw_event *ev)
{
	struct pending *p;

	proc_of(e, &ev->task)->pub.unshares++;
	e->t.unshares++;
	if (e->pcount == PENDING_MAX)
		pending_pop(e);
	p = &e->pending[(e->phead + e->pcount++) % PENDING_MAX];
	*p = (struct pending){ .f = {
		.kind = ENGINE_UNSHARE, .sev = ENGINE_SEV_INFO, .ts_ns = ev->ts_ns, .task = ev->task,
		.kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id,
		.address = ev->wp.address, .folio = ev->wp.old_folio, .old_pfn = ev->wp.old_pfn,
		.new_pfn = ev->wp.new_pfn, .wp_flags = ev->wp.flags, .who = ENGINE_WHO_NONE,
	} };
}

/* The GUP that faulted for unshare pins the copy next, from the same thread. */
static void link_unshare(struct engine *e, const struct gw_event *ev)
{
	const struct gw_pin *pin = &ev->pin;
	unsigned int i;

	for (i = 0; i < e->pcount; i++) {
		struct pending *p = &e->pending[(e->phead + i) % PENDING_MAX];
		uint64_t pfn = p->f.new_pfn;

		if (p->ready || p->f.task.tid != ev->task.tid ||
		    ev->ts_ns > p->f.ts_ns + e->opts.link_ns ||
		    pfn < pin->pfn || pfn >= pin->pfn + (pin->nr_pages ?: 1))
			continue;
		p->f.who = ENGINE_WHO_TRACKED;
		p->f.nr_pinners = 1;
		p->f.pinners[0] = (struct engine_pinner){
			.task = ev->task, .kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id,
			.flags = pin->flags & ~GW_PIN_FAST, .refs = pin->refs,
			.refs_min = pin->refs, .folios = 1, .since_ns = ev->ts_ns,
		};
		p->ready = true;
		return;
	}
}

/* A row's address range grows to cover the pages of a pin (unknown stays unknown). */
static void row_cover(struct holder *h, const struct gw_pin *pin)
{
	uint64_t end = pin->address + ((uint64_t)pin->refs << GW_PAGE_SHIFT);

	if (!h->addr_lo || !pin->address) {
		h->addr_lo = h->addr_hi = 0;
		return;
	}
	if (pin->address < h->addr_lo)
		h->addr_lo = pin->address;
	if (end > h->addr_hi)
		h->addr_hi = end;
}

/* Only long-term pins are placed (user space reads the zone): earlier rows may be suspects too. */
static void set_movable(struct engine *e, struct fslot *s)
{
	s->movable = 1;
	for_each_row(e, s, h)
		e->movable_suspects += h->refs && row_suspect(s, h);
}

static void on_pin(struct engine *e, const struct gw_event *ev)
{
	const struct gw_pin *pin = &ev->pin;
	uint32_t flags = pin->flags & ~(GW_PIN_FAST | GW_PIN_IN_MOVABLE); /* the zone: the folio's */
	bool added = pin->flags & GW_PIN_ADDED;
	struct proc *p = proc_of(e, &ev->task);
	uint32_t site = site_get(e, ev, flags);
	struct fslot *s = folio_find(e, pin->folio);
	struct holder *h = s ? row_find(e, s, ev->task.pid, flags, site, pin->mm) : NULL;

	site_at(e, site)->pub.pin_refs += pin->refs;
	e->other_site.used |= site == NIL;
	p->pub.pin_refs += pin->refs;
	if (added) { /* not in nr_foll_pin_acquired, and of no known kind */
		e->t.added_pin_refs += pin->refs;
	} else {
		e->t.pin_refs += pin->refs;
		kept_add(e, p, pin->flags, pin->refs);
	}
	link_unshare(e, ev);

	if (!h && (!row_available(e) || (!s && !folio_room(e)))) {
		e->t.lost_pins++;
		e->t.lost_pin_refs += pin->refs;
		return;
	}
	if (!s)
		s = folio_add(e, pin->folio, pin->pfn);
	if ((pin->flags & GW_PIN_IN_MOVABLE) && !s->movable)
		set_movable(e, s);
	if (!h)
		h = row_new(e, s, ev, flags, site, p);
	row_cover(h, pin);
	row_set(e, s, h, h->refs + pin->refs);
	/* one GUP-fast call pins page by page and may undo a whole folio at once */
	if (!(pin->flags & GW_PIN_FAST))
		h->fast_refs = 0;
	else if (h->fast_tid == ev->task.tid)
		h->fast_refs += pin->refs;
	else
		h->fast_refs = pin->refs;
	h->fast_tid = ev->task.tid;
}

/*
 * GUP-fast grabs, re-checks, and undoes within the same call, on the same
 * thread, page by page or a folio's pages in one batch. Returns the refs of
 * the unpin that no row of that call accounts for.
 */
static uint32_t fast_undo(struct engine *e, struct fslot *s, const struct gw_event *ev)
{
	uint32_t n = ev->pin.refs;

	if (ev->in_irq || !(ev->pin.flags & GW_UNPIN_GUP_UNDO))
		return n;
	for_each_row(e, s, h) {
		struct proc *p;
		uint32_t k = n < h->fast_refs ? n : h->fast_refs;

		if (h->fast_tid != ev->task.tid || !k)
			continue;
		k = k < h->refs ? k : h->refs;
		p = row_proc(e, h);
		p->pub.unpin_refs += k;
		p->pub.fast_undone_refs += k;
		e->t.fast_undone_refs += k;
		if (!(h->flags & GW_PIN_ADDED))
			kept_add(e, p, h->flags, -(int64_t)k);
		site_at(e, h->site)->pub.fast_undone_refs += k;
		h->fast_refs -= k;
		row_set(e, s, h, h->refs - k);
		n -= k;
	}
	return n;
}

static void on_unpin(struct engine *e, const struct gw_event *ev)
{
	struct fslot *s = folio_find(e, ev->pin.folio);
	uint32_t n, take;
	struct holder *h;
	struct rowset c;
	bool own = false;

	e->t.unpin_refs += ev->pin.refs;
	if (!s) {
		e->t.unknown_unpin_refs += ev->pin.refs;
		return;
	}
	n = fast_undo(e, s, ev);
	if (!n) {
		resolve(e, s);
		folio_settle(e, s);
		return;
	}
	h = &e->rows[s->head];
	if (h->next == NIL && !s->unattributed) {
		/* one row and no open split: what the matching below comes to, at a
		 * fraction of its passes over the rows (most folios have one holder) */
		take = n < h->refs ? n : h->refs;
		e->t.unknown_unpin_refs += n - take;
		if (take) {
			row_proc(e, h)->pub.unpin_refs += take;
			row_release(e, s, h, take);
		}
		h->maybe = h->cand = false;
		folio_settle(e, s);
		return;
	}

	/* candidates: the unpinning process's own rows, else (or in IRQ) all */
	if (!ev->in_irq)
		for_each_row(e, s, r)
			own |= r->cand = r->task.pid == ev->task.pid;
	if (!own)
		for_each_row(e, s, r)
			r->cand = true;
	c = rowset(e, s, false);
	take = n < c.refs ? n : c.refs;
	e->t.unknown_unpin_refs += n - take;

	if (c.one_cls) {
		if (!c.one_pid)
			e->t.by_age_unpin_refs += take;
		take_oldest(e, s, take, false, true);
	} else {
		e->t.ambiguous_unpin_refs += take;
		if (c.one_pid)
			row_proc(e, c.first)->pub.unpin_refs += take;
		else
			e->t.unattributed_unpin_refs += take;
		for_each_row(e, s, r)
			r->maybe |= r->cand;
		set_unattributed(e, s, s->unattributed + take);
	}
	for_each_row(e, s, r)
		r->cand = false;
	resolve(e, s);
	folio_settle(e, s);
}

/* Where a R/O pin stands to a write copy of its folio. */
enum pin_place {
	PLACE_SAME,    /* taken through the writer's mm at the copied page: the pinner reads
			  data the writer no longer sees */
	PLACE_UNKNOWN, /* its mm or address is unknown: it may be */
	PLACE_OTHER,   /* another mm's mapping, or another page of the folio: still coherent */
};

static enum pin_place place_of(const struct holder *h, const struct gw_wp_copy *wp)
{
	if (!h->mm || !h->addr_lo || !wp->mm)
		return PLACE_UNKNOWN;
	if (h->mm == wp->mm && wp->address >= h->addr_lo && wp->address < h->addr_hi)
		return PLACE_SAME;
	return PLACE_OTHER;
}

/*
 * A write fault copied the page: a R/O pin taken through the writer's mm at
 * that address keeps reading the old page while the writer sees the copy.
 * Pins of the folio through other mappings (another process's MAP_SHARED, a
 * neighbouring subpage) still see what their mapping shows: not stale.
 */
static void on_write_copy(struct engine *e, const struct gw_event *ev)
{
	const struct gw_wp_copy *wp = &ev->wp;
	struct fslot *s = wp->old_folio ? folio_find(e, wp->old_folio) : NULL;
	bool kernel_pinned = wp->flags & GW_WP_OLD_PINNED;
	bool shown = task_match(e, &ev->task);
	struct range ro = { 0 }, lt = { 0 };
	uint32_t out = 0, unknown = 0;
	struct engine_finding f = {
		.kind = ENGINE_STALE_PIN, .ts_ns = ev->ts_ns, .task = ev->task,
		.kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id,
		.address = wp->address, .folio = wp->old_folio, .old_pfn = wp->old_pfn,
		.new_pfn = wp->new_pfn, .wp_flags = wp->flags,
	};

	proc_of(e, &ev->task)->pub.wp_copies++;
	e->t.wp_copies++;
	if (s) {
		uint32_t ro_refs = 0, ro_m = 0, lt_refs = 0, lt_m = 0, all = 0, other = 0;
		uint32_t m = rowset(e, s, true).refs;

		for_each_row(e, s, h) {
			struct range r = row_bounds(e, s, h);
			enum pin_place place = place_of(h, wp);

			all += h->refs;
			if (h->flags & (GW_PIN_WRITE | GW_PIN_ADDED))
				continue;
			if (place == PLACE_OTHER) {
				other += h->refs;
				continue;
			}
			if (place == PLACE_UNKNOWN) {
				unknown += r.hi;
			} else {
				ro_refs += h->refs;
				ro_m += h->maybe ? h->refs : 0;
				if (h->flags & GW_PIN_LONGTERM) {
					lt_refs += h->refs;
					lt_m += h->maybe ? h->refs : 0;
				}
			}
			const struct engine_site *st = &site_at(e, h->site)->pub;

			pinner_add(&f, &(struct engine_pinner){
				.task = h->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
				.flags = h->flags, .refs = r.hi,
				.refs_min = place == PLACE_SAME ? r.lo : 0, .folios = 1,
				.since_ns = h->since_ns });
			shown |= task_match(e, &h->task);
		}
		if (other)
			e->t.cow_other_pin_copies++;
		ro = bounds(ro_refs, ro_m, m, s->unattributed);
		lt = bounds(lt_refs, lt_m, m, s->unattributed);
		out = all - s->unattributed;
	}
	/* the kernel's own pin count catches pins taken before tracing started */
	if (kernel_pinned && !s)
		f.untracked_pins = wp->old_pincount ?: 1;
	else if (kernel_pinned && wp->old_pincount > out)
		f.untracked_pins = wp->old_pincount - out;
	if (!ro.hi && !unknown && !f.untracked_pins)
		return;
	f.who = f.nr_pinners ? ENGINE_WHO_TRACKED : ENGINE_WHO_NONE;
	f.sev = lt.lo ? ENGINE_SEV_HIGH : ro.lo ? ENGINE_SEV_MEDIUM : ENGINE_SEV_POSSIBLE;
	/* folio_maybe_dma_pinned() has no false negatives: the table missed an unpin */
	if (s && !kernel_pinned)
		f.sev = ENGINE_SEV_POSSIBLE;
	emit(e, &f, shown);
}

/*
 * The event has no parent page, only the child's copy: the parent's own pins
 * are the candidates, by kind. Pins of its pages by other processes
 * (FOLL_REMOTE) cannot be told apart.
 */
static void on_fork_copy(struct engine *e, const struct gw_event *ev)
{
	struct proc *p = proc_of(e, &ev->task);
	struct engine_finding f = {
		.kind = ENGINE_FORK_COPY, .sev = ENGINE_SEV_INFO, .ts_ns = ev->ts_ns,
		.task = ev->task, .kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id, .address = ev->fork.address, .new_pfn = ev->fork.new_pfn,
		.wp_flags = ev->fork.huge ? GW_WP_HUGETLB : 0, .who = ENGINE_WHO_NONE,
	};
	unsigned int c;

	p->pub.fork_copies++;
	e->t.fork_copies++;
	for (c = 0; p != &e->other && c < NR_CLS; c++) {
		struct engine_pinner q = {
			.task = { .pid = ev->task.pid }, .kstack_id = -1, .ustack_id = -1,
			.flags = cls_flags(c), .refs = p->out_refs[c],
			.folios = p->out_folios[c],
		};

		if (!q.refs)
			continue;
		memcpy(q.task.comm, p->pub.comm, GW_COMM_LEN);
		f.pinners[f.nr_pinners++] = q;
		f.who = ENGINE_WHO_CANDIDATES;
	}
	emit(e, &f, task_match(e, &ev->task));
}

/* Reported as it happens: nothing later shows it (no pin exists to be unpinned or copied). */
static void on_zero_pin(struct engine *e, const struct gw_event *ev)
{
	const struct gw_pin *pin = &ev->pin;
	struct engine_finding f = {
		.kind = ENGINE_ZERO_PIN, .sev = ENGINE_SEV_HIGH, .ts_ns = ev->ts_ns, .task = ev->task,
		.kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id, .address = pin->address,
		.folio = pin->folio, .old_pfn = pin->pfn, .who = ENGINE_WHO_TRACKED, .nr_pinners = 1,
		.pinners[0] = { .task = ev->task, .kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id,
				.flags = pin->flags & ~GW_PIN_FAST, .refs = pin->refs,
				.refs_min = pin->refs, .folios = 1, .since_ns = ev->ts_ns },
	};

	e->t.zero_pin_refs += pin->refs;
	emit(e, &f, task_match(e, &ev->task));
}

static void on_get(struct engine *e, const struct gw_event *ev)
{
	proc_of(e, &ev->task)->pub.get_refs += ev->pin.refs;
	e->t.get_refs += ev->pin.refs;
}

/* A pin call failed: who asked for what, and the error (pins it took before failing were
 * dropped again, each an unpin event of its own). */
static void on_pin_failed(struct engine *e, const struct gw_event *ev)
{
	const struct gw_pin_call *pc = &ev->call;
	struct engine_finding f = {
		.kind = ENGINE_PIN_FAILED, .sev = pc->flags & GW_PIN_LONGTERM ? ENGINE_SEV_HIGH :
		ENGINE_SEV_MEDIUM, .ts_ns = ev->ts_ns, .task = ev->task, .kstack_id = ev->kstack_id,
		.ustack_id = ev->ustack_id, .address = pc->address, .who = ENGINE_WHO_NONE,
		.pinners[0] = { .task = ev->task, .flags = pc->flags & ~GW_PIN_FAST },
		.error = pc->ret, .nr_pages = pc->nr_pages,
	};

	if (e->lt_migrate_tid == ev->task.tid) {
		f.blocked_folios = e->lt_migrate_folios;
		e->lt_migrate_tid = 0;
	}

	emit(e, &f, task_match(e, &ev->task));
}

static void report_in_movable(struct engine *e, const struct gw_event *ev, const struct fslot *s,
			      struct holder *h)
{
	const struct engine_site *st = &site_at(e, h->site)->pub;
	struct range r = row_bounds(e, s, h);
	struct engine_finding f = {
		.kind = ENGINE_LONGTERM_IN_MOVABLE, .sev = ENGINE_SEV_HIGH, .ts_ns = ev->ts_ns,
		.task = ev->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
		.address = h->addr_lo, .folio = s->folio, .old_pfn = s->pfn,
		.who = ENGINE_WHO_TRACKED, .node = -1, .zone = GW_ZONE_MOVABLE,
	};

	h->reported = true;
	e->movable_suspects--;
	pinner_add(&f, &(struct engine_pinner){
		.task = h->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
		.flags = h->flags, .refs = r.hi, .refs_min = r.lo, .folios = 1,
		.since_ns = h->since_ns });
	emit(e, &f, task_match(e, &ev->task));
}

/*
 * A long-term pin call returned its pages. The kernel pinned, found pages it
 * may not pin for long (ZONE_MOVABLE, CMA), unpinned everything, migrated and
 * pinned again, all inside the call: the thread's long-term pins on movable
 * folios still held now are what it kept. Stock kernels keep none; the table
 * is scanned only when such pins exist.
 */
static void on_longterm_pinned(struct engine *e, const struct gw_event *ev)
{
	for (uint32_t i = 0; e->movable_suspects && i <= e->slot_mask; i++) {
		struct fslot *s = &e->slots[i];

		if (!s->folio || !s->movable)
			continue;
		for_each_row(e, s, h)
			if (h->refs && row_suspect(s, h) && h->task.tid == ev->task.tid)
				report_in_movable(e, ev, s, h);
	}
}

/*
 * The folio's tracked holders of every kind are the suspects; pins the kernel
 * shows beyond them were taken before tracing started (or lost).
 */
static void on_migrate_failed(struct engine *e, const struct gw_event *ev)
{
	const struct gw_migrate_failed *m = &ev->migrate;
	struct fslot *s = folio_find(e, m->folio);
	bool shown = task_match(e, &ev->task);
	struct range lt = { 0 }, any = { 0 };
	uint32_t out = 0;
	struct engine_finding f = {
		.kind = ENGINE_MIGRATE_BLOCKED, .ts_ns = ev->ts_ns, .task = ev->task,
		.kstack_id = ev->kstack_id, .ustack_id = ev->ustack_id, .folio = m->folio,
		.old_pfn = m->pfn, .nr_pages = m->nr_pages, .migrate_reason = m->reason,
		.refcount = m->refcount, .expected_refs = m->expected, .node = m->node,
		.zone = m->zone,
	};

	if (s) {
		uint32_t lt_refs = 0, lt_m = 0, all = 0, all_m = 0;
		uint32_t n = rowset(e, s, true).refs;

		for_each_row(e, s, h) {
			struct range r = row_bounds(e, s, h);
			const struct engine_site *st = &site_at(e, h->site)->pub;

			all += h->refs;
			all_m += h->maybe ? h->refs : 0;
			if (h->flags & GW_PIN_LONGTERM) {
				lt_refs += h->refs;
				lt_m += h->maybe ? h->refs : 0;
			}
			pinner_add(&f, &(struct engine_pinner){
				.task = h->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
				.flags = h->flags, .refs = r.hi, .refs_min = r.lo, .folios = 1,
				.since_ns = h->since_ns });
			shown |= task_match(e, &h->task);
		}
		lt = bounds(lt_refs, lt_m, n, s->unattributed);
		any = bounds(all, all_m, n, s->unattributed);
		out = all - s->unattributed;
	}
	if (m->pins > out)
		f.untracked_pins = m->pins - out;
	/* a long-term pin call migrates in its own thread, then fails (PIN-FAILED) */
	if (m->reason == MR_LONGTERM_PIN) {
		if (e->lt_migrate_tid != ev->task.tid)
			e->lt_migrate_folios = 0;
		e->lt_migrate_tid = ev->task.tid;
		e->lt_migrate_folios++;
	}
	f.who = f.nr_pinners ? ENGINE_WHO_TRACKED : ENGINE_WHO_NONE;
	f.sev = lt.lo ? ENGINE_SEV_HIGH : any.lo ? ENGINE_SEV_MEDIUM : ENGINE_SEV_POSSIBLE;
	emit(e, &f, shown);
}

static bool event_ok(const struct gw_event *ev)
{
	switch (ev->type) {
	case GW_EV_MIGRATE_FAILED:
		return ev->migrate.folio && ev->migrate.nr_pages;
	case GW_EV_PIN_CALL: /* a failure, or a long-term call's success */
		return ev->call.ret < 0 ? ev->call.nr_pages != 0 : (ev->call.flags & GW_PIN_LONGTERM);
	case GW_EV_PIN:
	case GW_EV_UNPIN:
		return ev->pin.refs && ev->pin.folio;
	case GW_EV_GET:
	case GW_EV_ZERO_PIN:
		return ev->pin.refs;
	case GW_EV_WP_COPY:
	case GW_EV_FORK_COPY:
		return true;
	default:
		return false;
	}
}

int engine_event(struct engine *e, const struct gw_event *ev)
{
	if (e->finished || !event_ok(ev)) {
		e->t.bad_events++;
		return -EINVAL;
	}
	if (!e->t.events++)
		e->t.first_ns = ev->ts_ns;
	if (ev->ts_ns > e->t.last_ns)
		e->t.last_ns = ev->ts_ns;
	if (ev->ts_ns > e->now)
		e->now = ev->ts_ns;

	switch (ev->type) {
	case GW_EV_PIN:
		on_pin(e, ev);
		break;
	case GW_EV_UNPIN:
		on_unpin(e, ev);
		break;
	case GW_EV_WP_COPY:
		if (ev->wp.flags & GW_WP_UNSHARE)
			on_unshare(e, ev);
		else
			on_write_copy(e, ev);
		break;
	case GW_EV_FORK_COPY:
		on_fork_copy(e, ev);
		break;
	case GW_EV_GET:
		on_get(e, ev);
		break;
	case GW_EV_ZERO_PIN:
		on_zero_pin(e, ev);
		break;
	case GW_EV_PIN_CALL:
		if (ev->call.ret < 0)
			on_pin_failed(e, ev);
		else
			on_longterm_pinned(e, ev);
		break;
	case GW_EV_MIGRATE_FAILED:
		on_migrate_failed(e, ev);
		break;
	}
	pending_flush(e, ev->ts_ns);
	return 0;
}

void engine_tick(struct engine *e, uint64_t now_ns)
{
	if (now_ns > e->now)
		e->now = now_ns;
	pending_flush(e, now_ns);
}

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->task.pid != y->task.pid)
		return x->task.pid < y->task.pid ? -1 : 1;
	if (x->flags != y->flags)
		return x->flags < y->flags ? -1 : 1;
	if (x->since_ns != y->since_ns)
		return x->since_ns < y->since_ns ? -1 : 1;
	/* not the folio table's order: that depends on its size */
	return (x->folio > y->folio) - (x->folio < y->folio);
}

/* One HELD-AT-EXIT per process and kind of pin, not per folio: a registered
 * buffer is one finding, not thousands. */
static void report_held(struct engine *e, uint64_t now)
{
	size_t n = 0, i, j;
	uint32_t k;

	for (k = 0; k <= e->slot_mask; k++) {
		const struct fslot *s = &e->slots[k];

		if (!s->folio)
			continue;
		for_each_row(e, s, h)
			e->held[n++] = (struct held){ .task = h->task, .flags = h->flags, .site = h->site,
						      .refs = row_bounds(e, s, h), .since_ns = h->since_ns,
						      .folio = s->folio, .pfn = s->pfn };
	}
	qsort(e->held, n, sizeof(*e->held), held_cmp);
	for (i = 0; i < n; i = j) {
		const struct held *x = &e->held[i];
		const struct engine_site *st = &site_at(e, x->site)->pub;
		struct engine_finding f = {
			.kind = ENGINE_HELD_AT_EXIT, .sev = ENGINE_SEV_INFO, .ts_ns = now,
			.task = x->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
			.folio = x->folio, .old_pfn = x->pfn, .who = ENGINE_WHO_TRACKED, .nr_pinners = 1,
			.pinners[0] = { .task = x->task, .kstack_id = st->kstack_id, .ustack_id = st->ustack_id,
					.flags = x->flags, .since_ns = x->since_ns },
		};

		for (j = i; j < n && e->held[j].task.pid == x->task.pid && e->held[j].flags == x->flags; j++) {
			f.pinners[0].refs += e->held[j].refs.hi;
			f.pinners[0].refs_min += e->held[j].refs.lo;
			f.pinners[0].folios++;
		}
		emit(e, &f, task_match(e, &x->task));
	}
}

void engine_finish(struct engine *e, uint64_t now_ns)
{
	if (e->finished)
		return;
	e->t.end_ns = now_ns ?: e->t.last_ns;
	if (e->t.end_ns > e->now)
		e->now = e->t.end_ns;
	pending_flush(e, UINT64_MAX);
	report_held(e, e->t.end_ns);
	e->finished = true;
}

void engine_set_counters(struct engine *e, const uint64_t counters[GW_CNT__MAX])
{
	memcpy(e->t.counters, counters, sizeof(e->t.counters));
	e->t.have_counters = true;
}

void engine_totals(const struct engine *e, struct engine_totals *t)
{
	*t = e->t;
	t->t0_ns = e->opts.t0_ns ?: e->t.first_ns;
	t->out_folios = e->nfolios;
	t->out_refs = e->row_refs - e->unattributed;
}

const struct engine_opts *engine_opts(const struct engine *e)
{
	return &e->opts;
}

static uint64_t site_pin_ns(const struct engine *e, const struct site *st)
{
	return st->pub.pin_ns + (e->now > st->last_ns ? st->pub.out_refs * (e->now - st->last_ns) : 0);
}

static int proc_cmp(const void *a, const void *b)
{
	const struct engine_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t engine_procs(const struct engine *e, struct engine_proc *out, size_t max)
{
	size_t n = 0, k;

	for (k = 0; k <= e->proc_mask + 1u; k++) {
		const struct proc *p = k <= e->proc_mask ? &e->procs[k] : &e->other;
		struct gw_task t = { .pid = p->pub.pid };

		memcpy(t.comm, p->pub.comm, GW_COMM_LEN);
		if (!p->used || !task_match(e, &t))
			continue;
		if (n < max) {
			out[n] = p->pub;
			out[n].out_refs = 0;
			out[n].out_refs_min = 0;
			out[n].out_ro_refs = out[n].out_rw_refs = out[n].out_longterm_refs = 0;
			out[n].oldest_ns = 0;
			out[n].pin_ns = 0;
		}
		n++;
	}
	if (!out || !n)
		return n;
	max = n < max ? n : max;
	qsort(out, max, sizeof(*out), proc_cmp);

	/* what only the rows know: refs at least and at most, the oldest pin */
	for (k = 0; k <= e->slot_mask; k++) {
		const struct fslot *s = &e->slots[k];

		if (!s->folio)
			continue;
		for_each_row(e, s, h) {
			struct engine_proc key = { .pid = proc_find(e, h->task.pid) ? h->task.pid : 0 };
			struct engine_proc *p = bsearch(&key, out, max, sizeof(*out), proc_cmp);
			struct range r;

			if (!p)
				continue;
			r = row_bounds(e, s, h);
			p->out_refs += r.hi;
			p->out_refs_min += r.lo;
			*(h->flags & GW_PIN_WRITE ? &p->out_rw_refs : &p->out_ro_refs) += r.hi;
			if (h->flags & GW_PIN_LONGTERM)
				p->out_longterm_refs += r.hi;
			if (!p->oldest_ns || h->since_ns < p->oldest_ns)
				p->oldest_ns = h->since_ns;
		}
	}
	for (k = 0; k <= e->site_mask + 1u; k++) {
		const struct site *st = k <= e->site_mask ? &e->sites[k] : &e->other_site;
		struct engine_proc key = { .pid = st->pub.task.pid };
		struct engine_proc *p;

		if (!st->used || !proc_find(e, key.pid))
			continue;
		p = bsearch(&key, out, max, sizeof(*out), proc_cmp);
		if (p)
			p->pin_ns += site_pin_ns(e, st);
	}
	return n;
}

size_t engine_sites(const struct engine *e, struct engine_site *out, size_t max)
{
	/* where each site went in out[]: index site_mask + 1 is the "(other)" site */
	uint32_t *pos = out && max ? malloc((e->site_mask + 2ull) * sizeof(*pos)) : NULL;
	size_t n = 0, k;

	for (k = 0; k <= e->site_mask + 1u; k++) {
		const struct site *st = k <= e->site_mask ? &e->sites[k] : &e->other_site;

		if (pos)
			pos[k] = NIL;
		if (!st->used || !task_match(e, &st->pub.task))
			continue;
		if (out && n < max) {
			out[n] = st->pub;
			out[n].pin_ns = site_pin_ns(e, st);
			out[n].oldest_ns = 0;
			if (pos)
				pos[k] = n;
		}
		n++;
	}
	/* the oldest outstanding pin, from the rows (without memory for pos: not known) */
	for (k = 0; pos && k <= e->slot_mask; k++) {
		const struct fslot *s = &e->slots[k];

		if (!s->folio)
			continue;
		for_each_row(e, s, h) {
			uint32_t i = pos[h->site == NIL ? e->site_mask + 1 : h->site];

			if (h->refs && i != NIL && (!out[i].oldest_ns || h->since_ns < out[i].oldest_ns))
				out[i].oldest_ns = h->since_ns;
		}
	}
	free(pos);
	return n;
}

void engine_mem(const struct engine *e, struct engine_mem *m)
{
	*m = (struct engine_mem){ .fslot = sizeof(*e->slots), .holder = sizeof(*e->rows),
				  .held = sizeof(*e->held), .slots = e->slot_mask + 1ull,
				  .slots_max = e->max_slot_mask + 1ull, .rows = e->nrows };
	m->folios_bytes = m->slots_max * m->fslot + m->rows * (m->holder + m->held);
	m->total_bytes = m->folios_bytes + (e->proc_mask + 1ull) * sizeof(*e->procs) +
			 (e->site_mask + 1ull) * sizeof(*e->sites) +
			 e->opts.max_findings * sizeof(*e->found) + sizeof(*e);
}

size_t engine_bytes_per_folio(void)
{
	struct engine e;

	/* two table slots (the table is a power of two >= 2 x), two rows and their scratch */
	return 2 * sizeof(*e.slots) + 2 * (sizeof(*e.rows) + sizeof(*e.held));
}

const struct engine_finding *engine_findings(const struct engine *e, size_t *n)
{
	*n = e->nfound;
	return e->found;
}

struct engine *engine_new(const struct engine_opts *opts)
{
	struct engine *e;

	if (!opts->max_folios || opts->max_folios > ENGINE_MAX_FOLIOS || opts->max_procs > UINT32_MAX / 4 ||
	    opts->max_sites > UINT32_MAX / 4 || (opts->filter_cgroup && !opts->cgroup_of)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->opts = *opts;
	e->opts.max_procs = opts->max_procs ?: 4096;
	e->opts.max_findings = opts->max_findings ?: 4096;
	e->opts.link_ns = opts->link_ns ?: 100 * 1000 * 1000ull;
	e->opts.max_sites = opts->max_sites ?: 16384;
	if (opts->filter_comm)
		strncpy(e->comm, opts->filter_comm, GW_COMM_LEN - 1);
	e->opts.filter_comm = e->comm[0] ? e->comm : NULL;

	e->max_slot_mask = pow2_at_least(2ull * e->opts.max_folios) - 1;
	e->slot_mask = (e->max_slot_mask < 1023 ? e->max_slot_mask : 1023);
	e->nrows = 2 * e->opts.max_folios;
	e->proc_mask = pow2_at_least(2ull * e->opts.max_procs) - 1;
	e->slots = calloc(e->slot_mask + 1ull, sizeof(*e->slots));
	e->rows = calloc(e->nrows, sizeof(*e->rows));
	e->held = calloc(e->nrows, sizeof(*e->held));
	e->procs = calloc(e->proc_mask + 1ull, sizeof(*e->procs));
	e->site_mask = pow2_at_least(2ull * e->opts.max_sites) - 1;
	e->sites = calloc(e->site_mask + 1ull, sizeof(*e->sites));
	e->found = calloc(e->opts.max_findings, sizeof(*e->found));
	if (!e->slots || !e->rows || !e->held || !e->procs || !e->sites || !e->found) {
		engine_free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->free_row = NIL;
	strcpy(e->other.pub.comm, "(other)");
	strcpy(e->other_site.pub.task.comm, "(other)");
	e->other_site.pub.kstack_id = e->other_site.pub.ustack_id = -1;
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	free(e->slots);
	free(e->rows);
	free(e->held);
	free(e->procs);
	free(e->sites);
	free(e->found);
	free(e);
}
