/* engine/quickack.c, inside the engine: whether a receive is answered by
 * a quick ACK, and what reads teach about the peer's need of one */
#ifndef BLAST_ENGINE_QUICKACK_H
#define BLAST_ENGINE_QUICKACK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

/* After c's read was handed to the protocol: sends a quick ACK if the
 * peer may be holding answers back for one. */
void quickack_after_read(struct worker *w, struct conn *c);

/* Each loop turn: a connection that was let go without quick ACKs and
 * has waited STALL_NS for answers gets one, and quick ACKs from then on.
 * Returns when it should be called next (UINT64_MAX: not needed). */
uint64_t quickack_watch(struct worker *w);

#endif
