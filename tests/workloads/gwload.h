/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gwload: deterministic workloads that create FOLL_PIN pins, FOLL_GET
 * references and COW faults on a real kernel, and print the kernel's own
 * ground truth (/proc/vmstat pin counters, /proc/<pid>/pagemap PFNs).
 *
 * Shared declarations for the multi-call binary.  Everything that more
 * than one workload needs lives in common.c.
 *
 * Output format (stable; gupwatch's tests compare against it):
 *   one record per line, space-separated key=value pairs, no spaces in
 *   values.  The first pair names the record:
 *     workload=<name> mem=... pages=N ...   once, first line
 *     phase=<name> acquired=A released=R outstanding=O [more keys]
 *     pfn=<page index> ...                  only with --verbose
 *     error=<what> errno=<n> msg=<text>     on failure (exit status 1)
 *   acquired/released are deltas of nr_foll_pin_acquired/_released in
 *   /proc/vmstat since the workload's baseline (taken right before the
 *   pinning operation), sampled after writing 1 to
 *   /proc/sys/vm/stat_refresh.  They count pin references, not pages.
 *   outstanding = acquired - released.
 */
#ifndef GWLOAD_H
#define GWLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>

#define PAGE_SZ 4096UL
#define HUGE_SZ (2UL << 20)
#define HUGE_PAGES (HUGE_SZ / PAGE_SZ)

enum mem_kind { MEM_ANON, MEM_THP, MEM_HUGETLB };

struct opts {
	const char *workload;
	long pages;		/* number of 4 KiB pages (huge kinds: multiple of 512) */
	enum mem_kind mem;
	long hold_ms;		/* how long the pin / reference is held */
	int no_hold;		/* break the workload: release before the hold sample */
	long repeat;		/* --no-hold: how many times pvm-*'s syscall, odirect-*'s I/O,
				 * iouring-reg's REGISTER + UNREGISTER runs */
	const char *write_when;	/* file-stale: with the pin held, the target writes once this exists */
	const char *dev;	/* odirect-*: block device (or file) */
	const char *file;	/* file-stale, pindrv-stale, cross-mm, thp-file: backing file */
	int gup_fast;		/* pindrv-*: pin_user_pages_fast() instead of pin_user_pages() */
	int verbose;		/* per-page pfn= lines */
	long pin_page;		/* thp-file: the subpage we pin */
	long write_page;	/* thp-file: the subpage the target writes */
	long children;		/* shared-cow: how many children share the pages */
};

struct workload {
	const char *name;
	const char *summary;
	int (*run)(const struct opts *o);
};

/* ---- output ---------------------------------------------------------- */
/* Build one record: out_begin("phase", "hold"); out_kv("x", "%d", 1); out_end(); */
void out_begin(const char *type, const char *val);
void out_kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_end(void);
/* Sample the pin counters now and add acquired= released= outstanding=. */
void out_pins(void);
/* One complete phase line with just the pin counters. */
void out_phase(const char *phase);
/* --repeat's record: phase=loop repeat=N loop_ms=MS loop_cpu_ms=MS (the whole
 * loop: elapsed, and this thread's CPU time, which leaves out idle waits). */
void out_loop(long repeat, double ms, double cpu);
/* Print error=<what> errno=.. msg=.. and exit(1). */
void die(const char *what) __attribute__((noreturn));
void die_msg(const char *what, const char *msg) __attribute__((noreturn));
const char *mem_name(enum mem_kind m);

/* ---- pin counters ---------------------------------------------------- */
struct pinsnap { long long acquired, released; };
struct pinsnap pins_read(void);		/* absolute values after stat_refresh */
void pins_baseline(void);		/* later samples are relative to this */
struct pinsnap pins_delta(void);

/* ---- pagemap --------------------------------------------------------- */
#define PM_PRESENT	(1ULL << 63)
#define PM_FILE		(1ULL << 61)	/* file page or shared anon */
#define PM_EXCLUSIVE	(1ULL << 56)	/* page exclusively mapped */
#define PM_PFN_MASK	((1ULL << 55) - 1)
/* Read n pagemap entries of pid (0 = self) starting at addr. */
void pagemap_read(pid_t pid, const void *addr, long n, uint64_t *out);
/* PFN of each 4 KiB page (0 when not present). */
void pfns_read(pid_t pid, const void *addr, long n, uint64_t *pfn);
long pfns_count_eq(const uint64_t *a, const uint64_t *b, long n);	/* present and equal */
long pfns_count_ne(const uint64_t *a, const uint64_t *b, long n);	/* both present, differ */
/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_HUGE	(1ULL << 17)
#define KPF_THP		(1ULL << 22)
#define KPF_ZERO_PAGE	(1ULL << 24)
/* Pages among pfn[0..n) (0: none) whose /proc/kpageflags has a bit of kpf_mask. */
long pfns_count_flags(const uint64_t *pfn, long n, uint64_t kpf_mask);
/* Pages (4 KiB) of pid's range that /proc/kpageflags reports as THP or hugetlb. */
long huge_count(pid_t pid, const void *addr, long n);
/* Pages of pid's range present and flagged file-backed (PM_FILE) in pagemap. */
long pages_file(pid_t pid, const void *addr, long n);
uint64_t *pfn_array(long n);		/* zeroed, dies on failure */
/* Add key=0x1a2,0x1a3,... (one PFN per page, 0 = not present) to the record. */
void out_pfns(const char *key, const uint64_t *pfn, long n);
void pfns_verbose(const struct opts *o, const char *label, const uint64_t *pfn, long n);

/* ---- buffers --------------------------------------------------------- */
/* Map o->pages pages of o->mem memory (untouched).  anon gets
 * MADV_NOHUGEPAGE so that small buffers stay 4 KiB pages everywhere. */
void *buf_map(const struct opts *o, size_t *len);
void *anon_map(size_t len);		/* fresh anon memory, MADV_NOHUGEPAGE */
/* Create (truncate) path holding len bytes == c; returns the O_RDWR fd. */
int file_create(const char *path, size_t len, char c);
void buf_fill(void *p, size_t len, char c);	/* writes every byte */
long buf_count_pages(const void *p, long pages, char c);	/* pages entirely == c */
/* Read n pages of another process' memory through /proc/pid/mem (FOLL_GET,
 * never a pin) and count pages entirely == c. */
long proc_mem_count_pages(pid_t pid, const void *addr, long pages, char c);
/* Pages of pid's memory at addr (via /proc/pid/mem) identical to buf's. */
long proc_mem_same_pages(pid_t pid, const void *addr, long pages, const void *buf);

/* ---- userfaultfd holder ---------------------------------------------- */
/*
 * Registers [addr, addr+len) (fresh, never touched anonymous memory) for
 * MISSING faults.  A kernel-mode copy into/out of that range (e.g. the
 * local side of process_vm_readv/writev) then blocks in the handler
 * thread: on_fault() runs while the faulting syscall is stuck, i.e. while
 * whatever it pinned before the copy is still pinned.  Afterwards the
 * whole range is resolved with UFFDIO_COPY of bytes == fill.
 * With no_hold set, no userfaultfd is used: the range is pre-filled and
 * on_fault() runs from uffd_hold_finish() in the caller, after the syscall.
 */
struct uffd_hold {
	void *addr;
	size_t len;
	char fill;
	int no_hold;
	void (*on_fault)(struct uffd_hold *h);
	void *arg;
	/* private */
	int uffd, wake[2], faults;
	pthread_t thr;
};
void uffd_hold_start(struct uffd_hold *h);
void uffd_hold_finish(struct uffd_hold *h);

/* ---- process_vm_readv/-writev pin held by userfaultfd ----------------- */
/*
 * The kernel pins the *remote* pages (pin_user_pages_remote, FOLL_PIN,
 * short-term; R/O for readv, FOLL_WRITE for writev), then copies to/from the
 * local buffer h->addr, which pvm_hold_init maps (len bytes, fresh anon) and
 * pvm_xfer registers with userfaultfd: on_fault(h) runs while the remote
 * pages stay pinned (with no_hold: after the syscall, see uffd_hold).
 */
void pvm_hold_init(struct uffd_hold *h, size_t len, char fill, int no_hold,
		   void (*on_fault)(struct uffd_hold *h), void *arg);
/* h->len bytes of pid's memory at remote, reps times; returns the syscalls' ms. */
double pvm_xfer(struct uffd_hold *h, pid_t pid, void *remote, int write, long reps);

/* ---- target process -------------------------------------------------- */
/*
 * A forked child that idles and obeys commands on a pipe, acting on the
 * range [addr, addr+len) of its own address space:
 *   'R' read every page, 'W' write every byte with arg, 'Q' exit,
 *   'r' / 'w' the same on one page (target_cmd_page).
 * Each command is acknowledged before the next one is read.
 */
struct target { pid_t pid; int cmd_w, ack_r; void *addr; size_t len; };
void target_spawn(struct target *t, void *addr, size_t len);
void target_cmd(struct target *t, char op, char arg);
/* 'r' read / 'w' write (every byte with arg) page index page of the range only. */
void target_cmd_page(struct target *t, char op, char arg, long page);
void target_quit(struct target *t);

/* ---- misc ------------------------------------------------------------ */
void sleep_ms(long ms);
double now_ms(void);
double cpu_ms(void);		/* CPU time of the calling thread */
const char *kernel_release(void);

/* ---- workloads ------------------------------------------------------- */
int wl_iouring_reg(const struct opts *o);
int wl_iouring_fault(const struct opts *o);
int wl_movable_pin(const struct opts *o);
int wl_numa_move_iouring(const struct opts *o);
int wl_numa_move_pvm(const struct opts *o);
int wl_pin_fork(const struct opts *o);
int wl_pvm_read(const struct opts *o);
int wl_pvm_write(const struct opts *o);
int wl_fork_unshare(const struct opts *o);
int wl_file_stale(const struct opts *o);
int wl_odirect_write(const struct opts *o);
int wl_odirect_read(const struct opts *o);
int wl_cow_fork(const struct opts *o);
int wl_vmsplice_fork(const struct opts *o);
int wl_pindrv_stale(const struct opts *o);
int wl_pindrv_unshare(const struct opts *o);
int wl_pindrv_forkcopy(const struct opts *o);
int wl_pindrv_zero(const struct opts *o);
int wl_cross_mm(const struct opts *o);
int wl_thp_file(const struct opts *o);
int wl_shared_cow(const struct opts *o);
int wl_unshare_held(const struct opts *o);

/* io_uring helpers (raw syscalls), shared by iouring-reg and pin-fork */
int uring_setup(void);
void uring_register(int fd, void *buf, size_t len);
void uring_unregister(int fd);

#endif
