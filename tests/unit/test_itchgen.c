// SPDX-License-Identifier: MIT
/*
 * The ITCH day generator: every message decodes (right length for its
 * type); the day opens with the directory; the mix is the published one
 * within tolerance; lifecycles are consistent (tracked here independently);
 * timestamps never go back and System Events come at their times; a seed
 * gives the same bytes; BinaryFILE framing; a short buffer consumes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FG_TEST_WARNINGS
#include "fg_cunit.h"
#include "feedgate/itch.h"
#include "feedgate/itchgen.h"
#include "feedgate/log.h"

#define NS(h, m) ((((uint64_t)(h)*60 + (m)) * 60) * 1000000000ull)

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The generator of a test: NULL (and a failed assertion) if it cannot be made. */
static struct fg_itchgen *new_itchgen(const struct fg_itchgen_config *cfg)
{
	struct fg_itchgen *g = NULL;

	CU_ASSERT_EQUAL(fg_itchgen_new(cfg, &g), 0);
	return g;
}

static void test_itchgen_rejects_bad_config(void)
{
	struct fg_itchgen_config cfg = { .symbols = 70000 };
	struct fg_itchgen *g = NULL;
	fg_print_fn_t old;

	/* Refused with -EINVAL and one warning that names the field, not a flag. */
	old = fg_set_print(fg_take_warning);
	CU_ASSERT_EQUAL(fg_itchgen_new(&cfg, &g), -EINVAL);
	fg_set_print(old);
	CU_ASSERT_PTR_NULL(g);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_STRING_EQUAL(fg_warned,
			       "Couldn't create the ITCH generator: symbols 70000, want at "
			       "most 65535: Invalid argument\n");
	CU_ASSERT_EQUAL_FATAL(fg_itchgen_new(NULL, &g), 0); /* all defaults */
	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(fg_itchgen_symbols(g), FG_ITCHGEN_DEFAULT_SYMBOLS);
	CU_ASSERT_PTR_NULL(fg_itchgen_symbol(g, 0));
	CU_ASSERT_PTR_NULL(fg_itchgen_symbol(g, FG_ITCHGEN_DEFAULT_SYMBOLS + 1));
	CU_ASSERT_PTR_NOT_NULL(fg_itchgen_symbol(g, FG_ITCHGEN_DEFAULT_SYMBOLS));
	fg_itchgen_free(g);
}

/* S 'O', V, then R and H for every locate in order, then S 'S'. */
static void test_itchgen_day_opens_with_the_directory(void)
{
	const uint32_t nsym = 3000;
	struct fg_itchgen_config cfg = { .seed = 3, .symbols = nsym };
	struct fg_itchgen *g = new_itchgen(&cfg);
	char(*seen)[8] = calloc(nsym + 1, 8);
	uint8_t p[64];
	size_t len;
	unsigned int bad = 0, aapl = 0;

	CU_ASSERT_FATAL(g && seen);
	len = fg_itchgen_next(g, p, sizeof(p));
	CU_ASSERT(len == 12 && p[0] == 'S' && p[11] == 'O');
	len = fg_itchgen_next(g, p, sizeof(p));
	CU_ASSERT(len == 35 && p[0] == 'V');
	for (uint32_t loc = 1; loc <= nsym; loc++) {
		char name[9];
		int n = 8;

		len = fg_itchgen_next(g, p, sizeof(p));
		if (len != 39 || p[0] != 'R' || be(p + 1, 2) != loc)
			bad++;
		/* Names: printable, space padded, unique, in alphabetical order by locate. */
		for (int i = 0; i < 8; i++)
			if (p[11 + i] < ' ' || p[11 + i] > '~')
				bad++;
		memcpy(seen[loc], p + 11, 8);
		if (loc > 1 && memcmp(seen[loc - 1], seen[loc], 8) >= 0)
			bad++;
		memcpy(name, p + 11, 8);
		while (n > 0 && name[n - 1] == ' ')
			n--;
		name[n] = '\0';
		if (strcmp(name, fg_itchgen_symbol(g, (uint16_t)loc)))
			bad++;
		aapl += !strcmp(name, "AAPL");
		len = fg_itchgen_next(g, p, sizeof(p));
		if (len != 25 || p[0] != 'H' || be(p + 1, 2) != loc || memcmp(p + 11, seen[loc], 8))
			bad++;
	}
	len = fg_itchgen_next(g, p, sizeof(p));
	CU_ASSERT(len == 12 && p[0] == 'S' && p[11] == 'S');
	CU_ASSERT_EQUAL(be(p + 5, 6), NS(4, 0));
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(aapl, 1);
	free(seen);
	fg_itchgen_free(g);
}

struct live {
	uint32_t shares;
	uint16_t locate;
	uint8_t live;
};

/* Mix, decoding, lifecycles and the clock over a few million messages. */
static void test_itchgen_mix_lifecycles_and_clock(void)
{
	const uint32_t nsym = 1000, n = 3000000, max_live = 1u << 20;
	struct fg_itchgen_config cfg = { .seed = 11, .symbols = nsym, .max_live_orders = max_live };
	struct fg_itchgen *g = new_itchgen(&cfg);
	struct live *o = calloc(n + 2, sizeof(*o));
	uint64_t count[256] = { 0 }, body = 0, last_ts = 0, max_ref = 0, live = 0;
	unsigned int decode_bad = 0, life_bad = 0, clock_bad = 0, dense_bad = 0, share_bad = 0;
	uint8_t p[64];

	CU_ASSERT_FATAL(g && o);
	for (uint32_t i = 0; i < n; i++) {
		size_t len = fg_itchgen_next(g, p, sizeof(p));
		struct fg_itch_msg m;
		uint64_t ref;
		uint32_t sh;

		if (fg_itch_decode(p, len, &m)) {
			decode_bad++;
			continue;
		}
		if (m.timestamp < last_ts || (i > 2 * nsym + 2 && m.timestamp == last_ts))
			clock_bad++;
		last_ts = m.timestamp;
		if (i >= 2 * nsym + 3) { /* after the opening: the body */
			count[m.type]++;
			body++;
		}
		switch (m.type) {
		case 'A':
		case 'F':
			ref = m.add.order_reference_number;
			if (ref != max_ref + 1) /* dense and increasing */
				dense_bad++;
			max_ref = ref;
			if (!m.add.shares || (m.add.buy_sell != 'B' && m.add.buy_sell != 'S') ||
			    !m.stock_locate || m.stock_locate > nsym)
				share_bad++;
			o[ref] = (struct live){ m.add.shares, m.stock_locate, 1 };
			live++;
			break;
		case 'E':
		case 'C':
		case 'X':
			ref = m.type == 'X' ? m.cancel.order_reference_number
					    : m.executed.order_reference_number;
			sh = m.type == 'X' ? m.cancel.cancelled_shares : m.executed.executed_shares;
			if (ref > max_ref || !o[ref].live || o[ref].locate != m.stock_locate) {
				life_bad++;
				break;
			}
			if (!sh || sh > o[ref].shares) {
				share_bad++;
				break;
			}
			o[ref].shares -= sh;
			if (!o[ref].shares) {
				o[ref].live = 0;
				live--;
			}
			break;
		case 'D':
			ref = m.del.order_reference_number;
			if (ref > max_ref || !o[ref].live || o[ref].locate != m.stock_locate) {
				life_bad++;
				break;
			}
			o[ref].live = 0;
			live--;
			break;
		case 'U':
			ref = m.replace.original_order_reference_number;
			if (ref > max_ref || !o[ref].live || o[ref].locate != m.stock_locate) {
				life_bad++;
				break;
			}
			if (m.replace.new_order_reference_number != max_ref + 1)
				dense_bad++;
			max_ref = m.replace.new_order_reference_number;
			o[max_ref] = (struct live){ m.replace.shares, o[ref].locate, 1 };
			o[ref].live = 0;
			if (!m.replace.shares)
				share_bad++;
			break;
		}
	}
	CU_ASSERT_EQUAL(decode_bad, 0);
	CU_ASSERT_EQUAL(life_bad, 0);
	CU_ASSERT_EQUAL(share_bad, 0);
	CU_ASSERT_EQUAL(dense_bad, 0);
	CU_ASSERT_EQUAL(clock_bad, 0);
	CU_ASSERT_EQUAL(live, fg_itchgen_live_orders(g));
	CU_ASSERT_EQUAL(fg_itchgen_count(g), n);
	/* The published mix: percentage and allowed deviation, in points. */
	{
		static const struct {
			char type;
			double pct, tol;
		} want[] = {
			{ 'A', 43.6, 0.6 },   { 'D', 42.6, 0.6 }, { 'U', 8.7, 0.3 },
			{ 'E', 2.0, 0.15 },   { 'X', 1.2, 0.1 },  { 'I', 1.0, 0.1 },
			{ 'F', 0.4, 0.05 },   { 'P', 0.4, 0.05 }, { 'L', 0.05, 0.02 },
			{ 'C', 0.03, 0.015 },
		};
		const char rare[] = "NYHQBJKhVWO";
		uint64_t listed = 0;

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			double pct = 100.0 * (double)count[(uint8_t)want[i].type] / (double)body;

			listed += count[(uint8_t)want[i].type];
			if (pct < want[i].pct - want[i].tol || pct > want[i].pct + want[i].tol)
				printf("\n    %c: %.3f%%, want %.3f +- %.3f ", want[i].type, pct,
				       want[i].pct, want[i].tol);
			CU_ASSERT(pct >= want[i].pct - want[i].tol &&
				  pct <= want[i].pct + want[i].tol);
		}
		for (const char *r = rare; *r; r++)
			CU_ASSERT(100.0 * (double)count[(uint8_t)*r] / (double)body < 0.02);
		CU_ASSERT(count['N'] > 0 && count['H'] > 0 && count['Q'] > 0);
		/* Nothing else but System Events. */
		CU_ASSERT_EQUAL(body - listed - count['S'],
				count['N'] + count['Y'] + count['H'] + count['Q'] + count['B'] +
					count['J'] + count['K'] + count['h']);
	}
	free(o);
	fg_itchgen_free(g);
}

/* Adds turn into deletes when the book is full. */
static void test_itchgen_respects_max_live_orders(void)
{
	struct fg_itchgen_config cfg = { .seed = 2, .symbols = 50, .max_live_orders = 100 };
	struct fg_itchgen *g = new_itchgen(&cfg);
	uint32_t most = 0;
	uint8_t p[64];

	CU_ASSERT_FATAL(g != NULL);
	for (int i = 0; i < 200000; i++) {
		fg_itchgen_next(g, p, sizeof(p));
		if (fg_itchgen_live_orders(g) > most)
			most = fg_itchgen_live_orders(g);
	}
	CU_ASSERT_EQUAL(most, 100);
	fg_itchgen_free(g);
}

/* System Events at 09:30, 16:00 (and the clock stays sane past them). */
static void test_itchgen_system_events_at_their_times(void)
{
	struct fg_itchgen_config cfg = { .seed = 1, .symbols = 100, .max_live_orders = 50000 };
	struct fg_itchgen *g = new_itchgen(&cfg);
	uint64_t last = 0, q_at = 0, m_at = 0;
	unsigned int back = 0;
	uint8_t p[64];

	CU_ASSERT_FATAL(g != NULL);
	/* About 1 ms a message: 16:00 comes after ~43 million. */
	for (uint64_t i = 0; i < 50000000 && !m_at; i++) {
		size_t len = fg_itchgen_next(g, p, sizeof(p));
		uint64_t ts = be(p + 5, 6);

		back += ts < last;
		last = ts;
		if (p[0] == 'S' && len == 12 && p[11] == 'Q')
			q_at = ts;
		if (p[0] == 'S' && len == 12 && p[11] == 'M')
			m_at = ts;
	}
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT_EQUAL(q_at, NS(9, 30));
	CU_ASSERT_EQUAL(m_at, NS(16, 0));
	fg_itchgen_free(g);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t day_hash(uint64_t seed, unsigned int n)
{
	struct fg_itchgen_config cfg = { .seed = seed, .symbols = 500 };
	struct fg_itchgen *g = new_itchgen(&cfg);
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t p[64];

	for (unsigned int i = 0; g && i < n; i++) {
		size_t len = fg_itchgen_next(g, p, sizeof(p));

		h = fnv(h, p, len);
	}
	fg_itchgen_free(g);
	return h;
}

static void test_itchgen_same_seed_same_bytes(void)
{
	CU_ASSERT_EQUAL(day_hash(123, 300000), day_hash(123, 300000));
	CU_ASSERT_NOT_EQUAL(day_hash(123, 300000), day_hash(124, 300000));
}

static void test_itchgen_short_buffer_consumes_nothing(void)
{
	struct fg_itchgen_config cfg = { .seed = 8, .symbols = 20 };
	struct fg_itchgen *g = new_itchgen(&cfg), *ref = new_itchgen(&cfg);
	unsigned int bad = 0, zeros = 0;

	CU_ASSERT_FATAL(g && ref);
	for (int i = 0; i < 20000; i++) {
		uint8_t a[64], b[64];
		size_t lr = fg_itchgen_next(ref, b, sizeof(b)), la;
		size_t cap = (size_t)(i % 60);

		la = fg_itchgen_next(g, a, cap);
		if (la == 0) {
			zeros++;
			if (cap >= lr)
				bad++;
			la = fg_itchgen_next(g, a, sizeof(a));
		}
		if (la != lr || memcmp(a, b, lr))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_TRUE(zeros > 0);
	CU_ASSERT_EQUAL(fg_itchgen_count(g), 20000);
	fg_itchgen_free(g);
	fg_itchgen_free(ref);
}

static void test_itchgen_binaryfile_framing(void)
{
	const unsigned int n = 250000;
	struct fg_itchgen_config cfg = { .seed = 21, .symbols = 400 };
	struct fg_itchgen *g = new_itchgen(&cfg), *ref = new_itchgen(&cfg);
	char path[] = "/tmp/fg-itchgen-XXXXXX";
	int fd = mkstemp(path);
	unsigned int bad = 0, k = 0;
	uint8_t *data = NULL;
	long size;
	FILE *fp;

	CU_ASSERT_FATAL(g && ref && fd >= 0);
	unlink(path);
	CU_ASSERT_EQUAL(fg_itchgen_write_binaryfile(g, fd, n), 0);
	CU_ASSERT_EQUAL(fg_itchgen_write_binaryfile(g, -1, 1), -EBADF);
	fp = fdopen(fd, "rb");
	CU_ASSERT_FATAL(fp != NULL);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	data = malloc((size_t)size);
	CU_ASSERT_FATAL(data && fread(data, 1, (size_t)size, fp) == (size_t)size);
	for (long off = 0; off < size; k++) {
		uint8_t want[64];
		size_t len = fg_itchgen_next(ref, want, sizeof(want));
		uint16_t flen;

		if (off + 2 > size) {
			bad++;
			break;
		}
		flen = (uint16_t)be(data + off, 2);
		if (flen != len || off + 2 + flen > size || memcmp(data + off + 2, want, len))
			bad++;
		off += 2 + flen;
	}
	CU_ASSERT_EQUAL(k, n);
	CU_ASSERT_EQUAL(bad, 0);
	printf("\n    %u messages, %.1f bytes each with the prefix ", n, (double)size / n);
	free(data);
	fclose(fp);
	fg_itchgen_free(g);
	fg_itchgen_free(ref);
}

static const struct fg_test tests[] = {
	FG_TEST(test_itchgen_rejects_bad_config),
	FG_TEST(test_itchgen_day_opens_with_the_directory),
	FG_TEST(test_itchgen_mix_lifecycles_and_clock),
	FG_TEST(test_itchgen_respects_max_live_orders),
	FG_TEST(test_itchgen_system_events_at_their_times),
	FG_TEST(test_itchgen_same_seed_same_bytes),
	FG_TEST(test_itchgen_short_buffer_consumes_nothing),
	FG_TEST(test_itchgen_binaryfile_framing),
};

FG_TEST_MAIN("itchgen", tests, NULL, NULL)
