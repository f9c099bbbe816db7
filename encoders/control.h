/* The messages between `blast agent` and the coordinator (`blast --control
 * URL --agents N`), carried as MQTT payloads on the control broker
 * (docs/distributed.md). Pure: bytes in, bytes out; no I/O, no clocks.
 *
 * Every message: "BLCP", the protocol version (1), its type, then its
 * fields big-endian; a string or blob is a 16-bit (blob: 32-bit) length
 * and its bytes. Decoded strings and blobs point into the input (not
 * NUL-terminated). A decoder refuses anything malformed with a reason
 * (a static string), never reads past its input, and refuses bytes left
 * over: the caller counts the refusal and goes on. */
#ifndef BLAST_CONTROL_H
#define BLAST_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_MAGIC "BLCP"
#define CTL_VERSION 1
#define CTL_HEADER_LEN 6
#define CTL_MAX_ARGS 256      /* a run's flags in an assignment */
#define CTL_MAX_ERRORS 64     /* error reasons in a second */
#define CTL_MAX_BLOB (16u << 20) /* a histogram blob */

enum ctl_type {
	CTL_REGISTER = 1, /* agent: here I am (retained; its Last Will says bye) */
	CTL_HEARTBEAT,    /* agent: still here, in this state, each second */
	CTL_ASSIGN,       /* coordinator: run these flags, this share */
	CTL_READY,        /* agent: connected, waiting for GO */
	CTL_GO,           /* coordinator: start the schedule at t0 */
	CTL_SECOND,       /* agent: one second's counters and histogram */
	CTL_DONE,         /* agent: the run's end and its figures */
	CTL_BYE,          /* either: leaving, and why (from the coordinator: stop) */
	CTL_TIME_REQUEST, /* coordinator: your clock, please (t1: mine at sending) */
	CTL_TIME_REPLY,   /* agent: t1 back, t2 when it came, t3 when I answer */
	CTL__COUNT
};

/* An agent's state in its heartbeat. */
enum ctl_state { CTL_IDLE = 0, CTL_CONNECTING, CTL_WAITING_GO, CTL_RUNNING, CTL_FINISHED,
		 CTL__STATES };

struct ctl_str {
	const char *p;
	size_t len;
};

/* A share of a run (config/split.h's split_share, as numbers). */
struct ctl_share {
	uint32_t index, count;
	uint32_t conns, conn_base;
	uint64_t rate, messages;
	uint8_t has_messages;
	uint32_t publishers, publisher_base, receivers, receiver_base;
	uint32_t partitions, partition_base;
};

/* An error reason (stats.h's blast_err_names) and its count. */
struct ctl_err {
	struct ctl_str name;
	uint64_t count;
};

/* A second's or a run's counters. */
struct ctl_counts {
	uint64_t sent, acked, failed, unacked, errors, inflight, conns_up;
};

struct ctl_msg {
	uint8_t type;             /* enum ctl_type */
	struct ctl_str agent;     /* the agent's name (every message but GO and ASSIGN; the
				   * coordinator's own in its heartbeats and Will, the
				   * addressee's in a time request) */
	uint64_t run_id;          /* ASSIGN, READY, GO, SECOND, DONE */
	union {
		struct {
			struct ctl_str version; /* "blast 0.1": runs only merge between equals */
			uint32_t cores;
		} reg;
		struct {
			uint64_t seq;
			uint8_t state;   /* enum ctl_state */
		} hb;
		struct {
			struct ctl_str agent_to; /* the agent it is for */
			struct ctl_share share;
			uint32_t n_args;
			struct ctl_str args[CTL_MAX_ARGS]; /* the run's flags, as argv */
		} assign;
		struct {
			uint64_t t0_wall_ns; /* the schedule's start on the wall clock */
			uint32_t hb_timeout_ms; /* the run ends when the coordinator's heartbeat
						 * stops this long */
		} go;
		struct {
			uint32_t seq;        /* which round of the exchange */
			uint64_t t1, t2, t3; /* wall-clock ns: request sent (coordinator's
					      * clock), received and answered (agent's) */
		} time;
		struct {
			uint64_t wall_sec;   /* which second (seconds since the epoch) */
			uint32_t len_ms;     /* how much of it (a last second is shorter) */
			struct ctl_counts c; /* during it (inflight, conns_up: at its end) */
			struct ctl_str hist; /* HdrHistogram V2 compressed (encoders/hdrlog.h) */
			uint16_t n_errors;   /* the run's errors by reason so far, */
			struct ctl_err errors[CTL_MAX_ERRORS]; /* those not zero */
			struct ctl_str wire; /* --probe: the wire's latencies in it, V2 (may be empty) */
		} sec;
		struct {
			int32_t exit_status;
			struct ctl_counts c;
			struct ctl_str hist; /* the whole run's, V2 compressed */
			struct ctl_str report; /* its JSON report, whose exact figures merge */
		} done;
		struct {
			struct ctl_str reason;
		} bye;
	} u;
};

/* m into buf[0..cap): bytes written, -ENOSPC, or -EINVAL (a type out of
 * range, a string over 65535 bytes, more than CTL_MAX_ARGS args). */
ssize_t ctl_encode(const struct ctl_msg *m, uint8_t *buf, size_t cap);

/* buf[0..len) into *m: 0, or -EPROTO with *why set ("not a control
 * message", "unknown type", "truncated", ...). */
int ctl_decode(const uint8_t *buf, size_t len, struct ctl_msg *m, const char **why);

/* "register", "heartbeat", ...; "unknown" out of range. */
const char *ctl_type_name(unsigned type);

#endif
