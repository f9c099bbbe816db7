/* The JSON reader (json_read.c) and a run report read back with it
 * (report_read.c): every input is bounds-checked against a guard page,
 * valid and invalid documents, lookups, escapes, number limits, and the
 * client figures round-tripped through the report writer. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/json_read.h"
#include "config/opts.h"
#include "report/report.h"
#include "report/report_read.h"
#include "t.h"

/* Inputs end right before a PROT_NONE page: any read past them faults. */
static char *guard_base;
static size_t guard_page;

static const char *guarded(const char *s, size_t n)
{
	if (n > guard_page)
		return NULL;
	char *p = guard_base + guard_page - n;
	memcpy(p, s, n);
	return p;
}

static int parse(const char *s, size_t n, struct json_val *root)
{
	char err[160];
	const char *p = guarded(s, n);
	int r = json_read(p, n, root, err, sizeof(err));

	if (r)
		CHECK(err[0] != '\0');
	return r;
}

static void test_valid(void)
{
	static const char *const good[] = {
		"{}", "[]", "0", "-0", "1.5e-3", "-12.0E+2", "\"\"", "true", "false", "null",
		" \t\r\n{ \"a\" : [ 1 , { \"b\" : null } ] } \n", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
		"[[[[[[[[[[]]]]]]]]]]", "{\"a\":1,\"a\":2}", "\"\xc3\xa9\"",
	};
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "{\"a\" 1}", "{\"a\":}", "{,}", "{\"a\":1,}", "01", "1.",
		".5", "-", "1e", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12g4\"", "\"a\nb\"",
		"{} {}", "[1 2]", "{1:2}", "x", "\"\\u12\"",
	};
	struct json_val v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ_INT(parse(good[i], strlen(good[i]), &v), 0);
		if (i == 10)
			CHECK(v.p[0] == '{' && v.p[v.len - 1] == '}');
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse(bad[i], strlen(bad[i]), &v), -EINVAL);
	/* Depth: JSON_READ_MAX_DEPTH containers nest, one more does not. */
	char deep[2 * JSON_READ_MAX_DEPTH + 3];
	for (int d = JSON_READ_MAX_DEPTH; d <= JSON_READ_MAX_DEPTH + 1; d++) {
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		CHECK_EQ_INT(parse(deep, 2 * (size_t)d, &v), d > JSON_READ_MAX_DEPTH ? -EINVAL : 0);
	}
	/* Where it went wrong, in the one-line reason. */
	char err[160];
	CHECK_EQ_INT(json_read("{\"a\":tx}", 8, &v, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "byte 5") != NULL);
	CHECK_EQ_INT(json_read("[1,2", 4, &v, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "at the end") != NULL);
}

static void test_lookup(void)
{
	static const char doc[] =
		"{\"n\": 42, \"big\": 18446744073709551615, \"over\": 18446744073709551616,"
		" \"neg\": -1, \"frac\": 1.5, \"exp\": 1e3, \"s\": \"caf\\u00e9 \\ud83d\\ude00\","
		" \"obj\": {\"in\": [1, {\"deep\": true}], \"k\\u0065y\": \"v\"}, \"n\": 7}";
	struct json_val root, v, o;
	uint64_t u;
	double d;

	CHECK_EQ_INT(parse(doc, sizeof(doc) - 1, &root), 0);
	CHECK_EQ_INT(json_type_of(&root), JSON_OBJECT);
	CHECK(json_member(&root, "n", &v) && json_as_u64(&v, &u) == 0 && u == 42); /* the first */
	CHECK(json_member(&root, "big", &v) && json_as_u64(&v, &u) == 0 && u == UINT64_MAX);
	CHECK(json_member(&root, "over", &v) && json_as_u64(&v, &u) == -ERANGE);
	CHECK(json_member(&root, "neg", &v) && json_as_u64(&v, &u) == -EINVAL);
	CHECK(json_as_double(&v, &d) == 0 && d == -1);
	CHECK(json_member(&root, "frac", &v) && json_as_u64(&v, &u) == -EINVAL);
	CHECK(json_as_double(&v, &d) == 0 && d == 1.5);
	CHECK(json_member(&root, "exp", &v) && json_as_u64(&v, &u) == -EINVAL);
	CHECK(json_as_double(&v, &d) == 0 && d == 1000);
	CHECK(json_member(&root, "s", &v) && json_string_eq(&v, "caf\xc3\xa9 \xf0\x9f\x98\x80"));
	CHECK(!json_string_eq(&v, "caf\xc3\xa9 "));
	CHECK(!json_string_eq(&v, "caf\xc3\xa9 \xf0\x9f\x98\x80!"));
	CHECK(json_as_double(&v, &d) == -EINVAL);
	CHECK(json_member(&root, "obj", &o) && json_type_of(&o) == JSON_OBJECT);
	CHECK(json_member(&o, "key", &v) && json_string_eq(&v, "v")); /* an escaped key */
	CHECK(json_member(&o, "in", &v) && json_type_of(&v) == JSON_ARRAY);
	CHECK(!json_member(&v, "deep", &o)); /* an array has no members */
	CHECK(!json_member(&root, "deep", &v)); /* nor does a lookup go deeper */
	CHECK(!json_member(&root, "", &v));
	/* Over a span that is not what it says: no reads outside it, no match. */
	struct json_val cut = { .p = guarded(doc, 13), .len = 13 }; /* cut inside "big" */
	CHECK(!json_member(&cut, "big", &v));
	struct json_val empty = { .p = guarded("", 0), .len = 0 };
	CHECK_EQ_INT(json_type_of(&empty), JSON_BAD);
	CHECK(!json_member(&empty, "n", &v) && json_as_u64(&empty, &u) == -EINVAL);
	char longnum[80];
	memset(longnum, '1', sizeof(longnum));
	struct json_val ln = { .p = guarded(longnum, sizeof(longnum)), .len = sizeof(longnum) };
	CHECK(json_as_double(&ln, &d) == -EINVAL);
}

static struct hist lat, raw, e2e;

static char *report_text(const struct blast_results *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	CHECK_EQ_INT(report_write_json_stream(f, r), 0);
	fclose(f);
	return buf;
}

/* The figures a run compares with its wire come back the same from its report. */
static void roundtrip(const struct blast_results *r, const char *what)
{
	struct wire_client want, got;
	size_t len;
	char err[200], *doc = report_text(r, &len);

	report_wire_client(r, &want);
	CHECK(doc != NULL);
	if (!doc)
		return;
	int e = report_read_client(guarded(doc, len), len, &got, err, sizeof(err));
	CHECK_EQ_INT(e, 0);
	if (e)
		fprintf(stderr, "%s: %s\n", what, err);
	CHECK(!strcmp(got.proto, want.proto));
	CHECK_EQ_INT(got.sent, want.sent);
	CHECK_EQ_INT(got.acked, want.acked);
	CHECK_EQ_INT(got.conns, want.conns);
	CHECK_EQ_INT(got.count, want.count);
	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		CHECK_EQ_INT(got.ns[i], want.ns[i]);
	/* Every prefix short of the closing brace is refused with a reason,
	 * and read within its bytes. */
	for (size_t n = 0; n + 2 < len; n += 1 + n / 64) {
		err[0] = '\0';
		CHECK_EQ_INT(report_read_client(guarded(doc, n), n, &got, err, sizeof(err)), -EINVAL);
		CHECK(err[0] != '\0');
	}
	free(doc);
}

/* A report without one figure (key, the first after `after` when given):
 * refused, and the reason names it. */
static void without(const char *doc, const char *after, const char *key, const char *named)
{
	char *cut = strdup(doc), *from = after ? strstr(cut, after) : cut, err[200];
	char *k = from ? strstr(from, key) : NULL;
	struct wire_client c;

	CHECK(k != NULL);
	if (!k) {
		free(cut);
		return;
	}
	k[1] = 'X'; /* "p50" -> "X50": the key is there no more */
	CHECK_EQ_INT(report_read_client(cut, strlen(cut), &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, named) != NULL);
	if (!strstr(err, named))
		fprintf(stderr, "without %s: %s\n", key, err);
	free(cut);
}

static void test_report_read(void)
{
	static struct blast_opts o;
	struct blast_results r = { 0 };
	char err[200];
	struct wire_client c;

	o.proto = PROTO_KAFKA;
	o.conns = 4;
	r.opts = &o;
	r.t.sent = 5000;
	r.t.acked = 4990;
	r.t.failed = 10;
	r.peak_conns = 4;
	r.stop_reason = "messages";
	hist_reset(&lat);
	hist_reset(&raw);
	for (int64_t v = 1; v <= 4990; v++) {
		hist_record(&lat, v * 1000 + 7);
		hist_record(&raw, v * 977 + 3);
	}
	r.latency = &lat;
	r.latency_raw = &raw;
	roundtrip(&r, "kafka");

	/* Fan-out: end to end, receipts with duplicates. */
	o.proto = PROTO_WS;
	o.publishers = 1;
	o.subscribers = 3;
	r.t.received = 12000;
	r.t.duplicates = 5;
	hist_reset(&e2e);
	for (int64_t v = 1; v <= 12005; v++)
		hist_record(&e2e, v * 313);
	r.e2e = &e2e;
	CHECK(opts_fanout(&o));
	roundtrip(&r, "ws");

	/* An empty latency: count 0 and zeros, still a report. */
	o.proto = PROTO_MQTT;
	o.publishers = o.subscribers = 0;
	hist_reset(&raw);
	roundtrip(&r, "mqtt, nothing acked");

	size_t len;
	char *doc = report_text(&r, &len);
	if (doc) {
		const char *u = "\"latency_uncorrected_us\"";
		without(doc, NULL, "\"proto\"", "no proto");
		without(doc, NULL, "\"sent\"", "no sent");
		without(doc, NULL, "\"acked\"", "no acked");
		without(doc, NULL, u, "no latency_uncorrected_us");
		without(doc, u, "\"p99\"", "no latency_uncorrected_us.p99");
		without(doc, u, "\"count\"", "no latency_uncorrected_us.count");
		free(doc);
	}
	static const char *const not_reports[] = {
		"", "not json", "[1,2]", "{\"proto\":\"amqp\"}", "{\"proto\":1}",
		"{\"proto\":\"mqtt\",\"sent\":-1}", "{\"proto\":\"mqtt\",\"sent\":1,\"acked\":1}",
		"{\"proto\":\"mqtt\",\"sent\":1,\"acked\":1,\"latency_uncorrected_us\":[]}",
	};
	for (size_t i = 0; i < sizeof(not_reports) / sizeof(not_reports[0]); i++) {
		const char *s = not_reports[i];
		err[0] = '\0';
		CHECK_EQ_INT(report_read_client(guarded(s, strlen(s)), strlen(s), &c, err, sizeof(err)),
			     -EINVAL);
		CHECK(err[0] != '\0' && !strchr(err, '\n'));
	}
}

int main(void)
{
	guard_page = (size_t)sysconf(_SC_PAGESIZE) * 16;
	guard_base = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	if (guard_base == MAP_FAILED || mprotect(guard_base + guard_page, guard_page, PROT_NONE)) {
		perror("guard page");
		return T_FAIL;
	}
	test_valid();
	test_lookup();
	test_report_read();
	return t_done("test_json_read");
}
