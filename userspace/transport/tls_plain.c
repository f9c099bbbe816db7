/* The reverse mistake: plaintext (mqtt://, ws://) to a TLS port. A TLS
 * server answers the protocol's first bytes with a TLS alert record, or
 * (OpenSSL's servers: mosquitto, socat, stunnel) closes or resets without
 * a word. The first is seen in the answer itself (tls_plain_alert); the
 * second only by asking the port in TLS once the run is over
 * (tls_port_answers_tls). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stats/clock.h"
#include "transport/tls.h"
#include "transport/transport.h"

bool tls_plain_alert(const uint8_t *buf, size_t len)
{
	/* An alert record: type 21, version 3.x, a 2-byte body (level,
	 * description). No MQTT packet from a server starts 0x15, no HTTP
	 * answer either. */
	return len >= 2 && buf[0] == 0x15 && buf[1] == 0x03 &&
	       (len < 5 || (buf[3] == 0 && buf[4] == 2));
}

bool tlink_plain_alert(struct tlink *l, const uint8_t *buf, size_t len)
{
	const struct tstack *s = l->s;
	const struct transport_env *env = s->env;

	for (unsigned i = 0; i < s->n; i++)
		if (s->layer[i] == &tls_transport)
			return false;
	if (!tls_plain_alert(buf, len))
		return false;
	if (env->note && !env->note[0])
		snprintf(env->note, env->note_cap,
			 "%.60s:%u answered in TLS (an alert): a TLS port; use %s", l->target->host,
			 l->target->port, tls_scheme_hint(env->o));
	return true;
}

const char *tls_scheme_hint(const struct blast_opts *o)
{
	return o->transport == TRANSPORT_WS ? "wss://HOST:PORT/PATH" :
	       o->proto == PROTO_MQTT ? "mqtts://HOST:PORT" :
	       o->proto == PROTO_KAFKA ? "kafka+ssl://HOST:PORT (or --tls)" : "TLS";
}

/* A ClientHello, as OpenSSL makes one, into out: bytes (0 on failure). */
static size_t client_hello(const char *host, uint8_t *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	size_t n = 0;

	if (ssl && rb && wb) {
		SSL_set_bio(ssl, rb, wb);
		rb = wb = NULL; /* ssl's now */
		SSL_set_connect_state(ssl);
		SSL_set_tlsext_host_name(ssl, host);
		SSL_do_handshake(ssl); /* wants to read: the hello is written */
		int got = BIO_read(SSL_get_wbio(ssl), out, (int)cap);
		n = got > 0 ? (size_t)got : 0;
	}
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return n;
}

/* Waits for fd to be ready for events, until deadline (ns). */
static bool ready(int fd, short events, uint64_t deadline)
{
	uint64_t now = mono_ns();
	struct pollfd p = { .fd = fd, .events = events };

	if (now >= deadline)
		return false;
	return poll(&p, 1, (int)((deadline - now) / 1000000 + 1)) == 1 && (p.revents & events);
}

bool tls_port_answers_tls(const struct blast_target *t, unsigned timeout_ms)
{
	uint8_t hello[2048], head[5];
	size_t n = client_hello(t->host, hello, sizeof(hello));
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000;
	int fd = n ? socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
	bool tls = false;

	if (fd < 0)
		return false;
	int r = connect(fd, (const struct sockaddr *)&t->addr, t->addr_len);
	if ((r == 0 || (errno == EINPROGRESS && ready(fd, POLLOUT, deadline))) &&
	    send(fd, hello, n, MSG_NOSIGNAL) == (ssize_t)n && ready(fd, POLLIN, deadline) &&
	    recv(fd, head, sizeof(head), MSG_WAITALL) >= 3)
		/* A handshake record (ServerHello) or an alert, in TLS 1.x. */
		tls = (head[0] == 0x16 || head[0] == 0x15) && head[1] == 0x03;
	close(fd);
	return tls;
}
