/* The TLS context of a run (tls.h): everything the TLS flags ask for,
 * read into one SSL_CTX per worker, and the session each worker keeps to
 * resume the next connection's handshake. */
#include <errno.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/tls.h"

/* "what: OpenSSL's reason" into err, and the error queue emptied. */
static void why(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(err, cap, "%s: %s", what, r ? r : "refused by OpenSSL");
	ERR_clear_error();
}

/* "mqtt,http/1.1" as ALPN's wire format: each name after its length. */
static int alpn_wire(const char *list, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t k = end ? (size_t)(end - p) : strlen(p);
		if (k == 0 || k > 255 || n + 1 + k > cap)
			return -1;
		out[n++] = (unsigned char)k;
		memcpy(out + n, p, k);
		n += k;
		p += k + (end ? 1 : 0);
		if (end && !*p)
			return -1; /* a trailing comma */
	}
	*len = n;
	return n ? 0 : -1;
}

/* Key log lines (NSS format) for Wireshark and tshark: one write each, in
 * append mode, so the lines of several workers never interleave. */
static void keylog_line(const SSL *ssl, const char *line)
{
	struct tls_run *r = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	if (r && r->keylog_fd >= 0 && n > 0 && (size_t)n < sizeof(buf) &&
	    write(r->keylog_fd, buf, (size_t)n) < 0)
		r->keylog_fd = -1; /* a full disk: stop, the run goes on */
}

/* The server gave a session (TLS 1.2 at the handshake's end, TLS 1.3 in
 * a ticket after it): the next connection resumes it. */
static int keep_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_run *r = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!r || r->o->tls_resume == TLS_RESUME_OFF)
		return 0;
	if (r->n_idents) {
		uintptr_t tag = (uintptr_t)SSL_get_app_data(ssl);
		if (!tag)
			return 0;
		struct tls_ident *id = &r->idents[(tag - 1) % r->n_idents];
		if (id->session)
			SSL_SESSION_free(id->session); /* the newest serves */
		id->session = sess;
		return 1;
	}
	if (r->n_sessions == TLS_SESSIONS_KEPT) {
		SSL_SESSION_free(r->sessions[0]); /* the oldest goes */
		memmove(r->sessions, r->sessions + 1, (TLS_SESSIONS_KEPT - 1) * sizeof(*r->sessions));
		r->n_sessions--;
	}
	r->sessions[r->n_sessions++] = sess;
	return 1; /* the reference is ours now */
}

SSL_SESSION *tls_session_take(struct tls_run *r, uint32_t conn)
{
	if (r->o->tls_resume == TLS_RESUME_OFF)
		return NULL;
	if (r->n_idents) {
		struct tls_ident *id = &r->idents[conn % r->n_idents];
		SSL_SESSION *s = id->session;
		if (s && SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION)
			id->session = NULL; /* a ticket: used once */
		else if (s)
			SSL_SESSION_up_ref(s);
		return s;
	}
	if (!r->n_sessions)
		return NULL;
	SSL_SESSION *s = r->sessions[r->n_sessions - 1];
	if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION)
		r->n_sessions--; /* a ticket: this connection's alone */
	else
		SSL_SESSION_up_ref(s);
	return s;
}

static int versions(SSL_CTX *ctx, const struct blast_opts *o)
{
	int lo = TLS1_2_VERSION, hi = 0;

	if (o->tls_version == TLS_VERSION_12)
		hi = TLS1_2_VERSION;
	else if (o->tls_version == TLS_VERSION_13)
		lo = TLS1_3_VERSION;
	return SSL_CTX_set_min_proto_version(ctx, lo) && SSL_CTX_set_max_proto_version(ctx, hi);
}

static const struct tls_flag_names run_flags = { "--cacert", "--cert", "--cert-key" };

static const struct tls_flag_names *flags_of(const struct blast_opts *o)
{
	return o->tls_flags ? o->tls_flags : &run_flags;
}

static int verification(SSL_CTX *ctx, const struct blast_opts *o, char *err, size_t cap)
{
	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->cacert) {
		if (!SSL_CTX_load_verify_locations(ctx, o->cacert, NULL)) {
			char what[300];
			snprintf(what, sizeof(what), "%s %s: no CA certificate read", flags_of(o)->cacert,
				 o->cacert);
			why(err, cap, what);
			return -1;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		why(err, cap, "the system's CA certificates");
		return -1;
	}
	return 0;
}

static int client_cert(SSL_CTX *ctx, const struct blast_opts *o, char *err, size_t cap)
{
	char what[300];

	if (!o->cert)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		snprintf(what, sizeof(what), "%s %s: not a PEM certificate", flags_of(o)->cert, o->cert);
		why(err, cap, what);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
		bool other = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
		if (other)
			snprintf(what, sizeof(what), "%s %s does not match %s %s", flags_of(o)->key,
				 o->key_file, flags_of(o)->cert, o->cert);
		else
			snprintf(what, sizeof(what), "%s %s: not a PEM private key", flags_of(o)->key,
				 o->key_file);
		why(err, cap, what);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "%s %s does not match %s %s", flags_of(o)->key,
			 o->key_file, flags_of(o)->cert, o->cert);
		why(err, cap, what);
		return -1;
	}
	return 0;
}

/* What a run offers first when not told: AES-128-GCM with SHA-256. Both
 * ends then hash the handshake (HKDF, the transcript, the binders of a
 * resumption) with SHA-256, which x86's SHA extensions do in hardware,
 * not SHA-384, and seal records with 10 AES rounds, not 14: cheaper
 * handshakes and records for blast and for the broker, whose OpenSSL
 * takes the client's order unless told to prefer its own. */
#define SUITES_13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define CIPHERS_12 "ECDHE+AESGCM+AES128:DEFAULT"

static int choices(SSL_CTX *ctx, const struct blast_opts *o, char *err, size_t cap)
{
	char what[300];

	if ((!o->ciphers && SSL_CTX_set_cipher_list(ctx, CIPHERS_12) != 1) ||
	    (!o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, SUITES_13) != 1)) {
		why(err, cap, "the default ciphers");
		return -1;
	}

	if (o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1) {
		snprintf(what, sizeof(what), "--ciphers '%.200s': no cipher OpenSSL knows", o->ciphers);
		why(err, cap, what);
		return -1;
	}
	if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1) {
		snprintf(what, sizeof(what), "--ciphersuites '%.200s': not TLS 1.3 suites OpenSSL knows",
			 o->ciphersuites);
		why(err, cap, what);
		return -1;
	}
	if (o->groups && SSL_CTX_set1_groups_list(ctx, o->groups) != 1) {
		snprintf(what, sizeof(what), "--groups '%.200s': not groups OpenSSL knows", o->groups);
		why(err, cap, what);
		return -1;
	}
	if (o->alpn) {
		unsigned char wire[1024];
		size_t n;
		if (alpn_wire(o->alpn, wire, sizeof(wire), &n) < 0) {
			snprintf(err, cap, "--alpn '%.200s': expected names of 1 to 255 bytes, "
				 "comma-separated", o->alpn);
			return -1;
		}
		if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)n) != 0) { /* 0 is success here */
			why(err, cap, "--alpn");
			return -1;
		}
	}
	return 0;
}

struct tls_run *tls_run_new(const struct blast_opts *o, char *err, size_t cap)
{
	struct tls_run *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	r->o = o;
	r->keylog_fd = -1;
	r->ctx = SSL_CTX_new(TLS_client_method());
	if (!r->ctx) {
		why(err, cap, "TLS context");
		goto fail;
	}
	SSL_CTX_set_app_data(r->ctx, r);
	if (tls_io_methods(r) < 0) {
		snprintf(err, cap, "out of memory");
		goto fail;
	}
	if (!versions(r->ctx, o)) {
		why(err, cap, "--tls-version");
		goto fail;
	}
	if (verification(r->ctx, o, err, cap) < 0 || client_cert(r->ctx, o, err, cap) < 0 ||
	    tls_idents_load(r, err, cap) < 0 || choices(r->ctx, o, err, cap) < 0)
		goto fail;
	/* Sessions: the client side of the cache, kept by keep_session. */
	if (o->tls_resume == TLS_RESUME_OFF) {
		SSL_CTX_set_session_cache_mode(r->ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(r->ctx, SSL_OP_NO_TICKET);
	} else {
		if (o->tls_resume == TLS_RESUME_ID)
			SSL_CTX_set_options(r->ctx, SSL_OP_NO_TICKET);
		/* psk_ke offered beside psk_dhe_ke: no key exchange on
		 * resumption, and no forward secrecy for what a resumed
		 * session carries (RFC 8446 2.2, E.1). */
		if (o->tls_resume == TLS_RESUME_PSK)
			SSL_CTX_set_options(r->ctx, SSL_OP_ALLOW_NO_DHE_KEX);
		SSL_CTX_set_session_cache_mode(r->ctx,
					       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(r->ctx, keep_session);
	}
	if (o->keylog) {
		r->keylog_fd = open(o->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (r->keylog_fd < 0) {
			snprintf(err, cap, "--keylog %s: %s", o->keylog, strerror(errno));
			goto fail;
		}
		SSL_CTX_set_keylog_callback(r->ctx, keylog_line);
	}
	return r;
fail:
	tls_run_free(r);
	return NULL;
}

void tls_run_free(struct tls_run *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n_sessions; i++)
		SSL_SESSION_free(r->sessions[i]);
	tls_idents_free(r);
	if (r->ctx)
		SSL_CTX_free(r->ctx);
	tls_io_methods_free(r);
	if (r->keylog_fd >= 0)
		close(r->keylog_fd);
	free(r);
}

int tls_config_check(const struct blast_opts *o, char *err, size_t cap)
{
	struct tls_run *r = tls_run_new(o, err, cap);

	if (!r)
		return -1;
	tls_run_free(r);
	return 0;
}
