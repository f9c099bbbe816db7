/* The run's verdict on its own figures: was the broker the bottleneck, or
 * the client (its CPU, its windows, its sockets' buffers), or the network?
 * verdict_decide is a pure function over the figures (unit-tested); the
 * rules and their thresholds are listed in README ("Self-diagnosis"). */
#ifndef BLAST_VERDICT_H
#define BLAST_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "stats/diag.h"

enum bottleneck {
	BOTTLENECK_BROKER = 0,
	BOTTLENECK_CLIENT_CPU,
	BOTTLENECK_CLIENT_WINDOW,
	BOTTLENECK_CLIENT_SOCKET,
	BOTTLENECK_NETWORK,
};

/* Sends are behind when the p99 of their lateness passes this... */
#define VERDICT_LATE_NS (10LL * 1000 * 1000)
/* ...or when more than this share of the messages due were never sent (per mille). */
#define VERDICT_NOT_SENT_PM 10
/* A worker wanted a CPU (on one, or runnable and waiting) this much of its publish phase. */
#define VERDICT_CPU_BUSY_PM 900
/* A worker waited for a CPU this much of its publish phase: starved. */
#define VERDICT_CPU_STARVED_PM 500
/* Retransmitted segments, per mille of segments sent, that mean loss on the path. */
#define VERDICT_RETRANS_PM 10
/* RTT grew on the path when the largest smoothed RTT is this many times the
 * smallest RTT seen and at least VERDICT_RTT_GROWTH_US more. */
#define VERDICT_RTT_FACTOR 4
#define VERDICT_RTT_GROWTH_US 5000

struct verdict_in {
	bool paced;             /* --rate: there is a schedule to be late against */
	uint64_t sent, not_sent, unacked;
	int64_t late_p99_ns;    /* lateness of the sends, p99 */
	const struct diag_counts *d;
	/* The path: retransmitted and sent segments, from the wire probe when
	 * on, else from the sockets' TCP_INFO; RTTs from TCP_INFO. */
	uint64_t retrans, segs_out;
	const char *retrans_from; /* "probe" or "tcp_info" */
	bool retrans_real;        /* the probe told real losses from TLPs and spurious ones */
};

struct verdict {
	enum bottleneck what;
	char evidence[256];
};

/* "broker", "client: cpu", "client: window", "client: socket buffer", "network". */
const char *bottleneck_name(enum bottleneck b);
void verdict_decide(const struct verdict_in *in, struct verdict *v);

#endif
