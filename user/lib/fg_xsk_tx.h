/* SPDX-License-Identifier: MIT */
/*
 * An AF_XDP socket that only transmits (`feedgate gen --tx af_xdp`), one per
 * transmit queue, each with its own UMEM. The receive socket (fg_xsk.h)
 * keeps every frame in the kernel's hands; this one is the mirror image:
 *
 *   UMEM     nframes x frame_size bytes, every frame owned by user space at
 *            start, on a stack of free frame addresses. A frame leaves the
 *            stack when a packet is built into it, goes to the kernel with
 *            its TX descriptor, and comes back when the kernel returns its
 *            address on the completion ring. Popping and pushing a stack
 *            costs nothing on the hot path and reuses warm frames first.
 *   rings    TX (tx_size descriptors); completion with one slot per frame,
 *            so that it can never overflow (in copy mode the kernel refuses
 *            to transmit when it has no completion slot to reserve); fill,
 *            a token ring the kernel insists on at bind and never gets a
 *            frame from, so nothing is ever received.
 *   bind     XDP_ZEROCOPY first (zc auto/on); when the driver refuses
 *            (EOPNOTSUPP: veth) auto rebuilds the socket in copy mode.
 *            XDP_USE_NEED_WAKEUP. EBUSY (the queue still held by a socket
 *            closed a moment ago) is retried for a while.
 *   kick     sendto(MSG_DONTWAIT) when the TX ring asks for a wakeup. In
 *            copy mode the call itself transmits, through the driver's
 *            normal xmit (veth: into the peer), at most `budget`
 *            descriptors per call (XDP_MAX_TX_SKB_BUDGET where the kernel
 *            has it, else its fixed 32); in zero-copy mode it only wakes
 *            the driver, which sends from its NAPI poll.
 *   kick errors
 *            -EAGAIN   the budget ran out, the device pushed back, or no skb
 *                      could be charged to the socket's send buffer: the
 *                      caller tells progress from the TX consumer index
 *            -EBUSY    the device dropped one frame (NET_XMIT_DROP): it was
 *                      taken off the ring and completed, but never sent
 *            -ENOBUFS  the kernel had no memory for an skb: try again
 *            anything else (-ENETDOWN, -ENXIO) is fatal
 *
 * Completions: fg_xsk_tx_complete() pushes the returned addresses on the
 * free stack and reports how many, so the caller finds exactly the frames
 * that completed on top of the stack (free_addrs[nfree - n .. nfree - 1]).
 *
 * The ring accessors are inline: they are the generator's hot path. Nothing
 * here allocates after fg_xsk_tx_open().
 */
#ifndef FG_XSK_TX_H
#define FG_XSK_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/if_xdp.h>

#include "fg_xsk.h"

struct fg_xsk_tx_config {
	int ifindex;
	uint32_t queue;
	enum fg_zc_mode zc;
	uint32_t nframes; /* UMEM frames, power of two (default 2048) */
	uint32_t frame_size; /* 2048 or 4096 (default 2048) */
	uint32_t tx_size; /* TX ring entries, power of two, <= nframes (default nframes / 2) */
	uint32_t budget; /* copy mode: descriptors per sendto(), 0 = tx_size (kernel permitting) */
	unsigned int bind_retry_ms; /* how long EBUSY is retried (default 5000) */
};

struct fg_xsk_tx {
	int fd;
	int ifindex;
	uint32_t queue;
	bool zerocopy; /* XDP_OPTIONS_ZEROCOPY as read back after bind */
	uint32_t budget; /* copy mode: descriptors one sendto() transmits */
	uint8_t *umem;
	size_t umem_len;
	uint32_t frame_size;
	uint32_t nframes;
	struct fg_xsk_ring tx; /* cached_prod includes the reserved, unsubmitted slots */
	struct fg_xsk_ring comp;
	struct fg_xsk_ring fill;
	uint64_t *free_addrs; /* stack of free frame addresses, nframes entries */
	uint32_t nfree;
	uint32_t submitted_prod; /* TX producer index as last published */
	uint64_t queued; /* descriptors published on the TX ring */
	uint64_t completed; /* addresses taken off the completion ring */
	uint64_t kicks; /* sendto() calls */
};

/* Fill in the defaults for the fields left 0. */
void fg_xsk_tx_config_defaults(struct fg_xsk_tx_config *c);

/*
 * Create the UMEM, the socket and its rings, bind. Returns 0 or -errno with
 * one line saying what failed in err (may be NULL): -ENOMEM (UMEM),
 * -EOPNOTSUPP (zero-copy asked for, not possible), -EBUSY (queue still busy
 * after the retries), -EINVAL (bad sizes, queue out of range).
 */
int fg_xsk_tx_open(const struct fg_xsk_tx_config *c, struct fg_xsk_tx *t, char *err, size_t errlen);
void fg_xsk_tx_close(struct fg_xsk_tx *t);

/* Put every frame of the UMEM on the free stack (done by fg_xsk_tx_open();
 * a test that gives t rings of its own calls it too). */
void fg_xsk_tx_reset_frames(struct fg_xsk_tx *t);

/* XDP_STATISTICS of the socket. */
int fg_xsk_tx_stats(const struct fg_xsk_tx *t, struct xdp_statistics *st);

/*
 * Send what the TX ring holds: sendto() when the kernel asks for a wakeup
 * (always in copy mode). 0, or -errno as listed at the top of this file.
 */
int fg_xsk_tx_kick(struct fg_xsk_tx *t);

/* --- ring access (hot path) --------------------------------------------------------------- */

/* Free TX slots, counting the reserved ones as taken. */
static inline uint32_t fg_xsk_tx_free_slots(struct fg_xsk_tx *t)
{
	struct fg_xsk_ring *r = &t->tx;
	uint32_t n = r->size - (r->cached_prod - r->cached_cons);

	if (!n) {
		r->cached_cons = fg_ring_load_acquire(r->consumer);
		n = r->size - (r->cached_prod - r->cached_cons);
	}
	return n;
}

static inline struct xdp_desc *fg_xsk_tx_desc(const struct fg_xsk_tx *t, uint32_t idx)
{
	return &((struct xdp_desc *)t->tx.ring)[idx & t->tx.mask];
}

/*
 * One TX descriptor with a free frame in it: 1 and *idx, or 0 when the ring
 * is full or no frame is free (take completions, kick, try again). The
 * frame is off the free stack from here on; fill it through
 * fg_xsk_tx_data(), set its length, then fg_xsk_tx_submit().
 */
static inline uint32_t fg_xsk_tx_reserve(struct fg_xsk_tx *t, uint32_t *idx)
{
	struct xdp_desc *d;

	if (!t->nfree || !fg_xsk_tx_free_slots(t))
		return 0;
	*idx = t->tx.cached_prod++;
	d = fg_xsk_tx_desc(t, *idx);
	d->addr = t->free_addrs[--t->nfree];
	d->len = 0;
	d->options = 0;
	return 1;
}

/* A free frame off the stack, outside the ring (fg_xsk_tx_push_front()):
 * 1 and *addr, 0 when none is free. */
static inline uint32_t fg_xsk_tx_take_frame(struct fg_xsk_tx *t, uint64_t *addr)
{
	if (!t->nfree)
		return 0;
	*addr = t->free_addrs[--t->nfree];
	return 1;
}

/*
 * Copy mode only: put a descriptor at TX index `at`, the next one the kernel
 * will read, moving the unsent ones [at, producer) back by one slot, and
 * publish. For a frame the device dropped: sent again before everything
 * queued after it, so that no flow is reordered. Legal because in copy mode
 * the kernel reads the TX ring only inside a kick (never in zero-copy
 * mode: a driver reads it when it likes). 0, or -ENOSPC with the ring full
 * (nothing changed).
 */
int fg_xsk_tx_push_front(struct fg_xsk_tx *t, uint32_t at, uint64_t addr, uint32_t len);

/* Where the packet of a frame address lives. */
static inline uint8_t *fg_xsk_tx_data(const struct fg_xsk_tx *t, uint64_t addr)
{
	return t->umem + addr;
}

/* Publish every reserved descriptor; returns how many. */
static inline uint32_t fg_xsk_tx_submit(struct fg_xsk_tx *t)
{
	uint32_t n = t->tx.cached_prod - t->submitted_prod;

	if (n) {
		fg_ring_store_release(t->tx.producer, t->tx.cached_prod);
		t->submitted_prod = t->tx.cached_prod;
		t->queued += n;
	}
	return n;
}

/* The kernel's TX consumer index: descriptors before it are taken. */
static inline uint32_t fg_xsk_tx_consumer(struct fg_xsk_tx *t)
{
	t->tx.cached_cons = fg_ring_load_acquire(t->tx.consumer);
	return t->tx.cached_cons;
}

/* Published descriptors the kernel has not taken yet. */
static inline uint32_t fg_xsk_tx_unsent(struct fg_xsk_tx *t)
{
	return t->submitted_prod - fg_xsk_tx_consumer(t);
}

/* Frames between submit and completion. */
static inline uint64_t fg_xsk_tx_in_flight(const struct fg_xsk_tx *t)
{
	return t->queued - t->completed;
}

/* Does the kernel want a sendto() to look at the TX ring? */
static inline bool fg_xsk_tx_needs_kick(const struct fg_xsk_tx *t)
{
	return __atomic_load_n(t->tx.flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP;
}

/*
 * Take every address off the completion ring and push it on the free
 * stack; returns how many. They are the top n entries of free_addrs.
 */
static inline uint32_t fg_xsk_tx_complete(struct fg_xsk_tx *t)
{
	struct fg_xsk_ring *r = &t->comp;
	const uint64_t *ring = r->ring;
	uint32_t n;

	r->cached_prod = fg_ring_load_acquire(r->producer);
	n = r->cached_prod - r->cached_cons;
	if (!n)
		return 0;
	/* never more than the frames out: a completion ring that says
	 * otherwise is not ours to trust */
	if (n > t->nframes - t->nfree)
		n = t->nframes - t->nfree;
	for (uint32_t i = 0; i < n; i++)
		t->free_addrs[t->nfree++] = ring[(r->cached_cons + i) & r->mask];
	r->cached_cons += n;
	fg_ring_store_release(r->consumer, r->cached_cons);
	t->completed += n;
	return n;
}

#endif /* FG_XSK_TX_H */
