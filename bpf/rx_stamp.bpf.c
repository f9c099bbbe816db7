/* Segment arrivals for blast's receiving sockets (see rx_stamp.h).
 *
 * A socket filter: the kernel runs it in tcp_v4_rcv/tcp_v6_rcv for every
 * segment addressed to a socket it is attached to, before the segment is
 * queued, so its clock reading is when the segment reached the socket.
 * It never drops anything. It writes one ring entry per segment with
 * payload, whatever it holds (new bytes, a retransmission, bytes beyond a
 * hole): blast sorts that out. The SYN-ACK gives the initial sequence
 * number, the origin of the byte offsets blast counts in. UAPI headers
 * only. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "rx_stamp.h"

/* Set before load: entries per ring - 1 (a power of two - 1). */
const volatile __u32 cfg_ring_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized before load */
	__type(key, __u64);     /* socket cookie */
	__type(value, __u32);   /* slot */
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxs_head);
} heads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxs_entry);
} rings SEC(".maps");

/* The TCP header's offset from the network header and the bytes from
 * there to the end of the IP payload; 0 when not TCP. */
static __always_inline __u32 tcp_span(struct __sk_buff *skb, __u32 *l4_len)
{
	__u8 vihl;

	if (bpf_skb_load_bytes_relative(skb, 0, &vihl, 1, BPF_HDR_START_NET))
		return 0;
	if (vihl >> 4 == 4) {
		struct iphdr ip;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip, sizeof(ip), BPF_HDR_START_NET))
			return 0;
		__u32 ihl = (__u32)ip.ihl * 4;
		__u32 tot = bpf_ntohs(ip.tot_len);
		if (ip.protocol != IPPROTO_TCP || ihl < sizeof(ip) || tot < ihl)
			return 0;
		*l4_len = tot - ihl;
		return ihl;
	}
	if (vihl >> 4 == 6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip6, sizeof(ip6), BPF_HDR_START_NET))
			return 0;
		if (ip6.nexthdr != IPPROTO_TCP) /* blast's own flows carry no extension headers */
			return 0;
		*l4_len = bpf_ntohs(ip6.payload_len);
		return sizeof(ip6);
	}
	return 0;
}

SEC("socket")
int rx_stamp(struct __sk_buff *skb)
{
	__u64 ns = bpf_ktime_get_ns();
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u32 *slot = bpf_map_lookup_elem(&slots, &cookie);
	if (!slot)
		return skb->len;
	__u32 s = *slot;
	struct rxs_head *h = bpf_map_lookup_elem(&heads, &s);
	if (!h)
		return skb->len;

	__u32 l4_len = 0;
	__u32 off = tcp_span(skb, &l4_len);
	struct tcphdr th;
	if (!off || bpf_skb_load_bytes_relative(skb, off, &th, sizeof(th), BPF_HDR_START_NET))
		return skb->len;
	__u32 seq = bpf_ntohl(th.seq);
	__u32 doff = (__u32)th.doff * 4;
	if (th.syn) {
		h->irs = seq;
		__sync_fetch_and_or(&h->flags, RXS_HAVE_IRS);
		return skb->len;
	}
	if (doff < sizeof(th) || l4_len <= doff)
		return skb->len; /* no payload: a bare ACK, a FIN */

	__u64 idx = __sync_fetch_and_add(&h->head, 1);
	__u32 k = s * (cfg_ring_mask + 1) + ((__u32)idx & cfg_ring_mask);
	struct rxs_entry *e = bpf_map_lookup_elem(&rings, &k);
	if (!e)
		return skb->len;
	e->ns = ns;
	e->seq = seq;
	e->end = seq + (l4_len - doff);
	/* Last: a reader that finds the tag it expects finds the rest too
	 * (stores are not reordered with older stores on x86; elsewhere the
	 * socket lock between this write and blast's read orders them). */
	*(volatile __u32 *)&e->tag = (__u32)idx + 1;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
