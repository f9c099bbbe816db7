/* TLS as a transport layer: a client handshake once TCP is up, then every
 * send sealed into records and every receive opened before the layer
 * above sees it. OpenSSL works on memory BIOs only: what the ring read
 * goes into the read BIO, and the write BIO's records are what the ring
 * sends. Records grow a send, so sealing writes them back into the send
 * buffer, into the tailroom the stack leaves after it (tstack_tailroom).
 *
 * Every failure is counted by its own reason and the first one is put in
 * words (the note) for the parent to print once. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/hist.h"
#include "transport/tls.h"
#include "transport/transport.h"

/* A record's growth: header 5, explicit IV or nonce 16, MAC or tag up to
 * 48, CBC padding up to 16, the TLS 1.3 content type 1; rounded up. */
#define RECORD_GROWTH 128
#define RECORD_MAX 16384
/* Records OpenSSL queued outside a send (an alert, a KeyUpdate answer)
 * leave with the next one. */
#define PENDING_SLACK 1024

struct tlsc {
	SSL *ssl;
	struct tls_io io;  /* its BIOs (owned by ssl) and their spills */
	uint64_t t0;       /* when its ClientHello was made */
	char peer[300];    /* HOST:PORT, for the note */
	uint8_t answered;  /* some byte came from the server */
	uint8_t failed;    /* TLS failed on it: its session is not kept */
	uint8_t had_records; /* bytes came after the server's first whole record */
	uint8_t head[5];     /* the first record's header */
	size_t fed;          /* bytes of the server's fed to OpenSSL */
};

static struct tls_run *run_of(struct tlink *l, unsigned i)
{
	return l->s->ctx[i];
}

/* The note, once: "TLS to HOST:PORT: words". */
static void note(struct tlink *l, struct tlsc *t, const char *fmt, const char *detail)
{
	const struct transport_env *env = l->s->env;
	char words[400];

	if (!env->note || env->note[0])
		return;
	snprintf(words, sizeof(words), fmt, detail ? detail : "");
	snprintf(env->note, env->note_cap, "TLS to %s: %s", t->peer, words);
}

static uint32_t tls_tailroom(uint32_t cap)
{
	return (cap / RECORD_MAX + 1) * RECORD_GROWTH + PENDING_SLACK;
}

static int tls_stack_open(struct tstack *s, unsigned i, char *err, size_t err_cap)
{
	struct tls_run *r = tls_run_new(s->env->o, err, err_cap);

	if (!r)
		return -EINVAL;
	s->ctx[i] = r;
	return 0;
}

static void tls_stack_close(struct tstack *s, unsigned i)
{
	tls_run_free(s->ctx[i]);
	s->ctx[i] = NULL;
}

static bool is_ip(const char *name)
{
	uint8_t a[16];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int tls_name_peer(SSL *ssl, const struct blast_opts *o, const char *host)
{
	const char *name = o->sni ? o->sni : host;

	if (!is_ip(name) && !SSL_set_tlsext_host_name(ssl, name))
		return -EINVAL;
	if (!o->insecure) {
		int ok = is_ip(name) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) :
				       SSL_set1_host(ssl, name);
		if (!ok)
			return -EINVAL;
	}
	return 0;
}

static void tls_close(struct tlink *l, unsigned i)
{
	struct tlsc *t = l->state[i];

	if (!t)
		return;
	/* Freed without a close_notify, OpenSSL would take the session off
	 * the resumable ones: a connection that was up and failed nothing
	 * keeps it for the next. */
	if (t->ssl && SSL_is_init_finished(t->ssl) && !t->failed)
		SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	if (t->ssl)
		SSL_free(t->ssl); /* and its BIOs */
	tls_io_close(&t->io);
	free(t);
	l->state[i] = NULL;
}

/* A fresh SSL per connection attempt: the name it sends (SNI) and
 * verifies, and the worker's newest session to resume. */
static int tls_open(struct tlink *l, unsigned i)
{
	struct tls_run *r = run_of(l, i);
	const struct blast_opts *o = r->o;
	struct tlsc *t;

	tls_close(l, i);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	l->state[i] = t;
	snprintf(t->peer, sizeof(t->peer), strchr(l->target->host, ':') ? "[%s]:%u" : "%s:%u",
		 l->target->host, l->target->port);
	t->ssl = SSL_new(r->ctx);
	if (!t->ssl || tls_io_open(&t->io, r, t->ssl) < 0)
		return -ENOMEM;
	SSL_set_connect_state(t->ssl);
	if (tls_name_peer(t->ssl, o, l->target->host) < 0)
		return -EINVAL;
	SSL_set_app_data(t->ssl, tls_conn_tag(l->id));
	if (tls_ident_use(r, t->ssl, l->id) < 0)
		return -EINVAL;
	SSL_SESSION *sess = tls_session_take(r, l->id);
	if (sess) {
		/* --tls-resume psk: OpenSSL's client offers psk_dhe_ke too, and
		 * a server before OpenSSL 3.3 takes it whenever a group is
		 * shared. Resuming, offer X25519 alone: a server that allows
		 * psk_ke and has no X25519 resumes without a key exchange; one
		 * that has it does X25519, as with tickets. */
		if (o->tls_resume == TLS_RESUME_PSK &&
		    SSL_SESSION_get_protocol_version(sess) >= TLS1_3_VERSION &&
		    !SSL_set1_groups_list(t->ssl, "X25519")) {
			SSL_SESSION_free(sess);
			return -EINVAL;
		}
		SSL_set_session(t->ssl, sess); /* takes its own reference */
		SSL_SESSION_free(sess);
	}
	return 0;
}

/* Records OpenSSL made outside a send, into out. */
static size_t drain(struct tlsc *t, uint8_t *out, size_t cap)
{
	return tls_io_drain(&t->io, out, cap);
}

/* An alert's name; OpenSSL 3.0 has none for TLS 1.3's new ones. */
static const char *alert_name(int alert)
{
	switch (alert) {
	case 109:
		return "missing extension";
	case 115:
		return "unknown PSK identity";
	case 116:
		return "certificate required";
	case 120:
		return "no application protocol";
	default:
		return SSL_alert_desc_string_long(alert);
	}
}

/* The reason a failed handshake or record is counted under, with the
 * note: verification first (OpenSSL's words for it), then alerts, then
 * the error's own reason. */
static enum blast_err classify(struct tlink *l, struct tlsc *t, bool handshake)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);
	long v = SSL_get_verify_result(t->ssl);
	enum blast_err why = handshake ? ERR_TLS_HANDSHAKE : ERR_TLS_RECORD;

	t->failed = 1;

	if (v != X509_V_OK && (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || handshake)) {
		bool host = v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH;
		note(l, t, host ? "the server's certificate is not for this host (%s)" :
				  "certificate verification failed: %s",
		     X509_verify_cert_error_string(v));
		why = host ? ERR_TLS_HOSTNAME : ERR_TLS_VERIFY;
	} else if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
		int alert = reason - SSL_AD_REASON_OFFSET;
		note(l, t, "the server sent the fatal alert \"%s\"",
		     alert_name(alert));
		why = alert == SSL_AD_PROTOCOL_VERSION ? ERR_TLS_VERSION :
		      alert == SSL_AD_UNRECOGNIZED_NAME ? ERR_TLS_HOSTNAME : ERR_TLS_ALERT;
	} else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
		   reason == SSL_R_WRONG_SSL_VERSION || reason == SSL_R_VERSION_TOO_LOW ||
		   reason == SSL_R_VERSION_TOO_HIGH) {
		note(l, t, "no TLS version in common (%s)", ERR_reason_error_string(e));
		why = ERR_TLS_VERSION;
	} else if ((reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
		    reason == SSL_R_RECORD_LENGTH_MISMATCH) && !t->had_records) {
		note(l, t, "the server's bytes are not TLS records (%s): a plaintext port?",
		     ERR_reason_error_string(e));
		why = ERR_TLS_NOT_TLS;
	} else {
		const char *r = e ? ERR_reason_error_string(e) : NULL;
		note(l, t, handshake ? "handshake failed: %s" : "bad record: %s",
		     r ? r : "no reason given");
	}
	ERR_clear_error();
	return why;
}

static ssize_t tls_hello(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct tlsc *t = l->state[i];
	const struct transport_env *env = l->s->env;

	t->t0 = *env->now;
	int r = SSL_do_handshake(t->ssl);
	if (r <= 0 && SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ) {
		env->t->errors[classify(l, t, true)]++;
		return -ECANCELED; /* counted */
	}
	return (ssize_t)drain(t, out, cap);
}

/* The server's handshake bytes: all of them go to OpenSSL (what follows
 * the handshake waits in it for the next read). */
static ssize_t tls_hello_feed(struct tlink *l, unsigned i, const uint8_t *buf, size_t len)
{
	struct tlsc *t = l->state[i];
	const struct transport_env *env = l->s->env;

	if (!t->answered && len) {
		t->answered = 1;
		/* A TLS server answers with a handshake record or an alert. */
		if (buf[0] != 0x16 && buf[0] != 0x15) {
			char first[8];
			snprintf(first, sizeof(first), "0x%02x", buf[0]);
			note(l, t, "the server answered with bytes that are not TLS (first byte %s): "
				   "a plaintext port?", first);
			env->t->errors[ERR_TLS_NOT_TLS]++;
			return -EPROTO;
		}
	}
	if (tls_io_feed(&t->io, buf, len) < 0) {
		env->t->errors[ERR_RECV]++;
		return -ENOMEM;
	}
	for (size_t k = 0; k < len && t->fed + k < sizeof(t->head); k++)
		t->head[t->fed + k] = buf[k];
	t->fed += len;
	/* Bytes past a whole first record: what fails there is garbage in a
	 * TLS stream, not "a plaintext port". */
	if (t->fed > sizeof(t->head) &&
	    t->fed > sizeof(t->head) + ((size_t)t->head[3] << 8 | t->head[4]))
		t->had_records = 1;
	int r = SSL_do_handshake(t->ssl);
	/* What follows the handshake waits for the next read. */
	if (tls_io_keep(&t->io) < 0) {
		env->t->errors[ERR_RECV]++;
		return -ENOMEM;
	}
	if (r == 1) {
		bool resumed = SSL_session_reused(t->ssl);
		hist_record(env->stage[resumed ? HS_TLS_RESUMED : HS_TLS_FULL],
			    (int64_t)(*env->now - t->t0));
		return (ssize_t)len;
	}
	if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ)
		return 0; /* its next flight, if any, leaves by take_control */
	env->t->errors[classify(l, t, true)]++;
	return -EPROTO;
}

/* Seals data[*off, *len) into records written back from *off. OpenSSL
 * takes a record's plaintext in before it writes the record out, so the
 * records go straight over the plaintext (tls_bio.c) when nothing else
 * is queued: one record overwrites only its own; with more, the plaintext
 * first moves up by the growth of all of them, and no record reaches
 * plaintext not yet taken in. Anything else to send first (an alert, a
 * KeyUpdate, a handshake's last flight not yet taken by take_control, as
 * behind a protocol's hello: the engine takes it first before other sends)
 * takes the memory BIO, in order: the plaintext is read where it lies,
 * and the spill drained over it once OpenSSL is done with it. */
static int tls_wrap(struct tlink *l, unsigned i, uint8_t *data, uint32_t *off, uint32_t *len,
		    uint32_t room)
{
	struct tlsc *t = l->state[i];
	uint32_t n = *len - *off;
	uint32_t records = (n + RECORD_MAX - 1) / RECORD_MAX;
	uint32_t shift = records > 1 ? records * RECORD_GROWTH : 0;
	bool direct = n && !BIO_ctrl_pending(t->io.spill_out) && !SSL_in_init(t->ssl) &&
		      SSL_get_key_update_type(t->ssl) == SSL_KEY_UPDATE_NONE && *len + shift <= room;
	const uint8_t *plain = data + *off;

	if (direct) {
		if (shift) {
			memmove(data + *off + shift, data + *off, n);
			plain += shift; /* only here: the spill's way reads it in place */
		}
		t->io.dst = data + *off;
		t->io.dst_len = 0;
		t->io.dst_cap = room - *off;
	}
	int w = n ? SSL_write(t->ssl, plain, (int)n) : 0;
	t->io.dst = NULL;
	if (w != (int)n) {
		ERR_clear_error();
		return -EIO;
	}
	l->s->env->t->tls_records_out += records;
	*len = *off + (uint32_t)(direct ? t->io.dst_len : drain(t, data + *off, room - *off));
	return 0;
}

/* Records from the server: each record's plaintext goes up as it opens. */
static int tls_unwrap(struct tlink *l, unsigned i, const uint8_t *buf, size_t len)
{
	struct tlsc *t = l->state[i];
	struct tls_run *r = run_of(l, i);
	const struct transport_env *env = l->s->env;

	int64_t at = env->rx_offset(env->ctx, buf);

	/* OpenSSL reads buf where it lies (tls_bio.c); a record cut in two
	 * is kept for the next read. A failed connection never reads again
	 * without a new feed, so buf is not looked at once this returns. */
	if (tls_io_feed(&t->io, buf, len) < 0) {
		env->fail(env->ctx, l, ERR_RECV);
		return -1;
	}
	for (;;) {
		int n = SSL_read(t->ssl, r->plain, sizeof(r->plain));
		if (n > 0) {
			/* What the record holds arrived with its last byte: where
			 * OpenSSL stopped reading (it reads a record at a time). */
			if (at >= 0)
				env->rx_mark_at(env->ctx,
						at + (int64_t)len - (int64_t)tls_io_unread(&t->io));
			if (tlink_up(l, i + 1, r->plain, (size_t)n) < 0)
				return -1;
			continue;
		}
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			if (tls_io_keep(&t->io) < 0) {
				env->fail(env->ctx, l, ERR_RECV);
				return -1;
			}
			return 0;
		case SSL_ERROR_ZERO_RETURN: /* close_notify: the server is closing */
			if (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)
				return 0; /* the answer to ours: its EOF follows */
			note(l, t, "%sthe server ended the TLS session (close_notify)", NULL);
			env->fail(env->ctx, l, ERR_TLS_CLOSE_NOTIFY);
			return -1;
		default:
			env->fail(env->ctx, l, classify(l, t, false));
			return -1;
		}
	}
}

/* Records OpenSSL owes the server outside a send: a handshake's next
 * flight (TLS 1.2), an alert. */
static size_t tls_take_control(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct tlsc *t = l->state[i];

	return t ? drain(t, out, cap) : 0;
}

/* A clean close: close_notify, so the server sees the session end and
 * not a truncation (and the session stays resumable). */
static size_t tls_bye(struct tlink *l, unsigned i, uint8_t *out, size_t cap)
{
	struct tlsc *t = l->state[i];

	if (!t || !SSL_is_init_finished(t->ssl) || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		return 0;
	if (SSL_shutdown(t->ssl) < 0) {
		ERR_clear_error();
		return 0;
	}
	return drain(t, out, cap);
}

static enum blast_err tls_cut_short(struct tlink *l, unsigned i, bool closed)
{
	struct tlsc *t = l->state[i];

	if (!t)
		return closed ? ERR_CONN_CLOSED : ERR_TLS_TIMEOUT;
	if (closed && !t->answered) {
		note(l, t, "%sthe server closed the connection on the ClientHello: a plaintext port?",
		     NULL);
		return ERR_TLS_NOT_TLS;
	}
	if (closed) {
		note(l, t, "%sthe server closed the connection mid-handshake", NULL);
		return ERR_TLS_HANDSHAKE;
	}
	note(l, t,
	     t->answered ? "%sthe handshake stalled (not done within the 10 s handshake timeout)" :
			   "%sno answer to the ClientHello within the 10 s handshake timeout",
	     NULL);
	return ERR_TLS_TIMEOUT;
}

const struct transport_ops tls_transport = {
	.name = "tls",
	.open = tls_open,
	.close = tls_close,
	.hello = tls_hello,
	.hello_feed = tls_hello_feed,
	.wrap = tls_wrap,
	.tailroom = tls_tailroom,
	.unwrap = tls_unwrap,
	.take_control = tls_take_control,
	.stack_open = tls_stack_open,
	.stack_close = tls_stack_close,
	.cut_short = tls_cut_short,
	.bye = tls_bye,
};
