/* A worker measuring itself (measure.h). CPU comes from getrusage and
 * /proc/self/schedstat (time runnable but waiting for a CPU), read at the
 * ends of the publish phase and once a second; the path's view from each
 * socket's TCP_INFO once, when sending ends. */
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "engine/measure.h"
#include "engine/sched.h"
#include "engine/worker.h"
#include "stats/clock.h"

int measure_init(struct diag_worker *m)
{
	m->late = hist_new();
	m->wait_window = hist_new();
	m->wait_socket = hist_new();
	return m->late && m->wait_window && m->wait_socket ? 0 : -1;
}

void measure_free(struct diag_worker *m)
{
	free(m->late);
	free(m->wait_window);
	free(m->wait_socket);
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * NSEC_PER_SEC + (uint64_t)tv.tv_usec * 1000;
}

/* This process's user and system CPU, ns. */
static void cpu_used(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;

	*user = *sys = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		*user = tv_ns(ru.ru_utime);
		*sys = tv_ns(ru.ru_stime);
	}
}

/* Time this process spent runnable, waiting for a CPU, ns (0 without schedstat). */
static uint64_t runq_wait(void)
{
	unsigned long long on_cpu = 0, waiting = 0;
	FILE *f = fopen("/proc/self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &on_cpu, &waiting) != 2)
		waiting = 0;
	fclose(f);
	return waiting;
}

void measure_sends(struct worker *w, const struct conn *c, uint64_t first, uint32_t n)
{
	struct diag_worker *m = &w->ms;

	if (!w->rate)
		return; /* no schedule to be late against */
	/* The part of a message's lateness before its connection came free
	 * was spent waiting for what held the connection. */
	uint64_t freed = c->avail_ns < w->now ? c->avail_ns : w->now;
	struct hist *wait_h = c->avail_wait == DIAG_WAIT_WINDOW ? m->wait_window
			      : c->avail_wait == DIAG_WAIT_SOCKET ? m->wait_socket
								  : NULL;
	uint64_t *wait_sum = c->avail_wait == DIAG_WAIT_WINDOW ? &m->c.window_ns : &m->c.socket_ns;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t due = sched_time(w, first + i);
		uint64_t late = w->now > due ? w->now - due : 0;
		if (due > w->now) {
			m->c.ahead_n++;
			if (due - w->now > m->c.ahead_max_ns)
				m->c.ahead_max_ns = due - w->now;
		}
		hist_record(m->late, (int64_t)late);
		m->c.late_ns += late;
		if (wait_h && freed > due) {
			hist_record(wait_h, (int64_t)(freed - due));
			*wait_sum += freed - due;
		}
	}
}

void measure_turn(struct diag_worker *m, unsigned sqes, unsigned cqes)
{
	m->c.turns++;
	if (sqes) {
		m->c.submits++;
		m->c.sqes += sqes;
		m->c.sqe_batch[diag_batch_bucket(sqes)]++;
	}
	if (cqes) {
		m->c.reaps++;
		m->c.cqes += cqes;
		m->c.cqe_batch[diag_batch_bucket(cqes)]++;
	}
}

void measure_publish_start(struct worker *w)
{
	uint64_t user, sys;

	cpu_used(&user, &sys);
	w->ms.cpu0_ns = user + sys;
	w->ms.runq0_ns = runq_wait();
}

/* What holds a ready connection now: acks (window full), a send the socket
 * could not take whole, or nothing. */
static enum diag_wait held_by(const struct worker *w, const struct conn *c)
{
	if (w->o->qos && c->inflight >= (c->window < w->slot_cap ? c->window : w->slot_cap))
		return DIAG_WAIT_WINDOW;
	return c->tx && c->short_write ? DIAG_WAIT_SOCKET : DIAG_WAIT_NONE;
}

static void tcp_view(struct diag_counts *d, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_min_rtt) + sizeof(ti.tcpi_min_rtt))
		return;
	d->tcp_conns++;
	d->tcp_retrans += ti.tcpi_total_retrans;
	d->tcp_segs_out += ti.tcpi_segs_out;
	if (ti.tcpi_rtt > d->srtt_us_max)
		d->srtt_us_max = ti.tcpi_rtt;
	if (ti.tcpi_min_rtt && (!d->min_rtt_us || ti.tcpi_min_rtt < d->min_rtt_us))
		d->min_rtt_us = ti.tcpi_min_rtt;
}

void measure_publish_end(struct worker *w)
{
	struct diag_counts *d = &w->ms.c;
	uint64_t user, sys;

	if (!w->t0)
		return; /* never published */
	cpu_used(&user, &sys);
	d->publish_ns = w->now > w->t0 ? w->now - w->t0 : 0;
	d->cpu_user_ns = user;
	d->cpu_sys_ns = sys;
	uint64_t used = user + sys > w->ms.cpu0_ns ? user + sys - w->ms.cpu0_ns : 0;
	uint64_t runq = runq_wait();
	d->runq_ns = runq > w->ms.runq0_ns ? runq - w->ms.runq0_ns : 0;
	if (d->publish_ns) {
		d->busiest_cpu_pm = (uint32_t)(used * 1000 / d->publish_ns);
		d->busiest_runq_pm = (uint32_t)(d->runq_ns * 1000 / d->publish_ns);
	}
	for (uint32_t i = 0; i < w->n_conns; i++) {
		const struct conn *c = &w->conns[i];
		if (c->state != CS_READY || c->listener)
			continue;
		enum diag_wait held = held_by(w, c);
		d->end_window += held == DIAG_WAIT_WINDOW;
		d->end_socket += held == DIAG_WAIT_SOCKET;
		d->end_free += held == DIAG_WAIT_NONE;
		tcp_view(d, c->fd);
	}
}

void measure_second(struct worker *w, struct series_counts *sc)
{
	struct diag_worker *m = &w->ms;
	uint64_t user, sys;

	/* Stalled: messages in flight when the second began and when it
	 * ended, and not one ack between. */
	if (m->inflight_then && w->t.inflight && w->t.acked == m->acked_then) {
		m->c.stalled_s++;
		if (++m->stall_now_s > m->c.stall_run_s)
			m->c.stall_run_s = m->stall_now_s;
	} else {
		m->stall_now_s = 0;
	}
	m->acked_then = w->t.acked;
	m->inflight_then = w->t.inflight;
	cpu_used(&user, &sys);
	sc->cpu_ns = user + sys;
	sc->late_ns = m->c.late_ns;
	sc->window_ns = m->c.window_ns;
	sc->socket_ns = m->c.socket_ns;
}

void measure_copy_out(struct worker *w)
{
	struct worker_slot *s = w->slot;

	s->diag = w->ms.c;
	hist_copy(&s->diag_h.late, w->ms.late);
	hist_copy(&s->diag_h.wait_window, w->ms.wait_window);
	hist_copy(&s->diag_h.wait_socket, w->ms.wait_socket);
}
