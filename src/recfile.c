// SPDX-License-Identifier: GPL-2.0
/* gupwatch record files: writer and validating reader (format in recfile.h). */
#include "recfile.h"
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- CRC-32 (IEEE 802.3) ---- */

#if defined(__x86_64__)
#include <immintrin.h>

/*
 * Carry-less multiplication folds 64 bytes per step (Intel, "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ", 2009): ~10x zlib's
 * 1.2.13 on the replay file, where the CRC was half of `report`'s time. Each
 * 128-bit lane is multiplied by x^k mod P for the distance it moves; the
 * constants are the bit-reflected x^(512+32), x^(512-32) (four lanes) and
 * x^(128+32), x^(128-32) mod P (one lane). What is left, one 16-byte value
 * and a tail under 16 bytes, goes through zlib: folding keeps the CRC of the
 * message, so the value's bytes stand for everything folded.
 */
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_fold(uint32_t crc, const unsigned char *p, size_t len)
{
	const __m128i k4 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	const __m128i k1 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	__m128i x0, x1, x2, x3;
	unsigned char folded[16];

#define FOLD(x, k, next) \
	_mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), \
				    _mm_clmulepi64_si128(x, k, 0x11)), next)
	/* the CRC so far, raw (zlib's is inverted), enters as the first bytes' XOR */
	x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)~crc));
	x1 = _mm_loadu_si128((const __m128i *)(p + 16));
	x2 = _mm_loadu_si128((const __m128i *)(p + 32));
	x3 = _mm_loadu_si128((const __m128i *)(p + 48));
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
		x0 = FOLD(x0, k4, _mm_loadu_si128((const __m128i *)p));
		x1 = FOLD(x1, k4, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = FOLD(x2, k4, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = FOLD(x3, k4, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	x0 = FOLD(FOLD(FOLD(x0, k1, x1), k1, x2), k1, x3);
	for (; len >= 16; p += 16, len -= 16)
		x0 = FOLD(x0, k1, _mm_loadu_si128((const __m128i *)p));
#undef FOLD
	_mm_storeu_si128((__m128i *)folded, x0);
	/* zlib's crc32(c, ...) runs the raw CRC from ~c and inverts it: from 0 here,
	 * and the tail then continues from the folded value's raw CRC */
	return crc32_z(crc32_z(0xffffffff, folded, 16), p, len);
}
#endif

uint32_t rec_crc32(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (len >= 64 && __builtin_cpu_supports("pclmul"))
		return crc32_fold(crc, buf, len);
#endif
	return crc32_z(crc, buf, len);
}

/* ---- little-endian fields ---- */

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void putstr(unsigned char *p, const char *s, size_t len)
{
	size_t n = strnlen(s, len - 1);

	memset(p, 0, len);
	memcpy(p, s, n);
}

/* Header payload, version 1. */
enum {
	H_EVENT_VERSION = 0, H_EVENT_SIZE = 4, H_NR_COUNTERS = 8, H_FLAGS = 12,
	H_START_REALTIME = 16, H_START_MONO = 24, H_FOLL = 32, /* 6 x u32 */
	H_ATTACH_MODE = 56, H_FILTER_PID = 60, H_COMMAND_PID = 64, /* 68: 0 */
	H_RELEASE = 72, H_BOOT_ID = H_RELEASE + REC_RELEASE_LEN,
	H_HOSTNAME = H_BOOT_ID + REC_BOOT_ID_LEN, H_FILTER_COMM = H_HOSTNAME + REC_HOSTNAME_LEN,
	H_COMMAND = H_FILTER_COMM + GW_COMM_LEN, H_END = H_COMMAND + REC_COMMAND_LEN,
};
_Static_assert(H_END == REC_HEADER_V1_SIZE, "header layout");

#define HF_FOLL_FROM_BTF 1u
#define HF_TRACE_GET 2u

static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	out[0] = 0;
	if (!f)
		return;
	if (fgets(out, len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void rec_header_init(struct rec_header *h)
{
	struct utsname u;

	memset(h, 0, sizeof(*h));
	h->format_version = REC_FORMAT_VERSION;
	h->event_version = GW_EVENT_VERSION;
	h->event_size = sizeof(struct gw_event);
	h->nr_counters = GW_CNT__MAX;
	h->start_realtime_ns = now_ns(CLOCK_REALTIME);
	h->start_mono_ns = now_ns(CLOCK_MONOTONIC);
	if (!uname(&u)) {
		snprintf(h->release, sizeof(h->release), "%s", u.release);
		snprintf(h->hostname, sizeof(h->hostname), "%s", u.nodename);
	}
	read_line("/proc/sys/kernel/random/boot_id", h->boot_id, sizeof(h->boot_id));
}

void rec_header_set_tracer(struct rec_header *h, const struct tracer *t,
			   const struct tracer_opts *o)
{
	h->foll_write = t->foll.write;
	h->foll_get = t->foll.get;
	h->foll_force = t->foll.force;
	h->foll_remote = t->foll.remote;
	h->foll_longterm = t->foll.longterm;
	h->foll_pin = t->foll.pin;
	h->foll_from_btf = t->foll.from_btf;
	h->attach_mode = o->mode;
	h->trace_get = o->trace_get;
}

const char *rec_attach_mode_name(uint32_t mode)
{
	switch (mode) {
	case ATTACH_AUTO: return "auto";
	case ATTACH_FENTRY: return "fentry";
	case ATTACH_KPROBE: return "kprobe";
	default: return "unknown";
	}
}

/* ---- writer ---- */

/*
 * Records collect in a buffer that goes to the file with a CHECKPOINT record
 * at its end (rec_writer_sync): everything that reaches the disk is followed
 * by a CRC covering it, so a recording cut short by kill -9, a power cut or a
 * full disk is read up to its last checkpoint and no further.
 */
#define WR_BUF_SIZE (64 * 1024)
#define CHECKPOINT_SIZE 16 /* u64 events, u32 CRC of every byte before the record, u32 0 */

static void wr_out(struct rec_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (!w->err && len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? errno : EIO;
			return;
		}
		p += n;
		len -= n;
	}
}

static void wr(struct rec_writer *w, const void *buf, size_t len)
{
	if (w->err)
		return;
	w->crc = rec_crc32(w->crc, buf, len);
	w->off += len;
	if (w->len + len > WR_BUF_SIZE) {
		/* a record larger than the buffer (process maps): straight through */
		wr_out(w, w->buf, w->len);
		w->len = 0;
		if (len > WR_BUF_SIZE) {
			wr_out(w, buf, len);
			return;
		}
	}
	memcpy(w->buf + w->len, buf, len);
	w->len += len;
}

static void wr_rec(struct rec_writer *w, uint32_t type, const void *payload, uint32_t len)
{
	unsigned char hdr[REC_HDR_SIZE];

	/* whole records before each checkpoint: the buffer goes out before it overflows */
	if (w->len && w->len + REC_HDR_SIZE + len + REC_HDR_SIZE + CHECKPOINT_SIZE > WR_BUF_SIZE)
		rec_writer_sync(w);
	put32(hdr, type);
	put32(hdr + 4, len);
	wr(w, hdr, sizeof(hdr));
	wr(w, payload, len);
}

int rec_writer_sync(struct rec_writer *w)
{
	unsigned char cp[REC_HDR_SIZE + CHECKPOINT_SIZE] = { 0 };

	if (w->fd < 0 || w->err)
		return w->err ? -1 : 0;
	/* nothing new, no header yet (the first record must be the header), or the trailer out */
	if (w->off == w->checkpoint_off || w->off == REC_PREAMBLE_SIZE || w->finished)
		return 0;
	put32(cp, REC_CHECKPOINT);
	put32(cp + 4, CHECKPOINT_SIZE);
	put64(cp + 8, w->events);
	put32(cp + 16, w->crc);
	wr(w, cp, sizeof(cp));
	wr_out(w, w->buf, w->len);
	w->len = 0;
	if (w->err)
		return -1;
	w->checkpoint_off = w->off;
	w->checkpoint_events = w->events;
	return 0;
}

int rec_writer_check(const char *path, char *err, size_t errlen)
{
	char *dir = strdup(path), *slash;
	struct stat st;
	int fd;

	if (!dir) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else
		slash[slash == dir] = 0;
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory; fix: give -o a file name, e.g. %s/gupwatch.data",
			 path, path);
		free(dir);
		return -1;
	}
	/* Can a file be created there? An unnamed one answers without leaving any behind. */
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
		if (access(dir, W_OK | X_OK))
			fd = -2;
	} else {
		fd = -2;
	}
	if (fd == -2) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; fix: give -o a file name", path);
		return -1;
	}
	return 0;
}

int rec_writer_open(struct rec_writer *w, const char *path, char *err, size_t errlen)
{
	unsigned char pre[REC_PREAMBLE_SIZE] = REC_MAGIC;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->path = strdup(path);
	w->buf = malloc(WR_BUF_SIZE);
	if (!w->path || !w->buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		rec_writer_close(w);
		return -1;
	}
	/* 0600: the file holds kernel addresses and command lines */
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		rec_writer_close(w);
		return -1;
	}
	put32(pre + 8, REC_FORMAT_VERSION);
	wr(w, pre, sizeof(pre));
	return 0;
}

int rec_writer_header(struct rec_writer *w, const struct rec_header *h)
{
	unsigned char p[REC_HEADER_V1_SIZE] = { 0 };
	const uint32_t foll[6] = { h->foll_write, h->foll_get, h->foll_force, h->foll_remote,
				   h->foll_longterm, h->foll_pin };

	put32(p + H_EVENT_VERSION, GW_EVENT_VERSION);
	put32(p + H_EVENT_SIZE, sizeof(struct gw_event));
	put32(p + H_NR_COUNTERS, GW_CNT__MAX);
	put32(p + H_FLAGS, (h->foll_from_btf ? HF_FOLL_FROM_BTF : 0) | (h->trace_get ? HF_TRACE_GET : 0));
	put64(p + H_START_REALTIME, h->start_realtime_ns);
	put64(p + H_START_MONO, h->start_mono_ns);
	for (int i = 0; i < 6; i++)
		put32(p + H_FOLL + 4 * i, foll[i]);
	put32(p + H_ATTACH_MODE, h->attach_mode);
	put32(p + H_FILTER_PID, h->filter_pid);
	put32(p + H_COMMAND_PID, h->command_pid);
	putstr(p + H_RELEASE, h->release, REC_RELEASE_LEN);
	putstr(p + H_BOOT_ID, h->boot_id, REC_BOOT_ID_LEN);
	putstr(p + H_HOSTNAME, h->hostname, REC_HOSTNAME_LEN);
	putstr(p + H_FILTER_COMM, h->filter_comm, GW_COMM_LEN);
	putstr(p + H_COMMAND, h->command, REC_COMMAND_LEN);
	wr_rec(w, REC_HEADER, p, sizeof(p));
	return w->err ? -1 : 0;
}

int rec_writer_event(struct rec_writer *w, const struct gw_event *e)
{
	wr_rec(w, REC_EVENT, e, sizeof(*e));
	if (w->err)
		return -1;
	w->events++;
	return 0;
}

int rec_writer_stack(struct rec_writer *w, uint32_t id, bool user, const uint64_t *frames, uint32_t nr)
{
	unsigned char p[16 + 8 * REC_MAX_FRAMES] = { 0 };

	if (nr > REC_MAX_FRAMES)
		nr = REC_MAX_FRAMES;
	put32(p, id);
	put32(p + 4, user ? REC_STACK_USER : 0);
	put32(p + 8, nr);
	for (uint32_t i = 0; i < nr; i++)
		put64(p + 16 + 8 * i, frames[i]);
	wr_rec(w, REC_STACK, p, 16 + 8 * nr);
	return w->err ? -1 : 0;
}

int rec_writer_ksym(struct rec_writer *w, uint64_t start, const char *name)
{
	size_t n = strnlen(name, 1023);
	unsigned char p[8 + 1024];

	put64(p, start);
	memcpy(p + 8, name, n);
	p[8 + n] = 0;
	wr_rec(w, REC_KSYM, p, 8 + n + 1);
	return w->err ? -1 : 0;
}

int rec_writer_maps(struct rec_writer *w, uint32_t pid, const struct usym_module *m, uint32_t nr)
{
	unsigned char hdr[8], mod[REC_MODULE_SIZE];

	if (nr > REC_MAX_MODULES)
		nr = REC_MAX_MODULES;
	put32(hdr, REC_MAPS);
	put32(hdr + 4, 8 + nr * REC_MODULE_SIZE);
	wr(w, hdr, sizeof(hdr));
	put32(hdr, pid);
	put32(hdr + 4, nr);
	wr(w, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < nr; i++) {
		memset(mod, 0, sizeof(mod));
		put64(mod, m[i].start);
		put64(mod + 8, m[i].end);
		put64(mod + 16, m[i].base);
		put32(mod + 24, m[i].build_id_len <= USYM_BUILD_ID_MAX ? m[i].build_id_len : 0);
		memcpy(mod + 28, m[i].build_id, USYM_BUILD_ID_MAX);
		putstr(mod + 28 + USYM_BUILD_ID_MAX, m[i].path, USYM_PATH_MAX);
		wr(w, mod, sizeof(mod));
	}
	return w->err ? -1 : 0;
}

#define PROCINFO_CGROUP_LEN sizeof(((struct procinfo *)0)->cgroup)
#define PROCINFO_SIZE (8 + 3 * 8 + PROCINFO_CGROUP_LEN)

int rec_writer_procinfo(struct rec_writer *w, uint32_t pid, const struct procinfo *pi)
{
	unsigned char p[PROCINFO_SIZE] = { 0 };

	put32(p, pid);
	put64(p + 8, pi->vm_pinned);
	put64(p + 16, pi->vm_locked);
	put64(p + 24, pi->memlock_limit);
	putstr(p + 32, pi->cgroup, PROCINFO_CGROUP_LEN);
	wr_rec(w, REC_PROCINFO, p, sizeof(p));
	return w->err ? -1 : 0;
}

int rec_writer_item(struct rec_writer *w, const struct rec_item *it)
{
	switch (it->type) {
	case REC_EVENT:
		return rec_writer_event(w, &it->event);
	case REC_STACK:
		return rec_writer_stack(w, it->stack.id, it->stack.user, it->stack.frames, it->stack.nr);
	case REC_KSYM:
		return rec_writer_ksym(w, it->ksym.start, it->ksym.name);
	case REC_MAPS:
		return rec_writer_maps(w, it->maps.pid, it->maps.modules, it->maps.nr);
	case REC_PROCINFO:
		return rec_writer_procinfo(w, it->proc.pid, &it->proc.info);
	}
	return 0;
}

int rec_writer_finish(struct rec_writer *w, const uint64_t counters[GW_CNT__MAX],
		      uint64_t end_mono_ns, char *err, size_t errlen)
{
	unsigned char p[REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8] = { 0 }, hdr[REC_HDR_SIZE];
	size_t crc_at = REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX;

	/* a checkpoint first: a trailer cut short still leaves every event readable */
	rec_writer_sync(w);
	put64(p, w->events);
	put64(p + 8, end_mono_ns);
	put32(p + 16, GW_CNT__MAX);
	for (int i = 0; i < GW_CNT__MAX; i++)
		put64(p + REC_TRAILER_V1_SIZE + 8 * i, counters[i]);
	put32(hdr, REC_TRAILER);
	put32(hdr + 4, sizeof(p));
	wr(w, hdr, sizeof(hdr));
	wr(w, p, crc_at);
	/* The CRC covers every byte before it. */
	put32(p + crc_at, w->crc);
	wr(w, p + crc_at, 8);
	wr_out(w, w->buf, w->len);
	w->len = 0;
	w->finished = true;
	if (!w->err && fsync(w->fd) && errno != EINVAL)
		w->err = errno;
	if (w->err) {
		rec_writer_error(w, err, errlen);
		rec_writer_close(w);
		return -1;
	}
	rec_writer_close(w);
	return 0;
}

const char *rec_writer_error(const struct rec_writer *w, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: cannot write: %s; the file keeps the first %llu events (to byte "
		 "%llu): gupwatch report reads it", w->path, strerror(w->err),
		 (unsigned long long)w->checkpoint_events, (unsigned long long)w->checkpoint_off);
	return err;
}

void rec_writer_close(struct rec_writer *w)
{
	if (w->fd >= 0) {
		rec_writer_sync(w);
		close(w->fd);
	}
	w->fd = -1;
	free(w->buf);
	free(w->path);
	w->buf = NULL;
	w->path = NULL;
}

/* ---- reader ---- */

struct vctx {
	const char *name;
	size_t size;
	char *err;
	size_t errlen;
};

static int bad(const struct vctx *v, size_t off, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(v->err, v->errlen, "%s: %s at byte %zu (file ends at %zu)", v->name, what, off,
		 v->size);
	return -1;
}

static const char *rec_name(uint32_t type)
{
	switch (type) {
	case REC_HEADER: return "header";
	case REC_EVENT: return "event";
	case REC_TRAILER: return "trailer";
	case REC_STACK: return "stack";
	case REC_KSYM: return "kernel symbol";
	case REC_MAPS: return "process maps";
	case REC_PROCINFO: return "process info";
	default: return "optional";
	}
}

/* The optional records this gupwatch reads: their own consistency. */
static int check_optional(const struct vctx *v, size_t off, uint32_t type, const unsigned char *p,
			  uint32_t len)
{
	size_t payload = off + REC_HDR_SIZE;

	switch (type) {
	case REC_STACK:
		if (len < 16 || get32(p + 8) > REC_MAX_FRAMES || len != 16 + 8 * get32(p + 8))
			return bad(v, off, "corrupt stack record (%u bytes)", len);
		if (get32(p + 4) & ~REC_STACK_USER || get32(p + 12))
			return bad(v, payload + 4, "corrupt stack record: unknown flags");
		/* the BPF stack map hands out ids below its size */
		if (get32(p) >= GW_STACK_MAP_SIZE)
			return bad(v, payload, "corrupt stack record: id %u (stack ids are below %u)",
				   get32(p), GW_STACK_MAP_SIZE);
		return 0;
	case REC_KSYM:
		if (len < 10 || len > 8 + 1024 || p[len - 1] || memchr(p + 8, 0, len - 9))
			return bad(v, off, "corrupt kernel symbol record (%u bytes)", len);
		return 0;
	case REC_CHECKPOINT:
		if (len != 16 || get32(p + 12))
			return bad(v, off, "corrupt checkpoint record (%u bytes)", len);
		return 0;
	case REC_MAPS:
		if (len < 8 || get32(p + 4) > REC_MAX_MODULES ||
		    len != 8 + (size_t)get32(p + 4) * REC_MODULE_SIZE)
			return bad(v, off, "corrupt process maps record (%u bytes)", len);
		for (uint32_t i = 0; i < get32(p + 4); i++) {
			const unsigned char *m = p + 8 + (size_t)i * REC_MODULE_SIZE;

			if (get32(m + 24) > USYM_BUILD_ID_MAX || get64(m) > get64(m + 8) ||
			    !memchr(m + 28 + USYM_BUILD_ID_MAX, 0, USYM_PATH_MAX))
				return bad(v, payload + 8 + (size_t)i * REC_MODULE_SIZE,
					   "corrupt process maps record: module %u", i);
		}
		return 0;
	case REC_PROCINFO:
		if (len != PROCINFO_SIZE || get32(p + 4) || !get32(p) ||
		    !memchr(p + 32, 0, PROCINFO_CGROUP_LEN))
			return bad(v, off, "corrupt process info record (%u bytes)", len);
		return 0;
	default:
		return 0;
	}
}

/* A NUL-terminated string field. */
static int getstr(const struct vctx *v, size_t base, const unsigned char *p, size_t field,
		  char *out, size_t len, const char *what)
{
	if (!memchr(p + field, 0, len))
		return bad(v, base + field, "corrupt header: unterminated %s", what);
	memcpy(out, p + field, len);
	return 0;
}

static int parse_header(const struct vctx *v, size_t base, const unsigned char *p, uint32_t len,
			struct rec_header *h)
{
	uint32_t flags;

	if (len < REC_HEADER_V1_SIZE)
		return bad(v, base - 4, "corrupt header record: %u bytes, at least %u expected", len,
			   REC_HEADER_V1_SIZE);
	h->event_version = get32(p + H_EVENT_VERSION);
	if (h->event_version < GW_EVENT_VERSION_MIN || h->event_version > GW_EVENT_VERSION)
		return bad(v, base + H_EVENT_VERSION, "events are version %u, this gupwatch reads "
			   "versions %u to %u%s", h->event_version, GW_EVENT_VERSION_MIN, GW_EVENT_VERSION,
			   h->event_version > GW_EVENT_VERSION ? " (written by a newer gupwatch)" : "");
	h->event_size = get32(p + H_EVENT_SIZE);
	if (h->event_size != sizeof(struct gw_event))
		return bad(v, base + H_EVENT_SIZE, "corrupt header: event size %u, version %u events "
			   "have %zu", h->event_size, GW_EVENT_VERSION, sizeof(struct gw_event));
	h->nr_counters = get32(p + H_NR_COUNTERS);
	if (h->nr_counters > 4096)
		return bad(v, base + H_NR_COUNTERS, "corrupt header: %u counters", h->nr_counters);
	flags = get32(p + H_FLAGS);
	h->foll_from_btf = flags & HF_FOLL_FROM_BTF;
	h->trace_get = flags & HF_TRACE_GET;
	h->start_realtime_ns = get64(p + H_START_REALTIME);
	h->start_mono_ns = get64(p + H_START_MONO);
	h->foll_write = get32(p + H_FOLL);
	h->foll_get = get32(p + H_FOLL + 4);
	h->foll_force = get32(p + H_FOLL + 8);
	h->foll_remote = get32(p + H_FOLL + 12);
	h->foll_longterm = get32(p + H_FOLL + 16);
	h->foll_pin = get32(p + H_FOLL + 20);
	h->attach_mode = get32(p + H_ATTACH_MODE);
	h->filter_pid = get32(p + H_FILTER_PID);
	h->command_pid = get32(p + H_COMMAND_PID);
	if (getstr(v, base, p, H_RELEASE, h->release, REC_RELEASE_LEN, "kernel release") ||
	    getstr(v, base, p, H_BOOT_ID, h->boot_id, REC_BOOT_ID_LEN, "boot id") ||
	    getstr(v, base, p, H_HOSTNAME, h->hostname, REC_HOSTNAME_LEN, "hostname") ||
	    getstr(v, base, p, H_FILTER_COMM, h->filter_comm, GW_COMM_LEN, "comm filter") ||
	    getstr(v, base, p, H_COMMAND, h->command, REC_COMMAND_LEN, "command"))
		return -1;
	return 0;
}

/* crc: of map[0, crc_off), crc_off <= base */
static int parse_trailer(const struct vctx *v, const unsigned char *map, size_t base, uint32_t len,
			 uint64_t nr_events, uint32_t crc, size_t crc_off, struct rec_trailer *t)
{
	const unsigned char *p = map + base;
	size_t crc_at;

	if (len < REC_TRAILER_V1_SIZE)
		return bad(v, base - 4, "corrupt trailer record: %u bytes, at least %u expected", len,
			   REC_TRAILER_V1_SIZE);
	t->events = get64(p);
	t->end_mono_ns = get64(p + 8);
	t->nr_counters = get32(p + 16);
	crc_at = REC_TRAILER_V1_SIZE + 8 * (size_t)t->nr_counters;
	if (t->nr_counters > 4096 || crc_at + 8 > len)
		return bad(v, base + 16, "corrupt trailer: %u counters do not fit its %u bytes",
			   t->nr_counters, len);
	for (uint32_t i = 0; i < t->nr_counters && i < GW_CNT__MAX; i++)
		t->counters[i] = get64(p + REC_TRAILER_V1_SIZE + 8 * i);
	if (get32(p + crc_at + 4))
		return bad(v, base + crc_at + 4, "corrupt trailer: reserved field is not 0");
	crc = rec_crc32(crc, map + crc_off, base + crc_at - crc_off);
	if (crc != get32(p + crc_at))
		return bad(v, base + crc_at, "corrupt file: CRC-32 mismatch (stored 0x%08x, "
			   "computed 0x%08x)", get32(p + crc_at), crc);
	if (t->events != nr_events)
		return bad(v, base, "corrupt trailer: it counts %llu events, the file has %llu",
			   (unsigned long long)t->events, (unsigned long long)nr_events);
	return 0;
}

/* The last checkpoint passed: what a recording cut after it can be read up to. */
struct checkpoint {
	size_t end;        /* offset after it; 0: none yet */
	uint64_t events;
	uint64_t last_ts;  /* time of the last event before it */
};

/*
 * A recording cut short (kill -9, a power cut, a full disk) at off: read up to
 * its last checkpoint, whose CRC vouches for every byte before it; nothing
 * after it is trusted. No trailer: no kernel counters.
 */
static int cut_short(struct rec_reader *r, const struct vctx *v, const unsigned char *map,
		     size_t off, const struct checkpoint *cp, const char *what)
{
	if (!cp->end)
		return bad(v, off, "truncated file: %s, and no checkpoint before it", what);
	snprintf(v->err, v->errlen, "%s: truncated at byte %zu (%s; recording interrupted?): "
		 "reporting the first %llu events, up to the last checkpoint at byte %zu", v->name,
		 off, what, (unsigned long long)cp->events, cp->end);
	r->truncated = true;
	r->trl.events = cp->events;
	r->trl.end_mono_ns = cp->last_ts;
	r->map = map;
	r->size = cp->end;
	r->pos = r->first;
	return 0;
}

int rec_reader_open_mem(struct rec_reader *r, const void *buf, size_t size, const char *name,
			char *err, size_t errlen)
{
	const struct vctx v = { name, size, err, errlen };
	const unsigned char *map = buf;
	struct checkpoint cp = { 0 };
	uint64_t events = 0, last_ts = 0;
	uint32_t version, crc = 0;
	size_t off, crc_off = 0;

	memset(r, 0, sizeof(*r));
	if (size == 0)
		return bad(&v, 0, "empty file");
	if (size < REC_MAGIC_LEN || memcmp(map, REC_MAGIC, REC_MAGIC_LEN)) {
		if (size < REC_MAGIC_LEN && !memcmp(map, REC_MAGIC, size))
			return bad(&v, size, "truncated preamble");
		return bad(&v, 0, "not a gupwatch record file (bad magic)");
	}
	if (size < REC_PREAMBLE_SIZE)
		return bad(&v, size, "truncated preamble");
	version = get32(map + 8);
	if (version > REC_FORMAT_VERSION)
		return bad(&v, 8, "format version %u is newer than this gupwatch reads (%u)", version,
			   REC_FORMAT_VERSION);
	if (version == 0)
		return bad(&v, 8, "corrupt preamble: format version 0");
	if (get32(map + 12))
		return bad(&v, 12, "corrupt preamble: reserved field is not 0");
	r->hdr.format_version = version;

	for (off = REC_PREAMBLE_SIZE;;) {
		uint32_t type, len;
		size_t payload;

		if (off == size) {
			if (off == REC_PREAMBLE_SIZE)
				return bad(&v, off, "truncated file: no header record");
			return cut_short(r, &v, map, off, &cp, "no trailer");
		}
		if (size - off < REC_HDR_SIZE) {
			if (off == REC_PREAMBLE_SIZE)
				return bad(&v, off, "truncated record header");
			return cut_short(r, &v, map, off, &cp, "a partial record header");
		}
		type = get32(map + off);
		len = get32(map + off + 4);
		payload = off + REC_HDR_SIZE;
		if (off == REC_PREAMBLE_SIZE && type != REC_HEADER)
			return bad(&v, off, "corrupt file: record type 0x%x where the header record "
				   "belongs", type);
		if (type != REC_HEADER && type != REC_EVENT && type != REC_TRAILER &&
		    !(type & REC_OPTIONAL))
			return bad(&v, off, "unknown record type 0x%x (written by a newer gupwatch?)",
				   type);
		if (len > size - payload) {
			char what[64];

			if (type == REC_HEADER)
				return bad(&v, off, "truncated %s record (%u bytes)", rec_name(type), len);
			snprintf(what, sizeof(what), "a partial %s record", rec_name(type));
			return cut_short(r, &v, map, off, &cp, what);
		}
		if (type & REC_OPTIONAL && check_optional(&v, off, type, map + payload, len))
			return -1;
		switch (type) {
		case REC_HEADER:
			if (off != REC_PREAMBLE_SIZE)
				return bad(&v, off, "corrupt file: a second header record");
			if (parse_header(&v, payload, map + payload, len, &r->hdr))
				return -1;
			r->first = payload + len;
			break;
		case REC_EVENT:
			if (len != r->hdr.event_size)
				return bad(&v, off, "corrupt event record: %u bytes, %u expected", len,
					   r->hdr.event_size);
			memcpy(&last_ts, map + payload + offsetof(struct gw_event, ts_ns), sizeof(last_ts));
			events++;
			break;
		case REC_CHECKPOINT:
			crc = rec_crc32(crc, map + crc_off, off - crc_off);
			crc_off = off;
			if (get32(map + payload + 8) != crc)
				return bad(&v, payload + 8, "corrupt file: CRC-32 mismatch at a checkpoint "
					   "(stored 0x%08x, computed 0x%08x)", get32(map + payload + 8), crc);
			if (get64(map + payload) != events)
				return bad(&v, payload, "corrupt checkpoint: it counts %llu events, the file "
					   "has %llu", (unsigned long long)get64(map + payload),
					   (unsigned long long)events);
			cp = (struct checkpoint){ payload + len, events, last_ts };
			break;
		case REC_TRAILER:
			if (parse_trailer(&v, map, payload, len, events, crc, crc_off, &r->trl))
				return -1;
			if (payload + len != size)
				return bad(&v, payload + len, "unexpected data after the trailer");
			r->map = map;
			r->size = size;
			r->pos = r->first;
			return 0;
		}
		off = payload + len;
		/* the CRC follows the walk, over what is still in the caches: a file
		 * larger than them is read from memory once, not twice */
		if (off - crc_off >= 64 * 1024) {
			crc = rec_crc32(crc, map + crc_off, off - crc_off);
			crc_off = off;
		}
	}
}

/*
 * The mapped file of the open reader. Someone truncating it while we read
 * would make the next access SIGBUS: the handler maps zeros over what is gone
 * and says so in map_shrank, which the reader checks (one reader at a time).
 */
static const unsigned char *bus_map;
static size_t bus_size;
static volatile sig_atomic_t map_shrank;
static struct sigaction bus_saved;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t at = (uintptr_t)si->si_addr, base = (uintptr_t)bus_map;
	long page = sysconf(_SC_PAGESIZE);

	(void)uc;
	if (bus_map && at >= base && at < base + bus_size) {
		uintptr_t from = at & ~(uintptr_t)(page - 1);

		if (mmap((void *)from, base + bus_size - from, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
			map_shrank = 1;
			return;
		}
	}
	/* not ours: the default action */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void watch_map(const void *map, size_t size)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	bus_map = map;
	bus_size = size;
	map_shrank = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_saved);
}

static void unwatch_map(void)
{
	if (bus_map)
		sigaction(SIGBUS, &bus_saved, NULL);
	bus_map = NULL;
	bus_size = 0;
}

static int shrank(const char *path, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: the file shrank while being read (is it being truncated or "
		 "rewritten?)", path);
	return -1;
}

int rec_reader_open(struct rec_reader *r, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd;

	memset(r, 0, sizeof(*r));
	/* O_NONBLOCK: a FIFO without a writer must not block the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (a record file is read in place: "
			 "copy it to a file first)", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return rec_reader_open_mem(r, "", 0, path, err, errlen);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		return -1;
	}
	watch_map(map, st.st_size);
	if (rec_reader_open_mem(r, map, st.st_size, path, err, errlen) || map_shrank) {
		if (map_shrank)
			shrank(path, err, errlen);
		unwatch_map();
		munmap(map, st.st_size);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	r->mapped = true;
	r->map_size = st.st_size;
	return 0;
}

/* A MAPS record's nr modules (validated: nr <= REC_MAX_MODULES) into r->modules. */
static int decode_modules(struct rec_reader *r, const unsigned char *p, uint32_t nr)
{
	if (nr > r->modules_cap) {
		struct usym_module *more = realloc(r->modules, nr * sizeof(*more));

		if (!more)
			return -1;
		r->modules = more;
		r->modules_cap = nr;
	}
	for (uint32_t i = 0; i < nr; i++, p += REC_MODULE_SIZE) {
		struct usym_module *m = &r->modules[i];

		memset(m, 0, sizeof(*m));
		m->start = get64(p);
		m->end = get64(p + 8);
		m->base = get64(p + 16);
		m->build_id_len = get32(p + 24);
		memcpy(m->build_id, p + 28, USYM_BUILD_ID_MAX);
		memcpy(m->path, p + 28 + USYM_BUILD_ID_MAX, USYM_PATH_MAX);
	}
	return 0;
}

int rec_reader_next(struct rec_reader *r, struct rec_item *it)
{
	/* Validated: every record fits and the trailer is last. */
	while (r->map && r->pos + REC_HDR_SIZE <= r->size) {
		if (map_shrank && r->mapped)
			return -EIO;
		uint32_t type = get32(r->map + r->pos), len = get32(r->map + r->pos + 4);
		const unsigned char *p = r->map + r->pos + REC_HDR_SIZE;

		r->pos += REC_HDR_SIZE + len;
		it->type = type;
		switch (type) {
		case REC_TRAILER:
			r->pos = r->size;
			return 0;
		case REC_EVENT:
			memcpy(&it->event, p, sizeof(it->event));
			return 1;
		case REC_STACK:
			it->stack.id = get32(p);
			it->stack.user = get32(p + 4) & REC_STACK_USER;
			it->stack.nr = get32(p + 8);
			for (uint32_t i = 0; i < it->stack.nr; i++)
				it->stack.frames[i] = get64(p + 16 + 8 * i);
			return 1;
		case REC_KSYM:
			it->ksym.start = get64(p);
			it->ksym.name = (const char *)p + 8;
			return 1;
		case REC_MAPS:
			it->maps.pid = get32(p);
			it->maps.nr = get32(p + 4);
			if (decode_modules(r, p + 8, it->maps.nr))
				return -ENOMEM;
			it->maps.modules = r->modules;
			return 1;
		case REC_PROCINFO:
			it->proc.pid = get32(p);
			it->proc.info = (struct procinfo){ .alive = true, .vm_pinned = get64(p + 8),
							   .vm_locked = get64(p + 16),
							   .memlock_limit = get64(p + 24) };
			memcpy(it->proc.info.cgroup, p + 32, PROCINFO_CGROUP_LEN);
			return 1;
		}
	}
	r->pos = r->size;
	return 0;
}

const char *rec_reader_error(int ret, const char *path, char *err, size_t errlen)
{
	if (ret == -EIO)
		shrank(path, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return err;
}

void rec_reader_close(struct rec_reader *r)
{
	if (r->mapped) {
		unwatch_map();
		munmap((void *)r->map, r->map_size);
	}
	free(r->modules);
	memset(r, 0, sizeof(*r));
}
