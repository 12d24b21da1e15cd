// SPDX-License-Identifier: MIT
/*
 * Transmit-only AF_XDP socket setup, teardown and kick (see fg_xsk_tx.h):
 * UMEM and its free-frame stack, the sizes of the TX / completion / fill
 * rings, the per-call budget. Socket, rings and bind are the receive
 * side's (fg_xsk_sock_open): only the rings' sizes and kind differ.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "fg_log.h"
#include "fg_xsk_tx.h"

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

/* The transmit socket's rings, for the setup it shares with the receive one. */
static void fg_xsk_tx_sock(struct fg_xsk_tx *t, struct fg_xsk_sock *k)
{
	k->fd = &t->fd;
	k->fill = &t->fill;
	k->comp = &t->comp;
	k->ring = &t->tx;
}

int fg_xsk_tx_open(const struct fg_xsk_tx_config *cfg, struct fg_xsk_tx *t, char *err,
		   size_t errlen)
{
	struct fg_xsk_tx_config c = *cfg;
	struct fg_xsk_sock_spec spec;
	struct fg_xsk_sock k;
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

	spec = (struct fg_xsk_sock_spec){
		.ifindex = c.ifindex,
		.queue = c.queue,
		.zc = c.zc,
		.need_wakeup = true,
		.bind_retry_ms = c.bind_retry_ms,
		.umem = t->umem,
		.nframes = t->nframes,
		.frame_size = t->frame_size,
		.fill_size = FG_XSK_TX_FILL_SIZE,
		/* a slot for every frame: the completion ring can never overflow */
		.comp_size = t->nframes,
		.tx = true,
		.ring_size = c.tx_size,
	};
	fg_xsk_tx_sock(t, &k);
	ret = fg_xsk_sock_open(&spec, &k, &t->zerocopy, err, errlen);
	if (ret)
		goto fail;
	t->submitted_prod = t->tx.cached_prod;
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
	struct fg_xsk_sock k;

	fg_xsk_tx_sock(t, &k);
	fg_xsk_sock_close(&k);
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
