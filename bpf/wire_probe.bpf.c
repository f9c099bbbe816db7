/* blast --probe: the wire's view of blast's own connections.
 *
 * tc (tcx) programs on the egress and ingress of the interface the target
 * is reached through parse the TCP payload of every registered flow and
 * match each request leaving with its ack arriving: MQTT PUBLISH packet id
 * -> PUBACK or PUBCOMP (over TCP, or inside WebSocket frames), the records
 * of a Kafka Produce -> the response with its correlation id, WebSocket
 * "BLWS" header (run, sequence) -> every receipt on any flow. A per-direction TCP
 * sequence number marks where the next frame starts, so frames may share a
 * segment or straddle segments; a frame head cut by a segment end is kept
 * in carry[] until the rest arrives. What cannot be parsed is counted, and
 * the direction is given up rather than guessed.
 *
 * Client -> server is parsed at egress, server -> client at ingress, each
 * in the order its sender sent it. Except on loopback (and any interface
 * where the server's packets also leave): there each packet passes egress,
 * then ingress, and ingress may see a flow's segments out of order (a
 * segment queued on another CPU's backlog overtakes an earlier one), which
 * a parser that follows sequence numbers cannot cross. So a flow whose
 * server -> client packets are seen at egress is parsed there, in order,
 * and ingress leaves it alone.
 *
 * The verifier's cost is kept far below its limit (make check's budget
 * test prints it): the per-frame work and the parsers are global functions
 * (wire_parsers.bpf.h says why), so the bpf_loop callbacks that walk a
 * segment are a single call each.
 *
 * sockops registers a flow when one of blast's processes connects to a
 * target, keeps its smoothed RTT and folds it into the counters at close,
 * and counts the retransmissions of both ends (a local broker's too),
 * telling tail-loss probes and duplicates the receiver reported (DSACK)
 * from real ones; tcp:tcp_cong_state_set tells a probe that repaired a
 * loss. UAPI headers only: no BTF relocations. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "wire_probe.h"

#define AF_INET 2
#define AF_INET6 10
#define TCP_STATE_CLOSE 7

/* Set before load: only connections opened by the processes in pids[]. */
const volatile __u32 cfg_pid_filter = 0;
/* Set before load: MQTT flows 1..cfg_fast_slots get a row of reqs_fast. */
const volatile __u32 cfg_fast_slots = 0;

__u32 next_flow_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct wp_target);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WP_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct wp_flow_key);
	__type(value, struct wp_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WP_MAX_REQS);
	__type(key, struct wp_req_key);
	__type(value, struct wp_req);
} reqs SEC(".maps");

/* MQTT over WebSocket: a frame head unmasked (one per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[WP_CARRY]);
} scratch SEC(".maps");

/* Send times by (slot, packet id); max_entries set by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} reqs_fast SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wp_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WP_HIST_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline struct wp_counters *cnt(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline void hist_record(__u64 v, __u32 weight)
{
	__u32 idx = wp_hist_index(v);
	__u64 *b = bpf_map_lookup_elem(&hist, &idx);

	if (b)
		*b += weight;
}

#include "wire_parsers.bpf.h"

/* The segment being parsed: scalars only, so that a pointer to it can be
 * a global function's argument. */
struct seg_info {
	__u64 now;
	__u32 poff; /* offset of the TCP payload in the skb */
	__u32 seq;  /* sequence number of its first byte */
	__u32 len;  /* payload bytes */
	__u32 dir;
};

/* bpf_loop's context: the pointers stay typed through the stack. */
struct seg {
	struct __sk_buff *skb;
	struct wp_flow *fl;
	struct seg_info in;
};

/* What a frame does to the counters, the request maps and the histogram. */
__noinline int act(struct wp_flow *fl, const struct frame *f, __u64 now)
{
	struct wp_counters *c = cnt();
	struct wp_req *r;

	if (!c || !fl || !f)
		return 0;
	struct wp_req_key k = { .flow = fl->id, .run = 0, .id = f->id };
	if ((fl->proto == WP_MQTT || fl->proto == WP_MQTT_WS) && fl->slot != WP_NO_SLOT &&
	    (f->act == ACT_REQ || f->act == ACT_ACK)) {
		__u32 idx = fl->slot * WP_PID_SPACE + (__u32)(f->id & (WP_PID_SPACE - 1));
		__u64 *ts = bpf_map_lookup_elem(&reqs_fast, &idx);
		if (!ts) { /* a row past the array: never set so */
			c->untracked++;
			return 0;
		}
		if (f->act == ACT_REQ) {
			c->requests++;
			*ts = now | 1; /* never 0: 0 means no request */
		} else if (*ts) {
			c->acks++;
			hist_record(now - *ts, 1);
			*ts = 0;
		} else {
			c->unmatched++;
		}
		return 0;
	}
	if (fl->proto == WP_WS) {
		k.flow = 0;
		k.run = f->run;
	}
	switch (f->act) {
	case ACT_REQ_QOS0:
		c->requests += f->weight;
		break;
	case ACT_REQ_NOID:
		c->requests++;
		c->unparsed++;
		break;
	case ACT_REQ_LOST:
	case ACT_REQ:
	case ACT_REQ_UNCOUNTED: {
		struct wp_req v = { .ts = now, .weight = f->act == ACT_REQ ? f->weight : 0 };
		if (f->act == ACT_REQ_LOST)
			c->unparsed++;
		c->requests += v.weight;
		if (bpf_map_update_elem(&reqs, &k, &v, BPF_ANY))
			c->untracked++;
		break;
	}
	case ACT_ACK:
	case ACT_RECEIPT:
		r = bpf_map_lookup_elem(&reqs, &k);
		if (!r) {
			c->unmatched++;
			break;
		}
		if (r->weight) {
			c->acks += r->weight;
			hist_record(now - r->ts, r->weight);
		}
		if (f->act == ACT_ACK)
			bpf_map_delete_elem(&reqs, &k);
		break;
	}
	return 0;
}

static __always_inline int give_up(struct wp_dir *d)
{
	struct wp_counters *c = cnt();

	if (c)
		c->unparsed++;
	d->state = WP_D_DEAD;
	return 1;
}

/* The frame at the head of the segment's bytes: which parser reads it. */
static __always_inline int parse(struct wp_flow *fl, struct wp_dir *d, __u32 total, __u32 dir,
				 struct frame *f)
{
	const struct wp_head *h = (const struct wp_head *)d->carry;

	switch (fl->proto) {
	case WP_MQTT:
		return parse_mqtt(h, total, dir, f);
	case WP_KAFKA:
		return dir == 0 ? kafka_req_item(d, total, f) : kafka_resp(h, total, f);
	case WP_WS:
		return parse_ws(h, total, dir, f);
	case WP_MQTT_WS:
		return mqtt_ws_item(d, total, dir, f);
	}
	return P_GARBAGE;
}

/* A long-topic PUBLISH: its id sits at byte at of this segment (read it
 * now), or of a later one (handle() reads it when it comes). */
static __always_inline void far_id(struct __sk_buff *skb, const struct seg_info *s,
				   struct wp_dir *d, struct frame *f, __s64 at)
{
	__u8 id2[2];

	f->act = ACT_REQ_NOID;
	if (at >= 0 && at + 2 <= s->len) {
		if (!bpf_skb_load_bytes(skb, s->poff + (__u32)at, id2, 2)) {
			f->id = (__u32)id2[0] << 8 | id2[1];
			f->act = ACT_REQ;
		}
	} else if (at >= s->len) {
		d->far = 1;
		d->far_seq = s->seq + (__u32)at;
		f->act = ACT_NONE;
	}
}

/* One frame (or the head of one) from the segment; 0 to go on, 1 to stop.
 * Global, for the reason given in wire_parsers.bpf.h. */
__noinline int frame_one(struct __sk_buff *skb, struct wp_flow *fl, const struct seg_info *s)
{
	struct frame f = {};

	if (!skb || !fl || !s)
		return 1;
	struct wp_dir *d = &fl->dir[s->dir & 1];
	if (d->state != WP_D_FRAMES)
		return 1;
	__u32 cl = d->carry_len;
	if (cl >= WP_HEAD)
		return give_up(d);
	__s32 off = (__s32)(d->next + cl - s->seq);
	if (off < 0) /* bytes before this segment were never seen */
		return give_up(d);
	if ((__u32)off >= s->len)
		return 1;
	__u32 n = s->len - (__u32)off;
	if (n > WP_HEAD - cl)
		n = WP_HEAD - cl;
	if (n < 1 || n > WP_HEAD)
		return 1;
	if (bpf_skb_load_bytes(skb, s->poff + (__u32)off, &d->carry[cl & (WP_HEAD - 1)], n))
		return give_up(d);
	__u32 total = cl + n;
	int r = parse(fl, d, total, s->dir, &f);
	if (r == P_NEED) {
		if (total >= WP_HEAD)
			return give_up(d);
		d->carry_len = (__u8)total;
		return 1;
	}
	if (r == P_GARBAGE || f.len == 0)
		return give_up(d);
	if (!f.weight)
		f.weight = 1;
	/* The frame starts off - cl bytes into this segment (before it, if
	 * its head came in carry). */
	if (f.act == ACT_REQ_FAR)
		far_id(skb, s, d, &f, (__s64)off - cl + (__s64)f.id);
	act(fl, &f, s->now);
	d->next += f.len;
	d->carry_len = 0;
	if (fl->proto == WP_KAFKA && s->dir == 0 && d->kphase == WP_K_DONE) {
		/* A Produce walked to its end: its records are the request. */
		struct frame done = { .act = d->kacks0 ? ACT_REQ_QOS0 : ACT_REQ, .id = d->kcorr,
				      .weight = d->krecords };
		act(fl, &done, s->now);
		if (d->next != d->kend) {
			struct wp_counters *c = cnt();
			if (c)
				c->unparsed++;
			d->next = d->kend;
		}
		d->kphase = WP_K_FRAME;
	}
	return 0;
}

static long frame_step(__u32 i, void *arg)
{
	struct seg *s = arg;

	(void)i;
	return frame_one(s->skb, s->fl, &s->in) ? 1 : 0; /* bpf_loop takes 0 or 1 */
}

/* The next byte of s's direction of fl, while that direction is in state:
 * 0 with it in *b (and *d the direction), or what the caller returns: 1 to
 * stop for this segment, give_up's 1 on a hole. */
static __always_inline int next_byte(struct __sk_buff *skb, struct wp_flow *fl,
				     const struct seg_info *s, __u8 state, struct wp_dir **dp, __u8 *b)
{
	if (!skb || !fl || !s)
		return 1;
	struct wp_dir *d = &fl->dir[s->dir & 1];
	*dp = d;
	if (d->state != state)
		return 1;
	__s32 off = (__s32)(d->next - s->seq);
	if (off < 0)
		return give_up(d);
	if ((__u32)off >= s->len)
		return 1;
	if (bpf_skb_load_bytes(skb, s->poff + (__u32)off, b, 1))
		return give_up(d);
	d->next++;
	return 0;
}

/* WebSocket: one byte of the HTTP upgrade, which ends at its blank line. */
__noinline int http_one(struct __sk_buff *skb, struct wp_flow *fl, const struct seg_info *s)
{
	struct wp_dir *d;
	__u8 b;
	int r = next_byte(skb, fl, s, WP_D_HTTP, &d, &b);

	if (r)
		return r;
	__u8 m = d->http_match;
	__u8 want = (m & 1) ? '\n' : '\r';
	if (b == want)
		m++;
	else
		m = b == '\r' ? 1 : 0;
	d->http_match = m;
	if (m == 4)
		d->state = WP_D_FRAMES;
	return 0;
}

static long http_step(__u32 i, void *arg)
{
	struct seg *s = arg;

	(void)i;
	return http_one(s->skb, s->fl, &s->in) ? 1 : 0;
}

/* HTTP/1.1: one byte of the stream. The k-th "HTTP/1." from the client is
 * the k-th request line, the k-th from the server the k-th status line,
 * which answers it (keep-alive answers in order, pipelined or not). */
__noinline int h1_one(struct __sk_buff *skb, struct wp_flow *fl, const struct seg_info *s)
{
	/* "HTTP/1.", its first byte lowest: no read-only data to load. */
	const __u64 pat = 0x2e312f50545448ull;
	struct wp_dir *d;
	__u8 b;
	int r = next_byte(skb, fl, s, WP_D_H1, &d, &b);

	if (r)
		return r;
	/* No proper suffix of a prefix of the pattern is a prefix of it, so a
	 * mismatch restarts at 0, or at 1 on an 'H'. */
	__u8 m = d->http_match & 7;
	m = b == (__u8)(pat >> (8 * m)) ? m + 1 : b == 'H';
	if (m == 7) {
		struct frame f = { .act = (s->dir & 1) ? ACT_ACK : ACT_REQ, .id = d->kcorr++,
				   .weight = 1 };
		act(fl, &f, s->now);
		m = 0;
	}
	d->http_match = m;
	return 0;
}

static long h1_step(__u32 i, void *arg)
{
	struct seg *s = arg;

	(void)i;
	return h1_one(s->skb, s->fl, &s->in) ? 1 : 0;
}

/* The flow of a packet seen leaving the server: k turned around. Not
 * inlined: its frame is not on the stack while frame_step runs. */
static __noinline struct wp_flow *flow_reversed(struct wp_flow_key *k)
{
	__u32 t;
	__u16 p;

	for (int i = 0; i < 4; i++) {
		t = k->caddr[i];
		k->caddr[i] = k->saddr[i];
		k->saddr[i] = t;
	}
	p = k->cport;
	k->cport = k->sport;
	k->sport = p;
	return bpf_map_lookup_elem(&flows, k);
}

static __always_inline int handle(struct __sk_buff *skb, __u32 egress)
{
	struct wp_flow_key k = {};
	struct tcphdr th;
	__u32 l4off, l3end;
	__u16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2))
		return TC_ACT_OK;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.protocol != IPPROTO_TCP ||
		    ip.ihl < 5 || (ip.frag_off & bpf_htons(0x3fff)))
			return TC_ACT_OK;
		l4off = ETH_HLEN + ip.ihl * 4;
		l3end = bpf_ntohs(ip.tot_len) ? ETH_HLEN + bpf_ntohs(ip.tot_len) : skb->len;
		k.family = AF_INET;
		k.caddr[0] = egress ? ip.saddr : ip.daddr;
		k.saddr[0] = egress ? ip.daddr : ip.saddr;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		l4off = ETH_HLEN + sizeof(ip6);
		l3end = bpf_ntohs(ip6.payload_len) ? l4off + bpf_ntohs(ip6.payload_len) : skb->len;
		k.family = AF_INET6;
		__builtin_memcpy(k.caddr, egress ? ip6.saddr.s6_addr32 : ip6.daddr.s6_addr32, 16);
		__builtin_memcpy(k.saddr, egress ? ip6.daddr.s6_addr32 : ip6.saddr.s6_addr32, 16);
	} else {
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, l4off, &th, sizeof(th)))
		return TC_ACT_OK;
	k.cport = egress ? th.source : th.dest;
	k.sport = egress ? th.dest : th.source;
	struct wp_flow *fl = bpf_map_lookup_elem(&flows, &k);
	if (!fl && egress) { /* the server's packet leaving: loopback (see the top) */
		fl = flow_reversed(&k);
		if (!fl)
			return TC_ACT_OK;
		fl->rx_at_egress = 1; /* before this packet reaches ingress */
		egress = 0;           /* from here on: which direction it is */
	} else if (!fl || (!egress && fl->rx_at_egress)) {
		return TC_ACT_OK;
	}
	__u32 poff = l4off + th.doff * 4;
	if (l3end > skb->len)
		l3end = skb->len;
	if (l3end <= poff)
		return TC_ACT_OK;
	struct seg s = {
		.skb = skb,
		.fl = fl,
		.in = {
			.now = bpf_ktime_get_ns(),
			.poff = poff,
			.seq = bpf_ntohl(th.seq),
			.len = l3end - poff,
			.dir = egress ? 0 : 1,
		},
	};
	struct wp_counters *c = cnt();
	if (c) {
		if (egress) {
			c->bytes_out += s.in.len;
			c->segs_out++;
		} else {
			c->bytes_in += s.in.len;
			c->segs_in++;
		}
	}
	struct wp_dir *d = &fl->dir[s.in.dir & 1];
	if (!d->synced) { /* the flow's first payload: a frame starts here */
		d->next = s.in.seq;
		d->synced = 1;
	}
	if (d->far) { /* a long-topic PUBLISH whose id is in a later segment */
		__s32 at = (__s32)(d->far_seq - s.in.seq);
		struct frame f = { .act = ACT_REQ_NOID, .weight = 1 };
		__u8 id2[2];
		if (at >= 0 && (__u32)at + 2 <= s.in.len) {
			if (!bpf_skb_load_bytes(skb, poff + (__u32)at, id2, 2)) {
				f.id = (__u32)id2[0] << 8 | id2[1];
				f.act = ACT_REQ;
			}
			d->far = 0;
			act(fl, &f, s.in.now);
		} else if (at < 0 || (__u32)at < s.in.len) { /* split between segments, or missed */
			d->far = 0;
			act(fl, &f, s.in.now);
		}
	}
	if (d->state == WP_D_H1) {
		bpf_loop(s.in.len, h1_step, &s, 0);
		return TC_ACT_OK;
	}
	if (d->state == WP_D_HTTP)
		bpf_loop(s.in.len, http_step, &s, 0);
	/* At most one frame or item per byte (a Kafka tagged-field count). */
	bpf_loop(s.in.len + 1, frame_step, &s, 0);
	return TC_ACT_OK;
}

SEC("tc")
int wp_egress(struct __sk_buff *skb)
{
	handle(skb, 1);
	return TC_ACT_UNSPEC; /* tcx: go on with the next program, if any */
}

SEC("tc")
int wp_ingress(struct __sk_buff *skb)
{
	handle(skb, 0);
	return TC_ACT_UNSPEC;
}

static __always_inline void key_of(struct bpf_sock_ops *o, struct wp_flow_key *k)
{
	k->family = o->family;
	if (o->family == AF_INET) {
		k->caddr[0] = o->local_ip4;
		k->saddr[0] = o->remote_ip4;
	} else {
		k->caddr[0] = o->local_ip6[0];
		k->caddr[1] = o->local_ip6[1];
		k->caddr[2] = o->local_ip6[2];
		k->caddr[3] = o->local_ip6[3];
		k->saddr[0] = o->remote_ip6[0];
		k->saddr[1] = o->remote_ip6[1];
		k->saddr[2] = o->remote_ip6[2];
		k->saddr[3] = o->remote_ip6[3];
	}
	k->cport = bpf_htons((__u16)o->local_port);
	/* sockops keeps the remote port in network order in the upper 16 bits. */
	k->sport = (__u16)(o->remote_port >> 16);
}

static __always_inline void fold_srtt(struct wp_flow *fl)
{
	struct wp_counters *c = cnt();

	if (!c || !fl->srtt_us)
		return;
	c->srtt_sum_us += fl->srtt_us;
	c->srtt_n++;
	if (fl->srtt_us > c->srtt_max_us)
		c->srtt_max_us = fl->srtt_us;
}

/* The flow a socket belongs to, and which end it is: 0 blast's, 1 the
 * server's (a local broker's accepted socket: the key read backwards). */
static __always_inline struct wp_flow *flow_of(const struct wp_flow_key *k, int *side)
{
	struct wp_flow_key r = { .family = k->family, .cport = k->sport, .sport = k->cport };
	struct wp_flow *fl = bpf_map_lookup_elem(&flows, k);

	*side = 0;
	if (fl)
		return fl;
	__builtin_memcpy(r.caddr, k->saddr, 16);
	__builtin_memcpy(r.saddr, k->caddr, 16);
	*side = 1;
	return bpf_map_lookup_elem(&flows, &r);
}

/* The receiver's DSACKs since the last look name segments it already had:
 * the open probes first (the kernel's own rule takes a DSACK of the probe
 * as "nothing was lost"), then other retransmissions. dsack_dups also
 * counts duplicates nobody retransmitted; those find nothing open. */
static __always_inline void fold_dsack(struct bpf_sock_ops *o, struct wp_rtx *x)
{
	struct bpf_sock *sk = o->sk;
	struct bpf_tcp_sock *tp;

	if (!sk || !(tp = bpf_tcp_sock(sk)))
		return;
	__u32 d = tp->dsack_dups - x->dsack_seen;
	x->dsack_seen = tp->dsack_dups;
	if (!d)
		return;
	__u32 t = d < x->tlp_open ? d : x->tlp_open;
	x->tlp_open -= t;
	d -= t;
	if (d > x->real_open)
		d = x->real_open;
	x->real_open -= d;
	struct wp_counters *c = cnt();
	if (c)
		c->rtx_dsack += d;
}

/* BPF_SOCK_OPS_RETRANS_CB: args[1] segments, args[2] the send's error. A
 * retransmission the kernel makes with no segment marked lost is a tail-loss
 * probe (RACK-TLP, RFC 8985): sent on a timer because no ACK came, not
 * because anything was found missing. */
static __always_inline void on_retrans(struct bpf_sock_ops *o, struct wp_rtx *x)
{
	__u32 segs = o->args[1];

	if (o->args[2]) /* not sent */
		return;
	fold_dsack(o, x);
	x->sent += segs;
	struct wp_counters *c = cnt();
	if (c)
		c->retransmits += segs;
	if (o->lost_out) {
		x->real_open += segs;
		return;
	}
	x->tlp_open += segs;
	if (c)
		c->rtx_tlp += segs;
}

SEC("sockops")
int wp_sockops(struct bpf_sock_ops *o)
{
	struct wp_flow_key k = {};
	struct wp_flow *fl;
	int side;

	if (o->family != AF_INET && o->family != AF_INET6)
		return 1;
	key_of(o, &k);
	switch (o->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB: {
		struct wp_target t = { .port = k.sport, .family = (__u16)k.family };
		__builtin_memcpy(t.addr, k.saddr, 16);
		__u32 *proto = bpf_map_lookup_elem(&targets, &t);
		if (!proto)
			return 1;
		if (cfg_pid_filter) {
			__u32 tgid = bpf_get_current_pid_tgid() >> 32;
			if (!bpf_map_lookup_elem(&pids, &tgid))
				return 1;
		}
		struct wp_flow v = {};
		v.id = __sync_fetch_and_add(&next_flow_id, 1) + 1;
		v.proto = *proto;
		v.slot = (v.proto == WP_MQTT || v.proto == WP_MQTT_WS) && v.id <= cfg_fast_slots ?
				 v.id - 1 : WP_NO_SLOT;
		if (v.proto == WP_WS || v.proto == WP_MQTT_WS) {
			v.dir[0].state = WP_D_HTTP;
			v.dir[1].state = WP_D_HTTP;
		}
		if (v.proto == WP_HTTP) {
			v.dir[0].state = WP_D_H1;
			v.dir[1].state = WP_D_H1;
		}
		if (bpf_map_update_elem(&flows, &k, &v, BPF_ANY))
			return 1;
		struct wp_counters *c = cnt();
		if (c)
			c->flows++;
		bpf_sock_ops_cb_flags_set(o, BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG |
						     BPF_SOCK_OPS_RETRANS_CB_FLAG);
		break;
	}
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* A local broker's end of one of blast's connections: its
		 * retransmissions count too. */
		fl = flow_of(&k, &side);
		if (fl && side == 1)
			bpf_sock_ops_cb_flags_set(o, BPF_SOCK_OPS_STATE_CB_FLAG |
							     BPF_SOCK_OPS_RETRANS_CB_FLAG);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		fl = bpf_map_lookup_elem(&flows, &k);
		if (!fl)
			break;
		fl->srtt_us = o->srtt_us >> 3; /* the kernel keeps it x8 */
		if (fl->rtx[0].tlp_open | fl->rtx[0].real_open)
			fold_dsack(o, &fl->rtx[0]);
		break;
	case BPF_SOCK_OPS_RETRANS_CB:
		fl = flow_of(&k, &side);
		if (fl)
			on_retrans(o, &fl->rtx[side & 1]);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		fl = flow_of(&k, &side);
		if (!fl)
			break;
		if (fl->rtx[side & 1].tlp_open | fl->rtx[side & 1].real_open)
			fold_dsack(o, &fl->rtx[side & 1]);
		if (side == 0 && o->args[1] == TCP_STATE_CLOSE) {
			fold_srtt(fl);
			bpf_map_delete_elem(&flows, &k);
		}
		break;
	}
	return 1;
}

/* /sys/kernel/tracing/events/tcp/tcp_cong_state_set/format: a stable
 * layout; ports in host order. */
struct tp_tcp_cong_state_set {
	__u64 common;
	__u64 skaddr;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
	__u8 cong_state;
};

#define TCP_CA_CWR 2

/* A probe answered by an ACK beyond it, with no DSACK of it, means the
 * probe repaired a lost tail: the kernel then reduces cwnd through CWR
 * (tcp_process_tlp_ack). Any move to CWR while a probe is open counts
 * that probe as real: ECN and local congestion also lead there, and would
 * show as a repair only if they came just then. */
SEC("tp/tcp/tcp_cong_state_set")
int wp_cong_state(struct tp_tcp_cong_state_set *a)
{
	struct wp_flow_key k = {};
	struct wp_flow *fl;
	int side;

	if (a->cong_state != TCP_CA_CWR)
		return 0;
	k.family = a->family;
	if (a->family == AF_INET) {
		__builtin_memcpy(&k.caddr[0], a->saddr, 4);
		__builtin_memcpy(&k.saddr[0], a->daddr, 4);
	} else if (a->family == AF_INET6) {
		__builtin_memcpy(k.caddr, a->saddr_v6, 16);
		__builtin_memcpy(k.saddr, a->daddr_v6, 16);
	} else {
		return 0;
	}
	k.cport = bpf_htons(a->sport);
	k.sport = bpf_htons(a->dport);
	fl = flow_of(&k, &side);
	if (!fl)
		return 0;
	struct wp_rtx *x = &fl->rtx[side & 1];
	if (!x->tlp_open)
		return 0;
	x->tlp_open--;
	struct wp_counters *c = cnt();
	if (c)
		c->rtx_tlp_repaired++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
