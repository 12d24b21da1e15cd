// SPDX-License-Identifier: MIT
/* The generator's packet builder, stamp trailer and pacer (user/lib/fg_gen.c). */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "fg_cunit.h"
#include "fg_gen.h"
#include "fg_net.h"

static uint8_t buf[FG_GEN_MAX_FRAME];

static struct fg_gen *make_gen(uint32_t feeds, double noise, uint32_t mpp, uint64_t seed)
{
	struct fg_gen_config c = {
		.feeds = feeds,
		.noise = noise,
		.msgs_per_packet = mpp,
		.seed = seed,
		.src_mac = { 0x02, 0, 0, 0, 0, 0x11 },
		.src_ip = htonl(0x0ac70001),
	};
	struct fg_gen *g = NULL;

	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), 0);
	return g;
}

static uint16_t ip_csum_ok(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Parse a built frame as a receiver would: UDP payload, MoldUDP64, ITCH lengths. */
static int check_feed_frame(const uint8_t *f, uint32_t len, const struct fg_gen_pkt *p,
			    struct fg_mold_packet *mp)
{
	struct fg_frame fr = { .data = f, .len = len };
	struct fg_flow flow;
	const uint8_t *payload, *msg;
	uint32_t plen;
	uint16_t mlen;
	struct fg_mold_iter it;
	int bad, n = 0;

	CU_ASSERT_EQUAL_FATAL(fg_net_parse(&fr, &flow, &payload, &plen), FG_NET_UDP);
	CU_ASSERT(ip_csum_ok(f + 14));
	CU_ASSERT_EQUAL(flow.dport, FG_GEN_BASE_PORT + p->feed);
	CU_ASSERT_EQUAL(flow.dst[0], 239);
	CU_ASSERT_EQUAL(flow.dst[3], p->feed + 1);
	/* multicast MAC of the group (RFC 1112 6.4) */
	CU_ASSERT(f[0] == 0x01 && f[1] == 0x00 && f[2] == 0x5e && f[5] == p->feed + 1);
	/* a strict parser: no byte after the last block inside the datagram */
	CU_ASSERT_EQUAL_FATAL(fg_mold_parse(payload, plen, mp, &bad), 0);
	CU_ASSERT_EQUAL(mp->h.count, p->count);
	CU_ASSERT_EQUAL(mp->h.seq, p->seq);
	fg_mold_iter_init(&it, mp);
	while (fg_mold_iter_next(&it, &msg, &mlen)) {
		CU_ASSERT_EQUAL(mlen, fg_itch_msg_len(msg[0]));
		n++;
	}
	CU_ASSERT_EQUAL(n, p->count);
	/* the trailer is the 16 bytes right after the IP datagram */
	CU_ASSERT_EQUAL(len, 14 + (uint32_t)(f[16] << 8 | f[17]) + FG_GEN_TRAILER_LEN);
	CU_ASSERT_EQUAL(p->trailer_off, len - FG_GEN_TRAILER_LEN);
	return n;
}

static void test_gen_feed_packets_are_valid_moldudp64(void)
{
	struct fg_gen *g = make_gen(3, 0, 5, 7);
	struct fg_mold_packet mp;

	for (int i = 0; i < 300; i++) {
		struct fg_gen_pkt p;
		uint32_t len = fg_gen_next(g, buf, &p);
		char want[11];

		CU_ASSERT_EQUAL_FATAL(p.kind, FG_GEN_FEED);
		CU_ASSERT_EQUAL(p.len, len);
		CU_ASSERT(len <= 14 + 1500);
		CU_ASSERT_EQUAL(p.count, 5);
		check_feed_frame(buf, len, &p, &mp);
		snprintf(want, sizeof(want), "FG%08u", (unsigned int)p.feed + 1);
		CU_ASSERT_EQUAL(memcmp(mp.h.session, want, 10), 0);
	}
	fg_gen_free(g);
}

static void test_gen_sequence_numbers_run_per_feed(void)
{
	struct fg_gen *g = make_gen(4, 0, 3, 1);
	uint64_t next[4] = { 1, 1, 1, 1 };

	for (int i = 0; i < 400; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		CU_ASSERT_EQUAL_FATAL(p.feed, i % 4); /* feeds take turns */
		CU_ASSERT_EQUAL_FATAL(p.seq, next[p.feed]);
		next[p.feed] += p.count;
	}
	for (unsigned int f = 0; f < 4; f++) {
		const struct fg_gen_feed_stats *st = fg_gen_feed(g, f);

		CU_ASSERT_EQUAL(st->packets, 100);
		CU_ASSERT_EQUAL(st->messages, 300);
		CU_ASSERT_EQUAL(st->next_seq, next[f]);
		CU_ASSERT_EQUAL(st->port, 5000 + f);
	}
	CU_ASSERT_PTR_NULL(fg_gen_feed(g, 4));
	fg_gen_free(g);
}

static void test_gen_stamp_trailer_round_trip(void)
{
	struct fg_gen *g = make_gen(1, 0, 4, 1);
	struct fg_gen_pkt p;
	struct fg_frame fr = { .data = buf };
	uint64_t ns = 0;
	uint32_t no = 99;

	fr.len = fg_gen_next(g, buf, &p);
	fg_gen_stamp(buf, &p, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(fg_gen_trailer_find(&fr, &ns, &no), 1);
	CU_ASSERT_EQUAL(ns, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(no, 0);
	fr.len = fg_gen_next(g, buf, &p);
	fg_gen_stamp(buf, &p, 42);
	CU_ASSERT_EQUAL(fg_gen_trailer_find(&fr, &ns, &no), 1);
	CU_ASSERT_EQUAL(ns, 42);
	CU_ASSERT_EQUAL(no, 1);
	/* cut anywhere in the trailer: not found, nothing read past the end */
	for (uint32_t cut = 1; cut <= FG_GEN_TRAILER_LEN; cut++) {
		struct fg_frame t = { .data = buf, .len = fr.len - cut };

		CU_ASSERT_EQUAL(fg_gen_trailer_find(&t, &ns, NULL), 0);
	}
	/* a frame with a different magic is not stamped */
	buf[fr.len - 1] ^= 0xff;
	CU_ASSERT_EQUAL(fg_gen_trailer_find(&fr, &ns, NULL), 0);
	/* every truncation of the headers is refused too */
	for (uint32_t l = 0; l < 60; l++) {
		struct fg_frame t = { .data = buf, .len = l };

		CU_ASSERT_EQUAL(fg_gen_trailer_find(&t, &ns, NULL), 0);
	}
	fg_gen_free(g);
}

static void test_gen_stamp_leaves_mold_content_alone(void)
{
	struct fg_gen *g1 = make_gen(1, 0, 8, 3), *g2 = make_gen(1, 0, 8, 3);
	static uint8_t b2[FG_GEN_MAX_FRAME];
	struct fg_gen_pkt p1, p2;
	uint32_t l1 = fg_gen_next(g1, buf, &p1), l2 = fg_gen_next(g2, b2, &p2);

	CU_ASSERT_EQUAL_FATAL(l1, l2);
	fg_gen_stamp(buf, &p1, 1);
	fg_gen_stamp(b2, &p2, ~0ull);
	/* same seed, same bytes; only the stamp differs, and only after the datagram */
	CU_ASSERT_EQUAL(memcmp(buf, b2, p1.trailer_off), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(buf, b2, l1), 0);
	fg_gen_free(g1);
	fg_gen_free(g2);
}

static void test_gen_noise_ratio_and_mix(void)
{
	struct fg_gen *g = make_gen(2, 0.5, 2, 11);
	uint64_t kinds[FG_GEN_NKINDS] = { 0 };
	struct fg_mold_packet mp;

	for (int i = 0; i < 3000; i++) {
		struct fg_gen_pkt p;
		uint32_t len = fg_gen_next(g, buf, &p);
		struct fg_frame fr = { .data = buf, .len = len };
		struct fg_flow flow;
		const uint8_t *payload;
		uint32_t plen;
		uint64_t ns;
		int k;

		kinds[p.kind]++;
		if (p.kind == FG_GEN_FEED) {
			check_feed_frame(buf, len, &p, &mp);
			continue;
		}
		CU_ASSERT_EQUAL(p.trailer_off, 0);
		CU_ASSERT_EQUAL(fg_gen_trailer_find(&fr, &ns, NULL), 0);
		k = fg_net_parse(&fr, &flow, &payload, &plen);
		switch (p.kind) {
		case FG_GEN_NOISE_UDP_PORT:
			/* a feed group, never a feed port */
			CU_ASSERT_EQUAL(k, FG_NET_UDP);
			CU_ASSERT(flow.dst[0] == 239 && flow.dst[1] == 1);
			CU_ASSERT(flow.dport >= FG_GEN_NOISE_PORT);
			break;
		case FG_GEN_NOISE_UDP_GROUP:
			/* a feed port, never a feed group */
			CU_ASSERT_EQUAL(k, FG_NET_UDP);
			CU_ASSERT(flow.dst[0] == 239 && flow.dst[1] == 2);
			CU_ASSERT(flow.dport >= FG_GEN_BASE_PORT &&
				  flow.dport < FG_GEN_BASE_PORT + 2);
			break;
		case FG_GEN_NOISE_TCP:
			CU_ASSERT_EQUAL(k, FG_NET_NOT_UDP);
			CU_ASSERT_EQUAL(buf[23], 6);
			CU_ASSERT(ip_csum_ok(buf + 14));
			break;
		case FG_GEN_NOISE_ARP:
			CU_ASSERT_EQUAL(k, FG_NET_NOT_IP);
			CU_ASSERT(buf[12] == 0x08 && buf[13] == 0x06);
			CU_ASSERT_EQUAL(len, 60);
			break;
		default:
			CU_FAIL("unknown kind");
		}
	}
	/* exactly one noise packet per two feed packets */
	CU_ASSERT_EQUAL(kinds[FG_GEN_FEED], 2000);
	CU_ASSERT_EQUAL(kinds[FG_GEN_NOISE_UDP_PORT] + kinds[FG_GEN_NOISE_UDP_GROUP] +
				kinds[FG_GEN_NOISE_TCP] + kinds[FG_GEN_NOISE_ARP],
			1000);
	/* every kind shows up, roughly in its share (40/20/25/15 %) */
	CU_ASSERT(kinds[FG_GEN_NOISE_UDP_PORT] > 300 && kinds[FG_GEN_NOISE_UDP_PORT] < 500);
	CU_ASSERT(kinds[FG_GEN_NOISE_UDP_GROUP] > 120 && kinds[FG_GEN_NOISE_UDP_GROUP] < 280);
	CU_ASSERT(kinds[FG_GEN_NOISE_TCP] > 170 && kinds[FG_GEN_NOISE_TCP] < 330);
	CU_ASSERT(kinds[FG_GEN_NOISE_ARP] > 90 && kinds[FG_GEN_NOISE_ARP] < 210);
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		CU_ASSERT_EQUAL(fg_gen_noise_counts(g)[k], kinds[k]);
	fg_gen_free(g);
}

static void test_gen_noise_above_one_per_feed_packet(void)
{
	struct fg_gen *g = make_gen(1, 3, 1, 5);
	unsigned int feed = 0;

	for (int i = 0; i < 400; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		feed += p.kind == FG_GEN_FEED;
	}
	CU_ASSERT_EQUAL(feed, 100);
	fg_gen_free(g);
}

static void test_gen_packets_stay_within_the_mtu(void)
{
	struct fg_gen *g = make_gen(1, 0, FG_GEN_MAX_MPP, 2);
	struct fg_mold_packet mp;

	for (int i = 0; i < 200; i++) {
		struct fg_gen_pkt p;
		uint32_t len = fg_gen_next(g, buf, &p);

		CU_ASSERT_FATAL(len <= 14 + FG_GEN_IP_MTU);
		CU_ASSERT((uint32_t)(buf[16] << 8 | buf[17]) <= FG_GEN_MAX_IP);
		CU_ASSERT(p.count >= 1 && p.count <= FG_GEN_MAX_MPP);
		check_feed_frame(buf, len, &p, &mp);
	}
	fg_gen_free(g);
}

static void test_gen_unsend_takes_the_accounting_back(void)
{
	struct fg_gen *g = make_gen(1, 0, 4, 1);
	struct fg_gen_pkt p;

	fg_gen_next(g, buf, &p);
	fg_gen_next(g, buf, &p);
	fg_gen_unsend(g, &p);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->packets, 1);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->messages, 4);
	fg_gen_free(g);
}

static void test_gen_rejects_bad_configurations(void)
{
	struct fg_gen_config c = { .feeds = 1, .msgs_per_packet = 1 };
	struct fg_gen *g = NULL;

	c.feeds = 0;
	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), -EINVAL);
	c.feeds = FG_GEN_MAX_FEEDS + 1;
	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), -EINVAL);
	c.feeds = 1;
	c.msgs_per_packet = 0;
	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), -EINVAL);
	c.msgs_per_packet = FG_GEN_MAX_MPP + 1;
	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), -EINVAL);
	c.msgs_per_packet = 1;
	c.noise = -1;
	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), -EINVAL);
	CU_ASSERT_PTR_NULL(g);
}

static void test_pacer_never_sends_early_and_catches_up(void)
{
	struct fg_pacer p;
	uint64_t start = fg_now_ns(), sent = 0;

	/* 50 kpps for 1000 packets: every packet goes at or after its due time */
	fg_pace_init(&p, 50000, start);
	while (sent < 1000) {
		unsigned int n = fg_pace_wait(&p, sent, 16, NULL);
		uint64_t now = fg_now_ns();

		CU_ASSERT_FATAL(n >= 1 && n <= 16);
		/* the last of the n packets is due by now */
		CU_ASSERT_FATAL(now >= start + (uint64_t)((double)(sent + n - 1) * 20000.0));
		sent += n;
	}
	/* behind schedule by 1 ms at 1 Mpps: a full burst is due at once */
	fg_pace_init(&p, 1e6, fg_now_ns() - 1000000);
	CU_ASSERT_EQUAL(fg_pace_wait(&p, 0, 64, NULL), 64);
	/* rate 0: unpaced */
	fg_pace_init(&p, 0, fg_now_ns());
	CU_ASSERT_EQUAL(fg_pace_wait(&p, 123456, 32, NULL), 32);
}

static void test_pacer_sleeping_waits_for_a_burst(void)
{
	struct fg_pacer p;
	uint64_t start = fg_now_ns(), sent = 0;

	/* 100 kpps in bursts of at least 8: never early, never short */
	fg_pace_init(&p, 100000, start);
	while (sent < 400) {
		unsigned int n = fg_pace_wait_sleep(&p, sent, 8, 256, NULL);
		uint64_t now = fg_now_ns();

		CU_ASSERT_FATAL(n >= 8 && n <= 256);
		CU_ASSERT_FATAL(now >= start + (sent + n - 1) * 10000);
		sent += n;
	}
}

static const struct fg_test tests[] = {
	FG_TEST(test_gen_feed_packets_are_valid_moldudp64),
	FG_TEST(test_gen_sequence_numbers_run_per_feed),
	FG_TEST(test_gen_stamp_trailer_round_trip),
	FG_TEST(test_gen_stamp_leaves_mold_content_alone),
	FG_TEST(test_gen_noise_ratio_and_mix),
	FG_TEST(test_gen_noise_above_one_per_feed_packet),
	FG_TEST(test_gen_packets_stay_within_the_mtu),
	FG_TEST(test_gen_unsend_takes_the_accounting_back),
	FG_TEST(test_gen_rejects_bad_configurations),
	FG_TEST(test_pacer_never_sends_early_and_catches_up),
	FG_TEST(test_pacer_sleeping_waits_for_a_burst),
};

FG_TEST_MAIN("gen", tests, NULL, NULL)
