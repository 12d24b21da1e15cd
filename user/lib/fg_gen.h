/* SPDX-License-Identifier: MIT */
/*
 * The traffic generator behind `feedgate gen`: MoldUDP64-framed ITCH 5.0
 * feeds mixed with noise, the pacing clock, and the names of the outputs
 * (pcap file; AF_XDP, XDP live frames, AF_PACKET: cmd_gen.c drives them).
 *
 * Feeds. Feed f (0-based) is group 239.1.1.(f+1), UDP port 5000+f, source
 * port 40000+f, MoldUDP64 session "FG%08u" (f+1), its own sequence numbers
 * from 1 and its own ITCH day (fg_itchgen, seeded with seed and f). A packet
 * carries msgs_per_packet messages, fewer when the next one would not
 * fit in a 1500-byte IP packet. UDP checksums are 0 (allowed for IPv4).
 *
 * Lines. With two lines (config lines = 2) every feed packet exists twice,
 * as an exchange publishes it on its A and B feeds: the same MoldUDP64
 * payload (session, sequence numbers, messages, trailer) in frames that
 * differ only in their headers. Line A is the group above; line B is the
 * A group with 1 added to its second octet, 239.2.1.(f+1), on the same UDP
 * port, from source port 40064+f (FG_GEN_BASE_SPORT_B) so that a capture
 * tells the lines apart. fg_gen_next() builds the line A frame;
 * fg_gen_set_line() turns a copy into line B.
 *
 * Loss. Each feed packet draws three numbers from a stream of its own (the
 * ITCH content and the noise do not depend on it, so a run with loss carries
 * the same messages as one without): one against loss_both (lost on every
 * line), one against loss[0] (line A) and one against loss[1] (line B).
 * fg_gen_pkt.send says on which lines the packet goes out; a packet lost on
 * a line is still generated and counted (packets, messages), so the
 * messages count stays what a consumer that recovers every gap delivers.
 * The first packet of a feed is never lost: a consumer starts a feed at the
 * first sequence number it sees, and could not tell it was missing.
 *
 * Noise. For every feed packet, RATIO noise packets on average (0.5 means
 * "feeds plus 50%"), spread evenly: UDP to a feed group on a port no feed
 * uses (6000+), UDP to a feed port on another group (239.2.0.x: never a
 * line B group, whose third octet is 1), TCP SYNs to 192.0.2.x:80 and ARP
 * requests for 192.0.2.x (TEST-NET-1: nobody answers). Noise is never lost,
 * goes out once, and never carries the send stamp.
 *
 * Send stamp: an Ethernet trailer. The 16 bytes after the end of the IP
 * datagram (where Ethernet padding would be, and where timestamping
 * switches put theirs) are
 *
 *   0  u64 BE  send time, CLOCK_MONOTONIC ns, written just before the send
 *   8  u32 BE  packet number in this generator run (feed packets only)
 *   12 u32 BE  FG_GEN_TRAILER_MAGIC ("FGTS")
 *
 * The IP and UDP lengths end before it, so the IP stack, MoldUDP64 and ITCH
 * parsers never see it: the ITCH content and the MoldUDP64 packet are
 * exactly what a real feed sends (a strict MoldUDP64 parser that rejects
 * bytes after the last block is happy). The consumer finds it from the
 * frame length and the IP total length (fg_gen_trailer_find()).
 */
#ifndef FG_GEN_H
#define FG_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>

#include "fg_be.h"
#include "feedgate/frame.h"
#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "fg_gen_layout.h" /* offsets, trailer, limits: shared with bpf/fg_gen.bpf.c */

/* The layout header cannot include the library's headers: keep it in step here. */
_Static_assert(FG_GEN_MOLD_HEADER_LEN == FG_MOLD_HEADER_LEN, "MoldUDP64 header length");
_Static_assert(FG_GEN_SESSION_LEN == FG_MOLD_SESSION_LEN, "MoldUDP64 session length");
_Static_assert(FG_GEN_ITCH_LEN_A == FG_ITCH_LEN_A && FG_GEN_ITCH_LEN_D == FG_ITCH_LEN_D,
	       "ITCH A and D lengths");
_Static_assert(FG_GEN_ITCH_OFF_REF == FG_ITCH_HEADER_LEN, "ITCH order reference after the header");

#define FG_GEN_BASE_PORT 5000
#define FG_GEN_BASE_SPORT 40000
#define FG_GEN_BASE_SPORT_B (FG_GEN_BASE_SPORT + FG_GEN_MAX_FEEDS) /* line B */
#define FG_GEN_MAX_LINES 2
#define FG_GEN_NOISE_PORT 6000
#define FG_GEN_MAX_MPP 64 /* messages per packet */
/* Feed packets keep the trailer inside the 1514 bytes a 1500-MTU link carries. */
#define FG_GEN_MAX_IP (FG_GEN_IP_MTU - FG_GEN_TRAILER_LEN)

enum fg_gen_kind {
	FG_GEN_FEED = 0,
	FG_GEN_NOISE_UDP_PORT, /* feed group, other port */
	FG_GEN_NOISE_UDP_GROUP, /* other group, feed port */
	FG_GEN_NOISE_TCP,
	FG_GEN_NOISE_ARP,
	FG_GEN_NKINDS
};

struct fg_gen_config {
	uint32_t feeds; /* 1..FG_GEN_MAX_FEEDS */
	double noise; /* noise packets per feed packet, >= 0 */
	uint32_t msgs_per_packet; /* 1..FG_GEN_MAX_MPP */
	uint64_t seed;
	uint8_t src_mac[6];
	uint32_t src_ip; /* network byte order */
	uint32_t symbols; /* per feed; 0 = 64 */
	uint32_t max_live_orders; /* per feed; 0 = 10000 */
	uint32_t lines; /* 1 or 2 (A and B); 0 = 1 */
	double loss[FG_GEN_MAX_LINES]; /* per line: share of feed packets not sent on it, 0..1 */
	double loss_both; /* share of feed packets not sent on any line, 0..1 */
	/*
	 * A re-request server keeps every feed packet: one the device refused
	 * or that never left stays generated (fg_gen_unsend() takes back only
	 * its line's send). Set with lines, loss or a server; otherwise an
	 * unsent packet is taken out of the report altogether, as always.
	 */
	bool keep_unsent;
};

/* What fg_gen_next() built. */
struct fg_gen_pkt {
	uint32_t len; /* frame bytes */
	uint8_t kind; /* enum fg_gen_kind */
	uint16_t feed; /* feed index, for FG_GEN_FEED */
	uint16_t count; /* messages */
	uint64_t seq; /* MoldUDP64 sequence number of the first message */
	uint32_t trailer_off; /* offset of the send stamp trailer, 0 for noise */
	uint8_t line; /* the line this frame is built for: 0 = A, 1 = B */
	uint8_t send; /* lines the packet goes out on, bit l = line l (noise: 1); 0 = lost on all */
};

struct fg_gen_feed_stats {
	char session[11]; /* NUL terminated */
	uint32_t group; /* network byte order */
	uint16_t port;
	uint64_t packets;
	uint64_t messages;
	uint64_t bytes; /* frame bytes */
	uint64_t next_seq; /* sequence number of the next message (first was 1) */
	/* Per line (with lines or loss): frames that went out, packets dropped
	 * on purpose (loss, loss_both), frames the sender could not send
	 * (device refused, run stopped; fg_gen_unsend()). For each line,
	 * sent + lost + refused = packets. */
	uint32_t group_b; /* network byte order; 0 with one line */
	uint64_t line_sent[FG_GEN_MAX_LINES];
	uint64_t line_lost[FG_GEN_MAX_LINES];
	uint64_t line_refused[FG_GEN_MAX_LINES];
	/* Packets dropped on purpose on every line, and their messages: the
	 * ones only a re-request server can give back. */
	uint64_t lost_all, lost_all_messages;
	uint64_t heartbeats; /* fg_gen_heartbeat() frames */
};

struct fg_gen;

/* Returns 0 and *out, or -EINVAL (a pr_warn says which), -ENOMEM. */
int fg_gen_new(const struct fg_gen_config *c, struct fg_gen **out);
void fg_gen_free(struct fg_gen *g);

/* Build the next packet of the mix into buf (FG_GEN_MAX_FRAME bytes) and
 * account it as sent; returns its length. */
uint32_t fg_gen_next(struct fg_gen *g, uint8_t *buf, struct fg_gen_pkt *p);

/* Build the next packet of one feed (no noise decision). */
uint32_t fg_gen_next_feed(struct fg_gen *g, unsigned int feed, uint8_t *buf, struct fg_gen_pkt *p);

/* Feed f's group on a line (0 = A, 1 = B), network byte order. */
uint32_t fg_gen_group(unsigned int feed, unsigned int line);

/*
 * Turn a built feed frame into the same packet on another line: group,
 * its MAC, IP checksum and source port; the payload and the trailer stay
 * as they are. Sets p->line. No-op for noise.
 */
void fg_gen_set_line(uint8_t *buf, struct fg_gen_pkt *p, unsigned int line);

/*
 * A MoldUDP64 heartbeat of a feed on a line (count 0, the next sequence
 * number: what a feed sends when it goes quiet, so that a consumer learns
 * of a loss at the end), with the trailer; counted in heartbeats only.
 */
uint32_t fg_gen_heartbeat(struct fg_gen *g, unsigned int feed, unsigned int line, uint8_t *buf,
			  struct fg_gen_pkt *p);

/* Build one noise packet of a kind (FG_GEN_NOISE_*). */
uint32_t fg_gen_next_noise(struct fg_gen *g, unsigned int kind, uint8_t *buf, struct fg_gen_pkt *p);

/*
 * What fg_gen_next() builds next, without building it: 1 and *feed for a
 * packet of that feed, 0 for a noise packet. For senders that pick the
 * buffer by flow before the packet exists (AF_XDP: a UMEM per queue).
 */
int fg_gen_peek(const struct fg_gen *g, unsigned int *feed);

/*
 * Take back the accounting of a frame that was built but will never be
 * sent (end of run, device refused); its sequence numbers are not reused.
 * Without keep_unsent the packet leaves the report (packets, messages);
 * with it, only its send on p->line becomes a refusal.
 */
void fg_gen_unsend(struct fg_gen *g, const struct fg_gen_pkt *p);

/* Account packets sent by another path from a template (XDP live frames):
 * `packets` feed packets of `count` messages and `len` bytes each, or
 * `packets` noise packets of a kind. */
void fg_gen_account_feed(struct fg_gen *g, unsigned int feed, uint64_t packets, uint16_t count,
			 uint32_t len);
void fg_gen_account_noise(struct fg_gen *g, unsigned int kind, uint64_t packets);

const struct fg_gen_config *fg_gen_config(const struct fg_gen *g);
const struct fg_gen_feed_stats *fg_gen_feed(const struct fg_gen *g, unsigned int feed);
/* Noise packets sent, per kind (index FG_GEN_NOISE_*; [FG_GEN_FEED] = 0). */
const uint64_t *fg_gen_noise_counts(const struct fg_gen *g);
const char *fg_gen_kind_name(unsigned int kind);

/* Write the send time into a built feed packet (no-op for noise). */
static inline void fg_gen_stamp(uint8_t *buf, const struct fg_gen_pkt *p, uint64_t ns)
{
	if (p->trailer_off)
		fg_put_be64(buf + p->trailer_off + FG_GEN_TRAILER_OFF_SEND_NS, ns);
}

/*
 * The send stamp of a received frame: 1 and *send_ns when the 16 bytes
 * after its IP datagram are a generator trailer, 0 otherwise (no trailer,
 * not IP, truncated). Bounds-checked; Ethernet with up to two VLAN tags,
 * IPv4 or IPv6.
 */
int fg_gen_trailer_find(const struct fg_frame *f, uint64_t *send_ns, uint32_t *pkt_no);

/*
 * ITCH send stamps, for paths that lose the trailer (UDP sockets deliver the
 * datagram only). `gen --itch-stamps` (always with --tx xdp) writes the send
 * time, CLOCK_MONOTONIC modulo 24 h, into the Timestamp field (ITCH 5.0
 * section 1.3: 6 bytes at offset 5, "nanoseconds since midnight") of every
 * message of a feed packet; `run --itch-stamps` reads the first message's
 * back. Only meaningful between a generator and a consumer on one host.
 */
void fg_gen_stamp_itch(uint8_t *buf, const struct fg_gen_pkt *p, uint64_t ns);
/* 1 and *ts (ns, < 24 h) when f is a UDP MoldUDP64 packet whose first
 * message is long enough to hold a timestamp; 0 otherwise. Bounds-checked. */
int fg_gen_itch_stamp_find(const struct fg_frame *f, uint64_t *ts);
/* now (CLOCK_MONOTONIC) minus an ITCH send stamp, across midnight. */
static inline uint64_t fg_gen_itch_age(uint64_t now, uint64_t ts)
{
	return (now % FG_GEN_NS_PER_DAY + FG_GEN_NS_PER_DAY - ts % FG_GEN_NS_PER_DAY) %
	       FG_GEN_NS_PER_DAY;
}

/* --- transmit paths ----------------------------------------------------------------------- */

/*
 * `gen --tx`: how packets leave an interface. auto takes the first of
 * fg_gen_tx_auto_order[] that works here: AF_XDP first (the same packets as
 * afpacket, 2-3x its rate, no program needed on the receiving side), XDP
 * live frames next (faster still where the kernel allows it, but template
 * frames, and only into a peer with an XDP program), AF_PACKET last (works
 * everywhere).
 */
enum fg_gen_tx {
	FG_GEN_TX_AUTO = 0,
	FG_GEN_TX_AF_XDP,
	FG_GEN_TX_XDP,
	FG_GEN_TX_AFPACKET,
	FG_GEN_TX_N
};

#define FG_GEN_TX_NAMES "af_xdp, xdp, afpacket or auto"
extern const enum fg_gen_tx fg_gen_tx_auto_order[FG_GEN_TX_N - 1];

/* 0 and *tx, or -EINVAL for a name that is not one of FG_GEN_TX_NAMES. */
int fg_gen_tx_parse(const char *s, enum fg_gen_tx *tx);
const char *fg_gen_tx_name(enum fg_gen_tx tx);

/*
 * The transmit queue of a packet when a sender has nq of them and must
 * choose (AF_XDP: a socket per queue): a feed keeps one queue, as RSS keeps
 * a flow on one queue of a NIC (veth delivers queue q to the peer's receive
 * queue q); noise takes the queues in turn (*rr).
 */
static inline uint32_t fg_gen_tx_queue(bool is_feed, unsigned int feed, uint32_t nq, uint32_t *rr)
{
	if (nq <= 1)
		return 0;
	if (is_feed)
		return feed % nq;
	return (*rr)++ % nq;
}

/* --- pacing ------------------------------------------------------------------------------- */

/*
 * Absolute-schedule pacing: packet n is due at a time computed from n alone,
 * so errors never accumulate. fg_pace_wait() sleeps (long gaps) or spins
 * (short ones) until packet `next` is due and returns how many are due now
 * (>= 1, at most max), so a sender that fell behind catches up in bursts.
 *
 * Evenly paced (fg_pace_init): packet n is due at start + n / rate.
 *
 * Bursts (fg_pace_init_burst): a periodic, piecewise-constant rate with
 * the same mean. Every period of P ns starts with a window of B ns at
 * F times the mean rate R; the rest of the period runs at the base rate
 * R (P - F B) / (P - B), so that a period carries R P packets on average,
 * whatever F and B are (F B < P keeps the base rate above 0). A period
 * need not hold a whole number of packets: the schedule is the continuous
 * one, packet n due at the first ns where n packets have gone by, computed
 * from the period index (integer) and the place in the period, so that it
 * stays exact after hours and billions of packets.
 */
struct fg_pacer {
	uint64_t start_ns;
	double ns_per_pkt; /* at the mean rate; 0 = as fast as possible */
	/* bursts; burst_ns == 0: evenly paced */
	uint64_t period_ns, burst_ns;
	double factor;
	double period_pkts; /* packets per period (R P) */
	double burst_pkts; /* packets per burst window (F R B) */
	double ns_per_pkt_burst, ns_per_pkt_base;
	double pkt_per_ns_burst, pkt_per_ns_base;
};

void fg_pace_init(struct fg_pacer *p, double rate, uint64_t start_ns);
/*
 * Mean `rate` pps in bursts of `factor` x rate for burst_ns at the start of
 * every period_ns, from start_ns on. 0, or -EINVAL unless rate > 0,
 * factor >= 1, burst_ns > 0 and factor * burst_ns < period_ns (*p is then
 * left evenly paced at `rate`).
 */
int fg_pace_init_burst(struct fg_pacer *p, double rate, double factor, uint64_t burst_ns,
		       uint64_t period_ns, uint64_t start_ns);
/* The packet rates of a burst schedule (pps): in the burst window and
 * outside it; both the mean rate when evenly paced. */
double fg_pace_burst_rate(const struct fg_pacer *p);
double fg_pace_base_rate(const struct fg_pacer *p);

/* When packet n (0-based) is due: CLOCK_MONOTONIC ns (start_ns + offset). */
uint64_t fg_pace_due_ns(const struct fg_pacer *p, uint64_t n);
/*
 * How many packets are due by `now` (packets 0..count-1), 0 before start.
 * With bursts exactly the inverse of fg_pace_due_ns():
 * due(count - 1) <= now < due(count). Evenly paced it is the formula the
 * pacer always used, which may lag it by one packet at a rounding edge.
 * UINT64_MAX when unpaced.
 */
uint64_t fg_pace_count(const struct fg_pacer *p, uint64_t now);

unsigned int fg_pace_wait(const struct fg_pacer *p, uint64_t next, unsigned int max,
			  const volatile int *stop);
/*
 * The same, but waiting until `min` packets are due and only by sleeping
 * (never spinning): for senders whose unit is a burst (XDP live frames),
 * so that they leave the CPU to a consumer sharing it. Exact on average,
 * bursty at the scale of the timer slack (tens of microseconds).
 */
unsigned int fg_pace_wait_sleep(const struct fg_pacer *p, uint64_t next, unsigned int min,
				unsigned int max, const volatile int *stop);

/*
 * A duration for people: a number and a unit, "500us", "1ms", "0.1s",
 * "250ns" (ns, us, ms, s). 0 and *ns (rounded to the ns, at least 1),
 * -EINVAL for anything else (no unit, junk, <= 0), -ERANGE above an hour.
 */
int fg_gen_parse_duration(const char *s, uint64_t *ns);

/*
 * How far `got` falls short of `want`, as a fraction of want: 0 when it
 * does not (got >= want) or when there is nothing to fall short of
 * (want <= 0 or not a number), 1 when got is 0 or less. gen compares what
 * the device took with what it sent, and the rate reached with --rate.
 */
double fg_gen_shortfall(double want, double got);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns() and of the stamps. */
static inline uint64_t fg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* FG_GEN_H */
