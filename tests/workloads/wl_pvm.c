// SPDX-License-Identifier: GPL-2.0
/*
 * process_vm_readv / process_vm_writev workloads.  The kernel pins the
 * *remote* pages (pin_user_pages_remote, FOLL_PIN, short-term; R/O for
 * readv, FOLL_WRITE for writev), then copies to/from the *local* iovec.
 * The local iovec is fresh memory registered with userfaultfd (MISSING),
 * so the copy blocks in our handler thread while the remote pages stay
 * pinned; the handler samples the counters, waits --hold-ms and resolves.
 * Target = a forked child (target process, see common.c).
 *
 * pvm-read / pvm-write: the child populates its own pages (exclusive anon).
 *   workload=pvm-read|pvm-write mem=M pages=N pin=ro|rw longterm=0 hold_ms=T no_hold=0|1 kernel=R
 *   pfn=I which=target value=PFN   with --verbose: the child's pages, before the pin
 *   phase=hold  acquired= released= outstanding=     in the uffd handler, pin held
 *   phase=after acquired= released= outstanding= faults=F data_ok=D syscall_ms=MS
 *               F: userfaultfd faults seen (1 = the copy blocked once)
 *               D: pages that arrived intact (readv: local buffer holds the
 *                  child's 't'; writev: child holds our 'u', via /proc/pid/mem)
 *
 * fork-unshare: the parent writes the buffer, forks (pages now shared R/O
 * between parent and child), then R/O-pins the child's pages with
 * process_vm_readv.  GUP must unshare a shared anon page before a R/O pin
 * (gup_must_unshare, FAULT_FLAG_UNSHARE): the child gets a copy.
 *   workload=fork-unshare mem=M pages=N pin=ro longterm=0 hold_ms=T no_hold=0|1 kernel=R
 *   phase=forked acquired= released= outstanding= child_same=S   (child PFN == parent's)
 *   phase=hold   acquired= released= outstanding= child_changed=C parent_same=P
 *   phase=after  acquired= released= outstanding= child_changed=C parent_same=P faults=F data_ok=D
 *               C: child pages whose PFN differs from the pre-pin PFN
 *               P: parent pages whose PFN is unchanged
 *
 * file-stale (doc/kernel.md, G2): a file (--file, default /tmp/gwload-stale.dat)
 * filled with 'F' is mapped MAP_PRIVATE; the child read-faults it (page
 * cache pages mapped R/O).  We R/O-pin them with process_vm_readv; while the
 * pin is held the child writes 'W' to every page, the write fault copies
 * each page away (the pinned page is not anon, so no unshare happened), and
 * the copy we get is the old file content.
 *   workload=file-stale mem=file pages=N pin=ro longterm=0 hold_ms=T no_hold=0|1 kernel=R file=PATH
 *   phase=mapped  acquired= released= outstanding= target_file=N pinner_pid=P target_pid=T addr=A
 *                 target_file: child pages flagged file-backed in pagemap; P pins
 *                 (process_vm_readv), T writes; A: the mapping's first page (same in both)
 *   phase=hold    acquired= released= outstanding=                 in the handler, before the child writes
 *                 (with --write-when PATH, the child writes once PATH exists)
 *   phase=written acquired= released= outstanding= target_changed=C target_file=X
 *                 after the child wrote every page, pin still held
 *   phase=after   acquired= released= outstanding= faults=F stale=S target_new=W
 *                 S: pages we received that hold the old 'F'
 *                 W: child pages that hold its new 'W'
 *
 * --no-hold: no userfaultfd; the syscall completes at once and the hold-phase
 * sample(s) are taken afterwards.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "gwload.h"

struct pvm {
	const struct opts *o;
	struct target t;
	char *remote;		/* same address in parent and child */
	size_t len;
	uint64_t *before, *cur, *cur2;
	struct uffd_hold h;
};

static void header(const struct opts *o, const char *mem, const char *pin)
{
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem);
	out_kv("pages", "%ld", o->pages);
	out_kv("pin", "%s", pin);
	out_kv("longterm", "0");
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	if (!strcmp(o->workload, "file-stale"))
		out_kv("file", "%s", o->file);
	out_end();
}

static void pvm_init(struct pvm *v, const struct opts *o)
{
	memset(v, 0, sizeof(*v));
	v->o = o;
	v->before = pfn_array(o->pages);
	v->cur = pfn_array(o->pages);
	v->cur2 = pfn_array(o->pages);
}

/* Local side: fresh anon memory, never touched, registered with uffd. */
static void pvm_local(struct pvm *v, char fill, void (*cb)(struct uffd_hold *))
{
	pvm_hold_init(&v->h, v->len, fill, v->o->no_hold, cb, v);
}

/* Returns how long the syscalls took (ms); --repeat only without the uffd hold. */
static double pvm_do(struct pvm *v, int write)
{
	return pvm_xfer(&v->h, v->t.pid, v->remote, write, v->o->no_hold ? v->o->repeat : 1);
}

/* ------------------------------------------------------ pvm-read/-write */

static void cb_hold(struct uffd_hold *h)
{
	struct pvm *v = h->arg;

	out_phase("hold");
	sleep_ms(v->o->hold_ms);
}

static int pvm_rw(const struct opts *o, int write)
{
	struct pvm v;
	double syscall_ms;
	long ok;
	int faults;

	pvm_init(&v, o);
	v.remote = buf_map(o, &v.len);	/* untouched here: only the child populates it */
	header(o, mem_name(o->mem), write ? "rw" : "ro");
	target_spawn(&v.t, v.remote, v.len);
	target_cmd(&v.t, 'W', 't');
	if (o->verbose) { /* the pages it will pin, for gupwatch blockers and memory offline */
		pfns_read(v.t.pid, v.remote, o->pages, v.cur);
		pfns_verbose(o, "target", v.cur, o->pages);
	}
	pvm_local(&v, 'u', cb_hold);

	pins_baseline();
	syscall_ms = pvm_do(&v, write);
	faults = v.h.faults;
	if (write)
		ok = proc_mem_count_pages(v.t.pid, v.remote, o->pages, 'u');
	else
		ok = buf_count_pages(v.h.addr, o->pages, 't');
	out_begin("phase", "after");
	out_pins();
	out_kv("faults", "%d", faults);
	out_kv("data_ok", "%ld", ok);
	out_kv("syscall_ms", "%.3f", syscall_ms);
	out_end();
	target_quit(&v.t);
	return 0;
}

int wl_pvm_read(const struct opts *o)
{
	return pvm_rw(o, 0);
}

int wl_pvm_write(const struct opts *o)
{
	return pvm_rw(o, 1);
}

/* --------------------------------------------------------- fork-unshare */

static void unshare_counts(struct pvm *v)
{
	pfns_read(v->t.pid, v->remote, v->o->pages, v->cur);
	pfns_read(0, v->remote, v->o->pages, v->cur2);
	out_kv("child_changed", "%ld", pfns_count_ne(v->cur, v->before, v->o->pages));
	out_kv("parent_same", "%ld", pfns_count_eq(v->cur2, v->before, v->o->pages));
}

static void cb_unshare(struct uffd_hold *h)
{
	struct pvm *v = h->arg;

	out_begin("phase", "hold");
	out_pins();
	unshare_counts(v);
	out_end();
	pfns_verbose(v->o, "child_hold", v->cur, v->o->pages);
	sleep_ms(v->o->hold_ms);
}

int wl_fork_unshare(const struct opts *o)
{
	struct pvm v;
	int faults;

	pvm_init(&v, o);
	v.remote = buf_map(o, &v.len);
	buf_fill(v.remote, v.len, 'a');
	header(o, mem_name(o->mem), "ro");
	pfns_read(0, v.remote, o->pages, v.before);
	pfns_verbose(o, "parent_before", v.before, o->pages);

	pins_baseline();
	target_spawn(&v.t, v.remote, v.len);
	pfns_read(v.t.pid, v.remote, o->pages, v.cur);
	out_begin("phase", "forked");
	out_pins();
	out_kv("child_same", "%ld", pfns_count_eq(v.cur, v.before, o->pages));
	out_end();

	pvm_local(&v, 'u', cb_unshare);
	pvm_do(&v, 0);
	faults = v.h.faults;
	out_begin("phase", "after");
	out_pins();
	unshare_counts(&v);
	out_kv("faults", "%d", faults);
	out_kv("data_ok", "%ld", buf_count_pages(v.h.addr, o->pages, 'a'));
	out_end();
	target_quit(&v.t);
	return 0;
}

/* ----------------------------------------------------------- file-stale */

static void cb_stale(struct uffd_hold *h)
{
	struct pvm *v = h->arg;
	long n = v->o->pages;

	out_phase("hold");
	while (v->o->write_when && access(v->o->write_when, F_OK))
		sleep_ms(10);
	target_cmd(&v->t, 'W', 'W');
	pfns_read(v->t.pid, v->remote, n, v->cur);
	pfns_verbose(v->o, "target_written", v->cur, n);
	out_begin("phase", "written");
	out_pins();
	out_kv("target_changed", "%ld", pfns_count_ne(v->cur, v->before, n));
	out_kv("target_file", "%ld", pages_file(v->t.pid, v->remote, n));
	out_end();
	sleep_ms(v->o->hold_ms);
}

int wl_file_stale(const struct opts *o)
{
	struct pvm v;
	int fd, faults;
	long stale;

	if (o->mem != MEM_ANON)
		die_msg("file-stale", "--mem does not apply (the buffer is a file mapping)");
	pvm_init(&v, o);
	v.len = (size_t)o->pages * PAGE_SZ;
	fd = file_create(o->file, v.len, 'F');
	v.remote = mmap(NULL, v.len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (v.remote == MAP_FAILED)
		die("mmap_file");
	close(fd);
	header(o, "file", "ro");

	target_spawn(&v.t, v.remote, v.len);
	target_cmd(&v.t, 'R', 0);	/* read faults: page cache pages mapped R/O */
	pfns_read(v.t.pid, v.remote, o->pages, v.before);
	pfns_verbose(o, "target_before", v.before, o->pages);

	pins_baseline();
	out_begin("phase", "mapped");
	out_pins();
	out_kv("target_file", "%ld", pages_file(v.t.pid, v.remote, o->pages));
	out_kv("pinner_pid", "%d", (int)getpid());
	out_kv("target_pid", "%d", (int)v.t.pid);
	out_kv("addr", "%p", (void *)v.remote);
	out_end();

	pvm_local(&v, 'u', cb_stale);
	pvm_do(&v, 0);
	faults = v.h.faults;
	stale = buf_count_pages(v.h.addr, o->pages, 'F');
	out_begin("phase", "after");
	out_pins();
	out_kv("faults", "%d", faults);
	out_kv("stale", "%ld", stale);
	out_kv("target_new", "%ld", proc_mem_count_pages(v.t.pid, v.remote, o->pages, 'W'));
	out_end();
	target_quit(&v.t);
	unlink(o->file);
	return 0;
}
