// SPDX-License-Identifier: MIT
/*
 * The market-data pipeline (include/feedgate/pipeline.h): frames -> feeds ->
 * MoldUDP64 sequencing -> one filter call over every message of the batch
 * -> decode of the selected ones -> books, callbacks, JSON lines.
 *
 * Gathering first and filtering once per batch is the point: the SIMD
 * filter is only worth its setup over many messages, and the messages
 * that are not wanted are never decoded. Gap events found while gathering
 * are queued with their position in the batch so that the decode output
 * keeps them in stream order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "feedgate/book.h"
#include "feedgate/filter.h"
#include "feedgate/pipeline.h"
#include "fg_log.h"
#include "fg_net.h"

_Static_assert(FG_NET_NKINDS <= sizeof(((struct fg_pipeline_stats *)0)->net) / sizeof(uint64_t),
	       "fg_pipeline_stats.net too small");
_Static_assert(FG_PIPELINE_BATCH_MSGS <= FG_FILTER_MAX_BATCH, "filter indexes are u16");

#define GAP_QUEUE 256

struct feed {
	uint8_t family;
	uint8_t any_addr; /* 0.0.0.0:PORT / [::]:PORT */
	uint16_t port;
	uint16_t stream;
	uint8_t addr[16];
	uint64_t packets;
	uint64_t messages;
	char name[FG_PIPELINE_FEED_NAME_LEN];
};

struct stream_info {
	char name[2 * FG_PIPELINE_FEED_NAME_LEN + 2];
};

struct queued_gap {
	struct fg_mold_gap g;
	uint32_t at; /* batch position the gap comes before */
};

struct fg_pipeline {
	struct fg_pipeline_config cfg;
	struct fg_filter *filter; /* NULL: everything is selected */
	struct fg_books *books;
	int fixed_feeds; /* only configured feeds are accepted */
	int want_r; /* R is among the subscribed types */
	uint64_t window_ns;

	unsigned int nfeeds;
	int last_feed;
	struct feed feeds[FG_PIPELINE_MAX_FEEDS];
	unsigned int nstreams;
	struct fg_mold_seq *streams; /* FG_PIPELINE_MAX_FEEDS of them */
	struct stream_info *stream_info;

	uint64_t raw_seq;

	/* The batch being gathered. */
	unsigned int n;
	const uint8_t **msgs;
	uint16_t *lens;
	uint16_t *feed_of;
	uint16_t *idx;
	uint64_t *seqs;
	uint64_t *rx_ns;
	unsigned int ngaps;
	struct queued_gap gaps[GAP_QUEUE];

	struct fg_pipeline_stats st;
	struct fg_books_stats books_prev; /* counters of the books dropped by session resets */
	char json[FG_ITCH_JSON_MAX + 2];
};

/* --- output -------------------------------------------------------------------------------- */

/* A JSON string body for wire bytes (sessions may hold anything). */
static void json_bytes(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void emit_gap(struct fg_pipeline *p, const struct fg_mold_gap *g)
{
	const char *name = p->stream_info[g->stream].name;

	if (p->cfg.decode) {
		fprintf(p->cfg.decode, "{\"event\":\"gap\",\"feed\":\"%s\",\"session\":\"", name);
		json_bytes(p->cfg.decode, g->session, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode, "\",\"first\":%llu,\"last\":%llu,\"count\":%llu}\n",
			(unsigned long long)g->first, (unsigned long long)g->last,
			(unsigned long long)(g->last - g->first + 1));
	}
	if (p->cfg.on_gap)
		p->cfg.on_gap(p->cfg.ctx, name, g);
}

/* Put the books' counters of a past session into the totals the summaries show. */
static void books_stats_add(struct fg_books_stats *acc, const struct fg_books_stats *b)
{
	acc->messages += b->messages;
	acc->adds += b->adds;
	acc->executions += b->executions;
	acc->cancels += b->cancels;
	acc->deletes += b->deletes;
	acc->replaces += b->replaces;
	acc->trades += b->trades;
	if (b->orders_peak > acc->orders_peak)
		acc->orders_peak = b->orders_peak;
	acc->overflows += b->overflows;
	acc->unknown_refs += b->unknown_refs;
	acc->duplicate_refs += b->duplicate_refs;
	acc->clamped += b->clamped;
	acc->bad_orders += b->bad_orders;
	acc->crossed += b->crossed;
	if (b->max_probe > acc->max_probe)
		acc->max_probe = b->max_probe;
}

/* The books' counters over every session (orders_live, levels_live: the current books). */
static void books_stats_total(const struct fg_pipeline *p, struct fg_books_stats *b)
{
	struct fg_books_stats cur;

	fg_books_get_stats(p->books, &cur);
	*b = p->books_prev;
	books_stats_add(b, &cur);
	b->orders_live = cur.orders_live;
	b->levels_live = cur.levels_live;
	b->order_capacity = cur.order_capacity;
}

static void deliver(struct fg_pipeline *p, unsigned int j, const struct fg_itch_msg *m)
{
	if (p->books)
		fg_books_apply(p->books, m);
	if (p->cfg.decode) {
		int l = fg_itch_to_json(m, p->seqs[j], p->json, sizeof(p->json) - 1);

		if (l > 0) {
			p->json[l] = '\n';
			fwrite(p->json, 1, (size_t)l + 1, p->cfg.decode);
		}
	}
	if (p->cfg.on_message) {
		struct fg_pipeline_msg_info info = {
			.feed = p->feed_of[j],
			.seq = p->seqs[j],
			.rx_ns = p->rx_ns[j],
		};

		p->cfg.on_message(p->cfg.ctx, &info, m);
	}
}

/* Filter the gathered messages in one call, decode and deliver the chosen ones. */
static void run_batch(struct fg_pipeline *p)
{
	unsigned int n = p->n, sel, gi = 0;
	struct fg_itch_msg m;

	if (n) {
		if (p->filter)
			sel = fg_filter_select_learn(p->filter, p->msgs, p->lens, n, p->idx);
		else
			sel = n;
		p->st.batches++;
		p->st.selected += sel;
		for (unsigned int k = 0; k < sel; k++) {
			unsigned int j = p->filter ? p->idx[k] : k;

			while (gi < p->ngaps && p->gaps[gi].at <= j)
				emit_gap(p, &p->gaps[gi++].g);
			if (fg_itch_decode_count(p->msgs[j], p->lens[j], &m, &p->st.itch))
				continue;
			p->st.decoded++;
			/* The filter passes every R to build the directory; the user gets only
			 * those of the subscription. */
			if (m.type == FG_ITCH_STOCK_DIRECTORY && p->filter &&
			    (!p->want_r || !fg_filter_locate_subscribed(p->filter, m.stock_locate)))
				continue;
			deliver(p, j, &m);
		}
	}
	while (gi < p->ngaps)
		emit_gap(p, &p->gaps[gi++].g);
	p->n = 0;
	p->ngaps = 0;
}

static void on_seq_gap(void *ctx, const struct fg_mold_gap *g)
{
	struct fg_pipeline *p = ctx;

	/* Nothing gathered: nothing to keep the order with. The queue full: make room
	 * (the sequencer's state is not touched by running the batch). */
	if (p->ngaps == GAP_QUEUE)
		run_batch(p);
	if (!p->n) {
		emit_gap(p, g);
		return;
	}
	p->gaps[p->ngaps].g = *g;
	p->gaps[p->ngaps].at = p->n;
	p->ngaps++;
}

/* --- session changes ---------------------------------------------------------------------- */

/* A filter with the configured subscription; NULL in *out when none is needed. */
static int make_filter(const struct fg_pipeline_config *cfg, struct fg_filter **out)
{
	struct fg_filter *f;
	int rc;

	*out = NULL;
	if (!(cfg->symbols && *cfg->symbols) && !(cfg->types && *cfg->types))
		return 0;
	f = fg_filter_new();
	if (!f)
		return -ENOMEM;
	if (cfg->symbols && *cfg->symbols && (rc = fg_filter_add_symbols(f, cfg->symbols))) {
		pr_warn("pipeline: symbols '%s': expected a comma-separated list of symbols of 1-8 "
			"characters\n",
			cfg->symbols);
		fg_filter_free(f);
		return rc;
	}
	if (cfg->types && *cfg->types && (rc = fg_filter_set_types(f, cfg->types))) {
		pr_warn("pipeline: types '%s': expected ITCH message type letters\n", cfg->types);
		fg_filter_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

/*
 * The directory and the books are one per pipeline, shared by all its
 * streams. They may be rebuilt for a stream's new session only when no other
 * stream (nor the bare message entry) has put anything in them.
 */
static int state_shared(const struct fg_pipeline *p, unsigned int s)
{
	if (p->raw_seq)
		return 1;
	for (unsigned int o = 0; o < p->nstreams; o++)
		if (o != s && p->streams[o].st.messages)
			return 1;
	return 0;
}

static const char *const session_state_name[] = {
	[FG_PIPELINE_SESSION_RESET] = "reset",
	[FG_PIPELINE_SESSION_KEPT_SHARED] = "kept_shared",
	[FG_PIPELINE_SESSION_KEPT_NOMEM] = "kept_no_memory",
};

/*
 * Stream s has just left its session for a new one (fg_mold_seq_packet()
 * counted a session change; its first packet is not gathered yet). Stock
 * locates are assigned per day (ITCH 5.0 section 1.2) and order reference
 * numbers restart with the day, so the directory and the books of the old
 * session would file the new one's messages under the wrong symbols and
 * orders: start both afresh, with the subscription applied again. Once a
 * day, so allocating here is fine.
 */
static void session_change(struct fg_pipeline *p, unsigned int s)
{
	const struct fg_mold_seq *q = &p->streams[s];
	const char *name = p->stream_info[s].name;
	enum fg_pipeline_session_state state = FG_PIPELINE_SESSION_RESET;
	struct fg_filter *nf = NULL;
	struct fg_books *nb = NULL;

	/* What was gathered of the old session is judged and applied with the old state,
	 * and its last gaps (flushed by the change) reported, before anything changes. */
	run_batch(p);
	if (state_shared(p, s)) {
		state = FG_PIPELINE_SESSION_KEPT_SHARED;
	} else if ((p->filter && make_filter(&p->cfg, &nf)) ||
		   (p->books && !(nb = fg_books_new(p->cfg.order_capacity, p->cfg.book_cb)))) {
		fg_filter_free(nf);
		state = FG_PIPELINE_SESSION_KEPT_NOMEM;
	}
	if (state == FG_PIPELINE_SESSION_RESET) {
		if (p->filter) {
			/* Keep an implementation the caller forced. */
			fg_filter_set_impl(nf, fg_filter_get_impl(p->filter));
			fg_filter_free(p->filter);
			p->filter = nf;
		}
		if (p->books) {
			struct fg_books_stats b;

			fg_books_get_stats(p->books, &b);
			books_stats_add(&p->books_prev, &b);
			fg_books_free(p->books);
			p->books = nb;
		}
		p->st.session_resets++;
	} else {
		p->st.session_resets_skipped++;
	}
	if (p->cfg.decode) {
		fprintf(p->cfg.decode,
			"{\"event\":\"session_change\",\"feed\":\"%s\",\"previous\":\"", name);
		json_bytes(p->cfg.decode, q->prev_session, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode, "\",\"session\":\"");
		json_bytes(p->cfg.decode, q->session, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode, "\",\"state\":\"%s\"}\n", session_state_name[state]);
	}
	if (p->cfg.on_session_change)
		p->cfg.on_session_change(p->cfg.ctx, name, q->prev_session, q->session, state);
}

/* --- gathering ----------------------------------------------------------------------------- */

static inline void gather_one(struct fg_pipeline *p, const uint8_t *msg, uint16_t len,
			      uint16_t feed, uint64_t seq, uint64_t rx_ns)
{
	unsigned int n = p->n;
	size_t want;

	/* len >= 1: MoldUDP64 parsing and the raw entry reject empty messages. */
	p->st.messages++;
	p->st.per_type[msg[0]]++;
	want = fg_itch_msg_len(msg[0]);
	if (!want)
		p->st.unknown_type++;
	else if (want != len)
		p->st.length_mismatch++;
	p->msgs[n] = msg;
	p->lens[n] = len;
	p->feed_of[n] = feed;
	p->seqs[n] = seq;
	p->rx_ns[n] = rx_ns;
	p->n = n + 1;
	if (p->n == FG_PIPELINE_BATCH_MSGS)
		run_batch(p);
}

static int feed_match(const struct feed *f, const struct fg_flow *flow)
{
	return f->family == flow->family && f->port == flow->dport &&
	       (f->any_addr || !memcmp(f->addr, flow->dst, 16));
}

static int new_stream(struct fg_pipeline *p, uint64_t window_ns, const char *name)
{
	unsigned int s = p->nstreams;

	if (s == FG_PIPELINE_MAX_FEEDS)
		return -ENOSPC;
	fg_mold_seq_init(&p->streams[s], (uint16_t)s, window_ns, on_seq_gap, p);
	snprintf(p->stream_info[s].name, sizeof(p->stream_info[s].name), "%s", name);
	p->nstreams++;
	return (int)s;
}

/* A feed with a stream of its own, or (own_stream 0) none yet: the caller assigns one. */
static int add_feed(struct fg_pipeline *p, uint8_t family, const uint8_t addr[16], uint16_t port,
		    int own_stream)
{
	struct feed *f;
	struct fg_flow fl = { .family = family, .dport = port };
	int s;

	if (p->nfeeds == FG_PIPELINE_MAX_FEEDS)
		return -ENOSPC;
	f = &p->feeds[p->nfeeds];
	memset(f, 0, sizeof(*f));
	f->family = family;
	f->port = port;
	memcpy(f->addr, addr, 16);
	f->any_addr = 1;
	for (int i = 0; i < 16; i++)
		if (addr[i])
			f->any_addr = 0;
	memcpy(fl.dst, addr, 16);
	if (fg_net_format_dst(&fl, f->name, sizeof(f->name)) < 0)
		snprintf(f->name, sizeof(f->name), "?:%u", port);
	if (own_stream) {
		s = new_stream(p, 0, f->name);
		if (s < 0)
			return s;
		f->stream = (uint16_t)s;
	}
	return (int)p->nfeeds++;
}

/* Index of the feed a datagram belongs to, or -1. */
static int feed_find(struct fg_pipeline *p, const struct fg_flow *flow)
{
	if (p->last_feed >= 0 && feed_match(&p->feeds[p->last_feed], flow))
		return p->last_feed;
	for (int i = 0; i < (int)p->nfeeds; i++) {
		if (feed_match(&p->feeds[i], flow)) {
			p->last_feed = i;
			return i;
		}
	}
	return -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fg_pipeline_frames(struct fg_pipeline *p, const struct fg_frame *frames, unsigned int n)
{
	struct fg_mold_run runs[FG_MOLD_MAX_RUNS];
	uint64_t now_fallback = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct fg_frame *fr = &frames[i];
		struct fg_mold_packet pkt;
		struct fg_mold_iter it;
		struct fg_flow flow;
		const uint8_t *pl, *msg;
		uint32_t plen;
		uint16_t len;
		unsigned int nr, r, k;
		uint64_t now, changes;
		int kind, fi, bad;
		struct feed *f;

		p->st.frames++;
		kind = fg_net_parse(fr, &flow, &pl, &plen);
		p->st.net[kind]++;
		if (kind != FG_NET_UDP)
			continue;
		fi = feed_find(p, &flow);
		if (fi < 0 && p->fixed_feeds) {
			p->st.unmatched++;
			continue;
		}
		if (fg_mold_parse(pl, plen, &pkt, &bad)) {
			/* Malformed on a feed; on a destination that is not one yet, merely
			 * other UDP traffic (feeds are only made from valid packets). */
			if (fi < 0)
				p->st.not_mold++;
			else
				p->st.mold_bad[bad]++;
			continue;
		}
		if (fi < 0) {
			fi = add_feed(p, flow.family, flow.dst, flow.dport, 1);
			if (fi < 0) {
				p->st.feed_overflow++;
				continue;
			}
			p->last_feed = fi;
		}
		f = &p->feeds[fi];
		f->packets++;
		p->st.packets++;
		now = fr->take_ns ? fr->take_ns : fr->xdp_ns;
		if (!now) {
			if (!now_fallback)
				now_fallback = mono_ns();
			now = now_fallback;
		}
		changes = p->streams[f->stream].st.session_changes;
		nr = fg_mold_seq_packet(&p->streams[f->stream], &pkt.h, now, runs);
		if (p->streams[f->stream].st.session_changes != changes)
			session_change(p, f->stream);
		if (!nr)
			continue;

		/* Walk the blocks once, keeping those inside the runs of new messages. */
		fg_mold_iter_init(&it, &pkt);
		for (k = 0, r = 0; r < nr && fg_mold_iter_next(&it, &msg, &len); k++) {
			if (k < runs[r].first)
				continue;
			gather_one(p, msg, len, (uint16_t)fi, pkt.h.seq ? pkt.h.seq + k : 0, now);
			f->messages++;
			if (k + 1 == runs[r].first + runs[r].count)
				r++;
		}
	}
	run_batch(p);
}

void fg_pipeline_raw(struct fg_pipeline *p, const uint8_t *const *msgs, const uint16_t *lens,
		     unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		p->raw_seq++;
		if (!lens[i]) {
			p->st.empty_messages++;
			continue;
		}
		gather_one(p, msgs[i], lens[i], FG_PIPELINE_NO_FEED, p->raw_seq, 0);
	}
	run_batch(p);
}

void fg_pipeline_idle(struct fg_pipeline *p, uint64_t now_ns)
{
	for (unsigned int s = 0; s < p->nstreams; s++)
		if (p->streams[s].nholes)
			fg_mold_seq_expire(&p->streams[s], now_ns);
	run_batch(p);
}

void fg_pipeline_finish(struct fg_pipeline *p)
{
	run_batch(p);
	for (unsigned int s = 0; s < p->nstreams; s++)
		fg_mold_seq_flush(&p->streams[s]);
	run_batch(p);
	if (p->cfg.decode)
		fflush(p->cfg.decode);
}

static void sink_batch(void *ctx, const struct fg_frame *frames, unsigned int n)
{
	fg_pipeline_frames(ctx, frames, n);
}

static void sink_idle(void *ctx, uint64_t now_ns)
{
	fg_pipeline_idle(ctx, now_ns);
}

struct fg_sink fg_pipeline_sink(struct fg_pipeline *p)
{
	struct fg_sink s = { .ctx = p, .on_batch = sink_batch, .on_idle = sink_idle };

	return s;
}

/* --- setup --------------------------------------------------------------------------------- */

static int parse_feed(const char *ep, uint8_t *fam, uint8_t addr[16], uint16_t *port)
{
	if (fg_net_parse_endpoint(ep, fam, addr, port)) {
		pr_warn("pipeline: '%s': expected GROUP:PORT (239.1.1.1:5000 or [ff15::1]:5000)\n",
			ep);
		return -EINVAL;
	}
	return 0;
}

static int find_feed(const struct fg_pipeline *p, uint8_t fam, const uint8_t addr[16],
		     uint16_t port)
{
	for (unsigned int i = 0; i < p->nfeeds; i++)
		if (p->feeds[i].family == fam && p->feeds[i].port == port &&
		    !memcmp(p->feeds[i].addr, addr, 16))
			return (int)i;
	return -1;
}

/* A configured feed (listed once, or already part of a pair). */
static int config_feed(struct fg_pipeline *p, const char *ep)
{
	uint8_t fam, addr[16];
	uint16_t port;
	int i;

	if (parse_feed(ep, &fam, addr, &port))
		return -EINVAL;
	i = find_feed(p, fam, addr, port);
	return i >= 0 ? i : add_feed(p, fam, addr, port, 1);
}

/* "A=B": two feeds that carry one stream. */
static int setup_arbitration(struct fg_pipeline *p, const char *pair)
{
	char a[128], name[sizeof(p->stream_info[0].name)];
	const char *eq = strchr(pair, '=');
	uint8_t fam[2], addr[2][16];
	uint16_t port[2];
	int f[2], s;

	if (!eq || (size_t)(eq - pair) >= sizeof(a) || !eq[1]) {
		pr_warn("pipeline: arbitrate '%s': expected GROUP:PORT=GROUP:PORT\n", pair);
		return -EINVAL;
	}
	memcpy(a, pair, (size_t)(eq - pair));
	a[eq - pair] = '\0';
	if (parse_feed(a, &fam[0], addr[0], &port[0]) ||
	    parse_feed(eq + 1, &fam[1], addr[1], &port[1]))
		return -EINVAL;
	if (fam[0] == fam[1] && port[0] == port[1] && !memcmp(addr[0], addr[1], 16)) {
		pr_warn("pipeline: arbitrate '%s': both lines are the same feed\n", pair);
		return -EINVAL;
	}
	for (int k = 0; k < 2; k++) {
		if (find_feed(p, fam[k], addr[k], port[k]) >= 0) {
			pr_warn("pipeline: arbitrate '%s': a line is already in another pair\n",
				pair);
			return -EINVAL;
		}
		f[k] = add_feed(p, fam[k], addr[k], port[k], 0);
		if (f[k] < 0)
			return f[k];
	}
	snprintf(name, sizeof(name), "%s=%s", p->feeds[f[0]].name, p->feeds[f[1]].name);
	s = new_stream(p, p->window_ns, name);
	if (s < 0)
		return s;
	p->feeds[f[0]].stream = (uint16_t)s;
	p->feeds[f[1]].stream = (uint16_t)s;
	return 0;
}

int fg_pipeline_new(const struct fg_pipeline_config *cfg, struct fg_pipeline **out)
{
	struct fg_pipeline *p;
	int rc = -ENOMEM;
	size_t B = FG_PIPELINE_BATCH_MSGS;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->last_feed = -1;
	p->window_ns = cfg->gap_window_ns ? cfg->gap_window_ns : FG_PIPELINE_DEFAULT_GAP_WINDOW_NS;
	p->streams = calloc(FG_PIPELINE_MAX_FEEDS, sizeof(*p->streams));
	p->stream_info = calloc(FG_PIPELINE_MAX_FEEDS, sizeof(*p->stream_info));
	p->msgs = calloc(B, sizeof(*p->msgs));
	p->lens = calloc(B, sizeof(*p->lens));
	p->feed_of = calloc(B, sizeof(*p->feed_of));
	p->idx = calloc(B, sizeof(*p->idx));
	p->seqs = calloc(B, sizeof(*p->seqs));
	p->rx_ns = calloc(B, sizeof(*p->rx_ns));
	if (!p->streams || !p->stream_info || !p->msgs || !p->lens || !p->feed_of || !p->idx ||
	    !p->seqs || !p->rx_ns)
		goto fail;

	p->want_r = !cfg->types || !*cfg->types || strchr(cfg->types, 'R');
	if ((rc = make_filter(cfg, &p->filter)))
		goto fail;

	rc = -EINVAL;
	for (unsigned int i = 0; i < cfg->narbitrate; i++)
		if ((rc = setup_arbitration(p, cfg->arbitrate[i])) < 0)
			goto fail;
	for (unsigned int i = 0; i < cfg->nfeeds; i++)
		if ((rc = config_feed(p, cfg->feeds[i])) < 0)
			goto fail;
	p->fixed_feeds = cfg->nfeeds > 0;

	if (cfg->books) {
		p->books = fg_books_new(cfg->order_capacity, cfg->book_cb);
		if (!p->books) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	if (rc == -ENOSPC)
		pr_warn("pipeline: more than %d feeds\n", FG_PIPELINE_MAX_FEEDS);
	fg_pipeline_free(p);
	return rc < 0 ? rc : -EINVAL;
}

void fg_pipeline_free(struct fg_pipeline *p)
{
	if (!p)
		return;
	if (p->books)
		fg_books_free(p->books);
	fg_filter_free(p->filter);
	free(p->rx_ns);
	free(p->seqs);
	free(p->idx);
	free(p->feed_of);
	free(p->lens);
	free(p->msgs);
	free(p->stream_info);
	free(p->streams);
	free(p);
}

/* --- queries and summaries ----------------------------------------------------------------- */

const struct fg_pipeline_stats *fg_pipeline_stats(const struct fg_pipeline *p)
{
	return &p->st;
}

void fg_pipeline_seq_totals(const struct fg_pipeline *p, struct fg_pipeline_seq_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int s = 0; s < p->nstreams; s++) {
		const struct fg_mold_seq_stats *st = &p->streams[s].st;

		t->heartbeats += st->heartbeats;
		t->end_of_session += st->end_of_session;
		t->session_changes += st->session_changes;
		t->gaps += st->gaps;
		t->gap_messages += st->gap_messages;
		t->duplicate_packets += st->duplicate_packets;
		t->duplicate_messages += st->duplicate_messages;
		t->filled_messages += st->filled_messages;
		t->unsequenced_packets += st->unsequenced_packets;
		t->stale_packets += st->stale_packets;
	}
}

struct fg_books *fg_pipeline_books(struct fg_pipeline *p)
{
	return p->books;
}

unsigned int fg_pipeline_nfeeds(const struct fg_pipeline *p)
{
	return p->nfeeds;
}

const char *fg_pipeline_feed_name(const struct fg_pipeline *p, unsigned int feed)
{
	return feed < p->nfeeds ? p->feeds[feed].name : NULL;
}

const struct fg_mold_seq *fg_pipeline_feed_seq(const struct fg_pipeline *p, unsigned int feed)
{
	return feed < p->nfeeds ? &p->streams[p->feeds[feed].stream] : NULL;
}

static uint64_t malformed_total(const struct fg_pipeline_stats *st)
{
	uint64_t n = st->net[FG_NET_BAD_L2] + st->net[FG_NET_BAD_IP] + st->net[FG_NET_BAD_UDP];

	for (int k = 0; k < FG_MOLD_BAD_NKINDS; k++)
		n += st->mold_bad[k];
	return n + st->unknown_type + st->length_mismatch + st->empty_messages;
}

#define U(x) ((unsigned long long)(x))

void fg_pipeline_summary_json(const struct fg_pipeline *p, FILE *f)
{
	const struct fg_pipeline_stats *st = &p->st;
	struct fg_pipeline_seq_totals t;
	const char *sep = "";

	fg_pipeline_seq_totals(p, &t);
	fprintf(f,
		"{\"frames\":%llu,\"udp\":%llu,\"not_ip\":%llu,\"not_udp\":%llu,"
		"\"fragments\":%llu,\"unmatched\":%llu,\"not_mold\":%llu,\"feed_overflow\":%llu,",
		U(st->frames), U(st->net[FG_NET_UDP]), U(st->net[FG_NET_NOT_IP]),
		U(st->net[FG_NET_NOT_UDP]), U(st->net[FG_NET_FRAGMENT]), U(st->unmatched),
		U(st->not_mold), U(st->feed_overflow));
	fprintf(f, "\"malformed\":{\"total\":%llu,\"bad_l2\":%llu,\"bad_ip\":%llu,\"bad_udp\":%llu",
		U(malformed_total(st)), U(st->net[FG_NET_BAD_L2]), U(st->net[FG_NET_BAD_IP]),
		U(st->net[FG_NET_BAD_UDP]));
	for (int k = 0; k < FG_MOLD_BAD_NKINDS; k++)
		fprintf(f, ",\"%s\":%llu", fg_mold_bad_name(k), U(st->mold_bad[k]));
	fprintf(f, ",\"unknown_type\":%llu,\"length_mismatch\":%llu,\"empty_message\":%llu},",
		U(st->unknown_type), U(st->length_mismatch), U(st->empty_messages));
	fprintf(f, "\"packets\":%llu,\"messages\":%llu,\"messages_per_type\":{", U(st->packets),
		U(st->messages));
	for (const char *c = FG_ITCH_TYPE_LETTERS; *c; c++) {
		if (!st->per_type[(uint8_t)*c])
			continue;
		fprintf(f, "%s\"%c\":%llu", sep, *c, U(st->per_type[(uint8_t)*c]));
		sep = ",";
	}
	for (int c = 0; c < 256; c++) {
		if (!st->per_type[c] || fg_itch_msg_len((uint8_t)c))
			continue;
		fprintf(f, "%s\"0x%02x\":%llu", sep, c, U(st->per_type[c]));
		sep = ",";
	}
	fprintf(f,
		"},\"selected\":%llu,\"decoded\":%llu,\"gaps\":%llu,\"gap_messages\":%llu,"
		"\"duplicates\":%llu,\"duplicate_packets\":%llu,\"filled\":%llu,"
		"\"heartbeats\":%llu,\"end_of_session\":%llu,\"session_changes\":%llu,"
		"\"unsequenced_packets\":%llu,\"stale_packets\":%llu,\"session_resets\":%llu,"
		"\"session_resets_skipped\":%llu,\"streams\":[",
		U(st->selected), U(st->decoded), U(t.gaps), U(t.gap_messages),
		U(t.duplicate_messages), U(t.duplicate_packets), U(t.filled_messages),
		U(t.heartbeats), U(t.end_of_session), U(t.session_changes),
		U(t.unsequenced_packets), U(t.stale_packets), U(st->session_resets),
		U(st->session_resets_skipped));
	for (unsigned int s = 0; s < p->nstreams; s++) {
		const struct fg_mold_seq *q = &p->streams[s];
		uint64_t pk = 0, msgs = 0;

		for (unsigned int i = 0; i < p->nfeeds; i++) {
			if (p->feeds[i].stream != s)
				continue;
			pk += p->feeds[i].packets;
			msgs += p->feeds[i].messages;
		}
		fprintf(f, "%s{\"name\":\"%s\",\"session\":\"", s ? "," : "",
			p->stream_info[s].name);
		if (q->have_session)
			json_bytes(f, q->session, FG_MOLD_SESSION_LEN);
		fprintf(f,
			"\",\"next_seq\":%llu,\"packets\":%llu,\"messages\":%llu,\"gaps\":%llu,"
			"\"gap_messages\":%llu,\"duplicates\":%llu,\"ended\":%s}",
			U(q->next), U(pk), U(msgs), U(q->st.gaps), U(q->st.gap_messages),
			U(q->st.duplicate_messages), q->ended ? "true" : "false");
	}
	fprintf(f, "]");
	/* Issue 6: a full order table must be reported, not only counted. */
	if (p->books) {
		struct fg_books_stats b;

		books_stats_total(p, &b);
		fprintf(f,
			",\"books\":{\"order_capacity\":%u,\"orders_live\":%llu,"
			"\"orders_peak\":%llu,\"overflows\":%llu,\"unknown_refs\":%llu}",
			b.order_capacity, U(b.orders_live), U(b.orders_peak), U(b.overflows),
			U(b.unknown_refs));
	}
	fprintf(f, "}\n");
}

void fg_pipeline_summary_print(const struct fg_pipeline *p, FILE *f)
{
	const struct fg_pipeline_stats *st = &p->st;
	struct fg_pipeline_seq_totals t;
	int col = 0;

	fg_pipeline_seq_totals(p, &t);
	if (st->frames)
		fprintf(f,
			"frames      %llu (UDP %llu, not IP %llu, not UDP %llu, fragments %llu, "
			"UDP not on a feed %llu)\n",
			U(st->frames), U(st->net[FG_NET_UDP]), U(st->net[FG_NET_NOT_IP]),
			U(st->net[FG_NET_NOT_UDP]), U(st->net[FG_NET_FRAGMENT]),
			U(st->unmatched + st->not_mold));
	fprintf(f, "messages    %llu (selected %llu, decoded %llu)\n", U(st->messages),
		U(st->selected), U(st->decoded));
	for (int c = 0; c < 256; c++) {
		if (!st->per_type[c])
			continue;
		if (!col)
			fprintf(f, "  per type ");
		if (fg_itch_msg_len((uint8_t)c))
			fprintf(f, " %c %-10llu", c, U(st->per_type[c]));
		else
			fprintf(f, " 0x%02x %-7llu", c, U(st->per_type[c]));
		if (++col == 6) {
			fputc('\n', f);
			col = 0;
		}
	}
	if (col)
		fputc('\n', f);
	/* Sequencing means nothing for bare message files (BinaryFILE). */
	if (st->packets || p->nstreams)
		fprintf(f,
			"sequencing  gaps %llu (%llu messages), duplicates %llu, filled late %llu, "
			"heartbeats %llu, end of session %llu, session changes %llu (state reset "
			"%llu, kept %llu), unsequenced packets %llu\n",
			U(t.gaps), U(t.gap_messages), U(t.duplicate_messages), U(t.filled_messages),
			U(t.heartbeats), U(t.end_of_session), U(t.session_changes),
			U(st->session_resets), U(st->session_resets_skipped),
			U(t.unsequenced_packets));
	fprintf(f, "malformed   %llu (L2 %llu, IP %llu, UDP %llu", U(malformed_total(st)),
		U(st->net[FG_NET_BAD_L2]), U(st->net[FG_NET_BAD_IP]), U(st->net[FG_NET_BAD_UDP]));
	for (int k = 0; k < FG_MOLD_BAD_NKINDS; k++)
		fprintf(f, ", %s %llu", fg_mold_bad_name(k), U(st->mold_bad[k]));
	fprintf(f, ", unknown type %llu, length mismatch %llu, empty %llu)\n", U(st->unknown_type),
		U(st->length_mismatch), U(st->empty_messages));
	for (unsigned int s = 0; s < p->nstreams; s++) {
		const struct fg_mold_seq *q = &p->streams[s];

		fprintf(f, "stream      %s  session '", p->stream_info[s].name);
		for (int i = 0; i < FG_MOLD_SESSION_LEN && q->have_session; i++)
			fputc(q->session[i] >= 0x20 && q->session[i] < 0x7f ? q->session[i] : '.',
			      f);
		fprintf(f, "'  next %llu  packets %llu  gaps %llu  duplicates %llu%s\n", U(q->next),
			U(q->st.packets), U(q->st.gaps), U(q->st.duplicate_messages),
			q->ended ? "  (ended)" : "");
	}
	if (p->books) {
		struct fg_books_stats b;

		books_stats_total(p, &b);
		fprintf(f,
			"books       orders live %llu (peak %llu of %u), overflows %llu%s, unknown "
			"refs %llu\n",
			U(b.orders_live), U(b.orders_peak), b.order_capacity, U(b.overflows),
			b.overflows ? " (order table full: adds dropped)" : "", U(b.unknown_refs));
	}
}
