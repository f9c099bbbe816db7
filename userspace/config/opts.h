/* Command line: everything a run needs, parsed and validated before any
 * worker, socket or file is opened. Bad input is one line on stderr naming
 * the problem and exit status 2. */
#ifndef BLAST_OPTS_H
#define BLAST_OPTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "encoders/blws.h"
#include "config/limit_cfg.h"
#include "config/split.h"

#define BLAST_EXIT_USAGE 2
#define BLAST_MAX_TARGETS 64
#define BLAST_MAX_WORKERS 64
/* Sockets one worker process opens, under the 20,000 open files allowed. */
#define BLAST_CONNS_PER_WORKER 19000u
/* What one worker paces with room to spare: a paced run takes no more
 * workers than this asks for (cli/checks.c). */
#define BLAST_PACED_RATE_PER_WORKER 100000u
#define BLAST_MAX_SUB_TOPICS 16
/* --pace-batch (engine/sched.h): how far ahead of its time a paced send
 * may leave to share a wake; docs/pacing.md measures the trade. */
#define PACE_BATCH_DEFAULT_NS 200000ull
#define PACE_BATCH_MAX_NS 10000000ull
/* --pace-batch auto: about PACE_AUTO_MSGS messages of a worker's schedule
 * per wake, at most PACE_AUTO_MAX_NS (opts_pace_batch_ns). */
#define PACE_AUTO_MSGS 8u
#define PACE_AUTO_MAX_NS 2000000ull
/* --proto ws: the ASCII header every message starts with (encoders/blws.h). */
#define WS_HEADER_LEN BLWS_LEN
#define WS_DEFAULT_PAYLOAD 58 /* --proto ws: 2 + 4 (mask) + 58 = a 64-byte frame */
/* --pcap-snaplen: a loopback segment is up to 65535 bytes of IP plus a
 * 14-byte link header, so "whole packets" needs more than 65535. */
#define PCAP_SNAPLEN_DEFAULT 262144
#define PCAP_SNAPLEN_MIN 128
#define PCAP_SNAPLEN_MAX 262144

enum blast_proto { PROTO_MQTT = 0, PROTO_KAFKA, PROTO_WS, PROTO_HTTP };

/* --proto http: status codes 0..HTTP_STATUS_SLOTS-1 are counted one by one. */
#define HTTP_STATUS_SLOTS 600

enum kafka_compression { KCOMP_NONE = 0, KCOMP_GZIP = 1 };

enum blast_transport { TRANSPORT_TCP = 0, TRANSPORT_WS };

/* --tls-version and --tls-resume. */
enum tls_version { TLS_VERSION_ANY = 0, TLS_VERSION_12, TLS_VERSION_13 };
/* TLS_RESUME_PSK: tickets resumed by psk_ke, no (EC)DHE (tls_ctx.c). */
enum tls_resume { TLS_RESUME_TICKET = 0, TLS_RESUME_ID, TLS_RESUME_OFF, TLS_RESUME_PSK };

/* --rx-stamps: how receipts and acks are timed (userspace/engine/rxseg.h). */
enum rx_stamps { RX_STAMPS_AUTO = 0, RX_STAMPS_SEGMENT, RX_STAMPS_READ };

/* --field NAME=GENERATOR, for protobuf payloads. */
struct field_spec {
	char *name; /* field name in the message (nested: a.b) */
	char *gen;  /* generator text: uniform:0:5, bernoulli:0.01, now, seq, const value */
};

/* --record-header NAME=VALUE (Kafka); {conn} and {seq} expand in VALUE. */
struct header_spec {
	char *name;
	char *value;
};

struct blast_target {
	char host[256]; /* as given */
	uint16_t port;
	bool ws;        /* given as ws://HOST:PORT/PATH (or wss://) */
	bool tls;       /* given as mqtts://, wss://, https:// or kafka+ssl:// */
	bool kafka;     /* given as kafka:// or kafka+ssl:// */
	char path[256]; /* WebSocket or HTTP request path, "/" by default */
	bool http;      /* given as http://HOST[:PORT][/PATH] (or https://) */
	struct sockaddr_storage addr; /* resolved once, at parse time */
	socklen_t addr_len;
};

/* Strings of a list file (payload lines, tokens), one per line. Lines are
 * stored without their trailing newline (and without a '\r' before it). */
struct line_list {
	char **lines;
	size_t *lens;
	size_t n;
	char *data; /* one allocation holding every line */
};

/* Which command-line flags set a TLS context's files (error lines name them). */
struct tls_flag_names {
	const char *cacert, *cert, *key;
};

struct blast_opts {
	enum blast_proto proto;
	struct blast_target targets[BLAST_MAX_TARGETS];
	unsigned n_targets;

	uint32_t conns;         /* --conns, default 1 */
	uint32_t ramp;          /* --ramp: connections opened per second; 0 = as fast as accepted */
	uint64_t rate;          /* --rate: messages per second in total; 0 = unlimited */
	uint64_t pace_batch_ns; /* --pace-batch: a paced wake sends what is due this far ahead */
	bool pace_batch_auto;   /* --pace-batch auto: from the rate (opts_pace_batch_ns) */
	uint64_t messages;      /* --messages; 0 with has_messages = connect only */
	bool has_messages;
	uint64_t duration_ns;   /* --duration; 0 = until --messages or SIGINT */
	uint64_t drain_timeout_ns; /* --drain-timeout, default 5 s */
	uint8_t qos;            /* --qos 0|1|2, default 0 */
	uint32_t inflight;      /* --inflight: unacked messages per connection, default 64, max 65535 */
	char *topic;            /* --topic template, default "blast/{conn}"; {conn} and {seq} expand */
	bool topic_has_seq;     /* the template contains {seq} */
	uint32_t payload_size;  /* --payload-size, default 32 (--proto ws: WS_DEFAULT_PAYLOAD) */
	struct line_list payloads; /* --payload-file: n > 0 when given */
	bool retain;            /* --retain */
	char *client_id;        /* --client-id template, default "blast-{pid}-{conn}"; {conn}, {pid} expand */
	char *username;         /* --username, NULL if none */
	char *password;         /* --password, NULL if none */
	struct line_list tokens; /* --tokens-file: line i is connection i's username; n >= conns */
	uint16_t keepalive;     /* --keepalive seconds, default 60 */
	uint8_t mqtt_version;   /* --mqtt-version 3.1.1|5 -> 4 or 5, default 4 */
	bool reconnect;         /* --reconnect */
	bool churn;             /* --churn */
	uint32_t workers;       /* --workers, default: online CPUs, at most conns */
	char *report_path;      /* --report FILE.json */
	char *hlog_path;        /* --hlog FILE: HdrHistogram interval log */
	char *csv_path;         /* --csv FILE: the per-second series */
	char *html_path;        /* --html FILE: a self-contained page */
	char *dashboard;        /* --dashboard ADDR:PORT: the live page */
	uint64_t dashboard_linger_ns; /* --dashboard-linger: serve the report this long, 0 till Ctrl-C */
	bool quiet;             /* --quiet: no live line */
	bool probe;             /* --probe: kernel programs count and time requests on the wire */
	uint8_t rx_stamps;      /* --rx-stamps: enum rx_stamps */

	/* Kafka (--proto kafka). Targets are bootstrap brokers (default
	 * 127.0.0.1:9092); --conns is connections per partition leader;
	 * --inflight is Produce requests in flight per connection (default 5);
	 * --topic is one topic name (default "blast", no templates). */
	int16_t acks;            /* --acks 0|1|all: 0, 1 or -1; default 1 */
	uint32_t batch_size;     /* --batch-size BYTES per partition batch, default 16384 */
	uint64_t linger_ns;      /* --linger MS, default 5 ms */
	char *key;               /* --key TEMPLATE ({conn}, {seq}); NULL = no key, round-robin */
	int32_t *partitions;     /* --partitions LIST ("0,2,5-7"); NULL = all */
	uint32_t n_partitions;
	uint8_t compression;     /* --compression none|gzip: enum kafka_compression */
	struct header_spec *headers; /* --record-header, repeatable */
	uint32_t n_headers;

	/* WebSocket transport (--transport ws, or ws:// targets). */
	uint8_t transport;        /* enum blast_transport */
	char *ws_subprotocol;     /* --ws-subprotocol, default "mqtt" for MQTT */
	char **ws_headers;        /* --header 'Name: value', repeatable */
	uint32_t n_ws_headers;

	/* TLS (mqtts://, wss://, kafka+ssl:// targets or --tls; transport/tls.c, docs/tls.md). */
	bool tls;                 /* the targets ask for TLS */
	char *cacert;             /* --cacert FILE (PEM); NULL = the system's store */
	bool insecure;            /* --insecure: no certificate or host verification */
	char *cert, *key_file;    /* --cert FILE --key FILE: a client certificate (mTLS) */
	/* The flags an error names for cacert, cert and key_file: NULL for
	 * the run's (--cacert, --cert, --cert-key); the control link's are
	 * --control-*. */
	const struct tls_flag_names *tls_flags;
	char *cert_dir;           /* --cert-dir DIR: NAME.crt + NAME.key, one per device */
	char *cert_list;          /* --cert-list FILE: lines "CERT KEY", one per device */
	char *sni;                /* --sni NAME: server name sent and verified (default: host) */
	char *alpn;               /* --alpn LIST: comma-separated protocol names */
	uint8_t tls_version;      /* --tls-version: enum tls_version */
	char *ciphers;            /* --ciphers: TLS 1.2 cipher list (OpenSSL syntax) */
	char *ciphersuites;       /* --ciphersuites: TLS 1.3 suites */
	char *groups;             /* --groups: key exchange groups */
	uint8_t tls_resume;       /* --tls-resume: enum tls_resume */
	char *keylog;             /* --keylog FILE, or $SSLKEYLOGFILE: NSS key log lines */
	bool tls_switch;          /* --tls: Kafka over TLS (as kafka+ssl:// targets ask) */

	/* Kafka SASL (protocol/kafka_sasl.c, docs/kafka-security.md). */
	uint8_t sasl_mech;        /* --sasl-mechanism: enum sasl_mech, SASL_NONE when off */
	char *sasl_user;          /* --sasl-username */
	char *sasl_pass;          /* --sasl-password */

	/* --proto ws: messages over WebSocket, and fan-out measurement. The
	 * first --target takes the publishers; each node (the first target
	 * and every --listen-target) takes --listeners listening connections;
	 * every connection counts what it receives. */
	struct blast_target listen[BLAST_MAX_TARGETS]; /* --listen-target */
	unsigned n_listen;
	uint32_t publishers;      /* --publishers, default 1 */
	uint32_t listeners;       /* --listeners per node, default 1 (0 = none) */
	uint32_t fanout;          /* --fanout: receipts per message; 0 = every connection */
	bool binary;              /* --binary frames instead of text */
	uint64_t *steps;          /* --steps 10,100,1000: a ladder of batch sizes */
	uint32_t n_steps;

	/* MQTT fan-out (--subscribers, --sub-topic, --sub-qos, --chat):
	 * --publishers connections publish to the first --target; --subscribers
	 * per node (the first target and every --listen-target) subscribe to
	 * sub_topics; with --chat the publishers subscribe too. A shared
	 * filter ($share/NAME/FILTER) goes to one subscriber in n_shared, dealt
	 * in turn. NULL sub_topic = no fan-out. */
	char *sub_topic;          /* --sub-topic FILTER, default "blast/#": the first */
	char **sub_topics;        /* every --sub-topic (repeatable), sub_topic first */
	uint32_t n_sub_topics;
	uint32_t subscribers;     /* --subscribers per node, default 1 */
	uint8_t sub_qos;          /* --sub-qos 0|1|2, default 0 */
	bool chat;                /* --chat: publishers subscribe too */

	/* Protobuf payloads (every protocol). */
	char *payload_proto;      /* --payload-proto MESSAGE (compiled in, or from the .desc) */
	char *payload_proto_desc; /* --payload-proto-desc FILE.desc (protoc -o) */
	struct field_spec *fields; /* --field, repeatable */
	uint32_t n_fields;

	/* HTTP (--proto http, docs/http.md). The request headers are
	 * --header's, in ws_headers. Requests await their responses as QoS 1
	 * publishes await their acks: opts_finish sets qos 1 and --inflight
	 * from --pipeline. */
	char *http_method;        /* --method, default GET, or POST with a body */
	char *content_type;       /* --content-type, NULL: by the payload's kind */
	bool http_body;           /* a body was asked for (--payload-size/-file/-proto) */
	uint32_t pipeline;        /* --pipeline: requests in flight per connection, default 1 */
	bool no_keepalive;        /* --no-keepalive: a connection per request */
	uint64_t think_ns;        /* --think-time: a connection's pause after each response */
	char *ok_status;          /* --ok-status, default "2xx,3xx" */
	bool http_ok[HTTP_STATUS_SLOTS]; /* status -> acked, from ok_status */
	uint64_t max_body;        /* --max-body bytes, default 1 GiB */

	/* --config FILE: the run file read, and its content (the report keeps it). */
	char *config_path;
	char *config_text;

	/* Packet capture (userspace/witness/capture.c). */
	char *pcap_path;          /* --pcap FILE.pcapng; NULL = no capture */
	uint32_t pcap_snaplen;    /* --pcap-snaplen, default PCAP_SNAPLEN_DEFAULT */
	uint64_t pcap_max_bytes;  /* --pcap-max-bytes: the file stops growing here; 0 = no bound */
	/* --find-limit and its settings (config/limit_cfg.h, limit/limit.h). */
	struct limit_cfg limit;

	/* --shard I/N (or $JOB_COMPLETION_INDEX with --shards N): this machine
	 * runs share I of the run (config/split.h, docs/distributed.md); the
	 * fields above hold the share, shard_whole what was asked of all N.
	 * shard_count 0 = the whole run here. */
	uint32_t shard_index, shard_count;
	struct split_whole shard_whole;
	uint32_t conn_base;       /* the share's first {conn} number (fan-out: publisher's) */
	uint32_t recv_conn_base;  /* fan-out: its first receiver's; 0 = unsplit */
	uint64_t start_at_ns;     /* --start-at: wall-clock ns (CLOCK_REALTIME) the open-loop
				   * schedule starts at; 0 = once the connections are up */
	int hold_fd;              /* --hold-start FD:TAG (blast agent's run): once connected,
				   * "connected" on FD, then the start time read from it;
				   * 0 = none */
	uint64_t hold_tag;        /* ...TAG: the run's id, the same on every share */
	char *seconds_to;         /* --seconds-to FILE: each second appended as it closes
				   * (`blast agent` streams them to its coordinator) */
};

/* Connection i of this machine's share as the whole run numbers it ({conn}). */
static inline uint64_t opts_conn_no(const struct blast_opts *o, uint64_t i)
{
	/* Fan-out: publishers first, then receivers, as one machine numbers them. */
	if (o->recv_conn_base && i >= o->publishers)
		return o->recv_conn_base + (i - o->publishers);
	return o->conn_base + i;
}

/* The target (of n) connection i of this share goes to: by its {conn}
 * number, so a split run's shares load the targets as one machine would. */
static inline uint32_t opts_conn_target(const struct blast_opts *o, uint64_t i, uint32_t n)
{
	return (uint32_t)(opts_conn_no(o, i) % n);
}

/* The protocol's name, as --proto takes it and the reports print it
 * ("mqtt" when there are no options). In config/names.c. */
const char *opts_proto_name(const struct blast_opts *o);

/* A fan-out run: receipts counted against an expected number (--proto ws,
 * or MQTT with --subscribers / --sub-topic / --sub-qos). */
static inline bool opts_fanout(const struct blast_opts *o)
{
	return o->proto == PROTO_WS || (o->proto == PROTO_MQTT && o->sub_topic);
}

/* The paced batch of a worker sending rate messages/s over senders
 * connections. --pace-batch auto gathers PACE_AUTO_MSGS messages' worth of
 * the schedule per wake, but no more than half a connection's own interval
 * (so a batch gives each connection at most one message: a broker without
 * TCP_NODELAY holds a second ack, docs/pacing.md), and no more than
 * PACE_AUTO_MAX_NS; never less than the default. Fewer wakes, but the
 * server gets the batch at once: docs/pacing.md measures what it costs. */
static inline uint64_t opts_pace_batch_ns(const struct blast_opts *o, uint64_t rate,
					  uint64_t senders)
{
	if (!o->pace_batch_auto)
		return o->pace_batch_ns;
	if (!rate)
		return PACE_BATCH_DEFAULT_NS;
	uint64_t interval = 1000000000ull / rate;
	uint64_t b = PACE_AUTO_MSGS * interval;
	uint64_t per_conn = (senders ? senders : 1) * interval / 2;
	if (b > per_conn)
		b = per_conn;
	if (b > PACE_AUTO_MAX_NS)
		b = PACE_AUTO_MAX_NS;
	return b < PACE_BATCH_DEFAULT_NS ? PACE_BATCH_DEFAULT_NS : b;
}

/* The paced batch the report names: the first worker's (workers' shares
 * of the rate and connections differ by one at most). */
static inline uint64_t opts_pace_batch_run_ns(const struct blast_opts *o)
{
	uint64_t n = o->workers ? o->workers : 1;
	uint64_t senders = (opts_fanout(o) ? o->publishers : o->conns) + n - 1;
	return opts_pace_batch_ns(o, o->rate ? (o->rate + n - 1) / n : 0, senders / n);
}

/* MQTT subscribe-only (--publishers 0): the subscribers count deliveries
 * from publishers that are not this run (emqtt-bench's sub). */
static inline bool opts_subscribe_only(const struct blast_opts *o)
{
	return o->proto == PROTO_MQTT && o->sub_topic && o->publishers == 0;
}

/* Receiving connections per node: --listeners (ws) or --subscribers (MQTT). */
static inline uint32_t opts_receivers_per_node(const struct blast_opts *o)
{
	return o->proto == PROTO_WS ? o->listeners : o->subscribers;
}

/* Parses argv into *o (which it zeroes and fills with defaults first).
 * Returns 0 on success; 1 when --help or --version printed and the program
 * should exit 0; on bad input prints "blast: <problem>" on stderr and
 * returns BLAST_EXIT_USAGE. Resolves every target host, reads every file. */
int opts_parse(struct blast_opts *o, int argc, char **argv);

/* Connects to every target once with a blocking socket and a 2 s timeout,
 * so "nothing listening" is a usage error before the run starts. Returns 0,
 * or prints "blast: cannot connect to HOST:PORT: <strerror>" and returns
 * BLAST_EXIT_USAGE. */
int opts_check_targets(const struct blast_opts *o);

void opts_free(struct blast_opts *o);

/* Parsers shared with tests: each returns 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t *out);          /* decimal, optional k/m/g suffix (x1000) */
int parse_duration_ns(const char *s, uint64_t *out);  /* "200us", "500ms", "30s", "2m", "1h", bare number = seconds */
int parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port); /* "h:p", "[v6]:p" */

/* Expands {conn}, {seq}, {pid} in tmpl into out (NUL-terminated). Returns
 * the length written, or -ENOSPC. Unknown {names} are copied as they are. */
int template_expand(char *out, size_t cap, const char *tmpl, uint64_t conn, uint64_t seq,
		    uint64_t pid);

#endif
