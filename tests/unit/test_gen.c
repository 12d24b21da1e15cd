// SPDX-License-Identifier: MIT
/*
 * The generator's packet builder, stamp trailer and pacer (user/lib/fg_gen.c),
 * A/B lines and loss, the re-request server fed with its packets
 * (user/lib/fg_rrsrv.c), its transmit-path names and queue choice, and the
 * AF_XDP TX ring logic (user/lib/fg_xsk_tx.h) against rings mocked in
 * memory: no root needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/log.h"
#include "feedgate/mold.h"
#define FG_TEST_WARNINGS
#include "fg_cunit.h"
#include "fg_gen.h"
#include "fg_net.h"
#include "fg_rrsrv.h"
#include "fg_xsk_tx.h"

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

/* --itch-stamps: every message's Timestamp carries the send time mod 24 h,
 * found again from the Ethernet frame and from the IP datagram alone (what a
 * UDP socket path hands over); nothing else in the packet changes. */
static void test_gen_itch_stamps_round_trip(void)
{
	struct fg_gen *g1 = make_gen(2, 0.3, 5, 9), *g2 = make_gen(2, 0.3, 5, 9);
	static uint8_t b2[FG_GEN_MAX_FRAME];
	const uint64_t send = 3 * FG_GEN_NS_PER_DAY + 123456789012ull;
	int feeds = 0;

	for (int i = 0; i < 200; i++) {
		struct fg_gen_pkt p1, p2;
		uint32_t len = fg_gen_next(g1, buf, &p1);
		struct fg_frame eth = { .data = buf, .len = len };
		struct fg_frame l3 = { .data = buf + 14, .len = len - 14, .l3 = 1 };
		struct fg_mold_packet mp;
		uint64_t ts = 0;

		CU_ASSERT_EQUAL_FATAL(fg_gen_next(g2, b2, &p2), len);
		fg_gen_stamp_itch(buf, &p1, send);
		if (p1.kind != FG_GEN_FEED) {
			/* noise is left alone */
			CU_ASSERT_EQUAL(memcmp(buf, b2, len), 0);
			continue;
		}
		feeds++;
		CU_ASSERT_EQUAL(fg_gen_itch_stamp_find(&eth, &ts), 1);
		CU_ASSERT_EQUAL(ts, send % FG_GEN_NS_PER_DAY);
		ts = 0;
		CU_ASSERT_EQUAL(fg_gen_itch_stamp_find(&l3, &ts), 1);
		CU_ASSERT_EQUAL(ts, send % FG_GEN_NS_PER_DAY);
		/* still a valid MoldUDP64 packet, every message stamped */
		check_feed_frame(buf, len, &p1, &mp);
		for (const uint8_t *q = buf + 42 + 20, *e = buf + p1.trailer_off; q + 2 <= e;) {
			uint16_t n = (uint16_t)(q[0] << 8 | q[1]);

			if (n < 11 || q + 2 + n > e) {
				CU_FAIL("message block out of place");
				break;
			}
			CU_ASSERT_EQUAL((uint64_t)q[2 + 5] << 40 | (uint64_t)q[2 + 6] << 32 |
						(uint64_t)q[2 + 7] << 24 |
						(uint64_t)q[2 + 8] << 16 | (uint64_t)q[2 + 9] << 8 |
						q[2 + 10],
					send % FG_GEN_NS_PER_DAY);
			/* only the 6 timestamp bytes differ from the unstamped twin */
			CU_ASSERT_EQUAL(memcmp(q, b2 + (q - buf), 7), 0);
			CU_ASSERT_EQUAL(memcmp(q + 2 + 11, b2 + (q - buf) + 2 + 11, n - 11), 0);
			q += 2 + n;
		}
		/* truncated anywhere inside the first message: not found, no read past len */
		for (uint32_t cut = 14; cut < 42 + 20 + 2 + 11; cut++) {
			struct fg_frame t = { .data = buf, .len = cut };

			CU_ASSERT_EQUAL(fg_gen_itch_stamp_find(&t, &ts), 0);
		}
	}
	CU_ASSERT(feeds > 100);
	/* the age across midnight, and ordinary ages */
	CU_ASSERT_EQUAL(fg_gen_itch_age(5 * FG_GEN_NS_PER_DAY + 1000, FG_GEN_NS_PER_DAY - 500),
			1500);
	CU_ASSERT_EQUAL(fg_gen_itch_age(send + 2500, send % FG_GEN_NS_PER_DAY), 2500);
	CU_ASSERT_EQUAL(fg_gen_itch_age(send, send % FG_GEN_NS_PER_DAY), 0);
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

/*
 * fg_gen_new() refuses c with -EINVAL and one warning: "Couldn't create the
 * generator: " + why (struct fg_gen_config's names, never a command-line flag).
 */
static void refused(const struct fg_gen_config *c, const char *why)
{
	fg_print_fn_t old = fg_set_print(fg_take_warning);
	struct fg_gen *g = NULL;
	char want[256];

	fg_nwarned = 0;
	CU_ASSERT_EQUAL(fg_gen_new(c, &g), -EINVAL);
	fg_set_print(old);
	CU_ASSERT_PTR_NULL(g);
	snprintf(want, sizeof(want), "Couldn't create the generator: %s: Invalid argument\n", why);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_STRING_EQUAL(fg_warned, want);
	CU_ASSERT_PTR_NULL(strstr(fg_warned, "--"));
}

static void test_gen_rejects_bad_configurations(void)
{
	struct fg_gen_config c = { .feeds = 1, .msgs_per_packet = 1 };

	c.feeds = 0;
	refused(&c, "feeds 0, want 1..64");
	c.feeds = FG_GEN_MAX_FEEDS + 1;
	refused(&c, "feeds 65, want 1..64");
	c.feeds = 1;
	c.msgs_per_packet = 0;
	refused(&c, "msgs_per_packet 0, want 1..64");
	c.msgs_per_packet = FG_GEN_MAX_MPP + 1;
	refused(&c, "msgs_per_packet 65, want 1..64");
	c.msgs_per_packet = 1;
	c.noise = -1;
	refused(&c, "noise -1 (packets per feed packet), want 0..1000");
}

/* --- lines and loss ------------------------------------------------------------------------- */

static struct fg_gen *make_lossy(uint32_t feeds, double noise, uint64_t seed, uint32_t lines,
				 double loss_a, double loss_b, double loss_both)
{
	struct fg_gen_config c = {
		.feeds = feeds,
		.noise = noise,
		.msgs_per_packet = 4,
		.seed = seed,
		.src_mac = { 0x02, 0, 0, 0, 0, 0x11 },
		.src_ip = htonl(0x0ac70001),
		.lines = lines,
		.loss = { loss_a, loss_b },
		.loss_both = loss_both,
		.keep_unsent = true,
	};
	struct fg_gen *g = NULL;

	CU_ASSERT_EQUAL(fg_gen_new(&c, &g), 0);
	return g;
}

static void test_gen_line_b_group_adds_one_to_the_second_octet(void)
{
	for (unsigned int f = 0; f < FG_GEN_MAX_FEEDS; f++) {
		uint32_t a = ntohl(fg_gen_group(f, 0)), b = ntohl(fg_gen_group(f, 1));

		CU_ASSERT_EQUAL(a, 0xef010100u + f + 1); /* 239.1.1.(f+1) */
		CU_ASSERT_EQUAL(b, 0xef020100u + f + 1); /* 239.2.1.(f+1) */
	}
}

static void test_gen_line_b_frame_carries_line_a_payload(void)
{
	static uint8_t b[FG_GEN_MAX_FRAME];
	struct fg_gen *g = make_lossy(3, 0, 5, 2, 0, 0, 0);
	struct fg_mold_packet ma, mb;

	for (int i = 0; i < 300; i++) {
		struct fg_gen_pkt p, pb;
		uint32_t len = fg_gen_next(g, buf, &p);
		struct fg_frame fr = { .data = b, .len = len };
		struct fg_flow flow;
		const uint8_t *payload;
		uint32_t plen;

		CU_ASSERT_EQUAL_FATAL(p.kind, FG_GEN_FEED);
		CU_ASSERT_EQUAL(p.send, 3);
		CU_ASSERT_EQUAL(p.line, 0);
		memcpy(b, buf, len);
		pb = p;
		fg_gen_set_line(b, &pb, 1);
		CU_ASSERT_EQUAL(pb.line, 1);
		check_feed_frame(buf, len, &p, &ma);
		check_feed_frame(b, len, &pb, &mb); /* IP checksum, MAC, port, MoldUDP64 */
		CU_ASSERT_EQUAL_FATAL(fg_net_parse(&fr, &flow, &payload, &plen), FG_NET_UDP);
		CU_ASSERT(flow.dst[0] == 239 && flow.dst[1] == 2 && flow.dst[2] == 1 &&
			  flow.dst[3] == p.feed + 1);
		CU_ASSERT_EQUAL(flow.sport, FG_GEN_BASE_SPORT_B + p.feed);
		CU_ASSERT(b[3] == 0x02 && b[4] == 0x01); /* 01:00:5e:02:01:xx */
		/* the same payload and trailer, byte for byte */
		CU_ASSERT_EQUAL(memcmp(buf + FG_GEN_OFF_UDP + 2, b + FG_GEN_OFF_UDP + 2,
				       len - FG_GEN_OFF_UDP - 2),
				0);
		/* and back: line A exactly as built */
		fg_gen_set_line(b, &pb, 0);
		CU_ASSERT_EQUAL(memcmp(buf, b, len), 0);
	}
	fg_gen_free(g);
}

static void test_gen_loss_ratios_hold_over_many_packets(void)
{
	const double la = 0.1, lb = 0.3, both = 0.05;
	const int n = 200000;
	struct fg_gen *g = make_lossy(2, 0, 11, 2, la, lb, both);
	uint64_t lost_a = 0, lost_b = 0, lost_all = 0;
	/* packets lost on A (or B) alone: the lines lose independently */
	uint64_t only_a = 0, only_b = 0;

	for (int i = 0; i < n; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		lost_a += !(p.send & 1);
		lost_b += !(p.send & 2);
		lost_all += !p.send;
		only_a += p.send == 2;
		only_b += p.send == 1;
	}
	/* within 5 standard deviations of what the ratios say */
#define WITHIN(k, pr) (fabs((double)(k)-n * (pr)) < 5 * sqrt(n * (pr) * (1 - (pr))))
	CU_ASSERT(WITHIN(lost_a, both + (1 - both) * la));
	CU_ASSERT(WITHIN(lost_b, both + (1 - both) * lb));
	CU_ASSERT(WITHIN(lost_all, both + (1 - both) * la * lb));
	CU_ASSERT(WITHIN(only_a, (1 - both) * la * (1 - lb)));
	CU_ASSERT(WITHIN(only_b, (1 - both) * lb * (1 - la)));
#undef WITHIN
	/* the report: per line sent + lost = packets, lost on all lines */
	for (unsigned int f = 0; f < 2; f++) {
		const struct fg_gen_feed_stats *st = fg_gen_feed(g, f);

		CU_ASSERT_EQUAL(st->packets, (uint64_t)n / 2);
		CU_ASSERT_EQUAL(st->line_sent[0] + st->line_lost[0], st->packets);
		CU_ASSERT_EQUAL(st->line_sent[1] + st->line_lost[1], st->packets);
		CU_ASSERT_EQUAL(st->lost_all_messages, 4 * st->lost_all);
		CU_ASSERT_EQUAL(ntohl(st->group_b), 0xef020101u + f);
	}
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->lost_all + fg_gen_feed(g, 1)->lost_all, lost_all);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->line_lost[0] + fg_gen_feed(g, 1)->line_lost[0], lost_a);
	fg_gen_free(g);
}

static void test_gen_loss_both_drops_the_same_packets_on_both_lines(void)
{
	const int n = 50000;
	struct fg_gen *g = make_lossy(1, 0, 3, 2, 0, 0, 0.2);
	uint64_t lost = 0;

	for (int i = 0; i < n; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		CU_ASSERT_FATAL(p.send == 0 || p.send == 3); /* never one line alone */
		lost += !p.send;
	}
	CU_ASSERT(fabs((double)lost - n * 0.2) < 5 * sqrt(n * 0.2 * 0.8));
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->line_lost[0], lost);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->line_lost[1], lost);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 0)->lost_all, lost);
	fg_gen_free(g);
}

static void test_gen_loss_leaves_the_content_alone(void)
{
	static uint8_t b[FG_GEN_MAX_FRAME];
	/* the same seed with and without lines and loss, noise in the mix */
	struct fg_gen *plain = make_gen(3, 0.5, 4, 9);
	struct fg_gen *lossy = make_lossy(3, 0.5, 9, 2, 0.2, 0.3, 0.1);
	int lost = 0;

	for (int i = 0; i < 5000; i++) {
		struct fg_gen_pkt p, q;
		uint32_t len = fg_gen_next(plain, buf, &p), lenq = fg_gen_next(lossy, b, &q);

		/* every frame as built (line A) is the same, lost or not */
		CU_ASSERT_EQUAL_FATAL(len, lenq);
		CU_ASSERT_EQUAL_FATAL(p.kind, q.kind);
		CU_ASSERT_EQUAL(memcmp(buf, b, len), 0);
		if (q.kind != FG_GEN_FEED)
			CU_ASSERT_EQUAL(q.send, 1); /* noise is never lost */
		lost += q.kind == FG_GEN_FEED && q.send != 3;
	}
	CU_ASSERT(lost > 1000);
	for (unsigned int f = 0; f < 3; f++) {
		CU_ASSERT_EQUAL(fg_gen_feed(plain, f)->messages, fg_gen_feed(lossy, f)->messages);
		CU_ASSERT_EQUAL(fg_gen_feed(plain, f)->next_seq, fg_gen_feed(lossy, f)->next_seq);
	}
	fg_gen_free(plain);
	fg_gen_free(lossy);
}

static void test_gen_loss_of_line_a_does_not_depend_on_line_b(void)
{
	struct fg_gen *one = make_lossy(2, 0, 4, 1, 0.25, 0, 0.05);
	struct fg_gen *two = make_lossy(2, 0, 4, 2, 0.25, 0.5, 0.05);

	for (int i = 0; i < 10000; i++) {
		struct fg_gen_pkt p, q;

		fg_gen_next(one, buf, &p);
		fg_gen_next(two, buf, &q);
		CU_ASSERT_FATAL(p.send <= 1); /* one line: bit 0 only */
		CU_ASSERT_EQUAL_FATAL(p.send & 1, q.send & 1);
	}
	CU_ASSERT_EQUAL(fg_gen_feed(one, 0)->line_sent[1], 0);
	CU_ASSERT_EQUAL(fg_gen_feed(one, 0)->line_lost[1], 0);
	fg_gen_free(one);
	fg_gen_free(two);
}

static void test_gen_noise_never_goes_to_a_line_b_group(void)
{
	struct fg_gen *g = make_lossy(FG_GEN_MAX_FEEDS, 3, 5, 2, 0, 0, 0);

	for (int i = 0; i < 20000; i++) {
		struct fg_gen_pkt p;
		uint32_t len = fg_gen_next(g, buf, &p);
		struct fg_frame fr = { .data = buf, .len = len };
		struct fg_flow flow;
		const uint8_t *payload;
		uint32_t plen;

		if (p.kind == FG_GEN_FEED ||
		    fg_net_parse(&fr, &flow, &payload, &plen) != FG_NET_UDP)
			continue;
		CU_ASSERT_FALSE(flow.dst[0] == 239 && flow.dst[1] == 2 && flow.dst[2] == 1);
		/* nor to a line A group on a feed port */
		CU_ASSERT_FALSE(flow.dst[0] == 239 && flow.dst[1] == 1 && flow.dport < 6000);
	}
	fg_gen_free(g);
}

static void test_gen_unsend_with_lines_is_a_refusal_on_that_line(void)
{
	struct fg_gen *g = make_lossy(1, 0, 1, 2, 0, 0, 0);
	const struct fg_gen_feed_stats *st = fg_gen_feed(g, 0);
	struct fg_gen_pkt p;

	fg_gen_next(g, buf, &p);
	p.line = 1; /* its line B frame never left */
	fg_gen_unsend(g, &p);
	CU_ASSERT_EQUAL(st->packets, 1); /* still generated: a server has it */
	CU_ASSERT_EQUAL(st->messages, 4);
	CU_ASSERT_EQUAL(st->line_sent[0], 1);
	CU_ASSERT_EQUAL(st->line_sent[1], 0);
	CU_ASSERT_EQUAL(st->line_refused[1], 1);
	CU_ASSERT_EQUAL(st->bytes, p.len);
	fg_gen_free(g);
}

static void test_gen_heartbeat_carries_the_next_sequence_number(void)
{
	struct fg_gen *g = make_lossy(2, 0, 1, 2, 0, 0, 0);
	struct fg_mold_packet mp;
	struct fg_gen_pkt p;
	int bad;

	for (int i = 0; i < 10; i++)
		fg_gen_next(g, buf, &p);
	for (unsigned int l = 0; l < 2; l++) {
		uint32_t len = fg_gen_heartbeat(g, 1, l, buf, &p);
		struct fg_frame fr = { .data = buf, .len = len };
		struct fg_flow flow;
		const uint8_t *payload;
		uint32_t plen;
		uint64_t ns;

		CU_ASSERT_EQUAL_FATAL(fg_net_parse(&fr, &flow, &payload, &plen), FG_NET_UDP);
		CU_ASSERT(ip_csum_ok(buf + 14));
		CU_ASSERT_EQUAL(flow.dst[1], l ? 2 : 1);
		CU_ASSERT_EQUAL(flow.dport, FG_GEN_BASE_PORT + 1);
		CU_ASSERT_EQUAL_FATAL(fg_mold_parse(payload, plen, &mp, &bad), 0);
		CU_ASSERT_EQUAL(mp.h.count, FG_MOLD_HEARTBEAT);
		CU_ASSERT_EQUAL(mp.h.seq, 5 * 4 + 1); /* feed 2 had 5 packets of 4 */
		CU_ASSERT_EQUAL(memcmp(mp.h.session, "FG00000002", 10), 0);
		fg_gen_stamp(buf, &p, 42);
		CU_ASSERT(fg_gen_trailer_find(&fr, &ns, NULL) && ns == 42);
	}
	CU_ASSERT_EQUAL(fg_gen_feed(g, 1)->heartbeats, 2);
	CU_ASSERT_EQUAL(fg_gen_feed(g, 1)->packets, 5); /* not a packet of the feed */
	fg_gen_free(g);
}

static void test_gen_rejects_bad_lines_and_loss(void)
{
	struct fg_gen_config c = { .feeds = 1, .msgs_per_packet = 1, .lines = 3 };
	struct fg_gen *g = NULL;

	refused(&c, "lines 3, want 1 or 2");
	c.lines = 2;
	c.loss[1] = 1.5;
	refused(&c, "loss[1] (line B) 1.5, want a ratio from 0 to 1");
	c.loss[1] = NAN;
	refused(&c, "loss[1] (line B) nan, want a ratio from 0 to 1");
	c.loss[1] = 0;
	c.loss_both = -0.1;
	refused(&c, "loss_both -0.1, want a ratio from 0 to 1");
	/* 1 is allowed: everything lost but the first packet (see below) */
	c.loss_both = 1;
	CU_ASSERT_EQUAL_FATAL(fg_gen_new(&c, &g), 0);
	for (int i = 0; i < 100; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		CU_ASSERT_EQUAL(p.send, i ? 0 : 3);
	}
	fg_gen_free(g);
}

/* A consumer starts a feed at the first sequence number it sees: a lost
 * first packet would be a gap nobody can notice, so it is never lost. */
static void test_gen_first_packet_of_a_feed_is_never_lost(void)
{
	struct fg_gen *g = make_lossy(4, 0.5, 1, 2, 1, 1, 1);
	int firsts = 0;

	for (int i = 0; i < 200; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		if (p.kind != FG_GEN_FEED)
			continue;
		CU_ASSERT_EQUAL(p.send, p.seq == 1 ? 3 : 0);
		firsts += p.seq == 1;
	}
	CU_ASSERT_EQUAL(firsts, 4);
	for (unsigned int f = 0; f < 4; f++)
		CU_ASSERT_EQUAL(fg_gen_feed(g, f)->line_sent[1], 1);
	fg_gen_free(g);
}

struct replies {
	int n;
	uint64_t msgs;
	uint8_t last[FG_MOLD_HEADER_LEN + FG_RRSRV_REPLY_MAX];
	size_t last_len;
};

static void collect(void *ctx, const uint8_t *p, size_t len)
{
	struct replies *r = ctx;

	r->n++;
	r->msgs += fg_load_be16(p + 18);
	memcpy(r->last, p, len);
	r->last_len = len;
}

static void test_gen_server_gives_back_packets_lost_on_every_line(void)
{
	struct fg_gen *g = make_lossy(1, 0, 2, 2, 0, 0, 0.3);
	struct fg_rrsrv *srv;
	int lost = 0;

	CU_ASSERT_FATAL(fg_rrsrv_new(1, 1024, FG_RRSRV_FULL, &srv) == 0);
	/* gen records every packet it builds, lost or not; keep the lost ones */
	for (int i = 0; i < 200; i++) {
		struct fg_gen_pkt p;

		fg_gen_next(g, buf, &p);
		fg_rrsrv_record(srv, 0, buf + FG_GEN_OFF_MOLD, p.trailer_off - FG_GEN_OFF_MOLD);
		if (!p.send && lost < 64) {
			struct replies r = { 0 };
			uint8_t req[FG_MOLD_REQUEST_LEN];
			struct fg_mold_packet mp;
			int bad;

			fg_mold_build_request(req, "FG00000001", p.seq, p.count);
			fg_rrsrv_answer(srv, req, sizeof(req), collect, &r);
			/* the reply is the lost packet's MoldUDP64 payload itself */
			CU_ASSERT_EQUAL(r.n, 1);
			CU_ASSERT_EQUAL_FATAL(fg_mold_parse(r.last, r.last_len, &mp, &bad), 0);
			CU_ASSERT_EQUAL(mp.h.seq, p.seq);
			CU_ASSERT_EQUAL(r.last_len, p.trailer_off - FG_GEN_OFF_MOLD);
			CU_ASSERT_EQUAL(memcmp(r.last, buf + FG_GEN_OFF_MOLD, r.last_len), 0);
			lost++;
		}
	}
	CU_ASSERT(lost > 20);
	CU_ASSERT_EQUAL(fg_rrsrv_stats(srv)->requests, (uint64_t)lost);
	fg_rrsrv_free(srv);
	fg_gen_free(g);
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

/* --- burst schedules ----------------------------------------------------------------------- */

#define MS 1000000ull
#define START 123456789ull /* any start: the schedule is relative to it */

static void test_pacer_evenly_paced_is_the_old_formula(void)
{
	static const double rates[] = { 7, 10000, 33333.3, 1e6, 5.9e6 };
	static const uint64_t ns[] = { 0, 1, 2, 3, 999, 1000001, 123456789, 1000000000000ull };
	struct fg_pacer p;

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		double per = 1e9 / rates[r];

		fg_pace_init(&p, rates[r], START);
		CU_ASSERT_EQUAL(fg_pace_burst_rate(&p), fg_pace_base_rate(&p));
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			uint64_t t = START + ns[i] * 7;

			/* what fg_pace_until() and fg_pace_due() computed before bursts */
			CU_ASSERT_EQUAL(fg_pace_due_ns(&p, ns[i]),
					START + (uint64_t)llround((double)ns[i] * per));
			CU_ASSERT_EQUAL(fg_pace_count(&p, t),
					(uint64_t)((double)(t - START) / per + 1.0));
		}
		CU_ASSERT_EQUAL(fg_pace_count(&p, START - 1), 0);
	}
	/* unpaced: everything is due at once */
	fg_pace_init(&p, 0, START);
	CU_ASSERT_EQUAL(fg_pace_count(&p, START), UINT64_MAX);
}

/* 20 kpps mean, 10x for 1 ms every 100 ms: 200 packets 5 us apart, then
 * 1800 packets 55 us apart (18,182 pps), 2000 a period. */
static void test_pacer_burst_window_and_base_rates(void)
{
	struct fg_pacer p;

	CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, 20000, 10, 1 * MS, 100 * MS, START), 0);
	CU_ASSERT_DOUBLE_EQUAL(fg_pace_burst_rate(&p), 200000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(fg_pace_base_rate(&p), 20000.0 * 90 / 99, 1e-6);
	for (uint64_t k = 0; k < 3; k++) {
		uint64_t n0 = 2000 * k, t0 = START + k * 100 * MS;

		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n0), t0);
		for (uint64_t i = 1; i < 200; i++)
			CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n0 + i), t0 + i * 5000);
		for (uint64_t i = 200; i < 2000; i++)
			CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n0 + i), t0 + MS + (i - 200) * 55000);
		/* 200 due within the window, the 201st right at its end */
		CU_ASSERT_EQUAL(fg_pace_count(&p, t0 + MS - 1) - fg_pace_count(&p, t0 - 1), 200);
		CU_ASSERT_EQUAL(fg_pace_count(&p, t0 + 100 * MS - 1) - fg_pace_count(&p, t0 - 1),
				2000);
	}
	/* before the start nothing is due, at the start packet 0 */
	CU_ASSERT_EQUAL(fg_pace_count(&p, START - 1), 0);
	CU_ASSERT_EQUAL(fg_pace_count(&p, START), 1);
}

/* Parameters where a period holds no whole number of packets. */
static const struct {
	double rate, factor;
	uint64_t burst, period;
} shapes[] = {
	{ 20000, 10, 1 * MS, 100 * MS },
	{ 12345.678, 10, 1 * MS, 100 * MS }, /* 1234.5678 packets a period */
	{ 3, 7.5, 10 * MS, 1000 * MS }, /* less than one packet per burst */
	{ 1e6, 99.9, 1 * MS, 100 * MS }, /* base rate of 1 kpps */
	{ 5.9e6, 1, 3 * MS, 7 * MS }, /* factor 1: evenly paced, the burst way */
	{ 1e8, 50, 333, 1000003 }, /* 5 packets per ns in the burst */
};

/* Over many periods the mean is the rate: packets due before the k-th
 * period starts are rate * k * period, within the one packet that rounding
 * can move across the edge, up to a day of 100 ms periods and beyond. */
static void test_pacer_burst_mean_rate_is_exact(void)
{
	static const uint64_t ks[] = { 1, 2, 3, 10, 999, 864000, 10000019 };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct fg_pacer p;

		CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, shapes[s].rate, shapes[s].factor,
							 shapes[s].burst, shapes[s].period, START),
				      0);
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			double want = shapes[s].rate * (double)(ks[i] * shapes[s].period) * 1e-9;
			uint64_t got = fg_pace_count(&p, START + ks[i] * shapes[s].period - 1);

			CU_ASSERT(fabs((double)got - want) <= 1.0);
			if (fabs((double)got - want) > 1.0)
				printf("\n    shape %zu, %llu periods: %llu packets, want %.3f ", s,
				       (unsigned long long)ks[i], (unsigned long long)got, want);
		}
	}
}

/* due() never goes back, count() is its exact inverse, across the window
 * edges and the period edges, near the start and far from it. */
static void test_pacer_burst_count_inverts_due(void)
{
	/* seconds into the run: the start, an hour and a bit, a year */
	static const double bases[] = { 0, 1.000003, 3600.123, 86400.0 * 365 };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct fg_pacer p;
		uint64_t bad = 0;

		CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, shapes[s].rate, shapes[s].factor,
							 shapes[s].burst, shapes[s].period, START),
				      0);
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			/* two periods' worth of packets (at most 20000) from each base */
			double per = fmin(2 * p.period_pkts + 2, 20000);

			uint64_t n0 = (uint64_t)(bases[b] * shapes[s].rate);

			for (uint64_t n = n0; n < n0 + (uint64_t)per; n++) {
				uint64_t t = fg_pace_due_ns(&p, n), c = fg_pace_count(&p, t);

				bad += fg_pace_due_ns(&p, n + 1) < t;
				/* packet n is due at t, and the count there says so */
				bad += c < n + 1;
				bad += fg_pace_due_ns(&p, c - 1) > t;
				bad += fg_pace_due_ns(&p, c) <= t;
				/* one ns earlier it was not due yet */
				bad += fg_pace_count(&p, t - 1) > n && t > START;
			}
		}
		/* and at times that fall anywhere: the edges and in between */
		for (uint64_t k = 0; k < 3; k++)
			for (uint64_t d = 0; d < 2000; d++) {
				uint64_t t = START + k * shapes[s].period + shapes[s].burst - 1000 +
					     d * 997,
					 c = fg_pace_count(&p, t);

				bad += fg_pace_due_ns(&p, c - 1) > t || fg_pace_due_ns(&p, c) <= t;
			}
		CU_ASSERT_EQUAL(bad, 0);
		if (bad)
			printf("\n    shape %zu: %llu inconsistencies ", s,
			       (unsigned long long)bad);
	}
}

/* No drift after billions of packets: with 2000 packets a period, packet
 * 2000 k starts period k to the ns, and its burst packets follow 500 ns apart. */
static void test_pacer_burst_large_n_no_drift(void)
{
	static const uint64_t ks[] = { 1000, 86400ull * 10 * 365, 100000007ull, 4000000000ull };
	struct fg_pacer p;

	CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, 20000, 10, 1 * MS, 100 * MS, START), 0);
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		uint64_t n = 2000 * ks[i], t = START + ks[i] * 100 * MS;

		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n - 1), t - 55000);
		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n), t);
		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n + 199), t + 199 * 5000);
		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n + 200), t + MS);
		CU_ASSERT_EQUAL(fg_pace_due_ns(&p, n + 1999), t + MS + 1799 * 55000);
		CU_ASSERT_EQUAL(fg_pace_count(&p, t - 1), n);
		CU_ASSERT_EQUAL(fg_pace_count(&p, t + MS - 1), n + 200);
	}
}

/* A year into the run the due times still agree to the ns with the same
 * schedule computed in long double (64-bit mantissa): the remainder in
 * the period keeps its precision however many packets went before. */
static void test_pacer_burst_keeps_precision_far_out(void)
{
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct fg_pacer p;
		uint64_t n0, worst = 0;

		CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, shapes[s].rate, shapes[s].factor,
							 shapes[s].burst, shapes[s].period, START),
				      0);
		n0 = (uint64_t)(86400.0 * 365 * shapes[s].rate);
		for (uint64_t n = n0; n < n0 + 5000; n++) {
			long double np = p.period_pkts, k = floorl((long double)n / np),
				    m = (long double)n - k * np, off;
			uint64_t want, got = fg_pace_due_ns(&p, n);

			if (m < p.burst_pkts)
				off = m * (long double)p.ns_per_pkt_burst;
			else
				off = p.burst_ns +
				      (m - p.burst_pkts) * (long double)p.ns_per_pkt_base;
			want = START + (uint64_t)k * p.period_ns + (uint64_t)llroundl(off);
			if ((got > want ? got - want : want - got) > worst)
				worst = got > want ? got - want : want - got;
		}
		CU_ASSERT(worst <= 1);
		if (worst > 1)
			printf("\n    shape %zu: %llu ns off after a year ", s,
			       (unsigned long long)worst);
	}
}

/* A sender behind schedule catches up with everything due: 1.5 ms into a
 * period of the 10x burst, the 200 burst packets and 1 ms / 55 us more. */
static void test_pacer_burst_catches_up(void)
{
	struct fg_pacer p;

	CU_ASSERT_EQUAL_FATAL(
		fg_pace_init_burst(&p, 20000, 10, MS, 100 * MS, fg_now_ns() - 3 * MS / 2), 0);
	CU_ASSERT(fg_pace_wait(&p, 0, 256, NULL) >= 209);
	CU_ASSERT(fg_pace_wait_sleep(&p, 0, 8, 256, NULL) >= 209);
	CU_ASSERT_EQUAL(fg_pace_wait(&p, 100, 64, NULL), 64);
}

/* factor 1 is even pacing: the same due times, to the rounding (1 ns). */
static void test_pacer_burst_factor_one_is_even(void)
{
	struct fg_pacer e, b;

	fg_pace_init(&e, 30000, START);
	CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&b, 30000, 1, 1 * MS, 100 * MS, START), 0);
	for (uint64_t n = 0; n < 10000; n++) {
		uint64_t te = fg_pace_due_ns(&e, n), tb = fg_pace_due_ns(&b, n);

		CU_ASSERT_FATAL(te + 1 >= tb && tb + 1 >= te);
	}
}

static void test_pacer_burst_rejects_bad_parameters(void)
{
	struct fg_pacer p;

	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 0, 10, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, -5, 10, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, NAN, 10, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 0.5, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, NAN, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, INFINITY, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 10, 0, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 10, MS, 0, START), -EINVAL);
	/* F B = P: nothing left between the bursts; F B > P: less than nothing */
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 100, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 200, MS, 100 * MS, START), -EINVAL);
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 1, 100 * MS, 100 * MS, START), -EINVAL);
	/* refused: left evenly paced at the rate */
	CU_ASSERT_EQUAL(fg_pace_due_ns(&p, 1000), START + 1000000000ull);
	CU_ASSERT_EQUAL(fg_pace_burst_rate(&p), 1000);
	/* just below the limit is fine */
	CU_ASSERT_EQUAL(fg_pace_init_burst(&p, 1000, 99.9, MS, 100 * MS, START), 0);
}

/*
 * The waits hold the burst rate: 40 kpps mean, 10x for 1 ms every 20 ms,
 * so 400 packets in the first ms of a period and 400 in the 19 after; none
 * early, three quarters of the burst or more sent inside its window
 * (evenly paced: a tenth). The timing part gets a few tries, one period
 * each: a machine busy with other work may take the CPU away for a whole
 * window once, not every time.
 */
static void test_pacer_burst_waits_follow_the_schedule(void)
{
	struct fg_pacer p;

	for (int sleep_only = 0; sleep_only < 2; sleep_only++) {
		uint64_t best = 0;

		for (int attempt = 0; attempt < 5 && best < 300; attempt++) {
			uint64_t start = fg_now_ns() + 200000, sent = 0, in_window = 0;

			CU_ASSERT_EQUAL_FATAL(fg_pace_init_burst(&p, 40000, 10, MS, 20 * MS, start),
					      0);
			while (sent < 800) {
				unsigned int n = sleep_only
							 ? fg_pace_wait_sleep(&p, sent, 4, 64, NULL)
							 : fg_pace_wait(&p, sent, 64, NULL);
				uint64_t now = fg_now_ns();

				CU_ASSERT_FATAL(n >= 1 && n <= 64);
				CU_ASSERT_FATAL(now >= fg_pace_due_ns(&p, sent + n - 1));
				if (now - start < MS)
					in_window += n;
				sent += n;
			}
			/* packets 400.. are due after the window only */
			CU_ASSERT_FATAL(in_window <= 400);
			if (in_window > best)
				best = in_window;
		}
		CU_ASSERT(best >= 300);
		if (best < 300)
			printf("\n    %s: at best %llu of 400 burst packets in their window ",
			       sleep_only ? "sleep" : "spin", (unsigned long long)best);
	}
}

/*
 * gen warns when the device took fewer frames than were sent, or the rate
 * reached is below --rate, by more than 3%: the fraction is (want - got) /
 * want, and nothing to compare (want 0, NaN) is no shortfall.
 */
static void test_gen_shortfall_is_the_fraction_missing(void)
{
	static const struct {
		double want, got, frac;
	} cases[] = {
		{ 5000, 5000, 0 }, /* all there */
		{ 5000, 5001, 0 }, /* more than sent: other traffic, no shortfall */
		{ 5000, 0, 1 }, /* peer down: the device took nothing */
		{ 5000, -1, 1 }, /* never below "nothing" */
		{ 100, 97, 0.03 }, /* exactly 3%: at the limit, not above it */
		{ 100, 96.9, 0.031 }, /* just above the limit */
		{ 5000000, 891500, 0.8217 }, /* an impossible --rate: 17.83% reached */
		{ 0, 10, 0 }, /* unpaced: no --rate to fall short of */
		{ -1, 10, 0 },
		{ NAN, 10, 0 },
		{ 10, NAN, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double f = fg_gen_shortfall(cases[i].want, cases[i].got);

		CU_ASSERT(fabs(f - cases[i].frac) < 1e-9);
		if (!(fabs(f - cases[i].frac) < 1e-9))
			printf("\n    want %g got %g: %g, expected %g ", cases[i].want,
			       cases[i].got, f, cases[i].frac);
	}
	/* gen's limit: 3% is tolerated, anything above it is not */
	CU_ASSERT(!(fg_gen_shortfall(100, 97) > 0.03));
	CU_ASSERT(fg_gen_shortfall(1000, 969) > 0.03);
}

static void test_gen_parse_duration(void)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t ns;
	} cases[] = {
		{ "500us", 0, 500000 },	  { "1ms", 0, 1000000 },
		{ "0.1s", 0, 100000000 }, { "100ms", 0, 100000000 },
		{ "250ns", 0, 250 },	  { "1.5ms", 0, 1500000 },
		{ ".5s", 0, 500000000 },  { "3600s", 0, 3600000000000ull },
		{ "3601s", -ERANGE, 0 },  { "", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },	  { "1", -EINVAL, 0 },
		{ "1 ms", -EINVAL, 0 },	  { " 1ms", -EINVAL, 0 },
		{ "1msx", -EINVAL, 0 },	  { "1h", -EINVAL, 0 },
		{ "-1ms", -EINVAL, 0 },	  { "0ms", -EINVAL, 0 },
		{ "0.4ns", -EINVAL, 0 },  { "1e3us", -EINVAL, 0 },
		{ "0x10ms", -EINVAL, 0 }, { "1.2.3ms", -EINVAL, 0 },
		{ "infs", -EINVAL, 0 },	  { "junk", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ns = 42;
		int ret = fg_gen_parse_duration(cases[i].s, &ns);

		CU_ASSERT_EQUAL(ret, cases[i].ret);
		CU_ASSERT_EQUAL(ns, ret ? 42 : cases[i].ns);
		if (ret != cases[i].ret || (!ret && ns != cases[i].ns))
			printf("\n    '%s': %d %llu ", cases[i].s, ret, (unsigned long long)ns);
	}
}

static void test_gen_tx_names_and_auto_order(void)
{
	static const char *const bad[] = {
		"", "AF_XDP", "af-xdp", "afxdp", "xdp ", "pcap", "dpdk"
	};
	enum fg_gen_tx tx = FG_GEN_TX_N;
	bool seen[FG_GEN_TX_N] = { false };

	for (unsigned int i = 0; i < FG_GEN_TX_N; i++) {
		CU_ASSERT_EQUAL(fg_gen_tx_parse(fg_gen_tx_name((enum fg_gen_tx)i), &tx), 0);
		CU_ASSERT_EQUAL(tx, i);
	}
	CU_ASSERT_EQUAL(fg_gen_tx_parse("af_xdp", &tx), 0);
	CU_ASSERT_EQUAL(tx, FG_GEN_TX_AF_XDP);
	CU_ASSERT_EQUAL(fg_gen_tx_parse("afpacket", &tx), 0);
	CU_ASSERT_EQUAL(tx, FG_GEN_TX_AFPACKET);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tx = FG_GEN_TX_XDP;
		CU_ASSERT_EQUAL(fg_gen_tx_parse(bad[i], &tx), -EINVAL);
		CU_ASSERT_EQUAL(tx, FG_GEN_TX_XDP); /* untouched */
	}
	CU_ASSERT_STRING_EQUAL(fg_gen_tx_name(FG_GEN_TX_N), "unknown");
	/* auto: every real path once, AF_XDP first, AF_PACKET (works anywhere) last */
	for (unsigned int i = 0; i < FG_GEN_TX_N - 1; i++) {
		CU_ASSERT_NOT_EQUAL(fg_gen_tx_auto_order[i], FG_GEN_TX_AUTO);
		CU_ASSERT_FALSE(seen[fg_gen_tx_auto_order[i]]);
		seen[fg_gen_tx_auto_order[i]] = true;
	}
	CU_ASSERT_EQUAL(fg_gen_tx_auto_order[0], FG_GEN_TX_AF_XDP);
	CU_ASSERT_EQUAL(fg_gen_tx_auto_order[FG_GEN_TX_N - 2], FG_GEN_TX_AFPACKET);
}

static void test_gen_peek_tells_what_next_builds(void)
{
	struct fg_gen *g = make_gen(5, 0.7, 2, 11);
	struct fg_gen_pkt p;

	for (int i = 0; i < 3000; i++) {
		unsigned int feed = 999;
		int is_feed = fg_gen_peek(g, &feed);

		fg_gen_next(g, buf, &p);
		CU_ASSERT_EQUAL(is_feed, p.kind == FG_GEN_FEED);
		if (is_feed)
			CU_ASSERT_EQUAL(feed, p.feed);
		if (is_feed != (p.kind == FG_GEN_FEED) || (is_feed && feed != p.feed)) {
			printf("\n    packet %d: peek said %d/%u, built kind %u feed %u ", i,
			       is_feed, feed, p.kind, p.feed);
			break;
		}
	}
	fg_gen_free(g);
}

static void test_gen_tx_queue_keeps_each_feed_on_one_queue(void)
{
	uint32_t rr = 0, per_q[4] = { 0 };

	for (unsigned int f = 0; f < 64; f++) {
		CU_ASSERT_EQUAL(fg_gen_tx_queue(true, f, 4, &rr), f % 4);
		CU_ASSERT_EQUAL(fg_gen_tx_queue(true, f, 4, &rr), f % 4); /* every time */
		CU_ASSERT_EQUAL(fg_gen_tx_queue(true, f, 1, &rr), 0);
		CU_ASSERT_EQUAL(fg_gen_tx_queue(false, f, 1, &rr), 0);
	}
	CU_ASSERT_EQUAL(rr, 0); /* feeds and one queue leave the turn alone */
	for (int i = 0; i < 400; i++)
		per_q[fg_gen_tx_queue(false, 0, 4, &rr)]++;
	for (int q = 0; q < 4; q++)
		CU_ASSERT_EQUAL(per_q[q], 100);
}

/* --- AF_XDP TX rings, mocked: the test plays the kernel ------------------------------------- */

#define MOCK_FRAMES 8
#define MOCK_TX 4

static struct mock_xsk {
	struct fg_xsk_tx t;
	uint32_t tx_prod, tx_cons, tx_flags, cq_prod, cq_cons, cq_flags;
	struct xdp_desc txr[MOCK_TX];
	uint64_t cqr[MOCK_FRAMES];
	uint64_t free[MOCK_FRAMES];
	uint8_t umem[MOCK_FRAMES * 2048];
} mock;

/* A ring of `size` entries over words of the mock, its indices at `start`. */
static struct fg_xsk_ring mock_ring(uint32_t start, uint32_t size, uint32_t *prod, uint32_t *cons,
				    uint32_t *flags, void *ring)
{
	*prod = *cons = start;
	return (struct fg_xsk_ring){ .cached_prod = start,
				     .cached_cons = start,
				     .mask = size - 1,
				     .size = size,
				     .producer = prod,
				     .consumer = cons,
				     .flags = flags,
				     .ring = ring };
}

/* Rings whose indices all start at `start` (near 2^32: they wrap). */
static struct fg_xsk_tx *mock_init(uint32_t start)
{
	struct fg_xsk_tx *t = &mock.t;

	memset(&mock, 0, sizeof(mock));
	t->fd = -1;
	t->frame_size = 2048;
	t->nframes = MOCK_FRAMES;
	t->umem = mock.umem;
	t->free_addrs = mock.free;
	t->tx = mock_ring(start, MOCK_TX, &mock.tx_prod, &mock.tx_cons, &mock.tx_flags, mock.txr);
	t->comp = mock_ring(start, MOCK_FRAMES, &mock.cq_prod, &mock.cq_cons, &mock.cq_flags,
			    mock.cqr);
	t->submitted_prod = start;
	fg_xsk_tx_reset_frames(t);
	return t;
}

/* The kernel's side: take n published descriptors off TX, in order; return
 * their addresses on the completion ring when `complete`. */
static void mock_kernel_send(uint32_t n, bool complete, uint64_t *addrs)
{
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(mock.tx_prod != mock.tx_cons);
		const struct xdp_desc *d = &mock.txr[mock.tx_cons & (MOCK_TX - 1)];

		if (addrs)
			addrs[i] = d->addr;
		if (complete)
			mock.cqr[mock.cq_prod++ & (MOCK_FRAMES - 1)] = d->addr;
		mock.tx_cons++;
	}
}

/* Reserve one descriptor and write `tag` into its frame. */
static int mock_queue(struct fg_xsk_tx *t, uint8_t tag)
{
	uint32_t idx;
	struct xdp_desc *d;

	if (!fg_xsk_tx_reserve(t, &idx))
		return -1;
	d = fg_xsk_tx_desc(t, idx);
	CU_ASSERT(d->addr % t->frame_size == 0 && d->addr < (uint64_t)t->nframes * t->frame_size);
	fg_xsk_tx_data(t, d->addr)[0] = tag;
	d->len = 60;
	return 0;
}

static void test_xsk_tx_reserve_is_bounded_by_ring_and_frames(void)
{
	static const uint32_t starts[] = { 0, UINT32_MAX - 2 };

	for (size_t s = 0; s < 2; s++) {
		struct fg_xsk_tx *t = mock_init(starts[s]);

		CU_ASSERT_EQUAL(t->nfree, MOCK_FRAMES);
		/* the ring (4 slots) runs out first */
		for (int i = 0; i < MOCK_TX; i++)
			CU_ASSERT_EQUAL(mock_queue(t, (uint8_t)i), 0);
		CU_ASSERT_EQUAL(mock_queue(t, 9), -1);
		/* published only by submit */
		CU_ASSERT_EQUAL(mock.tx_prod, starts[s]);
		CU_ASSERT_EQUAL(fg_xsk_tx_submit(t), MOCK_TX);
		CU_ASSERT_EQUAL(mock.tx_prod, starts[s] + MOCK_TX);
		CU_ASSERT_EQUAL(fg_xsk_tx_unsent(t), MOCK_TX);
		/* the kernel takes them without completing: slots free, frames not */
		mock_kernel_send(MOCK_TX, false, NULL);
		CU_ASSERT_EQUAL(fg_xsk_tx_unsent(t), 0);
		for (int i = 0; i < MOCK_TX; i++)
			CU_ASSERT_EQUAL(mock_queue(t, (uint8_t)i), 0);
		fg_xsk_tx_submit(t);
		mock_kernel_send(MOCK_TX, false, NULL);
		/* now every frame is out: no descriptor without a frame */
		CU_ASSERT_EQUAL(t->nfree, 0);
		CU_ASSERT_EQUAL(mock_queue(t, 9), -1);
		CU_ASSERT_EQUAL(fg_xsk_tx_in_flight(t), MOCK_FRAMES);
		CU_ASSERT_EQUAL(fg_xsk_tx_complete(t), 0);
	}
}

static void test_xsk_tx_completions_return_exactly_the_sent_frames(void)
{
	static const uint32_t starts[] = { 0, UINT32_MAX - 5 };

	for (size_t s = 0; s < 2; s++) {
		struct fg_xsk_tx *t = mock_init(starts[s]);
		uint64_t sent[MOCK_TX];
		uint32_t n;

		for (int i = 0; i < 3; i++)
			mock_queue(t, (uint8_t)(10 + i));
		fg_xsk_tx_submit(t);
		mock_kernel_send(3, true, sent);
		n = fg_xsk_tx_complete(t);
		CU_ASSERT_EQUAL(n, 3);
		CU_ASSERT_EQUAL(t->completed, 3);
		CU_ASSERT_EQUAL(t->queued, 3);
		CU_ASSERT_EQUAL(fg_xsk_tx_in_flight(t), 0);
		CU_ASSERT_EQUAL(t->nfree, MOCK_FRAMES);
		/* the top n entries of the stack are the completed addresses, in order */
		for (uint32_t i = 0; i < n; i++)
			CU_ASSERT_EQUAL(t->free_addrs[t->nfree - n + i], sent[i]);
		/* the completion ring is consumed and its index published */
		CU_ASSERT_EQUAL(mock.cq_cons, starts[s] + 3);
		CU_ASSERT_EQUAL(fg_xsk_tx_complete(t), 0);
		/* warm frames first: the last completed is the next one used */
		mock_queue(t, 1);
		CU_ASSERT_EQUAL(fg_xsk_tx_desc(t, t->tx.cached_prod - 1)->addr, sent[2]);
		/* a completion ring claiming more than is out is not believed */
		mock.cq_prod += 5;
		CU_ASSERT_EQUAL(fg_xsk_tx_complete(t), 1);
		CU_ASSERT_EQUAL(t->nfree, MOCK_FRAMES);
	}
}

static void test_xsk_tx_push_front_resends_before_the_rest(void)
{
	struct fg_xsk_tx *t = mock_init(UINT32_MAX - 1);
	uint64_t taken[1], addr = 0;
	uint32_t at;

	for (int i = 0; i < 3; i++)
		mock_queue(t, (uint8_t)(20 + i)); /* A B C */
	fg_xsk_tx_submit(t);
	/* the kernel takes A and the device drops it (it completes, unsent) */
	mock_kernel_send(1, true, taken);
	at = mock.tx_cons;
	CU_ASSERT_EQUAL(fg_xsk_tx_take_frame(t, &addr), 1);
	CU_ASSERT_NOT_EQUAL(addr, taken[0]);
	memcpy(fg_xsk_tx_data(t, addr), fg_xsk_tx_data(t, taken[0]), 60);
	CU_ASSERT_EQUAL(fg_xsk_tx_push_front(t, at, addr, 60), 0);
	/* the kernel now reads A again, then B, C: nothing reordered */
	CU_ASSERT_EQUAL(mock.tx_prod, at + 3);
	CU_ASSERT_EQUAL(fg_xsk_tx_unsent(t), 3);
	for (uint8_t want = 20; want < 23; want++) {
		const struct xdp_desc *d = &mock.txr[mock.tx_cons & (MOCK_TX - 1)];

		CU_ASSERT_EQUAL(fg_xsk_tx_data(t, d->addr)[0], want);
		CU_ASSERT_EQUAL(d->len, 60);
		mock.tx_cons++;
	}
	CU_ASSERT_EQUAL(t->queued, 4);
	/* a full ring: refused, nothing moved */
	mock_init(0);
	for (int i = 0; i < MOCK_TX; i++)
		mock_queue(t, (uint8_t)i);
	fg_xsk_tx_submit(t);
	CU_ASSERT_EQUAL(fg_xsk_tx_take_frame(t, &addr), 1);
	CU_ASSERT_EQUAL(fg_xsk_tx_push_front(t, 0, addr, 60), -ENOSPC);
	CU_ASSERT_EQUAL(mock.tx_prod, MOCK_TX);
	CU_ASSERT_EQUAL(fg_xsk_tx_data(t, mock.txr[0].addr)[0], 0);
	/* reserved but unsubmitted descriptors: refused too */
	mock_init(0);
	mock_queue(t, 1);
	CU_ASSERT_EQUAL(fg_xsk_tx_take_frame(t, &addr), 1);
	CU_ASSERT_EQUAL(fg_xsk_tx_push_front(t, 0, addr, 60), -ENOSPC);
}

static void test_xsk_tx_kicks_only_when_asked(void)
{
	struct fg_xsk_tx *t = mock_init(0);

	/* no wakeup wanted (zero-copy driver polling): no syscall on fd -1 */
	mock.tx_flags = 0;
	CU_ASSERT_FALSE(fg_xsk_tx_needs_kick(t));
	CU_ASSERT_EQUAL(fg_xsk_tx_kick(t), 0);
	CU_ASSERT_EQUAL(t->kicks, 0);
	/* wanted (always, in copy mode): sendto() on fd -1 fails, and says so */
	mock.tx_flags = XDP_RING_NEED_WAKEUP;
	CU_ASSERT_TRUE(fg_xsk_tx_needs_kick(t));
	CU_ASSERT_EQUAL(fg_xsk_tx_kick(t), -EBADF);
	CU_ASSERT_EQUAL(t->kicks, 1);
}

static const struct fg_test tests[] = {
	FG_TEST(test_gen_feed_packets_are_valid_moldudp64),
	FG_TEST(test_gen_sequence_numbers_run_per_feed),
	FG_TEST(test_gen_stamp_trailer_round_trip),
	FG_TEST(test_gen_stamp_leaves_mold_content_alone),
	FG_TEST(test_gen_itch_stamps_round_trip),
	FG_TEST(test_gen_noise_ratio_and_mix),
	FG_TEST(test_gen_noise_above_one_per_feed_packet),
	FG_TEST(test_gen_packets_stay_within_the_mtu),
	FG_TEST(test_gen_unsend_takes_the_accounting_back),
	FG_TEST(test_gen_rejects_bad_configurations),
	FG_TEST(test_gen_line_b_group_adds_one_to_the_second_octet),
	FG_TEST(test_gen_line_b_frame_carries_line_a_payload),
	FG_TEST(test_gen_loss_ratios_hold_over_many_packets),
	FG_TEST(test_gen_loss_both_drops_the_same_packets_on_both_lines),
	FG_TEST(test_gen_loss_leaves_the_content_alone),
	FG_TEST(test_gen_loss_of_line_a_does_not_depend_on_line_b),
	FG_TEST(test_gen_noise_never_goes_to_a_line_b_group),
	FG_TEST(test_gen_unsend_with_lines_is_a_refusal_on_that_line),
	FG_TEST(test_gen_heartbeat_carries_the_next_sequence_number),
	FG_TEST(test_gen_rejects_bad_lines_and_loss),
	FG_TEST(test_gen_first_packet_of_a_feed_is_never_lost),
	FG_TEST(test_gen_server_gives_back_packets_lost_on_every_line),
	FG_TEST(test_pacer_never_sends_early_and_catches_up),
	FG_TEST(test_pacer_sleeping_waits_for_a_burst),
	FG_TEST(test_pacer_evenly_paced_is_the_old_formula),
	FG_TEST(test_pacer_burst_window_and_base_rates),
	FG_TEST(test_pacer_burst_mean_rate_is_exact),
	FG_TEST(test_pacer_burst_count_inverts_due),
	FG_TEST(test_pacer_burst_large_n_no_drift),
	FG_TEST(test_pacer_burst_keeps_precision_far_out),
	FG_TEST(test_pacer_burst_catches_up),
	FG_TEST(test_pacer_burst_factor_one_is_even),
	FG_TEST(test_pacer_burst_rejects_bad_parameters),
	FG_TEST(test_pacer_burst_waits_follow_the_schedule),
	FG_TEST(test_gen_parse_duration),
	FG_TEST(test_gen_shortfall_is_the_fraction_missing),
	FG_TEST(test_gen_tx_names_and_auto_order),
	FG_TEST(test_gen_peek_tells_what_next_builds),
	FG_TEST(test_gen_tx_queue_keeps_each_feed_on_one_queue),
	FG_TEST(test_xsk_tx_reserve_is_bounded_by_ring_and_frames),
	FG_TEST(test_xsk_tx_completions_return_exactly_the_sent_frames),
	FG_TEST(test_xsk_tx_push_front_resends_before_the_rest),
	FG_TEST(test_xsk_tx_kicks_only_when_asked),
};

FG_TEST_MAIN("gen", tests, NULL, NULL)
