/* SHA-1: the FIPS 180 examples, every padding case (lengths 0 to 200, so
 * the length field falls in the first block and in a block of its own),
 * and the WebSocket handshake's own example (RFC 6455 1.3). The digests
 * were computed with Python's hashlib. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/sha1.h"
#include "encoders/ws.h"
#include "t.h"

static void hex(const uint8_t d[SHA1_LEN], char out[2 * SHA1_LEN + 1])
{
	static const char h[] = "0123456789abcdef";

	for (int i = 0; i < SHA1_LEN; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * SHA1_LEN] = 0;
}

static void check_digest(const void *p, size_t n, const char *want)
{
	uint8_t d[SHA1_LEN];
	char got[2 * SHA1_LEN + 1];

	sha1(p, n, d);
	hex(d, got);
	CHECK_MEM(got, strlen(got), want, strlen(want));
}

static void test_fips(void)
{
	check_digest("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_digest("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		     "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	char *a = malloc(1000000);
	CHECK(a != NULL);
	if (a) {
		memset(a, 'a', 1000000);
		check_digest(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
		free(a);
	}
}

/* The digests of lengths 0..200 of a pattern, hashed together. */
static void test_lengths(void)
{
	static uint8_t acc[201 * SHA1_LEN], buf[200];

	for (size_t n = 0; n <= 200; n++) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(i * 7 + n);
		sha1(buf, n, acc + n * SHA1_LEN);
	}
	check_digest(acc, sizeof(acc), "d0de06f4c5cb01efe13d538b17bbc0bd8144a1c2");
}

static void test_ws_accept(void)
{
	char out[WS_ACCEPT_LEN + 1];

	CHECK_EQ_INT(ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	CHECK_MEM(out, strlen(out), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28);
}

int main(void)
{
	test_fips();
	test_lengths();
	test_ws_accept();
	return t_done("test_sha1");
}
