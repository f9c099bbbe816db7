/* Reading the reports `blast merge` adds up (report/merge.c): each one's
 * exact figures (report/exact.h) checked and added into one struct merge.
 * Pure but for the one line on stderr that says why a report is refused. */
#ifndef BLAST_REPORT_MERGE_READ_H
#define BLAST_REPORT_MERGE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/opts.h"
#include "stats/series.h"
#include "stats/stats.h"
#include "stats/wire.h"

/* One merged second, by its wall-clock second. */
struct msec {
	uint64_t sec;
	struct series_row row;
	struct hist *h;
};

struct merge {
	const char *first;       /* the first report's name */
	char version[64], proto[16];
	struct blast_totals t;
	struct hist *lat, *raw, *con;
	struct hist *e2e;        /* --proto http: time to first byte */
	struct msec *secs;
	size_t n_secs;
	double pub_from_ms, pub_to_ms, end_ms; /* the runs' span on the wall clock */
	double first_send_ms;    /* the earliest first send of them */
	uint64_t peak, rss, n, shards;
	int exit_status;
	const char *stop_reason;
	bool *shard_seen;
	struct blast_opts o;     /* the whole run, from the reports' config */
	struct hist *tmp;        /* scratch */
	/* A coordinator's: its agents for the report (not owned), or none. */
	const struct report_agent *agents;
	unsigned n_agents;
	double max_clock_offset_ms;
	const struct control_figures *control; /* the coordinator's work, or NULL */
	/* Fan-out: the receipts the reports' publishes owe the whole run
	 * (exact.fanout.owed summed), the run's expected. */
	bool fan;
	uint64_t fan_owed;
	/* --probe: the probed reports' wire figures added up (wire_reports of
	 * them; a merge of probed and unprobed shards says so). */
	struct wire_stats *wire;
	uint64_t wire_reports, srtt_weighted;
};

/* 0, or -ENOMEM. */
int merge_init(struct merge *m);
/* Adds the report buf[0..len) (read from path, which names it in errors).
 * 0, or one line "blast merge: PATH: why" on stderr and BLAST_EXIT_USAGE:
 * not a report, damaged, another version or protocol than the first, a
 * shard given twice, a kind of run that does not merge. */
int merge_add(struct merge *m, const char *path, const char *buf, size_t len);
void merge_free(struct merge *m);

#endif
