// SPDX-License-Identifier: GPL-2.0
#include "columns.h"

#include <inttypes.h>
#include <stdbool.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "gupwatch.h"

static uint64_t page_size = 4096;

void table_set_page_size(uint64_t bytes)
{
	page_size = bytes;
}

/* Numbers sort largest first, names and pids in ascending order. */
static int desc(uint64_t a, uint64_t b)
{
	return (a < b) - (a > b);
}

static const char *range(uint64_t lo, uint64_t hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%" PRIu64, hi);
	else
		snprintf(buf, len, "%" PRIu64 "-%" PRIu64, lo, hi);
	return buf;
}

static const char *text_pid(const struct table_row *r, char *buf, size_t len)
{
	if (!r->pid)
		return "-";
	snprintf(buf, len, "%u", r->pid);
	return buf;
}

static int cmp_pid(const struct table_row *a, const struct table_row *b)
{
	return (a->pid > b->pid) - (a->pid < b->pid);
}

static const char *text_comm(const struct table_row *r, char *buf, size_t len)
{
	return fmt_printable(r->pid || !r->comm ? r->comm : "(other)", GW_COMM_LEN, buf, len);
}

static int cmp_comm(const struct table_row *a, const struct table_row *b)
{
	return strncmp(a->comm ?: "", b->comm ?: "", GW_COMM_LEN);
}

static const char *text_kind(const struct table_row *r, char *buf, size_t len)
{
	return fmt_pin_kind(r->kind, buf, len);
}

static int cmp_kind(const struct table_row *a, const struct table_row *b)
{
	return (a->kind > b->kind) - (a->kind < b->kind);
}

static const char *text_pin_seconds(const struct table_row *r, char *buf, size_t len)
{
	return fmt_pin_seconds(r->pin_ns, buf, len);
}

static const char *text_held(const struct table_row *r, char *buf, size_t len)
{
	return range(r->held_min, r->held, buf, len);
}

static const char *text_pinned_bytes(const struct table_row *r, char *buf, size_t len)
{
	return fmt_bytes(r->pinned_pages * page_size, buf, len);
}

static const char *text_bytes(const struct table_row *r, char *buf, size_t len)
{
	char lo[FMT_LEN], hi[FMT_LEN];

	fmt_bytes(r->held * page_size, hi, sizeof(hi));
	if (r->held_min == r->held)
		snprintf(buf, len, "%s", hi);
	else
		snprintf(buf, len, "%s-%s", fmt_bytes(r->held_min * page_size, lo, sizeof(lo)), hi);
	return buf;
}

static const char *text_age(const struct table_row *r, char *buf, size_t len)
{
	if (!r->oldest_ns || r->now_ns < r->oldest_ns)
		return "-";
	return fmt_duration(r->now_ns - r->oldest_ns, buf, len);
}

/* nothing held sorts last; otherwise the earlier start is the older pin */
static int cmp_age(const struct table_row *a, const struct table_row *b)
{
	return desc(a->oldest_ns ? UINT64_MAX - a->oldest_ns : 0,
		    b->oldest_ns ? UINT64_MAX - b->oldest_ns : 0);
}

static const char *text_rate(const struct table_row *r, char *buf, size_t len)
{
	double v = r->pins_per_s;

	if (v == 0)
		return "0";
	if (v < 9.95)
		snprintf(buf, len, "%.1f", v);
	else if (v < 99999.5)
		snprintf(buf, len, "%.0f", v);
	else if (v < 99999.5e3)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else
		snprintf(buf, len, "%.0fM", v / 1e6);
	return buf;
}

static int cmp_rate(const struct table_row *a, const struct table_row *b)
{
	return (a->pins_per_s < b->pins_per_s) - (a->pins_per_s > b->pins_per_s);
}

/* The memlock ledger (procinfo.h): "-" where /proc said nothing (a process gone, a recording). */
static const char *text_vmpin(const struct table_row *r, char *buf, size_t len)
{
	return r->proc && r->proc->alive ? fmt_bytes(r->proc->vm_pinned, buf, len) : "-";
}

static int cmp_vmpin(const struct table_row *a, const struct table_row *b)
{
	return desc(a->proc ? a->proc->vm_pinned : 0, b->proc ? b->proc->vm_pinned : 0);
}

static const char *text_memlock(const struct table_row *r, char *buf, size_t len)
{
	if (!r->proc || !r->proc->alive)
		return "-";
	if (r->proc->memlock_limit == PROCINFO_UNLIMITED)
		return "unlimited";
	return fmt_bytes(r->proc->memlock_limit, buf, len);
}

/* the tightest limit first */
static int cmp_memlock(const struct table_row *a, const struct table_row *b)
{
	uint64_t x = a->proc && a->proc->alive ? a->proc->memlock_limit : PROCINFO_UNLIMITED;
	uint64_t y = b->proc && b->proc->alive ? b->proc->memlock_limit : PROCINFO_UNLIMITED;

	return (x > y) - (x < y);
}

static const char *text_ledger(const struct table_row *r, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return r->proc ? procinfo_ledger(r->proc, r->held * page_size) : "-";
}

static int cmp_ledger(const struct table_row *a, const struct table_row *b)
{
	char x[16], y[16];

	return strcmp(text_ledger(a, x, sizeof(x)), text_ledger(b, y, sizeof(y)));
}

static const char *text_cgroup(const struct table_row *r, char *buf, size_t len)
{
	if (!r->proc || !r->proc->alive || !r->proc->cgroup[0])
		return "-";
	return fmt_printable(r->proc->cgroup, sizeof(r->proc->cgroup), buf, len);
}

static int cmp_cgroup(const struct table_row *a, const struct table_row *b)
{
	return strcmp(a->proc ? a->proc->cgroup : "", b->proc ? b->proc->cgroup : "");
}

/*
 * A column: a field of the row, a uint64_t (printed as a number, sorted
 * largest first) or a string (escaped, ascending), unless it has its own text
 * and cmp. width < 0: left-aligned; 0: only ever the last column.
 */
struct column_fmt {
	const char *name;
	const char *header;
	int width;
	size_t field; /* offsetof the field in struct table_row */
	bool string;
	const char *(*text)(const struct table_row *r, char *buf, size_t len);
	int (*cmp)(const struct table_row *a, const struct table_row *b);
};

#define NUMBER(n, h, w, f) { n, h, w, offsetof(struct table_row, f), false, NULL, NULL }
#define STRING(n, h, w, f) { n, h, w, offsetof(struct table_row, f), true, NULL, NULL }
#define CUSTOM(n, h, w, id) { n, h, w, 0, false, text_##id, cmp_##id }
/* printed its own way, sorted by a number field */
#define SHOWN(n, h, w, f, id) { n, h, w, offsetof(struct table_row, f), false, text_##id, NULL }

static const struct column_fmt columns[COL__MAX] = {
	[COL_PID] = CUSTOM("pid", "PID", 7, pid),
	[COL_COMM] = CUSTOM("comm", "COMM", -16, comm),
	[COL_PROCS] = NUMBER("procs", "PROCS", 6, procs),
	[COL_KIND] = CUSTOM("kind", "KIND", -16, kind),
	[COL_PINS] = NUMBER("pins", "PINS", 10, pins),
	[COL_UNPINS] = NUMBER("unpins", "UNPINS", 10, unpins),
	[COL_FAST_UNDO] = NUMBER("fast-undo", "FAST-UNDO", 10, fast_undo),
	[COL_RO] = NUMBER("ro", "R/O", 10, ro),
	[COL_RW] = NUMBER("rw", "R/W", 10, rw),
	[COL_LONGTERM] = NUMBER("longterm", "LONGTERM", 10, longterm),
	[COL_GETS] = NUMBER("gets", "GETS", 10, gets),
	[COL_PIN_SECONDS] = SHOWN("pin-seconds", "PIN-SECONDS", 12, pin_ns, pin_seconds),
	[COL_HELD] = SHOWN("held", "HELD", 11, held, held),
	[COL_BYTES] = SHOWN("bytes", "BYTES", 11, held, bytes),
	[COL_HELD_RO] = NUMBER("held-ro", "HELD-R/O", 10, held_ro),
	[COL_HELD_RW] = NUMBER("held-rw", "HELD-R/W", 10, held_rw),
	[COL_HELD_LONGTERM] = NUMBER("held-longterm", "HELD-LT", 10, held_longterm),
	[COL_FOLIOS] = NUMBER("folios", "FOLIOS", 10, held_folios),
	[COL_AGE] = CUSTOM("age", "AGE", 10, age),
	[COL_COW] = NUMBER("cow", "COW", 10, cow),
	[COL_UNSHARE] = NUMBER("unshare", "UNSHARE", 10, unshare),
	[COL_FORK_COPY] = NUMBER("fork-copy", "FORK-COPY", 10, fork_copy),
	[COL_FINDINGS] = NUMBER("findings", "FINDINGS", 10, findings),
	[COL_PINS_PER_S] = CUSTOM("pins/s", "PINS/s", 7, rate),
	[COL_PINNED_PAGES] = NUMBER("pinned-pages", "PINNED", 10, pinned_pages),
	[COL_KERNEL_PINS] = NUMBER("kernel-pins", "KPINS", 10, kernel_pins),
	[COL_PINNED_BYTES] = SHOWN("pinned-bytes", "BYTES", 11, pinned_pages, pinned_bytes),
	[COL_VMPIN] = CUSTOM("vmpin", "VMPIN", 9, vmpin),
	[COL_MEMLOCK] = CUSTOM("memlock", "MEMLOCK", 10, memlock),
	[COL_LEDGER] = CUSTOM("ledger", "LEDGER", -10, ledger),
	[COL_CGROUP] = CUSTOM("cgroup", "CGROUP", 0, cgroup),
	[COL_SITE] = STRING("site", "CALL SITE", -32, site),
	[COL_VIA] = STRING("via", "VIA", -24, via),
	[COL_USTACK] = STRING("ustack", "USER STACK", 0, ustack),
};

static uint64_t column_value(const struct column_fmt *c, const struct table_row *r)
{
	return *(const uint64_t *)((const char *)r + c->field);
}

static const char *column_string(const struct column_fmt *c, const struct table_row *r)
{
	return *(const char *const *)((const char *)r + c->field);
}

static int column_cmp(enum column k, const struct table_row *a, const struct table_row *b)
{
	const struct column_fmt *c = &columns[k];

	if (c->cmp)
		return c->cmp(a, b);
	if (c->string)
		return strcmp(column_string(c, a) ?: "", column_string(c, b) ?: "");
	return desc(column_value(c, a), column_value(c, b));
}

static const char *column_text(enum column k, const struct table_row *r, char *buf, size_t len)
{
	const struct column_fmt *c = &columns[k];

	if (c->text)
		return c->text(r, buf, len);
	if (c->string)
		return fmt_printable(column_string(c, r), len, buf, len);
	snprintf(buf, len, "%" PRIu64, column_value(c, r));
	return buf;
}

int sort_parse(const char *s, struct sort_spec *spec, char *err, size_t errlen)
{
	const char *p = s;

	spec->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		int k;

		for (k = 0; k < COL__MAX; k++)
			if (len == strlen(columns[k].name) && !strncmp(p, columns[k].name, len))
				break;
		if (k == COL__MAX) {
			size_t off = snprintf(err, errlen, "unknown sort key '%.*s' (keys are column names:",
					      (int)len, p);

			for (k = 0; k < COL__MAX && off < errlen; k++)
				off += snprintf(err + off, errlen - off, "%s%s", k ? ", " : " ", columns[k].name);
			if (off < errlen)
				snprintf(err + off, errlen - off, ")");
			return -1;
		}
		if (spec->n == SORT_MAX_KEYS) {
			snprintf(err, errlen, "more than %d sort keys in '%s'", SORT_MAX_KEYS, s);
			return -1;
		}
		spec->keys[spec->n++] = k;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int table_row_cmp(const struct table_row *a, const struct table_row *b, const struct sort_spec *s)
{
	static const enum column ties[] = { COL_PID, COL_SITE, COL_USTACK, COL_KIND };
	int c;

	for (unsigned int i = 0; i < s->n; i++)
		if ((c = column_cmp(s->keys[i], a, b)))
			return c;
	/* ties: a stable, readable order */
	for (size_t i = 0; i < sizeof(ties) / sizeof(ties[0]); i++)
		if ((c = column_cmp(ties[i], a, b)))
			return c;
	return 0;
}

static int row_cmp(const void *a, const void *b, void *spec)
{
	return table_row_cmp(a, b, spec);
}

void table_sort(struct table_row *rows, size_t n, const struct sort_spec *spec,
		const struct sort_spec *def)
{
	qsort_r(rows, n, sizeof(*rows), row_cmp, (void *)(spec && spec->n ? spec : def));
}

static void print_cells(FILE *f, const char *indent, const enum column *cols, size_t ncols,
			const struct table_row *row)
{
	fputs(indent, f);
	for (size_t i = 0; i < ncols; i++) {
		const struct column_fmt *c = &columns[cols[i]];
		char buf[512];
		const char *s = row ? column_text(cols[i], row, buf, sizeof(buf)) : c->header;

		if (i)
			fputc(' ', f);
		if (c->width <= 0 && i + 1 == ncols) /* a left-aligned last column: no padding */
			fputs(s, f);
		else
			fprintf(f, "%*s", c->width, s);
	}
	fputc('\n', f);
}

void table_print_header(FILE *f, const char *indent, const enum column *cols, size_t ncols)
{
	print_cells(f, indent, cols, ncols, NULL);
}

void table_print_row(FILE *f, const char *indent, const enum column *cols, size_t ncols,
		     const struct table_row *row)
{
	print_cells(f, indent, cols, ncols, row);
}
