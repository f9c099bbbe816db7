/* --find-limit in the summary: every trial, the answer, and for
 * --find-limit conns the connect-rate stage. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/opts.h"
#include "limit/limit.h"
#include "report/json.h"
#include "report/report.h"
#include "stats/verdict.h"

static double us(int64_t ns)
{
	return (double)ns / 1e3;
}

/* --find-limit conns, second stage: its trials and the connect rate found. */
static void print_conn_rate(FILE *f, const struct blast_results *r)
{
	const char *end = r->limit_rate_ended ? r->limit_rate_ended : "unknown";
	unsigned n = 0, a = r->limit_rate_trial;

	for (unsigned i = 0; i < r->n_trials; i++)
		n += r->trials[i].conn_rate;
	fprintf(f, "\nconnect rate search (--ramp): %u trial(s), ended: %s\n", n, end);
	if (n)
		fprintf(f, "  %3s %10s %10s %10s %10s %10s %10s %10s  %s\n", "#", "asked/s", "conns",
			"trial s", "opened/s", "p50 us", "p99 us", "p999 us", "verdict");
	for (unsigned i = 0; i < r->n_trials; i++) {
		const struct limit_trial *t = &r->trials[i];
		if (!t->conn_rate)
			continue;
		fprintf(f, "  %3u %10" PRIu64 " %10" PRIu64 " %10.1f %10.0f %10.1f %10.1f %10.1f  %s%s%s\n",
			i + 1, t->offered, t->conns, t->duration_s, t->achieved, us(t->p50_ns),
			us(t->p99_ns), us(t->p999_ns), t->pass ? "pass" : "FAIL: ", t->pass ? "" : t->why,
			i + 1 == a ? "  <- limit" : "");
	}
	if (!a || a > r->n_trials || !r->trials[a - 1].conn_rate) {
		fprintf(f, "connect rate: none found (%s)\n", end);
		return;
	}
	const struct limit_trial *t = &r->trials[a - 1];
	const struct hist *h = r->limit_rate_connect;
	fprintf(f, "connect rate: %" PRIu64 " connections/s opened (%.0f/s reached, %" PRIu64
		   " connections, trial %u, %s)",
		t->offered, t->achieved, t->conns, a, !strcmp(end, "confirmed") ? "confirmed"
			: !strcmp(end, "ceiling") ? "the ceiling" : "UNCONFIRMED: the search was cut short");
	if (h && h->total)
		fprintf(f, "; connect latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
			us(hist_percentile(h, 50)), us(hist_percentile(h, 90)), us(hist_percentile(h, 99)),
			us(hist_percentile(h, 99.9)), us(h->max));
	fputc('\n', f);
}

/* The failed trial that bounds the answer, judged; NULL when none. */
static const struct limit_trial *bound_of(const struct blast_results *r)
{
	unsigned b = r->limit_bound_trial;

	if (r->limit_trial < 0 || (unsigned)r->limit_trial >= r->n_trials || !b || b > r->n_trials ||
	    !r->trials[b - 1].judged)
		return NULL;
	return &r->trials[b - 1];
}

bool limit_client_bound(const struct blast_results *r)
{
	const struct limit_trial *t = bound_of(r);

	return t && t->client_bound;
}

bool limit_bound_line(char *b, size_t cap, const struct blast_results *r)
{
	const struct limit_trial *t = bound_of(r);

	if (!t)
		return false;
	const char *who = t->client_bound ? "client" : t->bottleneck == BOTTLENECK_NETWORK ? "network"
										     : "broker";
	snprintf(b, cap, "%s-bound at %" PRIu64 " msg/s: %s (trial %u failed at %" PRIu64 " msg/s%s%s)%s",
		 who, r->trials[r->limit_trial].offered, t->evidence, r->limit_bound_trial, t->offered,
		 t->client_bound ? ", " : "", t->client_bound ? bottleneck_name(t->bottleneck) : "",
		 t->bottleneck == BOTTLENECK_NETWORK ? ": a property of the path, not the broker" : "");
	return true;
}

/* What the search changed in blast on the way: the window, the workers. */
static void widened_line(FILE *f, const struct blast_results *r)
{
	const struct limit_trial *first = NULL, *a = &r->trials[r->limit_trial];
	unsigned reruns = 0;

	for (unsigned i = 0; i < r->n_trials; i++) {
		if (r->trials[i].conn_rate)
			continue;
		if (!first)
			first = &r->trials[i];
		reruns += r->trials[i].widened[0] != 0;
	}
	if (!first || !reruns)
		return;
	fprintf(f, "widened: %u trial(s) failed on blast's own window or CPU and ran again; the "
		   "answer ran with --inflight %u --workers %u (the search began with --inflight %u "
		   "--workers %u)\n",
		reruns, a->inflight, a->workers, first->inflight, first->workers);
}

/* The verdict column: pass or the failure, then the bottleneck, and what
 * the search did about a client's failure. */
static void verdict_cell(FILE *f, const struct limit_trial *t, bool answer)
{
	fprintf(f, "%s%s", t->pass ? "pass" : "FAIL: ", t->pass ? "" : t->why);
	if (t->widened[0])
		fprintf(f, "; rerun with %s", t->widened);
	else if (t->client_bound)
		fprintf(f, "; client-bound");
	fprintf(f, "%s\n", answer ? "  <- limit" : "");
}

void limit_print(FILE *f, const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;
	bool conns = o && o->limit.mode == LIMIT_CONNS;
	const char *end = r->stop_reason ? r->stop_reason : "unknown";
	bool wire = o && o->probe; /* retransmissions per trial, from the probe */

	unsigned n1 = 0;

	for (unsigned i = 0; i < r->n_trials; i++)
		n1 += !r->trials[i].conn_rate;
	fprintf(f, "\nlimit search (%s): %u trial(s), ended: %s\n", conns ? "connections" : "rate",
		n1, end);
	if (conns)
		fprintf(f, "  %3s %10s %10s %10s %10s %10s %10s %10s  %s\n", "#", "conns", "trial s",
			"held", "conn/s", "p50 us", "p99 us", "p999 us", "verdict");
	else
		fprintf(f, "  %3s %10s %8s %10s %10s %10s %10s %9s %9s %10s %10s %10s %s %8s %7s  %-21s "
			   "%s\n", "#", "offered/s", "trial s", "achieved/s", "acked/s", "sent", "acked",
			"lost", "not sent", "p50 us", "p99 us", "p999 us",
			wire ? "real retx   srtt us" : "", "inflight", "workers", "bottleneck", "verdict");
	for (unsigned i = 0; i < r->n_trials; i++) {
		const struct limit_trial *t = &r->trials[i];
		char retx[48];
		if (t->conn_rate)
			continue; /* the connect-rate stage's own table, below */
		snprintf(retx, sizeof(retx), "%9" PRIu64 " %9" PRIu64, t->retransmits, t->srtt_us);
		if (conns)
			fprintf(f, "  %3u %10" PRIu64 " %10.1f %10.0f %10.0f %10.1f %10.1f %10.1f  %s%s%s\n",
				i + 1, t->offered, t->duration_s, t->achieved, t->acked_rate, us(t->p50_ns),
				us(t->p99_ns), us(t->p999_ns), t->pass ? "pass" : "FAIL: ",
				t->pass ? "" : t->why, (int)i == r->limit_trial ? "  <- limit" : "");
		else {
			fprintf(f, "  %3u %10" PRIu64 " %8.1f %10.0f %10.0f %10" PRIu64 " %10" PRIu64
				   " %9" PRIu64 " %9" PRIu64 " %10.1f %10.1f %10.1f %s %8u %7u  %-21s ",
				i + 1, t->offered, t->duration_s, t->achieved, t->acked_rate, t->sent,
				t->acked, t->failed + t->unacked, t->not_sent, us(t->p50_ns),
				us(t->p99_ns), us(t->p999_ns), wire ? retx : "", t->inflight, t->workers,
				t->judged ? bottleneck_name(t->bottleneck) : "-");
			verdict_cell(f, t, (int)i == r->limit_trial);
		}
	}
	if (r->limit_trial < 0 || (unsigned)r->limit_trial >= r->n_trials) {
		fprintf(f, "limit: none found (%s)\n", end);
		return;
	}
	const struct limit_trial *a = &r->trials[r->limit_trial];
	bool confirmed = !strcmp(end, "confirmed") || !strcmp(end, "ceiling");
	const struct hist *h = conns ? r->connect : o && o->proto == PROTO_WS ? r->e2e : r->latency;
	if (conns)
		fprintf(f, "limit: %" PRIu64 " connections held, opened at %.0f/s (trial %d, %s)",
			a->offered, a->acked_rate, r->limit_trial + 1,
			confirmed ? "confirmed" : "UNCONFIRMED: the search was cut short");
	else if (limit_client_bound(r))
		fprintf(f, "limit: client-bound at %" PRIu64 " msg/s, blast's limit and not the broker's "
			   "(trial %d, %.1f s, %s)", a->offered, r->limit_trial + 1, a->duration_s,
			confirmed ? "confirmed" : "UNCONFIRMED: the search was cut short");
	else
		fprintf(f, "limit: %" PRIu64 " msg/s sustained (trial %d, %.1f s, %s)", a->offered,
			r->limit_trial + 1, a->duration_s,
			confirmed ? "confirmed" : "UNCONFIRMED: the search was cut short");
	if (h && h->total)
		fprintf(f, "; %s latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
			conns ? "connect" : "corrected", us(hist_percentile(h, 50)),
			us(hist_percentile(h, 90)), us(hist_percentile(h, 99)),
			us(hist_percentile(h, 99.9)), us(h->max));
	if (!strcmp(end, "ceiling"))
		fprintf(f, " (the --ceiling: the broker may take more)");
	fputc('\n', f);
	if (conns) {
		print_conn_rate(f, r);
		return;
	}
	char line[640];
	if (limit_bound_line(line, sizeof(line), r))
		fprintf(f, "%s\n", line);
	widened_line(f, r);
}

void report_json_trial_verdict(struct json_writer *w, const struct limit_trial *t)
{
	json_key(w, "bottleneck");
	if (t->judged)
		json_string(w, bottleneck_name(t->bottleneck));
	else
		json_null(w);
	json_kv_string(w, "evidence", t->judged ? t->evidence : "");
	json_key(w, "rerun_with");
	if (t->widened[0])
		json_string(w, t->widened);
	else
		json_null(w);
	json_kv_bool(w, "client_bound", t->client_bound);
}
