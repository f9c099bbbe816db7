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

static void card(FILE *f, const char *value, const char *what, const char *cls)
{
	fprintf(f, "<div class=\"card\"><b%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
		cls ? "\"" : "");
	html_escape(f, value);
	fprintf(f, "</b><span>%s</span></div>\n", what);
}

static void fmt_us(char *b, size_t cap, int64_t ns)
{
	double us = (double)ns / 1e3;

	if (us >= 1e6)
		snprintf(b, cap, "%.2f s", us / 1e6);
	else if (us >= 1e3)
		snprintf(b, cap, "%.2f ms", us / 1e3);
	else
		snprintf(b, cap, "%.1f us", us);
}

static void summary(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	bool acc = t->sent == t->acked + t->failed + t->unacked;
	char b[64];

	fprintf(f, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
	snprintf(b, sizeof(b), "%.0f msg/s", r->duration_s > 0 ? (double)t->acked / r->duration_s : 0);
	card(f, b, "acked rate", NULL);
	static const struct {
		const char *name;
		double p;
	} pc[] = { { "p50", 50 }, { "p99", 99 }, { "p99.9", 99.9 } };
	for (size_t i = 0; i < 3; i++) {
		fmt_us(b, sizeof(b), r->latency ? hist_percentile(r->latency, pc[i].p) : 0);
		card(f, b, pc[i].name, NULL);
	}
	fmt_us(b, sizeof(b), r->latency && r->latency->total ? r->latency->max : 0);
	card(f, b, "max", NULL);
	snprintf(b, sizeof(b), "%d", r->exit_status);
	card(f, b, "exit status", r->exit_status ? "bad" : "ok");
	fprintf(f, "</div>\n<table><tr><th>accounting</th><th>sent</th><th>acked</th><th>failed</th>"
		   "<th>unacked</th><th>not sent</th><th>errors</th></tr>\n");
	fprintf(f, "<tr><td class=\"%s\">sent = acked + failed + unacked: %s</td><td>%" PRIu64
		   "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		   "</td><td>%" PRIu64 "</td></tr></table>\n",
		acc ? "ok" : "bad", acc ? "OK" : "MISMATCH", t->sent, t->acked, t->failed, t->unacked,
		t->not_sent, totals_error_count(t));
	fprintf(f, "<p class=\"note\">%.3f s from the start of publishing to the end of the drain "
		   "(publishing %.3f s), stopped by ",
		r->duration_s, r->publish_s);
	html_escape(f, r->stop_reason ? r->stop_reason : "unknown");
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
	fprintf(f, "<section id=\"errors\"><h2>Errors</h2>\n<table><tr><th>reason</th>"
		   "<th>count</th></tr>\n");
	report_each_error(&r->t, r->opts ? r->opts->mqtt_version : 4, error_row, f);
	fprintf(f, "</table></section>\n");
}

/* Range of the series' x (seconds) axis. */
static void time_axis(struct chart *c, const struct series *s)
{
	c->xa = AX_LIN;
	c->xu = U_SECONDS;
	c->x0 = 0;
	c->x1 = s->n ? s->rows[s->n - 1].t_s : 1;
	chart_nice_range(AX_LIN, &c->x0, &c->x1);
}

static void throughput(FILE *f, const struct series *s)
{
	size_t n = s->n;
	double *x = calloc(n + 1, sizeof(double)), *a = calloc(n + 1, sizeof(double)),
	       *b = calloc(n + 1, sizeof(double));
	struct chart c = { 0 };

	fprintf(f, "<section id=\"throughput\"><h2>Throughput</h2>\n");
	if (!x || !a || !b)
		goto out;
	double hi = 0;
	for (size_t i = 0; i < n; i++) {
		const struct series_row *r = &s->rows[i];
		double len = r->len_s > 0 ? r->len_s : 1;
		x[i] = r->t_s;
		a[i] = (double)r->sent / len;
		b[i] = (double)r->acked / len;
		hi = fmax(hi, fmax(a[i], b[i]));
	}
	time_axis(&c, s);
	c.ya = AX_LIN;
	c.yu = U_RATE;
	c.y0 = 0;
	c.y1 = hi > 0 ? hi : 1;
	chart_nice_range(AX_LIN, &c.y0, &c.y1);
	chart_begin(&c, f, "chart-throughput", "time since start", "messages per second");
	chart_line(&c, x, a, n, 0, false, "sent/s");
	chart_line(&c, x, b, n, 2, true, "acked/s");
	chart_end(&c);
out:
	fprintf(f, "<p class=\"note\">One point per second, at the end of the second; the first "
		   "seconds are the connection ramp.</p></section>\n");
	free(x);
	free(a);
	free(b);
}

static void latency_over_time(FILE *f, const struct series *s)
{
	size_t n = s->n;
	double *x = calloc(n + 1, sizeof(double)), *y[5];
	static const char *const names[] = { "p50", "p90", "p99", "p99.9", "max" };
	struct chart c = { 0 };
	double lo = INFINITY, hi = 0;

	for (int k = 0; k < 5; k++)
		y[k] = calloc(n + 1, sizeof(double));
	fprintf(f, "<section id=\"latency-time\"><h2>Latency over time</h2>\n");
	if (!x || !y[0] || !y[1] || !y[2] || !y[3] || !y[4])
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct series_row *r = &s->rows[i];
		int64_t v[5] = { r->p50, r->p90, r->p99, r->p999, r->max };
		x[i] = r->t_s;
		for (int k = 0; k < 5; k++) {
			y[k][i] = r->count ? (double)v[k] / 1e3 : NAN;
			if (r->count && y[k][i] > 0) {
				lo = fmin(lo, y[k][i]);
				hi = fmax(hi, y[k][i]);
			}
		}
	}
	time_axis(&c, s);
	c.ya = AX_LOG;
	c.yu = U_US;
	c.y0 = isfinite(lo) ? lo : 1;
	c.y1 = hi > 0 ? hi : 10;
	chart_nice_range(AX_LOG, &c.y0, &c.y1);
	chart_begin(&c, f, "chart-latency", "time since start", "corrected latency (log scale)");
	for (int k = 0; k < 5; k++)
		chart_line(&c, x, y[k], n, k, k == 4, names[k]);
	chart_end(&c);
out:
	fprintf(f, "<p class=\"note\">Corrected latency: from the moment the schedule wanted each "
		   "message sent to its ack, so a stalled broker shows here.</p></section>\n");
	free(x);
	for (int k = 0; k < 5; k++)
		free(y[k]);
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
	const struct hist *rows[5] = { hs[0], hs[1], r->connect, hs[2], hs[3] };
	const char *rn[5] = { names[0], names[1], "connect", names[2], names[3] };
	for (int i = 0; i < 5; i++) {
		const struct hist *h = rows[i];
		if (!rn[i] || (!h && i > 2))
			continue;
		fprintf(f, "<tr><td>%s</td>", rn[i]);
		if (!h || !h->total) {
			fprintf(f, "<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>0</td></tr>\n");
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
			   " by blast's loop.", t->rx_by_segment, t->rx_by_read, t->rx_by_loop);
	fprintf(f, "</p></section>\n");
}

static void connections(FILE *f, const struct series *s, const struct blast_opts *o)
{
	size_t n = s->n;
	double *x = calloc(n + 1, sizeof(double)), *a = calloc(n + 1, sizeof(double)),
	       *b = calloc(n + 1, sizeof(double));
	struct chart c = { 0 };
	double hi = o ? o->conns : 1;

	fprintf(f, "<section id=\"connections\"><h2>Connections</h2>\n");
	if (x && a && b) {
		for (size_t i = 0; i < n; i++) {
			x[i] = s->rows[i].t_s;
			a[i] = (double)s->rows[i].conns_up;
			b[i] = (double)s->rows[i].inflight;
			hi = fmax(hi, fmax(a[i], b[i]));
		}
		time_axis(&c, s);
		c.ya = AX_LIN;
		c.yu = U_PLAIN;
		c.y0 = 0;
		c.y1 = hi > 0 ? hi : 1;
		chart_nice_range(AX_LIN, &c.y0, &c.y1);
		chart_begin(&c, f, "chart-connections", "time since start", "count");
		chart_line(&c, x, a, n, 0, false, "connections up");
		chart_line(&c, x, b, n, 1, true, "messages in flight");
		chart_end(&c);
	}
	fprintf(f, "</section>\n");
	free(x);
	free(a);
	free(b);
}

static void trials(FILE *f, const struct blast_results *r)
{
	unsigned n = r->n_trials;
	double *x = calloc(n + 1, sizeof(double)), *y = calloc(n + 1, sizeof(double)),
	       *p = calloc(n + 1, sizeof(double));
	bool *ok = calloc(n + 1, sizeof(bool));
	double hi = 0, lo = INFINITY, plo = INFINITY, phi = 0;

	fprintf(f, "<section id=\"limit\"><h2>Limit search</h2>\n");
	if (r->limit_trial >= 0 && (unsigned)r->limit_trial < n) {
		const struct limit_trial *t = &r->trials[r->limit_trial];
		char b[64];
		fprintf(f, "<div class=\"cards\">");
		snprintf(b, sizeof(b), "%" PRIu64, t->offered);
		card(f, b, "highest sustainable offered", "ok");
		snprintf(b, sizeof(b), "%.0f/s", t->acked_rate);
		card(f, b, "acked at that rate", NULL);
		fmt_us(b, sizeof(b), t->p99_ns);
		card(f, b, "p99 there", NULL);
		fprintf(f, "</div>\n");
	} else {
		fprintf(f, "<p class=\"bad\">No trial passed: no sustainable rate was found.</p>\n");
	}
	if (x && y && p && ok && n) {
		/* The charts show the main search; a connect-rate stage
		 * (--find-limit conns) is in the table only. */
		unsigned m = 0;
		for (unsigned i = 0; i < n; i++) {
			const struct limit_trial *t = &r->trials[i];
			if (t->conn_rate)
				continue;
			x[m] = (double)t->offered;
			y[m] = t->acked_rate;
			p[m] = (double)t->p99_ns / 1e3;
			ok[m] = t->pass;
			hi = fmax(hi, fmax(x[m], y[m]));
			lo = fmin(lo, x[m] > 0 ? x[m] : lo);
			if (p[m] > 0) {
				plo = fmin(plo, p[m]);
				phi = fmax(phi, p[m]);
			}
			m++;
		}
		struct chart c = { .xa = AX_LIN, .xu = U_RATE, .ya = AX_LIN, .yu = U_RATE, .x0 = 0,
				   .x1 = hi > 0 ? hi : 1, .y0 = 0, .y1 = hi > 0 ? hi : 1, .h = 280 };
		chart_nice_range(AX_LIN, &c.x0, &c.x1);
		chart_nice_range(AX_LIN, &c.y0, &c.y1);
		chart_begin(&c, f, "chart-trials", "offered", "acked per second");
		double dx[2] = { c.x0, c.x1 }, dy[2] = { c.x0, c.x1 };
		chart_line(&c, dx, dy, 2, 5, true, "acked = offered");
		chart_marks(&c, x, y, ok, m, 2, "trial (x: failed)");
		chart_end(&c);
		if (phi > 0) {
			struct chart d = { .xa = AX_LIN, .xu = U_RATE, .ya = AX_LOG, .yu = U_US, .x0 = 0,
					   .x1 = c.x1, .y0 = plo, .y1 = phi, .h = 280 };
			chart_nice_range(AX_LOG, &d.y0, &d.y1);
			chart_begin(&d, f, "chart-trials-p99", "offered", "p99 latency (log scale)");
			chart_marks(&d, x, p, ok, m, 0, "p99 of the trial (x: failed)");
			chart_end(&d);
		}
		fprintf(f, "<table><tr><th>#</th><th>offered</th><th>achieved/s</th><th>acked/s</th>"
			   "<th>sent</th><th>acked</th><th>failed</th><th>p50 us</th><th>p99 us</th>"
			   "<th>p99.9 us</th><th>real retransmits</th><th>srtt us</th>"
			   "<th class=\"verdict\">verdict</th></tr>\n");
		for (unsigned i = 0; i < n; i++) {
			const struct limit_trial *t = &r->trials[i];
			fprintf(f, "<tr%s><td>%u</td><td>%s%" PRIu64 "</td><td>%.0f</td><td>%.0f</td><td>%" PRIu64
				   "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
				(int)i == r->limit_trial ? " class=\"ok\"" : "", i + 1,
				t->conn_rate ? "ramp " : "", t->offered,
				t->achieved, t->acked_rate, t->sent, t->acked, t->failed);
			html_us_cell(f, t->p50_ns);
			html_us_cell(f, t->p99_ns);
			html_us_cell(f, t->p999_ns);
			fprintf(f, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td class=\"verdict %s\">%s: ",
				t->retransmits, t->srtt_us, t->pass ? "ok" : "bad", t->pass ? "pass" : "fail");
			char why[sizeof(t->why) + 1];
			memcpy(why, t->why, sizeof(t->why));
			why[sizeof(t->why)] = '\0';
			html_escape(f, why);
			fprintf(f, "</td></tr>\n");
		}
		fprintf(f, "</table>\n");
	}
	fprintf(f, "</section>\n");
	free(x);
	free(y);
	free(p);
	free(ok);
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

static void kv(FILE *f, const char *k, const char *v)
{
	fprintf(f, "<tr><td>%s</td><td>", k);
	html_escape(f, v);
	fprintf(f, "</td></tr>\n");
}

static void kv_u64(FILE *f, const char *k, uint64_t v)
{
	fprintf(f, "<tr><td>%s</td><td>%" PRIu64 "</td></tr>\n", k, v);
}

static void config(FILE *f, const struct blast_opts *o)
{
	char b[64];

	fprintf(f, "<section id=\"config\"><h2>Configuration</h2>\n<table class=\"config\">\n");
	if (!o) {
		fprintf(f, "</table></section>\n");
		return;
	}
	kv(f, "proto", opts_proto_name(o));
	fprintf(f, "<tr><td>targets</td><td>");
	for (unsigned i = 0; i < o->n_targets; i++) {
		if (i)
			fputs(", ", f);
		target_text(f, &o->targets[i]);
	}
	fprintf(f, "</td></tr>\n");
	kv_u64(f, "connections", o->conns);
	kv(f, "ramp", o->ramp ? (snprintf(b, sizeof(b), "%u/s", o->ramp), b) : "as fast as accepted");
	kv(f, "rate", o->rate ? (snprintf(b, sizeof(b), "%" PRIu64 "/s", o->rate), b) :
				"as fast as acked");
	if (o->has_messages)
		kv_u64(f, "messages", o->messages);
	snprintf(b, sizeof(b), "%.3f s", (double)o->duration_ns / 1e9);
	kv(f, "duration", b);
	snprintf(b, sizeof(b), "%.3f s", (double)o->drain_timeout_ns / 1e9);
	kv(f, "drain timeout", b);
	if (o->proto == PROTO_KAFKA)
		kv(f, "acks", name_of(acks_names, o->acks));
	else
		kv_u64(f, "qos", o->qos);
	kv_u64(f, "inflight", o->inflight);
	kv(f, "topic", o->topic);
	if (o->payloads.n)
		kv_u64(f, "payload file lines", o->payloads.n);
	else
		kv_u64(f, "payload size", o->payload_size);
	if (o->payload_proto)
		kv(f, "payload proto", o->payload_proto);
	if (o->proto == PROTO_MQTT) {
		kv(f, "client id", o->client_id);
		kv(f, "mqtt version", o->mqtt_version == 5 ? "5" : "3.1.1");
		kv_u64(f, "keepalive", o->keepalive);
		kv(f, "retain", o->retain ? "yes" : "no");
	}
	/* Credentials stay out of a page that gets shared: only their kind. */
	kv(f, "auth", o->tokens.n ? "tokens" : o->password ? "username+password" :
		      o->username ? "username" : "none");
	kv(f, "reconnect", o->reconnect ? "yes" : "no");
	kv(f, "churn", o->churn ? "yes" : "no");
	kv_u64(f, "workers", o->workers);
	if (o->proto == PROTO_KAFKA) {
		kv_u64(f, "batch size", o->batch_size);
		snprintf(b, sizeof(b), "%.1f ms", (double)o->linger_ns / 1e6);
		kv(f, "linger", b);
		kv(f, "compression", name_of(compression_names, o->compression));
		if (o->key)
			kv(f, "key", o->key);
	}
	fprintf(f, "</table></section>\n");
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
	fprintf(f, "blast report: %s ", opts_proto_name(o));
	if (o && o->n_targets)
		target_text(f, &o->targets[0]);
	html_page_body(f, "blast report");
	fprintf(f, "<p class=\"sub\">blast %s &middot; %s", BLAST_VERSION, opts_proto_name(o));
	if (o && o->proto == PROTO_MQTT)
		fprintf(f, " %s qos %u", o->mqtt_version == 5 ? "5" : "3.1.1", o->qos);
	fprintf(f, " &middot; ");
	for (unsigned i = 0; o && i < o->n_targets && i < 4; i++) {
		if (i)
			fputs(", ", f);
		target_text(f, &o->targets[i]);
	}
	fprintf(f, " &middot; %s</p>\n", when);
	diagnosis_html(f, r);
	summary(f, r);
	throughput(f, s);
	latency_over_time(f, s);
	distribution(f, r);
	connections(f, s, o);
	if (r->n_trials && r->trials)
		trials(f, r);
	if (r->wire_probe || r->wire_pcap)
		wire(f, r);
	if (totals_error_count(&r->t))
		errors(f, r);
	config(f, o);
	fprintf(f, "</body>\n</html>\n");
	return ferror(f) ? -EIO : 0;
}
