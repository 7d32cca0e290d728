/* SPDX-License-Identifier: GPL-2.0 */
/* User stack frames named with elfutils libdwfl, for processes that may be gone
 * by the time the frames are named (record saves the modules, report names). */
#ifndef GUPWATCH_USYMS_H
#define GUPWATCH_USYMS_H

#include <stddef.h>
#include <stdint.h>

#define USYM_BUILD_ID_MAX 64
#define USYM_PATH_MAX 256

struct usym_module {            /* one ELF object mapped by a process */
	uint64_t start, end;        /* its address range in the process */
	uint64_t base;              /* its load bias: dwfl_report_elf(..., base, add_p_vaddr=true)
	                             * places it again (0 for ET_EXEC; start when the ELF was unreadable) */
	uint32_t build_id_len;      /* 0: none known */
	uint8_t build_id[USYM_BUILD_ID_MAX];
	char path[USYM_PATH_MAX];   /* as the process mapped it (NUL-terminated; "[vdso]" for the vDSO) */
};

/* The ELF modules process pid maps now, by start address (libdwfl:
 * dwfl_linux_proc_report + dwfl_module_info / dwfl_module_build_id).
 * Mapped files that are not ELF are left out.  Returns how many there are
 * (may exceed max: out holds the first max; out may be NULL to count), or
 * -errno (-ESRCH gone, -EACCES not ours to read). */
int usyms_snapshot(uint32_t pid, struct usym_module *out, size_t max);
/* The same into a new array (*out, to free(); NULL when none): how many, or -errno. */
int usyms_snapshot_new(uint32_t pid, struct usym_module **out);

struct usyms;

/* symfs: a directory the recorded paths are looked up under first (like perf
 * --symfs), NULL: none.  NULL with errno set on allocation failure. */
struct usyms *usyms_new(const char *symfs);
void usyms_free(struct usyms *u);
/* The modules of pid (replaces what was set for it before). 0 or -errno.
 * Files are opened when a frame in them is first named, once per file (path
 * and build id) for all pids. */
int usyms_set_process(struct usyms *u, uint32_t pid, const struct usym_module *m, size_t n);
/* Name a user address of pid:
 *   "func+0x1a [gwload]"              symbol found (basename of the module in brackets)
 *   "0x7f12... [libfoo.so+0x1234]"    in a module whose ELF was not found / has no symbol
 *                                     there (+ the address in the file, addr - base: what
 *                                     addr2line -e takes)
 *   "0x7f12..."                       in no known module
 * The ELF of a module is, in this order, symfs/path, path, or
 * /usr/lib/debug/.build-id/xx/yyyy.debug; one whose build id differs from the
 * recorded one is not used.  Never fails, never drops a frame. */
const char *usyms_name(struct usyms *u, uint32_t pid, uint64_t addr, char *buf, size_t len);

#endif
