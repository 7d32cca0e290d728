/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stacks by the ids events carry, and their names: kernel frames from a
 * symbol table (live /proc/kallsyms or the one a recording kept), user frames
 * from libdwfl (usyms). Plain C, no BPF: report fills it from a record file.
 */
#ifndef GUPWATCH_STACKS_H
#define GUPWATCH_STACKS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gupwatch.h"

struct ksyms;
struct usyms;

struct stacks {
	struct {
		uint64_t *frames; /* NULL: never defined */
		uint32_t nr;
		bool user;
	} *ids;
	size_t nids;
	struct ksyms *ksyms;  /* owned */
	struct usyms *usyms;  /* owned */
};

/* symfs: where user binaries are looked up first (usyms_new). NULL with errno on failure. */
struct stacks *stacks_new(const char *symfs);
void stacks_free(struct stacks *s);
/* Define stack id (from the record file). 0 or -ENOMEM. */
int stacks_set(struct stacks *s, uint32_t id, bool user, const uint64_t *frames, uint32_t nr);
struct rec_item;
/* A STACK, KSYM or MAPS item of a source (recfile.h) into s; other items are not its. 0 or
 * -ENOMEM. */
int stacks_item(struct stacks *s, const struct rec_item *it);
/* Its frames, or NULL (id < 0 or never defined). */
const uint64_t *stacks_get(const struct stacks *s, int32_t id, uint32_t *nr);

/* One frame as text; user frames belong to pid. */
const char *stacks_frame(const struct stacks *s, bool user, uint32_t pid, uint64_t addr, char *buf,
			 size_t len);
#define STACKS_MAX_FRAMES GW_STACK_DEPTH
/* The frames worth showing (not gupwatch's own BPF frames) into out: how many (0: none). */
uint32_t stacks_shown(const struct stacks *s, int32_t id, uint64_t out[STACKS_MAX_FRAMES], bool *user);
/* Print stack id, one frame per line: INDENT "k " or "u " name. Nothing if unknown. */
void stacks_print(FILE *f, const struct stacks *s, const char *indent, uint32_t pid, int32_t id);

/*
 * Where a pin came from, named from its kernel stack: the first frame that is
 * not GUP's own (the caller of the pin_user_pages* API), plus that API.
 * "(no stack)" when none was recorded, an address when unnamed.
 */
void stacks_call_site(const struct stacks *s, int32_t kstack_id, char *site, size_t sitelen,
		      char *api, size_t apilen);
/* The top user frames of a stack, "a <- b <- c" without offsets; "(no stack)" when none. */
void stacks_user_summary(const struct stacks *s, uint32_t pid, int32_t ustack_id, unsigned int depth,
			 char *buf, size_t len);

#endif
