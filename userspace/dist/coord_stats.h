/* The coordinator's own work during a run, measured by itself: what each
 * agent costs it on the control link (messages and bytes in per second)
 * and how long it spends adding the agents' seconds up and printing them
 * (live.c), per second of the run, and on the final merge of their
 * reports. One line at the end and the report's "control" member
 * (docs/distributed.md). */
#ifndef BLAST_DIST_COORD_STATS_H
#define BLAST_DIST_COORD_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/stats.h"

struct coord_stats {
	uint64_t from_ns, to_ns;       /* GO sent .. every agent done or lost (mono) */
	uint64_t bytes_from, bytes_to; /* the link's bytes in at those moments */
	uint64_t msgs;                 /* control messages in between */
	uint64_t done_bytes;           /* ...of them DONE's (each carries a whole report) */
	uint64_t *merge_ns;            /* [n]: merge work in second i after GO */
	size_t n;
	size_t first, last;            /* the seconds that got an agent's second */
	uint64_t final_ns;             /* the reports' merge (report/merge_read.c) */
};

void coord_stats_start(struct coord_stats *s, uint64_t now_ns, uint64_t link_bytes_in);
/* A control message of len bytes in (counted only between start and end). */
void coord_stats_msg(struct coord_stats *s, const uint8_t *msg, size_t len);
/* Merge work from t0 to t1; second: it added an agent's second. */
void coord_stats_merge(struct coord_stats *s, uint64_t t0_ns, uint64_t t1_ns, int second);
void coord_stats_end(struct coord_stats *s, uint64_t now_ns, uint64_t link_bytes_in);
/* The figures of a run of agents (zero when it never started). */
void coord_stats_figures(const struct coord_stats *s, uint32_t agents, struct control_figures *f);
/* "blast: control: 100 agents, 1.2 KiB/s in per agent, ..." */
void coord_stats_print(const struct control_figures *f, FILE *out);
void coord_stats_free(struct coord_stats *s);

#endif
