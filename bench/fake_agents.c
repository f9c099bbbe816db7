/* fake_agents: N agents in one process, at the control protocol's level,
 * so that a coordinator's work for 100 agents can be measured on a 2-core
 * machine (bench/distributed.sh; 100 real `blast agent`s would each run a
 * child blast).
 *
 *   fake_agents --control mqtt://HOST:PORT --agents N --report FILE
 *               [--seconds S] [--samples K] [--rate R] [--prefix NAME]
 *
 * Each agent opens its own control link (userspace/dist/link.c) with a
 * Will, registers (retained), beats every second, answers its assignment
 * with READY, and after GO sends one SECOND per second for S seconds: the
 * counters of R messages/s and a histogram of K latencies drawn from a
 * lognormal (median 1 ms, sigma 0.6), V2 compressed as a real agent's
 * child writes it. Then DONE with FILE, a real report of `blast --shard
 * 0/N`, its shard index set to the agent's: the coordinator reads and
 * merges N real reports. Prints "done" and exits 0 once every agent sent
 * DONE; 1 when no GO came within 120 s or a link broke.
 *
 * What is simulated: the load. The seconds' histograms come from a pool of
 * 16 drawn at start (each agent's second picks one), not from a run. */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/version.h"
#include "dist/link.h"
#include "encoders/control.h"
#include "encoders/hdrlog.h"
#include "stats/clock.h"
#include "stats/hist.h"

#define POOL 16
#define FAKE_MAX 1024
#define GO_WAIT_NS (120 * NSEC_PER_SEC)

struct fake {
	struct link l;
	char name[64], t_agent[100], t_hb[100], t_from[100], t_to[100];
	uint8_t state;
	uint64_t run_id, hb_seq, next_hb_ns, t0_ns;
	uint32_t sent_secs;   /* SECONDs sent */
	int done;
	char *report;
	size_t report_len;
};

static struct { uint8_t *z; size_t len; } pool[POOL];
static uint8_t *buf;
static size_t buf_cap;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Latencies around 1 ms, a long right tail: what a broker under load gives. */
static int make_pool(unsigned samples)
{
	static const struct hdr_params hp = { .sigfigs = HIST_SIGFIGS, .lowest = HIST_LOWEST,
					      .highest = HIST_HIGHEST };
	struct hist *h = hist_new();

	if (!h)
		return -1;
	for (int p = 0; p < POOL; p++) {
		hist_reset(h);
		for (unsigned i = 0; i < samples; i++) {
			double n = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
			hist_record(h, (int64_t)(1e6 * exp(0.6 * n)));
		}
		if (hdr_encode_compressed(h->counts, HIST_COUNTS_LEN, &hp, &pool[p].z, &pool[p].len))
			return -1;
	}
	free(h);
	return 0;
}

static int fake_send(struct fake *f, const char *topic, struct ctl_msg *m, bool retain)
{
	m->agent = (struct ctl_str){ f->name, strlen(f->name) };
	ssize_t n = ctl_encode(m, buf, buf_cap);
	return n < 0 ? -1 : link_publish(&f->l, topic, buf, (size_t)n, retain);
}

/* The report with its shard index set to i ("shard": {"index": 0, ...). */
static char *report_for(const char *r, size_t len, unsigned i, size_t *out_len)
{
	const char *s = strstr(r, "\"shard\"");
	const char *x = s ? strstr(s, "\"index\"") : NULL;
	const char *d = x ? x + 7 : NULL;

	while (d && (*d == ':' || *d == ' '))
		d++;
	if (!d || *d < '0' || *d > '9')
		return NULL;
	const char *e = d;
	while (*e >= '0' && *e <= '9')
		e++;
	char num[16];
	int nl = snprintf(num, sizeof(num), "%u", i);
	char *o = malloc(len + 16);
	if (!o)
		return NULL;
	size_t a = (size_t)(d - r);
	memcpy(o, r, a);
	memcpy(o + a, num, (size_t)nl);
	memcpy(o + a + nl, e, len - (size_t)(e - r));
	*out_len = a + (size_t)nl + len - (size_t)(e - r);
	return o;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;

	if (f && !fseek(f, 0, SEEK_END)) {
		long n = ftell(f);
		rewind(f);
		if (n > 0 && (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
			b[n] = '\0';
			*len = (size_t)n;
		} else {
			free(b);
			b = NULL;
		}
	}
	if (f)
		fclose(f);
	return b;
}

static void on_message(struct fake *f, const struct link_msg *lm)
{
	static struct ctl_msg m;
	const char *why;
	uint64_t t2 = wall_ns();

	if (ctl_decode(lm->payload, lm->payload_len, &m, &why)) {
		fprintf(stderr, "fake_agents %s: control message refused: %s\n", f->name, why);
		return;
	}
	if (m.type == CTL_ASSIGN && f->state == CTL_IDLE) {
		f->run_id = m.run_id;
		f->state = CTL_WAITING_GO;
		struct ctl_msg r = { .type = CTL_READY, .run_id = f->run_id };
		fake_send(f, f->t_from, &r, false);
	} else if (m.type == CTL_GO && m.run_id == f->run_id && f->state == CTL_WAITING_GO) {
		f->t0_ns = m.u.go.t0_wall_ns;
		f->state = CTL_RUNNING;
	} else if (m.type == CTL_TIME_REQUEST && m.agent.len == strlen(f->name) &&
		   !memcmp(m.agent.p, f->name, m.agent.len)) {
		struct ctl_msg r = { .type = CTL_TIME_REPLY,
				     .u.time = { m.u.time.seq, m.u.time.t1, t2, 0 } };
		r.u.time.t3 = wall_ns();
		fake_send(f, f->t_from, &r, false);
	}
}

static int usage(const char *why)
{
	fprintf(stderr, "fake_agents: %s (usage: fake_agents --control mqtt://HOST:PORT --agents N "
			"--report FILE [--seconds S] [--samples K] [--rate R] [--prefix NAME])\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	const char *url = NULL, *report = NULL, *prefix = "fake";
	unsigned n = 0, secs = 10, samples = 2000, rate = 1000;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage(argv[i]);
		if (!strcmp(argv[i], "--control"))
			url = v;
		else if (!strcmp(argv[i], "--report"))
			report = v;
		else if (!strcmp(argv[i], "--prefix"))
			prefix = v;
		else if (!strcmp(argv[i], "--agents"))
			n = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--seconds"))
			secs = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--samples"))
			samples = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--rate"))
			rate = (unsigned)atoi(v);
		else
			return usage(argv[i]);
		i++;
	}
	if (!url || !report || n < 1 || n > FAKE_MAX || secs < 1 || samples < 1)
		return usage("--control, --report and --agents 1..1024 are needed");
	size_t rlen = 0;
	char *rep = slurp(report, &rlen);
	if (!rep)
		return usage("--report: not readable");
	struct fake *a = calloc(n, sizeof(*a));
	struct pollfd *pf = calloc(n, sizeof(*pf));
	buf_cap = rlen + (1u << 20);
	buf = malloc(buf_cap);
	if (!a || !pf || !buf || make_pool(samples))
		return usage("out of memory");
	static struct link_cfg ctl; /* plain mqtt:// only: the links are polled on their fds */
	char cerr[300];
	if (link_cfg_url(&ctl, url, cerr, sizeof(cerr)) || ctl.tls)
		return usage(ctl.tls ? "--control: mqtt:// only" : cerr);
	uint64_t start = mono_ns();
	for (unsigned i = 0; i < n; i++) {
		struct fake *f = &a[i];
		char err[600], cid[100];
		snprintf(f->name, sizeof(f->name), "%s-%04u", prefix, i);
		snprintf(f->t_agent, sizeof(f->t_agent), CTL_TOPIC_AGENT "%s", f->name);
		snprintf(f->t_hb, sizeof(f->t_hb), CTL_TOPIC_HB "%s", f->name);
		snprintf(f->t_from, sizeof(f->t_from), CTL_TOPIC_FROM "%s", f->name);
		snprintf(f->t_to, sizeof(f->t_to), CTL_TOPIC_TO "%s", f->name);
		if (!(f->report = report_for(rep, rlen, i, &f->report_len)))
			return usage("--report: no \"shard\" member with an index (a report of --shard 0/N?)");
		uint8_t will[128];
		struct ctl_msg bye = { .type = CTL_BYE, .agent = { f->name, strlen(f->name) },
				       .u.bye.reason = { "lost", 4 } };
		ssize_t wl = ctl_encode(&bye, will, sizeof(will));
		snprintf(cid, sizeof(cid), "blast-agent-%s", f->name);
		if (wl < 0 || link_open(&f->l, &ctl, cid, f->t_agent, will, (size_t)wl, true, err, sizeof(err))) {
			fprintf(stderr, "fake_agents: %s: %s\n", f->name, err);
			return 1;
		}
		struct ctl_msg reg = { .type = CTL_REGISTER,
				       .u.reg = { { "blast " BLAST_VERSION, strlen("blast " BLAST_VERSION) }, 2 } };
		if (link_subscribe(&f->l, f->t_to) || fake_send(f, f->t_agent, &reg, true)) {
			fprintf(stderr, "fake_agents: %s: the link broke while registering\n", f->name);
			return 1;
		}
		/* Beats and seconds spread over the first 200 ms, as real agents' would be. */
		f->next_hb_ns = start + (uint64_t)i * 200 * NSEC_PER_MSEC / n;
		pf[i] = (struct pollfd){ .fd = f->l.fd, .events = POLLIN };
	}
	fprintf(stderr, "fake_agents: %u agents registered\n", n);
	unsigned done = 0;
	int rc = 0;
	while (done < n) {
		uint64_t now = mono_ns(), wall = wall_ns();
		bool any_go = false;
		for (unsigned i = 0; i < n; i++) {
			struct fake *f = &a[i];
			uint64_t jitter = (uint64_t)i * 200 * NSEC_PER_MSEC / n;
			any_go |= f->state != CTL_IDLE;
			if (now >= f->next_hb_ns) {
				struct ctl_msg hb = { .type = CTL_HEARTBEAT, .u.hb = { ++f->hb_seq, f->state } };
				if (fake_send(f, f->t_hb, &hb, false))
					goto broke;
				f->next_hb_ns += NSEC_PER_SEC;
			}
			if (f->state != CTL_RUNNING ||
			    wall < f->t0_ns + (uint64_t)(f->sent_secs + 1) * NSEC_PER_SEC + jitter)
				continue;
			struct ctl_counts c = { .sent = rate, .acked = rate, .conns_up = 1 };
			if (f->sent_secs < secs) {
				int p = (int)((i + f->sent_secs) % POOL);
				struct ctl_msg m = { .type = CTL_SECOND, .run_id = f->run_id,
						     .u.sec = { .wall_sec = f->t0_ns / NSEC_PER_SEC + f->sent_secs,
								.len_ms = 1000, .c = c,
								.hist = { (const char *)pool[p].z, pool[p].len } } };
				if (fake_send(f, f->t_from, &m, false))
					goto broke;
				f->sent_secs++;
				continue;
			}
			c.sent = c.acked = (uint64_t)rate * secs;
			f->state = CTL_FINISHED;
			struct ctl_msg m = { .type = CTL_DONE, .run_id = f->run_id,
					     .u.done = { .exit_status = 0, .c = c,
							 .hist = { (const char *)pool[i % POOL].z, pool[i % POOL].len },
							 .report = { f->report, f->report_len } } };
			if (fake_send(f, f->t_from, &m, false))
				goto broke;
			done++;
		}
		if (!any_go && now - start > GO_WAIT_NS) {
			fprintf(stderr, "fake_agents: no assignment within %llu s\n",
				(unsigned long long)(GO_WAIT_NS / NSEC_PER_SEC));
			rc = 1;
			break;
		}
		if (poll(pf, n, 10) < 0)
			continue;
		for (unsigned i = 0; i < n; i++) {
			struct link_msg lm;
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int r = link_poll(&a[i].l, 1, &lm);
			while (r > 0) {
				on_message(&a[i], &lm);
				r = link_poll(&a[i].l, 0, &lm); /* what is buffered already */
			}
			if (r < 0)
				goto broke;
		}
	}
	if (!rc)
		printf("done\n");
	goto out;
broke:
	fprintf(stderr, "fake_agents: a control link broke\n");
	rc = 1;
out:
	/* Leaving on purpose: registrations cleared, no Will. */
	for (unsigned i = 0; i < n; i++) {
		link_publish(&a[i].l, a[i].t_agent, (const uint8_t *)"", 0, true);
		link_close(&a[i].l);
		free(a[i].report);
	}
	for (int p = 0; p < POOL; p++)
		free(pool[p].z);
	free(a);
	free(pf);
	free(buf);
	free(rep);
	return rc;
}
