// SPDX-License-Identifier: GPL-2.0
/*
 * move_pages(2) of pinned pages (a guest with two NUMA nodes). A pinned page
 * cannot be migrated: the syscall returns how many pages it left behind, and
 * move_pages() without nodes says where each page is now. A separate process
 * ("gw-mover") does the moving, so that whoever migrates is not whoever pins.
 *
 * numa-move-iouring: write --pages of anon memory, IORING_REGISTER_BUFFERS it
 * (long-term R/W pins), then the mover moves them to the other node.
 * numa-move-pvm: a child writes its --pages; we process_vm_readv them into a
 * userfaultfd-missing buffer (short-term R/O pins, held while the copy is
 * blocked), and while they are held the mover moves the child's pages.
 *   workload=numa-move-iouring|numa-move-pvm pages=N no_hold=0|1 kernel=R
 *   phase=moved acquired= released= outstanding= owner=PID from=F to=T ret=R
 *               status=S left=L moved=M mover=PID pfns=PFN,...
 *     the pages' owner PID (their mm); F, T: nodes before and asked for;
 *     R: move_pages' return (pages not migrated, or -errno); S: its status of
 *     the first page (a node, or -errno); L, M: pages on F
 *     and on T afterwards (the kernel's own answer); PFNs of the pages before
 *     the move (once pinned)
 * --no-hold: no pin (no registration; a plain read of the child's pages), so
 * every page moves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "gwload.h"

#define MPOL_MF_MOVE (1 << 1) /* linux/mempolicy.h */

struct move_result {
	int from, to;
	long ret, left, moved;
	int status;   /* the move's status of the first page: its node, or -errno */
	pid_t mover;
};

static long sys_move_pages(pid_t pid, long n, void **pages, const int *nodes, int *status)
{
	long r = syscall(__NR_move_pages, pid, (unsigned long)n, pages, nodes, status, MPOL_MF_MOVE);

	return r < 0 ? -errno : r;
}

/* Node of each page (move_pages without nodes); negative: -errno for that page. */
static void nodes_of(pid_t pid, void **pages, long n, int *status)
{
	if (sys_move_pages(pid, n, pages, NULL, status) < 0)
		die("move_pages(query)");
}

/*
 * In a forked process named gw-mover: move pid's pages to the node other
 * than the first page's, then see where they are.
 */
static void move_elsewhere(pid_t pid, char *addr, long n, struct move_result *res)
{
	struct move_result *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t child;
	int st;

	if (shared == MAP_FAILED)
		die("mmap");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		void **pages = calloc((size_t)n, sizeof(*pages));
		int *nodes = calloc((size_t)n, sizeof(*nodes)), *status = calloc((size_t)n, sizeof(int));

		if (!pages || !nodes || !status)
			_exit(1);
		prctl(PR_SET_NAME, "gw-mover");
		for (long i = 0; i < n; i++)
			pages[i] = addr + i * PAGE_SZ;
		nodes_of(pid, pages, n, status);
		shared->from = status[0];
		shared->to = status[0] == 0 ? 1 : 0;
		for (long i = 0; i < n; i++)
			nodes[i] = shared->to;
		shared->ret = sys_move_pages(pid, n, pages, nodes, status);
		shared->status = status[0];
		nodes_of(pid, pages, n, status);
		for (long i = 0; i < n; i++) {
			shared->left += status[i] == shared->from;
			shared->moved += status[i] == shared->to;
		}
		shared->mover = getpid();
		_exit(0);
	}
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		die_msg("gw-mover", "the mover failed");
	*res = *shared;
	munmap(shared, sizeof(*shared));
}

static void out_moved(pid_t owner, const struct move_result *r, const uint64_t *pfns, long n)
{
	out_begin("phase", "moved");
	out_pins();
	out_kv("owner", "%d", (int)owner);
	out_kv("from", "%d", r->from);
	out_kv("to", "%d", r->to);
	out_kv("ret", "%ld", r->ret);
	out_kv("status", "%d", r->status);
	out_kv("left", "%ld", r->left);
	out_kv("moved", "%ld", r->moved);
	out_kv("mover", "%d", (int)r->mover);
	out_pfns("pfns", pfns, n);
	out_end();
}

static void header(const struct opts *o)
{
	out_begin("workload", o->workload);
	out_kv("pages", "%ld", o->pages);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("kernel", "%s", kernel_release());
	out_end();
}

int wl_numa_move_iouring(const struct opts *o)
{
	size_t len;
	char *buf = buf_map(o, &len);
	uint64_t *pfns = pfn_array(o->pages);
	struct move_result r;
	int ring;

	/* the mover is forked: sharing the pages with it would make move_pages() skip them
	 * (EACCES: mapped twice), and fork would copy the pinned ones for it */
	if (madvise(buf, len, MADV_DONTFORK))
		die("madvise(MADV_DONTFORK)");
	buf_fill(buf, len, 'a');
	header(o);
	ring = uring_setup();
	pins_baseline();
	if (!o->no_hold)
		uring_register(ring, buf, len);
	pfns_read(0, buf, o->pages, pfns); /* after: a long-term pin moves pages out of ZONE_MOVABLE */
	move_elsewhere(getpid(), buf, o->pages, &r);
	out_moved(getpid(), &r, pfns, o->pages);
	if (!o->no_hold)
		uring_unregister(ring);
	close(ring);
	free(pfns);
	return 0;
}

struct pvm_move {
	const struct opts *o;
	struct target t;
	char *remote;
	uint64_t *pfns;
};

static void cb_move(struct uffd_hold *h)
{
	struct pvm_move *v = h->arg;
	struct move_result r;

	move_elsewhere(v->t.pid, v->remote, v->o->pages, &r);
	out_moved(v->t.pid, &r, v->pfns, v->o->pages);
}

int wl_numa_move_pvm(const struct opts *o)
{
	struct pvm_move v = { .o = o, .pfns = pfn_array(o->pages) };
	struct uffd_hold h;
	size_t len;

	v.remote = buf_map(o, &len);
	header(o);
	target_spawn(&v.t, v.remote, len);
	target_cmd(&v.t, 'W', 't');
	pfns_read(v.t.pid, v.remote, o->pages, v.pfns);
	pvm_hold_init(&h, len, 'u', o->no_hold, cb_move, &v);
	pins_baseline();
	pvm_xfer(&h, v.t.pid, v.remote, 0, 1); /* cb_move: in the hold, or after it (--no-hold) */
	target_quit(&v.t);
	free(v.pfns);
	return 0;
}
