/* The response decoder's remembered responses (encoders/http_memo.c):
 * http_dec_feed_resp with a memo must end every response exactly as
 * http_dec_feed does, on the RFC's example and nginx's bytes sent three
 * times back to back, fed whole, a byte at a time and split at every
 * place (each piece ending at a PROT_NONE page); the second and third
 * must come from the memo when fed whole; a response that differs by one
 * byte, or answers a HEAD where the memo's answered a GET, must not. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/http.h"
#include "guard.h"
#include "http_vectors.h"
#include "t.h"

/* Set on the memo's events by the test: a response taken from the memo
 * carries it out. */
#define FROM_MEMO 0x80u

/* What a stream's responses ended as, in order. */
struct ends {
	int err;
	unsigned n, from_memo, interim;
	uint64_t digest; /* of every DONE's figures and where it ended */
};

static void mix(struct ends *e, uint64_t v)
{
	e->digest = (e->digest ^ v) * 0x100000001b3ull;
}

static void ended(struct ends *e, const struct http_dec *d, uint64_t at)
{
	e->n++;
	mix(e, at);
	mix(e, d->status);
	mix(e, d->minor);
	mix(e, d->framing);
	mix(e, d->close);
	mix(e, d->length);
	mix(e, d->body);
	mix(e, d->wire);
	mix(e, d->interim);
	mix(e, http_dec_idle(d));
}

/* The stream through http_dec_feed, whole. */
static struct ends plain(const char *s, size_t len, bool head_req)
{
	struct http_dec d;
	struct ends e = { .digest = 0xcbf29ce484222325ull };
	const uint8_t *p = guard_copy(s, len);
	size_t i = 0;

	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
	d.head_req = head_req;
	while (i < len) {
		unsigned ev;
		ssize_t k = http_dec_feed(&d, p + i, len - i, &ev);
		if (k <= 0) {
			e.err = k ? (int)k : -EIO;
			break;
		}
		i += (size_t)k;
		if (ev & HTTP_EV_INTERIM)
			e.interim++;
		if (ev & HTTP_EV_DONE)
			ended(&e, &d, i);
	}
	return e;
}

/* The stream through http_dec_feed_resp and m, in pieces of step bytes
 * (0: two pieces split at cut). */
static struct ends memo(struct http_memo *m, const char *s, size_t len, bool head_req,
			size_t step, size_t cut)
{
	struct http_dec d;
	struct ends e = { .digest = 0xcbf29ce484222325ull };
	size_t off = 0;

	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
	d.head_req = head_req;
	while (off < len && !e.err) {
		size_t n = step ? step : (off < cut ? cut : len - off);
		if (n > len - off)
			n = len - off;
		const uint8_t *p = guard_copy(s + off, n);
		size_t i = 0;
		while (i < n) {
			unsigned ev;
			ssize_t k = http_dec_feed_resp(&d, m, p + i, n - i, &ev);
			if (k <= 0) {
				e.err = k ? (int)k : -EIO;
				break;
			}
			i += (size_t)k;
			/* It stops only at an end, a 1xx, or its input's end. */
			CHECK(i == n || ev & (HTTP_EV_DONE | HTTP_EV_INTERIM));
			if (ev & HTTP_EV_INTERIM)
				e.interim++;
			if (ev & FROM_MEMO)
				e.from_memo++;
			if (ev & HTTP_EV_DONE)
				ended(&e, &d, off + i);
			if (m->len)
				m->ev |= FROM_MEMO;
		}
		off += n;
	}
	return e;
}

static void same(struct ends a, struct ends b, const char *name, size_t step, size_t cut)
{
	if (a.err != b.err || a.n != b.n || a.interim != b.interim || a.digest != b.digest) {
		fprintf(stderr, "%s step %zu cut %zu: err %d/%d ends %u/%u interim %u/%u\n", name,
			step, cut, a.err, b.err, a.n, b.n, a.interim, b.interim);
		CHECK(0);
	}
	CHECK(1);
}

struct vec {
	const char *name, *bytes;
	bool head_req;
};

static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n"
			      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
static const char sink[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";

static const struct vec vecs[] = {
	{ "rfc", rfc_example, false },         { "pong", nginx_pong, false },
	{ "static", nginx_static, false },     { "head", nginx_head, true },
	{ "chunked", nginx_chunked, false },   { "503", nginx_503, false },
	{ "last", nginx_last, false },         { "trailer", chunked_trailer, false },
	{ "interim", interim, false },         { "sink", sink, false },
};

static void test_same_as_plain(void)
{
	char s[4096];

	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		const struct vec *v = &vecs[i];
		size_t one = strlen(v->bytes);
		size_t len = (size_t)snprintf(s, sizeof(s), "%s%s%s", v->bytes, v->bytes, v->bytes);
		struct ends want = plain(s, len, v->head_req);
		struct http_memo *m = calloc(1, sizeof(*m));

		CHECK(m != NULL);
		if (!m)
			return;
		CHECK_EQ_INT(want.err, 0);
		CHECK_EQ_INT(want.n, 3);
		struct ends got = memo(m, s, len, v->head_req, len, 0);
		same(want, got, v->name, len, 0);
		/* Fed whole: the first read afresh, the others remembered
		 * (unless a 1xx came first or it is too long to keep). */
		bool keeps = one <= HTTP_MEMO_MAX && v->bytes != interim;
		CHECK_EQ_INT(got.from_memo, keeps ? 2 : 0);
		/* The same memo again, already holding the response. */
		same(want, memo(m, s, len, v->head_req, len, 0), v->name, len, 0);
		for (size_t step = 1; step <= one + 1; step++)
			same(want, memo(m, s, len, v->head_req, step, 0), v->name, step, 0);
		for (size_t cut = 1; cut < len; cut++) {
			memset(m, 0, sizeof(*m));
			same(want, memo(m, s, len, v->head_req, 0, cut), v->name, 0, cut);
		}
		free(m);
	}
}

/* A memo holding one response must not answer for another. */
static void test_no_false_match(void)
{
	static const char a[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
	static const char b[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK!";
	static const char c[] = "HTTP/1.1 404 OK\r\nContent-Length: 2\r\n\r\nOK";
	char s[512];
	struct http_memo *m = calloc(1, sizeof(*m));

	CHECK(m != NULL);
	if (!m)
		return;
	size_t len = (size_t)snprintf(s, sizeof(s), "%s%s%s%s", a, b, c, a);
	struct ends got = memo(m, s, len, false, len, 0);
	same(plain(s, len, false), got, "differing", len, 0);
	CHECK_EQ_INT(got.from_memo, 0);
	/* A prefix of the remembered response is not it (the memo holds a:
	 * the whole one before it is). */
	len = (size_t)snprintf(s, sizeof(s), "%s%s", a, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nO");
	got = memo(m, s, len, false, len, 0);
	same(plain(s, len, false), got, "prefix", len, 0);
	CHECK_EQ_INT(got.from_memo, 1);
	CHECK_EQ_INT(got.n, 1);
	/* Remembered for a GET: a HEAD's answer has no body, so not it. */
	memset(m, 0, sizeof(*m));
	len = (size_t)snprintf(s, sizeof(s), "%s", a);
	memo(m, s, len, false, len, 0);
	CHECK_EQ_INT(m->len, strlen(a));
	got = memo(m, s, len, true, len, 0);
	same(plain(s, len, true), got, "head", len, 0);
	CHECK_EQ_INT(got.from_memo, 0);
	/* Errors come out as http_dec_feed's, memo or not. */
	len = (size_t)snprintf(s, sizeof(s), "%s%s", a, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
	memset(m, 0, sizeof(*m));
	got = memo(m, s, len, false, len, 0);
	same(plain(s, len, false), got, "error", len, 0);
	CHECK_EQ_INT(got.err, -EPROTO);
	free(m);
}

int main(void)
{
	if (guard_init(1 << 16))
		return T_FAIL;
	test_same_as_plain();
	test_no_false_match();
	return t_done("test_http_memo");
}
