/* A connection's life: open, ready, the sends it builds, goodbye, failure
 * and reopening. Accounting rule: a message is "sent" when it is encoded
 * into a send buffer; from then on it is exactly one of in flight, acked,
 * failed, or unacked. */
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

#include "engine/chunk.h"
#include "engine/conn.h"
#include "engine/measure.h"
#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/rx.h"
#include "engine/sendq.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static void count_err(struct worker *w, enum blast_err why);
static uint64_t backoff_ns(uint32_t attempts);
static void churn_release(struct worker *w, struct conn *c);

/* Messages the connection can take now. */
uint32_t conn_room(const struct worker *w, const struct conn *c)
{
	if (c->state != CS_READY || c->tx || c->listener || c->t_hold > w->now)
		return 0;
	if (w->o->churn)
		return c->churn_done || c->inflight ? 0 : 1;
	if (w->o->qos == 0)
		return w->chunk_msgs;
	uint32_t window = c->window < w->slot_cap ? c->window : w->slot_cap;
	uint32_t free_slots = c->inflight < window ? window - c->inflight : 0;
	return free_slots < w->chunk_msgs ? free_slots : w->chunk_msgs;
}

/* Unpaced with a deep window, the fewest messages worth a send: acks free
 * a good batch before c sends again, instead of answering every few acks
 * with a tiny send (the peer then reads tiny segments too). Refilled
 * whole, the peer reads each window in one go, as wrk pipelines. */
uint32_t conn_batch_min(const struct worker *w, const struct conn *c)
{
	if (w->refill_whole)
		return c->window;
	return c->window / 4 < w->batch_min ? c->window / 4 : w->batch_min;
}

int conn_alloc_slots(struct worker *w, struct conn *c)
{
	uint32_t n = w->slot_cap;
	size_t sz = n * (sizeof(struct msg_slot) + 3 * sizeof(uint16_t));
	uint8_t *mem = calloc(1, sz);

	if (!mem)
		return -ENOMEM;
	c->slots = (struct msg_slot *)mem;
	c->free_slots = (uint16_t *)(mem + n * sizeof(struct msg_slot));
	c->rel_pending = c->free_slots + n;
	c->gen = c->rel_pending + n;
	/* Pop order 0, 1, 2...: packet ids come out in sequence. */
	for (uint32_t i = 0; i < n; i++)
		c->free_slots[i] = (uint16_t)(n - 1 - i);
	c->n_free = n;
	c->n_rel = 0;
	return 0;
}

void conn_msg_done(struct worker *w, struct conn *c, struct msg_slot *s, bool ok)
{
	if (ok) {
		w->t.acked++;
		uint64_t t = rx_time(w); /* when the ack arrived */
		hist_record(w->interval, (int64_t)(t - s->intended_ns));
		/* Without --rate both clocks agree: one record serves both. */
		if (w->rate)
			hist_record(w->interval_raw, (int64_t)(t - s->sent_ns));
	} else {
		w->t.failed++;
	}
	s->state = 0;
	c->free_slots[c->n_free++] = (uint16_t)(s - c->slots);
	c->inflight--;
	w->t.inflight--;
	if (w->o->churn)
		c->churn_done = 1;
}

void conn_acks_done(struct worker *w, struct conn *c, const uint16_t *slots, const int32_t *ends,
		    uint32_t n)
{
	struct hist *h = w->interval, *raw = w->interval_raw;
	struct hist_run hr = hist_run_start(h), rr = hist_run_start(raw);
	uint16_t *free_top = c->free_slots + c->n_free;
	/* Acks ending at or before offset span have arrival time t. */
	int64_t span = -1;
	uint64_t t = 0, by_segment = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct msg_slot *s = &c->slots[slots[i]];
		if (ends[i] >= 0 && ends[i] <= span) {
			by_segment++;
		} else {
			if (ends[i] >= 0)
				rx_mark_at(w, (uint32_t)ends[i]);
			t = rx_time(w);
			span = ends[i] >= 0 ? rx_time_span(w, t) : -1;
		}
		hist_run_record(h, &hr, (int64_t)(t - s->intended_ns));
		/* Without --rate both clocks agree: one record serves both. */
		if (w->rate)
			hist_run_record(raw, &rr, (int64_t)(t - s->sent_ns));
		free_top[i] = slots[i];
	}
	if (n && ends[n - 1] >= 0)
		rx_mark_at(w, (uint32_t)ends[n - 1]);
	w->t.rx_by_segment += by_segment;
	hist_run_end(h, &hr);
	hist_run_end(raw, &rr);
	c->n_free += n;
	w->t.acked += n;
	c->inflight -= n;
	w->t.inflight -= n;
	if (w->o->churn && n)
		c->churn_done = 1;
}

/* Every message still awaiting an ack on c becomes failed (connection lost)
 * or unacked (run over). */
void conn_settle_slots(struct worker *w, struct conn *c, bool lost)
{
	if (!c->slots || !c->inflight)
		return;
	for (uint32_t i = 0; i < w->slot_cap && c->inflight; i++) {
		struct msg_slot *s = &c->slots[i];
		if (!s->state)
			continue;
		if (lost)
			w->t.failed++;
		else
			w->t.unacked++;
		s->state = 0;
		c->free_slots[c->n_free++] = (uint16_t)i;
		c->inflight--;
		w->t.inflight--;
	}
}

void conn_settle_inflight(struct worker *w, struct conn *c, bool lost)
{
	if (w->p->conn_settle) {
		w->p->conn_settle(w, c, lost);
		return;
	}
	conn_settle_slots(w, c, lost);
	c->n_rel = 0;
}

static void count_err(struct worker *w, enum blast_err why)
{
	if (why < ERR__COUNT)
		w->t.errors[why]++;
}

/* The connection is broken (or refused): count why, fail what it carried,
 * and let the ring operations on it finish before the fd is closed. */
void conn_fail(struct worker *w, struct conn *c, enum blast_err why)
{
	if (c->state == CS_DEAD || c->state == CS_DONE || c->state == CS_IDLE)
		return;
	count_err(w, why);
	if (c->state == CS_CONNECTING || c->state == CS_TRANSPORT || c->state == CS_HANDSHAKE) {
		w->t.conns_failed++;
		w->connecting--;
	} else if (c->state == CS_READY || c->state == CS_CLOSING) {
		w->t.conns_up--;
		if (w->phase <= PHASE_DRAINING && !(c->state == CS_CLOSING && w->o->churn))
			w->t.conns_dropped++;
	}
	conn_settle_inflight(w, c, true);
	c->state = CS_DEAD;
	c->ctl_len = 0;
	/* A transport that owes a reply (a close answered with a close) gets
	 * that send out: only reading stops now. */
	if (!c->tx && c->fd >= 0 && conn_flush_control(w, c, true))
		shutdown(c->fd, SHUT_RD);
	else
		shutdown(c->fd, SHUT_RDWR); /* completes the pending recv and send */
	if (!c->ops)
		conn_finalize(w, c, false);
}

static uint64_t backoff_ns(uint32_t attempts)
{
	uint64_t ms = 100ULL << (attempts < 6 ? attempts : 6); /* 100 ms .. 6.4 s */

	if (ms > 5000)
		ms = 5000;
	return ms * NSEC_PER_MSEC + (uint64_t)(rand() % 100) * NSEC_PER_MSEC;
}

/* Churn: each open takes one message, so open only while messages are left
 * that no other open has claimed. */
bool conn_churn_may_open(const struct worker *w)
{
	return w->limit == UINT64_MAX || w->next_msg + w->churn_reserved < w->limit;
}

static void churn_release(struct worker *w, struct conn *c)
{
	if (c->churn_reserved) {
		c->churn_reserved = 0;
		w->churn_reserved--;
	}
}

void conn_reopen_push(struct worker *w, struct conn *c)
{
	if (c->in_reopenq)
		return;
	c->in_reopenq = 1;
	w->reopenq[(w->reopen_head + w->reopen_len++) % w->n_conns] = (uint32_t)(c - w->conns);
}

void conn_finalize(struct worker *w, struct conn *c, bool graceful)
{
	if (c->seg_stamped) {
		rxseg_detach(w->rxs, (uint32_t)(c - w->conns));
		c->seg_stamped = 0;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	tlink_close(&c->tl);
	c->hello_owed = 0;
	c->carry_len = 0;
	c->window = 0; /* the next CONNACK may say otherwise */
	c->goodbye_sent = 0;
	c->churn_done = 0;
	if (graceful)
		c->attempts = 0;
	else
		c->attempts++;
	bool running = w->phase == PHASE_RUNNING && !w->shm->stop;
	/* A connection that still owes resends (HTTP requests a closing
	 * server left unanswered) reopens during the drain too. */
	if (!running && c->reopen && w->phase == PHASE_DRAINING && !w->shm->stop &&
	    conn_owes_control(w, c))
		running = true;
	bool reopen = c->reopen;
	c->reopen = 0;
	churn_release(w, c);
	if (running && reopen) {
		c->state = CS_IDLE;
		c->t_retry = w->now;
		w->t.reconnects++;
		conn_reopen_push(w, c);
	} else if (running && graceful && w->o->churn && conn_churn_may_open(w)) {
		c->state = CS_IDLE;
		c->t_retry = w->now;
		w->t.reconnects++;
		conn_reopen_push(w, c);
	} else if (running && !graceful && (w->o->reconnect || w->always_reconnect)) {
		c->state = CS_IDLE;
		c->t_retry = w->now + backoff_ns(c->attempts);
		w->t.reconnects++;
	} else {
		c->state = CS_DONE;
		w->live--;
	}
}

void conn_open(struct worker *w, struct conn *c)
{
	const struct blast_target *t = &w->addrs[c->target];
	enum blast_err why = ERR_CONNECT_FAILED;
	int fd = tcp_socket(t, c->idx, w->o->conns, &why);

	c->state = CS_CONNECTING;
	c->t_connect = w->now;
	c->t_hello = 0;
	w->connecting++;
	if (w->o->churn) {
		c->churn_reserved = 1;
		w->churn_reserved++;
	}
	if (fd < 0) {
		c->fd = -1;
		conn_fail(w, c, why);
		return;
	}
	c->fd = fd;
	if (w->stamp_reads)
		rxstamp_enable(fd); /* without stamps, receipts are timed by the loop */
	c->qa = (struct conn_qack){ 0 };
	c->seg_stamped = w->rxs && rxseg_attach(w->rxs, (uint32_t)(c - w->conns), fd, &c->rxs) == 0;
	struct io_uring_sqe *sqe = get_sqe(w);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&t->addr, t->addr_len);
	io_uring_sqe_set_data64(sqe, ud_make((uint32_t)(c - w->conns), OP_CONNECT));
	c->ops++;
}

void conn_arm_recv(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	/* recvmsg, not recv: each read brings its kernel receive stamp. */
	io_uring_prep_recvmsg_multishot(sqe, c->fd, &w->rx_msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud_make((uint32_t)(c - w->conns), OP_RECV));
	c->recv_armed = 1;
	c->ops++;
}

void conn_submit_send(struct worker *w, struct conn *c)
{
	struct chunk *ch = c->tx;
	struct io_uring_sqe *sqe = get_sqe(w);

	io_uring_prep_send(sqe, c->fd, ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_make((uint32_t)(c - w->conns), OP_SEND));
	c->ops++;
	if (!ch->off)
		w->sends_fresh++; /* not the rest after a short write */
	else
		w->sends_rest++;
	c->t_last_tx = w->now;
}

/* The goodbye is out: send FIN and read until the peer's EOF (or the close
 * timeout). Closing with unread bytes in the receive queue would send a
 * reset, and a reset makes the peer drop what it has not processed yet. */
void conn_close_gracefully(struct worker *w, struct conn *c)
{
	c->state = CS_DEAD;
	c->goodbye_sent = 1;
	w->t.conns_up--;
	shutdown(c->fd, c->recv_armed ? SHUT_WR : SHUT_RDWR);
	if (!c->ops)
		conn_finalize(w, c, true);
}

void conn_reopen(struct worker *w, struct conn *c)
{
	if (c->state != CS_READY && c->state != CS_CLOSING)
		return;
	conn_settle_inflight(w, c, true);
	c->state = CS_DEAD;
	c->reopen = 1;
	c->ctl_len = 0;
	w->t.conns_up--;
	shutdown(c->fd, SHUT_RDWR); /* completes the pending recv and send */
	if (!c->ops)
		conn_finalize(w, c, true);
}

bool conn_owes_control(const struct worker *w, const struct conn *c)
{
	return w->p->has_control && w->p->has_control(c);
}

bool conn_send_chunk(struct worker *w, struct conn *c, struct chunk *ch)
{
	/* Owed control first (TLS 1.3's client Finished, a client certificate's
	 * whole flight): sealed behind it, the send would go through the
	 * transport's spill, and what did not fit its room would wait for a
	 * next send that may never come. Sent whole, the chunk follows. */
	if (conn_flush_control(w, c, false)) {
		c->tx_after = ch;
		return true;
	}
	if (w->ts.wraps && tlink_wrap(&c->tl, ch->data, &ch->off, &ch->len, ch->room) < 0) {
		chunk_put(w, ch);
		conn_fail(w, c, ERR_SEND);
		return false;
	}
	c->tx = ch;
	conn_submit_send(w, c);
	return true;
}

/* Control frames the transport owes (pongs and close replies, a TLS
 * handshake's next flight) go in a send of their own: they are frames
 * beside the one that carries the protocol's bytes. */
bool conn_flush_control(struct worker *w, struct conn *c, bool small)
{
	if (!w->ts.framed || !c->tl.s)
		return false;
	struct chunk *ch = chunk_get(w, small);
	if (!ch)
		return false;
	ch->len = (uint32_t)tlink_take_control(&c->tl, ch->data, ch->cap, ch->room);
	if (!ch->len) {
		chunk_put(w, ch);
		return false;
	}
	ch->n_frames = 1;
	c->tx = ch;
	conn_submit_send(w, c);
	return true;
}

/* Builds one send: owed control frames, then up to n messages. */
void conn_flush(struct worker *w, struct conn *c, uint32_t n)
{
	const struct proto_ops *p = w->p;

	if (c->tx || (c->state != CS_READY && c->state != CS_CLOSING))
		return;
	if (conn_flush_control(w, c, true))
		return;
	/* Control frames alone need few bytes: thousands of connections
	 * saying goodbye at once must not each hold a full send buffer. */
	bool small = (n == 0 || c->state == CS_CLOSING) && c->n_rel * 4u + 16 + w->ts.headroom < SMALL_CHUNK;
	struct chunk *ch = chunk_get(w, small);
	if (!ch) {
		conn_fail(w, c, ERR_SEND);
		return;
	}
	/* The transport's headers go in front, once the size is known. */
	uint32_t start = w->ts.headroom;
	ch->len = start;
	if (c->ctl_len) {
		memcpy(ch->data + ch->len, c->ctl, c->ctl_len);
		ch->len += c->ctl_len;
		ch->n_frames = 1;
		c->ctl_len = 0;
	}
	if (c->state == CS_CLOSING) {
		ssize_t r = p->goodbye ? p->goodbye(w, c, ch->data + ch->len, ch->cap - ch->len) : 0;
		if (r > 0) {
			ch->len += (uint32_t)r;
			ch->n_frames++;
		}
		c->goodbye_sent = 1;
		n = 0;
		if (ch->len == start) {
			/* No goodbye in this protocol: the transport's own (a
			 * WebSocket close frame, TLS's close_notify) alone, or
			 * close now. */
			ch->off = start;
			if (w->ts.byes)
				ch->len = tlink_bye(&c->tl, ch->data, start, ch->room);
			if (ch->len == start) {
				chunk_put(w, ch);
				conn_close_gracefully(w, c);
				return;
			}
			ch->n_frames = 1;
			c->tx = ch;
			conn_submit_send(w, c);
			return;
		}
	}
	if (c->state == CS_READY && p->fill && (n || conn_owes_control(w, c))) {
		if (n && c->slots == NULL && w->o->qos && conn_alloc_slots(w, c) < 0) {
			chunk_put(w, ch);
			conn_fail(w, c, ERR_SEND);
			return;
		}
		uint32_t done = p->fill(w, c, ch, w->next_msg, n);
		if (done) {
			churn_release(w, c);
			ch->first_msg = w->next_msg;
			ch->n_msgs = done;
			measure_sends(w, c, w->next_msg, done);
			if (!w->o->qos)
				w->t.inflight += done; /* until written whole */
			w->next_msg += done;
			w->t.sent += done;
			if (!w->first_send_ns)
				w->first_send_ns = w->now;
			w->last_send_ns = w->now;
		}
	}
	if (ch->len == start) {
		chunk_put(w, ch);
		return;
	}
	ch->off = start;
	if (w->ts.wraps && tlink_wrap(&c->tl, ch->data, &ch->off, &ch->len, ch->room) < 0) {
		/* Its messages count as sent: the failure settles them. */
		c->tx = NULL;
		conn_fail(w, c, ERR_SEND);
		w->t.inflight -= w->o->qos ? 0 : ch->n_msgs;
		w->t.failed += w->o->qos ? 0 : ch->n_msgs;
		chunk_put(w, ch);
		return;
	}
	/* After a goodbye, the transport's: a WebSocket close frame, TLS's
	 * close_notify. */
	if (c->state == CS_CLOSING && w->ts.byes)
		ch->len = tlink_bye(&c->tl, ch->data, ch->len, ch->room);
	c->tx = ch;
	conn_submit_send(w, c);
}

void conn_ready(struct worker *w, struct conn *c)
{
	if (!c->window)
		c->window = w->slot_cap;
	c->state = CS_READY;
	c->attempts = 0;
	c->ever_ready = 1;
	w->connecting--;
	w->t.conns_ok++;
	w->t.conns_up++;
	if (w->t.conns_up > w->peak_conns)
		w->peak_conns = w->t.conns_up;
	hist_record(w->connect, (int64_t)(w->now - c->t_connect));
	if (c->t_hello)
		hist_record(w->stage[HS_PROTO], (int64_t)(w->now - c->t_hello));
	c->t_hello = 0;
	c->t_last_tx = w->now;
	c->avail_wait = DIAG_WAIT_NONE;
	conn_sendq_push(w, c);
	/* Owed frames go now: in the drain no new message would carry them. */
	if (conn_owes_control(w, c))
		conn_flush(w, c, 0);
}

void conn_handshake_done(struct worker *w, struct conn *c)
{
	conn_ready(w, c);
}

void conn_goodbye(struct worker *w, struct conn *c)
{
	if (c->state != CS_READY)
		return;
	c->state = CS_CLOSING;
	if (!c->tx)
		conn_flush(w, c, 0);
}

/* Sends what the transport owes (a pong) now, on a connection with no send
 * in flight: an idle one (a listener, --messages 0, the drain, a handshake
 * waiting for its answer) has no next message to carry it, and a server
 * that pings drops a client whose pongs never come. */
bool conn_send_owed_control(struct worker *w, struct conn *c)
{
	if (c->tx || c->fd < 0 ||
	    (c->state != CS_READY && c->state != CS_HANDSHAKE && c->state != CS_CLOSING))
		return false;
	return conn_flush_control(w, c, true);
}

void conn_kick(struct worker *w, struct conn *c)
{
	if (conn_send_owed_control(w, c))
		return;
	if (c->state != CS_READY || c->tx)
		return;
	if (c->ctl_len || conn_owes_control(w, c))
		conn_flush(w, c, 0);
	else if (w->o->churn && c->churn_done && !c->inflight)
		conn_goodbye(w, c);
	else if (conn_room(w, c) && !c->in_sendq) {
		/* Out of the queue with no send in flight: its window was full,
		 * and this receive's acks freed it when the read arrived (the
		 * kernel's stamp; not worker_rx_ns, which counts what it times). */
		c->avail_wait = DIAG_WAIT_WINDOW;
		c->avail_ns = w->rx_ns ? w->rx_ns : w->now;
		conn_sendq_push(w, c);
	}
}
