/* The worker's half of the per-second series (series_ring.h). */
#include <string.h>

#include "stats/series_ring.h"

void series_publish(struct series_ring *r, uint64_t index, uint64_t now_ns, const struct hist *h,
		    const struct series_counts *c, bool last)
{
	struct series_sec *s = &r->sec[index % SERIES_RING];

	/* seq 0 while writing: a parent reading an older second here sees it
	 * is gone. Only the used stretch of counts is copied, so the pages of
	 * buckets never used stay untouched. */
	__atomic_store_n(&s->seq, 0, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->end_ns = now_ns;
	s->c = *c;
	s->h.total = h->total;
	s->h.min = h->min;
	s->h.max = h->max;
	s->h.clamped = h->clamped;
	if (h->total) {
		s->lo = hist_index(h->min);
		s->hi = hist_index(h->max);
		memcpy(&s->h.counts[s->lo], &h->counts[s->lo],
		       (size_t)(s->hi - s->lo + 1) * sizeof(h->counts[0]));
	} else {
		s->lo = 0;
		s->hi = -1;
	}
	__atomic_store_n(&s->seq, index + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->published, index + 1, __ATOMIC_RELEASE);
	if (last)
		__atomic_store_n(&r->final, 1, __ATOMIC_RELEASE);
}
