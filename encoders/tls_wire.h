/* TLS as a capture shows it: record headers and the two hello messages,
 * read from bytes a file holds (RFC 8446 5.1, 4.1.2-4.1.3; RFC 5246 6.2,
 * 7.4.1). Only what decrypting a capture needs: the randoms that name a
 * connection in a key log, the suite, the version. Readers never look
 * outside [p, p + n). */
#ifndef BLAST_TLS_WIRE_H
#define BLAST_TLS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_REC_HDR 5
/* TLSCiphertext's longest fragment: 2^14 + 2048 (RFC 5246 6.2.3; TLS 1.3
 * allows 2^14 + 256). Anything longer is not TLS. */
#define TLS_REC_MAX (16384 + 2048)
#define TLS_RANDOM 32

enum tls_content {
	TLS_CT_CCS = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPDATA = 23,
};

enum tls_hs_type {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_FINISHED = 20,
	TLS_HS_KEY_UPDATE = 24,
};

#define TLS_V12 0x0303
#define TLS_V13 0x0304

struct tls_rec {
	uint8_t type;     /* enum tls_content */
	uint16_t version; /* the record layer's, 0x0301..0x0303 */
	uint16_t len;     /* fragment bytes after the header */
};

/* A record header at p: 1, 0 when fewer than TLS_REC_HDR bytes are there,
 * -1 when they are not a TLS record (unknown type, major version not 3,
 * longer than TLS_REC_MAX). */
int tls_rec_head(const uint8_t *p, size_t n, struct tls_rec *r);

/* Do a stream's first bytes open with a handshake record carrying a
 * ClientHello? Needs 6 bytes. */
bool tls_starts_client_hello(const uint8_t *p, size_t n);

struct tls_hello {
	uint8_t random[TLS_RANDOM];
	uint16_t suite;   /* ServerHello: the suite chosen; ClientHello: 0 */
	uint16_t version; /* ServerHello: supported_versions if present, else legacy_version */
	bool hrr;         /* a HelloRetryRequest (RFC 8446 4.1.3), not a ServerHello */
	bool etm;         /* ServerHello: encrypt_then_mac (RFC 7366) agreed */
};

/* A hello's body (after the 4-byte handshake header): 0, or -1 when it is
 * cut short or its lengths disagree. */
int tls_client_hello(const uint8_t *b, size_t n, struct tls_hello *h);
int tls_server_hello(const uint8_t *b, size_t n, struct tls_hello *h);

#endif
