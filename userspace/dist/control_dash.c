/* blast dashboard (see control_dash.h). The main thread watches the
 * control broker (registrations, heartbeats, Last Wills) for the agents'
 * rows and runs what the form asks for as the coordinator does
 * (coord_run, in this process, the page attached); the server's thread
 * only checks a form and hands it over under the mutex. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/opts.h"
#include "config/tmpdir.h"
#include "dist/control_dash.h"
#include "dist/control_form.h"
#include "dist/coord.h"
#include "dist/coord_dash.h"
#include "dist/link.h"
#include "encoders/control.h"
#include "stats/clock.h"

#define CDASH_MAX_AGENTS 1024

struct ctl_dash {
	const char *url, *reports; /* --control (as shown: link.url), --reports DIR */
	struct link_cfg link;      /* --control and the --control-* flags */
	uint64_t hb_timeout_ns;
	struct dashboard *d;
	struct coord_dash *cd;
	struct link l;
	bool link_up;
	struct cdash_agent *a;     /* the agents seen on the broker */
	size_t n;
	pthread_mutex_t mu;        /* guards what follows */
	size_t alive;              /* agents listed and not lost */
	bool running;              /* a run accepted and not over */
	bool pending;              /* ... and not started yet */
	unsigned runs;             /* runs started */
	struct control_form form;
	char message[300];
};

static volatile sig_atomic_t dash_signals;

static void on_signal(int sig)
{
	(void)sig;
	dash_signals++;
}

static void json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	fputc('"', f);
}

static void control_json(void *ctx, FILE *f)
{
	struct ctl_dash *x = ctx;

	pthread_mutex_lock(&x->mu);
	fputs(",\"control\":{\"url\":", f);
	json_text(f, x->url);
	fprintf(f, ",\"runs\":%u,\"running\":%s,\"message\":", x->runs,
		x->running ? "true" : "false");
	json_text(f, x->message);
	fputc('}', f);
	pthread_mutex_unlock(&x->mu);
}

/* The form's flags checked as `blast --control ...` would check them, in
 * a child whose one-line complaint comes back in err. */
static int check_flags(struct control_form *form, char *err, size_t cap)
{
	int fds[2];

	if (pipe(fds) < 0) {
		snprintf(err, cap, "cannot check the flags: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		struct coord_cfg c;
		struct split_whole whole;
		dup2(fds[1], 2);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(3);
		_exit(coord_setup(form->argc, form->argv, &c, &whole));
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t r;
	while (pid > 0 && got < cap - 1 && (r = read(fds[0], err + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	err[got] = '\0';
	char *nl = strchr(err, '\n');
	if (nl)
		*nl = '\0';
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		snprintf(err, cap, "cannot check the flags: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!err[0])
		snprintf(err, cap, "the run's flags were refused");
	return -1;
}

/* More agents asked for than the broker lists: said now, not after
 * --agents-timeout. */
static bool too_few(struct ctl_dash *x, const struct control_form *form, char *msg, size_t cap)
{
	unsigned long want = strtoul(form->argv[4], NULL, 10); /* "blast --control URL --agents N" */

	pthread_mutex_lock(&x->mu);
	size_t alive = x->alive;
	pthread_mutex_unlock(&x->mu);
	if (want <= alive)
		return false;
	snprintf(msg, cap, "agents %lu: %zu agent(s) on the control broker now", want, alive);
	return true;
}

static unsigned on_post(void *ctx, const char *url, const char *(*arg)(void *q, const char *key),
			void *q, char *msg, size_t cap)
{
	struct ctl_dash *x = ctx;
	static struct control_form form; /* one POST at a time: under run_mu */
	static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

	if (strcmp(url, "/api/run")) {
		snprintf(msg, cap, "not found");
		return 404;
	}
	pthread_mutex_lock(&run_mu);
	pthread_mutex_lock(&x->mu);
	bool busy = x->running;
	pthread_mutex_unlock(&x->mu);
	unsigned status = 409;
	if (busy)
		snprintf(msg, cap, "a run is going: stop it first");
	else if (control_form_argv(&form, x->url, arg, q, msg, cap) || check_flags(&form, msg, cap) ||
		 too_few(x, &form, msg, cap))
		status = 400;
	else {
		pthread_mutex_lock(&x->mu);
		if (x->running) {
			snprintf(msg, cap, "a run is going: stop it first");
		} else {
			x->form = form;
			/* argv points into form.buf: moved with it. */
			for (int i = 0; i < form.argc; i++)
				if (form.argv[i] >= form.buf && form.argv[i] < form.buf + sizeof(form.buf))
					x->form.argv[i] = x->form.buf + (form.argv[i] - form.buf);
			x->running = x->pending = true;
			snprintf(x->message, sizeof(x->message), "run %u: waiting for the agents", x->runs + 1);
			snprintf(msg, cap, "starting run %u", x->runs + 1);
			status = 202;
		}
		pthread_mutex_unlock(&x->mu);
	}
	pthread_mutex_unlock(&run_mu);
	return status;
}

static struct cdash_agent *agent_of(struct ctl_dash *x, const char *name, size_t len, bool add)
{
	for (size_t i = 0; i < x->n; i++)
		if (strlen(x->a[i].name) == len && !memcmp(x->a[i].name, name, len))
			return &x->a[i];
	if (!add || x->n >= CDASH_MAX_AGENTS || len >= sizeof(x->a[0].name))
		return NULL;
	struct cdash_agent *a = realloc(x->a, (x->n + 1) * sizeof(*a));
	if (!a)
		return NULL;
	x->a = a;
	a = &a[x->n++];
	memset(a, 0, sizeof(*a));
	memcpy(a->name, name, len);
	return a;
}

/* A registration, heartbeat or Last Will on the control broker. */
static void on_control(struct ctl_dash *x, const struct link_msg *lm)
{
	static struct ctl_msg m;
	const char *why;
	size_t pre = strlen(CTL_TOPIC_AGENT);

	if (!lm->payload_len) { /* a registration cleared: the agent left */
		if (lm->topic_len > pre && !memcmp(lm->topic, CTL_TOPIC_AGENT, pre)) {
			struct cdash_agent *a = agent_of(x, lm->topic + pre, lm->topic_len - pre, false);
			if (a) {
				*a = x->a[--x->n];
			}
		}
		return;
	}
	if (ctl_decode(lm->payload, lm->payload_len, &m, &why))
		return;
	struct cdash_agent *a = agent_of(x, m.agent.p, m.agent.len, m.type != CTL_BYE);
	if (!a)
		return;
	if (m.type == CTL_REGISTER) {
		snprintf(a->version, sizeof(a->version), "%.*s", (int)m.u.reg.version.len,
			 m.u.reg.version.p);
		a->cores = m.u.reg.cores;
		a->lost = false;
		a->last_hb_ns = mono_ns();
	} else if (m.type == CTL_HEARTBEAT) {
		a->state = m.u.hb.state;
		a->lost = false;
		a->last_hb_ns = mono_ns();
	} else if (m.type == CTL_BYE) {
		a->lost = true;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cdash_agent *)a)->name, ((const struct cdash_agent *)b)->name);
}

static void push_agents(struct ctl_dash *x)
{
	uint64_t now = mono_ns();

	if (x->n > 1)
		qsort(x->a, x->n, sizeof(*x->a), by_name);
	for (size_t i = 0; i < x->n; i++)
		if (x->a[i].last_hb_ns && now - x->a[i].last_hb_ns > x->hb_timeout_ns)
			x->a[i].lost = true;
	size_t alive = 0;
	for (size_t i = 0; i < x->n; i++)
		alive += !x->a[i].lost;
	pthread_mutex_lock(&x->mu);
	x->alive = alive;
	pthread_mutex_unlock(&x->mu);
	coord_dash_agents(x->cd, x->a, x->n);
}

static int watch_open(struct ctl_dash *x, char *err, size_t cap)
{
	char cid[64];

	snprintf(cid, sizeof(cid), "blast-dashboard-%d", (int)getpid());
	if (link_open(&x->l, &x->link, cid, NULL, NULL, 0, false, err, cap))
		return -1;
	if (link_subscribe(&x->l, CTL_TOPIC_AGENT "+") || link_subscribe(&x->l, CTL_TOPIC_HB "+")) {
		snprintf(err, cap, "the control link to %s broke", x->url);
		link_close(&x->l);
		return -1;
	}
	/* Not watched while the link was down (a run's coordinator watched
	 * them): aged from now, not marked lost for that. */
	for (size_t i = 0; i < x->n; i++)
		if (!x->a[i].lost)
			x->a[i].last_hb_ns = mono_ns();
	x->link_up = true;
	return 0;
}

/* The run the form asked for, as `blast --control URL --agents N ...`. */
static void run_one(struct ctl_dash *x)
{
	struct coord_cfg c;
	struct split_whole whole;
	char json[PATH_MAX], html[PATH_MAX];
	unsigned run;
	int r;

	pthread_mutex_lock(&x->mu);
	run = ++x->runs;
	x->pending = false;
	pthread_mutex_unlock(&x->mu);
	dashboard_take_stop(x->d); /* a stop asked for with no run going */
	coord_dash_begin(x->cd, (uint64_t)wall_ns() / NSEC_PER_SEC);
	if (x->reports) {
		snprintf(json, sizeof(json), "%s/run-%u.json", x->reports, run);
		snprintf(html, sizeof(html), "%s/run-%u.html", x->reports, run);
	} else {
		snprintf(json, sizeof(json), "%s/blast-dashboard-%d-%u.json", tmp_dir(), (int)getpid(),
			 run);
		snprintf(html, sizeof(html), "%s/blast-dashboard-%d-%u.html", tmp_dir(), (int)getpid(),
			 run);
	}
	unlink(json);
	unlink(html);
	if (x->link_up) {
		link_close(&x->l);
		x->link_up = false;
	}
	fprintf(stderr, "blast dashboard: run %u:", run);
	for (int i = 1; i < x->form.argc; i++)
		fprintf(stderr, " %s", x->form.argv[i]);
	fputc('\n', stderr);
	r = coord_setup(x->form.argc, x->form.argv, &c, &whole);
	if (!r) {
		c.link = x->link; /* the form names the broker; credentials and TLS are ours */
		c.url = c.link.url;
		c.report = json;
		c.html = html;
		c.dash = x->cd;
		c.signals = &dash_signals;
		r = coord_run(&c, &whole);
	}
	free(c.run_argv);
	coord_dash_finish(x->cd, json, html);
	if (!x->reports) {
		unlink(json);
		unlink(html);
	}
	pthread_mutex_lock(&x->mu);
	snprintf(x->message, sizeof(x->message), "run %u finished: exit status %d%s", run, r,
		 r == 0 ? "" : r == 1 ? " (not clean: see the report)" : " (see blast's stderr)");
	x->running = false;
	pthread_mutex_unlock(&x->mu);
	fprintf(stderr, "blast dashboard: run %u finished, exit status %d\n", run, r);
}

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: blast dashboard --control mqtt[s]://[USER[:PASS]@]HOST:PORT\n"
		   "                       [--listen [ADDR:]PORT] [--reports DIR] [--heartbeat-timeout S]\n"
		   "                       " LINK_CFG_USAGE "\n"
		   "Serves a page that lists the agents on the control broker and starts and\n"
		   "stops distributed runs from a form (docs/dashboard.md). --listen: default\n"
		   "127.0.0.1:8080 (PORT alone binds 127.0.0.1; 0 picks a free port). Starting\n"
		   "and stopping a run need the token printed at start-up. --reports DIR keeps\n"
		   "each run's merged report as DIR/run-N.json and DIR/run-N.html. mqtts://:\n"
		   "TLS to the control broker; the password may come from $BLAST_CONTROL_PASSWORD.\n");
	return status;
}

static int dash_args(int argc, char **argv, struct ctl_dash *x, const char **listen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage(stdout, 1);
		int t = link_cfg_arg(&x->link, "blast dashboard", a, v);
		if (t == -2)
			return BLAST_EXIT_USAGE;
		if (t >= 0) {
			x->url = x->link.host[0] ? x->link.url : NULL;
			i += t;
			continue;
		}
		if (!v || strncmp(a, "--", 2)) {
			fprintf(stderr, "blast dashboard: %s: unknown or without its value (usage: blast "
					"dashboard --control mqtt://HOST:PORT [--listen [ADDR:]PORT])\n", a);
			return BLAST_EXIT_USAGE;
		}
		i++;
		if (!strcmp(a, "--listen")) {
			*listen = v;
		} else if (!strcmp(a, "--reports")) {
			x->reports = v;
		} else if (!strcmp(a, "--heartbeat-timeout")) {
			if (parse_duration_ns(v, &x->hb_timeout_ns) || !x->hb_timeout_ns) {
				fprintf(stderr, "blast dashboard: --heartbeat-timeout %s: expected a "
						"duration above 0 (3s)\n", v);
				return BLAST_EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "blast dashboard: %s: unknown (usage: blast dashboard --control "
					"mqtt://HOST:PORT [--listen [ADDR:]PORT])\n", a);
			return BLAST_EXIT_USAGE;
		}
	}
	if (!x->url) {
		fprintf(stderr, "blast dashboard: --control mqtt://HOST:PORT is needed\n");
		return BLAST_EXIT_USAGE;
	}
	if (link_cfg_check(&x->link, "blast dashboard"))
		return BLAST_EXIT_USAGE;
	if (x->reports && access(x->reports, W_OK) < 0) {
		fprintf(stderr, "blast dashboard: --reports %s: not a directory blast can write to: "
				"%s\n", x->reports, strerror(errno));
		return BLAST_EXIT_USAGE;
	}
	return 0;
}

int control_dash_main(int argc, char **argv)
{
	static struct ctl_dash x = { .hb_timeout_ns = 3 * NSEC_PER_SEC,
				     .mu = PTHREAD_MUTEX_INITIALIZER };
	const char *listen = "127.0.0.1:8080";
	char err[600];
	int r = dash_args(argc, argv, &x, &listen);

	if (r)
		return r == 1 ? 0 : r;
	if (watch_open(&x, err, sizeof(err))) {
		fprintf(stderr, "blast dashboard: --control: %s\n", err);
		return BLAST_EXIT_USAGE;
	}
	x.d = dashboard_start(listen, err, sizeof(err));
	if (!x.d) {
		/* Its lines name the flag of a run. */
		const char *rest = !strncmp(err, "--dashboard", 11) ? err + 11 : err;
		fprintf(stderr, "blast dashboard: %s%s\n", rest == err ? "" : "--listen", rest);
		link_close(&x.l);
		return BLAST_EXIT_USAGE;
	}
	struct dashboard_hooks more = { .ctx = &x, .json = control_json, .post = on_post };
	x.cd = coord_dash_new(x.d, &more);
	if (!x.cd) {
		dashboard_free(x.d);
		link_close(&x.l);
		return 3;
	}
	snprintf(x.message, sizeof(x.message), "ready");
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sig_atomic_t seen = dash_signals;
	uint64_t next_push = 0, next_open = 0;
	while (dash_signals == seen) {
		pthread_mutex_lock(&x.mu);
		bool go = x.pending;
		pthread_mutex_unlock(&x.mu);
		if (go) {
			run_one(&x);
			seen = dash_signals; /* a Ctrl-C during the run stopped the run only */
			continue;
		}
		uint64_t now = mono_ns();
		if (!x.link_up && now >= next_open) {
			next_open = now + NSEC_PER_SEC;
			if (watch_open(&x, err, sizeof(err)))
				fprintf(stderr, "blast dashboard: --control: %s\n", err);
		}
		if (now >= next_push) {
			push_agents(&x);
			next_push = now + 250 * NSEC_PER_MSEC;
		}
		if (!x.link_up) {
			struct timespec nap = { 0, 100 * 1000 * 1000 };
			nanosleep(&nap, NULL);
			continue;
		}
		struct link_msg lm;
		int p = link_poll(&x.l, 100, &lm);
		if (p < 0) {
			fprintf(stderr, "blast dashboard: the control link to %s broke\n", x.url);
			link_close(&x.l);
			x.link_up = false;
		} else if (p > 0) {
			on_control(&x, &lm);
		}
	}
	dashboard_free(x.d);
	coord_dash_free(x.cd);
	if (x.link_up)
		link_close(&x.l);
	free(x.a);
	return 0;
}
