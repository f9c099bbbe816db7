/* --proto http's flags: targets with and without ports and paths, the
 * defaults that follow from other flags, --ok-status, and every refusal
 * (one "blast: " line, status 2). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config/opts.h"
#include "opts_harness.h"

static void test_http_good(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--proto", "http")) {
		CHECK_EQ_INT(o.n_targets, 1);
		CHECK(o.targets[0].http && !o.targets[0].tls && !o.targets[0].ws);
		CHECK_EQ_INT(o.targets[0].port, 8080);
		CHECK(!strcmp(o.targets[0].path, "/"));
		CHECK(!strcmp(o.http_method, "GET"));
		CHECK(!o.http_body);
		CHECK_EQ_INT(o.pipeline, 1);
		CHECK_EQ_INT(o.qos, 1);
		CHECK_EQ_INT(o.inflight, 1);
		CHECK(!strcmp(o.ok_status, "2xx,3xx"));
		CHECK(o.http_ok[200] && o.http_ok[299] && o.http_ok[304]);
		CHECK(!o.http_ok[199] && !o.http_ok[404] && !o.http_ok[503]);
		CHECK_EQ_INT(o.max_body, 1ull << 30);
		opts_free(&o);
	}
	/* No port: the scheme's; a body makes POST the default. */
	if (!GOOD(&o, "--proto", "http", "--target", "http://127.0.0.1/a/{conn}?s={seq}", "--target",
		  "http://localhost", "--payload-size", "100", "--pipeline", "8", "--ok-status",
		  "2XX,404", "--max-body", "1m", "-H", "X-A: b")) {
		CHECK_EQ_INT(o.n_targets, 2);
		CHECK_EQ_INT(o.targets[0].port, 80);
		CHECK(!strcmp(o.targets[0].path, "/a/{conn}?s={seq}"));
		CHECK_EQ_INT(o.targets[1].port, 80);
		CHECK(!o.targets[1].tls && o.targets[1].http);
		CHECK(!strcmp(o.targets[1].path, "/"));
		CHECK(!strcmp(o.http_method, "POST"));
		CHECK(o.http_body);
		CHECK_EQ_INT(o.inflight, 8);
		CHECK(o.http_ok[200] && o.http_ok[404] && !o.http_ok[301]);
		CHECK_EQ_INT(o.max_body, 1000000);
		CHECK_EQ_INT(o.n_ws_headers, 1);
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "http", "--target", "https://127.0.0.1:8443/x", "--insecure",
		  "--method", "HEAD", "--no-keepalive")) {
		CHECK(o.tls && !strcmp(o.alpn, "http/1.1"));
		CHECK_EQ_INT(o.targets[0].port, 8443);
		CHECK(!strcmp(o.http_method, "HEAD") && o.no_keepalive);
		CHECK_EQ_INT(o.think_ns, 0);
		opts_free(&o);
	}
}

static void test_think_time(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--proto", "http", "--think-time", "250ms", "--conns", "10")) {
		CHECK_EQ_INT(o.think_ns, 250000000);
		opts_free(&o);
	}
}

static void test_http_bad(void)
{
	BAD("--method is for HTTP only (needs --proto http)", "--method", "GET");
	BAD("--pipeline is for HTTP only", "--proto", "kafka", "--pipeline", "2");
	BAD("--qos is for MQTT only, not --proto http", "--proto", "http", "--qos", "1");
	BAD("--client-id is for MQTT only, not --proto http", "--proto", "http", "--client-id", "x");
	BAD("--topic is not for --proto http", "--proto", "http", "--topic", "t");
	BAD("either every target is TLS", "--proto", "http", "--target", "http://127.0.0.1:1/",
	    "--target", "https://127.0.0.1:2/");
	BAD("--inflight is not for --proto http", "--proto", "http", "--inflight", "4");
	BAD("--ws-subprotocol is for WebSocket", "--proto", "http", "--ws-subprotocol", "x");
	BAD("--target 127.0.0.1:80: --proto http takes http://", "--proto", "http", "--target",
	    "127.0.0.1:80");
	BAD("--proto http takes http://", "--proto", "http", "--target", "ws://127.0.0.1:1/");
	BAD("--target: path", "--proto", "http", "--target", "http://127.0.0.1:1/a b");
	BAD("expected classes and codes like 2xx,3xx,404", "--proto", "http", "--ok-status", "6xx");
	BAD("expected classes and codes like 2xx,3xx,404", "--proto", "http", "--ok-status", "2xx,");
	BAD("expected classes and codes like 2xx,3xx,404", "--proto", "http", "--ok-status", "");
	BAD("expected classes and codes like 2xx,3xx,404", "--proto", "http", "--ok-status", "20");
	BAD("expected classes and codes like 2xx,3xx,404", "--proto", "http", "--ok-status", "2x0");
	BAD("--pipeline 2 with --no-keepalive", "--proto", "http", "--pipeline", "2",
	    "--no-keepalive");
	BAD("--pipeline 0: must be between 1 and 1024", "--proto", "http", "--pipeline", "0");
	BAD("not a method name", "--proto", "http", "--method", "G T");
	BAD("--method '': needs a method name", "--proto", "http", "--method", "");
	BAD("expected 'Name: value' with a token", "--proto", "http", "-H", "A B: c");
	BAD("blast writes Host itself", "--proto", "http", "-H", "Host: x");
	BAD("blast writes Content-Length itself", "--proto", "http", "-H", "Content-Length: 1");
	BAD("there is no body", "--proto", "http", "--content-type", "text/plain");
	BAD("--max-body 0: must be", "--proto", "http", "--max-body", "0");
	BAD("--no-keepalive is for HTTP only", "--no-keepalive");
	BAD("--think-time is for HTTP only", "--think-time", "1s");
	BAD("--target http(s)://...: for --proto http", "--target", "http://127.0.0.1:1/");
	BAD("--target http(s)://...: for --proto http", "--proto", "kafka", "--target",
	    "https://127.0.0.1:1/");
	BAD("--think-time", "--proto", "http", "--think-time", "soon");
}

int main(void)
{
	tmpdir_make();
	test_http_good();
	test_think_time();
	test_http_bad();
	rmdir(tmpdir);
	return t_done("test_opts_http");
}
