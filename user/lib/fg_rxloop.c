// SPDX-License-Identifier: MIT
/*
 * The per-queue receive loop (see fg_rxloop.h). The loop is short and flat,
 * in the manner of DPDK's l2fwd: peek a burst, skip if empty, stamp the
 * time once, build the frame array (metadata, latency), hand it to the
 * sink, recycle the frames in one fill ring submission, account.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fg_gen.h"
#include "fg_rxloop.h"
#include "fg_stamp.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

/* Stats are written by one thread, read by another: whole values only. */
#define FG_STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

/* Empty polls between two on_idle calls of the sink (timers in the sink). */
#define FG_IDLE_EVERY 256
/* poll() timeout in wakeup mode: how late a stop request can be seen. */
#define FG_WAKEUP_TIMEOUT_MS 20

static inline void fg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static const char *const poll_names[] = { "busy", "spin", "wakeup" };

const char *fg_poll_name(enum fg_poll_mode m)
{
	return (unsigned int)m < 3 ? poll_names[m] : "unknown";
}

int fg_poll_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, poll_names[i]))
			return i;
	return -1;
}

int fg_rxq_setup_poll(struct fg_rxq *q, unsigned int busy_us, char *err, size_t errlen)
{
	int one = 1, us = (int)busy_us, budget = (int)q->batch;

	if (q->poll != FG_POLL_BUSY)
		return 0;
	if (setsockopt(q->xsk.fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(q->xsk.fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(q->xsk.fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget))) {
		int ret = -errno;

		snprintf(err, errlen, "queue %u: Couldn't enable busy polling: %s", q->xsk.queue,
			 strerror(errno));
		return ret;
	}
	return 0;
}

/* Give the frames of descriptors idx..idx+n-1 of RX back to the fill ring. */
static void fg_rxq_recycle(struct fg_rxq *q, uint32_t idx, uint32_t n)
{
	struct fg_xsk *x = &q->xsk;
	const uint64_t umem_len = (uint64_t)x->nframes * x->frame_size;
	uint32_t fidx, k = 0;

	/* Cannot fail by construction (fg_xsk.h); if it ever did, waiting
	 * for the kernel to publish its consumer index is the only way on. */
	while (!fg_xsk_fill_reserve(x, n, &fidx)) {
		FG_STAT_ADD(q->st.fill_stalls, 1);
		if (x->need_wakeup)
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = fg_xsk_rx_desc(x, idx + i)->addr;

		if (addr < umem_len) /* not ours otherwise: never hand it back */
			fg_xsk_fill_set(x, fidx + k++, fg_xsk_frame_base(x, addr));
	}
	fg_xsk_fill_submit(x, k);
}

/* One burst: frames, stamps (or the rules), latencies, sink, recycle. */
static void fg_rxq_burst(struct fg_rxq *q, uint32_t idx, uint32_t n)
{
	struct fg_xsk *x = &q->xsk;
	struct fg_rxq_stats *st = &q->st;
	const uint64_t umem_len = (uint64_t)x->nframes * x->frame_size;
	uint64_t now = fg_now_ns(), bytes = 0, send_ns, gen = 0;
	uint32_t k = 0, no_meta = 0, bad = 0, stamped = 0, meta = 0, head = 0, known = 0;
	const struct fg_ftab *ftab = q->ftab ? fg_ftab_live_enter(q->ftab, &gen) : NULL;

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = fg_xsk_rx_desc(x, idx + i);
		uint64_t off = d->addr & (x->frame_size - 1);
		struct fg_frame *f = &q->frames[k];
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
		how = fg_stamp_take(&data, &len, off, q->cookie, &s);
		f->data = data;
		f->len = len;
		f->take_ns = now;
		f->queue = (uint16_t)x->queue;
		f->l3 = 0;
		bytes += len;
		if (how && s.rule_id < FG_MAX_RULES) {
			f->xdp_ns = s.rx_ns;
			f->rule_id = s.rule_id;
			f->feed_id = s.feed_id;
			if (how == FG_STAMP_META)
				meta++;
			else
				head++;
			fg_hist_record(&st->xdp_lat, now > s.rx_ns ? now - s.rx_ns : 0);
		} else {
			const struct fg_backend_feed *feed = fg_ftab_lookup(ftab, f);

			f->xdp_ns = 0;
			f->rule_id = feed ? feed->rule_id : FG_RULE_NONE;
			f->feed_id = feed ? feed->feed_id : 0;
			no_meta++;
			known += feed != NULL;
		}
		if (f->rule_id < FG_MAX_RULES)
			FG_STAT_ADD(st->rule_packets[f->rule_id], 1);
		if (fg_gen_trailer_find(f, &send_ns, NULL)) {
			fg_hist_record(&st->gen_lat, now > send_ns ? now - send_ns : 0);
			stamped++;
		}
		k++;
	}
	if (q->sink.on_batch && k)
		q->sink.on_batch(q->sink.ctx, q->frames, k);
	fg_rxq_recycle(q, idx, n);
	fg_xsk_rx_release(x, n);
	if (q->ftab)
		fg_ftab_live_leave(q->ftab, q->ftab_reader, gen);

	FG_STAT_ADD(st->packets, k);
	FG_STAT_ADD(st->bytes, bytes);
	FG_STAT_ADD(st->batches, 1);
	if (meta)
		FG_STAT_ADD(st->stamp_meta, meta);
	if (head)
		FG_STAT_ADD(st->stamp_head, head);
	if (no_meta) {
		FG_STAT_ADD(st->no_meta, no_meta);
		FG_STAT_ADD(st->classified, known);
		FG_STAT_ADD(st->unclassified, no_meta - known);
	}
	if (bad)
		FG_STAT_ADD(st->bad_desc, bad);
	if (stamped)
		FG_STAT_ADD(st->gen_stamped, stamped);
}

/* Nothing on the ring: what the polling mode does about it. */
static void fg_rxq_idle(struct fg_rxq *q, uint64_t *empty)
{
	struct fg_xsk *x = &q->xsk;
	struct pollfd pfd;

	switch (q->poll) {
	case FG_POLL_BUSY:
		/* drives the NAPI poll of the queue in this thread */
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		FG_STAT_ADD(q->st.syscalls, 1);
		break;
	case FG_POLL_WAKEUP:
		pfd.fd = x->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, FG_WAKEUP_TIMEOUT_MS);
		FG_STAT_ADD(q->st.syscalls, 1);
		break;
	case FG_POLL_SPIN:
		fg_cpu_relax();
		break;
	}
	FG_STAT_ADD(q->st.empty_polls, 1);
	if (++*empty % (q->sink.idle_every ? q->sink.idle_every : FG_IDLE_EVERY) == 0 ||
	    q->poll == FG_POLL_WAKEUP) {
		/* holding no feed table between bursts: let replaced ones go */
		if (q->ftab)
			fg_ftab_live_leave(q->ftab, q->ftab_reader,
					   __atomic_load_n(&q->ftab->gen, __ATOMIC_ACQUIRE));
		if (q->sink.on_idle)
			q->sink.on_idle(q->sink.ctx, fg_now_ns());
	}
}

static void *fg_rxq_main(void *arg)
{
	struct fg_rxq *q = arg;
	uint64_t empty = 0;
	uint32_t idx, n, drained = 0;

	for (;;) {
		n = fg_xsk_rx_peek(&q->xsk, q->batch, &idx);
		if (!n) {
			/* Stop only on an empty ring: everything the kernel
			 * put there before the socket left the XSKMAP is taken. */
			if (__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE))
				break;
			fg_rxq_idle(q, &empty);
			continue;
		}
		fg_rxq_burst(q, idx, n);
		/* Bounded drain in case the socket is still being fed. */
		if (__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE)) {
			drained += n;
			if (drained > 4 * q->xsk.rx.size)
				break;
		}
	}
	return NULL;
}

int fg_rxq_start(struct fg_rxq *q)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	if (!q->batch || q->batch > FG_RX_MAX_BATCH)
		return -EINVAL;
	fg_hist_init(&q->st.xdp_lat);
	fg_hist_init(&q->st.gen_lat);
	q->stop = 0;
	pthread_attr_init(&attr);
	if (q->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(q->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	ret = -pthread_create(&q->tid, &attr, fg_rxq_main, q);
	pthread_attr_destroy(&attr);
	if (!ret) {
		char name[16];

		snprintf(name, sizeof(name), "fg-rx-q%u", q->xsk.queue);
		pthread_setname_np(q->tid, name);
		q->started = true;
	}
	return ret;
}

void fg_rxq_stop(struct fg_rxq *q)
{
	if (!q->started)
		return;
	__atomic_store_n(&q->stop, 1, __ATOMIC_RELEASE);
	pthread_join(q->tid, NULL);
	q->started = false;
}

void fg_rxq_snapshot(const struct fg_rxq *q, struct fg_rxq_stats *out)
{
	const struct fg_rxq_stats *s = &q->st;

	out->packets = __atomic_load_n(&s->packets, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	out->batches = __atomic_load_n(&s->batches, __ATOMIC_RELAXED);
	out->empty_polls = __atomic_load_n(&s->empty_polls, __ATOMIC_RELAXED);
	out->syscalls = __atomic_load_n(&s->syscalls, __ATOMIC_RELAXED);
	out->bad_desc = __atomic_load_n(&s->bad_desc, __ATOMIC_RELAXED);
	out->no_meta = __atomic_load_n(&s->no_meta, __ATOMIC_RELAXED);
	out->stamp_meta = __atomic_load_n(&s->stamp_meta, __ATOMIC_RELAXED);
	out->stamp_head = __atomic_load_n(&s->stamp_head, __ATOMIC_RELAXED);
	out->classified = __atomic_load_n(&s->classified, __ATOMIC_RELAXED);
	out->unclassified = __atomic_load_n(&s->unclassified, __ATOMIC_RELAXED);
	out->fill_stalls = __atomic_load_n(&s->fill_stalls, __ATOMIC_RELAXED);
	out->gen_stamped = __atomic_load_n(&s->gen_stamped, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < FG_MAX_RULES; i++)
		out->rule_packets[i] = __atomic_load_n(&s->rule_packets[i], __ATOMIC_RELAXED);
	fg_hist_snapshot(&out->xdp_lat, &s->xdp_lat);
	fg_hist_snapshot(&out->gen_lat, &s->gen_lat);
}
