/* Segment receive stamps: each message timed by the TCP segment that
 * completed it, whatever the size of the read that brought it.
 *
 * SO_TIMESTAMPNS (rxstamp.h) gives one stamp per read: that of its newest
 * segment. That is exact only when a read holds one segment, which means
 * small reads and many of them. Here a socket filter (bpf/rx_stamp.bpf.c)
 * records every segment's arrival and end sequence number in a ring per
 * connection, shared with blast through mmap; blast counts the bytes it
 * reads, so a message ending at stream byte B is timed by the first
 * segment that reached past B. Reads may then be large and the loop lazy
 * without adding error. Loading the filter needs CAP_BPF (or root). */
#ifndef BLAST_RXSEG_H
#define BLAST_RXSEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/rx_stamp.h"

struct rxseg;

/* A connection's place in its ring, and how far its stream is readable
 * according to the entries read so far. */
struct rxseg_cur {
	uint64_t next;      /* next ring index to look at */
	uint32_t seq;       /* sequence number of the next byte blast will read */
	uint32_t contig;    /* the stream is readable up to here... */
	uint64_t contig_ns; /* ...since then */
	uint32_t ooo_start, ooo_end; /* bytes beyond a hole (one range) */
	uint64_t ooo_ns;    /* the latest of their arrivals */
	bool have_ooo;
	bool started;       /* the origin is known (the SYN-ACK was seen) */
	bool lapped;        /* entries were lost: contig is a guess until the
	                     * stream is seen to go on in order again */
};

/* Loads the filter with room for `slots` connections. Returns 0, or
 * -errno with a reason in err. */
int rxseg_open(struct rxseg **out, uint32_t slots, char *err, size_t errlen);
void rxseg_close(struct rxseg *s);

/* Entries per connection ring (a power of two). */
uint32_t rxseg_ring_len(const struct rxseg *s);

/* Attaches the filter to fd (before connect) as `slot`, forgetting what
 * the slot's previous socket left, and resets cur. Returns 0 or -errno. */
int rxseg_attach(struct rxseg *s, uint32_t slot, int fd, struct rxseg_cur *cur);
/* The slot's socket is going away: its segments are no longer recorded. */
void rxseg_detach(struct rxseg *s, uint32_t slot);

/* At the start of a read: whether this connection can be timed by its
 * segments (the SYN-ACK was seen). */
bool rxseg_ready(const struct rxseg *s, uint32_t slot, struct rxseg_cur *cur);

/* When the byte just before sequence number end_seq became readable
 * (CLOCK_MONOTONIC ns: the arrival of the segment that brought it, or of
 * the one that filled the hole before it), into *ns. Returns 1 when
 * exact; 0 when entries were lost (overwritten before blast looked: *ns
 * is then a later segment's, an upper bound) or -1 when the ring has
 * nothing yet (*ns untouched). Calls go in stream order. */
int rxseg_time(const struct rxseg *s, uint32_t slot, struct rxseg_cur *cur, uint32_t end_seq,
	       uint64_t *ns);

/* The lookup itself, on any ring: what rxseg_time does on the shared one. */
int rxseg_find(const struct rxs_head *h, const struct rxs_entry *ring, uint32_t mask,
	       struct rxseg_cur *cur, uint32_t end_seq, uint64_t *ns);

#endif
