/* The live line, once a second on stderr (not with --quiet): elapsed and
 * total time, a bar while the connections ramp up (and while a --duration
 * or --messages run goes), then the second's exact figures from the series. */
#ifndef BLAST_PROGRESS_H
#define BLAST_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/series.h"

struct progress {
	double elapsed_s;      /* since the run started (connecting included) */
	double publish_at_s;   /* when publishing started, < 0 while connecting */
	double duration_s;     /* --duration, 0 for none */
	uint64_t messages;     /* --messages, 0 for none */
	uint64_t sent_total;   /* messages sent so far */
	uint64_t errors_total; /* errors so far */
	uint64_t conns_total;  /* connections the run opens */
	const struct series_row *row; /* the second just closed */
	/* Every worker has stopped sending: the line says what the run
	 * waits for instead of a rate of 0 (fan-out: receipts so far of
	 * those expected; otherwise the acks in flight). */
	bool draining;
	bool fanout;
	uint64_t received, expected;
	/* Subscribe only (--publishers 0): deliveries, not sends. */
	bool subscribe_only;
	double received_per_s;
};

/* What the parent knows of the run besides the series: whether every
 * worker is draining, and the fan-out receipts so far and expected. */
struct progress_wait {
	bool draining;
	uint64_t received, expected;
	double received_per_s; /* since the last line */
};

/* Writes the line (no newline) into buf; returns its length. */
size_t progress_format(char *buf, size_t cap, const struct progress *p);

struct blast_opts;
/* Prints the line for the series' newest row of the run being collected. */
void progress_print(FILE *f, const struct series *s, const struct blast_opts *o,
		    uint64_t conns_total, const struct progress_wait *wait);

#endif
