// SPDX-License-Identifier: MIT
/* Log-linear latency histogram: the parts off the hot path (see fg_hist.h). */
#include <stdio.h>
#include <string.h>

#include "fg_hist.h"

void fg_hist_init(struct fg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t fg_hist_bucket_low(unsigned int i)
{
	unsigned int g = i >> FG_HIST_SUB_BITS, m = i & (FG_HIST_SUB - 1);

	if (!g)
		return m;
	return (uint64_t)(FG_HIST_SUB + m) << (g - 1);
}

uint64_t fg_hist_bucket_width(unsigned int i)
{
	unsigned int g = i >> FG_HIST_SUB_BITS;

	return g ? 1ull << (g - 1) : 1;
}

uint64_t fg_hist_percentile(const struct fg_hist *h, double pct)
{
	uint64_t n = h->count, want, cum = 0, v;

	if (!n)
		return 0;
	if (pct <= 0)
		return h->min;
	if (pct >= 100)
		return h->max;
	/* rank of the wanted value, 1-based, rounded up */
	want = (uint64_t)((double)n * pct / 100.0);
	if ((double)want < (double)n * pct / 100.0)
		want++;
	if (!want)
		want = 1;
	for (unsigned int i = 0; i < FG_HIST_NBUCKETS; i++) {
		cum += h->buckets[i];
		if (cum >= want) {
			v = fg_hist_bucket_low(i) + fg_hist_bucket_width(i) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}

double fg_hist_mean(const struct fg_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void fg_hist_merge(struct fg_hist *dst, const struct fg_hist *src)
{
	for (unsigned int i = 0; i < FG_HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

void fg_hist_snapshot(struct fg_hist *dst, const struct fg_hist *src)
{
	uint64_t n = 0;

	/* Buckets first and the count from them, so that a snapshot taken
	 * while the writer runs is self-consistent. */
	for (unsigned int i = 0; i < FG_HIST_NBUCKETS; i++) {
		dst->buckets[i] = FG_HIST_RD(src->buckets[i]);
		n += dst->buckets[i];
	}
	dst->count = n;
	dst->sum = FG_HIST_RD(src->sum);
	dst->min = FG_HIST_RD(src->min);
	dst->max = FG_HIST_RD(src->max);
}

void fg_hist_delta(struct fg_hist *dst, const struct fg_hist *now, const struct fg_hist *before)
{
	int lo = -1, hi = -1;

	dst->count = 0;
	for (unsigned int i = 0; i < FG_HIST_NBUCKETS; i++) {
		uint64_t a = now->buckets[i], b = before->buckets[i];

		dst->buckets[i] = a > b ? a - b : 0;
		if (dst->buckets[i]) {
			if (lo < 0)
				lo = (int)i;
			hi = (int)i;
		}
		dst->count += dst->buckets[i];
	}
	dst->sum = now->sum > before->sum ? now->sum - before->sum : 0;
	if (lo < 0) {
		dst->min = UINT64_MAX;
		dst->max = 0;
		return;
	}
	dst->min = fg_hist_bucket_low((unsigned int)lo);
	dst->max =
		fg_hist_bucket_low((unsigned int)hi) + fg_hist_bucket_width((unsigned int)hi) - 1;
	/* the exact extremes are known when they fall in those buckets */
	if (fg_hist_index(now->min) == (unsigned int)lo)
		dst->min = now->min;
	if (fg_hist_index(now->max) == (unsigned int)hi)
		dst->max = now->max;
}

void fg_hist_foreach(const struct fg_hist *h,
		     void (*fn)(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum),
		     void *ctx)
{
	uint64_t cum = 0;

	for (unsigned int i = 0; i < FG_HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		cum += h->buckets[i];
		fn(ctx, fg_hist_bucket_low(i), fg_hist_bucket_width(i), h->buckets[i], cum);
	}
}

void fg_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, len, "%.2fus", (double)ns / 1e3);
	else if (ns < 10000000)
		snprintf(buf, len, "%.0fus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%.0fms", (double)ns / 1e6);
}

void fg_fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}
