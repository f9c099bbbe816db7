/* The TLS layer's sealing (userspace/transport/tls.c, tls_bio.c) against
 * an OpenSSL server in memory: sends of one record and of several are
 * sealed by tlink_wrap, and the server must open exactly the bytes the
 * protocol wrote. Both ways of sealing are taken: records written straight
 * over the plaintext, and records queued behind bytes still owed (TLS
 * 1.3's Finished left in the layer, as a protocol's hello finds it),
 * which go through the spill.
 * With a client certificate the server requires, the whole last flight is
 * owed: longer than a full send's spare room, what does not fit stays in
 * the layer for take_control; taken first (the engine's order), the send
 * is sealed straight and nothing stays. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats/hist.h"
#include "t.h"
#include "transport/transport.h"

#define CAP 40000 /* a chunk's size: a send of three records */

static int ups, fails;

static void on_fail(void *ctx, struct tlink *l, enum blast_err why)
{
	(void)ctx, (void)l, (void)why;
	fails++;
}

static int on_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n)
{
	(void)ctx, (void)l, (void)p, (void)n;
	return 0;
}

static void on_layer_up(void *ctx, struct tlink *l)
{
	(void)ctx, (void)l;
	ups++;
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

/* A fresh self-signed P-256 certificate for CN, its key in *key. */
static X509 *self_signed(const char *cn, EVP_PKEY **key)
{
	X509 *x = X509_new();

	*key = EVP_EC_gen("P-256");
	if (!*key || !x) {
		X509_free(x);
		return NULL;
	}
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, *key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, *key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int accept_any(int ok, X509_STORE_CTX *st)
{
	(void)ok, (void)st;
	return 1;
}

/* A server context with a fresh self-signed certificate; with
 * want_client_cert it requires one of the client (any). */
static SSL_CTX *server_ctx(int max_version, bool want_client_cert)
{
	EVP_PKEY *key = NULL;
	X509 *x = self_signed("localhost", &key);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!x || !ctx || !SSL_CTX_use_certificate(ctx, x) || !SSL_CTX_use_PrivateKey(ctx, key) ||
	    !SSL_CTX_set_max_proto_version(ctx, max_version)) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	if (ctx && want_client_cert)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* dir/cert.pem (the certificate `copies` times: a long chain) and
 * dir/key.pem, for --cert and --cert-key. */
static bool client_cert_files(const char *dir, int copies, char *cert, char *key, size_t cap)
{
	EVP_PKEY *k = NULL;
	X509 *x = self_signed("blast-client", &k);
	bool ok = x != NULL;

	snprintf(cert, cap, "%s/cert.pem", dir);
	snprintf(key, cap, "%s/key.pem", dir);
	FILE *fc = ok ? fopen(cert, "w") : NULL, *fk = ok ? fopen(key, "w") : NULL;
	for (int i = 0; ok && fc && i < copies; i++)
		ok = PEM_write_X509(fc, x) == 1;
	ok = ok && fc && fk && PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL, NULL) == 1;
	if (fc)
		ok = fclose(fc) == 0 && ok;
	if (fk)
		ok = fclose(fk) == 0 && ok;
	X509_free(x);
	EVP_PKEY_free(k);
	return ok;
}

/* The server's side: bytes in, its records out. */
struct server {
	SSL *ssl;
	BIO *in, *out;
};

static void server_feed(struct server *sv, const uint8_t *p, size_t n)
{
	CHECK_EQ_INT(BIO_write(sv->in, p, (int)n), (int)n);
}

static size_t server_take(struct server *sv, uint8_t *p, size_t cap)
{
	int n = BIO_read(sv->out, p, (int)cap);
	return n > 0 ? (size_t)n : 0;
}

/* Every plaintext byte the server can open now, into out. */
static size_t server_open(struct server *sv, uint8_t *out, size_t cap)
{
	size_t got = 0;
	int n;

	while (got < cap && (n = SSL_read(sv->ssl, out + got, (int)(cap - got))) > 0)
		got += (size_t)n;
	CHECK_EQ_INT(SSL_get_error(sv->ssl, n), SSL_ERROR_WANT_READ);
	return got;
}

/* Handshake: the client's flights go to the server as the driver would
 * send them, until the layer is up. What it owes then (TLS 1.3's
 * Finished) stays in the layer, for the first send to carry. */
static void handshake(struct tlink *l, struct server *sv, uint8_t *buf, uint32_t room)
{
	uint8_t wire[8192];
	uint32_t off = 0, len = 0;

	CHECK_EQ_INT(tlink_hello(l, buf, CAP, room, &off, &len), 1);
	server_feed(sv, buf + off, len - off);
	for (int round = 0; round < 4 && !tlink_is_up(l); round++) {
		int r = SSL_do_handshake(sv->ssl);
		CHECK(r == 1 || SSL_get_error(sv->ssl, r) == SSL_ERROR_WANT_READ);
		size_t n = server_take(sv, wire, sizeof(wire));
		CHECK(n > 0);
		CHECK_EQ_INT(tlink_recv(l, wire, n), 0);
		if (tlink_is_up(l))
			break;
		size_t c = tlink_take_control(l, buf, CAP, room);
		CHECK(c > 0);
		server_feed(sv, buf, c);
	}
	CHECK(tlink_is_up(l));
	CHECK_EQ_INT(fails, 0);
}

/* One send of n bytes written after the headroom, sealed, sent, opened. */
static void seal_and_open(struct tlink *l, struct server *sv, uint8_t *buf, uint32_t room,
			  uint32_t n, uint8_t salt, const char *what)
{
	static uint8_t want[CAP], got[CAP + 1];
	uint32_t h = l->s->headroom, off = h, len = h + n;

	for (uint32_t k = 0; k < n; k++)
		want[k] = (uint8_t)(k * 131 + k / 251 + salt);
	memcpy(buf + h, want, n);
	CHECK_EQ_INT(tlink_wrap(l, buf, &off, &len, room), 0);
	CHECK(len <= room && len - off > n);
	server_feed(sv, buf + off, len - off);
	size_t opened = server_open(sv, got, sizeof(got));
	if (opened != n || memcmp(got, want, n))
		fprintf(stderr, "%s: %u bytes sealed, %zu opened\n", what, n, opened);
	CHECK_MEM(got, opened, want, n);
}

enum owed_order { NO_CLIENT_CERT, CONTROL_FIRST, WRAP_FIRST };

/* A full send while a client certificate's flight (far longer than the
 * send's spare room) is owed. CONTROL_FIRST: the engine's order, the
 * flight taken whole first, then the send sealed straight: its records
 * and nothing more. WRAP_FIRST: sealed behind the flight, the send fills
 * its room and the rest stays in the layer until taken. */
static void flight_then_send(struct tlink *l, struct server *sv, uint8_t *buf, uint32_t room,
			     enum owed_order order)
{
	static uint8_t want[CAP], got[CAP + 1];
	uint32_t h = l->s->headroom, n = CAP - h, off = h, len = h + n;
	size_t fed = 0, c;

	for (uint32_t k = 0; k < n; k++)
		want[k] = (uint8_t)(k * 7 + k / 509);
	if (order == CONTROL_FIRST) {
		while ((c = tlink_take_control(l, buf, CAP, room)) > 0) {
			server_feed(sv, buf, c);
			fed += c;
		}
		CHECK(fed > room - CAP); /* the flight alone is longer than the spare room */
	}
	memcpy(buf + h, want, n);
	CHECK_EQ_INT(tlink_wrap(l, buf, &off, &len, room), 0);
	CHECK(len <= room);
	server_feed(sv, buf + off, len - off);
	if (order == CONTROL_FIRST) {
		CHECK_EQ_INT(len - off, n + 3 * 22); /* straight: three records, 22 bytes each */
		CHECK_EQ_INT(tlink_take_control(l, buf, CAP, room), 0);
	} else {
		CHECK_EQ_INT(len, room); /* the room filled, and more owed */
		size_t rest = 0;
		while ((c = tlink_take_control(l, buf, CAP, room)) > 0) {
			server_feed(sv, buf, c);
			rest += c;
		}
		CHECK(rest > 0);
	}
	size_t opened = server_open(sv, got, sizeof(got));
	CHECK_MEM(got, opened, want, n);
	CHECK_EQ_INT(SSL_is_init_finished(sv->ssl), 1);
}

static void run(int version, enum owed_order order, const char *label)
{
	struct blast_opts o = { .proto = PROTO_KAFKA, .tls = true, .insecure = true,
				.tls_version = version == TLS1_2_VERSION ? TLS_VERSION_12 :
									   TLS_VERSION_13 };
	char dir[] = "/tmp/test_tls_seal.XXXXXX", cert[64], key[64];
	struct blast_target tg = { .host = "127.0.0.1", .port = 9093 };
	struct blast_totals tot = { 0 };
	uint64_t now = 1;
	struct hist *stage[HS__COUNT] = { [HS_TLS_FULL] = hist_new(),
					  [HS_TLS_RESUMED] = hist_new() };
	struct transport_env env = { .o = &o, .t = &tot, .now = &now, .fail = on_fail,
				     .deliver = on_deliver, .layer_up = on_layer_up,
				     .rx_offset = no_offset, .rx_mark_at = no_mark, .stage = stage };
	struct tstack s;
	struct tlink l = { 0 };
	struct server sv;
	char err[200] = "";
	SSL_CTX *sctx = server_ctx(version, order != NO_CLIENT_CERT);

	fprintf(stderr, "%s\n", label);
	ups = fails = 0;
	CHECK(sctx != NULL);
	if (order != NO_CLIENT_CERT) {
		CHECK(mkdtemp(dir) != NULL);
		CHECK(client_cert_files(dir, 12, cert, key, sizeof(cert)));
		o.cert = cert;
		o.key_file = key;
	}
	CHECK_EQ_INT(tstack_build(&s, &o, &env, err, sizeof(err)), 0);
	if (!sctx || !s.wraps) {
		fprintf(stderr, "no stack: %s\n", err);
		return;
	}
	uint32_t room = CAP + tstack_tailroom(&s, CAP);
	uint8_t *buf = calloc(1, room);
	sv.ssl = SSL_new(sctx);
	sv.in = BIO_new(BIO_s_mem());
	sv.out = BIO_new(BIO_s_mem());
	SSL_set_bio(sv.ssl, sv.in, sv.out);
	SSL_set_accept_state(sv.ssl);
	CHECK_EQ_INT(tlink_open(&l, &s, &tg, 0), 0);

	handshake(&l, &sv, buf, room);
	if (order != NO_CLIENT_CERT) {
		flight_then_send(&l, &sv, buf, room, order);
		seal_and_open(&l, &sv, buf, room, 100, 5, "one small record after");
		CHECK_EQ_INT(fails, 0);
		CHECK_EQ_INT(ups, 1);
		unlink(cert);
		unlink(key);
		rmdir(dir);
		goto out;
	}
	uint32_t full = CAP - s.headroom; /* a chunk filled to its cap, as Kafka fills them */
	seal_and_open(&l, &sv, buf, room, full, 1, "first send, after the handshake");
	seal_and_open(&l, &sv, buf, room, full, 2, "second send of several records");
	seal_and_open(&l, &sv, buf, room, 16384 + 1, 3, "a record and one byte");
	seal_and_open(&l, &sv, buf, room, 100, 4, "one small record");
	CHECK_EQ_INT(tot.tls_records_out, 3 + 3 + 2 + 1);
	CHECK_EQ_INT(fails, 0);
	CHECK_EQ_INT(ups, 1);
out:
	tlink_close(&l);
	SSL_free(sv.ssl);
	SSL_CTX_free(sctx);
	tstack_free(&s);
	free(buf);
	free(stage[HS_TLS_FULL]);
	free(stage[HS_TLS_RESUMED]);
}

int main(void)
{
	run(TLS1_3_VERSION, NO_CLIENT_CERT, "TLS 1.3 (the Finished waits for the first send)");
	run(TLS1_2_VERSION, NO_CLIENT_CERT, "TLS 1.2 (nothing owed once up)");
	run(TLS1_3_VERSION, CONTROL_FIRST,
	    "TLS 1.3, a client certificate's flight owed: taken first, the send sealed straight");
	run(TLS1_3_VERSION, WRAP_FIRST,
	    "TLS 1.3, a client certificate's flight owed: sealed behind it, the rest stays owed");
	return t_done("test_tls_seal");
}
