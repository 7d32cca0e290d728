/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pin-state scan (bpf/pinscan.bpf.c, gupwatch blockers): what it reports
 * of each folio that the kernel's own counts show pinned. Shared by both sides.
 */
#ifndef GUPWATCH_PINSCAN_H
#define GUPWATCH_PINSCAN_H

#define PINSCAN_MAX_FOUND   4096   /* folios reported per run; the next run goes on from there */
#define PINSCAN_RUN_PAGES   65536  /* struct pages read per run: 256 MiB of memory */

struct pinscan_folio {
	__u64 pfn;       /* the folio's first page */
	__u32 nr_pages;
	__u32 pins;      /* large: _pincount; small: (refcount - mapcount) / 1024 */
	__s32 refcount;
	__s32 mapcount;  /* mappings of its first page (_mapcount + 1) */
};

#endif
