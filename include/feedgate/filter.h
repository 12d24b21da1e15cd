/* SPDX-License-Identifier: MIT */
/*
 * The batch filter: given every ITCH message of one ring batch, say which
 * ones to decode, without decoding any. A subscription is a set of symbols
 * (up to thousands) and a set of message types. Symbols are resolved to
 * stock locates through the directory (R messages, fg_filter_learn()), so
 * the hot test is two table lookups per message: the type byte in a 256-bit
 * mask and the stock locate (offset 1, u16) in a 65,536-entry bitmap.
 *
 * Selection rules, for a message p of length len (p[0] is the type):
 *  - len 0: never selected (there is no type byte).
 *  - 'R' (Stock Directory): always selected, whatever its length, because
 *    the directory is built from it and a malformed one must still reach
 *    the decoder to be counted.
 *  - a type outside the type subscription: not selected.
 *  - no symbol subscription: selected (the filter is then a pure type
 *    filter, so it passes short junk of a subscribed type on to the
 *    decoder, which counts it, exactly as if there were no filter).
 *  - with symbols: len < 3 (no stock locate): not selected. Locate 0
 *    (market-wide: S, V, W, ...): selected. A locate the directory maps to
 *    a subscribed symbol: selected; to another symbol: not selected (the
 *    directory wins over a message's own stock field). A locate not yet in
 *    the directory: a type with a stock field (A F P Q I H Y L K J h N O)
 *    is matched on its 8 space-padded bytes when the message is long enough
 *    to hold them; any other message is not selected.
 * So the only messages shorter than 3 bytes that are ever selected are R
 * messages and, without a symbol subscription, messages of a subscribed
 * type. No byte at or after p + len is ever read.
 *
 * Implementations: a scalar reference, SSE4.2, AVX2 and AVX-512; the best
 * one the CPU supports is chosen at fg_filter_new() (cpuid), and the
 * environment variable FG_FILTER_IMPL=scalar|sse42|avx2|avx512 or
 * fg_filter_set_impl() forces one (for tests and benchmarks). All select
 * exactly the same messages.
 *
 * A filter is not thread-safe: one per consumer thread. Nothing on the
 * select path allocates.
 */
#ifndef FEEDGATE_FILTER_H
#define FEEDGATE_FILTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Indices are u16: one call examines at most this many messages (the rest are not selected). */
#define FG_FILTER_MAX_BATCH 65536u
/* Longest symbol (ITCH stock field). */
#define FG_FILTER_SYMBOL_LEN 8

struct fg_filter;

enum fg_filter_impl {
	FG_FILTER_SCALAR = 0,
	FG_FILTER_SSE42,
	FG_FILTER_AVX2,
	FG_FILTER_AVX512,
	FG_FILTER_NIMPL,
};

/*
 * A filter that selects everything (all types, no symbol subscription): 0 and *out, or
 * -ENOMEM. A bad FG_FILTER_IMPL is not an error: it is warned about and the best
 * implementation used.
 */
int fg_filter_new(struct fg_filter **out);
void fg_filter_free(struct fg_filter *f);

/*
 * Subscribe to symbols, comma separated ("AAPL,MSFT"); blanks around a
 * symbol are ignored. -EINVAL (and nothing added) if one is empty, longer
 * than 8 characters or holds a non-printable or blank character. May be
 * called again to add more; locates already learned are re-resolved.
 */
int fg_filter_add_symbols(struct fg_filter *f, const char *csv);

/*
 * Subscribe to message types, one letter each ("AFEXDUCP"; commas and
 * blanks are ignored). NULL or "" = all types. -EINVAL on a character
 * that is not a letter. Replaces the previous type subscription. R is
 * selected whatever the types.
 */
int fg_filter_set_types(struct fg_filter *f, const char *types);

/* Record a directory entry (from each R message): locate -> 8-byte stock field. */
void fg_filter_learn(struct fg_filter *f, uint16_t stock_locate, const char stock[8]);

/*
 * Select from a batch of n messages (msgs[i] points at the type byte,
 * lens[i] is its length). Writes the indices of the selected messages to
 * out (ascending; out has room for n) and returns how many. The directory
 * is as it was before the call: a message after an R in the same batch is
 * judged without that R (use fg_filter_select_learn() for exactness).
 */
unsigned int fg_filter_select(const struct fg_filter *f, const uint8_t *const *msgs,
			      const uint16_t *lens, unsigned int n, uint16_t *out);

/*
 * As fg_filter_select(), but every well-formed R message (length 39) is
 * learned as it is met, so the messages after it in the same batch are
 * judged with it. Costs the same as fg_filter_select() unless the batch
 * holds R messages that change the directory.
 */
unsigned int fg_filter_select_learn(struct fg_filter *f, const uint8_t *const *msgs,
				    const uint16_t *lens, unsigned int n, uint16_t *out);

/* Number of symbols subscribed (0 = no symbol subscription). */
unsigned int fg_filter_nsymbols(const struct fg_filter *f);

/* 1 if the locate maps (through the directory) to a subscribed symbol. */
int fg_filter_locate_subscribed(const struct fg_filter *f, uint16_t stock_locate);

/* Implementation choice. */
const char *fg_filter_impl_name(enum fg_filter_impl impl);
/* Parse "scalar", "sse42", "avx2", "avx512"; -EINVAL otherwise. */
int fg_filter_impl_parse(const char *name, enum fg_filter_impl *impl);
/* 1 if this CPU can run impl. */
int fg_filter_impl_supported(enum fg_filter_impl impl);
/* The fastest implementation this CPU supports. */
enum fg_filter_impl fg_filter_impl_best(void);
/* Force an implementation: -ENOTSUP if the CPU cannot run it, -EINVAL if impl is unknown. */
int fg_filter_set_impl(struct fg_filter *f, enum fg_filter_impl impl);
enum fg_filter_impl fg_filter_get_impl(const struct fg_filter *f);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_FILTER_H */
