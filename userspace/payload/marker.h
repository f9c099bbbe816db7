/* The 16 bytes blast puts at the start of every sized payload (when the
 * payload has room): who sent it and its sequence number, so a subscriber,
 * a capture or a kernel probe can tell messages apart and match them. */
#ifndef BLAST_MARKER_H
#define BLAST_MARKER_H

#include <stddef.h>
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

/* Re-stamps the sequence number alone, over a copy of a marker that
 * marker_stamp wrote for the same connection. */
static inline void marker_restamp_seq(uint8_t *p, uint64_t seq)
{
	memcpy(p + 8, &seq, 8);
}

/* Fan-out runs (MQTT subscribers) need more: the 16 bytes above, then
 * "FANO", u32 run id, u64 send time on the wall clock (CLOCK_REALTIME ns,
 * as the sender's monotonic clock plus its offset at run start), so a
 * subscriber on any host times each receipt (across hosts as well as their
 * clocks agree), and messages of other runs (retained, or queued for a
 * session) are told apart. 32 bytes, little-endian like the rest. A split
 * run's markers carry the publisher's number in the whole run and
 * sequence numbers no other share uses (stats/fanout.h). */
#define MARKER_FANOUT_TAG "FANO"
#define MARKER_FANOUT_LEN 32

struct marker_fanout {
	uint32_t conn;
	uint64_t seq;
	uint32_t run;
	uint64_t sent_ns;
};

static inline void marker_stamp_fanout(uint8_t *p, uint32_t conn, uint64_t seq, uint32_t run,
				       uint64_t sent_ns)
{
	marker_stamp(p, conn, seq);
	memcpy(p + 16, MARKER_FANOUT_TAG, 4);
	memcpy(p + 20, &run, 4);
	memcpy(p + 24, &sent_ns, 8);
}

/* Reads a fan-out marker at the start of a received payload of len bytes.
 * 0, or -1 when the payload is too short or does not carry one. */
static inline int marker_read_fanout(const uint8_t *p, size_t len, struct marker_fanout *m)
{
	if (len < MARKER_FANOUT_LEN || memcmp(p, MARKER_MAGIC, 4) ||
	    memcmp(p + 16, MARKER_FANOUT_TAG, 4))
		return -1;
	memcpy(&m->conn, p + 4, 4);
	memcpy(&m->seq, p + 8, 8);
	memcpy(&m->run, p + 20, 4);
	memcpy(&m->sent_ns, p + 24, 8);
	return 0;
}

#endif
