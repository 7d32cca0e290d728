/* SPDX-License-Identifier: GPL-2.0 */
/* --sort KEYS: the order of report's (and trace's) tables. Plain C. */
#ifndef GUPWATCH_SORTKEYS_H
#define GUPWATCH_SORTKEYS_H

#include <stddef.h>
#include <stdint.h>

enum sort_key {
	SORT_PINS,     /* pin refs taken, most first */
	SORT_PINSEC,   /* pin-seconds, most first */
	SORT_HELD,     /* refs held now (at the end), most first; also "pages" */
	SORT_AGE,      /* oldest outstanding pin, oldest first */
	SORT_RO, SORT_RW, SORT_LONGTERM, /* pins kept of that kind, most first */
	SORT_PID, SORT_COMM,             /* ascending */
	SORT__MAX
};

#define SORT_MAX_KEYS 8
#define SORT_KEYS_HELP "pins, pin-seconds, held (or pages), age, ro, rw, longterm, pid, comm"

struct sort_spec {
	enum sort_key keys[SORT_MAX_KEYS];
	unsigned int n; /* 0: the default, pins then pid */
};

/* What a table row is sorted by. */
struct sort_row {
	uint64_t pins, pin_ns, held, oldest_ns, ro, rw, longterm;
	uint32_t pid;
	const char *comm;
};

/* "pin-seconds,pid": 0, or -1 with "unknown sort key 'x' (keys: ...)" in err. */
int sort_parse(const char *s, struct sort_spec *spec, char *err, size_t errlen);
int sort_cmp(const struct sort_spec *spec, const struct sort_row *a, const struct sort_row *b);

#endif
