/* http_sink: a minimal HTTP/1.1 server that answers every request with the
 * same 200, for benchmarks.
 *
 *   http_sink --port P [--threads N] [--body TEXT]
 *
 * Listens on 127.0.0.1:P (0 picks a free port), prints "port=NNNN" on
 * stdout and answers every request with "200 OK", a Content-Length and
 * keep-alive (or closes after the answer when the request said
 * "Connection: close" or was HTTP/1.0 without keep-alive). Pipelined
 * requests are answered together: every complete request of one read in
 * one write. Request bodies (Content-Length) are read and dropped; a
 * chunked request body, a header block over SINK_HEAD_MAX or a malformed
 * request line gets a 400 and a close. Each thread has its own
 * SO_REUSEPORT listener and epoll set, as bench/sink.c. SIGINT/SIGTERM stop
 * it and print totals on stderr.
 *
 * Self-contained (no encoders/): it is the yardstick the project's own
 * HTTP code is measured against. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SINK_RBUF	(1u << 20)	/* one read: big, so syscalls stay rare */
#define SINK_HEAD_MAX	(64u << 10)	/* longest header block we keep across reads */
#define SINK_OUT_MAX	(4u << 20)	/* answers owed before we stop reading */
#define SINK_MAX_THREADS 64
#define SINK_MAX_CONNS	(1u << 20)	/* per thread; more are refused */
#define SINK_SAME_MAX	256		/* longest request head remembered */

struct conn {
	int fd;
	uint32_t events;	/* what epoll watches now */
	uint64_t skip;		/* body bytes of the last request still to drop */
	uint8_t *part;		/* start of a request split by a read */
	uint32_t part_len;
	uint8_t *out;		/* answers the socket did not take yet */
	size_t out_len, out_cap;
};

struct worker {
	pthread_t tid;
	int lfd, epfd;
	uint8_t *rbuf;		/* SINK_HEAD_MAX + SINK_RBUF */
	uint8_t *wbuf;		/* answers of one read */
	size_t wbuf_cap;
	const char *resp;	/* the one answer */
	size_t resp_len;
	/* The last request head parsed that had no body and kept the
	 * connection open: the same bytes again are the same request, taken
	 * with one memcmp (a load tester sends one request over and over). */
	uint8_t same[SINK_SAME_MAX];
	size_t same_len;
	unsigned long long bytes, requests, conns, live, errors;
};

static int listener_tag;	/* epoll data.ptr for the listening socket */
static volatile int stop;
static const char bad_request[] =
	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

enum {
	PARSE_OK = 0,
	PARSE_CLOSE = 1,	/* answer, then close */
	PARSE_BAD = -1,		/* 400, then close */
};

/* Does the header line [l, e) name h (lower case, with its colon)? */
static bool header_is(const uint8_t *l, const uint8_t *e, const char *h, size_t hl)
{
	return (size_t)(e - l) >= hl && !strncasecmp((const char *)l, h, hl);
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Does [p, e) hold token t (case-insensitive) in a comma list? */
static bool has_token(const uint8_t *p, const uint8_t *e, const char *t)
{
	size_t tl = strlen(t);

	for (; p + tl <= e; p++)
		if (!strncasecmp((const char *)p, t, tl))
			return true;
	return false;
}

/* One request head at p[0..n): returns its length (through the blank line)
 * or 0 when it is not complete yet; *body gets its Content-Length; *close
 * whether to close after answering. -1: malformed. */
static long parse_head(const uint8_t *p, size_t n, uint64_t *body, bool *close)
{
	const uint8_t *e = p + n, *l = p, *nl;
	bool first = true, http10 = false, keep = false, conn_close = false;

	*body = 0;
	while ((nl = memchr(l, '\n', e - l))) {
		const uint8_t *le = nl > l && nl[-1] == '\r' ? nl - 1 : nl;

		if (first) {
			/* METHOD SP TARGET SP HTTP/1.x */
			if (le - l < 14 || memcmp(le - 8, "HTTP/1.", 7))
				return -1;
			http10 = le[-1] == '0';
			first = false;
		} else if (le == l) {
			*close = conn_close || (http10 && !keep);
			return nl + 1 - p;
		} else if (header_is(l, le, "content-length:", 15)) {
			const uint8_t *v = skip_ws(l + 15, le);
			uint64_t x = 0;

			if (v == le)
				return -1;
			for (; v < le && *v >= '0' && *v <= '9'; v++) {
				if (x > (UINT64_MAX - 9) / 10)
					return -1;
				x = x * 10 + (*v - '0');
			}
			if (skip_ws(v, le) != le)
				return -1;
			*body = x;
		} else if (header_is(l, le, "transfer-encoding:", 18)) {
			return -1;	/* chunked bodies: not for a sink */
		} else if (header_is(l, le, "connection:", 11)) {
			conn_close |= has_token(l + 11, le, "close");
			keep |= has_token(l + 11, le, "keep-alive");
		}
		l = nl + 1;
	}
	return n > SINK_HEAD_MAX ? -1 : 0;
}

/* Walks the requests in p[0..n); answers go to *o. *used gets the bytes
 * consumed; the rest is the start of a head to keep for the next read. A
 * body longer than what is here sets c->skip. */
static int parse(struct worker *w, struct conn *c, const uint8_t *p, size_t n, size_t *used,
		 uint8_t **o)
{
	size_t pos = 0;

	while (pos < n) {
		uint64_t body;
		bool close = false;
		long h;

		if (w->same_len && n - pos >= w->same_len &&
		    !memcmp(p + pos, w->same, w->same_len)) {
			/* parse_head reads nothing past the blank line */
			h = (long)w->same_len;
			body = 0;
		} else {
			h = parse_head(p + pos, n - pos, &body, &close);
			if (h < 0)
				return PARSE_BAD;
			if (h == 0)
				break;
			if (!body && !close && (size_t)h <= SINK_SAME_MAX) {
				memcpy(w->same, p + pos, (size_t)h);
				w->same_len = (size_t)h;
			}
		}
		memcpy(*o, w->resp, w->resp_len);
		*o += w->resp_len;
		w->requests++;
		pos += h;
		if (body > n - pos) {
			c->skip = body - (n - pos);
			pos = n;
		} else {
			pos += body;
		}
		if (close) {
			*used = pos;
			return PARSE_CLOSE;
		}
	}
	*used = pos;
	return PARSE_OK;
}

static void conn_close(struct worker *w, struct conn *c)
{
	close(c->fd);		/* also drops it from the epoll set */
	free(c->part);
	free(c->out);
	free(c);
	w->live--;
}

static int conn_watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

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

/* Writes what is pending; -1 when the connection is dead. Stops reading
 * a client that owes us more than SINK_OUT_MAX of unread answers. */
static int conn_flush(struct worker *w, struct conn *c)
{
	while (c->out_len) {
		ssize_t s = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			break;
		}
		memmove(c->out, c->out + s, c->out_len - s);
		c->out_len -= s;
	}
	if (!c->out_len)
		return conn_watch(w, c, EPOLLIN);
	return conn_watch(w, c, c->out_len > SINK_OUT_MAX ? EPOLLOUT : EPOLLIN | EPOLLOUT);
}

static int conn_reply(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	if (!c->out_len) {
		ssize_t s = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (s == (ssize_t)len)
			return 0;
		if (s > 0) {
			buf += s;
			len -= s;
		}
	}
	if (out_append(c, buf, len))
		return -1;
	return conn_flush(w, c);
}

/* One read, then answer every complete request in it. -1: close. */
static int conn_read(struct worker *w, struct conn *c)
{
	uint8_t *data = w->rbuf + SINK_HEAD_MAX;
	uint8_t *o = w->wbuf;
	ssize_t r;
	size_t n, used = 0;
	int ret;

	do
		r = read(c->fd, data, SINK_RBUF);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (r == 0)
		return -1;
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
		if (o > w->wbuf)
			conn_reply(w, c, w->wbuf, o - w->wbuf);
		conn_reply(w, c, (const uint8_t *)bad_request, sizeof(bad_request) - 1);
		return -1;
	}
	if (o > w->wbuf && conn_reply(w, c, w->wbuf, o - w->wbuf))
		return -1;
	if (ret == PARSE_CLOSE)
		return -1;
	if (used < n) {
		/* parse_head refused anything over SINK_HEAD_MAX, so the
		 * rest fits the room in front of the next read. */
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
		if (w->live >= SINK_MAX_CONNS) {
			close(fd);
			w->errors++;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			w->errors++;
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			w->errors++;
			continue;
		}
		w->conns++;
		w->live++;
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
				conn_close(w, c);
				continue;
			}
			if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c->events & EPOLLIN) &&
			    conn_read(w, c))
				conn_close(w, c);
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
	fprintf(stderr, "usage: http_sink --port P [--threads N] [--body TEXT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct worker ws[SINK_MAX_THREADS];
	static char resp[512];
	const char *body = "OK";
	long port = -1;
	long threads = 1;
	unsigned long long bytes = 0, requests = 0, conns = 0, errors = 0;
	sigset_t set;
	int sig, resp_len;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--body") && i + 1 < argc)
			body = argv[++i];
		else
			usage();
	}
	if (port < 0 || port > 65535 || threads < 1 || threads > SINK_MAX_THREADS)
		usage();
	resp_len = snprintf(resp, sizeof(resp),
			    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n"
			    "Content-Type: text/plain\r\n\r\n%s", strlen(body), body);
	if (resp_len < 0 || (size_t)resp_len >= sizeof(resp)) {
		fprintf(stderr, "http_sink: --body too long\n");
		return 2;
	}

	/* Workers inherit this mask; only main takes the signals, in sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (long i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener_tag };

		w->resp = resp;
		w->resp_len = resp_len;
		w->lfd = listen_on(port);
		if (w->lfd < 0) {
			fprintf(stderr, "http_sink: listen on 127.0.0.1:%ld: %s\n", port,
				strerror(errno));
			return 1;
		}
		if (port == 0) {
			/* The first listener picked the port; the rest share it. */
			struct sockaddr_in a;
			socklen_t len = sizeof(a);

			getsockname(w->lfd, (struct sockaddr *)&a, &len);
			port = ntohs(a.sin_port);
		}
		/* The shortest request ("GET / HTTP/1.1\n\n", 16 bytes)
		 * bounds how many answers one read can ask for. */
		w->wbuf_cap = ((SINK_HEAD_MAX + SINK_RBUF) / 16 + 1) * (size_t)resp_len;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->rbuf = malloc(SINK_HEAD_MAX + SINK_RBUF);
		w->wbuf = malloc(w->wbuf_cap);
		if (w->epfd < 0 || !w->rbuf || !w->wbuf ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev)) {
			fprintf(stderr, "http_sink: setup: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("port=%ld\n", port);
	fflush(stdout);

	for (long i = 0; i < threads; i++) {
		if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i])) {
			fprintf(stderr, "http_sink: pthread_create failed\n");
			return 1;
		}
	}
	while (sigwait(&set, &sig))
		;
	stop = 1;
	for (long i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		bytes += ws[i].bytes;
		requests += ws[i].requests;
		conns += ws[i].conns;
		errors += ws[i].errors;
	}
	fprintf(stderr, "http_sink: bytes=%llu requests=%llu conns=%llu errors=%llu\n", bytes,
		requests, conns, errors);
	return 0;
}
