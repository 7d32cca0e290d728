/*
 * gupwatch report: read a record file, feed its events to the correlation
 * engine, print what gupwatch trace prints (--stdio) or JSON Lines (--json).
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
#include "recfile.h"

static struct report_env {
	const char *input;
	struct engine_opts engine;
	bool json;
} env = {
	.input = "gupwatch.data",
	.engine = { .max_folios = 1 << 18 },
};

enum { OPT_STDIO = 1000, OPT_JSON, OPT_MAX_FOLIOS };

static const struct argp_option report_options[] = {
	{ "input", 'i', "FILE", 0, "Read FILE (default gupwatch.data)", 0 },
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID (overrides the recorded filter)", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM (overrides the recorded filter)", 0 },
	{ "stdio", OPT_STDIO, NULL, 0, "Findings and summary as text, like gupwatch trace (default)", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line (doc/gupwatch-json.schema.json)", 0 },
	{ "max-folios", OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ 0 },
};

static error_t report_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'i':
		env.input = arg;
		break;
	case 'p':
		env.engine.filter_pid = cli_positive(arg, "PID", state);
		break;
	case 'c':
		env.engine.filter_comm = cli_comm(arg, state);
		break;
	case OPT_STDIO:
		env.json = false;
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case OPT_MAX_FOLIOS:
		env.engine.max_folios = cli_positive(arg, "--max-folios", state);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (the file goes after -i)", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp report_argp = {
	.options = report_options,
	.parser = report_parse,
	.doc = "Read a file written by 'gupwatch record' and print the findings and the\n"
	       "summary 'gupwatch trace' prints, or with --json one JSON object per line\n"
	       "(header, findings, processes, totals, losses; schema in\n"
	       "doc/gupwatch-json.schema.json).\n\n"
	       "Examples:\n"
	       "  gupwatch report                       gupwatch.data, as text\n"
	       "  gupwatch report -i io.gw -c fio       what involves fio\n"
	       "  gupwatch report --json | jq -c 'select(.type == \"finding\" and .kind == \"STALE-PIN\")'\n",
};

static struct engine *engine;

static void on_finding(const struct engine_finding *f, void *ctx)
{
	(void)ctx;
	if (env.json)
		json_finding(stdout, engine, f);
	else
		engine_print_finding(stdout, engine, f);
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
	struct gw_event ev;
	char err[512];

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
	if (!engine) {
		fprintf(stderr, "gupwatch: cannot set up the correlation engine: %s\n", strerror(errno));
		rec_reader_close(&r);
		return 1;
	}
	if (env.json) {
		json_header(stdout, engine, &r.hdr, "report", env.input);
	} else {
		print_header(&r.hdr, &r.trl);
		engine_print_finding_header(stdout);
	}
	while (rec_reader_next(&r, &ev))
		engine_event(engine, &ev);
	engine_set_counters(engine, r.trl.counters);
	engine_finish(engine, r.trl.end_mono_ns);
	if (env.json) {
		json_summary(stdout, engine);
	} else {
		printf("\n");
		engine_print_summary(stdout, engine);
	}
	engine_free(engine);
	engine = NULL;
	rec_reader_close(&r);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gupwatch: writing the report failed: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
