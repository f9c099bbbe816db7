/* Log-linear latency histogram, laid out exactly like HdrHistogram
 * (lowest discernible value 1, highest trackable 60 s in nanoseconds,
 * 3 significant digits) so that later HdrHistogram logs can encode the
 * counts array as is. Fixed size and pointer-free, so a histogram can live
 * in memory shared between worker processes and be copied with memcpy. */
#ifndef BLAST_HIST_H
#define BLAST_HIST_H

#include <stdint.h>

#define HIST_LOWEST 1LL
#define HIST_HIGHEST 60000000000LL /* 60 s in ns */
#define HIST_SIGFIGS 3
#define HIST_SUB_BUCKET_COUNT 2048 /* 2^ceil(log2(2 * 10^3)) */
#define HIST_SUB_BUCKET_HALF_COUNT 1024
#define HIST_SUB_BUCKET_HALF_MAG 10
#define HIST_BUCKET_COUNT 26
#define HIST_COUNTS_LEN ((HIST_BUCKET_COUNT + 1) * HIST_SUB_BUCKET_HALF_COUNT)

struct hist {
	uint64_t total;
	int64_t min; /* INT64_MAX when empty */
	int64_t max; /* 0 when empty */
	uint64_t clamped; /* values above HIST_HIGHEST recorded as HIST_HIGHEST */
	uint64_t counts[HIST_COUNTS_LEN];
};

/* A new empty histogram (zeroed memory: the pages of counts never used
 * stay untouched), or NULL when out of memory. free() it. */
struct hist *hist_new(void);
/* Makes h empty, whatever its memory held. */
void hist_reset(struct hist *h);
/* Makes an empty or used histogram empty (not for uninitialised memory:
 * zeroed memory is fine), touching only the counts it used. */
void hist_clear(struct hist *h);
/* dst = src; dst empty, used or zeroed. Copies only the counts in use. */
void hist_copy(struct hist *dst, const struct hist *src);
/* Values < 1 are recorded as 1, values > HIST_HIGHEST as HIST_HIGHEST (and
 * counted in clamped). O(1), no branches beyond the clamps. */
void hist_record(struct hist *h, int64_t v);
void hist_record_n(struct hist *h, int64_t v, uint64_t n);
void hist_add(struct hist *dst, const struct hist *src);
/* Value at percentile p (0..100], HdrHistogram's rule: the highest value
 * equivalent to the first bucket whose cumulative count reaches
 * ceil(p/100 * total); max for p = 100. 0 when empty. */
int64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);
/* Index helpers, exposed for tests and for the HdrHistogram log encoder. */
int hist_index(int64_t v);
int64_t hist_value_at_index(int idx);
/* Highest value that lands in the same bucket as v. */
int64_t hist_highest_equivalent(int64_t v);

#endif
