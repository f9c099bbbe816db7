/* WebSocket transport (RFC 6455) under a protocol: upgrade, then one masked
 * binary frame per send, and received frames unwrapped. Every byte from the
 * server goes through the fuzzed decoders of encoders/ws.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/worker.h"
#include "encoders/ws.h"
#include "transport/websocket.h"

#define UPGRADE_MAX 16384  /* a longer response header block is refused */
#define FRAME_MAX (64u << 20)
#define CONTROL_MAX 512    /* owed pongs and close replies */

struct wst {
	char accept[WS_ACCEPT_LEN + 1]; /* the Sec-WebSocket-Accept we expect */
	struct ws_msg_assembler as;     /* --proto ws: whole messages from fragments */
	uint8_t *as_buf;
	uint8_t *buf;           /* upgrade response, then a frame that straddles receives */
	uint32_t len, cap;
	uint8_t control[CONTROL_MAX];
	uint32_t control_len;
	uint32_t mask_state;    /* xorshift for mask keys */
};

static uint32_t next_rand(struct wst *t)
{
	uint32_t x = t->mask_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return t->mask_state = x;
}

int wst_conn_init(struct worker *w, struct conn *c)
{
	struct wst *t = c->tstate;

	(void)w;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->tstate = t;
	}
	t->len = 0;
	t->control_len = 0;
	if (w->o->proto == PROTO_WS && !t->as_buf) {
		t->as_buf = malloc(FRAME_MAX);
		if (!t->as_buf)
			return -ENOMEM;
	}
	if (t->as_buf)
		ws_asm_init(&t->as, t->as_buf, FRAME_MAX, false);
	t->mask_state = ((uint32_t)(c->idx * 2654435761u) ^ (uint32_t)w->now) | 1;
	return 0;
}

void wst_conn_free(struct conn *c)
{
	struct wst *t = c->tstate;

	if (!t)
		return;
	free(t->buf);
	free(t->as_buf);
	free(t);
	c->tstate = NULL;
}

ssize_t wst_upgrade_request(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct wst *t = c->tstate;
	const struct blast_target *tg = &w->addrs[c->target];
	uint8_t nonce[16];
	char key[WS_KEY_LEN + 1], host[300];

	for (int i = 0; i < 16; i += 4) {
		uint32_t r = next_rand(t);
		memcpy(nonce + i, &r, 4);
	}
	ws_make_key(nonce, key);
	if (ws_accept_for_key(key, t->accept) < 0)
		return -EINVAL;
	snprintf(host, sizeof(host), "%s:%u", tg->host, tg->port);
	return ws_encode_upgrade(out, cap, host, tg->path, key, w->o->ws_subprotocol,
				 (const char *const *)w->o->ws_headers, w->o->n_ws_headers);
}

static int buf_append(struct wst *t, const uint8_t *p, size_t n, size_t limit)
{
	if (t->len + n > limit)
		return -EMSGSIZE;
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		while (cap < t->len + n)
			cap *= 2;
		uint8_t *nb = realloc(t->buf, cap);
		if (!nb)
			return -ENOMEM;
		t->buf = nb;
		t->cap = (uint32_t)cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += (uint32_t)n;
	return 0;
}

ssize_t wst_upgrade_feed(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	struct wst *t = c->tstate;
	size_t before = t->len;
	struct ws_upgrade_resp resp;

	if (buf_append(t, buf, len, WS_UPGRADE_MAX + len) < 0) {
		w->t.errors[ERR_RECV]++;
		return -ENOMEM;
	}
	ssize_t used = ws_parse_upgrade_response(t->buf, t->len, t->accept, &resp);
	if (used == 0)
		return 0;
	if (used < 0) {
		w->t.errors[ERR_PROTOCOL]++;
		return used;
	}
	if (resp.status != 101) {
		w->t.http_status[resp.status]++;
		return -ECONNREFUSED;
	}
	if (ws_upgrade_problem(&resp, w->o->ws_subprotocol)) {
		w->t.errors[ERR_PROTOCOL]++;
		return -EPROTO;
	}
	t->len = 0;
	/* What came after the header block belongs to frames. */
	return used - (ssize_t)before;
}

/* Writes a frame header for a payload of n bytes (masked with key when
 * key is not NULL) ending right before dst_end; returns its start. */
static uint8_t *frame_header_before(uint8_t *dst_end, uint8_t opcode, size_t n, const uint8_t *key)
{
	size_t h = 2 + (n > 65535 ? 8 : n > 125 ? 2 : 0) + (key ? 4 : 0);
	uint8_t *p = dst_end - h, *q = p;

	*q++ = 0x80 | opcode;
	uint8_t m = key ? 0x80 : 0;
	if (n > 65535) {
		*q++ = m | 127;
		for (int i = 7; i >= 0; i--)
			*q++ = (uint8_t)(n >> (8 * i));
	} else if (n > 125) {
		*q++ = m | 126;
		*q++ = (uint8_t)(n >> 8);
		*q++ = (uint8_t)n;
	} else {
		*q++ = m | (uint8_t)n;
	}
	if (key)
		memcpy(q, key, 4);
	return p;
}

void wst_wrap(struct worker *w, struct chunk *ch)
{
	(void)w;
	uint8_t key[4];
	uint32_t r = (uint32_t)(ch->len * 2654435761u) ^ (uint32_t)(uintptr_t)ch;
	memcpy(key, &r, 4);
	size_t n = ch->len - WST_HEADROOM;
	uint8_t *start = frame_header_before(ch->data + WST_HEADROOM, 0x2, n, key);
	ws_mask(ch->data + WST_HEADROOM, n, key, 0);
	ch->off = (uint32_t)(start - ch->data);
}

/* A pong, or the reply to a close (echoing its code, as is usual), to
 * send before anything else. */
static void queue_control(struct conn *c, uint8_t opcode, const uint8_t *p, size_t n, uint16_t code)
{
	struct wst *t = c->tstate;
	uint8_t key[4];
	uint32_t r = next_rand(t);
	ssize_t len;

	memcpy(key, &r, 4);
	if (opcode == WS_OP_PONG)
		len = ws_encode_pong(t->control + t->control_len, CONTROL_MAX - t->control_len, key, p, n);
	else
		len = ws_encode_close(t->control + t->control_len, CONTROL_MAX - t->control_len, key,
				      ws_close_code_valid(code) ? code : WS_CLOSE_NORMAL, NULL, 0);
	if (len > 0)
		t->control_len += (uint32_t)len;
}

size_t wst_take_control(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct wst *t = c->tstate;

	(void)w;
	if (!t || !t->control_len || t->control_len > cap)
		return 0;
	memcpy(out, t->control, t->control_len);
	size_t n = t->control_len;
	t->control_len = 0;
	return n;
}

/* A message (or, under MQTT, a piece of its byte stream) from a frame. */
static int handle_frame(struct worker *w, struct conn *c, const struct ws_frame *f,
			int (*deliver)(struct worker *, struct conn *, const uint8_t *, size_t))
{
	struct wst *t = c->tstate;

	switch (f->opcode) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (t->as_buf) {
			/* --proto ws: whole messages, fragments put together. */
			struct ws_msg m;
			int r = ws_asm_feed(&t->as, f, &m);
			if (r < 0) {
				conn_fail(w, c, r == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
				return -1;
			}
			return r > 0 ? deliver(w, c, m.data, m.len) : 0;
		}
		/* A byte stream (MQTT): fragments are just its next bytes. */
		return f->payload_len ? deliver(w, c, f->payload, f->payload_len) : 0;
	case WS_OP_PING:
		queue_control(c, WS_OP_PONG, f->payload, f->payload_len, 0);
		return 0;
	case WS_OP_PONG:
		return 0;
	case WS_OP_CLOSE: {
		/* Count its code; the reply close goes out if a send can
		 * still be made, and the connection is over either way. */
		uint16_t code = 1005;
		const char *reason;
		size_t rlen;
		if (ws_parse_close(f->payload, f->payload_len, &code, &reason, &rlen) < 0) {
			conn_fail(w, c, ERR_PROTOCOL);
			return -1;
		}
		w->t.ws_close[code >= 1000 && code < 1000 + WS_CLOSE_SLOTS - 1 ? code - 1000 :
									 WS_CLOSE_SLOTS - 1]++;
		queue_control(c, WS_OP_CLOSE, NULL, 0, code);
		conn_fail(w, c, ERR__COUNT);
		return -1;
	}
	default:
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
}

/* Frames at buf: handles each whole one; returns the bytes used (a partial
 * frame at the end is left), or -1 when the connection was failed. origin
 * is where buf[0] sits in the read being parsed (negative for bytes an
 * earlier read left), or NO_ORIGIN: each frame is timed by its last byte. */
#define NO_ORIGIN INT64_MIN
static ssize_t frames(struct worker *w, struct conn *c, const uint8_t *buf, size_t len,
		      int64_t origin,
		      int (*deliver)(struct worker *, struct conn *, const uint8_t *, size_t))
{
	size_t used = 0;

	while (used < len) {
		struct ws_frame f;
		ssize_t n = ws_decode_frame(buf + used, len - used, FRAME_MAX, &f);
		if (n < 0) {
			conn_fail(w, c, n == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return -1;
		}
		if (n == 0)
			break;
		if (origin != NO_ORIGIN)
			worker_rx_mark_at(w, origin + (int64_t)used + n);
		if (handle_frame(w, c, &f, deliver) < 0)
			return -1;
		used += (size_t)n;
	}
	return (ssize_t)used;
}

int wst_unwrap(struct worker *w, struct conn *c, const uint8_t *buf, size_t len,
	       int (*deliver)(struct worker *w, struct conn *c, const uint8_t *p, size_t n))
{
	struct wst *t = c->tstate;
	int64_t at = worker_rx_offset(w, buf);
	int64_t origin = at < 0 || !t->len ? NO_ORIGIN : at - (int64_t)t->len;

	/* A frame straddled receives: gather only what it still needs (its
	 * header a byte at a time), so the frames after it are parsed where
	 * they lie. */
	while (t->len && len) {
		uint64_t need = ws_frame_size(t->buf, t->len);
		size_t take = !need ? 1 : need - t->len < len ? (size_t)(need - t->len) : len;
		if (buf_append(t, buf, take, 2 * FRAME_MAX) < 0) {
			conn_fail(w, c, ERR_FRAME_TOO_LARGE);
			return -1;
		}
		buf += take;
		len -= take;
		ssize_t used = frames(w, c, t->buf, t->len, origin, deliver);
		if (used < 0)
			return -1;
		if (used > 0)
			t->len = 0; /* exactly the one frame */
	}
	if (!len)
		return 0;
	at = worker_rx_offset(w, buf);
	ssize_t used = frames(w, c, buf, len, at < 0 ? NO_ORIGIN : at, deliver);
	if (used < 0)
		return -1;
	if ((size_t)used < len && buf_append(t, buf + used, len - (size_t)used, 2 * FRAME_MAX) < 0) {
		conn_fail(w, c, ERR_FRAME_TOO_LARGE);
		return -1;
	}
	return 0;
}
