/* --proto http's part of the reports: responses by status and class, 1xx
 * answers, body bytes, the server's closes and the time to first byte
 * (docs/http.md, "Report"). */
#ifndef BLAST_REPORT_HTTP_H
#define BLAST_REPORT_HTTP_H

#include <stdio.h>

#include "stats/stats.h"

struct json_writer;

/* The summary's lines; nothing unless the run is --proto http. */
void report_http_text(FILE *f, const struct blast_results *r);
/* --proto http's settings inside the JSON report's "config" object. */
void report_http_config_json(struct json_writer *w, const struct blast_opts *o);
/* The JSON report's "http" object; nothing unless --proto http. */
void report_http_json(struct json_writer *w, const struct blast_results *r);

#endif
