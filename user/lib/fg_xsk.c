// SPDX-License-Identifier: MIT
/*
 * AF_XDP socket setup and teardown (see fg_xsk.h): UMEM allocation, ring
 * creation and mapping, the zero-copy / copy bind with its fallback and
 * EBUSY retry (for the transmit socket too), statistics.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "fg_log.h"
#include "fg_xsk.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define FG_HUGE_PAGE (2u << 20)

void fg_xsk_config_defaults(struct fg_xsk_config *c)
{
	if (!c->rx_size)
		c->rx_size = 2048;
	if (!c->fill_size)
		c->fill_size = 4 * c->rx_size;
	if (!c->frame_size)
		c->frame_size = 2048;
	if (!c->bind_retry_ms)
		c->bind_retry_ms = 5000;
}

static bool fg_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/*
 * 2 MB huge pages when the pool has some, else normal pages (aligned to
 * 2 MB and marked MADV_HUGEPAGE so transparent huge pages can back them).
 */
static int fg_umem_alloc(struct fg_xsk *x, size_t len)
{
	size_t hlen = (len + FG_HUGE_PAGE - 1) & ~((size_t)FG_HUGE_PAGE - 1);
	uint8_t *p, *aligned;
	size_t over, tail;

	p = mmap(NULL, hlen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p != MAP_FAILED) {
		x->umem = p;
		x->umem_len = hlen;
		x->huge = true;
		return 0;
	}
	over = hlen + FG_HUGE_PAGE;
	p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	aligned = (uint8_t *)(((uintptr_t)p + FG_HUGE_PAGE - 1) & ~((uintptr_t)FG_HUGE_PAGE - 1));
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	tail = (size_t)((p + over) - (aligned + hlen));
	if (tail)
		munmap(aligned + hlen, tail);
	madvise(aligned, hlen, MADV_HUGEPAGE);
	/* touch every page now, not on the first packets */
	for (size_t off = 0; off < hlen; off += 4096)
		aligned[off] = 0;
	x->umem = aligned;
	x->umem_len = hlen;
	x->huge = false;
	return 0;
}

int fg_xsk_ring_map(int fd, struct fg_xsk_ring *r, const struct xdp_ring_offset *off, uint32_t size,
		    size_t desc_size, off_t pgoff)
{
	r->map_len = off->desc + (size_t)size * desc_size;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		      pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->producer = (uint32_t *)((uint8_t *)r->map + off->producer);
	r->consumer = (uint32_t *)((uint8_t *)r->map + off->consumer);
	r->flags = (uint32_t *)((uint8_t *)r->map + off->flags);
	r->ring = (uint8_t *)r->map + off->desc;
	r->size = size;
	r->mask = size - 1;
	r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	return 0;
}

void fg_xsk_ring_unmap(struct fg_xsk_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	memset(r, 0, sizeof(*r));
}

void fg_xsk_sock_close(const struct fg_xsk_sock *k)
{
	fg_xsk_ring_unmap(k->ring);
	fg_xsk_ring_unmap(k->fill);
	fg_xsk_ring_unmap(k->comp);
	if (*k->fd >= 0)
		close(*k->fd);
	*k->fd = -1;
}

/* Socket, UMEM registration, rings and their mappings. */
static int fg_xsk_sock_make(const struct fg_xsk_sock_spec *s, const struct fg_xsk_sock *k,
			    char *err, size_t errlen)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)s->umem,
		.len = (uint64_t)s->nframes * s->frame_size,
		.chunk_size = s->frame_size,
		.headroom = s->headroom,
	};
	const struct xdp_ring_offset *ring_off;
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	int fd, ret;

	fd = *k->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't create AF_XDP socket: %s", strerror(errno));
		return ret;
	}
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &s->fill_size, sizeof(s->fill_size)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &s->comp_size,
		       sizeof(s->comp_size)) ||
	    setsockopt(fd, SOL_XDP, s->tx ? XDP_TX_RING : XDP_RX_RING, &s->ring_size,
		       sizeof(s->ring_size))) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't register UMEM / rings (%u frames of %u): %s",
			s->nframes, s->frame_size, strerror(errno));
		return ret;
	}
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen)) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't read ring offsets: %s", strerror(errno));
		return ret;
	}
	ring_off = s->tx ? &off.tx : &off.rx;
	ret = fg_xsk_ring_map(fd, k->fill, &off.fr, s->fill_size, sizeof(uint64_t),
			      XDP_UMEM_PGOFF_FILL_RING);
	if (!ret)
		ret = fg_xsk_ring_map(fd, k->comp, &off.cr, s->comp_size, sizeof(uint64_t),
				      XDP_UMEM_PGOFF_COMPLETION_RING);
	if (!ret)
		ret = fg_xsk_ring_map(fd, k->ring, ring_off, s->ring_size, sizeof(struct xdp_desc),
				      s->tx ? XDP_PGOFF_TX_RING : XDP_PGOFF_RX_RING);
	if (ret) {
		fg_errf(err, errlen, "Couldn't map AF_XDP rings: %s", strerror(-ret));
		return ret;
	}
	return s->made ? s->made(s->ctx, err, errlen) : 0;
}

static int fg_xsk_sock_bind(const struct fg_xsk_sock_spec *s, int fd, uint16_t mode_flag)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)s->ifindex,
		.sxdp_queue_id = s->queue,
		.sxdp_flags = mode_flag | (s->need_wakeup ? XDP_USE_NEED_WAKEUP : 0),
	};
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int waited = 0;

	for (;;) {
		if (!bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
			return 0;
		/* A socket closed a moment ago releases its queue from a work
		 * item that needs the RTNL lock: seconds when the lock is
		 * contended (namespaces being deleted, for one). */
		if (errno != EBUSY || waited >= s->bind_retry_ms)
			return -errno;
		nanosleep(&ts, NULL);
		waited += 10;
	}
}

int fg_xsk_sock_open(const struct fg_xsk_sock_spec *s, const struct fg_xsk_sock *k, bool *zerocopy,
		     char *err, size_t errlen)
{
	struct xdp_options opts = { 0 };
	socklen_t optlen = sizeof(opts);
	int ret;

	ret = fg_xsk_sock_make(s, k, err, errlen);
	if (ret)
		return ret;
	if (s->zc == FG_ZC_OFF) {
		ret = fg_xsk_sock_bind(s, *k->fd, XDP_COPY);
	} else {
		ret = fg_xsk_sock_bind(s, *k->fd, XDP_ZEROCOPY);
		if (ret == -EOPNOTSUPP && s->zc == FG_ZC_AUTO) {
			/* A failed zero-copy bind leaves the rings half given to
			 * the kernel: start again from a new socket. */
			fg_xsk_sock_close(k);
			ret = fg_xsk_sock_make(s, k, err, errlen);
			if (ret)
				return ret;
			ret = fg_xsk_sock_bind(s, *k->fd, XDP_COPY);
		}
	}
	if (ret) {
		if (ret == -EOPNOTSUPP)
			fg_errf(err, errlen, "queue %u: zero-copy not supported by the driver",
				s->queue);
		else if (ret == -EBUSY)
			fg_errf(err, errlen,
				"queue %u: Couldn't bind AF_XDP socket: queue busy (another "
				"AF_XDP socket holds it)",
				s->queue);
		/* a receive queue past the device's last is the usual cause */
		else if (ret == -EINVAL && !s->tx)
			fg_errf(err, errlen,
				"queue %u: Couldn't bind AF_XDP socket: %s (no such queue?)",
				s->queue, strerror(-ret));
		else
			fg_errf(err, errlen, "queue %u: Couldn't bind AF_XDP socket: %s", s->queue,
				strerror(-ret));
		return ret;
	}
	if (getsockopt(*k->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen)) {
		ret = -errno;
		fg_errf(err, errlen, "queue %u: Couldn't read XDP_OPTIONS: %s", s->queue,
			strerror(errno));
		return ret;
	}
	*zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	return 0;
}

/* The receive socket's rings, for the shared setup. */
static void fg_xsk_rx_sock(struct fg_xsk *x, struct fg_xsk_sock *k)
{
	k->fd = &x->fd;
	k->fill = &x->fill;
	k->comp = &x->comp;
	k->ring = &x->rx;
}

/* Every frame into the fill ring, before the bind: the kernel can fill the
 * whole RX ring and still find as many frames again. */
static int fg_xsk_fill_all(void *ctx, char *err, size_t errlen)
{
	struct fg_xsk *x = ctx;
	uint32_t idx;

	if (fg_xsk_fill_reserve(x, x->nframes, &idx) != x->nframes) {
		fg_errf(err, errlen, "fill ring smaller than the UMEM");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < x->nframes; i++)
		fg_xsk_fill_set(x, idx + i, (uint64_t)i * x->frame_size);
	fg_xsk_fill_submit(x, x->nframes);
	return 0;
}

int fg_xsk_open(const struct fg_xsk_config *cfg, struct fg_xsk *x, char *err, size_t errlen)
{
	struct fg_xsk_config c = *cfg;
	struct fg_xsk_sock_spec spec;
	struct fg_xsk_sock k;
	int ret;

	fg_xsk_config_defaults(&c);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->ifindex = c.ifindex;
	x->queue = c.queue;
	x->need_wakeup = c.need_wakeup;
	x->frame_size = c.frame_size;
	x->nframes = c.fill_size / 2;
	if (!fg_is_pow2(c.rx_size) || !fg_is_pow2(c.fill_size) || c.fill_size < 4 * c.rx_size ||
	    (c.frame_size != 2048 && c.frame_size != 4096)) {
		fg_errf(err, errlen, "bad ring sizes (rx %u, fill %u, frame %u)", c.rx_size,
			c.fill_size, c.frame_size);
		return -EINVAL;
	}
	ret = fg_umem_alloc(x, (size_t)x->nframes * x->frame_size);
	if (ret) {
		fg_errf(err, errlen, "Couldn't allocate %zu MiB of UMEM: %s",
			((size_t)x->nframes * x->frame_size) >> 20, strerror(-ret));
		return ret;
	}

	spec = (struct fg_xsk_sock_spec){
		.ifindex = c.ifindex,
		.queue = c.queue,
		.zc = c.zc,
		.need_wakeup = c.need_wakeup,
		.bind_retry_ms = c.bind_retry_ms,
		.umem = x->umem,
		.nframes = x->nframes,
		.frame_size = x->frame_size,
		.headroom = c.umem_headroom,
		.fill_size = c.fill_size,
		/* a receive socket completes nothing, but the kernel wants the ring */
		.comp_size = 64,
		.tx = false,
		.ring_size = c.rx_size,
		.made = fg_xsk_fill_all,
		.ctx = x,
	};
	fg_xsk_rx_sock(x, &k);
	ret = fg_xsk_sock_open(&spec, &k, &x->zerocopy, err, errlen);
	if (ret)
		fg_xsk_close(x);
	return ret;
}

void fg_xsk_close(struct fg_xsk *x)
{
	struct fg_xsk_sock k;

	fg_xsk_rx_sock(x, &k);
	fg_xsk_sock_close(&k);
	if (x->umem)
		munmap(x->umem, x->umem_len);
	x->umem = NULL;
}

int fg_xsk_stats(const struct fg_xsk *x, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, st, &len))
		return -errno;
	return 0;
}
