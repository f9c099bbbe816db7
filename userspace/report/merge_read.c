/* The reports `blast merge` reads (see merge_read.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/http_ok.h"
#include "config/version.h"
#include "report/exact.h"
#include "report/json_read.h"
#include "report/merge_read.h"

#define MERGE_MAX_SECONDS (7 * 24 * 3600)

static int bad(const char *path, const char *what)
{
	fprintf(stderr, "blast merge: %s: %s\n", path, what);
	return BLAST_EXIT_USAGE;
}

/* A string member's bytes (no escapes expected: names, base64); false
 * when absent, not a string, or escaped. */
static bool str_of(const struct json_val *o, const char *key, const char **p, size_t *len)
{
	struct json_val v;

	if (!json_member(o, key, &v) || json_type_of(&v) != JSON_STRING || v.len < 2)
		return false;
	*p = v.p + 1;
	*len = v.len - 2;
	return memchr(*p, '\\', *len) == NULL;
}

static uint64_t u64_of(const struct json_val *o, const char *key)
{
	struct json_val v;
	uint64_t x = 0;

	if (json_member(o, key, &v))
		json_as_u64(&v, &x);
	return x;
}

static double dbl_of(const struct json_val *o, const char *key)
{
	struct json_val v;
	double x = 0;

	if (json_member(o, key, &v))
		json_as_double(&v, &x);
	return x;
}

/* One exact histogram into dst: -EINVAL when damaged. */
static int add_hist(const struct json_val *ex, const char *key, struct hist *dst, struct hist *tmp)
{
	struct json_val v;
	const char *b;
	size_t len;

	if (!json_member(ex, key, &v) || json_type_of(&v) == JSON_NULL)
		return 0;
	if (!str_of(&v, "hdr", &b, &len) || exact_hist_parse(b, len, tmp))
		return -EINVAL;
	uint64_t min = u64_of(&v, "min_ns"), max = u64_of(&v, "max_ns");
	if (tmp->total) {
		/* The exact extremes, where they agree with the buckets. */
		if (hist_index((int64_t)min) == hist_index(tmp->min))
			tmp->min = (int64_t)min;
		if (hist_index((int64_t)max) == hist_index(tmp->max))
			tmp->max = (int64_t)max;
		tmp->clamped = u64_of(&v, "clamped");
	}
	hist_add(dst, tmp);
	return 0;
}

static struct msec *sec_at(struct merge *m, uint64_t sec)
{
	for (size_t i = m->n_secs; i-- > 0;)
		if (m->secs[i].sec == sec)
			return &m->secs[i];
	if (m->n_secs >= MERGE_MAX_SECONDS)
		return NULL;
	struct msec *s = realloc(m->secs, (m->n_secs + 1) * sizeof(*s));
	if (!s)
		return NULL;
	m->secs = s;
	s = &s[m->n_secs];
	memset(s, 0, sizeof(*s));
	s->sec = sec;
	s->h = hist_new();
	if (!s->h)
		return NULL;
	m->n_secs++;
	return s;
}

/* Each second of one report into the merge, by its wall-clock second. */
static int add_seconds(struct merge *m, const char *path, const struct json_val *ex, struct hist *tmp)
{
	struct json_val arr, it;

	if (!json_member(ex, "seconds", &arr) || json_type_of(&arr) != JSON_ARRAY)
		return bad(path, "exact.seconds is missing");
	/* Walk the array: each element's span, then the next after a comma. */
	const char *p = arr.p + 1, *end = arr.p + arr.len - 1;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ','))
			p++;
		if (p >= end)
			break;
		char err[80];
		/* An element is an object: find its end by reading it alone. */
		int depth = 0;
		const char *q = p;
		bool in_str = false;
		for (; q < end; q++) {
			if (in_str) {
				if (*q == '\\')
					q++;
				else if (*q == '"')
					in_str = false;
			} else if (*q == '"') {
				in_str = true;
			} else if (*q == '{') {
				depth++;
			} else if (*q == '}' && --depth == 0) {
				q++;
				break;
			}
		}
		if (json_read(p, (size_t)(q - p), &it, err, sizeof(err)) || json_type_of(&it) != JSON_OBJECT)
			return bad(path, "exact.seconds holds something else than seconds");
		p = q;
		uint64_t start = u64_of(&it, "start_ms");
		struct msec *s = sec_at(m, (start + 500) / 1000);
		if (!s)
			return bad(path, "too many seconds (or out of memory)");
		struct series_row *r = &s->row;
		r->sent += u64_of(&it, "sent");
		r->acked += u64_of(&it, "acked");
		r->failed += u64_of(&it, "failed");
		r->unacked += u64_of(&it, "unacked");
		r->errors += u64_of(&it, "errors");
		r->inflight += u64_of(&it, "inflight");
		r->conns_up += u64_of(&it, "conns_up");
		r->cpu_ns += u64_of(&it, "cpu_ns");
		r->late_ns += u64_of(&it, "late_ns");
		r->window_ns += u64_of(&it, "window_ns");
		r->socket_ns += u64_of(&it, "socket_ns");
		r->received += u64_of(&it, "received");
		r->matched += u64_of(&it, "matched");
		r->share_receipts += u64_of(&it, "share_receipts");
		struct json_val pv;
		r->publishing |= json_member(&it, "publishing", &pv) && json_type_of(&pv) == JSON_TRUE;
		double len = dbl_of(&it, "len_s");
		if (len > r->len_s)
			r->len_s = len;
		int64_t mx = (int64_t)u64_of(&it, "max_ns");
		const char *b;
		size_t blen;
		if (str_of(&it, "hdr", &b, &blen)) {
			if (exact_hist_parse(b, blen, tmp))
				return bad(path, "a second's histogram is damaged");
			if (tmp->total && hist_index(mx) == hist_index(tmp->max))
				tmp->max = mx;
			hist_add(s->h, tmp);
		}
	}
	return 0;
}

static bool bool_of(const struct json_val *o, const char *key)
{
	struct json_val v;

	return json_member(o, key, &v) && json_type_of(&v) == JSON_TRUE;
}

/* --proto http: the settings its summary shows, and which statuses
 * counted as acked ("2xx,3xx,404", as the report wrote --ok-status). */
static void take_http_config(struct blast_opts *o, const struct json_val *c)
{
	const char *p;
	size_t len;

	if (str_of(c, "http_method", &p, &len)) {
		free(o->http_method);
		o->http_method = strndup(p, len);
	}
	o->pipeline = (uint32_t)u64_of(c, "pipeline");
	o->no_keepalive = bool_of(c, "no_keepalive");
	o->think_ns = (uint64_t)(dbl_of(c, "think_time_s") * 1e9);
	o->max_body = u64_of(c, "max_body");
	o->http_body = bool_of(c, "http_body");
	if (!str_of(c, "ok_status", &p, &len))
		return;
	free(o->ok_status);
	o->ok_status = strndup(p, len);
	http_ok_parse(p, len, o->http_ok); /* as the run read it: it wrote what it took */
}

/* Fan-out: the settings the summary shows and fanout_expected (the
 * seconds' expected) needs, with --publishers and --subscribers (or
 * --listeners) the whole run's (taken with the shard's whole). */
static void take_fanout(struct blast_opts *o, const struct json_val *root, const struct json_val *fo)
{
	struct json_val c;
	const char *p;
	size_t len;

	o->chat = bool_of(fo, "chat");
	uint64_t nodes = u64_of(fo, "nodes");
	o->n_listen = nodes > 1 && nodes < 1000 ? (uint32_t)nodes - 1 : 0;
	if (!json_member(root, "config", &c))
		return;
	o->sub_qos = (uint8_t)u64_of(&c, "sub_qos");
	if (str_of(&c, "sub_topic", &p, &len)) {
		free(o->sub_topic);
		o->sub_topic = strndup(p, len);
	}
	if (!o->sub_topic)
		o->sub_topic = strdup("#"); /* escaped in the report: a fan-out run all the same */
}

/* The whole run's settings from the first report's config: the figures a
 * summary and a page show. Shares add up to the whole. */
static void take_config(struct merge *m, const struct json_val *root)
{
	struct json_val c, v;
	struct blast_opts *o = &m->o;
	const char *p;
	size_t len;

	if (!json_member(root, "config", &c))
		return;
	o->proto = !strcmp(m->proto, "kafka") ? PROTO_KAFKA : !strcmp(m->proto, "ws") ? PROTO_WS :
		   !strcmp(m->proto, "http") ? PROTO_HTTP : PROTO_MQTT;
	o->qos = (uint8_t)u64_of(&c, "qos");
	o->inflight = (uint32_t)u64_of(&c, "inflight");
	o->payload_size = (uint32_t)u64_of(&c, "payload_size");
	o->keepalive = (uint16_t)u64_of(&c, "keepalive");
	o->duration_ns = (uint64_t)(dbl_of(&c, "duration_s") * 1e9);
	o->drain_timeout_ns = (uint64_t)(dbl_of(&c, "drain_timeout_s") * 1e9);
	o->mqtt_version = json_member(&c, "mqtt_version", &v) && json_string_eq(&v, "5") ? 5 : 4;
	o->acks = 1;
	if (str_of(&c, "topic", &p, &len))
		o->topic = strndup(p, len);
	if (str_of(&c, "client_id", &p, &len))
		o->client_id = strndup(p, len);
	o->has_messages = json_member(&c, "messages", &v) && json_type_of(&v) == JSON_NUMBER;
	if (o->proto == PROTO_HTTP)
		take_http_config(o, &c);
}

/* --probe's figures: counts summed, the wire's latencies added bucket by
 * bucket, the mean smoothed RTT weighted by flows, the largest kept. */
static int add_wire(struct merge *m, const struct json_val *root, const struct json_val *ex)
{
	struct json_val w, h;
	const char *src;
	size_t len;

	if (!json_member(root, "wire", &w) || !str_of(&w, "source", &src, &len) ||
	    len != strlen("probe") || memcmp(src, "probe", len) ||
	    !json_member(ex, "wire_latency", &h) || json_type_of(&h) == JSON_NULL)
		return 0;
	struct wire_stats *s = m->wire;
	s->source = WIRE_PROBE;
	s->requests += u64_of(&w, "requests");
	s->acks += u64_of(&w, "acks");
	s->unmatched += u64_of(&w, "unmatched");
	s->unparsed += u64_of(&w, "unparsed");
	s->retransmits += u64_of(&w, "retransmits");
	s->retrans_real += u64_of(&w, "retransmits_real");
	s->retrans_tlp += u64_of(&w, "retransmits_tlp");
	s->retrans_dsack += u64_of(&w, "retransmits_dsack");
	s->bytes_out += u64_of(&w, "bytes_out");
	s->bytes_in += u64_of(&w, "bytes_in");
	s->segs_out += u64_of(&w, "segments_out");
	s->segs_in += u64_of(&w, "segments_in");
	uint64_t flows = u64_of(&w, "flows"), max = u64_of(&w, "srtt_us_max");
	s->flows += flows;
	m->srtt_weighted += u64_of(&w, "srtt_us_mean") * flows;
	s->srtt_us_mean = s->flows ? m->srtt_weighted / s->flows : 0;
	s->srtt_us_max = max > s->srtt_us_max ? max : s->srtt_us_max;
	m->wire_reports++;
	return add_hist(ex, "wire_latency", &s->latency, m->tmp);
}

/* One report into the merge. */
int merge_add(struct merge *m, const char *path, const char *buf, size_t len)
{
	struct json_val root, v, ex, c;
	struct hist *tmp = m->tmp;
	char err[200];
	const char *p;
	size_t plen;

	if (json_read(buf, len, &root, err, sizeof(err)) || json_type_of(&root) != JSON_OBJECT) {
		char line[260];
		snprintf(line, sizeof(line), "not a blast report (%s)", err);
		return bad(path, line);
	}
	if (!str_of(&root, "version", &p, &plen) || plen >= sizeof(m->version))
		return bad(path, "no version (not a report of blast --report?)");
	char ver[64], proto[16];
	snprintf(ver, sizeof(ver), "%.*s", (int)plen, p);
	if (!str_of(&root, "proto", &p, &plen) || plen >= sizeof(proto))
		return bad(path, "no proto (not a report of blast --report?)");
	snprintf(proto, sizeof(proto), "%.*s", (int)plen, p);
	if (!m->n) {
		strcpy(m->version, ver);
		strcpy(m->proto, proto);
		m->first = path;
		if (strcmp(ver, "blast " BLAST_VERSION)) {
			fprintf(stderr, "blast merge: %s is from %s, this is blast %s: merge it with "
					"the version that wrote it\n", path, ver, BLAST_VERSION);
			return BLAST_EXIT_USAGE;
		}
	} else if (strcmp(ver, m->version)) {
		fprintf(stderr, "blast merge: %s is from %s, %s from %s: runs of different versions "
				"do not merge\n", m->first, m->version, path, ver);
		return BLAST_EXIT_USAGE;
	} else if (strcmp(proto, m->proto)) {
		fprintf(stderr, "blast merge: %s ran %s, %s ran %s: runs of different protocols "
				"do not merge\n", m->first, m->proto, path, proto);
		return BLAST_EXIT_USAGE;
	}
	if (json_member(&root, "trials", &v))
		return bad(path, "--find-limit runs do not merge (yet): only runs of fixed load");
	if (!json_member(&root, "exact", &ex) || json_type_of(&ex) != JSON_OBJECT)
		return bad(path, "no exact figures (written without --report by a blast before merge?)");
	bool fan = json_member(&root, "e2e_latency_us", &v);
	struct json_val fo;
	if (fan && (!json_member(&ex, "fanout", &fo) || json_type_of(&fo) != JSON_OBJECT))
		return bad(path, "a fan-out run without exact.fanout (from a blast before fan-out merged?)");
	if (m->n && fan != m->fan)
		return bad(path, "a fan-out run and a publishing run do not merge");
	struct blast_totals t;
	if (!str_of(&ex, "totals", &p, &plen) || u64_of(&ex, "totals_size") != sizeof(t) ||
	    exact_totals_parse(p, plen, &t))
		return bad(path, "exact.totals is damaged");
	if (json_member(&root, "shard", &v)) {
		uint64_t i = u64_of(&v, "index"), n = u64_of(&v, "count");
		if (m->n && n != m->shards)
			return bad(path, "its run was split another number of ways than the first's");
		if (!m->shard_seen && !(m->shard_seen = calloc(n ? n : 1, sizeof(bool))))
			return bad(path, "out of memory");
		if (i >= n || m->shard_seen[i]) {
			snprintf(err, sizeof(err), "shard %llu/%llu is given twice", (unsigned long long)i,
				 (unsigned long long)n);
			return bad(path, err);
		}
		m->shard_seen[i] = true;
		m->shards = n;
		struct json_val wh;
		if (!m->n && json_member(&v, "whole", &wh)) {
			m->o.conns = (uint32_t)u64_of(&wh, "conns");
			m->o.rate = u64_of(&wh, "rate");
			m->o.messages = u64_of(&wh, "messages");
			m->o.publishers = (uint32_t)u64_of(&wh, "publishers");
			/* Receivers per node: --listeners (ws) or --subscribers. */
			if (!strcmp(proto, "ws"))
				m->o.listeners = (uint32_t)u64_of(&wh, "receivers");
			else
				m->o.subscribers = (uint32_t)u64_of(&wh, "receivers");
		}
	} else if (m->shards) {
		return bad(path, "not a shard (--shard) while the first report is");
	}
	if (add_hist(&ex, "latency", m->lat, tmp) || add_hist(&ex, "latency_uncorrected", m->raw, tmp) ||
	    add_hist(&ex, "connect", m->con, tmp) || add_hist(&ex, "e2e", m->e2e, tmp))
		return bad(path, "a histogram in exact is damaged");
	if (add_wire(m, &root, &ex))
		return bad(path, "its wire figures are damaged");
	int r = add_seconds(m, path, &ex, tmp);
	if (r)
		return r;
	totals_add(&m->t, &t);
	if (!m->n)
		take_config(m, &root);
	if (!m->shards && json_member(&root, "config", &c)) {
		m->o.conns += (uint32_t)u64_of(&c, "conns");
		m->o.rate += u64_of(&c, "rate");
		m->o.messages += u64_of(&c, "messages");
		m->o.publishers += (uint32_t)u64_of(&c, "publishers");
		m->o.subscribers += (uint32_t)u64_of(&c, "subscribers");
		m->o.listeners += (uint32_t)u64_of(&c, "listeners");
	}
	if (fan) {
		m->fan = true;
		m->fan_owed += u64_of(&fo, "owed");
		if (!m->n)
			take_fanout(&m->o, &root, &fo);
	}
	if (json_member(&root, "config", &c))
		m->o.workers += (uint32_t)u64_of(&c, "workers");
	double from = dbl_of(&ex, "publish_start_ms");
	if (from > 0 && (!m->pub_from_ms || from < m->pub_from_ms))
		m->pub_from_ms = from;
	double first = dbl_of(&ex, "first_send_ms");
	if (first > 0 && (!m->first_send_ms || first < m->first_send_ms))
		m->first_send_ms = first;
	double to = from + dbl_of(&root, "publish_s") * 1e3, end = from + dbl_of(&root, "duration_s") * 1e3;
	m->pub_to_ms = to > m->pub_to_ms ? to : m->pub_to_ms;
	m->end_ms = end > m->end_ms ? end : m->end_ms;
	m->peak += u64_of(&root, "peak_conns");
	m->rss += u64_of(&root, "rss_bytes");
	uint64_t es = u64_of(&root, "exit_status");
	m->exit_status = (int)es > m->exit_status ? (int)es : m->exit_status;
	/* The most telling reason wins, as between a run's workers. */
	static const char *const stops[] = { "signal", "all_connections_lost", "acks_stalled",
					      "duration", "messages" };
	for (unsigned k = 0; k < 5; k++)
		if (json_member(&root, "stop_reason", &v) && json_string_eq(&v, stops[k])) {
			unsigned cur = 5;
			for (unsigned j = 0; j < 5; j++)
				if (m->stop_reason && !strcmp(m->stop_reason, stops[j]))
					cur = j;
			if (k < cur)
				m->stop_reason = stops[k];
		}
	m->n++;
	return 0;
}

int merge_init(struct merge *m)
{
	memset(m, 0, sizeof(*m));
	m->lat = hist_new();
	m->raw = hist_new();
	m->con = hist_new();
	m->e2e = hist_new();
	m->tmp = hist_new();
	m->wire = calloc(1, sizeof(*m->wire)); /* zeroed: its histogram's pages stay untouched */
	if (m->wire)
		m->wire->latency.min = INT64_MAX; /* empty */
	return m->lat && m->raw && m->con && m->e2e && m->tmp && m->wire ? 0 : -ENOMEM;
}

void merge_free(struct merge *m)
{
	for (size_t i = 0; i < m->n_secs; i++)
		free(m->secs[i].h);
	free(m->secs);
	free(m->lat);
	free(m->raw);
	free(m->con);
	free(m->e2e);
	free(m->tmp);
	free(m->wire);
	free(m->shard_seen);
	free(m->o.topic);
	free(m->o.sub_topic);
	free(m->o.client_id);
	free(m->o.http_method);
	free(m->o.ok_status);
	free(m->o.report_path);
	free(m->o.csv_path);
	free(m->o.hlog_path);
	free(m->o.html_path);
}

