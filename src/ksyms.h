/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel text symbols from /proc/kallsyms, for naming stack frames. */
#ifndef GUPWATCH_KSYMS_H
#define GUPWATCH_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/* NULL with errno set when /proc/kallsyms cannot be read. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);
/*
 * The addresses of names (any type; the kernel's own, not a module's) in a
 * kallsyms file, into addrs; 0: not listed, or hidden (kptr_restrict).
 * At most 64 names. 0, or -errno when the file cannot be read.
 */
int ksyms_resolve(const char *path, const char *const *names, uint64_t *addrs, size_t n);

/* What bpf/core_fixes.bpf.h's ksym_* rodata needs (the same names, without "ksym_"). */
struct ksyms_kernel_data {
	uint64_t vmemmap_base, per_cpu_offset, pcpu_hot, preempt_count;
};
/* From /proc/kallsyms; 0 for each one not found. 0, or -errno. */
int ksyms_kernel_data(struct ksyms_kernel_data *d);
/* An empty table, filled by ksyms_add (report: the symbols a recording kept). */
struct ksyms *ksyms_new(void);
int ksyms_add(struct ksyms *ks, uint64_t start, const char *name);
/* The symbol at or below addr: an index for ksyms_sym, or -1. */
long ksyms_find(const struct ksyms *ks, uint64_t addr);
const char *ksyms_sym(const struct ksyms *ks, long idx, uint64_t *start);
size_t ksyms_count(const struct ksyms *ks);
/* "name+0xoff", or the bare address when no symbol covers it. */
const char *ksyms_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
