/* --dashboard ADDR:PORT: a page served by blast itself while it runs, fed
 * each second from the merged series, and the final HTML report once the
 * run is over. libmicrohttpd answers in its own thread; the parent only
 * copies the newest rows in (under a mutex), so the workers never wait. */
#ifndef BLAST_DASHBOARD_H
#define BLAST_DASHBOARD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/series.h"
#include "stats/stats.h"

struct dashboard;

/* Binds ADDR:PORT (IPv4; port 0 picks a free one) and starts serving;
 * prints the address and the token on stderr. NULL with one line in err
 * on a bad address or a port in use. */
struct dashboard *dashboard_start(const char *addr_port, char *err, size_t cap);
/* In a forked worker: lets go of the listening socket. */
void dashboard_forget(struct dashboard *d);
/* Copies the rows the series gained and this run's errors by reason. */
void dashboard_update(struct dashboard *d, const struct series *s, const uint64_t *errors);
/* --probe: the wire latencies read_new(arg, out) adds to out (those
 * recorded since its last call), as the newest second's (after
 * dashboard_update) and the run's. */
void dashboard_wire_feed(struct dashboard *d, int (*read_new)(void *arg, struct hist *out),
			 void *arg);
struct limit_watch;
/* --find-limit (conns: its conns mode): what shows each trial as it ends
 * and the answer; NULL for a NULL d. */
const struct limit_watch *dashboard_limit_watch(struct dashboard *d, bool conns);
/* True once after an accepted POST /api/stop. */
bool dashboard_take_stop(struct dashboard *d);
/* The run is over: its totals, stop reason and HTML report (read from
 * html_path, NULL for none) are served from now on. */
void dashboard_finish(struct dashboard *d, const struct blast_totals *t, const char *stop_reason,
		      const char *html_path);
/* Keeps serving until a signal (signals changes) or linger_ns (0: no end). */
void dashboard_linger(struct dashboard *d, uint64_t linger_ns, volatile sig_atomic_t *signals);
void dashboard_free(struct dashboard *d);

struct blast_opts;
/* --dashboard for a run: binds before it (a port in use stops it there),
 * and when --html names no file, points o->html_path at a page made from
 * tmp (an mkstemp template) for the final report. NULL after one line on
 * stderr. */
struct dashboard *dashboard_open_run(struct blast_opts *o, char *tmp);
/* After the run: serves the final report until a signal or
 * --dashboard-linger, then frees d and the page made from tmp. */
void dashboard_close_run(struct dashboard *d, const struct blast_opts *o, char *tmp,
			 volatile sig_atomic_t *signals);

/* What a caller adds to the dashboard (the coordinator's agents, the
 * `blast dashboard` run form). json writes extra members of /api/now and
 * /api/series, each starting with ','; it runs in the server's thread.
 * post answers a POST other than /api/stop once its X-Blast-Token was
 * checked: arg(q, KEY) reads a field of the request's query string; it
 * fills msg (one line) and returns the HTTP status (404 for a URL it does
 * not know). */
struct dashboard_hooks {
	void *ctx;
	void (*json)(void *ctx, FILE *f);
	unsigned (*post)(void *ctx, const char *url, const char *(*arg)(void *q, const char *key),
			 void *q, char *msg, size_t cap);
};
/* Before the first request is served, or with no run going. */
void dashboard_set_hooks(struct dashboard *d, const struct dashboard_hooks *h);
/* A new run on the same page: its seconds, errors and end cleared. */
void dashboard_reset(struct dashboard *d);

/* The page (dashboard_page.c). */
extern const char dashboard_page[];

#endif
