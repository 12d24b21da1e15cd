/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between the XDP program (bpf/feedgate.bpf.c) and user space: map
 * keys and values, the metadata written in front of redirected frames, and
 * the counters. Plain __u* types only and no includes: the BPF side gets them
 * from vmlinux.h, user space from <linux/types.h> (included before this).
 *
 * Every field compared on the hot path is stored in network byte order, so
 * the program never swaps bytes: rule key ports and addresses are exactly the
 * bytes on the wire. This also makes a `bpftool map update ... key hex ...`
 * line read like the packet header it matches.
 */
#ifndef FG_MAPS_H
#define FG_MAPS_H

/* Limits; each can be overridden with -D at build time (both sides!). */
#ifndef FG_MAX_RULES
#define FG_MAX_RULES 4096 /* feed_rules entries; also rule ids 0..FG_MAX_RULES-1 */
#endif
#ifndef FG_MAX_QUEUES
#define FG_MAX_QUEUES 64 /* xsk_map / queue_stats entries */
#endif
#ifndef FG_MAX_VLAN
#define FG_MAX_VLAN 2 /* 802.1Q / 802.1ad tags walked */
#endif
#ifndef FG_MAX_IPV6_EXT
#define FG_MAX_IPV6_EXT 6 /* IPv6 extension headers walked before giving up */
#endif

#define FG_FEED_NAME_LEN 16

/* Pinned map names (also their names in the kernel: at most 15 chars). */
#define FG_MAP_RULES "feed_rules"
#define FG_MAP_RULE_STATS "rule_stats"
#define FG_MAP_STATS "filter_stats"
#define FG_MAP_QUEUE_STATS "queue_stats"
#define FG_MAP_CONFIG "fg_config"
#define FG_MAP_XSK "xsk_map"
#define FG_PROG_NAME "fg_xdp_filter"

/* Address families in rule keys: Linux AF_* values. */
#define FG_FAMILY_IPV4 2
#define FG_FAMILY_IPV6 10

/* Rule actions, and the miss / fragment policies (0 is never valid). */
#define FG_ACTION_PASS 1
#define FG_ACTION_DROP 2
#define FG_ACTION_REDIRECT 3

/*
 * feed_rules key: {family, UDP destination port, destination address}.
 * IPv4 addresses sit in addr[0], addr[1..3] are zero. The all-zero address
 * is the wildcard for its port, looked up after the exact key misses.
 */
struct fg_rule_key {
	__u8 family; /* FG_FAMILY_IPV4 / FG_FAMILY_IPV6 */
	__u8 pad; /* must be 0 */
	__u16 dport; /* network byte order */
	__u32 addr[4]; /* network byte order */
};

/*
 * feed_rules value. A non-zero src_prefix_len restricts the rule to sources
 * inside src_addr/src_prefix_len (same family as the key); a source outside
 * the prefix is a miss for this key (the wildcard is still tried).
 */
struct fg_rule {
	__u32 rule_id; /* index into rule_stats, < FG_MAX_RULES */
	__u8 action; /* FG_ACTION_* */
	__u8 src_prefix_len; /* 0 = any source; <= 32 (IPv4) or 128 (IPv6) */
	__u16 feed_id; /* carried to user space in struct fg_stamp */
	__u32 src_addr[4]; /* network byte order, host bits zero */
	char feed_name[FG_FEED_NAME_LEN]; /* NUL-padded, for people, not for the program */
};

/* rule_stats value (per CPU), indexed by rule_id. */
struct fg_rule_stats {
	__u64 packets;
	__u64 bytes;
};

/*
 * Stamp modes: how a redirected frame carries its struct fg_stamp.
 *   META  in the XDP metadata area, in front of the frame (bpf_xdp_adjust_meta);
 *         a frame the driver refuses metadata for goes out in HEAD form
 *   HEAD  prepended to the frame itself (bpf_xdp_adjust_head): the AF_XDP
 *         descriptor starts at the record, the consumer steps over it
 *   NONE  no record; the consumer classifies the frame by the rules
 * Any other value in fg_config.stamp_mode (0 included) stamps nothing.
 */
#define FG_STAMP_NONE 1
#define FG_STAMP_META 2
#define FG_STAMP_HEAD 3

/* fg_config (array, one entry): settings that may change while attached. */
struct fg_config {
	__u8 miss_policy; /* FG_ACTION_PASS (default) or FG_ACTION_DROP */
	__u8 frag_policy; /* non-first IPv4/IPv6 fragments: PASS (default) or DROP */
	__u8 stamp_mode; /* FG_STAMP_*: may be changed live */
	__u8 meta_ok; /* 1: the loaded program may call bpf_xdp_adjust_meta (probed at attach) */
	__u8 pad[4];
	__u64 stamp_cookie; /* random, non-zero, per attach: written in every stamp */
};

/* filter_stats (per CPU, one entry): every received packet lands in exactly
 * one pass_*, drop_* or redirected counter. */
struct fg_filter_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 redirected;
	__u64 pass_rule; /* rule with action pass */
	__u64 pass_no_rule; /* miss under the pass policy (includes non-IP) */
	__u64 pass_control; /* ARP, ICMP, ICMPv6 (ND, MLD), IGMP */
	__u64 pass_frag; /* non-first fragment under the pass fragment policy */
	__u64 pass_fallback; /* redirect with no socket on the queue, policy pass */
	__u64 drop_rule; /* rule with action drop */
	__u64 drop_no_rule; /* miss under the drop policy */
	__u64 drop_malformed;
	__u64 drop_frag; /* non-first fragment under the drop fragment policy */
	__u64 drop_fallback; /* redirect with no socket on the queue, policy drop */
	__u64 redirect_fallback; /* = pass_fallback + drop_fallback, kept for people */
	/* How the redirected frames were stamped (outside the partition above). */
	__u64 stamp_meta; /* record in the metadata area */
	__u64 stamp_head; /* record prepended in the headroom */
	__u64 stamp_meta_refused; /* META wanted, refused by the driver at run time: sent as HEAD */
	__u64 stamp_failed; /* a stamp wanted but no room for it: sent without */
};

/* queue_stats (per CPU), indexed by rx queue. */
struct fg_queue_stats {
	__u64 redirected;
	__u64 no_socket; /* redirect wanted, no AF_XDP socket on this queue */
};

/*
 * The stamp of a redirected frame. META mode: written with
 * bpf_xdp_adjust_meta() immediately in front of the frame, user space
 * finds it at (frame data - sizeof(struct fg_stamp)). HEAD mode: the first
 * sizeof(struct fg_stamp) bytes of the AF_XDP descriptor, the frame after
 * it. A record counts only with the magic AND the cookie of the attachment
 * in force (fg_config.stamp_cookie): a frame that merely starts with the
 * right 16 bits, or a record left in a reused UMEM frame's headroom by an
 * earlier attachment, is not taken. Size: a multiple of 4 (the kernel's
 * rule for metadata), at most 32.
 */
struct fg_stamp {
	__u64 rx_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) at XDP time */
	__u32 rule_id;
	__u16 feed_id;
	__u16 magic; /* FG_STAMP_MAGIC */
	__u64 cookie; /* fg_config.stamp_cookie */
};

#define FG_STAMP_MAGIC 0xfe3d
#define FG_STAMP_LEN 24 /* sizeof(struct fg_stamp), for the BPF side's adjust calls */

/* The layout both sides compile against: a change here is an ABI change
 * (the loader also compares the live maps' key and value sizes). */
_Static_assert(sizeof(struct fg_rule_key) == 20, "fg_rule_key layout");
_Static_assert(sizeof(struct fg_rule) == 40, "fg_rule layout");
_Static_assert(sizeof(struct fg_rule_stats) == 16, "fg_rule_stats layout");
_Static_assert(sizeof(struct fg_config) == 16, "fg_config layout");
_Static_assert(sizeof(struct fg_filter_stats) == 18 * 8, "fg_filter_stats layout");
_Static_assert(sizeof(struct fg_queue_stats) == 16, "fg_queue_stats layout");
_Static_assert(sizeof(struct fg_stamp) == FG_STAMP_LEN, "fg_stamp layout");
_Static_assert(FG_STAMP_LEN % 4 == 0 && FG_STAMP_LEN <= 32, "metadata: multiple of 4, <= 32");

#endif /* FG_MAPS_H */
