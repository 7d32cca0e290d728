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

const char *ksyms_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = ks ? ks->n : 0;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, ks->syms[lo - 1].name, addr - ks->syms[lo - 1].addr);
	return buf;
}
