/* --find-limit's decisions: parsing its flags, a trial's verdict, and the
 * next rate to try. No I/O here (limit_run.c runs the trials), so that
 * tests/unit/test_limit.c can drive the search with made-up results. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit/limit.h"

static const char *const slo_names[SLO__COUNT] = {
	[SLO_P50] = "p50", [SLO_P90] = "p90", [SLO_P99] = "p99", [SLO_P999] = "p999",
	[SLO_CONNECT] = "connect",
};

const char *limit_slo_name(unsigned key)
{
	return key < SLO__COUNT ? slo_names[key] : "?";
}

/* A latency bound: a decimal number and a unit, us, ms or s ("50ms",
 * "0.5s", "800us"). Returns 0 or -EINVAL. */
static int latency_parse(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	char *end;
	double v;

	if (!(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].unit)) {
			double x = v * units[i].mult;
			if (x < 1 || x > 3600e9)
				return -EINVAL;
			*ns = (uint64_t)x;
			return 0;
		}
	}
	return -EINVAL;
}

int limit_parse_slo(struct limit_cfg *cfg, const char *s, char *err, size_t cap)
{
	const char *eq = strchr(s, '=');
	uint64_t ns;
	int key = -1;

	if (eq) {
		size_t n = (size_t)(eq - s);
		for (int k = 0; k < SLO__COUNT; k++)
			if (strlen(slo_names[k]) == n && !strncmp(s, slo_names[k], n))
				key = k;
		if (n == 5 && !strncmp(s, "p99.9", 5))
			key = SLO_P999;
	}
	if (key < 0 || latency_parse(eq + 1, &ns)) {
		snprintf(err, cap, "--slo %.64s: expected p50, p90, p99, p999 or connect = a latency "
				   "with a unit (us, ms, s), like p99=50ms", s);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_slo; i++) {
		if (cfg->slo[i].key == key) {
			cfg->slo[i].ns = ns;
			return 0;
		}
	}
	if (cfg->n_slo >= LIMIT_MAX_SLO) {
		snprintf(err, cap, "--slo %.64s: at most %d", s, LIMIT_MAX_SLO);
		return -EINVAL;
	}
	cfg->slo[cfg->n_slo].key = (uint8_t)key;
	cfg->slo[cfg->n_slo].ns = ns;
	cfg->n_slo++;
	return 0;
}

int limit_parse_max_loss(struct limit_cfg *cfg, const char *s, char *err, size_t cap)
{
	size_t n = strlen(s);
	char *end;

	if (n > 1 && s[n - 1] == '%') {
		errno = 0;
		double p = strtod(s, &end);
		if (end == s + n - 1 && !errno && p >= 0 && p <= 100 && (s[0] >= '0' && s[0] <= '9')) {
			cfg->loss_is_frac = true;
			cfg->max_loss_frac = p / 100;
			return 0;
		}
	} else if (n && s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (!*end && !errno) {
			cfg->loss_is_frac = false;
			cfg->max_loss = v;
			return 0;
		}
	}
	snprintf(err, cap, "--max-loss %.64s: expected a count of messages (0, 10) or a percent of "
			   "the messages due (0.1%%)", s);
	return -EINVAL;
}

/* ---- verdict ---- */

static const char *fmt_dur(char *b, size_t cap, double ns)
{
	if (ns >= 1e9)
		snprintf(b, cap, "%.2fs", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(b, cap, "%.1fms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(b, cap, "%.1fus", ns / 1e3);
	else
		snprintf(b, cap, "%.0fns", ns);
	return b;
}

/* Appends one reason to tr->why, "; " between reasons. */
static void __attribute__((format(printf, 2, 3))) why_add(struct limit_trial *tr, const char *fmt, ...)
{
	size_t used = strlen(tr->why);
	va_list ap;

	if (used + 3 >= sizeof(tr->why))
		return;
	if (used) {
		memcpy(tr->why + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(tr->why + used, sizeof(tr->why) - used, fmt, ap);
	va_end(ap);
}

static uint64_t allowed(const struct limit_cfg *cfg, uint64_t base)
{
	return cfg->loss_is_frac ? (uint64_t)(cfg->max_loss_frac * (double)base) : cfg->max_loss;
}

static void slo_check(const struct limit_cfg *cfg, const struct limit_measure *m, bool conns,
		      struct limit_trial *tr)
{
	char b1[32], b2[32];

	for (unsigned i = 0; i < cfg->n_slo; i++) {
		const struct limit_slo *s = &cfg->slo[i];
		int64_t v;
		uint64_t count = conns ? m->connect_count : m->acked;
		switch (s->key) {
		case SLO_P50:
			v = conns ? m->connect_p50_ns : m->p50_ns;
			break;
		case SLO_P90:
			v = conns ? m->connect_p90_ns : m->p90_ns;
			break;
		case SLO_P99:
			v = conns ? m->connect_p99_ns : m->p99_ns;
			break;
		case SLO_P999:
			v = conns ? m->connect_p999_ns : m->p999_ns;
			break;
		default:
			v = m->connect_p99_ns;
			count = m->connect_count;
			break;
		}
		if (count && v > (int64_t)s->ns)
			why_add(tr, "%s %s > %s", s->key == SLO_CONNECT ? "connect p99" : slo_names[s->key],
				fmt_dur(b1, sizeof(b1), (double)v), fmt_dur(b2, sizeof(b2), (double)s->ns));
	}
}

/* Rate trials. Behind the offered rate shows two ways: messages the
 * schedule wanted out that no connection could take (not_sent), and a lag
 * that grows. The lag at the end (backlog / rate: how far the acks trailed
 * the schedule when publishing stopped) minus the mean lag (the corrected
 * latency's mean) is about half the growth over the trial when it grows
 * steadily, and about 0 when the broker keeps up, whatever its latency. */
static void verdict_rate(const struct limit_cfg *cfg, const struct limit_measure *m,
			 struct limit_trial *tr)
{
	uint64_t due = m->sent + m->not_sent;
	uint64_t lost = m->failed + m->unacked + m->lost_receipts;
	uint64_t ok_loss = allowed(cfg, due);
	char b[32];

	if (!m->acked)
		why_add(tr, "nothing acked");
	if (lost > ok_loss)
		why_add(tr, "lost %" PRIu64 " > %" PRIu64, lost, ok_loss);
	if (m->errors > ok_loss)
		why_add(tr, "%" PRIu64 " errors > %" PRIu64, m->errors, ok_loss);
	if (m->conns_failed > ok_loss)
		why_add(tr, "%" PRIu64 " connects failed", m->conns_failed);
	if (m->not_sent && (double)m->not_sent > LIMIT_NOT_SENT_FRAC * (double)due) {
		why_add(tr, "behind: %" PRIu64 " of %" PRIu64 " due not sent", m->not_sent, due);
	} else if (m->offered && m->planned_s > 0) {
		double lag_end = (double)m->backlog_at_stop / (double)m->offered;
		double growth = lag_end - m->mean_ns / 1e9;
		if (growth > LIMIT_BEHIND_FRAC * m->planned_s / 2 && m->backlog_at_stop > 2)
			why_add(tr, "behind: lag grew to %s", fmt_dur(b, sizeof(b), lag_end * 1e9));
	}
	slo_check(cfg, m, false, tr);
}

/* Connection trials: every one of n connections accepted and held, within
 * the SLO. */
static void verdict_conns(const struct limit_cfg *cfg, const struct limit_measure *m, uint64_t n,
			  struct limit_trial *tr)
{
	uint64_t ok_loss = allowed(cfg, n);

	if (m->conns_failed > ok_loss)
		why_add(tr, "%" PRIu64 " connects failed", m->conns_failed);
	if (m->peak_conns + ok_loss < n)
		why_add(tr, "held %" PRIu64 " of %" PRIu64, m->peak_conns, n);
	if (m->conns_dropped > ok_loss)
		why_add(tr, "%" PRIu64 " dropped", m->conns_dropped);
	if (m->errors > ok_loss && m->conns_failed <= ok_loss)
		why_add(tr, "%" PRIu64 " errors > %" PRIu64, m->errors, ok_loss);
	slo_check(cfg, m, true, tr);
}

/* Connect-rate trials: as connection trials, and the connects kept up with
 * --ramp (the engine's 64 handshakes in flight, or a slow accept, hold
 * them back). */
static void verdict_conn_rate(const struct limit_cfg *cfg, const struct limit_measure *m,
			      struct limit_trial *tr)
{
	verdict_conns(cfg, m, m->conns, tr);
	if (tr->achieved < (1 - LIMIT_RAMP_BEHIND_FRAC) * (double)m->offered)
		why_add(tr, "behind: opened %.0f/s", tr->achieved);
}

uint64_t limit_ramp_conns(uint64_t rate, double trial_s, uint64_t held)
{
	double want = (double)rate * trial_s;
	uint64_t n = want < 1 ? 1 : want > 1e15 ? (uint64_t)1e15 : (uint64_t)want;

	return held && n > held ? held : n;
}

void limit_verdict(const struct limit_cfg *cfg, uint8_t mode, const struct limit_measure *m,
		   struct limit_trial *tr)
{
	bool conns = mode == LIMIT_CONNS || mode == LIMIT_CONN_RATE;

	memset(tr, 0, sizeof(*tr));
	tr->offered = m->offered;
	tr->duration_s = conns ? m->ramp_s + m->planned_s : m->planned_s;
	tr->conn_rate = mode == LIMIT_CONN_RATE;
	tr->conns = mode == LIMIT_CONN_RATE ? m->conns : mode == LIMIT_CONNS ? m->offered : 0;
	tr->sent = m->sent;
	tr->acked = m->acked;
	tr->failed = m->failed;
	tr->unacked = m->unacked;
	tr->not_sent = m->not_sent;
	if (conns) {
		/* Held, and opened per second while connecting. */
		tr->acked_rate = m->ramp_s > 0 ? (double)m->conns_ok / m->ramp_s : 0;
		/* Connections: held. Connect rate: opened per second. */
		tr->achieved = tr->conn_rate ? tr->acked_rate : (double)m->peak_conns;
		tr->p50_ns = m->connect_p50_ns;
		tr->p99_ns = m->connect_p99_ns;
		tr->p999_ns = m->connect_p999_ns;
	} else {
		tr->achieved = m->planned_s > 0 ? (double)m->sent / m->planned_s : 0;
		tr->acked_rate = m->duration_s > 0 ? (double)m->acked / m->duration_s : 0;
		tr->p50_ns = m->p50_ns;
		tr->p99_ns = m->p99_ns;
		tr->p999_ns = m->p999_ns;
	}
	if (m->broken)
		why_add(tr, "blast failed");
	else if (m->interrupted)
		why_add(tr, "interrupted");
	else if (mode == LIMIT_CONN_RATE)
		verdict_conn_rate(cfg, m, tr);
	else if (conns)
		verdict_conns(cfg, m, m->offered, tr);
	else
		verdict_rate(cfg, m, tr);
	tr->pass = !tr->why[0];
	if (tr->pass)
		snprintf(tr->why, sizeof(tr->why), "ok");
}

/* ---- search ---- */

void limit_search_init(struct limit_search *s, uint64_t start, uint64_t ceiling, uint64_t floor)
{
	memset(s, 0, sizeof(*s));
	s->floor = floor ? floor : 1;
	s->ceiling = ceiling < s->floor ? s->floor : ceiling;
	s->start = start < s->floor ? s->floor : start > s->ceiling ? s->ceiling : start;
	s->next = s->start;
	s->phase = LP_GROW;
	s->answer = -1;
}

bool limit_search_next(const struct limit_search *s, uint64_t *offered, bool *full)
{
	if (s->phase == LP_DONE)
		return false;
	*offered = s->next;
	*full = s->phase == LP_CONFIRM;
	return true;
}

static void done(struct limit_search *s, const char *why)
{
	s->phase = LP_DONE;
	s->end = why;
}

/* Between a pass (lo) and a failure (hi): halve the gap until it is within
 * LIMIT_PRECISION of lo, then confirm lo. */
static void bisect_or_confirm(struct limit_search *s)
{
	uint64_t gap = s->hi > s->lo ? s->hi - s->lo : 0;
	uint64_t tol = (uint64_t)((double)s->lo * LIMIT_PRECISION);

	if (gap <= (tol > 1 ? tol : 1)) {
		s->phase = LP_CONFIRM;
		s->next = s->lo;
	} else {
		s->phase = LP_BISECT;
		s->next = s->lo + gap / 2;
	}
}

static void step_down(struct limit_search *s)
{
	if (s->next <= s->floor) {
		done(s, "no_rate_passed");
		return;
	}
	s->phase = LP_DOWN;
	s->next = s->next / LIMIT_FACTOR;
	if (s->next < s->floor)
		s->next = s->floor;
}

void limit_search_record(struct limit_search *s, int idx, bool pass)
{
	switch (s->phase) {
	case LP_GROW:
		if (pass) {
			s->retried = false;
			s->lo = s->next;
			if (s->next >= s->ceiling) {
				s->phase = LP_CONFIRM;
			} else {
				uint64_t up = s->next * LIMIT_FACTOR;
				s->next = up > s->ceiling || up < s->next ? s->ceiling : up;
			}
		} else if (!s->retried) {
			/* One bad second (a busy machine, a broker's GC) must
			 * not end the climb: the first failure is run again. */
			s->retried = true;
		} else {
			s->hi = s->next;
			if (s->lo)
				bisect_or_confirm(s);
			else
				step_down(s);
		}
		break;
	case LP_DOWN:
		if (pass) {
			s->lo = s->next;
			bisect_or_confirm(s);
		} else {
			s->hi = s->next;
			step_down(s);
		}
		break;
	case LP_BISECT:
		if (pass)
			s->lo = s->next;
		else
			s->hi = s->next;
		bisect_or_confirm(s);
		break;
	case LP_CONFIRM:
		s->confirms++;
		if (pass) {
			s->answer = idx;
			done(s, s->next >= s->ceiling ? "ceiling" : "confirmed");
			break;
		}
		/* The short trials were too kind: try lower, by 10%, then
		 * 25%, then by half. */
		s->hi = s->next;
		if (!s->full_fail || s->next < s->full_fail)
			s->full_fail = s->next;
		static const double step[LIMIT_CONFIRMS] = { 0.9, 0.75, 0.5, 0.5 };
		uint64_t lower = (uint64_t)((double)s->next * step[(s->confirms - 1) % LIMIT_CONFIRMS]);
		if (s->confirms >= LIMIT_CONFIRMS || s->next <= s->floor)
			done(s, "no_rate_held");
		else
			s->next = lower < s->floor ? s->floor : lower;
		break;
	default:
		break;
	}
}

int limit_search_answer(const struct limit_search *s, const struct limit_trial *tr, unsigned n,
			bool *confirmed)
{
	uint64_t below = s->full_fail ? s->full_fail : UINT64_MAX;
	int best = -1;

	*confirmed = s->answer >= 0;
	if (s->answer >= 0)
		return s->answer;
	/* A finished search without a confirmation has no answer; one cut
	 * short offers its best short trial, marked unconfirmed. */
	if (s->phase == LP_DONE)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (tr[i].pass && tr[i].offered < below && (best < 0 || tr[i].offered > tr[best].offered))
			best = (int)i;
	return best;
}
