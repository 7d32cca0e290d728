// SPDX-License-Identifier: GPL-2.0
/*
 * gwload - multi-call workload binary for gupwatch's real-kernel tests.
 *
 *   gwload <workload> [options]
 *   gwload --help
 *
 * Options (not every workload uses every option):
 *   --pages N        number of 4 KiB pages (default 4; thp/hugetlb: 512,
 *                    rounded up to a multiple of 512)
 *   --mem KIND       anon (default; MADV_NOHUGEPAGE) | thp (2 MiB aligned,
 *                    MADV_HUGEPAGE) | hugetlb (MAP_HUGETLB, needs
 *                    /proc/sys/vm/nr_hugepages)
 *   --hold-ms MS     how long the pin/reference is held (default 200)
 *   --no-hold        break the workload on purpose: release the pin (or skip
 *                    the fork / sample after the I/O) before the hold-phase
 *                    sample, so that the test that checks it must fail
 *   --dev PATH       odirect-*: the block device (or file) to do I/O on
 *   --file PATH      file-stale, pindrv-stale, cross-mm, thp-file: backing file
 *                    (default /tmp/gwload-stale.dat; thp-file: on a huge=always tmpfs)
 *   --pin-page K     thp-file: the 4 KiB subpage we pin (default 0)
 *   --write-page J   thp-file: the subpage the target writes during the pin (default 1)
 *   --children C     shared-cow: children sharing the pages (default 1100)
 *   --repeat N       with --no-hold, for make bench: pvm-read/-write: the
 *                    syscall N times, a pin storm (syscall_ms in the after
 *                    phase); odirect-*: the I/O N times, iouring-reg:
 *                    REGISTER + UNREGISTER N times (phase=loop loop_ms=)
 *   --write-when PATH  file-stale, pindrv-stale: with the pin held, wait until PATH exists
 *                    before the target writes (a tracer can start after the pin)
 *   --fast           pindrv-*: pin with pin_user_pages_fast() (GUP-fast)
 *   --verbose        also print per-page pfn= records
 *   --node N         bind all memory gwload and its children fault in to NUMA node N
 *
 * The record format is described in gwload.h; each workload file documents
 * its records at the top.  Exit status: 0 done (the test script judges the
 * numbers), 1 error (an error= record says what), 2 usage.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "gwload.h"

static const struct workload workloads[] = {
	{ "iouring-reg", "io_uring IORING_REGISTER_BUFFERS: long-term R/W pins held --hold-ms, then unregistered", wl_iouring_reg },
	{ "iouring-fault", "io_uring IORING_REGISTER_BUFFERS of a range whose first page is unmapped: the long-term pin call fails (EFAULT)", wl_iouring_fault },
	{ "movable-pin", "vmsplice anon pages (taken from ZONE_MOVABLE) into a pipe, then io_uring-register them: the long-term pin cannot migrate them out (--no-hold: no vmsplice, it can)", wl_movable_pin },
	{ "numa-move-iouring", "io_uring-register --pages (long-term R/W pins), then another process move_pages() them to the other NUMA node: they stay (--no-hold: no pins, they move)", wl_numa_move_iouring },
	{ "numa-move-pvm", "process_vm_readv a child's pages into a userfaultfd-missing buffer (short-term R/O pins held), and meanwhile another process move_pages() them to the other node (--no-hold: after the pins)", wl_numa_move_pvm },
	{ "pvm-read", "process_vm_readv from a child: short-term R/O pins on its pages, held by a userfaultfd-missing local buffer", wl_pvm_read },
	{ "pvm-write", "process_vm_writev to a child: short-term R/W pins on its pages, held by a userfaultfd-missing local buffer", wl_pvm_write },
	{ "odirect-write", "O_DIRECT pwrite from an anon buffer to --dev: R/O pins (6.12+) or FOLL_GET refs (6.1) while the I/O is in flight", wl_odirect_write },
	{ "odirect-read", "O_DIRECT pread from --dev into an anon buffer: R/W pins (6.12+) or FOLL_GET refs (6.1) while the I/O is in flight", wl_odirect_read },
	{ "cow-fork", "fork, then the parent writes every page: COW storm without pins", wl_cow_fork },
	{ "pin-fork", "io_uring-pin a buffer, fork, parent writes: fork copies the pinned pages for the child", wl_pin_fork },
	{ "fork-unshare", "fork, then process_vm_readv (R/O pin) of the child's shared anon pages: the pin unshares them", wl_fork_unshare },
	{ "file-stale", "R/O pin of a MAP_PRIVATE file page in a child, child writes during the pin: page COWed away, copy is stale", wl_file_stale },
	{ "vmsplice-fork", "vmsplice anon pages into a pipe, fork, parent writes: FOLL_GET refs across COW, pipe keeps old data", wl_vmsplice_fork },
	{ "pindrv-stale", "/dev/gwpin R/O long-term pin of read-faulted MAP_PRIVATE file pages, then we write them (6.1: stale pin, 6.12: unshared)", wl_pindrv_stale },
	{ "pindrv-unshare", "/dev/gwpin R/O long-term pin of anon pages shared with a forked child: the pin unshares them", wl_pindrv_unshare },
	{ "pindrv-zero", "/dev/gwpin R/O long-term pin of read-faulted anon pages, i.e. the zero page, then we write them (6.1: the device keeps zeros, 6.12: unshared)", wl_pindrv_zero },
	{ "pindrv-forkcopy", "/dev/gwpin R/W long-term pin of anon pages, then fork: fork copies the pinned pages for the child", wl_pindrv_forkcopy },
	{ "cross-mm", "R/O pin of a file page via a MAP_SHARED mapping in one child, another child COWs it in its MAP_PRIVATE mapping: not stale", wl_cross_mm },
	{ "thp-file", "R/O pin of one subpage of a PMD-mapped tmpfs THP in a MAP_PRIVATE mapping, the child writes a subpage: stale if the same one", wl_thp_file },
	{ "shared-cow", "fork --children C (1100) sleeping children, then the parent writes every shared page: COW without pins", wl_shared_cow },
	{ "unshare-held", "fork two children; R/O pin child 1's pages (unshare), and while held R/O pin child 2's (unshare again)", wl_unshare_held },
};

#define NWL (sizeof(workloads) / sizeof(workloads[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: gwload <workload> [--pages N] [--mem anon|thp|hugetlb] [--hold-ms MS]\n"
		   "              [--no-hold] [--dev PATH] [--file PATH] [--fast] [--verbose]\n"
		   "              [--pin-page K] [--write-page J] [--children C] [--node N]\n"
		   "--node N: all memory gwload and its children fault in comes from NUMA node N\n"
		   "          (set_mempolicy MPOL_BIND)\n"
		   "workloads:\n");
	for (i = 0; i < NWL; i++)
		fprintf(f, "  %-14s %s\n", workloads[i].name, workloads[i].summary);
	fprintf(f, "output: key=value records, see tests/workloads/gwload.h\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "no-hold", no_argument, NULL, 'n' },
		{ "dev", required_argument, NULL, 'd' },
		{ "file", required_argument, NULL, 'f' },
		{ "write-when", required_argument, NULL, 'w' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "pin-page", required_argument, NULL, 'K' },
		{ "write-page", required_argument, NULL, 'J' },
		{ "children", required_argument, NULL, 'C' },
		{ "node", required_argument, NULL, 'N' },
		{ "fast", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.pages = 0, .mem = MEM_ANON, .hold_ms = 200,
		.file = "/tmp/gwload-stale.dat", .repeat = 1,
		.pin_page = 0, .write_page = 1, .children = 1100,
	};
	const struct workload *w = NULL;
	long node = -1;
	size_t i;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < NWL; i++)
		if (!strcmp(argv[1], workloads[i].name))
			w = &workloads[i];
	if (!w) {
		fprintf(stderr, "gwload: unknown workload '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	o.workload = w->name;
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "p:m:H:nd:f:w:K:J:C:N:Fvh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.pages = atol(optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "anon"))
				o.mem = MEM_ANON;
			else if (!strcmp(optarg, "thp"))
				o.mem = MEM_THP;
			else if (!strcmp(optarg, "hugetlb"))
				o.mem = MEM_HUGETLB;
			else {
				fprintf(stderr, "gwload: bad --mem '%s'\n", optarg);
				return 2;
			}
			break;
		case 'H':
			o.hold_ms = atol(optarg);
			break;
		case 'n':
			o.no_hold = 1;
			break;
		case 'd':
			o.dev = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'r':
			o.repeat = atol(optarg);
			break;
		case 'w':
			o.write_when = optarg;
			break;
		case 'K':
			o.pin_page = atol(optarg);
			break;
		case 'J':
			o.write_page = atol(optarg);
			break;
		case 'C':
			o.children = atol(optarg);
			break;
		case 'N':
			node = atol(optarg);
			break;
		case 'F':
			o.gup_fast = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gwload: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (node >= 0) {
		unsigned long mask = 1UL << node;

		if (node >= 64 || syscall(__NR_set_mempolicy, 2 /* MPOL_BIND */, &mask, 64))
			die("set_mempolicy(--node)");
	}
	if (o.pages <= 0)
		o.pages = o.mem == MEM_ANON ? 4 : (long)HUGE_PAGES;
	if (o.mem != MEM_ANON)
		o.pages = (o.pages + (long)HUGE_PAGES - 1) / (long)HUGE_PAGES * (long)HUGE_PAGES;
	if (o.hold_ms < 0)
		o.hold_ms = 0;
	return w->run(&o);
}
