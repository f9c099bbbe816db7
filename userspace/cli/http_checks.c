/* --proto http's flags against each other, and their defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/http.h"
#include "cli/fail.h"
#include "cli/http_checks.h"
#include "cli/values.h"

#define HTTP_DEFAULT_OK "2xx,3xx" /* what http_finish fills http_ok with */

int http_finish(struct blast_opts *o, const struct parse_state *ps)
{
	int r;

	for (unsigned i = 0; i < o->n_targets; i++)
		if (!o->targets[i].http)
			return cli_fail("--target %s:%u: --proto http takes http://HOST[:PORT][/PATH] "
					"or https://...", o->targets[i].host, o->targets[i].port);
	if (ps->at[F_INFLIGHT])
		return cli_fail("--inflight is not for --proto http (requests in flight per "
				"connection are --pipeline N)");
	if (ps->at[F_WS_SUBPROTOCOL])
		return cli_fail("--ws-subprotocol is for WebSocket, not --proto http");
	if (ps->at[F_TOPIC])
		return cli_fail("--topic is not for --proto http (a request goes to its target's "
				"path)");
	o->http_body = ps->at[F_PAYLOAD_SIZE] || o->payloads.n || o->payload_proto;
	if (!o->http_method &&
	    (r = str_arg(&o->http_method, "--method", o->http_body ? "POST" : "GET", 16)))
		return r;
	if (!o->pipeline)
		o->pipeline = 1;
	if (o->no_keepalive && o->pipeline > 1)
		return cli_fail("--pipeline %u with --no-keepalive: a connection carries one request",
				o->pipeline);
	if (!o->ok_status) {
		if ((r = str_arg(&o->ok_status, "--ok-status", HTTP_DEFAULT_OK, SIZE_MAX)))
			return r;
		for (int s = 200; s < 400; s++)
			o->http_ok[s] = true;
	}
	if (!ps->at[F_MAX_BODY])
		o->max_body = HTTP_MAX_BODY_DEFAULT;
	if (o->content_type && !o->http_body)
		return cli_fail("--content-type %s: there is no body (add --payload-size, "
				"--payload-file or --payload-proto)", cli_quote(o->content_type));
	/* Every request awaits its response, as a QoS 1 publish its ack. */
	o->qos = 1;
	o->inflight = o->pipeline;
	if (o->tls && !o->alpn && !(o->alpn = strdup("http/1.1")))
		return cli_fail("out of memory");
	/* Once here, not per request: the fields a request is made of. */
	struct http_req req = {
		.method = o->http_method,
		.path = "/",
		.host = "h",
		.headers = (const char *const *)o->ws_headers,
		.n_headers = o->n_ws_headers,
		.content_type = o->content_type,
	};
	if (!http_token_ok(o->http_method, strlen(o->http_method)))
		return cli_fail("--method %s: not a method name (a token such as GET or PURGE)",
				cli_quote(o->http_method));
	for (uint32_t i = 0; i < o->n_ws_headers; i++) {
		req.headers = (const char *const *)&o->ws_headers[i];
		req.n_headers = 1;
		if (http_req_check(&req))
			return cli_fail("--header %s: expected 'Name: value' with a token for the name "
					"and no control characters", cli_quote(o->ws_headers[i]));
		const char *h = o->ws_headers[i];
		static const char *const own[] = { "host:", "content-length:", "connection:",
						   "transfer-encoding:", "content-type:" };
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (!strncasecmp(h, own[k], strlen(own[k])))
				return cli_fail("--header %s: blast writes %.*s itself", cli_quote(h),
						(int)strlen(own[k]) - 1, h);
	}
	if (o->content_type && !http_value_ok(o->content_type, strlen(o->content_type)))
		return cli_fail("--content-type %s: control characters", cli_quote(o->content_type));
	for (unsigned i = 0; i < o->n_targets; i++) {
		req = (struct http_req){ .method = "GET", .path = o->targets[i].path, .host = "h" };
		if (http_req_check(&req))
			return cli_fail("--target: path %s: only visible ASCII, starting with '/'",
					cli_quote(o->targets[i].path));
	}
	return 0;
}
