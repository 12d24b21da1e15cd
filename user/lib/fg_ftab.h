/* SPDX-License-Identifier: MIT */
/*
 * Which feed a frame belongs to, found from its headers by the rules: for
 * frames that carry no XDP stamp (stamp mode none, a frame the program
 * could not stamp, the AF_PACKET backend). The lookup is the XDP program's
 * (bpf/feedgate.bpf.c): the exact {family, port, address} first, then the
 * port's wildcard address, each only when the source is inside the rule's
 * source prefix.
 *
 * A table is immutable once built. fg_ftab_live lets receive threads follow
 * rule changes without a lock: the control thread builds a new table and
 * publishes it with one atomic store; each reader loads the table once per
 * burst and afterwards says which generation it has seen, and a replaced
 * table is freed only when every reader has moved past it (a quiescent-state
 * scheme: readers never wait, the writer retries on its next tick).
 */
#ifndef FG_FTAB_H
#define FG_FTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_backend.h"
#include "feedgate/frame.h"

struct fg_ftab {
	uint32_t mask;
	uint32_t n;
	int32_t *slot; /* feed index, -1 empty */
	struct fg_backend_feed *feeds;
};

/* Build a table of n feeds (copied). 0 or -ENOMEM. */
int fg_ftab_build(const struct fg_backend_feed *feeds, unsigned int n, struct fg_ftab **out);
void fg_ftab_free(struct fg_ftab *t);
/* The feed of a frame (Ethernet or L3), NULL when no feed matches or the
 * frame is no whole UDP datagram. */
const struct fg_backend_feed *fg_ftab_lookup(const struct fg_ftab *t, const struct fg_frame *f);
/* The same from a parsed flow's family (AF_*), port (host order), addresses. */
const struct fg_backend_feed *fg_ftab_find(const struct fg_ftab *t, uint8_t family, uint16_t port,
					   const uint8_t *dst, const uint8_t *src);
/* Same feeds in the same order? */
bool fg_ftab_same(const struct fg_ftab *t, const struct fg_backend_feed *feeds, unsigned int n);

#define FG_FTAB_MAX_READERS 64

struct fg_ftab_reader {
	uint64_t seen; /* the last generation this reader loaded, then let go */
} __attribute__((aligned(64)));

struct fg_ftab_live {
	struct fg_ftab *cur; /* atomic */
	uint64_t gen; /* atomic: bumped after each publish */
	struct fg_ftab *retired; /* replaced, freed once every reader has seen retired_gen */
	uint64_t retired_gen;
	unsigned int nreaders;
	struct fg_ftab_reader reader[FG_FTAB_MAX_READERS];
};

/* Empty (no table: every lookup misses), no readers. */
void fg_ftab_live_init(struct fg_ftab_live *l);
/* A reader slot (0..FG_FTAB_MAX_READERS-1), or -ENOSPC. Before readers start. */
int fg_ftab_live_reader(struct fg_ftab_live *l);
/*
 * Control thread: make t the table in force (the live struct owns it from
 * here). -EBUSY (t not taken, still the caller's) while the table replaced
 * last time is still in a reader's hands: try again later.
 */
int fg_ftab_live_publish(struct fg_ftab_live *l, struct fg_ftab *t);
/* Free every table. Readers must have stopped. */
void fg_ftab_live_free(struct fg_ftab_live *l);

/* Reader: the table for this burst (NULL: none yet) and its generation. */
static inline const struct fg_ftab *fg_ftab_live_enter(struct fg_ftab_live *l, uint64_t *gen)
{
	*gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&l->cur, __ATOMIC_ACQUIRE);
}

/* Reader: done with the table of generation gen (and all before it). */
static inline void fg_ftab_live_leave(struct fg_ftab_live *l, int reader, uint64_t gen)
{
	__atomic_store_n(&l->reader[reader].seen, gen, __ATOMIC_RELEASE);
}

#endif /* FG_FTAB_H */
