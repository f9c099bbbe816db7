/* The command line's flags as one table: a row per flag says how its value
 * is read, where it goes in struct blast_opts, what it accepts and which
 * protocol or mode it belongs to. opts.c walks argv through it; checks.c
 * asks it which flags were given together. */
#ifndef BLAST_CLI_FLAGS_H
#define BLAST_CLI_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "config/names.h"
#include "config/opts.h"

#define CONNS_MAX 1000000u
#define PAYLOAD_MAX 268435000u /* leaves room for the header under MQTT's 268435455 */
#define MQTT_STR_MAX 65535u    /* a UTF-8 string field has a 2-byte length */

/* getopt_long's value for a flag: above every char, so optopt tells a long
 * flag from a short one. */
#define FLAG_VAL_BASE 256

enum flag_id {
	F_PROTO,
	F_TARGET,
	F_TRANSPORT,
	F_WS_SUBPROTOCOL,
	F_HEADER,
	F_LISTEN_TARGET,
	F_PUBLISHERS,
	F_LISTENERS,
	F_FANOUT,
	F_BINARY,
	F_STEPS,
	F_SUBSCRIBERS,
	F_SUB_TOPIC,
	F_SUB_QOS,
	F_CHAT,
	F_CONNS,
	F_RAMP,
	F_RATE,
	F_PACE_BATCH,
	F_MESSAGES,
	F_DURATION,
	F_DRAIN_TIMEOUT,
	F_QOS,
	F_INFLIGHT,
	F_TOPIC,
	F_PAYLOAD_SIZE,
	F_PAYLOAD_FILE,
	F_RETAIN,
	F_CLIENT_ID,
	F_USERNAME,
	F_PASSWORD,
	F_TOKENS_FILE,
	F_KEEPALIVE,
	F_MQTT_VERSION,
	F_RECONNECT,
	F_CHURN,
	F_WORKERS,
	F_REPORT,
	F_PROBE,
	F_RX_STAMPS,
	F_HLOG,
	F_CSV,
	F_HTML,
	F_QUIET,
	F_HELP,
	F_VERSION,
	F_ACKS,
	F_BATCH_SIZE,
	F_LINGER,
	F_KEY,
	F_PARTITIONS,
	F_COMPRESSION,
	F_RECORD_HEADER,
	F_PAYLOAD_PROTO,
	F_PAYLOAD_PROTO_DESC,
	F_FIELD,
	F_PCAP,
	F_PCAP_SNAPLEN,
	F_PCAP_MAX_BYTES,
	F_FIND_LIMIT,
	F_SLO,
	F_MAX_LOSS,
	F_TRIAL_DURATION,
	F_SEARCH_TIMEOUT,
	F_CEILING,
	F_CACERT,
	F_INSECURE,
	F_CERT,
	F_CERT_KEY,
	F_CERT_DIR,
	F_CERT_LIST,
	F_SNI,
	F_ALPN,
	F_TLS_VERSION,
	F_CIPHERS,
	F_CIPHERSUITES,
	F_GROUPS,
	F_TLS_RESUME,
	F_KEYLOG,
	F_TLS,
	F_SASL_MECHANISM,
	F_SASL_USERNAME,
	F_SASL_PASSWORD,
	F_CONFIG,
	F_METHOD,
	F_CONTENT_TYPE,
	F_PIPELINE,
	F_NO_KEEPALIVE,
	F_OK_STATUS,
	F_MAX_BODY,
	F_THINK_TIME,
	F_SHARD,
	F_SHARDS,
	F_START_AT,
	F_SECONDS_TO,
	F_DASHBOARD,
	F_DASHBOARD_LINGER,
	F__COUNT,
};

/* How a flag's value is read. */
enum flag_kind {
	FLAG_SWITCH,   /* no value: sets a bool */
	FLAG_ACTION,   /* no value: runs set() (--help, --version) */
	FLAG_NUMBER,   /* digits with an optional k, m or g, within [min, max] */
	FLAG_DURATION, /* 500ms, 30s, 2m, 1h; min 0 lets 0 through */
	FLAG_NAME,     /* one of names */
	FLAG_STRING,   /* copied, at most max bytes */
	FLAG_LINES,    /* a file read into a struct line_list, entries at most max bytes */
	FLAG_CUSTOM,   /* read by set() */
};

/* The sets of flags the checks between flags name (checks.c). */
enum flag_group {
	G_KAFKA = 1 << 0,        /* Kafka only */
	G_MQTT_SESSION = 1 << 1, /* MQTT's own session: not Kafka, not --proto ws */
	G_WS_UPGRADE = 1 << 2,   /* the WebSocket upgrade: MQTT over ws, or --proto ws */
	G_FANOUT = 1 << 3,       /* fan-out: --proto ws, or --proto mqtt with --subscribers */
	G_WS_ONLY = 1 << 4,      /* --proto ws only, even when MQTT fans out */
	G_SEARCH = 1 << 5,       /* means something with --find-limit only */
	G_NOT_SEARCH = 1 << 6,   /* --find-limit sets it for each trial */
	G_TLS = 1 << 7,          /* TLS targets only (mqtts://, wss://, https://) */
	G_HTTP = 1 << 8,         /* --proto http only */
};

struct flag {
	const char *name;     /* without the "--" */
	char letter;          /* its short form (-c), 0 for none: docs/cli.md says why these */
	enum flag_kind kind;
	unsigned groups;      /* enum flag_group bits */
	size_t offset, width; /* the field in struct blast_opts */
	uint64_t min, max;    /* NUMBER: the range; DURATION: min; STRING, LINES: max bytes */
	const struct name_value *names; /* NAME */
	const char *accepts;  /* NAME: the error's "must be <accepts>" */
	const char *fallback; /* NAME: the value when none is given; the value is optional */
	const char *empty;    /* STRING: why '' is refused; NULL = '' is fine */
	/* CUSTOM and ACTION: reads arg into o. 0, 1 (stop, exit 0) or
	 * BLAST_EXIT_USAGE after one line on stderr. */
	int (*set)(struct blast_opts *o, const char *flag, const char *arg);
	/* After the value is stored: what the flag implies. */
	int (*then)(struct blast_opts *o, const char *flag);
};

extern const struct flag flags[F__COUNT];

/* The flag a mistyped long name most likely meant ("conn": "conns"), at
 * most two edits away; NULL if none. */
const char *flag_nearest(const char *typed);
/* The flag named name (without "--"), or -1. */
int flag_by_name(const char *name, size_t len);

/* The flag whose short form is letter, or -1. */
int flag_by_letter(int letter);

/* What parsing learned about each flag, for the checks between flags. */
struct parse_state {
	int at[F__COUNT];              /* argv index of the first use; 0 = not given */
	const char *value[F__COUNT];   /* the value of the last use */
};

/* Reads arg (NULL for a flag without a value) into o as row f says;
 * flag is "--name" for the error line. Returns what set() may return. */
int flag_apply(struct blast_opts *o, const struct flag *f, const char *flag, const char *arg);

/* The first flag given (by argv position) of those in any of groups, or
 * -1 when none was. */
int flag_first_given(const struct parse_state *ps, unsigned groups);

#endif
