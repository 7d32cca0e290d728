// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing, per hook, the program that fits the running kernel:
 *  - a hook whose function is not in the kernel's BTF is not loaded;
 *  - among prototype variants (program name suffix "__<nargs>_<first arg
 *    type>", e.g. try_grab_folio__3_page on 6.1, __3_folio on 6.12) only the
 *    one matching the BTF FUNC_PROTO is loaded;
 *  - fentry/fexit is preferred; with --attach=auto a function whose
 *    fentry/fexit programs do not attach gets their kprobe/kretprobe twins
 *    instead (6.1's hugetlb_wp: 7 arguments, ENOTSUPP). The twins are loaded
 *    for functions of more than six arguments only (a program's verification
 *    is most of a start); when another function needs its twin, everything
 *    is loaded again with all twins. A kernel that refuses fentry at load
 *    gets kprobes throughout.
 */
#include "attach.h"
#include "hooks.h"
#include "ksyms.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gupwatch.skel.h"
#include "probe.h"

int parse_attach_mode(const char *s, enum attach_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = ATTACH_AUTO;
	else if (!strcmp(s, "fentry"))
		*mode = ATTACH_FENTRY;
	else if (!strcmp(s, "kprobe"))
		*mode = ATTACH_KPROBE;
	else
		return -EINVAL;
	return 0;
}

static bool enum_value(const struct btf *btf, const char *name, unsigned int *val)
{
	int n = btf__type_cnt(btf);

	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t); i++, e++) {
			if (!strcmp(btf__name_by_offset(btf, e->name_off), name)) {
				*val = e->val;
				return true;
			}
		}
	}
	return false;
}

/*
 * FOLL_* are #defines up to 6.1 (not in BTF) and members of anonymous enums
 * in later kernels (doc/kernel.md, "FOLL_* values"); anonymous enums defeat CO-RE's
 * bpf_core_enum_value(), so the loader looks them up by name.
 */
static void resolve_foll_flags(const struct btf *btf, struct foll_flags *f)
{
	static const struct foll_flags defines_6_1 = {
		.write = 0x01, .get = 0x04, .force = 0x10, .remote = 0x2000,
		.longterm = 0x10000, .pin = 0x40000,
	};

	*f = defines_6_1;
	f->from_btf = enum_value(btf, "FOLL_PIN", &f->pin);
	if (!f->from_btf)
		return;
	enum_value(btf, "FOLL_WRITE", &f->write);
	enum_value(btf, "FOLL_GET", &f->get);
	enum_value(btf, "FOLL_FORCE", &f->force);
	enum_value(btf, "FOLL_REMOTE", &f->remote);
	enum_value(btf, "FOLL_LONGTERM", &f->longterm);
}

static int func_nargs(const struct btf *btf, int id)
{
	return btf_vlen(btf__type_by_id(btf, btf__type_by_id(btf, id)->type));
}

/* Does "<nargs>_<type>" (from a program name) match func's prototype in BTF? */
static bool proto_matches(const struct btf *btf, int id, const char *variant)
{
	const struct btf_type *proto, *arg;
	const struct btf_param *params;
	char *type_name;
	long nargs;

	if (id <= 0)
		return false;
	proto = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	nargs = strtol(variant, &type_name, 10);
	if (*type_name != '_' || btf_vlen(proto) != nargs || nargs == 0)
		return false;
	params = btf_params(proto);
	arg = btf__type_by_id(btf, params[0].type);
	while (btf_is_ptr(arg) || btf_is_mod(arg) || btf_is_typedef(arg))
		arg = btf__type_by_id(btf, arg->type);
	return !strcmp(btf__name_by_offset(btf, arg->name_off), type_name + 1);
}

enum prog_kind { KIND_FENTRY, KIND_KPROBE, KIND_TRACEPOINT };

/* Split "fexit/try_grab_folio" into its kind and function (or tracepoint). */
static bool parse_section(const char *sec, enum prog_kind *kind, const char **func)
{
	static const struct { const char *prefix; enum prog_kind kind; } kinds[] = {
		{ "fentry/", KIND_FENTRY }, { "fexit/", KIND_FENTRY },
		{ "kprobe/", KIND_KPROBE }, { "kretprobe/", KIND_KPROBE },
		{ "raw_tp/", KIND_TRACEPOINT },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (!strncmp(sec, kinds[i].prefix, n)) {
			*kind = kinds[i].kind;
			*func = sec + n;
			return true;
		}
	}
	return false;
}

/*
 * BTF FUNC ids of the functions the object's programs hook, found in one
 * pass over vmlinux BTF: a lookup by name walks all of its types (130k on
 * 6.12), and one per program was 40 % of gupwatch's start-up instructions.
 */
struct func_ids {
	struct func_id { const char *name; int id; } *v; /* by name, each once */
	int n;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct func_id *)a)->name, ((const struct func_id *)b)->name);
}

static struct func_id *func_id_find(const struct func_ids *f, const char *name)
{
	struct func_id key = { .name = name };

	return f->n ? bsearch(&key, f->v, f->n, sizeof(*f->v), by_name) : NULL;
}

/* 0 for a function not in BTF (as btf__find_by_name_kind: the first FUNC of the name). */
static int func_id(const struct func_ids *f, const char *name)
{
	const struct func_id *e = func_id_find(f, name);

	return e ? e->id : 0;
}

static int func_ids_build(struct func_ids *f, struct bpf_object *obj, const struct btf *btf)
{
	struct bpf_program *prog;
	int cnt = 0, n = 0, nr_types = btf__type_cnt(btf);

	bpf_object__for_each_program(prog, obj)
		cnt++;
	f->n = 0;
	f->v = calloc(cnt ? cnt : 1, sizeof(*f->v));
	if (!f->v)
		return -ENOMEM;
	bpf_object__for_each_program(prog, obj) {
		enum prog_kind kind;
		const char *func;

		if (parse_section(bpf_program__section_name(prog), &kind, &func) &&
		    kind != KIND_TRACEPOINT)
			f->v[f->n++] = (struct func_id){ .name = func };
	}
	qsort(f->v, f->n, sizeof(*f->v), by_name);
	for (int i = 0; i < f->n; i++)
		if (!n || strcmp(f->v[n - 1].name, f->v[i].name))
			f->v[n++] = f->v[i];
	f->n = n;
	for (int id = 1; id < nr_types; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		struct func_id *hit;

		if (btf_is_func(t) && (hit = func_id_find(f, btf__name_by_offset(btf, t->name_off))) &&
		    !hit->id)
			hit->id = id;
	}
	return 0;
}

/* Programs to load: those that fit this kernel, of the kinds allowed. */
static void select_programs(struct bpf_object *obj, const struct btf *btf,
			    const struct func_ids *ids, bool fentry, bool kprobe, bool lean)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *func, *variant;
		enum prog_kind kind;
		bool load = false;

		if (!parse_section(bpf_program__section_name(prog), &kind, &func))
			load = false;
		else if (kind == KIND_TRACEPOINT)
			load = true;
		else
			load = (kind == KIND_FENTRY ? fentry : kprobe) && func_id(ids, func) > 0;
		/* the suffix follows the function's name ("__get_user_pages" starts with "__") */
		variant = load ? strstr(bpf_program__name(prog), func) : NULL;
		variant = variant ? strstr(variant + strlen(func), "__") : NULL;
		if (variant)
			load = proto_matches(btf, func_id(ids, func), variant + 2);
		/* the x86 trampoline refuses more than six arguments before 6.6 (473e3150e30a) */
		if (load && lean && kind == KIND_KPROBE)
			load = func_nargs(btf, func_id(ids, func)) > 6;
		bpf_program__set_autoload(prog, load);
	}
}

static bool is_exit_program(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return !strncmp(sec, "fexit/", 6) || !strncmp(sec, "kretprobe/", 10);
}

/*
 * Attach the loaded programs of one kind on func (every tracepoint for
 * KIND_TRACEPOINT), exit programs first: an entry program live before its
 * exit would open a window or GUP call that nothing closes. On any failure
 * detach them again.
 */
static int attach_func(struct tracer *t, const char *func, enum prog_kind want)
{
	struct bpf_program *prog;
	int first = t->nr_links, err = 0;

	for (int exits = 1; exits >= 0 && !err; exits--) {
		bpf_object__for_each_program(prog, t->skel->obj) {
			const char *f;
			enum prog_kind kind;
			struct bpf_link *link;

			if (!bpf_program__autoload(prog) ||
			    !parse_section(bpf_program__section_name(prog), &kind, &f) ||
			    kind != want || (func && strcmp(f, func)) || is_exit_program(prog) != exits)
				continue;
			link = bpf_program__attach(prog);
			if (!link || t->nr_links == MAX_LINKS) {
				err = link ? -E2BIG : -errno;
				bpf_link__destroy(link);
				break;
			}
			t->links[t->nr_links++] = link;
		}
	}
	if (err) {
		while (t->nr_links > first)
			bpf_link__destroy(t->links[--t->nr_links]);
	}
	return err ?: t->nr_links == first ? -ENOENT : 0; /* -ENOENT: no program of that kind */
}

static void describe_failure(const struct probe_env *env, const char *func, int fentry_err,
			     int kprobe_err, char *err, size_t errlen)
{
	char fentry_why[64] = "not tried (--attach=kprobe)", kprobe_why[160];

	if (fentry_err)
		snprintf(fentry_why, sizeof(fentry_why), "%s", probe_errname(-fentry_err));
	if (!kprobe_err)
		snprintf(kprobe_why, sizeof(kprobe_why), "not tried (--attach=fentry)");
	else if (env->kprobe_pmu_type < 0)
		snprintf(kprobe_why, sizeof(kprobe_why), "not configured in this kernel (no kprobe PMU)");
	else
		snprintf(kprobe_why, sizeof(kprobe_why), "%s", probe_errname(-kprobe_err));
	snprintf(err, errlen, "cannot hook %s: fentry %s, kprobe %s; run 'gupwatch check' for details",
		 func, fentry_why, kprobe_why);
}

/* The functions the loaded programs hook, each once, in program order. */
static int loaded_funcs(struct bpf_object *obj, const char **funcs, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, obj) {
		const char *func;
		enum prog_kind kind;
		int i;

		if (!bpf_program__autoload(prog) ||
		    !parse_section(bpf_program__section_name(prog), &kind, &func) ||
		    kind == KIND_TRACEPOINT)
			continue;
		for (i = 0; i < n && strcmp(funcs[i], func); i++)
			;
		if (i == n && n < max)
			funcs[n++] = func;
	}
	return n;
}

static int hook_index(const char *func)
{
	int i;

	for (i = 0; i < nr_hooks && strcmp(hooks[i].func, func); i++)
		;
	return i;
}

/* The order of hooks[] (see there: unpins before pins). */
static int by_attach_order(const void *a, const void *b)
{
	return hook_index(*(const char *const *)a) - hook_index(*(const char *const *)b);
}

/*
 * Load, then attach function by function (in hooks[] order): fentry/fexit first, kprobe/kretprobe
 * where fentry is not allowed (auto). Nothing is attached just to try it: every
 * ftrace modification of a hot function is one the kernel must get right.
 * lean (auto): kprobe twins are loaded only for functions of more than six
 * arguments; -EAGAIN when another function needs its twin after all.
 */
static int tracer_open_once(struct tracer *t, const struct tracer_opts *opts, bool lean,
			    char *err, size_t errlen)
{
	bool want_fentry = opts->mode != ATTACH_KPROBE, want_kprobe = opts->mode != ATTACH_FENTRY;
	const char *funcs[MAX_HOOKED_FUNCS];
	int fentry_load_err = 0, nfuncs, ret;
	struct ksyms_kernel_data kd;
	struct func_ids ids = { 0 };
	struct probe_env env;

	memset(t, 0, sizeof(*t));
	probe_env_init(&env);
	if (!env.vmlinux_btf) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s); fix: a "
			 "kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's are)", strerror(env.btf_err));
		ret = -ENOENT;
		goto out;
	}
	resolve_foll_flags(env.vmlinux_btf, &t->foll);
	ksyms_kernel_data(&kd);

	for (;;) {
		t->skel = gupwatch_bpf__open();
		if (!t->skel) {
			ret = -errno;
			snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-ret));
			goto out;
		}
		t->skel->rodata->foll_write = t->foll.write;
		t->skel->rodata->foll_get = t->foll.get;
		t->skel->rodata->foll_force = t->foll.force;
		t->skel->rodata->foll_remote = t->foll.remote;
		t->skel->rodata->foll_longterm = t->foll.longterm;
		t->skel->rodata->foll_pin = t->foll.pin;
		t->skel->rodata->trace_get = opts->trace_get;
		t->skel->rodata->stacks = opts->stacks;
		t->skel->rodata->user_stacks = !opts->kernel_stacks_only;
		t->skel->rodata->unpin_details = opts->unpin_details;
		t->skel->rodata->ksym_vmemmap_base = kd.vmemmap_base;
		t->skel->rodata->ksym_per_cpu_offset = kd.per_cpu_offset;
		t->skel->rodata->ksym_pcpu_hot = kd.pcpu_hot;
		t->skel->rodata->ksym_preempt_count = kd.preempt_count;
		free(ids.v); /* its names are the object's */
		if ((ret = func_ids_build(&ids, t->skel->obj, env.vmlinux_btf))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		select_programs(t->skel->obj, env.vmlinux_btf, &ids, want_fentry, want_kprobe,
				lean && want_fentry);
		ret = gupwatch_bpf__load(t->skel);
		/* fentry refused at load (e.g. EPERM by policy): auto falls back to kprobes. */
		if (ret && want_fentry && want_kprobe) {
			fentry_load_err = ret;
			gupwatch_bpf__destroy(t->skel);
			want_fentry = false;
			continue;
		}
		break;
	}
	if (ret) {
		if (ret == -EPERM && !probe_privileged())
			snprintf(err, errlen, "the kernel refused gupwatch's BPF programs (EPERM at load): "
				 "tracing needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); fix: run it as "
				 "root, e.g. sudo gupwatch");
		else if (fentry_load_err || opts->mode == ATTACH_FENTRY)
			snprintf(err, errlen, "the kernel refused gupwatch's BPF programs (%s at load%s); "
				 "run 'gupwatch check'", probe_errname(-ret),
				 fentry_load_err ? ", after fentry was refused too" : "");
		else
			snprintf(err, errlen, "the kernel refused gupwatch's BPF programs (%s: %s); "
				 "run 'gupwatch check' for the hook that fails", probe_errname(-ret),
				 strerror(-ret));
		goto out;
	}
	if (opts->load_only) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, t->skel->obj)
			t->nr_loaded += bpf_program__autoload(prog);
		goto out;
	}

	nfuncs = loaded_funcs(t->skel->obj, funcs, MAX_HOOKED_FUNCS);
	qsort(funcs, nfuncs, sizeof(funcs[0]), by_attach_order);
	for (int i = 0; i < nfuncs; i++) {
		int fentry_err = fentry_load_err, kprobe_err = 0;

		if (want_fentry) {
			fentry_err = attach_func(t, funcs[i], KIND_FENTRY);
			if (!fentry_err) {
				t->nr_fentry++;
				continue;
			}
		}
		if (want_kprobe) {
			kprobe_err = attach_func(t, funcs[i], KIND_KPROBE);
			if (!kprobe_err) {
				t->nr_kprobe++;
				continue;
			}
			if (kprobe_err == -ENOENT && lean) { /* its twin was not loaded */
				ret = -EAGAIN;
				goto out;
			}
		}
		describe_failure(&env, funcs[i], fentry_err, kprobe_err, err, errlen);
		ret = fentry_err ?: kprobe_err;
		goto out;
	}
	/*
	 * The task-exit cleanup last: once attached, a tracepoint program is freed
	 * only after an RCU grace period, and a failed start must leave nothing
	 * loaded when it returns. A window opened before this is still checked at use.
	 */
	ret = attach_func(t, NULL, KIND_TRACEPOINT);
	if (ret)
		snprintf(err, errlen, "cannot attach gupwatch's tracepoints: %s", probe_errname(-ret));
out:
	free(ids.v);
	probe_env_free(&env);
	if (ret)
		tracer_close(t);
	return ret;
}

int tracer_open(struct tracer *t, const struct tracer_opts *opts, char *err, size_t errlen)
{
	bool lean = opts->mode == ATTACH_AUTO && !opts->load_only;
	int ret = tracer_open_once(t, opts, lean, err, errlen);

	return ret == -EAGAIN && lean ? tracer_open_once(t, opts, false, err, errlen) : ret;
}

void tracer_quiesce(struct tracer *t)
{
	t->skel->bss->stopped = true;
}

void tracer_close(struct tracer *t)
{
	while (t->nr_links > 0)
		bpf_link__destroy(t->links[--t->nr_links]);
	gupwatch_bpf__destroy(t->skel);
	t->skel = NULL;
}

/* "entry", "exit" or "entry+exit": the sides of func the tracer's fentry/fexit
 * (or kprobe/kretprobe) programs hook, from their section names. */
const char *tracer_hook_sides(const struct gupwatch_bpf *skel, const char *func, bool kprobe)
{
	static const char *const names[] = { "none", "entry", "exit", "entry+exit" };
	const char *entry = kprobe ? "kprobe/" : "fentry/", *exit = kprobe ? "kretprobe/" : "fexit/";
	struct bpf_program *prog;
	int sides = 0;

	bpf_object__for_each_program(prog, skel ? skel->obj : NULL) {
		const char *sec = bpf_program__section_name(prog), *f = strchr(sec, '/');

		if (!f || strcmp(f + 1, func))
			continue;
		if (!strncmp(sec, entry, strlen(entry)))
			sides |= 1;
		else if (!strncmp(sec, exit, strlen(exit)))
			sides |= 2;
	}
	return names[sides];
}
