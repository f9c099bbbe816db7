/* The worker's phases (running, draining, closing), opening and reopening
 * connections, the periodic scan and the figures it publishes. */
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
#include "engine/phase.h"
#include "engine/measure.h"
#include "engine/protocol.h"
#include "engine/pump.h"
#include "engine/ring.h"
#include "engine/sched.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static bool all_settled(const struct worker *w);
static void begin_closing(struct worker *w);
static bool fanout_publishers_gone(const struct worker *w);
static bool acks_stalled(struct worker *w);

void open_more(struct worker *w)
{
	const struct blast_opts *o = w->o;

	if (w->phase != PHASE_RUNNING || w->shm->stop)
		return;
	/* First opens follow --ramp (this worker's share of it). */
	uint64_t allowed = w->n_conns;
	if (o->ramp) {
		uint64_t share = o->ramp / w->n_workers + (w->id < o->ramp % w->n_workers);
		if (!share)
			share = 1;
		allowed = (w->now - w->t_ramp_start) * share / NSEC_PER_SEC + 1;
	}
	while (w->next_open < w->n_conns && w->next_open < allowed &&
	       w->connecting < w->max_connecting) {
		if (o->churn && !conn_churn_may_open(w)) {
			/* More connections than messages: the rest stay closed. */
			for (; w->next_open < w->n_conns; w->next_open++) {
				w->conns[w->next_open].state = CS_DONE;
				w->live--;
			}
			break;
		}
		conn_open(w, &w->conns[w->next_open++]);
	}
}

/* Opens the connections queued for reopening, within the connect bound. */
void reopen_now(struct worker *w)
{
	while (w->reopen_len && w->connecting < w->max_connecting &&
	       (w->phase == PHASE_RUNNING || w->phase == PHASE_DRAINING) && !w->shm->stop) {
		struct conn *c = &w->conns[w->reopenq[w->reopen_head]];
		w->reopen_head = (w->reopen_head + 1) % w->n_conns;
		w->reopen_len--;
		c->in_reopenq = 0;
		if (c->state != CS_IDLE)
			continue;
		/* The drain reopens only what owes resends (conn_finalize). */
		if (w->phase == PHASE_DRAINING && !conn_owes_control(w, c))
			continue;
		if (w->o->churn && !conn_churn_may_open(w)) {
			c->state = CS_DONE;
			w->live--;
			continue;
		}
		conn_open(w, c);
	}
}

/* A wake that is already due but found nothing to do: a message due with
 * no connection to take it (all waiting to reconnect, or every window
 * full), a Kafka partition whose leader is down. The last turn reaped no
 * completion and this one submits nothing, so waking again at once would
 * change nothing: sleep until a completion or the tick (which also keeps
 * the scan's reconnect times, the second's boundary and a stop in view). */
uint64_t wake_unless_stalled(const struct worker *w, uint64_t wake)
{
	if (wake > w->now || w->last_reaped || io_uring_sq_ready(&w->ring))
		return wake;
	uint64_t t = w->now + TICK_NS;
	if (w->t_next_second > w->now && w->t_next_second < t)
		t = w->t_next_second;
	if (w->t_next_scan > w->now && w->t_next_scan < t)
		t = w->t_next_scan;
	return t;
}

void scan(struct worker *w)
{
	const struct proto_ops *p = w->p;
	uint64_t ka = (uint64_t)w->o->keepalive * NSEC_PER_SEC / 2;
	uint32_t n = w->next_open, start = 0;

	if (n > SCAN_BATCH) {
		start = w->scan_next < n ? w->scan_next : 0;
		w->scan_next = start + SCAN_BATCH < n ? start + SCAN_BATCH : 0;
		n = start + SCAN_BATCH < n ? SCAN_BATCH : n - start;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = start + k;
		struct conn *c = &w->conns[i];
		switch (c->state) {
		case CS_CONNECTING:
		case CS_TRANSPORT:
		case CS_HANDSHAKE:
			if (w->now - c->t_connect > HANDSHAKE_TIMEOUT_NS)
				conn_fail(w, c, c->state == CS_TRANSPORT ? tlink_cut_short(&c->tl, false) :
									   ERR_CONNECT_TIMEOUT);
			break;
		case CS_READY:
			if (ka && !c->tx && !c->ctl_len && w->now - c->t_last_tx >= ka) {
				ssize_t r = p->ping ? p->ping(w, c, c->ctl, sizeof(c->ctl)) : 0;
				if (r > 0) {
					c->ctl_len = (uint8_t)r;
					conn_flush(w, c, 0);
				}
			}
			break;
		case CS_IDLE:
			if (i < w->next_open && c->t_retry <= w->now)
				conn_reopen_push(w, c);
			break;
		default:
			break;
		}
	}
}

void publish_counters(struct worker *w)
{
	struct worker_slot *s = w->slot;

	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	s->t = w->t;
	s->state = w->phase;
	s->peak_conns = w->peak_conns;
	s->publish_start_ns = w->t0;
	s->last_send_ns = w->last_send_ns;
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/* Closes a second: hands it to the parent's series (exact, through the
 * ring) and folds its histograms into the run's. */
void publish_interval(struct worker *w, bool last)
{
	struct worker_slot *s = w->slot;
	struct series_counts c = {
		.sent = w->t.sent, .acked = w->t.acked, .failed = w->t.failed,
		.unacked = w->t.unacked, .errors = totals_error_count(&w->t),
		.inflight = w->t.inflight, .conns_up = w->t.conns_up, .publish_start_ns = w->t0,
		.received = w->t.received, .matched = w->t.matched,
		.share_receipts = w->t.share_receipts,
	};

	measure_second(w, &c);
	series_publish(&s->ring, (w->t_next_second - w->shm->start_ns) / NSEC_PER_SEC - 1, w->now,
		       w->interval, w->interval_e2e, &c, last);
	hist_add(w->latency, w->interval);
	hist_add(w->latency_raw, w->rate ? w->interval_raw : w->interval);
	hist_clear(w->interval);
	hist_clear(w->interval_raw);
	if (w->interval_e2e)
		hist_clear(w->interval_e2e);
}

static bool all_settled(const struct worker *w)
{
	if (w->t.inflight || (w->p->idle && !w->p->idle(w)))
		return false;
	for (uint32_t i = 0; i < w->next_open; i++)
		if (w->conns[i].tx)
			return false;
	return true;
}

static void begin_closing(struct worker *w)
{
	w->slot->drained_ns = w->now;
	w->phase = PHASE_CLOSING;
	w->t_close_end = w->now + CLOSE_TIMEOUT_NS;
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		conn_settle_inflight(w, c, false);
		if (c->state == CS_READY)
			conn_goodbye(w, c);
		else if (c->state == CS_CONNECTING || c->state == CS_TRANSPORT || c->state == CS_HANDSHAKE)
			conn_fail(w, c, ERR__COUNT);
		else if (c->state == CS_IDLE) {
			c->state = CS_DONE;
			w->live--;
		}
	}
}

/* Fan-out: this worker holds publishers (connection numbers below
 * --publishers come first) and every one is gone for good, so its share of
 * the messages can never be sent: the run must not wait for it. */
static bool fanout_publishers_gone(const struct worker *w)
{
	if (!opts_fanout(w->o) || !w->n_conns || w->conns[0].idx >= w->o->publishers)
		return false;
	for (uint32_t i = 0; i < w->n_conns && w->conns[i].idx < w->o->publishers; i++)
		if (w->conns[i].state != CS_DONE)
			return false;
	return true;
}

/* A --messages run with no --duration ends only when its budget is sent,
 * and a full window that no ack ever frees (a server that never answers)
 * would keep it from ever sending the rest. So when messages are in flight
 * and nothing moved (no send, ack, failure, receipt or reconnect attempt) for --drain-timeout,
 * publishing stops: what is in flight is unacked, as after a drain that ran
 * out. With --duration the run is bounded anyway and a stall is measured. */
static bool acks_stalled(struct worker *w)
{
	const struct blast_totals *t = &w->t;
	/* Reconnect attempts count as moving: a broker that restarts gets
	 * its connections back and resends, as before. */
	uint64_t mark = t->sent + t->acked + t->failed + t->received + t->reconnects +
			t->conns_failed + t->conns_dropped;

	if (w->t_end || !w->t0)
		return false;
	if (mark != w->progress_mark || !w->t_progress || !t->inflight) {
		w->progress_mark = mark;
		w->t_progress = w->now;
		return false;
	}
	return w->now - w->t_progress >= w->o->drain_timeout_ns;
}

/* Moves the worker through its phases. Returns false when it is over. */
bool advance_phase(struct worker *w)
{
	const struct blast_opts *o = w->o;

	switch (w->phase) {
	case PHASE_RUNNING:
		if (!w->t0) {
			/* The schedule starts once every first connection has been
			 * tried, so --duration measures publishing, not the ramp. */
			bool ramp_done = w->next_open == w->n_conns &&
					 (o->churn || w->connecting == 0);
			/* Fan-out: every receiver of every worker must be
			 * connected before anyone publishes, or it misses the
			 * first messages; --hold-start: every connection is up
			 * before the agent says ready. The parent says go. */
			if (ramp_done && (opts_fanout(o) || o->hold_fd) &&
			    !__atomic_load_n(&w->shm->go, __ATOMIC_ACQUIRE)) {
				w->slot->ramp_done = 1;
				ramp_done = false;
			}
			/* --start-at: every machine's schedule starts at the
			 * same instant; one that came up late is late from it. */
			uint64_t at = w->shm->start_at_ns;
			if (ramp_done && at && w->now < at)
				ramp_done = false;
			if (ramp_done || w->shm->stop) {
				w->t0 = ramp_done && at ? at : w->now;
				measure_publish_start(w);
				if (o->duration_ns)
					w->t_end = w->t0 + o->duration_ns;
			}
		}
		/* A worker whose share of --messages is 0 has nothing to do,
		 * unlike a connect-only run (--messages 0). */
		bool budget_done = w->t0 && w->next_msg >= w->limit &&
				   (w->limit || o->messages);
		bool senders_gone = w->t0 && !budget_done && fanout_publishers_gone(w);
		bool stalled = !budget_done && acks_stalled(w);
		if (w->shm->stop || w->live == 0 || (w->t_end && w->now >= w->t_end) || budget_done ||
		    senders_gone || stalled) {
			/* A loop that woke late (a loaded machine) still hands
			 * out what fell due before the end, where a connection
			 * has room; their corrected latency shows the delay. */
			if (!w->shm->stop && w->live && !senders_gone)
				pump(w);
			/* Messages the schedule wanted out but no connection could
			 * take: the backlog a stalled broker leaves. */
			uint64_t due = sched_due(w);
			if (w->rate && due > w->next_msg)
				w->t.not_sent = due - w->next_msg;
			/* A stall leaves the rest of --messages unsent. */
			if (stalled && w->limit > w->next_msg)
				w->t.not_sent = w->limit - w->next_msg;
			w->slot->backlog_at_stop = w->t.not_sent + w->t.inflight;
			measure_publish_end(w);
			if (w->shm->stop)
				w->slot->stop_why = STOP_SIGNAL;
			else if (w->live == 0 || senders_gone)
				w->slot->stop_why = STOP_CONNS_LOST;
			else if (budget_done)
				w->slot->stop_why = STOP_MESSAGES;
			else if (stalled)
				w->slot->stop_why = STOP_ACKS_STALLED;
			else
				w->slot->stop_why = STOP_DURATION;
			w->phase = PHASE_DRAINING;
			/* A stall already waited its drain timeout. */
			w->t_drain_end = w->now + (stalled ? 0 : o->drain_timeout_ns);
		}
		break;
	case PHASE_DRAINING:
		/* Fan-out: receivers here still get what other workers send;
		 * the drain timeout counts from the end of every worker's sends. */
		if (opts_fanout(o) && !w->shm->sends_done)
			w->t_drain_end = w->now + o->drain_timeout_ns;
		if (all_settled(w) || w->now >= w->t_drain_end || w->live == 0)
			begin_closing(w);
		break;
	case PHASE_CLOSING:
		if (w->live == 0)
			return false;
		if (w->now >= w->t_close_end) {
			for (uint32_t i = 0; i < w->n_conns; i++) {
				struct conn *c = &w->conns[i];
				if (c->state != CS_DONE && c->fd >= 0)
					shutdown(c->fd, SHUT_RDWR);
			}
			return false;
		}
		break;
	default:
		return false;
	}
	return true;
}
