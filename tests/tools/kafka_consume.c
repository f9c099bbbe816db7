/* kafka_consume: reads every record of a topic back with librdkafka, for
 * blast's end-to-end tests.
 *
 *   kafka_consume --bootstrap HOST:PORT[,...] --topic NAME
 *                 [--count N] [--timeout SECS] [--max-time SECS]
 *
 * Assigns every partition of the topic from its first offset (no group,
 * nothing committed) and prints one line per record on stdout:
 *
 *   PARTITION OFFSET KEY_HEX VALUE_HEX HEADERS
 *
 * KEY_HEX and VALUE_HEX are "-" for null and "\"\"" for empty; HEADERS is
 * "name=hexvalue" joined by ";" ("name=-" for a null value), or "-" when the
 * record has none. CRCs are checked (check.crcs), so a batch with a bad
 * CRC32C is an error here even though the mock broker accepted it.
 *
 * It stops when it has N records and has reached the end of every
 * partition (so records beyond N still show), when no record came for
 * --timeout seconds (default 5), or after --max-time seconds in all
 * (default 120). With --count 0 it stops at the end of every partition.
 * The last line, on stderr, is "count=N". Exit status: 0, or 1 if
 * librdkafka reported an error (bad CRC, unknown topic...), 2 for usage. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put_hex(const void *p, size_t len, int null)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	if (null) {
		putchar('-');
		return;
	}
	if (len == 0) {
		fputs("\"\"", stdout);
		return;
	}
	for (i = 0; i < len; i++) {
		putchar(digits[b[i] >> 4]);
		putchar(digits[b[i] & 15]);
	}
}

static void print_record(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *val;
	const char *name;
	size_t i, vlen;

	printf("%" PRId32 " %" PRId64 " ", m->partition, m->offset);
	put_hex(m->key, m->key_len, m->key == NULL);
	putchar(' ');
	put_hex(m->payload, m->len, m->payload == NULL);
	putchar(' ');
	if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_cnt(hdrs) == 0) {
		putchar('-');
	} else {
		for (i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen); i++) {
			if (i)
				putchar(';');
			printf("%s=", name);
			if (val && vlen)
				put_hex(val, vlen, 0);
			else if (!val)
				putchar('-');
		}
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL, *topic = NULL;
	double timeout = 5, max_time = 120, start, last;
	long long want = 0, count = 0;
	rd_kafka_topic_partition_list_t *parts = NULL;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	char errstr[512];
	int *at_eof = NULL, nparts = 0, n_eof = 0, errors = 0, rc = 1, i;
	rd_kafka_resp_err_t err;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!v)
			goto usage;
		if (!strcmp(a, "--bootstrap"))
			bootstrap = v;
		else if (!strcmp(a, "--topic"))
			topic = v;
		else if (!strcmp(a, "--count"))
			want = strtoll(v, &end, 10);
		else if (!strcmp(a, "--timeout"))
			timeout = strtod(v, &end);
		else if (!strcmp(a, "--max-time"))
			max_time = strtod(v, &end);
		else
			goto usage;
		if (end && (*end || end == v || want < 0 || timeout <= 0 || max_time <= 0))
			goto usage;
		i++;
	}
	if (!bootstrap || !topic)
		goto usage;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "group.id", "blast-kafka-consume", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "check.crcs", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr))) {
		fprintf(stderr, "kafka_consume: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka_consume: rd_kafka_new: %s\n", errstr);
		return 1;
	}

	/* The partition count, from Metadata (retried: the mock may still be
	 * coming up, and a topic can briefly have no leader). */
	start = now_s();
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	for (;;) {
		err = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
		if (!err && md->topic_cnt == 1 && !md->topics[0].err &&
		    md->topics[0].partition_cnt > 0)
			break;
		if (!err)
			err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
		if (md)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		if (stop_sig || now_s() - start > timeout) {
			fprintf(stderr, "kafka_consume: metadata for %s: %s\n", topic,
				rd_kafka_err2str(err));
			goto cleanup;
		}
		struct timespec ts = { 0, 200000000 };
		nanosleep(&ts, NULL);
	}
	nparts = md->topics[0].partition_cnt;
	at_eof = calloc((size_t)nparts, sizeof(*at_eof));
	parts = rd_kafka_topic_partition_list_new(nparts);
	for (i = 0; i < nparts; i++)
		rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)
			->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_metadata_destroy(md);
	if (!at_eof) {
		fprintf(stderr, "kafka_consume: out of memory\n");
		goto cleanup;
	}
	err = rd_kafka_assign(rk, parts);
	if (err) {
		fprintf(stderr, "kafka_consume: assign: %s\n", rd_kafka_err2str(err));
		goto cleanup;
	}

	last = now_s();
	while (!stop_sig) {
		rd_kafka_message_t *m;
		double t = now_s();

		if (n_eof == nparts && count >= want)
			break;
		if (t - last > timeout || t - start > max_time)
			break;
		m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < nparts && !at_eof[m->partition]) {
				at_eof[m->partition] = 1;
				n_eof++;
			}
		} else if (m->err) {
			fprintf(stderr, "kafka_consume: %s [%" PRId32 "] offset %" PRId64 ": %s\n",
				topic, m->partition, m->offset, rd_kafka_message_errstr(m));
			errors++;
		} else {
			if (m->partition >= 0 && m->partition < nparts && at_eof[m->partition]) {
				at_eof[m->partition] = 0;
				n_eof--;
			}
			print_record(m);
			count++;
			last = now_s();
		}
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
	rc = errors ? 1 : 0;

cleanup:
	fprintf(stderr, "count=%lld\n", count);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	free(at_eof);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (rk) {
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
	}
	return rc;

usage:
	fprintf(stderr, "usage: kafka_consume --bootstrap HOST:PORT[,...] --topic NAME "
			"[--count N] [--timeout SECS] [--max-time SECS]\n");
	return 2;
}
