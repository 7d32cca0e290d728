// SPDX-License-Identifier: GPL-2.0
#include "sortkeys.h"

#include <stdio.h>
#include <string.h>

static const char *const key_names[SORT__MAX] = {
	[SORT_PINS] = "pins", [SORT_PINSEC] = "pin-seconds", [SORT_HELD] = "held",
	[SORT_AGE] = "age", [SORT_RO] = "ro", [SORT_RW] = "rw", [SORT_LONGTERM] = "longterm",
	[SORT_PID] = "pid", [SORT_COMM] = "comm",
};

int sort_parse(const char *s, struct sort_spec *spec, char *err, size_t errlen)
{
	const char *p = s;

	spec->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		int k;

		for (k = 0; k < SORT__MAX; k++)
			if (len == strlen(key_names[k]) && !strncmp(p, key_names[k], len))
				break;
		/* pages held: what top calls its PAGES column */
		if (k == SORT__MAX && len == 5 && !strncmp(p, "pages", 5))
			k = SORT_HELD;
		if (k == SORT__MAX) {
			snprintf(err, errlen, "unknown sort key '%.*s' (keys: %s)", (int)len, p,
				 SORT_KEYS_HELP);
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

static int desc(uint64_t a, uint64_t b)
{
	return (a < b) - (a > b);
}

static int cmp_key(enum sort_key k, const struct sort_row *a, const struct sort_row *b)
{
	switch (k) {
	case SORT_PINS: return desc(a->pins, b->pins);
	case SORT_PINSEC: return desc(a->pin_ns, b->pin_ns);
	case SORT_HELD: return desc(a->held, b->held);
	/* nothing held sorts last; otherwise the earlier start is the older pin */
	case SORT_AGE: return desc(a->oldest_ns ? UINT64_MAX - a->oldest_ns : 0,
				   b->oldest_ns ? UINT64_MAX - b->oldest_ns : 0);
	case SORT_RO: return desc(a->ro, b->ro);
	case SORT_RW: return desc(a->rw, b->rw);
	case SORT_LONGTERM: return desc(a->longterm, b->longterm);
	case SORT_PID: return (a->pid > b->pid) - (a->pid < b->pid);
	case SORT_COMM: return strcmp(a->comm ?: "", b->comm ?: "");
	default: return 0;
	}
}

int sort_cmp(const struct sort_spec *spec, const struct sort_row *a, const struct sort_row *b)
{
	static const struct sort_spec def = { { SORT_PINS, SORT_PID }, 2 };
	const struct sort_spec *s = spec && spec->n ? spec : &def;
	int c;

	for (unsigned int i = 0; i < s->n; i++)
		if ((c = cmp_key(s->keys[i], a, b)))
			return c;
	/* ties: a stable, readable order */
	return cmp_key(SORT_PID, a, b);
}
