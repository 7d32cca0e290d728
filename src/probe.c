// SPDX-License-Identifier: GPL-2.0
#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* r0 = 0; exit — the smallest program every verifier accepts. */
static const struct bpf_insn return_zero[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};
#define RETURN_ZERO_LEN (sizeof(return_zero) / sizeof(return_zero[0]))

static int read_int_file(const char *path, int *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

void probe_env_init(struct probe_env *env)
{
	memset(env, 0, sizeof(*env));
	env->vmlinux_btf = btf__load_vmlinux_btf();
	env->btf_err = env->vmlinux_btf ? 0 : errno;
	/* libbpf says ESRCH when it found no BTF anywhere it looks */
	if (!env->vmlinux_btf && (!env->btf_err || env->btf_err == ESRCH))
		env->btf_err = ENOENT;
	/* The kprobe PMU (4.17) is how libbpf creates kprobes; no PMU: no kprobes. */
	if (read_int_file("/sys/bus/event_source/devices/kprobe/type", &env->kprobe_pmu_type))
		env->kprobe_pmu_type = -1;
	env->kprobe_prog_fd = -1;
}

void probe_env_free(struct probe_env *env)
{
	btf__free(env->vmlinux_btf);
	if (env->kprobe_prog_fd >= 0)
		close(env->kprobe_prog_fd);
	env->vmlinux_btf = NULL;
	env->kprobe_prog_fd = -1;
}

bool probe_has_btf_struct(const struct probe_env *env, const char *name)
{
	return env->vmlinux_btf && btf__find_by_name_kind(env->vmlinux_btf, name, BTF_KIND_STRUCT) > 0;
}

int probe_zones(struct zone_span *zones, int max)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256], name[32] = "";
	unsigned long long spanned = 0, start;
	long node = -1;
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %ld, zone %31s", &node, name) == 2)
			spanned = 0;
		else if (sscanf(line, " spanned %llu", &spanned) == 1)
			;
		else if (sscanf(line, " start_pfn: %llu", &start) == 1 && spanned && n < max) {
			zones[n] = (struct zone_span){ .start = start, .end = start + spanned, .node = node };
			snprintf(zones[n].name, sizeof(zones[n].name), "%s", name);
			n++;
		}
	}
	fclose(f);
	return n;
}

static int btf_func_id(const struct probe_env *env, const char *func)
{
	if (!env->vmlinux_btf)
		return -1;
	return btf__find_by_name_kind(env->vmlinux_btf, func, BTF_KIND_FUNC);
}

bool probe_has_btf_func(const struct probe_env *env, const char *func)
{
	return btf_func_id(env, func) > 0;
}

static struct probe_result fail(const char *stage, int err)
{
	return (struct probe_result){ .err = err ? err : EINVAL, .stage = stage };
}

struct probe_result probe_fentry(const struct probe_env *env, const char *func)
{
	int id = btf_func_id(env, func), prog_fd, link_fd;

	if (id <= 0)
		return fail("btf", ENOENT);

	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "gw_probe", "GPL",
				return_zero, RETURN_ZERO_LEN, &opts);
	if (prog_fd < 0)
		return fail("load", errno);
	/* A notrace function loads fine but has no ftrace site to attach to. */
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (link_fd < 0) {
		int err = errno;

		close(prog_fd);
		return fail("attach", err);
	}
	close(link_fd);
	close(prog_fd);
	return (struct probe_result){ 0, NULL };
}

struct probe_result probe_kprobe(struct probe_env *env, const char *func)
{
	struct perf_event_attr attr;
	int pfd;

	if (env->kprobe_pmu_type < 0)
		return fail("pmu", ENOENT);
	if (env->kprobe_prog_fd < 0 && !env->kprobe_prog_err) {
		env->kprobe_prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gw_probe", "GPL",
						    return_zero, RETURN_ZERO_LEN, NULL);
		if (env->kprobe_prog_fd < 0)
			env->kprobe_prog_err = errno;
	}
	if (env->kprobe_prog_fd < 0)
		return fail("load", env->kprobe_prog_err);

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = env->kprobe_pmu_type;
	attr.config1 = (uint64_t)(uintptr_t)func; /* kprobe_func */
	attr.config2 = 0;                          /* probe_offset */
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return fail("attach", errno);
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, env->kprobe_prog_fd) < 0 ||
	    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		int err = errno;

		close(pfd);
		return fail("attach", err);
	}
	close(pfd);
	return (struct probe_result){ 0, NULL };
}

const char *probe_errname(int err)
{
	static char buf[16];

	if (err == ENOTSUPP)
		return "ENOTSUPP";
	if (strerrorname_np(err))
		return strerrorname_np(err);
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

bool probe_has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool probe_privileged(void)
{
	/* CAP_BPF and CAP_PERFMON split from CAP_SYS_ADMIN in 5.8 ("bpf, capability: Introduce
	 * CAP_BPF"); tracing programs need both */
	return probe_has_cap(CAP_SYS_ADMIN) || (probe_has_cap(CAP_BPF) && probe_has_cap(CAP_PERFMON));
}

const char *probe_lockdown(char *buf, size_t len)
{
	/* Format: "none [integrity] confidentiality"; the bracketed one is active. */
	char line[128], *open, *close_;
	FILE *f = fopen("/sys/kernel/security/lockdown", "r");

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	open = strchr(line, '[');
	close_ = open ? strchr(open, ']') : NULL;
	if (!close_)
		return NULL;
	*close_ = '\0';
	snprintf(buf, len, "%s", open + 1);
	return buf;
}
