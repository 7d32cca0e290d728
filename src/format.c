// SPDX-License-Identifier: GPL-2.0
#include "format.h"

#include <inttypes.h>
#include <linux/types.h>
#include <stdio.h>

#include "gupwatch.h"

const char *fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (s < 60)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
	return buf;
}

const char *fmt_pin_seconds(uint64_t pin_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%.6f", pin_ns / 1e9);
	return buf;
}

const char *fmt_pin_kind(uint32_t flags, char *buf, size_t len)
{
	/* folio_add_pin() says neither (legacy direct I/O) */
	snprintf(buf, len, "%s%s%s%s",
		 flags & GW_PIN_ADDED ? "R/?" : flags & GW_PIN_WRITE ? "R/W" : "R/O",
		 flags & GW_PIN_LONGTERM ? ",longterm" : "", flags & GW_PIN_REMOTE ? ",remote" : "",
		 flags & GW_PIN_FORCE ? ",force" : "");
	return buf;
}

const char *fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	double v = bytes;
	int u = 0;

	while (v >= 1024 && units[u + 1]) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 "B", bytes);
	else if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

const char *fmt_printable(const char *s, size_t max, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; s && i < max && s[i] && o + 5 < len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (len)
		buf[o] = 0;
	return buf;
}
