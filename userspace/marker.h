/* The 16 bytes blast puts at the start of every sized payload (when the
 * payload has room): who sent it and its sequence number, so a subscriber,
 * a capture or a kernel probe can tell messages apart and match them. */
#ifndef BLAST_MARKER_H
#define BLAST_MARKER_H

#include <stdint.h>
#include <string.h>

#define MARKER_MAGIC "BLST"
#define MARKER_LEN 16

/* Layout: "BLST", u32 connection number, u64 sequence number, both
 * little-endian (the byte order of every host blast runs on). */
static inline void marker_stamp(uint8_t *p, uint32_t conn, uint64_t seq)
{
	memcpy(p, MARKER_MAGIC, 4);
	memcpy(p + 4, &conn, 4);
	memcpy(p + 8, &seq, 8);
}

#endif
