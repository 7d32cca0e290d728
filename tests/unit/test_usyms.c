// SPDX-License-Identifier: GPL-2.0
/*
 * User stack symbols (src/usyms.c, elfutils libdwfl): a snapshot of this
 * process (the test binary, libc and the vDSO, with build ids), then frames
 * named from it: a function of the test binary (PIE), one of libc, the vDSO, through
 * --symfs, through /usr/lib/debug/.build-id, a module whose build id does not
 * match (address-in-file form), an address in no module, a pid that is gone,
 * and a static non-PIE executable (build/static/gwload, or one compiled here)
 * stopped at its first instruction, named after it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "usyms.h"

/* What the frames point into: not static, not inlined, more than a few bytes long. */
__attribute__((noinline)) int gw_usyms_target(int n)
{
	volatile int acc = 0;

	for (int i = 0; i < n; i++)
		acc += i * 3;
	return acc;
}

static struct usym_module mods[512];
static int nmods;

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const struct usym_module *mod_at(uint64_t addr)
{
	for (int i = 0; i < nmods; i++)
		if (mods[i].start <= addr && addr < mods[i].end)
			return &mods[i];
	return NULL;
}

static const struct usym_module *mod_named(const char *name)
{
	for (int i = 0; i < nmods; i++)
		if (!strcmp(base_name(mods[i].path), name))
			return &mods[i];
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	nmods = usyms_snapshot(getpid(), mods, sizeof(mods) / sizeof(mods[0]));
	return nmods > 0 && nmods <= (int)(sizeof(mods) / sizeof(mods[0])) ? 0 : -1;
}

static void snapshot_self(void **state)
{
	char exe[PATH_MAX];
	const struct usym_module *m, *libc;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);

	(void)state;
	assert_true(n > 0);
	exe[n] = 0;
	/* Counting gives the same number. */
	assert_int_equal(usyms_snapshot(getpid(), NULL, 0), nmods);
	/* By start, not overlapping. */
	for (int i = 1; i < nmods; i++)
		assert_true(mods[i - 1].end <= mods[i].start);

	m = mod_at((uintptr_t)gw_usyms_target);
	assert_non_null(m);
	assert_string_equal(m->path, exe);
	assert_string_equal(base_name(m->path), "test_usyms");
	assert_true(m->build_id_len >= 16); /* GNU build id: sha1 (20) or md5/uuid (16) */
	assert_true(m->base <= m->start);   /* PIE: the load bias */

	libc = mod_at((uintptr_t)&fsync); /* not one ASan intercepts */
	assert_non_null(libc);
	assert_string_equal(base_name(libc->path), "libc.so.6");
	assert_true(libc->build_id_len >= 16);
	assert_ptr_equal(libc, mod_named("libc.so.6"));

	if (vdso) {
		m = mod_at(vdso);
		assert_non_null(m);
		assert_string_equal(m->path, "[vdso]");
		assert_int_equal(m->start, vdso);
	}
	/* A short out array: the count of all, the first ones copied. */
	struct usym_module two[2];

	assert_int_equal(usyms_snapshot(getpid(), two, 2), nmods);
	assert_memory_equal(two, mods, sizeof(two));
}

static void name_own_function(void **state)
{
	struct usyms *u = usyms_new(NULL);
	char buf[256];

	(void)state;
	assert_non_null(u);
	assert_int_equal(usyms_set_process(u, getpid(), mods, nmods), 0);
	assert_string_equal(usyms_name(u, getpid(), (uintptr_t)gw_usyms_target, buf, sizeof(buf)),
			    "gw_usyms_target+0x0 [test_usyms]");
	assert_string_equal(usyms_name(u, getpid(), (uintptr_t)gw_usyms_target + 3, buf, sizeof(buf)),
			    "gw_usyms_target+0x3 [test_usyms]");
	/* Another pid mapping the same files (the cached Dwfl is shared). */
	assert_int_equal(usyms_set_process(u, 4000000, mods, nmods), 0);
	assert_string_equal(usyms_name(u, 4000000, (uintptr_t)gw_usyms_target + 3, buf, sizeof(buf)),
			    "gw_usyms_target+0x3 [test_usyms]");
	/* Replacing a pid's modules: none now. */
	assert_int_equal(usyms_set_process(u, 4000000, NULL, 0), 0);
	snprintf(buf, sizeof(buf), "0x%" PRIxPTR, (uintptr_t)gw_usyms_target + 3);
	char want[64];

	memcpy(want, buf, sizeof(want));
	assert_string_equal(usyms_name(u, 4000000, (uintptr_t)gw_usyms_target + 3, buf, sizeof(buf)), want);
	usyms_free(u);
}

/* "name+0x.. [libc.so.6]" where name contains want (glibc has aliases). */
static void assert_libc_name(const char *got, const char *want, uint64_t off)
{
	char tail[64];

	snprintf(tail, sizeof(tail), "+0x%" PRIx64 " [libc.so.6]", off);
	if (!strstr(got, want) || strlen(got) < strlen(tail) ||
	    strcmp(got + strlen(got) - strlen(tail), tail))
		fail_msg("\"%s\": want %s%s", got, want, tail);
}

static void name_libc_function(void **state)
{
	struct usyms *u = usyms_new(NULL);
	char buf[256];

	(void)state;
	assert_int_equal(usyms_set_process(u, getpid(), mods, nmods), 0);
	assert_libc_name(usyms_name(u, getpid(), (uintptr_t)&getpid, buf, sizeof(buf)), "getpid", 0);
	assert_libc_name(usyms_name(u, getpid(), (uintptr_t)&fsync + 4, buf, sizeof(buf)), "fsync", 4);
	usyms_free(u);
}

/* The vDSO (no file): named out of our own, the same kernel's. */
static void name_vdso(void **state)
{
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	const struct usym_module *m = vdso ? mod_at(vdso) : NULL;
	struct usyms *u = usyms_new(NULL);
	bool found = false;
	char buf[256];

	(void)state;
	if (!m) {
		usyms_free(u);
		skip(); /* booted with vdso=0 */
	}
	assert_int_equal(usyms_set_process(u, 5, m, 1), 0);
	for (uint64_t a = m->start; a < m->end && !found; a += 4)
		found = strstr(usyms_name(u, 5, a, buf, sizeof(buf)), "clock_gettime+0x") &&
			strstr(buf, " [vdso]");
	assert_true(found);
	usyms_free(u);
}

/* A recorded build id the file no longer has: the file is not used. */
static void wrong_build_id(void **state)
{
	struct usym_module m = *mod_at((uintptr_t)gw_usyms_target);
	struct usyms *u = usyms_new(NULL);
	uint64_t addr = (uintptr_t)gw_usyms_target + 3;
	char buf[256], want[256];

	(void)state;
	m.build_id[0] ^= 0xff;
	assert_int_equal(usyms_set_process(u, 77, &m, 1), 0);
	snprintf(want, sizeof(want), "0x%" PRIx64 " [test_usyms+0x%" PRIx64 "]", addr, addr - m.base);
	assert_string_equal(usyms_name(u, 77, addr, buf, sizeof(buf)), want);
	usyms_free(u);
}

static int copy_file(const char *from, const char *to)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'", to, from, to);
	return system(cmd);
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The recorded path exists only under --symfs (recorded elsewhere). */
static void symfs(void **state)
{
	struct usym_module m = *mod_at((uintptr_t)gw_usyms_target);
	char dir[] = "/tmp/test_usyms.XXXXXX", copy[PATH_MAX], buf[256], want[256];
	uint64_t addr = (uintptr_t)gw_usyms_target + 3;
	struct usyms *u;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/nonexistent/guest/bin/test_usyms", dir);
	assert_int_equal(copy_file(m.path, copy), 0);
	snprintf(m.path, sizeof(m.path), "/nonexistent/guest/bin/test_usyms");

	u = usyms_new(dir);
	assert_int_equal(usyms_set_process(u, 1234, &m, 1), 0);
	assert_string_equal(usyms_name(u, 1234, addr, buf, sizeof(buf)), "gw_usyms_target+0x3 [test_usyms]");
	usyms_free(u);

	/* Without symfs the file is nowhere. */
	u = usyms_new(NULL);
	assert_int_equal(usyms_set_process(u, 1234, &m, 1), 0);
	snprintf(want, sizeof(want), "0x%" PRIx64 " [test_usyms+0x%" PRIx64 "]", addr, addr - m.base);
	assert_string_equal(usyms_name(u, 1234, addr, buf, sizeof(buf)), want);
	usyms_free(u);

	/* A file under symfs with another build id (libc's) is not used: the path itself is. */
	m = *mod_at((uintptr_t)gw_usyms_target);
	snprintf(copy, sizeof(copy), "%s%s", dir, m.path);
	assert_int_equal(copy_file(mod_named("libc.so.6")->path, copy), 0);
	u = usyms_new(dir);
	assert_int_equal(usyms_set_process(u, 1234, &m, 1), 0);
	assert_string_equal(usyms_name(u, 1234, addr, buf, sizeof(buf)), "gw_usyms_target+0x3 [test_usyms]");
	usyms_free(u);
	rm_rf(dir);
}

/* The recorded path is gone: the build id finds the debug file. */
static void build_id_debug_file(void **state)
{
	struct usym_module m = *mod_named("libc.so.6");
	struct usyms *u = usyms_new(NULL);
	char debug[PATH_MAX], buf[256];
	int n;

	(void)state;
	n = snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%02x/", m.build_id[0]);
	for (uint32_t i = 1; i < m.build_id_len; i++)
		n += snprintf(debug + n, sizeof(debug) - n, "%02x", m.build_id[i]);
	snprintf(debug + n, sizeof(debug) - n, ".debug");
	if (access(debug, R_OK)) {
		usyms_free(u);
		skip(); /* no libc6-dbg */
	}
	snprintf(m.path, sizeof(m.path), "/nonexistent/lib/libc.so.6");
	assert_int_equal(usyms_set_process(u, 99, &m, 1), 0);
	assert_libc_name(usyms_name(u, 99, (uintptr_t)&fsync + 4, buf, sizeof(buf)), "fsync", 4);
	usyms_free(u);
}

static void outside_modules(void **state)
{
	struct usyms *u = usyms_new(NULL);
	int on_stack;
	char buf[64], want[64];

	(void)state;
	assert_int_equal(usyms_set_process(u, getpid(), mods, nmods), 0);
	assert_string_equal(usyms_name(u, getpid(), 0x10, buf, sizeof(buf)), "0x10");
	snprintf(want, sizeof(want), "0x%" PRIxPTR, (uintptr_t)&on_stack);
	assert_string_equal(usyms_name(u, getpid(), (uintptr_t)&on_stack, buf, sizeof(buf)), want);
	/* A pid never set. */
	assert_string_equal(usyms_name(u, getpid() + 1, (uintptr_t)gw_usyms_target, buf, sizeof(buf)),
			    (snprintf(want, sizeof(want), "0x%" PRIxPTR, (uintptr_t)gw_usyms_target), want));
	/* A short buffer: truncated, terminated. */
	assert_string_equal(usyms_name(u, getpid(), (uintptr_t)gw_usyms_target, buf, 8), "gw_usym");
	usyms_free(u);
}

static void gone_pid(void **state)
{
	pid_t pid = fork();
	struct usym_module *m;
	int st;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(usyms_snapshot(pid, NULL, 0), -ESRCH);
	assert_true(usyms_snapshot(0x7ffffff0, NULL, 0) < 0);
	m = (struct usym_module *)&st; /* must be reset */
	assert_int_equal(usyms_snapshot_new(pid, &m), -ESRCH);
	assert_null(m);
}

/* usyms_snapshot_new: the whole list in one array, as usyms_snapshot counts it. */
static void snapshot_new(void **state)
{
	struct usym_module *m;
	int n = usyms_snapshot(getpid(), NULL, 0);

	(void)state;
	assert_true(n > 0);
	assert_int_equal(usyms_snapshot_new(getpid(), &m), n);
	assert_non_null(m);
	assert_true(m[0].start < m[n - 1].end);
	free(m);
}

/* A static non-PIE executable: build/static/gwload (make STATIC=1), else one compiled here. */
static int static_exe(char *path, size_t len, const char *tmpdir)
{
	char exe[PATH_MAX - 64], cmd[4 * PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		/* build/unit/test_usyms -> build/static/gwload */
		*strrchr(exe, '/') = 0;
		snprintf(path, len, "%s/../static/gwload", exe);
		if (!access(path, X_OK))
			return 0;
	}
	snprintf(path, len, "%s/static_hello", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "printf 'int main(void) { return 0; }\\n' > %s.c && "
		 "${CC:-cc} -static -no-pie -o %s %s.c 2>/dev/null", path, path, path);
	return system(cmd) ? -1 : 0;
}

static void static_executable(void **state)
{
	char dir[] = "/tmp/test_usyms.XXXXXX", path[PATH_MAX], buf[256], want[PATH_MAX + 64];
	struct usym_module sm[64];
	struct user_regs_struct regs;
	const struct usym_module *exe = NULL;
	struct usyms *u;
	int n, st;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (static_exe(path, sizeof(path), dir)) {
		rm_rf(dir);
		skip(); /* no build/static/gwload and no static libc to build one */
	}
	/* Stopped by the exec, at its entry point (_start), nothing run yet. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFSTOPPED(st)) {
		rm_rf(dir);
		skip(); /* no ptrace here */
	}
	assert_int_equal(ptrace(PTRACE_GETREGS, pid, NULL, &regs), 0);
	n = usyms_snapshot(pid, sm, 64);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);

	assert_true(n >= 1 && n <= 64);
	for (int i = 0; i < n; i++)
		if (!strcmp(base_name(sm[i].path), base_name(path)))
			exe = &sm[i];
	assert_non_null(exe);
	assert_true(exe->build_id_len > 0);
	assert_true(exe->start <= regs.rip && regs.rip < exe->end);
	assert_int_equal(exe->base, 0); /* ET_EXEC: not relocated */

	/* Named after the process is gone, from the snapshot. */
	u = usyms_new(NULL);
	assert_int_equal(usyms_set_process(u, pid, sm, n), 0);
	snprintf(want, sizeof(want), "_start+0x0 [%s]", base_name(path));
	assert_string_equal(usyms_name(u, pid, regs.rip, buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "_start+0x4 [%s]", base_name(path));
	assert_string_equal(usyms_name(u, pid, regs.rip + 4, buf, sizeof(buf)), want);
	usyms_free(u);

	/* Not found: the address in the file is the address itself. */
	struct usym_module m = *exe;

	m.build_id[0] ^= 1;
	u = usyms_new(NULL);
	assert_int_equal(usyms_set_process(u, pid, &m, 1), 0);
	snprintf(want, sizeof(want), "0x%llx [%s+0x%llx]", regs.rip, base_name(path), regs.rip);
	assert_string_equal(usyms_name(u, pid, regs.rip, buf, sizeof(buf)), want);
	usyms_free(u);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_self),
		cmocka_unit_test(name_own_function),
		cmocka_unit_test(name_libc_function),
		cmocka_unit_test(name_vdso),
		cmocka_unit_test(wrong_build_id),
		cmocka_unit_test(symfs),
		cmocka_unit_test(build_id_debug_file),
		cmocka_unit_test(outside_modules),
		cmocka_unit_test(gone_pid),
		cmocka_unit_test(snapshot_new),
		cmocka_unit_test(static_executable),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
