/* --find-limit's settings, part of struct blast_opts; the search itself
 * is limit/limit.h. */
#ifndef BLAST_LIMIT_CFG_H
#define BLAST_LIMIT_CFG_H

#include <stdbool.h>
#include <stdint.h>

#define LIMIT_MAX_SLO 8

/* LIMIT_CONN_RATE is never a --find-limit mode: it is the verdict of the
 * second stage of LIMIT_CONNS, which searches the connect rate (--ramp). */
enum limit_mode { LIMIT_OFF = 0, LIMIT_RATE, LIMIT_CONNS, LIMIT_CONN_RATE };

/* --slo KEY=DURATION: a latency percentile that must stay at or below. */
enum limit_slo_key { SLO_P50 = 0, SLO_P90, SLO_P99, SLO_P999, SLO_CONNECT, SLO__COUNT };

struct limit_slo {
	uint8_t key;  /* enum limit_slo_key; connect = p99 of connect latency */
	uint64_t ns;
};

/* The search's settings, part of struct blast_opts. */
struct limit_cfg {
	uint8_t mode;             /* enum limit_mode */
	struct limit_slo slo[LIMIT_MAX_SLO];
	unsigned n_slo;
	bool loss_is_frac;        /* --max-loss P%: a share of the messages due */
	uint64_t max_loss;        /* --max-loss N: messages (and errors), default 0 */
	double max_loss_frac;     /* --max-loss P%, as a fraction */
	uint64_t trial_ns;        /* --trial-duration, default 10 s */
	uint64_t timeout_ns;      /* --search-timeout, default 10 min */
	uint64_t ceiling;         /* --ceiling: highest rate (or conns) tried; 0 = default */
};

#endif
