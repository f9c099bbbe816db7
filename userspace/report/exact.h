/* What a report carries so that the reports of a split run (--shard) merge
 * exactly (`blast merge`, report/merge.c): the whole histograms and each
 * second's in HdrHistogram's V2 encoding (base64, as --hlog writes them),
 * the second's wall-clock start, and the run's counters as they are. */
#ifndef BLAST_REPORT_EXACT_H
#define BLAST_REPORT_EXACT_H

#include <stddef.h>
#include <stdint.h>

#include "stats/hist.h"
#include "stats/stats.h"

struct json_writer;

/* The report's "shard" (a split run's) and "exact" members. */
void report_json_exact(struct json_writer *w, const struct blast_results *r);

/* h in the V2 compressed encoding, base64: malloc'd, NULL when out of memory. */
char *exact_hist_b64(const struct hist *h);
/* The reverse into h (reset first); min and max are the buckets' edges.
 * 0 or -EINVAL (not base64, not V2, another layout). */
int exact_hist_parse(const char *b64, size_t len, struct hist *h);
/* The same from the V2 compressed bytes themselves. */
int exact_hist_from_v2(const uint8_t *z, size_t zlen, struct hist *h);

/* The run's counters deflated and in base64 (they merge by totals_add;
 * `blast merge` refuses reports of another version, so the layout is the
 * same). malloc'd, NULL when out of memory. */
char *exact_totals_b64(const struct blast_totals *t);
/* The reverse: 0, or -EINVAL (damaged, or another layout). */
int exact_totals_parse(const char *b64, size_t len, struct blast_totals *t);

struct series;
/* --seconds-to: appends the rows of s from *done on as lines "start_ms
 * len_ms sent acked failed unacked errors inflight conns_up max_ns
 * e=E0,E1,... w=WIRE hdr" (E: the run's errors so far by reason, in
 * stats.h's order, from errors[ERR__COUNT]; WIRE: --probe's latencies
 * since the last call, on the newest row, base64 V2, "-" without; hdr:
 * the second's histogram, base64 V2, "-" without), then moves *done. 0 or
 * -errno. */
int exact_seconds_out(const char *path, const struct series *s, size_t *done,
		      const uint64_t *errors, const struct hist *wire);

#endif
