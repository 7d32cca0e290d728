// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring workloads (raw io_uring_setup / io_uring_register syscalls).
 *
 * iouring-reg: map --pages of --mem memory, write it, IORING_REGISTER_BUFFERS
 * it as one iovec (pin_user_pages*(FOLL_WRITE|FOLL_LONGTERM): long-term R/W
 * pins), hold --hold-ms, IORING_UNREGISTER_BUFFERS.
 *   workload=iouring-reg mem=M pages=N huge=H pin=rw longterm=1 hold_ms=T no_hold=0|1 kernel=R
 *   pfn=I which=registered value=PFN   with --verbose: the buffer's pages after REGISTER
 *   phase=registered acquired= released= outstanding=   right after REGISTER returned
 *   phase=hold       acquired= released= outstanding=   after hold_ms, before UNREGISTER
 *   phase=after      acquired= released= outstanding=   after UNREGISTER returned
 *   (huge = 4 KiB pages of the buffer that kpageflags shows as THP/hugetlb)
 *   --no-hold: UNREGISTER right after REGISTER, before phase=registered.
 *   --no-hold --repeat N (N > 1): REGISTER + UNREGISTER N times (make bench),
 *   the phases count all of them, then
 *   phase=loop repeat=N loop_ms=MS loop_cpu_ms=MS   all N REGISTER + UNREGISTER
 *                 pairs (6.1's UNREGISTER waits ~12 ms for an RCU grace period:
 *                 loop_cpu_ms leaves that out)
 *
 * pin-fork: as above, then fork while the pin is held (fork copies
 * maybe-pinned anon pages for the child eagerly: doc/kernel.md, "fork's
 * eager copy"), then the parent
 * writes every page, holds --hold-ms, unregisters.
 *   workload=pin-fork mem=M pages=N huge=H pin=rw longterm=1 hold_ms=T no_hold=0|1 kernel=R
 *   phase=hold    acquired= released= outstanding=      after REGISTER
 *   phase=forked  acquired= released= outstanding= child_differs=C parent_same=P child_huge=H
 *                 C: pages whose child PFN != parent PFN right after fork
 *                 P: pages whose parent PFN == its PFN before fork
 *                 H: child pages that are part of a THP/hugetlb folio
 *   phase=written acquired= released= outstanding= parent_same=P parent_changed=X
 *                 after the parent wrote every page (pin still held)
 *   phase=after   acquired= released= outstanding= child_old=K
 *                 after UNREGISTER; K: child pages still holding the
 *                 pre-fork content (read via /proc/pid/mem = FOLL_GET)
 *   --no-hold: UNREGISTER before phase=hold (so before the fork).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/io_uring.h>

#include "gwload.h"

int uring_setup(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (fd < 0)
		die("io_uring_setup");
	return fd;
}

void uring_register(int fd, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1))
		die("io_uring_register_buffers");
}

void uring_unregister(int fd)
{
	if (syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, NULL, 0))
		die("io_uring_unregister_buffers");
}

static void header(const struct opts *o, const void *buf)
{
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem_name(o->mem));
	out_kv("pages", "%ld", o->pages);
	out_kv("huge", "%ld", huge_count(0, buf, o->pages));
	out_kv("pin", "rw");
	out_kv("longterm", "1");
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	out_end();
}

int wl_iouring_reg(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	long repeat = o->no_hold && o->repeat > 1 ? o->repeat : 1, i;
	double t0, t1, c0, c1;
	int ring;

	buf_fill(buf, len, 'a');
	header(o, buf);
	ring = uring_setup();

	pins_baseline();
	t0 = now_ms();
	c0 = cpu_ms();
	for (i = 0; i < repeat; i++) {
		uring_register(ring, buf, len);
		if (o->no_hold)
			uring_unregister(ring);
	}
	c1 = cpu_ms();
	t1 = now_ms();
	if (o->verbose) { /* where the pinned pages are, for gupwatch blockers */
		uint64_t *pfn = pfn_array(o->pages);

		pfns_read(0, buf, o->pages, pfn);
		pfns_verbose(o, "registered", pfn, o->pages);
		free(pfn);
	}
	out_phase("registered");
	sleep_ms(o->hold_ms);
	out_phase("hold");
	if (!o->no_hold)
		uring_unregister(ring);
	out_phase("after");
	if (repeat > 1)
		out_loop(repeat, t1 - t0, c1 - c0);
	close(ring);
	return 0;
}

/*
 * iouring-fault: map --pages, unmap the first, IORING_REGISTER_BUFFERS the
 * whole range: the long-term pin call fails at its first page (EFAULT),
 * pinning nothing; with --no-hold the first page stays mapped (it succeeds).
 *   workload=iouring-fault pages=N kernel=R
 *   phase=registered acquired= released= outstanding= errno=E   E: 0 on success (then
 *   it unregisters before it exits)
 */
int wl_iouring_fault(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	int ring, err = 0;

	buf_fill(buf, len, 'a');
	if (!o->no_hold && munmap(buf, 4096))
		die("munmap");
	out_begin("workload", o->workload);
	out_kv("pages", "%ld", o->pages);
	out_kv("kernel", "%s", kernel_release());
	out_end();
	ring = uring_setup();
	pins_baseline();
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1))
		err = errno;
	out_begin("phase", "registered");
	out_pins();
	out_kv("errno", "%d", err);
	out_end();
	if (!err) /* unpinned now: closing the ring would unpin later, in a kernel worker */
		uring_unregister(ring);
	close(ring);
	return 0;
}

/*
 * movable-pin (run in a guest booted with movablecore=): fault --pages of
 * anon memory, which the allocator takes from ZONE_MOVABLE first, vmsplice
 * it into a pipe (FOLL_GET references the pipe keeps), then
 * IORING_REGISTER_BUFFERS it: a long-term pin must migrate the pages out of
 * ZONE_MOVABLE first, and the pipe's references make that migration fail.
 * --no-hold: no vmsplice, so the migration and the registration succeed.
 *   workload=movable-pin pages=N no_hold=0|1 kernel=R
 *   phase=registered acquired= released= outstanding= errno=E before=PFN,... after=PFN,...
 *   (PFNs of the buffer before and after the registration; E: 0 on success, then it
 *   unregisters)
 */
int wl_movable_pin(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	uint64_t *before = pfn_array(o->pages), *after = pfn_array(o->pages);
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	int ring, err = 0, p[2] = { -1, -1 };

	buf_fill(buf, len, 'a');
	out_begin("workload", o->workload);
	out_kv("pages", "%ld", o->pages);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	out_end();
	pfns_read(0, buf, o->pages, before);
	if (!o->no_hold) {
		if (pipe(p))
			die("pipe");
		if (fcntl(p[1], F_SETPIPE_SZ, (int)len) < (int)len)
			die("f_setpipe_sz");
		if (vmsplice(p[1], &iov, 1, 0) != (ssize_t)len)
			die("vmsplice");
	}
	ring = uring_setup();
	pins_baseline();
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1))
		err = errno;
	pfns_read(0, buf, o->pages, after);
	out_begin("phase", "registered");
	out_pins();
	out_kv("errno", "%d", err);
	out_pfns("before", before, o->pages);
	out_pfns("after", after, o->pages);
	out_end();
	if (!err)
		uring_unregister(ring);
	close(ring);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	free(before);
	free(after);
	return 0;
}

int wl_pin_fork(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	uint64_t *before = calloc((size_t)o->pages, 8), *parent = calloc((size_t)o->pages, 8);
	uint64_t *child = calloc((size_t)o->pages, 8);
	struct target t;
	int ring;

	if (!before || !parent || !child)
		die("calloc");
	buf_fill(buf, len, 'a');
	header(o, buf);
	ring = uring_setup();

	pins_baseline();
	uring_register(ring, buf, len);
	if (o->no_hold)
		uring_unregister(ring);
	out_phase("hold");

	pfns_read(0, buf, o->pages, before);
	target_spawn(&t, buf, len);
	pfns_read(0, buf, o->pages, parent);
	pfns_read(t.pid, buf, o->pages, child);
	pfns_verbose(o, "parent_before_fork", before, o->pages);
	pfns_verbose(o, "parent_after_fork", parent, o->pages);
	pfns_verbose(o, "child_after_fork", child, o->pages);
	out_begin("phase", "forked");
	out_pins();
	out_kv("child_differs", "%ld", pfns_count_ne(child, parent, o->pages));
	out_kv("parent_same", "%ld", pfns_count_eq(parent, before, o->pages));
	out_kv("child_huge", "%ld", huge_count(t.pid, buf, o->pages));
	out_end();

	buf_fill(buf, len, 'b');
	pfns_read(0, buf, o->pages, parent);
	pfns_verbose(o, "parent_after_write", parent, o->pages);
	out_begin("phase", "written");
	out_pins();
	out_kv("parent_same", "%ld", pfns_count_eq(parent, before, o->pages));
	out_kv("parent_changed", "%ld", pfns_count_ne(parent, before, o->pages));
	out_end();

	sleep_ms(o->hold_ms);
	if (!o->no_hold)
		uring_unregister(ring);
	out_begin("phase", "after");
	out_pins();
	out_kv("child_old", "%ld", proc_mem_count_pages(t.pid, buf, o->pages, 'a'));
	out_end();
	target_quit(&t);
	close(ring);
	return 0;
}
