/* --target and --listen-target. Each returns 0, or prints one "blast: ..."
 * line and returns BLAST_EXIT_USAGE. opts_check_targets is in config/opts.h. */
#ifndef BLAST_CLI_TARGETS_H
#define BLAST_CLI_TARGETS_H

#include "config/opts.h"

/* HOST:PORT, [v6]:PORT or ws://HOST:PORT/PATH, resolved (IPv4 first) and
 * added to o->targets. */
int target_add(struct blast_opts *o, const char *s);

/* The same, added to o->listen. */
int listen_target_add(struct blast_opts *o, const char *s);

#endif
