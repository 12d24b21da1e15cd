// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: MoldUDP64 + ITCH 5.0 decoding, and the pipeline around them.
 * One input is used three ways:
 *   1. as a MoldUDP64 payload: parse, walk the blocks, decode each message and
 *      print it as JSON; sequence the header against a stream that already saw
 *      a few packets (with and without an arbitration window);
 *   2. as one frame (Ethernet, then again as an L3 frame) through a pipeline
 *      with a symbol filter, arbitration, books and decode output;
 *   3. as a BinaryFILE-like stream of u16-prefixed messages through the raw entry.
 * Nothing may read out of bounds (ASan) or hit undefined behaviour (UBSan), and
 * the counters must add up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "feedgate/pipeline.h"

static FILE *devnull;

static void on_gap(void *ctx, const struct fg_mold_gap *g)
{
	(void)ctx;
	if (g->last < g->first)
		abort();
}

static void as_mold_payload(const uint8_t *data, size_t size)
{
	struct fg_mold_packet pkt;
	struct fg_mold_iter it;
	struct fg_mold_run runs[FG_MOLD_MAX_RUNS];
	struct fg_mold_seq *s;
	struct fg_itch_msg m;
	char json[FG_ITCH_JSON_MAX];
	const uint8_t *msg;
	uint16_t len;
	unsigned int n = 0, nr, covered = 0;
	int bad;

	if (fg_mold_parse(data, size, &pkt, &bad)) {
		if (bad < 0 || bad >= FG_MOLD_BAD_NKINDS)
			abort();
		return;
	}
	fg_mold_iter_init(&it, &pkt);
	while (fg_mold_iter_next(&it, &msg, &len)) {
		if (msg < data || msg + len > data + size)
			abort();
		if (!fg_itch_decode(msg, len, &m) &&
		    fg_itch_to_json(&m, pkt.h.seq, json, sizeof(json)) < 0)
			abort();
		n++;
	}
	if (pkt.h.count != FG_MOLD_HEARTBEAT && pkt.h.count != FG_MOLD_END_OF_SESSION &&
	    n != pkt.h.count)
		abort();

	for (int w = 0; w < 2; w++) {
		struct fg_mold_header h = pkt.h;

		s = malloc(sizeof(*s));
		fg_mold_seq_init(s, 0, w ? 1000 : 0, on_gap, NULL);
		/* A stream that saw 100..109 and 120..129 of the same session. */
		h.seq = 100;
		h.count = 10;
		fg_mold_seq_packet(s, &h, 0, runs);
		h.seq = 120;
		fg_mold_seq_packet(s, &h, 1, runs);
		nr = fg_mold_seq_packet(s, &pkt.h, 2, runs);
		for (unsigned int r = 0; r < nr; r++) {
			if (runs[r].count == 0 || runs[r].first + runs[r].count > pkt.h.count)
				abort();
			if (r && runs[r].first < runs[r - 1].first + runs[r - 1].count)
				abort();
			covered += runs[r].count;
		}
		fg_mold_seq_expire(s, 500);
		fg_mold_seq_flush(s);
		if (s->nholes)
			abort();
		free(s);
	}
	(void)covered;
}

static void through_pipeline(const uint8_t *data, size_t size)
{
	static const char *const pairs[] = { "233.54.12.111:26477=239.2.1.1:5000" };
	struct fg_pipeline_config cfg = {
		.symbols = "META,AAPL,IVOO",
		.arbitrate = pairs,
		.narbitrate = 1,
		.gap_window_ns = 1000,
		.books = 1,
		.order_capacity = 256,
		.decode = devnull,
	};
	struct fg_pipeline *p;
	struct fg_frame f[2];
	const struct fg_pipeline_stats *st;
	const uint8_t *msgs[64];
	uint16_t lens[64];
	unsigned int n = 0;
	size_t off = 0;

	if (fg_pipeline_new(&cfg, &p))
		abort();
	memset(f, 0, sizeof(f));
	f[0].data = data;
	f[0].len = (uint32_t)size;
	f[0].take_ns = 1;
	f[1] = f[0];
	f[1].l3 = 1;
	f[1].take_ns = 2000;
	fg_pipeline_frames(p, f, 2);
	fg_pipeline_frames(p, f, 1); /* the same again: duplicates */
	fg_pipeline_idle(p, 10000);

	while (off + 2 <= size && n < 64) {
		uint16_t l = (uint16_t)(data[off] << 8 | data[off + 1]);

		if (size - off - 2 < l)
			break;
		msgs[n] = data + off + 2;
		lens[n++] = l;
		off += 2 + (size_t)l;
	}
	fg_pipeline_raw(p, msgs, lens, n);
	fg_pipeline_finish(p);
	st = fg_pipeline_stats(p);
	if (st->frames != 3 || st->decoded > st->selected || st->selected > st->messages)
		abort();
	fg_pipeline_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	as_mold_payload(data, size);
	through_pipeline(data, size);
	return 0;
}
