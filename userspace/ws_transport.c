/* WebSocket transport (RFC 6455) under a protocol: upgrade, then one masked
 * binary frame per send, and received frames unwrapped. */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_transport.h"
#include "worker.h"

#define UPGRADE_MAX 16384  /* a longer response header block is refused */
#define FRAME_MAX (64u << 20)
#define CONTROL_MAX 512    /* owed pongs and close replies */

struct wst {
	char accept[29];        /* the Sec-WebSocket-Accept we expect */
	uint8_t *buf;           /* upgrade response, then a frame that straddles receives */
	uint32_t len, cap;
	uint8_t control[CONTROL_MAX];
	uint32_t control_len;
	uint32_t mask_state;    /* xorshift for mask keys */
};

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
}

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
	t->mask_state = ((uint32_t)(c->idx * 2654435761u) ^ (uint32_t)w->now) | 1;
	return 0;
}

void wst_conn_free(struct conn *c)
{
	struct wst *t = c->tstate;

	if (!t)
		return;
	free(t->buf);
	free(t);
	c->tstate = NULL;
}

ssize_t wst_upgrade_request(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct wst *t = c->tstate;
	const struct blast_target *tg = &w->addrs[c->target];
	uint8_t nonce[16], digest[SHA_DIGEST_LENGTH];
	char key[25], both[64];

	for (int i = 0; i < 16; i += 4) {
		uint32_t r = next_rand(t);
		memcpy(nonce + i, &r, 4);
	}
	base64(nonce, 16, key);
	/* RFC 6455 4.2.2: accept = base64(SHA-1(key + GUID)). */
	snprintf(both, sizeof(both), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((const unsigned char *)both, strlen(both), digest);
	base64(digest, sizeof(digest), t->accept);

	int n = snprintf((char *)out, cap,
			 "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
			 "Sec-WebSocket-Version: 13\r\n",
			 tg->path, tg->host, tg->port, key);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	size_t len = (size_t)n;
	if (w->o->ws_subprotocol) {
		n = snprintf((char *)out + len, cap - len, "Sec-WebSocket-Protocol: %s\r\n",
			     w->o->ws_subprotocol);
		if (n < 0 || (size_t)n >= cap - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	for (uint32_t i = 0; i < w->o->n_ws_headers; i++) {
		n = snprintf((char *)out + len, cap - len, "%s\r\n", w->o->ws_headers[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	if (cap - len < 3)
		return -ENOSPC;
	memcpy(out + len, "\r\n", 2);
	return (ssize_t)(len + 2);
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

/* Value of header name in the block [h, end) (case-insensitive name). */
static const char *header_value(const char *h, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *line = h; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		line = eol + 1;
	}
	return NULL;
}

ssize_t wst_upgrade_feed(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	struct wst *t = c->tstate;
	size_t before = t->len;

	if (buf_append(t, buf, len, UPGRADE_MAX + len) < 0) {
		w->t.errors[ERR_RECV]++;
		return -ENOMEM;
	}
	const uint8_t *end = memmem(t->buf, t->len, "\r\n\r\n", 4);
	if (!end) {
		if (t->len > UPGRADE_MAX) {
			w->t.errors[ERR_PROTOCOL]++;
			return -EMSGSIZE;
		}
		return 0;
	}
	size_t hdr_len = (size_t)(end - t->buf) + 4;
	const char *h = (const char *)t->buf, *he = h + hdr_len;
	int status = 0;
	if (sscanf(h, "HTTP/1.1 %3d", &status) != 1 || status < 100 || status > 599) {
		w->t.errors[ERR_PROTOCOL]++;
		return -EPROTO;
	}
	if (status != 101) {
		w->t.http_status[status]++;
		return -ECONNREFUSED;
	}
	size_t vl;
	const char *acc = header_value(h, he, "Sec-WebSocket-Accept", &vl);
	const char *up = header_value(h, he, "Upgrade", &vl);
	if (!acc || strncmp(acc, t->accept, 28) || !up) {
		w->t.errors[ERR_PROTOCOL]++;
		return -EPROTO;
	}
	t->len = 0;
	/* What came after the header block belongs to frames. */
	return (ssize_t)(hdr_len - before);
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

/* XOR with the repeated key, 8 bytes at a time (RFC 6455 5.3). */
static void mask(uint8_t *p, size_t n, const uint8_t key[4])
{
	uint64_t k8;
	uint8_t kk[8];

	memcpy(kk, key, 4);
	memcpy(kk + 4, key, 4);
	memcpy(&k8, kk, 8);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		v ^= k8;
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] ^= key[i & 3];
}

void wst_wrap(struct worker *w, struct chunk *ch)
{
	(void)w;
	uint8_t key[4];
	uint32_t r = (uint32_t)(ch->len * 2654435761u) ^ (uint32_t)(uintptr_t)ch;
	memcpy(key, &r, 4);
	size_t n = ch->len - WST_HEADROOM;
	uint8_t *start = frame_header_before(ch->data + WST_HEADROOM, 0x2, n, key);
	mask(ch->data + WST_HEADROOM, n, key);
	ch->off = (uint32_t)(start - ch->data);
}

static void queue_control(struct conn *c, uint8_t opcode, const uint8_t *p, size_t n)
{
	struct wst *t = c->tstate;
	uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t h = 2 + 4;

	if (n > 125 || t->control_len + h + n > CONTROL_MAX)
		return;
	uint8_t *dst = t->control + t->control_len + h;
	memcpy(dst, p, n);
	frame_header_before(dst, opcode, n, key);
	mask(dst, n, key);
	t->control_len += (uint32_t)(h + n);
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

/* One whole frame at buf: > 0 its length (header + payload), 0 more bytes
 * needed, < 0 malformed. */
static ssize_t frame_total(const uint8_t *buf, size_t len, size_t *hdr, uint64_t *plen)
{
	if (len < 2)
		return 0;
	if (buf[0] & 0x70)
		return -EPROTO; /* reserved bits: no extension was negotiated */
	if (buf[1] & 0x80)
		return -EPROTO; /* a server never masks (5.1) */
	uint64_t n = buf[1] & 0x7f;
	size_t h = 2;
	if (n == 126) {
		if (len < 4)
			return 0;
		n = (uint64_t)buf[2] << 8 | buf[3];
		h = 4;
	} else if (n == 127) {
		if (len < 10)
			return 0;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | buf[2 + i];
		h = 10;
	}
	if (n > FRAME_MAX)
		return -EMSGSIZE;
	*hdr = h;
	*plen = n;
	return len < h + n ? 0 : (ssize_t)(h + n);
}

static int handle_frame(struct worker *w, struct conn *c, const uint8_t *f, size_t hdr, size_t n,
			int (*deliver)(struct worker *, struct conn *, const uint8_t *, size_t))
{
	uint8_t opcode = f[0] & 0x0f;
	const uint8_t *p = f + hdr;

	switch (opcode) {
	case 0x0: /* continuation */
	case 0x1: /* text */
	case 0x2: /* binary: the protocol's bytes, fragments in order */
		return n ? deliver(w, c, p, n) : 0;
	case 0x9: /* ping: answer with the same payload */
		queue_control(c, 0xA, p, n);
		return 0;
	case 0xA: /* pong */
		return 0;
	case 0x8: { /* close: count its code, answer, and let the connection go */
		unsigned code = n >= 2 ? (unsigned)p[0] << 8 | p[1] : 1005;
		w->t.ws_close[code >= 1000 && code < 1000 + WS_CLOSE_SLOTS - 1 ? code - 1000 :
								   WS_CLOSE_SLOTS - 1]++;
		conn_fail(w, c, ERR__COUNT);
		return -1;
	}
	default:
		w->t.errors[ERR_PROTOCOL]++;
		conn_fail(w, c, ERR__COUNT);
		return -1;
	}
}

int wst_unwrap(struct worker *w, struct conn *c, const uint8_t *buf, size_t len,
	       int (*deliver)(struct worker *w, struct conn *c, const uint8_t *p, size_t n))
{
	struct wst *t = c->tstate;
	size_t hdr;
	uint64_t n;

	/* A frame that straddled receives: complete it first. */
	while (t->len && len) {
		ssize_t total = frame_total(t->buf, t->len, &hdr, &n);
		if (total < 0) {
			conn_fail(w, c, total == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return -1;
		}
		size_t want = total ? (size_t)total - t->len : 1;
		size_t take = want < len ? want : len;
		if (buf_append(t, buf, take, FRAME_MAX + 16) < 0) {
			conn_fail(w, c, ERR_RECV);
			return -1;
		}
		buf += take;
		len -= take;
		total = frame_total(t->buf, t->len, &hdr, &n);
		if (total > 0 && (size_t)total == t->len) {
			t->len = 0;
			if (handle_frame(w, c, t->buf, hdr, (size_t)n, deliver) < 0)
				return -1;
		}
	}
	while (len) {
		ssize_t total = frame_total(buf, len, &hdr, &n);
		if (total < 0) {
			conn_fail(w, c, total == -EMSGSIZE ? ERR_FRAME_TOO_LARGE : ERR_PROTOCOL);
			return -1;
		}
		if (total == 0) {
			if (buf_append(t, buf, len, FRAME_MAX + 16) < 0) {
				conn_fail(w, c, ERR_RECV);
				return -1;
			}
			return 0;
		}
		if (handle_frame(w, c, buf, hdr, (size_t)n, deliver) < 0)
			return -1;
		buf += total;
		len -= (size_t)total;
	}
	return 0;
}
