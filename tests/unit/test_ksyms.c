// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel symbols (src/ksyms.c): a kallsyms file as the kernel writes it,
 * read by hand. Text symbols (t, T, w, W) only, data and zero addresses
 * (what an unprivileged reader sees) skipped, a module's "\t[module]" cut
 * off, modules listed out of address order sorted in, names of any length,
 * a last line without a newline, and symbols added later merged in; a
 * table of added names only (report's: no block of loaded names); data
 * symbols resolved by name for the BPF side; and every text symbol of the
 * host's own /proc/kallsyms found at its address.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ksyms.h"

static char path[] = "/tmp/gw-ksyms-XXXXXX";

static struct ksyms *load(const char *text)
{
	int fd = mkstemp(path);
	struct ksyms *ks;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ks = ksyms_load(path);
	unlink(path);
	strcpy(path, "/tmp/gw-ksyms-XXXXXX");
	assert_non_null(ks);
	return ks;
}

static void expect_name(const struct ksyms *ks, uint64_t addr, const char *want)
{
	char buf[512];

	assert_string_equal(ksyms_name(ks, addr, buf, sizeof(buf)), want);
}

static void kallsyms_file(void **state)
{
	char long_name[301];
	char *text;
	struct ksyms *ks;

	(void)state;
	memset(long_name, 'x', 300);
	long_name[300] = '\0';
	assert_true(asprintf(&text,
			     "ffffffff81000000 T _text\n"
			     "ffffffff81000100 t do_wp_page\n"
			     "ffffffff81000200 D some_data\n"
			     "ffffffff81000300 W weak_fn\n"
			     "0000000000000000 T hidden_from_users\n"
			     "\n"
			     "ffffffff81000400 T %s\n"
			     "ffffffffc0a02000 t mod_b_fn\t[mod_b]\n"
			     "ffffffffc0a01000 t mod_a_fn\t[mod_a]\n"
			     "ffffffffc0a01100 b mod_a_bss\t[mod_a]\n"
			     "ffffffffc0a03000 T last_fn", long_name) > 0);
	ks = load(text);
	free(text);
	assert_int_equal(ksyms_count(ks), 7);
	expect_name(ks, 0xffffffff81000010, "_text+0x10");
	expect_name(ks, 0xffffffff81000100, "do_wp_page+0x0");
	expect_name(ks, 0xffffffff81000250, "do_wp_page+0x150"); /* data is not a frame's symbol */
	expect_name(ks, 0xffffffff81000301, "weak_fn+0x1");
	expect_name(ks, 0xffffffffc0a01008, "mod_a_fn+0x8");
	expect_name(ks, 0xffffffffc0a01108, "mod_a_fn+0x108");
	expect_name(ks, 0xffffffffc0a02004, "mod_b_fn+0x4");
	expect_name(ks, 0xffffffffc0a03004, "last_fn+0x4");
	expect_name(ks, 0xffffffff80ffffff, "0xffffffff80ffffff");
	{
		char want[320];

		snprintf(want, sizeof(want), "%s+0x4", long_name);
		expect_name(ks, 0xffffffff81000404, want);
	}
	/* added later (report: a recording's symbols) and merged in; the loaded one wins a tie */
	assert_int_equal(ksyms_add(ks, 0xffffffff81000180, "added_fn"), 0);
	assert_int_equal(ksyms_add(ks, 0xffffffff81000100, "same_address"), 0);
	expect_name(ks, 0xffffffff81000190, "added_fn+0x10");
	expect_name(ks, 0xffffffff81000104, "do_wp_page+0x4");
	assert_int_equal(ksyms_count(ks), 8);
	ksyms_free(ks);
}

/* report's table: only added names (a recording's), duplicates dropped, each freed once */
static void added_only(void **state)
{
	struct ksyms *ks = ksyms_new();

	(void)state;
	assert_non_null(ks);
	assert_int_equal(ksyms_add(ks, 0xffffffff81000200, "b"), 0);
	assert_int_equal(ksyms_add(ks, 0xffffffff81000100, "a"), 0);
	assert_int_equal(ksyms_add(ks, 0xffffffff81000100, "a_again"), 0);
	expect_name(ks, 0xffffffff81000104, "a+0x4");
	expect_name(ks, 0xffffffff81000204, "b+0x4");
	assert_int_equal(ksyms_count(ks), 2);
	ksyms_free(ks);
}

/* Data symbols by name for the BPF side: any type, the kernel's own before a module's. */
static void resolve_names(void **state)
{
	static const char *const names[] = { "vmemmap_base", "__per_cpu_offset", "pcpu_hot",
					     "__preempt_count", "not_listed" };
	static const char text[] =
		"0000000000000000 A fixed_percpu_data\n"
		"000000000002c9d0 A __preempt_count\n"
		"ffffffff81000000 T _text\n"
		"ffffffffc0a01000 d vmemmap_base\t[a_module]\n"
		"ffffffff82a1b2c0 D vmemmap_base\n"
		"ffffffff82a1b2c8 D vmemmap_base_too\n"
		"ffffffff82c00000 R __per_cpu_offset\n"
		"ffffffff82c00008 D vmemmap_base\n";
	uint64_t addrs[5];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(ksyms_resolve(path, names, addrs, 5), 0);
	unlink(path);
	strcpy(path, "/tmp/gw-ksyms-XXXXXX");
	assert_int_equal(addrs[0], 0xffffffff82a1b2c0); /* not the module's, not the later one */
	assert_int_equal(addrs[1], 0xffffffff82c00000);
	assert_int_equal(addrs[2], 0);                  /* 6.1 and 6.15+: no pcpu_hot */
	assert_int_equal(addrs[3], 0x2c9d0);            /* per-CPU: an offset in the area */
	assert_int_equal(addrs[4], 0);
	assert_int_equal(ksyms_resolve("/nonexistent/kallsyms", names, addrs, 5), -ENOENT);
	assert_int_equal(addrs[0], 0);
}

/* The host's own /proc/kallsyms: every symbol it names is one of the file's, at its address. */
static void proc_kallsyms(void **state)
{
	struct ksyms *ks = ksyms_load("/proc/kallsyms");
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], type;
	unsigned long long addr;
	size_t checked = 0;

	(void)state;
	if (!ks || !f)
		skip();
	while (fgets(line, sizeof(line), f)) {
		uint64_t start;
		long i;

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr ||
		    (type != 't' && type != 'T'))
			continue;
		i = ksyms_find(ks, addr);
		assert_true(i >= 0);
		ksyms_sym(ks, i, &start);
		assert_int_equal(start, addr);
		checked++;
	}
	fclose(f);
	if (!checked) /* not root: every address reads as 0 */
		skip();
	assert_true(checked <= ksyms_count(ks));
	ksyms_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kallsyms_file),
		cmocka_unit_test(added_only),
		cmocka_unit_test(resolve_names),
		cmocka_unit_test(proc_kallsyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
