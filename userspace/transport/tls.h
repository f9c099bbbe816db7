/* TLS in the transport stack: the run-wide context each worker builds
 * from the options (tls_ctx.c) and the layer over it (tls.c). OpenSSL 3
 * with memory BIOs: the engine's ring moves the records, OpenSSL only
 * turns bytes into bytes. */
#ifndef BLAST_TRANSPORT_TLS_H
#define BLAST_TRANSPORT_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "config/opts.h"

/* SSL_read hands at most one record's plaintext at a time. */
#define TLS_PLAIN_CAP (16384 + 256)

#define TLS_SESSIONS_KEPT 16

/* A worker's TLS state, shared by its connections. */
struct tls_run {
	SSL_CTX *ctx;
	const struct blast_opts *o;
	/* Sessions the server gave (--tls-resume), newest last. A TLS 1.3
	 * ticket is used once (OpenSSL's client drops it once resumed), so
	 * each new connection takes its own; a TLS 1.2 session id serves
	 * them all. */
	SSL_SESSION *sessions[TLS_SESSIONS_KEPT];
	unsigned n_sessions;
	int keylog_fd;        /* --keylog / SSLKEYLOGFILE, -1 when off */
	BIO_METHOD *in, *out; /* the connections' BIOs (tls_bio.c) */
	uint8_t plain[TLS_PLAIN_CAP];
};

/* The context for o: versions, verification, client certificate, cipher
 * lists, groups, ALPN, session caching and the key log. NULL with one
 * line of words in err (naming the flag) when OpenSSL refuses a value. */
struct tls_run *tls_run_new(const struct blast_opts *o, char *err, size_t cap);
void tls_run_free(struct tls_run *r);

/* A connection's bytes to and from OpenSSL (tls_bio.c): reads come from
 * the buffer being fed, records go into the send buffer being sealed
 * (dst); the rest waits in memory BIOs, the spills. */
struct tls_io {
	BIO *spill_in;          /* received bytes OpenSSL has not taken yet */
	BIO *spill_out;         /* records made outside a send */
	const uint8_t *src;     /* the read being fed, */
	size_t src_len;         /* its bytes not taken yet */
	uint8_t *dst;           /* in a send: where records go (NULL: the spill), */
	size_t dst_len, dst_cap; /* how many went there, and the room */
};

/* The BIO methods, per worker: 0 or -1 (out of memory). */
int tls_io_methods(struct tls_run *r);
void tls_io_methods_free(struct tls_run *r);
/* io's BIOs, given to ssl. 0, or -1 (then tls_io_close still frees). */
int tls_io_open(struct tls_io *io, const struct tls_run *r, SSL *ssl);
void tls_io_close(struct tls_io *io);
/* Received bytes for OpenSSL to read; tls_io_keep once it has read what
 * it can: it keeps the rest (a record cut in two) for the next feed,
 * as buf goes away. 0, or -1 out of memory. */
int tls_io_feed(struct tls_io *io, const uint8_t *buf, size_t len);
int tls_io_keep(struct tls_io *io);
/* Received bytes OpenSSL has not read. */
size_t tls_io_unread(const struct tls_io *io);
/* Records made outside a send, into out: bytes. */
size_t tls_io_drain(struct tls_io *io, uint8_t *out, size_t cap);
/* A session for a new connection to resume, NULL when none (or resuming is
 * off). The caller holds a reference: SSL_SESSION_free it after use. */
SSL_SESSION *tls_session_take(struct tls_run *r);

/* The name a connection to host sends (SNI, none for an address) and
 * verifies (unless --insecure): --sni, else host. 0 or -EINVAL. */
int tls_name_peer(SSL *ssl, const struct blast_opts *o, const char *host);

/* Builds the context once and drops it: bad files and values are found
 * before any connection. 0, or -1 with words in err. */
int tls_config_check(const struct blast_opts *o, char *err, size_t cap);

#endif
