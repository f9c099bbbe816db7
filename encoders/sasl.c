/* SASL PLAIN and SCRAM clients (contract in sasl.h). SCRAM as RFC 5802
 * section 3 computes it:
 *   SaltedPassword  = Hi(password, salt, i)            (PBKDF2 with HMAC)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = H(ClientKey)
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)
 * The password is used as given (no SASLprep): Kafka's own clients do the
 * same. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sasl.h"

/* Kafka's brokers accept 4096..16384 (ScramMechanism); more than this is
 * a server making the client burn CPU. */
#define SCRAM_ITER_MAX 100000
#define USER_MAX 255
#define PASS_MAX 255

const char *sasl_exchange_mech_name(enum sasl_mech m)
{
	switch (m) {
	case SASL_PLAIN:
		return "PLAIN";
	case SASL_SCRAM_SHA_256:
		return "SCRAM-SHA-256";
	case SASL_SCRAM_SHA_512:
		return "SCRAM-SHA-512";
	case SASL_SCRAM_SHA_1:
		return "SCRAM-SHA-1";
	default:
		return "none";
	}
}

static const EVP_MD *md_of(enum sasl_mech m)
{
	switch (m) {
	case SASL_SCRAM_SHA_256:
		return EVP_sha256();
	case SASL_SCRAM_SHA_512:
		return EVP_sha512();
	case SASL_SCRAM_SHA_1:
		return EVP_sha1();
	default:
		return NULL;
	}
}

static int fail(struct sasl_client *s, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->step = SASL_FAILED;
	return r;
}

static void say(char *err, size_t cap, const char *words)
{
	if (err && cap)
		snprintf(err, cap, "%s", words);
}

int sasl_exchange_init(struct sasl_client *s, enum sasl_mech m, const char *user, const char *pass,
		     const char *nonce)
{
	memset(s, 0, sizeof(*s));
	s->mech = m;
	s->user = user ? user : "";
	s->pass = pass ? pass : "";
	if (m == SASL_NONE || (m != SASL_PLAIN && !md_of(m)))
		return fail(s, -EINVAL, "no SASL mechanism");
	if (strlen(s->user) > USER_MAX || strlen(s->pass) > PASS_MAX)
		return fail(s, -EINVAL, "user name or password longer than %d bytes", USER_MAX);
	if (m == SASL_PLAIN)
		return 0;
	size_t n = nonce ? strlen(nonce) : 0;
	if (!n || n > SASL_NONCE_MAX)
		return fail(s, -EINVAL, "SCRAM nonce of 1 to %d characters", SASL_NONCE_MAX);
	for (size_t i = 0; i < n; i++)
		if (nonce[i] < 0x21 || nonce[i] > 0x7e || nonce[i] == ',')
			return fail(s, -EINVAL, "SCRAM nonce: printable characters but ','");
	memcpy(s->nonce, nonce, n + 1);
	return 0;
}

/* saslname (RFC 5802 5.1): ',' as "=2C" and '=' as "=3D". */
static size_t put_saslname(char *out, size_t cap, const char *user)
{
	size_t o = 0;

	for (const char *p = user; *p; p++) {
		const char *rep = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;
		size_t k = rep ? 3 : 1;
		if (o + k >= cap)
			return 0;
		if (rep)
			memcpy(out + o, rep, 3);
		else
			out[o] = *p;
		o += k;
	}
	out[o] = 0;
	return o;
}

ssize_t sasl_exchange_first(struct sasl_client *s, uint8_t *out, size_t cap)
{
	if (s->step != SASL_START)
		return fail(s, -EINVAL, "SASL exchange already started");
	if (s->mech == SASL_PLAIN) {
		/* [authzid] NUL authcid NUL passwd, with no authzid. */
		size_t u = strlen(s->user), p = strlen(s->pass);
		if (2 + u + p > cap)
			return fail(s, -ENOSPC, "SASL PLAIN message does not fit");
		out[0] = 0;
		memcpy(out + 1, s->user, u);
		out[1 + u] = 0;
		memcpy(out + 2 + u, s->pass, p);
		s->step = SASL_WAIT_FINAL;
		return (ssize_t)(2 + u + p);
	}
	char name[3 * USER_MAX + 1];
	if (!put_saslname(name, sizeof(name), s->user) && s->user[0])
		return fail(s, -EINVAL, "user name too long");
	/* client-first-message-bare: n=saslname,r=c-nonce; the message adds
	 * the gs2 header "n,," (no channel binding, no authzid). */
	int bare = snprintf(s->auth, sizeof(s->auth), "n=%s,r=%s", name, s->nonce);
	if (bare < 0 || (size_t)bare >= SASL_MSG_MAX || (size_t)bare + 3 > cap)
		return fail(s, -ENOSPC, "SCRAM client-first-message does not fit");
	s->auth_len = (size_t)bare;
	memcpy(out, "n,,", 3);
	memcpy(out + 3, s->auth, (size_t)bare);
	s->step = SASL_WAIT_FIRST;
	return bare + 3;
}

/* Standard base64 with padding, whole input only. Bytes, or -1. */
static int b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	if (n % 4 || n / 4 * 3 > cap + 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '+' || c == '/' || (c == '=' && i >= n - 2);
		if (!ok || (c != '=' && i > 0 && in[i - 1] == '='))
			return -1;
	}
	if (!n)
		return 0;
	uint8_t tmp[256];
	if (n / 4 * 3 > sizeof(tmp))
		return -1;
	int r = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (r < 0)
		return -1;
	r -= (in[n - 1] == '=') + (in[n - 2] == '=');
	if ((size_t)r > cap)
		return -1;
	memcpy(out, tmp, (size_t)r);
	return r;
}

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* The value of attribute a ("r", "s") at p, up to the next ',' or end:
 * p must start with "a=". */
static const char *attr(const char *p, const char *end, char a, size_t *len)
{
	if (end - p < 2 || p[0] != a || p[1] != '=')
		return NULL;
	const char *v = p + 2, *c = memchr(v, ',', (size_t)(end - v));
	*len = (size_t)((c ? c : end) - v);
	return v;
}

int scram_parse_server_first(const char *msg, size_t n, struct scram_server_first *f, char *err,
			     size_t err_cap)
{
	const char *p = msg, *end = msg + n, *v;
	size_t len;

	memset(f, 0, sizeof(*f));
	if (n >= 2 && msg[0] == 'e' && msg[1] == '=') {
		say(err, err_cap, "server-first-message is an error");
		return -EPROTO;
	}
	if (n >= 2 && msg[0] == 'm' && msg[1] == '=') {
		say(err, err_cap, "server-first-message asks for an extension blast does not know (m=)");
		return -EPROTO;
	}
	if (!(v = attr(p, end, 'r', &len)) || !len) {
		say(err, err_cap, "server-first-message has no nonce (r=)");
		return -EPROTO;
	}
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x21 || v[i] > 0x7e) {
			say(err, err_cap, "server-first-message: nonce not printable");
			return -EPROTO;
		}
	f->nonce = v;
	f->nonce_len = len;
	p = v + len + 1;
	if (p > end || !(v = attr(p, end, 's', &len))) {
		say(err, err_cap, "server-first-message has no salt (s=)");
		return -EPROTO;
	}
	int sl = b64_decode(v, len, f->salt, sizeof(f->salt));
	if (sl <= 0) {
		say(err, err_cap, "server-first-message: salt is not base64");
		return -EPROTO;
	}
	f->salt_len = (size_t)sl;
	p = v + len + 1;
	if (p > end || !(v = attr(p, end, 'i', &len)) || !len || len > 9) {
		say(err, err_cap, "server-first-message has no iteration count (i=)");
		return -EPROTO;
	}
	uint32_t it = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			say(err, err_cap, "server-first-message: iteration count is not a number");
			return -EPROTO;
		}
		it = it * 10 + (uint32_t)(v[i] - '0');
	}
	if (!it || it > SCRAM_ITER_MAX) {
		say(err, err_cap, "server-first-message: iteration count out of 1..100000");
		return -EPROTO;
	}
	f->iterations = it;
	/* Extensions after i= are optional ones: let go (RFC 5802 5.1). */
	return 0;
}

static bool hmac(const EVP_MD *md, const void *key, size_t klen, const void *d, size_t n,
		 uint8_t *out)
{
	unsigned int ol = 0;

	return HMAC(md, key, (int)klen, d, n, out, &ol) != NULL;
}

static ssize_t client_final(struct sasl_client *s, const char *msg, size_t n, uint8_t *out,
			    size_t cap)
{
	struct scram_server_first f;
	char words[SASL_ERR_MAX];
	const EVP_MD *md = md_of(s->mech);
	size_t hl = (size_t)EVP_MD_get_size(md), cn = strlen(s->nonce);

	if (scram_parse_server_first(msg, n, &f, words, sizeof(words)) < 0)
		return fail(s, -EPROTO, "%s", words);
	if (f.nonce_len <= cn || memcmp(f.nonce, s->nonce, cn))
		return fail(s, -EPROTO, "server-first-message: the nonce does not extend the client's");
	/* AuthMessage = client-first-bare "," server-first "," c=biws,r=nonce */
	size_t need = s->auth_len + 1 + n + 1 + 9 + f.nonce_len;
	if (n > SASL_MSG_MAX || need >= sizeof(s->auth))
		return fail(s, -EPROTO, "server-first-message too long");
	char *a = s->auth + s->auth_len;
	*a++ = ',';
	memcpy(a, msg, n);
	a += n;
	memcpy(a, ",c=biws,r=", 10);
	a += 10;
	memcpy(a, f.nonce, f.nonce_len);
	a += f.nonce_len;
	size_t final_off = s->auth_len + 1 + n + 1; /* where client-final-without-proof starts */
	s->auth_len = (size_t)(a - s->auth);

	uint8_t salted[64], ckey[64], stored[64], csig[64], skey[64];
	unsigned int sl = 0;
	struct scram_cache *c = s->cache;
	if (c && c->valid && c->mech == s->mech && c->iterations == f.iterations &&
	    c->salt_len == f.salt_len && !memcmp(c->salt, f.salt, f.salt_len)) {
		memcpy(salted, c->salted, hl);
	} else {
		if (!PKCS5_PBKDF2_HMAC(s->pass, (int)strlen(s->pass), f.salt, (int)f.salt_len,
				       (int)f.iterations, md, (int)hl, salted))
			return fail(s, -EIO, "SCRAM: hashing failed");
		if (c) {
			*c = (struct scram_cache){ .mech = s->mech, .iterations = f.iterations,
						   .salt_len = f.salt_len, .valid = true };
			memcpy(c->salt, f.salt, f.salt_len);
			memcpy(c->salted, salted, hl);
		}
	}
	if (!hmac(md, salted, hl, "Client Key", 10, ckey) || !EVP_Digest(ckey, hl, stored, &sl, md, NULL) ||
	    !hmac(md, stored, hl, s->auth, s->auth_len, csig) ||
	    !hmac(md, salted, hl, "Server Key", 10, skey) ||
	    !hmac(md, skey, hl, s->auth, s->auth_len, s->server_sig))
		return fail(s, -EIO, "SCRAM: hashing failed");
	s->sig_len = hl;
	for (size_t i = 0; i < hl; i++)
		ckey[i] ^= csig[i];
	size_t without = s->auth_len - final_off;
	char proof[100];
	size_t pl = b64_encode(ckey, hl, proof);
	if (without + 3 + pl > cap)
		return fail(s, -ENOSPC, "SCRAM client-final-message does not fit");
	memcpy(out, s->auth + final_off, without);
	memcpy(out + without, ",p=", 3);
	memcpy(out + without + 3, proof, pl);
	s->step = SASL_WAIT_FINAL;
	return (ssize_t)(without + 3 + pl);
}

static int server_final(struct sasl_client *s, const char *msg, size_t n)
{
	const char *end = msg + n, *v;
	size_t len;
	char want[100];

	if ((v = attr(msg, end, 'e', &len)))
		return fail(s, -EACCES, "server-final-message: e=%.*s", (int)(len > 100 ? 100 : len), v);
	if (!(v = attr(msg, end, 'v', &len)))
		return fail(s, -EPROTO, "server-final-message has no verifier (v=)");
	/* Compared as text: base64 has spellings that decode alike. */
	size_t wl = b64_encode(s->server_sig, s->sig_len, want);
	if (len != wl || CRYPTO_memcmp(v, want, wl))
		return fail(s, -EACCES, "the server's signature does not verify: "
					"it does not know the password (or something between rewrote the exchange)");
	s->step = SASL_DONE;
	return 0;
}

ssize_t sasl_exchange_step(struct sasl_client *s, const uint8_t *in, size_t n, uint8_t *out,
			 size_t cap)
{
	switch (s->step) {
	case SASL_WAIT_FIRST:
		return client_final(s, (const char *)in, n, out, cap);
	case SASL_WAIT_FINAL:
		if (s->mech == SASL_PLAIN) {
			s->step = SASL_DONE; /* the broker's error code said yes */
			return 0;
		}
		return server_final(s, (const char *)in, n);
	default:
		return fail(s, -EINVAL, "SASL step out of order");
	}
}
