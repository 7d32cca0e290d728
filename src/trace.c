// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch trace (the default command): the live source into the consumer
 * report uses too (consumer.h): findings as they happen, a summary at the end
 * (duration, Ctrl-C or SIGTERM), then detach.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "consumer.h"
#include "session.h"
#include "columns.h"

static struct trace_env {
	struct tracer_opts tracer;
	struct consumer_opts consumer;
	struct sort_spec sort;
	long duration_s;
} env = {
	.tracer = { .mode = ATTACH_AUTO },
	.consumer = { .engine = { .max_folios = 1 << 18 }, .live = true },
};

enum { OPT_GET = 1000, OPT_LOAD_ONLY, OPT_JSON, OPT_SORT };

static const struct argp_option trace_options[] = {
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM", 0 },
	{ "cgroup", CLI_OPT_CGROUP, "PATH", 0, "Report only findings and processes involving processes in cgroup PATH (v2, as in /proc/PID/cgroup) or below it (the cgroup a process was in when first seen)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Trace for SECONDS, then print the summary", 0 },
	{ "verbose", 'v', NULL, 0, "Also print every pin, unpin and copy event with its kernel (k) and user (u) stack, and the stacks of both sides under each finding", 0 },
	CLI_TRACER_OPTIONS,
	{ "get", OPT_GET, NULL, 0, "Also report FOLL_GET references (a separate class, not pins)", 0 },
	{ "max-folios", CLI_OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line (doc/gupwatch-json.schema.json)", 0 },
	{ "sort", OPT_SORT, "KEYS", 0, "Order of the per-process tables: comma-separated column names, e.g. pins, pin-seconds, held, age (default pins,pid)", 0 },
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
		env.tracer.stacks = env.tracer.unpin_details = true;
		break;
	case OPT_GET:
		env.tracer.trace_get = true;
		break;
	case OPT_LOAD_ONLY:
		env.tracer.load_only = true;
		break;
	case OPT_JSON:
		env.consumer.json = true;
		break;
	case OPT_SORT:
		cli_sort(arg, &env.sort, state);
		break;
	case ARGP_KEY_END:
		if (env.consumer.json && env.tracer.stacks)
			argp_error(state, "--verbose and --json do not mix");
		break;
	default:
		return cli_parse_common(key, arg, state, &env.consumer.engine, &env.tracer);
	}
	return 0;
}

static const struct argp trace_argp = {
	.options = trace_options,
	.parser = trace_parse,
	.doc = "Trace FOLL_PIN pins, the COW faults that copy pinned pages away, unshares\n"
	       "and fork-time copies; print findings as they happen and a summary at exit.\n\n"
	       "Findings: STALE-PIN (a write copied away a page under a R/O pin: the pin\n"
	       "holder keeps the old page), UNSHARE, FORK-COPY, ZERO-PIN, PIN-FAILED,\n"
	       "MIGRATE-BLOCKED, LONGTERM-IN-MOVABLE, HELD-AT-EXIT (gupwatch-trace(8)).\n\n"
	       "Examples:\n"
	       "  gupwatch                  trace until Ctrl-C\n"
	       "  gupwatch -d 10 -c fio     10 seconds, report what involves fio\n"
	       "  gupwatch trace -p 1234 -v also print every pin event of the trace\n"
	       "  gupwatch -d 5 --json | jq 'select(.type == \"finding\")'\n",
};

static struct consumer *consumer;

static void on_start(const struct tracer *t, void *ctx)
{
	struct rec_header h;

	(void)ctx;
	rec_header_init(&h);
	rec_header_set_tracer(&h, t, &env.tracer);
	consumer_begin(consumer, &h, "trace", NULL);
}

static void on_idle(uint64_t now_ns, void *ctx)
{
	(void)ctx;
	consumer_tick(consumer, now_ns);
}

int cmd_trace(int argc, char **argv)
{
	static const struct session_ops ops = { .on_start = on_start, .on_item = consumer_item,
						 .on_idle = on_idle, .procinfo = true };
	uint64_t counters[GW_CNT__MAX];
	int ret;

	if (argp_parse(&trace_argp, argc, argv, 0, NULL, NULL))
		return 2;
	env.consumer.engine.t0_ns = session_now_ns(); /* times count from the start, as in perf */
	env.consumer.finding_stacks = env.consumer.events = env.tracer.stacks;
	consumer = consumer_new(&env.consumer);
	if (!consumer) {
		cli_engine_failed(&env.consumer.engine);
		return 1;
	}
	ret = session_run(&env.tracer, env.duration_s, &ops, consumer, counters);
	if (!ret && !env.tracer.load_only)
		consumer_end(consumer, counters, session_now_ns(), &env.sort, NULL);
	consumer_free(consumer);
	consumer = NULL;
	return ret;
}
