// SPDX-License-Identifier: MIT
/*
 * L2-L4 parsing of received frames in user space (see fg_net.h). Header
 * layouts: Ethernet II and IEEE 802.1Q/802.1ad tags, IPv4 (RFC 791), IPv6
 * (RFC 8200, extension headers section 4), UDP (RFC 768). Fields are read
 * byte by byte or through the be16 helper: frames are not aligned.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "feedgate/itch.h" /* fg_load_be16 */
#include "fg_net.h"

#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define IPPROTO_UDP_ 17

static const char *const kind_names[FG_NET_NKINDS] = {
	[FG_NET_UDP] = "udp",		[FG_NET_NOT_IP] = "not_ip", [FG_NET_NOT_UDP] = "not_udp",
	[FG_NET_FRAGMENT] = "fragment", [FG_NET_BAD_L2] = "bad_l2", [FG_NET_BAD_IP] = "bad_ip",
	[FG_NET_BAD_UDP] = "bad_udp",
};

const char *fg_net_kind_name(int kind)
{
	if (kind < 0 || kind >= FG_NET_NKINDS)
		return "unknown";
	return kind_names[kind];
}

/* UDP header at p with len bytes of IP payload behind it. */
static int parse_udp(const uint8_t *p, uint32_t len, struct fg_flow *flow, const uint8_t **payload,
		     uint32_t *plen)
{
	uint16_t ulen;

	if (len < 8)
		return FG_NET_BAD_UDP;
	ulen = fg_load_be16(p + 4);
	if (ulen < 8 || ulen > len)
		return FG_NET_BAD_UDP;
	flow->sport = fg_load_be16(p);
	flow->dport = fg_load_be16(p + 2);
	*payload = p + 8;
	*plen = (uint32_t)ulen - 8;
	return FG_NET_UDP;
}

static int parse_ipv4(const uint8_t *p, uint32_t len, struct fg_flow *flow, const uint8_t **payload,
		      uint32_t *plen)
{
	uint32_t ihl, tot;

	if (len < 20 || (p[0] >> 4) != 4)
		return FG_NET_BAD_IP;
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = fg_load_be16(p + 2);
	if (ihl < 20 || ihl > len || tot < ihl || tot > len)
		return FG_NET_BAD_IP;
	flow->family = AF_INET;
	memset(flow->src, 0, sizeof(flow->src));
	memset(flow->dst, 0, sizeof(flow->dst));
	memcpy(flow->src, p + 12, 4);
	memcpy(flow->dst, p + 16, 4);
	/* More-fragments flag or a non-zero offset: not a whole datagram. */
	if (fg_load_be16(p + 6) & 0x3fff)
		return FG_NET_FRAGMENT;
	if (p[9] != IPPROTO_UDP_)
		return FG_NET_NOT_UDP;
	return parse_udp(p + ihl, tot - ihl, flow, payload, plen);
}

static int parse_ipv6(const uint8_t *p, uint32_t len, struct fg_flow *flow, const uint8_t **payload,
		      uint32_t *plen)
{
	uint32_t off = 40, end;
	uint8_t nh;

	if (len < 40 || (p[0] >> 4) != 6)
		return FG_NET_BAD_IP;
	end = 40 + (uint32_t)fg_load_be16(p + 4);
	if (end == 40 || end > len) /* 0 would be a jumbogram (hop-by-hop option): not on a feed */
		return FG_NET_BAD_IP;
	flow->family = AF_INET6;
	memcpy(flow->src, p + 8, 16);
	memcpy(flow->dst, p + 24, 16);
	nh = p[6];
	for (int i = 0;; i++) {
		uint32_t hl;

		switch (nh) {
		case IPPROTO_UDP_:
			return parse_udp(p + off, end - off, flow, payload, plen);
		case 0: /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
			if (end - off < 8)
				return FG_NET_BAD_IP;
			hl = ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case 51: /* authentication header: length in 4-byte units, minus 2 */
			if (end - off < 8)
				return FG_NET_BAD_IP;
			hl = ((uint32_t)p[off + 1] + 2) * 4;
			break;
		case 44: /* fragment */
			if (end - off < 8)
				return FG_NET_BAD_IP;
			/* Offset or M flag: this is not a whole datagram (an atomic
			 * fragment, offset 0 and M clear, is). */
			if (fg_load_be16(p + off + 2) & 0xfff9)
				return FG_NET_FRAGMENT;
			hl = 8;
			break;
		default: /* TCP, ICMPv6, ESP, no next header, ... */
			return FG_NET_NOT_UDP;
		}
		if (i >= FG_NET_MAX_EXT_HDRS || hl > end - off)
			return FG_NET_BAD_IP;
		nh = p[off];
		off += hl;
	}
}

int fg_net_parse(const struct fg_frame *f, struct fg_flow *flow, const uint8_t **payload,
		 uint32_t *plen)
{
	const uint8_t *p = f->data;
	uint32_t len = f->len, off = ETH_HLEN_;
	uint16_t et;

	flow->nvlan = 0;
	if (f->l3) {
		if (!len)
			return FG_NET_BAD_IP;
		switch (p[0] >> 4) {
		case 4:
			return parse_ipv4(p, len, flow, payload, plen);
		case 6:
			return parse_ipv6(p, len, flow, payload, plen);
		default:
			return FG_NET_NOT_IP;
		}
	}
	if (len < ETH_HLEN_)
		return FG_NET_BAD_L2;
	et = fg_load_be16(p + 12);
	while (et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ || et == ETHERTYPE_QINQ_OLD) {
		if (flow->nvlan == FG_NET_MAX_VLANS || len - off < VLAN_HLEN_)
			return FG_NET_BAD_L2;
		flow->vlan[flow->nvlan++] = fg_load_be16(p + off) & 0x0fff;
		et = fg_load_be16(p + off + 2);
		off += VLAN_HLEN_;
	}
	switch (et) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(p + off, len - off, flow, payload, plen);
	case ETHERTYPE_IPV6:
		return parse_ipv6(p + off, len - off, flow, payload, plen);
	default:
		return FG_NET_NOT_IP;
	}
}

int fg_net_format_dst(const struct fg_flow *flow, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(flow->family, flow->dst, a, sizeof(a)))
		return -EINVAL;
	if (flow->family == AF_INET6)
		return snprintf(buf, cap, "[%s]:%u", a, flow->dport);
	return snprintf(buf, cap, "%s:%u", a, flow->dport);
}

int fg_net_parse_endpoint(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *ps;
	char *end;
	unsigned long v;
	size_t hl;

	memset(addr, 0, 16);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -EINVAL;
		*family = AF_INET6;
		ps = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, addr) != 1)
			return -EINVAL;
		*family = AF_INET;
		ps = colon + 1;
	}
	if (*ps < '0' || *ps > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(ps, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

unsigned int fg_net_sockaddr(uint8_t family, const uint8_t addr[16], uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		return sizeof(*in6);
	}
}
