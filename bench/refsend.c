/* refsend: the reference MQTT publisher, the simplest thing that can be fast.
 *
 *   refsend --port P [--host 127.0.0.1] --qos 0|1 --payload-size B
 *           --messages N [--conns C] [--inflight W] [--mqtt-version 3.1.1|5]
 *           [--topic T] [--timeout S] [--rate R]
 *
 * One thread and one blocking socket per connection: CONNECT, wait for
 * CONNACK, then send() pre-encoded PUBLISH frames 64 KiB at a time. QoS 0
 * reuses one encoded batch; QoS 1 re-stamps the packet ids (1..65535, in a
 * cycle) of the same batch before each send, keeps at most W messages
 * unacked and reads PUBACKs between sends. --messages is the total over all
 * connections. Each connection ends with DISCONNECT and waits for the
 * server to close, so the time covers everything the server had to read.
 *
 * --rate R paces instead, the simplest way that batches like blast: one
 * thread sleeps until 100 us before the next message is due, sends every
 * message due within 200 us (message k on connection k % C, one send()
 * each), then reads the PUBACKs that came (one recv() per connection with
 * some outstanding). Its CPU is the floor for blast's pacing at that rate.
 *
 * Prints one line on stdout:
 *   messages=N acked=N seconds=S rate=R cpu_s=C
 * rate is acked/s for QoS 1 and messages/s for QoS 0; cpu_s is user+sys of
 * the whole process. Exit status 1 when a connection failed or the
 * --timeout (default 60 s) cut the run short.
 *
 * Self-contained on purpose (no encoders/): it is the yardstick blast is
 * measured against, so it must not share blast's bugs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REF_BATCH	(64u << 10)
#define REF_RBUF	(64u << 10)
#define REF_MAX_CONNS	4096
#define REF_PACE_EARLY_NS	100000ull
#define REF_PACE_AHEAD_NS	200000ull

struct ref_opts {
	struct sockaddr_in addr;
	uint8_t qos;
	uint8_t level;		/* 4 = 3.1.1, 5 = MQTT 5 */
	uint32_t payload_size;
	uint64_t messages;
	uint32_t conns;
	uint32_t inflight;
	const char *topic;
	double timeout_s;
	double rate;		/* msg/s over all connections; 0: as fast as it goes */
};

struct sender {
	pthread_t tid;
	uint32_t idx;
	const struct ref_opts *o;
	pthread_barrier_t *start;
	uint64_t quota;		/* this connection's messages */
	uint64_t sent, acked, nacked;
	double deadline;	/* CLOCK_MONOTONIC seconds */
	double t_end;
	const char *err;	/* NULL when all went well */
	int err_no;		/* errno when err was set */
	int fd;
	uint8_t batch[REF_BATCH];
	uint8_t rbuf[REF_RBUF];
	size_t rlen;		/* bytes of a partial frame at rbuf[0] */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Variable byte integer (spec 1.5.5); returns its length. */
static size_t put_varint(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static size_t put_str(uint8_t *p, const char *s, size_t len)
{
	p[0] = len >> 8;
	p[1] = len & 0xff;
	memcpy(p + 2, s, len);
	return 2 + len;
}

/* CONNECT with clean start, keepalive off, no will/credentials. */
static size_t encode_connect(uint8_t *out, uint8_t level, const char *client_id)
{
	size_t id_len = strlen(client_id);
	uint32_t rem = 10 + (level == 5) + 2 + id_len;
	size_t n = 0;

	out[n++] = 0x10;
	n += put_varint(out + n, rem);
	n += put_str(out + n, "MQTT", 4);
	out[n++] = level;
	out[n++] = 0x02;	/* clean session / clean start */
	out[n++] = 0;		/* keepalive 0: no PINGREQ needed */
	out[n++] = 0;
	if (level == 5)
		out[n++] = 0;	/* no properties */
	n += put_str(out + n, client_id, id_len);
	return n;
}

/* One PUBLISH; *id_off gets where the packet id sits (qos > 0). */
static size_t encode_publish(uint8_t *out, const struct ref_opts *o, size_t *id_off)
{
	size_t tlen = strlen(o->topic);
	uint32_t rem = 2 + tlen + (o->qos ? 2 : 0) + (o->level == 5) + o->payload_size;
	size_t n = 0;

	out[n++] = 0x30 | o->qos << 1;
	n += put_varint(out + n, rem);
	n += put_str(out + n, o->topic, tlen);
	*id_off = n;
	if (o->qos) {
		out[n++] = 0;
		out[n++] = 1;
	}
	if (o->level == 5)
		out[n++] = 0;	/* no properties */
	for (uint32_t i = 0; i < o->payload_size; i++)
		out[n++] = 'a' + i % 26;
	return n;
}

static size_t publish_size(const struct ref_opts *o)
{
	uint32_t rem = 2 + strlen(o->topic) + (o->qos ? 2 : 0) + (o->level == 5) + o->payload_size;
	uint8_t tmp[5];

	return 1 + put_varint(tmp, rem) + rem;
}

static int send_all(struct sender *s, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t r = send(s->fd, p, len, MSG_NOSIGNAL);

		if (r < 0) {
			/* EAGAIN: SO_SNDTIMEO expired; look at the clock. */
			if ((errno == EAGAIN || errno == EINTR) && now_s() < s->deadline)
				continue;
			s->err_no = errno;
			s->err = errno == EAGAIN ? "timeout" : "send failed";
			return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

/* One recv, then count the PUBACKs in it. Without block, returns at once
 * when nothing is there. */
static int read_acks(struct sender *s, bool block)
{
	ssize_t r = recv(s->fd, s->rbuf + s->rlen, REF_RBUF - s->rlen, block ? 0 : MSG_DONTWAIT);
	size_t n, pos = 0;

	if (r < 0) {
		if (errno == EINTR || (errno == EAGAIN && (!block || now_s() < s->deadline)))
			return 0;
		s->err_no = errno;
		s->err = errno == EAGAIN ? "timeout" : "recv failed";
		return -1;
	}
	if (r == 0) {
		s->err_no = 0;
		s->err = "server closed the connection";
		return -1;
	}
	n = s->rlen + r;
	while (n - pos >= 2) {
		const uint8_t *f = s->rbuf + pos;
		uint32_t rem = 0;
		size_t h = 1;

		for (unsigned shift = 0;; shift += 7) {
			if (h >= n - pos || shift > 21)
				goto out;
			rem |= (uint32_t)(f[h] & 0x7f) << shift;
			if (!(f[h++] & 0x80))
				break;
		}
		if (h + rem > REF_RBUF) {
			s->err_no = 0;
			s->err = "frame from server too large";
			return -1;
		}
		if (h + rem > n - pos)
			break;
		if (f[0] >> 4 != 4 || rem < 2) {
			s->err_no = 0;
			s->err = "unexpected frame from server (not PUBACK)";
			return -1;
		}
		/* MQTT 5 may add a reason code; >= 0x80 is a failure. */
		if (rem >= 3 && f[h + 2] >= 0x80)
			s->nacked++;
		else
			s->acked++;
		pos += h + rem;
	}
out:
	s->rlen = n - pos;
	memmove(s->rbuf, s->rbuf + pos, s->rlen);
	return 0;
}

/* Blocking connect, CONNECT, CONNACK. */
static int session_open(struct sender *s)
{
	const struct ref_opts *o = s->o;
	struct timeval tv = { .tv_sec = 1 };
	uint8_t buf[512];
	char client_id[64];
	size_t n, got = 0;
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		s->err_no = errno;
		s->err = "socket failed";
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Blocking calls wake each second so the deadline holds. */
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s->fd, (const struct sockaddr *)&o->addr, sizeof(o->addr))) {
		s->err_no = errno;
		s->err = "connect failed";
		return -1;
	}
	snprintf(client_id, sizeof(client_id), "refsend-%d-%u", (int)getpid(), s->idx);
	n = encode_connect(buf, o->level, client_id);
	if (send_all(s, buf, n))
		return -1;
	/* CONNACK: 2-byte fixed header (short body), then the body. */
	while (got < 2 || got < 2u + buf[1]) {
		ssize_t r = recv(s->fd, buf + got, sizeof(buf) - got, 0);

		if (r < 0 && (errno == EINTR || (errno == EAGAIN && now_s() < s->deadline)))
			continue;
		if (r <= 0) {
			s->err_no = r < 0 ? errno : 0;
			s->err = "no CONNACK";
			return -1;
		}
		got += r;
		if (got >= 2 && (buf[0] != 0x20 || buf[1] & 0x80 || buf[1] < 2)) {
			s->err_no = 0;
			s->err = "bad CONNACK";
			return -1;
		}
	}
	if (buf[3] != 0) {
		s->err_no = 0;
		s->err = "CONNACK refused";
		return -1;
	}
	return 0;
}

static int publish_all(struct sender *s)
{
	const struct ref_opts *o = s->o;
	size_t flen = publish_size(o);
	size_t per = flen < REF_BATCH ? REF_BATCH / flen : 1;
	size_t id_off = 0;
	uint16_t next_id = 1;
	uint8_t *big = NULL;
	uint8_t *b = s->batch;

	if (flen > REF_BATCH) {
		big = malloc(flen);
		if (!big) {
			s->err_no = errno;
			s->err = "out of memory";
			return -1;
		}
		b = big;
	}
	if (o->qos && per > o->inflight)
		per = o->inflight;
	for (size_t i = 0; i < per; i++)
		encode_publish(b + i * flen, o, &id_off);

	while (s->sent < s->quota) {
		size_t k = s->quota - s->sent < per ? s->quota - s->sent : per;

		if (now_s() >= s->deadline) {
			s->err_no = 0;
			s->err = "timeout";
			goto fail;
		}
		if (o->qos) {
			while (s->sent - s->acked - s->nacked + k > o->inflight)
				if (read_acks(s, true))
					goto fail;
			for (size_t i = 0; i < k; i++) {
				uint8_t *id = b + i * flen + id_off;

				id[0] = next_id >> 8;
				id[1] = next_id & 0xff;
				next_id = next_id == 65535 ? 1 : next_id + 1;
			}
		}
		if (send_all(s, b, k * flen))
			goto fail;
		s->sent += k;
		if (o->qos && read_acks(s, false))
			goto fail;
	}
	while (o->qos && s->acked + s->nacked < s->sent)
		if (read_acks(s, true))
			goto fail;
	free(big);
	return 0;
fail:
	free(big);
	return -1;
}

/* DISCONNECT, then wait for the server to close: it has read it all. */
static void session_close(struct sender *s)
{
	uint8_t buf[256];

	if (send_all(s, (const uint8_t *)"\xe0\x00", 2))
		return;
	shutdown(s->fd, SHUT_WR);
	for (;;) {
		ssize_t r = recv(s->fd, buf, sizeof(buf), 0);

		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return;
		if (r < 0 && now_s() >= s->deadline) {
			s->err_no = errno;
			s->err = "timeout waiting for the server to close";
			return;
		}
	}
}

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	int ok = session_open(s) == 0;

	/* Everyone connects first, then all publish together. */
	pthread_barrier_wait(s->start);
	if (ok && publish_all(s) == 0)
		session_close(s);
	s->t_end = now_s();
	if (s->fd >= 0)
		close(s->fd);
	return NULL;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000ull, .tv_nsec = t % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* --rate: every connection from this one thread (see the top). */
static void paced_all(struct sender *ss, const struct ref_opts *o)
{
	uint32_t n = o->conns;
	size_t id_off = 0;
	uint64_t k = 0, t0 = mono_ns();
	uint64_t deadline = t0 + (uint64_t)(o->timeout_s * 1e9);
	uint16_t next_id = 1;
	size_t flen = 0;
	bool waiting = true;

	if (publish_size(o) > REF_BATCH) {
		ss[0].err = "--rate: payload too large";
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (ss[i].err)
			return;
		flen = encode_publish(ss[i].batch, o, &id_off);
	}
	while (waiting) {
		uint64_t now = mono_ns();
		uint64_t due = (uint64_t)((double)(now + REF_PACE_AHEAD_NS - t0) * o->rate / 1e9) + 1;

		if (now > deadline) {
			ss[0].err = "timeout";
			return;
		}
		if (due > o->messages)
			due = o->messages;
		for (; k < due; k++) {
			struct sender *s = &ss[k % n];

			if (s->sent - s->acked - s->nacked >= o->inflight)
				break;
			if (o->qos) {
				s->batch[id_off] = next_id >> 8;
				s->batch[id_off + 1] = next_id & 0xff;
				next_id = next_id == 65535 ? 1 : next_id + 1;
			}
			if (send_all(s, s->batch, flen))
				return;
			s->sent++;
		}
		if (k < o->messages)
			sleep_until_ns(t0 + (uint64_t)(k / o->rate * 1e9) - REF_PACE_EARLY_NS);
		else
			sleep_until_ns(mono_ns() + REF_PACE_EARLY_NS);
		waiting = k < o->messages;
		for (uint32_t i = 0; o->qos && i < n; i++) {
			struct sender *s = &ss[i];

			if (s->sent > s->acked + s->nacked && read_acks(s, false))
				return;
			waiting |= s->sent > s->acked + s->nacked;
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: refsend --port P [--host 127.0.0.1] --qos 0|1 --payload-size B --messages N\n"
		"               [--conns C] [--inflight W] [--mqtt-version 3.1.1|5] [--topic T]\n"
		"               [--timeout S] [--rate R]\n");
	exit(2);
}

static int parse_args(struct ref_opts *o, int argc, char **argv)
{
	const char *host = "127.0.0.1";
	long port = -1;

	o->qos = 0;
	o->level = 4;
	o->payload_size = 20;
	o->messages = 0;
	o->conns = 1;
	o->inflight = 65535;
	o->topic = "bench/t";
	o->timeout_s = 60;
	o->rate = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--port"))
			port = strtol(v, NULL, 10);
		else if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--qos"))
			o->qos = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--payload-size"))
			o->payload_size = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--messages"))
			o->messages = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--conns"))
			o->conns = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--inflight"))
			o->inflight = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--topic"))
			o->topic = v;
		else if (!strcmp(a, "--rate"))
			o->rate = strtod(v, NULL);
		else if (!strcmp(a, "--timeout"))
			o->timeout_s = strtod(v, NULL);
		else if (!strcmp(a, "--mqtt-version") && !strcmp(v, "3.1.1"))
			o->level = 4;
		else if (!strcmp(a, "--mqtt-version") && !strcmp(v, "5"))
			o->level = 5;
		else
			return -1;
	}
	if (port <= 0 || port > 65535 || o->qos > 1 || o->conns < 1 ||
	    o->conns > REF_MAX_CONNS || o->inflight < 1 || o->inflight > 65535 ||
	    strlen(o->topic) < 1 || strlen(o->topic) > 65535 ||
	    o->payload_size > (64u << 20) || o->timeout_s <= 0 || o->rate < 0)
		return -1;
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1) {
		fprintf(stderr, "refsend: --host takes an IPv4 address\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ref_opts o;
	struct sender *ss;
	pthread_barrier_t start;
	uint64_t sent = 0, acked = 0, nacked = 0;
	double t0, t_end = 0, secs, pace_user = 0, pace_sys = 0;
	struct rusage ru;
	int failed = 0;

	if (parse_args(&o, argc, argv))
		usage();
	ss = calloc(o.conns, sizeof(*ss));
	if (!ss || pthread_barrier_init(&start, NULL, o.conns + 1)) {
		fprintf(stderr, "refsend: out of memory\n");
		return 1;
	}
	t0 = now_s();
	for (uint32_t i = 0; i < o.conns; i++) {
		struct sender *s = &ss[i];

		s->idx = i;
		s->o = &o;
		s->start = &start;
		s->fd = -1;
		s->quota = o.messages / o.conns + (i < o.messages % o.conns);
		s->deadline = t0 + o.timeout_s;
		if (o.rate > 0)
			continue;
		if (pthread_create(&s->tid, NULL, sender_run, s)) {
			/* Threads already started wait on the barrier forever. */
			fprintf(stderr, "refsend: pthread_create failed\n");
			return 1;
		}
	}
	if (o.rate > 0) {
		struct rusage r0, r1;

		for (uint32_t i = 0; i < o.conns; i++)
			if (session_open(&ss[i]))
				break;
		getrusage(RUSAGE_SELF, &r0);
		t0 = now_s();
		paced_all(ss, &o);
		t_end = now_s();
		getrusage(RUSAGE_SELF, &r1);
		/* What pacing cost, connecting and closing left out. */
		pace_user = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
		pace_sys = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
		for (uint32_t i = 0; i < o.conns; i++)
			if (!ss[i].err && ss[i].fd >= 0)
				session_close(&ss[i]);
	} else {
		pthread_barrier_wait(&start);
		t0 = now_s();
	}
	for (uint32_t i = 0; i < o.conns; i++) {
		struct sender *s = &ss[i];

		if (o.rate > 0) {
			if (s->fd >= 0)
				close(s->fd);
		} else {
			pthread_join(s->tid, NULL);
		}
		sent += s->sent;
		acked += s->acked;
		nacked += s->nacked;
		if (s->t_end > t_end)
			t_end = s->t_end;
		if (s->err) {
			failed++;
			fprintf(stderr, "refsend: conn %u: %s (%s)\n", i, s->err,
				s->err_no ? strerror(s->err_no) : "-");
		}
	}
	if (nacked)
		fprintf(stderr, "refsend: %llu PUBACKs with a failure reason code\n",
			(unsigned long long)nacked);
	secs = t_end - t0;
	if (secs <= 0)
		secs = 1e-9;
	getrusage(RUSAGE_SELF, &ru);
	printf("messages=%llu acked=%llu seconds=%.6f rate=%.0f cpu_s=%.3f",
	       (unsigned long long)sent, (unsigned long long)acked, secs,
	       (o.qos ? acked : sent) / secs, tv_s(ru.ru_utime) + tv_s(ru.ru_stime));
	if (o.rate > 0)
		printf(" pace_user_s=%.4f pace_sys_s=%.4f", pace_user, pace_sys);
	printf("\n");
	return failed ? 1 : 0;
}
