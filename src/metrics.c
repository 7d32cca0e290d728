// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics of the engine (metrics.h). A hand-written server rather
 * than libmicrohttpd: the guests run a static gupwatch, and Debian's
 * libmicrohttpd.a needs GnuTLS, whose p11-kit has no static library. It
 * answers one request per connection, GET (or HEAD) /metrics only, with a
 * bounded read and a timeout, so a slow or hostile client costs one socket
 * for two seconds at most.
 */
#include "metrics.h"
#include "procinfo.h"
#include "stacks.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

/* ---- rendering ---- */

static void help_type(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A label value into out: the format's escapes; bytes outside printable ASCII as '?' (values
 * are UTF-8). Cut short rather than overflow.
 */
static const char *label_value(const char *s, size_t max, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < max && s[i] && o + 3 < len; i++) {
		unsigned char c = s[i];

		if (c == '\\' || c == '"' || c == '\n')
			out[o++] = '\\';
		out[o++] = c == '\n' ? 'n' : c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[o] = 0;
	return out;
}

/* The pins held by the processes of one (cgroup, comm), and what the kernel charged them. */
struct group_sum {
	char cgroup[sizeof(((struct procinfo *)0)->cgroup)];
	char comm[GW_COMM_LEN];
	uint64_t ro, rw, longterm, held;
	uint64_t charged; /* their VmPin */
	uint64_t locked;  /* their VmLck */
	/* the process closest to its RLIMIT_MEMLOCK: the limit, and what VmPin + VmLck leave of
	 * it (PROCINFO_UNLIMITED: no limit, or /proc unread) */
	uint64_t limit, headroom;
};

/* Charged against a limit: what is left of it (0: at or over it). */
static uint64_t headroom_of(const struct procinfo *pi)
{
	uint64_t charged = pi->vm_pinned + pi->vm_locked;

	if (pi->memlock_limit == PROCINFO_UNLIMITED)
		return PROCINFO_UNLIMITED;
	return pi->memlock_limit > charged ? pi->memlock_limit - charged : 0;
}

/* to takes from's charges, and its limit if from is closer to its own. */
static void group_charges_add(struct group_sum *to, const struct group_sum *from)
{
	to->charged += from->charged;
	to->locked += from->locked;
	if (from->headroom < to->headroom) {
		to->headroom = from->headroom;
		to->limit = from->limit;
	}
}

static int by_group(const void *a, const void *b)
{
	const struct group_sum *x = a, *y = b;
	int c = strcmp(x->cgroup, y->cgroup);

	return c ? c : strncmp(x->comm, y->comm, GW_COMM_LEN);
}

static int by_held_desc(const void *a, const void *b)
{
	const struct group_sum *x = a, *y = b;

	return x->held < y->held ? 1 : x->held > y->held ? -1 : by_group(a, b);
}

/*
 * Pin references held now, summed per cgroup (from /proc: live processes only) and comm, most
 * first; the tail folded into cgroup="", comm="(other)".
 */
static size_t held_by_group(const struct engine *e, struct group_sum **out)
{
	size_t n = engine_procs(e, NULL, 0), m = 0, k;
	struct engine_proc *p = calloc(n ?: 1, sizeof(*p));
	struct group_sum *g = calloc(n + 1, sizeof(*g));

	*out = g;
	if (!p || !g) {
		free(p);
		return 0;
	}
	n = engine_procs(e, p, n);
	for (size_t i = 0; i < n; i++) {
		struct procinfo pi;

		if (!p[i].out_refs)
			continue;
		g[m].limit = g[m].headroom = PROCINFO_UNLIMITED;
		if (p[i].pid && procinfo_read(p[i].pid, &pi)) {
			snprintf(g[m].cgroup, sizeof(g[m].cgroup), "%s", pi.cgroup);
			g[m].charged = pi.vm_pinned;
			g[m].locked = pi.vm_locked;
			g[m].limit = pi.memlock_limit;
			g[m].headroom = headroom_of(&pi);
		}
		memcpy(g[m].comm, p[i].comm, GW_COMM_LEN);
		g[m].ro = p[i].out_ro_refs;
		g[m].rw = p[i].out_rw_refs;
		g[m].longterm = p[i].out_longterm_refs;
		g[m++].held = p[i].out_refs;
	}
	free(p);
	qsort(g, m, sizeof(*g), by_group);
	for (k = 0; k < m; k++) { /* merge equal neighbours into the first of them */
		size_t j = k + 1;

		while (j < m && !by_group(&g[k], &g[j])) {
			g[k].ro += g[j].ro;
			g[k].rw += g[j].rw;
			g[k].longterm += g[j].longterm;
			g[k].held += g[j].held;
			group_charges_add(&g[k], &g[j]);
			g[j++].held = 0;
		}
	}
	qsort(g, m, sizeof(*g), by_held_desc);
	while (m && !g[m - 1].held)
		m--;
	if (m > METRICS_MAX_GROUPS) {
		struct group_sum *o = &g[METRICS_MAX_GROUPS];

		for (size_t i = METRICS_MAX_GROUPS + 1; i < m; i++) {
			o->ro += g[i].ro;
			o->rw += g[i].rw;
			o->longterm += g[i].longterm;
			group_charges_add(o, &g[i]);
		}
		o->cgroup[0] = 0;
		snprintf(o->comm, sizeof(o->comm), "(other)");
		m = METRICS_MAX_GROUPS + 1;
	}
	return m;
}

/* cgroup="...",pod="...",container="...",comm="..." of a group */
static void group_labels(FILE *f, const struct group_sum *g)
{
	char pod[64], container[80], cgroup[2 * sizeof(g->cgroup)], comm[2 * GW_COMM_LEN + 1];
	char pod_v[2 * sizeof(pod)], container_v[2 * sizeof(container)];

	procinfo_container(g->cgroup, pod, sizeof(pod), container, sizeof(container));
	fprintf(f, "cgroup=\"%s\",pod=\"%s\",container=\"%s\",comm=\"%s\"",
		label_value(g->cgroup, sizeof(g->cgroup), cgroup, sizeof(cgroup)),
		label_value(pod, sizeof(pod), pod_v, sizeof(pod_v)),
		label_value(container, sizeof(container), container_v, sizeof(container_v)),
		label_value(g->comm, GW_COMM_LEN, comm, sizeof(comm)));
}

/* Released pins' hold times, summed per comm, kind of pin and kernel call site. */
struct hold_sum {
	char comm[GW_COMM_LEN];
	uint32_t kind; /* GW_PIN_WRITE | GW_PIN_LONGTERM */
	char site[128]; /* as report's call-site table names it; "" without stacks */
	uint64_t hold[ENGINE_HOLD_SLOTS], count, sum_ns;
};

static int hold_by_key(const void *a, const void *b)
{
	const struct hold_sum *x = a, *y = b;
	int c = strncmp(x->comm, y->comm, GW_COMM_LEN);

	if (!c)
		c = strcmp(x->site, y->site);
	return c ? c : (x->kind > y->kind) - (x->kind < y->kind);
}

static int hold_by_count_desc(const void *a, const void *b)
{
	const struct hold_sum *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : hold_by_key(a, b);
}

static void hold_add(struct hold_sum *to, const struct hold_sum *from)
{
	for (int i = 0; i < ENGINE_HOLD_SLOTS; i++)
		to->hold[i] += from->hold[i];
	to->count += from->count;
	to->sum_ns += from->sum_ns;
}

static size_t hold_by_group(const struct engine *e, const struct stacks *stacks, struct hold_sum **out)
{
	size_t n = engine_sites(e, NULL, 0), m = 0;
	struct engine_site *st = calloc(n ?: 1, sizeof(*st));
	struct hold_sum *h = calloc(n + 1, sizeof(*h));

	*out = h;
	if (!st || !h) {
		free(st);
		return 0;
	}
	n = engine_sites(e, st, n);
	for (size_t i = 0; i < n; i++) {
		if (!st[i].released_refs)
			continue;
		memcpy(h[m].comm, st[i].task.comm, GW_COMM_LEN);
		h[m].kind = st[i].flags & (GW_PIN_WRITE | GW_PIN_LONGTERM);
		if (stacks) {
			char api[128];

			stacks_call_site(stacks, st[i].kstack_id, h[m].site, sizeof(h[m].site), api,
					 sizeof(api));
		}
		memcpy(h[m].hold, st[i].hold, sizeof(h[m].hold));
		h[m].count = st[i].released_refs;
		h[m++].sum_ns = st[i].released_ns;
	}
	free(st);
	qsort(h, m, sizeof(*h), hold_by_key);
	for (size_t k = 0; k < m; k++) /* merge equal neighbours into the first of them */
		for (size_t j = k + 1; j < m && !hold_by_key(&h[k], &h[j]); j++) {
			hold_add(&h[k], &h[j]);
			h[j].count = 0;
		}
	qsort(h, m, sizeof(*h), hold_by_count_desc);
	while (m && !h[m - 1].count)
		m--;
	if (m > METRICS_MAX_HOLD_GROUPS) {
		struct hold_sum *o = &h[METRICS_MAX_HOLD_GROUPS];

		for (size_t i = METRICS_MAX_HOLD_GROUPS + 1; i < m; i++)
			hold_add(o, &h[i]);
		snprintf(o->comm, sizeof(o->comm), "(other)");
		o->kind = 0; /* all kinds and sites */
		o->site[0] = 0;
		m = METRICS_MAX_HOLD_GROUPS + 1;
	}
	return m;
}

/*
 * Engine slot i holds times in [2^(i-1), 2^i) us: every other slot's upper bound is a bucket
 * (le = 1 us, 4 us, 16 us ... 2^38 us, about 76 h), then +Inf.
 */
static void hold_histogram(FILE *f, const struct engine *e, const struct stacks *stacks)
{
	struct hold_sum *h;
	size_t n = hold_by_group(e, stacks, &h);

	help_type(f, "gupwatch_pin_hold_seconds", "histogram",
		  "How long released FOLL_PIN references were held, per comm, kind and kernel call site "
		  "(site: the caller of pin_user_pages*, with --call-sites; GUP-fast undos excluded); "
		  "the 20 groups with most, then comm=\"(other)\"");
	for (size_t i = 0; i < n; i++) {
		char labels[512], comm[GW_COMM_LEN * 2 + 1], site[sizeof(h[i].site) * 2 + 1];
		uint64_t cum = 0;

		label_value(h[i].comm, GW_COMM_LEN, comm, sizeof(comm));
		label_value(h[i].site, sizeof(h[i].site), site, sizeof(site));
		if (strcmp(h[i].comm, "(other)"))
			snprintf(labels, sizeof(labels),
				 "comm=\"%s\",access=\"%s\",longterm=\"%s\",site=\"%s\"", comm,
				 h[i].kind & GW_PIN_WRITE ? "rw" : "ro",
				 h[i].kind & GW_PIN_LONGTERM ? "true" : "false", site);
		else
			snprintf(labels, sizeof(labels),
				 "comm=\"(other)\",access=\"\",longterm=\"\",site=\"\"");
		for (int s = 0; s < ENGINE_HOLD_SLOTS - 1; s++) {
			cum += h[i].hold[s];
			if (!(s & 1))
				fprintf(f, "gupwatch_pin_hold_seconds_bucket{%s,le=\"%.9g\"} %" PRIu64 "\n",
					labels, (double)(1ULL << s) * 1e-6, cum);
		}
		fprintf(f, "gupwatch_pin_hold_seconds_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", labels,
			h[i].count);
		fprintf(f, "gupwatch_pin_hold_seconds_sum{%s} %.9f\n", labels, h[i].sum_ns / 1e9);
		fprintf(f, "gupwatch_pin_hold_seconds_count{%s} %" PRIu64 "\n", labels, h[i].count);
	}
	free(h);
}

/* nr_foll_pin_acquired and _released since boot; false if /proc/vmstat cannot tell. */
static bool vmstat_pins(uint64_t *acquired, uint64_t *released)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char name[64];
	uint64_t v;
	int found = 0;

	if (!f)
		return false;
	while (fscanf(f, "%63s %" SCNu64, name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			*acquired = v, found++;
		else if (!strcmp(name, "nr_foll_pin_released"))
			*released = v, found++;
	}
	fclose(f);
	return found == 2;
}

/* A gauge per group: the uint64_t at offset off in struct group_sum (PROCINFO_UNLIMITED: +Inf). */
static void group_gauge(FILE *f, const char *name, const char *help, const struct group_sum *g,
			size_t n, size_t off)
{
	help_type(f, name, "gauge", help);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&g[i] + off, sizeof(v));
		fprintf(f, "%s{", name);
		group_labels(f, &g[i]);
		if (v == PROCINFO_UNLIMITED)
			fputs("} +Inf\n", f);
		else
			fprintf(f, "} %" PRIu64 "\n", v);
	}
}

void metrics_render(FILE *f, const struct engine *e, const struct stacks *stacks,
		    const uint64_t counters[GW_CNT__MAX])
{
	static const char *const access[] = { "ro", "rw" };
	struct engine_totals t;
	struct group_sum *g;
	size_t n = held_by_group(e, &g);
	uint64_t acq, rel;

	engine_totals(e, &t);
	help_type(f, "gupwatch_pin_references_total", "counter",
		  "FOLL_PIN references taken since gupwatch started (nr_foll_pin_acquired counts the same)");
	fprintf(f, "gupwatch_pin_references_total %" PRIu64 "\n", t.pin_refs);
	help_type(f, "gupwatch_unpin_references_total", "counter",
		  "FOLL_PIN references dropped since gupwatch started (nr_foll_pin_released counts the same)");
	fprintf(f, "gupwatch_unpin_references_total %" PRIu64 "\n", t.unpin_refs);
	help_type(f, "gupwatch_pin_references_held", "gauge",
		  "FOLL_PIN references held now by processes of this cgroup and comm, R/O or R/W (a "
		  "reference pins a page); pod and container from the cgroup path where it names them; "
		  "the 50 groups holding most, then comm=\"(other)\"");
	for (size_t i = 0; i < n; i++)
		for (int a = 0; a < 2; a++) {
			fputs("gupwatch_pin_references_held{", f);
			group_labels(f, &g[i]);
			fprintf(f, ",access=\"%s\"} %" PRIu64 "\n", access[a], a ? g[i].rw : g[i].ro);
		}
	group_gauge(f, "gupwatch_longterm_pin_references_held",
		    "Of those, FOLL_LONGTERM references (RDMA, vfio, io_uring buffers): memory that "
		    "cannot move", g, n, offsetof(struct group_sum, longterm));
	group_gauge(f, "gupwatch_charged_pinned_bytes",
		    "What the kernel charged those processes as pinned (VmPin, which RLIMIT_MEMLOCK "
		    "limits): long-term pins of io_uring and RDMA; never short-term ones",
		    g, n, offsetof(struct group_sum, charged));
	group_gauge(f, "gupwatch_charged_locked_bytes",
		    "What the kernel charged those processes as locked (VmLck: mlock, vfio's type1 "
		    "IOMMU); with VmPin what RLIMIT_MEMLOCK limits", g, n,
		    offsetof(struct group_sum, locked));
	group_gauge(f, "gupwatch_memlock_limit_bytes",
		    "RLIMIT_MEMLOCK of the group's process with the least headroom (+Inf: unlimited)",
		    g, n, offsetof(struct group_sum, limit));
	group_gauge(f, "gupwatch_memlock_headroom_bytes",
		    "RLIMIT_MEMLOCK less VmPin and VmLck, for the group's process with the least "
		    "(0: at or over it; +Inf: unlimited); under a tenth of the limit: near it",
		    g, n, offsetof(struct group_sum, headroom));
	free(g);
	hold_histogram(f, e, stacks);
	help_type(f, "gupwatch_findings_total", "counter", "Findings reported, by kind and severity");
	for (int k = 0; k < ENGINE_KIND__MAX; k++)
		for (int s = 0; s < ENGINE_SEV__MAX; s++)
			fprintf(f, "gupwatch_findings_total{kind=\"%s\",severity=\"%s\"} %" PRIu64 "\n",
				engine_kind_name(k), engine_sev_name(s), t.findings_sev[k][s]);
	help_type(f, "gupwatch_page_copies_total", "counter",
		  "Pages copied because of pins: write COW of a pinned page, unshare at pin time, eager copy at fork");
	fprintf(f, "gupwatch_page_copies_total{reason=\"cow\"} %" PRIu64 "\n", t.wp_copies);
	fprintf(f, "gupwatch_page_copies_total{reason=\"unshare\"} %" PRIu64 "\n", t.unshares);
	fprintf(f, "gupwatch_page_copies_total{reason=\"fork\"} %" PRIu64 "\n", t.fork_copies);
	help_type(f, "gupwatch_events_total", "counter", "Events the kernel side sent and the engine read");
	fprintf(f, "gupwatch_events_total %" PRIu64 "\n", t.events);
	if (counters) {
		help_type(f, "gupwatch_events_lost_total", "counter",
			  "Events lost: the ring buffer was full (findings may be missing)");
		fprintf(f, "gupwatch_events_lost_total %" PRIu64 "\n", counters[GW_CNT_RINGBUF_DROP]);
	}
	if (vmstat_pins(&acq, &rel)) {
		help_type(f, "gupwatch_kernel_foll_pin_acquired_total", "counter",
			  "The kernel's nr_foll_pin_acquired (/proc/vmstat), since boot");
		fprintf(f, "gupwatch_kernel_foll_pin_acquired_total %" PRIu64 "\n", acq);
		help_type(f, "gupwatch_kernel_foll_pin_released_total", "counter",
			  "The kernel's nr_foll_pin_released (/proc/vmstat), since boot");
		fprintf(f, "gupwatch_kernel_foll_pin_released_total %" PRIu64 "\n", rel);
	}
}

/* ---- serving ---- */

#define REQUEST_MAX 4096
#define CLIENT_TIMEOUT_S 2

struct metrics_server {
	int fd;
	pthread_t thread;
	bool started;
	volatile bool stop;
	pthread_mutex_t lock;
	char *text; /* the latest rendering */
	size_t len;
};

/* Numeric only: a static binary has no name service (and a daemon should not wait on one). */
static bool parse_listen(const char *addr_port, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr_port, ':');
	char host[64], *end;
	unsigned long port;

	if (!colon || (size_t)(colon - addr_port) >= sizeof(host))
		return false;
	memcpy(host, addr_port, (size_t)(colon - addr_port));
	host[colon - addr_port] = 0;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	port = strtoul(colon + 1, &end, 10);
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return colon[1] && !*end && port && port <= 65535 && inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

bool metrics_listen_valid(const char *addr_port)
{
	struct sockaddr_in sa;

	return parse_listen(addr_port, &sa);
}

struct metrics_server *metrics_listen(const char *addr_port, char *err, size_t err_len)
{
	struct sockaddr_in sa;
	struct metrics_server *s;
	int one = 1;

	if (!parse_listen(addr_port, &sa)) {
		snprintf(err, err_len, "--listen '%s': %s", addr_port, METRICS_LISTEN_HELP);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 16)) {
		snprintf(err, err_len, "cannot listen on %s: %s%s", addr_port, strerror(errno),
			 errno == EADDRINUSE ? "; fix: stop what uses the port or give --listen another" :
			 errno == EADDRNOTAVAIL ? "; fix: an address of this host (127.0.0.1: this host only)" :
			 errno == EACCES ? "; fix: a port above 1023, or run as root" : "");
		metrics_close(s);
		return NULL;
	}
	return s;
}

static void reply(int fd, const char *status, const char *type, const char *body, size_t len,
		  bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, type, len);

	if (send(fd, hdr, (size_t)n, MSG_NOSIGNAL) != n || head)
		return;
	while (len) {
		ssize_t w = send(fd, body, len, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void serve(struct metrics_server *s, int fd)
{
	static const char not_found[] = "gupwatch serves /metrics only\n";
	static const char not_allowed[] = "GET /metrics only\n";
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	char req[REQUEST_MAX + 1], method[8], path[64];
	size_t got = 0;
	bool head;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < REQUEST_MAX) {
		ssize_t r = recv(fd, req + got, REQUEST_MAX - got, 0);

		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	if (sscanf(req, "%7s %63s HTTP/", method, path) != 2) {
		reply(fd, "400 Bad Request", "text/plain", "", 0, false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head)
		reply(fd, "405 Method Not Allowed", "text/plain", not_allowed, sizeof(not_allowed) - 1,
		      false);
	else if (strcmp(path, "/metrics"))
		reply(fd, "404 Not Found", "text/plain", not_found, sizeof(not_found) - 1, head);
	else {
		/* a copy: a slow client must not hold up metrics_publish(), i.e. the tracer's loop */
		char *text;
		size_t len;

		pthread_mutex_lock(&s->lock);
		len = s->len;
		text = malloc(len + 1);
		if (text)
			memcpy(text, s->text ?: "", len + 1);
		pthread_mutex_unlock(&s->lock);
		if (text)
			reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text, len, head);
		else
			reply(fd, "503 Service Unavailable", "text/plain", "", 0, false);
		free(text);
	}
}

static void *serve_loop(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	while (!s->stop) {
		int fd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

int metrics_start(struct metrics_server *s)
{
	int err = pthread_create(&s->thread, NULL, serve_loop, s);

	s->started = !err;
	return -err;
}

void metrics_publish(struct metrics_server *s, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return; /* the previous rendering stays */
	memcpy(copy, text, len);
	copy[len] = 0;
	pthread_mutex_lock(&s->lock);
	free(s->text);
	s->text = copy;
	s->len = len;
	pthread_mutex_unlock(&s->lock);
}

void metrics_close(struct metrics_server *s)
{
	if (!s)
		return;
	s->stop = true;
	if (s->started)
		pthread_join(s->thread, NULL);
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s->text);
	free(s);
}
