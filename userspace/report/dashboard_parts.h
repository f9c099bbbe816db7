/* The dashboard's --find-limit trials (dashboard_trials.c) and --probe wire
 * latency (dashboard_wire.c): their state lives in struct dashboard, under
 * its mutex; dashboard.c locks and calls these. */
#ifndef BLAST_DASHBOARD_PARTS_H
#define BLAST_DASHBOARD_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"
#include "stats/stats.h"

/* --find-limit: the trials so far and, once the search is over, its answer. */
struct dash_trials {
	bool on;                 /* a --find-limit run: "trials" is served */
	bool conns;              /* --find-limit conns */
	struct limit_trial *tr;
	unsigned n, cap;
	bool answered;
	int trial;               /* the answer's index, -1 when none */
	unsigned rate_trial;     /* conns: 1 + the connect rate's trial, 0 none */
	bool confirmed, client_bound;
	char ended[40];
	char says[200];          /* "2000 msg/s sustained (trial 5, confirmed)" */
	char bound[640];         /* whose limit it is (limit_bound_line), "" none */
};

/* Copies the n trials so far; -1 when out of memory (the page keeps the older ones). */
int dash_trials_set(struct dash_trials *t, const struct limit_trial *tr, unsigned n);
void dash_trials_answer(struct dash_trials *t, const struct blast_results *r);
/* ,"trials":[...],"limit":{...}|null, nothing when off. */
void dash_trials_json(FILE *f, const struct dash_trials *t);
void dash_trials_free(struct dash_trials *t);

/* --probe: the wire's latency percentiles for each of the dashboard's
 * seconds, and over the run so far. */
struct dash_wire_row {
	uint64_t count;
	int64_t p50, p90, p99, p999, max; /* ns; 0 when count is 0 */
};

struct dash_wire {
	bool on;                 /* probed: the wire fields are served */
	struct dash_wire_row *rows; /* by second, as the dashboard's rows */
	size_t cap;
	struct dash_wire_row total;
	/* The feeder's own (the parent's main thread; no lock needed). */
	struct hist *cur, *all, *scratch; /* the newest second's, the run's, a read */
	size_t cur_row;
};

/* Adds to out the wire latencies recorded since its last call; 0 or -errno. */
typedef int (*dash_wire_reader)(void *arg, struct hist *out);
/* Outside the lock: reads what the probe recorded since the last call
 * (read_new(arg, ...)), adds it to second row (row: the dashboard's
 * newest), and sets *one and *all to that second's and the run's figures.
 * -1 when nothing is to be stored. */
int dash_wire_take(struct dash_wire *w, dash_wire_reader read_new, void *arg, size_t row,
		   struct dash_wire_row *one, struct dash_wire_row *all);
/* Under the lock: stores them (rows up to row zeroed if new). */
void dash_wire_store(struct dash_wire *w, size_t row, const struct dash_wire_row *one,
		     const struct dash_wire_row *all);
/* ,"wire":{...} for second i (i >= the rows stored: zeros); nothing when off. */
void dash_wire_row_json(FILE *f, const struct dash_wire *w, size_t i);
/* ,"wire":{...} over the run so far; nothing when off. */
void dash_wire_total_json(FILE *f, const struct dash_wire *w);
void dash_wire_free(struct dash_wire *w);

#endif
