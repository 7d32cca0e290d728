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
};

struct ksyms {
	struct ksym *syms;
	size_t n;
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

/* The last symbol at or below addr, or -1. */
long ksyms_find(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks ? ks->n : 0;

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

/* Kept in order on insertion: tables built this way are small (recorded symbols). */
int ksyms_add(struct ksyms *ks, uint64_t start, const char *name)
{
	long at = ksyms_find(ks, start) + 1;
	struct ksym *more;
	char *copy;

	if (at > 0 && ks->syms[at - 1].addr == start)
		return 0;
	more = realloc(ks->syms, (ks->n + 1) * sizeof(*more));
	copy = strdup(name);
	if (!more || !copy) {
		if (more)
			ks->syms = more;
		free(copy);
		return -ENOMEM;
	}
	ks->syms = more;
	memmove(&ks->syms[at + 1], &ks->syms[at], (ks->n - at) * sizeof(*more));
	ks->syms[at] = (struct ksym){ .addr = start, .name = copy };
	ks->n++;
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
