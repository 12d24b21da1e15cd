/* SPDX-License-Identifier: MIT */
/*
 * Inside the batch filter: the tables every implementation reads, and the
 * scalar decision for one message that the reference, the vector tails and
 * the rare slow lanes share. Only fg_filter*.c include this.
 */
#ifndef FG_FILTER_INT_H
#define FG_FILTER_INT_H

#include <stdint.h>
#include <string.h>

#include "feedgate/filter.h"

typedef unsigned int (*fg_filter_select_fn)(const struct fg_filter *f, const uint8_t *const *msgs,
					    const uint16_t *lens, unsigned int n, uint16_t *out);

/*
 * lstate holds two bits per locate for the vector code, so that one gather
 * gives both and the table (16 KB) stays in L1: bits 2*(loc%16) and up of
 * word loc/16 are FG_LSTATE_KNOWN (in the directory) and FG_LSTATE_SUB
 * (subscribed). Locate 0 (market-wide) is marked subscribed once and for
 * all, so "locate 0 passes" needs no test of its own. sub_bits and
 * known_bits say the same thing, one bit per locate, for the scalar
 * reference.
 */
#define FG_LSTATE_KNOWN 1u
#define FG_LSTATE_SUB 2u

/* The 2-bit state of a locate. */
static inline unsigned int fg_lstate(const uint32_t *lstate, unsigned int loc)
{
	return (lstate[loc >> 4] >> ((loc & 15) * 2)) & 3;
}

struct fg_filter {
	uint32_t type_mask[8]; /* 256-bit: subscribed types */
	uint32_t stock_types[8]; /* 256-bit: types with a stock field */
	uint32_t nsyms; /* symbols subscribed; 0 = every symbol */
	uint32_t all_types; /* type_mask is all ones */
	enum fg_filter_impl impl;
	fg_filter_select_fn select;
	uint32_t lstate[65536 / 16];
	uint32_t sub_bits[65536 / 32];
	uint32_t known_bits[65536 / 32];
	uint64_t *dir; /* locate -> stock field as 8 raw bytes, 0 = unknown */
	uint64_t *syms; /* open-addressing set of subscribed stock fields */
	uint32_t sym_mask; /* capacity - 1 (power of two) */
	uint16_t *rpos; /* FG_FILTER_MAX_BATCH: R positions, for fg_filter_select_learn() */
	uint8_t stock_off[256]; /* offset of the stock field by type, 0 = none */
};

/* The 8 wire bytes of a stock field as a key (byte order of memory; only equality matters). */
static inline uint64_t fg_filter_key(const void *p)
{
	uint64_t k;

	memcpy(&k, p, sizeof(k));
	return k;
}

static inline int fg_filter_bit(const uint32_t *bits, unsigned int i)
{
	return (bits[i >> 5] >> (i & 31)) & 1;
}

static inline int fg_filter_sym_has(const struct fg_filter *f, uint64_t key)
{
	uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & f->sym_mask;

	for (;;) {
		if (f->syms[i] == key)
			return 1;
		if (!f->syms[i])
			return 0;
		i = (i + 1) & f->sym_mask;
	}
}

/* The slow lane: locate unknown, type has a stock field. */
static inline int fg_filter_match_stock(const struct fg_filter *f, const uint8_t *p, uint16_t len)
{
	unsigned int off = f->stock_off[p[0]];

	if (!off || len < off + 8u)
		return 0;
	return fg_filter_sym_has(f, fg_filter_key(p + off));
}

/*
 * The slow lanes of a vector step (bit j = message i + j): those whose
 * stock field is subscribed, as a mask to add to the step's selection.
 */
static inline uint32_t fg_filter_slow_lanes(const struct fg_filter *f, const uint8_t *const *msgs,
					    const uint16_t *lens, unsigned int i, uint32_t slow)
{
	uint32_t sel = 0;

	while (slow) {
		unsigned int j = (unsigned int)__builtin_ctz(slow);

		if (fg_filter_match_stock(f, msgs[i + j], lens[i + j]))
			sel |= 1u << j;
		slow &= slow - 1;
	}
	return sel;
}

/* The selection rules of filter.h for one message: the reference every variant must equal. */
static inline int fg_filter_one(const struct fg_filter *f, const uint8_t *p, uint16_t len)
{
	unsigned int t, loc;

	if (len == 0)
		return 0;
	t = p[0];
	if (t == 'R')
		return 1;
	if (!fg_filter_bit(f->type_mask, t))
		return 0;
	if (!f->nsyms)
		return 1;
	if (len < 3)
		return 0;
	loc = ((unsigned int)p[1] << 8) | p[2];
	if (loc == 0 || fg_filter_bit(f->sub_bits, loc))
		return 1;
	if (fg_filter_bit(f->known_bits, loc))
		return 0;
	return fg_filter_match_stock(f, p, len);
}

/* Scalar run over msgs[from, to), used for tails and blocks with short messages. */
static inline unsigned int fg_filter_run_scalar(const struct fg_filter *f,
						const uint8_t *const *msgs, const uint16_t *lens,
						unsigned int from, unsigned int to, uint16_t *out)
{
	unsigned int k = 0;

	for (unsigned int i = from; i < to; i++)
		if (fg_filter_one(f, msgs[i], lens[i]))
			out[k++] = (uint16_t)i;
	return k;
}

/*
 * The gather variants work over chunks of FG_FILTER_CHUNK messages: first
 * they fetch the first 4 bytes of every message of the chunk, then they
 * judge them and write the indices. Done step by step in one loop, each
 * state-table gather waits for the message gather of its own step and the
 * loop runs about twice as slow.
 */
#define FG_FILTER_CHUNK 1024u

/* Selection mask of msgs[from, from + cnt) by the scalar rules (bit j = message from + j). */
static inline uint32_t fg_filter_mask_scalar(const struct fg_filter *f, const uint8_t *const *msgs,
					     const uint16_t *lens, unsigned int from,
					     unsigned int cnt)
{
	uint32_t m = 0;

	for (unsigned int j = 0; j < cnt; j++)
		m |= (uint32_t)fg_filter_one(f, msgs[from + j], lens[from + j]) << j;
	return m;
}

/* Indices of the set bits of m, offset by base, at out; returns how many. */
static inline unsigned int fg_filter_put_bits(uint32_t m, unsigned int base, uint16_t *out)
{
	unsigned int k = 0;

	while (m) {
		out[k++] = (uint16_t)(base + (unsigned int)__builtin_ctz(m));
		m &= m - 1;
	}
	return k;
}

/*
 * The last messages of a chunk, fewer than one vector step: judged by the
 * scalar rules, their indices appended at out. Returns how many.
 */
static inline unsigned int fg_filter_tail(const struct fg_filter *f, const uint8_t *const *msgs,
					  const uint16_t *lens, unsigned int i, unsigned int end,
					  uint16_t *out)
{
	if (i >= end)
		return 0;
	return fg_filter_put_bits(fg_filter_mask_scalar(f, msgs, lens, i, end - i), i, out);
}

/*
 * The public entry of a vector variant. Its body (a function taking
 * with_symbols and all_types last) is inlined three times with the two
 * flags constant, so that the hot loops test neither.
 */
#define FG_FILTER_SELECT_ENTRY(name, body)                                       \
	unsigned int name(const struct fg_filter *f, const uint8_t *const *msgs, \
			  const uint16_t *lens, unsigned int n, uint16_t *out)   \
	{                                                                        \
		if (f->nsyms && f->all_types)                                    \
			return body(f, msgs, lens, n, out, 1, 1);                \
		if (f->nsyms)                                                    \
			return body(f, msgs, lens, n, out, 1, 0);                \
		return body(f, msgs, lens, n, out, 0, 0);                        \
	}

unsigned int fg_filter_select_scalar(const struct fg_filter *f, const uint8_t *const *msgs,
				     const uint16_t *lens, unsigned int n, uint16_t *out);
unsigned int fg_filter_select_sse42(const struct fg_filter *f, const uint8_t *const *msgs,
				    const uint16_t *lens, unsigned int n, uint16_t *out);
unsigned int fg_filter_select_avx2(const struct fg_filter *f, const uint8_t *const *msgs,
				   const uint16_t *lens, unsigned int n, uint16_t *out);
unsigned int fg_filter_select_avx512(const struct fg_filter *f, const uint8_t *const *msgs,
				     const uint16_t *lens, unsigned int n, uint16_t *out);

/* 8 lane indices (u16) for each 8-bit selection mask, for the SSE4.2 compress step. */
extern uint16_t fg_filter_compress_lut[256][8];

#endif /* FG_FILTER_INT_H */
