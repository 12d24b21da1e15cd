// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `feedgate gen --tx xdp`: the generator's fast path. User space runs this
 * program with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES on a template
 * frame, ingress_ifindex = the sending veth end; every XDP_TX leaves through
 * that device into its peer (which must have an XDP program: feedgate's
 * filter). The kernel does not reset frame contents between runs, so the
 * program rewrites every field that changes, on every run:
 *
 *   feed frames (passthrough == 0): feeds take turns; destination MAC,
 *     group, IP checksum (precomputed per feed), ports, MoldUDP64 session
 *     and sequence number, the order reference numbers of the template's
 *     Add Order / Order Delete pairs (so every order is new and leaves the
 *     book again), the ITCH timestamps, and the send stamp trailer with
 *     bpf_ktime_get_ns() = CLOCK_MONOTONIC.
 *   noise frames (passthrough == 1): sent unchanged, counted.
 *
 *   probe (probe == 1): the trial run user space makes before sending, to
 *     learn whether the kernel allows live frames at all; dropped.
 *
 * User space also attaches it to an idle interface (lo): see the first test
 * in fg_gen_xdp().
 *
 * Template layout (built by user space, described in include/fg_gen_layout.h):
 * Ethernet, IPv4 (no options), UDP, MoldUDP64 header, then npairs x
 * { u16 36, 'A' ..., u16 19, 'D' ... }, then the trailer at trailer_off
 * (ITCH 5.0 sections 4.3.1 and 4.4.5).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fg_gen_layout.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Where the program writes in the IPv4 and UDP headers of a feed frame. */
#define OFF_IP_CSUM (FG_GEN_OFF_IP + __builtin_offsetof(struct iphdr, check))
#define OFF_IP_DADDR (FG_GEN_OFF_IP + __builtin_offsetof(struct iphdr, daddr))
#define OFF_UDP_SPORT (FG_GEN_OFF_UDP + __builtin_offsetof(struct udphdr, source))
#define OFF_UDP_DPORT (FG_GEN_OFF_UDP + __builtin_offsetof(struct udphdr, dest))
/* In a pair: the A message after its length, the D message after the A and its length. */
#define PAIR_OFF_A 2
#define PAIR_OFF_D (2 + FG_GEN_ITCH_LEN_A + 2)

/* Set before load. */
const volatile __u32 tx_ifindex = 0; /* the ingress_ifindex of the test runs */
const volatile __u32 nfeeds = 1;
const volatile __u32 npairs = 0;
const volatile __u32 trailer_off = 0;
const volatile __u16 msg_count = 0;
const volatile __u32 feed_daddr[FG_GEN_MAX_FEEDS]; /* network order */
const volatile __u16 feed_dport[FG_GEN_MAX_FEEDS]; /* network order */
const volatile __u16 feed_sport[FG_GEN_MAX_FEEDS]; /* network order */
const volatile __u16 feed_ipcsum[FG_GEN_MAX_FEEDS]; /* as stored in the header */
const volatile __u8 feed_mac[FG_GEN_MAX_FEEDS][6];
const volatile char feed_session[FG_GEN_MAX_FEEDS][FG_GEN_SESSION_LEN];

/* State and counters, read and written by user space between runs. */
__u32 probe; /* the trial run before sending: drop the frame, count the run */
__u64 probe_runs;
__u32 passthrough;
__u32 next_feed;
__u32 pkt_no;
__u64 next_ref = 1;
__u64 next_seq[FG_GEN_MAX_FEEDS];
__u64 feed_packets[FG_GEN_MAX_FEEDS];
__u64 noise_packets;
__u64 bad_template;

static __always_inline void put_be64(__u8 *p, __u64 v)
{
	v = bpf_cpu_to_be64(v);
	__builtin_memcpy(p, &v, 8);
}

static __always_inline void put_be48(__u8 *p, __u64 v)
{
	p[0] = v >> 40;
	p[1] = v >> 32;
	p[2] = v >> 24;
	p[3] = v >> 16;
	p[4] = v >> 8;
	p[5] = v;
}

SEC("xdp")
int fg_gen_xdp(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u64 now, ts, seq;
	__u32 f, toff;
	__u8 *p;

	/* Attached (generic mode) to an idle device only so that the kernel's
	 * XDP dispatcher keeps this program and every BPF_PROG_RUN does not
	 * repatch it (an RCU grace period each): real traffic passes. */
	if (ctx->ingress_ifindex != tx_ifindex)
		return XDP_PASS;
	/* User space asks the kernel for one live-frames run before it sends
	 * anything (some kernels refuse them): nothing must leave then. */
	if (probe) {
		probe_runs++;
		return XDP_DROP;
	}
	if (passthrough) {
		noise_packets++;
		return XDP_TX;
	}
	if (data + FG_GEN_OFF_BLOCKS > end) {
		bad_template++;
		return XDP_DROP;
	}
	f = next_feed;
	if (f >= nfeeds || f >= FG_GEN_MAX_FEEDS)
		f = 0;
	next_feed = f + 1 >= nfeeds ? 0 : f + 1;

	__builtin_memcpy(data, (const void *)feed_mac[f], 6);
	__builtin_memcpy(data + OFF_IP_CSUM, (const void *)&feed_ipcsum[f], 2);
	__builtin_memcpy(data + OFF_IP_DADDR, (const void *)&feed_daddr[f], 4);
	__builtin_memcpy(data + OFF_UDP_SPORT, (const void *)&feed_sport[f], 2);
	__builtin_memcpy(data + OFF_UDP_DPORT, (const void *)&feed_dport[f], 2);
	__builtin_memcpy(data + FG_GEN_OFF_MOLD, (const void *)feed_session[f], FG_GEN_SESSION_LEN);
	seq = next_seq[f];
	if (!seq)
		seq = 1;
	put_be64(data + FG_GEN_OFF_MOLD + FG_GEN_MOLD_OFF_SEQ, seq);
	next_seq[f] = seq + msg_count;

	now = bpf_ktime_get_ns();
	ts = now % FG_GEN_NS_PER_DAY;
	for (__u32 i = 0; i < FG_GEN_XDP_MAX_PAIRS; i++) {
		__u64 ref = next_ref;

		if (i >= npairs)
			break;
		p = data + FG_GEN_OFF_BLOCKS + i * FG_GEN_XDP_PAIR_LEN;
		if (p + FG_GEN_XDP_PAIR_LEN > end) {
			bad_template++;
			return XDP_DROP;
		}
		/* the Delete names the order its Add made: the book ends as it began */
		put_be48(p + PAIR_OFF_A + FG_GEN_ITCH_OFF_TIMESTAMP, ts);
		put_be64(p + PAIR_OFF_A + FG_GEN_ITCH_OFF_REF, ref);
		put_be48(p + PAIR_OFF_D + FG_GEN_ITCH_OFF_TIMESTAMP, ts);
		put_be64(p + PAIR_OFF_D + FG_GEN_ITCH_OFF_REF, ref);
		next_ref = ref + 1;
	}

	/* a bound the verifier can see before the packet-end check */
	toff = trailer_off;
	if (toff > FG_GEN_MAX_FRAME - FG_GEN_TRAILER_LEN)
		return XDP_DROP;
	p = data + toff;
	if (p + FG_GEN_TRAILER_LEN > end) {
		bad_template++;
		return XDP_DROP;
	}
	put_be64(p + FG_GEN_TRAILER_OFF_SEND_NS, now);
	{
		__u32 n = bpf_htonl(pkt_no);

		__builtin_memcpy(p + FG_GEN_TRAILER_OFF_PKT_NO, &n, 4);
	}
	pkt_no++;
	feed_packets[f]++;
	return XDP_TX;
}
