/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live source's stack capture: what an event needs in the item stream
 * before it, read while the traced processes still run: its stacks (from the
 * BPF stack map, once per id), the kernel symbols their frames lie in (from
 * /proc/kallsyms, read after the attach so that gupwatch's own programs are
 * named too) and, per process, its mapped ELF objects with build ids
 * (usyms_snapshot). A record file keeps the same items in the same order.
 */
#ifndef GUPWATCH_CAPTURE_H
#define GUPWATCH_CAPTURE_H

#include <stdint.h>

#include "recfile.h"

struct capture;

/* Where items go: 0, or a negative errno to end the session. */
typedef int (*item_fn)(const struct rec_item *it, void *ctx);

/* Over the stack map stack_fd with nr_ids ids. NULL (errno set) on failure. */
struct capture *capture_new(int stack_fd, uint32_t nr_ids);
void capture_free(struct capture *c);
/* Emit what e needs and has not been emitted yet, then e itself. */
int capture_event(struct capture *c, const struct gw_event *e, item_fn emit, void *ctx);

#endif
