/* The live page of a distributed run (see coord_dash.h). The coordinator's
 * thread copies the agents' rows and each merged second in; the server's
 * thread writes them out as JSON under the same mutex. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "dist/coord_dash.h"
#include "encoders/control.h"
#include "report/json_read.h"
#include "stats/clock.h"
#include "stats/series.h"

struct coord_dash {
	struct dashboard *d;
	struct dashboard_hooks more;
	pthread_mutex_t mu; /* guards what follows */
	struct cdash_agent *a;
	size_t n;
	struct series s;    /* the merged seconds (rows only) */
	double *partial;    /* t of the partial seconds */
	size_t n_partial, cap_partial;
	uint64_t t0_sec;
};

static const char *const state_names[] = { "idle", "connecting", "waiting", "running",
					   "finished" };

/* s as a JSON string (agent names are free text). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void agents_json(void *ctx, FILE *f)
{
	struct coord_dash *cd = ctx;
	uint64_t now = mono_ns();

	pthread_mutex_lock(&cd->mu);
	fputs(",\"agents\":[", f);
	for (size_t i = 0; i < cd->n; i++) {
		const struct cdash_agent *a = &cd->a[i];
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, a->name);
		fputs(",\"version\":", f);
		json_str(f, a->version);
		fprintf(f, ",\"cores\":%" PRIu32 ",\"state\":\"%s\",\"hb_age_s\":", a->cores,
			a->lost ? "lost" : a->state < CTL__STATES ? state_names[a->state] : "idle");
		if (a->last_hb_ns)
			fprintf(f, "%.1f", (double)(now - a->last_hb_ns) / 1e9);
		else
			fputs("null", f);
		fprintf(f, ",\"in_run\":%s,\"lost\":%s,\"partial\":%s", a->in_run ? "true" : "false",
			a->lost ? "true" : "false", a->partial ? "true" : "false");
		if (a->has_second)
			fprintf(f, ",\"rate\":%.1f,\"p99_us\":%.1f", a->rate, a->p99_us);
		else
			fputs(",\"rate\":null,\"p99_us\":null", f);
		fputc('}', f);
	}
	fputs("],\"partial\":[", f);
	for (size_t i = 0; i < cd->n_partial; i++)
		fprintf(f, "%s%.3f", i ? "," : "", cd->partial[i]);
	fputc(']', f);
	pthread_mutex_unlock(&cd->mu);
	if (cd->more.json)
		cd->more.json(cd->more.ctx, f);
}

static unsigned more_post(void *ctx, const char *url, const char *(*arg)(void *q, const char *key),
			  void *q, char *msg, size_t cap)
{
	struct coord_dash *cd = ctx;

	return cd->more.post(cd->more.ctx, url, arg, q, msg, cap);
}

struct coord_dash *coord_dash_new(struct dashboard *d, const struct dashboard_hooks *more)
{
	struct coord_dash *cd = calloc(1, sizeof(*cd));

	if (!cd)
		return NULL;
	cd->d = d;
	if (more)
		cd->more = *more;
	pthread_mutex_init(&cd->mu, NULL);
	struct dashboard_hooks h = { .ctx = cd, .json = agents_json,
				     .post = cd->more.post ? more_post : NULL };
	dashboard_set_hooks(d, &h);
	return cd;
}

void coord_dash_free(struct coord_dash *cd)
{
	if (!cd)
		return;
	pthread_mutex_destroy(&cd->mu);
	free(cd->a);
	free(cd->s.rows);
	free(cd->partial);
	free(cd);
}

void coord_dash_begin(struct coord_dash *cd, uint64_t t0_sec)
{
	if (!cd)
		return;
	dashboard_reset(cd->d);
	pthread_mutex_lock(&cd->mu);
	cd->s.n = 0;
	cd->n_partial = 0;
	cd->t0_sec = t0_sec;
	pthread_mutex_unlock(&cd->mu);
}

bool coord_dash_take_stop(struct coord_dash *cd)
{
	return cd && dashboard_take_stop(cd->d);
}

void coord_dash_agents(struct coord_dash *cd, const struct cdash_agent *a, size_t n)
{
	if (!cd)
		return;
	pthread_mutex_lock(&cd->mu);
	struct cdash_agent *copy = n ? realloc(cd->a, n * sizeof(*a)) : cd->a;
	if (copy) {
		if (n)
			memcpy(copy, a, n * sizeof(*a));
		cd->a = copy;
		cd->n = n;
	}
	pthread_mutex_unlock(&cd->mu);
}

void coord_dash_errors(struct coord_dash *cd, const uint64_t *errors)
{
	if (!cd)
		return;
	pthread_mutex_lock(&cd->mu);
	dashboard_update(cd->d, &cd->s, errors);
	pthread_mutex_unlock(&cd->mu);
}

static int add_wire(void *wire, struct hist *out)
{
	hist_add(out, wire);
	return 0;
}

void coord_dash_row(void *ctx, const struct live_row *r)
{
	struct coord_dash *cd = ctx;
	uint32_t len_ms = r->len_ms && r->len_ms < 1000 ? r->len_ms : 1000;

	if (!cd)
		return;
	pthread_mutex_lock(&cd->mu);
	if (cd->s.n == cd->s.cap) {
		size_t cap = cd->s.cap ? 2 * cd->s.cap : 64;
		struct series_row *rows = realloc(cd->s.rows, cap * sizeof(*rows));
		if (!rows) {
			pthread_mutex_unlock(&cd->mu);
			return; /* the page shows fewer seconds; the run goes on */
		}
		cd->s.rows = rows;
		cd->s.cap = cap;
	}
	/* Seconds before T0 (the agents connecting) come out at or below 0. */
	double t = (double)((int64_t)r->sec - (int64_t)cd->t0_sec) + len_ms / 1e3;
	cd->s.rows[cd->s.n++] = (struct series_row){
		.t_s = t, .len_s = len_ms / 1e3, .sent = r->c.sent, .acked = r->c.acked,
		.failed = r->c.failed, .errors = r->c.errors, .inflight = r->c.inflight,
		.conns_up = r->c.conns_up, .count = r->h->total, .p50 = hist_percentile(r->h, 50),
		.p99 = hist_percentile(r->h, 99), .p999 = hist_percentile(r->h, 99.9),
	};
	if (r->agents < r->of) {
		if (cd->n_partial == cd->cap_partial) {
			size_t cap = cd->cap_partial ? 2 * cd->cap_partial : 16;
			double *p = realloc(cd->partial, cap * sizeof(*p));
			if (p) {
				cd->partial = p;
				cd->cap_partial = cap;
			}
		}
		if (cd->n_partial < cd->cap_partial)
			cd->partial[cd->n_partial++] = t;
	}
	dashboard_update(cd->d, &cd->s, NULL);
	pthread_mutex_unlock(&cd->mu);
	if (r->wire) /* --probe: the agents' wire latencies of this second */
		dashboard_wire_feed(cd->d, add_wire, (void *)r->wire);
}

/* A whole file (the merged report), NUL-terminated; NULL when unreadable. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
			*len = fread(buf, 1, (size_t)n, f);
			buf[*len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

void coord_dash_finish(struct coord_dash *cd, const char *report_path, const char *html_path)
{
	size_t len = 0;
	char *doc = read_all(report_path, &len), err[200], reason[40] = "";
	struct json_val root, v;
	struct blast_totals t = { 0 };
	bool ok = doc && !json_read(doc, len, &root, err, sizeof(err));
	uint64_t *dst[] = { &t.sent, &t.acked, &t.failed, &t.unacked };
	const char *keys[] = { "sent", "acked", "failed", "unacked" };

	if (!cd) {
		free(doc);
		return;
	}
	for (size_t i = 0; ok && i < 4; i++)
		ok = json_member(&root, keys[i], &v) && !json_as_u64(&v, dst[i]);
	if (doc && !json_read(doc, len, &root, err, sizeof(err)) &&
	    json_member(&root, "stop_reason", &v) && json_type_of(&v) == JSON_STRING &&
	    v.len >= 2 && v.len - 2 < sizeof(reason))
		snprintf(reason, sizeof(reason), "%.*s", (int)(v.len - 2), v.p + 1);
	dashboard_finish(cd->d, ok ? &t : NULL, reason[0] ? reason : "no report", html_path);
	free(doc);
}
