/* The control link (see link.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/opts.h"
#include "dist/link.h"
#include "encoders/mqtt.h"
#include "stats/clock.h"
#include "transport/tls.h"
#include "transport/tls_block.h"

#define LINK_KEEPALIVE_S 10
#define LINK_TLS_TIMEOUT_MS 5000

/* OpenSSL's reason for the last failure (an alert from the broker, such
 * as "certificate required"), kept for the line that reports it. */
static void note_tls_error(struct link *l)
{
	unsigned long e = ERR_peek_last_error();

	if (e && ERR_reason_error_string(e))
		snprintf(l->tls_why, sizeof(l->tls_why), "%s", ERR_reason_error_string(e));
}

static int send_all(struct link *l, const uint8_t *p, size_t n)
{
	if (l->tb) {
		ERR_clear_error();
		if (tls_block_send(l->tb, p, n, LINK_TLS_TIMEOUT_MS) < 0) {
			note_tls_error(l);
			return -1;
		}
		n = 0;
	}
	while (n) {
		ssize_t w = send(l->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	l->last_send_ns = mono_ns();
	return 0;
}

/* Reads more bytes, waiting up to timeout_ms: 1 got some, 0 none, -1 gone. */
static int fill(struct link *l, int timeout_ms)
{
	if (l->in_cap - l->in_len < 65536) {
		size_t cap = l->in_cap ? l->in_cap * 2 : 131072;
		uint8_t *in = realloc(l->in, cap);
		if (!in)
			return -1;
		l->in = in;
		l->in_cap = cap;
	}
	ssize_t n;
	if (l->tb) {
		/* OpenSSL may hold a record already read: asked before any poll. */
		ERR_clear_error();
		n = tls_block_recv(l->tb, l->in + l->in_len, l->in_cap - l->in_len, timeout_ms);
		if (n == -ETIMEDOUT)
			return 0;
		if (n == -EPROTO)
			note_tls_error(l);
		if (n < 0)
			return -1;
	} else {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout_ms);
		if (r <= 0)
			return r < 0 && errno != EINTR ? -1 : 0;
		n = recv(l->fd, l->in + l->in_len, l->in_cap - l->in_len, 0);
		if (n <= 0)
			return n < 0 && errno == EINTR ? 0 : -1;
	}
	/* ACK at once (Linux turns it off again): a broker that does not set
	 * TCP_NODELAY holds its next small message until this ACK comes. */
	int one = 1;
	setsockopt(l->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	l->in_len += (size_t)n;
	l->bytes_in += (uint64_t)n;
	return 1;
}

/* The next whole frame: 1, 0 (not yet), -1 (broken). */
static int next_frame(struct link *l, struct mqtt_frame *f)
{
	if (l->consumed) {
		memmove(l->in, l->in + l->consumed, l->in_len - l->consumed);
		l->in_len -= l->consumed;
		l->consumed = 0;
	}
	ssize_t r = mqtt_decode_frame(l->in, l->in_len, LINK_MAX_FRAME, f);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	l->consumed = f->frame_len;
	return 1;
}

static const struct tls_flag_names control_flags = { "--control-cacert", "--control-cert",
						     "--control-key" };

/* The TLS handshake over l->fd with the --control-* flags' context. */
static int tls_start(struct link *l, const struct link_cfg *c, char *err, size_t cap)
{
	struct blast_target t = { 0 };

	l->tls_opts = calloc(1, sizeof(*l->tls_opts));
	if (!l->tls_opts) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	l->tls_opts->cacert = (char *)c->cacert;
	l->tls_opts->cert = (char *)c->cert;
	l->tls_opts->key_file = (char *)c->key;
	l->tls_opts->insecure = c->insecure;
	l->tls_opts->tls_resume = TLS_RESUME_OFF;
	l->tls_opts->tls_flags = &control_flags;
	snprintf(t.host, sizeof(t.host), "%s", c->host);
	int fl = fcntl(l->fd, F_GETFL);
	if (fl < 0 || fcntl(l->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, cap, "%s", strerror(errno));
		return -1;
	}
	if (!(l->tls = tls_run_new(l->tls_opts, err, cap)))
		return -1;
	l->tb = tls_block_connect(l->tls, l->fd, &t, LINK_TLS_TIMEOUT_MS, err, cap);
	return l->tb ? 0 : -1;
}

/* Why the broker went away during CONNECT: OpenSSL's reason when TLS
 * failed (an alert), else what happened (ending in an open parenthesis)
 * and the likely mistake. */
static void closed_why(const struct link *l, const char *what, char *why, size_t cap)
{
	if (l->tls_why[0])
		snprintf(why, cap, "TLS failed after the handshake: %s%s", l->tls_why,
			 strstr(l->tls_why, "certificate") ? " (--control-cert and --control-key?)" : "");
	else
		snprintf(why, cap, "%s%s)", what,
			 l->tls ? "does it want a client certificate? --control-cert" :
				  "a TLS port? then mqtts://");
}

/* Why a CONNECT got no CONNACK accepting it, in words. */
static void connack_why(struct link *l, int r, const struct mqtt_frame *f, char *err, size_t cap)
{
	struct mqtt_connack ack;

	if (r == 1 && f->type == MQTT_CONNACK && !mqtt_parse_connack(f, MQTT_V311, &ack))
		snprintf(err, cap, "CONNACK refused the control link: %s (code %u)%s",
			 mqtt_connack_name(MQTT_V311, ack.code), ack.code,
			 ack.code == 4 || ack.code == 5 ? "; check --control-username and "
							   "--control-password" : "");
	else if (r == 1)
		snprintf(err, cap, "answered CONNECT with something other than a CONNACK%s",
			 l->tls ? "" : " (is it a TLS port? then mqtts://)");
	else if (r < 0)
		snprintf(err, cap, "sent bytes that are not MQTT%s",
			 l->tls ? "" : " (is it a TLS port? then mqtts://)");
	else
		snprintf(err, cap, "no CONNACK within 5 s (closed, or not an MQTT broker%s)",
			 l->tls ? "" : "; a TLS port? then mqtts://");
}

int link_open(struct link *l, const struct link_cfg *c, const char *client_id, const char *will_topic,
	      const uint8_t *will, size_t will_len, bool will_retain, char *err, size_t err_cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char why[512];

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->next_id = 1;
	int g = getaddrinfo(c->host, c->port, &hints, &ai);
	if (g) {
		snprintf(err, err_cap, "control broker %s: %s", c->url, gai_strerror(g));
		return -1;
	}
	l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || connect(l->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, err_cap, "cannot connect to control broker %s: %s", c->url,
			 strerror(errno));
		freeaddrinfo(ai);
		link_close(l);
		return -1;
	}
	freeaddrinfo(ai);
	/* A few small messages that wait on each other (a time request and its
	 * reply): Nagle's algorithm with delayed ACKs would hold one back ~40 ms. */
	int one = 1;
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->tls && tls_start(l, c, why, sizeof(why))) {
		snprintf(err, err_cap, "control broker %s: %s", c->url, why);
		link_close(l);
		return -1;
	}
	struct mqtt_connect m = {
		.version = MQTT_V311, .client_id = client_id, .client_id_len = strlen(client_id),
		.keepalive = LINK_KEEPALIVE_S, .clean_start = true,
		.will_topic = will_topic, .will_topic_len = will_topic ? strlen(will_topic) : 0,
		.will_payload = will, .will_payload_len = will_len, .will_retain = will_topic && will_retain,
		.username = c->has_user ? c->username : NULL,
		.username_len = c->has_user ? strlen(c->username) : 0,
		.password = c->has_pass ? (const uint8_t *)c->password : NULL,
		.password_len = c->has_pass ? strlen(c->password) : 0,
	};
	uint8_t buf[2048];
	ssize_t n = mqtt_encode_connect(buf, sizeof(buf), &m);
	struct mqtt_frame f;
	struct mqtt_connack ack;
	int r = 0;
	if (n < 0 || send_all(l, buf, (size_t)n)) {
		if (l->tb && !l->tls_why[0])
			fill(l, 500); /* the alert that came before, if still there to read */
		closed_why(l, "cannot send CONNECT (closed at once; ", why, sizeof(why));
		snprintf(err, err_cap, "control broker %s: %s", c->url, why);
		link_close(l);
		return -1;
	}
	uint64_t until = mono_ns() + 5 * NSEC_PER_SEC;
	bool closed = false;
	while ((r = next_frame(l, &f)) == 0 && mono_ns() < until)
		if (fill(l, 100) < 0) {
			closed = true;
			break;
		}
	if (r != 1 || f.type != MQTT_CONNACK || mqtt_parse_connack(&f, MQTT_V311, &ack) || ack.code) {
		if (r == 0 && closed)
			closed_why(l, "closed the connection before a CONNACK (", why, sizeof(why));
		else
			connack_why(l, r, &f, why, sizeof(why));
		snprintf(err, err_cap, "control broker %s: %s", c->url, why);
		link_close(l);
		return -1;
	}
	l->up = true;
	return 0;
}

int link_subscribe(struct link *l, const char *filter)
{
	uint8_t buf[512], qos = 0;
	const char *f[] = { filter };
	ssize_t n = mqtt_encode_subscribe(buf, sizeof(buf), MQTT_V311, l->next_id++, f, &qos, 1);

	if (!l->next_id)
		l->next_id = 1;
	return n < 0 ? -1 : send_all(l, buf, (size_t)n);
}

int link_publish(struct link *l, const char *topic, const uint8_t *p, size_t n, bool retain)
{
	struct mqtt_publish pub = { .version = MQTT_V311, .topic = topic, .topic_len = strlen(topic),
				    .payload = p, .payload_len = n, .retain = retain };
	size_t size = mqtt_publish_size(&pub);
	uint8_t *buf = malloc(size);
	int r = -1;

	if (buf && mqtt_encode_publish(buf, size, &pub, NULL) == (ssize_t)size)
		r = send_all(l, buf, size);
	free(buf);
	return r;
}

int link_poll(struct link *l, int timeout_ms, struct link_msg *m)
{
	uint64_t until = mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

	if (l->fd < 0)
		return -1;
	for (;;) {
		struct mqtt_frame f;
		int r = next_frame(l, &f);
		if (r < 0)
			return -1;
		if (r == 1 && f.type == MQTT_PUBLISH) {
			struct mqtt_publish p;
			if (mqtt_parse_publish(&f, MQTT_V311, &p))
				return -1;
			*m = (struct link_msg){ p.topic, p.topic_len, p.payload, p.payload_len };
			return 1;
		}
		if (r == 1)
			continue; /* SUBACK, PINGRESP */
		uint64_t now = mono_ns();
		if (now - l->last_send_ns > LINK_KEEPALIVE_S * NSEC_PER_SEC / 2) {
			uint8_t ping[2];
			if (mqtt_encode_pingreq(ping, sizeof(ping)) != 2 || send_all(l, ping, 2))
				return -1;
		}
		if (now >= until)
			return 0;
		int left = (int)((until - now) / NSEC_PER_MSEC) + 1;
		if (fill(l, left < 100 ? left : 100) < 0)
			return -1;
	}
}

void link_close(struct link *l)
{
	if (l->fd >= 0 && l->up) {
		uint8_t d[4];
		ssize_t n = mqtt_encode_disconnect(d, sizeof(d), MQTT_V311, 0);
		if (n > 0)
			send_all(l, d, (size_t)n);
	}
	tls_block_free(l->tb);
	if (l->fd >= 0)
		close(l->fd);
	l->up = false;
	tls_run_free(l->tls);
	free(l->tls_opts);
	l->tb = NULL;
	l->tls = NULL;
	l->tls_opts = NULL;
	free(l->in);
	l->in = NULL;
	l->fd = -1;
}
