// SPDX-License-Identifier: MIT
/*
 * The batch filter: subscriptions (symbols, types), the directory of stock
 * locates, the scalar reference implementation and the run-time choice of
 * a SIMD implementation (cpuid through __builtin_cpu_supports). The rules
 * are in include/feedgate/filter.h; the vector code is in
 * fg_filter_{sse42,avx2,avx512}.c, which the Makefile builds with the
 * matching -m flags, so those functions are only ever called after the
 * check here says the CPU has the instructions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fg_filter_int.h"
#include "fg_log.h"

uint16_t fg_filter_compress_lut[256][8];

static pthread_once_t lut_once = PTHREAD_ONCE_INIT;

static void lut_init(void)
{
	for (unsigned int m = 0; m < 256; m++) {
		unsigned int k = 0;

		for (unsigned int b = 0; b < 8; b++)
			if (m & (1u << b))
				fg_filter_compress_lut[m][k++] = (uint16_t)b;
		while (k < 8)
			fg_filter_compress_lut[m][k++] = 0;
	}
}

/* Offsets of the stock field (ITCH 5.0 spec section 4; wire facts, "Message catalogue"). */
static const uint8_t stock_offsets[256] = {
	['R'] = 11, ['H'] = 11, ['Y'] = 11, ['L'] = 15, ['K'] = 11, ['J'] = 11, ['h'] = 11,
	['A'] = 24, ['F'] = 24, ['P'] = 24, ['Q'] = 19, ['I'] = 28, ['N'] = 11, ['O'] = 11,
};

static const char *const impl_names[FG_FILTER_NIMPL] = { "scalar", "sse42", "avx2", "avx512" };

static const fg_filter_select_fn impl_fns[FG_FILTER_NIMPL] = {
	fg_filter_select_scalar,
	fg_filter_select_sse42,
	fg_filter_select_avx2,
	fg_filter_select_avx512,
};

const char *fg_filter_impl_name(enum fg_filter_impl impl)
{
	return (unsigned int)impl < FG_FILTER_NIMPL ? impl_names[impl] : "unknown";
}

int fg_filter_impl_parse(const char *name, enum fg_filter_impl *impl)
{
	for (unsigned int i = 0; i < FG_FILTER_NIMPL; i++) {
		if (name && !strcmp(name, impl_names[i])) {
			*impl = (enum fg_filter_impl)i;
			return 0;
		}
	}
	return -EINVAL;
}

int fg_filter_impl_supported(enum fg_filter_impl impl)
{
	__builtin_cpu_init();
	switch (impl) {
	case FG_FILTER_SCALAR:
		return 1;
	case FG_FILTER_SSE42:
		return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
	case FG_FILTER_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		       __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
	case FG_FILTER_AVX512:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi") &&
		       __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
	default:
		return 0;
	}
}

enum fg_filter_impl fg_filter_impl_best(void)
{
	for (int i = FG_FILTER_NIMPL - 1; i > FG_FILTER_SCALAR; i--)
		if (fg_filter_impl_supported((enum fg_filter_impl)i))
			return (enum fg_filter_impl)i;
	return FG_FILTER_SCALAR;
}

int fg_filter_set_impl(struct fg_filter *f, enum fg_filter_impl impl)
{
	if ((unsigned int)impl >= FG_FILTER_NIMPL)
		return -EINVAL;
	if (!fg_filter_impl_supported(impl))
		return -ENOTSUP;
	f->impl = impl;
	f->select = impl_fns[impl];
	return 0;
}

enum fg_filter_impl fg_filter_get_impl(const struct fg_filter *f)
{
	return f->impl;
}

/* --- subscriptions and directory ----------------------------------------------------------- */

static void set_bit(uint32_t *bits, unsigned int i, int on)
{
	if (on)
		bits[i >> 5] |= 1u << (i & 31);
	else
		bits[i >> 5] &= ~(1u << (i & 31));
}

/* Keep the three views of one locate in step. */
static void set_locate(struct fg_filter *f, unsigned int loc, int known, int sub)
{
	set_bit(f->known_bits, loc, known);
	set_bit(f->sub_bits, loc, sub);
	unsigned int sh = (loc & 15) * 2;

	f->lstate[loc >> 4] &= ~(3u << sh);
	f->lstate[loc >> 4] |= ((known ? FG_LSTATE_KNOWN : 0) | (sub ? FG_LSTATE_SUB : 0)) << sh;
}

int fg_filter_new(struct fg_filter **out)
{
	struct fg_filter *f;
	const char *env;

	pthread_once(&lut_once, lut_init);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dir = calloc(65536, sizeof(*f->dir));
	f->rpos = calloc(FG_FILTER_MAX_BATCH, sizeof(*f->rpos));
	f->sym_mask = 15;
	f->syms = calloc(f->sym_mask + 1, sizeof(*f->syms));
	if (!f->dir || !f->rpos || !f->syms) {
		fg_filter_free(f);
		return -ENOMEM;
	}
	memset(f->type_mask, 0xff, sizeof(f->type_mask));
	f->all_types = 1;
	memcpy(f->stock_off, stock_offsets, sizeof(f->stock_off));
	for (unsigned int t = 0; t < 256; t++)
		if (stock_offsets[t])
			set_bit(f->stock_types, t, 1);
	set_locate(f, 0, 0, 1); /* market-wide messages pass when their type does */

	f->impl = fg_filter_impl_best();
	env = getenv("FG_FILTER_IMPL");
	if (env && *env) {
		enum fg_filter_impl want;

		/* A bad override is not worth failing for: the best one works. */
		if (fg_filter_impl_parse(env, &want))
			pr_warn("Couldn't use FG_FILTER_IMPL='%s' (want scalar, sse42, avx2 or "
				"avx512): %s; using %s\n",
				env, strerror(EINVAL), fg_filter_impl_name(f->impl));
		else if (!fg_filter_impl_supported(want))
			pr_warn("Couldn't use FG_FILTER_IMPL='%s' on this CPU: %s; using %s\n", env,
				strerror(ENOTSUP), fg_filter_impl_name(f->impl));
		else
			f->impl = want;
	}
	f->select = impl_fns[f->impl];
	*out = f;
	return 0;
}

void fg_filter_free(struct fg_filter *f)
{
	if (!f)
		return;
	free(f->dir);
	free(f->rpos);
	free(f->syms);
	free(f);
}

static void sym_insert(uint64_t *syms, uint32_t mask, uint64_t key)
{
	uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;

	while (syms[i] && syms[i] != key)
		i = (i + 1) & mask;
	syms[i] = key;
}

/* Grow the symbol set so that n more keys keep it at most half full. */
static int sym_reserve(struct fg_filter *f, unsigned int more)
{
	uint64_t need = 2 * ((uint64_t)f->nsyms + more), cap = f->sym_mask + 1ull;
	uint64_t *syms;

	if (need <= cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > (1ull << 31))
		return -E2BIG;
	syms = calloc(cap, sizeof(*syms));
	if (!syms)
		return -ENOMEM;
	for (uint32_t i = 0; i <= f->sym_mask; i++)
		if (f->syms[i])
			sym_insert(syms, (uint32_t)cap - 1, f->syms[i]);
	free(f->syms);
	f->syms = syms;
	f->sym_mask = (uint32_t)cap - 1;
	return 0;
}

/* One symbol of a CSV list into its space-padded 8-byte stock field; -EINVAL if not a symbol. */
static int parse_symbol(const char *s, size_t n, uint64_t *key)
{
	char field[8];

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n > FG_FILTER_SYMBOL_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return -EINVAL;
	memset(field, ' ', sizeof(field));
	memcpy(field, s, n);
	*key = fg_filter_key(field);
	return 0;
}

int fg_filter_add_symbols(struct fg_filter *f, const char *csv)
{
	unsigned int count = 0;
	const char *s, *e;
	uint64_t key;
	int err;

	if (!csv)
		return -EINVAL;
	/* Validate everything first: a bad list adds nothing. */
	for (s = csv;; s = e + 1) {
		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		if (parse_symbol(s, (size_t)(e - s), &key))
			return -EINVAL;
		count++;
		if (!*e)
			break;
	}
	err = sym_reserve(f, count);
	if (err)
		return err;
	for (s = csv;; s = e + 1) {
		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		parse_symbol(s, (size_t)(e - s), &key);
		if (!fg_filter_sym_has(f, key)) {
			sym_insert(f->syms, f->sym_mask, key);
			f->nsyms++;
		}
		if (!*e)
			break;
	}
	/* Locates already in the directory may now be subscribed. */
	for (unsigned int w = 0; w < 65536 / 32; w++) {
		uint32_t bits = f->known_bits[w];

		while (bits) {
			unsigned int loc = w * 32 + (unsigned int)__builtin_ctz(bits);

			bits &= bits - 1;
			set_locate(f, loc, 1, fg_filter_sym_has(f, f->dir[loc]));
		}
	}
	return 0;
}

int fg_filter_set_types(struct fg_filter *f, const char *types)
{
	uint32_t mask[8] = { 0 };

	if (!types || !*types) {
		memset(f->type_mask, 0xff, sizeof(f->type_mask));
		f->all_types = 1;
		return 0;
	}
	for (const char *p = types; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ',' || c == ' ')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return -EINVAL;
		mask[c >> 5] |= 1u << (c & 31);
	}
	memcpy(f->type_mask, mask, sizeof(mask));
	f->all_types = 0;
	return 0;
}

void fg_filter_learn(struct fg_filter *f, uint16_t stock_locate, const char stock[8])
{
	uint64_t key = fg_filter_key(stock);

	if (stock_locate == 0) /* 0 is reserved for market-wide messages */
		return;
	f->dir[stock_locate] = key;
	set_locate(f, stock_locate, 1, f->nsyms && fg_filter_sym_has(f, key));
}

unsigned int fg_filter_nsymbols(const struct fg_filter *f)
{
	return f->nsyms;
}

int fg_filter_locate_subscribed(const struct fg_filter *f, uint16_t stock_locate)
{
	if (!f->nsyms)
		return 1;
	return fg_filter_bit(f->sub_bits, stock_locate);
}

/* --- selection ----------------------------------------------------------------------------- */

unsigned int fg_filter_select_scalar(const struct fg_filter *f, const uint8_t *const *msgs,
				     const uint16_t *lens, unsigned int n, uint16_t *out)
{
	return fg_filter_run_scalar(f, msgs, lens, 0, n, out);
}

unsigned int fg_filter_select(const struct fg_filter *f, const uint8_t *const *msgs,
			      const uint16_t *lens, unsigned int n, uint16_t *out)
{
	if (n > FG_FILTER_MAX_BATCH)
		n = FG_FILTER_MAX_BATCH;
	return f->select(f, msgs, lens, n, out);
}

/* Would learning this R change what the filter decides for its locate? */
static int learn_changes(const struct fg_filter *f, const uint8_t *p, uint16_t len)
{
	unsigned int loc;
	uint64_t key;

	if (len != 39 || p[0] != 'R')
		return 0;
	loc = ((unsigned int)p[1] << 8) | p[2];
	key = fg_filter_key(p + 11);
	return loc && (!fg_filter_bit(f->known_bits, loc) || f->dir[loc] != key);
}

/* Select msgs[from, to) into out, indices relative to msgs. */
static unsigned int select_range(const struct fg_filter *f, const uint8_t *const *msgs,
				 const uint16_t *lens, unsigned int from, unsigned int to,
				 uint16_t *out)
{
	unsigned int k = f->select(f, msgs + from, lens + from, to - from, out);

	if (from)
		for (unsigned int j = 0; j < k; j++)
			out[j] = (uint16_t)(out[j] + from);
	return k;
}

unsigned int fg_filter_select_learn(struct fg_filter *f, const uint8_t *const *msgs,
				    const uint16_t *lens, unsigned int n, uint16_t *out)
{
	unsigned int k, nr = 0, total = 0, seg = 0;
	int dirty = 0;

	if (n > FG_FILTER_MAX_BATCH)
		n = FG_FILTER_MAX_BATCH;
	/*
	 * R is always selected, so one pass finds every R of the batch. If none
	 * changes the directory, that pass is the answer. Otherwise the batch is
	 * judged again segment by segment, each segment with the directory as it
	 * stands after the R that opens it: linear in n however many R there are.
	 */
	k = f->select(f, msgs, lens, n, out);
	for (unsigned int j = 0; j < k; j++)
		if (msgs[out[j]][0] == 'R')
			f->rpos[nr++] = out[j];
	for (unsigned int r = 0; r < nr; r++) {
		unsigned int idx = f->rpos[r];
		const uint8_t *p = msgs[idx];

		if (!learn_changes(f, p, lens[idx]))
			continue;
		if (!dirty) {
			/* The first pass judged everything before idx with this directory. */
			while (total < k && out[total] < idx)
				total++;
		} else {
			total += select_range(f, msgs, lens, seg, idx, out + total);
		}
		out[total++] = (uint16_t)idx;
		fg_filter_learn(f, (uint16_t)(((unsigned int)p[1] << 8) | p[2]),
				(const char *)p + 11);
		seg = idx + 1;
		dirty = 1;
	}
	if (!dirty)
		return k;
	if (seg < n)
		total += select_range(f, msgs, lens, seg, n, out + total);
	return total;
}
