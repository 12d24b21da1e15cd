// SPDX-License-Identifier: MIT
/*
 * The AF_XDP backend (fg_backend.h): one socket per receive queue, its
 * UMEM and rings (fg_xsk.h), registered in the XDP filter's xsk_map. A
 * burst is peeked off the RX ring as it is, each descriptor checked against
 * the UMEM and turned into a frame: its feed from the XDP stamp (metadata
 * area or head record, fg_stamp.h), or, without one, from the rules in
 * force (fg_ftab.h). The frames stay in the UMEM until the release gives
 * them back to the fill ring in one submission. When the ring is empty the
 * polling mode decides how to wait, inside rx_burst, so that the common
 * receive loop (fg_backend.c) is the same for every backend.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "fg_backend.h"
#include "fg_backend_int.h"
#include "fg_ftab.h"
#include "fg_gen.h"
#include "fg_loader.h"
#include "fg_stamp.h"
#include "fg_xsk.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define FG_AFXDP_BUSY_US 20

struct fg_afxdp {
	struct fg_xsk xsk;
	enum fg_poll_mode poll;
	uint64_t cookie;
	struct fg_ftab_live *ftab;
	int reader; /* slot in ftab */
	uint64_t gen; /* ftab generation held through a burst */
	uint32_t idx, n; /* the burst handed out, until released */
	struct fg_filter_handle *filter;
	bool registered;
	struct fg_queue_stats qs_start; /* the filter's counters of this queue at open */
	/* counters: written by the thread, read by kstats() */
	struct fg_backend_kstats ks;
};

static int fg_afxdp_register(struct fg_afxdp *a)
{
	__u32 key = a->xsk.queue;
	int fd = a->xsk.fd;

	if (!a->filter || a->filter->map_xsk < 0)
		return 0;
	if (bpf_map_update_elem(a->filter->map_xsk, &key, &fd, BPF_ANY))
		return -errno;
	a->registered = true;
	return 0;
}

static void fg_afxdp_quiesce(void *rx)
{
	struct fg_afxdp *a = rx;
	__u32 key = a->xsk.queue;

	if (!a->registered)
		return;
	/* Traffic back to the policy: what the kernel put on the ring before
	 * this is still drained by the thread. */
	bpf_map_delete_elem(a->filter->map_xsk, &key);
	a->registered = false;
}

static void fg_afxdp_close(void *rx)
{
	struct fg_afxdp *a = rx;

	if (!a)
		return;
	fg_afxdp_quiesce(a);
	fg_xsk_close(&a->xsk);
	free(a);
}

static int fg_afxdp_open_one(const struct fg_backend_opts *o, int ifindex, unsigned int i,
			     struct fg_afxdp **out, char *err, size_t errlen)
{
	struct fg_xsk_config xc = {
		.ifindex = ifindex,
		.queue = (uint32_t)o->queues[i],
		.zc = (enum fg_zc_mode)o->zc,
		.need_wakeup = o->poll != FG_POLL_SPIN,
		.rx_size = o->ring,
		.frame_size = o->xsk_frame_size,
		/* a socket just closed lets go of its queue in deferred kernel work:
		 * wait that long, not more; a queue another consumer holds is an error */
		.bind_retry_ms = 500,
	};
	struct fg_afxdp *a;
	int ret;

	if (posix_memalign((void **)&a, 64, sizeof(*a)))
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	a->poll = o->poll;
	a->cookie = o->stamp_cookie;
	a->ftab = o->ftab;
	a->filter = o->filter;
	a->ks.queue = o->queues[i];
	if (a->ftab) {
		a->reader = fg_ftab_live_reader(a->ftab);
		if (a->reader < 0) {
			free(a);
			snprintf(err, errlen, "too many receive threads for the feed table");
			return -ENOSPC;
		}
	}
	ret = fg_xsk_open(&xc, &a->xsk, err, errlen);
	if (ret) {
		free(a);
		return ret;
	}
	a->ks.zerocopy = a->xsk.zerocopy;
	a->ks.huge_pages = a->xsk.huge;
	if (a->poll == FG_POLL_BUSY) {
		int one = 1, us = (int)(o->busy_poll_us ? o->busy_poll_us : FG_AFXDP_BUSY_US),
		    budget = (int)(o->busy_budget ? o->busy_budget : o->batch);

		if (setsockopt(a->xsk.fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
		    setsockopt(a->xsk.fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
		    setsockopt(a->xsk.fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
			       sizeof(budget))) {
			ret = -errno;
			snprintf(err, errlen, "queue %u: Couldn't enable busy polling: %s",
				 a->xsk.queue, strerror(-ret));
			fg_afxdp_close(a);
			return ret;
		}
	}
	if (a->filter)
		fg_queue_stats_read(a->filter, a->xsk.queue, &a->qs_start);
	*out = a;
	return 0;
}

static int fg_afxdp_open(const struct fg_backend_opts *o, void **rx, unsigned int *n, char *err,
			 size_t errlen)
{
	int ifindex = (int)if_nametoindex(o->ifname), ret = 0;
	unsigned int i;

	*n = 0;
	if (!o->nqueues || !o->queues) {
		snprintf(err, errlen, "no receive queue given");
		return -EINVAL;
	}
	if (!ifindex) {
		snprintf(err, errlen, "%s: no such interface", o->ifname);
		return -ENODEV;
	}
	for (i = 0; i < o->nqueues && !ret; i++)
		ret = fg_afxdp_open_one(o, ifindex, i, (struct fg_afxdp **)&rx[i], err, errlen);
	/* Registered only once every socket exists: a failure half way leaves
	 * the xsk_map as it was. */
	for (unsigned int k = 0; !ret && k < o->nqueues; k++) {
		ret = fg_afxdp_register(rx[k]);
		if (ret)
			snprintf(err, errlen,
				 "Couldn't register the socket of queue %d in xsk_map: %s",
				 o->queues[k], strerror(-ret));
	}
	if (ret) {
		for (unsigned int k = 0; k < o->nqueues && k < i; k++) {
			fg_afxdp_close(rx[k]);
			rx[k] = NULL;
		}
		return ret;
	}
	*n = o->nqueues;
	return 0;
}

static void fg_afxdp_release_burst(struct fg_afxdp *a);

/* Nothing on the ring: wait as the polling mode says. */
static void fg_afxdp_wait(struct fg_afxdp *a)
{
	struct pollfd pfd;

	/* holding no feed table between bursts: let replaced ones go */
	if (a->ftab)
		fg_ftab_live_leave(a->ftab, a->reader,
				   __atomic_load_n(&a->ftab->gen, __ATOMIC_ACQUIRE));
	switch (a->poll) {
	case FG_POLL_BUSY:
		/* drives the NAPI poll of the queue in this thread */
		recvfrom(a->xsk.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		FG_BK_ADD(a->ks.syscalls, 1);
		break;
	case FG_POLL_WAKEUP:
		pfd.fd = a->xsk.fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, FG_BACKEND_WAIT_MS);
		FG_BK_ADD(a->ks.syscalls, 1);
		break;
	case FG_POLL_SPIN:
		break;
	}
}

static int fg_afxdp_burst(void *rx, struct fg_frame *frames, unsigned int max)
{
	struct fg_afxdp *a = rx;
	struct fg_xsk *x = &a->xsk;
	const uint64_t umem_len = (uint64_t)x->nframes * x->frame_size;
	const struct fg_ftab *ftab = NULL;
	uint32_t idx, n, k = 0, meta = 0, head = 0, none = 0, known = 0, bad = 0;

	if (a->n) /* the last burst was not released */
		return -EINVAL;
	n = fg_xsk_rx_peek(x, max, &idx);
	if (!n) {
		fg_afxdp_wait(a);
		return 0;
	}
	if (a->ftab)
		ftab = fg_ftab_live_enter(a->ftab, &a->gen);
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = fg_xsk_rx_desc(x, idx + i);
		uint64_t off = d->addr & (x->frame_size - 1);
		struct fg_frame *f = &frames[k];
		struct fg_stamp s;
		uint8_t *data;
		uint32_t len;
		int how;

		/* the next frame's stamp and headers while this one is handled
		 * (a prefetch never faults, even on a bad address) */
		if (i + 1 < n)
			__builtin_prefetch(x->umem + fg_xsk_rx_desc(x, idx + i + 1)->addr -
					   FG_STAMP_LEN);
		/* The kernel wrote it, but a bad descriptor must never make us
		 * read outside the UMEM. */
		if (d->addr + d->len > umem_len || off + d->len > x->frame_size) {
			bad++;
			continue;
		}
		data = x->umem + d->addr;
		len = d->len;
		how = fg_stamp_take(&data, &len, off, a->cookie, &s);
		f->data = data;
		f->len = len;
		f->queue = (uint16_t)x->queue;
		f->l3 = 0;
		if (how && s.rule_id < FG_MAX_RULES) {
			f->xdp_ns = s.rx_ns;
			f->rule_id = s.rule_id;
			f->feed_id = s.feed_id;
			if (how == FG_STAMP_META)
				meta++;
			else
				head++;
		} else {
			const struct fg_backend_feed *feed = fg_ftab_lookup(ftab, f);

			f->xdp_ns = 0;
			f->rule_id = feed ? feed->rule_id : FG_RULE_NONE;
			f->feed_id = feed ? feed->feed_id : 0;
			none++;
			known += feed != NULL;
		}
		k++;
	}
	a->idx = idx;
	a->n = n;
	if (!k) /* every descriptor bad: the loop will not release what it did not get */
		fg_afxdp_release_burst(a);
	if (meta)
		FG_BK_ADD(a->ks.stamp_meta, meta);
	if (head)
		FG_BK_ADD(a->ks.stamp_head, head);
	if (none) {
		FG_BK_ADD(a->ks.no_stamp, none);
		FG_BK_ADD(a->ks.classified, known);
		FG_BK_ADD(a->ks.unclassified, none - known);
	}
	if (bad)
		FG_BK_ADD(a->ks.bad, bad);
	return (int)k;
}

static void fg_afxdp_release(void *rx)
{
	fg_afxdp_release_burst(rx);
}

/* Give the frames of the burst back to the fill ring and the RX ring its slots. */
static void fg_afxdp_release_burst(struct fg_afxdp *a)
{
	struct fg_xsk *x = &a->xsk;
	const uint64_t umem_len = (uint64_t)x->nframes * x->frame_size;
	uint32_t fidx, k = 0;

	if (!a->n)
		return;
	/* Cannot fail by construction (fg_xsk.h); if it ever did, waiting
	 * for the kernel to publish its consumer index is the only way on. */
	while (!fg_xsk_fill_reserve(x, a->n, &fidx)) {
		FG_BK_ADD(a->ks.fill_stalls, 1);
		if (x->need_wakeup)
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
	for (uint32_t i = 0; i < a->n; i++) {
		uint64_t addr = fg_xsk_rx_desc(x, a->idx + i)->addr;

		if (addr < umem_len) /* not ours otherwise: never hand it back */
			fg_xsk_fill_set(x, fidx + k++, fg_xsk_frame_base(x, addr));
	}
	fg_xsk_fill_submit(x, k);
	fg_xsk_rx_release(x, a->n);
	a->n = 0;
	if (a->ftab)
		fg_ftab_live_leave(a->ftab, a->reader, a->gen);
}

static void fg_afxdp_kstats(void *rx, struct fg_backend_kstats *ks)
{
	struct fg_afxdp *a = rx;
	struct xdp_statistics xs;
	struct fg_queue_stats qs;

#define FG_AFXDP_RD(f) ks->f = FG_BK_RD(a->ks.f);
	FG_BK_KSTATS(FG_AFXDP_RD)
#undef FG_AFXDP_RD
	ks->queue = a->ks.queue;
	ks->zerocopy = a->ks.zerocopy;
	ks->huge_pages = a->ks.huge_pages;
	if (!fg_xsk_stats(&a->xsk, &xs)) {
		ks->rx_dropped = xs.rx_dropped;
		ks->rx_ring_full = xs.rx_ring_full;
		ks->rx_fill_ring_empty = xs.rx_fill_ring_empty_descs;
		ks->rx_invalid_descs = xs.rx_invalid_descs;
		ks->kernel_drops = xs.rx_dropped + xs.rx_ring_full;
	}
	/* the filter's view of this queue since the socket came */
	if (a->filter && !fg_queue_stats_read(a->filter, a->xsk.queue, &qs)) {
		ks->xdp_redirected = qs.redirected - a->qs_start.redirected;
		ks->xdp_no_socket = qs.no_socket - a->qs_start.no_socket;
	}
}

const struct fg_backend_ops fg_afxdp_ops = {
	.name = "af_xdp",
	.joins_groups = false,
	.l3 = false,
	.live_feeds = true,
	.open = fg_afxdp_open,
	.rx_burst = fg_afxdp_burst,
	.rx_release = fg_afxdp_release,
	.kstats = fg_afxdp_kstats,
	.quiesce = fg_afxdp_quiesce,
	.close = fg_afxdp_close,
};
