/* A blocking TLS client on a connected socket, for the short exchanges
 * before a run (Kafka's bootstrap asks a broker for its metadata): the
 * same context and checks as the TLS layer (tls_ctx.c), driven by poll
 * instead of the ring. */
#ifndef BLAST_TRANSPORT_TLS_BLOCK_H
#define BLAST_TRANSPORT_TLS_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/opts.h"
#include "transport/tls.h"

struct tls_block;

/* The handshake with the server at fd (non-blocking, connected) within
 * timeout_ms. NULL with one line of words in err: the certificate's
 * failure as OpenSSL names it, an alert, or the connection closed. */
struct tls_block *tls_block_connect(struct tls_run *r, int fd, const struct blast_target *t,
				    int timeout_ms, char *err, size_t cap);
/* 0, or -errno (-ETIMEDOUT, -ECONNRESET, -EPROTO). */
int tls_block_send(struct tls_block *b, const uint8_t *p, size_t n, int timeout_ms);
/* Bytes read (> 0), or -errno (-ECONNRESET when the server closed). */
ssize_t tls_block_recv(struct tls_block *b, uint8_t *p, size_t n, int timeout_ms);
void tls_block_free(struct tls_block *b);

#endif
