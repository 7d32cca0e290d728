// SPDX-License-Identifier: GPL-2.0
#include "ksyms.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ksym {
	uint64_t addr;
	char *name;
	size_t seq; /* while being merged: input order among equal addresses */
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	size_t sorted; /* syms[0..sorted) are in order; ksyms_add appends after them */
	char *names;   /* ksyms_load's names, one block; ksyms_add's are strdup()ed */
	size_t names_len;
};

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* ksyms_add's names are its own; ksyms_load's live in the block (compared as numbers:
 * the block may not exist, and pointers into different objects do not compare in C). */
static void name_free(const struct ksyms *ks, char *name)
{
	if ((uintptr_t)name - (uintptr_t)ks->names >= ks->names_len)
		free(name);
}

/* All of a /proc file (whose size stat does not tell), NUL-terminated; NULL with errno set. */
static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	size_t cap = 1 << 20, n = 0;
	char *buf = NULL;
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - n < 2) {
			char *more = realloc(buf, cap *= 2);

			if (!more)
				goto fail;
			buf = more;
		} else if (!buf && !(buf = malloc(cap))) {
			goto fail;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	err = errno;
	free(buf);
	close(fd);
	errno = err;
	return NULL;
}

static uint64_t hex(const char **p)
{
	uint64_t v = 0;

	for (;; (*p)++) {
		unsigned int c = (unsigned char)**p;

		if (c - '0' < 10)
			v = v << 4 | (c - '0');
		else if ((c | 0x20) - 'a' < 6)
			v = v << 4 | ((c | 0x20) - 'a' + 10);
		else
			return v;
	}
}

/* One line of kallsyms: its name is not NUL-terminated; module: it ends in "\t[module]". */
typedef bool (*kallsyms_fn)(uint64_t addr, char type, char *name, size_t len, bool module,
			    void *ctx);

/*
 * "ffffffff81000000 T _text", "ffffffffc0a01000 t fn\t[module]": parsed by
 * hand. A 6.12 kernel lists 155k symbols, and sscanf() with a strdup() each
 * took 1.5 s in a TCG guest, where the kernel takes 0.5 s to write them.
 * Stops when fn returns false.
 */
static void kallsyms_each(char *buf, size_t len, kallsyms_fn fn, void *ctx)
{
	const char *p = buf, *end = buf + len;

	for (; p < end; p++) {
		const char *name;
		uint64_t addr = hex(&p);
		char type = p[0] == ' ' ? p[1] : 0;
		size_t n;

		name = type && p[2] == ' ' ? p + 3 : NULL;
		p = name ? name : p;
		while (*p && *p != '\n')
			p++;
		if (!name || !(n = strcspn(name, " \t\n")))
			continue;
		if (!fn(addr, type, (char *)name, n, name[n] == '\t', ctx))
			return;
	}
}

struct loading {
	struct ksyms *ks;
	char *out; /* where the next name goes: the names are packed to the buffer's front */
	size_t cap;
	bool in_order;
};

static bool load_text_symbol(uint64_t addr, char type, char *name, size_t len, bool module,
			     void *ctx)
{
	struct loading *l = ctx;
	struct ksyms *ks = l->ks;

	(void)module;
	if (!addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
		return true;
	if (ks->n == l->cap) {
		struct ksym *more = realloc(ks->syms, (l->cap = l->cap ? 2 * l->cap : 65536) *
					    sizeof(*more));

		if (!more)
			return false;
		ks->syms = more;
	}
	memmove(l->out, name, len); /* out never passes name: each line is longer than its name */
	l->out[len] = '\0';
	l->in_order &= !ks->n || ks->syms[ks->n - 1].addr <= addr;
	ks->syms[ks->n++] = (struct ksym){ .addr = addr, .name = l->out };
	l->out += len + 1;
	return true;
}

/* Text symbols only. The kernel lists its own in address order: the sort is for modules. */
struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t len = 0;
	char *buf = ks ? read_all(path, &len) : NULL;
	struct loading l = { .ks = ks, .out = buf, .in_order = true };

	if (!buf) {
		free(ks);
		return NULL;
	}
	kallsyms_each(buf, len, load_text_symbol, &l);
	/* the names alone, in a block of their size: the file was twice as large */
	ks->names_len = (size_t)(l.out - buf);
	ks->names = malloc(ks->names_len ? ks->names_len : 1);
	if (ks->names) {
		memcpy(ks->names, buf, ks->names_len);
		for (size_t i = 0; i < ks->n; i++)
			ks->syms[i].name = ks->names + (ks->syms[i].name - buf);
		free(buf);
	} else {
		ks->names = buf;
	}
	if (!l.in_order)
		qsort(ks->syms, ks->n, sizeof(*ks->syms), by_addr);
	ks->cap = l.cap;
	ks->sorted = ks->n;
	return ks;
}

struct resolving {
	const char *const *names;
	uint64_t *addrs;
	size_t n;
	uint64_t found; /* bit i: names[i] seen (the first one counts) */
};

static bool resolve_symbol(uint64_t addr, char type, char *name, size_t len, bool module,
			   void *ctx)
{
	struct resolving *r = ctx;

	(void)type;
	for (size_t i = 0; i < r->n && !module; i++)
		if (!(r->found >> i & 1) && !strncmp(r->names[i], name, len) && !r->names[i][len]) {
			r->addrs[i] = addr;
			r->found |= 1ULL << i;
		}
	return r->found != (r->n == 64 ? ~0ULL : (1ULL << r->n) - 1); /* all found: stop */
}

int ksyms_resolve(const char *path, const char *const *names, uint64_t *addrs, size_t n)
{
	struct resolving r = { .names = names, .addrs = addrs, .n = n };
	size_t len;
	char *buf;

	if (n > 64)
		return -EINVAL;
	memset(addrs, 0, n * sizeof(*addrs));
	if (!(buf = read_all(path, &len)))
		return -errno;
	kallsyms_each(buf, len, resolve_symbol, &r);
	free(buf);
	return 0;
}

int ksyms_kernel_data(struct ksyms_kernel_data *d)
{
	static const char *const names[] = { "vmemmap_base", "__per_cpu_offset", "pcpu_hot",
					     "__preempt_count" };
	uint64_t addrs[4];
	int err = ksyms_resolve("/proc/kallsyms", names, addrs, 4);

	*d = (struct ksyms_kernel_data){ .vmemmap_base = addrs[0], .per_cpu_offset = addrs[1],
					 .pcpu_hot = addrs[2], .preempt_count = addrs[3] };
	return err;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		name_free(ks, ks->syms[i].name);
	free(ks->names);
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
			name_free(ks, ks->syms[i].name);
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
