/* `blast analyze --report / --html`: what analyze found, as JSON and as a
 * page, built from the same pieces as a run's report (report_wire.c for
 * the "wire" and "client" objects, html_page.c for the page). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>

#include "witness/analyze.h"
#include "report/html_page.h"
#include "report/json.h"
#include "report/svg.h"
#include "config/version.h"

/* "a.b.c.d:port" or "[v6]:port". */
static void endpoint(char *buf, size_t cap, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, cap, family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

struct row_text {
	char client[INET6_ADDRSTRLEN + 10], server[INET6_ADDRSTRLEN + 10];
};

static void row_text(const struct wm_flow_row *r, struct row_text *t)
{
	endpoint(t->client, sizeof(t->client), r->family, r->client_addr, r->client_port);
	endpoint(t->server, sizeof(t->server), r->family, r->server_addr, r->server_port);
}

/* A flow row's "tls" word: NULL in the clear. */
static const char *tls_word(enum wm_tls t)
{
	static const char *const words[] = { [WM_TLS_DECRYPTED] = "decrypted",
					     [WM_TLS_NO_KEY] = "no_key",
					     [WM_TLS_FAILED] = "failed" };
	return t == WM_TLS_NONE ? NULL : words[t];
}

static double span_s(const struct wm_counts *c)
{
	return c->last_ns > c->first_ns ? (double)(c->last_ns - c->first_ns) / 1e9 : 0;
}

static void json_capture(struct json_writer *j, const struct analysis *a)
{
	const struct wm_counts *c = a->c;

	json_key(j, "capture");
	json_begin_object(j);
	json_kv_string(j, "file", a->path);
	json_kv_u64(j, "packets", c->packets);
	json_kv_u64(j, "tcp_segments", c->tcp);
	json_kv_u64(j, "bad_packets", c->bad_packets);
	json_kv_double3(j, "duration_s", span_s(c));
	json_kv_u64(j, "request_frames", c->req_frames);
	json_kv_u64(j, "ack_frames", c->ack_frames);
	json_kv_u64(j, "pending", c->pending);
	json_kv_u64(j, "gaps", c->gaps);
	json_key(j, "drops_recorded");
	if (c->drops_known) {
		json_begin_object(j);
		json_kv_u64(j, "capture", c->osdrop);
		json_kv_u64(j, "interface", c->ifdrop);
		json_end_object(j);
	} else {
		json_null(j);
	}
	json_key(j, "read_error");
	if (c->read_err[0])
		json_string(j, c->read_err);
	else
		json_null(j);
	json_kv_bool(j, "complete", a->warn->n == 0);
	json_key(j, "warnings");
	json_begin_array(j);
	for (unsigned i = 0; i < a->warn->n; i++) {
		json_begin_object(j);
		json_kv_string(j, "kind", analyze_warning_name(a->warn->kind[i]));
		json_kv_string(j, "text", a->warn->line[i]);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "flows_by_proto");
	json_begin_object(j);
	for (int p = WM_AUTO; p <= WM_HTTP; p++)
		json_kv_u64(j, wm_proto_name((enum wm_proto)p), c->flows_by_proto[p]);
	json_end_object(j);
	json_end_object(j);
}

int analyze_write_json(FILE *f, const void *arg)
{
	const struct analysis *a = arg;
	struct json_writer j;

	json_init(&j, f, true);
	json_begin_object(&j);
	json_kv_string(&j, "version", "blast " BLAST_VERSION);
	json_capture(&j, a);
	report_wire_witness_json(&j, "wire", a->client, a->s);
	if (a->client) {
		json_kv_string(&j, "against", a->against);
		report_wire_client_json(&j, "client", a->client);
	}
	json_key(&j, "flows");
	json_begin_array(&j);
	for (size_t i = 0; i < a->n_rows; i++) {
		const struct wm_flow_row *r = &a->rows[i];
		struct row_text t;
		row_text(r, &t);
		json_begin_object(&j);
		json_kv_string(&j, "client", t.client);
		json_kv_string(&j, "server", t.server);
		json_kv_string(&j, "proto", wm_proto_name(r->proto));
		json_kv_u64(&j, "requests", r->requests);
		json_kv_u64(&j, "acks", r->acks);
		json_kv_u64(&j, "timed", r->timed);
		json_kv_double3(&j, "p50_us", (double)r->p50_ns / 1e3);
		json_kv_double3(&j, "p99_us", (double)r->p99_ns / 1e3);
		if (tls_word(r->tls))
			json_kv_string(&j, "tls", tls_word(r->tls));
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	return json_finish(&j);
}

static void capture_section(FILE *f, const struct analysis *a)
{
	const struct wm_counts *c = a->c;
	const struct wire_stats *s = a->s;

	fprintf(f, "<section id=\"capture\"><h2>Capture</h2>\n<table class=\"config\">\n"
		   "<tr><td>packets</td><td>%" PRIu64 " over %.3f s, %" PRIu64 " TCP segments analysed, %"
		   PRIu64 " bad</td></tr>\n", c->packets, span_s(c), c->tcp, c->bad_packets);
	fprintf(f, "<tr><td>flows</td><td>%" PRIu64 " (mqtt %" PRIu64 ", kafka %" PRIu64 ", ws %"
		   PRIu64 ", http %" PRIu64 ", not recognised %" PRIu64 ")</td></tr>\n", s->flows,
		c->flows_by_proto[WM_MQTT], c->flows_by_proto[WM_KAFKA], c->flows_by_proto[WM_WS],
		c->flows_by_proto[WM_HTTP], c->flows_by_proto[WM_AUTO]);
	fprintf(f, "<tr><td>frames</td><td>requests %" PRIu64 ", acks %" PRIu64 "</td></tr>\n"
		   "<tr><td>messages</td><td>requests %" PRIu64 ", acks %" PRIu64 ", unmatched %" PRIu64
		   ", pending %" PRIu64 ", unparsed %" PRIu64 ", gaps %" PRIu64 "</td></tr>\n",
		c->req_frames, c->ack_frames, s->requests, s->acks, s->unmatched, c->pending,
		s->unparsed, c->gaps);
	if (s->tls_flows)
		fprintf(f, "<tr><td>TLS</td><td>%" PRIu64 " flows: decrypted %" PRIu64 ", no key %"
			   PRIu64 ", failed %" PRIu64 "</td></tr>\n", s->tls_flows, s->tls_decrypted,
			s->tls_no_key, s->tls_failed);
	fprintf(f, "<tr><td>TCP payload</td><td>out %" PRIu64 " B in %" PRIu64 " B, segments out %"
		   PRIu64 " in %" PRIu64 "</td></tr>\n</table></section>\n", s->bytes_out, s->bytes_in,
		s->segs_out, s->segs_in);
}

static void flows_section(FILE *f, const struct analysis *a)
{
	fprintf(f, "<section id=\"flows\"><h2>Flows</h2>\n<table><tr><th>client</th><th>server</th>"
		   "<th>proto</th><th>requests</th><th>acks</th><th>p50 us</th><th>p99 us</th></tr>\n");
	for (size_t i = 0; i < a->n_rows; i++) {
		const struct wm_flow_row *r = &a->rows[i];
		struct row_text t;
		row_text(r, &t);
		fprintf(f, "<tr><td>");
		html_escape(f, t.client);
		fprintf(f, "</td><td>");
		html_escape(f, t.server);
		fprintf(f, "</td><td>%s%s%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
			wm_proto_name(r->proto), tls_word(r->tls) ? " over TLS, " : "",
			tls_word(r->tls) ? tls_word(r->tls) : "", r->requests, r->acks);
		if (r->timed) {
			html_us_cell(f, r->p50_ns);
			html_us_cell(f, r->p99_ns);
		} else {
			fprintf(f, "<td>-</td><td>-</td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table></section>\n");
}

int analyze_write_html(FILE *f, const void *arg)
{
	const struct analysis *a = arg;
	const struct wire_stats *w = a->s;
	const char *name = "wire (pcap)";
	const struct html_curve wire = { .h = &w->latency, .name = name, .colour = 4 };

	html_page_begin(f);
	fprintf(f, "blast analyze: ");
	html_escape(f, a->path);
	html_page_body(f, "blast analyze");
	fprintf(f, "<p class=\"sub\">blast %s &middot; ", BLAST_VERSION);
	html_escape(f, a->path);
	if (a->against) {
		fprintf(f, " against ");
		html_escape(f, a->against);
	}
	fprintf(f, "</p>\n");
	if (a->warn->n) { /* before any figure: they are partial */
		fprintf(f, "<section id=\"warnings\"><h2 class=\"bad\">Partial: read these first</h2>\n<ul>\n");
		for (unsigned i = 0; i < a->warn->n; i++) {
			fprintf(f, "<li>");
			html_escape(f, a->warn->line[i]);
			fprintf(f, "</li>\n");
		}
		fprintf(f, "</ul></section>\n");
	}
	capture_section(f, a);
	fprintf(f, "<section id=\"latency-dist\"><h2>Latency distribution</h2>\n");
	html_percentile_chart(f, &wire, 1);
	fprintf(f, "</section>\n");
	html_wire_section(f, a->client, &w, &name, 1);
	flows_section(f, a);
	fprintf(f, "</body>\n</html>\n");
	return ferror(f) ? -EIO : 0;
}
