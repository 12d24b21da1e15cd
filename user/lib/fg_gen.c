// SPDX-License-Identifier: MIT
/*
 * Packet building and pacing for `feedgate gen` (formats in fg_gen.h):
 * Ethernet/IPv4/UDP/MoldUDP64 feed frames filled with fg_itchgen's ITCH
 * messages and a send-stamp trailer, the noise mix, the pacing clock, and
 * the names of the transmit paths.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "feedgate/itch.h"
#include "feedgate/itchgen.h"
#include "feedgate/mold.h"
#include "fg_gen.h"
#include "fg_log.h"
#include "fg_net.h"

struct fg_gen_feed {
	struct fg_gen_feed_stats st;
	struct fg_itchgen *itch;
	uint8_t mac[6];
};

struct fg_gen {
	struct fg_gen_config cfg;
	uint64_t rng;
	uint64_t loss_rng; /* its own stream: loss never changes the content */
	bool lossy; /* some loss ratio above 0 */
	double noise_acc;
	uint32_t next_feed;
	uint32_t pkt_no;
	uint16_t ip_id;
	uint64_t noise[FG_GEN_NKINDS];
	struct fg_gen_feed feeds[FG_GEN_MAX_FEEDS];
};

static const char *const kind_names[FG_GEN_NKINDS] = {
	[FG_GEN_FEED] = "feed",
	[FG_GEN_NOISE_UDP_PORT] = "udp_other_port",
	[FG_GEN_NOISE_UDP_GROUP] = "udp_other_group",
	[FG_GEN_NOISE_TCP] = "tcp",
	[FG_GEN_NOISE_ARP] = "arp",
};

const char *fg_gen_kind_name(unsigned int kind)
{
	return kind < FG_GEN_NKINDS ? kind_names[kind] : "unknown";
}

/* splitmix64: small, fast, and good enough to pick noise kinds, sizes and losses. */
static uint64_t fg_splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fg_rand(struct fg_gen *g)
{
	return fg_splitmix(&g->rng);
}

/* Uniform in [0, 1) with 53 bits: below a ratio r with probability r (1: always). */
static double fg_rand_unit(uint64_t *state)
{
	return (double)(fg_splitmix(state) >> 11) * 0x1p-53;
}

uint32_t fg_gen_group(unsigned int feed, unsigned int line)
{
	/* 239.1.1.(feed+1); line B one more in the second octet: 239.2.1.(feed+1) */
	return htonl(0xef010101u + feed + ((uint32_t)line << 16));
}

static uint32_t fg_group(unsigned int feed)
{
	return fg_gen_group(feed, 0);
}

/* RFC 1112 section 6.4: 01:00:5e + the low 23 bits of the group. */
static void fg_mcast_mac(uint32_t group_be, uint8_t mac[6])
{
	uint32_t g = ntohl(group_be);

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((g >> 16) & 0x7f);
	mac[4] = (uint8_t)(g >> 8);
	mac[5] = (uint8_t)g;
}

/* One line for a configuration fg_gen_new() refuses; -EINVAL. The fields are named as
 * in struct fg_gen_config: the caller may not have a command line at all. */
static int __attribute__((format(printf, 1, 2))) fg_gen_refuse(const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_warn("Couldn't create the generator: %s: %s\n", why, strerror(EINVAL));
	return -EINVAL;
}

int fg_gen_new(const struct fg_gen_config *c, struct fg_gen **out)
{
	static const char *const loss_name[FG_GEN_MAX_LINES + 1] = { "loss[0] (line A)",
								     "loss[1] (line B)",
								     "loss_both" };
	struct fg_gen *g;
	int err;

	if (!c->feeds || c->feeds > FG_GEN_MAX_FEEDS)
		return fg_gen_refuse("feeds %u, want 1..%u", c->feeds, FG_GEN_MAX_FEEDS);
	if (!c->msgs_per_packet || c->msgs_per_packet > FG_GEN_MAX_MPP)
		return fg_gen_refuse("msgs_per_packet %u, want 1..%u", c->msgs_per_packet,
				     FG_GEN_MAX_MPP);
	if (!(c->noise >= 0) || c->noise > 1000)
		return fg_gen_refuse("noise %g (packets per feed packet), want 0..1000", c->noise);
	if (c->lines > FG_GEN_MAX_LINES)
		return fg_gen_refuse("lines %u, want 1 or 2", c->lines);
	/* !(x >= 0) also refuses NaN */
	for (unsigned int l = 0; l <= FG_GEN_MAX_LINES; l++) {
		double r = l < FG_GEN_MAX_LINES ? c->loss[l] : c->loss_both;

		if (!(r >= 0) || r > 1)
			return fg_gen_refuse("%s %g, want a ratio from 0 to 1", loss_name[l], r);
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cfg = *c;
	if (!g->cfg.symbols)
		g->cfg.symbols = 64;
	if (!g->cfg.max_live_orders)
		g->cfg.max_live_orders = 10000;
	if (!g->cfg.lines)
		g->cfg.lines = 1;
	/* a line that does not exist loses nothing */
	for (unsigned int l = g->cfg.lines; l < FG_GEN_MAX_LINES; l++)
		g->cfg.loss[l] = 0;
	g->lossy = g->cfg.loss[0] > 0 || g->cfg.loss[1] > 0 || g->cfg.loss_both > 0;
	g->rng = c->seed ^ 0x6665656467617465ull; /* "feedgate" */
	g->loss_rng = c->seed ^ 0x6c6f73736c696e65ull; /* "lossline" */
	for (unsigned int f = 0; f < c->feeds; f++) {
		struct fg_gen_feed *fd = &g->feeds[f];
		struct fg_itchgen_config ic = {
			.seed = c->seed * 1000003ull + f,
			.symbols = g->cfg.symbols,
			.max_live_orders = g->cfg.max_live_orders,
		};

		snprintf(fd->st.session, sizeof(fd->st.session), "FG%08u", (f + 1) % 100000000u);
		fd->st.group = fg_group(f);
		if (g->cfg.lines > 1)
			fd->st.group_b = fg_gen_group(f, 1);
		fd->st.port = (uint16_t)(FG_GEN_BASE_PORT + f);
		fd->st.next_seq = 1;
		fg_mcast_mac(fd->st.group, fd->mac);
		err = fg_itchgen_new(&ic, &fd->itch);
		if (err) {
			pr_warn("Couldn't create the ITCH day of generator feed %u: %s\n", f + 1,
				strerror(-err));
			fg_gen_free(g);
			return err;
		}
	}
	*out = g;
	return 0;
}

void fg_gen_free(struct fg_gen *g)
{
	if (!g)
		return;
	for (unsigned int f = 0; f < FG_GEN_MAX_FEEDS; f++)
		fg_itchgen_free(g->feeds[f].itch);
	free(g);
}

const struct fg_gen_config *fg_gen_config(const struct fg_gen *g)
{
	return &g->cfg;
}

const struct fg_gen_feed_stats *fg_gen_feed(const struct fg_gen *g, unsigned int feed)
{
	return feed < g->cfg.feeds ? &g->feeds[feed].st : NULL;
}

const uint64_t *fg_gen_noise_counts(const struct fg_gen *g)
{
	return g->noise;
}

/* RFC 1071 checksum of an IPv4 header. */
static uint16_t fg_ip_csum(const uint8_t *h, unsigned int len)
{
	uint32_t sum = 0;

	for (unsigned int i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void fg_put_eth(uint8_t *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	fg_put_be16(b + 12, type);
}

/* IPv4 header without options; ttl 32 like a feed crossing a few routers. */
static void fg_put_ipv4(struct fg_gen *g, uint8_t *ip, uint16_t tot_len, uint8_t proto,
			uint32_t src, uint32_t dst)
{
	ip[0] = 0x45;
	ip[1] = 0;
	fg_put_be16(ip + 2, tot_len);
	fg_put_be16(ip + 4, g->ip_id++);
	fg_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 32;
	ip[9] = proto;
	fg_put_be16(ip + 10, 0);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	fg_put_be16(ip + 10, fg_ip_csum(ip, 20));
}

static void fg_put_udp(uint8_t *u, uint16_t sport, uint16_t dport, uint16_t len)
{
	fg_put_be16(u, sport);
	fg_put_be16(u + 2, dport);
	fg_put_be16(u + 4, len);
	fg_put_be16(u + 6, 0); /* no checksum (IPv4) */
}

/*
 * The lines the next feed packet goes out on (bit l = line l). Always three
 * draws, so that each line's losses follow from the seed and its own ratio
 * alone: --loss 0.1,0 and --loss 0.1,0.2 lose the same packets on line A.
 */
static uint8_t fg_gen_loss(struct fg_gen *g)
{
	uint8_t all = (uint8_t)((1u << g->cfg.lines) - 1), send = all;
	double both, a, b;

	if (!g->lossy)
		return all;
	both = fg_rand_unit(&g->loss_rng);
	a = fg_rand_unit(&g->loss_rng);
	b = fg_rand_unit(&g->loss_rng);
	if (both < g->cfg.loss_both)
		return 0;
	if (a < g->cfg.loss[0])
		send &= (uint8_t)~1u;
	if (b < g->cfg.loss[1])
		send &= (uint8_t)~2u;
	return send;
}

uint32_t fg_gen_next_feed(struct fg_gen *g, unsigned int feed, uint8_t *buf, struct fg_gen_pkt *p)
{
	struct fg_gen_feed *fd = &g->feeds[feed];
	uint8_t *mold = buf + FG_GEN_OFF_MOLD, *q = mold + FG_MOLD_HEADER_LEN;
	const uint8_t *lim = buf + FG_GEN_OFF_IP + FG_GEN_MAX_IP;
	uint16_t count = 0, udp_len, ip_len;
	uint32_t len;

	/* Messages straight into place, each behind its length prefix; the
	 * encoder refuses (returns 0) when the next one would not fit. */
	while (count < g->cfg.msgs_per_packet && lim - q > 2) {
		size_t n = fg_itchgen_next(fd->itch, q + 2, (size_t)(lim - q - 2));

		if (!n)
			break;
		fg_put_be16(q, (uint16_t)n);
		q += 2 + n;
		count++;
	}
	fg_mold_write_header(mold, fd->st.session, fd->st.next_seq, count);
	udp_len = (uint16_t)(q - (buf + FG_GEN_OFF_UDP));
	ip_len = (uint16_t)(udp_len + 20);
	fg_put_eth(buf, fd->mac, g->cfg.src_mac, 0x0800);
	fg_put_ipv4(g, buf + FG_GEN_OFF_IP, ip_len, 17, g->cfg.src_ip, fd->st.group);
	fg_put_udp(buf + FG_GEN_OFF_UDP, (uint16_t)(FG_GEN_BASE_SPORT + feed), fd->st.port,
		   udp_len);
	/* the trailer: stamp (written at send time), packet number, magic */
	fg_put_be64(q + FG_GEN_TRAILER_OFF_SEND_NS, 0);
	fg_put_be32(q + FG_GEN_TRAILER_OFF_PKT_NO, g->pkt_no++);
	fg_put_be32(q + FG_GEN_TRAILER_OFF_MAGIC, FG_GEN_TRAILER_MAGIC);
	len = (uint32_t)(q + FG_GEN_TRAILER_LEN - buf);

	p->len = len;
	p->kind = FG_GEN_FEED;
	p->feed = (uint16_t)feed;
	p->count = count;
	p->seq = fd->st.next_seq;
	p->trailer_off = (uint32_t)(q - buf);
	p->line = 0;
	p->send = fg_gen_loss(g);
	/* A consumer joins a feed at the first sequence number it sees and
	 * never asks for what came before: a loss of the first packet would
	 * go unnoticed. It always goes out (its draws are made all the same). */
	if (p->seq == 1)
		p->send = (uint8_t)((1u << g->cfg.lines) - 1);
	fd->st.next_seq += count;
	fd->st.packets++;
	fd->st.messages += count;
	for (unsigned int l = 0; l < g->cfg.lines; l++) {
		if (p->send & (1u << l)) {
			fd->st.line_sent[l]++;
			fd->st.bytes += len;
		} else {
			fd->st.line_lost[l]++;
		}
	}
	if (!p->send) {
		fd->st.lost_all++;
		fd->st.lost_all_messages += count;
	}
	return len;
}

void fg_gen_set_line(uint8_t *buf, struct fg_gen_pkt *p, unsigned int line)
{
	uint32_t group = fg_gen_group(p->feed, line);
	uint8_t *ip = buf + FG_GEN_OFF_IP;

	if (p->kind != FG_GEN_FEED || line >= FG_GEN_MAX_LINES)
		return;
	fg_mcast_mac(group, buf);
	memcpy(ip + 16, &group, 4);
	fg_put_be16(ip + 10, 0);
	fg_put_be16(ip + 10, fg_ip_csum(ip, 20));
	fg_put_be16(buf + FG_GEN_OFF_UDP,
		    (uint16_t)((line ? FG_GEN_BASE_SPORT_B : FG_GEN_BASE_SPORT) + p->feed));
	p->line = (uint8_t)line;
}

uint32_t fg_gen_heartbeat(struct fg_gen *g, unsigned int feed, unsigned int line, uint8_t *buf,
			  struct fg_gen_pkt *p)
{
	struct fg_gen_feed *fd = &g->feeds[feed];
	uint8_t *q = buf + FG_GEN_OFF_MOLD + FG_MOLD_HEADER_LEN;
	uint16_t udp_len = (uint16_t)(8 + FG_MOLD_HEADER_LEN);

	memset(p, 0, sizeof(*p));
	if (feed >= g->cfg.feeds)
		return 0;
	fg_mold_write_header(buf + FG_GEN_OFF_MOLD, fd->st.session, fd->st.next_seq,
			     FG_MOLD_HEARTBEAT);
	fg_put_eth(buf, fd->mac, g->cfg.src_mac, 0x0800);
	fg_put_ipv4(g, buf + FG_GEN_OFF_IP, (uint16_t)(udp_len + 20), 17, g->cfg.src_ip,
		    fd->st.group);
	fg_put_udp(buf + FG_GEN_OFF_UDP, (uint16_t)(FG_GEN_BASE_SPORT + feed), fd->st.port,
		   udp_len);
	fg_put_be64(q + FG_GEN_TRAILER_OFF_SEND_NS, 0);
	fg_put_be32(q + FG_GEN_TRAILER_OFF_PKT_NO, g->pkt_no++);
	fg_put_be32(q + FG_GEN_TRAILER_OFF_MAGIC, FG_GEN_TRAILER_MAGIC);
	p->len = (uint32_t)(q + FG_GEN_TRAILER_LEN - buf);
	p->kind = FG_GEN_FEED;
	p->feed = (uint16_t)feed;
	p->seq = fd->st.next_seq;
	p->trailer_off = (uint32_t)(q - buf);
	p->send = (uint8_t)(1u << line);
	if (line)
		fg_gen_set_line(buf, p, line);
	fd->st.heartbeats++;
	return p->len;
}

static const uint8_t fg_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

uint32_t fg_gen_next_noise(struct fg_gen *g, unsigned int kind, uint8_t *buf, struct fg_gen_pkt *p)
{
	uint32_t r = (uint32_t)fg_rand(g), len = 0;
	unsigned int f = r % g->cfg.feeds;
	uint32_t dst;
	uint8_t mac[6];

	memset(p, 0, sizeof(*p));
	switch (kind) {
	case FG_GEN_NOISE_UDP_PORT:
	case FG_GEN_NOISE_UDP_GROUP: {
		uint16_t plen = (uint16_t)(32 + (r >> 8) % 480), dport;

		if (kind == FG_GEN_NOISE_UDP_PORT) {
			dst = fg_group(f);
			dport = (uint16_t)(FG_GEN_NOISE_PORT + (r >> 20) % 1000);
		} else {
			dst = htonl(0xef020000u + 1 + (r >> 20) % 250); /* 239.2.0.x */
			dport = (uint16_t)(FG_GEN_BASE_PORT + f);
		}
		fg_mcast_mac(dst, mac);
		fg_put_eth(buf, mac, g->cfg.src_mac, 0x0800);
		fg_put_ipv4(g, buf + 14, (uint16_t)(20 + 8 + plen), 17, g->cfg.src_ip, dst);
		fg_put_udp(buf + 34, (uint16_t)(50000 + (r & 0xff)), dport, (uint16_t)(8 + plen));
		for (uint16_t i = 0; i < plen; i++)
			buf[42 + i] = (uint8_t)(r >> (i % 24));
		len = 42u + plen;
		break;
	}
	case FG_GEN_NOISE_TCP:
		/* A SYN to a TEST-NET address nobody has. */
		dst = htonl(0xc0000200u + 1 + (r >> 8) % 250);
		fg_put_eth(buf, fg_bcast, g->cfg.src_mac, 0x0800);
		fg_put_ipv4(g, buf + 14, 40, 6, g->cfg.src_ip, dst);
		memset(buf + 34, 0, 20);
		fg_put_be16(buf + 34, (uint16_t)(32768 + (r & 0x3fff)));
		fg_put_be16(buf + 36, 80);
		fg_put_be32(buf + 38, r);
		buf[46] = 5 << 4; /* data offset */
		buf[47] = 0x02; /* SYN */
		fg_put_be16(buf + 48, 64240);
		len = 54;
		break;
	case FG_GEN_NOISE_ARP:
		/* RFC 826 request: who has 192.0.2.x? (nobody answers) */
		fg_put_eth(buf, fg_bcast, g->cfg.src_mac, 0x0806);
		fg_put_be16(buf + 14, 1); /* Ethernet */
		fg_put_be16(buf + 16, 0x0800); /* IPv4 */
		buf[18] = 6;
		buf[19] = 4;
		fg_put_be16(buf + 20, 1); /* request */
		memcpy(buf + 22, g->cfg.src_mac, 6);
		memcpy(buf + 28, &g->cfg.src_ip, 4);
		memset(buf + 32, 0, 6);
		dst = htonl(0xc0000200u + 1 + (r >> 8) % 250);
		memcpy(buf + 38, &dst, 4);
		memset(buf + 42, 0, 18); /* pad to the 60-byte minimum */
		len = 60;
		break;
	default:
		return 0;
	}
	p->len = len;
	p->kind = (uint8_t)kind;
	p->send = 1; /* once, as it is */
	g->noise[kind]++;
	return len;
}

/* Kinds of noise in proportion: UDP other port 40%, other group 20%, TCP 25%, ARP 15%. */
static unsigned int fg_noise_kind(struct fg_gen *g)
{
	unsigned int r = (unsigned int)(fg_rand(g) % 100);

	if (r < 40)
		return FG_GEN_NOISE_UDP_PORT;
	if (r < 60)
		return FG_GEN_NOISE_UDP_GROUP;
	if (r < 85)
		return FG_GEN_NOISE_TCP;
	return FG_GEN_NOISE_ARP;
}

uint32_t fg_gen_next(struct fg_gen *g, uint8_t *buf, struct fg_gen_pkt *p)
{
	unsigned int f;

	/* Bresenham-like: exactly `noise` noise packets per feed packet over
	 * any long stretch, spread evenly rather than in bursts. */
	if (g->noise_acc >= 1.0) {
		g->noise_acc -= 1.0;
		return fg_gen_next_noise(g, fg_noise_kind(g), buf, p);
	}
	g->noise_acc += g->cfg.noise;
	f = g->next_feed;
	g->next_feed = (f + 1) % g->cfg.feeds;
	return fg_gen_next_feed(g, f, buf, p);
}

int fg_gen_peek(const struct fg_gen *g, unsigned int *feed)
{
	/* the decision fg_gen_next() takes first, before it draws anything */
	if (g->noise_acc >= 1.0)
		return 0;
	*feed = g->next_feed;
	return 1;
}

void fg_gen_unsend(struct fg_gen *g, const struct fg_gen_pkt *p)
{
	if (p->kind == FG_GEN_FEED) {
		struct fg_gen_feed_stats *st = &g->feeds[p->feed].st;
		unsigned int l = p->line < FG_GEN_MAX_LINES ? p->line : 0;

		st->bytes -= p->len;
		st->line_sent[l]--;
		if (g->cfg.keep_unsent) {
			/* still generated: a server has it, a consumer may ask */
			st->line_refused[l]++;
		} else {
			st->packets--;
			st->messages -= p->count;
		}
	} else if (p->kind < FG_GEN_NKINDS) {
		g->noise[p->kind]--;
	}
}

void fg_gen_account_feed(struct fg_gen *g, unsigned int feed, uint64_t packets, uint16_t count,
			 uint32_t len)
{
	struct fg_gen_feed_stats *st;

	if (feed >= g->cfg.feeds)
		return;
	st = &g->feeds[feed].st;
	st->packets += packets;
	st->messages += packets * count;
	st->bytes += packets * len;
	st->next_seq += packets * count;
	st->line_sent[0] += packets; /* template paths: one line, no loss */
}

void fg_gen_account_noise(struct fg_gen *g, unsigned int kind, uint64_t packets)
{
	if (kind > FG_GEN_FEED && kind < FG_GEN_NKINDS)
		g->noise[kind] += packets;
}

const enum fg_gen_tx fg_gen_tx_auto_order[FG_GEN_TX_N - 1] = {
	FG_GEN_TX_AF_XDP,
	FG_GEN_TX_XDP,
	FG_GEN_TX_AFPACKET,
};

static const char *const tx_names[FG_GEN_TX_N] = {
	[FG_GEN_TX_AUTO] = "auto",
	[FG_GEN_TX_AF_XDP] = "af_xdp",
	[FG_GEN_TX_XDP] = "xdp",
	[FG_GEN_TX_AFPACKET] = "afpacket",
};

int fg_gen_tx_parse(const char *s, enum fg_gen_tx *tx)
{
	for (unsigned int i = 0; i < FG_GEN_TX_N; i++) {
		if (!strcmp(s, tx_names[i])) {
			*tx = (enum fg_gen_tx)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fg_gen_tx_name(enum fg_gen_tx tx)
{
	return (unsigned int)tx < FG_GEN_TX_N ? tx_names[tx] : "unknown";
}

int fg_gen_trailer_find(const struct fg_frame *f, uint64_t *send_ns, uint32_t *pkt_no)
{
	const uint8_t *payload, *t, *end = f->data + f->len;
	struct fg_flow flow;
	uint32_t plen;

	if (fg_net_parse(f, &flow, &payload, &plen) != FG_NET_UDP)
		return 0;
	/* The UDP datagram ends where the IP datagram does for our frames;
	 * the trailer is exactly the 16 bytes after it. */
	t = payload + plen;
	if (end - t != FG_GEN_TRAILER_LEN ||
	    fg_load_be32(t + FG_GEN_TRAILER_OFF_MAGIC) != FG_GEN_TRAILER_MAGIC)
		return 0;
	*send_ns = fg_load_be64(t + FG_GEN_TRAILER_OFF_SEND_NS);
	if (pkt_no)
		*pkt_no = fg_load_be32(t + FG_GEN_TRAILER_OFF_PKT_NO);
	return 1;
}

void fg_gen_stamp_itch(uint8_t *buf, const struct fg_gen_pkt *p, uint64_t ns)
{
	uint8_t *q = buf + FG_GEN_OFF_MOLD + FG_MOLD_HEADER_LEN, *end;
	uint64_t ts = ns % FG_GEN_NS_PER_DAY;

	if (p->kind != FG_GEN_FEED || !p->trailer_off)
		return;
	/* the messages end where the trailer starts (fg_gen_next_feed) */
	end = buf + p->trailer_off;
	for (uint16_t i = 0; i < p->count && end - q >= 2; i++) {
		uint16_t n = (uint16_t)(q[0] << 8 | q[1]);

		if (n > end - q - 2)
			break;
		if (n >= 11) {
			fg_put_be16(q + 2 + 5, (uint16_t)(ts >> 32));
			fg_put_be32(q + 2 + 7, (uint32_t)ts);
		}
		q += 2 + n;
	}
}

int fg_gen_itch_stamp_find(const struct fg_frame *f, uint64_t *ts)
{
	const uint8_t *payload, *m;
	struct fg_flow flow;
	uint32_t plen;
	uint16_t n;

	if (fg_net_parse(f, &flow, &payload, &plen) != FG_NET_UDP)
		return 0;
	if (plen < FG_MOLD_HEADER_LEN + 2 || fg_load_be16(payload + 18) == 0 ||
	    fg_load_be16(payload + 18) >= 0xfffe) /* no messages: heartbeat, end of session */
		return 0;
	m = payload + FG_MOLD_HEADER_LEN;
	n = fg_load_be16(m);
	if (n < 11 || n > plen - FG_MOLD_HEADER_LEN - 2)
		return 0;
	*ts = (uint64_t)fg_load_be16(m + 2 + 5) << 32 | fg_load_be32(m + 2 + 7);
	return *ts < FG_GEN_NS_PER_DAY;
}

void fg_pace_init(struct fg_pacer *p, double rate, uint64_t start_ns)
{
	memset(p, 0, sizeof(*p));
	p->start_ns = start_ns;
	p->ns_per_pkt = rate > 0 ? 1e9 / rate : 0;
	p->factor = 1;
}

int fg_pace_init_burst(struct fg_pacer *p, double rate, double factor, uint64_t burst_ns,
		       uint64_t period_ns, uint64_t start_ns)
{
	double burst_rate, base_rate;

	fg_pace_init(p, rate, start_ns);
	/* !(x > y) also refuses NaN */
	if (!(rate > 0) || !(factor >= 1) || !burst_ns ||
	    !(factor * (double)burst_ns < (double)period_ns))
		return -EINVAL;
	/* Each in as few roundings as possible (1e9 and whole ns are exact
	 * doubles), so that round figures give round schedules. */
	burst_rate = rate * factor; /* pps */
	base_rate = rate * ((double)period_ns - factor * (double)burst_ns) /
		    (double)(period_ns - burst_ns);
	/* F B just below P: a base rate too small to invert is refused too */
	if (!isfinite(burst_rate) || !(base_rate > 0) || !isfinite(1e9 / base_rate))
		return -EINVAL;
	p->period_ns = period_ns;
	p->burst_ns = burst_ns;
	p->factor = factor;
	p->period_pkts = rate * (double)period_ns / 1e9;
	p->burst_pkts = burst_rate * (double)burst_ns / 1e9;
	p->pkt_per_ns_burst = burst_rate / 1e9;
	p->pkt_per_ns_base = base_rate / 1e9;
	p->ns_per_pkt_burst = 1e9 / burst_rate;
	p->ns_per_pkt_base = (double)(period_ns - burst_ns) * 1e9 /
			     (rate * ((double)period_ns - factor * (double)burst_ns));
	return 0;
}

double fg_pace_burst_rate(const struct fg_pacer *p)
{
	if (p->burst_ns)
		return p->pkt_per_ns_burst * 1e9;
	return p->ns_per_pkt > 0 ? 1e9 / p->ns_per_pkt : 0;
}

double fg_pace_base_rate(const struct fg_pacer *p)
{
	if (p->burst_ns)
		return p->pkt_per_ns_base * 1e9;
	return p->ns_per_pkt > 0 ? 1e9 / p->ns_per_pkt : 0;
}

/*
 * Packet n of a burst schedule: whole periods (k) and a place in the
 * period (m packets into it, 0 <= m < period_pkts). The remainder comes
 * from one fused multiply-add, so it is as exact as period_pkts itself at
 * any n (below 2^53, about 3 years at 100 Mpps); the time is then
 * k * period_ns in integers plus an offset below period_ns.
 */
static uint64_t fg_pace_burst_due(const struct fg_pacer *p, uint64_t n)
{
	double np = p->period_pkts, k = floor((double)n / np), m = fma(-k, np, (double)n), off;

	/* the division may round across a period edge */
	if (m < 0) {
		k -= 1;
		m += np;
	} else if (m >= np) {
		k += 1;
		m -= np;
	}
	/* To the nearest ns, as evenly paced. Clamp to the window's end,
	 * which the exact value never passes, so that rounding cannot make
	 * the schedule go back in time at the edges. */
	if (m < p->burst_pkts) {
		off = round(m * p->ns_per_pkt_burst);
		if (off > (double)p->burst_ns)
			off = (double)p->burst_ns;
	} else {
		off = (double)p->burst_ns + round((m - p->burst_pkts) * p->ns_per_pkt_base);
		if (off > (double)p->period_ns)
			off = (double)p->period_ns;
	}
	return p->start_ns + (uint64_t)k * p->period_ns + (uint64_t)off;
}

uint64_t fg_pace_due_ns(const struct fg_pacer *p, uint64_t n)
{
	if (p->burst_ns)
		return fg_pace_burst_due(p, n);
	return p->start_ns + (uint64_t)llround((double)n * p->ns_per_pkt);
}

uint64_t fg_pace_count(const struct fg_pacer *p, uint64_t now)
{
	uint64_t d, k, tau, n;
	double c;

	if (p->ns_per_pkt <= 0)
		return UINT64_MAX;
	if (now < p->start_ns)
		return 0;
	d = now - p->start_ns;
	if (!p->burst_ns)
		return (uint64_t)((double)d / p->ns_per_pkt + 1.0);
	/* The continuous count at `now`, then settled against the due times
	 * themselves (a step or two at most) so that both agree exactly. */
	k = d / p->period_ns;
	tau = d % p->period_ns;
	if (tau < p->burst_ns)
		c = (double)tau * p->pkt_per_ns_burst;
	else
		c = p->burst_pkts + (double)(tau - p->burst_ns) * p->pkt_per_ns_base;
	n = (uint64_t)floor(fma((double)k, p->period_pkts, c)) + 1;
	while (fg_pace_burst_due(p, n) <= now)
		n++;
	while (n > 1 && fg_pace_burst_due(p, n - 1) > now)
		n--;
	return n;
}

/* Wait until packet `last` is due: sleep while it is further away than
 * spin_ns, spin the rest. Returns the time. */
static uint64_t fg_pace_until(const struct fg_pacer *p, uint64_t last, uint64_t spin_ns,
			      const volatile int *stop)
{
	uint64_t due = fg_pace_due_ns(p, last), now;

	for (;;) {
		now = fg_now_ns();
		if (now >= due || (stop && *stop))
			return now;
		if (due - now > spin_ns) {
			uint64_t d = due - now - spin_ns;
			struct timespec ts = { (time_t)(d / 1000000000ull),
					       (long)(d % 1000000000ull) };

			nanosleep(&ts, NULL);
		} else if (!spin_ns) {
			return now;
		}
	}
}

/* How many packets from `next` on are due at `now` (at least 1, at most max). */
static unsigned int fg_pace_ready(const struct fg_pacer *p, uint64_t next, uint64_t now,
				  unsigned int max)
{
	double ndue;

	if (p->burst_ns) {
		uint64_t c = fg_pace_count(p, now);

		ndue = c > next ? (double)(c - next) : 0;
	} else {
		ndue = (double)(now - p->start_ns) / p->ns_per_pkt + 1.0 - (double)next;
	}
	if (ndue < 1)
		return 1;
	return ndue > max ? max : (unsigned int)ndue;
}

unsigned int fg_pace_wait_sleep(const struct fg_pacer *p, uint64_t next, unsigned int min,
				unsigned int max, const volatile int *stop)
{
	uint64_t now;

	if (p->ns_per_pkt <= 0)
		return max;
	if (!min)
		min = 1;
	/* a sleep ends late, never early: the wanted packets are due then */
	now = fg_pace_until(p, next + min - 1, 0, stop);
	return fg_pace_ready(p, next, now, max);
}

unsigned int fg_pace_wait(const struct fg_pacer *p, uint64_t next, unsigned int max,
			  const volatile int *stop)
{
	uint64_t now;

	if (p->ns_per_pkt <= 0)
		return max;
	/* Sleep through long gaps, spin the last 50 us: nanosleep wakes up
	 * late by tens of microseconds. */
	now = fg_pace_until(p, next, 50000, stop);
	return fg_pace_ready(p, next, now, max);
}

int fg_gen_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	size_t digits = strspn(s, "0123456789.");
	char *end;
	double d;

	/* Plain decimals only: strtod would also take "inf", hex, exponents
	 * and leading blanks. */
	if (!digits)
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (errno || end != s + digits || !(d > 0))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double v;

		if (strcmp(end, units[i].unit))
			continue;
		v = round(d * units[i].ns);
		if (v > 3600e9)
			return -ERANGE;
		if (v < 1)
			return -EINVAL;
		*ns = (uint64_t)v;
		return 0;
	}
	return -EINVAL;
}

double fg_gen_shortfall(double want, double got)
{
	if (!(want > 0) || !(got < want))
		return 0; /* NaN lands here too: no claim either way */
	if (!(got > 0))
		return 1;
	return (want - got) / want;
}
