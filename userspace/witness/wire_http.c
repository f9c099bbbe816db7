/* The capture witness's HTTP/1.1 side: requests found in the client's
 * stream, responses decoded incrementally from the server's (the
 * client's own decoder, encoders/http.h), and the k-th response on a
 * connection matched with its k-th request: HTTP/1.1 answers in order,
 * pipelined or not (RFC 9112 9.3.2). See wire_match.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "encoders/http.h"
#include "witness/wire_http.h"
#include "witness/wire_pend.h"

enum { HF_HEAD = 1 };	/* pend.flags: a HEAD request, whose answer has no body */

/* Does [p, e) start with name (lower case, colon included)? */
static bool field_is(const uint8_t *p, const uint8_t *e, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(e - p) >= n && !strncasecmp((const char *)p, name, n);
}

/* A request head at p[0..n): its length through the empty line, 0 when
 * it is not whole yet, -1 when it is not a request we can frame (a
 * chunked request body, a bad Content-Length, no request line). */
static long request_head(const uint8_t *p, size_t n, uint64_t *body, bool *head)
{
	const uint8_t *e = p + n, *l = p, *nl;
	bool first = true;

	*body = 0;
	while ((nl = memchr(l, '\n', (size_t)(e - l)))) {
		const uint8_t *le = nl > l && nl[-1] == '\r' ? nl - 1 : nl;

		if (first) {
			const uint8_t *sp = memchr(l, ' ', (size_t)(le - l));
			if (!sp || sp == l || le - l < 14 || memcmp(le - 8, "HTTP/1.", 7))
				return -1;
			*head = sp - l == 4 && !memcmp(l, "HEAD", 4);
			first = false;
		} else if (le == l) {
			return nl + 1 - p;
		} else if (field_is(l, le, "content-length:")) {
			const uint8_t *v = l + 15;
			uint64_t x = 0;
			bool digit = false;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			for (; v < le && *v >= '0' && *v <= '9'; v++, digit = true) {
				if (x > WM_MAX_FRAME)
					return -1;
				x = x * 10 + (uint64_t)(*v - '0');
			}
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			if (!digit || v != le || x > WM_MAX_FRAME)
				return -1;
			*body = x;
		} else if (field_is(l, le, "transfer-encoding:")) {
			return -1;
		}
		l = nl + 1;
	}
	return n > HTTP_MAX ? -1 : 0;
}

static size_t requests(struct wm *m, uint32_t fid, struct flow *f, const uint8_t *p, size_t n,
		       size_t carried, uint64_t cts, uint64_t nts)
{
	size_t off = 0;

	while (off < n) {
		uint64_t body;
		bool head = false, fresh;
		long h = request_head(p + off, n - off, &body, &head);
		if (h < 0)
			return PARSE_ERR;
		if (h == 0 || body > n - off - (size_t)h)
			break; /* the rest of it comes later */
		struct pend *e = wm_pend_put(m, flow_key(K_HTTP, fid, 0), f->http_req++, &fresh);
		if (e) {
			e->ts = off < carried ? cts : nts;
			e->flags = head ? HF_HEAD : 0;
		}
		m->c.req_frames++;
		wm_requests(m, fid, 1);
		off += (size_t)h + (size_t)body;
	}
	return off;
}

/* A whole response: the oldest request still unanswered is its own. */
static void response(struct wm *m, uint32_t fid, struct flow *f, uint16_t status, uint64_t ts)
{
	struct pend *e = wm_pend_get(m, flow_key(K_HTTP, fid, 0), f->http_resp++);

	m->c.ack_frames++;
	if (!e) {
		m->s.unmatched++;
		return;
	}
	/* As blast counts it by default (--ok-status 2xx,3xx); any other
	 * status is blast's failed. */
	if (status >= 200 && status < 400)
		wm_acked(m, fid, e->ts, ts, 1);
	wm_pend_del(m, e);
}

static size_t responses(struct wm *m, uint32_t fid, struct flow *f, const uint8_t *p, size_t n,
			size_t carried, uint64_t cts, uint64_t nts)
{
	size_t off = 0;

	if (!f->hdec) {
		f->hdec = malloc(sizeof(*f->hdec));
		if (!f->hdec) {
			m->oom = true;
			return n;
		}
		http_dec_init(f->hdec, HTTP_MAX, WM_MAX_FRAME);
	}
	while (off < n) {
		unsigned ev = 0;
		if (http_dec_idle(f->hdec)) {
			struct pend *e = wm_pend_get(m, flow_key(K_HTTP, fid, 0), f->http_resp);
			f->hdec->head_req = e && (e->flags & HF_HEAD);
		}
		ssize_t r = http_dec_feed(f->hdec, p + off, n - off, &ev);
		if (r < 0) {
			/* Spent: the next bytes start afresh, whatever they are. */
			http_dec_init(f->hdec, HTTP_MAX, WM_MAX_FRAME);
			return PARSE_ERR;
		}
		off += (size_t)r;
		if (ev & HTTP_EV_DONE)
			response(m, fid, f, f->hdec->status, off <= carried ? cts : nts);
	}
	return off;
}

size_t wm_parse_http(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		     size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	if (side == f->client)
		return requests(m, fid, f, p, n, carried, cts, nts);
	return responses(m, fid, f, p, n, carried, cts, nts);
}

void wm_http_eof(struct wm *m, uint32_t fid, struct flow *f, uint64_t ts)
{
	if (!f->hdec || f->http_eof)
		return;
	f->http_eof = true;
	/* A response cut short stays pending: blast fails its request. */
	if (http_dec_eof(f->hdec) == HTTP_EV_DONE)
		response(m, fid, f, f->hdec->status, ts);
}

void wm_http_free(struct flow *f)
{
	free(f->hdec);
	f->hdec = NULL;
}

/* A request line's method: a run of upper-case letters, then a space. */
static size_t method_len(const uint8_t *p, size_t n)
{
	size_t k = 0;

	while (k < n && k < 16 && p[k] >= 'A' && p[k] <= 'Z')
		k++;
	return k < n && k >= 3 && p[k] == ' ' ? k : 0;
}

int wm_sniff_http(const uint8_t *p, size_t n)
{
	size_t k = method_len(p, n);

	if (!k)
		return n < 8 && n > 0 && p[0] >= 'A' && p[0] <= 'Z' ? WM_AUTO : -1;
	if (k != 3 || memcmp(p, "GET", 3))
		return WM_HTTP; /* only a GET asks for a WebSocket */
	/* A GET: an upgrade to WebSocket, or a plain request. */
	const uint8_t *end = memmem(p, n, "\r\n\r\n", 4);
	if (!end)
		return n > HTTP_MAX ? -1 : WM_AUTO;
	for (const uint8_t *l = p; l < end;) {
		const uint8_t *nl = memchr(l, '\n', (size_t)(end - l));
		const uint8_t *le = nl ? nl : end;
		/* Upgrade: websocket, or any Sec-WebSocket-* field (RFC 6455 4.1) */
		if (field_is(l, le, "sec-websocket-"))
			return WM_WS;
		if (field_is(l, le, "upgrade:")) {
			const uint8_t *v = l + 8;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			if (field_is(v, le, "websocket"))
				return WM_WS;
		}
		l = le + 1;
	}
	return WM_HTTP;
}
