// SPDX-License-Identifier: GPL-2.0
/*
 * One duration, pin-seconds value, pin kind or byte count prints the same in
 * every table (src/format.c): the unit boundaries and the fixed decimals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include <cmocka.h>

#include "format.h"
#include "gupwatch.h"

#define S 1000000000ULL

static void durations(void **state)
{
	static const struct { uint64_t ns; const char *want; } cases[] = {
		{ 0, "0ns" }, { 999, "999ns" }, { 1000, "1.0us" }, { 12500, "12.5us" },
		{ 999949, "999.9us" }, { 1000000, "1.0ms" }, { 8300000, "8.3ms" },
		{ S, "1.00s" }, { 59 * S, "59.00s" }, { 60 * S, "1m00s" }, { 125 * S, "2m05s" },
		{ 3600 * S, "1h00m" }, { 86399 * S, "23h59m" }, { 86400 * S, "1d00h" },
		{ (3 * 86400 + 4 * 3600) * S, "3d04h" },
	};
	char b[FMT_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(fmt_duration(cases[i].ns, b, sizeof(b)), cases[i].want);
}

static void pin_seconds(void **state)
{
	char b[FMT_LEN];

	(void)state;
	assert_string_equal(fmt_pin_seconds(12000, b, sizeof(b)), "0.000012");
	assert_string_equal(fmt_pin_seconds(2076 * 1000000ULL, b, sizeof(b)), "2.076000");
	assert_string_equal(fmt_pin_seconds(3600 * S, b, sizeof(b)), "3600.000000");
}

static void pin_kinds(void **state)
{
	char b[FMT_LEN];

	(void)state;
	assert_string_equal(fmt_pin_kind(0, b, sizeof(b)), "R/O");
	assert_string_equal(fmt_pin_kind(GW_PIN_WRITE | GW_PIN_LONGTERM, b, sizeof(b)), "R/W,longterm");
	assert_string_equal(fmt_pin_kind(GW_PIN_REMOTE | GW_PIN_FAST, b, sizeof(b)), "R/O,remote");
	assert_string_equal(fmt_pin_kind(GW_PIN_ADDED | GW_PIN_WRITE, b, sizeof(b)), "R/?");
	assert_string_equal(fmt_pin_kind(GW_PIN_WRITE | GW_PIN_LONGTERM | GW_PIN_REMOTE | GW_PIN_FORCE,
					 b, sizeof(b)), "R/W,longterm,remote,force");
}

static void bytes(void **state)
{
	char b[FMT_LEN];

	(void)state;
	assert_string_equal(fmt_bytes(512, b, sizeof(b)), "512B");
	assert_string_equal(fmt_bytes(4096, b, sizeof(b)), "4.0K");
	assert_string_equal(fmt_bytes(16384, b, sizeof(b)), "16K");
	assert_string_equal(fmt_bytes(2 << 20, b, sizeof(b)), "2.0M");
}

static void printable(void **state)
{
	char b[FMT_COMM_LEN];

	(void)state;
	assert_string_equal(fmt_printable("\033[2Jx\tz\x9b", 16, b, sizeof(b)), "\\x1b[2Jx\\x09z\\x9b");
	assert_string_equal(fmt_printable("kworker/0:1", 4, b, sizeof(b)), "kwor");
	assert_string_equal(fmt_printable(NULL, 16, b, sizeof(b)), "");
	/* a comm of 16 control bytes still fits */
	assert_string_equal(fmt_printable("\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001", 16, b,
				       sizeof(b)),
			    "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(pin_seconds),
		cmocka_unit_test(pin_kinds),
		cmocka_unit_test(bytes),
		cmocka_unit_test(printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
