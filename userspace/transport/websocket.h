/* WebSocket as a transport under a protocol (MQTT over WebSocket): the
 * HTTP upgrade after TCP connect, then every send wrapped in one masked
 * binary frame and every received frame unwrapped before the protocol sees
 * its bytes. The engine calls these; they use the pure encoders in ws.h. */
#ifndef BLAST_WS_TRANSPORT_H
#define BLAST_WS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct worker;
struct conn;
struct chunk;

/* Room a send buffer keeps in front of its data for the frame header. */
#define WST_HEADROOM 14

/* Per-connection state: created at connect, freed by wst_conn_free. */
int wst_conn_init(struct worker *w, struct conn *c);
void wst_conn_free(struct conn *c);

/* The upgrade request for c's target. Bytes written, or -errno. */
ssize_t wst_upgrade_request(struct worker *w, struct conn *c, uint8_t *out, size_t cap);

/* Bytes received while upgrading. Returns the bytes of buf that belong to
 * the upgrade response once it is complete and accepted (the rest are
 * frames), 0 when more are needed, or < 0 when refused or malformed (the
 * reason has been counted). */
ssize_t wst_upgrade_feed(struct worker *w, struct conn *c, const uint8_t *buf, size_t len);

/* Wraps a chunk whose data starts at WST_HEADROOM into one masked binary
 * frame, and sets ch->off to where the frame starts. */
void wst_wrap(struct worker *w, struct chunk *ch);

/* Received frame bytes: data frames' payloads go to deliver() (which may
 * fail the connection: then it returns < 0 and so does this); a ping gets
 * its pong queued, a close is answered and counted. Returns 0, or < 0 when
 * the connection was failed. */
int wst_unwrap(struct worker *w, struct conn *c, const uint8_t *buf, size_t len,
	       int (*deliver)(struct worker *w, struct conn *c, const uint8_t *p, size_t n));

/* Control frames owed (pongs, a close reply): appended to out. Bytes. */
size_t wst_take_control(struct worker *w, struct conn *c, uint8_t *out, size_t cap);

#endif
