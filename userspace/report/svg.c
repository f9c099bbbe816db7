/* Inline SVG line charts (see svg.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/svg.h"

void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(c, f);
		}
	}
}

static double tr(enum svg_axis a, double v)
{
	return a == AX_LOG ? log10(v) : v;
}

static bool drawable(enum svg_axis a, double v)
{
	return isfinite(v) && (a != AX_LOG || v > 0);
}

static double px(const struct chart *c, double x)
{
	double lo = tr(c->xa, c->x0), hi = tr(c->xa, c->x1);
	double t = hi > lo ? (tr(c->xa, x) - lo) / (hi - lo) : 0;

	return c->ml + t * (c->w - c->ml - c->mr);
}

static double py(const struct chart *c, double y)
{
	double lo = tr(c->ya, c->y0), hi = tr(c->ya, c->y1);
	double t = hi > lo ? (tr(c->ya, y) - lo) / (hi - lo) : 0;

	return c->h - c->mb - t * (c->h - c->mt - c->mb);
}

static double nice_step(double range, int want)
{
	double raw = range / want, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void chart_nice_range(enum svg_axis a, double *lo, double *hi)
{
	if (a == AX_LOG) {
		if (!(*lo > 0))
			*lo = *hi > 0 ? *hi / 10 : 1;
		if (!(*hi > *lo))
			*hi = *lo * 10;
		*lo = pow(10, floor(log10(*lo) + 1e-9));
		*hi = pow(10, ceil(log10(*hi) - 1e-9));
		if (*hi <= *lo)
			*hi = *lo * 10;
		return;
	}
	if (a == AX_NINES) {
		*lo = 0;
		*hi = ceil(*hi - 1e-9);
		if (*hi < 1)
			*hi = 1;
		return;
	}
	if (!isfinite(*lo) || !isfinite(*hi) || *hi <= *lo) {
		*hi = *lo + 1;
		if (!isfinite(*hi))
			*lo = 0, *hi = 1;
	}
	double step = nice_step(*hi - *lo, 5);
	*lo = floor(*lo / step + 1e-9) * step;
	*hi = ceil(*hi / step - 1e-9) * step;
}

static void label(char *buf, size_t cap, enum svg_axis a, enum svg_unit u, double v)
{
	if (a == AX_NINES) {
		int k = (int)lround(v);
		if (k <= 0)
			snprintf(buf, cap, "0%%");
		else if (k == 1)
			snprintf(buf, cap, "90%%");
		else {
			char nines[24] = "";
			for (int i = 0; i < k - 2 && i < 20; i++)
				nines[i] = '9';
			snprintf(buf, cap, "99%s%s%%", k > 2 ? "." : "", nines);
		}
		return;
	}
	switch (u) {
	case U_SECONDS:
		snprintf(buf, cap, "%gs", v);
		break;
	case U_RATE:
		if (fabs(v) >= 1e6)
			snprintf(buf, cap, "%gM", v / 1e6);
		else if (fabs(v) >= 1e3)
			snprintf(buf, cap, "%gk", v / 1e3);
		else
			snprintf(buf, cap, "%g", v);
		break;
	case U_US:
		if (v >= 1e6)
			snprintf(buf, cap, "%gs", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, cap, "%gms", v / 1e3);
		else
			snprintf(buf, cap, "%gus", v);
		break;
	default:
		snprintf(buf, cap, "%g", v);
	}
}

/* Tick values for an axis into t[]; returns how many. */
static int ticks(enum svg_axis a, double lo, double hi, double *t, int cap)
{
	int n = 0;

	if (a == AX_NINES) {
		for (double v = 0; v <= hi + 1e-9 && n < cap; v++)
			t[n++] = v;
	} else if (a == AX_LOG) {
		double d0 = floor(log10(lo) + 1e-9), d1 = ceil(log10(hi) - 1e-9);
		bool fine = d1 - d0 <= 2;
		for (double d = d0; d <= d1 && n < cap; d++) {
			static const double m[] = { 1, 2, 5 };
			for (int i = 0; i < (fine ? 3 : 1) && n < cap; i++) {
				double v = m[i] * pow(10, d);
				if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
					t[n++] = v;
			}
		}
	} else {
		double step = nice_step(hi - lo, 5);
		for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < cap; v += step)
			t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	}
	return n;
}

void chart_begin(struct chart *c, FILE *f, const char *id, const char *xlabel, const char *ylabel)
{
	double t[64];
	char b[48];
	int n;

	c->f = f;
	c->n_legend = 0;
	c->legend_x = 0;
	if (!c->w)
		c->w = 900;
	if (!c->h)
		c->h = 300;
	if (!c->ml)
		c->ml = 64, c->mr = 32, c->mt = 28, c->mb = 44;
	fprintf(f, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		   "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n",
		id, c->w, c->h, c->w, c->h);
	fprintf(f, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", c->ml,
		c->mt, c->w - c->ml - c->mr, c->h - c->mt - c->mb);
	n = ticks(c->xa, c->x0, c->x1, t, 64);
	for (int i = 0; i < n; i++) {
		double x = px(c, t[i]);
		label(b, sizeof(b), c->xa, c->xu, t[i]);
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			   "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, c->mt, x, c->h - c->mb, x, c->h - c->mb + 16, b);
	}
	n = ticks(c->ya, c->y0, c->y1, t, 64);
	for (int i = 0; i < n; i++) {
		double y = py(c, t[i]);
		label(b, sizeof(b), c->ya, c->yu, t[i]);
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			   "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			c->ml, y, c->w - c->mr, y, c->ml - 6, y + 4, b);
	}
	fprintf(f, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", c->ml +
		(c->w - c->ml - c->mr) / 2, c->h - 8);
	html_escape(f, xlabel);
	fprintf(f, "</text>\n<text class=\"axis\" x=\"14\" y=\"%d\" text-anchor=\"middle\" "
		   "transform=\"rotate(-90 14 %d)\">", c->mt + (c->h - c->mt - c->mb) / 2,
		c->mt + (c->h - c->mt - c->mb) / 2);
	html_escape(f, ylabel);
	fprintf(f, "</text>\n");
}

/* Legend entry styles. */
enum { LG_LINE, LG_DASHED, LG_MARK, LG_HOLLOW, LG_BAND };

static void legend(struct chart *c, int colour, int style, const char *text)
{
	if (!text)
		return;
	double x = c->ml + 4 + c->legend_x, y = c->mt - 10;
	/* Entries side by side, each as wide as its text (about 6.6 px a
	 * character at the legend's 12 px). */
	c->n_legend++;
	c->legend_x += 36 + 6.6 * (double)strlen(text);
	if (style == LG_MARK || style == LG_HOLLOW)
		fprintf(c->f, "<circle class=\"mark s%d%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>", colour,
			style == LG_HOLLOW ? " hollow" : "", x + 9, y - 4);
	else
		fprintf(c->f, "<path class=\"line s%d%s\" d=\"M%.1f %.1fH%.1f\"/>", colour,
			style == LG_DASHED ? " dashed" : style == LG_BAND ? " band" : "", x, y - 4,
			x + 18);
	fprintf(c->f, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", x + 24, y);
	html_escape(c->f, text);
	fprintf(c->f, "</text>\n");
}

/* Returns false when not one point could be drawn (nothing written). */
static bool path(struct chart *c, const double *x, const double *y, size_t n, int colour,
		 const char *cls)
{
	bool pen = false;
	size_t k = 0;

	while (k < n && !(drawable(c->xa, x[k]) && drawable(c->ya, y[k])))
		k++;
	if (k == n)
		return false;
	fprintf(c->f, "<path class=\"line s%d%s\" d=\"", colour, cls);
	for (size_t i = 0; i < n; i++) {
		if (!drawable(c->xa, x[i]) || !drawable(c->ya, y[i])) {
			pen = false;
			continue;
		}
		fprintf(c->f, "%s%.1f %.1f", pen ? "L" : "M", px(c, x[i]), py(c, y[i]));
		pen = true;
	}
	fprintf(c->f, "\"/>\n");
	return true;
}

void chart_line(struct chart *c, const double *x, const double *y, size_t n, int colour,
		bool dashed, const char *text)
{
	if (path(c, x, y, n, colour, dashed ? " dashed" : ""))
		legend(c, colour, dashed ? LG_DASHED : LG_LINE, text);
}

void chart_band(struct chart *c, const double *x, const double *y, size_t n, int colour,
		const char *text)
{
	if (path(c, x, y, n, colour, " band"))
		legend(c, colour, LG_BAND, text);
}

void chart_points(struct chart *c, const double *x, const double *y, size_t n, int colour,
		  bool hollow, const char *text)
{
	size_t drawn = 0;

	for (size_t i = 0; i < n; i++) {
		if (!drawable(c->xa, x[i]) || !drawable(c->ya, y[i]))
			continue;
		fprintf(c->f, "<circle class=\"mark s%d%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>\n",
			colour, hollow ? " hollow" : "", px(c, x[i]), py(c, y[i]));
		drawn++;
	}
	if (drawn)
		legend(c, colour, hollow ? LG_HOLLOW : LG_MARK, text);
}

void chart_vline(struct chart *c, double x, const char *text)
{
	if (!drawable(c->xa, x))
		return;
	double X = px(c, x);
	fprintf(c->f, "<line class=\"boundary\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", X,
		c->mt, X, c->h - c->mb);
	if (text) {
		fprintf(c->f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\">", X + 3, c->mt + 11);
		html_escape(c->f, text);
		fprintf(c->f, "</text>");
	}
	fputc('\n', c->f);
}

void chart_marks(struct chart *c, const double *x, const double *y, const bool *ok, size_t n,
		 int colour, const char *text)
{
	for (size_t i = 0; i < n; i++) {
		if (!drawable(c->xa, x[i]) || !drawable(c->ya, y[i]))
			continue;
		double X = px(c, x[i]), Y = py(c, y[i]);
		if (ok[i])
			fprintf(c->f, "<circle class=\"mark s%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>\n",
				colour, X, Y);
		else
			fprintf(c->f, "<path class=\"cross\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\"/>\n",
				X - 5, Y - 5);
	}
	legend(c, colour, LG_MARK, text);
}

void chart_end(struct chart *c)
{
	fprintf(c->f, "</svg>\n");
}
