/* blast merge (see merge.h): the reports read (merge_read.c), then their
 * seconds as one series and the whole as one run's results. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/files.h"
#include "report/merge.h"
#include "report/merge_read.h"
#include "report/report.h"
#include "stats/hlog.h"

#define MERGE_MAX_FILE (256u << 20)

static int bad(const char *path, const char *what)
{
	fprintf(stderr, "blast merge: %s: %s\n", path, what);
	return BLAST_EXIT_USAGE;
}

static int by_sec(const void *a, const void *b)
{
	uint64_t x = ((const struct msec *)a)->sec, y = ((const struct msec *)b)->sec;

	return x < y ? -1 : x > y;
}

/* The merged seconds as a series, from the first second on. */
static int build_series(struct merge *m, struct series *s)
{
	memset(s, 0, sizeof(*s));
	qsort(m->secs, m->n_secs, sizeof(*m->secs), by_sec);
	if (!m->n_secs)
		return 0;
	uint64_t first = m->secs[0].sec;
	s->origin_wall_ms = first * 1000;
	s->keep_hlog = true;
	s->rows = calloc(m->n_secs, sizeof(*s->rows));
	s->runs = calloc(1, sizeof(*s->runs));
	if (!s->rows || !s->runs)
		return -1;
	s->n = s->cap = m->n_secs;
	s->n_runs = 1;
	s->runs[0].publish_from = m->pub_from_ms > 0 ? (m->pub_from_ms - (double)s->origin_wall_ms) / 1e3 : 0;
	s->runs[0].publish_to = m->pub_to_ms > 0 ? (m->pub_to_ms - (double)s->origin_wall_ms) / 1e3 : 0;
	for (size_t i = 0; i < m->n_secs; i++) {
		struct series_row *r = &s->rows[i];
		const struct hist *h = m->secs[i].h;
		double start = (double)(m->secs[i].sec - first);
		*r = m->secs[i].row;
		r->t_s = start + r->len_s;
		r->count = h->total;
		r->p50 = hist_percentile(h, 50);
		r->p90 = hist_percentile(h, 90);
		r->p99 = hist_percentile(h, 99);
		r->p999 = hist_percentile(h, 99.9);
		r->max = h->total ? h->max : 0;
		r->hlog = hlog_interval_line(start, r->len_s, h);
		if (!r->hlog)
			return -1;
	}
	return 0;
}

/* Reads path whole into *buf (NUL-terminated). */
static int slurp(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char line[300];

	if (!f) {
		snprintf(line, sizeof(line), "cannot read: %s", strerror(errno));
		return bad(path, line);
	}
	*buf = malloc(MERGE_MAX_FILE + 1);
	*len = *buf ? fread(*buf, 1, MERGE_MAX_FILE + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!*buf || err)
		return bad(path, "cannot read it whole");
	if (*len > MERGE_MAX_FILE)
		return bad(path, "larger than 256 MiB: not a report");
	(*buf)[*len] = '\0';
	return 0;
}

static int merge_usage(const char *why)
{
	fprintf(stderr, "blast merge: %s (usage: blast merge RUN.json... [--report OUT.json] "
			"[--csv OUT.csv] [--hlog OUT.hlog] [--html OUT.html])\n", why);
	return BLAST_EXIT_USAGE;
}

/* The merge's flags into o; the reports' names into files. */
static int merge_args(int argc, char **argv, struct blast_opts *o, const char **files, int *n)
{
	static const char *const names[] = { "--report", "--csv", "--hlog", "--html" };
	char **dst[] = { &o->report_path, &o->csv_path, &o->hlog_path, &o->html_path };

	*n = 0;
	for (int i = 1; i < argc; i++) {
		unsigned k = 0;
		const char *val = NULL;
		for (; k < 4; k++) {
			size_t l = strlen(names[k]);
			if (!strncmp(argv[i], names[k], l) && (argv[i][l] == '=' || !argv[i][l])) {
				val = argv[i][l] == '=' ? argv[i] + l + 1 : i + 1 < argc ? argv[++i] : NULL;
				break;
			}
		}
		if (k < 4) {
			if (!val || !*val)
				return merge_usage("a file name is due after the flag");
			free(*dst[k]);
			*dst[k] = strdup(val);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			char line[200];
			snprintf(line, sizeof(line), "unknown flag %.100s", argv[i]);
			return merge_usage(line);
		} else {
			files[(*n)++] = argv[i];
		}
	}
	return *n ? 0 : merge_usage("no report to merge");
}

int merge_emit(struct merge *m, int exit_status)
{
	struct series s = { 0 };
	int r;

	if (m->shards && m->n < m->shards)
		fprintf(stderr, "blast merge: %llu of the run's %llu shards: the result is partial\n",
			(unsigned long long)m->n, (unsigned long long)m->shards);
	if (build_series(m, &s)) {
		fprintf(stderr, "blast merge: out of memory\n");
		series_free(&s);
		return 3;
	}
	m->o.has_messages = m->o.has_messages || m->o.messages;
	struct blast_results res = {
		.opts = &m->o,
		.t = m->t,
		.duration_s = m->end_ms > m->pub_from_ms ? (m->end_ms - m->pub_from_ms) / 1e3 : 0,
		.publish_s = m->pub_to_ms > m->pub_from_ms ? (m->pub_to_ms - m->pub_from_ms) / 1e3 : 0,
		.latency = m->lat,
		.latency_raw = m->raw,
		.connect = m->con,
		.e2e = m->e2e,
		.expected = m->fan_owed, /* fan-out: the shares' owed receipts, summed */
		.peak_conns = m->peak,
		.rss_bytes = m->rss,
		.exit_status = exit_status > m->exit_status ? exit_status : m->exit_status,
		.stop_reason = m->stop_reason ? m->stop_reason : "unknown",
		.merged_reports = (unsigned)m->n,
		.merged_shards = (unsigned)m->shards,
		.agents = m->agents,
		.n_agents = m->n_agents,
		.max_clock_offset_ms = m->max_clock_offset_ms,
		.control = m->control,
		.first_send_wall_ms = m->first_send_ms,
		.wire_probe = m->wire_reports ? m->wire : NULL,
	};
	if (m->wire_reports && m->wire_reports < m->n)
		fprintf(stderr, "blast merge: %llu of %llu reports were probed: the wire figures are "
				"theirs only\n", (unsigned long long)m->wire_reports,
			(unsigned long long)m->n);
	/* Fan-out's send and all-received times: the spans of publishing and
	 * of the run (the reports keep no last receipt's time). */
	res.send_s = res.publish_s;
	res.batch_s = res.duration_s;
	r = report_emit(&res, &s, NULL, NULL);
	series_free(&s);
	return r;
}

int merge_main(int argc, char **argv)
{
	struct merge m;
	const char **files = calloc((size_t)argc, sizeof(*files));
	int n, r;

	if (merge_init(&m) || !files) {
		fprintf(stderr, "blast merge: out of memory\n");
		r = 3;
		goto out;
	}
	if ((r = merge_args(argc, argv, &m.o, files, &n)))
		goto out;
	for (int i = 0; i < n && !r; i++) {
		char *buf = NULL;
		size_t len;
		r = slurp(files[i], &buf, &len);
		if (!r)
			r = merge_add(&m, files[i], buf, len);
		free(buf);
	}
	if (!r)
		r = merge_emit(&m, 0);
out:
	merge_free(&m);
	free(files);
	return r;
}
