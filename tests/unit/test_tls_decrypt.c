/* Decrypting a capture's TLS: the TLS 1.3 key schedule against RFC 8448's
 * simple 1-RTT handshake (section 3: each traffic secret's key and IV, and
 * the client's Finished and application data records opened through a
 * flow fed a ClientHello and ServerHello with that trace's randoms and
 * suite, whole and one byte at a time, after a HelloRetryRequest, without
 * the handshake secrets, then a KeyUpdate and data under the next
 * secret); TLS 1.2's PRF against the SHA-256
 * vector published for the IETF TLS working group, and a TLS 1.2 GCM and
 * ChaCha20 flow sealed here with OpenSSL and opened by the flow; the key
 * log reader's good and bad lines; a TLS 1.2 MQTT connection through the
 * capture matcher, with its key, without one, and with a segment lost. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "encoders/pcapfile.h"
#include "witness/analyze.h"
#include "witness/tls_decrypt.h"
#include "witness/tls_keys.h"
#include "witness/wire_match.h"
#include "pcap_build.h"
#include "t.h"

/* "a1 b2 ..." (spaces anywhere) into bytes: the count. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

/* RFC 8448 section 3. */
#define CLIENT_RANDOM "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7"
#define SERVER_RANDOM "a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28"
#define C_HS "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21"
#define S_HS "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38"
#define C_AP "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5"
#define S_AP "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43"
#define C_FINISHED_REC                                                                          \
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a " \
	"4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46"
#define C_APP_REC                                                                               \
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc " \
	"ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd " \
	"1e 3d ea e6 3a ee bb 21 69 49 15 e4"

static void check_key(const char *secret, const char *key, const char *iv)
{
	const struct tls_suite *s = tls_suite_find(0x1301);
	uint8_t sec[48], want_key[16], want_iv[12];
	struct tls_traffic_key k;
	size_t n = unhex(secret, sec);

	unhex(key, want_key);
	unhex(iv, want_iv);
	CHECK(s && s->tls13);
	CHECK_EQ_INT(tls13_traffic_key(s, sec, n, &k), 0);
	CHECK_MEM(k.key, 16, want_key, 16);
	CHECK_MEM(k.iv, 12, want_iv, 12);
}

static void test_rfc8448_keys(void)
{
	check_key(S_HS, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc",
		  "5d 31 3e b2 67 12 76 ee 13 00 0b 30");
	check_key(C_HS, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01",
		  "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f");
	check_key(S_AP, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56",
		  "cf 78 2b 88 dd 83 54 9a ad f1 e9 84");
	check_key(C_AP, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51",
		  "5b 78 92 3d ee 08 57 90 33 e5 23 d9");
	/* The "finished" label of the same expansion (RFC 8448: server finished key). */
	uint8_t sec[32], got[32], want[32];
	unhex(S_HS, sec);
	unhex("00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd"
	      " c1 9f c8", want);
	CHECK_EQ_INT(tls13_expand_label(EVP_sha256(), sec, 32, "finished", NULL, 0, got, 32), 0);
	CHECK_MEM(got, 32, want, 32);
}

/* What a flow handed on, in one buffer. */
struct sink {
	uint8_t buf[4096];
	size_t n;
	unsigned calls;
};

static void sink(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	struct sink *s = ctx;

	(void)ts;
	if (s->n + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->n, p, n);
		s->n += n;
	}
	s->calls++;
}

/* A handshake record holding one hello: version, random, empty session
 * id, then the rest as given. */
static size_t hello_record(uint8_t *out, uint8_t type, const char *random, const char *rest)
{
	uint8_t body[256];
	size_t n = 0;

	body[n++] = 3;
	body[n++] = 3;
	n += unhex(random, body + n);
	body[n++] = 0;
	n += unhex(rest, body + n);
	out[0] = 22;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)((n + 4) >> 8);
	out[4] = (uint8_t)(n + 4);
	out[5] = type;
	out[6] = 0;
	out[7] = (uint8_t)(n >> 8);
	out[8] = (uint8_t)n;
	memcpy(out + 9, body, n);
	return n + 9;
}

static void feed(struct tls_flow *t, int client, const uint8_t *p, size_t n, bool bytewise,
		 struct sink *s)
{
	if (!bytewise) {
		tls_flow_feed(t, client, p, n, 1, sink, s);
		return;
	}
	for (size_t i = 0; i < n; i++)
		tls_flow_feed(t, client, p + i, 1, 1, sink, s);
}

/* A TLS 1.3 record sealed as a peer would (RFC 8446 5.2): the inner
 * plaintext is the content, its type and one byte of padding. */
static size_t seal13(const uint8_t *secret, uint64_t seq, uint8_t type, const uint8_t *pt,
		     size_t n, uint8_t *out)
{
	const struct tls_suite *s = tls_suite_find(0x1301);
	struct tls_traffic_key k;
	uint8_t nonce[12], inner[256];
	size_t len = n + 2 + 16;
	int ol;

	tls13_traffic_key(s, secret, 32, &k);
	memcpy(nonce, k.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
	memcpy(inner, pt, n);
	inner[n] = type;
	inner[n + 1] = 0;
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, s->cipher(), NULL, k.key, nonce);
	EVP_EncryptUpdate(c, NULL, &ol, out, 5);
	EVP_EncryptUpdate(c, out + 5, &ol, inner, (int)n + 2);
	EVP_EncryptFinal_ex(c, out + 5 + n + 2, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + n + 2);
	EVP_CIPHER_CTX_free(c);
	return 5 + len;
}

enum {
	F_BYTEWISE = 1, /* fed one byte at a time */
	F_TAMPER = 2,   /* the application record's ciphertext changed */
	F_HRR = 4,      /* a HelloRetryRequest and a second ClientHello first */
	F_NO_HS = 8,    /* the key log lacks the handshake secrets */
};

static void test_rfc8448_flow(unsigned flags)
{
	char log[1024];
	struct tls_keylog kl;
	char err[200];
	uint8_t rec[512], want[50];
	struct sink s = { .n = 0 };
	bool bytewise = flags & F_BYTEWISE, tamper = flags & F_TAMPER;
	int at = 0;

	if (!(flags & F_NO_HS))
		at = snprintf(log, sizeof(log),
			      "# RFC 8448\nCLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"
			      "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n",
			      "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
			      "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
			      "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
			      "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
	snprintf(log + at, sizeof(log) - (size_t)at,
		 "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
		 "SERVER_TRAFFIC_SECRET_0 %s %s\nEXPORTER_SECRET %s %s\n",
		 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
		 "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
		 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
		 "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
		 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
		 "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
	CHECK_EQ_INT(tls_keylog_parse(log, strlen(log), &kl, err, sizeof(err)), 0);
	CHECK_EQ_INT(kl.n, 1);
	struct tls_flow *t = tls_flow_new(&kl);
	CHECK(t != NULL);
	/* suites: TLS_AES_128_GCM_SHA256; no compression; no extensions */
	size_t n = hello_record(rec, 1, CLIENT_RANDOM, "00 02 13 01 01 00");
	feed(t, 1, rec, n, bytewise, &s);
	if (flags & F_HRR) { /* the HelloRetryRequest's random, then the ClientHello again */
		n = hello_record(rec, 2, "cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16"
				 " 7a bb 8c 5e 07 9e 09 e2 c8 a8 33 9c", "13 01 00 00 06 00 2b 00 02 03 04");
		feed(t, 0, rec, n, bytewise, &s);
		n = hello_record(rec, 1, CLIENT_RANDOM, "00 02 13 01 01 00");
		feed(t, 1, rec, n, bytewise, &s);
	}
	/* suite 13 01, compression 0, supported_versions 03 04 */
	n = hello_record(rec, 2, SERVER_RANDOM, "13 01 00 00 06 00 2b 00 02 03 04");
	feed(t, 0, rec, n, bytewise, &s);
	n = unhex(C_FINISHED_REC, rec);
	feed(t, 1, rec, n, bytewise, &s);
	CHECK_EQ_INT(s.n, 0); /* a handshake record hands nothing on */
	n = unhex(C_APP_REC, rec);
	if (tamper)
		rec[20] ^= 1;
	feed(t, 1, rec, n, bytewise, &s);
	for (int i = 0; i < 50; i++)
		want[i] = (uint8_t)i;
	if (tamper) {
		CHECK_EQ_INT(tls_flow_outcome(t), TLS_FAILED);
		CHECK(strstr(tls_flow_why(t), "does not decrypt") != NULL);
		CHECK_EQ_INT(s.n, 0);
	} else {
		CHECK_EQ_INT(tls_flow_outcome(t), TLS_DECRYPTED);
		CHECK_MEM(s.buf, s.n, want, 50);
		/* Without its key the Finished is passed over, not opened. */
		CHECK_EQ_INT(tls_flow_records(t), flags & F_NO_HS ? 1 : 2);
		/* A KeyUpdate (record 1 under the first secret), then data under
		 * the next secret from sequence number 0. */
		static const uint8_t key_update[5] = { 24, 0, 0, 1, 0 }, after[3] = { 0xd0, 0, 0x42 };
		uint8_t sec[32];
		unhex(C_AP, sec);
		n = seal13(sec, 1, 22, key_update, sizeof(key_update), rec);
		CHECK_EQ_INT(tls13_next_secret(tls_suite_find(0x1301), sec, 32), 0);
		n += seal13(sec, 0, 23, after, sizeof(after), rec + n);
		feed(t, 1, rec, n, bytewise, &s);
		CHECK_EQ_INT(tls_flow_outcome(t), TLS_DECRYPTED);
		CHECK_MEM(s.buf + 50, s.n - 50, after, sizeof(after));
	}
	tls_flow_free(t);
	tls_keylog_free(&kl);
}

static void test_tls12_prf(void)
{
	uint8_t secret[16], seed[16], want[100], got[100];

	unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35", secret);
	unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c", seed);
	unhex("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4"
	      " e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17"
	      " ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1"
	      " 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66", want);
	CHECK_EQ_INT(tls12_prf(EVP_sha256(), secret, 16, "test label", seed, 16, got, 100), 0);
	CHECK_MEM(got, 100, want, 100);
}

/* A TLS 1.2 record sealed as a server would (RFC 5246 6.2.3.3, RFC 7905). */
static size_t seal12(const struct tls_suite *s, const struct tls_traffic_key *k, uint64_t seq,
		     uint8_t type, const uint8_t *pt, size_t n, uint8_t *out)
{
	uint8_t nonce[12], aad[13];
	size_t ex = s->explicit_nonce ? 8 : 0;
	int ol;

	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(seq >> (56 - 8 * i));
		if (ex)
			nonce[4 + i] = b;
		else
			nonce[4 + i] ^= b;
		aad[i] = b;
	}
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(n >> 8);
	aad[12] = (uint8_t)n;
	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)((ex + n + 16) >> 8);
	out[4] = (uint8_t)(ex + n + 16);
	memcpy(out + 5, nonce + 4, ex);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, s->cipher(), NULL, k->key, nonce);
	EVP_EncryptUpdate(c, NULL, &ol, aad, 13);
	EVP_EncryptUpdate(c, out + 5 + ex, &ol, pt, (int)n);
	EVP_EncryptFinal_ex(c, out + 5 + ex + n, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + ex + n);
	EVP_CIPHER_CTX_free(c);
	return 5 + ex + n + 16;
}

static void test_tls12_flow(uint16_t suite_id, const char *suite_hex)
{
	const char *master = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
			     "2122232425262728292a2b2c2d2e2f30";
	char log[300], err[200], rest[64];
	uint8_t cr[32], sr[32], m[48], rec[256];
	struct tls_keylog kl;
	struct tls_traffic_key ck, sk;
	struct sink s = { .n = 0 };
	const struct tls_suite *suite = tls_suite_find(suite_id);

	CHECK(suite && !suite->tls13);
	snprintf(log, sizeof(log), "CLIENT_RANDOM %s %s\n",
		 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7", master);
	CHECK_EQ_INT(tls_keylog_parse(log, strlen(log), &kl, err, sizeof(err)), 0);
	unhex(CLIENT_RANDOM, cr);
	unhex(SERVER_RANDOM, sr);
	unhex(master, m);
	CHECK_EQ_INT(tls12_key_block(suite, m, 48, cr, sr, &ck, &sk), 0);
	struct tls_flow *t = tls_flow_new(&kl);
	snprintf(rest, sizeof(rest), "00 02 %s 01 00", suite_hex);
	size_t n = hello_record(rec, 1, CLIENT_RANDOM, rest);
	tls_flow_feed(t, 1, rec, n, 1, sink, &s);
	snprintf(rest, sizeof(rest), "%s 00", suite_hex); /* no extensions */
	n = hello_record(rec, 2, SERVER_RANDOM, rest);
	tls_flow_feed(t, 0, rec, n, 1, sink, &s);
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	static const uint8_t fin[16] = { 20, 0, 0, 12 }, puback[4] = { 0x40, 2, 0, 7 };
	tls_flow_feed(t, 0, ccs, sizeof(ccs), 1, sink, &s);
	n = seal12(suite, &sk, 0, 22, fin, sizeof(fin), rec);
	n += seal12(suite, &sk, 1, 23, puback, sizeof(puback), rec + n);
	tls_flow_feed(t, 0, rec, n, 1, sink, &s);
	CHECK_EQ_INT(tls_flow_outcome(t), TLS_DECRYPTED);
	CHECK_MEM(s.buf, s.n, puback, sizeof(puback));
	/* The same record again is out of sequence: it must not open. */
	n = seal12(suite, &sk, 1, 23, puback, sizeof(puback), rec);
	tls_flow_feed(t, 0, rec, n, 1, sink, &s);
	CHECK_EQ_INT(tls_flow_outcome(t), TLS_FAILED);
	tls_flow_free(t);
	tls_keylog_free(&kl);
}

/* One packet of 10.0.0.S:sport -> 10.0.0.D:dport into the matcher. */
static void wm_feed(struct wm *m, bool from_client, uint32_t seq, uint8_t flags, const void *pl,
		    size_t len)
{
	static uint8_t pkt[2048];
	static uint64_t ts = 1000;
	struct pcap_pkt p = { .linktype = LINKTYPE_RAW, .data = pkt, .ts_ns = ts += 1000 };

	p.caplen = p.wirelen = from_client ? ip4_tcp(pkt, 1, 2, 40000, 8883, seq, flags, pl, len)
					   : ip4_tcp(pkt, 2, 1, 8883, 40000, seq, flags, pl, len);
	wm_packet(m, &p);
}

/* A TLS 1.2 MQTT connection through the capture matcher: hellos, each
 * side's ChangeCipherSpec and Finished, a CONNECT and a QoS 1 PUBLISH in
 * one record split over two segments, CONNACK and PUBACK. With the key
 * log: one request, one ack, the flow decrypted. Without: the flow named
 * as encrypted. With the server's Finished segment lost: failed. */
static void test_capture_flow(int mode)
{
	const char *master = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
			     "2122232425262728292a2b2c2d2e2f30";
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 }, fin[16] = { 20, 0, 0, 12 };
	static const uint8_t connect_publish[] = { 0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0,
						   0, 0x32, 6, 0, 1, 't', 0, 7, 'x' };
	static const uint8_t connack_puback[] = { 0x20, 2, 0, 0, 0x40, 2, 0, 7 };
	const struct tls_suite *suite = tls_suite_find(0xc02f);
	char log[300], err[200];
	uint8_t m48[48], cr[32], sr[32], rec[512];
	struct tls_keylog kl;
	struct tls_traffic_key ck, sk;
	uint32_t cs = 1000, ss = 5000;

	snprintf(log, sizeof(log), "CLIENT_RANDOM %s %s\n",
		 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7", master);
	CHECK_EQ_INT(tls_keylog_parse(log, strlen(log), &kl, err, sizeof(err)), 0);
	unhex(CLIENT_RANDOM, cr);
	unhex(SERVER_RANDOM, sr);
	unhex(master, m48);
	tls12_key_block(suite, m48, 48, cr, sr, &ck, &sk);
	struct wm_opts o = { .proto = WM_AUTO, .keylog = mode == 1 ? NULL : &kl };
	struct wm *m = wm_new(&o);
	wm_feed(m, true, cs - 1, TCP_SYN, NULL, 0);
	wm_feed(m, false, ss - 1, TCP_SYN | TCP_ACK, NULL, 0);
	size_t n = hello_record(rec, 1, CLIENT_RANDOM, "00 02 c0 2f 01 00");
	wm_feed(m, true, cs, TCP_ACK, rec, n);
	cs += (uint32_t)n;
	n = hello_record(rec, 2, SERVER_RANDOM, "c0 2f 00");
	memcpy(rec + n, ccs, sizeof(ccs));
	n += sizeof(ccs);
	n += seal12(suite, &sk, 0, 22, fin, sizeof(fin), rec + n);
	if (mode != 2) /* mode 2: the capture lost this segment */
		wm_feed(m, false, ss, TCP_ACK, rec, n);
	ss += (uint32_t)n;
	memcpy(rec, ccs, sizeof(ccs));
	n = sizeof(ccs);
	n += seal12(suite, &ck, 0, 22, fin, sizeof(fin), rec + n);
	n += seal12(suite, &ck, 1, 23, connect_publish, sizeof(connect_publish), rec + n);
	wm_feed(m, true, cs, TCP_ACK, rec, n - 20);
	wm_feed(m, true, cs + (uint32_t)n - 20, TCP_ACK, rec + n - 20, 20);
	cs += (uint32_t)n;
	n = seal12(suite, &sk, 1, 23, connack_puback, sizeof(connack_puback), rec);
	wm_feed(m, false, ss, TCP_ACK, rec, n);
	struct wire_stats s;
	struct wm_counts c;
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.tls_flows, 1);
	CHECK_EQ_INT(s.requests, mode == 0 ? 1 : 0);
	CHECK_EQ_INT(s.acks, mode == 0 ? 1 : 0);
	CHECK_EQ_INT(s.tls_decrypted, mode == 0);
	CHECK_EQ_INT(s.tls_no_key, mode == 1);
	CHECK_EQ_INT(s.tls_failed, mode == 2);
	struct analyze_warnings w;
	analyze_warnings(&s, &c, &o, &w);
	if (mode == 0)
		CHECK_EQ_INT(w.n, 0);
	if (mode == 1)
		CHECK(w.n == 1 && w.kind[0] == AW_TLS_NO_KEY &&
		      strstr(w.line[0], "1 flow is TLS-encrypted and not read: 10.0.0.1:40000 -> "
					"10.0.0.2:8883; give --keylog") != NULL);
	if (mode == 2) /* the hole before the server's next segment is a gap too */
		CHECK(w.n >= 1 && w.kind[w.n - 1] == AW_TLS_FAILED &&
		      strstr(w.line[w.n - 1], "1 TLS flow could not be decrypted: 10.0.0.1:40000 -> "
					      "10.0.0.2:8883 (the capture misses bytes the server sent)"));
	wm_free(m);
	tls_keylog_free(&kl);
}

static void test_keylog_lines(void)
{
	struct tls_keylog kl;
	char err[200];
	const char *bad[] = {
		"hello world\n",
		"CLIENT_RANDOM 0011 2233\n",
		"CLIENT_RANDOM cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 zz\n",
		"CLIENT_RANDOM cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ_INT(tls_keylog_parse(bad[i], strlen(bad[i]), &kl, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "line 1 is not a key log line") != NULL);
	}
	CHECK_EQ_INT(tls_keylog_parse("# nothing\n\n", 11, &kl, err, sizeof(err)), -ENODATA);
	const char *other = "EXPORTER_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
			    "6283024dece7 00112233445566778899aabbccddeeff\n";
	CHECK_EQ_INT(tls_keylog_parse(other, strlen(other), &kl, err, sizeof(err)), -ENODATA);
	uint8_t r[32] = { 0 };
	CHECK(tls_keylog_find(NULL, r) == NULL);
}

int main(void)
{
	test_rfc8448_keys();
	test_rfc8448_flow(0);
	test_rfc8448_flow(F_BYTEWISE);
	test_rfc8448_flow(F_TAMPER);
	test_rfc8448_flow(F_HRR);
	test_rfc8448_flow(F_NO_HS | F_BYTEWISE);
	test_tls12_prf();
	test_tls12_flow(0xc02f, "c0 2f");
	test_tls12_flow(0xc030, "c0 30");
	test_tls12_flow(0xcca8, "cc a8");
	test_keylog_lines();
	for (int mode = 0; mode < 3; mode++)
		test_capture_flow(mode);
	return t_done("test_tls_decrypt");
}
