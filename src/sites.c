// SPDX-License-Identifier: GPL-2.0
#include "sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

static int by_key(const void *a, const void *b)
{
	const struct site_group *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	c = strcmp(x->comm, y->comm);
	if (c)
		return c;
	return (x->flags > y->flags) - (x->flags < y->flags);
}

/* The columns of a group (grouping: what its key is), its AGE counted up to now. */
static struct table_row sites_row(const struct site_group *g, enum site_grouping grouping,
				  uint64_t now)
{
	return (struct table_row){
		.pid = g->pid, .procs = g->procs, .kind = g->flags, .comm = g->comm,
		.site = grouping == GROUP_USER_STACK ? NULL : g->key, .via = g->api,
		.ustack = grouping == GROUP_USER_STACK ? g->key : NULL,
		.pins = g->pins, .ro = g->ro, .rw = g->rw, .longterm = g->longterm,
		.held = g->held, .held_min = g->held, .held_folios = g->held_folios,
		.pin_ns = g->pin_ns, .oldest_ns = g->oldest_ns, .now_ns = now,
	};
}

struct group_order {
	const struct sort_spec *sort;
	enum site_grouping grouping;
};

static int by_sort(const void *a, const void *b, void *arg)
{
	const struct group_order *o = arg;
	struct table_row x = sites_row(a, o->grouping, 0), y = sites_row(b, o->grouping, 0);

	return table_row_cmp(&x, &y, o->sort);
}

static void group_from(struct site_group *g, const struct engine_site *s, const struct stacks *st,
		       enum site_grouping grouping)
{
	uint64_t kept = s->pin_refs - s->fast_undone_refs;

	memset(g, 0, sizeof(*g));
	switch (grouping) {
	case GROUP_USER_STACK:
		stacks_user_summary(st, s->task.pid, s->ustack_id, 4, g->key, sizeof(g->key));
		memcpy(g->comm, s->task.comm, sizeof(g->comm));
		g->comm[sizeof(g->comm) - 1] = 0;
		break;
	case GROUP_OUTSTANDING:
		/* one row per process, kind and call site */
		memcpy(g->comm, s->task.comm, sizeof(g->comm));
		g->comm[sizeof(g->comm) - 1] = 0;
		g->flags = s->flags;
		/* fall through */
	case GROUP_CALL_SITE:
		stacks_call_site(st, s->kstack_id, g->key, sizeof(g->key), g->api, sizeof(g->api));
		break;
	}
	g->pid = s->task.pid;
	g->procs = 1;
	g->pins = s->pin_refs;
	*(s->flags & GW_PIN_WRITE ? &g->rw : &g->ro) = kept;
	g->longterm = s->flags & GW_PIN_LONGTERM ? kept : 0;
	g->released = s->released_refs;
	g->held = s->out_refs;
	g->held_folios = s->out_folios;
	g->pin_ns = s->pin_ns;
	g->oldest_ns = s->oldest_ns;
	memcpy(g->hold, s->hold, sizeof(g->hold));
}

static void group_merge(struct site_group *g, const struct site_group *o)
{
	if (o->pid != g->pid)
		g->procs++;
	g->pins += o->pins;
	g->ro += o->ro;
	g->rw += o->rw;
	g->longterm += o->longterm;
	g->released += o->released;
	g->held += o->held;
	g->held_folios += o->held_folios;
	g->pin_ns += o->pin_ns;
	if (o->oldest_ns && (!g->oldest_ns || o->oldest_ns < g->oldest_ns))
		g->oldest_ns = o->oldest_ns;
	for (int i = 0; i < ENGINE_HOLD_SLOTS; i++)
		g->hold[i] += o->hold[i];
}

struct site_group *sites_group(const struct engine *e, const struct stacks *st,
			       enum site_grouping grouping, const struct sort_spec *sort, size_t *n)
{
	size_t ns = engine_sites(e, NULL, 0), i, out = 0;
	struct engine_site *s = calloc(ns ?: 1, sizeof(*s));
	struct site_group *g = calloc(ns ?: 1, sizeof(*g));
	static const struct sort_spec by_age = { { COL_AGE }, 1 }, by_pins = { { COL_PINS }, 1 };
	struct group_order order = { sort && sort->n ? sort : &by_pins, grouping };

	*n = 0;
	if (!s || !g || !ns) {
		free(s);
		free(g);
		return NULL;
	}
	engine_sites(e, s, ns);
	for (i = 0; i < ns; i++) {
		if (grouping == GROUP_OUTSTANDING && !s[i].out_refs)
			continue;
		/* outstanding rows are per process: the pid is part of the key */
		group_from(&g[out], &s[i], st, grouping);
		if (grouping == GROUP_OUTSTANDING) {
			char site[sizeof(g->key)];

			memcpy(site, g[out].key, sizeof(site));
			snprintf(g[out].key, sizeof(g[out].key), "%010u %.*s", s[i].task.pid,
				 (int)sizeof(site) - 12, site);
		}
		out++;
	}
	free(s);
	qsort(g, out, sizeof(*g), by_key);
	for (i = 0, ns = 0; i < out; i++) {
		if (ns && !by_key(&g[ns - 1], &g[i]))
			group_merge(&g[ns - 1], &g[i]);
		else
			g[ns++] = g[i];
	}
	if (grouping == GROUP_OUTSTANDING)
		for (i = 0; i < ns; i++)
			memmove(g[i].key, g[i].key + 11, strlen(g[i].key + 11) + 1);
	if (grouping == GROUP_OUTSTANDING)
		order.sort = &by_age;
	qsort_r(g, ns, sizeof(*g), by_sort, &order);
	*n = ns;
	if (!ns) {
		free(g);
		return NULL;
	}
	return g;
}

void sites_print_hist(FILE *f, const uint64_t hold[ENGINE_HOLD_SLOTS])
{
	int first = -1, last = -1, i;
	uint64_t max = 0;

	for (i = 0; i < ENGINE_HOLD_SLOTS; i++) {
		if (!hold[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (hold[i] > max)
			max = hold[i];
	}
	if (first < 0)
		return;
	fprintf(f, "%24s : %-10s distribution\n", "usecs held", "count");
	for (i = first; i <= last; i++) {
		uint64_t lo = i ? 1ull << (i - 1) : 0, hi = (1ull << i) - 1;
		int stars = (int)(hold[i] * 40 / max);
		char range[48];

		snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64, lo, hi);
		fprintf(f, "%24s : %-10" PRIu64 " |%-40.*s|\n", range, hold[i], stars,
			"****************************************");
	}
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* A table of groups: header, then one row each (outstanding: held at least min_age). */
static void print_groups(FILE *f, const struct engine *e, const struct site_group *g, size_t n,
			 enum site_grouping grouping, const enum column *cols, size_t ncols,
			 uint64_t min_age)
{
	struct engine_totals t;
	size_t shown = 0;

	engine_totals(e, &t);
	table_print_header(f, "  ", cols, ncols);
	for (size_t i = 0; i < n; i++) {
		struct table_row r = sites_row(&g[i], grouping, t.end_ns ?: t.last_ns);

		if (min_age && (r.now_ns > r.oldest_ns ? r.now_ns - r.oldest_ns : 0) < min_age)
			continue;
		/* outstanding rows group by R/O or R/W and long-term only */
		r.kind &= GW_PIN_WRITE | GW_PIN_LONGTERM;
		table_print_row(f, "  ", cols, ncols, &r);
		shown++;
	}
	if (!shown && grouping == GROUP_OUTSTANDING)
		fprintf(f, "  (none)\n");
}

static void print_call_sites(FILE *f, const struct engine *e, const struct stacks *st,
			     const struct sites_opts *o)
{
	static const enum column cols[] = { COL_SITE, COL_VIA, COL_PROCS, COL_PINS, COL_RO, COL_RW,
					    COL_LONGTERM, COL_HELD, COL_PIN_SECONDS };
	size_t n, i;
	struct site_group *g = sites_group(e, st, GROUP_CALL_SITE, o->sort, &n);

	fprintf(f, "\nPins by kernel call site (the caller of GUP; VIA: the GUP entry point)\n");
	print_groups(f, e, g, n, GROUP_CALL_SITE, cols, NCOLS(cols), 0);
	for (i = 0; o->histograms && i < n; i++) {
		if (!g[i].released)
			continue;
		char site[4 * sizeof(g[i].key) + 1];

		fprintf(f, "\nHold times of pins taken at %s (%" PRIu64 " released; %" PRIu64
			" still held)\n", fmt_printable(g[i].key, sizeof(g[i].key), site, sizeof(site)),
			g[i].released, g[i].held);
		sites_print_hist(f, g[i].hold);
	}
	free(g);
}

static void print_user_stacks(FILE *f, const struct engine *e, const struct stacks *st,
			      const struct sites_opts *o)
{
	static const enum column cols[] = { COL_COMM, COL_PINS, COL_RO, COL_RW, COL_LONGTERM,
					    COL_HELD, COL_PIN_SECONDS, COL_USTACK };
	size_t n;
	struct site_group *g = sites_group(e, st, GROUP_USER_STACK, o->sort, &n);

	fprintf(f, "\nPins by user stack (innermost 4 frames)\n");
	print_groups(f, e, g, n, GROUP_USER_STACK, cols, NCOLS(cols), 0);
	free(g);
}

static void print_outstanding(FILE *f, const struct engine *e, const struct stacks *st,
			      const struct sites_opts *o)
{
	static const enum column cols[] = { COL_PID, COL_COMM, COL_KIND, COL_HELD, COL_FOLIOS,
					    COL_AGE, COL_SITE };
	size_t n;
	struct site_group *g = sites_group(e, st, GROUP_OUTSTANDING, NULL, &n);
	char age[FMT_LEN];

	fprintf(f, "\nOutstanding pins at the end, oldest first");
	if (o->min_age_ns)
		fprintf(f, " (held at least %s)", fmt_duration(o->min_age_ns, age, sizeof(age)));
	fprintf(f, "\n");
	print_groups(f, e, g, n, GROUP_OUTSTANDING, cols, NCOLS(cols), o->min_age_ns);
	free(g);
}

/* Findings with the same kind and the same two sides, counted. */
struct pair {
	enum engine_kind kind;
	enum engine_severity sev;
	struct gw_task who, pinner;
	uint32_t pinner_flags;
	bool has_pinner;
	uint64_t count;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->who.pid != y->who.pid)
		return x->who.pid < y->who.pid ? -1 : 1;
	if (x->pinner.pid != y->pinner.pid)
		return x->pinner.pid < y->pinner.pid ? -1 : 1;
	return (x->pinner_flags > y->pinner_flags) - (x->pinner_flags < y->pinner_flags);
}

static void print_pairs(FILE *f, const struct engine *e)
{
	size_t nf, i, n = 0;
	const struct engine_finding *fd = engine_findings(e, &nf);
	struct pair *p = calloc(nf ?: 1, sizeof(*p));

	if (!p)
		return;
	for (i = 0; i < nf; i++) {
		struct pair q = { .kind = fd[i].kind, .sev = fd[i].sev, .who = fd[i].task, .count = 1 };

		q.who.tid = 0;
		if (fd[i].nr_pinners && fd[i].kind != ENGINE_HELD_AT_EXIT) {
			q.has_pinner = true;
			q.pinner = fd[i].pinners[0].task;
			q.pinner.tid = 0;
			q.pinner_flags = fd[i].pinners[0].flags;
		}
		p[n++] = q;
	}
	qsort(p, n, sizeof(*p), pair_cmp);
	fprintf(f, "\nFindings by the two sides they name (PINNER: the first listed)\n");
	fprintf(f, "  %-13s %6s %-8s %-12s %-23s %s\n", "FINDING", "COUNT", "MAX-SEV", "SIDE",
		"PID/COMM", "PINNER");
	for (i = 0; i < n;) {
		size_t j = i + 1;
		enum engine_severity sev = p[i].sev;
		char who[80], pin[112] = "-", kind[FMT_LEN], comm[FMT_COMM_LEN];

		for (; j < n && !pair_cmp(&p[i], &p[j]); j++)
			sev = p[j].sev > sev ? p[j].sev : sev;
		snprintf(who, sizeof(who), "%u/%s", p[i].who.pid,
			 fmt_printable(p[i].who.comm, GW_COMM_LEN, comm, sizeof(comm)));
		if (p[i].has_pinner)
			snprintf(pin, sizeof(pin), "%u/%s %s", p[i].pinner.pid,
				 fmt_printable(p[i].pinner.comm, GW_COMM_LEN, comm, sizeof(comm)),
				 fmt_pin_kind(p[i].pinner_flags & (GW_PIN_WRITE | GW_PIN_LONGTERM), kind,
					      sizeof(kind)));
		fprintf(f, "  %-13s %6zu %-8s %-12s %-23s %s\n", engine_kind_name(p[i].kind), j - i,
			engine_sev_name(sev), engine_kind_side(p[i].kind), who, pin);
		i = j;
	}
	if (!n)
		fprintf(f, "  (none)\n");
	free(p);
}

void sites_print(FILE *f, const struct engine *e, const struct stacks *st, const struct sites_opts *o)
{
	print_pairs(f, e);
	print_call_sites(f, e, st, o);
	print_user_stacks(f, e, st, o);
	print_outstanding(f, e, st, o);
}
