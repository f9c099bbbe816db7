/* libFuzzer target for the WebSocket wire code.
 *
 * 1. The input as a byte stream from a server: frame it with
 *    ws_decode_frame until it stops, feed every frame to the message
 *    assembler and every Close payload to ws_parse_close. Nothing may read
 *    past the input (libFuzzer's copy ends exactly there, ASan watches),
 *    what comes back must lie inside it, and an answer on a prefix must
 *    agree with the answer on the whole ("need more" stays "need more").
 * 2. The input as an upgrade response, and as a Close body.
 * 3. The input as field values: encode a frame, a Close, an upgrade
 *    request, then decode, unmask, re-stamp, re-key: the fields must come
 *    back unchanged, and ws_mask must agree with a byte-wise XOR.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files, so gcc
 * builds it too:
 *   cc -DWITH_MAIN -Iencoders tests/fuzz/fuzz_ws.c encoders/ws.c encoders/sha1.c encoders/utf8.c */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/blws.h"
#include "encoders/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, size_t n, const void *lo, size_t len)
{
	const uint8_t *b = p, *l = lo;

	return n == 0 || (b >= l && n <= len && (size_t)(b - l) <= len - n);
}

static void check_close(const uint8_t *p, size_t n)
{
	uint16_t code = 0;
	const char *reason = NULL;
	size_t rlen = 0;
	int r = ws_parse_close(p, n, &code, &reason, &rlen);

	assert(r == 0 || r == -EPROTO);
	if (r)
		return;
	if (!n) {
		assert(code == WS_CLOSE_NO_STATUS && rlen == 0);
		return;
	}
	assert(n >= 2 && n <= 125 && ws_close_code_valid(code) && rlen == n - 2);
	assert(reason == (const char *)p + 2 && ws_utf8_valid((const uint8_t *)reason, rlen));
	assert(code == (p[0] << 8 | p[1]));
}

/* Part 1: the input is a receive buffer. */
static void fuzz_stream(const uint8_t *data, size_t size, size_t max_payload)
{
	static uint8_t abuf[4096];
	struct ws_msg_assembler a;
	size_t off = 0;

	ws_asm_init(&a, abuf, max_payload && max_payload < sizeof(abuf) ? max_payload : sizeof(abuf),
		    max_payload & 1);
	while (off < size) {
		struct ws_frame f, g;
		struct ws_msg m;
		ssize_t r = ws_decode_frame(data + off, size - off, max_payload, &f);
		int ar;

		if (r <= 0) {
			assert(r == 0 || r == -EPROTO || r == -EMSGSIZE);
			/* A prefix says "need more" or the same thing. */
			if (size - off > 1) {
				ssize_t q = ws_decode_frame(data + off, size - off - 1, max_payload, &g);

				assert(q == 0 || q == r);
			}
			return;
		}
		assert((size_t)r == f.frame_len && f.frame_len <= size - off);
		assert(f.header_len == 2 || f.header_len == 4 || f.header_len == 10);
		assert(f.header_len == ws_frame_header_size(f.payload_len, false));
		assert(f.payload == data + off + f.header_len);
		assert(f.header_len + f.payload_len == f.frame_len);
		assert(!max_payload || f.payload_len <= max_payload);
		if (ws_opcode_is_control(f.opcode))
			assert(f.fin && f.payload_len <= 125);
		assert(ws_decode_frame(data + off, (size_t)r - 1, max_payload, &g) == 0);
		if (f.opcode == WS_OP_CLOSE)
			check_close(f.payload, f.payload_len);

		ar = ws_asm_feed(&a, &f, &m);
		assert(ar == 0 || ar == 1 || ar == -EPROTO || ar == -EMSGSIZE || ar == -EILSEQ);
		if (ar == 1) {
			assert(m.opcode == WS_OP_TEXT || m.opcode == WS_OP_BINARY ||
			       ws_opcode_is_control(m.opcode));
			assert(inside(m.data, m.len, data, size) || inside(m.data, m.len, abuf, a.cap));
			assert(m.len <= a.cap || ws_opcode_is_control(m.opcode));
			if (m.opcode == WS_OP_TEXT && a.check_utf8)
				assert(ws_utf8_valid(m.data, m.len));
		}
		assert(a.len <= a.cap);
		off += (size_t)r;
	}
}

static void fuzz_upgrade(const uint8_t *data, size_t size)
{
	struct ws_upgrade_resp r, q;
	static const char acc[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
	ssize_t n = ws_parse_upgrade_response(data, size, acc, &r);

	assert(n == 0 || n == -EPROTO || n == -EMSGSIZE || n > 0);
	if (n == 0)
		assert(size < WS_UPGRADE_MAX);
	if (n == -EMSGSIZE)
		assert(size >= WS_UPGRADE_MAX);
	if (n <= 0)
		return;
	assert((size_t)n <= size && n <= WS_UPGRADE_MAX && n >= 16);
	assert(!memcmp(data + n - 4, "\r\n\r\n", 4));
	assert(r.status >= 100 && r.status <= 599);
	assert(inside(r.reason, r.reason_len, data, (size_t)n));
	assert(!r.subprotocol || inside(r.subprotocol, r.subprotocol_len, data, (size_t)n));
	assert(!r.subprotocol == !r.n_subprotocol);
	const char *p = ws_upgrade_problem(&r, "mqtt");
	assert(r.status == 101 ? !p || strcmp(p, "status") : p && !strcmp(p, "status"));
	/* The block is the same with or without what follows it, and no
	 * shorter prefix is complete. */
	assert(ws_parse_upgrade_response(data, (size_t)n, acc, &q) == n);
	assert(ws_parse_upgrade_response(data, (size_t)n - 1, acc, &q) == 0);
}

/* Field source for part 3: reads past the end give zeros. */
struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t s_u8(struct src *s)
{
	if (!s->n)
		return 0;
	s->n--;
	return *s->p++;
}

static uint16_t s_u16(struct src *s)
{
	return (uint16_t)(s_u8(s) << 8 | s_u8(s));
}

static void rt_frame(struct src *s)
{
	static const uint8_t ops[] = { WS_OP_CONT, WS_OP_TEXT, WS_OP_BINARY, WS_OP_CLOSE,
				       WS_OP_PING, WS_OP_PONG, 3, 0xb };
	static uint8_t out[70000 + WS_MAX_HEADER], ref[70000];
	uint8_t sel = s_u8(s), key[4] = { s_u8(s), s_u8(s), s_u8(s), s_u8(s) };
	uint8_t op = ops[sel & 7];
	bool fin = sel & 8, masked = sel & 16;
	size_t len = s->n;
	struct ws_frame f;

	/* Big lengths without big inputs: repeat the input. */
	if (sel & 32)
		len = (size_t)s_u16(s) + (sel & 64 ? 65536 - 200 : 0);
	if (len > 70000)
		len = 70000;
	for (size_t i = 0; i < len; i++)
		ref[i] = s->n ? s->p[i % s->n] : (uint8_t)i;

	ssize_t n = ws_encode_frame(out, sizeof(out), op, fin, masked ? key : NULL, ref, len);
	bool ctl = ws_opcode_is_control(op);

	if (op == 3 || op == 0xb || (ctl && (!fin || len > 125))) {
		assert(n == -EINVAL);
		return;
	}
	assert(n > 0 && (size_t)n == ws_frame_header_size(len, masked) + len);
	assert(ws_encode_frame(out, (size_t)n - 1, op, fin, masked ? key : NULL, ref, len) ==
	       -ENOSPC);
	n = ws_encode_frame(out, sizeof(out), op, fin, masked ? key : NULL, ref, len);
	size_t hl = (size_t)n - len;

	if (!masked) {
		assert(ws_decode_frame(out, (size_t)n, 0, &f) == n);
		assert(f.opcode == op && f.fin == fin && f.payload_len == len);
		assert(!len || !memcmp(f.payload, ref, len));
		return;
	}
	/* A server never masks: refused. Unmask in two pieces and compare. */
	assert(ws_decode_frame(out, (size_t)n, 0, &f) == -EPROTO);
	assert(!memcmp(out + hl - 4, key, 4));

	size_t cut = len ? s_u8(s) % (len + 1) : 0;
	ws_mask(out + hl, cut, key, 0);
	ws_mask(out + hl + cut, len - cut, key, cut);
	assert(!len || !memcmp(out + hl, ref, len));
	ws_mask(out + hl, len, key, 0); /* masked again */

	/* Re-stamp a piece, then re-key: unmasking with the new key gives the
	 * stamped plain payload. */
	uint8_t stamp[16], nk[4] = { s_u8(s), s_u8(s), s_u8(s), s_u8(s) };
	size_t at = len ? s_u16(s) % len : 0, sn = s_u8(s) % 17;

	for (size_t i = 0; i < sizeof(stamp); i++)
		stamp[i] = s_u8(s);
	int rr = ws_frame_restamp(out, (size_t)n, at, stamp, sn);
	if (at + sn > len) {
		assert(rr == -EINVAL);
		sn = 0;
	} else {
		assert(rr == 0);
		memcpy(ref + at, stamp, sn);
	}
	assert(ws_frame_rekey(out, (size_t)n, nk) == 0);
	assert(!memcmp(out + hl - 4, nk, 4));
	ws_mask(out + hl, len, nk, 0);
	assert(!len || !memcmp(out + hl, ref, len));
}

static void rt_mask(struct src *s)
{
	uint8_t a[80], b[80], key[4] = { s_u8(s), s_u8(s), s_u8(s), s_u8(s) };
	size_t al = s_u8(s) & 7, off = s_u8(s), n = s->n > 72 ? 72 : s->n;

	memcpy(a + al, s->p, n);
	memcpy(b + al, s->p, n);
	ws_mask(a + al, n, key, off);
	for (size_t i = 0; i < n; i++)
		b[al + i] ^= key[(off + i) % 4];
	assert(!n || !memcmp(a + al, b + al, n));
}

static void rt_close(struct src *s)
{
	uint8_t out[140], key[4] = { 1, 2, 3, 4 };
	uint16_t code = s_u16(s), got;
	uint8_t sel = s_u8(s);
	size_t rl = s->n > 130 ? 130 : s->n;
	const char *reason = (const char *)s->p, *gr;
	size_t grl;
	ssize_t n = ws_encode_close(out, sizeof(out), sel & 1 ? key : NULL, code,
				    rl ? reason : NULL, rl);

	if (!code) {
		assert(rl ? n == -EINVAL : n == (sel & 1 ? 6 : 2));
		return;
	}
	if (!ws_close_code_valid(code) || rl > 123 || !ws_utf8_valid(s->p, rl)) {
		assert(n == -EINVAL);
		return;
	}
	assert(n == (ssize_t)((sel & 1 ? 6 : 2) + 2 + rl));
	if (sel & 1)
		ws_mask(out + 6, 2 + rl, key, 0);
	const uint8_t *body = out + (sel & 1 ? 6 : 2);
	assert(ws_parse_close(body, 2 + rl, &got, &gr, &grl) == 0);
	assert(got == code && grl == rl && (!rl || !memcmp(gr, reason, rl)));
}

static void rt_upgrade(struct src *s)
{
	char host[32], path[32], sub[16], hdr[40], key[WS_KEY_LEN + 1];
	uint8_t nonce[16], out[512];
	const char *extra[1] = { hdr };
	uint8_t sel = s_u8(s);

	for (size_t i = 0; i < 16; i++)
		nonce[i] = s_u8(s);
	ws_make_key(nonce, key);
	/* Raw bytes: control characters must be refused, never sent. */
	size_t hl = s_u8(s) % sizeof(host), pl = s_u8(s) % sizeof(path);
	size_t sl = s_u8(s) % sizeof(sub), xl = s_u8(s) % sizeof(hdr);
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)(s_u8(s) | 1);
	for (size_t i = 0; i < pl; i++)
		path[i] = (char)(s_u8(s) | 1);
	for (size_t i = 0; i < sl; i++)
		sub[i] = (char)(s_u8(s) | 1);
	for (size_t i = 0; i < xl; i++)
		hdr[i] = (char)(s_u8(s) | 1);
	host[hl] = path[pl] = sub[sl] = hdr[xl] = 0;
	if (sel & 1)
		path[0] = '/';
	ssize_t n = ws_encode_upgrade(out, sizeof(out), host, pl ? path : "/", key,
				      sel & 2 ? sub : NULL, extra, sel & 4 ? 1 : 0);

	assert(n == -EINVAL || n == -ENOSPC || n > 0);
	if (n <= 0)
		return;
	/* One request: the only empty line is the last, no bare CR or LF. */
	assert(n >= 4 && !memcmp(out + n - 4, "\r\n\r\n", 4));
	for (ssize_t i = 0; i < n; i++) {
		if (out[i] == '\n')
			assert(i > 0 && out[i - 1] == '\r');
		if (out[i] == '\r')
			assert(i + 1 < n && out[i + 1] == '\n');
		if (i + 4 < n)
			assert(memcmp(out + i, "\r\n\r\n", 4));
	}
}

/* The BLWS header reader (every --proto ws receipt goes through it) against
 * the plain digit-by-digit reading it replaced: same verdict, same values,
 * and a header it accepts is the one blws_stamp writes for them. */
/* ws_frame_size reads the same header as ws_decode_frame: a whole frame
 * the decoder takes is the size it says, and it says nothing until the
 * header is there. */
static void check_frame_size(const uint8_t *p, size_t n)
{
	struct ws_frame f;
	ssize_t r = ws_decode_frame(p, n, 0, &f);
	uint64_t sz = ws_frame_size(p, n);

	if (r > 0)
		assert(sz == (uint64_t)r);
	if (n < 2)
		assert(sz == 0);
	if (sz && sz != UINT64_MAX && sz <= n && r >= 0)
		assert(r == (ssize_t)sz);
}

static void check_blws(const uint8_t *p, size_t n)
{
	uint32_t run;
	uint64_t seq, sent, want[3] = { 0 };
	int r = blws_parse(p, n, &run, &seq, &sent);
	bool ok = n >= BLWS_LEN && !memcmp(p, BLWS_MAGIC, 4);

	for (size_t i = 4; ok && i < BLWS_LEN; i++) {
		uint8_t c = p[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10u : 16u;
		ok = d < 16;
		size_t f = i < 12 ? 0 : i < 28 ? 1 : 2;
		want[f] = want[f] << 4 | d;
	}
	assert((r == 0) == ok);
	if (r)
		return;
	assert(run == want[0] && seq == want[1] && sent == want[2]);
	uint8_t again[BLWS_LEN];
	blws_stamp(again, run, seq, sent);
	assert(!memcmp(again, p, BLWS_LEN));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s;

	fuzz_stream(data, size, 0);
	if (size)
		fuzz_stream(data, size, data[0] * 17u + 1);
	fuzz_upgrade(data, size);
	check_blws(data, size);
	check_frame_size(data, size);
	if (size <= 200)
		check_close(data, size);
	s = (struct src){ data, size };
	rt_frame(&s);
	s = (struct src){ data, size };
	rt_mask(&s);
	s = (struct src){ data, size };
	rt_close(&s);
	s = (struct src){ data, size };
	rt_upgrade(&s);
	return 0;
}

#include "replay.h"
