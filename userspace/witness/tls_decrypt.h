/* One TCP flow's TLS, opened with a key log: the records of each
 * direction reassembled (a record may span segments, a segment hold many),
 * the hellos read for the client random that names the connection's keys
 * and for the suite and version, and each protected record decrypted with
 * its AEAD (AES-GCM, AES-CCM, ChaCha20-Poly1305) or, under TLS 1.2, its
 * AES-CBC and HMAC (MAC then encrypt, or encrypt then MAC when the
 * ServerHello agrees to it), padding and MAC checked: TLS 1.3 with the
 * handshake, then the application traffic secrets (and KeyUpdate's next
 * ones), TLS 1.2 with the key block from the master secret after
 * ChangeCipherSpec.
 * Application data goes to a callback, to be matched as if it had been
 * sent in the clear. Bytes come from a file: whatever they are, nothing
 * is read outside them, and a record that does not decrypt stops that
 * direction rather than feeding garbage on. */
#ifndef BLAST_TLS_DECRYPT_H
#define BLAST_TLS_DECRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "witness/tls_keys.h"

struct tls_flow;

/* How far a flow got. */
enum tls_outcome {
	TLS_WAITING,   /* no ServerHello yet: nothing to say */
	TLS_DECRYPTED, /* keys found, every record opened so far */
	TLS_NO_KEY,    /* no key log, or its client random is not in it */
	TLS_FAILED,    /* keys found but a record would not open (bad tag, MAC, padding or
			* length), or the suite is not supported */
};

/* Plaintext of one direction, seen at ts (when its record began). */
typedef void (*tls_plain_fn)(void *ctx, const uint8_t *p, size_t n, uint64_t ts);

/* kl may be NULL (no --keylog). NULL when out of memory. */
struct tls_flow *tls_flow_new(const struct tls_keylog *kl);
/* The next in-order bytes of a direction (from_client: 1 for the side
 * that sent the ClientHello). */
void tls_flow_feed(struct tls_flow *t, int from_client, const uint8_t *p, size_t n, uint64_t ts,
		   tls_plain_fn out, void *ctx);
/* Bytes of a direction are missing: its record boundaries and sequence
 * numbers are lost, so nothing more of it can be decrypted. */
void tls_flow_gap(struct tls_flow *t, int from_client);
enum tls_outcome tls_flow_outcome(const struct tls_flow *t);
/* Why a TLS_FAILED flow failed, one phrase; "" otherwise. */
const char *tls_flow_why(const struct tls_flow *t);
/* Records decrypted, both directions. */
uint64_t tls_flow_records(const struct tls_flow *t);
void tls_flow_free(struct tls_flow *t);

#endif
