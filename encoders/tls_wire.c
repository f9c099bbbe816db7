/* TLS record headers and hellos from a capture's bytes (tls_wire.h). */
#include <string.h>

#include "rbuf.h"
#include "tls_wire.h"

int tls_rec_head(const uint8_t *p, size_t n, struct tls_rec *r)
{
	if (n < TLS_REC_HDR)
		return 0;
	r->type = p[0];
	r->version = rb_be16(p + 1);
	r->len = rb_be16(p + 3);
	if (r->type < TLS_CT_CCS || r->type > TLS_CT_APPDATA || p[1] != 3 || r->len > TLS_REC_MAX)
		return -1;
	return 1;
}

bool tls_starts_client_hello(const uint8_t *p, size_t n)
{
	struct tls_rec r;

	return n >= TLS_REC_HDR + 1 && tls_rec_head(p, n, &r) == 1 &&
	       r.type == TLS_CT_HANDSHAKE && r.version <= TLS_V12 && r.len >= 4 &&
	       p[TLS_REC_HDR] == TLS_HS_CLIENT_HELLO;
}

/* legacy_version, random, legacy_session_id: both hellos open alike. */
static void hello_head(struct rbuf *r, struct tls_hello *h)
{
	h->version = rb_u16be(r);
	const uint8_t *random = rb_take(r, TLS_RANDOM);
	if (random)
		memcpy(h->random, random, TLS_RANDOM);
	uint8_t sid = rb_u8(r);
	if (sid > 32)
		rb_fail(r);
	rb_skip(r, sid);
}

int tls_client_hello(const uint8_t *b, size_t n, struct tls_hello *h)
{
	struct rbuf r;

	memset(h, 0, sizeof(*h));
	rb_init(&r, b, n);
	hello_head(&r, h);
	size_t suites;
	rb_bytes16(&r, &suites);
	if (suites < 2 || suites % 2)
		rb_fail(&r);
	return r.bad ? -1 : 0;
}

/* SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest. */
static const uint8_t hrr_random[TLS_RANDOM] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

int tls_server_hello(const uint8_t *b, size_t n, struct tls_hello *h)
{
	struct rbuf r;

	memset(h, 0, sizeof(*h));
	rb_init(&r, b, n);
	hello_head(&r, h);
	h->suite = rb_u16be(&r);
	rb_u8(&r); /* compression */
	if (r.bad)
		return -1;
	if (!rb_left(&r)) /* TLS 1.2 without extensions */
		return 0;
	size_t len;
	const uint8_t *ext = rb_bytes16(&r, &len);
	if (r.bad || rb_left(&r))
		return -1;
	struct rbuf e;
	rb_init(&e, ext, len);
	while (rb_left(&e) && !e.bad) {
		uint16_t type = rb_u16be(&e);
		size_t elen;
		const uint8_t *body = rb_bytes16(&e, &elen);
		if (type == 43) { /* supported_versions: the one chosen */
			if (elen != 2)
				return -1;
			h->version = rb_be16(body);
		} else if (type == 22) { /* encrypt_then_mac: empty */
			if (elen)
				return -1;
			h->etm = true;
		}
	}
	if (e.bad)
		return -1;
	h->hrr = !memcmp(h->random, hrr_random, TLS_RANDOM);
	return 0;
}
