// SPDX-License-Identifier: GPL-2.0
#include "usyms.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Record side: libdwfl reads /proc/PID/maps (one module per mapped file, the
 * vDSO out of the process's memory) and opens each file for its build id and
 * load bias.
 *
 * Report side: one Dwfl per ELF file (recorded path + build id), the file
 * reported at bias 0 and shared by every pid that maps it: an address of a
 * pid is looked up at addr - base, its address in the file (ET_EXEC: addr).
 */

#define DELETED " (deleted)"

static bool is_deleted(const char *path)
{
	size_t n = strlen(path), d = strlen(DELETED);

	return n > d && !strcmp(path + n - d, DELETED);
}

/* ---- record: usyms_snapshot ---- */

struct snap_ctx {                       /* a module's userdata while its ELF is looked for */
	uint32_t pid;
	bool not_elf;                   /* a mapped file, but not ELF (data, device) */
};

/* The file the process mapped, through /proc/PID/root (its mount namespace)
 * when we may look there, else what libdwfl does (the path itself; the vDSO
 * out of /proc/PID/mem).  Mapped files that are not ELF are marked. */
static int snap_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	struct snap_ctx *ctx = *userdata;
	char path[PATH_MAX + 32];
	struct stat st;
	Elf *elf;
	int fd = -1;

	if (name[0] == '/' && !is_deleted(name) &&
	    snprintf(path, sizeof(path), "/proc/%" PRIu32 "/root%s", ctx->pid, name) < (int)sizeof(path) &&
	    stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			ctx->not_elf = true;
			return -1;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !(*file_name = strdup(path))) {
			close(fd);
			return -1;
		}
	}
	if (fd < 0)
		fd = dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	if (fd < 0 || *elfp)
		return fd;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(fd);
		free(*file_name);
		*file_name = NULL;
		ctx->not_elf = true;
		return -1;
	}
	*elfp = elf;
	return fd;
}

struct snap_list {
	uint32_t pid;
	struct usym_module *m;
	size_t n, cap;
	int err;
};

static int snap_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct snap_list *l = arg;
	struct snap_ctx ctx = { .pid = l->pid };
	const unsigned char *bits;
	struct usym_module *m;
	Dwarf_Addr bias = 0, end = 0;
	GElf_Addr vaddr;
	Elf *elf;
	int len;

	*userdata = &ctx;
	elf = dwfl_module_getelf(mod, &bias);
	*userdata = NULL;
	if (!elf && ctx.not_elf)
		return DWARF_CB_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct usym_module *more = realloc(l->m, cap * sizeof(*more));

		if (!more) {
			l->err = -ENOMEM;
			return DWARF_CB_ABORT;
		}
		l->m = more;
		l->cap = cap;
	}
	m = memset(&l->m[l->n++], 0, sizeof(*m));
	dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL);
	m->start = start;
	m->end = end;
	m->base = elf ? bias : start;
	if (elf && (len = dwfl_module_build_id(mod, &bits, &vaddr)) > 0 && len <= USYM_BUILD_ID_MAX) {
		m->build_id_len = len;
		memcpy(m->build_id, bits, len);
	}
	/* libdwfl calls the vDSO "[vdso: PID]" */
	snprintf(m->path, sizeof(m->path), "%s", strncmp(name, "[vdso", 5) ? name : "[vdso]");
	return DWARF_CB_OK;
}

static int by_start(const void *a, const void *b)
{
	const struct usym_module *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int usyms_snapshot(uint32_t pid, struct usym_module *out, size_t max)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = snap_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	struct snap_list l = { .pid = pid };
	Dwfl *dwfl = dwfl_begin(&cb);
	int err;

	if (!dwfl)
		return -ENOMEM;
	dwfl_report_begin(dwfl);
	err = dwfl_linux_proc_report(dwfl, pid);
	dwfl_report_end(dwfl, NULL, NULL);
	if (err) {
		dwfl_end(dwfl);
		/* positive errno, or -1: libdwfl's own error */
		return err == ENOENT ? -ESRCH : err > 0 ? -err : -EIO;
	}
	if (dwfl_getmodules(dwfl, snap_module, &l, 0) < 0 && !l.err)
		l.err = -EIO;
	dwfl_end(dwfl);
	if (l.err) {
		free(l.m);
		return l.err;
	}
	qsort(l.m, l.n, sizeof(*l.m), by_start);
	if (out)
		memcpy(out, l.m, (l.n < max ? l.n : max) * sizeof(*out));
	free(l.m);
	return l.n > INT_MAX ? INT_MAX : (int)l.n;
}

int usyms_snapshot_new(uint32_t pid, struct usym_module **out)
{
	size_t max = 64;

	*out = NULL;
	for (;;) {
		struct usym_module *m = calloc(max, sizeof(*m));
		int n;

		if (!m)
			return -ENOMEM;
		n = usyms_snapshot(pid, m, max);
		if (n > 0 && (size_t)n <= max) {
			*out = m;
			return n;
		}
		free(m);
		if (n <= 0)
			return n;
		max = n; /* more modules than room: once more with room for all */
	}
}

/* ---- report: usyms_name ---- */

struct ufile {                          /* one ELF file, by recorded path and build id */
	struct ufile *next;             /* hash chain */
	char *path;
	char *label;                    /* what is printed in brackets: basename */
	uint32_t build_id_len;
	uint8_t build_id[USYM_BUILD_ID_MAX];
	bool tried;                     /* looked for (dwfl NULL: not found) */
	bool exec;                      /* ET_EXEC: its addresses are absolute */
	uint64_t bias;                  /* where mod is in dwfl: 0, but our own vDSO's address for it */
	Dwfl *dwfl;
	Dwfl_Module *mod;
};

struct umod {
	uint64_t start, end, base;
	struct ufile *file;
};

struct uproc {
	uint32_t pid;
	struct umod *m;
	size_t n;
};

#define FILE_BUCKETS 1024

struct usyms {
	char *symfs;
	struct uproc *procs;            /* by pid */
	size_t nprocs, cap;
	struct ufile *files[FILE_BUCKETS];
};

struct usyms *usyms_new(const char *symfs)
{
	struct usyms *u = calloc(1, sizeof(*u));

	if (u && symfs && *symfs && !(u->symfs = strdup(symfs))) {
		free(u);
		u = NULL;
	}
	return u;
}

void usyms_free(struct usyms *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < FILE_BUCKETS; i++)
		for (struct ufile *f = u->files[i], *next; f; f = next) {
			next = f->next;
			if (f->dwfl)
				dwfl_end(f->dwfl);
			free(f->path);
			free(f->label);
			free(f);
		}
	for (size_t i = 0; i < u->nprocs; i++)
		free(u->procs[i].m);
	free(u->procs);
	free(u->symfs);
	free(u);
}

static struct ufile *get_file(struct usyms *u, const struct usym_module *m)
{
	uint32_t idlen = m->build_id_len > USYM_BUILD_ID_MAX ? USYM_BUILD_ID_MAX : m->build_id_len;
	size_t plen = strnlen(m->path, USYM_PATH_MAX - 1);
	uint64_t h = 1469598103934665603ull; /* FNV-1a over path and build id */
	struct ufile *f;
	const char *base;

	for (size_t i = 0; i < plen; i++)
		h = (h ^ (uint8_t)m->path[i]) * 1099511628211ull;
	for (uint32_t i = 0; i < idlen; i++)
		h = (h ^ m->build_id[i]) * 1099511628211ull;
	for (f = u->files[h % FILE_BUCKETS]; f; f = f->next)
		if (f->build_id_len == idlen && !memcmp(f->build_id, m->build_id, idlen) &&
		    !strncmp(f->path, m->path, plen) && !f->path[plen])
			return f;
	if (!(f = calloc(1, sizeof(*f))) || !(f->path = strndup(m->path, plen))) {
		free(f);
		return NULL;
	}
	/* "libfoo.so" for "/usr/lib/libfoo.so (deleted)", "vdso" for "[vdso]" */
	base = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;
	if (is_deleted(base))
		f->label = strndup(base, strlen(base) - strlen(DELETED));
	else if (base[0] == '[' && base[strlen(base) - 1] == ']')
		f->label = strndup(base + 1, strlen(base) - 2);
	else
		f->label = strdup(base);
	if (!f->label) {
		free(f->path);
		free(f);
		return NULL;
	}
	f->build_id_len = idlen;
	memcpy(f->build_id, m->build_id, idlen);
	f->next = u->files[h % FILE_BUCKETS];
	u->files[h % FILE_BUCKETS] = f;
	return f;
}

static int by_mod_start(const void *a, const void *b)
{
	const struct umod *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int usyms_set_process(struct usyms *u, uint32_t pid, const struct usym_module *m, size_t n)
{
	struct umod *mods = n ? calloc(n, sizeof(*mods)) : NULL;
	size_t lo = 0, hi = u->nprocs;

	if (n && !mods)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		mods[i] = (struct umod){ .start = m[i].start, .end = m[i].end, .base = m[i].base,
					 .file = get_file(u, &m[i]) };
		if (!mods[i].file) {
			free(mods);
			return -ENOMEM;
		}
	}
	if (n) /* qsort(NULL, 0, ...) is undefined */
		qsort(mods, n, sizeof(*mods), by_mod_start);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < u->nprocs && u->procs[lo].pid == pid) {
		free(u->procs[lo].m);
	} else {
		if (u->nprocs == u->cap) {
			size_t cap = u->cap ? 2 * u->cap : 64;
			struct uproc *more = realloc(u->procs, cap * sizeof(*more));

			if (!more) {
				free(mods);
				return -ENOMEM;
			}
			u->procs = more;
			u->cap = cap;
		}
		memmove(&u->procs[lo + 1], &u->procs[lo], (u->nprocs - lo) * sizeof(*u->procs));
		u->nprocs++;
	}
	u->procs[lo] = (struct uproc){ .pid = pid, .m = mods, .n = n };
	return 0;
}

/* Whether mod's GNU build id is the one recorded for f. */
static bool same_build_id(Dwfl_Module *mod, const struct ufile *f)
{
	const unsigned char *bits;
	GElf_Addr vaddr;

	return dwfl_module_build_id(mod, &bits, &vaddr) == (int)f->build_id_len &&
	       !memcmp(bits, f->build_id, f->build_id_len);
}

/* The file at cand, if it is ELF with f's build id (any, when none was recorded). */
static bool try_file(struct ufile *f, const char *cand)
{
	static const Dwfl_Callbacks cb = {
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	Dwfl_Module *mod = NULL;
	GElf_Ehdr ehdr;
	Dwarf_Addr bias;
	struct stat st;
	Dwfl *dwfl;
	Elf *elf;

	if (stat(cand, &st) || !S_ISREG(st.st_mode) || !(dwfl = dwfl_begin(&cb)))
		return false;
	dwfl_report_begin(dwfl);
	/* At bias 0: lookups are by address in the file (ET_EXEC: always so). */
	mod = dwfl_report_elf(dwfl, f->label, cand, -1, 0, true);
	dwfl_report_end(dwfl, NULL, NULL);
	if (mod && f->build_id_len && !same_build_id(mod, f))
		mod = NULL;
	if (!mod || !(elf = dwfl_module_getelf(mod, &bias)) || !gelf_getehdr(elf, &ehdr)) {
		dwfl_end(dwfl);
		return false;
	}
	f->dwfl = dwfl;
	f->mod = mod;
	f->exec = ehdr.e_type == ET_EXEC;
	return true;
}

static int find_vdso(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata, (void)start;
	if (strncmp(name, "[vdso", 5))
		return DWARF_CB_OK;
	*(Dwfl_Module **)arg = mod;
	return DWARF_CB_ABORT;
}

/* The vDSO recorded is the one we have (same kernel): ours, out of our memory. */
static bool try_own_vdso(struct ufile *f)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	Dwfl_Module *mod = NULL;
	Dwarf_Addr bias;
	Dwfl *dwfl = dwfl_begin(&cb);

	if (!dwfl)
		return false;
	dwfl_report_begin(dwfl);
	if (!dwfl_linux_proc_report(dwfl, getpid()) && !dwfl_report_end(dwfl, NULL, NULL))
		dwfl_getmodules(dwfl, find_vdso, &mod, 0);
	if (!mod || !dwfl_module_getelf(mod, &bias) || !same_build_id(mod, f)) {
		dwfl_end(dwfl);
		return false;
	}
	f->dwfl = dwfl;
	f->mod = mod;
	f->bias = bias;
	return true;
}

static void open_file(const struct usyms *u, struct ufile *f)
{
	char cand[PATH_MAX + USYM_PATH_MAX + 64];
	size_t plen = strlen(f->path);

	if (f->tried)
		return;
	f->tried = true;
	/* The file as mapped: "/usr/lib/libfoo.so (deleted)" was /usr/lib/libfoo.so. */
	if (is_deleted(f->path))
		plen -= strlen(DELETED);
	if (f->path[0] == '/') {
		if (u->symfs && snprintf(cand, sizeof(cand), "%s%.*s", u->symfs, (int)plen, f->path) < (int)sizeof(cand) &&
		    try_file(f, cand))
			return;
		if (snprintf(cand, sizeof(cand), "%.*s", (int)plen, f->path) < (int)sizeof(cand) && try_file(f, cand))
			return;
	}
	if (f->build_id_len > 1) {
		int n = snprintf(cand, sizeof(cand), "/usr/lib/debug/.build-id/%02x/", f->build_id[0]);

		for (uint32_t i = 1; i < f->build_id_len; i++)
			n += snprintf(cand + n, sizeof(cand) - n, "%02x", f->build_id[i]);
		snprintf(cand + n, sizeof(cand) - n, ".debug");
		if (try_file(f, cand))
			return;
	}
	if (!strcmp(f->path, "[vdso]") && f->build_id_len)
		try_own_vdso(f);
}

const char *usyms_name(struct usyms *u, uint32_t pid, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = u ? u->nprocs : 0;
	const struct uproc *p = NULL;
	const struct umod *m = NULL;
	uint64_t rel;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < (u ? u->nprocs : 0) && u->procs[lo].pid == pid)
		p = &u->procs[lo];
	/* The last module starting at or below addr. */
	lo = 0, hi = p ? p->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->m[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && addr < p->m[lo - 1].end)
		m = &p->m[lo - 1];
	if (!m) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return buf;
	}

	open_file(u, m->file);
	rel = m->file->exec ? addr : addr - m->base;
	if (m->file->mod) {
		GElf_Off off = 0;
		GElf_Sym sym;
		const char *name = dwfl_module_addrinfo(m->file->mod, rel + m->file->bias, &off, &sym,
							NULL, NULL, NULL);

		if (name && *name) {
			/* "clock_nanosleep@GLIBC_2.2.5" (.symtab of libc's debug file): the name */
			snprintf(buf, len, "%.*s+0x%" PRIx64 " [%s]", (int)strcspn(name, "@"), name, (uint64_t)off,
				 m->file->label);
			return buf;
		}
	}
	snprintf(buf, len, "0x%" PRIx64 " [%s+0x%" PRIx64 "]", addr, m->file->label, rel);
	return buf;
}

#ifdef USYMS_NO_DEBUGINFOD
/*
 * Static builds: libdw.a's debuginfod client (debuginfod-client.o, pulled in
 * by dwfl_end and the standard find_* callbacks) dlopens libdebuginfod.so,
 * which a static binary cannot use and which makes the static link warn.
 * These are the three libdwfl-internal entry points into it, as "no
 * debuginfod server": with them defined, the archive member is not linked.
 * Should a newer elfutils call into it otherwise, the link fails (multiple
 * definitions) instead of silently changing.
 */
struct debuginfod_client;

int __libdwfl_debuginfod_find_executable(Dwfl *dwfl, const unsigned char *id, size_t len);
int __libdwfl_debuginfod_find_debuginfo(Dwfl *dwfl, const unsigned char *id, size_t len);
void __libdwfl_debuginfod_end(struct debuginfod_client *c);

int __libdwfl_debuginfod_find_executable(Dwfl *dwfl, const unsigned char *id, size_t len)
{
	(void)dwfl, (void)id, (void)len;
	return -1;
}

int __libdwfl_debuginfod_find_debuginfo(Dwfl *dwfl, const unsigned char *id, size_t len)
{
	(void)dwfl, (void)id, (void)len;
	return -1;
}

void __libdwfl_debuginfod_end(struct debuginfod_client *c)
{
	(void)c;
}
#endif
