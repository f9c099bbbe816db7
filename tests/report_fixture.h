/* One run's results for the report tests: two targets, errors of every
 * kind, 1000 latencies; and the summary printed to a string. */
#ifndef BLAST_REPORT_FIXTURE_H
#define BLAST_REPORT_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "encoders/mqtt.h"
#include "report/report.h"
#include "stats/hist.h"
#include "stats/stats.h"
#include "t.h"

static struct hist lat, raw, con;

static inline void fill_results(struct blast_results *r, struct blast_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->proto = PROTO_MQTT;
	snprintf(o->targets[0].host, sizeof(o->targets[0].host), "127.0.0.1");
	o->targets[0].port = 1883;
	snprintf(o->targets[1].host, sizeof(o->targets[1].host), "::1");
	o->targets[1].port = 1884;
	o->n_targets = 2;
	o->conns = 100;
	o->ramp = 50;
	o->rate = 1000;
	o->messages = 5000;
	o->has_messages = true;
	o->duration_ns = 10000000000ull;
	o->drain_timeout_ns = 5000000000ull;
	o->qos = 1;
	o->inflight = 64;
	o->topic = "blast/{conn}\"\n\xff";
	o->payload_size = 32;
	o->client_id = "blast-{pid}-{conn}";
	o->username = "user";
	o->password = "s3cr3t-pw";
	o->keepalive = 60;
	o->mqtt_version = MQTT_V5;
	o->workers = 4;
	o->reconnect = true;

	memset(r, 0, sizeof(*r));
	r->opts = o;
	r->t.sent = 1000;
	r->t.acked = 990;
	r->t.failed = 6;
	r->t.unacked = 4;
	r->t.not_sent = 7;
	r->t.conns_ok = 100;
	r->t.conns_failed = 2;
	r->t.conns_dropped = 1;
	r->t.reconnects = 3;
	r->t.bytes_out = 123456;
	r->t.bytes_in = 7890;
	r->t.errors[ERR_CONNECT_REFUSED] = 2;
	r->t.errors[ERR_CONN_RESET] = 1;
	r->t.connack[0] = 100;
	r->t.connack[0x87] = 2;
	r->t.pub_reason[0x97] = 6;
	r->t.disconnect[0x8b] = 1;
	r->duration_s = 10.0;
	r->publish_s = 9.5;
	hist_reset(&lat);
	hist_reset(&raw);
	hist_reset(&con);
	for (int64_t v = 1; v <= 1000; v++) {
		hist_record(&lat, v * 1000);
		hist_record(&raw, v * 500);
	}
	hist_record(&con, 250000);
	hist_record(&con, 300000);
	hist_record(&con, 350000);
	r->latency = &lat;
	r->latency_raw = &raw;
	r->connect = &con;
	r->peak_conns = 99;
	r->rss_bytes = 50000000;
	r->exit_status = 1;
	r->stop_reason = "duration";
}

static inline char *summary_of(const struct blast_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	report_print_summary(f, r);
	fclose(f);
	return buf;
}

#endif
