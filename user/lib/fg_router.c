// SPDX-License-Identifier: MIT
/*
 * Feed ownership and the rings between receive threads (see fg_router.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fg_router.h"

#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ADD(x, v) __atomic_store_n(&(x), RD(x) + (v), __ATOMIC_RELAXED)
#define DRAIN_MAX 64 /* frames taken from one ring per call */

struct slot {
	struct fg_frame f;
	uint8_t data[FG_ROUTER_FRAME_MAX];
};

/* One direction between two threads. */
struct ring {
	uint64_t head __attribute__((aligned(64))); /* written by the producer */
	uint64_t tail __attribute__((aligned(64))); /* written by the consumer */
	struct slot *slots;
};

struct port {
	struct fg_router *r;
	unsigned int t;
	struct fg_sink inner;
	struct fg_router_stats st;
	struct fg_frame local[FG_ROUTER_MAX_BATCH];
	struct fg_frame in[DRAIN_MAX];
} __attribute__((aligned(64)));

struct fg_router {
	unsigned int n;
	uint32_t mask;
	int16_t owner[65536]; /* by feed id; -1: unclaimed */
	uint16_t alias[65536]; /* feed id -> the id it is routed as */
	struct ring *rings; /* [src * n + dst] */
	struct port *ports; /* [n] */
};

static struct ring *ring_of(struct fg_router *r, unsigned int src, unsigned int dst)
{
	return &r->rings[src * r->n + dst];
}

/* Copy f into the ring from p's thread to dst. */
static void forward(struct port *p, unsigned int dst, const struct fg_frame *f)
{
	struct fg_router *r = p->r;
	struct ring *q = ring_of(r, p->t, dst);
	uint64_t head = q->head, tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	struct slot *s;

	if (f->len > FG_ROUTER_FRAME_MAX) {
		ADD(p->st.too_long, 1);
		return;
	}
	if (head - tail > r->mask) {
		ADD(p->st.ring_full, 1);
		return;
	}
	s = &q->slots[head & r->mask];
	s->f = *f;
	memcpy(s->data, f->data, f->len);
	s->f.data = s->data;
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
	ADD(p->st.forwarded, 1);
}

/* Frames other threads forwarded to p's thread, into its inner sink. */
static void drain(struct port *p)
{
	struct fg_router *r = p->r;

	for (unsigned int src = 0; src < r->n; src++) {
		struct ring *q;
		uint64_t head, tail;
		unsigned int k = 0;

		if (src == p->t)
			continue;
		q = ring_of(r, src, p->t);
		tail = q->tail;
		head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
		if (head == tail)
			continue;
		while (tail + k != head && k < DRAIN_MAX) {
			p->in[k] = q->slots[(tail + k) & r->mask].f;
			k++;
		}
		if (p->inner.on_batch)
			p->inner.on_batch(p->inner.ctx, p->in, k);
		/* The slots are the producer's again only once the sink is done. */
		__atomic_store_n(&q->tail, tail + k, __ATOMIC_RELEASE);
		ADD(p->st.received, k);
	}
}

static void port_batch(void *ctx, const struct fg_frame *frames, unsigned int n)
{
	struct port *p = ctx;
	struct fg_router *r = p->r;
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct fg_frame *f = &frames[i];
		uint16_t key;
		int16_t o;

		/* Frames of no feed stay where they are (the pipeline counts them). */
		if (!f->feed_id || r->n == 1) {
			p->local[k++] = *f;
			continue;
		}
		key = __atomic_load_n(&r->alias[f->feed_id], __ATOMIC_RELAXED);
		o = __atomic_load_n(&r->owner[key], __ATOMIC_ACQUIRE);
		if (o < 0) {
			int16_t want = -1;

			if (__atomic_compare_exchange_n(&r->owner[key], &want, (int16_t)p->t, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				o = (int16_t)p->t;
			else
				o = want; /* another thread claimed it first */
		}
		if ((unsigned int)o == p->t)
			p->local[k++] = *f;
		else
			forward(p, (unsigned int)o, f);
		if (k == FG_ROUTER_MAX_BATCH) {
			p->inner.on_batch(p->inner.ctx, p->local, k);
			k = 0;
		}
	}
	if (k && p->inner.on_batch)
		p->inner.on_batch(p->inner.ctx, p->local, k);
	if (r->n > 1)
		drain(p);
}

static void port_idle(void *ctx, uint64_t now)
{
	struct port *p = ctx;

	if (p->r->n > 1)
		drain(p);
	if (p->inner.on_idle)
		p->inner.on_idle(p->inner.ctx, now);
}

struct fg_sink fg_router_sink(struct fg_router *r, unsigned int t, struct fg_sink inner)
{
	struct port *p = &r->ports[t];
	struct fg_sink s = { .ctx = p,
			     .on_batch = port_batch,
			     .on_idle = port_idle,
			     .idle_every = r->n > 1 ? 1 : inner.idle_every };

	p->inner = inner;
	return s;
}

int fg_router_new(unsigned int nthreads, unsigned int slots, struct fg_router **out)
{
	struct fg_router *r;

	*out = NULL;
	if (!slots)
		slots = FG_ROUTER_DEF_SLOTS;
	if (!nthreads || nthreads > FG_ROUTER_MAX_THREADS || (slots & (slots - 1)))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = nthreads;
	r->mask = slots - 1;
	memset(r->owner, 0xff, sizeof(r->owner));
	for (unsigned int i = 0; i < 65536; i++)
		r->alias[i] = (uint16_t)i;
	r->rings = calloc((size_t)nthreads * nthreads, sizeof(*r->rings));
	if (posix_memalign((void **)&r->ports, 64, nthreads * sizeof(*r->ports)))
		r->ports = NULL;
	if (!r->rings || !r->ports) {
		fg_router_free(r);
		return -ENOMEM;
	}
	memset(r->ports, 0, nthreads * sizeof(*r->ports));
	for (unsigned int t = 0; t < nthreads; t++) {
		r->ports[t].r = r;
		r->ports[t].t = t;
	}
	/* Slot memory only where two threads exist; calloc leaves it untouched
	 * (not resident) until a frame is forwarded that way. */
	for (unsigned int i = 0; nthreads > 1 && i < nthreads * nthreads; i++) {
		if (i / nthreads == i % nthreads)
			continue;
		r->rings[i].slots = calloc(slots, sizeof(struct slot));
		if (!r->rings[i].slots) {
			fg_router_free(r);
			return -ENOMEM;
		}
	}
	*out = r;
	return 0;
}

void fg_router_free(struct fg_router *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; r->rings && i < r->n * r->n; i++)
		free(r->rings[i].slots);
	free(r->rings);
	free(r->ports);
	free(r);
}

void fg_router_get_stats(const struct fg_router *r, unsigned int t, struct fg_router_stats *out)
{
	const struct fg_router_stats *s = &r->ports[t].st;

	out->forwarded = RD(s->forwarded);
	out->received = RD(s->received);
	out->ring_full = RD(s->ring_full);
	out->too_long = RD(s->too_long);
}

int fg_router_owner(const struct fg_router *r, uint16_t feed_id)
{
	return __atomic_load_n(&r->owner[__atomic_load_n(&r->alias[feed_id], __ATOMIC_RELAXED)],
			       __ATOMIC_ACQUIRE);
}

void fg_router_alias(struct fg_router *r, uint16_t from, uint16_t to)
{
	__atomic_store_n(&r->alias[from], __atomic_load_n(&r->alias[to], __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
}
