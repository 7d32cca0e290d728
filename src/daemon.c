// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch daemon: the live source into the engine until SIGTERM or SIGINT;
 * findings as JSON Lines to --log (SIGHUP reopens it, for logrotate), the
 * engine's numbers as Prometheus metrics on --listen. Memory is bounded by
 * the engine's limits (--max-folios; processes, sites and stored findings
 * have fixed caps) and the metrics' label caps (metrics.h).
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "metrics.h"
#include "recfile.h"
#include "session.h"
#include "stacks.h"

#define DAEMON_LISTEN "127.0.0.1:9776"
#define METRICS_EVERY_NS 1000000000ULL /* metrics are rendered at most once a second */

static struct daemon_env {
	struct tracer_opts tracer;
	struct engine_opts engine;
	const char *listen;
	const char *log;
} env = {
	.tracer = { .mode = ATTACH_AUTO },
	/* HELD-AT-EXIT and the summary are for sessions; a daemon stores no findings */
	.engine = { .max_folios = 1 << 18, .max_findings = 1 },
	.listen = DAEMON_LISTEN,
};

enum { OPT_LISTEN = 1000, OPT_LOG, OPT_CALL_SITES };

static const struct argp_option daemon_options[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Serve Prometheus metrics at http://ADDR:PORT/metrics (default " DAEMON_LISTEN "; loopback unless told)", 0 },
	{ "log", OPT_LOG, "FILE", 0, "Append findings to FILE as JSON Lines (doc/gupwatch-json.schema.json); SIGHUP reopens it", 0 },
	{ "pid", 'p', "PID", 0, "Log only findings involving PID", 0 },
	{ "comm", 'c', "COMM", 0, "Log only findings involving COMM", 0 },
	{ "cgroup", CLI_OPT_CGROUP, "PATH", 0, "Log only findings involving processes in cgroup PATH (v2) or below it (when first seen)", 0 },
	{ "call-sites", OPT_CALL_SITES, NULL, 0, "Label the hold-time histogram by kernel call site (a kernel stack walk per GUP call)", 0 },
	CLI_TRACER_OPTIONS,
	{ "max-folios", CLI_OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ 0 },
};

static error_t daemon_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_LISTEN:
		if (!metrics_listen_valid(arg))
			argp_error(state, "--listen '%s': %s", arg, METRICS_LISTEN_HELP);
		env.listen = arg;
		break;
	case OPT_LOG:
		env.log = arg;
		break;
	case OPT_CALL_SITES:
		env.tracer.stacks = true;
		env.tracer.kernel_stacks_only = true;
		break;
	default:
		return cli_parse_common(key, arg, state, &env.engine, &env.tracer);
	}
	return 0;
}

static const struct argp daemon_argp = {
	.options = daemon_options,
	.parser = daemon_parse,
	.doc = "Trace like 'gupwatch trace' until stopped (SIGTERM, SIGINT): findings to a\n"
	       "JSON Lines log, numbers as Prometheus metrics.\n\n"
	       "Examples:\n"
	       "  gupwatch daemon --log /var/log/gupwatch.jsonl\n"
	       "  curl -s http://127.0.0.1:9776/metrics | grep ^gupwatch_pin_references_held\n",
};

struct daemon {
	struct engine *engine;
	struct stacks *stacks; /* --call-sites: the pin sites' kernel stacks and their symbols */
	struct metrics_server *server;
	FILE *log;
	uint64_t rendered_ns;
};

static FILE *log_open(const char *path)
{
	FILE *f = fopen(path, "a");

	if (f)
		setvbuf(f, NULL, _IOLBF, 0); /* a line per finding, as it happens */
	return f;
}

static void on_finding(const struct engine_finding *f, void *ctx)
{
	struct daemon *d = ctx;

	if (d->log)
		json_finding(d->log, d->engine, f, NULL,
			     &(struct json_cgroups){ .of = procinfo_cgroup_now });
}

static int on_item(const struct rec_item *it, void *ctx)
{
	struct daemon *d = ctx;

	if (it->type == REC_EVENT)
		engine_event(d->engine, &it->event);
	else if (d->stacks)
		return stacks_item(d->stacks, it);
	return 0;
}

static void render(struct daemon *d)
{
	uint64_t counters[GW_CNT__MAX];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	session_counters(counters);
	engine_set_counters(d->engine, counters);
	metrics_render(f, d->engine, d->stacks, counters);
	if (!fclose(f))
		metrics_publish(d->server, text, len);
	free(text);
}

static void on_start(const struct tracer *t, void *ctx)
{
	(void)t;
	render(ctx);
	fprintf(stderr, "gupwatch: metrics at http://%s/metrics%s%s\n", env.listen,
		env.log ? ", findings to " : "", env.log ?: "");
}

static void on_idle(uint64_t now_ns, void *ctx)
{
	struct daemon *d = ctx;

	engine_tick(d->engine, now_ns);
	if (now_ns - d->rendered_ns >= METRICS_EVERY_NS) {
		render(d);
		d->rendered_ns = now_ns;
	}
}

/* logrotate moved the log away: write to a new file of the old name */
static void on_hup(void *ctx)
{
	struct daemon *d = ctx;
	FILE *f;

	if (!env.log)
		return;
	f = log_open(env.log);
	if (!f) {
		fprintf(stderr, "gupwatch: SIGHUP: cannot reopen %s: %s; still writing the old file\n",
			env.log, strerror(errno));
		return;
	}
	fclose(d->log);
	d->log = f;
}

int cmd_daemon(int argc, char **argv)
{
	static const struct session_ops ops = { .on_start = on_start, .on_item = on_item,
						 .on_idle = on_idle, .on_hup = on_hup };
	struct daemon d = { 0 };
	uint64_t counters[GW_CNT__MAX];
	char err[512];
	int ret = 1;

	if (argp_parse(&daemon_argp, argc, argv, 0, NULL, NULL))
		return 2;
	/* everything that can fail on bad input fails before anything is attached */
	if (env.log && !(d.log = log_open(env.log))) {
		fprintf(stderr, "gupwatch: cannot open --log %s: %s\n", env.log, strerror(errno));
		return 1;
	}
	d.server = metrics_listen(env.listen, err, sizeof(err));
	if (!d.server) {
		fprintf(stderr, "gupwatch: %s\n", err);
		goto out;
	}
	env.engine.t0_ns = session_now_ns();
	env.engine.on_finding = on_finding;
	env.engine.ctx = &d;
	d.engine = engine_new(&env.engine);
	if (env.tracer.stacks && !(d.stacks = stacks_new(NULL))) {
		fprintf(stderr, "gupwatch: out of memory\n");
		goto out;
	}
	if (!d.engine) {
		cli_engine_failed(&env.engine);
		goto out;
	}
	if (metrics_start(d.server)) {
		fprintf(stderr, "gupwatch: cannot start the metrics server: %s\n", strerror(errno));
		goto out;
	}
	ret = session_run(&env.tracer, 0, &ops, &d, counters);
out:
	metrics_close(d.server);
	stacks_free(d.stacks);
	engine_free(d.engine);
	if (d.log)
		fclose(d.log);
	return ret;
}
