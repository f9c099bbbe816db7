/* The header blast puts at the start of every --proto ws message, 44 ASCII
 * bytes so that it survives a text frame:
 *
 *     "BLWS" run(8 hex) seq(16 hex) sent(16 hex, CLOCK_REALTIME ns)
 *
 * seq is unique in the run (a split run's shares too: stats/fanout.h).
 * Written by the sender, read by every receiver and by the capture
 * analysis (the kernel probe has its own reader in bpf/). */
#ifndef BLAST_BLWS_H
#define BLAST_BLWS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define BLWS_MAGIC "BLWS"
#define BLWS_LEN 44

#define BLWS_PREFIX_LEN 12 /* "BLWS" and the run: the same in every message of a run */

/* Eight lower-case hex digits of v at p, all at once (the send path writes
 * two numbers per message): each nibble spread into a byte, '0' added,
 * and 'a' - '0' - 10 more where the nibble is over 9. */
static inline void blws_put_hex8(uint8_t *p, uint32_t v)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = (uint64_t)v;

	x = (x & 0xffffULL) | (x & 0xffff0000ULL) << 16;
	x = (x & 0x000000ff000000ffULL) | (x & 0x0000ff000000ff00ULL) << 8;
	x = (x & 0x000f000f000f000fULL) | (x & 0x00f000f000f000f0ULL) << 4;
	/* Byte i now holds nibble i, the least significant first. */
	uint64_t letter = ((x + 6 * ones) >> 4) & ones;
	x += '0' * ones + letter * ('a' - '0' - 10);
	x = __builtin_bswap64(x); /* the most significant digit first in memory */
	memcpy(p, &x, 8);
}

static inline void blws_put_hex16(uint8_t *p, uint64_t v)
{
	blws_put_hex8(p, (uint32_t)(v >> 32));
	blws_put_hex8(p + 8, (uint32_t)v);
}

/* Writes the BLWS_LEN header bytes at p. */
static inline void blws_stamp(uint8_t *p, uint32_t run, uint64_t seq, uint64_t sent_ns)
{
	memcpy(p, BLWS_MAGIC, 4);
	blws_put_hex8(p + 4, run);
	blws_put_hex16(p + 12, seq);
	blws_put_hex16(p + 28, sent_ns);
}

/* Eight lower-case hex digits at p, all at once (the receive path reads
 * one header per message). 0 or -EPROTO. */
static inline int blws_get_hex8(const uint8_t *p, uint32_t *out)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x;

	memcpy(&x, p, 8);
	/* '0'-'9' are 0x30-0x39 and 'a'-'f' 0x61-0x66: the low nibble, plus 9
	 * where bit 6 is set. */
	uint64_t nib = (x & 0x0f * ones) + ((x >> 6) & ones) * 9;
	/* Hex exactly when every nibble is under 16 and writes back as the
	 * same byte (blws_put_hex8's rule): anything else comes out
	 * different. No byte's sum reaches 0x100, so none carries into the next. */
	uint64_t letter = ((nib + 6 * ones) >> 4) & ones;
	if (((nib + 0x70 * ones) & 0x80 * ones) ||
	    nib + '0' * ones + letter * ('a' - '0' - 10) != x)
		return -EPROTO;
	/* Memory order is most significant digit first: swap, then fold the
	 * digits into bytes, the bytes into a word. */
	uint64_t v = __builtin_bswap64(nib);
	v = (v | v >> 4) & 0x00ff00ff00ff00ffULL;
	v = (v | v >> 8) & 0x0000ffff0000ffffULL;
	v = (v | v >> 16) & 0xffffffffULL;
	*out = (uint32_t)v;
	return 0;
}

/* The two numbers after the prefix (seq, sent), hex checked. 0 or -EPROTO. */
static inline int blws_parse_numbers(const uint8_t *p, uint64_t *seq, uint64_t *sent_ns)
{
	uint32_t h[4];

	for (int i = 0; i < 4; i++)
		if (blws_get_hex8(p + BLWS_PREFIX_LEN + 8 * i, &h[i]))
			return -EPROTO;
	*seq = (uint64_t)h[0] << 32 | h[1];
	*sent_ns = (uint64_t)h[2] << 32 | h[3];
	return 0;
}

/* Reads a header from the first len bytes at p. Returns 0, or -EPROTO when
 * they do not start with one (too short, another magic, not hex). */
static inline int blws_parse(const uint8_t *p, size_t len, uint32_t *run, uint64_t *seq,
			     uint64_t *sent_ns)
{
	uint32_t h[5];

	if (len < BLWS_LEN || memcmp(p, BLWS_MAGIC, 4))
		return -EPROTO;
	for (int i = 0; i < 5; i++)
		if (blws_get_hex8(p + 4 + 8 * i, &h[i]))
			return -EPROTO;
	*run = h[0];
	*seq = (uint64_t)h[1] << 32 | h[2];
	*sent_ns = (uint64_t)h[3] << 32 | h[4];
	return 0;
}

#endif
