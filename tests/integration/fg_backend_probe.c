// SPDX-License-Identifier: MIT
/*
 * fg_backend_probe: the driver of tests/integration/test_backends_veth.sh.
 * Opens a capture backend (fg_backend.h) on an interface, runs its
 * threads with a counting sink until the expected number of packets has
 * come (plus a settle time that lets extra packets show up) or a timeout,
 * and prints one JSON object: the backend's settings and kernel counters,
 * latency percentiles, and per destination flow what arrived:
 *
 *   packets, bytes, messages   UDP datagrams, payload bytes, MoldUDP64 messages
 *   hash                       sum of FNV-1a 64 of every UDP payload (order-free)
 *   seq_first/last/missing/dups  over the MoldUDP64 message numbers seen
 *
 * With --pcap FILE it runs the frames of a capture through the same sink
 * instead (only those addressed to a --feed), which gives the figures a
 * backend must reproduce exactly for the same generated stream.
 *
 * --slow US makes the sink sleep that long per batch, and --start-delay MS
 * starts the threads that long after the sockets are ready, so that the
 * kernel has to drop (and count) what does not fit.
 *
 * --sink pipeline hands the frames to the market-data pipeline instead and
 * prints its summaries (the flows are still counted first). --closed FILE
 * keeps the process alive after the backend is closed (see linger()).
 *
 * Errors: one line on stderr, exit 1 (2 for usage).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>

#include "fg_backend.h"
#include "feedgate/capfile.h"
#include "feedgate/mold.h"
#include "feedgate/pipeline.h"
#include "fg_gen.h"
#include "fg_hist.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_net.h"
#include "fg_rule.h"
#include "fg_hist.h"

#define MAX_FLOWS 64
#define MAX_SEQ (1u << 22) /* message numbers tracked per flow */

struct flow {
	uint8_t family;
	uint8_t dst[16];
	uint16_t port;
	uint64_t packets, bytes, messages, heartbeats, not_mold, seq_dups, seq_out_of_range;
	uint64_t hash;
	uint8_t *seen; /* MAX_SEQ bits, message numbers 1..MAX_SEQ */
};

struct counter {
	struct flow flows[MAX_FLOWS];
	unsigned int nflows;
	uint64_t net[FG_NET_NKINDS]; /* [FG_NET_UDP] unused */
	uint64_t flow_overflow;
	uint64_t not_feed; /* pcap mode: frames to no --feed */
	const struct fg_backend_feed *feeds; /* pcap mode filter, else NULL */
	unsigned int nfeeds;
	struct fg_pipeline *pipe;
	unsigned int slow_us; /* --slow: a sink this slow per batch makes the kernel drop */
};

static uint64_t fnv1a(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool feed_match(const struct counter *c, const struct fg_flow *fl)
{
	static const uint8_t zero[16];

	for (unsigned int i = 0; i < c->nfeeds; i++) {
		const struct fg_backend_feed *f = &c->feeds[i];
		unsigned int alen = f->family == AF_INET ? 4 : 16;

		if (f->family == fl->family && f->port == fl->dport &&
		    (!memcmp(f->addr, zero, alen) || !memcmp(f->addr, fl->dst, alen)))
			return true;
	}
	return false;
}

static struct flow *flow_get(struct counter *c, const struct fg_flow *fl)
{
	for (unsigned int i = 0; i < c->nflows; i++) {
		struct flow *f = &c->flows[i];

		if (f->family == fl->family && f->port == fl->dport && !memcmp(f->dst, fl->dst, 16))
			return f;
	}
	if (c->nflows == MAX_FLOWS)
		return NULL;
	c->flows[c->nflows].family = fl->family;
	memcpy(c->flows[c->nflows].dst, fl->dst, 16);
	c->flows[c->nflows].port = fl->dport;
	return &c->flows[c->nflows++];
}

static void count_frame(struct counter *c, const struct fg_frame *fr)
{
	struct fg_mold_packet pkt;
	struct fg_flow fl;
	const uint8_t *payload;
	uint32_t plen;
	struct flow *f;
	int kind, bad;

	kind = fg_net_parse(fr, &fl, &payload, &plen);
	if (kind != FG_NET_UDP) {
		c->net[kind]++;
		return;
	}
	if (c->feeds && !feed_match(c, &fl)) {
		c->not_feed++;
		return;
	}
	f = flow_get(c, &fl);
	if (!f) {
		c->flow_overflow++;
		return;
	}
	f->packets++;
	f->bytes += plen;
	f->hash += fnv1a(payload, plen);
	if (fg_mold_parse(payload, plen, &pkt, &bad)) {
		f->not_mold++;
		return;
	}
	if (pkt.h.count == FG_MOLD_HEARTBEAT || pkt.h.count == FG_MOLD_END_OF_SESSION) {
		f->heartbeats++;
		return;
	}
	f->messages += pkt.h.count;
	if (!f->seen) {
		f->seen = calloc(MAX_SEQ / 8, 1);
		if (!f->seen) {
			f->seq_out_of_range += pkt.h.count;
			return;
		}
	}
	for (uint64_t s = pkt.h.seq; s < pkt.h.seq + pkt.h.count; s++) {
		if (s < 1 || s > MAX_SEQ) {
			f->seq_out_of_range++;
		} else if (f->seen[(s - 1) / 8] & (1u << ((s - 1) % 8))) {
			f->seq_dups++;
		} else {
			f->seen[(s - 1) / 8] |= (uint8_t)(1u << ((s - 1) % 8));
		}
	}
}

static void count_batch(void *ctx, const struct fg_frame *frames, unsigned int n)
{
	struct counter *c = ctx;

	for (unsigned int i = 0; i < n; i++)
		count_frame(c, &frames[i]);
	if (c->pipe)
		fg_pipeline_frames(c->pipe, frames, n);
	if (c->slow_us)
		usleep(c->slow_us);
}

static void count_idle(void *ctx, uint64_t now_ns)
{
	struct counter *c = ctx;

	if (c->pipe)
		fg_pipeline_idle(c->pipe, now_ns);
}

/* dst += src, flow by flow (message numbers seen by both are duplicates). */
static void counter_merge(struct counter *dst, const struct counter *src)
{
	for (unsigned int k = 0; k < FG_NET_NKINDS; k++)
		dst->net[k] += src->net[k];
	dst->flow_overflow += src->flow_overflow;
	dst->not_feed += src->not_feed;
	for (unsigned int i = 0; i < src->nflows; i++) {
		const struct flow *s = &src->flows[i];
		struct fg_flow key = { .family = s->family, .dport = s->port };
		struct flow *d;

		memcpy(key.dst, s->dst, 16);
		d = flow_get(dst, &key);
		if (!d) {
			dst->flow_overflow += s->packets;
			continue;
		}
		d->packets += s->packets;
		d->bytes += s->bytes;
		d->messages += s->messages;
		d->heartbeats += s->heartbeats;
		d->not_mold += s->not_mold;
		d->seq_dups += s->seq_dups;
		d->seq_out_of_range += s->seq_out_of_range;
		d->hash += s->hash;
		if (!s->seen)
			continue;
		if (!d->seen) {
			d->seen = calloc(MAX_SEQ / 8, 1);
			if (!d->seen)
				continue;
		}
		for (uint32_t b = 0; b < MAX_SEQ / 8; b++) {
			d->seq_dups += (uint64_t)__builtin_popcount(d->seen[b] & s->seen[b]);
			d->seen[b] |= s->seen[b];
		}
	}
}

static void counter_json(const struct counter *c, FILE *f)
{
	fprintf(f, "\"flows\":[");
	for (unsigned int i = 0; i < c->nflows; i++) {
		const struct flow *fl = &c->flows[i];
		uint64_t first = 0, last = 0, have = 0;
		struct fg_flow key = { .family = fl->family, .dport = fl->port };
		char dst[80];

		memcpy(key.dst, fl->dst, 16);
		fg_net_format_dst(&key, dst, sizeof(dst));
		for (uint32_t b = 0; fl->seen && b < MAX_SEQ / 8; b++) {
			if (!fl->seen[b])
				continue;
			for (unsigned int bit = 0; bit < 8; bit++) {
				if (!(fl->seen[b] & (1u << bit)))
					continue;
				last = (uint64_t)b * 8 + bit + 1;
				if (!first)
					first = last;
				have++;
			}
		}
		fprintf(f,
			"%s{\"dst\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"messages\":%llu,"
			"\"heartbeats\":%llu,\"not_mold\":%llu,\"hash\":\"%016llx\",\"seq_first\":%"
			"llu,"
			"\"seq_last\":%llu,\"seq_missing\":%llu,\"seq_dups\":%llu,"
			"\"seq_out_of_range\":%llu}",
			i ? "," : "", dst, (unsigned long long)fl->packets,
			(unsigned long long)fl->bytes, (unsigned long long)fl->messages,
			(unsigned long long)fl->heartbeats, (unsigned long long)fl->not_mold,
			(unsigned long long)fl->hash, (unsigned long long)first,
			(unsigned long long)last,
			(unsigned long long)(have ? last - first + 1 - have : 0),
			(unsigned long long)fl->seq_dups, (unsigned long long)fl->seq_out_of_range);
	}
	fprintf(f, "],\"non_udp\":{");
	for (int k = 1; k < FG_NET_NKINDS; k++)
		fprintf(f, "%s\"%s\":%llu", k > 1 ? "," : "", fg_net_kind_name(k),
			(unsigned long long)c->net[k]);
	fprintf(f, "},\"flow_overflow\":%llu", (unsigned long long)c->flow_overflow);
}

static void json_hist(FILE *f, const char *name, const struct fg_hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%llu", name, (unsigned long long)h->count);
	if (h->count)
		fprintf(f, ",\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu",
			(unsigned long long)fg_hist_percentile(h, 50),
			(unsigned long long)fg_hist_percentile(h, 90),
			(unsigned long long)fg_hist_percentile(h, 99),
			(unsigned long long)fg_hist_percentile(h, 99.9),
			(unsigned long long)h->max);
	fputc('}', f);
}

/* --- options ----------------------------------------------------------------------------------- */

struct probe_cfg {
	const char *backend, *iface, *pcap, *ready, *closed, *sink;
	struct fg_backend_opts o;
	struct fg_backend_feed feeds[FG_BACKEND_MAX_FEEDS];
	unsigned int nfeeds;
	int cpus[FG_BACKEND_MAX_THREADS]; /* --cpus: thread i on cpus[i % ncpus] */
	unsigned int ncpus;
	bool rules;
	unsigned int slow_us;
	double start_delay_ms;
	uint64_t expect;
	double timeout, settle_ms;
};

#define USAGE                                                                                  \
	"usage: fg_backend_probe --backend af_packet|io_uring|socket --iface IF\n"             \
	"         [--feed GROUP:PORT]... [--rules] [--threads N] [--batch N] [--spin]\n"       \
	"         [--fanout hash|cpu] [--block-size B] [--block-count N] [--frame-size B]\n"   \
	"         [--retire-ms MS] [--rcvbuf B] [--buf-size B] [--ring-buffers N]\n"           \
	"         [--no-timestamps] [--expect N] [--timeout S] [--settle MS] [--ready FILE]\n" \
	"         [--sink count|pipeline] [--closed FILE] [--cpus LIST] [--slow US]\n"         \
	"         [--start-delay MS]\n"                                                        \
	"   or: fg_backend_probe --pcap FILE --feed GROUP:PORT...\n"

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end || *out < lo || *out > hi) {
		pr_warn("probe: %s '%s': want a number from %g to %g\n", opt, v, lo, hi);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct probe_cfg *c)
{
	c->timeout = 10;
	c->settle_ms = 300;
	c->sink = "count";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;
		char err[FG_ERR_LEN];

		if (!strcmp(a, "--spin")) {
			c->o.spin = true;
			continue;
		}
		if (!strcmp(a, "--rules")) {
			c->rules = true;
			continue;
		}
		if (!strcmp(a, "--no-timestamps")) {
			c->o.no_timestamps = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(USAGE, stdout);
			exit(0);
		}
		if (!v) {
			pr_warn("probe: %s: unknown or missing its value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--backend")) {
			c->backend = v;
		} else if (!strcmp(a, "--iface")) {
			c->iface = v;
		} else if (!strcmp(a, "--pcap")) {
			c->pcap = v;
		} else if (!strcmp(a, "--ready")) {
			c->ready = v;
		} else if (!strcmp(a, "--closed")) {
			c->closed = v;
		} else if (!strcmp(a, "--sink")) {
			c->sink = v;
		} else if (!strcmp(a, "--feed")) {
			if (c->nfeeds == FG_BACKEND_MAX_FEEDS) {
				pr_warn("probe: too many feeds\n");
				return -1;
			}
			if (fg_backend_feed_parse(v, &c->feeds[c->nfeeds], err, sizeof(err))) {
				pr_warn("probe: --feed '%s': %s\n", v, err);
				return -1;
			}
			c->nfeeds++;
		} else if (!strcmp(a, "--cpus")) {
			char *end;
			const char *q = v;

			c->ncpus = 0;
			while (*q && c->ncpus < FG_BACKEND_MAX_THREADS) {
				long cpu = strtol(q, &end, 10);

				if (end == q || cpu < 0 || cpu > 4095 || (*end && *end != ',')) {
					pr_warn("probe: --cpus '%s': want a list like 0,1\n", v);
					return -1;
				}
				c->cpus[c->ncpus++] = (int)cpu;
				q = *end ? end + 1 : end;
			}
		} else if (!strcmp(a, "--fanout")) {
			if (fg_fanout_parse(v, &c->o.fanout)) {
				pr_warn("probe: --fanout '%s': use hash or cpu\n", v);
				return -1;
			}
		} else if (!strcmp(a, "--threads")) {
			if (num(a, v, 1, FG_BACKEND_MAX_THREADS, &d))
				return -1;
			c->o.threads = (unsigned int)d;
		} else if (!strcmp(a, "--batch")) {
			if (num(a, v, 1, FG_BACKEND_MAX_BATCH, &d))
				return -1;
			c->o.batch = (unsigned int)d;
		} else if (!strcmp(a, "--block-size")) {
			if (num(a, v, 1, 1 << 30, &d))
				return -1;
			c->o.block_size = (uint32_t)d;
		} else if (!strcmp(a, "--block-count")) {
			if (num(a, v, 1, 1 << 20, &d))
				return -1;
			c->o.block_count = (uint32_t)d;
		} else if (!strcmp(a, "--frame-size")) {
			if (num(a, v, 1, 1 << 30, &d))
				return -1;
			c->o.frame_size = (uint32_t)d;
		} else if (!strcmp(a, "--retire-ms")) {
			if (num(a, v, 1, 60000, &d))
				return -1;
			c->o.retire_ms = (uint32_t)d;
		} else if (!strcmp(a, "--rcvbuf")) {
			if (num(a, v, 1, 1 << 30, &d))
				return -1;
			c->o.rcvbuf = (uint32_t)d;
		} else if (!strcmp(a, "--buf-size")) {
			if (num(a, v, 1, 65536, &d))
				return -1;
			c->o.buf_size = (uint32_t)d;
		} else if (!strcmp(a, "--ring-buffers")) {
			if (num(a, v, 1, 32768, &d))
				return -1;
			c->o.ring_buffers = (uint32_t)d;
		} else if (!strcmp(a, "--slow")) {
			if (num(a, v, 0, 1e6, &d))
				return -1;
			c->slow_us = (unsigned int)d;
		} else if (!strcmp(a, "--start-delay")) {
			if (num(a, v, 0, 60000, &c->start_delay_ms))
				return -1;
		} else if (!strcmp(a, "--expect")) {
			if (num(a, v, 0, 1e12, &d))
				return -1;
			c->expect = (uint64_t)d;
		} else if (!strcmp(a, "--timeout")) {
			if (num(a, v, 0.01, 3600, &c->timeout))
				return -1;
		} else if (!strcmp(a, "--settle")) {
			if (num(a, v, 0, 60000, &c->settle_ms))
				return -1;
		} else {
			pr_warn("probe: unknown option '%s'\n", a);
			return -1;
		}
	}
	if (strcmp(c->sink, "count") && strcmp(c->sink, "pipeline")) {
		pr_warn("probe: --sink '%s': use count or pipeline\n", c->sink);
		return -1;
	}
	if (c->pcap)
		return c->nfeeds ? 0 : (pr_warn("probe: --pcap needs --feed\n"), -1);
	if (!c->backend || !c->iface) {
		pr_warn("probe: --backend and --iface are needed (see --help)\n");
		return -1;
	}
	if (!c->nfeeds && !c->rules) {
		pr_warn("probe: no feeds: give --feed GROUP:PORT or --rules\n");
		return -1;
	}
	return 0;
}

/* The feeds of the XDP filter's rules on the interface (pass and redirect). */
static int feeds_from_rules(struct probe_cfg *c)
{
	struct fg_filter_handle h;
	struct fg_rule_entry *rules = NULL;
	size_t n = 0;

	memset(&h, 0, sizeof(h));
	h.map_rules = h.map_rule_stats = h.map_stats = -1;
	h.map_queue_stats = h.map_config = h.map_xsk = -1;
	if (fg_filter_open(c->iface, &h))
		return -1;
	if (fg_rule_list(&h, &rules, &n)) {
		fg_filter_close(&h);
		return -1;
	}
	c->nfeeds += fg_backend_feeds_from_rules(rules, n, c->feeds + c->nfeeds,
						 FG_BACKEND_MAX_FEEDS - c->nfeeds);
	free(rules);
	fg_filter_close(&h);
	return 0;
}

/* --- pcap mode --------------------------------------------------------------------------------- */

static int run_pcap(struct probe_cfg *c)
{
	static struct counter cnt;
	struct fg_capfile *cf;
	struct fg_cap_record rec;
	uint64_t frames = 0;
	int ret;

	ret = fg_capfile_open(c->pcap, &cf);
	if (ret) {
		pr_warn("probe: %s: %s\n", c->pcap, strerror(-ret));
		return 1;
	}
	cnt.feeds = c->feeds;
	cnt.nfeeds = c->nfeeds;
	while ((ret = fg_capfile_next(cf, &rec)) > 0) {
		struct fg_frame f;

		memset(&f, 0, sizeof(f));
		if (fg_capfile_frame(&rec, &f))
			continue;
		count_frame(&cnt, &f);
		frames++;
	}
	fg_capfile_close(cf);
	if (ret < 0) {
		pr_warn("probe: %s: %s\n", c->pcap, strerror(-ret));
		return 1;
	}
	printf("{\"pcap\":\"%s\",\"frames\":%llu,\"not_feed\":%llu,", c->pcap,
	       (unsigned long long)frames, (unsigned long long)cnt.not_feed);
	counter_json(&cnt, stdout);
	printf("}\n");
	return 0;
}

/* --- backend mode ------------------------------------------------------------------------------ */

static uint64_t total_packets(const struct fg_backend *b, struct fg_rxq_stats *scratch)
{
	uint64_t n = 0;

	for (unsigned int t = 0; t < fg_backend_nthreads(b); t++) {
		fg_backend_snapshot(b, t, scratch);
		n += scratch->packets;
	}
	return n;
}

static void touch(const char *path)
{
	FILE *f = path ? fopen(path, "w") : NULL;

	if (f)
		fclose(f);
}

/*
 * --closed FILE: the backend is closed; create FILE and stay alive until
 * someone removes it (5 s at most), so that a test can look at what the
 * close left behind (group memberships) while this process still exists.
 */
static void linger(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fclose(f);
	for (int i = 0; i < 500 && !access(path, F_OK); i++)
		usleep(10000);
}

static int run_backend(struct probe_cfg *c)
{
	const struct fg_backend_ops *ops;
	struct fg_backend *b = NULL;
	static struct counter cnt[FG_BACKEND_MAX_THREADS], all;
	struct fg_sink sinks[FG_BACKEND_MAX_THREADS];
	int cpus[FG_BACKEND_MAX_THREADS];
	struct fg_rxq_stats *st = NULL, *tot = NULL;
	uint64_t start, deadline, reached = 0, batches = 0, empty = 0, sys = 0, nostamp = 0;
	uint64_t stamped = 0, bytes = 0;
	unsigned int n;
	sigset_t set;
	int status = 1;

	if (fg_backend_by_name(c->backend, &ops))
		return 1;
	if (c->rules && feeds_from_rules(c))
		return 1;
	c->o.ifname = c->iface;
	c->o.feeds = c->feeds;
	c->o.nfeeds = c->nfeeds;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (fg_backend_open(ops, &c->o, &b, NULL))
		return 1;
	n = fg_backend_nthreads(b);
	st = calloc(1, sizeof(*st));
	tot = calloc(1, sizeof(*tot));
	if (!st || !tot) {
		pr_warn("probe: %s\n", strerror(ENOMEM));
		goto out;
	}
	for (unsigned int t = 0; t < n; t++) {
		if (!strcmp(c->sink, "pipeline")) {
			struct fg_pipeline_config pc = { 0 };

			if (fg_pipeline_new(&pc, &cnt[t].pipe))
				goto out;
		}
		cnt[t].slow_us = c->slow_us;
		sinks[t].ctx = &cnt[t];
		sinks[t].on_batch = count_batch;
		sinks[t].on_idle = count_idle;
	}
	for (unsigned int t = 0; t < FG_BACKEND_MAX_THREADS; t++)
		cpus[t] = c->ncpus ? c->cpus[t % c->ncpus] : -1;
	/* --start-delay: ready (sockets open, groups joined) before the threads
	 * run, so that rings and socket buffers fill up first. */
	if (c->start_delay_ms > 0) {
		touch(c->ready);
		usleep((useconds_t)(c->start_delay_ms * 1000));
	}
	if (fg_backend_start(b, cpus, sinks)) {
		pr_warn("probe: Couldn't start the receive threads\n");
		goto out;
	}
	if (!(c->start_delay_ms > 0))
		touch(c->ready);
	start = fg_now_ns();
	deadline = start + (uint64_t)(c->timeout * 1e9);
	for (;;) {
		struct timespec ts = { 0, 10000000 };
		uint64_t now;
		int sig = sigtimedwait(&set, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM)
			break;
		now = fg_now_ns();
		if (now >= deadline)
			break;
		if (c->expect && !reached && total_packets(b, st) >= c->expect)
			reached = now;
		if (reached && now >= reached + (uint64_t)(c->settle_ms * 1e6))
			break;
	}
	fg_backend_stop(b);

	fg_hist_init(&tot->xdp_lat);
	fg_hist_init(&tot->gen_lat);
	for (unsigned int t = 0; t < n; t++) {
		fg_backend_snapshot(b, t, st);
		tot->packets += st->packets;
		bytes += st->bytes;
		batches += st->batches;
		empty += st->empty_polls;
		sys += st->syscalls;
		nostamp += st->no_meta;
		stamped += st->gen_stamped;
		fg_hist_merge(&tot->xdp_lat, &st->xdp_lat);
		fg_hist_merge(&tot->gen_lat, &st->gen_lat);
		for (unsigned int k = 0; k < FG_MAX_RULES; k++)
			tot->rule_packets[k] += st->rule_packets[k];
		counter_merge(&all, &cnt[t]);
	}
	printf("{");
	fg_backend_json(b, stdout);
	printf(",\"iface\":\"%s\",\"duration_s\":%.3f,\"packets\":%llu,\"bytes\":%llu,"
	       "\"batches\":%llu,\"empty_polls\":%llu,\"syscalls\":%llu,\"no_stamp\":%llu,"
	       "\"gen_stamped\":%llu,",
	       c->iface, (double)(fg_now_ns() - start) / 1e9, (unsigned long long)tot->packets,
	       (unsigned long long)bytes, (unsigned long long)batches, (unsigned long long)empty,
	       (unsigned long long)sys, (unsigned long long)nostamp, (unsigned long long)stamped);
	json_hist(stdout, "latency_kernel_ns", &tot->xdp_lat);
	putchar(',');
	json_hist(stdout, "latency_gen_ns", &tot->gen_lat);
	/* frames by the rule id the backend gave them (feeds from --rules) */
	printf(",\"rule_packets\":{");
	for (unsigned int k = 0, first = 1; k < FG_MAX_RULES; k++) {
		if (!tot->rule_packets[k])
			continue;
		printf("%s\"%u\":%llu", first ? "" : ",", k,
		       (unsigned long long)tot->rule_packets[k]);
		first = 0;
	}
	printf("}");
	printf(",\"thread_errors\":[");
	for (unsigned int t = 0; t < n; t++)
		printf("%s%d", t ? "," : "", fg_backend_thread_error(b, t));
	printf("],");
	counter_json(&all, stdout);
	if (cnt[0].pipe) {
		printf(",\"pipeline\":[");
		fflush(stdout);
		for (unsigned int t = 0; t < n; t++) {
			fg_pipeline_finish(cnt[t].pipe);
			if (t)
				putchar(',');
			fg_pipeline_summary_json(cnt[t].pipe, stdout);
		}
		printf("]");
	}
	printf("}\n");
	status = 0;
	for (unsigned int t = 0; t < n; t++) {
		int e = fg_backend_thread_error(b, t);

		if (e) {
			pr_warn("probe: %s thread %u stopped: %s\n", c->backend, t, strerror(-e));
			status = 1;
		}
	}
out:
	fflush(stdout);
	fg_backend_close(b);
	for (unsigned int t = 0; t < FG_BACKEND_MAX_THREADS; t++)
		if (cnt[t].pipe)
			fg_pipeline_free(cnt[t].pipe);
	free(st);
	free(tot);
	if (c->closed)
		linger(c->closed);
	return status;
}

int main(int argc, char **argv)
{
	static struct probe_cfg c;

	if (parse(argc, argv, &c))
		return 2;
	if (c.pcap)
		return run_pcap(&c);
	return run_backend(&c);
}
