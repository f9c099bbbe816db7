/* The flag table (cli/flags.h): one row per flag, and the setters of the
 * flags whose value is more than a number, a name or a string. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/http_ok.h"
#include "config/names.h"
#include "config/opts.h"
#include "limit/limit.h"
#include "cli/fail.h"
#include "cli/files.h"
#include "cli/flags.h"
#include "cli/shard_args.h"
#include "cli/targets.h"
#include "cli/usage.h"
#include "cli/values.h"

#define BATCH_MIN 1024u
#define BATCH_MAX (64u << 20)
#define HEADERS_MAX 64u
#define FIELDS_MAX 64u
#define STEPS_MAX 64u
#define STEP_MAX 1000000000ull

/* realloc for one more element at the end of an array of n; NULL after
 * "out of memory" was printed. */
static void *array_grow(void *array, uint32_t n, size_t size)
{
	void *more = realloc(array, ((size_t)n + 1) * size);

	if (!more)
		cli_fail("out of memory");
	return more;
}

static int set_target(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)flag;
	return target_add(o, arg);
}

static int set_listen_target(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)flag;
	return listen_target_add(o, arg);
}

/* --pace-batch T, or auto: as wide as the rate asks (opts_pace_batch_ns). */
static int set_pace_batch(struct blast_opts *o, const char *flag, const char *arg)
{
	o->pace_batch_auto = strcmp(arg, "auto") == 0;
	if (o->pace_batch_auto) {
		o->pace_batch_ns = PACE_BATCH_DEFAULT_NS;
		return 0;
	}
	if (*arg && (*arg < '0' || *arg > '9'))
		return cli_fail("%s %s: a duration (like 200us or 2ms) or auto", flag, cli_quote(arg));
	return duration_arg(flag, arg, true, &o->pace_batch_ns);
}

/* --steps 10,100,1000: a ladder of batch sizes. */
static int set_steps(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)flag;
	for (const char *q = arg; *q;) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(q, &end, 10);
		if (end == q || errno || !x || x > STEP_MAX || (*end && *end != ','))
			return cli_fail("--steps %s: expected batch sizes like 10,100,1000",
					cli_quote(arg));
		uint64_t *steps = array_grow(o->steps, o->n_steps, sizeof(*steps));
		if (!steps)
			return BLAST_EXIT_USAGE;
		o->steps = steps;
		o->steps[o->n_steps++] = x;
		q = *end ? end + 1 : end;
	}
	if (!o->n_steps || o->n_steps > STEPS_MAX)
		return cli_fail("--steps %s: 1 to 64 batch sizes", cli_quote(arg));
	return 0;
}

/* --subscribers, --sub-qos and --chat ask for MQTT fan-out: without a
 * --sub-topic, the subscribers subscribe to blast/#. */
static int default_sub_topic(struct blast_opts *o, const char *flag)
{
	return o->sub_topic ? 0 : str_arg(&o->sub_topic, flag, "blast/#", 7);
}

/* --sub-topic, repeatable: the first is also o->sub_topic. */
static int set_sub_topic(struct blast_opts *o, const char *flag, const char *arg)
{
	char **topics;
	int r;

	if (o->n_sub_topics >= BLAST_MAX_SUB_TOPICS)
		return cli_fail("--sub-topic: at most %d", BLAST_MAX_SUB_TOPICS);
	if (!o->n_sub_topics && (r = str_arg(&o->sub_topic, flag, arg, MQTT_STR_MAX)))
		return r;
	if (!(topics = array_grow(o->sub_topics, o->n_sub_topics, sizeof(*topics))))
		return BLAST_EXIT_USAGE;
	o->sub_topics = topics;
	topics[o->n_sub_topics] = NULL;
	if ((r = str_arg(&topics[o->n_sub_topics], flag, arg, MQTT_STR_MAX)))
		return r;
	o->n_sub_topics++;
	return 0;
}

static int set_ws_subprotocol(struct blast_opts *o, const char *flag, const char *arg)
{
	if (!*arg || strpbrk(arg, " \t\r\n,"))
		return cli_fail("--ws-subprotocol %s: must be one token", cli_quote(arg));
	return str_arg(&o->ws_subprotocol, flag, arg, SIZE_MAX);
}

/* --header 'Name: value', repeatable: sent in the WebSocket upgrade. */
static int set_ws_header(struct blast_opts *o, const char *flag, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char **headers;
	int r;

	if (!colon || colon == arg || strpbrk(arg, "\r\n"))
		return cli_fail("--header %s: expected 'Name: value'", cli_quote(arg));
	if (!(headers = array_grow(o->ws_headers, o->n_ws_headers, sizeof(*headers))))
		return BLAST_EXIT_USAGE;
	o->ws_headers = headers;
	headers[o->n_ws_headers] = NULL;
	if ((r = str_arg(&headers[o->n_ws_headers], flag, arg, SIZE_MAX)))
		return r;
	o->n_ws_headers++;
	return 0;
}

/* --ok-status 2xx,3xx,404: the statuses counted as acked. */
static int set_ok_status(struct blast_opts *o, const char *flag, const char *arg)
{
	if (http_ok_parse(arg, strlen(arg), o->http_ok))
		return cli_fail("--ok-status %s: expected classes and codes like 2xx,3xx,404",
				cli_quote(arg));
	return str_arg(&o->ok_status, flag, arg, SIZE_MAX);
}

static int messages_given(struct blast_opts *o, const char *flag)
{
	(void)flag;
	o->has_messages = true;
	return 0;
}

static int set_linger(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)flag;
	return linger_arg(arg, &o->linger_ns);
}

static int set_partitions(struct blast_opts *o, const char *flag, const char *arg)
{
	int32_t *list;
	uint32_t n;
	int r;

	(void)flag;
	if ((r = partitions_arg(arg, &list, &n)))
		return r;
	free(o->partitions);
	o->partitions = list;
	o->n_partitions = n;
	return 0;
}

/* --record-header NAME=VALUE, repeatable (Kafka). */
static int set_record_header(struct blast_opts *o, const char *flag, const char *arg)
{
	struct header_spec *headers;
	int r;

	if (o->n_headers >= HEADERS_MAX)
		return cli_fail("--record-header %s: at most %u headers", cli_quote(arg),
				HEADERS_MAX);
	if (!(headers = array_grow(o->headers, o->n_headers, sizeof(*headers))))
		return BLAST_EXIT_USAGE;
	o->headers = headers;
	if ((r = name_value_arg(flag, arg, "VALUE", &headers[o->n_headers].name,
				&headers[o->n_headers].value)))
		return r;
	o->n_headers++;
	return 0;
}

/* --field NAME=GENERATOR, repeatable (protobuf payloads). */
static int set_field(struct blast_opts *o, const char *flag, const char *arg)
{
	struct field_spec *fields, *f;
	int r;

	if (o->n_fields >= FIELDS_MAX)
		return cli_fail("--field %s: at most %u fields", cli_quote(arg), FIELDS_MAX);
	if (!(fields = array_grow(o->fields, o->n_fields, sizeof(*fields))))
		return BLAST_EXIT_USAGE;
	o->fields = fields;
	f = &fields[o->n_fields];
	if ((r = name_value_arg(flag, arg, "GENERATOR", &f->name, &f->gen)))
		return r;
	o->n_fields++;
	if (!*f->gen)
		return cli_fail("--field %s: needs a generator after = (like uniform:0:10, or "
				"const: for an empty string)", cli_quote(arg));
	return 0;
}

/* --slo and --max-loss: limit/ reads them and words its own errors. */
static int set_slo(struct blast_opts *o, const char *flag, const char *arg)
{
	char err[256];

	(void)flag;
	return limit_parse_slo(&o->limit, arg, err, sizeof(err)) ? cli_fail("%s", err) : 0;
}

static int set_max_loss(struct blast_opts *o, const char *flag, const char *arg)
{
	char err[256];

	(void)flag;
	return limit_parse_max_loss(&o->limit, arg, err, sizeof(err)) ? cli_fail("%s", err) : 0;
}

static int show_help(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)o, (void)flag, (void)arg;
	usage_print(stdout);
	return 1;
}

static int show_version(struct blast_opts *o, const char *flag, const char *arg)
{
	(void)o, (void)flag, (void)arg;
	printf("blast %s\n", BLAST_VERSION);
	return 1;
}

/* Where a row's value goes: the field's offset and size. */
#define TO(field) .offset = offsetof(struct blast_opts, field), \
		  .width = sizeof(((struct blast_opts *)0)->field)
#define NUMBER(lo, hi) .kind = FLAG_NUMBER, .min = (lo), .max = (hi)
#define NAME(table, text) .kind = FLAG_NAME, .names = (table), .accepts = (text)
#define STRING(most) .kind = FLAG_STRING, .max = (most)
#define SWITCH .kind = FLAG_SWITCH
#define CUSTOM(fn) .kind = FLAG_CUSTOM, .set = (fn)
/* A duration; zero_ok lets 0 through. */
#define DURATION(zero_ok) .kind = FLAG_DURATION, .min = (zero_ok) ? 0 : 1

const struct flag flags[F__COUNT] = {
	[F_PROTO] = { "proto", NAME(proto_names, "mqtt, kafka, ws or http"), TO(proto) },
	[F_TARGET] = { "target", CUSTOM(set_target) },
	[F_TRANSPORT] = { "transport", NAME(transport_names, "tcp or ws"), TO(transport),
			  .groups = G_MQTT_SESSION },
	[F_WS_SUBPROTOCOL] = { "ws-subprotocol", CUSTOM(set_ws_subprotocol),
			       .groups = G_WS_UPGRADE },
	/* The WebSocket upgrade's headers, or every HTTP request's. */
	[F_HEADER] = { "header", .letter = 'H', CUSTOM(set_ws_header), .groups = G_WS_UPGRADE },
	[F_LISTEN_TARGET] = { "listen-target", CUSTOM(set_listen_target), .groups = G_FANOUT },
	[F_PUBLISHERS] = { "publishers", NUMBER(0, CONNS_MAX), TO(publishers), .groups = G_FANOUT },
	[F_LISTENERS] = { "listeners", NUMBER(0, CONNS_MAX), TO(listeners), .groups = G_WS_ONLY },
	[F_FANOUT] = { "fanout", NUMBER(1, CONNS_MAX), TO(fanout), .groups = G_FANOUT },
	[F_BINARY] = { "binary", SWITCH, TO(binary), .groups = G_WS_ONLY },
	[F_STEPS] = { "steps", CUSTOM(set_steps), .groups = G_FANOUT | G_NOT_SEARCH },
	[F_SUBSCRIBERS] = { "subscribers", NUMBER(0, CONNS_MAX), TO(subscribers),
			    .groups = G_MQTT_SESSION, .then = default_sub_topic },
	[F_SUB_TOPIC] = { "sub-topic", CUSTOM(set_sub_topic), .groups = G_MQTT_SESSION },
	[F_SUB_QOS] = { "sub-qos", NAME(qos_names, "0, 1 or 2"), TO(sub_qos),
			.groups = G_MQTT_SESSION, .then = default_sub_topic },
	[F_CHAT] = { "chat", SWITCH, TO(chat), .groups = G_MQTT_SESSION, .then = default_sub_topic },
	[F_CONNS] = { "conns", .letter = 'c', NUMBER(1, CONNS_MAX), TO(conns) },
	[F_RAMP] = { "ramp", NUMBER(1, UINT32_MAX), TO(ramp) },
	[F_RATE] = { "rate", .letter = 'r', NUMBER(1, UINT64_MAX), TO(rate) },
	[F_PACE_BATCH] = { "pace-batch", CUSTOM(set_pace_batch) },
	[F_MESSAGES] = { "messages", .letter = 'L', NUMBER(0, UINT64_MAX), TO(messages), .groups = G_NOT_SEARCH,
			 .then = messages_given },
	[F_DURATION] = { "duration", .letter = 'd', DURATION(false), TO(duration_ns), .groups = G_NOT_SEARCH },
	[F_DRAIN_TIMEOUT] = { "drain-timeout", DURATION(true), TO(drain_timeout_ns) },
	[F_QOS] = { "qos", .letter = 'q', NAME(qos_names, "0, 1 or 2"), TO(qos), .groups = G_MQTT_SESSION },
	[F_INFLIGHT] = { "inflight", NUMBER(1, 65535), TO(inflight) },
	[F_TOPIC] = { "topic", .letter = 't', STRING(MQTT_STR_MAX), TO(topic), .empty = "must not be empty" },
	[F_PAYLOAD_SIZE] = { "payload-size", .letter = 's', NUMBER(0, PAYLOAD_MAX), TO(payload_size) },
	[F_PAYLOAD_FILE] = { "payload-file", .kind = FLAG_LINES, .max = PAYLOAD_MAX, TO(payloads) },
	[F_RETAIN] = { "retain", SWITCH, TO(retain), .groups = G_MQTT_SESSION },
	[F_CLIENT_ID] = { "client-id", STRING(MQTT_STR_MAX), TO(client_id),
			  .groups = G_MQTT_SESSION },
	[F_USERNAME] = { "username", .letter = 'u', STRING(MQTT_STR_MAX), TO(username), .groups = G_MQTT_SESSION },
	[F_PASSWORD] = { "password", .letter = 'P', STRING(MQTT_STR_MAX), TO(password), .groups = G_MQTT_SESSION },
	[F_TOKENS_FILE] = { "tokens-file", .kind = FLAG_LINES, .max = MQTT_STR_MAX, TO(tokens),
			    .groups = G_MQTT_SESSION },
	[F_KEEPALIVE] = { "keepalive", .letter = 'k', NUMBER(0, 65535), TO(keepalive), .groups = G_MQTT_SESSION },
	[F_MQTT_VERSION] = { "mqtt-version", .letter = 'V', NAME(mqtt_version_names, "3.1.1 or 5"),
			     TO(mqtt_version), .groups = G_MQTT_SESSION },
	[F_RECONNECT] = { "reconnect", SWITCH, TO(reconnect) },
	[F_CHURN] = { "churn", SWITCH, TO(churn), .groups = G_MQTT_SESSION | G_NOT_SEARCH },
	[F_WORKERS] = { "workers", NUMBER(1, BLAST_MAX_WORKERS), TO(workers) },
	[F_REPORT] = { "report", STRING(SIZE_MAX), TO(report_path) },
	[F_PROBE] = { "probe", SWITCH, TO(probe) },
	[F_RX_STAMPS] = { "rx-stamps", NAME(rx_stamps_names, "auto, segment or read"),
			  TO(rx_stamps) },
	[F_HLOG] = { "hlog", STRING(SIZE_MAX), TO(hlog_path) },
	[F_CSV] = { "csv", STRING(SIZE_MAX), TO(csv_path) },
	[F_HTML] = { "html", STRING(SIZE_MAX), TO(html_path) },
	[F_QUIET] = { "quiet", SWITCH, TO(quiet) },
	[F_HELP] = { "help", .letter = 'h', .kind = FLAG_ACTION, .set = show_help },
	[F_VERSION] = { "version", .kind = FLAG_ACTION, .set = show_version },
	[F_ACKS] = { "acks", NAME(acks_names, "0, 1 or all (also -1)"), TO(acks),
		     .groups = G_KAFKA },
	[F_BATCH_SIZE] = { "batch-size", NUMBER(BATCH_MIN, BATCH_MAX), TO(batch_size),
			   .groups = G_KAFKA },
	[F_LINGER] = { "linger", CUSTOM(set_linger), .groups = G_KAFKA },
	[F_KEY] = { "key", STRING(MQTT_STR_MAX), TO(key), .groups = G_KAFKA },
	[F_PARTITIONS] = { "partitions", CUSTOM(set_partitions), .groups = G_KAFKA },
	[F_COMPRESSION] = { "compression", NAME(compression_names, "none or gzip"),
			    TO(compression), .groups = G_KAFKA },
	[F_RECORD_HEADER] = { "record-header", CUSTOM(set_record_header), .groups = G_KAFKA },
	[F_PAYLOAD_PROTO] = { "payload-proto", STRING(1024), TO(payload_proto),
			      .empty = "needs a message name" },
	[F_PAYLOAD_PROTO_DESC] = { "payload-proto-desc", STRING(PATH_MAX), TO(payload_proto_desc),
				   .empty = "needs a file name" },
	[F_FIELD] = { "field", CUSTOM(set_field) },
	[F_PCAP] = { "pcap", STRING(PATH_MAX), TO(pcap_path) },
	[F_PCAP_SNAPLEN] = { "pcap-snaplen", NUMBER(PCAP_SNAPLEN_MIN, PCAP_SNAPLEN_MAX),
			     TO(pcap_snaplen) },
	[F_PCAP_MAX_BYTES] = { "pcap-max-bytes", NUMBER(4096, UINT64_MAX), TO(pcap_max_bytes) },
	/* "--find-limit", "--find-limit conns", "--find-limit=rate". */
	[F_FIND_LIMIT] = { "find-limit", NAME(limit_mode_names, "rate (the default) or conns"),
			   TO(limit.mode), .fallback = "rate" },
	[F_SLO] = { "slo", CUSTOM(set_slo), .groups = G_SEARCH },
	[F_MAX_LOSS] = { "max-loss", CUSTOM(set_max_loss), .groups = G_SEARCH },
	[F_TRIAL_DURATION] = { "trial-duration", DURATION(false), TO(limit.trial_ns),
			       .groups = G_SEARCH },
	[F_SEARCH_TIMEOUT] = { "search-timeout", DURATION(false), TO(limit.timeout_ns),
			       .groups = G_SEARCH },
	[F_CEILING] = { "ceiling", NUMBER(1, UINT64_MAX / 4), TO(limit.ceiling),
			.groups = G_SEARCH },
	/* TLS: read by OpenSSL in transport/tls_ctx.c before any connection. */
	[F_CACERT] = { "cacert", STRING(PATH_MAX), TO(cacert), .groups = G_TLS,
		       .empty = "needs a file name" },
	[F_INSECURE] = { "insecure", SWITCH, TO(insecure), .groups = G_TLS },
	[F_CERT] = { "cert", STRING(PATH_MAX), TO(cert), .groups = G_TLS,
		     .empty = "needs a file name" },
	[F_CERT_KEY] = { "cert-key", STRING(PATH_MAX), TO(key_file), .groups = G_TLS,
			 .empty = "needs a file name" },
	[F_CERT_DIR] = { "cert-dir", STRING(PATH_MAX), TO(cert_dir), .groups = G_TLS,
			 .empty = "needs a directory" },
	[F_CERT_LIST] = { "cert-list", STRING(PATH_MAX), TO(cert_list), .groups = G_TLS,
			  .empty = "needs a file name" },
	[F_SNI] = { "sni", STRING(255), TO(sni), .groups = G_TLS, .empty = "needs a host name" },
	[F_ALPN] = { "alpn", STRING(1024), TO(alpn), .groups = G_TLS,
		     .empty = "needs protocol names" },
	[F_TLS_VERSION] = { "tls-version", NAME(tls_version_names, "1.2 or 1.3"), TO(tls_version),
			    .groups = G_TLS },
	[F_CIPHERS] = { "ciphers", STRING(4096), TO(ciphers), .groups = G_TLS,
			.empty = "needs a cipher list" },
	[F_CIPHERSUITES] = { "ciphersuites", STRING(4096), TO(ciphersuites), .groups = G_TLS,
			     .empty = "needs a list of suites" },
	[F_GROUPS] = { "groups", STRING(4096), TO(groups), .groups = G_TLS,
		       .empty = "needs a list of groups" },
	[F_TLS_RESUME] = { "tls-resume", NAME(tls_resume_names, "off, id, ticket or psk"), TO(tls_resume),
			   .groups = G_TLS },
	[F_KEYLOG] = { "keylog", STRING(PATH_MAX), TO(keylog), .groups = G_TLS,
		       .empty = "needs a file name" },
	/* Kafka's security: TLS on every broker connection, SASL on each. */
	[F_TLS] = { "tls", SWITCH, TO(tls_switch), .groups = G_KAFKA },
	[F_SASL_MECHANISM] = { "sasl-mechanism",
			       NAME(sasl_mech_names, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
			       TO(sasl_mech), .groups = G_KAFKA },
	[F_SASL_USERNAME] = { "sasl-username", STRING(255), TO(sasl_user), .groups = G_KAFKA },
	[F_SASL_PASSWORD] = { "sasl-password", STRING(255), TO(sasl_pass), .groups = G_KAFKA },
	/* Read before everything else (config.c); here for --help and for
	 * the nearest-flag guess. */
	[F_CONFIG] = { "config", STRING(SIZE_MAX), TO(config_path) },
	/* HTTP (docs/http.md). */
	[F_METHOD] = { "method", STRING(64), TO(http_method), .groups = G_HTTP,
		       .empty = "needs a method name" },
	[F_CONTENT_TYPE] = { "content-type", STRING(1024), TO(content_type), .groups = G_HTTP,
			     .empty = "needs a media type" },
	[F_PIPELINE] = { "pipeline", NUMBER(1, 1024), TO(pipeline), .groups = G_HTTP },
	[F_NO_KEEPALIVE] = { "no-keepalive", SWITCH, TO(no_keepalive), .groups = G_HTTP },
	[F_OK_STATUS] = { "ok-status", CUSTOM(set_ok_status), .groups = G_HTTP },
	[F_MAX_BODY] = { "max-body", NUMBER(1, 1ull << 40), TO(max_body), .groups = G_HTTP },
	[F_THINK_TIME] = { "think-time", DURATION(true), TO(think_ns), .groups = G_HTTP },
	/* A run split between machines (cli/shard.c, docs/distributed.md). */
	[F_SHARD] = { "shard", CUSTOM(shard_arg), .groups = G_NOT_SEARCH },
	[F_SHARDS] = { "shards", NUMBER(1, 100000), TO(shard_count), .groups = G_NOT_SEARCH },
	[F_START_AT] = { "start-at", CUSTOM(start_at_arg) },
	[F_HOLD_START] = { "hold-start", CUSTOM(hold_start_arg), .groups = G_NOT_SEARCH },
	[F_SECONDS_TO] = { "seconds-to", STRING(PATH_MAX), TO(seconds_to), .groups = G_NOT_SEARCH,
			   .empty = "needs a file name" },
	[F_DASHBOARD] = { "dashboard", STRING(64), TO(dashboard), .empty = "needs ADDR:PORT" },
	[F_DASHBOARD_LINGER] = { "dashboard-linger", DURATION(true), TO(dashboard_linger_ns) },
};

/* Writes v into the row's field, 1 to 8 bytes wide. The ranges and names
 * fit their fields; a negative name (acks -1) keeps its two's complement. */
static void field_store(struct blast_opts *o, const struct flag *f, uint64_t v)
{
	char *p = (char *)o + f->offset;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->width) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
	}
}

static int name_apply(struct blast_opts *o, const struct flag *f, const char *flag,
		      const char *arg)
{
	int v;

	if (name_find(f->names, arg, &v))
		return cli_fail("%s %s: must be %s", flag, cli_quote(arg), f->accepts);
	if (v == NAME_UNSUPPORTED)
		return cli_fail("%s %s: not supported (%s)", flag, cli_quote(arg), f->accepts);
	field_store(o, f, (uint64_t)(int64_t)v);
	return 0;
}

int flag_apply(struct blast_opts *o, const struct flag *f, const char *flag, const char *arg)
{
	void *field = (char *)o + f->offset;
	uint64_t v;
	int r = 0;

	switch (f->kind) {
	case FLAG_SWITCH:
		field_store(o, f, 1);
		break;
	case FLAG_ACTION:
	case FLAG_CUSTOM:
		r = f->set(o, flag, arg);
		break;
	case FLAG_NUMBER:
		if (!(r = num_arg(flag, arg, f->min, f->max, &v)))
			field_store(o, f, v);
		break;
	case FLAG_DURATION:
		if (!(r = duration_arg(flag, arg, f->min == 0, &v)))
			field_store(o, f, v);
		break;
	case FLAG_NAME:
		r = name_apply(o, f, flag, arg);
		break;
	case FLAG_STRING:
		if (f->empty && !*arg)
			return cli_fail("%s '': %s", flag, f->empty);
		r = str_arg(field, flag, arg, f->max);
		break;
	case FLAG_LINES:
		r = list_arg(field, flag, arg, f->max);
		break;
	}
	if (!r && f->then)
		r = f->then(o, flag);
	return r;
}

int flag_first_given(const struct parse_state *ps, unsigned groups)
{
	int first = -1;

	for (int id = 0; id < F__COUNT; id++)
		if ((flags[id].groups & groups) && ps->at[id] &&
		    (first < 0 || ps->at[id] < ps->at[first]))
			first = id;
	return first;
}

int flag_by_letter(int letter)
{
	for (int id = 0; id < F__COUNT; id++)
		if (letter && flags[id].letter == letter)
			return id;
	return -1;
}

/* Edit distance (insert, delete, substitute) between two short names. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 64 || lb >= 64)
		return 64;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The flag a mistyped long option most likely meant ("--conn": "conns"):
 * the nearest name, at most two edits away and no more than a third of
 * what was typed, so that short guesses suggest nothing; NULL if none. */
const char *flag_nearest(const char *typed)
{
	const char *best = NULL;
	unsigned best_d = 3, len = (unsigned)strlen(typed);
	unsigned most = len / 3 > 1 ? len / 3 : 1;

	for (int id = 0; id < F__COUNT; id++) {
		unsigned d = edit_distance(typed, flags[id].name);
		if (d < best_d && d <= most) {
			best_d = d;
			best = flags[id].name;
		}
	}
	return best;
}

int flag_by_name(const char *name, size_t len)
{
	for (int id = 0; id < F__COUNT; id++)
		if (strlen(flags[id].name) == len && !memcmp(flags[id].name, name, len))
			return id;
	return -1;
}
