/* The live dashboard's --find-limit trials and --probe wire figures
 * (report/dashboard_trials.c, dashboard_wire.c): nothing when off, valid
 * JSON whatever a trial's reason holds, the answer in words, and a wire
 * second past those stored reads as zeros. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/dashboard_parts.h"
#include "report/json_read.h"
#include "t.h"

/* {"x":0 + what write() adds + } into buf (malloc'd). */
static char *doc(void (*write)(FILE *f, const void *arg), const void *arg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	fputs("{\"x\":0", f);
	write(f, arg);
	fputc('}', f);
	fclose(f);
	return buf;
}

static void write_trials(FILE *f, const void *arg)
{
	dash_trials_json(f, arg);
}

static void test_trials(void)
{
	struct dash_trials t = { 0 };
	struct limit_trial tr[3] = { 0 };
	struct json_val root, v, w;
	char err[120];
	size_t len;

	char *s = doc(write_trials, &t, &len);
	CHECK(!strcmp(s, "{\"x\":0}")); /* off: not a --find-limit run */
	free(s);

	t.on = true;
	tr[0] = (struct limit_trial){ .offered = 100, .pass = 1, .judged = 1, .p99_ns = 250000 };
	snprintf(tr[0].why, sizeof(tr[0].why), "ok");
	snprintf(tr[0].evidence, sizeof(tr[0].evidence), "a \"quoted\"\nline");
	tr[1] = (struct limit_trial){ .offered = 200 };
	snprintf(tr[1].why, sizeof(tr[1].why), "p99 71.2ms > 50ms \\ \x01");
	snprintf(tr[1].widened, sizeof(tr[1].widened), "--inflight 256");
	CHECK_EQ_INT(dash_trials_set(&t, tr, 1), 0);
	s = doc(write_trials, &t, &len);
	CHECK_EQ_INT(json_read(s, len, &root, err, sizeof(err)), 0);
	CHECK(json_member(&root, "trials", &v) && json_type_of(&v) == JSON_ARRAY);
	CHECK(json_member(&root, "limit", &v) && json_type_of(&v) == JSON_NULL);
	free(s);

	/* The search's answer: trial 1 of 2, confirmed. */
	CHECK_EQ_INT(dash_trials_set(&t, tr, 2), 0);
	struct blast_results r = { .trials = tr, .n_trials = 2, .limit_trial = 0,
				   .stop_reason = "confirmed" };
	dash_trials_answer(&t, &r);
	s = doc(write_trials, &t, &len);
	CHECK_EQ_INT(json_read(s, len, &root, err, sizeof(err)), 0);
	CHECK(json_member(&root, "limit", &v) && json_type_of(&v) == JSON_OBJECT);
	CHECK(json_member(&v, "says", &w) &&
	      json_string_eq(&w, "100 msg/s sustained (trial 1, 0.0 s, confirmed)"));
	CHECK(json_member(&v, "trial", &w) && w.len == 1 && w.p[0] == '1');
	CHECK(json_member(&v, "found", &w) && json_type_of(&w) == JSON_TRUE);
	CHECK(json_member(&v, "bound", &w) && json_type_of(&w) == JSON_NULL);
	CHECK(strstr(s, "\"rerun_with\":\"--inflight 256\""));
	CHECK(strstr(s, "p99 71.2ms > 50ms \\\\ \\u0001"));
	free(s);

	/* None passed. */
	r.limit_trial = -1;
	r.stop_reason = "no_rate_passed";
	dash_trials_answer(&t, &r);
	s = doc(write_trials, &t, &len);
	CHECK_EQ_INT(json_read(s, len, &root, err, sizeof(err)), 0);
	CHECK(json_member(&root, "limit", &v) && json_member(&v, "trial", &w) &&
	      json_type_of(&w) == JSON_NULL);
	CHECK(json_member(&v, "says", &w) && json_string_eq(&w, "none found (no_rate_passed)"));
	free(s);
	dash_trials_free(&t);
}

static void write_wire_row(FILE *f, const void *arg)
{
	dash_wire_row_json(f, arg, 70);
}

static void write_wire_total(FILE *f, const void *arg)
{
	dash_wire_total_json(f, arg);
}

static void test_wire(void)
{
	struct dash_wire w = { 0 };
	struct dash_wire_row one = { .count = 3, .p50 = 1500, .p90 = 2000, .p99 = 2500,
				     .p999 = 2500, .max = 2500 };
	struct dash_wire_row all = one;
	struct dash_wire_row got;
	size_t len;

	char *s = doc(write_wire_total, &w, &len);
	CHECK(!strcmp(s, "{\"x\":0}")); /* not probed: nothing */
	free(s);
	CHECK_EQ_INT(dash_wire_take(&w, NULL, NULL, 0, &got, &all), -1);

	dash_wire_store(&w, 5, &one, &all);
	s = doc(write_wire_total, &w, &len);
	CHECK(!strcmp(s, "{\"x\":0,\"wire\":{\"count\":3,\"p50_us\":1.5,\"p90_us\":2.0,"
			 "\"p99_us\":2.5,\"p999_us\":2.5,\"max_us\":2.5}}"));
	free(s);
	CHECK(w.rows[5].count == 3 && w.rows[4].count == 0);
	s = doc(write_wire_row, &w, &len); /* second 70: not stored yet */
	CHECK(!strcmp(s, "{\"x\":0,\"wire\":{\"count\":0,\"p50_us\":0.0,\"p90_us\":0.0,"
			 "\"p99_us\":0.0,\"p999_us\":0.0,\"max_us\":0.0}}"));
	free(s);
	dash_wire_store(&w, 70, &one, &all); /* grows, the seconds between zeroed */
	CHECK(w.rows[70].count == 3 && w.rows[69].count == 0 && w.rows[5].count == 3);
	dash_wire_free(&w);
}

int main(void)
{
	test_trials();
	test_wire();
	return t_done("test_dashboard_parts");
}
