// SPDX-License-Identifier: GPL-2.0
/*
 * Every table's columns come from one definition (src/columns.c): a value
 * prints the same whichever table shows it, --sort takes exactly the column
 * names, and the order they give is the same everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <cmocka.h>

#include "columns.h"
#include "gupwatch.h"

#define S 1000000000ULL
#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *render(const enum column *cols, size_t ncols, const struct table_row *rows, size_t n)
{
	char *s = NULL;
	size_t len;
	FILE *m = open_memstream(&s, &len);

	table_print_header(m, "", cols, ncols);
	for (size_t i = 0; i < n; i++)
		table_print_row(m, "", cols, ncols, &rows[i]);
	fclose(m);
	return s;
}

static void sort_keys_are_column_names(void **state)
{
	static const char *const names[] = { "pid", "comm", "procs", "kind", "pins", "unpins",
		"fast-undo", "ro", "rw", "longterm", "gets", "pin-seconds", "held", "bytes", "held-ro",
		"held-rw", "held-longterm", "folios", "age", "cow", "unshare", "fork-copy", "findings",
		"pins/s", "pinned-pages", "kernel-pins", "pinned-bytes", "vmpin", "memlock", "ledger",
		"cgroup", "site", "via", "ustack" };
	struct sort_spec spec;
	char err[512];

	(void)state;
	assert_int_equal(N(names), COL__MAX);
	for (size_t i = 0; i < N(names); i++) {
		assert_int_equal(sort_parse(names[i], &spec, err, sizeof(err)), 0);
		assert_int_equal(spec.n, 1);
		assert_int_equal(spec.keys[0], i);
	}
	assert_int_equal(sort_parse("pin-seconds,pid", &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.n, 2);
	assert_int_equal(sort_parse("pages", &spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown sort key 'pages' (keys are column names: pid, comm,"));
	assert_non_null(strstr(err, ", ustack)"));
	assert_int_equal(sort_parse("pins,pins,pins,pins,pins,pins,pins,pins,pins", &spec, err, sizeof(err)), -1);
}

/* The memlock ledger's columns say what /proc said, and "-" where it said nothing. */
static void ledger_columns(void **state)
{
	static const enum column cols[] = { COL_VMPIN, COL_MEMLOCK, COL_LEDGER, COL_CGROUP };
	struct procinfo pi = { .alive = true, .cgroup = "/gw-a", .vm_pinned = 32768,
			       .memlock_limit = 8 << 20 };
	struct table_row r = { .pid = 1, .held = 8, .held_min = 8, .proc = &pi };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&out, &len);
	table_print_row(f, "", cols, N(cols), &r);
	pi.vm_pinned = 0; /* short-term pins: the kernel charged nothing */
	pi.memlock_limit = PROCINFO_UNLIMITED;
	table_print_row(f, "", cols, N(cols), &r);
	pi.vm_pinned = 7680 << 10; /* 7.5 MiB of 8 MiB: near the limit */
	pi.memlock_limit = 8 << 20;
	table_print_row(f, "", cols, N(cols), &r);
	r.proc = NULL; /* the "(other)" row, or a process gone */
	table_print_row(f, "", cols, N(cols), &r);
	fclose(f);
	assert_string_equal(out, "      32K       8.0M ok         /gw-a\n"
				 "       0B  unlimited uncharged  /gw-a\n"
				 "     7.5M       8.0M near-limit /gw-a\n"
				 "        -          - -          -\n");
	free(out);
}

/* The age of a pin held an hour prints as 1h00m in every table that shows it. */
static void one_value_one_text(void **state)
{
	static const enum column report_cols[] = { COL_PID, COL_COMM, COL_HELD, COL_AGE, COL_PIN_SECONDS };
	static const enum column top_cols[] = { COL_PID, COL_COMM, COL_HELD, COL_BYTES, COL_AGE };
	struct table_row r = { .pid = 7, .comm = "dd", .held = 4, .held_min = 2, .oldest_ns = 10 * S,
			       .now_ns = 3610 * S, .pin_ns = 2 * S };
	char *a = render(report_cols, N(report_cols), &r, 1), *b = render(top_cols, N(top_cols), &r, 1);

	(void)state;
	assert_string_equal(a, "    PID COMM                    HELD        AGE  PIN-SECONDS\n"
			       "      7 dd                       2-4      1h00m     2.000000\n");
	assert_string_equal(b, "    PID COMM                    HELD       BYTES        AGE\n"
			       "      7 dd                       2-4    8.0K-16K      1h00m\n");
	free(a);
	free(b);
}

/* Names chosen by whoever runs the traced program never reach the terminal raw. */
static void strings_escaped(void **state)
{
	static const enum column cols[] = { COL_PID, COL_COMM, COL_SITE };
	char comm[GW_COMM_LEN] = "\033[2Jevil\033]0;x\007";
	struct table_row r[2] = { { .pid = 1, .comm = comm, .site = "do_it\r" }, { .comm = "x" } };
	char *s = render(cols, N(cols), r, 2);

	(void)state;
	assert_null(strchr(s, '\033'));
	assert_null(strchr(s, '\r'));
	assert_non_null(strstr(s, "      1 \\x1b[2Jevil\\x1b]0;x\\x07 do_it\\x0d\n"));
	assert_non_null(strstr(s, "      - (other)")); /* pid 0: the rows beyond the tables */
	free(s);
}

static void sort_orders(void **state)
{
	struct table_row r[4] = {
		{ .pid = 4, .comm = "d", .pins = 5, .pin_ns = 1 },
		{ .pid = 3, .comm = "c", .pins = 5, .pin_ns = 9, .oldest_ns = 20 },
		{ .pid = 2, .comm = "b", .pins = 1, .pin_ns = 9, .oldest_ns = 10 },
		{ .pid = 1, .comm = "e", .pins = 7 },
	};
	static const struct sort_spec by_pins = { { COL_PINS }, 1 };
	struct sort_spec spec;
	char err[256];

	(void)state;
	table_sort(r, 4, NULL, &by_pins); /* ties by pid */
	assert_int_equal(r[0].pid * 1000 + r[1].pid * 100 + r[2].pid * 10 + r[3].pid, 1342);
	assert_int_equal(sort_parse("pin-seconds,comm", &spec, err, sizeof(err)), 0);
	table_sort(r, 4, &spec, &by_pins);
	assert_int_equal(r[0].pid * 1000 + r[1].pid * 100 + r[2].pid * 10 + r[3].pid, 2341);
	assert_int_equal(sort_parse("age", &spec, err, sizeof(err)), 0); /* oldest first, none last */
	table_sort(r, 4, &spec, &by_pins);
	assert_int_equal(r[0].pid * 1000 + r[1].pid * 100 + r[2].pid * 10 + r[3].pid, 2314);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sort_keys_are_column_names),
		cmocka_unit_test(one_value_one_text),
		cmocka_unit_test(ledger_columns),
		cmocka_unit_test(strings_escaped),
		cmocka_unit_test(sort_orders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
