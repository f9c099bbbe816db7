/* The WebSocket opening handshake (encoders/ws.c): the RFC's keys, the
 * upgrade request and its refusals, every prefix and corruption of a
 * response read from bytes that end at a PROT_NONE page, and a round trip. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/ws.h"
#include "guard.h"
#include "t.h"
#include "ws_vectors.h"

/* ---- handshake ---- */

static void test_handshake_keys(void)
{
	char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1];

	ws_make_key((const uint8_t *)"the sample nonce", key);
	CHECK(!strcmp(key, rfc_key_b64));
	CHECK_EQ_INT(ws_accept_for_key(rfc_key_b64, acc), 0);
	CHECK(!strcmp(acc, rfc_accept));
	CHECK_EQ_INT(ws_accept_for_key("short", acc), -EINVAL);
	CHECK_EQ_INT(ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ==x", acc), -EINVAL);
}

static void test_upgrade_request(void)
{
	static const char *const extra[] = { "Origin: http://example.com" };
	static const char *const bad_extra[][1] = {
		{ "NoColon" }, { ": empty name" }, { "Bad Name: x" },
		{ "X-A: 1\r\nX-B: 2" }, { "X-A: \n" },
	};
	uint8_t out[512];
	ssize_t n;

	n = ws_encode_upgrade(out, sizeof(out), "server.example.com", "/chat", rfc_key_b64,
			      "chat, superchat", extra, 1);
	CHECK_MEM(out, n, rfc_request, strlen(rfc_request));
	n = ws_encode_upgrade(out, sizeof(out), "127.0.0.1:8080", "/mqtt?x=1", rfc_key_b64, NULL,
			      NULL, 0);
	static const char minimal[] = "GET /mqtt?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				      "Sec-WebSocket-Version: 13\r\n\r\n";
	CHECK_MEM(out, n, minimal, strlen(minimal));

	/* Injection and shape refusals. */
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "", "/", rfc_key_b64, NULL, NULL, 0),
		     -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h\r\nX: y", "/", rfc_key_b64, NULL, NULL,
				       0), -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "chat", rfc_key_b64, NULL, NULL, 0),
		     -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "/a b", rfc_key_b64, NULL, NULL, 0),
		     -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "/", "abc", NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "/", rfc_key_b64, "", NULL, 0),
		     -EINVAL);
	CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "/", rfc_key_b64, "a\nb", NULL, 0),
		     -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_extra); i++)
		CHECK_EQ_INT(ws_encode_upgrade(out, sizeof(out), "h", "/", rfc_key_b64, NULL,
					       bad_extra[i], 1), -EINVAL);
}

/* Every prefix of a response is "need more" (it ends with CRLFCRLF). */
static void check_response_truncations(const char *s, size_t n, const char *accept)
{
	struct ws_upgrade_resp r;
	int bad = 0;

	for (size_t k = 0; k < n; k++)
		if (ws_parse_upgrade_response(guard_copy(s, k), k, accept, &r) != 0)
			bad++;
	CHECK_EQ_INT(bad, 0);
}

static void test_upgrade_response(void)
{
	struct ws_upgrade_resp r;
	size_t n = strlen(rfc_response);
	ssize_t got;

	check_response_truncations(rfc_response, n, rfc_accept);
	got = ws_parse_upgrade_response(guard_copy(rfc_response, n), n, rfc_accept, &r);
	CHECK_EQ_INT(got, n);
	CHECK_EQ_INT(r.status, 101);
	CHECK_MEM(r.reason, r.reason_len, "Switching Protocols", 19);
	CHECK(r.upgrade_ok && r.connection_ok && r.accept_ok && !r.extensions);
	CHECK_MEM(r.subprotocol, r.subprotocol_len, "chat", 4);
	CHECK(ws_upgrade_problem(&r, "chat, superchat") == NULL);
	CHECK(ws_upgrade_problem(&r, "superchat") != NULL);
	CHECK(!strcmp(ws_upgrade_problem(&r, NULL), "subprotocol"));
	/* A different key's accept. */
	ws_parse_upgrade_response((const uint8_t *)rfc_response, n, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				  &r);
	CHECK(!r.accept_ok && !strcmp(ws_upgrade_problem(&r, "chat"), "accept"));

	/* Refusal: reported with its code and reason. */
	static const char refused[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	n = strlen(refused);
	check_response_truncations(refused, n, rfc_accept);
	got = ws_parse_upgrade_response(guard_copy(refused, n), n, rfc_accept, &r);
	CHECK_EQ_INT(got, n);
	CHECK_EQ_INT(r.status, 400);
	CHECK_MEM(r.reason, r.reason_len, "Bad Request", 11);
	CHECK(!strcmp(ws_upgrade_problem(&r, NULL), "status"));

	/* Case-insensitive names, OWS, token lists, frames after the block. */
	static const char mixed[] = "HTTP/1.1 101 \r\nuPgRaDe:WebSocket  \r\n"
				    "CONNECTION: keep-alive ,  upgrade\r\n"
				    "sec-websocket-accept:\t s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\t\r\n"
				    "Server: x\r\n\r\n\x81\x05Hello";
	n = sizeof(mixed) - 1;
	got = ws_parse_upgrade_response(guard_copy(mixed, n), n, rfc_accept, &r);
	CHECK_EQ_INT(got, n - 7);
	CHECK(r.status == 101 && r.reason_len == 0 && r.upgrade_ok && r.connection_ok &&
	      r.accept_ok && !r.subprotocol);
	CHECK(ws_upgrade_problem(&r, NULL) == NULL);
	CHECK(ws_upgrade_problem(&r, "mqtt") == NULL); /* absent is allowed (4.1) */

	/* Status line without a reason or its space; HTTP/1.0. */
	static const char bare[] = "HTTP/1.0 503\r\n\r\n";
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(bare, 16), 16, NULL, &r), 16);
	CHECK(r.status == 503 && r.reason_len == 0);

	/* What each problem is called. */
	static const struct {
		const char *resp;
		const char *want;
	} problems[] = {
		{ "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "upgrade" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "upgrade" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "upgrade" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "connection" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "accept" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "accept" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		  "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", "extensions" },
		{ "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		  "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n", "subprotocol" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(problems); i++) {
		const char *s = problems[i].resp, *p;

		n = strlen(s);
		got = ws_parse_upgrade_response(guard_copy(s, n), n, rfc_accept, &r);
		CHECK_EQ_INT(got, n);
		p = ws_upgrade_problem(&r, "chat, superchat");
		CHECK(p && !strcmp(p, problems[i].want));
		if (!p || strcmp(p, problems[i].want))
			fprintf(stderr, "problem %zu: got %s\n", i, p ? p : "(none)");
	}

	/* Malformed. */
	static const char *const bad[] = {
		"HTTP/1.1 101 OK\nUpgrade: websocket\r\n\r\n",   /* bare LF */
		"HTTP/1.1 101 OK\r\nUpgrade: websocket\n\r\n",
		"\r\n",                                          /* no status line */
		"HTTP/2 101 OK\r\n\r\n",
		"HTTP/1.1 99 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/1.1 600 OK\r\n\r\n",
		"HTTP/1.1 1O1 OK\r\n\r\n",
		"HTTP/1.1 101OK\r\n\r\n",
		"HTTPS/1.1 101 OK\r\n\r\n",
		"HTTP/1.1 101 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 101 OK\r\n: empty\r\n\r\n",
		"HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n", /* space before colon */
		"HTTP/1.1 101 OK\r\nA: b\r\n folded\r\n\r\n",     /* obs-fold */
		"HTTP/1.1 101 OK\r\nA: b\rc\r\n\r\n",             /* lone CR */
		"HTTP/1.1 101 OK\r\nA: \x01\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		n = strlen(bad[i]);
		got = ws_parse_upgrade_response(guard_copy(bad[i], n), n, rfc_accept, &r);
		if (got != -EPROTO)
			fprintf(stderr, "bad response %zu: got %zd\n", i, got);
		CHECK_EQ_INT(got, -EPROTO);
	}

	/* A header block that never ends: -EMSGSIZE at the bound, not before. */
	char *huge = malloc(WS_UPGRADE_MAX + 100);
	CHECK(huge != NULL);
	if (!huge)
		return;
	size_t len = 0;
	len += (size_t)sprintf(huge, "HTTP/1.1 101 OK\r\n");
	while (len + 20 < WS_UPGRADE_MAX + 100)
		len += (size_t)sprintf(huge + len, "X-Pad: 0123456789\r\n");
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(huge, WS_UPGRADE_MAX - 1),
					       WS_UPGRADE_MAX - 1, NULL, &r), 0);
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(huge, WS_UPGRADE_MAX), WS_UPGRADE_MAX,
					       NULL, &r), -EMSGSIZE);
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(huge, len), len, NULL, &r), -EMSGSIZE);
	/* A block of exactly WS_UPGRADE_MAX bytes is accepted. */
	len = (size_t)sprintf(huge, "HTTP/1.1 101 OK\r\nX: ");
	memset(huge + len, 'v', WS_UPGRADE_MAX - len - 4);
	memcpy(huge + WS_UPGRADE_MAX - 4, "\r\n\r\n", 4);
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(huge, WS_UPGRADE_MAX), WS_UPGRADE_MAX,
					       NULL, &r), WS_UPGRADE_MAX);
	free(huge);
}

/* Encode -> upgrade request -> a server's answer built from its key. */
static void test_handshake_round_trip(void)
{
	uint8_t nonce[16], req[256], resp[256];
	char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1];
	struct ws_upgrade_resp r;

	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(i * 29 + 3);
	ws_make_key(nonce, key);
	CHECK_EQ_INT(strlen(key), WS_KEY_LEN);
	CHECK(ws_encode_upgrade(req, sizeof(req), "h", "/", key, "mqtt", NULL, 0) > 0);
	CHECK_EQ_INT(ws_accept_for_key(key, acc), 0);
	int n = snprintf((char *)resp, sizeof(resp),
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
			 "Sec-WebSocket-Protocol: mqtt\r\n\r\n", acc);
	CHECK_EQ_INT(ws_parse_upgrade_response(guard_copy(resp, (size_t)n), (size_t)n, acc, &r), n);
	CHECK(ws_upgrade_problem(&r, "mqtt") == NULL);
}

int main(void)
{
	if (guard_init(70000)) { /* room for a 64 KiB frame */
		perror("guard page");
		return T_FAIL;
	}
	test_handshake_keys();
	test_upgrade_request();
	test_upgrade_response();
	test_handshake_round_trip();
	return t_done("test_ws_handshake");
}
