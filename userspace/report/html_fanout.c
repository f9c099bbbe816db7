/* A fan-out run's own section of the HTML page (html_parts.h): its
 * headline figures (received, expected, missing, end-to-end latency), the
 * receipts over time, and what each listening connection missed. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "config/opts.h"
#include "report/html_parts.h"
#include "report/svg.h"
#include "stats/fanout.h"

static void cards(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	const struct hist *h = r->e2e;
	uint64_t missing = r->expected > t->received ? r->expected - t->received : 0;
	char b[64];

	fprintf(f, "<div class=\"cards\">");
	snprintf(b, sizeof(b), "%" PRIu64, t->received);
	html_card(f, b, "received", NULL);
	snprintf(b, sizeof(b), "%" PRIu64, r->expected);
	html_card(f, b, "expected", NULL);
	snprintf(b, sizeof(b), "%" PRIu64, missing);
	html_card(f, b, "missing", missing || !r->expected ? "bad" : "ok");
	snprintf(b, sizeof(b), "%" PRIu64, t->duplicates);
	html_card(f, b, "duplicates", t->duplicates ? "bad" : NULL);
	if (h && h->total) {
		static const struct {
			const char *name;
			double p;
		} pc[] = { { "end-to-end p50", 50 }, { "end-to-end p99", 99 } };
		for (size_t i = 0; i < 2; i++) {
			html_fmt_us(b, sizeof(b), hist_percentile(h, pc[i].p));
			html_card(f, b, pc[i].name, NULL);
		}
		html_fmt_us(b, sizeof(b), h->max);
		html_card(f, b, "end-to-end max", NULL);
	} else {
		html_card(f, "n/a", "end-to-end latency (nothing received)", "na");
	}
	fprintf(f, "</div>\n<p class=\"note\">End to end: from a message's send to each receipt. "
		   "%.3f s from the first send to the last; %.3f s to the last receipt.</p>\n",
		r->send_s, r->batch_s);
}

/* Does connection idx receive? (fanout.h: who subscribes) */
static bool receives(const struct blast_opts *o, size_t idx)
{
	if (o->proto == PROTO_WS)
		return true;
	return o->chat || idx >= o->publishers;
}

/* Receipts each receiving connection should have had, when every one
 * expects the same: 0 when that is not so (--fanout, shared groups). */
static uint64_t per_listener(const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;

	if (o->fanout)
		return 0;
	if (o->proto == PROTO_WS)
		return r->t.sent;
	return fanout_share_groups(o) ? 0 : r->t.matched;
}

static void by_listener(FILE *f, const struct blast_results *r, const struct series *s)
{
	const struct blast_opts *o = r->opts;
	size_t n = s->n_conn_rx < o->conns ? s->n_conn_rx : o->conns, m = 0, short_of = 0;
	uint64_t each = per_listener(r), worst = 0;
	double *x = calloc(n + 1, sizeof(double)), *y = calloc(n + 1, sizeof(double)), hi = 0;
	size_t worst_at = 0;

	fprintf(f, "<h3>%s by listening connection</h3>\n", each ? "Missing" : "Receipts");
	if (!x || !y || !n) {
		fprintf(f, "<p class=\"na\">No connection's receipts were recorded.</p>\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!receives(o, i))
			continue;
		uint64_t got = s->conn_rx[i], miss = each > got ? each - got : 0;
		x[m] = (double)i;
		y[m] = (double)(each ? miss : got);
		hi = fmax(hi, y[m]);
		short_of += miss > 0;
		if (miss > worst) {
			worst = miss;
			worst_at = i;
		}
		m++;
	}
	struct chart c = { .xa = AX_LIN, .xu = U_PLAIN, .ya = AX_LIN, .yu = U_PLAIN, .x0 = 0,
			   .x1 = n > 1 ? (double)(n - 1) : 1, .y0 = 0, .y1 = hi > 0 ? hi : 1, .h = 240 };
	chart_nice_range(AX_LIN, &c.y0, &c.y1);
	chart_begin(&c, f, "chart-listeners", "connection number",
		    each ? "receipts missing" : "receipts");
	int colour = each && short_of ? 3 : 2;
	if (m <= 200)
		chart_points(&c, x, y, m, colour, false, each ? "missing" : "received");
	else
		chart_line(&c, x, y, m, colour, false, each ? "missing" : "received");
	chart_end(&c);
	if (each)
		fprintf(f, "<p class=\"%s\">%zu of %zu listening connections missed receipts; "
			   "each expected %" PRIu64 ".%s",
			short_of ? "bad" : "note", short_of, m, each, short_of ? "" : "</p>\n");
	if (each && short_of)
		fprintf(f, " The most missed: %" PRIu64 " on connection %zu.</p>\n", worst, worst_at);
	if (!each)
		fprintf(f, "<p class=\"note\">The listeners do not all expect the same receipts "
			   "(--fanout or shared subscriptions), so each one's count is shown.</p>\n");
	if (o->conns > n)
		fprintf(f, "<p class=\"note\">The first %zu connections are shown (of %u).</p>\n", n,
			o->conns);
out:
	free(x);
	free(y);
}

void html_fanout(FILE *f, const struct blast_results *r, const struct series *s)
{
	fprintf(f, "<section id=\"fanout\"><h2>Fan-out</h2>\n");
	cards(f, r);
	html_fanout_time_charts(f, r, s);
	by_listener(f, r, s);
	fprintf(f, "</section>\n");
}
