/* The coordinator's own work (see coord_stats.h). */
#include <stdlib.h>
#include <string.h>

#include "dist/coord_stats.h"
#include "encoders/control.h"
#include "stats/clock.h"

void coord_stats_start(struct coord_stats *s, uint64_t now_ns, uint64_t link_bytes_in)
{
	memset(s, 0, sizeof(*s));
	s->from_ns = now_ns;
	s->bytes_from = link_bytes_in;
	s->first = SIZE_MAX;
}

void coord_stats_msg(struct coord_stats *s, const uint8_t *msg, size_t len)
{
	if (!s->from_ns || s->to_ns)
		return;
	s->msgs++;
	if (len > CTL_HEADER_LEN && msg[CTL_HEADER_LEN - 1] == CTL_DONE)
		s->done_bytes += len;
}

void coord_stats_merge(struct coord_stats *s, uint64_t t0_ns, uint64_t t1_ns, int second)
{
	if (!s->from_ns || s->to_ns || t0_ns < s->from_ns)
		return;
	size_t i = (size_t)((t0_ns - s->from_ns) / NSEC_PER_SEC);
	if (i >= s->n) {
		size_t n = i + 16;
		uint64_t *p = realloc(s->merge_ns, n * sizeof(*p));
		if (!p)
			return; /* the figure goes missing, the run goes on */
		memset(&p[s->n], 0, (n - s->n) * sizeof(*p));
		s->merge_ns = p;
		s->n = n;
	}
	s->merge_ns[i] += t1_ns - t0_ns;
	if (second) {
		s->first = i < s->first ? i : s->first;
		s->last = i > s->last ? i : s->last;
	}
}

void coord_stats_end(struct coord_stats *s, uint64_t now_ns, uint64_t link_bytes_in)
{
	if (!s->from_ns || s->to_ns)
		return;
	s->to_ns = now_ns;
	s->bytes_to = link_bytes_in;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void coord_stats_figures(const struct coord_stats *s, uint32_t agents, struct control_figures *f)
{
	memset(f, 0, sizeof(*f));
	if (!s->to_ns || !agents)
		return;
	f->agents = agents;
	f->run_s = (double)(s->to_ns - s->from_ns) / 1e9;
	f->messages_in = s->msgs;
	f->bytes_in = s->bytes_to - s->bytes_from;
	f->report_bytes_in = s->done_bytes;
	if (f->run_s > 0) {
		f->bytes_in_per_agent_s = (double)f->bytes_in / agents / f->run_s;
		f->bytes_in_per_agent_s_running = (double)(f->bytes_in - f->report_bytes_in) / agents / f->run_s;
		f->messages_in_per_agent_s = (double)f->messages_in / agents / f->run_s;
	}
	f->final_merge_ms = (double)s->final_ns / 1e6;
	/* The seconds from the first agent's second to the last: the run
	 * proper, not the wait for T0 nor the wait for the reports. */
	if (s->first > s->last || s->last >= s->n)
		return;
	size_t n = s->last - s->first + 1;
	uint64_t *v = malloc(n * sizeof(*v)), sum = 0;
	if (!v)
		return;
	memcpy(v, &s->merge_ns[s->first], n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_value);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	f->merge_seconds = (unsigned)n;
	f->merge_us_mean = (double)sum / (double)n / 1e3;
	f->merge_us_median = (n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1e3;
	f->merge_us_max = (double)v[n - 1] / 1e3;
	free(v);
}

void coord_stats_print(const struct control_figures *f, FILE *out)
{
	if (!f->agents)
		return;
	fprintf(out, "blast: control: %u agents, %.2f KiB/s in per agent (%.1f messages/s; %.2f KiB/s "
		     "without the reports at the end, %.1f KiB each), merge %.0f us per second (median "
		     "%.0f, max %.0f us, %u s), final merge %.1f ms\n",
		f->agents, f->bytes_in_per_agent_s / 1024, f->messages_in_per_agent_s,
		f->bytes_in_per_agent_s_running / 1024, (double)f->report_bytes_in / f->agents / 1024,
		f->merge_us_mean, f->merge_us_median, f->merge_us_max, f->merge_seconds,
		f->final_merge_ms);
}

void coord_stats_free(struct coord_stats *s)
{
	free(s->merge_ns);
	s->merge_ns = NULL;
	s->n = 0;
}
