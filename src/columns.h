/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The columns of every text table (report's and trace's summaries, top), each
 * defined once: its name (the --sort key), header, width, how it prints and
 * how it compares, as perf's struct perf_hpp_fmt. A table is a list of
 * columns over rows of struct table_row. Plain C.
 */
#ifndef GUPWATCH_COLUMNS_H
#define GUPWATCH_COLUMNS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "procinfo.h"

/* One row of any table; a table fills what its columns show (and its sort keys read). */
struct table_row {
	uint32_t pid;                 /* 0: the rows beyond the engine's limits, "(other)" */
	uint32_t kind;                /* GW_PIN_* of a row of one kind of pin */
	const char *comm;             /* at most GW_COMM_LEN bytes, not always terminated */
	const char *site, *via;       /* kernel call site, the GUP entry point it called */
	const char *ustack;           /* user stack summary */
	uint64_t procs;               /* processes merged into the row */
	uint64_t pins, unpins, fast_undo, gets; /* refs taken, dropped, undone by GUP-fast */
	uint64_t ro, rw, longterm;    /* pins kept (taken - undone) by kind */
	uint64_t held, held_min;      /* refs held now: at most, at least */
	uint64_t held_ro, held_rw, held_longterm; /* of held, by kind */
	uint64_t held_folios;
	uint64_t pin_ns;              /* refs x time held */
	uint64_t oldest_ns;           /* since when its oldest pin is held; 0: none */
	uint64_t now_ns;              /* the table's clock, for AGE */
	uint64_t cow, unshare, fork_copy, findings;
	double pins_per_s;
	uint64_t pinned_pages;        /* blockers: pinned pages of the range it maps */
	uint64_t kernel_pins;         /* blockers: the kernel's pin counts of those folios */
	const struct procinfo *proc;  /* top: what /proc says of the process; NULL: nothing */
};

enum column {
	COL_PID, COL_COMM, COL_PROCS, COL_KIND,
	COL_PINS, COL_UNPINS, COL_FAST_UNDO, COL_RO, COL_RW, COL_LONGTERM, COL_GETS,
	COL_PIN_SECONDS, COL_HELD, COL_BYTES, COL_HELD_RO, COL_HELD_RW, COL_HELD_LONGTERM,
	COL_FOLIOS, COL_AGE, COL_COW, COL_UNSHARE, COL_FORK_COPY, COL_FINDINGS, COL_PINS_PER_S,
	COL_PINNED_PAGES, COL_KERNEL_PINS, COL_PINNED_BYTES,
	COL_VMPIN, COL_MEMLOCK, COL_LEDGER, COL_CGROUP,
	COL_SITE, COL_VIA, COL_USTACK,
	COL__MAX
};

#define SORT_MAX_KEYS 8

struct sort_spec {
	enum column keys[SORT_MAX_KEYS];
	unsigned int n; /* 0: the table's default */
};

/* "pin-seconds,pid": 0, or -1 with "unknown sort key 'x' (keys: ...)" in err. */
int sort_parse(const char *s, struct sort_spec *spec, char *err, size_t errlen);
/* <0, 0, >0: a before, tied with, after b by spec (ties broken by pid, site, stack). */
int table_row_cmp(const struct table_row *a, const struct table_row *b, const struct sort_spec *spec);
/* rows[0..n) by spec, or by def when spec is NULL or empty; ties by pid, site, stack. */
void table_sort(struct table_row *rows, size_t n, const struct sort_spec *spec,
		const struct sort_spec *def);
/* The header line and the rows of a table of the columns cols[0..ncols), each line indented. */
void table_print_header(FILE *f, const char *indent, const enum column *cols, size_t ncols);
void table_print_row(FILE *f, const char *indent, const enum column *cols, size_t ncols,
		     const struct table_row *row);

/* Page size for the BYTES column (top's host; 4096 by default). */
void table_set_page_size(uint64_t bytes);

#endif
