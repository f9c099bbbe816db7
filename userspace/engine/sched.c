/* The open-loop schedule: message k is due at t0 + k / rate (128-bit
 * arithmetic), and only those due before the end of the run. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/sched.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

bool publishing(const struct worker *w)
{
	return w->phase == PHASE_RUNNING && w->t0 != 0;
}

/* How many messages should have been handed out by now. */
uint64_t sched_due(const struct worker *w)
{
	if (!publishing(w))
		return w->next_msg;
	if (!w->rate)
		return w->limit;
	if (w->now < w->t0)
		return 0;
	uint64_t now = w->t_end && w->now > w->t_end ? w->t_end : w->now;
	unsigned __int128 n = (unsigned __int128)(now - w->t0) * w->rate / NSEC_PER_SEC + 1;
	/* Message k is due at t0 + k/rate: those due before t_end, no more. */
	if (w->t_end) {
		unsigned __int128 in_run = ((unsigned __int128)(w->t_end - w->t0) * w->rate +
					    NSEC_PER_SEC - 1) / NSEC_PER_SEC;
		if (n > in_run)
			n = in_run;
	}
	return n < w->limit ? (uint64_t)n : w->limit;
}

uint64_t sched_time(const struct worker *w, uint64_t idx)
{
	if (!w->rate)
		return w->now;
	return w->t0 + (uint64_t)((unsigned __int128)idx * NSEC_PER_SEC / w->rate);
}

uint64_t worker_sched_time(const struct worker *w, uint64_t idx)
{
	return sched_time(w, idx);
}

uint64_t worker_sched_due(const struct worker *w)
{
	return sched_due(w);
}
