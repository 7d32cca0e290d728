// SPDX-License-Identifier: GPL-2.0
/* JSON Lines rendering of a run: header, findings, process rows, tables, totals, losses. */
#include "json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A minimal streaming writer: objects and arrays nest, commas are automatic. */
struct jw {
	FILE *f;
	int depth;
	bool first[8];
};

static void sep(struct jw *w)
{
	if (w->depth && !w->first[w->depth - 1])
		fputc(',', w->f);
	if (w->depth)
		w->first[w->depth - 1] = false;
}

static void open_(struct jw *w, const char *key, char c)
{
	sep(w);
	if (key)
		fprintf(w->f, "\"%s\":", key);
	fputc(c, w->f);
	w->first[w->depth++] = true;
}

static void close_(struct jw *w, char c)
{
	w->depth--;
	fputc(c, w->f);
	if (!w->depth)
		fputc('\n', w->f);
}

#define OBJ(w, key) open_(w, key, '{')
#define END(w) close_(w, '}')
#define ARR(w, key) open_(w, key, '[')
#define ENDARR(w) close_(w, ']')

static void key(struct jw *w, const char *k)
{
	sep(w);
	if (k)
		fprintf(w->f, "\"%s\":", k);
}

/* Bytes that are not printable ASCII (comms are arbitrary bytes) become \u00XX. */
static void str_n(struct jw *w, const char *k, const char *s, size_t max)
{
	key(w, k);
	fputc('"', w->f);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static void str(struct jw *w, const char *k, const char *s)
{
	if (s)
		str_n(w, k, s, SIZE_MAX);
	else {
		key(w, k);
		fputs("null", w->f);
	}
}

static void u64(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->f, "%" PRIu64, v);
}

static void null(struct jw *w, const char *k)
{
	key(w, k);
	fputs("null", w->f);
}

/* A signed number, or null when it is not known. */
static void i64_if(struct jw *w, const char *k, int64_t v, bool known)
{
	if (!known) {
		null(w, k);
		return;
	}
	key(w, k);
	fprintf(w->f, "%" PRId64, v);
}

/* Zero means "none" for pids, PFNs, addresses. */
static void u64_or_null(struct jw *w, const char *k, uint64_t v)
{
	if (v)
		u64(w, k, v);
	else
		null(w, k);
}

/* Kernel addresses and PFNs exceed 2^53 (jq's doubles): hex strings. */
static void hex(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->f, "\"0x%" PRIx64 "\"", v);
}

static void hex_or_null(struct jw *w, const char *k, uint64_t v)
{
	if (v)
		hex(w, k, v);
	else
		null(w, k);
}

static void boolean(struct jw *w, const char *k, bool v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->f);
}

static void secs(struct jw *w, const char *k, int64_t ns)
{
	key(w, k);
	fprintf(w->f, "%.9f", ns / 1e9);
}

static void task(struct jw *w, const struct gw_task *t)
{
	u64(w, "pid", t->pid);
	u64_or_null(w, "tid", t->tid);
	str_n(w, "comm", t->comm, GW_COMM_LEN);
}

void json_header(FILE *f, const struct engine *e, const struct rec_header *h, const char *source,
		 const char *file)
{
	const struct engine_opts *o = engine_opts(e);
	struct jw w = { .f = f };
	time_t secs_ = h->start_realtime_ns / 1000000000ULL;
	char when[32] = "";
	struct tm tm;

	if (gmtime_r(&secs_, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	OBJ(&w, NULL);
	str(&w, "type", "header");
	u64(&w, "schema_version", JSON_SCHEMA_VERSION);
	str(&w, "source", source);
	str(&w, "file", file);
	if (file)
		u64(&w, "format_version", h->format_version);
	else
		null(&w, "format_version");
	u64(&w, "event_version", h->event_version);
	str(&w, "kernel_release", h->release);
	str(&w, "boot_id", h->boot_id);
	str(&w, "hostname", h->hostname);
	str(&w, "start_time", when);
	key(&w, "start_unix_s");
	fprintf(f, "%.6f", h->start_realtime_ns / 1e9);
	u64(&w, "start_monotonic_ns", h->start_mono_ns);
	OBJ(&w, "foll");
	hex(&w, "write", h->foll_write);
	hex(&w, "get", h->foll_get);
	hex(&w, "force", h->foll_force);
	hex(&w, "remote", h->foll_remote);
	hex(&w, "longterm", h->foll_longterm);
	hex(&w, "pin", h->foll_pin);
	boolean(&w, "from_btf", h->foll_from_btf);
	END(&w);
	str(&w, "attach_mode", rec_attach_mode_name(h->attach_mode));
	boolean(&w, "get", h->trace_get);
	OBJ(&w, "filter");
	u64_or_null(&w, "pid", o->filter_pid);
	str(&w, "comm", o->filter_comm);
	str(&w, "cgroup", o->filter_cgroup);
	END(&w);
	if (h->command[0]) {
		str(&w, "command", h->command);
		u64_or_null(&w, "command_pid", h->command_pid);
	} else {
		null(&w, "command");
		null(&w, "command_pid");
	}
	END(&w);
}

static const char *who_name(enum engine_who who)
{
	switch (who) {
	case ENGINE_WHO_TRACKED: return "tracked";
	case ENGINE_WHO_CANDIDATES: return "candidates";
	default: return "none";
	}
}

static void pin_kind(struct jw *w, uint32_t flags)
{
	str(w, "access", flags & GW_PIN_ADDED ? "unknown" : flags & GW_PIN_WRITE ? "rw" : "ro");
	boolean(w, "longterm", flags & GW_PIN_LONGTERM);
	boolean(w, "remote", flags & GW_PIN_REMOTE);
	boolean(w, "force", flags & GW_PIN_FORCE);
}

/* A stack as an array of frame names, if st has it. */
static void stack(struct jw *w, const char *k, const struct stacks *st, uint32_t pid, int32_t id)
{
	uint64_t fr[STACKS_MAX_FRAMES];
	uint32_t nr;
	char name[512];
	bool user;

	if (!st || !stacks_get(st, id, &nr))
		return;
	nr = stacks_shown(st, id, fr, &user);
	ARR(w, k);
	for (uint32_t i = 0; i < nr; i++)
		str(w, NULL, stacks_frame(st, user, pid, fr[i], name, sizeof(name)));
	ENDARR(w);
}

/* pid's cgroup as the source knows it; null when it does not (cg NULL: not asked). */
static void cgroup(struct jw *w, const struct json_cgroups *cg, uint32_t pid)
{
	char path[256];

	if (cg && cg->of && pid && cg->of(cg->ctx, pid, path, sizeof(path)))
		str_n(w, "cgroup", path, sizeof(path));
	else
		null(w, "cgroup");
}

void json_finding(FILE *f, const struct engine *e, const struct engine_finding *fd,
		  const struct stacks *st, const struct json_cgroups *cg)
{
	static const struct { uint32_t bit; const char *name; } wp[] = {
		{ GW_WP_UNSHARE, "unshare" }, { GW_WP_THP, "thp" }, { GW_WP_HUGETLB, "hugetlb" },
		{ GW_WP_OLD_ANON, "old_anon" }, { GW_WP_OLD_PINNED, "kernel_pinned" },
	};
	uint32_t listed = fd->nr_pinners < ENGINE_MAX_PINNERS ? fd->nr_pinners : ENGINE_MAX_PINNERS;
	struct jw w = { .f = f };
	struct engine_totals t;

	engine_totals(e, &t);
	OBJ(&w, NULL);
	str(&w, "type", "finding");
	str(&w, "kind", engine_kind_name(fd->kind));
	str(&w, "severity", engine_sev_name(fd->sev));
	secs(&w, "time_s", (int64_t)(fd->ts_ns - t.t0_ns));
	u64(&w, "ts_ns", fd->ts_ns);
	task(&w, &fd->task);
	cgroup(&w, cg, fd->task.pid);
	hex_or_null(&w, "address", fd->address);
	hex_or_null(&w, "folio", fd->folio);
	hex_or_null(&w, "old_pfn", fd->old_pfn);
	hex_or_null(&w, "new_pfn", fd->new_pfn);
	ARR(&w, "wp_flags");
	for (size_t i = 0; i < sizeof(wp) / sizeof(wp[0]); i++)
		if (fd->wp_flags & wp[i].bit)
			str(&w, NULL, wp[i].name);
	ENDARR(&w);
	str(&w, "who", who_name(fd->who));
	u64(&w, "nr_pinners", fd->nr_pinners);
	ARR(&w, "pinners");
	for (uint32_t i = 0; i < listed; i++) {
		const struct engine_pinner *p = &fd->pinners[i];

		OBJ(&w, NULL);
		task(&w, &p->task);
		cgroup(&w, cg, p->task.pid);
		pin_kind(&w, p->flags);
		u64(&w, "refs", p->refs);
		u64(&w, "refs_min", p->refs_min);
		u64(&w, "folios", p->folios);
		/* UNSHARE: since is when the pin followed the copy. */
		if (p->since_ns)
			secs(&w, "since_s", (int64_t)(p->since_ns - t.t0_ns));
		else
			null(&w, "since_s");
		if (p->since_ns && fd->kind != ENGINE_UNSHARE)
			secs(&w, "held_s", (int64_t)(fd->ts_ns - p->since_ns));
		else
			null(&w, "held_s");
		stack(&w, "kernel_stack", st, p->task.pid, p->kstack_id);
		stack(&w, "user_stack", st, p->task.pid, p->ustack_id);
		END(&w);
	}
	ENDARR(&w);
	u64(&w, "untracked_pins", fd->untracked_pins);
	if (fd->kind == ENGINE_PIN_FAILED) {
		const char *name = fd->error > -4096 ? strerrorname_np((int)-fd->error) : NULL;

		OBJ(&w, "failed");
		i64_if(&w, "error", fd->error, true);
		str(&w, "error_name", name);
		u64(&w, "nr_pages", fd->nr_pages);
		u64(&w, "blocked_folios", fd->blocked_folios);
		pin_kind(&w, fd->pinners[0].flags);
		END(&w);
	}
	if (fd->kind == ENGINE_MIGRATE_BLOCKED) {
		OBJ(&w, "migrate");
		str(&w, "reason", engine_migrate_reason_name(fd->migrate_reason));
		u64(&w, "nr_pages", fd->nr_pages);
		i64_if(&w, "refcount", fd->refcount, true);
		i64_if(&w, "expected_refs", fd->expected_refs, fd->expected_refs >= 0);
		i64_if(&w, "node", fd->node, fd->node >= 0);
		str(&w, "zone", fd->zone != GW_ZONE_UNKNOWN ? engine_zone_name(fd->zone) : NULL);
		END(&w);
	}
	stack(&w, "kernel_stack", st, fd->task.pid, fd->kstack_id);
	stack(&w, "user_stack", st, fd->task.pid, fd->ustack_id);
	END(&w);
}

static void kinds(struct jw *w, const char *k, const uint64_t n[ENGINE_KIND__MAX])
{
	OBJ(w, k);
	for (int i = 0; i < ENGINE_KIND__MAX; i++)
		u64(w, engine_kind_name(i), n[i]);
	END(w);
}

/* What /proc said of it: the memlock ledger and the cgroup (null: never read). */
static void proc_info(struct jw *w, const struct procinfo *pi, uint64_t out_refs)
{
	if (!pi || !pi->alive) {
		null(w, "proc");
		return;
	}
	OBJ(w, "proc");
	str_n(w, "cgroup", pi->cgroup, sizeof(pi->cgroup));
	u64(w, "vm_pinned_bytes", pi->vm_pinned);
	u64(w, "vm_locked_bytes", pi->vm_locked);
	if (pi->memlock_limit == PROCINFO_UNLIMITED)
		null(w, "memlock_limit_bytes");
	else
		u64(w, "memlock_limit_bytes", pi->memlock_limit);
	str(w, "ledger", procinfo_ledger(pi, out_refs << GW_PAGE_SHIFT));
	END(w);
}

static void procs(FILE *f, const struct engine *e, const struct engine_totals *t,
		  const struct procinfo_table *pt)
{
	size_t n = engine_procs(e, NULL, 0);
	struct engine_proc *p = calloc(n ?: 1, sizeof(*p));
	uint64_t end = t->end_ns ?: t->last_ns;

	if (!p)
		return;
	engine_procs(e, p, n);
	for (size_t i = 0; i < n; i++) {
		struct jw w = { .f = f };

		OBJ(&w, NULL);
		str(&w, "type", "process");
		u64(&w, "pid", p[i].pid);
		str_n(&w, "comm", p[i].comm, GW_COMM_LEN);
		u64(&w, "pin_refs", p[i].pin_refs);
		u64(&w, "unpin_refs", p[i].unpin_refs);
		u64(&w, "fast_undone_refs", p[i].fast_undone_refs);
		u64(&w, "ro_refs", p[i].ro_refs);
		u64(&w, "rw_refs", p[i].rw_refs);
		u64(&w, "longterm_refs", p[i].longterm_refs);
		u64(&w, "get_refs", p[i].get_refs);
		secs(&w, "pin_seconds", p[i].pin_ns);
		u64(&w, "out_folios", p[i].out_folios);
		u64(&w, "out_refs", p[i].out_refs);
		u64(&w, "out_refs_min", p[i].out_refs_min);
		if (p[i].oldest_ns)
			secs(&w, "oldest_age_s", (int64_t)(end - p[i].oldest_ns));
		else
			null(&w, "oldest_age_s");
		u64(&w, "wp_copies", p[i].wp_copies);
		u64(&w, "unshares", p[i].unshares);
		u64(&w, "fork_copies", p[i].fork_copies);
		kinds(&w, "findings", p[i].findings);
		proc_info(&w, pt ? procinfo_table_get(pt, p[i].pid) : NULL, p[i].out_refs);
		END(&w);
	}
	free(p);
}

static void counter(struct jw *w, const struct engine_totals *t, const char *k, int cnt)
{
	if (t->have_counters)
		u64(w, k, t->counters[cnt]);
	else
		null(w, k);
}

/* The numbers of a call-site or user-stack row. */
static void group_numbers(struct jw *w, const struct site_group *g)
{
	u64(w, "procs", g->procs);
	u64(w, "pin_refs", g->pins);
	u64(w, "ro_refs", g->ro);
	u64(w, "rw_refs", g->rw);
	u64(w, "longterm_refs", g->longterm);
	u64(w, "out_refs", g->held);
	secs(w, "pin_seconds", g->pin_ns);
	u64(w, "released_refs", g->released);
	ARR(w, "hold_us_log2");
	for (int i = 0; i < ENGINE_HOLD_SLOTS; i++) {
		if (!g->hold[i])
			continue;
		OBJ(w, NULL);
		u64(w, "from_us", i ? 1ull << (i - 1) : 0);
		u64(w, "to_us", (1ull << i) - 1);
		u64(w, "refs", g->hold[i]);
		END(w);
	}
	ENDARR(w);
}

/* report: the call-site, user-stack and outstanding tables of sites.h. */
static void site_tables(FILE *f, const struct engine *e, const struct stacks *st,
			const struct sites_opts *o, uint64_t end)
{
	static const char *const types[] = {
		[GROUP_CALL_SITE] = "callsite", [GROUP_USER_STACK] = "user_stack",
		[GROUP_OUTSTANDING] = "outstanding",
	};

	for (int grouping = GROUP_CALL_SITE; grouping <= GROUP_OUTSTANDING; grouping++) {
		size_t n;
		struct site_group *g = sites_group(e, st, grouping, o->sort, &n);

		for (size_t i = 0; i < n; i++) {
			struct jw w = { .f = f };

			if (grouping == GROUP_OUTSTANDING && end - g[i].oldest_ns < o->min_age_ns)
				continue;
			OBJ(&w, NULL);
			str(&w, "type", types[grouping]);
			switch (grouping) {
			case GROUP_CALL_SITE:
				str(&w, "call_site", g[i].key);
				str(&w, "via", g[i].api);
				group_numbers(&w, &g[i]);
				break;
			case GROUP_USER_STACK:
				str_n(&w, "comm", g[i].comm, GW_COMM_LEN);
				str(&w, "user_stack", g[i].key);
				group_numbers(&w, &g[i]);
				break;
			case GROUP_OUTSTANDING:
				u64(&w, "pid", g[i].pid);
				str_n(&w, "comm", g[i].comm, GW_COMM_LEN);
				pin_kind(&w, g[i].flags);
				u64(&w, "out_refs", g[i].held);
				u64(&w, "out_folios", g[i].held_folios);
				secs(&w, "age_s", (int64_t)(end - g[i].oldest_ns));
				str(&w, "call_site", g[i].key);
				break;
			}
			END(&w);
		}
		free(g);
	}
}

void json_summary(FILE *f, const struct engine *e, const struct stacks *st,
		  const struct sites_opts *o, const struct procinfo_table *pt)
{
	struct engine_totals t;
	struct jw w = { .f = f };

	engine_totals(e, &t);
	procs(f, e, &t, pt);
	if (st)
		site_tables(f, e, st, o, t.end_ns ?: t.last_ns);

	OBJ(&w, NULL);
	str(&w, "type", "totals");
	secs(&w, "duration_s", (int64_t)((t.end_ns ?: t.last_ns) - t.t0_ns));
	u64(&w, "events", t.events);
	u64(&w, "pin_refs", t.pin_refs);
	u64(&w, "unpin_refs", t.unpin_refs);
	u64(&w, "fast_undone_refs", t.fast_undone_refs);
	u64(&w, "ro_refs", t.ro_refs);
	u64(&w, "rw_refs", t.rw_refs);
	u64(&w, "longterm_refs", t.longterm_refs);
	u64(&w, "get_refs", t.get_refs);
	u64(&w, "wp_copies", t.wp_copies);
	u64(&w, "unshares", t.unshares);
	u64(&w, "fork_copies", t.fork_copies);
	u64(&w, "cow_other_pin_copies", t.cow_other_pin_copies);
	u64(&w, "added_pin_refs", t.added_pin_refs);
	u64(&w, "zero_pin_refs", t.zero_pin_refs);
	u64(&w, "out_folios", t.out_folios);
	u64(&w, "out_refs", t.out_refs);
	kinds(&w, "findings", t.findings);
	kinds(&w, "findings_shown", t.findings_shown);
	if (t.have_counters) {
		OBJ(&w, "kernel");
		u64(&w, "pin_refs", t.counters[GW_CNT_PIN_REFS]);
		u64(&w, "unpin_refs", t.counters[GW_CNT_UNPIN_REFS]);
		u64(&w, "wp_faults", t.counters[GW_CNT_WP_FAULT]);
		u64(&w, "thp_wp_faults", t.counters[GW_CNT_THP_WP_FAULT]);
		u64(&w, "page_copies", t.counters[GW_CNT_WP_COPY]);
		u64(&w, "unshare_copies", t.counters[GW_CNT_UNSHARE_COPY]);
		u64(&w, "fork_copies", t.counters[GW_CNT_FORK_COPY]);
		END(&w);
	} else {
		null(&w, "kernel");
	}
	END(&w);

	OBJ(&w, NULL);
	str(&w, "type", "losses");
	counter(&w, &t, "ringbuf_drops", GW_CNT_RINGBUF_DROP);
	counter(&w, &t, "stack_drops", GW_CNT_STACK_DROP);
	counter(&w, &t, "prog_missed", GW_CNT_PROG_MISSED);
	counter(&w, &t, "map_full", GW_CNT_MAP_FULL);
	counter(&w, &t, "stale_windows", GW_CNT_WINDOW_STALE);
	u64(&w, "lost_pins", t.lost_pins);
	u64(&w, "lost_pin_refs", t.lost_pin_refs);
	u64(&w, "unknown_unpin_refs", t.unknown_unpin_refs);
	u64(&w, "ambiguous_unpin_refs", t.ambiguous_unpin_refs);
	u64(&w, "unattributed_unpin_refs", t.unattributed_unpin_refs);
	u64(&w, "by_age_unpin_refs", t.by_age_unpin_refs);
	u64(&w, "out_ambiguous_folios", t.out_ambiguous_folios);
	u64(&w, "findings_unstored", t.findings_unstored);
	u64(&w, "bad_events", t.bad_events);
	END(&w);
}
