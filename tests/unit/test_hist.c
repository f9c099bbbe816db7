/* Histogram: the layout must be HdrHistogram's, checked against a literal
 * transcription of hdr_histogram.c's init and counts_index_for with its
 * parameters as variables; then percentiles, merging, clamping. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/hist.h"
#include "t.h"

/* ---- reference: hdr_histogram.c, hdr_calculate_bucket_config + helpers ---- */

struct ref_cfg {
	int64_t lowest, highest;
	int sigfigs;
	int32_t unit_magnitude;
	int32_t sub_bucket_half_count_magnitude;
	int32_t sub_bucket_count;
	int32_t sub_bucket_half_count;
	int64_t sub_bucket_mask;
	int32_t bucket_count;
	int32_t counts_len;
};

static int32_t ref_buckets_needed(int64_t value, int32_t sub_bucket_count, int32_t unit_magnitude)
{
	int64_t smallest_untrackable_value = ((int64_t)sub_bucket_count) << unit_magnitude;
	int32_t buckets_needed = 1;

	while (smallest_untrackable_value <= value) {
		if (smallest_untrackable_value > INT64_MAX / 2)
			return buckets_needed + 1;
		smallest_untrackable_value <<= 1;
		buckets_needed++;
	}
	return buckets_needed;
}

static void ref_init(struct ref_cfg *c, int64_t lowest, int64_t highest, int sigfigs)
{
	int64_t largest_single_unit = 2;
	int32_t sub_bucket_count_magnitude;

	for (int i = 0; i < sigfigs; i++)
		largest_single_unit *= 10;
	c->lowest = lowest;
	c->highest = highest;
	c->sigfigs = sigfigs;
	sub_bucket_count_magnitude = (int32_t)ceil(log((double)largest_single_unit) / log(2));
	c->sub_bucket_half_count_magnitude =
		((sub_bucket_count_magnitude > 1) ? sub_bucket_count_magnitude : 1) - 1;
	c->unit_magnitude = (int32_t)floor(log((double)lowest) / log(2));
	c->sub_bucket_count = (int32_t)pow(2, (c->sub_bucket_half_count_magnitude + 1));
	c->sub_bucket_half_count = c->sub_bucket_count / 2;
	c->sub_bucket_mask = ((int64_t)c->sub_bucket_count - 1) << c->unit_magnitude;
	c->bucket_count = ref_buckets_needed(highest, c->sub_bucket_count, c->unit_magnitude);
	c->counts_len = (c->bucket_count + 1) * (c->sub_bucket_count / 2);
}

static struct ref_cfg R;

static int32_t ref_counts_index_for(int64_t value)
{
	int32_t pow2ceiling = 64 - __builtin_clzll((uint64_t)(value | R.sub_bucket_mask));
	int32_t bucket_index = pow2ceiling - R.unit_magnitude - (R.sub_bucket_half_count_magnitude + 1);
	int32_t sub_bucket_index = (int32_t)(value >> (bucket_index + R.unit_magnitude));
	int32_t bucket_base_index = (bucket_index + 1) << R.sub_bucket_half_count_magnitude;
	int32_t offset_in_bucket = sub_bucket_index - R.sub_bucket_half_count;

	return bucket_base_index + offset_in_bucket;
}

static int64_t ref_highest_equivalent(int64_t value)
{
	int32_t pow2ceiling = 64 - __builtin_clzll((uint64_t)(value | R.sub_bucket_mask));
	int32_t bucket_index = pow2ceiling - R.unit_magnitude - (R.sub_bucket_half_count_magnitude + 1);
	int32_t sub_bucket_index = (int32_t)(value >> (bucket_index + R.unit_magnitude));
	int32_t adjusted = sub_bucket_index >= R.sub_bucket_count ? bucket_index + 1 : bucket_index;
	int64_t lowest = (int64_t)sub_bucket_index << (bucket_index + R.unit_magnitude);
	int64_t size = (int64_t)1 << (R.unit_magnitude + adjusted);

	return lowest + size - 1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: reproducible, no libc rand() state. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* hist_new(), or the test fails. */
static struct hist *new_hist(void)
{
	struct hist *h = hist_new();

	if (!h) {
		fprintf(stderr, "out of memory\n");
		exit(T_FAIL);
	}
	return h;
}

static void test_constants(void)
{
	ref_init(&R, HIST_LOWEST, HIST_HIGHEST, HIST_SIGFIGS);
	CHECK_EQ_INT(R.unit_magnitude, 0);
	CHECK_EQ_INT(R.sub_bucket_count, HIST_SUB_BUCKET_COUNT);
	CHECK_EQ_INT(R.sub_bucket_half_count, HIST_SUB_BUCKET_HALF_COUNT);
	CHECK_EQ_INT(R.sub_bucket_half_count_magnitude, HIST_SUB_BUCKET_HALF_MAG);
	CHECK_EQ_INT(R.bucket_count, HIST_BUCKET_COUNT);
	CHECK_EQ_INT(R.counts_len, HIST_COUNTS_LEN);
	CHECK_EQ_INT(HIST_COUNTS_LEN, 27648);
}

static void check_index(int64_t v)
{
	int got = hist_index(v), want = ref_counts_index_for(v);

	if (got != want)
		fprintf(stderr, "  hist_index(%lld) = %d, HdrHistogram %d\n", (long long)v, got, want);
	CHECK_EQ_INT(got, want);
	CHECK_EQ_INT(hist_highest_equivalent(v), ref_highest_equivalent(v));
}

static void test_index_matches_hdr(void)
{
	int bad = 0;

	/* Every value of the linear part and the first buckets exhaustively,
	 * counting mismatches so a bug prints once, not 100000 times. */
	for (int64_t v = 0; v <= 100000; v++)
		if (hist_index(v) != ref_counts_index_for(v) ||
		    hist_highest_equivalent(v) != ref_highest_equivalent(v))
			bad++;
	CHECK_EQ_INT(bad, 0);
	/* Both sides of every power of two up to the top. */
	for (int s = 1; s < 36; s++) {
		int64_t p = (int64_t)1 << s;

		check_index(p - 1);
		check_index(p);
		check_index(p + 1);
	}
	check_index(HIST_HIGHEST);
	check_index(HIST_HIGHEST - 1);
	bad = 0;
	for (int i = 0; i < 1000000; i++) {
		/* Log-uniform spread, so high buckets get as many tries as low. */
		int64_t v = (int64_t)(rng() >> (28 + rng() % 36)) % HIST_HIGHEST + 1;

		if (hist_index(v) != ref_counts_index_for(v) ||
		    hist_highest_equivalent(v) != ref_highest_equivalent(v))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_round_trip(void)
{
	int top = hist_index(HIST_HIGHEST);
	int bad_idx = 0, bad_hi = 0, bad_next = 0, bad_res = 0;

	CHECK(top > 0 && top < HIST_COUNTS_LEN);
	/* The highest trackable value sits in the last bucket. */
	CHECK(top >= HIST_COUNTS_LEN - HIST_SUB_BUCKET_HALF_COUNT);
	CHECK_EQ_INT(hist_value_at_index(0), 0);
	CHECK_EQ_INT(hist_value_at_index(1), 1);
	for (int i = 0; i < HIST_COUNTS_LEN; i++) {
		int64_t v = hist_value_at_index(i);
		int64_t hi = hist_highest_equivalent(v);

		if (hist_index(v) != i)
			bad_idx++;
		if (hist_index(hi) != i)
			bad_hi++;
		/* Buckets tile the value range with no gap and no overlap. */
		if (i + 1 < HIST_COUNTS_LEN && hi + 1 != hist_value_at_index(i + 1))
			bad_next++;
		/* 3 significant digits: the bucket is at most 1/1000 of its value. */
		if (v >= 1000 && (hi - v + 1) * 1000 > v)
			bad_res++;
		if (v < 2048 && hi != v)
			bad_res++;
	}
	CHECK_EQ_INT(bad_idx, 0);
	CHECK_EQ_INT(bad_hi, 0);
	CHECK_EQ_INT(bad_next, 0);
	CHECK_EQ_INT(bad_res, 0);
}

/* HdrHistogram's answer for 1..n recorded once each. */
static int64_t uniform_expected(uint64_t n, double p)
{
	uint64_t count = (uint64_t)ceil(p * (double)n / 100.0 - 1e-9);
	int64_t v = ref_highest_equivalent((int64_t)(count ? count : 1));

	return v < (int64_t)n ? v : (int64_t)n;
}

static void test_uniform(void)
{
	static const double ps[] = { 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99 };
	struct hist *h = new_hist();

	for (int64_t v = 1; v <= 10000; v++)
		hist_record(h, v);
	CHECK_EQ_INT(h->total, 10000);
	CHECK_EQ_INT(h->min, 1);
	CHECK_EQ_INT(h->max, 10000);
	CHECK_EQ_INT(hist_percentile(h, 50), 5003); /* 5000's bucket is 5000..5003 */
	CHECK(fabs((double)hist_percentile(h, 50) - 5000) <= 5000 * 0.001);
	CHECK_EQ_INT(hist_percentile(h, 99), 9903);
	CHECK(fabs((double)hist_percentile(h, 99) - 9900) <= 9900 * 0.001);
	CHECK_EQ_INT(hist_percentile(h, 99.9), 9991);
	CHECK_EQ_INT(hist_percentile(h, 100), 10000);
	CHECK_EQ_INT(hist_percentile(h, 0), 1);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		CHECK_EQ_INT(hist_percentile(h, ps[i]), uniform_expected(10000, ps[i]));
	CHECK(fabs(hist_mean(h) - 5000.5) < 5000.5 * 0.001);

	/* Below 2048 every value has its own bucket: exact percentiles. */
	hist_reset(h);
	for (int64_t v = 1; v <= 1000; v++)
		hist_record(h, v);
	CHECK_EQ_INT(hist_percentile(h, 50), 500);
	CHECK_EQ_INT(hist_percentile(h, 90), 900);
	CHECK_EQ_INT(hist_percentile(h, 99.9), 999);
	CHECK_EQ_INT(hist_percentile(h, 99.95), 1000);
	CHECK(fabs(hist_mean(h) - 500.5) < 1e-9);
	free(h);
}

static void test_outlier(void)
{
	/* HdrHistogram's own percentile test: 10000 x 1000 plus one 1e8. */
	struct hist *h = new_hist();

	hist_record_n(h, 1000, 10000);
	hist_record(h, 100000000);
	CHECK_EQ_INT(hist_percentile(h, 30), 1000);
	CHECK_EQ_INT(hist_percentile(h, 99), 1000);
	CHECK_EQ_INT(hist_percentile(h, 99.99), 1000);
	CHECK_EQ_INT(hist_percentile(h, 99.999), 100000000);
	CHECK_EQ_INT(hist_percentile(h, 100), 100000000);
	/* A percentile is never above the exact max, though HdrHistogram's
	 * bucket top would be. */
	hist_reset(h);
	hist_record_n(h, 1234567, 100);
	CHECK(ref_highest_equivalent(1234567) > 1234567);
	CHECK_EQ_INT(hist_percentile(h, 50), 1234567);
	CHECK_EQ_INT(hist_percentile(h, 99.9), 1234567);
	CHECK_EQ_INT(h->min, 1234567);
	/* Nor is the mean outside min..max, though bucket midpoints are. */
	CHECK(hist_mean(h) == 1234567.0);
	hist_reset(h);
	hist_record(h, 123456);
	CHECK(hist_mean(h) == 123456.0);
	free(h);
}

static void test_add(void)
{
	struct hist *a = new_hist(), *b = new_hist(), *all = new_hist(), *sum = new_hist();

	for (int i = 0; i < 200000; i++) {
		int64_t v = (int64_t)(rng() >> (30 + rng() % 34)) + 1;

		hist_record(i % 3 ? a : b, v);
		hist_record(all, v);
	}
	hist_record(a, HIST_HIGHEST * 2); /* clamped counts merge too */
	hist_record(all, HIST_HIGHEST * 2);
	hist_add(sum, a);
	hist_add(sum, b);
	CHECK(memcmp(sum, all, sizeof(*sum)) == 0);
	CHECK_EQ_INT(sum->clamped, 1);
	CHECK_EQ_INT(sum->total, 200001);

	/* Adding an empty histogram changes nothing, min included. */
	hist_reset(b);
	hist_add(sum, b);
	CHECK(memcmp(sum, all, sizeof(*sum)) == 0);
	hist_reset(a);
	hist_add(a, b);
	CHECK_EQ_INT(a->min, INT64_MAX);
	CHECK_EQ_INT(a->total, 0);
	free(a);
	free(b);
	free(all);
	free(sum);
}

static void test_record_n(void)
{
	struct hist *a = new_hist(), *b = new_hist(), *e = new_hist();

	for (int i = 0; i < 7; i++)
		hist_record(a, 123456);
	hist_record_n(b, 123456, 7);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	/* n = 0 is no sample: min and max stay. */
	hist_record_n(e, 999, 0);
	hist_reset(a);
	CHECK(memcmp(e, a, sizeof(*a)) == 0);
	free(a);
	free(b);
	free(e);
}

/* A run of records (repeats, clamps at both ends, an empty run, runs
 * over a used histogram) gives the histogram as many hist_record give. */
static void test_run(void)
{
	static const int64_t vals[] = { 5, 5, 5, 700000, 700000, -3, 0, 1, 1, HIST_HIGHEST + 9,
					INT64_MAX, 42, 5, 5, 123456789, 123456789, 123456789 };
	struct hist *a = new_hist(), *b = new_hist();

	for (int round = 0; round < 3; round++) {
		struct hist_run r = hist_run_start(b);
		for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
			int64_t v = vals[i] > 0 && vals[i] < HIST_HIGHEST ? vals[i] * (round + 1) : vals[i];
			hist_record(a, v);
			hist_run_record(b, &r, v);
		}
		hist_run_end(b, &r);
		CHECK(memcmp(a, b, sizeof(*a)) == 0);
	}
	struct hist_run none = hist_run_start(b);
	hist_run_end(b, &none);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	hist_reset(a);
	hist_reset(b);
	struct hist_run one = hist_run_start(b);
	hist_run_record(b, &one, 77);
	hist_run_end(b, &one);
	hist_record(a, 77);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	free(a);
	free(b);
}

static void test_clamp(void)
{
	struct hist *h = new_hist();

	hist_record(h, 0);
	hist_record(h, -5);
	hist_record(h, INT64_MIN);
	CHECK_EQ_INT(h->min, 1);
	CHECK_EQ_INT(h->counts[hist_index(1)], 3);
	CHECK_EQ_INT(h->clamped, 0);
	hist_record(h, HIST_HIGHEST);
	CHECK_EQ_INT(h->clamped, 0);
	hist_record(h, HIST_HIGHEST + 1);
	hist_record(h, INT64_MAX);
	hist_record_n(h, HIST_HIGHEST * 10, 4);
	CHECK_EQ_INT(h->clamped, 6);
	CHECK_EQ_INT(h->max, HIST_HIGHEST);
	CHECK_EQ_INT(h->counts[hist_index(HIST_HIGHEST)], 7);
	CHECK_EQ_INT(h->total, 10);
	CHECK_EQ_INT(hist_percentile(h, 100), HIST_HIGHEST);
	CHECK_EQ_INT(hist_percentile(h, 99), HIST_HIGHEST);
	free(h);
}

static void test_empty(void)
{
	struct hist *h = new_hist();

	CHECK_EQ_INT(h->total, 0);
	CHECK_EQ_INT(h->min, INT64_MAX);
	CHECK_EQ_INT(h->max, 0);
	CHECK_EQ_INT(hist_percentile(h, 50), 0);
	CHECK_EQ_INT(hist_percentile(h, 100), 0);
	CHECK(hist_mean(h) == 0);
	/* Out-of-range percentiles on a non-empty histogram. */
	hist_record(h, 42);
	hist_record(h, 4200);
	CHECK_EQ_INT(hist_percentile(h, -1), 42);
	CHECK_EQ_INT(hist_percentile(h, 1000), 4200);
	CHECK_EQ_INT(hist_percentile(h, NAN), 4200);
	free(h);
}

static bool counts_zero(const struct hist *h)
{
	for (int i = 0; i < HIST_COUNTS_LEN; i++)
		if (h->counts[i])
			return false;
	return true;
}

/* hist_clear, hist_copy and hist_add visit only [index(min), index(max)]:
 * at the two ends of the range, with clamped values, after a merge, they
 * leave nothing behind and miss nothing. */
static void test_used_range(void)
{
	static const int64_t sets[][3] = { { 1, 1, 1 },
					   { 0, -5, 7 },
					   { HIST_HIGHEST, HIST_HIGHEST + 99, 123456789 },
					   { 1, 500000, HIST_HIGHEST * 3 } };
	struct hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));

	if (!a || !b || !c) {
		CHECK(0);
		return;
	}
	hist_clear(a); /* zeroed memory: fine */
	hist_clear(c);
	CHECK_EQ_INT(a->total, 0);
	CHECK(a->min == INT64_MAX && a->max == 0 && counts_zero(a));
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		hist_clear(a);
		for (int j = 0; j < 3; j++)
			hist_record(a, sets[k][j]);
		hist_copy(b, a);
		CHECK(!memcmp(a, b, sizeof(*a)));
		hist_add(c, a);
		hist_clear(a);
		CHECK(a->total == 0 && a->min == INT64_MAX && a->max == 0 && a->clamped == 0);
		CHECK(counts_zero(a));
	}
	/* c holds every set: the same as recording them all into one. */
	hist_clear(a);
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
		for (int j = 0; j < 3; j++)
			hist_record(a, sets[k][j]);
	CHECK(!memcmp(a, c, sizeof(*a)));
	/* A used histogram copied over a used one: the old counts go. */
	hist_clear(b);
	hist_record(b, HIST_HIGHEST);
	hist_copy(b, c);
	CHECK(!memcmp(b, c, sizeof(*b)));
	hist_clear(c);
	hist_copy(b, c);
	CHECK(b->total == 0 && counts_zero(b));
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	test_constants();
	test_index_matches_hdr();
	test_round_trip();
	test_uniform();
	test_outlier();
	test_add();
	test_record_n();
	test_run();
	test_clamp();
	test_empty();
	test_used_range();
	return t_done("test_hist");
}
