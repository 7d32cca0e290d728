// SPDX-License-Identifier: GPL-2.0
/* Human-readable rendering of findings and the summary; public engine API only. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "engine.h"
#include "format.h"

const char *engine_kind_name(enum engine_kind k)
{
	static const char *const names[] = {
		[ENGINE_STALE_PIN] = "STALE-PIN",
		[ENGINE_UNSHARE] = "UNSHARE",
		[ENGINE_FORK_COPY] = "FORK-COPY",
		[ENGINE_ZERO_PIN] = "ZERO-PIN",
		[ENGINE_PIN_FAILED] = "PIN-FAILED",
		[ENGINE_MIGRATE_BLOCKED] = "MIGRATE-BLOCKED",
		[ENGINE_LONGTERM_IN_MOVABLE] = "LONGTERM-IN-MOVABLE",
		[ENGINE_HELD_AT_EXIT] = "HELD-AT-EXIT",
	};

	return k < ENGINE_KIND__MAX ? names[k] : "?";
}

const char *engine_kind_side(enum engine_kind k)
{
	static const char *const names[] = {
		[ENGINE_STALE_PIN] = "writer",
		[ENGINE_UNSHARE] = "GUP caller",
		[ENGINE_FORK_COPY] = "fork parent",
		[ENGINE_ZERO_PIN] = "GUP caller",
		[ENGINE_PIN_FAILED] = "GUP caller",
		[ENGINE_MIGRATE_BLOCKED] = "migrating task",
		[ENGINE_LONGTERM_IN_MOVABLE] = "GUP caller",
		[ENGINE_HELD_AT_EXIT] = "holder",
	};

	return k < ENGINE_KIND__MAX ? names[k] : "?";
}

const char *engine_migrate_reason_name(uint32_t reason)
{
	/* enum migrate_reason (include/linux/migrate_mode.h): same values 6.1-6.18, MR_DAMON 6.3 */
	static const char *const names[] = {
		"compaction", "memory_failure", "memory_hotplug", "syscall", "mempolicy_mbind",
		"numa_misplaced", "contig_range", "longterm_pin", "demotion", "damon",
	};
	static __thread char buf[24];

	if (reason < sizeof(names) / sizeof(names[0]))
		return names[reason];
	snprintf(buf, sizeof(buf), "reason %u", reason);
	return buf;
}

const char *engine_zone_name(uint8_t zone)
{
	static const char *const names[] = {
		[GW_ZONE_UNKNOWN] = "?", [GW_ZONE_DMA] = "DMA", [GW_ZONE_DMA32] = "DMA32",
		[GW_ZONE_NORMAL] = "Normal", [GW_ZONE_MOVABLE] = "Movable", [GW_ZONE_DEVICE] = "Device",
	};

	return zone < sizeof(names) / sizeof(names[0]) ? names[zone] : "?";
}

const char *engine_errno_name(int64_t err)
{
	static __thread char buf[32];
	const char *name = err < 0 && err > -4096 ? strerrorname_np((int)-err) : NULL;

	if (name)
		snprintf(buf, sizeof(buf), "%s (%" PRId64 ")", name, err);
	else
		snprintf(buf, sizeof(buf), "error %" PRId64, err);
	return buf;
}

const char *engine_sev_name(enum engine_severity s)
{
	static const char *const names[] = {
		[ENGINE_SEV_INFO] = "info",
		[ENGINE_SEV_POSSIBLE] = "possible",
		[ENGINE_SEV_MEDIUM] = "medium",
		[ENGINE_SEV_HIGH] = "high",
	};

	return s < ENGINE_SEV__MAX ? names[s] : "?";
}

/* A growing line buffer: pinner texts have no fixed length. */
struct buf {
	char s[512];
	size_t len;
};

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= sizeof(b->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += n;
}

static void dur(struct buf *b, uint64_t ns)
{
	char t[FMT_LEN];

	bprintf(b, "%s", fmt_duration(ns, t, sizeof(t)));
}

static void pin_flags(struct buf *b, uint32_t flags)
{
	char t[FMT_LEN];

	bprintf(b, "%s", fmt_pin_kind(flags, t, sizeof(t)));
}

static void refs(struct buf *b, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		bprintf(b, "%u ref%s", hi, hi == 1 ? "" : "s");
	else
		bprintf(b, "%u-%u refs", lo, hi);
}

static void task(struct buf *b, const struct gw_task *t)
{
	char comm[FMT_COMM_LEN];

	bprintf(b, "%u/%s", t->pid, fmt_printable(t->comm, GW_COMM_LEN, comm, sizeof(comm)));
}

/* "1234/comm R/O 1 ref held 2s; ...; +N more; unknown (...)": a folio's holders at the finding. */
static void holders_text(struct buf *b, const struct engine_finding *fd, bool lost)
{
	const struct engine_pinner *p = fd->pinners;
	uint32_t i, listed = fd->nr_pinners < ENGINE_MAX_PINNERS ? fd->nr_pinners : ENGINE_MAX_PINNERS;

	for (i = 0; i < listed; i++) {
		bprintf(b, "%s%s", i ? "; " : "", p[i].refs_min ? "" : "maybe ");
		task(b, &p[i].task);
		bprintf(b, " ");
		pin_flags(b, p[i].flags);
		bprintf(b, " ");
		refs(b, p[i].refs_min, p[i].refs);
		bprintf(b, " held ");
		dur(b, fd->ts_ns - p[i].since_ns);
	}
	if (fd->nr_pinners > listed)
		bprintf(b, "; +%u more", fd->nr_pinners - listed);
	if (fd->untracked_pins)
		bprintf(b, "%sunknown (pinned before tracing started%s)", listed ? "; " : "",
			lost ? ", or lost" : "");
}

static void migrate_text(struct buf *b, const struct engine_finding *fd, bool lost)
{
	/* 64-bit: both come from a recording, which may hold any value */
	int64_t extra = (int64_t)fd->refcount - fd->expected_refs;

	bprintf(b, "%s", engine_migrate_reason_name(fd->migrate_reason));
	if (fd->node >= 0)
		bprintf(b, ", node %d %s", fd->node, engine_zone_name(fd->zone));
	if (fd->expected_refs < 0) {
		bprintf(b, ": refcount %d, not an LRU page: ", fd->refcount);
	} else if (extra <= 0) {
		bprintf(b, ": no extra references (refcount %d), failed for another reason",
			fd->refcount);
		return;
	} else {
		bprintf(b, ": %lld extra reference%s (refcount %d, migration expects %d): ",
			(long long)extra, extra == 1 ? "" : "s", fd->refcount, fd->expected_refs);
	}
	if (!fd->nr_pinners && !fd->untracked_pins)
		bprintf(b, "none of them FOLL_PIN pins gupwatch saw");
	else
		holders_text(b, fd, lost);
}

static void pinner_text(struct buf *b, const struct engine_finding *fd, bool lost)
{
	const struct engine_pinner *p = fd->pinners;
	uint32_t i, listed = fd->nr_pinners < ENGINE_MAX_PINNERS ? fd->nr_pinners : ENGINE_MAX_PINNERS;

	switch (fd->kind) {
	case ENGINE_STALE_PIN:
		holders_text(b, fd, lost);
		if (listed && !(fd->wp_flags & GW_WP_OLD_PINNED))
			bprintf(b, " (kernel: not pinned)");
		break;
	case ENGINE_MIGRATE_BLOCKED:
		migrate_text(b, fd, lost);
		break;
	case ENGINE_UNSHARE:
		if (fd->who != ENGINE_WHO_TRACKED) {
			bprintf(b, "no pin followed");
			break;
		}
		bprintf(b, "pinned it: ");
		pin_flags(b, p->flags);
		bprintf(b, " ");
		refs(b, p->refs_min, p->refs);
		bprintf(b, " after ");
		dur(b, p->since_ns - fd->ts_ns);
		break;
	case ENGINE_FORK_COPY:
		if (fd->who != ENGINE_WHO_CANDIDATES) {
			bprintf(b, "not identifiable");
			break;
		}
		bprintf(b, "parent's pins: ");
		for (i = 0; i < listed; i++) {
			bprintf(b, "%s", i ? ", " : "");
			pin_flags(b, p[i].flags);
			bprintf(b, " %u refs on %u folios", p[i].refs, p[i].folios);
		}
		bprintf(b, " (page not identifiable)");
		break;
	case ENGINE_ZERO_PIN:
		pin_flags(b, p->flags);
		bprintf(b, " pin got the zero page: no pin taken, the holder reads zeros, writes map a new page");
		break;
	case ENGINE_PIN_FAILED:
		pin_flags(b, p->flags);
		bprintf(b, " pin of %" PRIu64 " page%s failed: %s", fd->nr_pages,
			fd->nr_pages == 1 ? "" : "s", engine_errno_name(fd->error));
		if (fd->blocked_folios)
			bprintf(b, ": %u folio%s could not be migrated out first (MIGRATE-BLOCKED)",
				fd->blocked_folios, fd->blocked_folios == 1 ? "" : "s");
		break;
	case ENGINE_LONGTERM_IN_MOVABLE:
		pin_flags(b, p->flags);
		bprintf(b, " ");
		refs(b, p->refs_min, p->refs);
		bprintf(b, " kept in ZONE_MOVABLE: not migrated out first, the page cannot move "
			"until unpinned");
		break;
	case ENGINE_HELD_AT_EXIT:
		pin_flags(b, p->flags);
		bprintf(b, " ");
		refs(b, p->refs_min, p->refs);
		bprintf(b, " on %u folio%s, held ", p->folios, p->folios == 1 ? "" : "s");
		dur(b, fd->ts_ns - p->since_ns);
		break;
	default:
		break;
	}
}

void engine_print_finding_header(FILE *f)
{
	fprintf(f, "%-12s %-12s %-8s %-23s %-18s %-24s %s\n", "TIME(s)", "FINDING", "SEV",
		"PID/COMM", "ADDRESS", "PFN", "PINNER");
}

void engine_print_finding(FILE *f, const struct engine *e, const struct engine_finding *fd)
{
	engine_print_finding_run(f, e, fd, 1, fd->address);
}

void engine_print_finding_run(FILE *f, const struct engine *e, const struct engine_finding *fd,
			      uint32_t n, uint64_t last_address)
{
	struct engine_totals t;
	struct buf who = { 0 }, addr = { 0 }, pfn = { 0 }, pin = { 0 };

	engine_totals(e, &t);
	task(&who, &fd->task);
	if (n > 1)
		bprintf(&addr, "0x%" PRIx64 "-0x%" PRIx64, fd->address, last_address);
	else if (fd->address)
		bprintf(&addr, "0x%" PRIx64, fd->address);
	else
		bprintf(&addr, "-");
	if (fd->kind == ENGINE_PIN_FAILED)
		bprintf(&pfn, "-");
	else if (fd->kind == ENGINE_FORK_COPY)
		bprintf(&pfn, "->0x%" PRIx64, fd->new_pfn);
	else if (fd->kind == ENGINE_HELD_AT_EXIT || fd->kind == ENGINE_ZERO_PIN ||
		 fd->kind == ENGINE_MIGRATE_BLOCKED || fd->kind == ENGINE_LONGTERM_IN_MOVABLE)
		bprintf(&pfn, "0x%" PRIx64, fd->old_pfn);
	else
		bprintf(&pfn, "0x%" PRIx64 "->0x%" PRIx64, fd->old_pfn, fd->new_pfn);
	pinner_text(&pin, fd, t.lost_pins || t.counters[GW_CNT_RINGBUF_DROP]);
	if (n > 1)
		bprintf(&pin, " [%u pages, folded: -v or --json lists each]", n);
	fprintf(f, "%12.6f %-12s %-8s %-23s %-18s %-24s %s\n",
		((int64_t)(fd->ts_ns - t.t0_ns)) / 1e9, engine_kind_name(fd->kind),
		engine_sev_name(fd->sev), who.s, addr.s, pfn.s, pin.s);
}

/* One "label  events  kernel" row; kernel < 0: the kernel counts no such thing. */
static void total_row(FILE *f, const struct engine_totals *t, const char *label,
		      uint64_t events, int cnt)
{
	fprintf(f, "  %-30s %12" PRIu64, label, events);
	if (cnt >= 0 && t->have_counters)
		fprintf(f, " %12" PRIu64 "\n", t->counters[cnt]);
	else
		fprintf(f, " %12s\n", "-");
}

static void loss_row(FILE *f, const char *label, uint64_t v)
{
	fprintf(f, "  %-44s %12" PRIu64 "\n", label, v);
}

struct table_row engine_proc_row(const struct engine_proc *p, uint64_t now)
{
	uint64_t nf = 0;

	for (int k = 0; k < ENGINE_KIND__MAX; k++)
		nf += p->findings[k];
	return (struct table_row){
		.pid = p->pid, .comm = p->comm, .pins = p->pin_refs, .unpins = p->unpin_refs,
		.fast_undo = p->fast_undone_refs, .gets = p->get_refs, .ro = p->ro_refs,
		.rw = p->rw_refs, .longterm = p->longterm_refs, .held = p->out_refs,
		.held_min = p->out_refs_min, .held_ro = p->out_ro_refs, .held_rw = p->out_rw_refs,
		.held_longterm = p->out_longterm_refs, .held_folios = p->out_folios,
		.pin_ns = p->pin_ns, .oldest_ns = p->oldest_ns, .now_ns = now,
		.cow = p->wp_copies, .unshare = p->unshares, .fork_copy = p->fork_copies,
		.findings = nf,
	};
}

static void print_table(FILE *f, const enum column *cols, size_t ncols,
			const struct table_row *rows, size_t n)
{
	table_print_header(f, "", cols, ncols);
	for (size_t i = 0; i < n; i++)
		table_print_row(f, "", cols, ncols, &rows[i]);
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void print_procs(FILE *f, const struct engine *e, const struct engine_totals *t,
			const struct sort_spec *sort, const struct procinfo_table *procs)
{
	static const struct sort_spec by_pins = { { COL_PINS, COL_PID }, 2 };
	static const enum column taken[] = { COL_PID, COL_COMM, COL_PINS, COL_UNPINS, COL_FAST_UNDO,
					     COL_RO, COL_RW, COL_LONGTERM, COL_GETS, COL_PIN_SECONDS };
	static const enum column held[] = { COL_PID, COL_COMM, COL_FOLIOS, COL_HELD, COL_AGE, COL_COW,
					    COL_UNSHARE, COL_FORK_COPY, COL_FINDINGS };
	static const enum column ledger[] = { COL_PID, COL_COMM, COL_HELD, COL_BYTES, COL_VMPIN,
					      COL_MEMLOCK, COL_LEDGER, COL_CGROUP };
	size_t n = engine_procs(e, NULL, 0), i, known = 0;
	struct engine_proc *p = calloc(n ?: 1, sizeof(*p));
	struct table_row *rows = calloc(n ?: 1, sizeof(*rows));

	if (!p || !rows) {
		fprintf(f, "(per-process table: out of memory)\n");
		free(p);
		free(rows);
		return;
	}
	n = engine_procs(e, p, n);
	for (i = 0; i < n; i++) {
		rows[i] = engine_proc_row(&p[i], t->end_ns ?: t->last_ns);
		rows[i].proc = procs ? procinfo_table_get(procs, p[i].pid) : NULL;
		known += rows[i].proc && rows[i].proc->alive;
	}
	table_sort(rows, n, sort, &by_pins);
	fprintf(f, "Pins by process (references; R/O + R/W = PINS - FAST-UNDO; PIN-SECONDS: refs x time held)\n");
	print_table(f, taken, NCOLS(taken), rows, n);
	fprintf(f, "\nOutstanding pins and page copies by process (AGE: of the oldest pin held)\n");
	print_table(f, held, NCOLS(held), rows, n);
	if (known) {
		fprintf(f, "\nMemlock ledger and cgroup by process (VMPIN, MEMLOCK, CGROUP: /proc at the end,\n"
			   "or when first seen for a process gone by then; \"-\": never read)\n");
		print_table(f, ledger, NCOLS(ledger), rows, n);
	}
	free(rows);
	free(p);
}

void engine_print_summary(FILE *f, const struct engine *e, const struct sort_spec *sort,
			  const struct procinfo_table *procs)
{
	const struct engine_opts *o = engine_opts(e);
	struct engine_totals t;
	int k;

	engine_totals(e, &t);
	fprintf(f, "gupwatch summary: %.3f s, %" PRIu64 " events",
		(int64_t)((t.end_ns ?: t.last_ns) - t.t0_ns) / 1e9, t.events);
	if (o->filter_pid)
		fprintf(f, ", pid %u", o->filter_pid);
	if (o->filter_comm)
		fprintf(f, ", comm %s", o->filter_comm);
	if (o->filter_cgroup)
		fprintf(f, ", cgroup %s", o->filter_cgroup);
	fprintf(f, "\n\n");

	print_procs(f, e, &t, sort, procs);

	fprintf(f, "\nFindings%s\n", o->filter_pid || o->filter_comm || o->filter_cgroup ?
		" (SHOWN: passing the filter)" : "");
	fprintf(f, "  %-19s %10s %10s\n", "KIND", "TOTAL", "SHOWN");
	for (k = 0; k < ENGINE_KIND__MAX; k++)
		fprintf(f, "  %-19s %10" PRIu64 " %10" PRIu64 "\n", engine_kind_name(k),
			t.findings[k], t.findings_shown[k]);

	fprintf(f, "\nTotals, all processes\n");
	fprintf(f, "  %-30s %12s %12s\n", "", "EVENTS", "KERNEL");
	total_row(f, &t, "pin refs", t.pin_refs, GW_CNT_PIN_REFS);
	total_row(f, &t, "unpin refs", t.unpin_refs, GW_CNT_UNPIN_REFS);
	total_row(f, &t, "  of which GUP-fast undo", t.fast_undone_refs, -1);
	total_row(f, &t, "get refs", t.get_refs, -1);
	if (t.have_counters) {
		fprintf(f, "  %-30s %12s %12" PRIu64 "\n", "write-protect faults", "-",
			t.counters[GW_CNT_WP_FAULT]);
		fprintf(f, "  %-30s %12s %12" PRIu64 "\n", "  THP (PMD) write faults", "-",
			t.counters[GW_CNT_THP_WP_FAULT]);
	}
	total_row(f, &t, "copies: pinned COW + unshare", t.wp_copies + t.unshares, GW_CNT_WP_COPY);
	total_row(f, &t, "  of which unshare", t.unshares, GW_CNT_UNSHARE_COPY);
	total_row(f, &t, "  of pages pinned elsewhere", t.cow_other_pin_copies, -1);
	total_row(f, &t, "fork copies", t.fork_copies, GW_CNT_FORK_COPY);
	if (t.zero_pin_refs)
		total_row(f, &t, "zero page \"pins\" (none taken)", t.zero_pin_refs, -1);
	if (t.added_pin_refs)
		total_row(f, &t, "pins added (folio_add_pin)", t.added_pin_refs, -1);
	total_row(f, &t, "outstanding folios", t.out_folios, -1);
	total_row(f, &t, "outstanding refs", t.out_refs, -1);
	fprintf(f, "  (a COW of a page the kernel does not show pinned, or by a process that never\n"
		   "   pinned, costs one hook and is not counted as a copy, only as a write-protect\n"
		   "   fault; \"pinned elsewhere\": R/O-pinned only through another mm or at another\n"
		   "   page of the folio, so the pinner's view did not change: not stale)\n");

	fprintf(f, "\nLost and uncertain\n");
	if (t.have_counters) {
		loss_row(f, "events lost: ring buffer full", t.counters[GW_CNT_RINGBUF_DROP]);
		loss_row(f, "stacks lost", t.counters[GW_CNT_STACK_DROP]);
		loss_row(f, "hook runs skipped by the kernel (recursion)", t.counters[GW_CNT_PROG_MISSED]);
		loss_row(f, "per-task state not stored: map full", t.counters[GW_CNT_MAP_FULL]);
		loss_row(f, "fault windows of another fault, dropped", t.counters[GW_CNT_WINDOW_STALE]);
	} else {
		fprintf(f, "  %-44s %12s\n", "events lost: ring buffer full", "unknown");
	}
	loss_row(f, "pins not tracked: table full", t.lost_pins);
	loss_row(f, "  their refs", t.lost_pin_refs);
	loss_row(f, "unpin refs of unknown folios", t.unknown_unpin_refs);
	loss_row(f, "unpin refs of ambiguous kind (R/O, R/W, LT)", t.ambiguous_unpin_refs);
	loss_row(f, "  of which process unknown", t.unattributed_unpin_refs);
	loss_row(f, "unpin refs matched to the oldest pin", t.by_age_unpin_refs);
	loss_row(f, "outstanding folios with ambiguous split", t.out_ambiguous_folios);
	loss_row(f, "findings not stored", t.findings_unstored);
	loss_row(f, "bad events", t.bad_events);
}
