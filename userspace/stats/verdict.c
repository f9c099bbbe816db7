/* The rules behind a run's bottleneck line (verdict.h; README,
 * "Self-diagnosis"). First match wins:
 *
 *   1. network  the path lost segments (retransmits): the broker never
 *               saw the load. Not from TCP_INFO's count when the client
 *               was starved of CPU (path_lost).
 *   2. broker   a whole second passed with messages in flight and no ack.
 *   3. network  sends behind, the client's CPU not saturated, and RTT grew:
 *               a queue on the path. After 2: a stopped broker's delayed
 *               ACKs grow RTT too; so does a starved client's kernel.
 *   4. the sends kept the schedule (or there is none): broker, unless
 *      unpaced and a worker wanted a CPU all the time (client: cpu).
 *   5. behind: what the late messages waited for, or, when the backlog
 *      never went out, what held the connections when sending ended:
 *      a full window (client: window), socket room (client: socket
 *      buffer), nothing (the loop itself was late: client: cpu); with
 *      no connection up at all, the broker's (it dropped or refused them). */
#include <stdarg.h>
#include <stdio.h>

#include "stats/verdict.h"

const char *bottleneck_name(enum bottleneck b)
{
	switch (b) {
	case BOTTLENECK_CLIENT_CPU:
		return "client: cpu";
	case BOTTLENECK_CLIENT_WINDOW:
		return "client: window";
	case BOTTLENECK_CLIENT_SOCKET:
		return "client: socket buffer";
	case BOTTLENECK_NETWORK:
		return "network";
	case BOTTLENECK_BROKER:
	default:
		return "broker";
	}
}

/* Retransmits TCP_INFO counts are not all losses: a client kept off its
 * CPU is late to process ACKs (on loopback the peer's too), and the timers
 * resend what arrived. Only the probe tells them apart; without it a
 * starved client's retransmits say nothing of the path. */
static bool path_lost(const struct verdict_in *in)
{
	if (!in->retrans_real && in->d->busiest_runq_pm >= VERDICT_CPU_STARVED_PM)
		return false;
	return in->segs_out && in->retrans * 1000 > in->segs_out * VERDICT_RETRANS_PM;
}

static bool rtt_grew(const struct diag_counts *d)
{
	return d->min_rtt_us && d->srtt_us_max >= d->min_rtt_us * VERDICT_RTT_FACTOR &&
	       d->srtt_us_max >= d->min_rtt_us + VERDICT_RTT_GROWTH_US;
}

static bool cpu_busy(const struct diag_counts *d)
{
	return d->busiest_cpu_pm + d->busiest_runq_pm >= VERDICT_CPU_BUSY_PM;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Sends behind the schedule: late at p99, or a backlog never sent. */
static bool behind(const struct verdict_in *in)
{
	uint64_t due = in->sent + in->not_sent;

	return in->paced && (in->late_p99_ns > VERDICT_LATE_NS ||
			     (due && in->not_sent * 1000 > due * VERDICT_NOT_SENT_PM));
}

__attribute__((format(printf, 3, 4)))
static void say(struct verdict *v, enum bottleneck what, const char *fmt, ...)
{
	va_list ap;

	v->what = what;
	va_start(ap, fmt);
	vsnprintf(v->evidence, sizeof(v->evidence), fmt, ap);
	va_end(ap);
}

static void say_cpu(struct verdict *v, const struct verdict_in *in, const char *why)
{
	const struct diag_counts *d = in->d;

	say(v, BOTTLENECK_CLIENT_CPU,
	    "%s; the busiest worker was on a CPU %.0f%% and waiting for one %.0f%% of the "
	    "publish phase",
	    why, d->busiest_cpu_pm / 10.0, d->busiest_runq_pm / 10.0);
}

/* Rule 5: what held the sends. */
static void decide_wait(struct verdict *v, const struct verdict_in *in, const char *late)
{
	const struct diag_counts *d = in->d;
	uint64_t due = in->sent + in->not_sent;
	enum diag_wait held;

	if (due && in->not_sent * 1000 > due * VERDICT_NOT_SENT_PM &&
	    d->end_window + d->end_socket + d->end_free == 0) {
		/* No connection was up to take the backlog: the broker had
		 * dropped or refused them (waiting to reconnect costs no CPU). */
		say(v, BOTTLENECK_BROKER, "%s; no connection was up when sending ended", late);
		return;
	}
	if (due && in->not_sent * 1000 > due * VERDICT_NOT_SENT_PM) {
		/* The backlog never went out: what held the connections at the end. */
		held = d->end_window >= d->end_socket && d->end_window > d->end_free ? DIAG_WAIT_WINDOW
		       : d->end_socket > d->end_free			              ? DIAG_WAIT_SOCKET
										      : DIAG_WAIT_NONE;
	} else {
		uint64_t waits = d->window_ns + d->socket_ns;
		uint64_t own = d->late_ns > waits ? d->late_ns - waits : 0;
		held = d->window_ns >= d->socket_ns && d->window_ns > own ? DIAG_WAIT_WINDOW
		       : d->socket_ns > own				    ? DIAG_WAIT_SOCKET
									    : DIAG_WAIT_NONE;
	}
	uint64_t ready = d->end_window + d->end_socket + d->end_free;
	if (held == DIAG_WAIT_WINDOW)
		say(v, BOTTLENECK_CLIENT_WINDOW,
		    "%s; %.0f%% of the lateness was waiting for a full window (--inflight); "
		    "%llu of %llu ready connections had a full window when sending ended",
		    late, pct(d->window_ns, d->late_ns), (unsigned long long)d->end_window,
		    (unsigned long long)ready);
	else if (held == DIAG_WAIT_SOCKET)
		say(v, BOTTLENECK_CLIENT_SOCKET,
		    "%s; %.0f%% of the lateness was waiting for socket room; %llu of %llu ready "
		    "connections had a send waiting when sending ended",
		    late, pct(d->socket_ns, d->late_ns), (unsigned long long)d->end_socket,
		    (unsigned long long)ready);
	else
		say_cpu(v, in, late);
}

void verdict_decide(const struct verdict_in *in, struct verdict *v)
{
	const struct diag_counts *d = in->d;
	bool late = behind(in);
	char why[96];

	if (path_lost(in)) {
		say(v, BOTTLENECK_NETWORK, "%.1f%% of segments retransmitted (%s); RTT %.1f ms, lowest %.2f ms",
		    pct(in->retrans, in->segs_out), in->retrans_from, d->srtt_us_max / 1e3,
		    d->min_rtt_us / 1e3);
		return;
	}
	if (d->stall_run_s) {
		say(v, BOTTLENECK_BROKER, "no ack for %llu s with messages in flight (%llu such seconds); %llu unacked",
		    (unsigned long long)d->stall_run_s, (unsigned long long)d->stalled_s,
		    (unsigned long long)in->unacked);
		return;
	}
	if (late && rtt_grew(d) && !cpu_busy(d)) {
		say(v, BOTTLENECK_NETWORK, "RTT grew from %.2f ms to %.1f ms (tcp_info) while sends fell behind",
		    d->min_rtt_us / 1e3, d->srtt_us_max / 1e3);
		return;
	}
	if (!late) {
		if (!in->paced && cpu_busy(d)) {
			say_cpu(v, in, "unpaced");
			return;
		}
		if (in->paced)
			say(v, BOTTLENECK_BROKER, "sends kept the schedule (late p99 %.2f ms): the latency is the broker's",
			    ms((uint64_t)in->late_p99_ns));
		else
			say(v, BOTTLENECK_BROKER, "unpaced, the client's CPU not saturated: the rate is the broker's");
		return;
	}
	snprintf(why, sizeof(why), "sends behind (late p99 %.1f ms, %llu not sent)",
		 ms((uint64_t)in->late_p99_ns), (unsigned long long)in->not_sent);
	decide_wait(v, in, why);
}
