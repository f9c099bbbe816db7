/* libFuzzer target for the SASL decoders: the input as a SaslHandshake
 * response body, a SaslAuthenticate v0 and v1 response body, a SCRAM
 * server-first-message (parsed, and, when its iteration count is small,
 * answered by a client whose nonce it may or may not extend) and a
 * server-final-message to a client in the middle of RFC 7677's exchange.
 * Nothing may read past the input, spans handed out must lie inside it,
 * results must be the documented ones, and only the real signature may
 * complete the exchange.
 *
 * Built with -DWITH_MAIN it replays files: cc -DWITH_MAIN -I. -Iencoders
 * tests/fuzz/fuzz_sasl.c encoders/sasl.c encoders/kafka_sasl.c -lcrypto */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RFC7677_FIRST                                                                             \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC7677_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static bool inside(const void *p, size_t n, const uint8_t *lo, size_t len)
{
	const uint8_t *b = p;

	return n == 0 || (b >= lo && n <= len && (size_t)(b - lo) <= len - n);
}

/* A client past RFC 7677's server-first-message, made once. */
static const struct sasl_client *midway(void)
{
	static struct sasl_client s;
	static bool made;
	uint8_t out[512];

	if (!made) {
		sasl_exchange_init(&s, SASL_SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
		sasl_exchange_first(&s, out, sizeof(out));
		assert(sasl_exchange_step(&s, (const uint8_t *)RFC7677_FIRST, strlen(RFC7677_FIRST), out,
					sizeof(out)) > 0);
		made = true;
	}
	return &s;
}

static void kafka_bodies(const uint8_t *data, size_t size)
{
	char mechs[64];
	int16_t err;
	struct kafka_sasl_auth_resp r;

	int rc = kafka_parse_sasl_handshake(data, size, &err, mechs, sizeof(mechs));
	assert(rc == 0 || rc == -EPROTO);
	assert(strlen(mechs) < sizeof(mechs));
	for (int16_t v = 0; v <= 2; v++) {
		rc = kafka_parse_sasl_authenticate(data, size, v, &r);
		assert(v <= KAFKA_SASL_AUTH_MAX ? (rc == 0 || rc == -EPROTO) : rc == -EINVAL);
		if (rc)
			continue;
		assert(inside(r.message, r.message_len, data, size));
		assert(inside(r.auth, r.auth_len, data, size));
	}
}

static void scram_messages(const uint8_t *data, size_t size)
{
	struct scram_server_first f;
	struct sasl_client s;
	char words[SASL_ERR_MAX];
	uint8_t out[4096];

	int rc = scram_parse_server_first((const char *)data, size, &f, words, sizeof(words));
	assert(rc == 0 || rc == -EPROTO);
	if (rc == 0) {
		assert(inside(f.nonce, f.nonce_len, data, size) && f.nonce_len > 0);
		assert(f.iterations >= 1 && f.salt_len > 0 && f.salt_len <= sizeof(f.salt));
		if (f.iterations <= 16) {
			sasl_exchange_init(&s, SASL_SCRAM_SHA_512, "user", "pencil", "fuzz");
			sasl_exchange_first(&s, out, sizeof(out));
			ssize_t n = sasl_exchange_step(&s, data, size, out, sizeof(out));
			assert(n > 0 || n == -EPROTO);
			assert(n < 0 || (size_t)n < sizeof(out));
		}
	}
	s = *midway();
	ssize_t n = sasl_exchange_step(&s, data, size, out, sizeof(out));
	/* The real verifier, alone or followed by extensions (RFC 5802 7). */
	size_t rl = strlen(RFC7677_FINAL);
	bool real = size >= rl && !memcmp(data, RFC7677_FINAL, rl) && (size == rl || data[rl] == ',');
	assert(real ? n == 0 : (n == -EACCES || n == -EPROTO));
	assert(s.step == (real ? SASL_DONE : SASL_FAILED) && strlen(s.err) < sizeof(s.err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kafka_bodies(data, size);
	scram_messages(data, size);
	return 0;
}

#include "replay.h"
