/* The control link (see link.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist/link.h"
#include "encoders/mqtt.h"
#include "stats/clock.h"

#define LINK_KEEPALIVE_S 10

static int send_all(struct link *l, const uint8_t *p, size_t n)
{
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
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);

	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	if (l->in_cap - l->in_len < 65536) {
		size_t cap = l->in_cap ? l->in_cap * 2 : 131072;
		uint8_t *in = realloc(l->in, cap);
		if (!in)
			return -1;
		l->in = in;
		l->in_cap = cap;
	}
	ssize_t n = recv(l->fd, l->in + l->in_len, l->in_cap - l->in_len, 0);
	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
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

static int split_url(const char *url, char *host, size_t cap, char *port)
{
	const char *s = strncmp(url, "mqtt://", 7) ? url : url + 7;
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || (size_t)(colon - s) >= cap || !colon[1] || strlen(colon + 1) > 5)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	strcpy(port, colon + 1);
	return strspn(port, "0123456789") == strlen(port) ? 0 : -1;
}

int link_open(struct link *l, const char *url, const char *client_id, const char *will_topic,
	      const uint8_t *will, size_t will_len, bool will_retain, char *err, size_t err_cap)
{
	char host[256], port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->next_id = 1;
	if (split_url(url, host, sizeof(host), port)) {
		snprintf(err, err_cap, "%s: must be mqtt://HOST:PORT", url);
		return -1;
	}
	int g = getaddrinfo(host, port, &hints, &ai);
	if (g) {
		snprintf(err, err_cap, "%s: %s", url, gai_strerror(g));
		return -1;
	}
	l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || connect(l->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, err_cap, "cannot connect to %s: %s", url, strerror(errno));
		freeaddrinfo(ai);
		link_close(l);
		return -1;
	}
	freeaddrinfo(ai);
	/* A few small messages that wait on each other (a time request and its
	 * reply): Nagle's algorithm with delayed ACKs would hold one back ~40 ms. */
	int one = 1;
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct mqtt_connect c = {
		.version = MQTT_V311, .client_id = client_id, .client_id_len = strlen(client_id),
		.keepalive = LINK_KEEPALIVE_S, .clean_start = true,
		.will_topic = will_topic, .will_topic_len = will_topic ? strlen(will_topic) : 0,
		.will_payload = will, .will_payload_len = will_len, .will_retain = will_topic && will_retain,
	};
	uint8_t buf[1024];
	ssize_t n = mqtt_encode_connect(buf, sizeof(buf), &c);
	struct mqtt_frame f;
	struct mqtt_connack ack;
	int r = 0;
	if (n < 0 || send_all(l, buf, (size_t)n)) {
		snprintf(err, err_cap, "%s: cannot send CONNECT", url);
		link_close(l);
		return -1;
	}
	uint64_t until = mono_ns() + 5 * NSEC_PER_SEC;
	while ((r = next_frame(l, &f)) == 0 && mono_ns() < until)
		if (fill(l, 100) < 0)
			break;
	if (r != 1 || f.type != MQTT_CONNACK || mqtt_parse_connack(&f, MQTT_V311, &ack) || ack.code) {
		snprintf(err, err_cap, "%s: no CONNACK accepting blast's control link", url);
		link_close(l);
		return -1;
	}
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
	if (l->fd >= 0) {
		uint8_t d[4];
		ssize_t n = mqtt_encode_disconnect(d, sizeof(d), MQTT_V311, 0);
		if (n > 0)
			send_all(l, d, (size_t)n);
		close(l->fd);
	}
	free(l->in);
	l->in = NULL;
	l->fd = -1;
}
