/* blast analyze: flags, the files mapped into memory (the capture, the
 * --against report), the table, the files asked for. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "witness/analyze.h"
#include "config/names.h"
#include "config/opts.h"
#include "report/files.h"
#include "report/report_read.h"
#include "witness/tls_keys.h"

static int usage_fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "blast: analyze: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return BLAST_EXIT_USAGE;
}

/* The whole file, read-only: 0, or -errno with err set. An empty file maps
 * to a non-NULL empty buffer; *map is what file_unmap releases. */
static int file_map(const char *path, const uint8_t **buf, size_t *len, void **map, char *err,
		    size_t err_cap)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		snprintf(err, err_cap, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_cap, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	*buf = (const uint8_t *)"";
	*len = (size_t)st.st_size;
	*map = NULL;
	if (*len) {
		*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (*map == MAP_FAILED) {
			int e = errno;
			snprintf(err, err_cap, "%s: %s", path, strerror(e));
			close(fd);
			*map = NULL;
			return -e;
		}
		madvise(*map, *len, MADV_SEQUENTIAL);
		*buf = *map;
	}
	close(fd);
	return 0;
}

static void file_unmap(void *map, size_t len)
{
	if (map)
		munmap(map, len);
}

/* Maps path and hands its bytes to read (which fills why on failure):
 * 0, or what read or the mapping returned, with "path: reason" in err. */
static int file_read_with(const char *path,
			  int (*read)(const uint8_t *, size_t, void *, char *, size_t), void *ctx,
			  char *err, size_t err_cap)
{
	const uint8_t *buf;
	size_t len;
	void *map;
	char why[200];
	int r = file_map(path, &buf, &len, &map, err, err_cap);

	if (r)
		return r;
	r = read(buf, len, ctx, why, sizeof(why));
	if (r)
		snprintf(err, err_cap, "%s: %s", path, why);
	file_unmap(map, len);
	return r;
}

struct capture_read {
	const struct wm_opts *o;
	struct wire_stats *out;
	struct wm_counts *c;
	struct wm_flow_row **rows;
	size_t *n_rows;
};

static int capture_of(const uint8_t *buf, size_t len, void *ctx, char *why, size_t cap)
{
	struct capture_read *cr = ctx;

	return wm_analyze_buffer(buf, len, cr->o, cr->out, cr->c, cr->rows, cr->n_rows, why, cap);
}

int analyze_file(const char *path, const struct wm_opts *o, struct wire_stats *out,
		 struct wm_counts *c, struct wm_flow_row **rows, size_t *n_rows, char *err,
		 size_t err_cap)
{
	struct capture_read cr = { o, out, c, rows, n_rows };

	return file_read_with(path, capture_of, &cr, err, err_cap);
}

static int keylog_of(const uint8_t *buf, size_t len, void *kl, char *why, size_t cap)
{
	return tls_keylog_parse((const char *)buf, len, kl, why, cap);
}

int analyze_keylog_read(const char *path, struct tls_keylog *kl, char *err, size_t err_cap)
{
	return file_read_with(path, keylog_of, kl, err, err_cap);
}

static int client_of(const uint8_t *buf, size_t len, void *client, char *why, size_t cap)
{
	return report_read_client((const char *)buf, len, client, why, cap);
}

/* --against: the run report's client figures. 0, or -errno with err set. */
static int against_read(const char *path, struct wire_client *client, char *err, size_t err_cap)
{
	return file_read_with(path, client_of, client, err, err_cap);
}

static void row(FILE *f, const char *name, const struct hist *h)
{
	fprintf(f, "  %-10s", name);
	if (!h->total) {
		fprintf(f, " %10s %10s %10s %10s %10s %10s %10d\n", "-", "-", "-", "-", "-", "-", 0);
		return;
	}
	fprintf(f, " %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10" PRIu64 "\n",
		(double)h->min / 1e3, (double)hist_percentile(h, 50) / 1e3,
		(double)hist_percentile(h, 90) / 1e3, (double)hist_percentile(h, 99) / 1e3,
		(double)hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3, h->total);
}

void analyze_print(FILE *f, const struct wire_stats *s, const struct wm_counts *c)
{
	double span = c->last_ns > c->first_ns ? (double)(c->last_ns - c->first_ns) / 1e9 : 0;

	fprintf(f, "capture      %" PRIu64 " packets over %.3f s, %" PRIu64 " TCP segments analysed"
		   ", %" PRIu64 " bad\n", c->packets, span, c->tcp, c->bad_packets);
	fprintf(f, "flows        %" PRIu64 "  (mqtt %" PRIu64 ", kafka %" PRIu64 ", ws %" PRIu64
		   ", http %" PRIu64 ", not recognised %" PRIu64 ")\n", s->flows,
		c->flows_by_proto[WM_MQTT], c->flows_by_proto[WM_KAFKA], c->flows_by_proto[WM_WS],
		c->flows_by_proto[WM_HTTP], c->flows_by_proto[WM_AUTO]);
	fprintf(f, "frames       requests %" PRIu64 "  acks %" PRIu64
		   "  (PUBLISH / Produce requests / BLWS messages / HTTP requests; PUBACK+PUBCOMP / Produce"
		   " responses / receipts / HTTP responses)\n",
		c->req_frames, c->ack_frames);
	fprintf(f, "messages     requests %" PRIu64 "  acks %" PRIu64 "  unmatched %" PRIu64
		   "  pending %" PRIu64 "\n", s->requests, s->acks, s->unmatched, c->pending);
	fprintf(f, "stream       unparsed %" PRIu64 "  gaps %" PRIu64 "  retransmits %" PRIu64
		   "  real %" PRIu64 "  reported duplicate by the receiver (DSACK) %" PRIu64 "\n",
		s->unparsed, c->gaps, s->retransmits, s->retrans_real, s->retrans_dsack);
	if (s->tls_flows)
		fprintf(f, "tls          %" PRIu64 " flows: decrypted %" PRIu64 "  no key %" PRIu64
			   "  failed %" PRIu64 "\n", s->tls_flows, s->tls_decrypted, s->tls_no_key,
			s->tls_failed);
	if (c->drops_known)
		fprintf(f, "drops        %" PRIu64 " recorded in the file (capture %" PRIu64
			   ", interface %" PRIu64 ")\n", c->osdrop + c->ifdrop, c->osdrop, c->ifdrop);
	else
		fprintf(f, "drops        not recorded in the file\n");
	fprintf(f, "bytes        out %" PRIu64 " in %" PRIu64 "  segments out %" PRIu64 " in %" PRIu64 "\n",
		s->bytes_out, s->bytes_in, s->segs_out, s->segs_in);
	fprintf(f, "latency (us) %10s %10s %10s %10s %10s %10s %10s\n", "min", "p50", "p90", "p99",
		"p99.9", "max", "count");
	row(f, "wire", &s->latency);
}

static const struct option aopts[] = {
	{ "proto", required_argument, NULL, 'P' },
	{ "port", required_argument, NULL, 'p' },
	{ "report", required_argument, NULL, 'r' },
	{ "html", required_argument, NULL, 'H' },
	{ "against", required_argument, NULL, 'a' },
	{ "keylog", required_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char help[] =
	"usage: blast analyze FILE [--proto mqtt|kafka|ws|http] [--port N]... [--report OUT.json]\n"
	"                     [--html OUT.html] [--against RUN.json] [--keylog KEYS]\n"
	"Reads a pcap or pcapng capture, reassembles its TCP streams and matches\n"
	"requests with acks: MQTT PUBLISH -> PUBACK/PUBCOMP, Kafka Produce ->\n"
	"response, WebSocket messages with blast's header -> receipts, HTTP/1.1\n"
	"requests -> responses (in order per connection, pipelined or not).\n"
	"  --proto P         decode every flow as P (default: by port, then by first bytes)\n"
	"  --port N          only flows to server port N (repeatable)\n"
	"  --report OUT.json the \"wire\" object of a --pcap run's report, the capture's\n"
	"                    counts and one row per flow (latencies in microseconds)\n"
	"  --html OUT.html   the same as a self-contained page\n"
	"  --against RUN.json  a run's report (blast ... --report RUN.json): its client\n"
	"                    figures beside the capture's, and client - wire per percentile\n"
	"  --keylog KEYS     an NSS key log (blast --keylog, SSLKEYLOGFILE): TLS 1.2 and\n"
	"                    1.3 flows it holds keys for are decrypted and matched too\n"
	"Exit status 1, with a warning line each, when the figures are partial (gaps in\n"
	"the streams, drops the file records, acks with no request, a damaged tail, TLS\n"
	"flows not decrypted) or no flow or message matches; 2 for bad flags, a file\n"
	"with nothing readable or a key log that is not one.\n";

/* A flag that takes a file, given once. */
static int set_once(const char **slot, const char *flag, const char *arg)
{
	if (*slot)
		return usage_fail("%s given twice", flag);
	if (!*arg)
		return usage_fail("%s needs a file name", flag);
	*slot = arg;
	return 0;
}

/* The files asked for; a failure is named on stderr. 0 or 1. */
static int write_outputs(const char *json, const char *html, const struct analysis *a)
{
	const struct {
		const char *flag, *path;
		int (*write)(FILE *, const void *);
	} out[] = { { "--report", json, analyze_write_json }, { "--html", html, analyze_write_html } };
	int rc = 0;

	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		int r = out[i].path ? write_atomic(out[i].path, out[i].write, a) : 0;
		if (r) {
			fprintf(stderr, "blast: analyze: cannot write %s %s: %s\n", out[i].flag,
				out[i].path, strerror(-r));
			rc = 1;
		}
	}
	return rc;
}

int analyze_main(int argc, char **argv)
{
	struct wm_opts o = { .proto = WM_AUTO };
	const char *path = NULL, *json = NULL, *html = NULL, *against = NULL, *keylog = NULL;
	int bad = 0;

	opterr = 0;
	optind = 0;
	for (;;) {
		int idx = -1;
		int c = getopt_long(argc, argv, "+:", aopts, &idx);
		if (c == -1) {
			if (optind < argc) {
				if (path)
					return usage_fail("one file only (%s is a second)", argv[optind]);
				path = argv[optind++];
				continue;
			}
			break;
		}
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (c == '?' || c == ':')
			return usage_fail("%s: unknown option or missing value", argv[optind - 1]);
		if (c == 'P') {
			static const enum wm_proto wm_of[] = {
				[PROTO_MQTT] = WM_MQTT, [PROTO_KAFKA] = WM_KAFKA, [PROTO_WS] = WM_WS,
				[PROTO_HTTP] = WM_HTTP,
			};
			int proto;
			if (name_find(proto_names, optarg, &proto))
				return usage_fail("--proto %s: must be mqtt, kafka, ws or http", optarg);
			o.proto = wm_of[proto];
		} else if (c == 'p') {
			uint64_t v;
			if (parse_u64(optarg, &v) || v < 1 || v > 65535)
				return usage_fail("--port %s: must be a port number 1..65535", optarg);
			if (o.n_ports == WM_MAX_PORTS)
				return usage_fail("--port %s: at most 64 ports", optarg);
			o.ports[o.n_ports++] = (uint16_t)v;
		} else if (c == 'r') {
			bad = set_once(&json, "--report", optarg);
		} else if (c == 'H') {
			bad = set_once(&html, "--html", optarg);
		} else if (c == 'a') {
			bad = set_once(&against, "--against", optarg);
		} else if (c == 'k') {
			bad = set_once(&keylog, "--keylog", optarg);
		}
		if (bad)
			return bad;
	}
	if (!path)
		return usage_fail("%s", "needs a capture file (blast analyze FILE)");

	char err[400];
	struct wire_client client;
	/* The report first: a wrong one fails before a long capture is read. */
	if (against && against_read(against, &client, err, sizeof(err))) {
		fprintf(stderr, "blast: analyze --against %s\n", err);
		return BLAST_EXIT_USAGE;
	}
	struct tls_keylog kl = { 0 };
	if (keylog && analyze_keylog_read(keylog, &kl, err, sizeof(err))) {
		fprintf(stderr, "blast: analyze --keylog %s\n", err);
		return BLAST_EXIT_USAGE;
	}
	o.keylog = keylog ? &kl : NULL;
	struct wire_stats *s = malloc(sizeof(*s));
	struct wm_counts c;
	struct wm_flow_row *rows = NULL;
	size_t n_rows = 0;
	if (!s) {
		fprintf(stderr, "blast: out of memory\n");
		tls_keylog_free(&kl);
		return 1;
	}
	o.flow_rows = json || html;
	int r = analyze_file(path, &o, s, &c, o.flow_rows ? &rows : NULL, &n_rows, err, sizeof(err));
	if (r) {
		fprintf(stderr, "blast: analyze %s\n", err);
		free(s);
		tls_keylog_free(&kl);
		return BLAST_EXIT_USAGE;
	}
	struct analyze_warnings warn;
	analyze_warnings(s, &c, &o, &warn);
	printf("analyze      %s\n", path);
	analyze_print(stdout, s, &c);
	if (against) {
		printf("against      %s\n", against);
		report_wire_witness(stdout, &client, s);
	}
	fflush(stdout);
	/* After the table, so that they are the last thing read. */
	for (unsigned i = 0; i < warn.n; i++)
		fprintf(stderr, "blast: analyze: warning: %s\n", warn.line[i]);
	const struct analysis a = { .warn = &warn, .path = path, .s = s, .c = &c, .rows = rows,
				    .n_rows = n_rows, .against = against,
				    .client = against ? &client : NULL };
	int rc = write_outputs(json, html, &a);
	if (warn.n)
		rc = 1;
	free(rows);
	free(s);
	tls_keylog_free(&kl);
	return rc;
}
