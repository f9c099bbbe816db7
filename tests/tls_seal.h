/* TLS records sealed as a peer would, for the tests and the fuzz target of
 * the capture decryptor (witness/tls_decrypt.c): AEAD records (GCM,
 * ChaCha20-Poly1305, CCM, CCM-8; TLS 1.3's inner type, TLS 1.2's explicit
 * nonce) and TLS 1.2 CBC records, MAC then encrypt or encrypt then MAC
 * (RFC 5246 6.2.3.2, RFC 7366), written here from the RFCs with OpenSSL's
 * EVP and HMAC, apart from the decryptor's code (only the suite table and
 * key schedule are shared). Static functions: include once per program. */
#ifndef BLAST_TESTS_TLS_SEAL_H
#define BLAST_TESTS_TLS_SEAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "witness/tls_keys.h"

/* How to spoil a sealed CBC record: its padding bytes disagree, or extra
 * padding blocks (up to 15) are added. */
struct seal_opts {
	bool tls13, etm;
	bool bad_pad;
	uint8_t extra_blocks;
};

static void seal_aad12(uint8_t aad[13], uint64_t seq, uint8_t type, size_t len)
{
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(seq >> (56 - 8 * i));
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

static size_t seal_header(uint8_t *out, uint8_t type, size_t len)
{
	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	return 5;
}

static size_t seal_aead(const struct tls_suite *s, const struct tls_traffic_key *k,
			const struct seal_opts *o, uint64_t seq, uint8_t type, const uint8_t *pt,
			size_t n, uint8_t *out)
{
	uint8_t nonce[12], aad[13], in[TLS_REC_MAX];
	size_t ex = s->explicit_nonce ? 8 : 0, m = n, aad_len = 13;
	int ol;

	memcpy(in, pt, n);
	if (o->tls13)
		in[m++] = type;
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(seq >> (56 - 8 * i));
		nonce[4 + i] = ex ? b : nonce[4 + i] ^ b;
	}
	size_t len = ex + m + s->tag_len;
	seal_header(out, o->tls13 ? 23 : type, len);
	if (o->tls13) {
		memcpy(aad, out, 5);
		aad_len = 5;
	} else {
		seal_aad12(aad, seq, type, m);
	}
	memcpy(out + 5, nonce + 4, ex);
	uint8_t *ct = out + 5 + ex;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, s->cipher(), NULL, NULL, NULL);
	if (s->seal == TLS_SEAL_CCM) {
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, s->tag_len, NULL);
	}
	EVP_EncryptInit_ex(c, NULL, NULL, k->key, nonce);
	if (s->seal == TLS_SEAL_CCM)
		EVP_EncryptUpdate(c, NULL, &ol, NULL, (int)m);
	EVP_EncryptUpdate(c, NULL, &ol, aad, (int)aad_len);
	EVP_EncryptUpdate(c, ct, &ol, in, (int)m);
	EVP_EncryptFinal_ex(c, ct + m, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, s->tag_len, ct + m);
	EVP_CIPHER_CTX_free(c);
	return 5 + len;
}

static size_t seal_cbc(const struct tls_suite *s, const struct tls_traffic_key *k,
		       const struct seal_opts *o, uint64_t seq, uint8_t type, const uint8_t *pt,
		       size_t n, uint8_t *out)
{
	uint8_t in[TLS_REC_MAX + 512], aad[13], hm[TLS_REC_MAX + 512];
	size_t ml = k->mac_len, m = n;
	unsigned int got;
	int ol;

	memcpy(in, pt, n);
	if (!o->etm) { /* MAC over the content, inside the ciphertext */
		seal_aad12(hm, seq, type, n);
		memcpy(hm + 13, pt, n);
		HMAC(s->mac(), k->mac, (int)ml, hm, 13 + n, in + m, &got);
		m += ml;
	}
	size_t pad = 15 - m % 16 + 16 * (size_t)(o->extra_blocks & 15);
	memset(in + m, (int)pad, pad + 1);
	if (o->bad_pad)
		in[m] ^= 1;
	m += pad + 1;
	uint8_t *iv = out + 5, *ct = out + 5 + 16;
	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(seq * 31 + (uint64_t)i * 7);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, s->cipher(), NULL, k->key, iv);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_EncryptUpdate(c, ct, &ol, in, (int)m);
	EVP_EncryptFinal_ex(c, ct + ol, &ol);
	EVP_CIPHER_CTX_free(c);
	size_t len = 16 + m;
	if (o->etm) { /* MAC over IV and ciphertext, after them */
		seal_aad12(aad, seq, type, len);
		memcpy(hm, aad, 13);
		memcpy(hm + 13, iv, len);
		HMAC(s->mac(), k->mac, (int)ml, hm, 13 + len, iv + len, &got);
		len += ml;
	}
	seal_header(out, type, len);
	return 5 + len;
}

/* One record of content type `type` holding pt[0, n) (n well under a
 * record's limit), sealed under suite s with k as the record sequence
 * number seq's: its length at out, which must have n + 600 bytes. */
static size_t seal_record(const struct tls_suite *s, const struct tls_traffic_key *k,
			  const struct seal_opts *o, uint64_t seq, uint8_t type, const uint8_t *pt,
			  size_t n, uint8_t *out)
{
	return s->seal == TLS_SEAL_CBC ? seal_cbc(s, k, o, seq, type, pt, n, out)
				       : seal_aead(s, k, o, seq, type, pt, n, out);
}

#endif
