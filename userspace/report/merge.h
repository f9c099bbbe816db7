/* `blast merge RUN.json...`: the reports of a run split between machines
 * (--shard) added up into one result, exactly as if one machine had sent
 * everything: counters summed, histograms added bucket by bucket (so the
 * percentiles are the whole run's, never averages), seconds added by their
 * wall-clock second. docs/distributed.md. */
#ifndef BLAST_REPORT_MERGE_H
#define BLAST_REPORT_MERGE_H

/* argv[0] is "merge". Writes the summary on stdout and the files asked
 * for (--report, --csv, --hlog, --html). Returns 0; 1 when a file could
 * not be written or the run was not clean; 2 after one line on stderr for
 * bad input (unreadable or damaged reports, other versions or protocols). */
int merge_main(int argc, char **argv);

struct merge;
/* The merged result of m (report/merge_read.h) on stdout and into the
 * files m->o names; its exit status at least exit_status. Returns what
 * report_emit does. */
int merge_emit(struct merge *m, int exit_status);

#endif
