// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers of gwload: output records, /proc/vmstat pin counters,
 * pagemap/kpageflags lookups, buffer mapping (anon / THP / hugetlb),
 * the userfaultfd holder and the command-driven target process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#include "gwload.h"

/* ------------------------------------------------------------------ output */

static char line[4096];
static size_t line_len;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void out_begin(const char *type, const char *val)
{
	pthread_mutex_lock(&out_lock);
	line_len = (size_t)snprintf(line, sizeof(line), "%s=%s", type, val);
}

void out_kv(const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line_len >= sizeof(line) - 2)
		return;
	n = snprintf(line + line_len, sizeof(line) - line_len, " %s=", key);
	if (n > 0)
		line_len += (size_t)n;
	if (line_len >= sizeof(line) - 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + line_len, sizeof(line) - line_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		line_len += (size_t)n;
	if (line_len > sizeof(line) - 1)
		line_len = sizeof(line) - 1;
}

void out_end(void)
{
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	line_len = 0;
	pthread_mutex_unlock(&out_lock);
}

void out_pins(void)
{
	struct pinsnap d = pins_delta();

	out_kv("acquired", "%lld", d.acquired);
	out_kv("released", "%lld", d.released);
	out_kv("outstanding", "%lld", d.acquired - d.released);
}

void out_phase(const char *phase)
{
	out_begin("phase", phase);
	out_pins();
	out_end();
}

void out_loop(long repeat, double ms, double cpu)
{
	out_begin("phase", "loop");
	out_kv("repeat", "%ld", repeat);
	out_kv("loop_ms", "%.3f", ms);
	out_kv("loop_cpu_ms", "%.3f", cpu);
	out_end();
}

void die_msg(const char *what, const char *msg)
{
	int e = errno;
	char m[256];
	size_t i;

	snprintf(m, sizeof(m), "%s", msg);
	for (i = 0; m[i]; i++)
		if (m[i] == ' ')
			m[i] = '_';
	fflush(stdout);
	printf("error=%s errno=%d msg=%s\n", what, e, m);
	fflush(stdout);
	exit(1);
}

void die(const char *what)
{
	die_msg(what, strerror(errno));
}

const char *mem_name(enum mem_kind m)
{
	switch (m) {
	case MEM_THP:
		return "thp";
	case MEM_HUGETLB:
		return "hugetlb";
	default:
		return "anon";
	}
}

/* ------------------------------------------------------------ pin counters */

static struct pinsnap base;

struct pinsnap pins_read(void)
{
	struct pinsnap s = { -1, -1 };
	char buf[256];
	FILE *f;
	int fd;

	/* Fold the per-CPU vmstat deltas into the global counters. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1)
		die("stat_refresh");
	close(fd);

	f = fopen("/proc/vmstat", "r");
	if (!f)
		die("vmstat");
	while (fgets(buf, sizeof(buf), f)) {
		if (!strncmp(buf, "nr_foll_pin_acquired ", 21))
			s.acquired = atoll(buf + 21);
		else if (!strncmp(buf, "nr_foll_pin_released ", 21))
			s.released = atoll(buf + 21);
	}
	fclose(f);
	if (s.acquired < 0 || s.released < 0)
		die_msg("vmstat", "no nr_foll_pin_* counters");
	return s;
}

void pins_baseline(void)
{
	base = pins_read();
}

struct pinsnap pins_delta(void)
{
	struct pinsnap s = pins_read();

	s.acquired -= base.acquired;
	s.released -= base.released;
	return s;
}

/* ----------------------------------------------------------------- pagemap */

static int open_proc(pid_t pid, const char *what, int flags)
{
	char path[64];
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", what);
	fd = open(path, flags);
	if (fd < 0)
		die(what);
	return fd;
}

void pagemap_read(pid_t pid, const void *addr, long n, uint64_t *out)
{
	int fd = open_proc(pid, "pagemap", O_RDONLY);
	off_t off = (off_t)((uintptr_t)addr / PAGE_SZ * sizeof(uint64_t));
	size_t want = (size_t)n * sizeof(uint64_t);

	if (pread(fd, out, want, off) != (ssize_t)want)
		die("pagemap");
	close(fd);
}

void pfns_read(pid_t pid, const void *addr, long n, uint64_t *pfn)
{
	long i;

	pagemap_read(pid, addr, n, pfn);
	for (i = 0; i < n; i++)
		pfn[i] = (pfn[i] & PM_PRESENT) ? (pfn[i] & PM_PFN_MASK) : 0;
}

long pfns_count_eq(const uint64_t *a, const uint64_t *b, long n)
{
	long i, c = 0;

	for (i = 0; i < n; i++)
		c += a[i] && a[i] == b[i];
	return c;
}

long pfns_count_ne(const uint64_t *a, const uint64_t *b, long n)
{
	long i, c = 0;

	for (i = 0; i < n; i++)
		c += a[i] && b[i] && a[i] != b[i];
	return c;
}

uint64_t *pfn_array(long n)
{
	uint64_t *p = calloc((size_t)n, sizeof(*p));

	if (!p)
		die("calloc");
	return p;
}

long pages_file(pid_t pid, const void *addr, long n)
{
	uint64_t *pm = pfn_array(n);
	long i, c = 0;

	pagemap_read(pid, addr, n, pm);
	for (i = 0; i < n; i++)
		c += (pm[i] & PM_PRESENT) && (pm[i] & PM_FILE);
	free(pm);
	return c;
}

void out_pfns(const char *key, const uint64_t *pfn, long n)
{
	size_t size = (size_t)n * 20 + 1, len = 0;
	char *s = malloc(size);
	long i;

	if (!s)
		die("malloc");
	s[0] = 0;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s0x%llx", i ? "," : "",
					(unsigned long long)pfn[i]);
	out_kv(key, "%s", s);
	free(s);
}

long pfns_count_flags(const uint64_t *pfn, long n, uint64_t kpf_mask)
{
	long i, c = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		die("kpageflags");
	for (i = 0; i < n; i++) {
		uint64_t fl;

		if (!pfn[i])
			continue;
		if (pread(fd, &fl, sizeof(fl), (off_t)(pfn[i] * sizeof(fl))) != sizeof(fl))
			die("kpageflags");
		c += !!(fl & kpf_mask);
	}
	close(fd);
	return c;
}

long huge_count(pid_t pid, const void *addr, long n)
{
	uint64_t *pfn = pfn_array(n);
	long c;

	pfns_read(pid, addr, n, pfn);
	c = pfns_count_flags(pfn, n, KPF_HUGE | KPF_THP);
	free(pfn);
	return c;
}

void pfns_verbose(const struct opts *o, const char *label, const uint64_t *pfn, long n)
{
	long i;

	if (!o->verbose)
		return;
	for (i = 0; i < n; i++) {
		char idx[32];

		snprintf(idx, sizeof(idx), "%ld", i);
		out_begin("pfn", idx);
		out_kv("which", "%s", label);
		out_kv("value", "0x%llx", (unsigned long long)pfn[i]);
		out_end();
	}
}

/* ----------------------------------------------------------------- buffers */

void *buf_map(const struct opts *o, size_t *len)
{
	size_t l = (size_t)o->pages * PAGE_SZ;
	char *p;

	*len = l;
	switch (o->mem) {
	case MEM_HUGETLB:
		p = mmap(NULL, l, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			die_msg("mmap_hugetlb", "MAP_HUGETLB failed (set /proc/sys/vm/nr_hugepages)");
		return p;
	case MEM_THP: {
		/* 2 MiB aligned so that the first touch maps a PMD THP. */
		char *raw = mmap(NULL, l + HUGE_SZ, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		size_t head;

		if (raw == MAP_FAILED)
			die("mmap");
		head = (HUGE_SZ - ((uintptr_t)raw & (HUGE_SZ - 1))) & (HUGE_SZ - 1);
		if (head)
			munmap(raw, head);
		p = raw + head;
		if (HUGE_SZ - head)
			munmap(p + l, HUGE_SZ - head);
		if (madvise(p, l, MADV_HUGEPAGE))
			die("madvise_hugepage");
		return p;
	}
	default:
		return anon_map(l);
	}
}

void *anon_map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* Small buffers must be plain 4 KiB folios on every kernel. */
	if (madvise(p, len, MADV_NOHUGEPAGE))
		die("madvise_nohugepage");
	return p;
}

int file_create(const char *path, size_t len, char c)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *pat = malloc(len);

	if (fd < 0)
		die("open_file");
	if (!pat)
		die("malloc");
	memset(pat, c, len);
	if (write(fd, pat, len) != (ssize_t)len)
		die("write_file");
	free(pat);
	return fd;
}

void buf_fill(void *p, size_t len, char c)
{
	memset(p, c, len);
}

static long count_pages(const char *p, long pages, char c)
{
	long i, n = 0;
	size_t j;

	for (i = 0; i < pages; i++) {
		const char *pg = p + (size_t)i * PAGE_SZ;

		for (j = 0; j < PAGE_SZ && pg[j] == c; j++)
			;
		n += j == PAGE_SZ;
	}
	return n;
}

long buf_count_pages(const void *p, long pages, char c)
{
	return count_pages(p, pages, c);
}

/* A malloc'ed copy of n pages of pid's memory at addr, read through /proc/pid/mem. */
static char *proc_mem_read(pid_t pid, const void *addr, long pages)
{
	size_t len = (size_t)pages * PAGE_SZ;
	char *tmp = malloc(len);
	int fd = open_proc(pid, "mem", O_RDONLY);

	if (!tmp)
		die("malloc");
	if (pread(fd, tmp, len, (off_t)(uintptr_t)addr) != (ssize_t)len)
		die("proc_mem");
	close(fd);
	return tmp;
}

long proc_mem_count_pages(pid_t pid, const void *addr, long pages, char c)
{
	char *tmp = proc_mem_read(pid, addr, pages);
	long n = count_pages(tmp, pages, c);

	free(tmp);
	return n;
}

long proc_mem_same_pages(pid_t pid, const void *addr, long pages, const void *buf)
{
	char *tmp = proc_mem_read(pid, addr, pages);
	long i, n = 0;

	for (i = 0; i < pages; i++)
		n += !memcmp(tmp + i * PAGE_SZ, (const char *)buf + i * PAGE_SZ, PAGE_SZ);
	free(tmp);
	return n;
}

/* ------------------------------------------------------- userfaultfd holder */

static void uffd_resolve(struct uffd_hold *h)
{
	struct uffdio_copy cp;
	char *src = mmap(NULL, h->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (src == MAP_FAILED)
		die("mmap");
	memset(src, h->fill, h->len);
	memset(&cp, 0, sizeof(cp));
	cp.dst = (uintptr_t)h->addr;
	cp.src = (uintptr_t)src;
	cp.len = h->len;
	if (ioctl(h->uffd, UFFDIO_COPY, &cp) && errno != EEXIST)
		die("uffdio_copy");
	munmap(src, h->len);
}

static void *uffd_thread(void *arg)
{
	struct uffd_hold *h = arg;

	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = h->uffd, .events = POLLIN },
			{ .fd = h->wake[0], .events = POLLIN },
		};
		struct uffd_msg msg;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[1].revents)
			return NULL;
		if (!(pf[0].revents & POLLIN))
			continue;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
			if (errno == EAGAIN)
				continue;
			die("uffd_read");
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (h->faults++ == 0 && h->on_fault)
			h->on_fault(h);
		uffd_resolve(h);
	}
}

void uffd_hold_start(struct uffd_hold *h)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	struct uffdio_register reg;

	h->faults = 0;
	if (h->no_hold) {
		memset(h->addr, h->fill, h->len);
		return;
	}
	/* No UFFD_USER_MODE_ONLY: the fault we wait for is a kernel-mode one. */
	h->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (h->uffd < 0)
		die("userfaultfd");
	if (ioctl(h->uffd, UFFDIO_API, &api))
		die("uffdio_api");
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)h->addr;
	reg.range.len = h->len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(h->uffd, UFFDIO_REGISTER, &reg))
		die("uffdio_register");
	if (pipe(h->wake))
		die("pipe");
	if (pthread_create(&h->thr, NULL, uffd_thread, h))
		die("pthread_create");
}

void uffd_hold_finish(struct uffd_hold *h)
{
	if (h->no_hold) {
		if (h->on_fault)
			h->on_fault(h);
		h->faults = 0;
		return;
	}
	if (write(h->wake[1], "x", 1) != 1)
		die("write");
	pthread_join(h->thr, NULL);
	close(h->wake[0]);
	close(h->wake[1]);
	close(h->uffd);
}

/* ------------------------------------- process_vm_readv/-writev held by uffd */

void pvm_hold_init(struct uffd_hold *h, size_t len, char fill, int no_hold,
		   void (*on_fault)(struct uffd_hold *h), void *arg)
{
	memset(h, 0, sizeof(*h));
	h->addr = anon_map(len);
	h->len = len;
	h->fill = fill;
	h->no_hold = no_hold;
	h->on_fault = on_fault;
	h->arg = arg;
}

double pvm_xfer(struct uffd_hold *h, pid_t pid, void *remote, int write, long reps)
{
	struct iovec local = { .iov_base = h->addr, .iov_len = h->len };
	struct iovec rem = { .iov_base = remote, .iov_len = h->len };
	double t0;
	ssize_t n;

	uffd_hold_start(h);
	t0 = now_ms();
	for (long r = 0; r < reps; r++) {
		if (write)
			n = process_vm_writev(pid, &local, 1, &rem, 1, 0);
		else
			n = process_vm_readv(pid, &local, 1, &rem, 1, 0);
		if (n != (ssize_t)h->len)
			die(write ? "process_vm_writev" : "process_vm_readv");
	}
	t0 = now_ms() - t0;
	uffd_hold_finish(h);
	return t0;
}

/* ---------------------------------------------------------- target process */

static void target_loop(struct target *t, int cmd_r, int ack_w)
{
	volatile char *p = t->addr;
	char c[2];
	size_t i;
	long page;
	unsigned sum = 0;

	for (;;) {
		if (read(cmd_r, c, 2) != 2)
			_exit(0);
		switch (c[0]) {
		case 'R':
			for (i = 0; i < t->len; i += PAGE_SZ)
				sum += p[i];
			break;
		case 'W':
			memset((void *)p, c[1], t->len);
			break;
		case 'r':
		case 'w':
			if (read(cmd_r, &page, sizeof(page)) != sizeof(page) ||
			    page < 0 || (size_t)page >= t->len / PAGE_SZ)
				_exit(1);
			if (c[0] == 'r')
				sum += p[(size_t)page * PAGE_SZ];
			else
				memset((void *)(p + (size_t)page * PAGE_SZ), c[1], PAGE_SZ);
			break;
		case 'Q':
			_exit(0);
		}
		if (write(ack_w, "k", 1) != 1)
			_exit(1);
	}
	(void)sum;
}

void target_spawn(struct target *t, void *addr, size_t len)
{
	int cmd[2], ack[2];

	t->addr = addr;
	t->len = len;
	if (pipe(cmd) || pipe(ack))
		die("pipe");
	fflush(stdout);
	t->pid = fork();
	if (t->pid < 0)
		die("fork");
	if (t->pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		target_loop(t, cmd[0], ack[1]);
		_exit(0);
	}
	close(cmd[0]);
	close(ack[1]);
	t->cmd_w = cmd[1];
	t->ack_r = ack[0];
}

void target_cmd(struct target *t, char op, char arg)
{
	char c[2] = { op, arg }, k;

	if (write(t->cmd_w, c, 2) != 2)
		die("target_cmd");
	if (read(t->ack_r, &k, 1) != 1)
		die_msg("target_cmd", "target died");
}

void target_cmd_page(struct target *t, char op, char arg, long page)
{
	char c[2 + sizeof(page)] = { op, arg }, k;

	memcpy(c + 2, &page, sizeof(page));
	if (write(t->cmd_w, c, sizeof(c)) != (ssize_t)sizeof(c))
		die("target_cmd");
	if (read(t->ack_r, &k, 1) != 1)
		die_msg("target_cmd", "target died");
}

void target_quit(struct target *t)
{
	char c[2] = { 'Q', 0 };
	int st;

	if (write(t->cmd_w, c, 2) != 2)
		die("target_quit");
	close(t->cmd_w);
	close(t->ack_r);
	if (waitpid(t->pid, &st, 0) != t->pid)
		die("waitpid");
}

/* -------------------------------------------------------------------- misc */

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

double cpu_ms(void)
{
	return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

const char *kernel_release(void)
{
	static struct utsname u;

	if (uname(&u))
		return "unknown";
	return u.release;
}
