// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch report: the file source into the consumer trace uses too
 * (consumer.h): what gupwatch trace prints (--stdio) or JSON Lines (--json),
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
#include "consumer.h"
#include "format.h"
#include "recfile.h"

static struct report_env {
	const char *input;
	struct consumer_opts consumer;
	struct sort_spec sort;
	struct sites_opts sites;
} env = {
	.input = "gupwatch.data",
	.consumer = { .engine = { .max_folios = 1 << 18 }, .finding_stacks = true },
	.sites = { .sort = &env.sort, .histograms = true },
};

enum { OPT_STDIO = 1000, OPT_JSON, OPT_SORT, OPT_MIN_AGE, OPT_SYMFS, OPT_NO_STACKS };

static const struct argp_option report_options[] = {
	{ "input", 'i', "FILE", 0, "Read FILE (default gupwatch.data)", 0 },
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID (overrides the recorded filter)", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM (overrides the recorded filter)", 0 },
	{ "cgroup", CLI_OPT_CGROUP, "PATH", 0, "Report only findings and processes involving processes in cgroup PATH (v2) or below it (the cgroup recorded when the process was first seen)", 0 },
	{ "stdio", OPT_STDIO, NULL, 0, "Findings and summary as text, like gupwatch trace (default)", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line (doc/gupwatch-json.schema.json)", 0 },
	{ "sort", OPT_SORT, "KEYS", 0, "Order of the process, call-site and user-stack tables: comma-separated "
	  "column names, e.g. pins, pin-seconds, held, age, pid, comm (default pins,pid)", 0 },
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
		env.consumer.json = false;
		break;
	case OPT_JSON:
		env.consumer.json = true;
		break;
	case OPT_SORT:
		cli_sort(arg, &env.sort, state);
		break;
	case OPT_MIN_AGE:
		env.sites.min_age_ns = cli_duration_ns(arg, "--min-age", state);
		break;
	case OPT_SYMFS:
		env.consumer.symfs = arg;
		break;
	case OPT_NO_STACKS:
		env.consumer.finding_stacks = false;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (the file goes after -i)", arg);
		break;
	default:
		return cli_parse_common(key, arg, state, &env.consumer.engine, NULL);
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
	       "  gupwatch report --cgroup /kubepods    what involves processes of any pod\n"
	       "  gupwatch report --sort pin-seconds    biggest pinners by time first\n"
	       "  gupwatch report --min-age 10s         leak hunting: pins held 10 s or more\n"
	       "  gupwatch report --symfs /srv/guest    binaries of a recording made elsewhere\n"
	       "  gupwatch report --json | jq -c 'select(.type == \"finding\" and .kind == \"STALE-PIN\")'\n",
};

static void print_header(const struct rec_header *h, const struct rec_trailer *t, bool cut)
{
	time_t secs = h->start_realtime_ns / 1000000000ULL;
	char when[64] = "?", host[4 * REC_HOSTNAME_LEN + 1], release[4 * REC_RELEASE_LEN + 1];
	char boot_id[4 * sizeof(h->boot_id) + 1], command[4 * REC_COMMAND_LEN + 1];
	struct tm tm;

	if (localtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	/* the file's strings, whoever wrote it: escaped */
	printf("# gupwatch record of %s, kernel %s, started %s\n",
	       fmt_printable(h->hostname, REC_HOSTNAME_LEN, host, sizeof(host)),
	       fmt_printable(h->release, REC_RELEASE_LEN, release, sizeof(release)), when);
	printf("# %" PRIu64 " events%s, %.3f s; boot id %s; attach %s%s; FOLL_PIN=0x%x%s\n",
	       t->events, cut ? " (cut short: no trailer)" : "", (int64_t)(t->end_mono_ns - h->start_mono_ns) / 1e9,
	       fmt_printable(h->boot_id, sizeof(h->boot_id), boot_id, sizeof(boot_id)),
	       rec_attach_mode_name(h->attach_mode), h->trace_get ? ", --get" : "", h->foll_pin,
	       h->foll_from_btf ? "" : " (#defined up to 6.1)");
	if (h->command[0])
		printf("# command (pid %u): %s\n", h->command_pid,
		       fmt_printable(h->command, REC_COMMAND_LEN, command, sizeof(command)));
	printf("\n");
}

int cmd_report(int argc, char **argv)
{
	struct consumer *consumer = NULL;
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
	if (r.truncated)
		fprintf(stderr, "gupwatch: %s\n", err);
	/* The filters recorded, unless given here. */
	if (!env.consumer.engine.filter_pid && !env.consumer.engine.filter_comm) {
		env.consumer.engine.filter_pid = r.hdr.filter_pid;
		if (r.hdr.filter_comm[0])
			env.consumer.engine.filter_comm = r.hdr.filter_comm;
	}
	consumer = consumer_new(&env.consumer);
	it = malloc(sizeof(*it));
	if (!consumer || !it) {
		cli_engine_failed(&env.consumer.engine);
		ret = 1;
		goto out;
	}
	if (!env.consumer.json)
		print_header(&r.hdr, &r.trl, r.truncated);
	consumer_begin(consumer, &r.hdr, "report", env.input);
	while ((ret = rec_reader_next(&r, it)) > 0 && !(ret = consumer_item(it, consumer)))
		;
	if (ret) {
		fprintf(stderr, "gupwatch: %s\n", rec_reader_error(ret, env.input, err, sizeof(err)));
		ret = 1;
		goto out;
	}
	if (env.consumer.engine.filter_cgroup && !procinfo_table_pids(consumer_procinfo(consumer), NULL, 0))
		fprintf(stderr, "gupwatch: %s holds no process info (an older gupwatch recorded it): "
			"--cgroup matches no process\n", env.input);
	/* a recording cut short has no kernel counters */
	consumer_end(consumer, r.truncated ? NULL : r.trl.counters, r.trl.end_mono_ns, &env.sort,
		     &env.sites);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gupwatch: writing the report failed: %s\n", strerror(errno));
		ret = 1;
	}
out:
	free(it);
	consumer_free(consumer);
	rec_reader_close(&r);
	return ret;
}
