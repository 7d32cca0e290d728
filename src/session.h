/* SPDX-License-Identifier: GPL-2.0 */
/* One tracing session: attach, stream events, stop on time or signal, detach. */
#ifndef GUPWATCH_SESSION_H
#define GUPWATCH_SESSION_H

#include <linux/types.h>
#include <stdint.h>

#include "attach.h"
#include "gupwatch.h"

struct session_ops {
	void (*on_start)(const struct tracer *t, void *ctx); /* attached, before any event */
	void (*on_event)(const struct gw_event *e, void *ctx);
	void (*on_idle)(uint64_t now_ns, void *ctx);          /* no event for a while */
};

/*
 * Runs until duration_s (0: no limit), SIGINT or SIGTERM; a signal during the
 * attach still ends in a clean detach. On return the kernel's counters are in
 * counters[]. Returns 0, or 1 after printing the cause (one line, stderr).
 * With opts->load_only it loads, reports and returns without attaching.
 */
int session_run(const struct tracer_opts *opts, long duration_s, const struct session_ops *ops,
		void *ctx, uint64_t counters[GW_CNT__MAX]);

/* End the running session as a signal would (callable from its callbacks). */
void session_stop(void);

/* CLOCK_MONOTONIC in ns: the clock of the events' ts_ns. */
uint64_t session_now_ns(void);

#endif
