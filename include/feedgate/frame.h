/* SPDX-License-Identifier: MIT */
/*
 * The seam between capture and processing. Every capture path (AF_XDP,
 * AF_PACKET, io_uring, sockets, pcap replay) hands the frames of one ring
 * batch to a sink in one call; the sink (the market-data pipeline, a pcap
 * writer, a counter) processes them before returning, after which the
 * capture path recycles the buffers. Nothing here allocates or locks: one
 * sink instance belongs to one capture thread.
 */
#ifndef FEEDGATE_FRAME_H
#define FEEDGATE_FRAME_H

#include <stdint.h>

#define FG_RULE_NONE 0xffffffffu

/* One received frame, starting at its Ethernet header. */
struct fg_frame {
	const uint8_t *data; /* Ethernet header (or, for L3 sockets, see l3) */
	uint32_t len; /* bytes at data */
	uint32_t rule_id; /* from the XDP metadata, FG_RULE_NONE if unknown */
	uint64_t xdp_ns; /* CLOCK_MONOTONIC at XDP time, 0 if unknown */
	uint64_t take_ns; /* CLOCK_MONOTONIC when user space took it */
	uint16_t feed_id; /* from the XDP metadata, 0 if unknown */
	uint16_t queue; /* receive queue (or thread index) */
	uint8_t l3; /* 1: data starts at the IP header (socket paths) */
	uint8_t pad[3];
};

/*
 * A consumer of frame batches. on_batch must not keep pointers into the
 * frames after it returns. on_idle is called (when set) when a poll found
 * nothing, so that a sink can run timers (gap windows) without traffic.
 */
struct fg_sink {
	void *ctx;
	void (*on_batch)(void *ctx, const struct fg_frame *frames, unsigned int n);
	void (*on_idle)(void *ctx, uint64_t now_ns);
	/* Spinning loops call on_idle every idle_every empty polls (0: the loop's
	 * default, 256); a sink that takes work from other threads wants 1. */
	unsigned int idle_every;
};

static inline void fg_sink_batch(const struct fg_sink *s, const struct fg_frame *f, unsigned int n)
{
	if (n)
		s->on_batch(s->ctx, f, n);
}

#endif /* FEEDGATE_FRAME_H */
