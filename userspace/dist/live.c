/* The coordinator's live line (see live.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/live.h"
#include "report/exact.h"
#include "stats/clock.h"
#include "stats/hist.h"

struct lsec {
	uint64_t sec;
	struct ctl_counts c;
	struct hist *h;
	struct hist *w;      /* --probe: the wire's, NULL before any */
	uint32_t agents, len_ms;
};

struct live {
	uint32_t n;
	uint64_t *last;      /* [n]: each agent's newest second, 0 before any */
	struct lsec *s;      /* seconds not printed yet, by second */
	size_t n_s;
	uint64_t printed;    /* the newest second printed */
	struct hist *tmp;
};

struct live *live_new(uint32_t agents)
{
	struct live *lv = calloc(1, sizeof(*lv));

	if (!lv)
		return NULL;
	lv->n = agents;
	lv->last = calloc(agents, sizeof(*lv->last));
	lv->tmp = hist_new();
	if (!lv->last || !lv->tmp) {
		live_free(lv);
		return NULL;
	}
	return lv;
}

void live_free(struct live *lv)
{
	if (!lv)
		return;
	for (size_t i = 0; i < lv->n_s; i++) {
		free(lv->s[i].h);
		free(lv->s[i].w);
	}
	free(lv->s);
	free(lv->last);
	free(lv->tmp);
	free(lv);
}

int live_add(struct live *lv, uint32_t i, uint64_t wall_sec, uint32_t len_ms,
	     const struct ctl_counts *c, const uint8_t *hist, size_t hist_len)
{
	if (i >= lv->n || wall_sec <= lv->printed)
		return 0; /* late: its second is printed already (the final report has it) */
	if (hist_len && exact_hist_from_v2(hist, hist_len, lv->tmp))
		return -EINVAL;
	if (wall_sec > lv->last[i])
		lv->last[i] = wall_sec;
	size_t k = 0;
	while (k < lv->n_s && lv->s[k].sec < wall_sec)
		k++;
	if (k == lv->n_s || lv->s[k].sec != wall_sec) {
		struct lsec *s = realloc(lv->s, (lv->n_s + 1) * sizeof(*s));
		struct hist *h = hist_new();
		if (!s || !h) {
			free(h);
			if (s)
				lv->s = s;
			return -ENOMEM;
		}
		lv->s = s;
		memmove(&s[k + 1], &s[k], (lv->n_s - k) * sizeof(*s));
		s[k] = (struct lsec){ .sec = wall_sec, .h = h };
		lv->n_s++;
	}
	struct lsec *s = &lv->s[k];
	s->c.sent += c->sent;
	s->c.acked += c->acked;
	s->c.failed += c->failed;
	s->c.errors += c->errors;
	s->c.inflight += c->inflight;
	s->c.conns_up += c->conns_up;
	if (hist_len)
		hist_add(s->h, lv->tmp);
	s->agents++;
	if (len_ms > s->len_ms)
		s->len_ms = len_ms;
	return 0;
}

int live_add_wire(struct live *lv, uint64_t wall_sec, const uint8_t *wire, size_t len)
{
	size_t k = 0;

	while (k < lv->n_s && lv->s[k].sec != wall_sec)
		k++;
	if (k == lv->n_s || !len)
		return 0; /* printed already, or nothing */
	if (exact_hist_from_v2(wire, len, lv->tmp))
		return -EINVAL;
	struct lsec *s = &lv->s[k];
	if (!s->w && !(s->w = hist_new()))
		return -ENOMEM;
	hist_add(s->w, lv->tmp);
	return 0;
}

static void print_sec(FILE *f, const struct lsec *s, uint32_t n)
{
	time_t t = (time_t)s->sec;
	struct tm tm;
	char when[16];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "[%s] agents %u/%u | sent %llu/s acked %llu/s | inflight %llu | conns %llu | "
		   "p50 %.2f p99 %.2f max %.2f ms%s\n", when, s->agents, n,
		(unsigned long long)s->c.sent, (unsigned long long)s->c.acked,
		(unsigned long long)s->c.inflight, (unsigned long long)s->c.conns_up,
		(double)hist_percentile(s->h, 50) / 1e6, (double)hist_percentile(s->h, 99) / 1e6,
		(double)(s->h->total ? s->h->max : 0) / 1e6, s->agents < n ? " (partial)" : "");
}

void live_print(struct live *lv, FILE *f, const bool *active, uint64_t now_wall_ns)
{
	live_emit(lv, f, active, now_wall_ns, NULL, NULL);
}

void live_emit(struct live *lv, FILE *f, const bool *active, uint64_t now_wall_ns,
	       void (*row)(void *ctx, const struct live_row *r), void *ctx)
{
	while (lv->n_s) {
		struct lsec *s = &lv->s[0];
		bool complete = true;
		for (uint32_t i = 0; i < lv->n; i++)
			complete = complete && (!active[i] || lv->last[i] >= s->sec);
		if (!complete && now_wall_ns / NSEC_PER_SEC < s->sec + LIVE_LATE_S)
			return;
		if (f)
			print_sec(f, s, lv->n);
		if (row) {
			struct live_row r = { s->sec, s->len_ms, s->agents, lv->n, s->c, s->h, s->w };
			row(ctx, &r);
		}
		lv->printed = s->sec;
		free(s->h);
		free(s->w);
		memmove(&lv->s[0], &lv->s[1], (lv->n_s - 1) * sizeof(*s));
		lv->n_s--;
	}
}
