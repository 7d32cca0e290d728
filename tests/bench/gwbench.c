// SPDX-License-Identifier: GPL-2.0
/*
 * gwbench: the correlation engine alone on a recording — every event through
 * engine_event(), findings counted and hashed, nothing printed — with CPU
 * time (not wall), peak RSS and what the engine allocates per tracked folio.
 *
 *   gwbench [--max-folios N] [--repeat R] FILE
 *
 * The last line, "digest ...", hashes the totals and every finding: equal
 * digests before and after an engine change mean the same results.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine.h"
#include "recfile.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Anonymous RSS: the mapped file's pages are not the engine's. */
static long rss_anon_kb(void)
{
	char line[128];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static double peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

/* FNV-1a over the bytes of a finding (built field by field: no padding bytes). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static uint64_t digest = 0xcbf29ce484222325ull;
static uint64_t nfindings;

static void on_finding(const struct engine_finding *f, void *ctx)
{
	uint64_t v[] = { f->kind, f->sev, f->ts_ns, f->task.pid, f->task.tid, f->address, f->folio,
			 f->old_pfn, f->new_pfn, f->wp_flags, f->who, f->nr_pinners, f->untracked_pins };

	(void)ctx;
	nfindings++;
	digest = fnv(digest, v, sizeof(v));
	for (uint32_t i = 0; i < f->nr_pinners && i < ENGINE_MAX_PINNERS; i++) {
		const struct engine_pinner *p = &f->pinners[i];
		uint64_t q[] = { p->task.pid, p->task.tid, p->flags, p->refs, p->refs_min, p->folios,
				 p->since_ns, (uint32_t)p->kstack_id, (uint32_t)p->ustack_id };

		digest = fnv(digest, q, sizeof(q));
	}
}

int main(int argc, char **argv)
{
	struct engine_opts o = { .max_folios = 1 << 18, .on_finding = on_finding };
	uint64_t events = 0, peak_folios = 0;
	struct engine_totals t;
	struct engine_mem m;
	struct rec_reader r;
	struct rec_item *it;
	double c0, c1, c2, best = 0;
	int repeat = 1, i = 1;
	long rss0 = 0, rss1 = 0;
	char err[512];

	for (; i < argc - 1; i += 2) {
		if (!strcmp(argv[i], "--max-folios"))
			o.max_folios = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--repeat"))
			repeat = atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc - 1 || repeat < 1) {
		fprintf(stderr, "usage: gwbench [--max-folios N] [--repeat R] FILE\n");
		return 2;
	}
	it = malloc(sizeof(*it));
	c0 = cpu_s();
	if (!it || rec_reader_open(&r, argv[i], err, sizeof(err))) {
		fprintf(stderr, "gwbench: %s\n", it ? err : "out of memory");
		return 1;
	}
	c1 = cpu_s();
	printf("file:        %s, %" PRIu64 " events, validated in %.3f s CPU\n", argv[i], r.trl.events,
	       c1 - c0);

	/* best of R: the first run also faults the file's pages in */
	for (int k = 0; k < repeat; k++) {
		struct engine *e = engine_new(&o);

		if (!e) {
			perror("gwbench: engine_new");
			return 1;
		}
		digest = 0xcbf29ce484222325ull;
		nfindings = events = peak_folios = 0;
		if (!k) /* later runs reuse what the first freed */
			rss0 = rss_anon_kb();
		r.pos = r.first;
		c1 = cpu_s();
		while (rec_reader_next(&r, it)) {
			if (it->type != REC_EVENT)
				continue;
			engine_event(e, &it->event);
			/* a sample of the outstanding folios, out of the timed path's way */
			if (!(++events & 0xffff)) {
				engine_totals(e, &t);
				if (t.out_folios > peak_folios)
					peak_folios = t.out_folios;
			}
		}
		engine_set_counters(e, r.trl.counters);
		engine_finish(e, r.trl.end_mono_ns);
		c2 = cpu_s();
		if (!k)
			rss1 = rss_anon_kb();
		if (!best || c2 - c1 < best)
			best = c2 - c1;
		engine_totals(e, &t);
		engine_mem(e, &m);
		digest = fnv(digest, &t.events, sizeof(t.events));
		{
			uint64_t v[] = { t.pin_refs, t.unpin_refs, t.fast_undone_refs, t.ro_refs, t.rw_refs,
					 t.longterm_refs, t.get_refs, t.wp_copies, t.unshares, t.fork_copies,
					 t.cow_other_pin_copies, t.lost_pin_refs, t.unknown_unpin_refs,
					 t.ambiguous_unpin_refs, t.unattributed_unpin_refs,
					 t.by_age_unpin_refs, t.out_folios, t.out_refs };

			digest = fnv(digest, v, sizeof(v));
		}
		if (k == repeat - 1) {
			printf("engine:      %.3f s CPU for %" PRIu64 " events (best of %d): %.2f M events/s/core, %.0f ns/event\n",
			       best, events, repeat, events / best / 1e6, best * 1e9 / events);
			printf("findings:    %" PRIu64 " (STALE-PIN %" PRIu64 ", UNSHARE %" PRIu64
			       ", FORK-COPY %" PRIu64 ", ZERO-PIN %" PRIu64 ", HELD-AT-EXIT %" PRIu64 ")\n",
			       nfindings, t.findings[ENGINE_STALE_PIN], t.findings[ENGINE_UNSHARE],
			       t.findings[ENGINE_FORK_COPY], t.findings[ENGINE_ZERO_PIN],
			       t.findings[ENGINE_HELD_AT_EXIT]);
			printf("folios:      max_folios %u, outstanding at the end %" PRIu64 ", peak sampled %" PRIu64
			       ", lost pins %" PRIu64 "\n", engine_opts(e)->max_folios, t.out_folios,
			       peak_folios, t.lost_pins);
			printf("memory:      %zu B fslot x %zu slots (%zu now) + (%zu B holder + %zu B exit scratch) x %zu rows"
			       " = %.1f MiB: %.0f B per tracked folio; engine total %.1f MiB\n",
			       m.fslot, m.slots_max, m.slots, m.holder, m.held, m.rows, m.folios_bytes / 1048576.0,
			       (double)m.folios_bytes / engine_opts(e)->max_folios, m.total_bytes / 1048576.0);
			printf("rss:         anonymous %.1f -> %.1f MiB over the first run (+%.0f B per peak folio);"
			       " peak RSS with the mapped file %.1f MiB\n", rss0 / 1024.0, rss1 / 1024.0,
			       peak_folios ? (rss1 - rss0) * 1024.0 / peak_folios : 0.0, peak_rss_mib());
			printf("digest:      %016" PRIx64 "\n", digest);
		}
		engine_free(e);
	}
	rec_reader_close(&r);
	free(it);
	return 0;
}
