// SPDX-License-Identifier: MIT
/*
 * Batch filter, SSE4.2: 8 messages per step. SSE has no gather, so the
 * first 4 bytes of each message and its 2-bit locate state are loaded one
 * lane at a time; the type classification (256-bit masks looked up with
 * pshufb), the combination of the rules and the compress of the selected
 * indices (a table of lane numbers per 8-bit mask) are done on all 8 lanes
 * at once, without a branch per message. A step holding a message shorter
 * than 4 bytes goes to the scalar rules. Rules: include/feedgate/filter.h.
 */
#include <immintrin.h>

#include "fg_filter_int.h"

/* 8 type bytes (in u16 lanes) -> 0xffff where the bit of the 256-bit mask (as 32 bytes) is set. */
static inline __m128i type_test(__m128i types, __m128i tlo, __m128i thi)
{
	const __m128i bits =
		_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
	__m128i byte_ix = _mm_srli_epi16(types, 3); /* 0..31, high byte of each lane 0 */
	__m128i hi_half = _mm_cmpgt_epi16(byte_ix, _mm_set1_epi16(15));
	__m128i mb = _mm_blendv_epi8(_mm_shuffle_epi8(tlo, byte_ix), _mm_shuffle_epi8(thi, byte_ix),
				     hi_half);
	__m128i bit = _mm_shuffle_epi8(bits, _mm_and_si128(types, _mm_set1_epi16(7)));

	mb = _mm_and_si128(_mm_and_si128(mb, bit), _mm_set1_epi16(0xff));
	return _mm_xor_si128(_mm_cmpeq_epi16(mb, _mm_setzero_si128()), _mm_set1_epi16(-1));
}

static inline unsigned int lanes(__m128i v)
{
	return (unsigned int)_mm_movemask_epi8(_mm_packs_epi16(v, v)) & 0xff;
}

static inline uint32_t load4(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Selection mask of msgs[i, i + 8). */
static inline __attribute__((always_inline)) uint32_t
step8(const struct fg_filter *f, const uint8_t *const *msgs, const uint16_t *lens, unsigned int i,
      const int with_symbols, const int all_types)
{
	const __m128i l8 = _mm_loadu_si128((const void *)(lens + i));
	const __m128i three = _mm_set1_epi16(3);
	__m128i types, tok, isr;
	uint16_t t[8], st[8];
	unsigned int sel, slow;

	if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_min_epu16(l8, three), l8)))
		return fg_filter_mask_scalar(f, msgs, lens, i, 8);
	for (unsigned int j = 0; j < 8; j++) {
		uint32_t w = load4(msgs[i + j]);

		t[j] = (uint16_t)(w & 0xff);
		if (with_symbols)
			st[j] = (uint16_t)fg_lstate(f->lstate, (w & 0xff00) | ((w >> 16) & 0xff));
	}
	types = _mm_loadu_si128((const void *)t);
	isr = _mm_cmpeq_epi16(types, _mm_set1_epi16('R'));
	if (all_types)
		tok = _mm_set1_epi16(-1);
	else
		tok = type_test(types, _mm_loadu_si128((const void *)f->type_mask),
				_mm_loadu_si128((const void *)(f->type_mask + 4)));
	if (!with_symbols) {
		sel = lanes(_mm_or_si128(tok, isr));
	} else {
		__m128i s = _mm_loadu_si128((const void *)st);
		__m128i want = _mm_andnot_si128(isr, tok), sub, unknown;

		sub = _mm_cmpeq_epi16(_mm_and_si128(s, _mm_set1_epi16(FG_LSTATE_SUB)),
				      _mm_set1_epi16(FG_LSTATE_SUB));
		unknown = _mm_cmpeq_epi16(s, _mm_setzero_si128());
		sel = lanes(_mm_or_si128(isr, _mm_and_si128(want, sub)));
		slow = lanes(_mm_and_si128(want, unknown));
		if (slow) {
			/* Locate not in the directory yet: match the stock field (rare). */
			slow &= lanes(
				type_test(types, _mm_loadu_si128((const void *)f->stock_types),
					  _mm_loadu_si128((const void *)(f->stock_types + 4))));
			sel |= fg_filter_slow_lanes(f, msgs, lens, i, slow);
		}
	}
	return sel;
}

static inline __attribute__((always_inline)) unsigned int
select8(const struct fg_filter *f, const uint8_t *const *msgs, const uint16_t *lens, unsigned int n,
	uint16_t *out, const int with_symbols, const int all_types)
{
	uint8_t masks[FG_FILTER_CHUNK / 8];
	unsigned int k = 0;

	for (unsigned int base = 0; base < n; base += FG_FILTER_CHUNK) {
		unsigned int end = n - base < FG_FILTER_CHUNK ? n : base + FG_FILTER_CHUNK;
		unsigned int i, s;

		for (i = base, s = 0; i + 8 <= end; i += 8, s++)
			masks[s] = (uint8_t)step8(f, msgs, lens, i, with_symbols, all_types);
		for (i = base, s = 0; i + 8 <= end; i += 8, s++) {
			/* k <= i, so the 8 slots written at out + k are inside out[0, n). */
			_mm_storeu_si128(
				(void *)(out + k),
				_mm_add_epi16(
					_mm_loadu_si128(
						(const void *)fg_filter_compress_lut[masks[s]]),
					_mm_set1_epi16((short)i)));
			k += (unsigned int)__builtin_popcount(masks[s]);
		}
		k += fg_filter_tail(f, msgs, lens, i, end, out + k);
	}
	return k;
}

FG_FILTER_SELECT_ENTRY(fg_filter_select_sse42, select8)
