/* WebSocket as a transport layer (RFC 6455): the HTTP upgrade once the
 * layers below are up, then every send wrapped in one masked binary frame
 * and every received frame unwrapped before the layer above sees its
 * bytes. ws_message_transport is the same layer for a protocol that frames
 * its own messages (--proto ws): sends pass unwrapped, and whole messages
 * (fragments put together) go up. Every byte from the server goes through
 * the fuzzed decoders of encoders/ws.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/ws.h"
#include "stats/hist.h"
#include "transport/transport.h"

#define UPGRADE_MAX 16384  /* a longer response header block is refused */
#define FRAME_MAX (64u << 20)
#define CONTROL_MAX 512    /* owed pongs and close replies */
#define HEADROOM 14        /* the longest client frame header */

struct wst {
	char accept[WS_ACCEPT_LEN + 1]; /* the Sec-WebSocket-Accept we expect */
	struct ws_msg_assembler as;     /* --proto ws: whole messages from fragments */
	uint8_t *as_buf;
	uint8_t *buf;           /* upgrade response, then a frame that straddles receives */
	uint32_t len, cap;
	uint8_t control[CONTROL_MAX];
	uint32_t control_len;
	uint32_t mask_state;    /* xorshift for mask keys */
	bool close_sent;        /* our close frame is out: a close now is its answer */
	uint64_t t0;            /* when its upgrade request was made */
};

static uint32_t next_rand(struct wst *t)
{
	uint32_t x = t->mask_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return t->mask_state = x;
}

static int wst_open(struct tlink *l, unsigned i, bool messages)
{
	struct wst *t = l->state[i];

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		l->state[i] = t;
	}
	t->len = 0;
	t->control_len = 0;
	t->close_sent = false;
	if (messages && !t->as_buf) {
		t->as_buf = malloc(FRAME_MAX);
		if (!t->as_buf)
			return -ENOMEM;
	}
	if (t->as_buf)
		ws_asm_init(&t->as, t->as_buf, FRAME_MAX, false);
	t->mask_state = ((uint32_t)(l->id * 2654435761u) ^ (uint32_t)*l->s->env->now) | 1;
	return 0;
}

static int open_stream(struct tlink *l, unsigned i)
{
	return wst_open(l, i, false);
}

static int open_messages(struct tlink *l, unsigned i)
{
	return wst_open(l, i, true);
}

static void wst_close(struct tlink *l, unsigned i)
{
	struct wst *t = l->state[i];

	if (!t)
		return;
	free(t->buf);
	free(t->as_buf);
	free(t);
	l->state[i] = NULL;
}

/* The upgrade request for the connection's target. */
static ssize_t wst_hello(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct wst *t = l->state[i];
	const struct blast_opts *o = l->s->env->o;
	const struct blast_target *tg = l->target;
	uint8_t nonce[16];
	char key[WS_KEY_LEN + 1], host[300];

	for (int i = 0; i < 16; i += 4) {
		uint32_t r = next_rand(t);
		memcpy(nonce + i, &r, 4);
	}
	ws_make_key(nonce, key);
	if (ws_accept_for_key(key, t->accept) < 0)
		return -EINVAL;
	t->t0 = *l->s->env->now;
	snprintf(host, sizeof(host), "%s:%u", tg->host, tg->port);
	return ws_encode_upgrade(out, cap, host, tg->path, key, o->ws_subprotocol,
				 (const char *const *)o->ws_headers, o->n_ws_headers);
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

/* The counter for ws_upgrade_problem's reason. */
static enum blast_err upgrade_error(const char *problem)
{
	static const struct {
		const char *problem;
		enum blast_err err;
	} map[] = {
		{ "upgrade", ERR_UPGRADE_NO_UPGRADE },     { "connection", ERR_UPGRADE_NO_CONNECTION },
		{ "accept", ERR_UPGRADE_WRONG_ACCEPT },    { "extensions", ERR_UPGRADE_EXTENSIONS },
		{ "subprotocol", ERR_UPGRADE_SUBPROTOCOL },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(problem, map[i].problem))
			return map[i].err;
	return ERR_PROTOCOL;
}

/* The upgrade response: the bytes after its header block are frames. */
static ssize_t wst_hello_feed(struct tlink *l, unsigned i, const uint8_t *buf, size_t len)
{
	struct wst *t = l->state[i];
	struct blast_totals *tot = l->s->env->t;
	size_t before = t->len;
	struct ws_upgrade_resp resp;

	if (buf_append(t, buf, len, WS_UPGRADE_MAX + len) < 0) {
		tot->errors[ERR_RECV]++;
		return -ENOMEM;
	}
	ssize_t used = ws_parse_upgrade_response(t->buf, t->len, t->accept, &resp);
	if (used == 0)
		return 0;
	if (used < 0) {
		tot->errors[ERR_PROTOCOL]++;
		return used;
	}
	if (resp.status != 101) {
		tot->http_status[resp.status]++;
		return -ECONNREFUSED;
	}
	const char *problem = ws_upgrade_problem(&resp, l->s->env->o->ws_subprotocol);
	if (problem) {
		tot->errors[upgrade_error(problem)]++;
		return -EPROTO;
	}
	t->len = 0;
	if (l->s->env->stage && l->s->env->stage[HS_WS_UPGRADE])
		hist_record(l->s->env->stage[HS_WS_UPGRADE], (int64_t)(*l->s->env->now - t->t0));
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

/* One masked binary frame around data[*off, len). The mask key need not
 * be unpredictable here (no browser, no cache to poison): cheap is fine. */
static int wst_wrap(struct tlink *l, unsigned i, uint8_t *data, uint32_t *off, uint32_t *len,
		    uint32_t room)
{
	(void)l, (void)i, (void)room;
	uint8_t key[4];
	uint32_t r = (uint32_t)(*len * 2654435761u) ^ (uint32_t)(uintptr_t)data;
	memcpy(key, &r, 4);
	size_t n = *len - *off;
	uint8_t *start = frame_header_before(data + *off, 0x2, n, key);
	ws_mask(data + *off, n, key, 0);
	*off = (uint32_t)(start - data);
	return 0;
}

/* A pong, or the reply to a close (echoing its code, as is usual), to
 * send before anything else. */
static void queue_control(struct wst *t, uint8_t opcode, const uint8_t *p, size_t n, uint16_t code)
{
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

static size_t wst_take_control(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct wst *t = l->state[i];

	if (!t || !t->control_len || t->control_len > cap)
		return 0;
	memcpy(out, t->control, t->control_len);
	size_t n = t->control_len;
	t->control_len = 0;
	return n;
}

/* A message (or, under MQTT, a piece of its byte stream) from a frame. */
static int handle_frame(struct tlink *l, unsigned i, const struct ws_frame *f)
{
	struct wst *t = l->state[i];
	const struct transport_env *env = l->s->env;

	switch (f->opcode) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (t->as_buf) {
			/* --proto ws: whole messages, fragments put together. */
			struct ws_msg m;
			int r = ws_asm_feed(&t->as, f, &m);
			if (r < 0) {
				env->fail(env->ctx, l, r == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
				return -1;
			}
			return r > 0 ? tlink_up(l, i + 1, m.data, m.len) : 0;
		}
		/* A byte stream (MQTT): fragments are just its next bytes. */
		return f->payload_len ? tlink_up(l, i + 1, f->payload, f->payload_len) : 0;
	case WS_OP_PING:
		queue_control(t, WS_OP_PONG, f->payload, f->payload_len, 0);
		return 0;
	case WS_OP_PONG:
		return 0;
	case WS_OP_CLOSE: {
		/* The answer to our close (RFC 6455 5.5.1): the closing
		 * handshake is done; the server closes the TCP connection,
		 * which the clean close waits for. */
		if (t->close_sent)
			return 0;
		/* Count its code; the reply close goes out if a send can
		 * still be made, and the connection is over either way. */
		uint16_t code = 1005;
		const char *reason;
		size_t rlen;
		if (ws_parse_close(f->payload, f->payload_len, &code, &reason, &rlen) < 0) {
			env->fail(env->ctx, l, ERR_PROTOCOL);
			return -1;
		}
		env->t->ws_close[code >= 1000 && code < 1000 + WS_CLOSE_SLOTS - 1 ? code - 1000 :
									 WS_CLOSE_SLOTS - 1]++;
		queue_control(t, WS_OP_CLOSE, NULL, 0, code);
		env->fail(env->ctx, l, ERR__COUNT);
		return -1;
	}
	default:
		env->fail(env->ctx, l, ERR_PROTOCOL);
		return -1;
	}
}

/* Frames at buf: handles each whole one; returns the bytes used (a partial
 * frame at the end is left), or -1 when the connection was failed. origin
 * is where buf[0] sits in the read being parsed (negative for bytes an
 * earlier read left), or NO_ORIGIN: each frame is timed by its last byte. */
#define NO_ORIGIN INT64_MIN
static ssize_t frames(struct tlink *l, unsigned i, const uint8_t *buf, size_t len, int64_t origin)
{
	const struct transport_env *env = l->s->env;
	size_t used = 0;

	while (used < len) {
		struct ws_frame f;
		const uint8_t *b = buf + used;
		ssize_t n;
		/* The frame nearly every message comes in, read here: whole,
		 * final, text or binary, unmasked, under 126 bytes; what
		 * ws_decode_frame makes of the same bytes. */
		if (len - used >= 2 && (b[0] == (0x80 | WS_OP_TEXT) || b[0] == (0x80 | WS_OP_BINARY)) &&
		    b[1] < 126 && len - used - 2 >= b[1]) {
			n = 2 + b[1];
			f = (struct ws_frame){ .opcode = b[0] & 0x0f, .fin = true, .payload = b + 2,
					       .payload_len = b[1], .header_len = 2,
					       .frame_len = (size_t)n };
		} else {
			n = ws_decode_frame(b, len - used, FRAME_MAX, &f);
		}
		if (n < 0) {
			env->fail(env->ctx, l, n == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return -1;
		}
		if (n == 0)
			break;
		if (origin != NO_ORIGIN)
			env->rx_mark_at(env->ctx, origin + (int64_t)used + n);
		if (handle_frame(l, i, &f) < 0)
			return -1;
		used += (size_t)n;
	}
	return (ssize_t)used;
}

static int wst_unwrap(struct tlink *l, unsigned i, const uint8_t *buf, size_t len)
{
	struct wst *t = l->state[i];
	const struct transport_env *env = l->s->env;
	int64_t at = env->rx_offset(env->ctx, buf);
	int64_t origin = at < 0 || !t->len ? NO_ORIGIN : at - (int64_t)t->len;

	/* A frame straddled receives: gather only what it still needs (its
	 * header a byte at a time), so the frames after it are parsed where
	 * they lie. */
	while (t->len && len) {
		uint64_t need = ws_frame_size(t->buf, t->len);
		size_t take = !need ? 1 : need - t->len < len ? (size_t)(need - t->len) : len;
		if (buf_append(t, buf, take, 2 * FRAME_MAX) < 0) {
			env->fail(env->ctx, l, ERR_FRAME_TOO_LARGE);
			return -1;
		}
		buf += take;
		len -= take;
		ssize_t used = frames(l, i, t->buf, t->len, origin);
		if (used < 0)
			return -1;
		if (used > 0)
			t->len = 0; /* exactly the one frame */
	}
	if (!len)
		return 0;
	at = env->rx_offset(env->ctx, buf);
	ssize_t used = frames(l, i, buf, len, at < 0 ? NO_ORIGIN : at);
	if (used < 0)
		return -1;
	if ((size_t)used < len && buf_append(t, buf + used, len - (size_t)used, 2 * FRAME_MAX) < 0) {
		env->fail(env->ctx, l, ERR_FRAME_TOO_LARGE);
		return -1;
	}
	return 0;
}

/* A clean close: a close frame, normal closure (RFC 6455 5.5.1, 7.4.1),
 * after the protocol's goodbye (MQTT's DISCONNECT; --proto ws has none)
 * and before the layers below end theirs (TLS's close_notify). */
static size_t wst_bye(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct wst *t = l->state[i];
	uint8_t key[4];
	uint32_t r;

	if (!t || t->close_sent)
		return 0;
	r = next_rand(t);
	memcpy(key, &r, 4);
	ssize_t n = ws_encode_close(out, cap, key, WS_CLOSE_NORMAL, NULL, 0);
	if (n <= 0)
		return 0;
	t->close_sent = true;
	return (size_t)n;
}

const struct transport_ops ws_transport = {
	.name = "websocket",
	.headroom = HEADROOM,
	.open = open_stream,
	.close = wst_close,
	.hello = wst_hello,
	.hello_feed = wst_hello_feed,
	.wrap = wst_wrap,
	.unwrap = wst_unwrap,
	.take_control = wst_take_control,
	.closed_in_hello = ERR_UPGRADE_CLOSED,
	.bye = wst_bye,
};

const struct transport_ops ws_message_transport = {
	.name = "websocket-messages",
	.open = open_messages,
	.close = wst_close,
	.hello = wst_hello,
	.hello_feed = wst_hello_feed,
	.unwrap = wst_unwrap,
	.take_control = wst_take_control,
	.closed_in_hello = ERR_UPGRADE_CLOSED,
	.bye = wst_bye,
};
