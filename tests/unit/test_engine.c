/* The engine's parts that stand alone: the open-loop schedule
 * (engine/sched.c) and the send queue (engine/sendq.c). */
#include <stdint.h>
#include <stdio.h>

#include "engine/sched.h"
#include "engine/sendq.h"
#include "engine/worker.h"
#include "stats/clock.h"
#include "t.h"

#define NO_CONN UINT32_MAX

static void test_schedule(void)
{
	struct worker w = { .phase = PHASE_RUNNING, .limit = UINT64_MAX };

	/* Not started: nothing beyond what was handed out. */
	w.next_msg = 3;
	CHECK_EQ_INT(sched_due(&w), 3);
	CHECK(!publishing(&w));

	/* 1000/s from t0: message k is due at t0 + k ms, message 0 at once. */
	w.t0 = 5 * NSEC_PER_SEC;
	w.rate = 1000;
	w.now = w.t0;
	CHECK(publishing(&w));
	CHECK_EQ_INT(sched_due(&w), 1);
	w.now = w.t0 + NSEC_PER_MSEC - 1;
	CHECK_EQ_INT(sched_due(&w), 1);
	w.now = w.t0 + NSEC_PER_MSEC;
	CHECK_EQ_INT(sched_due(&w), 2);
	CHECK_EQ_INT(sched_time(&w, 0), w.t0);
	CHECK_EQ_INT(sched_time(&w, 250), w.t0 + 250 * NSEC_PER_MSEC);
	/* Before t0 (a clock read early): none due. */
	w.now = w.t0 - 1;
	CHECK_EQ_INT(sched_due(&w), 0);

	/* A 1 s run: exactly the 1000 messages due before its end, however
	 * late the loop looks. */
	w.t_end = w.t0 + NSEC_PER_SEC;
	w.now = w.t0 + 7 * NSEC_PER_SEC;
	CHECK_EQ_INT(sched_due(&w), 1000);
	/* --messages caps it. */
	w.limit = 600;
	CHECK_EQ_INT(sched_due(&w), 600);

	/* Rates that do not divide a second: 3/s over 1 s is 3 messages,
	 * due at 0, 333,333,333 and 666,666,666 ns. */
	w.limit = UINT64_MAX;
	w.rate = 3;
	CHECK_EQ_INT(sched_due(&w), 3);
	CHECK_EQ_INT(sched_time(&w, 2) - w.t0, 666666666);
	/* A huge rate does not wrap (128-bit products): more are due than
	 * 64 bits hold, so the limit (none: UINT64_MAX) is what is due. */
	w.rate = UINT64_MAX / 2;
	w.t_end = 0;
	w.now = w.t0 + 10 * NSEC_PER_SEC;
	CHECK(sched_due(&w) == UINT64_MAX);

	/* Unpaced: everything up to the limit is due now, sent now. */
	w.rate = 0;
	w.limit = 42;
	CHECK_EQ_INT(sched_due(&w), 42);
	CHECK_EQ_INT(sched_time(&w, 41), w.now);
	w.phase = PHASE_DRAINING;
	w.next_msg = 40;
	CHECK_EQ_INT(sched_due(&w), 40);
}

/* Paced batches: a send may go up to --pace-batch early; the loop wakes
 * PACE_WAKE_EARLY_NS (at most half the batch) before the next one; an
 * early send's latency starts when it left, a late one's at its
 * scheduled time. */
static void test_pacing(void)
{
	struct blast_opts o = { .pace_batch_ns = PACE_BATCH_DEFAULT_NS };
	struct worker w = { .o = &o, .phase = PHASE_RUNNING, .limit = UINT64_MAX, .rate = 10000,
			    .pace_batch_ns = PACE_BATCH_DEFAULT_NS };

	w.t0 = 5 * NSEC_PER_SEC;
	w.now = w.t0;
	/* 10,000/s: one every 100 us; 200 us ahead holds 0, 1 and 2. */
	CHECK_EQ_INT(sched_due(&w), 1);
	CHECK_EQ_INT(sched_sendable(&w), 3);
	/* A 1 ms batch holds 11; none holds only what is due, woken on time. */
	w.pace_batch_ns = NSEC_PER_MSEC;
	CHECK_EQ_INT(sched_sendable(&w), 11);
	w.pace_batch_ns = 0;
	CHECK_EQ_INT(sched_sendable(&w), 1);
	w.next_msg = 3;
	CHECK_EQ_INT(sched_wake(&w), w.t0 + 300 * NSEC_PER_USEC);
	w.pace_batch_ns = 60 * NSEC_PER_USEC;
	CHECK_EQ_INT(sched_wake(&w), w.t0 + 270 * NSEC_PER_USEC);
	w.pace_batch_ns = PACE_BATCH_DEFAULT_NS;
	w.next_msg = 0;
	w.next_msg = 3;
	CHECK_EQ_INT(sched_wake(&w), w.t0 + 300 * NSEC_PER_USEC - PACE_WAKE_EARLY_NS);
	/* Sent 30 us ahead: timed from when it left; 30 us late: from its time. */
	uint64_t due3 = sched_time(&w, 3);
	CHECK_EQ_INT(sched_start(&w, 3, due3 - 30000), due3 - 30000);
	CHECK_EQ_INT(sched_start(&w, 3, due3 + 30000), due3);
	w.now = due3 - 30000;
	CHECK_EQ_INT(worker_msg_start(&w, 3), w.now);
	/* Never past the run's end, however far ahead. */
	w.t_end = w.t0 + NSEC_PER_MSEC;
	w.now = w.t_end - NSEC_PER_USEC;
	CHECK_EQ_INT(sched_sendable(&w), 10);
	CHECK_EQ_INT(sched_due(&w), 10);
}

/* --pace-batch auto: 8 messages' worth of a worker's schedule, at most
 * one per connection (half a connection's interval) and 2 ms, at least
 * the default; a set --pace-batch is taken as it is. */
static void test_pace_auto(void)
{
	struct blast_opts o = { .pace_batch_ns = 750000, .pace_batch_auto = false };

	CHECK_EQ_INT(opts_pace_batch_ns(&o, 4000, 16), 750000);
	o.pace_batch_auto = true;
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 4000, 16), 2000000);  /* 8 x 250 us */
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 10000, 16), 800000);  /* 8 x 100 us */
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 10000, 4), 200000);   /* 4 x 100 us / 2 */
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 2000, 10), 2000000);  /* 8 x 500 us, capped */
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 50000, 10), PACE_BATCH_DEFAULT_NS);
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 100, 1), 2000000);
	CHECK_EQ_INT(opts_pace_batch_ns(&o, 0, 16), PACE_BATCH_DEFAULT_NS);
	o.rate = 4000, o.conns = 16, o.workers = 2;               /* 2000/s over 8 each */
	CHECK_EQ_INT(opts_pace_batch_run_ns(&o), 2000000);
}

static void test_sendq(void)
{
	struct conn conns[4] = { 0 };
	struct worker w = { .conns = conns, .n_conns = 4, .sendq_head = NO_CONN,
			    .sendq_tail = NO_CONN };

	CHECK(sendq_pop(&w) == NULL);
	/* FIFO order; a connection already queued is not queued twice. */
	conn_sendq_push(&w, &conns[2]);
	conn_sendq_push(&w, &conns[0]);
	conn_sendq_push(&w, &conns[2]);
	conn_sendq_push(&w, &conns[3]);
	CHECK_EQ_INT(w.sendq_len, 3);
	CHECK(sendq_pop(&w) == &conns[2]);
	CHECK(!conns[2].in_sendq);
	/* Popped, it may come back: at the end. */
	conn_sendq_push(&w, &conns[2]);
	CHECK(sendq_pop(&w) == &conns[0]);
	CHECK(sendq_pop(&w) == &conns[3]);
	CHECK(sendq_pop(&w) == &conns[2]);
	CHECK(sendq_pop(&w) == NULL);
	CHECK_EQ_INT(w.sendq_len, 0);
	CHECK_EQ_INT(w.sendq_tail, NO_CONN);
	/* Empty again, the queue starts over cleanly. */
	conn_sendq_push(&w, &conns[1]);
	CHECK(sendq_pop(&w) == &conns[1]);
}

int main(void)
{
	test_schedule();
	test_pacing();
	test_pace_auto();
	test_sendq();
	return t_done("test_engine");
}
