/* --proto http's checks and defaults once every flag is in (docs/http.md). */
#ifndef BLAST_CLI_HTTP_CHECKS_H
#define BLAST_CLI_HTTP_CHECKS_H

#include "config/opts.h"
#include "cli/flags.h"

/* The HTTP run's defaults and checks; 0 or BLAST_EXIT_USAGE after one line. */
int http_finish(struct blast_opts *o, const struct parse_state *ps);

#endif
