// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: MoldUDP64 + ITCH 5.0 decoding, and the pipeline around them.
 * One input is used three ways:
 *   1. as a MoldUDP64 payload: parse, walk the blocks, decode each message and
 *      print it as JSON; sequence the header against a stream that already saw
 *      a few packets (with and without an arbitration window);
 *   2. as one frame (Ethernet, then again as an L3 frame) through a pipeline
 *      with a symbol filter, arbitration, books and decode output;
 *   3. as a BinaryFILE-like stream of u16-prefixed messages through the raw entry;
 *   4. as a script for the per-feed sequencer: packets on two lines, server
 *      replies, timer ticks and session changes in any order; what comes out
 *      must be each sequence number at most once, in increasing order per
 *      session, with every gap event clear of the delivered messages.
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
#include "feedgate/seqr.h"

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

/* --- 4. the sequencer ------------------------------------------------------------------- */

static struct {
	uint64_t last; /* last sequence number delivered in this session (0: none) */
	uint64_t gap_last; /* last number covered by a gap */
	uint8_t rr; /* a server is configured */
} sq;

static void sq_message(void *ctx, uint64_t seq, const uint8_t *msg, uint16_t len, unsigned int line,
		       bool in_packet)
{
	(void)ctx;
	(void)msg;
	(void)in_packet;
	if (line >= FG_SEQR_MAX_LINES || (len && !msg))
		abort();
	if (!seq) /* unsequenced: passed as they come */
		return;
	if (seq <= sq.last || seq <= sq.gap_last)
		abort(); /* twice, or out of order, or inside a reported gap */
	sq.last = seq;
}

static void sq_gap(void *ctx, const struct fg_seqr_gap *g)
{
	(void)ctx;
	if (g->last < g->first)
		abort();
	if (g->state == FG_SEQR_UNRECOVERED) {
		if (g->first <= sq.last || g->first <= sq.gap_last)
			abort(); /* an unrecovered gap comes before what follows it */
		sq.gap_last = g->last;
	} else if (g->last > sq.last || !sq.rr) {
		abort(); /* a recovered one follows its messages, and needs a server */
	}
}

static void sq_session(void *ctx, const char *prev, const char *session)
{
	(void)ctx;
	(void)prev;
	(void)session;
	sq.last = sq.gap_last = 0;
}

static int sq_send(void *ctx, const uint8_t *req, unsigned int len)
{
	(void)ctx;
	(void)req;
	return len == FG_MOLD_REQUEST_LEN ? 0 : (abort(), 0);
}

static void as_seqr_script(const uint8_t *data, size_t size)
{
	struct fg_seqr_config c = { .hold = 64,
				    .gap_wait_ns = 10,
				    .retry_ns = 20,
				    .retries = 2,
				    .max_inflight = 3,
				    .max_request = 5,
				    .send_request = sq_send,
				    .on_message = sq_message,
				    .on_gap = sq_gap,
				    .on_session = sq_session };
	static uint8_t pkt[FG_MOLD_HEADER_LEN + 40 * 3];
	struct fg_seqr *s;
	uint64_t now = 0;

	if (size < 1)
		return;
	memset(&sq, 0, sizeof(sq));
	sq.rr = data[0] & 1;
	c.rerequest = sq.rr;
	if (fg_seqr_new(&c, &s))
		abort();
	/* 4 bytes a step: op, sequence number (low byte + 1), count, time step */
	for (size_t i = 1; i + 4 <= size; i += 4) {
		const char *session = (data[i] & 0x40) ? "SESSION002" : "SESSION001";
		uint64_t seq = 1 + data[i + 1] + ((uint64_t)(data[i] & 0x30) << 4);
		uint16_t count = data[i + 2] % 40;
		struct fg_mold_packet mp;
		uint8_t *q;
		int bad;

		now += data[i + 3];
		if ((data[i] & 7) == 7) {
			fg_seqr_tick(s, now);
			continue;
		}
		if ((data[i] & 7) == 6)
			count = data[i + 2] & 1 ? FG_MOLD_HEARTBEAT : FG_MOLD_END_OF_SESSION;
		q = pkt + fg_mold_write_header(pkt, session, seq, count);
		for (uint16_t k = 0; count != FG_MOLD_END_OF_SESSION && k < count; k++) {
			q[0] = 0;
			q[1] = 1;
			q[2] = 'S';
			q += 3;
		}
		if ((data[i] & 7) == 5) {
			fg_seqr_reply(s, pkt, (unsigned int)(q - pkt), now);
			continue;
		}
		if (fg_mold_parse(pkt, (size_t)(q - pkt), &mp, &bad))
			abort();
		fg_seqr_packet(s, data[i] & 1, &mp, now);
	}
	fg_seqr_flush(s, NULL);
	if (fg_seqr_holding(s))
		abort();
	fg_seqr_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	as_mold_payload(data, size);
	through_pipeline(data, size);
	as_seqr_script(data, size);
	return 0;
}
