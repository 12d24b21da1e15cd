// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: bytes -> ITCH messages -> order books.
 *
 * The first byte picks how the rest is read:
 *  - even: a program of book operations (A F E C X D U P Q R) over a few
 *    stocks and a small range of order references, so that references
 *    collide, repeat and run out (the books hold 32 orders); each operation
 *    is written as ITCH bytes and goes through fg_itch_decode();
 *  - odd: a BinaryFILE stream (u16 length + message), decoded and applied
 *    as it is.
 * Messages go through fg_books_apply() or, in runs, fg_books_apply_batch()
 * (the read-ahead follows references and levels of messages not applied yet).
 * Afterwards every book must hold together (levels in price order, each
 * the sum of its orders, orders where their level says); a violation
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedgate/book.h"
#include "feedgate/itch.h"

#define CAPACITY 32
#define MAX_LEVELS 64

static uint8_t seen[65536 / 8]; /* locates that got an add */

static void check(int ok)
{
	if (!ok)
		abort();
}

static void on_level(void *ctx, uint16_t locate, char side, uint32_t price, uint64_t shares,
		     uint32_t orders)
{
	(void)ctx;
	(void)price;
	check(locate != 0 && (side == 'B' || side == 'S'));
	check(orders ? shares > 0 : shares == 0);
}

static void on_bbo(void *ctx, uint16_t locate, uint32_t bid, uint64_t bid_shares, uint32_t ask,
		   uint64_t ask_shares)
{
	(void)ctx;
	check(locate != 0);
	check(!bid == !bid_shares && !ask == !ask_shares);
}

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* One operation from the program, as ITCH bytes (ITCH 5.0 section 4 offsets); returns length. */
static size_t encode(const uint8_t *in, uint8_t *p)
{
	static const char ops[] = "AAAFEDDXCUUPQR";
	char type = ops[in[0] % (sizeof(ops) - 1)];
	uint16_t loc = (uint16_t)(1 + in[1] % 4);
	/* Mostly small references, sometimes far ones (other table slots, wrap), or huge. */
	uint64_t ref = in[2] == 0xff  ? UINT64_MAX - in[3]
		       : in[2] & 0x80 ? (uint64_t)in[2] << 24 | in[3]
				      : 1 + in[2] % 48;
	uint32_t shares = in[4] & 0x80 ? 0xffffff00u | in[4] : in[4];
	/* Mostly cents near one price (deep sides get a tick ladder), some off the tick, some
	 * hundreds of ticks away (off the ladder's window), some at the ends of the range. */
	uint32_t price = in[5] < 0xc0	? 10000 + 100u * (in[5] % 32)
			 : in[5] < 0xe0 ? 10000 + 100u * (in[5] % 32) + 37
			 : in[5] < 0xf8 ? 10000 + 30000u * (in[5] % 8)
					: UINT32_MAX - in[5] % 4;
	char side = in[3] & 1 ? 'S' : 'B';

	memset(p, 0, 64);
	p[0] = (uint8_t)type;
	put(p + 1, loc, 2);
	put(p + 5, 1000, 6);
	switch (type) {
	case 'A':
	case 'F':
		put(p + 11, ref, 8);
		p[19] = (uint8_t)(in[6] == 0xff ? 'Z' : side);
		put(p + 20, shares, 4);
		memcpy(p + 24, "FUZZ    ", 8);
		put(p + 32, in[6] == 0xfe ? 0 : price, 4);
		if (type == 'A')
			return 36;
		memcpy(p + 36, "MPID", 4);
		return 40;
	case 'E':
	case 'C':
		put(p + 11, ref, 8);
		put(p + 19, shares, 4);
		put(p + 23, in[6], 8);
		if (type == 'E')
			return 31;
		p[31] = 'Y';
		put(p + 32, price, 4);
		return 36;
	case 'X':
		put(p + 11, ref, 8);
		put(p + 19, shares, 4);
		return 23;
	case 'D':
		put(p + 11, ref, 8);
		return 19;
	case 'U':
		put(p + 11, ref, 8);
		put(p + 19, 1 + in[6] % 64, 8);
		put(p + 27, shares, 4);
		put(p + 31, price, 4);
		return 35;
	case 'P':
		put(p + 11, ref, 8);
		p[19] = (uint8_t)side;
		put(p + 20, shares, 4);
		memcpy(p + 24, "FUZZ    ", 8);
		put(p + 32, price, 4);
		put(p + 36, in[6], 8);
		return 44;
	case 'Q':
		put(p + 11, (uint64_t)shares << 20, 8);
		memcpy(p + 19, "FUZZ    ", 8);
		put(p + 27, price, 4);
		put(p + 31, in[6], 8);
		p[39] = 'O';
		return 40;
	default: /* R */
		memcpy(p + 11, in + 6 - 1, 2);
		memcpy(p + 13, "ZZZZZZ", 6);
		return 39;
	}
}

static void note(const struct fg_itch_msg *m)
{
	if (m->type == 'A' || m->type == 'F' || m->type == 'U')
		seen[m->stock_locate / 8] |= (uint8_t)(1u << (m->stock_locate % 8));
}

/* Every book must hold together. */
static void verify(const struct fg_books *b)
{
	struct fg_level lv[MAX_LEVELS + 1];
	uint64_t refs[CAPACITY + 1], total = 0;
	struct fg_books_stats st;

	for (uint32_t loc = 1; loc < 65536; loc++) {
		if (!(seen[loc / 8] & (1u << (loc % 8))))
			continue;
		for (int s = 0; s < 2; s++) {
			char side = s ? 'S' : 'B';
			unsigned int nl = fg_books_top(b, (uint16_t)loc, side, lv, MAX_LEVELS + 1);

			check(nl <= CAPACITY);
			for (unsigned int k = 0; k < nl; k++) {
				unsigned int nq = fg_books_level_orders(
					b, (uint16_t)loc, side, lv[k].price, refs, CAPACITY + 1);
				uint64_t shares = 0;

				if (k)
					check(s ? lv[k].price > lv[k - 1].price
						: lv[k].price < lv[k - 1].price);
				check(nq == lv[k].orders && nq > 0);
				for (unsigned int j = 0; j < nq; j++) {
					struct fg_order o;

					check(fg_books_order(b, refs[j], &o) == 0);
					check(o.price == lv[k].price && o.side == side &&
					      o.locate == loc && o.shares > 0);
					shares += o.shares;
				}
				check(shares == lv[k].shares);
				total += nq;
			}
		}
	}
	fg_books_get_stats(b, &st);
	check(st.orders_live == total && st.orders_live <= CAPACITY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fg_book_callbacks cb = { NULL, on_level, on_bbo, NULL };
	struct fg_books *b;
	struct fg_itch_msg batch[16];
	unsigned int nb = 0;

	if (size < 1)
		return 0;
	if (fg_books_new(CAPACITY, &cb, &b))
		return 0;
	memset(seen, 0, sizeof(seen));
	if (!(data[0] & 1)) {
		/* A program: 7 bytes an operation; bit 7 of the first byte starts a batch run. */
		for (size_t off = 1; off + 7 <= size; off += 7) {
			uint8_t p[64];
			size_t len = encode(data + off, p);
			struct fg_itch_msg m;

			if (fg_itch_decode(p, len, &m))
				abort(); /* our own encoding must decode */
			note(&m);
			if (data[off] & 0x80 || nb) {
				batch[nb++] = m;
				if (nb == 16 || !(data[off] & 0x80)) {
					fg_books_apply_batch(b, batch, nb);
					nb = 0;
				}
			} else {
				fg_books_apply(b, &m);
			}
		}
		fg_books_apply_batch(b, batch, nb);
	} else {
		/* BinaryFILE. */
		for (size_t off = 1; off + 2 <= size;) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			struct fg_itch_msg m;

			if (off + 2 + len > size)
				break;
			if (fg_itch_decode(data + off + 2, len, &m) == 0) {
				note(&m);
				fg_books_apply(b, &m);
			}
			off += 2 + len;
		}
	}
	verify(b);
	fg_books_free(b);
	return 0;
}
