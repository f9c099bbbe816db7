/* --shard I/N, --shards N with $JOB_COMPLETION_INDEX, and --start-at: one
 * machine's share of a run split between machines without a coordinator
 * (docs/distributed.md). */
#ifndef BLAST_CLI_SHARD_H
#define BLAST_CLI_SHARD_H

#include <stdint.h>

#include "config/opts.h"
#include "cli/flags.h"

/* Flag setters (cli/flags.c's rows). */
int shard_arg(struct blast_opts *o, const char *flag, const char *arg);
int start_at_arg(struct blast_opts *o, const char *flag, const char *arg);

/* "2026-12-07T03:00:00Z", "...T03:00:00.250+01:00" (RFC 3339) or epoch
 * seconds ("1796612400", "1796612400.25") to wall-clock ns. 0 or -EINVAL. */
int parse_wall_time(const char *s, uint64_t *ns);

/* Once every other check has passed: takes the index from the
 * environment for --shards, then replaces the run's connections, rate,
 * messages, publishers and receivers by this machine's share. Kafka's
 * partitions are split once the cluster is known (main.c). 0, or one
 * line and BLAST_EXIT_USAGE. */
int shard_finish(struct blast_opts *o, const struct parse_state *ps);

#endif
