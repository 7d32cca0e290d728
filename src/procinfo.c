// SPDX-License-Identifier: GPL-2.0
#include "procinfo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "VmPin:      32 kB" */
static bool status_kb(const char *line, const char *key, uint64_t *bytes)
{
	size_t n = strlen(key);
	uint64_t kb;

	if (strncmp(line, key, n) || sscanf(line + n, " %" SCNu64, &kb) != 1)
		return false;
	*bytes = kb * 1024;
	return true;
}

bool procinfo_cgroup(uint32_t pid, char *path, size_t len)
{
	char name[64], line[512];
	bool found = false;
	FILE *f;

	if (len)
		path[0] = 0;
	snprintf(name, sizeof(name), "/proc/%u/cgroup", pid);
	if (!(f = fopen(name, "re")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, len, "%s", line + 3);
			found = true;
		}
	fclose(f);
	return found;
}

bool procinfo_cgroup_now(void *ctx, uint32_t pid, char *path, size_t len)
{
	(void)ctx;
	return procinfo_cgroup(pid, path, len);
}

bool procinfo_cgroup_within(const char *cgroup, const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return !strncmp(cgroup, path, n) && (cgroup[n] == 0 || cgroup[n] == '/' || n == 1);
}

bool procinfo_read(uint32_t pid, struct procinfo *pi)
{
	char path[64], line[512];
	FILE *f;

	memset(pi, 0, sizeof(*pi));
	pi->memlock_limit = PROCINFO_UNLIMITED;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (!status_kb(line, "VmPin:", &pi->vm_pinned))
			status_kb(line, "VmLck:", &pi->vm_locked);
	fclose(f);
	pi->alive = true;
	procinfo_cgroup(pid, pi->cgroup, sizeof(pi->cgroup));
	/* "Max locked memory         8388608              8388608              bytes" */
	snprintf(path, sizeof(path), "/proc/%u/limits", pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			uint64_t soft;

			if (strncmp(line, "Max locked memory", 17))
				continue;
			if (sscanf(line + 17, " %" SCNu64, &soft) == 1)
				pi->memlock_limit = soft;
		}
		fclose(f);
	}
	return true;
}

/* The hex/alnum id right after prefix in s, up to a '.' or '/', into out. */
static void id_after(const char *s, const char *prefix, char *out, size_t len)
{
	const char *p = strstr(s, prefix);
	size_t n;

	if (!p || !len)
		return;
	p += strlen(prefix);
	n = strcspn(p, "./");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

void procinfo_container(const char *cgroup, char *pod, size_t pod_len, char *container,
			size_t container_len)
{
	static const char *const runtimes[] = { "cri-containerd-", "crio-", "docker-", "libpod-" };
	const char *leaf = strrchr(cgroup, '/');

	if (pod_len)
		*pod = 0;
	if (container_len)
		*container = 0;
	/* systemd driver: ...-pod<uid>.slice, the uid's dashes as underscores; cgroupfs: /pod<uid>/ */
	for (const char *p = strstr(cgroup, "kubepods") ? cgroup : NULL; p && (p = strstr(p, "pod")); p++)
		if (p > cgroup && (p[-1] == '-' || p[-1] == '/')) {
			id_after(p, "pod", pod, pod_len);
			for (char *c = pod; *c; c++)
				if (*c == '_')
					*c = '-';
			break;
		}
	for (size_t i = 0; leaf && i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strstr(leaf, runtimes[i])) {
			id_after(leaf, runtimes[i], container, container_len);
			return;
		}
	/* cgroupfs driver: /kubepods/<qos>/pod<uid>/<container id> */
	if (pod_len && *pod && leaf && !strstr(leaf, "pod"))
		snprintf(container, container_len, "%s", leaf + 1);
}

const char *procinfo_ledger(const struct procinfo *pi, uint64_t held_bytes)
{
	uint64_t charged = pi->vm_pinned + pi->vm_locked;

	if (!held_bytes || !pi->alive)
		return "-";
	if (pi->memlock_limit != PROCINFO_UNLIMITED && charged >= pi->memlock_limit / 10 * 9)
		return "near-limit";
	return pi->vm_pinned ? "ok" : "uncharged";
}

/* ---- pid table: open addressing, doubled at half full ---- */

struct procinfo_slot {
	uint32_t pid; /* 0: empty */
	struct procinfo info;
};

struct procinfo_table {
	struct procinfo_slot *slots;
	uint32_t mask, used;
};

static uint32_t pid_hash(uint32_t pid, uint32_t mask)
{
	return (uint32_t)((pid * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static struct procinfo_slot *slot_of(const struct procinfo_table *t, uint32_t pid)
{
	uint32_t i = pid_hash(pid, t->mask);

	while (t->slots[i].pid && t->slots[i].pid != pid)
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

struct procinfo_table *procinfo_table_new(void)
{
	struct procinfo_table *t = calloc(1, sizeof(*t));

	if (t && !(t->slots = calloc(64, sizeof(*t->slots)))) {
		free(t);
		return NULL;
	}
	if (t)
		t->mask = 63;
	return t;
}

void procinfo_table_free(struct procinfo_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

int procinfo_table_set(struct procinfo_table *t, uint32_t pid, const struct procinfo *pi)
{
	struct procinfo_slot *s = slot_of(t, pid);

	if (!s->pid) {
		if (t->used >= PROCINFO_TABLE_MAX)
			return -ENOSPC;
		if (2 * (t->used + 1) > t->mask + 1) {
			struct procinfo_table n = { .mask = 2 * t->mask + 1 };

			if (!(n.slots = calloc(n.mask + 1ull, sizeof(*n.slots))))
				return -ENOMEM;
			for (uint32_t k = 0; k <= t->mask; k++)
				if (t->slots[k].pid)
					*slot_of(&n, t->slots[k].pid) = t->slots[k];
			free(t->slots);
			t->slots = n.slots;
			t->mask = n.mask;
			s = slot_of(t, pid);
		}
		s->pid = pid;
		t->used++;
	}
	s->info = *pi;
	return 0;
}

const struct procinfo *procinfo_table_get(const struct procinfo_table *t, uint32_t pid)
{
	const struct procinfo_slot *s = pid ? slot_of(t, pid) : NULL;

	return s && s->pid ? &s->info : NULL;
}

size_t procinfo_table_pids(const struct procinfo_table *t, uint32_t *pids, size_t max)
{
	size_t n = 0;

	for (uint32_t k = 0; k <= t->mask; k++)
		if (t->slots[k].pid && n++ < max)
			pids[n - 1] = t->slots[k].pid;
	return n;
}
