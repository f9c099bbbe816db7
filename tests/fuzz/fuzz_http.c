/* libFuzzer target for the HTTP/1.1 response decoder (encoders/http.h).
 *
 * The first two bytes choose the run: whether the request was HEAD, the
 * head and body limits, and how big the pieces are that the rest is fed
 * in. The rest is a server's byte stream, decoded twice: in one piece and
 * in the chosen pieces. Both must see the same events, statuses, body
 * sizes and the same error at the same byte, since a response may be split
 * anywhere; nothing may read past the input (ASan), no body may pass its
 * limit, and feed must consume what it is given or stop at an event. Then
 * the server closes: http_dec_eof must agree with where the stream ended.
 * A third decoding goes through http_dec_feed_resp with a memo (whole
 * responses remembered, encoders/http_memo.c), in the same pieces: every
 * response must end at the same byte with the same figures, 1xx heads and
 * errors the same.
 *
 * Built with -DWITH_MAIN it replays files, so gcc builds it too:
 *   cc -DWITH_MAIN -Iencoders tests/fuzz/fuzz_http.c encoders/http_resp.c */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "encoders/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t sum;   /* a digest of every event and its figures, in order */
	unsigned n_ev;
	int err;
	uint64_t err_wire; /* where in its response a malformed byte was */
	int eof;
	uint64_t ends;     /* a digest of every response's end and figures */
	unsigned interim;
};

static void mix(struct trace *t, uint64_t v)
{
	t->sum = (t->sum ^ v) * 0x100000001b3ull;
}

static void ended(struct trace *t, const struct http_dec *d, uint64_t at)
{
	uint64_t v[] = { at, d->status, d->minor, d->framing, d->close, d->length, d->body, d->wire };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		t->ends = (t->ends ^ v[i]) * 0x100000001b3ull;
}

static struct trace run(const uint8_t *p, size_t n, size_t piece, bool head_req,
			uint32_t max_head, uint64_t max_body)
{
	struct http_dec d;
	struct trace t = { .sum = 0xcbf29ce484222325ull };
	size_t off = 0;

	http_dec_init(&d, max_head, max_body);
	d.head_req = head_req;
	while (off < n && !t.err) {
		size_t len = n - off < piece ? n - off : piece, i = 0;

		while (i < len) {
			unsigned ev = 0;
			ssize_t k = http_dec_feed(&d, p + off + i, len - i, &ev);

			if (k < 0) {
				assert(k == -EPROTO || k == -EMSGSIZE);
				t.err = (int)k;
				if (k == -EPROTO)
					t.err_wire = d.wire;
				break;
			}
			assert(k > 0 && (size_t)k <= len - i);
			assert(ev || (size_t)k == len - i);
			i += (size_t)k;
			assert(d.body <= max_body && d.body <= d.wire);
			if (!ev)
				continue;
			t.n_ev++;
			mix(&t, ev);
			mix(&t, off + i);
			mix(&t, d.status);
			if (ev & (HTTP_EV_HEAD | HTTP_EV_DONE))
				assert(d.status >= 200 && d.status <= 599);
			if (ev & HTTP_EV_INTERIM)
				assert(d.status >= 100 && d.status < 200);
			if (ev & HTTP_EV_INTERIM)
				t.interim++;
			if (ev & HTTP_EV_DONE) {
				ended(&t, &d, off + i);
				mix(&t, d.body);
				mix(&t, d.wire);
				mix(&t, d.close);
				assert(http_dec_idle(&d));
			}
		}
		off += len;
	}
	if (!t.err) {
		t.eof = http_dec_eof(&d);
		assert(t.eof == 0 || t.eof == HTTP_EV_DONE || t.eof == -EPROTO);
		if (t.eof == HTTP_EV_DONE)
			assert(d.framing == HTTP_BODY_EOF && d.body <= max_body);
	}
	return t;
}

/* The same stream through http_dec_feed_resp and a memo. */
static struct trace run_resp(const uint8_t *p, size_t n, size_t piece, bool head_req,
			     uint32_t max_head, uint64_t max_body)
{
	static struct http_memo memo;
	struct http_dec d;
	struct trace t = { 0 };
	size_t off = 0;

	memset(&memo, 0, sizeof(memo));
	http_dec_init(&d, max_head, max_body);
	d.head_req = head_req;
	while (off < n && !t.err) {
		size_t len = n - off < piece ? n - off : piece, i = 0;

		while (i < len) {
			unsigned ev = 0;
			ssize_t k = http_dec_feed_resp(&d, &memo, p + off + i, len - i, &ev);

			if (k < 0) {
				t.err = (int)k;
				if (k == -EPROTO)
					t.err_wire = d.wire;
				break;
			}
			assert(k > 0 && (size_t)k <= len - i);
			assert((size_t)k == len - i || ev & (HTTP_EV_DONE | HTTP_EV_INTERIM));
			i += (size_t)k;
			if (ev & HTTP_EV_INTERIM)
				t.interim++;
			if (ev & HTTP_EV_DONE)
				ended(&t, &d, off + i);
		}
		off += len;
	}
	if (!t.err)
		t.eof = http_dec_eof(&d);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	bool head_req = data[0] & 1;
	uint32_t max_head = data[0] & 2 ? 64 + (data[0] >> 2) * 4 : HTTP_MAX_HEAD_DEFAULT;
	uint64_t max_body = data[0] & 4 ? (uint64_t)(data[0] >> 3) * 7 : HTTP_MAX_BODY_DEFAULT;
	size_t piece = data[1] ? data[1] : 1;

	struct trace a = run(data + 2, size - 2, size, head_req, max_head, max_body);
	struct trace b = run(data + 2, size - 2, piece, head_req, max_head, max_body);
	assert(a.sum == b.sum && a.n_ev == b.n_ev && a.err == b.err && a.err_wire == b.err_wire &&
	       a.eof == b.eof);
	struct trace c = run_resp(data + 2, size - 2, piece, head_req, max_head, max_body);
	assert(a.ends == c.ends && a.interim == c.interim && a.err == c.err &&
	       a.err_wire == c.err_wire && a.eof == c.eof);
	return 0;
}

#include "replay.h"
