// SPDX-License-Identifier: MIT
/*
 * Feed tables: open addressing on (family, port, address), and their
 * lock-free replacement under running receive threads (see fg_ftab.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg_ftab.h"
#include "fg_net.h"

static uint32_t fg_ftab_hash(uint8_t family, uint16_t port, const uint8_t *addr)
{
	uint32_t h = 2166136261u ^ family;

	h = (h ^ port) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ (h >> 15);
}

int fg_ftab_build(const struct fg_backend_feed *feeds, unsigned int n, struct fg_ftab **out)
{
	struct fg_ftab *t = calloc(1, sizeof(*t));
	uint32_t cap = 16;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	while (cap < 2 * n)
		cap <<= 1;
	t->mask = cap - 1;
	t->n = n;
	t->slot = malloc(cap * sizeof(*t->slot));
	t->feeds = malloc((n ? n : 1) * sizeof(*t->feeds));
	if (!t->slot || !t->feeds) {
		fg_ftab_free(t);
		return -ENOMEM;
	}
	if (n)
		memcpy(t->feeds, feeds, n * sizeof(*feeds));
	for (uint32_t i = 0; i < cap; i++)
		t->slot[i] = -1;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t h = fg_ftab_hash(feeds[i].family, feeds[i].port, feeds[i].addr);

		while (t->slot[h & t->mask] >= 0)
			h++;
		t->slot[h & t->mask] = (int32_t)i;
	}
	*out = t;
	return 0;
}

void fg_ftab_free(struct fg_ftab *t)
{
	if (!t)
		return;
	free(t->slot);
	free(t->feeds);
	free(t);
}

bool fg_ftab_same(const struct fg_ftab *t, const struct fg_backend_feed *feeds, unsigned int n)
{
	if (!t)
		return n == 0;
	return t->n == n && (!n || !memcmp(t->feeds, feeds, n * sizeof(*feeds)));
}

static bool fg_ftab_src_ok(const struct fg_backend_feed *f, const uint8_t *src)
{
	unsigned int full = f->src_len / 8, rest = f->src_len % 8;

	if (memcmp(f->src, src, full))
		return false;
	return !rest || !((f->src[full] ^ src[full]) & (uint8_t)(0xff00u >> rest));
}

/* The feed of exactly (family, port, dst), if its source prefix takes src. */
static const struct fg_backend_feed *fg_ftab_exact(const struct fg_ftab *t, uint8_t family,
						   uint16_t port, const uint8_t *dst,
						   const uint8_t *src)
{
	uint32_t h = fg_ftab_hash(family, port, dst);
	int32_t i;

	while ((i = t->slot[h & t->mask]) >= 0) {
		const struct fg_backend_feed *f = &t->feeds[i];

		if (f->family == family && f->port == port && !memcmp(f->addr, dst, 16))
			return fg_ftab_src_ok(f, src) ? f : NULL;
		h++;
	}
	return NULL;
}

const struct fg_backend_feed *fg_ftab_find(const struct fg_ftab *t, uint8_t family, uint16_t port,
					   const uint8_t *dst, const uint8_t *src)
{
	static const uint8_t zero[16];
	const struct fg_backend_feed *f;

	if (!t || !t->n)
		return NULL;
	f = fg_ftab_exact(t, family, port, dst, src);
	return f ? f : fg_ftab_exact(t, family, port, zero, src);
}

const struct fg_backend_feed *fg_ftab_lookup(const struct fg_ftab *t, const struct fg_frame *fr)
{
	const uint8_t *payload;
	struct fg_flow fl;
	uint32_t plen;

	if (!t || !t->n || fg_net_parse(fr, &fl, &payload, &plen) != FG_NET_UDP)
		return NULL;
	return fg_ftab_find(t, fl.family, fl.dport, fl.dst, fl.src);
}

/* --- live replacement ------------------------------------------------------------------------ */

void fg_ftab_live_init(struct fg_ftab_live *l)
{
	memset(l, 0, sizeof(*l));
}

int fg_ftab_live_reader(struct fg_ftab_live *l)
{
	if (l->nreaders >= FG_FTAB_MAX_READERS)
		return -ENOSPC;
	l->reader[l->nreaders].seen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	return (int)l->nreaders++;
}

int fg_ftab_live_publish(struct fg_ftab_live *l, struct fg_ftab *t)
{
	uint64_t gen;

	if (l->retired) {
		for (unsigned int i = 0; i < l->nreaders; i++)
			if (__atomic_load_n(&l->reader[i].seen, __ATOMIC_ACQUIRE) < l->retired_gen)
				return -EBUSY;
		fg_ftab_free(l->retired);
		l->retired = NULL;
	}
	l->retired = __atomic_exchange_n(&l->cur, t, __ATOMIC_ACQ_REL);
	/* A reader that loads the new generation loads the new table too
	 * (gen is loaded first, stored last). */
	gen = __atomic_add_fetch(&l->gen, 1, __ATOMIC_ACQ_REL);
	l->retired_gen = gen;
	return 0;
}

void fg_ftab_live_free(struct fg_ftab_live *l)
{
	fg_ftab_free(l->retired);
	fg_ftab_free(__atomic_load_n(&l->cur, __ATOMIC_ACQUIRE));
	l->retired = NULL;
	l->cur = NULL;
}
