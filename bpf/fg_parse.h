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

struct fg_flow {
	struct fg_rule_key key; /* family, dport, daddr (network order) */
	__u32 saddr[4];
};

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
static __always_inline int fg_parse_udp(void *pos, void *end, void *l3_end, int first_frag,
					struct fg_flow *flow)
{
	struct udphdr *udp = pos;
	__u16 ulen;

	/* l3_end, not just the frame end: bytes past the IP length are link
	 * padding, never a header (a first fragment skips the length check
	 * below, so this is the only bound there). `end` stays for the verifier. */
	if ((void *)(udp + 1) > end || (void *)(udp + 1) > l3_end)
		return FG_PARSE_MALFORMED;
	ulen = bpf_ntohs(udp->len);
	if (ulen < sizeof(*udp))
		return FG_PARSE_MALFORMED;
	if (!first_frag && (void *)udp + ulen > l3_end)
		return FG_PARSE_MALFORMED;
	flow->key.dport = udp->dest;
	return FG_PARSE_UDP;
}

static __always_inline int fg_parse_ipv4(void *pos, void *end, struct fg_flow *flow)
{
	struct iphdr *iph = pos;
	__u32 hlen, tot;
	__u16 frag;
	void *l3_end;

	if ((void *)(iph + 1) > end)
		return FG_PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return FG_PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || pos + tot > end)
		return FG_PARSE_MALFORMED;
	l3_end = pos + tot;
	if (pos + hlen > end)
		return FG_PARSE_MALFORMED;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & FG_IP_OFFSET)
		return FG_PARSE_FRAGMENT;
	if (iph->protocol == FG_IPPROTO_ICMP || iph->protocol == FG_IPPROTO_IGMP)
		return FG_PARSE_CONTROL;
	if (iph->protocol != FG_IPPROTO_UDP)
		return FG_PARSE_OTHER;
	flow->key.family = FG_FAMILY_IPV4;
	flow->key.addr[0] = iph->daddr;
	flow->saddr[0] = iph->saddr;
	return fg_parse_udp(pos + hlen, end, l3_end, frag & FG_IP_MF, flow);
}

static __always_inline int fg_parse_ipv6(void *pos, void *end, struct fg_flow *flow)
{
	struct ipv6hdr *ip6 = pos;
	int first_frag = 0;
	void *l3_end;
	__u8 nh;

	if ((void *)(ip6 + 1) > end)
		return FG_PARSE_MALFORMED;
	if (ip6->version != 6)
		return FG_PARSE_MALFORMED;
	l3_end = pos + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
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
	flow->key.family = FG_FAMILY_IPV6;
	__builtin_memcpy(flow->key.addr, &ip6->daddr, 16);
	__builtin_memcpy(flow->saddr, &ip6->saddr, 16);
	return fg_parse_udp(pos, end, l3_end, first_frag, flow);
}

#endif /* FG_PARSE_H */
