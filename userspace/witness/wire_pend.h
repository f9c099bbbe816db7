/* The capture witness's table of requests awaiting an ack, and the
 * latency it records when one is matched. */
#ifndef BLAST_WIRE_PEND_H
#define BLAST_WIRE_PEND_H

#include <stdbool.h>
#include <stdint.h>

#include "witness/wire_int.h"

struct pend *wm_pend_get(struct wm *m, uint64_t a, uint64_t b);
/* Inserts or finds (a, b); NULL when out of memory. *fresh: inserted now. */
struct pend *wm_pend_put(struct wm *m, uint64_t a, uint64_t b, bool *fresh);
void wm_pend_del(struct wm *m, struct pend *e);
/* n latency samples of ack_ts - req_ts. */
void wm_latency(struct wm *m, uint64_t req_ts, uint64_t ack_ts, uint64_t n);

#endif
