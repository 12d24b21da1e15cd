// SPDX-License-Identifier: MIT
/*
 * The per-feed sequencer (include/feedgate/seqr.h).
 *
 * State: next (the next sequence number to deliver) and high (one past the
 * highest one known to exist). Every number in [next, high) is either held
 * in its slot (slots[seq & mask]) or inside exactly one range of the sorted
 * range table. After every operation the stream is advanced as far as it
 * goes, so that whenever a range exists the first one starts at next.
 *
 * A range lives in one of three states: WAIT (the other line may still
 * bring it), ASKED (a request is out) and LOST (given up: reported as an
 * unrecovered gap when the stream reaches it; a copy that still arrives
 * before then is taken). The common case, a packet that starts at next
 * with nothing held, delivers straight from the caller's packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/seqr.h"
#include "fg_hist.h"

enum range_state { R_WAIT = 0, R_ASKED, R_LOST };

struct slot {
	uint8_t present;
	uint8_t line;
	uint16_t len;
	uint8_t data[FG_SEQR_SLOT_DATA];
};

_Static_assert(sizeof(struct slot) == 64, "a hold slot is one cache line");

struct range {
	uint64_t first, last; /* still missing, inclusive */
	uint64_t seen_ns; /* when the hole was found */
	uint64_t asked_ns; /* last request */
	uint64_t ask_first, ask_last; /* the hole as found (for the recovered event) */
	uint64_t asked_upto; /* last sequence number requested in that round */
	uint32_t from_reply; /* messages the server filled in */
	uint16_t tries; /* request rounds without progress */
	uint8_t state;
	const char *why; /* LOST: why */
};

/* A recovered range, reported when the stream reaches its first message. */
struct done {
	uint64_t first, last, latency_ns;
};

#define DONE_MAX 256

struct fg_seqr {
	struct fg_seqr_config cfg;
	struct fg_seqr_stats st;
	char session[FG_MOLD_SESSION_LEN];
	char prev[FG_MOLD_SESSION_LEN];
	bool have_session, have_prev, ended;
	uint64_t next, high;
	uint64_t nheld;
	uint32_t mask;
	struct slot *slots;
	unsigned int nranges;
	struct range ranges[FG_SEQR_MAX_RANGES];
	unsigned int ndone;
	struct done done[DONE_MAX]; /* sorted by first */
	struct fg_hist rec; /* recovery latency */
};

/* --- delivery -------------------------------------------------------------------------------- */

static void emit_gap(struct fg_seqr *s, uint64_t first, uint64_t last, enum fg_seqr_gap_state state,
		     uint64_t latency, const char *why)
{
	struct fg_seqr_gap g = {
		.first = first, .last = last, .state = state, .latency_ns = latency, .why = why
	};

	memcpy(g.session, s->session, FG_MOLD_SESSION_LEN);
	if (state == FG_SEQR_RECOVERED) {
		s->st.gaps_recovered++;
		s->st.msgs_recovered += last - first + 1;
	} else {
		s->st.gaps_unrecovered++;
		s->st.msgs_unrecovered += last - first + 1;
	}
	if (s->cfg.on_gap)
		s->cfg.on_gap(s->cfg.ctx, &g);
}

static void remove_range(struct fg_seqr *s, unsigned int i)
{
	memmove(&s->ranges[i], &s->ranges[i + 1], (s->nranges - i - 1) * sizeof(s->ranges[0]));
	s->nranges--;
}

/* Recovered ranges whose messages have all gone out: their events follow them. */
static void emit_done(struct fg_seqr *s)
{
	while (s->ndone && s->done[0].last < s->next) {
		struct done d = s->done[0];

		memmove(&s->done[0], &s->done[1], (s->ndone - 1) * sizeof(s->done[0]));
		s->ndone--;
		emit_gap(s, d.first, d.last, FG_SEQR_RECOVERED, d.latency_ns, NULL);
	}
}

/* Deliver everything that can go, in order: held messages, lost ranges
 * (as gaps, in front of what follows them) and the recovered events
 * (right after the last message of their range). */
static void advance(struct fg_seqr *s)
{
	for (;;) {
		emit_done(s);
		if (s->next >= s->high)
			break;
		if (s->nranges && s->ranges[0].first == s->next) {
			struct range *r = &s->ranges[0];

			if (r->state != R_LOST)
				break;
			s->next = r->last + 1;
			emit_gap(s, r->first, r->last, FG_SEQR_UNRECOVERED, 0, r->why);
			remove_range(s, 0);
			continue;
		}
		{
			struct slot *sl = &s->slots[s->next & s->mask];
			uint64_t seq = s->next++;

			/* By the invariant the slot is held; never deliver an empty one. */
			if (!sl->present)
				continue;
			sl->present = 0;
			s->nheld--;
			s->st.delivered++;
			if (s->cfg.on_message)
				s->cfg.on_message(s->cfg.ctx, seq, sl->data, sl->len, sl->line,
						  false);
		}
	}
}

static void done_push(struct fg_seqr *s, uint64_t first, uint64_t last, uint64_t latency);

/* Give range r up. What the server did send of it (its front, up to the
 * range's first) still counts as recovered. */
static void lose(struct fg_seqr *s, struct range *r, const char *why, uint64_t now)
{
	if (r->from_reply && r->ask_first < r->first)
		done_push(s, r->ask_first, r->first - 1, now > r->seen_ns ? now - r->seen_ns : 0);
	r->from_reply = 0;
	r->state = R_LOST;
	r->why = why;
}

/* Mark ranges[0] (which starts at next) lost up to last at most, and advance. */
static void give_up_front(struct fg_seqr *s, uint64_t upto, const char *why)
{
	struct range *r = &s->ranges[0];

	if (upto < r->last) {
		/* Only the front part: the rest keeps its state. Room is there:
		 * the caller made sure a range can be inserted. */
		memmove(&s->ranges[1], &s->ranges[0], s->nranges * sizeof(s->ranges[0]));
		s->nranges++;
		s->ranges[0].last = upto;
		s->ranges[1].first = upto + 1;
		/* what the server sent of the front is the front's (as in range_fill) */
		if (s->ranges[0].ask_last > upto)
			s->ranges[0].ask_last = upto;
		if (s->ranges[1].ask_first < upto + 1)
			s->ranges[1].ask_first = upto + 1;
		s->ranges[1].from_reply = 0;
		r = &s->ranges[0];
	}
	lose(s, r, why, s->ranges[0].seen_ns);
	advance(s);
}

/* Room for one more range: the oldest one goes when the table is full. */
static void range_room(struct fg_seqr *s)
{
	while (s->nranges >= FG_SEQR_MAX_RANGES - 1) {
		s->st.ranges_overflow++;
		lose(s, &s->ranges[0], "too many holes", s->ranges[0].seen_ns);
		advance(s);
	}
}

/* Index of the range holding seq, or -1. */
static int range_find(const struct fg_seqr *s, uint64_t seq)
{
	int lo = 0, hi = (int)s->nranges - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct range *r = &s->ranges[mid];

		if (seq < r->first)
			hi = mid - 1;
		else if (seq > r->last)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

static void done_push(struct fg_seqr *s, uint64_t first, uint64_t last, uint64_t latency)
{
	unsigned int i = s->ndone;

	fg_hist_record(&s->rec, latency);
	if (s->ndone == DONE_MAX) {
		/* More recovered ranges waiting for the stream than ever asked
		 * for at once: report the oldest now rather than lose one. */
		emit_gap(s, s->done[0].first, s->done[0].last, FG_SEQR_RECOVERED,
			 s->done[0].latency_ns, NULL);
		memmove(&s->done[0], &s->done[1], (s->ndone - 1) * sizeof(s->done[0]));
		s->ndone--;
		i = s->ndone;
	}
	while (i && s->done[i - 1].first > first) {
		s->done[i] = s->done[i - 1];
		i--;
	}
	s->done[i].first = first;
	s->done[i].last = last;
	s->done[i].latency_ns = latency;
	s->ndone++;
}

/* Take seq out of range i (it has arrived). */
static void range_fill(struct fg_seqr *s, int i, uint64_t seq, bool reply, uint64_t now)
{
	struct range *r = &s->ranges[i];

	if (reply)
		r->from_reply++;
	if (r->first == r->last) {
		if (r->from_reply)
			done_push(s, r->ask_first < r->first ? r->ask_first : r->first,
				  r->ask_last > r->last ? r->ask_last : r->last,
				  now > r->seen_ns ? now - r->seen_ns : 0);
		remove_range(s, (unsigned int)i);
	} else if (seq == r->first) {
		r->first++;
	} else if (seq == r->last) {
		r->last--;
	} else {
		/* Split in two; both halves keep the state, timers and request. */
		memmove(&s->ranges[i + 1], &s->ranges[i],
			(s->nranges - (unsigned int)i) * sizeof(s->ranges[0]));
		s->nranges++;
		s->ranges[i].last = seq - 1;
		s->ranges[i + 1].first = seq + 1;
		if (s->ranges[i].ask_last > seq - 1)
			s->ranges[i].ask_last = seq - 1;
		if (s->ranges[i + 1].ask_first < seq + 1)
			s->ranges[i + 1].ask_first = seq + 1;
		s->ranges[i + 1].from_reply = 0;
	}
}

static void store(struct fg_seqr *s, uint64_t seq, const uint8_t *msg, uint16_t len,
		  unsigned int line)
{
	struct slot *sl = &s->slots[seq & s->mask];

	if (len > FG_SEQR_SLOT_DATA) {
		s->st.truncated++;
		len = FG_SEQR_SLOT_DATA;
	}
	memcpy(sl->data, msg, len);
	sl->len = len;
	sl->line = (uint8_t)line;
	sl->present = 1;
	s->nheld++;
	s->st.held++;
	if (s->nheld > s->st.hold_high)
		s->st.hold_high = s->nheld;
}

/* Everything up to last exists but has not arrived: a new hole [high, last]. */
static void open_hole(struct fg_seqr *s, uint64_t last, uint64_t now)
{
	advance(s);
	if (last < s->high)
		return;
	range_room(s);
	if (last >= s->high) { /* range_room may have moved next and high */
		struct range *r = &s->ranges[s->nranges++];

		memset(r, 0, sizeof(*r));
		r->first = s->high;
		r->last = last;
		r->seen_ns = now;
		r->ask_first = r->first;
		r->ask_last = r->last;
		s->high = last + 1;
	}
}

/* Room in the hold for seq (next > seq - cap): the oldest holes are given
 * up when it is full. */
static void make_room(struct fg_seqr *s, uint64_t seq)
{
	const uint64_t cap = (uint64_t)s->mask + 1;

	while (seq >= s->next + cap) {
		range_room(s);
		if (!s->nranges) /* cannot be: [next, high) would have been delivered */
			break;
		s->st.hold_full++;
		/* A hole as wide as the hold itself goes whole: what could be
		 * kept of its tail would be reported as a second gap. */
		if (s->ranges[0].last - s->ranges[0].first + 1 >= cap)
			give_up_front(s, s->ranges[0].last, "hold full");
		else
			give_up_front(s, seq - cap, "hold full");
	}
}

/* One message of a packet (or of a reply). */
static void take(struct fg_seqr *s, uint64_t seq, const uint8_t *msg, uint16_t len,
		 unsigned int line, bool reply, uint64_t now)
{
	struct fg_seqr_line_stats *ls = &s->st.line[line];

	if (seq == s->next && s->next == s->high) {
		/* In order, nothing held: straight from the packet. */
		s->next++;
		s->high++;
		s->st.delivered++;
		if (!reply)
			ls->messages++;
		if (s->cfg.on_message)
			s->cfg.on_message(s->cfg.ctx, seq, msg, len, line, true);
		return;
	}
	if (seq < s->next) {
		if (reply)
			s->st.reply_dup_messages++;
		else
			ls->duplicates++;
		return;
	}
	if (seq < s->high) {
		int i;

		if (s->slots[seq & s->mask].present) {
			if (reply)
				s->st.reply_dup_messages++;
			else
				ls->duplicates++;
			return;
		}
		i = range_find(s, seq);
		if (i < 0) /* cannot be, by the invariant */
			return;
		if (reply && s->ranges[i].state != R_ASKED) {
			s->st.reply_unasked++;
			return;
		}
		range_room(s); /* a split may need one */
		i = range_find(s, seq);
		if (i < 0) {
			/* range_room gave the range up and the stream passed it */
			if (reply)
				s->st.reply_dup_messages++;
			else
				s->st.late++;
			return;
		}
		if (reply) {
			s->st.reply_messages++;
		} else {
			ls->messages++;
		}
		store(s, seq, msg, len, line);
		range_fill(s, i, seq, reply, now);
		return;
	}
	if (reply) {
		s->st.reply_unasked++;
		return;
	}
	if (seq > s->high)
		open_hole(s, seq - 1, now);
	make_room(s, seq);
	if (seq < s->next) { /* cannot be: the room was made below seq */
		ls->duplicates++;
		return;
	}
	ls->messages++;
	store(s, seq, msg, len, line);
	s->high = seq + 1;
}

/* --- requests -------------------------------------------------------------------------------- */

static unsigned int chunks(const struct fg_seqr *s, uint64_t first, uint64_t last)
{
	uint64_t n = last - first + 1;

	return (unsigned int)((n + s->cfg.max_request - 1) / s->cfg.max_request);
}

static unsigned int inflight(const struct fg_seqr *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->nranges; i++)
		if (s->ranges[i].state == R_ASKED && s->ranges[i].asked_upto >= s->ranges[i].first)
			n += chunks(s, s->ranges[i].first,
				    s->ranges[i].asked_upto < s->ranges[i].last
					    ? s->ranges[i].asked_upto
					    : s->ranges[i].last);
	return n;
}

/* Ask for range r, as many requests as the budget allows (at least one). */
static void ask(struct fg_seqr *s, struct range *r, unsigned int budget, uint64_t now)
{
	uint64_t seq = r->first;
	unsigned int sent = 0;

	if (!budget)
		budget = 1;
	if (r->state == R_WAIT)
		r->ask_first = r->first; /* what a line filled before asking is not the server's */
	while (seq <= r->last && sent < budget) {
		uint64_t left = r->last - seq + 1;
		uint16_t n = (uint16_t)(left < s->cfg.max_request ? left : s->cfg.max_request);
		uint8_t req[FG_MOLD_REQUEST_LEN];
		unsigned int len = (unsigned int)fg_mold_build_request(req, s->session, seq, n);

		s->st.requests++;
		if (s->cfg.send_request(s->cfg.ctx, req, len))
			s->st.request_errors++;
		seq += n;
		sent++;
	}
	r->state = R_ASKED;
	r->asked_ns = now;
	r->asked_upto = seq - 1;
	r->tries++;
}

void fg_seqr_tick(struct fg_seqr *s, uint64_t now)
{
	unsigned int busy = s->cfg.rerequest ? inflight(s) : 0;

	for (unsigned int i = 0; i < s->nranges; i++) {
		struct range *r = &s->ranges[i];
		unsigned int want;

		switch (r->state) {
		case R_WAIT:
			if (now - r->seen_ns < s->cfg.gap_wait_ns)
				break;
			if (!s->cfg.rerequest) {
				lose(s, r, "no server", now);
				break;
			}
			want = chunks(s, r->first, r->last);
			if (busy >= s->cfg.max_inflight)
				break; /* waits for a free request slot */
			if (want > s->cfg.max_inflight - busy)
				want = s->cfg.max_inflight - busy;
			ask(s, r, want, now);
			busy += want;
			break;
		case R_ASKED:
			if (r->first > r->asked_upto) {
				/* All that was asked came: ask for the rest at once. */
				want = s->cfg.max_inflight > busy ? s->cfg.max_inflight - busy : 0;
				if (want) {
					r->tries = 0;
					ask(s, r, want, now);
					busy += want;
				}
				break;
			}
			if (now - r->asked_ns < s->cfg.retry_ns)
				break;
			if (r->tries >= s->cfg.retries) {
				lose(s, r, r->from_reply ? "partial reply" : "no reply", now);
				break;
			}
			ask(s, r, s->cfg.max_inflight, now);
			break;
		case R_LOST:
			break;
		}
	}
	advance(s);
}

/* --- packets --------------------------------------------------------------------------------- */

static void new_session(struct fg_seqr *s, const char *session, uint64_t seq)
{
	char prev[FG_MOLD_SESSION_LEN];
	bool had = s->have_session;

	if (had) {
		/* The old session's holes can no longer be filled. */
		for (unsigned int i = 0; i < s->nranges; i++)
			if (s->ranges[i].state != R_LOST)
				lose(s, &s->ranges[i], "session ended", s->ranges[i].seen_ns);
		advance(s);
		memcpy(prev, s->session, FG_MOLD_SESSION_LEN);
		memcpy(s->prev, s->session, FG_MOLD_SESSION_LEN);
		s->have_prev = true;
		s->st.session_changes++;
	}
	memcpy(s->session, session, FG_MOLD_SESSION_LEN);
	s->have_session = true;
	s->ended = false;
	s->next = s->high = seq;
	s->nranges = 0;
	s->ndone = 0;
	if (s->cfg.on_session)
		s->cfg.on_session(s->cfg.ctx, had ? prev : NULL, s->session);
}

void fg_seqr_packet(struct fg_seqr *s, unsigned int line, const struct fg_mold_packet *pkt,
		    uint64_t now)
{
	const struct fg_mold_header *h = &pkt->h;
	struct fg_seqr_line_stats *ls;
	struct fg_mold_iter it;
	const uint8_t *msg;
	uint16_t len;
	uint64_t seq;

	if (line >= FG_SEQR_MAX_LINES)
		line = FG_SEQR_MAX_LINES - 1;
	ls = &s->st.line[line];
	ls->packets++;
	if (!h->seq) {
		/* Not sequenced (zeroed captures): passed on as it comes. */
		s->st.unsequenced++;
		fg_mold_iter_init(&it, pkt);
		while (fg_mold_iter_next(&it, &msg, &len)) {
			s->st.delivered++;
			ls->messages++;
			if (s->cfg.on_message)
				s->cfg.on_message(s->cfg.ctx, 0, msg, len, line, true);
		}
		return;
	}
	if (!s->have_session || memcmp(s->session, h->session, FG_MOLD_SESSION_LEN)) {
		if (s->have_prev && !memcmp(s->prev, h->session, FG_MOLD_SESSION_LEN)) {
			ls->stale++; /* the slower line still in the session we left */
			return;
		}
		new_session(s, h->session, h->seq);
	}
	if (h->count == FG_MOLD_HEARTBEAT || h->count == FG_MOLD_END_OF_SESSION) {
		/* Both carry the next expected number: what lies below it exists. */
		if (h->count == FG_MOLD_HEARTBEAT)
			s->st.heartbeats++;
		else if (!s->ended) {
			s->ended = true;
			s->st.end_of_session++;
		}
		if (h->seq > s->high) {
			open_hole(s, h->seq - 1, now);
			make_room(s, h->seq - 1);
		}
		advance(s);
		return;
	}
	seq = h->seq;
	fg_mold_iter_init(&it, pkt);
	if (seq == s->next && s->next == s->high) {
		/* The common case, one line in order with nothing held: every
		 * message goes straight from the packet. */
		uint64_t n = 0;

		while (fg_mold_iter_next(&it, &msg, &len)) {
			if (s->cfg.on_message)
				s->cfg.on_message(s->cfg.ctx, seq + n, msg, len, line, true);
			n++;
		}
		s->next = s->high = seq + n;
		s->st.delivered += n;
		ls->messages += n;
		return;
	}
	while (fg_mold_iter_next(&it, &msg, &len))
		take(s, seq++, msg, len, line, false, now);
	advance(s);
}

void fg_seqr_reply(struct fg_seqr *s, const uint8_t *p, unsigned int len, uint64_t now)
{
	struct fg_mold_packet pkt;
	struct fg_mold_iter it;
	const uint8_t *msg;
	uint64_t seq, before;
	uint16_t l;
	int bad;

	if (fg_mold_parse(p, len, &pkt, &bad)) {
		s->st.reply_bad++;
		return;
	}
	if (!s->have_session || memcmp(s->session, pkt.h.session, FG_MOLD_SESSION_LEN)) {
		s->st.reply_wrong_session++;
		return;
	}
	if (pkt.h.count == FG_MOLD_HEARTBEAT || pkt.h.count == FG_MOLD_END_OF_SESSION ||
	    !pkt.h.seq) {
		s->st.reply_unasked++;
		return;
	}
	before = s->st.reply_messages;
	seq = pkt.h.seq;
	fg_mold_iter_init(&it, &pkt);
	while (fg_mold_iter_next(&it, &msg, &l))
		take(s, seq++, msg, l, 0, true, now);
	if (s->st.reply_messages != before) {
		s->st.replies++;
		/* Progress: the rounds without it start again. */
		for (unsigned int i = 0; i < s->nranges; i++)
			if (s->ranges[i].state == R_ASKED && s->ranges[i].from_reply)
				s->ranges[i].tries = 0;
	}
	advance(s);
}

void fg_seqr_flush(struct fg_seqr *s, const char *why)
{
	for (unsigned int i = 0; i < s->nranges; i++)
		if (s->ranges[i].state != R_LOST)
			lose(s, &s->ranges[i], why ? why : "end of input", s->ranges[i].seen_ns);
	advance(s);
}

/* --- life cycle and counters ----------------------------------------------------------------- */

int fg_seqr_new(const struct fg_seqr_config *cfg, struct fg_seqr **out)
{
	struct fg_seqr *s;
	uint32_t hold = cfg->hold ? cfg->hold : FG_SEQR_DEF_HOLD;

	*out = NULL;
	if (hold & (hold - 1) || hold > (1u << 24) || hold < 2)
		return -EINVAL;
	if (cfg->rerequest && !cfg->send_request)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* calloc: the hold is touched only where messages are held. */
	s->slots = calloc(hold, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -ENOMEM;
	}
	s->cfg = *cfg;
	if (!s->cfg.gap_wait_ns)
		s->cfg.gap_wait_ns = FG_SEQR_DEF_GAP_WAIT_NS;
	if (!s->cfg.retry_ns)
		s->cfg.retry_ns = FG_SEQR_DEF_RETRY_NS;
	if (!s->cfg.retries)
		s->cfg.retries = FG_SEQR_DEF_RETRIES;
	if (!s->cfg.max_inflight)
		s->cfg.max_inflight = FG_SEQR_DEF_MAX_INFLIGHT;
	if (!s->cfg.max_request || s->cfg.max_request > 0xfffe)
		s->cfg.max_request = FG_SEQR_DEF_MAX_REQUEST;
	s->mask = hold - 1;
	fg_hist_init(&s->rec);
	*out = s;
	return 0;
}

void fg_seqr_free(struct fg_seqr *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s);
}

bool fg_seqr_busy(const struct fg_seqr *s)
{
	return s->nranges > 0;
}

uint64_t fg_seqr_holding(const struct fg_seqr *s)
{
	return s->nheld;
}

const struct fg_seqr_stats *fg_seqr_stats(const struct fg_seqr *s)
{
	return &s->st;
}

uint64_t fg_seqr_recovery_ns(const struct fg_seqr *s, double p)
{
	return s->rec.count ? fg_hist_percentile(&s->rec, p) : 0;
}

uint64_t fg_seqr_next(const struct fg_seqr *s)
{
	return s->next;
}

const char *fg_seqr_session(const struct fg_seqr *s)
{
	return s->have_session ? s->session : NULL;
}

uint64_t fg_seqr_recovery_max_ns(const struct fg_seqr *s)
{
	return s->rec.count ? s->rec.max : 0;
}
