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

/* Lower-case hex only, as blws_put_hex writes it. 0 or -EPROTO. */
static inline int blws_get_hex(const uint8_t *p, int digits, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < digits; i++) {
		uint8_t c = p[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 16;
		if (d > 15)
			return -EPROTO;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Writes the BLWS_LEN header bytes at p. */
static inline void blws_stamp(uint8_t *p, uint32_t run, uint64_t seq, uint64_t sent_ns)
{
	memcpy(p, BLWS_MAGIC, 4);
	blws_put_hex(p + 4, run, 8);
	blws_put_hex(p + 12, seq, 16);
	blws_put_hex(p + 28, sent_ns, 16);
}

/* Reads a header from the first len bytes at p. Returns 0, or -EPROTO when
 * they do not start with one (too short, another magic, not hex). */
static inline int blws_parse(const uint8_t *p, size_t len, uint32_t *run, uint64_t *seq,
			     uint64_t *sent_ns)
{
	uint64_t r;

	if (len < BLWS_LEN || memcmp(p, BLWS_MAGIC, 4) || blws_get_hex(p + 4, 8, &r) ||
	    blws_get_hex(p + 12, 16, seq) || blws_get_hex(p + 28, 16, sent_ns))
		return -EPROTO;
	*run = (uint32_t)r;
	return 0;
}

#endif
