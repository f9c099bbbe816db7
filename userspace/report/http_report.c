/* The HTTP figures of a run, for the summary and the JSON report. The
 * time to first byte travels in the fan-out's end-to-end histogram
 * (r->e2e), which an HTTP run has no other use for (protocol/http.c). */
#include <inttypes.h>
#include <stdio.h>

#include "config/opts.h"
#include "report/http_report.h"
#include "report/json.h"
#include "report/report.h"

static bool is_http(const struct blast_results *r)
{
	return r->opts && r->opts->proto == PROTO_HTTP;
}

static uint64_t class_count(const struct blast_totals *t, unsigned cls)
{
	uint64_t n = 0;

	for (unsigned s = cls * 100; s < cls * 100 + 100 && s < 600; s++)
		n += t->http_resp[s];
	return n;
}

void report_http_text(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	uint64_t all = 0;

	if (!is_http(r))
		return;
	for (unsigned cls = 1; cls <= 5; cls++)
		all += class_count(t, cls);
	fprintf(f, "http         responses %" PRIu64, all);
	for (unsigned cls = 1; cls <= 5; cls++)
		if (class_count(t, cls))
			fprintf(f, "  %uxx %" PRIu64, cls, class_count(t, cls));
	fprintf(f, "  (1xx interim %" PRIu64 ", body bytes %" PRIu64 ", server closed %" PRIu64
		   ", retried %" PRIu64 ")\n", t->http_interim, t->http_body_bytes,
		t->http_server_closed, t->http_retried);
	fprintf(f, "  statuses  ");
	for (unsigned s = 0; s < 600; s++)
		if (t->http_resp[s])
			fprintf(f, " http:%u %" PRIu64 "%s", s, t->http_resp[s],
				r->opts->http_ok[s] ? "" : " (failed)");
	fprintf(f, "%s\n", all ? "" : " none");
}

void report_http_config_json(struct json_writer *w, const struct blast_opts *o)
{
	if (!o || o->proto != PROTO_HTTP)
		return;
	json_kv_string(w, "http_method", o->http_method);
	json_kv_u64(w, "pipeline", o->pipeline);
	json_kv_bool(w, "no_keepalive", o->no_keepalive);
	json_kv_double3(w, "think_time_s", (double)o->think_ns / 1e9);
	json_kv_string(w, "ok_status", o->ok_status ? o->ok_status : "");
	json_kv_u64(w, "max_body", o->max_body);
	json_kv_bool(w, "http_body", o->http_body);
}

void report_http_json(struct json_writer *w, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	char key[16];
	uint64_t all = 0;

	if (!is_http(r))
		return;
	json_key(w, "http");
	json_begin_object(w);
	json_key(w, "status");
	json_begin_object(w);
	for (unsigned s = 0; s < 600; s++)
		if (t->http_resp[s]) {
			snprintf(key, sizeof(key), "http:%u", s);
			json_kv_u64(w, key, t->http_resp[s]);
			all += t->http_resp[s];
		}
	json_end_object(w);
	json_key(w, "class");
	json_begin_object(w);
	for (unsigned cls = 1; cls <= 5; cls++)
		if (class_count(t, cls)) {
			snprintf(key, sizeof(key), "%uxx", cls);
			json_kv_u64(w, key, class_count(t, cls));
		}
	json_end_object(w);
	json_kv_u64(w, "responses", all);
	json_kv_u64(w, "interim", t->http_interim);
	json_kv_u64(w, "body_bytes", t->http_body_bytes);
	report_json_latency(w, "ttfb_us", r->e2e);
	json_kv_u64(w, "server_closed", t->http_server_closed);
	json_kv_u64(w, "retried", t->http_retried);
	json_kv_string(w, "ok_status", r->opts->ok_status ? r->opts->ok_status : "");
	json_end_object(w);
}
