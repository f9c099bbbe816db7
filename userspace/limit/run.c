/* --find-limit's driver: sets up each trial, runs it through the runner
 * main.c hands in (its run(): fork the workers, merge their figures), asks
 * limit.c for the verdict and the next rate, and reports. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats/clock.h"
#include "stats/diag.h"
#include "limit/limit.h"
#include "config/opts.h"

#define DEFAULT_START_RATE 100
#define DEFAULT_START_CONNS 100
#define DEFAULT_CEILING_RATE 10000000ull
#define DEFAULT_CEILING_CONNS 1000000ull
#define DEFAULT_START_CONN_RATE 100
#define DEFAULT_CEILING_CONN_RATE 1000000ull
/* Connect-rate trials measure the ramp; the connections are then held
 * this long, enough to see them dropped. */
#define CONN_RATE_HOLD_NS 200000000ull

/* A finished trial, kept so that the answer's can be reported in full. */
struct stored {
	struct blast_totals t;
	struct hist *lat, *raw, *con, *e2e;
	struct diag_run *diag;
	double publish_s, duration_s;
	uint64_t peak, rss, rate, conns, duration_ns;
	uint32_t workers, ramp, inflight;
};

static void stored_drop(struct stored *s)
{
	free(s->lat);
	free(s->raw);
	free(s->con);
	free(s->e2e);
	diag_run_free(s->diag);
	s->lat = s->raw = s->con = s->e2e = NULL;
	s->diag = NULL;
}

static uint64_t fanout_of(const struct blast_opts *o)
{
	return o->fanout ? o->fanout : o->conns;
}

static void measure(const struct blast_opts *o, const struct limit_run *lr, uint64_t offered,
		    double planned_s, struct limit_measure *m)
{
	const struct blast_totals *t = &lr->t;
	const struct hist *h = o->proto == PROTO_WS ? lr->e2e : lr->lat;

	memset(m, 0, sizeof(*m));
	m->offered = offered;
	m->conns = o->conns;
	m->planned_s = planned_s;
	m->publish_s = lr->publish_s;
	m->duration_s = lr->duration_s;
	m->ramp_s = lr->ramp_s;
	m->sent = t->sent;
	m->acked = t->acked;
	m->failed = t->failed;
	m->unacked = t->unacked;
	m->not_sent = t->not_sent;
	m->backlog_at_stop = lr->backlog_at_stop;
	if (o->proto == PROTO_WS) {
		/* Fan-out: a receipt that never came is a lost message. */
		uint64_t expected = t->sent * fanout_of(o);
		m->lost_receipts = expected > t->received ? expected - t->received : 0;
	}
	m->errors = totals_error_count(t);
	m->conns_ok = t->conns_ok;
	m->conns_failed = t->conns_failed;
	m->conns_dropped = t->conns_dropped;
	m->peak_conns = lr->peak_conns;
	m->p50_ns = hist_percentile(h, 50);
	m->p90_ns = hist_percentile(h, 90);
	m->p99_ns = hist_percentile(h, 99);
	m->p999_ns = hist_percentile(h, 99.9);
	/* The lag test compares against the sender's own latency. */
	m->mean_ns = lr->lat->total ? hist_mean(lr->lat) : hist_mean(h);
	m->connect_p50_ns = hist_percentile(lr->con, 50);
	m->connect_p90_ns = hist_percentile(lr->con, 90);
	m->connect_p99_ns = hist_percentile(lr->con, 99);
	m->connect_p999_ns = hist_percentile(lr->con, 99.9);
	m->connect_count = lr->con->total;
	m->interrupted = lr->interrupted;
}

static void progress(const struct blast_opts *o, unsigned i, const struct limit_trial *tr,
		     bool full)
{
	if (o->quiet)
		return;
	if (tr->conn_rate)
		fprintf(stderr, "[limit] trial %u: %" PRIu64 " conn/s, %" PRIu64 " conns%s -> opened "
				"%.0f/s, connect p99 %.1fus: %s (%s)\n",
			i + 1, tr->offered, tr->conns, full ? " (full)" : "", tr->achieved,
			(double)tr->p99_ns / 1e3, tr->pass ? "pass" : "FAIL", tr->why);
	else if (o->limit.mode == LIMIT_CONNS)
		fprintf(stderr, "[limit] trial %u: %" PRIu64 " conns%s -> held %.0f, %.0f conn/s, "
				"connect p99 %.1fus: %s (%s)\n",
			i + 1, tr->offered, full ? " (full)" : "", tr->achieved, tr->acked_rate,
			(double)tr->p99_ns / 1e3, tr->pass ? "pass" : "FAIL", tr->why);
	else
		fprintf(stderr, "[limit] trial %u: %" PRIu64 " msg/s for %.1fs%s, --inflight %u "
				"--workers %u -> acked %.0f/s, p99 %.1fus: %s (%s)%s%s%s%s\n",
			i + 1, tr->offered, tr->duration_s, full ? " (full)" : "", tr->inflight,
			tr->workers, tr->acked_rate, (double)tr->p99_ns / 1e3,
			tr->pass ? "pass" : "FAIL", tr->why, tr->judged ? "; bottleneck: " : "",
			tr->judged ? bottleneck_name(tr->bottleneck) : "",
			tr->widened[0] ? ", rerun with " : tr->client_bound ? ", client-bound" : "",
			tr->widened);
}

/* A rate trial's own verdict on its bottleneck (as report/diagnosis.c
 * judges a run): the probe's segments when it watched, else TCP_INFO's. */
static void judge(const struct limit_run *lr, struct limit_trial *tr)
{
	const struct diag_run *dr = lr->diag;
	struct verdict v;

	if (!dr)
		return;
	struct verdict_in in = {
		.paced = true,
		.sent = lr->t.sent,
		.not_sent = lr->t.not_sent,
		.unacked = lr->t.unacked,
		.late_p99_ns = hist_percentile(&dr->h->late, 99),
		.d = &dr->c,
		.retrans = lr->probed ? lr->retransmits : dr->c.tcp_retrans,
		.segs_out = lr->probed ? lr->segs_out : dr->c.tcp_segs_out,
		.retrans_from = lr->probed ? "probe" : "tcp_info",
	};
	verdict_decide(&in, &v);
	tr->judged = 1;
	tr->bottleneck = (uint8_t)v.what;
	snprintf(tr->evidence, sizeof(tr->evidence), "%s", v.evidence);
}

/* Appends to a trial's evidence, "; " between. */
static void evidence_add(struct limit_trial *tr, const char *a, const char *b)
{
	size_t used = strlen(tr->evidence);

	snprintf(tr->evidence + used, sizeof(tr->evidence) - used, "%s%s%s", used ? "; " : "", a, b);
}

/* Sets o up for one trial. A connect-rate trial asks --ramp offered for
 * dur_ns (at most held connections: the count found), then holds them. */
static void plan(struct blast_opts *o, uint32_t base_workers, uint8_t mode, uint64_t offered,
		 uint64_t dur_ns, uint64_t held)
{
	o->duration_ns = dur_ns;
	if (mode == LIMIT_CONN_RATE) {
		o->ramp = (uint32_t)offered;
		offered = limit_ramp_conns(offered, (double)dur_ns / 1e9, held);
		o->duration_ns = CONN_RATE_HOLD_NS;
	}
	if (o->limit.mode == LIMIT_CONNS) {
		/* Connect and hold: each worker process stays under the open
		 * files limit, so more connections take more workers. */
		uint64_t w = (offered + BLAST_CONNS_PER_WORKER - 1) / BLAST_CONNS_PER_WORKER;
		o->conns = (uint32_t)offered;
		o->has_messages = true;
		o->messages = 0;
		if (w < base_workers)
			w = base_workers;
		if (w > BLAST_MAX_WORKERS)
			w = BLAST_MAX_WORKERS;
		if (w > offered)
			w = offered;
		o->workers = (uint32_t)w;
	} else {
		o->rate = offered;
	}
}

static void no_answer_line(const struct blast_opts *o, const struct limit_trial *tr, unsigned n,
			   const char *end)
{
	const char *unit = o->limit.mode == LIMIT_CONNS ? "connections" : "msg/s";
	unsigned low = 0;

	if (!n) {
		fprintf(stderr, "blast: --find-limit: no trial ran (%s)\n", end);
		return;
	}
	for (unsigned i = 1; i < n; i++)
		if (tr[i].offered < tr[low].offered)
			low = i;
	if (!strcmp(end, "no_rate_held"))
		fprintf(stderr, "blast: --find-limit: no sustainable rate: short trials passed but every "
				"full-length trial failed, the last at %" PRIu64 " %s (%s)\n",
			tr[n - 1].offered, unit, tr[n - 1].why);
	else
		fprintf(stderr, "blast: --find-limit: no %s passed: even %" PRIu64 " %s failed (%s)\n",
			o->limit.mode == LIMIT_CONNS ? "connection count" : "rate", tr[low].offered, unit,
			tr[low].why);
}

/* One search (connection count, connect rate, or message rate) and the
 * trials it ran, appended to trials[] and st[] from x->n on. */
struct searcher {
	struct blast_opts *o;
	limit_runner run;
	void *ctx;
	const struct limit_watch *watch;
	struct limit_trial *trials;
	struct stored *st;
	unsigned n;
	uint64_t t_begin, overhead, short_ns;
	uint32_t base_workers;
	struct limit_client cl; /* rate trials: the window and workers they run with */
	unsigned widens;        /* reruns for the client's own failures */
	bool quiet;
	int rc;
	bool stop; /* a signal or a failure of blast: no further stage */
};

/* A rate trial failed for the client's own reason: sets the window or the
 * workers up for a rerun at the same rate and returns true; or marks the
 * trial client-bound, saying why blast cannot go further; or, when its
 * window was deep enough for the SLO, says the failure is the broker's. */
static bool widen(struct searcher *x, const struct limit_run *lr, struct limit_trial *tr)
{
	const struct diag_counts *d = &lr->diag->c;
	enum limit_widened w = LIMIT_CLIENT_BOUND;
	char what[160];

	x->cl.offered = tr->offered;
	x->cl.busy = d->busiest_runq_pm > d->busiest_cpu_pm;

	x->cl.enough = limit_window_enough(&x->o->limit, tr->offered, x->o->conns);
	if (x->widens >= LIMIT_MAX_WIDEN)
		snprintf(what, sizeof(what), "%u reruns already", x->widens);
	else
		w = limit_widen(tr->bottleneck, &x->cl, what, sizeof(what));
	if (w == LIMIT_RERUN) {
		snprintf(tr->widened, sizeof(tr->widened), "%.90s", what);
		x->o->inflight = x->cl.inflight;
		x->o->workers = x->cl.workers;
		x->widens++;
		return true;
	}
	tr->client_bound = w == LIMIT_CLIENT_BOUND;
	evidence_add(tr, tr->client_bound ? "blast cannot go further: " : "", what);
	return false;
}

/* Runs one stage to its end: returns why it ended, its answer (an index
 * into x->trials, -1 if none) in *ans. */
static const char *run_stage(struct searcher *x, uint8_t mode, uint64_t start, uint64_t ceiling,
			     uint64_t held, int *ans)
{
	const struct limit_cfg *cfg = &x->o->limit;
	struct blast_opts *o = x->o;
	unsigned first = x->n, cap = first + LIMIT_MAX_TRIALS;
	struct limit_search s;
	const char *end = NULL;
	uint64_t offered;
	bool full, confirmed;

	limit_search_init(&s, start, ceiling, 1);
	if (mode != LIMIT_CONN_RATE)
		o->limit.ceiling = s.ceiling; /* the one in force, for the report */
	while (limit_search_next(&s, &offered, &full)) {
		uint64_t dur = full ? cfg->trial_ns : x->short_ns;
		uint64_t now = mono_ns();
		if (x->n >= cap) {
			end = "trial_limit";
			break;
		}
		if (now - x->t_begin + dur + x->overhead > cfg->timeout_ns) {
			end = "search_timeout";
			break;
		}
		plan(o, x->base_workers, mode, offered, dur, held);
		struct stored *k = &x->st[x->n];
		struct limit_run lr = { .lat = hist_new(), .raw = hist_new(), .con = hist_new(),
					.e2e = hist_new(), .diag = diag_run_new() };
		k->lat = lr.lat, k->raw = lr.raw, k->con = lr.con, k->e2e = lr.e2e, k->diag = lr.diag;
		if (!lr.lat || !lr.raw || !lr.con || !lr.e2e || !lr.diag) {
			fprintf(stderr, "blast: out of memory\n");
			x->rc = 3;
			x->stop = true;
			break;
		}
		int r = x->run(x->ctx, o, &lr);
		x->overhead = mono_ns() - now > dur ? mono_ns() - now - dur : 0;
		k->t = lr.t;
		k->publish_s = lr.publish_s;
		k->duration_s = lr.duration_s;
		k->peak = lr.peak_conns;
		k->rss = lr.rss_bytes;
		k->rate = o->rate;
		k->conns = o->conns;
		k->duration_ns = o->duration_ns;
		k->workers = o->workers;
		k->ramp = o->ramp;
		k->inflight = o->inflight;

		struct limit_measure m;
		unsigned i = x->n;
		measure(o, &lr, offered, (double)o->duration_ns / 1e9, &m);
		m.broken = r == 3 && !lr.interrupted;
		struct limit_trial *tr = &x->trials[i];
		limit_verdict(cfg, mode, &m, tr);
		tr->retransmits = lr.retransmits;
		tr->srtt_us = lr.srtt_us;
		tr->inflight = o->inflight;
		tr->workers = o->workers;
		bool rerun = false;
		if (mode == LIMIT_RATE && !m.broken && !lr.interrupted) {
			judge(&lr, tr);
			if (!tr->pass && limit_client_fault(tr->bottleneck))
				rerun = widen(x, &lr, tr);
		}
		o->quiet = x->quiet;
		progress(o, i, &x->trials[i], full);
		o->quiet = true;
		x->n++;
		if (x->watch && x->watch->trials)
			x->watch->trials(x->watch->arg, x->trials, x->n);
		if (lr.interrupted) {
			end = "signal";
			x->stop = true;
			break;
		}
		if (m.broken) {
			x->rc = 3;
			end = "blast_failed";
			x->stop = true;
			break;
		}
		/* A client's failure rerun wider is not the search's to see. */
		if (!rerun)
			limit_search_record(&s, (int)(i - first), tr->pass);
		/* A failed trial is never the answer: keep only the newest one's
		 * histograms, for a report with no answer. */
		if (i >= first + 1 && !x->trials[i - 1].pass)
			stored_drop(&x->st[i - 1]);
	}
	if (!end)
		end = s.end ? s.end : "unknown";
	int a = limit_search_answer(&s, x->trials + first, x->n - first, &confirmed);
	*ans = a >= 0 ? (int)first + a : -1;
	return end;
}

/* Conns: the count held, but no connect rate did (or none was tried). */
static void no_rate_line(const struct limit_trial *tr, unsigned n, const char *end)
{
	int low = -1;

	for (unsigned i = 0; i < n; i++)
		if (tr[i].conn_rate && (low < 0 || tr[i].offered < tr[low].offered))
			low = (int)i;
	if (low < 0)
		fprintf(stderr, "blast: --find-limit conns: no connect rate was tried (%s)\n", end);
	else if (!strcmp(end, "no_rate_passed"))
		fprintf(stderr, "blast: --find-limit conns: no connect rate held: even %" PRIu64
				" conn/s failed (%s)\n", tr[low].offered, tr[low].why);
	else
		fprintf(stderr, "blast: --find-limit conns: no connect rate held (%s): the last, %" PRIu64
				" conn/s, failed (%s)\n", end, tr[n - 1].offered, tr[n - 1].why);
}

/* What is said on stderr after the summary when the search fell short. */
struct shortfall {
	const struct blast_opts *o;
	const struct limit_trial *trials;
	unsigned n;
	int ans, rate_ans;
	bool conns_mode, rate_missing;
	const char *end, *rate_end;
};

static void explain_shortfall(void *arg)
{
	const struct shortfall *s = arg;

	if (s->ans < 0)
		no_answer_line(s->o, s->trials, s->n, s->end);
	else if (s->rate_missing)
		no_rate_line(s->trials, s->n, s->rate_end);
	else if (s->conns_mode && s->rate_ans < 0 && !s->o->quiet)
		fprintf(stderr, "blast: --find-limit conns: the connect rate was not searched (the "
				"count's search ended: %s)\n", s->end);
}

/* The window and workers rate trials start with, and their bounds: a
 * window only where acks are waited for (MQTT QoS 1 and 2, Kafka). */
static void client_init(struct limit_client *c, const struct blast_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	c->inflight = o->inflight;
	c->inflight_max = o->proto == PROTO_KAFKA ? LIMIT_INFLIGHT_MAX_KAFKA
			  : o->proto == PROTO_MQTT && o->qos ? LIMIT_INFLIGHT_MAX_MQTT
							    : 0;
	c->workers = o->workers;
	c->conns = o->conns;
	c->cores = cpus < 1 ? 1 : cpus > BLAST_MAX_WORKERS ? BLAST_MAX_WORKERS : (uint32_t)cpus;
}

int limit_search_run(struct blast_opts *o, limit_runner run, void *ctx, const struct series *ser,
		     limit_reporter emit, const struct limit_watch *watch)
{
	const struct limit_cfg *cfg = &o->limit;
	bool conns_mode = cfg->mode == LIMIT_CONNS;
	uint64_t start = conns_mode ? (o->conns > 1 ? o->conns : DEFAULT_START_CONNS)
				    : (o->rate ? o->rate : DEFAULT_START_RATE);
	uint64_t ceiling = cfg->ceiling ? cfg->ceiling
					: conns_mode ? DEFAULT_CEILING_CONNS : DEFAULT_CEILING_RATE;
	uint32_t ramp = o->ramp;
	struct searcher x = {
		.o = o, .run = run, .ctx = ctx, .watch = watch, .short_ns = cfg->trial_ns / 5,
		.base_workers = o->workers, .quiet = o->quiet,
		/* Both stages of conns: each one's trials. */
		.trials = calloc(2 * LIMIT_MAX_TRIALS, sizeof(struct limit_trial)),
		.st = calloc(2 * LIMIT_MAX_TRIALS, sizeof(struct stored)),
	};
	const char *end, *rate_end = NULL;
	int ans, rate_ans = -1;

	if (!x.trials || !x.st) {
		fprintf(stderr, "blast: out of memory\n");
		free(x.trials);
		free(x.st);
		return 3;
	}
	/* Short trials: a fifth of the full one, at least 1 s. */
	if (x.short_ns < NSEC_PER_SEC)
		x.short_ns = NSEC_PER_SEC;
	if (x.short_ns > cfg->trial_ns)
		x.short_ns = cfg->trial_ns;
	if (conns_mode && o->tokens.n && ceiling > o->tokens.n)
		ceiling = o->tokens.n;
	if (conns_mode) {
		/* --conns 1 (the default start) leaves one worker: use the cores. */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (cpus > (long)x.base_workers)
			x.base_workers = cpus > BLAST_MAX_WORKERS ? BLAST_MAX_WORKERS : (uint32_t)cpus;
	}
	client_init(&x.cl, o);
	/* One progress line per trial replaces the per-second live line. */
	o->quiet = true;
	x.t_begin = mono_ns();
	end = run_stage(&x, cfg->mode, start, ceiling, 0, &ans);
	/* Connections held: then how fast they can be opened, at most that
	 * many per trial, from --ramp (or 100/s) up. */
	if (conns_mode) {
		bool held = ans >= 0 && (!strcmp(end, "confirmed") || !strcmp(end, "ceiling"));
		if (held && !x.stop)
			rate_end = run_stage(&x, LIMIT_CONN_RATE,
					     ramp ? ramp : DEFAULT_START_CONN_RATE,
					     DEFAULT_CEILING_CONN_RATE, x.trials[ans].offered, &rate_ans);
		else
			rate_end = "not_run";
		o->ramp = ramp;
	}
	o->quiet = x.quiet;

	struct limit_trial *trials = x.trials;
	struct stored *st = x.st;
	unsigned n = x.n;
	int rc = x.rc;
	if (!n) {
		no_answer_line(o, trials, n, end);
		free(trials);
		free(st);
		return rc ? rc : 1;
	}
	struct stored *k = &st[ans >= 0 ? ans : (int)n - 1];
	o->rate = conns_mode ? o->rate : k->rate;
	o->conns = k->conns;
	o->duration_ns = k->duration_ns;
	o->workers = k->workers;
	o->ramp = k->ramp;
	o->inflight = k->inflight;
	struct blast_results res = {
		.opts = o,
		.t = k->t,
		.duration_s = k->duration_s,
		.publish_s = k->publish_s,
		.latency = k->lat,
		.latency_raw = k->raw,
		.connect = k->con,
		.e2e = k->e2e,
		.peak_conns = k->peak,
		.rss_bytes = k->rss,
		.stop_reason = end,
		.trials = trials,
		.n_trials = n,
		.limit_trial = ans,
		.diag = conns_mode ? NULL : k->diag,
		.limit_rate_trial = rate_ans >= 0 ? (unsigned)rate_ans + 1 : 0,
		.limit_rate_connect = rate_ans >= 0 ? st[rate_ans].con : NULL,
		.limit_rate_ended = rate_end,
	};
	if (o->proto == PROTO_WS)
		res.expected = k->t.sent * fanout_of(o);
	if (!conns_mode) {
		int b = limit_bound(trials, n, ans);
		res.limit_bound_trial = b >= 0 ? (unsigned)b + 1 : 0;
	}
	/* Conns: both answers, the most held and the fastest opened (unless
	 * the count's search was cut short: then there was no second stage). */
	bool rate_missing = conns_mode && rate_ans < 0 && strcmp(rate_end, "not_run");
	res.exit_status = rc ? rc : ans >= 0 && !rate_missing ? 0 : 1;
	struct shortfall why = { .o = o, .trials = trials, .n = n, .ans = ans, .rate_ans = rate_ans,
				 .conns_mode = conns_mode, .rate_missing = rate_missing,
				 .end = end, .rate_end = rate_end };
	if (watch && watch->answer)
		watch->answer(watch->arg, &res);
	res.exit_status = emit(&res, ser, explain_shortfall, &why);
	for (unsigned i = 0; i < n; i++)
		stored_drop(&st[i]);
	free(trials);
	free(st);
	return res.exit_status;
}
