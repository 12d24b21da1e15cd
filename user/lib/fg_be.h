/* SPDX-License-Identifier: MIT */
/*
 * Big-endian stores into wire buffers, for the generators (packets and
 * ITCH days). Wire fields are unaligned, so these write byte by byte; the
 * compiler folds them into one store and a swap.
 */
#ifndef FG_BE_H
#define FG_BE_H

#include <stdint.h>

static inline void fg_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fg_put_be32(uint8_t *p, uint32_t v)
{
	fg_put_be16(p, (uint16_t)(v >> 16));
	fg_put_be16(p + 2, (uint16_t)v);
}

/* ITCH timestamps: 6 bytes. */
static inline void fg_put_be48(uint8_t *p, uint64_t v)
{
	fg_put_be16(p, (uint16_t)(v >> 32));
	fg_put_be32(p + 2, (uint32_t)v);
}

static inline void fg_put_be64(uint8_t *p, uint64_t v)
{
	fg_put_be32(p, (uint32_t)(v >> 32));
	fg_put_be32(p + 4, (uint32_t)v);
}

#endif /* FG_BE_H */
