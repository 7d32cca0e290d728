/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report's call-site tables: the engine's pin sites (engine_sites) named by
 * their stacks and merged per kernel call site and per user stack, hold-time
 * log2 histograms per call site, outstanding pins by age, and the findings
 * grouped by the two sides they name. Plain C, no BPF.
 */
#ifndef GUPWATCH_SITES_H
#define GUPWATCH_SITES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "columns.h"
#include "stacks.h"

struct sites_opts {
	const struct sort_spec *sort;
	uint64_t min_age_ns;  /* outstanding pins held at least this long */
	bool histograms;      /* hold-time histograms per call site */
};

/* A merged table row: sites sharing a key (call site, or comm + user stack). */
struct site_group {
	char key[512];        /* the call site, or the user stack summary */
	char api[128];        /* kernel call sites: the GUP entry point they called */
	char comm[16];        /* user stacks: the process name; else "" */
	uint32_t pid;         /* the first site's (sorting, outstanding rows) */
	uint32_t flags;       /* outstanding rows: the kind */
	uint32_t procs;       /* distinct processes merged */
	uint64_t pins, ro, rw, longterm; /* pins taken; kept by kind */
	uint64_t released, held, held_folios, pin_ns, oldest_ns;
	uint64_t hold[ENGINE_HOLD_SLOTS];
};

enum site_grouping { GROUP_CALL_SITE, GROUP_USER_STACK, GROUP_OUTSTANDING };

/*
 * The sites of e merged by grouping into a new array (sorted by opts->sort;
 * outstanding: only sites holding pins, oldest first); *n rows. NULL with
 * *n = 0 when there are none or memory ran out.
 */
struct site_group *sites_group(const struct engine *e, const struct stacks *st,
			       enum site_grouping grouping, const struct sort_spec *sort, size_t *n);

/* The text tables, after engine_print_summary's. */
void sites_print(FILE *f, const struct engine *e, const struct stacks *st, const struct sites_opts *o);

/* Rows of a log2 histogram of hold times (print_log2_hist style, usecs). */
void sites_print_hist(FILE *f, const uint64_t hold[ENGINE_HOLD_SLOTS]);

#endif
