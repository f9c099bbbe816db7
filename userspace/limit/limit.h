/* --find-limit: the highest offered rate (or connection count, then
 * connect rate) a broker sustains, found by open-loop trials. Grow the rate by LIMIT_FACTOR while
 * trials pass (a failure is run once more before it counts), bisect between the last pass and the first failure with
 * short trials, then confirm the answer with one trial at full
 * --trial-duration.
 *
 * A rate trial that failed on blast's own window or CPU is run again
 * wider before the search sees it (widen.c, below).
 *
 * The decisions (a trial's verdict, the next rate to try) are pure
 * functions of figures, unit-tested in tests/unit/test_limit.c and
 * test_limit_widen.c; running the trials is main.c's run(), handed in as
 * a callback. */
#ifndef BLAST_LIMIT_H
#define BLAST_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"
#include "stats/stats.h"
#include "stats/verdict.h"
#include "config/limit_cfg.h"

#define LIMIT_MAX_TRIALS 48      /* per search (conns runs two: count, then connect rate) */
#define LIMIT_FACTOR 2           /* growth per passing trial while climbing */
#define LIMIT_PRECISION 0.05     /* bisection stops when hi - lo <= 5% of lo */
#define LIMIT_CONFIRMS 4         /* full-length trials tried: 10%, 25%, 50%, 50% lower */
#define LIMIT_BEHIND_FRAC 0.05   /* a lag growing by more than 5% of the trial fails it */
#define LIMIT_NOT_SENT_FRAC 0.01 /* more than 1% of due messages never sent fails it */
#define LIMIT_RAMP_BEHIND_FRAC 0.10 /* connects opened >10% slower than --ramp fails it */

/* --slo "p99=50ms" into cfg->slo (a key given twice keeps the last value).
 * Returns 0, or -EINVAL with a one-line reason in err. */
int limit_parse_slo(struct limit_cfg *cfg, const char *s, char *err, size_t cap);
/* --max-loss "0", "10" (messages) or "0.1%" (of the messages due). */
int limit_parse_max_loss(struct limit_cfg *cfg, const char *s, char *err, size_t cap);
const char *limit_slo_name(unsigned key);

/* Everything one trial measured, for the verdict. */
struct limit_measure {
	uint64_t offered;       /* msg/s, connections, or connections opened per second */
	uint64_t conns;         /* connect rate: connections the trial opens */
	double planned_s;       /* the trial's --duration */
	double publish_s;       /* schedule start -> last send */
	double duration_s;      /* schedule start -> end of drain */
	double ramp_s;          /* run start -> schedule start */
	uint64_t sent, acked, failed, unacked, not_sent;
	uint64_t backlog_at_stop; /* not sent + in flight when publishing stopped */
	uint64_t lost_receipts; /* fan-out: expected - received */
	uint64_t errors;        /* totals_error_count() */
	uint64_t conns_ok, conns_failed, conns_dropped, peak_conns;
	int64_t p50_ns, p90_ns, p99_ns, p999_ns; /* the latency that matters */
	double mean_ns;
	int64_t connect_p50_ns, connect_p90_ns, connect_p99_ns, connect_p999_ns;
	uint64_t connect_count;
	bool interrupted;       /* SIGINT ended it early */
	bool broken;            /* a worker failed: the figures are not a verdict */
};

/* Fills tr from m (offered, achieved, rates, counts, percentiles) and
 * decides: pass, or fail with the reasons in tr->why ("ok" on a pass). */
void limit_verdict(const struct limit_cfg *cfg, uint8_t mode, const struct limit_measure *m,
		   struct limit_trial *tr);

/* Connect-rate trials open rate x trial_s connections (one at least) at
 * --ramp rate, so that the ramp lasts the trial, but never more than the
 * connection count found to hold: the rate is what is searched. */
uint64_t limit_ramp_conns(uint64_t rate, double trial_s, uint64_t held);

/* The search as a state machine over verdicts. */
enum limit_phase { LP_GROW = 0, LP_DOWN, LP_BISECT, LP_CONFIRM, LP_DONE };

struct limit_search {
	uint64_t start, ceiling, floor;
	uint64_t lo;        /* highest rate that passed a short trial (0: none yet) */
	uint64_t hi;        /* lowest rate that failed (0: none yet) */
	uint64_t next;      /* the rate of the next trial */
	uint8_t phase;      /* enum limit_phase */
	bool retried;       /* climbing: the failing rate has been run twice */
	unsigned confirms;  /* full-length trials run */
	uint64_t full_fail; /* lowest rate that failed a full-length trial (0: none) */
	int answer;         /* trial index of the confirmed answer, -1 */
	const char *end;    /* why the search ended: "confirmed", "no rate passed", ... */
};

void limit_search_init(struct limit_search *s, uint64_t start, uint64_t ceiling, uint64_t floor);
/* The next trial: its rate and whether it is the full-length confirmation.
 * Returns false once the search is over (s->end says why). */
bool limit_search_next(const struct limit_search *s, uint64_t *offered, bool *full);
/* Feeds back the verdict of trial number idx, run at the rate next() gave. */
void limit_search_record(struct limit_search *s, int idx, bool pass);
/* The trial to report as the answer: the confirmed one, or, for a search
 * cut short (timeout, SIGINT), the highest passing rate below every
 * full-length failure; -1 if none. *confirmed says which. */
int limit_search_answer(const struct limit_search *s, const struct limit_trial *tr, unsigned n,
			bool *confirmed);

/* ---- the client's own limits (widen.c) ----
 *
 * Each rate trial carries the run's verdict on its bottleneck
 * (stats/verdict.h). A trial that failed because of blast itself is not
 * the broker's failure: the search reruns the same rate with a wider
 * window (client: window) or more workers (client: cpu), and only when
 * blast cannot go further does the failure count, marked client-bound.
 * A network verdict is the path's: it counts, and is said. */

#define LIMIT_WIDEN_FACTOR 4          /* --inflight grows 4x a rerun */
#define LIMIT_INFLIGHT_MAX_MQTT 65535 /* packet ids per connection */
#define LIMIT_INFLIGHT_MAX_KAFKA 256  /* Produce requests per connection */
#define LIMIT_MAX_WIDEN 12            /* reruns per search */

/* What blast runs with, and how far it may go. */
struct limit_client {
	uint32_t inflight;     /* --inflight now */
	uint32_t inflight_max; /* its bound; 0: the protocol has no window */
	uint64_t enough;       /* a window this deep is enough for the SLO (0: no latency SLO) */
	uint64_t offered;      /* the failed trial's rate */
	bool busy;             /* its busiest worker waited for a CPU longer than it ran */
	uint64_t rerun_offered; /* the last rate rerun unchanged for a busy machine */
	uint32_t workers;      /* --workers now */
	uint32_t conns;        /* each worker needs a connection of its own */
	uint32_t cores;        /* online CPUs */
};

/* A failed trial judged b: is it the client's own failure? */
bool limit_client_fault(enum bottleneck b);
/* The window per connection that is enough at offered msg/s over conns
 * connections: one that fills at this depth held messages twice as long
 * as the loosest latency SLO on average (Little's law: in flight = rate x
 * time in flight), so the trial failed on the broker's acks, not on the
 * window. 0 without a latency SLO. */
uint64_t limit_window_enough(const struct limit_cfg *cfg, uint64_t offered, uint32_t conns);

enum limit_widened {
	LIMIT_RERUN = 0,     /* c changed: run the rate again */
	LIMIT_CLIENT_BOUND,  /* blast cannot go further */
	LIMIT_NOT_CLIENT,    /* the window was deep enough: the failure is the broker's */
};
/* For a client fault b: what to do about it, and in what, what changed
 * ("--inflight 256", "--workers 2") or why not ("--inflight at its bound
 * 65535"). */
enum limit_widened limit_widen(enum bottleneck b, struct limit_client *c, char *what, size_t cap);
/* The failed trial that bounds the answer ans from above: the lowest rate
 * failed among the trials the search counted (rate trials, not those
 * rerun wider); with no answer, the lowest failed. -1 when none. */
int limit_bound(const struct limit_trial *tr, unsigned n, int ans);

/* ---- running it (run.c) ---- */

struct blast_opts;

/* What the runner hands back for one trial. */
struct limit_run {
	struct blast_totals t;
	struct hist *lat, *raw, *con, *e2e; /* merged into by the runner */
	double publish_s, duration_s, ramp_s;
	uint64_t backlog_at_stop, peak_conns, rss_bytes;
	uint64_t retransmits;       /* real ones the wire probe saw during the trial, 0 without one */
	uint64_t segs_out;          /* segments with payload the probe saw, 0 without one */
	uint64_t srtt_us;           /* mean smoothed RTT of the trial's connections (probe), or 0 */
	bool probed;                /* the wire probe watched the trial */
	struct diag_run *diag;      /* the workers' view of themselves, merged into by the runner */
	const char *stop_reason;
	bool interrupted;
};

/* Runs one trial with o as the search set it (rate, duration, conns).
 * Returns 0, or 3 when blast itself failed. */
typedef int (*limit_runner)(void *ctx, struct blast_opts *o, struct limit_run *out);

struct series;

/* How the search hands its answer over to be reported (report_emit). */
typedef int (*limit_reporter)(const struct blast_results *r, const struct series *s,
			      void (*explain)(void *arg), void *arg);

/* Who follows the search as it goes (the live dashboard). Called in the
 * parent between trials; either function may be NULL. */
struct limit_watch {
	/* After each trial: every trial so far, the newest last. */
	void (*trials)(void *arg, const struct limit_trial *tr, unsigned n);
	/* The search's answer, just before it is reported. */
	void (*answer)(void *arg, const struct blast_results *r);
	void *arg;
};

/* Runs the whole search, then reports the trials table and the answer
 * through emit (ser holds every second of every trial); watch (may be
 * NULL) sees each trial as it ends. Returns the exit status: 0 with an
 * answer, 1 without one, 3 when blast failed. */
int limit_search_run(struct blast_opts *o, limit_runner run, void *ctx, const struct series *ser,
		     limit_reporter emit, const struct limit_watch *watch);


#endif
