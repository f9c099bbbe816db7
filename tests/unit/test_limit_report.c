/* --find-limit's table and answer with the trials' own verdicts: whose
 * limit the answer is (client-, network-, broker-bound), the reruns, and
 * nothing said when the ceiling answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "report/report.h"
#include "stats/verdict.h"
#include "t.h"

static struct limit_trial judged(uint64_t offered, bool pass, enum bottleneck b, const char *ev)
{
	struct limit_trial t;

	memset(&t, 0, sizeof(t));
	t.offered = offered;
	t.achieved = (double)offered;
	t.duration_s = 1;
	t.pass = pass;
	snprintf(t.why, sizeof(t.why), "%s", pass ? "ok" : "behind: 10 of 100 due not sent");
	t.judged = 1;
	t.bottleneck = (uint8_t)b;
	t.inflight = 64;
	t.workers = 2;
	snprintf(t.evidence, sizeof(t.evidence), "%s", ev);
	return t;
}

static char *print(const struct blast_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	limit_print(f, r);
	fclose(f);
	return buf;
}

int main(void)
{
	struct blast_opts o;
	struct limit_trial tr[5];
	char line[640];

	memset(&o, 0, sizeof(o));
	o.limit.mode = LIMIT_RATE;
	tr[0] = judged(1000, true, BOTTLENECK_BROKER, "sends kept the schedule");
	tr[1] = judged(2000, false, BOTTLENECK_CLIENT_WINDOW, "window full");
	snprintf(tr[1].widened, sizeof(tr[1].widened), "--inflight 256");
	tr[2] = judged(2000, true, BOTTLENECK_BROKER, "sends kept the schedule");
	tr[2].inflight = 256;
	tr[3] = judged(4000, false, BOTTLENECK_CLIENT_CPU, "cpu 100%; blast cannot go further: x");
	tr[3].client_bound = 1;
	tr[3].inflight = 256;
	tr[4] = judged(2000, true, BOTTLENECK_BROKER, "sends kept the schedule");
	tr[4].inflight = 256;
	struct blast_results r = { .opts = &o, .trials = tr, .n_trials = 5, .limit_trial = 4,
				   .limit_bound_trial = 4, .stop_reason = "confirmed" };

	/* Client-bound: the answer is blast's, with the evidence. */
	CHECK(limit_client_bound(&r));
	CHECK(limit_bound_line(line, sizeof(line), &r));
	CHECK(!strcmp(line, "client-bound at 2000 msg/s: cpu 100%; blast cannot go further: x "
			    "(trial 4 failed at 4000 msg/s, client: cpu)"));
	char *out = print(&r);
	CHECK(strstr(out, "\nlimit: client-bound at 2000 msg/s, blast's limit and not the broker's "
			  "(trial 5, 1.0 s, confirmed)\n") != NULL);
	CHECK(strstr(out, "\nclient-bound at 2000 msg/s: cpu 100%") != NULL);
	CHECK(strstr(out, "client: window        FAIL: behind: 10 of 100 due not sent; rerun with "
			  "--inflight 256\n") != NULL);
	CHECK(strstr(out, "client: cpu           FAIL: behind: 10 of 100 due not sent; "
			  "client-bound\n") != NULL);
	CHECK(strstr(out, "\nwidened: 1 trial(s) failed on blast's own window or CPU and ran again; "
			  "the answer ran with --inflight 256 --workers 2 (the search began "
			  "with --inflight 64 --workers 2)\n") != NULL);
	free(out);

	/* The broker's: said as such, and the answer line is the usual one. */
	tr[3] = judged(4000, false, BOTTLENECK_BROKER, "no ack for 1 s");
	CHECK(!limit_client_bound(&r));
	CHECK(limit_bound_line(line, sizeof(line), &r));
	CHECK(!strcmp(line, "broker-bound at 2000 msg/s: no ack for 1 s (trial 4 failed at 4000 msg/s)"));
	out = print(&r);
	CHECK(strstr(out, "\nlimit: 2000 msg/s sustained (trial 5, 1.0 s, confirmed)\n") != NULL);
	free(out);

	/* The network's: the path, not the broker. */
	tr[3] = judged(4000, false, BOTTLENECK_NETWORK, "2.0% of segments retransmitted");
	CHECK(limit_bound_line(line, sizeof(line), &r));
	CHECK(!strcmp(line, "network-bound at 2000 msg/s: 2.0% of segments retransmitted (trial 4 "
			    "failed at 4000 msg/s): a property of the path, not the broker"));

	/* The ceiling (no failure above), or no answer: nothing to say. */
	r.limit_bound_trial = 0;
	CHECK(!limit_bound_line(line, sizeof(line), &r));
	CHECK(!limit_client_bound(&r));
	r.limit_bound_trial = 4;
	r.limit_trial = -1;
	CHECK(!limit_bound_line(line, sizeof(line), &r));
	out = print(&r);
	CHECK(strstr(out, "\nlimit: none found (confirmed)\n") != NULL);
	CHECK(!strstr(out, "widened:"));
	free(out);
	return t_done("test_limit_report");
}
