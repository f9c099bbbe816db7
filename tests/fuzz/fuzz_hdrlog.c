/* libFuzzer target for HdrHistogram's V2 encoding (encoders/hdrlog.c), the
 * bytes an --hlog file (or anyone's HdrHistogram log) carries.
 *
 * 1. The input as a compressed histogram and as base64 text: decode it into
 *    a small counts array. Nothing may read past the input or write past the
 *    array; a success must re-encode to something that decodes to the same
 *    counts.
 * 2. The input as counts: encode, decode, compare; varints round trip.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files:
 *   cc -DWITH_MAIN -Iencoders tests/fuzz/fuzz_hdrlog.c encoders/hdrlog.c -lz */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/hdrlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 4096

static void decode_and_back(const uint8_t *in, size_t len)
{
	static uint64_t counts[CAP], again[CAP];
	struct hdr_params p, q;
	size_t filled, filled2;

	if (hdr_decode_compressed(in, len, counts, CAP, &p, &filled))
		return;
	assert(filled <= CAP);
	for (size_t i = filled; i < CAP; i++)
		assert(counts[i] == 0);
	uint8_t *z;
	size_t zlen;
	/* Counts above INT64_MAX cannot come out of a varint. */
	assert(hdr_encode_compressed(counts, filled, &p, &z, &zlen) == 0);
	assert(hdr_decode_compressed(z, zlen, again, CAP, &q, &filled2) == 0);
	assert(!memcmp(counts, again, sizeof(counts)));
	assert(q.sigfigs == p.sigfigs && q.lowest == p.lowest && q.highest == p.highest);
	free(z);
}

static void from_base64(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(size / 4 * 3 + 1);
	long n = base64_decode((const char *)data, size, out);

	assert(n <= (long)(size / 4 * 3));
	if (n >= 0) {
		char *text = malloc(base64_len((size_t)n) + 1);
		base64_encode(out, (size_t)n, text);
		/* Canonical input comes back as it was. */
		assert(strlen(text) == size);
		free(text);
		decode_and_back(out, (size_t)n);
	}
	free(out);
}

static void from_counts(const uint8_t *data, size_t size)
{
	size_t n = size / 8 < CAP ? size / 8 : CAP;
	static uint64_t counts[CAP], back[CAP];
	struct hdr_params p = { 3, 1, 60000000000LL }, q;
	size_t filled;
	uint8_t *z;
	size_t zlen;

	memset(counts, 0, sizeof(counts));
	for (size_t i = 0; i < n; i++) {
		memcpy(&counts[i], data + 8 * i, 8);
		counts[i] &= INT64_MAX >> (data[8 * i] & 63); /* many small, some huge */
		if (data[8 * i] & 1)
			counts[i] = 0; /* runs of empty buckets */
	}
	assert(hdr_encode_compressed(counts, n, &p, &z, &zlen) == 0);
	assert(hdr_decode_compressed(z, zlen, back, CAP, &q, &filled) == 0);
	assert(!memcmp(counts, back, sizeof(counts)));
	free(z);
	for (size_t i = 0; i < n; i++) {
		uint8_t v[HDR_VARINT_MAX];
		int64_t x;
		int64_t t = (data[8 * i] & 2) ? -(int64_t)counts[i] : (int64_t)counts[i];
		size_t k = hdr_varint_put(v, t);
		assert(k >= 1 && k <= HDR_VARINT_MAX);
		assert(hdr_varint_get(v, k, &x) == k);
		assert(x == t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t v;

	hdr_varint_get(data, size, &v);
	decode_and_back(data, size);
	from_base64(data, size);
	from_counts(data, size);
	return 0;
}

#include "replay.h"
