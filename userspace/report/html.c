/* --html: one self-contained page. Every chart is inline SVG drawn here,
 * the style is inline CSS, and there is no script and no link: the file
 * reads the same offline, in a mail attachment, or years from now.
 * Everything the user typed (targets, topics, ids) is escaped. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/hist.h"
#include "report/diagnosis.h"
#include "report/html_page.h"
#include "report/html_parts.h"
#include "report/status.h"
#include "config/names.h"
#include "config/opts.h"
#include "report/report.h"
#include "report/files.h"
#include "report/svg.h"
#include "stats/wire.h"

static void target_text(FILE *f, const struct blast_target *t)
{
	char port[16];

	if (t->ws)
		fputs(t->tls ? "wss://" : "ws://", f);
	else if (t->tls)
		fputs("mqtts://", f);
	if (strchr(t->host, ':')) {
		fputc('[', f);
		html_escape(f, t->host);
		fputc(']', f);
	} else {
		html_escape(f, t->host);
	}
	snprintf(port, sizeof(port), ":%u", t->port);
	fputs(port, f);
	if (t->ws)
		html_escape(f, t->path);
}

void html_card(FILE *f, const char *value, const char *what, const char *cls)
{
	fprintf(f, "<div class=\"card%s%s\"><b>", cls ? " " : "", cls ? cls : "");
	html_escape(f, value);
	fprintf(f, "</b><span>%s</span></div>\n", what);
}

void html_fmt_us(char *b, size_t cap, int64_t ns)
{
	double us = (double)ns / 1e3;

	if (us >= 1e6)
		snprintf(b, cap, "%.2f s", us / 1e6);
	else if (us >= 1e3)
		snprintf(b, cap, "%.2f ms", us / 1e3);
	else
		snprintf(b, cap, "%.1f us", us);
}

/* First on the page: did the run work, and if not, why. */
static void status(FILE *f, const struct blast_results *r)
{
	char why[320];
	bool ok = report_status(r, why, sizeof(why));

	fprintf(f, "<section id=\"status\" class=\"status %s\"><b>%s</b> <span>exit status %d</span>"
		   "<p>", ok ? "ok" : "bad", ok ? "OK" : "FAILED", r->exit_status);
	html_escape(f, why);
	fprintf(f, "</p></section>\n");
}

static void summary(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	bool acc = t->sent == t->acked + t->failed + t->unacked;
	bool none_due = r->opts && r->opts->has_messages && r->opts->messages == 0;
	const struct hist *h = r->latency;
	char b[64];

	fprintf(f, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
	snprintf(b, sizeof(b), "%.0f msg/s", report_acked_rate(r));
	html_card(f, b, "acked per second of publishing", t->acked ? NULL : "bad");
	static const struct {
		const char *name;
		double p;
	} pc[] = { { "p50", 50 }, { "p99", 99 }, { "p99.9", 99.9 } };
	if (h && h->total) {
		for (size_t i = 0; i < 3; i++) {
			html_fmt_us(b, sizeof(b), hist_percentile(h, pc[i].p));
			html_card(f, b, pc[i].name, NULL);
		}
		html_fmt_us(b, sizeof(b), h->max);
		html_card(f, b, "max", NULL);
	} else {
		/* No sample, no figure: a 0.0 us card would read as a result. */
		html_card(f, "n/a", "latency (no message was acked)", "na");
	}
	fprintf(f, "</div>\n");
	/* Green only when the books balance and nothing went wrong. */
	const char *cls = "ok", *verdict = "OK";
	if (!acc)
		cls = "bad", verdict = "MISMATCH";
	else if (!t->sent && !none_due)
		cls = "bad", verdict = "holds, but nothing was sent";
	else if (t->failed || t->unacked)
		cls = "bad", verdict = "holds, with messages failed or unacked";
	fprintf(f, "<table><tr><th>accounting</th><th>sent</th><th>acked</th><th>failed</th>"
		   "<th>unacked</th><th>not sent</th><th>errors</th></tr>\n");
	fprintf(f, "<tr><td class=\"%s\">sent = acked + failed + unacked: %s</td><td>%" PRIu64
		   "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		   "</td><td>%" PRIu64 "</td></tr></table>\n",
		cls, verdict, t->sent, t->acked, t->failed, t->unacked, t->not_sent,
		totals_error_count(t));
	fprintf(f, "<p class=\"note\">%.3f s from the start of publishing to the end of the drain "
		   "(publishing %.3f s), ", r->duration_s, r->publish_s);
	if (r->n_trials) {
		fprintf(f, "in the answer's trial; the search ended: ");
		html_escape(f, report_search_end_words(r->stop_reason));
	} else {
		fprintf(f, "stopped by ");
		html_escape(f, r->stop_reason ? r->stop_reason : "unknown");
	}
	fprintf(f, ". Connections: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
		   " dropped, peak %" PRIu64 ", %" PRIu64 " reconnects.</p></section>\n",
		t->conns_ok, t->conns_failed, t->conns_dropped, r->peak_conns, t->reconnects);
}

static void error_row(const char *key, uint64_t n, void *arg)
{
	FILE *f = arg;

	fprintf(f, "<tr><td>");
	html_escape(f, key);
	fprintf(f, "</td><td>%" PRIu64 "</td></tr>\n", n);
}

static void errors(FILE *f, const struct blast_results *r)
{
	fprintf(f, "<section id=\"errors\"><h2>Errors by reason</h2>\n<table><tr><th>reason</th>"
		   "<th>count</th></tr>\n");
	report_each_error(&r->t, r->opts ? r->opts->mqtt_version : 4, error_row, f);
	fprintf(f, "</table></section>\n");
}

static void distribution(FILE *f, const struct blast_results *r)
{
	const struct hist *hs[4] = { r->latency, r->latency_raw, NULL, NULL };
	const char *names[4] = { "corrected", "uncorrected", NULL, NULL };
	struct html_curve curves[4];
	int k = 2;

	if (r->wire_probe && r->wire_probe->latency.total) {
		hs[k] = &r->wire_probe->latency;
		names[k++] = "wire (probe)";
	}
	if (r->wire_pcap && r->wire_pcap->latency.total) {
		hs[k] = &r->wire_pcap->latency;
		names[k++] = "wire (pcap)";
	}
	fprintf(f, "<section id=\"latency-dist\"><h2>Latency distribution</h2>\n");
	for (int i = 0; i < k; i++)
		curves[i] = (struct html_curve){ .h = hs[i], .name = names[i],
						 .colour = i == 0 ? 3 : i == 1 ? 0 : i + 2,
						 .dashed = i == 1 };
	html_percentile_chart(f, curves, k);
	static const struct {
		const char *name;
		double p;
	} pc[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 } };
	fprintf(f, "<table><tr><th>latency (us)</th><th>min</th>");
	for (size_t i = 0; i < 4; i++)
		fprintf(f, "<th>%s</th>", pc[i].name);
	fprintf(f, "<th>max</th><th>count</th></tr>\n");
	const struct hist *rows[6] = { hs[0], hs[1], r->connect, hs[2], hs[3], NULL };
	const char *rn[6] = { names[0], names[1], "connect", names[2], names[3], NULL };
	if (r->opts && opts_fanout(r->opts)) {
		rows[5] = r->e2e;
		rn[5] = "end to end";
	}
	for (int i = 0; i < 6; i++) {
		const struct hist *h = rows[i];
		if (!rn[i] || (!h && i > 2))
			continue;
		fprintf(f, "<tr><td>%s</td>", rn[i]);
		if (!h || !h->total) {
			fprintf(f, "<td class=\"na\" colspan=\"6\">n/a: no sample</td><td>0</td></tr>\n");
			continue;
		}
		html_us_cell(f, h->min);
		for (size_t j = 0; j < 4; j++)
			html_us_cell(f, hist_percentile(h, pc[j].p));
		html_us_cell(f, h->max);
		fprintf(f, "<td>%" PRIu64 "</td></tr>\n", h->total);
	}
	fprintf(f, "</table><p class=\"note\">Percentile plot: the x axis is log(1/(1-p)), so each "
		   "step to the right is ten times rarer. Uncorrected latency runs from the actual "
		   "send.");
	const struct blast_totals *t = &r->t;
	if (t->rx_by_segment || t->rx_by_read || t->rx_by_loop)
		fprintf(f, " Arrival times taken: %" PRIu64 " by the TCP segment that completed the "
			   "message, %" PRIu64 " by the kernel's stamp of the read that brought it, %" PRIu64
			   " by blast's loop%s.", t->rx_by_segment, t->rx_by_read, t->rx_by_loop,
			r->opts && r->opts->proto == PROTO_KAFKA ?
				" (Kafka: each counts a response, which acks a batch)" : "");
	fprintf(f, "</p></section>\n");
}

static void wire(FILE *f, const struct blast_results *r)
{
	const struct wire_stats *w[2];
	const char *names[2];
	struct wire_client c;
	int n = 0;

	if (r->wire_probe) {
		w[n] = r->wire_probe;
		names[n++] = "wire (probe)";
	}
	if (r->wire_pcap) {
		w[n] = r->wire_pcap;
		names[n++] = "wire (pcap)";
	}
	report_wire_client(r, &c);
	html_wire_section(f, &c, w, names, n);
}

void html_kv(FILE *f, const char *k, const char *v)
{
	fprintf(f, "<tr><td>%s</td><td>", k);
	html_escape(f, v);
	fprintf(f, "</td></tr>\n");
}

static void kv_u64(FILE *f, const char *k, uint64_t v)
{
	fprintf(f, "<tr><td>%s</td><td>%" PRIu64 "</td></tr>\n", k, v);
}

static void config(FILE *f, const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;
	char b[64];

	fprintf(f, "<section id=\"config\"><h2>Configuration</h2>\n<table class=\"config\">\n");
	if (!o) {
		fprintf(f, "</table></section>\n");
		return;
	}
	html_kv(f, "proto", opts_proto_name(o));
	fprintf(f, "<tr><td>targets</td><td>");
	for (unsigned i = 0; i < o->n_targets; i++) {
		if (i)
			fputs(", ", f);
		target_text(f, &o->targets[i]);
	}
	fprintf(f, "</td></tr>\n");
	/* --find-limit leaves the answer's rate and duration in o: the
	 * search's own settings are what was asked. */
	if (r->n_trials) {
		html_limit_config(f, r);
		if (o->limit.mode != LIMIT_CONNS)
			kv_u64(f, "connections", o->conns);
	} else {
		kv_u64(f, "connections", o->conns);
		html_kv(f, "ramp", o->ramp ? (snprintf(b, sizeof(b), "%u/s", o->ramp), b) :
					     "as fast as accepted");
		html_kv(f, "rate", o->rate ? (snprintf(b, sizeof(b), "%" PRIu64 "/s", o->rate), b) :
					     "as fast as acked");
		if (o->has_messages)
			kv_u64(f, "messages", o->messages);
		snprintf(b, sizeof(b), "%.3f s", (double)o->duration_ns / 1e9);
		html_kv(f, "duration", b);
	}
	snprintf(b, sizeof(b), "%.3f s", (double)o->drain_timeout_ns / 1e9);
	html_kv(f, "drain timeout", b);
	if (o->proto == PROTO_KAFKA)
		html_kv(f, "acks", name_of(acks_names, o->acks));
	else if (o->proto != PROTO_HTTP)
		kv_u64(f, "qos", o->qos);
	if (o->proto == PROTO_HTTP) {
		html_kv(f, "method", o->http_method);
		kv_u64(f, "pipeline", o->pipeline);
		html_kv(f, "keep-alive", o->no_keepalive ? "no" : "yes");
		html_kv(f, "ok status", o->ok_status);
		snprintf(b, sizeof(b), "%.3f s", (double)o->think_ns / 1e9);
		html_kv(f, "think time", b);
	} else {
		kv_u64(f, "inflight", o->inflight);
	}
	if (opts_fanout(o)) {
		kv_u64(f, "publishers", o->publishers);
		kv_u64(f, o->proto == PROTO_WS ? "listeners per node" : "subscribers per node",
		       opts_receivers_per_node(o));
		kv_u64(f, "nodes", 1 + o->n_listen);
		if (o->sub_topic)
			html_kv(f, "subscribed to", o->sub_topic);
		if (o->fanout)
			kv_u64(f, "fanout", o->fanout);
	}
	if (o->proto != PROTO_HTTP)
		html_kv(f, "topic", o->topic);
	if (o->payloads.n)
		kv_u64(f, "payload file lines", o->payloads.n);
	else
		kv_u64(f, "payload size", o->payload_size);
	if (o->payload_proto)
		html_kv(f, "payload proto", o->payload_proto);
	if (o->proto == PROTO_MQTT) {
		html_kv(f, "client id", o->client_id);
		html_kv(f, "mqtt version", o->mqtt_version == 5 ? "5" : "3.1.1");
		kv_u64(f, "keepalive", o->keepalive);
		html_kv(f, "retain", o->retain ? "yes" : "no");
	}
	/* Credentials stay out of a page that gets shared: only their kind. */
	html_kv(f, "auth", o->tokens.n ? "tokens" : o->password ? "username+password" :
		      o->username ? "username" : "none");
	html_kv(f, "reconnect", o->reconnect ? "yes" : "no");
	html_kv(f, "churn", o->churn ? "yes" : "no");
	kv_u64(f, "workers", o->workers);
	if (o->proto == PROTO_KAFKA) {
		kv_u64(f, "batch size", o->batch_size);
		snprintf(b, sizeof(b), "%.1f ms", (double)o->linger_ns / 1e6);
		html_kv(f, "linger", b);
		html_kv(f, "compression", name_of(compression_names, o->compression));
		if (o->key)
			html_kv(f, "key", o->key);
	}
	fprintf(f, "</table></section>\n");
}

/* "mqtt 3.1.1 qos 1 over WebSocket", "WebSocket", "kafka". */
static void proto_words(FILE *f, const struct blast_opts *o)
{
	if (o && o->proto == PROTO_WS) {
		fputs("WebSocket", f);
		return;
	}
	fputs(opts_proto_name(o), f);
	if (o && o->proto == PROTO_MQTT)
		fprintf(f, " %s qos %u", o->mqtt_version == 5 ? "5" : "3.1.1", o->qos);
	if (o && o->n_targets && o->targets[0].ws)
		fputs(" over WebSocket", f);
}

int html_write(FILE *f, const struct blast_results *r, const struct series *s)
{
	const struct blast_opts *o = r->opts;
	time_t now = s->origin_wall_ms ? (time_t)(s->origin_wall_ms / 1000) : time(NULL);
	struct tm tm;
	char when[64];

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	html_page_begin(f);
	fprintf(f, "blast report: %s%s", r->exit_status ? "FAILED " : "", opts_proto_name(o));
	if (o && o->n_targets) {
		fputc(' ', f);
		target_text(f, &o->targets[0]);
	}
	html_page_body(f, "blast report");
	fprintf(f, "<p class=\"sub\">blast %s &middot; ", BLAST_VERSION);
	proto_words(f, o);
	fprintf(f, " &middot; ");
	for (unsigned i = 0; o && i < o->n_targets && i < 4; i++) {
		if (i)
			fputs(", ", f);
		target_text(f, &o->targets[i]);
	}
	fprintf(f, " &middot; %s</p>\n", when);
	status(f, r);
	if (totals_error_count(&r->t))
		errors(f, r);
	diagnosis_html(f, r);
	summary(f, r);
	if (o && opts_fanout(o))
		html_fanout(f, r, s);
	if (r->n_trials && r->trials && o)
		html_limit(f, r);
	html_time_charts(f, r, s);
	distribution(f, r);
	if (r->wire_probe || r->wire_pcap)
		wire(f, r);
	if (o)
		config(f, r);
	fprintf(f, "</body>\n</html>\n");
	return ferror(f) ? -EIO : 0;
}
