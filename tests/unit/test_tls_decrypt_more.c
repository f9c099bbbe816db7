/* Decrypting a capture's TLS under the suites beyond GCM and ChaCha20
 * (test_tls_decrypt.c has those): records sealed here (tests/tls_seal.h)
 * under TLS 1.3 AES-128-CCM and CCM-8 (a handshake record under the
 * handshake key, then data under the application key), TLS 1.2 AES-CCM
 * and CCM-8, and TLS 1.2 AES-CBC with HMAC-SHA1, -SHA256 and -SHA384, MAC
 * then encrypt and encrypt then MAC (the ServerHello's extension says):
 * each opens to its plaintext. Spoiled records fail the flow with the
 * check that caught them: a MAC under another key, padding bytes that
 * disagree, a record one byte short, a changed tag, a record shorter than
 * its tag; and a TLS 1.1 ServerHello is refused by name. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "witness/tls_decrypt.h"
#include "witness/tls_keys.h"
#include "t.h"
#include "tls_seal.h"

#define RANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
#define MASTER                                                             \
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" \
	"2122232425262728292a2b2c2d2e2f30"
#define S_HS "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
#define S_AP "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"

static const char keylog[] =
	"SERVER_HANDSHAKE_TRAFFIC_SECRET " RANDOM " " S_HS "\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM " " S_HS "\n"
	"SERVER_TRAFFIC_SECRET_0 " RANDOM " " S_AP "\n"
	"CLIENT_TRAFFIC_SECRET_0 " RANDOM " " S_AP "\n"
	"RSA 0011223344556677 " MASTER "\n"
	"CLIENT_RANDOM " RANDOM " " MASTER "\n";

static const uint8_t server_random[32] = { 0xa6, 0xaf, 0x06, 0xa4, 0x12, 0x18, 0x60, 0xdc };

struct sink {
	uint8_t buf[256];
	size_t n;
};

static void sink(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	struct sink *s = ctx;

	(void)ts;
	if (s->n + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->n, p, n);
		s->n += n;
	}
}

static void unhex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* A handshake record with one hello: version, random, no session id, tail. */
static size_t hello(uint8_t *out, uint8_t type, uint16_t version, const uint8_t *random,
		    const uint8_t *tail, size_t tail_len)
{
	size_t body = 2 + 32 + 1 + tail_len;

	seal_header(out, 22, body + 4);
	out[5] = type;
	out[6] = 0;
	out[7] = (uint8_t)(body >> 8);
	out[8] = (uint8_t)body;
	out[9] = (uint8_t)(version >> 8);
	out[10] = (uint8_t)version;
	memcpy(out + 11, random, 32);
	out[43] = 0;
	memcpy(out + 44, tail, tail_len);
	return 44 + tail_len;
}

enum spoil { SP_NONE, SP_MAC_KEY, SP_PAD, SP_CUT, SP_TAG, SP_SHORT };

/* A flow under suite id: hellos, the server's Finished, then one data
 * record spoiled as asked. NULL why: it must open to "PUBACK". */
static void flow(uint16_t id, bool etm, enum spoil sp, const char *why)
{
	static const uint8_t data[] = "\x40\x02\x00\x07 PUBACK and more bytes than a block";
	const struct tls_suite *s = tls_suite_find(id);
	struct tls_keylog kl;
	struct tls_traffic_key ck, sk, hs;
	struct seal_opts o = { .etm = etm };
	struct sink out = { .n = 0 };
	uint8_t rnd[32], m[48], rec[1024], sec[32];
	char err[200];

	CHECK(s != NULL);
	if (!s)
		return;
	o.tls13 = s->tls13;
	CHECK_EQ_INT(tls_keylog_parse(keylog, sizeof(keylog) - 1, &kl, err, sizeof(err)), 0);
	unhex(RANDOM, rnd);
	struct tls_flow *t = tls_flow_new(&kl);
	uint8_t ch[] = { 0, 2, (uint8_t)(id >> 8), (uint8_t)id, 1, 0 };
	tls_flow_feed(t, 1, rec, hello(rec, 1, 0x0303, rnd, ch, sizeof(ch)), 0, sink, &out);
	uint64_t seq = 0;
	if (s->tls13) {
		uint8_t sh[] = { (uint8_t)(id >> 8), (uint8_t)id, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4 };
		tls_flow_feed(t, 0, rec, hello(rec, 2, 0x0303, server_random, sh, sizeof(sh)), 0,
			      sink, &out);
		unhex(S_HS, sec);
		CHECK_EQ_INT(tls13_traffic_key(s, sec, 32, &hs), 0);
		unhex(S_AP, sec);
		CHECK_EQ_INT(tls13_traffic_key(s, sec, 32, &sk), 0);
		uint8_t fin[36] = { 20, 0, 0, 32 };
		size_t n = seal_record(s, &hs, &o, 0, 22, fin, sizeof(fin), rec);
		tls_flow_feed(t, 0, rec, n, 0, sink, &out);
	} else {
		uint8_t sh[] = { (uint8_t)(id >> 8), (uint8_t)id, 0, 0, 4, 0, 22, 0, 0 };
		tls_flow_feed(t, 0, rec, hello(rec, 2, 0x0303, server_random, sh, etm ? 9 : 3), 0,
			      sink, &out);
		unhex(MASTER, m);
		CHECK_EQ_INT(tls12_key_block(s, m, 48, rnd, server_random, &ck, &sk), 0);
		static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 }, fin[16] = { 20, 0, 0, 12 };
		tls_flow_feed(t, 0, ccs, sizeof(ccs), 0, sink, &out);
		size_t n = seal_record(s, &sk, &o, seq++, 22, fin, sizeof(fin), rec);
		tls_flow_feed(t, 0, rec, n, 0, sink, &out);
	}
	CHECK_EQ_INT(tls_flow_outcome(t), TLS_DECRYPTED);
	struct tls_traffic_key k = sk;
	if (sp == SP_MAC_KEY)
		k.mac[0] ^= 1;
	o.bad_pad = sp == SP_PAD;
	o.extra_blocks = 2;
	size_t n = seal_record(s, &k, &o, seq, 23, data, sizeof(data) - 1, rec);
	if (sp == SP_TAG)
		rec[n - 1] ^= 0x80;
	if (sp == SP_CUT || sp == SP_SHORT) {
		n = sp == SP_CUT ? n - 1 : (size_t)s->tag_len + 4;
		seal_header(rec, rec[0], n - 5);
	}
	tls_flow_feed(t, 0, rec, n, 0, sink, &out);
	if (!why) {
		CHECK_EQ_INT(tls_flow_outcome(t), TLS_DECRYPTED);
		CHECK_MEM(out.buf, out.n, data, sizeof(data) - 1);
		CHECK_EQ_INT(tls_flow_records(t), 2);
	} else {
		CHECK_EQ_INT(tls_flow_outcome(t), TLS_FAILED);
		CHECK(strstr(tls_flow_why(t), why) != NULL);
		if (!strstr(tls_flow_why(t), why))
			fprintf(stderr, "suite %04x etm %d spoil %d: \"%s\", want \"%s\"\n", id, etm,
				sp, tls_flow_why(t), why);
		CHECK_EQ_INT(out.n, 0);
	}
	tls_flow_free(t);
	tls_keylog_free(&kl);
}

/* A TLS 1.1 ServerHello: the suite is known, the PRF is not TLS 1.2's. */
static void old_version(void)
{
	struct tls_keylog kl;
	struct sink out = { .n = 0 };
	uint8_t rnd[32], rec[256];
	char err[200];

	CHECK_EQ_INT(tls_keylog_parse(keylog, sizeof(keylog) - 1, &kl, err, sizeof(err)), 0);
	unhex(RANDOM, rnd);
	struct tls_flow *t = tls_flow_new(&kl);
	uint8_t ch[] = { 0, 2, 0xc0, 0x13, 1, 0 }, sh[] = { 0xc0, 0x13, 0 };
	tls_flow_feed(t, 1, rec, hello(rec, 1, 0x0302, rnd, ch, sizeof(ch)), 0, sink, &out);
	tls_flow_feed(t, 0, rec, hello(rec, 2, 0x0302, server_random, sh, sizeof(sh)), 0, sink,
		      &out);
	CHECK_EQ_INT(tls_flow_outcome(t), TLS_FAILED);
	CHECK(strstr(tls_flow_why(t), "it is TLS 0x0302: blast decrypts TLS 1.2 and 1.3") != NULL);
	tls_flow_free(t);
	tls_keylog_free(&kl);
}

int main(void)
{
	static const uint16_t aead[] = { 0x1304, 0x1305, 0xc09c, 0xc0a0, 0xc0ac, 0xc0ae, 0xc09d };
	static const uint16_t cbc[] = { 0xc013, 0x002f, 0x003c, 0xc028, 0xc024, 0x0035 };

	for (size_t i = 0; i < ARRAY_SIZE(aead); i++) {
		flow(aead[i], false, SP_NONE, NULL);
		flow(aead[i], false, SP_TAG, "its tag does not match");
		flow(aead[i], false, SP_CUT, "its tag does not match");
		flow(aead[i], false, SP_SHORT, "it is shorter than its tag");
	}
	for (size_t i = 0; i < ARRAY_SIZE(cbc); i++) {
		for (int etm = 0; etm < 2; etm++) {
			flow(cbc[i], etm, SP_NONE, NULL);
			flow(cbc[i], etm, SP_MAC_KEY, "its MAC does not match");
			flow(cbc[i], etm, SP_PAD, "its padding is bad");
			flow(cbc[i], etm, SP_CUT, "its length is not an IV, whole blocks and a MAC");
		}
	}
	old_version();
	return t_done("test_tls_decrypt_more");
}
