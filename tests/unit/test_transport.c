/* The transport stack (userspace/transport/) over a socketpair: TCP with
 * WebSocket above it. The client side is the stack; the test plays the
 * server, reading what the stack wrote and answering with real bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "encoders/ws.h"
#include "stats/hist.h"
#include "t.h"
#include "transport/addr.h"
#include "transport/transport.h"

/* What the stack told its driver. */
static struct {
	uint8_t got[256];
	size_t got_len;
	int ups, fails;
	enum blast_err why;
} seen;

static void on_fail(void *ctx, struct tlink *l, enum blast_err why)
{
	(void)ctx, (void)l;
	seen.fails++;
	seen.why = why;
}

static int on_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n)
{
	(void)ctx, (void)l;
	if (seen.got_len + n <= sizeof(seen.got)) {
		memcpy(seen.got + seen.got_len, p, n);
		seen.got_len += n;
	}
	return 0;
}

static void on_layer_up(void *ctx, struct tlink *l)
{
	(void)ctx, (void)l;
	seen.ups++;
}

static int64_t no_offset(void *ctx, const uint8_t *p)
{
	(void)ctx, (void)p;
	return -1;
}

static void no_mark(void *ctx, int64_t off)
{
	(void)ctx, (void)off;
}

/* Reads what is there (the peer wrote it before we read). */
static size_t drain(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

	return n > 0 ? (size_t)n : 0;
}

/* A client frame's payload, unmasked into out (payloads under 126 bytes). */
static size_t client_payload(const uint8_t *f, size_t n, uint8_t *opcode, uint8_t *out)
{
	if (n < 6 || !(f[1] & 0x80) || (f[1] & 0x7f) > 125 || n < 6u + (f[1] & 0x7f))
		return (size_t)-1;
	size_t len = f[1] & 0x7f;
	*opcode = f[0] & 0x0f;
	for (size_t i = 0; i < len; i++)
		out[i] = f[6 + i] ^ f[2 + (i & 3)];
	return len;
}

static bool loopback(int family, const char *text)
{
	struct sockaddr_storage a = { .ss_family = (sa_family_t)family };
	void *dst = family == AF_INET ? (void *)&((struct sockaddr_in *)&a)->sin_addr :
					(void *)&((struct sockaddr_in6 *)&a)->sin6_addr;

	CHECK_EQ_INT(inet_pton(family, text, dst), 1);
	return addr_is_loopback(&a);
}

/* The one loopback test (the probe's interface, the capture's, the
 * source spread): IPv4-mapped 127.x is loopback too. */
static void test_loopback(void)
{
	struct sockaddr_storage un = { .ss_family = AF_UNIX };

	CHECK(loopback(AF_INET, "127.0.0.1"));
	CHECK(loopback(AF_INET, "127.200.3.4"));
	CHECK(!loopback(AF_INET, "128.0.0.1"));
	CHECK(!loopback(AF_INET, "10.0.0.1"));
	CHECK(loopback(AF_INET6, "::1"));
	CHECK(loopback(AF_INET6, "::ffff:127.0.0.1"));
	CHECK(!loopback(AF_INET6, "::ffff:10.0.0.1"));
	CHECK(!loopback(AF_INET6, "::2"));
	CHECK(!loopback(AF_INET6, "fe80::1"));
	CHECK(!addr_is_loopback(&un));
}

/* A 101 that fails RFC 6455 4.1 is counted by what failed it. */
static void upgrade_answer(struct tstack *s, struct blast_target *tg, const char *accept_for,
			   const char *subprotocol)
{
	struct tlink l = { 0 };
	uint8_t buf[4096];
	uint32_t off = 0, len = 0;
	char resp[512], accept[WS_ACCEPT_LEN + 1];

	CHECK_EQ_INT(tlink_open(&l, s, tg, 3), 0);
	CHECK_EQ_INT(tlink_hello(&l, buf, sizeof(buf), sizeof(buf), &off, &len), 1);
	buf[len] = 0;
	char *k = strstr((char *)buf + off, "Sec-WebSocket-Key: ");
	CHECK(k != NULL);
	char key[WS_KEY_LEN + 1] = { 0 };
	if (k)
		memcpy(key, k + 19, WS_KEY_LEN);
	CHECK_EQ_INT(ws_accept_for_key(accept_for ? accept_for : key, accept), 0);
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
			 "Sec-WebSocket-Protocol: %s\r\n\r\n", accept, subprotocol);
	CHECK(tlink_recv(&l, (const uint8_t *)resp, (size_t)n) < 0);
	CHECK(!tlink_is_up(&l));
	tlink_close(&l);
}

static void test_upgrade_named(struct tstack *s, struct blast_target *tg, struct blast_totals *tot)
{
	memset(tot, 0, sizeof(*tot));
	upgrade_answer(s, tg, "dGhlIHNhbXBsZSBub25jZQ==", "mqtt");
	CHECK_EQ_INT(tot->errors[ERR_UPGRADE_WRONG_ACCEPT], 1);
	upgrade_answer(s, tg, NULL, "other");
	CHECK_EQ_INT(tot->errors[ERR_UPGRADE_SUBPROTOCOL], 1);
	CHECK_EQ_INT(tot->errors[ERR_PROTOCOL], 0);
}

int main(void)
{
	struct blast_opts o = { .proto = PROTO_MQTT, .transport = TRANSPORT_WS,
				.ws_subprotocol = "mqtt" };
	struct blast_target tg = { .host = "127.0.0.1", .port = 1883, .path = "/mqtt" };
	struct blast_totals tot = { 0 };
	uint64_t now = 12345;
	struct hist *stage[HS__COUNT] = { [HS_WS_UPGRADE] = hist_new() };
	struct transport_env env = { .o = &o, .t = &tot, .now = &now, .fail = on_fail,
				     .deliver = on_deliver, .layer_up = on_layer_up,
				     .rx_offset = no_offset, .rx_mark_at = no_mark, .stage = stage };
	struct tstack s;
	struct tlink l = { 0 };
	int sv[2];
	uint8_t buf[4096], srv[4096];
	uint32_t off = 0, len = 0;

	test_loopback();
	CHECK_EQ_INT(tstack_build(&s, &o, &env, NULL, 0), 0);
	CHECK_EQ_INT(s.n, 2);
	CHECK(s.framed);
	CHECK_EQ_INT(s.headroom, 14);
	CHECK(strcmp(s.layer[0]->name, "tcp") == 0);
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ_INT(tlink_open(&l, &s, &tg, 7), 0);
	CHECK(!tlink_is_up(&l));

	/* The upgrade request goes out first, unframed (tcp frames nothing). */
	CHECK_EQ_INT(tlink_hello(&l, buf, sizeof(buf), sizeof(buf), &off, &len), 1);
	CHECK_EQ_INT(off, 0);
	CHECK(len > 0 && memcmp(buf, "GET /mqtt HTTP/1.1\r\n", 20) == 0);
	/* The peer closing while the upgrade waits: the layer names it. */
	CHECK_EQ_INT(tlink_closed_err(&l, false), ERR_UPGRADE_CLOSED);
	CHECK_EQ_INT(tlink_closed_err(&l, true), ERR_UPGRADE_CLOSED);
	CHECK_EQ_INT(send(sv[0], buf + off, len - off, 0), (ssize_t)(len - off));
	size_t n = drain(sv[1], srv, sizeof(srv) - 1);
	srv[n] = 0;
	char *k = strstr((char *)srv, "Sec-WebSocket-Key: ");
	CHECK(k != NULL);
	char key[WS_KEY_LEN + 1] = { 0 }, accept[WS_ACCEPT_LEN + 1];
	if (k)
		memcpy(key, k + 19, WS_KEY_LEN);
	CHECK_EQ_INT(ws_accept_for_key(key, accept), 0);

	/* The server accepts, and its first frame follows in the same read:
	 * the layer comes up and the frame's payload reaches the protocol. */
	int hl = snprintf((char *)srv, sizeof(srv),
			  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
			  "Sec-WebSocket-Protocol: mqtt\r\n\r\n", accept);
	const uint8_t frame[] = { 0x82, 0x04, 0x20, 0x02, 0x00, 0x00 }; /* CONNACK */
	memcpy(srv + hl, frame, sizeof(frame));
	CHECK_EQ_INT(send(sv[1], srv, (size_t)hl + sizeof(frame), 0), hl + (ssize_t)sizeof(frame));
	n = drain(sv[0], buf, sizeof(buf));
	now += 5000000; /* the upgrade took 5 ms: its stage says so */
	CHECK_EQ_INT(tlink_recv(&l, buf, n), 0);
	CHECK_EQ_INT(seen.ups, 1);
	CHECK(tlink_is_up(&l));
	CHECK_EQ_INT(stage[HS_WS_UPGRADE]->total, 1);
	CHECK(hist_percentile(stage[HS_WS_UPGRADE], 50) >= 4900000 &&
	      hist_percentile(stage[HS_WS_UPGRADE], 50) <= 5100000);
	CHECK_MEM(seen.got, seen.got_len, frame + 2, 4);
	CHECK_EQ_INT(tlink_hello(&l, buf, sizeof(buf), sizeof(buf), &off, &len), 0);
	CHECK_EQ_INT(tlink_closed_err(&l, false), ERR_CONN_CLOSED);
	CHECK_EQ_INT(tlink_closed_err(&l, true), ERR_CONN_RESET);

	/* A send: the protocol writes after the headroom, the stack frames it. */
	memcpy(buf + s.headroom, "\xe0\x00", 2); /* DISCONNECT */
	off = s.headroom;
	len = s.headroom + 2;
	CHECK_EQ_INT(tlink_wrap(&l, buf, &off, &len, sizeof(buf)), 0);
	CHECK_EQ_INT(off, s.headroom - 6);
	CHECK_EQ_INT(len, s.headroom + 2);
	CHECK_EQ_INT(send(sv[0], buf + off, s.headroom + 2 - off, 0), 8);
	n = drain(sv[1], srv, sizeof(srv));
	uint8_t op, pl[16];
	CHECK_EQ_INT(client_payload(srv, n, &op, pl), 2);
	CHECK_EQ_INT(op, WS_OP_BINARY);
	CHECK_MEM(pl, 2, "\xe0\x00", 2);

	/* A ping split over two reads is answered with a pong carrying its
	 * payload, owed until the driver takes it. */
	const uint8_t ping[] = { 0x89, 0x03, 'a', 'b', 'c' };
	CHECK_EQ_INT(tlink_recv(&l, ping, 2), 0);
	CHECK_EQ_INT(tlink_recv(&l, ping + 2, 3), 0);
	size_t c = tlink_take_control(&l, buf, sizeof(buf), sizeof(buf));
	CHECK_EQ_INT(client_payload(buf, c, &op, pl), 3);
	CHECK_EQ_INT(op, WS_OP_PONG);
	CHECK_MEM(pl, 3, "abc", 3);
	CHECK_EQ_INT(tlink_take_control(&l, buf, sizeof(buf), sizeof(buf)), 0);

	/* A clean close: after the protocol's goodbye, the layer's close
	 * frame (1000), once; the server's answering close is the end of the
	 * closing handshake, not a close counted or a failure. */
	CHECK(s.byes);
	memcpy(buf, "\xe0\x00", 2);
	uint32_t bl = tlink_bye(&l, buf, 2, sizeof(buf));
	CHECK_EQ_INT(bl, 2 + 8);
	CHECK_EQ_INT(client_payload(buf + 2, bl - 2, &op, pl), 2);
	CHECK_EQ_INT(op, WS_OP_CLOSE);
	CHECK_MEM(pl, 2, "\x03\xe8", 2);
	CHECK_EQ_INT(tlink_bye(&l, buf, 2, sizeof(buf)), 2);
	const uint8_t answer[] = { 0x88, 0x02, 0x03, 0xe8 };
	CHECK_EQ_INT(tlink_recv(&l, answer, sizeof(answer)), 0);
	CHECK_EQ_INT(seen.fails, 0);
	CHECK_EQ_INT(tot.ws_close[0], 0);
	CHECK_EQ_INT(tlink_take_control(&l, buf, sizeof(buf), sizeof(buf)), 0);

	/* A masked frame from the server breaks the connection. */
	const uint8_t bad[] = { 0x82, 0x81, 1, 2, 3, 4, 5 };
	CHECK(tlink_recv(&l, bad, sizeof(bad)) < 0);
	CHECK_EQ_INT(seen.fails, 1);
	CHECK_EQ_INT(seen.why, ERR_PROTOCOL);
	tlink_close(&l);
	test_upgrade_named(&s, &tg, &tot);

	/* TCP alone: nothing to say, nothing framed, bytes straight through. */
	struct blast_opts plain = { .proto = PROTO_MQTT };
	struct tstack t;
	struct tlink m = { 0 };
	CHECK_EQ_INT(tstack_build(&t, &plain, &env, NULL, 0), 0);
	CHECK(!t.wraps);
	CHECK(!t.byes);
	CHECK_EQ_INT(t.n, 1);
	CHECK(!t.framed);
	CHECK_EQ_INT(t.headroom, 0);
	CHECK_EQ_INT(tlink_open(&m, &t, &tg, 1), 0);
	CHECK_EQ_INT(tlink_hello(&m, buf, sizeof(buf), sizeof(buf), &off, &len), 0);
	CHECK(tlink_is_up(&m));
	seen.got_len = 0;
	CHECK_EQ_INT(tlink_recv(&m, (const uint8_t *)"xyz", 3), 0);
	CHECK_MEM(seen.got, seen.got_len, "xyz", 3);
	tlink_close(&m);
	CHECK_EQ_INT(tcp_connect_error(-ECONNREFUSED), ERR_CONNECT_REFUSED);
	CHECK_EQ_INT(tcp_connect_error(-EIO), ERR_CONNECT_FAILED);

	close(sv[0]);
	close(sv[1]);
	free(stage[HS_WS_UPGRADE]);
	return t_done("test_transport");
}
