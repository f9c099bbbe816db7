/* The bottleneck verdict (stats/verdict.c) on made-up figures: one case
 * per rule, the thresholds on both sides, and the merge of workers'
 * figures (stats/diag.c). */
#include <stdint.h>
#include <string.h>

#include "stats/diag.h"
#include "stats/verdict.h"
#include "t.h"

#define MS (1000LL * 1000)

/* A paced run that kept the schedule on a quiet loopback. */
static void healthy(struct verdict_in *in, struct diag_counts *d)
{
	memset(d, 0, sizeof(*d));
	d->publish_ns = 3000 * MS;
	d->busiest_cpu_pm = 200;
	d->busiest_runq_pm = 10;
	d->min_rtt_us = 30;
	d->srtt_us_max = 60;
	d->end_free = 4;
	*in = (struct verdict_in){ .paced = true, .sent = 30000, .late_p99_ns = 2 * MS, .d = d,
				   .segs_out = 30000, .retrans_from = "tcp_info" };
}

static enum bottleneck decide(const struct verdict_in *in)
{
	struct verdict v;

	verdict_decide(in, &v);
	CHECK(v.evidence[0] != 0);
	return v.what;
}

static void test_names(void)
{
	CHECK(!strcmp(bottleneck_name(BOTTLENECK_BROKER), "broker"));
	CHECK(!strcmp(bottleneck_name(BOTTLENECK_CLIENT_CPU), "client: cpu"));
	CHECK(!strcmp(bottleneck_name(BOTTLENECK_CLIENT_WINDOW), "client: window"));
	CHECK(!strcmp(bottleneck_name(BOTTLENECK_CLIENT_SOCKET), "client: socket buffer"));
	CHECK(!strcmp(bottleneck_name(BOTTLENECK_NETWORK), "network"));
}

static void test_on_schedule(void)
{
	struct verdict_in in;
	struct diag_counts d;

	healthy(&in, &d);
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	/* Exactly at the lateness threshold is still on schedule. */
	in.late_p99_ns = VERDICT_LATE_NS;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	/* 1% not sent is tolerated; more is behind. */
	in.late_p99_ns = 0;
	in.sent = 990, in.not_sent = 10;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	/* A busy CPU that kept the schedule did not limit a paced run. */
	healthy(&in, &d);
	d.busiest_cpu_pm = 990;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	/* RTT growth alone, sends on time: a delayed ACK, not a queue. */
	healthy(&in, &d);
	d.srtt_us_max = 40000;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
}

static void test_unpaced(void)
{
	struct verdict_in in;
	struct diag_counts d;

	healthy(&in, &d);
	in.paced = false;
	in.late_p99_ns = 0;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	d.busiest_cpu_pm = 600, d.busiest_runq_pm = 300; /* wanted a CPU 90% of the time */
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_CPU);
	d.busiest_runq_pm = 299;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
}

static void test_window(void)
{
	struct verdict_in in;
	struct diag_counts d;

	/* Late: most of the lateness was waiting for acks. */
	healthy(&in, &d);
	in.late_p99_ns = 800 * MS;
	d.late_ns = 1000 * MS, d.window_ns = 900 * MS;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_WINDOW);
	/* Even on a machine so busy the worker waited for a CPU. */
	d.busiest_runq_pm = 700;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_WINDOW);
	/* A backlog never sent: the windows full when sending ended. */
	healthy(&in, &d);
	in.not_sent = 5000;
	d.end_window = 4, d.end_free = 0;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_WINDOW);
}

static void test_socket(void)
{
	struct verdict_in in;
	struct diag_counts d;

	healthy(&in, &d);
	in.late_p99_ns = 50 * MS;
	d.late_ns = 1000 * MS, d.socket_ns = 700 * MS, d.window_ns = 100 * MS;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_SOCKET);
	healthy(&in, &d);
	in.not_sent = 5000;
	d.end_socket = 3, d.end_window = 1, d.end_free = 0;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_SOCKET);
}

static void test_cpu(void)
{
	struct verdict_in in;
	struct diag_counts d;

	/* Late with nothing holding the connections: the loop itself. */
	healthy(&in, &d);
	in.late_p99_ns = 40 * MS;
	d.late_ns = 1000 * MS, d.window_ns = 100 * MS, d.socket_ns = 100 * MS;
	d.busiest_cpu_pm = 500, d.busiest_runq_pm = 480;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_CPU);
	healthy(&in, &d);
	in.not_sent = 5000;
	d.end_free = 2, d.end_window = 1;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_CPU);
	/* No connection up to send on (dropped, waiting to reconnect): the
	 * backlog is the broker's doing, whatever the idle CPU says. */
	d.end_free = 0, d.end_window = 0, d.end_socket = 0;
	d.busiest_cpu_pm = 3, d.busiest_runq_pm = 0;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
}

static void test_broker_stall(void)
{
	struct verdict_in in;
	struct diag_counts d;

	/* Acks stopped: windows fill, but the broker is why. */
	healthy(&in, &d);
	in.not_sent = 5000, in.unacked = 128;
	d.end_window = 2;
	d.stall_run_s = 2, d.stalled_s = 3;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
}

static void test_network(void)
{
	struct verdict_in in;
	struct diag_counts d;

	/* Loss above 1% of segments, whatever else. */
	healthy(&in, &d);
	in.retrans = 301, in.segs_out = 30000;
	d.stall_run_s = 1;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_NETWORK);
	in.retrans = 300;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_BROKER);
	/* TCP_INFO's retransmits of a client starved of CPU are its own
	 * (timers fire at segments whose ACKs it was late to process); the
	 * probe's real ones are the path's whatever the CPU did. */
	healthy(&in, &d);
	in.retrans = 600, in.segs_out = 30000;
	in.late_p99_ns = 900 * MS;
	d.busiest_cpu_pm = 200, d.busiest_runq_pm = VERDICT_CPU_STARVED_PM;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_CPU);
	d.busiest_runq_pm = VERDICT_CPU_STARVED_PM - 1;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_NETWORK);
	d.busiest_runq_pm = 800;
	in.retrans_real = true, in.retrans_from = "probe";
	CHECK_EQ_INT(decide(&in), BOTTLENECK_NETWORK);
	/* A queue on the path while sends fell behind. */
	healthy(&in, &d);
	in.late_p99_ns = 500 * MS;
	d.late_ns = 1000 * MS, d.window_ns = 900 * MS;
	d.min_rtt_us = 100, d.srtt_us_max = 45000;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_NETWORK);
	/* A client starved of CPU grows RTT on loopback by itself. */
	d.busiest_cpu_pm = 300, d.busiest_runq_pm = 650;
	d.window_ns = 0;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_CPU);
	d.busiest_cpu_pm = 200, d.busiest_runq_pm = 10;
	d.window_ns = 900 * MS;
	/* Grown 4x but by less than 5 ms: jitter, not a queue. */
	d.min_rtt_us = 1000, d.srtt_us_max = 5999;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_WINDOW);
	/* Grown by 5 ms but less than 4x. */
	d.min_rtt_us = 3000, d.srtt_us_max = 11999;
	CHECK_EQ_INT(decide(&in), BOTTLENECK_CLIENT_WINDOW);
}

static void test_merge(void)
{
	struct diag_counts a, b, run;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&run, 0, sizeof(run));
	a.busiest_cpu_pm = 300, a.busiest_runq_pm = 100, a.late_ns = 5, a.min_rtt_us = 40;
	a.srtt_us_max = 90, a.stall_run_s = 1, a.sqe_batch[0] = 2, a.publish_ns = 10;
	b.busiest_cpu_pm = 500, b.busiest_runq_pm = 400, b.late_ns = 7, b.min_rtt_us = 0;
	b.srtt_us_max = 70, b.stall_run_s = 3, b.sqe_batch[0] = 1, b.publish_ns = 12;
	diag_counts_add(&run, &a);
	diag_counts_add(&run, &b);
	CHECK_EQ_INT(run.busiest_cpu_pm, 500);
	CHECK_EQ_INT(run.busiest_runq_pm, 400);
	CHECK_EQ_INT(run.late_ns, 12);
	CHECK_EQ_INT(run.min_rtt_us, 40); /* 0 is unknown, not smallest */
	CHECK_EQ_INT(run.srtt_us_max, 90);
	CHECK_EQ_INT(run.stall_run_s, 3);
	CHECK_EQ_INT(run.sqe_batch[0], 3);
	CHECK_EQ_INT(run.publish_ns, 12);
	CHECK_EQ_INT(diag_batch_bucket(1), 0);
	CHECK_EQ_INT(diag_batch_bucket(3), 1);
	CHECK_EQ_INT(diag_batch_bucket(4), 2);
	CHECK_EQ_INT(diag_batch_bucket(511), 8);
	CHECK_EQ_INT(diag_batch_bucket(512), 9);
	CHECK_EQ_INT(diag_batch_bucket(100000), 9);
}

int main(void)
{
	test_names();
	test_on_schedule();
	test_unpaced();
	test_window();
	test_socket();
	test_cpu();
	test_broker_stall();
	test_network();
	test_merge();
	return t_done("test_verdict");
}
