/* SPDX-License-Identifier: MIT */
/*
 * The per-feed sequencer: every message of a MoldUDP64 feed once, in
 * sequence order, or a precise gap. One instance per feed, whatever number
 * of lines (A and B multicast groups, any receive queue) the feed arrives
 * on, plus the feed's re-request server.
 *
 *   line packets --> first copy of each sequence number wins (the others
 *                    are that line's duplicates)
 *                --> in order: delivered at once
 *                --> beyond a hole: copied into the hold buffer (a ring of
 *                    fixed 64-byte slots indexed by sequence number; ITCH
 *                    5.0 messages are at most 50 bytes)
 *   a hole       --> waits gap_wait_ns for the other line; then, with a
 *                    server, is asked for (MoldUDP64 requests of at most
 *                    max_request messages, at most max_inflight at once,
 *                    retried every retry_ns, retries times); replies fill
 *                    it like a third line
 *                --> filled: the held messages follow in order; when the
 *                    server filled it, a "recovered" gap event follows the
 *                    range's last message
 *                --> not filled (no server, no reply, server gone, hold
 *                    buffer full): an "unrecovered" gap event [first, last]
 *                    at its place in the stream, and the stream goes on
 *
 * Everything is delivered through callbacks, in stream order: on_message
 * for each message, on_gap for each gap event (an unrecovered one before the
 * message that follows the gap, a recovered one after the last message it
 * brought back), on_session for a session change (after the old
 * session's last message). The sequencer belongs to one thread: nothing
 * here locks or allocates after fg_seqr_new(). Time is whatever clock the
 * caller passes (CLOCK_MONOTONIC ns in feedgate).
 *
 * Sessions: the first packet fixes the session and where the stream starts
 * (feedgate joins a feed where it is: nothing before the first sequence
 * number seen is asked for). A packet of another session starts it anew
 * (holes of the old one reported as unrecovered, held messages delivered);
 * late packets of the session just left are stale and counted. A reply of
 * another session, for a range nobody asked for, or malformed, is counted
 * and never merged.
 */
#ifndef FEEDGATE_SEQR_H
#define FEEDGATE_SEQR_H

#include <stdbool.h>
#include <stdint.h>

#include "feedgate/mold.h"

#define FG_SEQR_MAX_LINES 8 /* lines of one feed (A, B, ...) */
#define FG_SEQR_SLOT_DATA 60 /* message bytes one hold slot keeps */
#define FG_SEQR_MAX_RANGES 1024 /* holes waiting at once; beyond: the oldest is reported */

/* Defaults of struct fg_seqr_config. */
#define FG_SEQR_DEF_HOLD 65536 /* messages (4 MiB of slots) */
#define FG_SEQR_DEF_GAP_WAIT_NS 200000ull /* 200 us for the other line */
#define FG_SEQR_DEF_RETRY_NS 20000000ull /* 20 ms for a reply */
#define FG_SEQR_DEF_RETRIES 3
#define FG_SEQR_DEF_MAX_INFLIGHT 16
#define FG_SEQR_DEF_MAX_REQUEST 64 /* messages: what one reply of ~1.4 KB can carry */

enum fg_seqr_gap_state {
	FG_SEQR_RECOVERED = 0, /* filled by the re-request server */
	FG_SEQR_UNRECOVERED, /* lost: the stream skips it */
};

struct fg_seqr_gap {
	char session[FG_MOLD_SESSION_LEN];
	uint64_t first, last; /* inclusive */
	enum fg_seqr_gap_state state;
	uint64_t latency_ns; /* recovered: from the hole's discovery to its last message */
	const char
		*why; /* unrecovered: "no server", "no reply", "hold full", "session ended", ... */
};

struct fg_seqr_config {
	uint32_t hold; /* messages held beyond a hole: a power of two; 0 = default */
	uint64_t gap_wait_ns; /* wait for another line before asking; 0 = default */
	uint64_t retry_ns; /* wait for a reply before asking again; 0 = default */
	unsigned int retries; /* requests per range before giving up; 0 = default */
	unsigned int max_inflight; /* requests outstanding; 0 = default */
	unsigned int max_request; /* messages per request; 0 = default */
	bool rerequest; /* a server is there: send_request is called */

	void *ctx;
	/* One MoldUDP64 request to send (20 bytes, fg_mold_build_request): the
	 * caller owns the socket. Returns 0, or -errno (counted, retried later). */
	int (*send_request)(void *ctx, const uint8_t *req, unsigned int len);
	/* in_packet: msg points into the packet being passed in (valid until that
	 * call returns); else into the hold buffer (valid during this call only). */
	void (*on_message)(void *ctx, uint64_t seq, const uint8_t *msg, uint16_t len,
			   unsigned int line, bool in_packet);
	void (*on_gap)(void *ctx, const struct fg_seqr_gap *gap);
	/* The stream left session previous (NULL at the first session) for session. */
	void (*on_session)(void *ctx, const char *previous, const char *session);
};

struct fg_seqr_line_stats {
	uint64_t packets; /* MoldUDP64 packets of this line */
	uint64_t messages; /* messages this line delivered first */
	uint64_t duplicates; /* messages this line brought second (or later) */
	uint64_t stale; /* packets of the session before the current one */
};

struct fg_seqr_stats {
	uint64_t delivered; /* messages handed on, each once */
	uint64_t held; /* messages that went through the hold buffer */
	uint64_t hold_high; /* most messages held at once */
	uint64_t truncated; /* held messages longer than a slot (cut; no ITCH 5.0 message is) */
	uint64_t heartbeats, end_of_session, session_changes;
	uint64_t gaps_recovered, gaps_unrecovered; /* ranges */
	uint64_t msgs_recovered, msgs_unrecovered; /* messages in them */
	uint64_t hold_full; /* ranges given up because the hold buffer was full */
	uint64_t ranges_overflow; /* ranges given up because too many were open */
	uint64_t requests, request_errors; /* requests sent, sends that failed */
	uint64_t replies; /* reply packets merged */
	uint64_t reply_messages; /* messages that replies filled in */
	uint64_t reply_wrong_session, reply_unasked, reply_bad, reply_dup_messages;
	uint64_t late; /* messages that came after their range was given up */
	uint64_t unsequenced; /* packets with sequence number 0: delivered as they come */
	struct fg_seqr_line_stats line[FG_SEQR_MAX_LINES];
};

struct fg_seqr;

/* 0 and *out, -EINVAL (hold not a power of two, or > 2^24), -ENOMEM. */
int fg_seqr_new(const struct fg_seqr_config *cfg, struct fg_seqr **out);
void fg_seqr_free(struct fg_seqr *s);

/* A packet that fg_mold_parse() accepted, from line (< FG_SEQR_MAX_LINES), at now. */
void fg_seqr_packet(struct fg_seqr *s, unsigned int line, const struct fg_mold_packet *pkt,
		    uint64_t now);
/* A datagram from the re-request server (parsed here: a malformed one is counted). */
void fg_seqr_reply(struct fg_seqr *s, const uint8_t *p, unsigned int len, uint64_t now);
/* Timers: holes past their wait are asked for or given up. Call often (idle polls). */
void fg_seqr_tick(struct fg_seqr *s, uint64_t now);
/* End of input: every hole reported as unrecovered, everything held delivered. */
void fg_seqr_flush(struct fg_seqr *s, const char *why);

/* Is anything waiting (holes, requests)? Then fg_seqr_tick() has work. */
bool fg_seqr_busy(const struct fg_seqr *s);
/* The next sequence number to deliver; the session (10 bytes, not NUL
 * terminated) or NULL before the first packet. */
uint64_t fg_seqr_next(const struct fg_seqr *s);
const char *fg_seqr_session(const struct fg_seqr *s);
/* Messages held now. */
uint64_t fg_seqr_holding(const struct fg_seqr *s);
const struct fg_seqr_stats *fg_seqr_stats(const struct fg_seqr *s);
/* Recovery latency percentiles (p in 0..100) over recovered ranges, ns; 0 when none. */
uint64_t fg_seqr_recovery_ns(const struct fg_seqr *s, double p);
uint64_t fg_seqr_recovery_max_ns(const struct fg_seqr *s);

#endif /* FEEDGATE_SEQR_H */
