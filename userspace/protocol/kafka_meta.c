/* Kafka bootstrap before the run: one short blocking exchange with a
 * bootstrap broker (like the target check every protocol gets), so that an
 * unknown topic or a port that does not speak Kafka is a usage error before
 * any worker starts. The run itself talks to brokers through io_uring.
 * With --tls the exchange goes through TLS (transport/tls_block.c, the
 * workers' context and checks), and with --sasl-mechanism it
 * authenticates first (kafka_sasl.c), as every worker connection will. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stats/clock.h"
#include "encoders/kafka.h"
#include "config/version.h"
#include "protocol/kafka_meta.h"
#include "protocol/kafka_sasl.h"
#include "transport/tls_block.h"

#define STEP_TIMEOUT_MS 5000
#define RESP_MAX (8u << 20)

/* One broker connection: the socket, and TLS on it when asked. */
struct kchan {
	int fd;
	struct tls_block *tls;
};

struct boot_ctx {
	const struct blast_opts *o;
	struct tls_run *tls;   /* --tls: the context, made once */
	struct kafka_meta *m;
	char err[512];
	int32_t n_seen;      /* partitions of our topic in the response */
	int32_t *seen_id, *seen_leader;
	int16_t topic_error;
	bool topic_found;
};

static int connect_timeout(const struct blast_target *t, char *err, size_t errlen)
{
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (poll(&p, 1, STEP_TIMEOUT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		snprintf(err, errlen, "%s", soerr ? strerror(soerr) : "connect timed out");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(struct kchan *ch, const uint8_t *buf, size_t len)
{
	int fd = ch->fd;

	if (ch->tls)
		return tls_block_send(ch->tls, buf, len, STEP_TIMEOUT_MS);
	while (len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, STEP_TIMEOUT_MS) != 1)
			return -ETIMEDOUT;
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/* Some bytes (> 0) within left_ms, or -errno (-ECONNRESET: closed). */
static ssize_t recv_some(struct kchan *ch, uint8_t *p, size_t n, int left_ms)
{
	if (ch->tls)
		return tls_block_recv(ch->tls, p, n, left_ms);
	for (;;) {
		struct pollfd pl = { .fd = ch->fd, .events = POLLIN };
		if (poll(&pl, 1, left_ms) != 1)
			return -ETIMEDOUT;
		ssize_t got = recv(ch->fd, p, n, 0);
		if (got == 0)
			return -ECONNRESET;
		if (got > 0)
			return got;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

/* Reads one size-prefixed response into *out (malloc'd). */
static ssize_t recv_frame(struct kchan *ch, uint8_t **out)
{
	uint8_t *buf = NULL;
	size_t have = 0, cap = 0;
	uint64_t deadline = mono_ns() + STEP_TIMEOUT_MS * NSEC_PER_MSEC;

	for (;;) {
		ssize_t total = kafka_frame_total(buf ? buf : (const uint8_t *)"", have, RESP_MAX);
		if (total < 0) {
			free(buf);
			return total;
		}
		if (total > 0 && have >= (size_t)total) {
			*out = buf;
			return total;
		}
		size_t want = total > 0 ? (size_t)total : 4;
		if (want > cap) {
			uint8_t *nb = realloc(buf, want);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = want;
		}
		uint64_t now = mono_ns();
		int left = now < deadline ? (int)((deadline - now) / NSEC_PER_MSEC) : 0;
		ssize_t n = recv_some(ch, buf + have, want - have, left);
		if (n < 0) {
			free(buf);
			return n;
		}
		have += (size_t)n;
	}
}

static int on_broker(void *ctx, int32_t id, const char *host, size_t host_len, int32_t port)
{
	struct boot_ctx *b = ctx;
	struct kafka_meta *m = b->m;

	if (m->n_brokers >= KMETA_MAX_BROKERS || host_len >= sizeof(m->broker_addr[0].host))
		return 0;
	struct blast_target *t = &m->broker_addr[m->n_brokers];
	memcpy(t->host, host, host_len);
	t->host[host_len] = 0;
	t->port = (uint16_t)port;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	if (getaddrinfo(t->host, portstr, &hints, &res) != 0 || !res) {
		snprintf(b->err, sizeof(b->err), "broker %d advertises %s:%d, which does not resolve",
			 id, t->host, port);
		return -EINVAL;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	m->broker_id[m->n_brokers++] = id;
	return 0;
}

static int on_partition(void *ctx, const char *topic, size_t topic_len, int16_t topic_error,
			int32_t partition, int16_t partition_error, int32_t leader)
{
	struct boot_ctx *b = ctx;

	(void)partition_error;
	if (topic_len != strlen(b->o->topic) || memcmp(topic, b->o->topic, topic_len))
		return 0;
	b->topic_found = true;
	b->topic_error = topic_error;
	if (partition < 0)
		return 0;
	int32_t *ni = realloc(b->seen_id, (size_t)(b->n_seen + 1) * sizeof(int32_t));
	if (!ni)
		return -ENOMEM;
	b->seen_id = ni;
	int32_t *nl = realloc(b->seen_leader, (size_t)(b->n_seen + 1) * sizeof(int32_t));
	if (!nl)
		return -ENOMEM;
	b->seen_leader = nl;
	b->seen_id[b->n_seen] = partition;
	b->seen_leader[b->n_seen] = leader;
	b->n_seen++;
	return 0;
}

/* SASL on the bootstrap connection, once ApiVersions said the broker
 * speaks it: the versions are kept for the workers. 0, or -1 with b->err
 * set (the broker's refusal in its own words). */
static int authenticate(struct boot_ctx *b, struct kchan *ch, const struct kafka_api_range *ranges,
			size_t n_ranges)
{
	struct ksasl k;
	uint8_t req[KSASL_REQ_MAX], *resp = NULL;

	b->m->sasl_auth_version = kafka_pick_version(ranges, n_ranges, KAFKA_API_SASL_AUTHENTICATE,
						     KAFKA_SASL_AUTH_MIN, KAFKA_SASL_AUTH_MAX);
	if (kafka_pick_version(ranges, n_ranges, KAFKA_API_SASL_HANDSHAKE, 1, 1) < 0 ||
	    b->m->sasl_auth_version < 0) {
		snprintf(b->err, sizeof(b->err), "the broker offers no SASL (its ApiVersions lists no "
						 "SaslHandshake v1 and SaslAuthenticate v0-1)");
		return -1;
	}
	ssize_t n = ksasl_begin(&k, b->o, b->m->sasl_auth_version, 100, req, sizeof(req));
	while (n > 0) {
		ssize_t r = send_all(ch, req, (size_t)n);
		if (r == 0)
			r = recv_frame(ch, &resp);
		if (r < 0) {
			snprintf(k.why, sizeof(k.why), "no answer to %s (%s)",
				 k.corr == 100 ? "SaslHandshake" : "SaslAuthenticate",
				 r == -ECONNRESET ? "connection closed" : strerror((int)-r));
			n = r;
			break;
		}
		n = ksasl_on_frame(&k, resp, (size_t)r, req, sizeof(req));
		free(resp);
		resp = NULL;
	}
	if (n == 0)
		return 0;
	snprintf(b->err, sizeof(b->err), "%s", k.why);
	return -1;
}

/* One broker: ApiVersions, then Metadata. 0, or -1 with b->err set. */
static int boot_one(struct boot_ctx *b, const struct blast_target *t)
{
	uint8_t req[1024], *resp = NULL;
	const uint8_t *body;
	size_t body_len;
	int32_t corr;
	struct kafka_api_range ranges[128];
	size_t n_ranges = 0;
	int16_t err = 0;
	int rc = -1;

	struct kchan ch = { .fd = connect_timeout(t, b->err, sizeof(b->err)) };
	if (ch.fd < 0)
		return -1;
	if (b->tls && !(ch.tls = tls_block_connect(b->tls, ch.fd, t, STEP_TIMEOUT_MS, b->err,
						   sizeof(b->err))))
		goto out;
	/* ApiVersions v0: every broker since 0.10 answers it, in a v0 header. */
	ssize_t n = kafka_encode_api_versions(req, sizeof(req), 0, 1, "blast", BLAST_VERSION);
	ssize_t r = n > 0 ? send_all(&ch, req, (size_t)n) : n;
	if (r == 0)
		r = recv_frame(&ch, &resp);
	if (r < 0) {
		snprintf(b->err, sizeof(b->err), "no Kafka answer to ApiVersions (%s%s)",
			 r == -ECONNRESET ? "connection closed" : strerror((int)-r),
			 !b->tls && r == -ECONNRESET ? ": is it a TLS port? use --tls" : "");
		goto out;
	}
	if (kafka_parse_response_header(resp, (size_t)r, false, &corr, &body, &body_len) < 0 ||
	    corr != 1 ||
	    kafka_parse_api_versions(body, body_len, 0, &err, ranges, 128, &n_ranges) < 0 || err) {
		snprintf(b->err, sizeof(b->err), "does not speak Kafka (bad ApiVersions response)");
		goto out;
	}
	if (n_ranges > 128)
		n_ranges = 128;
	b->m->produce_version = kafka_pick_version(ranges, n_ranges, KAFKA_API_PRODUCE,
						   KAFKA_PRODUCE_MIN, KAFKA_PRODUCE_MAX);
	b->m->metadata_version = kafka_pick_version(ranges, n_ranges, KAFKA_API_METADATA,
						    KAFKA_METADATA_MIN, KAFKA_METADATA_MAX);
	if (b->m->produce_version < 0 || b->m->metadata_version < 0) {
		snprintf(b->err, sizeof(b->err),
			 "no common version (blast speaks Produce %d-%d, Metadata %d-%d)",
			 KAFKA_PRODUCE_MIN, KAFKA_PRODUCE_MAX, KAFKA_METADATA_MIN, KAFKA_METADATA_MAX);
		goto out;
	}
	free(resp);
	resp = NULL;
	if (b->o->sasl_mech && authenticate(b, &ch, ranges, n_ranges) < 0)
		goto out;

	/* Ask for every topic: naming ours would let a broker (or the mock)
	 * with auto-creation on create it, and a typo would go unnoticed. */
	int16_t mv = b->m->metadata_version;
	n = kafka_encode_metadata(req, sizeof(req), mv, 2, "blast", NULL, 0);
	r = n > 0 ? send_all(&ch, req, (size_t)n) : n;
	if (r == 0)
		r = recv_frame(&ch, &resp);
	if (r < 0) {
		snprintf(b->err, sizeof(b->err), "no answer to Metadata (%s)", strerror((int)-r));
		goto out;
	}
	struct kafka_md_cb cb = { .broker = on_broker, .partition = on_partition, .ctx = b };
	if (kafka_parse_response_header(resp, (size_t)r, kafka_is_flexible(KAFKA_API_METADATA, mv),
					&corr, &body, &body_len) < 0 ||
	    corr != 2) {
		snprintf(b->err, sizeof(b->err), "bad Metadata response header");
		goto out;
	}
	int pr = kafka_parse_metadata(body, body_len, mv, &cb);
	if (pr < 0) {
		if (!b->err[0])
			snprintf(b->err, sizeof(b->err), "malformed Metadata response");
		goto out;
	}
	rc = 0;
out:
	free(resp);
	tls_block_free(ch.tls);
	close(ch.fd);
	return rc;
}

int kafka_meta_broker_index(const struct kafka_meta *m, int32_t id)
{
	for (uint32_t i = 0; i < m->n_brokers; i++)
		if (m->broker_id[i] == id)
			return (int)i;
	return -1;
}

int kafka_bootstrap(const struct blast_opts *o, struct kafka_meta *m)
{
	struct boot_ctx b = { .o = o, .m = m };
	unsigned i;

	memset(m, 0, sizeof(*m));
	if (o->tls && !(b.tls = tls_run_new(o, b.err, sizeof(b.err)))) {
		fprintf(stderr, "blast: %s\n", b.err);
		return BLAST_EXIT_USAGE;
	}
	for (i = 0; i < o->n_targets; i++) {
		b.err[0] = 0;
		m->n_brokers = 0;
		b.n_seen = 0;
		b.topic_found = false;
		if (boot_one(&b, &o->targets[i]) == 0)
			break;
	}
	if (i == o->n_targets) {
		const struct blast_target *t = &o->targets[o->n_targets - 1];
		fprintf(stderr, "blast: %s:%u: %s\n", t->host, t->port, b.err);
		goto fail;
	}
	const struct blast_target *t = &o->targets[i];
	if (!b.topic_found || b.topic_error == 3 /* UNKNOWN_TOPIC_OR_PARTITION */ || !b.n_seen) {
		fprintf(stderr, "blast: topic %s does not exist on %s:%u%s%s\n", o->topic, t->host,
			t->port, b.topic_found && b.topic_error ? ": " : "",
			b.topic_found && b.topic_error ? kafka_error_name(b.topic_error) : "");
		goto fail;
	}
	if (b.topic_error) {
		fprintf(stderr, "blast: topic %s on %s:%u: %s\n", o->topic, t->host, t->port,
			kafka_error_name(b.topic_error));
		goto fail;
	}
	m->topic_parts = b.n_seen;
	/* The partitions to produce to: all, or those --partitions names. */
	m->part_id = calloc((size_t)b.n_seen, sizeof(int32_t));
	m->leader = calloc((size_t)b.n_seen, sizeof(int32_t));
	if (!m->part_id || !m->leader) {
		fprintf(stderr, "blast: out of memory\n");
		goto fail;
	}
	for (int32_t k = 0; k < b.n_seen; k++) {
		bool use = !o->n_partitions;
		for (uint32_t j = 0; j < o->n_partitions && !use; j++)
			use = o->partitions[j] == b.seen_id[k];
		if (use) {
			m->part_id[m->n_parts] = b.seen_id[k];
			m->leader[m->n_parts] = b.seen_leader[k];
			m->n_parts++;
		}
	}
	for (uint32_t j = 0; j < o->n_partitions; j++) {
		bool found = false;
		for (int32_t k = 0; k < b.n_seen && !found; k++)
			found = b.seen_id[k] == o->partitions[j];
		if (!found) {
			fprintf(stderr, "blast: --partitions: topic %s has no partition %d (it has %d)\n",
				o->topic, o->partitions[j], b.n_seen);
			goto fail;
		}
	}
	/* Sort by partition id, leaders alongside. */
	for (uint32_t a = 1; a < m->n_parts; a++)
		for (uint32_t c = a; c > 0 && m->part_id[c - 1] > m->part_id[c]; c--) {
			int32_t x = m->part_id[c];
			m->part_id[c] = m->part_id[c - 1];
			m->part_id[c - 1] = x;
			x = m->leader[c];
			m->leader[c] = m->leader[c - 1];
			m->leader[c - 1] = x;
		}
	if (!m->n_brokers) {
		fprintf(stderr, "blast: %s:%u: Metadata lists no brokers\n", t->host, t->port);
		goto fail;
	}
	free(b.seen_id);
	free(b.seen_leader);
	tls_run_free(b.tls);
	return 0;
fail:
	free(b.seen_id);
	free(b.seen_leader);
	tls_run_free(b.tls);
	kafka_meta_free(m);
	return BLAST_EXIT_USAGE;
}

int kafka_meta_shard(struct kafka_meta *m, struct blast_opts *o)
{
	if (!o->shard_count || o->key)
		return 0;
	uint32_t n = o->shard_count;
	if (m->n_parts < n) {
		fprintf(stderr, "blast: --shard: topic %s has %u partition(s) to produce to, fewer than "
				"the %u machines (each needs one)\n", o->topic, m->n_parts, n);
		return BLAST_EXIT_USAGE;
	}
	struct split_whole w = { .partitions = m->n_parts };
	struct split_share s;
	split_share(&w, o->shard_index, n, &s);
	int32_t *ids = malloc((size_t)s.partitions * sizeof(*ids));
	if (!ids) {
		fprintf(stderr, "blast: out of memory\n");
		return 3;
	}
	memmove(m->part_id, m->part_id + s.partition_base, s.partitions * sizeof(*m->part_id));
	memmove(m->leader, m->leader + s.partition_base, s.partitions * sizeof(*m->leader));
	m->n_parts = s.partitions;
	memcpy(ids, m->part_id, s.partitions * sizeof(*ids));
	free(o->partitions);
	o->partitions = ids; /* what a worker's Metadata refresh keeps to */
	o->n_partitions = s.partitions;
	o->shard_whole.partitions = w.partitions;
	return 0;
}

void kafka_meta_free(struct kafka_meta *m)
{
	free(m->part_id);
	free(m->leader);
	m->part_id = m->leader = NULL;
}
