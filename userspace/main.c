/* blast: finds the upper limits of message brokers.
 *
 * The parent parses and checks everything, forks the workers (processes:
 * one process holds at most ~20,000 sockets here), prints a live line each
 * second from the figures they publish in shared memory, relays SIGINT as
 * a stop request, and writes the report once they are done. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/shard_args.h"
#include "witness/analyze.h"
#include "witness/capture.h"
#include "stats/clock.h"
#include "stats/diag.h"
#include "stats/fanout.h"
#include "stats/hist.h"
#include "protocol/kafka_meta.h"
#include "limit/limit.h"
#include "config/opts.h"
#include "config/tmpdir.h"
#include "witness/probe.h"
#include "engine/rxseg.h"
#include "report/progress.h"
#include "report/dashboard.h"
#include "report/exact.h"
#include "report/merge.h"
#include "dist/agent.h"
#include "dist/coord.h"
#include "dist/coord_page.h"
#include "dist/control_dash.h"
#include "report/report.h"
#include "report/files.h"
#include "stats/series.h"
#include "stats/shm.h"
#include "stats/stats.h"
#include "engine/worker.h"
#include "protocol/registry.h"
#include "transport/tls.h"

static volatile sig_atomic_t signals_seen;
static struct probe *probe; /* --probe, NULL when off or impossible */
/* Every run's seconds, for the live line and the report files. */
static struct series *series;
/* --dashboard: the live page, NULL when off. */
static struct dashboard *dash;
/* What blast costs before its first message: the launch, and the parent's
 * CPU when it forks the first run's workers (flags, metadata, --probe's
 * load and attach, --pcap's capture). */
static uint64_t launch_ns;
static struct rusage setup_usage;
static bool setup_taken;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

/* The probe's newest wire latencies, handed to the dashboard. */
static int dash_wire_read(void *p, struct hist *out)
{
	return probe_latency_new(p, out);
}

/* --seconds-to's wire latencies: the probe's new ones, unless the page
 * takes them (a blast agent's run has none). */
static const struct hist *seconds_wire(void)
{
	static struct hist *h;

	if (!probe || dash || (!h && !(h = hist_new())))
		return NULL;
	hist_reset(h);
	return probe_latency_new(probe, h) ? NULL : h;
}

/* The dashboard's newest seconds and this run's errors by reason. */
static void dash_feed(struct shm *shm, unsigned n)
{
	struct blast_totals sum;

	shm_totals(shm, n, &sum);
	dashboard_update(dash, series, sum.errors);
	if (probe)
		dashboard_wire_feed(dash, dash_wire_read, probe);
}

/* For the live line: whether every worker stopped sending, and the fan-out
 * receipts so far and expected. */
static void progress_wait_read(struct shm *shm, const struct blast_opts *o, const bool *exited,
			       unsigned n, struct progress_wait *pw)
{
	struct blast_totals sum, t;
	uint32_t state = 0;

	memset(&sum, 0, sizeof(sum));
	pw->draining = true;
	for (unsigned i = 0; i < n; i++) {
		shm_read_slot(&shm->w[i], &t, &state);
		if (state < PHASE_DRAINING && !exited[i])
			pw->draining = false;
		totals_add(&sum, &t);
	}
	pw->received = sum.received;
	pw->expected = opts_fanout(o) ? fanout_expected(o, &sum) : 0;
	/* Receipts per second since the last line (a new run starts over). */
	static uint64_t last_received, last_ns;
	uint64_t now = mono_ns();
	if (!last_ns)
		last_ns = shm->start_ns;
	if (last_ns && sum.received >= last_received && now > last_ns)
		pw->received_per_s = (double)(sum.received - last_received) * 1e9 / (double)(now - last_ns);
	else
		pw->received_per_s = 0;
	last_received = sum.received;
	last_ns = now;
}

/* One run's merged figures. The histograms are the caller's. */
struct run_out {
	struct blast_totals total;
	struct hist *lat, *raw, *con, *e2e;
	struct diag_run *diag; /* the workers' view of themselves, added to; may be NULL */
	struct hist **stage;   /* [HS__COUNT], added to; may be NULL */
	char tls_note[200];    /* the first TLS failure in words */
	uint64_t t0, t_end, t_last_send, first_send, last_recv, rss, peak;
	uint64_t t_all_up; /* the last worker's first connections all tried */
	uint64_t t_start, backlog, drained; /* for --find-limit: run start, backlog when
					     * publishing stopped, end of the drains */
	uint32_t why;
	int rc; /* 0, or 3 when a worker failed */
};

/* The run's start on both clocks. A split run (--shard, --start-at) starts
 * its seconds on a wall-clock second, so that second k of every machine's
 * series is the same second and `blast merge` adds them up exactly. */
static void shm_start(struct shm *shm, const struct blast_opts *o)
{
	uint64_t mono = mono_ns(), wall = wall_ns();

	if (o->shard_count || o->start_at_ns) {
		mono -= wall % NSEC_PER_SEC;
		wall -= wall % NSEC_PER_SEC;
	}
	shm->start_ns = mono;
	shm->start_wall_ns = wall;
	if (o->start_at_ns)
		shm->start_at_ns = o->start_at_ns > wall ? mono + (o->start_at_ns - wall)
							 : mono - (wall - o->start_at_ns);
}

static int run(struct blast_opts *o, struct kafka_meta *kmeta, struct run_out *out)
{
	static size_t seconds_out; /* --seconds-to: rows of the series written */
	struct blast_totals sum; /* ...with the errors by reason so far */
	unsigned n = o->workers;
	size_t shm_size = sizeof(struct shm) + n * sizeof(struct worker_slot);
	struct shm *shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[BLAST_MAX_WORKERS];
	int wstatus[BLAST_MAX_WORKERS];
	bool exited[BLAST_MAX_WORKERS] = { false };
	int rc = 0;

	if (shm == MAP_FAILED) {
		fprintf(stderr, "blast: cannot map shared memory: %s\n", strerror(errno));
		return 3;
	}
	shm->n_workers = n;
	shm_start(shm, o);
	shm->run_id = fanout_run_id(o, (uint32_t)getpid(), shm->start_ns);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fflush(NULL);
	if (!setup_taken)
		setup_taken = getrusage(RUSAGE_SELF, &setup_usage) == 0;
	for (unsigned i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "blast: cannot start worker %u: %s\n", i, strerror(errno));
			shm->stop = 1;
			n = i;
			rc = 3;
			break;
		}
		if (pid == 0) {
			dashboard_forget(dash);
			probe_worker_init(probe);
			capture_child();
			_exit(worker_run(o, shm, i, o->workers, protocol_for(o), kmeta));
		}
		pids[i] = pid;
	}
	capture_resume();

	unsigned alive = n;
	series_begin_run(series, shm);
	for (unsigned i = n; i < o->workers; i++)
		series_worker_gone(series, i); /* never started */
	uint64_t kill_at = 0;
	int seen = 0;
	while (alive) {
		struct timespec nap = { 0, 50 * 1000 * 1000 };
		nanosleep(&nap, NULL);
		if (dashboard_take_stop(dash))
			signals_seen++; /* POST /api/stop: drained like Ctrl-C */
		if (signals_seen != seen) {
			seen = signals_seen;
			shm->stop = 1;
			if (seen >= 2) {
				/* Asked twice: stop now, report what is published. */
				for (unsigned i = 0; i < n; i++)
					if (!exited[i])
						kill(pids[i], SIGKILL);
			}
			if (!kill_at)
				kill_at = mono_ns() + o->drain_timeout_ns + 10 * NSEC_PER_SEC;
		}
		for (unsigned i = 0; i < n; i++) {
			if (exited[i])
				continue;
			pid_t r = waitpid(pids[i], &wstatus[i], WNOHANG);
			if (r == pids[i]) {
				exited[i] = true;
				alive--;
				series_worker_gone(series, i);
			}
		}
		if ((opts_fanout(o) || o->hold_fd) && !shm->go) {
			unsigned ready = 0;
			for (unsigned i = 0; i < n; i++)
				ready += shm->w[i].ramp_done || exited[i];
			if (ready == n && (!o->hold_fd || hold_start_step(o, shm)))
				__atomic_store_n(&shm->go, 1, __ATOMIC_RELEASE);
		}
		if (opts_fanout(o) && !shm->fanout_done)
			shm_check_fanout(shm, o);
		uint64_t now = mono_ns();
		if (kill_at && now > kill_at) {
			/* A worker that outlives its drain and close timeouts is stuck. */
			for (unsigned i = 0; i < n; i++)
				if (!exited[i])
					kill(pids[i], SIGKILL);
		}
		int added = series_poll(series);
		if (added > 0 && dash)
			dash_feed(shm, n);
		if (added > 0 && !o->quiet && alive) {
			struct progress_wait pw;
			progress_wait_read(shm, o, exited, n, &pw);
			progress_print(stderr, series, o,
				       kmeta->n_brokers ? (uint64_t)o->conns * kmeta->n_brokers : o->conns,
				       &pw);
			probe_live(probe, stderr, (double)(now - shm->start_ns) / 1e9, now);
		}
		if (o->seconds_to && added > 0) {
			shm_totals(shm, n, &sum);
			exact_seconds_out(o->seconds_to, series, &seconds_out, sum.errors, seconds_wire());
		}
	}
	series_poll(series); /* the seconds closed as the workers finished */
	if (dash)
		dash_feed(shm, n);
	if (o->seconds_to) {
		shm_totals(shm, n, &sum);
		exact_seconds_out(o->seconds_to, series, &seconds_out, sum.errors, seconds_wire());
	}

	capture_pause();

	/* Merge. */
	struct blast_totals total;
	struct hist *lat = out->lat, *raw = out->raw, *con = out->con, *e2e = out->e2e;
	memset(&total, 0, sizeof(total));
	uint64_t t0 = 0, t_end = 0, t_last_send = 0, rss = 0, peak = 0;
	uint32_t why = STOP_NONE;
	for (unsigned i = 0; i < n; i++) {
		const struct worker_slot *s = &shm->w[i];
		struct blast_totals t;
		uint32_t state = 0;
		shm_read_slot(s, &t, &state);
		totals_add(&total, &t);
		if (state == PHASE_FAILED || !WIFEXITED(wstatus[i]) || WEXITSTATUS(wstatus[i]) != 0) {
			if (s->error[0])
				fprintf(stderr, "blast: worker %u: %s\n", i, s->error);
			else if (WIFSIGNALED(wstatus[i]))
				fprintf(stderr, "blast: worker %u killed by signal %d\n", i,
					WTERMSIG(wstatus[i]));
			rc = 3;
		}
		if (state == PHASE_DONE) {
			hist_add(lat, &s->latency);
			hist_add(raw, &s->latency_raw);
			hist_add(con, &s->connect);
			hist_add(e2e, &s->e2e);
			for (unsigned k = 0; out->stage && k < HS__COUNT; k++)
				hist_add(out->stage[k], &s->stage[k]);
			if (!out->tls_note[0] && s->tls_note[0])
				memcpy(out->tls_note, s->tls_note, sizeof(out->tls_note));
			if (out->diag)
				diag_run_add(out->diag, &s->diag, &s->diag_h);
		}
		if (s->first_send_ns && (!out->first_send || s->first_send_ns < out->first_send))
			out->first_send = s->first_send_ns;
		if (s->last_recv_ns > out->last_recv)
			out->last_recv = s->last_recv_ns;
		if (s->publish_start_ns && (!t0 || s->publish_start_ns < t0))
			t0 = s->publish_start_ns;
		if (s->publish_start_ns > out->t_all_up)
			out->t_all_up = s->publish_start_ns;
		if (s->end_ns > t_end)
			t_end = s->end_ns;
		if (s->last_send_ns > t_last_send)
			t_last_send = s->last_send_ns;
		rss += s->rss_bytes;
		peak += s->peak_conns;
		out->backlog += s->backlog_at_stop;
		if (s->drained_ns > out->drained)
			out->drained = s->drained_ns;
		/* The most telling reason wins: a signal, then lost connections. */
		if (stop_why_outranks(s->stop_why, why))
			why = s->stop_why;
	}
	if (!t0)
		t0 = shm->start_ns;
	if (t_end < t0)
		t_end = t0;
	/* Whatever a killed worker left in flight is unacked. */
	if (total.sent > total.acked + total.failed + total.unacked && rc)
		total.unacked = total.sent - total.acked - total.failed;

	out->total = total;
	out->t_start = shm->start_ns;
	out->t0 = t0;
	out->t_end = t_end;
	out->t_last_send = t_last_send;
	out->rss = rss;
	out->peak = peak;
	out->why = why;
	out->rc = rc;
	series_begin_run(series, NULL);
	munmap(shm, shm_size);
	return rc;
}

/* What the wire probe has seen so far (zeros without a probe): its real
 * retransmissions (not tail-loss probes or duplicates the receiver
 * reported: an idle loopback connection sends those with nothing lost) and
 * the smoothed RTTs of the flows it followed. */
struct probe_snap {
	uint64_t retransmits, segs_out, srtt_us_sum, srtt_flows;
};

static struct probe_snap probe_snapshot(void)
{
	struct wire_stats *ws = probe ? malloc(sizeof(*ws)) : NULL;
	struct probe_snap s = { 0 };

	if (ws && probe_read(probe, ws) == 0)
		s = (struct probe_snap){ ws->retrans_real, ws->segs_out, ws->srtt_us_sum, ws->srtt_flows };
	free(ws);
	return s;
}

/* One --find-limit trial: a run as configured, its figures for the search. */
static int limit_trial_run(void *ctx, struct blast_opts *o, struct limit_run *lr)
{
	struct run_out one = { .lat = lr->lat, .raw = lr->raw, .con = lr->con, .e2e = lr->e2e,
			       .diag = lr->diag };
	struct probe_snap before = probe_snapshot();
	int r = run(o, ctx, &one);

	/* The wire's view of the trial: a broker near its limit shows in
	 * retransmissions and a growing RTT before it shows in errors. */
	struct probe_snap after = probe_snapshot();
	lr->retransmits = after.retransmits - before.retransmits;
	lr->segs_out = after.segs_out - before.segs_out;
	lr->probed = probe != NULL;
	if (after.srtt_flows > before.srtt_flows)
		lr->srtt_us = (after.srtt_us_sum - before.srtt_us_sum) /
			      (after.srtt_flows - before.srtt_flows);
	lr->t = one.total;
	lr->publish_s = one.t_last_send > one.t0 ? (double)(one.t_last_send - one.t0) / 1e9 : 0;
	/* Publishing and draining, without the goodbyes. */
	lr->duration_s = (double)((one.drained > one.t0 ? one.drained : one.t_end) - one.t0) / 1e9;
	lr->ramp_s = one.t0 > one.t_start ? (double)(one.t0 - one.t_start) / 1e9 : 0;
	lr->backlog_at_stop = one.backlog;
	lr->peak_conns = one.peak;
	lr->rss_bytes = one.rss;
	lr->stop_reason = stop_why_name(one.why);
	lr->interrupted = signals_seen != 0;
	return r;
}

/* --find-limit: the search runs the trials; the series spans them all. */
static int limit_and_report(struct blast_opts *o, struct kafka_meta *kmeta)
{
	struct series ser;

	if (series_init(&ser, o->hlog_path != NULL) < 0) {
		fprintf(stderr, "blast: out of memory\n");
		return 3;
	}
	series = &ser;
	int r = limit_search_run(o, limit_trial_run, kmeta, &ser, report_emit,
				 dashboard_limit_watch(dash, o->limit.mode == LIMIT_CONNS));
	dashboard_finish(dash, NULL, "find-limit", o->html_path);
	/* A capture spans every trial: closed and summed up on stderr. */
	struct wire_stats *wire_pcap = o->pcap_path ? malloc(sizeof(*wire_pcap)) : NULL;
	if (wire_pcap)
		capture_finish(wire_pcap);
	free(wire_pcap);
	series_free(&ser);
	series = NULL;
	return r;
}

/* Plaintext to a TLS port that closed or reset every connection without
 * a word (OpenSSL's servers do): asked once in TLS, the port answers, so
 * those failures are named for what they were, with the scheme to use. */
static void plain_to_tls_port(const struct blast_opts *o, struct blast_totals *t, char *note,
			      size_t cap)
{
	uint64_t silent = t->errors[ERR_CONN_RESET] + t->errors[ERR_CONN_CLOSED] +
			  t->errors[ERR_UPGRADE_CLOSED];

	if (o->tls || !o->n_targets || t->conns_ok || !t->conns_failed || silent < t->conns_failed ||
	    note[0] || !tls_port_answers_tls(&o->targets[0], 2000))
		return;
	t->errors[ERR_TLS_PLAIN_CLIENT] += silent;
	t->errors[ERR_CONN_RESET] = t->errors[ERR_CONN_CLOSED] = t->errors[ERR_UPGRADE_CLOSED] = 0;
	snprintf(note, cap, "%.60s:%u closed every plaintext connection unanswered and answers in "
			    "TLS: a TLS port; use %s", o->targets[0].host, o->targets[0].port,
		 tls_scheme_hint(o));
}

/* Runs once, or once per --steps batch, then reports. */
static int run_and_report(struct blast_opts *o, struct kafka_meta *kmeta)
{
	struct hist *stage[HS__COUNT];
	for (unsigned k = 0; k < HS__COUNT; k++)
		stage[k] = hist_new();
	struct run_out all = { .lat = hist_new(), .raw = hist_new(), .con = hist_new(), .e2e = hist_new(),
			       .diag = diag_run_new(), .stage = stage };
	struct step_row steps[64];
	unsigned n_steps = 0;
	int rc = 0;
	struct series ser;

	/* The report keeps each second's histogram too, for `blast merge`. */
	if (series_init(&ser, o->hlog_path || o->report_path || o->seconds_to) < 0) {
		fprintf(stderr, "blast: out of memory\n");
		return 3;
	}
	series = &ser;
	bool stages_ok = true;
	for (unsigned k = 0; k < HS__COUNT; k++)
		stages_ok = stages_ok && stage[k];
	if (!all.lat || !all.raw || !all.con || !all.e2e || !all.diag || !stages_ok) {
		fprintf(stderr, "blast: out of memory\n");
		return 3;
	}
	unsigned rounds = o->n_steps ? o->n_steps : 1;
	for (unsigned k = 0; k < rounds && !signals_seen; k++) {
		struct run_out one = { .lat = hist_new(), .raw = hist_new(), .con = hist_new(),
				       .e2e = hist_new(), .diag = all.diag, .stage = stage };
		if (!one.lat || !one.raw || !one.con || !one.e2e) {
			fprintf(stderr, "blast: out of memory\n");
			return 3;
		}
		if (o->n_steps) {
			o->messages = o->steps[k];
			o->has_messages = true;
		}
		int r = run(o, kmeta, &one);
		if (r && !rc)
			rc = r;
		totals_add(&all.total, &one.total);
		hist_add(all.lat, one.lat);
		hist_add(all.raw, one.raw);
		hist_add(all.con, one.con);
		hist_add(all.e2e, one.e2e);
		if (!all.t0 || one.t0 < all.t0)
			all.t0 = one.t0;
		if (!all.t_all_up)
			all.t_all_up = one.t_all_up;
		if (one.t_end > all.t_end)
			all.t_end = one.t_end;
		if (one.t_last_send > all.t_last_send)
			all.t_last_send = one.t_last_send;
		if (!all.first_send || (one.first_send && one.first_send < all.first_send))
			all.first_send = one.first_send;
		if (one.last_recv > all.last_recv)
			all.last_recv = one.last_recv;
		all.rss = one.rss > all.rss ? one.rss : all.rss;
		all.peak = one.peak > all.peak ? one.peak : all.peak;
		if (stop_why_outranks(one.why, all.why))
			all.why = one.why;
		if (!all.tls_note[0])
			memcpy(all.tls_note, one.tls_note, sizeof(all.tls_note));
		if (o->n_steps) {
			struct step_row *st = &steps[n_steps++];
			st->batch = o->steps[k];
			st->sent = one.total.sent;
			st->expected = fanout_expected(o, &one.total);
			st->received = one.total.received;
			st->duplicates = one.total.duplicates;
			st->send_s = one.t_last_send > one.first_send && one.first_send ?
					     (double)(one.t_last_send - one.first_send) / 1e9 : 0;
			st->total_s = one.last_recv > one.first_send && one.first_send ?
					      (double)(one.last_recv - one.first_send) / 1e9 : 0;
			st->p50_ns = hist_percentile(one.e2e, 50);
			st->p99_ns = hist_percentile(one.e2e, 99);
		}
		free(one.lat);
		free(one.raw);
		free(one.con);
		free(one.e2e);
	}
	struct blast_totals *total = &all.total;
	plain_to_tls_port(o, total, all.tls_note, sizeof(all.tls_note));
	/* Whatever a killed worker left in flight is unacked. */
	if (total->sent > total->acked + total->failed + total->unacked && rc)
		total->unacked = total->sent - total->acked - total->failed;
	struct blast_results res = {
		.opts = o,
		.t = *total,
		.duration_s = (double)(all.t_end - all.t0) / 1e9,
		.publish_s = all.t_last_send > all.t0 ? (double)(all.t_last_send - all.t0) / 1e9 : 0,
		.startup_s = all.t0 > launch_ns ? (double)(all.t0 - launch_ns) / 1e9 : 0,
		.all_up_s = all.t_all_up > launch_ns ? (double)(all.t_all_up - launch_ns) / 1e9 : 0,
		.setup_user_s = (double)setup_usage.ru_utime.tv_sec + setup_usage.ru_utime.tv_usec / 1e6,
		.setup_sys_s = (double)setup_usage.ru_stime.tv_sec + setup_usage.ru_stime.tv_usec / 1e6,
		.latency = all.lat,
		.latency_raw = all.raw,
		.connect = all.con,
		.tls_note = all.tls_note[0] ? all.tls_note : NULL,
		.e2e = all.e2e,
		.diag = all.diag,
		.peak_conns = all.peak,
		.rss_bytes = all.rss,
		.stop_reason = stop_why_name(all.why),
		.steps = steps,
		.n_steps = n_steps,
	};
	if (all.first_send) {
		uint64_t mono = mono_ns(), wall = wall_ns();
		res.first_send_wall_ms = (double)(wall - (mono - all.first_send)) / 1e6;
	}
	for (unsigned k = 0; k < HS__COUNT; k++)
		res.stage[k] = stage[k];
	if (opts_fanout(o)) {
		res.expected = fanout_expected(o, total);
		res.send_s = all.t_last_send > all.first_send && all.first_send ?
				     (double)(all.t_last_send - all.first_send) / 1e9 : 0;
		res.batch_s = all.last_recv > all.first_send && all.first_send ?
				      (double)(all.last_recv - all.first_send) / 1e9 : 0;
	}
	/* Clean means nothing failed. Errors that were retried to success
	 * (a Kafka leader move) are reported, but do not fail the run. */
	bool clean = total->conns_failed == 0 && total->conns_dropped == 0 && total->failed == 0 &&
		     total->unacked == 0 &&
		     (total->acked > 0 || (o->has_messages && o->messages == 0) ||
		      (opts_subscribe_only(o) && total->received > 0)) &&
		     all.why != STOP_CONNS_LOST &&
		     (!opts_fanout(o) || total->received >= res.expected) &&
		     !fanout_refused(total);
	/* MQTT fan-out whose filter matched nothing measured nothing. */
	bool nothing_matched = o->proto == PROTO_MQTT && opts_fanout(o) && !o->fanout &&
			       total->sent && !total->matched && !total->share_receipts;
	if (nothing_matched) {
		fprintf(stderr, "blast: --sub-topic %s%s matches none of the %" PRIu64
				" messages sent (--topic %s): nothing to receive\n",
			o->sub_topic, o->n_sub_topics > 1 ? " (nor any other)" : "", total->sent,
			o->topic);
		clean = false;
	}
	if (opts_subscribe_only(o) && !total->received) {
		fprintf(stderr, "blast: --publishers 0: nothing was delivered to --sub-topic %s%s "
				"in %.1f s (is anything publishing there?)\n",
			o->sub_topic, o->n_sub_topics > 1 ? " (nor the others)" : "", res.duration_s);
		clean = false;
	}
	if (fanout_refused(total))
		fprintf(stderr, "blast: the broker refused %" PRIu64 " subscription(s) to %s%s "
				"(errors suback:*)\n", fanout_refused(total), o->sub_topic,
			o->n_sub_topics > 1 ? " and the other --sub-topic filters" : "");
	if (!rc)
		rc = clean ? 0 : 1;
	res.exit_status = rc;
	/* The first TLS failure, in OpenSSL's words: one line. */
	if (all.tls_note[0])
		fprintf(stderr, "blast: %s\n", all.tls_note);
	/* A refused upgrade is the one failure a user must not miss. */
	for (unsigned i = 0; i < 600; i++)
		if (total->http_status[i])
			fprintf(stderr, "blast: WebSocket upgrade refused with HTTP %u on %" PRIu64
					" connection(s)\n", i, total->http_status[i]);
	report_upgrade_refusals(stderr, total, o);
	struct wire_stats *wire = probe ? malloc(sizeof(*wire)) : NULL;
	if (wire && probe_read(probe, wire) == 0)
		res.wire_probe = wire;
	struct wire_stats *wire_pcap = o->pcap_path ? malloc(sizeof(*wire_pcap)) : NULL;
	if (wire_pcap && capture_finish(wire_pcap))
		res.wire_pcap = wire_pcap;
	rc = report_emit(&res, &ser, NULL, NULL);
	dashboard_finish(dash, total, res.stop_reason, o->html_path);
	series_free(&ser);
	series = NULL;
	free(all.lat);
	free(all.raw);
	free(all.con);
	free(all.e2e);
	for (unsigned k = 0; k < HS__COUNT; k++)
		free(stage[k]);
	diag_run_free(all.diag);
	free(wire);
	free(wire_pcap);
	return rc;
}

/* TLS: OpenSSL reads every file and list once, before any connection;
 * and the probe is told what it cannot see. */
static int tls_check(const struct blast_opts *o)
{
	char err[400];

	if (tls_config_check(o, err, sizeof(err)) < 0) {
		fprintf(stderr, "blast: %s\n", err);
		return BLAST_EXIT_USAGE;
	}
	if (o->probe)
		fprintf(stderr, "blast: --probe: the wire is TLS, so the probe cannot read messages "
				"inside it; it still counts segments, bytes, RTT and retransmits\n");
	return 0;
}

/* `blast --control URL --agents N <run flags>`. A --config file is read
 * here: the agents get its flags, not a path to a file their machines may
 * not have. */
static int coordinate(int argc, char **argv)
{
	struct coord_cfg c = { 0 };
	struct split_whole whole;
	struct config_args ca;
	int r = config_expand(argc, argv, &ca);

	if (!r)
		r = coord_setup(ca.argc, ca.argv, &c, &whole);

	if (r == 1)
		r = 0; /* --help or --version said it all */
	else if (r == 0)
		r = c.dashboard ? coord_page_main(&c, &whole) : coord_run(&c, &whole);
	free(c.run_argv);
	config_args_free(&ca);
	return r;
}

int main(int argc, char **argv)
{
	struct blast_opts o;

	launch_ns = mono_ns();
	/* Every command writes sockets (the ring, the control link, TLS through
	 * OpenSSL's write(2)): a peer that closed is an error to report, never
	 * a signal that ends the process. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "analyze"))
		return analyze_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "merge"))
		return merge_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "agent"))
		return agent_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "dashboard"))
		return control_dash_main(argc - 1, argv + 1);
	if (coord_wanted(argc, argv))
		return coordinate(argc, argv);
	int r = opts_parse(&o, argc, argv);

	if (r == 1)
		return 0;
	if (r)
		return r;
	/* Bounded by default: a run never goes on without an end (a
	 * connect-only run, --messages 0, holds its connections 10 s). */
	if ((!o.has_messages || o.messages == 0) && !o.duration_ns)
		o.duration_ns = 10 * NSEC_PER_SEC;
	r = opts_check_targets(&o);
	if (!r && o.tls)
		r = tls_check(&o);
	if (r) {
		opts_free(&o);
		return r;
	}
	char page_tmp[PATH_MAX];
	tmp_path(page_tmp, sizeof(page_tmp), "blast-dashboard-XXXXXX");
	if (o.dashboard && !(dash = dashboard_open_run(&o, page_tmp))) {
		opts_free(&o);
		return BLAST_EXIT_USAGE;
	}
	struct kafka_meta kmeta = { 0 };
	uint32_t total_conns = o.conns;
	if (o.proto == PROTO_KAFKA) {
		if (o.key && o.n_partitions) {
			fprintf(stderr, "blast: --key and --partitions cannot be combined: the key "
					"decides the partition\n");
			opts_free(&o);
			return BLAST_EXIT_USAGE;
		}
		r = kafka_bootstrap(&o, &kmeta);
		if (!r)
			r = kafka_meta_shard(&kmeta, &o);
		if (r) {
			opts_free(&o);
			return r;
		}
		/* Each worker needs a connection to every broker. */
		total_conns = o.conns;
	}
	if (o.rx_stamps == RX_STAMPS_SEGMENT) {
		/* Asked for outright: refuse now, not from every worker. */
		struct rxseg *trial = NULL;
		char why[160];
		if (rxseg_open(&trial, 1, why, sizeof(why)) < 0) {
			fprintf(stderr, "blast: --rx-stamps segment: %s\n", why);
			kafka_meta_free(&kmeta);
			opts_free(&o);
			return BLAST_EXIT_USAGE;
		}
		rxseg_close(trial);
	}
	if (o.workers > total_conns)
		o.workers = total_conns;
	if (o.workers < 1)
		o.workers = 1;
	r = capture_open(&o, &kmeta);
	if (r) {
		kafka_meta_free(&kmeta);
		opts_free(&o);
		return r;
	}
	if (o.probe)
		probe = probe_start(&o, &kmeta);
	r = o.limit.mode ? limit_and_report(&o, &kmeta) : run_and_report(&o, &kmeta);
	probe_stop(probe);
	if (dash) {
		/* The final report stays up until Ctrl-C or --dashboard-linger. */
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		dashboard_close_run(dash, &o, page_tmp, &signals_seen);
	}
	kafka_meta_free(&kmeta);
	opts_free(&o);
	return r;
}
