/* The page's charts over time (html_parts.h). The axis ends where the
 * run ended. With several runs in the series (--find-limit trials, --steps
 * batches) the lines break between runs and a rule marks each run's
 * start, so one run never seems to flow into the next. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/opts.h"
#include "report/files.h"
#include "report/html_parts.h"
#include "report/svg.h"

#define BREAK SIZE_MAX

/* The points of a time chart: one per row, and a break before each run
 * after the first. */
struct tl {
	const struct series *s;
	size_t n;
	double *x;
	size_t *row; /* the row of each point, BREAK for a break */
	double *y[5];
};

static void tl_free(struct tl *t)
{
	free(t->x);
	free(t->row);
	for (int k = 0; k < 5; k++)
		free(t->y[k]);
}

static bool run_starts_at(const struct series *s, size_t i)
{
	for (size_t k = 1; k < s->n_runs; k++)
		if (s->runs[k].first_row == i)
			return true;
	return false;
}

static bool tl_init(struct tl *t, const struct series *s)
{
	size_t cap = s->n + s->n_runs + 1;

	*t = (struct tl){ .s = s, .x = calloc(cap, sizeof(double)), .row = calloc(cap, sizeof(size_t)) };
	for (int k = 0; k < 5; k++)
		t->y[k] = calloc(cap, sizeof(double));
	for (int k = 0; k < 5; k++)
		if (!t->y[k])
			return false;
	if (!t->x || !t->row)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		if (i && run_starts_at(s, i)) {
			t->x[t->n] = NAN;
			t->row[t->n++] = BREAK;
		}
		t->x[t->n] = s->rows[i].t_s;
		t->row[t->n++] = i;
	}
	return true;
}

/* The run row i belongs to, NULL without runs. */
static const struct series_run *run_of(const struct series *s, size_t i)
{
	const struct series_run *r = NULL;

	for (size_t k = 0; k < s->n_runs; k++)
		if (s->runs[k].first_row <= i)
			r = &s->runs[k];
	return r;
}

/* Seconds of row i during which its run was publishing. */
static double publishing(const struct series *s, size_t i)
{
	const struct series_run *run = run_of(s, i);
	const struct series_row *w = &s->rows[i];

	if (!run)
		return w->len_s; /* nothing known: all of it */
	if (!run->publish_from)
		return 0;
	double to = run->publish_to > run->publish_from ? run->publish_to : w->t_s;
	double a = fmax(w->t_s - w->len_s, run->publish_from), b = fmin(w->t_s, to);
	return b > a ? b - a : 0;
}

static double len_of(const struct series_row *w)
{
	return w->len_s > 0 ? w->len_s : 1;
}

/* With this few points, each is marked too: a run of one second (a
 * short trial, a small batch) would otherwise draw nothing. */
#define FEW_POINTS 30

/* A last interval shorter than this gives no rate worth drawing. */
#define SLIVER_S 0.1

/* A second that published (nearly) all through: its rates are the run's.
 * Others (the ramp's end, the last second, the drain, a short run's only
 * second) are partial: drawn apart, as open circles, never as a line's
 * drop. */
static bool whole_second(const struct series *s, size_t i)
{
	return s->rows[i].len_s >= 0.9 && publishing(s, i) >= 0.9 * s->rows[i].len_s;
}

/* The x axis: from 0 to the end of the last row, the run's end. */
static void time_axis(struct chart *c, const struct series *s)
{
	c->xa = AX_LIN;
	c->xu = U_SECONDS;
	c->x0 = 0;
	c->x1 = s->n ? s->rows[s->n - 1].t_s : 1;
	if (!(c->x1 > 0))
		c->x1 = 1;
}

static void y_axis(struct chart *c, double hi)
{
	c->ya = AX_LIN;
	c->yu = U_RATE;
	c->y0 = 0;
	c->y1 = hi > 0 ? hi : 1;
	chart_nice_range(AX_LIN, &c->y0, &c->y1);
}

/* A rule at each run's start after the first, "trial 2" and so on. */
static void boundaries(struct chart *c, const struct blast_results *r, const struct series *s)
{
	const char *unit = r->n_trials ? "trial" : "batch";
	char b[32];

	if (s->n_runs < 2)
		return;
	for (size_t k = 0; k < s->n_runs; k++) {
		/* Crowded rules keep only their numbers. */
		if (k == 0 || s->n_runs <= 8)
			snprintf(b, sizeof(b), "%s %zu", unit, k + 1);
		else
			snprintf(b, sizeof(b), "%zu", k + 1);
		chart_vline(c, s->runs[k].start_s, b);
	}
}

static void throughput(FILE *f, const struct blast_results *r, const struct tl *t)
{
	const struct series *s = t->s;
	double *sent = t->y[0], *acked = t->y[1], *part = t->y[2], *psent = t->y[3], hi = 0;
	size_t n_part = 0;
	struct chart c = { 0 };

	fprintf(f, "<section id=\"throughput\"><h2>Throughput</h2>\n");
	for (size_t k = 0; k < t->n; k++) {
		sent[k] = acked[k] = part[k] = psent[k] = NAN;
		if (t->row[k] == BREAK)
			continue;
		const struct series_row *w = &s->rows[t->row[k]];
		double len = len_of(w), pub = publishing(s, t->row[k]);
		if (whole_second(s, t->row[k])) {
			sent[k] = (double)w->sent / len;
			acked[k] = (double)w->acked / len;
		} else if (w->len_s >= SLIVER_S && (w->sent || w->acked)) {
			/* sent/s over the part of the second that published. */
			if (w->sent)
				psent[k] = (double)w->sent / (pub >= SLIVER_S ? pub : len);
			part[k] = (double)w->acked / len;
			n_part++;
		}
		for (int j = 0; j < 4; j++)
			if (!isnan(t->y[j][k]))
				hi = fmax(hi, t->y[j][k]);
	}
	if (!r->t.sent && !r->t.acked) {
		fprintf(f, "<p class=\"na\">Nothing was sent: no throughput to chart.</p></section>\n");
		return;
	}
	time_axis(&c, s);
	y_axis(&c, hi);
	chart_begin(&c, f, "chart-throughput", "time since start", "messages per second");
	boundaries(&c, r, s);
	chart_band(&c, t->x, sent, t->n, 0, "sent/s");
	chart_line(&c, t->x, acked, t->n, 2, false, "acked/s");
	chart_points(&c, t->x, sent, t->n, 0, false, NULL);
	chart_points(&c, t->x, acked, t->n, 2, false, NULL);
	chart_points(&c, t->x, psent, t->n, 0, true, "sent/s, partial second");
	chart_points(&c, t->x, part, t->n, 2, true, "acked/s, partial second");
	chart_end(&c);
	fprintf(f, "<p class=\"note\">One point per second, at its end. The lines join the "
		   "seconds that published all through.");
	if (n_part)
		fprintf(f, " A second that only partly published (the ramp's end, the last second, "
			   "the drain) is an open circle: its sent/s over the part that published, its "
			   "acked/s over its length.");
	fprintf(f, "</p></section>\n");
}

static const char *const pc_names[] = { "p50", "p90", "p99", "p99.9", "max" };

/* Percentile lines over time: p[k] of each row, in ns, when count. */
static void percentile_chart(FILE *f, const struct blast_results *r, const struct tl *t,
			     const char *id, const char *ylabel, bool e2e)
{
	const struct series *s = t->s;
	double lo = INFINITY, hi = 0;
	struct chart c = { 0 };

	for (size_t k = 0; k < t->n; k++) {
		const struct series_row *w = t->row[k] == BREAK ? NULL : &s->rows[t->row[k]];
		uint64_t count = w ? (e2e ? w->e2e_count : w->count) : 0;
		int64_t v[5] = { 0 };
		if (w && e2e) {
			int64_t e[5] = { w->e2e_p50, w->e2e_p90, w->e2e_p99, w->e2e_p999, w->e2e_max };
			for (int j = 0; j < 5; j++)
				v[j] = e[j];
		} else if (w) {
			int64_t e[5] = { w->p50, w->p90, w->p99, w->p999, w->max };
			for (int j = 0; j < 5; j++)
				v[j] = e[j];
		}
		for (int j = 0; j < 5; j++) {
			t->y[j][k] = count ? (double)v[j] / 1e3 : NAN;
			if (count && t->y[j][k] > 0) {
				lo = fmin(lo, t->y[j][k]);
				hi = fmax(hi, t->y[j][k]);
			}
		}
	}
	if (!(hi > 0)) {
		fprintf(f, "<p class=\"na\">No latency was measured: nothing to chart.</p>\n");
		return;
	}
	time_axis(&c, s);
	c.ya = AX_LOG;
	c.yu = U_US;
	c.y0 = isfinite(lo) ? lo : 1;
	c.y1 = hi;
	chart_nice_range(AX_LOG, &c.y0, &c.y1);
	chart_begin(&c, f, id, "time since start", ylabel);
	boundaries(&c, r, s);
	for (int j = 0; j < 5; j++) {
		chart_line(&c, t->x, t->y[j], t->n, j, j == 4, pc_names[j]);
		if (t->n <= FEW_POINTS)
			chart_points(&c, t->x, t->y[j], t->n, j, false, NULL);
	}
	chart_end(&c);
}

static void latency_over_time(FILE *f, const struct blast_results *r, const struct tl *t)
{
	fprintf(f, "<section id=\"latency-time\"><h2>Latency over time</h2>\n");
	percentile_chart(f, r, t, "chart-latency", "corrected latency (log scale)", false);
	fprintf(f, "<p class=\"note\">Corrected latency: from the moment the schedule wanted each "
		   "message sent to its ack, so a stalled broker shows here.</p></section>\n");
}

/* One gauge over time (connections up, messages in flight). */
static void gauge(FILE *f, const struct blast_results *r, const struct tl *t, const char *id,
		  const char *label, bool inflight, double hi)
{
	struct chart c = { 0 };
	double *y = t->y[0];

	for (size_t k = 0; k < t->n; k++) {
		const struct series_row *w = t->row[k] == BREAK ? NULL : &t->s->rows[t->row[k]];
		y[k] = w ? (double)(inflight ? w->inflight : w->conns_up) : NAN;
		if (w)
			hi = fmax(hi, y[k]);
	}
	time_axis(&c, t->s);
	y_axis(&c, hi);
	c.yu = U_PLAIN;
	c.h = 220;
	chart_begin(&c, f, id, "time since start", label);
	boundaries(&c, r, t->s);
	chart_line(&c, t->x, y, t->n, inflight ? 1 : 0, false, label);
	if (t->n <= FEW_POINTS)
		chart_points(&c, t->x, y, t->n, inflight ? 1 : 0, false, NULL);
	chart_end(&c);
}

void html_time_charts(FILE *f, const struct blast_results *r, const struct series *s)
{
	struct tl t;

	if (tl_init(&t, s)) {
		throughput(f, r, &t);
		latency_over_time(f, r, &t);
		fprintf(f, "<section id=\"connections\"><h2>Connections and messages in flight</h2>\n");
		gauge(f, r, &t, "chart-connections", "connections up", false,
		      r->opts ? r->opts->conns : 1);
		if (r->t.sent)
			gauge(f, r, &t, "chart-inflight", "messages in flight", true, 1);
		else
			fprintf(f, "<p class=\"na\">Nothing was sent: no message was in flight.</p>\n");
		fprintf(f, "<p class=\"note\">At the end of each second.</p></section>\n");
	}
	tl_free(&t);
}

void html_fanout_time_charts(FILE *f, const struct blast_results *r, const struct series *s)
{
	struct tl t;
	double hi = 0;
	struct chart c = { 0 };

	if (!tl_init(&t, s)) {
		tl_free(&t);
		return;
	}
	for (size_t k = 0; k < t.n; k++) {
		const struct series_row *w = t.row[k] == BREAK ? NULL : &s->rows[t.row[k]];
		bool whole = w && w->len_s >= 0.9, part = w && !whole && w->len_s >= SLIVER_S;
		double rx = w ? (double)w->received / len_of(w) : NAN;
		t.y[0][k] = whole ? rx : NAN;
		t.y[2][k] = part ? rx : NAN;
		t.y[1][k] = whole ? (double)report_row_expected(r->opts, w) / len_of(w) : NAN;
		if (whole || part)
			hi = fmax(hi, fmax(rx, whole ? t.y[1][k] : 0));
	}
	fprintf(f, "<h3>Receipts per second</h3>\n");
	if (hi > 0) {
		time_axis(&c, s);
		y_axis(&c, hi);
		chart_begin(&c, f, "chart-receipts", "time since start", "receipts per second");
		boundaries(&c, r, s);
		chart_band(&c, t.x, t.y[1], t.n, 0, "expected/s (by the messages sent)");
		chart_line(&c, t.x, t.y[0], t.n, 2, false, "received/s");
		chart_points(&c, t.x, t.y[0], t.n, 2, false, NULL);
		chart_points(&c, t.x, t.y[2], t.n, 2, true, "received/s, partial second");
		chart_end(&c);
	} else {
		fprintf(f, "<p class=\"na\">Nothing was received: no receipts to chart.</p>\n");
	}
	fprintf(f, "<h3>End-to-end latency over time</h3>\n");
	percentile_chart(f, r, &t, "chart-e2e", "send to receipt (log scale)", true);
	tl_free(&t);
}
