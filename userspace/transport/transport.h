/* The transport: a stack of layers between a protocol's bytes and the TCP
 * socket the engine's ring reads and writes. TCP is the bottom layer;
 * WebSocket framing is one layer above it; a TLS layer slots in between
 * the two without the engine or the protocols knowing.
 *
 * Sends go down the stack: the protocol writes its bytes after the stack's
 * headroom, then each layer from the top down frames what the layers above
 * it wrote (in place, its header in the room left in front). Received
 * bytes go up: each layer unwraps and hands its payload to the layer
 * above; the top hands it to the protocol. A layer with a handshake (the
 * WebSocket upgrade, a TLS handshake) speaks first, once the layers below
 * it are up; the protocol speaks once every layer is up. */
#ifndef BLAST_TRANSPORT_H
#define BLAST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/opts.h"
#include "stats/stats.h"

#define TRANSPORT_MAX_LAYERS 4

struct tlink;
struct tstack;

/* What the layers need from whoever drives them (the engine), per worker. */
struct transport_env {
	const struct blast_opts *o;
	struct blast_totals *t;  /* counters a layer adds to (errors, HTTP status, close codes) */
	const uint64_t *now;     /* the driver's clock, ns */
	void *ctx;               /* handed back to every callback */
	/* A layer failed the connection; why is counted (ERR__COUNT: already counted). */
	void (*fail)(void *ctx, struct tlink *l, enum blast_err why);
	/* The top layer's payload: bytes of the protocol's stream (or whole
	 * messages, for a layer that delivers messages). 0, or < 0 when the
	 * connection was failed. */
	int (*deliver)(void *ctx, struct tlink *l, const uint8_t *p, size_t n);
	/* A layer came up (its handshake is done): the driver sends the next
	 * layer's hello (tlink_hello), or the protocol's once all are up. */
	void (*layer_up)(void *ctx, struct tlink *l);
	/* Receive timing: p's offset in the read being parsed (-1 when not
	 * in it), and "the message being handled ends at offset off". */
	int64_t (*rx_offset)(void *ctx, const uint8_t *p);
	void (*rx_mark_at)(void *ctx, int64_t off);
	/* Handshake stages a layer times itself (the TLS handshake, full or
	 * resumed): hist_record(stage[HS_...], ns). */
	struct hist *const *stage;
	/* The first failure's words ("certificate has expired"), for the
	 * parent to print once: a layer writes it while it is empty. */
	char *note;
	size_t note_cap;
};

/* One layer. Every hook but name may be NULL: no state, no handshake, no
 * framing (bytes pass unchanged), no control frames. i is the layer's
 * place in the stack, its state l->state[i]. */
struct transport_ops {
	const char *name;
	uint32_t headroom; /* most bytes its framing puts in front of a send */
	/* Per-connection state, at connect. 0 or -errno. */
	int (*open)(struct tlink *l, unsigned i);
	void (*close)(struct tlink *l, unsigned i);
	/* Its handshake's first bytes into out: bytes, 0 when it has none
	 * (it is up at once), or -errno. */
	ssize_t (*hello)(struct tlink *l, unsigned i, uint8_t *out, size_t cap);
	/* Bytes received during its handshake: the bytes of buf the handshake
	 * used once it is complete and accepted (the rest are payload), 0 when
	 * more are needed, < 0 when refused or malformed (counted). */
	ssize_t (*hello_feed)(struct tlink *l, unsigned i, const uint8_t *buf, size_t len);
	/* Frames data[*off, *len) in place: writes its header in front and
	 * moves *off back to where the frame starts (at most headroom bytes);
	 * a layer that grows what it frames (TLS records) may move *len up to
	 * room, the buffer's size (at most tailroom(cap) bytes more). 0, or
	 * < 0 when it cannot (the connection is failed by the caller). */
	int (*wrap)(struct tlink *l, unsigned i, uint8_t *data, uint32_t *off, uint32_t *len,
		    uint32_t room);
	/* Most bytes its framing adds after a send of cap bytes (NULL: 0). */
	uint32_t (*tailroom)(uint32_t cap);
	/* Run-wide state (per worker), made with the stack: 0 or -errno, with
	 * words in err. s->ctx[i] is its state. */
	int (*stack_open)(struct tstack *s, unsigned i, char *err, size_t err_cap);
	void (*stack_close)(struct tstack *s, unsigned i);
	/* Its handshake was cut short: the peer closed the connection
	 * (closed) or it outlived the handshake timeout. The reason to count
	 * (NULL: ERR_CONN_CLOSED, ERR_CONNECT_TIMEOUT). */
	enum blast_err (*cut_short)(struct tlink *l, unsigned i, bool closed);
	/* Received bytes: hands the payload up with tlink_up(l, i + 1, ...).
	 * 0, or < 0 when the connection was failed. */
	int (*unwrap)(struct tlink *l, unsigned i, const uint8_t *buf, size_t len);
	/* Control frames it owes (pongs, a close reply) into out: bytes. */
	size_t (*take_control)(struct tlink *l, unsigned i, uint8_t *out, size_t cap);
	/* What to count when the peer closes or resets the connection while
	 * this layer's handshake waits for its answer (0: conn_closed). */
	enum blast_err closed_in_hello;
	/* A clean close: the bytes that end its session (WebSocket's close
	 * frame, TLS's close_notify) into out, after the protocol's goodbye
	 * and before the layers below end theirs. */
	size_t (*bye)(struct tlink *l, unsigned i, uint8_t *out, size_t cap);
};

/* The layers every connection of a worker goes through, bottom first. */
struct tstack {
	const struct transport_ops *layer[TRANSPORT_MAX_LAYERS];
	unsigned n;
	uint32_t headroom;  /* the layers' headroom together */
	bool framed;        /* some layer frames the bytes: a cut send holds no whole message */
	bool wraps;         /* some layer wraps sends (tlink_wrap is needed) */
	bool byes;          /* some layer ends a clean close with bytes (tlink_bye is needed) */
	const struct transport_env *env;
	void *ctx[TRANSPORT_MAX_LAYERS]; /* each layer's run-wide state */
};

/* One connection's place in the stack. */
struct tlink {
	const struct tstack *s;
	const struct blast_target *target; /* where it connects (the upgrade names it) */
	uint32_t id;                       /* the connection's number */
	uint8_t up;                        /* layers whose handshake is done, from the bottom */
	void *state[TRANSPORT_MAX_LAYERS];
};

extern const struct transport_ops tcp_transport;
extern const struct transport_ops ws_transport;         /* a byte stream in binary frames */
extern const struct transport_ops ws_message_transport; /* the protocol frames its messages */
extern const struct transport_ops tls_transport;        /* TLS records (OpenSSL, memory BIOs) */

/* The stack o asks for: TCP, TLS above it for mqtts:// and wss:// targets,
 * and WebSocket above those for --transport ws or ws:// targets. env must
 * outlive the stack. 0, or -errno with words in err. */
int tstack_build(struct tstack *s, const struct blast_opts *o, const struct transport_env *env,
		 char *err, size_t err_cap);
/* Frees the layers' run-wide state. */
void tstack_free(struct tstack *s);
/* Bytes a send buffer of cap bytes needs after it for the layers' growth. */
uint32_t tstack_tailroom(const struct tstack *s, uint32_t cap);
/* The reason counted when a connection's transport handshake is cut
 * short: the peer closed (closed) or the handshake timeout ran out. */
enum blast_err tlink_cut_short(struct tlink *l, bool closed);

/* Opens every layer's state for a new connection. 0 or -errno. */
int tlink_open(struct tlink *l, const struct tstack *s, const struct blast_target *target,
	       uint32_t id);
/* Frees every layer's state (nothing when never opened). */
void tlink_close(struct tlink *l);
static inline bool tlink_is_up(const struct tlink *l)
{
	return l->s && l->up == l->s->n;
}
/* The next layer's handshake bytes, framed by the layers below it, into
 * data[*off, *len) (data holds room bytes, cap of them before the
 * tailroom): layers with nothing to say come up on the way. Returns 1
 * with bytes to send, 0 when every layer is up, or -errno. */
int tlink_hello(struct tlink *l, uint8_t *data, uint32_t cap, uint32_t room, uint32_t *off,
		uint32_t *len);
/* Frames a send whose bytes data[*off, *len) the protocol wrote (*off is
 * s->headroom); *off and *len become the bytes to send, within room.
 * 0, or -errno (the send cannot be made: fail the connection). */
int tlink_wrap(struct tlink *l, uint8_t *data, uint32_t *off, uint32_t *len, uint32_t room);
/* Received bytes from the socket, up the stack. 0, or < 0 when the
 * connection was failed. */
int tlink_recv(struct tlink *l, const uint8_t *buf, size_t len);
/* For layers: bytes for layer i (i == n: the protocol). */
int tlink_up(struct tlink *l, unsigned i, const uint8_t *buf, size_t len);
/* The counter for the peer closing the connection now: the handshaking
 * layer's cut_short or closed_in_hello, or conn_closed (reset:
 * conn_reset) once every layer is up or when that layer names none. */
enum blast_err tlink_closed_err(struct tlink *l, bool reset);
/* The answer to the protocol's hello on a stack without TLS is a TLS
 * alert: the port is TLS (counted as tls_server_plain_client by the
 * caller; the note says to use mqtts:// or wss://). */
bool tlink_plain_alert(struct tlink *l, const uint8_t *buf, size_t len);
/* A clean close: the layers' closing bytes from the top down (a WebSocket
 * close frame, then TLS's close_notify), each framed for the layers below
 * it, appended to the send data[0, len) (room bytes in all). The send's
 * new length. */
uint32_t tlink_bye(struct tlink *l, uint8_t *data, uint32_t len, uint32_t room);
/* Control frames the layers owe (pongs, a TLS handshake's next flight),
 * framed for the layers below each, into out (cap bytes before the
 * tailroom, room in all): bytes (0 when none). */
size_t tlink_take_control(struct tlink *l, uint8_t *out, size_t cap, size_t room);

/* TCP, the bottom: a socket for t with blast's options (no delay, and
 * past 10,000 connections to 127.x a spread of source addresses, as one
 * address runs out of ephemeral ports near 14,000). Returns the fd, or
 * -1 with *why set. */
int tcp_socket(const struct blast_target *t, uint32_t id, uint32_t conns, enum blast_err *why);
/* The counter for a failed connect (the ring's result, -errno). */
enum blast_err tcp_connect_error(int res);

#endif
