/* A SASL client for Kafka's SaslAuthenticate exchange: PLAIN (RFC 4616)
 * and SCRAM (RFC 5802, with SHA-256 and SHA-512 as RFC 7677 names them).
 * Pure: the caller gives the nonce, every message goes through caller
 * buffers, and the hashes are OpenSSL libcrypto's (no I/O, no state but
 * the struct). Each step either writes the next message, says the
 * exchange is complete (the server proved it knows the password), or
 * fails with one line of words in err. */
#ifndef BLAST_SASL_H
#define BLAST_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sasl_mech {
	SASL_NONE = 0,
	SASL_PLAIN,
	SASL_SCRAM_SHA_256,
	SASL_SCRAM_SHA_512,
	SASL_SCRAM_SHA_1, /* RFC 5802's own test vectors; Kafka offers no SHA-1 */
};

#define SASL_NONCE_MAX 64
#define SASL_MSG_MAX 1024 /* the longest message kept for the AuthMessage */
#define SASL_ERR_MAX 200

/* What the client is waiting for. */
enum sasl_step { SASL_START = 0, SASL_WAIT_FIRST, SASL_WAIT_FINAL, SASL_DONE, SASL_FAILED };

/* SCRAM's SaltedPassword for one (mechanism, salt, iteration count): a
 * broker keeps one salt per user, so every connection of a run derives
 * the same key, and PBKDF2 (thousands of HMACs) need run only once. The
 * caller owns it and may share it between exchanges of one password. */
struct scram_cache {
	enum sasl_mech mech;
	uint32_t iterations;
	uint8_t salt[128];
	size_t salt_len;
	uint8_t salted[64];
	bool valid;
};

struct sasl_client {
	enum sasl_mech mech;
	enum sasl_step step;
	const char *user, *pass; /* borrowed: they outlive the exchange */
	char nonce[SASL_NONCE_MAX + 1];
	/* SCRAM: client-first-message-bare, then the AuthMessage */
	char auth[3 * SASL_MSG_MAX];
	size_t auth_len;
	uint8_t server_sig[64];
	size_t sig_len;
	char err[SASL_ERR_MAX];
	struct scram_cache *cache; /* optional, set after sasl_exchange_init */
};

/* The mechanism's name as Kafka's SaslHandshake spells it. */
const char *sasl_exchange_mech_name(enum sasl_mech m);

/* Starts an exchange. nonce: printable ASCII without ',' (RFC 5802
 * "printable"), at most SASL_NONCE_MAX; ignored by PLAIN. 0, or -EINVAL
 * (user or password too long, a bad nonce) with err set. */
int sasl_exchange_init(struct sasl_client *s, enum sasl_mech m, const char *user, const char *pass,
		     const char *nonce);

/* The client's first message (PLAIN's whole message, SCRAM's
 * client-first-message) into out: bytes, or < 0 with err set. */
ssize_t sasl_exchange_first(struct sasl_client *s, uint8_t *out, size_t cap);

/* The server's answer to the last message: bytes of the next message
 * to send (SCRAM's client-final-message), 0 when the exchange is complete,
 * or < 0 (-EPROTO malformed, -EACCES the server failed to prove itself or
 * sent "e=", -ENOSPC) with err set. */
ssize_t sasl_exchange_step(struct sasl_client *s, const uint8_t *in, size_t n, uint8_t *out,
			 size_t cap);

/* SCRAM's server-first-message, parsed (RFC 5802 section 7). */
struct scram_server_first {
	const char *nonce;   /* the whole r= value: client nonce + server's */
	size_t nonce_len;
	uint8_t salt[128];
	size_t salt_len;
	uint32_t iterations;
};

/* 0, or -EPROTO with words in err (err may be NULL). */
int scram_parse_server_first(const char *msg, size_t n, struct scram_server_first *f, char *err,
			     size_t err_cap);

#endif
