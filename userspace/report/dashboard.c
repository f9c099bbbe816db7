/* The live dashboard's server (see dashboard.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/opts.h"
#include "limit/limit.h"
#include "report/dashboard.h"
#include "report/dashboard_parts.h"
#include "report/mhd_lib.h"
#include "stats/clock.h"

/* libmicrohttpd's calls, loaded by the first dashboard_start. */
static const struct mhd_lib *mhd;

/* The figures of one second the page shows. */
struct dash_row {
	double t_s, len_s;
	uint64_t sent, acked, failed, errors, conns_up, inflight, count;
	int64_t p50, p99, p999;
};

struct dashboard {
	struct MHD_Daemon *mhd;
	int fd;
	char token[33];
	int stop; /* a POST /api/stop was accepted, not yet taken */
	pthread_mutex_t mu; /* guards everything below */
	struct dash_row *rows;
	size_t n, cap;
	uint64_t errors[ERR__COUNT];
	bool done;
	struct blast_totals final;
	bool has_final; /* a single run's totals (not --find-limit's) */
	char stop_reason[40];
	char *report; /* the HTML report, once done */
	size_t report_len;
	struct dash_trials trials; /* --find-limit (dashboard_trials.c) */
	struct dash_wire wire;     /* --probe (dashboard_wire.c) */
	struct limit_watch watch;
	struct dashboard_hooks hooks;
};

/* Second i: the series' figures, and the wire's when probed. */
static void json_row(FILE *f, const struct dashboard *d, size_t i)
{
	const struct dash_row *r = &d->rows[i];

	fprintf(f, "{\"t\":%.3f,\"len\":%.3f,\"sent\":%" PRIu64 ",\"acked\":%" PRIu64
		   ",\"failed\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"conns\":%" PRIu64
		   ",\"inflight\":%" PRIu64 ",\"count\":%" PRIu64 ",\"p50_us\":%.1f,\"p99_us\":%.1f"
		   ",\"p999_us\":%.1f",
		r->t_s, r->len_s, r->sent, r->acked, r->failed, r->errors, r->conns_up, r->inflight,
		r->count, (double)r->p50 / 1e3, (double)r->p99 / 1e3, (double)r->p999 / 1e3);
	dash_wire_row_json(f, &d->wire, i);
	fputc('}', f);
}

/* Everything but the rows: totals so far, errors by reason, the end. */
static void json_head(FILE *f, const struct dashboard *d)
{
	uint64_t sent = 0, acked = 0, failed = 0, errors = 0;

	for (size_t i = 0; i < d->n; i++) {
		sent += d->rows[i].sent;
		acked += d->rows[i].acked;
		failed += d->rows[i].failed;
		errors += d->rows[i].errors;
	}
	fprintf(f, "\"total\":{\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"failed\":%" PRIu64
		   ",\"errors\":%" PRIu64 "},\"errors_by_reason\":{",
		sent, acked, failed, errors);
	const char *sep = "";
	for (unsigned k = 0; k < ERR__COUNT; k++)
		if (d->errors[k]) {
			fprintf(f, "%s\"%s\":%" PRIu64, sep, blast_err_names[k], d->errors[k]);
			sep = ",";
		}
	fprintf(f, "},\"done\":%s", d->done ? "true" : "false");
	if (!d->done)
		return;
	fprintf(f, ",\"final\":{\"stop_reason\":\"%s\",\"report\":%s", d->stop_reason,
		d->report ? "true" : "false");
	if (d->has_final)
		fprintf(f, ",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"failed\":%" PRIu64
			   ",\"unacked\":%" PRIu64, d->final.sent, d->final.acked, d->final.failed,
			d->final.unacked);
	fputc('}', f);
}

/* GET /api/now (the newest second) or /api/series (every second). */
static char *json_answer(struct dashboard *d, bool all, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	pthread_mutex_lock(&d->mu);
	fputc('{', f);
	json_head(f, d);
	dash_wire_total_json(f, &d->wire);
	dash_trials_json(f, &d->trials);
	if (all) {
		fputs(",\"rows\":[", f);
		for (size_t i = 0; i < d->n; i++) {
			if (i)
				fputc(',', f);
			json_row(f, d, i);
		}
		fputc(']', f);
	} else if (d->n) {
		fputs(",\"now\":", f);
		json_row(f, d, d->n - 1);
	}
	struct dashboard_hooks h = d->hooks;
	pthread_mutex_unlock(&d->mu);
	if (h.json)
		h.json(h.ctx, f);
	fputs("}\n", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = mhd->create_response_from_buffer(len, body, mode);

	if (!r)
		return MHD_NO;
	mhd->add_response_header(r, "Content-Type", type);
	mhd->add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ok = mhd->queue_response(c, status, r);
	mhd->destroy_response(r);
	return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain", (void *)msg, strlen(msg), MHD_RESPMEM_PERSISTENT);
}

/* Compares the whole token whatever the first difference. */
static bool token_ok(const struct dashboard *d, const char *got)
{
	size_t n = strlen(d->token);
	unsigned char diff = 0;

	if (!got || strlen(got) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ d->token[i]);
	return diff == 0;
}

static const char *query_arg(void *q, const char *key)
{
	return mhd->lookup_connection_value(q, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result hook_post(struct dashboard *d, struct MHD_Connection *c, const char *url)
{
	char msg[400] = "not found";
	unsigned status = MHD_HTTP_NOT_FOUND;
	struct dashboard_hooks h;

	pthread_mutex_lock(&d->mu);
	h = d->hooks;
	pthread_mutex_unlock(&d->mu);
	if (h.post) {
		msg[0] = '\0';
		status = h.post(h.ctx, url, query_arg, c, msg, sizeof(msg) - 1);
	}
	size_t n = strlen(msg);
	msg[n++] = '\n';
	return reply(c, status, "text/plain", msg, n, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static int seen;
	struct dashboard *d = cls;

	(void)version;
	(void)upload;
	if (!strcmp(method, "POST")) {
		/* Read (and drop) any body before answering. */
		if (!*state) {
			*state = &seen;
			return MHD_YES;
		}
		if (*upload_size) {
			*upload_size = 0;
			return MHD_YES;
		}
		if (strncmp(url, "/api/", 5))
			return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
		if (!token_ok(d, mhd->lookup_connection_value(c, MHD_HEADER_KIND, "X-Blast-Token")))
			return text(c, MHD_HTTP_FORBIDDEN, "a valid X-Blast-Token header is needed\n");
		if (strcmp(url, "/api/stop"))
			return hook_post(d, c, url);
		__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
		return text(c, MHD_HTTP_OK, "stopping\n");
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST\n");
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)dashboard_page,
			     strlen(dashboard_page), MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/api/now") || !strcmp(url, "/api/series")) {
		size_t len = 0;
		char *body = json_answer(d, url[5] == 's', &len);
		if (!body)
			return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return reply(c, MHD_HTTP_OK, "application/json", body, len, MHD_RESPMEM_MUST_FREE);
	}
	if (!strcmp(url, "/report")) {
		pthread_mutex_lock(&d->mu);
		enum MHD_Result r = d->report ?
			reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", d->report, d->report_len,
			      MHD_RESPMEM_MUST_COPY) :
			text(c, MHD_HTTP_NOT_FOUND, "no report yet\n");
		pthread_mutex_unlock(&d->mu);
		return r;
	}
	return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* [ADDR:]PORT into a socket address (no ADDR: 127.0.0.1); -1 with the
 * reason in err. */
static int parse_addr(const char *s, struct sockaddr_in *sa, char *err, size_t cap)
{
	const char *colon = strrchr(s, ':');
	const char *port_s = colon ? colon + 1 : s;
	char host[64] = "127.0.0.1";
	char *end;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (colon && colon > s) {
		if ((size_t)(colon - s) >= sizeof(host)) {
			snprintf(err, cap, "--dashboard %s: the address is too long", s);
			return -1;
		}
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	unsigned long port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port > 65535 || *port_s == '-' || *port_s == '+') {
		snprintf(err, cap, "--dashboard %s: expected [ADDR:]PORT with PORT from 0 to 65535, "
				   "e.g. 127.0.0.1:8080", s);
		return -1;
	}
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		snprintf(err, cap, "--dashboard %s: %s is not an IPv4 address", s, host);
		return -1;
	}
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

struct dashboard *dashboard_start(const char *addr_port, char *err, size_t cap)
{
	struct sockaddr_in sa;
	unsigned char rnd[16];

	if (parse_addr(addr_port, &sa, err, cap) < 0)
		return NULL;
	if (!mhd && !(mhd = mhd_lib(err, cap)))
		return NULL;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, cap, "--dashboard: no random token: %s", strerror(errno));
		return NULL;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		snprintf(err, cap, "--dashboard %s: cannot listen: %s", addr_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	struct dashboard *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, cap, "out of memory");
		close(fd);
		return NULL;
	}
	d->fd = fd;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(d->token + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_init(&d->mu, NULL);
	d->mhd = mhd->start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, d,
				  MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 64u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!d->mhd) {
		snprintf(err, cap, "--dashboard %s: the HTTP server did not start", addr_port);
		close(fd);
		pthread_mutex_destroy(&d->mu);
		free(d);
		return NULL;
	}
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	fprintf(stderr, "blast: dashboard on http://%s:%u/#token=%s (token %s)\n", host,
		ntohs(sa.sin_port), d->token, d->token);
	return d;
}

void dashboard_forget(struct dashboard *d)
{
	if (d)
		close(d->fd);
}

void dashboard_update(struct dashboard *d, const struct series *s, const uint64_t *errors)
{
	if (!d || !s)
		return;
	pthread_mutex_lock(&d->mu);
	if (s->n > d->cap) {
		size_t cap = d->cap ? d->cap : 64;
		while (cap < s->n)
			cap *= 2;
		struct dash_row *rows = realloc(d->rows, cap * sizeof(*rows));
		if (!rows) {
			pthread_mutex_unlock(&d->mu);
			return; /* the page shows fewer seconds; the run goes on */
		}
		d->rows = rows;
		d->cap = cap;
	}
	for (size_t i = d->n; i < s->n; i++) {
		const struct series_row *r = &s->rows[i];
		d->rows[i] = (struct dash_row){ r->t_s, r->len_s, r->sent, r->acked, r->failed,
						r->errors, r->conns_up, r->inflight, r->count,
						r->p50, r->p99, r->p999 };
	}
	d->n = s->n;
	if (errors)
		memcpy(d->errors, errors, sizeof(d->errors));
	pthread_mutex_unlock(&d->mu);
}

void dashboard_set_hooks(struct dashboard *d, const struct dashboard_hooks *h)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->hooks = *h;
	pthread_mutex_unlock(&d->mu);
}

void dashboard_reset(struct dashboard *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->n = 0;
	memset(d->errors, 0, sizeof(d->errors));
	d->done = d->has_final = false;
	d->stop_reason[0] = '\0';
	free(d->report);
	d->report = NULL;
	d->report_len = 0;
	pthread_mutex_unlock(&d->mu);
}

bool dashboard_take_stop(struct dashboard *d)
{
	return d && __atomic_exchange_n(&d->stop, 0, __ATOMIC_ACQ_REL);
}

/* The whole of a file, NUL-terminated; NULL when unreadable. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			char *more = realloc(buf, cap + 65536 + 1);
			if (!more) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = more;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

void dashboard_finish(struct dashboard *d, const struct blast_totals *t, const char *stop_reason,
		      const char *html_path)
{
	size_t len = 0;
	char *html = html_path ? slurp(html_path, &len) : NULL;

	if (!d) {
		free(html);
		return;
	}
	pthread_mutex_lock(&d->mu);
	if (t)
		d->final = *t;
	d->has_final = t != NULL;
	snprintf(d->stop_reason, sizeof(d->stop_reason), "%s", stop_reason ? stop_reason : "");
	free(d->report);
	d->report = html;
	d->report_len = len;
	d->done = true;
	pthread_mutex_unlock(&d->mu);
}

void dashboard_linger(struct dashboard *d, uint64_t linger_ns, volatile sig_atomic_t *signals)
{
	if (!d)
		return;
	sig_atomic_t seen = *signals;
	uint64_t end = linger_ns ? mono_ns() + linger_ns : 0;

	fprintf(stderr, "blast: the dashboard shows the report %s\n",
		linger_ns ? "until --dashboard-linger ends or Ctrl-C" : "until Ctrl-C");
	while (*signals == seen && (!end || mono_ns() < end)) {
		struct timespec nap = { 0, 100 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
}

void dashboard_free(struct dashboard *d)
{
	if (!d)
		return;
	mhd->stop_daemon(d->mhd);
	close(d->fd);
	pthread_mutex_destroy(&d->mu);
	free(d->rows);
	free(d->report);
	dash_trials_free(&d->trials);
	dash_wire_free(&d->wire);
	free(d);
}

/* mkstemp fills the template's Xs: a page was made when they are gone. */
static void page_unlink(char *tmp)
{
	size_t n = strlen(tmp);

	if (n >= 6 && strcmp(tmp + n - 6, "XXXXXX"))
		unlink(tmp);
}

struct dashboard *dashboard_open_run(struct blast_opts *o, char *tmp)
{
	char err[200];
	struct dashboard *d;

	if (!o->html_path) {
		int fd = mkstemp(tmp);
		if (fd < 0 || !(o->html_path = strdup(tmp))) {
			fprintf(stderr, "blast: --dashboard: cannot make a file for the final page: %s\n",
				strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return NULL;
		}
		close(fd);
	}
	d = dashboard_start(o->dashboard, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "blast: %s\n", err);
		page_unlink(tmp);
	}
	return d;
}

void dashboard_close_run(struct dashboard *d, const struct blast_opts *o, char *tmp,
			 volatile sig_atomic_t *signals)
{
	dashboard_linger(d, o->dashboard_linger_ns, signals);
	dashboard_free(d);
	page_unlink(tmp);
}

void dashboard_wire_feed(struct dashboard *d, int (*read_new)(void *arg, struct hist *out),
			 void *arg)
{
	struct dash_wire_row one, all;

	if (!d || !read_new)
		return;
	/* d->n and the histograms change only in this thread: the probe is
	 * read and the percentiles taken outside the lock. */
	size_t row = d->n ? d->n - 1 : 0;
	if (dash_wire_take(&d->wire, read_new, arg, row, &one, &all))
		return;
	pthread_mutex_lock(&d->mu);
	dash_wire_store(&d->wire, row, &one, &all);
	pthread_mutex_unlock(&d->mu);
}

static void watch_trials(void *arg, const struct limit_trial *tr, unsigned n)
{
	struct dashboard *d = arg;

	pthread_mutex_lock(&d->mu);
	dash_trials_set(&d->trials, tr, n);
	pthread_mutex_unlock(&d->mu);
}

static void watch_answer(void *arg, const struct blast_results *r)
{
	struct dashboard *d = arg;

	pthread_mutex_lock(&d->mu);
	dash_trials_answer(&d->trials, r);
	pthread_mutex_unlock(&d->mu);
}

const struct limit_watch *dashboard_limit_watch(struct dashboard *d, bool conns)
{
	if (!d)
		return NULL;
	pthread_mutex_lock(&d->mu);
	d->trials.on = true;
	d->trials.conns = conns;
	pthread_mutex_unlock(&d->mu);
	d->watch = (struct limit_watch){ watch_trials, watch_answer, d };
	return &d->watch;
}
