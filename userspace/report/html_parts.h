/* The sections of the run's HTML page (html.c puts them together):
 * the time charts (html_time.c), the fan-out section (html_fanout.c) and
 * the --find-limit section (html_limit.c). */
#ifndef BLAST_HTML_PARTS_H
#define BLAST_HTML_PARTS_H

#include <stdint.h>
#include <stdio.h>

#include "stats/series.h"
#include "stats/stats.h"

/* A figure card; cls NULL, "ok", "bad" or "na". value is escaped. */
void html_card(FILE *f, const char *value, const char *what, const char *cls);
/* A latency as "12.3 us", "4.56 ms" or "1.20 s". */
void html_fmt_us(char *b, size_t cap, int64_t ns);

/* Throughput, latency over time, connections, messages in flight. */
void html_time_charts(FILE *f, const struct blast_results *r, const struct series *s);
/* Fan-out: receipts per second and their latency over time. */
void html_fanout_time_charts(FILE *f, const struct blast_results *r, const struct series *s);
/* Fan-out section: cards, the time charts above, missing by listener. */
void html_fanout(FILE *f, const struct blast_results *r, const struct series *s);
/* --find-limit: the criteria, the answer, the trials' charts and table. */
void html_limit(FILE *f, const struct blast_results *r);
/* --find-limit: the search's settings, rows of the configuration table. */
void html_limit_config(FILE *f, const struct blast_results *r);
/* A configuration row, the value escaped. */
void html_kv(FILE *f, const char *k, const char *v);

#endif
