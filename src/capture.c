// SPDX-License-Identifier: GPL-2.0
#include "capture.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "usyms.h"

/* The modules a process's MAPS item listed, to tell when a frame needs a new one. */
struct proc_maps {
	uint32_t pid;
	uint32_t snapshots;   /* taken so far (exec and dlopen add modules) */
	struct usym_module *m;
	int nr;               /* < 0: the process could not be read */
};

#define MAX_SNAPSHOTS 4 /* per process: a frame outside every module retakes it */

struct capture {
	int stack_fd;
	uint32_t nr_ids;
	uint8_t *stack_sent;  /* by stack id */
	struct ksyms *ksyms;
	uint8_t *ksym_sent;   /* by symbol index */
	struct proc_maps *procs;
	size_t nprocs;
	struct rec_item it;   /* 1 KiB of frames: not on the stack */
};

struct capture *capture_new(int stack_fd, uint32_t nr_ids)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->stack_fd = stack_fd;
	c->nr_ids = nr_ids;
	c->ksyms = ksyms_load("/proc/kallsyms");
	if (!c->ksyms)
		fprintf(stderr, "gupwatch: no kernel symbols (/proc/kallsyms: %s): kernel frames "
			"stay addresses\n", strerror(errno));
	c->stack_sent = calloc(nr_ids ?: 1, 1);
	c->ksym_sent = calloc(ksyms_count(c->ksyms) ?: 1, 1);
	if (!c->stack_sent || !c->ksym_sent) {
		capture_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	free(c->stack_sent);
	free(c->ksym_sent);
	ksyms_free(c->ksyms);
	for (size_t i = 0; i < c->nprocs; i++)
		free(c->procs[i].m);
	free(c->procs);
	free(c);
}

static int emit_kernel_symbols(struct capture *c, const uint64_t *frames, uint32_t nr, item_fn emit,
			       void *ctx)
{
	for (uint32_t i = 0; i < nr; i++) {
		long idx = ksyms_find(c->ksyms, frames[i]);
		int err;

		if (idx < 0 || c->ksym_sent[idx])
			continue;
		c->it.type = REC_KSYM;
		c->it.ksym.name = ksyms_sym(c->ksyms, idx, &c->it.ksym.start);
		if ((err = emit(&c->it, ctx)))
			return err;
		c->ksym_sent[idx] = 1;
	}
	return 0;
}

static struct proc_maps *proc_maps_find(struct capture *c, uint32_t pid)
{
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->procs[i].pid == pid)
			return &c->procs[i];
	return NULL;
}

static struct proc_maps *proc_maps(struct capture *c, uint32_t pid)
{
	struct proc_maps *more, *p = proc_maps_find(c, pid);

	if (p)
		return p;
	more = realloc(c->procs, (c->nprocs + 1) * sizeof(*more));
	if (!more)
		return NULL;
	c->procs = more;
	c->procs[c->nprocs] = (struct proc_maps){ .pid = pid };
	return &c->procs[c->nprocs++];
}

static bool maps_cover(const struct proc_maps *p, const uint64_t *frames, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++) {
		int k;

		for (k = 0; k < p->nr; k++)
			if (frames[i] >= p->m[k].start && frames[i] < p->m[k].end)
				break;
		if (k == p->nr)
			return false;
	}
	return true;
}

/* A MAPS item for pid unless the last one covers every frame. */
static int emit_maps(struct capture *c, uint32_t pid, const uint64_t *frames, uint32_t nr,
		     item_fn emit, void *ctx)
{
	struct proc_maps *p = proc_maps(c, pid);
	int n;

	if (!p || p->nr < 0 || (p->snapshots && maps_cover(p, frames, nr)) ||
	    p->snapshots == MAX_SNAPSHOTS)
		return 0;
	p->snapshots++;
	free(p->m);
	n = usyms_snapshot_new(pid, &p->m);
	if (n <= 0) {
		p->nr = -1; /* gone already: its frames stay addresses */
		return 0;
	}
	p->nr = n;
	c->it.type = REC_MAPS;
	c->it.maps.pid = pid;
	c->it.maps.nr = n;
	c->it.maps.modules = p->m;
	return emit(&c->it, ctx);
}

int capture_event(struct capture *c, const struct gw_event *e, item_fn emit, void *ctx)
{
	const int32_t ids[2] = { e->kstack_id, e->ustack_id };
	uint64_t *frames = c->it.stack.frames;
	int err;

	for (int k = 0; k < 2; k++) {
		uint32_t id = ids[k], nr = 0;

		/* a stack is needed once; a user stack again for a process without maps yet */
		if (ids[k] < 0 || id >= c->nr_ids ||
		    (c->stack_sent[id] && (k == 0 || proc_maps_find(c, e->task.pid))) ||
		    bpf_map_lookup_elem(c->stack_fd, &id, frames))
			continue;
		while (nr < REC_MAX_FRAMES && frames[nr])
			nr++;
		err = k == 0 ? emit_kernel_symbols(c, frames, nr, emit, ctx) :
			       emit_maps(c, e->task.pid, frames, nr, emit, ctx);
		if (err)
			return err;
		if (!c->stack_sent[id]) {
			/* the symbol and maps items above reused the item: the frames are intact */
			c->it.type = REC_STACK;
			c->it.stack.id = id;
			c->it.stack.user = k == 1;
			c->it.stack.nr = nr;
			if ((err = emit(&c->it, ctx)))
				return err;
		}
		c->stack_sent[id] = 1;
	}
	c->it.type = REC_EVENT;
	c->it.event = *e;
	return emit(&c->it, ctx);
}
