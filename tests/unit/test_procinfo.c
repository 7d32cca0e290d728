// SPDX-License-Identifier: GPL-2.0
/* /proc readings for the memlock ledger and cgroup labels (procinfo.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "procinfo.h"

static void container_of_paths(void **state)
{
	static const struct { const char *cgroup, *pod, *container; } cases[] = {
		/* kubelet, systemd cgroup driver, containerd */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-3f2a1b0c9d8e7f6a.scope",
		  "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "3f2a1b0c9d8e7f6a" },
		/* kubelet, cgroupfs driver */
		{ "/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/3f2a1b0c9d8e",
		  "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "3f2a1b0c9d8e" },
		{ "/kubepods.slice/kubepods-pod11_22.slice/crio-abcdef.scope", "11-22", "abcdef" },
		{ "/system.slice/docker-0123456789ab.scope", "", "0123456789ab" },
		{ "/machine.slice/libpod-fedcba.scope/container", "", "" },
		{ "/user.slice/user-1000.slice/session-2.scope", "", "" },
		{ "/", "", "" },
		{ "", "", "" },
	};
	char pod[64], container[80];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		procinfo_container(cases[i].cgroup, pod, sizeof(pod), container, sizeof(container));
		assert_string_equal(pod, cases[i].pod);
		assert_string_equal(container, cases[i].container);
	}
}

/* our own process, against getrlimit: the limits line is the soft limit */
static void reads_self(void **state)
{
	struct procinfo pi;
	struct rlimit rl;

	(void)state;
	assert_true(procinfo_read((uint32_t)getpid(), &pi));
	assert_true(pi.alive);
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(pi.memlock_limit, rl.rlim_cur == RLIM_INFINITY ? PROCINFO_UNLIMITED : rl.rlim_cur);
	assert_int_equal(pi.vm_pinned, 0);
	assert_false(procinfo_read(2147483000u, &pi));
	assert_false(pi.alive);
	assert_string_equal(procinfo_ledger(&pi, 4096), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(container_of_paths),
		cmocka_unit_test(reads_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
