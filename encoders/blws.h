/* The header blast puts at the start of every --proto ws message, 44 ASCII
 * bytes so that it survives a text frame:
 *
 *     "BLWS" run(8 hex) seq(16 hex) sent(16 hex, CLOCK_MONOTONIC ns)
 *
 * Written by the sender, read by every receiver and by the capture
 * analysis (the kernel probe has its own reader in bpf/). */
#ifndef BLAST_BLWS_H
#define BLAST_BLWS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define BLWS_MAGIC "BLWS"
#define BLWS_LEN 44

static inline void blws_put_hex(uint8_t *p, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--) {
		p[i] = (uint8_t)hex[v & 15];
		v >>= 4;
	}
}

/* Writes the BLWS_LEN header bytes at p. */
static inline void blws_stamp(uint8_t *p, uint32_t run, uint64_t seq, uint64_t sent_ns)
{
	memcpy(p, BLWS_MAGIC, 4);
	blws_put_hex(p + 4, run, 8);
	blws_put_hex(p + 12, seq, 16);
	blws_put_hex(p + 28, sent_ns, 16);
}

/* Eight lower-case hex digits at p, all at once (the receive path reads
 * one header per message). 0 or -EPROTO. */
static inline int blws_get_hex8(const uint8_t *p, uint32_t *out)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t x;

	memcpy(&x, p, 8);
	if (x & high)
		return -EPROTO; /* not ASCII */
	/* Per byte, bit 7 set when c >= lo: bytes < 0x80 plus < 0x80 never
	 * carry into the next byte. */
#define BLWS_GE(lo) (x + (0x80 - (lo)) * ones)
	uint64_t digit = BLWS_GE('0') & ~BLWS_GE('9' + 1);
	uint64_t letter = BLWS_GE('a') & ~BLWS_GE('f' + 1);
#undef BLWS_GE
	if (((digit | letter) & high) != high)
		return -EPROTO;
	/* '0'-'9' -> low nibble; 'a'-'f' -> low nibble + 9 (bit 6 marks them). */
	uint64_t nib = (x & 0x0f * ones) + ((x & 0x40 * ones) >> 6) * 9;
	/* Memory order is most significant digit first: pair them, then
	 * gather the four bytes. */
	uint64_t pairs = ((nib & 0x000f000f000f000fULL) << 4) | ((nib & 0x0f000f000f000f00ULL) >> 8);
	*out = (uint32_t)((pairs & 0xff) << 24 | ((pairs >> 16) & 0xff) << 16 |
			  ((pairs >> 32) & 0xff) << 8 | ((pairs >> 48) & 0xff));
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
