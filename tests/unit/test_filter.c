// SPDX-License-Identifier: MIT
/*
 * The batch filter: subscriptions parse as documented; the scalar reference
 * follows the rules of include/feedgate/filter.h (checked against a naive
 * oracle written here from those rules); every SIMD variant the CPU
 * supports selects exactly what the scalar reference selects, on random
 * bytes, on generated days and on the real captures; no variant reads past
 * a message (messages placed against a guard page).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FG_TEST_WARNINGS
#include "fg_cunit.h"
#include "feedgate/filter.h"
#include "feedgate/itchgen.h"
#include "feedgate/log.h"

#define POOL 16 /* symbols random messages draw from */
#define MAX_LOC 64 /* random messages use locates 0..MAX_LOC */
#define MAX_MSGS 4096

static const char types_known[] = "SRHYLVWKJhAFECXDUPQBINO";
static const uint8_t lens_known[256] = {
	['S'] = 12, ['R'] = 39, ['H'] = 25, ['Y'] = 20, ['L'] = 26, ['V'] = 35,
	['W'] = 12, ['K'] = 28, ['J'] = 35, ['h'] = 21, ['A'] = 36, ['F'] = 40,
	['E'] = 31, ['C'] = 36, ['X'] = 23, ['D'] = 19, ['U'] = 35, ['P'] = 44,
	['Q'] = 40, ['B'] = 19, ['I'] = 50, ['N'] = 20, ['O'] = 48,
};
/* Written from the spec table, independently of the library's own. */
static const uint8_t stock_at[256] = {
	['R'] = 11, ['H'] = 11, ['Y'] = 11, ['L'] = 15, ['K'] = 11, ['J'] = 11, ['h'] = 11,
	['A'] = 24, ['F'] = 24, ['P'] = 24, ['Q'] = 19, ['I'] = 28, ['N'] = 11, ['O'] = 11,
};

static uint64_t rng_state = 0x1234567887654321ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* --- a naive oracle of the documented rules ------------------------------------------------ */

struct oracle {
	int all_types;
	uint8_t types[256];
	unsigned int nsym;
	char sym[POOL * 8][8];
	uint8_t known[65536];
	char dir[65536][8];
};

static int oracle_has(const struct oracle *o, const void *stock)
{
	for (unsigned int i = 0; i < o->nsym; i++)
		if (!memcmp(o->sym[i], stock, 8))
			return 1;
	return 0;
}

static int oracle_select(const struct oracle *o, const uint8_t *p, unsigned int len)
{
	unsigned int loc;

	if (len < 1)
		return 0;
	if (p[0] == 'R')
		return 1;
	if (!o->all_types && !o->types[p[0]])
		return 0;
	if (o->nsym == 0)
		return 1;
	if (len < 3)
		return 0;
	loc = p[1] * 256u + p[2];
	if (loc == 0)
		return 1;
	if (o->known[loc])
		return oracle_has(o, o->dir[loc]);
	if (!stock_at[p[0]] || len < stock_at[p[0]] + 8u)
		return 0;
	return oracle_has(o, p + stock_at[p[0]]);
}

static void pad8(char out[8], const char *s)
{
	memset(out, ' ', 8);
	memcpy(out, s, strlen(s));
}

static void pool_name(char *buf, unsigned int i)
{
	sprintf(buf, "SY%u", i);
}

/* --- helpers ------------------------------------------------------------------------------- */

/* The constructors return 0 or -errno; a test only wants the object (NULL fails it). */
static struct fg_filter *any_filter(void)
{
	struct fg_filter *f = NULL;

	CU_ASSERT_EQUAL(fg_filter_new(&f), 0);
	return f;
}

static struct fg_itchgen *new_itchgen(const struct fg_itchgen_config *cfg)
{
	struct fg_itchgen *g = NULL;

	CU_ASSERT_EQUAL(fg_itchgen_new(cfg, &g), 0);
	return g;
}

static struct fg_filter *new_filter(enum fg_filter_impl impl)
{
	struct fg_filter *f = any_filter();

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fg_filter_set_impl(f, impl) == 0);
	return f;
}

/* Every supported variant (scalar first) on one batch: the same indices, in order. */
static unsigned int compare_variants(struct fg_filter *const *fs, const uint8_t *const *msgs,
				     const uint16_t *lens, unsigned int n, unsigned int *mismatch)
{
	static uint16_t ref[MAX_MSGS + 16], got[MAX_MSGS + 16];
	unsigned int k = fg_filter_select(fs[0], msgs, lens, n, ref);

	for (unsigned int i = 1; i < k; i++)
		if (ref[i] <= ref[i - 1])
			(*mismatch)++;
	for (int v = 1; v < FG_FILTER_NIMPL; v++) {
		unsigned int kv;

		if (!fs[v])
			continue;
		kv = fg_filter_select(fs[v], msgs, lens, n, got);
		if (kv != k || memcmp(ref, got, k * sizeof(*ref))) {
			if (*mismatch < 3)
				printf("\n    %s differs from scalar: %u vs %u selected of %u ",
				       fg_filter_impl_name((enum fg_filter_impl)v), kv, k, n);
			(*mismatch)++;
		}
	}
	return k;
}

static void open_all(struct fg_filter **fs)
{
	for (int v = 0; v < FG_FILTER_NIMPL; v++)
		fs[v] = fg_filter_impl_supported((enum fg_filter_impl)v)
				? new_filter((enum fg_filter_impl)v)
				: NULL;
}

static void free_all(struct fg_filter **fs)
{
	for (int v = 0; v < FG_FILTER_NIMPL; v++)
		fg_filter_free(fs[v]);
}

/* --- subscriptions ------------------------------------------------------------------------- */

static void test_filter_rejects_bad_symbols(void)
{
	struct fg_filter *f = any_filter();
	const char *bad[] = { "",      ",",   "AAPL,,MSFT", "AAPL,",  "TOOLONGSY",
			      "A\x01", "A B", "AB\x7f",	    " , AAPL" };

	CU_ASSERT_FATAL(f != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(fg_filter_add_symbols(f, bad[i]), -EINVAL);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, NULL), -EINVAL);
	/* A bad list adds nothing, not even its good part. */
	CU_ASSERT_EQUAL(fg_filter_nsymbols(f), 0);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, "AAPL, MSFT ,BRK.A,EIGHTCHR"), 0);
	CU_ASSERT_EQUAL(fg_filter_nsymbols(f), 4);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, "AAPL"), 0); /* already there */
	CU_ASSERT_EQUAL(fg_filter_nsymbols(f), 4);
	fg_filter_free(f);
}

static void test_filter_thousands_of_symbols(void)
{
	struct fg_filter *f = any_filter();
	char *csv = malloc(5000 * 9), *p = csv, stock[8], name[16];

	CU_ASSERT_FATAL(f && csv);
	for (int i = 0; i < 5000; i++)
		p += sprintf(p, "%sZ%d", i ? "," : "", i);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, csv), 0);
	CU_ASSERT_EQUAL(fg_filter_nsymbols(f), 5000);
	for (int i = 0; i < 5000; i += 97) {
		sprintf(name, "Z%d", i);
		pad8(stock, name);
		fg_filter_learn(f, (uint16_t)(i + 1), stock);
		CU_ASSERT_TRUE(fg_filter_locate_subscribed(f, (uint16_t)(i + 1)));
	}
	pad8(stock, "Z5000");
	fg_filter_learn(f, 9999, stock);
	CU_ASSERT_FALSE(fg_filter_locate_subscribed(f, 9999));
	free(csv);
	fg_filter_free(f);
}

static void test_filter_rejects_bad_types(void)
{
	struct fg_filter *f = any_filter();

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(fg_filter_set_types(f, "AF1"), -EINVAL);
	CU_ASSERT_EQUAL(fg_filter_set_types(f, "A-F"), -EINVAL);
	CU_ASSERT_EQUAL(fg_filter_set_types(f, "A,F, E h"), 0);
	CU_ASSERT_EQUAL(fg_filter_set_types(f, NULL), 0);
	CU_ASSERT_EQUAL(fg_filter_set_types(f, ""), 0);
	fg_filter_free(f);
}

static void test_filter_impl_choice(void)
{
	struct fg_filter *f;
	enum fg_filter_impl impl;

	CU_ASSERT_TRUE(fg_filter_impl_supported(FG_FILTER_SCALAR));
	CU_ASSERT_TRUE(fg_filter_impl_supported(fg_filter_impl_best()));
	CU_ASSERT_EQUAL(fg_filter_impl_parse("avx2", &impl), 0);
	CU_ASSERT_EQUAL(impl, FG_FILTER_AVX2);
	CU_ASSERT_EQUAL(fg_filter_impl_parse("avx3", &impl), -EINVAL);
	CU_ASSERT_STRING_EQUAL(fg_filter_impl_name(FG_FILTER_AVX512), "avx512");

	setenv("FG_FILTER_IMPL", "scalar", 1);
	f = any_filter();
	unsetenv("FG_FILTER_IMPL");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(fg_filter_get_impl(f), FG_FILTER_SCALAR);
	CU_ASSERT_EQUAL(fg_filter_set_impl(f, FG_FILTER_NIMPL), -EINVAL);
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		int err = fg_filter_set_impl(f, (enum fg_filter_impl)v);

		CU_ASSERT_EQUAL(err,
				fg_filter_impl_supported((enum fg_filter_impl)v) ? 0 : -ENOTSUP);
	}
	fg_filter_free(f);
	f = any_filter();
	CU_ASSERT_EQUAL(fg_filter_get_impl(f), fg_filter_impl_best());
	fg_filter_free(f);

	/* A bad override is a warning through the print function, and the best one runs. */
	{
		char want[256];
		fg_print_fn_t old = fg_set_print(fg_take_warning);

		setenv("FG_FILTER_IMPL", "avx3", 1);
		f = any_filter();
		unsetenv("FG_FILTER_IMPL");
		fg_set_print(old);
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_EQUAL(fg_filter_get_impl(f), fg_filter_impl_best());
		fg_filter_free(f);
		snprintf(want, sizeof(want),
			 "Couldn't use FG_FILTER_IMPL='avx3' (want scalar, sse42, avx2 or avx512): "
			 "Invalid argument; using %s\n",
			 fg_filter_impl_name(fg_filter_impl_best()));
		CU_ASSERT_EQUAL(fg_nwarned, 1);
		CU_ASSERT_STRING_EQUAL(fg_warned, want);
	}
	printf("\n    best here: %s ", fg_filter_impl_name(fg_filter_impl_best()));
}

/* --- the rules, one case each -------------------------------------------------------------- */

static size_t msg(uint8_t *p, char type, uint16_t loc, const char *stock)
{
	size_t len = lens_known[(uint8_t)type];

	memset(p, 0, len);
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)(loc >> 8);
	p[2] = (uint8_t)loc;
	if (stock && stock_at[(uint8_t)type])
		pad8((char *)p + stock_at[(uint8_t)type], stock);
	return len;
}

static void test_filter_rules_each_case(void)
{
	static uint8_t buf[64][64];
	const uint8_t *msgs[64];
	uint16_t lens[64], out[64];
	struct fg_filter *fs[FG_FILTER_NIMPL];
	char aapl[8];
	/* Expected selection with symbols AAPL, types A F D E R S; AAPL = locate 7, IBM = 9. */
	static const struct {
		char type;
		uint16_t loc;
		const char *stock;
		int len; /* -1: the type's length */
		int want;
	} cases[] = {
		{ 'A', 7, "AAPL", -1, 1 }, /* subscribed locate */
		{ 'A', 9, "AAPL", -1, 0 }, /* locate known as IBM: the directory wins */
		{ 'D', 7, NULL, -1, 1 }, /* no stock field, subscribed locate */
		{ 'D', 9, NULL, -1, 0 },
		{ 'D', 11, NULL, -1, 0 }, /* unknown locate, no stock field */
		{ 'A', 11, "AAPL", -1, 1 }, /* unknown locate, matched on its stock field */
		{ 'A', 11, "AAPL", 31, 0 }, /* ... but too short to hold it */
		{ 'A', 11, "MSFT", -1, 0 },
		{ 'X', 7, NULL, -1, 0 }, /* type not subscribed */
		{ 'S', 0, NULL, -1, 1 }, /* market-wide */
		{ 'R', 9, "IBM", -1, 1 }, /* R always */
		{ 'R', 9, "IBM", 1, 1 }, /* even when it is junk */
		{ 'R', 9, "IBM", 0, 0 }, /* but not without a type byte */
		{ 'A', 7, "AAPL", 2, 0 }, /* no locate */
		{ 'E', 7, NULL, 3, 1 }, /* short, but the locate is there */
		{ 'E', 7, NULL, 4, 1 },
		{ 'Z', 7, NULL, 30, 0 }, /* unknown type, not subscribed */
	};
	const unsigned int nc = sizeof(cases) / sizeof(cases[0]);

	open_all(fs);
	pad8(aapl, "AAPL");
	for (unsigned int i = 0; i < nc; i++) {
		uint8_t t = (uint8_t)cases[i].type;

		memset(buf[i], 0, sizeof(buf[i]));
		buf[i][0] = t;
		buf[i][1] = (uint8_t)(cases[i].loc >> 8);
		buf[i][2] = (uint8_t)cases[i].loc;
		if (cases[i].stock && stock_at[t])
			pad8((char *)buf[i] + stock_at[t], cases[i].stock);
		msgs[i] = buf[i];
		lens[i] = (uint16_t)(cases[i].len < 0 ? lens_known[t] : cases[i].len);
	}
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		char ibm[8];
		unsigned int k, j = 0;

		if (!fs[v])
			continue;
		pad8(ibm, "IBM");
		CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], "AAPL"), 0);
		CU_ASSERT_EQUAL(fg_filter_set_types(fs[v], "AFDES"), 0);
		fg_filter_learn(fs[v], 7, aapl);
		fg_filter_learn(fs[v], 9, ibm);
		/* Pad to 32 so the vector body (not only the tail) sees every case. */
		for (unsigned int i = nc; i < 32; i++) {
			msgs[i] = buf[0];
			lens[i] = 36;
		}
		k = fg_filter_select(fs[v], msgs, lens, 32, out);
		for (unsigned int i = 0; i < nc; i++) {
			int got = j < k && out[j] == i;

			if (got)
				j++;
			if (got != cases[i].want)
				printf("\n    %s: case %u (%c loc %u len %u): got %d ",
				       fg_filter_impl_name((enum fg_filter_impl)v), i,
				       cases[i].type, cases[i].loc, lens[i], got);
			CU_ASSERT_EQUAL(got, cases[i].want);
		}
		CU_ASSERT_EQUAL(k - j, 32 - nc); /* the padding: AAPL adds, all selected */
	}
	free_all(fs);
}

static void test_filter_no_symbols_is_a_type_filter(void)
{
	uint8_t a[36], x[23], junk[2] = { 'X', 0 }, r[1] = { 'R' }, e[1] = { 'A' };
	const uint8_t *msgs[5] = { a, x, junk, r, e };
	uint16_t lens[5] = { 36, 23, 2, 1, 0 }, out[5];
	struct fg_filter *f = any_filter();
	unsigned int k;

	CU_ASSERT_FATAL(f != NULL);
	msg(a, 'A', 5, "AAPL");
	msg(x, 'X', 5, NULL);
	k = fg_filter_select(f, msgs, lens, 5, out);
	CU_ASSERT_EQUAL(k, 4); /* everything with a type byte */
	CU_ASSERT_EQUAL(fg_filter_set_types(f, "X"), 0);
	k = fg_filter_select(f, msgs, lens, 5, out);
	CU_ASSERT_EQUAL(k, 3); /* X, the 2-byte X junk, R */
	CU_ASSERT_EQUAL(out[0], 1);
	CU_ASSERT_EQUAL(out[1], 2);
	CU_ASSERT_EQUAL(out[2], 3);
	fg_filter_free(f);
}

static void test_filter_symbols_added_after_learning(void)
{
	uint8_t d[19];
	const uint8_t *msgs[1] = { d };
	uint16_t lens[1] = { 19 }, out[1];
	struct fg_filter *f = any_filter();
	char stock[8];

	CU_ASSERT_FATAL(f != NULL);
	pad8(stock, "MSFT");
	fg_filter_learn(f, 42, stock);
	msg(d, 'D', 42, NULL);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, "AAPL"), 0);
	CU_ASSERT_EQUAL(fg_filter_select(f, msgs, lens, 1, out), 0);
	CU_ASSERT_EQUAL(fg_filter_add_symbols(f, "MSFT"), 0);
	CU_ASSERT_EQUAL(fg_filter_select(f, msgs, lens, 1, out), 1);
	/* The locate is reassigned (a new session): it follows the directory. */
	pad8(stock, "IBM");
	fg_filter_learn(f, 42, stock);
	CU_ASSERT_EQUAL(fg_filter_select(f, msgs, lens, 1, out), 0);
	fg_filter_free(f);
}

static void test_filter_select_learn_sees_r_in_same_batch(void)
{
	static uint8_t buf[200][40];
	const uint8_t *msgs[200];
	uint16_t lens[200], out[200];
	struct fg_filter *fs[FG_FILTER_NIMPL];

	open_all(fs);
	/* D of locate 3, R(3 = AAPL), D of locate 3, ... with many more R in between. */
	for (unsigned int i = 0; i < 200; i++) {
		unsigned int loc = 1 + i / 2;

		msgs[i] = buf[i];
		if (i % 2 == 0)
			lens[i] = (uint16_t)msg(buf[i], 'R', (uint16_t)loc,
						loc % 7 ? "OTHER" : "AAPL");
		else
			lens[i] = (uint16_t)msg(buf[i], 'D', (uint16_t)loc, NULL);
	}
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		unsigned int k, nd = 0;

		if (!fs[v])
			continue;
		CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], "AAPL"), 0);
		/* Plain select judges the D messages without the R before them. */
		k = fg_filter_select(fs[v], msgs, lens, 200, out);
		CU_ASSERT_EQUAL(k, 100);
		k = fg_filter_select_learn(fs[v], msgs, lens, 200, out);
		for (unsigned int j = 0; j < k; j++) {
			if (j)
				CU_ASSERT_TRUE(out[j] > out[j - 1]);
			if (msgs[out[j]][0] == 'D') {
				nd++;
				CU_ASSERT_EQUAL((1 + out[j] / 2) % 7, 0);
			}
		}
		CU_ASSERT_EQUAL(nd, 14); /* locates 7, 14, ..., 98 */
		CU_ASSERT_EQUAL(k, 114);
		/* Again: nothing changes the directory now, the plain path gives the same. */
		CU_ASSERT_EQUAL(fg_filter_select_learn(fs[v], msgs, lens, 200, out), 114);
		CU_ASSERT_EQUAL(fg_filter_select(fs[v], msgs, lens, 200, out), 114);
	}
	free_all(fs);
}

/* --- random input -------------------------------------------------------------------------- */

static size_t random_msg(uint8_t *p, size_t cap, struct oracle *o)
{
	uint32_t r = rnd() % 100;
	uint8_t type = r < 90 ? (uint8_t)types_known[rnd() % 23] : (uint8_t)rnd();
	size_t len;

	(void)o;
	if (rnd() % 100 < 70 && lens_known[type])
		len = lens_known[type];
	else
		len = rnd() % 61;
	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	if (len >= 1)
		p[0] = type;
	if (len >= 3) {
		unsigned int loc = rnd() % 20 ? 1 + rnd() % MAX_LOC : 0;

		p[1] = (uint8_t)(loc >> 8);
		p[2] = (uint8_t)loc;
	}
	if (stock_at[type] && len >= stock_at[type] + 8u && rnd() % 4) {
		char name[16];

		pool_name(name, rnd() % POOL);
		pad8((char *)p + stock_at[type], name);
	}
	return len;
}

/* Random subscription applied to the oracle and every filter. */
static void random_subscription(struct oracle *o, struct fg_filter **fs)
{
	char csv[POOL * 8] = "", name[16], types[32] = "";
	unsigned int nt = 0;

	memset(o, 0, sizeof(*o));
	if (rnd() % 4) {
		for (unsigned int i = 0; i < POOL; i++) {
			if (rnd() % 3)
				continue;
			pool_name(name, i);
			if (*csv)
				strcat(csv, ",");
			strcat(csv, name);
			pad8(o->sym[o->nsym++], name);
		}
	}
	o->all_types = rnd() % 3 == 0;
	if (!o->all_types) {
		for (unsigned int i = 0; i < 23; i++) {
			if (rnd() % 2) {
				types[nt++] = types_known[i];
				o->types[(uint8_t)types_known[i]] = 1;
			}
		}
		if (!nt) /* "" means all types */
			o->all_types = 1;
	}
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		if (!fs[v])
			continue;
		fg_filter_free(fs[v]);
		fs[v] = new_filter((enum fg_filter_impl)v);
		if (*csv)
			CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], csv), 0);
		CU_ASSERT_EQUAL(fg_filter_set_types(fs[v], types), 0);
	}
	/* A directory for some locates (learned before or after subscribing: same outcome). */
	for (unsigned int loc = 1; loc <= MAX_LOC; loc++) {
		char stock[8];

		if (rnd() % 2)
			continue;
		pool_name(name, rnd() % POOL);
		pad8(stock, name);
		o->known[loc] = 1;
		memcpy(o->dir[loc], stock, 8);
		for (int v = 0; v < FG_FILTER_NIMPL; v++)
			if (fs[v])
				fg_filter_learn(fs[v], (uint16_t)loc, stock);
	}
}

static void test_filter_variants_equal_scalar_on_random_input(void)
{
	static uint8_t buf[MAX_MSGS * 64];
	static const uint8_t *msgs[MAX_MSGS];
	static uint16_t lens[MAX_MSGS], out[MAX_MSGS];
	struct fg_filter *fs[FG_FILTER_NIMPL];
	static struct oracle o;
	unsigned int mismatch = 0, oracle_bad = 0, total = 0, selected = 0;

	open_all(fs);
	for (int round = 0; round < 400; round++) {
		unsigned int n =
			round < 40 ? (unsigned int)round : rnd() % (round % 10 ? 300 : MAX_MSGS);
		size_t off = 0;
		unsigned int k;

		random_subscription(&o, fs);
		for (unsigned int i = 0; i < n; i++) {
			lens[i] = (uint16_t)random_msg(buf + off, 64, &o);
			msgs[i] = buf + off;
			off += 64;
		}
		k = compare_variants(fs, msgs, lens, n, &mismatch);
		/* The scalar reference against the oracle of the documented rules. */
		fg_filter_select(fs[0], msgs, lens, n, out);
		for (unsigned int i = 0, j = 0; i < n; i++) {
			int got = j < k && out[j] == i;

			j += (unsigned int)got;
			if (got != oracle_select(&o, msgs[i], lens[i]))
				oracle_bad++;
		}
		total += n;
		selected += k;
	}
	printf("\n    %u messages, %u selected ", total, selected);
	CU_ASSERT_EQUAL(mismatch, 0);
	CU_ASSERT_EQUAL(oracle_bad, 0);
	CU_ASSERT_TRUE(selected > total / 10 && selected < total); /* the input exercised both */
	free_all(fs);
}

/* Every message ends on the last byte before a PROT_NONE page: a read past it faults. */
static void test_filter_never_reads_past_a_message(void)
{
	const long pg = sysconf(_SC_PAGESIZE);
	const unsigned int n = 96;
	uint8_t *area = mmap(NULL, (size_t)pg * 2 * n, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const uint8_t *msgs[96];
	static uint16_t lens[96];
	struct fg_filter *fs[FG_FILTER_NIMPL];
	static struct oracle o;
	unsigned int mismatch = 0;

	CU_ASSERT_FATAL(area != MAP_FAILED);
	open_all(fs);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t tmp[64];
		size_t len = random_msg(tmp, 64, &o);

		/* Mostly real lengths, some of 0..4 (the short-message path). */
		if (i % 7 == 3)
			len = i % 5;
		CU_ASSERT_FATAL(mprotect(area + (2 * i + 1) * pg, (size_t)pg, PROT_NONE) == 0);
		msgs[i] = area + (2 * i + 1) * pg - len;
		memcpy((uint8_t *)msgs[i], tmp, len);
		lens[i] = (uint16_t)len;
	}
	for (int round = 0; round < 50; round++) {
		random_subscription(&o, fs);
		compare_variants(fs, msgs, lens, n, &mismatch);
		for (int v = 0; v < FG_FILTER_NIMPL; v++) {
			uint16_t out[96];

			if (fs[v])
				fg_filter_select_learn(fs[v], msgs, lens, n, out);
		}
	}
	CU_ASSERT_EQUAL(mismatch, 0);
	free_all(fs);
	munmap(area, (size_t)pg * 2 * n);
}

/* --- generated days ------------------------------------------------------------------------ */

struct day {
	uint8_t *buf;
	const uint8_t **msgs;
	uint16_t *lens;
	unsigned int n;
};

static int make_day(struct day *d, uint64_t seed, unsigned int n, uint32_t symbols)
{
	struct fg_itchgen_config cfg = { .seed = seed, .symbols = symbols };
	struct fg_itchgen *g = new_itchgen(&cfg);
	size_t off = 0;

	d->buf = malloc((size_t)n * 64);
	d->msgs = malloc(n * sizeof(*d->msgs));
	d->lens = malloc(n * sizeof(*d->lens));
	if (!g || !d->buf || !d->msgs || !d->lens)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		d->lens[i] = (uint16_t)fg_itchgen_next(g, d->buf + off, 64);
		d->msgs[i] = d->buf + off;
		off += d->lens[i];
	}
	d->n = n;
	fg_itchgen_free(g);
	return 0;
}

static void free_day(struct day *d)
{
	free(d->buf);
	free(d->msgs);
	free(d->lens);
}

/* The day through every variant in batches, learning R as a pipeline would. */
static void run_day(const struct day *d, struct fg_filter *const *fs, unsigned int batch,
		    unsigned int *mismatch, uint64_t *selected)
{
	static uint16_t out[MAX_MSGS];

	for (unsigned int i = 0; i < d->n; i += batch) {
		unsigned int n = d->n - i < batch ? d->n - i : batch;

		*selected += compare_variants(fs, d->msgs + i, d->lens + i, n, mismatch);
		for (int v = 0; v < FG_FILTER_NIMPL; v++)
			if (fs[v])
				fg_filter_select_learn(fs[v], d->msgs + i, d->lens + i, n, out);
	}
}

static void test_filter_variants_equal_scalar_on_generated_day(void)
{
	struct fg_filter *fs[FG_FILTER_NIMPL];
	struct day d = { 0 };
	const unsigned int nsym = 2000;
	struct fg_itchgen_config cfg = { .seed = 77, .symbols = nsym };
	struct fg_itchgen *g = new_itchgen(&cfg);
	unsigned int mismatch = 0;
	uint64_t sel_all = 0, sel_sub = 0, sel_types = 0;
	char csv[100 * 10] = "";

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_FATAL(make_day(&d, 77, 1000000, nsym) == 0);
	/* No subscription: everything. */
	open_all(fs);
	run_day(&d, fs, 1024, &mismatch, &sel_all);
	CU_ASSERT_EQUAL(sel_all, d.n);
	free_all(fs);
	/* 100 symbols (every 20th locate), all types. */
	for (unsigned int i = 0; i < 100; i++) {
		if (i)
			strcat(csv, ",");
		strcat(csv, fg_itchgen_symbol(g, (uint16_t)(1 + 20 * i)));
	}
	open_all(fs);
	for (int v = 0; v < FG_FILTER_NIMPL; v++)
		if (fs[v])
			CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], csv), 0);
	run_day(&d, fs, 1000, &mismatch, &sel_sub);
	free_all(fs);
	/* The same 100 symbols and book types, batches of odd sizes. */
	open_all(fs);
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		if (!fs[v])
			continue;
		CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], csv), 0);
		CU_ASSERT_EQUAL(fg_filter_set_types(fs[v], "AFECXDU"), 0);
	}
	run_day(&d, fs, 333, &mismatch, &sel_types);
	free_all(fs);
	printf("\n    %u messages: all %llu, 100 symbols %llu, +types %llu ", d.n,
	       (unsigned long long)sel_all, (unsigned long long)sel_sub,
	       (unsigned long long)sel_types);
	CU_ASSERT_EQUAL(mismatch, 0);
	CU_ASSERT_TRUE(sel_sub > 2 * nsym && sel_sub < d.n / 4);
	CU_ASSERT_TRUE(sel_types < sel_sub && sel_types > sel_sub / 2);
	fg_itchgen_free(g);
	free_day(&d);
}

/* --- real captures ------------------------------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A minimal classic-pcap walk: Ethernet, 802.1Q tags, IPv4, UDP, MoldUDP64, message blocks. */
static void collect_pcap(const char *path, struct day *d, unsigned int cap)
{
	FILE *fp = fopen(path, "rb");
	uint8_t gh[24], rh[16], pkt[65536];

	if (!fp)
		return;
	if (fread(gh, 1, 24, fp) != 24 ||
	    (memcmp(gh, "\xd4\xc3\xb2\xa1", 4) && memcmp(gh, "\x4d\x3c\xb2\xa1", 4))) {
		fclose(fp);
		return;
	}
	while (fread(rh, 1, 16, fp) == 16) {
		uint32_t incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
		size_t o = 12, end;
		uint16_t count;

		if (incl > sizeof(pkt) || fread(pkt, 1, incl, fp) != incl)
			break;
		while (o + 2 <= incl && (be16(pkt + o) == 0x8100 || be16(pkt + o) == 0x88a8))
			o += 4;
		if (o + 2 > incl || be16(pkt + o) != 0x0800)
			continue;
		o += 2;
		if (o + 20 > incl || pkt[o + 9] != 17)
			continue;
		o += (pkt[o] & 15) * 4u; /* IHL */
		if (o + 8 > incl)
			continue;
		end = o + be16(pkt + o + 4); /* UDP length */
		if (end > incl)
			end = incl;
		o += 8 + 18;
		if (o + 2 > end)
			continue;
		count = be16(pkt + o);
		o += 2;
		for (unsigned int m = 0; m < count && o + 2 <= end && d->n < cap; m++) {
			uint16_t len = be16(pkt + o);

			if (o + 2 + len > end)
				break;
			memcpy(d->buf + (size_t)d->n * 64, pkt + o + 2, len > 64 ? 64 : len);
			d->msgs[d->n] = d->buf + (size_t)d->n * 64;
			d->lens[d->n] = len > 64 ? 64 : len;
			d->n++;
			o += 2 + len;
		}
	}
	fclose(fp);
}

static void test_filter_variants_equal_scalar_on_real_captures(void)
{
	const char *dirs[] = { FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0",
			       FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0.20230822" };
	struct day d = { 0 };
	struct fg_filter *fs[FG_FILTER_NIMPL];
	unsigned int mismatch = 0, cap = 4096, nsym = 0;
	char csv[512] = "";
	uint64_t sel = 0;

	d.buf = calloc(cap, 64);
	d.msgs = calloc(cap, sizeof(*d.msgs));
	d.lens = calloc(cap, sizeof(*d.lens));
	CU_ASSERT_FATAL(d.buf && d.msgs && d.lens);
	for (size_t i = 0; i < 2; i++) {
		DIR *dir = opendir(dirs[i]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			char path[1024];

			if (!strstr(e->d_name, ".pcap"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			collect_pcap(path, &d, cap);
		}
		closedir(dir);
	}
	if (d.n == 0) {
		free_day(&d);
		FG_SKIP("no real captures in " FG_ITCH_REAL);
	}
	/* Subscribe to every other stock the messages name (A, F, P, Q, I, H, Y, L, ...). */
	for (unsigned int i = 0; i < d.n; i++) {
		unsigned int at = stock_at[d.msgs[i][0]];
		char name[9] = "";

		if (!at || d.lens[i] < at + 8 || i % 2)
			continue;
		memcpy(name, d.msgs[i] + at, 8);
		for (int c = 7; c >= 0 && name[c] == ' '; c--)
			name[c] = '\0';
		if (!*name || strchr(name, ' ') || strstr(csv, name) ||
		    strlen(csv) + 10 > sizeof(csv))
			continue;
		if (*csv)
			strcat(csv, ",");
		strcat(csv, name);
		nsym++;
	}
	open_all(fs);
	run_day(&d, fs, 37, &mismatch, &sel); /* everything */
	CU_ASSERT_EQUAL(sel, d.n);
	free_all(fs);
	open_all(fs);
	sel = 0;
	for (int v = 0; v < FG_FILTER_NIMPL; v++)
		if (fs[v] && nsym)
			CU_ASSERT_EQUAL(fg_filter_add_symbols(fs[v], csv), 0);
	run_day(&d, fs, 37, &mismatch, &sel);
	printf("\n    %u real messages, %u symbols subscribed, %llu selected ", d.n, nsym,
	       (unsigned long long)sel);
	CU_ASSERT_EQUAL(d.n, 117); /* SOURCE.md: 117 ITCH messages in all */
	CU_ASSERT_EQUAL(mismatch, 0);
	CU_ASSERT_TRUE(sel > 0 && sel < d.n);
	free_all(fs);
	free_day(&d);
}

static const struct fg_test tests[] = {
	FG_TEST(test_filter_rejects_bad_symbols),
	FG_TEST(test_filter_thousands_of_symbols),
	FG_TEST(test_filter_rejects_bad_types),
	FG_TEST(test_filter_impl_choice),
	FG_TEST(test_filter_rules_each_case),
	FG_TEST(test_filter_no_symbols_is_a_type_filter),
	FG_TEST(test_filter_symbols_added_after_learning),
	FG_TEST(test_filter_select_learn_sees_r_in_same_batch),
	FG_TEST(test_filter_variants_equal_scalar_on_random_input),
	FG_TEST(test_filter_never_reads_past_a_message),
	FG_TEST(test_filter_variants_equal_scalar_on_generated_day),
	FG_TEST(test_filter_variants_equal_scalar_on_real_captures),
};

FG_TEST_MAIN("filter", tests, NULL, NULL)
