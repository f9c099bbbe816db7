/* The wire witness (--probe, --pcap) in the summary and the JSON report. */
#ifndef BLAST_REPORT_WIRE_H
#define BLAST_REPORT_WIRE_H

#include <stdio.h>

#include "stats/stats.h"

struct json_writer;

/* For r->wire_probe and r->wire_pcap, whichever are set: the wire's counts
 * and latency next to the client's, and client minus wire at each
 * percentile. Prints nothing when neither is set. */
void report_wire_summary(FILE *f, const struct blast_results *r);
/* "wire": the probe's (else the capture's) object; "wire_pcap": the
 * capture's when both are set. Writes nothing when neither is set. */
void report_wire_json(struct json_writer *j, const struct blast_results *r);
/* The client histogram the wire is compared with: uncorrected latency, or
 * end to end for --proto ws. */
const struct hist *report_wire_client_hist(const struct blast_results *r);

#endif
