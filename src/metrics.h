/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's numbers in the Prometheus text exposition format (0.0.4), and
 * a minimal HTTP/1.1 server that answers GET /metrics with the latest
 * rendering (a thread of its own; the renderer runs in the session loop, so
 * the engine is never read from two threads).
 */
#ifndef GUPWATCH_METRICS_H
#define GUPWATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

/* Label cardinality: the (cgroup, comm) groups holding the most pin references, then
 * comm="(other)". */
#define METRICS_MAX_GROUPS 50
/* ... and the (comm, kind of pin, call site) groups of the hold-time histogram (21 buckets each). */
#define METRICS_MAX_HOLD_GROUPS 20

struct stacks;

/* Renders the metrics into f. stacks: the pin sites' kernel stacks, for the hold-time histogram's
 * site label (NULL: none, site=""); counters: the kernel side's (NULL: unknown). */
void metrics_render(FILE *f, const struct engine *e, const struct stacks *stacks,
		    const uint64_t counters[GW_CNT__MAX]);

struct metrics_server;

#define METRICS_LISTEN_HELP "want IPV4-ADDRESS:PORT, e.g. 127.0.0.1:9776 (0.0.0.0: every interface)"
/* "ADDR:PORT" is numeric IPv4 (or localhost) and a port. */
bool metrics_listen_valid(const char *addr_port);

/*
 * Listens on "ADDR:PORT" (numeric IPv4, or localhost). NULL with a one-line cause
 * in err on failure (nothing listens then).
 */
struct metrics_server *metrics_listen(const char *addr_port, char *err, size_t err_len);
/* Serves requests in a thread until metrics_close. 0 or -errno. */
int metrics_start(struct metrics_server *s);
/* What GET /metrics answers from now on (copied). */
void metrics_publish(struct metrics_server *s, const char *text, size_t len);
void metrics_close(struct metrics_server *s);

#endif
