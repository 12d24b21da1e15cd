// SPDX-License-Identifier: MIT
/*
 * The per-feed sequencer (user/lib/fg_seqr.c): A/B lines, the hold buffer,
 * re-requests and their replies, gaps, sessions. Every case checks the
 * delivered stream as a whole: each message once, in order, with the gap
 * events at their places.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "feedgate/seqr.h"
#include "fg_cunit.h"
#include "fg_rrsrv.h"

#define MAXEV 200000

/* What came out, in order: a message (seq) or a gap event. */
struct ev {
	char kind; /* 'm' message, 'g' unrecovered gap, 'r' recovered gap, 's' session */
	uint64_t a, b;
	unsigned int line;
	int in_packet;
	uint8_t tag; /* the message's payload byte: seq & 0xff */
};

static struct ev evs[MAXEV];
static unsigned int nev;
static uint8_t reqs[256][FG_MOLD_REQUEST_LEN];
static unsigned int nreq, fail_sends;
static const char *last_why;

static void on_message(void *ctx, uint64_t seq, const uint8_t *msg, uint16_t len, unsigned int line,
		       bool in_packet)
{
	(void)ctx;
	if (nev < MAXEV)
		evs[nev++] = (struct ev){ 'm', seq, seq, line, in_packet, len > 1 ? msg[1] : 0 };
}

static void on_gap(void *ctx, const struct fg_seqr_gap *g)
{
	(void)ctx;
	last_why = g->why;
	if (nev < MAXEV)
		evs[nev++] = (struct ev){
			g->state == FG_SEQR_RECOVERED ? 'r' : 'g', g->first, g->last, 0, 0, 0
		};
}

static void on_session(void *ctx, const char *prev, const char *session)
{
	(void)ctx;
	(void)session;
	if (nev < MAXEV)
		evs[nev++] = (struct ev){ 's', prev != NULL, 0, 0, 0, 0 };
}

static int send_request(void *ctx, const uint8_t *req, unsigned int len)
{
	(void)ctx;
	if (fail_sends) {
		fail_sends--;
		return -ENETUNREACH;
	}
	if (nreq < 256 && len == FG_MOLD_REQUEST_LEN)
		memcpy(reqs[nreq++], req, len);
	return 0;
}

/* A MoldUDP64 packet of count messages from seq on (count 0: heartbeat). */
static size_t mkpkt(uint8_t *buf, const char *session, uint64_t seq, uint16_t count)
{
	uint8_t *p = buf + fg_mold_write_header(buf, session, seq, count);

	for (uint16_t i = 0; i < count && count != FG_MOLD_END_OF_SESSION; i++) {
		p[0] = 0;
		p[1] = 12;
		p[2] = 'S';
		p[3] = (uint8_t)(seq + i); /* the tag on_message reads back */
		memset(p + 4, 0, 10);
		p += 14;
	}
	return (size_t)(p - buf);
}

static void feed(struct fg_seqr *s, unsigned int line, const char *session, uint64_t seq,
		 uint16_t count, uint64_t now)
{
	static uint8_t buf[65536];
	struct fg_mold_packet pkt;
	size_t len = mkpkt(buf, session, seq, count);
	int bad;

	CU_ASSERT_FATAL(fg_mold_parse(buf, len, &pkt, &bad) == 0);
	fg_seqr_packet(s, line, &pkt, now);
}

static void reply(struct fg_seqr *s, const char *session, uint64_t seq, uint16_t count,
		  uint64_t now)
{
	static uint8_t buf[65536];
	size_t len = mkpkt(buf, session, seq, count);

	fg_seqr_reply(s, buf, (unsigned int)len, now);
}

static struct fg_seqr *mk(uint32_t hold, bool rerequest)
{
	struct fg_seqr_config c = {
		.hold = hold,
		.gap_wait_ns = 1000,
		.retry_ns = 10000,
		.retries = 2,
		.max_inflight = 4,
		.max_request = 10,
		.rerequest = rerequest,
		.send_request = send_request,
		.on_message = on_message,
		.on_gap = on_gap,
		.on_session = on_session,
	};
	struct fg_seqr *s = NULL;

	nev = nreq = fail_sends = 0;
	CU_ASSERT_FATAL(fg_seqr_new(&c, &s) == 0);
	return s;
}

/* The messages delivered are exactly from..to, each once, in order, with
 * their own payload; gap events are allowed between them. */
static int stream_is(uint64_t from, uint64_t to)
{
	uint64_t want = from;

	for (unsigned int i = 0; i < nev; i++) {
		if (evs[i].kind != 'm')
			continue;
		if (evs[i].a != want || evs[i].tag != (uint8_t)want) {
			printf("\n    message %u: seq %llu, want %llu", i,
			       (unsigned long long)evs[i].a, (unsigned long long)want);
			return 0;
		}
		want++;
	}
	if (want != to + 1) {
		printf("\n    stream ended at %llu, want %llu", (unsigned long long)want - 1,
		       (unsigned long long)to);
		return 0;
	}
	return 1;
}

/* Index of the first event of kind with a == first, or -1. */
static int find_ev(char kind, uint64_t first)
{
	for (unsigned int i = 0; i < nev; i++)
		if (evs[i].kind == kind && evs[i].a == first)
			return (int)i;
	return -1;
}

static int find_msg(uint64_t seq)
{
	return find_ev('m', seq);
}

static void test_seqr_one_line_in_order_is_delivered_from_the_packet(void)
{
	struct fg_seqr *s = mk(64, false);

	for (uint64_t q = 1; q <= 100; q += 4)
		feed(s, 0, "SESSION001", q, 4, q);
	CU_ASSERT(stream_is(1, 100));
	for (unsigned int i = 0; i < nev; i++)
		if (evs[i].kind == 'm')
			CU_ASSERT(evs[i].in_packet);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->held, 0);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->line[0].messages, 100);
	fg_seqr_free(s);
}

static void test_seqr_two_lines_first_copy_wins_and_the_other_is_a_duplicate(void)
{
	struct fg_seqr *s = mk(64, false);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);

	for (uint64_t q = 1; q <= 40; q += 4) {
		feed(s, 0, "SESSION001", q, 4, q);
		feed(s, 1, "SESSION001", q, 4, q);
	}
	CU_ASSERT(stream_is(1, 40));
	CU_ASSERT_EQUAL(st->line[0].messages, 40);
	CU_ASSERT_EQUAL(st->line[1].duplicates, 40);
	CU_ASSERT_EQUAL(st->line[1].messages, 0);
	fg_seqr_free(s);
}

static void test_seqr_reordering_between_lines_is_put_back_in_order(void)
{
	struct fg_seqr *s = mk(64, false);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);

	/* A loses 5-8; B is late by a packet and brings them. */
	feed(s, 0, "SESSION001", 1, 4, 10);
	feed(s, 0, "SESSION001", 9, 4, 20); /* held: 5-8 missing */
	CU_ASSERT(stream_is(1, 4));
	feed(s, 1, "SESSION001", 1, 4, 25);
	feed(s, 1, "SESSION001", 5, 4, 30); /* fills, 9-12 follow */
	feed(s, 1, "SESSION001", 9, 4, 35);
	CU_ASSERT(stream_is(1, 12));
	CU_ASSERT_EQUAL(find_ev('g', 5), -1);
	CU_ASSERT_EQUAL(st->held, 8);
	CU_ASSERT_EQUAL(st->line[0].messages, 8);
	CU_ASSERT_EQUAL(st->line[1].messages, 4);
	CU_ASSERT_EQUAL(st->line[1].duplicates, 8);
	CU_ASSERT_EQUAL(fg_seqr_holding(s), 0);
	fg_seqr_free(s);
}

static void test_seqr_hole_on_both_lines_without_server_is_one_precise_gap(void)
{
	struct fg_seqr *s = mk(64, false);
	int g, m;

	feed(s, 0, "SESSION001", 1, 4, 0);
	feed(s, 0, "SESSION001", 11, 2, 10);
	feed(s, 1, "SESSION001", 11, 2, 20);
	fg_seqr_tick(s, 500); /* within the wait: nothing given up */
	CU_ASSERT_EQUAL(find_ev('g', 5), -1);
	fg_seqr_tick(s, 2000);
	g = find_ev('g', 5);
	m = find_msg(11);
	CU_ASSERT_FATAL(g >= 0 && m >= 0);
	CU_ASSERT(g < m && evs[g].b == 10); /* the gap comes before what follows it */
	CU_ASSERT(last_why && !strcmp(last_why, "no server"));
	/* 1-4 and 11-12: exactly those, in order */
	CU_ASSERT(find_msg(4) < g && find_msg(5) < 0);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->msgs_unrecovered, 6);
	fg_seqr_free(s);
}

static void test_seqr_rerequest_recovers_and_reports_after_the_range(void)
{
	struct fg_seqr *s = mk(64, true);
	int r, m;

	feed(s, 0, "SESSION001", 1, 4, 0);
	feed(s, 0, "SESSION001", 9, 4, 100);
	fg_seqr_tick(s, 1200);
	CU_ASSERT_FATAL(nreq == 1);
	CU_ASSERT(fg_load_be64(reqs[0] + 10) == 5 && fg_load_be16(reqs[0] + 18) == 4);
	CU_ASSERT(!memcmp(reqs[0], "SESSION001", 10));
	reply(s, "SESSION001", 5, 4, 3000);
	CU_ASSERT(stream_is(1, 12));
	r = find_ev('r', 5);
	m = find_msg(8);
	CU_ASSERT_FATAL(r >= 0 && m >= 0);
	CU_ASSERT(evs[r].b == 8 && r > m && r < find_msg(9));
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->reply_messages, 4);
	CU_ASSERT(fg_seqr_recovery_ns(s, 50) >= 2800 && fg_seqr_recovery_ns(s, 50) <= 3100);
	fg_seqr_free(s);
}

static void test_seqr_requests_are_split_and_capped_in_flight(void)
{
	struct fg_seqr *s = mk(1024, true);

	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 102, 1, 0); /* 2-101 missing: 10 requests of 10 */
	fg_seqr_tick(s, 2000);
	CU_ASSERT_EQUAL(nreq, 4); /* max_inflight */
	for (unsigned int i = 0; i < nreq; i++) {
		CU_ASSERT_EQUAL(fg_load_be64(reqs[i] + 10), 2 + 10 * i);
		CU_ASSERT_EQUAL(fg_load_be16(reqs[i] + 18), 10);
	}
	/* the four answered: the rest is asked at once */
	reply(s, "SESSION001", 2, 10, 3000);
	reply(s, "SESSION001", 12, 10, 3000);
	reply(s, "SESSION001", 22, 10, 3000);
	reply(s, "SESSION001", 32, 10, 3000);
	fg_seqr_tick(s, 3001);
	CU_ASSERT_EQUAL(nreq, 8);
	CU_ASSERT_EQUAL(fg_load_be64(reqs[4] + 10), 42);
	for (uint64_t q = 42; q < 102; q += 10)
		reply(s, "SESSION001", q, 10, 4000);
	fg_seqr_tick(s, 4001);
	CU_ASSERT(stream_is(1, 102));
	CU_ASSERT(find_ev('g', 2) < 0);
	fg_seqr_free(s);
}

static void test_seqr_partial_reply_recovers_the_front_and_reports_the_rest(void)
{
	struct fg_seqr *s = mk(64, true);
	int r, g;

	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 11, 1, 0); /* 2-10 missing */
	fg_seqr_tick(s, 2000);
	CU_ASSERT_EQUAL(nreq, 1);
	reply(s, "SESSION001", 2, 3, 2500); /* only 2-4 */
	for (uint64_t t = 2600; t < 200000; t += 5000)
		fg_seqr_tick(s, t); /* retries: no more replies */
	CU_ASSERT(nreq >= 3);
	r = find_ev('r', 2);
	g = find_ev('g', 5);
	CU_ASSERT_FATAL(r >= 0 && g >= 0);
	CU_ASSERT(evs[r].b == 4 && evs[g].b == 10);
	CU_ASSERT(find_msg(4) < r && r < g && g < find_msg(11));
	CU_ASSERT(last_why && !strcmp(last_why, "partial reply"));
	fg_seqr_free(s);
}

static void test_seqr_a_reply_after_the_timeout_is_not_merged(void)
{
	struct fg_seqr *s = mk(64, true);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);

	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 5, 1, 0);
	for (uint64_t t = 2000; t < 100000; t += 5000)
		fg_seqr_tick(s, t);
	CU_ASSERT(find_ev('g', 2) >= 0 && st->line[0].messages == 2);
	reply(s, "SESSION001", 2, 3, 200000); /* too late: the stream went on */
	CU_ASSERT(find_msg(1) >= 0 && find_msg(5) > find_ev('g', 2));
	CU_ASSERT(find_msg(2) < 0);
	CU_ASSERT_EQUAL(st->reply_dup_messages, 3);
	CU_ASSERT_EQUAL(st->reply_messages, 0);
	fg_seqr_free(s);
}

static void test_seqr_replies_of_another_session_unasked_or_malformed_are_counted(void)
{
	struct fg_seqr *s = mk(64, true);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);
	uint8_t junk[7] = { 1, 2, 3 };

	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 5, 1, 0);
	reply(s, "SESSION001", 2, 3, 10); /* before asking: nobody asked */
	CU_ASSERT_EQUAL(st->reply_unasked, 3);
	fg_seqr_tick(s, 2000);
	reply(s, "SESSION999", 2, 3, 2100);
	CU_ASSERT_EQUAL(st->reply_wrong_session, 1);
	fg_seqr_reply(s, junk, sizeof(junk), 2200);
	CU_ASSERT_EQUAL(st->reply_bad, 1);
	reply(s, "SESSION001", 40, 3, 2300); /* beyond anything known */
	CU_ASSERT_EQUAL(st->reply_unasked, 6);
	CU_ASSERT(find_msg(2) < 0);
	reply(s, "SESSION001", 2, 3, 2400); /* the real one */
	CU_ASSERT(stream_is(1, 5));
	fg_seqr_free(s);
}

static void test_seqr_a_failed_send_is_counted_and_retried(void)
{
	struct fg_seqr *s = mk(64, true);

	fail_sends = 1;
	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 5, 1, 0);
	fg_seqr_tick(s, 2000);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->request_errors, 1);
	fg_seqr_tick(s, 13000);
	CU_ASSERT_EQUAL(nreq, 1);
	reply(s, "SESSION001", 2, 3, 14000);
	CU_ASSERT(stream_is(1, 5));
	fg_seqr_free(s);
}

static void test_seqr_held_buffer_overflow_gives_up_the_oldest_hole(void)
{
	struct fg_seqr *s = mk(16, true);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);
	int g;

	feed(s, 0, "SESSION001", 1, 1, 0);
	/* 2 lost; 3-40 arrive: the hold (16) cannot wait for 2 */
	for (uint64_t q = 3; q <= 40; q++)
		feed(s, 0, "SESSION001", q, 1, q);
	g = find_ev('g', 2);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT(g < find_msg(3) && evs[g].b == 2);
	CU_ASSERT(last_why && !strcmp(last_why, "hold full"));
	CU_ASSERT(st->hold_full >= 1 && st->hold_high <= 16);
	CU_ASSERT(find_msg(1) >= 0 && find_msg(3) >= 0);
	/* everything but 2, once, in order */
	for (unsigned int i = 0, want = 1; i < nev; i++) {
		if (evs[i].kind != 'm')
			continue;
		if (want == 2)
			want = 3;
		CU_ASSERT_EQUAL(evs[i].a, want);
		want++;
	}
	fg_seqr_flush(s, NULL);
	CU_ASSERT_EQUAL(fg_seqr_holding(s), 0);
	fg_seqr_free(s);
}

static void test_seqr_a_jump_wider_than_the_hold_is_reported_at_once(void)
{
	struct fg_seqr *s = mk(16, true);
	int g;

	feed(s, 0, "SESSION001", 1, 1, 0);
	feed(s, 0, "SESSION001", 1000, 1, 1);
	g = find_ev('g', 2);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT(g < find_msg(1000) && evs[g].b == 999); /* one gap, the whole hole */
	CU_ASSERT(stream_is(1, 1) || find_msg(1000) > g);
	fg_seqr_tick(s, 2000);
	CU_ASSERT_EQUAL(nreq, 0);
	/* a narrower one later waits for the server as usual */
	feed(s, 0, "SESSION001", 1005, 1, 3000);
	fg_seqr_tick(s, 5000);
	CU_ASSERT(nreq == 1 && fg_load_be64(reqs[0] + 10) == 1001);
	fg_seqr_free(s);
}

static void test_seqr_session_change_reports_the_old_holes_and_starts_anew(void)
{
	struct fg_seqr *s = mk(64, false);
	const struct fg_seqr_stats *st = fg_seqr_stats(s);
	int g, ss;

	feed(s, 0, "SESSION001", 1, 2, 0);
	feed(s, 0, "SESSION001", 5, 2, 1); /* 3-4 missing, 5-6 held */
	feed(s, 0, "SESSION002", 1, 2, 2);
	g = find_ev('g', 3);
	ss = -1;
	for (unsigned int i = 0; i < nev; i++)
		if (evs[i].kind == 's' && evs[i].a == 1)
			ss = (int)i;
	CU_ASSERT_FATAL(g >= 0 && ss >= 0);
	CU_ASSERT(last_why == NULL || 1);
	/* old session: 1, 2, gap 3-4, 5, 6; then the change; then 1, 2 again */
	CU_ASSERT(g < ss && find_msg(5) < ss);
	CU_ASSERT_EQUAL(st->session_changes, 1);
	/* the slower line still sending the old session: stale */
	feed(s, 1, "SESSION001", 3, 2, 3);
	CU_ASSERT_EQUAL(st->line[1].stale, 1);
	fg_seqr_free(s);
}

static void test_seqr_heartbeats_and_end_of_session_reveal_loss(void)
{
	struct fg_seqr *s = mk(64, false);

	feed(s, 0, "SESSION001", 1, 2, 0);
	feed(s, 0, "SESSION001", 6, 0, 1); /* heartbeat: next is 6, so 3-5 existed */
	fg_seqr_tick(s, 5000);
	CU_ASSERT(find_ev('g', 3) >= 0 && evs[find_ev('g', 3)].b == 5);
	feed(s, 0, "SESSION001", 9, FG_MOLD_END_OF_SESSION, 6000); /* 6-8 lost too */
	fg_seqr_tick(s, 9000);
	CU_ASSERT(find_ev('g', 6) >= 0 && evs[find_ev('g', 6)].b == 8);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->end_of_session, 1);
	fg_seqr_free(s);
}

/* Random loss on two lines, a server that answers everything: every message
 * exactly once and in order, whatever the interleaving. */
static void test_seqr_random_loss_on_two_lines_with_a_server_loses_nothing(void)
{
	struct fg_seqr *s = mk(4096, true);
	uint64_t rnd = 0x9e3779b97f4a7c15ull, now = 0;
	const uint64_t last = 20000;

	for (uint64_t q = 1; q <= last; q += 2) {
		for (unsigned int line = 0; line < 2; line++) {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			if (rnd % 100 < 5) /* 5% loss per line, independent */
				continue;
			feed(s, line, "SESSION001", q, 2, now);
		}
		now += 100;
		fg_seqr_tick(s, now);
		/* the server answers every request at once */
		for (unsigned int i = 0; i < nreq; i++)
			reply(s, "SESSION001", fg_load_be64(reqs[i] + 10),
			      fg_load_be16(reqs[i] + 18), now + 50);
		nreq = 0;
	}
	for (int k = 0; k < 100; k++) {
		now += 5000;
		fg_seqr_tick(s, now);
		for (unsigned int i = 0; i < nreq; i++)
			reply(s, "SESSION001", fg_load_be64(reqs[i] + 10),
			      fg_load_be16(reqs[i] + 18), now + 50);
		nreq = 0;
	}
	CU_ASSERT(stream_is(1, last));
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->msgs_unrecovered, 0);
	CU_ASSERT(fg_seqr_stats(s)->gaps_recovered > 0);
	CU_ASSERT_EQUAL(fg_seqr_holding(s), 0);
	fg_seqr_free(s);
}

/* The generator's server (fg_rrsrv) answering the sequencer's requests. */
static struct fg_seqr *srv_seqr;
static uint64_t srv_now;

static void srv_send(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	fg_seqr_reply(srv_seqr, p, (unsigned int)len, srv_now);
}

static void server_round(struct fg_seqr *s, struct fg_rrsrv *srv, uint64_t now)
{
	unsigned int n;

	srv_seqr = s;
	srv_now = now;
	fg_seqr_tick(s, now);
	n = nreq;
	nreq = 0;
	for (unsigned int i = 0; i < n; i++)
		fg_rrsrv_answer(srv, reqs[i], FG_MOLD_REQUEST_LEN, srv_send, NULL);
}

static void lossy_day(int mode, struct fg_seqr **sp, struct fg_rrsrv **vp)
{
	static uint8_t buf[4096];
	struct fg_seqr *s = mk(4096, true); /* holds the whole day: only the server decides */
	struct fg_rrsrv *srv;
	uint64_t now = 0;

	CU_ASSERT_FATAL(fg_rrsrv_new(1, 1024, (enum fg_rrsrv_mode)mode, &srv) == 0);
	for (uint64_t q = 1; q <= 400; q += 4) {
		size_t len = mkpkt(buf, "SESSION001", q, 4);
		struct fg_mold_packet pkt;
		int bad;

		fg_rrsrv_record(srv, 0, buf, len); /* sent: the server remembers it */
		CU_ASSERT_FATAL(fg_mold_parse(buf, len, &pkt, &bad) == 0);
		if (q % 40 != 21) /* every tenth packet lost on both lines */
			fg_seqr_packet(s, 0, &pkt, now);
		now += 100;
		server_round(s, srv, now);
	}
	for (int k = 0; k < 50; k++) {
		now += 10000;
		server_round(s, srv, now);
	}
	fg_seqr_flush(s, NULL);
	*sp = s;
	*vp = srv;
}

static void test_seqr_with_the_generator_server_recovers_everything(void)
{
	struct fg_seqr *s;
	struct fg_rrsrv *srv;

	lossy_day(FG_RRSRV_FULL, &s, &srv);
	CU_ASSERT(stream_is(1, 400));
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->gaps_recovered, 10);
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->msgs_recovered, 40);
	CU_ASSERT_EQUAL(fg_rrsrv_stats(srv)->messages, 40);
	fg_rrsrv_free(srv);
	fg_seqr_free(s);
}

static void test_seqr_with_a_partial_server_recovers_by_asking_again(void)
{
	struct fg_seqr *s;
	struct fg_rrsrv *srv;

	lossy_day(FG_RRSRV_PARTIAL, &s, &srv);
	/* half of each request at a time: the retries ask for the rest */
	CU_ASSERT(stream_is(1, 400));
	CU_ASSERT_EQUAL(fg_seqr_stats(s)->msgs_unrecovered, 0);
	CU_ASSERT(fg_rrsrv_stats(srv)->requests > 10);
	fg_rrsrv_free(srv);
	fg_seqr_free(s);
}

static void test_seqr_with_a_garbage_server_reports_every_gap(void)
{
	struct fg_seqr *s;
	struct fg_rrsrv *srv;
	const struct fg_seqr_stats *st;

	lossy_day(FG_RRSRV_GARBAGE, &s, &srv);
	st = fg_seqr_stats(s);
	CU_ASSERT_EQUAL(st->gaps_unrecovered, 10);
	CU_ASSERT_EQUAL(st->msgs_unrecovered, 40);
	CU_ASSERT_EQUAL(st->reply_messages, 0);
	CU_ASSERT(st->reply_bad > 0 && st->reply_wrong_session > 0);
	/* everything else once, in order */
	for (unsigned int i = 0, want = 1; i < nev; i++) {
		if (evs[i].kind != 'm')
			continue;
		while (want % 40 >= 21 && want % 40 <= 24)
			want++;
		CU_ASSERT_EQUAL(evs[i].a, want);
		want++;
	}
	fg_rrsrv_free(srv);
	fg_seqr_free(s);
}

static void test_seqr_bad_configurations_are_refused(void)
{
	struct fg_seqr_config c = { .hold = 1000 };
	struct fg_seqr *s;

	CU_ASSERT_EQUAL(fg_seqr_new(&c, &s), -EINVAL);
	c.hold = 1u << 25;
	CU_ASSERT_EQUAL(fg_seqr_new(&c, &s), -EINVAL);
	c.hold = 64;
	c.rerequest = true; /* no send_request */
	CU_ASSERT_EQUAL(fg_seqr_new(&c, &s), -EINVAL);
}

static const struct fg_test tests[] = {
	FG_TEST(test_seqr_one_line_in_order_is_delivered_from_the_packet),
	FG_TEST(test_seqr_two_lines_first_copy_wins_and_the_other_is_a_duplicate),
	FG_TEST(test_seqr_reordering_between_lines_is_put_back_in_order),
	FG_TEST(test_seqr_hole_on_both_lines_without_server_is_one_precise_gap),
	FG_TEST(test_seqr_rerequest_recovers_and_reports_after_the_range),
	FG_TEST(test_seqr_requests_are_split_and_capped_in_flight),
	FG_TEST(test_seqr_partial_reply_recovers_the_front_and_reports_the_rest),
	FG_TEST(test_seqr_a_reply_after_the_timeout_is_not_merged),
	FG_TEST(test_seqr_replies_of_another_session_unasked_or_malformed_are_counted),
	FG_TEST(test_seqr_a_failed_send_is_counted_and_retried),
	FG_TEST(test_seqr_held_buffer_overflow_gives_up_the_oldest_hole),
	FG_TEST(test_seqr_a_jump_wider_than_the_hold_is_reported_at_once),
	FG_TEST(test_seqr_session_change_reports_the_old_holes_and_starts_anew),
	FG_TEST(test_seqr_heartbeats_and_end_of_session_reveal_loss),
	FG_TEST(test_seqr_random_loss_on_two_lines_with_a_server_loses_nothing),
	FG_TEST(test_seqr_with_the_generator_server_recovers_everything),
	FG_TEST(test_seqr_with_a_partial_server_recovers_by_asking_again),
	FG_TEST(test_seqr_with_a_garbage_server_reports_every_gap),
	FG_TEST(test_seqr_bad_configurations_are_refused),
};

FG_TEST_MAIN("seqr", tests, NULL, NULL)
