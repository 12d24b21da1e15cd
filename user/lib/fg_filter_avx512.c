// SPDX-License-Identifier: MIT
/*
 * Batch filter, AVX-512 (F, BW, VL): 16 messages per step, two passes over
 * chunks of FG_FILTER_CHUNK messages:
 *  1. two 8-lane gathers per step fetch the first 4 bytes of each message
 *     (type, stock locate) into a words array;
 *  2. the type is tested against the 256-bit subscription mask with a lane
 *     permute, the locate with a gather from the 2-bit-per-locate state
 *     table, and the selected indices are written with a compress.
 * Keeping the message gathers of pass 1 apart from the state gathers of
 * pass 2 lets them overlap: in one loop each state gather waits for the
 * message gather of its own step (measured: about twice as slow).
 * A step holding a message shorter than 4 bytes (never the case on a real
 * feed) is judged by the scalar rules, so no lane reads past its message.
 * Rules: include/feedgate/filter.h.
 */
#include <immintrin.h>

#include "fg_filter_int.h"

struct consts {
	__m512i tmask, smask, locshuf, ff, c15, c31, one, two, three, rr;
};

static inline __mmask16 type_bits(const struct consts *c, __m512i mask, __m512i type)
{
	return _mm512_test_epi32_mask(_mm512_permutexvar_epi32(_mm512_srli_epi32(type, 5), mask),
				      _mm512_sllv_epi32(c->one, _mm512_and_si512(type, c->c31)));
}

/* Selection mask of the 16 messages from msgs[i], whose first 4 bytes are in w. */
static inline __attribute__((always_inline)) uint32_t
classify16(const struct fg_filter *f, const struct consts *c, __m512i w, const uint8_t *const *msgs,
	   const uint16_t *lens, unsigned int i, const int with_symbols, const int all_types)
{
	__m512i type = _mm512_and_si512(w, c->ff), loc, st;
	__mmask16 tok, isr, want, slow, sel;

	isr = _mm512_cmpeq_epi32_mask(type, c->rr);
	tok = all_types ? (__mmask16)0xffff : type_bits(c, c->tmask, type);
	if (!with_symbols)
		return tok | isr;
	want = tok & ~isr;
	loc = _mm512_shuffle_epi8(w, c->locshuf);
	st = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), want, _mm512_srli_epi32(loc, 4),
					 f->lstate, 4);
	st = _mm512_srlv_epi32(st, _mm512_slli_epi32(_mm512_and_si512(loc, c->c15), 1));
	sel = isr | _mm512_mask_test_epi32_mask(want, st, c->two);
	slow = _mm512_mask_testn_epi32_mask(want, st, c->three);
	if (slow) {
		/* Locate not in the directory yet: match the stock field (rare). */
		slow &= type_bits(c, c->smask, type);
		sel |= (__mmask16)fg_filter_slow_lanes(f, msgs, lens, i, slow);
	}
	return sel;
}

/* Is any of lens[from, to) below 4? (to - from is a multiple of 16) */
static inline int short_in(const uint16_t *lens, unsigned int from, unsigned int to)
{
	__m256i m = _mm256_set1_epi16(-1);

	for (unsigned int i = from; i < to; i += 16)
		m = _mm256_min_epu16(m, _mm256_loadu_si256((const void *)(lens + i)));
	return _mm256_cmplt_epu16_mask(m, _mm256_set1_epi16(4)) != 0;
}

/* The first 4 bytes of 16 messages. */
static inline __m512i gather16(const uint8_t *const *msgs)
{
	__m512i pa = _mm512_loadu_si512((const void *)msgs);
	__m512i pb = _mm512_loadu_si512((const void *)(msgs + 8));

	return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_i64gather_epi32(pa, NULL, 1)),
				  _mm512_i64gather_epi32(pb, NULL, 1), 1);
}

static inline __attribute__((always_inline)) unsigned int
select16(const struct fg_filter *f, const uint8_t *const *msgs, const uint16_t *lens,
	 unsigned int n, uint16_t *out, const int with_symbols, const int all_types)
{
	const __m512i lane =
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const struct consts c = {
		.tmask = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)f->type_mask)),
		.smask = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)f->stock_types)),
		/* Bytes 1 and 2 of each dword (the big-endian locate) into a u32. */
		.locshuf = _mm512_broadcast_i32x4(
			_mm_setr_epi8(2, 1, -1, -1, 6, 5, -1, -1, 10, 9, -1, -1, 14, 13, -1, -1)),
		.ff = _mm512_set1_epi32(0xff),
		.c15 = _mm512_set1_epi32(15),
		.c31 = _mm512_set1_epi32(31),
		.one = _mm512_set1_epi32(1),
		.two = _mm512_set1_epi32(FG_LSTATE_SUB),
		.three = _mm512_set1_epi32(FG_LSTATE_SUB | FG_LSTATE_KNOWN),
		.rr = _mm512_set1_epi32('R'),
	};
	__m512i words[FG_FILTER_CHUNK / 16];
	uint16_t masks[FG_FILTER_CHUNK / 16];
	uint8_t scalar[FG_FILTER_CHUNK / 16];
	unsigned int k = 0;

	for (unsigned int base = 0; base < n; base += FG_FILTER_CHUNK) {
		unsigned int end = n - base < FG_FILTER_CHUNK ? n : base + FG_FILTER_CHUNK;
		unsigned int i, s, steps = (end - base) / 16;

		/* Pass 1: the first 4 bytes of every message. */
		if (!short_in(lens, base, base + steps * 16)) {
			for (i = base, s = 0; s < steps; i += 16, s++) {
				scalar[s] = 0;
				words[s] = gather16(msgs + i);
			}
		} else {
			for (i = base, s = 0; s < steps; i += 16, s++) {
				scalar[s] = short_in(lens, i, i + 16);
				if (scalar[s])
					masks[s] = (uint16_t)fg_filter_mask_scalar(f, msgs, lens, i,
										   16);
				else
					words[s] = gather16(msgs + i);
			}
		}
		/* Pass 2: the rules, and the indices of what they select. */
		for (i = base, s = 0; s < steps; i += 16, s++) {
			uint32_t m = scalar[s] ? masks[s]
					       : classify16(f, &c, words[s], msgs, lens, i,
							    with_symbols, all_types);
			__m512i idx = _mm512_maskz_compress_epi32(
				(__mmask16)m, _mm512_add_epi32(_mm512_set1_epi32((int)i), lane));

			/* k <= i, so the 16 slots written at out + k are inside out[0, n). */
			_mm256_storeu_si256((void *)(out + k), _mm512_cvtepi32_epi16(idx));
			k += (unsigned int)__builtin_popcount(m);
		}
		k += fg_filter_tail(f, msgs, lens, i, end, out + k);
	}
	return k;
}

FG_FILTER_SELECT_ENTRY(fg_filter_select_avx512, select16)
