/* The second witness in the report: the wire's counts and latency next to
 * the client's, and their difference at each percentile, which is the part
 * of what the client measured that the client itself added (its queues,
 * its event loop, the syscalls between its clock and the wire).
 *
 * The client's side of the comparison is its uncorrected latency (actual
 * send -> ack), the same span the wire sees (request leaving -> ack
 * arriving); for --proto ws it is end to end (send -> each receipt). */
#include <inttypes.h>
#include <stdio.h>

#include "json.h"
#include "opts.h"
#include "report_wire.h"
#include "wire.h"

static const struct {
	const char *name, *key;
	double p; /* 0: min, 101: max */
} cols[] = {
	{ "min", "min", 0 },	 { "p50", "p50", 50 },	   { "p90", "p90", 90 },
	{ "p99", "p99", 99 },	 { "p99.9", "p999", 99.9 }, { "max", "max", 101 },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static int64_t at(const struct hist *h, double p)
{
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

static void row(FILE *f, const char *name, const struct hist *h)
{
	fprintf(f, "  %-16s", name);
	for (size_t i = 0; i < NCOLS; i++) {
		if (h && h->total)
			put_us(f, at(h, cols[i].p));
		else
			fprintf(f, " %10s", "-");
	}
	fprintf(f, " %10" PRIu64 "\n", h ? h->total : 0);
}

static void one_witness(FILE *f, const struct blast_results *r, const struct wire_stats *w)
{
	const struct blast_totals *t = &r->t;
	const struct hist *c = report_wire_client_hist(r);
	const char *src = wire_source_name(w->source);
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
	if (is_ws(r))
		fprintf(f, "  client       sent %" PRIu64 "  receipts %" PRIu64 "\n", t->sent,
			t->received + t->duplicates);
	else
		fprintf(f, "  client       sent %" PRIu64 "  acked %" PRIu64 "%s\n", t->sent, t->acked,
			r->opts && r->opts->proto == PROTO_KAFKA ?
				"  (records, on the wire counted in each Produce request)" : "");
	fprintf(f, "  tcp          payload out %" PRIu64 " B in %" PRIu64 " B  segments out %" PRIu64
		   " in %" PRIu64,
		w->bytes_out, w->bytes_in, w->segs_out, w->segs_in);
	if (w->srtt_us_max)
		fprintf(f, "  srtt mean %" PRIu64 " us max %" PRIu64 " us", w->srtt_us_mean,
			w->srtt_us_max);
	fputc('\n', f);
	fprintf(f, "  latency (us)    ");
	for (size_t i = 0; i < NCOLS; i++)
		fprintf(f, " %10s", cols[i].name);
	fprintf(f, " %10s\n", "count");
	row(f, is_ws(r) ? "client e2e" : "client", c);
	snprintf(name, sizeof(name), "wire (%s)", src);
	row(f, name, &w->latency);
	/* What the client added: its figure minus the wire's, percentile by
	 * percentile. */
	fprintf(f, "  %-16s", "client - wire");
	for (size_t i = 0; i < NCOLS; i++) {
		if (c && c->total && w->latency.total)
			put_us(f, at(c, cols[i].p) - at(&w->latency, cols[i].p));
		else
			fprintf(f, " %10s", "-");
	}
	fputc('\n', f);
}

void report_wire_summary(FILE *f, const struct blast_results *r)
{
	if (r->wire_probe)
		one_witness(f, r, r->wire_probe);
	if (r->wire_pcap)
		one_witness(f, r, r->wire_pcap);
}

static void json_hist(struct json_writer *j, const char *key, const struct hist *h)
{
	bool any = h && h->total;

	json_key(j, key);
	json_begin_object(j);
	for (size_t i = 0; i < NCOLS; i++)
		json_kv_double3(j, cols[i].key, any ? (double)at(h, cols[i].p) / 1e3 : 0);
	json_kv_double3(j, "mean", any ? hist_mean(h) / 1e3 : 0);
	json_kv_u64(j, "count", any ? h->total : 0);
	json_kv_u64(j, "clamped", any ? h->clamped : 0);
	json_end_object(j);
}

static void json_witness(struct json_writer *j, const char *key, const struct blast_results *r,
			 const struct wire_stats *w)
{
	const struct hist *c = report_wire_client_hist(r);
	bool both = c && c->total && w->latency.total;

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
	json_key(j, "client_minus_wire_us");
	json_begin_object(j);
	for (size_t i = 0; i < NCOLS; i++)
		json_kv_double3(j, cols[i].key,
				both ? (double)(at(c, cols[i].p) - at(&w->latency, cols[i].p)) / 1e3 : 0);
	json_end_object(j);
	json_end_object(j);
}

void report_wire_json(struct json_writer *j, const struct blast_results *r)
{
	if (r->wire_probe)
		json_witness(j, "wire", r, r->wire_probe);
	if (r->wire_pcap)
		json_witness(j, r->wire_probe ? "wire_pcap" : "wire", r, r->wire_pcap);
}
