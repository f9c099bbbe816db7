/* The JSON report read back through a small validating parser (plus
 * Python's json module when python3 is installed), with the wire's
 * witness beside the client's figures. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/opts.h"
#include "report/report.h"
#include "stats/wire.h"
#include "report_fixture.h"
#include "t.h"

/* ---- validating JSON scanner with path lookup ---- */

/* Paths join object keys and array indexes with '.': "config.targets.0". */
struct jscan {
	const char *s;
	size_t n, i;
	bool bad;
	bool dup_key;
	const char *want; /* path to find, or NULL */
	const char *val;  /* raw text of its value */
	size_t val_len;
	char path[512];
};

static void ws(struct jscan *j)
{
	while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]))
		j->i++;
}

static bool eat(struct jscan *j, char c)
{
	ws(j);
	if (j->i < j->n && j->s[j->i] == c) {
		j->i++;
		return true;
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A string token: no raw control characters, only JSON's escapes. */
static bool scan_string(struct jscan *j)
{
	if (j->i >= j->n || j->s[j->i] != '"')
		return false;
	for (j->i++; j->i < j->n; j->i++) {
		unsigned char c = (unsigned char)j->s[j->i];

		if (c == '"') {
			j->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++j->i >= j->n)
			return false;
		c = (unsigned char)j->s[j->i];
		if (c == 'u') {
			for (int k = 0; k < 4; k++)
				if (++j->i >= j->n || !strchr("0123456789abcdefABCDEF", j->s[j->i]))
					return false;
		} else if (!strchr("\"\\/bfnrt", c)) {
			return false;
		}
	}
	return false;
}

static bool scan_number(struct jscan *j)
{
	size_t i = j->i;

	if (i < j->n && j->s[i] == '-')
		i++;
	if (i < j->n && j->s[i] == '0')
		i++;
	else if (i < j->n && is_digit(j->s[i]))
		while (i < j->n && is_digit(j->s[i]))
			i++;
	else
		return false;
	if (i < j->n && j->s[i] == '.') {
		if (++i >= j->n || !is_digit(j->s[i]))
			return false;
		while (i < j->n && is_digit(j->s[i]))
			i++;
	}
	if (i < j->n && (j->s[i] == 'e' || j->s[i] == 'E')) {
		i++;
		if (i < j->n && (j->s[i] == '+' || j->s[i] == '-'))
			i++;
		if (i >= j->n || !is_digit(j->s[i]))
			return false;
		while (i < j->n && is_digit(j->s[i]))
			i++;
	}
	j->i = i;
	return true;
}

static bool scan_value(struct jscan *j, int depth);

static bool scan_member(struct jscan *j, int depth, size_t plen, const char *name, size_t name_len)
{
	if (plen + name_len + 2 >= sizeof(j->path))
		return false;
	if (plen)
		j->path[plen++] = '.';
	memcpy(j->path + plen, name, name_len);
	j->path[plen + name_len] = 0;
	bool ok = scan_value(j, depth + 1);

	j->path[plen ? plen - 1 : 0] = 0;
	return ok;
}

static bool scan_value(struct jscan *j, int depth)
{
	size_t plen = strlen(j->path), start;
	bool ok = true;

	if (depth > 64)
		return false;
	ws(j);
	start = j->i;
	if (j->i >= j->n)
		return false;
	if (eat(j, '{')) {
		const char *keys[256];
		size_t lens[256], nk = 0;

		if (!eat(j, '}')) {
			do {
				ws(j);
				size_t k0 = j->i;

				if (!scan_string(j))
					return false;
				/* Key text without quotes; ours are plain ASCII. */
				const char *k = j->s + k0 + 1;
				size_t kl = j->i - k0 - 2;

				for (size_t q = 0; q < nk; q++)
					if (lens[q] == kl && !memcmp(keys[q], k, kl))
						j->dup_key = true;
				if (nk < 256) {
					keys[nk] = k;
					lens[nk++] = kl;
				}
				if (!eat(j, ':') || !scan_member(j, depth, plen, k, kl))
					return false;
			} while (eat(j, ','));
			if (!eat(j, '}'))
				return false;
		}
	} else if (eat(j, '[')) {
		if (!eat(j, ']')) {
			unsigned idx = 0;

			do {
				char num[16];
				int len = snprintf(num, sizeof(num), "%u", idx++);

				if (!scan_member(j, depth, plen, num, (size_t)len))
					return false;
			} while (eat(j, ','));
			if (!eat(j, ']'))
				return false;
		}
	} else if (j->s[j->i] == '"') {
		ok = scan_string(j);
	} else if (j->s[j->i] == '-' || is_digit(j->s[j->i])) {
		ok = scan_number(j);
	} else {
		static const char *const lit[] = { "true", "false", "null" };

		ok = false;
		for (int k = 0; k < 3 && !ok; k++) {
			size_t l = strlen(lit[k]);

			if (j->n - j->i >= l && !memcmp(j->s + j->i, lit[k], l)) {
				j->i += l;
				ok = true;
			}
		}
	}
	if (ok && j->want && !strcmp(j->path, j->want)) {
		j->val = j->s + start;
		j->val_len = j->i - start;
	}
	return ok;
}

/* True when doc is one well-formed JSON value with no duplicate keys. */
static bool json_valid(const char *doc, size_t n)
{
	struct jscan j = { .s = doc, .n = n };

	if (!scan_value(&j, 0))
		return false;
	ws(&j);
	return j.i == n && !j.dup_key;
}

/* Raw text of the value at path, NUL-terminated in a static buffer, or
 * NULL when absent. */
static const char *jget(const char *doc, const char *path)
{
	static char out[16384];
	struct jscan j = { .s = doc, .n = strlen(doc), .want = path };

	if (!scan_value(&j, 0) || !j.val || j.val_len >= sizeof(out))
		return NULL;
	memcpy(out, j.val, j.val_len);
	out[j.val_len] = 0;
	return out;
}

#define CHECK_JSON(doc, path, want)                                              \
	do {                                                                     \
		const char *_v = jget(doc, path);                                \
		CHECK(_v && !strcmp(_v, want));                                  \
		if (!_v || strcmp(_v, want))                                     \
			fprintf(stderr, "  %s: got %s, want %s\n", path, _v ? _v : "(absent)", want); \
	} while (0)

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = 0;
	fclose(f);
	return buf;
}

static void python_check(const char *path)
{
	char cmd[600];

	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "no python3: json.load check skipped\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))' '%s'",
		 path);
	CHECK_EQ_INT(system(cmd), 0);
}

static void self_test_scanner(void)
{
	static const char *const good[] = { "{}", "[]", "0", "-1.5e+3", "\"\\u00e9\"",
					    "{\"a\":[1,{\"b\":null}],\"c\":true}" };
	static const char *const bad[] = { "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\x01\"",
					   "\"\\x\"", "{\"a\":1,\"a\":2}", "{} {}", "nul", "{a:1}" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(json_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!json_valid(bad[i], strlen(bad[i])));
	CHECK_JSON("{\"a\":[1,{\"b\":\"x\"}]}", "a.1.b", "\"x\"");
}

static void test_json_report(const char *dir)
{
	static struct blast_opts o;
	struct blast_results r;
	char path[256], tmp[300], want[64];
	struct stat st;
	char *doc;

	fill_results(&r, &o);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* An older report under the same name is replaced. */
	FILE *old = fopen(path, "w");

	CHECK(old != NULL);
	if (old) {
		fputs("stale", old);
		fclose(old);
	}
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	CHECK(stat(tmp, &st) != 0 && errno == ENOENT);
	doc = slurp(path);
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK(json_valid(doc, strlen(doc)));
	python_check(path);

	static const char *const required[] = {
		"proto", "duration_s", "conns_ok", "conns_failed", "sent", "acked", "failed",
		"unacked", "rate", "errors", "latency_us", "connect_latency_us",
		"latency_uncorrected_us", "conns_dropped", "not_sent", "bytes_out", "bytes_in",
		"publish_s", "peak_conns", "rss_bytes", "stop_reason", "exit_status", "version",
		"config",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!jget(doc, required[i]))
			fprintf(stderr, "  missing key %s\n", required[i]);
		CHECK(jget(doc, required[i]) != NULL);
	}
	CHECK_JSON(doc, "version", "\"blast 0.1\"");
	CHECK_JSON(doc, "proto", "\"mqtt\"");
	CHECK_JSON(doc, "duration_s", "10.000");
	CHECK_JSON(doc, "publish_s", "9.500");
	CHECK_JSON(doc, "sent", "1000");
	CHECK_JSON(doc, "acked", "990");
	CHECK_JSON(doc, "failed", "6");
	CHECK_JSON(doc, "unacked", "4");
	CHECK_JSON(doc, "not_sent", "7");
	CHECK_JSON(doc, "conns_ok", "100");
	CHECK_JSON(doc, "conns_failed", "2");
	CHECK_JSON(doc, "conns_dropped", "1");
	CHECK_JSON(doc, "peak_conns", "99");
	CHECK_JSON(doc, "rate", "104.211"); /* acked over the 9.5 s of publishing */
	CHECK_JSON(doc, "bytes_out", "123456");
	CHECK_JSON(doc, "bytes_in", "7890");
	CHECK_JSON(doc, "rss_bytes", "50000000");
	CHECK_JSON(doc, "stop_reason", "\"duration\"");
	CHECK_JSON(doc, "exit_status", "1");
	CHECK_JSON(doc, "accounting_ok", "true");

	/* Errors: only non-zero counters, keyed by name. */
	CHECK_JSON(doc, "errors.connect_refused", "2");
	CHECK_JSON(doc, "errors.conn_reset", "1");
	CHECK_JSON(doc, "errors.connack:not_authorized", "2");
	CHECK_JSON(doc, "errors.puback:quota_exceeded", "6");
	CHECK_JSON(doc, "errors.disconnect:server_shutting_down", "1");
	CHECK(!jget(doc, "errors.send_error"));
	CHECK(!jget(doc, "errors.connack:success"));
	CHECK_JSON(doc, "errors_total", "12");

	/* Latency in microseconds, three decimals, from the histograms. */
	CHECK_JSON(doc, "latency_us.min", "1.000");
	CHECK_JSON(doc, "latency_us.max", "1000.000");
	CHECK_JSON(doc, "latency_us.count", "1000");
	snprintf(want, sizeof(want), "%.3f", (double)hist_percentile(&lat, 50) / 1e3);
	CHECK_JSON(doc, "latency_us.p50", want);
	CHECK(!strcmp(want, "500.223")); /* 500000 ns sits in 499968..500223 */
	snprintf(want, sizeof(want), "%.3f", (double)hist_percentile(&lat, 99.9) / 1e3);
	CHECK_JSON(doc, "latency_us.p999", want);
	snprintf(want, sizeof(want), "%.3f", (double)hist_percentile(&lat, 90) / 1e3);
	CHECK_JSON(doc, "latency_us.p90", want);
	snprintf(want, sizeof(want), "%.3f", (double)hist_percentile(&lat, 99) / 1e3);
	CHECK_JSON(doc, "latency_us.p99", want);
	snprintf(want, sizeof(want), "%.3f", hist_mean(&lat) / 1e3);
	CHECK_JSON(doc, "latency_us.mean", want);
	CHECK_JSON(doc, "latency_uncorrected_us.max", "500.000");
	CHECK_JSON(doc, "connect_latency_us.min", "250.000");
	CHECK_JSON(doc, "connect_latency_us.max", "350.000");
	CHECK_JSON(doc, "connect_latency_us.count", "3");

	/* The run's configuration. */
	CHECK_JSON(doc, "config.targets.0", "\"127.0.0.1:1883\"");
	CHECK_JSON(doc, "config.targets.1", "\"[::1]:1884\"");
	CHECK(!jget(doc, "config.targets.2"));
	CHECK_JSON(doc, "config.conns", "100");
	CHECK_JSON(doc, "config.ramp", "50");
	CHECK_JSON(doc, "config.rate", "1000");
	CHECK_JSON(doc, "config.messages", "5000");
	CHECK_JSON(doc, "config.duration_s", "10.000");
	CHECK_JSON(doc, "config.qos", "1");
	CHECK_JSON(doc, "config.inflight", "64");
	CHECK_JSON(doc, "config.topic", "\"blast/{conn}\\\"\\u000a\\ufffd\"");
	CHECK_JSON(doc, "config.payload_size", "32");
	CHECK_JSON(doc, "config.mqtt_version", "\"5\"");
	CHECK_JSON(doc, "config.workers", "4");
	CHECK_JSON(doc, "config.reconnect", "true");
	CHECK_JSON(doc, "config.churn", "false");
	CHECK_JSON(doc, "config.keepalive", "60");
	CHECK_JSON(doc, "config.auth", "\"username+password\"");
	CHECK(!strstr(doc, "s3cr3t-pw")); /* no credentials in the report */
	free(doc);

	/* 3.1.1, unlimited messages, payload file; codes sharing a name merge. */
	o.mqtt_version = MQTT_V311;
	o.has_messages = false;
	o.payloads.n = 12;
	memset(r.t.connack, 0, sizeof(r.t.connack));
	r.t.connack[6] = 1;
	r.t.connack[7] = 2;
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && json_valid(doc, strlen(doc)));
	if (doc) {
		CHECK_JSON(doc, "config.mqtt_version", "\"3.1.1\"");
		CHECK_JSON(doc, "config.messages", "null");
		CHECK_JSON(doc, "config.payload_file_lines", "12");
		snprintf(want, sizeof(want), "errors.connack:%s", mqtt_connack_name(MQTT_V311, 6));
		if (!strcmp(mqtt_connack_name(MQTT_V311, 6), mqtt_connack_name(MQTT_V311, 7)))
			CHECK_JSON(doc, want, "3");
		free(doc);
	}

	/* Nothing measured, no options: still a valid report. */
	memset(&r, 0, sizeof(r));
	r.duration_s = 0;
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && json_valid(doc, strlen(doc)));
	if (doc) {
		CHECK_JSON(doc, "proto", "\"mqtt\"");
		CHECK_JSON(doc, "rate", "0.000");
		CHECK_JSON(doc, "errors", "{}");
		CHECK_JSON(doc, "latency_us.count", "0");
		CHECK_JSON(doc, "latency_us.min", "0.000");
		CHECK_JSON(doc, "config", "null");
		free(doc);
	}
	python_check(path);
	unlink(path);

	/* Failures come back as -errno and leave no temporary file. */
	snprintf(path, sizeof(path), "%s/no/such/dir/report.json", dir);
	CHECK_EQ_INT(report_write_json(path, &r), -ENOENT);
}

/* The second witness: "wire" (the probe's, else the capture's) and
 * "wire_pcap" (when both), and the summary's client / wire / difference rows. */
static void test_wire_report(const char *dir)
{
	static struct blast_opts o;
	static struct wire_stats w, pc;
	struct blast_results r;
	char path[256], want[64];
	char *doc, *s;

	fill_results(&r, &o);
	memset(&w, 0, sizeof(w));
	w.source = WIRE_PROBE;
	w.requests = 1000;
	w.acks = 990;
	w.unmatched = 1;
	w.unparsed = 2;
	w.retransmits = 9; /* 3 real, 4 probes, 2 the receiver had */
	w.retrans_real = 3;
	w.retrans_tlp = 4;
	w.retrans_dsack = 2;
	w.bytes_out = 4000;
	w.bytes_in = 500;
	w.segs_out = 40;
	w.segs_in = 50;
	w.flows = 7;
	w.srtt_us_mean = 30;
	w.srtt_us_max = 90;
	hist_reset(&w.latency);
	for (int64_t v = 1; v <= 990; v++)
		hist_record(&w.latency, v * 400);
	pc = w;
	pc.source = WIRE_PCAP;
	pc.requests = 999;
	snprintf(path, sizeof(path), "%s/wire.json", dir);

	/* Neither: no wire object, no wire rows. */
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && !jget(doc, "wire") && !jget(doc, "wire_pcap"));
	free(doc);
	s = summary_of(&r);
	CHECK(s && !strstr(s, "wire ("));
	free(s);

	r.wire_probe = &w;
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && json_valid(doc, strlen(doc)));
	python_check(path);
	if (doc) {
		CHECK_JSON(doc, "wire.source", "\"probe\"");
		CHECK_JSON(doc, "wire.requests", "1000");
		CHECK_JSON(doc, "wire.acks", "990");
		CHECK_JSON(doc, "wire.unmatched", "1");
		CHECK_JSON(doc, "wire.unparsed", "2");
		CHECK_JSON(doc, "wire.retransmits", "9");
		CHECK_JSON(doc, "wire.retransmits_real", "3");
		CHECK_JSON(doc, "wire.retransmits_spurious", "6");
		CHECK_JSON(doc, "wire.retransmits_tlp", "4");
		CHECK_JSON(doc, "wire.retransmits_dsack", "2");
		CHECK_JSON(doc, "wire.bytes_out", "4000");
		CHECK_JSON(doc, "wire.segments_in", "50");
		CHECK_JSON(doc, "wire.flows", "7");
		CHECK_JSON(doc, "wire.srtt_us_mean", "30");
		CHECK_JSON(doc, "wire.srtt_us_max", "90");
		CHECK_JSON(doc, "wire.latency_us.count", "990");
		CHECK_JSON(doc, "wire.latency_us.min", "0.400");
		CHECK_JSON(doc, "wire.latency_us.max", "396.000");
		/* The client's fields, one for one. */
		static const char *const keys[] = { "min", "p50", "p90", "p99", "p999", "max",
						    "mean", "count", "clamped" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char k1[64], k2[64];
			snprintf(k1, sizeof(k1), "latency_us.%s", keys[i]);
			snprintf(k2, sizeof(k2), "wire.latency_us.%s", keys[i]);
			CHECK(jget(doc, k1) && jget(doc, k2));
		}
		snprintf(want, sizeof(want), "%.3f", (double)hist_percentile(&w.latency, 99) / 1e3);
		CHECK_JSON(doc, "wire.latency_us.p99", want);
		/* Client (uncorrected) minus wire, percentile by percentile. */
		snprintf(want, sizeof(want), "%.3f",
			 (double)(hist_percentile(&raw, 50) - hist_percentile(&w.latency, 50)) / 1e3);
		CHECK_JSON(doc, "wire.client_minus_wire_us.p50", want);
		CHECK_JSON(doc, "wire.client_minus_wire_us.max", "104.000");
		CHECK(!jget(doc, "wire_pcap"));
	}
	free(doc);
	s = summary_of(&r);
	CHECK(s != NULL);
	if (s) {
		fputs(s, stderr);
		CHECK(strstr(s, "wire (probe)  requests 1000  acks 990  unmatched 1  unparsed 2  "
				"retransmits real 3 spurious 6  flows 7") != NULL);
		CHECK(strstr(s, "spurious     tail-loss probes 4  reported duplicate by the "
				"receiver (DSACK) 2\n") != NULL);
		CHECK(strstr(s, "client       sent 1000  acked 990") != NULL);
		CHECK(strstr(s, "srtt mean 30 us max 90 us") != NULL);
		CHECK(strstr(s, "client - wire") != NULL);
		/* p50: about 250 - 198 us, printed with two decimals. */
		snprintf(want, sizeof(want), " %.2f ",
			 (double)(hist_percentile(&raw, 50) - hist_percentile(&w.latency, 50)) / 1e3);
		CHECK(strstr(s, want) != NULL);
	}
	free(s);

	/* Both witnesses: the probe's is "wire", the capture's "wire_pcap". */
	r.wire_pcap = &pc;
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && json_valid(doc, strlen(doc)));
	if (doc) {
		CHECK_JSON(doc, "wire.source", "\"probe\"");
		CHECK_JSON(doc, "wire_pcap.source", "\"pcap\"");
		CHECK_JSON(doc, "wire_pcap.requests", "999");
	}
	free(doc);
	s = summary_of(&r);
	CHECK(s && strstr(s, "wire (probe)") && strstr(s, "wire (pcap)"));
	free(s);

	/* The capture alone is "wire". */
	r.wire_probe = NULL;
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	CHECK(doc && json_valid(doc, strlen(doc)));
	if (doc) {
		CHECK_JSON(doc, "wire.source", "\"pcap\"");
		CHECK(!jget(doc, "wire_pcap"));
	}
	free(doc);

	/* An empty wire histogram: zeros, and no differences. */
	hist_reset(&pc.latency);
	CHECK_EQ_INT(report_write_json(path, &r), 0);
	doc = slurp(path);
	if (doc) {
		CHECK_JSON(doc, "wire.latency_us.count", "0");
		CHECK_JSON(doc, "wire.client_minus_wire_us.p50", "0.000");
	}
	free(doc);
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/blast-test-report.XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return T_FAIL;
	}
	self_test_scanner();
	test_json_report(dir);
	test_wire_report(dir);
	rmdir(dir);
	return t_done("test_report_json");
}
