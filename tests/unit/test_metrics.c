// SPDX-License-Identifier: GPL-2.0
/* The daemon's Prometheus rendering of the engine's numbers (metrics.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ksyms.h"
#include "metrics.h"
#include "procinfo.h"
#include "stacks.h"

/* pids beyond pid_max: no /proc entry, so no cgroup (the daemon reads live processes') */
#define PID(n) (2000000000u + (n))

static struct gw_event pin(uint32_t pid, const char *comm, uint64_t pfn, uint32_t refs,
			   uint32_t flags)
{
	struct gw_event ev = { .type = GW_EV_PIN, .ts_ns = 1000, .task = { .pid = pid, .tid = pid },
			       .kstack_id = -1, .ustack_id = -1 };

	snprintf(ev.task.comm, sizeof(ev.task.comm), "%s", comm);
	ev.pin = (struct gw_pin){ .folio = 0xffffea0000000000ull + pfn * 64, .pfn = pfn,
				  .refs = refs, .flags = flags, .nr_pages = 1 };
	return ev;
}

static struct gw_event unpin(uint32_t pid, uint64_t ts, uint64_t pfn)
{
	struct gw_event ev = pin(pid, "", pfn, 1, 0);

	ev.type = GW_EV_UNPIN;
	ev.ts_ns = ts;
	return ev;
}

static char *render_sites(struct engine *e, const struct stacks *st)
{
	uint64_t counters[GW_CNT__MAX] = { [GW_CNT_RINGBUF_DROP] = 3 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_render(f, e, st, counters);
	fclose(f);
	return text;
}

static char *render(struct engine *e)
{
	return render_sites(e, NULL);
}

static void assert_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) && ((p != text && p[-1] != '\n') || p[n] != '\n'))
		p++;
	if (!p)
		fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_held_by_comm(void **state)
{
	struct engine *e = engine_new(&(struct engine_opts){ .max_folios = 1024 });
	struct gw_event ev;
	char *text;

	(void)state;
	/* two dd processes: their pins sum under one (cgroup, comm); a comm with a quote is escaped */
	ev = pin(PID(100), "dd", 1, 1, GW_PIN_WRITE | GW_PIN_LONGTERM);
	engine_event(e, &ev);
	ev = pin(PID(101), "dd", 2, 1, GW_PIN_WRITE | GW_PIN_LONGTERM);
	engine_event(e, &ev);
	ev = pin(PID(102), "fi\"o", 3, 1, 0);
	engine_event(e, &ev);
	text = render(e);
	assert_line(text, "gupwatch_pin_references_total 3");
	assert_line(text, "gupwatch_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"dd\",access=\"rw\"} 2");
	assert_line(text, "gupwatch_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"dd\",access=\"ro\"} 0");
	assert_line(text, "gupwatch_longterm_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"dd\"} 2");
	assert_line(text, "gupwatch_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"fi\\\"o\",access=\"ro\"} 1");
	assert_line(text, "gupwatch_findings_total{kind=\"MIGRATE-BLOCKED\",severity=\"high\"} 0");
	assert_line(text, "gupwatch_events_lost_total 3");
	assert_line(text, "gupwatch_charged_pinned_bytes{cgroup=\"\",pod=\"\",container=\"\",comm=\"dd\"} 0");
	assert_line(text, "# TYPE gupwatch_pin_references_held gauge");
	/* every sample's metric was announced by HELP and TYPE before it */
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		char type[128];
		char *name;

		if (l[0] == '#')
			continue;
		name = strndup(l, strcspn(l, "{ "));
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		if (!strstr(text, type) || strstr(text, type) > l)
			fail_msg("sample '%.60s' without a TYPE line before it", l);
		free(name);
	}
	free(text);
	engine_free(e);
}

static void test_comm_cardinality(void **state)
{
	struct engine *e = engine_new(&(struct engine_opts){ .max_folios = 4096 });
	char *text, comm[16];
	size_t rows = 0;

	(void)state;
	/* comm cN holds N + 1 refs: the 50 biggest groups are named, the other 10 summed */
	for (uint32_t n = 0; n < METRICS_MAX_GROUPS + 10; n++) {
		snprintf(comm, sizeof(comm), "c%u", n);
		for (uint32_t r = 0; r <= n; r++) {
			struct gw_event ev = pin(PID(1000 + n), comm, n * 100 + r, 1, 0);

			engine_event(e, &ev);
		}
	}
	text = render(e);
	for (const char *p = text; (p = strstr(p, "\ngupwatch_longterm_pin_references_held{")); p++)
		rows++;
	assert_int_equal(rows, METRICS_MAX_GROUPS + 1);
	assert_line(text, "gupwatch_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"c59\",access=\"ro\"} 60");
	/* c0..c9 hold 1..10: 55 refs */
	assert_line(text, "gupwatch_pin_references_held{cgroup=\"\",pod=\"\",container=\"\",comm=\"(other)\",access=\"ro\"} 55");
	assert_null(strstr(text, "comm=\"c9\""));
	free(text);
	engine_free(e);
}

/* A pin held 3 us falls in the le="4e-06" bucket, cumulative from there on. */
static void hold_histogram(void **state)
{
	struct engine *e = engine_new(&(struct engine_opts){ .max_folios = 1024 });
	struct gw_event ev;
	char *text;

	(void)state;
	ev = pin(PID(7), "dd", 1, 1, GW_PIN_WRITE);
	engine_event(e, &ev);
	ev = unpin(PID(7), 1000 + 3000, 1);
	engine_event(e, &ev);
	text = render(e);
	assert_line(text, "# TYPE gupwatch_pin_hold_seconds histogram");
	assert_line(text, "gupwatch_pin_hold_seconds_bucket{comm=\"dd\",access=\"rw\",longterm=\"false\",site=\"\",le=\"1e-06\"} 0");
	assert_line(text, "gupwatch_pin_hold_seconds_bucket{comm=\"dd\",access=\"rw\",longterm=\"false\",site=\"\",le=\"4e-06\"} 1");
	assert_line(text, "gupwatch_pin_hold_seconds_bucket{comm=\"dd\",access=\"rw\",longterm=\"false\",site=\"\",le=\"+Inf\"} 1");
	assert_line(text, "gupwatch_pin_hold_seconds_sum{comm=\"dd\",access=\"rw\",longterm=\"false\",site=\"\"} 0.000003000");
	assert_line(text, "gupwatch_pin_hold_seconds_count{comm=\"dd\",access=\"rw\",longterm=\"false\",site=\"\"} 1");
	free(text);
	engine_free(e);
}

/*
 * With stacks (daemon --call-sites), one comm's pins split by kernel call site: the first
 * frame past GUP itself, as report's call-site table names it.
 */
static void hold_histogram_sites(void **state)
{
	static const uint64_t io[] = { 0xffffffff81000010, 0xffffffff81100020, 0xffffffff81200030 };
	static const uint64_t pvm[] = { 0xffffffff81000010, 0xffffffff81300040 };
	struct engine *e = engine_new(&(struct engine_opts){ .max_folios = 1024 });
	struct stacks *st = stacks_new(NULL);
	struct gw_event ev;
	char *text;

	(void)state;
	assert_non_null(st);
	ksyms_add(st->ksyms, 0xffffffff81000000, "try_grab_folio");
	ksyms_add(st->ksyms, 0xffffffff81100000, "pin_user_pages");
	ksyms_add(st->ksyms, 0xffffffff81200000, "io_pin_pages");
	ksyms_add(st->ksyms, 0xffffffff81300000, "process_vm_rw_core.constprop.0");
	assert_int_equal(stacks_set(st, 1, false, io, 3), 0);
	assert_int_equal(stacks_set(st, 2, false, pvm, 2), 0);
	for (int k = 1; k <= 2; k++) {
		ev = pin(PID(7), "qemu", k, 1, k == 1 ? GW_PIN_WRITE | GW_PIN_LONGTERM : 0);
		ev.kstack_id = k;
		engine_event(e, &ev);
		ev = unpin(PID(7), 1000 + k * 3000, k);
		engine_event(e, &ev);
	}
	text = render_sites(e, st);
	assert_line(text, "gupwatch_pin_hold_seconds_count{comm=\"qemu\",access=\"rw\",longterm=\"true\",site=\"io_pin_pages\"} 1");
	assert_line(text, "gupwatch_pin_hold_seconds_sum{comm=\"qemu\",access=\"ro\",longterm=\"false\",site=\"process_vm_rw_core.constprop.0\"} 0.000006000");
	free(text);
	stacks_free(st);
	engine_free(e);
}

/* "VmLck:      64 kB" of our /proc/self/status, in bytes */
static unsigned long long own_vmlck(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %llu", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * The memlock ledger of a live process, ours: a 1 MiB RLIMIT_MEMLOCK with 64 KiB mlock()ed
 * leaves 960 KiB of headroom (VmPin: 0; under ASan mlock does nothing: what VmLck says);
 * a process /proc cannot show has no limit known.
 */
static void memlock_headroom(void **state)
{
	struct engine *e = engine_new(&(struct engine_opts){ .max_folios = 1024 });
	struct rlimit old, rl;
	char *text, series[512], cgroup[256];
	size_t len = 64 * 1024;
	unsigned long long locked;
	void *buf = aligned_alloc(4096, len);
	struct gw_event ev;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = (struct rlimit){ .rlim_cur = 1 << 20, .rlim_max = old.rlim_max };
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < rl.rlim_cur)
		skip();
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(mlock(buf, len), 0);
	locked = own_vmlck();
	assert_true(locked == len || locked == 0);
	ev = pin((uint32_t)getpid(), "self", 1, 1, 0);
	engine_event(e, &ev);
	ev = pin(PID(1), "gone", 2, 1, 0);
	engine_event(e, &ev);
	text = render(e);
	munlock(buf, len);
	setrlimit(RLIMIT_MEMLOCK, &old);
	free(buf);
	if (!procinfo_cgroup((uint32_t)getpid(), cgroup, sizeof(cgroup)))
		cgroup[0] = 0;
	snprintf(series, sizeof(series), "gupwatch_charged_locked_bytes{cgroup=\"%s\",pod=\"\",container=\"\",comm=\"self\"} %llu", cgroup, locked);
	assert_line(text, series);
	snprintf(series, sizeof(series), "gupwatch_memlock_limit_bytes{cgroup=\"%s\",pod=\"\",container=\"\",comm=\"self\"} 1048576", cgroup);
	assert_line(text, series);
	snprintf(series, sizeof(series), "gupwatch_memlock_headroom_bytes{cgroup=\"%s\",pod=\"\",container=\"\",comm=\"self\"} %llu", cgroup, (1ull << 20) - locked);
	assert_line(text, series);
	assert_line(text, "gupwatch_memlock_headroom_bytes{cgroup=\"\",pod=\"\",container=\"\",comm=\"gone\"} +Inf");
	free(text);
	engine_free(e);
}

/* ---- the server ---- */

#define TEST_PORT 19776

static int connect_local(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The whole response to one request. */
static char *request(const char *req)
{
	static char buf[4096];
	int fd = connect_local();
	size_t got = 0;
	ssize_t r;

	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	while ((r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fd);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void server(void **state)
{
	struct metrics_server *srv;
	char err[256], *big;
	const char *ask = "GET /metrics HTTP/1.1\r\n\r\n";
	double t0;
	int idle;

	(void)state;
	assert_null(metrics_listen("127.0.0.1", err, sizeof(err)));
	assert_non_null(strstr(err, "want IPV4-ADDRESS:PORT"));
	srv = metrics_listen("127.0.0.1:19776", err, sizeof(err));
	if (!srv)
		skip(); /* the port is taken on this host */
	assert_int_equal(metrics_start(srv), 0);
	metrics_publish(srv, "a_total 1\n", 10);
	assert_non_null(strstr(request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
			       "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			       "Content-Length: 10\r\nConnection: close\r\n\r\na_total 1\n"));
	assert_null(strstr(request("HEAD /metrics HTTP/1.1\r\n\r\n"), "a_total"));
	assert_non_null(strstr(request("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found"));
	assert_non_null(strstr(request("POST /metrics HTTP/1.1\r\n\r\n"), "405 Method Not Allowed"));
	assert_non_null(strstr(request("garbage\r\n\r\n"), "400 Bad Request"));
	/* a client that asks and does not read holds the server up to its send timeout, never
	 * whoever publishes (the tracer's loop): 8 MiB fill the socket buffers */
	big = malloc(8 << 20);
	assert_non_null(big);
	memset(big, '#', 8 << 20);
	metrics_publish(srv, big, 8 << 20);
	free(big);
	idle = connect_local();
	assert_int_equal(send(idle, ask, strlen(ask), 0), (ssize_t)strlen(ask));
	usleep(300000); /* the server is stuck in send() now */
	t0 = now_s();
	metrics_publish(srv, "a_total 2\n", 10);
	assert_true(now_s() - t0 < 0.1);
	close(idle);
	assert_non_null(strstr(request("GET /metrics HTTP/1.0\r\n\r\n"), "\r\n\r\na_total 2\n"));
	metrics_close(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_by_comm),
		cmocka_unit_test(test_comm_cardinality),
		cmocka_unit_test(hold_histogram),
		cmocka_unit_test(hold_histogram_sites),
		cmocka_unit_test(memlock_headroom),
		cmocka_unit_test(server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
