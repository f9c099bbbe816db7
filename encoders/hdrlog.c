/* HdrHistogram V2 encoding (see hdrlog.h), as HdrHistogram's Java
 * AbstractHistogram.encodeIntoCompressedByteBuffer writes it: the header
 * holds cookie, payload length, normalizing index offset (0), significant
 * digits, lowest, highest, and the integer-to-double ratio (1.0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hdrlog.h"
#include "rbuf.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

size_t hdr_varint_put(uint8_t *p, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (n < 8) {
		if (z < 0x80) {
			p[n++] = (uint8_t)z;
			return n;
		}
		p[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	p[n++] = (uint8_t)z; /* the 9th byte carries 8 bits */
	return n;
}

size_t hdr_varint_get(const uint8_t *p, size_t len, int64_t *v)
{
	uint64_t z = 0;
	size_t n = 0;

	for (;;) {
		if (n >= len)
			return 0;
		uint8_t b = p[n];
		if (n == 8) {
			z |= (uint64_t)b << 56;
			n++;
			break;
		}
		z |= (uint64_t)(b & 0x7f) << (7 * n);
		n++;
		if (!(b & 0x80))
			break;
	}
	*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	return n;
}

/* compress2 at level 9 with a 4 KiB window and small hash tables: the
 * same zlib stream format any reader inflates, from about 20 KB of state
 * instead of compress2's 270 KB, which malloc maps and unmaps afresh
 * (page faults and all) for each of a report's dozen histograms. Returns
 * the stream after `room` free bytes in a malloc'd buffer, its length in
 * *len; NULL with *err (a zlib code) on failure. */
static uint8_t *deflate_small(const uint8_t *src, size_t src_len, size_t room, size_t *len, int *err)
{
	z_stream zs = { 0 };

	*err = deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 12, 2, Z_DEFAULT_STRATEGY);
	if (*err != Z_OK)
		return NULL;
	uLong cap = deflateBound(&zs, (uLong)src_len);
	uint8_t *z = malloc(room + cap);
	if (!z) {
		deflateEnd(&zs);
		*err = Z_MEM_ERROR;
		return NULL;
	}
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)src_len;
	zs.next_out = z + room;
	zs.avail_out = (uInt)cap;
	int r = deflate(&zs, Z_FINISH);
	*len = zs.total_out;
	deflateEnd(&zs);
	if (r != Z_STREAM_END) {
		free(z);
		*err = r == Z_OK ? Z_BUF_ERROR : r;
		return NULL;
	}
	*err = Z_OK;
	return z;
}

int hdr_encode_compressed(const uint64_t *counts, size_t n, const struct hdr_params *p,
			  uint8_t **out, size_t *out_len)
{
	while (n && !counts[n - 1])
		n--;
	size_t raw_cap = HDR_V2_HEADER_LEN + n * HDR_VARINT_MAX + HDR_VARINT_MAX;
	uint8_t *raw = malloc(raw_cap);
	if (!raw)
		return -ENOMEM;
	size_t at = HDR_V2_HEADER_LEN;
	for (size_t i = 0; i < n;) {
		if (counts[i] > (uint64_t)INT64_MAX) {
			free(raw);
			return -EINVAL;
		}
		if (counts[i]) {
			at += hdr_varint_put(raw + at, (int64_t)counts[i++]);
			continue;
		}
		size_t zeros = 0;
		while (i < n && !counts[i]) {
			zeros++;
			i++;
		}
		/* A lone empty bucket is a 0, a run is its negated length. */
		at += hdr_varint_put(raw + at, zeros == 1 ? 0 : -(int64_t)zeros);
	}
	put_be32(raw, HDR_V2_COOKIE);
	put_be32(raw + 4, (uint32_t)(at - HDR_V2_HEADER_LEN));
	put_be32(raw + 8, 0);
	put_be32(raw + 12, (uint32_t)p->sigfigs);
	put_be64(raw + 16, (uint64_t)p->lowest);
	put_be64(raw + 24, (uint64_t)p->highest);
	double one = 1.0;
	uint64_t bits;
	memcpy(&bits, &one, sizeof(bits));
	put_be64(raw + 32, bits);

	size_t zlen;
	int r;
	uint8_t *z = deflate_small(raw, at, 8, &zlen, &r);
	free(raw);
	if (!z)
		return r == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	put_be32(z, HDR_V2_COMPRESSED_COOKIE);
	put_be32(z + 4, (uint32_t)zlen);
	*out = z;
	*out_len = 8 + zlen;
	return 0;
}

/* Inflates exactly one zlib stream of in[0..len) into at most cap bytes. */
static long inflate_bounded(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	int r = inflate(&zs, Z_FINISH);
	long got = (long)zs.total_out;
	inflateEnd(&zs);
	return r == Z_STREAM_END ? got : -1;
}

int hdr_decode_compressed(const uint8_t *in, size_t len, uint64_t *counts, size_t cap,
			  struct hdr_params *p, size_t *filled)
{
	if (len < 8 || (rb_be32(in) & ~0xf0u) != HDR_V2_COMPRESSED_COOKIE_BASE)
		return -EINVAL;
	uint32_t zlen = rb_be32(in + 4);
	if (zlen > len - 8 || cap > (SIZE_MAX - HDR_V2_HEADER_LEN) / HDR_VARINT_MAX - 1)
		return -EINVAL;
	/* Every bucket takes at least one byte, a run of any length at most 9. */
	size_t raw_cap = HDR_V2_HEADER_LEN + (cap + 1) * HDR_VARINT_MAX;
	uint8_t *raw = malloc(raw_cap);
	if (!raw)
		return -ENOMEM;
	long rawlen = inflate_bounded(in + 8, zlen, raw, raw_cap);
	int err = -EINVAL;
	if (rawlen < HDR_V2_HEADER_LEN || (rb_be32(raw) & ~0xf0u) != HDR_V2_COOKIE_BASE)
		goto out;
	uint32_t plen = rb_be32(raw + 4);
	if (plen > (size_t)rawlen - HDR_V2_HEADER_LEN)
		goto out;
	p->sigfigs = (int32_t)rb_be32(raw + 12);
	p->lowest = (int64_t)rb_be64(raw + 16);
	p->highest = (int64_t)rb_be64(raw + 24);
	memset(counts, 0, cap * sizeof(*counts));
	const uint8_t *q = raw + HDR_V2_HEADER_LEN, *end = q + plen;
	size_t at = 0;
	while (q < end) {
		int64_t v;
		size_t used = hdr_varint_get(q, (size_t)(end - q), &v);
		if (!used)
			goto out;
		q += used;
		if (v < 0) {
			if (v == INT64_MIN || (uint64_t)-v > cap - at)
				goto out;
			at += (size_t)-v;
		} else {
			if (at >= cap)
				goto out;
			counts[at++] = (uint64_t)v;
		}
	}
	*filled = at;
	err = 0;
out:
	free(raw);
	return err;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, uint8_t *out)
{
	size_t o = 0;

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int pad = 0;
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			char c = in[i + k];
			int d;
			/* '=' only in the last two places of the last quantum. */
			if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || in[i + 3] == '=')) {
				pad++;
				d = 0;
			} else if (pad || (d = b64_val(c)) < 0) {
				return -1;
			}
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)v;
	}
	return (long)o;
}
