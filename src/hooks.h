/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel functions gupwatch hooks, one table for `check` and the tracer. */
#ifndef GUPWATCH_HOOKS_H
#define GUPWATCH_HOOKS_H

#include <stdbool.h>

enum hook_role {
	ROLE_PIN,          /* a FOLL_PIN reference is taken */
	ROLE_UNPIN,        /* a FOLL_PIN reference is dropped */
	ROLE_UNPIN_CALL,   /* a call that unpins many pages: its unpins go out as one batch */
	ROLE_PIN_CALL,     /* a slow-path pin call: its failures, a long-term one's return */
	ROLE_MIGRATE,      /* migrate_pages: the folios it could not move */
	ROLE_GUP_FAST,     /* a GUP-fast call: its unpins undo its own pins; its pins are in current->mm */
	ROLE_GUP_SLOW,     /* a slow-path GUP call: the mm and addresses of its pins */
	ROLE_WP_FAULT,     /* write-protect fault: COW or unshare */
	ROLE_NEW_ANON,     /* new anon page mapped: the "it copied" signal */
	ROLE_THP_FAULT,    /* write-protect fault on a PMD-mapped THP */
	ROLE_COW_FAULT,    /* a write to a not-present page of a private file mapping copied it */
	ROLE_HUGETLB,      /* hugetlb COW / unshare and its copy signal */
	ROLE_FORK,         /* fork copies page tables (eager copy of pinned pages) */
	ROLE__COUNT
};

struct hook {
	const char *func;
	enum hook_role role;
	const char *kernels; /* where it exists out of line (doc/kernel.md), for humans */
};

extern const struct hook hooks[];
extern const int nr_hooks;

const char *hook_role_name(enum hook_role role);
/* Tracing works without any hook of this role (it only adds to what is seen). */
bool hook_role_optional(enum hook_role role);

#endif
