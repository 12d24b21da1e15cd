// SPDX-License-Identifier: MIT
/*
 * User-space L2-L4 parsing (user/lib/fg_net.c): VLAN and QinQ, IPv4 with
 * options and fragments, IPv6 with extension headers, UDP lengths, L3
 * frames, truncation at every byte, and GROUP:PORT parsing.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fg_cunit.h"
#include "fg_net.h"

struct fb {
	uint8_t b[512];
	size_t len;
};

static void add(struct fb *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void add16(struct fb *f, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	add(f, x, 2);
}

static void eth(struct fb *f, int nvlan, uint16_t ethertype)
{
	static const uint8_t macs[12] = { 0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f,
					  0xd4, 0xaf, 0xf7, 0xcb, 0x20, 0xd5 };

	f->len = 0;
	add(f, macs, 12);
	for (int i = 0; i < nvlan; i++) {
		add16(f, i == 0 && nvlan > 1 ? 0x88a8 : 0x8100);
		add16(f, (uint16_t)(100 + i));
	}
	add16(f, ethertype);
}

/* IPv4 header with ihl words (options filled with NOPs), then UDP + payload. */
static void ipv4_udp(struct fb *f, int ihl, uint16_t frag, uint8_t proto, const char *payload)
{
	size_t plen = strlen(payload), ip0 = f->len;
	uint16_t tot = (uint16_t)(ihl * 4 + 8 + plen);
	uint8_t h[60] = { 0 };

	h[0] = (uint8_t)(0x40 | ihl);
	h[2] = (uint8_t)(tot >> 8);
	h[3] = (uint8_t)tot;
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, "\xce\xc8\x7f\x8a", 4); /* 206.200.127.138 */
	memcpy(h + 16, "\xe9\x36\x0c\x6f", 4); /* 233.54.12.111 */
	for (int i = 20; i < ihl * 4; i++)
		h[i] = 1;
	add(f, h, (size_t)(ihl < 5 ? 20 : ihl * 4));
	add16(f, 49653);
	add16(f, 26477);
	add16(f, (uint16_t)(8 + plen));
	add16(f, 0);
	add(f, payload, plen);
	(void)ip0;
}

/* IPv6 header + the given extension headers (each 8 bytes, next-header chained) + UDP. */
static void ipv6_udp(struct fb *f, const uint8_t *ext_types, int next, const char *payload)
{
	size_t plen = strlen(payload);
	uint16_t pl = (uint16_t)(next * 8 + 8 + plen);
	uint8_t h[40] = { 0x60 };

	h[4] = (uint8_t)(pl >> 8);
	h[5] = (uint8_t)pl;
	h[6] = next ? ext_types[0] : 17;
	h[7] = 64;
	inet_pton(AF_INET6, "fd00::1", h + 8);
	inet_pton(AF_INET6, "ff15::1", h + 24);
	add(f, h, 40);
	for (int i = 0; i < next; i++) {
		uint8_t e[8] = { 0 };

		e[0] = i + 1 < next ? ext_types[i + 1] : 17;
		e[1] = 0; /* 8 bytes (fragment header: reserved) */
		add(f, e, 8);
	}
	add16(f, 1000);
	add16(f, 5000);
	add16(f, (uint16_t)(8 + plen));
	add16(f, 0);
	add(f, payload, plen);
}

/* Parse from an allocation of exactly len bytes. */
static int parse_exact(const uint8_t *b, size_t len, int l3, struct fg_flow *flow,
		       char *payload_out, size_t cap)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct fg_frame fr = { 0 };
	const uint8_t *pl = NULL;
	uint32_t plen = 0;
	int rc;

	memcpy(copy, b, len);
	fr.data = copy;
	fr.len = (uint32_t)len;
	fr.l3 = (uint8_t)l3;
	rc = fg_net_parse(&fr, flow, &pl, &plen);
	if (payload_out) {
		payload_out[0] = '\0';
		if (rc == FG_NET_UDP && plen < cap) {
			CU_ASSERT(pl >= copy && pl + plen <= copy + len);
			memcpy(payload_out, pl, plen);
			payload_out[plen] = '\0';
		}
	}
	free(copy);
	return rc;
}

static void test_ipv4_udp_untagged(void)
{
	struct fb f;
	struct fg_flow flow;
	char pl[64], name[64];

	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0x4000 /* DF */, 17, "hello");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "hello");
	CU_ASSERT_EQUAL(flow.family, AF_INET);
	CU_ASSERT_EQUAL(flow.nvlan, 0);
	CU_ASSERT_EQUAL(flow.sport, 49653);
	CU_ASSERT_EQUAL(flow.dport, 26477);
	CU_ASSERT_EQUAL(memcmp(flow.dst, "\xe9\x36\x0c\x6f", 4), 0);
	CU_ASSERT_EQUAL(memcmp(flow.src, "\xce\xc8\x7f\x8a", 4), 0);
	fg_net_format_dst(&flow, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "233.54.12.111:26477");
}

static void test_vlan_and_qinq(void)
{
	struct fb f;
	struct fg_flow flow;
	char pl[64];

	eth(&f, 1, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "one tag");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "one tag");
	CU_ASSERT_EQUAL(flow.nvlan, 1);
	CU_ASSERT_EQUAL(flow.vlan[0], 100);

	eth(&f, 2, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "two tags");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "two tags");
	CU_ASSERT_EQUAL(flow.nvlan, 2);
	CU_ASSERT_EQUAL(flow.vlan[1], 101);

	eth(&f, 3, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "three");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_L2);
}

static void test_ipv4_options_and_bad_ihl(void)
{
	struct fb f;
	struct fg_flow flow;
	char pl[64];

	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 7, 0, 17, "opts");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "opts");

	for (int ihl = 0; ihl < 5; ihl++) {
		eth(&f, 0, 0x0800);
		ipv4_udp(&f, 5, 0, 17, "x");
		f.b[14] = (uint8_t)(0x40 | ihl);
		CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);
	}
	/* IHL larger than the frame. */
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "x");
	f.b[14] = 0x4f;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);
	/* Version 6 behind an IPv4 ethertype. */
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "x");
	f.b[14] = 0x65;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);
}

static void test_ipv4_fragments_are_not_udp(void)
{
	struct fb f;
	struct fg_flow flow;

	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0x2000 /* MF */, 17, "first");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_FRAGMENT);
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0x0010 /* offset 128 */, 17, "later");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_FRAGMENT);
}

static void test_lengths_and_padding(void)
{
	struct fb f;
	struct fg_flow flow;
	char pl[64];

	/* Ethernet padding after the datagram is not payload. */
	eth(&f, 1, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "ab");
	memset(f.b + f.len, 0, 20);
	f.len += 20;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "ab");

	/* IP total length beyond the frame. */
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "abcd");
	f.b[17] += 1;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);

	/* UDP length below 8, and beyond the IP payload. */
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0, 17, "abcd");
	f.b[14 + 20 + 5] = 7;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_UDP);
	f.b[14 + 20 + 5] = 13;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_UDP);
	f.b[14 + 20 + 5] = 8; /* an empty datagram is fine */
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "");
}

static void test_not_ip_and_not_udp(void)
{
	struct fb f;
	struct fg_flow flow;

	eth(&f, 0, 0x0806); /* ARP */
	memset(f.b + f.len, 0, 28);
	f.len += 28;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_NOT_IP);
	eth(&f, 0, 0x0800);
	ipv4_udp(&f, 5, 0, 6 /* TCP */, "tcp");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_NOT_UDP);
	CU_ASSERT_STRING_EQUAL(fg_net_kind_name(FG_NET_NOT_UDP), "not_udp");
}

static void test_ipv6_plain_and_extension_headers(void)
{
	static const uint8_t hbh_dst[] = { 0, 60 };
	static const uint8_t routing[] = { 43 };
	static const uint8_t frag[] = { 44 };
	static const uint8_t esp[] = { 50 };
	uint8_t many[FG_NET_MAX_EXT_HDRS + 1];
	struct fb f;
	struct fg_flow flow;
	char pl[64], name[64];

	eth(&f, 1, 0x86dd);
	ipv6_udp(&f, NULL, 0, "v6");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "v6");
	CU_ASSERT_EQUAL(flow.family, AF_INET6);
	fg_net_format_dst(&flow, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "[ff15::1]:5000");

	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, hbh_dst, 2, "ext");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "ext");

	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, routing, 1, "rt");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);

	/* Atomic fragment (offset 0, M clear) is whole; a real fragment is not. */
	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, frag, 1, "atomic");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "atomic");
	f.b[14 + 40 + 3] = 1; /* M flag */
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_FRAGMENT);

	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, esp, 1, "esp");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_NOT_UDP);

	/* The walk is bounded. */
	memset(many, 60, sizeof(many));
	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, many, (int)sizeof(many), "deep");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);
	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, many, FG_NET_MAX_EXT_HDRS, "deep");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_UDP);

	/* An extension header claiming more than there is. */
	eth(&f, 0, 0x86dd);
	ipv6_udp(&f, hbh_dst, 2, "ext");
	f.b[14 + 40 + 1] = 20;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 0, &flow, NULL, 0), FG_NET_BAD_IP);
}

static void test_l3_frames(void)
{
	struct fb f;
	struct fg_flow flow;
	char pl[64];

	f.len = 0;
	ipv4_udp(&f, 5, 0, 17, "raw4");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 1, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "raw4");
	f.len = 0;
	ipv6_udp(&f, NULL, 0, "raw6");
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 1, &flow, pl, sizeof(pl)), FG_NET_UDP);
	CU_ASSERT_STRING_EQUAL(pl, "raw6");
	f.b[0] = 0x20;
	CU_ASSERT_EQUAL(parse_exact(f.b, f.len, 1, &flow, NULL, 0), FG_NET_NOT_IP);
	CU_ASSERT_EQUAL(parse_exact(f.b, 0, 1, &flow, NULL, 0), FG_NET_BAD_IP);
}

/* Every prefix of valid frames is rejected (never UDP), without reading past it. */
static void test_truncation_at_every_byte(void)
{
	static const uint8_t hbh[] = { 0 };
	struct fb f[3];
	struct fg_flow flow;

	eth(&f[0], 2, 0x0800);
	ipv4_udp(&f[0], 6, 0, 17, "payload");
	eth(&f[1], 1, 0x86dd);
	ipv6_udp(&f[1], hbh, 1, "payload");
	eth(&f[2], 0, 0x0800);
	ipv4_udp(&f[2], 5, 0, 17, "");
	for (int k = 0; k < 3; k++) {
		CU_ASSERT_EQUAL(parse_exact(f[k].b, f[k].len, 0, &flow, NULL, 0), FG_NET_UDP);
		for (size_t len = 0; len < f[k].len; len++) {
			int rc = parse_exact(f[k].b, len, 0, &flow, NULL, 0);

			CU_ASSERT(rc == FG_NET_BAD_L2 || rc == FG_NET_BAD_IP ||
				  rc == FG_NET_BAD_UDP);
		}
	}
}

static void test_endpoint_parsing(void)
{
	uint8_t fam, addr[16];
	uint16_t port;

	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1:5000", &fam, addr, &port), 0);
	CU_ASSERT_EQUAL(fam, AF_INET);
	CU_ASSERT_EQUAL(memcmp(addr, "\xef\x01\x01\x01", 4), 0);
	CU_ASSERT_EQUAL(port, 5000);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("[ff15::1]:65535", &fam, addr, &port), 0);
	CU_ASSERT_EQUAL(fam, AF_INET6);
	CU_ASSERT_EQUAL(addr[0], 0xff);
	CU_ASSERT_EQUAL(addr[15], 1);
	CU_ASSERT_EQUAL(port, 65535);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("0.0.0.0:0", &fam, addr, &port), 0);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1:65536", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1:", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1:5000", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("ff15::1:5000", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("[ff15::1]5000", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1:-1", &fam, addr, &port), -EINVAL);
	CU_ASSERT_EQUAL(fg_net_parse_endpoint("239.1.1.1:50x", &fam, addr, &port), -EINVAL);
}

static const struct fg_test tests[] = {
	FG_TEST(test_ipv4_udp_untagged),
	FG_TEST(test_vlan_and_qinq),
	FG_TEST(test_ipv4_options_and_bad_ihl),
	FG_TEST(test_ipv4_fragments_are_not_udp),
	FG_TEST(test_lengths_and_padding),
	FG_TEST(test_not_ip_and_not_udp),
	FG_TEST(test_ipv6_plain_and_extension_headers),
	FG_TEST(test_l3_frames),
	FG_TEST(test_truncation_at_every_byte),
	FG_TEST(test_endpoint_parsing),
};

FG_TEST_MAIN("net", tests, NULL, NULL)
