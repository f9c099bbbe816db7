/* End-of-run output: the summary table on stdout and the JSON report. Both
 * read only struct blast_results, so they can be tested without a run. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/http_report.h"
#include "report/diagnosis.h"
#include "report/exact.h"
#include "report/json.h"
#include "encoders/kafka.h"
#include "limit/limit.h"
#include "encoders/mqtt.h"
#include "config/names.h"
#include "config/opts.h"
#include "report/report.h"
#include "report/files.h"
#include "report/status.h"
#include "report/wire.h"
#include "stats/fanout.h"
#include "stats/verdict.h"

#define KEY_CAP 96

struct err_entry {
	char key[KEY_CAP];
	uint64_t n;
};

const char *report_error_key(char *buf, size_t cap, const char *kind, unsigned code, int mqtt_version)
{
	if (!cap)
		return buf;
	if (!kind || !strcmp(kind, "error")) {
		if (code < ERR__COUNT && blast_err_names[code])
			snprintf(buf, cap, "%s", blast_err_names[code]);
		else
			snprintf(buf, cap, "error_%u", code);
	} else if (!strcmp(kind, "connack")) {
		snprintf(buf, cap, "connack:%s",
			 mqtt_connack_name((enum mqtt_version)mqtt_version, (uint8_t)code));
	} else {
		snprintf(buf, cap, "%s:%s", kind, mqtt_reason_name((uint8_t)code));
	}
	return buf;
}

static void add_entry(struct err_entry *e, size_t *n, const char *key, uint64_t count)
{
	/* Several codes can share a name ("reason_unknown"); one key each. */
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(e[i].key, key)) {
			e[i].n += count;
			return;
		}
	}
	snprintf(e[*n].key, KEY_CAP, "%s", key);
	e[*n].n = count;
	(*n)++;
}

/* Every non-zero error counter as (key, count), in a fixed order: transport
 * errors, CONNACK refusals, PUBACK reasons, DISCONNECT reasons. Returns the
 * entry count and *out (free it), or -ENOMEM. */
static int collect_errors(const struct blast_totals *t, int ver, struct err_entry **out)
{
	struct err_entry *e = calloc(ERR__COUNT + 4 * 256 + KAFKA_ERR_SLOTS + 2 * 600 + WS_CLOSE_SLOTS,
				     sizeof(*e));
	char key[KEY_CAP];
	size_t n = 0;

	if (!e)
		return -ENOMEM;
	for (unsigned i = 0; i < ERR__COUNT; i++)
		if (t->errors[i])
			add_entry(e, &n, report_error_key(key, sizeof(key), NULL, i, ver), t->errors[i]);
	for (unsigned i = 1; i < 256; i++)
		if (t->connack[i])
			add_entry(e, &n, report_error_key(key, sizeof(key), "connack", i, ver),
				  t->connack[i]);
	for (unsigned i = 0; i < 256; i++)
		if (t->pub_reason[i])
			add_entry(e, &n, report_error_key(key, sizeof(key), "puback", i, ver),
				  t->pub_reason[i]);
	for (unsigned i = 0; i < 256; i++)
		if (t->disconnect[i])
			add_entry(e, &n, report_error_key(key, sizeof(key), "disconnect", i, ver),
				  t->disconnect[i]);
	/* Kafka errors by the Java client's names, e.g. NOT_LEADER_OR_FOLLOWER. */
	for (unsigned i = 0; i < KAFKA_ERR_SLOTS; i++)
		if (t->kafka_error[i])
			add_entry(e, &n, kafka_error_name((int16_t)((int)i - 1)), t->kafka_error[i]);
	/* HTTP: statuses --ok-status does not accept, "http:503". */
	for (unsigned i = 0; i < 600; i++)
		if (t->http_refused[i]) {
			snprintf(key, sizeof(key), "http:%u", i);
			add_entry(e, &n, key, t->http_refused[i]);
		}
	/* WebSocket: "upgrade_refused:400", "ws_close:1001" (ws_close:other past 1030). */
	for (unsigned i = 0; i < 600; i++)
		if (t->http_status[i]) {
			snprintf(key, sizeof(key), "upgrade_refused:%u", i);
			add_entry(e, &n, key, t->http_status[i]);
		}
	for (unsigned i = 0; i < WS_CLOSE_SLOTS; i++)
		if (t->ws_close[i]) {
			if (i == WS_CLOSE_SLOTS - 1)
				snprintf(key, sizeof(key), "ws_close:other");
			else
				snprintf(key, sizeof(key), "ws_close:%u", 1000 + i);
			add_entry(e, &n, key, t->ws_close[i]);
		}
	/* MQTT fan-out: refused subscriptions, "suback:not_authorized" (MQTT
	 * 5 reason names) or "suback:failure" (3.1.1 has the one code 0x80). */
	for (unsigned i = 0x80; i < 256; i++)
		if (t->suback[i]) {
			if (ver == 4)
				snprintf(key, sizeof(key), "suback:failure");
			else
				report_error_key(key, sizeof(key), "suback", i, ver);
			add_entry(e, &n, key, t->suback[i]);
		}
	*out = e;
	return (int)n;
}

void report_each_error(const struct blast_totals *t, int mqtt_version,
		       void (*fn)(const char *key, uint64_t n, void *arg), void *arg)
{
	struct err_entry *e = NULL;
	int n = collect_errors(t, mqtt_version, &e);

	for (int i = 0; i < n; i++)
		fn(e[i].key, e[i].n, arg);
	free(e);
}

static const char *version_name(const struct blast_opts *o, char *buf, size_t cap)
{
	if (!o || o->mqtt_version == MQTT_V311)
		return "3.1.1";
	if (o->mqtt_version == MQTT_V5)
		return "5";
	snprintf(buf, cap, "%u", o->mqtt_version);
	return buf;
}

static int mqtt_ver(const struct blast_results *r)
{
	return r->opts ? r->opts->mqtt_version : MQTT_V311;
}

static const char *target_str(char *buf, size_t cap, const struct blast_target *t)
{
	/* IPv6 literals need brackets to keep the port readable. */
	if (strchr(t->host, ':'))
		snprintf(buf, cap, "[%s]:%u", t->host, t->port);
	else
		snprintf(buf, cap, "%s:%u", t->host, t->port);
	return buf;
}

/* What carries the protocol, said in the header: MQTT over WebSocket
 * (a ws:// target), TLS under either, or plain TCP (nothing said). */
static const char *carrier(const struct blast_opts *o)
{
	bool ws = o && o->proto != PROTO_WS && o->n_targets && o->targets[0].ws;

	if (o && o->tls)
		return ws ? " over WebSocket over TLS" : " over TLS";
	return ws ? " over WebSocket" : "";
}

/* How the ack (and receipt) times were taken, in words. */
static void timed_by(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	const struct blast_opts *o = r->opts;
	const char *what = o && o->proto == PROTO_KAFKA ? "Kafka responses (each acks a batch)" :
			   o && opts_fanout(o) ? "acks and receipts" : "acks";

	if (!t->rx_by_segment && !t->rx_by_read && !t->rx_by_loop)
		return;
	fprintf(f, "  arrival times of %s: %" PRIu64 " from the TCP segment that completed them, %" PRIu64
		   " from the kernel's stamp of their read, %" PRIu64 " from blast's loop clock\n",
		what, t->rx_by_segment, t->rx_by_read, t->rx_by_loop);
}

/* Subscribe only: deliveries per second over the run. */
static double deliveries_rate(const struct blast_results *r)
{
	return r->duration_s > 0 ? (double)r->t.received / r->duration_s : 0;
}

static bool accounting_ok(const struct blast_totals *t)
{
	return t->sent == t->acked + t->failed + t->unacked;
}

/* ---- summary ---- */

static const char *fmt_bytes(char *buf, size_t cap, uint64_t b)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%" PRIu64 " B", b);
	else
		snprintf(buf, cap, "%.1f %s", v, unit[u]);
	return buf;
}

/* Microseconds with about four significant digits. */
static const char *fmt_us(char *buf, size_t cap, int64_t ns)
{
	double us = (double)ns / 1e3;

	if (us < 100)
		snprintf(buf, cap, "%.2f", us);
	else if (us < 10000)
		snprintf(buf, cap, "%.1f", us);
	else
		snprintf(buf, cap, "%.0f", us);
	return buf;
}

static void latency_row(FILE *f, const char *name, const struct hist *h)
{
	static const double pct[] = { 50, 90, 99, 99.9 };
	char b[32];

	fprintf(f, "  %-12s", name);
	if (!h || !h->total) {
		for (int i = 0; i < 6; i++)
			fprintf(f, " %10s", "-");
		fprintf(f, " %10d\n", 0);
		return;
	}
	fprintf(f, " %10s", fmt_us(b, sizeof(b), h->min));
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		fprintf(f, " %10s", fmt_us(b, sizeof(b), hist_percentile(h, pct[i])));
	fprintf(f, " %10s", fmt_us(b, sizeof(b), h->max));
	fprintf(f, " %10" PRIu64, h->total);
	if (h->clamped)
		fprintf(f, "  (%" PRIu64 " over 60 s, counted as 60 s)", h->clamped);
	fputc('\n', f);
}

void report_print_summary(FILE *f, const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;
	const struct blast_totals *t = &r->t;
	char b1[64], b2[64];

	if (o && o->proto == PROTO_WS) {
		fprintf(f, "blast %s  WebSocket  %u publisher(s), %u listener(s) on each of %u node(s)  ->",
			BLAST_VERSION, o->publishers, o->listeners, 1 + o->n_listen);
	} else if (o && o->proto == PROTO_HTTP) {
		fprintf(f, "blast %s  http  %s  pipeline %u%s%s  ->", BLAST_VERSION, o->http_method,
			o->pipeline, o->no_keepalive ? "  no keep-alive" : "", o->tls ? "  TLS" : "");
	} else if (o && o->proto == PROTO_KAFKA) {
		fprintf(f, "blast %s  kafka  topic %s  acks %s%s%s%s%s  ->", BLAST_VERSION, o->topic,
			name_of(acks_names, o->acks),
			o->compression ? "  gzip" : "", o->tls ? "  tls" : "",
			o->sasl_mech ? "  sasl " : "",
			o->sasl_mech ? name_of(sasl_mech_names, o->sasl_mech) : "");
	} else {
		fprintf(f, "blast %s  %s %s%s", BLAST_VERSION, opts_proto_name(o),
			version_name(o, b1, sizeof(b1)), carrier(o));
		if (o)
			fprintf(f, "  qos %u", o->qos);
		if (o && opts_fanout(o))
			fprintf(f, "  %u publisher(s), %u subscriber(s) on each of %u node(s), "
				   "%s subscribed to %s%s at qos %u",
				o->publishers, o->subscribers, 1 + o->n_listen,
				o->chat ? "all" : "subscribers", o->sub_topic,
				o->n_sub_topics > 1 ? " (and more)" : "", o->sub_qos);
		if (o)
			fprintf(f, "  ->");
	}
	if (o) {
		for (unsigned i = 0; i < o->n_targets && i < 4; i++)
			fprintf(f, " %s", target_str(b1, sizeof(b1), &o->targets[i]));
		if (o->n_targets > 4)
			fprintf(f, " (+%u more)", o->n_targets - 4);
	}
	fputc('\n', f);

	char why[320];
	bool ok = report_status(r, why, sizeof(why));
	fprintf(f, "status       %s (exit status %d): %s\n", ok ? "OK" : "FAILED", r->exit_status, why);
	if (r->n_trials)
		fprintf(f, "duration     %.3f s (publishing %.3f s) in the answer's trial; the search "
			   "ended: %s\n", r->duration_s, r->publish_s,
			report_search_end_words(r->stop_reason));
	else
		fprintf(f, "duration     %.3f s (publishing %.3f s), stopped by %s\n", r->duration_s,
			r->publish_s, r->stop_reason ? r->stop_reason : "unknown");
	fprintf(f, "connections  ok %" PRIu64 "  failed %" PRIu64 "  dropped %" PRIu64
		   "  (peak %" PRIu64 ", reconnects %" PRIu64,
		t->conns_ok, t->conns_failed, t->conns_dropped, r->peak_conns, t->reconnects);
	if (r->all_up_s > 0)
		fprintf(f, ", all tried %.2f s after launch", r->all_up_s);
	fprintf(f, ")\n");
	fprintf(f, "messages     sent %" PRIu64 "  acked %" PRIu64 "  failed %" PRIu64
		   "  unacked %" PRIu64 "  not sent %" PRIu64 "\n",
		t->sent, t->acked, t->failed, t->unacked, t->not_sent);
	if (accounting_ok(t))
		fprintf(f, "accounting   sent = acked + failed + unacked: OK\n");
	else
		fprintf(f, "accounting   sent = acked + failed + unacked: MISMATCH "
			   "(%" PRIu64 " != %" PRIu64 " + %" PRIu64 " + %" PRIu64 ")\n",
			t->sent, t->acked, t->failed, t->unacked);
	if (o && opts_subscribe_only(o))
		fprintf(f, "rate         %.1f deliveries/s received (publishers outside blast)",
			deliveries_rate(r));
	else
		fprintf(f, "rate         %.1f msg/s acked over %.3f s of publishing", report_acked_rate(r),
			r->publish_s > 0 ? r->publish_s : r->duration_s);
	if (o && o->rate)
		fprintf(f, " (target %" PRIu64 " msg/s)", o->rate);
	fputc('\n', f);
	fprintf(f, "bytes        out %s  in %s", fmt_bytes(b1, sizeof(b1), t->bytes_out),
		fmt_bytes(b2, sizeof(b2), t->bytes_in));
	if (r->rss_bytes)
		fprintf(f, "  (workers' peak RSS %s)", fmt_bytes(b1, sizeof(b1), r->rss_bytes));
	fputc('\n', f);

	struct err_entry *e = NULL;
	int n = collect_errors(t, mqtt_ver(r), &e);

	fprintf(f, "errors       %" PRIu64 "\n", totals_error_count(t));
	for (int i = 0; i < n; i++)
		fprintf(f, "  %-36s %" PRIu64 "\n", e[i].key, e[i].n);
	free(e);
	report_http_text(f, r);

	fprintf(f, "latency (us) %10s %10s %10s %10s %10s %10s %10s\n", "min", "p50", "p90", "p99",
		"p99.9", "max", "count");
	latency_row(f, "corrected", r->latency);
	latency_row(f, "uncorrected", r->latency_raw);
	latency_row(f, "connect", r->connect);
	/* Its stages, when the run had more than TCP to open (TLS, an upgrade). */
	if (r->stage[HS_TLS_FULL] && r->stage[HS_TLS_RESUMED] && r->stage[HS_WS_UPGRADE] &&
	    r->stage[HS_TLS_FULL]->total + r->stage[HS_TLS_RESUMED]->total +
		    r->stage[HS_WS_UPGRADE]->total) {
		static const char *const label[HS__COUNT] = {
			[HS_TCP] = " tcp", [HS_TLS_FULL] = " tls full", [HS_TLS_RESUMED] = " tls resumed",
			[HS_WS_UPGRADE] = " ws upgrade", [HS_PROTO] = " protocol",
		};
		for (unsigned k = 0; k < HS__COUNT; k++)
			latency_row(f, label[k], r->stage[k]);
	}
	timed_by(f, r);
	if (r->opts && opts_fanout(r->opts)) {
		latency_row(f, "end-to-end", r->e2e);
		uint64_t missing = r->expected > t->received ? r->expected - t->received : 0;
		if (opts_subscribe_only(r->opts))
			fprintf(f, "subscribe    received %" PRIu64 " deliveries, %.1f/s over %.3f s;"
				   " %" PRIu64 " with blast's marker timed end to end\n",
				t->received, deliveries_rate(r), r->duration_s, r->e2e ? r->e2e->total : 0);
		else
			fprintf(f, "fan-out      expected %" PRIu64 "  received %" PRIu64
				   "  missing %" PRIu64 "  duplicates %" PRIu64
				   "  send %.3f s  all received %.3f s\n",
				r->expected, t->received, missing, t->duplicates, r->send_s, r->batch_s);
	}
	if (r->n_steps) {
		fprintf(f, "steps  %10s %10s %10s %10s %10s %10s %10s %10s\n", "batch", "sent",
			"expected", "received", "total ms", "send ms", "p50 us", "p99 us");
		for (unsigned i = 0; i < r->n_steps; i++) {
			const struct step_row *st = &r->steps[i];
			fprintf(f, "       %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
				   " %10.3f %10.3f %10.1f %10.1f\n",
				st->batch, st->sent, st->expected, st->received, st->total_s * 1e3,
				st->send_s * 1e3,
				(double)st->p50_ns / 1e3, (double)st->p99_ns / 1e3);
		}
	}
	report_wire_summary(f, r);
	diagnosis_print(f, r);
	if (r->n_trials)
		limit_print(f, r);
}

/* ---- JSON ---- */

void report_json_latency(struct json_writer *w, const char *key, const struct hist *h)
{
	static const struct {
		const char *key;
		double p;
	} pct[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 } };
	bool any = h && h->total;

	json_key(w, key);
	json_begin_object(w);
	/* An empty histogram reports zeros with count 0, not nulls, so that
	 * numeric comparisons in scripts keep working. */
	json_kv_double3(w, "min", any ? (double)h->min / 1e3 : 0);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		json_kv_double3(w, pct[i].key, any ? (double)hist_percentile(h, pct[i].p) / 1e3 : 0);
	json_kv_double3(w, "max", any ? (double)h->max / 1e3 : 0);
	json_kv_double3(w, "mean", any ? hist_mean(h) / 1e3 : 0);
	json_kv_u64(w, "count", any ? h->total : 0);
	json_kv_u64(w, "clamped", any ? h->clamped : 0);
	json_end_object(w);
}

static void json_config(struct json_writer *w, const struct blast_opts *o)
{
	char buf[300];

	json_key(w, "config");
	if (!o) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_kv_string(w, "proto", opts_proto_name(o));
	/* --config: the run file as it was read, so the run can be repeated
	 * from the report alone (command-line flags replaced some of it:
	 * the settings below are what ran). */
	if (o->config_path) {
		json_kv_string(w, "config_file", o->config_path);
		json_kv_string(w, "config_file_text", o->config_text ? o->config_text : "");
	}
	json_key(w, "targets");
	json_begin_array(w);
	for (unsigned i = 0; i < o->n_targets && i < BLAST_MAX_TARGETS; i++)
		json_string(w, target_str(buf, sizeof(buf), &o->targets[i]));
	json_end_array(w);
	json_kv_u64(w, "conns", o->conns);
	json_kv_u64(w, "ramp", o->ramp);
	json_kv_u64(w, "rate", o->rate);
	json_kv_u64(w, "pace_batch_us", opts_pace_batch_run_ns(o) / 1000);
	json_kv_bool(w, "pace_batch_auto", o->pace_batch_auto);
	json_key(w, "messages");
	if (o->has_messages)
		json_u64(w, o->messages);
	else
		json_null(w); /* unlimited */
	json_kv_double3(w, "duration_s", (double)o->duration_ns / 1e9);
	json_kv_double3(w, "drain_timeout_s", (double)o->drain_timeout_ns / 1e9);
	json_kv_u64(w, "qos", o->qos);
	json_kv_u64(w, "inflight", o->inflight);
	json_kv_string(w, "topic", o->topic);
	json_kv_u64(w, "payload_size", o->payload_size);
	if (o->payloads.n)
		json_kv_u64(w, "payload_file_lines", o->payloads.n);
	json_kv_bool(w, "retain", o->retain);
	json_kv_string(w, "client_id", o->client_id);
	/* Credentials stay out of a file that gets shared; say only which kind. */
	json_kv_string(w, "auth", o->tokens.n ? "tokens" : o->password ? "username+password" :
					     o->username ? "username" : "none");
	json_kv_u64(w, "keepalive", o->keepalive);
	json_kv_string(w, "mqtt_version", version_name(o, buf, sizeof(buf)));
	json_kv_u64(w, "workers", o->workers);
	json_kv_bool(w, "reconnect", o->reconnect);
	json_kv_bool(w, "churn", o->churn);
	if (o->proto == PROTO_KAFKA) {
		json_kv_string(w, "acks", name_of(acks_names, o->acks));
		json_kv_u64(w, "batch_size", o->batch_size);
		json_kv_double3(w, "linger_ms", (double)o->linger_ns / 1e6);
		json_kv_string(w, "compression", name_of(compression_names, o->compression));
		if (o->key)
			json_kv_string(w, "key", o->key);
		json_kv_u64(w, "partitions_given", o->n_partitions);
		json_kv_u64(w, "record_headers", o->n_headers);
		json_kv_bool(w, "tls", o->tls);
		/* The mechanism only: credentials stay out of the report. */
		json_kv_string(w, "sasl_mechanism",
			       o->sasl_mech ? name_of(sasl_mech_names, o->sasl_mech) : "none");
	}
	if (o->payload_proto)
		json_kv_string(w, "payload_proto", o->payload_proto);
	report_http_config_json(w, o);
	if (opts_fanout(o)) {
		json_kv_u64(w, "publishers", o->publishers);
		json_kv_u64(w, o->proto == PROTO_WS ? "listeners" : "subscribers",
			    opts_receivers_per_node(o));
		json_kv_u64(w, "nodes", 1 + o->n_listen);
	}
	if (o->proto == PROTO_MQTT && opts_fanout(o)) {
		json_kv_string(w, "sub_topic", o->sub_topic);
		json_key(w, "sub_topics");
		json_begin_array(w);
		for (uint32_t i = 0; i < o->n_sub_topics; i++)
			json_string(w, o->sub_topics[i]);
		json_end_array(w);
		json_kv_u64(w, "sub_qos", o->sub_qos);
		json_kv_bool(w, "chat", o->chat);
		json_kv_u64(w, "share_groups", fanout_share_groups(o));
		if (o->fanout)
			json_kv_u64(w, "fanout", o->fanout);
	}
	json_end_object(w);
}

/* --find-limit conns: the highest connect rate held, null when none. */
static void json_connect_rate(struct json_writer *w, const struct blast_results *r)
{
	unsigned a = r->limit_rate_trial;
	const char *end = r->limit_rate_ended ? r->limit_rate_ended : "";

	json_key(w, "connect_rate");
	if (!a || a > r->n_trials || !r->trials[a - 1].conn_rate) {
		json_null(w);
		return;
	}
	const struct limit_trial *t = &r->trials[a - 1];
	json_begin_object(w);
	json_kv_u64(w, "rate", t->offered);
	json_kv_double3(w, "achieved", t->achieved);
	json_kv_u64(w, "conns", t->conns);
	json_kv_u64(w, "trial", a);
	json_kv_bool(w, "confirmed", !strcmp(end, "confirmed") || !strcmp(end, "ceiling"));
	report_json_latency(w, "latency_us", r->limit_rate_connect);
	json_end_object(w);
}

/* A rate trial: blast's settings, its verdict on its own bottleneck, and
 * what the search did about a failure that was the client's. */
static void json_trial_client(struct json_writer *w, const struct limit_trial *t)
{
	json_kv_u64(w, "inflight", t->inflight);
	json_kv_u64(w, "workers", t->workers);
	report_json_trial_verdict(w, t);
}

/* The rate answer: whose limit it is (the failed trial that bounds it),
 * and the window and workers it ran with. */
static void json_bound(struct json_writer *w, const struct blast_results *r,
		       const struct limit_trial *a)
{
	unsigned b = r->limit_bound_trial;
	char line[640];

	json_kv_u64(w, "inflight", a->inflight);
	json_kv_u64(w, "workers", a->workers);
	json_kv_bool(w, "client_bound", limit_client_bound(r));
	json_key(w, "bound");
	if (!limit_bound_line(line, sizeof(line), r)) {
		json_null(w);
		return;
	}
	const struct limit_trial *t = &r->trials[b - 1];
	json_begin_object(w);
	json_kv_u64(w, "trial", b); /* from 1, as every trial number */
	json_kv_u64(w, "offered", t->offered);
	json_kv_string(w, "bottleneck", bottleneck_name(t->bottleneck));
	json_kv_string(w, "evidence", t->evidence);
	json_kv_string(w, "says", line);
	json_end_object(w);
}

/* --find-limit: every trial, the answer (null when none), the settings. */
static void json_limit(struct json_writer *w, const struct blast_results *r)
{
	const struct blast_opts *o = r->opts;
	const struct limit_cfg *cfg = &o->limit;
	bool conns = cfg->mode == LIMIT_CONNS;

	json_key(w, "trials");
	json_begin_array(w);
	for (unsigned i = 0; i < r->n_trials; i++) {
		const struct limit_trial *t = &r->trials[i];
		json_begin_object(w);
		json_kv_u64(w, "trial", i + 1);
		json_kv_u64(w, "offered", t->offered);
		json_kv_double3(w, "achieved", t->achieved);
		json_kv_double3(w, "acked_rate", t->acked_rate);
		json_kv_double3(w, "duration_s", t->duration_s);
		json_kv_u64(w, "sent", t->sent);
		json_kv_u64(w, "acked", t->acked);
		json_kv_u64(w, "failed", t->failed);
		json_kv_u64(w, "unacked", t->unacked);
		json_kv_u64(w, "not_sent", t->not_sent);
		json_kv_double3(w, "p50_us", (double)t->p50_ns / 1e3);
		json_kv_double3(w, "p99_us", (double)t->p99_ns / 1e3);
		json_kv_double3(w, "p999_us", (double)t->p999_ns / 1e3);
		/* Wire figures come from the probe: null, not 0, without it. */
		json_key(w, "retransmits");
		if (o->probe)
			json_u64(w, t->retransmits);
		else
			json_null(w);
		json_key(w, "srtt_us");
		if (o->probe)
			json_u64(w, t->srtt_us);
		else
			json_null(w);
		if (conns) {
			json_kv_string(w, "stage", t->conn_rate ? "connect_rate" : "conns");
			json_kv_u64(w, "conns", t->conns);
		}
		json_kv_bool(w, "pass", t->pass);
		json_kv_string(w, "why", t->why);
		if (!conns)
			json_trial_client(w, t);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "limit");
	if (r->limit_trial < 0 || (unsigned)r->limit_trial >= r->n_trials) {
		json_null(w);
	} else {
		const struct limit_trial *a = &r->trials[r->limit_trial];
		const char *end = r->stop_reason ? r->stop_reason : "";
		json_begin_object(w);
		json_kv_string(w, "mode", conns ? "conns" : "rate");
		/* rate: msg/s; conns: connections opened per second. */
		json_kv_double3(w, "rate", conns ? a->acked_rate : (double)a->offered);
		if (conns)
			json_kv_u64(w, "conns", a->offered);
		json_kv_u64(w, "trial", (uint64_t)r->limit_trial + 1);
		json_kv_bool(w, "confirmed", !strcmp(end, "confirmed") || !strcmp(end, "ceiling"));
		json_kv_double3(w, "acked_rate", a->acked_rate);
		report_json_latency(w, "latency_us", conns ? r->connect : o->proto == PROTO_WS ? r->e2e : r->latency);
		if (conns)
			json_connect_rate(w, r);
		else
			json_bound(w, r, a);
		json_end_object(w);
	}
	json_key(w, "search");
	json_begin_object(w);
	json_kv_string(w, "mode", conns ? "conns" : "rate");
	json_kv_string(w, "ended", r->stop_reason ? r->stop_reason : "unknown");
	json_key(w, "slo_us");
	json_begin_object(w);
	for (unsigned i = 0; i < cfg->n_slo; i++)
		json_kv_double3(w, limit_slo_name(cfg->slo[i].key), (double)cfg->slo[i].ns / 1e3);
	json_end_object(w);
	if (cfg->loss_is_frac)
		json_kv_double(w, "max_loss_fraction", cfg->max_loss_frac);
	else
		json_kv_u64(w, "max_loss", cfg->max_loss);
	json_kv_double3(w, "trial_duration_s", (double)cfg->trial_ns / 1e9);
	json_kv_double3(w, "search_timeout_s", (double)cfg->timeout_ns / 1e9);
	json_kv_u64(w, "ceiling", cfg->ceiling);
	if (conns)
		json_kv_string(w, "connect_rate_ended", r->limit_rate_ended ? r->limit_rate_ended : "unknown");
	json_end_object(w);
}

int report_write_json_stream(FILE *f, const struct blast_results *r)
{
	const struct blast_totals *t = &r->t;
	struct json_writer w;
	struct err_entry *e = NULL;
	int n = collect_errors(t, mqtt_ver(r), &e);

	if (n < 0)
		return n;
	json_init(&w, f, true);
	json_begin_object(&w);
	json_kv_string(&w, "version", "blast " BLAST_VERSION);
	json_kv_string(&w, "proto", opts_proto_name(r->opts));
	json_kv_string(&w, "stop_reason", r->stop_reason ? r->stop_reason : "unknown");
	json_kv_i64(&w, "exit_status", r->exit_status);
	json_kv_double3(&w, "duration_s", r->duration_s);
	json_kv_double3(&w, "publish_s", r->publish_s);
	json_key(&w, "startup");
	json_begin_object(&w);
	json_kv_double3(&w, "to_schedule_ms", r->startup_s * 1e3);
	json_kv_double3(&w, "to_all_conns_ms", r->all_up_s * 1e3);
	json_kv_double3(&w, "setup_user_ms", r->setup_user_s * 1e3);
	json_kv_double3(&w, "setup_sys_ms", r->setup_sys_s * 1e3);
	json_end_object(&w);

	json_kv_u64(&w, "conns_ok", t->conns_ok);
	json_kv_u64(&w, "conns_failed", t->conns_failed);
	json_kv_u64(&w, "conns_dropped", t->conns_dropped);
	json_kv_u64(&w, "peak_conns", r->peak_conns);
	json_kv_u64(&w, "reconnects", t->reconnects);

	json_kv_u64(&w, "sent", t->sent);
	json_kv_u64(&w, "acked", t->acked);
	json_kv_u64(&w, "failed", t->failed);
	json_kv_u64(&w, "unacked", t->unacked);
	json_kv_u64(&w, "not_sent", t->not_sent);
	json_kv_bool(&w, "accounting_ok", accounting_ok(t));
	json_kv_double3(&w, "rate", report_acked_rate(r));

	json_kv_u64(&w, "bytes_out", t->bytes_out);
	json_kv_u64(&w, "bytes_in", t->bytes_in);
	if (t->tls_records_out)
		json_kv_u64(&w, "tls_records_out", t->tls_records_out);
	json_kv_u64(&w, "rss_bytes", r->rss_bytes);

	json_kv_u64(&w, "errors_total", totals_error_count(t));
	json_key(&w, "errors");
	json_begin_object(&w);
	for (int i = 0; i < n; i++)
		json_kv_u64(&w, e[i].key, e[i].n);
	json_end_object(&w);
	free(e);

	report_json_latency(&w, "latency_us", r->latency);
	report_json_latency(&w, "latency_uncorrected_us", r->latency_raw);
	report_json_latency(&w, "connect_latency_us", r->connect);
	/* Opening a connection stage by stage: counts are the handshakes.
	 * A limit search's answer (a sum of trials) has no stages. */
	bool staged = false;
	for (unsigned k = 0; k < HS__COUNT; k++)
		staged |= r->stage[k] != NULL;
	if (staged) {
		json_key(&w, "handshake_us");
		json_begin_object(&w);
		for (unsigned k = 0; k < HS__COUNT; k++)
			if (r->stage[k])
				report_json_latency(&w, hs_stage_names[k], r->stage[k]);
		json_end_object(&w);
	}
	/* How each ack and receipt time was taken (worker.h, worker_rx_ns). */
	report_http_json(&w, r);
	json_key(&w, "rx_timed_by");
	json_begin_object(&w);
	json_kv_u64(&w, "segment", t->rx_by_segment);
	json_kv_u64(&w, "read", t->rx_by_read);
	json_kv_u64(&w, "loop", t->rx_by_loop);
	json_end_object(&w);
	if (r->opts && opts_fanout(r->opts)) {
		report_json_latency(&w, "e2e_latency_us", r->e2e);
		json_kv_u64(&w, "expected", r->expected);
		json_kv_u64(&w, "received", t->received);
		json_kv_u64(&w, "missing", r->expected > t->received ? r->expected - t->received : 0);
		json_kv_u64(&w, "duplicates", t->duplicates);
		if (opts_subscribe_only(r->opts)) {
			json_kv_bool(&w, "subscribe_only", true);
			json_kv_double3(&w, "received_per_s", deliveries_rate(r));
		}
		json_kv_double3(&w, "send_s", r->send_s);
		json_kv_double3(&w, "batch_s", r->batch_s);
		json_key(&w, "steps");
		json_begin_array(&w);
		for (unsigned i = 0; i < r->n_steps; i++) {
			const struct step_row *st = &r->steps[i];
			json_begin_object(&w);
			json_kv_u64(&w, "batch", st->batch);
			json_kv_u64(&w, "sent", st->sent);
			json_kv_u64(&w, "expected", st->expected);
			json_kv_u64(&w, "received", st->received);
			json_kv_u64(&w, "missing", st->expected > st->received ? st->expected - st->received : 0);
			json_kv_u64(&w, "duplicates", st->duplicates);
			/* Full precision: a small batch takes well under a millisecond. */
			json_kv_double(&w, "total_s", st->total_s);
			json_kv_double(&w, "send_s", st->send_s);
			json_kv_double3(&w, "p50_us", (double)st->p50_ns / 1e3);
			json_kv_double3(&w, "p99_us", (double)st->p99_ns / 1e3);
			json_end_object(&w);
		}
		json_end_array(&w);
	}
	report_wire_json(&w, r);
	diagnosis_json(&w, r);
	if (r->opts && r->opts->limit.mode)
		json_limit(&w, r);
	report_json_exact(&w, r);
	json_config(&w, r->opts);
	json_end_object(&w);
	return json_finish(&w);
}

static int json_to(FILE *f, const void *r)
{
	return report_write_json_stream(f, r);
}

/* Through path.tmp, fsynced before the rename: a crash leaves the old
 * report or the new one, never an empty file under the final name. */
int report_write_json(const char *path, const struct blast_results *r)
{
	return write_atomic(path, json_to, r);
}
