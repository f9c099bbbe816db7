/* `blast merge` (and a coordinator) of --proto http reports: the whole
 * run keeps the settings its summary shows (method, pipeline, which
 * statuses count as acked) and adds up the time to first byte, which a
 * report keeps in exact.e2e, bucket by bucket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/http_ok.h"
#include "config/version.h"
#include "report/exact.h"
#include "report/merge_read.h"
#include "stats/hist.h"
#include "t.h"

/* One machine's report: n responses 200, TTFB of ttfb_ns each. */
static char *http_report(unsigned index, uint64_t n, int64_t ttfb_ns)
{
	struct blast_totals t = { 0 };
	struct hist *h = hist_new();
	char *buf = malloc(1 << 16);

	if (!h || !buf) {
		free(h);
		free(buf);
		return NULL;
	}
	t.sent = t.acked = n;
	t.http_resp[200] = n;
	for (uint64_t i = 0; i < n; i++)
		hist_record(h, ttfb_ns);
	char *tot = exact_totals_b64(&t), *hd = exact_hist_b64(h);
	snprintf(buf, 1 << 16,
		 "{\"version\": \"blast " BLAST_VERSION "\", \"proto\": \"http\", \"sent\": %llu, "
		 "\"config\": {\"proto\": \"http\", \"conns\": 2, \"rate\": 100, \"messages\": %llu, "
		 "\"qos\": 1, \"http_method\": \"PUT\", \"pipeline\": 4, \"no_keepalive\": false, "
		 "\"think_time_s\": 0.25, \"ok_status\": \"2xx,404\", \"max_body\": 4096, "
		 "\"http_body\": true, \"workers\": 1},"
		 "\"shard\": {\"index\": %u, \"count\": 2, \"whole\": {\"conns\": 4, \"rate\": 200, "
		 "\"messages\": %llu}},"
		 "\"exact\": {\"origin_ms\": 1000, \"publish_start_ms\": 2000, \"first_send_ms\": %u,"
		 " \"totals\": \"%s\", \"totals_size\": %zu, \"latency\": null, "
		 "\"latency_uncorrected\": null, \"connect\": null, \"e2e\": {\"min_ns\": %lld, "
		 "\"max_ns\": %lld, \"clamped\": 0, \"hdr\": \"%s\"}, \"seconds\": []}}",
		 (unsigned long long)n, (unsigned long long)n, index, (unsigned long long)(2 * n),
		 2001 + index, tot ? tot : "", sizeof(t), (long long)ttfb_ns, (long long)ttfb_ns,
		 hd ? hd : "");
	free(tot);
	free(hd);
	free(h);
	return buf;
}

static void test_http_merge(void)
{
	struct merge m;
	char *a = http_report(0, 30, 150000), *b = http_report(1, 20, 900000);

	CHECK(a && b);
	CHECK(!merge_init(&m));
	if (a && b) {
		CHECK_EQ_INT(merge_add(&m, "a", a, strlen(a)), 0);
		CHECK_EQ_INT(merge_add(&m, "b", b, strlen(b)), 0);
	}
	CHECK(m.o.http_method && !strcmp(m.o.http_method, "PUT"));
	CHECK(m.o.ok_status && !strcmp(m.o.ok_status, "2xx,404"));
	CHECK_EQ_INT(m.o.pipeline, 4);
	CHECK_EQ_INT(m.o.max_body, 4096);
	CHECK_EQ_INT(m.o.think_ns, 250000000);
	CHECK(m.o.http_body && !m.o.no_keepalive);
	CHECK(m.o.http_ok[200] && m.o.http_ok[299] && m.o.http_ok[404]);
	CHECK(!m.o.http_ok[199] && !m.o.http_ok[300] && !m.o.http_ok[403] && !m.o.http_ok[500]);
	CHECK_EQ_INT(m.t.http_resp[200], 50);
	/* The time to first byte: every sample of both, their exact extremes. */
	CHECK_EQ_INT(m.e2e->total, 50);
	CHECK_EQ_INT(m.e2e->min, 150000);
	CHECK_EQ_INT(m.e2e->max, 900000);
	CHECK(m.first_send_ms == 2001.0); /* the earliest first send */
	merge_free(&m);
	free(a);
	free(b);
}

/* The one reading of --ok-status, the command line's and a merge's. */
static void test_ok_parse(void)
{
	static bool ok[HTTP_STATUS_SLOTS];

	CHECK_EQ_INT(http_ok_parse("2XX,404,1xx", 11, ok), 0);
	CHECK(ok[100] && ok[199] && ok[200] && ok[299] && ok[404]);
	CHECK(!ok[300] && !ok[403] && !ok[405] && !ok[500]);
	/* A span, not a string: what follows len is not read. */
	CHECK_EQ_INT(http_ok_parse("503,junk", 3, ok), 0);
	CHECK(ok[503] && !ok[200]);
	static const char *const bad[] = { "", "2xx,", ",2xx", "2x", "2xxx", "600", "0xx", "2x4",
					   "20", "2xx,,3xx", "abc" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ_INT(http_ok_parse(bad[i], strlen(bad[i]), ok), -EINVAL);
		CHECK(ok[503] && !ok[200]); /* untouched */
	}
}

int main(void)
{
	test_ok_parse();
	test_http_merge();
	return t_done("merge_http");
}
