/* Kafka's placement hooks for the engine (struct proto_ops). */
#ifndef BLAST_KAFKA_PLACE_H
#define BLAST_KAFKA_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

/* --conns connections to every broker of the cluster (w->shared). */
int kf_place(struct worker *w);
/* Connection i's broker and number. */
void kf_place_conn(struct worker *w, struct conn *c, uint32_t i);
/* One Produce request per send: room for a few full batches. */
uint64_t kf_chunk_size(const struct blast_opts *o);
/* Responses are timed only with acks. */
bool kf_times_arrivals(const struct blast_opts *o);

#endif
