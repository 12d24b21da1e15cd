/* SPDX-License-Identifier: MIT */
/*
 * The receive thread of one AF_XDP socket: pinned to a CPU, it takes
 * batches off the RX ring, turns each descriptor into a struct fg_frame
 * with the XDP stamp (rx time, rule, feed; fg_stamp.h), or, for a frame
 * without one, the rule and feed its headers match (fg_ftab.h), records
 * the latencies, hands the batch to the sink and gives the frames back to
 * the fill ring.
 *
 * Polling (--poll):
 *   busy    SO_PREFER_BUSY_POLL + SO_BUSY_POLL + SO_BUSY_POLL_BUDGET =
 *           batch; when the ring is empty, a non-blocking recvfrom() lets
 *           the kernel run the device's NAPI poll in this thread.
 *   spin    no system call at all: the thread spins on the ring indexes
 *           (bound without need_wakeup).
 *   wakeup  poll() sleeps until the ring has entries; for a shared core.
 *
 * Statistics are per thread, in a cache-line-aligned block written only by
 * the thread (relaxed atomic stores, so the live stats line in the main
 * thread reads whole values).
 */
#ifndef FG_RXLOOP_H
#define FG_RXLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "feedgate/frame.h"
#include "fg_ftab.h"
#include "fg_hist.h"
#include "fg_maps.h"
#include "fg_xsk.h"

#define FG_RX_MAX_BATCH 256
#define FG_CACHELINE 64

enum fg_poll_mode { FG_POLL_BUSY = 0, FG_POLL_SPIN, FG_POLL_WAKEUP };

/* "busy" / "spin" / "wakeup" and back; -1 when unknown. */
const char *fg_poll_name(enum fg_poll_mode m);
int fg_poll_parse(const char *s);

struct fg_rxq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t batches;
	uint64_t empty_polls;
	uint64_t syscalls; /* recvfrom / poll calls */
	uint64_t bad_desc; /* descriptors outside the UMEM: skipped */
	uint64_t no_meta; /* frames without a stamp (fg_stamp.h) */
	uint64_t stamp_meta; /* stamp in the metadata area */
	uint64_t stamp_head; /* stamp prepended to the frame */
	uint64_t classified; /* no stamp: rule and feed found from the headers */
	uint64_t unclassified; /* no stamp and no rule matches its headers */
	uint64_t fill_stalls; /* fill ring had no room (should never happen) */
	uint64_t gen_stamped; /* frames carrying a generator send stamp */
	uint64_t rule_packets[FG_MAX_RULES]; /* by XDP rule id */
	struct fg_hist xdp_lat; /* XDP stamp -> taken off the ring */
	struct fg_hist gen_lat; /* generator send stamp -> taken off the ring */
} __attribute__((aligned(FG_CACHELINE)));

struct fg_rxq {
	/* set by the caller before fg_rxq_start() */
	struct fg_xsk xsk;
	int cpu; /* -1: not pinned */
	enum fg_poll_mode poll;
	uint32_t batch; /* <= FG_RX_MAX_BATCH */
	struct fg_sink sink; /* on_batch may be NULL: count only */
	uint64_t cookie; /* fg_config.stamp_cookie of the filter: stamps are taken only with it */
	struct fg_ftab_live *ftab; /* rules for frames without a stamp; NULL: none */
	int ftab_reader; /* this thread's reader slot in ftab */

	/* thread state */
	pthread_t tid;
	bool started;
	int stop; /* set by fg_rxq_stop(): drain, then exit */
	int err; /* -errno the thread stopped with */

	struct fg_rxq_stats st;
	struct fg_frame frames[FG_RX_MAX_BATCH] __attribute__((aligned(FG_CACHELINE)));
};

/*
 * Socket options the polling mode needs (busy: SO_PREFER_BUSY_POLL,
 * SO_BUSY_POLL = busy_us, SO_BUSY_POLL_BUDGET = batch). Returns 0 or -errno
 * (with a line in err).
 */
int fg_rxq_setup_poll(struct fg_rxq *q, unsigned int busy_us, char *err, size_t errlen);

/* Start the thread (pinned to q->cpu). 0 or -errno. */
int fg_rxq_start(struct fg_rxq *q);

/* Ask the thread to drain its ring and exit, and wait for it. Remove the
 * socket from the XSKMAP first, or the drain may never end. */
void fg_rxq_stop(struct fg_rxq *q);

/* A consistent-enough copy of the counters (histograms included). */
void fg_rxq_snapshot(const struct fg_rxq *q, struct fg_rxq_stats *out);

#endif /* FG_RXLOOP_H */
