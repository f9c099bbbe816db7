/* blast agent (see agent.h). It registers with a retained message whose
 * Last Will says it is gone, beats every second, and runs each assignment
 * as a child blast: the run's flags, --shard I/N and --start-at the GO's
 * T0, its report in a temporary file. Once the child exits it sends DONE
 * with the report, whose exact figures the coordinator merges. It answers
 * the coordinator's time requests; from GO on it watches the coordinator's
 * heartbeats and Will: without a coordinator (or a control link) the run
 * is stopped, drains, and its report is kept on this machine. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/opts.h"
#include "config/tmpdir.h"
#include "config/version.h"
#include "dist/agent.h"
#include "dist/link.h"
#include "encoders/control.h"
#include "encoders/hdrlog.h"
#include "stats/clock.h"
#include "stats/stats.h"

#define AGENT_MAX_REPORT (256u << 20)
#define AGENT_GO_WAIT_NS (60 * NSEC_PER_SEC) /* assignment to GO, at most */

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

struct agent {
	struct link l;
	char name[128];
	char topic_agent[200], topic_hb[200], topic_from[200], topic_to[200];
	uint8_t state;       /* enum ctl_state */
	uint64_t hb_seq;
	/* The assignment. */
	uint64_t run_id;
	struct ctl_share share;
	char **args;
	uint32_t n_args;
	pid_t child;
	int hold;            /* the child's --hold-start socket: "connected" from it, T0 to it */
	char report[PATH_MAX], log[PATH_MAX], seconds[PATH_MAX];
	char hlog[PATH_MAX];
	const char *keep_dir; /* --reports-dir: each run's files are kept there */
	long seconds_off;    /* how much of the seconds file was sent */
	/* The run's coordinator, watched from GO until the run ends. */
	char coord[128];           /* its name, from its heartbeats */
	char hb_from[128];         /* the last coordinator that beat to this agent */
	uint64_t coord_hb_ns;      /* its last heartbeat (monotonic) */
	uint64_t coord_timeout_ns; /* GO's heartbeat timeout; 0: not watched */
	uint64_t assigned_ns;      /* when the run waiting for GO was assigned */
	const char *orphaned;      /* why the run was stopped without it, or NULL */
	char orphan_why[64];
	unsigned refused;          /* control messages that did not decode */
};

/* Assigned, its run connecting or waiting for GO. */
static bool before_go(const struct agent *a)
{
	return a->state == CTL_CONNECTING || a->state == CTL_WAITING_GO;
}

static int send_msg(struct agent *a, const char *topic, struct ctl_msg *m, bool retain)
{
	size_t cap = 4096 + (m->type == CTL_DONE ? m->u.done.report.len :
			     m->type == CTL_SECOND ? m->u.sec.hist.len : 0);
	uint8_t *buf = malloc(cap);
	int r = -1;

	m->agent = (struct ctl_str){ a->name, strlen(a->name) };
	ssize_t n = buf ? ctl_encode(m, buf, cap) : -ENOMEM;
	if (n > 0)
		r = link_publish(&a->l, topic, buf, (size_t)n, retain);
	free(buf);
	return r;
}

static void free_args(struct agent *a)
{
	for (uint32_t i = 0; i < a->n_args; i++)
		free(a->args[i]);
	free(a->args);
	a->args = NULL;
	a->n_args = 0;
}

static void start_run(struct agent *a);

static void take_assign(struct agent *a, const struct ctl_msg *m)
{
	if (a->child > 0)
		return; /* one run at a time */
	free_args(a);
	a->args = calloc(m->u.assign.n_args + 1, sizeof(char *));
	for (uint32_t i = 0; a->args && i < m->u.assign.n_args; i++)
		a->args[a->n_args++] = strndup(m->u.assign.args[i].p, m->u.assign.args[i].len);
	a->run_id = m->run_id;
	a->share = m->u.assign.share;
	/* A coordinator beats to its agents before it assigns them: the last
	 * one that did is this run's. */
	snprintf(a->coord, sizeof(a->coord), "%s", a->hb_from);
	a->coord_hb_ns = mono_ns();
	a->assigned_ns = mono_ns();
	fprintf(stderr, "blast agent %s: run %llx assigned, share %u/%u: connecting\n", a->name,
		(unsigned long long)a->run_id, a->share.index, a->share.count);
	start_run(a);
}

/* The held run says its connections are up: ready for GO. */
static void poll_hold(struct agent *a)
{
	char buf[16];

	if (a->hold < 0 || a->state != CTL_CONNECTING || a->orphaned)
		return;
	ssize_t n = recv(a->hold, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 10 || memcmp(buf, "connected\n", 10))
		return; /* not yet; a child gone is finish_run's */
	a->state = CTL_WAITING_GO;
	struct ctl_msg ready = { .type = CTL_READY, .run_id = a->run_id };
	send_msg(a, a->topic_from, &ready, false);
	fprintf(stderr, "blast agent %s: run %llx connected, ready in %.2f s\n", a->name,
		(unsigned long long)a->run_id, (double)(mono_ns() - a->assigned_ns) / 1e9);
}

/* GO: the held run starts at T0. */
static void go_run(struct agent *a, uint64_t t0_ns)
{
	char at[48];
	int n = snprintf(at, sizeof(at), "%llu.%09llu\n", (unsigned long long)(t0_ns / NSEC_PER_SEC),
			 (unsigned long long)(t0_ns % NSEC_PER_SEC));

	if (write(a->hold, at, (size_t)n) != n)
		fprintf(stderr, "blast agent %s: run %llx: its blast is gone before GO\n", a->name,
			(unsigned long long)a->run_id);
	a->state = CTL_RUNNING;
}

/* The child blast: the run's flags, this share, its report; it connects
 * and holds until go_run gives it T0. */
static void start_run(struct agent *a)
{
	char shard[32], hold[48];
	int sv[2];
	/* "blast", the run's flags, extra[], --hlog FILE, NULL. */
	char **argv = calloc(a->n_args + 16, sizeof(char *));
	int k = 0;

	if (!argv)
		return;
	snprintf(shard, sizeof(shard), "%u/%u", a->share.index, a->share.count);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "blast agent %s: socketpair: %s\n", a->name, strerror(errno));
		free(argv);
		return;
	}
	snprintf(hold, sizeof(hold), "%d:%llx", sv[1], (unsigned long long)a->run_id);
	/* Kept: DIR/RUN-NAME.{json,hlog,log}, this share's own report; else
	 * temporary files, gone once the report is sent. */
	if (a->keep_dir) {
		char base[PATH_MAX - 8];
		snprintf(base, sizeof(base), "%s/%llx-%s", a->keep_dir, (unsigned long long)a->run_id,
			 a->name);
		snprintf(a->report, sizeof(a->report), "%s.json", base);
		snprintf(a->log, sizeof(a->log), "%s.log", base);
		snprintf(a->hlog, sizeof(a->hlog), "%s.hlog", base);
	} else {
		snprintf(a->report, sizeof(a->report), "%s/blast-agent-%d.json", tmp_dir(), (int)getpid());
		snprintf(a->log, sizeof(a->log), "%s/blast-agent-%d.log", tmp_dir(), (int)getpid());
	}
	unlink(a->report);
	argv[k++] = "blast";
	for (uint32_t i = 0; i < a->n_args; i++)
		argv[k++] = a->args[i];
	snprintf(a->seconds, sizeof(a->seconds), "%s/blast-agent-%d.sec", tmp_dir(), (int)getpid());
	unlink(a->seconds);
	a->seconds_off = 0;
	const char *extra[] = { "--shard", shard, "--hold-start", hold, "--quiet", "--report", a->report,
				"--seconds-to", a->seconds };
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		argv[k++] = (char *)extra[i];
	if (a->keep_dir) {
		argv[k++] = "--hlog";
		argv[k++] = a->hlog;
	}
	argv[k] = NULL;
	fflush(NULL);
	a->coord_timeout_ns = a->coord_hb_ns = 0;
	a->orphaned = NULL;
	pid_t agent = getpid();
	sigset_t stops, was;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &was); /* a stop before exec is not the agent's */
	a->child = fork();
	if (a->child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &was, NULL);
		/* An agent killed outright: its run drains and ends (as on Ctrl-C)
		 * rather than load the target with no one to report to. */
		if (prctl(PR_SET_PDEATHSIG, SIGINT) || getppid() != agent || fcntl(sv[1], F_SETFD, 0))
			_exit(3);
		int fd = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv("/proc/self/exe", argv);
		_exit(3);
	}
	sigprocmask(SIG_SETMASK, &was, NULL);
	free(argv);
	close(sv[1]);
	a->hold = a->child > 0 ? sv[0] : (close(sv[0]), -1);
	a->state = a->child > 0 ? CTL_CONNECTING : CTL_IDLE;
}

/* A --seconds-to line's "e=E0,E1,... " (the run's errors by reason so far,
 * in stats.h's order) into m's nonzero reasons by name. Returns the bytes
 * it took (0 when the line has none). */
static size_t seconds_errors(const char *p, struct ctl_msg *m)
{
	const char *s = p + 2;

	if (strncmp(p, "e=", 2))
		return 0;
	for (int e = 0; e < ERR__COUNT && *s >= '0' && *s <= '9'; e++) {
		char *end;
		unsigned long long c = strtoull(s, &end, 10);
		if (c && m->u.sec.n_errors < CTL_MAX_ERRORS)
			m->u.sec.errors[m->u.sec.n_errors++] =
				(struct ctl_err){ { blast_err_names[e], strlen(blast_err_names[e]) }, c };
		s = end + (*end == ',');
	}
	s += strcspn(s, " ");
	return (size_t)(s - p) + (*s == ' ');
}

/* A --seconds-to line's "w=WIRE " (--probe's latencies, base64 V2, or
 * "-") into m (*buf holds them; free it). Returns the bytes it took. */
static size_t seconds_wire(const char *p, struct ctl_msg *m, uint8_t **buf)
{
	if (strncmp(p, "w=", 2))
		return 0;
	size_t n = strcspn(p + 2, " ");
	if (n > 1 && (*buf = malloc(n / 4 * 3 + 3))) {
		long len = base64_decode(p + 2, n, *buf);
		if (len > 0)
			m->u.sec.wire = (struct ctl_str){ (const char *)*buf, (size_t)len };
	}
	return 2 + n + (p[2 + n] == ' ');
}

/* The seconds the child closed since the last look, each as a SECOND. */
static void send_seconds(struct agent *a)
{
	FILE *f = fopen(a->seconds, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return;
	if (fseek(f, a->seconds_off, SEEK_SET) == 0) {
		while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
			unsigned long long v[9];
			long long max;
			int at = 0;
			line[n - 1] = '\0';
			a->seconds_off += n;
			if (sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %lld %n", &v[0], &v[1],
				   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &max, &at) < 10 || !at)
				continue;
			struct ctl_msg m = { .type = CTL_SECOND, .run_id = a->run_id };
			at += seconds_errors(line + at, &m);
			uint8_t *wire = NULL;
			at += seconds_wire(line + at, &m, &wire);
			size_t hl = strlen(line + at);
			uint8_t *raw = malloc(hl / 4 * 3 + 3);
			long rl = raw && hl > 1 ? base64_decode(line + at, hl, raw) : -1;
			m.u.sec.wall_sec = (v[0] + 500) / 1000;
			m.u.sec.len_ms = v[1] > 1000 ? 1000 : (uint32_t)v[1];
			m.u.sec.c = (struct ctl_counts){ v[2], v[3], v[4], v[5], v[6], v[7], v[8] };
			if (rl > 0)
				m.u.sec.hist = (struct ctl_str){ (const char *)raw, (size_t)rl };
			send_msg(a, a->topic_from, &m, false);
			free(raw);
			free(wire);
		}
	}
	free(line);
	fclose(f);
}

/* The child is reaped: the agent is free for the next run. */
static void run_over(struct agent *a)
{
	unlink(a->seconds);
	a->child = 0;
	if (a->hold >= 0)
		close(a->hold);
	a->hold = -1;
	a->state = CTL_FINISHED;
	a->coord_timeout_ns = 0;
}

/* A run stopped without its coordinator: the report stays here, named. */
static void keep_report(struct agent *a, int rc)
{
	char kept[sizeof(a->report)];

	if (a->keep_dir) /* already where --reports-dir keeps it */
		snprintf(kept, sizeof(kept), "%s", a->report);
	else
		snprintf(kept, sizeof(kept), "%s/blast-agent-%s-%llx.json", tmp_dir(), a->name,
			 (unsigned long long)a->run_id);
	if (before_go(a)) { /* dropped before its start, said so: nothing to keep */
		unlink(a->report);
		unlink(a->log);
	} else if (access(a->report, F_OK) == 0 && (a->keep_dir || rename(a->report, kept) == 0)) {
		fprintf(stderr, "blast agent %s: run %llx stopped (%s), exit %d: its report is kept "
				"in %s\n", a->name, (unsigned long long)a->run_id, a->orphaned, rc, kept);
		unlink(a->log);
	} else {
		fprintf(stderr, "blast agent %s: run %llx stopped (%s), exit %d, without a report "
				"(its output: %s)\n", a->name, (unsigned long long)a->run_id, a->orphaned,
			rc, a->log);
	}
	run_over(a);
}

/* The child is done: its report (or its exit status alone) to the coordinator. */
static void finish_run(struct agent *a, int status)
{
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 3;

	if (a->orphaned) {
		keep_report(a, rc);
		return;
	}
	struct ctl_msg m = { .type = CTL_DONE, .run_id = a->run_id, .u.done.exit_status = rc };
	char *buf = NULL;
	FILE *f = fopen(a->report, "rb");

	if (f) {
		buf = malloc(AGENT_MAX_REPORT);
		size_t n = buf ? fread(buf, 1, AGENT_MAX_REPORT, f) : 0;
		if (buf && n < AGENT_MAX_REPORT)
			m.u.done.report = (struct ctl_str){ buf, n };
		fclose(f);
	}
	/* The run's one-line complaint, when it refused to start. */
	FILE *lg = fopen(a->log, "r");
	char line[300];
	if (rc >= 2 && lg && fgets(line, sizeof(line), lg))
		fprintf(stderr, "blast agent %s: run exited %d: %s", a->name, rc, line);
	if (lg)
		fclose(lg);
	send_seconds(a);
	send_msg(a, a->topic_from, &m, false);
	free(buf);
	if (!a->keep_dir) {
		unlink(a->report);
		unlink(a->log);
	}
	run_over(a);
	bool kept = m.u.done.report.len && a->keep_dir;
	fprintf(stderr, "blast agent %s: run %llx done, exit %d%s%s\n", a->name,
		(unsigned long long)a->run_id, rc, kept ? ", report kept in " : "", kept ? a->report : "");
}

/* The run goes on without its coordinator: stop it; finish_run keeps its report. */
static void lose_coordinator(struct agent *a, const char *why)
{
	if (a->orphaned || a->state != CTL_RUNNING)
		return;
	snprintf(a->orphan_why, sizeof(a->orphan_why), "%s", why);
	a->orphaned = a->orphan_why;
	fprintf(stderr, "blast agent %s: the coordinator%s%s is gone (%s): stopping run %llx\n",
		a->name, a->coord[0] ? " " : "", a->coord, why, (unsigned long long)a->run_id);
	if (a->child > 0)
		kill(a->child, SIGINT);
}

static bool str_is(struct ctl_str s, const char *z)
{
	return s.len == strlen(z) && !memcmp(s.p, z, s.len);
}

/* A run assigned but never started: forgotten, the agent free again. */
static void drop_assignment(struct agent *a, const char *why)
{
	if (a->orphaned)
		return;
	fprintf(stderr, "blast agent %s: run %llx dropped before its start: %s\n", a->name,
		(unsigned long long)a->run_id, why);
	a->orphaned = "dropped before its start";
	if (a->child > 0)
		kill(a->child, SIGINT); /* it stops connecting; finish_run reaps it */
	else
		a->state = CTL_IDLE;
}

static void on_message(struct agent *a, const struct link_msg *lm)
{
	static struct ctl_msg m;
	const char *why;
	uint64_t t2 = wall_ns();
	bool to_me = lm->topic_len == strlen(a->topic_to) &&
		     !memcmp(lm->topic, a->topic_to, lm->topic_len);

	if (ctl_decode(lm->payload, lm->payload_len, &m, &why)) {
		fprintf(stderr, "blast agent %s: control message refused (%u so far): %s\n", a->name,
			++a->refused, why);
		return;
	}
	if (m.type == CTL_ASSIGN && str_is(m.u.assign.agent_to, a->name))
		take_assign(a, &m);
	else if (m.type == CTL_GO && m.run_id == a->run_id && a->state == CTL_WAITING_GO &&
		   !a->orphaned) {
		go_run(a, m.u.go.t0_wall_ns);
		a->coord_hb_ns = mono_ns();
		a->coord_timeout_ns = (uint64_t)m.u.go.hb_timeout_ms * NSEC_PER_MSEC;
	} else if (m.type == CTL_TIME_REQUEST && to_me && str_is(m.agent, a->name)) {
		struct ctl_msg r = { .type = CTL_TIME_REPLY,
				     .u.time = { m.u.time.seq, m.u.time.t1, t2, 0 } };
		r.u.time.t3 = wall_ns();
		send_msg(a, a->topic_from, &r, false);
	} else if (m.type == CTL_HEARTBEAT && to_me && m.agent.len < sizeof(a->coord)) {
		memcpy(a->hb_from, m.agent.p, m.agent.len);
		a->hb_from[m.agent.len] = '\0';
		if (str_is(m.agent, a->coord))
			a->coord_hb_ns = mono_ns();
	} else if (m.type == CTL_BYE && !to_me && a->coord[0] && str_is(m.agent, a->coord)) {
		if (before_go(a))
			drop_assignment(a, "its coordinator's Will came");
		else
			lose_coordinator(a, "its Will came");
	} else if (m.type == CTL_BYE && to_me) {
		/* A coordinator's word: refused, or (from this run's) stop: the run
		 * drains and reports. */
		bool mine = a->coord[0] && str_is(m.agent, a->coord);
		fprintf(stderr, "blast agent %s: coordinator %.*s says: %.*s\n", a->name,
			(int)m.agent.len, m.agent.p, (int)m.u.bye.reason.len, m.u.bye.reason.p);
		if (mine && before_go(a)) {
			drop_assignment(a, "its coordinator stopped it");
		} else if (mine && a->child > 0) {
			kill(a->child, SIGINT);
			fprintf(stderr, "blast agent %s: run %llx stopped by the coordinator\n", a->name,
				(unsigned long long)a->run_id);
		}
	}
}

static int agent_args(int argc, char **argv, struct link_cfg *c, const char **name,
		      const char **keep)
{
	for (int i = 1; i < argc; i++) {
		int t = link_cfg_arg(c, "blast agent", argv[i], i + 1 < argc ? argv[i + 1] : NULL);
		if (t == -2)
			return BLAST_EXIT_USAGE;
		if (t >= 0)
			i += t;
		else if (!strcmp(argv[i], "--reports-dir") && i + 1 < argc)
			*keep = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			*name = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: blast agent --control mqtt[s]://[USER[:PASS]@]HOST:PORT [--name NAME] "
			       "[--reports-dir DIR]\n       " LINK_CFG_USAGE "\n"
			       "Registers with the control broker, then runs the shares of the runs a\n"
			       "coordinator (blast --control URL --agents N ...) gives it\n"
			       "(docs/distributed.md). NAME: default the host name. DIR: keep each\n"
			       "run's own report, hlog and log there as RUN-NAME.json, .hlog, .log.\n"
			       "mqtts://: TLS to the control broker, verified against --control-cacert\n"
			       "(default the system's store). The password may come from\n"
			       "$BLAST_CONTROL_PASSWORD instead.\n");
			return 1;
		} else {
			fprintf(stderr, "blast agent: %s: unknown (usage: blast agent --control "
					"mqtt://HOST:PORT [--name NAME])\n", argv[i]);
			return BLAST_EXIT_USAGE;
		}
	}
	if (!c->host[0]) {
		fprintf(stderr, "blast agent: --control mqtt://HOST:PORT is needed\n");
		return BLAST_EXIT_USAGE;
	}
	if (link_cfg_check(c, "blast agent"))
		return BLAST_EXIT_USAGE;
	if (*keep && access(*keep, W_OK | X_OK)) {
		fprintf(stderr, "blast agent: --reports-dir %s: %s\n", *keep, strerror(errno));
		return BLAST_EXIT_USAGE;
	}
	if (*name && (!**name || strlen(*name) > 100 || strpbrk(*name, "/+#"))) {
		fprintf(stderr, "blast agent: --name %s: 1 to 100 characters, none of / + #\n", *name);
		return BLAST_EXIT_USAGE;
	}
	return 0;
}

int agent_main(int argc, char **argv)
{
	static struct agent a;
	static struct link_cfg ctl;
	const char *name = NULL, *keep = NULL, *url = ctl.url;
	char err[600], host[64] = "agent";
	int r = agent_args(argc, argv, &ctl, &name, &keep);

	if (r)
		return r == 1 ? 0 : r; /* 1: --help said it all */
	a.hold = -1;
	a.keep_dir = keep;
	gethostname(host, sizeof(host) - 1);
	if (name)
		snprintf(a.name, sizeof(a.name), "%s", name);
	else
		snprintf(a.name, sizeof(a.name), "%s-%d", host, (int)getpid());
	snprintf(a.topic_agent, sizeof(a.topic_agent), CTL_TOPIC_AGENT "%s", a.name);
	snprintf(a.topic_hb, sizeof(a.topic_hb), CTL_TOPIC_HB "%s", a.name);
	snprintf(a.topic_from, sizeof(a.topic_from), CTL_TOPIC_FROM "%s", a.name);
	snprintf(a.topic_to, sizeof(a.topic_to), CTL_TOPIC_TO "%s", a.name);
	/* The Will: a retained bye in place of the registration. */
	uint8_t will[256];
	struct ctl_msg bye = { .type = CTL_BYE, .agent = { a.name, strlen(a.name) },
			       .u.bye.reason = { "lost", 4 } };
	ssize_t wl = ctl_encode(&bye, will, sizeof(will));
	char cid[160];
	snprintf(cid, sizeof(cid), "blast-agent-%s", a.name);
	if (wl < 0 ||
	    link_open(&a.l, &ctl, cid, a.topic_agent, will, (size_t)wl, true, err, sizeof(err))) {
		fprintf(stderr, "blast agent: %s\n", wl < 0 ? "name too long" : err);
		return BLAST_EXIT_USAGE;
	}
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct ctl_msg reg = { .type = CTL_REGISTER,
			       .u.reg = { { "blast " BLAST_VERSION, strlen("blast " BLAST_VERSION) },
					  (uint32_t)sysconf(_SC_NPROCESSORS_ONLN) } };
	if (link_subscribe(&a.l, a.topic_to) || link_subscribe(&a.l, CTL_TOPIC_COORD "+") ||
	    send_msg(&a, a.topic_agent, &reg, true)) {
		fprintf(stderr, "blast agent: the control link broke while registering\n");
		link_close(&a.l);
		return 3;
	}
	fprintf(stderr, "blast agent %s: registered on %s\n", a.name, url);
	uint64_t next_hb = 0;
	r = 0;
	while (!stopping) {
		uint64_t now = mono_ns();
		if (now >= next_hb) {
			struct ctl_msg hb = { .type = CTL_HEARTBEAT, .u.hb = { ++a.hb_seq, a.state } };
			send_msg(&a, a.topic_hb, &hb, false);
			next_hb = now + NSEC_PER_SEC;
		}
		/* A coordinator that assigned and went quiet (frozen, or its
		 * link lost without a Will): GO comes within seconds or never. */
		if (before_go(&a) && now - a.assigned_ns > AGENT_GO_WAIT_NS)
			drop_assignment(&a, "no GO within 60 s of its assignment");
		poll_hold(&a);
		if (a.coord_timeout_ns && a.state == CTL_RUNNING &&
		    now - a.coord_hb_ns > a.coord_timeout_ns) {
			char why[64];
			snprintf(why, sizeof(why), "no heartbeat for %.1f s",
				 (double)a.coord_timeout_ns / 1e9);
			lose_coordinator(&a, why);
		}
		int status;
		if (a.child > 0 && waitpid(a.child, &status, WNOHANG) == a.child)
			finish_run(&a, status);
		else if (a.child > 0)
			send_seconds(&a);
		struct link_msg lm;
		int p = link_poll(&a.l, 100, &lm);
		if (p < 0) {
			fprintf(stderr, "blast agent %s: the control link to %s is gone\n", a.name, url);
			r = 3;
			break;
		}
		if (p > 0)
			on_message(&a, &lm);
	}
	if (a.child > 0) {
		/* Stopping with a run under way: it drains, its report stays here. */
		int status = 0;
		const char *why = r ? "the control link is gone" : "the agent was stopped";
		if (before_go(&a)) /* held for GO: it would wait forever */
			drop_assignment(&a, why);
		else
			lose_coordinator(&a, why);
		while (waitpid(a.child, &status, 0) < 0 && errno == EINTR)
			;
		finish_run(&a, status);
	}
	if (a.refused)
		fprintf(stderr, "blast agent %s: %u control message(s) refused as malformed\n", a.name,
			a.refused);
	/* Leaving on purpose: the retained registration goes, the Will is not sent. */
	if (!r) {
		link_publish(&a.l, a.topic_agent, (const uint8_t *)"", 0, true);
		link_close(&a.l);
	} else {
		link_close(&a.l);
	}
	free_args(&a);
	return r;
}
