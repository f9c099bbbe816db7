/* --proto http: HTTP/1.1 requests, one message each, answered in order
 * (docs/http.md). A request takes one of the connection's ack slots (the
 * engine's QoS 1 bookkeeping: --pipeline of them) and its slot joins the
 * connection's queue; each response ends the request at the queue's head.
 * Responses are decoded as they stream in (encoders/http.h): nothing is
 * gathered, bodies are counted and skipped. A server that ends a
 * connection in good order (Connection: close, or closing between
 * responses) gets it reopened at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/http.h"
#include "engine/protocol.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "protocol/registry.h"

/* A connection's requests awaiting responses, oldest first, and the
 * response being read. */
struct hconn {
	struct http_dec dec;
	uint16_t *queue;   /* slot indices, a ring of the slots (--pipeline) */
	uint32_t head, n;
	bool last;         /* --no-keepalive: its one request is out */
};

/* The worker's request template: the Host of each target; and the
 * connections pausing for --think-time, in the order their pauses end
 * (they all last as long). */
struct hhead {
	uint8_t *bytes;    /* NULL until the first request to the target */
	size_t len;
	uint64_t body_len; /* the Content-Length it was made with */
};

struct hworker {
	char (*host)[300];
	struct hhead *heads; /* per target, when its path has no {seq}/{conn} */
	bool *static_path;
	const char *content_type;
	uint32_t *held;
	uint32_t held_head, held_n;
	uint8_t *is_held;
};

static int http_setup(struct worker *w)
{
	const struct blast_opts *o = w->o;
	struct hworker *hw = calloc(1, sizeof(*hw));

	if (!hw)
		return -ENOMEM;
	w->pstate = hw;
	hw->host = calloc(w->n_addrs ? w->n_addrs : 1, sizeof(*hw->host));
	hw->heads = calloc(w->n_addrs ? w->n_addrs : 1, sizeof(*hw->heads));
	hw->static_path = calloc(w->n_addrs ? w->n_addrs : 1, sizeof(*hw->static_path));
	if (!hw->host || !hw->heads || !hw->static_path)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n_addrs; i++)
		hw->static_path[i] = !strchr(w->addrs[i].path, '{');
	/* RFC 9112 3.2: the authority, its port left out when it is the
	 * scheme's default; an IPv6 literal in brackets. */
	for (uint32_t i = 0; i < w->n_addrs; i++) {
		const struct blast_target *t = &w->addrs[i];
		bool v6 = strchr(t->host, ':') != NULL;
		bool dflt = t->port == (t->tls ? 443 : 80);
		snprintf(hw->host[i], sizeof(hw->host[i]), "%s%s%s%s%.0u", v6 ? "[" : "", t->host,
			 v6 ? "]" : "", dflt ? "" : ":", dflt ? 0 : t->port);
	}
	if (o->think_ns && (!(hw->held = calloc(w->n_conns ? w->n_conns : 1, sizeof(*hw->held))) ||
			    !(hw->is_held = calloc(w->n_conns ? w->n_conns : 1, 1))))
		return -ENOMEM;
	hw->content_type = o->content_type ? o->content_type
			 : o->payload_proto ? "application/x-protobuf"
					    : "application/octet-stream";
	if (o->http_body && !o->payloads.n && !w->pgen) {
		w->payload_len = o->payload_size;
		w->payload = malloc(w->payload_len ? w->payload_len : 1);
		if (!w->payload)
			return -ENOMEM;
		for (uint32_t i = 0; i < w->payload_len; i++)
			w->payload[i] = (uint8_t)('a' + i % 26);
	}
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct hconn *h = calloc(1, sizeof(*h));
		if (!h || !(h->queue = calloc(w->slot_cap, sizeof(*h->queue)))) {
			free(h);
			return -ENOMEM;
		}
		http_dec_init(&h->dec, HTTP_MAX_HEAD_DEFAULT, o->max_body);
		h->dec.head_req = !strcmp(o->http_method, "HEAD");
		w->conns[i].pstate = h;
	}
	return 0;
}

static void http_teardown(struct worker *w)
{
	struct hworker *hw = w->pstate;

	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct hconn *h = w->conns[i].pstate;
		if (h)
			free(h->queue);
		free(h);
		w->conns[i].pstate = NULL;
	}
	if (hw) {
		for (uint32_t i = 0; hw->heads && i < w->n_addrs; i++)
			free(hw->heads[i].bytes);
		free(hw->heads);
		free(hw->static_path);
		free(hw->host);
		free(hw->held);
		free(hw->is_held);
	}
	free(hw);
	w->pstate = NULL;
}

/* Nothing to say first: a connection is ready once connected (and, for
 * https, once TLS is up). A reopened one starts a fresh stream. */
static ssize_t http_hello(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct hconn *h = c->pstate;
	bool head_req = h->dec.head_req;

	(void)out, (void)cap;
	http_dec_init(&h->dec, HTTP_MAX_HEAD_DEFAULT, w->o->max_body);
	h->dec.head_req = head_req;
	h->head = h->n = 0;
	h->last = false;
	return 0;
}

/* Every byte goes through on_run; this is never asked about a frame. */
static ssize_t http_frame_total(const uint8_t *buf, size_t len)
{
	(void)buf;
	return len ? (ssize_t)len : 0;
}

static int http_on_frame(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	conn_fail(w, c, ERR_PROTOCOL);
	return -1;
}

/* --think-time: c takes no request until the pause is over; http_pump
 * lets it go on then. */
static void think(struct worker *w, struct conn *c)
{
	struct hworker *hw = w->pstate;
	uint32_t i = (uint32_t)(c - w->conns);

	c->t_hold = w->now + w->o->think_ns;
	if (hw->is_held[i])
		return; /* already waiting (pipelined answers): it waits longer */
	hw->is_held[i] = 1;
	hw->held[(hw->held_head + hw->held_n++) % w->n_conns] = i;
}

/* Releases the connections whose pause is over, then hands out messages. */
static void http_pump(struct worker *w)
{
	struct hworker *hw = w->pstate;

	while (hw->held_n) {
		uint32_t i = hw->held[hw->held_head];
		struct conn *c = &w->conns[i];
		if (c->t_hold > w->now)
			break;
		hw->held_head = (hw->held_head + 1) % w->n_conns;
		hw->held_n--;
		hw->is_held[i] = 0;
		c->t_hold = 0;
		conn_kick(w, c);
	}
	pump_default(w);
}

/* The loop wakes when the first pause ends. */
static uint64_t http_next_wakeup(const struct worker *w)
{
	const struct hworker *hw = w->pstate;

	return hw && hw->held_n ? w->conns[hw->held[hw->held_head]].t_hold : 0;
}

/* The request at the queue's head got its whole response. */
static void response_done(struct worker *w, struct conn *c, struct hconn *h)
{
	const struct http_dec *d = &h->dec;
	uint16_t slot = h->queue[h->head];
	bool ok = d->status < HTTP_STATUS_SLOTS && w->o->http_ok[d->status];

	h->head = (h->head + 1) % w->slot_cap;
	h->n--;
	w->t.http_resp[d->status]++;
	w->t.http_body_bytes += d->body;
	if (!ok)
		w->t.http_refused[d->status]++;
	conn_msg_done(w, c, &c->slots[slot], ok);
	if (w->o->think_ns)
		think(w, c);
}

/* The server ended the connection in good order: requests it leaves
 * unanswered are lost with it (conn_closed), and it opens again. */
static void server_closed(struct worker *w, struct conn *c, struct hconn *h)
{
	w->t.http_server_closed++;
	if (h->n)
		w->t.errors[ERR_CONN_CLOSED]++;
	h->n = 0;
	conn_reopen(w, c);
}

/* Takes every byte: the decoder keeps its place between reads. */
static size_t http_on_run(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	struct hconn *h = c->pstate;
	size_t off = 0;

	while (off < len) {
		if (!h->n) {
			/* An answer to nothing: not an HTTP server, or a broken one. */
			conn_fail(w, c, ERR_PROTOCOL);
			return len;
		}
		/* Time to first byte, from the request's send to the read that
		 * brought its response's first byte (the kernel's stamp). It
		 * goes in the fan-out's histogram, which HTTP has no use for:
		 * the reports read it from there (report/http_report.c). */
		if (http_dec_idle(&h->dec)) {
			const struct msg_slot *s = &c->slots[h->queue[h->head]];
			uint64_t t = w->rx_ns ? w->rx_ns : w->now;
			hist_record(w->e2e, (int64_t)(t - s->sent_ns));
		}
		unsigned ev;
		ssize_t k = http_dec_feed(&h->dec, buf + off, len - off, &ev);
		if (k < 0) {
			conn_fail(w, c, k == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return len;
		}
		off += (size_t)k;
		if (ev & HTTP_EV_INTERIM)
			w->t.http_interim++;
		if (!(ev & HTTP_EV_DONE))
			continue;
		worker_rx_mark(w, buf + off);
		response_done(w, c, h);
		if (h->dec.close || (h->last && !h->n)) {
			server_closed(w, c, h);
			return len;
		}
	}
	return len;
}

static bool http_on_eof(struct worker *w, struct conn *c)
{
	struct hconn *h = c->pstate;
	int r = http_dec_eof(&h->dec);

	if (r < 0)
		return false; /* a response cut short: conn_closed */
	if (r == HTTP_EV_DONE && h->n)
		response_done(w, c, h); /* its body ran to the close */
	server_closed(w, c, h);
	return true;
}

/* The body of request seq: filler, a --payload-file line, or a protobuf
 * message. NULL with *n 0 when there is none. */
static const uint8_t *request_body(struct worker *w, uint64_t seq, size_t *n)
{
	const struct blast_opts *o = w->o;

	*n = 0;
	if (!o->http_body)
		return NULL;
	if (w->pgen) {
		ssize_t pl = payload_gen_fill(w->pgen, seq, w->pbuf, w->pbuf_cap);
		if (pl < 0)
			return NULL;
		*n = (size_t)pl;
		return w->pbuf;
	}
	if (o->payloads.n) {
		size_t line = w->payload_next++ % o->payloads.n;
		*n = o->payloads.lens[line];
		return (const uint8_t *)o->payloads.lines[line];
	}
	*n = w->payload_len;
	return w->payload;
}

/* The head of req into out: a copy of the target's last one when its path
 * has no template and the body's length is the same (every byte else
 * depends on the run's flags alone), else encoded afresh and kept. */
static ssize_t request_head(struct hworker *hw, uint32_t target, uint8_t *out, size_t cap,
			    const struct http_req *req)
{
	struct hhead *hh = &hw->heads[target];

	if (hh->bytes && hh->body_len == req->body_len) {
		if (hh->len > cap)
			return -ENOSPC;
		memcpy(out, hh->bytes, hh->len);
		return (ssize_t)hh->len;
	}
	ssize_t r = http_encode_head(out, cap, req);
	if (r < 0 || !hw->static_path[target])
		return r;
	uint8_t *b = realloc(hh->bytes, (size_t)r);
	if (b) { /* without it, the next request is encoded again */
		memcpy(b, out, (size_t)r);
		hh->bytes = b;
		hh->len = (size_t)r;
		hh->body_len = req->body_len;
	}
	return r;
}

static uint32_t http_fill(struct worker *w, struct conn *c, struct chunk *ch, uint64_t first,
			  uint32_t n)
{
	const struct blast_opts *o = w->o;
	struct hworker *hw = w->pstate;
	struct hconn *h = c->pstate;
	const struct blast_target *t = &w->addrs[c->target];
	uint32_t done = 0;

	struct http_req req = {
		.method = o->http_method,
		.path = t->path,
		.host = hw->host[c->target],
		.headers = (const char *const *)o->ws_headers,
		.n_headers = o->n_ws_headers,
		.content_type = o->http_body ? hw->content_type : NULL,
		.send_length = o->http_body,
		.close = o->no_keepalive,
		.conn = c->idx,
	};
	for (; done < n && !h->last; done++) {
		uint64_t idx = first + done;
		if (!c->n_free || c->inflight >= c->window)
			break;
		size_t blen;
		const uint8_t *body = request_body(w, idx * w->n_workers + w->id, &blen);
		if (o->http_body && !body && blen)
			break;
		req.seq = idx * w->n_workers + w->id;
		req.body_len = blen;
		ssize_t r = request_head(hw, c->target, ch->data + ch->len, ch->cap - ch->len, &req);
		if (r < 0 || ch->cap - ch->len - (size_t)r < blen) {
			if (o->payloads.n)
				w->payload_next--; /* the line goes with the next send */
			break;
		}
		if (blen)
			memcpy(ch->data + ch->len + r, body, blen);
		ch->len += (uint32_t)((size_t)r + blen);
		ch->n_frames++;
		uint16_t slot = c->free_slots[--c->n_free];
		struct msg_slot *s = &c->slots[slot];
		s->state = 1;
		s->id = (uint16_t)(slot + 1);
		s->intended_ns = worker_msg_start(w, idx);
		s->sent_ns = w->now;
		h->queue[(h->head + h->n++) % w->slot_cap] = slot;
		c->inflight++;
		w->t.inflight++;
		if (o->no_keepalive)
			h->last = true;
	}
	return done;
}

/* A partly written send: its requests are settled through their slots. */
static uint32_t http_count_msgs(const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	return 0;
}

/* Room for a request head and the largest body (a send holds at most
 * --pipeline requests: the window bounds it, not the buffer). */
static uint64_t http_chunk_size(const struct blast_opts *o)
{
	uint64_t body = o->payload_size;

	for (size_t i = 0; i < o->payloads.n; i++)
		if (o->payloads.lens[i] > body)
			body = o->payloads.lens[i];
	if (o->payload_proto)
		body = 1u << 20;
	uint64_t cs = 8192 + body;
	for (uint32_t i = 0; i < o->n_ws_headers; i++)
		cs += strlen(o->ws_headers[i]) + 2;
	return cs < (16u << 10) ? 16u << 10 : cs;
}

const struct proto_ops http_proto = {
	.name = "http",
	.setup = http_setup,
	.hello = http_hello,
	.frame_total = http_frame_total,
	.on_frame = http_on_frame,
	.on_run = http_on_run,
	.on_eof = http_on_eof,
	.fill = http_fill,
	.count_msgs = http_count_msgs,
	.chunk_size = http_chunk_size,
	.pump = http_pump,
	.next_wakeup = http_next_wakeup,
	.teardown = http_teardown,
};
