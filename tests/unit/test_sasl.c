/* SASL for Kafka: SCRAM against RFC 7677's SCRAM-SHA-256 example and RFC
 * 5802's SCRAM-SHA-1 example, message for message; SCRAM-SHA-512 on the
 * same inputs against figures from Python's hashlib/hmac (which gives
 * RFC 7677's figures for SHA-256); a server signature that does not
 * verify, e=, a nonce the server did not extend, malformed server-first
 * messages; PLAIN's message; and the SaslHandshake / SaslAuthenticate
 * requests and responses byte for byte. */
#include <errno.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/sasl.h"
#include "t.h"

#define SF256 "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"

static void exchange(enum sasl_mech m, const char *nonce, const char *first, const char *sfirst,
		     const char *final, const char *sfinal)
{
	struct sasl_client s;
	uint8_t out[1024];
	ssize_t n;

	CHECK_EQ_INT(sasl_exchange_init(&s, m, "user", "pencil", nonce), 0);
	n = sasl_exchange_first(&s, out, sizeof(out));
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, first, strlen(first));
	n = sasl_exchange_step(&s, (const uint8_t *)sfirst, strlen(sfirst), out, sizeof(out));
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, final, strlen(final));
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)sfinal, strlen(sfinal), out, sizeof(out)),
		     0);
	CHECK_EQ_INT(s.step, SASL_DONE);
}

/* RFC 7677's exchange with a cache: the first derives the key and keeps
 * it, the second uses it (a cache holding its key for another salt is
 * derived anew). Same messages every time. */
static void test_cache(void)
{
	struct scram_cache cache = { 0 };
	const char *final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

	for (int round = 0; round < 3; round++) {
		struct sasl_client s;
		uint8_t out[512];
		if (round == 2)
			cache.salt[0] ^= 1; /* kept for another salt */
		sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
		s.cache = &cache;
		sasl_exchange_first(&s, out, sizeof(out));
		ssize_t n = sasl_exchange_step(&s, (const uint8_t *)SF256, strlen(SF256), out, sizeof(out));
		CHECK_MEM(out, n > 0 ? (size_t)n : 0, final, strlen(final));
		CHECK(cache.valid && cache.iterations == 4096 && cache.salt_len == 16);
	}
	/* A poisoned key with the right salt shows it is used, not re-derived. */
	struct sasl_client s;
	uint8_t out[512];
	cache.salted[0] ^= 1;
	sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
	s.cache = &cache;
	sasl_exchange_first(&s, out, sizeof(out));
	ssize_t n = sasl_exchange_step(&s, (const uint8_t *)SF256, strlen(SF256), out, sizeof(out));
	CHECK(n > 0 && ((size_t)n != strlen(final) || memcmp(out, final, (size_t)n)));
}

static void test_vectors(void)
{
	/* RFC 7677 section 3. */
	exchange(SASL_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", SF256,
		 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		 "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	/* RFC 5802 section 5. */
	exchange(SASL_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		 "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		 "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	/* RFC 7677's inputs with SHA-512 (Python hashlib). */
	exchange(SASL_SCRAM_SHA_512, "rOprNGfwEbeRWgbNEkqO", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", SF256,
		 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		 "p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
		 "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==");
}

/* A client past the server-first message of RFC 7677's exchange. */
static void past_first(struct sasl_client *s)
{
	uint8_t out[1024];

	sasl_exchange_init(s, SASL_SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
	sasl_exchange_first(s, out, sizeof(out));
	CHECK(sasl_exchange_step(s, (const uint8_t *)SF256, strlen(SF256), out, sizeof(out)) > 0);
}

static void test_server_final_refused(void)
{
	struct sasl_client s;
	uint8_t out[64];
	/* One bit off in the signature: an impostor (or a wrong password). */
	const char *bad = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=";
	const char *e = "e=invalid-proof";

	past_first(&s);
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)bad, strlen(bad), out, sizeof(out)), -EACCES);
	CHECK(strstr(s.err, "does not verify") != NULL);
	CHECK_EQ_INT(s.step, SASL_FAILED);
	past_first(&s);
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)e, strlen(e), out, sizeof(out)), -EACCES);
	CHECK(strstr(s.err, "invalid-proof") != NULL);
	past_first(&s);
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)"v=", 2, out, sizeof(out)), -EACCES);
	past_first(&s);
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)"x", 1, out, sizeof(out)), -EPROTO);
}

static void bad_first(const char *sfirst, const char *words)
{
	struct sasl_client s;
	uint8_t out[1024];

	sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "user", "pencil", "abc");
	sasl_exchange_first(&s, out, sizeof(out));
	CHECK_EQ_INT(sasl_exchange_step(&s, (const uint8_t *)sfirst, strlen(sfirst), out, sizeof(out)),
		     -EPROTO);
	if (!strstr(s.err, words)) {
		CHECK(!"error words");
		fprintf(stderr, "  %s: got %s\n", sfirst, s.err);
	}
}

static void test_server_first_bad(void)
{
	bad_first("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096x", "not a number");
	bad_first("r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096", "does not extend");
	bad_first("r=abc,s=QSXCR+Q6sek8bf92,i=4096", "does not extend");
	bad_first("r=abcdef,s=QSXCR+Q6sek8bf9,i=4096", "not base64");
	bad_first("r=abcdef,s=,i=4096", "not base64");
	bad_first("r=abcdef,i=4096", "no salt");
	bad_first("r=abcdef,s=QSXCR+Q6sek8bf92", "no iteration");
	bad_first("r=abcdef,s=QSXCR+Q6sek8bf92,i=0", "out of");
	bad_first("r=abcdef,s=QSXCR+Q6sek8bf92,i=999999999", "out of");
	bad_first("m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=1", "extension");
	bad_first("e=other-error", "error");
	bad_first("", "no nonce");
	/* Extensions after i= are let go. */
	struct scram_server_first f;
	const char *ok = "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=later";
	CHECK_EQ_INT(scram_parse_server_first(ok, strlen(ok), &f, NULL, 0), 0);
	CHECK_EQ_INT(f.iterations, 4096);
	CHECK_EQ_INT(f.salt_len, 12);
}

static void test_names_and_plain(void)
{
	struct sasl_client s;
	uint8_t out[64];
	ssize_t n;

	/* saslname: ',' and '=' escaped (RFC 5802 5.1). */
	sasl_exchange_init(&s, SASL_SCRAM_SHA_512, "a,b=c", "p", "N");
	n = sasl_exchange_first(&s, out, sizeof(out));
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, "n,,n=a=2Cb=3Dc,r=N", 18);
	CHECK_EQ_INT(sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "u", "p", "a,b"), -EINVAL);
	CHECK_EQ_INT(sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "u", "p", ""), -EINVAL);
	/* PLAIN: NUL user NUL password (RFC 4616), done on the broker's yes. */
	CHECK_EQ_INT(sasl_exchange_init(&s, SASL_PLAIN, "alice", "s3cret", NULL), 0);
	n = sasl_exchange_first(&s, out, sizeof(out));
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, "\0alice\0s3cret", 13);
	CHECK_EQ_INT(sasl_exchange_step(&s, NULL, 0, out, sizeof(out)), 0);
	CHECK_EQ_INT(s.step, SASL_DONE);
	CHECK(!strcmp(sasl_exchange_mech_name(SASL_SCRAM_SHA_512), "SCRAM-SHA-512"));
}

static void test_kafka_requests(void)
{
	uint8_t out[128];
	/* Size 23, key 17, v1, corr 7, client "blast", "PLAIN". */
	static const uint8_t hs[] = { 0, 0, 0, 22, 0, 17, 0, 1, 0, 0, 0, 7, 0, 5, 'b', 'l', 'a', 's',
				      't', 0, 5, 'P', 'L', 'A', 'I', 'N' };
	ssize_t n = kafka_encode_sasl_handshake(out, sizeof(out), 7, "blast", "PLAIN");
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, hs, sizeof(hs));
	/* SaslAuthenticate v1: key 36, bytes "ab". */
	static const uint8_t au[] = { 0, 0, 0, 21, 0, 36, 0, 1, 0, 0, 0, 8, 0, 5, 'b', 'l',
				      'a', 's', 't', 0, 0, 0, 2, 'a', 'b' };
	n = kafka_encode_sasl_authenticate(out, sizeof(out), 1, 8, "blast", (const uint8_t *)"ab", 2);
	CHECK_MEM(out, n > 0 ? (size_t)n : 0, au, sizeof(au));
	CHECK_EQ_INT(kafka_encode_sasl_authenticate(out, sizeof(out), 2, 8, "blast", out, 0), -EINVAL);
	CHECK_EQ_INT(kafka_encode_sasl_handshake(out, 10, 7, "blast", "PLAIN"), -ENOSPC);
}

static void test_kafka_responses(void)
{
	char mechs[64];
	int16_t err = 0;
	/* UNSUPPORTED_SASL_MECHANISM, offering PLAIN and SCRAM-SHA-512. */
	static const uint8_t hs[] = { 0, 33, 0, 0, 0, 2, 0, 5, 'P', 'L', 'A', 'I', 'N', 0, 13,
				      'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', 'A', '-', '5', '1', '2' };
	CHECK_EQ_INT(kafka_parse_sasl_handshake(hs, sizeof(hs), &err, mechs, sizeof(mechs)), 0);
	CHECK_EQ_INT(err, 33);
	CHECK(!strcmp(mechs, "PLAIN, SCRAM-SHA-512"));
	CHECK_EQ_INT(kafka_parse_sasl_handshake(hs, sizeof(hs) - 1, &err, mechs, sizeof(mechs)),
		     -EPROTO);
	/* A forged count the bytes cannot hold. */
	static const uint8_t forged[] = { 0, 0, 0x7f, 0, 0, 0 };
	CHECK_EQ_INT(kafka_parse_sasl_handshake(forged, sizeof(forged), &err, mechs, 4), -EPROTO);

	/* SaslAuthenticate v1: SASL_AUTHENTICATION_FAILED with its message. */
	static const uint8_t au[] = { 0, 58, 0, 3, 'b', 'a', 'd', 0xff, 0xff, 0xff, 0xff,
				      0, 0, 0, 0, 0, 0, 0, 0 };
	struct kafka_sasl_auth_resp r;
	CHECK_EQ_INT(kafka_parse_sasl_authenticate(au, sizeof(au), 1, &r), 0);
	CHECK_EQ_INT(r.error, 58);
	CHECK_MEM(r.message, r.message_len, "bad", 3);
	CHECK(r.auth == NULL);
	/* v0 has no session lifetime: the same bytes are too long. */
	CHECK_EQ_INT(kafka_parse_sasl_authenticate(au, sizeof(au), 0, &r), -EPROTO);
	static const uint8_t ok[] = { 0, 0, 0xff, 0xff, 0, 0, 0, 2, 'v', '=' };
	CHECK_EQ_INT(kafka_parse_sasl_authenticate(ok, sizeof(ok), 0, &r), 0);
	CHECK(r.message == NULL);
	CHECK_MEM(r.auth, r.auth_len, "v=", 2);
}

int main(void)
{
	test_vectors();
	test_cache();
	test_server_final_refused();
	test_server_first_bad();
	test_names_and_plain();
	test_kafka_requests();
	test_kafka_responses();
	return t_done("test_sasl");
}
