/* The capture witness's table of requests awaiting an ack, and the
 * counts and latencies recorded as requests and acks are seen. */
#ifndef BLAST_WIRE_PEND_H
#define BLAST_WIRE_PEND_H

#include <stdbool.h>
#include <stdint.h>

#include "witness/wire_int.h"

struct pend *wm_pend_get(struct wm *m, uint64_t a, uint64_t b);
/* Inserts or finds (a, b); NULL when out of memory. *fresh: inserted now. */
struct pend *wm_pend_put(struct wm *m, uint64_t a, uint64_t b, bool *fresh);
void wm_pend_del(struct wm *m, struct pend *e);
/* Counted in the totals and in flow fid's row: n requests; n acks that
 * are not timed (QoS 0, acks=0: done once on the wire); n acks timed
 * ack_ts - req_ts. */
void wm_requests(struct wm *m, uint32_t fid, uint64_t n);
void wm_acks(struct wm *m, uint32_t fid, uint64_t n);
void wm_acked(struct wm *m, uint32_t fid, uint64_t req_ts, uint64_t ack_ts, uint64_t n);

#endif
