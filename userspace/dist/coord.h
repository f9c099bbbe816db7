/* The coordinator: `blast --control mqtt://HOST:PORT --agents N <run
 * flags>` waits for N agents on the control broker, gives each its share
 * of the run (config/split.c), starts them at one T0 and merges their
 * reports exactly (report/merge.c). docs/distributed.md. */
#ifndef BLAST_DIST_COORD_H
#define BLAST_DIST_COORD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/split.h"
#include "dist/link_cfg.h"

struct coord_cfg {
	const char *url;          /* --control, as shown (link.url) */
	struct link_cfg link;     /* --control and the --control-* flags */
	uint32_t agents;          /* --agents N, or how many names it lists */
	const char *agent_names;  /* --agents NAME,NAME: these, share i to the i-th (NULL: any N) */
	uint64_t hb_timeout_ns;   /* --heartbeat-timeout, default 3 s */
	uint64_t wait_ns;         /* --agents-timeout: how long to wait for them, default 30 s */
	double max_clock_offset_ms; /* --max-clock-offset: warn above, default 10 ms */
	char *report, *csv, *hlog, *html; /* the merged result's files */
	bool quiet;               /* --quiet: no live line */
	int run_argc;             /* the run's flags, for the agents */
	char **run_argv;          /* [0] is "blast" */
	const char *dashboard;    /* --dashboard [ADDR:]PORT, NULL for none */
	uint64_t dashboard_linger_ns; /* --dashboard-linger */
	/* Set by the caller of coord_run: the live page to feed (NULL: none),
	 * and a count of stop requests (SIGINT, SIGTERM) it keeps; NULL:
	 * coord_run counts SIGINT and SIGTERM itself. Each new request, like a
	 * POST /api/stop, tells the agents to drain and stop. */
	struct coord_dash *dash;
	volatile sig_atomic_t *signals;
};

/* True when argv asks for a coordinator (--control without "agent"). */
int coord_wanted(int argc, char **argv);
/* Splits argv into the coordinator's flags and the run's (run_argv is
 * malloc'd). 0, or one line and BLAST_EXIT_USAGE. */
int coord_args(int argc, char **argv, struct coord_cfg *c);
/* coord_args, then the run's flags checked as share 0 of N would take
 * them (opts_parse), before any agent is waited for: 0 with *whole set,
 * 1 after --help or --version, or the error's exit status after one line.
 * c->run_argv is malloc'd in every case. */
int coord_setup(int argc, char **argv, struct coord_cfg *c, struct split_whole *whole);
/* Runs it; whole is what the run's flags ask of all agents together.
 * Returns the merged result's exit status (1 when an agent was lost or
 * failed), or 2 after one line when the agents never came. */
int coord_run(const struct coord_cfg *c, const struct split_whole *whole);

#endif
