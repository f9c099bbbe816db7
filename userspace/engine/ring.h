/* The engine's ring: operation tags in each submission's user data, the
 * ring's sizes, the loop's timers, and an SQE that is always there. */
#ifndef BLAST_ENGINE_RING_H
#define BLAST_ENGINE_RING_H

#include <liburing.h>

#include "engine/worker.h"
#include "stats/clock.h"

enum op {
	OP_CONNECT = 1,
	OP_SEND,
	OP_RECV,
};

#define BGID 1
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 32768
#define TICK_NS (10 * NSEC_PER_MSEC)
#define SCAN_NS (100 * NSEC_PER_MSEC)
/* Connections one scan looks at: more than this are taken a slice per
 * scan, so that 18,000 idle connections cost a sweep a second, not ten
 * (checks for timeouts of seconds and keepalives of tens of seconds). */
#define SCAN_BATCH 2048
#define PUBLISH_NS (100 * NSEC_PER_MSEC)
#define HANDSHAKE_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define CLOSE_TIMEOUT_NS (2 * NSEC_PER_SEC)
/* mosquitto listens with a backlog of 100: more handshakes in flight to one
 * listener than that get their SYNs dropped and wait a 1 s retransmit. The
 * budget is per listener (setup.c: connects_in_flight). */
#define CONNECTS_IN_FLIGHT 64
#define CONNECTS_PER_WORKER 16
#define NO_CONN UINT32_MAX
/* Batched waits (batch_waits()): return at this many completions, or this
 * long after the wait began. */
#define BATCH_CQES 256
#define BATCH_NS NSEC_PER_MSEC
#define BATCH_SEG_NS (10 * NSEC_PER_MSEC) /* with segment stamps */

static inline uint64_t ud_make(uint32_t conn, enum op op)
{
	return ((uint64_t)conn << 8) | op;
}

static inline struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	while (!sqe) {
		/* SQ full: hand what we have to the kernel and retry. */
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

#endif
