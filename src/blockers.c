// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch blockers: who holds pins on this physical memory, now.
 *
 * The kernel's own pin state of every page in the range is read by a BPF
 * program through vmemmap (bpf/pinscan.bpf.c, run with BPF_PROG_TEST_RUN,
 * nothing attached), so pins taken before gupwatch started are found and it
 * works where hooking kernel functions is not allowed. The processes that map
 * each pinned page are then found through /proc/PID/pagemap. The kernel keeps
 * no record of who took a pin: the rows name the mappers of pinned memory,
 * which for pins of user memory (io_uring, RDMA, vfio, O_DIRECT) are the
 * processes that asked for them.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "cli.h"
#include "columns.h"
#include "commands.h"
#include "format.h"
#include "ksyms.h"
#include "pinscan.h"
#include "pinscan.skel.h"
#include "probe.h"

#define PAGE_4K 4096ULL
#define MAX_RANGES 64

struct pfn_range {
	uint64_t start, end; /* [start, end) */
};

static struct blockers_env {
	struct pfn_range ranges[MAX_RANGES];
	int nr_ranges;
	char what[128]; /* the range as the user named it */
	struct sort_spec sort;
} env = {
	.sort = { { COL_PINNED_PAGES, COL_PID }, 2 },
};

enum { OPT_PFN = 0x100, OPT_MEMORY_BLOCK, OPT_NODE, OPT_ZONE };

static const struct argp_option blockers_options[] = {
	{ "pfn", OPT_PFN, "A-B", 0, "Physical pages A to B, both included (decimal or 0x hex)", 0 },
	{ "memory-block", OPT_MEMORY_BLOCK, "N", 0, "Memory block N (/sys/devices/system/memory/memoryN)", 0 },
	{ "node", OPT_NODE, "N", 0, "Every zone of NUMA node N (/proc/zoneinfo)", 0 },
	{ "zone", OPT_ZONE, "NAME", 0, "Zone NAME on every node: dma, dma32, normal, movable (/proc/zoneinfo)", 0 },
	{ "sort", 's', "KEYS", 0, "Order of the rows: comma-separated column names (default pinned-pages,pid)", 0 },
	{ 0 },
};

static int add_range(uint64_t start, uint64_t end)
{
	if (env.nr_ranges == MAX_RANGES)
		return -1;
	env.ranges[env.nr_ranges++] = (struct pfn_range){ start, end };
	return 0;
}

static uint64_t parse_u64(const char *arg, const char *what, struct argp_state *state)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-')
		argp_error(state, "invalid %s '%s': expected a number (decimal or 0x hex)", what, arg);
	return v;
}

static void parse_pfn_range(char *arg, struct argp_state *state)
{
	char *dash = strchr(arg, '-');
	uint64_t a, b;

	if (!dash)
		argp_error(state, "invalid --pfn '%s': expected A-B, e.g. 0x100000-0x107fff", arg);
	*dash = '\0';
	a = parse_u64(arg, "--pfn start", state);
	b = parse_u64(dash + 1, "--pfn end", state);
	*dash = '-';
	if (b < a || b - a >= 1ULL << 40)
		argp_error(state, "invalid --pfn '%s': the end is below the start, or the range is "
			   "over 4 PiB", arg);
	add_range(a, b + 1);
	snprintf(env.what, sizeof(env.what), "PFN %#" PRIx64 "-%#" PRIx64, a, b);
}

static void parse_memory_block(const char *arg, struct argp_state *state)
{
	uint64_t n = parse_u64(arg, "--memory-block", state), block_bytes, pages;
	char path[96], buf[64];
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");

	if (!f || !fgets(buf, sizeof(buf), f) || !(block_bytes = strtoull(buf, NULL, 16)))
		argp_error(state, "cannot read /sys/devices/system/memory/block_size_bytes (%s): "
			   "is sysfs mounted?", f ? "empty" : strerror(errno));
	fclose(f);
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64, n);
	if (access(path, F_OK))
		argp_error(state, "no memory block %" PRIu64 " (%s does not exist; ls "
			   "/sys/devices/system/memory lists the blocks)", n, path);
	pages = block_bytes / PAGE_4K;
	add_range(n * pages, (n + 1) * pages);
	/* an offline block's pages are free: say so rather than only "none pinned" */
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/state", n);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		snprintf(buf, sizeof(buf), "state unknown");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	snprintf(env.what, sizeof(env.what), "memory block %" PRIu64 " (PFN %#" PRIx64 "-%#" PRIx64
		 ", %s)", n, n * pages, (n + 1) * pages - 1, buf);
}

/* Zones from /proc/zoneinfo: every zone of node (when >= 0) or named zone (when set). */
static void parse_zones(long node, const char *zone, struct argp_state *state)
{
	struct zone_span zones[MAX_RANGES];
	int n = probe_zones(zones, MAX_RANGES), found = 0;

	if (n < 0)
		argp_error(state, "cannot read /proc/zoneinfo: %s", strerror(-n));
	for (int i = 0; i < n; i++)
		if ((node < 0 || zones[i].node == node) && (!zone || !strcasecmp(zone, zones[i].name))) {
			add_range(zones[i].start, zones[i].end);
			found++;
		}
	if (!found && zone)
		argp_error(state, "no zone '%s' with memory in /proc/zoneinfo%s", zone,
			   !strcasecmp(zone, "movable") ? " (ZONE_MOVABLE exists only with movable "
			   "memory: kernelcore=, movablecore= or memory onlined movable)" : "");
	if (!found)
		argp_error(state, "no node %ld with memory in /proc/zoneinfo", node);
	if (zone)
		snprintf(env.what, sizeof(env.what), "zone %s", zone);
	else if (node >= 0)
		snprintf(env.what, sizeof(env.what), "node %ld", node);
	else
		snprintf(env.what, sizeof(env.what), "all memory");
}

static error_t blockers_parse(int key, char *arg, struct argp_state *state)
{
	if (env.nr_ranges && (key == OPT_PFN || key == OPT_MEMORY_BLOCK || key == OPT_NODE || key == OPT_ZONE))
		argp_error(state, "give one of --pfn, --memory-block, --node, --zone");
	switch (key) {
	case OPT_PFN:
		parse_pfn_range(arg, state);
		break;
	case OPT_MEMORY_BLOCK:
		parse_memory_block(arg, state);
		break;
	case OPT_NODE:
		parse_zones(parse_u64(arg, "--node", state), NULL, state);
		break;
	case OPT_ZONE:
		parse_zones(-1, arg, state);
		break;
	case 's':
		cli_sort(arg, &env.sort, state);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env.nr_ranges)
			parse_zones(-1, NULL, state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp blockers_argp = {
	.options = blockers_options,
	.parser = blockers_parse,
	.doc = "Who holds pins on this physical memory now: the kernel's own pin counts of every "
	       "page in the range (default: all memory), and the processes that map the pinned "
	       "pages.\vNeeds root: BPF, and the PFNs of /proc/PID/pagemap.",
};

struct found_set {
	struct pinscan_folio *folios;
	size_t nr, cap;
	uint64_t pages_read;
	uint64_t *mapped_by; /* per folio: processes that map it */
};

static int scan_range(struct pinscan_bpf *skel, const struct pfn_range *r, struct found_set *set)
{
	int fd = bpf_program__fd(skel->progs.scan);

	skel->bss->scan_next = r->start;
	skel->bss->scan_first = r->start;
	skel->bss->scan_end = r->end;
	while (skel->bss->scan_next < r->end) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		uint32_t n;

		if (bpf_prog_test_run_opts(fd, &opts))
			return -errno;
		if (skel->bss->no_vmemmap)
			return -ENOENT;
		n = skel->bss->nr_found;
		if (set->nr + n > set->cap) {
			size_t cap = (set->nr + n) * 2;
			void *p = realloc(set->folios, cap * sizeof(*set->folios));

			if (!p)
				return -ENOMEM;
			set->folios = p;
			set->cap = cap;
		}
		memcpy(set->folios + set->nr, skel->bss->found, n * sizeof(*set->folios));
		set->nr += n;
	}
	set->pages_read = skel->bss->pages_read;
	return 0;
}

/* The folio a PFN belongs to, or -1 (folios are sorted by PFN: scanned in order). */
static long folio_of_pfn(const struct found_set *set, uint64_t pfn)
{
	size_t lo = 0, hi = set->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pinscan_folio *f = &set->folios[mid];

		if (pfn < f->pfn)
			hi = mid;
		else if (pfn >= f->pfn + f->nr_pages)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

static int folio_by_pfn(const void *a, const void *b)
{
	const struct pinscan_folio *x = a, *y = b;

	return (x->pfn > y->pfn) - (x->pfn < y->pfn);
}

/*
 * One process: the pinned pages it maps. Only VMAs with resident pages are
 * read (smaps' Rss), 512 pagemap entries at a time. seen[] marks the folios
 * it maps, so that its FOLIOS and KPINS count each once.
 */
static int map_process(const struct found_set *set, unsigned int pid, struct table_row *row,
		       uint8_t *seen, bool *pfns_hidden)
{
	char path[64], line[512];
	uint64_t start = 0, end = 0, rss, entries[512];
	FILE *smaps;
	int pm;

	snprintf(path, sizeof(path), "/proc/%u/smaps", pid);
	if (!(smaps = fopen(path, "r")))
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/pagemap", pid);
	if ((pm = open(path, O_RDONLY)) < 0) {
		fclose(smaps);
		return 0;
	}
	memset(seen, 0, set->nr);
	while (fgets(line, sizeof(line), smaps)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &start, &end) == 2)
			continue;
		if (sscanf(line, "Rss: %" SCNu64 " kB", &rss) != 1 || !rss)
			continue;
		for (uint64_t va = start; va < end;) {
			size_t n = (end - va) / PAGE_4K;
			ssize_t got;

			if (n > 512)
				n = 512;
			got = pread(pm, entries, n * 8, (va / PAGE_4K) * 8);
			if (got <= 0)
				break;
			for (size_t i = 0; i < (size_t)got / 8; i++) {
				uint64_t e = entries[i], pfn = e & ((1ULL << 55) - 1);
				long k;

				if (!(e >> 63))
					continue;
				if (!pfn) {
					*pfns_hidden = true;
					continue;
				}
				if ((k = folio_of_pfn(set, pfn)) < 0)
					continue;
				row->pinned_pages++;
				if (!seen[k]) {
					seen[k] = 1;
					row->held_folios++;
					row->kernel_pins += set->folios[k].pins;
					set->mapped_by[k]++;
				}
			}
			va += (uint64_t)got / 8 * PAGE_4K;
		}
	}
	close(pm);
	fclose(smaps);
	return 0;
}

static void read_comm(unsigned int pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	comm[0] = '\0';
	if ((f = fopen(path, "r"))) {
		if (fgets(comm, len, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

static const enum column blockers_cols[] = { COL_PID, COL_COMM, COL_PINNED_PAGES, COL_FOLIOS,
					     COL_KERNEL_PINS, COL_PINNED_BYTES };

#define NCOLS (sizeof(blockers_cols) / sizeof(blockers_cols[0]))

struct holders {
	struct table_row *rows;
	char (*comms)[GW_COMM_LEN + 1];
	size_t nr, cap;
};

static int holders_add(struct holders *hs, const struct table_row *row)
{
	if (hs->nr == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 64;
		void *r = realloc(hs->rows, cap * sizeof(*hs->rows));
		void *c = r ? realloc(hs->comms, cap * sizeof(*hs->comms)) : NULL;

		if (r)
			hs->rows = r;
		if (!c)
			return -ENOMEM;
		hs->comms = c;
		hs->cap = cap;
	}
	read_comm(row->pid, hs->comms[hs->nr], sizeof(hs->comms[0]));
	hs->rows[hs->nr] = *row;
	hs->rows[hs->nr].comm = hs->comms[hs->nr];
	hs->nr++;
	return 0;
}

/* Every process's pinned pages; 1 when PFNs are hidden from us (not root). */
static int find_holders(struct found_set *set, struct holders *hs)
{
	uint8_t *seen = malloc(set->nr ?: 1);
	bool pfns_hidden = false;
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int err = 0;

	if (!seen || !proc) {
		fprintf(stderr, "gupwatch: cannot list /proc: %s\n", strerror(errno));
		err = 1;
	}
	while (!err && set->nr && (d = readdir(proc))) {
		struct table_row row = { 0 };
		char *end;
		unsigned long pid = strtoul(d->d_name, &end, 10);

		if (!isdigit((unsigned char)d->d_name[0]) || *end || !pid)
			continue;
		row.pid = pid;
		map_process(set, pid, &row, seen, &pfns_hidden);
		if (row.pinned_pages && holders_add(hs, &row)) {
			fprintf(stderr, "gupwatch: out of memory\n");
			err = 1;
		}
	}
	if (proc)
		closedir(proc);
	free(seen);
	if (!err && pfns_hidden) {
		fprintf(stderr, "gupwatch: /proc/PID/pagemap shows no PFNs to this user; fix: run "
			"gupwatch blockers as root (CAP_SYS_ADMIN)\n");
		err = 1;
	}
	return err;
}

static void print_blockers(const struct found_set *set, struct holders *hs)
{
	struct table_row unmapped = { 0 };
	uint64_t pins = 0, pages = 0;
	char buf[32];

	for (size_t k = 0; k < set->nr; k++) {
		pins += set->folios[k].pins;
		pages += set->folios[k].nr_pages;
		if (!set->mapped_by[k]) {
			unmapped.pinned_pages += set->folios[k].nr_pages;
			unmapped.held_folios++;
			unmapped.kernel_pins += set->folios[k].pins;
		}
	}
	printf("gupwatch blockers: %s: %" PRIu64 " struct pages read, %zu folios pinned (%" PRIu64
	       " pages) with %" PRIu64 " pins, by the kernel's counts\n", env.what, set->pages_read,
	       set->nr, pages, pins);
	if (!set->nr)
		return;
	printf("\nProcesses that map pinned pages (a page mapped by several counts in each of their rows)\n");
	table_sort(hs->rows, hs->nr, &env.sort, NULL);
	table_print_header(stdout, "  ", blockers_cols, NCOLS);
	for (size_t i = 0; i < hs->nr; i++)
		table_print_row(stdout, "  ", blockers_cols, NCOLS, &hs->rows[i]);
	if (unmapped.held_folios)
		printf("\n  %s in %" PRIu64 " pinned folios with %" PRIu64 " pins mapped by no process "
		       "(page cache, kernel buffers, or a mapping gone since)\n",
		       fmt_bytes(unmapped.pinned_pages * PAGE_4K, buf, sizeof(buf)),
		       unmapped.held_folios, unmapped.kernel_pins);
	printf("\nPinned folios\n  %-14s %6s %6s %9s %9s\n", "PFN", "PAGES", "PINS", "REFCOUNT", "MAPCOUNT");
	for (size_t k = 0; k < set->nr; k++) {
		const struct pinscan_folio *f = &set->folios[k];

		printf("  %#-14" PRIx64 " %6u %6u %9d %9d\n", (uint64_t)f->pfn, f->nr_pages, f->pins,
		       f->refcount, f->mapcount);
	}
}

int cmd_blockers(int argc, char **argv)
{
	struct found_set set = { 0 };
	struct holders hs = { 0 };
	struct pinscan_bpf *skel;
	int err = 0, ret = 1;

	if (argp_parse(&blockers_argp, argc, argv, 0, NULL, NULL))
		return 2;
	skel = pinscan_bpf__open();
	if (skel) {
		struct ksyms_kernel_data kd;

		ksyms_kernel_data(&kd);
		skel->rodata->ksym_vmemmap_base = kd.vmemmap_base;
		if (pinscan_bpf__load(skel)) {
			err = errno;
			pinscan_bpf__destroy(skel);
			skel = NULL;
			errno = err;
		}
	}
	if (!skel) {
		err = errno;
		fprintf(stderr, "gupwatch: cannot load the pin-state scan: %s; fix: %s\n", strerror(err),
			err == EPERM || err == EACCES ? "run it as root (CAP_BPF and CAP_PERFMON, or "
			"CAP_SYS_ADMIN)" : "'gupwatch check' tells what this kernel allows");
		return 1;
	}
	for (int i = 0; i < env.nr_ranges && !err; i++)
		err = scan_range(skel, &env.ranges[i], &set);
	pinscan_bpf__destroy(skel);
	if (err == -ENOENT) {
		fprintf(stderr, "gupwatch: cannot find the kernel's struct pages: vmemmap_base is not in "
			"/proc/kallsyms (a kernel built without CONFIG_KALLSYMS_ALL); blockers needs it\n");
		goto out;
	}
	if (err) {
		fprintf(stderr, "gupwatch: the pin-state scan failed: %s\n", strerror(-err));
		goto out;
	}
	qsort(set.folios, set.nr, sizeof(*set.folios), folio_by_pfn);
	set.mapped_by = calloc(set.nr ?: 1, sizeof(*set.mapped_by));
	if (!set.mapped_by) {
		fprintf(stderr, "gupwatch: out of memory\n");
		goto out;
	}
	if (!find_holders(&set, &hs)) {
		print_blockers(&set, &hs);
		ret = 0;
	}
out:
	free(hs.rows);
	free(hs.comms);
	free(set.folios);
	free(set.mapped_by);
	return ret;
}
