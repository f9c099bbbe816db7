/* A flow's TLS records reassembled and decrypted (tls_decrypt.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "encoders/rbuf.h"
#include "witness/tls_decrypt.h"

#define TAG 16
#define HELLO_MAX 65536 /* a hello longer than this is not read (its type still is) */

enum epoch { EP_CLEAR, EP_HS, EP_APP };
enum next { NX_NONE, NX_APP, NX_KEY_UPDATE };

/* Handshake messages of one direction, which may span records: only the
 * hellos' bodies are kept, every other message is counted through. */
struct hs_asm {
	uint8_t hdr[4];
	unsigned hdr_len;
	uint32_t left; /* body bytes still to come */
	bool keep;
	uint8_t *body; /* a hello's, freed once read */
	size_t len, cap;
};

struct tdir {
	uint8_t *rec; /* a record not yet whole */
	size_t rec_len, rec_cap;
	uint64_t rec_ts;
	struct hs_asm hs;
	EVP_CIPHER_CTX *aead; /* NULL until keys are known */
	struct tls_traffic_key k;
	uint8_t secret[TLS_SECRET_MAX]; /* TLS 1.3: the current traffic secret */
	uint8_t secret_len;
	uint8_t app_len; /* TLS 1.3: the application secret, for the switch */
	uint8_t app[TLS_SECRET_MAX];
	uint64_t seq;
	uint8_t epoch, next;
	bool sealed; /* records are protected from here on */
	bool trial;  /* no handshake secret: records that do not open yet are the handshake's */
	bool dead;
};

struct tls_flow {
	const struct tls_keylog *kl;
	const struct tls_key_entry *keys;
	const struct tls_suite *suite;
	bool have_ch, have_sh, tls13;
	bool etm; /* TLS 1.2 CBC: encrypt_then_mac (RFC 7366) */
	const char *bad; /* why the last record did not open */
	uint8_t server_random[TLS_RANDOM];
	enum tls_outcome outcome;
	char why[160];
	uint64_t records;
	uint8_t *pt; /* one record's plaintext */
	size_t pt_cap;
	struct tdir d[2]; /* [1]: the client's direction */
};

/* Buffers grow to what the flow's records need: most records of a run
 * are small, and a capture may hold thousands of flows. */
static bool grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	uint8_t *b = realloc(*buf, need);
	if (!b)
		return false;
	*buf = b;
	*cap = need;
	return true;
}

struct tls_flow *tls_flow_new(const struct tls_keylog *kl)
{
	struct tls_flow *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->kl = kl;
	t->outcome = kl && kl->n ? TLS_WAITING : TLS_NO_KEY;
	return t;
}

__attribute__((format(printf, 3, 4)))
static void fail(struct tls_flow *t, struct tdir *d, const char *fmt, ...)
{
	va_list ap;

	d->dead = true;
	if (t->outcome == TLS_FAILED || t->outcome == TLS_NO_KEY)
		return;
	t->outcome = TLS_FAILED;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

static const char *dir_name(const struct tls_flow *t, const struct tdir *d)
{
	return d == &t->d[1] ? "client" : "server";
}

/* ---- keys ---- */

/* A direction's AEAD keyed (TLS 1.3: from secret; TLS 1.2: k as given). */
static bool install(struct tls_flow *t, struct tdir *d, const uint8_t *secret, size_t len)
{
	if (secret) {
		if (tls13_traffic_key(t->suite, secret, len, &d->k))
			return false;
		memcpy(d->secret, secret, len);
		d->secret_len = (uint8_t)len;
	}
	if (!d->aead && !(d->aead = EVP_CIPHER_CTX_new()))
		return false;
	d->seq = 0;
	return EVP_DecryptInit_ex(d->aead, t->suite->cipher(), NULL, d->k.key, NULL) == 1;
}

/* After the ServerHello: the suite and version are known, and with them
 * what each direction's records are sealed with. */
static void keys_ready(struct tls_flow *t, uint16_t suite, uint16_t version)
{
	const struct tls_key_entry *e = t->keys;

	if (!e) {
		t->outcome = TLS_NO_KEY;
		return;
	}
	t->suite = tls_suite_find(suite);
	if (!t->suite || t->suite->tls13 != t->tls13) {
		fail(t, &t->d[0], "cipher suite 0x%04x is not one blast decrypts (AES-GCM, AES-CCM, "
		     "ChaCha20-Poly1305; TLS 1.2 AES-CBC with HMAC)", suite);
		t->d[1].dead = true;
		return;
	}
	if (!t->tls13 && version != TLS_V12) {
		fail(t, &t->d[0], "it is TLS 0x%04x: blast decrypts TLS 1.2 and 1.3", version);
		t->d[1].dead = true;
		return;
	}
	if (t->tls13) {
		for (int c = 0; c < 2; c++) {
			struct tdir *d = &t->d[c];
			int hs = c ? TS_CLIENT_HS : TS_SERVER_HS, ap = c ? TS_CLIENT_AP : TS_SERVER_AP;
			if (!e->len[ap]) {
				fail(t, d, "the key log has no %s_TRAFFIC_SECRET_0 for it",
				     c ? "CLIENT" : "SERVER");
				return;
			}
			d->app_len = e->len[ap];
			memcpy(d->app, e->secret[ap], e->len[ap]);
			d->sealed = true;
			d->epoch = e->len[hs] ? EP_HS : EP_APP;
			d->trial = !e->len[hs];
			bool ok = e->len[hs] ? install(t, d, e->secret[hs], e->len[hs])
					     : install(t, d, d->app, d->app_len);
			if (!ok) {
				fail(t, d, "cannot set up its cipher");
				return;
			}
		}
	} else {
		struct tls_traffic_key ck, sk;
		if (!e->len[TS_MASTER]) {
			fail(t, &t->d[0], "the key log has no CLIENT_RANDOM line for it");
			return;
		}
		if (tls12_key_block(t->suite, e->secret[TS_MASTER], e->len[TS_MASTER], e->random,
				    t->server_random, &ck, &sk)) {
			fail(t, &t->d[0], "cannot expand its keys");
			return;
		}
		t->d[1].k = ck;
		t->d[0].k = sk;
		for (int c = 0; c < 2; c++) {
			t->d[c].epoch = EP_APP;
			if (!install(t, &t->d[c], NULL, 0)) {
				fail(t, &t->d[c], "cannot set up its cipher");
				return;
			}
		}
	}
	t->outcome = TLS_DECRYPTED;
}

/* ---- handshake messages ---- */

static void hs_message(struct tls_flow *t, int c, uint8_t type, const uint8_t *b, size_t n)
{
	struct tdir *d = &t->d[c];
	struct tls_hello h;

	if (c && type == TLS_HS_CLIENT_HELLO && !t->have_ch && !d->sealed) {
		if (!b || tls_client_hello(b, n, &h)) {
			fail(t, d, "its ClientHello is unreadable");
			return;
		}
		t->have_ch = true;
		t->keys = tls_keylog_find(t->kl, h.random);
	} else if (!c && type == TLS_HS_SERVER_HELLO && !t->have_sh && !d->sealed) {
		if (!b || tls_server_hello(b, n, &h)) {
			fail(t, d, "its ServerHello is unreadable");
			return;
		}
		if (h.hrr) /* a second ClientHello and the real ServerHello follow */
			return;
		if (!t->have_ch) {
			fail(t, d, "the capture holds no ClientHello before its ServerHello");
			return;
		}
		t->have_sh = true;
		t->tls13 = h.version == TLS_V13;
		memcpy(t->server_random, h.random, TLS_RANDOM);
		t->etm = h.etm;
		keys_ready(t, h.suite, h.version);
	} else if (type == TLS_HS_FINISHED && d->epoch == EP_HS) {
		d->next = NX_APP;
	} else if (type == TLS_HS_KEY_UPDATE && d->epoch == EP_APP && t->tls13) {
		d->next = NX_KEY_UPDATE;
	}
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void hs_feed(struct tls_flow *t, int c, const uint8_t *p, size_t n)
{
	struct hs_asm *a = &t->d[c].hs;

	while (n && !t->d[c].dead) {
		if (a->hdr_len < 4) {
			a->hdr[a->hdr_len++] = *p++;
			n--;
			if (a->hdr_len < 4)
				continue;
			a->left = be24(a->hdr + 1);
			a->len = 0;
			a->keep = (a->hdr[0] == TLS_HS_CLIENT_HELLO || a->hdr[0] == TLS_HS_SERVER_HELLO) &&
				  a->left <= HELLO_MAX;
			if (a->keep && !grow(&a->body, &a->cap, a->left ? a->left : 1)) {
				fail(t, &t->d[c], "out of memory");
				return;
			}
		} else {
			size_t take = n < a->left ? n : a->left;
			if (a->keep)
				memcpy(a->body + a->len, p, take);
			a->len += take;
			a->left -= (uint32_t)take;
			p += take;
			n -= take;
		}
		if (a->hdr_len == 4 && !a->left) {
			a->hdr_len = 0;
			hs_message(t, c, a->hdr[0], a->keep ? a->body : NULL, a->len);
			if (a->keep) { /* a hello comes once */
				free(a->body);
				a->body = NULL;
				a->cap = 0;
			}
		}
	}
}

/* ---- records ---- */

/* The 13 bytes TLS 1.2 authenticates with a record: its sequence number,
 * type, version and a length (RFC 5246 6.2.3.1, 6.2.3.3). */
static void tls12_aad(uint8_t aad[13], uint64_t seq, const struct tls_rec *r, size_t len)
{
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(seq >> (56 - 8 * i));
	aad[8] = r->type;
	aad[9] = (uint8_t)(r->version >> 8);
	aad[10] = (uint8_t)r->version;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

/* An AEAD's ciphertext into t->pt: true when its tag authenticates. */
static bool aead_open(struct tls_flow *t, struct tdir *d, const uint8_t *nonce,
		      const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		      uint8_t *tag)
{
	const struct tls_suite *s = t->suite;
	int ol = 0, fl = 0;

	if (s->seal == TLS_SEAL_CCM) /* CCM's tag and nonce lengths are fixed when it is keyed */
		return EVP_DecryptInit_ex(d->aead, s->cipher(), NULL, NULL, NULL) == 1 &&
		       EVP_CIPHER_CTX_ctrl(d->aead, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
		       EVP_CIPHER_CTX_ctrl(d->aead, EVP_CTRL_AEAD_SET_TAG, s->tag_len, tag) == 1 &&
		       EVP_DecryptInit_ex(d->aead, NULL, NULL, d->k.key, nonce) == 1 &&
		       EVP_DecryptUpdate(d->aead, NULL, &ol, NULL, (int)ct_len) == 1 &&
		       EVP_DecryptUpdate(d->aead, NULL, &ol, aad, (int)aad_len) == 1 &&
		       EVP_DecryptUpdate(d->aead, t->pt, &ol, ct, (int)ct_len) == 1;
	return EVP_DecryptInit_ex(d->aead, NULL, NULL, NULL, nonce) == 1 &&
	       EVP_CIPHER_CTX_ctrl(d->aead, EVP_CTRL_AEAD_SET_TAG, s->tag_len, tag) == 1 &&
	       EVP_DecryptUpdate(d->aead, NULL, &ol, aad, (int)aad_len) == 1 &&
	       (!ct_len || EVP_DecryptUpdate(d->aead, t->pt, &ol, ct, (int)ct_len) == 1) &&
	       EVP_DecryptFinal_ex(d->aead, t->pt + (ct_len ? ol : 0), &fl) == 1;
}

/* An AEAD record into t->pt: its plaintext length and inner type, or -1. */
static long open_aead(struct tls_flow *t, struct tdir *d, const struct tls_rec *r,
		      const uint8_t *hdr, const uint8_t *body, uint8_t *type)
{
	const struct tls_suite *s = t->suite;
	uint8_t nonce[12], aad[13], tag[TAG];
	const uint8_t *ct = body;
	size_t ct_len, aad_len = TLS_REC_HDR;

	if (r->len < s->tag_len + (s->explicit_nonce ? 8 : 0) + (t->tls13 ? 1 : 0)) {
		t->bad = "it is shorter than its tag";
		return -1;
	}
	memcpy(nonce, d->k.iv, 12);
	if (s->explicit_nonce) { /* TLS 1.2 GCM, CCM: salt, then the record's 8 bytes */
		memcpy(nonce + 4, body, 8);
		ct += 8;
	} else { /* the IV XOR the sequence number, right-aligned */
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(d->seq >> (56 - 8 * i));
	}
	ct_len = (size_t)(body + r->len - s->tag_len - ct);
	if (!grow(&t->pt, &t->pt_cap, ct_len ? ct_len : 1))
		return -1;
	memcpy(tag, ct + ct_len, s->tag_len);
	if (t->tls13) {
		memcpy(aad, hdr, TLS_REC_HDR);
	} else {
		tls12_aad(aad, d->seq, r, ct_len);
		aad_len = 13;
	}
	if (!aead_open(t, d, nonce, aad, aad_len, ct, ct_len, tag)) {
		t->bad = "its tag does not match";
		return -1;
	}
	if (!t->tls13) {
		*type = r->type;
		return (long)ct_len;
	}
	/* TLSInnerPlaintext: content, type, zero padding (RFC 8446 5.4). */
	size_t n = ct_len;
	while (n && !t->pt[n - 1])
		n--;
	if (!n) {
		t->bad = "it holds no content type";
		return -1;
	}
	*type = t->pt[n - 1];
	return (long)n - 1;
}

/* CBC: n bytes at in (whole blocks) decrypted into out with the IV before them. */
static bool cbc_decrypt(struct tdir *d, const uint8_t *iv, const uint8_t *in, size_t n,
			uint8_t *out)
{
	int ol = 0, fl = 0;

	return EVP_DecryptInit_ex(d->aead, NULL, NULL, NULL, iv) == 1 &&
	       EVP_CIPHER_CTX_set_padding(d->aead, 0) == 1 &&
	       EVP_DecryptUpdate(d->aead, out, &ol, in, (int)n) == 1 &&
	       EVP_DecryptFinal_ex(d->aead, out + ol, &fl) == 1 && (size_t)(ol + fl) == n;
}

/* TLS's CBC padding at the end of p[0, n): the bytes it takes, or -1 when
 * they are not all the padding length's value. */
static long cbc_padding(const uint8_t *p, size_t n)
{
	uint8_t pad = p[n - 1];

	if ((size_t)pad + 1 > n)
		return -1;
	for (size_t i = n - 1 - pad; i < n - 1; i++)
		if (p[i] != pad)
			return -1;
	return (long)pad + 1;
}

/* A TLS 1.2 CBC record into t->pt: IV, then either the ciphertext of
 * content, MAC and padding (MAC then encrypt), or the ciphertext of
 * content and padding followed by a MAC over IV and ciphertext (RFC 7366).
 * Its plaintext length, or -1 with t->bad saying why. The MAC and t->pt
 * both start past 13 bytes kept for the MAC's header. */
static long open_cbc(struct tls_flow *t, struct tdir *d, const struct tls_rec *r,
		     const uint8_t *body, uint8_t *type)
{
	const size_t bs = 16, ml = d->k.mac_len;
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int got = 0;
	size_t ct_len = t->etm ? (r->len >= ml ? r->len - ml : 0) : r->len;
	size_t min = t->etm ? 2 * bs : bs + ((ml + 1 + bs - 1) / bs) * bs;

	*type = r->type;
	if (ct_len < min || ct_len % bs) {
		t->bad = "its length is not an IV, whole blocks and a MAC";
		return -1;
	}
	if (!grow(&t->pt, &t->pt_cap, 13 + r->len))
		return -1;
	uint8_t *p = t->pt + 13;
	size_t n = ct_len - bs;
	if (t->etm) { /* the MAC first, over what was sent */
		tls12_aad(t->pt, d->seq, r, ct_len);
		memcpy(p, body, ct_len);
		if (!HMAC(t->suite->mac(), d->k.mac, ml, t->pt, 13 + ct_len, mac, &got) ||
		    got != ml || CRYPTO_memcmp(mac, body + ct_len, ml)) {
			t->bad = "its MAC does not match";
			return -1;
		}
	}
	if (!cbc_decrypt(d, body, body + bs, n, p)) {
		t->bad = "it does not decrypt";
		return -1;
	}
	long pad = cbc_padding(p, n);
	if (pad < 0 || (size_t)pad + (t->etm ? 0 : ml) > n) {
		t->bad = "its padding is bad";
		return -1;
	}
	n -= (size_t)pad;
	if (!t->etm) { /* the MAC last, over the plaintext */
		n -= ml;
		tls12_aad(t->pt, d->seq, r, n);
		if (!HMAC(t->suite->mac(), d->k.mac, ml, t->pt, 13 + n, mac, &got) || got != ml ||
		    CRYPTO_memcmp(mac, p + n, ml)) {
			t->bad = "its MAC does not match";
			return -1;
		}
	}
	memmove(t->pt, p, n);
	return (long)n;
}

/* Opens a protected record into t->pt: its plaintext length and inner
 * type, or -1 when it does not authenticate (t->bad says why). */
static long open_record(struct tls_flow *t, struct tdir *d, const struct tls_rec *r,
			const uint8_t *hdr, const uint8_t *body, uint8_t *type)
{
	t->bad = "";
	if (t->suite->seal == TLS_SEAL_CBC)
		return open_cbc(t, d, r, body, type);
	return open_aead(t, d, r, hdr, body, type);
}

/* A record that would not open under the handshake key may be the first
 * under the application key (a Finished the reading did not see). */
static long open_or_switch(struct tls_flow *t, struct tdir *d, const struct tls_rec *r,
			   const uint8_t *hdr, const uint8_t *body, uint8_t *type)
{
	long n = open_record(t, d, r, hdr, body, type);

	if (n >= 0 || !t->tls13 || d->epoch != EP_HS)
		return n;
	struct tdir save = *d;
	if (!install(t, d, d->app, d->app_len))
		return -1;
	n = open_record(t, d, r, hdr, body, type);
	if (n >= 0) {
		d->epoch = EP_APP;
		return n;
	}
	d->k = save.k; /* back to the handshake key: the record is simply bad */
	memcpy(d->secret, save.secret, sizeof(d->secret));
	install(t, d, NULL, 0);
	d->seq = save.seq;
	return -1;
}

static void after_record(struct tls_flow *t, struct tdir *d)
{
	uint8_t next = d->next;

	d->next = NX_NONE;
	if (next == NX_APP) {
		d->epoch = EP_APP;
		if (!install(t, d, d->app, d->app_len))
			fail(t, d, "cannot set up its cipher");
	} else if (next == NX_KEY_UPDATE) {
		uint8_t s[TLS_SECRET_MAX];
		memcpy(s, d->secret, d->secret_len);
		if (tls13_next_secret(t->suite, s, d->secret_len) || !install(t, d, s, d->secret_len))
			fail(t, d, "cannot follow its KeyUpdate");
	}
}

static void record(struct tls_flow *t, int c, const struct tls_rec *r, const uint8_t *hdr,
		   const uint8_t *body, uint64_t ts, tls_plain_fn out, void *ctx)
{
	struct tdir *d = &t->d[c];
	uint8_t type;

	if (!d->sealed) {
		if (r->type == TLS_CT_HANDSHAKE)
			hs_feed(t, c, body, r->len);
		else if (r->type == TLS_CT_CCS && t->have_sh && !t->tls13)
			d->sealed = true; /* TLS 1.2: what follows is under the new keys */
		return;
	}
	/* TLS 1.3's compatibility ChangeCipherSpec is never protected. */
	if (r->type == TLS_CT_CCS || !d->aead || t->outcome != TLS_DECRYPTED)
		return;
	long n = open_or_switch(t, d, r, hdr, body, &type);
	if (n < 0) {
		if (d->trial) /* still the handshake, whose key the log lacks */
			return;
		fail(t, d, "the %s's record %llu does not decrypt with the logged keys%s%s",
		     dir_name(t, d), (unsigned long long)d->seq + 1, t->bad[0] ? ": " : "", t->bad);
		return;
	}
	d->trial = false;
	d->seq++;
	t->records++;
	if (type == TLS_CT_APPDATA && n)
		out(ctx, t->pt, (size_t)n, ts);
	else if (type == TLS_CT_HANDSHAKE)
		hs_feed(t, c, t->pt, (size_t)n);
	after_record(t, d);
}

void tls_flow_feed(struct tls_flow *t, int from_client, const uint8_t *p, size_t n, uint64_t ts,
		   tls_plain_fn out, void *ctx)
{
	struct tdir *d = &t->d[!!from_client];
	struct tls_rec r;

	while (n && !d->dead) {
		if (!d->rec_len) { /* whole records straight from the segment */
			int h = tls_rec_head(p, n, &r);
			if (h < 0) {
				fail(t, d, "the %s sent bytes that are not TLS records", dir_name(t, d));
				return;
			}
			if (h == 1 && n >= TLS_REC_HDR + (size_t)r.len) {
				record(t, !!from_client, &r, p, p + TLS_REC_HDR, ts, out, ctx);
				p += TLS_REC_HDR + r.len;
				n -= TLS_REC_HDR + r.len;
				continue;
			}
			d->rec_ts = ts;
		}
		size_t want = TLS_REC_HDR;
		if (d->rec_len >= TLS_REC_HDR)
			want += rb_be16(d->rec + 3);
		if (!grow(&d->rec, &d->rec_cap, want)) {
			fail(t, d, "out of memory");
			return;
		}
		size_t take = want - d->rec_len < n ? want - d->rec_len : n;
		memcpy(d->rec + d->rec_len, p, take);
		d->rec_len += take;
		p += take;
		n -= take;
		if (d->rec_len < TLS_REC_HDR)
			continue;
		if (tls_rec_head(d->rec, d->rec_len, &r) < 0) {
			fail(t, d, "the %s sent bytes that are not TLS records", dir_name(t, d));
			return;
		}
		if (d->rec_len == TLS_REC_HDR + (size_t)r.len) {
			d->rec_len = 0;
			record(t, !!from_client, &r, d->rec, d->rec + TLS_REC_HDR, d->rec_ts, out, ctx);
		}
	}
}

void tls_flow_gap(struct tls_flow *t, int from_client)
{
	struct tdir *d = &t->d[!!from_client];

	if (!d->dead)
		fail(t, d, "the capture misses bytes the %s sent", dir_name(t, d));
}

enum tls_outcome tls_flow_outcome(const struct tls_flow *t)
{
	return t->outcome == TLS_WAITING ? TLS_FAILED : t->outcome;
}

const char *tls_flow_why(const struct tls_flow *t)
{
	if (t->outcome == TLS_WAITING)
		return t->have_ch ? "the capture holds no ServerHello" : "the capture holds no ClientHello";
	return t->outcome == TLS_FAILED ? t->why : "";
}

uint64_t tls_flow_records(const struct tls_flow *t)
{
	return t->records;
}

void tls_flow_free(struct tls_flow *t)
{
	if (!t)
		return;
	for (int c = 0; c < 2; c++) {
		EVP_CIPHER_CTX_free(t->d[c].aead);
		free(t->d[c].rec);
		free(t->d[c].hs.body);
	}
	free(t->pt);
	free(t);
}
