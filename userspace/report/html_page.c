/* The HTML pieces shared by blast's pages; see html_page.h. No script, no
 * link: each page reads the same offline or years from now. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "report/html_page.h"
#include "report/svg.h"

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
	"background:#f6f7f9;margin:0 auto;padding:24px 32px;max-width:1600px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}"
	".sub{color:#5b6475;margin:0 0 18px}"
	"section{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:16px 18px;"
	"margin:0 0 18px}"
	".cards{display:flex;flex-wrap:wrap;gap:10px}"
	".card{border:1px solid #dfe3ea;border-radius:6px;padding:8px 12px;min-width:120px}"
	".card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:12px}"
	".ok{color:#1a7f37}.bad{color:#c62828}"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
	"th,td{padding:3px 10px;border-bottom:1px solid #eceff4;text-align:right}"
	"th:first-child,td:first-child{text-align:left}th{color:#5b6475;font-weight:600}"
	"svg.chart{display:block;width:100%;height:auto;margin:4px 0 10px}"
	"svg .plot{fill:#fbfcfd;stroke:#c9ced8}svg .grid{stroke:#e6e9ef}"
	"svg .tick{font-size:11px;fill:#5b6475}svg .axis{font-size:12px;fill:#1d2330}"
	"svg .legend{font-size:12px;fill:#1d2330}"
	"svg .line{fill:none;stroke-width:1.8;stroke-linejoin:round}svg .dashed{stroke-dasharray:6 4}"
	"svg .mark{stroke:#fff;stroke-width:1}svg .cross{stroke:#c62828;stroke-width:2.5}"
	".s0{stroke:#1f77b4}.s1{stroke:#ff7f0e}.s2{stroke:#2ca02c}.s3{stroke:#d62728}"
	".s4{stroke:#9467bd}.s5{stroke:#8c564b}"
	"circle.s0{fill:#1f77b4}circle.s1{fill:#ff7f0e}circle.s2{fill:#2ca02c}"
	".note{color:#5b6475;font-size:12px}"
	"td.verdict,th.verdict{text-align:left}td.verdict{min-width:22em}"
	"table.config td{text-align:left}table.config td:first-child{color:#5b6475;width:160px}"
	"h3{font-size:15px;margin:14px 0 6px}.scroll{overflow-x:auto}"
	".status{border-width:2px}.status b{font-size:26px;margin-right:12px}"
	".status span{color:#5b6475}.status p{margin:6px 0 0;font-size:15px;color:#1d2330}"
	".status.ok{border-color:#1a7f37}.status.bad{border-color:#c62828;background:#fff5f5}"
	".status.ok b{color:#1a7f37}.status.bad b{color:#c62828}"
	".card.ok b{color:#1a7f37}.card.bad b{color:#c62828}.card.na b{color:#8a93a3}"
	".na{color:#8a93a3}tr.answer td{background:#eef8f0;font-weight:600}"
	"svg .band{stroke-width:7;stroke-opacity:.3}svg .boundary{stroke:#8a93a3;stroke-dasharray:3 3}"
	"svg .mark.hollow{fill:#fff;stroke-width:2}"
	".hollow.s0{stroke:#1f77b4}.hollow.s1{stroke:#ff7f0e}.hollow.s2{stroke:#2ca02c}"
	".hollow.s3{stroke:#d62728}"
	"circle.s3{fill:#d62728}circle.s4{fill:#9467bd}circle.s5{fill:#8c564b}";

void html_page_begin(FILE *f)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<title>");
}

void html_page_body(FILE *f, const char *h1)
{
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
	html_escape(f, h1);
	fprintf(f, "</h1>\n");
}

void html_us_cell(FILE *f, int64_t ns)
{
	double us = (double)ns / 1e3, a = fabs(us);

	if (a < 100)
		fprintf(f, "<td>%.2f</td>", us);
	else if (a < 10000)
		fprintf(f, "<td>%.1f</td>", us);
	else
		fprintf(f, "<td>%.0f</td>", us);
}

#define DIST_STEPS 100 /* points per nine */

/* The percentile curve of h on the "nines" axis, in microseconds. */
static size_t dist_points(const struct hist *h, double xmax, double *x, double *y)
{
	size_t n = 0;

	if (!h || !h->total)
		return 0;
	for (int i = 0; i <= (int)(xmax * DIST_STEPS); i++) {
		double nx = (double)i / DIST_STEPS;
		double p = 100.0 * (1 - pow(10, -nx));
		x[n] = nx;
		y[n] = (double)hist_percentile(h, p) / 1e3;
		n++;
	}
	return n;
}

void html_percentile_chart(FILE *f, const struct html_curve *curves, int n)
{
	uint64_t most = 0;
	double lo = INFINITY, hi = 0;

	for (int i = 0; i < n; i++) {
		const struct hist *h = curves[i].h;
		if (!h || !h->total)
			continue;
		most = h->total > most ? h->total : most;
		lo = fmin(lo, (double)h->min / 1e3);
		hi = fmax(hi, (double)h->max / 1e3);
	}
	if (!most)
		return;
	/* As far out as the samples reach: 1 in `most`. */
	double xmax = ceil(log10((double)most));
	xmax = xmax < 1 ? 1 : xmax > 6 ? 6 : xmax;
	size_t cap = (size_t)(xmax * DIST_STEPS) + 2;
	double *x = calloc(cap, sizeof(double)), *y = calloc(cap, sizeof(double));
	struct chart c = { .xa = AX_NINES, .ya = AX_LOG, .yu = U_US, .x0 = 0, .x1 = xmax,
			   .y0 = lo > 0 ? lo : 1e-3, .y1 = hi };
	if (x && y) {
		chart_nice_range(AX_LOG, &c.y0, &c.y1);
		chart_begin(&c, f, "chart-distribution", "percentile", "latency (log scale)");
		for (int i = 0; i < n; i++) {
			size_t k = dist_points(curves[i].h, xmax, x, y);
			if (k)
				chart_line(&c, x, y, k, curves[i].colour, curves[i].dashed,
					   curves[i].name);
		}
		chart_end(&c);
	}
	free(x);
	free(y);
}

static void dashes(FILE *f, int n)
{
	while (n--)
		fprintf(f, "<td>-</td>");
}

void html_wire_section(FILE *f, const struct wire_client *c, const struct wire_stats *const *w,
		       const char *const *names, int n)
{
	static const unsigned cols[] = { WIRE_P50, WIRE_P99, WIRE_MAX };

	fprintf(f, "<section id=\"wire\"><h2>Client and wire</h2>\n<table><tr><th>witness</th>"
		   "<th>requests</th><th>acks</th><th>unmatched</th><th>retransmits</th><th>flows</th>"
		   "<th>p50 us</th><th>p99 us</th><th>max us</th></tr>\n");
	if (c) {
		fprintf(f, "<tr><td>client (%s)</td><td>%" PRIu64 "</td><td>%" PRIu64
			   "</td><td>-</td><td>-</td><td>%" PRIu64 "</td>",
			wire_client_is_ws(c) ? "end to end" : "uncorrected", c->sent, c->acked, c->conns);
		for (unsigned k = 0; k < 3; k++)
			if (c->count)
				html_us_cell(f, c->ns[cols[k]]);
		dashes(f, c->count ? 0 : 3);
		fprintf(f, "</tr>\n");
	}
	for (int i = 0; i < n; i++) {
		fprintf(f, "<tr><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
			   "</td><td>%" PRIu64 " real, %" PRIu64 " spurious</td><td>%" PRIu64 "</td>",
			names[i], w[i]->requests, w[i]->acks, w[i]->unmatched, w[i]->retrans_real,
			wire_retrans_spurious(w[i]), w[i]->flows);
		for (unsigned k = 0; k < 3; k++)
			if (w[i]->latency.total)
				html_us_cell(f, wire_col_at(&w[i]->latency, cols[k]));
		dashes(f, w[i]->latency.total ? 0 : 3);
		fprintf(f, "</tr>\n");
	}
	/* What the client added, as in the summary and the JSON. */
	for (int i = 0; c && c->count && i < n; i++) {
		if (!w[i]->latency.total)
			continue;
		fprintf(f, "<tr><td>client - %s</td>", names[i]);
		dashes(f, 5);
		for (unsigned k = 0; k < 3; k++)
			html_us_cell(f, c->ns[cols[k]] - wire_col_at(&w[i]->latency, cols[k]));
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table><p class=\"note\">The wire's latency runs from the request's segment "
		   "leaving to the ack's segment arriving; the gap to the client's figure is time "
		   "spent in the client and its kernel. The curves are in the distribution above.</p>"
		   "</section>\n");
}
