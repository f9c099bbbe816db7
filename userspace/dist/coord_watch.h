/* What the coordinator does besides the run's messages: it beats to each
 * agent of the run every second (the agents stop their runs when the beats
 * stop, dist/agent.c), turns SIGINT into a stop for every agent (their
 * runs drain and report), refuses agents of another blast version, and
 * says what the clock exchange (dist/clock.h) found. */
#ifndef BLAST_DIST_COORD_WATCH_H
#define BLAST_DIST_COORD_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dist/clock.h"
#include "dist/link.h"
#include "encoders/control.h"

#define COORD_NAME_MAX 128

struct coord_watch {
	char name[64];               /* the coordinator's name (its client id) */
	char (*agents)[COORD_NAME_MAX]; /* the run's agents, once assigned */
	size_t n;
	uint64_t next_beat_ns, beat_seq;
	uint32_t clk_round;          /* the clock exchange's round (0: none yet) */
	size_t clk_agent;            /* ...and the agent it waits for */
	bool stop_sent, interrupted;
	volatile sig_atomic_t *signals; /* SIGINT and SIGTERM seen, counted */
	sig_atomic_t signals_base;   /* ...before the run */
	unsigned stops_asked;        /* other stops (the live page's) */
	char beyond[512];            /* agents whose clock is off by more than the bound */
};

/* Names the coordinator and catches SIGINT and SIGTERM, or reads the
 * count its caller keeps of them (signals, when not NULL). */
void coord_watch_init(struct coord_watch *w, volatile sig_atomic_t *signals);
/* A stop asked for otherwise (POST /api/stop): taken as a SIGINT. */
void coord_watch_stop(struct coord_watch *w);
/* The agents the run was assigned to (copied): 0 or -1. */
int coord_watch_agents(struct coord_watch *w, const char *const *names, size_t n);
void coord_watch_free(struct coord_watch *w);
/* Its Will: a bye on CTL_TOPIC_COORD + name, not retained. Returns its length. */
size_t coord_watch_will(const struct coord_watch *w, char *topic, size_t topic_cap, uint8_t *buf,
			size_t cap);
/* Each turn of the wait: beats when due; on SIGINT sends every agent a stop
 * once (running: they drain and report, 0) or gives up (before GO, or a
 * second SIGINT: -1 after one line). */
int coord_watch_tick(struct coord_watch *w, struct link *l, uint64_t now, bool running);
/* A bye with reason to every agent of the run. */
void coord_watch_bye_all(struct coord_watch *w, struct link *l, const char *reason);
/* m to agent's topic; 0 or -1. */
int coord_watch_send(struct link *l, const char *agent, const struct ctl_msg *m);
/* An agent of another version: one line, and a bye telling it why. */
void coord_watch_refuse(const struct coord_watch *w, struct link *l, const char *agent,
			const char *version, size_t len);
/* "--max-clock-offset 5" in ms, 0 to 60000: 0, or one line and BLAST_EXIT_USAGE. */
int coord_watch_ms_arg(const char *flag, const char *v, double *ms);
/* One agent's clock on stderr; those off by more than bound_ms are noted
 * for coord_watch_clock_warn. Returns true when it is. */
bool coord_watch_clock(struct coord_watch *w, const char *agent, const struct dist_clock *c,
		       double bound_ms);
/* One line when any agent's clock was beyond the bound. */
void coord_watch_clock_warn(const struct coord_watch *w, double bound_ms);

#endif
