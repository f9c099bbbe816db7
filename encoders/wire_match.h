/* The capture witness: TCP streams reassembled from captured packets, and
 * each request matched with its ack (MQTT PUBLISH -> PUBACK / PUBCOMP by
 * packet id per connection, Kafka Produce -> response by correlation id
 * per connection, WebSocket messages carrying blast's "BLWS" header -> every
 * receipt on any connection). No I/O: packets come in as pcap_pkt, the
 * figures go out as struct wire_stats (userspace/wire.h). Memory grows
 * with what is in flight and bounded per stream; whatever the bytes are,
 * nothing is read outside them.
 *
 * Reassembly: by sequence number per direction. A segment wholly seen
 * before is a retransmit (counted, dropped); an overlap keeps only the new
 * bytes; a segment ahead of the stream is held (up to WM_MAX_HELD); a hole
 * that does not fill, or bytes the capture snapped off, are a gap: counted
 * as unparsed, and the parser resynchronises at the next segment. */
#ifndef BLAST_WIRE_MATCH_H
#define BLAST_WIRE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "pcapfile.h"
#include "wire.h"

enum wm_proto { WM_AUTO = 0, WM_MQTT, WM_KAFKA, WM_WS };

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
};

/* Figures beyond struct wire_stats, for `blast analyze`. */
struct wm_counts {
	uint64_t packets;      /* packets in the file */
	uint64_t tcp;          /* TCP segments on the flows analysed */
	uint64_t bad_packets;  /* headers cut short or inconsistent */
	uint64_t req_frames;   /* MQTT PUBLISH frames, Kafka Produce requests, WebSocket messages with a header */
	uint64_t ack_frames;   /* PUBACK + PUBCOMP frames, Produce responses, receipts */
	uint64_t pending;      /* requests still awaiting their ack at the end */
	uint64_t flows_by_proto[4]; /* index enum wm_proto (WM_AUTO: not recognised) */
	uint64_t first_ns, last_ns; /* capture time span */
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
};

struct wm;

/* NULL when out of memory. */
struct wm *wm_new(const struct wm_opts *o);
void wm_packet(struct wm *m, const struct pcap_pkt *p);
/* Figures so far (source WIRE_PCAP). c may be NULL. */
void wm_result(struct wm *m, struct wire_stats *out, struct wm_counts *c);
/* The flows analysed (not those --port leaves out), in the order first
 * seen: *rows is malloc'd, NULL when there are none. 0 or -ENOMEM. */
int wm_flow_rows(const struct wm *m, struct wm_flow_row **rows, size_t *n);
void wm_free(struct wm *m);

/* A whole capture file held in memory: 0, -EPROTO (err says why: a
 * corrupt or truncated file), -ENOMEM. c and rows may be NULL; *rows and
 * *n_rows as wm_flow_rows gives them (the caller frees *rows). */
int wm_analyze_buffer(const uint8_t *buf, size_t len, const struct wm_opts *o,
		      struct wire_stats *out, struct wm_counts *c, struct wm_flow_row **rows,
		      size_t *n_rows, char *err, size_t err_cap);

const char *wm_proto_name(enum wm_proto p);

#endif
