/* The second witness in the report: the wire's counts and latency next to
 * the client's, and their difference at each percentile, which is the part
 * of what the client measured that the client itself added (its queues,
 * its event loop, the syscalls between its clock and the wire).
 *
 * The client's side of the comparison is its uncorrected latency (actual
 * send -> ack), the same span the wire sees (request leaving -> ack
 * arriving); for --proto ws it is end to end (send -> each receipt). It
 * comes from the run itself or, for `blast analyze --against`, from the
 * run's JSON report (struct wire_client). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/json.h"
#include "config/names.h"
#include "config/opts.h"
#include "report/wire.h"
#include "stats/wire.h"

const struct wire_col wire_cols[WIRE_NCOLS] = {
	{ "min", "min", 0 },	 { "p50", "p50", 50 },	   { "p90", "p90", 90 },
	{ "p99", "p99", 99 },	 { "p99.9", "p999", 99.9 }, { "max", "max", 101 },
};

int64_t wire_col_at(const struct hist *h, unsigned col)
{
	double p = wire_cols[col].p;

	if (!h || !h->total)
		return 0;
	if (p == 0)
		return h->min;
	if (p > 100)
		return h->max;
	return hist_percentile(h, p);
}

static bool is_ws(const struct blast_results *r)
{
	return r->opts && r->opts->proto == PROTO_WS;
}

const struct hist *report_wire_client_hist(const struct blast_results *r)
{
	return is_ws(r) ? r->e2e : r->latency_raw;
}

void report_wire_client(const struct blast_results *r, struct wire_client *c)
{
	const struct hist *h = report_wire_client_hist(r);
	const struct blast_totals *t = &r->t;

	*c = (struct wire_client){
		.proto = r->opts ? name_of(proto_names, (int)r->opts->proto) : "mqtt",
		.sent = t->sent,
		.acked = is_ws(r) ? t->received + t->duplicates : t->acked,
		.conns = r->peak_conns,
		.count = h ? h->total : 0,
	};
	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		c->ns[i] = wire_col_at(h, i);
}

bool wire_client_is_ws(const struct wire_client *c)
{
	return !strcmp(c->proto, "ws");
}

/* Microseconds with about four significant digits, signed. */
static void put_us(FILE *f, int64_t ns)
{
	double us = (double)ns / 1e3, a = us < 0 ? -us : us;

	if (a < 100)
		fprintf(f, " %10.2f", us);
	else if (a < 10000)
		fprintf(f, " %10.1f", us);
	else
		fprintf(f, " %10.0f", us);
}

/* One row of the latency table: ns at each column, '-' when count is 0. */
static void row(FILE *f, const char *name, const int64_t *ns, uint64_t count, bool show_count)
{
	fprintf(f, "  %-16s", name);
	for (unsigned i = 0; i < WIRE_NCOLS; i++) {
		if (count)
			put_us(f, ns[i]);
		else
			fprintf(f, " %10s", "-");
	}
	if (show_count)
		fprintf(f, " %10" PRIu64, count);
	fputc('\n', f);
}

void report_wire_witness(FILE *f, const struct wire_client *c, const struct wire_stats *w)
{
	const char *src = wire_source_name(w->source);
	int64_t wns[WIRE_NCOLS], diff[WIRE_NCOLS];
	char name[32];

	fprintf(f, "wire (%s)  requests %" PRIu64 "  acks %" PRIu64 "  unmatched %" PRIu64
		   "  unparsed %" PRIu64 "  retransmits real %" PRIu64 " spurious %" PRIu64
		   "  flows %" PRIu64 "\n",
		src, w->requests, w->acks, w->unmatched, w->unparsed, w->retrans_real,
		wire_retrans_spurious(w), w->flows);
	if (wire_retrans_spurious(w)) {
		/* A capture cannot tell a probe from a retransmission: its
		 * spurious ones are those the receiver reported (DSACK). */
		if (w->source == WIRE_PROBE)
			fprintf(f, "  spurious     tail-loss probes %" PRIu64, w->retrans_tlp);
		else
			fprintf(f, "  spurious    ");
		fprintf(f, "  reported duplicate by the receiver (DSACK) %" PRIu64 "\n",
			w->retrans_dsack);
	}
	if (wire_client_is_ws(c))
		fprintf(f, "  client       sent %" PRIu64 "  receipts %" PRIu64 "\n", c->sent, c->acked);
	else
		fprintf(f, "  client       sent %" PRIu64 "  acked %" PRIu64 "%s\n", c->sent, c->acked,
			!strcmp(c->proto, "kafka") ? "  (records, on the wire counted in each Produce request)" :
					     "");
	fprintf(f, "  tcp          payload out %" PRIu64 " B in %" PRIu64 " B  segments out %" PRIu64
		   " in %" PRIu64,
		w->bytes_out, w->bytes_in, w->segs_out, w->segs_in);
	if (w->srtt_us_max)
		fprintf(f, "  srtt mean %" PRIu64 " us max %" PRIu64 " us", w->srtt_us_mean,
			w->srtt_us_max);
	fputc('\n', f);
	fprintf(f, "  latency (us)    ");
	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		fprintf(f, " %10s", wire_cols[i].name);
	fprintf(f, " %10s\n", "count");
	for (unsigned i = 0; i < WIRE_NCOLS; i++) {
		wns[i] = wire_col_at(&w->latency, i);
		diff[i] = c->ns[i] - wns[i];
	}
	row(f, wire_client_is_ws(c) ? "client e2e" : "client", c->ns, c->count, true);
	snprintf(name, sizeof(name), "wire (%s)", src);
	row(f, name, wns, w->latency.total, true);
	/* What the client added: its figure minus the wire's, percentile by
	 * percentile. */
	row(f, "client - wire", diff, c->count && w->latency.total, false);
}

void report_wire_summary(FILE *f, const struct blast_results *r)
{
	struct wire_client c;

	report_wire_client(r, &c);
	if (r->wire_probe)
		report_wire_witness(f, &c, r->wire_probe);
	if (r->wire_pcap)
		report_wire_witness(f, &c, r->wire_pcap);
}

/* Microseconds, as the run report's other latency objects. */
static void json_cols(struct json_writer *j, const int64_t *ns, bool any)
{
	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		json_kv_double3(j, wire_cols[i].key, any ? (double)ns[i] / 1e3 : 0);
}

static void json_hist(struct json_writer *j, const char *key, const struct hist *h)
{
	bool any = h && h->total;
	int64_t ns[WIRE_NCOLS];

	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		ns[i] = wire_col_at(h, i);
	json_key(j, key);
	json_begin_object(j);
	json_cols(j, ns, any);
	json_kv_double3(j, "mean", any ? hist_mean(h) / 1e3 : 0);
	json_kv_u64(j, "count", any ? h->total : 0);
	json_kv_u64(j, "clamped", any ? h->clamped : 0);
	json_end_object(j);
}

void report_wire_witness_json(struct json_writer *j, const char *key, const struct wire_client *c,
			      const struct wire_stats *w)
{
	json_key(j, key);
	json_begin_object(j);
	json_kv_string(j, "source", wire_source_name(w->source));
	json_kv_u64(j, "requests", w->requests);
	json_kv_u64(j, "acks", w->acks);
	json_kv_u64(j, "unmatched", w->unmatched);
	json_kv_u64(j, "unparsed", w->unparsed);
	json_kv_u64(j, "retransmits", w->retransmits);
	json_kv_u64(j, "retransmits_real", w->retrans_real);
	json_kv_u64(j, "retransmits_spurious", wire_retrans_spurious(w));
	json_kv_u64(j, "retransmits_tlp", w->retrans_tlp);
	json_kv_u64(j, "retransmits_dsack", w->retrans_dsack);
	json_kv_u64(j, "bytes_out", w->bytes_out);
	json_kv_u64(j, "bytes_in", w->bytes_in);
	json_kv_u64(j, "segments_out", w->segs_out);
	json_kv_u64(j, "segments_in", w->segs_in);
	json_kv_u64(j, "flows", w->flows);
	json_kv_u64(j, "srtt_us_mean", w->srtt_us_mean);
	json_kv_u64(j, "srtt_us_max", w->srtt_us_max);
	json_hist(j, "latency_us", &w->latency);
	if (w->tls_flows) {
		json_key(j, "tls");
		json_begin_object(j);
		json_kv_u64(j, "flows", w->tls_flows);
		json_kv_u64(j, "decrypted", w->tls_decrypted);
		json_kv_u64(j, "no_key", w->tls_no_key);
		json_kv_u64(j, "failed", w->tls_failed);
		json_end_object(j);
	}
	if (c) {
		int64_t diff[WIRE_NCOLS];
		for (unsigned i = 0; i < WIRE_NCOLS; i++)
			diff[i] = c->ns[i] - wire_col_at(&w->latency, i);
		json_key(j, "client_minus_wire_us");
		json_begin_object(j);
		json_cols(j, diff, c->count && w->latency.total);
		json_end_object(j);
	}
	json_end_object(j);
}

void report_wire_client_json(struct json_writer *j, const char *key, const struct wire_client *c)
{
	json_key(j, key);
	json_begin_object(j);
	json_kv_string(j, "proto", c->proto);
	json_kv_u64(j, "sent", c->sent);
	json_kv_u64(j, wire_client_is_ws(c) ? "receipts" : "acked", c->acked);
	json_kv_u64(j, "peak_conns", c->conns);
	json_key(j, "latency_us");
	json_begin_object(j);
	json_cols(j, c->ns, c->count);
	json_kv_u64(j, "count", c->count);
	json_end_object(j);
	json_end_object(j);
}

void report_wire_json(struct json_writer *j, const struct blast_results *r)
{
	struct wire_client c;

	report_wire_client(r, &c);
	if (r->wire_probe)
		report_wire_witness_json(j, "wire", &c, r->wire_probe);
	if (r->wire_pcap)
		report_wire_witness_json(j, r->wire_probe ? "wire_pcap" : "wire", &c, r->wire_pcap);
}
