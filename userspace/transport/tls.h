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
	BIO_METHOD *out;      /* the connections' write BIO (tls.c, tls_out_method) */
	uint8_t plain[TLS_PLAIN_CAP];
};

/* The context for o: versions, verification, client certificate, cipher
 * lists, groups, ALPN, session caching and the key log. NULL with one
 * line of words in err (naming the flag) when OpenSSL refuses a value. */
struct tls_run *tls_run_new(const struct blast_opts *o, char *err, size_t cap);
void tls_run_free(struct tls_run *r);
/* The write BIO's method: records into the send buffer being sealed, or
 * into a memory BIO outside a send (tls.c). */
BIO_METHOD *tls_out_method(void);
/* A session for a new connection to resume, NULL when none (or resuming is
 * off). The caller holds a reference: SSL_SESSION_free it after use. */
SSL_SESSION *tls_session_take(struct tls_run *r);

/* Builds the context once and drops it: bad files and values are found
 * before any connection. 0, or -1 with words in err. */
int tls_config_check(const struct blast_opts *o, char *err, size_t cap);

#endif
