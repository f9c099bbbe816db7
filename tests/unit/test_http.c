/* HTTP/1.1 wire code (encoders/http_req.c, http_resp.c): request heads
 * and their refusals, and the response decoder on the RFC's example and
 * bytes nginx sent, fed whole, a byte at a time and split at every place,
 * each piece ending at a PROT_NONE page; then every framing rule and every
 * refusal. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/http.h"
#include "guard.h"
#include "http_vectors.h"
#include "t.h"

/* ---- requests ---- */

static void test_encode_get(void)
{
	static const char *const hdrs[] = { "Accept: */*", "X-Run: a b" };
	static const char want[] = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				   "Accept: */*\r\nX-Run: a b\r\n\r\n";
	struct http_req r = { .method = "GET", .path = "/ping", .host = "127.0.0.1:8080",
			      .headers = hdrs, .n_headers = 2 };
	uint8_t out[256];

	CHECK_EQ_INT(http_req_check(&r), 0);
	ssize_t n = http_encode_head(out, sizeof(out), &r);
	CHECK_MEM(out, n, want, strlen(want));
	/* Every cap short of the whole head is refused. */
	for (size_t cap = 0; cap < strlen(want); cap++)
		CHECK_EQ_INT(http_encode_head(out, cap, &r), -ENOSPC);
}

static void test_encode_post(void)
{
	static const char want[] = "POST /q/7/42?x={y HTTP/1.1\r\nHost: h\r\n"
				   "Content-Type: application/x-protobuf\r\nContent-Length: 300\r\n"
				   "Connection: close\r\n\r\n";
	struct http_req r = { .method = "POST", .path = "/q/{conn}/{seq}?x={y", .host = "h",
			      .content_type = "application/x-protobuf", .body_len = 300,
			      .close = true, .conn = 7, .seq = 42 };
	uint8_t out[256];

	CHECK_EQ_INT(http_req_check(&r), 0);
	ssize_t n = http_encode_head(out, sizeof(out), &r);
	CHECK_MEM(out, n, want, strlen(want));

	/* An empty body with send_length: "Content-Length: 0". */
	r = (struct http_req){ .method = "PUT", .path = "/", .host = "h", .send_length = true };
	static const char want0[] = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
	n = http_encode_head(out, sizeof(out), &r);
	CHECK_MEM(out, n, want0, strlen(want0));
}

static void test_expand_path(void)
{
	char out[64];

	CHECK_EQ_INT(http_expand_path(out, sizeof(out), "/a/{conn}/{seq}", 0, 18446744073709551615ull),
		     strlen("/a/0/18446744073709551615"));
	CHECK(!strcmp(out, "/a/0/18446744073709551615"));
	CHECK_EQ_INT(http_expand_path(out, sizeof(out), "/{con}{", 1, 2), 7);
	CHECK(!strcmp(out, "/{con}{"));
	CHECK_EQ_INT(http_expand_path(out, 5, "/abcd", 1, 2), -ENOSPC);
	CHECK_EQ_INT(http_expand_path(out, 6, "/abcd", 1, 2), 5);
}

static void test_req_refused(void)
{
	static const char *const bad_hdrs[] = { "NoColon", ": v", "Bad Name: v", "X: a\r\nY: b",
						"X: \n", "X:\x7f" };
	struct http_req ok = { .method = "GET", .path = "/", .host = "h" }, r;

	r = ok, r.method = "GE T";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.method = "";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.path = "ping";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.path = "/a b";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.path = "/a\r\nX: y";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.host = "";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.host = "h\r\nX: y";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	r = ok, r.content_type = "a\nb";
	CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_hdrs); i++) {
		r = ok, r.headers = &bad_hdrs[i], r.n_headers = 1;
		CHECK_EQ_INT(http_req_check(&r), -EINVAL);
	}
	CHECK(http_token_ok("M-SEARCH", 8));
	CHECK(!http_token_ok("a:b", 3));
}

/* ---- responses ---- */

struct seen {
	int err;            /* the first error, or 0 */
	unsigned done;      /* responses ended */
	unsigned interim;   /* 1xx heads */
	unsigned heads;     /* final heads */
	uint16_t status;    /* of the last response ended */
	uint64_t body;      /* of the last response ended */
	uint64_t wire;
	uint8_t framing;
	bool close;
};

/* Feeds len bytes in pieces of step bytes (0: two pieces split at cut),
 * each piece copied to end at the guard page. */
static struct seen feed(struct http_dec *d, const char *s, size_t len, size_t step, size_t cut)
{
	struct seen v = { 0 };
	size_t off = 0;

	while (off < len && !v.err) {
		size_t n = step ? step : (off < cut ? cut : len - off);

		if (n > len - off)
			n = len - off;
		const uint8_t *p = guard_copy(s + off, n);
		size_t i = 0;
		while (i < n) {
			unsigned ev;
			ssize_t k = http_dec_feed(d, p + i, n - i, &ev);
			if (k < 0) {
				v.err = (int)k;
				break;
			}
			if (k == 0) {
				v.err = -EIO; /* feed must take bytes when given some */
				break;
			}
			i += (size_t)k;
			if (ev & HTTP_EV_INTERIM)
				v.interim++;
			if (ev & HTTP_EV_HEAD) {
				v.heads++;
				v.framing = d->framing;
			}
			if (ev & HTTP_EV_DONE) {
				v.done++;
				v.status = d->status;
				v.body = d->body;
				v.wire = d->wire;
				v.close = d->close;
			}
			if (ev && i < n)
				CHECK(ev & HTTP_EV_DONE || ev & HTTP_EV_HEAD || ev & HTTP_EV_INTERIM);
		}
		off += n;
	}
	return v;
}

static struct seen decode(const char *s, size_t len, bool head_req, size_t step, size_t cut)
{
	struct http_dec d;

	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
	d.head_req = head_req;
	return feed(&d, s, len, step, cut);
}

struct vec {
	const char *name, *bytes;
	bool head_req;
	uint16_t status;
	uint64_t body;
	uint8_t framing;
	bool close;
};

static const struct vec vecs[] = {
	{ "rfc", rfc_example, false, 200, 51, HTTP_BODY_LENGTH, false },
	{ "pong", nginx_pong, false, 200, 4, HTTP_BODY_LENGTH, false },
	{ "static", nginx_static, false, 200, 25, HTTP_BODY_LENGTH, false },
	{ "head", nginx_head, true, 200, 0, HTTP_BODY_NONE, false },
	{ "chunked", nginx_chunked, false, 200, 14, HTTP_BODY_CHUNKED, false },
	{ "503", nginx_503, false, 503, 197, HTTP_BODY_LENGTH, false },
	{ "last", nginx_last, false, 200, 4, HTTP_BODY_LENGTH, true },
	{ "trailer", chunked_trailer, false, 200, 23, HTTP_BODY_CHUNKED, false },
};

static void check_vec(const struct vec *v, struct seen s, const char *how, size_t at)
{
	size_t len = strlen(v->bytes);

	if (s.err || s.done != 1 || s.heads != 1 || s.status != v->status || s.body != v->body ||
	    s.framing != v->framing || s.close != v->close || s.wire != len) {
		fprintf(stderr, "%s %s %zu: err %d done %u status %u body %llu wire %llu\n", v->name,
			how, at, s.err, s.done, s.status, (unsigned long long)s.body,
			(unsigned long long)s.wire);
		CHECK(0);
	}
	CHECK(1);
}

static void test_vectors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		const struct vec *v = &vecs[i];
		size_t len = strlen(v->bytes);

		check_vec(v, decode(v->bytes, len, v->head_req, len, 0), "whole", 0);
		check_vec(v, decode(v->bytes, len, v->head_req, 1, 0), "bytewise", 1);
		for (size_t cut = 1; cut < len; cut++)
			check_vec(v, decode(v->bytes, len, v->head_req, 0, cut), "cut", cut);
		/* Every prefix: no end yet, no error. */
		for (size_t n = 0; n < len; n++) {
			struct seen s = decode(v->bytes, n, v->head_req, n ? n : 1, 0);
			CHECK(!s.err && !s.done);
		}
	}
}

/* Pipelined answers on one connection, in one stream. */
static void test_pipelined(void)
{
	char buf[4096];
	struct http_dec d;

	snprintf(buf, sizeof(buf), "%s%s%s%s", nginx_pong, nginx_chunked, nginx_503, nginx_last);
	for (size_t step = 1; step <= strlen(buf); step += step < 8 ? 1 : 97) {
		http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
		struct seen s = feed(&d, buf, strlen(buf), step, 0);
		CHECK_EQ_INT(s.err, 0);
		CHECK_EQ_INT(s.done, 4);
		CHECK_EQ_INT(s.status, 200);
		CHECK(s.close);
		CHECK_EQ_INT(http_dec_eof(&d), 0);
	}
}

static void test_interim(void)
{
	static const char s[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
				"Link: </s.css>; rel=preload\r\n\r\n"
				"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
	struct seen v = decode(s, strlen(s), false, 1, 0);

	CHECK_EQ_INT(v.err, 0);
	CHECK_EQ_INT(v.interim, 2);
	CHECK_EQ_INT(v.done, 1);
	CHECK_EQ_INT(v.status, 201);
	CHECK_EQ_INT(v.body, 2);
	CHECK_EQ_INT(v.wire, strlen(s));
}

static void test_no_body(void)
{
	static const char s204[] = "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n";
	static const char s304[] = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char zero[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char noreason[] = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
	static const char barelf[] = "HTTP/1.1 200 OK\nContent-Length:0\n\n";
	const char *all[] = { s204, s304, zero, noreason, barelf };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		struct seen v = decode(all[i], strlen(all[i]), false, 1, 0);
		CHECK_EQ_INT(v.err, 0);
		CHECK_EQ_INT(v.done, 1);
		CHECK_EQ_INT(v.body, 0);
		CHECK_EQ_INT(v.framing, HTTP_BODY_NONE);
	}
}

/* 6.3 item 8: no length; the body ends when the server closes. */
static void test_read_to_eof(void)
{
	static const char s10[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc";
	static const char s11[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcdef";
	struct http_dec d;

	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
	struct seen v = feed(&d, s10, strlen(s10), 1, 0);
	CHECK_EQ_INT(v.err, 0);
	CHECK_EQ_INT(v.done, 0);
	CHECK_EQ_INT(d.framing, HTTP_BODY_EOF);
	CHECK(d.close);
	CHECK_EQ_INT(http_dec_eof(&d), HTTP_EV_DONE);
	CHECK_EQ_INT(d.body, 3);
	CHECK_EQ_INT(d.status, 200);
	CHECK_EQ_INT(http_dec_eof(&d), 0);

	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, 5);
	v = feed(&d, s11, strlen(s11), 0, strlen(s11) - 3);
	CHECK_EQ_INT(v.err, -EMSGSIZE); /* over max_body */

	/* HTTP/1.0 with keep-alive and a length keeps the connection. */
	static const char ka[] = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx";
	v = decode(ka, strlen(ka), false, 1, 0);
	CHECK(v.done == 1 && !v.close);
	static const char cl[] = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx";
	v = decode(cl, strlen(cl), false, 1, 0);
	CHECK(v.done == 1 && v.close);
	static const char cl2[] = "HTTP/1.1 200 OK\r\nconnection: foo, CLOSE\r\nContent-Length: 1\r\n\r\nx";
	v = decode(cl2, strlen(cl2), false, 1, 0);
	CHECK(v.done == 1 && v.close);
}

static void test_eof_cuts(void)
{
	const char *s = nginx_chunked;

	for (size_t n = 1; n < strlen(s); n++) {
		struct http_dec d;

		http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, HTTP_MAX_BODY_DEFAULT);
		struct seen v = feed(&d, s, n, n, 0);
		CHECK(!v.err && !v.done);
		CHECK_EQ_INT(http_dec_eof(&d), -EPROTO);
		unsigned ev;
		CHECK_EQ_INT(http_dec_feed(&d, (const uint8_t *)"x", 1, &ev), -EPROTO);
	}
}

static void test_refused(void)
{
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "HTTP/2 200 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 20 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 099 x\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 600 x\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 2000 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1  200 OK\r\n\r\n", -EPROTO },
		{ "http/1.1 200 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\rX\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 O\x01K\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\n: v\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nName : v\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nA: b\x7f" "c\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n", -EMSGSIZE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", -EMSGSIZE },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;a\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\rx", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", -EMSGSIZE },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n80000000\r\n", -EMSGSIZE },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\n", -EPROTO },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = strlen(bad[i].s);

		struct seen w = decode(bad[i].s, len, false, len, 0);
		struct seen b = decode(bad[i].s, len, false, 1, 0);
		if (w.err != bad[i].err || b.err != bad[i].err)
			fprintf(stderr, "bad[%zu] %s: whole %d bytewise %d\n", i, bad[i].s, w.err, b.err);
		CHECK(w.err == bad[i].err && b.err == bad[i].err);
	}
	static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
	CHECK_EQ_INT(decode(nul, sizeof(nul) - 1, false, 1, 0).err, -EPROTO);
}

static void test_limits(void)
{
	struct http_dec d;
	char big[300];

	/* A head over max_head. */
	http_dec_init(&d, 64, HTTP_MAX_BODY_DEFAULT);
	struct seen v = feed(&d, nginx_pong, strlen(nginx_pong), 1, 0);
	CHECK_EQ_INT(v.err, -EMSGSIZE);
	/* Exactly max_head bytes of head pass. */
	size_t head = strstr(nginx_pong, "\r\n\r\n") + 4 - nginx_pong;
	http_dec_init(&d, (uint32_t)head, HTTP_MAX_BODY_DEFAULT);
	v = feed(&d, nginx_pong, strlen(nginx_pong), 1, 0);
	CHECK(!v.err && v.done == 1);
	/* A watched value over HTTP_VALUE_MAX; an unwatched one is skipped. */
	memset(big, 'a', sizeof(big));
	char s[512];
	snprintf(s, sizeof(s), "HTTP/1.1 200 OK\r\nConnection: %.*s\r\n\r\n", (int)sizeof(big), big);
	CHECK_EQ_INT(decode(s, strlen(s), false, 7, 0).err, -EMSGSIZE);
	snprintf(s, sizeof(s), "HTTP/1.1 200 OK\r\nX-Connection: %.*s\r\nContent-Length: 0\r\n\r\n",
		 (int)sizeof(big), big);
	CHECK_EQ_INT(decode(s, strlen(s), false, 7, 0).done, 1);
	/* A chunked body over max_body. */
	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, 20);
	v = feed(&d, chunked_trailer, strlen(chunked_trailer), 3, 0);
	CHECK_EQ_INT(v.err, -EMSGSIZE);
	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, 23);
	v = feed(&d, chunked_trailer, strlen(chunked_trailer), 3, 0);
	CHECK(!v.err && v.done == 1);
	/* A Content-Length of exactly max_body passes; one more is refused. */
	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, 4);
	CHECK_EQ_INT(feed(&d, nginx_pong, strlen(nginx_pong), 5, 0).done, 1);
	http_dec_init(&d, HTTP_MAX_HEAD_DEFAULT, 3);
	CHECK_EQ_INT(feed(&d, nginx_pong, strlen(nginx_pong), 5, 0).err, -EMSGSIZE);
}

/* Heads the one-pass reader takes (or hands on) fed whole, against the
 * byte at a time parser: the same responses, framing and close. */
static void test_whole_heads(void)
{
	static const struct {
		const char *s;
		uint64_t body;
		bool close;
	} ok[] = {
		{ "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nab", 2, false },
		{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nCONTENT-LENGTH: 2\r\n\r\nab", 2, false },
		{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab", 2, true },
		{ "HTTP/1.1 200\r\nContent-Length: 2 \r\n\r\nab", 2, false },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nConnection: close\r\n\r\nab", 2, true },
		{ "HTTP/1.1 200 OK\r\nConnection: Close , x\r\nContent-Length: 0\r\n\r\n", 0, true },
		{ "HTTP/1.1 200 OK\r\nX-Long: \xc3\xa9t\xc3\xa9\tand more than eight bytes\r\n"
		  "Content-Length: 1\r\n\r\nz", 1, false },
		{ "HTTP/1.1 200 OK\nContent-Length: 1\n\nz", 1, false },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", 1, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		size_t len = strlen(ok[i].s);
		struct seen w = decode(ok[i].s, len, false, len, 0);
		struct seen b = decode(ok[i].s, len, false, 1, 0);

		if (w.err || w.done != 1 || w.body != ok[i].body || w.close != ok[i].close ||
		    w.wire != b.wire || b.done != 1 || b.close != w.close)
			fprintf(stderr, "whole head %zu: err %d done %u body %llu close %d\n", i, w.err,
				w.done, (unsigned long long)w.body, w.close);
		CHECK(!w.err && w.done == 1 && w.body == ok[i].body && w.close == ok[i].close);
		CHECK(w.wire == len && b.wire == len && b.done == 1 && b.close == w.close);
	}
	/* A DEL among the eight bytes read at once. */
	static const char del[] = "HTTP/1.1 200 OK\r\nA: abcdefg\x7fhijklmnop\r\n\r\n";
	CHECK_EQ_INT(decode(del, strlen(del), false, strlen(del), 0).err, -EPROTO);
	/* A whole head of exactly max_head bytes passes; one byte less fails. */
	size_t head = strstr(nginx_pong, "\r\n\r\n") + 4 - nginx_pong;
	struct http_dec d;
	http_dec_init(&d, (uint32_t)head, HTTP_MAX_BODY_DEFAULT);
	struct seen v = feed(&d, nginx_pong, strlen(nginx_pong), strlen(nginx_pong), 0);
	CHECK(!v.err && v.done == 1);
	http_dec_init(&d, (uint32_t)head - 1, HTTP_MAX_BODY_DEFAULT);
	CHECK_EQ_INT(feed(&d, nginx_pong, strlen(nginx_pong), strlen(nginx_pong), 0).err, -EMSGSIZE);
}

int main(void)
{
	if (guard_init(1 << 16))
		return T_FAIL;
	test_encode_get();
	test_encode_post();
	test_expand_path();
	test_req_refused();
	test_vectors();
	test_pipelined();
	test_interim();
	test_no_body();
	test_read_to_eof();
	test_eof_cuts();
	test_refused();
	test_limits();
	test_whole_heads();
	return t_done("test_http");
}
