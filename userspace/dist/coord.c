/* The coordinator (see coord.h). It listens on the control broker for
 * registrations (retained, so agents that came first are seen), their
 * heartbeats and their replies; assigns share i of N to the i-th agent by
 * name; sends GO with T0 two seconds ahead once all are ready; marks an
 * agent lost when its heartbeat stops for --heartbeat-timeout; and merges
 * the reports the agents send with DONE. Before GO it measures each
 * agent's clock (dist/clock.h); from the assignment on it beats to each
 * agent every second, and its Will tells them when it is gone; SIGINT
 * stops the agents' runs, which drain and report (dist/coord_watch.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/opts.h"
#include "config/version.h"
#include "dist/clock.h"
#include "dist/coord.h"
#include "dist/coord_dash.h"
#include "dist/coord_stats.h"
#include "dist/coord_watch.h"
#include "dist/link.h"
#include "dist/live.h"
#include "encoders/control.h"
#include "report/exact.h"
#include "report/merge.h"
#include "report/merge_read.h"
#include "stats/clock.h"
#include "stats/hist.h"
#include "stats/stats.h"

#define COORD_MAX_AGENTS 1024
#define COORD_READY_NS (30 * NSEC_PER_SEC) /* assignment to every agent connected */
#define COORD_GO_AHEAD_NS (2 * NSEC_PER_SEC)

struct peer {
	char name[128];
	bool registered, gone, ready, done, lost;
	bool refused;         /* another blast version, told once */
	int rank;             /* its place in --agents NAME,NAME (-1: not listed; 0: no list) */
	struct dist_clock clk;
	uint32_t clk_round;   /* the last time request it answered */
	uint64_t last_hb_ns;
	int exit_status;
	char *report;
	size_t report_len;
	/* For the live page: what it says of itself, and its last second. */
	char version[40];
	uint32_t cores;
	uint8_t hb_state;
	bool has_second, partial;
	uint64_t last_sec;
	double rate, p99_us;
	uint64_t errors[ERR__COUNT]; /* its run's errors by reason so far */
};

struct coord {
	const struct coord_cfg *c;
	struct link l;
	struct peer *p;
	size_t n;
	uint64_t run_id;
	unsigned refused; /* control messages that did not decode */
	struct live *live; /* the run's seconds, while it runs */
	bool *active;      /* [agents]: may still send seconds */
	struct coord_watch w; /* heartbeats, SIGINT, the clock exchange's round */
	struct coord_stats st; /* its own work, measured */
	bool going;        /* GO was sent */
	uint64_t next_dash_ns;   /* when the page's agent rows are due */
	struct hist *tmp;  /* an agent's second, for its p99 */
};

int coord_wanted(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "agent"))
		return 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--control") || !strncmp(argv[i], "--control=", 10))
			return 1;
	return 0;
}

static int seconds_arg(const char *flag, const char *v, uint64_t *ns)
{
	char *end;
	double s = strtod(v, &end);

	if (end == v || (*end && strcmp(end, "s")) || !(s > 0 && s <= 3600)) {
		fprintf(stderr, "blast: %s %s: must be seconds (3, 3s), above 0 and at most 3600\n",
			flag, v);
		return BLAST_EXIT_USAGE;
	}
	*ns = (uint64_t)(s * 1e9);
	return 0;
}

/* NAME's place in a --agents NAME,NAME list, or -1. */
static int name_rank(const char *list, const char *name, size_t len)
{
	int i = 0;

	for (const char *p = list;; i++) {
		size_t n = strcspn(p, ",");
		if (n == len && !memcmp(p, name, n))
			return i;
		if (!p[n])
			return -1;
		p += n + 1;
	}
}

/* --agents N, or --agents NAME,NAME (names as `blast agent --name` takes
 * them, each once). */
static int agents_arg(const char *v, struct coord_cfg *c)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v >= '0' && *v <= '9' && !*end) {
		if (n < 1 || n > COORD_MAX_AGENTS) {
			fprintf(stderr, "blast: --agents %s: must be 1 to %d\n", v, COORD_MAX_AGENTS);
			return BLAST_EXIT_USAGE;
		}
		c->agents = (uint32_t)n;
		c->agent_names = NULL;
		return 0;
	}
	n = 0;
	for (const char *p = v;; n++) {
		size_t len = strcspn(p, ",");
		if (!len || len > 100 || memchr(p, '/', len) || memchr(p, '+', len) ||
		    memchr(p, '#', len) || name_rank(v, p, len) != (int)n || n >= COORD_MAX_AGENTS) {
			fprintf(stderr, "blast: --agents %s: a count (1 to %d) or agent names separated "
					"by commas, each once, 1 to 100 characters, none of / + #\n",
				v, COORD_MAX_AGENTS);
			return BLAST_EXIT_USAGE;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	c->agents = (uint32_t)n + 1;
	c->agent_names = v;
	return 0;
}

int coord_args(int argc, char **argv, struct coord_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->hb_timeout_ns = 3 * NSEC_PER_SEC;
	c->wait_ns = 30 * NSEC_PER_SEC;
	c->max_clock_offset_ms = DIST_CLOCK_MAX_OFFSET_MS;
	c->run_argv = calloc((size_t)argc + 3, sizeof(char *)); /* room for --shard I/N */
	if (!c->run_argv)
		return 3;
	c->run_argv[c->run_argc++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char name[32];
		const char *eq = strchr(a, '=');
		bool joined = false; /* --flag=value */
		if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof(name)) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			static const char *const ours[] = { "--control", "--control-cacert",
							    "--control-cert", "--control-key",
							    "--control-username",
							    "--control-password", "--agents", "--heartbeat-timeout",
							    "--agents-timeout", "--report", "--csv",
							    "--hlog", "--html", "--max-clock-offset",
							    "--config", "--dashboard",
							    "--dashboard-linger" };
			for (size_t j = 0; j < sizeof(ours) / sizeof(ours[0]) && !joined; j++)
				joined = !strcmp(name, ours[j]);
			if (joined) {
				a = name;
				v = eq + 1;
			}
		}
		int t = link_cfg_arg(&c->link, "blast", a, v);
		if (t == -2)
			return BLAST_EXIT_USAGE;
		if (t >= 0) {
			c->url = c->link.host[0] ? c->link.url : NULL;
			i += t && !joined;
			continue;
		}
		char **out = !strcmp(a, "--report") ? &c->report : !strcmp(a, "--csv") ? &c->csv :
			     !strcmp(a, "--hlog") ? &c->hlog : !strcmp(a, "--html") ? &c->html : NULL;
		int r = 0;
		if (!strcmp(a, "--agents") && v) {
			if ((r = agents_arg(v, c)))
				return r;
		} else if (!strcmp(a, "--heartbeat-timeout") && v) {
			r = seconds_arg(a, v, &c->hb_timeout_ns);
		} else if (!strcmp(a, "--agents-timeout") && v) {
			r = seconds_arg(a, v, &c->wait_ns);
		} else if (!strcmp(a, "--max-clock-offset") && v) {
			r = coord_watch_ms_arg(a, v, &c->max_clock_offset_ms);
		} else if (out && v) {
			*out = (char *)v; /* the merged result's, not each agent's */
		} else if (!strcmp(a, "--config") && v) {
			/* Its flags are in argv already (config_expand): not passed on. */
		} else if (!strcmp(a, "--dashboard") && v) {
			c->dashboard = v;
		} else if (!strcmp(a, "--dashboard-linger") && v) {
			if (parse_duration_ns(v, &c->dashboard_linger_ns)) {
				fprintf(stderr, "blast: --dashboard-linger %s: expected a duration (30s, 5m)\n",
					v);
				return BLAST_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--shard") || !strcmp(a, "--shards") || !strcmp(a, "--start-at")) {
			fprintf(stderr, "blast: %s: the coordinator splits the run and picks T0 itself\n", a);
			return BLAST_EXIT_USAGE;
		} else {
			c->quiet |= !strcmp(a, "--quiet");
			c->run_argv[c->run_argc++] = argv[i];
			continue;
		}
		if (r)
			return r;
		i += !joined;
	}
	if (!c->url || !c->agents) {
		fprintf(stderr, "blast: --control mqtt://HOST:PORT needs --agents N (and the other way round)\n");
		return BLAST_EXIT_USAGE;
	}
	if (link_cfg_check(&c->link, "blast"))
		return BLAST_EXIT_USAGE;
	return 0;
}

int coord_setup(int argc, char **argv, struct coord_cfg *c, struct split_whole *whole)
{
	struct blast_opts o;
	char shard[32];
	int r = coord_args(argc, argv, c);

	if (r)
		return r;
	snprintf(shard, sizeof(shard), "0/%u", c->agents);
	c->run_argv[c->run_argc] = "--shard";
	c->run_argv[c->run_argc + 1] = shard;
	r = opts_parse(&o, c->run_argc + 2, c->run_argv);
	c->run_argv[c->run_argc] = NULL;
	c->run_argv[c->run_argc + 1] = NULL;
	if (r == 0) {
		*whole = o.shard_whole;
		opts_free(&o);
	}
	return r;
}

static struct peer *peer_of(struct coord *k, struct ctl_str name, bool add)
{
	for (size_t i = 0; i < k->n; i++)
		if (strlen(k->p[i].name) == name.len && !memcmp(k->p[i].name, name.p, name.len))
			return &k->p[i];
	if (!add || k->n >= COORD_MAX_AGENTS || name.len >= sizeof(k->p[0].name))
		return NULL;
	struct peer *p = realloc(k->p, (k->n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	k->p = p;
	p = &p[k->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name.p, name.len);
	return p;
}

/* An agent's own second, for its row on the live page. */
static void peer_second(struct coord *k, struct peer *p, const struct ctl_msg *m)
{
	if (m->u.sec.wall_sec > p->last_sec)
		p->last_sec = m->u.sec.wall_sec;
	for (uint16_t i = 0; i < m->u.sec.n_errors; i++) /* running totals, by name */
		for (int e = 0; e < ERR__COUNT; e++)
			if (m->u.sec.errors[i].name.len == strlen(blast_err_names[e]) &&
			    !memcmp(m->u.sec.errors[i].name.p, blast_err_names[e],
				    m->u.sec.errors[i].name.len))
				p->errors[e] = m->u.sec.errors[i].count;
	if (!k->c->dash || !k->tmp)
		return;
	hist_reset(k->tmp);
	if (m->u.sec.hist.len &&
	    exact_hist_from_v2((const uint8_t *)m->u.sec.hist.p, m->u.sec.hist.len, k->tmp))
		return;
	p->has_second = true;
	p->rate = (double)m->u.sec.c.sent * 1000.0 / (m->u.sec.len_ms ? m->u.sec.len_ms : 1000);
	p->p99_us = (double)hist_percentile(k->tmp, 99) / 1e3;
}

/* One control message. Returns -1 for an agent of another version. */
static int on_message(struct coord *k, const struct link_msg *lm)
{
	static struct ctl_msg m;
	const char *why;
	uint64_t t4 = wall_ns(); /* a time reply's arrival */

	if (!lm->payload_len)
		return 0; /* a registration cleared */
	if (ctl_decode(lm->payload, lm->payload_len, &m, &why)) {
		k->refused++;
		return 0;
	}
	struct peer *p = peer_of(k, m.agent, m.type == CTL_REGISTER);
	if (!p)
		return 0;
	uint64_t now = mono_ns();
	switch (m.type) {
	case CTL_REGISTER:
		if (m.u.reg.version.len != strlen("blast " BLAST_VERSION) ||
		    memcmp(m.u.reg.version.p, "blast " BLAST_VERSION, m.u.reg.version.len)) {
			/* Runs of different versions do not merge: not one of ours. */
			if (!p->refused && !p->registered)
				coord_watch_refuse(&k->w, &k->l, p->name, m.u.reg.version.p,
						   m.u.reg.version.len);
			p->refused = true;
			return 0;
		}
		p->refused = false;
		p->registered = true;
		p->gone = false;
		snprintf(p->version, sizeof(p->version), "%.*s", (int)m.u.reg.version.len,
			 m.u.reg.version.p);
		p->cores = m.u.reg.cores;
		p->last_hb_ns = now;
		break;
	case CTL_BYE:
		p->gone = true;
		break;
	case CTL_HEARTBEAT:
		p->last_hb_ns = now;
		p->hb_state = m.u.hb.state;
		break;
	case CTL_TIME_REPLY:
		if (m.u.time.seq == k->w.clk_round && p->clk_round != m.u.time.seq) {
			p->clk_round = m.u.time.seq;
			dist_clock_add(&p->clk, m.u.time.t1, m.u.time.t2, m.u.time.t3, t4);
		}
		break;
	case CTL_READY:
		p->ready |= m.run_id == k->run_id;
		break;
	case CTL_SECOND:
		if (m.run_id == k->run_id && k->live &&
		    (live_add(k->live, (uint32_t)(p - k->p), m.u.sec.wall_sec, m.u.sec.len_ms, &m.u.sec.c,
			      (const uint8_t *)m.u.sec.hist.p, m.u.sec.hist.len) ||
		     live_add_wire(k->live, m.u.sec.wall_sec, (const uint8_t *)m.u.sec.wire.p,
				   m.u.sec.wire.len)))
			k->refused++;
		if (m.run_id == k->run_id)
			peer_second(k, p, &m);
		coord_stats_merge(&k->st, now, mono_ns(), 1);
		break;
	case CTL_DONE:
		if (m.run_id != k->run_id || p->done)
			break;
		p->done = true;
		p->exit_status = m.u.done.exit_status;
		if (m.u.done.report.len && (p->report = malloc(m.u.done.report.len))) {
			memcpy(p->report, m.u.done.report.p, m.u.done.report.len);
			p->report_len = m.u.done.report.len;
		}
		break;
	}
	return 0;
}

/* The agents' rows for the live page: the run's first, then the others. */
static void dash_agents(struct coord *k)
{
	struct cdash_agent *rows = k->n ? calloc(k->n, sizeof(*rows)) : NULL;
	size_t n = 0;

	if (k->n && !rows)
		return;
	for (size_t i = 0; i < k->n; i++) {
		const struct peer *p = &k->p[i];
		if (!p->registered && !p->lost)
			continue;
		struct cdash_agent *a = &rows[n++];
		snprintf(a->name, sizeof(a->name), "%s", p->name);
		snprintf(a->version, sizeof(a->version), "%s", p->version);
		a->cores = p->cores;
		a->state = p->done && i < k->c->agents ? CTL_FINISHED : p->hb_state;
		a->lost = p->lost || p->gone;
		a->partial = p->partial;
		a->in_run = k->run_id && i < k->c->agents;
		a->last_hb_ns = p->last_hb_ns;
		a->has_second = p->has_second;
		a->rate = p->rate;
		a->p99_us = p->p99_us;
	}
	coord_dash_agents(k->c->dash, rows, n);
	free(rows);
	uint64_t errors[ERR__COUNT] = { 0 };
	for (size_t i = 0; i < k->c->agents && i < k->n; i++)
		for (int e = 0; e < ERR__COUNT; e++)
			errors[e] += k->p[i].errors[e];
	coord_dash_errors(k->c->dash, errors);
}

/* Polls until done(k) or deadline; -1 when the link breaks or an agent
 * of another version registers. */
static int wait_for(struct coord *k, bool (*done)(struct coord *k), uint64_t deadline)
{
	while (!done(k)) {
		struct link_msg lm;
		uint64_t now = mono_ns();
		if (now >= deadline)
			return 1;
		if (coord_dash_take_stop(k->c->dash))
			coord_watch_stop(&k->w); /* POST /api/stop: as Ctrl-C */
		if (coord_watch_tick(&k->w, &k->l, now, k->going) < 0)
			return -1;
		if (k->c->dash && now >= k->next_dash_ns) {
			dash_agents(k);
			k->next_dash_ns = now + 250 * NSEC_PER_MSEC;
		}
		int r = link_poll(&k->l, 100, &lm);
		if (r < 0) {
			fprintf(stderr, "blast: the control link to %s broke\n", k->c->url);
			return -1;
		}
		if (r > 0)
			coord_stats_msg(&k->st, lm.payload, lm.payload_len);
		if (r > 0 && on_message(k, &lm) < 0)
			return -1;
	}
	return 0;
}

/* The agents of the run: the first N registered, by name, or those
 * --agents names, in its order. */
static size_t live_agents(struct coord *k)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n; i++) {
		struct peer *p = &k->p[i];
		p->rank = k->c->agent_names ? name_rank(k->c->agent_names, p->name, strlen(p->name)) : 0;
		n += p->registered && !p->gone && p->rank >= 0;
	}
	return n;
}

static bool enough(struct coord *k)
{
	return live_agents(k) >= k->c->agents;
}

static int by_name(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int xs = x->registered && !x->gone && x->rank >= 0;
	int ys = y->registered && !y->gone && y->rank >= 0;

	if (xs != ys)
		return ys - xs;
	return x->rank != y->rank ? x->rank - y->rank : strcmp(x->name, y->name);
}

/* Every agent connected its share (or one's ended before: failed_start). */
static bool all_ready(struct coord *k)
{
	for (size_t i = 0; i < k->c->agents; i++)
		if (k->p[i].done)
			return true;
	for (size_t i = 0; i < k->c->agents; i++)
		if (!k->p[i].ready)
			return false;
	return true;
}

/* An agent whose share ended before GO (it could not connect, or a flag
 * its machine refuses): named, and its exit status, or 0. */
static int failed_start(struct coord *k)
{
	for (size_t i = 0; i < k->c->agents; i++)
		if (k->p[i].done) {
			fprintf(stderr, "blast: agent %s could not start its share (exit status %d; "
					"its stderr says why)\n", k->p[i].name, k->p[i].exit_status);
			return k->p[i].exit_status > 1 ? k->p[i].exit_status : 3;
		}
	return 0;
}

/* A merged second: to the page, and the agents missing from it marked. */
static void on_row(void *ctx, const struct live_row *r)
{
	struct coord *k = ctx;

	for (uint32_t i = 0; r->agents < r->of && i < k->c->agents; i++)
		k->p[i].partial |= k->p[i].last_sec < r->sec;
	coord_dash_row(k->c->dash, r);
}

/* Every agent done or lost; lost ones named once. */
static bool all_done(struct coord *k)
{
	uint64_t now = mono_ns();
	bool all = true;

	for (size_t i = 0; i < k->c->agents; i++) {
		struct peer *p = &k->p[i];
		if (!p->done && !p->lost && (p->gone || now - p->last_hb_ns > k->c->hb_timeout_ns)) {
			p->lost = true;
			fprintf(stderr, "blast: agent %s lost (%s): its share is missing from the result\n",
				p->name, p->gone ? "its Last Will came" : "no heartbeat");
		}
		all = all && (p->done || p->lost);
		if (k->active)
			k->active[i] = !p->done && !p->lost;
	}
	if (k->live)
		live_emit(k->live, k->c->quiet ? NULL : stderr, k->active, wall_ns(), on_row, k);
	coord_stats_merge(&k->st, now, mono_ns(), 0);
	return all;
}

static int send_to(struct coord *k, const struct peer *p, const struct ctl_msg *m)
{
	return coord_watch_send(&k->l, p->name, m);
}

static bool clock_back(struct coord *k)
{
	return k->p[k->w.clk_agent].clk_round == k->w.clk_round;
}

/* Each agent's clock, before GO: rounds of one time request to one agent
 * at a time (replies that came together would wait on each other in the
 * broker's TCP), each waited for up to a second. */
static int sync_clocks(struct coord *k)
{
	const struct coord_cfg *c = k->c;

	for (uint32_t round = 1; round <= DIST_CLOCK_ROUNDS; round++) {
		k->w.clk_round = round;
		for (uint32_t i = 0; i < c->agents; i++) {
			struct ctl_msg m = { .type = CTL_TIME_REQUEST,
					     .agent = { k->p[i].name, strlen(k->p[i].name) },
					     .u.time = { .seq = round, .t1 = wall_ns() } };
			k->w.clk_agent = i;
			if (send_to(k, &k->p[i], &m) ||
			    wait_for(k, clock_back, mono_ns() + NSEC_PER_SEC) < 0)
				return -1;
		}
	}
	for (uint32_t i = 0; i < c->agents; i++)
		coord_watch_clock(&k->w, k->p[i].name, &k->p[i].clk, c->max_clock_offset_ms);
	coord_watch_clock_warn(&k->w, c->max_clock_offset_ms);
	return 0;
}

static int assign_all(struct coord *k, const struct split_whole *whole)
{
	static struct ctl_msg m;
	const struct coord_cfg *c = k->c;

	if (c->run_argc - 1 > CTL_MAX_ARGS) {
		fprintf(stderr, "blast: more than %d run flags for the agents\n", CTL_MAX_ARGS);
		return -1;
	}
	for (uint32_t i = 0; i < c->agents; i++) {
		struct split_share s;
		split_share(whole, i, c->agents, &s);
		memset(&m, 0, sizeof(m));
		m.type = CTL_ASSIGN;
		m.run_id = k->run_id;
		m.u.assign.agent_to = (struct ctl_str){ k->p[i].name, strlen(k->p[i].name) };
		m.u.assign.share = (struct ctl_share){
			.index = i, .count = c->agents, .conns = s.conns, .conn_base = s.conn_base,
			.rate = s.rate, .messages = s.messages, .has_messages = whole->has_messages,
			.publishers = s.publishers, .publisher_base = s.publisher_base,
			.receivers = s.receivers, .receiver_base = s.receiver_base,
			.partitions = s.partitions, .partition_base = s.partition_base,
		};
		m.u.assign.n_args = (uint32_t)c->run_argc - 1;
		for (int a = 1; a < c->run_argc; a++)
			m.u.assign.args[a - 1] = (struct ctl_str){ c->run_argv[a], strlen(c->run_argv[a]) };
		if (send_to(k, &k->p[i], &m))
			return -1;
	}
	return 0;
}

/* The agents' reports merged; lost or failed agents make it exit 1. */
static int merge_reports(struct coord *k)
{
	struct merge m;
	int worst = 0, r = 0;
	struct report_agent *rows = calloc(k->c->agents, sizeof(*rows));

	if (merge_init(&m) || !rows) {
		merge_free(&m);
		free(rows);
		return 3;
	}
	for (size_t i = 0; i < k->c->agents; i++) {
		const struct peer *p = &k->p[i];
		rows[i] = (struct report_agent){
			.name = p->name, .clock_samples = p->clk.samples,
			.clock_offset_ms = dist_clock_offset_ms(&p->clk),
			.clock_uncertainty_ms = dist_clock_uncertainty_ms(&p->clk),
			.clock_beyond = p->clk.samples &&
					dist_clock_beyond(&p->clk, k->c->max_clock_offset_ms),
			.lost = p->lost, .exit_status = p->done ? p->exit_status : -1,
		};
	}
	m.agents = rows;
	m.n_agents = k->c->agents;
	m.max_clock_offset_ms = k->c->max_clock_offset_ms;
	m.o.report_path = k->c->report ? strdup(k->c->report) : NULL;
	m.o.csv_path = k->c->csv ? strdup(k->c->csv) : NULL;
	m.o.hlog_path = k->c->hlog ? strdup(k->c->hlog) : NULL;
	m.o.html_path = k->c->html ? strdup(k->c->html) : NULL;
	for (size_t i = 0; i < k->c->agents; i++) {
		struct peer *p = &k->p[i];
		char who[160];
		snprintf(who, sizeof(who), "agent %s", p->name);
		if (p->lost || !p->report) {
			worst = worst > 1 ? worst : 1;
			if (p->done)
				fprintf(stderr, "blast: agent %s: its run exited %d without a report\n",
					p->name, p->exit_status);
			continue;
		}
		worst = p->exit_status > worst ? p->exit_status : worst;
		uint64_t t = mono_ns();
		r = merge_add(&m, who, p->report, p->report_len);
		k->st.final_ns += mono_ns() - t;
		if (r)
			break;
	}
	struct control_figures cf;
	coord_stats_figures(&k->st, k->c->agents, &cf);
	m.control = &cf;
	if (!r && !m.n) {
		fprintf(stderr, "blast: no agent sent a report: nothing to merge\n");
		r = 1;
	}
	if (!r)
		r = merge_emit(&m, worst > 1 ? 1 : worst);
	coord_stats_print(&cf, stderr);
	merge_free(&m);
	free(rows);
	return r;
}

int coord_run(const struct coord_cfg *c, const struct split_whole *whole)
{
	struct coord k = { .c = c };
	char err[600], will_topic[200];
	uint8_t will[256];
	int r;

	coord_watch_init(&k.w, c->signals);
	k.tmp = c->dash ? hist_new() : NULL;
	size_t wl = coord_watch_will(&k.w, will_topic, sizeof(will_topic), will, sizeof(will));
	if (link_open(&k.l, &c->link, k.w.name, will_topic, will, wl, false, err, sizeof(err))) {
		fprintf(stderr, "blast: --control: %s\n", err);
		return BLAST_EXIT_USAGE;
	}
	if (link_subscribe(&k.l, CTL_TOPIC_AGENT "+") || link_subscribe(&k.l, CTL_TOPIC_HB "+") ||
	    link_subscribe(&k.l, CTL_TOPIC_FROM "+")) {
		fprintf(stderr, "blast: the control link to %s broke\n", c->url);
		link_close(&k.l);
		return 3;
	}
	if (c->agent_names)
		fprintf(stderr, "blast: waiting for agents %s on %s\n", c->agent_names, c->url);
	else
		fprintf(stderr, "blast: waiting for %u agent(s) on %s\n", c->agents, c->url);
	r = wait_for(&k, enough, mono_ns() + c->wait_ns);
	if (r) {
		if (r > 0 && c->agent_names)
			fprintf(stderr, "blast: --agents %s: %zu of them registered on %s within %.0f s\n",
				c->agent_names, live_agents(&k), c->url, (double)c->wait_ns / 1e9);
		else if (r > 0)
			fprintf(stderr, "blast: --agents %u: %zu agent(s) registered on %s within %.0f s\n",
				c->agents, live_agents(&k), c->url, (double)c->wait_ns / 1e9);
		r = BLAST_EXIT_USAGE;
		goto out;
	}
	qsort(k.p, k.n, sizeof(*k.p), by_name);
	k.run_id = wall_ns() ^ ((uint64_t)getpid() << 40);
	const char **names = calloc(c->agents, sizeof(*names));
	for (uint32_t i = 0; names && i < c->agents; i++)
		names[i] = k.p[i].name;
	r = names ? coord_watch_agents(&k.w, names, c->agents) : -1;
	free(names);
	/* A beat first: an agent knows its coordinator (and its Will) before
	 * the assignment comes. */
	if (r || coord_watch_tick(&k.w, &k.l, mono_ns(), false) < 0 || assign_all(&k, whole)) {
		r = 3;
		goto out;
	}
	r = wait_for(&k, all_ready, mono_ns() + COORD_READY_NS);
	int failed = r ? 0 : failed_start(&k);
	if (r || failed) {
		if (r > 0)
			fprintf(stderr, "blast: not every agent connected its share within %.0f s\n",
				COORD_READY_NS / 1e9);
		coord_watch_bye_all(&k.w, &k.l, "stop"); /* the others stand down */
		r = failed ? failed : 3;
		goto out;
	}
	if (sync_clocks(&k)) {
		r = 3;
		goto out;
	}
	/* T0 whole seconds ahead, so each agent's seconds are the same seconds. */
	uint64_t t0 = (wall_ns() + COORD_GO_AHEAD_NS) / NSEC_PER_SEC * NSEC_PER_SEC;
	if (t0 < wall_ns() + NSEC_PER_SEC)
		t0 += NSEC_PER_SEC;
	struct ctl_msg go = { .type = CTL_GO, .run_id = k.run_id,
			      .u.go = { t0, (uint32_t)(c->hb_timeout_ns / NSEC_PER_MSEC) } };
	for (uint32_t i = 0; i < c->agents; i++) {
		if (send_to(&k, &k.p[i], &go)) {
			r = 3;
			goto out;
		}
		k.p[i].last_hb_ns = mono_ns();
	}
	fprintf(stderr, "blast: %u agent(s) start at %llu.%03llu\n", c->agents,
		(unsigned long long)(t0 / NSEC_PER_SEC),
		(unsigned long long)(t0 % NSEC_PER_SEC / NSEC_PER_MSEC));
	k.live = live_new(c->agents);
	k.active = calloc(c->agents, sizeof(*k.active));
	k.going = true;
	coord_dash_begin(c->dash, t0 / NSEC_PER_SEC);
	coord_stats_start(&k.st, mono_ns(), k.l.bytes_in);
	r = wait_for(&k, all_done, UINT64_MAX);
	coord_stats_end(&k.st, mono_ns(), k.l.bytes_in);
	if (k.live) /* what is left, partial or not */
		live_emit(k.live, c->quiet ? NULL : stderr, k.active, UINT64_MAX, on_row, &k);
	if (c->dash)
		dash_agents(&k);
	if (r < 0) {
		r = 3;
		goto out;
	}
	if (k.refused)
		fprintf(stderr, "blast: %u control message(s) refused as malformed\n", k.refused);
	r = merge_reports(&k);
out:
	if (k.w.interrupted && r > 1)
		r = 1; /* stopped, not refused */
	coord_watch_free(&k.w);
	live_free(k.live);
	coord_stats_free(&k.st);
	free(k.active);
	free(k.tmp);
	link_close(&k.l);
	for (size_t i = 0; i < k.n; i++)
		free(k.p[i].report);
	free(k.p);
	return r;
}
