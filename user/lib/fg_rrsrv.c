// SPDX-License-Identifier: MIT
/*
 * The generator's re-request server (see fg_rrsrv.h): per feed, a ring of
 * the last `history` messages indexed by sequence number.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feedgate/itch.h"
#include "fg_rrsrv.h"

struct msg {
	uint64_t seq; /* 0: empty */
	uint16_t len;
	uint8_t data[FG_RRSRV_MSG_MAX];
};

struct feed {
	char session[FG_MOLD_SESSION_LEN];
	int have_session;
	struct msg *ring;
};

struct fg_rrsrv {
	unsigned int nfeeds;
	uint32_t mask;
	enum fg_rrsrv_mode mode;
	struct fg_rrsrv_stats st;
	struct feed *feeds;
	uint64_t garbage; /* counter for the garbage mode's variety */
};

int fg_rrsrv_mode_parse(const char *s)
{
	static const char *const names[] = { "full", "partial", "garbage", "silent" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int fg_rrsrv_new(unsigned int feeds, uint32_t history, enum fg_rrsrv_mode mode,
		 struct fg_rrsrv **out)
{
	struct fg_rrsrv *s;

	*out = NULL;
	if (!feeds || !history || (history & (history - 1)) || history > (1u << 24))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->nfeeds = feeds;
	s->mask = history - 1;
	s->mode = mode;
	s->feeds = calloc(feeds, sizeof(*s->feeds));
	if (!s->feeds) {
		free(s);
		return -ENOMEM;
	}
	for (unsigned int f = 0; f < feeds; f++) {
		s->feeds[f].ring = calloc(history, sizeof(struct msg));
		if (!s->feeds[f].ring) {
			fg_rrsrv_free(s);
			return -ENOMEM;
		}
	}
	*out = s;
	return 0;
}

void fg_rrsrv_free(struct fg_rrsrv *s)
{
	if (!s)
		return;
	for (unsigned int f = 0; s->feeds && f < s->nfeeds; f++)
		free(s->feeds[f].ring);
	free(s->feeds);
	free(s);
}

void fg_rrsrv_record(struct fg_rrsrv *s, unsigned int f, const uint8_t *mold, size_t len)
{
	struct fg_mold_packet pkt;
	struct fg_mold_iter it;
	const uint8_t *m;
	uint16_t l;
	uint64_t seq;
	int bad;

	if (f >= s->nfeeds || fg_mold_parse(mold, len, &pkt, &bad) || !pkt.h.seq)
		return;
	memcpy(s->feeds[f].session, pkt.h.session, FG_MOLD_SESSION_LEN);
	s->feeds[f].have_session = 1;
	seq = pkt.h.seq;
	fg_mold_iter_init(&it, &pkt);
	while (fg_mold_iter_next(&it, &m, &l)) {
		struct msg *x = &s->feeds[f].ring[seq & s->mask];

		x->seq = seq++;
		x->len = l > FG_RRSRV_MSG_MAX ? FG_RRSRV_MSG_MAX : l;
		memcpy(x->data, m, x->len);
	}
}

/* Replies for [first, first + count) of feed f, in datagrams of at most
 * FG_RRSRV_REPLY_MAX bytes; a message no longer remembered ends the run. */
static void serve(struct fg_rrsrv *s, struct feed *fd, uint64_t first, uint64_t count,
		  void (*send)(void *ctx, const uint8_t *p, size_t len), void *ctx)
{
	uint8_t buf[FG_MOLD_HEADER_LEN + FG_RRSRV_REPLY_MAX];
	uint64_t seq = first, end = first + count;

	while (seq < end) {
		size_t off = FG_MOLD_HEADER_LEN;
		uint16_t n = 0;
		uint64_t start = seq;

		while (seq < end) {
			const struct msg *x = &fd->ring[seq & s->mask];

			if (x->seq != seq) {
				s->st.forgotten += end - seq;
				seq = end; /* nothing more of this request can be answered */
				break;
			}
			if (off + 2 + x->len > sizeof(buf))
				break;
			buf[off] = (uint8_t)(x->len >> 8);
			buf[off + 1] = (uint8_t)x->len;
			memcpy(buf + off + 2, x->data, x->len);
			off += 2 + (size_t)x->len;
			n++;
			seq++;
		}
		if (!n)
			break;
		fg_mold_write_header(buf, fd->session, start, n);
		send(ctx, buf, off);
		s->st.replies++;
		s->st.messages += n;
	}
}

void fg_rrsrv_answer(struct fg_rrsrv *s, const uint8_t *req, size_t len,
		     void (*send)(void *ctx, const uint8_t *p, size_t len), void *ctx)
{
	struct feed *fd = NULL;
	uint64_t first, count;

	if (len != FG_MOLD_REQUEST_LEN || !(count = fg_load_be16(req + 18)) ||
	    !(first = fg_load_be64(req + 10))) {
		s->st.bad_requests++;
		return;
	}
	for (unsigned int f = 0; f < s->nfeeds && !fd; f++)
		if (s->feeds[f].have_session &&
		    !memcmp(s->feeds[f].session, req, FG_MOLD_SESSION_LEN))
			fd = &s->feeds[f];
	if (!fd) {
		s->st.unknown_session++;
		return;
	}
	s->st.requests++;
	switch (s->mode) {
	case FG_RRSRV_FULL:
		serve(s, fd, first, count, send, ctx);
		break;
	case FG_RRSRV_PARTIAL:
		serve(s, fd, first, count > 1 ? count / 2 : 1, send, ctx);
		break;
	case FG_RRSRV_GARBAGE: {
		/* a short one, one of another session, one whose blocks overrun */
		uint8_t g[64] = { 0 };

		s->garbage++;
		send(ctx, g, 7);
		fg_mold_write_header(g, "NOSUCHSESS", first, 1);
		g[20] = 0;
		g[21] = 1;
		g[22] = 'S';
		send(ctx, g, 23);
		memcpy(g, fd->session, FG_MOLD_SESSION_LEN);
		g[18] = 0;
		g[19] = 3; /* three blocks announced, one there, overrunning */
		g[20] = 0;
		g[21] = 200;
		send(ctx, g, 30);
		s->st.replies += 3;
		break;
	}
	case FG_RRSRV_SILENT:
		break;
	}
}

const struct fg_rrsrv_stats *fg_rrsrv_stats(const struct fg_rrsrv *s)
{
	return &s->st;
}
