/* A worker measuring itself (stats/diag.h): per send buffer, per loop turn,
 * per second, and at the two ends of the publish phase. Nothing here runs
 * per message but the lateness records of measure_sends. */
#ifndef BLAST_ENGINE_MEASURE_H
#define BLAST_ENGINE_MEASURE_H

#include <stdint.h>

#include "stats/diag.h"
#include "stats/hist.h"
#include "stats/series_ring.h"

struct worker;
struct conn;

/* Lives in struct worker. */
struct measure {
	struct diag_counts c;
	struct hist *late, *wait_window, *wait_socket;
	uint64_t cpu0_ns, runq0_ns;    /* at the start of the publish phase */
	uint64_t acked_then, inflight_then; /* at the last second's close */
	uint64_t stall_now_s;          /* the current run of stalled seconds */
};

/* 0, or -ENOMEM. */
int measure_init(struct measure *m);
void measure_free(struct measure *m);
/* Messages first..first+n-1 just went into a send on c. */
void measure_sends(struct worker *w, const struct conn *c, uint64_t first, uint32_t n);
/* A loop turn submitted sqes and reaped cqes. */
void measure_turn(struct measure *m, unsigned sqes, unsigned cqes);
void measure_publish_start(struct worker *w);
/* Sending ended: CPU over the phase, what held the connections, TCP_INFO. */
void measure_publish_end(struct worker *w);
/* A second closes: stalled acks; CPU and waits so far for the series. */
void measure_second(struct worker *w, struct series_counts *sc);
/* The final figures into the worker's shared-memory slot. */
void measure_copy_out(struct worker *w);

#endif
