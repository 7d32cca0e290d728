// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch trace (the default command): attach, stream events from the ring
 * buffer into the correlation engine, print findings as they happen and a
 * summary at the end (duration, Ctrl-C or SIGTERM), then detach.
 */
#include <argp.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "json.h"
#include "gupwatch.skel.h"
#include "ksyms.h"
#include "session.h"
#include "sortkeys.h"
#include "usyms.h"

static struct trace_env {
	struct tracer_opts tracer;
	struct engine_opts engine;
	struct sort_spec sort;
	long duration_s;
	bool verbose;
	bool json;
} env = {
	.tracer = { .mode = ATTACH_AUTO },
	.engine = { .max_folios = 1 << 18 },
};

enum { OPT_GET = 1000, OPT_LOAD_ONLY, OPT_JSON, OPT_SORT };

static const struct argp_option trace_options[] = {
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM", 0 },
	{ "duration", 'd', "SECONDS", 0, "Trace for SECONDS, then print the summary", 0 },
	{ "verbose", 'v', NULL, 0, "Also print every pin, unpin and copy event with its kernel (k) and user (u) stack", 0 },
	CLI_TRACER_OPTIONS,
	{ "get", OPT_GET, NULL, 0, "Also report FOLL_GET references (a separate class, not pins)", 0 },
	{ "max-folios", CLI_OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line (doc/gupwatch-json.schema.json)", 0 },
	{ "sort", OPT_SORT, "KEYS", 0, "Order of the per-process tables, comma-separated: " SORT_KEYS_HELP " (default pins,pid)", 0 },
	{ "load-only", OPT_LOAD_ONLY, NULL, 0, "Check that the kernel accepts the BPF programs, attach nothing", 0 },
	{ 0 },
};

static error_t trace_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd':
		env.duration_s = cli_positive(arg, "duration", state);
		break;
	case 'v':
		env.verbose = true;
		env.tracer.stacks = true;
		break;
	case OPT_GET:
		env.tracer.trace_get = true;
		break;
	case OPT_LOAD_ONLY:
		env.tracer.load_only = true;
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case OPT_SORT:
		cli_sort(arg, &env.sort, state);
		break;
	case ARGP_KEY_END:
		if (env.json && env.verbose)
			argp_error(state, "--verbose and --json do not mix");
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return cli_parse_common(key, arg, state, &env.engine, &env.tracer);
	}
	return 0;
}

static const struct argp trace_argp = {
	.options = trace_options,
	.parser = trace_parse,
	.doc = "Trace FOLL_PIN pins, the COW faults that copy pinned pages away, unshares\n"
	       "and fork-time copies; print findings as they happen and a summary at exit.\n\n"
	       "Findings: STALE-PIN (a write copied away a page under a R/O pin: the pin\n"
	       "holder keeps the old page), UNSHARE, FORK-COPY, ZERO-PIN, HELD-AT-EXIT.\n\n"
	       "Examples:\n"
	       "  gupwatch                  trace until Ctrl-C\n"
	       "  gupwatch -d 10 -c fio     10 seconds, report what involves fio\n"
	       "  gupwatch trace -p 1234 -v also print every pin event of the trace\n"
	       "  gupwatch -d 5 --json | jq 'select(.type == \"finding\")'\n",
};

static struct engine *engine;
/* -v: where stacks are, and names for kernel and user frames */
static int stack_fd = -1;
static struct ksyms *ksyms;
static struct usyms *usyms;

/* Read a process's modules the first time one of its user stacks is printed. */
static void usyms_learn(uint32_t pid)
{
	static uint32_t *known;
	static size_t nknown;
	struct usym_module *m;
	uint32_t *more;
	int n;

	for (size_t i = 0; i < nknown; i++)
		if (known[i] == pid)
			return;
	more = realloc(known, (nknown + 1) * sizeof(*known));
	if (!more)
		return;
	known = more;
	known[nknown++] = pid;
	n = usyms_snapshot_new(pid, &m);
	if (n > 0)
		usyms_set_process(usyms, pid, m, n);
	else
		fprintf(stderr, "gupwatch: cannot read the modules of pid %u (%s): its user frames stay "
			"addresses\n", pid, n < 0 ? strerror(-n) : "none");
	free(m);
}

static void print_event(const struct gw_event *e)
{
	static const char *const names[] = {
		[GW_EV_PIN] = "PIN", [GW_EV_UNPIN] = "UNPIN", [GW_EV_WP_COPY] = "WP-COPY",
		[GW_EV_FORK_COPY] = "FORK-COPY", [GW_EV_GET] = "GET", [GW_EV_ZERO_PIN] = "ZERO-PIN",
	};
	const char *name = e->type < sizeof(names) / sizeof(names[0]) && names[e->type] ?
		names[e->type] : "?";

	printf("event %-9s %llu.%06llu %d/%d %-16s %s", name, e->ts_ns / 1000000000ULL,
	       (e->ts_ns / 1000) % 1000000, e->task.pid, e->task.tid,
	       e->task.comm[0] ? e->task.comm : "-", /* unpins carry none */
	       e->in_irq ? "irq " : "");
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
	default:
		printf("\n");
	}
}

/*
 * Print a captured stack. Its slot stays: events still in the ring buffer may
 * carry the same id (same stack), and a freed id can come back holding another
 * stack. A full map shows as "stacks lost" in the summary.
 */
static void print_stack(const char *what, int id, bool kernel, uint32_t pid)
{
	uint64_t frames[GW_STACK_DEPTH];
	char name[512];

	if (id < 0 || bpf_map_lookup_elem(stack_fd, &id, frames))
		return;
	if (!kernel && usyms)
		usyms_learn(pid);
	for (int i = 0; i < GW_STACK_DEPTH && frames[i]; i++)
		printf("    %s %s\n", what, kernel ? ksyms_name(ksyms, frames[i], name, sizeof(name))
					     : usyms_name(usyms, pid, frames[i], name, sizeof(name)));
}

static void on_event(const struct gw_event *e, void *ctx)
{
	(void)ctx;
	if (env.verbose) {
		print_event(e);
		print_stack("k", e->kstack_id, true, e->task.pid);
		print_stack("u", e->ustack_id, false, e->task.pid);
	}
	engine_event(engine, e);
}

static void on_finding(const struct engine_finding *f, void *ctx)
{
	(void)ctx;
	if (env.json)
		json_finding(stdout, engine, f, NULL);
	else
		engine_print_finding(stdout, engine, f);
	fflush(stdout);
}

static void on_start(const struct tracer *t, void *ctx)
{
	(void)ctx;
	stack_fd = bpf_map__fd(t->skel->maps.stack_traces);
	/* After the attach: our own BPF programs and trampolines are named too. */
	if (env.verbose && !(ksyms = ksyms_load("/proc/kallsyms")))
		fprintf(stderr, "gupwatch: no kernel symbols (/proc/kallsyms: %s): frames stay addresses\n",
			strerror(errno));
	if (env.verbose)
		usyms = usyms_new(NULL);
	if (env.json) {
		struct rec_header h;

		rec_header_init(&h);
		rec_header_set_tracer(&h, t, &env.tracer);
		json_header(stdout, engine, &h, "trace", NULL);
	} else {
		engine_print_finding_header(stdout);
	}
	fflush(stdout);
}

static void on_idle(uint64_t now_ns, void *ctx)
{
	(void)ctx;
	engine_tick(engine, now_ns);
}

int cmd_trace(int argc, char **argv)
{
	static const struct session_ops ops = { on_start, on_event, on_idle };
	uint64_t counters[GW_CNT__MAX];
	int ret;

	if (argp_parse(&trace_argp, argc, argv, 0, NULL, NULL))
		return 2;
	env.engine.on_finding = on_finding;
	env.engine.t0_ns = session_now_ns(); /* times count from the start, as in perf */
	engine = engine_new(&env.engine);
	if (!engine) {
		fprintf(stderr, "gupwatch: cannot set up the correlation engine: %s\n", strerror(errno));
		return 1;
	}
	ret = session_run(&env.tracer, env.duration_s, &ops, NULL, counters);
	if (!ret && !env.tracer.load_only) {
		engine_set_counters(engine, counters);
		engine_finish(engine, session_now_ns());
		if (env.json) {
			json_summary(stdout, engine, NULL, NULL);
		} else {
			printf("\n");
			engine_print_summary(stdout, engine, &env.sort);
		}
	}
	engine_free(engine);
	engine = NULL;
	ksyms_free(ksyms);
	ksyms = NULL;
	usyms_free(usyms);
	usyms = NULL;
	return ret;
}
