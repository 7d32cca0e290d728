// SPDX-License-Identifier: GPL-2.0
#include "consumer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"
#include "stacks.h"

struct consumer {
	struct consumer_opts o;
	struct engine *engine;
	struct stacks *stacks;
	struct procinfo_table *procs; /* PROCINFO items: what /proc said of each process */
	/* text: one fork's or GUP call's findings at consecutive pages, printed as one line */
	struct engine_finding run;
	uint32_t run_n;
	uint64_t run_last;   /* address of its last page */
	uint64_t run_last_ns; /* time of its last page's finding */
	uint64_t folded[ENGINE_KIND__MAX]; /* findings printed in runs of more than one */
	uint64_t fold_lines; /* ... as so many lines */
};

/* A process's cgroup (--cgroup, findings' JSON): where the PROCINFO item before its first
 * event put it */
static bool cgroup_of_item(void *ctx, uint32_t pid, char *path, size_t len)
{
	const struct procinfo *pi = procinfo_table_get(((struct consumer *)ctx)->procs, pid);

	if (!pi || !pi->alive || !pi->cgroup[0])
		return false;
	snprintf(path, len, "%s", pi->cgroup);
	return true;
}

/* The stacks of both sides under a finding line. */
static void print_finding_stacks(const struct consumer *c, const struct engine_finding *f)
{
	char comm[FMT_COMM_LEN];
	uint32_t nr, i;

	if ((stacks_get(c->stacks, f->kstack_id, &nr) || stacks_get(c->stacks, f->ustack_id, &nr)) &&
	    f->kind != ENGINE_HELD_AT_EXIT) {
		printf("    %s %u/%s:\n", engine_kind_side(f->kind), f->task.pid,
		       fmt_printable(f->task.comm, GW_COMM_LEN, comm, sizeof(comm)));
		stacks_print(stdout, c->stacks, "      ", f->task.pid, f->kstack_id);
		stacks_print(stdout, c->stacks, "      ", f->task.pid, f->ustack_id);
	}
	for (i = 0; i < f->nr_pinners && i < ENGINE_MAX_PINNERS; i++) {
		const struct engine_pinner *p = &f->pinners[i];

		if (!stacks_get(c->stacks, p->kstack_id, &nr) && !stacks_get(c->stacks, p->ustack_id, &nr))
			continue;
		printf("    %s %u/%s (%s pin):\n", f->kind == ENGINE_HELD_AT_EXIT ? "oldest pin of" :
		       "pinner", p->task.pid, fmt_printable(p->task.comm, GW_COMM_LEN, comm, sizeof(comm)),
		       p->flags & GW_PIN_WRITE ? "R/W" : "R/O");
		stacks_print(stdout, c->stacks, "      ", p->task.pid, p->kstack_id);
		stacks_print(stdout, c->stacks, "      ", p->task.pid, p->ustack_id);
	}
}

#define PAGE_SIZE_4K 4096

static void run_flush(struct consumer *c)
{
	if (!c->run_n)
		return;
	engine_print_finding_run(stdout, c->engine, &c->run, c->run_n, c->run_last);
	if (c->o.finding_stacks)
		print_finding_stacks(c, &c->run);
	if (c->run_n > 1) {
		c->folded[c->run.kind] += c->run_n;
		c->fold_lines++;
	}
	c->run_n = 0;
}

/* Same pinners, of the same kind, refs and stacks (their times differ page by page). */
static bool same_pinners(const struct engine_finding *a, const struct engine_finding *b)
{
	if (a->nr_pinners != b->nr_pinners)
		return false;
	for (uint32_t i = 0; i < a->nr_pinners && i < ENGINE_MAX_PINNERS; i++) {
		const struct engine_pinner *p = &a->pinners[i], *q = &b->pinners[i];

		if (p->task.pid != q->task.pid || p->task.tid != q->task.tid || p->flags != q->flags ||
		    p->refs != q->refs || p->refs_min != q->refs_min || p->folios != q->folios ||
		    p->kstack_id != q->kstack_id || p->ustack_id != q->ustack_id)
			return false;
	}
	return true;
}

/*
 * The next page of the run: the same kind by the same thread for the same
 * pinners, one page on. A fork copies page after page, a GUP call unshares
 * or "pins" the zero page page after page; the events carry no call id, so a
 * run is as long as nothing else is found in between.
 */
static bool run_continues(const struct consumer *c, const struct engine_finding *f)
{
	const struct engine_finding *r = &c->run;

	return c->run_n && f->kind == r->kind && f->task.tid == r->task.tid &&
	       f->address == c->run_last + PAGE_SIZE_4K && f->sev == r->sev && f->who == r->who &&
	       same_pinners(f, r);
}

/* A fork's copies of base pages, a GUP call's unshares and zero-page "pins". */
static bool foldable(const struct engine_finding *f)
{
	return (f->kind == ENGINE_FORK_COPY && !(f->wp_flags & GW_WP_HUGETLB)) ||
	       f->kind == ENGINE_UNSHARE || f->kind == ENGINE_ZERO_PIN;
}

/*
 * One fork copies every pinned page of the parent, and one GUP call unshares
 * every page of its range: one line per page floods the output (a pinned THP
 * alone makes 512). The text output folds such a run into one line; -v and
 * JSON list each page.
 */
static void on_finding(const struct engine_finding *f, void *ctx)
{
	struct consumer *c = ctx;

	if (c->o.json) {
		json_finding(stdout, c->engine, f, c->stacks,
			     &(struct json_cgroups){ .of = cgroup_of_item, .ctx = c });
	} else if (run_continues(c, f)) {
		c->run_n++;
		c->run_last = f->address;
		c->run_last_ns = f->ts_ns;
	} else {
		run_flush(c);
		c->run = *f;
		c->run_n = 1;
		c->run_last = f->address;
		c->run_last_ns = f->ts_ns;
		if (c->o.events || !foldable(f))
			run_flush(c);
	}
	if (c->o.live)
		fflush(stdout);
}

static void print_event(const struct consumer *c, const struct gw_event *e)
{
	static const char *const names[] = {
		[GW_EV_PIN] = "PIN", [GW_EV_UNPIN] = "UNPIN", [GW_EV_WP_COPY] = "WP-COPY",
		[GW_EV_FORK_COPY] = "FORK-COPY", [GW_EV_GET] = "GET", [GW_EV_ZERO_PIN] = "ZERO-PIN",
		[GW_EV_PIN_CALL] = "PIN-CALL", [GW_EV_MIGRATE_FAILED] = "MIGRATE-FAILED",
	};
	const char *name = e->type < sizeof(names) / sizeof(names[0]) && names[e->type] ?
		names[e->type] : "?";
	char comm[FMT_COMM_LEN];

	printf("event %-9s %llu.%06llu %d/%d %-16s %s", name, e->ts_ns / 1000000000ULL,
	       (e->ts_ns / 1000) % 1000000, e->task.pid, e->task.tid,
	       fmt_printable(e->task.comm, GW_COMM_LEN, comm, sizeof(comm)), e->in_irq ? "irq " : "");
	switch (e->type) {
	case GW_EV_PIN:
	case GW_EV_UNPIN:
	case GW_EV_GET:
	case GW_EV_ZERO_PIN:
		printf("folio=0x%llx pfn=0x%llx mm=0x%llx addr=0x%llx refs=%u flags=0x%x gup_flags=0x%x "
		       "nr_pages=%u\n", e->pin.folio, e->pin.pfn, e->pin.mm, e->pin.address, e->pin.refs,
		       e->pin.flags, e->pin.gup_flags, e->pin.nr_pages);
		break;
	case GW_EV_WP_COPY:
		printf("mm=0x%llx addr=0x%llx old_pfn=0x%llx new_pfn=0x%llx flags=0x%x old_pincount=%u\n",
		       e->wp.mm, e->wp.address, e->wp.old_pfn, e->wp.new_pfn, e->wp.flags,
		       e->wp.old_pincount);
		break;
	case GW_EV_FORK_COPY:
		printf("addr=0x%llx new_pfn=0x%llx huge=%u\n", e->fork.address, e->fork.new_pfn,
		       e->fork.huge);
		break;
	case GW_EV_PIN_CALL:
		printf("mm=0x%llx addr=0x%llx nr_pages=%llu ret=%lld flags=0x%x gup_flags=0x%x\n",
		       e->call.mm, e->call.address, e->call.nr_pages, e->call.ret,
		       e->call.flags, e->call.gup_flags);
		break;
	case GW_EV_MIGRATE_FAILED:
		printf("folio=0x%llx pfn=0x%llx nr_pages=%u reason=%u refcount=%d expected=%d pins=%u "
		       "node=%d zone=%u\n", e->migrate.folio, e->migrate.pfn, e->migrate.nr_pages,
		       e->migrate.reason, e->migrate.refcount, e->migrate.expected, e->migrate.pins,
		       e->migrate.node, e->migrate.zone);
		break;
	default:
		printf("\n");
	}
	stacks_print(stdout, c->stacks, "    ", e->task.pid, e->kstack_id);
	stacks_print(stdout, c->stacks, "    ", e->task.pid, e->ustack_id);
}

struct consumer *consumer_new(const struct consumer_opts *o)
{
	struct consumer *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->o = *o;
	c->o.engine.on_finding = on_finding;
	c->o.engine.ctx = c;
	if (o->engine.filter_cgroup)
		c->o.engine.cgroup_of = cgroup_of_item;
	c->procs = procinfo_table_new();
	c->engine = c->procs ? engine_new(&c->o.engine) : NULL;
	c->stacks = stacks_new(o->symfs);
	if (!c->engine || !c->stacks) {
		consumer_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void consumer_free(struct consumer *c)
{
	if (!c)
		return;
	stacks_free(c->stacks);
	engine_free(c->engine);
	procinfo_table_free(c->procs);
	free(c);
}

/* Stacks and the symbols to name them come before the events that use them. */
int consumer_item(const struct rec_item *it, void *consumer)
{
	struct consumer *c = consumer;

	switch (it->type) {
	case REC_EVENT:
		if (c->o.events)
			print_event(c, &it->event);
		engine_event(c->engine, &it->event);
		if (c->o.events && c->o.live)
			fflush(stdout);
		return 0;
	case REC_STACK:
	case REC_KSYM:
	case REC_MAPS:
		return stacks_item(c->stacks, it);
	case REC_PROCINFO: /* full: the processes beyond it go without */
		return procinfo_table_set(c->procs, it->proc.pid, &it->proc.info) == -ENOMEM ? -ENOMEM : 0;
	}
	return 0;
}

void consumer_begin(struct consumer *c, const struct rec_header *h, const char *source,
		    const char *file)
{
	if (c->o.json)
		json_header(stdout, c->engine, h, source, file);
	else
		engine_print_finding_header(stdout);
	fflush(stdout);
}

/*
 * Live: a run is printed once its last page is this old. A poll tick may fall
 * inside one GUP call's or fork's run (the reader polls every 100 ms); the run
 * must not be cut there, nor held back for long.
 */
#define RUN_HOLD_NS 500000000ULL

void consumer_tick(struct consumer *c, uint64_t now_ns)
{
	engine_tick(c->engine, now_ns);
	if (c->run_n && now_ns > c->run_last_ns + RUN_HOLD_NS)
		run_flush(c);
	if (c->o.live)
		fflush(stdout);
}

const struct procinfo_table *consumer_procinfo(const struct consumer *c)
{
	return c->procs;
}

void consumer_end(struct consumer *c, const uint64_t counters[GW_CNT__MAX], uint64_t end_ns,
		  const struct sort_spec *sort, const struct sites_opts *sites)
{
	if (counters)
		engine_set_counters(c->engine, counters);
	engine_finish(c->engine, end_ns);
	run_flush(c);
	if (c->o.json) {
		json_summary(stdout, c->engine, sites ? c->stacks : NULL, sites, c->procs);
		return;
	}
	printf("\n");
	engine_print_summary(stdout, c->engine, sort, c->procs);
	if (c->fold_lines) {
		const char *sep = "\nFolded: ";

		for (int k = 0; k < ENGINE_KIND__MAX; k++) {
			if (c->folded[k])
				printf("%s%" PRIu64 " %s", sep, c->folded[k], engine_kind_name(k));
			sep = c->folded[k] ? ", " : sep;
		}
		printf(" findings of consecutive pages printed as %" PRIu64
		       " lines (-v or --json lists each page)\n", c->fold_lines);
	}
	if (sites)
		sites_print(stdout, c->engine, c->stacks, sites);
}
