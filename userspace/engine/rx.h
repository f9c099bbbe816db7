/* engine/rx.c, inside the engine: receive timing */
#ifndef BLAST_ENGINE_RX_H
#define BLAST_ENGINE_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

int rx_open(struct worker *w, unsigned bid, int res, uint8_t **data);
void rx_begin(struct worker *w, struct conn *c, const uint8_t *data, int res);
void rx_end(struct worker *w, struct conn *c);
void rbuf_recycle(struct worker *w, unsigned bid);

#endif
