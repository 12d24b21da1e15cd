// SPDX-License-Identifier: MIT
/*
 * The classic BPF socket filter of the af_packet backend
 * (fg_afpacket_filter_build in user/lib/fg_afpacket.c): run by a small
 * cBPF interpreter here (classic semantics: big-endian loads, a load past
 * the end of the packet returns 0) against feed and noise fixtures built
 * with tests/prog/fg_pkt.h (VLAN, QinQ, IPv4 options and fragments, IPv6
 * extension headers), swept against the user-space parser as reference,
 * checked by the kernel (SO_ATTACH_FILTER), and run by the kernel itself on
 * a packet socket in a network namespace of its own.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fg_cunit.h"
#include "fg_backend.h"
#include "fg_net.h"
#include "prog/fg_pkt.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* --- a classic BPF interpreter ------------------------------------------------------------------ */

#define RUN_INVALID 0xdeadbeefu /* fell off the end or a bad instruction: never a verdict */

static uint32_t cbpf_run(const struct sock_filter *p, unsigned int n, const uint8_t *pkt,
			 uint32_t len)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 };

	for (unsigned int pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];
		uint32_t k = f->k, off, size, src;
		bool cond;

		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			switch (BPF_MODE(f->code)) {
			case BPF_IMM:
				A = k;
				continue;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return RUN_INVALID;
				A = M[k];
				continue;
			case BPF_LEN:
				A = len;
				continue;
			case BPF_ABS:
				off = k;
				break;
			case BPF_IND:
				off = X + k;
				if (off < X) /* wrapped */
					return 0;
				break;
			default:
				return RUN_INVALID;
			}
			size = BPF_SIZE(f->code) == BPF_W ? 4 : BPF_SIZE(f->code) == BPF_H ? 2 : 1;
			if (off > len || size > len - off)
				return 0; /* the kernel's verdict for a short packet */
			A = 0;
			for (uint32_t i = 0; i < size; i++)
				A = A << 8 | pkt[off + i];
			continue;
		case BPF_LDX:
			switch (BPF_MODE(f->code)) {
			case BPF_IMM:
				X = k;
				continue;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return RUN_INVALID;
				X = M[k];
				continue;
			case BPF_LEN:
				X = len;
				continue;
			case BPF_MSH:
				if (k >= len)
					return 0;
				X = 4u * (pkt[k] & 0xf);
				continue;
			default:
				return RUN_INVALID;
			}
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return RUN_INVALID;
			M[k] = BPF_CLASS(f->code) == BPF_ST ? A : X;
			continue;
		case BPF_ALU:
			src = BPF_SRC(f->code) == BPF_X ? X : k;
			switch (BPF_OP(f->code)) {
			case BPF_ADD:
				A += src;
				break;
			case BPF_SUB:
				A -= src;
				break;
			case BPF_MUL:
				A *= src;
				break;
			case BPF_DIV:
				if (!src)
					return 0;
				A /= src;
				break;
			case BPF_MOD:
				if (!src)
					return 0;
				A %= src;
				break;
			case BPF_OR:
				A |= src;
				break;
			case BPF_AND:
				A &= src;
				break;
			case BPF_XOR:
				A ^= src;
				break;
			case BPF_LSH:
				A = src < 32 ? A << src : 0;
				break;
			case BPF_RSH:
				A = src < 32 ? A >> src : 0;
				break;
			case BPF_NEG:
				A = -A;
				break;
			default:
				return RUN_INVALID;
			}
			continue;
		case BPF_JMP:
			if (BPF_OP(f->code) == BPF_JA) {
				pc += k;
				continue;
			}
			src = BPF_SRC(f->code) == BPF_X ? X : k;
			switch (BPF_OP(f->code)) {
			case BPF_JEQ:
				cond = A == src;
				break;
			case BPF_JGT:
				cond = A > src;
				break;
			case BPF_JGE:
				cond = A >= src;
				break;
			case BPF_JSET:
				cond = (A & src) != 0;
				break;
			default:
				return RUN_INVALID;
			}
			pc += cond ? f->jt : f->jf;
			continue;
		case BPF_RET:
			return BPF_RVAL(f->code) == BPF_A ? A : k;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			continue;
		default:
			return RUN_INVALID;
		}
	}
	return RUN_INVALID;
}

/*
 * The kernel's static checks (bpf_check_classic): jumps stay inside, the
 * last instruction returns, scratch words are stored before they are
 * loaded on every path (a `ret` does not end a path for that check).
 */
static int cbpf_check(const struct sock_filter *p, unsigned int n)
{
	uint16_t masks[FG_CBPF_MAX_INSNS], valid = 0;

	if (!n || n > FG_CBPF_MAX_INSNS || BPF_CLASS(p[n - 1].code) != BPF_RET)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		masks[i] = 0xffff;
	for (unsigned int pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		valid &= masks[pc];
		if (BPF_CLASS(f->code) == BPF_ST || BPF_CLASS(f->code) == BPF_STX) {
			valid |= (uint16_t)(1u << f->k);
		} else if ((BPF_CLASS(f->code) == BPF_LD || BPF_CLASS(f->code) == BPF_LDX) &&
			   BPF_MODE(f->code) == BPF_MEM) {
			if (!(valid & (1u << f->k)))
				return -2;
		} else if (BPF_CLASS(f->code) == BPF_JMP) {
			if (BPF_OP(f->code) == BPF_JA) {
				if (f->k >= n - pc - 1)
					return -3;
				masks[pc + 1 + f->k] &= valid;
			} else {
				if (pc + f->jt + 1 >= n || pc + f->jf + 1 >= n)
					return -3;
				masks[pc + 1 + f->jt] &= valid;
				masks[pc + 1 + f->jf] &= valid;
			}
			valid = 0xffff;
		}
	}
	return 0;
}

/* --- feeds and fixtures ------------------------------------------------------------------------ */

static struct fg_backend_feed feed(const char *s)
{
	struct fg_backend_feed f;
	char err[160];

	CU_ASSERT_FATAL(fg_backend_feed_parse(s, &f, err, sizeof(err)) == 0);
	return f;
}

static struct fg_backend_feed feed_src(const char *s, const char *src, unsigned int len)
{
	struct fg_backend_feed f = feed(s);

	f.src_len = (uint8_t)len;
	CU_ASSERT_FATAL(inet_pton(f.family, src, f.src) == 1);
	return f;
}

struct prog {
	struct sock_filter insn[FG_CBPF_MAX_INSNS];
	unsigned int len;
};

static struct prog P; /* big: not on the stack */

static void build(const struct fg_backend_feed *feeds, unsigned int n)
{
	CU_ASSERT_FATAL(fg_afpacket_filter_build(feeds, n, P.insn, FG_CBPF_MAX_INSNS, &P.len) == 0);
	CU_ASSERT_FATAL(cbpf_check(P.insn, P.len) == 0);
}

/* The verdict for a fixture: 1 accepted, 0 rejected. */
static int verdict(const struct fg_pkt_spec *s)
{
	uint8_t buf[FG_PKT_MAX];
	int len = fg_pkt_build(s, buf);
	uint32_t r;

	CU_ASSERT_FATAL(len > 0);
	r = cbpf_run(P.insn, P.len, buf, (uint32_t)len);
	CU_ASSERT(r == 0 || r == FG_CBPF_ACCEPT);
	return r == FG_CBPF_ACCEPT;
}

static const struct fg_pkt_tag T8100 = { FG_PKT_ETH_8021Q, 100 };
static const struct fg_pkt_tag T88A8 = { FG_PKT_ETH_8021AD, 200 };

/* The feeds most cases use. */
static void build_default(void)
{
	struct fg_backend_feed f[] = {
		feed("239.1.1.1:5000"),
		feed_src("239.1.1.2:5001", "10.0.0.0", 8),
		feed("0.0.0.0:6000"),
		feed("[ff15::1]:5000"),
		feed_src("[ff15::2]:5001", "2001:db8::", 48),
		feed("[::]:6000"),
	};

	build(f, sizeof(f) / sizeof(f[0]));
}

/* --- cases ----------------------------------------------------------------------------------- */

static void test_ipv4_feed_accepted_and_noise_rejected(void)
{
	build_default();
	CU_ASSERT(
		verdict(&(struct fg_pkt_spec){ .dst = "239.1.1.1", .dport = 5000, .payload = 40 }));
	/* the feed group on another port, another group on the feed port */
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){ .dst = "239.1.1.1", .dport = 5002 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){ .dst = "239.2.0.1", .dport = 5000 }));
	/* TCP and ICMP to the feed, ARP, an unknown ethertype */
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .dst = "239.1.1.1", .dport = 5000, .proto = FG_PKT_TCP }));
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .dst = "239.1.1.1", .proto = FG_PKT_ICMP, .l4_type = 8 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){ .l3 = FG_PKT_ARP }));
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .l3 = FG_PKT_RAW, .ethertype = 0x88cc, .payload = 60 }));
	/* the IPv4 feed's port on IPv6, and the other way round */
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .l3 = FG_PKT_IPV6, .dst = "ff15::9", .dport = 5001 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){ .dst = "239.1.1.9", .dport = 5000 }));
}

static void test_vlan_and_qinq_tags_walked(void)
{
	struct fg_pkt_spec s = { .dst = "239.1.1.1", .dport = 5000, .payload = 20 };

	build_default();
	s.tags[0] = T8100;
	CU_ASSERT(verdict(&s));
	s.tags[0] = T88A8;
	s.tags[1] = T8100;
	CU_ASSERT(verdict(&s));
	s.tags[0] = (struct fg_pkt_tag){ 0x9100, 7 };
	s.tags[1] = (struct fg_pkt_tag){ 0 };
	CU_ASSERT(verdict(&s));
	/* three tags: more than the XDP program and the parser walk */
	s.tags[0] = T88A8;
	s.tags[1] = T8100;
	s.tags[2] = T8100;
	CU_ASSERT(!verdict(&s));
	/* tagged noise stays out */
	s.tags[2] = (struct fg_pkt_tag){ 0 };
	s.dport = 5003;
	CU_ASSERT(!verdict(&s));
	s.dport = 5000;
	s.l3 = FG_PKT_IPV6;
	s.dst = "ff15::1";
	CU_ASSERT(verdict(&s));
}

static void test_ipv4_options_and_fragments(void)
{
	struct fg_pkt_spec s = { .dst = "239.1.1.1", .dport = 5000, .payload = 30 };

	build_default();
	s.opt_len = 4;
	CU_ASSERT(verdict(&s)); /* IHL 6: the port is found after the options */
	s.opt_len = 40;
	CU_ASSERT(verdict(&s)); /* IHL 15 */
	s.opt_len = 0;
	s.frag_off = 0x4000; /* DF: a whole datagram */
	CU_ASSERT(verdict(&s));
	s.frag_off = 0x2000; /* MF: first fragment */
	CU_ASSERT(!verdict(&s));
	s.frag_off = 0x0010; /* a later fragment: no UDP header */
	CU_ASSERT(!verdict(&s));
	s.frag_off = 0;
	s.ihl = 4;
	CU_ASSERT(!verdict(&s));
	s.ihl = 0;
	s.version = 6; /* an IPv6 header behind ethertype 0x0800 */
	CU_ASSERT(!verdict(&s));
}

static void test_ipv6_extension_headers_walked(void)
{
	struct fg_pkt_spec s = {
		.l3 = FG_PKT_IPV6, .dst = "ff15::1", .dport = 5000, .payload = 24
	};
	uint8_t buf[FG_PKT_MAX];
	int len;

	build_default();
	CU_ASSERT(verdict(&s));
	s.n_ext = 1;
	s.ext[0] = (struct fg_pkt_ext){ FG_PKT_HOPOPTS, 0 };
	CU_ASSERT(verdict(&s));
	s.n_ext = 3;
	s.ext[1] = (struct fg_pkt_ext){ FG_PKT_ROUTING, 2 };
	s.ext[2] = (struct fg_pkt_ext){ FG_PKT_DSTOPTS, 1 };
	CU_ASSERT(verdict(&s));
	/* an atomic fragment (offset 0, M clear) is a whole datagram; others are not */
	s.n_ext = 1;
	s.ext[0] = (struct fg_pkt_ext){ FG_PKT_FRAGMENT, 0 };
	s.ext_frag_off = 0;
	CU_ASSERT(verdict(&s));
	s.ext_frag_off = 1;
	CU_ASSERT(!verdict(&s));
	s.ext_frag_off = 8 << 3;
	CU_ASSERT(!verdict(&s));
	/* six headers are walked (as the XDP program does), seven are not */
	s.ext_frag_off = 0;
	s.n_ext = 6;
	for (int i = 0; i < 6; i++)
		s.ext[i] = (struct fg_pkt_ext){ FG_PKT_DSTOPTS, (uint8_t)(i % 3) };
	CU_ASSERT(verdict(&s));
	s.n_ext = 7;
	s.ext[6] = (struct fg_pkt_ext){ FG_PKT_DSTOPTS, 0 };
	CU_ASSERT(!verdict(&s));
	/* AH counts its length in 4-byte units, minus 2 (RFC 4302): 24 bytes */
	s.n_ext = 1;
	s.ext[0] = (struct fg_pkt_ext){ 51, 2 };
	len = fg_pkt_build(&s, buf);
	CU_ASSERT_FATAL(len > 0);
	buf[14 + 40 + 1] = 4;
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == FG_CBPF_ACCEPT);
	buf[14 + 40 + 1] = 2; /* read as 16 bytes: the port is not where it is looked for */
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == 0);
	/* no next header, ICMPv6 */
	s.n_ext = 0;
	s.proto = FG_PKT_NONE;
	CU_ASSERT(!verdict(&s));
	s.proto = FG_PKT_ICMPV6;
	s.l4_type = 128;
	CU_ASSERT(!verdict(&s));
}

static void test_wildcard_address_matches_any_destination(void)
{
	build_default();
	CU_ASSERT(verdict(&(struct fg_pkt_spec){ .dst = "10.199.0.2", .dport = 6000 }));
	CU_ASSERT(verdict(&(struct fg_pkt_spec){ .dst = "239.7.7.7", .dport = 6000 }));
	CU_ASSERT(verdict(
		&(struct fg_pkt_spec){ .l3 = FG_PKT_IPV6, .dst = "fd00::2", .dport = 6000 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){ .dst = "10.199.0.2", .dport = 6001 }));
}

static void test_source_prefix_restricts_feed(void)
{
	struct fg_backend_feed f[] = {
		feed_src("239.1.1.2:5001", "10.0.0.0", 8),
		feed_src("[ff15::2]:5001", "2001:db8:0:1234::", 62), /* straddles a word */
		feed_src("239.1.1.3:5003", "192.0.2.7", 32),
	};

	build(f, 3);
	CU_ASSERT(verdict(
		&(struct fg_pkt_spec){ .src = "10.9.8.7", .dst = "239.1.1.2", .dport = 5001 }));
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .src = "11.0.0.1", .dst = "239.1.1.2", .dport = 5001 }));
	CU_ASSERT(verdict(
		&(struct fg_pkt_spec){ .src = "192.0.2.7", .dst = "239.1.1.3", .dport = 5003 }));
	CU_ASSERT(!verdict(
		&(struct fg_pkt_spec){ .src = "192.0.2.8", .dst = "239.1.1.3", .dport = 5003 }));
	CU_ASSERT(verdict(&(struct fg_pkt_spec){
		.l3 = FG_PKT_IPV6, .src = "2001:db8:0:1237::9", .dst = "ff15::2", .dport = 5001 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){
		.l3 = FG_PKT_IPV6, .src = "2001:db8:0:1238::9", .dst = "ff15::2", .dport = 5001 }));
	CU_ASSERT(!verdict(&(struct fg_pkt_spec){
		.l3 = FG_PKT_IPV6, .src = "2001:db9:0:1234::1", .dst = "ff15::2", .dport = 5001 }));
	/* a wildcard on the same port still takes what the prefix keeps out */
	f[0] = feed("0.0.0.0:5001");
	build(f, 3);
	CU_ASSERT(verdict(
		&(struct fg_pkt_spec){ .src = "11.0.0.1", .dst = "239.1.1.2", .dport = 5001 }));
}

static void test_truncated_frames_rejected_before_the_port(void)
{
	const struct fg_pkt_spec specs[] = {
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 16 },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 16, .tags = { T88A8, T8100 } },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 16, .opt_len = 8 },
		{ .l3 = FG_PKT_IPV6,
		  .dst = "ff15::1",
		  .dport = 5000,
		  .payload = 16,
		  .n_ext = 2,
		  .ext = { { FG_PKT_HOPOPTS, 1 }, { FG_PKT_FRAGMENT, 0 } } },
	};
	uint8_t buf[FG_PKT_MAX];

	build_default();
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		int len = fg_pkt_build(&specs[i], buf);
		int port_end = len - 16 - 8 + 4; /* the payload, then the UDP header's first 4 */

		CU_ASSERT_FATAL(len > 0);
		for (int l = 0; l <= len; l++) {
			uint32_t r = cbpf_run(P.insn, P.len, buf, (uint32_t)l);

			CU_ASSERT_EQUAL(r, l >= port_end ? FG_CBPF_ACCEPT : 0);
		}
	}
}

/* The user-space parser (fg_net.c) plus the feeds' match: what the filter must agree with. */
static bool ref_accept(const uint8_t *b, uint32_t len, const struct fg_backend_feed *feeds,
		       unsigned int n)
{
	struct fg_frame f = { .data = b, .len = len };
	const uint8_t *pl;
	struct fg_flow fl;
	uint32_t plen;

	if (fg_net_parse(&f, &fl, &pl, &plen) != FG_NET_UDP)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		const struct fg_backend_feed *e = &feeds[i];
		unsigned int alen = e->family == AF_INET ? 4 : 16, full = e->src_len / 8;
		static const uint8_t zero[16];

		if (e->family != fl.family || e->port != fl.dport)
			continue;
		if (memcmp(e->addr, zero, alen) && memcmp(e->addr, fl.dst, alen))
			continue;
		if (memcmp(e->src, fl.src, full))
			continue;
		if (e->src_len % 8) {
			uint8_t m = (uint8_t)(0xff00u >> (e->src_len % 8));

			if ((e->src[full] & m) != (fl.src[full] & m))
				continue;
		}
		return true;
	}
	return false;
}

static void test_agrees_with_user_space_parser(void)
{
	static const char *const dst4[] = { "239.1.1.1", "239.1.1.2", "239.9.9.9", "10.199.0.2" };
	static const char *const src4[] = { "10.0.0.1", "172.16.0.1" };
	static const char *const dst6[] = { "ff15::1", "ff15::2", "ff15::3", "fd00::2" };
	static const char *const src6[] = { "2001:db8::1", "2001:db8:1::1" };
	static const uint16_t ports[] = { 5000, 5001, 6000, 6001 };
	static const uint8_t protos[] = { FG_PKT_UDP, FG_PKT_TCP };
	static const struct fg_pkt_tag tagsets[][3] = {
		{ { 0 } },
		{ { FG_PKT_ETH_8021Q, 5 } },
		{ { FG_PKT_ETH_8021AD, 9 }, { FG_PKT_ETH_8021Q, 5 } },
	};
	struct fg_backend_feed f[] = {
		feed("239.1.1.1:5000"),
		feed_src("239.1.1.2:5001", "10.0.0.0", 8),
		feed("0.0.0.0:6000"),
		feed("[ff15::1]:5000"),
		feed_src("[ff15::2]:5001", "2001:db8::", 48),
		feed("[::]:6000"),
	};
	const unsigned int nf = sizeof(f) / sizeof(f[0]);
	uint8_t buf[FG_PKT_MAX];
	unsigned int runs = 0, accepted = 0, disagree = 0;

	build(f, nf);
	/* every combination of family, tags, destination, source, port, protocol, variant */
	for (unsigned int c = 0; c < 2 * 3 * 4 * 2 * 4 * 2 * 5; c++) {
		unsigned int x = c, v6, t, d, sr, p, pr, var;
		struct fg_pkt_spec s;
		uint32_t r;
		int len;

		v6 = x % 2, x /= 2;
		t = x % 3, x /= 3;
		d = x % 4, x /= 4;
		sr = x % 2, x /= 2;
		p = x % 4, x /= 4;
		pr = x % 2, x /= 2;
		var = x;
		memset(&s, 0, sizeof(s));
		s.l3 = v6 ? FG_PKT_IPV6 : FG_PKT_IPV4;
		s.dst = v6 ? dst6[d] : dst4[d];
		s.src = v6 ? src6[sr] : src4[sr];
		s.dport = ports[p];
		s.sport = 40000;
		s.proto = protos[pr];
		s.payload = 20;
		memcpy(s.tags, tagsets[t], sizeof(s.tags));
		/* variants: plain; options or a hop-by-hop header; a fragment; DF or
		 * two extension headers; a wrong version nibble */
		if (var == 1 && v6) {
			s.n_ext = 1;
			s.ext[0] = (struct fg_pkt_ext){ FG_PKT_HOPOPTS, 1 };
		} else if (var == 1) {
			s.opt_len = 12;
		} else if (var == 2 && v6) {
			s.n_ext = 1;
			s.ext[0] = (struct fg_pkt_ext){ FG_PKT_FRAGMENT, 0 };
			s.ext_frag_off = (uint16_t)(d & 1 ? 0 : 1);
		} else if (var == 2) {
			s.frag_off = d & 1 ? 0x2000 : 0x0040;
		} else if (var == 3 && v6) {
			s.n_ext = 2;
			s.ext[0] = (struct fg_pkt_ext){ FG_PKT_DSTOPTS, 0 };
			s.ext[1] = (struct fg_pkt_ext){ FG_PKT_ROUTING, 3 };
		} else if (var == 3) {
			s.frag_off = 0x4000;
		} else if (var == 4) {
			s.version = v6 ? 4 : 6;
		}
		len = fg_pkt_build(&s, buf);
		CU_ASSERT_FATAL(len > 0);
		r = cbpf_run(P.insn, P.len, buf, (uint32_t)len);
		runs++;
		accepted += r == FG_CBPF_ACCEPT;
		if ((r == FG_CBPF_ACCEPT) != ref_accept(buf, (uint32_t)len, f, nf))
			disagree++;
	}
	CU_ASSERT_EQUAL(disagree, 0);
	/* the sweep must exercise both verdicts, a good share of each */
	CU_ASSERT(accepted > runs / 20);
	CU_ASSERT(accepted < runs / 2);
	printf("\n    %u fixtures, %u accepted ", runs, accepted);
}

/* Every feed on a port of its own: one port block each. */
static void test_feeds_on_distinct_ports(void)
{
	static struct fg_backend_feed f[400];
	uint8_t buf[FG_PKT_MAX];
	int len;

	for (unsigned int i = 0; i < 400; i++) {
		char s[64];

		if (i % 2)
			snprintf(s, sizeof(s), "[ff15::%x]:%u", i, 20000 + i);
		else
			snprintf(s, sizeof(s), "239.3.%u.%u:%u", i / 200, i % 200 + 1, 20000 + i);
		f[i] = feed(s);
	}
	build(f, 400);
	len = fg_pkt_build(&(struct fg_pkt_spec){ .dst = "239.3.1.199", .dport = 20398 }, buf);
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == FG_CBPF_ACCEPT);
	len = fg_pkt_build(
		&(struct fg_pkt_spec){ .l3 = FG_PKT_IPV6, .dst = "ff15::18f", .dport = 20399 },
		buf);
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == FG_CBPF_ACCEPT);
	len = fg_pkt_build(&(struct fg_pkt_spec){ .dst = "239.3.1.199", .dport = 20399 }, buf);
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == 0);
}

static void test_bad_input_refused(void)
{
	struct fg_backend_feed f = feed("239.1.1.1:5000");
	unsigned int len = 99;

	CU_ASSERT_EQUAL(fg_afpacket_filter_build(&f, 0, P.insn, FG_CBPF_MAX_INSNS, &len), -EINVAL);
	CU_ASSERT_EQUAL(len, 0);
	f.family = 99;
	CU_ASSERT_EQUAL(fg_afpacket_filter_build(&f, 1, P.insn, FG_CBPF_MAX_INSNS, &len), -EINVAL);
	f = feed("239.1.1.1:5000");
	/* a program that does not fit the room given */
	CU_ASSERT_EQUAL(fg_afpacket_filter_build(&f, 1, P.insn, 10, &len), -E2BIG);
}

static struct fg_backend_feed many[FG_BACKEND_MAX_FEEDS];

/* n IPv4 groups over 8 ports, plus (with v6) as many IPv6 groups. */
static unsigned int many_feeds(unsigned int n, bool v6)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		char s[64];

		snprintf(s, sizeof(s), "239.1.%u.%u:%u", i / 250, i % 250 + 1, 5000 + i % 8);
		many[k++] = feed(s);
		if (v6) {
			snprintf(s, sizeof(s), "[ff15::%x]:%u", i + 1, 5000 + i % 8);
			many[k++] = feed(s);
		}
	}
	return k;
}

static void test_many_feeds_fit_and_too_many_do_not(void)
{
	unsigned int n = many_feeds(1000, false), lo = 1, hi = FG_BACKEND_MAX_FEEDS;
	uint8_t buf[FG_PKT_MAX];
	int len;

	build(many, n);
	len = fg_pkt_build(&(struct fg_pkt_spec){ .dst = "239.1.3.250", .dport = 5000 + 999 % 8 },
			   buf);
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == FG_CBPF_ACCEPT);
	len = fg_pkt_build(&(struct fg_pkt_spec){ .dst = "239.1.3.250", .dport = 5000 }, buf);
	CU_ASSERT(cbpf_run(P.insn, P.len, buf, (uint32_t)len) == 0);
	/* the largest number of IPv4 feeds that fits: past it, -E2BIG */
	many_feeds(FG_BACKEND_MAX_FEEDS, false);
	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (fg_afpacket_filter_build(many, mid, P.insn, FG_CBPF_MAX_INSNS, &P.len) == 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	CU_ASSERT(lo >= 1000);
	CU_ASSERT(lo < FG_BACKEND_MAX_FEEDS);
	CU_ASSERT_EQUAL(fg_afpacket_filter_build(many, lo + 1, P.insn, FG_CBPF_MAX_INSNS, &P.len),
			-E2BIG);
	printf("\n    at most %u IPv4 feeds in one filter ", lo);
}

/* The kernel's own checker (sk_chk_filter) takes every program built here. */
static void test_kernel_accepts_programs(void)
{
	const unsigned int sizes[] = { 1, 3, 100, 300 }; /* 300 + 300 IPv6 still fit */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	for (int v6 = 0; v6 < 2; v6++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			unsigned int n = many_feeds(sizes[i], v6);
			struct sock_fprog prog;

			build(many, n);
			prog.len = (unsigned short)P.len;
			prog.filter = P.insn;
			CU_ASSERT(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
					     sizeof(prog)) == 0);
		}
	}
	build_default();
	{
		struct sock_fprog prog = { .len = (unsigned short)P.len, .filter = P.insn };

		CU_ASSERT(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0);
	}
	close(fd);
}

/*
 * The kernel runs the filter: in a network namespace of its own (a child
 * process), a packet socket on lo with the filter takes what another packet
 * socket sends there; what arrives must be exactly what the interpreter
 * accepts. The child reports through its exit status.
 */
static int kernel_child(void)
{
	struct fg_pkt_spec specs[] = {
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 10 },
		{ .dst = "239.1.1.1", .dport = 5002, .payload = 11 },
		{ .dst = "239.1.1.9", .dport = 5000, .payload = 12 },
		{ .dst = "239.1.1.2", .dport = 5001, .src = "10.1.1.1", .payload = 13 },
		{ .dst = "239.1.1.2", .dport = 5001, .src = "11.1.1.1", .payload = 14 },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 15, .tags = { T8100 } },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 16, .tags = { T88A8, T8100 } },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 17, .proto = FG_PKT_TCP },
		{ .l3 = FG_PKT_IPV6, .dst = "ff15::1", .dport = 5000, .payload = 18 },
		{ .l3 = FG_PKT_IPV6,
		  .dst = "ff15::1",
		  .dport = 5000,
		  .payload = 19,
		  .n_ext = 1,
		  .ext = { { FG_PKT_HOPOPTS, 0 } } },
		{ .l3 = FG_PKT_IPV6, .dst = "ff15::4", .dport = 5000, .payload = 20 },
		{ .dst = "10.9.9.9", .dport = 6000, .payload = 21 },
		{ .l3 = FG_PKT_ARP },
		{ .dst = "239.1.1.1", .dport = 5000, .payload = 22, .frag_off = 0x2000 },
	};
	const unsigned int ns = sizeof(specs) / sizeof(specs[0]);
	bool want[32] = { 0 }, got[32] = { 0 };
	struct sock_fprog prog = { .len = (unsigned short)P.len, .filter = P.insn };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr;
	uint8_t buf[FG_PKT_MAX];
	int rx, tx, ctl, one = 1;

	if (unshare(CLONE_NEWNET))
		return 10;
	ctl = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ctl < 0 || ioctl(ctl, SIOCGIFFLAGS, &ifr))
		return 11;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(ctl, SIOCSIFFLAGS, &ifr))
		return 12;
	sll.sll_ifindex = (int)if_nametoindex("lo");
	rx = socket(AF_PACKET, SOCK_RAW, 0);
	tx = socket(AF_PACKET, SOCK_RAW, 0);
	if (rx < 0 || tx < 0 || setsockopt(rx, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(rx, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    bind(rx, (struct sockaddr *)&sll, sizeof(sll)))
		return 13;
	sll.sll_protocol = 0;
	if (bind(tx, (struct sockaddr *)&sll, sizeof(sll)))
		return 14;
	for (unsigned int i = 0; i < ns; i++) {
		int len = fg_pkt_build(&specs[i], buf);

		if (len <= 0)
			return 15;
		want[i] = cbpf_run(P.insn, P.len, buf, (uint32_t)len) == FG_CBPF_ACCEPT;
		if (send(tx, buf, (size_t)len, 0) != len)
			return 16;
	}
	usleep(100000);
	for (;;) {
		ssize_t n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
		int k = -1;

		if (n < 0)
			break;
		/* The payload length tells the fixture (the kernel may have
		 * taken a VLAN tag out of the frame). */
		for (unsigned int i = 0; i < ns; i++) {
			struct fg_frame f = { .data = buf, .len = (uint32_t)n };
			struct fg_flow fl;
			const uint8_t *pl;
			uint32_t plen;

			if (fg_net_parse(&f, &fl, &pl, &plen) == FG_NET_UDP &&
			    plen == specs[i].payload)
				k = (int)i;
		}
		if (k < 0 || got[k])
			return 27; /* something unexpected, or twice */
		got[k] = true;
	}
	for (unsigned int i = 0, accepted = 0; i < ns; i++) {
		if (want[i] != got[i])
			return 30 + (int)i;
		accepted += want[i];
		if (i == ns - 1 && (accepted < 5 || accepted > ns - 4))
			return 29; /* the fixtures must exercise both verdicts */
	}
	return 0;
}

static void test_kernel_runs_filter_like_interpreter(void)
{
	pid_t pid;
	int status = 0;

	if (geteuid() != 0)
		FG_SKIP("needs root (a network namespace and packet sockets)");
	build_default();
	fflush(stdout);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (!pid)
		_exit(kernel_child());
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 10 && WEXITSTATUS(status) < 20)
		FG_SKIP("could not set up the namespace or packet sockets");
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

static const struct fg_test tests[] = {
	FG_TEST(test_ipv4_feed_accepted_and_noise_rejected),
	FG_TEST(test_vlan_and_qinq_tags_walked),
	FG_TEST(test_ipv4_options_and_fragments),
	FG_TEST(test_ipv6_extension_headers_walked),
	FG_TEST(test_wildcard_address_matches_any_destination),
	FG_TEST(test_source_prefix_restricts_feed),
	FG_TEST(test_truncated_frames_rejected_before_the_port),
	FG_TEST(test_agrees_with_user_space_parser),
	FG_TEST(test_feeds_on_distinct_ports),
	FG_TEST(test_bad_input_refused),
	FG_TEST(test_many_feeds_fit_and_too_many_do_not),
	FG_TEST(test_kernel_accepts_programs),
	FG_TEST(test_kernel_runs_filter_like_interpreter),
};

FG_TEST_MAIN("afpacket_bpf", tests, NULL, NULL)
