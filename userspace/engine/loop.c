/* The io_uring engine's loop: one ring per worker process drives every
 * connection of that worker, sleeping in io_uring_enter with a timeout set
 * to the next message due on the open-loop schedule (or the next
 * housekeeping tick). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/conn.h"
#include "engine/io.h"
#include "engine/phase.h"
#include "engine/measure.h"
#include "engine/protocol.h"
#include "engine/pump.h"
#include "engine/quickack.h"
#include "engine/ring.h"
#include "engine/sched.h"
#include "engine/setup.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static uint64_t peak_rss(void);
static uint64_t next_wakeup(const struct worker *w);
static bool paced_waits(const struct worker *w);
static bool batch_waits(const struct worker *w);
static unsigned wait_want(const struct worker *w, uint64_t *wait);
static void note_answers(struct worker *w);
static uint64_t answer_wait(const struct worker *w);

static uint64_t peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static uint64_t next_wakeup(const struct worker *w)
{
	uint64_t t = w->now + TICK_NS;

	/* Wake on the second's boundary: the series closes it right there. */
	if (w->t_next_second < t)
		t = w->t_next_second;
	/* --start-at: the schedule's first instant. */
	if (!w->t0 && w->shm->start_at_ns > w->now && w->shm->start_at_ns < t)
		t = w->shm->start_at_ns;
	/* The next paced send; but messages already due that found no room
	 * wait for the ack or send completion that makes some, not a timer. */
	if (publishing(w) && w->rate && w->next_msg < w->limit && w->next_msg >= sched_sendable(w)) {
		uint64_t due = sched_wake(w);
		if (due < t)
			t = due;
	}
	if (w->p->next_wakeup) {
		uint64_t pt = w->p->next_wakeup(w);
		if (pt && pt < t)
			t = pt;
	}
	return t;
}

/* A paced run whose arrivals are timed by their segments (rxseg.h) and
 * whose sends all went out: an ack then only frees a slot the next send
 * does not need yet, so the loop sleeps through acks until that send is
 * due (or a batch of completions piles up). */
static bool paced_waits(const struct worker *w)
{
	return w->rate && w->rxs && w->connecting == 0 && publishing(w) &&
	       w->next_msg >= sched_sendable(w);
}

/* Whether the loop may sleep through several completions. Receipts and
 * acks are timed by the kernel's stamp, so sleeping costs them nothing;
 * it only delays what a completion unblocks. So: not while a send waits
 * on an ack (qos > 0, a protocol whose sends wait, churn), a handshake is in flight, or a fresh
 * send is (a fast peer takes it at once, and its completion lets the next
 * one go); the rest of a short write waits for the peer to read, which
 * leaves the socket's buffer mostly full, so it may wait. And after a turn
 * that reaped nothing, wait for the first completion as before. */
static bool batch_waits(const struct worker *w)
{
	if (paced_waits(w))
		return true;
	return w->batch_ok && w->connecting == 0 && w->sends_fresh == 0 &&
	       (w->phase == PHASE_RUNNING || w->phase == PHASE_DRAINING) && w->last_reaped > 0;
}

/* Closed-loop pipelining with whole refills (worker.h): how long until
 * about a quarter of what is in flight is answered, at the pace answers
 * came so far; 0 = do not wait for that. The server keeps three quarters
 * of its queue meanwhile, and each turn of the loop handles several
 * connections' answers and refills whole windows (into nginx with
 * --pipeline 16 a turn handled 3.4 answers before, 60 after:
 * docs/bench-http.md). Only with segment stamps: a read's own stamp
 * would time every answer in it by its last segment. A server that runs
 * dry while the loop sleeps makes answers come slower per wait, which
 * shortens the next. */
static uint64_t answer_wait(const struct worker *w)
{
	if (!w->refill_whole || !w->rxs || !w->answer_ns || !w->answers_per_recv16 ||
	    w->phase != PHASE_RUNNING ||
	    w->connecting || w->sends_rest)
		return 0;
	uint64_t ns = w->t.inflight / 4 * w->answer_ns;
	return ns < BATCH_NS ? ns : BATCH_NS;
}

/* The pace of answers and how many a receive brings, smoothed over turns:
 * each turn that reaped some weighs in by the time and the receives since
 * the last such turn. */
static void note_answers(struct worker *w)
{
	uint64_t n = w->t.acked + w->t.failed;
	uint64_t recvs = w->recvs_data - w->recvs_seen;

	if (n <= w->answers_seen) {
		if (!w->t_answers_seen)
			w->t_answers_seen = w->now;
		return;
	}
	if (w->t_answers_seen) {
		uint64_t per = (w->now - w->t_answers_seen) / (n - w->answers_seen);
		w->answer_ns = w->answer_ns ? (w->answer_ns * 7 + per) / 8 : per;
	}
	if (recvs) {
		uint64_t per16 = (n - w->answers_seen) * 16 / recvs;
		per16 = per16 ? per16 : 1;
		w->answers_per_recv16 = w->answers_per_recv16 ? (w->answers_per_recv16 * 7 + per16) / 8
							      : per16;
		w->recvs_seen = w->recvs_data;
	}
	w->answers_seen = n;
	w->t_answers_seen = w->now;
}

/* Completions to wait for, and the wait (ns) shortened to BATCH_NS when
 * that is more than one. The wait never passes the next due send. */
static unsigned wait_want(const struct worker *w, uint64_t *wait)
{
	uint64_t answers = answer_wait(w);

	if (answers) {
		/* Or until the receives that bring that many have completed,
		 * besides this turn's sends: a server faster than the loop has
		 * them ready at once, and the loop does not sleep at all. */
		uint64_t recvs = w->t.inflight / 4 * 16 / w->answers_per_recv16;
		uint64_t want = w->sends_fresh + (recvs ? recvs : 1);
		if (*wait > answers)
			*wait = answers;
		return want < BATCH_CQES ? (unsigned)want : BATCH_CQES;
	}
	if (!batch_waits(w))
		return 1;
	/* The long wait only while no send waits for room: a peer that
	 * reads fast would otherwise find the socket drained long before the
	 * loop comes back to refill it. */
	uint64_t most = w->sends_rest ? BATCH_NS : w->batch_ns;
	if (*wait > most)
		*wait = most;
	return BATCH_CQES;
}

int worker_run(const struct blast_opts *o, struct shm *shm, unsigned id, unsigned n,
	       const struct proto_ops *p, void *shared)
{
	struct worker w = { .o = o, .shm = shm, .slot = &shm->w[id], .id = id, .n_workers = n,
			    .p = p, .shared = shared };
	int status = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the parent */
	signal(SIGINT, SIG_IGN);          /* Ctrl-C reaches the parent, which tells us */
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)(getpid() ^ mono_ns()));
	w.run_pid = (uint64_t)getppid(); /* once: each CONNECT's {pid} would cost a syscall */
	if (setup(&w) < 0) {
		if (!w.slot->error[0])
			snprintf(w.slot->error, sizeof(w.slot->error), "worker setup: out of memory");
		w.slot->state = PHASE_FAILED;
		teardown(&w);
		return 3;
	}
	w.phase = PHASE_RUNNING;
	w.now = rx_clock_sync(&w.rxc);
	w.t_ramp_start = w.now;
	w.t_next_publish = w.now;
	w.t_next_scan = w.now + SCAN_NS;
	w.t_next_second = shm->start_ns + NSEC_PER_SEC;
	while (w.t_next_second <= w.now)
		w.t_next_second += NSEC_PER_SEC;

	for (;;) {
		w.now = mono_ns();
		/* The second closes before this turn sends: a message due on
		 * the boundary (--start-at's first) is the new second's. */
		if (w.now >= w.t_next_second) {
			publish_interval(&w, false);
			w.t_next_second += NSEC_PER_SEC;
		}
		if (!advance_phase(&w))
			break;
		open_more(&w);
		reopen_now(&w);
		if (w.now >= w.t_next_scan) {
			scan(&w);
			w.t_next_scan = w.now + SCAN_NS;
		}
		for (uint32_t i = 0; i < w.n_rearm; i++) {
			struct conn *c = &w.conns[w.rearm[i]];
			if (!c->recv_armed && c->fd >= 0 && c->state != CS_DEAD && c->state != CS_DONE)
				conn_arm_recv(&w, c);
		}
		w.n_rearm = 0;
		pump(&w);
		if (w.now >= w.t_next_publish) {
			publish_counters(&w);
			w.t_next_publish = w.now + PUBLISH_NS;
		}

		uint64_t wake = next_wakeup(&w);
		if (w.n_ackq) {
			uint64_t ack = quickack_watch(&w);
			if (ack < wake)
				wake = ack;
		}
		wake = wake_unless_stalled(&w, wake);
		uint64_t wait = wake > w.now ? wake - w.now : 0;
		unsigned want = wait_want(&w, &wait);
		unsigned to_submit = io_uring_sq_ready(&w.ring);
		struct __kernel_timespec ts = { .tv_sec = (long long)(wait / NSEC_PER_SEC),
						.tv_nsec = (long long)(wait % NSEC_PER_SEC) };
		struct io_uring_cqe *cqe;
		int r = io_uring_submit_and_wait_timeout(&w.ring, &cqe, want, &ts, NULL);
		if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			snprintf(w.slot->error, sizeof(w.slot->error), "io_uring wait failed: %s",
				 strerror(-r));
			status = 3;
			break;
		}
		w.now = rx_clock_sync(&w.rxc);
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&w.ring, head, cqe)
		{
			handle_cqe(&w, cqe);
			seen++;
		}
		io_uring_cq_advance(&w.ring, seen);
		w.last_reaped = seen;
		if (w.refill_whole)
			note_answers(&w);
		measure_turn(&w.ms, to_submit, seen);
	}

	/* Whatever is still unsettled at the very end is unacked. */
	for (uint32_t i = 0; i < w.n_conns; i++) {
		struct conn *c = &w.conns[i];
		conn_settle_inflight(&w, c, false);
		if (c->tx && w.o->qos == 0) {
			w.t.unacked += c->tx->n_msgs;
			w.t.inflight -= c->tx->n_msgs;
			c->tx->n_msgs = 0;
		}
		if (c->state == CS_READY || c->state == CS_CLOSING)
			w.t.conns_up--;
	}
	w.now = mono_ns();
	publish_interval(&w, true);
	hist_copy(&w.slot->latency, w.latency);
	hist_copy(&w.slot->latency_raw, w.latency_raw);
	hist_copy(&w.slot->connect, w.connect);
	hist_copy(&w.slot->e2e, w.e2e);
	for (unsigned i = 0; i < HS__COUNT; i++)
		hist_copy(&w.slot->stage[i], w.stage[i]);
	w.slot->first_send_ns = w.first_send_ns;
	w.slot->last_recv_ns = w.last_recv_ns;
	w.slot->n_rx = w.n_conns < SLOT_RX_CONNS ? w.n_conns : SLOT_RX_CONNS;
	for (uint32_t i = 0; i < w.slot->n_rx; i++)
		w.slot->rx_by_conn[i] = w.conns[i].received;
	measure_copy_out(&w);
	w.slot->end_ns = w.now;
	w.slot->rss_bytes = peak_rss();
	w.phase = status ? PHASE_FAILED : PHASE_DONE;
	publish_counters(&w);
	teardown(&w);
	return status;
}
