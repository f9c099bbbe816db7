/* The run's verdict (status.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/opts.h"
#include "report/status.h"

struct line {
	char *buf;
	size_t cap, len;
};

static void add(struct line *l, const char *fmt, uint64_t a, uint64_t b)
{
	if (l->len + 3 >= l->cap)
		return;
	if (l->len)
		l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, "; ");
	if (l->len < l->cap)
		l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, fmt, a, b);
	if (l->len >= l->cap)
		l->len = l->cap - 1;
}

/* --find-limit's end, in words. */
const char *report_search_end_words(const char *end)
{
	static const struct {
		const char *key, *words;
	} w[] = {
		{ "confirmed", "the answer was confirmed" },
		{ "ceiling", "the ceiling was reached" },
		{ "no_rate_passed", "no rate passed" },
		{ "no_rate_held", "no rate held when tried again" },
		{ "trial_limit", "the most trials were run" },
		{ "search_timeout", "--search-timeout ran out" },
		{ "signal", "interrupted" },
		{ "blast_failed", "blast failed" },
	};
	for (size_t i = 0; end && i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(end, w[i].key))
			return w[i].words;
	return end ? end : "unknown";
}

double report_acked_rate(const struct blast_results *r)
{
	double s = r->publish_s > 0 ? r->publish_s : r->duration_s;

	return s > 0 ? (double)r->t.acked / s : 0;
}

bool report_status(const struct blast_results *r, char *buf, size_t cap)
{
	const struct blast_totals *t = &r->t;
	struct line l = { .buf = buf, .cap = cap };
	bool fanout = r->opts && opts_fanout(r->opts);

	if (!cap)
		return r->exit_status == 0;
	buf[0] = '\0';
	if (!r->exit_status) {
		add(&l, r->n_trials ? "a sustainable rate was found" : fanout ?
			"every message sent was acked and every receipt expected arrived" :
			"every message sent was acked", 0, 0);
		return true;
	}
	if (r->n_trials) {
		if (r->limit_trial < 0)
			add(&l, "no trial passed: no sustainable rate found", 0, 0);
	}
	if (t->conns_ok == 0 && t->conns_failed)
		add(&l, "no connection succeeded (%" PRIu64 " attempts failed)", t->conns_failed, 0);
	else if (t->conns_failed)
		add(&l, "%" PRIu64 " connection attempts failed", t->conns_failed, 0);
	if (t->conns_dropped)
		add(&l, "%" PRIu64 " connections dropped", t->conns_dropped, 0);
	if (!r->n_trials) {
		bool none_due = r->opts && r->opts->has_messages && r->opts->messages == 0;
		if (!t->sent && !none_due)
			add(&l, "nothing was sent", 0, 0);
		else if (t->sent && !t->acked)
			add(&l, "nothing was acked", 0, 0);
	}
	if (t->failed)
		add(&l, "%" PRIu64 " of %" PRIu64 " messages failed", t->failed, t->sent);
	if (t->unacked)
		add(&l, "%" PRIu64 " of %" PRIu64 " messages unacked at the drain timeout", t->unacked,
		    t->sent);
	if (fanout && r->expected > t->received)
		add(&l, "%" PRIu64 " of %" PRIu64 " receipts missing", r->expected - t->received,
		    r->expected);
	if (r->stop_reason && !strcmp(r->stop_reason, "acks_stalled"))
		add(&l, "publishing stopped: nothing moved for the drain timeout, %" PRIu64
			" messages never sent", t->not_sent, 0);
	if (t->conns_ok && r->stop_reason && !strcmp(r->stop_reason, "all_connections_lost"))
		add(&l, "every connection was lost", 0, 0);
	if (t->sent != t->acked + t->failed + t->unacked)
		add(&l, "sent != acked + failed + unacked", 0, 0);
	if (r->exit_status == 3)
		add(&l, "a worker failed (see stderr)", 0, 0);
	if (!l.len)
		add(&l, "exit status %" PRIu64, (uint64_t)r->exit_status, 0);
	return false;
}
