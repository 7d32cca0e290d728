/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live source: attach, stream items, stop on time or signal, detach.
 * Items are what a record file holds, in its order (recfile.h): each event,
 * preceded with --stacks by the stacks it carries and what names their
 * frames (capture.h). A record file is the other source; the commands are
 * sinks of either (trace and report: the correlation consumer, record: the
 * file writer, top: its table).
 */
#ifndef GUPWATCH_SESSION_H
#define GUPWATCH_SESSION_H

#include <linux/types.h>
#include <stdint.h>

#include "attach.h"
#include "capture.h"
#include "gupwatch.h"

/* The ring buffer is read at least this often: on_idle runs after every read. */
#define SESSION_POLL_MS 100
/* After the stop, what the ring buffer holds is read for at most this long. */
#define SESSION_DRAIN_MS 500

struct session_ops {
	void (*on_start)(const struct tracer *t, void *ctx); /* attached, before any item */
	item_fn on_item;                                      /* an error ends the session */
	void (*on_idle)(uint64_t now_ns, void *ctx);          /* no event for a while */
	void (*on_hup)(void *ctx); /* set: SIGHUP calls it (from the loop) instead of stopping */
	/* REC_PROCINFO items too: what /proc says of a process before its first event, and of
	 * every such process still running after the last event */
	bool procinfo;
};

/*
 * Runs until duration_s (0: no limit), SIGINT, SIGTERM or SIGHUP (unless ops->on_hup); a signal
 * during the attach still ends in a clean detach, a second signal exits the
 * process at once. On return the kernel's counters are in
 * counters[]. Returns 0, or 1 after printing the cause (one line, stderr).
 * With opts->load_only it loads, reports and returns without attaching.
 */
int session_run(const struct tracer_opts *opts, long duration_s, const struct session_ops *ops,
		void *ctx, uint64_t counters[GW_CNT__MAX]);

/* End the running session as a signal would (callable from its callbacks). */
void session_stop(void);

/* The kernel-side counters so far, during a session (its callbacks). */
void session_counters(uint64_t counters[GW_CNT__MAX]);

/* CLOCK_MONOTONIC in ns: the clock of the events' ts_ns. */
uint64_t session_now_ns(void);

#endif
