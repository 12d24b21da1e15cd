// SPDX-License-Identifier: MIT
/*
 * The `af_packet` backend: a TPACKET_V3 receive ring per thread
 * (Documentation/networking/packet_mmap.rst), the threads' sockets in one
 * PACKET_FANOUT group (hash of the flow, or the receiving CPU), and a
 * classic BPF socket filter generated from the feeds, so the kernel copies
 * only feed packets into the rings.
 *
 * TPACKET_V3 hands the ring over a block at a time: a block becomes ours
 * when it is full or its retire timeout (retire_ms) expires, and goes back
 * to the kernel once every frame in it has been through the sink. Frames
 * are handed out in bursts of at most `batch`, which may end inside a
 * block; a block whose last frame went out in a burst is given back when
 * that burst is released.
 *
 * The kernel takes a VLAN tag out of the frame before packet sockets see
 * it (skb_vlan_untag) and reports it in tp_vlan_tci; it is written back in
 * front of the ethertype, in the room the ring leaves before the frame, so
 * frames read as they did on the wire (as libpcap does).
 *
 * Set-up order, so that nothing unfiltered and nothing twice is ever
 * received: a reject-all filter, the ring, bind, join the fanout group;
 * only when every socket is in the group do they get the feed filter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fg_backend_int.h"
#include "fg_ftab.h"
#include "fg_net.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif

/* Where the frame may start at the earliest: header, then the sockaddr_ll the kernel writes. */
#define FG_AFP_HDR_END (TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + sizeof(struct sockaddr_ll))

/* --- the classic BPF filter ------------------------------------------------------------------- */

/*
 * A small assembler: instructions with symbolic jump targets (labels),
 * resolved at the end. Conditional jumps reach 255 instructions forward,
 * `ja` anywhere forward; the generator keeps far targets behind a `ja`.
 */
#define FG_L_NONE (-1) /* no label: offset 0 (the next instruction) */

struct fg_asm {
	struct sock_filter *insn;
	int *jt_lab, *jf_lab; /* per instruction: label of jt/jf (k for ja), FG_L_NONE */
	int *lab; /* label -> instruction index, -1 while unbound */
	unsigned int n, max, nlab, maxlab;
	int err;
};

static int fg_asm_label(struct fg_asm *a)
{
	if (a->nlab == a->maxlab) {
		a->err = -E2BIG;
		return FG_L_NONE;
	}
	a->lab[a->nlab] = -1;
	return (int)a->nlab++;
}

static void fg_asm_bind(struct fg_asm *a, int l)
{
	if (l >= 0)
		a->lab[l] = (int)a->n;
}

static void fg_asm_emit(struct fg_asm *a, uint16_t code, uint32_t k, int lt, int lf)
{
	if (a->n == a->max) {
		a->err = -E2BIG;
		return;
	}
	a->insn[a->n] = (struct sock_filter){ .code = code, .jt = 0, .jf = 0, .k = k };
	a->jt_lab[a->n] = lt;
	a->jf_lab[a->n] = lf;
	a->n++;
}

#define STMT(a, code, k) fg_asm_emit(a, (uint16_t)(code), (uint32_t)(k), FG_L_NONE, FG_L_NONE)
#define JMP(a, code, k, lt, lf) fg_asm_emit(a, (uint16_t)(BPF_JMP | (code) | BPF_K), k, lt, lf)
#define JA(a, l) fg_asm_emit(a, BPF_JMP | BPF_JA, 0, l, FG_L_NONE)
#define RET(a, k) STMT(a, BPF_RET | BPF_K, k)

/* Fill in the jump offsets. -ERANGE if a conditional target is out of reach (a bug). */
static int fg_asm_resolve(struct fg_asm *a)
{
	for (unsigned int i = 0; i < a->n; i++) {
		struct sock_filter *in = &a->insn[i];
		int t = a->jt_lab[i], f = a->jf_lab[i];
		long ot = 0, of = 0;

		if (t >= 0) {
			if (a->lab[t] < 0)
				return -EFAULT;
			ot = (long)a->lab[t] - (long)i - 1;
		}
		if (f >= 0) {
			if (a->lab[f] < 0)
				return -EFAULT;
			of = (long)a->lab[f] - (long)i - 1;
		}
		if (ot < 0 || of < 0)
			return -ERANGE;
		if (BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) == BPF_JA) {
			in->k = (uint32_t)ot;
			continue;
		}
		if (ot > 255 || of > 255)
			return -ERANGE;
		in->jt = (uint8_t)ot;
		in->jf = (uint8_t)of;
	}
	return 0;
}

static uint32_t fg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Mask of the prefix bits that fall in 32-bit word w of an address. */
static uint32_t fg_word_mask(unsigned int len, unsigned int w)
{
	int bits = (int)len - 32 * (int)w;

	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - bits);
}

/* Scratch memory: M[0..3] destination words, M[4..7] source words, M[8] port, M[9] next header. */
#define M_DST 0
#define M_SRC 4
#define M_PORT 8
#define M_NH 9

/* IPv6 extension headers walked (hop-by-hop, routing, destination options, fragment, AH). */
#define FG_CBPF_V6_EXT 6 /* as the XDP program (FG_MAX_IPV6_EXT) */

static bool fg_is_wild(const struct fg_backend_feed *f)
{
	static const uint8_t zero[16];

	return !memcmp(f->addr, zero, f->family == AF_INET ? 4 : 16);
}

/*
 * The rules of one family, one block per destination port: each feed of the
 * port compares the destination (not for the all-zero wildcard) and the
 * source prefix, and accepts.
 */
static void fg_cbpf_family(struct fg_asm *a, const struct fg_backend_feed *feeds, unsigned int n,
			   uint8_t family)
{
	const unsigned int words = family == AF_INET ? 1 : 4;

	for (unsigned int i = 0; i < n && !a->err; i++) {
		bool first = true;
		int next_port, after_ja;

		if (feeds[i].family != family)
			continue;
		for (unsigned int j = 0; j < i; j++)
			if (feeds[j].family == family && feeds[j].port == feeds[i].port)
				first = false;
		if (!first)
			continue;
		next_port = fg_asm_label(a);
		after_ja = fg_asm_label(a);
		STMT(a, BPF_LD | BPF_MEM, M_PORT);
		JMP(a, BPF_JEQ, feeds[i].port, after_ja, FG_L_NONE);
		JA(a, next_port); /* a port block can be longer than a conditional jump reaches */
		fg_asm_bind(a, after_ja);
		for (unsigned int j = i; j < n; j++) {
			const struct fg_backend_feed *f = &feeds[j];
			int skip;

			if (f->family != family || f->port != feeds[i].port)
				continue;
			skip = fg_asm_label(a);
			for (unsigned int w = 0; w < words && !fg_is_wild(f); w++) {
				STMT(a, BPF_LD | BPF_MEM, M_DST + w);
				JMP(a, BPF_JEQ, fg_be32(f->addr + 4 * w), FG_L_NONE, skip);
			}
			for (unsigned int w = 0; w < words && f->src_len; w++) {
				uint32_t mask = fg_word_mask(f->src_len, w);

				if (!mask)
					continue;
				STMT(a, BPF_LD | BPF_MEM, M_SRC + w);
				STMT(a, BPF_ALU | BPF_AND | BPF_K, mask);
				JMP(a, BPF_JEQ, fg_be32(f->src + 4 * w) & mask, FG_L_NONE, skip);
			}
			RET(a, FG_CBPF_ACCEPT);
			fg_asm_bind(a, skip);
		}
		fg_asm_bind(a, next_port);
	}
	RET(a, 0);
}

/* IPv4 (RFC 791): version, UDP, no fragment, addresses, then X = UDP header. */
static void fg_cbpf_ipv4(struct fg_asm *a, int rules, int rej)
{
	STMT(a, BPF_LD | BPF_B | BPF_IND, 0);
	STMT(a, BPF_ALU | BPF_AND | BPF_K, 0xf0);
	JMP(a, BPF_JEQ, 0x40, FG_L_NONE, rej);
	STMT(a, BPF_LD | BPF_B | BPF_IND, 9);
	JMP(a, BPF_JEQ, 17, FG_L_NONE, rej);
	/* MF or an offset: not a whole datagram (fg_net.c counts it the same way) */
	STMT(a, BPF_LD | BPF_H | BPF_IND, 6);
	JMP(a, BPF_JSET, 0x3fff, rej, FG_L_NONE);
	STMT(a, BPF_LD | BPF_W | BPF_IND, 16);
	STMT(a, BPF_ST, M_DST);
	STMT(a, BPF_LD | BPF_W | BPF_IND, 12);
	STMT(a, BPF_ST, M_SRC);
	STMT(a, BPF_LD | BPF_B | BPF_IND, 0);
	STMT(a, BPF_ALU | BPF_AND | BPF_K, 0x0f);
	JMP(a, BPF_JGE, 5, FG_L_NONE, rej);
	STMT(a, BPF_ALU | BPF_LSH | BPF_K, 2);
	STMT(a, BPF_ALU | BPF_ADD | BPF_X, 0);
	STMT(a, BPF_MISC | BPF_TAX, 0);
	STMT(a, BPF_LD | BPF_H | BPF_IND, 2);
	STMT(a, BPF_ST, M_PORT);
	JA(a, rules);
}

/*
 * Step over an IPv6 extension header at X: keep its next-header byte and
 * leave in A its length, (byte 1 + add) << shift bytes, for the jump to
 * next to add to X.
 */
static void fg_cbpf_v6_skip(struct fg_asm *a, unsigned int add, unsigned int shift, int next)
{
	STMT(a, BPF_LD | BPF_B | BPF_IND, 0);
	STMT(a, BPF_ST, M_NH);
	STMT(a, BPF_LD | BPF_B | BPF_IND, 1);
	STMT(a, BPF_ALU | BPF_ADD | BPF_K, add);
	STMT(a, BPF_ALU | BPF_LSH | BPF_K, shift);
	JA(a, next);
}

/*
 * IPv6 (RFC 8200): version, addresses, then the next-header chain, unrolled
 * FG_CBPF_V6_EXT times (cBPF has no loops): hop-by-hop, routing and
 * destination options ((len + 1) x 8 bytes, section 4.3-4.6), AH ((len +
 * 2) x 4, RFC 4302) and an atomic fragment header (offset 0, M clear:
 * section 4.5) are stepped over; UDP ends the walk; anything else rejects.
 */
static void fg_cbpf_ipv6(struct fg_asm *a, int rules, int rej)
{
	int udp = fg_asm_label(a);

	STMT(a, BPF_LD | BPF_B | BPF_IND, 0);
	STMT(a, BPF_ALU | BPF_AND | BPF_K, 0xf0);
	JMP(a, BPF_JEQ, 0x60, FG_L_NONE, rej);
	for (unsigned int w = 0; w < 4; w++) {
		STMT(a, BPF_LD | BPF_W | BPF_IND, 24 + 4 * w);
		STMT(a, BPF_ST, M_DST + w);
		STMT(a, BPF_LD | BPF_W | BPF_IND, 8 + 4 * w);
		STMT(a, BPF_ST, M_SRC + w);
	}
	STMT(a, BPF_LD | BPF_B | BPF_IND, 6);
	STMT(a, BPF_ST, M_NH);
	STMT(a, BPF_MISC | BPF_TXA, 0);
	STMT(a, BPF_ALU | BPF_ADD | BPF_K, 40);
	STMT(a, BPF_MISC | BPF_TAX, 0);
	STMT(a, BPF_LD | BPF_MEM, M_NH);
	for (unsigned int i = 0; i < FG_CBPF_V6_EXT; i++) {
		int ext = fg_asm_label(a), ah = fg_asm_label(a), frag = fg_asm_label(a);
		int next = fg_asm_label(a);

		/* A = next header, X = its offset */
		JMP(a, BPF_JEQ, 17, udp, FG_L_NONE);
		JMP(a, BPF_JEQ, 0, ext, FG_L_NONE);
		JMP(a, BPF_JEQ, 43, ext, FG_L_NONE);
		JMP(a, BPF_JEQ, 60, ext, FG_L_NONE);
		JMP(a, BPF_JEQ, 44, frag, FG_L_NONE);
		JMP(a, BPF_JEQ, 51, ah, FG_L_NONE);
		JA(a, rej);

		fg_asm_bind(a, ext);
		fg_cbpf_v6_skip(a, 1, 3, next);
		fg_asm_bind(a, ah);
		fg_cbpf_v6_skip(a, 2, 2, next);

		fg_asm_bind(a, frag);
		STMT(a, BPF_LD | BPF_H | BPF_IND, 2);
		JMP(a, BPF_JSET, 0xfff9, rej, FG_L_NONE);
		STMT(a, BPF_LD | BPF_B | BPF_IND, 0);
		STMT(a, BPF_ST, M_NH);
		STMT(a, BPF_LD | BPF_IMM, 8);

		fg_asm_bind(a, next); /* A = this header's length */
		STMT(a, BPF_ALU | BPF_ADD | BPF_X, 0);
		STMT(a, BPF_MISC | BPF_TAX, 0);
		STMT(a, BPF_LD | BPF_MEM, M_NH);
	}
	JMP(a, BPF_JEQ, 17, udp, rej);
	fg_asm_bind(a, udp);
	STMT(a, BPF_LD | BPF_H | BPF_IND, 2);
	STMT(a, BPF_ST, M_PORT);
	JA(a, rules);
}

int fg_afpacket_filter_build(const struct fg_backend_feed *feeds, unsigned int n,
			     struct sock_filter *insns, unsigned int max, unsigned int *len)
{
	struct fg_asm a = { .insn = insns, .max = max };
	bool has4 = false, has6 = false;
	int et, tag[2], v4 = FG_L_NONE, v6 = FG_L_NONE, rej4, rej6, rules4, rules6;
	int ret = 0;

	*len = 0;
	if (!n)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (feeds[i].family == AF_INET)
			has4 = true;
		else if (feeds[i].family == AF_INET6)
			has6 = true;
		else
			return -EINVAL;
	}
	/* fixed ones, 4 per IPv6 header step, at most 3 per feed (port block and skip) */
	a.maxlab = 16 + 4 * FG_CBPF_V6_EXT + 3 * n;
	a.jt_lab = malloc(max * sizeof(int));
	a.jf_lab = malloc(max * sizeof(int));
	a.lab = malloc(a.maxlab * sizeof(int));
	if (!a.jt_lab || !a.jf_lab || !a.lab) {
		ret = -ENOMEM;
		goto out;
	}
	et = fg_asm_label(&a);
	tag[0] = fg_asm_label(&a);
	tag[1] = fg_asm_label(&a);
	rej4 = fg_asm_label(&a);
	rej6 = fg_asm_label(&a);
	rules4 = fg_asm_label(&a);
	rules6 = fg_asm_label(&a);
	if (has4)
		v4 = fg_asm_label(&a);
	if (has6)
		v6 = fg_asm_label(&a);

	/* The kernel's check (bpf_check_classic) wants every scratch word stored
	 * before any load on every path, and does not know that a `ret` ends
	 * one: zero them all first. */
	STMT(&a, BPF_LD | BPF_IMM, 0);
	for (unsigned int m = 0; m <= M_NH; m++)
		STMT(&a, BPF_ST, m);
	/* Ethernet II and up to two 802.1Q / 802.1ad (or pre-standard 0x9100) tags:
	 * X = offset of the L3 header, A = its ethertype. */
	STMT(&a, BPF_LDX | BPF_W | BPF_IMM, 14);
	STMT(&a, BPF_LD | BPF_H | BPF_ABS, 12);
	for (unsigned int t = 1; t <= 2; t++) {
		JMP(&a, BPF_JEQ, 0x8100, tag[t - 1], FG_L_NONE);
		JMP(&a, BPF_JEQ, 0x88a8, tag[t - 1], FG_L_NONE);
		JMP(&a, BPF_JEQ, 0x9100, tag[t - 1], et);
		fg_asm_bind(&a, tag[t - 1]);
		STMT(&a, BPF_LDX | BPF_W | BPF_IMM, 14 + 4 * t);
		STMT(&a, BPF_LD | BPF_H | BPF_ABS, 12 + 4 * t);
	}
	fg_asm_bind(&a, et);
	if (has4)
		JMP(&a, BPF_JEQ, 0x0800, v4, FG_L_NONE);
	if (has6)
		JMP(&a, BPF_JEQ, 0x86dd, v6, FG_L_NONE);
	RET(&a, 0);
	if (has4) {
		fg_asm_bind(&a, v4);
		fg_cbpf_ipv4(&a, rules4, rej4);
		fg_asm_bind(&a, rej4);
		RET(&a, 0);
	}
	if (has6) {
		fg_asm_bind(&a, v6);
		fg_cbpf_ipv6(&a, rules6, rej6);
		fg_asm_bind(&a, rej6);
		RET(&a, 0);
	}
	if (has4) {
		fg_asm_bind(&a, rules4);
		fg_cbpf_family(&a, feeds, n, AF_INET);
	}
	if (has6) {
		fg_asm_bind(&a, rules6);
		fg_cbpf_family(&a, feeds, n, AF_INET6);
	}
	ret = a.err ? a.err : fg_asm_resolve(&a);
	if (!ret)
		*len = a.n;
out:
	free(a.jt_lab);
	free(a.jf_lab);
	free(a.lab);
	return ret;
}

/* --- the ring -------------------------------------------------------------------------------- */

struct fg_afp {
	unsigned int thread;
	int fd;
	bool spin;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size;
	uint32_t nblocks;
	uint32_t cur; /* block being read */
	uint32_t left; /* frames of it not handed out yet; 0: not opened */
	uint32_t off; /* offset of its next frame */
	uint32_t rel_first; /* blocks fully handed out, to give back on release */
	uint32_t nrel;
	struct fg_bk_clock clk;
	struct fg_ftab *ftab; /* which feed a frame is (fg_ftab.h) */
	struct fg_backend_kstats ks; /* written by the thread */
	pthread_mutex_t lock; /* PACKET_STATISTICS resets on read: totals below */
	struct tpacket_stats_v3 tot;
};

static inline struct tpacket_block_desc *fg_afp_block(const struct fg_afp *p, uint32_t i)
{
	return (struct tpacket_block_desc *)(p->map + (size_t)i * p->block_size);
}

static void fg_afp_read_stats(struct fg_afp *p)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&p->lock);
	if (!getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
		p->tot.tp_packets += st.tp_packets;
		p->tot.tp_drops += st.tp_drops;
		p->tot.tp_freeze_q_cnt += st.tp_freeze_q_cnt;
	}
	pthread_mutex_unlock(&p->lock);
}

static void fg_afp_close(void *rx)
{
	struct fg_afp *p = rx;

	if (!p)
		return;
	if (p->map)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	fg_ftab_free(p->ftab);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int fg_afp_attach(int fd, struct sock_filter *insns, unsigned int n)
{
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ? -errno : 0;
}

/* Socket, reject-all filter, ring, bind. */
static int fg_afp_open_one(const struct fg_backend_opts *o, int ifindex, unsigned int t,
			   struct fg_afp **out, char *err, size_t errlen)
{
	struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct fg_afp *p;
	int v = TPACKET_V3, one = 1, ret;

	p = calloc(1, sizeof(*p));
	if (!p) {
		fg_errf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->fd = -1;
	p->thread = t;
	if (fg_ftab_build(o->feeds, o->nfeeds, &p->ftab)) {
		fg_errf(err, errlen, "%s", strerror(ENOMEM));
		ret = -ENOMEM;
		goto fail;
	}
	p->spin = o->spin;
	p->block_size = o->block_size;
	p->nblocks = o->block_count;
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't open a packet socket: %s%s", strerror(errno),
			errno == EPERM || errno == EACCES ? " (needs root or CAP_NET_RAW)" : "");
		goto fail;
	}
	if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v))) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't select TPACKET_V3: %s", strerror(errno));
		goto fail;
	}
	ret = fg_afp_attach(p->fd, &reject, 1);
	if (ret) {
		fg_errf(err, errlen, "Couldn't attach a socket filter: %s", strerror(-ret));
		goto fail;
	}
	/* Our own IGMP/MLD reports go out of this interface: not ours to see. */
	setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	memset(&req, 0, sizeof(req));
	req.tp_block_size = o->block_size;
	req.tp_block_nr = o->block_count;
	req.tp_frame_size = o->frame_size;
	req.tp_frame_nr = o->block_size / o->frame_size * o->block_count;
	req.tp_retire_blk_tov = o->retire_ms;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't create the ring (%u blocks of %u bytes): %s",
			o->block_count, o->block_size, strerror(errno));
		goto fail;
	}
	p->map_len = (size_t)o->block_size * o->block_count;
	p->map =
		mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		ret = -errno;
		fg_errf(err, errlen, "Couldn't map the ring: %s", strerror(errno));
		goto fail;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		fg_errf(err, errlen, "%s: Couldn't bind the packet socket: %s", o->ifname,
			strerror(errno));
		goto fail;
	}
	fg_bk_clock_refresh(&p->clk);
	*out = p;
	return 0;
fail:
	fg_afp_close(p);
	return ret;
}

static int fg_afp_check(const struct fg_backend_opts *o, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	if ((o->block_size & (o->block_size - 1)) || o->block_size < (uint32_t)page ||
	    o->block_size > (1u << 30)) {
		fg_errf(err, errlen, "block size %u: want a power of two from %ld", o->block_size,
			page);
		return -EINVAL;
	}
	if (o->frame_size % TPACKET_ALIGNMENT || o->frame_size < FG_AFP_HDR_END + 64 ||
	    o->frame_size > o->block_size) {
		fg_errf(err, errlen,
			"frame size %u: want a multiple of %u from %zu to the block size",
			o->frame_size, TPACKET_ALIGNMENT, (size_t)FG_AFP_HDR_END + 64);
		return -EINVAL;
	}
	if (o->block_count < 2 || o->retire_ms > 60000) {
		fg_errf(err, errlen,
			"%u blocks, retire %u ms: want 2 blocks or more, at most "
			"60000 ms",
			o->block_count, o->retire_ms);
		return -EINVAL;
	}
	return 0;
}

static int fg_afp_open(const struct fg_backend_opts *o, void **rx, unsigned int *n, char *err,
		       size_t errlen)
{
	struct sock_filter *prog = NULL;
	unsigned int len = 0, t = 0;
	int ifindex = (int)if_nametoindex(o->ifname);
	int ret;

	if (!ifindex) {
		fg_errf(err, errlen, "%s: no such interface", o->ifname);
		return -ENODEV;
	}
	ret = fg_afp_check(o, err, errlen);
	if (ret)
		return ret;
	prog = calloc(FG_CBPF_MAX_INSNS, sizeof(*prog));
	if (!prog) {
		fg_errf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = fg_afpacket_filter_build(o->feeds, o->nfeeds, prog, FG_CBPF_MAX_INSNS, &len);
	if (ret) {
		fg_errf(err, errlen, "Couldn't build the socket filter for %u feeds: %s%s",
			o->nfeeds, strerror(-ret),
			ret == -E2BIG ? " (more than 4096 classic BPF instructions)" : "");
		goto out;
	}
	for (t = 0; t < o->threads; t++) {
		struct fg_afp *p = NULL;

		ret = fg_afp_open_one(o, ifindex, t, &p, err, errlen);
		if (ret)
			goto fail;
		rx[t] = p;
		if (o->threads > 1) {
			int arg, mode = o->fanout == FG_FANOUT_CPU ? PACKET_FANOUT_CPU
								   : PACKET_FANOUT_HASH;
			socklen_t alen = sizeof(arg);

			if (t == 0) {
				/* The kernel picks a group id no one else in the namespace uses. */
				arg = (mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
				ret = setsockopt(p->fd, SOL_PACKET, PACKET_FANOUT, &arg,
						 sizeof(arg)) ||
				      getsockopt(p->fd, SOL_PACKET, PACKET_FANOUT, &arg, &alen);
			} else {
				int first;

				alen = sizeof(first);
				ret = getsockopt(((struct fg_afp *)rx[0])->fd, SOL_PACKET,
						 PACKET_FANOUT, &first, &alen);
				arg = (first & 0xffff) | mode << 16;
				ret = ret || setsockopt(p->fd, SOL_PACKET, PACKET_FANOUT, &arg,
							sizeof(arg));
			}
			if (ret) {
				ret = -errno;
				fg_errf(err, errlen, "Couldn't join the %s fanout group: %s",
					fg_fanout_name(o->fanout), strerror(errno));
				t++;
				goto fail;
			}
		}
	}
	/* Every socket in the group: now let the feeds in. */
	for (t = 0; t < o->threads; t++) {
		struct fg_afp *p = rx[t];

		ret = fg_afp_attach(p->fd, prog, len);
		if (ret) {
			fg_errf(err, errlen,
				"Couldn't attach the feed filter (%u instructions): %s", len,
				strerror(-ret));
			t = o->threads;
			goto fail;
		}
		fg_afp_read_stats(p);
		memset(&p->tot, 0, sizeof(p->tot));
	}
	*n = o->threads;
	ret = 0;
	goto out;
fail:
	while (t-- > 0)
		fg_afp_close(rx[t]);
out:
	free(prog);
	return ret;
}

/* Give back the blocks whose frames have all been through the sink. */
static void fg_afp_release(void *rx)
{
	struct fg_afp *p = rx;

	for (uint32_t k = 0; k < p->nrel; k++) {
		struct tpacket_block_desc *bd = fg_afp_block(p, (p->rel_first + k) % p->nblocks);

		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	}
	p->rel_first = (p->rel_first + p->nrel) % p->nblocks;
	p->nrel = 0;
}

/* The current block is done: it goes back with the next release. */
static void fg_afp_block_done(struct fg_afp *p)
{
	if (!p->nrel)
		p->rel_first = p->cur;
	p->nrel++;
	p->left = 0;
	p->cur = p->cur + 1 < p->nblocks ? p->cur + 1 : 0;
}

/* Open the next block if the kernel has handed it over. */
static bool fg_afp_block_open(struct fg_afp *p)
{
	struct tpacket_block_desc *bd = fg_afp_block(p, p->cur);
	uint32_t num, first;

	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return false;
	num = bd->hdr.bh1.num_pkts;
	first = bd->hdr.bh1.offset_to_first_pkt;
	if (num && (first < sizeof(*bd) || first > p->block_size - sizeof(struct tpacket3_hdr))) {
		FG_BK_ADD(p->ks.bad, num);
		num = 0;
	}
	p->left = num;
	p->off = first;
	if (!num)
		fg_afp_block_done(p);
	return true;
}

/* Frame at p->off of the current block into f. false: skipped (counted). */
static bool fg_afp_frame(struct fg_afp *p, struct fg_frame *f)
{
	uint8_t *b = (uint8_t *)fg_afp_block(p, p->cur);
	struct tpacket3_hdr *h = (struct tpacket3_hdr *)(b + p->off);
	uint32_t mac = h->tp_mac, snap = h->tp_snaplen, room = p->block_size - p->off;
	const struct fg_backend_feed *feed;
	uint8_t *d;

	if (mac < FG_AFP_HDR_END || mac > room || snap > room - mac) {
		FG_BK_ADD(p->ks.bad, 1);
		return false;
	}
	if (snap < h->tp_len) {
		FG_BK_ADD(p->ks.truncated, 1);
		return false;
	}
	d = (uint8_t *)h + mac;
	f->len = snap;
	if ((h->tp_status & TP_STATUS_VLAN_VALID) && snap >= 12 && mac >= FG_AFP_HDR_END + 4) {
		uint16_t tpid =
			(h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
		uint16_t tci = (uint16_t)h->hv1.tp_vlan_tci;

		/* Back where it was on the wire: between the MACs and the ethertype. */
		memmove(d - 4, d, 12);
		d -= 4;
		d[12] = (uint8_t)(tpid >> 8);
		d[13] = (uint8_t)tpid;
		d[14] = (uint8_t)(tci >> 8);
		d[15] = (uint8_t)tci;
		f->len += 4;
		FG_BK_ADD(p->ks.vlan_restored, 1);
	}
	f->data = d;
	f->l3 = 0;
	f->queue = (uint16_t)p->thread;
	feed = fg_ftab_lookup(p->ftab, f);
	f->rule_id = feed ? feed->rule_id : FG_RULE_NONE;
	f->feed_id = feed ? feed->feed_id : 0;
	f->xdp_ns = fg_bk_real_to_mono(&p->clk, (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec);
	return true;
}

static int fg_afp_burst(void *rx, struct fg_frame *frames, unsigned int max)
{
	struct fg_afp *p = rx;
	unsigned int n = 0;
	bool waited = false;

	fg_afp_release(p); /* in case the last burst was not released */
	for (;;) {
		while (n < max) {
			struct tpacket3_hdr *h;
			uint32_t next;

			/* Every block is ours, done and waiting for the release: the
			 * next one is one this burst already handed out. */
			if (!p->left && (p->nrel == p->nblocks || !fg_afp_block_open(p)))
				break;
			if (!p->left)
				continue; /* an empty block */
			if (fg_afp_frame(p, &frames[n]))
				n++;
			h = (struct tpacket3_hdr *)((uint8_t *)fg_afp_block(p, p->cur) + p->off);
			next = h->tp_next_offset;
			if (--p->left) {
				if (!next || next > p->block_size - sizeof(*h) - p->off) {
					FG_BK_ADD(p->ks.bad, p->left);
					fg_afp_block_done(p);
					continue;
				}
				p->off += next;
			} else {
				fg_afp_block_done(p);
			}
		}
		if (n || p->spin || waited)
			return (int)n;
		{
			struct pollfd pfd = { .fd = p->fd, .events = POLLIN | POLLERR };

			FG_BK_ADD(p->ks.syscalls, 1);
			if (poll(&pfd, 1, FG_BACKEND_WAIT_MS) < 0 && errno != EINTR)
				return -errno;
			waited = true;
		}
	}
}

static void fg_afp_kstats(void *rx, struct fg_backend_kstats *ks)
{
	struct fg_afp *p = rx;

	memset(ks, 0, sizeof(*ks));
	fg_afp_read_stats(p);
	pthread_mutex_lock(&p->lock);
	ks->kernel_packets = p->tot.tp_packets;
	ks->kernel_drops = p->tot.tp_drops;
	ks->freeze_q = p->tot.tp_freeze_q_cnt;
	pthread_mutex_unlock(&p->lock);
	ks->syscalls = FG_BK_RD(p->ks.syscalls);
	ks->truncated = FG_BK_RD(p->ks.truncated);
	ks->bad = FG_BK_RD(p->ks.bad);
	ks->vlan_restored = FG_BK_RD(p->ks.vlan_restored);
}

const struct fg_backend_ops fg_afpacket_ops = {
	.name = "af_packet",
	.joins_groups = false,
	.open = fg_afp_open,
	.rx_burst = fg_afp_burst,
	.rx_release = fg_afp_release,
	.kstats = fg_afp_kstats,
	.close = fg_afp_close,
};
