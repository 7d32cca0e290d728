// SPDX-License-Identifier: GPL-2.0
#include "ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	char *name;
	size_t seq; /* while being merged: input order among equal addresses */
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	size_t sorted; /* syms[0..sorted) are in order; ksyms_add appends after them */
};

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0;
	char line[512];
	FILE *f;

	f = fopen(path, "r");
	if (!ks || !f) {
		int err = errno;

		free(ks);
		if (f)
			fclose(f);
		errno = err;
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char type, name[256];
		uint64_t addr;

		/* Text symbols only: "ffffffff81000000 T _text [module]" */
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T' && type != 'w' && type != 'W') || !addr)
			continue;
		if (ks->n == cap) {
			struct ksym *more = realloc(ks->syms, (cap = cap ? 2 * cap : 65536) * sizeof(*more));

			if (!more)
				break;
			ks->syms = more;
		}
		ks->syms[ks->n].addr = addr;
		ks->syms[ks->n].name = strdup(name);
		if (ks->syms[ks->n].name)
			ks->n++;
	}
	fclose(f);
	qsort(ks->syms, ks->n, sizeof(*ks->syms), by_addr);
	ks->cap = cap;
	ks->sorted = ks->n;
	return ks;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}

/*
 * Symbols added since the last lookup, merged in: sorted by address, the
 * first added kept among equal addresses (a stable sort by address, then
 * the duplicates dropped). A lookup after every add would be quadratic.
 */
static int by_addr_seq(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void settle(struct ksyms *ks)
{
	size_t out = 0;

	if (ks->sorted == ks->n)
		return;
	/* already sorted ones first among equal addresses, then the added in input order */
	for (size_t i = ks->sorted; i < ks->n; i++)
		ks->syms[i].seq = i;
	for (size_t i = 0; i < ks->sorted; i++)
		ks->syms[i].seq = 0;
	qsort(ks->syms, ks->n, sizeof(*ks->syms), by_addr_seq);
	for (size_t i = 0; i < ks->n; i++) {
		if (out && ks->syms[out - 1].addr == ks->syms[i].addr) {
			free(ks->syms[i].name);
			continue;
		}
		ks->syms[out++] = ks->syms[i];
	}
	ks->n = ks->sorted = out;
}

/* The last symbol at or below addr, or -1. */
long ksyms_find(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks)
		return -1;
	settle((struct ksyms *)ks); /* logically const: the same symbols, in order */
	hi = ks->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const char *ksyms_sym(const struct ksyms *ks, long idx, uint64_t *start)
{
	*start = ks->syms[idx].addr;
	return ks->syms[idx].name;
}

size_t ksyms_count(const struct ksyms *ks)
{
	return ks ? ks->n : 0;
}

struct ksyms *ksyms_new(void)
{
	return calloc(1, sizeof(struct ksyms));
}

/* Appended; put in order at the next lookup (report adds a recording's symbols, then names). */
int ksyms_add(struct ksyms *ks, uint64_t start, const char *name)
{
	char *copy;

	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? 2 * ks->cap : 1024;
		struct ksym *more = realloc(ks->syms, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		ks->syms = more;
		ks->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	ks->syms[ks->n++] = (struct ksym){ .addr = start, .name = copy };
	return 0;
}

const char *ksyms_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	long i = ksyms_find(ks, addr);

	if (i < 0)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, ks->syms[i].name, addr - ks->syms[i].addr);
	return buf;
}
