/* Stats and the summary: counter sums, error names and keys, and the
 * summary's accounting line. The JSON report is test_report_json.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "encoders/mqtt.h"
#include "report/report.h"
#include "stats/stats.h"
#include "report_fixture.h"
#include "t.h"

static void test_err_names(void)
{
	for (int i = 0; i < ERR__COUNT; i++) {
		const char *n = blast_err_names[i];

		CHECK(n != NULL);
		if (!n)
			continue;
		/* name, or kind:name like the report's other keys (connack:...) */
		size_t a = strspn(n, "abcdefghijklmnopqrstuvwxyz_");
		CHECK(a > 0);
		if (n[a] == ':')
			a += 1 + strspn(n + a + 1, "abcdefghijklmnopqrstuvwxyz_");
		CHECK(a == strlen(n) && n[a - 1] != ':');
		for (int k = 0; k < i; k++)
			CHECK(!blast_err_names[k] || strcmp(blast_err_names[k], n));
	}
	CHECK(!strcmp(blast_err_names[ERR_CONN_RESET], "conn_reset"));
	/* The WebSocket upgrade's: beside upgrade_refused:<HTTP status>. */
	CHECK(!strcmp(blast_err_names[ERR_UPGRADE_CLOSED], "upgrade_refused:closed"));
	CHECK(!strcmp(blast_err_names[ERR_UPGRADE_WRONG_ACCEPT], "upgrade_invalid:accept"));
	CHECK(!strcmp(blast_err_names[ERR_UPGRADE_SUBPROTOCOL], "upgrade_invalid:subprotocol"));
}

static void test_totals(void)
{
	static struct blast_totals a, b;
	uint64_t *pa = (uint64_t *)&a, *pb = (uint64_t *)&b;
	size_t n = sizeof(a) / sizeof(uint64_t);
	size_t bad = 0;

	/* Every field, gauges included, is summed. */
	for (size_t i = 0; i < n; i++) {
		pa[i] = i;
		pb[i] = 1000 + 3 * i;
	}
	totals_add(&a, &b);
	for (size_t i = 0; i < n; i++)
		if (pa[i] != 1000 + 4 * i)
			bad++;
	CHECK_EQ_INT(bad, 0);

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(totals_error_count(&a), 0);
	a.sent = 50;
	a.errors[ERR_CONN_RESET] = 2;
	a.errors[ERR_FRAME_TOO_LARGE] = 1;
	a.connack[0] = 100; /* accepted: not an error */
	a.connack[5] = 3;
	a.pub_reason[0x97] = 4;
	a.disconnect[0x8b] = 5;
	CHECK_EQ_INT(totals_error_count(&a), 15);
}

static void test_error_keys(void)
{
	char buf[96];

	CHECK(!strcmp(report_error_key(buf, sizeof(buf), NULL, ERR_CONN_RESET, 4), "conn_reset"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "error", ERR_CONNECT_REFUSED, 4),
		      "connect_refused"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "error", 99, 4), "error_99"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "connack", 5, MQTT_V311),
		      "connack:not_authorized"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "connack", 0x87, MQTT_V5),
		      "connack:not_authorized"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "puback", 0x97, MQTT_V5),
		      "puback:quota_exceeded"));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "disconnect", 0x8b, MQTT_V5),
		      "disconnect:server_shutting_down"));
	/* Same names as the encoder's tables, whatever they are. */
	char want[96];

	snprintf(want, sizeof(want), "connack:%s", mqtt_connack_name(MQTT_V311, 4));
	CHECK(!strcmp(report_error_key(buf, sizeof(buf), "connack", 4, MQTT_V311), want));
	/* Truncated, still terminated. */
	CHECK_EQ_INT(strlen(report_error_key(buf, 8, "disconnect", 0x8b, MQTT_V5)), 7);
}

static void test_summary(void)
{
	static struct blast_opts o;
	struct blast_results r;
	char *s;

	fill_results(&r, &o);
	s = summary_of(&r);
	CHECK(s != NULL);
	if (!s)
		return;
	fputs(s, stderr); /* shown in the test log, for eyes */
	CHECK(strstr(s, "sent = acked + failed + unacked: OK") != NULL);
	CHECK(strstr(s, "MISMATCH") == NULL);
	CHECK(strstr(s, "mqtt") != NULL);
	CHECK(strstr(s, "127.0.0.1:1883") != NULL);
	CHECK(strstr(s, "[::1]:1884") != NULL);
	CHECK(strstr(s, "connack:not_authorized") != NULL);
	CHECK(strstr(s, "puback:quota_exceeded") != NULL);
	CHECK(strstr(s, "conn_reset") != NULL);
	CHECK(strstr(s, "99.0 msg/s") != NULL);
	CHECK(strstr(s, "p99.9") != NULL);
	CHECK(strstr(s, "corrected") != NULL);
	CHECK(strstr(s, "uncorrected") != NULL);
	CHECK(strstr(s, "connect ") != NULL);
	CHECK(strstr(s, "500.2") != NULL); /* corrected p50 in microseconds */
	free(s);

	r.t.unacked = 0;
	s = summary_of(&r);
	CHECK(s && strstr(s, "sent = acked + failed + unacked: MISMATCH") != NULL);
	free(s);

	memset(&r, 0, sizeof(r));
	s = summary_of(&r);
	CHECK(s && strstr(s, ": OK") != NULL);
	free(s);
}

int main(void)
{
	test_err_names();
	test_totals();
	test_error_keys();
	test_summary();
	return t_done("test_summary");
}
