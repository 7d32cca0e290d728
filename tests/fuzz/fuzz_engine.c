// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the correlation engine on arbitrary event sequences.
 * Each 96 bytes of input make one event, bent towards what makes the engine
 * work: a few folios and processes (so that pins, unpins and copies meet),
 * small refs, time moving forward. After every event and at the end the
 * engine's invariants must hold, or the target aborts:
 *  - every unpin ref is credited to a process or counted unknown/unattributed;
 *  - pins taken by processes add up to the total (folio_add_pin's apart);
 *    refs held never exceed refs taken, nor go "negative" (wrap around);
 *  - no STALE-PIN without a pinner or an untracked pin the kernel showed, no
 *    UNSHARE linked to a pin that does not exist.
 */
#include <linux/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MAX_PROCS 8

static void check(const struct engine *e)
{
	struct engine_proc p[MAX_PROCS + 1];
	size_t n = engine_procs(e, p, MAX_PROCS + 1), nf;
	const struct engine_finding *f = engine_findings(e, &nf);
	uint64_t pins = 0, unpins = 0, out = 0;
	struct engine_totals t;

	engine_totals(e, &t);
	if (n > MAX_PROCS + 1)
		abort();
	for (size_t i = 0; i < n; i++) {
		pins += p[i].pin_refs;
		unpins += p[i].unpin_refs;
		out += p[i].out_refs_min;
		/* kept by kind + undone: every pin but folio_add_pin's (no kind), at most */
		if (p[i].out_refs_min > p[i].out_refs || p[i].out_refs > p[i].pin_refs ||
		    p[i].ro_refs + p[i].rw_refs + p[i].fast_undone_refs > p[i].pin_refs)
			abort();
	}
	if (pins != t.pin_refs + t.added_pin_refs ||
	    unpins + t.unknown_unpin_refs + t.unattributed_unpin_refs != t.unpin_refs)
		abort();
	if (t.out_refs > t.pin_refs + t.added_pin_refs || out > t.out_refs || t.out_refs >> 62)
		abort();
	for (size_t i = 0; i < nf; i++) {
		if (f[i].kind == ENGINE_STALE_PIN && !f[i].nr_pinners && !f[i].untracked_pins)
			abort();
		if (f[i].kind == ENGINE_UNSHARE && f[i].who == ENGINE_WHO_TRACKED && !f[i].nr_pinners)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_opts o = { .max_folios = 16, .max_procs = MAX_PROCS, .max_sites = 8,
				 .max_findings = 64 };
	struct engine *e = engine_new(&o);
	uint64_t ts = 1000000000ULL;

	if (!e)
		return 0;
	for (; size >= sizeof(struct gw_event); data += sizeof(struct gw_event), size -= sizeof(struct gw_event)) {
		struct gw_event ev;

		memcpy(&ev, data, sizeof(ev));
		ev.type %= 8;                   /* 0 and 7: invalid types */
		ts += ev.ts_ns % 4096;
		ev.ts_ns = ts;
		ev.task.pid = 100 + ev.task.pid % 12; /* more processes than rows */
		ev.task.tid = ev.task.pid + ev.task.tid % 2;
		ev.kstack_id %= 4;
		ev.ustack_id %= 4;
		if (ev.type == GW_EV_WP_COPY) {
			ev.wp.old_folio = ev.wp.old_folio % 24 * 0x40;
			ev.wp.mm = 0x1000 + ev.wp.mm % 3 * 0x1000;
			ev.wp.address = ev.wp.address % 64 * 4096;
			ev.wp.old_pincount %= 4;
		} else if (ev.type == GW_EV_FORK_COPY) {
			ev.fork.address = ev.fork.address % 64 * 4096;
		} else {
			ev.pin.folio = ev.pin.folio % 24 * 0x40; /* more folios than slots */
			ev.pin.refs %= 5;
			ev.pin.nr_pages = 1u << (ev.pin.nr_pages % 10);
			ev.pin.mm = 0x1000 + ev.pin.mm % 3 * 0x1000;
			ev.pin.address = ev.pin.address % 64 * 4096;
		}
		engine_event(e, &ev);
		check(e);
	}
	engine_tick(e, ts + 50000000);
	check(e);
	engine_finish(e, ts + 200000000);
	check(e);
	engine_free(e);
	return 0;
}
