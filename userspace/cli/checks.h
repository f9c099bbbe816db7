/* The checks between flags, after every flag is read. */
#ifndef BLAST_CLI_CHECKS_H
#define BLAST_CLI_CHECKS_H

#include "config/opts.h"
#include "cli/flags.h"

/* Checks the flags against each other, fills the defaults that depend on
 * other flags (targets, topics, connection counts, workers) and checks
 * the files a run will write. Returns 0, or prints one "blast: ..." line
 * and returns BLAST_EXIT_USAGE. */
int opts_finish(struct blast_opts *o, const struct parse_state *ps);

#endif
