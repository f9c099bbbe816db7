/* How a run is split between N machines (--shard I/N, or a coordinator's
 * agents): each share gets whole connections, messages and rate, the
 * remainders going one each to the first shares, and its own range of
 * connection numbers, publishers, receivers and Kafka partitions. Pure
 * arithmetic: the same whole and the same N give every machine the same
 * answer, so the shares add up to the whole and never overlap. */
#ifndef BLAST_CONFIG_SPLIT_H
#define BLAST_CONFIG_SPLIT_H

#include <stdint.h>

/* What is divided. A zero rate (unlimited) stays unlimited in every share;
 * has_messages = 0 (no --messages) likewise. */
struct split_whole {
	uint32_t conns;       /* connections ({conn} numbers 0..conns-1) */
	uint64_t rate;        /* msg/s in all; 0 = unlimited */
	uint64_t messages;    /* --messages in all */
	uint8_t has_messages;
	uint32_t publishers;  /* fan-out: publishing connections */
	uint32_t receivers;   /* fan-out: --subscribers or --listeners per node */
	uint32_t partitions;  /* Kafka: partitions produced to (by their index) */
};

/* Share i of n: counts, and where its ranges start in the whole. */
struct split_share {
	uint32_t conns, conn_base;
	uint64_t rate;
	uint64_t messages;
	uint32_t publishers, publisher_base;
	uint32_t receivers, receiver_base;
	uint32_t partitions, partition_base;
};

/* Share i (0 <= i < n, n >= 1) of w. */
void split_share(const struct split_whole *w, uint32_t i, uint32_t n, struct split_share *s);

/* total's share i of n, and where that share starts: total / n each, one
 * more for the first total % n. */
uint64_t split_part(uint64_t total, uint32_t i, uint32_t n);
uint64_t split_base(uint64_t total, uint32_t i, uint32_t n);

#endif
