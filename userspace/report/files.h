/* The report files besides the JSON: --hlog, --csv and --html, each written
 * atomically (FILE.tmp, then rename) once the run is over. */
#ifndef BLAST_REPORT_FILES_H
#define BLAST_REPORT_FILES_H

#include <stdint.h>
#include <stdio.h>

#include "config/opts.h"
#include "stats/series.h"
#include "stats/stats.h"

/* Writes every file o asks for. Returns 0, or -1 once each failure has
 * been named on stderr. */
int report_files_write(const struct blast_opts *o, const struct blast_results *r,
		       const struct series *s);

/* The per-second series as CSV: a header row, then one row per second;
 * a fan-out run (o given, opts_fanout) adds its receipts' columns. */
int csv_write_series(FILE *f, const struct series *s, const struct blast_opts *o);
/* Fan-out: receipts the interval's messages make expected. */
uint64_t report_row_expected(const struct blast_opts *o, const struct series_row *row);
/* The HdrHistogram interval log: header, then the series' lines. */
int hlog_write_series(FILE *f, const struct series *s);
/* The HTML page (html.c). */
int html_write(FILE *f, const struct blast_results *r, const struct series *s);

/* Calls write(f, arg) on path.tmp, fsyncs and renames it to path.
 * Returns 0 or -errno (write's own, or the file's). */
int write_atomic(const char *path, int (*write)(FILE *f, const void *arg), const void *arg);

#endif
