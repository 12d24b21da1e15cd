// SPDX-License-Identifier: MIT
/*
 * Order books (include/feedgate/book.h): the order table, price levels, the
 * tick ladders and the message handlers.
 *
 * Order table. ITCH order reference numbers are dense and increasing over
 * the day, so the primary table is indexed by the reference itself: the
 * slot of reference r is r mod size, consecutive orders land in
 * consecutive slots, and the orders a feed touches most (the recent ones)
 * share cache lines. There is no probing there: a slot holds one order, and
 * when a newer reference claims a slot whose order is still live (an order
 * older than one sweep of the table, or a sparse reference), the older one
 * moves to the secondary table, an ordinary hash table (multiplicative
 * hash, linear probing, deletion by backward shift, so no tombstones). With
 * probing in the primary, one old order met by the stream of new
 * references pushed every later reference a slot further, and those pushes
 * added up. A lookup tries the table where the reference should be (the
 * primary for references less than one sweep old, the secondary for older
 * ones) and then the other. Sparse, repeated or huge references are only
 * keys: every index is masked into its table. A slot is 16 bytes
 * (reference, open shares, level): the order's book, side and price are its
 * level's. Nothing points at an order slot (levels keep counts, not
 * queues), so orders may move, and both tables double when the live orders
 * pass half of them: memory follows the live orders, not the references
 * seen nor a capacity fixed up front.
 *
 * Time priority. A level holds its open shares and order count only:
 * unlinking an order from a queue would touch its neighbours, two more
 * cache misses for every order deleted deep in a book. The queue order
 * comes from a side array of add stamps (when each order joined), read by
 * fg_books_level_orders() only, which therefore scans the tables. Stamps are
 * a 32-bit count of adds: an order more than 2^32 adds old would rank as a
 * younger one (a NASDAQ day has about 150 million adds).
 *
 * Levels. A pool (index 0 means "none") that grows on demand, linked per
 * book side in price order best first. The book (one cache line per
 * instrument) keeps the prices of both ends of each side, so that the adds
 * that join or improve on the best (about 57% of them on the generated day)
 * compare without reading a level. A side where an add walked past more
 * than LADDER_WALK levels gets a tick ladder: LADDER_SLOTS consecutive
 * prices one tick apart around the best, each naming its level, with an
 * occupancy bitmap. An add then finds its level in O(1) and a new level its
 * neighbours with a bit scan, where a walk down a deep side cost a
 * dependent load per level passed (on a day with 4 million live orders,
 * the replay without ladders took 1.6 times the CPU time). Prices off the
 * ladder (outside its window, or not on its tick) fall back to the walk
 * from the nearer end of the side; when too many do and the best has
 * drifted away from where the window put it, the window is moved to the
 * best again. The ladder goes back to the pool when its side empties.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "feedgate/book.h"
#include "fg_log.h"

/*
 * The message handlers are inlined into fg_books_apply(): as calls they
 * paid a prologue and epilogue each (about 5% of a message on this VM).
 */
#define HOT static inline __attribute__((always_inline))
/* Rare paths stay out of line, so that the hot one is short. */
#define COLD static __attribute__((noinline, cold))

/*
 * A prefetch the compiler cannot drop. GCC found static helpers made only
 * of __builtin_prefetch pure and deleted the calls to them (their result is
 * unused) before inlining; an asm volatile statement is never deleted.
 * tests/unit/test_book.c counts the prefetch instructions in the compiled
 * fg_books_prefetch().
 */
#if defined(__x86_64__) || defined(__i386__)
#define PREFETCH(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
#else
#define PREFETCH(p) __builtin_prefetch(p, 1)
#endif

#define BID 0
#define ASK 1

#define TABLE_MIN_SLOTS (1u << 12) /* each order table starts at 64 KiB */
#define PRIMARY_MAX_SLOTS (1u << 19) /* the primary stops growing at 8 MiB */
#define PRIMARY_SPREAD 8 /* primary slots per live order, up to its maximum */
#define POOL_MIN_BYTES (64u << 10) /* level and ladder pools start at this */
#define HUGE_BYTES (2u << 20) /* tables this large ask for huge pages */
#define NEAR_MIN_SLOTS (1u << 17) /* a secondary this large (2 MiB) turns prefetch_near() on */
#define HASH_MUL 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio: the secondary's hash */

#define LADDER_SLOTS 256 /* prices one tick apart: about 1/4 better than the best, 3/4 worse */
#define LADDER_WORDS (LADDER_SLOTS / 64)
#define LADDER_WALK 4 /* a side where an add walked past more levels gets a ladder */
#define LADDER_REBASE_MISSES 64 /* adds off the ladder before checking its window */
#define LADDER_HOME(side) ((side) == BID ? LADDER_SLOTS - LADDER_SLOTS / 4 : LADDER_SLOTS / 4)
#define LADDER_MAX (2u * 65536 + 1) /* one per book side, and the null one */

struct order { /* 16 bytes; level 0: a free slot */
	uint64_t ref;
	uint32_t shares;
	uint32_t level;
};

/* One of the two order tables. */
struct otable {
	struct order *o;
	uint32_t *stamp; /* [slot]: add count when the order joined its level (time priority) */
	uint64_t mask; /* slots - 1 */
	uint64_t max_slots;
	uint64_t live;
	unsigned int shift; /* 64 - log2(slots): the secondary's hash */
	size_t osize, ssize;
};

struct level { /* 32 bytes */
	uint64_t shares;
	uint32_t price;
	uint32_t orders;
	uint32_t better, worse; /* neighbours on the side, 0 = none; free list through .worse */
	uint16_t locate;
	uint8_t side;
	uint8_t pad;
	uint32_t pad2;
};

struct ladder {
	uint64_t bits[LADDER_WORDS]; /* occupied slots */
	uint32_t next_free;
	uint32_t pad[7];
	uint32_t slot[LADDER_SLOTS]; /* level at base + i * tick, 0 = none */
};

/*
 * One instrument: a cache line with what an add needs before it reads a
 * level: the ends of each side and their prices (an add compares without
 * reading them), and where the side's ladder puts a price.
 */
struct book {
	uint32_t best[2], worst[2];
	uint32_t best_px[2], worst_px[2];
	uint32_t ladder[2]; /* 0 = none */
	uint32_t base[2]; /* price of the ladder's slot 0 */
	uint16_t misses[2]; /* adds off the ladder since its window was last checked */
	uint8_t cents[2]; /* the ladder's tick: 1 = $0.01 (100), 0 = $0.0001 (sub-dollar books) */
	uint8_t pad[10];
};

_Static_assert(sizeof(struct order) == 16, "four order slots to a cache line");
_Static_assert(sizeof(struct level) == 32, "two levels to a cache line");
_Static_assert(sizeof(struct book) == 64, "a book is one cache line");

struct fg_books {
	struct otable pri, sec;
	uint64_t max_ref; /* highest reference ever added */
	uint64_t young_from; /* below this, references are looked up in the secondary first */
	uint32_t max_probe;
	int read_near; /* the secondary has outgrown the caches: prefetch_near() pays */
	uint32_t clock; /* adds so far, wrapping */
	struct level *levels;
	uint32_t level_cap; /* slots mapped */
	uint32_t level_limit; /* never more than this */
	uint32_t level_next; /* never used yet from here */
	uint32_t level_free; /* free list through .worse */
	struct ladder *ladders;
	uint32_t ladder_cap, ladder_next, ladder_free;
	struct book *books; /* [65536] by locate */
	char (*symbols)[8]; /* [65536] from R; NUL bytes until named */
	struct fg_book_callbacks cb;
	struct fg_books_stats st;
	size_t levels_size, ladders_size, books_size, symbols_size;
};

/*
 * By arithmetic: the side of consecutive adds is a coin toss, and the
 * compiler made two branches of the nested conditional.
 */
static inline int side_of(char c)
{
	int ask = c == 'S', ok = (c == 'B') | ask;

	return ask | -!ok;
}

/*
 * c ? a : b by mask arithmetic. The compiler makes short branches of such
 * selects, and where c is a coin toss (is this level the end of its side?)
 * they mispredict half the time, about 20 cycles each on this hardware.
 */
static inline uint32_t pick(uint32_t c, uint32_t a, uint32_t b)
{
	uint32_t m = -(uint32_t)(c != 0);

	__asm__("" : "+r"(m)); /* keep it arithmetic */
	return (a & m) | (b & ~m);
}

/* Is price a better than price b on this side? */
static inline int better(int side, uint32_t a, uint32_t b)
{
	/* Arithmetic: the side of consecutive messages is a coin toss. */
	return ((a > b) & (side == BID)) | ((a < b) & (side != BID));
}

/* --- memory -------------------------------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * Anonymous memory, zero until touched and resident only where touched: a
 * table grows by what the book puts in it. Large ones ask for huge pages
 * (fewer TLB misses on the random lookups of deletes deep in the book).
 */
static void *map_zero(size_t size)
{
	void *p;

#ifdef MADV_HUGEPAGE
	if (size >= HUGE_BYTES) {
		/* On a huge-page boundary, or the kernel backs none of it with huge pages:
		 * map a huge page more and trim both ends. */
		uintptr_t a, e;
		char *m = mmap(NULL, size + HUGE_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		a = ((uintptr_t)m + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
		e = (uintptr_t)m + size + HUGE_BYTES;
		if (a > (uintptr_t)m)
			munmap(m, a - (uintptr_t)m);
		if (e > a + size)
			munmap((void *)(a + size), e - (a + size));
		madvise((void *)a, size, MADV_HUGEPAGE);
		return (void *)a;
	}
#endif
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

/*
 * Double a pool (its users hold indexes, never pointers); 0 or -ENOMEM.
 * Small pools move with mremap; from HUGE_BYTES on, the pool is copied into
 * a fresh aligned mapping instead, so that it is backed by huge pages (a
 * pool grown page by page keeps its small pages wherever it moves).
 */
static int pool_grow(void **p, size_t *size, size_t elem, uint32_t *cap, uint32_t limit)
{
	size_t nsize = *size * 2;
	void *np;

	if (*cap >= limit)
		return -ENOMEM;
	if (nsize >= HUGE_BYTES / 8 && nsize < HUGE_BYTES)
		nsize = HUGE_BYTES;
	if (nsize >= HUGE_BYTES) {
		np = map_zero(nsize);
		if (!np)
			return -ENOMEM;
		memcpy(np, *p, *size);
		munmap(*p, *size);
	} else {
		np = mremap(*p, *size, nsize, MREMAP_MAYMOVE);
		if (np == MAP_FAILED)
			return -ENOMEM;
	}
	*p = np;
	*size = nsize;
	*cap = nsize / elem > limit ? limit : (uint32_t)(nsize / elem);
	return 0;
}

static int otable_init(struct otable *t, uint64_t slots, uint64_t max_slots)
{
	t->mask = slots - 1;
	t->max_slots = max_slots;
	t->live = 0;
	t->shift = 64 - (unsigned int)__builtin_ctzll(slots);
	t->osize = slots * sizeof(*t->o);
	t->ssize = slots * sizeof(*t->stamp);
	t->o = map_zero(t->osize);
	t->stamp = map_zero(t->ssize);
	return t->o && t->stamp ? 0 : -ENOMEM;
}

static void otable_free(struct otable *t)
{
	unmap(t->o, t->osize);
	unmap(t->stamp, t->ssize);
}

int fg_books_new(uint32_t order_capacity, const struct fg_book_callbacks *cb, struct fg_books **out)
{
	struct fg_books *b;
	uint64_t max, pmax;
	int rc;

	if (!order_capacity)
		order_capacity = FG_BOOKS_DEFAULT_ORDERS;
	if (order_capacity > FG_BOOKS_MAX_ORDERS) {
		pr_warn("Couldn't create the order books: order_capacity %u, want at most %u: %s\n",
			order_capacity, FG_BOOKS_MAX_ORDERS, strerror(EINVAL));
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* Each table at most half full at the capacity, as they are kept at any size. */
	max = pow2_at_least(2ull * order_capacity);
	pmax = max < PRIMARY_MAX_SLOTS ? max : PRIMARY_MAX_SLOTS;
	rc = otable_init(&b->pri, pmax < TABLE_MIN_SLOTS ? pmax : TABLE_MIN_SLOTS, pmax);
	rc = rc ?: otable_init(&b->sec, max < TABLE_MIN_SLOTS ? max : TABLE_MIN_SLOTS, max);
	/* Every level holds at least one order: as many levels as orders, plus the null one. */
	b->level_limit = order_capacity + 1;
	b->levels_size = POOL_MIN_BYTES;
	b->level_cap = (uint32_t)(b->levels_size / sizeof(*b->levels));
	if (b->level_cap > b->level_limit)
		b->level_cap = b->level_limit;
	b->level_next = 1;
	b->ladders_size = POOL_MIN_BYTES;
	b->ladder_cap = (uint32_t)(b->ladders_size / sizeof(*b->ladders));
	b->ladder_next = 1;
	b->books_size = 65536 * sizeof(*b->books);
	b->symbols_size = 65536 * sizeof(*b->symbols);
	b->levels = map_zero(b->levels_size);
	b->ladders = map_zero(b->ladders_size);
	b->books = map_zero(b->books_size);
	b->symbols = map_zero(b->symbols_size);
	if (rc || !b->levels || !b->ladders || !b->books || !b->symbols) {
		fg_books_free(b);
		return -ENOMEM;
	}
	if (cb)
		b->cb = *cb;
	b->st.order_capacity = order_capacity;
	*out = b;
	return 0;
}

void fg_books_free(struct fg_books *b)
{
	if (!b)
		return;
	otable_free(&b->pri);
	otable_free(&b->sec);
	unmap(b->levels, b->levels_size);
	unmap(b->ladders, b->ladders_size);
	unmap(b->books, b->books_size);
	unmap(b->symbols, b->symbols_size);
	free(b);
}

size_t fg_books_memory(const struct fg_books *b)
{
	/* Pools count up to their high-water mark: the part ever touched. */
	return sizeof(*b) + b->pri.osize + b->pri.ssize + b->sec.osize + b->sec.ssize +
	       (size_t)b->level_next * sizeof(*b->levels) +
	       (size_t)b->ladder_next * sizeof(*b->ladders) + b->books_size + b->symbols_size;
}

void fg_books_get_stats(const struct fg_books *b, struct fg_books_stats *out)
{
	*out = b->st;
	out->max_probe = b->max_probe;
}

/* --- order tables -------------------------------------------------------------------------- */

static inline uint64_t sec_home(const struct otable *t, uint64_t ref)
{
	return (ref * HASH_MUL) >> t->shift;
}

static __attribute__((noinline)) struct order *sec_find(const struct fg_books *b, uint64_t ref)
{
	const struct otable *t = &b->sec;
	uint64_t s;

	if (!t->live)
		return NULL;
	for (s = sec_home(t, ref);; s = (s + 1) & t->mask) {
		struct order *o = &t->o[s];

		if (!o->level)
			return NULL;
		if (o->ref == ref)
			return o;
	}
}

static inline struct order *pri_find(const struct fg_books *b, uint64_t ref)
{
	struct order *o = &b->pri.o[ref & b->pri.mask];

	return o->ref == ref && o->level ? o : NULL;
}

/* A live order by reference, or NULL. */
static inline struct order *order_find(const struct fg_books *b, uint64_t ref)
{
	struct order *o;

	if (ref > b->max_ref)
		return NULL; /* never added */
	if (b->max_ref - ref <= b->pri.mask && ref >= b->young_from) /* where the primary put it */
		return (o = pri_find(b, ref)) ? o : sec_find(b, ref);
	return (o = sec_find(b, ref)) ? o : pri_find(b, ref);
}

/* A free slot of the secondary for ref (there is room); records the longest probe. */
static inline uint64_t sec_slot(struct fg_books *b, const struct otable *t, uint64_t ref)
{
	uint64_t s = sec_home(t, ref);
	uint32_t d = 0;

	while (t->o[s].level) {
		s = (s + 1) & t->mask;
		d++;
	}
	if (d > b->max_probe)
		b->max_probe = d;
	return s;
}

static __attribute__((noinline)) void sec_put(struct fg_books *b, const struct order *o,
					      uint32_t stamp)
{
	uint64_t s = sec_slot(b, &b->sec, o->ref);

	b->sec.o[s].ref = o->ref;
	b->sec.o[s].shares = o->shares;
	b->sec.o[s].level = o->level;
	b->sec.stamp[s] = stamp;
	b->sec.live++;
}

/*
 * Double a table (no tombstones to carry: the primary has no probing, the
 * secondary deletes by backward shift). Once each time its live orders
 * pass a new power of two: the pause is a few ns per slot of the old one.
 */
COLD int otable_grow(struct fg_books *b, struct otable *t, int primary)
{
	struct otable old = *t;

	if (otable_init(t, (old.mask + 1) * 2, old.max_slots)) {
		otable_free(t);
		*t = old;
		return -ENOMEM;
	}
	if (!primary) {
		b->max_probe = 0;
		b->read_near = t->mask + 1 >= NEAR_MIN_SLOTS;
	}
	for (uint64_t s = 0; s <= old.mask; s++) {
		const struct order *o = &old.o[s];
		uint64_t d;

		if (!o->level)
			continue;
		/* The primary's orders keep their reference's slot: no two collide. */
		d = primary ? o->ref & t->mask : sec_slot(b, t, o->ref);
		t->o[d] = *o;
		t->stamp[d] = old.stamp[s];
		t->live++;
	}
	otable_free(&old);
	return 0;
}

/* Room for one more live order (and one the primary may move out); 0, or -ENOSPC. */
COLD int order_room_grow(struct fg_books *b)
{
	struct otable *p = &b->pri, *q = &b->sec;
	uint64_t qslots = q->mask + 1;

	if ((b->st.orders_live + 1) * PRIMARY_SPREAD > p->mask + 1 && p->mask + 1 < p->max_slots &&
	    otable_grow(b, p, 1) == 0)
		/* The references the smaller primary had swept past are in the secondary: look
		 * for them there first until the larger one sweeps past them too. */
		b->young_from = b->max_ref > p->mask / 2 ? b->max_ref - p->mask / 2 : 0;
	if ((q->live + 1) * 2 <= qslots)
		return 0;
	if (qslots < q->max_slots && otable_grow(b, q, 0) == 0)
		return 0;
	/* No memory for a larger secondary: linear probing still works up to 7/8 full. */
	return q->live + 1 <= qslots - qslots / 8 ? 0 : -ENOSPC;
}

static inline int order_room(struct fg_books *b)
{
	if (((b->st.orders_live + 1) * PRIMARY_SPREAD <= b->pri.mask + 1 ||
	     b->pri.mask + 1 >= b->pri.max_slots) &&
	    (b->sec.live + 1) * 2 <= b->sec.mask + 1)
		return 0;
	return order_room_grow(b);
}

/*
 * Put a new order (ref not live, room made). The primary slot keeps the
 * newer of the two references that want it: recent orders are the ones a
 * feed names most.
 */
HOT void order_insert(struct fg_books *b, uint64_t ref, uint32_t shares, uint32_t level)
{
	uint64_t s = ref & b->pri.mask;
	struct order *o = &b->pri.o[s];
	uint32_t stamp = b->clock++;

	if (o->level) {
		if (o->ref > ref) { /* an old reference come late (not on a sound feed) */
			const struct order n = { ref, shares, level };

			sec_put(b, &n, stamp);
			return;
		}
		sec_put(b, o, b->pri.stamp[s]);
		b->pri.live--;
	}
	/* Field by field: a struct built on the stack and copied whole stalled on store
	 * forwarding. */
	o->ref = ref;
	o->shares = shares;
	o->level = level;
	b->pri.stamp[s] = stamp;
	b->pri.live++;
}

/* Remove a slot of the secondary, shifting back the orders that probed past it. */
static __attribute__((noinline)) void sec_remove(struct otable *t, uint64_t i)
{
	for (uint64_t j = i;;) {
		uint64_t k;

		j = (j + 1) & t->mask;
		if (!t->o[j].level)
			break;
		k = sec_home(t, t->o[j].ref);
		/* It stays if its home is cyclically in (i, j]. */
		if (i <= j ? i < k && k <= j : i < k || k <= j)
			continue;
		t->o[i] = t->o[j];
		t->stamp[i] = t->stamp[j];
		i = j;
	}
	t->o[i].level = 0;
	t->live--;
}

static inline void order_release(struct fg_books *b, struct order *o)
{
	/* One compare (an address below the table wraps to a large difference). */
	if ((uintptr_t)o - (uintptr_t)b->pri.o <= b->pri.mask * sizeof(*o)) {
		o->level = 0;
		b->pri.live--;
	} else {
		sec_remove(&b->sec, (uint64_t)(o - b->sec.o));
	}
	b->st.orders_live--;
}

/* --- ladders ------------------------------------------------------------------------------- */

/* Slot of price on a ladder, or -1 when it is outside the window or off the tick. */
static inline int ladder_index(const struct book *bk, int side, uint32_t price)
{
	uint32_t d = price - bk->base[side], q;

	if (price < bk->base[side])
		return -1;
	q = bk->cents[side] ? d / 100 : d;
	if (q >= LADDER_SLOTS || q * (bk->cents[side] ? 100 : 1) != d)
		return -1;
	return (int)q;
}

static inline void ladder_set(struct ladder *ld, int i, uint32_t li)
{
	ld->slot[i] = li;
	if (li)
		ld->bits[i >> 6] |= 1ull << (i & 63);
	else
		ld->bits[i >> 6] &= ~(1ull << (i & 63));
}

/* The occupied slot nearest above i, or -1. */
static inline int bits_above(const uint64_t *bits, int i)
{
	int w;
	uint64_t m;

	if (++i >= LADDER_SLOTS)
		return -1;
	w = i >> 6;
	m = bits[w] & (~0ull << (i & 63));
	while (!m) {
		if (++w == LADDER_WORDS)
			return -1;
		m = bits[w];
	}
	return w * 64 + __builtin_ctzll(m);
}

/* The occupied slot nearest below i, or -1. */
static inline int bits_below(const uint64_t *bits, int i)
{
	int w;
	uint64_t m;

	if (--i < 0)
		return -1;
	w = i >> 6;
	m = bits[w] & (~0ull >> (63 - (i & 63)));
	while (!m) {
		if (--w < 0)
			return -1;
		m = bits[w];
	}
	return w * 64 + 63 - __builtin_clzll(m);
}

/*
 * Put the window around the side's best (a quarter of it on the better
 * side, room for the touch to improve) on the best's tick, and index every
 * level of the side inside it.
 */
static void ladder_fill(struct fg_books *b, struct book *bk, int side)
{
	struct ladder *ld = &b->ladders[bk->ladder[side]];
	uint32_t best = bk->best_px[side], tick = best % 100 ? 1 : 100;
	uint32_t k = LADDER_HOME(side);

	if (best / tick < k)
		k = best / tick;
	memset(ld, 0, sizeof(*ld));
	bk->base[side] = best - k * tick;
	bk->cents[side] = tick == 100;
	bk->misses[side] = 0;
	for (uint32_t li = bk->best[side]; li; li = b->levels[li].worse) {
		uint32_t p = b->levels[li].price;
		int i = ladder_index(bk, side, p);

		if (i >= 0)
			ladder_set(ld, i, li);
		else if (side == BID ? p < bk->base[side]
				     : p - bk->base[side] >= LADDER_SLOTS * tick)
			break; /* past the window on the worse side: so is the rest */
	}
}

/* A ladder for a side that has grown deep (nothing happens if the pool cannot grow). */
static void ladder_attach(struct fg_books *b, struct book *bk, int side)
{
	uint32_t li;

	if (b->ladder_free) {
		li = b->ladder_free;
		b->ladder_free = b->ladders[li].next_free;
	} else {
		if (b->ladder_next >= b->ladder_cap &&
		    pool_grow((void **)&b->ladders, &b->ladders_size, sizeof(*b->ladders),
			      &b->ladder_cap, LADDER_MAX))
			return;
		li = b->ladder_next++;
	}
	bk->ladder[side] = li;
	ladder_fill(b, bk, side);
}

static void ladder_detach(struct fg_books *b, struct book *bk, int side)
{
	uint32_t li = bk->ladder[side];

	b->ladders[li].next_free = b->ladder_free;
	b->ladder_free = li;
	bk->ladder[side] = 0;
}

/*
 * An add that the ladder could not index. Now and then, if the best has
 * left the part of the window where ladder_fill() put it (the market moved,
 * or the book trades on another tick), move the window to it.
 */
COLD void ladder_miss(struct fg_books *b, struct book *bk, int side)
{
	int i, home = LADDER_HOME(side);

	if (++bk->misses[side] < LADDER_REBASE_MISSES)
		return;
	bk->misses[side] = 0;
	i = ladder_index(bk, side, bk->best_px[side]);
	if (i < 0 || i - home > LADDER_SLOTS / 8 || home - i > LADDER_SLOTS / 8)
		ladder_fill(b, bk, side);
}

/* --- levels -------------------------------------------------------------------------------- */

static inline uint32_t dist(uint32_t a, uint32_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * The level at price on one side by walking the side from whichever end is
 * nearer in price; when there is none, 0 and where a new one would go
 * (between *up, better, and *down, worse; 0 = the end of the side).
 */
static inline uint32_t level_walk(const struct fg_books *b, const struct book *bk, int side,
				  uint32_t price, uint32_t *up, uint32_t *down, unsigned int *steps)
{
	uint32_t best = bk->best[side], worst = bk->worst[side], cur, bpx, wpx;

	*up = *down = 0;
	if (!best)
		return 0; /* empty side */
	bpx = bk->best_px[side];
	if (better(side, price, bpx)) {
		*down = best;
		return 0;
	}
	wpx = bk->worst_px[side];
	if (better(side, wpx, price)) {
		*up = worst;
	} else if (dist(price, bpx) <= dist(price, wpx)) {
		for (cur = best; better(side, b->levels[cur].price, price);
		     cur = b->levels[cur].worse)
			++*steps;
		if (b->levels[cur].price == price)
			return cur;
		*down = cur;
		*up = b->levels[cur].better;
	} else {
		for (cur = worst; better(side, price, b->levels[cur].price);
		     cur = b->levels[cur].better)
			++*steps;
		if (b->levels[cur].price == price)
			return cur;
		*up = cur;
		*down = b->levels[cur].worse;
	}
	return 0;
}

/*
 * Where a new level at price (on the ladder at slot i, empty) goes: after
 * the nearest indexed level better than it, or before the nearest worse
 * one, stepping over any off-tick levels in between. 0 if the window is
 * empty (then the caller walks).
 */
static inline int ladder_place(const struct fg_books *b, const struct ladder *ld, int side, int i,
			       uint32_t price, uint32_t *up, uint32_t *down)
{
	int j = side == BID ? bits_above(ld->bits, i) : bits_below(ld->bits, i);
	uint32_t cur, nx;

	if (j >= 0) {
		for (cur = ld->slot[j];
		     (nx = b->levels[cur].worse) && better(side, b->levels[nx].price, price);
		     cur = nx)
			;
		*up = cur;
		*down = b->levels[cur].worse;
		return 1;
	}
	j = side == BID ? bits_below(ld->bits, i) : bits_above(ld->bits, i);
	if (j >= 0) {
		for (cur = ld->slot[j];
		     (nx = b->levels[cur].better) && better(side, price, b->levels[nx].price);
		     cur = nx)
			;
		*down = cur;
		*up = b->levels[cur].better;
		return 1;
	}
	return 0;
}

/* The level at price on one side, or 0 (no side effect: for queries). */
static uint32_t level_find(const struct fg_books *b, const struct book *bk, int side,
			   uint32_t price)
{
	uint32_t up, down;
	unsigned int steps = 0;

	if (bk->ladder[side]) {
		const struct ladder *ld = &b->ladders[bk->ladder[side]];
		int i = ladder_index(bk, side, price);

		if (i >= 0)
			return ld->slot[i];
	}
	return level_walk(b, bk, side, price, &up, &down, &steps);
}

/*
 * A new level at price between up (better) and down (worse; 0 = that end of
 * the side), from the pool, linked, and put on the side's ladder at slot i
 * when i >= 0; 0 if the pool cannot grow.
 */
HOT uint32_t level_new(struct fg_books *b, struct book *bk, uint16_t locate, int side,
		       uint32_t price, uint32_t up, uint32_t down, int i)
{
	struct level *l;
	uint32_t li;

	if (b->level_free) {
		li = b->level_free;
		b->level_free = b->levels[li].worse;
	} else {
		if (b->level_next >= b->level_cap &&
		    pool_grow((void **)&b->levels, &b->levels_size, sizeof(*b->levels),
			      &b->level_cap, b->level_limit))
			return 0;
		li = b->level_next++;
	}
	l = &b->levels[li];
	l->shares = 0;
	l->price = price;
	l->orders = 0;
	l->locate = locate;
	l->side = (uint8_t)side;
	l->better = up;
	l->worse = down;
	if (up) {
		b->levels[up].worse = li;
	} else {
		bk->best[side] = li;
		bk->best_px[side] = price;
	}
	if (down) {
		b->levels[down].better = li;
	} else {
		bk->worst[side] = li;
		bk->worst_px[side] = price;
	}
	b->st.levels_live++;
	if (i >= 0)
		ladder_set(&b->ladders[bk->ladder[side]], i, li);
	return li;
}

/*
 * level_get() for a price behind the best: by the ladder, else by a walk.
 * A call of its own, so that the adds at the touch (most of them) do not
 * pay for its registers.
 */
static __attribute__((noinline)) uint32_t level_get_deep(struct fg_books *b, struct book *bk,
							 uint16_t locate, int side, uint32_t price)
{
	struct ladder *ld = NULL;
	uint32_t up = 0, down = 0, li;
	unsigned int steps = 0;
	int i = -1;

	if (bk->ladder[side]) {
		ld = &b->ladders[bk->ladder[side]];
		i = ladder_index(bk, side, price);
		if (i >= 0) {
			li = ld->slot[i];
			if (li)
				return li;
			if (ladder_place(b, ld, side, i, price, &up, &down))
				return level_new(b, bk, locate, side, price, up, down, i);
		} else {
			ladder_miss(b, bk, side);
			i = ladder_index(bk, side, price); /* the window may have moved */
		}
	}
	li = level_walk(b, bk, side, price, &up, &down, &steps);
	if (!li)
		li = level_new(b, bk, locate, side, price, up, down, i);
	/* A long walk: the side is deep, index it (once; it stays until the side empties). */
	if (li && steps > LADDER_WALK && !ld)
		ladder_attach(b, bk, side);
	return li;
}

/*
 * The level at price on one side of a book, created (from the pool, linked
 * in price order, put on the ladder) when there is none; 0 if the pool
 * cannot grow.
 */
HOT uint32_t level_get(struct fg_books *b, struct book *bk, uint16_t locate, int side,
		       uint32_t price)
{
	uint32_t li = bk->best[side];

	/* Most adds join the best or improve on it: no lookup for those. */
	if (bk->best_px[side] == price) /* an empty side's is 0, never an add's price */
		return li;
	if (!li || better(side, price, bk->best_px[side]))
		return level_new(b, bk, locate, side, price, 0, li,
				 bk->ladder[side] ? ladder_index(bk, side, price) : -1);
	return level_get_deep(b, bk, locate, side, price);
}

static void level_drop(struct fg_books *b, uint32_t li)
{
	struct level *l = &b->levels[li];
	int side = l->side;
	struct book *bk = &b->books[l->locate];

	if (bk->ladder[side]) {
		struct ladder *ld = &b->ladders[bk->ladder[side]];
		int i = ladder_index(bk, side, l->price);

		if (i >= 0)
			ladder_set(ld, i, 0);
	}
	/* Without branches (whether the level is an end of its side is a coin toss on a
	 * thin book): level 0 takes the writes meant for a missing neighbour, and its
	 * price, never written, is the 0 an empty side's end price is. */
	uint32_t up = l->better, down = l->worse;
	uint32_t up_px = b->levels[up].price, down_px = b->levels[down].price;

	b->levels[up].worse = down;
	b->levels[down].better = up;
	bk->best[side] = pick(up, bk->best[side], down);
	bk->best_px[side] = pick(up, bk->best_px[side], down_px);
	bk->worst[side] = pick(down, bk->worst[side], up);
	bk->worst_px[side] = pick(down, bk->worst_px[side], up_px);
	l->worse = b->level_free;
	b->level_free = li;
	b->st.levels_live--;
	if (!bk->best[side] && bk->ladder[side])
		ladder_detach(b, bk, side);
}

static inline void level_report(const struct fg_books *b, const struct level *l)
{
	if (b->cb.on_level)
		b->cb.on_level(b->cb.ctx, l->locate, l->side == BID ? 'B' : 'S', l->price,
			       l->shares, l->orders);
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

/* The callback first: whether a message moved the best is a coin toss, the callback's
 * presence is not. */
static inline void bbo_changed(const struct fg_books *b, uint16_t locate, int top)
{
	if (b->cb.on_bbo && top)
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
	struct level *l;
	uint32_t li;
	int top;

	if (side < 0 || !shares || !price || !locate || !ref) {
		b->st.bad_orders++;
		return -1;
	}
	if (ref <= b->max_ref && order_find(b, ref)) {
		b->st.duplicate_refs++;
		return -1;
	}
	if (b->st.orders_live >= b->st.order_capacity || order_room(b)) {
		b->st.overflows++;
		return -1;
	}
	li = level_get(b, bk, locate, side, price);
	if (!li) { /* the level pool could not grow */
		b->st.overflows++;
		return -1;
	}
	order_insert(b, ref, shares, li);
	if (ref > b->max_ref)
		b->max_ref = ref;
	l = &b->levels[li];
	l->orders++;
	l->shares += shares;
	b->st.adds++;
	b->st.orders_live++;
	b->st.orders_peak += (b->st.orders_live > b->st.orders_peak);
	level_report(b, l);
	/* A new best (a coin toss, so no branch on it): crossed if it reaches the other side
	 * (never, on a consistent feed). */
	top = li == bk->best[side];
	b->st.crossed +=
		(uint64_t)(top & (bk->best[!side] != 0) & !better(side, bk->best_px[!side], price));
	return top;
}

/*
 * Take n shares off order o (n <= its shares); remove it at 0. Returns 1 if
 * its level was the best of its side (the BBO changed).
 */
HOT int order_reduce(struct fg_books *b, struct order *o, uint32_t n)
{
	uint32_t li = o->level;
	struct level *l = &b->levels[li];
	int top = b->cb.on_bbo && li == b->books[l->locate].best[l->side];

	o->shares -= n;
	l->shares -= n;
	if (o->shares) {
		level_report(b, l);
		return top & (n != 0);
	}
	l->orders--;
	level_report(b, l);
	if (!l->orders)
		level_drop(b, li);
	order_release(b, o);
	return top;
}

static inline struct order *lookup_or_count(struct fg_books *b, uint64_t ref)
{
	struct order *o = order_find(b, ref);

	if (!o)
		b->st.unknown_refs++;
	return o;
}

/* Clamp an execution or cancel to the open shares (counted). */
static inline uint32_t clamp(struct fg_books *b, const struct order *o, uint32_t n)
{
	if (n > o->shares) {
		b->st.clamped++;
		return o->shares;
	}
	return n;
}

HOT void on_execute(struct fg_books *b, uint64_t ref, uint32_t n, uint64_t match, int has_price,
		    uint32_t price)
{
	struct order *o = lookup_or_count(b, ref);
	const struct level *l;
	uint16_t locate;
	int top;

	if (!o)
		return;
	b->st.executions++;
	n = clamp(b, o, n);
	l = &b->levels[o->level];
	locate = l->locate;
	if (!has_price)
		price = l->price;
	top = order_reduce(b, o, n);
	if (b->cb.on_trade)
		b->cb.on_trade(b->cb.ctx, locate, price, n, match);
	bbo_changed(b, locate, top);
}

HOT void on_cancel(struct fg_books *b, uint64_t ref, uint32_t n, int all)
{
	struct order *o = lookup_or_count(b, ref);
	uint16_t locate;

	if (!o)
		return;
	if (all) {
		b->st.deletes++;
		n = o->shares;
	} else {
		b->st.cancels++;
		n = clamp(b, o, n);
	}
	locate = b->levels[o->level].locate;
	bbo_changed(b, locate, order_reduce(b, o, n));
}

HOT void on_replace(struct fg_books *b, const struct fg_itch_order_replace *r)
{
	struct order *o = lookup_or_count(b, r->original_order_reference_number);
	const struct level *l;
	uint16_t locate;
	int side, top;

	if (!o)
		return;
	b->st.replaces++;
	l = &b->levels[o->level];
	locate = l->locate;
	side = l->side;
	top = order_reduce(b, o, o->shares);
	top |= order_add(b, r->new_order_reference_number, locate, side, r->shares, r->price) > 0;
	bbo_changed(b, locate, top);
}

/* An A or F message (m->add reads F too: common initial sequence). */
static __attribute__((noinline)) void on_add(struct fg_books *b, const struct fg_itch_msg *m)
{
	bbo_changed(b, m->stock_locate,
		    order_add(b, m->add.order_reference_number, m->stock_locate,
			      side_of(m->add.buy_sell), m->add.shares, m->add.price) > 0);
}

static __attribute__((noinline)) void on_delete(struct fg_books *b, uint64_t ref)
{
	on_cancel(b, ref, 0, 1);
}

static __attribute__((noinline)) void on_other(struct fg_books *b, const struct fg_itch_msg *m);

void fg_books_apply(struct fg_books *b, const struct fg_itch_msg *m)
{
	/* The book the message names (its orders' level says the same on a sound feed): its
	 * line comes in while the order is looked up. */
	PREFETCH(&b->books[m->stock_locate]);
	b->st.messages++;
	/* D and A (most of a feed) first, as two conditional branches ahead of the switch's
	 * indirect jump: the replay was about 2% faster so (the type of consecutive messages
	 * is close to random, and the two branches mispredict less than the jump did). */
	if (m->type == FG_ITCH_ORDER_DELETE) {
		on_delete(b, m->del.order_reference_number);
		return;
	}
	if (m->type == FG_ITCH_ADD_ORDER) {
		on_add(b, m);
		return;
	}
	on_other(b, m);
}

static __attribute__((noinline)) void on_other(struct fg_books *b, const struct fg_itch_msg *m)
{
	switch (m->type) {
	case FG_ITCH_ADD_ORDER_MPID:
		on_add(b, m);
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
 * m->del reads it for all of them), so the far stage prefetches the slot
 * where that reference lives (the primary's for a young or new reference,
 * the secondary's home slot for an old one; a select, not a branch; slot 0
 * for the other types, harmless) and the book of its locate. The near
 * stage, once that slot has arrived, prefetches the order's level as the
 * slot names it and, for an add whose primary slot holds a live order, the
 * secondary slot that order will move to (on a day with 4 million live
 * orders that move was a fifth of the profile until it was prefetched). A
 * stale or empty slot only names other valid memory (indexes are masked
 * into their tables), and a prefetch never faults.
 *
 * The near stage runs only once the secondary has outgrown the L2
 * (NEAR_MIN_SLOTS): its loads of the slots cost more than its prefetches
 * save while the orders it reads are in cache (the generated 20-million-
 * message day, whose secondary stays at 32 Ki slots: the book 6% cheaper
 * without it, and 11% on a day whose book fits the L2), and it is what
 * keeps a day with millions of live orders fast (15% more time without).
 *
 * The near stage also requests an add's ladder slot (computable from the
 * book line, which the far stage requested): in the far stage, for every
 * day, it cost 8% on the generated 20-million-message day, whose ladders
 * stay in cache, while a day with 4 million live orders needs it (13% less
 * elapsed time there); the near stage runs on such days only.
 *
 * Measured and left out (bench/RESULTS.md): prefetching the best level of
 * the add's side, or other distances (8/4, 24/12), changed nothing
 * measurable.
 */
static const uint8_t book_type[256] = {
	/* 2: adds */
	[FG_ITCH_ADD_ORDER] = 2,      [FG_ITCH_ADD_ORDER_MPID] = 2,
	[FG_ITCH_ORDER_EXECUTED] = 1, [FG_ITCH_ORDER_EXECUTED_WITH_PRICE] = 1,
	[FG_ITCH_ORDER_CANCEL] = 1,   [FG_ITCH_ORDER_DELETE] = 1,
	[FG_ITCH_ORDER_REPLACE] = 1,
};

#define PREFETCH_FAR 16
#define PREFETCH_NEAR 8

/*
 * The slot a message's order reference is looked up in first. Selects by
 * mask arithmetic: young and old references come in random order, and a
 * branch here mispredicted often enough to cost more than the prefetch won.
 */
static inline const struct order *batch_slot(const struct fg_books *b, const struct fg_itch_msg *m)
{
	uint64_t ref = m->del.order_reference_number & -(uint64_t) !!book_type[m->type];
	uint64_t age = b->max_ref - ref;
	uintptr_t p = (uintptr_t)&b->pri.o[ref & b->pri.mask];
	uintptr_t q = (uintptr_t)&b->sec.o[sec_home(&b->sec, ref)];
	/* New references (age wrapped) and young ones: the primary. */
	uintptr_t young =
		-(uintptr_t)(((age <= b->pri.mask) & (ref >= b->young_from)) | (age >> 63));

	return (const struct order *)((p & young) | (q & ~young));
}

HOT void prefetch_far(const struct fg_books *b, const struct fg_itch_msg *m)
{
	PREFETCH(batch_slot(b, m));
	PREFETCH(&b->books[m->stock_locate]);
}

HOT void prefetch_near(const struct fg_books *b, const struct fg_itch_msg *m)
{
	const struct order *o = batch_slot(b, m);
	uint32_t li = o->level;
	/* An add whose primary slot holds a live order moves that one to the secondary:
	 * its home there (for any other message, the slot again: no cost). */
	uintptr_t q = (uintptr_t)&b->sec.o[sec_home(&b->sec, o->ref)];
	uintptr_t evict = -(uintptr_t)(book_type[m->type] == 2 && li != 0);

	PREFETCH(&b->levels[li < b->level_cap ? li : 0]);
	PREFETCH((const void *)((q & evict) | ((uintptr_t)o & ~evict)));

	/* An add's ladder slot, from the book's line (requested by the far stage): ladder 0
	 * (none, or not an add) is the null ladder, a slot outside the window wraps into it. */
	const struct book *bk = &b->books[m->stock_locate];
	int side = m->add.buy_sell == 'S';
	uint32_t ld = bk->ladder[side] & -(uint32_t)(book_type[m->type] == 2);
	uint32_t d = m->add.price - bk->base[side];

	PREFETCH(&b->ladders[ld].slot[(bk->cents[side] ? d / 100 : d) % LADDER_SLOTS]);
}

/* The start of a run: what the stages would have requested for its first messages. */
static __attribute__((noinline)) void prefetch_start(const struct fg_books *b,
						     const struct fg_itch_msg *msgs, unsigned int n)
{
	for (unsigned int k = 0; k < n && k < PREFETCH_FAR; k++)
		prefetch_far(b, &msgs[k]);
	for (unsigned int k = 0; k < n && k < PREFETCH_NEAR && b->read_near; k++)
		prefetch_near(b, &msgs[k]);
	/* and the stages' requests for message 0 itself */
	if (PREFETCH_FAR < n)
		prefetch_far(b, &msgs[PREFETCH_FAR]);
	if (PREFETCH_NEAR < n && b->read_near)
		prefetch_near(b, &msgs[PREFETCH_NEAR]);
}

/*
 * Called for every message: the start-up pass is a call of its own that
 * also does message 0's stages, so that the per-message path keeps nothing
 * across a call and needs few registers (with the loops inline it saved and
 * restored six on every call; about 2% of the replay).
 */
void fg_books_prefetch(const struct fg_books *b, const struct fg_itch_msg *msgs, unsigned int n,
		       unsigned int i)
{
	if (__builtin_expect(i == 0, 0)) {
		prefetch_start(b, msgs, n);
		return;
	}
	if (i + PREFETCH_FAR < n)
		prefetch_far(b, &msgs[i + PREFETCH_FAR]);
	if (i + PREFETCH_NEAR < n && b->read_near)
		prefetch_near(b, &msgs[i + PREFETCH_NEAR]);
}

void fg_books_apply_batch(struct fg_books *b, const struct fg_itch_msg *msgs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		fg_books_prefetch(b, msgs, n, i);
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
	const struct order *o = order_find(b, ref);
	const struct level *l;

	if (!o)
		return -ENOENT;
	l = &b->levels[o->level];
	out->ref = ref;
	out->price = l->price;
	out->shares = o->shares;
	out->locate = l->locate;
	out->side = l->side == BID ? 'B' : 'S';
	return 0;
}

/* Keys of a level's orders: age << 32 | table << 31 | slot; the oldest has the largest. */
static void heap_sift(uint64_t *h, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int c = 2 * i + 1, m = i;
		uint64_t t;

		if (c < n && h[c] < h[m])
			m = c;
		if (c + 1 < n && h[c + 1] < h[m])
			m = c + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int cmp_key_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * A scan of both order tables: levels keep no queue (see the top of the
 * file). The max oldest orders are kept in a min-heap built in refs itself
 * (keys first, references at the end), so nothing is allocated.
 */
unsigned int fg_books_level_orders(const struct fg_books *b, uint16_t locate, char side,
				   uint32_t price, uint64_t *refs, unsigned int max)
{
	const struct otable *tables[2] = { &b->pri, &b->sec };
	int sd = side_of(side);
	uint32_t li, want, found = 0;
	unsigned int n = 0;

	if (sd < 0 || !locate || !max)
		return 0;
	li = level_find(b, &b->books[locate], sd, price);
	if (!li)
		return 0;
	want = b->levels[li].orders;
	for (uint64_t t = 0; t < 2; t++) {
		const struct otable *tb = tables[t];

		for (uint64_t s = 0; s <= tb->mask && found < want; s++) {
			uint64_t key;

			if (tb->o[s].level != li)
				continue;
			found++;
			key = (uint64_t)(b->clock - tb->stamp[s]) << 32 | t << 31 | s;
			if (n < max) {
				refs[n++] = key;
				if (n == max)
					for (unsigned int i = max / 2; i-- > 0;)
						heap_sift(refs, n, i);
			} else if (key > refs[0]) {
				refs[0] = key;
				heap_sift(refs, n, 0);
			}
		}
	}
	qsort(refs, n, sizeof(*refs), cmp_key_desc);
	for (unsigned int i = 0; i < n; i++)
		refs[i] = tables[(refs[i] >> 31) & 1]->o[refs[i] & 0x7fffffffu].ref;
	return n;
}
