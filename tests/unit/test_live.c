/* The coordinator's live line (dist/live.c): second k of every agent is
 * added bucket by bucket (its p99 is the p99 of all their samples), printed
 * only once every running agent has sent it, or once it is LIVE_LATE_S old
 * (partial); an agent no longer running is not waited for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/live.h"
#include "encoders/hdrlog.h"
#include "stats/clock.h"
#include "stats/hist.h"
#include "t.h"

static const struct hdr_params params = { HIST_SIGFIGS, HIST_LOWEST, HIST_HIGHEST };

/* Agent a's second: n samples of value v, as V2 bytes. */
static int add(struct live *lv, uint32_t a, uint64_t sec, uint64_t sent, int64_t v, uint64_t n,
	       struct hist *all)
{
	struct hist *h = hist_new();
	uint8_t *z = NULL;
	size_t zlen = 0;
	struct ctl_counts c = { .sent = sent, .acked = sent };

	hist_record_n(h, v, n);
	hist_record_n(all, v, n);
	hdr_encode_compressed(h->counts, HIST_COUNTS_LEN, &params, &z, &zlen);
	int r = live_add(lv, a, sec, 1000, &c, z, zlen);
	free(z);
	free(h);
	return r;
}

/* What live_print wrote. */
static char *printed(struct live *lv, const bool *active, uint64_t now_sec)
{
	static char out[4096];
	out[0] = '\0';
	FILE *f = fmemopen(out, sizeof(out), "w");

	live_print(lv, f, active, now_sec * NSEC_PER_SEC);
	fclose(f);
	return out;
}

static void test_merge_and_wait(void)
{
	struct live *lv = live_new(3);
	struct hist *all = hist_new();
	bool active[3] = { true, true, true };
	char want[200];

	CHECK_EQ_INT(add(lv, 0, 100, 10, 1000, 90, all), 0);
	CHECK_EQ_INT(add(lv, 1, 100, 20, 50000, 9, all), 0);
	/* Agent 2 has not sent second 100: nothing yet. */
	CHECK(!strcmp(printed(lv, active, 100), ""));
	CHECK_EQ_INT(add(lv, 2, 100, 30, 9000000, 1, all), 0);
	char *out = printed(lv, active, 100);
	snprintf(want, sizeof(want), "agents 3/3 | sent 60/s acked 60/s");
	CHECK(strstr(out, want) != NULL);
	/* p99 of all 100 samples: the 99th is 50000 ns (0.05 ms), max 9 ms. */
	snprintf(want, sizeof(want), "p50 %.2f p99 %.2f max %.2f ms\n",
		 (double)hist_percentile(all, 50) / 1e6, (double)hist_percentile(all, 99) / 1e6,
		 (double)all->max / 1e6);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "partial") == NULL);
	/* A second already printed is not printed again. */
	CHECK_EQ_INT(add(lv, 0, 100, 5, 1000, 1, all), 0);
	CHECK(!strcmp(printed(lv, active, 100), ""));

	/* Agent 1 stops running: second 101 waits only for 0 and 2. */
	add(lv, 0, 101, 1, 1000, 1, all);
	active[1] = false;
	CHECK(!strcmp(printed(lv, active, 101), ""));
	add(lv, 2, 101, 1, 1000, 1, all);
	CHECK(strstr(printed(lv, active, 101), "agents 2/3 | sent 2/s") != NULL);

	/* Second 102 from agent 0 alone: printed partial once 3 s old. */
	add(lv, 0, 102, 7, 1000, 1, all);
	CHECK(!strcmp(printed(lv, active, 102 + LIVE_LATE_S - 1), ""));
	out = printed(lv, active, 102 + LIVE_LATE_S);
	CHECK(strstr(out, "agents 1/3 | sent 7/s") && strstr(out, "(partial)"));
	/* A damaged histogram is refused. */
	struct ctl_counts c = { 0 };
	CHECK(live_add(lv, 0, 103, 1000, &c, (const uint8_t *)"junk", 4) < 0);
	live_free(lv);
	free(all);
}

/* live_emit hands each printed second to the dashboard as a row. */
static struct live_row got[4];
static size_t n_got;
static int64_t got_p99[4];

static void take(void *ctx, const struct live_row *r)
{
	(void)ctx;
	if (n_got < 4) {
		got_p99[n_got] = hist_percentile(r->h, 99);
		got[n_got++] = *r;
	}
}

static void test_rows(void)
{
	struct live *lv = live_new(2);
	struct hist *all = hist_new();
	bool active[2] = { true, true };
	struct ctl_counts c = { .sent = 7, .acked = 7 };

	add(lv, 0, 200, 10, 1000, 10, all);
	add(lv, 1, 200, 20, 3000, 10, all);
	CHECK_EQ_INT(live_add(lv, 0, 201, 400, &c, NULL, 0), 0); /* a last, short second */
	live_emit(lv, NULL, active, 200 * NSEC_PER_SEC, take, NULL);
	CHECK_EQ_INT(n_got, 1);
	CHECK_EQ_INT(got[0].sec, 200);
	CHECK_EQ_INT(got[0].agents, 2);
	CHECK_EQ_INT(got[0].of, 2);
	CHECK_EQ_INT(got[0].c.sent, 30);
	CHECK_EQ_INT(got[0].len_ms, 1000);
	/* The p99 of all 20 samples (to the histogram's precision), not of one agent. */
	CHECK(got_p99[0] >= 2990 && got_p99[0] <= 3010);
	/* Agent 1 never sends 201: partial once LIVE_LATE_S old. */
	live_emit(lv, NULL, active, (201 + LIVE_LATE_S) * NSEC_PER_SEC, take, NULL);
	CHECK_EQ_INT(n_got, 2);
	CHECK_EQ_INT(got[1].agents, 1);
	CHECK_EQ_INT(got[1].len_ms, 400);
	CHECK_EQ_INT(got[1].c.sent, 7);
	live_free(lv);
	free(all);
}

int main(void)
{
	test_merge_and_wait();
	test_rows();
	return t_done("live");
}
