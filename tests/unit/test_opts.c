/* Command lines that parse: the defaults, every flag's effect on struct
 * blast_opts, Kafka, protobuf payloads, list files, --help, --find-limit,
 * and the connect check of every target. Bad input is test_opts_bad.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/flags.h"

#include "config/opts.h"
#include "opts_harness.h"

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
	CHECK(o.pace_batch_ns == 200000ull && !o.pace_batch_auto);
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
	if (!GOOD(&o, "--conns", "1000")) {
		CHECK_EQ_INT(o.workers, cpus > 1000 ? 1000 : cpus);
		opts_free(&o);
	}
}

/* Each worker opens its sockets under the hard open files limit: without
 * --workers, as many workers as that takes; too few asked for, or more
 * than 64 needed, is bad input. Last: the limit stays lowered. */
static void test_workers_for_files(void)
{
	struct blast_opts o;
	struct rlimit rl = { .rlim_cur = 200, .rlim_max = 200 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("setrlimit");
		exit(T_FAIL);
	}
	/* 168 sockets a worker (200 less 32 held back): 1000 take 6. */
	if (!GOOD(&o, "--conns", "1000")) {
		CHECK_EQ_INT(o.workers, cpus > 6 ? (cpus > BLAST_MAX_WORKERS ? BLAST_MAX_WORKERS : cpus) : 6);
		opts_free(&o);
	}
	if (!GOOD(&o, "--conns", "1000", "--workers", "6")) {
		CHECK_EQ_INT(o.workers, 6);
		opts_free(&o);
	}
	BAD("use --workers 6 or more", "--conns", "1000", "--workers", "5");
	if (!GOOD(&o, "--conns", "10752")) { /* 64 x 168 */
		CHECK_EQ_INT(o.workers, 64);
		opts_free(&o);
	}
	BAD("more than 64 workers x 168 sockets each (ulimit -n 200)", "--conns", "10753");
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
	/* Subscribe only: the subscribers are every connection. */
	if (!GOOD(&o, "--publishers", "0", "--subscribers", "5", "--sub-topic", "ext/#")) {
		CHECK(opts_subscribe_only(&o));
		CHECK_EQ_INT(o.conns, 5);
		opts_free(&o);
	}
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
	/* --proto ws: its own payload default (64-byte frames), the one --help
	 * names, unless --payload-size says otherwise. */
	if (!GOOD(&o, "--proto", "ws", "--target", "ws://127.0.0.1:9001/")) {
		CHECK_EQ_INT(o.payload_size, WS_DEFAULT_PAYLOAD);
		CHECK_EQ_INT(2 + 4 + WS_DEFAULT_PAYLOAD, 64);
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "ws", "--target", "ws://127.0.0.1:9001/", "--payload-size", "122")) {
		CHECK_EQ_INT(o.payload_size, 122);
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
		  "--workers=3", "--quiet", "--pace-batch=750us")) {
		CHECK(o.pace_batch_ns == 750000ull && !o.pace_batch_auto);
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
	if (!GOOD(&o, "--rate", "4000", "--conns", "16", "--pace-batch", "auto")) {
		CHECK(o.pace_batch_auto && opts_pace_batch_run_ns(&o) == 2000000ull);
		opts_free(&o);
	}
	BAD("--pace-batch soon: a duration (like 200us or 2ms) or auto", "--pace-batch", "soon");
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
	if (!good_at(__FILE__, __LINE__, &o, n, argv)) {
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

/* Every short form in the flag table is the one --help shows, and only
 * one flag has each letter. */
static void check_short_forms_shown(const char *help)
{
	int n = 0;

	for (int id = 0; id < F__COUNT; id++) {
		char want[48];
		if (!flags[id].letter)
			continue;
		n++;
		snprintf(want, sizeof(want), "\n  -%c, --%s ", flags[id].letter, flags[id].name);
		t_checks++;
		if (!strstr(help, want)) {
			t_failures++;
			fprintf(stderr, "%s:%d: --help does not show %s\n", __FILE__, __LINE__, want + 3);
		}
		CHECK_EQ_INT(flag_by_letter(flags[id].letter), id);
	}
	CHECK_EQ_INT(n, 13);
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
		"--cacert", "--insecure", "--cert", "--cert-key", "--cert-dir", "--cert-list", "--sni", "--alpn", "--tls-version",
		"--ciphers", "--ciphersuites", "--groups", "--tls-resume", "--keylog",
		"--shard", "--shards", "--start-at", "--hold-start", "--seconds-to", "--heartbeat-timeout",
		"--agents-timeout", "--max-clock-offset", "--dashboard", "--dashboard-linger",
	};
	struct blast_opts o;
	int r;

	r = parse(&o, 2, ARGV("--help"));
	CHECK_EQ_INT(r, 1);
	CHECK(!cap_err[0]);
	CHECK(!strncmp(cap_out, "Usage: blast", 12));
	/* The defaults --help states are the ones parsing gives. */
	CHECK(strstr(cap_out, "(default 32; with\n                        --proto ws 58,") != NULL);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char want[40], with_short[48];
		snprintf(want, sizeof(want), "\n  %s ", flags[i]);
		snprintf(with_short, sizeof(with_short), ", %s ", flags[i]);
		t_checks++;
		if (!strstr(cap_out, want) && !strstr(cap_out, with_short)) {
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
	check_short_forms_shown(cap_out);
	opts_free(&o);

	/* -h is --help: the same text, whatever follows it. */
	char *help = strdup(cap_out);
	r = parse(&o, 3, ARGV("-h", "--frobnicate"));
	CHECK_EQ_INT(r, 1);
	CHECK(!cap_err[0]);
	CHECK(help && !strcmp(cap_out, help));
	free(help);
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

/* Short forms: the same rows as the long flags. */
static void test_short_forms(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "-c", "20", "-r", "5k", "-d", "3s", "-q", "1", "-t", "x/{conn}", "-s100",
		  "-k", "7", "-V", "5", "-u", "me", "-P", "pw")) {
		CHECK_EQ_INT(o.conns, 20);
		CHECK(o.rate == 5000);
		CHECK(o.duration_ns == 3000000000ull);
		CHECK_EQ_INT(o.qos, 1);
		CHECK(!strcmp(o.topic, "x/{conn}"));
		CHECK_EQ_INT(o.payload_size, 100);
		CHECK_EQ_INT(o.keepalive, 7);
		CHECK_EQ_INT(o.mqtt_version, 5);
		CHECK(!strcmp(o.username, "me") && !strcmp(o.password, "pw"));
		opts_free(&o);
	}
	if (!GOOD(&o, "-L", "50", "--transport", "ws", "-H", "X-A: b")) {
		CHECK(o.messages == 50);
		CHECK_EQ_INT(o.n_ws_headers, 1);
		opts_free(&o);
	}
	/* The last one given wins, long or short. */
	if (!GOOD(&o, "-c", "2", "--conns", "3")) {
		CHECK_EQ_INT(o.conns, 3);
		opts_free(&o);
	}
}

/* --config: a run file, one long flag a line; the command line wins. */
static void test_config_file(void)
{
	static const char text[] = "# a run\n"
				   "--target 127.0.0.1:1884\n"
				   "  conns 20  \n"
				   "rate = 5k\n"
				   "--duration=3s\n"
				   "\n"
				   "topic 'a b/{conn}'\n"
				   "client-id c#{conn}\n"
				   "reconnect\n";
	char *path = write_file("run.conf", text, sizeof(text) - 1);
	struct blast_opts o;

	if (!GOOD(&o, "--config", path)) {
		CHECK_EQ_INT(o.conns, 20);
		CHECK(o.rate == 5000);
		CHECK(o.duration_ns == 3000000000ull);
		CHECK(!strcmp(o.topic, "a b/{conn}"));
		CHECK(!strcmp(o.client_id, "c#{conn}")); /* '#' in a value is the value's */
		CHECK(o.reconnect);
		CHECK_EQ_INT(o.n_targets, 1);
		CHECK(o.targets[0].port == 1884);
		CHECK(o.config_path && !strcmp(o.config_path, path));
		CHECK(o.config_text && !strcmp(o.config_text, text));
		opts_free(&o);
	}
	/* Flags on the command line replace the file's, repeatable ones whole;
	 * a short form counts as its long flag. */
	if (!GOOD(&o, "-r", "7", "--config", path, "--target", "127.0.0.1:1885", "--target",
		  "127.0.0.1:1886")) {
		CHECK(o.rate == 7);
		CHECK_EQ_INT(o.conns, 20);
		CHECK_EQ_INT(o.n_targets, 2);
		CHECK(o.targets[0].port == 1885 && o.targets[1].port == 1886);
		opts_free(&o);
	}
	unlink(path);
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
	test_short_forms();
	tmpdir_make();
	test_config_file();
	test_defaults();
	test_good();
	test_kafka();
	test_payload_proto_opts();
	test_files();
	test_probe_flag();
	test_help();
	test_find_limit();
	test_check_targets();
	test_workers_for_files();
	rmdir(tmpdir);
	return t_done("test_opts");
}
