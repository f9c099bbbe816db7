/* Line charts as inline SVG, drawn from C for the HTML report: axes with
 * round ticks (linear, log10, or HdrHistogram's percentile "nines"), a grid,
 * polylines, markers and a legend. Styling is left to the page's CSS
 * classes (.s0 .. .s5 for series colours). */
#ifndef BLAST_SVG_H
#define BLAST_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum svg_axis {
	AX_LIN,
	AX_LOG,   /* log10 of the value; values <= 0 are left out */
	AX_NINES, /* x = log10(1 / (1 - p)): 0 = 0%, 1 = 90%, 2 = 99%, ... */
};

enum svg_unit { U_PLAIN, U_SECONDS, U_RATE, U_US };

struct chart {
	FILE *f;
	int w, h;
	int ml, mr, mt, mb;      /* margins around the plot area */
	double x0, x1, y0, y1;   /* data range (values, also for AX_LOG) */
	enum svg_axis xa, ya;
	enum svg_unit xu, yu;
	int n_legend;
	double legend_x;         /* where the next legend entry goes */
};

/* Opens the <svg>, draws grid, ticks and axis labels. id must be a plain
 * identifier (it is written as is); labels are escaped. */
void chart_begin(struct chart *c, FILE *f, const char *id, const char *xlabel, const char *ylabel);
/* A polyline; points that cannot be drawn (log of <= 0, NaN) break it. */
void chart_line(struct chart *c, const double *x, const double *y, size_t n, int colour,
		bool dashed, const char *label);
/* Markers: a circle when ok[i], a cross otherwise. */
void chart_marks(struct chart *c, const double *x, const double *y, const bool *ok, size_t n,
		 int colour, const char *label);
/* Circles at the points, hollow or filled, and a legend entry. */
void chart_points(struct chart *c, const double *x, const double *y, size_t n, int colour,
		  bool hollow, const char *label);
/* A vertical rule at x across the plot, with a short label at its top
 * (a boundary between trials). */
void chart_vline(struct chart *c, double x, const char *label);
/* A line drawn wide and pale under the others, so a line on top of it
 * leaves it visible (sent/s under acked/s). */
void chart_band(struct chart *c, const double *x, const double *y, size_t n, int colour,
		const char *label);
void chart_end(struct chart *c);

/* Widens [*lo, *hi] to round numbers for an axis of that kind. */
void chart_nice_range(enum svg_axis a, double *lo, double *hi);

/* Writes s with &, <, >, " and ' escaped (and control bytes as U+FFFD). */
void html_escape(FILE *f, const char *s);

#endif
