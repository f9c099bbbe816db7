/* --shard I/N and --start-at, read into struct blast_opts (cli/flags.c's
 * rows; cli/shard.c applies the share once every flag is in). */
#ifndef BLAST_CLI_SHARD_ARGS_H
#define BLAST_CLI_SHARD_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/opts.h"

/* Flag setters: 0, or one line and BLAST_EXIT_USAGE. I counts from 0. */
int shard_arg(struct blast_opts *o, const char *flag, const char *arg);
int start_at_arg(struct blast_opts *o, const char *flag, const char *arg);
int hold_start_arg(struct blast_opts *o, const char *flag, const char *arg);

/* "2026-12-07T03:00:00Z", "...T03:00:00.250+01:00" (RFC 3339) or epoch
 * seconds ("1796612400", "1796612400.25") to wall-clock ns. 0 or -EINVAL. */
int parse_wall_time(const char *s, uint64_t *ns);

struct shm;
/* --hold-start, in the parent once every worker is connected: says
 * "connected" on the FD once, then takes the start time (--start-at's
 * syntax, a line) when it has come. True when the workers may go: the
 * start is set, or the FD closed or garbled (then the run is stopped,
 * after one line). */
bool hold_start_step(const struct blast_opts *o, struct shm *shm);

#endif
