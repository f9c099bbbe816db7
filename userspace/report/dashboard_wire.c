/* The dashboard's wire latency (--probe): per second and over the run (see
 * dashboard_parts.h). A second holds the latencies the probe recorded
 * between two reads by the parent, which follow the series' seconds; the
 * last read, once the workers are gone, completes the run, so the seconds'
 * counts add up to the report's wire latency count. */
#include <stdlib.h>
#include <string.h>

#include "report/dashboard_parts.h"

static void figures(const struct hist *h, struct dash_wire_row *r)
{
	r->count = h->total;
	r->p50 = hist_percentile(h, 50);
	r->p90 = hist_percentile(h, 90);
	r->p99 = hist_percentile(h, 99);
	r->p999 = hist_percentile(h, 99.9);
	r->max = h->total ? h->max : 0;
}

int dash_wire_take(struct dash_wire *w, dash_wire_reader read_new, void *arg, size_t row,
		   struct dash_wire_row *one, struct dash_wire_row *all)
{
	if (!read_new)
		return -1;
	if (!w->cur && !(w->cur = hist_new()))
		return -1;
	if (!w->all && !(w->all = hist_new()))
		return -1;
	if (!w->scratch && !(w->scratch = hist_new()))
		return -1;
	hist_clear(w->scratch);
	if (read_new(arg, w->scratch))
		return -1;
	if (row != w->cur_row) {
		hist_clear(w->cur);
		w->cur_row = row;
	}
	hist_add(w->cur, w->scratch);
	hist_add(w->all, w->scratch);
	figures(w->cur, one);
	figures(w->all, all);
	return 0;
}

void dash_wire_store(struct dash_wire *w, size_t row, const struct dash_wire_row *one,
		     const struct dash_wire_row *all)
{
	w->on = true;
	w->total = *all;
	if (row >= w->cap) {
		size_t cap = w->cap ? w->cap : 64;
		while (cap <= row)
			cap *= 2;
		struct dash_wire_row *rows = realloc(w->rows, cap * sizeof(*rows));
		if (!rows)
			return; /* that second shows none; the total is right */
		memset(rows + w->cap, 0, (cap - w->cap) * sizeof(*rows));
		w->rows = rows;
		w->cap = cap;
	}
	w->rows[row] = *one;
}

static void row_json(FILE *f, const struct dash_wire_row *r)
{
	fprintf(f, ",\"wire\":{\"count\":%llu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f"
		   ",\"p999_us\":%.1f,\"max_us\":%.1f}",
		(unsigned long long)r->count, (double)r->p50 / 1e3, (double)r->p90 / 1e3,
		(double)r->p99 / 1e3, (double)r->p999 / 1e3, (double)r->max / 1e3);
}

void dash_wire_row_json(FILE *f, const struct dash_wire *w, size_t i)
{
	static const struct dash_wire_row none;

	if (w->on)
		row_json(f, i < w->cap ? &w->rows[i] : &none);
}

void dash_wire_total_json(FILE *f, const struct dash_wire *w)
{
	if (w->on)
		row_json(f, &w->total);
}

void dash_wire_free(struct dash_wire *w)
{
	free(w->rows);
	free(w->cur);
	free(w->all);
	free(w->scratch);
	memset(w, 0, sizeof(*w));
}
