/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for the XDP filter. Each helper checks the bounds of the
 * header it reads once, advances the cursor, and returns a FG_PARSE_* code;
 * it never reads a byte it has not proven to be inside the packet.
 */
#ifndef FG_PARSE_H
#define FG_PARSE_H

/* Not in vmlinux.h (macros carry no BTF). Kept in host order: compared
 * through bpf_htons() of a constant, which folds at compile time. */
#define FG_ETH_P_IP 0x0800
#define FG_ETH_P_IPV6 0x86DD
#define FG_ETH_P_ARP 0x0806
#define FG_ETH_P_8021Q 0x8100
#define FG_ETH_P_8021AD 0x88A8
#define FG_IP_MF 0x2000
#define FG_IP_OFFSET 0x1FFF
#define FG_IP6_OFFSET 0xFFF8 /* frag_off field of the IPv6 fragment header */
#define FG_IP6_MF 0x0001

#define FG_IPPROTO_HOPOPTS 0
#define FG_IPPROTO_ICMP 1
#define FG_IPPROTO_IGMP 2
#define FG_IPPROTO_UDP 17
#define FG_IPPROTO_ROUTING 43
#define FG_IPPROTO_FRAGMENT 44
#define FG_IPPROTO_ICMPV6 58
#define FG_IPPROTO_DSTOPTS 60

enum fg_parse_result {
	FG_PARSE_UDP = 0, /* a UDP header was found; key and source are filled */
	FG_PARSE_MALFORMED, /* truncated or inconsistent headers */
	FG_PARSE_CONTROL, /* ARP, ICMP, ICMPv6, IGMP: always passes */
	FG_PARSE_FRAGMENT, /* a non-first fragment: no L4 header to look at */
	FG_PARSE_OTHER, /* anything else (TCP, unknown ethertype, ...): a miss */
};

struct fg_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct fg_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct fg_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/*
 * The flow of a UDP packet: its feed_rules key and its source address.
 * Both are written as whole 64-bit words (kw, sw), never field by field:
 * the hash map reads the key back in 4-byte (jhash2) and 8-byte (memcmp)
 * loads, and a load that spans two narrower stores cannot be forwarded
 * from the store buffer. On the lab machines that stall cost 7-9 ns per
 * lookup, twice the whole parse (bench/RESULTS.md, XDP section).
 */
struct fg_flow {
	union {
		struct fg_rule_key key; /* family, dport, daddr (network order) */
		__u64 kw[3]; /* the key's 20 bytes, and 4 bytes nobody reads */
	};
	union {
		__u32 saddr[4];
		__u64 sw[2];
	};
};

/* Byte order of the key's first word {family, pad, dport, addr[0]} and of
 * a 16-byte address loaded as two words: memory order is the wire's. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FG_KW0(family, dport, addr0) \
	((__u64)(family) | ((__u64)(__u16)(dport) << 16) | ((__u64)(__u32)(addr0) << 32))
#define FG_KW0_ADDR 0xffffffff00000000ULL /* the addr[0] bits of kw[0] */
#define FG_LO32(w) ((__u32)(w)) /* the first 4 bytes in memory of a word */
#define FG_HI32(w) ((__u32)((w) >> 32))
#define FG_WORD(first, second) ((__u64)(first) | ((__u64)(second) << 32))
#else
#define FG_KW0(family, dport, addr0) \
	(((__u64)(family) << 56) | ((__u64)(__u16)(dport) << 32) | (__u64)(__u32)(addr0))
#define FG_KW0_ADDR 0x00000000ffffffffULL
#define FG_LO32(w) ((__u32)((w) >> 32))
#define FG_HI32(w) ((__u32)(w))
#define FG_WORD(first, second) (((__u64)(first) << 32) | (__u64)(second))
#endif

/* Ethernet and up to FG_MAX_VLAN 802.1Q / 802.1ad tags. */
static __always_inline int fg_parse_eth(void **pos, void *end, __be16 *proto)
{
	struct ethhdr *eth = *pos;
	__be16 p;

	if ((void *)(eth + 1) > end)
		return FG_PARSE_MALFORMED;
	p = eth->h_proto;
	*pos = eth + 1;
#pragma unroll
	for (int i = 0; i < FG_MAX_VLAN; i++) {
		struct fg_vlan_hdr *vh = *pos;

		if (p != bpf_htons(FG_ETH_P_8021Q) && p != bpf_htons(FG_ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return FG_PARSE_MALFORMED;
		p = vh->proto;
		*pos = vh + 1;
	}
	*proto = p;
	return FG_PARSE_UDP;
}

/* The UDP header at pos: its length must fit inside the L3 payload, except
 * in a first fragment, which by definition carries only part of it. */
/*
 * A 16-bit length from the wire, in host order, that every verifier knows
 * is below 65536. Older ones (Linux 6.1) lose the bounds of bpf_ntohs()'s
 * byte swap and then refuse "pkt pointer + length"; a plain "& 0xffff" is
 * folded away by clang, so the mask is kept with an asm statement.
 */
static __always_inline __u32 fg_len16(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	asm volatile("%0 &= 0xffff" : "+r"(x));
	return x;
}

static __always_inline int fg_parse_udp(void *pos, void *end, void *l3_end, int first_frag,
					__be16 *dport)
{
	struct udphdr *udp = pos;
	__u32 ulen;

	/* l3_end, not just the frame end: bytes past the IP length are link
	 * padding, never a header (a first fragment skips the length check
	 * below, so this is the only bound there). `end` stays for the verifier. */
	if ((void *)(udp + 1) > end || (void *)(udp + 1) > l3_end)
		return FG_PARSE_MALFORMED;
	ulen = fg_len16(udp->len);
	if (ulen < sizeof(*udp))
		return FG_PARSE_MALFORMED;
	if (!first_frag && (void *)udp + ulen > l3_end)
		return FG_PARSE_MALFORMED;
	*dport = udp->dest;
	return FG_PARSE_UDP;
}

static __always_inline int fg_parse_ipv4(void *pos, void *end, struct fg_flow *flow)
{
	struct iphdr *iph = pos;
	__u32 hlen, tot;
	__be16 dport = 0, frag;
	__u8 vihl, proto;
	void *l3_end;
	int res;

	if ((void *)(iph + 1) > end)
		return FG_PARSE_MALFORMED;
	/* Each header field read once; flags compared in network order. */
	vihl = *(__u8 *)iph;
	if ((vihl & 0xf0) != 0x40 || (vihl & 0x0f) < 5)
		return FG_PARSE_MALFORMED;
	hlen = (vihl & 0x0f) * 4;
	tot = fg_len16(iph->tot_len);
	if (tot < hlen || pos + tot > end)
		return FG_PARSE_MALFORMED;
	l3_end = pos + tot;
	if (pos + hlen > end)
		return FG_PARSE_MALFORMED;
	frag = iph->frag_off;
	if (frag & bpf_htons(FG_IP_OFFSET))
		return FG_PARSE_FRAGMENT;
	proto = iph->protocol;
	if (proto == FG_IPPROTO_ICMP || proto == FG_IPPROTO_IGMP)
		return FG_PARSE_CONTROL;
	if (proto != FG_IPPROTO_UDP)
		return FG_PARSE_OTHER;
	res = fg_parse_udp(pos + hlen, end, l3_end, frag & bpf_htons(FG_IP_MF), &dport);
	flow->kw[0] = FG_KW0(FG_FAMILY_IPV4, dport, iph->daddr);
	flow->kw[1] = 0;
	flow->kw[2] = 0;
	flow->sw[0] = FG_WORD(iph->saddr, 0);
	flow->sw[1] = 0; /* never read for IPv4, but the verifier cannot tell */
	return res;
}

static __always_inline int fg_parse_ipv6(void *pos, void *end, struct fg_flow *flow)
{
	struct ipv6hdr *ip6 = pos;
	int first_frag = 0, res;
	__be16 dport = 0;
	void *l3_end;
	__u64 d0, d1;
	__u8 nh;

	if ((void *)(ip6 + 1) > end)
		return FG_PARSE_MALFORMED;
	if (ip6->version != 6)
		return FG_PARSE_MALFORMED;
	l3_end = pos + sizeof(*ip6) + fg_len16(ip6->payload_len);
	if (l3_end > end)
		return FG_PARSE_MALFORMED;
	nh = ip6->nexthdr;
	pos = ip6 + 1;
	/* A bounded walk: a chain longer than FG_MAX_IPV6_EXT is not a feed. */
#pragma unroll
	for (int i = 0; i < FG_MAX_IPV6_EXT; i++) {
		if (nh == FG_IPPROTO_HOPOPTS || nh == FG_IPPROTO_ROUTING ||
		    nh == FG_IPPROTO_DSTOPTS) {
			struct fg_ip6_ext *ext = pos;

			if ((void *)(ext + 1) > end)
				return FG_PARSE_MALFORMED;
			nh = ext->nexthdr;
			pos += (ext->hdrlen + 1) * 8;
			if (pos > l3_end)
				return FG_PARSE_MALFORMED;
		} else if (nh == FG_IPPROTO_FRAGMENT) {
			struct fg_ip6_frag *fh = pos;

			/* Within the payload length too, like the headers above. */
			if ((void *)(fh + 1) > end || (void *)(fh + 1) > l3_end)
				return FG_PARSE_MALFORMED;
			if (bpf_ntohs(fh->frag_off) & FG_IP6_OFFSET)
				return FG_PARSE_FRAGMENT;
			first_frag = bpf_ntohs(fh->frag_off) & FG_IP6_MF;
			nh = fh->nexthdr;
			pos = fh + 1;
		} else {
			break;
		}
	}
	if (nh == FG_IPPROTO_ICMPV6)
		return FG_PARSE_CONTROL;
	if (nh != FG_IPPROTO_UDP)
		return FG_PARSE_OTHER;
	res = fg_parse_udp(pos, end, l3_end, first_frag, &dport);
	/* 8-byte loads at any alignment: the JIT targets (x86-64, arm64) take
	 * them, and the verifier checks packet alignment only when asked to. */
	d0 = *(__u64 *)&ip6->daddr;
	d1 = *((__u64 *)&ip6->daddr + 1);
	flow->kw[0] = FG_KW0(FG_FAMILY_IPV6, dport, FG_LO32(d0));
	flow->kw[1] = FG_WORD(FG_HI32(d0), FG_LO32(d1));
	flow->kw[2] = FG_WORD(FG_HI32(d1), 0);
	flow->sw[0] = *(__u64 *)&ip6->saddr;
	flow->sw[1] = *((__u64 *)&ip6->saddr + 1);
	return res;
}

#endif /* FG_PARSE_H */
