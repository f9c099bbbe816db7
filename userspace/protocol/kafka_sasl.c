/* Kafka SASL on one connection (kafka_sasl.h). The broker's refusals are
 * put in one line with its own words: SaslHandshake's mechanisms when it
 * does not enable ours, SaslAuthenticate's error message when it refuses
 * the credentials. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"
#include "protocol/kafka_sasl.h"

enum { WAIT_HANDSHAKE = 1, WAIT_AUTH, WAIT_NONE };

#define CLIENT_ID "blast"

/* A fresh client nonce: 24 random bytes as 48 hex digits. */
static int make_nonce(char out[SASL_NONCE_MAX + 1])
{
	uint8_t r[24];
	static const char hex[] = "0123456789abcdef";

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * sizeof(r)] = 0;
	return 0;
}

ssize_t ksasl_begin(struct ksasl *k, const struct blast_opts *o, int16_t auth_version, int32_t corr,
		    uint8_t *out, size_t cap)
{
	char nonce[SASL_NONCE_MAX + 1];

	memset(k, 0, sizeof(*k));
	k->auth_version = auth_version;
	if (make_nonce(nonce) < 0) {
		snprintf(k->why, sizeof(k->why), "no random bytes for the SASL nonce");
		return -EIO;
	}
	if (sasl_exchange_init(&k->c, (enum sasl_mech)o->sasl_mech, o->sasl_user, o->sasl_pass,
			     nonce) < 0) {
		snprintf(k->why, sizeof(k->why), "SASL: %s", k->c.err);
		return -EINVAL;
	}
	k->corr = corr;
	k->waiting = WAIT_HANDSHAKE;
	ssize_t n = kafka_encode_sasl_handshake(out, cap, corr, CLIENT_ID,
						 sasl_exchange_mech_name(k->c.mech));
	if (n < 0)
		snprintf(k->why, sizeof(k->why), "SaslHandshake does not fit");
	return n;
}

/* The client's next message in a SaslAuthenticate request. */
static ssize_t authenticate(struct ksasl *k, const uint8_t *msg, size_t n, uint8_t *out, size_t cap)
{
	k->corr++;
	k->waiting = WAIT_AUTH;
	ssize_t r = kafka_encode_sasl_authenticate(out, cap, k->auth_version, k->corr, CLIENT_ID,
						   msg, n);
	if (r < 0)
		snprintf(k->why, sizeof(k->why), "SaslAuthenticate does not fit");
	return r;
}

static ssize_t on_handshake(struct ksasl *k, const uint8_t *body, size_t len, uint8_t *out,
			    size_t cap)
{
	char mechs[200];
	int16_t err;
	uint8_t msg[SASL_MSG_MAX];

	if (kafka_parse_sasl_handshake(body, len, &err, mechs, sizeof(mechs)) < 0) {
		snprintf(k->why, sizeof(k->why), "malformed SaslHandshake response");
		return -EPROTO;
	}
	if (err) {
		k->error = err;
		snprintf(k->why, sizeof(k->why), "SASL %s refused: %s (the broker enables: %s)",
			 sasl_exchange_mech_name(k->c.mech), kafka_error_name(err), mechs[0] ? mechs : "none");
		return -EACCES;
	}
	ssize_t n = sasl_exchange_first(&k->c, msg, sizeof(msg));
	if (n < 0) {
		snprintf(k->why, sizeof(k->why), "SASL: %s", k->c.err);
		return n;
	}
	return authenticate(k, msg, (size_t)n, out, cap);
}

static ssize_t on_authenticate(struct ksasl *k, const uint8_t *body, size_t len, uint8_t *out,
			       size_t cap)
{
	struct kafka_sasl_auth_resp r;
	uint8_t msg[SASL_MSG_MAX];

	if (kafka_parse_sasl_authenticate(body, len, k->auth_version, &r) < 0) {
		snprintf(k->why, sizeof(k->why), "malformed SaslAuthenticate response");
		return -EPROTO;
	}
	if (r.error) {
		/* The broker's own words: "Authentication failed: Invalid
		 * username or password", control characters made visible. */
		char said[200];
		size_t n = r.message_len < sizeof(said) - 1 ? r.message_len : sizeof(said) - 1;
		for (size_t i = 0; i < n; i++)
			said[i] = r.message[i] >= 0x20 && r.message[i] < 0x7f ? r.message[i] : '?';
		said[n] = 0;
		k->error = r.error;
		snprintf(k->why, sizeof(k->why), "SASL %s as %s refused: %s%s%s",
			 sasl_exchange_mech_name(k->c.mech), k->c.user, kafka_error_name(r.error),
			 n ? ": " : "", said);
		return -EACCES;
	}
	ssize_t next = sasl_exchange_step(&k->c, r.auth ? r.auth : (const uint8_t *)"", r.auth_len,
					msg, sizeof(msg));
	if (next < 0) {
		snprintf(k->why, sizeof(k->why), "SASL %s: %s", sasl_exchange_mech_name(k->c.mech), k->c.err);
		return next;
	}
	if (next == 0) {
		k->waiting = WAIT_NONE;
		return 0;
	}
	return authenticate(k, msg, (size_t)next, out, cap);
}

ssize_t ksasl_on_frame(struct ksasl *k, const uint8_t *frame, size_t len, uint8_t *out, size_t cap)
{
	const uint8_t *body;
	size_t body_len;
	int32_t corr;

	if (kafka_parse_response_header(frame, len, false, &corr, &body, &body_len) < 0 ||
	    corr != k->corr) {
		snprintf(k->why, sizeof(k->why), "the answer to %s is not one",
			 k->waiting == WAIT_HANDSHAKE ? "SaslHandshake" : "SaslAuthenticate");
		return -EPROTO;
	}
	switch (k->waiting) {
	case WAIT_HANDSHAKE:
		return on_handshake(k, body, body_len, out, cap);
	case WAIT_AUTH:
		return on_authenticate(k, body, body_len, out, cap);
	default:
		snprintf(k->why, sizeof(k->why), "a response after SASL was done");
		return -EPROTO;
	}
}
