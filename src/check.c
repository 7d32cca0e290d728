// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch check: can live tracing work on this kernel? Every hook is tried
 * for real (load + attach + detach), nothing is inferred from versions.
 */
#include <argp.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "gupwatch.skel.h"
#include "hooks.h"
#include "probe.h"

struct hook_status {
	bool in_btf;
	struct probe_result fentry, kprobe;
};

static bool check_verbose, check_hooks;

static const struct argp_option check_options[] = {
	{ "verbose", 'v', NULL, 0, "Also list hooks this kernel does not have", 0 },
	{ "hooks", 'H', NULL, 0, "Only list this kernel's hooks, machine-readable: "
	  "FUNCTION ROLE FENTRY-SIDES FENTRY KPROBE-SIDES KPROBE", 0 },
	{ 0 },
};

static error_t check_parse(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	switch (key) {
	case 'v':
		check_verbose = true;
		return 0;
	case 'H':
		check_hooks = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp check_argp = {
	.options = check_options,
	.parser = check_parse,
	.args_doc = "",
	.doc = "Report whether gupwatch can trace this kernel, hook by hook.\n\n"
	       "Every hook is verified by loading and attaching a do-nothing BPF\n"
	       "program (fentry, then kprobe) and detaching it again. Exit status 0\n"
	       "when live tracing can work, 1 when it cannot (the last line says why\n"
	       "and what to do).\n\n"
	       "Example:\n  sudo gupwatch check\n",
};

static const char *result_str(const struct probe_result *r, char *buf, size_t len)
{
	if (!r->err)
		return "ok";
	snprintf(buf, len, "%s(%s)", probe_errname(r->err), r->stage);
	return buf;
}

static void append_name(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? " " : "", name);
}

/* A short phrase on why fentry (or kprobe) fails on the hooks it fails on. */
static void explain(const char *mode, const struct probe_result *r, bool privileged, char *buf, size_t len)
{
	if (!strcmp(r->stage, "pmu"))
		snprintf(buf, len, "kprobes are not configured (no kprobe PMU: kernel built without CONFIG_KPROBES)");
	else if (r->err == EPERM && !privileged)
		snprintf(buf, len, "%s needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)", mode);
	else if (r->err == EACCES && !strcmp(mode, "kprobe") && !probe_has_cap(CAP_SYS_ADMIN))
		/* Debian's "perf: allow further restriction of perf_event_open": paranoid 3 */
		snprintf(buf, len, "kprobe perf events need CAP_SYS_ADMIN where kernel.perf_event_paranoid "
			 "is above 2 (Debian's default is 3)");
	else if (r->err == EPERM && !strcmp(r->stage, "load"))
		snprintf(buf, len, "%s is refused by this kernel (EPERM at load although privileged)", mode);
	else if (r->err == ENOTSUPP && !strcmp(r->stage, "attach"))
		/* arch_prepare_bpf_trampoline(): x86 took at most 6 arguments before 6.6 */
		snprintf(buf, len, "%s: the BPF trampoline cannot attach (ENOTSUPP; e.g. a function with more than 6 arguments before 6.6)", mode);
	else
		snprintf(buf, len, "%s %s failed: %s", mode, r->stage, probe_errname(r->err));
}

/*
 * Where long-term pins must not stay: ZONE_MOVABLE and CMA areas (the kernel
 * migrates out of them before it pins). struct cma exists only with
 * CONFIG_CMA, which Debian's amd64 kernels leave unset.
 */
static void print_memory(const struct probe_env *env)
{
	struct zone_span zones[64];
	int n = probe_zones(zones, 64);
	unsigned long long movable = 0;

	for (int i = 0; i < n; i++)
		if (!strcasecmp(zones[i].name, "Movable"))
			movable += zones[i].end - zones[i].start;
	if (n < 0)
		printf("movable     unknown: /proc/zoneinfo unreadable (%s)\n", strerror(-n));
	else if (movable)
		printf("movable     ZONE_MOVABLE, %llu pages\n", movable);
	else
		printf("movable     none (kernelcore=, movablecore= or memory onlined movable make one)\n");
	printf("cma         %s\n", !env->vmlinux_btf ? "unknown (no BTF)" :
	       probe_has_btf_struct(env, "cma") ? "built in (CONFIG_CMA)" :
	       "none (CONFIG_CMA unset: no CMA area for long-term pins to avoid)");
}

int cmd_check(int argc, char **argv)
{
	struct hook_status st[nr_hooks];
	struct probe_env env;
	struct utsname uts;
	char lockbuf[32], buf1[48], buf2[48], why_fentry[160] = "", why_kprobe[160] = "";
	char fentry_failed[512] = "", kprobe_failed[512] = "";
	const struct probe_result *fentry_fail = NULL, *kprobe_fail = NULL;
	bool role_present[ROLE__COUNT] = { false };
	bool privileged, ok = true;
	int present = 0, fentry_ok = 0, kprobe_ok = 0, either_ok = 0, i;
	const char *lockdown;
	struct gupwatch_bpf *skel = NULL;

	if (argp_parse(&check_argp, argc, argv, 0, NULL, NULL))
		return 2;

	uname(&uts);
	probe_env_init(&env);
	privileged = probe_privileged();
	lockdown = probe_lockdown(lockbuf, sizeof(lockbuf));
	if (check_hooks) {
		skel = gupwatch_bpf__open(); /* opened, not loaded: its section names */
		if (!skel)
			fprintf(stderr, "gupwatch check: cannot open the BPF object: %s\n", strerror(errno));
		goto hooks;
	}

	printf("kernel      %s %s\n", uts.release, uts.machine);
	printf("btf         %s\n", env.vmlinux_btf ? "yes (/sys/kernel/btf/vmlinux)"
						    : "NO: /sys/kernel/btf/vmlinux is missing");
	printf("lockdown    %s\n", lockdown ?: "unknown (securityfs not mounted)");
	printf("privileges  uid %u; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s\n", getuid(),
	       probe_has_cap(CAP_BPF) ? "yes" : "no", probe_has_cap(CAP_PERFMON) ? "yes" : "no",
	       probe_has_cap(CAP_SYS_ADMIN) ? "yes" : "no");
	print_memory(&env);
	printf("\n%-28s %-10s %-4s %-16s %s\n", "HOOK", "ROLE", "BTF", "FENTRY", "KPROBE");
hooks:
	for (i = 0; i < nr_hooks; i++) {
		st[i].in_btf = probe_has_btf_func(&env, hooks[i].func);
		if (!st[i].in_btf) {
			if (check_verbose)
				printf("%-28s %-10s %-4s %-16s %-16s (not in this kernel; out of line on %s)\n",
				       hooks[i].func, hook_role_name(hooks[i].role), "-", "-", "-",
				       hooks[i].kernels);
			continue;
		}
		present++;
		role_present[hooks[i].role] = true;
		st[i].fentry = probe_fentry(&env, hooks[i].func);
		st[i].kprobe = probe_kprobe(&env, hooks[i].func);
		fentry_ok += !st[i].fentry.err;
		kprobe_ok += !st[i].kprobe.err;
		either_ok += !st[i].fentry.err || !st[i].kprobe.err;
		if (st[i].fentry.err) {
			if (!fentry_fail)
				fentry_fail = &st[i].fentry;
			append_name(fentry_failed, sizeof(fentry_failed), hooks[i].func);
		}
		if (st[i].kprobe.err) {
			if (!kprobe_fail)
				kprobe_fail = &st[i].kprobe;
			append_name(kprobe_failed, sizeof(kprobe_failed), hooks[i].func);
		}
		if (check_hooks)
			printf("%s %s %s %s %s %s\n", hooks[i].func, hook_role_name(hooks[i].role),
			       tracer_hook_sides(skel, hooks[i].func, false), result_str(&st[i].fentry, buf1, sizeof(buf1)),
			       tracer_hook_sides(skel, hooks[i].func, true), result_str(&st[i].kprobe, buf2, sizeof(buf2)));
		else
			printf("%-28s %-10s %-4s %-16s %s\n", hooks[i].func, hook_role_name(hooks[i].role),
			       "yes", result_str(&st[i].fentry, buf1, sizeof(buf1)),
			       result_str(&st[i].kprobe, buf2, sizeof(buf2)));
	}
	if (check_hooks) {
		ok = skel && env.vmlinux_btf && present && either_ok == present;
		gupwatch_bpf__destroy(skel);
		probe_env_free(&env);
		return ok ? 0 : 1;
	}
	printf("\n");

	if (!env.vmlinux_btf) {
		printf("verdict: cannot trace: the kernel has no BTF (%s); gupwatch's CO-RE programs need "
		       "CONFIG_DEBUG_INFO_BTF=y\n", strerror(env.btf_err));
		probe_env_free(&env);
		return 1;
	}
	for (i = 0; i < ROLE__COUNT; i++) {
		if (!role_present[i] && !hook_role_optional(i)) {
			printf("missing     no %s hook exists in this kernel's BTF\n",
			       hook_role_name(i));
			ok = false;
		}
	}
	if (fentry_fail) {
		explain("fentry/fexit", fentry_fail, privileged, why_fentry, sizeof(why_fentry));
		printf("fentry      %d of %d hooks fail (%s): %s\n", present - fentry_ok, present,
		       fentry_ok ? fentry_failed : "all", why_fentry);
	}
	if (kprobe_fail) {
		explain("kprobe", kprobe_fail, privileged, why_kprobe, sizeof(why_kprobe));
		printf("kprobe      %d of %d hooks fail (%s): %s\n", present - kprobe_ok, present,
		       kprobe_ok ? kprobe_failed : "all", why_kprobe);
	}
	probe_env_free(&env);

	if (ok && either_ok == present && fentry_ok == present) {
		printf("verdict: live tracing works: all %d hooks attach with fentry/fexit\n", present);
		return 0;
	}
	if (ok && either_ok == present) {
		printf("verdict: live tracing works: %d of %d hooks use the kprobe fallback\n",
		       present - fentry_ok, present);
		return 0;
	}
	if (!ok)
		printf("verdict: cannot trace: this kernel lacks hooks gupwatch needs (see 'missing' above); "
		       "fix: use a kernel gupwatch supports (Debian 6.1 or 6.12)\n");
	else
		printf("verdict: cannot trace: %d of %d hooks attach neither way: %s; %s; fix: %s\n",
		       present - either_ok, present, why_fentry, why_kprobe,
		       !privileged ? "run as root" :
		       kprobe_fail && kprobe_fail->err == EACCES && !probe_has_cap(CAP_SYS_ADMIN) ?
				    "add CAP_SYS_ADMIN for the kprobe fallback" :
				    "run gupwatch on a kernel that permits BPF tracing of kernel functions "
				    "(e.g. Debian 6.1 or 6.12; `make demo` boots them in QEMU)");
	return 1;
}
