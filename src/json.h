/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON Lines output of trace --json and report --json: one object per line,
 * following doc/gupwatch-json.schema.json (its version: JSON_SCHEMA_VERSION,
 * in every header object). Numbers come from the engine's public API only.
 *
 * Order: header, findings (as reported), then json_summary: one "process"
 * object per process row, with stacks (report) the "callsite", "user_stack"
 * and "outstanding" rows, then one "totals", one "losses".
 */
#ifndef GUPWATCH_JSON_H
#define GUPWATCH_JSON_H

#include <stdio.h>

#include "engine.h"
#include "recfile.h"
#include "sites.h"
#include "stacks.h"

#define JSON_SCHEMA_VERSION 1

/* source: "trace" (live) or "report" (file: its path, else NULL). */
void json_header(FILE *f, const struct engine *e, const struct rec_header *h, const char *source,
		 const char *file);
/* Where the processes' cgroups come from (procinfo.h). */
struct json_cgroups {
	procinfo_cgroup_fn of;
	void *ctx;
};

/* st: the stacks to name (report), NULL: none (trace); cg: the cgroups of the finding's
 * processes, NULL: not known (all null). */
void json_finding(FILE *f, const struct engine *e, const struct engine_finding *fd,
		  const struct stacks *st, const struct json_cgroups *cg);
/* pt: what /proc said of the processes; NULL: nothing */
void json_summary(FILE *f, const struct engine *e, const struct stacks *st,
		  const struct sites_opts *o, const struct procinfo_table *pt);

#endif
