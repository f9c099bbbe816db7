/* sink: a minimal MQTT server that discards what it gets, for benchmarks.
 *
 *   sink --port P [--ack] [--threads N] [--tls-cert FILE --tls-key FILE]
 *
 * Listens on 127.0.0.1:P (0 picks a free port), prints "port=NNNN" on
 * stdout, answers CONNECT with CONNACK and drops everything else. With
 * --ack it also answers QoS 1 PUBLISH (PUBACK), QoS 2 PUBLISH (PUBREC),
 * PUBREL (PUBCOMP) and PINGREQ (PINGRESP), all replies of one read in one
 * write. Each thread has its own SO_REUSEPORT listener and epoll set, so
 * the kernel spreads connections over threads. SIGINT/SIGTERM stop it and
 * print totals on stderr. With --tls-cert and --tls-key every connection
 * is TLS (OpenSSL on the socket, TLS 1.2 or 1.3, session tickets on), so
 * the same sink measures a client's TLS cost with nothing else in the way.
 *
 * Deliberately self-contained (no encoders/): it is the yardstick the
 * project's own code is measured against. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SINK_RBUF	(1u << 20)	/* one read: big, so syscalls stay rare */
/* Room in front of the read buffer to put back the start of a frame we
 * could not act on yet: at most a 5-byte fixed header, a 2-byte length, a
 * 65535-byte string and 2 more bytes (topic + packet id). */
#define SINK_HEADROOM	(72u << 10)
/* Replies a slow reader may owe us before we stop reading its socket. */
#define SINK_OUT_MAX	(4u << 20)
#define SINK_MAX_THREADS 64
/* Room a read over TLS leaves for one more record's plaintext. */
#define SINK_TLS_RECORD	(16u << 10)

/* MQTT control packet types (spec 2.1.2), fixed-header high nibble. */
enum {
	PKT_CONNECT = 1,
	PKT_PUBLISH = 3,
	PKT_PUBREL = 6,
	PKT_PINGREQ = 12,
	PKT_DISCONNECT = 14,
};

struct conn {
	int fd;
	SSL *ssl;		/* NULL: plaintext */
	uint8_t level;		/* protocol level from CONNECT; 0 = not yet */
	uint32_t events;	/* what epoll watches now */
	uint32_t skip;		/* bytes of a frame already acted on, still to drop */
	uint8_t *part;		/* start of a frame split by a read */
	uint32_t part_len;
	uint8_t more;		/* TLS: OpenSSL may hold more to read */
	uint8_t *out;		/* replies the socket did not take yet */
	size_t out_len, out_cap;
};

struct worker {
	pthread_t tid;
	int lfd, epfd;
	bool ack;
	uint8_t *rbuf;		/* SINK_HEADROOM + SINK_RBUF */
	uint8_t *wbuf;		/* same size: replies never outgrow the input */
	unsigned long long bytes, frames, conns, errors;
};

static int listener_tag;	/* epoll data.ptr for the listening socket */
static SSL_CTX *tls_ctx;	/* --tls-cert: every connection is TLS */
static volatile int stop;

/* Outcome of parsing a run of bytes. */
enum {
	PARSE_OK = 0,
	PARSE_CLOSE = 1,	/* DISCONNECT seen: close after replying */
	PARSE_BAD = -1,		/* malformed: close */
};

static inline void put_ack(uint8_t **o, uint8_t type_byte, const uint8_t *id)
{
	uint8_t *p = *o;

	/* 3.1.1 and MQTT 5 short form (reason 0, spec 3.4.2.1) are the same
	 * four bytes. */
	p[0] = type_byte;
	p[1] = 2;
	p[2] = id[0];
	p[3] = id[1];
	*o = p + 4;
}

/* Walks the frames in p[0..n). Acts on each frame as soon as its first
 * bytes are there; *used gets the bytes consumed; what is left (n - *used)
 * is the start of a frame to keep for the next read. A frame longer than
 * what is here sets c->skip. Replies go to *o. */
static int parse(struct worker *w, struct conn *c, const uint8_t *p, size_t n, size_t *used,
		 uint8_t **o)
{
	size_t pos = 0;
	int ret = PARSE_OK;

	while (pos < n) {
		const uint8_t *f = p + pos;
		size_t avail = n - pos;
		uint32_t rem = 0;
		unsigned shift = 0;
		size_t h = 1;

		/* Remaining length: 1..4 bytes of 7 bits (spec 1.5.5). */
		for (;;) {
			if (h >= avail)
				goto partial;
			uint8_t b = f[h++];
			rem |= (uint32_t)(b & 0x7f) << shift;
			if (!(b & 0x80))
				break;
			shift += 7;
			if (shift > 21)
				return PARSE_BAD;
		}
		const uint8_t *b = f + h;
		size_t have = avail - h;	/* body bytes present */
		size_t need;
		uint8_t type = f[0] >> 4;

		if (have > rem)
			have = rem;
		if (!c->level && type != PKT_CONNECT)
			return PARSE_BAD;

		switch (type) {
		case PKT_CONNECT:
			/* Protocol name (2 + len) then the level byte. */
			if (have < 2)
				goto partial;
			need = 2 + ((size_t)b[0] << 8 | b[1]) + 1;
			if (rem < need)
				return PARSE_BAD;
			if (have < need)
				goto partial;
			c->level = b[need - 1];
			if (c->level == 5) {
				/* Reason 0, empty properties: client keeps
				 * Receive Maximum 65535 (spec 3.2.2.3.3). */
				memcpy(*o, "\x20\x03\x00\x00\x00", 5);
				*o += 5;
			} else {
				memcpy(*o, "\x20\x02\x00\x00", 4);
				*o += 4;
			}
			break;
		case PKT_PUBLISH: {
			uint8_t qos = (f[0] >> 1) & 3;

			if (qos == 3)
				return PARSE_BAD;
			if (!qos || !w->ack)
				break;
			/* Topic (2 + len), then the packet id. */
			if (have < 2)
				goto partial;
			need = 2 + ((size_t)b[0] << 8 | b[1]) + 2;
			if (rem < need)
				return PARSE_BAD;
			if (have < need)
				goto partial;
			put_ack(o, qos == 1 ? 0x40 : 0x50, b + need - 2);
			break;
		}
		case PKT_PUBREL:
			if (!w->ack)
				break;
			if (rem < 2)
				return PARSE_BAD;
			if (have < 2)
				goto partial;
			put_ack(o, 0x70, b);
			break;
		case PKT_PINGREQ:
			if (!w->ack)
				break;
			(*o)[0] = 0xd0;
			(*o)[1] = 0;
			*o += 2;
			break;
		case PKT_DISCONNECT:
			ret = PARSE_CLOSE;
			break;
		case 0:
			return PARSE_BAD;
		}
		w->frames++;
		if (avail >= h + rem) {
			pos += h + rem;
		} else {
			c->skip = h + rem - avail;
			pos = n;
		}
		if (ret == PARSE_CLOSE)
			break;
	}
	*used = pos;
	return ret;
partial:
	*used = pos;
	return PARSE_OK;
}

static void conn_close(struct conn *c)
{
	SSL_free(c->ssl);
	close(c->fd);		/* also drops it from the epoll set */
	free(c->part);
	free(c->out);
	free(c);
}

static int conn_watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queues len bytes behind whatever is pending, in order. */
static int out_append(struct conn *c, const uint8_t *buf, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 64 << 10;
		uint8_t *n;

		while (cap < c->out_len + len)
			cap *= 2;
		n = realloc(c->out, cap);
		if (!n)
			return -1;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/* One write: the bytes the connection took (0 when it is full for now),
 * or -1 when it is dead. Over TLS a refused write is retried with the
 * same bytes at the front of c->out, as SSL_write requires. */
static ssize_t conn_send(struct conn *c, const uint8_t *buf, size_t len)
{
	if (c->ssl) {
		int n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
		int e;

		if (n > 0)
			return n;
		e = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
	}
	for (;;) {
		ssize_t s = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s >= 0)
			return s;
		if (errno != EINTR)
			return errno == EAGAIN ? 0 : -1;
	}
}

/* Reads into buf: bytes (> 0), 0 when nothing is there now, -1 at EOF or
 * on an error. Over TLS it opens records until buf is nearly full or none
 * is left; c->more says OpenSSL may hold more than it handed over (the
 * socket then need not be readable again: the caller reads on). */
static ssize_t conn_recv(struct conn *c, uint8_t *buf, size_t cap)
{
	if (c->ssl) {
		size_t got = 0;

		c->more = 0;
		while (cap - got >= SINK_TLS_RECORD) {
			int n = SSL_read(c->ssl, buf + got, (int)(cap - got));
			int e;

			if (n > 0) {
				got += n;
				continue;
			}
			e = SSL_get_error(c->ssl, n);
			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return got;
			return got ? (ssize_t)got : -1; /* EOF or broken: after these */
		}
		c->more = 1;
		return got;
	}
	for (;;) {
		ssize_t r = read(c->fd, buf, cap);

		if (r > 0)
			return r;
		if (r == 0)
			return -1;
		if (errno != EINTR)
			return errno == EAGAIN ? 0 : -1;
	}
}

/* Writes what is pending; returns -1 when the connection is dead. Keeps
 * reading while up to SINK_OUT_MAX is owed, so a client that only reads
 * acks between sends cannot deadlock against us. */
static int conn_flush(struct worker *w, struct conn *c)
{
	while (c->out_len) {
		ssize_t s = conn_send(c, c->out, c->out_len);

		if (s < 0)
			return -1;
		if (s == 0)
			break;
		memmove(c->out, c->out + s, c->out_len - s);
		c->out_len -= s;
	}
	if (!c->out_len)
		return conn_watch(w, c, EPOLLIN);
	return conn_watch(w, c, c->out_len > SINK_OUT_MAX ? EPOLLOUT : EPOLLIN | EPOLLOUT);
}

static int conn_reply(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	while (!c->out_len && len) {
		ssize_t s = conn_send(c, buf, len);

		if (s < 0)
			return -1;
		if (s == 0)
			break;
		buf += s;
		len -= s;
	}
	if (!len)
		return 0;
	if (out_append(c, buf, len))
		return -1;
	return conn_flush(w, c);
}

/* One read, then act on every frame in it. Returns -1 to close. */
static int conn_read(struct worker *w, struct conn *c)
{
	uint8_t *data = w->rbuf + SINK_HEADROOM;
	uint8_t *o = w->wbuf;
	ssize_t r;
	size_t n, used = 0;
	int ret;

	r = conn_recv(c, data, SINK_RBUF);
	if (r <= 0)
		return (int)r;
	w->bytes += r;
	n = r;
	if (c->skip) {
		size_t k = c->skip < n ? c->skip : n;

		c->skip -= k;
		data += k;
		n -= k;
		if (!n)
			return 0;
	}
	if (c->part_len) {
		data -= c->part_len;
		memcpy(data, c->part, c->part_len);
		n += c->part_len;
		free(c->part);
		c->part = NULL;
		c->part_len = 0;
	}
	ret = parse(w, c, data, n, &used, &o);
	if (ret == PARSE_BAD) {
		w->errors++;
		return -1;
	}
	if (o > w->wbuf && conn_reply(w, c, w->wbuf, o - w->wbuf))
		return -1;
	if (ret == PARSE_CLOSE)
		return -1;
	if (used < n) {
		/* parse() only stops early inside a frame's first bytes,
		 * which fit the headroom by construction. */
		c->part_len = n - used;
		c->part = malloc(c->part_len);
		if (!c->part)
			return -1;
		memcpy(c->part, data + used, c->part_len);
	}
	return 0;
}

static void accept_all(struct worker *w)
{
	for (;;) {
		int one = 1;
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				w->errors++;	/* EMFILE: retried on the next wakeup */
			return;
		}
		/* Acks are batched per read already; don't let Nagle hold them. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			w->errors++;
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		if (tls_ctx && (!(c->ssl = SSL_new(tls_ctx)) || !SSL_set_fd(c->ssl, fd))) {
			SSL_free(c->ssl);
			close(fd);
			free(c);
			w->errors++;
			continue;
		}
		if (c->ssl)
			SSL_set_accept_state(c->ssl); /* the first SSL_read answers the hello */
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			w->errors++;
			continue;
		}
		w->conns++;
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];

	while (!stop) {
		/* The timeout only bounds how late we notice stop. */
		int n = epoll_wait(w->epfd, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			uint32_t e = evs[i].events;

			if (evs[i].data.ptr == &listener_tag) {
				accept_all(w);
				continue;
			}
			if ((e & EPOLLOUT) && conn_flush(w, c)) {
				conn_close(c);
				continue;
			}
			if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c->events & EPOLLIN)) {
				int r;

				do
					r = conn_read(w, c);
				while (!r && c->more && (c->events & EPOLLIN));
				if (r)
					conn_close(c);
			}
		}
	}
	return NULL;
}

/* A listener on 127.0.0.1:port sharing the port with its siblings. */
static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: sink --port P [--ack] [--threads N] [--tls-cert FILE --tls-key FILE]\n");
	exit(2);
}

/* The server side of TLS: the certificate and key, and records read in
 * bulk (read-ahead into a 64 KiB buffer: several records a syscall). */
static SSL_CTX *tls_server(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_peek_last_error();

		fprintf(stderr, "sink: --tls-cert %s --tls-key %s: %s\n", cert, key,
			e ? ERR_reason_error_string(e) : "refused");
		exit(1);
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 64 << 10);
	return ctx;
}

int main(int argc, char **argv)
{
	static struct worker ws[SINK_MAX_THREADS];
	long port = -1;
	long threads = 1;
	bool ack = false;
	const char *cert = NULL, *key = NULL;
	unsigned long long bytes = 0, frames = 0, conns = 0, errors = 0;
	sigset_t set;
	int sig;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--ack"))
			ack = true;
		else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc)
			cert = argv[++i];
		else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc)
			key = argv[++i];
		else
			usage();
	}
	if (port < 0 || port > 65535 || threads < 1 || threads > SINK_MAX_THREADS || !cert != !key)
		usage();
	if (cert)
		tls_ctx = tls_server(cert, key);

	/* Workers inherit this mask; only main takes the signals, in sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (long i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener_tag };

		w->ack = ack;
		w->lfd = listen_on(port);
		if (w->lfd < 0) {
			fprintf(stderr, "sink: listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
			return 1;
		}
		if (port == 0) {
			/* The first listener picked the port; the rest share it. */
			struct sockaddr_in a;
			socklen_t len = sizeof(a);

			getsockname(w->lfd, (struct sockaddr *)&a, &len);
			port = ntohs(a.sin_port);
		}
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->rbuf = malloc(SINK_HEADROOM + SINK_RBUF);
		w->wbuf = malloc(SINK_HEADROOM + SINK_RBUF);
		if (w->epfd < 0 || !w->rbuf || !w->wbuf ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev)) {
			fprintf(stderr, "sink: setup: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("port=%ld\n", port);
	fflush(stdout);

	for (long i = 0; i < threads; i++) {
		if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i])) {
			fprintf(stderr, "sink: pthread_create failed\n");
			return 1;
		}
	}
	while (sigwait(&set, &sig))
		;
	stop = 1;
	for (long i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		bytes += ws[i].bytes;
		frames += ws[i].frames;
		conns += ws[i].conns;
		errors += ws[i].errors;
	}
	fprintf(stderr, "sink: bytes=%llu frames=%llu conns=%llu errors=%llu\n", bytes, frames,
		conns, errors);
	return 0;
}
