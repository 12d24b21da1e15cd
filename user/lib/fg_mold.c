// SPDX-License-Identifier: MIT
/*
 * MoldUDP64 packets and sequencing (layout in include/feedgate/mold.h, from
 * the MoldUDP64 Protocol Specification section 3).
 *
 * Sequencing keeps, per stream, the next expected sequence number and a
 * small sorted table of holes: ranges that went missing but may still be
 * filled by the other line of an A/B pair (or by any late copy) until their
 * window passes. Nothing is buffered: a message is delivered when its first
 * copy arrives, so a hole filled late delivers out of order (the window is
 * meant to be short: the skew between the two lines).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "feedgate/itch.h"
#include "feedgate/mold.h"

static const char *const bad_names[FG_MOLD_BAD_NKINDS] = {
	[FG_MOLD_BAD_SHORT_HEADER] = "short_header",
	[FG_MOLD_BAD_BLOCK_OVERRUN] = "block_overrun",
	[FG_MOLD_BAD_COUNT_MISMATCH] = "count_mismatch",
	[FG_MOLD_BAD_EMPTY_BLOCK] = "empty_block",
};

const char *fg_mold_bad_name(int kind)
{
	if (kind < 0 || kind >= FG_MOLD_BAD_NKINDS)
		return "unknown";
	return bad_names[kind];
}

int fg_mold_parse(const uint8_t *p, size_t len, struct fg_mold_packet *pkt, int *bad)
{
	const uint8_t *q, *end;

	if (len < FG_MOLD_HEADER_LEN) {
		*bad = FG_MOLD_BAD_SHORT_HEADER;
		return -EBADMSG;
	}
	memcpy(pkt->h.session, p, FG_MOLD_SESSION_LEN);
	pkt->h.seq = fg_load_be64(p + 10);
	pkt->h.count = fg_load_be16(p + 18);
	q = p + FG_MOLD_HEADER_LEN;
	end = p + len;
	pkt->blocks = q;
	pkt->end = end;

	if (pkt->h.count != FG_MOLD_HEARTBEAT && pkt->h.count != FG_MOLD_END_OF_SESSION) {
		for (unsigned int i = 0; i < pkt->h.count; i++) {
			size_t left = (size_t)(end - q);
			uint16_t l;

			if (left == 0) {
				*bad = FG_MOLD_BAD_COUNT_MISMATCH; /* fewer blocks than announced */
				return -EBADMSG;
			}
			if (left < 2) {
				*bad = FG_MOLD_BAD_BLOCK_OVERRUN;
				return -EBADMSG;
			}
			l = fg_load_be16(q);
			if (l == 0) {
				*bad = FG_MOLD_BAD_EMPTY_BLOCK;
				return -EBADMSG;
			}
			if (left - 2 < l) {
				*bad = FG_MOLD_BAD_BLOCK_OVERRUN;
				return -EBADMSG;
			}
			q += 2 + (size_t)l;
		}
	}
	if (q != end) {
		*bad = FG_MOLD_BAD_COUNT_MISMATCH; /* bytes after the announced blocks */
		return -EBADMSG;
	}
	return 0;
}

size_t fg_mold_write_header(uint8_t *out, const char session[FG_MOLD_SESSION_LEN], uint64_t seq,
			    uint16_t count)
{
	uint64_t s = htobe64(seq);
	uint16_t c = htobe16(count);

	memcpy(out, session, FG_MOLD_SESSION_LEN);
	memcpy(out + 10, &s, sizeof(s));
	memcpy(out + 18, &c, sizeof(c));
	return FG_MOLD_HEADER_LEN;
}

size_t fg_mold_build_request(uint8_t out[FG_MOLD_REQUEST_LEN],
			     const char session[FG_MOLD_SESSION_LEN], uint64_t seq, uint16_t count)
{
	/* Request packets reuse the downstream header: first wanted message and how many. */
	return fg_mold_write_header(out, session, seq, count);
}

/* --- sequencing ---------------------------------------------------------------------------- */

void fg_mold_seq_init(struct fg_mold_seq *s, uint16_t id, uint64_t window_ns, fg_mold_gap_fn on_gap,
		      void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->window_ns = window_ns;
	s->on_gap = on_gap;
	s->ctx = ctx;
}

static void report(struct fg_mold_seq *s, uint64_t first, uint64_t last)
{
	struct fg_mold_gap g;

	memcpy(g.session, s->session, FG_MOLD_SESSION_LEN);
	g.stream = s->id;
	g.first = first;
	g.last = last;
	s->st.gaps++;
	s->st.gap_messages += last - first + 1;
	if (s->on_gap)
		s->on_gap(s->ctx, &g);
}

static void remove_hole(struct fg_mold_seq *s, unsigned int i)
{
	memmove(&s->holes[i], &s->holes[i + 1], (s->nholes - i - 1) * sizeof(s->holes[0]));
	s->nholes--;
}

/* A new missing range, always above every existing hole (it ends below next). */
static void add_hole(struct fg_mold_seq *s, uint64_t first, uint64_t last, uint64_t now_ns)
{
	struct fg_mold_hole *h;

	if (!s->window_ns) {
		report(s, first, last);
		return;
	}
	if (s->nholes == FG_MOLD_MAX_HOLES) {
		s->st.hole_overflows++;
		report(s, s->holes[0].first, s->holes[0].last);
		remove_hole(s, 0);
	}
	h = &s->holes[s->nholes++];
	h->first = first;
	h->last = last;
	h->deadline_ns = now_ns + s->window_ns;
}

void fg_mold_seq_expire(struct fg_mold_seq *s, uint64_t now_ns)
{
	/* Holes are created in sequence order with a deadline from a clock that
	 * moves forward, so the expired ones are at the front. */
	while (s->nholes && s->holes[0].deadline_ns <= now_ns) {
		report(s, s->holes[0].first, s->holes[0].last);
		remove_hole(s, 0);
	}
}

void fg_mold_seq_flush(struct fg_mold_seq *s)
{
	for (unsigned int i = 0; i < s->nholes; i++)
		report(s, s->holes[i].first, s->holes[i].last);
	s->nholes = 0;
}

static unsigned int add_run(struct fg_mold_run *runs, unsigned int n, uint64_t first,
			    uint64_t count)
{
	if (n && runs[n - 1].first + runs[n - 1].count == first) {
		runs[n - 1].count += (uint32_t)count;
		return n;
	}
	runs[n].first = (uint32_t)first;
	runs[n].count = (uint32_t)count;
	return n + 1;
}

/* Take [first, last] out of the holes; append the runs found (indexes relative to base). */
static unsigned int fill_holes(struct fg_mold_seq *s, uint64_t first, uint64_t last, uint64_t base,
			       struct fg_mold_run *runs, unsigned int n, uint64_t *filled)
{
	unsigned int i = 0;

	while (i < s->nholes && s->holes[i].first <= last) {
		struct fg_mold_hole *h = &s->holes[i];
		uint64_t lo, hi;

		if (h->last < first) {
			i++;
			continue;
		}
		lo = first > h->first ? first : h->first;
		hi = last < h->last ? last : h->last;
		n = add_run(runs, n, lo - base, hi - lo + 1);
		*filled += hi - lo + 1;
		if (lo > h->first && hi < h->last) {
			/* The packet lies strictly inside the hole: split it in two. */
			if (s->nholes == FG_MOLD_MAX_HOLES) {
				s->st.hole_overflows++;
				report(s, hi + 1, h->last);
				h->last = lo - 1;
			} else {
				memmove(&s->holes[i + 2], &s->holes[i + 1],
					(s->nholes - i - 1) * sizeof(s->holes[0]));
				s->nholes++;
				s->holes[i + 1] = *h;
				s->holes[i + 1].first = hi + 1;
				h->last = lo - 1;
			}
			i += 2;
		} else if (lo > h->first) {
			h->last = lo - 1;
			i++;
		} else if (hi < h->last) {
			h->first = hi + 1;
			i++;
		} else {
			remove_hole(s, i);
		}
	}
	return n;
}

unsigned int fg_mold_seq_packet(struct fg_mold_seq *s, const struct fg_mold_header *h,
				uint64_t now_ns, struct fg_mold_run *runs)
{
	uint64_t first, last, filled = 0, fresh = 0;
	unsigned int n = 0;
	uint16_t count = h->count;
	int control = count == FG_MOLD_HEARTBEAT || count == FG_MOLD_END_OF_SESSION;

	s->st.packets++;
	if (count == FG_MOLD_HEARTBEAT)
		s->st.heartbeats++;

	if (h->seq == 0) {
		/* Not a valid message number: nothing to sequence against. */
		s->st.unsequenced_packets++;
		if (control)
			return 0;
		s->st.messages += count;
		runs[0].first = 0;
		runs[0].count = count;
		return 1;
	}

	if (!s->have_session || memcmp(s->session, h->session, FG_MOLD_SESSION_LEN)) {
		if (s->have_prev && !memcmp(s->prev_session, h->session, FG_MOLD_SESSION_LEN)) {
			/* The slower line still sending the session we left: not a change back. */
			s->st.stale_packets++;
			return 0;
		}
		if (s->have_session) {
			/* The old session's holes can no longer be filled. */
			fg_mold_seq_flush(s);
			s->st.session_changes++;
			memcpy(s->prev_session, s->session, FG_MOLD_SESSION_LEN);
			s->have_prev = 1;
		}
		memcpy(s->session, h->session, FG_MOLD_SESSION_LEN);
		s->have_session = 1;
		s->ended = 0;
		s->next = h->seq;
	}
	fg_mold_seq_expire(s, now_ns);

	if (control) {
		/* Both carry the next expected sequence number: anything below it is missing. */
		if (count == FG_MOLD_END_OF_SESSION && !s->ended) {
			s->ended = 1;
			s->st.end_of_session++;
		}
		if (h->seq > s->next) {
			add_hole(s, s->next, h->seq - 1, now_ns);
			s->next = h->seq;
		}
		return 0;
	}

	first = h->seq;
	/* A count that would wrap the 64-bit space is cut at its end (never on a real feed). */
	last = first + count - 1 < first ? UINT64_MAX : first + count - 1;

	if (s->nholes && first < s->next)
		n = fill_holes(s, first, last, first, runs, n, &filled);
	if (last >= s->next) {
		uint64_t lo = first > s->next ? first : s->next;

		if (first > s->next)
			add_hole(s, s->next, first - 1, now_ns);
		n = add_run(runs, n, lo - first, last - lo + 1);
		fresh = last - lo + 1;
		s->next = last == UINT64_MAX ? last : last + 1;
	}
	s->st.messages += fresh + filled;
	s->st.filled_messages += filled;
	if (fresh + filled < count) {
		s->st.duplicate_messages += count - (fresh + filled);
		if (!(fresh + filled))
			s->st.duplicate_packets++;
	}
	return n;
}
