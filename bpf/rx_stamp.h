/* What bpf/rx_stamp.bpf.c and userspace/engine/rxseg.c share: per-connection
 * rings of segment arrivals.
 *
 * A socket filter on each of blast's receiving sockets writes, for every
 * TCP segment with payload, when it reached the socket and which bytes it
 * holds. blast then reads as much as it likes at a time and still times
 * each message by the segment that made its last byte readable: it works
 * out from the entries, in userspace, how far the stream is readable after
 * each one (retransmissions, and bytes beyond a hole until it is filled).
 * The filter keeps no state but the ring: the same socket's segments can
 * be filtered on two CPUs at once, and socket filters may not lock. */
#ifndef BLAST_RX_STAMP_H
#define BLAST_RX_STAMP_H

#include <linux/types.h>

/* Ring entries per connection: a power of two, at most this. */
#define RXS_RING_MAX 4096u

/* rxs_head.flags */
#define RXS_HAVE_IRS 1u /* irs holds the SYN-ACK's sequence number */

/* One connection's ring state (the `heads` map, one per slot). blast
 * clears flags when it gives the slot to a new socket. */
struct rxs_head {
	__u64 head;  /* entries ever reserved */
	__u32 irs;   /* the server's initial sequence number */
	__u32 flags;
};

/* One segment with payload (the `rings` map, slot * ring length + index). */
struct rxs_entry {
	__u64 ns;  /* bpf_ktime_get_ns() when it reached the socket: CLOCK_MONOTONIC */
	__u32 seq; /* its first byte's sequence number */
	__u32 end; /* just past its last byte */
	__u32 tag; /* low 32 bits of (its index + 1), written last */
	__u32 pad;
};

#endif
