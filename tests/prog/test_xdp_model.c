// SPDX-License-Identifier: MIT
/*
 * Property test of the XDP filter (bpf/feedgate.bpf.c) against an independent
 * model. At least 100,000 packets -- random bytes, real NASDAQ feed
 * packets (tests/data/itch-real) and generated ones (tests/prog/fg_pkt.h),
 * with VLAN / QinQ tags, IPv6 extension chains and fragments, truncated at
 * random lengths and with random bit flips -- go through BPF_PROG_TEST_RUN
 * under random rule sets and policies. For every packet the verdict, the one
 * filter_stats reason that moved (the whole counter vector is compared) and,
 * on a redirect, the {rule, feed} metadata must equal what the model says;
 * rule_stats and queue_stats are compared at the end of every batch.
 *
 * The model below parses the frame itself from the wire formats (Ethernet II
 * + IEEE 802.1Q / 802.1ad tags, RFC 791, RFC 8200 section 4, RFC 768) and the
 * rule semantics of README.md / include/fg_maps.h; it does not include
 * bpf/fg_parse.h. A real AF_XDP socket sits in xsk_map[0] for half of the
 * batches, so redirects really return XDP_REDIRECT, and the test asserts
 * separately that nothing but a packet matching a redirect rule is ever
 * redirected.
 *
 *   FG_MODEL_PACKETS=N  (default 200000)   FG_MODEL_SEED=S  (default fixed)
 *
 * Runs in a network namespace of its own (unshare). Needs root; skips otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_maps.h"
#include "fg_cunit.h"
#include "fg_pkt.h"

#define BATCH 2000
#define MAX_MODEL_RULES 48
#define MAX_REAL 256

/* filter_stats as a vector of __u64, in struct order. */
#define NFS (sizeof(struct fg_filter_stats) / sizeof(__u64))
#define FSI(f) (offsetof(struct fg_filter_stats, f) / sizeof(__u64))

#define MODEL_COOKIE 0x5eed5eed12345678ull

static struct fg_pkt_prog T;
static struct fg_pkt_xsk X; /* in xsk_map[0] for half of the batches */

static __u64 seed; /* FG_MODEL_SEED */
static __u64 rng; /* xorshift64* state */

static __u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static __u32 rndn(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

/* ---- the model ------------------------------------------------------------ */

enum m_class { M_UDP, M_MALFORMED, M_CONTROL, M_FRAGMENT, M_OTHER };

struct m_flow {
	int family; /* 4 or 6 */
	__u8 daddr[16], saddr[16];
	__u16 dport; /* host order */
};

struct m_rule {
	int family;
	__u8 daddr[16]; /* all zero: the port's wildcard */
	__u16 dport;
	__u32 id;
	__u8 action; /* may be out of range on purpose */
	__u8 plen; /* may exceed the family's width on purpose */
	__u8 saddr[16];
	__u16 feed;
};

static struct {
	struct m_rule r[MAX_MODEL_RULES];
	int n;
	__u8 miss, frag; /* FG_ACTION_PASS / FG_ACTION_DROP */
	int socket; /* an AF_XDP socket is in xsk_map[0] */
	__u8 stamp; /* fg_config.stamp_mode: 0 (none), NONE, META or HEAD */
} M;

static __u16 be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/*
 * Classify a frame. Ethernet II: 6+6 address bytes, then a 16-bit type;
 * 0x8100 / 0x88a8 is a 4-byte tag (TCI, inner type), at most two are looked
 * through. A header that does not fit in the frame is malformed.
 */
static enum m_class m_parse(const __u8 *p, size_t len, struct m_flow *f)
{
	size_t off = 14, l3end, hl, tot, l4;
	__u16 type;
	int first_frag = 0;

	memset(f, 0, sizeof(*f));
	if (len < 14)
		return M_MALFORMED;
	type = be16(p + 12);
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		if (off + 4 > len)
			return M_MALFORMED;
		type = be16(p + off + 2);
		off += 4;
	}
	if (type == 0x0806)
		return M_CONTROL; /* ARP */
	if (type == 0x0800) {
		const __u8 *ip = p + off;
		__u16 fo;

		/* RFC 791: version 4, IHL >= 5 words, total length covers the
		 * header and lies inside the frame (the rest is link padding). */
		if (off + 20 > len || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
			return M_MALFORMED;
		hl = (size_t)(ip[0] & 15) * 4;
		tot = be16(ip + 2);
		if (tot < hl || off + tot > len)
			return M_MALFORMED;
		fo = be16(ip + 6);
		if (fo & 0x1fff)
			return M_FRAGMENT; /* no L4 header in a non-first fragment */
		if (ip[9] == 1 || ip[9] == 2)
			return M_CONTROL; /* ICMP, IGMP */
		if (ip[9] != 17)
			return M_OTHER;
		f->family = 4;
		memcpy(f->saddr, ip + 12, 4);
		memcpy(f->daddr, ip + 16, 4);
		first_frag = !!(fo & 0x2000);
		l3end = off + tot;
		l4 = off + hl;
	} else if (type == 0x86dd) {
		const __u8 *ip6 = p + off;
		__u8 nh;
		int i;

		/* RFC 8200: 40-byte header, payload length inside the frame. */
		if (off + 40 > len || ip6[0] >> 4 != 6)
			return M_MALFORMED;
		l3end = off + 40 + be16(ip6 + 4);
		if (l3end > len)
			return M_MALFORMED;
		nh = ip6[6];
		l4 = off + 40;
		/* At most six extension headers are walked. */
		for (i = 0; i < 6; i++) {
			if (nh == 0 || nh == 43 || nh == 60) {
				/* Hdr Ext Len: 8-octet units beyond the first 8. */
				if (l4 + 2 > l3end)
					return M_MALFORMED;
				nh = p[l4];
				l4 += ((size_t)p[l4 + 1] + 1) * 8;
				if (l4 > l3end)
					return M_MALFORMED;
			} else if (nh == 44) {
				/* Fragment header, 8 bytes: offset << 3 | M. */
				if (l4 + 8 > l3end)
					return M_MALFORMED;
				if (be16(p + l4 + 2) & 0xfff8)
					return M_FRAGMENT;
				first_frag = be16(p + l4 + 2) & 1;
				nh = p[l4];
				l4 += 8;
			} else {
				break;
			}
		}
		if (nh == 58)
			return M_CONTROL; /* ICMPv6: ND, MLD */
		if (nh != 17)
			return M_OTHER;
		f->family = 6;
		memcpy(f->saddr, ip6 + 8, 16);
		memcpy(f->daddr, ip6 + 24, 16);
	} else {
		return M_OTHER;
	}
	/* RFC 768: 8-byte header whose length counts itself; the datagram
	 * must fit the IP payload unless this is a first fragment. */
	if (l4 + 8 > l3end)
		return M_MALFORMED;
	if (be16(p + l4 + 4) < 8)
		return M_MALFORMED;
	if (!first_frag && l4 + be16(p + l4 + 4) > l3end)
		return M_MALFORMED;
	f->dport = be16(p + l4 + 2);
	return M_UDP;
}

static int m_src_ok(const struct m_rule *r, const struct m_flow *f)
{
	int width = f->family == 4 ? 32 : 128;
	int plen = r->plen > width ? width : r->plen;

	for (int b = 0; b < plen; b++) {
		__u8 m = 0x80 >> (b % 8);

		if ((f->saddr[b / 8] & m) != (r->saddr[b / 8] & m))
			return 0;
	}
	return 1;
}

static const struct m_rule *m_find(const struct m_flow *f, int wildcard)
{
	static const __u8 zero[16];
	size_t alen = f->family == 4 ? 4 : 16;

	for (int i = 0; i < M.n; i++) {
		const struct m_rule *r = &M.r[i];

		if (r->family == f->family && r->dport == f->dport &&
		    !memcmp(r->daddr, wildcard ? zero : f->daddr, alen))
			return r;
	}
	return NULL;
}

struct m_out {
	__u32 verdict;
	__u64 fs[NFS]; /* expected filter_stats delta */
	const struct m_rule *rule; /* counted in rule_stats, or NULL */
	int redirect; /* XDP_REDIRECT */
	__u8 stamp; /* the stamp a redirected frame carries: META, HEAD, or other (none) */
	int no_socket; /* queue_stats[0].no_socket */
};

static void m_policy(__u8 pol, size_t pass_i, size_t drop_i, struct m_out *o)
{
	o->verdict = pol == FG_ACTION_DROP ? XDP_DROP : XDP_PASS;
	o->fs[pol == FG_ACTION_DROP ? drop_i : pass_i]++;
}

static void m_run(const __u8 *p, size_t len, struct m_out *o)
{
	static const __u8 zero[16];
	const struct m_rule *r = NULL;
	struct m_flow f;
	enum m_class c;

	memset(o, 0, sizeof(*o));
	o->fs[FSI(rx_packets)] = 1;
	o->fs[FSI(rx_bytes)] = len;
	c = m_parse(p, len, &f);
	switch (c) {
	case M_MALFORMED:
		o->verdict = XDP_DROP;
		o->fs[FSI(drop_malformed)]++;
		return;
	case M_CONTROL:
		o->verdict = XDP_PASS;
		o->fs[FSI(pass_control)]++;
		return;
	case M_FRAGMENT:
		m_policy(M.frag, FSI(pass_frag), FSI(drop_frag), o);
		return;
	case M_OTHER:
		m_policy(M.miss, FSI(pass_no_rule), FSI(drop_no_rule), o);
		return;
	case M_UDP:
		break;
	}
	/* Exact destination first; a source outside its prefix is a miss for
	 * that key and the port's wildcard is tried next. */
	r = m_find(&f, 0);
	if (r && !m_src_ok(r, &f))
		r = NULL;
	if (!r && memcmp(f.daddr, zero, 16)) {
		r = m_find(&f, 1);
		if (r && !m_src_ok(r, &f))
			r = NULL;
	}
	if (!r || r->action < FG_ACTION_PASS || r->action > FG_ACTION_REDIRECT) {
		m_policy(M.miss, FSI(pass_no_rule), FSI(drop_no_rule), o);
		return;
	}
	o->rule = r;
	if (r->action == FG_ACTION_PASS) {
		o->verdict = XDP_PASS;
		o->fs[FSI(pass_rule)]++;
	} else if (r->action == FG_ACTION_DROP) {
		o->verdict = XDP_DROP;
		o->fs[FSI(drop_rule)]++;
	} else if (M.socket) {
		o->verdict = XDP_REDIRECT;
		o->fs[FSI(redirected)]++;
		o->redirect = 1;
		/* META where the program has no metadata path goes out as HEAD */
		o->stamp = M.stamp == FG_STAMP_META && !T.meta_ok ? FG_STAMP_HEAD : M.stamp;
		if (M.stamp == FG_STAMP_META && !T.meta_ok)
			o->fs[FSI(stamp_meta_refused)]++;
		if (o->stamp == FG_STAMP_META)
			o->fs[FSI(stamp_meta)]++;
		else if (o->stamp == FG_STAMP_HEAD)
			o->fs[FSI(stamp_head)]++;
	} else {
		o->no_socket = 1;
		o->fs[FSI(redirect_fallback)]++;
		m_policy(M.miss, FSI(pass_fallback), FSI(drop_fallback), o);
	}
}

/* ---- packets ------------------------------------------------------------ */

/* Small address / port universes so that random packets hit rules often. */
static const char *const v4_dst[] = { "239.1.1.1", "239.1.1.2", "233.54.12.111", "10.0.0.9",
				      "239.255.0.1" };
static const char *const v4_src[] = { "10.1.2.3", "10.1.200.3", "192.168.7.7", "10.9.9.9" };
static const char *const v6_dst[] = { "ff15::1", "ff3e::1234", "fd00:fe::2", "ff02::fb" };
static const char *const v6_src[] = { "fd00:fe::1", "fd00:fe:0:1::1", "2001:db8::1", "fd00:ff::7" };
static const __u16 ports[] = { 5000, 5001, 26477, 18000, 9, 65535 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct {
	__u8 pkt[MAX_REAL][1600];
	__u16 len[MAX_REAL];
	int n;
	struct m_flow flow[MAX_REAL]; /* for rules that hit them */
	int nflow;
} R;

static void load_real(void)
{
	static const char *const dirs[] = {
		FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0",
		FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0.20230822",
	};
	static __u8 buf[FG_PKT_MAX];

	for (size_t d = 0; d < NELEM(dirs); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir)) && R.n < MAX_REAL) {
			char path[1024];
			struct fg_pcap pc;
			size_t len;

			if (!strstr(de->d_name, ".pcap"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			if (fg_pcap_open(&pc, path))
				continue;
			if (pc.linktype == 1)
				while (R.n < MAX_REAL &&
				       fg_pcap_next(&pc, buf, sizeof(buf), &len) == 1) {
					struct m_flow f;

					if (len > sizeof(R.pkt[0]))
						continue;
					memcpy(R.pkt[R.n], buf, len);
					R.len[R.n] = (__u16)len;
					if (m_parse(buf, len, &f) == M_UDP && R.nflow < MAX_REAL)
						R.flow[R.nflow++] = f;
					R.n++;
				}
			fg_pcap_close(&pc);
		}
		closedir(dir);
	}
}

static void put_tags(struct fg_pkt_spec *s)
{
	int n = rndn(8);

	n = n < 4 ? 0 : n < 6 ? 1 : n < 7 ? 2 : 3; /* a third tag is not walked */
	for (int i = 0; i < n; i++) {
		s->tags[i].tpid = rndn(2) ? FG_PKT_ETH_8021Q : FG_PKT_ETH_8021AD;
		s->tags[i].tci = (__u16)rnd();
	}
}

/* A well-formed (most of the time) packet from the universes above. */
static int gen_spec(__u8 *buf)
{
	static const __u8 l4s[] = { FG_PKT_UDP, FG_PKT_UDP,  FG_PKT_UDP,  FG_PKT_UDP,	 FG_PKT_UDP,
				    FG_PKT_TCP, FG_PKT_ICMP, FG_PKT_IGMP, FG_PKT_ICMPV6, 99 };
	static const __u8 exts[] = { FG_PKT_HOPOPTS, FG_PKT_ROUTING, FG_PKT_DSTOPTS,
				     FG_PKT_FRAGMENT };
	struct fg_pkt_spec s = { 0 };
	int kind = rndn(20);

	put_tags(&s);
	s.sport = 40000;
	s.dport = rndn(10) ? ports[rndn(NELEM(ports))] : (__u16)rnd();
	s.payload = (__u16)rndn(300);
	if (kind == 0) {
		s.l3 = FG_PKT_ARP;
	} else if (kind == 1) {
		s.l3 = FG_PKT_RAW;
		s.ethertype = rndn(2) ? (__u16)rnd() : FG_PKT_ETH_8021Q;
		s.payload = (__u16)rndn(64);
	} else if (kind < 11) {
		s.l3 = FG_PKT_IPV4;
		s.dst = v4_dst[rndn(NELEM(v4_dst))];
		s.src = v4_src[rndn(NELEM(v4_src))];
		s.proto = l4s[rndn(NELEM(l4s))];
		if (!rndn(4))
			s.opt_len = (__u8)(4 * rndn(11));
		if (!rndn(6))
			s.frag_off = rndn(2) ? 0x2000 : (__u16)rnd();
		if (!rndn(10))
			s.len_adj = (int)rndn(41) - 20;
		if (!rndn(10))
			s.udp_len_adj = (int)rndn(41) - 20;
	} else {
		s.l3 = FG_PKT_IPV6;
		s.dst = v6_dst[rndn(NELEM(v6_dst))];
		s.src = v6_src[rndn(NELEM(v6_src))];
		s.proto = l4s[rndn(NELEM(l4s))];
		if (!rndn(3)) {
			s.n_ext = (__u8)rndn(9);
			for (int i = 0; i < s.n_ext; i++) {
				s.ext[i].type = exts[rndn(NELEM(exts))];
				s.ext[i].hdrlen = (__u8)rndn(3);
			}
			s.ext_frag_off = rndn(2) ? (__u16)rndn(2) : (__u16)rnd();
		}
		if (!rndn(10))
			s.len_adj = (int)rndn(41) - 20;
		if (!rndn(10))
			s.udp_len_adj = (int)rndn(41) - 20;
	}
	if (!rndn(8)) {
		static const __u8 pad[32] = { 0x5a };

		s.trailer = pad;
		s.trailer_len = (__u16)rndn(sizeof(pad));
	}
	return fg_pkt_build(&s, buf);
}

/* One packet: random bytes, a real capture packet or a generated one, then
 * maybe truncated and bit-flipped. Returns its length (>= 0). */
static size_t make_packet(__u8 *buf, int *src_kind)
{
	int kind = rndn(10), len;

	if (kind == 0) {
		len = (int)rndn(200);
		for (int i = 0; i < len; i++)
			buf[i] = (__u8)rnd();
		if (len >= 14 && rndn(2)) { /* reach the IP parsers */
			__u16 t = rndn(2) ? 0x0800 : 0x86dd;

			buf[12] = t >> 8;
			buf[13] = t & 0xff;
			buf[14] = rndn(2) ? (t == 0x0800 ? 0x45 : 0x60) : buf[14];
		}
		*src_kind = 0;
	} else if (kind <= 3 && R.n) {
		int i = rndn(R.n);

		len = R.len[i];
		memcpy(buf, R.pkt[i], len);
		*src_kind = 1;
	} else {
		len = gen_spec(buf);
		if (len < 0)
			len = 0;
		*src_kind = 2;
	}
	if (kind && !rndn(4) && len > 0) /* truncation */
		len = (int)rndn(len);
	if (kind && !rndn(3)) { /* bit flips, mostly in the headers */
		int flips = 1 + rndn(4);

		for (int i = 0; i < flips && len > 0; i++) {
			int at = rndn(3) ? (int)rndn(len < 80 ? len : 80) : (int)rndn(len);

			buf[at] ^= (__u8)(1u << rndn(8));
		}
	}
	return (size_t)len;
}

/* ---- rules ---------------------------------------------------------------- */

static void pton(const char *txt, struct m_rule *r, __u8 *out)
{
	r->family = strchr(txt, ':') ? 6 : 4;
	inet_pton(r->family == 4 ? AF_INET : AF_INET6, txt, out);
}

/* A fresh random rule set (model and map), policies and socket. */
static int new_rules(void)
{
	struct fg_rule_key k;
	struct fg_config cfg = { 0 };
	__u32 zero = 0;
	int err = 0;

	/* Empty the map. */
	for (;;) {
		if (bpf_map_get_next_key(T.rules, NULL, &k))
			break;
		if (bpf_map_delete_elem(T.rules, &k))
			return -errno;
	}
	M.n = 0;
	for (int want = 4 + rndn(20); M.n < want;) {
		struct m_rule *r = &M.r[M.n];
		struct fg_rule v = { 0 };
		int kind = rndn(10);

		memset(r, 0, sizeof(*r));
		if (kind < 3 && R.nflow) {
			/* A rule that the real feed packets hit. */
			const struct m_flow *f = &R.flow[rndn(R.nflow)];

			r->family = f->family;
			memcpy(r->daddr, f->daddr, 16);
			r->dport = f->dport;
		} else if (kind < 7) {
			pton(v4_dst[rndn(NELEM(v4_dst))], r, r->daddr);
			r->dport = ports[rndn(NELEM(ports))];
		} else {
			pton(v6_dst[rndn(NELEM(v6_dst))], r, r->daddr);
			r->dport = ports[rndn(NELEM(ports))];
		}
		if (!rndn(4))
			memset(r->daddr, 0, 16); /* wildcard */
		{ /* keys are unique */
			struct m_flow probe = { .family = r->family, .dport = r->dport };

			memcpy(probe.daddr, r->daddr, 16);
			if (m_find(&probe, 0))
				continue;
		}
		r->id = (__u32)M.n * 7 + 1 + rndn(7); /* distinct, < FG_MAX_RULES */
		r->action = rndn(12) ? (__u8)(1 + rndn(3)) : (__u8)(rndn(2) ? 0 : 4 + rndn(250));
		r->feed = (__u16)rnd();
		if (!rndn(3)) {
			/* A source prefix around one of the sources, host bits zero. */
			const char *src = r->family == 4 ? v4_src[rndn(NELEM(v4_src))]
							 : v6_src[rndn(NELEM(v6_src))];
			int width = r->family == 4 ? 32 : 128;
			struct m_rule tmp;

			pton(src, &tmp, r->saddr);
			r->plen = (__u8)(1 + rndn(width + (rndn(8) ? 0 : 40)));
			for (int b = r->plen; b < 128; b++)
				r->saddr[b / 8] &= (__u8) ~(0x80 >> (b % 8));
		}
		memset(&k, 0, sizeof(k));
		k.family = r->family == 4 ? FG_FAMILY_IPV4 : FG_FAMILY_IPV6;
		k.dport = htons(r->dport);
		memcpy(k.addr, r->daddr, r->family == 4 ? 4 : 16);
		v.rule_id = r->id;
		v.action = r->action;
		v.src_prefix_len = r->plen;
		v.feed_id = r->feed;
		memcpy(v.src_addr, r->saddr, r->family == 4 ? 4 : 16);
		if (bpf_map_update_elem(T.rules, &k, &v, BPF_NOEXIST))
			return -errno;
		M.n++;
	}
	M.miss = rndn(2) ? FG_ACTION_PASS : FG_ACTION_DROP;
	M.frag = rndn(2) ? FG_ACTION_PASS : FG_ACTION_DROP;
	/* Out-of-range policy values mean pass. */
	cfg.miss_policy = M.miss == FG_ACTION_PASS && !rndn(4) ? (__u8)rndn(2) * 9 : M.miss;
	cfg.frag_policy = M.frag;
	{
		static const __u8 modes[] = { 0, FG_STAMP_NONE, FG_STAMP_META, FG_STAMP_HEAD };

		M.stamp = modes[rndn(4)];
	}
	cfg.stamp_mode = M.stamp;
	cfg.meta_ok = (__u8)T.meta_ok;
	cfg.stamp_cookie = MODEL_COOKIE;
	if (bpf_map_update_elem(T.config, &zero, &cfg, BPF_ANY))
		return -errno;
	return err;
}

/* ---- AF_XDP socket --------------------------------------------------------- */

static int set_socket(int on)
{
	M.socket = on;
	return fg_pkt_xsk_map(T.xsk, 0, on ? &X : NULL);
}

/* ---- counters ------------------------------------------------------------- */

static int sum_percpu(int fd, __u32 key, __u32 vwords, __u64 *out)
{
	__u64 vals[256 * 16];
	int err;

	if (T.ncpus * vwords > NELEM(vals))
		return -E2BIG;
	err = bpf_map_lookup_elem(fd, &key, vals) ? -errno : 0;
	if (err)
		return err;
	memset(out, 0, vwords * sizeof(__u64));
	for (int c = 0; c < T.ncpus; c++)
		for (__u32 w = 0; w < vwords; w++)
			out[w] += vals[c * vwords + w];
	return 0;
}

/* ---- the test ----------------------------------------------------------------- */

static const char *vname(__u32 v)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v < NELEM(n) ? n[v] : "?";
}

static void hexdump(const __u8 *p, size_t len)
{
	printf("\n      ");
	for (size_t i = 0; i < len && i < 96; i++)
		printf("%02x", p[i]);
}

static void test_program_agrees_with_the_model(void)
{
	static __u8 pkt[FG_PKT_MAX], out[FG_PKT_MAX + 64];
	static __u64 want_rs[FG_MAX_RULES][2], base_rs[FG_MAX_RULES][2];
	__u64 want_q[2] = { 0 }, base_q[2], got_q[2], fs0[NFS], fs1[NFS];
	const char *env = getenv("FG_MODEL_PACKETS");
	long total = env ? atol(env) : 200000, done = 0, refused = 0, bad = 0, wrong_redirect = 0;
	long by_kind[3] = { 0 }, by_verdict[5] = { 0 }, hits = 0;
	int err;

	if (T.skip)
		FG_SKIP(T.skip);
	printf("\n    seed %llu (FG_MODEL_SEED), %ld packets (FG_MODEL_PACKETS), %d real "
	       "capture packets",
	       (unsigned long long)seed, total, R.n);
	CU_ASSERT_FATAL(R.n > 0);

	while (done < total && bad < 10) {
		/* A new world every batch. */
		CU_ASSERT_FATAL((err = new_rules()) == 0);
		CU_ASSERT_FATAL(set_socket(rndn(2)) == 0);
		for (__u32 id = 0; id < FG_MAX_RULES; id++)
			CU_ASSERT_FATAL(sum_percpu(T.rule_stats, id, 2, base_rs[id]) == 0);
		CU_ASSERT_FATAL(sum_percpu(T.queue_stats, 0, 2, base_q) == 0);
		memset(want_rs, 0, sizeof(want_rs));
		memset(want_q, 0, sizeof(want_q));

		for (int i = 0; i < BATCH && done < total; i++, done++) {
			struct xdp_md ctx_in = { .ingress_ifindex = T.lo, .rx_queue_index = 0 };
			struct xdp_md ctx_out = {};
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_out = out,
				    .data_size_out = sizeof(out), .ctx_in = &ctx_in,
				    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
				    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
			struct m_out m;
			int kind, ok = 1;
			size_t len = make_packet(pkt, &kind);

			by_kind[kind]++;
			ctx_in.data_end = (__u32)len;
			opts.data_size_in = (__u32)len;
			CU_ASSERT_FATAL(sum_percpu(T.filter_stats, 0, NFS, fs0) == 0);
			err = bpf_prog_test_run_opts(T.prog, &opts);
			if (err) {
				/* The kernel refuses frames shorter than an
				 * Ethernet header before the program runs. */
				if (len < 14) {
					refused++;
					continue;
				}
				printf("\n    packet %ld (%zu bytes): test run failed: %s", done,
				       len, strerror(-err));
				bad++;
				continue;
			}
			CU_ASSERT_FATAL(sum_percpu(T.filter_stats, 0, NFS, fs1) == 0);
			m_run(pkt, len, &m);
			if (opts.retval < NELEM(by_verdict))
				by_verdict[opts.retval]++;
			if (opts.retval == XDP_REDIRECT &&
			    !(m.rule && m.rule->action == FG_ACTION_REDIRECT))
				wrong_redirect++;
			if (opts.retval != m.verdict)
				ok = 0;
			for (size_t f = 0; f < NFS; f++)
				if (fs1[f] - fs0[f] != m.fs[f])
					ok = 0;
			if (m.redirect && (m.stamp == FG_STAMP_META || m.stamp == FG_STAMP_HEAD)) {
				struct fg_stamp st;
				__u32 mlen = m.stamp == FG_STAMP_META ? sizeof(st) : 0;

				memcpy(&st, out, sizeof(st));
				if (ctx_out.data - ctx_out.data_meta != mlen ||
				    opts.data_size_out != len + sizeof(st) ||
				    st.magic != FG_STAMP_MAGIC || st.cookie != MODEL_COOKIE ||
				    st.rule_id != m.rule->id || st.feed_id != m.rule->feed ||
				    memcmp(out + sizeof(st), pkt, len))
					ok = 0;
			} else if (ctx_out.data != ctx_out.data_meta || opts.data_size_out != len ||
				   memcmp(out, pkt, len)) {
				ok = 0; /* a stamp left on a frame without one */
			}
			if (m.rule) {
				want_rs[m.rule->id][0]++;
				want_rs[m.rule->id][1] += len;
				hits++;
			}
			want_q[0] += m.redirect;
			want_q[1] += m.no_socket;
			if (!ok) {
				bad++;
				printf("\n    packet %ld (%zu bytes, source %d): program %s, model "
				       "%s (rule %d)",
				       done, len, kind, vname(opts.retval), vname(m.verdict),
				       m.rule ? (int)m.rule->id : -1);
				for (size_t f = 0; f < NFS; f++)
					if (fs1[f] - fs0[f] != m.fs[f])
						printf("\n      filter_stats[%zu] moved %llu, "
						       "model "
						       "%llu",
						       f, (unsigned long long)(fs1[f] - fs0[f]),
						       (unsigned long long)m.fs[f]);
				hexdump(pkt, len);
			}
		}
		/* rule_stats and queue_stats[0] over the batch. */
		for (__u32 id = 0; id < FG_MAX_RULES; id++) {
			__u64 got[2];

			CU_ASSERT_FATAL(sum_percpu(T.rule_stats, id, 2, got) == 0);
			if (got[0] - base_rs[id][0] != want_rs[id][0] ||
			    got[1] - base_rs[id][1] != want_rs[id][1]) {
				printf("\n    batch ending at %ld: rule_stats[%u] moved %llu/%llu, "
				       "model %llu/%llu",
				       done, id, (unsigned long long)(got[0] - base_rs[id][0]),
				       (unsigned long long)(got[1] - base_rs[id][1]),
				       (unsigned long long)want_rs[id][0],
				       (unsigned long long)want_rs[id][1]);
				bad++;
			}
		}
		CU_ASSERT_FATAL(sum_percpu(T.queue_stats, 0, 2, got_q) == 0);
		if (got_q[0] - base_q[0] != want_q[0] || got_q[1] - base_q[1] != want_q[1]) {
			printf("\n    batch ending at %ld: queue_stats[0] %llu/%llu, model "
			       "%llu/%llu",
			       done, (unsigned long long)(got_q[0] - base_q[0]),
			       (unsigned long long)(got_q[1] - base_q[1]),
			       (unsigned long long)want_q[0], (unsigned long long)want_q[1]);
			bad++;
		}
	}
	printf("\n    %ld packets (%ld random, %ld real, %ld generated; %ld refused by the "
	       "kernel as < 14 bytes): drop %ld pass %ld redirect %ld; %ld rule hits; "
	       "%ld disagreements",
	       done, by_kind[0], by_kind[1], by_kind[2], refused, by_verdict[XDP_DROP],
	       by_verdict[XDP_PASS], by_verdict[XDP_REDIRECT], hits, bad);
	CU_ASSERT(bad == 0);
	CU_ASSERT(wrong_redirect == 0);
	CU_ASSERT(done >= total);
	/* The mix must really exercise every verdict. */
	CU_ASSERT(by_verdict[XDP_REDIRECT] > 0 && by_verdict[XDP_PASS] > 0 &&
		  by_verdict[XDP_DROP] > 0);
}

/* ---- suite set-up ----------------------------------------------------------- */

static int set_up(void)
{
	const char *env = getenv("FG_MODEL_SEED");
	int err;

	seed = env ? strtoull(env, NULL, 0) : 20260601;
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	load_real();
	if (fg_pkt_prog_load(&T))
		return -1;
	if (T.skip)
		return 0;
	err = fg_pkt_xsk_open(&X, "lo", 0);
	if (err) {
		fprintf(stderr, "feedgate: test: AF_XDP socket on lo: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static int tear_down(void)
{
	fg_pkt_xsk_close(&X);
	fg_pkt_prog_unload(&T);
	return 0;
}

static const struct fg_test tests[] = {
	FG_TEST(test_program_agrees_with_the_model),
};

FG_TEST_MAIN("xdp_model", tests, set_up, tear_down)
