/*
 * Choosing, per hook, the program that fits the running kernel:
 *  - a hook whose function is not in the kernel's BTF is not loaded;
 *  - among prototype variants (program name suffix "__<nargs>_<first arg
 *    type>", e.g. try_grab_folio__3_page on 6.1, __3_folio on 6.12) only the
 *    one matching the BTF FUNC_PROTO is loaded;
 *  - fentry/fexit is preferred; a function fentry cannot attach to falls back
 *    to kprobe/kretprobe (--attach=auto), verified by really attaching a probe
 *    program first (probe.c), the way `gupwatch check` does.
 */
#include "attach.h"

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
 * in later kernels (FACTS.md §3.1); anonymous enums defeat CO-RE's
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

/* Does "<nargs>_<type>" (from a program name) match func's prototype in BTF? */
static bool proto_matches(const struct btf *btf, const char *func, const char *variant)
{
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
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

enum prog_kind { KIND_FENTRY, KIND_KPROBE };

/* Split "fexit/try_grab_folio" into its kind and function. */
static bool parse_section(const char *sec, enum prog_kind *kind, const char **func)
{
	static const struct { const char *prefix; enum prog_kind kind; } kinds[] = {
		{ "fentry/", KIND_FENTRY }, { "fexit/", KIND_FENTRY },
		{ "kprobe/", KIND_KPROBE }, { "kretprobe/", KIND_KPROBE },
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

/* How each function will be hooked, decided once per function name. */
struct func_choice {
	const char *func;
	enum prog_kind kind;
	bool usable;
	struct probe_result fentry, kprobe;
};

static struct func_choice *choose(struct func_choice *choices, int *n, const char *func,
				  struct probe_env *env, enum attach_mode mode, bool load_only)
{
	struct func_choice *c;

	for (int i = 0; i < *n; i++)
		if (!strcmp(choices[i].func, func))
			return &choices[i];
	c = &choices[(*n)++];
	memset(c, 0, sizeof(*c));
	c->func = func;
	if (mode != ATTACH_KPROBE)
		c->fentry = load_only ? (struct probe_result){ 0, NULL } : probe_fentry(env, func);
	if (mode == ATTACH_FENTRY || (mode == ATTACH_AUTO && !c->fentry.err)) {
		c->kind = KIND_FENTRY;
		c->usable = !c->fentry.err;
		return c;
	}
	c->kprobe = load_only ? (struct probe_result){ 0, NULL } : probe_kprobe(env, func);
	c->kind = KIND_KPROBE;
	c->usable = !c->kprobe.err;
	return c;
}

static void describe_failure(const struct func_choice *c, char *err, size_t errlen)
{
	const struct probe_result *r = c->kind == KIND_FENTRY ? &c->fentry : &c->kprobe;

	if (r->stage && !strcmp(r->stage, "pmu"))
		snprintf(err, errlen, "cannot hook %s: kprobes are not configured in this kernel "
			 "(and fentry %s); run 'gupwatch check' for details",
			 c->func, c->fentry.err ? probe_errname(c->fentry.err) : "not tried");
	else
		snprintf(err, errlen, "cannot hook %s by %s: %s at %s; run 'gupwatch check' for "
			 "details, or try --attach=%s", c->func,
			 c->kind == KIND_FENTRY ? "fentry" : "kprobe", probe_errname(r->err),
			 r->stage, c->kind == KIND_FENTRY ? "kprobe" : "fentry");
}

int tracer_open(struct tracer *t, const struct tracer_opts *opts, char *err, size_t errlen)
{
	struct func_choice choices[64];
	struct probe_env env;
	struct bpf_program *prog;
	int nchoices = 0, ret;

	memset(t, 0, sizeof(*t));
	probe_env_init(&env);
	if (!env.vmlinux_btf) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s); "
			 "gupwatch needs CONFIG_DEBUG_INFO_BTF=y", strerror(env.btf_err));
		ret = -ENOENT;
		goto out;
	}
	t->skel = gupwatch_bpf__open();
	if (!t->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-ret));
		goto out;
	}

	resolve_foll_flags(env.vmlinux_btf, &t->foll);
	t->skel->rodata->foll_write = t->foll.write;
	t->skel->rodata->foll_get = t->foll.get;
	t->skel->rodata->foll_force = t->foll.force;
	t->skel->rodata->foll_remote = t->foll.remote;
	t->skel->rodata->foll_longterm = t->foll.longterm;
	t->skel->rodata->foll_pin = t->foll.pin;
	t->skel->rodata->trace_get = opts->trace_get;
	t->skel->rodata->user_stacks = opts->user_stacks;

	bpf_object__for_each_program(prog, t->skel->obj) {
		const char *func, *variant = strstr(bpf_program__name(prog), "__");
		enum prog_kind kind;
		struct func_choice *c;
		bool load;

		if (!parse_section(bpf_program__section_name(prog), &kind, &func))
			continue;
		load = probe_has_btf_func(&env, func) &&
		       (!variant || proto_matches(env.vmlinux_btf, func, variant + 2));
		if (load) {
			c = choose(choices, &nchoices, func, &env, opts->mode, opts->load_only);
			if (!c->usable) {
				describe_failure(c, err, errlen);
				ret = -EPERM;
				goto out;
			}
			load = c->kind == kind;
		}
		bpf_program__set_autoload(prog, load);
	}
	for (int i = 0; i < nchoices; i++) {
		t->nr_fentry += choices[i].kind == KIND_FENTRY;
		t->nr_kprobe += choices[i].kind == KIND_KPROBE;
	}

	ret = gupwatch_bpf__load(t->skel);
	if (ret) {
		snprintf(err, errlen, "the kernel refused gupwatch's BPF programs (%s: %s); "
			 "run 'gupwatch check' for the hook that fails", probe_errname(-ret), strerror(-ret));
		goto out;
	}
	if (!opts->load_only) {
		ret = gupwatch_bpf__attach(t->skel);
		if (ret)
			snprintf(err, errlen, "attaching gupwatch's BPF programs failed (%s: %s); "
				 "run 'gupwatch check'", probe_errname(-ret), strerror(-ret));
	}
out:
	probe_env_free(&env);
	if (ret)
		tracer_close(t);
	return ret;
}

void tracer_close(struct tracer *t)
{
	gupwatch_bpf__destroy(t->skel);
	t->skel = NULL;
}
