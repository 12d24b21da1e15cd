// SPDX-License-Identifier: MIT
/*
 * Order books against a naive reference written here (a flat array of
 * orders, levels recomputed by sorting): on generated days every level
 * equals the sum of its orders, queues are in time priority, a delete
 * removes, a replace loses priority, the book is never crossed, and a
 * shadow book built only from the callbacks equals the book. By hand:
 * price order of the top levels, clamped executions, unknown and duplicate
 * references, P and Q leaving the book alone, overflow counted, and the
 * order table's probing with colliding references. fg_books_apply_batch()
 * (which reads ahead to prefetch) against single applies, also on a tiny
 * wrapped table with junk messages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fg_cunit.h"
#include "feedgate/book.h"
#include "feedgate/itch.h"
#include "feedgate/itchgen.h"
#include "feedgate/log.h"

/* --- message builders (decoded form) ------------------------------------------------------- */

/* The constructors return 0 or -errno; a test only wants the object (NULL fails it). */
static struct fg_books *new_books(uint32_t capacity, const struct fg_book_callbacks *cb)
{
	struct fg_books *b = NULL;

	CU_ASSERT_EQUAL(fg_books_new(capacity, cb, &b), 0);
	return b;
}

static struct fg_itchgen *new_itchgen(const struct fg_itchgen_config *cfg)
{
	struct fg_itchgen *g = NULL;

	CU_ASSERT_EQUAL(fg_itchgen_new(cfg, &g), 0);
	return g;
}

static struct fg_itch_msg add_msg(uint64_t ref, uint16_t loc, char side, uint32_t shares,
				  uint32_t price)
{
	struct fg_itch_msg m = { .type = 'A', .stock_locate = loc };

	m.add.order_reference_number = ref;
	m.add.buy_sell = side;
	m.add.shares = shares;
	m.add.price = price;
	memcpy(m.add.stock, "TEST    ", 8);
	return m;
}

static struct fg_itch_msg ref_msg(char type, uint64_t ref, uint32_t shares)
{
	struct fg_itch_msg m = { .type = (uint8_t)type, .stock_locate = 1 };

	switch (type) {
	case 'E':
		m.executed.order_reference_number = ref;
		m.executed.executed_shares = shares;
		m.executed.match_number = 1000 + ref;
		break;
	case 'C':
		m.executed_with_price.order_reference_number = ref;
		m.executed_with_price.executed_shares = shares;
		m.executed_with_price.match_number = 2000 + ref;
		m.executed_with_price.execution_price = 7777;
		break;
	case 'X':
		m.cancel.order_reference_number = ref;
		m.cancel.cancelled_shares = shares;
		break;
	default:
		m.del.order_reference_number = ref;
		break;
	}
	return m;
}

static struct fg_itch_msg replace_msg(uint64_t old, uint64_t new_ref, uint32_t shares,
				      uint32_t price)
{
	struct fg_itch_msg m = { .type = 'U', .stock_locate = 1 };

	m.replace.original_order_reference_number = old;
	m.replace.new_order_reference_number = new_ref;
	m.replace.shares = shares;
	m.replace.price = price;
	return m;
}

static void apply(struct fg_books *b, struct fg_itch_msg m)
{
	fg_books_apply(b, &m);
}

static struct fg_books_stats stats(const struct fg_books *b)
{
	struct fg_books_stats st;

	fg_books_get_stats(b, &st);
	return st;
}

/* --- by hand ------------------------------------------------------------------------------- */

static void test_book_top_levels_in_price_order(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_level lv[8];
	struct fg_bbo bbo;
	const uint32_t bids[] = { 1000, 1010, 990, 1005, 1010 },
		       asks[] = { 1030, 1020, 1050, 1025 };
	unsigned int n;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(fg_books_bbo(b, 1, &bbo), -ENOENT);
	for (unsigned int i = 0; i < 5; i++)
		apply(b, add_msg(1 + i, 1, 'B', 100 * (i + 1), bids[i]));
	for (unsigned int i = 0; i < 4; i++)
		apply(b, add_msg(10 + i, 1, 'S', 10 * (i + 1), asks[i]));
	n = fg_books_top(b, 1, 'B', lv, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(lv[0].price, 1010);
	CU_ASSERT_EQUAL(lv[0].shares, 200 + 500);
	CU_ASSERT_EQUAL(lv[0].orders, 2);
	CU_ASSERT_EQUAL(lv[1].price, 1005);
	CU_ASSERT_EQUAL(lv[2].price, 1000);
	CU_ASSERT_EQUAL(lv[3].price, 990);
	n = fg_books_top(b, 1, 'S', lv, 3); /* depth honoured */
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(lv[0].price, 1020);
	CU_ASSERT_EQUAL(lv[1].price, 1025);
	CU_ASSERT_EQUAL(lv[2].price, 1030);
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'X', lv, 3), 0);
	CU_ASSERT_EQUAL(fg_books_top(b, 2, 'B', lv, 3), 0); /* another book */
	CU_ASSERT_EQUAL(fg_books_bbo(b, 1, &bbo), 0);
	CU_ASSERT_EQUAL(bbo.bid.price, 1010);
	CU_ASSERT_EQUAL(bbo.ask.price, 1020);
	CU_ASSERT_EQUAL(bbo.ask.shares, 20);
	CU_ASSERT_EQUAL(stats(b).levels_live, 8);
	CU_ASSERT_EQUAL(stats(b).crossed, 0);
	/* An add through the offer is counted as a crossed book. */
	apply(b, add_msg(20, 1, 'B', 1, 1020));
	CU_ASSERT_EQUAL(stats(b).crossed, 1);
	fg_books_free(b);
}

static void test_book_execution_is_clamped_to_open_shares(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_order o;
	struct fg_level lv[2];

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(5, 1, 'S', 300, 5000));
	apply(b, add_msg(6, 1, 'S', 100, 5000));
	apply(b, ref_msg('E', 5, 100));
	CU_ASSERT_EQUAL(fg_books_order(b, 5, &o), 0);
	CU_ASSERT_EQUAL(o.shares, 200);
	apply(b, ref_msg('X', 5, 50));
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'S', lv, 2), 1);
	CU_ASSERT_EQUAL(lv[0].shares, 150 + 100);
	apply(b, ref_msg('C', 5, 1000)); /* more than open: clamped, order gone */
	CU_ASSERT_EQUAL(stats(b).clamped, 1);
	CU_ASSERT_EQUAL(fg_books_order(b, 5, &o), -ENOENT);
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'S', lv, 2), 1);
	CU_ASSERT_EQUAL(lv[0].shares, 100);
	CU_ASSERT_EQUAL(lv[0].orders, 1);
	apply(b, ref_msg('X', 6, 100)); /* cancel to 0 removes, and the level with it */
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'S', lv, 2), 0);
	CU_ASSERT_EQUAL(stats(b).orders_live, 0);
	CU_ASSERT_EQUAL(stats(b).levels_live, 0);
	CU_ASSERT_EQUAL(stats(b).executions, 2);
	CU_ASSERT_EQUAL(stats(b).cancels, 2);
	fg_books_free(b);
}

static void test_book_replace_loses_time_priority(void)
{
	struct fg_books *b = new_books(64, NULL);
	uint64_t refs[4];
	struct fg_order o;

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(1, 1, 'B', 100, 900));
	apply(b, add_msg(2, 1, 'B', 100, 900));
	apply(b, add_msg(3, 1, 'B', 100, 900));
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'B', 900, refs, 4), 3);
	CU_ASSERT_EQUAL(refs[0], 1);
	/* Same price, fewer shares: still to the back of the queue with a new reference. */
	apply(b, replace_msg(1, 4, 50, 900));
	CU_ASSERT_EQUAL_FATAL(fg_books_level_orders(b, 1, 'B', 900, refs, 4), 3);
	CU_ASSERT_EQUAL(refs[0], 2);
	CU_ASSERT_EQUAL(refs[1], 3);
	CU_ASSERT_EQUAL(refs[2], 4);
	CU_ASSERT_EQUAL(fg_books_order(b, 1, &o), -ENOENT);
	CU_ASSERT_EQUAL(fg_books_order(b, 4, &o), 0);
	CU_ASSERT_EQUAL(o.side, 'B');
	CU_ASSERT_EQUAL(o.locate, 1);
	CU_ASSERT_EQUAL(o.shares, 50);
	/* To another price: a new level, the old one keeps the others. */
	apply(b, replace_msg(2, 5, 70, 905));
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'B', 905, refs, 4), 1);
	CU_ASSERT_EQUAL(refs[0], 5);
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'B', 900, refs, 4), 2);
	CU_ASSERT_EQUAL(stats(b).replaces, 2);
	fg_books_free(b);
}

static void test_book_delete_removes_and_unknown_refs_are_counted(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_order o;

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(9, 1, 'S', 100, 1200));
	apply(b, ref_msg('D', 9, 0));
	CU_ASSERT_EQUAL(fg_books_order(b, 9, &o), -ENOENT);
	CU_ASSERT_EQUAL(stats(b).deletes, 1);
	apply(b, ref_msg('D', 9, 0));
	apply(b, ref_msg('E', 77, 10));
	apply(b, ref_msg('X', 78, 10));
	apply(b, ref_msg('C', 79, 10));
	apply(b, replace_msg(80, 81, 10, 1200));
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 5);
	CU_ASSERT_EQUAL(fg_books_order(b, 81, &o), -ENOENT); /* no replace of nothing */
	CU_ASSERT_EQUAL(stats(b).orders_live, 0);
	fg_books_free(b);
}

static void test_book_rejects_duplicate_and_bad_adds(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_level lv[2];

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(3, 1, 'B', 100, 1000));
	apply(b, add_msg(3, 1, 'B', 100, 1000)); /* duplicate, same reference */
	apply(b, add_msg(2, 1, 'B', 100, 1000));
	apply(b, add_msg(2, 1, 'B', 100, 1000)); /* duplicate below the highest reference */
	apply(b, add_msg(4, 1, 'Z', 100, 1000)); /* bad side */
	apply(b, add_msg(5, 1, 'B', 0, 1000)); /* no shares */
	apply(b, add_msg(6, 1, 'B', 100, 0)); /* no price */
	apply(b, add_msg(7, 0, 'B', 100, 1000)); /* market-wide locate */
	CU_ASSERT_EQUAL(stats(b).duplicate_refs, 2);
	CU_ASSERT_EQUAL(stats(b).bad_orders, 4);
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'B', lv, 2), 1);
	CU_ASSERT_EQUAL(lv[0].shares, 200);
	CU_ASSERT_EQUAL(lv[0].orders, 2);
	/* A replace onto a live reference removes the original, adds nothing. */
	apply(b, replace_msg(2, 3, 50, 1000));
	CU_ASSERT_EQUAL(stats(b).duplicate_refs, 3);
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'B', lv, 2), 1);
	CU_ASSERT_EQUAL(lv[0].shares, 100);
	fg_books_free(b);
}

static void test_book_trades_do_not_change_the_book(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_itch_msg p = { .type = 'P', .stock_locate = 1 },
			   q = { .type = 'Q', .stock_locate = 1 };
	struct fg_level lv[2];

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(1, 1, 'B', 100, 1000));
	p.trade.order_reference_number = 1; /* even naming a live order */
	p.trade.shares = 100;
	p.trade.price = 1000;
	p.trade.buy_sell = 'B';
	q.cross_trade.shares = 5000000000ull;
	q.cross_trade.cross_price = 1000;
	fg_books_apply(b, &p);
	fg_books_apply(b, &q);
	CU_ASSERT_EQUAL(fg_books_top(b, 1, 'B', lv, 2), 1);
	CU_ASSERT_EQUAL(lv[0].shares, 100);
	CU_ASSERT_EQUAL(stats(b).trades, 2);
	CU_ASSERT_EQUAL(stats(b).messages, 3);
	fg_books_free(b);
}

static void test_book_names_instruments_from_r(void)
{
	struct fg_books *b = new_books(64, NULL);
	struct fg_itch_msg r = { .type = 'R', .stock_locate = 4242 };
	char sym[9];

	CU_ASSERT_FATAL(b != NULL);
	memcpy(r.stock_directory.stock, "AAPL    ", 8);
	CU_ASSERT_EQUAL(fg_books_locate_of(b, "AAPL"), -ENOENT);
	fg_books_apply(b, &r);
	CU_ASSERT_EQUAL(fg_books_locate_of(b, "AAPL"), 4242);
	CU_ASSERT_EQUAL(fg_books_locate_of(b, "AAP"), -ENOENT);
	CU_ASSERT_EQUAL(fg_books_locate_of(b, "TOOLONGSYM"), -ENOENT);
	CU_ASSERT_EQUAL(fg_books_symbol(b, 4242, sym), 0);
	CU_ASSERT_STRING_EQUAL(sym, "AAPL");
	CU_ASSERT_EQUAL(fg_books_symbol(b, 4243, sym), -ENOENT);
	fg_books_free(b);
}

/* --- callbacks ----------------------------------------------------------------------------- */

struct rec {
	char log[64][64];
	unsigned int n;
};

static void rec_level(void *ctx, uint16_t loc, char side, uint32_t price, uint64_t shares,
		      uint32_t orders)
{
	struct rec *r = ctx;

	if (r->n < 64)
		snprintf(r->log[r->n++], 64, "L %u %c %u %llu %u", loc, side, price,
			 (unsigned long long)shares, orders);
}

static void rec_bbo(void *ctx, uint16_t loc, uint32_t bid, uint64_t bs, uint32_t ask, uint64_t as)
{
	struct rec *r = ctx;

	if (r->n < 64)
		snprintf(r->log[r->n++], 64, "B %u %u %llu %u %llu", loc, bid,
			 (unsigned long long)bs, ask, (unsigned long long)as);
}

static void rec_trade(void *ctx, uint16_t loc, uint32_t price, uint64_t shares, uint64_t match)
{
	struct rec *r = ctx;

	if (r->n < 64)
		snprintf(r->log[r->n++], 64, "T %u %u %llu %llu", loc, price,
			 (unsigned long long)shares, (unsigned long long)match);
}

static void test_book_callbacks_report_levels_bbo_and_trades(void)
{
	static struct rec r;
	const struct fg_book_callbacks cb = { &r, rec_level, rec_bbo, rec_trade };
	struct fg_books *b = new_books(64, &cb);
	static const char *const want[] = {
		"L 1 B 1000 100 1", "B 1 1000 100 0 0", /* A 1 */
		"L 1 B 990 50 1", /* A 2: below the best, no BBO change */
		"L 1 S 1010 30 1",  "B 1 1000 100 1010 30", /* A 3 */
		"L 1 B 1000 60 1",  "T 1 1000 40 1001",	    "B 1 1000 60 1010 30", /* E 1 40 */
		"L 1 S 1010 0 0",   "T 1 7777 30 2003",	    "B 1 1000 60 0 0", /* C 3 all */
		"L 1 B 1000 0 0",   "L 1 B 995 60 1",	    "B 1 995 60 0 0", /* U 1->4 */
		"L 1 B 990 40 1", /* X 2 10 */
	};
	const unsigned int nw = sizeof(want) / sizeof(want[0]);

	CU_ASSERT_FATAL(b != NULL);
	apply(b, add_msg(1, 1, 'B', 100, 1000));
	apply(b, add_msg(2, 1, 'B', 50, 990));
	apply(b, add_msg(3, 1, 'S', 30, 1010));
	apply(b, ref_msg('E', 1, 40));
	apply(b, ref_msg('C', 3, 30));
	apply(b, replace_msg(1, 4, 60, 995));
	apply(b, ref_msg('X', 2, 10));
	CU_ASSERT_EQUAL(r.n, nw);
	for (unsigned int i = 0; i < nw && i < r.n; i++) {
		if (strcmp(r.log[i], want[i]))
			printf("\n    event %u: got '%s', want '%s' ", i, r.log[i], want[i]);
		CU_ASSERT_STRING_EQUAL(r.log[i], want[i]);
	}
	fg_books_free(b);
}

/* --- the naive reference ------------------------------------------------------------------- */

struct ref_order {
	uint64_t seq; /* time priority: when it entered its level */
	uint32_t price, shares;
	uint16_t locate;
	char side;
	uint8_t live;
};

struct ref_book {
	struct ref_order *o; /* by order reference (generated references are dense from 1) */
	uint64_t cap, clock, live;
	uint64_t traded_shares, trades;
	unsigned int lifecycle_errors;
};

static int ref_apply(struct ref_book *r, const struct fg_itch_msg *m)
{
	struct ref_order *o;
	uint64_t ref;
	uint32_t n;

	switch (m->type) {
	case 'A':
	case 'F':
		ref = m->add.order_reference_number;
		if (ref >= r->cap || r->o[ref].live) {
			r->lifecycle_errors++;
			return -1;
		}
		r->o[ref] = (struct ref_order){ ++r->clock,	 m->add.price,	  m->add.shares,
						m->stock_locate, m->add.buy_sell, 1 };
		r->live++;
		return 0;
	case 'E':
	case 'C':
	case 'X':
	case 'D':
		ref = m->type == 'X'   ? m->cancel.order_reference_number
		      : m->type == 'D' ? m->del.order_reference_number
				       : m->executed.order_reference_number;
		if (ref >= r->cap || !r->o[ref].live || r->o[ref].locate != m->stock_locate) {
			r->lifecycle_errors++;
			return -1;
		}
		o = &r->o[ref];
		n = m->type == 'X'   ? m->cancel.cancelled_shares
		    : m->type == 'D' ? o->shares
				     : m->executed.executed_shares;
		if (n > o->shares || n == 0) {
			r->lifecycle_errors++;
			return -1;
		}
		if (m->type == 'E' || m->type == 'C') {
			r->traded_shares += n;
			r->trades++;
		}
		o->shares -= n;
		if (!o->shares) {
			o->live = 0;
			r->live--;
		}
		return 0;
	case 'U':
		ref = m->replace.original_order_reference_number;
		if (ref >= r->cap || !r->o[ref].live || r->o[ref].locate != m->stock_locate ||
		    m->replace.new_order_reference_number >= r->cap ||
		    r->o[m->replace.new_order_reference_number].live) {
			r->lifecycle_errors++;
			return -1;
		}
		o = &r->o[ref];
		o->live = 0;
		r->o[m->replace.new_order_reference_number] =
			(struct ref_order){ ++r->clock, m->replace.price, m->replace.shares,
					    o->locate,	o->side,	  1 };
		return 0;
	case 'P':
		r->traded_shares += m->trade.shares;
		r->trades++;
		return 0;
	case 'Q':
		r->traded_shares += m->cross_trade.shares;
		r->trades++;
		return 0;
	default:
		return 0;
	}
}

static const struct ref_book *sort_ref;

/* By book, side, price best first, then time. */
static int cmp_live(const void *a, const void *b)
{
	const struct ref_order *x = &sort_ref->o[*(const uint64_t *)a];
	const struct ref_order *y = &sort_ref->o[*(const uint64_t *)b];

	if (x->locate != y->locate)
		return x->locate < y->locate ? -1 : 1;
	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->price != y->price)
		return (x->side == 'B') == (x->price > y->price) ? -1 : 1;
	return x->seq < y->seq ? -1 : 1;
}

/* A shadow book made only of what the callbacks said. */
#define SHADOW (1u << 20)
struct shadow {
	uint64_t key[SHADOW];
	uint64_t shares[SHADOW];
	uint32_t orders[SHADOW];
	uint32_t bbo_bid[65536], bbo_ask[65536];
	uint64_t bbo_bid_sh[65536], bbo_ask_sh[65536];
	uint64_t traded_shares, trades, levels;
	unsigned int errors;
};

static uint32_t shadow_slot(struct shadow *s, uint64_t key)
{
	uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 44);

	while (s->key[i] && s->key[i] != key)
		i = (i + 1) & (SHADOW - 1);
	return i;
}

static uint64_t skey(uint16_t loc, char side, uint32_t price)
{
	return ((uint64_t)loc << 34) | ((uint64_t)(side == 'S') << 33) | (1ull << 32) | price;
}

static void sh_level(void *ctx, uint16_t loc, char side, uint32_t price, uint64_t shares,
		     uint32_t orders)
{
	struct shadow *s = ctx;
	uint32_t i = shadow_slot(s, skey(loc, side, price));

	/* Removed levels keep their key (deleting would break the probe chains): orders 0. */
	s->key[i] = skey(loc, side, price);
	if (!s->orders[i] && orders)
		s->levels++;
	if (s->orders[i] && !orders)
		s->levels--;
	if (!orders && shares)
		s->errors++;
	s->shares[i] = shares;
	s->orders[i] = orders;
}

static void sh_bbo(void *ctx, uint16_t loc, uint32_t bid, uint64_t bs, uint32_t ask, uint64_t as)
{
	struct shadow *s = ctx;

	s->bbo_bid[loc] = bid;
	s->bbo_bid_sh[loc] = bs;
	s->bbo_ask[loc] = ask;
	s->bbo_ask_sh[loc] = as;
}

static void sh_trade(void *ctx, uint16_t loc, uint32_t price, uint64_t shares, uint64_t match)
{
	struct shadow *s = ctx;

	(void)loc;
	(void)price;
	(void)match;
	s->traded_shares += shares;
	s->trades++;
}

/* Compare every book with the reference and the shadow; returns the number of differences. */
static unsigned int full_check(const struct fg_books *b, const struct ref_book *r,
			       struct shadow *sh, uint32_t nsym)
{
	static struct fg_level lv[4096];
	static uint64_t q[4096];
	uint64_t *live = malloc(r->live * sizeof(*live) + 8), n = 0, nlevels = 0;
	unsigned int bad = 0;
	struct fg_books_stats st;

	for (uint64_t ref = 1; ref < r->cap; ref++)
		if (r->o[ref].live)
			live[n++] = ref;
	if (n != r->live)
		bad++;
	sort_ref = r;
	qsort(live, n, sizeof(*live), cmp_live);
	for (uint64_t i = 0; i < n;) {
		/* One (locate, side): its levels, best first. */
		const struct ref_order *o = &r->o[live[i]];
		uint16_t loc = o->locate;
		char side = o->side;
		unsigned int nl = fg_books_top(b, loc, side, lv, 4096), k = 0;

		while (i < n && r->o[live[i]].locate == loc && r->o[live[i]].side == side) {
			uint32_t price = r->o[live[i]].price;
			uint64_t shares = 0;
			uint32_t orders = 0, nq;

			nq = fg_books_level_orders(b, loc, side, price, q, 4096);
			for (; i < n && r->o[live[i]].locate == loc && r->o[live[i]].side == side &&
			       r->o[live[i]].price == price;
			     i++) {
				/* Queue position = time priority. */
				if (orders >= nq || q[orders] != live[i])
					bad++;
				shares += r->o[live[i]].shares;
				orders++;
			}
			if (k >= nl || lv[k].price != price || lv[k].shares != shares ||
			    lv[k].orders != orders || nq != orders)
				bad++;
			else {
				/* The callbacks told the same story. */
				uint32_t s = shadow_slot(sh, skey(loc, side, price));

				if (sh->shares[s] != shares || sh->orders[s] != orders)
					bad++;
			}
			k++;
			nlevels++;
		}
		if (k != nl)
			bad++;
	}
	/* Books the reference has nothing in are empty; none is crossed; BBO as reported. */
	for (uint32_t loc = 1; loc <= nsym; loc++) {
		struct fg_bbo bbo;
		int have = fg_books_bbo(b, (uint16_t)loc, &bbo) == 0;

		if (have && bbo.bid.orders && bbo.ask.orders && bbo.bid.price >= bbo.ask.price)
			bad++;
		if (!have)
			memset(&bbo, 0, sizeof(bbo));
		if (sh->bbo_bid[loc] != bbo.bid.price || sh->bbo_ask[loc] != bbo.ask.price ||
		    sh->bbo_bid_sh[loc] != bbo.bid.shares || sh->bbo_ask_sh[loc] != bbo.ask.shares)
			bad++;
	}
	fg_books_get_stats(b, &st);
	if (st.orders_live != n || st.levels_live != nlevels || sh->levels != nlevels ||
	    st.crossed || st.unknown_refs || st.clamped || st.duplicate_refs || st.bad_orders ||
	    st.overflows)
		bad++;
	if (sh->trades != r->trades || sh->traded_shares != r->traded_shares || sh->errors)
		bad++;
	free(live);
	return bad;
}

static void test_book_matches_naive_reference_on_generated_day(void)
{
	const unsigned int nmsg = 1000000, nsym = 1500;
	struct fg_itchgen_config cfg = { .seed = 4242, .symbols = nsym };
	struct fg_itchgen *g = new_itchgen(&cfg);
	static struct shadow sh;
	const struct fg_book_callbacks cb = { &sh, sh_level, sh_bbo, sh_trade };
	struct fg_books *b = new_books(1u << 18, &cb);
	struct ref_book r = { .cap = nmsg + 2 };
	unsigned int bad = 0, decode_errors = 0, checks = 0, removed_ok = 0, priority_ok = 0;
	uint64_t counts[256] = { 0 };
	uint8_t buf[64];

	r.o = calloc(r.cap, sizeof(*r.o));
	CU_ASSERT_FATAL(g && b && r.o);
	for (unsigned int i = 0; i < nmsg; i++) {
		size_t len = fg_itchgen_next(g, buf, sizeof(buf));
		struct fg_itch_msg m;
		struct fg_order o;

		if (fg_itch_decode(buf, len, &m)) {
			decode_errors++;
			continue;
		}
		counts[m.type]++;
		ref_apply(&r, &m);
		fg_books_apply(b, &m);
		/* A delete removes; a replace puts the new order at the back of its queue. */
		if (m.type == 'D')
			removed_ok +=
				fg_books_order(b, m.del.order_reference_number, &o) == -ENOENT;
		if (m.type == 'U') {
			static uint64_t q[4096];
			uint64_t nr = m.replace.new_order_reference_number;
			unsigned int nq;

			if (fg_books_order(b, nr, &o) == 0 &&
			    fg_books_order(b, m.replace.original_order_reference_number, &o) ==
				    -ENOENT) {
				fg_books_order(b, nr, &o);
				nq = fg_books_level_orders(b, o.locate, o.side, o.price, q, 4096);
				priority_ok += nq > 0 && nq < 4096 && q[nq - 1] == nr;
			}
		}
		if (i % 100000 == 99999) {
			bad += full_check(b, &r, &sh, nsym);
			checks++;
		}
	}
	bad += full_check(b, &r, &sh, nsym);
	printf("\n    %u messages, %u checks, %llu orders live, %llu D, %llu U ", nmsg, checks + 1,
	       (unsigned long long)r.live, (unsigned long long)counts['D'],
	       (unsigned long long)counts['U']);
	CU_ASSERT_EQUAL(decode_errors, 0);
	CU_ASSERT_EQUAL(r.lifecycle_errors, 0); /* the generator's lifecycles are consistent */
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(removed_ok, counts['D']);
	CU_ASSERT_EQUAL(priority_ok, counts['U']);
	CU_ASSERT_TRUE(r.live > 1000);
	fg_itchgen_free(g);
	fg_books_free(b);
	free(r.o);
}

/* Levels equal the sum of their orders, whatever was dropped. */
static unsigned int self_consistent(const struct fg_books *b, uint32_t nsym, uint64_t *orders_seen)
{
	static struct fg_level lv[4096];
	static uint64_t q[4096];
	unsigned int bad = 0;

	*orders_seen = 0;
	for (uint32_t loc = 1; loc <= nsym; loc++) {
		for (int s = 0; s < 2; s++) {
			char side = s ? 'S' : 'B';
			unsigned int nl = fg_books_top(b, (uint16_t)loc, side, lv, 4096);

			for (unsigned int k = 0; k < nl; k++) {
				unsigned int nq = fg_books_level_orders(b, (uint16_t)loc, side,
									lv[k].price, q, 4096);
				uint64_t shares = 0;

				for (unsigned int j = 0; j < nq; j++) {
					struct fg_order o;

					if (fg_books_order(b, q[j], &o) || o.price != lv[k].price ||
					    o.side != side || o.locate != loc || !o.shares)
						bad++;
					else
						shares += o.shares;
				}
				if (nq != lv[k].orders || shares != lv[k].shares ||
				    (k && (s ? lv[k].price <= lv[k - 1].price
					     : lv[k].price >= lv[k - 1].price)))
					bad++;
				*orders_seen += nq;
			}
		}
	}
	return bad;
}

static void test_book_overflow_is_counted_not_fatal(void)
{
	const uint32_t nsym = 200, cap = 1000;
	struct fg_itchgen_config cfg = { .seed = 9, .symbols = nsym };
	struct fg_itchgen *g = new_itchgen(&cfg);
	struct fg_books *b = new_books(cap, NULL);
	struct fg_books_stats st;
	uint64_t seen;
	uint8_t buf[64];

	CU_ASSERT_FATAL(g && b);
	for (unsigned int i = 0; i < 300000; i++) {
		size_t len = fg_itchgen_next(g, buf, sizeof(buf));
		struct fg_itch_msg m;

		if (fg_itch_decode(buf, len, &m) == 0)
			fg_books_apply(b, &m);
	}
	fg_books_get_stats(b, &st);
	printf("\n    overflows %llu, unknown refs %llu, live %llu ",
	       (unsigned long long)st.overflows, (unsigned long long)st.unknown_refs,
	       (unsigned long long)st.orders_live);
	CU_ASSERT_TRUE(st.overflows > 0);
	CU_ASSERT_TRUE(st.unknown_refs > 0); /* later messages for the dropped orders */
	CU_ASSERT_TRUE(st.orders_live <= cap);
	CU_ASSERT_EQUAL(st.orders_peak, cap);
	CU_ASSERT_EQUAL(self_consistent(b, nsym, &seen), 0);
	CU_ASSERT_EQUAL(seen, st.orders_live);
	fg_itchgen_free(g);
	fg_books_free(b);
}

/* Many references landing on the same slots of a small table, in any order. */
static void test_book_colliding_references_against_reference(void)
{
	const uint32_t cap = 16; /* table of 32 slots */
	struct fg_books *b = new_books(cap, NULL);
	struct {
		uint64_t ref;
		uint32_t shares;
	} live[64];
	unsigned int nlive = 0, bad = 0;
	uint64_t x = 88172645463325252ull, next_ref = 1, seen;

	CU_ASSERT_FATAL(b != NULL);
	for (int step = 0; step < 200000; step++) {
		uint32_t r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = (uint32_t)(x >> 32);
		if (nlive < cap && (r % 3 == 0 || !nlive)) {
			/* Mostly increasing references 32 apart (same slot), sometimes old ones. */
			uint64_t ref = r % 7 ? (next_ref += 32) : 1 + r % (next_ref + 1);
			int dup = 0;

			for (unsigned int i = 0; i < nlive; i++)
				dup |= live[i].ref == ref;
			apply(b, add_msg(ref, 1, 'B', 10 + r % 90, 100 + r % 5));
			if (!dup) {
				live[nlive].ref = ref;
				live[nlive++].shares = 10 + r % 90;
			}
		} else {
			unsigned int i = r % nlive;

			apply(b, ref_msg(r & 1 ? 'D' : 'X', live[i].ref, 5));
			if (r & 1 || live[i].shares <= 5)
				live[i] = live[--nlive];
			else
				live[i].shares -= 5;
		}
		if (step % 1000 == 0) {
			for (unsigned int i = 0; i < nlive; i++) {
				struct fg_order o;

				if (fg_books_order(b, live[i].ref, &o) ||
				    o.shares != live[i].shares)
					bad++;
			}
			if (stats(b).orders_live != nlive)
				bad++;
			bad += self_consistent(b, 1, &seen);
		}
	}
	printf("\n    max probe %u ", stats(b).max_probe);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 0);
	CU_ASSERT_EQUAL(stats(b).overflows, 0);
	fg_books_free(b);
}

/* A digest of every callback, in order: two books that report alike have equal digests. */
static void digest(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * 0x100000001b3ull;
}

static void dig_level(void *ctx, uint16_t loc, char side, uint32_t price, uint64_t shares,
		      uint32_t orders)
{
	digest(ctx, 1);
	digest(ctx, loc);
	digest(ctx, (uint64_t)side);
	digest(ctx, price);
	digest(ctx, shares);
	digest(ctx, orders);
}

static void dig_bbo(void *ctx, uint16_t loc, uint32_t bid, uint64_t bs, uint32_t ask, uint64_t as)
{
	digest(ctx, 2);
	digest(ctx, loc);
	digest(ctx, bid);
	digest(ctx, bs);
	digest(ctx, ask);
	digest(ctx, as);
}

static void dig_trade(void *ctx, uint16_t loc, uint32_t price, uint64_t shares, uint64_t match)
{
	digest(ctx, 3);
	digest(ctx, loc);
	digest(ctx, price);
	digest(ctx, shares);
	digest(ctx, match);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The batch's prefetch stages read slots and levels that later messages
 * name before those messages are applied, following probes through a
 * wrapped table: on a tiny table (128 slots) full of colliding references,
 * tombstones and overflows, with junk messages of any type byte and any
 * content mixed in, batches of every size from 1 to 40 must give the same
 * books, lookups, counters and callbacks as single applies.
 */
/*
 * Where two books built from the same messages differ: the levels of both
 * sides of locates 0..maxloc (up to depth each) and the orders of
 * references first..last. Returns how many differ.
 */
static unsigned int books_differ(const struct fg_books *one, const struct fg_books *many,
				 uint32_t maxloc, unsigned int depth, uint64_t first, uint64_t last)
{
	static struct fg_level a[1024], c[1024];
	unsigned int bad = 0;

	for (uint32_t loc = 0; loc <= maxloc; loc++) {
		for (int s = 0; s < 2; s++) {
			unsigned int na = fg_books_top(one, (uint16_t)loc, s ? 'S' : 'B', a, depth);
			unsigned int nc =
				fg_books_top(many, (uint16_t)loc, s ? 'S' : 'B', c, depth);

			if (na != nc || memcmp(a, c, na * sizeof(*a)))
				bad++;
		}
	}
	for (uint64_t ref = first; ref <= last; ref++) {
		struct fg_order oa, oc;
		int ra, rc;

		memset(&oa, 0, sizeof(oa));
		memset(&oc, 0, sizeof(oc));
		ra = fg_books_order(one, ref, &oa);
		rc = fg_books_order(many, ref, &oc);
		if (ra != rc || memcmp(&oa, &oc, sizeof(oa)))
			bad++;
	}
	return bad;
}

static void test_book_batch_equals_single_on_colliding_table_with_junk(void)
{
	const uint32_t n = 60000, cap = 64;
	uint64_t h1 = 14695981039346656037ull, h2 = h1, x = 0x9e3779b97f4a7c15ull, next = 1;
	struct fg_book_callbacks c1 = { &h1, dig_level, dig_bbo, dig_trade };
	struct fg_book_callbacks c2 = { &h2, dig_level, dig_bbo, dig_trade };
	struct fg_books *one = new_books(cap, &c1), *many = new_books(cap, &c2);
	struct fg_itch_msg *m = calloc(n, sizeof(*m));
	uint64_t live[2 * 64] = { 0 }; /* references live in `one`, oldest first */
	unsigned int nlive = 0, bad = 0;
	struct fg_books_stats sa, sc;
	struct fg_order o;

	CU_ASSERT_FATAL(one && many && m);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t r = xorshift(&x), k = r % 100, target = 0;
		unsigned int pick = 0;

		/* an order the others name: mostly a recent one, some anywhere, some none */
		if (nlive) {
			pick = (r >> 8) % 10 < 7 ? nlive - 1 - (unsigned int)((r >> 12) % 4) % nlive
						 : (unsigned int)((r >> 12) % nlive);
			target = (r >> 20) % 20 ? live[pick] : live[pick] + 128;
		}
		if (k < 38) {
			m[i] = add_msg(next++, (uint16_t)(1 + (r >> 24) % 5),
				       (r >> 32) & 1 ? 'S' : 'B', 1 + (uint32_t)((r >> 40) % 300),
				       100 + (uint32_t)((r >> 48) % 12));
			if (k == 0) /* far ahead: the table wraps, and the reference collides */
				m[i].add.order_reference_number =
					(next += 128 * (1 + (r >> 56) % 4));
		} else if (k < 70) {
			m[i] = ref_msg('D', target, 0);
		} else if (k < 78) {
			m[i] = ref_msg((r >> 8) & 1 ? 'E' : 'X', target,
				       (uint32_t)((r >> 24) % 200));
		} else if (k < 82) {
			m[i] = ref_msg('C', target, (uint32_t)((r >> 24) % 200));
		} else if (k < 94) {
			m[i] = replace_msg(target, next++, 1 + (uint32_t)((r >> 40) % 300),
					   100 + (uint32_t)((r >> 48) % 12));
		} else {
			/* junk: any type byte, any locate, any content */
			uint8_t *p = (uint8_t *)&m[i];

			for (size_t j = 0; j < sizeof(m[i]); j++)
				p[j] = (uint8_t)xorshift(&x);
		}
		fg_books_apply(one, &m[i]);
		/* keep the list of live references up to date */
		if (nlive && fg_books_order(one, live[pick], &o)) {
			memmove(&live[pick], &live[pick + 1], (nlive - pick - 1) * sizeof(*live));
			nlive--;
		}
		if ((k < 38 || (k >= 82 && k < 94)) && nlive < 2 * cap &&
		    !fg_books_order(one,
				    m[i].type == 'U' ? m[i].replace.new_order_reference_number
						     : m[i].add.order_reference_number,
				    &o))
			live[nlive++] = o.ref;
	}
	for (uint32_t i = 0, len = 1; i < n; i += len, len = len % 40 + 1)
		fg_books_apply_batch(many, m + i, n - i < len ? n - i : len);
	bad = books_differ(one, many, 65535, 256, 0, next);
	fg_books_get_stats(one, &sa);
	fg_books_get_stats(many, &sc);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(memcmp(&sa, &sc, sizeof(sa)), 0);
	CU_ASSERT_EQUAL(h1, h2);
	/* the run went where it meant to: probes, overflows, unknown references, removals */
	CU_ASSERT_TRUE(sa.max_probe >= 2);
	CU_ASSERT_TRUE(sa.overflows > 0);
	CU_ASSERT_TRUE(sa.unknown_refs > 0);
	CU_ASSERT_TRUE(sa.deletes > 1000 && sa.replaces > 1000 && sa.executions > 100);
	free(m);
	fg_books_free(one);
	fg_books_free(many);
}

/* fg_books_apply_batch() is n calls of fg_books_apply(): same books, same counters. */
static void test_book_batch_apply_equals_single_apply(void)
{
	const uint32_t nsym = 300, n = 200000, batch = 333;
	struct fg_itchgen_config cfg = { .seed = 5, .symbols = nsym };
	struct fg_itchgen *g = new_itchgen(&cfg);
	struct fg_books *one = new_books(4000, NULL), *many = new_books(4000, NULL);
	struct fg_itch_msg *m = calloc(n, sizeof(*m));
	static struct fg_level a[4096], c[4096];
	struct fg_books_stats sa, sc;
	unsigned int bad = 0;
	uint8_t buf[64];

	CU_ASSERT_FATAL(g && one && many && m);
	for (uint32_t i = 0; i < n; i++) {
		size_t len = fg_itchgen_next(g, buf, sizeof(buf));

		CU_ASSERT_EQUAL(fg_itch_decode(buf, len, &m[i]), 0);
		/* Some junk too: unknown references, clamps, duplicates. */
		if (i % 1000 == 7 && m[i].type == 'D')
			m[i].del.order_reference_number += 5;
		fg_books_apply(one, &m[i]);
	}
	for (uint32_t i = 0; i < n; i += batch)
		fg_books_apply_batch(many, m + i, n - i < batch ? n - i : batch);
	for (uint32_t loc = 1; loc <= nsym; loc++) {
		for (int s = 0; s < 2; s++) {
			unsigned int na = fg_books_top(one, (uint16_t)loc, s ? 'S' : 'B', a, 4096);
			unsigned int nc = fg_books_top(many, (uint16_t)loc, s ? 'S' : 'B', c, 4096);

			if (na != nc || memcmp(a, c, na * sizeof(*a)))
				bad++;
		}
	}
	fg_books_get_stats(one, &sa);
	fg_books_get_stats(many, &sc);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(memcmp(&sa, &sc, sizeof(sa)), 0);
	CU_ASSERT_TRUE(sa.unknown_refs > 0);
	CU_ASSERT_EQUAL(sa.messages, n);
	free(m);
	fg_itchgen_free(g);
	fg_books_free(one);
	fg_books_free(many);
}

/*
 * The near stage of the read-ahead runs only once the secondary table has
 * outgrown the L2 (2^17 slots, 65,536 old orders and more): 200,000 orders
 * held while a million short-lived references sweep the primary past them,
 * then deletes, executions and replaces of held orders mixed with new
 * adds. Batches and single applies must give the same books and counters.
 */
static void test_book_batch_equals_single_with_a_large_secondary(void)
{
	const uint32_t held = 200000, sweep = 600000, tail = 200000;
	const uint32_t n = held + 2 * sweep + tail;
	struct fg_books *one = new_books(0, NULL), *many = new_books(0, NULL);
	struct fg_itch_msg *m = calloc(n, sizeof(*m));
	uint64_t x = 0x2545f4914f6cdd1dull, next = 1;
	struct fg_books_stats sa, sc;
	unsigned int bad = 0;
	uint32_t k = 0;

	CU_ASSERT_FATAL(one && many && m);
	for (uint32_t i = 0; i < held; i++) {
		uint64_t r = xorshift(&x);

		m[k++] = add_msg(next++, (uint16_t)(1 + r % 50), (r >> 8) & 1 ? 'S' : 'B',
				 100 + (uint32_t)((r >> 16) % 500),
				 10000 + 100 * (uint32_t)((r >> 32) % 40));
	}
	for (uint32_t i = 0; i < sweep; i++) {
		m[k++] = add_msg(next, 51, 'B', 10, 5000);
		m[k++] = ref_msg('D', next++, 0);
	}
	for (uint32_t i = 0; i < tail; i++) {
		uint64_t r = xorshift(&x), old = 1 + (r >> 24) % held;

		switch (r % 5) {
		case 0:
			m[k++] = add_msg(next++, (uint16_t)(1 + (r >> 8) % 50), 'S', 50, 14200);
			break;
		case 1:
			m[k++] = ref_msg('E', old, (uint32_t)((r >> 8) % 200));
			break;
		case 2:
			m[k++] = replace_msg(old, next++, 70,
					     10000 + 100 * (uint32_t)((r >> 8) % 40));
			break;
		default:
			m[k++] = ref_msg('D', old, 0);
			break;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		fg_books_apply(one, &m[i]);
	for (uint32_t i = 0; i < n; i += 256)
		fg_books_apply_batch(many, m + i, n - i < 256 ? n - i : 256);
	bad = books_differ(one, many, 51, 1024, 1, held);
	fg_books_get_stats(one, &sa);
	fg_books_get_stats(many, &sc);
	printf("\n    %llu live, %zu bytes of book ", (unsigned long long)sa.orders_live,
	       fg_books_memory(many));
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(memcmp(&sa, &sc, sizeof(sa)), 0);
	/* the held orders went to the secondary, which grew past 2^17 slots of 16 bytes */
	CU_ASSERT_TRUE(fg_books_memory(many) > (size_t)(1u << 17) * 16 * 2);
	CU_ASSERT_TRUE(sa.deletes > 50000 && sa.replaces > 20000 && sa.executions > 20000);
	free(m);
	fg_books_free(one);
	fg_books_free(many);
}

/* --- the order tables: sparse and huge references, growth, old orders ---------------------- */

/* A model of the live orders: an unsorted array, searched linearly (small runs only). */
struct live_model {
	struct {
		uint64_t ref;
		uint32_t shares, price;
		uint16_t locate;
		char side;
	} o[4096];
	unsigned int n;
};

static int model_find(const struct live_model *lm, uint64_t ref)
{
	for (unsigned int i = 0; i < lm->n; i++)
		if (lm->o[i].ref == ref)
			return (int)i;
	return -1;
}

/* Every order the model has is in the book as the model says; the book has no other. */
static unsigned int model_check(const struct fg_books *b, const struct live_model *lm)
{
	unsigned int bad = 0;
	uint64_t seen;

	for (unsigned int i = 0; i < lm->n; i++) {
		struct fg_order o;

		if (fg_books_order(b, lm->o[i].ref, &o) || o.shares != lm->o[i].shares ||
		    o.price != lm->o[i].price || o.locate != lm->o[i].locate ||
		    o.side != lm->o[i].side)
			bad++;
	}
	if (stats(b).orders_live != lm->n)
		bad++;
	bad += self_consistent(b, 4, &seen);
	if (seen != lm->n)
		bad++;
	return bad;
}

/*
 * References of every shape through one book: dense and increasing, the
 * same slot of the primary table over and over (multiples of its size),
 * huge ones (near 2^64), random 64-bit ones, and old ones added again after
 * their delete. Lookups, removals and levels follow a plain model.
 */
static void test_book_sparse_and_huge_references_against_model(void)
{
	static struct live_model lm;
	struct fg_books *b = new_books(2048, NULL);
	uint64_t x = 0x2545f4914f6cdd1dull, next = 1, dead[64] = { 0 };
	unsigned int bad = 0, ndead = 0;

	CU_ASSERT_FATAL(b != NULL);
	lm.n = 0;
	for (int step = 0; step < 300000; step++) {
		uint64_t r = xorshift(&x), ref;
		unsigned int i;

		if (lm.n < 2000 && (r % 5 < 3 || !lm.n)) {
			switch ((r >> 8) % 6) {
			case 0:
				ref = next += 1 + (r >> 16) % 3; /* dense */
				break;
			case 1:
				ref = ((r >> 16) % 64 + 1)
				      << 20; /* one primary slot, again and again */
				break;
			case 2:
				ref = UINT64_MAX - (r >> 16) % 256; /* huge */
				break;
			case 3:
				ref = xorshift(&x) | 1; /* anywhere */
				break;
			case 4:
				ref = ndead ? dead[(r >> 16) % ndead]
					    : next++; /* deleted, back again */
				break;
			default:
				ref = next++;
				break;
			}
			i = lm.n;
			apply(b, add_msg(ref, (uint16_t)(1 + (r >> 24) % 4),
					 (r >> 30) & 1 ? 'S' : 'B', 1 + (uint32_t)((r >> 32) % 500),
					 10000 + 100 * (uint32_t)((r >> 40) % 40)));
			if (model_find(&lm, ref) < 0) {
				lm.o[i].ref = ref;
				lm.o[i].shares = 1 + (uint32_t)((r >> 32) % 500);
				lm.o[i].price = 10000 + 100 * (uint32_t)((r >> 40) % 40);
				lm.o[i].locate = (uint16_t)(1 + (r >> 24) % 4);
				lm.o[i].side = (r >> 30) & 1 ? 'S' : 'B';
				lm.n++;
			}
		} else {
			i = (unsigned int)((r >> 8) % lm.n);
			ref = lm.o[i].ref;
			apply(b, ref_msg(r & 1 ? 'D' : 'X', ref, 7));
			if (r & 1 || lm.o[i].shares <= 7) {
				dead[ndead < 64 ? ndead++ : (r >> 20) % 64] = ref;
				lm.o[i] = lm.o[--lm.n];
			} else {
				lm.o[i].shares -= 7;
			}
		}
		if (step % 10000 == 0)
			bad += model_check(b, &lm);
	}
	bad += model_check(b, &lm);
	/* Nothing live answers for a reference never added or gone. */
	for (unsigned int k = 0; k < ndead; k++) {
		struct fg_order o;

		if (model_find(&lm, dead[k]) < 0 && fg_books_order(b, dead[k], &o) != -ENOENT)
			bad++;
	}
	printf("\n    %u live at the end, longest probe %u ", lm.n, stats(b).max_probe);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 0);
	CU_ASSERT_EQUAL(stats(b).overflows, 0);
	fg_books_free(b);
}

/*
 * Memory follows the live orders: a new book uses a few MiB whatever its
 * capacity, grows as orders come (the tables double), and every order is
 * still found after each doubling; emptied, the book has no order or level.
 */
static void test_book_tables_grow_with_live_orders(void)
{
	const uint32_t n = 400000;
	struct fg_books *b = new_books(0, NULL);
	size_t m0, m1;
	unsigned int bad = 0;
	uint64_t x = 77;

	CU_ASSERT_FATAL(b != NULL);
	m0 = fg_books_memory(b);
	printf("\n    memory: %.1f MiB new", m0 / 1048576.0);
	CU_ASSERT_TRUE(m0 < (8u << 20));
	for (uint32_t i = 1; i <= n; i++)
		apply(b, add_msg(i, (uint16_t)(1 + i % 3000), i & 1 ? 'S' : 'B', 100,
				 i & 1 ? 100100 + 100 * (i % 50) : 99900 - 100 * (i % 50)));
	m1 = fg_books_memory(b);
	printf(", %.1f MiB with %u orders ", m1 / 1048576.0, n);
	CU_ASSERT_TRUE(m1 > m0 + n * 16ull);
	CU_ASSERT_EQUAL(stats(b).orders_live, n);
	for (uint32_t i = 1; i <= n; i++) {
		struct fg_order o;

		if (fg_books_order(b, i, &o) || o.shares != 100 || o.locate != 1 + i % 3000)
			bad++;
	}
	/* Remove them in a scattered order (every 7919th, wrapping), then check emptiness. */
	for (uint64_t k = 0, i = x; k < n; k++, i = (i + 7919) % n)
		apply(b, ref_msg('D', i + 1, 0));
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats(b).orders_live, 0);
	CU_ASSERT_EQUAL(stats(b).levels_live, 0);
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 0);
	CU_ASSERT_EQUAL(stats(b).deletes, n);
	fg_books_free(b);
}

/*
 * Orders that outlive many sweeps of the primary table (a stream of new
 * references passing over their slots, which moves them to the secondary)
 * are still found, reduced and deleted; so are those that lived through a
 * doubling of the primary.
 */
static void test_book_old_orders_survive_sweeps_and_growth(void)
{
	static struct live_model lm;
	struct fg_books *b = new_books(0, NULL);
	uint64_t next = 1, x = 99;
	unsigned int bad = 0;

	CU_ASSERT_FATAL(b != NULL);
	lm.n = 0;
	for (int round = 0; round < 40; round++) {
		/* A few long-lived orders... */
		for (int k = 0; k < 50 && lm.n < 4000; k++) {
			uint64_t r = xorshift(&x);
			unsigned int i = lm.n++;

			lm.o[i].ref = next++;
			lm.o[i].shares = 1000;
			lm.o[i].price = 20000 + 100 * (uint32_t)(r % 30);
			lm.o[i].locate = (uint16_t)(1 + (r >> 20) % 4);
			lm.o[i].side = (r >> 30) & 1 ? 'S' : 'B';
			apply(b, add_msg(lm.o[i].ref, lm.o[i].locate, lm.o[i].side, 1000,
					 lm.o[i].price));
		}
		/* ... then a stream of short-lived ones (100,000 references, a sweep or more of
		 * the primary), growing from round 20 on so that the primary doubles. */
		for (int k = 0; k < 100000; k++) {
			uint64_t ref = next++;

			apply(b, add_msg(ref, 5, 'B', 10, 10000));
			if (round < 20 || k % 2)
				apply(b, ref_msg('D', ref, 0));
		}
		/* Some of the old ones change. */
		for (int k = 0; k < 20 && lm.n; k++) {
			unsigned int i = (unsigned int)(xorshift(&x) % lm.n);

			apply(b, ref_msg('X', lm.o[i].ref, 1));
			lm.o[i].shares--;
			if (k % 4 == 0) {
				apply(b, ref_msg('D', lm.o[i].ref, 0));
				lm.o[i] = lm.o[--lm.n];
			}
		}
		for (unsigned int i = 0; i < lm.n; i++) {
			struct fg_order o;

			if (fg_books_order(b, lm.o[i].ref, &o) || o.shares != lm.o[i].shares ||
			    o.price != lm.o[i].price)
				bad++;
		}
	}
	printf("\n    %u old orders, %llu live in all ", lm.n,
	       (unsigned long long)stats(b).orders_live);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 0);
	CU_ASSERT_EQUAL(stats(b).orders_live, lm.n + 20 * 50000u);
	fg_books_free(b);
}

/*
 * Time priority is arrival order, not reference order: a reference below
 * the others (re-added after its delete, or out of order) joins the back of
 * its level's queue. Asking for fewer orders than the level holds returns
 * the oldest ones, oldest first.
 */
static void test_book_time_priority_is_arrival_not_reference(void)
{
	struct fg_books *b = new_books(64, NULL);
	const uint64_t order[] = { 50, 7, 900, 3, 1ull << 40, 8 };
	uint64_t refs[8];
	unsigned int n;

	CU_ASSERT_FATAL(b != NULL);
	for (unsigned int i = 0; i < 6; i++)
		apply(b, add_msg(order[i], 1, 'S', 10, 2000));
	n = fg_books_level_orders(b, 1, 'S', 2000, refs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 6);
	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(refs[i], order[i]);
	n = fg_books_level_orders(b, 1, 'S', 2000, refs, 3);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(refs[0], 50);
	CU_ASSERT_EQUAL(refs[1], 7);
	CU_ASSERT_EQUAL(refs[2], 900);
	/* 7 leaves and comes back: now last. */
	apply(b, ref_msg('D', 7, 0));
	apply(b, add_msg(7, 1, 'S', 10, 2000));
	n = fg_books_level_orders(b, 1, 'S', 2000, refs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 6);
	CU_ASSERT_EQUAL(refs[0], 50);
	CU_ASSERT_EQUAL(refs[5], 7);
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'S', 2001, refs, 8), 0);
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'B', 2000, refs, 8), 0);
	CU_ASSERT_EQUAL(fg_books_level_orders(b, 1, 'S', 2000, refs, 0), 0);
	fg_books_free(b);
}

/* --- tick ladders ------------------------------------------------------------------------- */

/* The levels of one side as the model computes them, best first; returns how many. */
static unsigned int model_levels(const struct live_model *lm, uint16_t loc, char side,
				 struct fg_level *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < lm->n; i++) {
		unsigned int k;

		if (lm->o[i].locate != loc || lm->o[i].side != side)
			continue;
		for (k = 0; k < n && out[k].price != lm->o[i].price; k++)
			;
		if (k == n) {
			if (n == max)
				continue;
			out[n].price = lm->o[i].price;
			out[n].shares = 0;
			out[n].orders = 0;
			n++;
		}
		out[k].shares += lm->o[i].shares;
		out[k].orders++;
	}
	/* Insertion sort, best first. */
	for (unsigned int i = 1; i < n; i++) {
		struct fg_level t = out[i];
		unsigned int j = i;

		while (j &&
		       (side == 'B' ? out[j - 1].price < t.price : out[j - 1].price > t.price)) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	return n;
}

static unsigned int ladder_check(const struct fg_books *b, const struct live_model *lm,
				 uint16_t nloc)
{
	static struct fg_level want[4096], got[4096];
	unsigned int bad = 0;

	for (uint16_t loc = 1; loc <= nloc; loc++) {
		for (int s = 0; s < 2; s++) {
			char side = s ? 'S' : 'B';
			unsigned int nw = model_levels(lm, loc, side, want, 4096);
			unsigned int ng = fg_books_top(b, loc, side, got, 4096);

			if (nw != ng || memcmp(want, got, nw * sizeof(*got)))
				bad++;
		}
	}
	return bad + model_check(b, lm);
}

/*
 * Deep sides (ladders) under prices of every kind: near the touch, far
 * outside the ladder's window on both sides, off its tick (sub-penny), near
 * 0 and near 2^32, a touch that drifts hundreds of ticks (the window must
 * follow), deletes of the best level, adds through the other side (a crossed
 * book, counted), and replaces that move orders onto, off and across the
 * ladder. Every level of every side equals the model's, in order.
 */
static void test_book_ladder_edges_against_model(void)
{
	static struct live_model lm;
	struct fg_books *b = new_books(8192, NULL);
	uint64_t x = 0xdeadbeefcafef00dull, next = 1;
	unsigned int bad = 0;
	uint32_t center = 500000; /* $50.00, moves */

	CU_ASSERT_FATAL(b != NULL);
	lm.n = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t r = xorshift(&x);
		uint16_t loc = (uint16_t)(1 + (r >> 4) % 3);
		char side = (r >> 6) & 1 ? 'S' : 'B';
		uint32_t ticks = 1 + (uint32_t)((r >> 8) % 40), price;
		unsigned int i, kind = (unsigned int)((r >> 16) % 100);

		if (step % 2000 == 0) /* the touch drifts: up, then down */
			center = step < 100000 ? center + 3000 : center - 3000;
		if (kind < 60)
			price = side == 'B' ? center - 100 * ticks : center + 100 * ticks;
		else if (kind < 70) /* far away: thousands of ticks */
			price = side == 'B' ? center - 100 * (400 + ticks * 50)
					    : center + 100 * (400 + ticks * 50);
		else if (kind < 78) /* off the cent tick */
			price = (side == 'B' ? center - 100 * ticks : center + 100 * ticks) + 37;
		else if (kind < 82) /* near the ends of the price range */
			price = side == 'B' ? 1 + ticks : UINT32_MAX - ticks;
		else if (kind < 85) /* through the other side: crosses */
			price = side == 'B' ? center + 100 * ticks : center - 100 * ticks;
		else
			price = 0; /* not an add */
		if (price && lm.n < 4000) {
			i = lm.n++;
			lm.o[i].ref = next++;
			lm.o[i].shares = 1 + (uint32_t)((r >> 24) % 900);
			lm.o[i].price = price;
			lm.o[i].locate = loc;
			lm.o[i].side = side;
			apply(b, add_msg(lm.o[i].ref, loc, side, lm.o[i].shares, price));
		} else if (lm.n) {
			struct fg_bbo bbo;

			i = (unsigned int)((r >> 24) % lm.n);
			/* Half the time, the order at the best of its side instead. */
			if ((r >> 40) & 1 && fg_books_bbo(b, lm.o[i].locate, &bbo) == 0) {
				uint32_t best = lm.o[i].side == 'B' ? bbo.bid.price : bbo.ask.price;

				for (unsigned int k = 0; k < lm.n; k++)
					if (lm.o[k].locate == lm.o[i].locate &&
					    lm.o[k].side == lm.o[i].side && lm.o[k].price == best) {
						i = k;
						break;
					}
			}
			if ((r >> 41) % 4 == 0) { /* a replace: onto, off or across the ladder */
				uint32_t np =
					(r >> 43) & 1
						? center + 100 * ((uint32_t)(r >> 44) % 300)
						: center - 100 * ((uint32_t)(r >> 44) % 300) + 1;

				apply(b, replace_msg(lm.o[i].ref, next, 50, np));
				lm.o[i].ref = next++;
				lm.o[i].shares = 50;
				lm.o[i].price = np;
			} else {
				apply(b, ref_msg('D', lm.o[i].ref, 0));
				lm.o[i] = lm.o[--lm.n];
			}
		}
		if (step % 5000 == 4999)
			bad += ladder_check(b, &lm, 3);
	}
	bad += ladder_check(b, &lm, 3);
	printf("\n    %u live, %llu levels, %llu crossed ", lm.n,
	       (unsigned long long)stats(b).levels_live, (unsigned long long)stats(b).crossed);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_TRUE(stats(b).crossed > 0);
	CU_ASSERT_EQUAL(stats(b).unknown_refs, 0);
	CU_ASSERT_EQUAL(stats(b).bad_orders, 0);
	fg_books_free(b);
}

/* --- the read-ahead is in the build -------------------------------------------------------- */

#if defined(__x86_64__)
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

/* Size of a function in this executable's symbol table, 0 if not found. */
static size_t symbol_size(const char *name)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t size = 0;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && !size && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym))
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
				size = sym.st_size;
				break;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return size;
}

/* prefetcht0/1/2/nta (0f 18 /1-/3) and prefetchw (0f 0d /1) in the code of a function. */
static unsigned int count_prefetches(const uint8_t *code, size_t size)
{
	unsigned int n = 0;

	for (size_t i = 0; i + 2 < size; i++) {
		unsigned int reg = (code[i + 2] >> 3) & 7;

		if (code[i] == 0x0f && ((code[i + 1] == 0x18 && reg >= 1 && reg <= 3) ||
					(code[i + 1] == 0x0d && reg == 1)))
			n++;
	}
	return n;
}
#endif

/*
 * GCC once deleted the read-ahead of the batch (static helpers made only of
 * prefetches looked pure): the compiled fg_books_prefetch() must still hold
 * its prefetch instructions (the slot and the book of the far stage, the
 * level and the eviction target of the near one, in the loop and in the
 * start-up pass).
 */
static void test_book_prefetches_are_in_the_build(void)
{
#if defined(__x86_64__)
	const uint8_t *code = (const uint8_t *)(uintptr_t)&fg_books_prefetch;
	size_t size = symbol_size("fg_books_prefetch");
	unsigned int n;

	if (!size)
		FG_SKIP("no symbol table to find fg_books_prefetch in");
	n = count_prefetches(code, size);
	printf("\n    %u prefetch instructions in %zu bytes of fg_books_prefetch ", n, size);
	CU_ASSERT_TRUE(n >= 4);
#else
	FG_SKIP("the check reads x86 machine code");
#endif
}

/* A capacity beyond the limit is refused, with -EINVAL and nothing made. */
static void test_book_refuses_capacity_above_the_limit(void)
{
	struct fg_books *b = NULL;
	fg_print_fn_t old = fg_set_print(NULL); /* the warning is not this test's output */

	CU_ASSERT_EQUAL(fg_books_new(FG_BOOKS_MAX_ORDERS + 1, NULL, &b), -EINVAL);
	CU_ASSERT_PTR_NULL(b);
	fg_set_print(old);
	CU_ASSERT_EQUAL(fg_books_new(FG_BOOKS_MAX_ORDERS, NULL, &b), 0);
	CU_ASSERT_PTR_NOT_NULL(b);
	fg_books_free(b);
}

static const struct fg_test tests[] = {
	FG_TEST(test_book_top_levels_in_price_order),
	FG_TEST(test_book_execution_is_clamped_to_open_shares),
	FG_TEST(test_book_replace_loses_time_priority),
	FG_TEST(test_book_delete_removes_and_unknown_refs_are_counted),
	FG_TEST(test_book_rejects_duplicate_and_bad_adds),
	FG_TEST(test_book_trades_do_not_change_the_book),
	FG_TEST(test_book_names_instruments_from_r),
	FG_TEST(test_book_callbacks_report_levels_bbo_and_trades),
	FG_TEST(test_book_matches_naive_reference_on_generated_day),
	FG_TEST(test_book_overflow_is_counted_not_fatal),
	FG_TEST(test_book_colliding_references_against_reference),
	FG_TEST(test_book_batch_apply_equals_single_apply),
	FG_TEST(test_book_batch_equals_single_with_a_large_secondary),
	FG_TEST(test_book_batch_equals_single_on_colliding_table_with_junk),
	FG_TEST(test_book_sparse_and_huge_references_against_model),
	FG_TEST(test_book_tables_grow_with_live_orders),
	FG_TEST(test_book_old_orders_survive_sweeps_and_growth),
	FG_TEST(test_book_time_priority_is_arrival_not_reference),
	FG_TEST(test_book_ladder_edges_against_model),
	FG_TEST(test_book_prefetches_are_in_the_build),
	FG_TEST(test_book_refuses_capacity_above_the_limit),
};

FG_TEST_MAIN("book", tests, NULL, NULL)
