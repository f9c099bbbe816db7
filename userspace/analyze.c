/* blast analyze: flags, the file mapped into memory, the table. */
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

#include "analyze.h"
#include "opts.h"

static int usage_fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "blast: analyze: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return BLAST_EXIT_USAGE;
}

int analyze_file(const char *path, const struct wm_opts *o, struct wire_stats *out,
		 struct wm_counts *c, char *err, size_t err_cap)
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
	const uint8_t *buf = (const uint8_t *)"";
	size_t len = (size_t)st.st_size;
	void *map = NULL;
	if (len) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			int e = errno;
			snprintf(err, err_cap, "%s: %s", path, strerror(e));
			close(fd);
			return -e;
		}
		madvise(map, len, MADV_SEQUENTIAL);
		buf = map;
	}
	close(fd);
	char why[200];
	int r = wm_analyze_buffer(buf, len, o, out, c, why, sizeof(why));
	if (r)
		snprintf(err, err_cap, "%s: %s", path, why);
	if (map)
		munmap(map, len);
	return r;
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
		   ", not recognised %" PRIu64 ")\n", s->flows, c->flows_by_proto[WM_MQTT],
		c->flows_by_proto[WM_KAFKA], c->flows_by_proto[WM_WS], c->flows_by_proto[WM_AUTO]);
	fprintf(f, "frames       requests %" PRIu64 "  acks %" PRIu64
		   "  (PUBLISH / Produce requests / BLWS messages; PUBACK+PUBCOMP / Produce responses / receipts)\n",
		c->req_frames, c->ack_frames);
	fprintf(f, "messages     requests %" PRIu64 "  acks %" PRIu64 "  unmatched %" PRIu64
		   "  pending %" PRIu64 "\n", s->requests, s->acks, s->unmatched, c->pending);
	fprintf(f, "stream       unparsed %" PRIu64 "  retransmits %" PRIu64 "  real %" PRIu64
		   "  reported duplicate by the receiver (DSACK) %" PRIu64 "\n",
		s->unparsed, s->retransmits, s->retrans_real, s->retrans_dsack);
	fprintf(f, "bytes        out %" PRIu64 " in %" PRIu64 "  segments out %" PRIu64 " in %" PRIu64 "\n",
		s->bytes_out, s->bytes_in, s->segs_out, s->segs_in);
	fprintf(f, "latency (us) %10s %10s %10s %10s %10s %10s %10s\n", "min", "p50", "p90", "p99",
		"p99.9", "max", "count");
	row(f, "wire", &s->latency);
}

static const struct option aopts[] = {
	{ "proto", required_argument, NULL, 'P' },
	{ "port", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int analyze_main(int argc, char **argv)
{
	struct wm_opts o = { .proto = WM_AUTO };
	const char *path = NULL;

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
			printf("usage: blast analyze FILE [--proto mqtt|kafka|ws] [--port N]...\n"
			       "Reads a pcap or pcapng capture, reassembles its TCP streams and matches\n"
			       "requests with acks: MQTT PUBLISH -> PUBACK/PUBCOMP, Kafka Produce ->\n"
			       "response, WebSocket messages with blast's header -> receipts.\n"
			       "  --proto P  decode every flow as P (default: by port, then by first bytes)\n"
			       "  --port N   only flows to server port N (repeatable)\n");
			return 0;
		}
		if (c == '?' || c == ':')
			return usage_fail("%s: unknown option or missing value", argv[optind - 1]);
		if (c == 'P') {
			if (!strcmp(optarg, "mqtt"))
				o.proto = WM_MQTT;
			else if (!strcmp(optarg, "kafka"))
				o.proto = WM_KAFKA;
			else if (!strcmp(optarg, "ws"))
				o.proto = WM_WS;
			else
				return usage_fail("--proto %s: must be mqtt, kafka or ws", optarg);
		} else if (c == 'p') {
			uint64_t v;
			if (parse_u64(optarg, &v) || v < 1 || v > 65535)
				return usage_fail("--port %s: must be a port number 1..65535", optarg);
			if (o.n_ports == WM_MAX_PORTS)
				return usage_fail("--port %s: at most 64 ports", optarg);
			o.ports[o.n_ports++] = (uint16_t)v;
		}
	}
	if (!path)
		return usage_fail("%s", "needs a capture file (blast analyze FILE)");
	struct wire_stats *s = malloc(sizeof(*s));
	struct wm_counts c;
	char err[300];
	if (!s) {
		fprintf(stderr, "blast: out of memory\n");
		return 1;
	}
	int r = analyze_file(path, &o, s, &c, err, sizeof(err));
	if (r) {
		fprintf(stderr, "blast: analyze %s\n", err);
		free(s);
		return BLAST_EXIT_USAGE;
	}
	printf("analyze      %s\n", path);
	analyze_print(stdout, s, &c);
	free(s);
	return 0;
}
