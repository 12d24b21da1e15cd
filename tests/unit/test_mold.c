// SPDX-License-Identifier: MIT
/*
 * MoldUDP64: packet parsing (malformed kinds), header/request layout, and
 * sequencing: gaps, duplicates, heartbeats, end of session, session change,
 * unsequenced packets, A/B arbitration with its window and overlaps.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fg_cunit.h"
#include "feedgate/mold.h"

#define SESSION "000010059B"

/* --- packet builder ------------------------------------------------------------------------ */

struct pkt {
	uint8_t b[2048];
	size_t len;
};

static void pkt_start(struct pkt *p, const char *session, uint64_t seq, uint16_t count)
{
	memcpy(p->b, session, 10);
	for (int i = 0; i < 8; i++)
		p->b[10 + i] = (uint8_t)(seq >> (56 - 8 * i));
	p->b[18] = (uint8_t)(count >> 8);
	p->b[19] = (uint8_t)count;
	p->len = 20;
}

static void pkt_block(struct pkt *p, uint16_t len, uint8_t fill)
{
	p->b[p->len] = (uint8_t)(len >> 8);
	p->b[p->len + 1] = (uint8_t)len;
	memset(p->b + p->len + 2, fill, len);
	p->len += 2 + (size_t)len;
}

/* Parse from an allocation of exactly len bytes. */
static int parse_exact(const uint8_t *b, size_t len, struct fg_mold_packet *pkt, int *bad)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, b, len);
	*bad = -1;
	rc = fg_mold_parse(copy, len, pkt, bad);
	if (!rc) {
		/* Walk the blocks while the copy is alive (as the pipeline does). */
		struct fg_mold_iter it;
		const uint8_t *m;
		uint16_t l;
		unsigned int n = 0;

		fg_mold_iter_init(&it, pkt);
		while (fg_mold_iter_next(&it, &m, &l))
			n++;
		if (pkt->h.count != 0 && pkt->h.count != 0xffff) {
			CU_ASSERT_EQUAL(n, pkt->h.count);
		}
	}
	free(copy);
	return rc;
}

/* --- parsing ------------------------------------------------------------------------------- */

static void test_parse_good_packet_and_iterate(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	struct fg_mold_iter it;
	const uint8_t *m = NULL;
	uint16_t l;
	int bad;

	pkt_start(&p, SESSION, 14758288, 3);
	pkt_block(&p, 36, 'A');
	pkt_block(&p, 19, 'D');
	pkt_block(&p, 1, 'z');
	CU_ASSERT_EQUAL_FATAL(fg_mold_parse(p.b, p.len, &pkt, &bad), 0);
	CU_ASSERT_EQUAL(memcmp(pkt.h.session, SESSION, 10), 0);
	CU_ASSERT_EQUAL(pkt.h.seq, 14758288);
	CU_ASSERT_EQUAL(pkt.h.count, 3);
	fg_mold_iter_init(&it, &pkt);
	CU_ASSERT(fg_mold_iter_next(&it, &m, &l));
	CU_ASSERT_EQUAL(l, 36);
	CU_ASSERT_EQUAL(m, p.b + 22);
	CU_ASSERT(fg_mold_iter_next(&it, &m, &l));
	CU_ASSERT_EQUAL(l, 19);
	CU_ASSERT_EQUAL(m[0], 'D');
	CU_ASSERT(fg_mold_iter_next(&it, &m, &l));
	CU_ASSERT_EQUAL(l, 1);
	CU_ASSERT_FALSE(fg_mold_iter_next(&it, &m, &l));
}

static void test_parse_short_header_at_every_length(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	int bad;

	pkt_start(&p, SESSION, 1, 0);
	for (size_t len = 0; len < 20; len++) {
		CU_ASSERT_EQUAL(parse_exact(p.b, len, &pkt, &bad), -EBADMSG);
		CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_SHORT_HEADER);
	}
	CU_ASSERT_EQUAL(parse_exact(p.b, 20, &pkt, &bad), 0);
	CU_ASSERT_STRING_EQUAL(fg_mold_bad_name(FG_MOLD_BAD_SHORT_HEADER), "short_header");
}

static void test_parse_truncation_at_every_byte(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	int bad;

	pkt_start(&p, SESSION, 5, 2);
	pkt_block(&p, 19, 'D');
	pkt_block(&p, 12, 'S');
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), 0);
	for (size_t len = 20; len < p.len; len++) {
		CU_ASSERT_EQUAL(parse_exact(p.b, len, &pkt, &bad), -EBADMSG);
		/* Ending exactly between blocks is a count mismatch, anywhere else an overrun. */
		if (len == 20 || len == 20 + 21) {
			CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_COUNT_MISMATCH);
		} else {
			CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_BLOCK_OVERRUN);
		}
	}
}

static void test_parse_block_running_past_payload(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	int bad;

	pkt_start(&p, SESSION, 5, 1);
	pkt_block(&p, 19, 'D');
	p.b[21] = 20; /* claims one byte more than there is */
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_BLOCK_OVERRUN);
	p.b[20] = 0xff; /* and much more */
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_BLOCK_OVERRUN);
}

static void test_parse_count_mismatch(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	int bad;

	/* Count says 3, two blocks present. */
	pkt_start(&p, SESSION, 5, 3);
	pkt_block(&p, 19, 'D');
	pkt_block(&p, 19, 'D');
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_COUNT_MISMATCH);
	/* Count says 1, two blocks present (bytes left over). */
	p.b[19] = 1;
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_COUNT_MISMATCH);
	/* A heartbeat with a block behind it. */
	p.b[19] = 0;
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_COUNT_MISMATCH);
	/* End of session likewise. */
	p.b[18] = 0xff;
	p.b[19] = 0xff;
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_COUNT_MISMATCH);
	CU_ASSERT_EQUAL(parse_exact(p.b, 20, &pkt, &bad), 0);
	CU_ASSERT_EQUAL(pkt.h.count, FG_MOLD_END_OF_SESSION);
}

static void test_parse_empty_block(void)
{
	struct pkt p;
	struct fg_mold_packet pkt;
	int bad;

	pkt_start(&p, SESSION, 5, 2);
	pkt_block(&p, 12, 'S');
	pkt_block(&p, 0, 0);
	CU_ASSERT_EQUAL(parse_exact(p.b, p.len, &pkt, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, FG_MOLD_BAD_EMPTY_BLOCK);
}

static void test_header_and_request_layout(void)
{
	uint8_t out[20];
	static const uint8_t want[20] = {
		'0',  '0',  '0',  '0',	'1',  '0',  '0',  '5',	'9',  'B',
		0x00, 0x00, 0x00, 0x00, 0x00, 0xe1, 0x2f, 0x5a, 0x01, 0x02
	};

	memset(out, 0xee, sizeof(out));
	CU_ASSERT_EQUAL(fg_mold_build_request(out, SESSION, 0xe12f5a, 0x0102), 20);
	CU_ASSERT_EQUAL(memcmp(out, want, 20), 0);
	memset(out, 0xee, sizeof(out));
	CU_ASSERT_EQUAL(fg_mold_write_header(out, SESSION, 0xe12f5a, 0x0102), FG_MOLD_HEADER_LEN);
	CU_ASSERT_EQUAL(memcmp(out, want, 20), 0);
}

/* --- sequencing ---------------------------------------------------------------------------- */

#define MAX_GAPS 32

struct gaps {
	unsigned int n;
	struct fg_mold_gap g[MAX_GAPS];
};

static void on_gap(void *ctx, const struct fg_mold_gap *g)
{
	struct gaps *gs = ctx;

	if (gs->n < MAX_GAPS)
		gs->g[gs->n] = *g;
	gs->n++;
}

static struct fg_mold_seq *seq_new(uint64_t window, struct gaps *gs)
{
	struct fg_mold_seq *s = malloc(sizeof(*s));

	memset(gs, 0, sizeof(*gs));
	fg_mold_seq_init(s, 7, window, on_gap, gs);
	return s;
}

static unsigned int feed(struct fg_mold_seq *s, const char *session, uint64_t seq, uint16_t count,
			 uint64_t now, struct fg_mold_run *runs)
{
	struct fg_mold_header h;

	memcpy(h.session, session, 10);
	h.seq = seq;
	h.count = count;
	return fg_mold_seq_packet(s, &h, now, runs);
}

static void test_seq_in_order_delivers_everything(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	CU_ASSERT_EQUAL(feed(s, SESSION, 100, 3, 0, r), 1);
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 3);
	CU_ASSERT_EQUAL(feed(s, SESSION, 103, 5, 0, r), 1);
	CU_ASSERT_EQUAL(r[0].count, 5);
	CU_ASSERT_EQUAL(s->next, 108);
	CU_ASSERT_EQUAL(s->st.messages, 8);
	CU_ASSERT_EQUAL(gs.n, 0);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 0);
	free(s);
}

static void test_seq_gap_reports_missing_range(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 2, 0, r);
	CU_ASSERT_EQUAL(feed(s, SESSION, 10, 2, 0, r), 1);
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 2);
	CU_ASSERT_EQUAL_FATAL(gs.n, 1);
	CU_ASSERT_EQUAL(gs.g[0].first, 3);
	CU_ASSERT_EQUAL(gs.g[0].last, 9);
	CU_ASSERT_EQUAL(gs.g[0].stream, 7);
	CU_ASSERT_EQUAL(memcmp(gs.g[0].session, SESSION, 10), 0);
	CU_ASSERT_EQUAL(s->st.gaps, 1);
	CU_ASSERT_EQUAL(s->st.gap_messages, 7);
	CU_ASSERT_EQUAL(s->next, 12);
	/* Without a window a late copy is just a duplicate. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 3, 7, 0, r), 0);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 7);
	free(s);
}

static void test_seq_duplicates_whole_and_partial(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 10, 0, r);
	/* Whole packet again. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 1, 10, 0, r), 0);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 10);
	CU_ASSERT_EQUAL(s->st.duplicate_packets, 1);
	/* Overlap: 8..12, of which 8..10 were seen: indexes 3 and 4 are new. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 8, 5, 0, r), 1);
	CU_ASSERT_EQUAL(r[0].first, 3);
	CU_ASSERT_EQUAL(r[0].count, 2);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 13);
	CU_ASSERT_EQUAL(s->st.duplicate_packets, 1);
	CU_ASSERT_EQUAL(s->next, 13);
	CU_ASSERT_EQUAL(s->st.messages, 12);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

static void test_seq_heartbeat(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 4, 0, r);
	/* A heartbeat carries the next expected number: nothing missing. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 5, 0, 0, r), 0);
	CU_ASSERT_EQUAL(gs.n, 0);
	CU_ASSERT_EQUAL(s->st.heartbeats, 1);
	/* A heartbeat ahead of us: 5..7 were lost. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 8, 0, 0, r), 0);
	CU_ASSERT_EQUAL_FATAL(gs.n, 1);
	CU_ASSERT_EQUAL(gs.g[0].first, 5);
	CU_ASSERT_EQUAL(gs.g[0].last, 7);
	CU_ASSERT_EQUAL(s->next, 8);
	CU_ASSERT_EQUAL(s->st.heartbeats, 2);
	/* A stale heartbeat changes nothing. */
	feed(s, SESSION, 3, 0, 0, r);
	CU_ASSERT_EQUAL(s->next, 8);
	CU_ASSERT_EQUAL(gs.n, 1);
	free(s);
}

static void test_seq_end_of_session(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 4, 0, r);
	CU_ASSERT_EQUAL(feed(s, SESSION, 5, FG_MOLD_END_OF_SESSION, 0, r), 0);
	CU_ASSERT_EQUAL(s->ended, 1);
	CU_ASSERT_EQUAL(s->st.end_of_session, 1);
	/* Repeated end-of-session packets are counted once per session. */
	feed(s, SESSION, 5, FG_MOLD_END_OF_SESSION, 0, r);
	CU_ASSERT_EQUAL(s->st.end_of_session, 1);
	CU_ASSERT_EQUAL(s->st.packets, 3);
	CU_ASSERT_EQUAL(gs.n, 0);
	/* An end of session beyond what we have means the tail was lost. */
	free(s);
	s = seq_new(0, &gs);
	feed(s, SESSION, 1, 4, 0, r);
	feed(s, SESSION, 9, FG_MOLD_END_OF_SESSION, 0, r);
	CU_ASSERT_EQUAL_FATAL(gs.n, 1);
	CU_ASSERT_EQUAL(gs.g[0].first, 5);
	CU_ASSERT_EQUAL(gs.g[0].last, 8);
	free(s);
}

static void test_seq_session_change_resets(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 500, 4, 0, r);
	feed(s, SESSION, 504, FG_MOLD_END_OF_SESSION, 0, r);
	/* The next session starts over at 1: no gap, no duplicate. */
	CU_ASSERT_EQUAL(feed(s, "000010060A", 1, 3, 0, r), 1);
	CU_ASSERT_EQUAL(r[0].count, 3);
	CU_ASSERT_EQUAL(s->st.session_changes, 1);
	CU_ASSERT_EQUAL(memcmp(s->session, "000010060A", 10), 0);
	CU_ASSERT_EQUAL(s->next, 4);
	CU_ASSERT_EQUAL(s->ended, 0);
	CU_ASSERT_EQUAL(gs.n, 0);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 0);
	free(s);
}

static void test_seq_zero_is_unsequenced(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(0, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(feed(s, "          ", 0, 1, 0, r), 1);
		CU_ASSERT_EQUAL(r[0].count, 1);
	}
	CU_ASSERT_EQUAL(s->st.unsequenced_packets, 5);
	CU_ASSERT_EQUAL(s->st.messages, 5);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 0);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

/* Two lines into one stream: the first copy wins, the other is a duplicate. */
static void test_arbitration_first_copy_wins(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	CU_ASSERT_EQUAL(feed(s, SESSION, 1, 5, 10, r), 1); /* A */
	CU_ASSERT_EQUAL(feed(s, SESSION, 1, 5, 12, r), 0); /* B, same */
	CU_ASSERT_EQUAL(feed(s, SESSION, 6, 5, 20, r), 1); /* B first this time */
	CU_ASSERT_EQUAL(feed(s, SESSION, 6, 5, 21, r), 0); /* A */
	CU_ASSERT_EQUAL(s->st.messages, 10);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 10);
	CU_ASSERT_EQUAL(s->st.duplicate_packets, 2);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

/* A packet lost on A but delivered by B within the window: no gap. */
static void test_arbitration_hole_filled_by_other_line(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 5, 0, r); /* A: 1..5 */
	CU_ASSERT_EQUAL(feed(s, SESSION, 11, 5, 100, r), 1); /* A: 11..15, 6..10 lost on A */
	CU_ASSERT_EQUAL(s->nholes, 1);
	CU_ASSERT_EQUAL(gs.n, 0);
	feed(s, SESSION, 1, 5, 150, r); /* B: 1..5, duplicate */
	CU_ASSERT_EQUAL(feed(s, SESSION, 6, 5, 200, r), 1); /* B: 6..10 fills the hole */
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 5);
	CU_ASSERT_EQUAL(feed(s, SESSION, 11, 5, 210, r), 0); /* B: 11..15, duplicate */
	CU_ASSERT_EQUAL(s->nholes, 0);
	fg_mold_seq_expire(s, 100000);
	fg_mold_seq_flush(s);
	CU_ASSERT_EQUAL(gs.n, 0);
	CU_ASSERT_EQUAL(s->st.messages, 15);
	CU_ASSERT_EQUAL(s->st.filled_messages, 5);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 10);
	free(s);
}

/* Missing on both lines: reported once the window has passed, not before. */
static void test_arbitration_gap_only_after_window(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 5, 0, r); /* A */
	feed(s, SESSION, 11, 5, 100, r); /* A: 6..10 missing */
	feed(s, SESSION, 1, 5, 120, r); /* B */
	feed(s, SESSION, 11, 5, 130, r); /* B: 6..10 missing there too */
	fg_mold_seq_expire(s, 1099);
	CU_ASSERT_EQUAL(gs.n, 0);
	fg_mold_seq_expire(s, 1100);
	CU_ASSERT_EQUAL_FATAL(gs.n, 1);
	CU_ASSERT_EQUAL(gs.g[0].first, 6);
	CU_ASSERT_EQUAL(gs.g[0].last, 10);
	/* A copy after the window is a duplicate, not a fill. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 6, 5, 1200, r), 0);
	CU_ASSERT_EQUAL(s->st.filled_messages, 0);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 15);
	/* The next packet's arrival also expires holes, without an explicit call. */
	feed(s, SESSION, 20, 1, 1300, r); /* 16..19 missing */
	feed(s, SESSION, 21, 1, 2300, r);
	CU_ASSERT_EQUAL_FATAL(gs.n, 2);
	CU_ASSERT_EQUAL(gs.g[1].first, 16);
	CU_ASSERT_EQUAL(gs.g[1].last, 19);
	free(s);
}

/* Packets that partly overlap holes and the head: handled message by message. */
static void test_arbitration_partial_overlap(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 10, 0, r); /* A: 1..10 */
	feed(s, SESSION, 21, 10, 1, r); /* A: 21..30, hole 11..20 */
	feed(s, SESSION, 41, 5, 2, r); /* A: 41..45, hole 31..40 */
	CU_ASSERT_EQUAL(s->nholes, 2);
	/* B: 14..16, strictly inside the first hole: splits it. */
	CU_ASSERT_EQUAL(feed(s, SESSION, 14, 3, 3, r), 1);
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 3);
	CU_ASSERT_EQUAL(s->nholes, 3);
	/* B: 9..50 covers: 9,10 dup; 11..13 fill; 14..16 dup; 17..20 fill; 21..30 dup;
	 * 31..40 fill; 41..45 dup; 46..50 new. */
	CU_ASSERT_EQUAL_FATAL(feed(s, SESSION, 9, 42, 4, r), 4);
	CU_ASSERT_EQUAL(r[0].first, 2); /* seq 11 */
	CU_ASSERT_EQUAL(r[0].count, 3);
	CU_ASSERT_EQUAL(r[1].first, 8); /* seq 17 */
	CU_ASSERT_EQUAL(r[1].count, 4);
	CU_ASSERT_EQUAL(r[2].first, 22); /* seq 31 */
	CU_ASSERT_EQUAL(r[2].count, 10);
	CU_ASSERT_EQUAL(r[3].first, 37); /* seq 46 */
	CU_ASSERT_EQUAL(r[3].count, 5);
	CU_ASSERT_EQUAL(s->nholes, 0);
	CU_ASSERT_EQUAL(s->next, 51);
	CU_ASSERT_EQUAL(s->st.messages, 50);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 2 + 3 + 10 + 5);
	fg_mold_seq_flush(s);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

/* A fill that ends exactly where new messages begin comes back as one run. */
static void test_arbitration_fill_and_new_merge_into_one_run(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 2, 0, r);
	feed(s, SESSION, 5, 0, 0, r); /* heartbeat: hole 3..4, next 5 */
	CU_ASSERT_EQUAL(s->nholes, 1);
	CU_ASSERT_EQUAL_FATAL(feed(s, SESSION, 3, 4, 1, r), 1); /* 3,4 fill + 5,6 new */
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 4);
	CU_ASSERT_EQUAL(s->nholes, 0);
	/* With a duplicate between them they stay two runs. */
	feed(s, SESSION, 9, 1, 2, r); /* hole 7..8, next 10 */
	CU_ASSERT_EQUAL_FATAL(feed(s, SESSION, 7, 5, 3, r), 2); /* 7,8 fill; 9 dup; 10,11 new */
	CU_ASSERT_EQUAL(r[0].first, 0);
	CU_ASSERT_EQUAL(r[0].count, 2);
	CU_ASSERT_EQUAL(r[1].first, 3);
	CU_ASSERT_EQUAL(r[1].count, 2);
	CU_ASSERT_EQUAL(s->st.duplicate_messages, 1);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

/* More holes than the table holds: the oldest is reported early, nothing is lost. */
static void test_arbitration_hole_table_overflow(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];
	uint64_t seq = 1;

	for (int i = 0; i < FG_MOLD_MAX_HOLES + 3; i++) {
		feed(s, SESSION, seq, 1, (uint64_t)i, r);
		seq += 2; /* one missing after each */
	}
	CU_ASSERT_EQUAL(s->nholes, FG_MOLD_MAX_HOLES);
	CU_ASSERT_EQUAL(s->st.hole_overflows, 2);
	CU_ASSERT_EQUAL(gs.n, 2);
	CU_ASSERT_EQUAL(gs.g[0].first, 2);
	CU_ASSERT_EQUAL(gs.g[0].last, 2);
	fg_mold_seq_flush(s);
	CU_ASSERT_EQUAL(s->st.gaps, FG_MOLD_MAX_HOLES + 2);
	CU_ASSERT_EQUAL(s->st.gap_messages, FG_MOLD_MAX_HOLES + 2);
	free(s);
}

/* A session change flushes the old session's holes as gaps of that session. */
static void test_arbitration_session_change_flushes_holes(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 1, 1, 0, r);
	feed(s, SESSION, 5, 1, 0, r); /* hole 2..4 */
	feed(s, "000010060A", 1, 1, 1, r);
	CU_ASSERT_EQUAL_FATAL(gs.n, 1);
	CU_ASSERT_EQUAL(memcmp(gs.g[0].session, SESSION, 10), 0);
	CU_ASSERT_EQUAL(gs.g[0].first, 2);
	CU_ASSERT_EQUAL(gs.g[0].last, 4);
	CU_ASSERT_EQUAL(s->nholes, 0);
	free(s);
}

/* After a change, the other line's late packets of the old session are stale, not a change back. */
static void test_arbitration_old_session_packets_are_stale(void)
{
	struct gaps gs;
	struct fg_mold_seq *s = seq_new(1000, &gs);
	struct fg_mold_run r[FG_MOLD_MAX_RUNS];

	feed(s, SESSION, 7, 3, 0, r); /* A and B: old session */
	feed(s, "000010060A", 1, 2, 1, r); /* A moved on */
	CU_ASSERT_EQUAL(feed(s, SESSION, 10, 2, 2, r), 0); /* B is late */
	CU_ASSERT_EQUAL(s->st.stale_packets, 1);
	CU_ASSERT_EQUAL(s->st.session_changes, 1);
	CU_ASSERT_EQUAL(feed(s, "000010060A", 1, 3, 3, r), 1); /* B catches up: 1,2 dup, 3 new */
	CU_ASSERT_EQUAL(r[0].first, 2);
	CU_ASSERT_EQUAL(s->next, 4);
	CU_ASSERT_EQUAL(s->st.session_changes, 1);
	CU_ASSERT_EQUAL(gs.n, 0);
	free(s);
}

static const struct fg_test tests[] = {
	FG_TEST(test_parse_good_packet_and_iterate),
	FG_TEST(test_parse_short_header_at_every_length),
	FG_TEST(test_parse_truncation_at_every_byte),
	FG_TEST(test_parse_block_running_past_payload),
	FG_TEST(test_parse_count_mismatch),
	FG_TEST(test_parse_empty_block),
	FG_TEST(test_header_and_request_layout),
	FG_TEST(test_seq_in_order_delivers_everything),
	FG_TEST(test_seq_gap_reports_missing_range),
	FG_TEST(test_seq_duplicates_whole_and_partial),
	FG_TEST(test_seq_heartbeat),
	FG_TEST(test_seq_end_of_session),
	FG_TEST(test_seq_session_change_resets),
	FG_TEST(test_seq_zero_is_unsequenced),
	FG_TEST(test_arbitration_first_copy_wins),
	FG_TEST(test_arbitration_hole_filled_by_other_line),
	FG_TEST(test_arbitration_gap_only_after_window),
	FG_TEST(test_arbitration_partial_overlap),
	FG_TEST(test_arbitration_fill_and_new_merge_into_one_run),
	FG_TEST(test_arbitration_hole_table_overflow),
	FG_TEST(test_arbitration_session_change_flushes_holes),
	FG_TEST(test_arbitration_old_session_packets_are_stale),
};

FG_TEST_MAIN("mold", tests, NULL, NULL)
