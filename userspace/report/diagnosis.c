/* The run's view of itself and its verdict, written out (diagnosis.h). */
#include <inttypes.h>
#include <stdio.h>

#include "config/opts.h"
#include "report/diagnosis.h"
#include "report/json.h"
#include "report/report.h"
#include "report/svg.h"
#include "stats/diag.h"
#include "stats/hist.h"
#include "stats/wire.h"

bool diagnosis_judge(const struct blast_results *r, struct verdict *v)
{
	const struct diag_run *dr = r->diag;

	/* A run that sent nothing has no bottleneck to name: its status
	 * (status.c) says what stopped it. */
	if (!dr || !r->t.sent)
		return false;
	const struct diag_counts *d = &dr->c;
	/* The probe sees every segment of every connection; without it, the
	 * sockets that were still open when sending ended tell their own. */
	const struct wire_stats *ws = r->wire_probe;
	struct verdict_in in = {
		.paced = r->opts && r->opts->rate,
		.sent = r->t.sent,
		.not_sent = r->t.not_sent,
		.unacked = r->t.unacked,
		.late_p99_ns = hist_percentile(&dr->h->late, 99),
		.d = d,
		.retrans = ws ? ws->retrans_real : d->tcp_retrans,
		.segs_out = ws ? ws->segs_out : d->tcp_segs_out,
		.retrans_from = ws ? "probe" : "tcp_info",
		.retrans_real = ws != NULL,
	};
	verdict_decide(&in, v);
	return true;
}

static double per(uint64_t n, uint64_t calls)
{
	return calls ? (double)n / (double)calls : 0;
}

static double ms_at(const struct hist *h, double p)
{
	return (double)hist_percentile(h, p) / 1e6;
}

void diagnosis_print(FILE *f, const struct blast_results *r)
{
	struct verdict v;

	if (!diagnosis_judge(r, &v))
		return;
	const struct diag_counts *d = &r->diag->c;
	const struct diag_hists *h = r->diag->h;
	fprintf(f, "client       cpu %.0f%% (waiting for one %.0f%%)", d->busiest_cpu_pm / 10.0,
		d->busiest_runq_pm / 10.0);
	if (h->late.total)
		fprintf(f, "  send late p50 %.2f p99 %.2f ms (%.0f%% ahead, at most %.2f ms)  window wait p99 %.2f ms  socket wait p99 %.2f ms",
			ms_at(&h->late, 50), ms_at(&h->late, 99),
			100.0 * (double)d->ahead_n / (double)h->late.total, (double)d->ahead_max_ns / 1e6,
			ms_at(&h->wait_window, 99), ms_at(&h->wait_socket, 99));
	fprintf(f, "  io_uring %.1f sqe/submit %.1f cqe/reap\n", per(d->sqes, d->submits),
		per(d->cqes, d->reaps));
	fprintf(f, "bottleneck: %s (%s)\n", bottleneck_name(v.what), v.evidence);
}

static void json_batches(struct json_writer *j, const char *key, const uint64_t *b)
{
	json_key(j, key);
	json_begin_array(j);
	for (unsigned i = 0; i < DIAG_BATCH_BUCKETS; i++)
		json_u64(j, b[i]);
	json_end_array(j);
}

void diagnosis_json(struct json_writer *j, const struct blast_results *r)
{
	struct verdict v;

	if (!diagnosis_judge(r, &v))
		return;
	const struct diag_counts *d = &r->diag->c;
	const struct diag_hists *h = r->diag->h;
	json_key(j, "diagnosis");
	json_begin_object(j);
	json_kv_string(j, "bottleneck", bottleneck_name(v.what));
	json_kv_string(j, "evidence", v.evidence);
	json_key(j, "cpu");
	json_begin_object(j);
	json_kv_double3(j, "publish_s", (double)d->publish_ns / 1e9);
	json_kv_double3(j, "user_s", (double)d->cpu_user_ns / 1e9);
	json_kv_double3(j, "sys_s", (double)d->cpu_sys_ns / 1e9);
	json_kv_double3(j, "runq_wait_s", (double)d->runq_ns / 1e9);
	/* Cores the workers kept busy while publishing, all together. */
	json_kv_double3(j, "cores", per(d->cpu_user_ns + d->cpu_sys_ns, d->publish_ns));
	json_kv_double3(j, "busiest_on_cpu_pct", d->busiest_cpu_pm / 10.0);
	json_kv_double3(j, "busiest_waiting_pct", d->busiest_runq_pm / 10.0);
	json_end_object(j);
	report_json_latency(j, "send_late_us", &h->late);
	report_json_latency(j, "window_wait_us", &h->wait_window);
	report_json_latency(j, "socket_wait_us", &h->wait_socket);
	json_kv_double3(j, "late_total_s", (double)d->late_ns / 1e9);
	/* Sent ahead of schedule in a paced batch, timed from when they left. */
	json_kv_u64(j, "sent_ahead", d->ahead_n);
	json_kv_double3(j, "sent_ahead_max_us", (double)d->ahead_max_ns / 1e3);
	json_kv_double3(j, "window_wait_total_s", (double)d->window_ns / 1e9);
	json_kv_double3(j, "socket_wait_total_s", (double)d->socket_ns / 1e9);
	json_key(j, "at_send_end");
	json_begin_object(j);
	json_kv_u64(j, "window_full", d->end_window);
	json_kv_u64(j, "send_waiting", d->end_socket);
	json_kv_u64(j, "free", d->end_free);
	json_end_object(j);
	json_kv_u64(j, "acks_stalled_s", d->stalled_s);
	json_kv_u64(j, "longest_ack_stall_s", d->stall_run_s);
	json_key(j, "io_uring");
	json_begin_object(j);
	json_kv_u64(j, "turns", d->turns);
	json_kv_u64(j, "submits", d->submits);
	json_kv_u64(j, "sqes", d->sqes);
	json_kv_double3(j, "sqe_per_submit", per(d->sqes, d->submits));
	json_kv_u64(j, "reaps", d->reaps);
	json_kv_u64(j, "cqes", d->cqes);
	json_kv_double3(j, "cqe_per_reap", per(d->cqes, d->reaps));
	/* Counts of batches of 1, 2-3, 4-7, ..., 512 and more. */
	json_batches(j, "sqe_batches_log2", d->sqe_batch);
	json_batches(j, "cqe_batches_log2", d->cqe_batch);
	json_end_object(j);
	json_key(j, "tcp_info");
	json_begin_object(j);
	json_kv_u64(j, "conns", d->tcp_conns);
	json_kv_u64(j, "retransmits", d->tcp_retrans);
	json_kv_u64(j, "segs_out", d->tcp_segs_out);
	json_kv_u64(j, "srtt_us_max", d->srtt_us_max);
	json_kv_u64(j, "min_rtt_us", d->min_rtt_us);
	json_end_object(j);
	json_key(j, "quick_acks");
	json_begin_object(j);
	json_kv_u64(j, "sent", d->quick_acks);
	json_kv_u64(j, "peers_sending_unacked", d->peers_push);
	json_kv_u64(j, "peers_then_waiting", d->peers_wait);
	json_end_object(j);
	json_end_object(j);
}

static void html_ms_row(FILE *f, const char *what, const struct hist *h)
{
	fprintf(f, "<tr><td>%s</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%" PRIu64 "</td></tr>\n",
		what, ms_at(h, 50), ms_at(h, 99), h->total ? (double)h->max / 1e6 : 0, h->total);
}

void diagnosis_html(FILE *f, const struct blast_results *r)
{
	struct verdict v;

	if (!diagnosis_judge(r, &v))
		return;
	const struct diag_counts *d = &r->diag->c;
	const struct diag_hists *h = r->diag->h;
	fprintf(f, "<section id=\"diagnosis\"><h2>bottleneck: <span class=\"%s\">",
		v.what == BOTTLENECK_BROKER ? "ok" : "bad");
	html_escape(f, bottleneck_name(v.what));
	fprintf(f, "</span></h2>\n<p>");
	html_escape(f, v.evidence);
	fprintf(f, "</p>\n<table><tr><th>client</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th>"
		   "<th>count</th></tr>\n");
	html_ms_row(f, "send late", &h->late);
	html_ms_row(f, "waiting for a window", &h->wait_window);
	html_ms_row(f, "waiting for socket room", &h->wait_socket);
	fprintf(f, "</table>\n<p class=\"note\">Busiest worker on a CPU %.1f%%, waiting for one %.1f%% "
		   "of the publish phase. io_uring: %.1f SQEs per submit, %.1f CQEs per reap. "
		   "When sending ended: %" PRIu64 " connection(s) with a full window, %" PRIu64
		   " with a send waiting, %" PRIu64 " free. Longest ack stall %" PRIu64 " s.</p>"
		   "</section>\n",
		d->busiest_cpu_pm / 10.0, d->busiest_runq_pm / 10.0, per(d->sqes, d->submits),
		per(d->cqes, d->reaps), d->end_window, d->end_socket, d->end_free, d->stall_run_s);
}
