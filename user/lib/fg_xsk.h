/* SPDX-License-Identifier: MIT */
/*
 * One AF_XDP socket on one receive queue, with its own UMEM, built from the
 * raw socket API (linux/if_xdp.h) so that every step can fail, be retried
 * or fall back on its own terms:
 *
 *   UMEM     nframes x frame_size bytes, on 2 MB huge pages when the system
 *            has some free (MAP_HUGETLB), else normal pages with
 *            MADV_HUGEPAGE; fg_xsk.huge says which.
 *   rings    nframes = 2 x RX ring, all of them handed to the fill ring at
 *            start; a frame taken off RX goes back to the fill ring in the
 *            same batch (one reserve/submit for the batch), so the fill ring
 *            holds every frame but those in RX or being processed: with RX
 *            full, as many again wait in it. The fill ring has 2 x nframes
 *            slots because the kernel publishes its consumer index lazily
 *            (only when its cached view runs dry): with as many slots as
 *            frames, a frame just taken off RX could find no free slot.
 *   headroom the kernel always reserves XDP_PACKET_HEADROOM (256) in front
 *            of the packet in a frame; the XDP program's struct fg_meta
 *            (16 bytes) sits right before the packet, inside it. No extra
 *            UMEM headroom is needed; it can be asked for (umem_headroom).
 *   bind     XDP_ZEROCOPY for on/auto; on EOPNOTSUPP auto rebuilds the
 *            socket in copy mode. The mode really in use is read back with
 *            XDP_OPTIONS. EBUSY (the queue still held by a socket being
 *            torn down) is retried for a short while.
 *
 * The ring accessors are inline: they are the receive hot path.
 */
#ifndef FG_XSK_H
#define FG_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/if_xdp.h>

enum fg_zc_mode { FG_ZC_AUTO = 0, FG_ZC_ON, FG_ZC_OFF };

struct fg_xsk_config {
	int ifindex;
	uint32_t queue;
	enum fg_zc_mode zc;
	bool need_wakeup; /* bind with XDP_USE_NEED_WAKEUP */
	uint32_t rx_size; /* RX ring entries, power of two (default 2048) */
	uint32_t fill_size; /* fill ring entries, power of two, >= 4 x rx_size (default);
				 * the UMEM has fill_size / 2 frames */
	uint32_t frame_size; /* 2048 or 4096 (default 2048) */
	uint32_t umem_headroom; /* extra headroom in front of XDP_PACKET_HEADROOM (default 0) */
	unsigned int bind_retry_ms; /* how long EBUSY is retried (default 5000) */
};

/* A single-producer single-consumer ring shared with the kernel. */
struct fg_xsk_ring {
	uint32_t cached_prod;
	uint32_t cached_cons;
	uint32_t mask;
	uint32_t size;
	uint32_t *producer;
	uint32_t *consumer;
	uint32_t *flags;
	void *ring;
	void *map;
	size_t map_len;
};

struct fg_xsk {
	int fd;
	int ifindex;
	uint32_t queue;
	bool zerocopy; /* XDP_OPTIONS_ZEROCOPY as read back after bind */
	bool need_wakeup; /* bound with XDP_USE_NEED_WAKEUP */
	bool huge; /* UMEM on MAP_HUGETLB pages */
	uint8_t *umem;
	size_t umem_len;
	uint32_t frame_size;
	uint32_t nframes;
	struct fg_xsk_ring fill;
	struct fg_xsk_ring comp;
	struct fg_xsk_ring rx;
};

/* Fill in the defaults for the fields left 0. */
void fg_xsk_config_defaults(struct fg_xsk_config *c);

/*
 * Create the UMEM, the socket and its rings, fill the fill ring and bind.
 * Returns 0 or -errno, with one line saying what failed in err (may be
 * NULL): -ENOMEM (UMEM), -EOPNOTSUPP (zero-copy asked for and not possible),
 * -EBUSY (queue still busy after the retries), -EINVAL (queue out of range).
 * The socket is not registered anywhere: the caller puts x->fd in its XSKMAP.
 */
int fg_xsk_open(const struct fg_xsk_config *c, struct fg_xsk *x, char *err, size_t errlen);
void fg_xsk_close(struct fg_xsk *x);

/*
 * One ring of socket fd mapped at pgoff (XDP_PGOFF_RX_RING, ...): size
 * entries of desc_size bytes at the offsets XDP_MMAP_OFFSETS gave. 0 or
 * -errno. fg_xsk_ring_unmap() undoes it (and is harmless on a ring never
 * mapped). Shared by the receive and the transmit sockets.
 */
int fg_xsk_ring_map(int fd, struct fg_xsk_ring *r, const struct xdp_ring_offset *off, uint32_t size,
		    size_t desc_size, off_t pgoff);
void fg_xsk_ring_unmap(struct fg_xsk_ring *r);

/* XDP_STATISTICS of the socket. */
int fg_xsk_stats(const struct fg_xsk *x, struct xdp_statistics *st);

/*
 * The setup the receive and the transmit sockets share: an AF_XDP socket
 * on an existing UMEM with a fill ring, a completion ring and one
 * descriptor ring (RX, or TX with tx set), all mapped; made() (may be
 * NULL) runs on every socket made, before its bind; then the bind to the
 * queue in the zc mode, with EBUSY retried for bind_retry_ms and, in auto,
 * a new socket in copy mode when the driver refuses zero-copy. The
 * socket's fd and rings go where k points; *zerocopy gets the mode in use.
 * 0, or -errno with one line in err; the caller then closes with
 * fg_xsk_sock_close() (harmless on what was never made).
 */
struct fg_xsk_sock_spec {
	int ifindex;
	uint32_t queue;
	enum fg_zc_mode zc;
	bool need_wakeup; /* bind with XDP_USE_NEED_WAKEUP */
	unsigned int bind_retry_ms;
	void *umem;
	uint32_t nframes;
	uint32_t frame_size;
	uint32_t headroom;
	uint32_t fill_size;
	uint32_t comp_size;
	bool tx; /* the descriptor ring transmits */
	uint32_t ring_size;
	int (*made)(void *ctx, char *err, size_t errlen);
	void *ctx;
};

struct fg_xsk_sock {
	int *fd;
	struct fg_xsk_ring *fill;
	struct fg_xsk_ring *comp;
	struct fg_xsk_ring *ring; /* RX or TX */
};

int fg_xsk_sock_open(const struct fg_xsk_sock_spec *s, const struct fg_xsk_sock *k, bool *zerocopy,
		     char *err, size_t errlen);
void fg_xsk_sock_close(const struct fg_xsk_sock *k);

/* --- ring access (hot path) --------------------------------------------------------------- */

static inline uint32_t fg_ring_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void fg_ring_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Up to n descriptors ready on RX; *idx is the first. */
static inline uint32_t fg_xsk_rx_peek(struct fg_xsk *x, uint32_t n, uint32_t *idx)
{
	struct fg_xsk_ring *r = &x->rx;
	uint32_t avail = r->cached_prod - r->cached_cons;

	if (avail < n) {
		r->cached_prod = fg_ring_load_acquire(r->producer);
		avail = r->cached_prod - r->cached_cons;
	}
	if (avail > n)
		avail = n;
	*idx = r->cached_cons;
	return avail;
}

static inline const struct xdp_desc *fg_xsk_rx_desc(const struct fg_xsk *x, uint32_t idx)
{
	return &((const struct xdp_desc *)x->rx.ring)[idx & x->rx.mask];
}

static inline void fg_xsk_rx_release(struct fg_xsk *x, uint32_t n)
{
	x->rx.cached_cons += n;
	fg_ring_store_release(x->rx.consumer, x->rx.cached_cons);
}

/*
 * Reserve n fill ring slots. Always succeeds for frames that came off RX
 * (the ring has twice as many slots as the UMEM has frames), but checked.
 */
static inline uint32_t fg_xsk_fill_reserve(struct fg_xsk *x, uint32_t n, uint32_t *idx)
{
	struct fg_xsk_ring *r = &x->fill;
	uint32_t free_slots = r->size - (r->cached_prod - r->cached_cons);

	if (free_slots < n) {
		r->cached_cons = fg_ring_load_acquire(r->consumer);
		free_slots = r->size - (r->cached_prod - r->cached_cons);
		if (free_slots < n)
			return 0;
	}
	*idx = r->cached_prod;
	return n;
}

static inline void fg_xsk_fill_set(struct fg_xsk *x, uint32_t idx, uint64_t addr)
{
	((uint64_t *)x->fill.ring)[idx & x->fill.mask] = addr;
}

static inline void fg_xsk_fill_submit(struct fg_xsk *x, uint32_t n)
{
	x->fill.cached_prod += n;
	fg_ring_store_release(x->fill.producer, x->fill.cached_prod);
}

/* Does the kernel want a syscall before it looks at the fill ring again? */
static inline bool fg_xsk_fill_needs_wakeup(const struct fg_xsk *x)
{
	return x->need_wakeup &&
	       (__atomic_load_n(x->fill.flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP);
}

/* Frame base address of a descriptor address (aligned chunk mode). */
static inline uint64_t fg_xsk_frame_base(const struct fg_xsk *x, uint64_t addr)
{
	return addr & ~(uint64_t)(x->frame_size - 1);
}

#endif /* FG_XSK_H */
