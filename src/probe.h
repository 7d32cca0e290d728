/* SPDX-License-Identifier: GPL-2.0 */
/* Feature probes: can this kernel attach a BPF program to a function, and how. */
#ifndef GUPWATCH_PROBE_H
#define GUPWATCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

struct probe_env {
	struct btf *vmlinux_btf; /* NULL: the kernel exposes no BTF */
	int btf_err;             /* errno from loading it */
	int kprobe_pmu_type;     /* perf PMU type of kprobes, -1: none */
	int kprobe_prog_fd;      /* a trivial kprobe program, loaded on first use */
	int kprobe_prog_err;
};

/* Outcome of one attach attempt; err == 0 means attached and detached again. */
struct probe_result {
	int err;           /* positive errno */
	const char *stage; /* where it failed: "btf", "pmu", "load", "attach" */
};

void probe_env_init(struct probe_env *env);
void probe_env_free(struct probe_env *env);

bool probe_has_btf_func(const struct probe_env *env, const char *func);
/* Load and attach a do-nothing fentry program on func, then detach. */
struct probe_result probe_fentry(const struct probe_env *env, const char *func);
/* Create a kprobe on func through the perf kprobe PMU and attach a do-nothing program. */
struct probe_result probe_kprobe(struct probe_env *env, const char *func);

/* include/linux/errno.h: returned by BPF trampolines, unknown to libc. */
#define ENOTSUPP 524

/* Name of an errno as the kernel returns it, including kernel-internal ones (ENOTSUPP). */
const char *probe_errname(int err);

/* Effective capability bit (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN...). */
bool probe_has_cap(int cap);
/* Allowed to load and attach tracing programs: CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON. */
bool probe_privileged(void);
/* The kernel has a struct of this name in its BTF (a config option's code is built in). */
bool probe_has_btf_struct(const struct probe_env *env, const char *name);

/* A zone's PFN span: [start, end). */
struct zone_span {
	unsigned long long start, end;
	long node;
	char name[32];
};

/* The zones with memory in /proc/zoneinfo, up to max; -errno when it cannot be read. */
int probe_zones(struct zone_span *zones, int max);

/* Active lockdown mode ("none", "integrity", "confidentiality") or NULL if unknown. */
const char *probe_lockdown(char *buf, size_t len);

#endif
