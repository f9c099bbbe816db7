/* Command line: every parser on good and bad values, the defaults, template
 * expansion, and for every bad input the contract of status 2 with exactly
 * one "blast: " line on stderr and nothing on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/opts.h"
#include "t.h"

#define NARGS(...) (sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *))
/* argv with "blast" in front, as main would get it. */
#define ARGV(...) ((char *[]){ "blast", __VA_ARGS__, NULL })

static char cap_out[32768], cap_err[8192];
static char tmpdir[] = "/tmp/test_opts.XXXXXX";

static void slurp(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs opts_parse with stdout and stderr captured into cap_out/cap_err. */
static int parse(struct blast_opts *o, int argc, char **argv)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int save_out, save_err, r;

	if (!fo || !fe) {
		perror("tmpfile");
		exit(T_FAIL);
	}
	fflush(stdout);
	fflush(stderr);
	save_out = dup(1);
	save_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r = opts_parse(o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	slurp(fo, cap_out, sizeof(cap_out));
	slurp(fe, cap_err, sizeof(cap_err));
	return r;
}

/* The bad-input contract; want is a piece the line must contain. */
static void check_bad(int line, const char *want, int argc, char **argv)
{
	struct blast_opts o;
	int r = parse(&o, argc, argv);
	char *nl = strchr(cap_err, '\n');
	bool ok = r == BLAST_EXIT_USAGE && !strncmp(cap_err, "blast: ", 7) && nl && !nl[1] &&
		  !cap_out[0] && strstr(cap_err, want);

	t_checks++;
	if (!ok) {
		t_failures++;
		fprintf(stderr, "%s:%d: bad input not reported as wanted (status %d, want \"%s\")\n",
			__FILE__, line, r, want);
		fprintf(stderr, "  argv:");
		for (int i = 1; i < argc; i++)
			fprintf(stderr, " [%s]", argv[i]);
		fprintf(stderr, "\n  stderr: [%s]\n  stdout: [%s]\n", cap_err, cap_out);
	}
	opts_free(&o); /* must be harmless after a failed parse */
}

#define BAD(want, ...) check_bad(__LINE__, want, (int)NARGS(__VA_ARGS__) + 1, ARGV(__VA_ARGS__))

/* Parses a good command line into *o; the caller frees it. */
static int good_at(int line, struct blast_opts *o, int argc, char **argv)
{
	int r = parse(o, argc, argv);

	t_checks++;
	if (r != 0 || cap_err[0] || cap_out[0]) {
		t_failures++;
		fprintf(stderr, "%s:%d: good input refused (status %d): %s%s", __FILE__, line, r,
			cap_err, cap_out);
	}
	return r;
}

#define GOOD(o, ...) good_at(__LINE__, o, (int)NARGS(__VA_ARGS__) + 1, ARGV(__VA_ARGS__))

static char *tmp_path(const char *name)
{
	static char bufs[8][256];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, 256, "%s/%s", tmpdir, name);
	return b;
}

static char *write_file(const char *name, const char *text, size_t len)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		perror(p);
		exit(T_FAIL);
	}
	return p;
}

static void test_parse_u64(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "0", 0 },
		{ "7", 7 },
		{ "007", 7 },
		{ "50000", 50000 },
		{ "1k", 1000 },
		{ "50K", 50000 },
		{ "2m", 2000000 },
		{ "3G", 3000000000ull },
		{ "18446744073709551615", UINT64_MAX },
		{ "18446744073709551k", 18446744073709551000ull },
	};
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1\n", "1kk", "1.5", "0x10", "k", "1e3", "1t",
		"18446744073709551616", "99999999999999999999999", "18446744073709552k", "18446744073709552g",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		CHECK_EQ_INT(parse_u64(ok[i].s, &v), 0);
		CHECK(v == ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		CHECK_EQ_INT(parse_u64(bad[i], &v), -EINVAL);
		CHECK(v == 12345); /* untouched on error */
	}
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "500ms", 500000000ull },
		{ "30s", 30000000000ull },
		{ "2m", 120000000000ull },
		{ "1h", 3600000000000ull },
		{ "7", 7000000000ull },
		{ "0", 0 },
		{ "1ms", 1000000ull },
		{ "5124095h", 5124095ull * 3600000000000ull },
	};
	static const char *const bad[] = {
		"", "s", "ms", "1d", "1.5s", "-1s", "+1s", "10sx", "1 s", "1S", "30sec", "1k",
		"5124096h", "18446744073709551616", "99999999999999999999ms",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_EQ_INT(parse_duration_ns(ok[i].s, &v), 0);
		CHECK(v == ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse_duration_ns(bad[i], &v), -EINVAL);
}

static void test_parse_hostport(void)
{
	static const char *const bad[] = {
		"", "host", "host:", ":1883", "host:0", "host:65536", "host:1k", "host:-1",
		"host:+1", "host:18a", "::1:1883", "[::1]1883", "[::1]", "[::1]:", "[]:1883",
		"[::1:1883", "host:1883 ",
	};
	char host[256];
	uint16_t port = 0;

	CHECK_EQ_INT(parse_hostport("127.0.0.1:1883", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "127.0.0.1"));
	CHECK_EQ_INT(port, 1883);
	CHECK_EQ_INT(parse_hostport("[::1]:8883", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "::1"));
	CHECK_EQ_INT(port, 8883);
	CHECK_EQ_INT(parse_hostport("broker.example:65535", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "broker.example"));
	CHECK_EQ_INT(port, 65535);
	CHECK_EQ_INT(parse_hostport("h:1", host, sizeof(host), &port), 0);
	CHECK_EQ_INT(port, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse_hostport(bad[i], host, sizeof(host), &port), -EINVAL);
	/* The host must fit with its NUL. */
	CHECK_EQ_INT(parse_hostport("abcd:1", host, 5, &port), 0);
	CHECK_EQ_INT(parse_hostport("abcde:1", host, 5, &port), -EINVAL);
}

static void test_template(void)
{
	char buf[64];

	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "blast/{conn}", 42, 0, 0), 8);
	CHECK(!strcmp(buf, "blast/42"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "blast-{pid}-{conn}", 7, 0, 1234), 12);
	CHECK(!strcmp(buf, "blast-1234-7"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "t/{conn}/{seq}", 0, 99, 0), 6);
	CHECK(!strcmp(buf, "t/0/99"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{seq}", 0, UINT64_MAX, 0), 20);
	CHECK(!strcmp(buf, "18446744073709551615"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{conn}{conn}", 12, 0, 0), 4);
	CHECK(!strcmp(buf, "1212"));
	/* Unknown names and stray braces stay as they are. */
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{x}/{conn", 1, 2, 3), 9);
	CHECK(!strcmp(buf, "{x}/{conn"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{{conn}}", 5, 0, 0), 3);
	CHECK(!strcmp(buf, "{5}"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "", 1, 2, 3), 0);
	CHECK(!strcmp(buf, ""));
	/* Exactly full: 8 bytes and the NUL in 9; one less is -ENOSPC. */
	CHECK_EQ_INT(template_expand(buf, 9, "blast/{conn}", 42, 0, 0), 8);
	CHECK_EQ_INT(template_expand(buf, 8, "blast/{conn}", 42, 0, 0), -ENOSPC);
	CHECK_EQ_INT(template_expand(buf, 7, "blast/{conn}", 42, 0, 0), -ENOSPC);
	CHECK_EQ_INT(template_expand(buf, 1, "", 0, 0, 0), 0);
	CHECK_EQ_INT(template_expand(buf, 0, "", 0, 0, 0), -ENOSPC);
}

static void test_defaults(void)
{
	struct blast_opts o;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&o.targets[0].addr;

	if (GOOD(&o, "--quiet"))
		return;
	CHECK_EQ_INT(o.proto, PROTO_MQTT);
	CHECK_EQ_INT(o.n_targets, 1);
	CHECK(!strcmp(o.targets[0].host, "127.0.0.1"));
	CHECK_EQ_INT(o.targets[0].port, 1883);
	CHECK_EQ_INT(sin->sin_family, AF_INET);
	CHECK_EQ_INT(ntohs(sin->sin_port), 1883);
	CHECK_EQ_INT(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	CHECK_EQ_INT(o.targets[0].addr_len, sizeof(struct sockaddr_in));
	CHECK_EQ_INT(o.conns, 1);
	CHECK_EQ_INT(o.ramp, 0);
	CHECK(o.rate == 0);
	CHECK(!o.has_messages);
	CHECK(o.duration_ns == 0);
	CHECK(o.drain_timeout_ns == 5000000000ull);
	CHECK_EQ_INT(o.qos, 0);
	CHECK_EQ_INT(o.inflight, 64);
	CHECK(o.topic && !strcmp(o.topic, "blast/{conn}"));
	CHECK(!o.topic_has_seq);
	CHECK_EQ_INT(o.payload_size, 32);
	CHECK_EQ_INT(o.payloads.n, 0);
	CHECK(!o.retain);
	CHECK(o.client_id && !strcmp(o.client_id, "blast-{pid}-{conn}"));
	CHECK(!o.username && !o.password);
	CHECK_EQ_INT(o.tokens.n, 0);
	CHECK_EQ_INT(o.keepalive, 60);
	CHECK_EQ_INT(o.mqtt_version, 4);
	CHECK(!o.reconnect && !o.churn);
	CHECK_EQ_INT(o.workers, 1); /* capped at conns */
	CHECK(!o.report_path);
	CHECK(!o.hlog_path && !o.csv_path && !o.html_path);
	CHECK(o.quiet);
	CHECK(!o.probe);
	CHECK(!o.pcap_path);
	CHECK_EQ_INT(o.pcap_snaplen, 262144);
	CHECK_EQ_INT(o.pcap_max_bytes, 0);
	/* Kafka and protobuf settings have their defaults under mqtt too. */
	CHECK_EQ_INT(o.acks, 1);
	CHECK_EQ_INT(o.batch_size, 16384);
	CHECK(o.linger_ns == 5000000ull);
	CHECK(!o.key && !o.partitions && !o.n_partitions);
	CHECK_EQ_INT(o.compression, KCOMP_NONE);
	CHECK(!o.headers && !o.n_headers);
	CHECK(!o.payload_proto && !o.payload_proto_desc && !o.fields && !o.n_fields);
	opts_free(&o);

	/* Kafka's own defaults: port 9092, one plain topic, 5 in flight. */
	if (!GOOD(&o, "--proto", "kafka")) {
		CHECK_EQ_INT(o.proto, PROTO_KAFKA);
		CHECK_EQ_INT(o.n_targets, 1);
		CHECK(!strcmp(o.targets[0].host, "127.0.0.1"));
		CHECK_EQ_INT(o.targets[0].port, 9092);
		CHECK_EQ_INT(ntohs(sin->sin_port), 9092);
		CHECK(!strcmp(o.topic, "blast"));
		CHECK(!o.topic_has_seq);
		CHECK_EQ_INT(o.inflight, 5);
		CHECK_EQ_INT(o.acks, 1);
		CHECK_EQ_INT(o.payload_size, 32);
		opts_free(&o);
	}
	/* Given values win over the Kafka defaults, whatever the order. */
	if (!GOOD(&o, "--inflight", "9", "--topic", "t", "--target", "127.0.0.1:19092", "--proto",
		  "kafka")) {
		CHECK_EQ_INT(o.inflight, 9);
		CHECK(!strcmp(o.topic, "t"));
		CHECK_EQ_INT(o.targets[0].port, 19092);
		opts_free(&o);
	}

	/* Default workers: online CPUs, capped at conns and the maximum. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus > BLAST_MAX_WORKERS)
		cpus = BLAST_MAX_WORKERS;
	if (!GOOD(&o, "--conns", "1000000")) {
		CHECK_EQ_INT(o.workers, cpus);
		opts_free(&o);
	}
}

static void test_good(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--proto", "mqtt", "--target", "127.0.0.1:1883", "--conns", "10000", "--ramp",
		  "2000", "--rate", "50000", "--duration", "30s", "--qos", "1")) {
		CHECK_EQ_INT(o.conns, 10000);
		CHECK_EQ_INT(o.ramp, 2000);
		CHECK(o.rate == 50000);
		CHECK(o.duration_ns == 30000000000ull);
		CHECK_EQ_INT(o.qos, 1);
		CHECK_EQ_INT(o.n_targets, 1);
		opts_free(&o);
	}
	/* MQTT fan-out: publishers (--conns or --publishers) plus
	 * subscribers on every node; the filter defaults to blast/#. */
	if (!GOOD(&o, "--conns", "3", "--subscribers", "4", "--listen-target", "127.0.0.1:1884",
		  "--sub-qos", "2", "--mqtt-version", "5")) {
		CHECK(opts_fanout(&o));
		CHECK_EQ_INT(o.publishers, 3);
		CHECK_EQ_INT(o.subscribers, 4);
		CHECK_EQ_INT(o.conns, 3 + 4 * 2);
		CHECK_EQ_INT(o.sub_qos, 2);
		CHECK(!strcmp(o.sub_topic, "blast/#"));
		CHECK_EQ_INT(o.n_sub_topics, 1);
		CHECK(!strcmp(o.sub_topics[0], "blast/#"));
		CHECK_EQ_INT(opts_receivers_per_node(&o), 4);
		opts_free(&o);
	}
	if (!GOOD(&o, "--sub-topic", "+/+", "--publishers", "2", "--fanout", "5", "--steps",
		  "10,20", "--target", "ws://127.0.0.1:9001/mqtt", "--listen-target",
		  "ws://127.0.0.1:9002/mqtt")) {
		CHECK(opts_fanout(&o));
		CHECK_EQ_INT(o.subscribers, 1);
		CHECK_EQ_INT(o.conns, 2 + 1 * 2);
		CHECK_EQ_INT(o.fanout, 5);
		CHECK_EQ_INT(o.n_steps, 2);
		CHECK_EQ_INT(o.transport, TRANSPORT_WS);
		CHECK(!strcmp(o.sub_topic, "+/+"));
		opts_free(&o);
	}
	/* --sub-topic repeats: every filter is subscribed to. */
	if (!GOOD(&o, "--subscribers", "1", "--sub-topic", "a/#", "--sub-topic", "b/+")) {
		CHECK(!strcmp(o.sub_topic, "a/#"));
		CHECK_EQ_INT(o.n_sub_topics, 2);
		CHECK(!strcmp(o.sub_topics[0], "a/#") && !strcmp(o.sub_topics[1], "b/+"));
		opts_free(&o);
	}
	/* --chat alone is a fan-out run in which the publishers subscribe. */
	if (!GOOD(&o, "--chat", "--publishers", "2")) {
		CHECK(opts_fanout(&o));
		CHECK(o.chat);
		CHECK_EQ_INT(o.conns, 3);
		CHECK(!strcmp(o.sub_topic, "blast/#"));
		opts_free(&o);
	}
	if (!GOOD(&o, "--subscribers", "2", "--sub-topic", "$share/a/x/#", "--sub-topic",
		  "$share/b/x/#")) {
		CHECK(!o.chat);
		CHECK_EQ_INT(o.n_sub_topics, 2);
		opts_free(&o);
	}
	if (!GOOD(&o, "--conns", "2")) {
		CHECK(!opts_fanout(&o));
		opts_free(&o);
	}
	/* --flag=value, suffixes, and the rest of the flags. */
	if (!GOOD(&o, "--conns=2k", "--rate=1m", "--messages=0", "--duration=500ms",
		  "--drain-timeout=0", "--qos=2", "--inflight=65535", "--topic=a/{conn}/{seq}",
		  "--payload-size=0", "--retain", "--client-id=c{conn}", "--username=u",
		  "--password=p", "--keepalive=0", "--mqtt-version=5", "--reconnect", "--churn",
		  "--workers=3", "--quiet")) {
		CHECK_EQ_INT(o.conns, 2000);
		CHECK(o.rate == 1000000);
		CHECK(o.has_messages && o.messages == 0);
		CHECK(o.duration_ns == 500000000ull);
		CHECK(o.drain_timeout_ns == 0);
		CHECK_EQ_INT(o.qos, 2);
		CHECK_EQ_INT(o.inflight, 65535);
		CHECK(!strcmp(o.topic, "a/{conn}/{seq}"));
		CHECK(o.topic_has_seq);
		CHECK_EQ_INT(o.payload_size, 0);
		CHECK(o.retain);
		CHECK(!strcmp(o.client_id, "c{conn}"));
		CHECK(!strcmp(o.username, "u") && !strcmp(o.password, "p"));
		CHECK_EQ_INT(o.keepalive, 0);
		CHECK_EQ_INT(o.mqtt_version, 5);
		CHECK(o.reconnect && o.churn && o.quiet);
		CHECK_EQ_INT(o.workers, 3);
		opts_free(&o);
	}
	/* Repeated flags: the last one wins and nothing leaks. */
	if (!GOOD(&o, "--topic", "x", "--topic", "y/{conn}", "--qos", "2", "--qos", "0",
		  "--username", "a", "--username", "b")) {
		CHECK(!strcmp(o.topic, "y/{conn}"));
		CHECK_EQ_INT(o.qos, 0);
		CHECK(!strcmp(o.username, "b"));
		opts_free(&o);
	}
	static const struct {
		const char *s;
		int v;
	} versions[] = { { "3.1.1", 4 }, { "311", 4 }, { "4", 4 }, { "5", 5 }, { "5.0", 5 } };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (!GOOD(&o, "--mqtt-version", (char *)versions[i].s)) {
			CHECK_EQ_INT(o.mqtt_version, versions[i].v);
			opts_free(&o);
		}
	}
	/* Several targets, IPv6 and a name; "localhost" prefers IPv4. */
	if (!GOOD(&o, "--target", "127.0.0.1:1", "--target", "[::1]:2", "--target",
		  "localhost:3", "--conns", "3")) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&o.targets[1].addr;
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&o.targets[2].addr;
		CHECK_EQ_INT(o.n_targets, 3);
		CHECK_EQ_INT(s6->sin6_family, AF_INET6);
		CHECK_EQ_INT(ntohs(s6->sin6_port), 2);
		CHECK(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
		CHECK_EQ_INT(o.targets[1].addr_len, sizeof(struct sockaddr_in6));
		CHECK(!strcmp(o.targets[1].host, "::1"));
		CHECK_EQ_INT(s4->sin_family, AF_INET);
		CHECK_EQ_INT(ntohs(s4->sin_port), 3);
		opts_free(&o);
	}
	/* One connection may share any client id, including none. */
	if (!GOOD(&o, "--client-id", "fixed")) {
		CHECK(!strcmp(o.client_id, "fixed"));
		opts_free(&o);
	}
	if (!GOOD(&o, "--client-id", "", "--conns", "5"))
		opts_free(&o);
	/* Password alone is fine in MQTT 5. */
	if (!GOOD(&o, "--password", "p", "--mqtt-version", "5"))
		opts_free(&o);
	/* A value that starts with -- in the = form. */
	if (!GOOD(&o, "--password=--p", "--username", "u")) {
		CHECK(!strcmp(o.password, "--p"));
		opts_free(&o);
	}
	/* "--" ends the flags; with nothing after it that is fine. */
	if (!GOOD(&o, "--qos", "1", "--"))
		opts_free(&o);
}

static void test_kafka(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--proto", "kafka", "--topic", "Readings_v2.eu-1", "--acks", "all",
		  "--batch-size", "1m", "--linger", "0", "--key", "dev-{conn}-{seq}",
		  "--partitions", "5-7,0,2,6,2", "--compression", "gzip", "--record-header",
		  "src=blast-{conn}", "--record-header", "empty=", "--conns", "4")) {
		CHECK_EQ_INT(o.acks, -1);
		CHECK_EQ_INT(o.batch_size, 1000000);
		CHECK(o.linger_ns == 0);
		CHECK(!strcmp(o.key, "dev-{conn}-{seq}"));
		CHECK_EQ_INT(o.n_partitions, 5);
		if (o.n_partitions == 5) {
			static const int32_t want[] = { 0, 2, 5, 6, 7 };
			CHECK_MEM(o.partitions, sizeof(want), want, sizeof(want));
		}
		CHECK_EQ_INT(o.compression, KCOMP_GZIP);
		CHECK_EQ_INT(o.n_headers, 2);
		CHECK(!strcmp(o.headers[0].name, "src") && !strcmp(o.headers[0].value, "blast-{conn}"));
		CHECK(!strcmp(o.headers[1].name, "empty") && !strcmp(o.headers[1].value, ""));
		CHECK(!strcmp(o.topic, "Readings_v2.eu-1"));
		opts_free(&o);
	}
	static const struct {
		const char *s;
		int acks;
	} acks[] = { { "0", 0 }, { "1", 1 }, { "all", -1 }, { "-1", -1 } };
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		if (!GOOD(&o, "--proto", "kafka", "--acks", (char *)acks[i].s)) {
			CHECK_EQ_INT(o.acks, acks[i].acks);
			opts_free(&o);
		}
	}
	static const struct {
		const char *s;
		uint64_t ns;
	} linger[] = {
		{ "0", 0 }, { "5", 5000000ull }, { "5ms", 5000000ull }, { "1s", 1000000000ull },
		{ "900000", 900000000000ull }, { "900s", 900000000000ull },
	};
	for (size_t i = 0; i < sizeof(linger) / sizeof(linger[0]); i++) {
		if (!GOOD(&o, "--proto", "kafka", "--linger", (char *)linger[i].s)) {
			CHECK(o.linger_ns == linger[i].ns);
			opts_free(&o);
		}
	}
	/* Edges: the largest partition, overlapping ranges, a full 64 KiB. */
	if (!GOOD(&o, "--proto", "kafka", "--partitions", "2147483647,3-9,1-4,0")) {
		CHECK_EQ_INT(o.n_partitions, 11);
		CHECK_EQ_INT(o.partitions[0], 0);
		CHECK_EQ_INT(o.partitions[9], 9);
		CHECK_EQ_INT(o.partitions[10], INT32_MAX);
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "kafka", "--partitions", "1", "--partitions", "0-65535")) {
		CHECK_EQ_INT(o.n_partitions, 65536);
		CHECK_EQ_INT(o.partitions[65535], 65535);
		opts_free(&o);
	}
	/* 64 headers fit; a 249-character topic is legal. */
	char *argv[2 + 2 * 64 + 3];
	char hdr[64][16], topic[250];
	int n = 0;
	argv[n++] = "blast";
	argv[n++] = "--proto=kafka";
	for (int i = 0; i < 64; i++) {
		snprintf(hdr[i], sizeof(hdr[i]), "h%d=v", i);
		argv[n++] = "--record-header";
		argv[n++] = hdr[i];
	}
	memset(topic, 'x', 249);
	topic[249] = '\0';
	argv[n++] = "--topic";
	argv[n++] = topic;
	argv[n] = NULL;
	if (!good_at(__LINE__, &o, n, argv)) {
		CHECK_EQ_INT(o.n_headers, 64);
		opts_free(&o);
	}
}

static void test_payload_proto_opts(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--payload-proto", "TagData", "--field", "distance=uniform:0:10", "--field",
		  "timestamp=now", "--field", "detached=bernoulli:0.01", "--field",
		  "battery_low=false")) {
		CHECK(!strcmp(o.payload_proto, "TagData"));
		CHECK(!o.payload_proto_desc);
		CHECK_EQ_INT(o.n_fields, 4);
		CHECK(!strcmp(o.fields[0].name, "distance") &&
		      !strcmp(o.fields[0].gen, "uniform:0:10"));
		CHECK(!strcmp(o.fields[1].name, "timestamp") && !strcmp(o.fields[1].gen, "now"));
		/* The generator text keeps any further '='. */
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "kafka", "--payload-proto", "Alive", "--field",
		  "timestamp.seconds=seq", "--field", "tag_id=7")) {
		CHECK(!strcmp(o.payload_proto, "Alive"));
		CHECK_EQ_INT(o.n_fields, 2);
		opts_free(&o);
	}
	/* No fields: every field unset, an empty message. */
	if (!GOOD(&o, "--payload-proto", "TagData"))
		opts_free(&o);
}

static void test_files(void)
{
	struct blast_opts o;
	/* CRLF, blank lines, no final newline, a NUL inside a payload. */
	static const char payloads[] = "one\r\n\ntwo\n\r\nthr\0ee";
	char *pf = write_file("payloads", payloads, sizeof(payloads) - 1);
	char *tf = write_file("tokens", "tok-a\ntok-b\n\ntok-c\n", 19);
	char *report = tmp_path("out.json");
	char *report_tmp = tmp_path("out.json.tmp");
	struct stat st;

	if (!GOOD(&o, "--payload-file", pf, "--tokens-file", tf, "--conns", "3", "--report",
		  report)) {
		CHECK_EQ_INT(o.payloads.n, 3);
		CHECK(o.payloads.lens[0] == 3 && !memcmp(o.payloads.lines[0], "one", 4));
		CHECK(o.payloads.lens[1] == 3 && !memcmp(o.payloads.lines[1], "two", 4));
		CHECK(o.payloads.lens[2] == 6 && !memcmp(o.payloads.lines[2], "thr\0ee", 7));
		CHECK_EQ_INT(o.tokens.n, 3);
		CHECK(!strcmp(o.tokens.lines[0], "tok-a") && o.tokens.lens[0] == 5);
		CHECK(!strcmp(o.tokens.lines[2], "tok-c"));
		CHECK(!strcmp(o.report_path, report));
		opts_free(&o);
	}
	/* The writability probe leaves nothing behind... */
	CHECK(stat(report_tmp, &st) < 0 && errno == ENOENT);
	CHECK(stat(report, &st) < 0 && errno == ENOENT);
	/* ...and does not delete a .tmp it did not create. */
	write_file("out.json.tmp", "x", 1);
	if (!GOOD(&o, "--report", report))
		opts_free(&o);
	CHECK(stat(report_tmp, &st) == 0);
	unlink(report_tmp);
	/* --hlog, --csv, --html: kept, probed, nothing left behind. */
	char *hl = tmp_path("out.hlog"), *csv = tmp_path("out.csv"), *html = tmp_path("out.html");
	if (!GOOD(&o, "--hlog", hl, "--csv", csv, "--html", html)) {
		CHECK(o.hlog_path && !strcmp(o.hlog_path, hl));
		CHECK(o.csv_path && !strcmp(o.csv_path, csv));
		CHECK(o.html_path && !strcmp(o.html_path, html));
		opts_free(&o);
		CHECK(!o.hlog_path && !o.csv_path && !o.html_path);
	}
	CHECK(stat(hl, &st) < 0 && errno == ENOENT);
	CHECK(stat(csv, &st) < 0 && errno == ENOENT);
	CHECK(stat(html, &st) < 0 && errno == ENOENT);
	/* More tokens than connections is fine; a file given twice replaces. */
	if (!GOOD(&o, "--tokens-file", pf, "--tokens-file", tf, "--conns", "2")) {
		CHECK_EQ_INT(o.tokens.n, 3);
		opts_free(&o);
	}
	/* --pcap: checked writable, nothing left behind; an existing file
	 * is kept until the capture truncates it. */
	char *cap = tmp_path("cap.pcapng");
	if (!GOOD(&o, "--pcap", cap, "--pcap-snaplen", "1500", "--pcap-max-bytes", "10m")) {
		CHECK(!strcmp(o.pcap_path, cap));
		CHECK_EQ_INT(o.pcap_snaplen, 1500);
		CHECK_EQ_INT(o.pcap_max_bytes, 10000000);
		opts_free(&o);
	}
	CHECK(stat(cap, &st) < 0 && errno == ENOENT);
	write_file("cap.pcapng", "old", 3);
	if (!GOOD(&o, "--pcap", cap))
		opts_free(&o);
	CHECK(stat(cap, &st) == 0 && st.st_size == 3);
	unlink(cap);
	unlink(pf);
	unlink(tf);
}

static void test_probe_flag(void)
{
	struct blast_opts o;

	if (GOOD(&o, "--probe"))
		return;
	CHECK(o.probe);
	CHECK_EQ_INT(o.rx_stamps, RX_STAMPS_AUTO);
	opts_free(&o);
	static const struct {
		const char *arg;
		int want;
	} modes[] = { { "auto", RX_STAMPS_AUTO }, { "segment", RX_STAMPS_SEGMENT },
		      { "read", RX_STAMPS_READ } };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (GOOD(&o, "--rx-stamps", (char *)modes[i].arg))
			continue;
		CHECK_EQ_INT(o.rx_stamps, modes[i].want);
		opts_free(&o);
	}
	BAD("--rx-stamps kernel: must be auto, segment or read", "--rx-stamps", "kernel");
	BAD("--rx-stamps", "--rx-stamps");
}

static void test_help(void)
{
	static const char *const flags[] = {
		"--proto", "--target", "--conns", "--ramp", "--rate", "--messages", "--duration",
		"--drain-timeout", "--qos", "--inflight", "--topic", "--payload-size",
		"--payload-file", "--retain", "--client-id", "--username", "--password",
		"--tokens-file", "--keepalive", "--mqtt-version", "--reconnect", "--churn",
		"--workers", "--report", "--probe", "--hlog", "--csv", "--html", "--quiet", "--help",
		"--version", "--acks",
		"--batch-size", "--linger", "--key", "--partitions", "--compression",
		"--record-header", "--payload-proto", "--payload-proto-desc", "--field",
		"--listen-target", "--publishers", "--listeners", "--fanout", "--binary",
		"--steps", "--subscribers", "--sub-topic", "--sub-qos", "--chat", "--rx-stamps",
	};
	struct blast_opts o;
	int r;

	r = parse(&o, 2, ARGV("--help"));
	CHECK_EQ_INT(r, 1);
	CHECK(!cap_err[0]);
	CHECK(!strncmp(cap_out, "Usage: blast", 12));
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char want[40];
		snprintf(want, sizeof(want), "\n  %s ", flags[i]);
		t_checks++;
		if (!strstr(cap_out, want)) {
			t_failures++;
			fprintf(stderr, "%s:%d: --help does not document %s\n", __FILE__, __LINE__,
				flags[i]);
		}
	}
	/* No line of the help runs past 80 columns. */
	size_t col = 0, widest = 0;
	for (const char *p = cap_out; *p; p++) {
		col = *p == '\n' ? 0 : col + 1;
		widest = col > widest ? col : widest;
	}
	CHECK(widest <= 80);
	opts_free(&o);

	r = parse(&o, 2, ARGV("--version"));
	CHECK_EQ_INT(r, 1);
	CHECK(!strcmp(cap_out, "blast 0.1\n"));
	CHECK(!cap_err[0]);
	opts_free(&o);

	/* --help stops parsing where it stands. */
	r = parse(&o, 3, ARGV("--help", "--frobnicate"));
	CHECK_EQ_INT(r, 1);
	CHECK(!cap_err[0]);
	opts_free(&o);
}

static void test_bad(void)
{
	char *missing = tmp_path("missing");
	char *empty = write_file("empty", "", 0);
	char *blank = write_file("blank", "\n\r\n\n", 4);
	char *two = write_file("two", "a\nb\n", 4);
	char *nodir = tmp_path("nodir/out.json");
	char long_topic[70000];
	char arg[80];

	/* Flags and arguments. */
	BAD("unknown option --frobnicate (see blast --help)", "--frobnicate");
	BAD("unknown option --frobnicate ", "--frobnicate=3");
	BAD("unknown option -x", "-x");
	BAD("unknown option -c", "-conns", "5");
	BAD("unknown option --con ", "--con", "5");        /* no abbreviations */
	BAD("unknown option --re ", "--re");               /* ambiguous prefix */
	BAD("unexpected argument foo", "foo");
	BAD("unexpected argument 5", "--conns", "5", "5");
	BAD("--pcap-snaplen 100: must be between 128 and 262144", "--pcap-snaplen", "100");
	BAD("--pcap-snaplen 300000: must be between 128 and 262144", "--pcap-snaplen", "300000");
	BAD("--pcap-max-bytes 4095: must be at least 4096", "--pcap-max-bytes", "4095");
	BAD("--pcap '': needs a file name", "--pcap", "");
	BAD("unexpected argument x", "--", "x");
	BAD("unexpected argument -", "-");
	BAD("--qos needs a value", "--qos");
	BAD("--qos needs a value", "--qos", "--rate", "5");
	BAD("--topic needs a value", "--conns", "2", "--topic");
	BAD("--retain does not take a value", "--retain=1");
	BAD("--quiet does not take a value", "--quiet=yes");
	BAD("--probe does not take a value", "--probe=yes");
	/* Protocol and version. */
	BAD("--proto amqp: must be mqtt, kafka or ws", "--proto", "amqp");
	BAD("--proto '': must be mqtt, kafka or ws", "--proto", "");
	BAD("--qos is for MQTT only, not --proto ws", "--proto", "ws", "--qos", "1");
	BAD("--publishers is for fan-out: --proto ws, or --proto mqtt with --subscribers",
	    "--publishers", "2");
	/* MQTT fan-out. */
	BAD("--subscribers is for MQTT only, not --proto kafka", "--proto", "kafka",
	    "--subscribers", "2");
	BAD("--sub-topic is for MQTT only, not --proto ws", "--proto", "ws", "--sub-topic", "a/#");
	BAD("--sub-topic a/#/b: not a valid MQTT topic filter", "--sub-topic", "a/#/b");
	BAD("--sub-topic a+: not a valid MQTT topic filter", "--subscribers", "1", "--sub-topic",
	    "a+");
	BAD("--sub-topic '': not a valid MQTT topic filter", "--sub-topic", "");
	BAD("--sub-topic x/#/y: not a valid MQTT topic filter", "--sub-topic", "a/#", "--sub-topic",
	    "x/#/y");
	BAD("--sub-topic: at most 16", "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a",
	    "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a",
	    "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a",
	    "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a", "--sub-topic", "a",
	    "--sub-topic", "a", "--sub-topic", "a");
	BAD("--sub-qos 3: must be 0, 1 or 2", "--sub-qos", "3");
	BAD("--sub-topic $share/g: a shared subscription is $share/NAME/FILTER", "--sub-topic",
	    "$share/g");
	BAD("--sub-topic $share/a+b/x: a shared subscription", "--sub-topic", "$share/a+b/x");
	BAD("--sub-topic $share/g/x/#/y: not a valid MQTT topic filter", "--sub-topic",
	    "$share/g/x/#/y");
	BAD("--sub-topic: 2 shared subscriptions but 1 subscribing connection(s)", "--sub-topic",
	    "$share/a/x", "--sub-topic", "$share/b/x");
	BAD("--sub-topic $share/...: shared subscriptions are for one node", "--sub-topic",
	    "$share/a/x", "--listen-target", "127.0.0.1:1884");
	BAD("--chat is for MQTT only, not --proto ws", "--proto", "ws", "--chat");
	BAD("--subscribers x: not a number", "--subscribers", "x");
	BAD("--listeners is for --proto ws only (MQTT fan-out takes --subscribers)",
	    "--subscribers", "2", "--listeners", "2");
	BAD("--binary is for --proto ws only", "--subscribers", "2", "--binary");
	BAD("--conns and --publishers cannot be used together with --subscribers", "--subscribers",
	    "1", "--conns", "2", "--publishers", "2");
	BAD("--payload-size 31: fan-out needs at least 32 bytes", "--subscribers", "1",
	    "--payload-size", "31");
	BAD("--churn cannot be used with --subscribers", "--subscribers", "1", "--churn");
	BAD("--subscribers: one --target", "--subscribers", "1", "--target", "127.0.0.1:1",
	    "--target", "127.0.0.1:2");
	BAD("--listen-target: ws://HOST:PORT/PATH exactly when --target is", "--subscribers", "1",
	    "--target", "ws://127.0.0.1:1/mqtt", "--listen-target", "127.0.0.1:2");
	BAD("--steps and --messages cannot be used together", "--subscribers", "1", "--steps", "10",
	    "--messages", "5");
	BAD("--fanout is for fan-out", "--fanout", "3");
	BAD("--steps 10,x: expected batch sizes like 10,100,1000", "--proto", "ws", "--steps", "10,x");
	BAD("--steps and --messages cannot be used together", "--proto", "ws", "--steps", "10",
	    "--messages", "5");
	BAD("--payload-size 10: --proto ws needs at least 44 bytes", "--proto", "ws",
	    "--payload-size", "10");
	BAD("--mqtt-version 3: must be 3.1.1 or 5", "--mqtt-version", "3");
	BAD("--mqtt-version 3.1: must be", "--mqtt-version", "3.1");
	BAD("--mqtt-version 6: must be", "--mqtt-version", "6");
	/* Numbers. */
	BAD("--conns abc: not a number", "--conns", "abc");
	BAD("--conns '': not a number", "--conns", "");
	BAD("--conns -5: not a number", "--conns", "-5");
	BAD("--conns 10x: not a number", "--conns", "10x");
	BAD("--conns 0: must be between 1 and 1000000", "--conns", "0");
	BAD("--conns 1000001: must be between 1 and 1000000", "--conns", "1000001");
	BAD("--conns 2m: must be between 1 and 1000000", "--conns", "2m");
	BAD("--conns 99999999999999999999999: must be between 1 and 1000000", "--conns",
	    "99999999999999999999999");
	BAD("--ramp 0: must be between 1 and", "--ramp", "0");
	BAD("--ramp 5g: must be between 1 and 4294967295", "--ramp", "5g");
	BAD("blast: --rate 0: must be at least 1\n", "--rate", "0");
	BAD("--rate 1.5k: not a number", "--rate", "1.5k");
	BAD("--rate 99999999999999999999: too large", "--rate", "99999999999999999999");
	BAD("--messages -1: not a number", "--messages", "-1");
	BAD("blast: --qos 3: must be 0, 1 or 2\n", "--qos", "3");
	BAD("--qos 01: must be 0, 1 or 2", "--qos", "01");
	BAD("--qos one: must be 0, 1 or 2", "--qos", "one");
	BAD("--inflight 0: must be between 1 and 65535", "--inflight", "0");
	BAD("--inflight 65536: must be between 1 and 65535", "--inflight", "65536");
	BAD("--payload-size 268435001: must be between 0 and 268435000", "--payload-size",
	    "268435001");
	BAD("--keepalive 65536: must be between 0 and 65535", "--keepalive", "65536");
	BAD("--workers 0: must be between 1 and 64", "--workers", "0");
	BAD("--workers 65: must be between 1 and 64", "--workers", "65");
	/* Durations. */
	BAD("--duration 10x: not a duration", "--duration", "10x");
	BAD("--duration 1.5s: not a duration", "--duration", "1.5s");
	BAD("--duration '': not a duration", "--duration", "");
	BAD("--duration 0: must be greater than zero", "--duration", "0");
	BAD("--duration 0ms: must be greater than zero", "--duration", "0ms");
	BAD("--duration 9999999999h: too long", "--duration", "9999999999h");
	BAD("--drain-timeout 5d: not a duration", "--drain-timeout", "5d");
	/* Topics and client ids. */
	BAD("blast: --topic a/+/b: wildcards + and # are not allowed in a publish topic\n",
	    "--topic", "a/+/b");
	BAD("--topic a/#: wildcards", "--topic", "a/#");
	BAD("--topic '': must not be empty", "--topic", "");
	memset(long_topic, 'a', 65536);
	long_topic[65536] = '\0';
	BAD("--topic aaaaaaaa", "--topic", long_topic);
	/* 65535 bytes as given, but {seq} can become 20 digits. */
	memcpy(long_topic + 65530, "{seq}", 6);
	BAD("longer than 65535 bytes once expanded", "--topic", long_topic);
	BAD("--topic a?#b: wildcards", "--topic", "a\n#b"); /* a newline cannot split the line */
	BAD("--client-id fixed: must contain {conn}", "--client-id", "fixed", "--conns", "2");
	/* Targets. */
	BAD("--target localhost: expected HOST:PORT", "--target", "localhost");
	BAD("--target ::1:1883: expected HOST:PORT", "--target", "::1:1883");
	BAD("--target 127.0.0.1:0: expected HOST:PORT", "--target", "127.0.0.1:0");
	BAD("--target 127.0.0.1:70000: expected", "--target", "127.0.0.1:70000");
	BAD("blast: --target nosuch.invalid:1883: name does not resolve (", "--target",
	    "nosuch.invalid:1883");
	/* Files. */
	snprintf(arg, sizeof(arg), "--payload-file %s: No such file or directory", missing);
	BAD(arg, "--payload-file", missing);
	snprintf(arg, sizeof(arg), "--payload-file %s: Is a directory", tmpdir);
	BAD(arg, "--payload-file", tmpdir);
	snprintf(arg, sizeof(arg), "--payload-file %s: file has no non-empty line", empty);
	BAD(arg, "--payload-file", empty);
	BAD("file has no non-empty line", "--payload-file", blank);
	BAD("--payload-size and --payload-file cannot be used together", "--payload-size", "8",
	    "--payload-file", two);
	snprintf(arg, sizeof(arg), "--tokens-file %s: No such file or directory", missing);
	BAD(arg, "--tokens-file", missing);
	BAD("file has no non-empty line", "--tokens-file", empty);
	snprintf(arg, sizeof(arg), "--tokens-file %s: 2 non-empty lines for --conns 3", two);
	BAD(arg, "--tokens-file", two, "--conns", "3");
	BAD("--username and --tokens-file cannot be used together", "--tokens-file", two,
	    "--username", "u");
	BAD("--password needs --username or --tokens-file", "--password", "p");
	snprintf(arg, sizeof(arg), "--report %s: No such file or directory", nodir);
	BAD(arg, "--report", nodir);
	snprintf(arg, sizeof(arg), "--report %s: Is a directory", tmpdir);
	BAD(arg, "--report", tmpdir);
	BAD("--report '': needs a file name", "--report", "");
	/* The other report files get the same check, each named by its flag. */
	static char *outs[] = { "--hlog", "--csv", "--html" };
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		snprintf(arg, sizeof(arg), "%s %s: No such file or directory", outs[i], nodir);
		BAD(arg, outs[i], nodir);
		snprintf(arg, sizeof(arg), "%s %s: Is a directory", outs[i], tmpdir);
		BAD(arg, outs[i], tmpdir);
		snprintf(arg, sizeof(arg), "%s '': needs a file name", outs[i]);
		BAD(arg, outs[i], "");
	}
	if (geteuid() != 0) {
		/* root writes anywhere, so this only means something for others. */
		BAD("--report /proc/out.json: ", "--report", "/proc/out.json");
		char *locked = write_file("locked", "x\n", 2);
		chmod(locked, 0);
		snprintf(arg, sizeof(arg), "--payload-file %s: Permission denied", locked);
		BAD(arg, "--payload-file", locked);
		unlink(locked);
	}
	/* Flags of the other protocol; the first one given is named. */
	BAD("blast: --qos is for MQTT only, not --proto kafka\n", "--proto", "kafka", "--qos",
	    "1");
	BAD("--qos is for MQTT only", "--qos", "0", "--proto", "kafka");
	BAD("--retain is for MQTT only", "--proto", "kafka", "--retain");
	BAD("--client-id is for MQTT only", "--proto", "kafka", "--client-id", "x{conn}");
	BAD("--username is for MQTT only", "--proto", "kafka", "--username", "u");
	BAD("--password is for MQTT only", "--proto", "kafka", "--password", "p");
	BAD("--tokens-file is for MQTT only", "--proto", "kafka", "--tokens-file", two);
	BAD("--keepalive is for MQTT only", "--proto", "kafka", "--keepalive", "5");
	BAD("--mqtt-version is for MQTT only", "--proto", "kafka", "--mqtt-version", "5");
	BAD("--churn is for MQTT only", "--proto", "kafka", "--churn");
	BAD("--churn is for MQTT only", "--proto", "kafka", "--churn", "--qos", "1");
	BAD("blast: --acks is for Kafka only (needs --proto kafka)\n", "--acks", "1");
	BAD("--batch-size is for Kafka only", "--batch-size", "2048");
	BAD("--linger is for Kafka only", "--linger", "5");
	BAD("--key is for Kafka only", "--key", "k");
	BAD("--partitions is for Kafka only", "--proto", "mqtt", "--partitions", "0");
	BAD("--compression is for Kafka only", "--compression", "gzip");
	BAD("--record-header is for Kafka only", "--record-header", "a=b");
	/* Kafka values. */
	BAD("blast: --acks 2: must be 0, 1 or all (also -1)\n", "--proto", "kafka", "--acks", "2");
	BAD("--acks ALL: must be", "--proto", "kafka", "--acks", "ALL");
	BAD("--acks '': must be", "--proto", "kafka", "--acks", "");
	BAD("--batch-size 1023: must be between 1024 and 67108864", "--proto", "kafka",
	    "--batch-size", "1023");
	BAD("--batch-size 67108865: must be between 1024 and 67108864", "--proto", "kafka",
	    "--batch-size", "67108865");
	BAD("--linger 5x: not a duration", "--proto", "kafka", "--linger", "5x");
	BAD("--linger 1.5: not a duration", "--proto", "kafka", "--linger", "1.5");
	BAD("--linger 2m: not a duration", "--proto", "kafka", "--linger", "2m");
	BAD("--linger -1: not a duration", "--proto", "kafka", "--linger", "-1");
	BAD("--linger 900001: at most 900000 ms", "--proto", "kafka", "--linger", "900001");
	BAD("--linger 901s: at most 900000 ms", "--proto", "kafka", "--linger", "901s");
	BAD("--linger 99999999999999999999999s: at most", "--proto", "kafka", "--linger",
	    "99999999999999999999999s");
	BAD("blast: --compression lz4: not supported (none or gzip)\n", "--proto", "kafka",
	    "--compression", "lz4");
	BAD("--compression snappy: not supported", "--proto", "kafka", "--compression", "snappy");
	BAD("--compression zstd: not supported", "--proto", "kafka", "--compression", "zstd");
	BAD("--compression zip: must be none or gzip", "--proto", "kafka", "--compression", "zip");
	BAD("blast: --partitions 3-1: range 3-1 runs backwards\n", "--proto", "kafka",
	    "--partitions", "3-1");
	BAD("--partitions '': expected numbers and ranges", "--proto", "kafka", "--partitions", "");
	BAD("--partitions 1,,2: expected numbers", "--proto", "kafka", "--partitions", "1,,2");
	BAD("--partitions 1,: expected numbers", "--proto", "kafka", "--partitions", "1,");
	BAD("--partitions -1: expected numbers", "--proto", "kafka", "--partitions", "-1");
	BAD("--partitions 1-: expected numbers", "--proto", "kafka", "--partitions", "1-");
	BAD("--partitions 1-2-3: expected numbers", "--proto", "kafka", "--partitions", "1-2-3");
	BAD("--partitions a: expected numbers", "--proto", "kafka", "--partitions", "a");
	BAD("--partitions 2147483648: a partition is at most 2147483647", "--proto", "kafka",
	    "--partitions", "2147483648");
	BAD("--partitions 0-2147483648: a partition is at most", "--proto", "kafka",
	    "--partitions", "0-2147483648");
	BAD("--partitions 0-2147483647: at most 65536 partitions", "--proto", "kafka",
	    "--partitions", "0-2147483647");
	BAD("--record-header novalue: expected NAME=VALUE", "--proto", "kafka",
	    "--record-header", "novalue");
	BAD("--record-header =v: expected NAME=VALUE", "--proto", "kafka", "--record-header", "=v");
	/* Kafka topics. */
	BAD("--topic blast/{conn}: a Kafka topic is one name, without {conn} or {seq}", "--proto",
	    "kafka", "--topic", "blast/{conn}");
	BAD("--topic a/b: a Kafka topic name has only letters, digits", "--proto", "kafka",
	    "--topic", "a/b");
	BAD("--topic a b: a Kafka topic name has only", "--proto", "kafka", "--topic", "a b");
	BAD("--topic ..: not a legal Kafka topic name", "--proto", "kafka", "--topic", "..");
	BAD("--topic .: not a legal Kafka topic name", "--proto", "kafka", "--topic", ".");
	BAD("--topic '': must not be empty", "--proto", "kafka", "--topic", "");
	memset(long_topic, 'k', 250);
	long_topic[250] = '\0';
	BAD("a Kafka topic name is at most 249 characters", "--proto", "kafka", "--topic",
	    long_topic);
	/* Protobuf payload flags (the fields themselves: test_payload_proto). */
	BAD("blast: --field needs --payload-proto MESSAGE\n", "--field", "distance=1");
	BAD("--payload-proto-desc needs --payload-proto MESSAGE", "--payload-proto-desc", two);
	BAD("--payload-proto and --payload-size cannot be used together", "--payload-proto",
	    "TagData", "--payload-size", "10");
	BAD("--payload-proto and --payload-file cannot be used together", "--payload-proto",
	    "TagData", "--payload-file", two);
	BAD("--payload-proto '': needs a message name", "--payload-proto", "");
	BAD("--payload-proto Nope: not a compiled-in message (TagData, Alive)", "--payload-proto",
	    "Nope");
	BAD("--field distance: expected NAME=GENERATOR", "--payload-proto", "TagData", "--field",
	    "distance");
	BAD("--field =1: expected NAME=GENERATOR", "--payload-proto", "TagData", "--field", "=1");
	BAD("--field distance=: needs a generator after =", "--payload-proto", "TagData", "--field",
	    "distance=");
	BAD("blast: --field nosuch=uniform:0:1: TagData has no field nosuch (its fields: "
	    "detached, battery_low, distance, timestamp)\n",
	    "--payload-proto", "TagData", "--field", "nosuch=uniform:0:1");
	BAD("blast: --field distance=bernoulli:2: distance is a double, bernoulli needs a bool\n",
	    "--payload-proto", "TagData", "--field", "distance=bernoulli:2");
	BAD("--field detached=bernoulli:2: bernoulli needs a probability P from 0 to 1",
	    "--payload-proto", "TagData", "--field", "detached=bernoulli:2");
	BAD("--field timestamp.nanos=x: nanos is an int32: x is not an integer", "--proto",
	    "kafka", "--payload-proto", "TagData", "--field", "timestamp.nanos=x");
	snprintf(arg, sizeof(arg), "--payload-proto-desc %s: No such file or directory", missing);
	BAD(arg, "--payload-proto", "TagData", "--payload-proto-desc", missing);
	snprintf(arg, sizeof(arg), "--payload-proto-desc %s: not a FileDescriptorSet", two);
	BAD(arg, "--payload-proto", "TagData", "--payload-proto-desc", two);
	snprintf(arg, sizeof(arg), "--payload-proto-desc %s: not a FileDescriptorSet", empty);
	BAD(arg, "--payload-proto", "TagData", "--payload-proto-desc", empty);
	{
		char *many[2 + 2 + 2 * 65 + 1];
		char fld[65][24];
		int n = 0;
		many[n++] = "blast";
		many[n++] = "--payload-proto";
		many[n++] = "TagData";
		for (int i = 0; i < 65; i++) {
			snprintf(fld[i], sizeof(fld[i]), "f%d=1", i);
			many[n++] = "--field";
			many[n++] = fld[i];
		}
		many[n] = NULL;
		check_bad(__LINE__, "--field f64=1: at most 64 fields", n, many);
	}
	/* First error wins, and the parse can run again afterwards. */
	BAD("--qos 9", "--qos", "9", "--rate", "0");
	unlink(empty);
	unlink(blank);
	unlink(two);
}

/* --find-limit and its settings. */
static void test_find_limit(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--find-limit", "--qos", "1")) {
		CHECK_EQ_INT(o.limit.mode, LIMIT_RATE);
		CHECK(o.limit.trial_ns == 10000000000ull);
		CHECK(o.limit.timeout_ns == 600000000000ull);
		CHECK_EQ_INT(o.limit.n_slo, 0);
		CHECK(!o.limit.loss_is_frac && o.limit.max_loss == 0);
		opts_free(&o);
	}
	if (!GOOD(&o, "--find-limit", "conns", "--slo", "connect=100ms", "--max-loss", "1%",
		  "--trial-duration", "2s", "--search-timeout", "1m", "--ceiling", "50k")) {
		CHECK_EQ_INT(o.limit.mode, LIMIT_CONNS);
		CHECK_EQ_INT(o.limit.n_slo, 1);
		CHECK_EQ_INT(o.limit.slo[0].key, SLO_CONNECT);
		CHECK(o.limit.slo[0].ns == 100000000ull);
		CHECK(o.limit.loss_is_frac);
		CHECK(o.limit.trial_ns == 2000000000ull);
		CHECK(o.limit.timeout_ns == 60000000000ull);
		CHECK(o.limit.ceiling == 50000);
		opts_free(&o);
	}
	if (!GOOD(&o, "--find-limit=rate", "--slo", "p99=50ms", "--slo", "p999=200ms", "--rate",
		  "1000")) {
		CHECK_EQ_INT(o.limit.mode, LIMIT_RATE);
		CHECK_EQ_INT(o.limit.n_slo, 2);
		CHECK(o.rate == 1000);
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "kafka", "--find-limit", "--max-loss", "5")) {
		CHECK_EQ_INT(o.limit.mode, LIMIT_RATE);
		CHECK(o.limit.max_loss == 5);
		opts_free(&o);
	}
	BAD("--find-limit bogus: must be rate (the default) or conns", "--find-limit", "bogus");
	BAD("--find-limit x: must be rate", "--find-limit=x");
	BAD("--slo p99=abc: expected p50, p90, p99, p999 or connect", "--find-limit", "--slo",
	    "p99=abc");
	BAD("--slo p97=1ms: expected", "--find-limit", "--slo", "p97=1ms");
	BAD("--slo p99=50: expected", "--find-limit", "--slo", "p99=50");
	BAD("--max-loss lots: expected a count of messages", "--find-limit", "--max-loss", "lots");
	BAD("--max-loss 1.5: expected", "--find-limit", "--max-loss", "1.5");
	BAD("--slo needs --find-limit", "--slo", "p99=50ms");
	BAD("--trial-duration needs --find-limit", "--trial-duration", "2s");
	BAD("--ceiling needs --find-limit", "--ceiling", "100");
	BAD("--duration cannot be used with --find-limit", "--find-limit", "--duration", "5s");
	BAD("--messages cannot be used with --find-limit", "--find-limit", "--messages", "5");
	BAD("--trial-duration 0: must be greater than zero", "--find-limit", "--trial-duration", "0");
	BAD("--search-timeout must be at least --trial-duration", "--find-limit", "--trial-duration",
	    "10s", "--search-timeout", "5s");
	BAD("--ceiling 0: must be between 1", "--find-limit", "--ceiling", "0");
	BAD("--find-limit conns: for mqtt and kafka", "--proto", "ws", "--find-limit", "conns");
	BAD("--client-id dev: must contain {conn} with --find-limit conns", "--find-limit", "conns",
	    "--client-id", "dev");
}

static void test_check_targets(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct blast_opts o;
	char target[64], want[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) || listen(fd, 8)) {
		perror("listen");
		t_failures++;
		return;
	}
	snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(sa.sin_port));
	if (!GOOD(&o, "--target", target, "--target", target)) {
		CHECK_EQ_INT(opts_check_targets(&o), 0);
		opts_free(&o);
	}
	/* The same port with nobody listening is refused. */
	close(fd);
	if (!GOOD(&o, "--target", target)) {
		FILE *fe = tmpfile();
		int save = dup(2), r;

		fflush(stderr);
		dup2(fileno(fe), 2);
		r = opts_check_targets(&o);
		fflush(stderr);
		dup2(save, 2);
		close(save);
		slurp(fe, cap_err, sizeof(cap_err));
		CHECK_EQ_INT(r, BLAST_EXIT_USAGE);
		snprintf(want, sizeof(want), "blast: cannot connect to %s: Connection refused\n",
			 target);
		CHECK(!strcmp(cap_err, want));
		opts_free(&o);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return T_FAIL;
	}
	test_parse_u64();
	test_parse_duration();
	test_parse_hostport();
	test_template();
	test_defaults();
	test_good();
	test_kafka();
	test_payload_proto_opts();
	test_files();
	test_probe_flag();
	test_help();
	test_bad();
	test_find_limit();
	test_check_targets();
	rmdir(tmpdir);
	return t_done("test_opts");
}
