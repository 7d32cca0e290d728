// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads driving the test pin device /dev/gwpin (tests/pindrv, module
 * gwpin.ko): the device FOLL_PIN-pins pages of this process -- R/O or R/W,
 * FOLL_LONGTERM, with pin_user_pages() or (--fast) pin_user_pages_fast() --
 * keeps them, and reads what it sees through the pinned pages.  Everything
 * is pinned by and written by this process (pid=).  All pins are long-term.
 *
 * Common keys: pfns= / dev_pfns= are comma lists (hex, one per page, in
 * address order) of the PFNs this process maps (/proc/self/pagemap) and of
 * the pages the device holds pinned (0: not pinned).  dev_same: pages whose
 * device PFN equals the process's PFN.  dev_old / dev_new: pages the device
 * reads as entirely the old / the new content.
 *
 * pindrv-stale (doc/kernel.md, G1): a file (--file) of 'F' mapped MAP_PRIVATE and
 * read-faulted (page cache pages mapped R/O), R/O long-term pin, then we
 * write 'W' to every page.  6.1 does not unshare non-anon pages for a R/O
 * pin: the write copies the page away and the device keeps the file page
 * (stale).  6.12 unshares at pin time (FAULT_FLAG_UNSHARE: a private anon
 * copy is pinned), the write reuses it and the device sees the write.
 *   workload=pindrv-stale mem=file pages=N pin=ro longterm=1 gup=slow|fast hold_ms=T no_hold=0|1 kernel=R file=PATH
 *   phase=mapped  acquired= released= outstanding= pid=P addr=A pfns= file=F
 *                 F: pages pagemap flags file-backed
 *   phase=pinned  acquired= released= outstanding= moved=M file=F dev_same=S pfns= dev_pfns=
 *                 M: pages whose PFN changed since mapped (unshared by the pin)
 *                 (with --write-when PATH, the write waits until PATH exists)
 *   phase=written acquired= released= outstanding= changed=C file=F dev_same=S dev_old=O dev_new=W pfns= dev_pfns=
 *                 C: pages whose PFN the write changed (copied away from the pin)
 *   phase=after   acquired= released= outstanding=            after --hold-ms and the unpin
 *
 * pindrv-unshare: anon pages ('a') shared with a forked child (idle), then a
 * R/O long-term pin in the parent: GUP unshares them (the parent gets copies,
 * the pin is on the copies); the parent's later write 'b' reuses them.
 *   workload=pindrv-unshare mem=M pages=N pin=ro longterm=1 gup= ...
 *   phase=forked  acquired= released= outstanding= child_same=S pid=P child_pid=C addr=A pfns=
 *                 S: child pages mapping the parent's PFN
 *   phase=pinned  acquired= released= outstanding= moved=M child_same=S dev_same=D pfns= dev_pfns=
 *   phase=written acquired= released= outstanding= changed=C dev_same=D dev_old=O dev_new=W
 *   phase=after   acquired= released= outstanding= child_old=K   K: child pages still 'a'
 *
 * pindrv-forkcopy: R/W long-term pin of exclusive anon pages ('a'), then
 * fork: fork copies pinned pages for the child instead of sharing them; the
 * parent's write 'b' lands in the pinned pages without a COW fault.
 *   workload=pindrv-forkcopy mem=M pages=N pin=rw longterm=1 gup= ...
 *   phase=pinned  acquired= released= outstanding= moved=M dev_same=D pid=P addr=A pfns= dev_pfns=
 *   phase=forked  acquired= released= outstanding= child_same=S child_pid=C child_pfns=
 *   phase=written acquired= released= outstanding= changed=C dev_same=D dev_old=O dev_new=W
 *   phase=after   acquired= released= outstanding= child_old=K
 *
 * pindrv-zero: anon pages (MADV_NOHUGEPAGE) only read-faulted: each maps
 * the shared zero page.  A R/O long-term pin: 6.1 hands the device the zero
 * page itself and takes no pin (vmstat does not move); 6.12 unshares first
 * (gup_must_unshare() is true for the zero page in a COW mapping: a private
 * zeroed copy is pinned).  Then we write 'W': on 6.1 the write maps a new
 * page and the device keeps reading zeros (stale for good); on 6.12 the
 * write lands in the pinned copy.
 *   workload=pindrv-zero mem=anon pages=N pin=ro longterm=1 gup= ...
 *   phase=mapped  acquired= released= outstanding= pid=P addr=A pfns= zero=Z
 *                 Z: pages mapping the zero page (/proc/kpageflags ZERO_PAGE)
 *   phase=pinned  acquired= released= outstanding= moved=M dev_same=S pfns= dev_pfns= dev_zero=D
 *                 D: pages the device holds that are the zero page
 *   phase=written acquired= released= outstanding= changed=C dev_same=S dev_old=O dev_new=W
 *                 dev_old: pages the device reads as all zeros though we wrote 'W'
 *   phase=after   acquired= released= outstanding=
 *
 * --no-hold: the device unpins right after pinning (before the pinned-phase
 * sample): no pin outstanding, no unshare kept, fork shares, the write COWs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "gwload.h"
#include "../pindrv/gwpin.h"

#define GWPIN_DEV "/dev/gwpin"

struct dev {
	int fd;
	long n;
	uint64_t *pfn;		/* device's pinned PFNs, 0 = not pinned */
	long old, new;		/* pages read entirely == old / new */
};

static void dev_open(struct dev *d, long n)
{
	if (n > GWPIN_MAX_PAGES)
		die_msg("pindrv", "--pages exceeds GWPIN_MAX_PAGES (64)");
	d->fd = open(GWPIN_DEV, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		die_msg("open_gwpin", errno == ENOENT ? "no /dev/gwpin: insmod gwpin.ko (tests/pindrv)"
						      : "cannot open /dev/gwpin");
	d->n = n;
	d->pfn = calloc((size_t)n, sizeof(*d->pfn));
	if (!d->pfn)
		die("calloc");
}

static void dev_unpin(struct dev *d)
{
	if (ioctl(d->fd, GWPIN_UNPIN) && errno != ENOENT)
		die("gwpin_unpin");
}

static void dev_pin(const struct opts *o, struct dev *d, void *addr, unsigned int flags)
{
	struct gwpin_pin p = {
		.addr = (uintptr_t)addr, .npages = (uint32_t)d->n,
		.flags = flags | GWPIN_F_LONGTERM | (o->gup_fast ? GWPIN_F_FAST : 0),
	};

	if (ioctl(d->fd, GWPIN_PIN, &p))
		die("gwpin_pin");
	if (o->no_hold)
		dev_unpin(d);
}

/* What the device sees through each pinned page. */
static void dev_read(struct dev *d, char old, char new)
{
	char *page = malloc(PAGE_SZ);
	long i;

	if (!page)
		die("malloc");
	d->old = d->new = 0;
	for (i = 0; i < d->n; i++) {
		struct gwpin_read r = { .index = (uint32_t)i, .len = PAGE_SZ, .buf = (uintptr_t)page };

		d->pfn[i] = 0;
		if (ioctl(d->fd, GWPIN_READ, &r)) {
			if (errno == ENOENT)	/* nothing pinned (--no-hold) */
				continue;
			die("gwpin_read");
		}
		d->pfn[i] = r.pfn;
		d->old += buf_count_pages(page, 1, old);
		d->new += buf_count_pages(page, 1, new);
	}
	free(page);
}

static void header(const struct opts *o, const char *mem, const char *pin)
{
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem);
	out_kv("pages", "%ld", o->pages);
	out_kv("pin", "%s", pin);
	out_kv("longterm", "1");
	out_kv("gup", "%s", o->gup_fast ? "fast" : "slow");
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	if (!strcmp(mem, "file"))
		out_kv("file", "%s", o->file);
	out_end();
}

static void dev_kv(const struct dev *d, const uint64_t *pfn, int data)
{
	out_kv("dev_same", "%ld", pfns_count_eq(d->pfn, pfn, d->n));
	if (data) {
		out_kv("dev_old", "%ld", d->old);
		out_kv("dev_new", "%ld", d->new);
	}
}

static void hold_and_unpin(const struct opts *o, struct dev *d)
{
	sleep_ms(o->hold_ms);
	dev_unpin(d);
}

/*
 * Pin buf through the device (flags: GWPIN_F_*), let it read expecting old or
 * new data, and open the "pinned" phase record with the PFNs: the caller adds
 * its own keys and ends the record.
 */
static void pin_phase(const struct opts *o, struct dev *d, char *buf, uint32_t flags,
		      const uint64_t *before, uint64_t *cur, char old, char new)
{
	dev_pin(o, d, buf, flags);
	pfns_read(0, buf, d->n, cur);
	dev_read(d, old, new);
	out_begin("phase", "pinned");
	out_pins();
	out_kv("moved", "%ld", pfns_count_ne(cur, before, d->n));
	dev_kv(d, cur, 0);
	out_pfns("pfns", cur, d->n);
	out_pfns("dev_pfns", d->pfn, d->n);
}

/*
 * Write new over buf with the pin held, let the device read, and open the
 * "written" phase record (changed: PFNs that differ from since): the caller
 * adds its own keys and ends the record.
 */
static void write_phase(struct dev *d, char *buf, size_t len, const uint64_t *since, uint64_t *cur,
			char old, char new)
{
	buf_fill(buf, len, new);
	pfns_read(0, buf, d->n, cur);
	dev_read(d, old, new);
	out_begin("phase", "written");
	out_pins();
	out_kv("changed", "%ld", pfns_count_ne(cur, since, d->n));
	dev_kv(d, cur, 1);
}

/* Anonymous (or --mem) memory filled with 'a', the device opened, the header printed. */
static char *anon_setup(const struct opts *o, struct dev *d, size_t *len, const char *pin,
			uint64_t *before)
{
	char *buf = buf_map(o, len);

	dev_open(d, o->pages);
	buf_fill(buf, *len, 'a');
	header(o, mem_name(o->mem), pin);
	pfns_read(0, buf, o->pages, before);
	return buf;
}

/*
 * Read-fault every page of buf (mapped R/O: page cache pages, or the zero
 * page), note their PFNs in before, take the pin baseline and open the
 * "mapped" record with pid, addr and pfns: the caller adds its keys and ends it.
 */
static void mapped_phase(char *buf, long n, uint64_t *before)
{
	volatile char sink = 0;
	long i;

	for (i = 0; i < n; i++)
		sink += buf[i * (long)PAGE_SZ];
	(void)sink;
	pfns_read(0, buf, n, before);
	pins_baseline();
	out_begin("phase", "mapped");
	out_pins();
	out_kv("pid", "%d", (int)getpid());
	out_kv("addr", "%p", (void *)buf);
	out_pfns("pfns", before, n);
}

int wl_pindrv_stale(const struct opts *o)
{
	long n = o->pages;
	size_t len = (size_t)n * PAGE_SZ;
	uint64_t *before = pfn_array(n), *pinned = pfn_array(n), *cur = pfn_array(n);
	struct dev d;
	char *buf;
	int fd;

	if (o->mem != MEM_ANON)
		die_msg("pindrv-stale", "--mem does not apply (the buffer is a file mapping)");
	dev_open(&d, n);
	fd = file_create(o->file, len, 'F');
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (buf == MAP_FAILED)
		die("mmap_file");
	close(fd);
	header(o, "file", "ro");
	mapped_phase(buf, n, before);	/* page cache pages mapped R/O */
	out_kv("file", "%ld", pages_file(0, buf, n));
	out_end();

	pin_phase(o, &d, buf, 0, before, pinned, 'F', 'W');
	out_kv("file", "%ld", pages_file(0, buf, n));
	out_end();

	while (o->write_when && access(o->write_when, F_OK))
		sleep_ms(10);
	write_phase(&d, buf, len, pinned, cur, 'F', 'W');
	out_kv("file", "%ld", pages_file(0, buf, n));
	out_pfns("pfns", cur, n);
	out_pfns("dev_pfns", d.pfn, n);
	out_end();

	hold_and_unpin(o, &d);
	out_phase("after");
	close(d.fd);
	munmap(buf, len);
	unlink(o->file);
	return 0;
}

int wl_pindrv_unshare(const struct opts *o)
{
	long n = o->pages;
	uint64_t *before = pfn_array(n), *cur = pfn_array(n), *child = pfn_array(n);
	struct target t;
	struct dev d;
	size_t len;
	char *buf = anon_setup(o, &d, &len, "ro", before);

	pins_baseline();
	target_spawn(&t, buf, len);	/* pages now COW-shared with the child */
	pfns_read(t.pid, buf, n, child);
	out_begin("phase", "forked");
	out_pins();
	out_kv("child_same", "%ld", pfns_count_eq(child, before, n));
	out_kv("pid", "%d", (int)getpid());
	out_kv("child_pid", "%d", (int)t.pid);
	out_kv("addr", "%p", (void *)buf);
	out_pfns("pfns", before, n);
	out_end();

	pin_phase(o, &d, buf, 0, before, cur, 'a', 'b');
	pfns_read(t.pid, buf, n, child);
	out_kv("child_same", "%ld", pfns_count_eq(child, before, n));
	out_end();

	memcpy(before, cur, (size_t)n * sizeof(*cur));
	write_phase(&d, buf, len, before, cur, 'a', 'b');
	out_end();

	hold_and_unpin(o, &d);
	out_begin("phase", "after");
	out_pins();
	out_kv("child_old", "%ld", proc_mem_count_pages(t.pid, buf, n, 'a'));
	out_end();
	target_quit(&t);
	close(d.fd);
	return 0;
}

int wl_pindrv_forkcopy(const struct opts *o)
{
	long n = o->pages;
	uint64_t *before = pfn_array(n), *cur = pfn_array(n), *child = pfn_array(n);
	struct target t;
	struct dev d;
	size_t len;
	char *buf = anon_setup(o, &d, &len, "rw", before);

	pins_baseline();
	pin_phase(o, &d, buf, GWPIN_F_WRITE, before, cur, 'a', 'b');
	out_kv("pid", "%d", (int)getpid());
	out_kv("addr", "%p", (void *)buf);
	out_end();

	memcpy(before, cur, (size_t)n * sizeof(*cur));
	target_spawn(&t, buf, len);
	pfns_read(t.pid, buf, n, child);
	out_begin("phase", "forked");
	out_pins();
	out_kv("child_same", "%ld", pfns_count_eq(child, before, n));
	out_kv("child_pid", "%d", (int)t.pid);
	out_pfns("child_pfns", child, n);
	out_end();

	write_phase(&d, buf, len, before, cur, 'a', 'b');
	out_end();

	hold_and_unpin(o, &d);
	out_begin("phase", "after");
	out_pins();
	out_kv("child_old", "%ld", proc_mem_count_pages(t.pid, buf, n, 'a'));
	out_end();
	target_quit(&t);
	close(d.fd);
	return 0;
}

int wl_pindrv_zero(const struct opts *o)
{
	long n = o->pages;
	uint64_t *before = pfn_array(n), *cur = pfn_array(n);
	struct dev d;
	size_t len;
	char *buf;

	if (o->mem != MEM_ANON)
		die_msg("pindrv-zero", "--mem must be anon (the zero page is a 4 KiB page)");
	buf = buf_map(o, &len);
	dev_open(&d, n);
	header(o, mem_name(o->mem), "ro");
	mapped_phase(buf, n, before);	/* the zero page, mapped R/O */
	out_kv("zero", "%ld", pfns_count_flags(before, n, KPF_ZERO_PAGE));
	out_end();

	pin_phase(o, &d, buf, 0, before, cur, 0, 'W');
	out_kv("dev_zero", "%ld", pfns_count_flags(d.pfn, n, KPF_ZERO_PAGE));
	out_end();

	memcpy(before, cur, (size_t)n * sizeof(*cur));
	write_phase(&d, buf, len, before, cur, 0, 'W');
	out_end();

	hold_and_unpin(o, &d);
	out_phase("after");
	close(d.fd);
	munmap(buf, len);
	return 0;
}
