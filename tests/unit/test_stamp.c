// SPDX-License-Identifier: MIT
/*
 * The consumer's side of the XDP stamp (user/lib/fg_stamp.h) on UMEM frames
 * mocked in memory, and the feed table that classifies frames without a
 * stamp (user/lib/fg_ftab.c), including its replacement under readers.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fg_cunit.h"
#include "fg_ftab.h"
#include "fg_stamp.h"

#define COOKIE 0xc0ffee0012345678ull
#define FRAME 2048
#define HEADROOM 256

static uint8_t umem[2 * FRAME];

/* A UDP/IPv4 frame to dst:port from src, 14 + 20 + 8 + 16 bytes. */
static uint32_t eth_udp(uint8_t *p, const char *src, const char *dst, uint16_t port)
{
	memset(p, 0, 58);
	p[12] = 0x08;
	p[14] = 0x45;
	p[17] = 44;
	p[22] = 64;
	p[23] = 17;
	inet_pton(AF_INET, src, p + 26);
	inet_pton(AF_INET, dst, p + 30);
	p[34] = 0x9c;
	p[35] = 0x40;
	p[36] = (uint8_t)(port >> 8);
	p[37] = (uint8_t)port;
	p[39] = 24;
	return 58;
}

static void put_stamp(uint8_t *at, uint32_t rule, uint16_t feed, uint64_t cookie)
{
	struct fg_stamp s = { .rx_ns = 12345,
			      .rule_id = rule,
			      .feed_id = feed,
			      .magic = FG_STAMP_MAGIC,
			      .cookie = cookie };

	memcpy(at, &s, sizeof(s));
}

static void test_stamp_meta_is_read_and_wiped_so_a_reused_frame_never_shows_it(void)
{
	uint8_t *data = umem + HEADROOM, *d;
	uint32_t len = eth_udp(data, "10.0.0.1", "239.1.1.1", 5000), l;
	struct fg_stamp s;

	memset(umem, 0, sizeof(umem));
	eth_udp(data, "10.0.0.1", "239.1.1.1", 5000);
	put_stamp(data - FG_STAMP_LEN, 7, 3, COOKIE);
	d = data;
	l = len;
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), FG_STAMP_META);
	CU_ASSERT(d == data && l == len);
	CU_ASSERT(s.rule_id == 7 && s.feed_id == 3 && s.rx_ns == 12345);
	/* The frame comes back with a new packet in it and no metadata: the
	 * old record must not be taken for the new packet's. */
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), 0);
	CU_ASSERT(d == data && l == len);
}

static void test_stamp_needs_the_cookie_of_the_attachment(void)
{
	uint8_t *data = umem + HEADROOM, *d = data;
	uint32_t len, l;
	struct fg_stamp s;

	memset(umem, 0, sizeof(umem));
	len = eth_udp(data, "10.0.0.1", "239.1.1.1", 5000);
	l = len;
	put_stamp(data - FG_STAMP_LEN, 7, 3, COOKIE ^ 1); /* an earlier attachment's */
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), 0);
	put_stamp(data - FG_STAMP_LEN, 7, 3, COOKIE);
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, 0, &s), 0); /* no cookie known */
	CU_ASSERT(d == data && l == len);
}

static void test_stamp_head_is_stepped_over(void)
{
	uint8_t *data = umem + HEADROOM, *d = data;
	uint32_t l;
	struct fg_stamp s;

	memset(umem, 0, sizeof(umem));
	put_stamp(data, 9, 4, COOKIE);
	l = FG_STAMP_LEN + eth_udp(data + FG_STAMP_LEN, "10.0.0.1", "239.1.1.1", 5000);
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), FG_STAMP_HEAD);
	CU_ASSERT(d == data + FG_STAMP_LEN && l == 58);
	CU_ASSERT(s.rule_id == 9 && s.feed_id == 4);
	CU_ASSERT(d[12] == 0x08 && d[14] == 0x45); /* the Ethernet frame follows */
}

static void test_stamp_head_of_no_frame_or_a_short_one_is_refused(void)
{
	uint8_t *data = umem + HEADROOM, *d = data;
	uint32_t l;
	struct fg_stamp s;

	/* a record with too few bytes after it to be a frame's prefix */
	memset(umem, 0, sizeof(umem));
	put_stamp(data, 9, 4, COOKIE);
	l = FG_STAMP_MIN_FRAME - 1;
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), 0);
	CU_ASSERT(d == data && l == FG_STAMP_MIN_FRAME - 1);
	/* a frame at offset 0 of its UMEM frame has no metadata area to read */
	d = umem;
	l = eth_udp(umem, "10.0.0.1", "239.1.1.1", 5000);
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, 0, COOKIE, &s), 0);
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, FG_STAMP_LEN - 1, COOKIE, &s), 0);
}

static void test_stamp_an_ethernet_frame_that_looks_like_a_record_is_not_one(void)
{
	uint8_t *data = umem + HEADROOM, *d = data;
	uint32_t l;
	struct fg_stamp s;

	/* Bytes 14-15 of a VLAN frame equal to the magic, cookie different. */
	memset(umem, 0, sizeof(umem));
	l = eth_udp(data, "10.0.0.1", "239.1.1.1", 5000);
	data[14] = FG_STAMP_MAGIC & 0xff;
	data[15] = FG_STAMP_MAGIC >> 8;
	CU_ASSERT_EQUAL(fg_stamp_take(&d, &l, HEADROOM, COOKIE, &s), 0);
	CU_ASSERT(d == data && l == 58);
}

/* --- feed tables ---------------------------------------------------------------------------- */

static struct fg_backend_feed feed(const char *dst, uint16_t port, const char *src, uint8_t plen,
				   uint32_t rule, uint16_t id)
{
	struct fg_backend_feed f = {
		.family = AF_INET, .port = port, .rule_id = rule, .feed_id = id, .src_len = plen
	};

	inet_pton(AF_INET, dst, f.addr);
	if (src)
		inet_pton(AF_INET, src, f.src);
	return f;
}

static uint32_t rule_of(const struct fg_ftab *t, const char *src, const char *dst, uint16_t port)
{
	static uint8_t buf[64];
	struct fg_frame fr = { .data = buf };
	const struct fg_backend_feed *f;

	fr.len = eth_udp(buf, src, dst, port);
	f = fg_ftab_lookup(t, &fr);
	return f ? f->rule_id : FG_RULE_NONE;
}

static void test_ftab_exact_then_wildcard_with_source_prefixes(void)
{
	const struct fg_backend_feed fs[] = {
		feed("239.1.1.1", 5000, NULL, 0, 1, 1),
		feed("239.1.1.2", 5000, "10.1.0.0", 16, 2, 2),
		feed("0.0.0.0", 5000, NULL, 0, 3, 3),
	};
	struct fg_ftab *t;

	CU_ASSERT_FATAL(fg_ftab_build(fs, 3, &t) == 0);
	CU_ASSERT_EQUAL(rule_of(t, "10.9.9.9", "239.1.1.1", 5000), 1);
	CU_ASSERT_EQUAL(rule_of(t, "10.1.2.3", "239.1.1.2", 5000), 2);
	/* outside the exact rule's source prefix: the port's wildcard */
	CU_ASSERT_EQUAL(rule_of(t, "10.2.2.3", "239.1.1.2", 5000), 3);
	CU_ASSERT_EQUAL(rule_of(t, "10.2.2.3", "239.1.1.9", 5000), 3);
	CU_ASSERT_EQUAL(rule_of(t, "10.2.2.3", "239.1.1.1", 5001), FG_RULE_NONE);
	CU_ASSERT(fg_ftab_same(t, fs, 3) && !fg_ftab_same(t, fs, 2));
	fg_ftab_free(t);
	CU_ASSERT(fg_ftab_lookup(NULL, &(struct fg_frame){ .data = umem, .len = 58 }) == NULL);
}

static void test_ftab_live_replacement_waits_for_every_reader(void)
{
	static struct fg_ftab_live live;
	const struct fg_backend_feed a = feed("239.1.1.1", 5000, NULL, 0, 1, 1);
	const struct fg_backend_feed b = feed("239.1.1.1", 5000, NULL, 0, 2, 2);
	struct fg_ftab *ta, *tb, *tc;
	const struct fg_ftab *held;
	uint64_t gen, gen2;
	int r0, r1;

	fg_ftab_live_init(&live);
	r0 = fg_ftab_live_reader(&live);
	r1 = fg_ftab_live_reader(&live);
	CU_ASSERT_FATAL(r0 == 0 && r1 == 1);
	CU_ASSERT(fg_ftab_live_enter(&live, &gen) == NULL);
	CU_ASSERT_FATAL(fg_ftab_build(&a, 1, &ta) == 0 && fg_ftab_build(&b, 1, &tb) == 0 &&
			fg_ftab_build(&b, 1, &tc) == 0);
	CU_ASSERT_EQUAL(fg_ftab_live_publish(&live, ta), 0); /* replaces "none": nothing held */

	/* Reader 0 holds table a through a whole burst while b replaces it. */
	held = fg_ftab_live_enter(&live, &gen);
	CU_ASSERT(held == ta);
	fg_ftab_live_leave(&live, r1, gen);
	CU_ASSERT_EQUAL(fg_ftab_live_publish(&live, tb), 0);
	CU_ASSERT(rule_of(held, "10.0.0.1", "239.1.1.1", 5000) == 1); /* still readable */
	/* a cannot be freed yet: a third table must wait */
	CU_ASSERT_EQUAL(fg_ftab_live_publish(&live, tc), -EBUSY);
	fg_ftab_live_leave(&live, r0, gen); /* the burst ends */
	CU_ASSERT_EQUAL(fg_ftab_live_publish(&live, tc), -EBUSY); /* r0 never saw b's generation */
	held = fg_ftab_live_enter(&live, &gen2);
	CU_ASSERT(held == tb && gen2 > gen);
	fg_ftab_live_leave(&live, r0, gen2);
	fg_ftab_live_leave(&live, r1, gen2);
	CU_ASSERT_EQUAL(fg_ftab_live_publish(&live, tc), 0); /* a freed, b retired */
	held = fg_ftab_live_enter(&live, &gen);
	CU_ASSERT(held == tc);
	fg_ftab_live_free(&live);
}

static const struct fg_test tests[] = {
	FG_TEST(test_stamp_meta_is_read_and_wiped_so_a_reused_frame_never_shows_it),
	FG_TEST(test_stamp_needs_the_cookie_of_the_attachment),
	FG_TEST(test_stamp_head_is_stepped_over),
	FG_TEST(test_stamp_head_of_no_frame_or_a_short_one_is_refused),
	FG_TEST(test_stamp_an_ethernet_frame_that_looks_like_a_record_is_not_one),
	FG_TEST(test_ftab_exact_then_wildcard_with_source_prefixes),
	FG_TEST(test_ftab_live_replacement_waits_for_every_reader),
};

FG_TEST_MAIN("stamp", tests, NULL, NULL)
