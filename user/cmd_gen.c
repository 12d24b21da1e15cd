// SPDX-License-Identifier: MIT
/*
 * feedgate gen: MoldUDP64/ITCH 5.0 feeds plus noise (user/lib/fg_gen.c
 * builds the packets), paced at --rate packets per second (feed and noise
 * packets alike), to a pcap file or out of an interface:
 *
 *   --tx af_xdp    an AF_XDP socket per transmit queue (user/lib/fg_xsk_tx.c):
 *                  packets are built straight into the UMEM, stamped and put
 *                  on the TX ring, and a sendto() hands them to the driver
 *                  (copy mode: its normal xmit, on veth into the peer;
 *                  zero-copy where the driver has it). A feed keeps one
 *                  queue, noise takes them in turn. Sent = what the kernel
 *                  gave back on the completion ring.
 *   --tx xdp       BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a
 *                  template (bpf/fg_gen.bpf.c): millions of packets per
 *                  second; every frame comes out of the same template. Some
 *                  kernels refuse live frames: a one-frame trial run (which
 *                  the program drops) finds out before anything is sent.
 *   --tx afpacket  AF_PACKET sendmmsg(), PACKET_QDISC_BYPASS on single-queue
 *                  devices. On a multi-queue device the packets take the
 *                  normal transmit path instead, whose queue choice hashes
 *                  the flow (the bypass would pick the queue of the sending
 *                  CPU), so that feeds spread over the receive queues of a
 *                  veth peer as they would over a NIC's RSS.
 *   --tx auto      (default) the first of those that works here, in the
 *                  order of fg_gen_tx_auto_order[]; the choice is printed.
 *
 * --pace sleep (af_xdp, afpacket) waits for the schedule by sleeping only,
 * leaving the CPU to a consumer on the same core; the default spins the
 * last 50 us before each packet, for exact pacing. XDP live frames always
 * sleep.
 *
 * --burst F keeps --rate as the mean but sends it in bursts: F times the
 * rate for --burst-len (1ms) at the start of every --burst-every (100ms),
 * slower in between (fg_pace_init_burst()); the pcap timestamps follow
 * the same schedule.
 *
 * --lines 2 sends every feed packet on two lines, A then B, back to back
 * (fg_gen.h: the same payload to two groups); --loss and --loss-both drop
 * packets per line or on both. --rate and --count count packets of the mix
 * (a feed packet once, however many lines carry it). Such a run ends with a
 * MoldUDP64 heartbeat per feed and line, so that a consumer learns of a
 * loss at the very end. XDP live frames come from one template in a BPF
 * program and carry none of this: --tx xdp refuses it, auto passes over it.
 *
 * --serve-rerequest ADDR:PORT answers MoldUDP64 retransmission requests on
 * a UDP socket bound there (fg_rrsrv.h): every feed packet generated, sent
 * or lost, is remembered. The socket is read without blocking between
 * batches (at least every GEN_SRV_POLL_NS while sending flat out) and in
 * every wait (pacing, backpressure: the waits block in ppoll() on it, so a
 * request ends them early), and for --serve-linger seconds after the last
 * packet. Without a server none of this is on the send path.
 *
 * The report (stdout) says what was sent per feed (and per line) and as
 * noise, the rate achieved against the target, the backpressure met, what
 * the server answered, and what the device did with the frames: its TX
 * counters (tx_packets, tx_dropped) read before and after the sending.
 * When the device took fewer frames than were sent, or the rate reached
 * is below --rate, by more than GEN_SHORT_MAX, one warning line goes to
 * stderr; --strict makes that exit status 1.
 * The command line, both forms (the feeds and --itch-file), is read in
 * cmd_gen_opts.c from option tables that also write --help and the man page.
 * Exit status: 0 ok, 1 failed (or fell short, with --strict), 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#define PCAP_DONT_INCLUDE_PCAP_BPF_H /* linux/bpf.h has its own struct bpf_insn */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd_gen_opts.h"
#include "commands.h"
#include "feedgate/itchgen.h"
#include "feedgate/mold.h"
#include "fg_gen.skel.h"
#include "fg_gen.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_net.h"
#include "fg_pcapw.h"
#include "fg_rrsrv.h"
#include "fg_xsk_tx.h"

#define GEN_BURST 64
/* BPF_PROG_RUN live frames: frames per syscall when unpaced. */
#define GEN_XDP_CHUNK 256
#define GEN_XDP_MAX_FEEDS 64
/* A send loop going flat out looks for requests at least this often. */
#define GEN_SRV_POLL_NS 100000ull
/* Requests answered per look, so that a flood of them cannot stop the sending. */
#define GEN_SRV_BATCH 64
/* A shortfall above this (frames the device took, rate reached) is warned of. */
#define GEN_SHORT_MAX 0.03
/* How long the device's counters get to catch up with the last frame sent. */
#define GEN_DEV_SETTLE_NS 200000000ull

static volatile int gen_stop;

static void gen_on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

struct gen_result {
	enum fg_gen_tx tx; /* the path that sent (never AUTO once sending) */
	uint64_t built; /* packets of the mix built (what --rate and --count count) */
	uint64_t sent; /* frames the output accepted (af_xdp: completed, not refused) */
	uint64_t bytes;
	uint64_t first_ns, last_ns;
	uint64_t waits; /* times the output pushed back (ENOBUFS, EAGAIN) */
	uint64_t retried; /* packets sent again after a push back */
	uint64_t tx_errors; /* frames the device refused (veth: peer ring full) */
	uint64_t lost; /* af_xdp: handed to the kernel, never completed */
	bool bypass;
	uint32_t txqs;
	/* af_xdp */
	bool zerocopy;
	uint32_t xsk_queues, xsk_budget;
	/* the device's TX counters over the sending (dev_ok: they could be read) */
	bool dev_ok;
	uint64_t dev_took, dev_dropped;
};

/* --- options ------------------------------------------------------------------------------ */

/* A duration in the largest unit that keeps it whole: 1ms, 100ms, 2s, 1500us. */
static void gen_fmt_dur(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = { { "s", 1000000000ull }, { "ms", 1000000ull }, { "us", 1000ull } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns),
				 units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/* --- interface facts ------------------------------------------------------------------------ */

static int iface_info(const char *ifname, uint8_t mac[6], uint32_t *ip, uint32_t *txqs, bool *up)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	*up = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_UP);
	*ip = htonl(0x0a000001); /* 10.0.0.1 when the interface has no address */
	if (!ioctl(fd, SIOCGIFADDR, &ifr))
		memcpy(ip, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, 4);
	*txqs = 1;
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		*txqs = ch.tx_count + ch.combined_count ? ch.tx_count + ch.combined_count : 1;
	close(fd);
	return 0;
}

/*
 * The link under an interface that is up: false when it has no carrier (a
 * veth whose peer is down, a NIC without a cable). The device then drops
 * every frame, so a frame it pushed back is not worth sending again: the
 * send paths count it as sent and the device's tx_dropped says where it
 * went. Asked only when the device pushes back.
 */
static bool gen_carrier(const char *ifname)
{
	static int fd = -1;
	struct ifreq ifr;

	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return true; /* unknown: keep retrying as before */
	return (ifr.ifr_flags & IFF_RUNNING) != 0;
}

/* --- re-request server -------------------------------------------------------------------- */

/* What the server did for one feed (fg_rrsrv counts for all feeds together). */
struct gen_srv_feed {
	uint64_t requests, replies, messages, forgotten;
};

/* A reply held back by --serve-delay. */
struct gen_srv_held {
	uint64_t due_ns;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint16_t len;
	uint8_t data[FG_MOLD_HEADER_LEN + FG_RRSRV_REPLY_MAX];
};

#define GEN_SRV_HELD 4096 /* replies in flight at most (a power of two) */

struct gen_srv {
	int fd;
	struct fg_rrsrv *rr;
	uint64_t delay_ns; /* --serve-delay: the server's distance, one way */
	struct gen_srv_held *held; /* [GEN_SRV_HELD] ring, NULL without a delay */
	uint64_t held_head, held_tail;
	uint64_t held_full; /* replies dropped: more than GEN_SRV_HELD in flight */
	uint64_t last_ns; /* when the socket was last read */
	uint32_t nfeeds;
	char session[FG_GEN_MAX_FEEDS][FG_MOLD_SESSION_LEN];
	struct gen_srv_feed feed[FG_GEN_MAX_FEEDS];
	uint64_t send_errors; /* replies the socket would not take */
	/* the requester of the datagram being answered */
	struct sockaddr_storage from;
	socklen_t fromlen;
};

static void gen_srv_close(struct gen_srv *s)
{
	if (!s)
		return;
	free(s->held);
	if (s->fd >= 0)
		close(s->fd);
	fg_rrsrv_free(s->rr);
	free(s);
}

/* The socket bound to --serve-rerequest and the memory of every feed. 0, or -errno (said). */
static int gen_srv_open(const struct gen_cfg *c, const struct fg_gen *g, struct gen_srv **out)
{
	struct sockaddr_storage ss = { 0 };
	struct gen_srv *s;
	int sndbuf = 4 << 20, ret;
	uint8_t fam, addr[16];
	uint16_t port;
	socklen_t len;

	*out = NULL;
	if (fg_net_parse_endpoint(c->serve, &fam, addr, &port)) /* checked by gen_parse() */
		return -EINVAL;
	len = fg_net_sockaddr(fam, addr, port, &ss);
	s = calloc(1, sizeof(*s));
	if (!s) {
		pr_warn("gen: --serve-rerequest: out of memory\n");
		return -ENOMEM;
	}
	s->nfeeds = c->feeds;
	s->delay_ns = (uint64_t)(c->serve_delay_us * 1000.0);
	if (s->delay_ns) {
		s->held = malloc(GEN_SRV_HELD * sizeof(*s->held));
		if (!s->held) {
			pr_warn("gen: --serve-delay: out of memory\n");
			free(s);
			return -ENOMEM;
		}
	}
	for (uint32_t f = 0; f < c->feeds; f++)
		memcpy(s->session[f], fg_gen_feed(g, f)->session, FG_MOLD_SESSION_LEN);
	s->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		pr_warn("gen: --serve-rerequest: Couldn't open a UDP socket: %s\n", strerror(-ret));
		goto fail;
	}
	/* a full answer to a long request is a train of datagrams */
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (bind(s->fd, (struct sockaddr *)&ss, len)) {
		ret = -errno;
		pr_warn("gen: --serve-rerequest %s: Couldn't bind: %s (an address of this network "
			"namespace?)\n",
			c->serve, strerror(-ret));
		goto fail;
	}
	ret = fg_rrsrv_new(c->feeds, c->serve_history, (enum fg_rrsrv_mode)c->serve_mode, &s->rr);
	if (ret) {
		pr_warn("gen: --serve-rerequest: Couldn't set up the server's memory (%u feeds x "
			"%u "
			"messages): %s\n",
			c->feeds, c->serve_history, strerror(-ret));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	gen_srv_close(s);
	return ret;
}

static void gen_srv_send(void *ctx, const uint8_t *p, size_t len)
{
	struct gen_srv *s = ctx;
	struct gen_srv_held *h;

	if (!s->delay_ns) {
		if (sendto(s->fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&s->from, s->fromlen) <
		    0)
			s->send_errors++;
		return;
	}
	/* A server further away: the reply leaves delay_ns later, in order. */
	if (s->held_head - s->held_tail == GEN_SRV_HELD || len > sizeof(h->data)) {
		s->held_full++;
		return;
	}
	h = &s->held[s->held_head++ & (GEN_SRV_HELD - 1)];
	h->due_ns = fg_now_ns() + s->delay_ns;
	h->to = s->from;
	h->tolen = s->fromlen;
	h->len = (uint16_t)len;
	memcpy(h->data, p, len);
}

/* Send the held replies that are due by now. */
static void gen_srv_flush(struct gen_srv *s, uint64_t now)
{
	while (s->held_tail != s->held_head) {
		struct gen_srv_held *h = &s->held[s->held_tail & (GEN_SRV_HELD - 1)];

		if (h->due_ns > now)
			return;
		if (sendto(s->fd, h->data, h->len, MSG_DONTWAIT, (struct sockaddr *)&h->to,
			   h->tolen) < 0)
			s->send_errors++;
		s->held_tail++;
	}
}

/* Answer what the socket holds (up to GEN_SRV_BATCH requests), without blocking. */
static void gen_srv_poll(struct gen_srv *s, uint64_t now)
{
	uint8_t req[2048];

	s->last_ns = now;
	if (s->delay_ns)
		gen_srv_flush(s, now);
	for (int i = 0; i < GEN_SRV_BATCH; i++) {
		struct fg_rrsrv_stats before = *fg_rrsrv_stats(s->rr);
		const struct fg_rrsrv_stats *after;
		ssize_t n;
		uint32_t f = 0;

		s->fromlen = sizeof(s->from);
		n = recvfrom(s->fd, req, sizeof(req), MSG_DONTWAIT, (struct sockaddr *)&s->from,
			     &s->fromlen);
		if (n < 0)
			return;
		fg_rrsrv_answer(s->rr, req, (size_t)n, gen_srv_send, s);
		/* whose it was: the server counts for every feed at once */
		if ((size_t)n < FG_MOLD_SESSION_LEN)
			continue;
		while (f < s->nfeeds && memcmp(s->session[f], req, FG_MOLD_SESSION_LEN))
			f++;
		if (f == s->nfeeds)
			continue;
		after = fg_rrsrv_stats(s->rr);
		s->feed[f].requests += after->requests - before.requests;
		s->feed[f].replies += after->replies - before.replies;
		s->feed[f].messages += after->messages - before.messages;
		s->feed[f].forgotten += after->forgotten - before.forgotten;
	}
}

/* In a send loop: read the socket when it has not been read for GEN_SRV_POLL_NS. */
static inline void gen_srv_tick(const struct gen_cfg *c, uint64_t now)
{
	if (c->srv && now - c->srv->last_ns >= GEN_SRV_POLL_NS)
		gen_srv_poll(c->srv, now);
}

/*
 * Wait until `due` (CLOCK_MONOTONIC ns) while answering: blocked in ppoll()
 * on the socket (a request ends the wait early, is answered, and the wait
 * goes on) until spin_ns before it, then spinning, reading the socket on
 * every turn. Returns at due, or at once on a signal.
 */
static void gen_srv_wait(struct gen_srv *s, uint64_t due, uint64_t spin_ns)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	for (;;) {
		uint64_t now = fg_now_ns();

		gen_srv_poll(s, now);
		if (now >= due || gen_stop)
			return;
		if (due - now > spin_ns) {
			uint64_t d = due - now - spin_ns;

			/* a held reply falls due before: wake for it */
			if (s->held_tail != s->held_head) {
				uint64_t hd = s->held[s->held_tail & (GEN_SRV_HELD - 1)].due_ns;

				if (hd <= now)
					continue;
				if (hd - now < d)
					d = hd - now;
			}
			struct timespec ts = { (time_t)(d / 1000000000ull),
					       (long)(d % 1000000000ull) };

			ppoll(&pfd, 1, &ts, NULL);
		}
	}
}

/* A pause of ns: slept, or spent answering requests when there is a server. */
static void gen_nap(const struct gen_cfg *c, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	if (c->srv)
		gen_srv_wait(c->srv, fg_now_ns() + ns, 0);
	else
		nanosleep(&ts, NULL);
}

/* A feed packet just built: the server remembers it, whether it is sent or lost. */
static inline void gen_record(const struct gen_cfg *c, const uint8_t *buf,
			      const struct fg_gen_pkt *p)
{
	if (c->srv && p->kind == FG_GEN_FEED)
		fg_rrsrv_record(c->srv->rr, p->feed, buf + FG_GEN_OFF_MOLD,
				p->trailer_off - FG_GEN_OFF_MOLD);
}

/*
 * The frames of the packet just built into f0 (*p0), by the lines it goes
 * out on: line A stays in f0; line B goes into a copy in f1 (*p1), or into
 * f0 itself when line A lost it. Returns the number of frames, 0 for a
 * packet lost on every line. One line without loss: always 1, f0 as built.
 */
static inline unsigned int gen_frames(uint8_t *f0, struct fg_gen_pkt *p0, uint8_t *f1,
				      struct fg_gen_pkt *p1)
{
	if (p0->send == 1)
		return 1;
	if (!p0->send)
		return 0;
	if (p0->send == 2) {
		fg_gen_set_line(f0, p0, 1);
		return 1;
	}
	memcpy(f1, f0, p0->len);
	*p1 = *p0;
	fg_gen_set_line(f1, p1, 1);
	return 2;
}

/* The schedule of every output: --rate, evenly or in --burst bursts
 * (checked by gen_parse()). */
static void gen_pacer_init(const struct gen_cfg *c, struct fg_pacer *p, uint64_t start)
{
	if (!(c->burst > 0) ||
	    fg_pace_init_burst(p, c->rate, c->burst, c->burst_len_ns, c->burst_every_ns, start))
		fg_pace_init(p, c->rate, start);
}

/*
 * Wait until packet `next` is due; how many are due (1..max). Spinning the
 * last 50 us keeps every packet on time (the default); --pace sleep waits
 * by sleeping only, until about 20 us of traffic is due, and leaves the CPU
 * to whoever shares it (a consumer on the same core), bursty at the scale
 * of the timer slack.
 */
static unsigned int gen_pace(const struct gen_cfg *c, const struct fg_pacer *p, uint64_t next,
			     unsigned int max)
{
	unsigned int min;

	if (!c->pace_sleep) {
		/* fg_pace_wait() finds the packet due at once after this */
		if (c->srv && p->ns_per_pkt > 0)
			gen_srv_wait(c->srv, fg_pace_due_ns(p, next), 50000);
		return fg_pace_wait(p, next, max, &gen_stop);
	}
	min = (unsigned int)(c->rate * 20e-6);
	min = min < 1 ? 1 : (min > max ? max : min);
	if (c->srv && p->ns_per_pkt > 0)
		gen_srv_wait(c->srv, fg_pace_due_ns(p, next + min - 1), 0);
	return fg_pace_wait_sleep(p, next, min, max, &gen_stop);
}

static bool gen_done(const struct gen_cfg *c, uint64_t sent, uint64_t start, uint64_t now)
{
	if (gen_stop)
		return true;
	if (c->count && sent >= c->count)
		return true;
	return c->duration > 0 && now - start >= (uint64_t)(c->duration * 1e9);
}

/* --- pcap ------------------------------------------------------------------------------------ */

/* One frame into the capture at mono0 + off (its pcap time: real0 + off). A frame
 * counts as sent once the writer took it; a failed write stops the writer (the
 * caller reports what the file holds). */
static int gen_pcap_put(struct fg_pcapw *w, const uint8_t *buf, uint32_t len, uint64_t real0,
			uint64_t mono0, uint64_t off, struct gen_result *res)
{
	if (fg_pcapw_write(w, real0 + off, buf, len, len))
		return -1;
	if (!res->sent)
		res->first_ns = mono0 + off;
	res->last_ns = mono0 + off;
	res->sent++;
	res->bytes += len;
	return 0;
}

static int gen_pcap(const struct gen_cfg *c, struct fg_gen *g, struct gen_result *res)
{
	static uint8_t buf[FG_GEN_MAX_FRAME], bufb[FG_GEN_MAX_FRAME];
	struct fg_pcapw_result pr;
	struct timespec real;
	struct fg_pacer pacer;
	struct fg_pcapw *w;
	uint64_t mono0 = fg_now_ns(), real0, hb = 0;
	char err[256];
	int bad = 0, ret;

	ret = fg_pcapw_open(c->pcap, FG_PCAPW_LINK_ETHERNET, 65535, &w, err, sizeof(err));
	if (ret) {
		pr_warn("gen: --pcap: %s\n", err);
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &real);
	real0 = (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec;
	/* Time in the file is the schedule itself: packet i at i / rate, or
	 * where the burst schedule puts it. */
	gen_pacer_init(c, &pacer, 0);
	for (uint64_t i = 0; i < c->count && !gen_stop && !bad; i++) {
		uint64_t off = c->burst > 0 ? fg_pace_due_ns(&pacer, i)
					    : (uint64_t)llround((double)i * 1e9 / c->rate);
		struct fg_gen_pkt p, pb;
		unsigned int nf;

		fg_gen_next(g, buf, &p);
		fg_gen_stamp(buf, &p, mono0 + off);
		if (c->itch_stamps)
			fg_gen_stamp_itch(buf, &p, mono0 + off);
		res->built++;
		/* both lines at the packet's time, A first */
		nf = gen_frames(buf, &p, bufb, &pb);
		if (nf)
			bad = gen_pcap_put(w, buf, p.len, real0, mono0, off, res);
		if (nf > 1 && !bad)
			bad = gen_pcap_put(w, bufb, pb.len, real0, mono0, off, res);
	}
	/* the feeds go quiet: a heartbeat per feed and line, in the next slot */
	if (c->line_mode && !gen_stop && !bad) {
		uint64_t off = c->burst > 0 ? fg_pace_due_ns(&pacer, c->count)
					    : (uint64_t)llround((double)c->count * 1e9 / c->rate);

		for (uint32_t f = 0; f < c->feeds && !bad; f++) {
			for (uint32_t l = 0; l < c->lines && !bad; l++) {
				struct fg_gen_pkt p;
				uint32_t len = fg_gen_heartbeat(g, f, l, buf, &p);

				fg_gen_stamp(buf, &p, mono0 + off);
				bad = fg_pcapw_write(w, real0 + off, buf, len, len) ? -1 : 0;
				hb += !bad;
			}
		}
	}
	ret = fg_pcapw_close(w);
	fg_pcapw_result(w, &pr);
	fg_pcapw_free(w);
	if (ret || bad || pr.err) {
		/* Only whole records are in the file: what the report counts as sent
		 * is what it holds. */
		uint64_t whole = pr.written > hb ? pr.written - hb : 0;

		pr_warn("gen: --pcap %s: write failed: %s: %llu packets written whole, %llu lost; "
			"stopped\n",
			c->pcap, strerror(pr.err ? pr.err : EIO), (unsigned long long)pr.written,
			(unsigned long long)pr.lost);
		res->sent = whole;
		return -(pr.err ? pr.err : EIO);
	}
	return 0;
}

/* --- AF_PACKET ----------------------------------------------------------------------------- */

static int gen_afpacket(const struct gen_cfg *c, struct fg_gen *g, int ifindex,
			struct gen_result *res)
{
	/* room for both lines of every packet of a burst */
	static uint8_t bufs[2 * GEN_BURST][FG_GEN_MAX_FRAME];
	struct fg_gen_pkt pk[2 * GEN_BURST];
	struct mmsghdr msgs[2 * GEN_BURST];
	struct iovec iov[2 * GEN_BURST];
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
	};
	struct fg_pacer pacer;
	int fd, one = 1, sndbuf = 4 << 20;
	unsigned int pending = 0, head = 0;
	uint64_t start;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only */
	if (fd < 0) {
		pr_warn("gen: Couldn't create AF_PACKET socket: %s\n", strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int ret = -errno;

		pr_warn("gen: %s: Couldn't bind AF_PACKET socket: %s\n", c->iface, strerror(errno));
		close(fd);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	res->bypass = res->txqs <= 1 &&
		      !setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

	start = fg_now_ns();
	gen_pacer_init(c, &pacer, start);
	while (!gen_done(c, res->built, start, fg_now_ns()) || pending) {
		unsigned int want, i, nf = 0;
		uint64_t now;
		int n;

		if (!pending) {
			want = gen_pace(c, &pacer, res->built, GEN_BURST);
			if (gen_stop)
				break;
			if (c->count && want > c->count - res->built)
				want = (unsigned int)(c->count - res->built);
			for (i = 0; i < want; i++) {
				fg_gen_next(g, bufs[nf], &pk[nf]);
				gen_record(c, bufs[nf], &pk[nf]);
				nf += gen_frames(bufs[nf], &pk[nf], bufs[nf + 1], &pk[nf + 1]);
			}
			for (i = 0; i < nf; i++) {
				iov[i].iov_base = bufs[i];
				iov[i].iov_len = pk[i].len;
				memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			res->built += want;
			pending = nf;
			head = 0;
			if (!pending) {
				/* every packet lost on every line */
				gen_srv_tick(c, fg_now_ns());
				continue;
			}
		}
		now = fg_now_ns();
		gen_srv_tick(c, now);
		for (i = head; i < head + pending; i++) {
			fg_gen_stamp(bufs[i], &pk[i], now);
			if (c->itch_stamps)
				fg_gen_stamp_itch(bufs[i], &pk[i], now);
		}
		n = sendmmsg(fd, &msgs[head], pending, 0);
		/* The device dropped the first frame (ENOBUFS); with the link
		 * down it would drop every copy: that frame is gone, the rest go
		 * on (and tx_dropped counts them). */
		if (n < 0 && errno == ENOBUFS && !gen_carrier(c->iface))
			n = 1;
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				/* The device (veth: its peer's ring) is full:
				 * give the receive side a moment. */
				res->waits++;
				res->retried += pending;
				gen_nap(c, 20000);
				if (gen_stop)
					break;
				continue;
			}
			pr_warn("gen: %s: sendmmsg failed: %s\n", c->iface, strerror(errno));
			for (i = head; i < head + pending; i++)
				fg_gen_unsend(g, &pk[i]);
			close(fd);
			return -errno;
		}
		if (!res->sent)
			res->first_ns = now;
		res->last_ns = now;
		for (i = head; i < head + (unsigned int)n; i++)
			res->bytes += iov[i].iov_len;
		res->sent += (unsigned int)n;
		head += (unsigned int)n;
		pending -= (unsigned int)n;
	}
	/* Built but never sent (stopped by a signal while pushed back). */
	for (unsigned int i = head; i < head + pending; i++)
		fg_gen_unsend(g, &pk[i]);
	close(fd);
	return 0;
}

/* --- XDP live frames -------------------------------------------------------------------- */

/* Sum of the ethtool counters of ifname whose name contains "xdp_xmit_err" or
 * "xdp_tx_err": frames the device refused to send on (veth: peer ring full). */
static uint64_t xdp_tx_errors(const char *ifname)
{
	struct ethtool_sset_info *ssi;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *st = NULL;
	struct ifreq ifr;
	uint64_t sum = 0;
	uint32_t n;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	ssi = calloc(1, sizeof(*ssi) + sizeof(uint32_t));
	if (!ssi)
		goto out;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ssi->cmd = ETHTOOL_GSSET_INFO;
	ssi->sset_mask = 1ull << ETH_SS_STATS;
	ifr.ifr_data = (void *)ssi;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !ssi->sset_mask)
		goto out;
	n = ssi->data[0];
	strs = calloc(1, sizeof(*strs) + (size_t)n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
	if (!strs || !st)
		goto out;
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	ifr.ifr_data = (void *)st;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, strs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		if (strstr(name, "xdp_xmit_err") || strstr(name, "xdp_tx_err"))
			sum += st->data[i];
	}
out:
	free(ssi);
	free(strs);
	free(st);
	close(fd);
	return sum;
}

/* One ITCH 5.0 Add Order (section 4.3.1, 36 bytes) and the Order Delete
 * (4.4.5, 19 bytes) that takes it away; the program fills in references
 * and timestamps. */
static uint8_t *xdp_put_pair(uint8_t *q, uint16_t locate, const char stock[8], uint32_t price,
			     char side)
{
	fg_put_be16(q, 36);
	q += 2;
	memset(q, 0, 36);
	q[0] = 'A';
	fg_put_be16(q + 1, locate);
	q[19] = (uint8_t)side;
	fg_put_be32(q + 20, 100);
	memcpy(q + 24, stock, 8);
	fg_put_be32(q + 32, price);
	q += 36;
	fg_put_be16(q, 19);
	q += 2;
	memset(q, 0, 19);
	q[0] = 'D';
	fg_put_be16(q + 1, locate);
	return q + 19;
}

/* The XDP live-frames sender, loaded and probed, ready to send. */
struct gen_xdp {
	struct fg_gen_bpf *skel;
	struct bpf_link *lo_link;
	int prog_fd;
	uint32_t count, feed_len; /* messages per feed frame, its length */
	uint32_t noise_len[FG_GEN_NKINDS];
	uint8_t feed_tpl[FG_GEN_MAX_FRAME];
	uint8_t noise_tpl[FG_GEN_NKINDS][FG_GEN_MAX_FRAME];
};

static void gen_xdp_close(struct gen_xdp *x)
{
	if (!x)
		return;
	bpf_link__destroy(x->lo_link);
	fg_gen_bpf__destroy(x->skel);
	free(x);
}

/*
 * Build the templates, load the program and make one live-frames run of
 * one frame, which the program drops: some kernels refuse live frames
 * (EPERM even for root), and that must be known before anything is sent.
 * 0 and *out, or -errno and why (one clause, no "feedgate:").
 */
static int gen_xdp_open(const struct gen_cfg *c, struct fg_gen *g, int ifindex,
			struct gen_xdp **out, char *why, size_t whylen)
{
	/* whole A/D pairs: an odd --messages-per-packet is rounded up */
	uint32_t npairs = (c->mpp + 1) / 2;
	struct xdp_md ctx = { .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, probe, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .repeat = 1, .batch_size = 1);
	struct fg_gen_pkt np;
	struct gen_xdp *x;
	uint8_t *q, *tpl;
	int ret;

	if (c->mpp > 2 * GEN_XDP_MAX_PAIRS || c->feeds > GEN_XDP_MAX_FEEDS) {
		fg_errf(why, whylen,
			"XDP live frames carry at most %u messages per packet, %u feeds",
			2 * GEN_XDP_MAX_PAIRS, GEN_XDP_MAX_FEEDS);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		fg_errf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	x->count = 2 * npairs;
	x->skel = fg_gen_bpf__open();
	if (!x->skel) {
		ret = -errno;
		fg_errf(why, whylen, "Couldn't open the generator's XDP program: %s",
			strerror(-ret));
		goto fail;
	}
	/* The template: a feed 0 packet of A/D pairs; the program rewrites the
	 * per-feed fields (the IP checksum from the table below). */
	tpl = x->feed_tpl;
	q = tpl + FG_GEN_OFF_MOLD + FG_MOLD_HEADER_LEN;
	for (uint32_t i = 0; i < npairs; i++)
		q = xdp_put_pair(q, (uint16_t)(1 + i % 8), "FGATE   ", 1000000 + 100 * i,
				 i & 1 ? 'S' : 'B');
	{
		const struct fg_gen_feed_stats *f0 = fg_gen_feed(g, 0);
		uint16_t udp_len = (uint16_t)(q - (tpl + FG_GEN_OFF_UDP));
		uint8_t *ip = tpl + FG_GEN_OFF_IP;
		const struct fg_gen_config *gc = fg_gen_config(g);
		struct fg_gen_bpf *skel = x->skel;

		fg_mold_write_header(tpl + FG_GEN_OFF_MOLD, f0->session, 1, (uint16_t)x->count);
		tpl[0] = 0x01;
		memcpy(tpl + 6, gc->src_mac, 6);
		fg_put_be16(tpl + 12, 0x0800);
		ip[0] = 0x45;
		fg_put_be16(ip + 2, (uint16_t)(udp_len + 20));
		fg_put_be16(ip + 6, 0x4000);
		ip[8] = 32;
		ip[9] = 17;
		memcpy(ip + 12, &gc->src_ip, 4);
		fg_put_be16(tpl + FG_GEN_OFF_UDP + 4, udp_len);
		fg_put_be64(q, 0);
		fg_put_be32(q + 8, 0);
		fg_put_be32(q + 12, FG_GEN_TRAILER_MAGIC);
		x->feed_len = (uint32_t)(q + FG_GEN_TRAILER_LEN - tpl);
		skel->rodata->trailer_off = (uint32_t)(q - tpl);
		for (uint32_t f = 0; f < c->feeds; f++) {
			const struct fg_gen_feed_stats *fs = fg_gen_feed(g, f);
			uint32_t sum = 0;
			uint16_t dport = htons(fs->port),
				 sport = htons((uint16_t)(FG_GEN_BASE_SPORT + f));

			memcpy(ip + 16, &fs->group, 4);
			fg_put_be16(ip + 10, 0);
			for (int i = 0; i < 20; i += 2)
				sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			fg_put_be16((uint8_t *)&skel->rodata->feed_ipcsum[f], (uint16_t)~sum);
			skel->rodata->feed_daddr[f] = fs->group;
			skel->rodata->feed_dport[f] = dport;
			skel->rodata->feed_sport[f] = sport;
			skel->rodata->feed_mac[f][0] = 0x01;
			skel->rodata->feed_mac[f][1] = 0x00;
			skel->rodata->feed_mac[f][2] = 0x5e;
			skel->rodata->feed_mac[f][3] = (uint8_t)((ntohl(fs->group) >> 16) & 0x7f);
			skel->rodata->feed_mac[f][4] = (uint8_t)(ntohl(fs->group) >> 8);
			skel->rodata->feed_mac[f][5] = (uint8_t)ntohl(fs->group);
			memcpy((void *)skel->rodata->feed_session[f], fs->session, 10);
		}
		skel->rodata->tx_ifindex = (uint32_t)ifindex;
		skel->rodata->nfeeds = c->feeds;
		skel->rodata->npairs = npairs;
		skel->rodata->msg_count = (uint16_t)x->count;
	}
	if (fg_gen_bpf__load(x->skel)) {
		ret = -errno;
		fg_errf(why, whylen, "Couldn't load the generator's XDP program: %s",
			strerror(-ret));
		goto fail;
	}
	x->prog_fd = bpf_program__fd(x->skel->progs.fg_gen_xdp);
	x->skel->bss->probe = 1;
	probe.data_in = x->feed_tpl;
	probe.data_size_in = x->feed_len;
	ctx.data_end = x->feed_len;
	if (bpf_prog_test_run_opts(x->prog_fd, &probe)) {
		ret = -errno;
		fg_errf(why, whylen,
			"this kernel refuses XDP live frames (BPF_PROG_RUN with "
			"BPF_F_TEST_XDP_LIVE_FRAMES: %s)",
			strerror(-ret));
		goto fail;
	}
	if (x->skel->bss->probe_runs != 1) {
		ret = -EOPNOTSUPP;
		fg_errf(why, whylen, "the XDP live-frames trial run did not run the program");
		goto fail;
	}
	x->skel->bss->probe = 0;
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++) {
		x->noise_len[k] = fg_gen_next_noise(g, k, x->noise_tpl[k], &np);
		fg_gen_unsend(g, &np);
	}
	/* Every BPF_PROG_RUN of an XDP program puts it into the kernel's XDP
	 * dispatcher and takes it out again, a text patch and an RCU grace
	 * period each time (tens of ms), unless the program is attached to a
	 * device already. So attach it to lo through a link (gone with this
	 * process); it passes everything that is not one of its own runs. */
	x->lo_link = bpf_program__attach_xdp(x->skel->progs.fg_gen_xdp, (int)if_nametoindex("lo"));
	if (!x->lo_link || libbpf_get_error(x->lo_link)) {
		x->lo_link = NULL;
		pr_info("gen: Couldn't keep the program in the XDP dispatcher (lo busy?): every "
			"BPF_PROG_RUN costs a grace period, rates will be low\n");
	}
	*out = x;
	return 0;
fail:
	gen_xdp_close(x);
	return ret;
}

static int gen_xdp(const struct gen_cfg *c, struct fg_gen *g, struct gen_xdp *x, int ifindex,
		   struct gen_result *res)
{
	struct fg_gen_bpf *skel = x->skel;
	struct fg_pacer pacer;
	uint64_t start, err0, noise_sent[FG_GEN_NKINDS] = { 0 };
	double noise_acc = 0;
	int ret = 0;
	unsigned int nk = 0, burst;

	err0 = xdp_tx_errors(c->iface);
	start = fg_now_ns();
	gen_pacer_init(c, &pacer, start);
	burst = (unsigned int)(c->rate * 20e-6);
	burst = burst < 1 ? 1 : (burst > GEN_XDP_CHUNK ? GEN_XDP_CHUNK : burst);
	while (!gen_done(c, res->sent, start, fg_now_ns())) {
		struct xdp_md ctx = { .ingress_ifindex = (uint32_t)ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
		/* sleep-only pacing, in bursts of about 20 us of traffic: the
		 * CPU is left to whoever shares it (a consumer, in a test) */
		unsigned int want =
			fg_pace_wait_sleep(&pacer, res->sent, burst, GEN_XDP_CHUNK, &gen_stop);
		bool noise = noise_acc >= 1.0;
		unsigned int kind = 0;
		uint64_t now;

		if (gen_stop)
			break;
		if (c->count && want > c->count - res->sent)
			want = (unsigned int)(c->count - res->sent);
		/* The same mix as fg_gen_next(), a chunk at a time. */
		if (noise) {
			kind = FG_GEN_NOISE_UDP_PORT + nk++ % (FG_GEN_NKINDS - 1);
			if (want > noise_acc)
				want = (unsigned int)noise_acc;
			noise_acc -= want;
			skel->bss->passthrough = 1;
			opts.data_in = x->noise_tpl[kind];
			opts.data_size_in = x->noise_len[kind];
		} else {
			noise_acc += c->noise * want;
			skel->bss->passthrough = 0;
			opts.data_in = x->feed_tpl;
			opts.data_size_in = x->feed_len;
		}
		ctx.data_end = opts.data_size_in; /* the kernel wants the frame's extent */
		opts.repeat = want;
		now = fg_now_ns();
		if (bpf_prog_test_run_opts(x->prog_fd, &opts)) {
			ret = -errno;
			pr_warn("gen: %s: BPF_PROG_RUN (XDP live frames) failed: %s\n", c->iface,
				strerror(errno));
			break;
		}
		if (!res->sent)
			res->first_ns = now;
		res->last_ns = fg_now_ns();
		res->sent += want;
		res->bytes += (uint64_t)want * opts.data_size_in;
		if (noise)
			noise_sent[kind] += want;
	}
	res->built = res->sent;
	res->tx_errors = xdp_tx_errors(c->iface) - err0;
	if (res->sent && res->tx_errors >= res->sent)
		pr_warn("gen: %s refused every frame: its peer needs an XDP program (feedgate "
			"attach on the receiving side)\n",
			c->iface);
	/* The program's own counts are the truth for feeds and sequence numbers. */
	for (uint32_t f = 0; f < c->feeds; f++)
		fg_gen_account_feed(g, f, skel->bss->feed_packets[f], (uint16_t)x->count,
				    x->feed_len);
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		fg_gen_account_noise(g, k, noise_sent[k]);
	if (skel->bss->bad_template)
		pr_warn("gen: %llu template frames dropped by the program (bug)\n",
			(unsigned long long)skel->bss->bad_template);
	return ret;
}

/* --- AF_XDP ------------------------------------------------------------------------------- */

/* Sockets at most: one per transmit queue. */
#define GEN_XSK_MAX_QUEUES 16
/* Packets built, stamped and sent per step when the pacer lets them. */
#define GEN_XSK_BATCH 256
/* How long the end of a run waits for the kernel to send and complete. */
#define GEN_XSK_DRAIN_NS 2000000000ull
/* A TX ring the kernel takes nothing from for this long is an error. */
#define GEN_XSK_STALL_NS 5000000000ull
/* How long to leave the device (veth: the peer's ring) to drain when it pushes back. */
#define GEN_XSK_PAUSE_NS 20000ull

struct gen_xsk_queue {
	struct fg_xsk_tx t;
	struct fg_gen_pkt *pk; /* per frame: the packet built into it */
	uint8_t *out; /* per frame: 1 from build to completion */
	uint32_t taken; /* TX index up to which the kernel has read the ring */
};

struct gen_xsk {
	uint32_t nq;
	bool zerocopy;
	struct gen_xsk_queue q[GEN_XSK_MAX_QUEUES];
};

static void gen_xsk_close(struct gen_xsk *x)
{
	if (!x)
		return;
	for (uint32_t i = 0; i < x->nq; i++) {
		fg_xsk_tx_close(&x->q[i].t);
		free(x->q[i].pk);
		free(x->q[i].out);
	}
	free(x);
}

/* A socket on every transmit queue (up to GEN_XSK_MAX_QUEUES): 0 and *out,
 * or -errno and why. */
static int gen_xsk_open(int ifindex, uint32_t txqs, struct gen_xsk **out, char *why, size_t whylen)
{
	struct gen_xsk *x = calloc(1, sizeof(*x));
	uint32_t nq = txqs < 1 ? 1 : (txqs > GEN_XSK_MAX_QUEUES ? GEN_XSK_MAX_QUEUES : txqs);

	if (!x) {
		fg_errf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	x->zerocopy = true;
	for (uint32_t i = 0; i < nq; i++) {
		struct fg_xsk_tx_config tc = { .ifindex = ifindex, .queue = i, .zc = FG_ZC_AUTO };
		struct gen_xsk_queue *q = &x->q[i];
		int ret = fg_xsk_tx_open(&tc, &q->t, why, whylen);

		if (ret) {
			gen_xsk_close(x);
			return ret;
		}
		x->nq = i + 1;
		q->taken = q->t.submitted_prod;
		q->pk = calloc(q->t.nframes, sizeof(*q->pk));
		q->out = calloc(q->t.nframes, 1);
		if (!q->pk || !q->out) {
			gen_xsk_close(x);
			fg_errf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		x->zerocopy &= q->t.zerocopy;
	}
	*out = x;
	return 0;
}

/* Completions: the frames back on the free stack are sent; their bytes count. */
static void gen_xsk_reap(struct gen_xsk_queue *q, struct gen_result *res)
{
	uint32_t n = fg_xsk_tx_complete(&q->t);

	for (uint32_t i = q->t.nfree - n; i < q->t.nfree; i++) {
		uint64_t f = q->t.free_addrs[i] / q->t.frame_size;

		if (f < q->t.nframes && q->out[f]) {
			q->out[f] = 0;
			res->bytes += q->pk[f].len;
			res->sent++;
		}
	}
}

/* Write the send time into the frames of TX descriptors [from, to). */
static void gen_xsk_stamp(const struct gen_cfg *c, struct gen_xsk_queue *q, uint32_t from,
			  uint32_t to, uint64_t now)
{
	for (uint32_t i = from; i != to; i++) {
		const struct xdp_desc *d = fg_xsk_tx_desc(&q->t, i);
		uint8_t *data = fg_xsk_tx_data(&q->t, d->addr);
		const struct fg_gen_pkt *p = &q->pk[d->addr / q->t.frame_size];

		fg_gen_stamp(data, p, now);
		if (c->itch_stamps)
			fg_gen_stamp_itch(data, p, now);
	}
}

/*
 * The device dropped the frame at TX index at - 1 (EBUSY in copy mode: veth's
 * peer ring was full). A copy of it goes back on the ring at `at`, ahead of
 * everything queued after it, so no feed is reordered; the dropped frame's
 * own completion then counts for nothing. 0, or -ENOSPC when there is no
 * frame or slot for the copy: the packet is lost and taken out of the
 * report.
 */
static int gen_xsk_resend(struct gen_xsk_queue *q, struct fg_gen *g, uint32_t at,
			  struct gen_result *res)
{
	const struct xdp_desc *d = fg_xsk_tx_desc(&q->t, at - 1);
	uint64_t old = d->addr, addr, fo = old / q->t.frame_size, fn;
	uint32_t len = d->len;

	if (fo >= q->t.nframes || !q->out[fo])
		return 0; /* not a frame of ours in flight: nothing to resend */
	q->out[fo] = 0;
	if (!fg_xsk_tx_take_frame(&q->t, &addr)) {
		gen_xsk_reap(q, res);
		if (!fg_xsk_tx_take_frame(&q->t, &addr))
			goto lost;
	}
	fn = addr / q->t.frame_size;
	if (addr != old) {
		memcpy(fg_xsk_tx_data(&q->t, addr), fg_xsk_tx_data(&q->t, old), len);
		q->pk[fn] = q->pk[fo];
	}
	if (fg_xsk_tx_push_front(&q->t, at, addr, len)) {
		q->t.free_addrs[q->t.nfree++] = addr;
		goto lost;
	}
	q->out[fn] = 1;
	res->retried++;
	return 0;
lost:
	fg_gen_unsend(g, &q->pk[fo]);
	res->tx_errors++;
	return -ENOSPC;
}

/*
 * Kick every queue whose ring holds unsent descriptors. Returns how many
 * descriptors the kernel took in this round (copy mode: sent or dropped),
 * or -errno on a fatal error; *left = still unsent, *dropped = frames the
 * device dropped (sent again).
 *
 * Copy mode needs care to know where the kernel stopped, because it only
 * publishes its consumer index when a call sent at least one frame: a call
 * whose first frame the device dropped (EBUSY) took that frame silently.
 * The kernel reads the ring only inside the call, so the index before and
 * after it tell: moved, it is the new position; unmoved, the call took
 * nothing, or exactly the one frame it reports dropped.
 */
static int gen_xsk_kick_all(const struct gen_cfg *c, struct gen_xsk *x, struct fg_gen *g,
			    struct gen_result *res, uint32_t *left, uint32_t *dropped)
{
	uint32_t took = 0;

	*left = 0;
	*dropped = 0;
	for (uint32_t i = 0; i < x->nq; i++) {
		struct gen_xsk_queue *q = &x->q[i];
		uint32_t before = q->taken, p0, p1;
		uint64_t k0 = q->t.kicks;
		int err;

		if (q->t.submitted_prod == q->taken)
			continue;
		p0 = fg_xsk_tx_consumer(&q->t);
		err = fg_xsk_tx_kick(&q->t);
		p1 = fg_xsk_tx_consumer(&q->t);
		if (q->t.zerocopy) {
			/* the driver reads the ring in its own time */
			if ((uint32_t)(p1 - q->taken) <= q->t.submitted_prod - q->taken)
				q->taken = p1;
		} else if (q->t.kicks != k0) {
			if (p1 != p0)
				q->taken = p1;
			else if (err == -EBUSY)
				q->taken++;
			/* with the link down the copy would be dropped too, for
			 * ever: the frame completes and counts as sent, and the
			 * device's tx_dropped tells what became of it */
			if (err == -EBUSY && gen_carrier(c->iface)) {
				(*dropped)++;
				gen_xsk_resend(q, g, q->taken, res);
			}
		}
		took += q->taken - before;
		*left += q->t.submitted_prod - q->taken;
		if (!err || err == -EAGAIN || err == -ENOBUFS || err == -EBUSY)
			continue;
		pr_warn("gen: %s: AF_XDP send on queue %u failed: %s\n", c->iface, q->t.queue,
			strerror(-err));
		return err;
	}
	return (int)took;
}

/*
 * Lines and loss for the packet just built into the frame of descriptor d
 * (frame number f), the last one reserved on q: the server remembers it;
 * line B goes into a second descriptor (room checked by the caller), or
 * takes over d when line A lost it. Returns 1 when the packet went out on
 * no line and d was given back (its frame is free again), else 0.
 */
static int gen_xsk_lines(const struct gen_cfg *c, struct fg_gen *g, struct gen_xsk_queue *q,
			 struct xdp_desc *d, uint64_t f)
{
	struct fg_gen_pkt *p = &q->pk[f];
	uint8_t *data = fg_xsk_tx_data(&q->t, d->addr);
	struct fg_gen_pkt pb;
	uint8_t *fb = NULL;
	uint64_t addr = 0;
	uint32_t idx = 0;

	gen_record(c, data, p);
	if (p->send == 3) {
		if (!fg_xsk_tx_reserve(&q->t, &idx)) {
			/* room was checked; were it not there, B is refused */
			pb = *p;
			pb.line = 1;
			fg_gen_unsend(g, &pb);
			return 0;
		}
		addr = fg_xsk_tx_desc(&q->t, idx)->addr;
		fb = fg_xsk_tx_data(&q->t, addr);
	}
	switch (gen_frames(data, p, fb, &pb)) {
	case 0:
		/* the descriptor fg_xsk_tx_reserve() just handed out, undone */
		q->t.free_addrs[q->t.nfree++] = d->addr;
		q->t.tx.cached_prod--;
		return 1;
	case 2:
		fg_xsk_tx_desc(&q->t, idx)->len = pb.len;
		q->pk[addr / q->t.frame_size] = pb;
		q->out[addr / q->t.frame_size] = 1;
		break;
	}
	return 0;
}

static int gen_af_xdp(const struct gen_cfg *c, struct fg_gen *g, struct gen_xsk *x,
		      struct gen_result *res)
{
	struct fg_pacer pacer;
	uint64_t built = 0, start, now, end, moved;
	uint32_t rr = 0, unsent = 0, dropped;
	int ret = 0;

	start = fg_now_ns();
	moved = start;
	gen_pacer_init(c, &pacer, start);
	while (!gen_stop) {
		int took;

		for (uint32_t i = 0; i < x->nq; i++)
			gen_xsk_reap(&x->q[i], res);
		if (!unsent) {
			unsigned int want, n = 0;

			if (gen_done(c, built, start, fg_now_ns()))
				break;
			want = gen_pace(c, &pacer, built, GEN_XSK_BATCH);
			if (gen_stop)
				break;
			if (c->count && want > c->count - built)
				want = (unsigned int)(c->count - built);
			/* Build straight into the UMEM frames of each packet's queue. */
			for (; n < want; n++) {
				unsigned int feed = 0;
				uint32_t idx, qi = 0;
				struct gen_xsk_queue *q;
				struct xdp_desc *d;
				uint64_t f;

				if (x->nq > 1) {
					bool is_feed = fg_gen_peek(g, &feed);

					qi = fg_gen_tx_queue(is_feed, feed, x->nq, &rr);
				}
				q = &x->q[qi];
				/* with lines, room for both before the packet exists */
				if (c->line_mode &&
				    (q->t.nfree < 2 || fg_xsk_tx_free_slots(&q->t) < 2))
					break;
				if (!fg_xsk_tx_reserve(&q->t, &idx))
					break; /* ring full or every frame out: send first */
				d = fg_xsk_tx_desc(&q->t, idx);
				f = d->addr / q->t.frame_size;
				d->len = fg_gen_next(g, fg_xsk_tx_data(&q->t, d->addr), &q->pk[f]);
				if (c->line_mode && gen_xsk_lines(c, g, q, d, f))
					continue;
				q->out[f] = 1;
			}
			built += n;
			now = fg_now_ns();
			gen_srv_tick(c, now);
			for (uint32_t i = 0; i < x->nq; i++) {
				struct gen_xsk_queue *q = &x->q[i];

				gen_xsk_stamp(c, q, q->t.submitted_prod, q->t.tx.cached_prod, now);
				fg_xsk_tx_submit(&q->t);
			}
			if (!n) {
				/* nothing could be built: frames still out */
				res->waits++;
				gen_nap(c, GEN_XSK_PAUSE_NS);
				continue;
			}
		} else {
			/* pushed back last time: still unsent, so stamp anew
			 * (copy mode: the kernel reads them only in the kick) */
			now = fg_now_ns();
			if (!x->zerocopy)
				for (uint32_t i = 0; i < x->nq; i++)
					gen_xsk_stamp(c, &x->q[i], x->q[i].taken,
						      x->q[i].t.submitted_prod, now);
		}
		took = gen_xsk_kick_all(c, x, g, res, &unsent, &dropped);
		if (took < 0) {
			ret = took;
			break;
		}
		if (took) {
			if (!res->first_ns)
				res->first_ns = now;
			res->last_ns = now;
			moved = now;
		} else if (unsent && now - moved > GEN_XSK_STALL_NS) {
			pr_warn("gen: %s: the kernel took nothing off the AF_XDP TX ring for %llu "
				"s\n",
				c->iface, GEN_XSK_STALL_NS / 1000000000ull);
			ret = -EIO;
			break;
		}
		if ((unsent && !took) || dropped) {
			/* the device (veth: the peer's ring) is full, or every
			 * skb is still charged to the socket: let it drain */
			res->waits++;
			res->retried += unsent;
			gen_nap(c, GEN_XSK_PAUSE_NS);
		}
	}
	/* What is on the rings goes out unless a signal stopped the run; then
	 * wait for the kernel to complete what it took. */
	end = fg_now_ns() + GEN_XSK_DRAIN_NS;
	while (!ret && !gen_stop && unsent && fg_now_ns() < end) {
		int took;

		now = fg_now_ns();
		if (!x->zerocopy)
			for (uint32_t i = 0; i < x->nq; i++)
				gen_xsk_stamp(c, &x->q[i], x->q[i].taken, x->q[i].t.submitted_prod,
					      now);
		took = gen_xsk_kick_all(c, x, g, res, &unsent, &dropped);
		if (took < 0) {
			ret = took;
			break;
		}
		if (took)
			res->last_ns = now;
		if (!took || dropped)
			gen_nap(c, GEN_XSK_PAUSE_NS);
		for (uint32_t i = 0; i < x->nq; i++)
			gen_xsk_reap(&x->q[i], res);
	}
	for (;;) {
		uint64_t out = 0;

		for (uint32_t i = 0; i < x->nq; i++) {
			gen_xsk_reap(&x->q[i], res);
			out += fg_xsk_tx_in_flight(&x->q[i].t);
		}
		if (!out || fg_now_ns() >= end)
			break;
		gen_nap(c, GEN_XSK_PAUSE_NS);
	}
	/* Frames never completed were not sent, whatever happened to them:
	 * take their packets out of the report. */
	for (uint32_t i = 0; i < x->nq; i++) {
		struct gen_xsk_queue *q = &x->q[i];
		struct xdp_statistics st;

		for (uint32_t f = 0; f < q->t.nframes; f++) {
			if (q->out[f]) {
				fg_gen_unsend(g, &q->pk[f]);
				q->out[f] = 0;
				res->lost++;
			}
		}
		if (!fg_xsk_tx_stats(&q->t, &st) && st.tx_invalid_descs)
			pr_warn("gen: %s: queue %u: the kernel refused %llu TX descriptors (bug)\n",
				c->iface, q->t.queue, (unsigned long long)st.tx_invalid_descs);
	}
	if (res->lost && !gen_stop && !ret)
		pr_info("gen: %s: %llu frames handed to the kernel never completed: not counted "
			"as sent\n",
			c->iface, (unsigned long long)res->lost);
	res->built = built;
	return ret;
}

/* --- which path --------------------------------------------------------------------------- */

/* The path and its mode, for the start line and the report: "af_xdp on fgA0
 * (copy mode, 1 queue; picked by --tx auto)". */
static void gen_tx_text(const struct gen_cfg *c, const struct gen_result *res, bool started,
			char *buf, size_t len)
{
	const char *pick = c->tx == FG_GEN_TX_AUTO ? "picked by --tx auto" : "";
	char mode[96] = "";

	switch (res->tx) {
	case FG_GEN_TX_AF_XDP:
		snprintf(mode, sizeof(mode), "%s, %u queue%s%s",
			 res->zerocopy ? "zero-copy" : "copy mode", res->xsk_queues,
			 res->xsk_queues == 1 ? "" : "s",
			 c->pace_sleep ? ", sleep-only pacing" : "");
		break;
	case FG_GEN_TX_XDP:
		snprintf(mode, sizeof(mode), "XDP live frames");
		break;
	default:
		if (started)
			snprintf(mode, sizeof(mode), "%s%s",
				 res->bypass ? "qdisc bypass"
					     : "qdisc path: flows hashed over the tx queues",
				 c->pace_sleep ? ", sleep-only pacing" : "");
		else if (c->pace_sleep)
			snprintf(mode, sizeof(mode), "sleep-only pacing");
		break;
	}
	snprintf(buf, len, "%s on %s%s%s%s%s%s", fg_gen_tx_name(res->tx), c->iface,
		 *mode || *pick ? " (" : "", mode, *mode && *pick ? "; " : "", pick,
		 *mode || *pick ? ")" : "");
}

static void gen_start_line(const struct gen_cfg *c, const struct gen_result *res)
{
	char tx[192];

	gen_tx_text(c, res, false, tx, sizeof(tx));
	pr_info("gen: sending with %s\n", tx);
}

/* What to use when the path asked for cannot work here. */
static const char *gen_tx_hint(enum fg_gen_tx tx)
{
	switch (tx) {
	case FG_GEN_TX_AF_XDP:
		return "use --tx afpacket";
	case FG_GEN_TX_XDP:
		return "use --tx af_xdp or --tx afpacket";
	default:
		return "check the interface";
	}
}

/*
 * Send out of c->iface with the path asked for, or with the first of
 * fg_gen_tx_auto_order[] that opens (and, for XDP live frames, passes its
 * trial run). A path asked for by name that cannot work fails here, in one
 * line, before anything is sent.
 */
static int gen_iface(const struct gen_cfg *c, struct fg_gen *g, int ifindex, struct gen_result *res)
{
	const enum fg_gen_tx *order = fg_gen_tx_auto_order;
	size_t n = sizeof(fg_gen_tx_auto_order) / sizeof(fg_gen_tx_auto_order[0]);
	char why[256];
	int ret = -EINVAL;

	if (c->tx != FG_GEN_TX_AUTO) {
		order = &c->tx;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		res->tx = order[i];
		if (order[i] == FG_GEN_TX_XDP && c->line_mode) {
			/* (asked for by name, gen_parse() refused it) */
			pr_info("gen: --tx auto: xdp sends one template frame, not lines, loss or "
				"a server's packets; trying the next\n");
			continue;
		}
		snprintf(why, sizeof(why), "unknown reason");
		if (order[i] == FG_GEN_TX_AF_XDP) {
			struct gen_xsk *x = NULL;

			ret = gen_xsk_open(ifindex, res->txqs, &x, why, sizeof(why));
			if (!ret) {
				res->zerocopy = x->zerocopy;
				res->xsk_queues = x->nq;
				res->xsk_budget = x->q[0].t.budget;
				gen_start_line(c, res);
				ret = gen_af_xdp(c, g, x, res);
				gen_xsk_close(x);
				return ret;
			}
		} else if (order[i] == FG_GEN_TX_XDP) {
			struct gen_xdp *x = NULL;

			ret = gen_xdp_open(c, g, ifindex, &x, why, sizeof(why));
			if (!ret) {
				gen_start_line(c, res);
				ret = gen_xdp(c, g, x, ifindex, res);
				gen_xdp_close(x);
				return ret;
			}
		} else {
			gen_start_line(c, res);
			return gen_afpacket(c, g, ifindex, res);
		}
		if (c->tx != FG_GEN_TX_AUTO) {
			pr_warn("gen: %s: --tx %s: %s; %s\n", c->iface, fg_gen_tx_name(order[i]),
				why, gen_tx_hint(order[i]));
			return ret;
		}
		pr_info("gen: --tx auto: %s does not work on %s (%s); trying the next\n",
			fg_gen_tx_name(order[i]), c->iface, why);
	}
	return ret;
}

/*
 * The end of a run with lines or loss: a MoldUDP64 heartbeat per feed and
 * line (the next sequence number, as a quiet feed sends), so that a
 * consumer learns of a loss in the last packets and can ask for it. Sent
 * through an AF_PACKET socket whatever path sent the rest: the frames of
 * that path have all left by now (af_xdp: completed), so the order holds.
 */
static int gen_heartbeats(const struct gen_cfg *c, struct fg_gen *g, int ifindex)
{
	static uint8_t buf[FG_GEN_MAX_FRAME];
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
	};
	int fd, ret = 0;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		pr_warn("gen: %s: Couldn't open an AF_PACKET socket for the closing heartbeats: "
			"%s\n",
			c->iface, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	for (uint32_t f = 0; f < c->feeds && !ret; f++) {
		for (uint32_t l = 0; l < c->lines; l++) {
			struct fg_gen_pkt p;
			uint32_t len = fg_gen_heartbeat(g, f, l, buf, &p);

			/* a full device ring (ENOBUFS): let it drain, for up to 10 ms */
			for (int tries = 0;; tries++) {
				fg_gen_stamp(buf, &p, fg_now_ns());
				if (send(fd, buf, len, 0) >= 0)
					break;
				ret = -errno;
				if (ret != -ENOBUFS || tries == 100)
					break;
				ret = 0;
				gen_nap(c, 100000);
			}
			if (ret) {
				pr_warn("gen: %s: Couldn't send a heartbeat: %s\n", c->iface,
					strerror(-ret));
				break;
			}
		}
	}
	close(fd);
	return ret;
}

/*
 * After the last packet: answer requests for --serve-linger seconds (a
 * signal ends it), and, as a quiet feed does, send a heartbeat per feed and
 * line every GEN_HEARTBEAT_NS meanwhile: a consumer that lost the closing
 * ones too (a ring overflowed while it was starved of its CPU) still learns
 * where the feed ends, and can ask for the rest while the server answers.
 */
#define GEN_HEARTBEAT_NS 1000000000ull

static int gen_srv_linger(const struct gen_cfg *c, struct fg_gen *g, int ifindex)
{
	uint64_t now = fg_now_ns(), end = now + (uint64_t)(c->serve_linger * 1e9);
	int ret = 0;

	if (!c->srv)
		return 0;
	for (;;) {
		uint64_t next = now + GEN_HEARTBEAT_NS;

		gen_srv_wait(c->srv, next < end ? next : end, 0);
		now = fg_now_ns();
		if (now >= end || gen_stop)
			return ret;
		/* a heartbeat that cannot go (said) fails the run, but the
		 * server goes on answering until the linger ends */
		if (c->line_mode && !ret)
			ret = gen_heartbeats(c, g, ifindex);
	}
}

/* --- what the device did ------------------------------------------------------------------ */

/*
 * The device's TX counters, as this network namespace sees them: getifaddrs()
 * asks rtnetlink here (its AF_PACKET entries carry struct rtnl_link_stats),
 * where /sys/class/net would show the host's interfaces under nsenter --net.
 * The counters are 32-bit: deltas are taken modulo 2^32. 0 or -errno.
 */
static int gen_dev_read(const char *ifname, uint32_t *tx_packets, uint32_t *tx_dropped)
{
	struct ifaddrs *all, *i;
	int ret = -ENODEV;

	if (getifaddrs(&all))
		return -errno;
	for (i = all; i; i = i->ifa_next) {
		const struct rtnl_link_stats *st = i->ifa_data;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET || !st ||
		    strcmp(i->ifa_name, ifname))
			continue;
		*tx_packets = st->tx_packets;
		*tx_dropped = st->tx_dropped;
		ret = 0;
		break;
	}
	freeifaddrs(all);
	return ret;
}

/* The counters before the first frame. */
struct gen_dev_start {
	int err;
	uint32_t tx_packets, tx_dropped;
};

/*
 * What the device did since *d0: frames taken and dropped, into res. A NIC
 * counts a frame when its transmission completes, so the counters get up to
 * GEN_DEV_SETTLE_NS to account for every frame sent.
 */
static void gen_dev_count(const struct gen_cfg *c, const struct gen_dev_start *d0,
			  struct gen_result *res)
{
	uint64_t end = fg_now_ns() + GEN_DEV_SETTLE_NS;
	uint32_t pk, dr;

	res->dev_ok = false;
	if (d0->err || res->sent >= 1ull << 32)
		return; /* unread, or more frames than the counters tell apart */
	for (;;) {
		if (gen_dev_read(c->iface, &pk, &dr))
			return;
		res->dev_ok = true;
		res->dev_took = (uint32_t)(pk - d0->tx_packets);
		res->dev_dropped = (uint32_t)(dr - d0->tx_dropped);
		if (res->dev_took + res->dev_dropped >= res->sent || fg_now_ns() >= end)
			return;
		gen_nap(c, 5000000);
	}
}

/* --- report ----------------------------------------------------------------------------- */

static const char *gen_mode_name(int mode)
{
	static const char *const names[] = { "full", "partial", "garbage", "silent" };

	return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

/* Seconds from the first send to the last. */
static double gen_secs(const struct gen_result *res)
{
	return res->last_ns > res->first_ns ? (double)(res->last_ns - res->first_ns) / 1e9 : 0;
}

/*
 * The rate reached in what --rate counts: frames, or with lines packets of
 * the mix (a feed packet once, whatever lines carry it). It is taken over
 * the n-1 gaps between the first send and the last; 0 with fewer than two.
 */
static double gen_rate_reached(const struct gen_cfg *c, const struct gen_result *res)
{
	uint64_t n = c->line_mode ? res->built : res->sent;
	double secs = gen_secs(res);

	return secs > 0 && n > 1 && res->sent > 1 ? (double)(n - 1) / secs : 0;
}

static void gen_report(const struct gen_cfg *c, struct fg_gen *g, const struct gen_result *res)
{
	const uint64_t *nc = fg_gen_noise_counts(g);
	uint64_t feed_pk = 0, noise_pk = 0, lost_all = 0, lost_all_msgs = 0, heartbeats = 0;
	uint64_t line_sent[2] = { 0 }, line_lost[2] = { 0 }, line_refused[2] = { 0 };
	double secs = gen_secs(res);
	/* the rate over the n-1 gaps between the first and the last send */
	double rate = secs > 0 && res->sent > 1 ? (double)(res->sent - 1) / secs : 0;

	bool xdp = !c->pcap && res->tx == FG_GEN_TX_XDP;
	char tx[256];

	if (c->pcap)
		snprintf(tx, sizeof(tx), "pcap %s", c->pcap);
	else
		gen_tx_text(c, res, true, tx, sizeof(tx));
	printf("gen: %s, %u feed%s, %u messages/packet, noise %g per feed packet, seed %llu", tx,
	       c->feeds, c->feeds == 1 ? "" : "s", xdp ? (c->mpp + 1) / 2 * 2 : c->mpp, c->noise,
	       (unsigned long long)c->seed);
	if (c->line_mode && c->lines > 1)
		printf(", 2 lines, loss A %g B %g, loss on both %g", c->loss[0], c->loss[1],
		       c->loss_both);
	else if (c->line_mode)
		printf(", 1 line, loss %g, loss-both %g", c->loss[0], c->loss_both);
	printf("\n");
	for (uint32_t f = 0; f < c->feeds; f++) {
		const struct fg_gen_feed_stats *fs = fg_gen_feed(g, f);
		char grp[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &fs->group, grp, sizeof(grp));
		printf("feed %u %s:%u session %s packets %llu messages %llu seq 1-%llu\n", f + 1,
		       grp, fs->port, fs->session, (unsigned long long)fs->packets,
		       (unsigned long long)fs->messages, (unsigned long long)(fs->next_seq - 1));
		if (!c->line_mode) {
			feed_pk += fs->packets;
			continue;
		}
		for (uint32_t l = 0; l < c->lines; l++) {
			uint32_t grp_l = l ? fs->group_b : fs->group;

			inet_ntop(AF_INET, &grp_l, grp, sizeof(grp));
			printf("  line %c %s:%u sent %llu lost %llu refused %llu\n", 'A' + l, grp,
			       fs->port, (unsigned long long)fs->line_sent[l],
			       (unsigned long long)fs->line_lost[l],
			       (unsigned long long)fs->line_refused[l]);
			feed_pk += fs->line_sent[l];
			line_sent[l] += fs->line_sent[l];
			line_lost[l] += fs->line_lost[l];
			line_refused[l] += fs->line_refused[l];
		}
		printf("  lost on all lines: %llu packets, %llu messages\n",
		       (unsigned long long)fs->lost_all, (unsigned long long)fs->lost_all_messages);
		lost_all += fs->lost_all;
		lost_all_msgs += fs->lost_all_messages;
		heartbeats += fs->heartbeats;
		if (c->srv) {
			const struct gen_srv_feed *sf = &c->srv->feed[f];

			/* requests: well-formed, of this feed's session, in any mode */
			printf("  re-requests: %llu requests, %llu replies, %llu messages served, "
			       "%llu not remembered\n",
			       (unsigned long long)sf->requests, (unsigned long long)sf->replies,
			       (unsigned long long)sf->messages, (unsigned long long)sf->forgotten);
		}
	}
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		noise_pk += nc[k];
	printf("noise packets %llu:", (unsigned long long)noise_pk);
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		if (!xdp || nc[k])
			printf(" %s %llu", fg_gen_kind_name(k), (unsigned long long)nc[k]);
	if (xdp)
		printf(" (kinds in turn, chunk by chunk)");
	printf("\n");
	printf("sent %llu packets (%llu feed, %llu noise), %llu bytes in %.3f s: %.0f pps",
	       (unsigned long long)res->sent, (unsigned long long)feed_pk,
	       (unsigned long long)noise_pk, (unsigned long long)res->bytes, secs, rate);
	if (c->line_mode) {
		/* the schedule counts packets of the mix, whatever lines carry them */
		rate = gen_rate_reached(c, res);
		printf("; %llu packets of the mix: %.0f pps", (unsigned long long)res->built, rate);
	}
	if (c->rate > 0)
		printf(" (target %.0f pps, %.2f%%)", c->rate, rate / c->rate * 100);
	else
		printf(" (unpaced)");
	if (c->burst > 0) {
		struct fg_pacer p;
		char len[32], every[32];

		gen_pacer_init(c, &p, 0);
		gen_fmt_dur(c->burst_len_ns, len, sizeof(len));
		gen_fmt_dur(c->burst_every_ns, every, sizeof(every));
		printf(", bursts %gx for %s every %s (%.0f pps in bursts, %.0f pps between)",
		       c->burst, len, every, fg_pace_burst_rate(&p), fg_pace_base_rate(&p));
	}
	printf("\n");
	if (!c->pcap)
		printf("backpressure: %llu waits, %llu packets retried, %llu refused by the "
		       "device\n",
		       (unsigned long long)res->waits, (unsigned long long)res->retried,
		       (unsigned long long)res->tx_errors);
	if (!c->pcap && res->dev_ok)
		printf("device %s: took %llu frames (tx_packets), dropped %llu (tx_dropped)\n",
		       c->iface, (unsigned long long)res->dev_took,
		       (unsigned long long)res->dev_dropped);
	else if (!c->pcap)
		printf("device %s: TX counters not read\n", c->iface);
	if (c->line_mode) {
		printf("lines: %u, sent A %llu", c->lines, (unsigned long long)line_sent[0]);
		if (c->lines > 1)
			printf(" B %llu", (unsigned long long)line_sent[1]);
		printf(", lost A %llu", (unsigned long long)line_lost[0]);
		if (c->lines > 1)
			printf(" B %llu", (unsigned long long)line_lost[1]);
		printf(", lost on all lines %llu packets %llu messages, refused A %llu",
		       (unsigned long long)lost_all, (unsigned long long)lost_all_msgs,
		       (unsigned long long)line_refused[0]);
		if (c->lines > 1)
			printf(" B %llu", (unsigned long long)line_refused[1]);
		printf(", heartbeats %llu", (unsigned long long)heartbeats);
		if (c->srv) {
			const struct fg_rrsrv_stats *st = fg_rrsrv_stats(c->srv->rr);

			printf("; server %s %s: requests %llu replies %llu messages %llu "
			       "unknown_session %llu bad %llu forgotten %llu send_errors %llu",
			       c->serve, gen_mode_name(c->serve_mode),
			       (unsigned long long)st->requests, (unsigned long long)st->replies,
			       (unsigned long long)st->messages,
			       (unsigned long long)st->unknown_session,
			       (unsigned long long)st->bad_requests,
			       (unsigned long long)st->forgotten,
			       (unsigned long long)c->srv->send_errors);
		}
		printf("\n");
	}
	fflush(stdout);
}

/*
 * What the report claims held against what happened: the frames the device
 * took against those sent, and the rate reached against --rate. A
 * shortfall of more than GEN_SHORT_MAX of either is one warning line on
 * stderr; the return value says whether there was one.
 */
static bool gen_check(const struct gen_cfg *c, const struct gen_result *res)
{
	char msg[512];
	double s, reached;
	int n = 0;

	msg[0] = 0;
	if (c->pcap)
		return false;
	s = res->dev_ok ? fg_gen_shortfall((double)res->sent, (double)res->dev_took) : 0;
	if (s > GEN_SHORT_MAX)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n,
			      "%s: the device took %llu of the %llu frames sent (%.2f%% short; "
			      "tx_dropped +%llu)",
			      c->iface, (unsigned long long)res->dev_took,
			      (unsigned long long)res->sent, s * 100,
			      (unsigned long long)res->dev_dropped);
	/* with fewer than two packets sent there is no rate to judge (0) */
	reached = gen_rate_reached(c, res);
	s = reached > 0 ? fg_gen_shortfall(c->rate, reached) : 0;
	if (s > GEN_SHORT_MAX)
		snprintf(msg + n, sizeof(msg) - (size_t)n,
			 "%s%.0f pps reached, %.2f%% of --rate %.0f", n ? "; " : "", reached,
			 reached / c->rate * 100, c->rate);
	if (!msg[0])
		return false;
	pr_warn("gen: %s%s\n", msg, c->strict ? " (--strict: exit 1)" : "");
	return true;
}

/* --- a NASDAQ BinaryFILE day (--itch-file) ------------------------------------------------- */

#define GEN_DAY_CHUNK 1000000ull /* messages between two progress checks */

/*
 * gen --itch-file FILE|- --count N [--seed S] [--symbols N] [--max-live N]:
 * N messages of the day generator as NASDAQ BinaryFILE, the input `replay`
 * and the benchmarks take. A file is written under a temporary name beside
 * it and renamed only once whole: a full disk leaves no file that claims to
 * be a complete day (through a symbolic link, the file it names is
 * replaced, the link stays). A path that is not a regular file (a FIFO, a
 * device) is written in place, like '-': renaming over it would replace
 * the device with a file. Progress on stderr when it takes more than a
 * second.
 */
static int gen_itch_file(int argc, char **argv)
{
	struct fg_itchgen_config ic = { 0 };
	struct gen_file_cfg fc;
	const char *path, *target = NULL;
	char tmp[4096] = "", *real = NULL;
	struct stat sb;
	uint64_t count, done = 0, start = fg_now_ns(), last = start;
	struct fg_itchgen *ig;
	int fd, ret = 0, to_stdout;

	ret = gen_file_parse(argc, argv, &fc);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	path = fc.path;
	count = fc.count;
	ic.seed = fc.seed;
	ic.symbols = fc.symbols;
	ic.max_live_orders = fc.max_live;
	ret = fg_itchgen_new(&ic, &ig);
	if (ret) {
		pr_warn("gen: --itch-file: Couldn't set up the day generator: %s\n",
			strerror(-ret));
		return 1;
	}
	to_stdout = !strcmp(path, "-");
	if (!to_stdout && !stat(path, &sb) && S_ISDIR(sb.st_mode)) {
		pr_warn("gen: --itch-file '%s': is a directory\n", path);
		fg_itchgen_free(ig);
		return 1;
	}
	if (to_stdout) {
		fd = STDOUT_FILENO;
	} else if (!stat(path, &sb) && !S_ISREG(sb.st_mode)) {
		to_stdout = -1; /* in place, not renamed: cut short on an error */
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_warn("gen: --itch-file '%s': Couldn't open it: %s\n", path,
				strerror(errno));
			fg_itchgen_free(ig);
			return 1;
		}
	} else {
		struct stat lb;

		target = path;
		/* Through a link, the file it names gets the temporary name beside it. */
		if (!lstat(path, &lb) && S_ISLNK(lb.st_mode) && (real = realpath(path, NULL)))
			target = real;
		snprintf(tmp, sizeof(tmp), "%s.part-%d", target, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			pr_warn("gen: --itch-file '%s': Couldn't create it: %s\n", path,
				strerror(errno));
			fg_itchgen_free(ig);
			free(real);
			return 1;
		}
	}
	while (done < count && !ret && !gen_stop) {
		uint64_t n = count - done < GEN_DAY_CHUNK ? count - done : GEN_DAY_CHUNK;
		uint64_t now;

		ret = fg_itchgen_write_binaryfile(ig, fd, n);
		if (!ret)
			done += n;
		now = fg_now_ns();
		if (now - start > 1000000000ull && now - last > 1000000000ull) {
			fprintf(stderr, "gen: %s: %llu of %llu messages (%.0f%%), %.1f s\n",
				to_stdout > 0 ? "standard output" : path, (unsigned long long)done,
				(unsigned long long)count, 100.0 * (double)done / (double)count,
				(double)(now - start) / 1e9);
			last = now;
		}
	}
	if (!ret && gen_stop)
		ret = -EINTR;
	if (to_stdout < 0 && close(fd) && !ret)
		ret = -errno;
	if (!to_stdout) {
		if (!ret && (fsync(fd) || close(fd)))
			ret = -errno;
		else if (ret)
			close(fd);
		if (!ret && rename(tmp, target))
			ret = -errno;
		if (ret)
			unlink(tmp); /* nothing half written stays behind */
	}
	if (ret) {
		pr_warn("gen: --itch-file '%s': %s after %llu of %llu messages; %s\n", path,
			strerror(-ret), (unsigned long long)done, (unsigned long long)count,
			to_stdout ? "the output is cut short" : "no file written");
	} else {
		fprintf(stderr,
			"gen: %s: %llu messages of BinaryFILE (seed %llu, %u symbols, at most %u "
			"live "
			"orders) in %.2f s\n",
			to_stdout > 0 ? "standard output" : path, (unsigned long long)done,
			(unsigned long long)ic.seed, fg_itchgen_symbols(ig),
			ic.max_live_orders ? ic.max_live_orders : FG_ITCHGEN_DEFAULT_LIVE,
			(double)(fg_now_ns() - start) / 1e9);
	}
	fg_itchgen_free(ig);
	free(real);
	return ret ? 1 : 0;
}

int do_gen(int argc, char **argv)
{
	struct gen_cfg c;
	struct fg_gen_config gc = { 0 };
	struct gen_result res = { 0 };
	struct sigaction sa = { .sa_handler = gen_on_signal };
	struct fg_gen *g = NULL;
	struct gen_dev_start d0 = { 0 };
	int ret, ifindex = 0;
	bool up = false, fell_short = false;

	if (gen_is_file_form(argc, argv)) {
		struct sigaction ia = { .sa_handler = gen_on_signal };

		sigaction(SIGINT, &ia, NULL);
		sigaction(SIGTERM, &ia, NULL);
		return gen_itch_file(argc, argv);
	}
	ret = gen_parse(argc, argv, &c);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	gc.feeds = c.feeds;
	gc.noise = c.noise;
	gc.msgs_per_packet = c.mpp;
	gc.seed = c.seed;
	gc.lines = c.lines;
	gc.loss[0] = c.loss[0];
	gc.loss[1] = c.loss[1];
	gc.loss_both = c.loss_both;
	gc.keep_unsent = c.line_mode;
	if (c.iface) {
		if (fg_require_root("gen"))
			return 1;
		ifindex = (int)if_nametoindex(c.iface);
		if (!ifindex) {
			pr_warn("%s: no such interface\n", c.iface);
			return 1;
		}
		ret = iface_info(c.iface, gc.src_mac, &gc.src_ip, &res.txqs, &up);
		if (ret) {
			pr_warn("gen: %s: Couldn't read the interface address: %s\n", c.iface,
				strerror(-ret));
			return 1;
		}
		/* every path would fail at its first send, after the start line */
		if (!up) {
			pr_warn("gen: %s: interface is down (ip link set %s up)\n", c.iface,
				c.iface);
			return 1;
		}
	} else {
		static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

		memcpy(gc.src_mac, mac, 6);
		gc.src_ip = htonl(0x0a000001);
	}
	if (fg_gen_new(&gc, &g))
		return 1;
	/* before the first packet: a request may come as soon as a gap does */
	if (c.serve && gen_srv_open(&c, g, &c.srv)) {
		fg_gen_free(g);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (c.pcap) {
		ret = gen_pcap(&c, g, &res);
	} else {
		if (c.srv)
			pr_info("gen: answering re-requests on %s (%s, %u messages per feed, %g s "
				"after the last packet)\n",
				c.serve, gen_mode_name(c.serve_mode), c.serve_history,
				c.serve_linger);
		d0.err = gen_dev_read(c.iface, &d0.tx_packets, &d0.tx_dropped);
		ret = gen_iface(&c, g, ifindex, &res);
		/* before the heartbeats: what the device did with what was counted */
		gen_dev_count(&c, &d0, &res);
		if (!ret && c.line_mode && !gen_stop)
			ret = gen_heartbeats(&c, g, ifindex);
		if (!ret && !gen_stop)
			ret = gen_srv_linger(&c, g, ifindex);
	}
	if (!ret || res.sent)
		gen_report(&c, g, &res);
	if (!ret)
		fell_short = gen_check(&c, &res);
	gen_srv_close(c.srv);
	fg_gen_free(g);
	return ret || (fell_short && c.strict) ? 1 : 0;
}
