/*
 * gupwatch trace (the default command): attach, stream events from the ring
 * buffer into the correlation engine, print findings as they happen and a
 * summary at the end (duration, Ctrl-C or SIGTERM), then detach.
 */
#include <argp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "engine.h"
#include "gupwatch.skel.h"

static struct trace_env {
	struct tracer_opts tracer;
	struct engine_opts engine;
	long duration_s;
	bool verbose;
} env = {
	.tracer = { .mode = ATTACH_AUTO, .user_stacks = true },
	.engine = { .max_folios = 1 << 18 },
};

enum { OPT_ATTACH = 1000, OPT_GET, OPT_LOAD_ONLY, OPT_MAX_FOLIOS };

static const struct argp_option trace_options[] = {
	{ "pid", 'p', "PID", 0, "Report only findings and processes involving PID", 0 },
	{ "comm", 'c', "COMM", 0, "Report only findings and processes involving COMM", 0 },
	{ "duration", 'd', "SECONDS", 0, "Trace for SECONDS, then print the summary", 0 },
	{ "verbose", 'v', NULL, 0, "Also print every pin, unpin and copy event", 0 },
	{ "attach", OPT_ATTACH, "MODE", 0, "auto (default: fentry, kprobe where fentry fails), fentry, kprobe", 0 },
	{ "get", OPT_GET, NULL, 0, "Also report FOLL_GET references (a separate class, not pins)", 0 },
	{ "max-folios", OPT_MAX_FOLIOS, "N", 0, "Pinned folios tracked at once (default 262144)", 0 },
	{ "load-only", OPT_LOAD_ONLY, NULL, 0, "Check that the kernel accepts the BPF programs, attach nothing", 0 },
	{ 0 },
};

static long parse_positive(const char *arg, const char *what, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		argp_error(state, "invalid %s '%s': expected a positive integer", what, arg);
	return v;
}

static error_t trace_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'p':
		env.engine.filter_pid = parse_positive(arg, "PID", state);
		break;
	case 'c':
		if (strlen(arg) >= GW_COMM_LEN)
			argp_error(state, "COMM '%s' is longer than the kernel's %d-character comm",
				   arg, GW_COMM_LEN - 1);
		env.engine.filter_comm = arg;
		break;
	case 'd':
		env.duration_s = parse_positive(arg, "duration", state);
		break;
	case 'v':
		env.verbose = true;
		break;
	case OPT_ATTACH:
		if (parse_attach_mode(arg, &env.tracer.mode))
			argp_error(state, "invalid --attach '%s': use auto, fentry or kprobe", arg);
		break;
	case OPT_GET:
		env.tracer.trace_get = true;
		break;
	case OPT_MAX_FOLIOS:
		env.engine.max_folios = parse_positive(arg, "--max-folios", state);
		break;
	case OPT_LOAD_ONLY:
		env.tracer.load_only = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp trace_argp = {
	.options = trace_options,
	.parser = trace_parse,
	.doc = "Trace FOLL_PIN pins, the COW faults that copy pinned pages away, unshares\n"
	       "and fork-time copies; print findings as they happen and a summary at exit.\n\n"
	       "Findings: STALE-PIN (a write copied away a page under a R/O pin: the pin\n"
	       "holder keeps the old page), UNSHARE, FORK-COPY, HELD-AT-EXIT.\n\n"
	       "Examples:\n"
	       "  gupwatch                  trace until Ctrl-C\n"
	       "  gupwatch -d 10 -c fio     10 seconds, report what involves fio\n"
	       "  gupwatch trace -p 1234 -v also print every pin event of the trace\n",
};

static volatile sig_atomic_t exiting;
static struct engine *engine;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_event(const struct gw_event *e)
{
	static const char *const names[] = {
		[GW_EV_PIN] = "PIN", [GW_EV_UNPIN] = "UNPIN", [GW_EV_WP_COPY] = "WP-COPY",
		[GW_EV_FORK_COPY] = "FORK-COPY", [GW_EV_GET] = "GET",
	};
	const char *name = e->type < sizeof(names) / sizeof(names[0]) && names[e->type] ?
		names[e->type] : "?";

	printf("event %-9s %llu.%06llu %d/%d %-16s %s", name, e->ts_ns / 1000000000ULL,
	       (e->ts_ns / 1000) % 1000000, e->task.pid, e->task.tid, e->task.comm,
	       e->in_irq ? "irq " : "");
	switch (e->type) {
	case GW_EV_PIN:
	case GW_EV_UNPIN:
	case GW_EV_GET:
		printf("folio=0x%llx pfn=0x%llx refs=%u flags=0x%x gup_flags=0x%x nr_pages=%u\n",
		       e->pin.folio, e->pin.pfn, e->pin.refs, e->pin.flags, e->pin.gup_flags,
		       e->pin.nr_pages);
		break;
	case GW_EV_WP_COPY:
		printf("addr=0x%llx old_pfn=0x%llx new_pfn=0x%llx flags=0x%x old_pincount=%u\n",
		       e->wp.address, e->wp.old_pfn, e->wp.new_pfn, e->wp.flags, e->wp.old_pincount);
		break;
	case GW_EV_FORK_COPY:
		printf("addr=0x%llx new_pfn=0x%llx huge=%u\n", e->fork.address, e->fork.new_pfn,
		       e->fork.huge);
		break;
	default:
		printf("\n");
	}
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size < sizeof(struct gw_event))
		return 0;
	if (env.verbose)
		print_event(data);
	engine_event(engine, data);
	return 0;
}

static void on_finding(const struct engine_finding *f, void *ctx)
{
	(void)ctx;
	engine_print_finding(stdout, engine, f);
	fflush(stdout);
}

static void read_counters(struct gupwatch_bpf *skel, uint64_t sums[GW_CNT__MAX])
{
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.counters);
	uint64_t vals[ncpus > 0 ? ncpus : 1];
	struct bpf_program *prog;

	for (__u32 key = 0; key < GW_CNT__MAX; key++) {
		sums[key] = 0;
		if (ncpus > 0 && !bpf_map_lookup_elem(fd, &key, vals))
			for (int cpu = 0; cpu < ncpus; cpu++)
				sums[key] += vals[cpu];
	}
	/* A hook that fires while another BPF program runs on that CPU is skipped. */
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			sums[GW_CNT_PROG_MISSED] += info.recursion_misses;
	}
}

static int silent_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN && getenv("GUPWATCH_DEBUG") ? vfprintf(stderr, fmt, args) : 0;
}

int cmd_trace(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	uint64_t counters[GW_CNT__MAX], deadline = 0;
	struct tracer tracer;
	char err[512];
	int ret;

	if (argp_parse(&trace_argp, argc, argv, 0, NULL, NULL))
		return 2;
	libbpf_set_print(silent_libbpf);
	/* Handlers first: a Ctrl-C during attach must still end in a clean detach. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = tracer_open(&tracer, &env.tracer, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "gupwatch: %s\n", err);
		return 1;
	}
	if (env.tracer.load_only) {
		printf("gupwatch: the kernel accepts all %d BPF programs that fit it; nothing attached\n",
		       tracer.nr_loaded);
		tracer_close(&tracer);
		return 0;
	}

	env.engine.on_finding = on_finding;
	engine = engine_new(&env.engine);
	if (!engine) {
		fprintf(stderr, "gupwatch: cannot set up the correlation engine: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(tracer.skel->maps.events), on_ringbuf, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "gupwatch: cannot open the ring buffer: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}

	fprintf(stderr, "gupwatch: tracing (%d functions by fentry, %d by kprobe; FOLL_PIN=0x%x%s); "
		"Ctrl-C to stop\n", tracer.nr_fentry, tracer.nr_kprobe, tracer.foll.pin,
		tracer.foll.from_btf ? "" : " as #defined up to 6.1");
	engine_print_finding_header(stdout);
	fflush(stdout);
	if (env.duration_s)
		deadline = now_ns() + env.duration_s * 1000000000ULL;

	while (!exiting && (!deadline || now_ns() < deadline)) {
		ret = ring_buffer__poll(rb, 100);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "gupwatch: reading the ring buffer failed: %s\n", strerror(-ret));
			break;
		}
		engine_tick(engine, now_ns());
	}
	/* Drain what is already in the buffer, then summarise. */
	ring_buffer__consume(rb);
	read_counters(tracer.skel, counters);
	engine_set_counters(engine, counters);
	engine_finish(engine, now_ns());
	printf("\n");
	engine_print_summary(stdout, engine);
	ret = 0;
out:
	ring_buffer__free(rb);
	engine_free(engine);
	engine = NULL;
	tracer_close(&tracer);
	return ret;
}
