/* bpf/wire_probe.h: the ABI between bpf/wire_probe.bpf.c and
 * userspace/witness/probe.c (maps, keys, values, counters). Fixed-width types only,
 * explicit padding, no pointers; both compilers check the sizes. */
#ifndef BLAST_WIRE_PROBE_H
#define BLAST_WIRE_PROBE_H

#include <linux/types.h>

/* What a flow carries, from the targets map (set by userspace). */
enum wp_proto { WP_NONE = 0, WP_MQTT, WP_KAFKA, WP_WS, WP_MQTT_WS, WP_HTTP };

/* A target blast connects to: address (IPv4 in addr[0], the rest 0) and
 * port, network order. Value: enum wp_proto. */
struct wp_target {
	__u32 addr[4];
	__u16 port;
	__u16 family; /* AF_INET or AF_INET6 */
};

/* One of blast's connections: client side first, network order. */
struct wp_flow_key {
	__u32 caddr[4];
	__u32 saddr[4];
	__u16 cport;
	__u16 sport;
	__u32 family;
};

#define WP_CARRY 128 /* room for a 64-byte frame head at any offset below 64 */
#define WP_HEAD 64   /* bytes of a frame's start parsed at most */

/* WP_D_H1: an HTTP/1.1 stream, scanned byte by byte for "HTTP/1." (the
 * request line's version from the client, the status line's from the
 * server); kcorr counts the matches, http_match the bytes matched. */
enum wp_dir_state { WP_D_FRAMES = 0, WP_D_HTTP, WP_D_DEAD, WP_D_H1 };

/* Where a walk through a Kafka Produce request is: each step parses one
 * item (a header, a string, a count, a record batch's head) from its first
 * bytes and skips the rest. */
enum wp_kphase {
	WP_K_FRAME = 0,  /* at a request's Size */
	WP_K_HDR_TAGS,   /* v9+: request header tagged fields */
	WP_K_TXID,       /* TransactionalId */
	WP_K_ACKS,       /* Acks, TimeoutMs, topic count */
	WP_K_TOPIC,      /* topic name */
	WP_K_PCOUNT,     /* partition count */
	WP_K_PART,       /* partition index, records length */
	WP_K_BATCH,      /* a RecordBatch: its record count */
	WP_K_PART_TAGS,
	WP_K_TOPIC_TAGS,
	WP_K_BODY_TAGS,
	WP_K_DONE,       /* the request's records are counted */
};

/* One direction of a flow's stream: where the next frame starts (TCP
 * sequence number), and the first bytes of a frame whose head straddled
 * the last segment. */
struct wp_dir {
	__u32 next;      /* sequence number of the next frame's first byte */
	__u8 state;      /* enum wp_dir_state */
	__u8 synced;     /* next is known */
	__u8 carry_len;  /* bytes of the frame at next held in carry */
	__u8 http_match; /* WP_D_HTTP: bytes of "\r\n\r\n" matched so far */
	__u8 carry[WP_CARRY];
	/* Kafka, client -> server: the Produce request being walked. */
	__u8 kphase;     /* enum wp_kphase */
	__u8 kflex;      /* Produce v9+: compact strings and arrays, tagged fields */
	__u8 kacks0;     /* Acks 0: no response will answer it */
	__u8 far;        /* MQTT: a packet id still to read, at far_seq */
	__u32 kcorr;     /* its correlation id */
	__u32 kend;      /* sequence number just past it */
	__u32 ktopics, kparts; /* left to walk */
	__u32 kbytes;    /* left in the current partition's records */
	__u32 krecords;  /* counted so far */
	__u32 far_seq;   /* sequence number of that id (a topic longer than the head) */
	/* MQTT over WebSocket: the data frame the MQTT packets are in. */
	__u32 ws_left;   /* its payload bytes not yet parsed; 0: at a frame header */
	__u32 ws_pos;    /* payload bytes parsed so far (the mask's phase) */
	__u8 ws_key[4];  /* its mask key (zeros from the server) */
};

/* One socket's retransmissions (sockops BPF_SOCK_OPS_RETRANS_CB), in
 * segments: all it sent again, and those still waiting to be classified
 * by what came back. A tail-loss probe is sent with no loss marked
 * (lost_out 0); the receiver's DSACKs (tcp_sock dsack_dups) name
 * retransmissions it already had; a probe followed by the kernel's
 * TLP-recovery reduction (tcp:tcp_cong_state_set to CWR) repaired a real
 * loss. */
struct wp_rtx {
	__u32 sent;        /* segments retransmitted */
	__u32 tlp_open;    /* probes neither DSACKed nor shown to repair a loss yet */
	__u32 real_open;   /* other retransmissions not DSACKed yet */
	__u32 dsack_seen;  /* dsack_dups when last looked at */
};

struct wp_flow {
	__u32 id;    /* 1, 2, ... in order of registration */
	__u32 proto; /* enum wp_proto */
	__u64 srtt_us;   /* last smoothed RTT (sockops), 0 before the first sample */
	struct wp_rtx rtx[2]; /* retransmissions sent by the client's socket, and by the server's */
	__u32 slot;  /* MQTT: its row of the reqs_fast array, or WP_NO_SLOT */
	__u32 rx_at_egress; /* server -> client seen leaving (loopback): parsed there */
	struct wp_dir dir[2]; /* 0: client -> server, 1: server -> client */
};

/* MQTT's first flows keep their requests in an array, a row of 65,536
 * send times (0: none) per flow indexed by packet id: no hash map work per
 * message. The rest use the reqs hash map. */
#define WP_NO_SLOT 0xffffffffu
#define WP_PID_SPACE 65536
#define WP_MAX_FAST_SLOTS 32

/* A request awaiting its ack. MQTT and Kafka: (flow id, 0, packet id or
 * correlation id); WebSocket: (0, run, sequence), matched on any flow. */
struct wp_req_key {
	__u32 flow;
	__u32 run;
	__u64 id;
};

struct wp_req {
	__u64 ts;    /* bpf_ktime_get_ns() when the request left */
	__u32 weight; /* messages it carries: 1, a Produce's records, 0 for a Metadata */
	__u32 pad;
};

/* Per-CPU counters, summed by userspace. */
struct wp_counters {
	__u64 requests, acks, unmatched, unparsed;
	__u64 bytes_out, bytes_in, segs_out, segs_in;
	__u64 retransmits, flows, untracked;
	__u64 srtt_sum_us, srtt_n, srtt_max_us; /* of flows closed during the run */
	/* Of retransmits: tail-loss probes sent, probes that repaired a loss,
	 * and other retransmissions the receiver reported as duplicates. */
	__u64 rtx_tlp, rtx_tlp_repaired, rtx_dsack;
};

/* Retransmissions that repaired a loss, and those that were not needed
 * (a probe the kernel sent on a timer with nothing lost, or a segment the
 * receiver said it already had); they add up to retransmits. */
static inline __u64 wp_rtx_real(const struct wp_counters *c)
{
	__u64 spurious = c->rtx_tlp - c->rtx_tlp_repaired + c->rtx_dsack;

	return c->retransmits > spurious ? c->retransmits - spurious : 0;
}

/* The wire latency histogram: log-linear, 64 sub-buckets per power of two
 * (at most 1.6% wide, so its midpoints are within 0.8%), exact below 128
 * ns, values capped at 2^36 ns (68.7 s). */
#define WP_SUB_BITS 6
#define WP_HIST_BUCKETS 2048
#define WP_HIST_MAX_NS ((1ULL << 36) - 1)

/* Bucket of v: exact below 128, then (power of two, top 7 bits). Shared by
 * the BPF side (recording) and userspace (tests). */
static inline __u32 wp_hist_index(__u64 v)
{
	__u32 msb = 0, shift;
	__u64 x = v;

	if (v > WP_HIST_MAX_NS)
		v = x = WP_HIST_MAX_NS;
	if (v < (2u << WP_SUB_BITS))
		return (__u32)v;
	if (x >> 32) { x >>= 32; msb += 32; }
	if (x >> 16) { x >>= 16; msb += 16; }
	if (x >> 8) { x >>= 8; msb += 8; }
	if (x >> 4) { x >>= 4; msb += 4; }
	if (x >> 2) { x >>= 2; msb += 2; }
	if (x >> 1)
		msb += 1;
	shift = msb - WP_SUB_BITS;
	return ((shift << WP_SUB_BITS) + (__u32)(v >> shift)) & (WP_HIST_BUCKETS - 1);
}

/* The middle of bucket idx, in ns (userspace turns buckets into a struct hist). */
static inline __u64 wp_hist_value(__u32 idx)
{
	if (idx < (2u << WP_SUB_BITS))
		return idx;
	__u32 shift = (idx >> WP_SUB_BITS) - 1;
	__u64 top = (idx & ((1u << WP_SUB_BITS) - 1)) + (1u << WP_SUB_BITS);
	return (top << shift) + ((1ULL << shift) >> 1);
}

#define WP_MAX_FLOWS 262144
#define WP_MAX_REQS 1048576

#ifndef __bpf__
_Static_assert(sizeof(struct wp_flow_key) == 40, "wp_flow_key ABI");
_Static_assert(sizeof(struct wp_dir) == 180, "wp_dir ABI");
_Static_assert(sizeof(struct wp_rtx) == 16, "wp_rtx ABI");
_Static_assert(sizeof(struct wp_flow) == 56 + 2 * 180, "wp_flow ABI");
_Static_assert(sizeof(struct wp_req_key) == 16, "wp_req_key ABI");
_Static_assert(sizeof(struct wp_counters) == 17 * 8, "wp_counters ABI");
#endif

#endif
