/* What each worker measures of itself, so that a run can say whether its
 * figures are the broker's or the client's own: CPU, how late sends went
 * out against the schedule and what they waited for, io_uring batch sizes,
 * acks that stopped, and its sockets' TCP view. Everything is counted in
 * the worker's own memory off the per-message path (no syscall, no
 * allocation per message) and copied into its shared-memory slot when it
 * finishes; the parent merges the slots (diag_run_add). Fixed-size and
 * pointer-free, like the rest of shm.h. */
#ifndef BLAST_DIAG_H
#define BLAST_DIAG_H

#include <stdint.h>

#include "stats/hist.h"

/* Batch-size buckets: 1, 2-3, 4-7, ..., 256-511, 512 and more. */
#define DIAG_BATCH_BUCKETS 10

/* What a connection waited for before it could take messages again. */
enum diag_wait {
	DIAG_WAIT_NONE = 0, /* nothing: it was free (a late message was the loop's) */
	DIAG_WAIT_WINDOW,   /* acks, its window (--inflight) being full */
	DIAG_WAIT_SOCKET,   /* its send to finish: room in the socket's buffer */
};

struct diag_counts {
	/* CPU over the publish phase (schedule start to the end of sending):
	 * its length, user and system time, and time spent runnable but
	 * waiting for a CPU (/proc/self/schedstat). */
	uint64_t publish_ns;
	uint64_t cpu_user_ns, cpu_sys_ns, runq_ns;
	/* The share of its publish phase the worker spent on a CPU, and
	 * waiting for one (per mille); merged, the busiest worker's. */
	uint32_t busiest_cpu_pm, busiest_runq_pm;
	/* Send lateness (actual send - scheduled time), summed over the
	 * messages sent under --rate, ns, and the parts of it spent waiting
	 * for a window and for socket room; the rest is the loop's own delay. */
	uint64_t late_ns, window_ns, socket_ns;
	/* Messages sent ahead of their scheduled time (a paced batch, sched.h)
	 * and the most any went ahead, ns: each is timed from when it left. */
	uint64_t ahead_n, ahead_max_ns;
	/* When sending ended: ready connections with a full window, with a
	 * send waiting for socket room, and with room for more. */
	uint64_t end_window, end_socket, end_free;
	/* Seconds that began and ended with messages in flight and saw no
	 * ack, and the longest run of them. */
	uint64_t stalled_s, stall_run_s;
	/* io_uring: loop turns (each one io_uring_enter at most: it submits
	 * and waits in one call), submit calls and SQEs, completion batches
	 * and CQEs, and both batch sizes by power of two. */
	uint64_t turns, submits, sqes, reaps, cqes;
	uint64_t sqe_batch[DIAG_BATCH_BUCKETS], cqe_batch[DIAG_BATCH_BUCKETS];
	/* TCP_INFO of the connections open when sending ended: how many,
	 * retransmitted and sent segments, the largest smoothed RTT and the
	 * smallest minimum RTT (us; 0 when unknown). */
	uint64_t tcp_conns, tcp_retrans, tcp_segs_out, srtt_us_max, min_rtt_us;
	/* TCP_QUICKACK calls after receives (engine/quickack.c), connections
	 * whose reads showed the peer sending without waiting for an ACK (so
	 * got no more), and those of them that then waited for one. */
	uint64_t quick_acks, peers_push, peers_wait;
};

/* A worker's histograms, ns: lateness of every message sent under --rate,
 * and the waits that were part of it. */
struct diag_hists {
	struct hist late, wait_window, wait_socket;
};

/* A worker's own figures while it runs (engine/measure.c); struct worker
 * holds one. */
struct diag_worker {
	struct diag_counts c;
	struct hist *late, *wait_window, *wait_socket;
	uint64_t cpu0_ns, runq0_ns;         /* at the start of the publish phase */
	uint64_t acked_then, inflight_then; /* at the last second's close */
	uint64_t stall_now_s;               /* the current run of stalled seconds */
};

/* A run's merged figures. */
struct diag_run {
	struct diag_counts c;
	struct diag_hists *h;
};

/* Bucket of a batch of n (n >= 1). */
unsigned diag_batch_bucket(uint64_t n);
/* Adds one worker's figures into the run's (zeroed before the first). */
void diag_counts_add(struct diag_counts *dst, const struct diag_counts *src);
/* A run's figures, empty; NULL when out of memory. diag_run_free() it. */
struct diag_run *diag_run_new(void);
void diag_run_free(struct diag_run *r);
void diag_run_add(struct diag_run *r, const struct diag_counts *c, const struct diag_hists *h);

#endif
