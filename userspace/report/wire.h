/* The wire witness (--probe, --pcap) in the summary and the JSON report,
 * next to the client's figures: a run's own, or a past run's read back
 * from its JSON report (blast analyze --against). */
#ifndef BLAST_REPORT_WIRE_H
#define BLAST_REPORT_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/stats.h"

struct json_writer;
struct wire_stats;

/* The columns client and wire are compared at: name as printed, key in
 * the JSON (those of the run report's latency objects), percentile (0:
 * min, 101: max). */
enum { WIRE_MIN, WIRE_P50, WIRE_P90, WIRE_P99, WIRE_P999, WIRE_MAX, WIRE_NCOLS };
struct wire_col {
	const char *name, *key;
	double p;
};
extern const struct wire_col wire_cols[WIRE_NCOLS];

/* h at wire_cols[col], in ns; 0 when h is NULL or empty. */
int64_t wire_col_at(const struct hist *h, unsigned col);

/* The client's side of the comparison. */
struct wire_client {
	const char *proto;      /* "mqtt", "kafka" or "ws": a string literal */
	uint64_t sent;
	uint64_t acked;         /* ws: receipts, duplicates included */
	uint64_t conns;         /* peak connections */
	uint64_t count;         /* latency samples; 0: no latency figures */
	int64_t ns[WIRE_NCOLS]; /* latency at each of wire_cols */
};

/* From a run: uncorrected latency, or end to end for --proto ws. */
void report_wire_client(const struct blast_results *r, struct wire_client *c);
bool wire_client_is_ws(const struct wire_client *c);

/* The wire's counts and latency next to the client's, and client minus
 * wire at each percentile. */
void report_wire_witness(FILE *f, const struct wire_client *c, const struct wire_stats *w);
/* The "wire" object under key; "client_minus_wire_us" only when c is set. */
void report_wire_witness_json(struct json_writer *j, const char *key, const struct wire_client *c,
			      const struct wire_stats *w);
/* c under key: proto, sent, acked (ws: receipts), peak_conns, latency_us. */
void report_wire_client_json(struct json_writer *j, const char *key, const struct wire_client *c);

/* For r->wire_probe and r->wire_pcap, whichever are set: report_wire_witness
 * with the run's own client figures. Prints nothing when neither is set. */
void report_wire_summary(FILE *f, const struct blast_results *r);
/* "wire": the probe's (else the capture's) object; "wire_pcap": the
 * capture's when both are set. Writes nothing when neither is set. */
void report_wire_json(struct json_writer *j, const struct blast_results *r);
/* The client histogram the wire is compared with: uncorrected latency, or
 * end to end for --proto ws. */
const struct hist *report_wire_client_hist(const struct blast_results *r);

#endif
