/* SPDX-License-Identifier: MIT */
/*
 * User-space L2-L4 parsing of one received frame: Ethernet with up to two
 * VLAN tags (802.1Q / 802.1ad), IPv4 or IPv6 (bounded extension-header
 * walk), UDP. Every header is bounds-checked before it is read; what is not
 * a complete, unfragmented UDP datagram is classified so the caller can
 * count it. The XDP program has checked most of this already, but frames
 * also come from sockets, AF_PACKET and pcap files, so user space does not
 * trust anything it did not check itself.
 */
#ifndef FG_NET_H
#define FG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "feedgate/frame.h"

#define FG_NET_MAX_VLANS 2
#define FG_NET_MAX_EXT_HDRS 8 /* IPv6 extension headers walked before giving up */

/* What a frame is; 0 means a UDP datagram whose payload was returned. */
enum fg_net_kind {
	FG_NET_UDP = 0,
	FG_NET_NOT_IP, /* ARP, LLDP, ... (not an error) */
	FG_NET_NOT_UDP, /* TCP, ICMP, ESP, ... (not an error) */
	FG_NET_FRAGMENT, /* IPv4 or IPv6 fragment: the UDP payload is not whole */
	FG_NET_BAD_L2, /* truncated Ethernet/VLAN header, more than two tags */
	FG_NET_BAD_IP, /* truncated IP header, IHL < 5, bad lengths, too many ext headers */
	FG_NET_BAD_UDP, /* truncated UDP header, UDP length < 8 or past the IP payload */
	FG_NET_NKINDS
};

/* Where a datagram came from and went to. Addresses in network order, ports in host order. */
struct fg_flow {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t nvlan;
	uint16_t vlan[FG_NET_MAX_VLANS]; /* VLAN ids, outer first */
	uint8_t src[16]; /* IPv4: first 4 bytes, rest zero */
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
};

/*
 * Parse a frame (from Ethernet, or from the IP header when f->l3 is set).
 * Returns an fg_net_kind; on FG_NET_UDP fills *flow and the UDP payload
 * bounds (*payload, *plen), trimmed to the UDP length (no Ethernet padding).
 */
int fg_net_parse(const struct fg_frame *f, struct fg_flow *flow, const uint8_t **payload,
		 uint32_t *plen);

/* snake_case name of a kind, for summaries. */
const char *fg_net_kind_name(int kind);

/* "233.54.12.111:26477" or "[ff15::1]:5000" for the destination of a flow. */
int fg_net_format_dst(const struct fg_flow *flow, char *buf, size_t cap);

/*
 * Parse "GROUP:PORT" ("239.1.1.1:5000", "[ff15::1]:5000"). Returns 0 or
 * -EINVAL; family is AF_INET or AF_INET6, addr in network order.
 */
int fg_net_parse_endpoint(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port);

struct sockaddr_storage;
/* family (AF_INET or AF_INET6), addr (network order) and port (host order)
 * as a socket address for bind() or connect(); returns its length. */
unsigned int fg_net_sockaddr(uint8_t family, const uint8_t addr[16], uint16_t port,
			     struct sockaddr_storage *ss);

#endif /* FG_NET_H */
