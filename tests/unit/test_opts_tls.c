/* TLS and Kafka security flags: mqtts://, wss://, kafka+ssl:// targets,
 * the TLS flags, SASL's, and every refusal (one "blast: " line, status 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/opts.h"
#include "opts_harness.h"

/* TLS: mqtts:// and wss:// targets, the TLS flags and their checks (what
 * OpenSSL itself refuses is tested end to end: tests/e2e/test_mqtt_tls.sh). */
static void test_tls_opts(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--target", "mqtts://127.0.0.1:8883", "--insecure", "--tls-version", "1.3",
		  "--tls-resume", "off", "--sni", "broker.example", "--alpn", "mqtt")) {
		CHECK(o.tls && o.targets[0].tls && !o.targets[0].ws);
		CHECK_EQ_INT(o.targets[0].port, 8883);
		CHECK_EQ_INT(o.transport, TRANSPORT_TCP);
		CHECK_EQ_INT(o.tls_version, TLS_VERSION_13);
		CHECK_EQ_INT(o.tls_resume, TLS_RESUME_OFF);
		CHECK(o.insecure && !strcmp(o.sni, "broker.example") && !strcmp(o.alpn, "mqtt"));
		opts_free(&o);
	}
	if (!GOOD(&o, "--target", "wss://127.0.0.1:443/mqtt", "--cacert", "/etc/hostname")) {
		CHECK(o.tls && o.targets[0].tls && o.targets[0].ws);
		CHECK_EQ_INT(o.transport, TRANSPORT_WS);
		CHECK(!strcmp(o.targets[0].path, "/mqtt"));
		CHECK(!o.insecure && !strcmp(o.cacert, "/etc/hostname"));
		opts_free(&o);
	}
	if (!GOOD(&o, "--target", "mqtt://127.0.0.1:1883")) {
		CHECK(!o.tls && !o.targets[0].tls);
		opts_free(&o);
	}
	/* SSLKEYLOGFILE is --keylog when none is given. */
	char keys[300];
	snprintf(keys, sizeof(keys), "%s/keys.log", tmpdir);
	setenv("SSLKEYLOGFILE", keys, 1);
	if (!GOOD(&o, "--target", "mqtts://127.0.0.1:8883", "--insecure")) {
		CHECK(o.keylog && !strcmp(o.keylog, keys));
		opts_free(&o);
	}
	if (!GOOD(&o, "--target", "127.0.0.1:1883")) {
		CHECK(!o.keylog); /* no TLS, no key log */
		opts_free(&o);
	}
	unsetenv("SSLKEYLOGFILE");
	unlink(keys); /* the check made it */
	BAD("--cacert is for TLS targets", "--cacert", "/etc/hostname");
	BAD("--insecure is for TLS targets", "--target", "127.0.0.1:1883", "--insecure");
	BAD("either every target is TLS", "--target", "mqtts://127.0.0.1:8883", "--target",
	    "127.0.0.1:1883");
	BAD("--cert and --cert-key go together", "--target", "mqtts://127.0.0.1:8883", "--cert",
	    "/etc/hostname");
	BAD("--cert-dir is for TLS targets", "--target", "127.0.0.1:1883", "--cert-dir", "/tmp");
	BAD("--cert, --cert-dir and --cert-list: one source", "--target", "mqtts://127.0.0.1:8883",
	    "--cert-dir", "/tmp", "--cert-list", "/etc/hostname");
	BAD("--cert, --cert-dir and --cert-list: one source", "--target", "mqtts://127.0.0.1:8883",
	    "--cert", "/etc/hostname", "--cert-key", "/etc/hostname", "--cert-dir", "/tmp");
	BAD("--cert-list /nonexistent/list: No such file", "--target", "mqtts://127.0.0.1:8883",
	    "--cert-list", "/nonexistent/list");
	BAD("--cert-dir '': needs a directory", "--target", "mqtts://127.0.0.1:8883", "--cert-dir", "");
	BAD("--tls-resume id: session ids are TLS 1.2's", "--target", "mqtts://127.0.0.1:8883",
	    "--tls-resume", "id");
	BAD("--tls-resume psk: psk_ke resumes TLS 1.3 tickets", "--target",
	    "mqtts://127.0.0.1:8883", "--tls-resume", "psk", "--tls-version", "1.2");
	if (!GOOD(&o, "--target", "mqtts://127.0.0.1:8883", "--insecure", "--tls-resume", "psk")) {
		CHECK_EQ_INT(o.tls_resume, TLS_RESUME_PSK);
		opts_free(&o);
	}
	BAD("--tls-version 1.4: must be 1.2 or 1.3", "--target", "mqtts://127.0.0.1:8883",
	    "--tls-version", "1.4");
	BAD("--insecure and --cacert cannot be used together", "--target", "mqtts://127.0.0.1:8883",
	    "--insecure", "--cacert", "/etc/hostname");
	BAD("expected mqtts://HOST:PORT (no path)", "--target", "mqtts://127.0.0.1:8883/x");
	BAD("the schemes are mqtt://, mqtts://, ws://, wss://, kafka://, kafka+ssl://, http:// and https://",
	    "--target", "tcp://127.0.0.1:1");
	BAD("--cacert /nonexistent/ca.pem: No such file", "--target", "mqtts://127.0.0.1:8883",
	    "--cacert", "/nonexistent/ca.pem");
	BAD("Kafka over TLS is kafka+ssl://HOST:PORT or --tls", "--proto", "kafka", "--target",
	    "mqtts://127.0.0.1:9093");
	BAD("kafka:// and kafka+ssl:// are for --proto kafka", "--target", "kafka+ssl://127.0.0.1:9093");
	BAD("expected kafka+ssl://HOST:PORT (no path)", "--proto", "kafka", "--target",
	    "kafka+ssl://127.0.0.1:9093/x");
	BAD("either every target is TLS", "--proto", "kafka", "--target", "kafka+ssl://127.0.0.1:9093",
	    "--target", "kafka://127.0.0.1:9092");
	BAD("--tls is for Kafka only", "--target", "127.0.0.1:1883", "--tls");
	BAD("--cacert is for TLS targets", "--proto", "kafka", "--target", "127.0.0.1:9092", "--cacert",
	    "/etc/hostname");
	BAD("--sasl-mechanism PLAIN needs --sasl-username and --sasl-password", "--proto", "kafka",
	    "--target", "127.0.0.1:9092", "--sasl-mechanism", "PLAIN", "--sasl-username", "u");
	BAD("--sasl-password needs --sasl-mechanism", "--proto", "kafka", "--target",
	    "127.0.0.1:9092", "--sasl-password", "p");
	BAD("--sasl-mechanism GSSAPI: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", "--proto",
	    "kafka", "--target", "127.0.0.1:9092", "--sasl-mechanism", "GSSAPI");
	BAD("--sasl-username is for Kafka only", "--target", "127.0.0.1:1883", "--sasl-username", "u");
}

int main(void)
{
	tmpdir_make();
	test_tls_opts();
	rmdir(tmpdir);
	return t_done("test_opts_tls");
}
