// SPDX-License-Identifier: GPL-2.0
/* mrprobe: ibv_reg_mr() cases for test-rdma.sh (built by tests/vm/rdmaroot.sh against
 * Debian's libibverbs-dev, dynamically linked, shipped in the guest as /usr/bin/mrprobe).
 * On the first RDMA device, 4 pages each, one line per phase with the /proc/vmstat pin
 * deltas since the previous line:
 *   A  anon, writable MR (IBV_ACCESS_LOCAL_WRITE), dereg
 *   B  anon, read-only MR (access 0), dereg
 *   C  MAP_PRIVATE file, read-faulted, read-only MR, then a write, dereg
 *      (prints page 0's address and PFNs: before reg, after reg, after the write)
 *   D  anon writable MR, fork, the child writes (prints its PFN), the parent writes, dereg
 */
#include <infiniband/verbs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define NP 4
static long ps;
static void vm(long *a, long *r) {
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY); if (fd >= 0) { write(fd, "1", 1); close(fd); }
	FILE *f = fopen("/proc/vmstat", "r"); char k[64]; long v;
	while (fscanf(f, "%63s %ld", k, &v) == 2) {
		if (!strcmp(k, "nr_foll_pin_acquired")) *a = v;
		if (!strcmp(k, "nr_foll_pin_released")) *r = v;
	}
	fclose(f);
}
static unsigned long pfn(void *p) {
	int fd = open("/proc/self/pagemap", O_RDONLY); unsigned long e = 0;
	pread(fd, &e, 8, ((unsigned long)p / ps) * 8); close(fd);
	return e & ((1UL << 55) - 1);
}
static long a0, r0;
static void mark(const char *ph) {
	long a, r; vm(&a, &r);
	printf("phase=%s pid=%d acq=%ld rel=%ld\n", ph, getpid(), a - a0, r - r0); fflush(stdout);
	a0 = a; r0 = r;
}
int main(void) {
	ps = sysconf(_SC_PAGESIZE);
	int n; struct ibv_device **l = ibv_get_device_list(&n);
	if (!l || !n) { fprintf(stderr, "no device\n"); return 1; }
	struct ibv_context *c = ibv_open_device(l[0]);
	struct ibv_pd *pd = ibv_alloc_pd(c);
	vm(&a0, &r0);
	/* A: anon, writable MR */
	char *b = mmap(0, NP * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(b, 1, NP * ps);
	struct ibv_mr *m = ibv_reg_mr(pd, b, NP * ps, IBV_ACCESS_LOCAL_WRITE);
	if (!m) { perror("reg A"); return 1; }
	mark("A-anon-rw-reg"); usleep(300000);
	ibv_dereg_mr(m); mark("A-dereg");
	/* B: anon, read-only MR (access 0) */
	m = ibv_reg_mr(pd, b, NP * ps, 0);
	if (!m) { perror("reg B"); return 1; }
	mark("B-anon-ro-reg"); usleep(300000);
	ibv_dereg_mr(m); mark("B-dereg");
	/* C: MAP_PRIVATE file, read-faulted, read-only MR, then write */
	int fd = open("/tmp/mr.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *z = calloc(NP, ps); memset(z, 7, NP * ps); write(fd, z, NP * ps); fsync(fd);
	char *f = mmap(0, NP * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	volatile char s = 0; for (int i = 0; i < NP; i++) s += f[i * ps];
	unsigned long p0 = pfn(f);
	m = ibv_reg_mr(pd, f, NP * ps, 0);
	if (!m) { perror("reg C"); return 1; }
	unsigned long p1 = pfn(f);
	mark("C-file-ro-reg"); printf("case=C addr=%p pfn0=%#lx pfn1=%#lx\n", (void *)f, p0, p1);
	f[0] = 9; unsigned long p2 = pfn(f);
	printf("case=C2 pfn2=%#lx\n", p2); mark("C-write"); usleep(300000);
	ibv_dereg_mr(m); mark("C-dereg");
	/* D: anon writable MR, fork, child writes, parent writes */
	m = ibv_reg_mr(pd, b, NP * ps, IBV_ACCESS_LOCAL_WRITE);
	mark("D-anon-rw-reg");
	unsigned long q0 = pfn(b);
	pid_t ch = fork();
	if (!ch) { b[0] = 3; printf("case=D child=%d pfn=%#lx\n", getpid(), pfn(b)); fflush(stdout); _exit(0); }
	waitpid(ch, 0, 0);
	b[0] = 4; printf("D parent pfn before fork %#lx after %#lx\n", q0, pfn(b));
	mark("D-fork-write"); usleep(300000);
	ibv_dereg_mr(m); mark("D-dereg");
	ibv_dealloc_pd(pd); ibv_close_device(c);
	return 0;
}
