/* Log-linear histogram with HdrHistogram's exact layout: 1 ns lowest
 * (unit magnitude 0), 2048 sub-buckets per bucket of which the lower half
 * of every bucket but the first overlaps the previous one, 26 buckets.
 * Index and value helpers follow hdr_histogram.c (counts_index_for,
 * hdr_value_at_index, highest_equivalent_value) with the constants folded. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include "stats/hist.h"

_Static_assert(HIST_SUB_BUCKET_HALF_COUNT == 1 << HIST_SUB_BUCKET_HALF_MAG, "half count");
_Static_assert(HIST_SUB_BUCKET_COUNT == 2 * HIST_SUB_BUCKET_HALF_COUNT, "sub-bucket count");
/* HIST_HIGHEST must fall in the upper half of the last bucket: inside
 * counts[], and with no bucket to spare. */
_Static_assert((HIST_HIGHEST >> (HIST_BUCKET_COUNT - 1)) < HIST_SUB_BUCKET_COUNT &&
		       (HIST_HIGHEST >> (HIST_BUCKET_COUNT - 1)) >= HIST_SUB_BUCKET_HALF_COUNT,
	       "HIST_BUCKET_COUNT does not match HIST_HIGHEST");

int hist_index(int64_t v)
{
	return hist_index_of(v);
}

int64_t hist_value_at_index(int idx)
{
	int b = (idx >> HIST_SUB_BUCKET_HALF_MAG) - 1;
	int sub = (idx & (HIST_SUB_BUCKET_HALF_COUNT - 1)) + HIST_SUB_BUCKET_HALF_COUNT;

	if (b < 0) {
		sub -= HIST_SUB_BUCKET_HALF_COUNT;
		b = 0;
	}
	return (int64_t)sub << b;
}

static int64_t lowest_equivalent(int64_t v)
{
	int b = hist_bucket_of(v);

	return (v >> b) << b;
}

/* Width of the bucket holding v: 2^bucket. */
static int64_t equivalent_range(int64_t v)
{
	return (int64_t)1 << hist_bucket_of(v);
}

int64_t hist_highest_equivalent(int64_t v)
{
	return lowest_equivalent(v) + equivalent_range(v) - 1;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = INT64_MAX;
}

/* Every writer moves min and max with the counts it touches, so counts
 * outside [index(min), index(max)] are zero: what clear, copy and add
 * need not visit. A 221 KB histogram mostly stays untouched memory. */
static void used_range(const struct hist *h, int *lo, int *hi)
{
	*lo = hist_index_of(h->min < HIST_LOWEST ? HIST_LOWEST : h->min);
	*hi = hist_index_of(h->max > HIST_HIGHEST ? HIST_HIGHEST : h->max < HIST_LOWEST ? HIST_LOWEST : h->max);
}

size_t hist_used_len(const struct hist *h)
{
	int lo, hi;

	if (!h->total)
		return 0;
	used_range(h, &lo, &hi);
	return (size_t)hi + 1;
}

void hist_clear(struct hist *h)
{
	if (h->total) {
		int lo, hi;
		used_range(h, &lo, &hi);
		memset(&h->counts[lo], 0, (size_t)(hi - lo + 1) * sizeof(h->counts[0]));
	}
	h->total = 0;
	h->min = INT64_MAX;
	h->max = 0;
	h->clamped = 0;
}

void hist_copy(struct hist *dst, const struct hist *src)
{
	hist_clear(dst);
	if (!src->total)
		return;
	int lo, hi;
	used_range(src, &lo, &hi);
	memcpy(&dst->counts[lo], &src->counts[lo], (size_t)(hi - lo + 1) * sizeof(src->counts[0]));
	dst->total = src->total;
	dst->min = src->min;
	dst->max = src->max;
	dst->clamped = src->clamped;
}

void hist_add(struct hist *dst, const struct hist *src)
{
	if (!src->total)
		return;
	int lo, hi;
	used_range(src, &lo, &hi);
	for (int i = lo; i <= hi; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->clamped += src->clamped;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

int64_t hist_percentile(const struct hist *h, double p)
{
	if (!h->total)
		return 0;
	if (!(p < 100.0)) /* also catches NaN */
		return h->max;
	if (p <= 0.0)
		return h->min;

	/* Multiply first so integral percentiles give exact counts (99 * n / 100,
	 * not 0.99 * n); the tiny slack keeps float noise from pushing ceil()
	 * one count too far. */
	double want = p * (double)h->total / 100.0;
	uint64_t count = (uint64_t)ceil(want * (1.0 - 1e-14));
	uint64_t sum = 0;

	if (count < 1)
		count = 1;
	/* Nothing is counted below min's index (used_range): start there, not
	 * at 0, which saves most of the walk for latencies of milliseconds. */
	int lo, hi;
	used_range(h, &lo, &hi);
	for (int i = lo; i <= hi; i++) {
		sum += h->counts[i];
		if (sum >= count) {
			int64_t v = hist_highest_equivalent(hist_value_at_index(i));

			/* max is exact here while HdrHistogram rounds it up to its
			 * bucket too; clamping keeps every percentile <= max. */
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

double hist_mean(const struct hist *h)
{
	/* HdrHistogram's mean: each bucket weighs at its median equivalent value. */
	double sum = 0;

	if (!h->total)
		return 0;
	int lo, hi;
	used_range(h, &lo, &hi);
	for (int i = lo; i <= hi; i++) {
		if (!h->counts[i])
			continue;
		int64_t v = hist_value_at_index(i);
		int64_t mid = lowest_equivalent(v) + (equivalent_range(v) >> 1);

		sum += (double)h->counts[i] * (double)mid;
	}
	sum /= (double)h->total;
	/* Bucket midpoints can put the mean outside the exact min/max (one
	 * sample of 123456 averages 123488); keep it inside. */
	if (sum < (double)h->min)
		sum = (double)h->min;
	if (sum > (double)h->max)
		sum = (double)h->max;
	return sum;
}

struct hist *hist_new(void)
{
	struct hist *h = calloc(1, sizeof(*h));

	if (h)
		hist_clear(h);
	return h;
}
