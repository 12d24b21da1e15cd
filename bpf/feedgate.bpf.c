// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feedgate's XDP filter: parse L2-L4 once, look the UDP destination up in
 * feed_rules, and redirect feed packets to the AF_XDP socket of their receive
 * queue with a {time, rule, feed} stamp (in the metadata area, prepended in
 * the headroom, or none: fg_config.stamp_mode). Everything else is passed
 * or dropped at the driver by rule or by policy; control-plane traffic
 * always passes so that attaching never cuts a host off.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fg_maps.h"
#include "fg_bpf_maps.h"
#include "fg_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Cut points for the cost breakdown of `make bench-xdp`: bench/xdp.mk
 * builds this file again with FG_BENCH_CUT=n, and the program then returns
 * XDP_DROP at cut n (1: after the entry counters, 2: after the parse,
 * 3: after the rule lookup), keeping what it computed alive. A normal build
 * never defines it.
 */
#ifdef FG_BENCH_CUT
#define FG_CUT(n, live)                                            \
	do {                                                       \
		if (FG_BENCH_CUT == (n)) {                         \
			asm volatile("" : : "r"(live) : "memory"); \
			return XDP_DROP;                           \
		}                                                  \
	} while (0)
#else
#define FG_CUT(n, live) \
	do {            \
	} while (0)
#endif

/*
 * Set by the loader before load: 0 when the kernel refuses
 * bpf_xdp_adjust_meta() in XDP programs (some builds do, at load time).
 * .rodata is frozen at load, so the verifier knows the value and never
 * walks the branch that calls the helper: the program loads everywhere.
 */
const volatile __u8 fg_meta_ok = 1;

static __always_inline void fg_stamp_fill(struct fg_stamp *s, const struct fg_rule *r, __u64 cookie)
{
	s->rx_ns = bpf_ktime_get_ns();
	s->rule_id = r->rule_id;
	s->feed_id = r->feed_id;
	s->magic = FG_STAMP_MAGIC;
	s->cookie = cookie;
}

/* Stamp the frame as mode says; returns the mode actually used (META,
 * HEAD, or NONE when nothing was written). Packet pointers are stale
 * afterwards. */
static __always_inline int fg_stamp(struct xdp_md *ctx, const struct fg_rule *r, __u8 mode,
				    __u64 cookie, struct fg_filter_stats *st)
{
	struct fg_stamp *s;

	if (mode == FG_STAMP_META) {
		if (fg_meta_ok && bpf_xdp_adjust_meta(ctx, -FG_STAMP_LEN) == 0) {
			s = (void *)(long)ctx->data_meta;
			if ((void *)(s + 1) <= (void *)(long)ctx->data) {
				fg_stamp_fill(s, r, cookie);
				return FG_STAMP_META;
			}
			bpf_xdp_adjust_meta(ctx, FG_STAMP_LEN);
		}
		/* The driver (or the kernel) has no metadata for this frame. */
		st->stamp_meta_refused++;
		mode = FG_STAMP_HEAD;
	}
	if (mode == FG_STAMP_HEAD) {
		if (bpf_xdp_adjust_head(ctx, -FG_STAMP_LEN) == 0) {
			s = (void *)(long)ctx->data;
			if ((void *)(s + 1) <= (void *)(long)ctx->data_end) {
				fg_stamp_fill(s, r, cookie);
				return FG_STAMP_HEAD;
			}
			bpf_xdp_adjust_head(ctx, FG_STAMP_LEN);
		}
		st->stamp_failed++;
	}
	return FG_STAMP_NONE;
}

/* Does saddr fall inside the rule's source prefix? Lengths beyond the
 * family's width (only possible through a hand-written bpftool update) are
 * clamped to a full-address match. */
static __always_inline int fg_src_match(const struct fg_rule *r, const struct fg_flow *flow)
{
	__u32 plen = r->src_prefix_len;
	__u32 words = flow->key.family == FG_FAMILY_IPV4 ? 1 : 4;

	if (!plen)
		return 1;
#pragma unroll
	for (__u32 i = 0; i < 4; i++) {
		__u32 bits, mask;

		if (i < words && plen > i * 32) {
			bits = plen - i * 32;
			mask = bits >= 32 ? 0xffffffff : bpf_htonl(~((1U << (32 - bits)) - 1));
			if ((flow->saddr[i] & mask) != (r->src_addr[i] & mask))
				return 0;
		}
	}
	return 1;
}

/* Exact {family, dport, daddr} first, then the wildcard address. A rule
 * whose source prefix does not match is a miss for its key. The key is
 * rewritten in whole words, as fg_parse wrote it (see struct fg_flow). */
static __always_inline struct fg_rule *fg_rule_lookup(struct fg_flow *flow)
{
	__u64 kw0 = flow->kw[0];
	struct fg_rule *r;

	r = bpf_map_lookup_elem(&feed_rules, &flow->key);
	if (r && fg_src_match(r, flow))
		return r;
	if (!((kw0 & FG_KW0_ADDR) | flow->kw[1] | flow->kw[2]))
		return 0;
	flow->kw[0] = kw0 & ~FG_KW0_ADDR;
	flow->kw[1] = 0;
	flow->kw[2] = 0;
	r = bpf_map_lookup_elem(&feed_rules, &flow->key);
	if (r && fg_src_match(r, flow))
		return r;
	return 0;
}

/*
 * The live settings. Looked up where a verdict needs them, not once up
 * front: the lookup itself is a few inlined instructions, but a pointer
 * held across the parse and the rule lookup costs register spills on every
 * packet (~1-2 ns measured). NULL (the map is always there) means defaults.
 */
static __always_inline const struct fg_config *fg_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fg_config, &zero);
}

/* A miss or fragment policy's verdict, counted: anything but DROP
 * (including 0, an unset config) passes. */
static __always_inline int fg_policy(__u8 policy, __u64 *passed, __u64 *dropped)
{
	if (policy == FG_ACTION_DROP) {
		(*dropped)++;
		return XDP_DROP;
	}
	(*passed)++;
	return XDP_PASS;
}

static __always_inline int fg_miss(struct fg_filter_stats *st)
{
	const struct fg_config *cfg = fg_cfg();

	return fg_policy(cfg ? cfg->miss_policy : 0, &st->pass_no_rule, &st->drop_no_rule);
}

/*
 * Hand the frame to the socket of its queue, then stamp it; without a
 * socket, fall back to the miss policy. The XSKMAP lookup is inlined by the
 * verifier and answers "no socket" without the helper call (2-3 ns less on
 * that path, nothing more with a socket). bpf_redirect_map() only records
 * the target (the frame moves after the program returns), so the stamp
 * follows a redirect that is sure to happen: a socket removed in between
 * makes the helper fail, and nothing was stamped that must be taken back.
 */
static __always_inline int fg_redirect(struct xdp_md *ctx, const struct fg_rule *r,
				       struct fg_filter_stats *st)
{
	__u32 q = ctx->rx_queue_index;
	struct fg_queue_stats *qs = bpf_map_lookup_elem(&queue_stats, &q);
	const struct fg_config *cfg;
	int used;

	if (!bpf_map_lookup_elem(&xsk_map, &q) ||
	    bpf_redirect_map(&xsk_map, q, 0) != XDP_REDIRECT) {
		if (qs)
			qs->no_socket++;
		st->redirect_fallback++;
		cfg = fg_cfg();
		return fg_policy(cfg ? cfg->miss_policy : 0, &st->pass_fallback,
				 &st->drop_fallback);
	}
	if (qs)
		qs->redirected++;
	st->redirected++;
	cfg = fg_cfg();
	if (cfg && (cfg->stamp_mode == FG_STAMP_META || cfg->stamp_mode == FG_STAMP_HEAD)) {
		used = fg_stamp(ctx, r, cfg->stamp_mode, cfg->stamp_cookie, st);
		if (used == FG_STAMP_META)
			st->stamp_meta++;
		else if (used == FG_STAMP_HEAD)
			st->stamp_head++;
	}
	return XDP_REDIRECT;
}

SEC("xdp")
int fg_xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct fg_config *cfg;
	struct fg_filter_stats *st;
	struct fg_rule_stats *rs;
	struct fg_flow flow;
	struct fg_rule *r;
	void *pos = data;
	__be16 proto;
	__u32 zero = 0, rule_id;
	int res;

	st = bpf_map_lookup_elem(&filter_stats, &zero);
	if (!st)
		return XDP_PASS;
	st->rx_packets++;
	st->rx_bytes += end - data;
	FG_CUT(1, st);

	res = fg_parse_eth(&pos, end, &proto);
	if (res == FG_PARSE_UDP) {
		if (proto == bpf_htons(FG_ETH_P_IP))
			res = fg_parse_ipv4(pos, end, &flow);
		else if (proto == bpf_htons(FG_ETH_P_IPV6))
			res = fg_parse_ipv6(pos, end, &flow);
		else if (proto == bpf_htons(FG_ETH_P_ARP))
			res = FG_PARSE_CONTROL;
		else
			res = FG_PARSE_OTHER;
	}
	FG_CUT(2, &flow);

	switch (res) {
	case FG_PARSE_MALFORMED:
		st->drop_malformed++;
		return XDP_DROP;
	case FG_PARSE_CONTROL:
		st->pass_control++;
		return XDP_PASS;
	case FG_PARSE_FRAGMENT:
		cfg = fg_cfg();
		return fg_policy(cfg ? cfg->frag_policy : 0, &st->pass_frag, &st->drop_frag);
	case FG_PARSE_OTHER:
		return fg_miss(st);
	}

	r = fg_rule_lookup(&flow);
	FG_CUT(3, r);
	if (!r || r->action < FG_ACTION_PASS || r->action > FG_ACTION_REDIRECT)
		return fg_miss(st);

	rule_id = r->rule_id;
	rs = bpf_map_lookup_elem(&rule_stats, &rule_id);
	if (rs) {
		rs->packets++;
		rs->bytes += end - data;
	}
	if (r->action == FG_ACTION_PASS) {
		st->pass_rule++;
		return XDP_PASS;
	}
	if (r->action == FG_ACTION_DROP) {
		st->drop_rule++;
		return XDP_DROP;
	}
	return fg_redirect(ctx, r, st);
}
