/* The parent's reads of the workers' shared slots (see shm.h). */
#include <string.h>

#include "stats/fanout.h"
#include "stats/shm.h"

void shm_read_slot(const struct worker_slot *s, struct blast_totals *out, uint32_t *state)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (a & 1)
			continue;
		memcpy(out, &s->t, sizeof(*out));
		*state = s->state;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == a)
			return;
	}
}

void shm_totals(struct shm *shm, unsigned n, struct blast_totals *sum)
{
	struct blast_totals t;
	uint32_t state = 0;

	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < n; i++) {
		shm_read_slot(&shm->w[i], &t, &state);
		totals_add(sum, &t);
	}
}

void shm_check_fanout(struct shm *shm, const struct blast_opts *o)
{
	struct blast_totals sum, t;
	uint32_t state = 0;

	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < shm->n_workers; i++) {
		shm_read_slot(&shm->w[i], &t, &state);
		if (state < PHASE_DRAINING)
			return;
		totals_add(&sum, &t);
	}
	shm->sends_done = 1; /* the drain timeouts start counting now */
	if (fanout_all_in(o, &sum))
		shm->fanout_done = 1;
}
