/* One machine's share of a run split between machines without a
 * coordinator (--shard I/N, --shards N with $JOB_COMPLETION_INDEX;
 * docs/distributed.md). */
#ifndef BLAST_CLI_SHARD_H
#define BLAST_CLI_SHARD_H

#include "config/opts.h"

struct parse_state;

/* Once every other check has passed: takes the index from the
 * environment for --shards, then replaces the run's connections, rate,
 * messages, publishers and receivers by this machine's share. Kafka's
 * partitions are split once the cluster is known (main.c). 0, or one
 * line and BLAST_EXIT_USAGE. */
int shard_finish(struct blast_opts *o, const struct parse_state *ps);

#endif
