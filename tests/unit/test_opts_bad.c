/* Bad input on the command line: for each, status 2 with exactly one
 * "blast: " line on stderr naming the problem, and nothing on stdout. */
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
#include "opts_harness.h"

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
	BAD("unknown option -conns (see blast --help); did you mean --conns?", "-conns", "5");
	/* Short forms: errors name both spellings. */
	BAD("-c/--conns 0: must be between 1 and 1000000", "-c", "0");
	BAD("-c needs a value", "-c");
	BAD("-c/--conns needs a value", "-c", "-r", "5");
	BAD("-q/--qos 3: must be 0, 1 or 2", "-q3");
	BAD("unknown option -z", "-z");
	BAD("unknown option --con ", "--con", "5");        /* no abbreviations */
	BAD("unknown option --re ", "--re");               /* ambiguous prefix */
	/* A near miss names the flag it most likely meant; a far one, none. */
	BAD("unknown option --conn (see blast --help); did you mean --conns?", "--conn", "5");
	BAD("did you mean --qos?", "--qoss", "1");
	BAD("did you mean --payload-size?", "--payload-szie=8");
	BAD("did you mean --rate?", "--rte", "5");
	BAD("--frobnicate (see blast --help)\n", "--frobnicate");
	BAD("--con (see blast --help)\n", "--con", "5");
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
	BAD("--proto amqp: must be mqtt, kafka, ws or http", "--proto", "amqp");
	BAD("--proto '': must be mqtt, kafka, ws or http", "--proto", "");
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
	/* Subscribe only: nothing is sent. */
	BAD("--rate cannot be used with --publishers 0 (subscribe only: blast sends nothing)",
	    "--publishers", "0", "--subscribers", "2", "--rate", "10");
	BAD("--messages cannot be used with --publishers 0", "--publishers", "0", "--subscribers",
	    "1", "--messages", "5");
	BAD("--publishers 0 and --subscribers 0: no connections at all", "--publishers", "0",
	    "--subscribers", "0");
	BAD("--publishers 0 (subscribe only) is for MQTT with --subscribers", "--proto", "ws",
	    "--publishers", "0");
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
	BAD("--pace-batch: at most 10 ms", "--pace-batch", "11ms");
	BAD("--pace-batch 1.5ms: not a duration", "--pace-batch", "1.5ms");
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
		check_bad(__FILE__, __LINE__, "--field f64=1: at most 64 fields", n, many);
	}
	/* First error wins, and the parse can run again afterwards. */
	BAD("--qos 9", "--qos", "9", "--rate", "0");
	unlink(empty);
	unlink(blank);
	unlink(two);
}

/* --config: one line naming the file and line. (Its own function: tmp_path
 * rotates eight buffers, which test_bad holds.) */
static void test_config_bad(void)
{
	char *c1 = write_file("c1.conf", "conns 5\nconn 3\n", 15);
	char *c2 = write_file("c2.conf", "# x\nqos 3\n", 10);
	char *c3 = write_file("c3.conf", "reconnect yes\n", 14);
	char *c4 = write_file("c4.conf", "rate\n", 5);
	char *c5 = write_file("c5.conf", "config other.conf\n", 18);
	char w[400];
	snprintf(w, sizeof(w), "%s:2: unknown flag --conn (see blast --help); did you mean "
		 "--conns?", c1);
	BAD(w, "--config", c1);
	snprintf(w, sizeof(w), "%s:2: --qos 3: must be 0, 1 or 2", c2);
	BAD(w, "--config", c2);
	snprintf(w, sizeof(w), "%s:1: --reconnect takes no value", c3);
	BAD(w, "--config", c3);
	snprintf(w, sizeof(w), "%s:1: --rate needs a value", c4);
	BAD(w, "--config", c4);
	snprintf(w, sizeof(w), "%s:1: --config is for the command line, not a run file", c5);
	BAD(w, "--config", c5);
	BAD("--config given twice", "--config", c1, "--config", c2);
	BAD("--config needs a value", "--config");
	BAD("No such file or directory", "--config", tmp_path("missing.conf"));
	unlink(c1), unlink(c2), unlink(c3), unlink(c4), unlink(c5);
}

int main(void)
{
	tmpdir_make();
	test_config_bad();
	test_bad();
	rmdir(tmpdir);
	return t_done("test_opts_bad");
}
