/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The frame layout the generator's two senders agree on: user space builds
 * feed frames and the XDP live-frames template (user/lib/fg_gen.c,
 * user/cmd_gen.c), the XDP program (bpf/fg_gen.bpf.c) rewrites the template
 * in place, and the consumer reads the send stamp back. Same rules as
 * fg_maps.h: #defines and plain __u* types only, no includes; the BPF side
 * gets the types from vmlinux.h, user space from <linux/types.h> (included
 * before this). fg_gen.h checks the ITCH and MoldUDP64 lengths below
 * against the library's own.
 */
#ifndef FG_GEN_LAYOUT_H
#define FG_GEN_LAYOUT_H

/* Feeds: the XDP program keeps per-feed tables of this many entries. */
#define FG_GEN_MAX_FEEDS 64
#define FG_GEN_SESSION_LEN 10 /* MoldUDP64 session */

/* A feed frame: Ethernet, IPv4 without options, UDP, MoldUDP64, blocks. */
#define FG_GEN_IP_MTU 1500
#define FG_GEN_OFF_IP 14
#define FG_GEN_OFF_UDP 34
#define FG_GEN_OFF_MOLD 42
#define FG_GEN_MOLD_OFF_SEQ 10 /* u64 BE, after the session */
#define FG_GEN_MOLD_HEADER_LEN 20
#define FG_GEN_OFF_BLOCKS (FG_GEN_OFF_MOLD + FG_GEN_MOLD_HEADER_LEN)

/*
 * The send stamp: FG_GEN_TRAILER_LEN bytes right after the IP datagram, all
 * big endian (layout of struct fg_gen_trailer; the trailer sits at any
 * byte offset, so it is written field by field, never through the struct).
 */
struct fg_gen_trailer {
	__u64 send_ns; /* CLOCK_MONOTONIC ns just before the send */
	__u32 pkt_no; /* feed packet number in this generator run */
	__u32 magic; /* FG_GEN_TRAILER_MAGIC */
};

#define FG_GEN_TRAILER_LEN 16
#define FG_GEN_TRAILER_OFF_SEND_NS 0
#define FG_GEN_TRAILER_OFF_PKT_NO 8
#define FG_GEN_TRAILER_OFF_MAGIC 12
#define FG_GEN_TRAILER_MAGIC 0x46475453u /* "FGTS" */
/* Ethernet + a full-MTU datagram + the trailer: the largest frame built. */
#define FG_GEN_MAX_FRAME (FG_GEN_OFF_IP + FG_GEN_IP_MTU + FG_GEN_TRAILER_LEN)

/*
 * The XDP live-frames template: after the MoldUDP64 header, npairs pairs
 * of { u16 BE length, Add Order (A) } { u16 BE length, Order Delete (D) },
 * then the trailer. The program rewrites the timestamp and the order
 * reference number of both messages of every pair.
 */
#define FG_GEN_XDP_MAX_PAIRS 16 /* so at most 32 messages per template frame */
#define FG_GEN_ITCH_LEN_A 36
#define FG_GEN_ITCH_LEN_D 19
#define FG_GEN_ITCH_OFF_TIMESTAMP 5 /* u48 BE, ns since midnight */
#define FG_GEN_ITCH_OFF_REF 11 /* u64 BE order reference number, in A and D alike */
#define FG_GEN_XDP_PAIR_LEN (2 + FG_GEN_ITCH_LEN_A + 2 + FG_GEN_ITCH_LEN_D)
/* ITCH timestamps wrap at midnight. */
#define FG_GEN_NS_PER_DAY 86400000000000ull

_Static_assert(sizeof(struct fg_gen_trailer) == FG_GEN_TRAILER_LEN, "fg_gen_trailer layout");
_Static_assert(__builtin_offsetof(struct fg_gen_trailer, send_ns) == FG_GEN_TRAILER_OFF_SEND_NS,
	       "fg_gen_trailer send_ns");
_Static_assert(__builtin_offsetof(struct fg_gen_trailer, pkt_no) == FG_GEN_TRAILER_OFF_PKT_NO,
	       "fg_gen_trailer pkt_no");
_Static_assert(__builtin_offsetof(struct fg_gen_trailer, magic) == FG_GEN_TRAILER_OFF_MAGIC,
	       "fg_gen_trailer magic");
_Static_assert(FG_GEN_OFF_UDP == FG_GEN_OFF_IP + 20 && FG_GEN_OFF_MOLD == FG_GEN_OFF_UDP + 8,
	       "feed frames: IPv4 without options, then UDP");
_Static_assert(FG_GEN_OFF_BLOCKS + FG_GEN_XDP_MAX_PAIRS * FG_GEN_XDP_PAIR_LEN +
			       FG_GEN_TRAILER_LEN <=
		       FG_GEN_MAX_FRAME,
	       "the largest XDP template fits a frame");

#endif /* FG_GEN_LAYOUT_H */
