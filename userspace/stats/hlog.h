/* --hlog: latency intervals in HdrHistogram's interval log format (log
 * format version 1.3), one line per second, readable by HdrHistogram's
 * HistogramLogReader (Java, C, JS, ...). Values are nanoseconds (blast's
 * histograms have HdrHistogram's layout for 1 ns .. 60 s, 3 significant
 * digits, so the counts are written as they are); Interval_Max is in
 * milliseconds, HdrHistogram's default ratio for nanosecond values. */
#ifndef BLAST_HLOG_H
#define BLAST_HLOG_H

#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"

/* The header: a comment naming blast and the units, the format version,
 * StartTime and BaseTime (both the run's start, so interval timestamps are
 * seconds since it), and the legend. */
void hlog_write_header(FILE *f, uint64_t start_wall_ms);
/* "start,length,max_ms,base64\n" for one interval (start in seconds since
 * the run's start), malloc'd; NULL when out of memory. */
char *hlog_interval_line(double start_s, double len_s, const struct hist *h);
/* Parses one interval line back into h (for tests and tools). Returns 0, or
 * -EINVAL for anything that is not an interval line of blast's layout. */
int hlog_parse_line(const char *line, double *start_s, double *len_s, struct hist *h);

#endif
