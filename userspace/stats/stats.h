/* Counters of a run. Each worker process owns one struct blast_totals in
 * memory shared with the parent; the parent sums them for the live line and
 * the report. Everything is fixed-size and pointer-free for that reason. */
#ifndef BLAST_STATS_H
#define BLAST_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "stats/hist.h"

struct wire_stats;
struct diag_run;
struct series;

/* Transport and protocol failures, counted by reason. Broker reason codes
 * (CONNACK, PUBACK, DISCONNECT) are counted in the arrays below instead. */
enum blast_err {
	ERR_CONNECT_REFUSED,   /* ECONNREFUSED on TCP connect */
	ERR_CONNECT_TIMEOUT,   /* TCP connect or CONNACK took longer than the handshake timeout */
	ERR_CONNECT_FAILED,    /* any other connect errno */
	ERR_ADDR_UNAVAILABLE,  /* EADDRNOTAVAIL: out of ephemeral ports */
	ERR_FD_LIMIT,          /* EMFILE/ENFILE */
	ERR_CONN_RESET,        /* ECONNRESET / EPIPE on an established connection */
	ERR_CONN_CLOSED,       /* the broker closed the socket (recv returned 0) */
	ERR_SEND,              /* any other send errno */
	ERR_RECV,              /* any other recv errno */
	ERR_PROTOCOL,          /* malformed frame from the broker */
	ERR_UNEXPECTED_ACK,    /* an ack for a packet id not in flight */
	ERR_FRAME_TOO_LARGE,   /* a broker frame over the receive limit */
	/* TLS (transport/tls.c). */
	ERR_TLS_VERIFY,        /* the server's certificate failed verification */
	ERR_TLS_HOSTNAME,      /* its certificate names another host (or SNI refused) */
	ERR_TLS_ALERT,         /* the server sent a fatal alert */
	ERR_TLS_VERSION,       /* no TLS version in common */
	ERR_TLS_NOT_TLS,       /* the server did not answer in TLS (a plaintext port) */
	ERR_TLS_HANDSHAKE,     /* any other handshake failure */
	ERR_TLS_TIMEOUT,       /* the TLS handshake outlived the handshake timeout */
	ERR_TLS_RECORD,        /* a bad record once up (decryption, framing) */
	ERR_SASL,              /* Kafka SASL failed on blast's side: the broker's
				* SCRAM signature did not verify, or its SASL
				* messages were malformed (its refusals count by
				* their Kafka error name) */
	ERR_TLS_CLOSE_NOTIFY,  /* the server ended the TLS session (close_notify) mid-run */
	ERR_TLS_PLAIN_CLIENT,  /* plaintext sent to a TLS port: the server answered with a TLS alert */
	/* The WebSocket upgrade: the server closed (or reset) the connection
	 * without answering it (mosquitto, asked for a subprotocol it does
	 * not speak), or its 101 answer fails RFC 6455 4.1. A refusal with an
	 * HTTP status is counted by status (http_status). */
	ERR_UPGRADE_CLOSED,
	ERR_UPGRADE_NO_UPGRADE,     /* no "Upgrade: websocket" */
	ERR_UPGRADE_NO_CONNECTION,  /* no "Connection: Upgrade" */
	ERR_UPGRADE_WRONG_ACCEPT,   /* Sec-WebSocket-Accept missing or not the key's */
	ERR_UPGRADE_EXTENSIONS,     /* an extension none was offered */
	ERR_UPGRADE_SUBPROTOCOL,    /* a subprotocol that was not asked for */
	/* --proto http: a request a closing server left unanswered, resent
	 * on each reopened connection until its retries ran out. */
	ERR_HTTP_RETRIES,
	ERR__COUNT
};

/* The stages of opening a connection, each timed apart. */
enum hs_stage {
	HS_TCP,         /* TCP connect: submitted -> established */
	HS_TLS_FULL,    /* TLS handshake with a full key exchange */
	HS_TLS_RESUMED, /* TLS handshake that resumed a session */
	HS_WS_UPGRADE,  /* the WebSocket upgrade: request made -> 101 accepted */
	HS_PROTO,       /* the protocol's own: CONNECT -> CONNACK (transport up -> ready) */
	HS__COUNT
};
extern const char *const hs_stage_names[HS__COUNT];

#define KAFKA_ERR_SLOTS 128
#define WS_CLOSE_SLOTS 32

/* Stable report names, indexed by enum blast_err. */
extern const char *const blast_err_names[ERR__COUNT];

struct blast_totals {
	/* Accounting: sent = acked + failed + unacked once the run has stopped. */
	uint64_t sent;     /* encoded and queued on a connection */
	uint64_t acked;    /* PUBACK (qos 1), PUBCOMP (qos 2), or written whole (qos 0) */
	uint64_t failed;   /* refused by the broker, or lost with a broken connection */
	uint64_t unacked;  /* still awaiting an ack when the drain timeout ran out */
	uint64_t not_sent; /* scheduled by --rate but never sent (backlog at stop) */

	uint64_t conns_ok;      /* handshakes completed (CONNACK accepted), reconnects included */
	uint64_t conns_failed;  /* connection attempts that never got an accepted CONNACK */
	uint64_t conns_dropped; /* established connections lost before the run ended */
	uint64_t conns_up;      /* currently established (gauge) */
	uint64_t reconnects;    /* attempts made by --reconnect or --churn after the first */
	uint64_t inflight;      /* gauge: sent, not yet acked */

	uint64_t bytes_out;
	uint64_t bytes_in;
	uint64_t tls_records_out; /* TLS records sealed for sends (0 without TLS) */

	/* Fan-out (--proto ws): receipts of this run's messages, by connection. */
	uint64_t received;   /* first receipt of a message on a connection */
	uint64_t duplicates; /* any further receipt of it on that connection */

	uint64_t errors[ERR__COUNT];
	uint64_t connack[256];    /* refusals by CONNACK return/reason code */
	uint64_t pub_reason[256]; /* MQTT 5 PUBACK/PUBREC/PUBCOMP reason codes >= 0x80 */
	uint64_t disconnect[256]; /* MQTT 5 DISCONNECT reason codes sent by the broker */
	uint64_t kafka_error[KAFKA_ERR_SLOTS]; /* Kafka error code + 1 (code -1 .. 126) */
	uint64_t http_status[600];  /* a WebSocket upgrade refused with this status */
	uint64_t ws_close[WS_CLOSE_SLOTS]; /* close frames received: code - 1000, last = other */
	/* MQTT fan-out: messages sent whose topic a plain --sub-topic matches
	 * (each is expected once on every subscribing connection); receipts
	 * expected from shared subscriptions ($share/NAME/FILTER: one per
	 * matching subscription) for messages no plain filter matches; and
	 * subscriptions the broker refused, by SUBACK code (0x80 and up). */
	uint64_t matched;
	uint64_t share_receipts;
	uint64_t suback[256];
	/* Receipt and ack times taken: from the segment that completed the
	 * message (exact), from the kernel's stamp of the read (its newest
	 * segment: an upper bound), or from the loop's clock (no stamp). */
	uint64_t rx_by_segment, rx_by_read, rx_by_loop;
	/* --proto http: final responses by status, and those of them
	 * --ok-status refused (errors "http:CODE"); 1xx answers, response
	 * body bytes, and connections the server ended (Connection: close,
	 * or the end of the stream between responses); requests resent
	 * after such a close left them unanswered (each resend counts). */
	uint64_t http_resp[600];
	uint64_t http_refused[600];
	uint64_t http_interim, http_body_bytes, http_server_closed, http_retried;
};

/* dst += src, gauges included. */
void totals_add(struct blast_totals *dst, const struct blast_totals *src);
/* Sum of errors[], connack[] (codes != 0), pub_reason[] and disconnect[]. */
uint64_t totals_error_count(const struct blast_totals *t);

/* One row of a --steps ladder. */
struct step_row {
	uint64_t batch, sent, expected, received, duplicates;
	double total_s, send_s;
	int64_t p50_ns, p99_ns;
};

/* One trial of --find-limit (userspace/limit/limit.c): an open-loop run at an
 * offered rate (or, searching connections, a connection count), and why it
 * passed or failed. */
struct limit_trial {
	uint64_t offered;      /* msg/s asked for, or connections (--find-limit conns) */
	double achieved;       /* msg/s sent (connections held, for conns) */
	double acked_rate;     /* msg/s acked */
	double duration_s;     /* publish phase of the trial */
	uint64_t sent, acked, failed, unacked, not_sent;
	int64_t p50_ns, p99_ns, p999_ns; /* corrected latency (connect latency, for conns) */
	uint64_t retransmits;  /* real ones, from the wire probe, when on */
	uint64_t srtt_us;      /* wire probe: mean smoothed RTT of the trial's connections, 0 without */
	uint8_t pass;
	uint8_t conn_rate;     /* --find-limit conns, second stage: offered and achieved are
				* connections opened per second (--ramp asked, reached) */
	uint64_t conns;        /* --find-limit conns: connections the trial opened */
	char why[120];         /* the verdict's reason: "p99 71.2ms > 50ms", "backlog grew", "ok" */
	/* Rate trials: the run's own verdict on its bottleneck (stats/verdict.h),
	 * with its evidence, and the client's settings it ran with. */
	uint8_t judged;        /* bottleneck and evidence are set */
	uint8_t bottleneck;    /* enum bottleneck */
	uint8_t client_bound;  /* failed for the client's own reason, and blast could not widen */
	uint32_t inflight, workers;
	char widened[96];      /* failed for the client's reason: what the next trial changed
				* ("--inflight 256", "--workers 2"), or "" */
	char evidence[320];    /* the verdict's, and why blast could not go further */
};

/* A distributed run's agent (dist/coord.c), as its merged report names it. */
struct report_agent {
	const char *name;
	unsigned clock_samples;   /* time exchanges answered (0: offset unknown) */
	double clock_offset_ms;   /* its clock minus the coordinator's */
	double clock_uncertainty_ms;
	bool clock_beyond;        /* more than --max-clock-offset either way */
	bool lost;
	int exit_status;          /* its run's, -1 when it never said */
};

/* What a finished run hands to the report writers. */
/* A distributed run's coordinator, its own work (dist/coord_stats.c):
 * the report's "control" member. */
struct control_figures {
	unsigned agents;
	double run_s;                   /* GO sent .. every agent done or lost */
	uint64_t messages_in, bytes_in; /* from the agents, on the control link */
	uint64_t report_bytes_in;       /* ...of them the DONEs', each with a whole report */
	double messages_in_per_agent_s, bytes_in_per_agent_s;
	double bytes_in_per_agent_s_running; /* without the DONEs */
	unsigned merge_seconds;         /* the seconds the figures below are of */
	double merge_us_mean, merge_us_median, merge_us_max; /* merge work per second */
	double final_merge_ms;          /* the agents' reports merged */
};

struct blast_results {
	const struct blast_opts *opts;
	struct blast_totals t;
	double duration_s;        /* from the start of the publish schedule to the end of the drain */
	double publish_s;         /* from the start of the schedule to the last message sent */
	double startup_s;         /* from blast's launch to the start of the schedule */
	double all_up_s;          /* from launch until every worker had tried all its first
				   * connections: the time to open them all */
	double setup_user_s, setup_sys_s; /* the parent's CPU before it forked the workers */
	const struct hist *latency;     /* scheduled send -> ack (corrected for coordinated omission) */
	const struct hist *latency_raw; /* actual send -> ack (uncorrected) */
	const struct hist *connect;     /* TCP connect start -> CONNACK */
	const struct hist *stage[HS__COUNT]; /* each stage of it apart (NULL: not taken) */
	const char *tls_note;           /* the first TLS failure in words, NULL if none */
	const struct hist *e2e;         /* fan-out: send -> each receipt */
	const struct diag_run *diag;    /* the workers' view of themselves, NULL when not taken */
	const struct series *series;    /* the per-second series (report_emit sets it), or NULL */
	unsigned merged_reports;  /* `blast merge`: the reports added up (0: a run) */
	unsigned merged_shards;   /* ...and their --shard count (0: not split) */
	const struct report_agent *agents; /* a coordinator's: its agents, n_agents of them */
	unsigned n_agents;
	double max_clock_offset_ms;        /* ...and the bound on their clocks */
	const struct control_figures *control; /* a coordinator's merge, or NULL */
	uint64_t expected;        /* fan-out: receipts expected (sent x fanout) */
	double batch_s;           /* fan-out: first send -> last receipt */
	double send_s;            /* fan-out: first send -> last send */
	double first_send_wall_ms; /* the first message handed to a connection, wall clock
				    * (ms since the epoch); 0 when none was */
	const struct step_row *steps; /* --steps rows, n_steps of them */
	unsigned n_steps;
	uint64_t peak_conns;
	uint64_t rss_bytes;       /* peak resident memory of the workers, summed */
	int exit_status;          /* 0 ok, 1 when connections dropped or nothing was acked */
	const char *stop_reason;  /* "duration", "messages", "signal", "all_connections_lost", "acks_stalled" */
	/* The wire's view (witness/wire.h), NULL when not asked for. */
	const struct wire_stats *wire_probe; /* --probe */
	const struct wire_stats *wire_pcap;  /* --pcap, analysed after the run */
	/* --find-limit: every trial in the order run, and the answer. */
	const struct limit_trial *trials;
	unsigned n_trials;
	int limit_trial;          /* index of the highest sustainable trial, -1 if none passed */
	/* The failed trial that bounds the answer from above (the lowest rate
	 * failed, of the trials the search counted): 1 + its index, 0 when
	 * none (the ceiling). Its bottleneck says whose limit the answer is. */
	unsigned limit_bound_trial;
	/* --find-limit conns, second stage: 1 + the index of the highest
	 * connect rate held (0: none), its connect latency, why that stage ended. */
	unsigned limit_rate_trial;
	const struct hist *limit_rate_connect;
	const char *limit_rate_ended;
};

#endif
