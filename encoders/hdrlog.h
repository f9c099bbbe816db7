/* HdrHistogram's V2 histogram encoding, the payload of its interval logs:
 * counts as ZigZag LEB128-64b9B varints (a negative number is a run of that
 * many empty buckets), behind a 40-byte big-endian header, deflated (zlib)
 * behind an 8-byte compressed header, then base64. Pure: no I/O, no
 * globals; the caller owns the counts array and its layout. */
#ifndef BLAST_HDRLOG_H
#define BLAST_HDRLOG_H

#include <stddef.h>
#include <stdint.h>

/* The cookies as written: the base ORed with 0x10 (word size marker). A
 * reader matches them with the 0xf0 bits masked off. */
#define HDR_V2_COOKIE_BASE 0x1c849303u
#define HDR_V2_COMPRESSED_COOKIE_BASE 0x1c849304u
#define HDR_V2_COOKIE (HDR_V2_COOKIE_BASE | 0x10u)
#define HDR_V2_COMPRESSED_COOKIE (HDR_V2_COMPRESSED_COOKIE_BASE | 0x10u)
#define HDR_V2_HEADER_LEN 40
#define HDR_VARINT_MAX 9

struct hdr_params {
	int32_t sigfigs;
	int64_t lowest;  /* lowest discernible value */
	int64_t highest; /* highest trackable value */
};

/* ZigZag LEB128-64b9B: 7 bits a byte for 8 bytes, then 8 bits in the 9th.
 * put writes at most HDR_VARINT_MAX bytes and returns how many; get returns
 * bytes read, or 0 when the input ends inside the number. */
size_t hdr_varint_put(uint8_t *p, int64_t v);
size_t hdr_varint_get(const uint8_t *p, size_t len, int64_t *v);

/* counts[0..n) (trailing empty buckets are left out) to the compressed V2
 * form in a malloc'd buffer. Returns 0, -ENOMEM, or -EINVAL for a count
 * above INT64_MAX. */
int hdr_encode_compressed(const uint64_t *counts, size_t n, const struct hdr_params *p,
			  uint8_t **out, size_t *out_len);
/* The reverse, into counts[0..cap) (zeroed first). *filled is one past the
 * last bucket the payload reached. Returns 0 or -EINVAL (bad cookie,
 * lengths, deflate stream, or buckets past cap); never reads past in[len). */
int hdr_decode_compressed(const uint8_t *in, size_t len, uint64_t *counts, size_t cap,
			  struct hdr_params *p, size_t *filled);

/* Standard base64 with padding. encode writes 4 * ceil(len / 3) chars and a
 * NUL into out (size it base64_len(len) + 1); decode returns the bytes
 * written to out (size it 3 * (len / 4)) or -1 on any non-base64 input. */
size_t base64_len(size_t len);
void base64_encode(const uint8_t *in, size_t len, char *out);
long base64_decode(const char *in, size_t len, uint8_t *out);

#endif
