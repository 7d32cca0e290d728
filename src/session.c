// SPDX-License-Identifier: GPL-2.0
#include "session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gupwatch.skel.h"
#include "probe.h"

static volatile sig_atomic_t exiting, signals, hups;
static struct gupwatch_bpf *running; /* the session's skeleton, for session_counters */

/*
 * The kernel detaches a fentry hook only after RCU grace periods (RCU-tasks
 * among them, which waits for every task to pass a voluntary context
 * switch), hook after hook: 20 hooks took 49 s to detach in a 6.1 TCG guest
 * under a pin storm (1.7 s idle; 14 s on KVM in issue 12's probe), whether
 * gupwatch closes them or its exit does (doc/kernel.md).
 * So a child keeps a reference to every link until gupwatch has exited
 * (PR_SET_PDEATHSIG): the last reference, and the wait, are the child's.
 * Async-signal-safe: the second signal's handler calls it too.
 */
static int link_fds[MAX_LINKS]; /* what the child keeps: the links hold their programs */
static int nr_link_fds;

static void keep_links(const struct tracer *t)
{
	for (int i = 0; i < t->nr_links; i++)
		link_fds[i] = bpf_link__fd(t->links[i]);
	nr_link_fds = t->nr_links;
}

/*
 * Everything else the child inherited goes: a pipe or socket it held would
 * stay open for the whole detach, so a reader of gupwatch's output would
 * wait for EOF, and a daemon restarted on the same port could not bind it.
 */
static void close_all_but_links(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), top = null;

	for (int i = 0; i < nr_link_fds; i++)
		top = link_fds[i] > top ? link_fds[i] : top;
	for (int fd = 0; fd < top; fd++) {
		bool link = fd == null;

		for (int i = 0; i < nr_link_fds && !link; i++)
			link = link_fds[i] == fd;
		if (link)
			continue;
		if (fd <= STDERR_FILENO && null >= 0)
			dup2(null, fd);
		else
			close(fd);
	}
	close_range(top + 1, ~0U, 0);
}

static void detach_behind(void)
{
	pid_t parent = getpid();

	if (fork())
		return; /* the parent, or no child: the detach is the parent's */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	setsid();
	close_all_but_links();
	prctl(PR_SET_NAME, "gupwatch-detach");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

/*
 * Our attach waits for an earlier session's detach (both take the kernel's
 * ftrace direct_mutex, and the detach holds it across each grace period):
 * say so, or a start behind a slow detach looks like a hang.
 */
static void warn_detaching_sessions(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char path[sizeof("/proc//comm") + sizeof(de->d_name)], comm[32];
	int n = 0;

	while (proc && (de = readdir(proc))) {
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "gupwatch-detach\n"))
			n++;
		fclose(f);
	}
	if (proc)
		closedir(proc);
	if (n)
		fprintf(stderr, "gupwatch: %d earlier session%s still detaching (gupwatch-detach); "
			"the kernel attaches only after that, which can take minutes while a task "
			"is busy in the kernel\n", n, n == 1 ? " is" : "s are");
}

/*
 * The first SIGINT, SIGTERM or SIGHUP (a dropped ssh session) stops the
 * session cleanly; a second one exits at once, the detach left to a child.
 */
static void on_signal(int sig)
{
	static const char msg[] = "gupwatch: second signal: exiting now\n";

	if (signals++) {
		if (running)
			detach_behind();
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(128 + sig);
	}
	exiting = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	hups = 1;
}

/* hup_handled: SIGHUP is a request (the daemon reopens its log), not a stop. */
static void catch_signals(bool hup_handled)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hup_handled)
		sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
}

void session_stop(void)
{
	exiting = 1;
}

uint64_t session_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t read_counter(struct gupwatch_bpf *skel, enum gw_counter c)
{
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.counters);
	uint64_t vals[ncpus > 0 ? ncpus : 1], sum = 0;
	__u32 key = c;

	if (ncpus > 0 && !bpf_map_lookup_elem(fd, &key, vals))
		for (int cpu = 0; cpu < ncpus; cpu++)
			sum += vals[cpu];
	return sum;
}

static void read_counters(struct gupwatch_bpf *skel, uint64_t sums[GW_CNT__MAX])
{
	struct bpf_program *prog;

	for (int c = 0; c < GW_CNT__MAX; c++)
		sums[c] = read_counter(skel, c);
	/* A hook that fires while another BPF program runs on that CPU is skipped. */
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			sums[GW_CNT_PROG_MISSED] += info.recursion_misses;
	}
}

/*
 * --prog-stats: while a BPF_ENABLE_STATS fd is open (Linux 5.8, "bpf: Sharing
 * bpf runtime stats with BPF_ENABLE_STATS") the kernel times every BPF program
 * run, as kernel.bpf_stats_enabled does. The time is the program's own: the
 * fentry trampoline's or kprobe's entry is not in it.
 */
static int prog_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		fprintf(stderr, "gupwatch: --prog-stats: the kernel refuses BPF run-time statistics "
			"(BPF_ENABLE_STATS: %s); fix: run as root on Linux 5.8 or later, or drop "
			"--prog-stats\n", strerror(-fd));
	return fd;
}

static void prog_stats_print(struct gupwatch_bpf *skel)
{
	struct bpf_program *prog;

	fprintf(stderr, "gupwatch: BPF program runs (time in the program, without its trampoline or "
		"kprobe entry):\n%-40s %12s %10s %12s\n", "program", "runs", "ns/run", "total ms");
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		fprintf(stderr, "%-40s %12llu %10.1f %12.3f\n", bpf_program__name(prog),
			(unsigned long long)info.run_cnt, (double)info.run_time_ns / info.run_cnt,
			info.run_time_ns / 1e6);
	}
}

/*
 * The BPF side finds vmemmap_base and the per-CPU preempt count through
 * /proc/kallsyms; with addresses hidden (kptr_restrict) they resolve to 0
 * and PFNs, interrupt context and hugetlb copies are silently missing.
 */
static void warn_hidden_ksyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	unsigned long long addr;
	char type;

	/* per-CPU symbols come first and sit at 0 by design: judge by the first text symbol */
	while (f && fscanf(f, "%llx %c %*s%*[^\n]", &addr, &type) == 2) {
		if (type != 'T' && type != 't')
			continue;
		if (!addr)
			fprintf(stderr, "gupwatch: warning: kernel symbol addresses are hidden "
				"(kernel.kptr_restrict): PFNs, interrupt context and hugetlb copies will be "
				"missing; fix: run as root, or sysctl kernel.kptr_restrict=1\n");
		break;
	}
	if (f)
		fclose(f);
}

static int libbpf_print_all(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return vfprintf(stderr, fmt, args);
}

void session_counters(uint64_t counters[GW_CNT__MAX])
{
	if (running)
		read_counters(running, counters);
	else
		memset(counters, 0, GW_CNT__MAX * sizeof(counters[0]));
}

struct rb_ctx {
	const struct session_ops *ops;
	void *ctx;
	struct capture *capture; /* with stacks */
	struct rec_item it;      /* without */
	struct procinfo_table *procs; /* ops->procinfo: the processes seen */
	uint32_t last_pid;       /* ... the last event's (a storm comes from one process) */
	bool procs_full;         /* ... PROCINFO_TABLE_MAX of them: the rest go without */
	uint64_t drain_deadline; /* stopping: read no longer than this */
	uint64_t batch;          /* events read in this loop round */
	bool batch_full;         /* the round ended at SESSION_BATCH_EVENTS, not at an empty ring */
	bool cut;                /* stopped reading at the deadline */
};

/* Events read before the loop comes round (a stop, the lost-events line): a few ms of a storm. */
#define SESSION_BATCH_EVENTS 65536

/*
 * What /proc says of pid, kept (a process already gone too, so that it is not asked again)
 * and, if it still runs, sent as an item. 0 or the sink's error.
 */
static int proc_item(struct rb_ctx *c, uint32_t pid)
{
	bool alive = procinfo_read(pid, &c->it.proc.info);
	int err = procinfo_table_set(c->procs, pid, &c->it.proc.info);

	if (err == -ENOSPC)
		c->procs_full = true;
	if (err || !alive)
		return err == -ENOMEM ? err : 0;
	c->it.type = REC_PROCINFO;
	c->it.proc.pid = pid;
	return c->ops->on_item(&c->it, c->ctx);
}

static int dispatch(struct rb_ctx *c, const struct gw_event *ev)
{
	uint32_t pid = ev->task.pid;

	if (c->procs && pid && pid != c->last_pid && !c->procs_full &&
	    !procinfo_table_get(c->procs, pid)) {
		int err = proc_item(c, pid);

		if (err)
			return err;
	}
	c->last_pid = pid;
	if (c->capture)
		return capture_event(c->capture, ev, c->ops->on_item, c->ctx);
	c->it.type = REC_EVENT;
	c->it.event = *ev;
	return c->ops->on_item(&c->it, c->ctx);
}

/*
 * The zone and node of a PFN: the kernel side cannot name them (enum
 * zone_type and the page-flags layout depend on the config), /proc/zoneinfo
 * can. Re-read at most once a second of event time (now_ns: the event's
 * clock, so that no event pays for a clock read): hot-plug moves spans.
 * GW_ZONE_UNKNOWN (node -1) outside every span.
 */
static enum gw_zone zone_of_pfn(uint64_t pfn, uint64_t now_ns, int *node)
{
	static const struct { const char *name; enum gw_zone zone; } names[] = {
		{ "DMA", GW_ZONE_DMA }, { "DMA32", GW_ZONE_DMA32 }, { "Normal", GW_ZONE_NORMAL },
		{ "Movable", GW_ZONE_MOVABLE }, { "Device", GW_ZONE_DEVICE },
	};
	static struct zone_span zones[64];
	static int nzones;
	static uint64_t read_ns;
	const struct zone_span *best = NULL;

	*node = -1;
	/* later than a second only: threads' events come a little out of time order */
	if (!read_ns || now_ns > read_ns + 1000000000ULL) {
		nzones = probe_zones(zones, sizeof(zones) / sizeof(zones[0]));
		read_ns = now_ns;
	}
	for (int i = 0; i < nzones; i++) /* the narrowest span: zones of a node may nest */
		if (pfn >= zones[i].start && pfn < zones[i].end &&
		    (!best || zones[i].end - zones[i].start < best->end - best->start))
			best = &zones[i];
	if (!best)
		return GW_ZONE_UNKNOWN;
	*node = best->node;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(best->name, names[i].name))
			return names[i].zone;
	return GW_ZONE_UNKNOWN;
}

/* What user space adds to an event before anyone sees it: where the folio lies. */
static void place(struct gw_event *ev)
{
	int node;

	if (ev->type == GW_EV_MIGRATE_FAILED) {
		ev->migrate.zone = zone_of_pfn(ev->migrate.pfn, ev->ts_ns, &node);
		ev->migrate.node = (__s16)node;
	} else if (ev->type == GW_EV_PIN && (ev->pin.flags & GW_PIN_LONGTERM) &&
		   zone_of_pfn(ev->pin.pfn, ev->ts_ns, &node) == GW_ZONE_MOVABLE) {
		ev->pin.flags |= GW_PIN_IN_MOVABLE;
	}
}

/* An event needs placing: long-term pins are rare (registrations), failed migrations too. */
static bool needs_place(const struct gw_event *ev)
{
	return ev->type == GW_EV_MIGRATE_FAILED ||
	       (ev->type == GW_EV_PIN && (ev->pin.flags & GW_PIN_LONGTERM));
}

/*
 * A thread's pins and unpins, sent together (gupwatch.h): one event each from
 * here on, unpins as the BPF side sends them one by one: no comm, no stacks.
 */
static int dispatch_batch(struct rb_ctx *c, const struct gw_pin_batch *b, size_t size)
{
	struct gw_event pin = { .ts_ns = b->ts_ns, .task = b->task, .kstack_id = b->kstack_id,
				.ustack_id = b->ustack_id };
	struct gw_event unpin = { .type = GW_EV_UNPIN, .ts_ns = b->ts_ns, .kstack_id = -1,
				  .ustack_id = -1, .task = { .pid = b->task.pid, .tid = b->task.tid } };
	uint32_t nr = b->nr, i;
	int err = 0;

	if (size < offsetof(struct gw_pin_batch, pins) ||
	    nr > (size - offsetof(struct gw_pin_batch, pins)) / sizeof(b->pins[0]))
		return 0;
	for (i = 0; i < nr && !err; i++) {
		struct gw_event *ev = b->pins[i].type == GW_EV_UNPIN ? &unpin : &pin;

		ev->type = b->pins[i].type;
		ev->pin = b->pins[i].pin;
		if (needs_place(ev))
			place(ev);
		err = dispatch(c, ev);
	}
	return err;
}

static int on_record(void *data, void *rec, size_t size)
{
	struct rb_ctx *c = data;
	int err;

	if (size >= sizeof(uint32_t) && *(uint32_t *)rec == GW_EV_PIN_BATCH) {
		err = dispatch_batch(c, rec, size);
	} else if (size >= sizeof(struct gw_event) && needs_place(rec)) {
		struct gw_event ev = *(struct gw_event *)rec; /* the ring is read-only */

		place(&ev);
		err = dispatch(c, &ev);
	} else if (size >= sizeof(struct gw_event)) {
		err = dispatch(c, rec);
	} else {
		return 0;
	}
	if (err)
		session_stop();
	/*
	 * Returning < 0 ends ring_buffer__consume() after this event (the ring's
	 * consumer is past it). A storm refills the ring as fast as it is read:
	 * a stop must not wait for it to run dry, nor the lost-events line for
	 * more than a batch.
	 */
	if (!c->drain_deadline) {
		if (exiting)
			return -EINTR;
		if (++c->batch >= SESSION_BATCH_EVENTS) {
			c->batch_full = true;
			return -EINTR;
		}
		return 0;
	}
	/* stopping: the clock after every event (a vDSO read): one event with -v may take ms */
	if (session_now_ns() > c->drain_deadline) {
		c->cut = true;
		return -ECANCELED;
	}
	return 0;
}

/* An event in the ring buffer: its 8-byte header, the event, rounded up to 8 bytes. */
#define RINGBUF_RECORD_SIZE ((8 + sizeof(struct gw_event) + 7) / 8 * 8)

/* Bytes the BPF side wrote and nobody read: the producer page less the consumer page. */
static uint64_t ringbuf_unread(int map_fd)
{
	long page = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, map_fd, 0);
	uint64_t unread;

	if (m == MAP_FAILED)
		return 0;
	unread = *(volatile unsigned long *)((char *)m + page) - *(volatile unsigned long *)m;
	munmap(m, 2 * page);
	return unread;
}

/* After the last event: the processes seen that still run, as /proc shows them now. */
static void procs_at_end(struct rb_ctx *c)
{
	uint32_t *pids = calloc(PROCINFO_TABLE_MAX, sizeof(*pids));
	size_t n = pids ? procinfo_table_pids(c->procs, pids, PROCINFO_TABLE_MAX) : 0;

	for (size_t i = 0; i < n; i++)
		if (procinfo_table_get(c->procs, pids[i])->alive && proc_item(c, pids[i]))
			break;
	free(pids);
}

int session_run(const struct tracer_opts *opts, long duration_s, const struct session_ops *ops,
		void *ctx, uint64_t counters[GW_CNT__MAX])
{
	struct rb_ctx *rbc = calloc(1, sizeof(*rbc));
	struct ring_buffer *rb = NULL;
	uint64_t deadline = 0;
	struct tracer tracer;
	int ret, stats_fd = -1;
	char err[512];

	memset(counters, 0, GW_CNT__MAX * sizeof(counters[0]));
	if (!rbc) {
		fprintf(stderr, "gupwatch: out of memory\n");
		return 1;
	}
	rbc->ops = ops;
	rbc->ctx = ctx;
	if (opts->debug) /* quiet otherwise (main) */
		libbpf_set_print(libbpf_print_all);
	catch_signals(ops->on_hup);

	if (opts->prog_stats && !opts->load_only && (stats_fd = prog_stats_enable()) < 0) {
		free(rbc);
		return 1;
	}
	if (!opts->load_only)
		warn_detaching_sessions();
	if (tracer_open(&tracer, opts, err, sizeof(err))) {
		fprintf(stderr, "gupwatch: %s\n", err);
		if (stats_fd >= 0)
			close(stats_fd);
		free(rbc);
		return 1;
	}
	if (opts->load_only) {
		printf("gupwatch: the kernel accepts all %d BPF programs that fit it; nothing attached\n",
		       tracer.nr_loaded);
		tracer_close(&tracer);
		free(rbc);
		return 0;
	}
	rb = ring_buffer__new(bpf_map__fd(tracer.skel->maps.events), on_record, rbc, NULL);
	if (!rb) {
		fprintf(stderr, "gupwatch: cannot open the ring buffer: %s\n", strerror(errno));
		tracer_close(&tracer);
		if (stats_fd >= 0)
			close(stats_fd);
		free(rbc);
		return 1;
	}
	warn_hidden_ksyms();
	keep_links(&tracer);
	running = tracer.skel;
	if (opts->stacks) {
		/* After the attach: our own BPF programs and trampolines are named too. */
		rbc->capture = capture_new(bpf_map__fd(tracer.skel->maps.stack_traces),
					   bpf_map__max_entries(tracer.skel->maps.stack_traces));
		if (!rbc->capture)
			fprintf(stderr, "gupwatch: cannot capture stacks: %s: events without them\n",
				strerror(errno));
	}
	if (ops->procinfo && !(rbc->procs = procinfo_table_new()))
		fprintf(stderr, "gupwatch: out of memory: no memlock ledger or cgroups\n");
	if (ops->on_start)
		ops->on_start(&tracer, ctx);
	/* Only now: on_start may take a while (reading /proc/kallsyms takes seconds
	 * in a slow guest), and events wait in the ring buffer meanwhile. */
	fprintf(stderr, "gupwatch: tracing (%d functions by fentry, %d by kprobe; FOLL_PIN=0x%x%s); "
		"Ctrl-C to stop\n", tracer.nr_fentry, tracer.nr_kprobe, tracer.foll.pin,
		tracer.foll.from_btf ? "" : " as #defined up to 6.1");
	if (duration_s)
		deadline = session_now_ns() + duration_s * 1000000000ULL;

	ret = 0;
	for (uint64_t lost = 0, next_check = 0; !exiting && (!deadline || session_now_ns() < deadline);) {
		/* the BPF side wakes us only when the buffer fills up: read it on every tick too */
		int n;

		rbc->batch = 0;
		rbc->batch_full = false;
		n = ring_buffer__poll(rb, SESSION_POLL_MS);
		if (n >= 0 && !rbc->batch_full)
			n = ring_buffer__consume(rb);

		/* said as it happens: a finding missed now cannot be recovered later */
		if (session_now_ns() >= next_check) {
			uint64_t now_lost = read_counter(tracer.skel, GW_CNT_RINGBUF_DROP);

			if (now_lost > lost)
				fprintf(stderr, "gupwatch: %" PRIu64 " events lost (ring buffer full): "
					"findings may be incomplete\n", now_lost - lost);
			lost = now_lost;
			next_check = session_now_ns() + 1000000000ULL;
		}

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "gupwatch: reading the ring buffer failed: %s\n", strerror(-n));
			ret = 1;
			break;
		}
		/* not while events wait: on_idle's clock would run ahead of them (an UNSHARE whose
		 * pin is still unread would be reported as followed by none) */
		if (ops->on_idle && !rbc->batch_full)
			ops->on_idle(session_now_ns(), ctx);
		if (hups && ops->on_hup) {
			hups = 0;
			ops->on_hup(ctx);
		}
	}
	/*
	 * What is already in the buffer belongs to the session. The hooks fall
	 * silent first, or a storm refills it as fast as it is read; then it is
	 * read for at most SESSION_DRAIN_MS.
	 */
	tracer_quiesce(&tracer);
	rbc->drain_deadline = session_now_ns() + SESSION_DRAIN_MS * 1000000ULL;
	ring_buffer__consume(rb);
	if (rbc->procs)
		procs_at_end(rbc);
	if (rbc->cut) {
		uint64_t unread = ringbuf_unread(bpf_map__fd(tracer.skel->maps.events));

		fprintf(stderr, "gupwatch: stopped reading the ring buffer %d ms after the stop: about "
			"%" PRIu64 " events (%" PRIu64 " KiB) left unread\n", SESSION_DRAIN_MS,
			unread / RINGBUF_RECORD_SIZE, unread / 1024);
	}
	read_counters(tracer.skel, counters);
	if (stats_fd >= 0) {
		prog_stats_print(tracer.skel);
		close(stats_fd);
	}
	running = NULL;
	ring_buffer__free(rb);
	detach_behind();
	tracer_close(&tracer);
	capture_free(rbc->capture);
	procinfo_table_free(rbc->procs);
	free(rbc);
	return ret;
}
