// SPDX-License-Identifier: MIT
/*
 * BPF_PROG_TEST_RUN tests of the XDP filter (bpf/feedgate.bpf.c), loaded
 * straight from its skeleton. Every case checks the verdict AND the exact
 * change of every counter: filter_stats (summed over the possible CPUs), all
 * of rule_stats and all of queue_stats, so a packet that lands in two
 * counters, or in the wrong rule, fails.
 *
 * Most behaviour is written as fixture tables (what the packet is, the
 * policies, the verdict, the one counter that must move, the rule that must
 * count it); the rest are sweeps: every truncation length of feed packets,
 * all 65,536 destination ports, the real NASDAQ captures, and a real AF_XDP
 * socket in xsk_map.
 *
 * The process moves into a network namespace of its own at start-up
 * (unshare), so the devices it uses (its own lo, a veth pair) vanish with it
 * whatever happens. Needs root; skips otherwise.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_maps.h"
#include "fg_cunit.h"
#include "fg_pkt.h"

/* ---- state shared by the cases ----------------------------------------- */

static struct fg_pkt_prog T;
static struct fg_pkt_xsk X; /* the AF_XDP socket of the redirect cases */

static int open_xsk(const char *ifname, __u32 queue);

#define NFS (sizeof(struct fg_filter_stats) / sizeof(__u64))
#define FS(field) (offsetof(struct fg_filter_stats, field) / sizeof(__u64))

static const char *const fs_names[] = {
	"rx_packets",	      "rx_bytes",	   "redirected",     "pass_rule",
	"pass_no_rule",	      "pass_control",	   "pass_frag",	     "pass_fallback",
	"drop_rule",	      "drop_no_rule",	   "drop_malformed", "drop_frag",
	"drop_fallback",      "redirect_fallback", "stamp_meta",     "stamp_head",
	"stamp_meta_refused", "stamp_failed",
};
_Static_assert(sizeof(fs_names) / sizeof(fs_names[0]) == NFS, "a name per filter_stats field");
_Static_assert(sizeof(struct fg_filter_stats) % 8 == 0 && sizeof(struct fg_rule_stats) == 16 &&
		       sizeof(struct fg_queue_stats) == 16,
	       "counter values are arrays of __u64");

/* Every counter of the program, summed over CPUs. */
struct snap {
	__u64 fs[NFS];
	__u64 rs[FG_MAX_RULES][2]; /* packets, bytes */
	__u64 qs[FG_MAX_QUEUES][2]; /* redirected, no_socket */
};

static struct snap s_before, s_after, s_want;

static const char *verdict_name(__u32 v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					 "XDP_REDIRECT" };

	return v < 5 ? n[v] : "XDP_?";
}

/* Report a failed check with a message of our own (CUnit copies it). */
#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		char msg_[1024];                                                           \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                 \
		CU_assertImplementation(!!(cond), __LINE__, msg_, __FILE__, "", CU_FALSE); \
	} while (0)

#define NEED_BPF()                       \
	do {                             \
		if (T.skip)              \
			FG_SKIP(T.skip); \
	} while (0)

/* Sum a per-CPU array map of n entries of vwords __u64 each into out. */
static int sum_percpu(int fd, __u32 n, __u32 vwords, __u64 *out)
{
	size_t stride = (size_t)vwords * T.ncpus;
	__u64 *vals = calloc((size_t)n * stride, sizeof(__u64));
	__u32 *keys = calloc(n, sizeof(__u32));
	__u32 count = n, out_batch = 0;
	int err;

	if (!vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	err = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, NULL);
	if (err == -ENOENT)
		err = 0; /* reached the end in this one batch */
	if (!err && count != n)
		err = -EIO;
	if (err)
		goto out;
	memset(out, 0, (size_t)n * vwords * sizeof(__u64));
	for (__u32 i = 0; i < n; i++)
		for (int c = 0; c < T.ncpus; c++)
			for (__u32 w = 0; w < vwords; w++)
				out[(size_t)keys[i] * vwords + w] +=
					vals[i * stride + c * vwords + w];
out:
	free(vals);
	free(keys);
	return err;
}

static int snap(struct snap *s)
{
	int err;

	err = sum_percpu(T.filter_stats, 1, NFS, s->fs);
	if (!err)
		err = sum_percpu(T.rule_stats, FG_MAX_RULES, 2, &s->rs[0][0]);
	if (!err)
		err = sum_percpu(T.queue_stats, FG_MAX_QUEUES, 2, &s->qs[0][0]);
	if (err)
		printf("\n    cannot read the counters: %s", strerror(-err));
	return err;
}

/* Is after - before exactly want? Prints each difference; 1 when equal. */
static int delta_is(const struct snap *before, const struct snap *after, const struct snap *want,
		    const char *what)
{
	int ok = 1;

	for (size_t i = 0; i < NFS; i++) {
		__u64 d = after->fs[i] - before->fs[i];

		if (d != want->fs[i]) {
			printf("\n    %s: filter_stats.%s moved by %llu, want %llu", what,
			       fs_names[i], (unsigned long long)d, (unsigned long long)want->fs[i]);
			ok = 0;
		}
	}
	for (size_t r = 0; r < FG_MAX_RULES; r++)
		for (int w = 0; w < 2; w++) {
			__u64 d = after->rs[r][w] - before->rs[r][w];

			if (d != want->rs[r][w]) {
				printf("\n    %s: rule_stats[%zu].%s moved by %llu, want %llu",
				       what, r, w ? "bytes" : "packets", (unsigned long long)d,
				       (unsigned long long)want->rs[r][w]);
				ok = 0;
			}
		}
	for (size_t q = 0; q < FG_MAX_QUEUES; q++)
		for (int w = 0; w < 2; w++) {
			__u64 d = after->qs[q][w] - before->qs[q][w];

			if (d != want->qs[q][w]) {
				printf("\n    %s: queue_stats[%zu].%s moved by %llu, want %llu",
				       what, q, w ? "no_socket" : "redirected",
				       (unsigned long long)d, (unsigned long long)want->qs[q][w]);
				ok = 0;
			}
		}
	return ok;
}

/* ---- running the program ------------------------------------------------ */

struct run {
	__u32 retval;
	__u32 meta_len; /* bytes of metadata in front of the packet after the run */
	__u32 out_len; /* metadata + packet */
	__u64 t0, t1; /* CLOCK_MONOTONIC around the run */
	__u8 out[FG_PKT_MAX + 64];
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One BPF_PROG_TEST_RUN of pkt as received on (ifindex, queue). */
static int run_pkt(const void *pkt, __u32 len, __u32 ifindex, __u32 queue, struct run *r)
{
	struct xdp_md ctx_in = {
		.data_end = len,
		.ingress_ifindex = ifindex,
		.rx_queue_index = queue,
	};
	struct xdp_md ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	int err;

	r->t0 = now_ns();
	err = bpf_prog_test_run_opts(T.prog, &opts);
	r->t1 = now_ns();
	if (err)
		return err;
	r->retval = opts.retval;
	r->out_len = opts.data_size_out;
	r->meta_len = ctx_out.data - ctx_out.data_meta;
	return 0;
}

/* ---- rules and settings ------------------------------------------------- */

struct rule_def {
	const char *dst; /* "239.1.1.1", "ff3e::1", or the wildcard "0.0.0.0" / "::" */
	__u16 port;
	__u32 id;
	__u8 action;
	const char *src; /* source prefix, or NULL */
	__u8 plen;
	__u16 feed;
};

static int rule_from_def(const struct rule_def *d, struct fg_rule_key *k, struct fg_rule *v)
{
	int af = strchr(d->dst, ':') ? AF_INET6 : AF_INET;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->family = af == AF_INET ? FG_FAMILY_IPV4 : FG_FAMILY_IPV6;
	k->dport = htons(d->port);
	if (inet_pton(af, d->dst, k->addr) != 1)
		return -EINVAL;
	v->rule_id = d->id;
	v->action = d->action;
	v->feed_id = d->feed;
	v->src_prefix_len = d->plen;
	if (d->src && inet_pton(af, d->src, v->src_addr) != 1)
		return -EINVAL;
	snprintf(v->feed_name, sizeof(v->feed_name), "rule%u", d->id);
	return 0;
}

static int add_rules(const struct rule_def *defs, size_t n)
{
	struct fg_rule_key k;
	struct fg_rule v;

	for (size_t i = 0; i < n; i++) {
		if (rule_from_def(&defs[i], &k, &v) ||
		    bpf_map_update_elem(T.rules, &k, &v, BPF_ANY)) {
			printf("\n    cannot add rule %s:%u", defs[i].dst, defs[i].port);
			return -1;
		}
	}
	return 0;
}

#define TEST_COOKIE 0x0123456789abcdefull

/* Policies and stamp mode (0 = no stamp, the default of every case but
 * the stamp ones). */
static int set_config(__u8 miss, __u8 frag, __u8 stamp)
{
	struct fg_config c = { .miss_policy = miss,
			       .frag_policy = frag,
			       .stamp_mode = stamp,
			       .meta_ok = (__u8)T.meta_ok,
			       .stamp_cookie = TEST_COOKIE };
	__u32 zero = 0;

	return bpf_map_update_elem(T.config, &zero, &c, BPF_ANY);
}

static int set_policy(__u8 miss, __u8 frag)
{
	return set_config(miss, frag, 0);
}

/* Empty feed_rules and xsk_map, default policies. Counters are left alone:
 * every check works on differences. */
static int reset(void)
{
	struct fg_rule_key k;
	int err;

	while (!bpf_map_get_next_key(T.rules, NULL, &k))
		if (bpf_map_delete_elem(T.rules, &k))
			return -1;
	for (__u32 q = 0; q < FG_MAX_QUEUES; q++) {
		err = bpf_map_delete_elem(T.xsk, &q);
		if (err && err != -ENOENT)
			return -1;
	}
	return set_policy(0, 0);
}

/* ---- fixture tables ------------------------------------------------------ */

/* Table rows leave trailing fields out (zero: no rule, default policy) and
 * start from the FEED macros, overriding some of their fields: both are
 * meant, so these two warnings are off for this file. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Woverride-init"

struct fixture {
	const char *desc;
	struct fg_pkt_spec pkt;
	__u8 policy, frag_policy; /* FG_ACTION_PASS / FG_ACTION_DROP; 0 = default (pass) */
	__u32 verdict;
	size_t stat; /* FS(x): the one verdict counter that must move */
	__u32 rule; /* rule_stats index that must count the packet; 0 = none (ids here are >= 1) */
};

#define P FG_ACTION_PASS
#define D FG_ACTION_DROP

/* What the program must have counted for one packet of len bytes that took
 * fixture-like verdict stat on queue q, counted by rule (0: none). */
static void want_one(struct snap *w, size_t stat, __u32 rule, __u32 len, __u32 q)
{
	memset(w, 0, sizeof(*w));
	w->fs[FS(rx_packets)] = 1;
	w->fs[FS(rx_bytes)] = len;
	w->fs[stat] = 1;
	if (stat == FS(pass_fallback) || stat == FS(drop_fallback)) {
		w->fs[FS(redirect_fallback)] = 1;
		w->qs[q][1] = 1;
	}
	if (stat == FS(redirected))
		w->qs[q][0] = 1;
	if (rule) {
		w->rs[rule][0] = 1;
		w->rs[rule][1] = len;
	}
}

static void run_fixtures(const struct fixture *fx, size_t n, const struct rule_def *rules,
			 size_t nrules)
{
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;

	CU_ASSERT_FATAL(reset() == 0);
	CU_ASSERT_FATAL(add_rules(rules, nrules) == 0);
	for (size_t i = 0; i < n; i++) {
		const struct fixture *f = &fx[i];
		int len = fg_pkt_build(&f->pkt, pkt), err, counted;

		CHECK(len > 0, "%s: the fixture builds", f->desc);
		if (len <= 0)
			continue;
		CU_ASSERT_FATAL(set_policy(f->policy, f->frag_policy) == 0);
		CU_ASSERT_FATAL(snap(&s_before) == 0);
		err = run_pkt(pkt, len, T.lo, 0, &r);
		CU_ASSERT_FATAL(snap(&s_after) == 0);
		CHECK(!err, "%s: test run: %s", f->desc, strerror(-err));
		if (err)
			continue;
		if (r.retval != f->verdict)
			printf("\n    %s: %s, want %s", f->desc, verdict_name(r.retval),
			       verdict_name(f->verdict));
		CHECK(r.retval == f->verdict, "%s: verdict %s", f->desc, verdict_name(f->verdict));
		want_one(&s_want, f->stat, f->rule, len, 0);
		counted = delta_is(&s_before, &s_after, &s_want, f->desc);
		CHECK(counted, "%s: counted in filter_stats.%s only", f->desc, fs_names[f->stat]);
		/* Whatever the verdict, a packet that was not redirected leaves
		 * the test run exactly as it came: no metadata left behind. */
		if (r.retval != XDP_REDIRECT)
			CHECK(r.meta_len == 0 && r.out_len == (__u32)len &&
				      !memcmp(r.out, pkt, len),
			      "%s: packet and metadata area left untouched", f->desc);
	}
}

#define RUN(table, rules)                                            \
	run_fixtures(table, sizeof(table) / sizeof(table[0]), rules, \
		     sizeof(rules) / sizeof(rules[0]))

/* The rule set most tables run against. Ids start at 1 (0 = "none" in
 * fixtures). Prefix rules drop so that a hit and a pass-policy miss differ. */
static const struct rule_def std_rules[] = {
	{ "239.1.1.1", 5000, 1, FG_ACTION_REDIRECT, .feed = 1 },
	{ "239.1.1.2", 5001, 2, FG_ACTION_PASS },
	{ "239.1.1.3", 5002, 3, FG_ACTION_DROP },
	{ "0.0.0.0", 6000, 4, FG_ACTION_REDIRECT, .feed = 4 },
	{ "239.1.1.4", 6000, 12, FG_ACTION_DROP },
	{ "239.1.1.5", 7000, 5, FG_ACTION_DROP, "10.0.0.0", 8 },
	{ "0.0.0.0", 7000, 6, FG_ACTION_PASS },
	{ "239.1.1.7", 7001, 7, FG_ACTION_DROP, "10.1.2.3", 32 },
	{ "ff3e::1234", 5000, 8, FG_ACTION_REDIRECT, .feed = 8 },
	{ "::", 6000, 9, FG_ACTION_DROP },
	{ "ff3e::5", 7002, 10, FG_ACTION_DROP, "2001:db8:1::", 48 },
	{ "ff3e::6", 7003, 11, FG_ACTION_DROP, "2001:db8::1", 128 },
	{ "ff3e::7", 7004, 13, FG_ACTION_DROP, "2001:db8:aaaa:bbbb:8000::", 65 },
	/* A trap: IPv4 with IHL 4 to 239.1.19.136 from port 16 has, 16 bytes
	 * in, what looks like a UDP header (length 16) to this group's port
	 * 5000 (0x1388 is the low half of the address). */
	{ "239.1.19.136", 5000, 14, FG_ACTION_PASS },
	{ "0.0.0.0", 7005, 15, FG_ACTION_DROP, "192.0.2.0", 24 },
};

/* A 60-byte minimum frame: the IPv4 feed packet plus zero link padding. */
static const __u8 zero_pad[16];

/* Shorthands for the tables: the feeds of std_rules, ICMPv6 of a type, an
 * IPv6 fragment header, extension headers of the minimum size. */
/* clang-format off */
#define FEED .dst = "239.1.1.1", .dport = 5000, .payload = 20
#define FEED6 .l3 = FG_PKT_IPV6, .dst = "ff3e::1234", .dport = 5000, .payload = 20
#define ICMP6(type) .l3 = FG_PKT_IPV6, .proto = FG_PKT_ICMPV6, .l4_type = (type)
#define FRAG6(off) .ext = { { FG_PKT_FRAGMENT } }, .n_ext = 1, .ext_frag_off = (off)
#define HBH { FG_PKT_HOPOPTS }
#define RTG { FG_PKT_ROUTING }
#define FRG { FG_PKT_FRAGMENT }
#define DST { FG_PKT_DSTOPTS }
#define TAG_Q(vid) { FG_PKT_ETH_8021Q, (vid) }
#define TAG_AD(vid) { FG_PKT_ETH_8021AD, (vid) }
/* clang-format on */

/* ---- the cases ------------------------------------------------------------ */

static void test_every_verdict_path(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "feed rule, no socket on the queue: falls back to the pass policy",
		  { FEED }, P, 0, XDP_PASS, FS(pass_fallback), 1 },
		{ "feed rule, no socket on the queue: falls back to the drop policy",
		  { FEED }, D, 0, XDP_DROP, FS(drop_fallback), 1 },
		{ "rule with action pass",
		  { .dst = "239.1.1.2", .dport = 5001 }, P, 0, XDP_PASS, FS(pass_rule), 2 },
		{ "rule with action pass beats the drop policy",
		  { .dst = "239.1.1.2", .dport = 5001 }, D, 0, XDP_PASS, FS(pass_rule), 2 },
		{ "rule with action drop",
		  { .dst = "239.1.1.3", .dport = 5002, .payload = 100 }, P, 0, XDP_DROP,
		  FS(drop_rule), 3 },
		{ "rule with action drop under the drop policy",
		  { .dst = "239.1.1.3", .dport = 5002 }, D, 0, XDP_DROP, FS(drop_rule), 3 },
		{ "no rule for the port: pass policy",
		  { .dst = "239.1.1.1", .dport = 5009 }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "no rule for the port: drop policy",
		  { .dst = "239.1.1.1", .dport = 5009 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "a rule's port on another group is a miss",
		  { .dst = "239.1.1.9", .dport = 5000 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "fg_config all zero means the pass policy",
		  { .dst = "239.9.9.9", .dport = 1 }, 0, 0, XDP_PASS, FS(pass_no_rule) },
		{ "TCP to a feed's group and port is not a feed: pass policy",
		  { .proto = FG_PKT_TCP, .dst = "239.1.1.1", .dport = 5000 }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
		{ "TCP to a feed's group and port is not a feed: drop policy",
		  { .proto = FG_PKT_TCP, .dst = "239.1.1.1", .dport = 5000 }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
		{ "an unknown ethertype is a miss: pass policy",
		  { .l3 = FG_PKT_RAW, .ethertype = 0x88b5, .payload = 46 }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
		{ "an unknown ethertype is a miss: drop policy",
		  { .l3 = FG_PKT_RAW, .ethertype = 0x88b5, .payload = 46 }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
		{ "a bare Ethernet header (IPv4 ethertype, no IP header) is malformed",
		  { .l3 = FG_PKT_RAW, .ethertype = FG_PKT_ETH_IP }, P, 0, XDP_DROP,
		  FS(drop_malformed) },
		{ "a feed packet in a 60-byte frame (link padding) still hits, counted in full",
		  { .dst = "239.1.1.1", .dport = 5000, .payload = 4, .trailer = zero_pad,
		    .trailer_len = 14 }, P, 0, XDP_PASS, FS(pass_fallback), 1 },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

static void test_vlan_and_qinq_tags_are_walked(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "802.1Q tag (VLAN 141)",
		  { .tags = { TAG_Q(141) }, FEED }, D, 0, XDP_DROP, FS(drop_fallback), 1 },
		{ "802.1ad outer + 802.1Q inner tag (QinQ)",
		  { .tags = { TAG_AD(100), TAG_Q(141) }, FEED }, D, 0, XDP_DROP, FS(drop_fallback),
		  1 },
		{ "two 802.1Q tags",
		  { .tags = { TAG_Q(100), TAG_Q(141) }, FEED }, D, 0, XDP_DROP, FS(drop_fallback),
		  1 },
		{ "a single 802.1ad tag",
		  { .tags = { TAG_AD(7) }, FEED }, D, 0, XDP_DROP, FS(drop_fallback), 1 },
		{ "802.1Q tag, rule with action pass",
		  { .tags = { TAG_Q(141) }, .dst = "239.1.1.2", .dport = 5001 }, D, 0, XDP_PASS,
		  FS(pass_rule), 2 },
		{ "QinQ tagged IPv6 feed",
		  { .tags = { TAG_AD(1), TAG_Q(2) }, FEED6 }, P, 0, XDP_PASS, FS(pass_fallback),
		  8 },
		{ "a third tag is beyond the walk: a miss (pass policy)",
		  { .tags = { TAG_AD(1), TAG_Q(2), TAG_Q(3) }, FEED }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
		{ "a third tag is beyond the walk: a miss (drop policy)",
		  { .tags = { TAG_AD(1), TAG_Q(2), TAG_Q(3) }, FEED }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
		{ "tagged ARP is control traffic",
		  { .tags = { TAG_Q(141) }, .l3 = FG_PKT_ARP }, D, 0, XDP_PASS, FS(pass_control) },
		{ "QinQ tagged ICMP is control traffic",
		  { .tags = { TAG_AD(1), TAG_Q(2) }, .proto = FG_PKT_ICMP, .l4_type = 8 }, D, 0,
		  XDP_PASS, FS(pass_control) },
		{ "a tag with nothing behind it is malformed",
		  { .tags = { TAG_Q(141) }, .l3 = FG_PKT_RAW, .ethertype = FG_PKT_ETH_IP }, P, 0,
		  XDP_DROP, FS(drop_malformed) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

static void test_ipv4_header_checks(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "IPv4 with 4 bytes of options (IHL 6)",
		  { FEED, .opt_len = 4 }, P, 0, XDP_PASS, FS(pass_fallback), 1 },
		{ "IPv4 with 40 bytes of options (IHL 15)",
		  { FEED, .opt_len = 40 }, D, 0, XDP_DROP, FS(drop_fallback), 1 },
		{ "IPv4 options on a drop rule",
		  { .dst = "239.1.1.3", .dport = 5002, .opt_len = 12 }, P, 0, XDP_DROP,
		  FS(drop_rule), 3 },
		{ "IHL 4 is malformed (read as 16 bytes, it would be a hit on rule 14)",
		  { .dst = "239.1.19.136", .sport = 16, .dport = 9999, .payload = 20, .ihl = 4 }, P,
		  0, XDP_DROP, FS(drop_malformed) },
		{ "the same packet with IHL 5 is no hit: rule 14 only matches misparsing",
		  { .dst = "239.1.19.136", .sport = 16, .dport = 9999, .payload = 20 }, D, 0,
		  XDP_DROP, FS(drop_no_rule) },
		{ "IHL 1 is malformed",
		  { FEED, .ihl = 1 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "IHL larger than the total length is malformed",
		  { FEED, .ihl = 15 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "IP version 5 under the IPv4 ethertype is malformed",
		  { FEED, .version = 5 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "IP version 6 under the IPv4 ethertype is malformed",
		  { FEED, .version = 6 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "total length one byte beyond the frame is malformed",
		  { FEED, .len_adj = 1 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "total length far beyond the frame is malformed",
		  { FEED, .len_adj = 30000 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "total length smaller than the header is malformed",
		  { .dst = "239.1.1.1", .dport = 5000, .len_adj = -9 }, P, 0, XDP_DROP,
		  FS(drop_malformed) },
		{ "total length smaller than the options is malformed",
		  { .dst = "239.1.1.1", .dport = 5000, .opt_len = 8, .len_adj = -9 }, P, 0,
		  XDP_DROP, FS(drop_malformed) },
		{ "total length zero is malformed",
		  { .dst = "239.1.1.1", .dport = 5000, .len_adj = -28 }, P, 0, XDP_DROP,
		  FS(drop_malformed) },
		{ "UDP length beyond the IP payload is malformed",
		  { FEED, .udp_len_adj = 1 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "UDP length below the UDP header size is malformed",
		  { .dst = "239.1.1.1", .dport = 5000, .udp_len_adj = -1 }, P, 0, XDP_DROP,
		  FS(drop_malformed) },
		{ "UDP length zero is malformed",
		  { FEED, .udp_len_adj = -28 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "UDP length shorter than the IP payload (trailing bytes) still hits",
		  { FEED, .udp_len_adj = -3 }, P, 0, XDP_PASS, FS(pass_fallback), 1 },
		{ "the don't-fragment flag is not a fragment",
		  { FEED, .frag_off = 0x4000 }, P, 0, XDP_PASS, FS(pass_fallback), 1 },
		{ "a feed's header in link padding beyond the IP length is not parsed",
		  { .dst = "239.1.1.1", .dport = 5000, .len_adj = -8, .trailer = zero_pad,
		    .trailer_len = 10 }, P, 0, XDP_DROP, FS(drop_malformed) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

/* IHL 0 cannot come from the builder (0 there means "computed"), so this
 * packet is patched by hand. */
static void test_ipv4_ihl_zero_is_malformed(void)
{
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;
	const struct fg_pkt_spec spec = { FEED };
	int len = fg_pkt_build(&spec, pkt), err;

	NEED_BPF();
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_FATAL(reset() == 0 && add_rules(std_rules, 3) == 0);
	pkt[14] = 0x40; /* version 4, IHL 0 */
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	err = run_pkt(pkt, len, T.lo, 0, &r);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CU_ASSERT_FATAL(err == 0);
	CU_ASSERT_EQUAL(r.retval, XDP_DROP);
	want_one(&s_want, FS(drop_malformed), 0, len, 0);
	CU_ASSERT(delta_is(&s_before, &s_after, &s_want, "IHL 0"));
}

static void test_fragments_follow_the_fragment_policy(void)
{
	/* Non-first fragments carry bytes that look like a UDP header to a
	 * feed: the program must not read them as one. */
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "IPv4 first fragment (MF, offset 0) is matched like any packet",
		  { FEED, .frag_off = 0x2000 }, P, D, XDP_PASS, FS(pass_fallback), 1 },
		{ "IPv4 first fragment may carry only part of the UDP datagram",
		  { FEED, .frag_off = 0x2000, .udp_len_adj = 1000 }, D, P, XDP_DROP,
		  FS(drop_fallback), 1 },
		{ "IPv4 first fragment of a drop rule",
		  { .dst = "239.1.1.3", .dport = 5002, .frag_off = 0x2000 }, P, P, XDP_DROP,
		  FS(drop_rule), 3 },
		{ "IPv4 first fragment too short for a UDP header is malformed",
		  { .dst = "239.1.1.1", .dport = 5000, .frag_off = 0x2000, .len_adj = -4 }, P, P,
		  XDP_DROP, FS(drop_malformed) },
		{ "IPv4 first fragment: a UDP header in the link padding is not read",
		  { .dst = "239.1.1.1", .dport = 5000, .frag_off = 0x2000, .len_adj = -8,
		    .trailer = zero_pad, .trailer_len = 12 }, P, P, XDP_DROP, FS(drop_malformed) },
		{ "IPv4 middle fragment, fragment policy pass",
		  { FEED, .frag_off = 0x2000 | 185 }, D, P, XDP_PASS, FS(pass_frag) },
		{ "IPv4 middle fragment, fragment policy drop",
		  { FEED, .frag_off = 0x2000 | 185 }, P, D, XDP_DROP, FS(drop_frag) },
		{ "IPv4 last fragment, fragment policy pass",
		  { FEED, .frag_off = 185 }, D, P, XDP_PASS, FS(pass_frag) },
		{ "IPv4 last fragment, fragment policy drop",
		  { FEED, .frag_off = 1 }, P, D, XDP_DROP, FS(drop_frag) },
		{ "IPv4 fragment at the largest offset, fragment policy drop",
		  { FEED, .frag_off = 0x1fff }, P, D, XDP_DROP, FS(drop_frag) },
		{ "IPv4 non-first fragment with a broken UDP length is still just a fragment",
		  { FEED, .frag_off = 0x2000 | 3, .udp_len_adj = -20 }, P, D, XDP_DROP,
		  FS(drop_frag) },
		{ "IPv4 non-first fragment of ICMP follows the fragment policy",
		  { .proto = FG_PKT_ICMP, .l4_type = 8, .frag_off = 100 }, P, D, XDP_DROP,
		  FS(drop_frag) },
		{ "IPv4 non-first fragment with options",
		  { FEED, .opt_len = 8, .frag_off = 9 }, D, P, XDP_PASS, FS(pass_frag) },
		{ "IPv6 first fragment (offset 0, M) is matched",
		  { FEED6, FRAG6(1) }, P, D, XDP_PASS, FS(pass_fallback), 8 },
		{ "IPv6 first fragment may carry only part of the UDP datagram",
		  { FEED6, FRAG6(1), .udp_len_adj = 500 }, D, P, XDP_DROP, FS(drop_fallback), 8 },
		{ "IPv6 atomic fragment (offset 0, no M) is matched with full checks",
		  { FEED6, FRAG6(0) }, P, D, XDP_PASS, FS(pass_fallback), 8 },
		{ "IPv6 atomic fragment with a UDP length beyond the payload is malformed",
		  { FEED6, FRAG6(0), .udp_len_adj = 1 }, P, D, XDP_DROP, FS(drop_malformed) },
		{ "IPv6 middle fragment, fragment policy pass",
		  { FEED6, FRAG6(185 << 3 | 1) }, D, P, XDP_PASS, FS(pass_frag) },
		{ "IPv6 middle fragment, fragment policy drop",
		  { FEED6, FRAG6(185 << 3 | 1) }, P, D, XDP_DROP, FS(drop_frag) },
		{ "IPv6 last fragment, fragment policy drop",
		  { FEED6, FRAG6(8) }, P, D, XDP_DROP, FS(drop_frag) },
		{ "IPv6 non-first fragment behind a hop-by-hop header",
		  { FEED6, .ext = { HBH, FRG }, .n_ext = 2, .ext_frag_off = 0xfff8 }, D, P,
		  XDP_PASS, FS(pass_frag) },
		{ "IPv6 first fragment behind hop-by-hop and routing headers",
		  { FEED6, .ext = { HBH, { FG_PKT_ROUTING, 1 }, FRG }, .n_ext = 3,
		    .ext_frag_off = 1 }, D, D, XDP_DROP, FS(drop_fallback), 8 },
		{ "IPv6 fragment header beyond the payload length (in link padding) is malformed",
		  { FEED6, .payload = 0, FRAG6(1), .len_adj = -16, .trailer = zero_pad,
		    .trailer_len = 8 }, P, P, XDP_DROP, FS(drop_malformed) },
		{ "IPv6 first fragment: a UDP header in the link padding is not read",
		  { FEED6, .payload = 0, FRAG6(1), .len_adj = -8, .trailer = zero_pad,
		    .trailer_len = 8 }, P, P, XDP_DROP, FS(drop_malformed) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

static void test_ipv6_extension_headers(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "IPv6 feed",
		  { FEED6 }, P, 0, XDP_PASS, FS(pass_fallback), 8 },
		{ "IPv6 feed, drop policy",
		  { FEED6 }, D, 0, XDP_DROP, FS(drop_fallback), 8 },
		{ "behind a hop-by-hop header",
		  { FEED6, .ext = { HBH }, .n_ext = 1 }, P, 0, XDP_PASS, FS(pass_fallback), 8 },
		{ "behind hop-by-hop, routing (24 bytes) and destination options",
		  { FEED6, .ext = { HBH, { FG_PKT_ROUTING, 2 }, DST }, .n_ext = 3 }, P, 0, XDP_PASS,
		  FS(pass_fallback), 8 },
		{ "behind a 2 KB destination options header",
		  { FEED6, .ext = { { FG_PKT_DSTOPTS, 255 } }, .n_ext = 1 }, P, 0, XDP_PASS,
		  FS(pass_fallback), 8 },
		{ "behind exactly FG_MAX_IPV6_EXT headers (the walk's bound)",
		  { FEED6, .ext = { HBH, DST, RTG, FRG, DST, DST }, .n_ext = FG_MAX_IPV6_EXT }, P,
		  0, XDP_PASS, FS(pass_fallback), 8 },
		{ "a chain one longer than the bound is not a feed (pass policy)",
		  { FEED6, .ext = { HBH, DST, RTG, DST, DST, DST, DST },
		    .n_ext = FG_MAX_IPV6_EXT + 1 }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "a chain of 10 headers is not a feed (drop policy)",
		  { FEED6, .ext = { DST, DST, DST, DST, DST, DST, DST, DST, DST, DST },
		    .n_ext = 10 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "an extension header longer than the payload is malformed",
		  { FEED6, .payload = 0, .ext = { { FG_PKT_ROUTING, 2 } }, .n_ext = 1,
		    .len_adj = -16 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "payload length one byte beyond the frame is malformed",
		  { FEED6, .len_adj = 1 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "UDP length beyond the payload is malformed",
		  { FEED6, .udp_len_adj = 1 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "UDP length below 8 is malformed",
		  { FEED6, .udp_len_adj = -21 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "IP version 4 under the IPv6 ethertype is malformed",
		  { FEED6, .version = 4 }, P, 0, XDP_DROP, FS(drop_malformed) },
		{ "no next header (59) is a miss",
		  { FEED6, .proto = FG_PKT_NONE, .payload = 0 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "IPv6 TCP is a miss",
		  { FEED6, .proto = FG_PKT_TCP }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "an IPv6 feed port on another group is a miss",
		  { .l3 = FG_PKT_IPV6, .dst = "ff3e::1235", .dport = 5000 }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

static void test_control_traffic_passes_under_the_drop_policy(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "ARP request",
		  { .l3 = FG_PKT_ARP }, D, D, XDP_PASS, FS(pass_control) },
		{ "ICMP echo request",
		  { .proto = FG_PKT_ICMP, .l4_type = 8, .payload = 56 }, D, D, XDP_PASS,
		  FS(pass_control) },
		{ "ICMP to a feed's group",
		  { .proto = FG_PKT_ICMP, .l4_type = 3, .dst = "239.1.1.1" }, D, D, XDP_PASS,
		  FS(pass_control) },
		{ "ICMP with IPv4 options",
		  { .proto = FG_PKT_ICMP, .opt_len = 8 }, D, D, XDP_PASS, FS(pass_control) },
		{ "IGMPv2 membership report with router alert (IHL 6)",
		  { .proto = FG_PKT_IGMP, .l4_type = 0x16, .dst = "239.1.1.1", .opt_len = 4 }, D, D,
		  XDP_PASS, FS(pass_control) },
		{ "IGMPv3 membership report",
		  { .proto = FG_PKT_IGMP, .l4_type = 0x22, .dst = "224.0.0.22", .opt_len = 4,
		    .payload = 8 }, D, D, XDP_PASS, FS(pass_control) },
		{ "IGMP query",
		  { .proto = FG_PKT_IGMP, .l4_type = 0x11, .dst = "224.0.0.1" }, D, D, XDP_PASS,
		  FS(pass_control) },
		{ "ICMPv6 neighbour solicitation",
		  { ICMP6(135), .dst = "ff02::1:ff00:2", .payload = 16 }, D, D, XDP_PASS,
		  FS(pass_control) },
		{ "ICMPv6 neighbour advertisement",
		  { ICMP6(136), .dst = "fe80::2", .payload = 16 }, D, D, XDP_PASS,
		  FS(pass_control) },
		{ "ICMPv6 router solicitation",
		  { ICMP6(133), .dst = "ff02::2" }, D, D, XDP_PASS, FS(pass_control) },
		{ "MLDv1 report behind a hop-by-hop header",
		  { ICMP6(131), .dst = "ff3e::1234", .payload = 16, .ext = { HBH }, .n_ext = 1 }, D,
		  D, XDP_PASS, FS(pass_control) },
		{ "MLDv2 report behind a hop-by-hop header",
		  { ICMP6(143), .dst = "ff02::16", .payload = 20, .ext = { HBH }, .n_ext = 1 }, D,
		  D, XDP_PASS, FS(pass_control) },
		{ "ICMPv6 echo request",
		  { ICMP6(128), .payload = 56 }, D, D, XDP_PASS, FS(pass_control) },
		{ "control traffic counts as control under the pass policy too",
		  { .l3 = FG_PKT_ARP }, P, P, XDP_PASS, FS(pass_control) },
		{ "a malformed IPv4 header carrying ICMP is still malformed",
		  { .proto = FG_PKT_ICMP, .ihl = 3 }, D, D, XDP_DROP, FS(drop_malformed) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

static void test_wildcard_and_source_prefix_rules(void)
{
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "0.0.0.0:6000 catches any group on port 6000",
		  { .src = "192.0.2.1", .dst = "233.1.2.3", .dport = 6000 }, D, 0, XDP_DROP,
		  FS(drop_fallback), 4 },
		{ "0.0.0.0:6000 catches unicast too",
		  { .src = "192.0.2.1", .dst = "10.9.8.7", .dport = 6000 }, P, 0, XDP_PASS,
		  FS(pass_fallback), 4 },
		{ "an exact rule on the wildcard's port wins over the wildcard",
		  { .dst = "239.1.1.4", .dport = 6000 }, P, 0, XDP_DROP, FS(drop_rule), 12 },
		{ "[::]:6000 catches any IPv6 group on port 6000",
		  { .l3 = FG_PKT_IPV6, .dst = "ff3e::beef", .dport = 6000 }, P, 0, XDP_DROP,
		  FS(drop_rule), 9 },
		{ "an IPv4 rule never matches IPv6 (same port, no IPv6 rule)",
		  { .l3 = FG_PKT_IPV6, .dst = "ff3e::1", .dport = 5001 }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
		{ "source inside 10.0.0.0/8 matches",
		  { .src = "10.9.9.9", .dst = "239.1.1.5", .dport = 7000 }, P, 0, XDP_DROP,
		  FS(drop_rule), 5 },
		{ "source 10.255.255.255 is the last of 10.0.0.0/8",
		  { .src = "10.255.255.255", .dst = "239.1.1.5", .dport = 7000 }, P, 0, XDP_DROP,
		  FS(drop_rule), 5 },
		{ "source outside the prefix falls to the port's wildcard rule",
		  { .src = "11.0.0.0", .dst = "239.1.1.5", .dport = 7000 }, P, 0, XDP_PASS,
		  FS(pass_rule), 6 },
		{ "source 9.255.255.255 is outside 10.0.0.0/8: wildcard",
		  { .src = "9.255.255.255", .dst = "239.1.1.5", .dport = 7000 }, D, 0, XDP_PASS,
		  FS(pass_rule), 6 },
		{ "/32 source prefix: the one host matches",
		  { .src = "10.1.2.3", .dst = "239.1.1.7", .dport = 7001 }, P, 0, XDP_DROP,
		  FS(drop_rule), 7 },
		{ "/32 source prefix: the next host is a miss (no wildcard), pass policy",
		  { .src = "10.1.2.4", .dst = "239.1.1.7", .dport = 7001 }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
		{ "/32 source prefix: another host is a miss, drop policy",
		  { .src = "10.1.2.2", .dst = "239.1.1.7", .dport = 7001 }, D, 0, XDP_DROP,
		  FS(drop_no_rule) },
		{ "IPv6 /48 source prefix matches",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8:1:ffff::9", .dst = "ff3e::5",
		    .dport = 7002 }, P, 0, XDP_DROP, FS(drop_rule), 10 },
		{ "IPv6 /48: a mismatch in the second word is a miss",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8:2::1", .dst = "ff3e::5", .dport = 7002 }, P,
		  0, XDP_PASS, FS(pass_no_rule) },
		{ "IPv6 /48: a mismatch in the first word is a miss",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db9:1::1", .dst = "ff3e::5", .dport = 7002 }, P,
		  0, XDP_PASS, FS(pass_no_rule) },
		{ "IPv6 /128 source prefix: the one host matches",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8::1", .dst = "ff3e::6", .dport = 7003 }, P,
		  0, XDP_DROP, FS(drop_rule), 11 },
		{ "IPv6 /128: the last bit differs, a miss",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8::", .dst = "ff3e::6", .dport = 7003 }, P, 0,
		  XDP_PASS, FS(pass_no_rule) },
		{ "IPv6 /65: the 65th bit matches, the rest is free",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8:aaaa:bbbb:ffff::1", .dst = "ff3e::7",
		    .dport = 7004 }, P, 0, XDP_DROP, FS(drop_rule), 13 },
		{ "IPv6 /65: the 65th bit differs, a miss",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8:aaaa:bbbb:7fff::1", .dst = "ff3e::7",
		    .dport = 7004 }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "a wildcard rule with a source prefix: a source inside matches",
		  { .src = "192.0.2.200", .dst = "239.7.7.7", .dport = 7005 }, P, 0, XDP_DROP,
		  FS(drop_rule), 15 },
		{ "a wildcard rule with a source prefix: a source outside is a miss",
		  { .src = "192.0.3.1", .dst = "239.7.7.7", .dport = 7005 }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
	};
	/* clang-format on */

	NEED_BPF();
	RUN(fx, std_rules);
}

/* Rules as `bpftool map update` could write them: nothing validates the
 * value on its way into the map, so the program must stay safe. */
static void test_rules_with_bad_values_are_safe(void)
{
	static const struct rule_def bad[] = {
		{ "239.2.0.1", 9000, 20, 0 }, /* no action */
		{ "239.2.0.1", 9001, 21, 4 }, /* one past REDIRECT */
		{ "239.2.0.1", 9002, 22, 255 },
		{ "239.2.0.1", 9003, FG_MAX_RULES, FG_ACTION_DROP }, /* id out of range */
		{ "239.2.0.1", 9004, 0xffffffffu, FG_ACTION_REDIRECT },
		{ "239.2.0.1", 9005, FG_MAX_RULES - 1, FG_ACTION_PASS }, /* the last valid id */
		{ "239.2.0.1", 9006, 23, FG_ACTION_DROP, "10.0.0.1", 33 }, /* prefix > 32 */
		{ "239.2.0.1", 9007, 24, FG_ACTION_DROP, "10.0.0.1", 255 },
		{ "ff3e::2", 9008, 25, FG_ACTION_DROP, "2001:db8::1", 200 }, /* prefix > 128 */
		{ "0.0.0.0", 9000, 26, 0 }, /* a bad wildcard behind a bad exact rule */
	};
	/* clang-format off */
	static const struct fixture fx[] = {
		{ "action 0 is a miss (pass policy)",
		  { .dst = "239.2.0.1", .dport = 9000 }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "action 0 is a miss (drop policy)",
		  { .dst = "239.2.0.1", .dport = 9000 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "action 4 is a miss",
		  { .dst = "239.2.0.1", .dport = 9001 }, D, 0, XDP_DROP, FS(drop_no_rule) },
		{ "action 255 is a miss",
		  { .dst = "239.2.0.1", .dport = 9002 }, P, 0, XDP_PASS, FS(pass_no_rule) },
		{ "rule id FG_MAX_RULES: the action holds, no rule counter moves",
		  { .dst = "239.2.0.1", .dport = 9003 }, P, 0, XDP_DROP, FS(drop_rule) },
		{ "rule id 0xffffffff on a redirect rule: falls back, no rule counter moves",
		  { .dst = "239.2.0.1", .dport = 9004 }, P, 0, XDP_PASS, FS(pass_fallback) },
		{ "rule id FG_MAX_RULES - 1 is counted",
		  { .dst = "239.2.0.1", .dport = 9005 }, D, 0, XDP_PASS, FS(pass_rule),
		  FG_MAX_RULES - 1 },
		{ "IPv4 prefix length 33 acts as /32: the host matches",
		  { .src = "10.0.0.1", .dst = "239.2.0.1", .dport = 9006 }, P, 0, XDP_DROP,
		  FS(drop_rule), 23 },
		{ "IPv4 prefix length 33 acts as /32: another host misses",
		  { .src = "10.0.0.3", .dst = "239.2.0.1", .dport = 9006 }, P, 0, XDP_PASS,
		  FS(pass_no_rule) },
		{ "IPv4 prefix length 255 acts as /32",
		  { .src = "10.0.0.1", .dst = "239.2.0.1", .dport = 9007 }, P, 0, XDP_DROP,
		  FS(drop_rule), 24 },
		{ "IPv6 prefix length 200 acts as /128: the host matches",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8::1", .dst = "ff3e::2", .dport = 9008 }, P,
		  0, XDP_DROP, FS(drop_rule), 25 },
		{ "IPv6 prefix length 200 acts as /128: another host misses",
		  { .l3 = FG_PKT_IPV6, .src = "2001:db8::3", .dst = "ff3e::2", .dport = 9008 }, P,
		  0, XDP_PASS, FS(pass_no_rule) },
	};
	/* clang-format on */
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;
	struct fg_rule_key k;
	struct fg_rule v;
	const struct rule_def padded = { "239.2.0.2", 9100, 27, FG_ACTION_DROP };
	const struct fg_pkt_spec spec = { .dst = "239.2.0.2", .dport = 9100 };
	int len, err;

	NEED_BPF();
	RUN(fx, bad);

	/* A key with a non-zero pad byte (or junk in addr[1..3] of an IPv4
	 * key) can never match: the packet is a miss, not a crash. */
	CU_ASSERT_FATAL(rule_from_def(&padded, &k, &v) == 0);
	k.pad = 1;
	k.addr[3] = 0xffffffff;
	CU_ASSERT_FATAL(bpf_map_update_elem(T.rules, &k, &v, BPF_ANY) == 0);
	CU_ASSERT_FATAL(set_policy(D, 0) == 0);
	len = fg_pkt_build(&spec, pkt);
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	err = run_pkt(pkt, len, T.lo, 0, &r);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CU_ASSERT_FATAL(err == 0);
	CU_ASSERT_EQUAL(r.retval, XDP_DROP);
	want_one(&s_want, FS(drop_no_rule), 0, len, 0);
	CU_ASSERT(delta_is(&s_before, &s_after, &s_want, "junk in a rule key"));
}

/*
 * Truncate a feed packet at every length from 0 to one byte short: each is
 * dropped as malformed, none is redirected (a socket waits on the queue all
 * along) and no other counter moves.
 *
 * Below ETH_HLEN (14) the kernel itself refuses: BPF_PROG_TEST_RUN returns
 * EINVAL for fewer than 14 packet bytes (even behind metadata), and
 * bpf_xdp_adjust_head/_tail refuse to shrink a frame below 14, so no XDP
 * program ever sees such a frame; for those lengths the check is that the
 * kernel refuses and nothing is counted.
 */
static void truncate_everywhere(const char *what, const __u8 *pkt, __u32 full)
{
	static struct run r;
	__u64 bytes = 0;
	int bad = 0;

	CU_ASSERT_FATAL(snap(&s_before) == 0);
	for (__u32 len = 0; len < full; len++) {
		int err = run_pkt(pkt, len, T.lo, 0, &r);

		if (len < ETH_HLEN ? err != -EINVAL : err || r.retval != XDP_DROP) {
			if (bad++ < 5)
				printf("\n    %s cut at %u bytes: %s", what, len,
				       err ? strerror(-err) : verdict_name(r.retval));
		}
		if (len >= ETH_HLEN)
			bytes += len;
	}
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CHECK(!bad, "%s: every truncation dropped (%d were not)", what, bad);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = full - ETH_HLEN;
	s_want.fs[FS(rx_bytes)] = bytes;
	s_want.fs[FS(drop_malformed)] = full - ETH_HLEN;
	CHECK(delta_is(&s_before, &s_after, &s_want, what), "%s: counted as malformed only", what);

	/* The whole packet, for contrast, is a feed hit. */
	CU_ASSERT_FATAL(run_pkt(pkt, full, T.lo, 0, &r) == 0);
	CHECK(r.retval == XDP_REDIRECT, "%s: the whole packet is redirected", what);
}

static void test_truncation_at_every_length_is_malformed(void)
{
	static const struct rule_def rules[] = {
		{ "239.1.1.1", 5000, 1, FG_ACTION_REDIRECT, .feed = 1 },
		{ "ff3e::1234", 5000, 8, FG_ACTION_REDIRECT, .feed = 8 },
		{ "233.54.12.111", 26477, 30, FG_ACTION_REDIRECT, .feed = 30 },
	};
	static const struct {
		const char *what;
		struct fg_pkt_spec spec;
	} feeds[] = {
		{ "IPv4 feed", { FEED, .payload = 64 } },
		{ "802.1Q IPv4 feed with options",
		  { .tags = { TAG_Q(141) }, FEED, .opt_len = 12 } },
		{ "QinQ IPv4 first fragment",
		  { .tags = { TAG_AD(1), TAG_Q(2) }, FEED, .frag_off = 0x2000 } },
		{ "IPv6 feed behind hop-by-hop, routing and fragment headers",
		  { .tags = { TAG_Q(9) },
		    FEED6,
		    .ext = { HBH, { FG_PKT_ROUTING, 2 }, FRG },
		    .n_ext = 3,
		    .ext_frag_off = 1 } },
	};
	static __u8 pkt[FG_PKT_MAX];
	char path[512];
	struct fg_pcap pc;
	size_t len;
	int err;

	NEED_BPF();
	CU_ASSERT_FATAL(reset() == 0 && add_rules(rules, 3) == 0);
	err = open_xsk("lo", 0);
	CHECK(!err, "an AF_XDP socket on lo queue 0: %s", strerror(-err));
	if (err)
		return;
	for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
		int n = fg_pkt_build(&feeds[i].spec, pkt);

		CU_ASSERT_FATAL(n > 0);
		truncate_everywhere(feeds[i].what, pkt, n);
	}
	/* And a real one: the full-size packet of the NASDAQ capture. */
	snprintf(path, sizeof(path), "%s/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap",
		 FG_ITCH_REAL);
	err = fg_pcap_open(&pc, path);
	CHECK(!err, "open %s: %s", path, strerror(-err));
	if (!err) {
		while (fg_pcap_next(&pc, pkt, sizeof(pkt), &len) == 1)
			truncate_everywhere("NASDAQ capture packet", pkt, len);
		fg_pcap_close(&pc);
	}
	fg_pkt_xsk_close(&X);
}

/* Firedancer-style: every destination port, once, against a rule set on
 * one group (plus decoys that must not match). Pass rules under the drop
 * policy make a hit and a miss differ in the verdict itself. */
static void sweep_ports(int v6)
{
	static const __u16 ports[] = { 0, 1, 80, 5000, 5001, 26477, 32767, 32768, 65534, 65535 };
	static const struct rule_def decoys[] = {
		{ "239.1.1.2", 4000, 100, FG_ACTION_PASS }, /* another group */
		{ "ff3e::1235", 4000, 101, FG_ACTION_PASS }, /* another IPv6 group */
		{ "0.0.0.0", 4001, 102, FG_ACTION_PASS }, /* wildcard, checked below */
		{ "::", 4002, 103, FG_ACTION_PASS },
	};
	const char *dst = v6 ? "ff3e::1234" : "239.1.1.1";
	const size_t np = sizeof(ports) / sizeof(ports[0]);
	struct rule_def rd;
	struct fg_pkt_spec spec = { .l3 = v6 ? FG_PKT_IPV6 : FG_PKT_IPV4,
				    .dst = dst,
				    .payload = 8 };
	static __u8 pkt[FG_PKT_MAX];
	char hit[65536] = { 0 };
	size_t dport_off;
	__u64 npass = 0, nwrong = 0;
	int len;

	CU_ASSERT_FATAL(reset() == 0 && add_rules(decoys, 4) == 0);
	for (size_t i = 0; i < np; i++) {
		rd = (struct rule_def){ dst, ports[i], 200 + i, FG_ACTION_PASS };
		CU_ASSERT_FATAL(add_rules(&rd, 1) == 0);
		hit[ports[i]] = 1;
	}
	/* The wildcard of the packet's own family hits, the other one not. */
	hit[v6 ? 4002 : 4001] = 1;
	CU_ASSERT_FATAL(set_policy(D, D) == 0);
	len = fg_pkt_build(&spec, pkt);
	CU_ASSERT_FATAL(len > 0);
	dport_off = (size_t)len - 8 - 8 + 2; /* UDP header, then 8 payload bytes */
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	for (__u32 port = 0; port < 65536; port++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
			    .repeat = 1);

		fg_pkt_put16(pkt + dport_off, (__u16)port);
		if (bpf_prog_test_run_opts(T.prog, &opts) ||
		    opts.retval != (hit[port] ? XDP_PASS : XDP_DROP)) {
			if (nwrong++ < 5)
				printf("\n    port %u: %s", port, verdict_name(opts.retval));
		}
		npass += opts.retval == XDP_PASS;
	}
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CHECK(nwrong == 0, "%s sweep: %llu ports with the wrong verdict", v6 ? "IPv6" : "IPv4",
	      (unsigned long long)nwrong);
	CHECK(npass == np + 1, "%s sweep: %llu ports hit, want %zu", v6 ? "IPv6" : "IPv4",
	      (unsigned long long)npass, np + 1);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = 65536;
	s_want.fs[FS(rx_bytes)] = 65536ull * len;
	s_want.fs[FS(pass_rule)] = np + 1;
	s_want.fs[FS(drop_no_rule)] = 65536 - np - 1;
	for (size_t i = 0; i < np; i++) {
		s_want.rs[200 + i][0] = 1;
		s_want.rs[200 + i][1] = len;
	}
	s_want.rs[v6 ? 103 : 102][0] = 1;
	s_want.rs[v6 ? 103 : 102][1] = len;
	CHECK(delta_is(&s_before, &s_after, &s_want, v6 ? "IPv6 sweep" : "IPv4 sweep"),
	      "%s sweep: exactly the rule ports counted", v6 ? "IPv6" : "IPv4");
}

static void test_sweep_of_all_65536_ports_hits_exactly_the_rule_ports(void)
{
	NEED_BPF();
	sweep_ports(0);
	sweep_ports(1);
}

/* Every ethertype, with 46 zero bytes behind it, under the drop policy:
 * ARP passes, IPv4 and IPv6 (version 0) are malformed, a VLAN tag with
 * ethertype 0 behind it and everything else is a miss. */
static void test_sweep_of_all_ethertypes_under_the_drop_policy(void)
{
	const struct fg_pkt_spec spec = { .l3 = FG_PKT_RAW, .payload = 46 };
	static __u8 pkt[FG_PKT_MAX];
	__u64 nwrong = 0;
	int len;

	NEED_BPF();
	CU_ASSERT_FATAL(reset() == 0 && add_rules(std_rules, 3) == 0);
	CU_ASSERT_FATAL(set_policy(D, D) == 0);
	len = fg_pkt_build(&spec, pkt);
	CU_ASSERT_FATAL(len == ETH_HLEN + 46);
	memset(pkt + ETH_HLEN, 0, 46);
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	for (__u32 et = 0; et < 65536; et++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
			    .repeat = 1);
		__u32 want = et == FG_PKT_ETH_ARP ? XDP_PASS : XDP_DROP;

		fg_pkt_put16(pkt + 12, (__u16)et);
		if (bpf_prog_test_run_opts(T.prog, &opts) || opts.retval != want) {
			if (nwrong++ < 5)
				printf("\n    ethertype %#06x: %s", et, verdict_name(opts.retval));
		}
	}
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CHECK(nwrong == 0, "%llu ethertypes with the wrong verdict", (unsigned long long)nwrong);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = 65536;
	s_want.fs[FS(rx_bytes)] = 65536ull * len;
	s_want.fs[FS(pass_control)] = 1;
	s_want.fs[FS(drop_malformed)] = 2;
	s_want.fs[FS(drop_no_rule)] = 65536 - 3;
	CHECK(delta_is(&s_before, &s_after, &s_want, "ethertype sweep"),
	      "ethertype sweep: 1 control, 2 malformed, the rest misses");
}

/* Feed every packet of the real captures; returns the packets seen. */
static int run_captures(__u32 want_verdict, __u64 *bytes)
{
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;
	const char *dir = FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0";
	struct dirent *de;
	char path[1024];
	int n = 0;
	DIR *d;

	*bytes = 0;
	d = opendir(dir);
	if (!d) {
		printf("\n    %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct fg_pcap pc;
		size_t len;
		int rc;

		if (!strstr(de->d_name, ".pcap"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (fg_pcap_open(&pc, path) || pc.linktype != 1 /* Ethernet */) {
			printf("\n    %s: not an Ethernet pcap", path);
			n = -1;
			break;
		}
		while ((rc = fg_pcap_next(&pc, pkt, sizeof(pkt), &len)) == 1) {
			if (run_pkt(pkt, len, T.lo, 0, &r) || r.retval != want_verdict) {
				printf("\n    %s: packet %d: %s", de->d_name, n,
				       verdict_name(r.retval));
				n = -1;
				break;
			}
			n++;
			*bytes += len;
		}
		fg_pcap_close(&pc);
		if (rc < 0 || n < 0) {
			n = -1;
			break;
		}
	}
	closedir(d);
	return n;
}

static void test_real_captures_hit_the_itch_rule_through_their_vlan_tag(void)
{
	const struct rule_def hit = { "233.54.12.111", 26477, 30, FG_ACTION_DROP, .feed = 3 };
	const struct rule_def other = { "233.54.12.111", 26478, 31, FG_ACTION_DROP };
	__u64 bytes;
	int n;

	NEED_BPF();
	/* A drop rule under the pass policy: only a hit can drop them. */
	CU_ASSERT_FATAL(reset() == 0 && add_rules(&hit, 1) == 0);
	CU_ASSERT_FATAL(set_policy(P, P) == 0);
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	n = run_captures(XDP_DROP, &bytes);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	CHECK(n >= 9, "captures: %d packets read, all dropped by the rule (want 9)", n);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = n;
	s_want.fs[FS(rx_bytes)] = bytes;
	s_want.fs[FS(drop_rule)] = n;
	s_want.rs[30][0] = n;
	s_want.rs[30][1] = bytes;
	CHECK(delta_is(&s_before, &s_after, &s_want, "captures, rule 26477"),
	      "captures: every packet counted by the 26477 rule");

	/* The same rule as a redirect: every packet falls back (no socket). */
	CU_ASSERT_FATAL(reset() == 0);
	{
		struct rule_def redir = hit;

		redir.action = FG_ACTION_REDIRECT;
		CU_ASSERT_FATAL(add_rules(&redir, 1) == 0);
	}
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	n = run_captures(XDP_PASS, &bytes);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = n;
	s_want.fs[FS(rx_bytes)] = bytes;
	s_want.fs[FS(pass_fallback)] = n;
	s_want.fs[FS(redirect_fallback)] = n;
	s_want.qs[0][1] = n;
	s_want.rs[30][0] = n;
	s_want.rs[30][1] = bytes;
	CHECK(n >= 9 && delta_is(&s_before, &s_after, &s_want, "captures, redirect rule"),
	      "captures: the redirect rule falls back for each packet");

	/* A rule for another port: every packet is a miss. */
	CU_ASSERT_FATAL(reset() == 0 && add_rules(&other, 1) == 0);
	CU_ASSERT_FATAL(set_policy(D, D) == 0);
	CU_ASSERT_FATAL(snap(&s_before) == 0);
	n = run_captures(XDP_DROP, &bytes);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	memset(&s_want, 0, sizeof(s_want));
	s_want.fs[FS(rx_packets)] = n;
	s_want.fs[FS(rx_bytes)] = bytes;
	s_want.fs[FS(drop_no_rule)] = n;
	CHECK(n >= 9 && delta_is(&s_before, &s_after, &s_want, "captures, rule 26478"),
	      "captures: a rule for port 26478 never matches");
}

/* ---- a real AF_XDP socket in xsk_map -------------------------------------- */

/* A copy-mode socket on ifname/queue (X), put in xsk_map[queue]. */
static int open_xsk(const char *ifname, __u32 queue)
{
	int err = fg_pkt_xsk_open(&X, ifname, queue);

	if (!err)
		err = fg_pkt_xsk_map(T.xsk, queue, &X);
	if (err)
		fg_pkt_xsk_close(&X);
	return err;
}

/* X out of xsk_map[queue], then closed. */
static void close_xsk(__u32 queue)
{
	fg_pkt_xsk_map(T.xsk, queue, NULL);
	fg_pkt_xsk_close(&X);
}

/* Make a veth pair whose end a has `queues` receive queues, in this
 * test's namespace; returns the ifindex of a or -errno. */
static int make_veth(const char *a, const char *b, int queues)
{
	char cmd[256];
	int idx;

	snprintf(cmd, sizeof(cmd),
		 "ip link add %s numtxqueues %d numrxqueues %d type veth peer name %s && "
		 "ip link set %s up && ip link set %s up",
		 a, queues, queues, b, a, b);
	if (system(cmd) != 0)
		return -EIO;
	idx = if_nametoindex(a);
	return idx ? idx : -ENODEV;
}

/*
 * Where the stamp of a redirected frame is in the test run's output (the
 * buffer from data_meta on): META: the record, then the untouched packet,
 * with meta_len = the record; HEAD: the same bytes but meta_len 0 (the
 * record is part of the frame); NONE: the packet alone. Returns the
 * record's offset in out, or -1 when the layout is not the mode's.
 */
static int stamp_layout_ok(int mode, const struct run *r, const __u8 *pkt, int len)
{
	if (mode == FG_STAMP_NONE)
		return r->meta_len == 0 && r->out_len == (__u32)len && !memcmp(r->out, pkt, len)
			       ? 0
			       : -1;
	if (r->out_len != (__u32)len + FG_STAMP_LEN || memcmp(r->out + FG_STAMP_LEN, pkt, len))
		return -1;
	if (r->meta_len != (mode == FG_STAMP_META ? FG_STAMP_LEN : 0))
		return -1;
	return 0;
}

static const char *stamp_name(int mode)
{
	return mode == FG_STAMP_META ? "meta" : mode == FG_STAMP_HEAD ? "head" : "none";
}

/* One stamp mode through a real socket: verdict, counters, record bytes,
 * the packet after it, both policies, IPv6, wildcard, and a pass rule that
 * is never stamped. */
static void redirect_in_mode(int mode)
{
	const struct fg_pkt_spec spec = { .tags = { TAG_Q(141) }, FEED };
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;
	struct fg_stamp st;
	/* META on a kernel without the helper: the run-time refusal path;
	 * a value that is no mode stamps nothing */
	const int got = mode == FG_STAMP_META	? (T.meta_ok ? FG_STAMP_META : FG_STAMP_HEAD)
			: mode == FG_STAMP_HEAD ? FG_STAMP_HEAD
						: FG_STAMP_NONE;
	int len;

	len = fg_pkt_build(&spec, pkt);
	CU_ASSERT_FATAL(len > 0);
	for (int policy = P; policy <= D; policy++) {
		CU_ASSERT_FATAL(set_config(policy, 0, mode) == 0);
		CU_ASSERT_FATAL(snap(&s_before) == 0);
		CU_ASSERT_FATAL(run_pkt(pkt, len, T.lo, 0, &r) == 0);
		CU_ASSERT_FATAL(snap(&s_after) == 0);
		CHECK(r.retval == XDP_REDIRECT, "stamp %s, socket on queue 0, %s policy: %s",
		      stamp_name(mode), policy == P ? "pass" : "drop", verdict_name(r.retval));
		want_one(&s_want, FS(redirected), 1, len, 0);
		if (got == FG_STAMP_META)
			s_want.fs[FS(stamp_meta)] = 1;
		if (got == FG_STAMP_HEAD)
			s_want.fs[FS(stamp_head)] = 1;
		if (mode == FG_STAMP_META && got == FG_STAMP_HEAD)
			s_want.fs[FS(stamp_meta_refused)] = 1;
		CHECK(delta_is(&s_before, &s_after, &s_want, "redirect"),
		      "stamp %s: redirect counted in filter_stats, queue_stats[0], rule 1, and "
		      "the stamp counter of mode %s",
		      stamp_name(mode), stamp_name(got));
		CHECK(stamp_layout_ok(got, &r, pkt, len) == 0,
		      "stamp %s: output %u bytes with %u of metadata: want the %s layout "
		      "(packet %d bytes)",
		      stamp_name(mode), r.out_len, r.meta_len, stamp_name(got), len);
		if (got == FG_STAMP_NONE)
			continue;
		memcpy(&st, r.out, sizeof(st));
		CHECK(st.magic == FG_STAMP_MAGIC && st.cookie == TEST_COOKIE,
		      "stamp %s: magic %#x cookie %#llx", stamp_name(mode), st.magic,
		      (unsigned long long)st.cookie);
		CHECK(st.rule_id == 1 && st.feed_id == 1, "stamp %s: rule %u feed %u, want 1 1",
		      stamp_name(mode), st.rule_id, st.feed_id);
		CHECK(st.rx_ns >= r.t0 && st.rx_ns <= r.t1,
		      "stamp %s: rx_ns %llu within the run [%llu, %llu] (CLOCK_MONOTONIC)",
		      stamp_name(mode), (unsigned long long)st.rx_ns, (unsigned long long)r.t0,
		      (unsigned long long)r.t1);
	}

	/* The IPv6 feed and a wildcard hit go the same way, with their ids. */
	{
		const struct fg_pkt_spec s6 = { FEED6 };
		const struct fg_pkt_spec sw = { .dst = "233.9.9.9", .dport = 6000 };

		len = fg_pkt_build(&s6, pkt);
		CU_ASSERT_FATAL(len > 0 && run_pkt(pkt, len, T.lo, 0, &r) == 0);
		memcpy(&st, r.out, sizeof(st));
		CHECK(r.retval == XDP_REDIRECT && stamp_layout_ok(got, &r, pkt, len) == 0 &&
			      (got == FG_STAMP_NONE || (st.rule_id == 8 && st.feed_id == 8)),
		      "stamp %s: IPv6 feed redirected with rule 8 in its stamp", stamp_name(mode));
		len = fg_pkt_build(&sw, pkt);
		CU_ASSERT_FATAL(len > 0 && run_pkt(pkt, len, T.lo, 0, &r) == 0);
		memcpy(&st, r.out, sizeof(st));
		CHECK(r.retval == XDP_REDIRECT && stamp_layout_ok(got, &r, pkt, len) == 0 &&
			      (got == FG_STAMP_NONE || (st.rule_id == 4 && st.feed_id == 4)),
		      "stamp %s: wildcard hit redirected with rule 4 in its stamp",
		      stamp_name(mode));
	}

	/* Rules that are not redirects ignore the socket and are never stamped. */
	{
		const struct fg_pkt_spec sp = { .dst = "239.1.1.2", .dport = 5001 };

		len = fg_pkt_build(&sp, pkt);
		CU_ASSERT_FATAL(len > 0 && run_pkt(pkt, len, T.lo, 0, &r) == 0);
		CHECK(r.retval == XDP_PASS && r.meta_len == 0 && r.out_len == (__u32)len &&
			      !memcmp(r.out, pkt, len),
		      "stamp %s: a pass rule is not redirected and its packet is untouched",
		      stamp_name(mode));
	}
}

static void test_socket_in_xskmap_makes_redirect_return_xdp_redirect(void)
{
	int err;

	NEED_BPF();
	CU_ASSERT_FATAL(reset() == 0 &&
			add_rules(std_rules, sizeof(std_rules) / sizeof(std_rules[0])) == 0);
	err = open_xsk("lo", 0);
	CHECK(!err, "AF_XDP socket (copy mode) on lo queue 0: %s", strerror(-err));
	if (err)
		return;
	redirect_in_mode(FG_STAMP_NONE);
	redirect_in_mode(0); /* not a mode: stamps nothing */
	redirect_in_mode(FG_STAMP_HEAD);
	close_xsk(0);
}

/* The metadata stamp, where the kernel takes bpf_xdp_adjust_meta. */
static void test_stamp_meta_where_the_kernel_has_the_helper(void)
{
	int err;

	NEED_BPF();
	if (!T.meta_ok)
		FG_SKIP("this kernel refuses bpf_xdp_adjust_meta in XDP programs (make "
			"test-kernel runs this case on Debian's stock kernel)");
	CU_ASSERT_FATAL(reset() == 0 &&
			add_rules(std_rules, sizeof(std_rules) / sizeof(std_rules[0])) == 0);
	err = open_xsk("lo", 0);
	CHECK(!err, "AF_XDP socket (copy mode) on lo queue 0: %s", strerror(-err));
	if (err)
		return;
	redirect_in_mode(FG_STAMP_META);
	close_xsk(0);
}

/* Metadata wanted where the kernel or driver has none (the program was
 * loaded without the helper, so the verifier never saw the call): the
 * frame goes out with the stamp in its headroom instead, counted. On a
 * kernel with the helper the same program is loaded again without it. */
static void test_stamp_meta_refused_goes_out_in_head_form(void)
{
	struct fg_pkt_prog saved = T;
	int err;

	NEED_BPF();
	if (T.meta_ok) {
		/* A second copy of the program, as a kernel without the helper gets it. */
		struct feedgate_bpf *sk = feedgate_bpf__open();

		CU_ASSERT_FATAL(sk != NULL);
		sk->rodata->fg_meta_ok = 0;
		CU_ASSERT_FATAL(feedgate_bpf__load(sk) == 0);
		T.skel = sk;
		T.meta_ok = 0;
		T.prog = bpf_program__fd(sk->progs.fg_xdp_filter);
		T.rules = bpf_map__fd(sk->maps.feed_rules);
		T.rule_stats = bpf_map__fd(sk->maps.rule_stats);
		T.filter_stats = bpf_map__fd(sk->maps.filter_stats);
		T.queue_stats = bpf_map__fd(sk->maps.queue_stats);
		T.config = bpf_map__fd(sk->maps.fg_config);
		T.xsk = bpf_map__fd(sk->maps.xsk_map);
	}
	CU_ASSERT_FATAL(reset() == 0 &&
			add_rules(std_rules, sizeof(std_rules) / sizeof(std_rules[0])) == 0);
	err = open_xsk("lo", 0);
	CHECK(!err, "AF_XDP socket (copy mode) on lo queue 0: %s", strerror(-err));
	if (!err) {
		redirect_in_mode(FG_STAMP_META);
		close_xsk(0);
	}
	if (T.skel != saved.skel)
		feedgate_bpf__destroy(T.skel);
	T = saved;
}

/* A socket serves its own queue only: with one on queue 0 of a veth, a
 * feed packet received on queue 1 falls back and counts no_socket on queue
 * 1. A queue beyond FG_MAX_QUEUES (no xsk_map or queue_stats slot) falls
 * back too, counted in filter_stats only. */
static void test_redirect_falls_back_on_a_queue_without_socket(void)
{
	char a[IFNAMSIZ], b[IFNAMSIZ];
	const struct fg_pkt_spec spec = { FEED };
	static __u8 pkt[FG_PKT_MAX];
	static struct run r;
	int ifindex, len, err;

	NEED_BPF();
	snprintf(a, sizeof(a), "fgq%da", (int)getpid() % 100000);
	snprintf(b, sizeof(b), "fgq%db", (int)getpid() % 100000);
	ifindex = make_veth(a, b, FG_MAX_QUEUES + 1);
	CHECK(ifindex > 0, "a veth with %d queues in the test's namespace", FG_MAX_QUEUES + 1);
	if (ifindex <= 0)
		return;
	CU_ASSERT_FATAL(reset() == 0 && add_rules(std_rules, 1) == 0);
	len = fg_pkt_build(&spec, pkt);
	CU_ASSERT_FATAL(len > 0);
	err = open_xsk(a, 0);
	CHECK(!err, "AF_XDP socket on %s queue 0: %s", a, strerror(-err));
	if (err)
		goto out;

	CU_ASSERT_FATAL(snap(&s_before) == 0);
	err = run_pkt(pkt, len, ifindex, 0, &r);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	want_one(&s_want, FS(redirected), 1, len, 0);
	CHECK(!err && r.retval == XDP_REDIRECT && delta_is(&s_before, &s_after, &s_want, "q0"),
	      "queue 0 (socket): redirected");

	for (int policy = P; policy <= D; policy++) {
		/* with a stamp wanted: none may be left on the fallen-back packet */
		CU_ASSERT_FATAL(set_config(policy, 0, FG_STAMP_HEAD) == 0);
		CU_ASSERT_FATAL(snap(&s_before) == 0);
		err = run_pkt(pkt, len, ifindex, 1, &r);
		CU_ASSERT_FATAL(snap(&s_after) == 0);
		want_one(&s_want, policy == P ? FS(pass_fallback) : FS(drop_fallback), 1, len, 1);
		CHECK(!err && r.retval == (policy == P ? XDP_PASS : XDP_DROP) &&
			      delta_is(&s_before, &s_after, &s_want, "q1"),
		      "queue 1 (no socket), %s policy: fallback, no_socket on queue 1",
		      policy == P ? "pass" : "drop");
		CHECK(!err && r.meta_len == 0 && r.out_len == (__u32)len &&
			      !memcmp(r.out, pkt, len),
		      "queue 1: no stamp is left when the redirect fails");
	}

	CU_ASSERT_FATAL(snap(&s_before) == 0);
	err = run_pkt(pkt, len, ifindex, FG_MAX_QUEUES, &r);
	CU_ASSERT_FATAL(snap(&s_after) == 0);
	want_one(&s_want, FS(drop_fallback), 1, len, 0);
	s_want.qs[0][1] = 0; /* no queue slot to count in */
	CHECK(!err && r.retval == XDP_DROP && delta_is(&s_before, &s_after, &s_want, "q64"),
	      "queue FG_MAX_QUEUES: falls back, counted in filter_stats only");
out:
	fg_pkt_xsk_close(&X);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "ip link del %s", a);
		CHECK(system(cmd) == 0, "veth %s removed", a);
	}
}

/* ---- suite set-up ----------------------------------------------------------- */

static int set_up(void)
{
	return fg_pkt_prog_load(&T);
}

static int tear_down(void)
{
	fg_pkt_xsk_close(&X);
	fg_pkt_prog_unload(&T);
	return 0;
}

static const struct fg_test tests[] = {
	FG_TEST(test_every_verdict_path),
	FG_TEST(test_vlan_and_qinq_tags_are_walked),
	FG_TEST(test_ipv4_header_checks),
	FG_TEST(test_ipv4_ihl_zero_is_malformed),
	FG_TEST(test_fragments_follow_the_fragment_policy),
	FG_TEST(test_ipv6_extension_headers),
	FG_TEST(test_control_traffic_passes_under_the_drop_policy),
	FG_TEST(test_wildcard_and_source_prefix_rules),
	FG_TEST(test_rules_with_bad_values_are_safe),
	FG_TEST(test_truncation_at_every_length_is_malformed),
	FG_TEST(test_sweep_of_all_65536_ports_hits_exactly_the_rule_ports),
	FG_TEST(test_sweep_of_all_ethertypes_under_the_drop_policy),
	FG_TEST(test_real_captures_hit_the_itch_rule_through_their_vlan_tag),
	FG_TEST(test_socket_in_xskmap_makes_redirect_return_xdp_redirect),
	FG_TEST(test_stamp_meta_where_the_kernel_has_the_helper),
	FG_TEST(test_stamp_meta_refused_goes_out_in_head_form),
	FG_TEST(test_redirect_falls_back_on_a_queue_without_socket),
};

FG_TEST_MAIN("xdp_filter", tests, set_up, tear_down)
