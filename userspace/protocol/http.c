/* --proto http: HTTP/1.1 requests, one message each, answered in order
 * (docs/http.md). A request takes one of the connection's ack slots (the
 * engine's QoS 1 bookkeeping: --pipeline of them) and its slot joins the
 * connection's queue; each response ends the request at the queue's head.
 * Responses are decoded as they stream in (encoders/http.h): nothing is
 * gathered, bodies are counted and skipped. A server that ends a
 * connection in good order (Connection: close, or closing between
 * responses) gets it reopened at once, and the idempotent requests it left
 * unanswered (never processed: RFC 9112 9.3.2, 9.6) are resent on it,
 * each keeping its scheduled time, at most HTTP_MAX_RETRIES times. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/http.h"
#include "engine/protocol.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "protocol/registry.h"

/* Times one request is resent before it fails (http_retries_exhausted). */
#define HTTP_MAX_RETRIES 3

/* A request to send again: what it was made from, and when the schedule
 * wanted it first (its corrected latency counts from there). */
struct hretry {
	uint64_t intended_ns, seq;
	uint32_t line;     /* its --payload-file line */
	uint8_t target;    /* the --target it was made for */
	uint8_t tries;     /* times resent, this one included */
};

/* A connection's requests awaiting responses, oldest first, and the
 * response being read; per slot, what its request was made from; the
 * requests to resend once it is open again. */
struct hconn {
	struct http_dec dec;
	uint16_t *queue;   /* slot indices, a ring of the slots (--pipeline) */
	uint32_t head, n;
	bool last;         /* --no-keepalive: its one request is out */
	bool reopening;    /* its unanswered requests went to retry[]: keep them */
	uint64_t answered; /* final responses since it opened */
	uint64_t *seq;     /* per slot */
	uint32_t *line;
	uint8_t *tries;
	uint8_t *target;   /* per slot */
	uint8_t turn;      /* the target of its next new request */
	struct hretry *retry; /* a ring of slot_cap */
	uint32_t retry_head, retry_n;
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
	bool idempotent;   /* --method may be resent (RFC 9110 9.2.2) */
	/* Per target, the next one at the same host, port and scheme: a
	 * connection takes those in turn, request by request. */
	uint8_t *next_same;
	struct http_memo *memo; /* per target: its last response (http.h) */
};

static bool method_idempotent(const char *m)
{
	static const char *const ok[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(m, ok[i]))
			return true;
	return false;
}

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
	hw->idempotent = method_idempotent(o->http_method);
	if (!(hw->next_same = calloc(w->n_addrs ? w->n_addrs : 1, 1)) ||
	    !(hw->memo = calloc(w->n_addrs ? w->n_addrs : 1, sizeof(*hw->memo))))
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n_addrs; i++) {
		const struct blast_target *a = &w->addrs[i];
		hw->next_same[i] = (uint8_t)i;
		for (uint32_t k = 1; k < w->n_addrs; k++) {
			uint32_t j = (i + k) % w->n_addrs;
			const struct blast_target *b = &w->addrs[j];
			if (a->port == b->port && a->tls == b->tls && !strcmp(a->host, b->host)) {
				hw->next_same[i] = (uint8_t)j;
				break;
			}
		}
	}
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
	/* Closed-loop pipelining: windows refilled whole (worker.h). */
	w->refill_whole = !o->rate && !o->think_ns && w->slot_cap > 1;
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
		if (!h)
			return -ENOMEM;
		w->conns[i].pstate = h;
		h->queue = calloc(w->slot_cap, sizeof(*h->queue));
		h->seq = calloc(w->slot_cap, sizeof(*h->seq));
		h->line = calloc(w->slot_cap, sizeof(*h->line));
		h->tries = calloc(w->slot_cap, sizeof(*h->tries));
		h->target = calloc(w->slot_cap, sizeof(*h->target));
		h->retry = calloc(w->slot_cap, sizeof(*h->retry));
		if (!h->queue || !h->seq || !h->line || !h->tries || !h->target || !h->retry)
			return -ENOMEM;
		http_dec_init(&h->dec, HTTP_MAX_HEAD_DEFAULT, o->max_body);
		h->dec.head_req = !strcmp(o->http_method, "HEAD");
	}
	return 0;
}

static void http_teardown(struct worker *w)
{
	struct hworker *hw = w->pstate;

	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct hconn *h = w->conns[i].pstate;
		if (h) {
			free(h->queue);
			free(h->seq);
			free(h->line);
			free(h->tries);
			free(h->target);
			free(h->retry);
		}
		free(h);
		w->conns[i].pstate = NULL;
	}
	if (hw) {
		for (uint32_t i = 0; hw->heads && i < w->n_addrs; i++)
			free(hw->heads[i].bytes);
		free(hw->heads);
		free(hw->static_path);
		free(hw->next_same);
		free(hw->memo);
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
	h->answered = 0;
	h->turn = c->target;
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
	h->answered++;
	w->t.http_resp[d->status]++;
	w->t.http_body_bytes += d->body;
	if (!ok)
		w->t.http_refused[d->status]++;
	conn_msg_done(w, c, &c->slots[slot], ok);
	if (w->o->think_ns)
		think(w, c);
}

/* The requests c still awaits answers to, never processed by a server
 * that closed after a complete response, go to its retry ring (they stay
 * in flight), or fail when they were resent too often. */
static void keep_for_retry(struct worker *w, struct conn *c, struct hconn *h)
{
	for (; h->n; h->n--, h->head = (h->head + 1) % w->slot_cap) {
		uint16_t slot = h->queue[h->head];
		struct msg_slot *s = &c->slots[slot];
		if (h->tries[slot] >= HTTP_MAX_RETRIES) {
			w->t.errors[ERR_HTTP_RETRIES]++;
			conn_msg_done(w, c, s, false);
			continue;
		}
		h->retry[(h->retry_head + h->retry_n++) % w->slot_cap] = (struct hretry){
			.intended_ns = s->intended_ns,
			.seq = h->seq[slot],
			.line = h->line[slot],
			.target = h->target[slot],
			.tries = (uint8_t)(h->tries[slot] + 1),
		};
		s->state = 0;
		c->free_slots[c->n_free++] = slot;
		c->inflight--;
	}
}

/* The server ended the connection in good order, and it opens again.
 * Requests it leaves unanswered are resent when may_retry (a complete
 * response came before on it) and the method is idempotent; else they
 * are lost with it (conn_closed, once for the connection). */
static void server_closed(struct worker *w, struct conn *c, struct hconn *h, bool may_retry)
{
	struct hworker *hw = w->pstate;

	w->t.http_server_closed++;
	if (h->n && may_retry && hw->idempotent && c->state == CS_READY)
		keep_for_retry(w, c, h);
	if (h->n)
		w->t.errors[ERR_CONN_CLOSED]++;
	h->reopening = true;
	conn_reopen(w, c);
	h->reopening = false;
}

/* What c carried when it broke (lost) or the run ended: its requests in
 * flight and those waiting to be resent fail or stay unacked. A server's
 * orderly close (reopening) keeps the ones waiting to be resent. */
static void http_conn_settle(struct worker *w, struct conn *c, bool lost)
{
	struct hconn *h = c->pstate;

	conn_settle_slots(w, c, lost);
	h->n = 0;
	if (h->reopening)
		return;
	if (lost)
		w->t.failed += h->retry_n;
	else
		w->t.unacked += h->retry_n;
	w->t.inflight -= h->retry_n;
	h->retry_n = 0;
}

/* Requests to resend: the connection sends them before any new one. */
static int http_has_control(const struct conn *c)
{
	const struct hconn *h = c->pstate;

	return h && h->retry_n;
}

/* Responses ended in one read and acked together (conn_acks_done): one
 * arrival lookup per segment, not per response. */
#define HTTP_ACK_BATCH 64

struct hacks {
	uint16_t slots[HTTP_ACK_BATCH];
	int32_t ends[HTTP_ACK_BATCH];
	uint32_t n;
};

static void acks_flush(struct worker *w, struct conn *c, struct hacks *a)
{
	if (a->n)
		conn_acks_done(w, c, a->slots, a->ends, a->n);
	a->n = 0;
}

/* The response at the queue's head ended at end (an offset in the read,
 * or -1) and leaves the connection open: response_done, its ack batched
 * when it is a plain success (no --think-time pause to start). */
static void response_ok(struct worker *w, struct conn *c, struct hconn *h, struct hacks *a,
			int64_t end)
{
	const struct http_dec *d = &h->dec;
	if (w->o->think_ns || d->status >= HTTP_STATUS_SLOTS || !w->o->http_ok[d->status]) {
		acks_flush(w, c, a);
		if (end >= 0)
			worker_rx_mark_at(w, end);
		response_done(w, c, h);
		return;
	}
	uint16_t slot = h->queue[h->head];
	h->head = h->head + 1 == w->slot_cap ? 0 : h->head + 1;
	h->n--;
	h->answered++;
	w->t.http_resp[d->status]++;
	w->t.http_body_bytes += d->body;
	c->slots[slot].state = 0;
	a->slots[a->n] = slot;
	a->ends[a->n] = end >= 0 && end <= INT32_MAX ? (int32_t)end : -1;
	if (++a->n == HTTP_ACK_BATCH)
		acks_flush(w, c, a);
}

/* The responses in buf, their times to first byte recorded through ttfb
 * (http_on_run). */
static size_t on_run(struct worker *w, struct conn *c, const uint8_t *buf, size_t len,
		     struct hist_run *ttfb)
{
	struct hworker *hw = w->pstate;
	struct hconn *h = c->pstate;
	struct hacks a;
	size_t off = 0;
	int64_t base = worker_rx_offset(w, buf);

	/* The run is over and what it awaited was settled (unacked): late
	 * answers are not counted again. */
	if (c->state == CS_CLOSING)
		return len;
	a.n = 0;
	while (off < len) {
		if (!h->n) {
			/* An answer to nothing: not an HTTP server, or a broken one. */
			acks_flush(w, c, &a);
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
			hist_run_record(w->e2e, ttfb, (int64_t)(t - s->sent_ns));
		}
		unsigned ev;
		/* The memo of the target this response answers. */
		struct http_memo *memo = &hw->memo[h->target[h->queue[h->head]]];
		ssize_t k = http_dec_feed_resp(&h->dec, memo, buf + off, len - off, &ev);
		if (k < 0) {
			acks_flush(w, c, &a);
			conn_fail(w, c, k == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return len;
		}
		off += (size_t)k;
		if (ev & HTTP_EV_INTERIM)
			w->t.http_interim++;
		if (!(ev & HTTP_EV_DONE))
			continue;
		if (h->dec.close || (h->last && h->n == 1)) {
			acks_flush(w, c, &a);
			worker_rx_mark(w, buf + off);
			response_done(w, c, h);
			server_closed(w, c, h, true);
			return len;
		}
		response_ok(w, c, h, &a, base < 0 ? -1 : base + (int64_t)off);
	}
	acks_flush(w, c, &a);
	return len;
}

/* Takes every byte: the decoder keeps its place between reads. Times to
 * first byte go in as a run: the responses one read brings to requests
 * sent together have the same one. */
static size_t http_on_run(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	struct hist_run ttfb = hist_run_start(w->e2e);
	size_t k = on_run(w, c, buf, len, &ttfb);

	hist_run_end(w->e2e, &ttfb);
	return k;
}

static bool http_on_eof(struct worker *w, struct conn *c)
{
	struct hconn *h = c->pstate;
	int r = http_dec_eof(&h->dec);

	if (r < 0)
		return false; /* a response cut short: conn_closed */
	if (r == HTTP_EV_DONE && h->n)
		response_done(w, c, h); /* its body ran to the close */
	/* Between responses, after one came whole on this connection: the
	 * rest were not processed (nginx's keepalive_requests, a
	 * keepalive_timeout racing a request). With none yet, fail them. */
	server_closed(w, c, h, h->answered > 0);
	return true;
}

/* The body of request seq: filler, --payload-file line `line`, or a
 * protobuf message. NULL with *n 0 when there is none. */
static const uint8_t *request_body(struct worker *w, uint64_t seq, uint32_t line, size_t *n)
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

/* Writes one request into ch and gives it a slot: false when ch has no
 * room for it (or its body could not be made). */
static bool put_request(struct worker *w, struct conn *c, struct chunk *ch, struct http_req *req,
			const struct hretry *r)
{
	struct hworker *hw = w->pstate;
	struct hconn *h = c->pstate;
	size_t blen;
	const uint8_t *body = request_body(w, r->seq, r->line, &blen);

	if (w->o->http_body && !body && blen)
		return false;
	const struct blast_target *t = &w->addrs[r->target];
	req->path = t->path;
	req->host = hw->host[r->target];
	req->seq = r->seq;
	req->body_len = blen;
	ssize_t k = request_head(hw, r->target, ch->data + ch->len, ch->cap - ch->len, req);
	if (k < 0 || ch->cap - ch->len - (size_t)k < blen)
		return false;
	if (blen)
		memcpy(ch->data + ch->len + k, body, blen);
	ch->len += (uint32_t)((size_t)k + blen);
	ch->n_frames++;
	uint16_t slot = c->free_slots[--c->n_free];
	struct msg_slot *s = &c->slots[slot];
	s->state = 1;
	s->id = (uint16_t)(slot + 1);
	s->intended_ns = r->intended_ns;
	s->sent_ns = w->now;
	h->seq[slot] = r->seq;
	h->line[slot] = r->line;
	h->tries[slot] = r->tries;
	h->target[slot] = r->target;
	uint32_t q = h->head + h->n++; /* a ring: no division per request */
	h->queue[q < w->slot_cap ? q : q - w->slot_cap] = slot;
	c->inflight++;
	return true;
}

/* Requests to resend first (already counted sent and in flight), then up
 * to n new ones. */
static uint32_t http_fill(struct worker *w, struct conn *c, struct chunk *ch, uint64_t first,
			  uint32_t n)
{
	const struct blast_opts *o = w->o;
	struct hworker *hw = w->pstate;
	struct hconn *h = c->pstate;
	uint32_t done = 0;

	struct http_req req = {
		.method = o->http_method,
		.headers = (const char *const *)o->ws_headers,
		.n_headers = o->n_ws_headers,
		.content_type = o->http_body ? hw->content_type : NULL,
		.send_length = o->http_body,
		.close = o->no_keepalive,
		.conn = c->idx,
	};
	while (h->retry_n && !h->last && c->n_free && c->inflight < c->window) {
		if (!put_request(w, c, ch, &req, &h->retry[h->retry_head]))
			return 0;
		h->retry_head = (h->retry_head + 1) % w->slot_cap;
		h->retry_n--;
		w->t.http_retried++;
		if (o->no_keepalive)
			h->last = true;
	}
	if (h->retry_n)
		return 0;
	for (; done < n && !h->last; done++) {
		uint64_t idx = first + done;
		if (!c->n_free || c->inflight >= c->window)
			break;
		struct hretry r = {
			.intended_ns = worker_msg_start(w, idx),
			.seq = idx * w->n_workers + w->id,
			.line = o->payloads.n ? (uint32_t)(w->payload_next % o->payloads.n) : 0,
			.target = h->turn,
		};
		if (!put_request(w, c, ch, &req, &r))
			break;
		h->turn = hw->next_same[h->turn];
		if (o->payloads.n)
			w->payload_next++;
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
	.has_control = http_has_control,
	.conn_settle = http_conn_settle,
	.chunk_size = http_chunk_size,
	.pump = http_pump,
	.next_wakeup = http_next_wakeup,
	.teardown = http_teardown,
};
