/* The checks between flags, once all are in: a flag for another protocol
 * or mode, flags that exclude each other, defaults that depend on other
 * flags, and the files and templates a run will need. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/opts.h"
#include "encoders/mqtt.h"
#include "payload/marker.h"
#include "payload/protobuf.h"
#include "stats/fanout.h"
#include "cli/checks.h"
#include "cli/http_checks.h"
#include "cli/fail.h"
#include "cli/files.h"
#include "cli/flags.h"
#include "cli/shard.h"
#include "cli/targets.h"
#include "cli/values.h"

#define KAFKA_TOPIC_MAX 249 /* Kafka's own limit on a topic name */
/* Open files a worker holds besides its sockets: stdio, the ring, the
 * shared memory, the segment-stamp program and its map. */
#define WORKER_SPARE_FILES 32

/* Checks a template's longest expansion fits an MQTT string. */
static int template_check(const char *flag, const char *tmpl, uint64_t max_conn)
{
	char *buf = malloc(MQTT_STR_MAX + 1);
	int n;

	if (!buf)
		return cli_fail("out of memory");
	n = template_expand(buf, MQTT_STR_MAX + 1, tmpl, max_conn, UINT64_MAX, UINT32_MAX);
	free(buf);
	if (n < 0)
		return cli_fail("%s %s: longer than %u bytes once expanded", flag, cli_quote(tmpl),
			    MQTT_STR_MAX);
	return 0;
}

/* Kafka's rule (Topic.java): 1 to 249 of [a-zA-Z0-9._-], not "." or "..". */
static int kafka_topic_check(const char *t)
{
	size_t n = strlen(t);

	if (strchr(t, '{'))
		return cli_fail("--topic %s: a Kafka topic is one name, without {conn} or {seq}",
			    cli_quote(t));
	if (n > KAFKA_TOPIC_MAX)
		return cli_fail("--topic %s: a Kafka topic name is at most %d characters", cli_quote(t),
			    KAFKA_TOPIC_MAX);
	if (strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return cli_fail("--topic %s: a Kafka topic name has only letters, digits, '.', '_' "
			    "and '-'", cli_quote(t));
	if (!strcmp(t, ".") || !strcmp(t, ".."))
		return cli_fail("--topic %s: not a legal Kafka topic name", cli_quote(t));
	return 0;
}

/* A flag for the other protocol is an error, not silently ignored. The one
 * given first on the command line is named. */
static int proto_flags_check(const struct blast_opts *o, const struct parse_state *ps)
{
	int f;

	if (o->proto != PROTO_HTTP && (f = flag_first_given(ps, G_HTTP)) >= 0)
		return cli_fail("--%s is for HTTP only (needs --proto http)", flags[f].name);
	if (o->proto == PROTO_HTTP && (f = flag_first_given(ps, G_MQTT_SESSION)) >= 0)
		return cli_fail("--%s is for MQTT only, not --proto http", flags[f].name);
	if (o->proto != PROTO_KAFKA && (f = flag_first_given(ps, G_KAFKA)) >= 0)
		return cli_fail("--%s is for Kafka only (needs --proto kafka)", flags[f].name);
	if (o->proto == PROTO_KAFKA &&
	    (f = flag_first_given(ps, G_MQTT_SESSION | G_WS_UPGRADE)) >= 0)
		return cli_fail("--%s is for MQTT only, not --proto kafka", flags[f].name);
	if (o->proto == PROTO_WS && (f = flag_first_given(ps, G_MQTT_SESSION)) >= 0)
		return cli_fail("--%s is for MQTT only, not --proto ws", flags[f].name);
	if (opts_fanout(o) && o->proto == PROTO_MQTT) {
		if ((f = flag_first_given(ps, G_WS_ONLY)) >= 0)
			return cli_fail("--%s is for --proto ws only (MQTT fan-out takes "
					"--subscribers)", flags[f].name);
	} else if (o->proto != PROTO_WS && (f = flag_first_given(ps, G_FANOUT)) >= 0) {
		return cli_fail("--%s is for fan-out: --proto ws, or --proto mqtt with "
				"--subscribers", flags[f].name);
	} else if (o->proto != PROTO_WS && (f = flag_first_given(ps, G_FANOUT | G_WS_ONLY)) >= 0)
		return cli_fail("--%s is for --proto ws only", flags[f].name);
	return 0;
}

/* --find-limit runs its own trials: it sets the rate, the duration and
 * (searching connections) the connection count of each. */
static int limit_flags_check(struct blast_opts *o, const struct parse_state *ps)
{
	int f;

	if (!o->limit.mode) {
		if ((f = flag_first_given(ps, G_SEARCH)) >= 0)
			return cli_fail("--%s needs --find-limit", flags[f].name);
		return 0;
	}
	if ((f = flag_first_given(ps, G_NOT_SEARCH)) >= 0)
		return cli_fail("--%s cannot be used with --find-limit (each trial lasts "
				"--trial-duration)", flags[f].name);
	if (!o->limit.trial_ns)
		o->limit.trial_ns = 10 * 1000000000ull;
	if (!o->limit.timeout_ns)
		o->limit.timeout_ns = 600 * 1000000000ull;
	if (o->limit.timeout_ns < o->limit.trial_ns)
		return cli_fail("--search-timeout must be at least --trial-duration");
	if (o->limit.mode == LIMIT_CONNS && o->proto == PROTO_WS)
		return cli_fail("--find-limit conns: for mqtt and kafka (--proto ws has fixed publishers and "
			    "listeners)");
	if (o->limit.mode == LIMIT_CONNS && o->proto == PROTO_MQTT && *o->client_id &&
	    !strstr(o->client_id, "{conn}"))
		return cli_fail("--client-id %s: must contain {conn} with --find-limit conns",
			    cli_quote(o->client_id));
	return 0;
}

/* Fan-out: each --steps entry is a batch of its own, so no --messages. */
static int steps_with_messages(void)
{
	return cli_fail("--steps and --messages cannot be used together: each step is a batch");
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
			return cli_fail("--field needs --payload-proto MESSAGE");
		if (o->payload_proto_desc)
			return cli_fail("--payload-proto-desc needs --payload-proto MESSAGE");
		return 0;
	}
	if (ps->at[F_PAYLOAD_SIZE])
		return cli_fail("--payload-proto and --payload-size cannot be used together");
	if (o->payloads.n)
		return cli_fail("--payload-proto and --payload-file cannot be used together");
	g = payload_gen_new(o, err, sizeof(err));
	if (!g)
		return cli_fail("%s", err);
	max = payload_gen_max_size(g);
	payload_gen_free(g);
	if (max > PAYLOAD_MAX)
		return cli_fail("--payload-proto %s: the fields can make a %zu-byte message, more than "
			    "%u", cli_quote(o->payload_proto), max, PAYLOAD_MAX);
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
		return cli_fail("--sub-topic %s: a shared subscription is $share/NAME/FILTER, NAME "
				"without '+' or '#'", cli_quote(f));
	if (!mqtt_filter_valid(filter, strlen(filter)))
		return cli_fail("--sub-topic %s: not a valid MQTT topic filter ('#' only as the "
				"last level, '+' only as a whole level, not empty)", cli_quote(f));
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
			return cli_fail("out of memory");
		o->n_sub_topics = 1;
	}
	for (uint32_t i = 0; i < o->n_sub_topics; i++)
		if ((r = sub_topic_check(o->sub_topics[i])))
			return r;
	if (ps->at[F_PUBLISHERS] && ps->at[F_CONNS])
		return cli_fail("--conns and --publishers cannot be used together with --subscribers: "
			    "connections are --publishers + --subscribers per node");
	if (!ps->at[F_PUBLISHERS])
		o->publishers = o->conns;
	if (!ps->at[F_SUBSCRIBERS])
		o->subscribers = 1;
	if (o->n_targets > 1)
		return cli_fail("--subscribers: one --target (the publishers' node); other nodes are "
			    "--listen-target");
	if (o->churn)
		return cli_fail("--churn cannot be used with --subscribers: a subscriber must stay "
			    "connected to count what it receives");
	if (o->n_steps && ps->at[F_MESSAGES])
		return steps_with_messages();
	if (ps->at[F_PUBLISHERS] && o->publishers == 0) {
		/* Subscribe only: nothing is sent, so nothing that paces or
		 * counts sends applies. */
		static const int sends[] = { F_MESSAGES, F_RATE, F_STEPS, F_CHAT, F_FANOUT, F_FIND_LIMIT };
		for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++)
			if (ps->at[sends[i]])
				return cli_fail("--%s cannot be used with --publishers 0 (subscribe "
						"only: blast sends nothing)", flags[sends[i]].name);
	}
	uint64_t conns = (uint64_t)o->publishers + (uint64_t)o->subscribers * (1 + o->n_listen);
	if (conns > CONNS_MAX)
		return cli_fail("--publishers + --subscribers x nodes: %llu connections, more than %u",
			    (unsigned long long)conns, CONNS_MAX);
	if (!conns)
		return cli_fail("--publishers 0 and --subscribers 0: no connections at all");
	o->conns = (uint32_t)conns;
	uint32_t groups = fanout_share_groups(o);
	if (groups && o->n_listen)
		return cli_fail("--sub-topic $share/...: shared subscriptions are for one node, not "
				"with --listen-target");
	if (groups > fanout_receivers(o))
		return cli_fail("--sub-topic: %u shared subscriptions but %u subscribing "
				"connection(s): each group needs a member", groups, fanout_receivers(o));
	if (!o->payloads.n && !o->payload_proto && o->payload_size < MARKER_FANOUT_LEN)
		return cli_fail("--payload-size %u: fan-out needs at least %d bytes for blast's marker",
			    o->payload_size, MARKER_FANOUT_LEN);
	unsigned n_ws = 0;
	for (unsigned i = 0; i < o->n_listen; i++)
		n_ws += o->listen[i].ws;
	if (n_ws != (o->targets[0].ws ? o->n_listen : 0))
		return cli_fail("--listen-target: ws://HOST:PORT/PATH exactly when --target is");
	return 0;
}

/* One worker per online CPU. A paced run that neither fans out nor
 * searches takes only the workers its rate and sockets ask for: each more
 * splits the batches its sends go out in (engine/sched.h), costing CPU
 * that a broker on the same machine would use. */
static uint32_t default_workers(const struct blast_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t n = cpus < 1 ? 1 : cpus > BLAST_MAX_WORKERS ? BLAST_MAX_WORKERS : (uint64_t)cpus;

	if (o->rate && !opts_fanout(o) && o->limit.mode == LIMIT_OFF && !o->churn) {
		uint64_t by_rate = (o->rate + BLAST_PACED_RATE_PER_WORKER - 1) / BLAST_PACED_RATE_PER_WORKER;
		uint64_t by_conns = (o->conns + BLAST_CONNS_PER_WORKER - 1) / BLAST_CONNS_PER_WORKER;
		uint64_t want = by_rate > by_conns ? by_rate : by_conns;
		if (want < n)
			n = want;
	}
	return (uint32_t)n;
}

/* Each worker process opens its share of the sockets under the open files
 * limit: its hard one, as the soft one is raised to it here (sockets are
 * open files). Without --workers: default_workers, or as many more as the
 * sockets need. */
static int workers_for_files(struct blast_opts *o)
{
	struct rlimit rl;
	uint64_t lim = 1u << 20, per;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_max != RLIM_INFINITY)
			lim = rl.rlim_max;
	}
	per = lim > 2 * WORKER_SPARE_FILES ? lim - WORKER_SPARE_FILES : WORKER_SPARE_FILES;
	uint64_t need = (o->conns + per - 1) / per;
	bool asked = o->workers != 0;

	if (need > BLAST_MAX_WORKERS)
		return cli_fail("--conns %u: more than %d workers x %llu sockets each (ulimit -n %llu)",
				o->conns, BLAST_MAX_WORKERS, (unsigned long long)per,
				(unsigned long long)lim);
	if (!asked) {
		o->workers = default_workers(o);
		if (o->workers < need)
			o->workers = (uint32_t)need;
	}
	if (o->workers > o->conns)
		o->workers = o->conns;
	if (asked && o->workers < need)
		return cli_fail("--conns %u over --workers %u: %llu sockets per worker, but a process "
				"may open %llu files (ulimit -n); use --workers %llu or more",
				o->conns, o->workers,
				(unsigned long long)((o->conns + o->workers - 1) / o->workers),
				(unsigned long long)lim, (unsigned long long)need);
	return 0;
}

/* The checks both protocols share, last. */
static int finish_common(struct blast_opts *o)
{
	int r;

	if ((r = workers_for_files(o)))
		return r;
	if (o->pace_batch_ns > PACE_BATCH_MAX_NS)
		return cli_fail("--pace-batch: at most %llu ms", PACE_BATCH_MAX_NS / 1000000ull);
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

/* --proto ws: plain WebSocket, where the transport is the protocol. */
static int ws_finish(struct blast_opts *o, const struct parse_state *ps)
{
	o->transport = TRANSPORT_WS;
	if (!ps->at[F_PUBLISHERS])
		o->publishers = 1;
	if (!ps->at[F_LISTENERS])
		o->listeners = 1;
	if (!o->publishers)
		return cli_fail("--publishers 0 (subscribe only) is for MQTT with --subscribers; "
				"--proto ws needs at least 1");
	if (o->n_steps && ps->at[F_MESSAGES])
		return steps_with_messages();
	o->conns = o->publishers + o->listeners * (1 + o->n_listen);
	/* 58 bytes make a 64-byte masked frame: a whole number of them fills
	 * a 4 KiB read, so a relay that forwards each read as it comes (the
	 * libwebsockets mirror) never splits one. */
	if (!ps->at[F_PAYLOAD_SIZE])
		o->payload_size = WS_DEFAULT_PAYLOAD;
	if (!o->payloads.n && !o->payload_proto && o->payload_size < WS_HEADER_LEN)
		return cli_fail("--payload-size %u: --proto ws needs at least %d bytes for its header",
				o->payload_size, WS_HEADER_LEN);
	for (unsigned i = 0; i < o->n_targets; i++)
		o->targets[i].ws = true;
	for (unsigned i = 0; i < o->n_listen; i++)
		o->listen[i].ws = true;
	if (o->n_targets > 1)
		return cli_fail("--proto ws: one --target (the publishers' node); other nodes are "
				"--listen-target");
	return 0;
}

/* WebSocket: asked for, or implied by ws:// targets; all or none. */
static int transport_finish(struct blast_opts *o)
{
	unsigned n_ws = 0;

	for (unsigned i = 0; i < o->n_targets; i++)
		n_ws += o->targets[i].ws;
	if (o->proto == PROTO_KAFKA && n_ws)
		return cli_fail("--target ws://...: Kafka speaks TCP only");
	if (n_ws && n_ws != o->n_targets)
		return cli_fail("--target: either every target is ws://HOST:PORT/PATH or none is");
	if (n_ws)
		o->transport = TRANSPORT_WS;
	if (o->proto == PROTO_MQTT && o->transport == TRANSPORT_WS && !o->ws_subprotocol &&
	    !(o->ws_subprotocol = strdup("mqtt")))
		return cli_fail("out of memory");
	return 0;
}

/* A file a TLS flag names must be readable now: one line, not a failed
 * handshake later. OpenSSL reads it again in transport/tls_ctx.c. */
static int readable(const char *flag, const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return cli_fail("%s %s: %s", flag, cli_quote(path), strerror(errno));
	fclose(f);
	return 0;
}

/* TLS: mqtts:// or wss:// targets, all or none; its flags only with them. */
static int tls_finish(struct blast_opts *o, const struct parse_state *ps)
{
	unsigned n_tls = 0, n_listen_tls = 0;
	int f, r;

	for (unsigned i = 0; i < o->n_targets; i++)
		n_tls += o->targets[i].tls;
	for (unsigned i = 0; i < o->n_listen; i++)
		n_listen_tls += o->listen[i].tls;
	for (unsigned i = 0; i < o->n_targets; i++)
		if (o->targets[i].kafka && o->proto != PROTO_KAFKA)
			return cli_fail("--target %s:%u: kafka:// and kafka+ssl:// are for --proto kafka",
					o->targets[i].host, o->targets[i].port);
		else if (o->proto == PROTO_KAFKA && o->targets[i].tls && !o->targets[i].kafka)
			return cli_fail("--target %s:%u: Kafka over TLS is kafka+ssl://HOST:PORT or --tls",
					o->targets[i].host, o->targets[i].port);
	if (o->tls_switch) {
		/* --tls: every broker connection is TLS, as kafka+ssl:// says. */
		for (unsigned i = 0; i < o->n_targets; i++)
			o->targets[i].tls = true;
		n_tls = o->n_targets;
	}
	if (n_tls && n_tls != o->n_targets)
		return cli_fail("--target: either every target is TLS (mqtts://, wss://, "
				"kafka+ssl://) or none is");
	if (n_listen_tls != (n_tls ? o->n_listen : 0))
		return cli_fail("--listen-target: TLS (wss://) exactly when --target is");
	o->tls = n_tls > 0;
	if (!o->tls) {
		if ((f = flag_first_given(ps, G_TLS)) >= 0)
			return cli_fail("--%s is for TLS targets (mqtts://HOST:PORT, "
					"wss://HOST:PORT/PATH, or Kafka with --tls or kafka+ssl://)",
					flags[f].name);
		return 0;
	}
	if (!o->cert != !o->key_file)
		return cli_fail("--cert and --cert-key go together (a client certificate and its key)");
	if ((o->cert != NULL) + (o->cert_dir != NULL) + (o->cert_list != NULL) > 1)
		return cli_fail("--cert, --cert-dir and --cert-list: one source of client certificates");
	if (o->tls_resume == TLS_RESUME_PSK && o->tls_version == TLS_VERSION_12)
		return cli_fail("--tls-resume psk: psk_ke resumes TLS 1.3 tickets (drop --tls-version "
				"1.2, or use --tls-resume id)");
	if (o->tls_resume == TLS_RESUME_ID && o->tls_version != TLS_VERSION_12)
		return cli_fail("--tls-resume id: session ids are TLS 1.2's (add --tls-version 1.2); "
				"TLS 1.3 resumes by ticket");
	if (o->insecure && o->cacert)
		return cli_fail("--insecure and --cacert cannot be used together (nothing is verified "
				"with --insecure)");
	if (o->cacert && (r = readable("--cacert", o->cacert)))
		return r;
	if (o->cert && (r = readable("--cert", o->cert)))
		return r;
	if (o->key_file && (r = readable("--cert-key", o->key_file)))
		return r;
	if (o->cert_list && (r = readable("--cert-list", o->cert_list)))
		return r;
	/* The key log: --keylog, else $SSLKEYLOGFILE as browsers and curl read it. */
	const char *env = getenv("SSLKEYLOGFILE");
	if (!o->keylog && env && *env && !(o->keylog = strdup(env)))
		return cli_fail("out of memory");
	if (o->keylog) {
		FILE *kf = fopen(o->keylog, "a");
		if (!kf)
			return cli_fail("%s %s: %s", ps->at[F_KEYLOG] ? "--keylog" : "SSLKEYLOGFILE",
					cli_quote(o->keylog), strerror(errno));
		fclose(kf);
	}
	return 0;
}

static int kafka_finish(struct blast_opts *o, const struct parse_state *ps)
{
	int r;

	if (!ps->at[F_TOPIC] && (r = str_arg(&o->topic, "--topic", "blast", 5)))
		return r;
	if (!ps->at[F_INFLIGHT])
		o->inflight = 5;
	if ((r = kafka_topic_check(o->topic)))
		return r;
	if (o->key && (r = template_check("--key", o->key, o->conns - 1)))
		return r;
	for (uint32_t i = 0; i < o->n_headers; i++)
		if ((r = template_check("--record-header", o->headers[i].value, o->conns - 1)))
			return r;
	/* SASL: a mechanism and both credentials, or none of them. */
	bool user = ps->at[F_SASL_USERNAME], pass = ps->at[F_SASL_PASSWORD];
	if (o->sasl_mech && (!user || !pass))
		return cli_fail("--sasl-mechanism %s needs --sasl-username and --sasl-password",
				name_of(sasl_mech_names, o->sasl_mech));
	if (!o->sasl_mech && (user || pass))
		return cli_fail("--%s needs --sasl-mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)",
				user ? "sasl-username" : "sasl-password");
	return 0;
}

/* MQTT, and --proto ws (which shares the topic and client id defaults). */
static int mqtt_finish(struct blast_opts *o, const struct parse_state *ps)
{
	int r;

	if (o->tokens.n && o->username)
		return cli_fail("--username and --tokens-file cannot be used together (tokens are the usernames)");
	if (o->tokens.n && o->tokens.n < o->conns)
		return cli_fail("--tokens-file %s: %zu non-empty lines for --conns %u (one token per connection)",
				cli_quote(ps->value[F_TOKENS_FILE]), o->tokens.n, o->conns);
	/* MQTT 3.1.1 (3.1.2.9) allows a password only after a username. */
	if (o->password && !o->username && !o->tokens.n && o->mqtt_version == 4)
		return cli_fail("--password needs --username or --tokens-file with --mqtt-version 3.1.1");
	if (strpbrk(o->topic, "+#"))
		return cli_fail("--topic %s: wildcards + and # are not allowed in a publish topic",
				cli_quote(o->topic));
	if ((r = template_check("--topic", o->topic, o->conns - 1)))
		return r;
	/* A broker drops the older of two clients with the same id, so
	 * shared ids would look like a broker failure. Empty means the
	 * broker assigns one. */
	if (o->conns > 1 && *o->client_id && !strstr(o->client_id, "{conn}"))
		return cli_fail("--client-id %s: must contain {conn} when --conns is more than 1 "
				"(a broker drops a client whose id is taken)",
				cli_quote(o->client_id));
	if ((r = template_check("--client-id", o->client_id, o->conns - 1)))
		return r;
	o->topic_has_seq = strstr(o->topic, "{seq}") != NULL;
	return 0;
}

int opts_finish(struct blast_opts *o, const struct parse_state *ps)
{
	static const char *const default_target[] = {
		[PROTO_MQTT] = "127.0.0.1:1883",
		[PROTO_KAFKA] = "127.0.0.1:9092",
		[PROTO_WS] = "ws://127.0.0.1:7681/",
		[PROTO_HTTP] = "http://127.0.0.1:8080/",
	};
	int r;

	if ((r = proto_flags_check(o, ps)))
		return r;
	if ((r = limit_flags_check(o, ps)))
		return r;
	if (!o->n_targets && (r = target_add(o, default_target[o->proto])))
		return r;
	if (o->proto == PROTO_WS && (r = ws_finish(o, ps)))
		return r;
	if (o->proto == PROTO_MQTT && o->sub_topic && (r = mqtt_fanout_finish(o, ps)))
		return r;
	for (unsigned i = 0; i < o->n_targets; i++)
		if (o->targets[i].http && o->proto != PROTO_HTTP)
			return cli_fail("--target http(s)://...: for --proto http (add it, or give "
					"HOST:PORT)");
	if ((r = transport_finish(o)))
		return r;
	if ((r = tls_finish(o, ps)))
		return r;
	if (ps->at[F_PAYLOAD_SIZE] && o->payloads.n)
		return cli_fail("--payload-size and --payload-file cannot be used together");
	if ((r = payload_proto_check(o, ps)))
		return r;
	if ((r = o->proto == PROTO_KAFKA ? kafka_finish(o, ps)
		 : o->proto == PROTO_HTTP ? http_finish(o, ps)
					  : mqtt_finish(o, ps)))
		return r;
	if ((r = shard_finish(o, ps)))
		return r;
	return finish_common(o);
}
