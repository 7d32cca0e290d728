/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gupwatch record files (gupwatch.data): plain C, no BPF.
 *
 * Layout (version 1; integers little-endian, the byte order of the x86 hosts
 * gupwatch runs on):
 *
 *   preamble  16 bytes: magic "GUPWATCH", u32 format version, u32 0
 *   records   each: u32 type, u32 payload length, payload
 *             - HEADER (first, exactly once): run description, see below
 *             - EVENT: one struct gw_event, as the ring buffer delivered it
 *             - STACK (optional): the frames of a stack id events carry, before
 *               the first event that carries it: u32 id, u32 flags (1: user
 *               stack), u32 frame count, u32 0, u64 frames[count]
 *             - KSYM (optional): a kernel symbol some recorded frame lies in,
 *               before that STACK: u64 start, NUL-terminated "name [module]"
 *             - MAPS (optional): the ELF objects a process mapped, before the
 *               first user STACK of it that they name: u32 pid, u32 count,
 *               count x (u64 start, end, base, u32 build id length, 64 bytes
 *               build id, 256 bytes NUL-terminated path); a later MAPS of
 *               the same pid replaces it (exec, dlopen)
 *             - PROCINFO (optional): what /proc said of a process, before
 *               its first event and again at the end for those still
 *               running: u32 pid, u32 0, u64 VmPin bytes, u64 VmLck bytes,
 *               u64 RLIMIT_MEMLOCK (UINT64_MAX: unlimited), 256 bytes
 *               NUL-terminated cgroup v2 path; a later one of the same pid
 *               replaces it
 *             - CHECKPOINT (optional): after each batch the writer put on disk,
 *               and before the trailer: u64 events so far, u32 CRC-32 of every
 *               byte before the record, u32 0
 *             - TRAILER (last, exactly once): kernel counters, event count,
 *               end time, CRC-32 of every byte before its CRC field
 *
 * A record type with REC_OPTIONAL set may be skipped by a reader that does
 * not know it (later sections: kernel symbols, process maps); an unknown type
 * without it makes the file unreadable ("written by a newer gupwatch").
 * HEADER and TRAILER payloads may grow at their end within a format version:
 * readers take the fields they know and ignore the rest.
 *
 * Reading validates the whole file first (every length, the order of the
 * records, the counts, the CRCs); a missing, corrupt or newer file yields one
 * line naming the problem and its byte offset. A file cut short (no trailer)
 * is read up to its last checkpoint, whose CRC vouches for what precedes it.
 */
#ifndef GUPWATCH_RECFILE_H
#define GUPWATCH_RECFILE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gupwatch.h"
#include "procinfo.h"
#include "usyms.h"

#define REC_MAGIC "GUPWATCH"
#define REC_MAGIC_LEN 8
#define REC_FORMAT_VERSION 1
#define REC_PREAMBLE_SIZE 16
#define REC_HDR_SIZE 8 /* type + length */

#define REC_OPTIONAL 0x80000000u
enum rec_type {
	REC_HEADER = 1,
	REC_EVENT = 2,
	REC_TRAILER = 3,
	REC_STACK = REC_OPTIONAL | 4,
	REC_KSYM = REC_OPTIONAL | 5,
	REC_MAPS = REC_OPTIONAL | 6,
	REC_CHECKPOINT = REC_OPTIONAL | 7,
	REC_PROCINFO = REC_OPTIONAL | 8,
};

#define REC_MAX_FRAMES GW_STACK_DEPTH
#define REC_STACK_USER 1u
#define REC_MODULE_SIZE (3 * 8 + 4 + USYM_BUILD_ID_MAX + USYM_PATH_MAX)
#define REC_MAX_MODULES 65536

/* Sizes of the HEADER and TRAILER payloads' version-1 fields. */
#define REC_HEADER_V1_SIZE 528
#define REC_TRAILER_V1_SIZE 24 /* then u64 counters[nr_counters], u32 CRC, u32 0 */

#define REC_RELEASE_LEN 72
#define REC_BOOT_ID_LEN 40
#define REC_HOSTNAME_LEN 72
#define REC_COMMAND_LEN 256

/* What a recording says about itself. Strings are NUL-terminated. */
struct rec_header {
	uint32_t format_version;   /* of the file (reading: as found) */
	uint32_t event_version;    /* GW_EVENT_VERSION */
	uint32_t event_size;       /* sizeof(struct gw_event) */
	uint32_t nr_counters;      /* GW_CNT__MAX */
	uint64_t start_realtime_ns; /* CLOCK_REALTIME when tracing started */
	uint64_t start_mono_ns;    /* CLOCK_MONOTONIC then: the clock of the events */
	char release[REC_RELEASE_LEN];   /* uname -r */
	char boot_id[REC_BOOT_ID_LEN];   /* /proc/sys/kernel/random/boot_id */
	char hostname[REC_HOSTNAME_LEN];
	/* FOLL_* values the session resolved for this kernel */
	uint32_t foll_write, foll_get, foll_force, foll_remote, foll_longterm, foll_pin;
	bool foll_from_btf;
	bool trace_get;            /* --get: FOLL_GET events recorded too */
	uint32_t attach_mode;      /* enum attach_mode */
	uint32_t filter_pid;       /* report-time filters; 0 / "": none */
	char filter_comm[GW_COMM_LEN];
	uint32_t command_pid;      /* -- COMMAND: its pid, 0 if none */
	char command[REC_COMMAND_LEN]; /* its argv, space-separated (truncated) */
};

struct rec_trailer {
	uint64_t events;           /* EVENT records in the file */
	uint64_t end_mono_ns;      /* when tracing stopped */
	uint32_t nr_counters;      /* as in the file */
	uint64_t counters[GW_CNT__MAX]; /* the kernel's; missing ones 0 */
};

struct tracer;
struct tracer_opts;

/* Fill in what describes this machine and now (uname, boot id, clocks). */
void rec_header_init(struct rec_header *h);
/* ... and what the session resolved and was asked for (on_start). */
void rec_header_set_tracer(struct rec_header *h, const struct tracer *t,
			   const struct tracer_opts *o);
const char *rec_attach_mode_name(uint32_t mode);

/*
 * Writer: straight to path, in 64 KiB batches each ended by a CHECKPOINT
 * record, so that a recording cut short (kill -9, a full disk) keeps every
 * event up to its last checkpoint.
 */
struct rec_writer {
	int fd;
	char *path;
	unsigned char *buf;        /* records not written yet */
	size_t len;
	uint32_t crc;              /* of every byte so far */
	uint64_t events;
	uint64_t off;              /* bytes so far */
	uint64_t checkpoint_off, checkpoint_events; /* the last checkpoint on disk */
	int err;                   /* first write error (errno), sticky */
	bool finished;             /* the trailer is written */
};

/* Before a session: can path be created (not a directory, its directory writable)?
 * 0, or -1 with a one-line cause and fix in err. Leaves nothing behind. */
int rec_writer_check(const char *path, char *err, size_t errlen);
/* Creates (truncates) path: 0, or -1 with a one-line cause in err. */
int rec_writer_open(struct rec_writer *w, const char *path, char *err, size_t errlen);
int rec_writer_header(struct rec_writer *w, const struct rec_header *h);
int rec_writer_event(struct rec_writer *w, const struct gw_event *e);
int rec_writer_stack(struct rec_writer *w, uint32_t id, bool user, const uint64_t *frames, uint32_t nr);
int rec_writer_ksym(struct rec_writer *w, uint64_t start, const char *name);
int rec_writer_maps(struct rec_writer *w, uint32_t pid, const struct usym_module *m, uint32_t nr);
int rec_writer_procinfo(struct rec_writer *w, uint32_t pid, const struct procinfo *pi);
struct rec_item;
/* Any of the five above, as a source delivers it. */
int rec_writer_item(struct rec_writer *w, const struct rec_item *it);
/* What is buffered to the file, ended by a checkpoint: 0, or -1 (w->err). */
int rec_writer_sync(struct rec_writer *w);
/* Writes the trailer, syncs and closes; 0 or -1 with the cause in err. */
int rec_writer_finish(struct rec_writer *w, const uint64_t counters[GW_CNT__MAX],
		      uint64_t end_mono_ns, char *err, size_t errlen);
/* "PATH: cannot write: CAUSE; the file keeps the first K events ...", after an error. */
const char *rec_writer_error(const struct rec_writer *w, char *err, size_t errlen);
/* Closes without a trailer (after a sync): the file reads as cut short. Safe twice. */
void rec_writer_close(struct rec_writer *w);

/* Reader over a validated, memory-mapped file. */
struct rec_reader {
	const unsigned char *map;
	size_t size;               /* of the records read: the file's, or where it was cut */
	size_t map_size;
	size_t first;              /* offset of the first record after the header */
	size_t pos;                /* iteration */
	bool mapped;
	struct usym_module *modules; /* the last MAPS record's, decoded */
	uint32_t modules_cap;
	struct rec_header hdr;
	struct rec_trailer trl;    /* truncated: events read, the last one's time, no counters */
	bool truncated;            /* cut short: no trailer; err says where */
};

/*
 * Opens and validates path. 0, or -1 with one line in err:
 * "PATH: PROBLEM at byte N (file ends at M)" or "PATH: cannot open: ERRNO".
 * A file cut short after its header (no trailer, a partial last record) is
 * read up to its last complete record: 0 with r->truncated set and err
 * saying "PATH: truncated at byte N (...): reporting the first K events".
 */
int rec_reader_open(struct rec_reader *r, const char *path, char *err, size_t errlen);
/* Validates a file image in memory (the unit tests); the reader borrows buf. */
int rec_reader_open_mem(struct rec_reader *r, const void *buf, size_t size, const char *name,
			char *err, size_t errlen);
/* One record after the header, as rec_reader_next delivers it. */
struct rec_item {
	uint32_t type; /* REC_EVENT, REC_STACK, REC_KSYM, REC_MAPS or REC_PROCINFO */
	struct gw_event event;
	struct {
		uint32_t id, nr;
		bool user;
		uint64_t frames[REC_MAX_FRAMES];
	} stack;
	struct {
		uint64_t start;
		const char *name; /* in the file's memory */
	} ksym;
	struct {
		uint32_t pid, nr;
		const struct usym_module *modules; /* nr of them, valid until the next item */
	} maps;
	struct {
		uint32_t pid;
		struct procinfo info; /* alive: it was read */
	} proc;
};

/* Next record in file order (optional ones this gupwatch does not know are skipped): 1, 0 at
 * the end, -ENOMEM (a MAPS record's modules could not be decoded) or -EIO (the file shrank
 * while being read: rec_reader_error says so). */
int rec_reader_next(struct rec_reader *r, struct rec_item *it);
void rec_reader_close(struct rec_reader *r);
/* The one line for an error rec_reader_next returned. */
const char *rec_reader_error(int ret, const char *path, char *err, size_t errlen);

uint32_t rec_crc32(uint32_t crc, const void *buf, size_t len);

#endif
