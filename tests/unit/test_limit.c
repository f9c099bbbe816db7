/* --find-limit's decisions on made-up trial results: the flag parsers, the
 * verdict of a trial (loss, backlog, a growing lag, SLOs, connections), and
 * the sequence of rates the search tries against a broker whose capacity
 * is known. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "limit/limit.h"
#include "t.h"

static void test_parse(void)
{
	struct limit_cfg c;
	char err[256];

	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(limit_parse_slo(&c, "p99=50ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_parse_slo(&c, "p50=2ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_parse_slo(&c, "p99.9=1s", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_parse_slo(&c, "connect=100ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.n_slo, 4);
	CHECK_EQ_INT(c.slo[1].ns, 2000000);
	CHECK_EQ_INT(c.slo[2].ns, 1000000000);
	CHECK_EQ_INT(c.slo[0].key, SLO_P99);
	CHECK_EQ_INT(c.slo[0].ns, 50000000);
	CHECK_EQ_INT(c.slo[2].key, SLO_P999);
	CHECK_EQ_INT(c.slo[3].key, SLO_CONNECT);
	/* The same key again replaces its value. */
	CHECK_EQ_INT(limit_parse_slo(&c, "p99=20ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.n_slo, 4);
	CHECK_EQ_INT(c.slo[0].ns, 20000000);
	CHECK_EQ_INT(limit_parse_slo(&c, "p90=2.5ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.slo[4].ns, 2500000);
	CHECK_EQ_INT(limit_parse_slo(&c, "p50=800us", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.slo[1].ns, 800000);

	static const char *const bad_slo[] = { "p99=abc", "p99", "p98=1ms", "=1ms", "p99=", "p99=0ms",
					       "latency=5ms", "", "p99=50", "p99=-1ms", "p99=5 ms",
					       "p99=2h" };
	for (size_t i = 0; i < sizeof(bad_slo) / sizeof(bad_slo[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(limit_parse_slo(&c, bad_slo[i], err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "--slo") && !strchr(err, '\n'));
	}

	CHECK_EQ_INT(limit_parse_max_loss(&c, "0", err, sizeof(err)), 0);
	CHECK(!c.loss_is_frac && c.max_loss == 0);
	CHECK_EQ_INT(limit_parse_max_loss(&c, "25", err, sizeof(err)), 0);
	CHECK(!c.loss_is_frac && c.max_loss == 25);
	CHECK_EQ_INT(limit_parse_max_loss(&c, "0.5%", err, sizeof(err)), 0);
	CHECK(c.loss_is_frac && c.max_loss_frac > 0.00499 && c.max_loss_frac < 0.00501);
	static const char *const bad_loss[] = { "-1", "abc", "1.5", "%", "101%", "1e3", "", "5x" };
	for (size_t i = 0; i < sizeof(bad_loss) / sizeof(bad_loss[0]); i++)
		CHECK_EQ_INT(limit_parse_max_loss(&c, bad_loss[i], err, sizeof(err)), -EINVAL);
}

/* A trial that kept up: rate r for 2 s, every message acked in ~1 ms. */
static struct limit_measure good(uint64_t r)
{
	struct limit_measure m;

	memset(&m, 0, sizeof(m));
	m.offered = r;
	m.planned_s = 2;
	m.publish_s = 2;
	m.duration_s = 2.001;
	m.sent = m.acked = 2 * r;
	m.backlog_at_stop = r / 1000 + 1; /* Little: rate x 1 ms */
	m.p50_ns = 800000;
	m.p90_ns = 1000000;
	m.p99_ns = 2000000;
	m.p999_ns = 3000000;
	m.mean_ns = 1000000;
	m.conns_ok = 10;
	m.peak_conns = 10;
	return m;
}

static void test_verdict_rate(void)
{
	struct limit_cfg c;
	struct limit_trial tr;
	struct limit_measure m;
	char err[64];

	memset(&c, 0, sizeof(c));
	m = good(1000);
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(tr.pass);
	CHECK(!strcmp(tr.why, "ok"));
	CHECK_EQ_INT(tr.offered, 1000);
	CHECK(tr.achieved > 999 && tr.achieved < 1001);
	CHECK(tr.acked_rate > 999 && tr.acked_rate < 1000);
	CHECK_EQ_INT(tr.p99_ns, 2000000);

	/* A slow broker with a steady 300 ms latency still keeps up. */
	m = good(1000);
	m.mean_ns = 300e6;
	m.backlog_at_stop = 300;
	m.duration_s = 2.3;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(tr.pass);

	/* Lost messages, over --max-loss 0, then under --max-loss 10 and 1%. */
	m = good(1000);
	m.acked -= 3;
	m.unacked = 3;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass);
	CHECK(strstr(tr.why, "lost 3 > 0"));
	CHECK_EQ_INT(limit_parse_max_loss(&c, "10", err, sizeof(err)), 0);
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(tr.pass);
	CHECK_EQ_INT(limit_parse_max_loss(&c, "0.1%", err, sizeof(err)), 0); /* 2 of 2000 */
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass);
	CHECK_EQ_INT(limit_parse_max_loss(&c, "1%", err, sizeof(err)), 0);
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(tr.pass);
	memset(&c, 0, sizeof(c));

	/* Errors count against --max-loss too. */
	m = good(1000);
	m.errors = 1;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && strstr(tr.why, "1 errors > 0"));

	/* Backlog: due messages never sent. 1% is tolerated, 5% is not. */
	m = good(1000);
	m.sent = m.acked = 1990;
	m.not_sent = 10;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(tr.pass);
	m.sent = m.acked = 1900;
	m.not_sent = 100;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && strstr(tr.why, "behind: 100 of 2000 due not sent"));

	/* In flight keeps growing (the window absorbs it, nothing is left
	 * unsent): 10% over capacity for 2 s leaves a lag of 0.2 s at the end
	 * against a mean of 0.1 s. */
	m = good(1000);
	m.backlog_at_stop = 200;
	m.mean_ns = 100e6;
	m.duration_s = 2.2;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && strstr(tr.why, "behind: lag grew to 200.0ms"));

	/* Nothing acked at all. */
	m = good(1000);
	m.acked = 0;
	m.unacked = m.sent;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && strstr(tr.why, "nothing acked"));

	/* SLOs: each percentile against its bound; several reasons joined. */
	CHECK_EQ_INT(limit_parse_slo(&c, "p99=1ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_parse_slo(&c, "p50=1ms", err, sizeof(err)), 0);
	m = good(1000);
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass);
	CHECK(!strcmp(tr.why, "p99 2.0ms > 1.0ms"));
	m.unacked = 1;
	m.acked--;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!strcmp(tr.why, "lost 1 > 0; p99 2.0ms > 1.0ms"));
	CHECK_EQ_INT(limit_parse_slo(&c, "p99=1us", err, sizeof(err)), 0);
	m = good(1000);
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!strcmp(tr.why, "p99 2.0ms > 1.0us"));

	/* Fan-out: missing receipts are lost messages. */
	memset(&c, 0, sizeof(c));
	m = good(1000);
	m.lost_receipts = 4;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && strstr(tr.why, "lost 4 > 0"));

	/* Interrupted or broken trials never pass, whatever they measured. */
	m = good(1000);
	m.interrupted = true;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "interrupted"));
	m.broken = true;
	limit_verdict(&c, LIMIT_RATE, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "blast failed"));
}

static void test_verdict_conns(void)
{
	struct limit_cfg c;
	struct limit_trial tr;
	struct limit_measure m;
	char err[64];

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	m.offered = 5000;
	m.planned_s = 2;
	m.ramp_s = 0.5;
	m.conns_ok = 5000;
	m.peak_conns = 5000;
	m.connect_p50_ns = 2e6;
	m.connect_p90_ns = 5e6;
	m.connect_p99_ns = 50e6;
	m.connect_p999_ns = 90e6;
	m.connect_count = 5000;
	limit_verdict(&c, LIMIT_CONNS, &m, &tr);
	CHECK(tr.pass);
	CHECK(tr.achieved == 5000);
	CHECK(tr.acked_rate > 9999 && tr.acked_rate < 10001); /* connections per second */
	CHECK_EQ_INT(tr.p99_ns, 50000000);

	CHECK_EQ_INT(limit_parse_slo(&c, "connect=20ms", err, sizeof(err)), 0);
	limit_verdict(&c, LIMIT_CONNS, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "connect p99 50.0ms > 20.0ms"));

	memset(&c, 0, sizeof(c));
	m.conns_failed = 7;
	m.peak_conns = 4993;
	m.errors = 7;
	limit_verdict(&c, LIMIT_CONNS, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "7 connects failed; held 4993 of 5000"));
}

/* The connect-rate stage: connections opened per second against --ramp. */
static void test_verdict_conn_rate(void)
{
	struct limit_cfg c;
	struct limit_trial tr;
	struct limit_measure m;
	char err[64];

	/* 2,000 connections asked at 2,000/s, opened in 1.02 s. */
	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	m.offered = 2000;
	m.conns = 2000;
	m.planned_s = 0.2;
	m.ramp_s = 1.02;
	m.conns_ok = m.peak_conns = m.connect_count = 2000;
	m.connect_p50_ns = 300e3;
	m.connect_p90_ns = 800e3;
	m.connect_p99_ns = 3e6;
	m.connect_p999_ns = 4e6;
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(tr.pass && !strcmp(tr.why, "ok"));
	CHECK(tr.conn_rate);
	CHECK_EQ_INT(tr.conns, 2000);
	CHECK_EQ_INT(tr.offered, 2000);
	CHECK(tr.achieved > 1960 && tr.achieved < 1961); /* opened per second */
	CHECK(tr.acked_rate == tr.achieved);
	CHECK(tr.duration_s > 1.21 && tr.duration_s < 1.23);
	CHECK_EQ_INT(tr.p99_ns, 3000000);

	/* The ramp fell behind: 10% slower than asked fails it. */
	m.ramp_s = 1.1; /* 1,818/s: 9.1% behind */
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(tr.pass);
	m.ramp_s = 1.2; /* 1,667/s */
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "behind: opened 1667/s"));

	/* Connects refused, and the connect SLO, whatever the pace. */
	m.ramp_s = 1;
	m.conns_ok = m.peak_conns = 1990;
	m.conns_failed = 10;
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "10 connects failed; held 1990 of 2000"));
	CHECK_EQ_INT(limit_parse_max_loss(&c, "1%", err, sizeof(err)), 0); /* 20 of 2000 */
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(tr.pass);
	memset(&c, 0, sizeof(c));
	m.conns_failed = 0;
	m.conns_ok = m.peak_conns = 2000;
	CHECK_EQ_INT(limit_parse_slo(&c, "connect=2ms", err, sizeof(err)), 0);
	limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr);
	CHECK(!tr.pass && !strcmp(tr.why, "connect p99 3.0ms > 2.0ms"));

	/* A connection-count trial is no connect-rate one. */
	memset(&c, 0, sizeof(c));
	limit_verdict(&c, LIMIT_CONNS, &m, &tr);
	CHECK(tr.pass && !tr.conn_rate);
	CHECK_EQ_INT(tr.conns, 2000);
	CHECK(tr.achieved == 2000); /* held */

	/* How many a trial opens: rate x trial, at most the count held. */
	CHECK_EQ_INT(limit_ramp_conns(100, 1, 5000), 100);
	CHECK_EQ_INT(limit_ramp_conns(3000, 5, 5000), 5000);
	CHECK_EQ_INT(limit_ramp_conns(1, 0.5, 5000), 1);
	CHECK_EQ_INT(limit_ramp_conns(700, 2, 0), 1400);
}

/* Drives a search against a broker that passes every rate <= cap (and,
 * for full-length trials, every rate <= cap_full). Returns the trial count
 * and the answer's rate (0 if none) in *answer; rates[] gets the sequence. */
static unsigned drive(uint64_t start, uint64_t ceiling, uint64_t cap, uint64_t cap_full,
		      uint64_t *rates, bool *fulls, uint64_t *answer, const char **end)
{
	struct limit_search s;
	struct limit_trial tr[LIMIT_MAX_TRIALS];
	uint64_t r;
	bool full, confirmed;
	unsigned n = 0;

	memset(tr, 0, sizeof(tr));
	limit_search_init(&s, start, ceiling, 1);
	while (n < LIMIT_MAX_TRIALS && limit_search_next(&s, &r, &full)) {
		rates[n] = r;
		fulls[n] = full;
		tr[n].offered = r;
		tr[n].pass = r <= (full ? cap_full : cap);
		limit_search_record(&s, (int)n, tr[n].pass);
		n++;
	}
	int a = limit_search_answer(&s, tr, n, &confirmed);
	*answer = a >= 0 ? tr[a].offered : 0;
	CHECK(a < 0 || confirmed);
	*end = s.end;
	return n;
}

static void test_search(void)
{
	uint64_t rates[LIMIT_MAX_TRIALS], ans;
	bool fulls[LIMIT_MAX_TRIALS];
	const char *end;
	unsigned n;

	/* Capacity 4,000 msg/s from 100: double to 6,400 (fails twice),
	 * bisect 3,200..6,400 down to within 5%, confirm. */
	n = drive(100, 10000000, 4000, 4000, rates, fulls, &ans, &end);
	static const uint64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400, 6400, 4800, 4000,
					 4400, 4200, 4000 };
	CHECK_EQ_INT(n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_EQ_INT(rates[i], want[i]);
	for (unsigned i = 0; i + 1 < n; i++)
		CHECK(!fulls[i]);
	CHECK(fulls[n - 1]);
	CHECK_EQ_INT(ans, 4000);
	CHECK(!strcmp(end, "confirmed"));

	/* Any capacity: the answer is within 5% below it, and the search is short. */
	static const uint64_t caps[] = { 1, 7, 99, 100, 101, 12345, 999999, 3000000 };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		n = drive(100, 10000000, caps[i], caps[i], rates, fulls, &ans, &end);
		CHECK(ans <= caps[i]);
		CHECK((double)ans >= (double)caps[i] * 0.95 - 1);
		CHECK(n <= 30);
		CHECK(!strcmp(end, "confirmed"));
	}

	/* Nothing passes: halve down to 1 msg/s, then say so. */
	n = drive(100, 10000000, 0, 0, rates, fulls, &ans, &end);
	static const uint64_t down[] = { 100, 100, 50, 25, 12, 6, 3, 1 };
	CHECK_EQ_INT(n, 8);
	for (unsigned i = 0; i < n && i < 8; i++)
		CHECK_EQ_INT(rates[i], down[i]);
	CHECK_EQ_INT(ans, 0);
	CHECK(!strcmp(end, "no_rate_passed"));

	/* Short trials pass up to 5,000 but full ones only up to 4,200:
	 * confirmation steps down 10%, then 25% (5,000, 4,500, 3,375). */
	n = drive(1000, 10000000, 5000, 4200, rates, fulls, &ans, &end);
	CHECK_EQ_INT(ans, 3375);
	CHECK(!strcmp(end, "confirmed"));
	CHECK(fulls[n - 1] && fulls[n - 2] && fulls[n - 3] && !fulls[n - 4]);
	CHECK_EQ_INT(rates[n - 3], 5000);
	CHECK_EQ_INT(rates[n - 2], 4500);

	/* ... and when no full-length trial holds, there is no answer. */
	n = drive(1000, 10000000, 5000, 10, rates, fulls, &ans, &end);
	CHECK_EQ_INT(ans, 0);
	CHECK(!strcmp(end, "no_rate_held"));
	CHECK(fulls[n - 1] && fulls[n - 2] && fulls[n - 3] && fulls[n - 4] && !fulls[n - 5]);
	CHECK_EQ_INT(rates[n - 4], 5000);
	CHECK_EQ_INT(rates[n - 3], 4500);
	CHECK_EQ_INT(rates[n - 2], 3375);
	CHECK_EQ_INT(rates[n - 1], 1687);

	/* The ceiling stops the climb; the answer says so. */
	n = drive(100, 1000, 1000000, 1000000, rates, fulls, &ans, &end);
	CHECK_EQ_INT(ans, 1000);
	CHECK(!strcmp(end, "ceiling"));
	CHECK_EQ_INT(rates[n - 2], 1000);
	CHECK_EQ_INT(rates[n - 3], 800);

	/* A single failure while climbing (noise) is run again and passes. */
	{
		struct limit_search s;
		uint64_t r;
		bool full;
		limit_search_init(&s, 100, 10000000, 1);
		limit_search_record(&s, 0, true);  /* 100 */
		limit_search_record(&s, 1, false); /* 200: a bad second */
		CHECK(limit_search_next(&s, &r, &full) && r == 200 && !full);
		limit_search_record(&s, 2, true);  /* 200 again: fine */
		CHECK(limit_search_next(&s, &r, &full) && r == 400);
		limit_search_record(&s, 3, false);
		CHECK(limit_search_next(&s, &r, &full) && r == 400);
		limit_search_record(&s, 4, false); /* twice: the first failure */
		CHECK(limit_search_next(&s, &r, &full) && r == 300 && s.phase == LP_BISECT);
	}
}

/* --find-limit conns end to end in its decisions: the count search, then
 * the connect-rate search at most that many connections per trial, its
 * verdicts from a broker that holds 5,000 connections and opens at most
 * 2,700 a second (so asking 3,000/s is within 10%, 3,100/s is not). */
static void test_conns_then_rate(void)
{
	static const double short_s = 1, full_s = 5;
	struct limit_search s;
	struct limit_trial tr[LIMIT_MAX_TRIALS];
	uint64_t r, rates[LIMIT_MAX_TRIALS], conns[LIMIT_MAX_TRIALS], held;
	bool full, fulls[LIMIT_MAX_TRIALS], confirmed;
	unsigned n = 0;
	const char *end;

	n = drive(100, 1000000, 5000, 5000, rates, fulls, &held, &end);
	CHECK_EQ_INT(held, 5000);
	CHECK(!strcmp(end, "confirmed"));

	struct limit_cfg c;
	memset(&c, 0, sizeof(c));
	memset(tr, 0, sizeof(tr));
	n = 0;
	limit_search_init(&s, 100, 1000000, 1);
	while (n < LIMIT_MAX_TRIALS && limit_search_next(&s, &r, &full)) {
		struct limit_measure m;
		memset(&m, 0, sizeof(m));
		m.offered = r;
		m.conns = limit_ramp_conns(r, full ? full_s : short_s, held);
		m.planned_s = 0.2;
		m.ramp_s = (double)m.conns / (double)(r < 2700 ? r : 2700);
		m.conns_ok = m.peak_conns = m.connect_count = m.conns;
		limit_verdict(&c, LIMIT_CONN_RATE, &m, &tr[n]);
		rates[n] = r;
		conns[n] = m.conns;
		fulls[n] = full;
		limit_search_record(&s, (int)n, tr[n].pass);
		n++;
	}
	static const uint64_t want[] = { 100, 200, 400, 800, 1600, 3200, 3200, 2400, 2800, 3000,
					 3100, 3000 };
	static const uint64_t want_conns[] = { 100, 200, 400, 800, 1600, 3200, 3200, 2400, 2800,
					       3000, 3100, 5000 };
	CHECK_EQ_INT(n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_EQ_INT(rates[i], want[i]);
		CHECK_EQ_INT(conns[i], want_conns[i]);
		CHECK(fulls[i] == (i == n - 1));
	}
	CHECK(!tr[5].pass && strstr(tr[5].why, "behind: opened 2700/s"));
	CHECK(!tr[10].pass && tr[9].pass);
	int a = limit_search_answer(&s, tr, n, &confirmed);
	CHECK(confirmed && a == (int)n - 1);
	CHECK_EQ_INT(tr[a].offered, 3000);
	CHECK(!strcmp(s.end, "confirmed"));

	/* At 12,000 connections held, the full-length confirmation opens
	 * 15,000/s x 5 s = 75,000: capped at 12,000. */
	CHECK_EQ_INT(limit_ramp_conns(15000, full_s, 12000), 12000);
}

/* A search cut short (timeout, SIGINT) offers its best short trial,
 * unconfirmed, below any full-length failure. */
static void test_cut_short(void)
{
	struct limit_search s;
	struct limit_trial tr[4];
	bool confirmed;

	memset(tr, 0, sizeof(tr));
	limit_search_init(&s, 100, 10000, 1);
	tr[0].offered = 100, tr[0].pass = true;
	limit_search_record(&s, 0, true);
	tr[1].offered = 200, tr[1].pass = true;
	limit_search_record(&s, 1, true);
	CHECK_EQ_INT(limit_search_answer(&s, tr, 2, &confirmed), 1);
	CHECK(!confirmed);
	tr[2].offered = 400, tr[2].pass = false;
	limit_search_record(&s, 2, false);
	CHECK_EQ_INT(limit_search_answer(&s, tr, 3, &confirmed), 1);
	CHECK(!confirmed);
}

int main(void)
{
	test_parse();
	test_verdict_rate();
	test_verdict_conns();
	test_verdict_conn_rate();
	test_search();
	test_conns_then_rate();
	test_cut_short();
	return t_done("test_limit");
}
