/* The io_uring engine: one ring per worker process drives every connection
 * of that worker. Connects, sends and receives are ring operations; the
 * loop sleeps in io_uring_enter with a timeout set to the next message due
 * on the open-loop schedule (or the next housekeeping tick).
 *
 * Accounting rule, kept at every step: a message is "sent" when it is
 * encoded into a connection's send buffer; from then on it is exactly one
 * of in flight, acked, failed, or (once the drain times out) unacked. */
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

#include "engine/protocol.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

enum op {
	OP_CONNECT = 1,
	OP_SEND,
	OP_RECV,
};

#define BGID 1
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 32768
#define TICK_NS (10 * NSEC_PER_MSEC)
#define SCAN_NS (100 * NSEC_PER_MSEC)
#define PUBLISH_NS (100 * NSEC_PER_MSEC)
#define HANDSHAKE_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define CLOSE_TIMEOUT_NS (2 * NSEC_PER_SEC)
/* mosquitto listens with a backlog of 100: more handshakes in flight than
 * that get their SYNs dropped and wait a 1 s retransmit. */
#define CONNECTS_IN_FLIGHT 64
#define NO_CONN UINT32_MAX
/* Batched waits (batch_waits()): return at this many completions, or this
 * long after the wait began. */
#define BATCH_CQES 256
#define BATCH_NS NSEC_PER_MSEC
#define BATCH_SEG_NS (10 * NSEC_PER_MSEC) /* with segment stamps */


static inline uint64_t ud_make(uint32_t conn, enum op op)
{
	return ((uint64_t)conn << 8) | op;
}

static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	while (!sqe) {
		/* SQ full: hand what we have to the kernel and retry. */
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

/* ---- send buffers ---- */

static struct chunk *chunk_get(struct worker *w, bool small)
{
	struct chunk **list = small ? &w->free_small : &w->free_chunks;
	uint32_t cap = small ? SMALL_CHUNK : w->chunk_size;
	struct chunk *ch = *list;

	if (ch) {
		*list = ch->next;
	} else {
		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->cap = cap;
		w->chunks_alloc++;
	}
	ch->next = NULL;
	ch->len = ch->off = ch->n_msgs = ch->n_frames = 0;
	ch->first_msg = 0;
	ch->queued_ns = w->now;
	return ch;
}

struct chunk *worker_chunk_get(struct worker *w)
{
	return chunk_get(w, false);
}

static void chunk_put(struct worker *w, struct chunk *ch)
{
	struct chunk **list = ch->cap == SMALL_CHUNK ? &w->free_small : &w->free_chunks;

	ch->next = *list;
	*list = ch;
}

void worker_chunk_put(struct worker *w, struct chunk *ch)
{
	chunk_put(w, ch);
}

/* ---- send queue: ready connections that can take messages ---- */

void conn_sendq_push(struct worker *w, struct conn *c)
{
	if (c->in_sendq)
		return;
	c->in_sendq = 1;
	c->sendq_next = NO_CONN;
	uint32_t i = (uint32_t)(c - w->conns);
	if (w->sendq_tail == NO_CONN)
		w->sendq_head = i;
	else
		w->conns[w->sendq_tail].sendq_next = i;
	w->sendq_tail = i;
	w->sendq_len++;
}

static struct conn *sendq_pop(struct worker *w)
{
	if (w->sendq_head == NO_CONN)
		return NULL;
	struct conn *c = &w->conns[w->sendq_head];
	w->sendq_head = c->sendq_next;
	if (w->sendq_head == NO_CONN)
		w->sendq_tail = NO_CONN;
	c->in_sendq = 0;
	w->sendq_len--;
	return c;
}

/* ---- the schedule ---- */

static bool publishing(const struct worker *w)
{
	return w->phase == PHASE_RUNNING && w->t0 != 0;
}

/* How many messages should have been handed out by now. */
static uint64_t sched_due(const struct worker *w)
{
	if (!publishing(w))
		return w->next_msg;
	if (!w->rate)
		return w->limit;
	if (w->now < w->t0)
		return 0;
	uint64_t now = w->t_end && w->now > w->t_end ? w->t_end : w->now;
	unsigned __int128 n = (unsigned __int128)(now - w->t0) * w->rate / NSEC_PER_SEC + 1;
	/* Message k is due at t0 + k/rate: those due before t_end, no more. */
	if (w->t_end) {
		unsigned __int128 in_run = ((unsigned __int128)(w->t_end - w->t0) * w->rate +
					    NSEC_PER_SEC - 1) / NSEC_PER_SEC;
		if (n > in_run)
			n = in_run;
	}
	return n < w->limit ? (uint64_t)n : w->limit;
}

static uint64_t sched_time(const struct worker *w, uint64_t idx)
{
	if (!w->rate)
		return w->now;
	return w->t0 + (uint64_t)((unsigned __int128)idx * NSEC_PER_SEC / w->rate);
}

/* Messages the connection can take now. */
static uint32_t conn_room(const struct worker *w, const struct conn *c)
{
	if (c->state != CS_READY || c->tx || c->listener)
		return 0;
	if (w->o->churn)
		return c->churn_done || c->inflight ? 0 : 1;
	if (w->o->qos == 0)
		return w->chunk_msgs;
	uint32_t window = c->window < w->slot_cap ? c->window : w->slot_cap;
	uint32_t free_slots = c->inflight < window ? window - c->inflight : 0;
	return free_slots < w->chunk_msgs ? free_slots : w->chunk_msgs;
}

/* ---- connection lifecycle ---- */

static int conn_alloc_slots(struct worker *w, struct conn *c)
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
		uint64_t t = worker_rx_ns(w); /* when the ack arrived */
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

/* Every message still awaiting an ack on c becomes failed (connection lost)
 * or unacked (run over). */
static void conn_settle_inflight(struct worker *w, struct conn *c, bool lost)
{
	if (w->p->conn_settle) {
		w->p->conn_settle(w, c, lost);
		return;
	}
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
	c->n_rel = 0;
}

static void count_err(struct worker *w, enum blast_err why)
{
	if (why < ERR__COUNT)
		w->t.errors[why]++;
}

static void conn_finalize(struct worker *w, struct conn *c, bool graceful);
static bool conn_flush_control(struct worker *w, struct conn *c);

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
	/* A transport that owes a reply (a WebSocket close is answered with a
	 * close, RFC 6455 5.5.1) gets that send out: only reading stops now. */
	if (!c->tx && c->fd >= 0 && conn_flush_control(w, c))
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
static bool churn_may_open(const struct worker *w)
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

static void reopen_push(struct worker *w, struct conn *c)
{
	if (c->in_reopenq)
		return;
	c->in_reopenq = 1;
	w->reopenq[(w->reopen_head + w->reopen_len++) % w->n_conns] = (uint32_t)(c - w->conns);
}

static void conn_finalize(struct worker *w, struct conn *c, bool graceful)
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
	churn_release(w, c);
	if (running && graceful && w->o->churn && churn_may_open(w)) {
		c->state = CS_IDLE;
		c->t_retry = w->now;
		w->t.reconnects++;
		reopen_push(w, c);
	} else if (running && !graceful && (w->o->reconnect || w->always_reconnect)) {
		c->state = CS_IDLE;
		c->t_retry = w->now + backoff_ns(c->attempts);
		w->t.reconnects++;
	} else {
		c->state = CS_DONE;
		w->live--;
	}
}

static void conn_open(struct worker *w, struct conn *c)
{
	const struct blast_target *t = &w->addrs[c->target];
	enum blast_err why = ERR_CONNECT_FAILED;
	int fd = tcp_socket(t, c->idx, w->o->conns, &why);

	c->state = CS_CONNECTING;
	c->t_connect = w->now;
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
	rxstamp_enable(fd); /* without stamps, receipts are timed by the loop */
	c->seg_stamped = w->rxs && rxseg_attach(w->rxs, (uint32_t)(c - w->conns), fd, &c->rxs) == 0;
	struct io_uring_sqe *sqe = get_sqe(w);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&t->addr, t->addr_len);
	io_uring_sqe_set_data64(sqe, ud_make((uint32_t)(c - w->conns), OP_CONNECT));
	c->ops++;
}

static void conn_arm_recv(struct worker *w, struct conn *c)
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

static void conn_submit_send(struct worker *w, struct conn *c)
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
static void conn_close_gracefully(struct worker *w, struct conn *c)
{
	c->state = CS_DEAD;
	c->goodbye_sent = 1;
	w->t.conns_up--;
	shutdown(c->fd, c->recv_armed ? SHUT_WR : SHUT_RDWR);
	if (!c->ops)
		conn_finalize(w, c, true);
}

static bool owes_control(const struct worker *w, const struct conn *c)
{
	return w->p->has_control && w->p->has_control(c);
}

void conn_send_chunk(struct worker *w, struct conn *c, struct chunk *ch)
{
	c->tx = ch;
	conn_submit_send(w, c);
}

/* Control frames the transport owes (WebSocket pongs and close replies)
 * go in a send of their own: they are frames beside the one that carries
 * the protocol's bytes. */
static bool conn_flush_control(struct worker *w, struct conn *c)
{
	if (!w->ts.framed || !c->tl.s)
		return false;
	struct chunk *ch = chunk_get(w, true);
	if (!ch)
		return false;
	ch->len = (uint32_t)tlink_take_control(&c->tl, ch->data, ch->cap);
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
static void conn_flush(struct worker *w, struct conn *c, uint32_t n)
{
	const struct proto_ops *p = w->p;

	if (c->tx || (c->state != CS_READY && c->state != CS_CLOSING))
		return;
	if (conn_flush_control(w, c))
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
			/* No goodbye in this protocol: close now. */
			chunk_put(w, ch);
			conn_close_gracefully(w, c);
			return;
		}
	}
	if (c->state == CS_READY && p->fill && (n || owes_control(w, c))) {
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
	if (start) {
		ch->off = start;
		tlink_wrap(&c->tl, ch->data, &ch->off, ch->len);
	}
	c->tx = ch;
	conn_submit_send(w, c);
}

/* Hands out the messages due now to connections that have room. */
static void pump(struct worker *w)
{
	if (w->p->pump) {
		w->p->pump(w);
		return;
	}
	uint64_t due = sched_due(w);
	uint64_t pending = due > w->next_msg ? due - w->next_msg : 0;

	while (w->sendq_head != NO_CONN) {
		struct conn *c = &w->conns[w->sendq_head];
		uint32_t room = conn_room(w, c);
		if (!room) {
			sendq_pop(w); /* comes back when an ack or a send completes */
			continue;
		}
		if (!pending)
			break;
		/* Unpaced with a deep window: let acks free a good batch
		 * before sending again, instead of answering every few acks
		 * with a tiny send (the broker then reads tiny segments too). */
		uint32_t batch_min = c->window / 4 < w->batch_min ? c->window / 4 : w->batch_min;
		if (room < batch_min && room < pending && c->inflight) {
			sendq_pop(w); /* the next receive kicks it back */
			continue;
		}
		sendq_pop(w);
		uint64_t take = pending < room ? pending : room;
		/* Under --rate, share a tick's messages among the ready
		 * connections instead of piling them on the first. */
		if (w->rate && w->sendq_len) {
			uint64_t fair = pending / (w->sendq_len + 1);
			if (fair < 1)
				fair = 1;
			if (take > fair)
				take = fair;
		}
		uint64_t before = w->next_msg;
		conn_flush(w, c, (uint32_t)take);
		pending -= w->next_msg - before;
		if (w->next_msg == before)
			break; /* could not encode: out of memory or frame too big */
	}
}

static void conn_ready(struct worker *w, struct conn *c)
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
	c->t_last_tx = w->now;
	conn_sendq_push(w, c);
}

void conn_handshake_done(struct worker *w, struct conn *c)
{
	conn_ready(w, c);
}

static void conn_goodbye(struct worker *w, struct conn *c)
{
	if (c->state != CS_READY)
		return;
	c->state = CS_CLOSING;
	if (!c->tx)
		conn_flush(w, c, 0);
}

void conn_kick(struct worker *w, struct conn *c)
{
	if (c->state != CS_READY || c->tx)
		return;
	if (c->ctl_len || owes_control(w, c))
		conn_flush(w, c, 0);
	else if (w->o->churn && c->churn_done && !c->inflight)
		conn_goodbye(w, c);
	else if (conn_room(w, c))
		conn_sendq_push(w, c);
}

uint64_t worker_sched_time(const struct worker *w, uint64_t idx)
{
	return sched_time(w, idx);
}

uint64_t worker_sched_due(const struct worker *w)
{
	return sched_due(w);
}

/* ---- completions ---- */

static void conn_send_hello(struct worker *w, struct conn *c);
static void conn_transport_hello(struct worker *w, struct conn *c);

static void on_connect(struct worker *w, struct conn *c, int res)
{
	c->ops--;
	if (c->state == CS_DEAD) {
		if (!c->ops)
			conn_finalize(w, c, false);
		return;
	}
	if (res < 0) {
		conn_fail(w, c, tcp_connect_error(res));
		return;
	}
	if (tlink_open(&c->tl, &w->ts, &w->addrs[c->target], c->idx) < 0) {
		conn_fail(w, c, ERR_SEND);
		return;
	}
	conn_transport_hello(w, c);
}

/* The transport's next handshake (the WebSocket upgrade), or, once every
 * layer is up, the protocol's hello. */
static void conn_transport_hello(struct worker *w, struct conn *c)
{
	if (tlink_is_up(&c->tl)) {
		conn_send_hello(w, c);
		return;
	}
	struct chunk *ch = worker_chunk_get(w);
	int r = ch ? tlink_hello(&c->tl, ch->data, ch->cap, &ch->off, &ch->len) : -ENOMEM;
	if (r == 0) {
		chunk_put(w, ch);
		conn_send_hello(w, c);
		return;
	}
	if (r < 0) {
		if (ch)
			chunk_put(w, ch);
		conn_fail(w, c, ERR_SEND);
		return;
	}
	ch->n_frames = 1;
	bool reading = c->state == CS_TRANSPORT;
	c->state = CS_TRANSPORT;
	c->tx = ch;
	conn_submit_send(w, c);
	if (!reading)
		conn_arm_recv(w, c);
}

/* The protocol's first bytes (MQTT CONNECT), once the transport is up. */
static void conn_send_hello(struct worker *w, struct conn *c)
{
	const struct proto_ops *p = w->p;
	uint32_t start = w->ts.headroom;
	struct chunk *ch = worker_chunk_get(w);
	ssize_t r = ch ? p->hello(w, c, ch->data + start, ch->cap - start) : -ENOMEM;
	if (r == 0) {
		/* Nothing to say first (Kafka): ready as soon as connected. */
		chunk_put(w, ch);
		if (c->state != CS_TRANSPORT)
			conn_arm_recv(w, c);
		conn_ready(w, c);
		return;
	}
	if (r < 0) {
		if (ch)
			chunk_put(w, ch);
		conn_fail(w, c, ERR_SEND);
		return;
	}
	ch->len = start + (uint32_t)r;
	ch->n_frames = 1;
	if (start) {
		ch->off = start;
		tlink_wrap(&c->tl, ch->data, &ch->off, ch->len);
	}
	bool upgraded = c->state == CS_TRANSPORT;
	c->state = CS_HANDSHAKE;
	c->tx = ch;
	conn_submit_send(w, c);
	if (!upgraded)
		conn_arm_recv(w, c);
}

/* A chunk is done with (written whole, or the connection broke after off
 * bytes): qos 0 publishes written whole are acked, the others failed. */
static void chunk_settle(struct worker *w, struct conn *c, struct chunk *ch)
{
	const struct proto_ops *p = w->p;

	if (p->on_written) {
		p->on_written(w, c, ch, ch->off == ch->len ? ch->n_msgs : 0);
	} else if (w->o->qos == 0 && ch->n_msgs) {
		/* A framing transport's short write leaves a frame cut: count none. */
		uint32_t written = ch->off == ch->len ? ch->n_msgs :
				   w->ts.framed ? 0 : p->count_msgs(ch->data, ch->off);
		if (written > ch->n_msgs)
			written = ch->n_msgs;
		w->t.acked += written;
		w->t.failed += ch->n_msgs - written;
		w->t.inflight -= ch->n_msgs;
		if (written) {
			if (w->rate) {
				for (uint32_t i = 0; i < written; i++)
					hist_record(w->interval,
						    (int64_t)(w->now - sched_time(w, ch->first_msg + i)));
				hist_record_n(w->interval_raw, (int64_t)(w->now - ch->queued_ns), written);
			} else {
				hist_record_n(w->interval, (int64_t)(w->now - ch->queued_ns), written);
			}
		}
		if (w->o->churn && written)
			c->churn_done = 1;
	}
	chunk_put(w, ch);
}

static void on_send(struct worker *w, struct conn *c, int res)
{
	struct chunk *ch = c->tx;

	c->ops--;
	if (!ch->off)
		w->sends_fresh--;
	else
		w->sends_rest--;
	if (res > 0) {
		ch->off += (uint32_t)res;
		w->t.bytes_out += (uint64_t)res;
	}
	if (res > 0 && ch->off < ch->len && c->state != CS_DEAD) {
		conn_submit_send(w, c); /* short write: send the rest */
		return;
	}
	c->tx = NULL;
	chunk_settle(w, c, ch);
	if (res < 0 && c->state != CS_DEAD)
		conn_fail(w, c, res == -EPIPE || res == -ECONNRESET ? ERR_CONN_RESET : ERR_SEND);
	if (c->state == CS_DEAD) {
		if (!c->ops)
			conn_finalize(w, c, false);
		return;
	}
	if (c->hello_owed && c->state == CS_TRANSPORT) {
		c->hello_owed = 0;
		conn_transport_hello(w, c);
		return;
	}
	if (c->state == CS_CLOSING) {
		if (c->goodbye_sent) {
			conn_close_gracefully(w, c);
		} else {
			conn_flush(w, c, 0);
		}
		return;
	}
	if (c->state != CS_READY)
		return;
	if (w->o->churn && c->churn_done && !c->inflight) {
		conn_goodbye(w, c);
		return;
	}
	if (c->ctl_len || owes_control(w, c))
		conn_flush(w, c, 0);
	else if (conn_room(w, c))
		conn_sendq_push(w, c);
}

/* Appends to the bytes of a frame that straddles receives. */
static int carry_append(struct worker *w, struct conn *c, const uint8_t *buf, size_t n)
{
	if (c->carry_len + n > c->carry_cap) {
		size_t cap = c->carry_cap ? c->carry_cap : 64;
		while (cap < c->carry_len + n)
			cap *= 2;
		uint8_t *nb = realloc(c->carry, cap);
		if (!nb) {
			conn_fail(w, c, ERR_RECV);
			return -ENOMEM;
		}
		c->carry = nb;
		c->carry_cap = (uint32_t)cap;
	}
	memcpy(c->carry + c->carry_len, buf, n);
	c->carry_len += (uint32_t)n;
	return 0;
}

/* Feeds received bytes to the protocol one whole frame at a time. A frame
 * that straddles receives is gathered in c->carry; frames wholly inside a
 * receive buffer are handled in place. */
static void conn_consume(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	const struct proto_ops *p = w->p;

	while (c->carry_len && len) {
		ssize_t total = p->frame_total(c->carry, c->carry_len);
		if (total < 0) {
			conn_fail(w, c, total == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return;
		}
		size_t want = total ? (size_t)total - c->carry_len : 1;
		size_t take = want < len ? want : len;
		if (carry_append(w, c, buf, take) < 0)
			return;
		buf += take;
		len -= take;
		if (total && c->carry_len == (size_t)total) {
			c->carry_len = 0;
			worker_rx_mark(w, buf); /* its last byte came in this read */
			if (p->on_frame(w, c, c->carry, (size_t)total) < 0)
				return;
		}
	}
	while (len) {
		ssize_t total = p->frame_total(buf, len);
		if (total < 0) {
			conn_fail(w, c, total == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return;
		}
		if (total == 0 || (size_t)total > len) {
			/* Partial frame: keep it for the next receive. */
			carry_append(w, c, buf, len);
			return;
		}
		worker_rx_mark(w, buf + total);
		if (p->on_frame(w, c, buf, (size_t)total) < 0)
			return;
		if (c->state == CS_DEAD || c->state == CS_DONE)
			return;
		buf += total;
		len -= (size_t)total;
	}
}

/* ---- what the transport asks of the engine (struct transport_env) ---- */

static struct conn *tl_conn(struct tlink *l)
{
	return (struct conn *)((char *)l - offsetof(struct conn, tl));
}

static void tl_fail(void *ctx, struct tlink *l, enum blast_err why)
{
	conn_fail(ctx, tl_conn(l), why);
}

/* The top layer's payload: bytes of the protocol's stream. */
static int tl_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n)
{
	struct conn *c = tl_conn(l);

	conn_consume(ctx, c, p, n);
	return c->state == CS_DEAD || c->state == CS_DONE ? -1 : 0;
}

/* A layer came up: the next one's handshake, or the protocol's hello (in
 * the transport's frames from now on) once the send in flight is done. */
static void tl_layer_up(void *ctx, struct tlink *l)
{
	struct conn *c = tl_conn(l);

	if (c->state == CS_DEAD)
		return;
	if (c->tx)
		c->hello_owed = 1;
	else
		conn_transport_hello(ctx, c);
}

static int64_t tl_rx_offset(void *ctx, const uint8_t *p)
{
	return worker_rx_offset(ctx, p);
}

static void tl_rx_mark_at(void *ctx, int64_t off)
{
	worker_rx_mark_at(ctx, off);
}

/* Opens a recvmsg result in receive buffer bid: points data at the
 * payload, sets the receipt time (w->rx_ns) from the kernel's stamp, and
 * returns the payload bytes (0 = end of stream) or -EBADMSG. */
static int rx_open(struct worker *w, unsigned bid, int res, uint8_t **data)
{
	struct rx_read rd;

	if (rxstamp_parse(w->rbufs + (size_t)bid * w->rbuf_size, res, &w->rx_msg, &rd) < 0)
		return -EBADMSG;
	*data = rd.data;
	w->rx_ns = rx_clock_mono(&w->rxc, &rd.stamp, w->now);
	return (int)rd.len;
}

/* Opens the read of res bytes at data on c for segment timing. */
static void rx_begin(struct worker *w, struct conn *c, const uint8_t *data, int res)
{
	w->rx_conn = c;
	w->rx_buf = data;
	w->rx_len = (uint32_t)res;
	w->rx_mark = (uint32_t)res; /* unmarked: by the read's last byte */
	w->rx_seg = false;
	if (!c->seg_stamped)
		return;
	if (!rxseg_ready(w->rxs, (uint32_t)(c - w->conns), &c->rxs)) {
		/* Bytes read before the origin is known would shift every
		 * offset after them: this connection goes without. */
		rxseg_detach(w->rxs, (uint32_t)(c - w->conns));
		c->seg_stamped = 0;
		return;
	}
	w->rx_seg = true;
	w->rx_seq0 = c->rxs.seq;
}

static void rx_end(struct worker *w, struct conn *c)
{
	if (w->rx_seg && c->seg_stamped)
		c->rxs.seq = w->rx_seq0 + w->rx_len;
	w->rx_conn = NULL;
	w->rx_buf = NULL;
	w->rx_seg = false;
}

int64_t worker_rx_offset(const struct worker *w, const uint8_t *p)
{
	if (!w->rx_buf || p < w->rx_buf || p > w->rx_buf + w->rx_len)
		return -1;
	return p - w->rx_buf;
}

void worker_rx_mark(struct worker *w, const uint8_t *p)
{
	int64_t off = worker_rx_offset(w, p);

	if (off >= 0)
		worker_rx_mark_at(w, off);
}

void worker_rx_mark_at(struct worker *w, int64_t off)
{
	if (!w->rx_seg)
		return;
	/* A message finished by this read has a byte in it. */
	w->rx_mark = off < 1 ? 1 : off > (int64_t)w->rx_len ? w->rx_len : (uint32_t)off;
}

uint64_t worker_rx_ns(struct worker *w)
{
	uint64_t t = w->rx_ns ? w->rx_ns : w->now;

	if (w->rx_seg) {
		uint64_t ns;
		int r = rxseg_time(w->rxs, (uint32_t)(w->rx_conn - w->conns), &w->rx_conn->rxs,
				   w->rx_seq0 + w->rx_mark, &ns);
		if (r == 1 && ns <= w->now) {
			w->t.rx_by_segment++;
			return ns;
		}
		if (r == 0 && ns < t)
			t = ns; /* a later segment's: still closer than the read's */
	}
	if (w->rx_ns)
		w->t.rx_by_read++;
	else
		w->t.rx_by_loop++;
	return t;
}

static void rbuf_recycle(struct worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, w->rbufs + (size_t)bid * w->rbuf_size, w->rbuf_size,
			      (unsigned short)bid, io_uring_buf_ring_mask(w->rbuf_count), 0);
	io_uring_buf_ring_advance(w->br, 1);
}

static void on_recv(struct worker *w, struct conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	int res = cqe->res;
	uint8_t *data = NULL;

	if (!more) {
		c->ops--;
		c->recv_armed = 0;
	}
	if (has_buf)
		res = rx_open(w, bid, res, &data);
	else if (res > 0)
		res = -EBADMSG; /* bytes without a buffer: not a reply to this recv */
	if (res > 0) {
		w->t.bytes_in += (uint64_t)res;
		rx_begin(w, c, data, res);
		if (c->state == CS_TRANSPORT) {
			tlink_recv(&c->tl, data, (size_t)res);
		} else if (c->state == CS_HANDSHAKE || c->state == CS_READY || c->state == CS_CLOSING) {
			tlink_recv(&c->tl, data, (size_t)res);
			conn_kick(w, c); /* once per receive, not once per ack */
			/* A quick ACK lets a Nagle-bound broker (mosquitto sets no
			 * TCP_NODELAY) send its next acks without the 40 ms wait. */
			if (w->o->qos && w->slot_cap < 1024 && c->fd >= 0 && c->state == CS_READY) {
				int one = 1;
				setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
			}
		}
		rx_end(w, c);
		bool reading = c->state == CS_TRANSPORT || c->state == CS_HANDSHAKE ||
			       c->state == CS_READY || c->state == CS_CLOSING ||
			       (c->state == CS_DEAD && c->goodbye_sent);
		if (!more && reading)
			conn_arm_recv(w, c);
	} else if (res == 0) {
		if (c->state == CS_TRANSPORT || c->state == CS_HANDSHAKE || c->state == CS_READY)
			conn_fail(w, c, ERR_CONN_CLOSED);
		else if (c->state == CS_CLOSING)
			conn_fail(w, c, ERR__COUNT);
	} else if (res == -ENOBUFS) {
		/* Every receive buffer is taken: re-arm once some come back. */
		if (!more && c->state != CS_DEAD && c->state != CS_DONE)
			w->rearm[w->n_rearm++] = (uint32_t)(c - w->conns);
	} else if (c->state != CS_DEAD && c->state != CS_DONE) {
		conn_fail(w, c, res == -ECONNRESET ? ERR_CONN_RESET : ERR_RECV);
	}
	w->rx_ns = 0;
	if (has_buf)
		rbuf_recycle(w, bid);
	if (c->state == CS_DEAD && !c->ops)
		conn_finalize(w, c, c->goodbye_sent);
}

static void handle_cqe(struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	struct conn *c = &w->conns[ud >> 8];

	switch ((enum op)(ud & 0xff)) {
	case OP_CONNECT:
		on_connect(w, c, cqe->res);
		break;
	case OP_SEND:
		on_send(w, c, cqe->res);
		break;
	case OP_RECV:
		on_recv(w, c, cqe);
		break;
	}
}

/* ---- housekeeping ---- */

static void open_more(struct worker *w)
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
		if (o->churn && !churn_may_open(w)) {
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
static void reopen_now(struct worker *w)
{
	while (w->reopen_len && w->connecting < w->max_connecting && w->phase == PHASE_RUNNING &&
	       !w->shm->stop) {
		struct conn *c = &w->conns[w->reopenq[w->reopen_head]];
		w->reopen_head = (w->reopen_head + 1) % w->n_conns;
		w->reopen_len--;
		c->in_reopenq = 0;
		if (c->state != CS_IDLE)
			continue;
		if (w->o->churn && !churn_may_open(w)) {
			c->state = CS_DONE;
			w->live--;
			continue;
		}
		conn_open(w, c);
	}
}

static void scan(struct worker *w)
{
	const struct proto_ops *p = w->p;
	uint64_t ka = (uint64_t)w->o->keepalive * NSEC_PER_SEC / 2;

	for (uint32_t i = 0; i < w->next_open; i++) {
		struct conn *c = &w->conns[i];
		switch (c->state) {
		case CS_CONNECTING:
		case CS_TRANSPORT:
		case CS_HANDSHAKE:
			if (w->now - c->t_connect > HANDSHAKE_TIMEOUT_NS)
				conn_fail(w, c, ERR_CONNECT_TIMEOUT);
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
				reopen_push(w, c);
			break;
		default:
			break;
		}
	}
}

static void publish_counters(struct worker *w)
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
static void publish_interval(struct worker *w, bool last)
{
	struct worker_slot *s = w->slot;
	struct series_counts c = {
		.sent = w->t.sent, .acked = w->t.acked, .failed = w->t.failed,
		.unacked = w->t.unacked, .errors = totals_error_count(&w->t),
		.inflight = w->t.inflight, .conns_up = w->t.conns_up, .publish_start_ns = w->t0,
	};

	series_publish(&s->ring, (w->t_next_second - w->shm->start_ns) / NSEC_PER_SEC - 1, w->now,
		       w->interval, &c, last);
	hist_add(w->latency, w->interval);
	hist_add(w->latency_raw, w->rate ? w->interval_raw : w->interval);
	hist_clear(w->interval);
	hist_clear(w->interval_raw);
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

/* Moves the worker through its phases. Returns false when it is over. */
static bool advance_phase(struct worker *w)
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
			 * first messages. The parent says go. */
			if (ramp_done && opts_fanout(o) && !w->shm->go) {
				w->slot->ramp_done = 1;
				ramp_done = false;
			}
			if (ramp_done || w->shm->stop) {
				w->t0 = w->now;
				if (o->duration_ns)
					w->t_end = w->t0 + o->duration_ns;
			}
		}
		/* A worker whose share of --messages is 0 has nothing to do,
		 * unlike a connect-only run (--messages 0). */
		bool budget_done = w->t0 && w->next_msg >= w->limit &&
				   (w->limit || o->messages);
		bool senders_gone = w->t0 && !budget_done && fanout_publishers_gone(w);
		if (w->shm->stop || w->live == 0 || (w->t_end && w->now >= w->t_end) || budget_done ||
		    senders_gone) {
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
			w->slot->backlog_at_stop = w->t.not_sent + w->t.inflight;
			if (w->shm->stop)
				w->slot->stop_why = STOP_SIGNAL;
			else if (w->live == 0 || senders_gone)
				w->slot->stop_why = STOP_CONNS_LOST;
			else if (budget_done)
				w->slot->stop_why = STOP_MESSAGES;
			else
				w->slot->stop_why = STOP_DURATION;
			w->phase = PHASE_DRAINING;
			w->t_drain_end = w->now + o->drain_timeout_ns;
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

/* ---- setup ---- */

/* Runs that time what arrives: acks (qos > 0, or as the protocol says)
 * or receipts (fan-out). Others have nothing to stamp. */
static bool times_arrivals(const struct proto_ops *p, const struct blast_opts *o)
{
	if (p->times_arrivals)
		return p->times_arrivals(o);
	return o->qos > 0 || opts_fanout(o);
}

/* Runs where no send waits on an ack: the loop may batch its waits. */
static bool batch_capable(const struct proto_ops *p, const struct blast_opts *o)
{
	return o->qos == 0 && o->sub_qos == 0 && !p->sends_wait && !o->churn;
}

/* Receive buffer size and count. With segment stamps every message is
 * timed by its own segment whatever the read holds: 16 KiB reads, and the
 * loop batches wherever nothing waits on it. Otherwise a read's stamp is
 * that of its newest segment, and a batched wait lets segments pile up in
 * the socket: so when the loop batches, buffers hold about one message,
 * and the stamp that times a frame is that of its own last segment or of
 * one at most about a message behind it. Otherwise 16 KiB reads. Returns
 * whether the loop may batch: not when messages may be much smaller than
 * a read (payload files, protobuf), as one stamp would then time many. */
static bool rbuf_geometry(const struct proto_ops *p, const struct blast_opts *o, bool seg_stamps, uint32_t n_conns,
			  uint32_t *size, uint32_t *count)
{
	uint32_t hdr = (uint32_t)(sizeof(struct io_uring_recvmsg_out) + RXSTAMP_CONTROL_LEN);

	*size = 16384;
	/* Eight reads in flight per connection, 32 to 256 of them: a few
	 * connections need not touch 4 MiB (ENOBUFS re-arms when short). */
	*count = 32;
	while (*count < 256 && *count < 8ull * n_conns)
		*count *= 2;
	if (seg_stamps)
		return batch_capable(p, o);
	*count = 256;
	if (!batch_capable(p, o) || o->payloads.n || o->payload_proto)
		return false;
	if (o->payload_size > 8192)
		return true; /* a 16 KiB read holds at most about two */
	uint32_t room = (o->payload_size + 16 + 63) / 64 * 64; /* + frame header */
	*size = hdr + room;
	/* About 4 MiB in all, a power of two of buffers (the ring's rule). */
	*count = 256;
	while (*count < 16384 && (uint64_t)*count * 2 * *size <= (4u << 20))
		*count *= 2;
	return true;
}

static int setup_ring(struct worker *w)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
				     .cq_entries = CQ_ENTRIES };
	int r = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);

	if (r == -EINVAL) {
		/* Older kernels: no single-issuer/deferred task work. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		r = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
	}
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error), "io_uring setup failed: %s",
			 strerror(-r));
		return r;
	}
	w->ring_ok = true;

	/* Provided receive buffers, registered the liburing 2.3 way (no
	 * io_uring_setup_buf_ring yet): mmap the ring, register it, fill it. */
	w->batch_ok = rbuf_geometry(w->p, w->o, w->rxs != NULL, w->n_conns, &w->rbuf_size, &w->rbuf_count);
	/* Exact stamps whatever the wait: wait longer, read more at a time. */
	w->batch_ns = w->rxs ? BATCH_SEG_NS : BATCH_NS;
	size_t ring_sz = w->rbuf_count * sizeof(struct io_uring_buf);
	void *ring_mem = mmap(NULL, ring_sz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring_mem == MAP_FAILED)
		return -errno;
	w->br = ring_mem;
	io_uring_buf_ring_init(w->br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)ring_mem,
					.ring_entries = w->rbuf_count,
					.bgid = BGID };
	r = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error),
			 "io_uring provided buffer ring failed: %s", strerror(-r));
		return r;
	}
	/* Every receive buffer starts with the recvmsg header and the stamp. */
	w->rx_msg.msg_controllen = RXSTAMP_CONTROL_LEN;
	w->rbufs = malloc((size_t)w->rbuf_count * w->rbuf_size);
	if (!w->rbufs)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->rbuf_count; i++)
		io_uring_buf_ring_add(w->br, w->rbufs + (size_t)i * w->rbuf_size, w->rbuf_size,
				      (unsigned short)i, io_uring_buf_ring_mask(w->rbuf_count), (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->rbuf_count);
	return 0;
}

static int setup(struct worker *w)
{
	const struct blast_opts *o = w->o;

	w->tenv = (struct transport_env){
		.o = o, .t = &w->t, .now = &w->now, .ctx = w, .fail = tl_fail,
		.deliver = tl_deliver, .layer_up = tl_layer_up, .rx_offset = tl_rx_offset,
		.rx_mark_at = tl_rx_mark_at,
	};
	tstack_build(&w->ts, o, &w->tenv);
	/* Connections: global index i belongs to worker i % n, unless the
	 * protocol places them itself. */
	if (w->p->place) {
		int r = w->p->place(w);
		if (r < 0)
			return r;
	} else {
		if (opts_fanout(o)) {
			/* Fan-out: the publishers' node, then every --listen-target. */
			w->fan_addrs = calloc(1 + o->n_listen, sizeof(*w->fan_addrs));
			if (!w->fan_addrs)
				return -ENOMEM;
			w->fan_addrs[0] = o->targets[0];
			for (unsigned i = 0; i < o->n_listen; i++)
				w->fan_addrs[1 + i] = o->listen[i];
			w->addrs = w->fan_addrs;
			w->n_addrs = 1 + o->n_listen;
		} else {
			w->addrs = o->targets;
			w->n_addrs = o->n_targets;
		}
		w->n_conns = o->conns / w->n_workers + (w->id < o->conns % w->n_workers);
	}
	w->conns = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->conns));
	w->rearm = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->rearm));
	w->reopenq = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->reopenq));
	if (!w->conns || !w->rearm || !w->reopenq)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		c->fd = -1;
		c->idx = i * w->n_workers + w->id;
		c->target = (uint8_t)(c->idx % w->n_addrs);
		if (opts_fanout(o)) {
			/* Publishers first, all on the first target; then
			 * --listeners (--subscribers) per node, the first
			 * target included. */
			if (c->idx < o->publishers) {
				c->target = 0;
			} else {
				c->listener = 1;
				c->target = (uint8_t)((c->idx - o->publishers) /
						      opts_receivers_per_node(o));
			}
		}
		if (w->p->place_conn)
			w->p->place_conn(w, c, i);
		c->sendq_next = NO_CONN;
	}
	w->live = w->n_conns;
	w->sendq_head = w->sendq_tail = NO_CONN;
	w->max_connecting = CONNECTS_IN_FLIGHT / w->n_workers;
	if (w->max_connecting < 1)
		w->max_connecting = 1;

	/* The schedule share of this worker. */
	w->rate = o->rate ? o->rate / w->n_workers + (w->id < o->rate % w->n_workers) : 0;
	if (o->rate && !w->rate)
		w->rate = 1;
	if (o->has_messages)
		w->limit = o->messages / w->n_workers + (w->id < o->messages % w->n_workers);
	else
		w->limit = UINT64_MAX;
	if (opts_fanout(o)) {
		/* Only publishers send: share messages and rate by publisher,
		 * so a worker holding listeners only has nothing to send. */
		uint64_t lim = 0, rt = 0;
		uint32_t pubs = 0;
		for (uint64_t pb = w->id; pb < o->publishers; pb += w->n_workers) {
			pubs++;
			lim += o->messages / o->publishers + (pb < o->messages % o->publishers);
			rt += o->rate / o->publishers + (pb < o->rate % o->publishers);
		}
		w->limit = o->has_messages || !pubs ? lim : UINT64_MAX;
		w->rate = o->rate && pubs && !rt ? 1 : rt;
	}
	w->slot_cap = o->qos ? o->inflight : 0;

	/* Big buffers for a few connections, smaller ones for many: memory
	 * stays bounded either way (a buffer is held only while sending). */
	uint64_t cs = (16u << 20) / (w->n_conns ? w->n_conns : 1);
	if (cs > 256 * 1024)
		cs = 256 * 1024;
	if (cs < 16 * 1024)
		cs = 16 * 1024;
	if (w->p->chunk_size)
		cs = w->p->chunk_size(o);
	w->chunk_size = (uint32_t)cs;
	/* An upper bound only: a fill stops when the buffer is full. */
	w->chunk_msgs = w->chunk_size / 4;
	if (o->qos && !o->rate && !o->churn) {
		uint32_t est = w->chunk_size / (16 + (o->payloads.n ? 64 : o->payload_size));
		w->batch_min = w->slot_cap / 4;
		if (w->batch_min > est)
			w->batch_min = est;
	}

	w->interval = hist_new();
	w->interval_raw = hist_new();
	w->latency = hist_new();
	w->latency_raw = hist_new();
	w->connect = hist_new();
	w->e2e = hist_new();
	if (!w->interval || !w->interval_raw || !w->latency || !w->latency_raw || !w->connect ||
	    !w->e2e)
		return -ENOMEM;

	w->scratch = malloc(SCRATCH_LEN);
	if (!w->scratch)
		return -ENOMEM;
	if (o->payload_proto) {
		/* Checked by the parent already; built again here after fork. */
		w->pgen = payload_gen_new(o, w->slot->error, sizeof(w->slot->error));
		if (!w->pgen)
			return -EINVAL;
		payload_gen_seed(w->pgen, w->id + 1);
		w->pbuf_cap = payload_gen_max_size(w->pgen);
		w->pbuf = malloc(w->pbuf_cap ? w->pbuf_cap : 1);
		if (!w->pbuf)
			return -ENOMEM;
	}
	int r = w->p->setup(w);
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error), "protocol setup failed: %s",
			 strerror(-r));
		return r;
	}
	if (o->rx_stamps != RX_STAMPS_READ && w->n_conns && times_arrivals(w->p, o)) {
		char why[96];
		if (rxseg_open(&w->rxs, w->n_conns, why, sizeof(why)) < 0 &&
		    o->rx_stamps == RX_STAMPS_SEGMENT) {
			snprintf(w->slot->error, sizeof(w->slot->error), "--rx-stamps segment: %s", why);
			return -EPERM;
		}
	}
	return setup_ring(w);
}

static void teardown(struct worker *w)
{
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		if (c->fd >= 0)
			close(c->fd);
		free(c->carry);
		free(c->slots);
		if (c->tx)
			free(c->tx);
	}
	for (uint32_t i = 0; i < w->n_conns; i++)
		tlink_close(&w->conns[i].tl);
	if (w->p && w->p->teardown)
		w->p->teardown(w);
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	while (w->free_chunks) {
		struct chunk *ch = w->free_chunks;
		w->free_chunks = ch->next;
		free(ch);
	}
	while (w->free_small) {
		struct chunk *ch = w->free_small;
		w->free_small = ch->next;
		free(ch);
	}
	rxseg_close(w->rxs); /* after the sockets: nothing attached is left */
	free(w->rbufs);
	free(w->conns);
	free(w->rearm);
	free(w->reopenq);
	free(w->payload);
	free(w->scratch);
	free(w->pbuf);
	if (w->pgen)
		payload_gen_free(w->pgen);
	free(w->interval);
	free(w->interval_raw);
	free(w->latency);
	free(w->latency_raw);
	free(w->connect);
	free(w->e2e);
	free(w->fan_addrs);
}

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

/* ---- the loop ---- */

static uint64_t next_wakeup(const struct worker *w)
{
	uint64_t t = w->now + TICK_NS;

	/* Wake on the second's boundary: the series closes it right there. */
	if (w->t_next_second < t)
		t = w->t_next_second;
	if (publishing(w) && w->rate && w->next_msg < w->limit) {
		uint64_t due = sched_time(w, w->next_msg);
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

/* Whether the loop may sleep through several completions. Receipts and
 * acks are timed by the kernel's stamp, so sleeping costs them nothing;
 * it only delays what a completion unblocks. So: not while a send waits
 * on an ack (qos > 0, Kafka, churn), a handshake is in flight, or a fresh
 * send is (a fast peer takes it at once, and its completion lets the next
 * one go); the rest of a short write waits for the peer to read, which
 * leaves the socket's buffer mostly full, so it may wait. And after a turn
 * that reaped nothing, wait for the first completion as before. */
static bool batch_waits(const struct worker *w)
{
	return w->batch_ok && w->connecting == 0 && w->sends_fresh == 0 &&
	       (w->phase == PHASE_RUNNING || w->phase == PHASE_DRAINING) && w->last_reaped > 0;
}

/* Completions to wait for, and the wait (ns) shortened to BATCH_NS when
 * that is more than one. The wait never passes the next due send. */
static unsigned wait_want(const struct worker *w, uint64_t *wait)
{
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
		if (w.now >= w.t_next_second) {
			publish_interval(&w, false);
			w.t_next_second += NSEC_PER_SEC;
		}
		if (w.now >= w.t_next_publish) {
			publish_counters(&w);
			w.t_next_publish = w.now + PUBLISH_NS;
		}

		uint64_t wake = next_wakeup(&w);
		uint64_t wait = wake > w.now ? wake - w.now : 0;
		unsigned want = wait_want(&w, &wait);
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
	w.slot->first_send_ns = w.first_send_ns;
	w.slot->last_recv_ns = w.last_recv_ns;
	w.slot->end_ns = w.now;
	w.slot->rss_bytes = peak_rss();
	w.phase = status ? PHASE_FAILED : PHASE_DONE;
	publish_counters(&w);
	teardown(&w);
	return status;
}
