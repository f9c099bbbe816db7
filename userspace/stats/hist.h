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
/* How many leading buckets may hold counts (past them all are zero):
 * what an encoder need read, without touching the rest's pages. */
size_t hist_used_len(const struct hist *h);
/* dst = src; dst empty, used or zeroed. Copies only the counts in use. */
void hist_copy(struct hist *dst, const struct hist *src);
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

/* Bucket of v (>= 0): the mask makes every value below 2048 land in
 * bucket 0. */
static inline int hist_bucket_of(int64_t v)
{
	return 64 - __builtin_clzll((uint64_t)(v | (HIST_SUB_BUCKET_COUNT - 1))) -
	       (HIST_SUB_BUCKET_HALF_MAG + 1);
}

/* Index in counts[] of v (HdrHistogram's counts_index_for). */
static inline int hist_index_of(int64_t v)
{
	int b = hist_bucket_of(v);
	int sub = (int)(v >> b);

	return ((b + 1) << HIST_SUB_BUCKET_HALF_MAG) + sub - HIST_SUB_BUCKET_HALF_COUNT;
}

/* Records v n times. Values < 1 are recorded as 1, values > HIST_HIGHEST
 * as HIST_HIGHEST (and counted in clamped). O(1), no branches beyond the
 * clamps; inline, as every acked message records here, tens of millions
 * a second. */
static inline void hist_record_n(struct hist *h, int64_t v, uint64_t n)
{
	/* Written so the compiler can use cmov for the clamps and min/max. */
	uint64_t over = v > HIST_HIGHEST;

	v = v < HIST_LOWEST ? HIST_LOWEST : v;
	v = over ? HIST_HIGHEST : v;
	h->clamped += over * n;
	h->counts[hist_index_of(v)] += n;
	h->total += n;
	/* n == 0 must not move min/max: an empty record is no sample. */
	h->min = (n && v < h->min) ? v : h->min;
	h->max = (n && v > h->max) ? v : h->max;
}

static inline void hist_record(struct hist *h, int64_t v)
{
	hist_record_n(h, v, 1);
}

/* Many hist_record calls in a row, with the totals, min and max kept in
 * the caller's registers, and a value repeated in a row counted once
 * (acks of messages sent together that one segment brings have the same
 * latency): hist_run_start, hist_run_record for each value, hist_run_end.
 * The histogram is the same as after as many hist_record. */
struct hist_run {
	uint64_t n, clamped;
	int64_t min, max;
	int64_t last;      /* the value repeated... */
	uint64_t last_n;   /* ...this many times, not in counts[] yet */
};

static inline struct hist_run hist_run_start(const struct hist *h)
{
	return (struct hist_run){ .min = h->min, .max = h->max };
}

static inline void hist_run_flush(struct hist *h, struct hist_run *r)
{
	if (!r->last_n)
		return;
	h->counts[hist_index_of(r->last)] += r->last_n;
	r->n += r->last_n;
	r->min = r->last < r->min ? r->last : r->min;
	r->max = r->last > r->max ? r->last : r->max;
	r->last_n = 0;
}

static inline void hist_run_record(struct hist *h, struct hist_run *r, int64_t v)
{
	uint64_t over = v > HIST_HIGHEST;

	v = v < HIST_LOWEST ? HIST_LOWEST : v;
	v = over ? HIST_HIGHEST : v;
	r->clamped += over;
	if (v != r->last) {
		hist_run_flush(h, r);
		r->last = v;
	}
	r->last_n++;
}

static inline void hist_run_end(struct hist *h, struct hist_run *r)
{
	hist_run_flush(h, r);
	if (!r->n)
		return;
	h->total += r->n;
	h->clamped += r->clamped;
	h->min = r->min;
	h->max = r->max;
}

#endif
