/* The open-loop schedule: message k is due at t0 + k / rate (128-bit
 * arithmetic), and only those due before the end of the run. Sends go
 * out in batches a little ahead of their time (sched.h says why), each
 * timed from the earlier of its scheduled time and the moment it left. */
#include "engine/sched.h"
#include "engine/worker.h"
#include "stats/clock.h"

bool publishing(const struct worker *w)
{
	return w->phase == PHASE_RUNNING && w->t0 != 0;
}

/* How many messages fall due by time t. */
static uint64_t due_by(const struct worker *w, uint64_t t)
{
	if (!publishing(w))
		return w->next_msg;
	if (!w->rate)
		return w->limit;
	if (t < w->t0)
		return 0;
	if (w->t_end && t > w->t_end)
		t = w->t_end;
	unsigned __int128 n = (unsigned __int128)(t - w->t0) * w->rate / NSEC_PER_SEC + 1;
	/* Message k is due at t0 + k/rate: those due before t_end, no more. */
	if (w->t_end) {
		unsigned __int128 in_run = ((unsigned __int128)(w->t_end - w->t0) * w->rate +
					    NSEC_PER_SEC - 1) / NSEC_PER_SEC;
		if (n > in_run)
			n = in_run;
	}
	return n < w->limit ? (uint64_t)n : w->limit;
}

uint64_t sched_due(const struct worker *w)
{
	return due_by(w, w->now);
}

uint64_t sched_sendable(const struct worker *w)
{
	return due_by(w, w->now + w->pace_batch_ns);
}

uint64_t sched_time(const struct worker *w, uint64_t idx)
{
	if (!w->rate)
		return w->now;
	return w->t0 + (uint64_t)((unsigned __int128)idx * NSEC_PER_SEC / w->rate);
}

uint64_t sched_wake(const struct worker *w)
{
	uint64_t due = sched_time(w, w->next_msg);
	uint64_t early = w->pace_batch_ns / 2 < PACE_WAKE_EARLY_NS ? w->pace_batch_ns / 2
								   : PACE_WAKE_EARLY_NS;
	return due > early ? due - early : 0;
}

uint64_t sched_start(const struct worker *w, uint64_t idx, uint64_t sent_ns)
{
	uint64_t due = sched_time(w, idx);
	return due > sent_ns ? sent_ns : due;
}

uint64_t worker_msg_start(const struct worker *w, uint64_t idx)
{
	return sched_start(w, idx, w->now);
}

uint64_t worker_sched_sendable(const struct worker *w)
{
	return sched_sendable(w);
}
