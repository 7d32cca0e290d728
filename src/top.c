// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch top: a live, refreshing view of who holds FOLL_PIN pins now.
 *
 * Events stream into the correlation engine as in trace; every --delay
 * seconds the engine's per-process outstanding pins are drawn as a table (a
 * clear and redraw on a terminal, periodic blocks otherwise), with a header
 * that puts the refs gupwatch tracks next to the kernel's global count
 * (/proc/vmstat nr_foll_pin_acquired - nr_foll_pin_released).
 *
 * The refresh deadline is checked after each poll of the ring buffer and in
 * the event callback too: under a pin storm the poll may never return idle.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "format.h"
#include "session.h"

static struct top_env {
	struct tracer_opts tracer;
	struct engine_opts engine;
	uint64_t delay_ns;
	long iterations; /* 0: until Ctrl-C */
	struct sort_spec sort;
} env = {
	.tracer = { .mode = ATTACH_AUTO },
	.engine = { .max_folios = 1 << 18 },
	.delay_ns = 1000000000ULL,
	.sort = { { COL_HELD, COL_PID }, 2 },
};

static const struct argp_option top_options[] = {
	{ "delay", 'd', "SECONDS", 0, "Refresh every SECONDS (default 1; fractions allowed, at least 0.1)", 0 },
	{ "iterations", 'n', "N", 0, "Stop after N refreshes (default: until Ctrl-C)", 0 },
	{ "sort", 's', "KEYS", 0, "Order of the rows: comma-separated column names (default held,pid: most pages held first; pins: taken in the interval)", 0 },
	{ "pid", 'p', "PID", 0, "Show only process PID", 0 },
	{ "comm", 'c', "COMM", 0, "Show only processes named COMM", 0 },
	{ "cgroup", CLI_OPT_CGROUP, "PATH", 0, "Show only processes in cgroup PATH (as in /proc/PID/cgroup, e.g. /system.slice) or below it", 0 },
	CLI_TRACER_OPTIONS,
	{ "max-folios", CLI_OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ 0 },
};

static uint64_t parse_delay(const char *arg, struct argp_state *state)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0.1 || v > 86400)
		argp_error(state, "invalid delay '%s': expected seconds from 0.1 to 86400", arg);
	return (uint64_t)(v * 1e9 + 0.5);
}

static error_t top_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd':
		env.delay_ns = parse_delay(arg, state);
		break;
	case 'n':
		env.iterations = cli_positive(arg, "iterations", state);
		break;
	case 's':
		cli_sort(arg, &env.sort, state);
		break;
	default:
		return cli_parse_common(key, arg, state, &env.engine, &env.tracer);
	}
	return 0;
}

static const struct argp top_argp = {
	.options = top_options,
	.parser = top_parse,
	.doc = "Show who holds FOLL_PIN pins now, refreshed every second, like top(1).\n\n"
	       "One row per process that holds pins, or took some during the last interval:\n"
	       "HELD pin refs held now (one ref pins one page; lo-hi when unpins left the\n"
	       "split open), BYTES, HELD-R/O, HELD-R/W and HELD-LT refs held by kind, AGE\n"
	       "the age of its oldest outstanding pin, PINS/s refs taken in the interval;\n"
	       "the kernel's memlock ledger from /proc: VMPIN what it charged as pinned\n"
	       "(long-term pins: io_uring, RDMA, vfio; never short-term ones), MEMLOCK the\n"
	       "RLIMIT_MEMLOCK, LEDGER near-limit (VmPin + VmLck at 90 % of it), uncharged\n"
	       "(pins held, none charged) or ok; and the CGROUP (v2) it runs in.\n"
	       "The header puts the refs gupwatch tracks next to the kernel's count\n"
	       "(/proc/vmstat), which includes pins taken before gupwatch started. Not on a\n"
	       "terminal: one block per refresh, separated by a blank line.\n\n"
	       "Examples:\n"
	       "  gupwatch top                  refresh every second until Ctrl-C\n"
	       "  gupwatch top -d 5 -s age      every 5 seconds, oldest pins first\n"
	       "  gupwatch top -c qemu-system-x86\n"
	       "  gupwatch top -n 10 > pins.log 10 refreshes as plain text blocks\n",
};

static struct engine *engine;
static bool tty;
static uint64_t next_ns, last_ns; /* next refresh, previous one (or the start) */
static long refreshes;
static bool done;
static uint64_t events_since_check;
static uint64_t attached_ns; /* every hook attached */

/* This refresh's rows and the previous one's (by pid: PINS/s is their difference). */
static struct engine_proc *cur, *prev;
static size_t cur_cap, prev_cap, nprev;
static struct engine_totals prev_totals;

static struct table_row *rows;
static struct procinfo *infos; /* rows[i].proc point into it */
static const enum column columns[] = { COL_PID, COL_COMM, COL_HELD, COL_BYTES, COL_HELD_RO,
				       COL_HELD_RW, COL_HELD_LONGTERM, COL_AGE, COL_PINS_PER_S,
				       COL_VMPIN, COL_MEMLOCK, COL_LEDGER, COL_CGROUP };
static size_t rows_cap, infos_cap;

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n <= *cap)
		return true;
	n = n < 64 ? 64 : n * 2;
	q = realloc(*p, n * size);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* System-wide refs outstanding (acquired - released), or -1 without the counters. */
static int64_t vmstat_pins(void)
{
	long long acq = -1, rel = -1;
	char line[128];
	FILE *f;
	int fd;

	/* Fold the per-CPU deltas first, or the global counts lag behind. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* not root, or an old kernel: the counts may lag a little */
		}
		close(fd);
	}
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "nr_foll_pin_acquired %lld", &acq);
		sscanf(line, "nr_foll_pin_released %lld", &rel);
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

static uint64_t ringbuf_drops(void)
{
	uint64_t counters[GW_CNT__MAX];

	session_counters(counters);
	return counters[GW_CNT_RINGBUF_DROP];
}

static int pid_cmp(const void *a, const void *b)
{
	const struct engine_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static int terminal_rows(void)
{
	struct winsize ws;

	return !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row ? ws.ws_row : 24;
}

static void refresh(uint64_t now)
{
	struct engine_totals t;
	size_t n, nrows = 0, shown, holding = 0, i;
	double interval = (now - last_ns) / 1e9;
	int64_t vm = vmstat_pins();
	uint64_t drops = ringbuf_drops();
	char tbuf[16];
	time_t wall = time(NULL);
	struct tm tm;

	engine_tick(engine, now);
	engine_totals(engine, &t);
	n = engine_procs(engine, NULL, 0);
	if (!grow((void **)&cur, &cur_cap, n, sizeof(*cur)) || !grow((void **)&rows, &rows_cap, n, sizeof(*rows)) ||
	    !grow((void **)&infos, &infos_cap, n, sizeof(*infos))) {
		fprintf(stderr, "gupwatch: out of memory\n");
		session_stop();
		done = true;
		return;
	}
	n = engine_procs(engine, cur, n); /* sorted by pid */

	for (i = 0; i < n; i++) {
		const struct engine_proc *p = &cur[i], *q = bsearch(p, prev, nprev, sizeof(*prev), pid_cmp);
		uint64_t pinned = q && q->pin_refs <= p->pin_refs ? p->pin_refs - q->pin_refs : p->pin_refs;

		if (p->out_refs)
			holding++;
		if (!p->out_refs && !pinned)
			continue;
		if (p->pid)
			procinfo_read(p->pid, &infos[nrows]);
		rows[nrows] = engine_proc_row(p, now);
		rows[nrows].proc = p->pid ? &infos[nrows] : NULL;
		rows[nrows].pins = pinned;
		rows[nrows++].pins_per_s = interval > 0 ? pinned / interval : 0;
	}
	table_sort(rows, nrows, &env.sort, &env.sort);

	localtime_r(&wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	if (tty)
		printf("\033[H\033[2J");
	else if (refreshes)
		printf("\n");
	printf("gupwatch top - %s, interval %.2fs, held: %" PRIu64 " %s tracked, ", tbuf, interval,
	       t.out_refs, plural(t.out_refs, "ref", "refs"));
	if (vm < 0)
		printf("system-wide unknown (no nr_foll_pin_* in /proc/vmstat)\n");
	else if ((uint64_t)vm > t.out_refs)
		printf("%" PRId64 " system-wide (vmstat; %" PRIu64 " not attributed: pinned before gupwatch "
		       "started, or events not read yet)\n", vm, vm - t.out_refs);
	else
		printf("%" PRId64 " system-wide (vmstat)\n", vm);
	printf("interval: %" PRIu64 " pin %s, %" PRIu64 " unpin %s; tracked: %" PRIu64 " %s, %zu %s holding",
	       t.pin_refs - prev_totals.pin_refs, plural(t.pin_refs - prev_totals.pin_refs, "ref", "refs"),
	       t.unpin_refs - prev_totals.unpin_refs, plural(t.unpin_refs - prev_totals.unpin_refs, "ref", "refs"),
	       t.out_folios, plural(t.out_folios, "folio", "folios"), holding,
	       plural(holding, "process", "processes"));
	if (env.engine.filter_pid || env.engine.filter_comm || env.engine.filter_cgroup)
		printf(" (filtered)");
	if (drops || t.lost_pin_refs)
		printf("; lost: %" PRIu64 " events (ring buffer full), %" PRIu64 " pin refs (table full, "
		       "--max-folios)", drops, t.lost_pin_refs);
	printf("\n\n");
	table_print_header(stdout, "", columns, sizeof(columns) / sizeof(columns[0]));

	shown = nrows;
	if (tty) {
		int room = terminal_rows() - 5; /* header, interval, blank, titles, "more" */

		if (room < 1)
			room = 1;
		if (nrows > (size_t)room)
			shown = room;
	}
	for (i = 0; i < shown; i++)
		table_print_row(stdout, "", columns, sizeof(columns) / sizeof(columns[0]), &rows[i]);
	if (shown < nrows)
		printf("... %zu more\n", nrows - shown);
	fflush(stdout);

	/* this refresh becomes the previous one */
	if (!grow((void **)&prev, &prev_cap, n, sizeof(*prev))) {
		nprev = 0;
	} else {
		if (n)
			memcpy(prev, cur, n * sizeof(*cur));
		nprev = n;
	}
	prev_totals = t;
}

static void maybe_refresh(uint64_t now)
{
	if (done || !next_ns || now < next_ns)
		return;
	refresh(now);
	if (done)
		return;
	refreshes++;
	last_ns = now;
	next_ns += env.delay_ns;
	if (next_ns <= now) /* fell behind: no burst of refreshes to catch up */
		next_ns = now + env.delay_ns;
	if (env.iterations && refreshes >= env.iterations) {
		done = true;
		session_stop();
	}
}

static void on_start(const struct tracer *t, void *ctx)
{
	(void)t;
	(void)ctx;
	attached_ns = last_ns = session_now_ns();
	next_ns = last_ns + env.delay_ns;
}

static int on_item(const struct rec_item *it, void *ctx)
{
	const struct gw_event *e = &it->event;

	(void)ctx;
	if (it->type != REC_EVENT)
		return 0;
	/*
	 * The hooks attach one after the other: a pin seen while its unpin hook
	 * was not attached yet would be held forever. What happened before the
	 * attach completed is left to the vmstat count ("not attributed").
	 */
	if (e->ts_ns >= attached_ns)
		engine_event(engine, e);
	/* The event's time is free; the clock is read every 256 events. */
	if (!done && next_ns && (e->ts_ns >= next_ns || ++events_since_check >= 256)) {
		events_since_check = 0;
		maybe_refresh(session_now_ns());
	}
	return 0;
}

#define POLL_NS (SESSION_POLL_MS * 1000000ULL)

static void on_idle(uint64_t now_ns, void *ctx)
{
	(void)ctx;
	engine_tick(engine, now_ns);
	/* Due before the next idle call: wait for it here, not up to a poll late. */
	if (!done && next_ns > now_ns && next_ns - now_ns < POLL_NS) {
		struct timespec ts = { 0, (long)(next_ns - now_ns) };

		nanosleep(&ts, NULL);
		now_ns = session_now_ns();
	}
	maybe_refresh(now_ns);
}

int cmd_top(int argc, char **argv)
{
	static const struct session_ops ops = { .on_start = on_start, .on_item = on_item,
						 .on_idle = on_idle };
	uint64_t counters[GW_CNT__MAX];
	int ret;

	if (argp_parse(&top_argp, argc, argv, 0, NULL, NULL))
		return 2;
	tty = isatty(STDOUT_FILENO);
	if (sysconf(_SC_PAGESIZE) > 0)
		table_set_page_size(sysconf(_SC_PAGESIZE));
	env.engine.t0_ns = session_now_ns();
	engine = engine_new(&env.engine);
	if (!engine) {
		cli_engine_failed(&env.engine);
		return 1;
	}
	ret = session_run(&env.tracer, 0, &ops, NULL, counters);
	engine_free(engine);
	engine = NULL;
	free(cur);
	free(prev);
	free(rows);
	free(infos);
	return ret;
}
