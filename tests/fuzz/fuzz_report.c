// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the record-file reader and everything report does with
 * what it reads (engine, stacks, symbols, maps, text and JSON renderers).
 *
 * The first byte chooses: bit 0 set, the input is the whole file (preamble,
 * header, CRCs: most inputs stop at validation); clear, the rest is a stream
 * of records put between a valid preamble and header and a valid trailer
 * (event count and CRC filled in), so that the fuzzer reaches what follows
 * validation. Bit 1: JSON instead of text. Output goes to /dev/null.
 */
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "recfile.h"

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86: little-endian, as the format */
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* preamble + header + the records of data (up to the first one that does not fit) + trailer */
static unsigned char *wrap(const uint8_t *data, size_t size, size_t *out)
{
	size_t body = 0, hdr = REC_PREAMBLE_SIZE + REC_HDR_SIZE + REC_HEADER_V1_SIZE;
	size_t trl = REC_HDR_SIZE + REC_TRAILER_V1_SIZE + 8 * GW_CNT__MAX + 8;
	uint64_t events = 0;
	unsigned char *f;

	while (size - body >= REC_HDR_SIZE) {
		uint32_t type, len;

		memcpy(&type, data + body, 4);
		memcpy(&len, data + body + 4, 4);
		if (len > size - body - REC_HDR_SIZE)
			break;
		events += type == REC_EVENT;
		body += REC_HDR_SIZE + len;
	}
	f = calloc(1, hdr + body + trl);
	if (!f)
		return NULL;
	memcpy(f, REC_MAGIC, REC_MAGIC_LEN);
	put32(f + 8, REC_FORMAT_VERSION);
	put32(f + 16, REC_HEADER);
	put32(f + 20, REC_HEADER_V1_SIZE);
	put32(f + 24, GW_EVENT_VERSION);
	put32(f + 28, sizeof(struct gw_event));
	put32(f + 32, GW_CNT__MAX);
	memcpy(f + hdr, data, body);
	put32(f + hdr + body, REC_TRAILER);
	put32(f + hdr + body + 4, trl - REC_HDR_SIZE);
	put64(f + hdr + body + REC_HDR_SIZE, events);
	put32(f + hdr + body + REC_HDR_SIZE + 16, GW_CNT__MAX);
	put32(f + hdr + body + trl - 8, rec_crc32(0, f, hdr + body + trl - 8));
	*out = hdr + body + trl;
	return f;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sort_spec sort = { { COL_PIN_SECONDS, COL_PID }, 2 };
	const struct sites_opts sites = { .sort = &sort, .min_age_ns = 1000, .histograms = true };
	struct consumer_opts o = { .engine = { .max_folios = 64, .max_procs = 8, .max_sites = 8,
					       .max_findings = 16 } };
	unsigned char *file = NULL;
	struct rec_reader r;
	struct consumer *c;
	struct rec_item it;
	char err[512];
	size_t fsize;
	int ret;

	if (size < 1)
		return 0;
	o.json = data[0] & 2;
	o.finding_stacks = !o.json;
	if (data[0] & 1) {
		ret = rec_reader_open_mem(&r, data + 1, size - 1, "fuzz.gw", err, sizeof(err));
	} else {
		file = wrap(data + 1, size - 1, &fsize);
		if (!file)
			return 0;
		ret = rec_reader_open_mem(&r, file, fsize, "fuzz.gw", err, sizeof(err));
	}
	if (ret) {
		/* refused: one line naming the byte */
		if (strchr(err, '\n') || !strstr(err, " at byte "))
			abort();
		free(file);
		return 0;
	}
	c = consumer_new(&o);
	if (c) {
		consumer_begin(c, &r.hdr, "report", "fuzz.gw");
		while ((ret = rec_reader_next(&r, &it)) > 0 && !consumer_item(&it, c))
			;
		consumer_end(c, r.truncated ? NULL : r.trl.counters, r.trl.end_mono_ns, &sort, &sites);
		consumer_free(c);
	}
	rec_reader_close(&r);
	free(file);
	return 0;
}
