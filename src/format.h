/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How every table and finding line writes a duration, pin-seconds, a pin's
 * kind and a byte count: one value prints the same in trace, report and top.
 * Each returns buf.
 */
#ifndef GUPWATCH_FORMAT_H
#define GUPWATCH_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_LEN 48 /* enough for any of them */
#define FMT_COMM_LEN 68 /* fmt_printable of a comm (16 bytes), every byte escaped */

/* 850ns, 12.5us, 3.2ms, 4.25s, 2m05s, 1h00m, 3d04h */
const char *fmt_duration(uint64_t ns, char *buf, size_t len);
/* refs x seconds held, always 6 decimals: 0.000012, 2.076000 */
const char *fmt_pin_seconds(uint64_t pin_ns, char *buf, size_t len);
/* R/O or R/W (R/? for folio_add_pin's), then ,longterm ,remote ,force */
const char *fmt_pin_kind(uint32_t flags, char *buf, size_t len);
/*
 * At most max bytes of s (NULL: ""), each control byte or byte >= 0x7f as
 * \xNN: comms, paths and symbols are chosen by whoever runs the traced
 * program, and an escape sequence must not reach the terminal.
 */
const char *fmt_printable(const char *s, size_t max, char *buf, size_t len);
/* ls -h style: 512B, 4.0K, 16K, 2.0M */
const char *fmt_bytes(uint64_t bytes, char *buf, size_t len);

#endif
