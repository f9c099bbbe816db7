/* A blocking TLS client (tls_block.h): OpenSSL on the socket itself,
 * each WANT_READ / WANT_WRITE waited out with poll until the deadline. */
#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats/clock.h"
#include "transport/tls_block.h"

struct tls_block {
	SSL *ssl;
	int fd;
};

/* Waits for what OpenSSL asked for; 0, or -ETIMEDOUT. */
static int wait_for(struct tls_block *b, int want, uint64_t deadline)
{
	uint64_t now = mono_ns();
	struct pollfd p = { .fd = b->fd, .events = want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	int left = now < deadline ? (int)((deadline - now) / NSEC_PER_MSEC) : 0;

	return poll(&p, 1, left) == 1 ? 0 : -ETIMEDOUT;
}

static void why_failed(SSL *ssl, int e, char *err, size_t cap)
{
	long v = SSL_get_verify_result(ssl);
	unsigned long q = ERR_peek_last_error();

	if (v != X509_V_OK)
		snprintf(err, cap, "certificate verification failed: %s",
			 X509_verify_cert_error_string(v));
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN || !q)
		snprintf(err, cap, "the server closed the connection during the TLS handshake "
				   "(is it a TLS port?)");
	else
		snprintf(err, cap, "TLS handshake failed: %s", ERR_reason_error_string(q));
}

struct tls_block *tls_block_connect(struct tls_run *r, int fd, const struct blast_target *t,
				    int timeout_ms, char *err, size_t cap)
{
	struct tls_block *b = calloc(1, sizeof(*b));
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

	if (!b || !(b->ssl = SSL_new(r->ctx)) || !SSL_set_fd(b->ssl, fd) ||
	    tls_name_peer(b->ssl, r->o, t->host) < 0) {
		snprintf(err, cap, "cannot set up TLS");
		tls_block_free(b);
		return NULL;
	}
	b->fd = fd;
	ERR_clear_error();
	for (;;) {
		int rc = SSL_connect(b->ssl);
		if (rc == 1)
			return b;
		int e = SSL_get_error(b->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_for(b, e, deadline) == 0)
				continue;
			snprintf(err, cap, "no TLS handshake within %d ms (is it a TLS port?)",
				 timeout_ms);
		} else {
			why_failed(b->ssl, e, err, cap);
		}
		tls_block_free(b);
		return NULL;
	}
}

int tls_block_send(struct tls_block *b, const uint8_t *p, size_t n, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

	while (n) {
		int rc = SSL_write(b->ssl, p, (int)n);
		if (rc > 0) {
			p += rc;
			n -= (size_t)rc;
			continue;
		}
		int e = SSL_get_error(b->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return -ECONNRESET;
		if (wait_for(b, e, deadline) < 0)
			return -ETIMEDOUT;
	}
	return 0;
}

ssize_t tls_block_recv(struct tls_block *b, uint8_t *p, size_t n, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

	for (;;) {
		int rc = SSL_read(b->ssl, p, (int)n);
		if (rc > 0)
			return rc;
		int e = SSL_get_error(b->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? -ECONNRESET : -EPROTO;
		if (wait_for(b, e, deadline) < 0)
			return -ETIMEDOUT;
	}
}

void tls_block_free(struct tls_block *b)
{
	if (!b)
		return;
	if (b->ssl) {
		if (SSL_is_init_finished(b->ssl))
			SSL_shutdown(b->ssl); /* a close_notify, not waited for */
		SSL_free(b->ssl);
	}
	free(b);
}
