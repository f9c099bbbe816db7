/* The worker's half of the per-second series (series.h): each worker
 * closes every whole second into a small ring in its shared-memory slot,
 * which the parent's merge reads. */
#ifndef BLAST_SERIES_RING_H
#define BLAST_SERIES_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "stats/hist.h"

/* Seconds a worker keeps for the parent; the parent polls every 50 ms. */
#define SERIES_RING 4

/* A worker's cumulative counters (and gauges) when it closed a second. */
struct series_counts {
	uint64_t sent, acked, failed, unacked, errors;
	uint64_t inflight, conns_up; /* gauges */
	uint64_t publish_start_ns;   /* 0 while still connecting */
	/* Self-measurement (diag.h), cumulative: CPU used, send lateness
	 * and the waits in it, ns. */
	uint64_t cpu_ns, late_ns, window_ns, socket_ns;
	/* Fan-out, cumulative: first receipts, and what makes receipts
	 * expected (stats.h: matched, share_receipts). */
	uint64_t received, matched, share_receipts;
};

struct series_sec {
	uint64_t seq;      /* second index + 1 once written; 0 while being written */
	uint64_t end_ns;   /* when the worker closed it (the last one ends early) */
	struct series_counts c;
	int32_t lo, hi;    /* h.counts[lo..hi] hold every count; the rest are stale */
	int32_t elo, ehi;  /* the same for e2e */
	struct hist h;
	struct hist e2e;   /* fan-out: send -> receipt latencies of the second */
};

/* Lives in struct worker_slot (shm.h). Zero is an empty ring. */
struct series_ring {
	uint64_t published; /* seconds closed so far: the next second's index */
	uint32_t final;     /* the worker closed its last second */
	struct series_sec sec[SERIES_RING];
};

/* Worker side: closes second `index` with its latency histograms
 * (corrected, and fan-out end-to-end: may be NULL) and its counters.
 * `last` marks the worker's final second. */
void series_publish(struct series_ring *r, uint64_t index, uint64_t now_ns, const struct hist *h,
		    const struct hist *e2e, const struct series_counts *c, bool last);

#endif
