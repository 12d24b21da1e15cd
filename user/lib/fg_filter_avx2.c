// SPDX-License-Identifier: MIT
/*
 * Batch filter, AVX2 (+BMI2): 8 messages per step, three passes over
 * chunks of FG_FILTER_CHUNK messages: two 4-lane gathers per step fetch
 * the first 4 bytes of each message (type, stock locate); then the type is
 * tested against the 256-bit subscription mask with a lane permute and the
 * locate with a gather from the 2-bit-per-locate state table, one mask per
 * step; then the selected lane numbers are packed with pext and written as
 * one 16-byte store. A step holding a message shorter than 4 bytes goes to
 * the scalar rules, so no lane reads past its message. Rules:
 * include/feedgate/filter.h.
 */
#include <immintrin.h>

#include "fg_filter_int.h"

struct consts {
	__m256i tmask, smask, locshuf, ff, c15, c31, one, two, three, rr;
};

static inline __m256i type_bits(const struct consts *c, __m256i mask, __m256i type)
{
	__m256i bit = _mm256_sllv_epi32(c->one, _mm256_and_si256(type, c->c31));
	__m256i word = _mm256_permutevar8x32_epi32(mask, _mm256_srli_epi32(type, 5));

	return _mm256_cmpeq_epi32(_mm256_and_si256(word, bit), bit);
}

static inline unsigned int lanes(__m256i v)
{
	return (unsigned int)_mm256_movemask_ps(_mm256_castsi256_ps(v));
}

/* Selection mask of the 8 messages from msgs[i], whose first 4 bytes are in w. */
static inline __attribute__((always_inline)) uint32_t
classify8(const struct fg_filter *f, const struct consts *c, __m256i w, const uint8_t *const *msgs,
	  const uint16_t *lens, unsigned int i, const int with_symbols, const int all_types)
{
	__m256i type = _mm256_and_si256(w, c->ff), tok, isr, want, loc, st;
	unsigned int sel, slow;

	isr = _mm256_cmpeq_epi32(type, c->rr);
	tok = all_types ? _mm256_set1_epi32(-1) : type_bits(c, c->tmask, type);
	if (!with_symbols)
		return lanes(_mm256_or_si256(tok, isr));
	want = _mm256_andnot_si256(isr, tok);
	loc = _mm256_shuffle_epi8(w, c->locshuf);
	st = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)f->lstate,
					 _mm256_srli_epi32(loc, 4), want, 4);
	st = _mm256_srlv_epi32(st, _mm256_slli_epi32(_mm256_and_si256(loc, c->c15), 1));
	sel = lanes(_mm256_or_si256(
		isr,
		_mm256_and_si256(want, _mm256_cmpeq_epi32(_mm256_and_si256(st, c->two), c->two))));
	slow = lanes(_mm256_and_si256(
		want, _mm256_cmpeq_epi32(_mm256_and_si256(st, c->three), _mm256_setzero_si256())));
	if (slow) {
		/* Locate not in the directory yet: match the stock field (rare). */
		slow &= lanes(type_bits(c, c->smask, type));
		sel |= fg_filter_slow_lanes(f, msgs, lens, i, slow);
	}
	return sel;
}

static inline __attribute__((always_inline)) unsigned int
select8(const struct fg_filter *f, const uint8_t *const *msgs, const uint16_t *lens, unsigned int n,
	uint16_t *out, const int with_symbols, const int all_types)
{
	const __m128i three16 = _mm_set1_epi16(3);
	const struct consts c = {
		.tmask = _mm256_loadu_si256((const void *)f->type_mask),
		.smask = _mm256_loadu_si256((const void *)f->stock_types),
		/* Bytes 1 and 2 of each dword (the big-endian locate) into a u32. */
		.locshuf =
			_mm256_setr_epi8(2, 1, -1, -1, 6, 5, -1, -1, 10, 9, -1, -1, 14, 13, -1, -1,
					 2, 1, -1, -1, 6, 5, -1, -1, 10, 9, -1, -1, 14, 13, -1, -1),
		.ff = _mm256_set1_epi32(0xff),
		.c15 = _mm256_set1_epi32(15),
		.c31 = _mm256_set1_epi32(31),
		.one = _mm256_set1_epi32(1),
		.two = _mm256_set1_epi32(FG_LSTATE_SUB),
		.three = _mm256_set1_epi32(FG_LSTATE_SUB | FG_LSTATE_KNOWN),
		.rr = _mm256_set1_epi32('R'),
	};
	__m256i words[FG_FILTER_CHUNK / 8];
	uint8_t masks[FG_FILTER_CHUNK / 8], scalar[FG_FILTER_CHUNK / 8];
	unsigned int k = 0;

	for (unsigned int base = 0; base < n; base += FG_FILTER_CHUNK) {
		unsigned int end = n - base < FG_FILTER_CHUNK ? n : base + FG_FILTER_CHUNK;
		unsigned int i, s, steps = (end - base) / 8;

		/* Pass 1: the first 4 bytes of every message (why apart: fg_filter_avx512.c). */
		for (i = base, s = 0; s < steps; i += 8, s++) {
			__m128i l8 = _mm_loadu_si128((const void *)(lens + i));
			__m256i pa, pb;

			/* min(len, 3) == len  <=>  len <= 3 */
			scalar[s] = _mm_movemask_epi8(
					    _mm_cmpeq_epi16(_mm_min_epu16(l8, three16), l8)) != 0;
			if (scalar[s]) {
				masks[s] = (uint8_t)fg_filter_mask_scalar(f, msgs, lens, i, 8);
				continue;
			}
			pa = _mm256_loadu_si256((const void *)(msgs + i));
			pb = _mm256_loadu_si256((const void *)(msgs + i + 4));
			words[s] = _mm256_set_m128i(_mm256_i64gather_epi32(NULL, pb, 1),
						    _mm256_i64gather_epi32(NULL, pa, 1));
		}
		/* Pass 2: the rules, one mask per step. */
		for (i = base, s = 0; s < steps; i += 8, s++)
			if (!scalar[s])
				masks[s] = (uint8_t)classify8(f, &c, words[s], msgs, lens, i,
							      with_symbols, all_types);
		/* Pass 3: indices. */
		for (i = base, s = 0; s < steps; i += 8, s++) {
			/* Lane numbers of the set bits, one per byte, widened to u16 + i. */
			uint64_t ln = _pext_u64(0x0706050403020100ull,
						_pdep_u64(masks[s], 0x0101010101010101ull) * 0xff);

			/* k <= i, so the 8 slots written at out + k are inside out[0, n). */
			_mm_storeu_si128(
				(void *)(out + k),
				_mm_add_epi16(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)ln)),
					      _mm_set1_epi16((short)i)));
			k += (unsigned int)__builtin_popcount(masks[s]);
		}
		k += fg_filter_tail(f, msgs, lens, i, end, out + k);
	}
	return k;
}

FG_FILTER_SELECT_ENTRY(fg_filter_select_avx2, select8)
