/* The report's exact figures (see exact.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config/opts.h"
#include "encoders/hdrlog.h"
#include "report/exact.h"
#include "report/json.h"
#include "stats/fanout.h"
#include "stats/series.h"
#include "stats/wire.h"

static const struct hdr_params blast_params = {
	.sigfigs = HIST_SIGFIGS,
	.lowest = HIST_LOWEST,
	.highest = HIST_HIGHEST,
};

static char *b64_of(const uint8_t *z, size_t zlen)
{
	char *b = malloc(base64_len(zlen) + 1);

	if (b)
		base64_encode(z, zlen, b);
	return b;
}

char *exact_hist_b64(const struct hist *h)
{
	uint8_t *z;
	size_t zlen;

	if (hdr_encode_compressed(h->counts, hist_used_len(h), &blast_params, &z, &zlen))
		return NULL;
	char *b = b64_of(z, zlen);
	free(z);
	return b;
}

int exact_hist_from_v2(const uint8_t *z, size_t zlen, struct hist *h)
{
	struct hdr_params hp;
	size_t filled;
	int r = -EINVAL;

	hist_reset(h);
	if (!hdr_decode_compressed(z, zlen, h->counts, HIST_COUNTS_LEN, &hp, &filled) &&
	    hp.sigfigs == HIST_SIGFIGS && hp.lowest == HIST_LOWEST && hp.highest == HIST_HIGHEST) {
		r = 0;
		for (int i = 0; i < HIST_COUNTS_LEN; i++) {
			if (!h->counts[i])
				continue;
			if (h->total + h->counts[i] < h->total) {
				r = -EINVAL; /* counts that overflow are no histogram */
				break;
			}
			int64_t v = hist_value_at_index(i);
			if (!h->total)
				h->min = v;
			h->max = hist_highest_equivalent(v);
			h->total += h->counts[i];
		}
	}
	if (r)
		hist_reset(h);
	return r;
}

int exact_hist_parse(const char *b64, size_t len, struct hist *h)
{
	uint8_t *z = malloc(len / 4 * 3 + 3);
	int r = -EINVAL;

	if (!z)
		return -ENOMEM;
	long zlen = base64_decode(b64, len, z);
	if (zlen >= 0)
		r = exact_hist_from_v2(z, (size_t)zlen, h);
	else
		hist_reset(h);
	free(z);
	return r;
}

char *exact_totals_b64(const struct blast_totals *t)
{
	uLongf zlen = compressBound(sizeof(*t));
	uint8_t *z = malloc(zlen);
	char *b = NULL;

	if (z && compress2(z, &zlen, (const Bytef *)t, sizeof(*t), Z_BEST_COMPRESSION) == Z_OK)
		b = b64_of(z, zlen);
	free(z);
	return b;
}

int exact_totals_parse(const char *b64, size_t len, struct blast_totals *t)
{
	uint8_t *z = malloc(len / 4 * 3 + 3);
	int r = -EINVAL;

	if (!z)
		return -ENOMEM;
	long zlen = base64_decode(b64, len, z);
	uLongf out = sizeof(*t);
	if (zlen > 0 && uncompress((Bytef *)t, &out, z, (uLong)zlen) == Z_OK && out == sizeof(*t))
		r = 0;
	free(z);
	return r;
}

/* key: {"min_ns", "max_ns", "clamped", "hdr"}, or null without h. */
static void json_hist(struct json_writer *w, const char *key, const struct hist *h)
{
	json_key(w, key);
	char *b = h ? exact_hist_b64(h) : NULL;
	if (!b) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_kv_i64(w, "min_ns", h->total ? h->min : 0);
	json_kv_i64(w, "max_ns", h->total ? h->max : 0);
	json_kv_u64(w, "clamped", h->clamped);
	json_kv_string(w, "hdr", b);
	json_end_object(w);
	free(b);
}

/* The hlog line's histogram: what follows its third comma, or NULL. */
static const char *hlog_hist(const char *line)
{
	const char *p = line;

	for (int k = 0; p && k < 3; k++)
		p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
	return p;
}

int exact_seconds_out(const char *path, const struct series *s, size_t *done,
		      const uint64_t *errors, const struct hist *wire)
{
	if (!s || *done >= s->n)
		return 0;
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	for (; *done < s->n; (*done)++) {
		const struct series_row *r = &s->rows[*done];
		const char *h = r->hlog ? hlog_hist(r->hlog) : NULL;
		fprintf(f, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %lld e=",
			(unsigned long long)(s->origin_wall_ms + (uint64_t)((r->t_s - r->len_s) * 1e3 + 0.5)),
			(unsigned long long)(r->len_s * 1e3 + 0.5), (unsigned long long)r->sent,
			(unsigned long long)r->acked, (unsigned long long)r->failed,
			(unsigned long long)r->unacked, (unsigned long long)r->errors,
			(unsigned long long)r->inflight, (unsigned long long)r->conns_up,
			(long long)r->max);
		for (int e = 0; e < ERR__COUNT; e++)
			fprintf(f, "%s%llu", e ? "," : "", (unsigned long long)errors[e]);
		char *w = *done + 1 == s->n && wire && wire->total ? exact_hist_b64(wire) : NULL;
		fprintf(f, " w=%s %.*s\n", w ? w : "-", h ? (int)strcspn(h, "\r\n") : 1, h ? h : "-");
		free(w);
	}
	return fclose(f) ? -errno : 0;
}

static void json_row_hist(struct json_writer *w, const char *line)
{
	const char *p = hlog_hist(line);

	json_key(w, "hdr");
	if (p)
		json_string_len(w, p, strcspn(p, "\r\n"));
	else
		json_null(w);
}

static void json_seconds(struct json_writer *w, const struct series *s, bool fan)
{
	json_key(w, "seconds");
	json_begin_array(w);
	for (size_t i = 0; s && i < s->n; i++) {
		const struct series_row *r = &s->rows[i];
		json_begin_object(w);
		/* Its start on the wall clock, ms: the key it merges by. */
		json_kv_u64(w, "start_ms", s->origin_wall_ms + (uint64_t)((r->t_s - r->len_s) * 1e3 + 0.5));
		json_kv_double3(w, "len_s", r->len_s);
		json_kv_u64(w, "sent", r->sent);
		json_kv_u64(w, "acked", r->acked);
		json_kv_u64(w, "failed", r->failed);
		json_kv_u64(w, "unacked", r->unacked);
		json_kv_u64(w, "errors", r->errors);
		json_kv_u64(w, "inflight", r->inflight);
		json_kv_u64(w, "conns_up", r->conns_up);
		json_kv_u64(w, "cpu_ns", r->cpu_ns);
		json_kv_u64(w, "late_ns", r->late_ns);
		json_kv_u64(w, "window_ns", r->window_ns);
		json_kv_u64(w, "socket_ns", r->socket_ns);
		json_kv_u64(w, "count", r->count);
		json_kv_i64(w, "max_ns", r->max);
		json_kv_bool(w, "publishing", r->publishing);
		if (fan) {
			json_kv_u64(w, "received", r->received);
			json_kv_u64(w, "matched", r->matched);
			json_kv_u64(w, "share_receipts", r->share_receipts);
		}
		if (r->hlog)
			json_row_hist(w, r->hlog);
		json_end_object(w);
	}
	json_end_array(w);
}

/* A coordinator's agents: their clocks against its own, and how each ended. */
static void json_agents(struct json_writer *w, const struct blast_results *r)
{
	json_kv_double3(w, "max_clock_offset_ms", r->max_clock_offset_ms);
	json_key(w, "agents");
	json_begin_array(w);
	for (unsigned i = 0; i < r->n_agents; i++) {
		const struct report_agent *a = &r->agents[i];
		json_begin_object(w);
		json_kv_string(w, "name", a->name);
		json_key(w, "clock_offset_ms");
		if (a->clock_samples)
			json_double3(w, a->clock_offset_ms);
		else
			json_null(w);
		json_key(w, "clock_uncertainty_ms");
		if (a->clock_samples)
			json_double3(w, a->clock_uncertainty_ms);
		else
			json_null(w);
		json_kv_u64(w, "clock_samples", a->clock_samples);
		json_kv_bool(w, "clock_beyond_max", a->clock_beyond);
		json_kv_bool(w, "lost", a->lost);
		json_kv_i64(w, "exit_status", a->exit_status);
		json_end_object(w);
	}
	json_end_array(w);
}

/* The coordinator's own work (dist/coord_stats.c). */
static void json_control(struct json_writer *w, const struct control_figures *c)
{
	json_key(w, "control");
	json_begin_object(w);
	json_kv_u64(w, "agents", c->agents);
	json_kv_double3(w, "run_s", c->run_s);
	json_kv_u64(w, "messages_in", c->messages_in);
	json_kv_u64(w, "bytes_in", c->bytes_in);
	json_kv_double3(w, "messages_in_per_agent_s", c->messages_in_per_agent_s);
	json_kv_double3(w, "bytes_in_per_agent_s", c->bytes_in_per_agent_s);
	json_kv_u64(w, "report_bytes_in", c->report_bytes_in);
	json_kv_double3(w, "bytes_in_per_agent_s_without_reports", c->bytes_in_per_agent_s_running);
	json_kv_u64(w, "merge_seconds", c->merge_seconds);
	json_kv_double3(w, "merge_us_mean", c->merge_us_mean);
	json_kv_double3(w, "merge_us_median", c->merge_us_median);
	json_kv_double3(w, "merge_us_max", c->merge_us_max);
	json_kv_double3(w, "final_merge_ms", c->final_merge_ms);
	json_end_object(w);
}

void report_json_exact(struct json_writer *w, const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;
	const struct series *s = r->series;

	if (o && o->shard_count) {
		const struct split_whole *wh = &o->shard_whole;
		json_key(w, "shard");
		json_begin_object(w);
		json_kv_u64(w, "index", o->shard_index);
		json_kv_u64(w, "count", o->shard_count);
		json_key(w, "whole");
		json_begin_object(w);
		json_kv_u64(w, "conns", wh->conns);
		json_kv_u64(w, "rate", wh->rate);
		json_key(w, "messages");
		if (wh->has_messages)
			json_u64(w, wh->messages);
		else
			json_null(w);
		json_kv_u64(w, "publishers", wh->publishers);
		json_kv_u64(w, "receivers", wh->receivers);
		json_kv_u64(w, "partitions", wh->partitions);
		json_end_object(w);
		json_end_object(w);
	}
	if (r->merged_reports) {
		json_key(w, "merged");
		json_begin_object(w);
		json_kv_u64(w, "reports", r->merged_reports);
		json_kv_u64(w, "shards", r->merged_shards);
		json_end_object(w);
	}
	if (r->n_agents)
		json_agents(w, r);
	if (r->control && r->control->agents)
		json_control(w, r->control);
	json_key(w, "exact");
	json_begin_object(w);
	json_kv_u64(w, "origin_ms", s ? s->origin_wall_ms : 0);
	/* When publishing started and ended on the wall clock: a merge's span. */
	double from = s && s->n_runs ? s->runs[0].publish_from : 0;
	json_kv_double3(w, "publish_start_ms", s ? (double)s->origin_wall_ms + from * 1e3 : 0);
	/* The schedule's anchor says when sending was due; this, when it began. */
	json_kv_double3(w, "first_send_ms", r->first_send_wall_ms);
	char *t = exact_totals_b64(&r->t);
	json_kv_string(w, "totals", t);
	free(t);
	json_kv_u64(w, "totals_size", sizeof(r->t));
	json_hist(w, "latency", r->latency);
	json_hist(w, "latency_uncorrected", r->latency_raw);
	json_hist(w, "connect", r->connect);
	/* --proto http's time to first byte is kept where fan-out's is. */
	json_hist(w, "e2e", o && (opts_fanout(o) || o->proto == PROTO_HTTP) ? r->e2e : NULL);
	/* --probe: the wire's latencies, so that shards' wire figures add up. */
	json_hist(w, "wire_latency", r->wire_probe ? &r->wire_probe->latency : NULL);
	json_seconds(w, s, o && opts_fanout(o));
	/* Fan-out: what this run's publishes owe every receiver of the whole
	 * run (a share's to all shares'): the merge's expected is their sum. */
	if (o && opts_fanout(o)) {
		json_key(w, "fanout");
		json_begin_object(w);
		json_kv_u64(w, "receivers_whole", fanout_receivers_whole(o));
		json_kv_u64(w, "owed", fanout_owed(o, &r->t));
		json_kv_u64(w, "nodes", 1 + o->n_listen);
		json_kv_bool(w, "chat", o->chat);
		json_end_object(w);
	}
	json_end_object(w);
}
