/* kafka_mock: a librdkafka mock Kafka cluster on loopback, for blast's
 * end-to-end tests (no Apache Kafka broker installs from Debian).
 *
 *   kafka_mock --brokers N [--topic NAME:PARTITIONS[:RF]]... [--port-file FILE]
 *
 * Prints "bootstrap=127.0.0.1:PORT,..." (one entry per broker, broker id 1
 * first) on stdout and in FILE, then serves until SIGTERM, SIGINT, stdin
 * EOF or "quit". Commands on stdin, one per line; each gets exactly one
 * answer line on stdout, "ok" or "error: why":
 *
 *   leader TOPIC PARTITION BROKER_ID   move a partition leader (-1: none)
 *   errors APIKEY CODE...              the next requests of that API (from
 *                                      any connection) fail with these codes,
 *                                      in order; CODE is a number or a name
 *                                      (NOT_ENOUGH_REPLICAS)
 *   broker_errors ID APIKEY CODE[@RTT_MS]...  same, for one broker only
 *   clear_errors APIKEY                drop pending injected errors
 *   broker_down ID / broker_up ID      close a broker's connections and
 *                                      refuse new ones / accept again
 *                                      (no leader change either way)
 *   rtt ID MS                          delay every response of a broker
 *   create TOPIC PARTITIONS [RF]       create a topic
 *   topic_error TOPIC CODE             Metadata reports CODE for TOPIC
 *                                      (UNKNOWN_TOPIC_OR_PART = 3 makes it
 *                                      look absent; 0 clears)
 *   apiversion APIKEY MIN MAX          change an advertised version range
 *   quit                               answer ok and exit
 *
 * The mock's own behaviour (librdkafka 2.0.2, src/rdkafka_mock*.c): it
 * ignores Produce acks and always answers, even acks=0; Metadata for an
 * unknown topic creates it (Metadata is capped at v2, which has no
 * allow_auto_topic_creation), so tests simulate a missing topic with
 * topic_error; replicas are the first min(3, brokers) brokers whatever RF
 * is asked, and each partition's first leader is picked at random. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ERRS 256

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kafka_mock --brokers N [--topic NAME:PARTITIONS[:RF]]... "
		   "[--port-file FILE]\n");
}

/* Parses a decimal integer in [lo, hi]; returns 0 or -EINVAL. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A Kafka error code by number ("19") or name ("NOT_ENOUGH_REPLICAS",
 * case-insensitive, with or without librdkafka's "ERR_" prefix). */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
	const struct rd_kafka_err_desc *descs;
	size_t n, i;
	long v;

	if (parse_int(s, -200, 32767, &v) == 0) {
		*out = (rd_kafka_resp_err_t)v;
		return 0;
	}
	if (!strncasecmp(s, "ERR_", 4))
		s += 4;
	rd_kafka_get_err_descs(&descs, &n);
	for (i = 0; i < n; i++) {
		if (descs[i].name && !strcasecmp(descs[i].name, s)) {
			*out = descs[i].code;
			return 0;
		}
	}
	return -EINVAL;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *name, long parts,
			long rf, char *why, size_t whylen)
{
	rd_kafka_resp_err_t err;

	err = rd_kafka_mock_topic_create(mc, name, (int)parts, (int)rf);
	if (err) {
		snprintf(why, whylen, "create %.200s: %s", name, rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* Splits line in place on blanks; returns the word count (at most max). */
static int split(char *line, char **argv, int max)
{
	int n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(line, " \t\r", &save); w && n < max; w = strtok_r(NULL, " \t\r", &save))
		argv[n++] = w;
	return n;
}

/* Runs one command line. Returns 1 for quit, 0 otherwise; *why is empty
 * on success. */
static int run_cmd(rd_kafka_mock_cluster_t *mc, char *line, char *why, size_t whylen)
{
	char *argv[MAX_ERRS + 4];
	rd_kafka_resp_err_t errs[MAX_ERRS], err = 0;
	long a, b, c;
	int argc, i;

	why[0] = '\0';
	argc = split(line, argv, MAX_ERRS + 4);
	if (argc == 0) {
		snprintf(why, whylen, "empty command");
		return 0;
	}
#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); return 0; } while (0)
	if (!strcmp(argv[0], "quit")) {
		return 1;
	} else if (!strcmp(argv[0], "leader")) {
		if (argc != 4 || parse_int(argv[2], 0, INT_MAX, &a) ||
		    parse_int(argv[3], -1, INT_MAX, &b))
			BAD("usage: leader TOPIC PARTITION BROKER_ID");
		err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b);
	} else if (!strcmp(argv[0], "errors") || !strcmp(argv[0], "broker_errors")) {
		int broker = !strcmp(argv[0], "broker_errors");
		int first = broker ? 3 : 2;

		if (argc < first + 1 || (broker && parse_int(argv[1], 0, INT_MAX, &b)) ||
		    parse_int(argv[first - 1], 0, 32767, &a))
			BAD(broker ? "usage: broker_errors BROKER_ID APIKEY CODE[@RTT_MS]..."
				   : "usage: errors APIKEY CODE...");
		if (argc - first > MAX_ERRS)
			BAD("at most %d codes", MAX_ERRS);
		for (i = first; i < argc; i++) {
			char *at = broker ? strchr(argv[i], '@') : NULL;

			c = 0;
			if (at) {
				*at = '\0';
				if (parse_int(at + 1, 0, INT_MAX, &c))
					BAD("bad RTT in %s@%s", argv[i], at + 1);
			}
			if (parse_err(argv[i], &errs[i - first]))
				BAD("unknown error code %s", argv[i]);
			if (broker) {
				/* One tuple per call: calls append to the stack in order. */
				err = rd_kafka_mock_broker_push_request_error_rtts(
					mc, (int32_t)b, (int16_t)a, 1, errs[i - first], (int)c);
				if (err)
					break;
			}
		}
		if (!broker)
			rd_kafka_mock_push_request_errors_array(mc, (int16_t)a,
								(size_t)(argc - first), errs);
	} else if (!strcmp(argv[0], "clear_errors")) {
		if (argc != 2 || parse_int(argv[1], 0, 32767, &a))
			BAD("usage: clear_errors APIKEY");
		rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
	} else if (!strcmp(argv[0], "broker_down") || !strcmp(argv[0], "broker_up")) {
		if (argc != 2 || parse_int(argv[1], -1, INT_MAX, &a))
			BAD("usage: %s BROKER_ID", argv[0]);
		err = argv[0][7] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)a)
					: rd_kafka_mock_broker_set_up(mc, (int32_t)a);
	} else if (!strcmp(argv[0], "rtt")) {
		if (argc != 3 || parse_int(argv[1], -1, INT_MAX, &a) ||
		    parse_int(argv[2], 0, INT_MAX, &b))
			BAD("usage: rtt BROKER_ID MS");
		err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
	} else if (!strcmp(argv[0], "create")) {
		if (argc < 3 || argc > 4 || parse_int(argv[2], 1, 100000, &a) ||
		    (argc == 4 && parse_int(argv[3], 1, 1000, &b)))
			BAD("usage: create TOPIC PARTITIONS [RF]");
		if (create_topic(mc, argv[1], a, argc == 4 ? b : 1, why, whylen))
			return 0;
	} else if (!strcmp(argv[0], "topic_error")) {
		if (argc != 3 || parse_err(argv[2], &err))
			BAD("usage: topic_error TOPIC CODE");
		rd_kafka_mock_topic_set_error(mc, argv[1], err);
		err = 0;
	} else if (!strcmp(argv[0], "apiversion")) {
		if (argc != 4 || parse_int(argv[1], 0, 32767, &a) ||
		    parse_int(argv[2], -1, 32767, &b) || parse_int(argv[3], -1, 32767, &c))
			BAD("usage: apiversion APIKEY MIN MAX");
		err = rd_kafka_mock_set_apiversion(mc, (int16_t)a, (int16_t)b, (int16_t)c);
	} else {
		BAD("unknown command %s", argv[0]);
	}
#undef BAD
	if (err)
		snprintf(why, whylen, "%s: %s", argv[0], rd_kafka_err2str(err));
	return 0;
}

static void answer(const char *why)
{
	if (why[0])
		printf("error: %s\n", why);
	else
		printf("ok\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char errstr[512], why[1024], buf[8192], path_tmp[4096];
	const char *port_file = NULL, *bootstraps;
	const char *topics[256];
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	struct sigaction sa;
	size_t len = 0;
	long brokers = 0;
	int ntopics = 0, i, rc = 1, quit = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "kafka_mock: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--brokers")) {
			if (parse_int(v, 1, 64, &brokers)) {
				fprintf(stderr, "kafka_mock: --brokers %s: want 1 to 64\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--topic")) {
			if (ntopics == (int)(sizeof(topics) / sizeof(topics[0]))) {
				fprintf(stderr, "kafka_mock: too many --topic\n");
				return 2;
			}
			topics[ntopics++] = v;
		} else if (!strcmp(a, "--port-file")) {
			port_file = v;
		} else {
			fprintf(stderr, "kafka_mock: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (!brokers) {
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The mock needs a handle for its bookkeeping; this producer has no
	 * bootstrap servers and never connects anywhere. */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr))) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka_mock: rd_kafka_new: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
	if (!mc) {
		fprintf(stderr, "kafka_mock: rd_kafka_mock_cluster_new failed\n");
		goto cleanup;
	}

	for (i = 0; i < ntopics; i++) {
		char spec[512], *name, *p1, *p2;
		long parts, rf = 1;

		snprintf(spec, sizeof(spec), "%s", topics[i]);
		name = spec;
		p1 = strchr(name, ':');
		if (!p1) {
			fprintf(stderr, "kafka_mock: --topic %s: want NAME:PARTITIONS[:RF]\n", topics[i]);
			rc = 2;
			goto cleanup;
		}
		*p1++ = '\0';
		p2 = strchr(p1, ':');
		if (p2)
			*p2++ = '\0';
		if (!*name || parse_int(p1, 1, 100000, &parts) ||
		    (p2 && parse_int(p2, 1, brokers, &rf))) {
			fprintf(stderr, "kafka_mock: --topic %s: want NAME:PARTITIONS[:RF], "
					"RF at most --brokers\n", topics[i]);
			rc = 2;
			goto cleanup;
		}
		if (create_topic(mc, name, parts, rf, why, sizeof(why))) {
			fprintf(stderr, "kafka_mock: %s\n", why);
			goto cleanup;
		}
	}

	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	if (port_file) {
		/* Write then rename, so a reader never sees half a line. */
		FILE *f;

		snprintf(path_tmp, sizeof(path_tmp), "%s.tmp", port_file);
		f = fopen(path_tmp, "w");
		if (!f || fprintf(f, "bootstrap=%s\n", bootstraps) < 0 || fclose(f) ||
		    rename(path_tmp, port_file)) {
			fprintf(stderr, "kafka_mock: %s: %s\n", port_file, strerror(errno));
			goto cleanup;
		}
	}
	printf("bootstrap=%s\n", bootstraps);
	fflush(stdout);

	while (!stop_sig && !quit) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF: whoever drove us is gone */
		len += (size_t)n;
		buf[len] = '\0';
		while (!quit && (nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			quit = run_cmd(mc, buf, why, sizeof(why));
			answer(why);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == sizeof(buf) - 1) {
			answer("command line too long");
			len = 0;
		}
	}
	rc = 0;

cleanup:
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}
