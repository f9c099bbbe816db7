/* The run's view of itself (stats/diag.h) and its verdict (stats/verdict.h)
 * in the summary, the JSON report and the HTML page. Each writes nothing
 * when the run took no such figures (r->diag NULL: --find-limit trials). */
#ifndef BLAST_REPORT_DIAGNOSIS_H
#define BLAST_REPORT_DIAGNOSIS_H

#include <stdbool.h>
#include <stdio.h>

#include "stats/stats.h"
#include "stats/verdict.h"

struct json_writer;

/* The verdict on r's figures; false when r has none. */
bool diagnosis_judge(const struct blast_results *r, struct verdict *v);
/* A "client" line of figures and the "bottleneck:" line. */
void diagnosis_print(FILE *f, const struct blast_results *r);
/* The "diagnosis" object. */
void diagnosis_json(struct json_writer *j, const struct blast_results *r);
/* The verdict and its figures, a section of its own. */
void diagnosis_html(FILE *f, const struct blast_results *r);

#endif
