/* The coordinator's own work (dist/coord_stats.c): merge time summed per
 * second after GO, its median and max over the seconds from the first
 * agent's second to the last (the waits before and after left out);
 * control bytes and messages per agent per second, the DONE reports'
 * bytes apart; nothing counted before start or after end. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dist/coord_stats.h"
#include "encoders/control.h"
#include "stats/clock.h"
#include "t.h"

#define MS NSEC_PER_MSEC
#define S NSEC_PER_SEC

static int near(double a, double b)
{
	return fabs(a - b) < 1e-6 * (fabs(b) + 1);
}

static void test_figures(void)
{
	struct coord_stats s = { 0 };
	struct control_figures f;
	const uint64_t go = 1000 * S;
	uint8_t second[40] = "BLCP\x01", done[3000] = "BLCP\x01";

	second[5] = CTL_SECOND;
	done[5] = CTL_DONE;
	coord_stats_msg(&s, second, sizeof(second));          /* before GO: not counted */
	coord_stats_merge(&s, go - S, go - S + 5 * MS, 1);
	coord_stats_start(&s, go, 500);
	coord_stats_merge(&s, go + 100 * MS, go + 101 * MS, 0); /* waiting for T0: left out */
	/* Seconds 2, 3, 4 after GO: 2 agents' seconds each, and the printing. */
	const uint64_t work[3] = { 3 * MS, 1 * MS, 8 * MS };
	for (int k = 0; k < 3; k++) {
		uint64_t t = go + (uint64_t)(2 + k) * S;
		coord_stats_merge(&s, t, t + work[k] / 2, 1);
		coord_stats_merge(&s, t + 10 * MS, t + 10 * MS + work[k] / 4, 1);
		coord_stats_merge(&s, t + 20 * MS, t + 20 * MS + work[k] / 4, 0);
		coord_stats_msg(&s, second, sizeof(second));
		coord_stats_msg(&s, second, sizeof(second));
	}
	coord_stats_merge(&s, go + 6 * S, go + 6 * S + 50 * MS, 0); /* after: left out */
	coord_stats_msg(&s, done, sizeof(done));
	coord_stats_msg(&s, done, sizeof(done));
	coord_stats_end(&s, go + 8 * S, 500 + 16000);
	coord_stats_msg(&s, second, sizeof(second));          /* after the end: not counted */
	coord_stats_figures(&s, 2, &f);
	CHECK_EQ_INT(f.agents, 2);
	CHECK(near(f.run_s, 8));
	CHECK_EQ_INT(f.messages_in, 8);
	CHECK_EQ_INT(f.bytes_in, 16000);
	CHECK_EQ_INT(f.report_bytes_in, 6000);
	CHECK(near(f.bytes_in_per_agent_s, 1000));
	CHECK(near(f.bytes_in_per_agent_s_running, 625));
	CHECK(near(f.messages_in_per_agent_s, 0.5));
	CHECK_EQ_INT(f.merge_seconds, 3);
	CHECK(near(f.merge_us_median, 3000));
	CHECK(near(f.merge_us_max, 8000));
	CHECK(near(f.merge_us_mean, 4000));
	coord_stats_free(&s);
}

static void test_never_started(void)
{
	struct coord_stats s = { 0 };
	struct control_figures f;

	coord_stats_merge(&s, 5 * S, 6 * S, 1);
	coord_stats_figures(&s, 3, &f);
	CHECK_EQ_INT(f.agents, 0); /* no control member, no line */
	/* Started, ended, no agent's second: traffic but no merge figures. */
	coord_stats_start(&s, 10 * S, 0);
	coord_stats_end(&s, 12 * S, 400);
	coord_stats_figures(&s, 1, &f);
	CHECK_EQ_INT(f.agents, 1);
	CHECK_EQ_INT(f.merge_seconds, 0);
	CHECK(near(f.bytes_in_per_agent_s, 200));
	coord_stats_free(&s);
}

int main(void)
{
	test_figures();
	test_never_started();
	return t_done("coord_stats");
}
