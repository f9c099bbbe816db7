/* Key log lines into a table, and the key schedules (tls_keys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "witness/tls_keys.h"

static const char *const labels[TS__COUNT] = {
	[TS_MASTER] = "CLIENT_RANDOM",
	[TS_CLIENT_HS] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[TS_SERVER_HS] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[TS_CLIENT_AP] = "CLIENT_TRAFFIC_SECRET_0",
	[TS_SERVER_AP] = "SERVER_TRAFFIC_SECRET_0",
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits into n/2 bytes: 0, or -1 for an odd count or a non-digit. */
static int unhex(const char *s, size_t n, uint8_t *out)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

struct span {
	const char *p;
	size_t n;
};

/* A line's space-separated words, at most max: the count, or max + 1 when
 * there are more. */
static unsigned words(const char *p, size_t n, struct span *w, unsigned max)
{
	unsigned k = 0;
	size_t i = 0;

	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (k == max)
			return max + 1;
		w[k].p = p + i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		w[k].n = (size_t)(p + i - w[k].p);
		k++;
	}
	return k;
}

static bool label_word(const struct span *w)
{
	for (size_t i = 0; i < w->n; i++) {
		char c = w->p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return w->n > 0;
}

static int by_random(const void *a, const void *b)
{
	return memcmp(((const struct tls_key_entry *)a)->random,
		      ((const struct tls_key_entry *)b)->random, TLS_RANDOM);
}

/* Lines of one connection come one at a time: entries are merged by
 * random once all are read. */
static void merge(struct tls_keylog *kl)
{
	size_t k = 0;

	qsort(kl->e, kl->n, sizeof(*kl->e), by_random);
	for (size_t i = 0; i < kl->n; i++) {
		if (k && !memcmp(kl->e[k - 1].random, kl->e[i].random, TLS_RANDOM)) {
			for (int s = 0; s < TS__COUNT; s++) {
				if (!kl->e[i].len[s])
					continue;
				kl->e[k - 1].len[s] = kl->e[i].len[s];
				memcpy(kl->e[k - 1].secret[s], kl->e[i].secret[s], kl->e[i].len[s]);
			}
			continue;
		}
		kl->e[k++] = kl->e[i];
	}
	kl->n = k;
}

int tls_keylog_parse(const char *text, size_t len, struct tls_keylog *kl, char *err,
		     size_t err_cap)
{
	size_t cap = 0, line = 0;

	kl->e = NULL;
	kl->n = 0;
	for (size_t at = 0; at < len;) {
		const char *p = text + at;
		const char *nl = memchr(p, '\n', len - at);
		size_t n = nl ? (size_t)(nl - p) : len - at;
		at += n + (nl != NULL);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		struct span w[3];
		unsigned k = words(p, n, w, 3);
		if (k == 0 || p[0] == '#')
			continue;
		uint8_t random[TLS_RANDOM], secret[TLS_SECRET_MAX];
		int s = 0;
		while (s < TS__COUNT && (strlen(labels[s]) != w[0].n ||
					 memcmp(labels[s], w[0].p, w[0].n)))
			s++;
		/* Exporter and early-data secrets, and RSA key exchange's "RSA
		 * <8 bytes> <premaster>" (its CLIENT_RANDOM line has the master
		 * secret): nothing a capture needs. */
		if (k == 3 && label_word(&w[0]) && s == TS__COUNT)
			continue;
		if (k != 3 || !label_word(&w[0]) || w[1].n != 2 * TLS_RANDOM ||
		    unhex(w[1].p, w[1].n, random) || w[2].n > 2 * TLS_SECRET_MAX || w[2].n < 32 ||
		    unhex(w[2].p, w[2].n, secret)) {
			snprintf(err, err_cap, "line %zu is not a key log line (LABEL <64 hex digits>"
				 " <secret in hex>)", line);
			tls_keylog_free(kl);
			return -EINVAL;
		}
		if (kl->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct tls_key_entry *e = realloc(kl->e, ncap * sizeof(*e));
			if (!e) {
				snprintf(err, err_cap, "out of memory");
				tls_keylog_free(kl);
				return -ENOMEM;
			}
			kl->e = e;
			cap = ncap;
		}
		struct tls_key_entry *e = &kl->e[kl->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->random, random, TLS_RANDOM);
		e->len[s] = (uint8_t)(w[2].n / 2);
		memcpy(e->secret[s], secret, e->len[s]);
	}
	if (!kl->n) {
		snprintf(err, err_cap, "no key in it (no CLIENT_RANDOM or *_TRAFFIC_SECRET line)");
		return -ENODATA;
	}
	merge(kl);
	return 0;
}

const struct tls_key_entry *tls_keylog_find(const struct tls_keylog *kl,
					    const uint8_t random[TLS_RANDOM])
{
	struct tls_key_entry key;

	if (!kl || !kl->n)
		return NULL;
	memcpy(key.random, random, TLS_RANDOM);
	return bsearch(&key, kl->e, kl->n, sizeof(*kl->e), by_random);
}

void tls_keylog_free(struct tls_keylog *kl)
{
	free(kl->e);
	kl->e = NULL;
	kl->n = 0;
}

/* ---- suites ---- */

/* id, name, TLS 1.3, seal (A: AEAD, C: CCM, B: CBC), key bytes, fixed IV
 * bytes, tag bytes, explicit nonce, cipher, PRF/HKDF hash, MAC hash. */
#define A TLS_SEAL_AEAD
#define C TLS_SEAL_CCM
#define B TLS_SEAL_CBC
static const struct tls_suite suites[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", true, A, 16, 12, 16, false,
	  EVP_aes_128_gcm, EVP_sha256, NULL },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", true, A, 32, 12, 16, false,
	  EVP_aes_256_gcm, EVP_sha384, NULL },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, A, 32, 12, 16, false, EVP_chacha20_poly1305,
	  EVP_sha256, NULL },
	{ 0x1304, "TLS_AES_128_CCM_SHA256", true, C, 16, 12, 16, false,
	  EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256", true, C, 16, 12, 8, false,
	  EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0x009c, "RSA-AES128-GCM-SHA256", false, A, 16, 4, 16, true, EVP_aes_128_gcm, EVP_sha256, NULL },
	{ 0x009d, "RSA-AES256-GCM-SHA384", false, A, 32, 4, 16, true, EVP_aes_256_gcm, EVP_sha384, NULL },
	{ 0x009e, "DHE-RSA-AES128-GCM-SHA256", false, A, 16, 4, 16, true, EVP_aes_128_gcm,
	  EVP_sha256, NULL },
	{ 0x009f, "DHE-RSA-AES256-GCM-SHA384", false, A, 32, 4, 16, true, EVP_aes_256_gcm,
	  EVP_sha384, NULL },
	{ 0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", false, A, 16, 4, 16, true, EVP_aes_128_gcm,
	  EVP_sha256, NULL },
	{ 0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", false, A, 32, 4, 16, true, EVP_aes_256_gcm,
	  EVP_sha384, NULL },
	{ 0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", false, A, 16, 4, 16, true, EVP_aes_128_gcm,
	  EVP_sha256, NULL },
	{ 0xc030, "ECDHE-RSA-AES256-GCM-SHA384", false, A, 32, 4, 16, true, EVP_aes_256_gcm,
	  EVP_sha384, NULL },
	{ 0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", false, A, 32, 12, 16, false, EVP_chacha20_poly1305,
	  EVP_sha256, NULL },
	{ 0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", false, A, 32, 12, 16, false,
	  EVP_chacha20_poly1305, EVP_sha256, NULL },
	{ 0xccaa, "DHE-RSA-CHACHA20-POLY1305", false, A, 32, 12, 16, false, EVP_chacha20_poly1305,
	  EVP_sha256, NULL },
	/* AES-CCM (RFC 6655, 7251): the PRF is SHA-256's for every key length. */
	{ 0xc09c, "AES128-CCM", false, C, 16, 4, 16, true, EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0xc09d, "AES256-CCM", false, C, 32, 4, 16, true, EVP_aes_256_ccm, EVP_sha256, NULL },
	{ 0xc09e, "DHE-RSA-AES128-CCM", false, C, 16, 4, 16, true, EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0xc09f, "DHE-RSA-AES256-CCM", false, C, 32, 4, 16, true, EVP_aes_256_ccm, EVP_sha256, NULL },
	{ 0xc0a0, "AES128-CCM8", false, C, 16, 4, 8, true, EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0xc0a1, "AES256-CCM8", false, C, 32, 4, 8, true, EVP_aes_256_ccm, EVP_sha256, NULL },
	{ 0xc0a2, "DHE-RSA-AES128-CCM8", false, C, 16, 4, 8, true, EVP_aes_128_ccm, EVP_sha256, NULL },
	{ 0xc0a3, "DHE-RSA-AES256-CCM8", false, C, 32, 4, 8, true, EVP_aes_256_ccm, EVP_sha256, NULL },
	{ 0xc0ac, "ECDHE-ECDSA-AES128-CCM", false, C, 16, 4, 16, true, EVP_aes_128_ccm,
	  EVP_sha256, NULL },
	{ 0xc0ad, "ECDHE-ECDSA-AES256-CCM", false, C, 32, 4, 16, true, EVP_aes_256_ccm,
	  EVP_sha256, NULL },
	{ 0xc0ae, "ECDHE-ECDSA-AES128-CCM8", false, C, 16, 4, 8, true, EVP_aes_128_ccm,
	  EVP_sha256, NULL },
	{ 0xc0af, "ECDHE-ECDSA-AES256-CCM8", false, C, 32, 4, 8, true, EVP_aes_256_ccm,
	  EVP_sha256, NULL },
	/* AES-CBC with HMAC: under TLS 1.2 the PRF is SHA-256's unless the
	 * suite names SHA-384 (RFC 5246 5, RFC 5289). */
	{ 0x002f, "AES128-SHA", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256, EVP_sha1 },
	{ 0x0035, "AES256-SHA", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256, EVP_sha1 },
	{ 0x003c, "AES128-SHA256", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha256 },
	{ 0x003d, "AES256-SHA256", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256,
	  EVP_sha256 },
	{ 0x0033, "DHE-RSA-AES128-SHA", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0x0039, "DHE-RSA-AES256-SHA", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0x0067, "DHE-RSA-AES128-SHA256", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha256 },
	{ 0x006b, "DHE-RSA-AES256-SHA256", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256,
	  EVP_sha256 },
	{ 0xc009, "ECDHE-ECDSA-AES128-SHA", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0xc00a, "ECDHE-ECDSA-AES256-SHA", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0xc013, "ECDHE-RSA-AES128-SHA", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0xc014, "ECDHE-RSA-AES256-SHA", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha256,
	  EVP_sha1 },
	{ 0xc023, "ECDHE-ECDSA-AES128-SHA256", false, B, 16, 0, 0, false, EVP_aes_128_cbc,
	  EVP_sha256, EVP_sha256 },
	{ 0xc024, "ECDHE-ECDSA-AES256-SHA384", false, B, 32, 0, 0, false, EVP_aes_256_cbc,
	  EVP_sha384, EVP_sha384 },
	{ 0xc027, "ECDHE-RSA-AES128-SHA256", false, B, 16, 0, 0, false, EVP_aes_128_cbc, EVP_sha256,
	  EVP_sha256 },
	{ 0xc028, "ECDHE-RSA-AES256-SHA384", false, B, 32, 0, 0, false, EVP_aes_256_cbc, EVP_sha384,
	  EVP_sha384 },
};
#undef A
#undef C
#undef B

const struct tls_suite *tls_suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

/* ---- key schedules ---- */

int tls13_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
		       const char *label, const uint8_t *context, size_t context_len, uint8_t *out,
		       size_t len)
{
	uint8_t info[2 + 1 + 255 + 1 + 255], t[EVP_MAX_MD_SIZE + sizeof(info) + 1];
	size_t ll = 6 + strlen(label), hl = (size_t)EVP_MD_get_size(md), n = 0, tl = 0;
	unsigned int got;

	if (ll > 255 || context_len > 255 || len > 255 * hl)
		return -1;
	info[0] = (uint8_t)(len >> 8);
	info[1] = (uint8_t)len;
	info[2] = (uint8_t)ll;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll - 6);
	info[3 + ll] = (uint8_t)context_len;
	if (context_len)
		memcpy(info + 4 + ll, context, context_len);
	size_t il = 4 + ll + context_len;
	/* HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(PRK, T(i-1) | info | i). */
	for (uint8_t i = 1; n < len; i++) {
		memcpy(t + tl, info, il);
		t[tl + il] = i;
		if (!HMAC(md, secret, (int)secret_len, t, tl + il + 1, t, &got))
			return -1;
		tl = got;
		size_t take = len - n < tl ? len - n : tl;
		memcpy(out + n, t, take);
		n += take;
	}
	return 0;
}

int tls13_traffic_key(const struct tls_suite *s, const uint8_t *secret, size_t secret_len,
		      struct tls_traffic_key *k)
{
	const EVP_MD *md = s->md();

	memset(k, 0, sizeof(*k));
	return tls13_expand_label(md, secret, secret_len, "key", NULL, 0, k->key, s->key_len) ||
			       tls13_expand_label(md, secret, secret_len, "iv", NULL, 0, k->iv, 12)
		       ? -1
		       : 0;
}

int tls13_next_secret(const struct tls_suite *s, uint8_t *secret, size_t secret_len)
{
	uint8_t next[TLS_SECRET_MAX];

	if (secret_len > sizeof(next) ||
	    tls13_expand_label(s->md(), secret, secret_len, "traffic upd", NULL, 0, next,
			       secret_len))
		return -1;
	memcpy(secret, next, secret_len);
	return 0;
}

int tls12_prf(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
	      const uint8_t *seed, size_t seed_len, uint8_t *out, size_t len)
{
	uint8_t ls[128], a[EVP_MAX_MD_SIZE + sizeof(ls)], block[EVP_MAX_MD_SIZE];
	size_t lab = strlen(label), n = 0;
	unsigned int al, bl;

	if (lab + seed_len > sizeof(ls))
		return -1;
	memcpy(ls, label, lab);
	memcpy(ls + lab, seed, seed_len);
	size_t sl = lab + seed_len;
	/* A(1) = HMAC(secret, label + seed); each block HMAC(secret, A(i) + label + seed). */
	if (!HMAC(md, secret, (int)secret_len, ls, sl, a, &al))
		return -1;
	while (n < len) {
		memcpy(a + al, ls, sl);
		if (!HMAC(md, secret, (int)secret_len, a, al + sl, block, &bl))
			return -1;
		size_t take = len - n < bl ? len - n : bl;
		memcpy(out + n, block, take);
		n += take;
		if (!HMAC(md, secret, (int)secret_len, a, al, a, &al))
			return -1;
	}
	return 0;
}

int tls12_key_block(const struct tls_suite *s, const uint8_t *master, size_t master_len,
		    const uint8_t client_random[TLS_RANDOM],
		    const uint8_t server_random[TLS_RANDOM], struct tls_traffic_key *client,
		    struct tls_traffic_key *server)
{
	uint8_t seed[2 * TLS_RANDOM], block[2 * (TLS_SECRET_MAX + 32 + 12)];
	size_t ml = s->mac ? (size_t)EVP_MD_get_size(s->mac()) : 0, kl = s->key_len,
	       il = s->fixed_iv;

	if (ml > TLS_SECRET_MAX)
		return -1;
	/* RFC 5246 6.3: server_random first here, unlike the master secret's
	 * seed; the block is both MAC keys, both write keys, both IVs (CBC's
	 * are not needed: TLS 1.2 records carry their own). */
	memcpy(seed, server_random, TLS_RANDOM);
	memcpy(seed + TLS_RANDOM, client_random, TLS_RANDOM);
	if (tls12_prf(s->md(), master, master_len, "key expansion", seed, sizeof(seed), block,
		      2 * (ml + kl + il)))
		return -1;
	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	client->mac_len = server->mac_len = (uint8_t)ml;
	memcpy(client->mac, block, ml);
	memcpy(server->mac, block + ml, ml);
	memcpy(client->key, block + 2 * ml, kl);
	memcpy(server->key, block + 2 * ml + kl, kl);
	memcpy(client->iv, block + 2 * (ml + kl), il);
	memcpy(server->iv, block + 2 * (ml + kl) + il, il);
	return 0;
}
