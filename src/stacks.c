// SPDX-License-Identifier: GPL-2.0
#include "stacks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "ksyms.h"
#include "recfile.h"
#include "usyms.h"

struct stacks *stacks_new(const char *symfs)
{
	struct stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ksyms = ksyms_new();
	s->usyms = usyms_new(symfs);
	if (!s->ksyms || !s->usyms) {
		stacks_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void stacks_free(struct stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nids; i++)
		free(s->ids[i].frames);
	free(s->ids);
	ksyms_free(s->ksyms);
	usyms_free(s->usyms);
	free(s);
}

int stacks_set(struct stacks *s, uint32_t id, bool user, const uint64_t *frames, uint32_t nr)
{
	uint64_t *copy;

	if (id >= s->nids) {
		size_t n = s->nids ? s->nids : 1024;
		void *more;

		while (n <= id)
			n *= 2;
		more = realloc(s->ids, n * sizeof(*s->ids));
		if (!more)
			return -ENOMEM;
		s->ids = more;
		memset(&s->ids[s->nids], 0, (n - s->nids) * sizeof(*s->ids));
		s->nids = n;
	}
	copy = malloc((nr ?: 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, frames, nr * sizeof(*copy));
	free(s->ids[id].frames);
	s->ids[id].frames = copy;
	s->ids[id].nr = nr;
	s->ids[id].user = user;
	return 0;
}

int stacks_item(struct stacks *s, const struct rec_item *it)
{
	switch (it->type) {
	case REC_STACK:
		return stacks_set(s, it->stack.id, it->stack.user, it->stack.frames, it->stack.nr);
	case REC_KSYM:
		return ksyms_add(s->ksyms, it->ksym.start, it->ksym.name);
	case REC_MAPS:
		return usyms_set_process(s->usyms, it->maps.pid, it->maps.modules, it->maps.nr);
	}
	return 0;
}

const uint64_t *stacks_get(const struct stacks *s, int32_t id, uint32_t *nr)
{
	if (id < 0 || (size_t)id >= s->nids || !s->ids[id].frames)
		return NULL;
	*nr = s->ids[id].nr;
	return s->ids[id].frames;
}

const char *stacks_frame(const struct stacks *s, bool user, uint32_t pid, uint64_t addr, char *buf,
			 size_t len)
{
	return user ? usyms_name(s->usyms, pid, addr, buf, len) : ksyms_name(s->ksyms, addr, buf, len);
}

uint32_t stacks_shown(const struct stacks *s, int32_t id, uint64_t out[STACKS_MAX_FRAMES], bool *user)
{
	uint32_t nr, i, n = 0;
	const uint64_t *fr = stacks_get(s, id, &nr);
	char name[512];

	if (!fr)
		return 0;
	*user = s->ids[id].user;
	for (i = 0; i < nr && n < STACKS_MAX_FRAMES; i++) {
		/* gupwatch's own BPF programs and the trampolines that call them (fentry) */
		if (!*user && (ksyms_name(s->ksyms, fr[i], name, sizeof(name)),
			       !strncmp(name, "bpf_prog_", 9) || !strncmp(name, "bpf_trampoline_", 15)))
			continue;
		out[n++] = fr[i];
	}
	return n;
}

void stacks_print(FILE *f, const struct stacks *s, const char *indent, uint32_t pid, int32_t id)
{
	uint64_t fr[STACKS_MAX_FRAMES];
	bool user;
	uint32_t nr = stacks_shown(s, id, fr, &user), i;
	char name[512], shown[4 * sizeof(name) + 1];

	/* symbol and path names come from the traced machine (or a file): escaped */
	for (i = 0; i < nr; i++)
		fprintf(f, "%s%s %s\n", indent, user ? "u" : "k",
			fmt_printable(stacks_frame(s, user, pid, fr[i], name, sizeof(name)), sizeof(name),
				      shown, sizeof(shown)));
}

/* The function of a kernel frame without its offset; false if unnamed. */
static bool kfunc(const struct stacks *s, uint64_t addr, char *buf, size_t len)
{
	long i = ksyms_find(s->ksyms, addr);
	uint64_t start;

	if (i < 0) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return false;
	}
	snprintf(buf, len, "%s", ksyms_sym(s->ksyms, i, &start));
	return true;
}

/*
 * GUP itself and what runs it: BPF trampolines and programs (fentry), the
 * pin and grab helpers, the page-table walkers, GUP-fast, the public
 * get/pin_user_pages* entry points. The first frame past them is the caller.
 */
static bool gup_internal(const char *fn)
{
	static const char *const prefixes[] = {
		"bpf_", "try_grab_", "folio_add_pin", "gup_", "__gup_", "follow_", "__follow_",
		"__get_user_pages", "get_user_pages", "pin_user_pages", "internal_get_user_pages",
		"lockless_pages_from_mm", "is_valid_gup_args", "memfd_pin_folios",
		"check_and_migrate_movable", "migrate_longterm_unpinnable",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void stacks_call_site(const struct stacks *s, int32_t kstack_id, char *site, size_t sitelen,
		      char *api, size_t apilen)
{
	uint32_t nr, i;
	const uint64_t *fr = stacks_get(s, kstack_id, &nr);

	snprintf(site, sitelen, "(no stack)");
	snprintf(api, apilen, "-");
	for (i = 0; fr && i < nr; i++) {
		char fn[256];

		if (!kfunc(s, fr[i], fn, sizeof(fn)) || !gup_internal(fn)) {
			snprintf(site, sitelen, "%s", fn);
			return;
		}
		snprintf(api, apilen, "%s", fn);
	}
	if (fr)
		snprintf(site, sitelen, "(GUP only)");
}

void stacks_user_summary(const struct stacks *s, uint32_t pid, int32_t ustack_id, unsigned int depth,
			 char *buf, size_t len)
{
	uint32_t nr, i;
	const uint64_t *fr = stacks_get(s, ustack_id, &nr);
	size_t at = 0;

	snprintf(buf, len, "(no stack)");
	for (i = 0; fr && i < nr && i < depth && at < len; i++) {
		char name[512], *plus = NULL;

		stacks_frame(s, true, pid, fr[i], name, sizeof(name));
		/* "func+0x1a [bin]" -> "func [bin]": one row per function, not per return address */
		if (name[0] != '0')
			plus = strstr(name, "+0x");
		if (plus) {
			char *sp = strchr(plus, ' ');

			if (sp)
				memmove(plus, sp, strlen(sp) + 1);
			else
				*plus = 0;
		}
		at += snprintf(buf + at, len - at, "%s%s", i ? " <- " : "", name);
	}
}
