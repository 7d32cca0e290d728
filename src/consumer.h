/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The consumer trace and report share: items from either source (session.h,
 * recfile.h) into the correlation engine and the stack store, and findings
 * and the summary out as text or JSON. The same items give the same output
 * whichever source delivered them.
 */
#ifndef GUPWATCH_CONSUMER_H
#define GUPWATCH_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "recfile.h"
#include "sites.h"

struct consumer_opts {
	struct engine_opts engine; /* on_finding is the consumer's */
	const char *symfs;         /* user binaries looked up under it first (stacks_new) */
	bool json;
	bool finding_stacks;       /* text: the stacks of both sides under each finding */
	bool events;               /* text: every event, with its stacks */
	bool live;                 /* output flushed as it happens */
};

struct consumer;

/* NULL (errno set) on failure. */
struct consumer *consumer_new(const struct consumer_opts *o);
void consumer_free(struct consumer *c);
/* The sink: one item, in the source's order. 0 or -ENOMEM. */
int consumer_item(const struct rec_item *it, void *consumer);
/* Before the first item: the JSON header (source "trace" or "report", file or NULL), or the
 * findings table's header line. */
void consumer_begin(struct consumer *c, const struct rec_header *h, const char *source,
		    const char *file);
void consumer_tick(struct consumer *c, uint64_t now_ns);
/* What the PROCINFO items said of each process so far. */
const struct procinfo_table *consumer_procinfo(const struct consumer *c);
/* After the last item: the summary (counters NULL: the kernel's unknown, a recording cut
 * short); sites (report) adds the call-site tables. */
void consumer_end(struct consumer *c, const uint64_t counters[GW_CNT__MAX], uint64_t end_ns,
		  const struct sort_spec *sort, const struct sites_opts *sites);

#endif
