/* What blast knows of a Kafka cluster: the API versions to speak, the
 * brokers, and which broker leads each partition of the topic. The parent
 * learns it once before the run (kafka_bootstrap); each worker keeps its
 * own copy up to date from Metadata responses. */
#ifndef BLAST_KAFKA_META_H
#define BLAST_KAFKA_META_H

#include <stdint.h>

#include "config/opts.h"

#define KMETA_MAX_BROKERS 64

struct kafka_meta {
	int16_t produce_version;
	int16_t metadata_version;
	int16_t sasl_auth_version; /* SaslAuthenticate v0 or v1, with --sasl-mechanism */
	uint32_t n_brokers;
	int32_t broker_id[KMETA_MAX_BROKERS];
	struct blast_target broker_addr[KMETA_MAX_BROKERS];
	uint32_t n_parts;   /* partitions of the topic that blast produces to */
	int32_t *part_id;   /* [n_parts], ascending */
	int32_t *leader;    /* [n_parts]: broker id, -1 while there is none */
	int32_t topic_parts; /* partitions the topic has in all (for key hashing) */
};

/* Talks to the --target brokers in turn (blocking, 5 s per step) until one
 * answers ApiVersions and Metadata for o->topic. Returns 0, or prints one
 * line "blast: ..." (unknown topic, not a Kafka broker, no common version,
 * --partitions not in the topic) and returns BLAST_EXIT_USAGE. */
int kafka_bootstrap(const struct blast_opts *o, struct kafka_meta *m);
void kafka_meta_free(struct kafka_meta *m);
/* --shard: keeps this machine's share of the partitions (config/split.h)
 * in m and as o's --partitions. Not with --key (the key decides). 0, or
 * one line and BLAST_EXIT_USAGE when there are fewer partitions than
 * machines. */
int kafka_meta_shard(struct kafka_meta *m, struct blast_opts *o);

/* Index of a broker id in m->broker_id, or -1. */
int kafka_meta_broker_index(const struct kafka_meta *m, int32_t id);

#endif
