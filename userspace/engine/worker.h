/* A worker: one process, one io_uring, a share of the connections and of
 * the message schedule. Every socket operation goes through the ring; the
 * loop waits in io_uring_enter with a timeout set to the next thing due. */
#ifndef BLAST_WORKER_H
#define BLAST_WORKER_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "stats/diag.h"
#include "stats/hist.h"
#include "config/opts.h"
#include "engine/rxseg.h"
#include "engine/rxstamp.h"
#include "stats/shm.h"
#include "stats/stats.h"
#include "transport/transport.h"

enum conn_state {
	CS_IDLE = 0,    /* not opened yet, or waiting to reconnect */
	CS_CONNECTING,  /* TCP connect submitted */
	CS_TRANSPORT,   /* a transport layer's handshake is going */
	CS_HANDSHAKE,   /* protocol hello (CONNECT) sent, waiting for the answer */
	CS_READY,       /* publishing */
	CS_CLOSING,     /* goodbye queued; closes when the send completes */
	CS_DEAD,        /* broken; waiting for outstanding ring operations */
	CS_DONE,        /* closed for good */
};

/* A message awaiting its ack. */
struct msg_slot {
	uint64_t intended_ns; /* when the schedule wanted it sent */
	uint64_t sent_ns;     /* when it was actually queued */
	uint16_t id;          /* MQTT packet id */
	uint8_t state;        /* 0 free, 1 awaiting PUBACK/PUBREC, 2 awaiting PUBCOMP */
};

/* A send buffer. A connection holds one while its send is in flight; the
 * buffer must not move until the kernel is done with it. */
struct chunk {
	struct chunk *next;   /* free list */
	uint32_t cap;         /* bytes data[] holds */
	uint32_t len;         /* bytes filled */
	uint32_t room;        /* bytes data[] holds: cap, then the transport's tailroom */
	uint32_t off;         /* bytes already written */
	uint32_t n_msgs;      /* publishes in it (qos 0 counts them acked when written) */
	uint32_t n_frames;    /* all frames in it */
	uint64_t first_msg;   /* schedule index of its first publish */
	uint64_t queued_ns;   /* when it was filled */
	uint8_t data[];
};

/* A connection's quick ACKs (quickack.c), zeroed when it opens: the peer
 * was seen to send answers without waiting for an ACK, or to wait;
 * answers were outstanding at its last read. */
struct conn_qack {
	uint8_t peer_pushes : 1;
	uint8_t peer_waits : 1;
	uint8_t rx_owed : 1;
	uint8_t in_ackq : 1;
	uint8_t reads;       /* reads since it opened, up to the probation */
	uint8_t proofs;      /* reads judged to show a peer sending unacked */
	uint64_t t_quickack; /* its last quick ACK */
	uint64_t t_last_read;
};

struct conn {
	int fd;
	uint32_t idx;          /* global connection number: {conn} */
	uint8_t state;         /* enum conn_state */
	uint8_t target;
	uint8_t recv_armed : 1;
	uint8_t in_sendq : 1;
	uint8_t goodbye_sent : 1;
	uint8_t ever_ready : 1;
	uint8_t in_reopenq : 1;
	uint8_t churn_reserved : 1; /* churn: this open is owed one message */
	uint8_t short_write : 1; /* its send found the socket's buffer full */
	uint8_t ops;           /* ring operations in flight on this connection */
	uint32_t inflight;     /* messages awaiting an ack */
	uint32_t window;       /* most messages in flight: --inflight, or less if the broker says so */
	uint32_t attempts;     /* failed connection attempts in a row */
	uint32_t sendq_next;   /* intrusive FIFO link, UINT32_MAX = end */
	uint8_t avail_wait;    /* enum diag_wait: what it waited for before it last came free */
	uint64_t avail_ns;     /* when it came free */
	uint64_t t_connect;    /* connect start: connect latency, handshake deadline */
	uint64_t t_hello;      /* the protocol's hello sent (0: none): its handshake's time */
	uint64_t t_retry;      /* when to reconnect (CS_IDLE) */
	uint64_t t_last_tx;    /* keepalive */
	struct chunk *tx;      /* send in flight */
	struct chunk *tx_after; /* a protocol's send waiting for the control bytes owed before it */
	uint8_t *carry;        /* bytes of a frame that straddles receives */
	uint32_t carry_len, carry_cap;
	/* Ack bookkeeping (qos > 0), allocated when the connection is ready. */
	struct msg_slot *slots; /* [w->slot_cap] */
	uint16_t *free_slots;   /* stack of free slot indices */
	uint16_t *rel_pending;  /* qos 2: packet ids owed a PUBREL */
	uint32_t n_free, n_rel;
	uint16_t *gen;          /* per slot: packet id generation */
	uint8_t ctl[8];         /* one small control frame to send (PINGREQ) */
	uint8_t ctl_len;
	uint8_t churn_done : 1; /* churn: this cycle's message is acked */
	void *pstate;           /* the protocol's per-connection state */
	struct tlink tl;        /* its place in the transport stack */
	uint8_t hello_owed : 1; /* upgraded while a send was in flight */
	uint8_t listener : 1;   /* fan-out: receives only */
	uint8_t reopen : 1;     /* closed in good order by conn_reopen: open it again */
	uint64_t t_hold;        /* takes no message before this (a protocol's pause) */
	uint64_t received;      /* fan-out: first receipts on this connection */
	uint8_t seg_stamped : 1; /* the segment-stamp filter is on its socket */
	struct conn_qack qa;
	struct rxseg_cur rxs;   /* its place in its ring of segment stamps */
};

struct worker {
	const struct blast_opts *o;
	const struct proto_ops *p;
	const struct blast_target *addrs; /* where connections go: --target, or as the protocol places them */
	uint32_t n_addrs;
	void *shared;              /* the protocol's run-wide state, made by the parent */
	void *pstate;              /* the protocol's per-worker state */
	bool always_reconnect;     /* a lost connection is always reopened (the protocol says) */
	struct tstack ts;          /* the transport's layers */
	struct transport_env tenv; /* what they may ask of this worker */
	struct shm *shm;
	struct worker_slot *slot;
	unsigned id, n_workers;
	struct io_uring ring;
	bool ring_ok;

	struct conn *conns;
	uint32_t n_conns;      /* connections this worker owns */
	uint32_t next_open;    /* next conn index to open for the first time */
	uint32_t connecting;   /* handshakes in flight (bounded) */
	uint32_t max_connecting;
	uint32_t live;         /* conns not CS_DONE and not failed for good */
	uint64_t churn_reserved; /* churn: opens in progress that will each take a message */

	/* Send queue: ready connections that can take messages or owe control frames. */
	uint32_t sendq_head, sendq_tail, sendq_len;

	/* Send buffers. */
	struct chunk *free_chunks;
	struct chunk *free_small;  /* for control frames alone (DISCONNECT, PINGREQ) */
	uint32_t chunk_size, chunks_alloc;

	/* Provided receive buffers (one group for every connection). */
	struct io_uring_buf_ring *br;
	uint8_t *rbufs;
	uint32_t rbuf_size, rbuf_count;
	uint32_t *rearm; uint32_t n_rearm; /* connections whose multishot recv ended on ENOBUFS */
	uint32_t *ackq; uint32_t n_ackq;   /* quickack.c: connections owed answers without a quick ACK */
	/* Receipt timing (rxstamp.h): the recvmsg layout, the clock offset,
	 * and the arrival time of the read being parsed (0 outside one). */
	struct msghdr rx_msg;
	struct rx_clock rxc;
	uint64_t rx_ns;
	bool stamp_reads;         /* sockets ask for receive stamps: the run times something it reads */
	/* Segment stamps (rxseg.h), when loaded: the read being parsed, the
	 * sequence number of its first byte, and where in it the message
	 * being handled ends (worker_rx_mark). */
	struct rxseg *rxs;
	struct conn *rx_conn;
	const uint8_t *rx_buf;
	uint32_t rx_len, rx_mark, rx_seq0;
	bool rx_seg;              /* rx_conn's read can be timed by segment */
	uint64_t rx_first_ns, rx_last_ns; /* its first and last message's segment stamps */
	uint64_t batch_ns;        /* longest batched wait */
	unsigned last_reaped;     /* completions the last loop turn handled */
	uint32_t sends_fresh;     /* sends in the ring that are not the rest of a short write */
	uint32_t sends_rest;      /* sends in the ring that are the rest of a short write */
	bool batch_ok;            /* reads are sized for batched waits (worker.c) */
	/* Connections to reopen now (churn, or a reconnect whose backoff ran out). */
	uint32_t *reopenq;
	uint32_t reopen_head, reopen_len;

	/* Message schedule. */
	uint64_t t_ramp_start;
	uint64_t t0;           /* schedule start (0 = not started) */
	uint64_t rate;         /* this worker's share of --rate, 0 = unlimited */
	uint64_t pace_batch_ns; /* --pace-batch, or what auto makes of this worker's rate */
	uint64_t limit;        /* this worker's share of --messages, UINT64_MAX = none */
	uint64_t next_msg;     /* schedule index of the next message to assign */
	uint64_t t_end;        /* end of the publish phase (duration) */
	uint64_t t_drain_end;
	uint64_t t_close_end;
	/* --messages without --duration: the last change of what counts as
	 * progress, and when it came (see acks_stalled in phase.c). */
	uint64_t progress_mark, t_progress;
	uint32_t phase;        /* enum worker_phase */
	uint32_t slot_cap;     /* ack slots per connection */
	uint64_t slot_cap_m;   /* worker_slot_mod's multiplier for slot_cap */
	uint32_t chunk_msgs;   /* upper bound of messages per chunk */
	uint32_t batch_min;    /* unpaced qos > 0: fewest messages worth a send */
	/* Closed-loop pipelining (HTTP --pipeline): each connection's window
	 * is refilled whole, and with segment stamps the loop sleeps until
	 * about a quarter of what is in flight is answered (loop.c). */
	bool refill_whole;
	uint64_t answer_ns;              /* time per answer, smoothed */
	uint64_t answers_per_recv16;     /* answers a receive brings, x16, smoothed */
	uint64_t answers_seen, t_answers_seen;
	uint64_t recvs_data, recvs_seen; /* receives that brought bytes */

	/* Room for a topic or client id once expanded (at most 65535 bytes). */
	char *scratch;
	uint64_t run_pid;      /* the blast process that forked this worker: {pid} */
	/* Protobuf payloads: one generator per worker, and its output buffer. */
	struct payload_gen *pgen;
	uint8_t *pbuf;
	size_t pbuf_cap;
	/* Payload template (sized payloads). */
	uint8_t *payload;
	uint32_t payload_len;
	uint64_t payload_next; /* --payload-file line cursor */

	/* Figures. */
	struct blast_totals t;
	struct hist *interval;     /* corrected latency, current second */
	struct hist *interval_raw; /* uncorrected latency, current second */
	struct hist *interval_e2e; /* fan-out: end-to-end latency, current second */
	struct hist *latency, *latency_raw, *connect, *e2e;
	struct hist *stage[HS__COUNT]; /* enum hs_stage: opening a connection, stage by stage */
	uint64_t first_send_ns, last_recv_ns;
	struct blast_target *fan_addrs; /* fan-out: the first target, then --listen-target */
	uint64_t t_next_publish;   /* next counters publish */
	uint64_t t_next_second;    /* next interval boundary */
	uint64_t t_next_scan;      /* next timeout/keepalive scan */
	uint32_t scan_next;        /* where the next scan's slice begins */
	uint64_t last_send_ns;
	uint64_t peak_conns;
	uint64_t now;              /* cached at each loop turn */
	struct diag_worker ms;     /* the worker's view of itself (engine/measure.h) */
};

/* Runs worker id of n until its part of the run is over; writes its final
 * figures into shm->w[id]. Returns the process exit status. */
int worker_run(const struct blast_opts *o, struct shm *shm, unsigned id, unsigned n,
	       const struct proto_ops *p, void *shared);

/* Used by the protocol code. */
/* When the message being parsed arrived: the stamp of the segment that
 * completed it, else the kernel's stamp of the read that brought it. The
 * time to record a receipt or an ack at. Outside a receive, now. */
uint64_t worker_rx_ns(struct worker *w);
/* The message being handled ends at p: if p lies in the read being
 * parsed, it is timed by the segment holding the byte before p. */
void worker_rx_mark(struct worker *w, const uint8_t *p);
/* The same by offset from the read's first byte (clamped to the read). */
void worker_rx_mark_at(struct worker *w, int64_t off);
/* p's offset in the read being parsed, or -1 when p is not in it. */
int64_t worker_rx_offset(const struct worker *w, const uint8_t *p);
struct chunk *worker_chunk_get(struct worker *w);
#define SMALL_CHUNK 256
#define SCRATCH_LEN (65535 + 1)
void conn_fail(struct worker *w, struct conn *c, enum blast_err why);
void conn_sendq_push(struct worker *w, struct conn *c);
/* A message acked (or refused): frees its slot, records latency. */
void conn_msg_done(struct worker *w, struct conn *c, struct msg_slot *s, bool ok);
/* Every message awaiting an ack on c becomes failed (lost) or unacked:
 * the engine's settle, for a protocol's own conn_settle to call. */
void conn_settle_slots(struct worker *w, struct conn *c, bool lost);
/* n messages acked, in arrival order: conn_msg_done(ok) for each of
 * c->slots[slots[i]], whose state the caller has already cleared (so a
 * repeated id in the same run is caught by the caller), timed as ending
 * at offset ends[i] of the read being parsed (-1: not in it, like
 * worker_rx_mark). */
void conn_acks_done(struct worker *w, struct conn *c, const uint16_t *slots, const int32_t *ends,
		    uint32_t n);
/* The server ended c in good order (an HTTP server's Connection: close):
 * whatever still awaits an answer on it is failed, and it is closed and
 * opened again at once while the run goes on. Not a dropped connection;
 * counted in reconnects. */
void conn_reopen(struct worker *w, struct conn *c);
/* The handshake answer arrived and accepted the connection. */
void conn_handshake_done(struct worker *w, struct conn *c);
/* After acks: send owed control frames, or queue the connection for more
 * messages, or (churn) say goodbye. */
void conn_kick(struct worker *w, struct conn *c);
/* x % cap without a division, m = UINT64_MAX / cap + 1 (Lemire's
 * fastmod; exact for any 32-bit x and cap): an ack finds its slot from
 * its id once per message. */
static inline uint32_t slot_mod(uint32_t x, uint32_t cap, uint64_t m)
{
	return (uint32_t)(((unsigned __int128)(m * x) * cap) >> 64);
}
/* x % w->slot_cap. */
static inline uint32_t worker_slot_mod(const struct worker *w, uint32_t x)
{
	return slot_mod(x, w->slot_cap, w->slot_cap_m);
}
/* Where the corrected latency of message idx, handed out now, starts:
 * its scheduled time, or now if it leaves ahead of it (engine/sched.h). */
uint64_t worker_msg_start(const struct worker *w, uint64_t idx);
/* How many messages may be handed out by now. */
uint64_t worker_sched_sendable(const struct worker *w);
/* The engine's own hand-out of due messages, for a protocol whose pump
 * hook does something first (releases the connections it held). */
void pump_default(struct worker *w);
/* Sends a filled chunk (its bytes at [off, len), written after the
 * stack's headroom) on a connection that has no send in flight, framed
 * by the transport (TLS records) first. Control bytes the transport owes
 * (a TLS handshake's last flight) leave before it, in a send of their own.
 * When it cannot be framed the chunk is put back and the connection
 * failed: false. */
bool conn_send_chunk(struct worker *w, struct conn *c, struct chunk *ch);
void worker_chunk_put(struct worker *w, struct chunk *ch);

#endif
