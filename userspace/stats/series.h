/* The per-second series of a run. Every worker closes each whole second
 * (aligned on the run's start) into a small ring in its shared-memory slot:
 * its cumulative counters at that instant and that second's histogram of
 * corrected latency. The parent merges second k of every worker once all of
 * them have closed it (or finished), so each row is exact: nothing torn,
 * nothing skipped, and the rows add up to the run's totals. */
#ifndef BLAST_SERIES_H
#define BLAST_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/hist.h"
#include "stats/series_ring.h"
#include "config/opts.h"

/* One merged second of the whole run. */
struct series_row {
	double t_s;          /* end of the interval, seconds since the first run's start */
	double len_s;        /* interval length: 1, shorter for a run's last */
	uint64_t sent, acked, failed, unacked, errors; /* during the interval */
	uint64_t inflight, conns_up;          /* at its end */
	/* Workers' CPU used, and the lateness of sends and the waits in it
	 * (diag.h), during the interval, ns. */
	uint64_t cpu_ns, late_ns, window_ns, socket_ns;
	uint64_t count;      /* latencies recorded */
	int64_t p50, p90, p99, p999, max; /* corrected latency, ns; 0 if none */
	/* Fan-out, during the interval: first receipts, what makes receipts
	 * expected (fanout_expected), and the receipts' end-to-end latency. */
	uint64_t received, matched, share_receipts;
	uint64_t e2e_count;
	int64_t e2e_p50, e2e_p90, e2e_p99, e2e_p999, e2e_max;
	bool publishing;     /* some worker had started its schedule */
	bool lost;           /* a worker's second was overwritten before it was read */
	char *hlog;          /* the interval's hlog line, when asked for */
};

struct shm;

/* One run of the series (a --find-limit trial, a --steps batch): where its
 * rows begin and when it published, seconds since the series' origin. */
struct series_run {
	size_t first_row;
	double start_s;      /* its workers started */
	double publish_from; /* its first worker started publishing; 0 if none did */
	double publish_to;   /* its last message was sent; 0 if none was */
};

struct series {
	struct series_row *rows;
	size_t n, cap;
	bool keep_hlog;      /* encode each second's histogram for --hlog */
	uint64_t origin_ns;  /* start of the first run */
	uint64_t origin_wall_ms; /* the same instant on the wall clock */
	uint64_t lost;       /* worker-seconds lost (the parent fell behind) */
	/* The run being collected. */
	const struct shm *shm;
	uint64_t next;       /* index of the next second to merge */
	uint64_t publish_ns; /* when its first worker started publishing, 0 before */
	uint64_t run_sent, run_errors; /* its sums so far */
	struct series_counts last[BLAST_MAX_WORKERS]; /* each worker's counters at its last second */
	bool done[BLAST_MAX_WORKERS];       /* exited without a final second (killed) */
	struct hist *merged, *merged_e2e; /* scratch */
	struct series_run *runs;
	size_t n_runs;
	/* Fan-out: first receipts by connection number, summed over the runs
	 * (at most SLOT_RX_CONNS per worker are kept). */
	uint64_t *conn_rx;
	size_t n_conn_rx;
};

/* The calls below do nothing on a NULL series (a run nobody collects). */
int series_init(struct series *s, bool keep_hlog);
void series_free(struct series *s);
/* Starts collecting a run (its workers write shm->w[i].ring); NULL ends it. */
void series_begin_run(struct series *s, const struct shm *shm);
/* Marks worker i as gone, so its missing seconds are not waited for. */
void series_worker_gone(struct series *s, unsigned i);
/* Merges every second all workers have closed; returns rows added, or -1
 * when out of memory. */
int series_poll(struct series *s);

#endif
