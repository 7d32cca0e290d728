// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch report: read a record file, feed its events to the correlation
 * engine, print what gupwatch trace prints (--stdio) or JSON Lines (--json),
 * with the stacks the file kept under each finding, and the call-site,
 * user-stack, hold-time and outstanding-pin tables (sites.h).
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "json.h"
#include "ksyms.h"
#include "recfile.h"
#include "sites.h"
#include "stacks.h"
#include "usyms.h"

static struct report_env {
	const char *input;
	struct engine_opts engine;
	struct sort_spec sort;
	struct sites_opts sites;
	const char *symfs;
	bool json;
	bool no_stacks;
} env = {
	.input = "gupwatch.data",
	.engine = { .max_folios = 1 << 18 },
	.sites = { .sort = &env.sort, .histograms = true },
};

enum { OPT_STDIO = 1000, OPT_JSON, OPT_SORT, OPT_MIN_AGE, OPT_SYMFS, OPT_NO_STACKS };

static const struct argp_option report_options[] = {
	{ "input", 'i', "FILE", 0, "Read FILE (default gupwatch.data)", 0 },
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID (overrides the recorded filter)", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM (overrides the recorded filter)", 0 },
	{ "stdio", OPT_STDIO, NULL, 0, "Findings and summary as text, like gupwatch trace (default)", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line (doc/gupwatch-json.schema.json)", 0 },
	{ "sort", OPT_SORT, "KEYS", 0, "Order of the process, call-site and user-stack tables, comma-separated: "
	  SORT_KEYS_HELP " (default pins,pid)", 0 },
	{ "min-age", OPT_MIN_AGE, "DURATION", 0, "List only outstanding pins held at least DURATION at the end (30s, 500ms, 5m)", 0 },
	{ "symfs", OPT_SYMFS, "DIR", 0, "Look for the recorded processes' binaries under DIR first (a copy of the traced machine's root)", 0 },
	{ "no-stacks", OPT_NO_STACKS, NULL, 0, "Do not print the stacks under each finding", 0 },
	{ "max-folios", CLI_OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ 0 },
};

static error_t report_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'i':
		env.input = arg;
		break;
	case OPT_STDIO:
		env.json = false;
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case OPT_SORT:
		cli_sort(arg, &env.sort, state);
		break;
	case OPT_MIN_AGE:
		env.sites.min_age_ns = cli_duration_ns(arg, "--min-age", state);
		break;
	case OPT_SYMFS:
		env.symfs = arg;
		break;
	case OPT_NO_STACKS:
		env.no_stacks = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (the file goes after -i)", arg);
		break;
	default:
		return cli_parse_common(key, arg, state, &env.engine, NULL);
	}
	return 0;
}

static const struct argp report_argp = {
	.options = report_options,
	.parser = report_parse,
	.doc = "Read a file written by 'gupwatch record' and print the findings (with the\n"
	       "kernel and user stacks of both sides) and the summary 'gupwatch trace'\n"
	       "prints, then pins by kernel call site and by user stack, hold-time\n"
	       "histograms per call site and the pins still held at the end; or with\n"
	       "--json one JSON object per line (schema in doc/gupwatch-json.schema.json).\n\n"
	       "Examples:\n"
	       "  gupwatch report                       gupwatch.data, as text\n"
	       "  gupwatch report -i io.gw -c fio       what involves fio\n"
	       "  gupwatch report --sort pin-seconds    biggest pinners by time first\n"
	       "  gupwatch report --min-age 10s         leak hunting: pins held 10 s or more\n"
	       "  gupwatch report --symfs /srv/guest    binaries of a recording made elsewhere\n"
	       "  gupwatch report --json | jq -c 'select(.type == \"finding\" and .kind == \"STALE-PIN\")'\n",
};

static struct engine *engine;
static struct stacks *stacks;

/* The stacks of both sides under a finding line. */
static void print_finding_stacks(const struct engine_finding *f)
{
	uint32_t nr, i;

	if ((stacks_get(stacks, f->kstack_id, &nr) || stacks_get(stacks, f->ustack_id, &nr)) &&
	    f->kind != ENGINE_HELD_AT_EXIT) {
		printf("    %s %u/%.16s:\n", engine_kind_side(f->kind), f->task.pid, f->task.comm);
		stacks_print(stdout, stacks, "      ", f->task.pid, f->kstack_id);
		stacks_print(stdout, stacks, "      ", f->task.pid, f->ustack_id);
	}
	for (i = 0; i < f->nr_pinners && i < ENGINE_MAX_PINNERS; i++) {
		const struct engine_pinner *p = &f->pinners[i];

		if (!stacks_get(stacks, p->kstack_id, &nr) && !stacks_get(stacks, p->ustack_id, &nr))
			continue;
		printf("    %s %u/%.16s (%s pin):\n", f->kind == ENGINE_HELD_AT_EXIT ? "oldest pin of" :
		       "pinner", p->task.pid, p->task.comm, p->flags & GW_PIN_WRITE ? "R/W" : "R/O");
		stacks_print(stdout, stacks, "      ", p->task.pid, p->kstack_id);
		stacks_print(stdout, stacks, "      ", p->task.pid, p->ustack_id);
	}
}

static void on_finding(const struct engine_finding *f, void *ctx)
{
	(void)ctx;
	if (env.json) {
		json_finding(stdout, engine, f, stacks);
		return;
	}
	engine_print_finding(stdout, engine, f);
	if (!env.no_stacks)
		print_finding_stacks(f);
}

/* Stacks and the symbols to name them come before the events that use them. */
static int read_item(const struct rec_item *it)
{
	int err = 0;

	switch (it->type) {
	case REC_EVENT:
		engine_event(engine, &it->event);
		break;
	case REC_STACK:
		err = stacks_set(stacks, it->stack.id, it->stack.user, it->stack.frames, it->stack.nr);
		break;
	case REC_KSYM:
		err = ksyms_add(stacks->ksyms, it->ksym.start, it->ksym.name);
		break;
	case REC_MAPS:
		err = usyms_set_process(stacks->usyms, it->maps.pid, it->maps.modules, it->maps.nr);
		break;
	}
	return err;
}

static void print_header(const struct rec_header *h, const struct rec_trailer *t)
{
	time_t secs = h->start_realtime_ns / 1000000000ULL;
	char when[64] = "?";
	struct tm tm;

	if (localtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	printf("# gupwatch record of %s, kernel %s, started %s\n", h->hostname, h->release, when);
	printf("# %" PRIu64 " events, %.3f s; boot id %s; attach %s%s; FOLL_PIN=0x%x%s\n",
	       t->events, (int64_t)(t->end_mono_ns - h->start_mono_ns) / 1e9, h->boot_id,
	       rec_attach_mode_name(h->attach_mode), h->trace_get ? ", --get" : "", h->foll_pin,
	       h->foll_from_btf ? "" : " (#defined up to 6.1)");
	if (h->command[0])
		printf("# command (pid %u): %s\n", h->command_pid, h->command);
	printf("\n");
}

int cmd_report(int argc, char **argv)
{
	struct rec_reader r;
	struct rec_item *it;
	char err[512];
	int ret = 0;

	if (argp_parse(&report_argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (rec_reader_open(&r, env.input, err, sizeof(err))) {
		fprintf(stderr, "gupwatch: %s\n", err);
		return 1;
	}
	/* The filters recorded, unless given here. */
	if (!env.engine.filter_pid && !env.engine.filter_comm) {
		env.engine.filter_pid = r.hdr.filter_pid;
		if (r.hdr.filter_comm[0])
			env.engine.filter_comm = r.hdr.filter_comm;
	}
	env.engine.on_finding = on_finding;
	engine = engine_new(&env.engine);
	stacks = stacks_new(env.symfs);
	it = malloc(sizeof(*it));
	if (!engine || !stacks || !it) {
		fprintf(stderr, "gupwatch: cannot set up the correlation engine: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}
	if (env.json) {
		json_header(stdout, engine, &r.hdr, "report", env.input);
	} else {
		print_header(&r.hdr, &r.trl);
		engine_print_finding_header(stdout);
	}
	while ((ret = rec_reader_next(&r, it)) > 0) {
		if ((ret = read_item(it)))
			break;
	}
	if (ret) {
		fprintf(stderr, "gupwatch: %s: out of memory\n", env.input);
		ret = 1;
		goto out;
	}
	engine_set_counters(engine, r.trl.counters);
	engine_finish(engine, r.trl.end_mono_ns);
	if (env.json) {
		json_summary(stdout, engine, stacks, &env.sites);
	} else {
		printf("\n");
		engine_print_summary(stdout, engine, &env.sort);
		sites_print(stdout, engine, stacks, &env.sites);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gupwatch: writing the report failed: %s\n", strerror(errno));
		ret = 1;
	}
out:
	free(it);
	stacks_free(stacks);
	stacks = NULL;
	engine_free(engine);
	engine = NULL;
	rec_reader_close(&r);
	return ret;
}
