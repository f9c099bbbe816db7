/* What the engine asks of a protocol. The engine owns sockets, buffers,
 * the schedule and the accounting; a protocol owns the bytes. MQTT is the
 * first; every protocol plugs in the same way (protocol/registry.c). */
#ifndef BLAST_ENGINE_PROTOCOL_H
#define BLAST_ENGINE_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct worker;
struct conn;
struct chunk;
struct blast_opts;

struct proto_ops {
	const char *name;
	/* Per-worker preparation (payload templates). 0 or -errno. */
	int (*setup)(struct worker *w);
	/* The first bytes on a new connection (MQTT CONNECT). Bytes or -errno. */
	ssize_t (*hello)(struct worker *w, struct conn *c, uint8_t *out, size_t cap);
	/* Length of the frame starting at buf: > 0 total length (the frame may
	 * not be all there yet), 0 header incomplete, < 0 malformed. */
	ssize_t (*frame_total)(const uint8_t *buf, size_t len);
	/* One whole frame from the broker. 0, or < 0 when the connection was
	 * failed by the callee (it has counted why). */
	int (*on_frame)(struct worker *w, struct conn *c, const uint8_t *frame, size_t len);
	/* Appends owed control frames, then up to n messages numbered from
	 * first into ch. Returns how many messages it wrote. NULL when the
	 * protocol builds its sends in its own pump. */
	uint32_t (*fill)(struct worker *w, struct conn *c, struct chunk *ch, uint64_t first, uint32_t n);
	/* Counts the whole messages among the first len bytes of a chunk (the
	 * part a broken connection did write); used without on_written. */
	uint32_t (*count_msgs)(const uint8_t *buf, size_t len);
	/* Polite goodbye (MQTT DISCONNECT), and a keepalive probe. Bytes or
	 * -errno; either may be NULL (nothing to say). */
	ssize_t (*goodbye)(struct worker *w, struct conn *c, uint8_t *out, size_t cap);
	ssize_t (*ping)(struct worker *w, struct conn *c, uint8_t *out, size_t cap);
	/* Does the connection owe control frames (PUBREL)? May be NULL. */
	int (*has_control)(const struct conn *c);

	/* Optional hooks; NULL means the engine's MQTT-shaped default. */
	/* The common answers in bulk (a run of plain acks): takes whole
	 * frames from the start of buf and returns the bytes it took; 0
	 * leaves the next frame to on_frame. */
	size_t (*on_run)(struct worker *w, struct conn *c, const uint8_t *buf, size_t len);
	/* Where this worker's connections go (w->addrs, w->n_addrs), how many
	 * it opens (w->n_conns), whether a lost one is always reopened; then
	 * each one's target and number (place_conn, after the engine's
	 * c->idx = i * workers + id, c->target = c->idx % n_addrs). NULL:
	 * --conns shared over the --target list (and fan-out's nodes). */
	int (*place)(struct worker *w);
	void (*place_conn)(struct worker *w, struct conn *c, uint32_t i);
	/* Send buffer size for o; NULL sizes it by connection count. */
	uint64_t (*chunk_size)(const struct blast_opts *o);
	/* Whether the run times arrivals (acks, receipts) with kernel
	 * stamps; NULL: qos > 0 or fan-out. */
	bool (*times_arrivals)(const struct blast_opts *o);
	/* Every send waits on a response: the loop never batches its waits. */
	bool sends_wait;
	/* Hands out due messages itself (routing each message to the
	 * connection of its partition's leader, say). */
	void (*pump)(struct worker *w);
	/* What c carried when it broke (lost) or when the run ended: a
	 * protocol may requeue lost messages elsewhere instead of failing them. */
	void (*conn_settle)(struct worker *w, struct conn *c, bool lost);
	/* A chunk was written (whole or written bytes only): acks=0 counts. */
	void (*on_written)(struct worker *w, struct conn *c, struct chunk *ch, uint32_t written);
	/* The server ended the stream (TCP FIN) on a ready connection: true
	 * when the protocol took care of it (HTTP: the end of a body read to
	 * the close, or a keep-alive connection ended between requests, which
	 * it reopens with conn_reopen); false fails it as conn_closed. */
	bool (*on_eof)(struct worker *w, struct conn *c);
	/* Nothing queued in the protocol itself (drain can end). */
	bool (*idle)(const struct worker *w);
	/* Earliest time the protocol wants the loop awake (linger), or 0. */
	uint64_t (*next_wakeup)(const struct worker *w);
	void (*teardown)(struct worker *w);
};


#endif
