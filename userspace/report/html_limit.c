/* --find-limit on the HTML page (html_parts.h): what a trial must meet,
 * the answer, the trials as charts and a table numbered as the summary
 * and the JSON number them (from 1), and the search's settings. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "limit/limit.h"
#include "report/html_page.h"
#include "report/html_parts.h"
#include "report/report.h"
#include "report/svg.h"
#include "stats/verdict.h"

static void fmt_dur(char *b, size_t cap, uint64_t ns)
{
	html_fmt_us(b, cap, (int64_t)ns);
}

/* What a trial must meet to pass, as limit.c judges it. */
static void criteria(FILE *f, const struct blast_results *r)
{
	const struct limit_cfg *cfg = &r->opts->limit;
	bool conns = cfg->mode == LIMIT_CONNS;
	char b[64];

	fprintf(f, "<p>A trial passes when ");
	if (cfg->n_slo) {
		for (unsigned i = 0; i < cfg->n_slo; i++) {
			fmt_dur(b, sizeof(b), cfg->slo[i].ns);
			fprintf(f, "%s%s &le; %s", i ? ", " : "",
				cfg->slo[i].key == SLO_CONNECT ? "connect p99" :
								limit_slo_name(cfg->slo[i].key), b);
		}
		fprintf(f, " (latency objectives), ");
	} else {
		fprintf(f, "(no latency objective given: --slo) ");
	}
	if (cfg->loss_is_frac)
		fprintf(f, "at most %.4g%% of the messages due are lost or in error, ",
			cfg->max_loss_frac * 100);
	else
		fprintf(f, "at most %" PRIu64 " messages are lost and %" PRIu64 " errors counted, ",
			cfg->max_loss, cfg->max_loss);
	if (conns)
		fprintf(f, "no connect fails, every connection is held and none drops.</p>\n");
	else
		fprintf(f, "something is acked, no connect fails, and blast keeps up with the offered "
			   "rate (no backlog of messages due and not sent, no growing lag).</p>\n");
}

static void answer(FILE *f, const struct blast_results *r)
{
	bool conns = r->opts->limit.mode == LIMIT_CONNS;
	char b[64];

	if (r->limit_trial < 0 || (unsigned)r->limit_trial >= r->n_trials) {
		fprintf(f, "<p class=\"bad\">No trial passed: no sustainable %s was found.</p>\n",
			conns ? "connection count" : "rate");
		return;
	}
	const struct limit_trial *t = &r->trials[r->limit_trial];
	fprintf(f, "<div class=\"cards\">");
	snprintf(b, sizeof(b), "%" PRIu64 "%s", t->offered, conns ? "" : " msg/s");
	bool client = limit_client_bound(r);
	html_card(f, b, conns ? "connections held" : client ? "client-bound: blast's limit, not the broker's"
							 : "highest sustainable offered rate",
		  client ? "bad" : "ok");
	snprintf(b, sizeof(b), "trial %d", r->limit_trial + 1);
	html_card(f, b, "the answer's trial", NULL);
	snprintf(b, sizeof(b), "%.0f/s", t->acked_rate);
	html_card(f, b, conns ? "opened per second" : "acked at that rate", NULL);
	if (t->acked || t->p99_ns) {
		html_fmt_us(b, sizeof(b), t->p99_ns);
		html_card(f, b, conns ? "connect p99 there" : "p99 there", NULL);
	} else {
		html_card(f, "n/a", "p99 there (nothing acked)", "na");
	}
	fprintf(f, "</div>\n");
	char line[640];
	if (limit_bound_line(line, sizeof(line), r)) {
		fprintf(f, "<p>");
		html_escape(f, line);
		fprintf(f, "</p>\n");
	}
}

static void charts(FILE *f, const struct blast_results *r)
{
	unsigned n = r->n_trials, m = 0;
	double *x = calloc(n + 1, sizeof(double)), *y = calloc(n + 1, sizeof(double)),
	       *p = calloc(n + 1, sizeof(double));
	bool *ok = calloc(n + 1, sizeof(bool));
	double hi = 0, plo = INFINITY, phi = 0;

	if (!x || !y || !p || !ok)
		goto out;
	/* The main search; a connect-rate stage (--find-limit conns) is in
	 * the table only. */
	for (unsigned i = 0; i < n; i++) {
		const struct limit_trial *t = &r->trials[i];
		if (t->conn_rate)
			continue;
		x[m] = (double)t->offered;
		y[m] = t->acked_rate;
		p[m] = t->p99_ns ? (double)t->p99_ns / 1e3 : NAN;
		ok[m] = t->pass;
		hi = fmax(hi, fmax(x[m], y[m]));
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
	chart_begin(&c, f, "chart-trials", "offered per second", "acked per second");
	double dx[2] = { c.x0, c.x1 }, dy[2] = { c.x0, c.x1 };
	chart_line(&c, dx, dy, 2, 5, true, "acked = offered");
	chart_marks(&c, x, y, ok, m, 2, "trial (x: failed)");
	chart_end(&c);
	if (phi > 0) {
		struct chart d = { .xa = AX_LIN, .xu = U_RATE, .ya = AX_LOG, .yu = U_US, .x0 = 0,
				   .x1 = c.x1, .y0 = plo, .y1 = phi, .h = 280 };
		chart_nice_range(AX_LOG, &d.y0, &d.y1);
		chart_begin(&d, f, "chart-trials-p99", "offered per second", "p99 latency (log scale)");
		for (unsigned i = 0; i < r->opts->limit.n_slo; i++) {
			const struct limit_slo *s = &r->opts->limit.slo[i];
			double v = (double)s->ns / 1e3, sx[2] = { d.x0, d.x1 }, sy[2] = { v, v };
			if (s->key == SLO_P99 && v >= d.y0 && v <= d.y1)
				chart_line(&d, sx, sy, 2, 3, true, "--slo p99");
		}
		chart_marks(&d, x, p, ok, m, 0, "p99 of the trial (x: failed)");
		chart_end(&d);
	}
out:
	free(x);
	free(y);
	free(p);
	free(ok);
}

static void table(FILE *f, const struct blast_results *r)
{
	bool probe = r->opts->probe;

	fprintf(f, "<div class=\"scroll\"><table class=\"trials\"><tr><th>trial</th><th>offered</th>"
		   "<th>achieved/s</th><th>acked/s</th><th>sent</th><th>acked</th><th>failed</th>"
		   "<th>p50 us</th><th>p99 us</th><th>p99.9 us</th><th>real retransmits</th>"
		   "<th>srtt us</th><th class=\"verdict\">verdict</th></tr>\n");
	for (unsigned i = 0; i < r->n_trials; i++) {
		const struct limit_trial *t = &r->trials[i];
		fprintf(f, "<tr%s><td>%u%s</td><td>%s%" PRIu64 "</td><td>%.0f</td><td>%.0f</td><td>%" PRIu64
			   "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
			(int)i == r->limit_trial ? " class=\"answer\"" : "", i + 1,
			(int)i == r->limit_trial ? " (answer)" : "", t->conn_rate ? "ramp " : "",
			t->offered, t->achieved, t->acked_rate, t->sent, t->acked, t->failed);
		if (t->acked || t->p99_ns) {
			html_us_cell(f, t->p50_ns);
			html_us_cell(f, t->p99_ns);
			html_us_cell(f, t->p999_ns);
		} else {
			fprintf(f, "<td class=\"na\">n/a</td><td class=\"na\">n/a</td><td class=\"na\">n/a</td>");
		}
		/* Without --probe there is no wire figure: n/a, not 0. */
		if (probe)
			fprintf(f, "<td>%" PRIu64 "</td>", t->retransmits);
		else
			fprintf(f, "<td class=\"na\">n/a</td>");
		if (probe && t->srtt_us)
			fprintf(f, "<td>%" PRIu64 "</td>", t->srtt_us);
		else
			fprintf(f, "<td class=\"na\">n/a</td>");
		fprintf(f, "<td class=\"verdict %s\">%s", t->pass ? "ok" : "bad", t->pass ? "pass" : "fail: ");
		char why[sizeof(t->why) + 1];
		memcpy(why, t->why, sizeof(t->why));
		why[sizeof(t->why)] = '\0';
		if (!t->pass)
			html_escape(f, why);
		if (t->judged) {
			fprintf(f, "; bottleneck: ");
			html_escape(f, bottleneck_name(t->bottleneck));
		}
		if (t->widened[0]) {
			fprintf(f, "; rerun with ");
			html_escape(f, t->widened);
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</table></div>\n");
	if (!probe)
		fprintf(f, "<p class=\"note\">Retransmits and srtt come from the wire probe: run with "
			   "--probe to have them.</p>\n");
}

void html_limit(FILE *f, const struct blast_results *r)
{
	fprintf(f, "<section id=\"limit\"><h2>Limit search</h2>\n");
	criteria(f, r);
	answer(f, r);
	charts(f, r);
	table(f, r);
	fprintf(f, "<p class=\"note\">Each trial is a run of its own at one offered rate; the time "
		   "charts below show the trials one after the other, separated by rules.</p>"
		   "</section>\n");
}

void html_limit_config(FILE *f, const struct blast_results *r)
{
	const struct limit_cfg *cfg = &r->opts->limit;
	bool conns = cfg->mode == LIMIT_CONNS;
	char b[96];

	html_kv(f, "find limit", conns ? "connections (--find-limit conns)" : "rate (--find-limit)");
	for (unsigned i = 0; i < r->n_trials; i++) {
		if (!r->trials[i].conn_rate) {
			snprintf(b, sizeof(b), "%" PRIu64 "%s", r->trials[i].offered,
				 conns ? " connections" : " msg/s");
			html_kv(f, "first trial", b);
			break;
		}
	}
	if (cfg->ceiling)
		snprintf(b, sizeof(b), "%" PRIu64, cfg->ceiling);
	else
		snprintf(b, sizeof(b), "default");
	html_kv(f, "ceiling", b);
	snprintf(b, sizeof(b), "%.3f s", (double)cfg->trial_ns / 1e9);
	html_kv(f, "trial duration", b);
	snprintf(b, sizeof(b), "%.0f s", (double)cfg->timeout_ns / 1e9);
	html_kv(f, "search timeout", b);
	for (unsigned i = 0; i < cfg->n_slo; i++) {
		char v[48];
		fmt_dur(v, sizeof(v), cfg->slo[i].ns);
		snprintf(b, sizeof(b), "%s <= %s", limit_slo_name(cfg->slo[i].key), v);
		html_kv(f, "slo", b);
	}
	if (cfg->loss_is_frac)
		snprintf(b, sizeof(b), "%.4g%%", cfg->max_loss_frac * 100);
	else
		snprintf(b, sizeof(b), "%" PRIu64 " messages", cfg->max_loss);
	html_kv(f, "max loss", b);
}
