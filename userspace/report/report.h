/* End-of-run output: a summary table for people and a JSON file for tools. */
#ifndef BLAST_REPORT_H
#define BLAST_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/stats.h"

/* The "version" string of the JSON report and the summary's first word. */
#include "config/version.h"

/* Human summary: counts, rate, accounting check, errors by reason, and a
 * latency table (corrected, uncorrected, connect: min p50 p90 p99 p99.9 max). */
void report_print_summary(FILE *f, const struct blast_results *r);

/* --find-limit's trials table and answer (report_print_summary calls it). */
void limit_print(FILE *f, const struct blast_results *r);
/* --find-limit: whose limit the answer is, from the failed trial that
 * bounds it ("client-bound at 80000 msg/s: <evidence> (...)", and
 * network-, broker-bound), into b; false when there is none to say (no
 * answer, the ceiling, no verdict). */
bool limit_bound_line(char *b, size_t cap, const struct blast_results *r);
/* True when the bound is blast's own: the answer is not the broker's. */
bool limit_client_bound(const struct blast_results *r);

struct series;
struct json_writer;
/* h as an object under key: min, p50, p90, p99, p999, max, mean (us),
 * count, clamped; zeros when h is NULL or empty. */
void report_json_latency(struct json_writer *w, const char *key, const struct hist *h);
/* A limit-search trial's verdict members: bottleneck, evidence, rerun_with,
 * client_bound (the report's and the live page's). */
struct limit_trial;
void report_json_trial_verdict(struct json_writer *w, const struct limit_trial *t);

/* Everything a run reports, in this order: the summary on stdout, then
 * explain(arg) when given (lines on stderr that follow the summary), the
 * JSON report (--report) and the other files (--hlog, --csv, --html).
 * Returns r->exit_status, made 1 when a file could not be written (each
 * failure named on stderr). */
int report_emit(const struct blast_results *r, const struct series *s,
		void (*explain)(void *arg), void *arg);

/* Writes the JSON report to path atomically (path.tmp, then rename).
 * Returns 0 or -errno. */
int report_write_json(const char *path, const struct blast_results *r);
/* The same document written to an open stream (not closed). 0 or -errno. */
int report_write_json_stream(FILE *f, const struct blast_results *r);

/* Error map key for one counter, e.g. "connack:not_authorized",
 * "puback:quota_exceeded", "disconnect:server_shutting_down",
 * "conn_reset". Written into buf; returns buf. kind is NULL or "error" for
 * enum blast_err (code indexes blast_err_names), "connack" for CONNACK codes
 * (named with mqtt_version), or any other prefix ("puback", "disconnect")
 * for MQTT 5 reason codes. */
const char *report_error_key(char *buf, size_t cap, const char *kind, unsigned code, int mqtt_version);

struct blast_opts;
/* One line on f per way a WebSocket upgrade failed that has no HTTP
 * status to show: the server closed without answering (with the
 * subprotocol asked for), or its 101 broke RFC 6455 (which check). */
void report_upgrade_refusals(FILE *f, const struct blast_totals *t, const struct blast_opts *o);

/* Calls fn for every non-zero error counter, by the report's key, in the
 * summary's order (for the HTML page). */
void report_each_error(const struct blast_totals *t, int mqtt_version,
		       void (*fn)(const char *key, uint64_t n, void *arg), void *arg);

#endif
