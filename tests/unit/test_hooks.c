// SPDX-License-Identifier: GPL-2.0
/*
 * The hook table `gupwatch check` verifies (src/hooks.c) and the functions the
 * BPF object hooks must be the same set: check must test what trace attaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gupwatch.skel.h"
#include "hooks.h"

static const char *section_func(const char *sec)
{
	const char *slash = strchr(sec, '/');

	return slash ? slash + 1 : NULL;
}

static bool in_table(const char *func)
{
	for (int i = 0; i < nr_hooks; i++)
		if (!strcmp(hooks[i].func, func))
			return true;
	return false;
}

static void every_program_hooks_a_table_function(void **state)
{
	struct gupwatch_bpf *skel = gupwatch_bpf__open();
	struct bpf_program *prog;
	int progs = 0;

	(void)state;
	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		const char *func = section_func(sec);

		assert_non_null(func);
		if (!strncmp(sec, "raw_tp/", 7)) /* tracepoints: not kernel functions */
			continue;
		if (!in_table(func))
			fail_msg("%s hooks %s, which src/hooks.c does not list",
				 bpf_program__name(prog), func);
		progs++;
	}
	assert_true(progs > nr_hooks);
	gupwatch_bpf__destroy(skel);
}

static void every_table_function_is_hooked_both_ways(void **state)
{
	struct gupwatch_bpf *skel = gupwatch_bpf__open();

	(void)state;
	assert_non_null(skel);
	for (int i = 0; i < nr_hooks; i++) {
		bool fentry = false, kprobe = false;
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, skel->obj) {
			const char *sec = bpf_program__section_name(prog);

			if (strcmp(section_func(sec), hooks[i].func))
				continue;
			fentry |= !strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6);
			kprobe |= !strncmp(sec, "kprobe/", 7) || !strncmp(sec, "kretprobe/", 10);
		}
		if (!fentry || !kprobe)
			fail_msg("%s: fentry program %s, kprobe program %s", hooks[i].func,
				 fentry ? "yes" : "missing", kprobe ? "yes" : "missing");
	}
	gupwatch_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_program_hooks_a_table_function),
		cmocka_unit_test(every_table_function_is_hooked_both_ways),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
