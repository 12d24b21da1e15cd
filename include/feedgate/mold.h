/* SPDX-License-Identifier: MIT */
/*
 * MoldUDP64: packet parsing (header + message blocks, strictly bounded) and
 * per-stream sequencing (gaps, duplicates, heartbeats, end of session,
 * session changes, A/B line arbitration), plus the retransmission request.
 *
 * Wire format (NASDAQ "MoldUDP64 Protocol Specification" v1.00, section 3,
 * summarised in ../shared/docs/itch50-moldudp64.md):
 *   0  session   10 bytes ASCII
 *   10 sequence  u64 BE, number of the first message in the packet
 *   18 count     u16 BE, 0 = heartbeat, 0xFFFF = end of session
 *   20 blocks    count x { u16 BE length, length bytes of message }
 * A request packet (to the re-request server) has the same 20 bytes:
 * session, first wanted sequence number, wanted count.
 *
 * Sequence number 0 is not a valid MoldUDP64 message number (they start at
 * 1); packets carrying it (e.g. captures whose sequence was zeroed out) are
 * passed through unsequenced and counted as such.
 */
#ifndef FEEDGATE_MOLD_H
#define FEEDGATE_MOLD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FG_MOLD_SESSION_LEN 10
#define FG_MOLD_HEADER_LEN 20
#define FG_MOLD_REQUEST_LEN 20
#define FG_MOLD_HEARTBEAT 0
#define FG_MOLD_END_OF_SESSION 0xffff
/* Holes (missing ranges) a stream waits on during the arbitration window; beyond that the
 * oldest is reported at once. */
#define FG_MOLD_MAX_HOLES 64
/* Upper bound of the runs fg_mold_seq_packet() can return for one packet. */
#define FG_MOLD_MAX_RUNS (FG_MOLD_MAX_HOLES + 2)
/* Upper bound of the gap events one fg_mold_seq_packet() call can raise. */
#define FG_MOLD_MAX_GAPS_PER_PACKET (FG_MOLD_MAX_HOLES + 2)

/* Kinds of malformed packets; each is counted and the packet skipped as a whole. */
enum fg_mold_bad {
	FG_MOLD_BAD_SHORT_HEADER = 0, /* shorter than 20 bytes */
	FG_MOLD_BAD_BLOCK_OVERRUN, /* a length prefix or a block runs past the payload */
	FG_MOLD_BAD_COUNT_MISMATCH, /* fewer blocks than count, or bytes left after them */
	FG_MOLD_BAD_EMPTY_BLOCK, /* a zero-length block (no room for a message type) */
	FG_MOLD_BAD_NKINDS
};

/* snake_case name of a kind ("short_header", ...), for summaries. */
const char *fg_mold_bad_name(int kind);

struct fg_mold_header {
	char session[FG_MOLD_SESSION_LEN]; /* as on the wire, not NUL terminated */
	uint64_t seq;
	uint16_t count;
};

/* A validated packet: every block lies within [blocks, end). */
struct fg_mold_packet {
	struct fg_mold_header h;
	const uint8_t *blocks; /* first length prefix */
	const uint8_t *end; /* end of the payload */
};

/*
 * Parse and validate a whole packet (header and every block prefix). Returns
 * 0, or -EBADMSG with *bad set to a kind. Heartbeats and end of session must
 * carry no blocks (trailing bytes are a count mismatch).
 */
int fg_mold_parse(const uint8_t *p, size_t len, struct fg_mold_packet *pkt, int *bad);

/* Iteration over the blocks of a packet that fg_mold_parse() accepted. */
struct fg_mold_iter {
	const uint8_t *p;
	const uint8_t *end;
};

static inline void fg_mold_iter_init(struct fg_mold_iter *it, const struct fg_mold_packet *pkt)
{
	it->p = pkt->blocks;
	it->end = pkt->end;
}

/* Next message (pointer at its type byte, and its length); 0 when there is none. */
static inline int fg_mold_iter_next(struct fg_mold_iter *it, const uint8_t **msg, uint16_t *len)
{
	uint16_t l;

	if (it->end - it->p < 2)
		return 0;
	l = (uint16_t)((it->p[0] << 8) | it->p[1]);
	if ((size_t)(it->end - it->p - 2) < l)
		return 0;
	*msg = it->p + 2;
	*len = l;
	it->p += 2 + (size_t)l;
	return 1;
}

/* Write a downstream header (20 bytes) and return its length. */
size_t fg_mold_write_header(uint8_t *out, const char session[FG_MOLD_SESSION_LEN], uint64_t seq,
			    uint16_t count);

/* Build a retransmission request (same 20-byte layout) and return its length. */
size_t fg_mold_build_request(uint8_t out[FG_MOLD_REQUEST_LEN],
			     const char session[FG_MOLD_SESSION_LEN], uint64_t seq, uint16_t count);

/* --- sequencing ---------------------------------------------------------------------------- */

/* A missing range [first, last] (inclusive) of one stream and session. */
struct fg_mold_gap {
	char session[FG_MOLD_SESSION_LEN];
	uint16_t stream; /* the id given to fg_mold_seq_init() */
	uint64_t first;
	uint64_t last;
};

typedef void (*fg_mold_gap_fn)(void *ctx, const struct fg_mold_gap *gap);

struct fg_mold_seq_stats {
	uint64_t packets; /* packets seen (both lines when arbitrated) */
	uint64_t messages; /* new messages accepted */
	uint64_t heartbeats; /* count == 0 */
	uint64_t end_of_session; /* sessions ended (count == 0xFFFF), once per session */
	uint64_t session_changes; /* a new session replaced the current one */
	uint64_t gaps; /* gap events reported */
	uint64_t gap_messages; /* messages in the reported gaps */
	uint64_t duplicate_packets; /* packets with nothing new */
	uint64_t duplicate_messages; /* messages already seen (the copy that lost the race) */
	uint64_t filled_messages; /* messages that arrived late into a hole, within the window */
	uint64_t unsequenced_packets; /* sequence number 0: passed through */
	uint64_t hole_overflows; /* holes reported early because the hole table was full */
	uint64_t stale_packets; /* packets of the session before the current one (A/B skew) */
};

struct fg_mold_hole {
	uint64_t first;
	uint64_t last;
	uint64_t deadline_ns;
};

/*
 * The state of one stream: one feed, or two feeds (A and B lines) declared
 * the same stream. Messages are delivered as soon as a copy arrives (first
 * copy wins, no buffering); a missing range becomes a hole that either line
 * may fill until window_ns has passed, after which it is reported as a gap.
 * With window_ns = 0 gaps are reported at once.
 */
struct fg_mold_seq {
	char session[FG_MOLD_SESSION_LEN];
	char prev_session[FG_MOLD_SESSION_LEN]; /* the one before: its late packets are stale */
	uint8_t have_session;
	uint8_t have_prev;
	uint8_t ended;
	uint16_t id;
	uint32_t nholes;
	uint64_t next; /* next expected sequence number */
	uint64_t window_ns;
	fg_mold_gap_fn on_gap;
	void *ctx;
	struct fg_mold_seq_stats st;
	struct fg_mold_hole holes[FG_MOLD_MAX_HOLES]; /* sorted, disjoint, all below next */
};

/* A run of new messages in a packet: block indexes [first, first + count). */
struct fg_mold_run {
	uint32_t first;
	uint32_t count;
};

void fg_mold_seq_init(struct fg_mold_seq *s, uint16_t id, uint64_t window_ns, fg_mold_gap_fn on_gap,
		      void *ctx);

/*
 * Sequence one packet that arrived at now_ns (any clock, the same for all
 * calls). Fills runs (room for FG_MOLD_MAX_RUNS) with the block indexes that
 * are new, in ascending order, and returns how many runs. Gaps found on the
 * way are reported through on_gap before it returns. Heartbeats and end of
 * session return 0 runs.
 */
unsigned int fg_mold_seq_packet(struct fg_mold_seq *s, const struct fg_mold_header *h,
				uint64_t now_ns, struct fg_mold_run *runs);

/* Report the holes whose window has passed at now_ns. */
void fg_mold_seq_expire(struct fg_mold_seq *s, uint64_t now_ns);

/* Report every hole now (end of input). */
void fg_mold_seq_flush(struct fg_mold_seq *s);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_MOLD_H */
