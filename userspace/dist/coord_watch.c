/* The coordinator's heartbeats, its SIGINT, its refusals and its clock
 * lines (see coord_watch.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/opts.h"
#include "config/version.h"
#include "dist/coord_watch.h"
#include "stats/clock.h"

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

void coord_watch_init(struct coord_watch *w, volatile sig_atomic_t *signals)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "blast-coord-%d", (int)getpid());
	if (!signals) {
		struct sigaction sa = { .sa_handler = on_signal };
		signals_seen = 0;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signals = &signals_seen;
	}
	w->signals = signals;
	w->signals_base = *signals;
}

void coord_watch_stop(struct coord_watch *w)
{
	w->stops_asked++;
}

int coord_watch_agents(struct coord_watch *w, const char *const *names, size_t n)
{
	free(w->agents);
	w->agents = calloc(n ? n : 1, sizeof(*w->agents));
	w->n = w->agents ? n : 0;
	for (size_t i = 0; i < w->n; i++)
		snprintf(w->agents[i], sizeof(w->agents[i]), "%s", names[i]);
	return w->agents ? 0 : -1;
}

void coord_watch_free(struct coord_watch *w)
{
	free(w->agents);
	w->agents = NULL;
	w->n = 0;
}

size_t coord_watch_will(const struct coord_watch *w, char *topic, size_t topic_cap, uint8_t *buf,
			size_t cap)
{
	struct ctl_msg bye = { .type = CTL_BYE, .agent = { w->name, strlen(w->name) },
			       .u.bye.reason = { "lost", 4 } };
	ssize_t n = ctl_encode(&bye, buf, cap);

	snprintf(topic, topic_cap, CTL_TOPIC_COORD "%s", w->name);
	return n > 0 ? (size_t)n : 0;
}

int coord_watch_send(struct link *l, const char *agent, const struct ctl_msg *m)
{
	static uint8_t buf[1 << 20];
	char topic[200];
	ssize_t n = ctl_encode(m, buf, sizeof(buf));

	snprintf(topic, sizeof(topic), CTL_TOPIC_TO "%s", agent);
	return n < 0 ? -1 : link_publish(l, topic, buf, (size_t)n, false);
}

void coord_watch_bye_all(struct coord_watch *w, struct link *l, const char *reason)
{
	struct ctl_msg bye = { .type = CTL_BYE, .agent = { w->name, strlen(w->name) },
			       .u.bye.reason = { reason, strlen(reason) } };

	for (size_t i = 0; i < w->n; i++)
		coord_watch_send(l, w->agents[i], &bye);
}

int coord_watch_tick(struct coord_watch *w, struct link *l, uint64_t now, bool running)
{
	unsigned signals_seen = (unsigned)(*w->signals - w->signals_base) + w->stops_asked;

	if (signals_seen && (!running || signals_seen > 1)) {
		w->interrupted = true;
		coord_watch_bye_all(w, l, "stop");
		fprintf(stderr, "blast: interrupted%s\n", running ? " again: leaving without the agents' "
							     "reports" : " before the run started");
		return -1;
	}
	if (signals_seen && !w->stop_sent) {
		w->stop_sent = w->interrupted = true;
		coord_watch_bye_all(w, l, "stop");
		fprintf(stderr, "blast: interrupted: the agents stop, drain and report (again to leave "
				"without them)\n");
	}
	if (!w->n || now < w->next_beat_ns)
		return 0;
	struct ctl_msg hb = { .type = CTL_HEARTBEAT, .agent = { w->name, strlen(w->name) },
			      .u.hb = { ++w->beat_seq, CTL_RUNNING } };
	for (size_t i = 0; i < w->n; i++)
		if (coord_watch_send(l, w->agents[i], &hb))
			return 0; /* the link's loss is the caller's to see */
	w->next_beat_ns = now + NSEC_PER_SEC;
	return 0;
}

void coord_watch_refuse(const struct coord_watch *w, struct link *l, const char *agent,
			const char *version, size_t len)
{
	char reason[200];

	fprintf(stderr, "blast: agent %s runs %.*s, this is blast %s: refused\n", agent, (int)len,
		version, BLAST_VERSION);
	snprintf(reason, sizeof(reason), "refused: you run %.*s, the coordinator blast %s",
		 (int)(len > 64 ? 64 : len), version, BLAST_VERSION);
	struct ctl_msg bye = { .type = CTL_BYE, .agent = { w->name, strlen(w->name) },
			       .u.bye.reason = { reason, strlen(reason) } };
	coord_watch_send(l, agent, &bye);
}

int coord_watch_ms_arg(const char *flag, const char *v, double *ms)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || (*end && strcmp(end, "ms")) || !(x >= 0 && x <= 60000)) {
		fprintf(stderr, "blast: %s %s: must be milliseconds (10, 0.5ms), 0 to 60000\n", flag, v);
		return BLAST_EXIT_USAGE;
	}
	*ms = x;
	return 0;
}

bool coord_watch_clock(struct coord_watch *w, const char *agent, const struct dist_clock *c,
		       double bound_ms)
{
	if (!c->samples) {
		fprintf(stderr, "blast: agent %s: clock offset unknown (no answer to %d time "
				"requests)\n", agent, DIST_CLOCK_ROUNDS);
		return false;
	}
	double off = dist_clock_offset_ms(c);
	fprintf(stderr, "blast: agent %s: clock offset %+.2f ms (± %.2f ms)\n", agent, off,
		dist_clock_uncertainty_ms(c));
	if (!dist_clock_beyond(c, bound_ms))
		return false;
	size_t at = strlen(w->beyond);
	if (at + 80 < sizeof(w->beyond))
		snprintf(w->beyond + at, sizeof(w->beyond) - at, "%s%s (%+.2f ms)", at ? ", " : "",
			 agent, off);
	else if (!strstr(w->beyond, ", ..."))
		strcat(w->beyond, ", ...");
	return true;
}

void coord_watch_clock_warn(const struct coord_watch *w, double bound_ms)
{
	if (w->beyond[0])
		fprintf(stderr, "blast: clock offsets beyond --max-clock-offset %g ms: %s: latencies "
				"across machines are off by as much (sync the clocks: NTP, PTP)\n",
			bound_ms, w->beyond);
}
