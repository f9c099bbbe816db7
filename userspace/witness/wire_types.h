/* The capture witness's value types (wire_match.h is its API). */
#ifndef BLAST_WIRE_TYPES_H
#define BLAST_WIRE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wm_proto { WM_AUTO = 0, WM_MQTT, WM_KAFKA, WM_WS, WM_HTTP };
/* A flow's TLS: none (in the clear), or how its decryption ended. */
enum wm_tls { WM_TLS_NONE = 0, WM_TLS_DECRYPTED, WM_TLS_NO_KEY, WM_TLS_FAILED };

struct tls_keylog;

#define WM_MAX_PORTS 64
#define WM_MAX_HELD 64                 /* out-of-order segments held per direction */
#define WM_MAX_FRAME (64u << 20)       /* a frame declared longer is unparsed */

struct wm_opts {
	enum wm_proto proto;           /* WM_AUTO: by port, then by the first bytes */
	uint16_t ports[WM_MAX_PORTS];  /* server ports; none = every TCP flow */
	unsigned n_ports;
	/* Keep every ack's latency per flow, for wm_flow_rows' percentiles:
	 * 16 bytes an ack (a Produce response counts once), where without it
	 * memory is bounded by what is in flight. */
	bool flow_rows;
	/* --keylog: TLS flows whose keys it holds are decrypted and matched
	 * as in the clear; NULL: TLS flows are counted, not read. */
	const struct tls_keylog *keylog;
};

/* Figures beyond struct wire_stats, for `blast analyze`. */
struct wm_counts {
	uint64_t packets;      /* packets in the file */
	uint64_t tcp;          /* TCP segments on the flows analysed */
	uint64_t bad_packets;  /* headers cut short or inconsistent */
	uint64_t req_frames;   /* MQTT PUBLISH frames, Kafka Produce requests, WebSocket messages with a header, HTTP requests */
	uint64_t ack_frames;   /* PUBACK + PUBCOMP frames, Produce responses, receipts, HTTP responses */
	uint64_t pending;      /* requests still awaiting their ack at the end */
	uint64_t flows_by_proto[5]; /* index enum wm_proto (WM_AUTO: not recognised) */
	uint64_t first_ns, last_ns; /* capture time span */
	/* What makes the figures partial (see analyze_warnings): */
	uint64_t gaps;         /* stream holes: bytes a peer acknowledged, or the snap
				* length cut, that the capture does not have */
	bool drops_known;      /* the file records its drops (pcapng ISB) */
	uint64_t ifdrop, osdrop; /* those drops: by the interface, by the capture */
	char read_err[160];    /* the file's corrupt or truncated tail, "" if none:
				* the figures are what was read before it */
	/* TLS flows not decrypted (struct wire_stats counts them): the first
	 * few named, "client -> server", and for failures why. */
	char tls_no_key_names[200];
	char tls_failed_names[320];
};

/* One connection's row: who talked to whom, and its share of the
 * requests and acks (a WebSocket receipt counts on the flow it arrived
 * by, so the rows add up to the totals). */
struct wm_flow_row {
	uint8_t family;                    /* 4 or 6 */
	uint8_t client_addr[16], server_addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t client_port, server_port;
	enum wm_proto proto;               /* WM_AUTO: not recognised */
	uint64_t requests, acks;
	uint64_t timed;                    /* acks with a latency (not QoS 0, acks=0) */
	int64_t p50_ns, p99_ns;            /* 0 without wm_opts.flow_rows or timed acks */
	enum wm_tls tls;                   /* WM_TLS_NONE: in the clear */
};

#endif
