/* Where Kafka's connections go, how big its sends are, and what it times:
 * the engine's placement hooks for the producer (protocol/kafka.c). */
#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"
#include "protocol/kafka_meta.h"
#include "protocol/kafka_place.h"

/* --conns connections to every broker: every worker queues messages for
 * every partition, so it needs its own connection to each leader. */
int kf_place(struct worker *w)
{
	const struct blast_opts *o = w->o;
	const struct kafka_meta *m = w->shared;

	w->addrs = m->broker_addr;
	w->n_addrs = m->n_brokers;
	w->always_reconnect = true; /* a lost broker connection is always reopened */
	w->n_conns = (o->conns / w->n_workers + (w->id < o->conns % w->n_workers)) * w->n_addrs;
	return 0;
}

/* The worker's i-th connection is its connection k = i / brokers to broker
 * i % brokers (k = w, w + n, ...; main keeps n <= --conns). */
void kf_place_conn(struct worker *w, struct conn *c, uint32_t i)
{
	uint32_t b = i % w->n_addrs, k = (i / w->n_addrs) * w->n_workers + w->id;

	c->target = (uint8_t)b;
	c->idx = k * w->n_addrs + b;
}

/* One Produce request per send: room for a few full batches. */
uint64_t kf_chunk_size(const struct blast_opts *o)
{
	uint64_t cs = 4ull * o->batch_size + 65536;

	if (cs < 256 * 1024)
		cs = 256 * 1024;
	if (cs < 2ull * o->payload_size + 65536)
		cs = 2ull * o->payload_size + 65536;
	return cs;
}

/* With acks, responses are timed; acks=0 has nothing coming back. */
bool kf_times_arrivals(const struct blast_opts *o)
{
	return o->acks != 0;
}
