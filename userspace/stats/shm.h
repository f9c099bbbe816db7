/* Memory shared between the parent and its worker processes (one anonymous
 * MAP_SHARED mapping made before fork). Workers are processes, not threads,
 * because one process holds at most ~20,000 sockets here.
 *
 * Each worker writes only its own struct worker_slot; the parent only reads
 * them, except for the control words. Counters are published by plain
 * copies guarded by a sequence counter (seqlock): the parent retries a read
 * that raced with a copy. */
#ifndef BLAST_SHM_H
#define BLAST_SHM_H

#include <stdint.h>

#include "stats/diag.h"
#include "stats/hist.h"
#include "config/opts.h"
#include "stats/series_ring.h"
#include "stats/stats.h"

enum worker_phase {
	PHASE_STARTING = 0,
	PHASE_RUNNING,   /* connecting or publishing */
	PHASE_DRAINING,  /* no new messages; waiting for acks */
	PHASE_CLOSING,   /* saying goodbye */
	PHASE_DONE,      /* final figures are in place */
	PHASE_FAILED,    /* could not start (io_uring setup); see error */
};

enum stop_why {
	STOP_NONE = 0,
	STOP_DURATION,
	STOP_MESSAGES,
	STOP_SIGNAL,
	STOP_CONNS_LOST, /* every connection gone and none coming back */
	STOP_ACKS_STALLED, /* --messages unfinished, nothing moved for --drain-timeout */
};

/* The report's stop_reason. */
static inline const char *stop_why_name(uint32_t why)
{
	switch (why) {
	case STOP_SIGNAL:
		return "signal";
	case STOP_CONNS_LOST:
		return "all_connections_lost";
	case STOP_MESSAGES:
		return "messages";
	case STOP_DURATION:
		return "duration";
	case STOP_ACKS_STALLED:
		return "acks_stalled";
	default:
		return "unknown";
	}
}

/* Merging workers' reasons, the most telling wins: a signal, lost
 * connections, a stall. */
static inline bool stop_why_outranks(uint32_t why, uint32_t over)
{
	static const uint8_t rank[] = { [STOP_SIGNAL] = 4, [STOP_CONNS_LOST] = 3,
					[STOP_ACKS_STALLED] = 2 };
	uint8_t a = why < sizeof(rank) ? rank[why] : 0, b = over < sizeof(rank) ? rank[over] : 0;
	return over == STOP_NONE || a > b;
}

#define SLOT_RX_CONNS 1024

struct worker_slot {
	uint32_t seq;          /* odd while a copy is in progress */
	uint32_t state;        /* enum worker_phase */
	uint32_t stop_why;     /* enum stop_why */
	volatile uint32_t ramp_done; /* fan-out: this worker's connections are all tried */
	struct blast_totals t;
	uint64_t publish_start_ns; /* when this worker's schedule began, 0 before */
	uint64_t last_send_ns;     /* when its last message was sent */
	uint64_t end_ns;           /* when its drain ended */
	uint64_t peak_conns;
	uint64_t rss_bytes;
	char error[160];           /* why the worker failed, for PHASE_FAILED */
	/* Final histograms, valid once state == PHASE_DONE. */
	struct hist latency;
	struct hist latency_raw;
	struct hist connect;
	struct hist e2e;           /* fan-out receipts */
	struct hist stage[HS__COUNT]; /* each stage of opening a connection */
	char tls_note[200];        /* its first TLS failure in words, "" if none */
	uint64_t first_send_ns;    /* fan-out: this worker's first and last send */
	uint64_t last_recv_ns;     /* and its last receipt */
	struct series_ring ring;   /* each whole second, exactly (series.h) */
	/* --find-limit: messages due but not yet settled (not sent or in
	 * flight) when this worker's publish phase ended. */
	uint64_t backlog_at_stop;
	uint64_t drained_ns;       /* when its drain ended (before the goodbyes) */
	/* Its view of itself (diag.h), valid once state == PHASE_DONE. */
	struct diag_counts diag;
	struct diag_hists diag_h;
	/* Fan-out: first receipts on each of its connections (local order:
	 * connection i * n_workers + worker id), the first SLOT_RX_CONNS. */
	uint32_t n_rx;
	uint64_t rx_by_conn[SLOT_RX_CONNS];
};

struct shm {
	volatile uint32_t stop;     /* set by the parent on SIGINT/SIGTERM */
	volatile uint32_t fanout_done; /* set by the parent: every expected receipt is in */
	volatile uint32_t go;          /* fan-out: every worker's connections are up */
	volatile uint32_t sends_done;  /* fan-out: every worker has stopped sending */
	uint32_t run_id;            /* fan-out: tells this run's messages from others' */
	uint32_t n_workers;
	uint64_t start_ns;          /* run start, set by the parent before fork */
	uint64_t start_wall_ns;     /* the same instant on the wall clock */
	uint64_t start_at_ns;       /* --start-at on the monotonic clock; 0 = none */
	struct worker_slot w[];
};

/* Copies a worker's counters, retrying while the worker is mid-update. */
void shm_read_slot(const struct worker_slot *s, struct blast_totals *out, uint32_t *state);
/* The first n workers' counters added up. */
void shm_totals(struct shm *shm, unsigned n, struct blast_totals *sum);
/* Fan-out: once every worker has stopped sending, the receipts expected
 * are known; when they are all in, the workers may stop draining. */
void shm_check_fanout(struct shm *shm, const struct blast_opts *o);

#endif
