/* WebSocket frames (encoders/ws.c): the RFC's golden bytes
 * (tests/ws_vectors.h), masking against a byte-wise reference, every cap
 * below the size, round trips, reassembly, close, malformed input, and
 * decoders run on bytes that end at a PROT_NONE page so an over-read
 * faults; blast's own message header (blws.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/blws.h"
#include "encoders/ws.h"
#include "guard.h"
#include "t.h"
#include "ws_vectors.h"

/* ---- masking ---- */

static void mask_ref(uint8_t *p, size_t n, const uint8_t key[4], size_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= key[(offset + i) % 4];
}

static void test_mask(void)
{
	static const uint8_t key[4] = { 0xa1, 0x02, 0xf3, 0x74 };
	uint8_t src[128], a[136], b[136];
	int bad = 0;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 37 + 11);
	/* Every length 0..100, every key phase, every start alignment. */
	for (size_t n = 0; n <= 100; n++)
		for (size_t off = 0; off < 9; off++)
			for (size_t al = 0; al < 8; al++) {
				memcpy(a + al, src, n);
				memcpy(b + al, src, n);
				ws_mask(a + al, n, key, off);
				mask_ref(b + al, n, key, off);
				if (memcmp(a + al, b + al, n))
					bad++;
			}
	CHECK_EQ_INT(bad, 0);

	/* Masking in pieces equals masking at once; twice is the identity. */
	memcpy(a, src, 100);
	memcpy(b, src, 100);
	ws_mask(a, 100, key, 0);
	ws_mask(b, 3, key, 0);
	ws_mask(b + 3, 10, key, 3);
	ws_mask(b + 13, 87, key, 13);
	CHECK_MEM(a, 100, b, 100);
	ws_mask(a, 100, key, 0);
	CHECK_MEM(a, 100, src, 100);
	ws_mask(NULL, 0, key, 0); /* no bytes, no access */
}

/* ---- frames ---- */

static void test_rfc_frames(void)
{
	uint8_t out[80000], *big;
	struct ws_frame f;
	ssize_t n;

	n = ws_encode_frame(out, sizeof(out), WS_OP_TEXT, true, NULL, (const uint8_t *)"Hello", 5);
	CHECK_MEM(out, n, hello_unmasked, sizeof(hello_unmasked));
	n = ws_encode_frame(out, sizeof(out), WS_OP_TEXT, true, rfc_key, (const uint8_t *)"Hello", 5);
	CHECK_MEM(out, n, hello_masked, sizeof(hello_masked));
	n = ws_encode_frame(out, sizeof(out), WS_OP_TEXT, false, NULL, (const uint8_t *)"Hel", 3);
	CHECK_MEM(out, n, frag1, sizeof(frag1));
	n = ws_encode_frame(out, sizeof(out), WS_OP_CONT, true, NULL, (const uint8_t *)"lo", 2);
	CHECK_MEM(out, n, frag2, sizeof(frag2));
	n = ws_encode_ping(out, sizeof(out), NULL, (const uint8_t *)"Hello", 5);
	CHECK_MEM(out, n, ping_unmasked, sizeof(ping_unmasked));

	/* The pong answers the decoded ping with its payload. */
	CHECK_EQ_INT(ws_decode_frame(guard_copy(ping_unmasked, sizeof(ping_unmasked)),
				     sizeof(ping_unmasked), 0, &f),
		     sizeof(ping_unmasked));
	CHECK(f.opcode == WS_OP_PING && f.fin && f.payload_len == 5 && f.header_len == 2);
	n = ws_encode_pong(out, sizeof(out), rfc_key, f.payload, f.payload_len);
	CHECK_MEM(out, n, pong_masked, sizeof(pong_masked));

	/* 256 bytes and 64 KiB: 16-bit and 64-bit lengths. */
	big = calloc(1, 65536);
	CHECK(big != NULL);
	if (!big)
		return;
	for (size_t i = 0; i < 65536; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	CHECK_EQ_INT(ws_frame_header_size(256, false), 4);
	n = ws_encode_frame(out, sizeof(out), WS_OP_BINARY, true, NULL, big, 256);
	CHECK_EQ_INT(n, 4 + 256);
	CHECK_MEM(out, 4, bin256_hdr, sizeof(bin256_hdr));
	CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n), (size_t)n, 0, &f), n);
	CHECK(f.opcode == WS_OP_BINARY && f.payload_len == 256 && !memcmp(f.payload, big, 256));

	CHECK_EQ_INT(ws_frame_header_size(65536, false), 10);
	CHECK_EQ_INT(ws_frame_header_size(65536, true), 14);
	n = ws_encode_frame(out, sizeof(out), WS_OP_BINARY, true, NULL, big, 65536);
	CHECK_EQ_INT(n, 10 + 65536);
	CHECK_MEM(out, 10, bin64k_hdr, sizeof(bin64k_hdr));
	CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n), (size_t)n, 0, &f), n);
	CHECK(f.payload_len == 65536 && f.header_len == 10 && !memcmp(f.payload, big, 65536));
	CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n), (size_t)n, 65535, &f), -EMSGSIZE);
	CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n), (size_t)n, 65536, &f), n);
	/* Over the limit is known from the header alone. */
	CHECK_EQ_INT(ws_decode_frame(guard_copy(out, 10), 10, 65535, &f), -EMSGSIZE);
	free(big);
}

/* Every prefix of a frame is "need more"; the whole is the frame. */
static void check_truncations(const uint8_t *frame, size_t n)
{
	struct ws_frame f;
	int bad = 0;

	for (size_t k = 0; k < n; k++)
		if (ws_decode_frame(guard_copy(frame, k), k, 0, &f) != 0)
			bad++;
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(ws_decode_frame(guard_copy(frame, n), n, 0, &f), n);
}

static void test_frame_truncation(void)
{
	static const size_t sizes[] = { 0, 1, 125, 126, 127, 65535, 65536, 65537 };
	static uint8_t payload[65537], out[65537 + 14];

	check_truncations(hello_unmasked, sizeof(hello_unmasked));
	check_truncations(frag1, sizeof(frag1));
	check_truncations(frag2, sizeof(frag2));
	check_truncations(ping_unmasked, sizeof(ping_unmasked));
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		ssize_t n = ws_encode_frame(out, sizeof(out), WS_OP_BINARY, true, NULL, payload,
					    sizes[s]);
		struct ws_frame f;

		CHECK_EQ_INT(n, ws_frame_header_size(sizes[s], false) + sizes[s]);
		if (sizes[s] < 1000) {
			check_truncations(out, (size_t)n);
		} else {
			/* Header prefixes, and the whole frame but one byte. */
			for (size_t k = 0; k <= 10; k++)
				CHECK_EQ_INT(ws_decode_frame(guard_copy(out, k), k, 0, &f), 0);
			CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n - 1), (size_t)n - 1,
						     0, &f), 0);
		}
		/* Round trip through the guarded decoder. */
		CHECK_EQ_INT(ws_decode_frame(guard_copy(out, (size_t)n), (size_t)n, 0, &f), n);
		CHECK(f.payload_len == sizes[s] && f.frame_len == (size_t)n &&
		      (!sizes[s] || !memcmp(f.payload, payload, sizes[s])));
	}
}

/* Encoders refuse every cap below the size and never write past it. */
static void check_caps(ssize_t (*enc)(uint8_t *, size_t, const void *), const void *arg,
		       const char *what)
{
	uint8_t full[512], buf[512 + 16];
	ssize_t n = enc(full, sizeof(full), arg);
	int bad = 0;

	CHECK(n > 0);
	if (n <= 0)
		return;
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		memset(buf, 0xee, sizeof(buf));
		if (enc(buf, cap, arg) != -ENOSPC)
			bad++;
		for (size_t i = cap; i < sizeof(buf); i++)
			if (buf[i] != 0xee) {
				bad++;
				break;
			}
	}
	if (bad)
		fprintf(stderr, "caps: %s\n", what);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(enc(buf, (size_t)n, arg), n);
	CHECK_MEM(buf, n, full, n);
}

static ssize_t enc_text300(uint8_t *o, size_t c, const void *arg)
{
	static uint8_t p[300];

	(void)arg;
	return ws_encode_frame(o, c, WS_OP_TEXT, true, rfc_key, p, sizeof(p));
}

static ssize_t enc_hello(uint8_t *o, size_t c, const void *arg)
{
	return ws_encode_frame(o, c, WS_OP_TEXT, true, arg, (const uint8_t *)"Hello", 5);
}

static ssize_t enc_close(uint8_t *o, size_t c, const void *arg)
{
	return ws_encode_close(o, c, arg, 1000, "bye", 3);
}

static ssize_t enc_pong(uint8_t *o, size_t c, const void *arg)
{
	return ws_encode_pong(o, c, arg, (const uint8_t *)"Hello", 5);
}

static ssize_t enc_upgrade(uint8_t *o, size_t c, const void *arg)
{
	static const char *const extra[] = { "Origin: http://example.com" };

	(void)arg;
	return ws_encode_upgrade(o, c, "server.example.com", "/chat", rfc_key_b64,
				 "chat, superchat", extra, 1);
}

static void test_caps(void)
{
	check_caps(enc_text300, NULL, "text300");
	check_caps(enc_hello, rfc_key, "hello masked");
	check_caps(enc_hello, NULL, "hello");
	check_caps(enc_close, rfc_key, "close");
	check_caps(enc_close, NULL, "close unmasked");
	check_caps(enc_pong, rfc_key, "pong");
	check_caps(enc_upgrade, NULL, "upgrade");
}

static void test_frame_malformed(void)
{
	static const struct {
		uint8_t b[12];
		size_t n;
		int want;
	} bad[] = {
		{ { 0xc1, 0x00 }, 2, -EPROTO },             /* RSV1 */
		{ { 0xa1, 0x00 }, 2, -EPROTO },             /* RSV2 */
		{ { 0x91, 0x00 }, 2, -EPROTO },             /* RSV3 */
		{ { 0x83, 0x00 }, 2, -EPROTO },             /* reserved data opcode */
		{ { 0x87, 0x00 }, 2, -EPROTO },
		{ { 0x8b, 0x00 }, 2, -EPROTO },             /* reserved control opcode */
		{ { 0x8f, 0x00 }, 2, -EPROTO },
		{ { 0x81, 0x80 }, 2, -EPROTO },             /* masked server frame */
		{ { 0x09, 0x00 }, 2, -EPROTO },             /* fragmented ping */
		{ { 0x08, 0x00 }, 2, -EPROTO },             /* fragmented close */
		{ { 0x89, 0x7e }, 2, -EPROTO },             /* ping over 125 */
		{ { 0x8a, 0x7f }, 2, -EPROTO },             /* pong over 125 */
		{ { 0x82, 0x7e, 0x00, 0x7d }, 4, -EPROTO }, /* 125 in 16 bits */
		{ { 0x82, 0x7e, 0x00, 0x00 }, 4, -EPROTO },
		{ { 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 10, -EPROTO }, /* 65535 in 64 */
		{ { 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 10, -EPROTO },    /* top bit */
		{ { 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 10, -EMSGSIZE },
	};
	struct ws_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ssize_t r = ws_decode_frame(guard_copy(bad[i].b, bad[i].n), bad[i].n, 0, &f);

		if (r != bad[i].want)
			fprintf(stderr, "malformed frame %zu: got %zd\n", i, r);
		CHECK_EQ_INT(r, bad[i].want);
	}
	/* The RFC's masked frame is a client frame: refused from a server. */
	CHECK_EQ_INT(ws_decode_frame(guard_copy(hello_masked, sizeof(hello_masked)),
				     sizeof(hello_masked), 0, &f), -EPROTO);
	/* A 125-byte ping is fine; 0 max means no limit. */
	{
		uint8_t p[125] = { 0 }, out[140];
		ssize_t n = ws_encode_ping(out, sizeof(out), NULL, p, 125);

		CHECK_EQ_INT(n, 127);
		CHECK_EQ_INT(ws_decode_frame(guard_copy(out, 127), 127, 0, &f), 127);
		CHECK_EQ_INT(ws_encode_ping(out, sizeof(out), NULL, p, 126), -EINVAL);
	}

	/* Encoder refusals. */
	uint8_t out[64];
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), 3, true, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), 0xb, true, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), 0x12, true, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), WS_OP_PING, false, NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), WS_OP_TEXT, true, NULL, NULL, 1), -EINVAL);
	CHECK_EQ_INT(ws_encode_frame(out, sizeof(out), WS_OP_TEXT, true, NULL, NULL, 0), 2);
}

/* ---- re-stamping a template ---- */

static void test_restamp(void)
{
	static const uint8_t key2[4] = { 0x01, 0x80, 0xfe, 0x55 };
	uint8_t plain[300], tmpl[320], want[320], stamp[16];
	ssize_t n, m;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < sizeof(stamp); i++)
		stamp[i] = (uint8_t)(0xf0 + i);
	n = ws_encode_frame(tmpl, sizeof(tmpl), WS_OP_BINARY, true, rfc_key, plain, sizeof(plain));
	CHECK_EQ_INT(n, 8 + 300);
	/* Re-stamp at every offset, lengths across word edges: the frame must
	 * equal a fresh encode of the changed payload. */
	int bad = 0;
	for (size_t at = 0; at + 16 <= sizeof(plain); at += 7)
		for (size_t len = 0; len <= 16; len += 3) {
			uint8_t frame[320], p2[300];

			memcpy(frame, tmpl, (size_t)n);
			memcpy(p2, plain, sizeof(p2));
			memcpy(p2 + at, stamp, len);
			if (ws_frame_restamp(frame, (size_t)n, at, stamp, len))
				bad++;
			m = ws_encode_frame(want, sizeof(want), WS_OP_BINARY, true, rfc_key, p2,
					    sizeof(p2));
			if (m != n || memcmp(frame, want, (size_t)n))
				bad++;
		}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(ws_frame_restamp(tmpl, (size_t)n, 290, stamp, 11), -EINVAL); /* past end */
	CHECK_EQ_INT(ws_frame_restamp(tmpl, (size_t)n, 301, stamp, 0), -EINVAL);
	CHECK_EQ_INT(ws_frame_restamp(tmpl, (size_t)n - 1, 0, stamp, 1), -EINVAL); /* cut */
	CHECK_EQ_INT(ws_frame_restamp(tmpl, 3, 0, stamp, 1), -EINVAL);
	CHECK_EQ_INT(ws_frame_restamp(tmpl, (size_t)n, 300, stamp, 0), 0);

	/* An unmasked frame is stamped in plain. */
	uint8_t u[16];
	n = ws_encode_frame(u, sizeof(u), WS_OP_TEXT, true, NULL, (const uint8_t *)"Hello", 5);
	CHECK_EQ_INT(ws_frame_restamp(u, (size_t)n, 1, "EL", 2), 0);
	CHECK_MEM(u + 2, 5, "HELlo", 5);

	/* Rekey: same bytes as encoding with the new key. */
	n = ws_encode_frame(tmpl, sizeof(tmpl), WS_OP_BINARY, true, rfc_key, plain, sizeof(plain));
	m = ws_encode_frame(want, sizeof(want), WS_OP_BINARY, true, key2, plain, sizeof(plain));
	CHECK_EQ_INT(ws_frame_rekey(tmpl, (size_t)n, key2), 0);
	CHECK_MEM(tmpl, n, want, m);
	CHECK_EQ_INT(ws_frame_rekey(u, 7, key2), -EINVAL); /* unmasked */
	CHECK_EQ_INT(ws_frame_rekey(tmpl, (size_t)n - 1, key2), -EINVAL);
}

/* ---- reassembly ---- */

static struct ws_frame frame_of(const uint8_t *b, size_t n)
{
	struct ws_frame f = { 0 };

	CHECK_EQ_INT(ws_decode_frame(b, n, 0, &f), n);
	return f;
}

static void test_assembler(void)
{
	uint8_t buf[16], ping[16], big[20] = { 0 }, bin[16], cont[16];
	struct ws_msg_assembler a;
	struct ws_msg m;
	struct ws_frame f1 = frame_of(frag1, sizeof(frag1)), f2 = frame_of(frag2, sizeof(frag2));
	struct ws_frame fp, fh = frame_of(hello_unmasked, sizeof(hello_unmasked)), fb, fc;
	ssize_t n;

	n = ws_encode_ping(ping, sizeof(ping), NULL, (const uint8_t *)"p", 1);
	fp = frame_of(ping, (size_t)n);

	/* RFC 6455 5.7 fragments, a ping between them (5.4 allows it). */
	ws_asm_init(&a, buf, sizeof(buf), true);
	CHECK_EQ_INT(ws_asm_feed(&a, &f1, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fp, &m), 1);
	CHECK(m.opcode == WS_OP_PING && m.len == 1 && m.data == fp.payload);
	CHECK_EQ_INT(ws_asm_feed(&a, &f2, &m), 1);
	CHECK(m.opcode == WS_OP_TEXT && m.data == buf);
	CHECK_MEM(m.data, m.len, "Hello", 5);

	/* Unfragmented: no copy. */
	CHECK_EQ_INT(ws_asm_feed(&a, &fh, &m), 1);
	CHECK(m.opcode == WS_OP_TEXT && m.data == fh.payload && m.len == 5);

	/* Continuation without a start. */
	CHECK_EQ_INT(ws_asm_feed(&a, &f2, &m), -EPROTO);
	/* A new data frame during a fragmented message. */
	CHECK_EQ_INT(ws_asm_feed(&a, &f1, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fh, &m), -EPROTO);
	/* ...and the assembler is reset after it. */
	CHECK_EQ_INT(ws_asm_feed(&a, &f2, &m), -EPROTO);

	/* Overflow: 3 + 14 > 16, and an unfragmented 20 > 16. */
	n = ws_encode_frame(cont, sizeof(cont), WS_OP_CONT, true, NULL, big, 14);
	fc = frame_of(cont, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &f1, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fc, &m), -EMSGSIZE);
	{
		uint8_t o[32];

		n = ws_encode_frame(o, sizeof(o), WS_OP_BINARY, true, NULL, big, 20);
		struct ws_frame fbig = frame_of(o, (size_t)n);
		CHECK_EQ_INT(ws_asm_feed(&a, &fbig, &m), -EMSGSIZE);
	}
	/* Exactly cap is fine: 3 + 13 = 16. */
	n = ws_encode_frame(cont, sizeof(cont), WS_OP_CONT, true, NULL, big, 13);
	fc = frame_of(cont, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &f1, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fc, &m), 1);
	CHECK_EQ_INT(m.len, 16);

	/* Text must be UTF-8 when asked: split inside a character is fine
	 * as long as the whole message is valid. */
	static const uint8_t euro[] = { 0xe2, 0x82, 0xac };
	n = ws_encode_frame(bin, sizeof(bin), WS_OP_TEXT, false, NULL, euro, 1);
	fb = frame_of(bin, (size_t)n);
	n = ws_encode_frame(cont, sizeof(cont), WS_OP_CONT, true, NULL, euro + 1, 2);
	fc = frame_of(cont, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fc, &m), 1);
	CHECK_MEM(m.data, m.len, euro, 3);
	n = ws_encode_frame(cont, sizeof(cont), WS_OP_CONT, true, NULL, euro + 1, 1);
	fc = frame_of(cont, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fc, &m), -EILSEQ);
	n = ws_encode_frame(bin, sizeof(bin), WS_OP_TEXT, true, NULL, euro, 2);
	fb = frame_of(bin, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), -EILSEQ);
	/* Binary is never checked; nor text without check_utf8. */
	n = ws_encode_frame(bin, sizeof(bin), WS_OP_BINARY, true, NULL, euro, 2);
	fb = frame_of(bin, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), 1);
	ws_asm_init(&a, buf, sizeof(buf), false);
	n = ws_encode_frame(bin, sizeof(bin), WS_OP_TEXT, true, NULL, euro, 2);
	fb = frame_of(bin, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), 1);

	/* Empty fragments and a zero-cap assembler. */
	ws_asm_init(&a, NULL, 0, true);
	n = ws_encode_frame(bin, sizeof(bin), WS_OP_BINARY, false, NULL, NULL, 0);
	fb = frame_of(bin, (size_t)n);
	n = ws_encode_frame(cont, sizeof(cont), WS_OP_CONT, true, NULL, NULL, 0);
	fc = frame_of(cont, (size_t)n);
	CHECK_EQ_INT(ws_asm_feed(&a, &fb, &m), 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fc, &m), 1);
	CHECK(m.opcode == WS_OP_BINARY && m.len == 0);
	CHECK_EQ_INT(ws_asm_feed(&a, &fh, &m), -EMSGSIZE);
}

/* ---- close ---- */

static void test_close(void)
{
	uint8_t out[140], body[130];
	struct ws_frame f;
	uint16_t code;
	const char *reason;
	size_t rlen;
	ssize_t n;

	/* Unmasked 1000 "bye": 0x88, 5, 0x03 0xe8, "bye". */
	static const uint8_t close_bye[] = { 0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e' };
	n = ws_encode_close(out, sizeof(out), NULL, 1000, "bye", 3);
	CHECK_MEM(out, n, close_bye, sizeof(close_bye));
	check_truncations(close_bye, sizeof(close_bye));
	f = frame_of(close_bye, sizeof(close_bye));
	CHECK_EQ_INT(ws_parse_close(f.payload, f.payload_len, &code, &reason, &rlen), 0);
	CHECK(code == 1000 && rlen == 3 && !memcmp(reason, "bye", 3));

	/* Masked: header 0x88 0x85, key, masked body. */
	n = ws_encode_close(out, sizeof(out), rfc_key, 1001, NULL, 0);
	CHECK_EQ_INT(n, 2 + 4 + 2);
	CHECK(out[0] == 0x88 && out[1] == 0x82);
	ws_mask(out + 6, 2, rfc_key, 0);
	CHECK(out[6] == 0x03 && out[7] == 0xe9);

	/* Empty: 1005. */
	n = ws_encode_close(out, sizeof(out), NULL, 0, NULL, 0);
	CHECK_EQ_INT(n, 2);
	CHECK(out[0] == 0x88 && out[1] == 0x00);
	CHECK_EQ_INT(ws_parse_close(guard_copy("", 0), 0, &code, &reason, &rlen), 0);
	CHECK(code == WS_CLOSE_NO_STATUS && rlen == 0);

	/* Every truncation of a body with a reason, before the guard page. */
	body[0] = 0x0f;
	body[1] = 0xa0; /* 4000 */
	memcpy(body + 2, "going \xe2\x82\xac", 9);
	for (size_t k = 0; k <= 11; k++) {
		int r = ws_parse_close(guard_copy(body, k), k, &code, &reason, &rlen);
		int want = k == 1 || k == 9 || k == 10 ? -EPROTO : 0; /* cut in the euro */

		CHECK_EQ_INT(r, want);
	}

	/* Codes (7.4). */
	static const uint16_t bad_codes[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999,
					      5000, 65535 };
	static const uint16_t good_codes[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
					       1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_codes); i++) {
		body[0] = (uint8_t)(bad_codes[i] >> 8);
		body[1] = (uint8_t)bad_codes[i];
		CHECK_EQ_INT(ws_parse_close(guard_copy(body, 2), 2, &code, &reason, &rlen), -EPROTO);
		if (bad_codes[i])
			CHECK_EQ_INT(ws_encode_close(out, sizeof(out), NULL, bad_codes[i], NULL, 0),
				     -EINVAL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(good_codes); i++) {
		n = ws_encode_close(out, sizeof(out), NULL, good_codes[i], "x", 1);
		CHECK_EQ_INT(n, 5);
		CHECK_EQ_INT(ws_parse_close(out + 2, 3, &code, &reason, &rlen), 0);
		CHECK_EQ_INT(code, good_codes[i]);
	}
	/* Reason limits: 123 bytes fit, 124 do not; UTF-8 only. */
	memset(body, 'r', sizeof(body));
	CHECK_EQ_INT(ws_encode_close(out, sizeof(out), NULL, 1000, (char *)body, 123), 127);
	CHECK_EQ_INT(ws_encode_close(out, sizeof(out), NULL, 1000, (char *)body, 124), -EINVAL);
	CHECK_EQ_INT(ws_encode_close(out, sizeof(out), NULL, 1000, "\xc0\x80", 2), -EINVAL);
	CHECK_EQ_INT(ws_encode_close(out, sizeof(out), NULL, 0, "x", 1), -EINVAL);
	body[0] = 0x03;
	body[1] = 0xe8;
	CHECK_EQ_INT(ws_parse_close(body, 126, &code, &reason, &rlen), -EPROTO);
	memcpy(body + 2, "\xed\xa0\x80", 3); /* a surrogate */
	CHECK_EQ_INT(ws_parse_close(body, 5, &code, &reason, &rlen), -EPROTO);
}

/* ws_frame_size: a frame's whole size from its header, 0 until the header
 * is complete, at every length form. */
static void test_frame_size(void)
{
	uint8_t f[14] = { 0x82, 5 };

	CHECK_EQ_INT(ws_frame_size(f, 1), 0);
	CHECK_EQ_INT(ws_frame_size(f, 2), 7);
	f[1] = 126, f[2] = 0x01, f[3] = 0x00;
	CHECK_EQ_INT(ws_frame_size(f, 3), 0);
	CHECK_EQ_INT(ws_frame_size(f, 4), 4 + 256);
	f[1] = 127;
	memset(f + 2, 0, 8);
	f[7] = 0x01; /* 2^16 */
	CHECK_EQ_INT(ws_frame_size(f, 9), 0);
	CHECK_EQ_INT(ws_frame_size(f, 10), 10 + 65536);
	memset(f + 2, 0xff, 8);
	CHECK(ws_frame_size(f, 10) == UINT64_MAX);
	f[1] = 0x80 | 5; /* masked: 4 key bytes in the header */
	CHECK_EQ_INT(ws_frame_size(f, 5), 0);
	CHECK_EQ_INT(ws_frame_size(f, 6), 11);
}

/* The BLWS header (encoders/blws.h): written and read back over the
 * whole range of each field; every one of the 40 hex positions refuses
 * each byte that is not a lower-case hex digit, and accepts each that is
 * (the eight-at-a-time reader, one byte at a time). */
static void test_blws(void)
{
	static const uint64_t vals[] = { 0, 1, 9, 10, 15, 16, 0x0123456789abcdefULL,
					 0xfedcba9876543210ULL, 0xffffffffffffffffULL,
					 0x8000000000000000ULL, 0xa0a0a0a09f9f9f9fULL };
	uint8_t h[BLWS_LEN + 3];
	uint32_t run = 0;
	uint64_t seq = 0, sent = 0;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint64_t a = vals[i], b = vals[(i + 3) % (sizeof(vals) / sizeof(vals[0]))];
		blws_stamp(h, (uint32_t)(a >> 7), a, b);
		CHECK_EQ_INT(blws_parse(h, BLWS_LEN, &run, &seq, &sent), 0);
		CHECK(run == (uint32_t)(a >> 7) && seq == a && sent == b);
	}
	CHECK_MEM(h, 4, "BLWS", 4);
	CHECK_EQ_INT(blws_parse(h, BLWS_LEN - 1, &run, &seq, &sent), -EPROTO);
	blws_stamp(h, 0x89abcdefu, 0x0123456789abcdefULL, 42);
	for (int pos = 4; pos < BLWS_LEN; pos++) {
		uint8_t keep = h[pos];
		for (int c = 0; c < 256; c++) {
			h[pos] = (uint8_t)c;
			bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
			int r = blws_parse(h, BLWS_LEN, &run, &seq, &sent);
			if ((r == 0) != hex) {
				CHECK_EQ_INT(r, hex ? 0 : -EPROTO);
				fprintf(stderr, "  byte 0x%02x at %d\n", c, pos);
			}
		}
		h[pos] = keep;
	}
	memcpy(h, "BLWs", 4);
	CHECK_EQ_INT(blws_parse(h, BLWS_LEN, &run, &seq, &sent), -EPROTO);

	/* The word-at-a-time writer and reader against printf's %016llx, and
	 * blws_parse_numbers against blws_parse, over a spread of values. */
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int bad_put = 0, bad_get = 0;
	for (int i = 0; i < 100000; i++) {
		char want[17];
		uint8_t got[16];
		uint64_t v = i < 64 ? 1ULL << i : x, s2 = 0, t2 = 0;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(want, sizeof(want), "%016llx", (unsigned long long)v);
		blws_put_hex16(got, v);
		bad_put += memcmp(got, want, 16) != 0;
		blws_stamp(h, (uint32_t)x, v, ~v);
		bad_get += blws_parse(h, BLWS_LEN, &run, &seq, &sent) || run != (uint32_t)x ||
			   seq != v || sent != ~v || blws_parse_numbers(h, &s2, &t2) || s2 != v ||
			   t2 != ~v;
	}
	CHECK_EQ_INT(bad_put, 0);
	CHECK_EQ_INT(bad_get, 0);
}

int main(void)
{
	if (guard_init(70000)) { /* room for a 64 KiB frame */
		perror("guard page");
		return T_FAIL;
	}
	test_mask();
	test_blws();
	test_frame_size();
	test_rfc_frames();
	test_frame_truncation();
	test_caps();
	test_frame_malformed();
	test_restamp();
	test_assembler();
	test_close();
	return t_done("test_ws_frame");
}
