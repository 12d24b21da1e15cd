/* SPDX-License-Identifier: MIT */
/*
 * A MoldUDP64 re-request server of the generator's own (`feedgate gen
 * --serve-rerequest`): it remembers the last messages it sent on each feed
 * and answers requests (session, first sequence number, count) with
 * ordinary downstream packets, as an exchange's server does, so that the
 * consumer's recovery can be tried end to end. For tests it can also
 * misbehave on purpose: answer only the front of each request, or send
 * garbage.
 */
#ifndef FG_RRSRV_H
#define FG_RRSRV_H

#include <stddef.h>
#include <stdint.h>

#include "feedgate/mold.h"

#define FG_RRSRV_MSG_MAX 60 /* bytes of a remembered message (ITCH 5.0: at most 50) */
#define FG_RRSRV_REPLY_MAX 1400 /* payload bytes of one reply datagram */

enum fg_rrsrv_mode {
	FG_RRSRV_FULL = 0, /* every requested message that is still remembered */
	FG_RRSRV_PARTIAL, /* only the first half of each request (at least one message) */
	FG_RRSRV_GARBAGE, /* malformed datagrams and wrong sessions, nothing useful */
	FG_RRSRV_SILENT, /* reads requests, never answers */
};

struct fg_rrsrv_stats {
	uint64_t requests; /* well-formed requests */
	uint64_t bad_requests; /* not 20 bytes, count 0 */
	uint64_t unknown_session;
	uint64_t replies; /* datagrams sent */
	uint64_t messages; /* messages in them */
	uint64_t forgotten; /* requested messages no longer (or never) remembered */
};

struct fg_rrsrv;

/* feeds, history messages per feed (a power of two). 0, -EINVAL, -ENOMEM. */
int fg_rrsrv_new(unsigned int feeds, uint32_t history, enum fg_rrsrv_mode mode,
		 struct fg_rrsrv **out);
void fg_rrsrv_free(struct fg_rrsrv *s);
/* Feed f sent this MoldUDP64 payload (sent on any line, or lost on all). */
void fg_rrsrv_record(struct fg_rrsrv *s, unsigned int f, const uint8_t *mold, size_t len);
/* Answer one request datagram: send() is called once per reply datagram. */
void fg_rrsrv_answer(struct fg_rrsrv *s, const uint8_t *req, size_t len,
		     void (*send)(void *ctx, const uint8_t *p, size_t len), void *ctx);
const struct fg_rrsrv_stats *fg_rrsrv_stats(const struct fg_rrsrv *s);
/* "full" / "partial" / "garbage" / "silent" -> mode, -1 when unknown. */
int fg_rrsrv_mode_parse(const char *s);

#endif /* FG_RRSRV_H */
