/* SPDX-License-Identifier: MIT */
/*
 * A synthetic but realistic NASDAQ TotalView-ITCH 5.0 day, the encoder
 * behind `feedgate gen` and the input of the pipeline benchmarks.
 *
 * The day opens like a real one: System Event 'O', an MWCB Decline Level,
 * then for every symbol a Stock Directory (R) and a Stock Trading Action
 * (H), then System Event 'S' at 04:00. After that the mix follows two
 * published days: A 43.6%, D 42.6%, U 8.7%, E 2%, X 1.2%, I 1%, F 0.4%,
 * P 0.4%, L 0.05%, C 0.03%, and N Y H Q B J K h under 0.01% each. System
 * Events 'Q' (09:30), 'M' (16:00) and 'E' (20:00) come when the clock
 * passes them. Symbol activity is Zipf-like (a few names carry most orders).
 *
 * Consistency: every D, E, C, X and U names a live order of the same stock
 * locate; executed and cancelled shares never exceed the open shares (an
 * order that reaches 0 is gone); U gives the order a new reference number;
 * order reference numbers are dense and increasing; timestamps never go
 * back (strictly increasing until 24:00, where they stop); each symbol's
 * bids stay below its asks, so a book built from the day is never crossed.
 * The same seed and configuration give the same bytes.
 */
#ifndef FEEDGATE_ITCHGEN_H
#define FEEDGATE_ITCHGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FG_ITCHGEN_DEFAULT_SYMBOLS 8000u
#define FG_ITCHGEN_MAX_SYMBOLS 65535u /* stock locates are u16, 0 is market-wide */
#define FG_ITCHGEN_DEFAULT_LIVE 1000000u

struct fg_itchgen_config {
	uint64_t seed;
	uint32_t symbols; /* 0 = FG_ITCHGEN_DEFAULT_SYMBOLS; at most FG_ITCHGEN_MAX_SYMBOLS */
	uint32_t
		max_live_orders; /* 0 = FG_ITCHGEN_DEFAULT_LIVE; when reached, adds become deletes */
};

struct fg_itchgen;

/*
 * 0 and *out; -EINVAL for more than FG_ITCHGEN_MAX_SYMBOLS symbols (with a warning
 * saying so), -ENOMEM. cfg may be NULL (all defaults).
 */
int fg_itchgen_new(const struct fg_itchgen_config *cfg, struct fg_itchgen **out);
void fg_itchgen_free(struct fg_itchgen *g);

/*
 * Write the next message (type byte first, no length prefix) into buf;
 * returns its length, or 0 if cap is too small for it (nothing consumed:
 * the same message comes with the next call). cap >= 50 always suffices.
 */
size_t fg_itchgen_next(struct fg_itchgen *g, uint8_t *buf, size_t cap);

/* Write n messages as NASDAQ BinaryFILE (u16 BE length + message) to fd; 0 or -errno. */
int fg_itchgen_write_binaryfile(struct fg_itchgen *g, int fd, uint64_t n);

/* Symbols announced (stock locates 1..count). */
uint32_t fg_itchgen_symbols(const struct fg_itchgen *g);
/* Symbol of a stock locate, trailing spaces trimmed; NULL if locate is not 1..count. */
const char *fg_itchgen_symbol(const struct fg_itchgen *g, uint16_t locate);
/* Messages produced so far, and orders live now. */
uint64_t fg_itchgen_count(const struct fg_itchgen *g);
uint32_t fg_itchgen_live_orders(const struct fg_itchgen *g);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_ITCHGEN_H */
