/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Correlation engine: turns the gw_event stream (live ring buffer or a
 * recorded file) into findings and a per-process summary. Plain C, no BPF.
 *
 * Model. Outstanding FOLL_PIN references are kept per folio, split into
 * holder rows (process + GW_PIN_* flags). Unpin events carry no flags, so an
 * unpin is matched to a row:
 *   1. a GUP-fast undo (GW_UNPIN_GUP_UNDO: the kernel side saw the unpin
 *      inside the GUP-fast call): the row of the same thread's last GUP-fast
 *      pin of the folio (counted as fast_undone);
 *   2. process context: the rows of the same process, if it has any;
 *      interrupt context, or no such row: all rows of the folio (the task
 *      that happens to run in an interrupt never matters);
 *   3. if those candidates all share R/O-vs-R/W and long-term-ness (kind), the
 *      oldest rows lose the refs (the split stays exact; when the candidates
 *      belong to several processes this choice is counted as "by age");
 *      otherwise the unpin is *ambiguous*: the refs are recorded as
 *      unattributed among the candidate rows, which become "maybe" rows.
 *      Every number derived from them is then an interval [min, max], and
 *      it collapses again as soon as later unpins decide it.
 *
 * Rows also carry the mm the pin's pages were looked up in and the user
 * addresses they cover: a pin is of that mapping, not of the folio at large.
 *
 * Findings:
 *   STALE-PIN    a write COW replaced a page that has an outstanding R/O pin
 *                taken through the writer's own mm at the copied address: the
 *                pinner reads data the writer no longer sees (pinners[]). Pins
 *                of the folio through another mm or at another page are not
 *                stale (counted as cow_other_pin_copies). Also pins whose mm
 *                or address is unknown, or pins the kernel counted but the
 *                table lacks (untracked_pins: refs no mapping explains, taken
 *                before tracing started), as "possible". Severity: high if a
 *                long-term R/O pin is surely still held, medium if a
 *                short-term one is, possible if only "maybe", unknown or
 *                untracked ones are, or if the kernel saw no pin.
 *   UNSHARE      held back up to opts.link_ns for the same thread's pin of the
 *                new PFN, then reported (linked or not) in event order.
 *   FORK-COPY    the parent's own outstanding pins are the candidates.
 *   ZERO-PIN     a R/O long-term GUP got the shared zero page: the kernel took no
 *                pin, the holder reads zeros for good and the process's first write
 *                maps a new page (6.1; 6.12 unshares instead). At pin time, high.
 *   PIN-FAILED   a pin call returned an error: the caller, what it asked for, the errno,
 *                and how many folios its migration (long-term pins) left behind.
 *   MIGRATE-BLOCKED  migrate_pages() gave a folio back: the references the kernel
 *                saw against those migration accounts for, and the folio's
 *                tracked pin holders (any kind) as pinners[]; untracked_pins: pins
 *                the kernel shows that the table lacks. High if a long-term pin
 *                is surely held, medium if another pin is, possible otherwise.
 *                task: whoever ran the migration.
 *   LONGTERM-IN-MOVABLE  a long-term pin call returned (GW_EV_PIN_CALL) still
 *                holding pins of its thread on a ZONE_MOVABLE folio (pins
 *                marked GW_PIN_IN_MOVABLE): the kernel must migrate such pages
 *                out first, so these block memory offline for good. One per
 *                holder row, high; pinners[0] the row, task the caller.
 *   HELD-AT-EXIT one per process and pin kind, at engine_finish().
 *
 * Filters (pid, comm) select what is *reported*: findings in which any party
 * (writer, pinner, parent, holder) matches, and per-process summary rows.
 * All pins are tracked regardless, and totals and losses stay system-wide.
 */
#ifndef GUPWATCH_ENGINE_H
#define GUPWATCH_ENGINE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "columns.h"
#include "gupwatch.h"

enum engine_kind {
	ENGINE_STALE_PIN,    /* a write COW copied away a page with R/O pins on it */
	ENGINE_UNSHARE,      /* a R/O GUP pin made the kernel copy the page first */
	ENGINE_FORK_COPY,    /* fork copied a pinned page for the child */
	ENGINE_ZERO_PIN,     /* a R/O long-term pin was handed the shared zero page */
	ENGINE_PIN_FAILED,   /* a pin call returned an error */
	ENGINE_MIGRATE_BLOCKED, /* migration could not move a folio: its pin holders */
	ENGINE_LONGTERM_IN_MOVABLE, /* a long-term pin call kept a pin in ZONE_MOVABLE */
	ENGINE_HELD_AT_EXIT, /* pins still outstanding when tracing stopped */
	ENGINE_KIND__MAX
};

enum engine_severity {
	ENGINE_SEV_INFO,
	ENGINE_SEV_POSSIBLE, /* the events leave it open (ambiguous or untracked pins) */
	ENGINE_SEV_MEDIUM,   /* short-term R/O pin */
	ENGINE_SEV_HIGH,     /* long-term R/O pin */
	ENGINE_SEV__MAX
};

/* How a finding's pinners[] were identified. */
enum engine_who {
	ENGINE_WHO_NONE,       /* not identifiable (UNSHARE: no pin followed) */
	ENGINE_WHO_TRACKED,    /* holders of the folio in the table (UNSHARE: the pin that followed) */
	ENGINE_WHO_CANDIDATES, /* FORK-COPY: the parent's own pins, one pinner per kind (task: the
				  process, tid 0; since unknown); refs_min 0: none of them is known
				  to be on the copied page */
};

struct engine_pinner {
	struct gw_task task; /* task of its first pin (tid 0: a per-process sum) */
	int32_t kstack_id, ustack_id; /* stacks of that pin (gw_event ids); < 0: none */
	uint32_t flags;      /* GW_PIN_* without GW_PIN_FAST */
	uint32_t refs;       /* outstanding pin references, at most */
	uint32_t refs_min;   /* ... at least; 0 < refs: "maybe" (an ambiguous unpin may have been its) */
	uint32_t folios;     /* folios these refs are on */
	uint64_t since_ns;   /* oldest outstanding pin (UNSHARE: when the pin followed); 0: unknown */
};

#define ENGINE_MAX_PINNERS 4

struct engine_finding {
	enum engine_kind kind;
	enum engine_severity sev;
	uint64_t ts_ns;        /* event time (HELD-AT-EXIT: when tracing stopped) */
	struct gw_task task;   /* writer, GUP caller, fork parent, or holder */
	int32_t kstack_id, ustack_id; /* stacks of the event (HELD-AT-EXIT: of the oldest pin); < 0: none */
	uint64_t address;      /* user address; 0 for HELD-AT-EXIT */
	uint64_t folio;        /* old folio (HELD-AT-EXIT: the oldest held folio) */
	uint64_t old_pfn;      /* page copied from / held; 0: unknown (FORK-COPY) */
	uint64_t new_pfn;      /* the copy (FORK-COPY: the child's page) */
	uint32_t wp_flags;     /* GW_WP_* (FORK-COPY: GW_WP_HUGETLB for a hugetlb page) */
	enum engine_who who;
	uint32_t nr_pinners;   /* pinners involved; the first ENGINE_MAX_PINNERS are listed */
	struct engine_pinner pinners[ENGINE_MAX_PINNERS]; /* certain before "maybe", then oldest first */
	uint32_t untracked_pins; /* STALE-PIN: pins the kernel saw on the old folio that the table lacks
				    (taken before tracing started, or lost); >= 1 if only GW_WP_OLD_PINNED says so */
	int64_t error;         /* PIN-FAILED: the negative errno the pin call returned */
	uint64_t nr_pages;     /* PIN-FAILED: pages it asked for (pinners[0].flags: the pin's kind);
				  MIGRATE-BLOCKED: pages in the folio */
	uint32_t blocked_folios; /* PIN-FAILED: folios its move out of ZONE_MOVABLE/CMA could not
				    move (the MIGRATE-BLOCKED findings of its thread just before) */
	/* MIGRATE-BLOCKED: the event's (struct gw_migrate_failed) */
	uint32_t migrate_reason;
	int32_t refcount, expected_refs; /* expected_refs < 0: unknown */
	int16_t node;          /* -1: unknown */
	uint8_t zone;          /* enum gw_zone */
};

typedef void (*engine_finding_fn)(const struct engine_finding *f, void *ctx);

struct engine_opts {
	uint32_t max_folios;   /* folios tracked at once (> 0, <= ENGINE_MAX_FOLIOS); holder rows: twice that */
	uint32_t max_procs;    /* per-process rows, then one "(other)" row; 0: 4096 */
	uint32_t max_findings; /* reported findings kept for engine_findings(); 0: 4096 */
	uint32_t max_sites;    /* pin sites, then one "(other)" site; 0: 16384 */
	uint64_t link_ns;      /* how long an UNSHARE waits for its pin; 0: 100 ms (a TCG guest stalls
				  ~10 ms running new code: the first pin after an unshare came 10 ms late) */
	uint64_t t0_ns;        /* time origin of rendered timestamps; 0: the first event */
	uint32_t filter_pid;   /* 0: any */
	const char *filter_comm; /* exact comm; NULL: any */
	const char *filter_cgroup; /* cgroup v2 path: processes in it or below; NULL: any */
	/* a process's cgroup v2 path for filter_cgroup (called with ctx), asked when the engine
	 * first sees the process (false: unknown, e.g. it already exited; it does not pass); the
	 * engine reads nothing itself */
	procinfo_cgroup_fn cgroup_of;
	engine_finding_fn on_finding; /* called for each reported finding; may be NULL */
	void *ctx;
};

/* Per-process numbers. Refs are pin references (what /proc/vmstat counts). */
struct engine_proc {
	uint32_t pid;            /* tgid; 0: processes beyond max_procs */
	char comm[GW_COMM_LEN];  /* its main thread's latest comm (after exec: the new one) */
	uint64_t pin_refs;       /* taken by it (every PIN event) */
	uint64_t unpin_refs;     /* dropped from its pins, wherever the unpin ran */
	uint64_t fast_undone_refs; /* of which GUP-fast undid right away */
	uint64_t ro_refs, rw_refs; /* pins it kept, by kind: ro + rw = pin - fast_undone */
	uint64_t longterm_refs;  /* of those, FOLL_LONGTERM */
	uint64_t get_refs;       /* FOLL_GET references (not pins) */
	uint64_t out_folios;     /* folios it holds pins on now (incl. "maybe") */
	uint64_t out_refs, out_refs_min; /* refs it holds now: at most / at least */
	uint64_t out_ro_refs, out_rw_refs, out_longterm_refs; /* of out_refs, by kind (at most) */
	uint64_t pin_ns;         /* pin-seconds, in ns: sum of its sites' */
	uint64_t oldest_ns;      /* since when its oldest outstanding pin is held; 0: none */
	uint64_t wp_copies;      /* write-fault COW copies (writer) */
	uint64_t unshares;       /* unshare copies (GUP caller) */
	uint64_t fork_copies;    /* eager fork copies (parent) */
	uint64_t findings[ENGINE_KIND__MAX]; /* findings it is a party of */
};

/*
 * A pin site: the pins of one process of one kind (GW_PIN_* without FAST)
 * taken from one kernel and user stack (the events' stack ids; all pins
 * share one site per process and kind when stacks are not captured).
 * Renderers name the stacks and merge sites into call-site tables.
 */
#define ENGINE_HOLD_SLOTS 40 /* log2 slots of hold times in us: slot 0 < 1 us, slot i [2^(i-1), 2^i) */

struct engine_site {
	struct gw_task task;       /* its first pin's (pid 0: sites beyond max_sites) */
	uint32_t flags;
	int32_t kstack_id, ustack_id;
	uint64_t pin_refs;         /* taken */
	uint64_t fast_undone_refs; /* of which GUP-fast undid right away (no hold time) */
	uint64_t released_refs;    /* dropped after being held: counted in hold[] */
	uint64_t hold[ENGINE_HOLD_SLOTS]; /* released refs by how long they were held */
	uint64_t released_ns;      /* their hold times, summed (refs x ns) */
	uint64_t pin_ns;           /* refs x time held, in ns, outstanding ones up to the engine's clock */
	uint64_t out_refs, out_folios; /* held now (at most: ambiguous unpins may have been its) */
	uint64_t oldest_ns;        /* since when its oldest outstanding pin is held; 0: none */
};

struct engine_totals {
	uint64_t events, bad_events;     /* bad: unknown type or zero refs/folio */
	uint64_t first_ns, last_ns;      /* event time span */
	uint64_t t0_ns;                  /* time origin of rendered timestamps */
	uint64_t end_ns;                 /* when tracing stopped (engine_finish); 0: running */
	uint64_t pin_refs, unpin_refs;   /* raw event sums: compare with nr_foll_pin_* */
	uint64_t fast_undone_refs;
	uint64_t ro_refs, rw_refs, longterm_refs; /* kept pins, as per process */
	uint64_t get_refs;
	uint64_t wp_copies, unshares, fork_copies; /* from events; wp_copies counts write COW only */
	uint64_t cow_other_pin_copies;   /* write copies of folios R/O-pinned only through other
					    mappings or at other pages: not stale. Copies by a
					    process that never pinned are not seen at all */
	uint64_t added_pin_refs;         /* folio_add_pin(): pins not in nr_foll_pin_acquired */
	uint64_t zero_pin_refs;          /* R/O long-term "pins" of the zero page (no pin taken) */
	/* losses and uncertainty: unpin_refs = sum(proc unpin_refs) + unknown + unattributed */
	uint64_t lost_pins, lost_pin_refs; /* PINs not tracked: table full */
	uint64_t unknown_unpin_refs;     /* folio not in the table, or more than it held */
	uint64_t ambiguous_unpin_refs;   /* kind (R/O vs R/W, long-term) not told at unpin time */
	uint64_t unattributed_unpin_refs; /* ... and the process neither */
	uint64_t by_age_unpin_refs;      /* same kind, several processes: the oldest pin lost it */
	uint64_t out_folios, out_refs;   /* outstanding now (exact) */
	uint64_t out_ambiguous_folios;   /* whose split among holders is open */
	uint64_t findings[ENGINE_KIND__MAX];       /* all */
	uint64_t findings_sev[ENGINE_KIND__MAX][ENGINE_SEV__MAX]; /* all, by severity too */
	uint64_t findings_shown[ENGINE_KIND__MAX]; /* passing the filter */
	uint64_t findings_unstored;      /* shown but beyond max_findings */
	bool have_counters;
	uint64_t counters[GW_CNT__MAX];  /* kernel's, from engine_set_counters() */
};

struct engine;

/* The most --max-folios can ask: a TiB of 4 KiB pages (their rows: ~100 GB of address space). */
#define ENGINE_MAX_FOLIOS (1u << 28)

/* NULL with errno set (EINVAL, ENOMEM) on failure. */
struct engine *engine_new(const struct engine_opts *opts);
void engine_free(struct engine *e);

/* Feed one event, in ring-buffer order. -EINVAL: bad event, or after engine_finish (counted). */
int engine_event(struct engine *e, const struct gw_event *ev);
/* Report UNSHAREs whose link window has passed by now_ns; the live loop calls it when idle. */
void engine_tick(struct engine *e, uint64_t now_ns);
/* Tracing stopped at now_ns (0: the last event): flush, report HELD-AT-EXIT. Once. */
void engine_finish(struct engine *e, uint64_t now_ns);
/* Snapshot of the kernel's per-CPU counters, summed over CPUs. */
void engine_set_counters(struct engine *e, const uint64_t counters[GW_CNT__MAX]);

void engine_totals(const struct engine *e, struct engine_totals *t);
/* The options in effect (defaults filled in). */
const struct engine_opts *engine_opts(const struct engine *e);
/*
 * Rows of processes passing the filter, by pid, into out[0..max); returns how
 * many there are (may exceed max; out may be NULL to count).
 */
size_t engine_procs(const struct engine *e, struct engine_proc *out, size_t max);
/*
 * Pin sites passing the filter, in no particular order, into out[0..max);
 * returns how many there are (out may be NULL to count). Hold times and
 * pin-seconds count up to the engine's clock: the last event, engine_tick()
 * or engine_finish() time, whichever is latest.
 */
size_t engine_sites(const struct engine *e, struct engine_site *out, size_t max);
/* Bucket of a hold time in engine_site.hold[]. */
unsigned int engine_hold_slot(uint64_t ns);
/* Reported findings so far, in report order. */
const struct engine_finding *engine_findings(const struct engine *e, size_t *n);

/* What the engine allocated (bytes; calloc'ed: resident only once touched). */
struct engine_mem {
	size_t fslot, holder, held;  /* sizeof one folio slot, holder row, HELD-AT-EXIT scratch row */
	size_t slots, slots_max;     /* folio table now; at max_folios (a power of two >= 2 x) */
	size_t rows;                 /* 2 x max_folios */
	size_t folios_bytes;         /* folio table at its largest + rows + scratch: what max_folios costs */
	size_t total_bytes;          /* ... + processes, sites, findings, the engine itself */
};
void engine_mem(const struct engine *e, struct engine_mem *m);
/* Address space one unit of max_folios costs (at least: the table rounds up). */
size_t engine_bytes_per_folio(void);

/* Rendering (engine_print.c). */
const char *engine_kind_name(enum engine_kind k);
/* "syscall", "compaction"...: the kernel's enum migrate_reason in lower case, "reason N" past it. */
const char *engine_migrate_reason_name(uint32_t reason);
/* "Normal", "Movable"... as /proc/zoneinfo names them; "?" when unknown. */
const char *engine_zone_name(uint8_t zone);
/* "EFAULT (-14)" for a negative errno. */
const char *engine_errno_name(int64_t err);
const char *engine_sev_name(enum engine_severity s);
/* Who a finding's task is: "writer", "GUP caller", "fork parent", "holder". */
const char *engine_kind_side(enum engine_kind k);
void engine_print_finding_header(FILE *f);
/* One line per finding: time, finding, severity, pid/comm, address, PFNs, pinner. */
void engine_print_finding(FILE *f, const struct engine *e, const struct engine_finding *fd);
/* n findings like fd at consecutive pages up to last_address, as one line (n > 1). */
void engine_print_finding_run(FILE *f, const struct engine *e, const struct engine_finding *fd,
			      uint32_t n, uint64_t last_address);
/* perf-style tables: processes (in sort order; NULL: pins, then pid), findings,
 * totals vs kernel counters, losses. */
/* procs: what /proc said of the processes (their memlock ledger and cgroup); NULL: nothing */
void engine_print_summary(FILE *f, const struct engine *e, const struct sort_spec *sort,
			  const struct procinfo_table *procs);
/* A process's columns, its AGE counted up to now. */
struct table_row engine_proc_row(const struct engine_proc *p, uint64_t now);

#endif
