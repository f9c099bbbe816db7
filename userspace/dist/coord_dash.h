/* The live page of a distributed run: the coordinator's merged seconds
 * (dist/live.c) fed to the dashboard (report/dashboard.c) as a single
 * run's are, plus a row per agent ("agents" in /api/now and /api/series)
 * and the merged seconds some agent was missing from ("partial").
 * docs/dashboard.md. */
#ifndef BLAST_DIST_COORD_DASH_H
#define BLAST_DIST_COORD_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dist/live.h"
#include "report/dashboard.h"

/* One agent's row. */
struct cdash_agent {
	char name[128];
	char version[40];   /* "blast 0.1"; empty before its registration is seen */
	uint32_t cores;
	uint8_t state;      /* enum ctl_state, from its heartbeats */
	bool lost;          /* heartbeat stopped or its Last Will came */
	bool partial;       /* some merged second lacks its share */
	bool in_run;        /* one of the run's agents */
	uint64_t last_hb_ns; /* mono_ns of its last sign of life, 0 for none */
	bool has_second;    /* rate and p99 below are its last second's */
	double rate;        /* sent per second */
	double p99_us;      /* corrected latency */
};

struct coord_dash;

/* Attaches to d (its hooks: the agents' JSON; more's post and json when
 * given, for `blast dashboard`). NULL when out of memory. */
struct coord_dash *coord_dash_new(struct dashboard *d, const struct dashboard_hooks *more);
/* After dashboard_free of its page (whose server may call its hooks). */
void coord_dash_free(struct coord_dash *cd);
/* A run starts at the wall-clock second t0_sec: seconds and marks cleared. */
void coord_dash_begin(struct coord_dash *cd, uint64_t t0_sec);
/* The agents' rows now (copied). */
void coord_dash_agents(struct coord_dash *cd, const struct cdash_agent *a, size_t n);
/* The run's errors by reason so far, all agents' (errors[ERR__COUNT]). */
void coord_dash_errors(struct coord_dash *cd, const uint64_t *errors);
/* A merged second (live_emit's row callback; ctx is the coord_dash). */
void coord_dash_row(void *ctx, const struct live_row *r);
/* True once after an accepted POST /api/stop (false for a NULL cd). */
bool coord_dash_take_stop(struct coord_dash *cd);
/* The run is over: the merged report (JSON at report_path, HTML at
 * html_path; either may be missing) is what the page shows from now on. */
void coord_dash_finish(struct coord_dash *cd, const char *report_path, const char *html_path);

#endif
