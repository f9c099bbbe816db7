/* The keys that open a capture's TLS: an NSS key log (what blast --keylog
 * and SSLKEYLOGFILE write, one "LABEL CLIENT_RANDOM SECRET" a line, in
 * hex) read into a table by client random, the cipher suites a capture
 * can be decrypted under, and the key schedules that turn a logged secret
 * into a record key and IV: TLS 1.3's HKDF-Expand-Label (RFC 8446 7.1,
 * 7.3) and TLS 1.2's PRF key expansion (RFC 5246 5, 6.3). */
#ifndef BLAST_TLS_KEYS_H
#define BLAST_TLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "encoders/tls_wire.h"

#define TLS_SECRET_MAX 48 /* SHA-384's length, the longest a suite here uses */

enum tls_secret {
	TS_MASTER,     /* CLIENT_RANDOM: TLS 1.2's master secret */
	TS_CLIENT_HS,  /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	TS_SERVER_HS,  /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	TS_CLIENT_AP,  /* CLIENT_TRAFFIC_SECRET_0 */
	TS_SERVER_AP,  /* SERVER_TRAFFIC_SECRET_0 */
	TS__COUNT,
};

/* One connection's secrets, by its ClientHello's random. */
struct tls_key_entry {
	uint8_t random[TLS_RANDOM];
	uint8_t len[TS__COUNT]; /* 0: not in the log */
	uint8_t secret[TS__COUNT][TLS_SECRET_MAX];
};

struct tls_keylog {
	struct tls_key_entry *e; /* sorted by random */
	size_t n;
};

/* A key log's text: 0, or -EINVAL with err saying which line is not a key
 * log line (lines with labels other than the five above are skipped
 * whatever their words: exporter and early-data secrets, RSA key
 * exchange's premaster), -ENODATA when no line holds a key, -ENOMEM. */
int tls_keylog_parse(const char *text, size_t len, struct tls_keylog *kl, char *err,
		     size_t err_cap);
const struct tls_key_entry *tls_keylog_find(const struct tls_keylog *kl,
					    const uint8_t random[TLS_RANDOM]);
void tls_keylog_free(struct tls_keylog *kl);

/* How a suite seals its records. */
enum tls_seal {
	TLS_SEAL_AEAD, /* AES-GCM, ChaCha20-Poly1305: tag after the ciphertext */
	TLS_SEAL_CCM,  /* AES-CCM (RFC 6655, 8446): the same, but OpenSSL wants
			* the tag and the lengths before the data */
	TLS_SEAL_CBC,  /* TLS 1.2 AES-CBC with HMAC (RFC 5246 6.2.3.2): explicit
			* IV, MAC then encrypt, or encrypt then MAC (RFC 7366) */
};

/* A suite a capture can be decrypted under. */
struct tls_suite {
	uint16_t id;
	const char *name;
	bool tls13;
	uint8_t seal;    /* enum tls_seal */
	uint8_t key_len;
	uint8_t fixed_iv; /* IV bytes from the key schedule: 12, 4 for TLS 1.2's
			   * GCM and CCM salt, 0 for CBC (each record brings its IV) */
	uint8_t tag_len;  /* AEAD tag: 16, CCM_8's 8; CBC: 0 */
	bool explicit_nonce; /* TLS 1.2 GCM, CCM: 8 bytes of nonce open each record */
	const EVP_CIPHER *(*cipher)(void);
	const EVP_MD *(*md)(void);  /* the PRF's or HKDF's hash */
	const EVP_MD *(*mac)(void); /* CBC: the record MAC's hash; AEAD: NULL */
};
/* NULL for a suite not in the table (TLS 1.2 without AES, NULL ciphers). */
const struct tls_suite *tls_suite_find(uint16_t id);

struct tls_traffic_key {
	uint8_t key[32];
	uint8_t iv[12];
	uint8_t mac[TLS_SECRET_MAX]; /* CBC: the MAC key (mac_len bytes) */
	uint8_t mac_len;
};

/* HKDF-Expand-Label(secret, label, context, len), "tls13 " prefixed. 0 or -1. */
int tls13_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
		       const char *label, const uint8_t *context, size_t context_len, uint8_t *out,
		       size_t len);
/* A traffic secret's write key and IV. 0 or -1. */
int tls13_traffic_key(const struct tls_suite *s, const uint8_t *secret, size_t secret_len,
		      struct tls_traffic_key *k);
/* After a KeyUpdate: "traffic upd", in place. 0 or -1. */
int tls13_next_secret(const struct tls_suite *s, uint8_t *secret, size_t secret_len);

/* TLS 1.2's PRF: P_hash(secret, label + seed) to len bytes. 0 or -1. */
int tls12_prf(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
	      const uint8_t *seed, size_t seed_len, uint8_t *out, size_t len);
/* The key block's MAC keys (CBC suites), write keys and IVs (AEAD suites).
 * 0 or -1. */
int tls12_key_block(const struct tls_suite *s, const uint8_t *master, size_t master_len,
		    const uint8_t client_random[TLS_RANDOM],
		    const uint8_t server_random[TLS_RANDOM], struct tls_traffic_key *client,
		    struct tls_traffic_key *server);

#endif
