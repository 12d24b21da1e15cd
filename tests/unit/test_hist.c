// SPDX-License-Identifier: MIT
/* The log-linear latency histogram (user/lib/fg_hist.c). */
#include <stdint.h>
#include <stdlib.h>

#include "fg_cunit.h"
#include "fg_hist.h"

static struct fg_hist a, b, c;

static uint64_t rnd_state = 0x1234567;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_hist_empty_reports_zero(void)
{
	fg_hist_init(&a);
	CU_ASSERT_EQUAL(a.count, 0);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 50), 0);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 99.9), 0);
	CU_ASSERT_EQUAL(fg_hist_mean(&a), 0.0);
}

static void test_hist_buckets_are_contiguous_and_indexed_back(void)
{
	for (unsigned int i = 0; i + 1 < FG_HIST_NBUCKETS; i++) {
		uint64_t lo = fg_hist_bucket_low(i), w = fg_hist_bucket_width(i);

		CU_ASSERT_EQUAL_FATAL(fg_hist_index(lo), i);
		CU_ASSERT_EQUAL_FATAL(fg_hist_index(lo + w - 1), i);
		CU_ASSERT_EQUAL_FATAL(fg_hist_bucket_low(i + 1), lo + w);
	}
}

static void test_hist_bucket_width_within_one_64th(void)
{
	for (int k = 0; k < 200000; k++) {
		uint64_t v = rnd() >> (rnd() % 64);
		unsigned int i = fg_hist_index(v);

		if (v >= (1ull << FG_HIST_MAX_BITS)) {
			CU_ASSERT_EQUAL_FATAL(i, FG_HIST_NBUCKETS - 1);
			continue;
		}
		CU_ASSERT_FATAL(fg_hist_bucket_low(i) <= v);
		CU_ASSERT_FATAL(v < fg_hist_bucket_low(i) + fg_hist_bucket_width(i));
		/* relative precision: width <= low / 64 above the linear range */
		if (v >= FG_HIST_SUB) {
			CU_ASSERT_FATAL(fg_hist_bucket_width(i) * FG_HIST_SUB <=
					fg_hist_bucket_low(i));
		} else {
			CU_ASSERT_EQUAL_FATAL(fg_hist_bucket_width(i), 1);
		}
	}
}

static void test_hist_small_values_are_exact(void)
{
	fg_hist_init(&a);
	for (uint64_t v = 1; v <= 50; v++)
		fg_hist_record(&a, v);
	CU_ASSERT_EQUAL(a.count, 50);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 50), 25);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 99), 50);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 2), 1);
	CU_ASSERT_EQUAL(a.min, 1);
	CU_ASSERT_EQUAL(a.max, 50);
	CU_ASSERT_DOUBLE_EQUAL(fg_hist_mean(&a), 25.5, 1e-9);
}

static void check_close(uint64_t got, double want)
{
	double err = ((double)got - want) / want;

	if (err < 0)
		err = -err;
	CU_ASSERT(err <= 1.0 / FG_HIST_SUB);
	if (err > 1.0 / FG_HIST_SUB)
		printf("\n    got %llu want %.0f ", (unsigned long long)got, want);
}

static void test_hist_percentiles_of_uniform_values(void)
{
	fg_hist_init(&a);
	for (uint64_t v = 1; v <= 1000000; v++)
		fg_hist_record(&a, v * 10);
	check_close(fg_hist_percentile(&a, 50), 5000000);
	check_close(fg_hist_percentile(&a, 99), 9900000);
	check_close(fg_hist_percentile(&a, 99.9), 9990000);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 100), 10000000);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 0), 10);
}

static void test_hist_percentile_picks_the_tail(void)
{
	/* 999 fast values and one slow one: p99.9 is still fast, p100 is the slow one */
	fg_hist_init(&a);
	for (int i = 0; i < 999; i++)
		fg_hist_record(&a, 1000);
	fg_hist_record(&a, 5000000);
	check_close(fg_hist_percentile(&a, 99.9), 1000);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 100), 5000000);
	/* 2 slow values in 1000: p99.9 is slow */
	fg_hist_record(&a, 5000000);
	check_close(fg_hist_percentile(&a, 99.9), 5000000);
}

static void test_hist_huge_values_land_in_the_last_bucket(void)
{
	fg_hist_init(&a);
	fg_hist_record(&a, 1ull << 40);
	fg_hist_record(&a, UINT64_MAX);
	CU_ASSERT_EQUAL(a.buckets[FG_HIST_NBUCKETS - 1], 2);
	CU_ASSERT_EQUAL(a.max, UINT64_MAX);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 100), UINT64_MAX);
	/* the reported value never leaves [min, max] */
	CU_ASSERT(fg_hist_percentile(&a, 50) >= a.min);
}

static void test_hist_merge_equals_recording_everything_once(void)
{
	fg_hist_init(&a);
	fg_hist_init(&b);
	fg_hist_init(&c);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rnd() % 10000000;

		fg_hist_record(i & 1 ? &a : &b, v);
		fg_hist_record(&c, v);
	}
	fg_hist_merge(&a, &b);
	CU_ASSERT_EQUAL(a.count, c.count);
	CU_ASSERT_EQUAL(a.sum, c.sum);
	CU_ASSERT_EQUAL(a.min, c.min);
	CU_ASSERT_EQUAL(a.max, c.max);
	CU_ASSERT_EQUAL(memcmp(a.buckets, c.buckets, sizeof(a.buckets)), 0);
	CU_ASSERT_EQUAL(fg_hist_percentile(&a, 99), fg_hist_percentile(&c, 99));
}

static void test_hist_merge_into_empty_keeps_min(void)
{
	fg_hist_init(&a);
	fg_hist_init(&b);
	fg_hist_record(&b, 777);
	fg_hist_merge(&a, &b);
	CU_ASSERT_EQUAL(a.min, 777);
	CU_ASSERT_EQUAL(a.max, 777);
	fg_hist_init(&b); /* merging an empty one changes nothing */
	fg_hist_merge(&a, &b);
	CU_ASSERT_EQUAL(a.min, 777);
	CU_ASSERT_EQUAL(a.count, 1);
}

static void test_hist_delta_is_what_came_between_snapshots(void)
{
	fg_hist_init(&a);
	for (int i = 0; i < 1000; i++)
		fg_hist_record(&a, 100);
	fg_hist_snapshot(&b, &a);
	CU_ASSERT_EQUAL(b.count, 1000);
	for (int i = 0; i < 500; i++)
		fg_hist_record(&a, 20000);
	fg_hist_snapshot(&c, &a);
	fg_hist_delta(&a, &c, &b);
	CU_ASSERT_EQUAL(a.count, 500);
	CU_ASSERT_EQUAL(a.sum, 500 * 20000);
	check_close(fg_hist_percentile(&a, 50), 20000);
	CU_ASSERT(a.min >= 19000 && a.max <= 21000);
}

static void test_hist_delta_of_nothing_is_empty(void)
{
	fg_hist_init(&a);
	fg_hist_record(&a, 5);
	fg_hist_snapshot(&b, &a);
	fg_hist_delta(&c, &b, &b);
	CU_ASSERT_EQUAL(c.count, 0);
	CU_ASSERT_EQUAL(fg_hist_percentile(&c, 99), 0);
}

struct walk {
	uint64_t n, last_cum, last_low;
	int ordered;
};

static void walk_fn(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum)
{
	struct walk *w = ctx;

	(void)width;
	if (cum != w->last_cum + n || (w->n && low <= w->last_low))
		w->ordered = 0;
	w->n++;
	w->last_cum = cum;
	w->last_low = low;
}

static void test_hist_foreach_walks_nonempty_buckets_in_order(void)
{
	struct walk w = { .ordered = 1 };

	fg_hist_init(&a);
	fg_hist_record(&a, 3);
	fg_hist_record(&a, 3);
	fg_hist_record(&a, 1000);
	fg_hist_record(&a, 1000000);
	fg_hist_foreach(&a, walk_fn, &w);
	CU_ASSERT_EQUAL(w.n, 3);
	CU_ASSERT_EQUAL(w.last_cum, 4);
	CU_ASSERT(w.ordered);
}

static const struct fg_test tests[] = {
	FG_TEST(test_hist_empty_reports_zero),
	FG_TEST(test_hist_buckets_are_contiguous_and_indexed_back),
	FG_TEST(test_hist_bucket_width_within_one_64th),
	FG_TEST(test_hist_small_values_are_exact),
	FG_TEST(test_hist_percentiles_of_uniform_values),
	FG_TEST(test_hist_percentile_picks_the_tail),
	FG_TEST(test_hist_huge_values_land_in_the_last_bucket),
	FG_TEST(test_hist_merge_equals_recording_everything_once),
	FG_TEST(test_hist_merge_into_empty_keeps_min),
	FG_TEST(test_hist_delta_is_what_came_between_snapshots),
	FG_TEST(test_hist_delta_of_nothing_is_empty),
	FG_TEST(test_hist_foreach_walks_nonempty_buckets_in_order),
};

FG_TEST_MAIN("hist", tests, NULL, NULL)
