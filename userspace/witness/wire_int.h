/* Internals shared by the capture witness's files: wire_match.c (flows,
 * TCP streams, the table of requests awaiting acks, the API) and
 * wire_parse.c (MQTT, Kafka and WebSocket frames matched) and wire_http.c
 * (HTTP/1.1 requests and responses). Not an API. */
#ifndef BLAST_WIRE_INT_H
#define BLAST_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats/wire.h"
#include "witness/wire_types.h"

struct http_dec;

#define PARSE_ERR ((size_t)-1)
#define HTTP_MAX 16384 /* an upgrade, or an HTTP request's or response's head, longer than this is not one */
#define WM_RTX_KEPT 8  /* retransmitted ranges a direction remembers for DSACKs */

struct held {
	uint32_t seq;
	size_t cap, wire;
	uint64_t ts;
	uint8_t *data;
};

struct dir {
	bool seq_known;
	bool resync;     /* after a gap: the next bytes may not start a frame */
	bool http_done;  /* WebSocket: the upgrade's header block is behind */
	uint32_t next;   /* sequence number of the next byte expected */
	bool acked_known, fin;
	uint32_t acked;  /* the peer's highest ACK of this direction */
	uint32_t fin_end; /* sequence number of the FIN seen */
	uint8_t *buf;    /* bytes of a frame not yet whole */
	size_t len, cap;
	uint64_t buf_ts; /* when buf[0] was seen */
	struct held *held;
	unsigned n_held;
	/* MQTT over WebSocket: the messages' bytes, an MQTT stream of their own. */
	uint8_t *inner;
	size_t inner_len, inner_cap;
	uint64_t inner_ts;
	bool started;    /* bytes were delivered (the first ones may open TLS) */
	/* The last retransmitted ranges, [lo, hi), until a DSACK names one. */
	uint32_t rtx[WM_RTX_KEPT][2];
	unsigned n_rtx;
};

/* One timed ack, kept with wm_opts.flow_rows. */
struct wm_sample {
	int64_t ns;
	uint64_t n; /* acks it stands for (a Produce response's records) */
};

struct flow {
	uint8_t family;
	uint8_t addr[2][16];
	uint16_t port[2];
	int8_t client;    /* side that opened the connection */
	bool client_sure; /* seen in a SYN or in the first bytes, not guessed */
	bool ignored;     /* not on a --port */
	uint8_t proto;    /* enum wm_proto; WM_AUTO until recognised */
	uint8_t mqtt_v;   /* CONNECT's protocol level, 0 until seen */
	bool given_up;    /* first bytes recognised nothing */
	bool ws_mqtt;     /* WebSocket carrying MQTT (a client's first message is a CONNECT) */
	bool ws_checked;  /* the client's first WebSocket message was looked at */
	struct dir d[2];
	struct tls_flow *tls; /* opened with a ClientHello; NULL in the clear */
	/* HTTP/1.1: requests and responses so far, which pair by number, and
	 * the server side's decoder (encoders/http.h), once it has spoken. */
	uint64_t http_req, http_resp;
	struct http_dec *hdec;
	bool http_eof;     /* the server's FIN was given to hdec */
	uint64_t requests, acks; /* this flow's share of the totals */
	/* With wm_opts.flow_rows: every ack's latency, for the flow's percentiles. */
	struct wm_sample *lat;
	size_t n_lat, lat_cap;
};


/* Requests awaiting an ack: (a, b) -> when, how many messages. */
enum { K_MQTT = 1, K_KAFKA = 2, K_WS = 3, K_HTTP = 4 };
enum { P_EMPTY = 0, P_USED, P_TOMB };
enum { KF_OTHER = 0, KF_PRODUCE, KF_ACKS0 };

/* A Produce request's records per partition, to ack only what the
 * response accepted. */
struct kpart {
	uint32_t topic; /* hash of the topic name */
	int32_t partition;
	uint32_t records;
};

struct pend {
	uint64_t a, b;
	uint64_t ts;
	uint32_t n;     /* Kafka: records; WebSocket: receipts so far */
	uint8_t state, flags;
	int16_t ver;    /* Kafka: the request's version, for its response */
	uint32_t n_parts;
	struct kpart *parts;
};

struct wm {
	struct wm_opts o;
	struct wire_stats s;
	struct wm_counts c;
	struct flow **flows;
	size_t n_flows, flows_cap;
	uint32_t *fslots; /* flow index + 1, 0 = empty */
	size_t fslots_cap;
	struct pend *p;
	size_t p_cap, p_used, p_tombs;
	bool oom;
};

/* In-order bytes of a direction in the clear (or decrypted), to the
 * protocol's parser (wire_match.c). */
void wm_deliver_clear(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		      size_t n, uint64_t ts);

/* TLS flows (wire_tls.c). wm_tls_start: do a flow's first bytes open TLS?
 * Then it takes them, and every later byte, through wm_tls_feed. */
bool wm_tls_start(struct wm *m, struct flow *f, int side, const uint8_t *p, size_t n);
void wm_tls_feed(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		 size_t n, uint64_t ts);
void wm_tls_gap(struct flow *f, int side);
/* The TLS counts and names, at the end. */
void wm_tls_result(const struct wm *m, struct wire_stats *s, struct wm_counts *c);
enum wm_tls wm_tls_of(const struct flow *f);
void wm_tls_free(struct flow *f);

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static inline uint64_t flow_key(int kind, uint32_t flow, int side)
{
	return (uint64_t)kind << 56 | (uint64_t)flow << 1 | (uint64_t)side;
}

#endif
