// SPDX-License-Identifier: GPL-2.0
/*
 * Ground-truth scenarios for the STALE-PIN verdict: "a write copy (COW)
 * replaced a page that has an outstanding R/O pin taken through the
 * writer's own mm at the same address".  Each one is a near miss or a hit
 * of that rule, and prints, from the kernel alone (no gupwatch): who pins
 * (pinner_pid, 0 = nothing pins), who writes (writer_pid, 0 = nothing
 * writes), the first page's address, the PFNs involved (pagemap of the
 * right pid: key=0x..,0x.. one per page, 0 = not present), the vmstat pin
 * deltas, and whether the data the pinner received is stale relative to
 * what the *pinned* mm sees now (pinner_coherent / stale, compared page by
 * page through /proc/<pid>/mem).  The R/O pins are process_vm_readv held by
 * a userfaultfd-missing local buffer (pvm_xfer in common.c).  Every record
 * also has acquired= released= outstanding= (gwload.h).
 *
 * cross-mm: a file (--file, N pages of 'F') is mapped MAP_SHARED in target
 * S and MAP_PRIVATE in target T (both forked children; T read-faults it:
 * page cache pages mapped R/O).  We (P) R/O-pin S's pages; during the pin T
 * writes 'W' to every page of its private mapping: the write faults copy the
 * page cache pages away in T only.  Not stale: the pinned page is S's and
 * still S's; T's COW is in another mm.
 *   workload=cross-mm mem=file pages=N pin=ro longterm=0 hold_ms=T no_hold=0|1 kernel=R file=PATH
 *   phase=mapped  pinner_pid=P shared_pid=S private_pid=T writer_pid=T shared_addr=A
 *                 private_addr=B shared_file=F private_file=G same_pfn=E shared_pfns= private_pfns=
 *                 F/G: pages flagged file-backed in S's / T's pagemap
 *                 E: pages where T's PFN == S's PFN (the same page cache page)
 *   phase=hold    pinned_pfns= pinned_private_old=O     in the uffd handler, pin held
 *                 pinned_pfns: S's PFNs with the pin held (the pinned pages)
 *                 O: pages where T's PFN before its write == the pinned PFN
 *   phase=written private_changed=C private_file=X shared_same=S private_pfns= shared_pfns=
 *                 after T wrote every page, pin still held; C: T's PFNs that
 *                 changed (COW), X: T's pages still file-backed, S: S's PFNs == pinned
 *   phase=after   faults=F pinner_old=D pinner_coherent=K stale=N-K shared_old=E private_new=W
 *                 D: pages we received holding 'F'; K: pages we received equal to
 *                 what S sees now; E / W: S's pages holding 'F' / T's holding 'W'
 *
 * thp-file: a 2 MiB file (--file, on a tmpfs mounted huge=always: one
 * PMD-sized folio in the page cache) of 'F' is mapped MAP_PRIVATE, 2 MiB
 * aligned, in target T, which read-faults every page (PMD-mapped if the
 * kernel does so).  We R/O-pin ONE subpage, --pin-page K (default 0); during
 * the pin T writes 'W' to subpage --write-page J (default 1): the write
 * splits (zaps) T's PMD and do_cow_fault copies subpage J to a new anon page.
 * Afterwards T reads page K again (mapping it by PTE if the zap unmapped it).
 * K != J: not stale (T's page K is the pinned page again); K == J: stale.
 *   workload=thp-file mem=file pages=512 pin_page=K write_page=J pin=ro longterm=0 hold_ms=T
 *                 no_hold=0|1 kernel=R file=PATH
 *   phase=mapped  pinner_pid=P target_pid=T writer_pid=T addr=A pin_addr=B file=F huge=H
 *                 shmem_pmd_mapped_kb=M was_pmd_mapped=0|1 pin_page_pfn=X write_page_pfn=Y
 *                 A: the mapping's first page, B: page K; F: T's pages flagged
 *                 file-backed; H: T's pages in a THP folio (/proc/kpageflags);
 *                 M: ShmemPmdMapped of T's VMA (/proc/T/smaps); was_pmd_mapped = M == 2048;
 *                 X: T's PFN of page K before the pin (the page we pin), Y: of page J
 *   phase=hold    pin_page_pfn=X                         in the uffd handler, pin held
 *   phase=written shmem_pmd_mapped_kb=M pin_page_pfn= write_page_pfn= write_changed=0|1
 *                 after T wrote page J, pin still held (pin_page_pfn 0: the PMD zap
 *                 unmapped page K); write_changed: page J's PFN differs from before
 *   phase=after   faults=F pin_page_pfn= pin_page_same=0|1 pin_page_huge=0|1 write_page_pfn=
 *                 pinner_old=0|1 target_new=0|1 pinner_coherent=0|1 stale=0|1
 *                 after T read page K again: pin_page_same: T's page K is the pinned
 *                 PFN; pin_page_huge: it is (still) a THP subpage; pinner_old: we
 *                 received 'F'; target_new: T's page K holds 'W'; stale = !coherent
 *
 * shared-cow: the parent writes N anon pages ('a'), forks --children C
 * (default 1100) children that block on a pipe read (all share the pages),
 * then writes every page ('b'): COW copies, nothing pinned anywhere.  Then
 * it closes the pipe and reaps every child.
 *   workload=shared-cow mem=anon pages=N children=C pin=none hold_ms=T no_hold=0|1 kernel=R
 *   phase=forked  pinner_pid=0 writer_pid=P addr=A children=C fork_ms=MS child_pid=Q
 *                 first_child_same=S last_child_same=L parent_pfns=
 *                 S / L: first / last child's pages mapping the parent's pre-fork PFN
 *   phase=written parent_changed=X first_child_same=S last_child_same=L child_old=O
 *                 parent_new=W write_ms=MS parent_pfns= child_pfns=
 *                 X: parent PFNs that changed; O: first child's pages still 'a';
 *                 W: parent's pages 'b'; child_pfns: the first child's
 *   phase=after   reaped=C reap_ms=MS
 *   The pin counters are deltas since before the first fork (0 throughout).
 *   --no-hold: no children (no COW: parent_changed=0).
 *
 * unshare-held: the parent writes N anon pages ('a'), forks two targets (the
 * pages are mapped 3 ways).  We R/O-pin child 1's pages (GUP unshares: child 1
 * gets copies, then pins them).  Inside that pin's uffd handler, a second
 * process_vm_readv with its own uffd hold (our handler thread is the caller)
 * R/O-pins child 2's pages: another unshare copy while the first short-term
 * R/O pin is outstanding.  Nothing writes; nothing is stale.
 *   workload=unshare-held mem=anon pages=N pin=ro longterm=0 hold_ms=T no_hold=0|1 kernel=R
 *   phase=forked  pinner_pid=P child1_pid=A child2_pid=B writer_pid=0 addr=X
 *                 child1_same=S1 child2_same=S2 parent_pfns=
 *   phase=hold1   child1_changed= child2_changed= parent_same=   first pin held
 *   phase=hold2   child1_changed= child2_changed= parent_same= child1_pfns= child2_pfns=
 *                 both pins held (the second one's handler)
 *   phase=after   faults1= faults2= child1_changed= child2_changed= parent_same=
 *                 data_ok1= data_ok2= coherent1= coherent2= stale=
 *                 changed: child PFNs != the parent's pre-fork PFN; parent_same:
 *                 parent PFNs unchanged; data_ok: pages received holding 'a';
 *                 coherent: pages received equal to what that child sees now;
 *                 stale = 2N - coherent1 - coherent2
 *
 * --no-hold (all but shared-cow): no userfaultfd; the syscall completes at
 * once and the handler's phases (and the writes in them) come afterwards, so
 * the pins are no longer outstanding there.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "gwload.h"

static void header(const struct opts *o, const char *mem, long pages, const char *pin)
{
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem);
	out_kv("pages", "%ld", pages);
	if (!strcmp(o->workload, "thp-file")) {
		out_kv("pin_page", "%ld", o->pin_page);
		out_kv("write_page", "%ld", o->write_page);
	}
	if (!strcmp(o->workload, "shared-cow"))
		out_kv("children", "%ld", o->no_hold ? 0 : o->children);
	out_kv("pin", "%s", pin);
	if (strcmp(pin, "none"))
		out_kv("longterm", "0");
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	if (mem[0] == 'f')
		out_kv("file", "%s", o->file);
	out_end();
}

static void no_mem_option(const struct opts *o)
{
	if (o->mem != MEM_ANON)
		die_msg(o->workload, "--mem does not apply (the buffer is a file mapping)");
}

/* ------------------------------------------------------------- cross-mm */

struct cross {
	const struct opts *o;
	long n;
	char *shared, *private;		/* same addresses in every process */
	struct target s, t;		/* S maps it shared, T private */
	uint64_t *s_before, *t_before, *pinned, *cur;
	struct uffd_hold h;
};

static void cb_cross(struct uffd_hold *h)
{
	struct cross *x = h->arg;
	long n = x->n;

	pfns_read(x->s.pid, x->shared, n, x->pinned);
	out_begin("phase", "hold");
	out_pins();
	out_pfns("pinned_pfns", x->pinned, n);
	out_kv("pinned_private_old", "%ld", pfns_count_eq(x->t_before, x->pinned, n));
	out_end();

	target_cmd(&x->t, 'W', 'W');
	out_begin("phase", "written");
	out_pins();
	pfns_read(x->t.pid, x->private, n, x->cur);
	out_kv("private_changed", "%ld", pfns_count_ne(x->cur, x->t_before, n));
	out_kv("private_file", "%ld", pages_file(x->t.pid, x->private, n));
	out_pfns("private_pfns", x->cur, n);
	pfns_read(x->s.pid, x->shared, n, x->cur);
	out_kv("shared_same", "%ld", pfns_count_eq(x->cur, x->pinned, n));
	out_pfns("shared_pfns", x->cur, n);
	out_end();
	sleep_ms(x->o->hold_ms);
}

int wl_cross_mm(const struct opts *o)
{
	struct cross x = { .o = o, .n = o->pages };
	size_t len = (size_t)o->pages * PAGE_SZ;
	long n = o->pages, got;
	int fd, faults;

	no_mem_option(o);
	x.s_before = pfn_array(n);
	x.t_before = pfn_array(n);
	x.pinned = pfn_array(n);
	x.cur = pfn_array(n);
	fd = file_create(o->file, len, 'F');
	x.shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	x.private = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (x.shared == MAP_FAILED || x.private == MAP_FAILED)
		die("mmap_file");
	close(fd);
	header(o, "file", n, "ro");

	target_spawn(&x.s, x.shared, len);
	target_spawn(&x.t, x.private, len);
	target_cmd(&x.s, 'R', 0);
	target_cmd(&x.t, 'R', 0);	/* read faults: page cache pages mapped R/O */
	pfns_read(x.s.pid, x.shared, n, x.s_before);
	pfns_read(x.t.pid, x.private, n, x.t_before);

	pins_baseline();
	out_begin("phase", "mapped");
	out_pins();
	out_kv("pinner_pid", "%d", (int)getpid());
	out_kv("shared_pid", "%d", (int)x.s.pid);
	out_kv("private_pid", "%d", (int)x.t.pid);
	out_kv("writer_pid", "%d", (int)x.t.pid);
	out_kv("shared_addr", "%p", (void *)x.shared);
	out_kv("private_addr", "%p", (void *)x.private);
	out_kv("shared_file", "%ld", pages_file(x.s.pid, x.shared, n));
	out_kv("private_file", "%ld", pages_file(x.t.pid, x.private, n));
	out_kv("same_pfn", "%ld", pfns_count_eq(x.t_before, x.s_before, n));
	out_pfns("shared_pfns", x.s_before, n);
	out_pfns("private_pfns", x.t_before, n);
	out_end();

	pvm_hold_init(&x.h, len, 'u', o->no_hold, cb_cross, &x);
	pvm_xfer(&x.h, x.s.pid, x.shared, 0, 1);
	faults = x.h.faults;
	got = proc_mem_same_pages(x.s.pid, x.shared, n, x.h.addr);
	out_begin("phase", "after");
	out_pins();
	out_kv("faults", "%d", faults);
	out_kv("pinner_old", "%ld", buf_count_pages(x.h.addr, n, 'F'));
	out_kv("pinner_coherent", "%ld", got);
	out_kv("stale", "%ld", n - got);
	out_kv("shared_old", "%ld", proc_mem_count_pages(x.s.pid, x.shared, n, 'F'));
	out_kv("private_new", "%ld", proc_mem_count_pages(x.t.pid, x.private, n, 'W'));
	out_end();
	target_quit(&x.s);
	target_quit(&x.t);
	unlink(o->file);
	return 0;
}

/* ------------------------------------------------------------- thp-file */

struct thpf {
	const struct opts *o;
	char *map;			/* 2 MiB aligned, same address in T */
	struct target t;
	uint64_t pin_before, write_before;
	struct uffd_hold h;
};

/* A size field (kB) of pid's VMA starting at addr in /proc/pid/smaps; -1 if absent. */
static long smaps_kb(pid_t pid, const void *addr, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kb = -1;
	int in_vma = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		die("smaps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char c;

		if (sscanf(line, "%lx-%lx %c", &start, &end, &c) == 3) {
			in_vma = start == (uintptr_t)addr;
			continue;
		}
		if (in_vma && !strncmp(line, field, flen) && line[flen] == ':') {
			kb = atol(line + flen + 1);
			break;
		}
	}
	fclose(f);
	return kb;
}

static uint64_t pfn_of(pid_t pid, const char *map, long page)
{
	uint64_t pfn;

	pfns_read(pid, map + page * (long)PAGE_SZ, 1, &pfn);
	return pfn;
}

/* A file mapping at a 2 MiB aligned address (file offset 0: PMD-mappable). */
static char *map_huge_aligned(int fd, int flags)
{
	char *raw = mmap(NULL, 2 * HUGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		die("mmap");
	p = (char *)(((uintptr_t)raw + HUGE_SZ - 1) & ~(HUGE_SZ - 1));
	if (mmap(p, HUGE_SZ, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0) == MAP_FAILED)
		die("mmap_file");
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p < raw + HUGE_SZ)
		munmap(p + HUGE_SZ, (size_t)(raw + HUGE_SZ - p));
	return p;
}

static void cb_thp(struct uffd_hold *h)
{
	struct thpf *x = h->arg;
	const struct opts *o = x->o;
	uint64_t wpfn;

	out_begin("phase", "hold");
	out_pins();
	out_kv("pin_page_pfn", "0x%llx", (unsigned long long)pfn_of(x->t.pid, x->map, o->pin_page));
	out_end();

	target_cmd_page(&x->t, 'w', 'W', o->write_page);
	wpfn = pfn_of(x->t.pid, x->map, o->write_page);
	out_begin("phase", "written");
	out_pins();
	out_kv("shmem_pmd_mapped_kb", "%ld", smaps_kb(x->t.pid, x->map, "ShmemPmdMapped"));
	out_kv("pin_page_pfn", "0x%llx", (unsigned long long)pfn_of(x->t.pid, x->map, o->pin_page));
	out_kv("write_page_pfn", "0x%llx", (unsigned long long)wpfn);
	out_kv("write_changed", "%d", wpfn && wpfn != x->write_before);
	out_end();
	sleep_ms(o->hold_ms);
}

int wl_thp_file(const struct opts *o)
{
	struct thpf x = { .o = o };
	char *pin_addr;
	uint64_t pfn;
	long pmd_kb, coherent;
	int fd, faults;

	no_mem_option(o);
	if (o->pin_page < 0 || o->pin_page >= (long)HUGE_PAGES ||
	    o->write_page < 0 || o->write_page >= (long)HUGE_PAGES)
		die_msg(o->workload, "--pin-page and --write-page must be 0..511");
	fd = file_create(o->file, HUGE_SZ, 'F');
	x.map = map_huge_aligned(fd, MAP_PRIVATE);
	close(fd);
	pin_addr = x.map + o->pin_page * (long)PAGE_SZ;
	header(o, "file", (long)HUGE_PAGES, "ro");

	target_spawn(&x.t, x.map, HUGE_SZ);
	target_cmd(&x.t, 'R', 0);	/* read faults: the page cache THP, PMD-mapped if possible */
	x.pin_before = pfn_of(x.t.pid, x.map, o->pin_page);
	x.write_before = pfn_of(x.t.pid, x.map, o->write_page);
	pmd_kb = smaps_kb(x.t.pid, x.map, "ShmemPmdMapped");

	pins_baseline();
	out_begin("phase", "mapped");
	out_pins();
	out_kv("pinner_pid", "%d", (int)getpid());
	out_kv("target_pid", "%d", (int)x.t.pid);
	out_kv("writer_pid", "%d", (int)x.t.pid);
	out_kv("addr", "%p", (void *)x.map);
	out_kv("pin_addr", "%p", (void *)pin_addr);
	out_kv("file", "%ld", pages_file(x.t.pid, x.map, (long)HUGE_PAGES));
	out_kv("huge", "%ld", huge_count(x.t.pid, x.map, (long)HUGE_PAGES));
	out_kv("shmem_pmd_mapped_kb", "%ld", pmd_kb);
	out_kv("was_pmd_mapped", "%d", pmd_kb == (long)(HUGE_SZ >> 10));
	out_kv("pin_page_pfn", "0x%llx", (unsigned long long)x.pin_before);
	out_kv("write_page_pfn", "0x%llx", (unsigned long long)x.write_before);
	out_end();

	pvm_hold_init(&x.h, PAGE_SZ, 'u', o->no_hold, cb_thp, &x);
	pvm_xfer(&x.h, x.t.pid, pin_addr, 0, 1);
	faults = x.h.faults;

	target_cmd_page(&x.t, 'r', 0, o->pin_page);	/* maps page K again if the zap unmapped it */
	pfn = pfn_of(x.t.pid, x.map, o->pin_page);
	coherent = proc_mem_same_pages(x.t.pid, pin_addr, 1, x.h.addr);
	out_begin("phase", "after");
	out_pins();
	out_kv("faults", "%d", faults);
	out_kv("pin_page_pfn", "0x%llx", (unsigned long long)pfn);
	out_kv("pin_page_same", "%d", pfn && pfn == x.pin_before);
	out_kv("pin_page_huge", "%ld", huge_count(x.t.pid, pin_addr, 1));
	out_kv("write_page_pfn", "0x%llx", (unsigned long long)pfn_of(x.t.pid, x.map, o->write_page));
	out_kv("pinner_old", "%ld", buf_count_pages(x.h.addr, 1, 'F'));
	out_kv("target_new", "%ld", proc_mem_count_pages(x.t.pid, pin_addr, 1, 'W'));
	out_kv("pinner_coherent", "%ld", coherent);
	out_kv("stale", "%ld", 1 - coherent);
	out_end();
	target_quit(&x.t);
	unlink(o->file);
	return 0;
}

/* ----------------------------------------------------------- shared-cow */

int wl_shared_cow(const struct opts *o)
{
	long n = o->pages, nchild = o->no_hold ? 0 : o->children, i;
	uint64_t *before = pfn_array(n), *cur = pfn_array(n);
	pid_t *pids = calloc((size_t)nchild + 1, sizeof(*pids));
	size_t len;
	char *buf;
	double t;
	int rel[2];

	if (nchild < 0)
		die_msg(o->workload, "--children must be >= 0");
	if (!pids)
		die("calloc");
	buf = buf_map(o, &len);
	buf_fill(buf, len, 'a');
	pfns_read(0, buf, n, before);
	header(o, mem_name(o->mem), n, "none");
	if (pipe(rel))
		die("pipe");

	pins_baseline();
	fflush(stdout);
	t = now_ms();
	for (i = 0; i < nchild; i++) {
		char c;

		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			close(rel[1]);
			while (read(rel[0], &c, 1) < 0)	/* EOF once the parent closes it */
				;
			_exit(0);
		}
	}
	t = now_ms() - t;
	out_begin("phase", "forked");
	out_pins();
	out_kv("pinner_pid", "0");
	out_kv("writer_pid", "%d", (int)getpid());
	out_kv("addr", "%p", (void *)buf);
	out_kv("children", "%ld", nchild);
	out_kv("fork_ms", "%.1f", t);
	out_kv("child_pid", "%d", nchild ? (int)pids[0] : 0);
	if (nchild) {
		pfns_read(pids[0], buf, n, cur);
		out_kv("first_child_same", "%ld", pfns_count_eq(cur, before, n));
		pfns_read(pids[nchild - 1], buf, n, cur);
		out_kv("last_child_same", "%ld", pfns_count_eq(cur, before, n));
	}
	out_pfns("parent_pfns", before, n);
	out_end();

	t = now_ms();
	buf_fill(buf, len, 'b');	/* every page is shared: a COW copy each */
	t = now_ms() - t;
	pfns_read(0, buf, n, cur);
	out_begin("phase", "written");
	out_pins();
	out_kv("parent_changed", "%ld", pfns_count_ne(cur, before, n));
	out_kv("parent_new", "%ld", buf_count_pages(buf, n, 'b'));
	out_kv("write_ms", "%.3f", t);
	out_pfns("parent_pfns", cur, n);
	if (nchild) {
		pfns_read(pids[0], buf, n, cur);
		out_kv("first_child_same", "%ld", pfns_count_eq(cur, before, n));
		out_kv("child_old", "%ld", proc_mem_count_pages(pids[0], buf, n, 'a'));
		out_pfns("child_pfns", cur, n);
		pfns_read(pids[nchild - 1], buf, n, cur);
		out_kv("last_child_same", "%ld", pfns_count_eq(cur, before, n));
	}
	out_end();

	t = now_ms();
	close(rel[1]);
	close(rel[0]);
	for (i = 0; i < nchild; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i])
			die("waitpid");
	}
	t = now_ms() - t;
	out_begin("phase", "after");
	out_pins();
	out_kv("reaped", "%ld", i);
	out_kv("reap_ms", "%.1f", t);
	out_end();
	free(pids);
	return 0;
}

/* --------------------------------------------------------- unshare-held */

struct held {
	const struct opts *o;
	long n;
	char *buf;			/* same address in all three */
	struct target c1, c2;
	uint64_t *before, *cur1, *cur2, *curp;
	struct uffd_hold h1, h2;	/* the outer (child 1) and inner (child 2) pin */
};

static void held_counts(struct held *x)
{
	long n = x->n;

	pfns_read(x->c1.pid, x->buf, n, x->cur1);
	pfns_read(x->c2.pid, x->buf, n, x->cur2);
	out_kv("child1_changed", "%ld", pfns_count_ne(x->cur1, x->before, n));
	out_kv("child2_changed", "%ld", pfns_count_ne(x->cur2, x->before, n));
	pfns_read(0, x->buf, n, x->curp);
	out_kv("parent_same", "%ld", pfns_count_eq(x->curp, x->before, n));
}

static void cb_held_inner(struct uffd_hold *h)
{
	struct held *x = h->arg;

	out_begin("phase", "hold2");
	out_pins();
	held_counts(x);
	out_pfns("child1_pfns", x->cur1, x->n);
	out_pfns("child2_pfns", x->cur2, x->n);
	out_end();
	sleep_ms(x->o->hold_ms);
}

static void cb_held_outer(struct uffd_hold *h)
{
	struct held *x = h->arg;

	out_begin("phase", "hold1");
	out_pins();
	held_counts(x);
	out_end();
	/* The second pin, taken and held while this one is outstanding. */
	pvm_xfer(&x->h2, x->c2.pid, x->buf, 0, 1);
}

int wl_unshare_held(const struct opts *o)
{
	struct held x = { .o = o, .n = o->pages };
	long n = o->pages, ok1, ok2;
	size_t len;
	int faults1, faults2;

	x.before = pfn_array(n);
	x.cur1 = pfn_array(n);
	x.cur2 = pfn_array(n);
	x.curp = pfn_array(n);
	x.buf = buf_map(o, &len);
	buf_fill(x.buf, len, 'a');
	pfns_read(0, x.buf, n, x.before);
	header(o, mem_name(o->mem), n, "ro");

	pins_baseline();
	target_spawn(&x.c1, x.buf, len);
	target_spawn(&x.c2, x.buf, len);
	out_begin("phase", "forked");
	out_pins();
	out_kv("pinner_pid", "%d", (int)getpid());
	out_kv("child1_pid", "%d", (int)x.c1.pid);
	out_kv("child2_pid", "%d", (int)x.c2.pid);
	out_kv("writer_pid", "0");
	out_kv("addr", "%p", (void *)x.buf);
	pfns_read(x.c1.pid, x.buf, n, x.cur1);
	pfns_read(x.c2.pid, x.buf, n, x.cur2);
	out_kv("child1_same", "%ld", pfns_count_eq(x.cur1, x.before, n));
	out_kv("child2_same", "%ld", pfns_count_eq(x.cur2, x.before, n));
	out_pfns("parent_pfns", x.before, n);
	out_end();

	pvm_hold_init(&x.h1, len, 'u', o->no_hold, cb_held_outer, &x);
	pvm_hold_init(&x.h2, len, 'v', o->no_hold, cb_held_inner, &x);
	pvm_xfer(&x.h1, x.c1.pid, x.buf, 0, 1);
	faults1 = x.h1.faults;
	faults2 = x.h2.faults;
	ok1 = proc_mem_same_pages(x.c1.pid, x.buf, n, x.h1.addr);
	ok2 = proc_mem_same_pages(x.c2.pid, x.buf, n, x.h2.addr);
	out_begin("phase", "after");
	out_pins();
	out_kv("faults1", "%d", faults1);
	out_kv("faults2", "%d", faults2);
	held_counts(&x);
	out_kv("data_ok1", "%ld", buf_count_pages(x.h1.addr, n, 'a'));
	out_kv("data_ok2", "%ld", buf_count_pages(x.h2.addr, n, 'a'));
	out_kv("coherent1", "%ld", ok1);
	out_kv("coherent2", "%ld", ok2);
	out_kv("stale", "%ld", 2 * n - ok1 - ok2);
	out_end();
	target_quit(&x.c1);
	target_quit(&x.c2);
	return 0;
}
