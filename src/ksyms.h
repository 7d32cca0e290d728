/* Kernel text symbols from /proc/kallsyms, for naming stack frames. */
#ifndef GUPWATCH_KSYMS_H
#define GUPWATCH_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/* NULL with errno set when /proc/kallsyms cannot be read. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);
/* "name+0xoff", or the bare address when no symbol covers it. */
const char *ksyms_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
