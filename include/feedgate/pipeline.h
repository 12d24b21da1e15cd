/* SPDX-License-Identifier: MIT */
/*
 * The market-data pipeline: the sink every capture path hands its frame
 * batches to (struct fg_sink), and the offline entry for bare ITCH message
 * streams (BinaryFILE).
 *
 * Per batch: L2-L4 parse of each frame, flow -> feed (by destination
 * group:port; a configured list, or one feed per new destination), MoldUDP64
 * sequencing per feed and session (A/B pairs share one stream), then all
 * message blocks of the whole batch go through the SIMD filter in one call;
 * only the selected ones are decoded, applied to the order books, passed to
 * the user's callbacks and, when asked, written as JSON lines.
 *
 * Session changes: stock locates are assigned per day (ITCH 5.0 section
 * 1.2) and order reference numbers restart with the day, so when a stream
 * starts a new MoldUDP64 session the stock directory (behind the symbol
 * filter) and the order books are rebuilt empty, with the subscription
 * applied again, before the first message of the new session is judged.
 * Limitation: the directory and the books are one per pipeline, shared by
 * all its streams (every feed or A/B pair a pipeline sees; `feedgate run`
 * has one pipeline per queue). They are rebuilt only when no other stream,
 * nor fg_pipeline_raw(), has delivered a message to this pipeline; otherwise
 * they are kept as they are (the old day's locates and orders stay until new
 * R and add messages overwrite them) and the change is counted in
 * session_resets_skipped and reported with state "kept_shared". A pipeline
 * that must survive a rollover exactly should carry one stream.
 *
 * One pipeline belongs to one thread. The batch path does not allocate or
 * lock; stdio is used only for the decode output the user asked for.
 */
#ifndef FEEDGATE_PIPELINE_H
#define FEEDGATE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "feedgate/frame.h"
#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "feedgate/seqr.h"

struct fg_books;
struct fg_book_callbacks;
struct fg_pipeline;

/* A line of a feed, by feedgate's rule id (frames carry it): lines with the
 * same feed_id are one feed (A and B), sequenced as one stream. */
struct fg_pipeline_line {
	uint32_t rule_id;
	uint16_t feed_id;
	const char *feed; /* the feed's name (rule add --feed), or NULL: named by group */
	const char *group; /* "239.1.1.1:5000", the line's name */
};

/* The re-request server of a feed: a connected UDP socket of the caller's
 * (fg_rerequest_open), shared by every pipeline that may own the feed. */
struct fg_pipeline_rerequest {
	const char *feed; /* stream name */
	int fd;
};

#define FG_PIPELINE_MAX_FEEDS 256
/* Messages gathered before the filter runs (64 frames x 64 messages, doubled). */
#define FG_PIPELINE_BATCH_MSGS 8192
#define FG_PIPELINE_DEFAULT_GAP_WINDOW_NS 10000000ull /* 10 ms: A/B line skew allowance */
#define FG_PIPELINE_FEED_NAME_LEN 48
#define FG_PIPELINE_NO_FEED 0xffff /* fg_pipeline_msg_info.feed of bare messages (BinaryFILE) */

/* Where a delivered message came from. */
struct fg_pipeline_msg_info {
	uint16_t feed; /* the stream (fg_pipeline_stream()); FG_PIPELINE_NO_FEED for BinaryFILE */
	uint64_t seq; /* MoldUDP64 sequence number (BinaryFILE: position from 1; 0: unsequenced) */
	uint64_t rx_ns; /* frame time (capture time for files), 0 if unknown */
};

/* What a session change did to the state derived from the old session. */
enum fg_pipeline_session_state {
	FG_PIPELINE_SESSION_RESET = 0, /* directory and books rebuilt empty */
	FG_PIPELINE_SESSION_KEPT_SHARED, /* kept: other streams of the pipeline use them */
	FG_PIPELINE_SESSION_KEPT_NOMEM, /* kept: no memory for new ones */
};

struct fg_pipeline_config {
	const char *symbols; /* "AAPL,MSFT": decode only these; NULL = every symbol */
	const char *types; /* "AFEXDUCP": decode only these types; NULL = all */
	const char *const *feeds; /* "GROUP:PORT" list; none = one feed per new destination */
	unsigned int nfeeds;
	const char *const *arbitrate; /* "239.1.1.1:5000=239.2.1.1:5000": one stream, two lines */
	unsigned int narbitrate;
	/* feedgate run: frames map to feeds and lines by rule id (frames of no listed
	 * rule are unmatched); otherwise by destination as above */
	const struct fg_pipeline_line *lines;
	unsigned int nlines;
	const struct fg_pipeline_rerequest *rerequest;
	unsigned int nrerequest;
	/* wait for another line before a hole is asked for or reported (the clock of the
	 * frames: capture time in files); 0 = FG_PIPELINE_DEFAULT_GAP_WINDOW_NS */
	uint64_t gap_window_ns;
	/* the sequencers (feedgate/seqr.h); 0 = its defaults */
	uint32_t hold;
	uint64_t retry_ns;
	unsigned int retries, max_inflight, max_request;
	int books; /* keep order books */
	uint32_t order_capacity; /* orders the books can hold; 0 = the books' default */
	/* One JSON line per decoded message ({"feed":NAME,"seq":N,"type":...}), per gap
	 * and per session change, or NULL. */
	FILE *decode;

	void *ctx; /* passed to the callbacks below */
	void (*on_message)(void *ctx, const struct fg_pipeline_msg_info *info,
			   const struct fg_itch_msg *m);
	void (*on_gap)(void *ctx, const char *feed, const struct fg_seqr_gap *gap);
	/* Handed to the books (level, BBO and trade changes); may be NULL. After a session
	 * reset they start again from empty books (no "level gone" calls for the old ones). */
	const struct fg_book_callbacks *book_cb;
	/* A stream left session previous for session (10 bytes each, not NUL terminated);
	 * state says whether the directory and the books were rebuilt. May be NULL. */
	void (*on_session_change)(void *ctx, const char *feed, const char *previous,
				  const char *session, enum fg_pipeline_session_state state);
};

struct fg_pipeline_stats {
	uint64_t frames;
	uint64_t net[8]; /* per enum fg_net_kind: [0] UDP datagrams, then the rest */
	uint64_t unmatched; /* UDP datagrams for no configured feed */
	uint64_t not_mold; /* automatic feeds: UDP to a new destination, not MoldUDP64 */
	uint64_t feed_overflow; /* datagrams of new destinations beyond FG_PIPELINE_MAX_FEEDS */
	uint64_t mold_bad[FG_MOLD_BAD_NKINDS]; /* malformed MoldUDP64 packets by kind */
	uint64_t packets; /* well-formed MoldUDP64 packets */
	uint64_t messages; /* new messages (duplicates excluded) */
	uint64_t per_type[256]; /* new messages by type byte */
	uint64_t unknown_type; /* new messages of a type not in the spec */
	uint64_t length_mismatch; /* new messages of a known type but the wrong length */
	uint64_t empty_messages; /* zero-length BinaryFILE records */
	uint64_t selected; /* chosen by the filter */
	uint64_t decoded; /* selected and decoded */
	uint64_t batches; /* filter calls */
	uint64_t session_resets; /* session changes that rebuilt the directory and books */
	uint64_t session_resets_skipped; /* session changes that could not (state above) */
	struct fg_itch_stats itch; /* decode outcome of the selected messages */
};

/* Sequencing totals over every stream. */
struct fg_pipeline_seq_totals {
	uint64_t heartbeats, end_of_session, session_changes;
	uint64_t gaps, gap_messages; /* unrecovered */
	uint64_t recovered, recovered_messages; /* by the re-request server */
	uint64_t duplicate_messages, held_messages, unsequenced_packets, stale_packets;
	uint64_t requests, replies, hold_high;
};

/* Returns 0 and *out, or -EINVAL (bad symbols, types, feed or pair; a pr_warn says which),
 * -ENOMEM. */
int fg_pipeline_new(const struct fg_pipeline_config *cfg, struct fg_pipeline **out);
void fg_pipeline_free(struct fg_pipeline *p);

/* The sink to hand to a capture path (on_batch and on_idle). */
struct fg_sink fg_pipeline_sink(struct fg_pipeline *p);

/*
 * The lines by rule again, after the rules changed while the pipeline ran
 * (lines as in fg_pipeline_config; the pipeline keeps no pointer to them).
 * A line joins the stream of its feed's name (or group) when the pipeline
 * has one, so a feed whose rule was deleted and added again goes on where
 * it was and the messages it missed are a gap; other lines make new
 * streams. Rule ids not listed no longer match. Only for a pipeline made
 * with lines, on the thread that feeds it. 0, -EINVAL (not by rule, a rule id
 * out of range or twice), -ENOSPC (streams), -E2BIG (lines of a stream) or
 * -ENOMEM; on error the mapping in force is kept.
 */
int fg_pipeline_set_lines(struct fg_pipeline *p, const struct fg_pipeline_line *lines,
			  unsigned int n);

/* Process a batch of frames (what the sink's on_batch does). */
void fg_pipeline_frames(struct fg_pipeline *p, const struct fg_frame *frames, unsigned int n);

/* Timers of the sequencers: replies taken, holes asked for or reported (the sink's
 * on_idle). */
void fg_pipeline_idle(struct fg_pipeline *p, uint64_t now_ns);
/* Holes or requests pending: fg_pipeline_idle() has work. */
bool fg_pipeline_busy(const struct fg_pipeline *p);

/*
 * Bare ITCH messages without MoldUDP64 (BinaryFILE): msgs[i] at the type
 * byte, lens[i] its length. They are numbered 1, 2, ... across calls and go
 * through the same filter, decoder, books and callbacks.
 */
void fg_pipeline_raw(struct fg_pipeline *p, const uint8_t *const *msgs, const uint16_t *lens,
		     unsigned int n);

/* End of input: report every pending hole as a gap. */
void fg_pipeline_finish(struct fg_pipeline *p);

const struct fg_pipeline_stats *fg_pipeline_stats(const struct fg_pipeline *p);
void fg_pipeline_seq_totals(const struct fg_pipeline *p, struct fg_pipeline_seq_totals *t);

/* The books (NULL unless cfg->books). A session reset replaces them: do not keep the pointer
 * across fg_pipeline_frames() calls. The summaries' book counters cover every session. */
struct fg_books *fg_pipeline_books(struct fg_pipeline *p);

/* Feeds: how many, a name ("233.54.12.111:26477"), and the sequencing state of each. */
unsigned int fg_pipeline_nfeeds(const struct fg_pipeline *p);
const char *fg_pipeline_feed_name(const struct fg_pipeline *p, unsigned int feed);
const struct fg_seqr *fg_pipeline_feed_seq(const struct fg_pipeline *p, unsigned int feed);
/* Streams (one per feed, or per A/B pair): how many, and each one's sequencer and name. */
unsigned int fg_pipeline_nstreams(const struct fg_pipeline *p);
const struct fg_seqr *fg_pipeline_stream(const struct fg_pipeline *p, unsigned int s,
					 const char **name);
/* The name of line l of stream s (its GROUP:PORT), or NULL. */
const char *fg_pipeline_stream_line(const struct fg_pipeline *p, unsigned int s, unsigned int l);

/* One stream's sequencing as a JSON object (no newline) or lines for people: lines,
 * delivered, gaps recovered and not, recovery latency, hold high-water mark. */
void fg_pipeline_stream_json(const struct fg_pipeline *p, unsigned int s, FILE *f);
void fg_pipeline_stream_print(const struct fg_pipeline *p, unsigned int s, FILE *f);
/* Packets stream s received on all its lines. */
uint64_t fg_pipeline_stream_packets(const struct fg_pipeline *p, unsigned int s);

/* Summary as one JSON object (with a newline), and for people. */
void fg_pipeline_summary_json(const struct fg_pipeline *p, FILE *f);
void fg_pipeline_summary_print(const struct fg_pipeline *p, FILE *f);

#endif /* FEEDGATE_PIPELINE_H */
