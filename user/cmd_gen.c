// SPDX-License-Identifier: MIT
/*
 * feedgate gen: MoldUDP64/ITCH 5.0 feeds plus noise (user/lib/fg_gen.c
 * builds the packets), paced at --rate packets per second (feed and noise
 * packets alike), to a pcap file or out of an interface:
 *
 *   --tx afpacket  AF_PACKET sendmmsg(), PACKET_QDISC_BYPASS on single-queue
 *                  devices. On a multi-queue device the packets take the
 *                  normal transmit path instead, whose queue choice hashes
 *                  the flow (the bypass would pick the queue of the sending
 *                  CPU), so that feeds spread over the receive queues of a
 *                  veth peer as they would over a NIC's RSS.
 *   --tx xdp       BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a
 *                  template (bpf/fg_gen.bpf.c): millions of packets per
 *                  second; every frame comes out of the same template.
 *
 * --burst F keeps --rate as the mean but sends it in bursts: F times the
 * rate for --burst-len (1ms) at the start of every --burst-every (100ms),
 * slower in between (fg_pace_init_burst()); the pcap timestamps follow
 * the same schedule.
 *
 * The report (stdout) says what was sent per feed and as noise, the rate
 * achieved against the target, and the backpressure met.
 * Exit status: 0 ok, 1 failed, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#define PCAP_DONT_INCLUDE_PCAP_BPF_H /* linux/bpf.h has its own struct bpf_insn */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "feedgate/mold.h"
#include "fg_gen.skel.h"
#include "fg_gen.h"
#include "fg_loader.h"
#include "fg_log.h"

#define EXIT_USAGE 2
#define GEN_USAGE                                                                               \
	"gen [--pcap FILE | --iface IFACE] [--rate PPS] [--count N] [--duration S]\n"           \
	"               [--feeds N] [--noise RATIO] [--messages-per-packet N] [--seed S]\n"     \
	"               [--tx afpacket|xdp] [--itch-stamps] [--burst FACTOR [--burst-len DUR] " \
	"[--burst-every "                                                                       \
	"DUR]]"

const char cmd_gen_usage[] = GEN_USAGE;

#define GEN_BURST 64
#define GEN_DEFAULT_RATE 10000
#define GEN_PCAP_DEFAULT_COUNT 1000
/* Workload (e) of issue 5: bursts of 10x the mean rate for 1 ms every 100 ms. */
#define GEN_BURST_LEN_NS 1000000ull
#define GEN_BURST_EVERY_NS 100000000ull
/* BPF_PROG_RUN live frames: frames per syscall when unpaced. */
#define GEN_XDP_CHUNK 256
#define GEN_XDP_MAX_PAIRS 16
#define GEN_XDP_MAX_FEEDS 64

struct gen_cfg {
	const char *pcap;
	const char *iface;
	const char *tx;
	double rate; /* 0 = as fast as the path goes */
	uint64_t count;
	double duration;
	uint32_t feeds;
	double noise;
	uint32_t mpp;
	uint64_t seed;
	bool xdp;
	bool itch_stamps; /* ITCH timestamps = send time (always with --tx xdp) */
	double burst; /* factor; 0 = evenly paced */
	uint64_t burst_len_ns, burst_every_ns;
	const char *burst_len_arg, *burst_every_arg; /* as given, NULL = default */
};

static volatile int gen_stop;

static void gen_on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

struct gen_result {
	uint64_t sent; /* packets accepted by the output */
	uint64_t bytes;
	uint64_t first_ns, last_ns;
	uint64_t waits; /* times the output pushed back (ENOBUFS, EAGAIN) */
	uint64_t retried; /* packets sent again after a push back */
	uint64_t tx_errors; /* XDP: frames the device refused (peer ring full) */
	bool bypass;
	uint32_t txqs;
};

/* --- options ------------------------------------------------------------------------------ */

static int gen_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo) || d > hi) {
		pr_warn("gen: %s '%s': want a number from %g to %g\n", opt, v, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

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

static int gen_parse(int argc, char **argv, struct gen_cfg *c)
{
	double d = 0; /* stays whole when gen_num() refuses: one message only */

	memset(c, 0, sizeof(*c));
	c->rate = GEN_DEFAULT_RATE;
	c->feeds = 1;
	c->mpp = 4;
	c->seed = 1;
	c->tx = "afpacket";
	c->burst_len_ns = GEN_BURST_LEN_NS;
	c->burst_every_ns = GEN_BURST_EVERY_NS;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t len = strcspn(a, "=");

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: feedgate %s\n", GEN_USAGE);
			return 1;
		}
		if (!strcmp(a, "--itch-stamps")) {
			c->itch_stamps = true;
			continue;
		}
#define GEN_OPT(name) (len == strlen(name) && !strncmp(a, name, len))
		if (!(GEN_OPT("--pcap") || GEN_OPT("--iface") || GEN_OPT("--rate") ||
		      GEN_OPT("--count") || GEN_OPT("--duration") || GEN_OPT("--feeds") ||
		      GEN_OPT("--noise") || GEN_OPT("--messages-per-packet") || GEN_OPT("--seed") ||
		      GEN_OPT("--tx") || GEN_OPT("--burst") || GEN_OPT("--burst-len") ||
		      GEN_OPT("--burst-every"))) {
			if (a[0] == '-')
				pr_warn("gen: unknown option '%.*s' (usage: feedgate %s)\n",
					(int)len, a, GEN_USAGE);
			else
				pr_warn("gen: unexpected argument '%s' (usage: feedgate %s)\n", a,
					GEN_USAGE);
			return -1;
		}
		if (a[len] == '=')
			v = a + len + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		if (!v) {
			pr_warn("gen: %.*s needs a value (usage: feedgate %s)\n", (int)len, a,
				GEN_USAGE);
			return -1;
		}
		if (GEN_OPT("--pcap")) {
			c->pcap = v;
		} else if (GEN_OPT("--iface")) {
			c->iface = v;
		} else if (GEN_OPT("--tx")) {
			if (strcmp(v, "afpacket") && strcmp(v, "xdp")) {
				pr_warn("gen: --tx '%s': use afpacket or xdp\n", v);
				return -1;
			}
			c->tx = v;
			c->xdp = !strcmp(v, "xdp");
		} else if (GEN_OPT("--rate")) {
			if (gen_num("--rate", v, 0, 1e8, &c->rate))
				return -1;
		} else if (GEN_OPT("--count")) {
			if (gen_num("--count", v, 1, 1e15, &d))
				return -1;
			c->count = (uint64_t)d;
		} else if (GEN_OPT("--duration")) {
			if (gen_num("--duration", v, 0.001, 1e7, &c->duration))
				return -1;
		} else if (GEN_OPT("--feeds")) {
			if (gen_num("--feeds", v, 1, FG_GEN_MAX_FEEDS, &d) || d != floor(d)) {
				if (d != floor(d))
					pr_warn("gen: --feeds '%s': want a whole number\n", v);
				return -1;
			}
			c->feeds = (uint32_t)d;
		} else if (GEN_OPT("--noise")) {
			if (gen_num("--noise", v, 0, 1000, &c->noise))
				return -1;
		} else if (GEN_OPT("--messages-per-packet")) {
			if (gen_num("--messages-per-packet", v, 1, FG_GEN_MAX_MPP, &d) ||
			    d != floor(d)) {
				if (d != floor(d))
					pr_warn("gen: --messages-per-packet '%s': want a whole "
						"number\n",
						v);
				return -1;
			}
			c->mpp = (uint32_t)d;
		} else if (GEN_OPT("--burst")) {
			if (gen_num("--burst", v, 0, 1e6, &c->burst))
				return -1;
			if (!(c->burst > 1)) {
				pr_warn("gen: --burst '%s': want a factor above 1 (burst rate over "
					"the mean --rate)\n",
					v);
				return -1;
			}
		} else if (GEN_OPT("--burst-len") || GEN_OPT("--burst-every")) {
			bool is_len = GEN_OPT("--burst-len");
			int err = fg_gen_parse_duration(v, is_len ? &c->burst_len_ns
								  : &c->burst_every_ns);

			if (err) {
				pr_warn("gen: %s '%s': want a duration like 500us, 1ms or 0.1s%s\n",
					is_len ? "--burst-len" : "--burst-every", v,
					err == -ERANGE ? " (at most an hour)" : "");
				return -1;
			}
			if (is_len)
				c->burst_len_arg = v;
			else
				c->burst_every_arg = v;
		} else if (GEN_OPT("--seed")) {
			char *end;

			errno = 0;
			c->seed = strtoull(v, &end, 0);
			if (errno || end == v || *end) {
				pr_warn("gen: --seed '%s': want a whole number\n", v);
				return -1;
			}
		}
#undef GEN_OPT
	}
	if (!!c->pcap == !!c->iface) {
		pr_warn("gen: give exactly one of --pcap FILE and --iface IFACE (usage: feedgate "
			"%s)\n",
			GEN_USAGE);
		return -1;
	}
	if (c->xdp && c->pcap) {
		pr_warn("gen: --tx xdp sends on an interface; it does not go with --pcap\n");
		return -1;
	}
	if (c->pcap && !(c->rate > 0)) {
		pr_warn("gen: --pcap needs a --rate above 0 (it sets the capture timestamps)\n");
		return -1;
	}
	if (c->xdp && c->mpp > 2 * GEN_XDP_MAX_PAIRS) {
		pr_warn("gen: --tx xdp: at most %u messages per packet\n", 2 * GEN_XDP_MAX_PAIRS);
		return -1;
	}
	if ((c->burst_len_arg || c->burst_every_arg) && !(c->burst > 0)) {
		pr_warn("gen: %s needs --burst FACTOR\n",
			c->burst_len_arg ? "--burst-len" : "--burst-every");
		return -1;
	}
	if (c->burst > 0) {
		struct fg_pacer p;

		if (!(c->rate > 0)) {
			pr_warn("gen: --burst needs a --rate above 0 (the mean rate the bursts "
				"keep)\n");
			return -1;
		}
		/* the base rate, rate (P - F B) / (P - B), must stay above 0 */
		if (!(c->burst * (double)c->burst_len_ns < (double)c->burst_every_ns)) {
			char len[32], every[32];

			gen_fmt_dur(c->burst_len_ns, len, sizeof(len));
			gen_fmt_dur(c->burst_every_ns, every, sizeof(every));
			pr_warn("gen: --burst %g x --burst-len %s is not below --burst-every %s: "
				"bursts that long would carry more than the mean rate\n",
				c->burst, c->burst_len_arg ? c->burst_len_arg : len,
				c->burst_every_arg ? c->burst_every_arg : every);
			return -1;
		}
		if (fg_pace_init_burst(&p, c->rate, c->burst, c->burst_len_ns, c->burst_every_ns,
				       0)) {
			pr_warn("gen: --burst %g with --rate %g: the rate between bursts is too "
				"small\n",
				c->burst, c->rate);
			return -1;
		}
	}
	if (c->duration > 0 && !c->count && c->pcap)
		c->count = (uint64_t)llround(c->duration * c->rate);
	if (!c->count && !(c->duration > 0) && c->pcap)
		c->count = GEN_PCAP_DEFAULT_COUNT;
	return 0;
}

/* --- interface facts ------------------------------------------------------------------------ */

static int iface_info(const char *ifname, uint8_t mac[6], uint32_t *ip, uint32_t *txqs)
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

/* The schedule of every output: --rate, evenly or in --burst bursts
 * (checked by gen_parse()). */
static void gen_pacer_init(const struct gen_cfg *c, struct fg_pacer *p, uint64_t start)
{
	if (!(c->burst > 0) ||
	    fg_pace_init_burst(p, c->rate, c->burst, c->burst_len_ns, c->burst_every_ns, start))
		fg_pace_init(p, c->rate, start);
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

static int gen_pcap(const struct gen_cfg *c, struct fg_gen *g, struct gen_result *res)
{
	static uint8_t buf[FG_GEN_MAX_FRAME];
	pcap_t *pd = pcap_open_dead_with_tstamp_precision(1 /* DLT_EN10MB */, 65535,
							  PCAP_TSTAMP_PRECISION_NANO);
	struct timespec real;
	struct fg_pacer pacer;
	pcap_dumper_t *d;
	uint64_t mono0 = fg_now_ns(), real0;

	if (!pd) {
		pr_warn("gen: Couldn't set up libpcap\n");
		return -ENOMEM;
	}
	d = pcap_dump_open(pd, c->pcap);
	if (!d) {
		pr_warn("gen: --pcap '%s': %s\n", c->pcap, pcap_geterr(pd));
		pcap_close(pd);
		return -EIO;
	}
	clock_gettime(CLOCK_REALTIME, &real);
	real0 = (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec;
	/* Time in the file is the schedule itself: packet i at i / rate, or
	 * where the burst schedule puts it. */
	gen_pacer_init(c, &pacer, 0);
	for (uint64_t i = 0; i < c->count && !gen_stop; i++) {
		uint64_t off = c->burst > 0 ? fg_pace_due_ns(&pacer, i)
					    : (uint64_t)llround((double)i * 1e9 / c->rate);
		struct fg_gen_pkt p;
		struct pcap_pkthdr h;
		uint32_t len = fg_gen_next(g, buf, &p);

		fg_gen_stamp(buf, &p, mono0 + off);
		if (c->itch_stamps)
			fg_gen_stamp_itch(buf, &p, mono0 + off);
		h.ts.tv_sec = (time_t)((real0 + off) / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)((real0 + off) % 1000000000ull);
		h.caplen = h.len = len;
		pcap_dump((u_char *)d, &h, buf);
		res->sent++;
		res->bytes += len;
		if (!i)
			res->first_ns = mono0 + off;
		res->last_ns = mono0 + off;
	}
	if (pcap_dump_flush(d)) {
		pr_warn("gen: --pcap '%s': write failed\n", c->pcap);
		pcap_dump_close(d);
		pcap_close(pd);
		return -EIO;
	}
	pcap_dump_close(d);
	pcap_close(pd);
	return 0;
}

/* --- AF_PACKET ----------------------------------------------------------------------------- */

static int gen_afpacket(const struct gen_cfg *c, struct fg_gen *g, int ifindex,
			struct gen_result *res)
{
	static uint8_t bufs[GEN_BURST][FG_GEN_MAX_FRAME];
	struct fg_gen_pkt pk[GEN_BURST];
	struct mmsghdr msgs[GEN_BURST];
	struct iovec iov[GEN_BURST];
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
	while (!gen_done(c, res->sent, start, fg_now_ns()) || pending) {
		unsigned int want, i;
		uint64_t now;
		int n;

		if (!pending) {
			want = fg_pace_wait(&pacer, res->sent, GEN_BURST, &gen_stop);
			if (gen_stop)
				break;
			if (c->count && want > c->count - res->sent)
				want = (unsigned int)(c->count - res->sent);
			for (i = 0; i < want; i++) {
				iov[i].iov_base = bufs[i];
				iov[i].iov_len = fg_gen_next(g, bufs[i], &pk[i]);
				memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			pending = want;
			head = 0;
		}
		now = fg_now_ns();
		for (i = head; i < head + pending; i++) {
			fg_gen_stamp(bufs[i], &pk[i], now);
			if (c->itch_stamps)
				fg_gen_stamp_itch(bufs[i], &pk[i], now);
		}
		n = sendmmsg(fd, &msgs[head], pending, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				/* The device (veth: its peer's ring) is full:
				 * give the receive side a moment. */
				struct timespec ts = { 0, 20000 };

				res->waits++;
				res->retried += pending;
				nanosleep(&ts, NULL);
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

static int gen_xdp(const struct gen_cfg *c, struct fg_gen *g, int ifindex, struct gen_result *res)
{
	static uint8_t feed_tpl[FG_GEN_MAX_FRAME], noise_tpl[FG_GEN_NKINDS][FG_GEN_MAX_FRAME];
	uint32_t noise_len[FG_GEN_NKINDS] = { 0 };
	struct fg_gen_bpf *skel;
	struct bpf_link *lo_link = NULL;
	struct fg_gen_pkt np;
	struct fg_pacer pacer;
	/* whole A/D pairs: an odd --messages-per-packet is rounded up */
	uint32_t npairs = (c->mpp + 1) / 2, count = 2 * npairs, feed_len;
	uint64_t start, err0, noise_sent[FG_GEN_NKINDS] = { 0 };
	double noise_acc = 0;
	uint8_t *q;
	int prog_fd, ret = 0;
	unsigned int nk = 0, burst;

	if (c->feeds > GEN_XDP_MAX_FEEDS) {
		pr_warn("gen: --tx xdp: at most %u feeds\n", GEN_XDP_MAX_FEEDS);
		return -EINVAL;
	}
	skel = fg_gen_bpf__open();
	if (!skel) {
		pr_warn("gen: Couldn't open the generator's XDP program: %s\n", strerror(errno));
		return -errno;
	}
	/* The template: a feed 0 packet of A/D pairs; the program rewrites the
	 * per-feed fields (the IP checksum from the table below). */
	q = feed_tpl + FG_GEN_OFF_MOLD + FG_MOLD_HEADER_LEN;
	for (uint32_t i = 0; i < npairs; i++)
		q = xdp_put_pair(q, (uint16_t)(1 + i % 8), "FGATE   ", 1000000 + 100 * i,
				 i & 1 ? 'S' : 'B');
	{
		const struct fg_gen_feed_stats *f0 = fg_gen_feed(g, 0);
		uint16_t udp_len = (uint16_t)(q - (feed_tpl + FG_GEN_OFF_UDP));
		uint8_t *ip = feed_tpl + FG_GEN_OFF_IP;
		const struct fg_gen_config *gc = fg_gen_config(g);

		fg_mold_write_header(feed_tpl + FG_GEN_OFF_MOLD, f0->session, 1, (uint16_t)count);
		feed_tpl[0] = 0x01;
		memcpy(feed_tpl + 6, gc->src_mac, 6);
		fg_put_be16(feed_tpl + 12, 0x0800);
		ip[0] = 0x45;
		fg_put_be16(ip + 2, (uint16_t)(udp_len + 20));
		fg_put_be16(ip + 6, 0x4000);
		ip[8] = 32;
		ip[9] = 17;
		memcpy(ip + 12, &gc->src_ip, 4);
		fg_put_be16(feed_tpl + FG_GEN_OFF_UDP + 4, udp_len);
		fg_put_be64(q, 0);
		fg_put_be32(q + 8, 0);
		fg_put_be32(q + 12, FG_GEN_TRAILER_MAGIC);
		feed_len = (uint32_t)(q + FG_GEN_TRAILER_LEN - feed_tpl);
		skel->rodata->trailer_off = (uint32_t)(q - feed_tpl);
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
	}
	skel->rodata->tx_ifindex = (uint32_t)ifindex;
	skel->rodata->nfeeds = c->feeds;
	skel->rodata->npairs = npairs;
	skel->rodata->msg_count = (uint16_t)count;
	if (fg_gen_bpf__load(skel)) {
		ret = -errno;
		pr_warn("gen: Couldn't load the generator's XDP program: %s\n", strerror(errno));
		goto out;
	}
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++) {
		noise_len[k] = fg_gen_next_noise(g, k, noise_tpl[k], &np);
		fg_gen_unsend(g, &np);
	}
	prog_fd = bpf_program__fd(skel->progs.fg_gen_xdp);
	/* Every BPF_PROG_RUN of an XDP program puts it into the kernel's XDP
	 * dispatcher and takes it out again, a text patch and an RCU grace
	 * period each time (tens of ms), unless the program is attached to a
	 * device already. So attach it to lo through a link (gone with this
	 * process); it passes everything that is not one of its own runs. */
	lo_link = bpf_program__attach_xdp(skel->progs.fg_gen_xdp, (int)if_nametoindex("lo"));
	if (!lo_link || libbpf_get_error(lo_link)) {
		lo_link = NULL;
		pr_info("gen: Couldn't keep the program in the XDP dispatcher (lo busy?): every "
			"BPF_PROG_RUN costs a grace period, rates will be low\n");
	}
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
			opts.data_in = noise_tpl[kind];
			opts.data_size_in = noise_len[kind];
		} else {
			noise_acc += c->noise * want;
			skel->bss->passthrough = 0;
			opts.data_in = feed_tpl;
			opts.data_size_in = feed_len;
		}
		ctx.data_end = opts.data_size_in; /* the kernel wants the frame's extent */
		opts.repeat = want;
		now = fg_now_ns();
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
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
	res->tx_errors = xdp_tx_errors(c->iface) - err0;
	if (res->sent && res->tx_errors >= res->sent)
		pr_warn("gen: %s refused every frame: its peer needs an XDP program (feedgate "
			"attach on the receiving side)\n",
			c->iface);
	/* The program's own counts are the truth for feeds and sequence numbers. */
	for (uint32_t f = 0; f < c->feeds; f++)
		fg_gen_account_feed(g, f, skel->bss->feed_packets[f], (uint16_t)count, feed_len);
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		fg_gen_account_noise(g, k, noise_sent[k]);
	if (skel->bss->bad_template)
		pr_warn("gen: %llu template frames dropped by the program (bug)\n",
			(unsigned long long)skel->bss->bad_template);
out:
	bpf_link__destroy(lo_link);
	fg_gen_bpf__destroy(skel);
	return ret;
}

/* --- report ----------------------------------------------------------------------------- */

static void gen_report(const struct gen_cfg *c, struct fg_gen *g, const struct gen_result *res)
{
	const uint64_t *nc = fg_gen_noise_counts(g);
	uint64_t feed_pk = 0, noise_pk = 0;
	double secs =
		res->last_ns > res->first_ns ? (double)(res->last_ns - res->first_ns) / 1e9 : 0;
	/* the rate over the n-1 gaps between the first and the last send */
	double rate = secs > 0 && res->sent > 1 ? (double)(res->sent - 1) / secs : 0;

	printf("gen: %s%s%s, %u feed%s, %u messages/packet, noise %g per feed packet, seed %llu\n",
	       c->pcap ? "pcap " : (c->xdp ? "xdp live frames on " : "afpacket on "),
	       c->pcap ? c->pcap : c->iface,
	       c->pcap || c->xdp ? ""
				 : (res->bypass ? " (qdisc bypass)"
						: " (qdisc path: flows hashed over the tx queues)"),
	       c->feeds, c->feeds == 1 ? "" : "s", c->xdp ? (c->mpp + 1) / 2 * 2 : c->mpp, c->noise,
	       (unsigned long long)c->seed);
	for (uint32_t f = 0; f < c->feeds; f++) {
		const struct fg_gen_feed_stats *fs = fg_gen_feed(g, f);
		char grp[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &fs->group, grp, sizeof(grp));
		printf("feed %u %s:%u session %s packets %llu messages %llu seq 1-%llu\n", f + 1,
		       grp, fs->port, fs->session, (unsigned long long)fs->packets,
		       (unsigned long long)fs->messages, (unsigned long long)(fs->next_seq - 1));
		feed_pk += fs->packets;
	}
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		noise_pk += nc[k];
	printf("noise packets %llu:", (unsigned long long)noise_pk);
	for (unsigned int k = FG_GEN_NOISE_UDP_PORT; k < FG_GEN_NKINDS; k++)
		if (!c->xdp || nc[k])
			printf(" %s %llu", fg_gen_kind_name(k), (unsigned long long)nc[k]);
	if (c->xdp)
		printf(" (kinds in turn, chunk by chunk)");
	printf("\n");
	printf("sent %llu packets (%llu feed, %llu noise), %llu bytes in %.3f s: %.0f pps",
	       (unsigned long long)res->sent, (unsigned long long)feed_pk,
	       (unsigned long long)noise_pk, (unsigned long long)res->bytes, secs, rate);
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
	fflush(stdout);
}

int do_gen(int argc, char **argv)
{
	struct gen_cfg c;
	struct fg_gen_config gc = { 0 };
	struct gen_result res = { 0 };
	struct sigaction sa = { .sa_handler = gen_on_signal };
	struct fg_gen *g = NULL;
	int ret, ifindex = 0;

	ret = gen_parse(argc, argv, &c);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	gc.feeds = c.feeds;
	gc.noise = c.noise;
	gc.msgs_per_packet = c.mpp;
	gc.seed = c.seed;
	if (c.iface) {
		if (fg_require_root("gen"))
			return 1;
		ifindex = (int)if_nametoindex(c.iface);
		if (!ifindex) {
			pr_warn("%s: no such interface\n", c.iface);
			return 1;
		}
		ret = iface_info(c.iface, gc.src_mac, &gc.src_ip, &res.txqs);
		if (ret) {
			pr_warn("gen: %s: Couldn't read the interface address: %s\n", c.iface,
				strerror(-ret));
			return 1;
		}
	} else {
		static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

		memcpy(gc.src_mac, mac, 6);
		gc.src_ip = htonl(0x0a000001);
	}
	if (fg_gen_new(&gc, &g))
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (c.pcap)
		ret = gen_pcap(&c, g, &res);
	else if (c.xdp)
		ret = gen_xdp(&c, g, ifindex, &res);
	else
		ret = gen_afpacket(&c, g, ifindex, &res);
	if (!ret || res.sent)
		gen_report(&c, g, &res);
	fg_gen_free(g);
	return ret ? 1 : 0;
}
