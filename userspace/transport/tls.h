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

/* A worker's TLS state, shared by its connections. */
struct tls_run {
	SSL_CTX *ctx;
	const struct blast_opts *o;
	SSL_SESSION *session; /* the newest session the server gave (--tls-resume) */
	int keylog_fd;        /* --keylog / SSLKEYLOGFILE, -1 when off */
	uint8_t plain[TLS_PLAIN_CAP];
};

/* The context for o: versions, verification, client certificate, cipher
 * lists, groups, ALPN, session caching and the key log. NULL with one
 * line of words in err (naming the flag) when OpenSSL refuses a value. */
struct tls_run *tls_run_new(const struct blast_opts *o, char *err, size_t cap);
void tls_run_free(struct tls_run *r);

/* Builds the context once and drops it: bad files and values are found
 * before any connection. 0, or -1 with words in err. */
int tls_config_check(const struct blast_opts *o, char *err, size_t cap);

#endif
