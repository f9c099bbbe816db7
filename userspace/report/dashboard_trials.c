/* The dashboard's --find-limit trials, each as it ends, and the search's
 * answer (see dashboard_parts.h). The fields are the JSON report's, so that
 * the page's table ends equal to the report's "trials". */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/dashboard_parts.h"
#include "report/json.h"
#include "report/report.h"
#include "stats/verdict.h"

int dash_trials_set(struct dash_trials *t, const struct limit_trial *tr, unsigned n)
{
	if (n > t->cap) {
		unsigned cap = t->cap ? t->cap : 16;
		while (cap < n)
			cap *= 2;
		struct limit_trial *more = realloc(t->tr, cap * sizeof(*more));
		if (!more)
			return -1;
		t->tr = more;
		t->cap = cap;
	}
	memcpy(t->tr, tr, n * sizeof(*tr));
	t->n = n;
	return 0;
}

void dash_trials_answer(struct dash_trials *t, const struct blast_results *r)
{
	const char *end = r->stop_reason ? r->stop_reason : "unknown";

	dash_trials_set(t, r->trials, r->n_trials);
	t->answered = true;
	t->trial = r->limit_trial >= 0 && (unsigned)r->limit_trial < r->n_trials ? r->limit_trial : -1;
	t->rate_trial = r->limit_rate_trial;
	t->confirmed = !strcmp(end, "confirmed") || !strcmp(end, "ceiling");
	t->client_bound = limit_client_bound(r);
	snprintf(t->ended, sizeof(t->ended), "%s", end);
	t->bound[0] = '\0';
	if (t->trial < 0) {
		snprintf(t->says, sizeof(t->says), "none found (%s)", end);
		return;
	}
	const struct limit_trial *a = &r->trials[t->trial];
	const char *how = t->confirmed ? "confirmed" : "UNCONFIRMED: the search was cut short";
	if (t->conns)
		snprintf(t->says, sizeof(t->says), "%" PRIu64 " connections held, opened at %.0f/s "
			 "(trial %d, %s)", a->offered, a->acked_rate, t->trial + 1, how);
	else
		snprintf(t->says, sizeof(t->says), "%s%" PRIu64 " msg/s %s(trial %d, %.1f s, %s)",
			 t->client_bound ? "client-bound at " : "", a->offered,
			 t->client_bound ? "" : "sustained ", t->trial + 1, a->duration_s, how);
	if (t->conns && t->rate_trial && t->rate_trial <= r->n_trials) {
		size_t used = strlen(t->says);
		snprintf(t->says + used, sizeof(t->says) - used, "; connect rate %" PRIu64 "/s (trial %u)",
			 r->trials[t->rate_trial - 1].offered, t->rate_trial);
	}
	if (!t->conns)
		limit_bound_line(t->bound, sizeof(t->bound), r);
}

static void trial_json(struct json_writer *w, const struct limit_trial *t, unsigned i, bool conns)
{
	json_begin_object(w);
	json_kv_u64(w, "trial", i + 1);
	json_kv_string(w, "stage", t->conn_rate ? "connect_rate" : conns ? "conns" : "rate");
	json_kv_u64(w, "offered", t->offered);
	json_kv_double3(w, "achieved", t->achieved);
	json_kv_double3(w, "acked_rate", t->acked_rate);
	json_kv_double3(w, "duration_s", t->duration_s);
	json_kv_u64(w, "sent", t->sent);
	json_kv_u64(w, "acked", t->acked);
	json_kv_u64(w, "failed", t->failed);
	json_kv_u64(w, "unacked", t->unacked);
	json_kv_u64(w, "not_sent", t->not_sent);
	json_kv_double3(w, "p50_us", (double)t->p50_ns / 1e3);
	json_kv_double3(w, "p99_us", (double)t->p99_ns / 1e3);
	json_kv_double3(w, "p999_us", (double)t->p999_ns / 1e3);
	if (conns)
		json_kv_u64(w, "conns", t->conns);
	json_kv_bool(w, "pass", t->pass);
	json_kv_string(w, "why", t->why);
	report_json_trial_verdict(w, t);
	json_end_object(w);
}

static void answer_json(struct json_writer *w, const struct dash_trials *t)
{
	if (!t->answered) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_kv_string(w, "mode", t->conns ? "conns" : "rate");
	json_kv_bool(w, "found", t->trial >= 0);
	json_key(w, "trial");
	if (t->trial >= 0)
		json_u64(w, (uint64_t)t->trial + 1);
	else
		json_null(w);
	if (t->trial >= 0)
		json_kv_u64(w, t->conns ? "conns" : "rate", t->tr[t->trial].offered);
	if (t->conns && t->rate_trial && t->rate_trial <= t->n) {
		json_kv_u64(w, "connect_rate", t->tr[t->rate_trial - 1].offered);
		json_kv_u64(w, "connect_rate_trial", t->rate_trial);
	}
	json_kv_bool(w, "confirmed", t->trial >= 0 && t->confirmed);
	json_kv_bool(w, "client_bound", t->client_bound);
	json_kv_string(w, "ended", t->ended);
	json_kv_string(w, "says", t->says);
	json_key(w, "bound");
	if (t->bound[0])
		json_string(w, t->bound);
	else
		json_null(w);
	json_end_object(w);
}

void dash_trials_json(FILE *f, const struct dash_trials *t)
{
	struct json_writer w;

	if (!t->on)
		return;
	fputs(",\"trials\":", f);
	json_init(&w, f, false);
	json_begin_array(&w);
	for (unsigned i = 0; i < t->n; i++)
		trial_json(&w, &t->tr[i], i, t->conns);
	json_end_array(&w);
	fputs(",\"limit\":", f);
	json_init(&w, f, false);
	answer_json(&w, t);
}

void dash_trials_free(struct dash_trials *t)
{
	free(t->tr);
	memset(t, 0, sizeof(*t));
}
