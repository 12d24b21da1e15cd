/* SPDX-License-Identifier: MIT */
/*
 * Order books from decoded ITCH 5.0 messages: one book per instrument
 * (stock locate), built from A, F, E, C, X, D and U; P and Q report trades
 * but do not change a book; R names the instrument.
 *
 * Orders live in a table indexed by order reference number (real
 * references are dense and increasing, so the reference itself is the
 * slot, with linear probing for the few that collide and for sparse or
 * huge ones), price levels in a pool, linked per side in price order, best
 * first; a deep side also gets a tick ladder (price -> level) around its
 * best. Memory grows with the live orders: the tables start small and
 * double when they fill (the order table is rebuilt then, a pause of a few
 * ns per slot, once per power of two of live orders). Applying a message
 * never allocates otherwise. When order_capacity orders are live (or no
 * memory is left), an add is dropped and counted (stats.overflows), and
 * later messages for that order count as unknown references: nothing
 * crashes.
 *
 * Invariants kept whatever the input: a level's shares and order count are
 * the sums over its orders; no size goes negative (an execution or cancel
 * larger than the open shares is clamped to them and counted); an order
 * that reaches 0 shares is removed, and so is a level with no order; U
 * removes the original order and adds the new one at the back of its
 * level's queue (it loses time priority), same side and stock.
 *
 * Callbacks (any may be NULL) run inside fg_books_apply(): on_level after a
 * level changed (orders == 0: the level is gone), on_bbo after a message
 * changed the best level of a side (its price, shares or existence), on_trade
 * for E, C, P and Q. An empty side reads as price 0, shares 0.
 *
 * A fg_books is not thread-safe: one per consumer thread.
 */
#ifndef FEEDGATE_BOOK_H
#define FEEDGATE_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "feedgate/itch.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FG_BOOKS_DEFAULT_ORDERS (1u << 24) /* a limit: nothing is reserved for it */
#define FG_BOOKS_MAX_ORDERS (1u << 30)
#define FG_BOOK_DEFAULT_DEPTH 10

struct fg_books;

struct fg_book_callbacks {
	void *ctx;
	void (*on_level)(void *ctx, uint16_t locate, char side, uint32_t price, uint64_t shares,
			 uint32_t orders);
	void (*on_bbo)(void *ctx, uint16_t locate, uint32_t bid, uint64_t bid_shares, uint32_t ask,
		       uint64_t ask_shares);
	void (*on_trade)(void *ctx, uint16_t locate, uint32_t price, uint64_t shares,
			 uint64_t match_number);
};

/* One price level: Price(4), aggregate open shares, number of orders. */
struct fg_level {
	uint32_t price;
	uint32_t orders;
	uint64_t shares;
};

struct fg_bbo {
	struct fg_level bid; /* all 0 when the side is empty */
	struct fg_level ask;
};

/* A live order. */
struct fg_order {
	uint64_t ref;
	uint32_t price;
	uint32_t shares;
	uint16_t locate;
	char side; /* 'B' or 'S' */
};

struct fg_books_stats {
	uint64_t messages; /* given to fg_books_apply() */
	uint64_t adds; /* A, F and the new half of U that entered a book */
	uint64_t executions; /* E, C */
	uint64_t cancels; /* X */
	uint64_t deletes; /* D */
	uint64_t replaces; /* U */
	uint64_t trades; /* P, Q */
	uint64_t orders_live;
	uint64_t orders_peak;
	uint64_t levels_live;
	uint64_t overflows; /* adds dropped because the order table was full */
	uint64_t unknown_refs; /* E C X D U naming no live order */
	uint64_t duplicate_refs; /* A F U adding a reference already live */
	uint64_t clamped; /* E C X for more shares than open: clamped */
	uint64_t bad_orders; /* adds with 0 shares, price 0, locate 0 or side not B/S */
	uint64_t crossed; /* an add or replace left best bid >= best offer */
	uint32_t order_capacity;
	uint32_t max_probe; /* longest probe in the order table so far */
};

/*
 * Books for up to order_capacity live orders (0 = FG_BOOKS_DEFAULT_ORDERS); cb may be NULL.
 * The capacity is a limit, not a reservation: memory follows the live orders. Returns 0
 * and *out, -EINVAL for a capacity above FG_BOOKS_MAX_ORDERS (with a warning saying so),
 * or -ENOMEM.
 */
int fg_books_new(uint32_t order_capacity, const struct fg_book_callbacks *cb,
		 struct fg_books **out);
void fg_books_free(struct fg_books *b);

/* Apply one decoded message (types that do not concern books are counted and ignored). */
void fg_books_apply(struct fg_books *b, const struct fg_itch_msg *m);

/*
 * Apply n decoded messages in order, exactly as n calls of fg_books_apply(),
 * prefetching the orders and levels that later messages of the batch name
 * while earlier ones are applied (bench/RESULTS.md measures both).
 */
void fg_books_apply_batch(struct fg_books *b, const struct fg_itch_msg *msgs, unsigned int n);

/*
 * Read ahead for a caller that applies msgs[0..n) one by one with work of
 * its own in between: call it with i just before fg_books_apply(b, &msgs[i]),
 * for i = 0, 1, ... in order. It only requests the memory later messages of
 * the run will touch (it changes nothing); fg_books_apply_batch() is that
 * loop.
 */
void fg_books_prefetch(const struct fg_books *b, const struct fg_itch_msg *msgs, unsigned int n,
		       unsigned int i);

/* The best depth levels of one side ('B' or 'S'), best first; returns how many were written. */
unsigned int fg_books_top(const struct fg_books *b, uint16_t locate, char side,
			  struct fg_level *out, unsigned int depth);

/* Best bid and offer of a book; -ENOENT when both sides are empty. */
int fg_books_bbo(const struct fg_books *b, uint16_t locate, struct fg_bbo *out);

/* Stock locate of a symbol ("AAPL", from R messages), or -ENOENT. */
int fg_books_locate_of(const struct fg_books *b, const char *symbol);

/* Symbol of a locate, trailing spaces trimmed, into out[9]; -ENOENT if no R named it. */
int fg_books_symbol(const struct fg_books *b, uint16_t locate, char out[9]);

/* A live order by reference; -ENOENT if none. */
int fg_books_order(const struct fg_books *b, uint64_t ref, struct fg_order *out);

/*
 * References of the orders at one level in time priority (first = oldest); returns how many.
 * A diagnostic: it scans the whole order table (levels keep counts, not queues).
 */
unsigned int fg_books_level_orders(const struct fg_books *b, uint16_t locate, char side,
				   uint32_t price, uint64_t *refs, unsigned int max);

void fg_books_get_stats(const struct fg_books *b, struct fg_books_stats *out);

/* Bytes the books use now: the order table and the pools up to their high-water marks. */
size_t fg_books_memory(const struct fg_books *b);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_BOOK_H */
