/* A run's verdict in one line, the first thing the summary and the HTML
 * page say: a failed run must look failed before any figure is read. */
#ifndef BLAST_REPORT_STATUS_H
#define BLAST_REPORT_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "stats/stats.h"

/* Writes into buf what went wrong, most telling first ("no connection
 * succeeded (4 attempts refused or failed); nothing was sent"), or "every
 * message sent was acked" style text for a clean run. Returns true when
 * the run is clean (exit status 0). */
bool report_status(const struct blast_results *r, char *buf, size_t cap);

/* --find-limit's end (search.ended) in words: "the answer was confirmed". */
const char *report_search_end_words(const char *end);

/* The run's acked rate: acked messages over the publishing time (the
 * drain is not publishing), over the whole run when nothing was
 * published; 0 when neither has a length. */
double report_acked_rate(const struct blast_results *r);

#endif
