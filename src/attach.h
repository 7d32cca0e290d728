/* SPDX-License-Identifier: GPL-2.0 */
/* Open, configure for the running kernel, load and attach the BPF side. */
#ifndef GUPWATCH_ATTACH_H
#define GUPWATCH_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

enum attach_mode { ATTACH_AUTO, ATTACH_FENTRY, ATTACH_KPROBE };

struct gupwatch_bpf;
struct bpf_link;

struct foll_flags {
	unsigned int write, get, force, remote, longterm, pin;
	bool from_btf; /* false: the kernel has them as #defines (6.1), values of that era */
};

#define MAX_HOOKED_FUNCS 32
#define MAX_LINKS 64

struct tracer {
	struct gupwatch_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	int nr_links;
	struct foll_flags foll;
	int nr_fentry, nr_kprobe; /* functions attached each way */
	int nr_loaded;            /* --load-only: programs the kernel accepted */
};

struct tracer_opts {
	enum attach_mode mode;
	bool trace_get;   /* also report FOLL_GET references */
	bool stacks;      /* capture kernel and user stacks */
	bool kernel_stacks_only; /* with stacks: no user stacks (the daemon's call sites) */
	bool unpin_details; /* unpins' comm and stacks too (trace -v prints them; nothing else
			       reads them: an unpin is attributed to its pin) */
	bool load_only;   /* verify that the kernel accepts the programs; attach nothing */
	bool prog_stats;  /* time every program run (BPF_ENABLE_STATS), print the totals at the end */
	bool debug;       /* pass libbpf's messages, debug level included, to stderr */
};

/* On failure returns -errno and writes a one-line cause with its fix into err. */
int tracer_open(struct tracer *t, const struct tracer_opts *opts, char *err, size_t errlen);
/* Every hook returns at once from now on: no new events, the counters stay still. */
void tracer_quiesce(struct tracer *t);
void tracer_close(struct tracer *t);
/* "none", "entry", "exit" or "entry+exit": the sides of func that skel's fentry/fexit
 * (kprobe: kprobe/kretprobe) programs hook, from their section names. */
const char *tracer_hook_sides(const struct gupwatch_bpf *skel, const char *func, bool kprobe);

int parse_attach_mode(const char *s, enum attach_mode *mode);

#endif
