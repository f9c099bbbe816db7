/* engine/io.c, inside the engine: completions */
#ifndef BLAST_ENGINE_IO_H
#define BLAST_ENGINE_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

void tl_fail(void *ctx, struct tlink *l, enum blast_err why);
int tl_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n);
void tl_layer_up(void *ctx, struct tlink *l);
int64_t tl_rx_offset(void *ctx, const uint8_t *p);
void tl_rx_mark_at(void *ctx, int64_t off);
void handle_cqe(struct worker *w, struct io_uring_cqe *cqe);

#endif
