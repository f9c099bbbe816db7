/* Pieces every HTML page of blast's shares (the run's report, html.c, and
 * `blast analyze --html`, analyze_report.c): the frame with its inline
 * CSS, latency cells, the percentile chart, the client and wire table. */
#ifndef BLAST_HTML_PAGE_H
#define BLAST_HTML_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"
#include "report/wire.h"
#include "stats/wire.h"

/* Opens the page up to its <title>, whose text the caller writes
 * (escaped) before html_page_body. */
void html_page_begin(FILE *f);
/* Closes the head (inline CSS) and opens the body with <h1>h1</h1>. */
void html_page_body(FILE *f, const char *h1);

/* A <td> in microseconds, about four significant digits. */
void html_us_cell(FILE *f, int64_t ns);

/* One curve of the percentile chart; svg.c colour index (.s0 ...). */
struct html_curve {
	const struct hist *h; /* NULL or empty: left out */
	const char *name;
	int colour;
	bool dashed;
};
/* The percentile chart ("nines" x axis, log latency) of n curves, as far
 * out as the largest has samples; nothing when all are empty. */
void html_percentile_chart(FILE *f, const struct html_curve *curves, int n);

/* Section "Client and wire": c's row, one row per witness w[i] (named
 * names[i]) and, with c's latency, client minus that wire at p50, p99
 * and max. c may be NULL (a capture alone). */
void html_wire_section(FILE *f, const struct wire_client *c, const struct wire_stats *const *w,
		       const char *const *names, int n);

#endif
