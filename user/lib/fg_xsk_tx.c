// SPDX-License-Identifier: MIT
/*
 * Transmit-only AF_XDP socket setup, teardown and kick (see fg_xsk_tx.h):
 * UMEM, the TX / completion / fill rings and their mappings, the zero-copy
 * bind with its copy-mode fallback and EBUSY retry, the per-call budget.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "fg_log.h"
#include "fg_xsk_tx.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* Linux 6.17: descriptors one copy-mode sendto() may transmit (32 before). */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif
#define FG_XSK_TX_KERNEL_BATCH 32
/* The fill ring is never filled; the kernel only wants one to exist. */
#define FG_XSK_TX_FILL_SIZE 64

static bool fg_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

void fg_xsk_tx_config_defaults(struct fg_xsk_tx_config *c)
{
	if (!c->nframes)
		c->nframes = 2048;
	if (!c->frame_size)
		c->frame_size = 2048;
	if (!c->tx_size)
		c->tx_size = c->nframes / 2;
	if (!c->budget)
		c->budget = c->tx_size;
	if (!c->bind_retry_ms)
		c->bind_retry_ms = 5000;
}

void fg_xsk_tx_reset_frames(struct fg_xsk_tx *t)
{
	/* pushed last to first so that frame 0 is used first */
	t->nfree = 0;
	for (uint32_t i = t->nframes; i-- > 0;)
		t->free_addrs[t->nfree++] = (uint64_t)i * t->frame_size;
}

static void fg_xsk_tx_close_socket(struct fg_xsk_tx *t)
{
	fg_xsk_ring_unmap(&t->tx);
	fg_xsk_ring_unmap(&t->comp);
	fg_xsk_ring_unmap(&t->fill);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Socket, UMEM registration, rings and their mappings. */
static int fg_xsk_tx_make_socket(const struct fg_xsk_tx_config *c, struct fg_xsk_tx *t, char *err,
				 size_t errlen)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)t->umem,
		.len = (uint64_t)t->nframes * t->frame_size,
		.chunk_size = t->frame_size,
	};
	uint32_t fill_size = FG_XSK_TX_FILL_SIZE;
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	int ret;

	t->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't create AF_XDP socket: %s", strerror(errno));
		return ret;
	}
	if (setsockopt(t->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(t->fd, SOL_XDP, XDP_UMEM_FILL_RING, &fill_size, sizeof(fill_size)) ||
	    setsockopt(t->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &t->nframes, sizeof(t->nframes)) ||
	    setsockopt(t->fd, SOL_XDP, XDP_TX_RING, &c->tx_size, sizeof(c->tx_size))) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't register UMEM / rings (%u frames of %u): %s",
			t->nframes, t->frame_size, strerror(errno));
		return ret;
	}
	if (getsockopt(t->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen)) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't read ring offsets: %s", strerror(errno));
		return ret;
	}
	ret = fg_xsk_ring_map(t->fd, &t->tx, &off.tx, c->tx_size, sizeof(struct xdp_desc),
			      XDP_PGOFF_TX_RING);
	if (!ret)
		ret = fg_xsk_ring_map(t->fd, &t->comp, &off.cr, t->nframes, sizeof(uint64_t),
				      XDP_UMEM_PGOFF_COMPLETION_RING);
	if (!ret)
		ret = fg_xsk_ring_map(t->fd, &t->fill, &off.fr, fill_size, sizeof(uint64_t),
				      XDP_UMEM_PGOFF_FILL_RING);
	if (ret) {
		fg_errf(err, errlen, "Couldn't map AF_XDP rings: %s", strerror(-ret));
		return ret;
	}
	t->submitted_prod = t->tx.cached_prod;
	return 0;
}

static int fg_xsk_tx_bind(const struct fg_xsk_tx_config *c, struct fg_xsk_tx *t, uint16_t mode_flag)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)c->ifindex,
		.sxdp_queue_id = c->queue,
		.sxdp_flags = mode_flag | XDP_USE_NEED_WAKEUP,
	};
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int waited = 0;

	for (;;) {
		if (!bind(t->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
			return 0;
		/* a socket closed a moment ago (the previous gen run) gives
		 * its queue back from a work item that needs the RTNL lock */
		if (errno != EBUSY || waited >= c->bind_retry_ms)
			return -errno;
		nanosleep(&ts, NULL);
		waited += 10;
	}
}

int fg_xsk_tx_open(const struct fg_xsk_tx_config *cfg, struct fg_xsk_tx *t, char *err,
		   size_t errlen)
{
	struct fg_xsk_tx_config c = *cfg;
	struct xdp_options opts = { 0 };
	socklen_t optlen = sizeof(opts);
	void *p;
	int ret;

	fg_xsk_tx_config_defaults(&c);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->ifindex = c.ifindex;
	t->queue = c.queue;
	t->frame_size = c.frame_size;
	t->nframes = c.nframes;
	if (!fg_is_pow2(c.nframes) || !fg_is_pow2(c.tx_size) || c.tx_size > c.nframes ||
	    (c.frame_size != 2048 && c.frame_size != 4096)) {
		fg_errf(err, errlen, "bad AF_XDP TX sizes (frames %u, tx ring %u, frame %u)",
			c.nframes, c.tx_size, c.frame_size);
		return -EINVAL;
	}
	t->umem_len = (size_t)c.nframes * c.frame_size;
	p = mmap(NULL, t->umem_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	t->free_addrs = calloc(c.nframes, sizeof(*t->free_addrs));
	if (p == MAP_FAILED || !t->free_addrs) {
		ret = p == MAP_FAILED ? -errno : -ENOMEM;
		if (p != MAP_FAILED)
			munmap(p, t->umem_len);
		free(t->free_addrs);
		t->free_addrs = NULL;
		fg_errf(err, errlen, "Couldn't allocate %zu KiB of UMEM: %s", t->umem_len >> 10,
			strerror(-ret));
		return ret;
	}
	t->umem = p;
	fg_xsk_tx_reset_frames(t);

	ret = fg_xsk_tx_make_socket(&c, t, err, errlen);
	if (ret)
		goto fail;
	if (c.zc == FG_ZC_OFF) {
		ret = fg_xsk_tx_bind(&c, t, XDP_COPY);
	} else {
		ret = fg_xsk_tx_bind(&c, t, XDP_ZEROCOPY);
		if (ret == -EOPNOTSUPP && c.zc == FG_ZC_AUTO) {
			/* the failed bind left the rings half handed over:
			 * start again from a new socket */
			fg_xsk_tx_close_socket(t);
			ret = fg_xsk_tx_make_socket(&c, t, err, errlen);
			if (ret)
				goto fail;
			ret = fg_xsk_tx_bind(&c, t, XDP_COPY);
		}
	}
	if (ret) {
		if (ret == -EOPNOTSUPP)
			fg_errf(err, errlen, "queue %u: zero-copy not supported by the driver",
				c.queue);
		else if (ret == -EBUSY)
			fg_errf(err, errlen,
				"queue %u: Couldn't bind AF_XDP socket: queue busy (another "
				"AF_XDP socket holds it)",
				c.queue);
		else
			fg_errf(err, errlen, "queue %u: Couldn't bind AF_XDP socket: %s", c.queue,
				strerror(-ret));
		goto fail;
	}
	if (getsockopt(t->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen)) {
		ret = -errno;
		fg_errf(err, errlen, "queue %u: Couldn't read XDP_OPTIONS: %s", c.queue,
			strerror(errno));
		goto fail;
	}
	t->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	/* Fewer syscalls per packet in copy mode; kernels before 6.17 do not
	 * know the option and keep their 32. */
	t->budget = FG_XSK_TX_KERNEL_BATCH;
	if (!t->zerocopy && c.budget > FG_XSK_TX_KERNEL_BATCH) {
		uint32_t b = c.budget < c.tx_size ? c.budget : c.tx_size;

		if (!setsockopt(t->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &b, sizeof(b)))
			t->budget = b;
	}
	return 0;
fail:
	fg_xsk_tx_close(t);
	return ret;
}

void fg_xsk_tx_close(struct fg_xsk_tx *t)
{
	fg_xsk_tx_close_socket(t);
	if (t->umem)
		munmap(t->umem, t->umem_len);
	t->umem = NULL;
	free(t->free_addrs);
	t->free_addrs = NULL;
	t->nfree = 0;
}

int fg_xsk_tx_stats(const struct fg_xsk_tx *t, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(t->fd, SOL_XDP, XDP_STATISTICS, st, &len))
		return -errno;
	return 0;
}

int fg_xsk_tx_push_front(struct fg_xsk_tx *t, uint32_t at, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d;

	/* nothing reserved may be pending: the slot moves the producer */
	if (t->tx.cached_prod != t->submitted_prod || !fg_xsk_tx_free_slots(t))
		return -ENOSPC;
	for (uint32_t i = t->tx.cached_prod; i != at; i--)
		*fg_xsk_tx_desc(t, i) = *fg_xsk_tx_desc(t, i - 1);
	d = fg_xsk_tx_desc(t, at);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	t->tx.cached_prod++;
	fg_xsk_tx_submit(t);
	return 0;
}

int fg_xsk_tx_kick(struct fg_xsk_tx *t)
{
	if (!fg_xsk_tx_needs_kick(t))
		return 0;
	t->kicks++;
	if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	return -errno;
}
