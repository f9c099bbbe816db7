/* `blast analyze FILE`: a capture (pcap or pcapng, from blast --pcap,
 * tcpdump or anything else) read back, its TCP streams reassembled, and
 * requests matched with acks (witness/wire_match.c), printed as a table
 * like a run's; with --report / --html also written as JSON / HTML with a
 * row per flow (analyze_report.c), and with --against set beside a past
 * run's client figures. --pcap runs use analyze_file on their own capture. */
#ifndef BLAST_ANALYZE_H
#define BLAST_ANALYZE_H

#include <stddef.h>
#include <stdio.h>

#include "report/wire.h"
#include "stats/wire.h"
#include "witness/wire_match.h"

/* argv[0] is "analyze". Returns the exit status: 0; 2 (one line on
 * stderr) for bad flags, a capture with no packet readable, an --against
 * report that cannot be read; 1 when the figures are partial or show
 * nothing (analyze_warnings: each one a stderr line) or --report or
 * --html cannot be written. */
int analyze_main(int argc, char **argv);

/* Maps path and analyses it (rows: as wm_analyze_buffer). 0, or -errno
 * with err set to one line (no "blast: " prefix). */
int analyze_file(const char *path, const struct wm_opts *o, struct wire_stats *out,
		 struct wm_counts *c, struct wm_flow_row **rows, size_t *n_rows, char *err,
		 size_t err_cap);

/* --keylog: an NSS key log read into kl (tls_keylog_free releases it).
 * 0, or -errno with err set to one line (no "blast: " prefix). */
struct tls_keylog;
int analyze_keylog_read(const char *path, struct tls_keylog *kl, char *err, size_t err_cap);

/* The table: counts, then latency percentiles, as a run prints them. */
void analyze_print(FILE *f, const struct wire_stats *s, const struct wm_counts *c);

/* What makes a capture's figures partial, or empty. */
enum analyze_warning {
	AW_READ,        /* the file is damaged after some packets */
	AW_DROPS,       /* the file records packets dropped (pcapng ISB) */
	AW_GAPS,        /* TCP sequence holes */
	AW_UNMATCHED,   /* acks whose request is not in the capture */
	AW_NO_FLOW,     /* no TCP flow (on the --port given) */
	AW_NO_MESSAGE,  /* flows, but no request or ack (as the --proto given) */
	AW_TLS_NO_KEY,  /* TLS flows without --keylog, or whose keys it lacks */
	AW_TLS_FAILED,  /* TLS flows whose keys did not open them */
};
#define ANALYZE_MAX_WARN 8
struct analyze_warnings {
	unsigned n;
	enum analyze_warning kind[ANALYZE_MAX_WARN];
	char line[ANALYZE_MAX_WARN][480]; /* one sentence each, no "blast: " */
};
void analyze_warnings(const struct wire_stats *s, const struct wm_counts *c,
		      const struct wm_opts *o, struct analyze_warnings *w);
/* The report's name of a kind: "gaps", "drops_recorded", ... */
const char *analyze_warning_name(enum analyze_warning kind);

/* What `blast analyze` found, for the files it writes. */
struct analysis {
	const struct analyze_warnings *warn;
	const char *path;                 /* the capture */
	const struct wire_stats *s;
	const struct wm_counts *c;
	const struct wm_flow_row *rows;
	size_t n_rows;
	const char *against;              /* --against RUN.json, or NULL */
	const struct wire_client *client; /* its figures, NULL without --against */
};

/* --report: the capture's counts, the "wire" object a --pcap run writes
 * (with "client_minus_wire_us" and "client" under --against) and "flows",
 * one object per flow. Latencies in microseconds, three decimals, as in
 * the run report. arg is a struct analysis. 0 or -errno. */
int analyze_write_json(FILE *f, const void *arg);
/* --html: the same as one self-contained page. */
int analyze_write_html(FILE *f, const void *arg);

#endif
