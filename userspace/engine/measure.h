/* A worker measuring itself (stats/diag.h): per send buffer, per loop turn,
 * per second, and at the two ends of the publish phase. Nothing here runs
 * per message but the lateness records of measure_sends. */
#ifndef BLAST_ENGINE_MEASURE_H
#define BLAST_ENGINE_MEASURE_H

#include <stdint.h>

#include "stats/diag.h"
#include "stats/series_ring.h"

struct worker;
struct conn;

/* 0, or -ENOMEM. */
int measure_init(struct diag_worker *m);
void measure_free(struct diag_worker *m);
/* Messages first..first+n-1 just went into a send on c. */
void measure_sends(struct worker *w, const struct conn *c, uint64_t first, uint32_t n);
/* A loop turn submitted sqes and reaped cqes. */
void measure_turn(struct diag_worker *m, unsigned sqes, unsigned cqes);
void measure_publish_start(struct worker *w);
/* Sending ended: CPU over the phase, what held the connections, TCP_INFO. */
void measure_publish_end(struct worker *w);
/* A second closes: stalled acks; CPU and waits so far for the series. */
void measure_second(struct worker *w, struct series_counts *sc);
/* The final figures into the worker's shared-memory slot. */
void measure_copy_out(struct worker *w);

#endif
