/* rdkafka_producer: librdkafka's own producer, the yardstick blast's Kafka
 * producer is measured against.
 *
 *   rdkafka_producer --bootstrap HOST:PORT[,...] --topic T --messages N
 *                    --payload-size B [--acks 0|1|all] [--batch-size BYTES]
 *                    [--linger MS] [--compression none|gzip] [--timeout S]
 *
 * Produces N records of B bytes to T: the value is the same B bytes each
 * time with an 8-byte big-endian counter stamped at its start, the key is
 * NULL, so librdkafka's default partitioner (consistent_random, sticky for
 * NULL keys) picks the partitions. acks, batch.size, linger.ms and
 * compression.codec are set from the options; the local queue holds all N
 * messages and max.in.flight is at its maximum, so nothing but the broker
 * and librdkafka itself sets the pace. Waits for every delivery report
 * (rd_kafka_flush) and counts them in the delivery report callback.
 *
 * The clock starts at the first produce call, after a metadata request has
 * connected to the cluster and learned the topic's leaders, and stops when
 * the last delivery report has been served. Prints one line on stdout:
 *   messages=N delivered=N failed=N seconds=S rate=R mb_s=M cpu_s=C
 * rate is delivered/s; mb_s is delivered payload bytes (B each, no framing)
 * in 10^6 B/s; cpu_s is getrusage(RUSAGE_SELF) user+sys of the whole
 * process, librdkafka's threads included, from start to the end of flush.
 * Exit status 1 when a record failed or --timeout (default 60 s) cut the
 * run short; 2 on bad usage.
 *
 * Self-contained on purpose (no encoders/): it must not share blast's bugs. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/* Produce calls between two rd_kafka_poll(rk, 0) that serve delivery
 * reports, so they are counted as they come, not all at flush. */
#define RKP_POLL_EVERY	1024

struct rkp_opts {
	const char *bootstrap;
	const char *topic;
	uint64_t messages;
	uint32_t payload_size;
	const char *acks;	/* "0", "1" or "all" */
	uint32_t batch_size;
	double linger_ms;
	const char *compression;
	double timeout_s;
};

struct rkp_counts {
	uint64_t delivered;
	uint64_t failed;
	rd_kafka_resp_err_t first_err;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Served from rd_kafka_poll()/rd_kafka_flush() on the main thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct rkp_counts *c = opaque;

	(void)rk;
	if (!m->err) {
		c->delivered++;
		return;
	}
	if (!c->failed)
		c->first_err = m->err;
	c->failed++;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	fprintf(stderr, "rdkafka_producer: %s: %s\n", rd_kafka_err2name(err), reason);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rdkafka_producer --bootstrap HOST:PORT[,...] --topic T --messages N\n"
		"                        --payload-size B [--acks 0|1|all] [--batch-size BYTES]\n"
		"                        [--linger MS] [--compression none|gzip] [--timeout S]\n");
	exit(2);
}

static int parse_args(struct rkp_opts *o, int argc, char **argv)
{
	char *end;

	memset(o, 0, sizeof(*o));
	o->payload_size = 100;
	o->acks = "1";
	o->batch_size = 16384;
	o->linger_ms = 5;
	o->compression = "none";
	o->timeout_s = 60;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = argv[i + 1];

		if (i + 1 >= argc)
			return -1;
		errno = 0;
		end = NULL;
		if (!strcmp(a, "--bootstrap"))
			o->bootstrap = v;
		else if (!strcmp(a, "--topic"))
			o->topic = v;
		else if (!strcmp(a, "--messages"))
			o->messages = strtoull(v, &end, 10);
		else if (!strcmp(a, "--payload-size"))
			o->payload_size = strtoul(v, &end, 10);
		else if (!strcmp(a, "--acks"))
			o->acks = v;
		else if (!strcmp(a, "--batch-size"))
			o->batch_size = strtoul(v, &end, 10);
		else if (!strcmp(a, "--linger"))
			o->linger_ms = strtod(v, &end);
		else if (!strcmp(a, "--compression"))
			o->compression = v;
		else if (!strcmp(a, "--timeout"))
			o->timeout_s = strtod(v, &end);
		else
			return -1;
		if (errno || (end && (end == v || *end)))
			return -1;
	}
	if (!o->bootstrap || !o->topic || !*o->topic || o->messages < 1 ||
	    o->payload_size > (64u << 20) || o->batch_size < 1 ||
	    o->batch_size > 1000000000u || o->linger_ms < 0 || o->linger_ms > 900000 ||
	    o->timeout_s <= 0 || o->timeout_s > 2000000)
		return -1;
	if (strcmp(o->acks, "0") && strcmp(o->acks, "1") && strcmp(o->acks, "all"))
		return -1;
	if (strcmp(o->compression, "none") && strcmp(o->compression, "gzip"))
		return -1;
	return 0;
}

/* set CONF NAME VALUE, reporting librdkafka's own complaint. */
static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
		return 0;
	fprintf(stderr, "rdkafka_producer: %s=%s: %s\n", name, value, err);
	return -1;
}

static rd_kafka_conf_t *make_conf(const struct rkp_opts *o, struct rkp_counts *counts)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char num[32], lg[32], qmsgs[32], maxb[32], tmo[32];
	/* A Produce request must hold a full batch plus framing. */
	uint64_t max_bytes = (uint64_t)o->batch_size + (1u << 16);
	/* Room for every message: never QUEUE_FULL on our side. */
	uint64_t q = o->messages < 100000 ? 100000 : o->messages;

	if (max_bytes < 1000000)
		max_bytes = 1000000;
	if (q > INT32_MAX)
		q = INT32_MAX;
	snprintf(num, sizeof(num), "%" PRIu32, o->batch_size);
	snprintf(lg, sizeof(lg), "%g", o->linger_ms);
	snprintf(qmsgs, sizeof(qmsgs), "%" PRIu64, q);
	snprintf(maxb, sizeof(maxb), "%" PRIu64, max_bytes);
	/* Messages expire with the run rather than retry past it. */
	snprintf(tmo, sizeof(tmo), "%.0f", o->timeout_s * 1000);
	if (conf_set(conf, "bootstrap.servers", o->bootstrap) ||
	    conf_set(conf, "acks", o->acks) ||
	    conf_set(conf, "batch.size", num) ||
	    /* batch.size alone bounds a batch (the default caps at 10000). */
	    conf_set(conf, "batch.num.messages", "1000000") ||
	    conf_set(conf, "linger.ms", lg) ||
	    conf_set(conf, "compression.codec", o->compression) ||
	    conf_set(conf, "queue.buffering.max.messages", qmsgs) ||
	    conf_set(conf, "queue.buffering.max.kbytes", "2147483647") ||
	    conf_set(conf, "max.in.flight.requests.per.connection", "1000000") ||
	    conf_set(conf, "message.max.bytes", maxb) ||
	    conf_set(conf, "message.timeout.ms", tmo) ||
	    conf_set(conf, "enable.idempotence", "false")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, counts);
	return conf;
}

/* Connects and learns the topic's leaders before the clock starts, so the
 * run measures producing, not bootstrapping (blast's clock starts after its
 * own metadata round trip too). */
static int warm_up(rd_kafka_t *rk, rd_kafka_topic_t *rkt, double deadline)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	do {
		double left = deadline - now_s();

		if (left <= 0 || stop)
			break;
		err = rd_kafka_metadata(rk, 0, rkt, &md, left > 5 ? 5000 : (int)(left * 1000) + 1);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			bool ok = md->topic_cnt == 1 && !md->topics[0].err &&
				  md->topics[0].partition_cnt > 0;

			if (!ok && md->topic_cnt == 1)
				err = md->topics[0].err;
			rd_kafka_metadata_destroy(md);
			if (ok)
				return 0;
		}
		fprintf(stderr, "rdkafka_producer: metadata for %s: %s\n",
			rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
		rd_kafka_poll(rk, 200);
	} while (1);
	return -1;
}

int main(int argc, char **argv)
{
	struct rkp_opts o;
	struct rkp_counts c = { 0 };
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char err[512];
	uint8_t *value;
	uint64_t produced = 0;
	double t0, t1, deadline, cpu, secs;
	int rc = 0;

	if (parse_args(&o, argc, argv))
		usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	deadline = now_s() + o.timeout_s;
	value = malloc(o.payload_size ? o.payload_size : 1);
	if (!value) {
		fprintf(stderr, "rdkafka_producer: out of memory\n");
		return 1;
	}
	memset(value, 'x', o.payload_size);
	conf = make_conf(&o, &c);
	if (!conf)
		return 2;
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "rdkafka_producer: rd_kafka_new: %s\n", err);
		return 1;
	}
	rkt = rd_kafka_topic_new(rk, o.topic, NULL);
	if (!rkt) {
		fprintf(stderr, "rdkafka_producer: rd_kafka_topic_new: %s\n",
			rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_destroy(rk);
		return 1;
	}
	if (warm_up(rk, rkt, deadline)) {
		fprintf(stderr, "rdkafka_producer: no metadata for %s within the timeout\n", o.topic);
		rc = 1;
		goto out;
	}

	t0 = now_s();
	while (produced < o.messages && !stop) {
		uint64_t seq = produced;

		/* Big-endian counter in the first (up to) 8 bytes. */
		for (uint32_t i = 0; i < 8 && i < o.payload_size; i++)
			value[i] = seq >> (56 - 8 * i);
		if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value,
				     o.payload_size, NULL, 0, NULL) == -1) {
			rd_kafka_resp_err_t e = rd_kafka_last_error();

			if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "rdkafka_producer: produce: %s\n",
					rd_kafka_err2str(e));
				rc = 1;
				break;
			}
			/* Only with more than INT32_MAX messages: wait for room. */
			if (now_s() > deadline)
				break;
			rd_kafka_poll(rk, 1);
			continue;
		}
		if (++produced % RKP_POLL_EVERY == 0)
			rd_kafka_poll(rk, 0);
	}
	/* flush serves the remaining delivery reports, lingering cut short. */
	while (c.delivered + c.failed < produced && !stop) {
		double left = deadline - now_s();

		if (left <= 0)
			break;
		rd_kafka_flush(rk, left > 0.1 ? 100 : (int)(left * 1000) + 1);
	}
	t1 = now_s();
	cpu = cpu_s();
	secs = t1 - t0 > 1e-9 ? t1 - t0 : 1e-9;

	printf("messages=%" PRIu64 " delivered=%" PRIu64 " failed=%" PRIu64
	       " seconds=%.6f rate=%.0f mb_s=%.3f cpu_s=%.3f\n",
	       produced, c.delivered, c.failed, secs, c.delivered / secs,
	       (double)c.delivered * o.payload_size / secs / 1e6, cpu);
	fflush(stdout);
	if (c.failed) {
		fprintf(stderr, "rdkafka_producer: %" PRIu64 " records failed, first: %s\n",
			c.failed, rd_kafka_err2str(c.first_err));
		rc = 1;
	}
	if (produced < o.messages || c.delivered + c.failed < produced) {
		fprintf(stderr, "rdkafka_producer: %s: produced %" PRIu64 " of %" PRIu64
			", %" PRIu64 " without a delivery report\n",
			stop ? "interrupted" : "timed out", produced, o.messages,
			produced - c.delivered - c.failed);
		rc = 1;
	}
out:
	/* Undelivered messages would make destroy wait; drop them. */
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	free(value);
	return rc;
}
