// SPDX-License-Identifier: GPL-2.0
/*
 * fork/COW workloads without pins.
 *
 * cow-fork: write --pages of --mem memory ('a'), fork (the child idles),
 * then the parent writes every page ('b'): every write is a COW fault that
 * copies (the page is shared with the child), no GUP at all.
 *   workload=cow-fork mem=M pages=N huge=H pin=none hold_ms=T no_hold=0|1 kernel=R
 *   phase=forked  acquired= released= outstanding= child_same=S
 *                 S: child pages mapping the parent's pre-fork PFN
 *   phase=written acquired= released= outstanding= parent_changed=C parent_huge=H write_ms=MS
 *                 populate_ms=P
 *                 C: parent pages whose PFN differs from before the fork
 *                 H: parent pages now in a THP/hugetlb folio (THP COW copies
 *                    4 KiB pages, hugetlb COW a whole huge page)
 *                 P: how long the first write took (anonymous faults: no COW, no pin)
 *   phase=after   acquired= released= outstanding= child_old=K
 *                 K: child pages still holding 'a' (read via /proc/pid/mem)
 *   --no-hold: no fork (so no COW: parent_changed=0).
 *
 * vmsplice-fork (doc/kernel.md, G3): write the buffer ('a'), vmsplice() it into a
 * pipe (no SPLICE_F_GIFT: the pipe takes FOLL_GET references, not pins),
 * fork, the parent writes 'b' (COW copies away from the referenced pages),
 * then read the pipe: it still yields the old 'a'.
 *   workload=vmsplice-fork mem=M pages=N huge=H pin=get hold_ms=T no_hold=0|1 kernel=R
 *   phase=spliced acquired= released= outstanding= spliced=BYTES
 *   phase=forked  acquired= released= outstanding= child_same=S
 *   phase=written acquired= released= outstanding= parent_changed=C
 *   phase=after   acquired= released= outstanding= pipe_old=P pipe_new=Q child_old=K
 *                 P / Q: pages read back from the pipe holding 'a' / 'b'
 *   --no-hold: no fork: the page is not write-protected, the parent's write
 *   lands in the very page the pipe references (pipe_new=N, pipe_old=0).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "gwload.h"

static void header(const struct opts *o, const void *buf, const char *pin)
{
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem_name(o->mem));
	out_kv("pages", "%ld", o->pages);
	out_kv("huge", "%ld", huge_count(0, buf, o->pages));
	out_kv("pin", "%s", pin);
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	out_end();
}

struct forked {
	struct target t;
	int have_child;
};

static void fork_phase(const struct opts *o, struct forked *f, char *buf, size_t len,
		       const uint64_t *before, uint64_t *tmp)
{
	long same = 0;

	f->have_child = !o->no_hold;
	if (f->have_child) {
		target_spawn(&f->t, buf, len);
		pfns_read(f->t.pid, buf, o->pages, tmp);
		pfns_verbose(o, "child_after_fork", tmp, o->pages);
		same = pfns_count_eq(tmp, before, o->pages);
	}
	out_begin("phase", "forked");
	out_pins();
	out_kv("child_same", "%ld", same);
	out_end();
}

static long child_old(const struct opts *o, struct forked *f, char *buf)
{
	return f->have_child ? proc_mem_count_pages(f->t.pid, buf, o->pages, 'a') : 0;
}

int wl_cow_fork(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	uint64_t *before = calloc((size_t)o->pages, 8), *cur = calloc((size_t)o->pages, 8);
	struct forked f;
	double t0, t1, populate_ms;

	if (!before || !cur)
		die("calloc");
	t0 = now_ms();
	buf_fill(buf, len, 'a');
	populate_ms = now_ms() - t0;
	header(o, buf, "none");
	pfns_read(0, buf, o->pages, before);
	pfns_verbose(o, "parent_before", before, o->pages);

	pins_baseline();
	fork_phase(o, &f, buf, len, before, cur);

	t0 = now_ms();
	buf_fill(buf, len, 'b');
	t1 = now_ms();
	pfns_read(0, buf, o->pages, cur);
	pfns_verbose(o, "parent_after_write", cur, o->pages);
	out_begin("phase", "written");
	out_pins();
	out_kv("parent_changed", "%ld", pfns_count_ne(cur, before, o->pages));
	out_kv("parent_huge", "%ld", huge_count(0, buf, o->pages));
	out_kv("write_ms", "%.3f", t1 - t0);
	out_kv("populate_ms", "%.3f", populate_ms);
	out_end();

	sleep_ms(o->hold_ms);
	out_begin("phase", "after");
	out_pins();
	out_kv("child_old", "%ld", child_old(o, &f, buf));
	out_end();
	if (f.have_child)
		target_quit(&f.t);
	return 0;
}

int wl_vmsplice_fork(const struct opts *o)
{
	size_t len, got = 0;
	char *buf = buf_map(o, &len), *back;
	uint64_t *before = calloc((size_t)o->pages, 8), *cur = calloc((size_t)o->pages, 8);
	struct iovec iov;
	struct forked f;
	int p[2];
	ssize_t n;

	if (!before || !cur)
		die("calloc");
	buf_fill(buf, len, 'a');
	header(o, buf, "get");
	pfns_read(0, buf, o->pages, before);
	if (pipe(p))
		die("pipe");
	if (fcntl(p[1], F_SETPIPE_SZ, (int)len) < (int)len)
		die("f_setpipe_sz");

	pins_baseline();
	iov.iov_base = buf;
	iov.iov_len = len;
	n = vmsplice(p[1], &iov, 1, 0);
	if (n != (ssize_t)len)
		die("vmsplice");
	out_begin("phase", "spliced");
	out_pins();
	out_kv("spliced", "%zd", n);
	out_end();

	fork_phase(o, &f, buf, len, before, cur);

	buf_fill(buf, len, 'b');
	pfns_read(0, buf, o->pages, cur);
	out_begin("phase", "written");
	out_pins();
	out_kv("parent_changed", "%ld", pfns_count_ne(cur, before, o->pages));
	out_end();

	sleep_ms(o->hold_ms);
	back = malloc(len);
	if (!back)
		die("malloc");
	while (got < len) {
		n = read(p[0], back + got, len - got);
		if (n <= 0)
			die("read_pipe");
		got += (size_t)n;
	}
	out_begin("phase", "after");
	out_pins();
	out_kv("pipe_old", "%ld", buf_count_pages(back, o->pages, 'a'));
	out_kv("pipe_new", "%ld", buf_count_pages(back, o->pages, 'b'));
	out_kv("child_old", "%ld", child_old(o, &f, buf));
	out_end();
	if (f.have_child)
		target_quit(&f.t);
	return 0;
}
