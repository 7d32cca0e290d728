// SPDX-License-Identifier: GPL-2.0
/*
 * Record files: a round trip of hand-made events, then every way a file can
 * be bad (every byte flipped, wrong magic, version, sizes, unknown records, a
 * missing file): each rejected with one line naming the problem and the byte
 * offset; and every way it can be cut short (at every byte, by a full disk,
 * shrinking while read): read up to its last checkpoint, never beyond.
 *
 * `test_recfile --write FILE` writes the sample recording instead (for
 * tests/host/test-report.sh): a STALE-PIN, an UNSHARE linked to its pin, a
 * FORK-COPY, a long-term pin held at exit, a FOLL_GET, and a comm that
 * needs JSON escaping; the STALE-PIN's pin and write come with kernel and
 * user stacks, their kernel symbols and process maps (whose ELF files do
 * not exist: user frames stay addresses with their module and offset).
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "recfile.h"

#define MS(x) ((uint64_t)(x) * 1000 * 1000)
#define CP_SIZE (REC_HDR_SIZE + 16) /* a checkpoint record */
#define T0 (MS(1000) * 3600) /* monotonic start: one hour after boot */
#define VMEMMAP 0xffffea0000000000ull
#define FOLIO(pfn) (VMEMMAP + (uint64_t)(pfn) * 64)

static struct gw_task tk(uint32_t pid, uint32_t tid, const char *comm)
{
	struct gw_task t = { .pid = pid, .tid = tid };

	memcpy(t.comm, comm, strnlen(comm, GW_COMM_LEN - 1));
	return t;
}

static struct gw_event ev(uint32_t type, uint64_t ts, struct gw_task t)
{
	return (struct gw_event){ .type = type, .ts_ns = T0 + ts, .task = t,
				  .kstack_id = -1, .ustack_id = -1 };
}

static struct gw_event pin(uint32_t type, uint64_t ts, struct gw_task t, uint64_t pfn,
			   uint32_t refs, uint32_t flags)
{
	struct gw_event e = ev(type, ts, t);

	e.pin = (struct gw_pin){ .folio = FOLIO(pfn), .pfn = pfn, .refs = refs, .flags = flags,
				 .gup_flags = type == GW_EV_GET ? 0x4 : 0x40000, .nr_pages = 1 };
	return e;
}

#define WRITER_MM 0xffff888000200000ull /* the writer's mm_struct */

static struct gw_event wp(uint64_t ts, struct gw_task t, uint64_t addr, uint64_t old_pfn,
			  uint64_t new_pfn, uint32_t flags)
{
	struct gw_event e = ev(GW_EV_WP_COPY, ts, t);

	e.wp = (struct gw_wp_copy){ .address = addr, .mm = WRITER_MM, .old_folio = FOLIO(old_pfn),
				    .old_pfn = old_pfn, .new_pfn = new_pfn, .flags = flags, .old_pincount = 1 };
	return e;
}

static size_t sample_events(struct gw_event *out)
{
	const struct gw_task dd = tk(100, 100, "dd"), writer = tk(200, 201, "writer"),
			     fio = tk(110, 111, "fio"), odd = tk(300, 300, "we\"ird\\c\xff\t");
	size_t n = 0;

	out[n] = pin(GW_EV_PIN, MS(1), dd, 0x1000, 1, 0); /* process_vm_readv of the writer's page */
	out[n].pin.mm = WRITER_MM, out[n].pin.address = 0x7f0000001000;
	out[n].kstack_id = 1, out[n++].ustack_id = 2;
	out[n] = wp(MS(2), writer, 0x7f0000001000, 0x1000, 0x2000, GW_WP_OLD_PINNED);
	out[n].kstack_id = 3, out[n++].ustack_id = 4;
	out[n++] = pin(GW_EV_UNPIN, MS(3), dd, 0x1000, 1, 0);
	out[n++] = pin(GW_EV_PIN, MS(4), fio, 0x3000, 4, GW_PIN_WRITE | GW_PIN_LONGTERM);
	out[n] = ev(GW_EV_FORK_COPY, MS(5), fio);
	out[n++].fork = (struct gw_fork_copy){ .address = 0x7f0000020000, .new_pfn = 0x4000 };
	out[n++] = wp(MS(6), odd, 0x7f0000030000, 0x5000, 0x6000, GW_WP_UNSHARE | GW_WP_OLD_ANON);
	out[n++] = pin(GW_EV_PIN, MS(6) + 5000, odd, 0x6000, 1, 0);
	out[n++] = pin(GW_EV_UNPIN, MS(7), odd, 0x6000, 1, 0);
	out[n++] = pin(GW_EV_GET, MS(8), dd, 0x7000, 1, 0);
	return n;
}

static void sample_header(struct rec_header *h)
{
	rec_header_init(h);
	h->start_realtime_ns = 1767225600ULL * 1000000000ULL; /* 2026-01-01T00:00:00Z */
	h->start_mono_ns = T0;
	snprintf(h->release, sizeof(h->release), "6.12.0-test-amd64");
	snprintf(h->boot_id, sizeof(h->boot_id), "01234567-89ab-cdef-0123-456789abcdef");
	snprintf(h->hostname, sizeof(h->hostname), "testhost");
	h->foll_write = 0x1, h->foll_get = 0x4, h->foll_force = 0x10, h->foll_remote = 0x2000;
	h->foll_longterm = 0x100, h->foll_pin = 0x40000, h->foll_from_btf = true;
	h->attach_mode = 1;
	h->command_pid = 4242;
	snprintf(h->command, sizeof(h->command), "gwload file-stale --pages 1");
}

static void sample_counters(uint64_t c[GW_CNT__MAX])
{
	memset(c, 0, GW_CNT__MAX * sizeof(c[0]));
	c[GW_CNT_WP_FAULT] = 10;
	c[GW_CNT_WP_COPY] = 5;
	c[GW_CNT_UNSHARE_COPY] = 1;
	c[GW_CNT_FORK_COPY] = 1;
	c[GW_CNT_PIN_REFS] = 6;
	c[GW_CNT_UNPIN_REFS] = 2;
	c[GW_CNT_STACK_DROP] = 3;
}

/* Stacks 1..4 of the sample, the kernel symbols they lie in, and the maps of dd and writer. */
#define KTEXT 0xffffffff81000000ull
static const uint64_t sample_frames[4][3] = {
	{ KTEXT + 0x100010, KTEXT + 0x101020, KTEXT + 0x200008 }, /* dd's pin */
	{ 0x400123, 0x7f1234560042 },                              /* dd: main program, libc */
	{ KTEXT + 0x300004, 0xffffffff80000001 },                  /* the write fault; a frame below all symbols */
	{ 0x400456 },                                               /* writer */
};

static const struct usym_module sample_modules[2] = {
	{ .start = 0x400000, .end = 0x401000, .build_id_len = 4, .build_id = { 0xde, 0xad, 0xbe, 0xef },
	  .path = "/nonexistent/gwtest-dd" },
	{ .start = 0x7f1234500000, .end = 0x7f1234600000, .base = 0x7f1234500000,
	  .path = "/nonexistent/libgwtest.so" },
};

/* what /proc said of dd (pid 100) and of the writer (200: no cgroup v2, no memlock limit) */
static const struct procinfo sample_procs[2] = {
	{ .alive = true, .cgroup = "/system.slice/dd.service", .vm_pinned = 32768, .vm_locked = 4096,
	  .memlock_limit = 65536 },
	{ .alive = true, .memlock_limit = PROCINFO_UNLIMITED },
};

static bool with_procinfo = true;

static void write_symbols(struct rec_writer *w)
{
	rec_writer_ksym(w, KTEXT + 0x100000, "try_grab_folio");
	rec_writer_ksym(w, KTEXT + 0x101000, "__get_user_pages");
	rec_writer_ksym(w, KTEXT + 0x200000, "process_vm_rw_core.constprop.0");
	rec_writer_ksym(w, KTEXT + 0x300000, "do_wp_page");
	rec_writer_maps(w, 100, sample_modules, 2);
	rec_writer_maps(w, 200, sample_modules, 1);
	if (with_procinfo) {
		rec_writer_procinfo(w, 100, &sample_procs[0]);
		rec_writer_procinfo(w, 200, &sample_procs[1]);
	}
	for (uint32_t id = 1; id <= 4; id++) {
		uint32_t nr = 0;

		while (nr < 3 && sample_frames[id - 1][nr])
			nr++;
		rec_writer_stack(w, id, !(id & 1), sample_frames[id - 1], nr);
	}
}

/* sync_each: a checkpoint after every event, as a recording flushed that often */
static int write_sample(const char *path, bool symbols, bool sync_each, char *err, size_t errlen)
{
	struct gw_event evs[16];
	size_t n = sample_events(evs);
	uint64_t counters[GW_CNT__MAX];
	struct rec_writer w;
	struct rec_header h;

	sample_header(&h);
	sample_counters(counters);
	if (rec_writer_open(&w, path, err, errlen))
		return -1;
	rec_writer_header(&w, &h);
	if (symbols)
		write_symbols(&w);
	for (size_t i = 0; i < n; i++) {
		rec_writer_event(&w, &evs[i]);
		if (sync_each)
			rec_writer_sync(&w);
	}
	return rec_writer_finish(&w, counters, T0 + MS(10), err, errlen);
}

/* The sample file's bytes. */
static unsigned char *img;
static size_t img_size;
static char path[64];

static int setup(void **state)
{
	char err[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_recfile.%d.gw", getpid());
	if (write_sample(path, false, false, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	img_size = ftell(f);
	rewind(f);
	img = malloc(img_size);
	if (!img || fread(img, 1, img_size, f) != img_size)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	free(img);
	return 0;
}

static void test_round_trip(void **state)
{
	struct gw_event evs[16];
	struct rec_item got;
	size_t n = sample_events(evs), i = 0;
	uint64_t counters[GW_CNT__MAX];
	struct rec_header want;
	struct rec_reader r;
	char err[256];

	(void)state;
	sample_header(&want);
	sample_counters(counters);
	if (rec_reader_open(&r, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(r.hdr.format_version, REC_FORMAT_VERSION);
	assert_int_equal(r.hdr.event_version, GW_EVENT_VERSION);
	assert_int_equal(r.hdr.event_size, sizeof(struct gw_event));
	assert_int_equal(r.hdr.nr_counters, GW_CNT__MAX);
	assert_true(r.hdr.start_realtime_ns == want.start_realtime_ns);
	assert_true(r.hdr.start_mono_ns == T0);
	assert_string_equal(r.hdr.release, want.release);
	assert_string_equal(r.hdr.boot_id, want.boot_id);
	assert_string_equal(r.hdr.hostname, "testhost");
	assert_string_equal(r.hdr.command, want.command);
	assert_int_equal(r.hdr.command_pid, 4242);
	assert_int_equal(r.hdr.foll_pin, 0x40000);
	assert_int_equal(r.hdr.foll_longterm, 0x100);
	assert_int_equal(r.hdr.foll_remote, 0x2000);
	assert_true(r.hdr.foll_from_btf);
	assert_false(r.hdr.trace_get);
	assert_int_equal(r.hdr.attach_mode, 1);
	assert_int_equal(r.hdr.filter_pid, 0);
	assert_string_equal(r.hdr.filter_comm, "");
	while (rec_reader_next(&r, &got)) {
		assert_int_equal(got.type, REC_EVENT);
		assert_true(i < n);
		assert_memory_equal(&got.event, &evs[i], sizeof(got.event));
		i++;
	}
	assert_int_equal(i, n);
	assert_int_equal(rec_reader_next(&r, &got), 0);
	assert_int_equal(r.trl.events, n);
	assert_true(r.trl.end_mono_ns == T0 + MS(10));
	assert_memory_equal(r.trl.counters, counters, sizeof(counters));
	assert_int_equal(img_size, REC_PREAMBLE_SIZE + REC_HDR_SIZE + REC_HEADER_V1_SIZE +
			 n * (REC_HDR_SIZE + sizeof(struct gw_event)) + CP_SIZE + REC_HDR_SIZE +
			 REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8);
	rec_reader_close(&r);
}

/* Expect rejection with a message containing want and "at byte OFF (file ends at SIZE)". */
static void expect_bad(const void *buf, size_t size, const char *want, size_t off)
{
	char err[512] = "", tail[96];
	struct rec_reader r;

	if (!rec_reader_open_mem(&r, buf, size, "t.gw", err, sizeof(err)))
		fail_msg("accepted a bad file (size %zu), expected '%s'", size, want);
	if (!strstr(err, want))
		fail_msg("size %zu: '%s' does not say '%s'", size, err, want);
	snprintf(tail, sizeof(tail), " at byte %zu (file ends at %zu)", off, size);
	if (!strstr(err, tail) || strncmp(err, "t.gw: ", 6) || strchr(err, '\n'))
		fail_msg("size %zu: '%s' does not end in '%s'", size, err, tail);
}

/* Offsets of the records of the sample: 0 header, 1..n events, n + 1 checkpoint, n + 2 trailer. */
static size_t rec_off(size_t i)
{
	size_t off = REC_PREAMBLE_SIZE;

	if (i > 0)
		off += REC_HDR_SIZE + REC_HEADER_V1_SIZE;
	if (i > 1)
		off += (i - 1) * (REC_HDR_SIZE + sizeof(struct gw_event));
	return off;
}

/* Accepted as cut short: every one of the first events records, then the end. */
static void expect_cut(const void *buf, size_t size, uint64_t events)
{
	char err[512] = "";
	struct rec_reader r;
	struct rec_item it;
	uint64_t n = 0;

	if (rec_reader_open_mem(&r, buf, size, "t.gw", err, sizeof(err)))
		fail_msg("cut at %zu: rejected: %s", size, err);
	if (!r.truncated || !strstr(err, "truncated at byte ") || strchr(err, '\n'))
		fail_msg("cut at %zu: '%s'", size, err);
	while (rec_reader_next(&r, &it) > 0)
		n += it.type == REC_EVENT;
	assert_int_equal(n, events);
	assert_int_equal(r.trl.events, events);
	rec_reader_close(&r);
}

static void test_truncated_everywhere(void **state)
{
	struct gw_event evs[16];
	size_t n = sample_events(evs), cp = rec_off(n + 1), trailer = cp + CP_SIZE;

	(void)state;
	expect_bad(img, 0, "empty file", 0);
	for (size_t len = 1; len < img_size; len++) {
		size_t rec = len < rec_off(1) ? 0 : len >= cp ? n + 1 :
			     1 + (len - rec_off(1)) / (REC_HDR_SIZE + sizeof(struct gw_event));
		size_t start = rec_off(rec);

		if (len < REC_PREAMBLE_SIZE)
			expect_bad(img, len, "truncated preamble", len);
		else if (len == REC_PREAMBLE_SIZE)
			expect_bad(img, len, "no header record", len);
		else if (len >= trailer) /* the checkpoint before the trailer vouches for all */
			expect_cut(img, len, n);
		else if (len == start)
			expect_bad(img, len, "no trailer, and no checkpoint before it", len);
		else if (len - start < REC_HDR_SIZE)
			expect_bad(img, len, start == REC_PREAMBLE_SIZE ? "truncated record header" :
				   "a partial record header, and no checkpoint", start);
		else
			expect_bad(img, len, rec == 0 ? "truncated header record" :
				   rec == n + 1 ? "a partial optional record, and no checkpoint" :
				   "a partial event record, and no checkpoint", start);
	}
}

/* Through the file API too (mmap, the path in the message). */
static void test_truncated_files(void **state)
{
	char tpath[80], err[512];
	struct rec_reader r;
	size_t trailer = img_size - (REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8);

	(void)state;
	snprintf(tpath, sizeof(tpath), "%s.cut", path);
	for (size_t len = 0; len < img_size; len += 7) {
		FILE *f = fopen(tpath, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(img, 1, len, f), len);
		fclose(f);
		if (len >= trailer) {
			assert_int_equal(rec_reader_open(&r, tpath, err, sizeof(err)), 0);
			assert_true(r.truncated);
			rec_reader_close(&r);
		} else {
			assert_int_equal(rec_reader_open(&r, tpath, err, sizeof(err)), -1);
		}
		assert_non_null(strstr(err, tpath));
		assert_non_null(strstr(err, " at byte "));
	}
	unlink(tpath);
	assert_int_equal(rec_reader_open(&r, tpath, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open: No such file or directory"));
	assert_int_equal(rec_reader_open(&r, "/tmp", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

/*
 * A file with a flipped byte is refused, or, when the flip makes a record
 * look cut (a length past the end), read as cut short: only what the last
 * checkpoint before it vouches for.
 */
static void expect_refused_or_vouched(const unsigned char *b, size_t size, const char *what, size_t i,
				      const size_t *cps, const uint64_t *cp_events, size_t ncps)
{
	char err[512];
	struct rec_reader r;
	uint64_t vouched = 0;

	if (rec_reader_open_mem(&r, b, size, "t.gw", err, sizeof(err))) {
		assert_non_null(strstr(err, " at byte "));
		return;
	}
	for (size_t k = 0; k < ncps; k++)
		if (cps[k] <= i)
			vouched = cp_events[k];
	if (!r.truncated || r.trl.events > vouched)
		fail_msg("%s %zu: accepted with %llu events (%s)", what, i,
			 (unsigned long long)r.trl.events, err);
	rec_reader_close(&r);
}

/* Flipping any byte: refused, or read as cut short no further than a checkpoint vouches. */
static void test_every_byte_flipped(void **state)
{
	unsigned char *b = malloc(img_size);
	struct gw_event evs[16];
	size_t n = sample_events(evs), cp = rec_off(n + 1) + CP_SIZE;
	uint64_t cp_events = n;

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < img_size; i++) {
		memcpy(b, img, img_size);
		b[i] ^= 0x5a;
		expect_refused_or_vouched(b, img_size, "byte flipped", i, &cp, &cp_events, 1);
	}
	free(b);
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86: little-endian, as the format */
}

static unsigned char *copy(void)
{
	unsigned char *b = malloc(img_size + 256);

	assert_non_null(b);
	memcpy(b, img, img_size);
	return b;
}

/* Rewrite the trailer's CRC after an edit, so that the field checks are what fails. */
static void fix_crc(unsigned char *b, size_t size)
{
	size_t crc_at = size - 8;

	put32(b + crc_at, rec_crc32(0, b, crc_at));
}

static void test_bad_fields(void **state)
{
	size_t hdr = rec_off(0) + REC_HDR_SIZE, ev1 = rec_off(1), trl = rec_off(10) + CP_SIZE;
	unsigned char *b;

	(void)state;
	assert_int_equal(trl + REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8, img_size);

	b = copy();
	b[0] = 'g';
	expect_bad(b, img_size, "not a gupwatch record file (bad magic)", 0);
	memcpy(b, "\177ELF", 4);
	expect_bad(b, 3, "not a gupwatch record file (bad magic)", 0);

	b = memcpy(b, img, img_size);
	put32(b + 8, REC_FORMAT_VERSION + 1);
	expect_bad(b, img_size, "format version 2 is newer than this gupwatch reads (1)", 8);
	put32(b + 8, 0);
	expect_bad(b, img_size, "format version 0", 8);
	b = memcpy(b, img, img_size);
	put32(b + 12, 1);
	expect_bad(b, img_size, "reserved field is not 0", 12);

	b = memcpy(b, img, img_size);
	put32(b + hdr, GW_EVENT_VERSION + 1);
	expect_bad(b, img_size, "events are version 7, this gupwatch reads versions 3 to 6 (written "
		   "by a newer gupwatch)", hdr);
	b = memcpy(b, img, img_size); /* version 2: events still carried cpu and cgroup */
	put32(b + hdr, GW_EVENT_VERSION_MIN - 1);
	expect_bad(b, img_size, "events are version 2, this gupwatch reads versions 3 to 6", hdr);
	b = memcpy(b, img, img_size);
	put32(b + hdr + 4, sizeof(struct gw_event) + 8);
	expect_bad(b, img_size, "corrupt header: event size", hdr + 4);

	/* The first record must be the header; record lengths and types checked. */
	b = memcpy(b, img, img_size);
	put32(b + rec_off(0), REC_EVENT);
	expect_bad(b, img_size, "where the header record belongs", rec_off(0));
	b = memcpy(b, img, img_size);
	put32(b + rec_off(0) + 4, 100);
	expect_bad(b, img_size, "corrupt header record: 100 bytes", rec_off(0) + 4);
	b = memcpy(b, img, img_size);
	put32(b + ev1 + 4, sizeof(struct gw_event) - 8);
	expect_bad(b, img_size, "corrupt event record", ev1);
	b = memcpy(b, img, img_size);
	put32(b + ev1 + 4, 0x7fffffff);
	expect_bad(b, img_size, "a partial event record, and no checkpoint before it", ev1);
	b = memcpy(b, img, img_size);
	put32(b + ev1, 77);
	expect_bad(b, img_size, "unknown record type 0x4d (written by a newer gupwatch?)", ev1);
	b = memcpy(b, img, img_size);
	put32(b + ev1, REC_HEADER);
	expect_bad(b, img_size, "a second header record", ev1);

	/* An unterminated string in the header. */
	b = memcpy(b, img, img_size);
	memset(b + hdr + 72, 'x', REC_RELEASE_LEN);
	fix_crc(b, img_size);
	expect_bad(b, img_size, "unterminated kernel release", hdr + 72);

	/* Event payload corrupted: only a CRC can tell, the checkpoint's first. */
	b = memcpy(b, img, img_size);
	b[ev1 + REC_HDR_SIZE + 20] ^= 1;
	expect_bad(b, img_size, "corrupt file: CRC-32 mismatch at a checkpoint", trl - 16 + 8);
	/* ... and the trailer's for what follows the checkpoint */
	b = memcpy(b, img, img_size);
	b[trl + REC_HDR_SIZE + 8] ^= 1;
	expect_bad(b, img_size, "corrupt file: CRC-32 mismatch (stored", img_size - 8);
	/* a checkpoint counting other events, its CRC right */
	b = memcpy(b, img, img_size);
	put32(b + trl - 16, 3);
	put32(b + trl - 8, rec_crc32(0, b, trl - CP_SIZE));
	fix_crc(b, img_size);
	expect_bad(b, img_size, "corrupt checkpoint: it counts 3 events, the file has 9", trl - 16);

	/* The trailer's event count, with a correct CRC. */
	b = memcpy(b, img, img_size);
	put32(b + trl + REC_HDR_SIZE, 8);
	fix_crc(b, img_size);
	expect_bad(b, img_size, "it counts 8 events, the file has 9", trl + REC_HDR_SIZE);

	/* Bytes after the trailer. */
	b = memcpy(b, img, img_size);
	b[img_size] = 0;
	expect_bad(b, img_size + 1, "unexpected data after the trailer", img_size);
	free(b);
}

/* A record type with REC_OPTIONAL set is skipped (later sections). */
static void test_optional_record_skipped(void **state)
{
	/* after the checkpoint, whose CRC it would break: before the trailer */
	size_t ev1 = img_size - (REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8), n = 0;
	unsigned char *b = malloc(img_size + 24);
	struct rec_reader r;
	struct rec_item e;
	char err[512];

	(void)state;
	assert_non_null(b);
	memcpy(b, img, ev1);
	put32(b + ev1, REC_OPTIONAL | 42);
	put32(b + ev1 + 4, 16);
	memset(b + ev1 + 8, 0xab, 16);
	memcpy(b + ev1 + 24, img + ev1, img_size - ev1);
	fix_crc(b, img_size + 24);
	if (rec_reader_open_mem(&r, b, img_size + 24, "t.gw", err, sizeof(err)))
		fail_msg("%s", err);
	while (rec_reader_next(&r, &e))
		n++;
	assert_int_equal(n, 9);
	rec_reader_close(&r);
	free(b);
}

/* A failed write leaves no file behind; finish renames atomically. */
static void test_writer_files(void **state)
{
	char p[96], err[256];
	struct rec_writer w;
	uint64_t c[GW_CNT__MAX] = { 0 };
	struct rec_reader r;

	(void)state;
	assert_int_equal(rec_writer_check("/nonexistent-dir/x.gw", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent-dir/x.gw: cannot create: No such file or directory");
	assert_int_equal(rec_writer_open(&w, "/nonexistent-dir/x.gw", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent-dir/x.gw: cannot create: No such file or directory");
	assert_int_equal(rec_writer_check("/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: is a directory; fix: give -o a file name, e.g. /tmp/gupwatch.data");
	assert_int_equal(rec_writer_check("/dev/null", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/null: not a regular file"));
	/* the check creates nothing */
	snprintf(p, sizeof(p), "%s.w", path);
	assert_int_equal(rec_writer_check(p, err, sizeof(err)), 0);
	assert_int_equal(access(p, F_OK), -1);
	/* a writer closed before its header leaves a file a reader refuses */
	assert_int_equal(rec_writer_open(&w, p, err, sizeof(err)), 0);
	rec_writer_close(&w);
	rec_writer_close(&w);
	assert_int_equal(rec_reader_open(&r, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty file"));
	assert_int_equal(rec_writer_open(&w, p, err, sizeof(err)), 0);
	assert_int_equal(rec_writer_finish(&w, c, 1, err, sizeof(err)), 0);
	assert_int_equal(access(p, F_OK), 0);
	unlink(p);
}

/* The bytes of a file, which is then removed. */
static unsigned char *take_file(const char *name, size_t *size)
{
	FILE *f = fopen(name, "rb");
	unsigned char *b;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	rewind(f);
	b = malloc(*size);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, *size, f), *size);
	fclose(f);
	unlink(name);
	return b;
}

/* Cut at every byte, a recording checkpointed after each event reads its first events. */
static void test_cut_every_byte(void **state)
{
	char cpath[80], err[256];
	unsigned char *b;
	size_t size, ncps = 0, cps[32] = { 0 };
	uint64_t cp_events[32];
	struct rec_reader r;

	(void)state;
	snprintf(cpath, sizeof(cpath), "%s.each", path);
	if (write_sample(cpath, true, true, err, sizeof(err)))
		fail_msg("%s", err);
	b = take_file(cpath, &size);
	/* where the checkpoints end, and the events each vouches for */
	for (size_t off = REC_PREAMBLE_SIZE, events = 0; off + REC_HDR_SIZE <= size;) {
		uint32_t type, len;

		memcpy(&type, b + off, 4);
		memcpy(&len, b + off + 4, 4);
		off += REC_HDR_SIZE + len;
		events += type == REC_EVENT;
		if (type == REC_CHECKPOINT && ncps < 32) {
			cps[ncps] = off;
			cp_events[ncps++] = events;
		}
	}
	assert_true(ncps >= 9);
	for (size_t len = cps[0]; len < size; len++) {
		uint64_t want = 0;

		for (size_t k = 0; k < ncps; k++)
			if (cps[k] <= len)
				want = cp_events[k];
		expect_cut(b, len, want);
	}
	expect_bad(b, cps[0] - 1, "and no checkpoint before it", cps[0] - CP_SIZE);
	for (size_t i = 0; i < size; i++) {
		b[i] ^= 0x5a;
		expect_refused_or_vouched(b, size, "byte flipped", i, cps, cp_events, ncps);
		b[i] ^= 0x5a;
	}
	assert_int_equal(rec_reader_open_mem(&r, b, size, "t.gw", err, sizeof(err)), 0);
	assert_false(r.truncated);
	free(b);
}

/* A full disk (here: a file size limit) ends the recording at its last checkpoint, readable. */
static void test_full_disk(void **state)
{
	struct rlimit old, lim = { 64 * 1024, 64 * 1024 };
	char fpath[80], err[512];
	struct gw_event evs[16];
	size_t n = sample_events(evs), written = 0;
	struct rec_header h;
	struct rec_writer w;
	struct rec_reader r;
	struct rec_item it;
	uint64_t read = 0;

	(void)state;
	snprintf(fpath, sizeof(fpath), "%s.full", path);
	sample_header(&h);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(rec_writer_open(&w, fpath, err, sizeof(err)), 0);
	rec_writer_header(&w, &h);
	for (size_t i = 0; i < 100000 && !w.err; i++) {
		if (!rec_writer_event(&w, &evs[i % n]))
			written++;
		if (i % 50 == 49)
			rec_writer_sync(&w);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(w.err, EFBIG);
	rec_writer_error(&w, err, sizeof(err));
	assert_non_null(strstr(err, ": cannot write: File too large; the file keeps the first "));
	assert_true(w.checkpoint_events > 0 && w.checkpoint_events < written);
	assert_true(w.checkpoint_off <= 64 * 1024);
	rec_writer_close(&w);
	assert_int_equal(rec_reader_open(&r, fpath, err, sizeof(err)), 0);
	assert_true(r.truncated);
	while (rec_reader_next(&r, &it) > 0) {
		assert_memory_equal(&it.event, &evs[read % n], sizeof(it.event));
		read++;
	}
	assert_int_equal(read, w.checkpoint_events);
	rec_reader_close(&r);
	unlink(fpath);
}

/* A file truncated while being read: an error from the reader, not SIGBUS. */
static void test_file_shrinks(void **state)
{
	char spath[80], err[512];
	struct gw_event evs[16];
	size_t n = sample_events(evs);
	struct rec_header h;
	struct rec_writer w;
	struct rec_reader r;
	struct rec_item it;
	uint64_t c[GW_CNT__MAX] = { 0 };
	int ret;

	(void)state;
	snprintf(spath, sizeof(spath), "%s.shrink", path);
	sample_header(&h);
	assert_int_equal(rec_writer_open(&w, spath, err, sizeof(err)), 0);
	rec_writer_header(&w, &h);
	for (size_t i = 0; i < 20000; i++)
		rec_writer_event(&w, &evs[i % n]);
	assert_int_equal(rec_writer_finish(&w, c, 1, err, sizeof(err)), 0);
	assert_int_equal(rec_reader_open(&r, spath, err, sizeof(err)), 0);
	assert_int_equal(truncate(spath, 4096), 0);
	while ((ret = rec_reader_next(&r, &it)) > 0)
		;
	assert_int_equal(ret, -EIO);
	assert_non_null(strstr(rec_reader_error(ret, spath, err, sizeof(err)),
			       ".shrink: the file shrank while being read"));
	rec_reader_close(&r);
	unlink(spath);
}

/*
 * Stacks, kernel symbols and process maps: read back in file order, and a
 * file with them cut at any byte or with any byte flipped is rejected.
 */
static void test_symbols_round_trip(void **state)
{
	char spath[80], err[512];
	unsigned char *b;
	struct rec_reader r;
	struct rec_item it;
	size_t size, events = 0, ksyms = 0, maps = 0, stacks = 0, procs = 0;
	const struct procinfo *want;

	(void)state;
	snprintf(spath, sizeof(spath), "%s.sym", path);
	if (write_sample(spath, true, false, err, sizeof(err)))
		fail_msg("%s", err);
	if (rec_reader_open(&r, spath, err, sizeof(err)))
		fail_msg("%s", err);
	while (rec_reader_next(&r, &it)) {
		switch (it.type) {
		case REC_KSYM:
			assert_int_equal(events + stacks + maps, 0);
			if (ksyms++ == 2) {
				assert_true(it.ksym.start == KTEXT + 0x200000);
				assert_string_equal(it.ksym.name, "process_vm_rw_core.constprop.0");
			}
			break;
		case REC_MAPS:
			assert_int_equal(it.maps.pid, maps++ ? 200 : 100);
			assert_int_equal(it.maps.nr, it.maps.pid == 100 ? 2 : 1);
			assert_memory_equal(&it.maps.modules[it.maps.nr - 1],
					    &sample_modules[it.maps.nr - 1], sizeof(struct usym_module));
			break;
		case REC_PROCINFO:
			assert_int_equal(events + stacks, 0);
			assert_int_equal(it.proc.pid, procs ? 200 : 100);
			want = &sample_procs[procs++];
			assert_true(it.proc.info.alive);
			assert_string_equal(it.proc.info.cgroup, want->cgroup);
			assert_true(it.proc.info.vm_pinned == want->vm_pinned &&
				    it.proc.info.vm_locked == want->vm_locked &&
				    it.proc.info.memlock_limit == want->memlock_limit);
			break;
		case REC_STACK:
			assert_int_equal(events, 0);
			assert_int_equal(it.stack.id, ++stacks);
			assert_int_equal(it.stack.user, !(it.stack.id & 1));
			assert_int_equal(it.stack.nr, it.stack.id == 1 ? 3 : it.stack.id == 4 ? 1 : 2);
			assert_memory_equal(it.stack.frames, sample_frames[it.stack.id - 1], 8 * it.stack.nr);
			break;
		case REC_EVENT:
			events++;
			break;
		default:
			fail_msg("record type 0x%x", it.type);
		}
	}
	assert_int_equal(ksyms, 4);
	assert_int_equal(maps, 2);
	assert_int_equal(procs, 2);
	assert_int_equal(stacks, 4);
	assert_int_equal(events, r.trl.events);
	rec_reader_close(&r);

	b = take_file(spath, &size);
	/* one checkpoint, before the trailer: cut before it, nothing vouched for */
	for (size_t len = 0; len < size - (REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8);
	     len++) {
		if (!rec_reader_open_mem(&r, b, len, "t.gw", err, sizeof(err)))
			fail_msg("cut at %zu: accepted", len);
		assert_non_null(strstr(err, " at byte "));
	}
	for (size_t i = 0; i < size; i++) {
		size_t cp = size - (REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8);
		uint64_t cp_events = events;

		b[i] ^= 0x5a;
		expect_refused_or_vouched(b, size, "byte flipped", i, &cp, &cp_events, 1);
		b[i] ^= 0x5a;
	}
	free(b);
}

static void test_crc(void **state)
{
	(void)state;
	assert_int_equal(rec_crc32(0, "123456789", 9), 0xcbf43926); /* the CRC-32 check value */
}

/* The folding path (64 bytes and more) against zlib's table code: every length up
 * to 400 at every alignment, chained over a split, from a non-zero CRC. */
static void test_crc_fold(void **state)
{
	unsigned char b[416];
	(void)state;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(i * 131 + (i >> 3) * 7);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 400; len++) {
			size_t cut = len / 3;
			uint32_t want = crc32_z(0x12345678, b + off, len);

			assert_int_equal(rec_crc32(0x12345678, b + off, len), want);
			assert_int_equal(rec_crc32(rec_crc32(0x12345678, b + off, cut), b + off + cut,
						   len - cut), want);
		}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_crc_fold),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_optional_record_skipped),
		cmocka_unit_test(test_writer_files),
		cmocka_unit_test(test_cut_every_byte),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_file_shrinks),
		cmocka_unit_test(test_symbols_round_trip),
	};

	/* --write FILE [--no-procinfo]: the sample for tests/host/test-report.sh (--no-procinfo: as an
	 * older gupwatch wrote it) */
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "--no-procinfo"))) && !strcmp(argv[1], "--write")) {
		char err[256];

		with_procinfo = argc == 3;
		if (write_sample(argv[2], true, true, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
