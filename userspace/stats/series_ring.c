/* The worker's half of the per-second series (series_ring.h). */
#include <stdint.h>
#include <string.h>

#include "stats/series_ring.h"

/* dst's header and the used stretch [*lo, *hi] of src's counts; src NULL
 * is an empty histogram. */
static void copy_used(struct hist *dst, int32_t *lo, int32_t *hi, const struct hist *src)
{
	if (!src) {
		dst->total = dst->clamped = 0;
		dst->min = INT64_MAX;
		dst->max = 0;
		*lo = 0;
		*hi = -1;
		return;
	}
	dst->total = src->total;
	dst->min = src->min;
	dst->max = src->max;
	dst->clamped = src->clamped;
	if (src->total) {
		*lo = hist_index(src->min);
		*hi = hist_index(src->max);
		memcpy(&dst->counts[*lo], &src->counts[*lo],
		       (size_t)(*hi - *lo + 1) * sizeof(src->counts[0]));
	} else {
		*lo = 0;
		*hi = -1;
	}
}

void series_publish(struct series_ring *r, uint64_t index, uint64_t now_ns, const struct hist *h,
		    const struct hist *e2e, const struct series_counts *c, bool last)
{
	struct series_sec *s = &r->sec[index % SERIES_RING];

	/* seq 0 while writing: a parent reading an older second here sees it
	 * is gone. Only the used stretch of counts is copied, so the pages of
	 * buckets never used stay untouched. */
	__atomic_store_n(&s->seq, 0, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->end_ns = now_ns;
	s->c = *c;
	copy_used(&s->h, &s->lo, &s->hi, h);
	copy_used(&s->e2e, &s->elo, &s->ehi, e2e);
	__atomic_store_n(&s->seq, index + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->published, index + 1, __ATOMIC_RELEASE);
	if (last)
		__atomic_store_n(&r->final, 1, __ATOMIC_RELEASE);
}
