/* Command line: parse, resolve, read and check everything before the run
 * starts, so bad input costs one line on stderr and exit status 2 instead
 * of a half-started run with thousands of sockets open. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payload/marker.h"
#include "encoders/mqtt.h"
#include "config/opts.h"
#include "limit/limit.h"
#include "payload/protobuf.h"
#include "stats/fanout.h"
#include "cli/usage.h"

#define CONNS_MAX 1000000u
#define PAYLOAD_MAX 268435000u /* leaves room for the header under MQTT's 268435455 */
#define MQTT_STR_MAX 65535u   /* a UTF-8 string field has a 2-byte length */
#define CONNECT_TIMEOUT_MS 2000
#define LIST_FILE_MAX (1ul << 30) /* bytes read from a --payload-file or --tokens-file */
#define SHOW_MAX 64
#define KAFKA_TOPIC_MAX 249 /* Kafka's own limit on a topic name */
#define BATCH_MIN 1024u
#define BATCH_MAX (64u << 20)
#define LINGER_MAX_MS 900000u /* librdkafka's ceiling for linger.ms */
#define PARTITIONS_MAX 65536u
#define HEADERS_MAX 64u
#define FIELDS_MAX 64u

enum {
	OPT_PROTO = 256, /* above every char, so optopt tells long from short */
	OPT_TARGET,
	OPT_CONNS,
	OPT_RAMP,
	OPT_RATE,
	OPT_MESSAGES,
	OPT_DURATION,
	OPT_DRAIN_TIMEOUT,
	OPT_QOS,
	OPT_INFLIGHT,
	OPT_TOPIC,
	OPT_PAYLOAD_SIZE,
	OPT_PAYLOAD_FILE,
	OPT_RETAIN,
	OPT_CLIENT_ID,
	OPT_USERNAME,
	OPT_PASSWORD,
	OPT_TOKENS_FILE,
	OPT_KEEPALIVE,
	OPT_MQTT_VERSION,
	OPT_RECONNECT,
	OPT_CHURN,
	OPT_WORKERS,
	OPT_REPORT,
	OPT_PROBE,
	OPT_HLOG,
	OPT_CSV,
	OPT_HTML,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_ACKS,
	OPT_BATCH_SIZE,
	OPT_LINGER,
	OPT_KEY,
	OPT_PARTITIONS,
	OPT_COMPRESSION,
	OPT_RECORD_HEADER,
	OPT_PAYLOAD_PROTO,
	OPT_PAYLOAD_PROTO_DESC,
	OPT_FIELD,
	OPT_TRANSPORT,
	OPT_WS_SUBPROTOCOL,
	OPT_HEADER,
	OPT_LISTEN_TARGET,
	OPT_PUBLISHERS,
	OPT_LISTENERS,
	OPT_FANOUT,
	OPT_BINARY,
	OPT_STEPS,
	OPT_SUBSCRIBERS,
	OPT_SUB_TOPIC,
	OPT_SUB_QOS,
	OPT_CHAT,
	OPT_PCAP,
	OPT_PCAP_SNAPLEN,
	OPT_PCAP_MAX_BYTES,
	OPT_FIND_LIMIT,
	OPT_SLO,
	OPT_MAX_LOSS,
	OPT_TRIAL_DURATION,
	OPT_SEARCH_TIMEOUT,
	OPT_CEILING,
	OPT_RX_STAMPS,
	OPT__END,
};

/* Flags that mean something to one protocol only. */
static const int mqtt_only[] = {
	OPT_QOS, OPT_RETAIN, OPT_CLIENT_ID, OPT_USERNAME, OPT_PASSWORD,
	OPT_TOKENS_FILE, OPT_KEEPALIVE, OPT_MQTT_VERSION, OPT_CHURN, OPT_TRANSPORT,
	OPT_WS_SUBPROTOCOL, OPT_HEADER, OPT_SUBSCRIBERS, OPT_SUB_TOPIC, OPT_SUB_QOS, OPT_CHAT,
};
/* MQTT's own session flags: not for --proto ws (which shares the
 * WebSocket flags with MQTT over WebSocket). */
static const int mqtt_session_only[] = {
	OPT_QOS, OPT_RETAIN, OPT_CLIENT_ID, OPT_USERNAME, OPT_PASSWORD,
	OPT_TOKENS_FILE, OPT_KEEPALIVE, OPT_MQTT_VERSION, OPT_CHURN, OPT_TRANSPORT,
	OPT_SUBSCRIBERS, OPT_SUB_TOPIC, OPT_SUB_QOS, OPT_CHAT,
};
/* Fan-out flags MQTT shares once subscribers are asked for. */
static const int fanout_shared[] = {
	OPT_LISTEN_TARGET, OPT_PUBLISHERS, OPT_FANOUT, OPT_STEPS,
};
static const int ws_only_strict[] = { OPT_LISTENERS, OPT_BINARY };
static const int ws_only[] = {
	OPT_LISTEN_TARGET, OPT_PUBLISHERS, OPT_LISTENERS, OPT_FANOUT, OPT_BINARY, OPT_STEPS,
};
static const int kafka_only[] = {
	OPT_ACKS, OPT_BATCH_SIZE, OPT_LINGER, OPT_KEY,
	OPT_PARTITIONS, OPT_COMPRESSION, OPT_RECORD_HEADER,
};

/* What parse_args learns that finish needs: where each flag first came. */
struct parse_state {
	const char *tokens_path;
	int at[OPT__END - OPT_PROTO]; /* argv index of the first use; 0 = not given */
};

static const struct option long_opts[] = {
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "ws-subprotocol", required_argument, NULL, OPT_WS_SUBPROTOCOL },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "listen-target", required_argument, NULL, OPT_LISTEN_TARGET },
	{ "publishers", required_argument, NULL, OPT_PUBLISHERS },
	{ "listeners", required_argument, NULL, OPT_LISTENERS },
	{ "fanout", required_argument, NULL, OPT_FANOUT },
	{ "binary", no_argument, NULL, OPT_BINARY },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "subscribers", required_argument, NULL, OPT_SUBSCRIBERS },
	{ "sub-topic", required_argument, NULL, OPT_SUB_TOPIC },
	{ "sub-qos", required_argument, NULL, OPT_SUB_QOS },
	{ "chat", no_argument, NULL, OPT_CHAT },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "ramp", required_argument, NULL, OPT_RAMP },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "messages", required_argument, NULL, OPT_MESSAGES },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "qos", required_argument, NULL, OPT_QOS },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "payload-size", required_argument, NULL, OPT_PAYLOAD_SIZE },
	{ "payload-file", required_argument, NULL, OPT_PAYLOAD_FILE },
	{ "retain", no_argument, NULL, OPT_RETAIN },
	{ "client-id", required_argument, NULL, OPT_CLIENT_ID },
	{ "username", required_argument, NULL, OPT_USERNAME },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "tokens-file", required_argument, NULL, OPT_TOKENS_FILE },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "mqtt-version", required_argument, NULL, OPT_MQTT_VERSION },
	{ "reconnect", no_argument, NULL, OPT_RECONNECT },
	{ "churn", no_argument, NULL, OPT_CHURN },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "rx-stamps", required_argument, NULL, OPT_RX_STAMPS },
	{ "hlog", required_argument, NULL, OPT_HLOG },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "acks", required_argument, NULL, OPT_ACKS },
	{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "partitions", required_argument, NULL, OPT_PARTITIONS },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "record-header", required_argument, NULL, OPT_RECORD_HEADER },
	{ "payload-proto", required_argument, NULL, OPT_PAYLOAD_PROTO },
	{ "payload-proto-desc", required_argument, NULL, OPT_PAYLOAD_PROTO_DESC },
	{ "field", required_argument, NULL, OPT_FIELD },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "pcap-snaplen", required_argument, NULL, OPT_PCAP_SNAPLEN },
	{ "pcap-max-bytes", required_argument, NULL, OPT_PCAP_MAX_BYTES },
	{ "find-limit", optional_argument, NULL, OPT_FIND_LIMIT },
	{ "slo", required_argument, NULL, OPT_SLO },
	{ "max-loss", required_argument, NULL, OPT_MAX_LOSS },
	{ "trial-duration", required_argument, NULL, OPT_TRIAL_DURATION },
	{ "search-timeout", required_argument, NULL, OPT_SEARCH_TIMEOUT },
	{ "ceiling", required_argument, NULL, OPT_CEILING },
	{ NULL, 0, NULL, 0 },
};

/* Quotes user input in an error line, cut short so the line stays
 * readable. Four rotating buffers: one message may quote several values. */
static const char *show(const char *s)
{
	static char bufs[4][SHOW_MAX + 4];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = strlen(s);

	if (!n)
		return "''";
	if (n <= SHOW_MAX)
		return s;
	memcpy(b, s, SHOW_MAX);
	memcpy(b + SHOW_MAX, "...", 4);
	return b;
}

/* Prints "blast: <msg>" as exactly one line and returns the usage status.
 * Control characters from user input become '?' so a value with a newline
 * cannot split the line. */
static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fflush(stdout);
	fprintf(stderr, "blast: %s\n", line);
	return BLAST_EXIT_USAGE;
}

/* Digits only: returns the count consumed, and -ERANGE on overflow. */
static int digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		unsigned d = (unsigned)(s[n] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return n;
}

/* parse_u64 with the reason kept: -EINVAL for junk, -ERANGE for overflow. */
static int u64_parse(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;
	int n = digits(s, &v);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	switch (s[n]) {
	case 'k':
	case 'K':
		mult = 1000;
		n++;
		break;
	case 'm':
	case 'M':
		mult = 1000000;
		n++;
		break;
	case 'g':
	case 'G':
		mult = 1000000000;
		n++;
		break;
	}
	if (s[n])
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	return u64_parse(s, out) ? -EINVAL : 0;
}

static int duration_parse(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "", 1000000000ull },	    { "s", 1000000000ull },
		{ "ms", 1000000ull },	    { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	uint64_t v;
	int n = digits(s, &v);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].ns)
			return -ERANGE;
		*out = v * units[i].ns;
		return 0;
	}
	return -EINVAL;
}

int parse_duration_ns(const char *s, uint64_t *out)
{
	return duration_parse(s, out) ? -EINVAL : 0;
}

int parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
	const char *h, *colon;
	size_t hl;
	uint64_t p;
	int n;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		/* "::1:1883" is ambiguous: IPv6 needs its brackets. */
		if (memchr(h, ':', hl))
			return -EINVAL;
	}
	if (hl == 0 || hl >= host_cap)
		return -EINVAL;
	n = digits(colon + 1, &p);
	if (n <= 0 || colon[1 + n] || p == 0 || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* Writes v in decimal; returns the length. */
static size_t u64_str(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

int template_expand(char *out, size_t cap, const char *tmpl, uint64_t conn, uint64_t seq,
		    uint64_t pid)
{
	size_t n = 0;

	if (cap > INT_MAX)
		cap = INT_MAX; /* the length must fit the return value */
	if (!cap)
		return -ENOSPC;
	for (const char *p = tmpl; *p;) {
		char num[20];
		const char *put = p;
		size_t len = 1, adv = 1;

		if (*p == '{') {
			const char *name = p + 1;
			bool hit = true;
			uint64_t v = 0;

			if (!strncmp(name, "conn}", 5))
				v = conn, adv = 6;
			else if (!strncmp(name, "seq}", 4))
				v = seq, adv = 5;
			else if (!strncmp(name, "pid}", 4))
				v = pid, adv = 5;
			else
				hit = false;
			if (hit) {
				len = u64_str(num, v);
				put = num;
			}
		}
		if (n + len >= cap)
			return -ENOSPC;
		memcpy(out + n, put, len);
		n += len;
		p += adv;
	}
	out[n] = '\0';
	return (int)n;
}

/* "host:port" as the user would write it, brackets back on IPv6. */
static void target_name(const struct blast_target *t, char *buf, size_t cap)
{
	if (strchr(t->host, ':'))
		snprintf(buf, cap, "[%s]:%u", t->host, t->port);
	else
		snprintf(buf, cap, "%s:%u", t->host, t->port);
}

static int target_add(struct blast_opts *o, const char *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai, *pick = NULL;
	struct blast_target *t;
	int r;

	if (o->n_targets >= BLAST_MAX_TARGETS)
		return fail("--target %s: at most %d targets", show(s), BLAST_MAX_TARGETS);
	t = &o->targets[o->n_targets];
	const char *given = s;
	char hostport[300];
	strcpy(t->path, "/");
	if (!strncmp(s, "ws://", 5)) {
		/* ws://HOST:PORT/PATH: the path goes in the upgrade request. */
		const char *hp = s + 5, *slash = strchr(hp, '/');
		size_t n = slash ? (size_t)(slash - hp) : strlen(hp);
		if (n >= sizeof(hostport) || (slash && strlen(slash) >= sizeof(t->path)))
			return fail("--target %s: too long", show(given));
		memcpy(hostport, hp, n);
		hostport[n] = 0;
		if (slash)
			strcpy(t->path, slash);
		t->ws = true;
		s = hostport;
	} else if (strstr(s, "://")) {
		return fail("--target %s: the only scheme is ws:// (wss:// is not supported)",
			    show(given));
	}
	if (parse_hostport(s, t->host, sizeof(t->host), &t->port))
		return fail("--target %s: expected HOST:PORT or ws://HOST:PORT/PATH with a port from 1 to 65535 (IPv6 as [::1]:1883)",
			    show(given));
	r = getaddrinfo(t->host, NULL, &hints, &res);
	if (r)
		return fail("--target %s: name does not resolve (%s)", show(s),
			    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	/* IPv4 first: "localhost" often lists ::1 first, and a broker is more
	 * often listening on 127.0.0.1 only than on ::1 only. */
	for (ai = res; ai && !pick; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			pick = ai;
	for (ai = res; ai && !pick; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6)
			pick = ai;
	if (!pick || pick->ai_addrlen > sizeof(t->addr)) {
		freeaddrinfo(res);
		return fail("--target %s: no IPv4 or IPv6 address", show(s));
	}
	memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
	t->addr_len = pick->ai_addrlen;
	if (pick->ai_family == AF_INET)
		((struct sockaddr_in *)&t->addr)->sin_port = htons(t->port);
	else
		((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(t->port);
	freeaddrinfo(res);
	o->n_targets++;
	return 0;
}

static void line_list_free(struct line_list *l)
{
	free(l->lines);
	free(l->lens);
	free(l->data);
	memset(l, 0, sizeof(*l));
}

/* Reads path into l, one entry per non-empty line, without the newline
 * or a '\r' before it. Returns 0 or -errno. */
static int line_list_read(struct line_list *l, const char *path)
{
	size_t cap = 4096, len = 0, max_lines = 1;
	char *data = malloc(cap);
	int fd, err = 0;

	if (!data)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Read to EOF rather than trust st_size: works for pipes too. */
	for (;;) {
		if (cap - len < 2) {
			/* /dev/zero must not eat all memory. */
			if (cap >= LIST_FILE_MAX) {
				err = -EFBIG;
				goto out;
			}
			char *bigger = realloc(data, cap * 2);
			if (!bigger) {
				err = -ENOMEM;
				goto out;
			}
			data = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	for (size_t i = 0; i < len; i++)
		max_lines += data[i] == '\n';

	line_list_free(l);
	l->lines = malloc(max_lines * sizeof(*l->lines));
	l->lens = malloc(max_lines * sizeof(*l->lens));
	if (!l->lines || !l->lens) {
		line_list_free(l);
		err = -ENOMEM;
		goto out;
	}
	for (size_t start = 0; start < len;) {
		char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t next = end + 1;

		if (end > start && data[end - 1] == '\r')
			end--;
		data[end] = '\0';
		if (end > start) {
			l->lines[l->n] = data + start;
			l->lens[l->n] = end - start;
			l->n++;
		}
		start = next;
	}
	l->data = data;
	data = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return err;
}

static int list_arg(struct line_list *l, const char *flag, const char *path, size_t max_len)
{
	int r = line_list_read(l, path);

	if (r)
		return fail("%s %s: %s", flag, show(path), strerror(-r));
	if (!l->n)
		return fail("%s %s: file has no non-empty line", flag, show(path));
	for (size_t i = 0; i < l->n; i++)
		if (l->lens[i] > max_len)
			return fail("%s %s: an entry is longer than %zu bytes", flag, show(path),
				    max_len);
	return 0;
}

/* Reads a number flag and checks it against [min, max]. */
static int num_arg(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int r = u64_parse(s, &v);

	if (r == -EINVAL)
		return fail("%s %s: not a number (digits, with an optional k, m or g suffix)", flag,
			    show(s));
	if (r == 0 && v >= min && v <= max) {
		*out = v;
		return 0;
	}
	if (max == UINT64_MAX)
		return r ? fail("%s %s: too large", flag, show(s)) :
			   fail("%s %s: must be at least %llu", flag, show(s), (unsigned long long)min);
	return fail("%s %s: must be between %llu and %llu", flag, show(s),
		    (unsigned long long)min, (unsigned long long)max);
}

static int duration_arg(const char *flag, const char *s, bool zero_ok, uint64_t *out)
{
	uint64_t v;
	int r = duration_parse(s, &v);

	if (r == -ERANGE)
		return fail("%s %s: too long", flag, show(s));
	if (r)
		return fail("%s %s: not a duration (like 500ms, 30s, 2m or 1h; a bare number is seconds)",
			    flag, show(s));
	if (!v && !zero_ok)
		return fail("%s %s: must be greater than zero", flag, show(s));
	*out = v;
	return 0;
}

static int str_arg(char **dst, const char *flag, const char *s, size_t max_len)
{
	if (strlen(s) > max_len)
		return fail("%s %s: longer than %zu bytes", flag, show(s), max_len);
	free(*dst);
	*dst = strdup(s);
	if (!*dst)
		return fail("out of memory");
	return 0;
}

/* Opens FILE.tmp the way the report writer will, so a report that cannot
 * be written fails now, not after a 30-minute run. */
static int report_check(const char *flag, const char *path)
{
	struct stat st;
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp;
	int fd, e;
	bool created;

	if (!*path)
		return fail("%s '': needs a file name", flag);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return fail("%s %s: %s", flag, show(path), strerror(EISDIR));
	tmp = malloc(n);
	if (!tmp)
		return fail("out of memory");
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	created = fd >= 0;
	/* A .tmp left by an earlier run is not ours to delete. */
	if (fd < 0 && errno == EEXIST)
		fd = open(tmp, O_WRONLY | O_CLOEXEC);
	e = errno;
	if (fd >= 0) {
		close(fd);
		if (created)
			unlink(tmp);
	}
	free(tmp);
	if (fd < 0)
		return fail("%s %s: %s", flag, show(path), strerror(e));
	return 0;
}

/* --pcap FILE: the capture file must be creatable now, not after the run
 * (one line, exit 2). A file we created to check is removed again. */
static int pcap_check(const char *path)
{
	struct stat st;
	bool existed = stat(path, &st) == 0;
	int fd;

	if (!*path)
		return fail("--pcap '': needs a file name");
	if (existed && S_ISDIR(st.st_mode))
		return fail("--pcap %s: %s", show(path), strerror(EISDIR));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("--pcap %s: %s", show(path), strerror(errno));
	close(fd);
	if (!existed)
		unlink(path);
	return 0;
}

/* Checks a template's longest expansion fits an MQTT string. */
static int template_check(const char *flag, const char *tmpl, uint64_t max_conn)
{
	char *buf = malloc(MQTT_STR_MAX + 1);
	int n;

	if (!buf)
		return fail("out of memory");
	n = template_expand(buf, MQTT_STR_MAX + 1, tmpl, max_conn, UINT64_MAX, UINT32_MAX);
	free(buf);
	if (n < 0)
		return fail("%s %s: longer than %u bytes once expanded", flag, show(tmpl),
			    MQTT_STR_MAX);
	return 0;
}

static int finish_common(struct blast_opts *o);

/* --linger: milliseconds, as Kafka's linger.ms; "5", "5ms" or "1s". */
static int linger_arg(const char *s, uint64_t *out)
{
	uint64_t v, ms;
	int n = digits(s, &v);

	if (n < 0)
		return fail("--linger %s: at most %u ms", show(s), LINGER_MAX_MS);
	if (n > 0 && (!strcmp(s + n, "") || !strcmp(s + n, "ms")))
		ms = v;
	else if (n > 0 && !strcmp(s + n, "s"))
		ms = v > LINGER_MAX_MS ? v : v * 1000;
	else
		return fail("--linger %s: not a duration (milliseconds: 5, 5ms or 1s)", show(s));
	if (ms > LINGER_MAX_MS)
		return fail("--linger %s: at most %u ms", show(s), LINGER_MAX_MS);
	*out = ms * 1000000ull;
	return 0;
}

struct prange {
	uint64_t lo, hi;
};

static int prange_cmp(const void *a, const void *b)
{
	const struct prange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* --partitions "0,2,5-7": sorted, without repeats. Ranges are merged
 * before anything is expanded, so 0-2147483647 fails on the count instead
 * of allocating 8 GiB. */
static int partitions_arg(struct blast_opts *o, const char *s)
{
	size_t n = 1, k = 0;
	struct prange *r;
	uint64_t total = 0;
	int32_t *list;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	r = calloc(n, sizeof(*r));
	if (!r)
		return fail("out of memory");
	for (const char *p = s;; p++) {
		int d = digits(p, &r[k].lo);

		if (d == 0) {
			free(r);
			return fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
				    show(s));
		}
		if (d < 0 || r[k].lo > INT32_MAX) {
			free(r);
			return fail("--partitions %s: a partition is at most %d", show(s), INT32_MAX);
		}
		p += d;
		r[k].hi = r[k].lo;
		if (*p == '-') {
			d = digits(++p, &r[k].hi);
			if (d == 0) {
				free(r);
				return fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
					    show(s));
			}
			if (d < 0 || r[k].hi > INT32_MAX) {
				free(r);
				return fail("--partitions %s: a partition is at most %d", show(s),
					    INT32_MAX);
			}
			if (r[k].hi < r[k].lo) {
				unsigned long long lo = r[k].lo, hi = r[k].hi;
				free(r);
				return fail("--partitions %s: range %llu-%llu runs backwards", show(s),
					    lo, hi);
			}
			p += d;
		}
		k++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			free(r);
			return fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
				    show(s));
		}
	}
	qsort(r, k, sizeof(*r), prange_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && r[i].lo <= r[n - 1].hi + 1) {
			if (r[i].hi > r[n - 1].hi)
				r[n - 1].hi = r[i].hi;
			continue;
		}
		r[n++] = r[i];
	}
	for (size_t i = 0; i < n; i++)
		total += r[i].hi - r[i].lo + 1;
	if (total > PARTITIONS_MAX) {
		free(r);
		return fail("--partitions %s: at most %u partitions", show(s), PARTITIONS_MAX);
	}
	list = malloc(total * sizeof(*list));
	if (!list) {
		free(r);
		return fail("out of memory");
	}
	k = 0;
	for (size_t i = 0; i < n; i++)
		for (uint64_t p = r[i].lo; p <= r[i].hi; p++)
			list[k++] = (int32_t)p;
	free(r);
	free(o->partitions);
	o->partitions = list;
	o->n_partitions = (uint32_t)total;
	return 0;
}

/* Splits "NAME=VALUE" into two new strings. */
static int name_value(const char *flag, const char *s, const char *what, char **name,
		      char **value)
{
	const char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return fail("%s %s: expected NAME=%s", flag, show(s), what);
	*name = strndup(s, (size_t)(eq - s));
	*value = strdup(eq + 1);
	if (!*name || !*value) {
		free(*name);
		free(*value);
		return fail("out of memory");
	}
	return 0;
}

static int header_arg(struct blast_opts *o, const char *s)
{
	struct header_spec *more;
	int r;

	if (o->n_headers >= HEADERS_MAX)
		return fail("--record-header %s: at most %u headers", show(s), HEADERS_MAX);
	more = realloc(o->headers, (o->n_headers + 1) * sizeof(*more));
	if (!more)
		return fail("out of memory");
	o->headers = more;
	if ((r = name_value("--record-header", s, "VALUE", &more[o->n_headers].name,
			    &more[o->n_headers].value)))
		return r;
	o->n_headers++;
	return 0;
}

static int field_arg(struct blast_opts *o, const char *s)
{
	struct field_spec *more, *f;
	int r;

	if (o->n_fields >= FIELDS_MAX)
		return fail("--field %s: at most %u fields", show(s), FIELDS_MAX);
	more = realloc(o->fields, (o->n_fields + 1) * sizeof(*more));
	if (!more)
		return fail("out of memory");
	o->fields = more;
	f = &more[o->n_fields];
	if ((r = name_value("--field", s, "GENERATOR", &f->name, &f->gen)))
		return r;
	o->n_fields++;
	if (!*f->gen)
		return fail("--field %s: needs a generator after = (like uniform:0:10, or "
			    "const: for an empty string)", show(s));
	return 0;
}

/* Kafka's rule (Topic.java): 1 to 249 of [a-zA-Z0-9._-], not "." or "..". */
static int kafka_topic_check(const char *t)
{
	size_t n = strlen(t);

	if (strchr(t, '{'))
		return fail("--topic %s: a Kafka topic is one name, without {conn} or {seq}",
			    show(t));
	if (n > KAFKA_TOPIC_MAX)
		return fail("--topic %s: a Kafka topic name is at most %d characters", show(t),
			    KAFKA_TOPIC_MAX);
	if (strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return fail("--topic %s: a Kafka topic name has only letters, digits, '.', '_' "
			    "and '-'", show(t));
	if (!strcmp(t, ".") || !strcmp(t, ".."))
		return fail("--topic %s: not a legal Kafka topic name", show(t));
	return 0;
}

/* A flag for the other protocol is an error, not silently ignored. The one
 * given first on the command line is named. */
/* The first flag of list given (by argv position), or 0. */
static int first_given(const struct parse_state *ps, const int *list, size_t n, int *at)
{
	int first = 0;

	*at = 0;
	for (size_t i = 0; i < n; i++) {
		int a = ps->at[list[i] - OPT_PROTO];
		if (a && (!*at || a < *at)) {
			*at = a;
			first = list[i];
		}
	}
	return first;
}

static const char *flag_name(int val)
{
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == val)
			return lo->name;
	return "?";
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int proto_flags_check(const struct blast_opts *o, const struct parse_state *ps)
{
	int at, f;

	if (o->proto != PROTO_KAFKA && (f = first_given(ps, kafka_only, N_OF(kafka_only), &at)))
		return fail("--%s is for Kafka only (needs --proto kafka)", flag_name(f));
	if (o->proto == PROTO_KAFKA && (f = first_given(ps, mqtt_only, N_OF(mqtt_only), &at)))
		return fail("--%s is for MQTT only, not --proto kafka", flag_name(f));
	if (o->proto == PROTO_WS &&
	    (f = first_given(ps, mqtt_session_only, N_OF(mqtt_session_only), &at)))
		return fail("--%s is for MQTT only, not --proto ws", flag_name(f));
	if (opts_fanout(o) && o->proto == PROTO_MQTT) {
		if ((f = first_given(ps, ws_only_strict, N_OF(ws_only_strict), &at)))
			return fail("--%s is for --proto ws only (MQTT fan-out takes --subscribers)",
				    flag_name(f));
	} else if (o->proto != PROTO_WS &&
		   (f = first_given(ps, fanout_shared, N_OF(fanout_shared), &at))) {
		return fail("--%s is for fan-out: --proto ws, or --proto mqtt with --subscribers",
			    flag_name(f));
	} else if (o->proto != PROTO_WS && (f = first_given(ps, ws_only, N_OF(ws_only), &at)))
		return fail("--%s is for --proto ws only", flag_name(f));
	return 0;
}

/* --find-limit runs its own trials: it sets the rate, the duration and
 * (searching connections) the connection count of each. */
static int limit_flags_check(struct blast_opts *o, const struct parse_state *ps)
{
	static const int needs_search[] = { OPT_SLO, OPT_MAX_LOSS, OPT_TRIAL_DURATION,
					    OPT_SEARCH_TIMEOUT, OPT_CEILING };
	static const int not_with_search[] = { OPT_DURATION, OPT_MESSAGES, OPT_STEPS, OPT_CHURN };
	int at, f;

	if (!o->limit.mode) {
		if ((f = first_given(ps, needs_search, N_OF(needs_search), &at)))
			return fail("--%s needs --find-limit", flag_name(f));
		return 0;
	}
	if ((f = first_given(ps, not_with_search, N_OF(not_with_search), &at)))
		return fail("--%s cannot be used with --find-limit (each trial lasts "
			    "--trial-duration)", flag_name(f));
	if (!o->limit.trial_ns)
		o->limit.trial_ns = 10 * 1000000000ull;
	if (!o->limit.timeout_ns)
		o->limit.timeout_ns = 600 * 1000000000ull;
	if (o->limit.timeout_ns < o->limit.trial_ns)
		return fail("--search-timeout must be at least --trial-duration");
	if (o->limit.mode == LIMIT_CONNS && o->proto == PROTO_WS)
		return fail("--find-limit conns: for mqtt and kafka (--proto ws has fixed publishers and "
			    "listeners)");
	if (o->limit.mode == LIMIT_CONNS && o->proto == PROTO_MQTT && *o->client_id &&
	    !strstr(o->client_id, "{conn}"))
		return fail("--client-id %s: must contain {conn} with --find-limit conns",
			    show(o->client_id));
	return 0;
}

/* --payload-proto: the message and every --field are checked here, by the
 * same code the workers use, so a bad field stops the run before it starts. */
static int payload_proto_check(const struct blast_opts *o, const struct parse_state *ps)
{
	char err[512];
	struct payload_gen *g;
	size_t max;

	if (!o->payload_proto) {
		if (o->n_fields)
			return fail("--field needs --payload-proto MESSAGE");
		if (o->payload_proto_desc)
			return fail("--payload-proto-desc needs --payload-proto MESSAGE");
		return 0;
	}
	if (ps->at[OPT_PAYLOAD_SIZE - OPT_PROTO])
		return fail("--payload-proto and --payload-size cannot be used together");
	if (o->payloads.n)
		return fail("--payload-proto and --payload-file cannot be used together");
	g = payload_gen_new(o, err, sizeof(err));
	if (!g)
		return fail("%s", err);
	max = payload_gen_max_size(g);
	payload_gen_free(g);
	if (max > PAYLOAD_MAX)
		return fail("--payload-proto %s: the fields can make a %zu-byte message, more than "
			    "%u", show(o->payload_proto), max, PAYLOAD_MAX);
	return 0;
}

/* A --sub-topic filter: plain, or $share/NAME/FILTER with a NAME free of
 * '/', '+' and '#' (MQTT 5 4.8.2) and a valid FILTER. */
static int sub_topic_check(const char *f)
{
	size_t name_len;
	const char *shared = fanout_share_filter(f, &name_len);
	const char *filter = shared ? shared : f;

	if (shared && (!name_len || memchr(f + 7, '+', name_len) || memchr(f + 7, '#', name_len) ||
		       !*shared))
		return fail("--sub-topic %s: a shared subscription is $share/NAME/FILTER, NAME "
			    "without '+' or '#'", show(f));
	if (!mqtt_filter_valid(filter, strlen(filter)))
		return fail("--sub-topic %s: not a valid MQTT topic filter ('#' only as the "
			    "last level, '+' only as a whole level, not empty)", show(f));
	return 0;
}

/* MQTT fan-out: who connects where, and the checks the flags need. Runs
 * before the MQTT checks that depend on --conns (tokens, client ids). */
static int mqtt_fanout_finish(struct blast_opts *o, const struct parse_state *ps)
{
	int r;

	if (!o->n_sub_topics) {
		/* The default filter, from --subscribers or --sub-qos. */
		if (!(o->sub_topics = calloc(1, sizeof(*o->sub_topics))) ||
		    !(o->sub_topics[0] = strdup(o->sub_topic)))
			return fail("out of memory");
		o->n_sub_topics = 1;
	}
	for (uint32_t i = 0; i < o->n_sub_topics; i++)
		if ((r = sub_topic_check(o->sub_topics[i])))
			return r;
	if (ps->at[OPT_PUBLISHERS - OPT_PROTO] && ps->at[OPT_CONNS - OPT_PROTO])
		return fail("--conns and --publishers cannot be used together with --subscribers: "
			    "connections are --publishers + --subscribers per node");
	if (!ps->at[OPT_PUBLISHERS - OPT_PROTO])
		o->publishers = o->conns;
	if (!ps->at[OPT_SUBSCRIBERS - OPT_PROTO])
		o->subscribers = 1;
	if (o->n_targets > 1)
		return fail("--subscribers: one --target (the publishers' node); other nodes are "
			    "--listen-target");
	if (o->churn)
		return fail("--churn cannot be used with --subscribers: a subscriber must stay "
			    "connected to count what it receives");
	if (o->n_steps && ps->at[OPT_MESSAGES - OPT_PROTO])
		return fail("--steps and --messages cannot be used together: each step is a batch");
	uint64_t conns = (uint64_t)o->publishers + (uint64_t)o->subscribers * (1 + o->n_listen);
	if (conns > CONNS_MAX)
		return fail("--publishers + --subscribers x nodes: %llu connections, more than %u",
			    (unsigned long long)conns, CONNS_MAX);
	o->conns = (uint32_t)conns;
	uint32_t groups = fanout_share_groups(o);
	if (groups && o->n_listen)
		return fail("--sub-topic $share/...: shared subscriptions are for one node, not with "
			    "--listen-target");
	if (groups > fanout_receivers(o))
		return fail("--sub-topic: %u shared subscriptions but %u subscribing connection(s): "
			    "each group needs a member", groups, fanout_receivers(o));
	if (!o->payloads.n && !o->payload_proto && o->payload_size < MARKER_FANOUT_LEN)
		return fail("--payload-size %u: fan-out needs at least %d bytes for blast's marker",
			    o->payload_size, MARKER_FANOUT_LEN);
	unsigned n_ws = 0;
	for (unsigned i = 0; i < o->n_listen; i++)
		n_ws += o->listen[i].ws;
	if (n_ws != (o->targets[0].ws ? o->n_listen : 0))
		return fail("--listen-target: ws://HOST:PORT/PATH exactly when --target is");
	return 0;
}

/* Checks between flags, once all are in. */
static int finish(struct blast_opts *o, const struct parse_state *ps)
{
	bool kafka = o->proto == PROTO_KAFKA;
	int r;

	if ((r = proto_flags_check(o, ps)))
		return r;
	if ((r = limit_flags_check(o, ps)))
		return r;
	if (!o->n_targets && (r = target_add(o, kafka ? "127.0.0.1:9092" :
						 o->proto == PROTO_WS ? "ws://127.0.0.1:7681/" : "127.0.0.1:1883")))
		return r;
	if (o->proto == PROTO_WS) {
		/* Plain WebSocket: the transport is the protocol. */
		o->transport = TRANSPORT_WS;
		if (!ps->at[OPT_PUBLISHERS - OPT_PROTO])
			o->publishers = 1;
		if (!ps->at[OPT_LISTENERS - OPT_PROTO])
			o->listeners = 1;
		if (o->n_steps && ps->at[OPT_MESSAGES - OPT_PROTO])
			return fail("--steps and --messages cannot be used together: each step is a batch");
		o->conns = o->publishers + o->listeners * (1 + o->n_listen);
		if (!ps->at[OPT_PAYLOAD_SIZE - OPT_PROTO])
			o->payload_size = 64;
		if (!o->payloads.n && !o->payload_proto && o->payload_size < WS_HEADER_LEN)
			return fail("--payload-size %u: --proto ws needs at least %d bytes for its header",
				    o->payload_size, WS_HEADER_LEN);
		for (unsigned i = 0; i < o->n_targets; i++)
			o->targets[i].ws = true;
		for (unsigned i = 0; i < o->n_listen; i++)
			o->listen[i].ws = true;
		if (o->n_targets > 1)
			return fail("--proto ws: one --target (the publishers' node); other nodes are --listen-target");
	}
	if (o->proto == PROTO_MQTT && o->sub_topic && (r = mqtt_fanout_finish(o, ps)))
		return r;
	/* WebSocket: asked for, or implied by ws:// targets; all or none. */
	unsigned n_ws = 0;
	for (unsigned i = 0; i < o->n_targets; i++)
		n_ws += o->targets[i].ws;
	if (kafka && n_ws)
		return fail("--target ws://...: Kafka speaks TCP only");
	if (n_ws && n_ws != o->n_targets)
		return fail("--target: either every target is ws://HOST:PORT/PATH or none is");
	if (n_ws)
		o->transport = TRANSPORT_WS;
	if (o->proto == PROTO_MQTT && o->transport == TRANSPORT_WS && !o->ws_subprotocol &&
	    !(o->ws_subprotocol = strdup("mqtt")))
		return fail("out of memory");
	if (ps->at[OPT_PAYLOAD_SIZE - OPT_PROTO] && o->payloads.n)
		return fail("--payload-size and --payload-file cannot be used together");
	if ((r = payload_proto_check(o, ps)))
		return r;
	if (kafka) {
		if (!ps->at[OPT_TOPIC - OPT_PROTO] && (r = str_arg(&o->topic, "--topic", "blast", 5)))
			return r;
		if (!ps->at[OPT_INFLIGHT - OPT_PROTO])
			o->inflight = 5;
		if ((r = kafka_topic_check(o->topic)))
			return r;
		if (o->key && (r = template_check("--key", o->key, o->conns - 1)))
			return r;
		for (uint32_t i = 0; i < o->n_headers; i++)
			if ((r = template_check("--record-header", o->headers[i].value,
						o->conns - 1)))
				return r;
		return finish_common(o);
	}
	if (o->tokens.n && o->username)
		return fail("--username and --tokens-file cannot be used together (tokens are the usernames)");
	if (o->tokens.n && o->tokens.n < o->conns)
		return fail("--tokens-file %s: %zu non-empty lines for --conns %u (one token per connection)",
			    show(ps->tokens_path), o->tokens.n, o->conns);
	/* MQTT 3.1.1 (3.1.2.9) allows a password only after a username. */
	if (o->password && !o->username && !o->tokens.n && o->mqtt_version == 4)
		return fail("--password needs --username or --tokens-file with --mqtt-version 3.1.1");
	if (strpbrk(o->topic, "+#"))
		return fail("--topic %s: wildcards + and # are not allowed in a publish topic",
			    show(o->topic));
	if ((r = template_check("--topic", o->topic, o->conns - 1)))
		return r;
	/* A broker drops the older of two clients with the same id, so
	 * shared ids would look like a broker failure. Empty means the
	 * broker assigns one. */
	if (o->conns > 1 && *o->client_id && !strstr(o->client_id, "{conn}"))
		return fail("--client-id %s: must contain {conn} when --conns is more than 1 "
			    "(a broker drops a client whose id is taken)",
			    show(o->client_id));
	if ((r = template_check("--client-id", o->client_id, o->conns - 1)))
		return r;
	o->topic_has_seq = strstr(o->topic, "{seq}") != NULL;
	return finish_common(o);
}

/* The checks both protocols share, last. */
static int finish_common(struct blast_opts *o)
{
	int r;

	if (!o->workers) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		o->workers = cpus < 1 ? 1 : cpus > BLAST_MAX_WORKERS ? BLAST_MAX_WORKERS : (uint32_t)cpus;
	}
	if (o->workers > o->conns)
		o->workers = o->conns;
	if (o->report_path && (r = report_check("--report", o->report_path)))
		return r;
	if (o->hlog_path && (r = report_check("--hlog", o->hlog_path)))
		return r;
	if (o->csv_path && (r = report_check("--csv", o->csv_path)))
		return r;
	if (o->html_path && (r = report_check("--html", o->html_path)))
		return r;
	if (o->pcap_path && (r = pcap_check(o->pcap_path)))
		return r;
	return 0;
}

/* The option as typed, without any "=value". */
static const char *opt_text(const char *arg, char *buf, size_t cap)
{
	size_t n = strcspn(arg, "=");

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

static int parse_args(struct blast_opts *o, int argc, char **argv)
{
	struct parse_state ps = { 0 };
	uint64_t v;
	int r;

	opterr = 0; /* our one line replaces getopt's messages */
	optind = 0; /* 0, not 1: glibc then resets fully, so tests can parse again */
	for (;;) {
		int start = optind ? optind : 1;
		int idx = -1;
		/* '+': stop at the first positional, which is an error anyway;
		 * ':': report a missing value as ':' rather than '?'. */
		int c = getopt_long(argc, argv, "+:", long_opts, &idx);
		char text[64], flag[32];
		const char *arg = optarg;

		if (c == -1)
			break;
		opt_text(argv[start], text, sizeof(text));
		if (c == '?') {
			if (optopt >= OPT_PROTO)
				return fail("%s does not take a value", text);
			if (optopt)
				return fail("unknown option -%c (see blast --help)", optopt);
			return fail("unknown option %s (see blast --help)", show(text));
		}
		if (c == ':')
			return fail("%s needs a value", text);
		/* getopt_long also takes unique prefixes ("--con"); a script
		 * written that way breaks as soon as a flag is added. */
		if (idx < 0 || strncmp(text, "--", 2) || strcmp(text + 2, long_opts[idx].name))
			return fail("unknown option %s (see blast --help)", show(text));
		snprintf(flag, sizeof(flag), "--%s", long_opts[idx].name);
		/* "--qos --rate 5" would take "--rate" as the QoS. */
		if (arg && !strchr(argv[start], '=') && !strncmp(arg, "--", 2))
			return fail("%s needs a value", flag);
		if (c >= OPT_PROTO && c < OPT__END && !ps.at[c - OPT_PROTO])
			ps.at[c - OPT_PROTO] = start;

		switch (c) {
		case OPT_PROTO:
			if (!strcmp(arg, "mqtt"))
				o->proto = PROTO_MQTT;
			else if (!strcmp(arg, "kafka"))
				o->proto = PROTO_KAFKA;
			else if (!strcmp(arg, "ws"))
				o->proto = PROTO_WS;
			else
				return fail("--proto %s: must be mqtt, kafka or ws", show(arg));
			break;
		case OPT_TARGET:
			if ((r = target_add(o, arg)))
				return r;
			break;
		case OPT_LISTEN_TARGET: {
			/* Parsed like a target, then moved to the listen list. */
			if (o->n_listen >= BLAST_MAX_TARGETS)
				return fail("--listen-target: at most %d", BLAST_MAX_TARGETS);
			unsigned keep = o->n_targets;
			struct blast_target saved = o->targets[keep];
			if ((r = target_add(o, arg)))
				return r;
			o->listen[o->n_listen++] = o->targets[keep];
			o->targets[keep] = saved;
			o->n_targets = keep;
			break;
		}
		case OPT_PUBLISHERS:
			if ((r = num_arg(flag, arg, 1, CONNS_MAX, &v)))
				return r;
			o->publishers = (uint32_t)v;
			break;
		case OPT_LISTENERS:
			if ((r = num_arg(flag, arg, 0, CONNS_MAX, &v)))
				return r;
			o->listeners = (uint32_t)v;
			break;
		case OPT_FANOUT:
			if ((r = num_arg(flag, arg, 1, CONNS_MAX, &v)))
				return r;
			o->fanout = (uint32_t)v;
			break;
		case OPT_BINARY:
			o->binary = true;
			break;
		case OPT_STEPS: {
			const char *q = arg;
			while (*q) {
				char *end;
				errno = 0;
				unsigned long long x = strtoull(q, &end, 10);
				if (end == q || errno || !x || x > 1000000000ull || (*end && *end != ','))
					return fail("--steps %s: expected batch sizes like 10,100,1000", show(arg));
				uint64_t *ns = realloc(o->steps, (o->n_steps + 1) * sizeof(*ns));
				if (!ns)
					return fail("out of memory");
				o->steps = ns;
				o->steps[o->n_steps++] = x;
				q = *end ? end + 1 : end;
			}
			if (!o->n_steps || o->n_steps > 64)
				return fail("--steps %s: 1 to 64 batch sizes", show(arg));
			break;
		}
		case OPT_SUBSCRIBERS:
			if ((r = num_arg(flag, arg, 0, CONNS_MAX, &v)))
				return r;
			o->subscribers = (uint32_t)v;
			if (!o->sub_topic && (r = str_arg(&o->sub_topic, flag, "blast/#", 7)))
				return r;
			break;
		case OPT_SUB_TOPIC:
			if (o->n_sub_topics >= BLAST_MAX_SUB_TOPICS)
				return fail("--sub-topic: at most %d", BLAST_MAX_SUB_TOPICS);
			if (!o->n_sub_topics && (r = str_arg(&o->sub_topic, flag, arg, 65535)))
				return r;
			char **nt = realloc(o->sub_topics, (o->n_sub_topics + 1) * sizeof(*nt));
			if (!nt)
				return fail("out of memory");
			o->sub_topics = nt;
			o->sub_topics[o->n_sub_topics] = NULL;
			if ((r = str_arg(&o->sub_topics[o->n_sub_topics], flag, arg, 65535)))
				return r;
			o->n_sub_topics++;
			break;
		case OPT_SUB_QOS:
			if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "2"))
				return fail("--sub-qos %s: must be 0, 1 or 2", show(arg));
			o->sub_qos = (uint8_t)(arg[0] - '0');
			if (!o->sub_topic && (r = str_arg(&o->sub_topic, flag, "blast/#", 7)))
				return r;
			break;
		case OPT_CHAT:
			o->chat = true;
			if (!o->sub_topic && (r = str_arg(&o->sub_topic, flag, "blast/#", 7)))
				return r;
			break;
		case OPT_RX_STAMPS:
			if (!strcmp(arg, "auto"))
				o->rx_stamps = RX_STAMPS_AUTO;
			else if (!strcmp(arg, "segment"))
				o->rx_stamps = RX_STAMPS_SEGMENT;
			else if (!strcmp(arg, "read"))
				o->rx_stamps = RX_STAMPS_READ;
			else
				return fail("--rx-stamps %s: must be auto, segment or read", show(arg));
			break;
		case OPT_TRANSPORT:
			if (!strcmp(arg, "tcp"))
				o->transport = TRANSPORT_TCP;
			else if (!strcmp(arg, "ws"))
				o->transport = TRANSPORT_WS;
			else
				return fail("--transport %s: must be tcp or ws", show(arg));
			break;
		case OPT_WS_SUBPROTOCOL:
			if (!*arg || strpbrk(arg, " \t\r\n,"))
				return fail("--ws-subprotocol %s: must be one token", show(arg));
			free(o->ws_subprotocol);
			if (!(o->ws_subprotocol = strdup(arg)))
				return fail("out of memory");
			break;
		case OPT_HEADER: {
			const char *colon = strchr(arg, ':');
			if (!colon || colon == arg || strpbrk(arg, "\r\n"))
				return fail("--header %s: expected 'Name: value'", show(arg));
			char **nh = realloc(o->ws_headers, (o->n_ws_headers + 1) * sizeof(*nh));
			if (!nh)
				return fail("out of memory");
			o->ws_headers = nh;
			if (!(nh[o->n_ws_headers] = strdup(arg)))
				return fail("out of memory");
			o->n_ws_headers++;
			break;
		}
		case OPT_CONNS:
			if ((r = num_arg(flag, arg, 1, CONNS_MAX, &v)))
				return r;
			o->conns = (uint32_t)v;
			break;
		case OPT_RAMP:
			if ((r = num_arg(flag, arg, 1, UINT32_MAX, &v)))
				return r;
			o->ramp = (uint32_t)v;
			break;
		case OPT_RATE:
			if ((r = num_arg(flag, arg, 1, UINT64_MAX, &o->rate)))
				return r;
			break;
		case OPT_MESSAGES:
			if ((r = num_arg(flag, arg, 0, UINT64_MAX, &o->messages)))
				return r;
			o->has_messages = true;
			break;
		case OPT_DURATION:
			if ((r = duration_arg(flag, arg, false, &o->duration_ns)))
				return r;
			break;
		case OPT_DRAIN_TIMEOUT:
			if ((r = duration_arg(flag, arg, true, &o->drain_timeout_ns)))
				return r;
			break;
		case OPT_QOS:
			if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "2"))
				return fail("--qos %s: must be 0, 1 or 2", show(arg));
			o->qos = (uint8_t)(arg[0] - '0');
			break;
		case OPT_INFLIGHT:
			if ((r = num_arg(flag, arg, 1, 65535, &v)))
				return r;
			o->inflight = (uint32_t)v;
			break;
		case OPT_TOPIC:
			if (!*arg)
				return fail("--topic '': must not be empty");
			if ((r = str_arg(&o->topic, flag, arg, MQTT_STR_MAX)))
				return r;
			break;
		case OPT_PAYLOAD_SIZE:
			if ((r = num_arg(flag, arg, 0, PAYLOAD_MAX, &v)))
				return r;
			o->payload_size = (uint32_t)v;
			break;
		case OPT_PAYLOAD_FILE:
			if ((r = list_arg(&o->payloads, flag, arg, PAYLOAD_MAX)))
				return r;
			break;
		case OPT_RETAIN:
			o->retain = true;
			break;
		case OPT_CLIENT_ID:
			if ((r = str_arg(&o->client_id, flag, arg, MQTT_STR_MAX)))
				return r;
			break;
		case OPT_USERNAME:
			if ((r = str_arg(&o->username, flag, arg, MQTT_STR_MAX)))
				return r;
			break;
		case OPT_PASSWORD:
			if ((r = str_arg(&o->password, flag, arg, MQTT_STR_MAX)))
				return r;
			break;
		case OPT_TOKENS_FILE:
			if ((r = list_arg(&o->tokens, flag, arg, MQTT_STR_MAX)))
				return r;
			ps.tokens_path = arg;
			break;
		case OPT_KEEPALIVE:
			if ((r = num_arg(flag, arg, 0, 65535, &v)))
				return r;
			o->keepalive = (uint16_t)v;
			break;
		case OPT_MQTT_VERSION:
			if (!strcmp(arg, "3.1.1") || !strcmp(arg, "311") || !strcmp(arg, "4"))
				o->mqtt_version = 4;
			else if (!strcmp(arg, "5") || !strcmp(arg, "5.0"))
				o->mqtt_version = 5;
			else
				return fail("--mqtt-version %s: must be 3.1.1 or 5", show(arg));
			break;
		case OPT_RECONNECT:
			o->reconnect = true;
			break;
		case OPT_CHURN:
			o->churn = true;
			break;
		case OPT_WORKERS:
			if ((r = num_arg(flag, arg, 1, BLAST_MAX_WORKERS, &v)))
				return r;
			o->workers = (uint32_t)v;
			break;
		case OPT_REPORT:
			free(o->report_path);
			o->report_path = strdup(arg);
			if (!o->report_path)
				return fail("out of memory");
			break;
		case OPT_PROBE:
			o->probe = true;
			break;
		case OPT_HLOG:
		case OPT_CSV:
		case OPT_HTML: {
			char **dst = c == OPT_HLOG ? &o->hlog_path : c == OPT_CSV ? &o->csv_path :
										&o->html_path;
			free(*dst);
			*dst = strdup(arg);
			if (!*dst)
				return fail("out of memory");
			break;
		}
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_ACKS:
			if (!strcmp(arg, "0") || !strcmp(arg, "1"))
				o->acks = (int16_t)(arg[0] - '0');
			else if (!strcmp(arg, "all") || !strcmp(arg, "-1"))
				o->acks = -1;
			else
				return fail("--acks %s: must be 0, 1 or all (also -1)", show(arg));
			break;
		case OPT_BATCH_SIZE:
			if ((r = num_arg(flag, arg, BATCH_MIN, BATCH_MAX, &v)))
				return r;
			o->batch_size = (uint32_t)v;
			break;
		case OPT_LINGER:
			if ((r = linger_arg(arg, &o->linger_ns)))
				return r;
			break;
		case OPT_KEY:
			if ((r = str_arg(&o->key, flag, arg, MQTT_STR_MAX)))
				return r;
			break;
		case OPT_PARTITIONS:
			if ((r = partitions_arg(o, arg)))
				return r;
			break;
		case OPT_COMPRESSION:
			if (!strcmp(arg, "none"))
				o->compression = KCOMP_NONE;
			else if (!strcmp(arg, "gzip"))
				o->compression = KCOMP_GZIP;
			else if (!strcmp(arg, "snappy") || !strcmp(arg, "lz4") || !strcmp(arg, "zstd"))
				return fail("--compression %s: not supported (none or gzip)", arg);
			else
				return fail("--compression %s: must be none or gzip", show(arg));
			break;
		case OPT_RECORD_HEADER:
			if ((r = header_arg(o, arg)))
				return r;
			break;
		case OPT_PAYLOAD_PROTO:
			if (!*arg)
				return fail("--payload-proto '': needs a message name");
			if ((r = str_arg(&o->payload_proto, flag, arg, 1024)))
				return r;
			break;
		case OPT_PAYLOAD_PROTO_DESC:
			if (!*arg)
				return fail("--payload-proto-desc '': needs a file name");
			if ((r = str_arg(&o->payload_proto_desc, flag, arg, PATH_MAX)))
				return r;
			break;
		case OPT_FIELD:
			if ((r = field_arg(o, arg)))
				return r;
			break;
		case OPT_PCAP:
			if ((r = str_arg(&o->pcap_path, flag, arg, PATH_MAX)))
				return r;
			break;
		case OPT_PCAP_SNAPLEN:
			if ((r = num_arg(flag, arg, PCAP_SNAPLEN_MIN, PCAP_SNAPLEN_MAX, &v)))
				return r;
			o->pcap_snaplen = (uint32_t)v;
			break;
		case OPT_PCAP_MAX_BYTES:
			if ((r = num_arg(flag, arg, 4096, UINT64_MAX, &v)))
				return r;
			o->pcap_max_bytes = v;
			break;
		case OPT_FIND_LIMIT:
			/* "--find-limit", "--find-limit conns", "--find-limit=rate". */
			if (!arg && optind < argc && argv[optind][0] != '-')
				arg = argv[optind++];
			if (!arg || !strcmp(arg, "rate"))
				o->limit.mode = LIMIT_RATE;
			else if (!strcmp(arg, "conns"))
				o->limit.mode = LIMIT_CONNS;
			else
				return fail("--find-limit %s: must be rate (the default) or conns", show(arg));
			break;
		case OPT_SLO:
		case OPT_MAX_LOSS: {
			char err[256];
			if ((c == OPT_SLO ? limit_parse_slo : limit_parse_max_loss)(&o->limit, arg, err,
										    sizeof(err)))
				return fail("%s", err);
			break;
		}
		case OPT_TRIAL_DURATION:
			if ((r = duration_arg(flag, arg, false, &o->limit.trial_ns)))
				return r;
			break;
		case OPT_SEARCH_TIMEOUT:
			if ((r = duration_arg(flag, arg, false, &o->limit.timeout_ns)))
				return r;
			break;
		case OPT_CEILING:
			if ((r = num_arg(flag, arg, 1, UINT64_MAX / 4, &o->limit.ceiling)))
				return r;
			break;
		case OPT_HELP:
			usage_print(stdout);
			return 1;
		case OPT_VERSION:
			printf("blast %s\n", BLAST_VERSION);
			return 1;
		default:
			return fail("unhandled option %s", text);
		}
	}
	if (optind < argc)
		return fail("unexpected argument %s (every setting is a --flag)", show(argv[optind]));
	return finish(o, &ps);
}

int opts_parse(struct blast_opts *o, int argc, char **argv)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->proto = PROTO_MQTT;
	o->conns = 1;
	o->drain_timeout_ns = 5000000000ull;
	o->pcap_snaplen = PCAP_SNAPLEN_DEFAULT;
	o->inflight = 64;
	o->payload_size = 32;
	o->keepalive = 60;
	o->mqtt_version = 4;
	o->acks = 1;
	o->batch_size = 16384;
	o->linger_ns = 5000000ull;
	o->compression = KCOMP_NONE;
	o->topic = strdup("blast/{conn}");
	o->client_id = strdup("blast-{pid}-{conn}");
	if (!o->topic || !o->client_id)
		r = fail("out of memory");
	else
		r = parse_args(o, argc, argv);
	/* The caller exits on anything but 0, so leave nothing behind. */
	if (r)
		opts_free(o);
	return r;
}

/* Returns 0 or a positive errno. */
static int connect_once(const struct blast_target *t)
{
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		err = errno;
		goto out;
	}
	pfd.fd = fd;
	for (;;) {
		int r = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		else if (r == 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		break;
	}
out:
	close(fd);
	return err;
}

int opts_check_targets(const struct blast_opts *o)
{
	for (unsigned i = 0; i < o->n_targets; i++) {
		int err = connect_once(&o->targets[i]);
		if (err) {
			char name[300];
			target_name(&o->targets[i], name, sizeof(name));
			return fail("cannot connect to %s: %s", name, strerror(err));
		}
	}
	for (unsigned i = 0; i < o->n_listen; i++) {
		int err = connect_once(&o->listen[i]);
		if (err) {
			char name[300];
			target_name(&o->listen[i], name, sizeof(name));
			return fail("cannot connect to --listen-target %s: %s", name, strerror(err));
		}
	}
	return 0;
}

void opts_free(struct blast_opts *o)
{
	free(o->topic);
	free(o->client_id);
	free(o->username);
	free(o->password);
	free(o->report_path);
	o->topic = o->client_id = o->username = o->password = o->report_path = NULL;
	free(o->hlog_path);
	free(o->csv_path);
	free(o->html_path);
	o->hlog_path = o->csv_path = o->html_path = NULL;
	line_list_free(&o->payloads);
	line_list_free(&o->tokens);
	free(o->key);
	free(o->partitions);
	for (uint32_t i = 0; i < o->n_headers; i++) {
		free(o->headers[i].name);
		free(o->headers[i].value);
	}
	free(o->headers);
	free(o->payload_proto);
	free(o->payload_proto_desc);
	for (uint32_t i = 0; i < o->n_fields; i++) {
		free(o->fields[i].name);
		free(o->fields[i].gen);
	}
	free(o->fields);
	o->key = o->payload_proto = o->payload_proto_desc = NULL;
	o->partitions = NULL;
	o->headers = NULL;
	o->fields = NULL;
	o->n_partitions = o->n_headers = o->n_fields = 0;
	free(o->steps);
	o->steps = NULL;
	free(o->sub_topic);
	o->sub_topic = NULL;
	for (uint32_t i = 0; i < o->n_sub_topics; i++)
		free(o->sub_topics[i]);
	free(o->sub_topics);
	o->sub_topics = NULL;
	o->n_sub_topics = 0;
	o->n_steps = 0;
	free(o->ws_subprotocol);
	for (uint32_t i = 0; i < o->n_ws_headers; i++)
		free(o->ws_headers[i]);
	free(o->ws_headers);
	o->ws_subprotocol = NULL;
	o->ws_headers = NULL;
	o->n_ws_headers = 0;
	free(o->pcap_path);
	o->pcap_path = NULL;
}
