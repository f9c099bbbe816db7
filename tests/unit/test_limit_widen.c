/* --find-limit and blast's own limits (limit/widen.c): which verdicts are
 * the client's, how a rerun widens the window or adds workers up to their
 * bounds and says why it cannot go further, and which failed trial bounds
 * the answer. */
#include <stdint.h>
#include <string.h>

#include "limit/limit.h"
#include "t.h"

static void test_fault(void)
{
	CHECK(limit_client_fault(BOTTLENECK_CLIENT_CPU));
	CHECK(limit_client_fault(BOTTLENECK_CLIENT_WINDOW));
	CHECK(limit_client_fault(BOTTLENECK_CLIENT_SOCKET));
	CHECK(!limit_client_fault(BOTTLENECK_BROKER));
	CHECK(!limit_client_fault(BOTTLENECK_NETWORK));
}

/* The window grows 4x a rerun up to the protocol's bound, then says so. */
static void test_window(void)
{
	static const uint32_t mqtt[] = { 256, 1024, 4096, 16384, 65535 };
	struct limit_client c = { .inflight = 64, .inflight_max = LIMIT_INFLIGHT_MAX_MQTT,
				  .workers = 2, .conns = 4, .cores = 2 };
	char what[96];

	for (unsigned i = 0; i < ARRAY_SIZE(mqtt); i++) {
		CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
		CHECK_EQ_INT(c.inflight, mqtt[i]);
		CHECK_EQ_INT(c.workers, 2);
	}
	CHECK(!strcmp(what, "--inflight 65535"));
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	CHECK_EQ_INT(c.inflight, 65535);
	CHECK(!strcmp(what, "--inflight at its bound 65535"));

	/* --inflight 1: 4, 16, ... */
	c.inflight = 1;
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.inflight, 4);
	CHECK(!strcmp(what, "--inflight 4"));

	/* Kafka: Produce requests, bounded lower. */
	c = (struct limit_client){ .inflight = 5, .inflight_max = LIMIT_INFLIGHT_MAX_KAFKA,
				   .workers = 1, .conns = 1, .cores = 2 };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.inflight, 20);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.inflight, 256);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);

	/* A protocol with no window (QoS 0, WebSocket). */
	c = (struct limit_client){ .inflight = 64, .workers = 1, .conns = 1, .cores = 2 };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	CHECK_EQ_INT(c.inflight, 64);
	CHECK(strstr(what, "no window") != NULL);
}

/* More workers: doubled, up to the cores and one per connection. */
static void test_workers(void)
{
	struct limit_client c = { .inflight = 64, .inflight_max = LIMIT_INFLIGHT_MAX_MQTT,
				  .workers = 1, .conns = 8, .cores = 6 };
	char what[96];

	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.workers, 2);
	CHECK(!strcmp(what, "--workers 2"));
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.workers, 4);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.workers, 6);
	CHECK_EQ_INT(c.inflight, 64);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	CHECK_EQ_INT(c.workers, 6);
	CHECK(!strcmp(what, "a worker on each of the 6 cores already"));

	/* A busy machine (the worker waited for a CPU longer than it ran):
	 * the rate once more as it was, then as before. */
	c = (struct limit_client){ .inflight = 64, .workers = 1, .conns = 8, .cores = 2,
				   .offered = 5000, .busy = true };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.workers, 1);
	CHECK(!strncmp(what, "the same settings (the machine was busy", 39));
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.workers, 2);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	c.offered = 2500; /* another rate: once more again */
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);

	/* One connection: one worker, whatever the cores. */
	c = (struct limit_client){ .inflight = 64, .workers = 1, .conns = 1, .cores = 6 };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_CPU, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	CHECK_EQ_INT(c.workers, 1);
	CHECK(!strcmp(what, "one worker per connection already (--workers 1)"));

	/* Socket buffers, the broker, the network: nothing blast can widen. */
	c = (struct limit_client){ .inflight = 64, .inflight_max = LIMIT_INFLIGHT_MAX_MQTT,
				   .workers = 1, .conns = 8, .cores = 6 };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_SOCKET, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
	CHECK(strstr(what, "send buffers") != NULL);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_NETWORK, &c, what, sizeof(what)), LIMIT_NOT_CLIENT);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_BROKER, &c, what, sizeof(what)), LIMIT_NOT_CLIENT);
	CHECK_EQ_INT(c.workers, 1);
	CHECK_EQ_INT(c.inflight, 64);
}

/* Little's law: a window of rate x 2 x the loosest latency SLO per
 * connection is enough; one that fills at that depth is the broker's. */
static void test_enough(void)
{
	struct limit_cfg cfg;
	char err[128], what[160];

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(limit_window_enough(&cfg, 160000, 4), 0); /* no SLO: no such bound */
	CHECK_EQ_INT(limit_parse_slo(&cfg, "connect=1s", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_window_enough(&cfg, 160000, 4), 0); /* not a message latency */
	CHECK_EQ_INT(limit_parse_slo(&cfg, "p50=5ms", err, sizeof(err)), 0);
	CHECK_EQ_INT(limit_parse_slo(&cfg, "p99=50ms", err, sizeof(err)), 0);
	/* 40,000 msg/s a connection x 2 x 50 ms = 4,000. */
	CHECK_EQ_INT(limit_window_enough(&cfg, 160000, 4), 4001);
	CHECK_EQ_INT(limit_window_enough(&cfg, 1000, 4), 26);
	CHECK_EQ_INT(limit_window_enough(&cfg, 1, 4), 1);

	struct limit_client c = { .inflight = 1024, .inflight_max = LIMIT_INFLIGHT_MAX_MQTT,
				  .workers = 2, .conns = 4, .cores = 2, .enough = 4001 };
	/* Straight to the window that is enough, then no deeper. */
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.inflight, 4001);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_NOT_CLIENT);
	CHECK_EQ_INT(c.inflight, 4001);
	CHECK(!strncmp(what, "not blast's window: --inflight 4001 is enough", 45));
	/* Past the protocol's bound, never. */
	c = (struct limit_client){ .inflight = 64, .inflight_max = LIMIT_INFLIGHT_MAX_KAFKA,
				   .workers = 1, .conns = 1, .cores = 2, .enough = 4001 };
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_RERUN);
	CHECK_EQ_INT(c.inflight, 256);
	CHECK_EQ_INT(limit_widen(BOTTLENECK_CLIENT_WINDOW, &c, what, sizeof(what)), LIMIT_CLIENT_BOUND);
}

static struct limit_trial trial(uint64_t offered, bool pass, const char *widened)
{
	struct limit_trial t;

	memset(&t, 0, sizeof(t));
	t.offered = offered;
	t.pass = pass;
	snprintf(t.widened, sizeof(t.widened), "%s", widened);
	return t;
}

/* The bound: the lowest rate above the answer that failed and counted. */
static void test_bound(void)
{
	struct limit_trial tr[8];

	tr[0] = trial(1000, true, "");
	tr[1] = trial(2000, false, "--inflight 256"); /* rerun wider: not counted */
	tr[2] = trial(2000, true, "");
	tr[3] = trial(4000, false, "");
	tr[4] = trial(3000, false, "");
	tr[5] = trial(2500, true, "");
	tr[6] = trial(3000, false, "");
	tr[7] = trial(2500, true, "");
	CHECK_EQ_INT(limit_bound(tr, 8, 7), 6); /* 3000 twice: the newest */
	CHECK_EQ_INT(limit_bound(tr, 4, 2), 3);
	/* The ceiling: nothing failed above the answer. */
	CHECK_EQ_INT(limit_bound(tr, 3, 2), -1);
	/* No answer: the lowest failure. */
	CHECK_EQ_INT(limit_bound(tr, 5, -1), 4);
	/* A connect-rate stage's trials are not rate trials. */
	tr[6].conn_rate = 1;
	CHECK_EQ_INT(limit_bound(tr, 8, 7), 4);
}

int main(void)
{
	test_fault();
	test_window();
	test_workers();
	test_enough();
	test_bound();
	return t_done("test_limit_widen");
}
