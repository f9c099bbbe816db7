/* --hlog and --csv writers, and the atomic write every report file shares. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats/hlog.h"
#include "report/files.h"
#include "report/report.h"
#include "stats/fanout.h"

static double mean_us(uint64_t ns, uint64_t n)
{
	return n ? (double)ns / 1e3 / (double)n : 0;
}

uint64_t report_row_expected(const struct blast_opts *o, const struct series_row *row)
{
	struct blast_totals t = { .sent = row->sent, .matched = row->matched,
				  .share_receipts = row->share_receipts };

	return fanout_expected(o, &t);
}

/* Fan-out columns: receipts in the interval, expected by its messages,
 * and missing so far (expected minus received up to its end, so the last
 * row's is the report's `missing`), then the receipts' latency. */
static void csv_fanout(FILE *f, const struct series_row *r, uint64_t expected, uint64_t missing)
{
	double len = r->len_s > 0 ? r->len_s : 1;

	fprintf(f, ",%.1f,%llu,%llu,%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f", (double)r->received / len,
		(unsigned long long)r->received, (unsigned long long)expected,
		(unsigned long long)missing, (unsigned long long)r->e2e_count,
		(double)r->e2e_p50 / 1e3, (double)r->e2e_p90 / 1e3, (double)r->e2e_p99 / 1e3,
		(double)r->e2e_p999 / 1e3, (double)r->e2e_max / 1e3);
}

int csv_write_series(FILE *f, const struct series *s, const struct blast_opts *o)
{
	bool fan = o && opts_fanout(o);
	uint64_t exp_sum = 0, rx_sum = 0;

	fprintf(f, "time_s,interval_s,sent_per_s,acked_per_s,sent,acked,failed,unacked,errors,"
		   "inflight,conns_up,latency_count,p50_us,p90_us,p99_us,p999_us,max_us,"
		   "cpu_pct,send_late_mean_us,window_wait_mean_us,socket_wait_mean_us%s\n",
		fan ? ",received_per_s,received,expected,missing,e2e_count,e2e_p50_us,e2e_p90_us,"
		      "e2e_p99_us,e2e_p999_us,e2e_max_us" : "");
	for (size_t i = 0; i < s->n; i++) {
		const struct series_row *r = &s->rows[i];
		double len = r->len_s > 0 ? r->len_s : 1;
		fprintf(f,
			"%.3f,%.3f,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f,"
			"%.1f,%.3f,%.3f,%.3f",
			r->t_s, r->len_s, (double)r->sent / len, (double)r->acked / len,
			(unsigned long long)r->sent, (unsigned long long)r->acked,
			(unsigned long long)r->failed, (unsigned long long)r->unacked,
			(unsigned long long)r->errors,
			(unsigned long long)r->inflight, (unsigned long long)r->conns_up,
			(unsigned long long)r->count, (double)r->p50 / 1e3, (double)r->p90 / 1e3,
			(double)r->p99 / 1e3, (double)r->p999 / 1e3, (double)r->max / 1e3,
			/* The workers' CPU over the interval (100 per busy core), and
			 * the mean lateness and waits of the messages sent in it. */
			(double)r->cpu_ns / 1e7 / len, mean_us(r->late_ns, r->sent),
			mean_us(r->window_ns, r->sent), mean_us(r->socket_ns, r->sent));
		if (fan) {
			uint64_t e = report_row_expected(o, r);
			exp_sum += e;
			rx_sum += r->received;
			csv_fanout(f, r, e, exp_sum > rx_sum ? exp_sum - rx_sum : 0);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

int hlog_write_series(FILE *f, const struct series *s)
{
	hlog_write_header(f, s->origin_wall_ms);
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].hlog)
			fputs(s->rows[i].hlog, f);
	return ferror(f) ? -EIO : 0;
}

/* What each of the run's files is written from. */
struct run_files {
	const struct blast_results *r;
	const struct series *s;
};

static int csv_cb(FILE *f, const void *arg)
{
	const struct run_files *a = arg;

	return csv_write_series(f, a->s, a->r->opts);
}

static int hlog_cb(FILE *f, const void *arg)
{
	return hlog_write_series(f, ((const struct run_files *)arg)->s);
}

static int html_cb(FILE *f, const void *arg)
{
	const struct run_files *a = arg;

	return html_write(f, a->r, a->s);
}

int write_atomic(const char *path, int (*write)(FILE *f, const void *arg), const void *arg)
{
	char *tmp = NULL;
	int fd, err;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail;
	}
	err = write(f, arg);
	if (!err && fflush(f) != 0)
		err = -errno;
	if (!err && fsync(fileno(f)) < 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (!err) {
		free(tmp);
		return 0;
	}
fail:
	unlink(tmp);
	free(tmp);
	return err;
}

int report_files_write(const struct blast_opts *o, const struct blast_results *r,
		       const struct series *s)
{
	static const struct {
		const char *flag;
		size_t off;
		int (*write)(FILE *, const void *);
	} files[] = {
		{ "--hlog", offsetof(struct blast_opts, hlog_path), hlog_cb },
		{ "--csv", offsetof(struct blast_opts, csv_path), csv_cb },
		{ "--html", offsetof(struct blast_opts, html_path), html_cb },
	};
	const struct run_files arg = { .r = r, .s = s };
	int rc = 0;

	if (s->lost)
		fprintf(stderr, "blast: %llu worker-second(s) of the series were overwritten before "
				"they were read; those rows are incomplete\n",
			(unsigned long long)s->lost);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = *(char *const *)((const char *)o + files[i].off);
		if (!path)
			continue;
		int err = write_atomic(path, files[i].write, &arg);
		if (err) {
			fprintf(stderr, "blast: cannot write %s %s: %s\n", files[i].flag, path,
				strerror(-err));
			rc = -1;
		}
	}
	return rc;
}

int report_emit(const struct blast_results *r, const struct series *s,
		void (*explain)(void *arg), void *arg)
{
	const struct blast_opts *o = r->opts;
	int rc = r->exit_status;

	report_print_summary(stdout, r);
	fflush(stdout); /* before explain's lines on stderr */
	if (explain)
		explain(arg);
	if (o->report_path) {
		struct blast_results with = *r;
		with.series = s;
		int w = report_write_json(o->report_path, &with);
		if (w < 0) {
			fprintf(stderr, "blast: cannot write report %s: %s\n", o->report_path, strerror(-w));
			rc = rc ? rc : 1;
		}
	}
	if (report_files_write(o, r, s) < 0)
		rc = rc ? rc : 1;
	return rc;
}
