/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says of a live process that gupwatch's tables do not: its cgroup
 * (v2) and the kernel's memlock ledger (what it charged as pinned and locked,
 * against RLIMIT_MEMLOCK). Read when a table is drawn, never per event.
 */
#ifndef GUPWATCH_PROCINFO_H
#define GUPWATCH_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCINFO_UNLIMITED UINT64_MAX

struct procinfo {
	bool alive;               /* /proc/PID could be read (else the rest is zero) */
	char cgroup[256];         /* cgroup v2 path ("0::" line), "" when none */
	uint64_t vm_pinned;       /* VmPin: bytes the kernel charged as pinned (mm->pinned_vm:
				     io_uring buffers, RDMA MRs; never short-term pins) */
	uint64_t vm_locked;       /* VmLck: mlock()ed bytes, and what vfio's type1 IOMMU pinned */
	uint64_t memlock_limit;   /* RLIMIT_MEMLOCK soft limit in bytes, or PROCINFO_UNLIMITED */
};

/* pid's cgroup v2 path (the "0::" line of /proc/PID/cgroup) into path; false when there is none. */
bool procinfo_cgroup(uint32_t pid, char *path, size_t len);

/* Where a process's cgroup comes from (ctx: the source's): /proc now, or what a source recorded. */
typedef bool (*procinfo_cgroup_fn)(void *ctx, uint32_t pid, char *path, size_t len);
/* procinfo_cgroup as a procinfo_cgroup_fn (ctx unused): for live sessions without PROCINFO items */
bool procinfo_cgroup_now(void *ctx, uint32_t pid, char *path, size_t len);

/* cgroup is path or below it (path "/": every cgroup). */
bool procinfo_cgroup_within(const char *cgroup, const char *path);

/* Reads pid's /proc/PID/{cgroup,status,limits}; false when the process is gone. */
bool procinfo_read(uint32_t pid, struct procinfo *pi);

/*
 * The container a cgroup path names, as "pod UID/container ID" pieces: kubepods
 * (systemd and cgroupfs drivers), docker, containerd, cri-o, podman (libpod).
 * Each is "" when the path does not carry it.
 */
void procinfo_container(const char *cgroup, char *pod, size_t pod_len, char *container,
			size_t container_len);

/*
 * The memlock ledger's verdict for a process holding held_longterm and held_other pinned
 * bytes: "near-limit" (VmPin + VmLck at 90 % of RLIMIT_MEMLOCK or more: what RDMA and vfio
 * check against it; io_uring checks the user's total), "uncharged" (it holds pins and the
 * kernel charged none as pinned: short-term pins never are), "ok", or "-" when nothing is
 * held.
 */
const char *procinfo_ledger(const struct procinfo *pi, uint64_t held_bytes);

/*
 * What /proc said of each process, by pid: the live source reads it when it
 * first sees a process and again at the end, and a recording keeps it
 * (recfile.h), so that report shows what trace would have.
 */
#define PROCINFO_TABLE_MAX 16384 /* processes; the engine tracks 4096 by default */

struct procinfo_table;

struct procinfo_table *procinfo_table_new(void);
void procinfo_table_free(struct procinfo_table *t);
/* Stores (replaces) pid's: 0, or -ENOSPC (PROCINFO_TABLE_MAX pids) or -ENOMEM. */
int procinfo_table_set(struct procinfo_table *t, uint32_t pid, const struct procinfo *pi);
/* pid's, or NULL when none was stored. */
const struct procinfo *procinfo_table_get(const struct procinfo_table *t, uint32_t pid);
/* The pids stored, at most max of them into pids; returns how many are stored. */
size_t procinfo_table_pids(const struct procinfo_table *t, uint32_t *pids, size_t max);

#endif
