/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram (the HdrHistogram layout, fixed precision).
 *
 * Values (nanoseconds) below 2^FG_HIST_SUB_BITS get one bucket each; above,
 * every power of two is split into 2^FG_HIST_SUB_BITS equal buckets, so a
 * bucket is never wider than 1/64 of its lower bound (about 1.6%). Values at
 * or above 2^FG_HIST_MAX_BITS (about 69 s) land in the last bucket. The
 * buckets are a fixed array inside the struct: recording is a handful of
 * instructions with no allocation and no branch on the common path, which
 * is what the receive threads need.
 *
 * One histogram has one writer (its receive thread). Readers in other
 * threads (the live stats line) take a snapshot with fg_hist_snapshot();
 * the counters are written and read with relaxed atomics so that a
 * snapshot is never torn per counter, only slightly out of date.
 */
#ifndef FG_HIST_H
#define FG_HIST_H

#include <stddef.h>
#include <stdint.h>

#define FG_HIST_SUB_BITS 6
#define FG_HIST_MAX_BITS 36
#define FG_HIST_SUB (1u << FG_HIST_SUB_BITS)
/* Group 0 holds [0, SUB); group g >= 1 holds [SUB << (g-1), SUB << g). */
#define FG_HIST_NBUCKETS ((FG_HIST_MAX_BITS - FG_HIST_SUB_BITS + 1) * FG_HIST_SUB)

struct fg_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[FG_HIST_NBUCKETS];
};

/* Bucket index of a value. */
static inline unsigned int fg_hist_index(uint64_t v)
{
	unsigned int e, shift;

	if (v < FG_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* e >= SUB_BITS */
	if (e >= FG_HIST_MAX_BITS)
		return FG_HIST_NBUCKETS - 1;
	shift = e - FG_HIST_SUB_BITS;
	return (shift + 1) * FG_HIST_SUB + (unsigned int)((v >> shift) - FG_HIST_SUB);
}

#define FG_HIST_RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define FG_HIST_WR(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Record one value. Single writer per histogram. */
static inline void fg_hist_record(struct fg_hist *h, uint64_t v)
{
	unsigned int i = fg_hist_index(v);

	FG_HIST_WR(h->buckets[i], FG_HIST_RD(h->buckets[i]) + 1);
	FG_HIST_WR(h->count, FG_HIST_RD(h->count) + 1);
	FG_HIST_WR(h->sum, FG_HIST_RD(h->sum) + v);
	if (v < FG_HIST_RD(h->min))
		FG_HIST_WR(h->min, v);
	if (v > FG_HIST_RD(h->max))
		FG_HIST_WR(h->max, v);
}

void fg_hist_init(struct fg_hist *h);

/* Smallest value that falls in bucket i, and the bucket's width. */
uint64_t fg_hist_bucket_low(unsigned int i);
uint64_t fg_hist_bucket_width(unsigned int i);

/*
 * The value at percentile pct (0 < pct <= 100): the smallest recorded value
 * v such that at least pct% of the values are <= v, reported as the middle
 * of v's bucket clamped to [min, max]. 0 when the histogram is empty.
 */
uint64_t fg_hist_percentile(const struct fg_hist *h, double pct);

/* Mean of the recorded values (exact: the sum is kept), 0 when empty. */
double fg_hist_mean(const struct fg_hist *h);

/* dst += src. */
void fg_hist_merge(struct fg_hist *dst, const struct fg_hist *src);

/* Copy a histogram that another thread may be writing (see the file comment). */
void fg_hist_snapshot(struct fg_hist *dst, const struct fg_hist *src);

/*
 * dst = now - before, bucket by bucket: what was recorded between two
 * snapshots of the same histogram. min/max of the interval are not known
 * exactly; they are taken from the lowest and highest non-empty buckets.
 */
void fg_hist_delta(struct fg_hist *dst, const struct fg_hist *now, const struct fg_hist *before);

/*
 * Walk the non-empty buckets in order: fn(ctx, bucket low, bucket width,
 * count, cumulative count). For CDF plots.
 */
void fg_hist_foreach(const struct fg_hist *h,
		     void (*fn)(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum),
		     void *ctx);

/* Short forms for the live stats lines: "3.42us", "118us", "12ms"; "1.25M", "75.0k", "812". */
void fg_fmt_ns(char *buf, size_t len, uint64_t ns);
void fg_fmt_rate(char *buf, size_t len, double v);

#endif /* FG_HIST_H */
