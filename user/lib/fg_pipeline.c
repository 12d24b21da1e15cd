// SPDX-License-Identifier: MIT
/*
 * The market-data pipeline (include/feedgate/pipeline.h): frames -> feeds ->
 * the feed's sequencer (fg_seqr: lines, hold buffer, re-requests) -> one
 * filter call over every message of the batch -> decode of the selected
 * ones -> books, callbacks, JSON lines.
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
#include <unistd.h>
#include <sys/socket.h>
#include <time.h>

#include "feedgate/book.h"
#include "feedgate/filter.h"
#include "feedgate/pipeline.h"
#include "feedgate/seqr.h"
#include "fg_itch_int.h"
#include "fg_json.h"
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
	uint8_t line; /* this destination's line of the stream */
	uint8_t addr[16];
	uint64_t packets;
	uint64_t messages;
	char name[FG_PIPELINE_FEED_NAME_LEN];
};

struct stream {
	struct fg_pipeline *p;
	unsigned int idx;
	struct fg_seqr *sq;
	char name[2 * FG_PIPELINE_FEED_NAME_LEN + 2];
	unsigned int nlines;
	char line_name[FG_SEQR_MAX_LINES][FG_PIPELINE_FEED_NAME_LEN];
	int rr_fd; /* the re-request server's socket (the caller's), -1: none */
	char jprefix
		[640]; /* {"feed":NAME, for the decode lines (NAME escaped: up to 6 bytes a byte) */
	size_t jprefix_len;
	uint64_t rr_recv_errors;
	uint64_t now; /* time of the packet being sequenced */
};

struct queued_gap {
	struct fg_seqr_gap g;
	uint16_t stream;
	uint32_t at; /* batch position the gap comes before */
};

/* By rule (feedgate run): a frame's rule id names its stream and line. */
struct rule_map {
	uint16_t stream1; /* stream + 1; 0: not a configured line */
	uint8_t line;
};

#define RULE_MAP_SIZE 4096 /* rule ids are below FG_MAX_RULES (fg_maps.h) */

#define DELIVER_RUN 256

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
	struct stream *streams; /* FG_PIPELINE_MAX_FEEDS of them */
	struct rule_map *rules; /* [RULE_MAP_SIZE] when configured by rule */

	uint64_t raw_seq;

	/* The batch being gathered. */
	unsigned int n;
	const uint8_t **msgs;
	uint16_t *lens;
	uint16_t *feed_of;
	uint16_t *idx;
	uint64_t *seqs;
	uint64_t *rx_ns;
	uint8_t (*copies)[64]; /* messages out of a hold buffer, copied for the batch */
	unsigned int ngaps;
	struct queued_gap gaps[GAP_QUEUE];

	struct fg_pipeline_stats st;
	struct fg_books_stats books_prev; /* counters of the books dropped by session resets */
	char json[FG_ITCH_JSON_MAX + 2];
	/* A run of the batch decoded ahead of delivery, so that the books read ahead over it. */
	struct fg_itch_msg run[DELIVER_RUN];
	uint16_t run_at[DELIVER_RUN]; /* batch positions */
};

/* --- output -------------------------------------------------------------------------------- */

static const char *const gap_state_name[] = {
	[FG_SEQR_RECOVERED] = "recovered",
	[FG_SEQR_UNRECOVERED] = "unrecovered",
};

static void emit_gap(struct fg_pipeline *p, unsigned int stream, const struct fg_seqr_gap *g)
{
	const char *name = p->streams[stream].name;

	if (p->cfg.decode) {
		fprintf(p->cfg.decode, "{\"event\":\"gap\",\"feed\":");
		fg_json_str(p->cfg.decode, name);
		fprintf(p->cfg.decode, ",\"session\":");
		fg_json_strn(p->cfg.decode, g->session, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode,
			",\"first\":%llu,\"last\":%llu,\"count\":%llu,\"state\":\"%s\"",
			(unsigned long long)g->first, (unsigned long long)g->last,
			(unsigned long long)(g->last - g->first + 1), gap_state_name[g->state]);
		if (g->state == FG_SEQR_RECOVERED)
			fprintf(p->cfg.decode, ",\"latency_ns\":%llu}\n",
				(unsigned long long)g->latency_ns);
		else
			fprintf(p->cfg.decode, ",\"reason\":\"%s\"}\n",
				g->why ? g->why : "unknown");
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

		if (l > 1) {
			/* {"feed":NAME, then the message's own members */
			if (p->feed_of[j] < p->nstreams && p->streams[p->feed_of[j]].jprefix_len) {
				const struct stream *st = &p->streams[p->feed_of[j]];

				fwrite(st->jprefix, 1, st->jprefix_len, p->cfg.decode);
				p->json[l] = '\n';
				fwrite(p->json + 1, 1, (size_t)l, p->cfg.decode);
			} else {
				p->json[l] = '\n';
				fwrite(p->json, 1, (size_t)l + 1, p->cfg.decode);
			}
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

	if (n) {
		if (p->filter)
			sel = fg_filter_select_learn(p->filter, p->msgs, p->lens, n, p->idx);
		else
			sel = n;
		p->st.batches++;
		p->st.selected += sel;
		for (unsigned int k = 0; k < sel;) {
			unsigned int nr = 0;

			/* Decode a run first, so that the books can read ahead over it. */
			for (; k < sel && nr < DELIVER_RUN; k++) {
				unsigned int j = p->filter ? p->idx[k] : k;
				struct fg_itch_msg *m = &p->run[nr];

				if (fg_itch_decode_count(p->msgs[j], p->lens[j], m, &p->st.itch))
					continue;
				p->st.decoded++;
				/* The filter passes every R to build the directory; the user gets
				 * only those of the subscription. */
				if (m->type == FG_ITCH_STOCK_DIRECTORY && p->filter &&
				    (!p->want_r ||
				     !fg_filter_locate_subscribed(p->filter, m->stock_locate)))
					continue;
				p->run_at[nr++] = (uint16_t)j;
			}
			for (unsigned int r = 0; r < nr; r++) {
				unsigned int j = p->run_at[r];

				while (gi < p->ngaps && p->gaps[gi].at <= j) {
					emit_gap(p, p->gaps[gi].stream, &p->gaps[gi].g);
					gi++;
				}
				if (p->books)
					fg_books_prefetch(p->books, p->run, nr, r);
				deliver(p, j, &p->run[r]);
			}
		}
	}
	while (gi < p->ngaps) {
		emit_gap(p, p->gaps[gi].stream, &p->gaps[gi].g);
		gi++;
	}
	p->n = 0;
	p->ngaps = 0;
}

/* A gap event of stream st, kept in stream order with the gathered messages. */
static void on_seq_gap(void *ctx, const struct fg_seqr_gap *g)
{
	struct stream *st = ctx;
	struct fg_pipeline *p = st->p;

	/* Nothing gathered: nothing to keep the order with. The queue full: make room
	 * (the sequencer's state is not touched by running the batch). */
	if (p->ngaps == GAP_QUEUE)
		run_batch(p);
	if (!p->n) {
		emit_gap(p, st->idx, g);
		return;
	}
	p->gaps[p->ngaps].g = *g;
	p->gaps[p->ngaps].stream = (uint16_t)st->idx;
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
	rc = fg_filter_new(&f);
	if (rc)
		return rc;
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
		if (o != s && fg_seqr_stats(p->streams[o].sq)->delivered)
			return 1;
	return 0;
}

static const char *const session_state_name[] = {
	[FG_PIPELINE_SESSION_RESET] = "reset",
	[FG_PIPELINE_SESSION_KEPT_SHARED] = "kept_shared",
	[FG_PIPELINE_SESSION_KEPT_NOMEM] = "kept_no_memory",
};

/*
 * Stream s has just left its session for a new one (its sequencer delivered
 * the old session's last message; the new one's first is not gathered yet). Stock
 * locates are assigned per day (ITCH 5.0 section 1.2) and order reference
 * numbers restart with the day, so the directory and the books of the old
 * session would file the new one's messages under the wrong symbols and
 * orders: start both afresh, with the subscription applied again. Once a
 * day, so allocating here is fine.
 */
static void session_change(struct fg_pipeline *p, unsigned int s, const char *prev,
			   const char *session)
{
	const char *name = p->streams[s].name;
	enum fg_pipeline_session_state state = FG_PIPELINE_SESSION_RESET;
	struct fg_filter *nf = NULL;
	struct fg_books *nb = NULL;

	/* What was gathered of the old session is judged and applied with the old state,
	 * and its last gaps (flushed by the change) reported, before anything changes. */
	run_batch(p);
	if (state_shared(p, s)) {
		state = FG_PIPELINE_SESSION_KEPT_SHARED;
	} else if ((p->filter && make_filter(&p->cfg, &nf)) ||
		   (p->books && fg_books_new(p->cfg.order_capacity, p->cfg.book_cb, &nb))) {
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
		fprintf(p->cfg.decode, "{\"event\":\"session_change\",\"feed\":");
		fg_json_str(p->cfg.decode, name);
		fprintf(p->cfg.decode, ",\"previous\":");
		fg_json_strn(p->cfg.decode, prev, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode, ",\"session\":");
		fg_json_strn(p->cfg.decode, session, FG_MOLD_SESSION_LEN);
		fprintf(p->cfg.decode, ",\"state\":\"%s\"}\n", session_state_name[state]);
	}
	if (p->cfg.on_session_change)
		p->cfg.on_session_change(p->cfg.ctx, name, prev, session, state);
}

static void on_seq_session(void *ctx, const char *prev, const char *session)
{
	struct stream *st = ctx;

	if (prev) /* the first session of a stream changes nothing */
		session_change(st->p, st->idx, prev, session);
}

static inline void gather_one(struct fg_pipeline *p, const uint8_t *msg, uint16_t len,
			      uint16_t feed, uint64_t seq, uint64_t rx_ns);

static void on_seq_message(void *ctx, uint64_t seq, const uint8_t *msg, uint16_t len,
			   unsigned int line, bool in_packet)
{
	struct stream *st = ctx;
	struct fg_pipeline *p = st->p;

	(void)line;
	if (!in_packet) {
		/* Out of the hold buffer, which may be reused before the batch runs. */
		if (len > sizeof(p->copies[0]))
			len = sizeof(p->copies[0]);
		memcpy(p->copies[p->n], msg, len);
		msg = p->copies[p->n];
	}
	gather_one(p, msg, len, (uint16_t)st->idx, seq, st->now);
}

/* The re-request server's socket of a stream: requests out, replies in. */
static int on_seq_request(void *ctx, const uint8_t *req, unsigned int len)
{
	struct stream *st = ctx;

	if (send(st->rr_fd, req, len, MSG_DONTWAIT) != (ssize_t)len)
		return -errno;
	return 0;
}

static void poll_replies(struct stream *st, uint64_t now)
{
	uint8_t buf[2048];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(st->rr_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				st->rr_recv_errors++; /* ECONNREFUSED: nobody at the server's port */
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			/* larger than any MoldUDP64 datagram: counted as malformed */
			fg_seqr_reply(st->sq, buf, 0, now);
			continue;
		}
		st->now = now;
		fg_seqr_reply(st->sq, buf, (unsigned int)n, now);
	}
}

/* --- gathering ----------------------------------------------------------------------------- */

/* Inlined: it runs once per message, and as a call it paid its prologue every time. */
static inline __attribute__((always_inline)) void gather_one(struct fg_pipeline *p,
							     const uint8_t *msg, uint16_t len,
							     uint16_t feed, uint64_t seq,
							     uint64_t rx_ns)
{
	unsigned int n = p->n;
	size_t want;

	/* len >= 1: MoldUDP64 parsing and the raw entry reject empty messages. */
	p->st.messages++;
	p->st.per_type[msg[0]]++;
	want = fg_itch_len_tab[msg[0]];
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

static int new_stream(struct fg_pipeline *p, const char *name)
{
	unsigned int s = p->nstreams;
	struct stream *st = &p->streams[s];
	struct fg_seqr_config c = {
		.hold = p->cfg.hold,
		.gap_wait_ns = p->window_ns,
		.retry_ns = p->cfg.retry_ns,
		.retries = p->cfg.retries,
		.max_inflight = p->cfg.max_inflight,
		.max_request = p->cfg.max_request,
		.ctx = st,
		.send_request = on_seq_request,
		.on_message = on_seq_message,
		.on_gap = on_seq_gap,
		.on_session = on_seq_session,
	};
	int rc;

	if (s == FG_PIPELINE_MAX_FEEDS)
		return -ENOSPC;
	memset(st, 0, sizeof(*st));
	st->p = p;
	st->idx = s;
	st->rr_fd = -1;
	snprintf(st->name, sizeof(st->name), "%s", name);
	{
		FILE *m = fmemopen(st->jprefix, sizeof(st->jprefix), "w");

		if (m) {
			fputs("{\"feed\":", m);
			fg_json_str(m, st->name);
			fputc(',', m);
			st->jprefix_len = ferror(m) ? 0 : (size_t)ftell(m);
			fclose(m);
		}
	}
	for (unsigned int i = 0; i < p->cfg.nrerequest; i++) {
		if (!strcmp(p->cfg.rerequest[i].feed, name) && p->cfg.rerequest[i].fd >= 0) {
			st->rr_fd = p->cfg.rerequest[i].fd;
			c.rerequest = true;
		}
	}
	rc = fg_seqr_new(&c, &st->sq);
	if (rc) {
		if (rc == -EINVAL)
			pr_warn("pipeline: hold %u messages: want a power of two from 2 to 2^24\n",
				p->cfg.hold);
		return rc;
	}
	p->nstreams++;
	return (int)s;
}

/* Line names of a stream, for the summaries. */
static int stream_add_line(struct stream *st, const char *name)
{
	if (st->nlines == FG_SEQR_MAX_LINES)
		return -E2BIG;
	snprintf(st->line_name[st->nlines], sizeof(st->line_name[0]), "%s", name);
	return (int)st->nlines++;
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
		s = new_stream(p, f->name);
		if (s < 0)
			return s;
		f->stream = (uint16_t)s;
		f->line = (uint8_t)stream_add_line(&p->streams[s], f->name);
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

/* The stream and line of a frame configured by rule, or -1. */
static int by_rule(const struct fg_pipeline *p, const struct fg_frame *fr, unsigned int *line)
{
	const struct rule_map *m;

	if (!p->rules || fr->rule_id >= RULE_MAP_SIZE)
		return -1;
	m = &p->rules[fr->rule_id];
	if (!m->stream1)
		return -1;
	*line = m->line;
	return m->stream1 - 1;
}

void fg_pipeline_frames(struct fg_pipeline *p, const struct fg_frame *frames, unsigned int n)
{
	uint64_t now_fallback = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct fg_frame *fr = &frames[i];
		struct fg_mold_packet pkt;
		struct fg_flow flow;
		const uint8_t *pl;
		uint32_t plen;
		unsigned int line = 0;
		uint64_t now;
		int kind, fi = -1, si, bad;
		struct stream *st;

		p->st.frames++;
		kind = fg_net_parse(fr, &flow, &pl, &plen);
		p->st.net[kind]++;
		if (kind != FG_NET_UDP)
			continue;
		si = by_rule(p, fr, &line);
		if (si < 0) {
			fi = feed_find(p, &flow);
			if (fi < 0 && (p->fixed_feeds || p->rules)) {
				p->st.unmatched++;
				continue;
			}
		}
		if (fg_mold_parse(pl, plen, &pkt, &bad)) {
			/* Malformed on a feed; on a destination that is not one yet, merely
			 * other UDP traffic (feeds are only made from valid packets). */
			if (fi < 0 && si < 0)
				p->st.not_mold++;
			else
				p->st.mold_bad[bad]++;
			continue;
		}
		if (si < 0) {
			if (fi < 0) {
				fi = add_feed(p, flow.family, flow.dst, flow.dport, 1);
				if (fi < 0) {
					p->st.feed_overflow++;
					continue;
				}
				p->last_feed = fi;
			}
			p->feeds[fi].packets++;
			si = p->feeds[fi].stream;
			line = p->feeds[fi].line;
		}
		st = &p->streams[si];
		p->st.packets++;
		now = fr->take_ns ? fr->take_ns : fr->xdp_ns;
		if (!now) {
			if (!now_fallback)
				now_fallback = mono_ns();
			now = now_fallback;
		}
		st->now = now;
		fg_seqr_packet(st->sq, line, &pkt, now);
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
	for (unsigned int s = 0; s < p->nstreams; s++) {
		struct stream *st = &p->streams[s];

		if (!fg_seqr_busy(st->sq))
			continue;
		st->now = now_ns;
		if (st->rr_fd >= 0)
			poll_replies(st, now_ns);
		fg_seqr_tick(st->sq, now_ns);
	}
	run_batch(p);
}

bool fg_pipeline_busy(const struct fg_pipeline *p)
{
	for (unsigned int s = 0; s < p->nstreams; s++)
		if (fg_seqr_busy(p->streams[s].sq))
			return true;
	return false;
}

void fg_pipeline_finish(struct fg_pipeline *p)
{
	run_batch(p);
	for (unsigned int s = 0; s < p->nstreams; s++)
		fg_seqr_flush(p->streams[s].sq, "end of input");
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
	char a[128], name[sizeof(p->streams[0].name)];
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
	s = new_stream(p, name);
	if (s < 0)
		return s;
	for (int k = 0; k < 2; k++) {
		p->feeds[f[k]].stream = (uint16_t)s;
		p->feeds[f[k]].line = (uint8_t)stream_add_line(&p->streams[s], p->feeds[f[k]].name);
	}
	return 0;
}

/*
 * A line's destination as a feed of the stream too: a frame whose rule id
 * the pipeline does not know yet (its rule added again under a new id, not
 * yet passed on by fg_pipeline_set_lines) still finds its stream and line.
 * Best effort: a group that does not parse or no room left, and only the
 * rule id leads there.
 */
static void line_flow(struct fg_pipeline *p, const char *group, unsigned int s, unsigned int line)
{
	uint8_t fam, addr[16];
	uint16_t port;
	int fi;

	if (!group || fg_net_parse_endpoint(group, &fam, addr, &port))
		return;
	fi = find_feed(p, fam, addr, port);
	if (fi < 0)
		fi = add_feed(p, fam, addr, port, 0);
	if (fi < 0)
		return;
	p->feeds[fi].stream = (uint16_t)s;
	p->feeds[fi].line = (uint8_t)line;
}

/* The lines of feedgate's rules: one stream per feed id, one line per rule. */
static int setup_lines(struct fg_pipeline *p)
{
	const struct fg_pipeline_config *cfg = &p->cfg;

	p->rules = calloc(RULE_MAP_SIZE, sizeof(*p->rules));
	if (!p->rules)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->nlines; i++) {
		const struct fg_pipeline_line *l = &cfg->lines[i];
		int s = -1, line;

		if (l->rule_id >= RULE_MAP_SIZE || p->rules[l->rule_id].stream1) {
			pr_warn("pipeline: line %u: rule id %u out of range or listed twice\n", i,
				l->rule_id);
			return -EINVAL;
		}
		/* The stream of the feed, made by its first line. */
		for (unsigned int j = 0; j < i && s < 0; j++)
			if (cfg->lines[j].feed_id == l->feed_id)
				s = p->rules[cfg->lines[j].rule_id].stream1 - 1;
		if (s < 0) {
			s = new_stream(p, l->feed && *l->feed ? l->feed : l->group);
			if (s < 0)
				return s;
		}
		line = stream_add_line(&p->streams[s], l->group ? l->group : "?");
		if (line < 0) {
			pr_warn("pipeline: feed '%s': more than %d lines\n", p->streams[s].name,
				FG_SEQR_MAX_LINES);
			return -E2BIG;
		}
		p->rules[l->rule_id].stream1 = (uint16_t)(s + 1);
		p->rules[l->rule_id].line = (uint8_t)line;
		line_flow(p, l->group, (unsigned int)s, (unsigned int)line);
	}
	return 0;
}

static int stream_by_name(const struct fg_pipeline *p, const char *name)
{
	for (unsigned int s = 0; s < p->nstreams; s++)
		if (!strcmp(p->streams[s].name, name))
			return (int)s;
	return -1;
}

int fg_pipeline_set_lines(struct fg_pipeline *p, const struct fg_pipeline_line *lines,
			  unsigned int n)
{
	struct rule_map *m;
	int ret = 0;

	if (!p->rules)
		return -EINVAL;
	m = calloc(RULE_MAP_SIZE, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (unsigned int i = 0; i < n && !ret; i++) {
		const struct fg_pipeline_line *l = &lines[i];
		const char *name = l->feed && *l->feed ? l->feed : l->group ? l->group : "?";
		const char *lname = l->group ? l->group : "?";
		struct stream *st;
		int s, line = -1;

		if (l->rule_id >= RULE_MAP_SIZE || m[l->rule_id].stream1) {
			ret = -EINVAL;
			break;
		}
		s = stream_by_name(p, name);
		/* an unnamed feed's second line: the stream its first line found */
		for (unsigned int j = 0; j < i && s < 0; j++)
			if (lines[j].feed_id == l->feed_id)
				s = m[lines[j].rule_id].stream1 - 1;
		if (s < 0) {
			s = new_stream(p, name);
			if (s < 0) {
				ret = s;
				break;
			}
		}
		st = &p->streams[s];
		for (unsigned int k = 0; k < st->nlines && line < 0; k++)
			if (!strcmp(st->line_name[k], lname))
				line = (int)k;
		if (line < 0)
			line = stream_add_line(st, lname);
		if (line < 0) {
			ret = line;
			break;
		}
		m[l->rule_id].stream1 = (uint16_t)(s + 1);
		m[l->rule_id].line = (uint8_t)line;
		line_flow(p, l->group, (unsigned int)s, (unsigned int)line);
	}
	if (!ret)
		memcpy(p->rules, m, RULE_MAP_SIZE * sizeof(*m));
	free(m);
	return ret;
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
	p->copies = calloc(B, sizeof(*p->copies));
	p->msgs = calloc(B, sizeof(*p->msgs));
	p->lens = calloc(B, sizeof(*p->lens));
	p->feed_of = calloc(B, sizeof(*p->feed_of));
	p->idx = calloc(B, sizeof(*p->idx));
	p->seqs = calloc(B, sizeof(*p->seqs));
	p->rx_ns = calloc(B, sizeof(*p->rx_ns));
	if (!p->streams || !p->copies || !p->msgs || !p->lens || !p->feed_of || !p->idx ||
	    !p->seqs || !p->rx_ns)
		goto fail;

	p->want_r = !cfg->types || !*cfg->types || strchr(cfg->types, 'R');
	if ((rc = make_filter(cfg, &p->filter)))
		goto fail;

	if (cfg->nlines && (rc = setup_lines(p)) < 0)
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
		rc = fg_books_new(cfg->order_capacity, cfg->book_cb, &p->books);
		if (rc)
			goto fail;
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
	free(p->copies);
	for (unsigned int s = 0; s < p->nstreams; s++)
		fg_seqr_free(p->streams[s].sq);
	free(p->streams);
	free(p->rules);
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
		const struct fg_seqr_stats *st = fg_seqr_stats(p->streams[s].sq);

		t->heartbeats += st->heartbeats;
		t->end_of_session += st->end_of_session;
		t->session_changes += st->session_changes;
		t->gaps += st->gaps_unrecovered;
		t->gap_messages += st->msgs_unrecovered;
		t->recovered += st->gaps_recovered;
		t->recovered_messages += st->msgs_recovered;
		t->held_messages += st->held;
		t->unsequenced_packets += st->unsequenced;
		t->requests += st->requests;
		t->replies += st->replies;
		if (st->hold_high > t->hold_high)
			t->hold_high = st->hold_high;
		for (unsigned int l = 0; l < FG_SEQR_MAX_LINES; l++) {
			t->duplicate_messages += st->line[l].duplicates;
			t->stale_packets += st->line[l].stale;
		}
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

const struct fg_seqr *fg_pipeline_feed_seq(const struct fg_pipeline *p, unsigned int feed)
{
	return feed < p->nfeeds ? p->streams[p->feeds[feed].stream].sq : NULL;
}

unsigned int fg_pipeline_nstreams(const struct fg_pipeline *p)
{
	return p->nstreams;
}

const struct fg_seqr *fg_pipeline_stream(const struct fg_pipeline *p, unsigned int s,
					 const char **name)
{
	if (s >= p->nstreams)
		return NULL;
	if (name)
		*name = p->streams[s].name;
	return p->streams[s].sq;
}

const char *fg_pipeline_stream_line(const struct fg_pipeline *p, unsigned int s, unsigned int l)
{
	return s < p->nstreams && l < p->streams[s].nlines ? p->streams[s].line_name[l] : NULL;
}

static uint64_t malformed_total(const struct fg_pipeline_stats *st)
{
	uint64_t n = st->net[FG_NET_BAD_L2] + st->net[FG_NET_BAD_IP] + st->net[FG_NET_BAD_UDP];

	for (int k = 0; k < FG_MOLD_BAD_NKINDS; k++)
		n += st->mold_bad[k];
	return n + st->unknown_type + st->length_mismatch + st->empty_messages;
}

#define U(x) ((unsigned long long)(x))

static uint64_t stream_dups(const struct fg_seqr_stats *ss)
{
	uint64_t n = 0;

	for (unsigned int l = 0; l < FG_SEQR_MAX_LINES; l++)
		n += ss->line[l].duplicates;
	return n;
}

/* What line l did not bring: the messages another line or the server supplied. */
static uint64_t line_loss(const struct fg_seqr_stats *ss, unsigned int l)
{
	uint64_t got = ss->line[l].messages + ss->line[l].duplicates;

	return ss->delivered > got ? ss->delivered - got : 0;
}

void fg_pipeline_stream_json(const struct fg_pipeline *p, unsigned int s, FILE *f)
{
	const struct stream *q = &p->streams[s];
	const struct fg_seqr_stats *ss = fg_seqr_stats(q->sq);
	const char *session = fg_seqr_session(q->sq);
	uint64_t pk = 0;

	for (unsigned int l = 0; l < q->nlines; l++)
		pk += ss->line[l].packets;
	fprintf(f, "{\"name\":");
	fg_json_str(f, q->name);
	fprintf(f, ",\"session\":");
	if (session)
		fg_json_strn(f, session, FG_MOLD_SESSION_LEN);
	else
		fputs("null", f);
	fprintf(f,
		",\"next_seq\":%llu,\"packets\":%llu,\"messages\":%llu,\"gaps\":%llu,"
		"\"gap_messages\":%llu,\"recovered\":%llu,\"recovered_messages\":%llu,"
		"\"duplicates\":%llu,\"held\":%llu,\"hold_high\":%llu,\"hold_full\":%llu,"
		"\"requests\":%llu,\"request_errors\":%llu,\"replies\":%llu,"
		"\"reply_messages\":%llu,\"replies_rejected\":{\"wrong_session\":%llu,"
		"\"unasked\":%llu,\"malformed\":%llu,\"duplicate_messages\":%llu,"
		"\"recv_errors\":%llu},",
		U(fg_seqr_next(q->sq)), U(pk), U(ss->delivered), U(ss->gaps_unrecovered),
		U(ss->msgs_unrecovered), U(ss->gaps_recovered), U(ss->msgs_recovered),
		U(stream_dups(ss)), U(ss->held), U(ss->hold_high), U(ss->hold_full),
		U(ss->requests), U(ss->request_errors), U(ss->replies), U(ss->reply_messages),
		U(ss->reply_wrong_session), U(ss->reply_unasked), U(ss->reply_bad),
		U(ss->reply_dup_messages), U(q->rr_recv_errors));
	fprintf(f,
		"\"recovery_ns\":{\"count\":%llu,\"p50\":%llu,\"p99\":%llu,\"max\":%llu},"
		"\"ended\":%s,\"lines\":[",
		U(ss->gaps_recovered), U(fg_seqr_recovery_ns(q->sq, 50)),
		U(fg_seqr_recovery_ns(q->sq, 99)), U(fg_seqr_recovery_max_ns(q->sq)),
		ss->end_of_session ? "true" : "false");
	for (unsigned int l = 0; l < q->nlines; l++) {
		const struct fg_seqr_line_stats *ls = &ss->line[l];

		fprintf(f, "%s{\"name\":", l ? "," : "");
		fg_json_str(f, q->line_name[l]);
		fprintf(f,
			",\"packets\":%llu,\"messages\":%llu,\"duplicates\":%llu,"
			"\"loss\":%llu,\"stale\":%llu}",
			U(ls->packets), U(ls->messages), U(ls->duplicates), U(line_loss(ss, l)),
			U(ls->stale));
	}
	fprintf(f, "]}");
}

uint64_t fg_pipeline_stream_packets(const struct fg_pipeline *p, unsigned int s)
{
	const struct fg_seqr_stats *ss = fg_seqr_stats(p->streams[s].sq);
	uint64_t pk = 0;

	for (unsigned int l = 0; l < FG_SEQR_MAX_LINES; l++)
		pk += ss->line[l].packets;
	return pk;
}

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
		"\"duplicates\":%llu,\"recovered\":%llu,\"recovered_messages\":%llu,\"held\":%llu,"
		"\"heartbeats\":%llu,\"end_of_session\":%llu,\"session_changes\":%llu,"
		"\"unsequenced_packets\":%llu,\"stale_packets\":%llu,\"session_resets\":%llu,"
		"\"session_resets_skipped\":%llu,\"streams\":[",
		U(st->selected), U(st->decoded), U(t.gaps), U(t.gap_messages),
		U(t.duplicate_messages), U(t.recovered), U(t.recovered_messages),
		U(t.held_messages), U(t.heartbeats), U(t.end_of_session), U(t.session_changes),
		U(t.unsequenced_packets), U(t.stale_packets), U(st->session_resets),
		U(st->session_resets_skipped));
	for (unsigned int s = 0; s < p->nstreams; s++) {
		if (s)
			fputc(',', f);
		fg_pipeline_stream_json(p, s, f);
	}
	fprintf(f, "]");
	/* A full order table must be reported, not only counted. */
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

void fg_pipeline_stream_print(const struct fg_pipeline *p, unsigned int s, FILE *f)
{
	const struct stream *q = &p->streams[s];
	const struct fg_seqr_stats *ss = fg_seqr_stats(q->sq);
	const char *session = fg_seqr_session(q->sq);

	fprintf(f, "stream      %s  session '", q->name);
	for (int i = 0; i < FG_MOLD_SESSION_LEN && session; i++)
		fputc(session[i] >= 0x20 && session[i] < 0x7f ? session[i] : '.', f);
	fprintf(f,
		"'  next %llu  delivered %llu  gaps %llu (%llu messages)  recovered %llu "
		"(%llu messages)  duplicates %llu  hold high %llu%s\n",
		U(fg_seqr_next(q->sq)), U(ss->delivered), U(ss->gaps_unrecovered),
		U(ss->msgs_unrecovered), U(ss->gaps_recovered), U(ss->msgs_recovered),
		U(stream_dups(ss)), U(ss->hold_high), ss->end_of_session ? "  (ended)" : "");
	if (ss->requests || q->rr_fd >= 0)
		fprintf(f,
			"  re-requests %llu (send errors %llu), replies %llu (%llu "
			"messages; "
			"rejected: wrong session %llu, unasked %llu, malformed %llu), "
			"recovery p50 %.1f us p99 %.1f us max %.1f us\n",
			U(ss->requests), U(ss->request_errors), U(ss->replies),
			U(ss->reply_messages), U(ss->reply_wrong_session), U(ss->reply_unasked),
			U(ss->reply_bad), (double)fg_seqr_recovery_ns(q->sq, 50) / 1e3,
			(double)fg_seqr_recovery_ns(q->sq, 99) / 1e3,
			(double)fg_seqr_recovery_max_ns(q->sq) / 1e3);
	for (unsigned int l = 0; q->nlines > 1 && l < q->nlines; l++)
		fprintf(f,
			"  line %-24s packets %llu  first %llu  duplicates %llu  loss "
			"%llu%s\n",
			q->line_name[l], U(ss->line[l].packets), U(ss->line[l].messages),
			U(ss->line[l].duplicates), U(line_loss(ss, l)),
			ss->line[l].stale ? "  (stale packets)" : "");
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
			"sequencing  gaps %llu (%llu messages), recovered %llu (%llu messages), "
			"duplicates %llu, held %llu, heartbeats %llu, end of session %llu, session "
			"changes %llu (state reset %llu, kept %llu), unsequenced packets %llu\n",
			U(t.gaps), U(t.gap_messages), U(t.recovered), U(t.recovered_messages),
			U(t.duplicate_messages), U(t.held_messages), U(t.heartbeats),
			U(t.end_of_session), U(t.session_changes), U(st->session_resets),
			U(st->session_resets_skipped), U(t.unsequenced_packets));
	fprintf(f, "malformed   %llu (L2 %llu, IP %llu, UDP %llu", U(malformed_total(st)),
		U(st->net[FG_NET_BAD_L2]), U(st->net[FG_NET_BAD_IP]), U(st->net[FG_NET_BAD_UDP]));
	for (int k = 0; k < FG_MOLD_BAD_NKINDS; k++)
		fprintf(f, ", %s %llu", fg_mold_bad_name(k), U(st->mold_bad[k]));
	fprintf(f, ", unknown type %llu, length mismatch %llu, empty %llu)\n", U(st->unknown_type),
		U(st->length_mismatch), U(st->empty_messages));
	for (unsigned int s = 0; s < p->nstreams; s++)
		fg_pipeline_stream_print(p, s, f);
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
