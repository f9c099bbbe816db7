/* The capture witness: TCP streams reassembled from captured packets, and
 * each request matched with its ack (MQTT PUBLISH -> PUBACK / PUBCOMP by
 * packet id per connection, Kafka Produce -> response by correlation id
 * per connection, WebSocket messages carrying blast's "BLWS" header -> every
 * receipt on any connection). No I/O: packets come in as pcap_pkt, the
 * figures go out as struct wire_stats (stats/wire.h). Memory grows
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

#include "encoders/pcapfile.h"
#include "stats/wire.h"
#include "witness/wire_types.h"

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
 * corrupt or truncated file with no packet before the damage), -ENOMEM.
 * A file damaged after some packets gives 0 and their figures, with
 * c->read_err saying what stopped the reading. c and rows may be NULL; *rows and
 * *n_rows as wm_flow_rows gives them (the caller frees *rows). */
int wm_analyze_buffer(const uint8_t *buf, size_t len, const struct wm_opts *o,
		      struct wire_stats *out, struct wm_counts *c, struct wm_flow_row **rows,
		      size_t *n_rows, char *err, size_t err_cap);

const char *wm_proto_name(enum wm_proto p);

#endif
