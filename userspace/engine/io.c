/* Completions: connect, send and receive results, the transport's
 * handshakes, and received bytes fed to the protocol one whole frame at a
 * time. */
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
#include "engine/io.h"
#include "engine/protocol.h"
#include "engine/quickack.h"
#include "engine/ring.h"
#include "engine/rx.h"
#include "engine/sched.h"
#include "engine/sendq.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static void on_connect(struct worker *w, struct conn *c, int res);
static void conn_transport_hello(struct worker *w, struct conn *c);
static void conn_send_hello(struct worker *w, struct conn *c);
static void chunk_settle(struct worker *w, struct conn *c, struct chunk *ch);
static void on_send(struct worker *w, struct conn *c, int res);
static int carry_append(struct worker *w, struct conn *c, const uint8_t *buf, size_t n);
static void conn_consume(struct worker *w, struct conn *c, const uint8_t *buf, size_t len);
static struct conn *tl_conn(struct tlink *l);
static void on_recv(struct worker *w, struct conn *c, struct io_uring_cqe *cqe);

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
	hist_record(w->stage[HS_TCP], (int64_t)(w->now - c->t_connect));
	if (tlink_open(&c->tl, &w->ts, &w->addrs[c->target], c->idx) < 0) {
		conn_fail(w, c, ERR_SEND);
		return;
	}
	conn_transport_hello(w, c);
}

/* The transport's next handshake (a layer's, bottom first), or, once every
 * layer is up, the protocol's hello. */
static void conn_transport_hello(struct worker *w, struct conn *c)
{
	if (tlink_is_up(&c->tl)) {
		conn_send_hello(w, c);
		return;
	}
	struct chunk *ch = worker_chunk_get(w);
	int r = ch ? tlink_hello(&c->tl, ch->data, ch->cap, ch->room, &ch->off, &ch->len) : -ENOMEM;
	if (r == 0) {
		chunk_put(w, ch);
		conn_send_hello(w, c);
		return;
	}
	if (r < 0) {
		if (ch)
			chunk_put(w, ch);
		conn_fail(w, c, r == -ECANCELED ? ERR__COUNT : ERR_SEND); /* the layer counted it */
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
		/* Nothing to say first: ready as soon as connected. */
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
	ch->off = start;
	if (w->ts.wraps && tlink_wrap(&c->tl, ch->data, &ch->off, &ch->len, ch->room) < 0) {
		chunk_put(w, ch);
		conn_fail(w, c, ERR_SEND);
		return;
	}
	c->t_hello = w->now;
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
						    (int64_t)(w->now - sched_start(w, ch->first_msg + i,
										  ch->queued_ns)));
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
		c->short_write = 1;
		conn_submit_send(w, c); /* short write: send the rest */
		return;
	}
	c->tx = NULL;
	c->short_write = 0;
	chunk_settle(w, c, ch);
	/* A protocol's send that waited for the control bytes owed before it:
	 * written not at all if the connection went. */
	struct chunk *next = c->tx_after;
	c->tx_after = NULL;
	if (next && (res < 0 || c->state == CS_DEAD)) {
		chunk_settle(w, c, next);
		next = NULL;
	}
	if (res < 0 && c->state != CS_DEAD)
		conn_fail(w, c, res != -EPIPE && res != -ECONNRESET ? ERR_SEND :
				c->state == CS_TRANSPORT ? tlink_closed_err(&c->tl, true) : ERR_CONN_RESET);
	if (c->state == CS_DEAD) {
		if (!c->ops)
			conn_finalize(w, c, false);
		return;
	}
	if (next) {
		conn_send_chunk(w, c, next); /* or more control first, if still owed */
		return;
	}
	if (c->hello_owed && c->state == CS_TRANSPORT) {
		c->hello_owed = 0;
		conn_transport_hello(w, c);
		return;
	}
	if (c->state == CS_TRANSPORT) {
		conn_flush_control(w, c, false); /* the handshake's next flight, if owed */
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
	if (c->state != CS_READY) {
		conn_send_owed_control(w, c); /* a pong owed while it waits for its answer */
		return;
	}
	if (w->o->churn && c->churn_done && !c->inflight) {
		conn_goodbye(w, c);
		return;
	}
	if (c->ctl_len || conn_owes_control(w, c))
		conn_flush(w, c, 0);
	else if (conn_room(w, c)) {
		/* A send the socket took whole was done at once: whatever
		 * waited since was waiting for the loop, not for room. */
		c->avail_wait = c->short_write ? DIAG_WAIT_SOCKET : DIAG_WAIT_NONE;
		c->avail_ns = w->now;
		conn_sendq_push(w, c);
	}
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
		if (p->on_run) {
			size_t k = p->on_run(w, c, buf, len);
			if (k) {
				if (c->state == CS_DEAD || c->state == CS_DONE)
					return;
				buf += k;
				len -= k;
				continue;
			}
		}
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

static struct conn *tl_conn(struct tlink *l)
{
	return (struct conn *)((char *)l - offsetof(struct conn, tl));
}

void tl_fail(void *ctx, struct tlink *l, enum blast_err why)
{
	conn_fail(ctx, tl_conn(l), why);
}

/* The top layer's payload: bytes of the protocol's stream. */
int tl_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n)
{
	struct conn *c = tl_conn(l);

	conn_consume(ctx, c, p, n);
	return c->state == CS_DEAD || c->state == CS_DONE ? -1 : 0;
}

/* A layer came up: the next one's handshake, or the protocol's hello (in
 * the transport's frames from now on) once the send in flight is done. */
void tl_layer_up(void *ctx, struct tlink *l)
{
	struct conn *c = tl_conn(l);

	if (c->state == CS_DEAD)
		return;
	if (c->tx)
		c->hello_owed = 1;
	else
		conn_transport_hello(ctx, c);
}

int64_t tl_rx_offset(void *ctx, const uint8_t *p)
{
	return worker_rx_offset(ctx, p);
}

void tl_rx_mark_at(void *ctx, int64_t off)
{
	worker_rx_mark_at(ctx, off);
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
		w->recvs_data++;
		rx_begin(w, c, data, res);
		if (c->state == CS_TRANSPORT) {
			tlink_recv(&c->tl, data, (size_t)res);
			/* Handshakes are timed: no delayed ACK holding the
			 * server's next flight back (it may not set TCP_NODELAY). */
			int one = 1;
			if (c->fd >= 0)
				setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
			/* A handshake that needs another flight from us (TLS 1.2). */
			if (c->state == CS_TRANSPORT && !c->tx)
				conn_flush_control(w, c, false);
		} else if (c->state == CS_HANDSHAKE && !c->carry_len &&
			   tlink_plain_alert(&c->tl, data, (size_t)res)) {
			conn_fail(w, c, ERR_TLS_PLAIN_CLIENT);
		} else if (c->state == CS_HANDSHAKE || c->state == CS_READY || c->state == CS_CLOSING) {
			tlink_recv(&c->tl, data, (size_t)res);
			conn_kick(w, c); /* once per receive, not once per ack */
			quickack_after_read(w, c);
		}
		rx_end(w, c);
		bool reading = c->state == CS_TRANSPORT || c->state == CS_HANDSHAKE ||
			       c->state == CS_READY || c->state == CS_CLOSING ||
			       (c->state == CS_DEAD && c->goodbye_sent);
		if (!more && reading)
			conn_arm_recv(w, c);
	} else if (res == 0) {
		/* During a layer's handshake, the layer names it (a refused upgrade). */
		if (c->state == CS_TRANSPORT)
			conn_fail(w, c, tlink_closed_err(&c->tl, false));
		else if (c->state == CS_READY && w->p->on_eof && w->p->on_eof(w, c))
			; /* the protocol settled it */
		else if (c->state == CS_HANDSHAKE || c->state == CS_READY)
			conn_fail(w, c, ERR_CONN_CLOSED);
		else if (c->state == CS_CLOSING)
			conn_fail(w, c, ERR__COUNT);
	} else if (res == -ENOBUFS) {
		/* Every receive buffer is taken: re-arm once some come back. */
		if (!more && c->state != CS_DEAD && c->state != CS_DONE)
			w->rearm[w->n_rearm++] = (uint32_t)(c - w->conns);
	} else if (c->state == CS_TRANSPORT && res == -ECONNRESET) {
		conn_fail(w, c, tlink_cut_short(&c->tl, true));
	} else if (c->state != CS_DEAD && c->state != CS_DONE) {
		conn_fail(w, c, res != -ECONNRESET ? ERR_RECV :
				c->state == CS_TRANSPORT ? tlink_closed_err(&c->tl, true) : ERR_CONN_RESET);
	}
	w->rx_ns = 0;
	if (has_buf)
		rbuf_recycle(w, bid);
	if (c->state == CS_DEAD && !c->ops)
		conn_finalize(w, c, c->goodbye_sent);
}

void handle_cqe(struct worker *w, struct io_uring_cqe *cqe)
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
