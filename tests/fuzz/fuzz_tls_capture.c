/* libFuzzer target for the TLS a capture holds (witness/tls_decrypt.c,
 * witness/tls_keys.c, encoders/tls_wire.c), by the input's first byte:
 *   0: the rest is a key log's text (every line, good or garbled);
 *   1: the rest is a hello's body, read as a ClientHello and a ServerHello;
 *   else: a flow. A ClientHello with RFC 8448's client random (which a
 *      fixed key log holds secrets for) opens it, then a ServerHello for
 *      TLS 1.3 or 1.2 (bit 0) and a suite the first byte picks (bits 1-2
 *      and 5: GCM, ChaCha20, CCM, CCM-8, and under TLS 1.2 CBC with
 *      HMAC-SHA1, -SHA256, -SHA384), agreeing to encrypt_then_mac when bit
 *      6 is set, then the rest in chunks: a control byte (top bit: the
 *      client's direction, else the server's; low bits: the chunk's
 *      length) and that many bytes, so records span chunks or share them.
 *      Seeds hold RFC 8448's client Finished and application data
 *      records, which open. With bit 7 set each chunk's bytes are instead
 *      a plaintext the harness seals (tests/tls_seal.h) as the next record
 *      of that direction with the flow's keys, after a spoil byte (bit 0:
 *      CBC padding bytes disagree; 1: another MAC or AEAD key; 2: the last
 *      byte flipped; 3: one byte cut; 4: a handshake record, else
 *      application data; 5-7: extra CBC padding blocks), so the fuzzer
 *      reaches what lies past the tag, MAC and padding checks.
 * Plaintext handed on must be at most one record long; nothing may read
 * outside the input.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files (see
 * replay.h). */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/tls_wire.h"
#include "witness/tls_decrypt.h"
#include "witness/tls_keys.h"
#include "tests/tls_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"

static const char keylog[] =
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM
	" b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET " RANDOM
	" b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
	"CLIENT_TRAFFIC_SECRET_0 " RANDOM
	" 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
	"SERVER_TRAFFIC_SECRET_0 " RANDOM
	" a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n"
	"CLIENT_RANDOM " RANDOM
	" 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30\n";

static const uint8_t random_bytes[32] = {
	0xcb, 0x34, 0xec, 0xb1, 0xe7, 0x81, 0x63, 0xba, 0x1c, 0x38, 0xc6, 0xda, 0xcb, 0x19, 0x6a, 0x6d,
	0xff, 0xa2, 0x1a, 0x8d, 0x99, 0x12, 0xec, 0x18, 0xa2, 0xef, 0x62, 0x83, 0x02, 0x4d, 0xec, 0xe7,
};

static void sink(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)ts;
	assert(n <= TLS_REC_MAX);
	*(size_t *)ctx += n;
	/* Touch every byte: ASan finds plaintext that lies outside its buffer. */
	volatile uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	(void)x;
}

/* A handshake record with one hello: version 3.3, the random, no session
 * id, then tail. */
static size_t hello(uint8_t *out, uint8_t type, const uint8_t *tail, size_t tail_len)
{
	size_t body = 2 + 32 + 1 + tail_len;

	memcpy(out, "\x16\x03\x03", 3);
	out[3] = (uint8_t)((body + 4) >> 8);
	out[4] = (uint8_t)(body + 4);
	out[5] = type;
	out[6] = 0;
	out[7] = (uint8_t)(body >> 8);
	out[8] = (uint8_t)body;
	out[9] = 3;
	out[10] = 3;
	memcpy(out + 11, random_bytes, 32);
	out[43] = 0;
	memcpy(out + 44, tail, tail_len);
	return 44 + tail_len;
}

/* The direction's keys, as the flow derives them from the key log. */
static void dir_keys(const struct tls_suite *s, const struct tls_keylog *kl, int client,
		     struct tls_traffic_key *k)
{
	const struct tls_key_entry *e = &kl->e[0];

	if (s->tls13) {
		int ap = client ? TS_CLIENT_AP : TS_SERVER_AP;
		tls13_traffic_key(s, e->secret[ap], e->len[ap], k);
	} else {
		struct tls_traffic_key ck, sk;
		tls12_key_block(s, e->secret[TS_MASTER], e->len[TS_MASTER], random_bytes,
				random_bytes, &ck, &sk);
		*k = client ? ck : sk;
	}
}

/* Bit 7's chunks: spoil byte, then plaintext sealed into a record. */
static void sealed(struct tls_flow *t, const struct tls_suite *s, const struct tls_keylog *kl,
		   bool etm, const uint8_t *data, size_t size, size_t *plain)
{
	static uint8_t rec[1024];
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	struct tls_traffic_key keys[2];
	uint64_t seq[2] = { 0, 0 };

	dir_keys(s, kl, 0, &keys[0]);
	dir_keys(s, kl, 1, &keys[1]);
	if (!s->tls13)
		for (int c = 0; c < 2; c++)
			tls_flow_feed(t, c, ccs, sizeof(ccs), 0, sink, plain);
	size_t at = 0;
	while (at + 2 <= size) {
		uint8_t ctl = data[at++], spoil = data[at++];
		int c = ctl >> 7;
		size_t n = ctl & 0x7f;
		if (n > size - at)
			n = size - at;
		struct tls_traffic_key k = keys[c];
		if (spoil & 2) {
			k.mac[0] ^= 1;
			k.key[0] ^= 1;
		}
		struct seal_opts o = { .tls13 = s->tls13, .etm = etm, .bad_pad = spoil & 1,
				       .extra_blocks = (uint8_t)(spoil >> 5) };
		size_t len = seal_record(s, &k, &o, seq[c]++, spoil & 16 ? 22 : 23, data + at, n, rec);
		if (spoil & 4)
			rec[len - 1] ^= 1;
		if (spoil & 8) {
			len--;
			seal_header(rec, rec[0], len - 5);
		}
		tls_flow_feed(t, c, rec, len, at, sink, plain);
		at += n;
	}
}

static void as_flow(const uint8_t *data, size_t size, uint8_t mode)
{
	static const uint16_t suites13[] = { 0x1301, 0x1302, 0x1303, 0x1304,
					     0x1305, 0x1304, 0x1305, 0x1303 };
	static const uint16_t suites12[] = { 0xc02f, 0xc030, 0xcca8, 0xc013,
					     0xc0ac, 0xc0a0, 0xc028, 0x003c };
	struct tls_keylog kl;
	char err[200];
	uint8_t rec[128];
	size_t plain = 0;

	if (tls_keylog_parse(keylog, sizeof(keylog) - 1, &kl, err, sizeof(err)))
		abort();
	struct tls_flow *t = tls_flow_new(&kl);
	if (!t)
		abort();
	bool v13 = mode & 1, etm = mode & 0x40;
	unsigned i = ((mode >> 1) & 3) | ((mode >> 3) & 4);
	uint16_t s = v13 ? suites13[i] : suites12[i];
	uint8_t ch[] = { 0, 2, (uint8_t)(s >> 8), (uint8_t)s, 1, 0 };
	tls_flow_feed(t, 1, rec, hello(rec, 1, ch, sizeof(ch)), 0, sink, &plain);
	uint8_t sh13[] = { (uint8_t)(s >> 8), (uint8_t)s, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4 };
	uint8_t sh12[] = { (uint8_t)(s >> 8), (uint8_t)s, 0, 0, 4, 0, 22, 0, 0 };
	if (v13)
		tls_flow_feed(t, 0, rec, hello(rec, 2, sh13, sizeof(sh13)), 0, sink, &plain);
	else
		tls_flow_feed(t, 0, rec, hello(rec, 2, sh12, etm ? sizeof(sh12) : 3), 0, sink,
			      &plain);
	size_t at = 0;
	if (mode & 0x80) {
		sealed(t, tls_suite_find(s), &kl, etm, data, size, &plain);
		at = size;
	}
	while (at < size) {
		uint8_t ctl = data[at++];
		size_t n = ctl & 0x7f;
		if (n == 0x7f) /* a long chunk: the rest */
			n = size - at;
		if (n > size - at)
			n = size - at;
		if ((ctl & 0x7f) == 0x7e)
			tls_flow_gap(t, ctl >> 7);
		else
			tls_flow_feed(t, ctl >> 7, data + at, n, at, sink, &plain);
		at += n;
	}
	enum tls_outcome o = tls_flow_outcome(t);
	assert(o == TLS_DECRYPTED || o == TLS_FAILED || o == TLS_NO_KEY);
	assert(o != TLS_FAILED || tls_flow_why(t)[0]);
	tls_flow_free(t);
	tls_keylog_free(&kl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_keylog kl;
	struct tls_hello h;
	char err[200];

	if (size < 1)
		return 0;
	if (data[0] == 0) {
		int r = tls_keylog_parse((const char *)data + 1, size - 1, &kl, err, sizeof(err));
		assert(r == 0 || err[0]);
		if (r == 0) {
			assert(kl.n > 0);
			assert(tls_keylog_find(&kl, kl.e[kl.n - 1].random) != NULL);
			tls_keylog_free(&kl);
		}
	} else if (data[0] == 1) {
		tls_client_hello(data + 1, size - 1, &h);
		tls_server_hello(data + 1, size - 1, &h);
		struct tls_rec r;
		tls_rec_head(data + 1, size - 1, &r);
		tls_starts_client_hello(data + 1, size - 1);
	} else {
		as_flow(data + 1, size - 1, data[0]);
	}
	return 0;
}

#include "replay.h"
