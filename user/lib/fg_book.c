// SPDX-License-Identifier: MIT
/*
 * Order books (include/feedgate/book.h): the order table, price levels and
 * the message handlers.
 *
 * Order table. ITCH order reference numbers are dense and increasing over
 * the day, so the slot of reference r is r mod size (size a power of two,
 * at least twice the capacity): consecutive orders land in consecutive
 * slots and the orders a feed touches most (the recent ones) share cache
 * lines. A slot taken by an older order that is still live pushes the new
 * one to the next free slot (linear probing); deleted slots become
 * tombstones so that orders never move, because levels link their orders
 * by slot. A lookup stops at an empty slot or after the longest probe ever
 * made. An add whose reference is above every reference seen cannot be a
 * duplicate, so it takes the first free slot without a search.
 *
 * Levels. A pool with a free list (index 0 means "none"), linked per book
 * side in price order best first, each holding its orders as a FIFO (time
 * priority). An add finds its level by walking the side from whichever end
 * is nearer in price: new orders cluster near the best, so the walk is
 * short and touches levels the book uses all the time, where a hash of
 * (locate, side, price) costs a cache miss per add. Everything else is O(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "feedgate/book.h"

/*
 * The message handlers are inlined into fg_books_apply(): as calls they
 * paid a prologue and epilogue each (about 5% of a message on this VM).
 */
#define HOT static inline __attribute__((always_inline))

#define NIL 0xffffffffu
#define BID 0
#define ASK 1

enum { SLOT_EMPTY = 0, SLOT_LIVE, SLOT_TOMB };

struct order { /* 32 bytes, one slot of the order table */
	uint64_t ref;
	uint32_t price;
	uint32_t shares;
	uint32_t level;
	uint32_t prev, next; /* queue of the level, by slot */
	uint16_t locate;
	uint8_t side;
	uint8_t state;
};

struct level { /* 32 bytes */
	uint64_t shares;
	uint32_t price;
	uint32_t orders;
	uint32_t better, worse; /* neighbours on the side, 0 = none */
	uint32_t head, tail; /* queue: oldest first, by order slot */
};

/* The hot part of a book: 16 bytes, four to a cache line. */
struct book {
	uint32_t best[2], worst[2];
};

struct fg_books {
	struct order *orders;
	uint64_t omask;
	uint64_t max_ref; /* highest reference ever added */
	uint32_t max_probe;
	struct level *levels;
	uint32_t level_cap;
	uint32_t level_next; /* never used yet from here */
	uint32_t level_free; /* free list through .worse */
	struct book *books; /* [65536] by locate */
	char (*symbols)[8]; /* [65536] from R; NUL bytes until named */
	struct fg_book_callbacks cb;
	struct fg_books_stats st;
	size_t orders_size, levels_size, books_size, symbols_size;
};

static inline int side_of(char c)
{
	return c == 'B' ? BID : c == 'S' ? ASK : -1;
}

/* Is price a better than price b on this side? */
static inline int better(int side, uint32_t a, uint32_t b)
{
	return side == BID ? a > b : a < b;
}

/* --- creation ------------------------------------------------------------------------------ */

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * The tables are mapped and touched up front (huge pages where the kernel
 * gives them): applying a message never takes a page fault, and the order
 * table, swept by ever-increasing references, needs far fewer TLB entries.
 */
static void *table_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (size >= (2u << 20))
		madvise(p, size, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return p;
#endif
	memset(p, 0, size); /* older kernels: fault it in by hand */
	return p;
}

static void table_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

struct fg_books *fg_books_new(uint32_t order_capacity, const struct fg_book_callbacks *cb)
{
	struct fg_books *b;
	uint64_t osize;

	if (!order_capacity)
		order_capacity = FG_BOOKS_DEFAULT_ORDERS;
	if (order_capacity > FG_BOOKS_MAX_ORDERS) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	osize = pow2_at_least(2ull * order_capacity);
	b->omask = osize - 1;
	/* Every level holds at least one order: as many levels as orders, plus the null one. */
	b->level_cap = order_capacity + 1;
	b->level_next = 1;
	b->orders_size = osize * sizeof(*b->orders);
	b->levels_size = (size_t)b->level_cap * sizeof(*b->levels);
	b->books_size = 65536 * sizeof(*b->books);
	b->symbols_size = 65536 * sizeof(*b->symbols);
	b->orders = table_alloc(b->orders_size);
	b->levels = table_alloc(b->levels_size);
	b->books = table_alloc(b->books_size);
	b->symbols = table_alloc(b->symbols_size);
	if (!b->orders || !b->levels || !b->books || !b->symbols) {
		fg_books_free(b);
		errno = ENOMEM;
		return NULL;
	}
	if (cb)
		b->cb = *cb;
	b->st.order_capacity = order_capacity;
	return b;
}

void fg_books_free(struct fg_books *b)
{
	if (!b)
		return;
	table_free(b->orders, b->orders_size);
	table_free(b->levels, b->levels_size);
	table_free(b->books, b->books_size);
	table_free(b->symbols, b->symbols_size);
	free(b);
}

size_t fg_books_memory(const struct fg_books *b)
{
	return sizeof(*b) + b->orders_size + b->levels_size + b->books_size + b->symbols_size;
}

void fg_books_get_stats(const struct fg_books *b, struct fg_books_stats *out)
{
	*out = b->st;
	out->max_probe = b->max_probe;
}

/* --- order table --------------------------------------------------------------------------- */

static inline uint32_t order_find(const struct fg_books *b, uint64_t ref)
{
	for (uint64_t d = 0; d <= b->max_probe; d++) {
		uint64_t s = (ref + d) & b->omask;
		const struct order *o = &b->orders[s];

		if (o->state == SLOT_EMPTY)
			return NIL;
		if (o->state == SLOT_LIVE && o->ref == ref)
			return (uint32_t)s;
	}
	return NIL;
}

/* A free slot for ref (the caller made sure ref is not live and the table is not full). */
static inline uint32_t order_slot(struct fg_books *b, uint64_t ref)
{
	uint64_t d = 0, s;

	for (;; d++) {
		s = (ref + d) & b->omask;
		if (b->orders[s].state != SLOT_LIVE)
			break;
	}
	if (d > b->max_probe)
		b->max_probe = (uint32_t)d;
	return (uint32_t)s;
}

static inline void order_release(struct fg_books *b, uint32_t s)
{
	/*
	 * A tombstone before an empty slot is as good as empty: no live order
	 * probed across that empty slot, so lookups may stop one slot sooner.
	 * Only this slot: walking back over the tombstones before it (each of
	 * them also as good as empty) cost about 10% of a message on the
	 * generated day, through the lines it drags in, and buys nothing but
	 * shorter misses (unknown references, duplicate checks), which a
	 * consistent feed hardly makes. An add reuses tombstones anyway.
	 */
	if (b->orders[(s + 1) & b->omask].state == SLOT_EMPTY)
		b->orders[s].state = SLOT_EMPTY;
	else
		b->orders[s].state = SLOT_TOMB;
	b->st.orders_live--;
}

/* --- levels -------------------------------------------------------------------------------- */

static inline uint32_t dist(uint32_t a, uint32_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * The level at price on one side of a book: walk the side from whichever
 * end is nearer in price (new orders mostly arrive near the best, and the
 * levels they pass are the ones the book touches all the time). When there
 * is none and create is set, a level is taken from the pool and linked
 * where the walk stopped; 0 if there is none (or the pool is exhausted).
 */
HOT uint32_t level_at(struct fg_books *b, struct book *bk, int side, uint32_t price, int create)
{
	uint32_t best = bk->best[side], worst = bk->worst[side], cur, li;
	uint32_t up = 0, down = 0; /* the new level goes between these (better, worse) */
	struct level *l;

	if (!best) {
		/* empty side */
	} else if (better(side, price, b->levels[best].price)) {
		down = best;
	} else if (better(side, b->levels[worst].price, price)) {
		up = worst;
	} else if (dist(price, b->levels[best].price) <= dist(price, b->levels[worst].price)) {
		for (cur = best; better(side, b->levels[cur].price, price);
		     cur = b->levels[cur].worse)
			;
		if (b->levels[cur].price == price)
			return cur;
		down = cur;
		up = b->levels[cur].better;
	} else {
		for (cur = worst; better(side, price, b->levels[cur].price);
		     cur = b->levels[cur].better)
			;
		if (b->levels[cur].price == price)
			return cur;
		up = cur;
		down = b->levels[cur].worse;
	}
	if (!create)
		return 0;
	if (b->level_free) {
		li = b->level_free;
		b->level_free = b->levels[li].worse;
	} else if (b->level_next < b->level_cap) {
		li = b->level_next++;
	} else {
		return 0;
	}
	l = &b->levels[li];
	l->shares = 0;
	l->price = price;
	l->orders = 0;
	l->head = l->tail = NIL;
	l->better = up;
	l->worse = down;
	if (up)
		b->levels[up].worse = li;
	else
		bk->best[side] = li;
	if (down)
		b->levels[down].better = li;
	else
		bk->worst[side] = li;
	b->st.levels_live++;
	return li;
}

static void level_drop(struct fg_books *b, uint16_t locate, int side, uint32_t li)
{
	struct book *bk = &b->books[locate];
	struct level *l = &b->levels[li];

	if (l->better)
		b->levels[l->better].worse = l->worse;
	else
		bk->best[side] = l->worse;
	if (l->worse)
		b->levels[l->worse].better = l->better;
	else
		bk->worst[side] = l->better;
	l->worse = b->level_free;
	b->level_free = li;
	b->st.levels_live--;
}

static inline void level_report(const struct fg_books *b, uint16_t locate, int side,
				const struct level *l)
{
	if (b->cb.on_level)
		b->cb.on_level(b->cb.ctx, locate, side == BID ? 'B' : 'S', l->price, l->shares,
			       l->orders);
}

/*
 * Report the best bid and offer of a book. Called only when a message
 * changed a level that was or became the best of its side: the BBO moves
 * exactly then, so nothing needs to remember what was reported last.
 */
static void bbo_report(const struct fg_books *b, uint16_t locate)
{
	const struct book *bk = &b->books[locate];
	uint32_t px[2] = { 0, 0 };
	uint64_t sh[2] = { 0, 0 };

	for (int s = 0; s < 2; s++) {
		if (bk->best[s]) {
			px[s] = b->levels[bk->best[s]].price;
			sh[s] = b->levels[bk->best[s]].shares;
		}
	}
	b->cb.on_bbo(b->cb.ctx, locate, px[0], sh[0], px[1], sh[1]);
}

static inline void bbo_changed(const struct fg_books *b, uint16_t locate)
{
	if (b->cb.on_bbo)
		bbo_report(b, locate);
}

/* --- orders -------------------------------------------------------------------------------- */

/*
 * Add an order. Returns 1 if it went to the best level of its side (the BBO
 * changed), 0 if it went deeper, -1 if it was rejected (counted).
 */
HOT int order_add(struct fg_books *b, uint64_t ref, uint16_t locate, int side, uint32_t shares,
		  uint32_t price)
{
	struct book *bk = &b->books[locate];
	struct order *o;
	struct level *l;
	uint32_t s, li;

	if (side < 0 || !shares || !price || !locate || !ref) {
		b->st.bad_orders++;
		return -1;
	}
	if (ref <= b->max_ref && order_find(b, ref) != NIL) {
		b->st.duplicate_refs++;
		return -1;
	}
	if (b->st.orders_live >= b->st.order_capacity) {
		b->st.overflows++;
		return -1;
	}
	li = level_at(b, bk, side, price, 1);
	if (!li) { /* cannot happen: levels <= orders <= capacity */
		b->st.overflows++;
		return -1;
	}
	if (ref > b->max_ref)
		b->max_ref = ref;
	s = order_slot(b, ref);
	o = &b->orders[s];
	o->ref = ref;
	o->price = price;
	o->shares = shares;
	o->level = li;
	o->locate = locate;
	o->side = (uint8_t)side;
	o->state = SLOT_LIVE;
	/* Back of the queue: time priority. */
	l = &b->levels[li];
	o->next = NIL;
	o->prev = l->tail;
	if (l->tail != NIL)
		b->orders[l->tail].next = s;
	else
		l->head = s;
	l->tail = s;
	l->orders++;
	l->shares += shares;
	b->st.adds++;
	if (++b->st.orders_live > b->st.orders_peak)
		b->st.orders_peak = b->st.orders_live;
	level_report(b, locate, side, l);
	if (li != bk->best[side])
		return 0;
	/* A new best: crossed if it reaches the other side (never, on a consistent feed). */
	if (bk->best[!side] && !better(side, b->levels[bk->best[!side]].price, price))
		b->st.crossed++;
	return 1;
}

/*
 * Take n shares off the order in slot s (n <= its shares); remove it at 0.
 * Returns 1 if its level was the best of its side (the BBO changed).
 */
HOT int order_reduce(struct fg_books *b, uint32_t s, uint32_t n)
{
	struct order *o = &b->orders[s];
	struct level *l = &b->levels[o->level];
	uint16_t locate = o->locate;
	int side = o->side, top = o->level == b->books[locate].best[side];

	o->shares -= n;
	l->shares -= n;
	if (o->shares) {
		level_report(b, locate, side, l);
		return top && n;
	}
	if (o->prev != NIL)
		b->orders[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != NIL)
		b->orders[o->next].prev = o->prev;
	else
		l->tail = o->prev;
	l->orders--;
	level_report(b, locate, side, l);
	if (!l->orders)
		level_drop(b, locate, side, o->level);
	order_release(b, s);
	return top;
}

static inline uint32_t lookup_or_count(struct fg_books *b, uint64_t ref)
{
	uint32_t s = order_find(b, ref);

	if (s == NIL)
		b->st.unknown_refs++;
	return s;
}

/* Clamp an execution or cancel to the open shares (counted). */
static inline uint32_t clamp(struct fg_books *b, uint32_t s, uint32_t n)
{
	if (n > b->orders[s].shares) {
		b->st.clamped++;
		return b->orders[s].shares;
	}
	return n;
}

HOT void on_execute(struct fg_books *b, uint64_t ref, uint32_t n, uint64_t match, int has_price,
		    uint32_t price)
{
	uint32_t s = lookup_or_count(b, ref);
	uint16_t locate;
	int top;

	if (s == NIL)
		return;
	b->st.executions++;
	n = clamp(b, s, n);
	locate = b->orders[s].locate;
	if (!has_price)
		price = b->orders[s].price;
	top = order_reduce(b, s, n);
	if (b->cb.on_trade)
		b->cb.on_trade(b->cb.ctx, locate, price, n, match);
	if (top)
		bbo_changed(b, locate);
}

HOT void on_cancel(struct fg_books *b, uint64_t ref, uint32_t n, int all)
{
	uint32_t s = lookup_or_count(b, ref);
	uint16_t locate;

	if (s == NIL)
		return;
	if (all) {
		b->st.deletes++;
		n = b->orders[s].shares;
	} else {
		b->st.cancels++;
		n = clamp(b, s, n);
	}
	locate = b->orders[s].locate;
	if (order_reduce(b, s, n))
		bbo_changed(b, locate);
}

HOT void on_replace(struct fg_books *b, const struct fg_itch_order_replace *r)
{
	uint32_t s = lookup_or_count(b, r->original_order_reference_number);
	uint16_t locate;
	int side, top;

	if (s == NIL)
		return;
	b->st.replaces++;
	locate = b->orders[s].locate;
	side = b->orders[s].side;
	top = order_reduce(b, s, b->orders[s].shares);
	if (order_add(b, r->new_order_reference_number, locate, side, r->shares, r->price) > 0)
		top = 1;
	if (top)
		bbo_changed(b, locate);
}

void fg_books_apply(struct fg_books *b, const struct fg_itch_msg *m)
{
	b->st.messages++;
	switch (m->type) {
	case FG_ITCH_ADD_ORDER:
	case FG_ITCH_ADD_ORDER_MPID: /* m->add reads F too (common initial sequence) */
		if (order_add(b, m->add.order_reference_number, m->stock_locate,
			      side_of(m->add.buy_sell), m->add.shares, m->add.price) > 0)
			bbo_changed(b, m->stock_locate);
		break;
	case FG_ITCH_ORDER_EXECUTED:
		on_execute(b, m->executed.order_reference_number, m->executed.executed_shares,
			   m->executed.match_number, 0, 0);
		break;
	case FG_ITCH_ORDER_EXECUTED_WITH_PRICE:
		on_execute(b, m->executed_with_price.order_reference_number,
			   m->executed_with_price.executed_shares,
			   m->executed_with_price.match_number, 1,
			   m->executed_with_price.execution_price);
		break;
	case FG_ITCH_ORDER_CANCEL:
		on_cancel(b, m->cancel.order_reference_number, m->cancel.cancelled_shares, 0);
		break;
	case FG_ITCH_ORDER_DELETE:
		on_cancel(b, m->del.order_reference_number, 0, 1);
		break;
	case FG_ITCH_ORDER_REPLACE:
		on_replace(b, &m->replace);
		break;
	case FG_ITCH_TRADE:
		b->st.trades++;
		if (b->cb.on_trade)
			b->cb.on_trade(b->cb.ctx, m->stock_locate, m->trade.price, m->trade.shares,
				       m->trade.match_number);
		break;
	case FG_ITCH_CROSS_TRADE:
		b->st.trades++;
		if (b->cb.on_trade)
			b->cb.on_trade(b->cb.ctx, m->stock_locate, m->cross_trade.cross_price,
				       m->cross_trade.shares, m->cross_trade.match_number);
		break;
	case FG_ITCH_STOCK_DIRECTORY:
		if (m->stock_locate)
			memcpy(b->symbols[m->stock_locate], m->stock_directory.stock, 8);
		break;
	default:
		break;
	}
}

/*
 * Batches: while message i is applied, the memory that message i + PREFETCH_FAR
 * and i + PREFETCH_NEAR will touch is requested. No branch on the type here:
 * on a random mix of adds and deletes a switch mispredicts about every other
 * message, which costs more than the prefetches save. Every book type carries
 * its order reference first (A F E C X D: the order, U: the original one;
 * m->del reads it for all of them), so the far stage prefetches the line of
 * that slot and the next one for any message (slot 0 for the others,
 * harmless) and the book of its locate. The near stage, once those lines
 * have arrived, follows the probe from the home slot while the slot holds
 * another reference (linear probing puts most old orders of a wrapped table
 * a slot or two past their home; no branch), then prefetches the
 * order's level and queue neighbours as the slot names them, and the ends of
 * the side an add would walk. A stale or empty slot only names other valid
 * memory (indexes are masked into their tables), and a prefetch never faults.
 *
 * The stages are always_inline (HOT) for a reason beyond speed: a static
 * function whose only effect is __builtin_prefetch is found pure by GCC,
 * and the calls to it, whose result is unused, are deleted as dead code
 * before the inliner runs (GCC 12 -O2 emitted no prefetch at all here).
 *
 * Measured, and left out: prefetching in a third stage what the second one
 * names (the neighbours of the order's level, the back of the queue of the
 * best level) or walking the side read-only to the level an add joins cost
 * as much as they saved or more, on the generated 50-million-message day.
 */
static const uint8_t book_type[256] = {
	[FG_ITCH_ADD_ORDER] = 1,      [FG_ITCH_ADD_ORDER_MPID] = 1,
	[FG_ITCH_ORDER_EXECUTED] = 1, [FG_ITCH_ORDER_EXECUTED_WITH_PRICE] = 1,
	[FG_ITCH_ORDER_CANCEL] = 1,   [FG_ITCH_ORDER_DELETE] = 1,
	[FG_ITCH_ORDER_REPLACE] = 1,
};

#define PREFETCH_FAR 16
#define PREFETCH_NEAR 8
#define PREFETCH_PROBE 2 /* slots past the home one that the near stage follows */

static inline uint64_t batch_slot(const struct fg_books *b, const struct fg_itch_msg *m)
{
	uint64_t ref = m->del.order_reference_number;

	return (ref & -(uint64_t)book_type[m->type]) & b->omask;
}

HOT void prefetch_far(const struct fg_books *b, const struct fg_itch_msg *m)
{
	uint64_t s = batch_slot(b, m);

	__builtin_prefetch(&b->orders[s], 1);
	__builtin_prefetch(&b->orders[(s + 2) & b->omask], 1); /* the next line: 32-byte slots */
	__builtin_prefetch(&b->books[m->stock_locate]);
}

HOT void prefetch_near(const struct fg_books *b, const struct fg_itch_msg *m)
{
	uint64_t ref = m->del.order_reference_number, s = batch_slot(b, m);
	const struct book *bk = &b->books[m->stock_locate];
	int side = m->add.buy_sell == 'S';
	const struct order *o;
	uint32_t li;

	for (int k = 0; k < PREFETCH_PROBE; k++)
		s = (s + (b->orders[s].ref != ref)) & b->omask;
	o = &b->orders[s];
	li = o->level < b->level_cap ? o->level : 0;
	__builtin_prefetch(&b->levels[li], 1);
	__builtin_prefetch(&b->orders[o->prev & b->omask], 1);
	__builtin_prefetch(&b->orders[o->next & b->omask], 1);
	__builtin_prefetch(&b->levels[bk->best[side]], 1);
	__builtin_prefetch(&b->levels[bk->worst[side]], 1);
}

void fg_books_apply_batch(struct fg_books *b, const struct fg_itch_msg *msgs, unsigned int n)
{
	for (unsigned int i = 0; i < n && i < PREFETCH_FAR; i++)
		prefetch_far(b, &msgs[i]);
	for (unsigned int i = 0; i < n && i < PREFETCH_NEAR; i++)
		prefetch_near(b, &msgs[i]);
	for (unsigned int i = 0; i < n; i++) {
		if (i + PREFETCH_FAR < n)
			prefetch_far(b, &msgs[i + PREFETCH_FAR]);
		if (i + PREFETCH_NEAR < n)
			prefetch_near(b, &msgs[i + PREFETCH_NEAR]);
		fg_books_apply(b, &msgs[i]);
	}
}

/* --- queries ------------------------------------------------------------------------------- */

unsigned int fg_books_top(const struct fg_books *b, uint16_t locate, char side,
			  struct fg_level *out, unsigned int depth)
{
	int sd = side_of(side);
	unsigned int k = 0;

	if (sd < 0)
		return 0;
	for (uint32_t li = b->books[locate].best[sd]; li && k < depth; li = b->levels[li].worse) {
		out[k].price = b->levels[li].price;
		out[k].shares = b->levels[li].shares;
		out[k].orders = b->levels[li].orders;
		k++;
	}
	return k;
}

int fg_books_bbo(const struct fg_books *b, uint16_t locate, struct fg_bbo *out)
{
	memset(out, 0, sizeof(*out));
	fg_books_top(b, locate, 'B', &out->bid, 1);
	fg_books_top(b, locate, 'S', &out->ask, 1);
	return out->bid.orders || out->ask.orders ? 0 : -ENOENT;
}

int fg_books_locate_of(const struct fg_books *b, const char *symbol)
{
	char key[8];
	size_t n = symbol ? strlen(symbol) : 0;

	if (n == 0 || n > 8)
		return -ENOENT;
	memset(key, ' ', sizeof(key));
	memcpy(key, symbol, n);
	for (unsigned int loc = 1; loc < 65536; loc++)
		if (!memcmp(b->symbols[loc], key, 8))
			return (int)loc;
	return -ENOENT;
}

int fg_books_symbol(const struct fg_books *b, uint16_t locate, char out[9])
{
	int n = 8;

	if (!b->symbols[locate][0]) /* a stock field is never NUL: unnamed */
		return -ENOENT;
	memcpy(out, b->symbols[locate], 8);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return 0;
}

int fg_books_order(const struct fg_books *b, uint64_t ref, struct fg_order *out)
{
	uint32_t s = order_find(b, ref);

	if (s == NIL)
		return -ENOENT;
	out->ref = ref;
	out->price = b->orders[s].price;
	out->shares = b->orders[s].shares;
	out->locate = b->orders[s].locate;
	out->side = b->orders[s].side == BID ? 'B' : 'S';
	return 0;
}

unsigned int fg_books_level_orders(const struct fg_books *b, uint16_t locate, char side,
				   uint32_t price, uint64_t *refs, unsigned int max)
{
	int sd = side_of(side);
	uint32_t li;
	unsigned int k = 0;

	if (sd < 0 || !locate)
		return 0;
	li = level_at((struct fg_books *)b, &b->books[locate], sd, price, 0);
	if (!li)
		return 0;
	for (uint32_t s = b->levels[li].head; s != NIL && k < max; s = b->orders[s].next)
		refs[k++] = b->orders[s].ref;
	return k;
}
