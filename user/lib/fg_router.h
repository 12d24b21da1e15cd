/* SPDX-License-Identifier: MIT */
/*
 * One feed, one thread. A feed's A and B lines may land on different
 * receive queues (RSS hashes each group on its own), but its sequencer,
 * books and output must see every line. The router sits between each
 * receive thread and its pipeline: the first thread to receive a frame of
 * a feed (by the frame's feed id) becomes the feed's owner for the run;
 * frames of a feed another thread owns are copied into a single-producer
 * single-consumer ring from this thread to the owner, which takes them
 * between its own bursts and on every idle poll.
 *
 * Lock-free: the owner table is claimed with one compare-and-swap per feed
 * for the whole run; each ring has one writer and one reader. A feed whose
 * lines all arrive on its owner's queue (one line, or both steered to one
 * queue) costs one table load per frame and no copy. A full ring drops the
 * frame and counts it (the feed's sequencer then sees a hole like any other
 * loss and recovers it from the other line or the server).
 *
 * Latency: a forwarded frame waits for the owner's next poll: nothing when
 * the owner spins (busy, spin), up to the owner's wait when it sleeps
 * (wakeup: 20 ms at most).
 */
#ifndef FG_ROUTER_H
#define FG_ROUTER_H

#include <stdint.h>

#include "feedgate/frame.h"

#define FG_ROUTER_MAX_THREADS 64
#define FG_ROUTER_FRAME_MAX 2048 /* bytes of a forwarded frame */
#define FG_ROUTER_DEF_SLOTS 1024 /* frames in flight per thread pair */
#define FG_ROUTER_MAX_BATCH 256 /* frames handed to the inner sink at once */

struct fg_router;

struct fg_router_stats {
	uint64_t forwarded; /* frames this thread copied to another thread's feed */
	uint64_t received; /* frames other threads copied to this thread */
	uint64_t ring_full; /* frames dropped: the ring to their owner was full */
	uint64_t too_long; /* frames dropped: longer than FG_ROUTER_FRAME_MAX */
};

/* nthreads receive threads, slots frames per ring (a power of two; 0 = default). */
int fg_router_new(unsigned int nthreads, unsigned int slots, struct fg_router **out);
void fg_router_free(struct fg_router *r);

/* The sink thread t hands its batches to; inner is t's own pipeline (or any sink). */
struct fg_sink fg_router_sink(struct fg_router *r, unsigned int t, struct fg_sink inner);

/* Frames of feed id from are routed as those of feed id to (two lines made one
 * feed by hand: run --arbitrate; a feed's rule added again under a new id).
 * From any thread, also while frames flow. */
void fg_router_alias(struct fg_router *r, uint16_t from, uint16_t to);

/* Readable from any thread. */
void fg_router_get_stats(const struct fg_router *r, unsigned int t, struct fg_router_stats *out);
/* The thread that owns feed_id, or -1 when no frame of it came yet. */
int fg_router_owner(const struct fg_router *r, uint16_t feed_id);

#endif /* FG_ROUTER_H */
