/* The --probe's frame parsers, included once by wire_probe.bpf.c.
 *
 * Each parser reads the head of one frame (or one item of a Kafka request)
 * from the first bytes of a buffer and says what it is and how long. They
 * are global functions (not static, never inlined): the verifier checks a
 * global function once, for any arguments, instead of once per path that
 * reaches it. Called from a bpf_loop callback, whose body the verifier
 * explores until its states repeat exactly, inlined parsers multiply each
 * other's paths past the instruction limit; as calls they add up. The
 * price is the calling convention: pointer arguments are to whole structs
 * (the verifier sizes a pointer argument by its type) and may be NULL. */
#ifndef BLAST_WIRE_PARSERS_BPF_H
#define BLAST_WIRE_PARSERS_BPF_H

/* The first bytes of a frame: a flow's carry, or the unmasked copy of
 * the head of an MQTT packet inside a WebSocket frame. */
struct wp_head {
	__u8 b[WP_CARRY];
};

/* What one frame asks for. */
enum {
	ACT_NONE = 0,
	ACT_REQ,           /* a request of f->weight messages, id f->id */
	ACT_REQ_QOS0,      /* f->weight messages no ack will answer (QoS 0, Kafka acks 0) */
	ACT_REQ_UNCOUNTED, /* a request whose answer is no ack (Kafka Metadata) */
	ACT_REQ_NOID,      /* a message whose id could not be read */
	ACT_REQ_FAR,       /* a message whose 2-byte id sits f->id bytes into the frame */
	ACT_REQ_LOST,      /* a Produce whose records could not be counted */
	ACT_ACK,           /* the ack of request f->id */
	ACT_RECEIPT,       /* a receipt of message (f->run, f->id); more may follow */
};
enum { P_NEED = 0, P_FRAME = 1, P_GARBAGE = -1 };

struct frame {
	__u32 len;
	__u32 act;
	__u32 run;
	__u32 weight;
	__u64 id;
};

/* Every index is masked into the buffer: the verifier sees each read in
 * bounds without tracking the index's range. */
#define B(i) (h[(i) & (WP_CARRY - 1)])

static __always_inline __u32 be32_at(const __u8 *h, __u32 i)
{
	return (__u32)B(i) << 24 | (__u32)B(i + 1) << 16 | (__u32)B(i + 2) << 8 | B(i + 3);
}

static __always_inline __u32 be16_at(const __u8 *h, __u32 i)
{
	return (__u32)B(i) << 8 | B(i + 1);
}

/* MQTT 3.1.1/5 fixed header [MQTT-2.2]: type, remaining length varint. */
__noinline int parse_mqtt(const struct wp_head *hd, __u32 total, __u32 dir, struct frame *f)
{
	__u32 rl = 0, vl = 0, i;

	if (!hd || !f)
		return P_GARBAGE;
	const __u8 *h = hd->b;
	if (total < 2)
		return P_NEED;
	__u8 b0 = B(0), type = b0 >> 4;
	if (type == 0)
		return P_GARBAGE;
#pragma unroll
	for (i = 0; i < 4; i++) {
		if (1 + i >= total)
			return P_NEED;
		__u8 b = B(1 + i);
		rl |= (__u32)(b & 127) << (7 * i);
		if (!(b & 128)) {
			vl = i + 1;
			break;
		}
	}
	if (!vl)
		return P_GARBAGE;
	f->len = 1 + vl + rl;
	f->act = ACT_NONE;
	if (dir == 0 && type == 3) { /* PUBLISH */
		__u32 qos = (b0 >> 1) & 3;
		if (qos == 3)
			return P_GARBAGE;
		if (qos == 0) {
			f->act = ACT_REQ_QOS0;
			return P_FRAME;
		}
		if (3 + vl > total) {
			if (total < WP_HEAD)
				return P_NEED;
			f->act = ACT_REQ_NOID;
			return P_FRAME;
		}
		__u32 tl = be16_at(h, 1 + vl);
		__u32 pid_at = 3 + vl + tl;
		if (pid_at + 2 > f->len)
			return P_GARBAGE;
		if (pid_at + 2 > WP_HEAD) { /* a long topic: read the id in place */
			f->id = pid_at;
			f->act = ACT_REQ_FAR;
			return P_FRAME;
		}
		if (pid_at + 2 > total)
			return P_NEED;
		f->id = be16_at(h, pid_at);
		f->act = ACT_REQ;
	} else if (dir == 1 && (type == 4 || type == 7)) { /* PUBACK, PUBCOMP */
		if (rl < 2)
			return P_GARBAGE;
		if (3 + vl > total)
			return P_NEED;
		f->id = be16_at(h, 1 + vl);
		f->act = ACT_ACK;
	}
	return P_FRAME;
}

/* Unsigned varint [Kafka protocol guide, "Protocol Primitive Types"] at
 * h[i]: its value in *v, its length in *n. */
static __always_inline int uvarint_at(const __u8 *h, __u32 total, __u32 i, __u32 *v, __u32 *n)
{
	__u32 x = 0, k;

#pragma unroll
	for (k = 0; k < 5; k++) {
		if (i + k >= total)
			return P_NEED;
		__u8 b = B(i + k);
		x |= (__u32)(b & 127) << (7 * k);
		if (!(b & 128)) {
			*v = x;
			*n = k + 1;
			return P_FRAME;
		}
	}
	return P_GARBAGE;
}

/* The walk's moves between items: what follows a partition, a topic, the
 * topic array. Flexible versions end each with tagged fields. */
static __always_inline void k_topic_done(struct wp_dir *d)
{
	if (--d->ktopics)
		d->kphase = WP_K_TOPIC;
	else
		d->kphase = d->kflex ? WP_K_BODY_TAGS : WP_K_DONE;
}

static __always_inline void k_end_topic(struct wp_dir *d)
{
	if (d->kflex)
		d->kphase = WP_K_TOPIC_TAGS;
	else
		k_topic_done(d);
}

static __always_inline void k_part_done(struct wp_dir *d)
{
	if (--d->kparts)
		d->kphase = WP_K_PART;
	else
		k_end_topic(d);
}

static __always_inline void k_end_part(struct wp_dir *d)
{
	if (d->kflex)
		d->kphase = WP_K_PART_TAGS;
	else
		k_part_done(d);
}

#define K_MAX_COUNT 100000

/* A Kafka request's Size and header v1/v2 (api key, version, correlation
 * id, client id). A Produce starts the walk of its body; any other request
 * is skipped whole. */
static __always_inline int kafka_req_head(struct wp_dir *d, const __u8 *h, __u32 total,
					  struct frame *f)
{
	if (total < 14)
		return P_NEED;
	__u32 size = be32_at(h, 0);
	if (size < 10 || size > (256u << 20))
		return P_GARBAGE;
	f->id = be32_at(h, 8);
	if (be16_at(h, 4) != 0) { /* not a Produce */
		f->len = 4 + size;
		f->act = ACT_REQ_UNCOUNTED;
		return P_FRAME;
	}
	__s16 clen = (__s16)be16_at(h, 12);
	__u32 len = 14 + (clen > 0 ? (__u32)clen : 0);
	if (len > 4 + size)
		return P_GARBAGE;
	d->kcorr = (__u32)f->id;
	d->kend = d->next + 4 + size;
	d->kflex = be16_at(h, 6) >= 9;
	d->krecords = 0;
	d->kphase = d->kflex ? WP_K_HDR_TAGS : WP_K_TXID;
	f->len = len;
	return P_FRAME;
}

/* A compact (flexible) or classic array count or string length: the
 * varint at h[at] (length + 1, 0 for null), or the fixed-width field. */
static __always_inline int k_count(const struct wp_dir *d, const __u8 *h, __u32 total, __u32 at,
				   __u32 width, __u32 *cnt, __u32 *len)
{
	__u32 v = 0, n = 0;

	if (d->kflex) {
		int r = uvarint_at(h, total, at, &v, &n);
		if (r != P_FRAME)
			return r;
		*cnt = v ? v - 1 : 0;
		*len = at + n;
		return P_FRAME;
	}
	if (total < at + width)
		return P_NEED;
	*cnt = width == 2 ? be16_at(h, at) : be32_at(h, at);
	*len = at + width;
	return P_FRAME;
}

/* Kafka, client -> server: one item of the request stream. A Produce's
 * body is walked to count the records of each RecordBatch [Kafka protocol
 * guide, Produce; "Record Batch"]. Changes *d only when it returns
 * P_FRAME. */
__noinline int kafka_req_item(struct wp_dir *d, __u32 total, struct frame *f)
{
	__u32 v = 0, n = 0, len = 0, cnt = 0;
	int r = P_FRAME;

	if (!d || !f)
		return P_GARBAGE;
	const __u8 *h = d->carry;
	__u8 ph = d->kphase;
	f->act = ACT_NONE;
	switch (ph) {
	case WP_K_FRAME:
		return kafka_req_head(d, h, total, f);
	case WP_K_HDR_TAGS:
	case WP_K_PART_TAGS:
	case WP_K_TOPIC_TAGS:
	case WP_K_BODY_TAGS:
		r = uvarint_at(h, total, 0, &v, &n);
		if (r == P_FRAME && v) /* tagged fields blast never writes: skip the request */
			goto lost;
		len = n;
		break;
	case WP_K_TXID:
	case WP_K_TOPIC: /* a string: its length, then skipped */
		r = k_count(d, h, total, 0, 2, &cnt, &len);
		if (!d->kflex && (cnt & 0x8000)) /* a null string */
			cnt = 0;
		len += cnt;
		cnt = 0;
		break;
	case WP_K_ACKS: /* Acks, TimeoutMs, topic count */
		r = k_count(d, h, total, 6, 4, &cnt, &len);
		break;
	case WP_K_PCOUNT:
		r = k_count(d, h, total, 0, 4, &cnt, &len);
		break;
	case WP_K_PART: /* index, then the records' length */
		r = k_count(d, h, total, 4, 4, &cnt, &len);
		if (!d->kflex && cnt == 0xffffffffu) /* null records */
			cnt = 0;
		break;
	case WP_K_BATCH: /* baseOffset, batchLength, ..., recordCount at 57 */
		if (d->kbytes < 61)
			goto lost;
		if (total < 61)
			return P_NEED;
		len = 12 + be32_at(h, 8);
		if (len > d->kbytes || len < 61)
			goto lost;
		cnt = be32_at(h, 57);
		break;
	default:
		goto lost;
	}
	if (r != P_FRAME)
		return r;
	if (cnt > K_MAX_COUNT && ph != WP_K_PART)
		goto lost;
	if ((__s32)(d->kend - (d->next + len)) < 0)
		goto lost;
	/* The item is whole: move on. */
	switch (ph) {
	case WP_K_HDR_TAGS:
		d->kphase = WP_K_TXID;
		break;
	case WP_K_TXID:
		d->kphase = WP_K_ACKS;
		break;
	case WP_K_ACKS:
		d->kacks0 = be16_at(h, 0) == 0;
		d->ktopics = cnt;
		if (cnt)
			d->kphase = WP_K_TOPIC;
		else
			d->kphase = d->kflex ? WP_K_BODY_TAGS : WP_K_DONE;
		break;
	case WP_K_TOPIC:
		d->kphase = WP_K_PCOUNT;
		break;
	case WP_K_PCOUNT:
		d->kparts = cnt;
		if (cnt)
			d->kphase = WP_K_PART;
		else
			k_end_topic(d);
		break;
	case WP_K_PART:
		d->kbytes = cnt;
		if (cnt)
			d->kphase = WP_K_BATCH;
		else
			k_end_part(d);
		break;
	case WP_K_BATCH:
		d->krecords += cnt;
		d->kbytes -= len;
		if (!d->kbytes)
			k_end_part(d);
		break;
	case WP_K_PART_TAGS:
		k_part_done(d);
		break;
	case WP_K_TOPIC_TAGS:
		k_topic_done(d);
		break;
	case WP_K_BODY_TAGS:
		d->kphase = WP_K_DONE;
		break;
	}
	f->len = len;
	return P_FRAME;
lost:
	/* Skip what is left of this request; its answer is let go. */
	len = d->kend - d->next;
	if (!len || len > (256u << 20))
		return P_GARBAGE;
	f->len = len;
	f->id = d->kcorr;
	f->act = ACT_REQ_LOST;
	d->kphase = WP_K_FRAME;
	return P_FRAME;
}

/* Kafka, server -> client: Size, then the response header's correlation id. */
__noinline int kafka_resp(const struct wp_head *hd, __u32 total, struct frame *f)
{
	if (!hd || !f)
		return P_GARBAGE;
	const __u8 *h = hd->b;
	if (total < 8)
		return P_NEED;
	__u32 size = be32_at(h, 0);
	if (size < 4 || size > (256u << 20))
		return P_GARBAGE;
	f->len = 4 + size;
	f->id = be32_at(h, 4);
	f->act = ACT_ACK;
	return P_FRAME;
}

/* A WebSocket frame header [RFC 6455 5.2]: its length in *hl, the payload's
 * in *plen, the mask key in key (zeros when unmasked), the opcode in *op. */
static __always_inline int ws_head(const __u8 *h, __u32 total, __u32 *hl, __u32 *plen, __u8 *key,
				   __u8 *op)
{
	__u32 n = 2;
	__u64 len;

	if (total < 2)
		return P_NEED;
	__u8 b0 = B(0), b1 = B(1);
	*op = b0 & 15;
	if ((b0 & 0x70) || (*op > 2 && *op < 8) || *op > 10)
		return P_GARBAGE;
	len = b1 & 127;
	if (len == 126) {
		if (total < 4)
			return P_NEED;
		len = be16_at(h, 2);
		n = 4;
	} else if (len == 127) {
		if (total < 10)
			return P_NEED;
		if (B(2) || B(3) || B(4) || B(5) || (B(6) & 0x80))
			return P_GARBAGE;
		len = be32_at(h, 6);
		n = 10;
	}
	if (len > (1u << 30))
		return P_GARBAGE;
	key[0] = key[1] = key[2] = key[3] = 0;
	if (b1 & 0x80) {
		if (total < n + 4)
			return P_NEED;
		key[0] = B(n);
		key[1] = B(n + 1);
		key[2] = B(n + 2);
		key[3] = B(n + 3);
		n += 4;
	}
	*hl = n;
	*plen = (__u32)len;
	return P_FRAME;
}

/* Hex digit values, 0xff for anything else: a lookup, not a branch per
 * digit, so that 24 digits add no paths. */
static const __u8 hexval[256] = {
	[0 ... '0' - 1] = 0xff,
	['0'] = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	['9' + 1 ... 'a' - 1] = 0xff,
	['a'] = 10, 11, 12, 13, 14, 15,
	['f' + 1 ... 255] = 0xff,
};

/* WebSocket frame [RFC 6455 5.2] whose payload may start with blast's
 * header: "BLWS" run(8 hex) seq(16 hex) sent(16 hex). */
__noinline int parse_ws(const struct wp_head *hd, __u32 total, __u32 dir, struct frame *f)
{
	__u32 hl = 0, plen = 0, i;
	__u8 key[4], op = 0;

	if (!hd || !f)
		return P_GARBAGE;
	const __u8 *h = hd->b;
	int r = ws_head(h, total, &hl, &plen, key, &op);
	if (r != P_FRAME)
		return r;
	f->len = hl + plen;
	f->act = ACT_NONE;
	if ((op != 1 && op != 2) || plen < 44)
		return P_FRAME;
	if (hl + 28 > total)
		return P_NEED;
	if ((B(hl) ^ key[0]) != 'B' || (B(hl + 1) ^ key[1]) != 'L' ||
	    (B(hl + 2) ^ key[2]) != 'W' || (B(hl + 3) ^ key[3]) != 'S')
		return P_FRAME;
	__u64 run = 0, seq = 0;
	__u8 bad = 0;
	/* The key as one word, shifted: clang would index the array with an
	 * OR on the stack pointer, which the verifier refuses. */
	__u32 k32 = (__u32)key[0] | (__u32)key[1] << 8 | (__u32)key[2] << 16 | (__u32)key[3] << 24;
	/* Rolled loops: unrolled, the 24 digits spill most of the stack. */
#pragma clang loop unroll(disable)
	for (i = 4; i < 12; i++) {
		__u8 v = hexval[(B(hl + i) ^ (k32 >> (8 * (i & 3)))) & 0xff];
		bad |= v;
		run = run << 4 | (v & 15);
	}
#pragma clang loop unroll(disable)
	for (i = 12; i < 28; i++) {
		__u8 v = hexval[(B(hl + i) ^ (k32 >> (8 * (i & 3)))) & 0xff];
		bad |= v;
		seq = seq << 4 | (v & 15);
	}
	if (bad & 0xf0)
		return P_FRAME; /* not blast's header: not a message to match */
	f->run = (__u32)run;
	f->id = seq;
	f->act = dir == 0 ? ACT_REQ : ACT_RECEIPT;
	return P_FRAME;
}

/* MQTT over WebSocket: a data frame's header, or one MQTT packet of its
 * payload (unmasked first, into the per-CPU scratch). blast and mosquitto
 * never split an MQTT packet between WebSocket frames: one that is split
 * is garbage here. */
__noinline int mqtt_ws_item(struct wp_dir *d, __u32 total, __u32 dir, struct frame *f)
{
	__u32 zero = 0, hl = 0, plen = 0, i;
	__u8 key[4], op = 0;
	int r;

	if (!d || !f)
		return P_GARBAGE;
	if (!d->ws_left) {
		r = ws_head(d->carry, total, &hl, &plen, key, &op);
		if (r != P_FRAME)
			return r;
		f->act = ACT_NONE;
		if (op != 0 && op != 2 && op != 1) { /* control frame: skipped whole */
			f->len = hl + plen;
			return P_FRAME;
		}
		d->ws_left = plen;
		d->ws_pos = 0;
		__builtin_memcpy(d->ws_key, key, 4);
		f->len = hl;
		return P_FRAME;
	}
	struct wp_head *u = bpf_map_lookup_elem(&scratch, &zero);
	if (!u)
		return P_GARBAGE;
	if (total > d->ws_left)
		total = d->ws_left;
	/* Always the whole head, whatever total is: a loop whose exit depended
	 * on the frame's length would be a path per length. Bytes past total
	 * are never read by the parser. */
	__u32 ph = d->ws_pos;
#pragma unroll
	for (i = 0; i < WP_HEAD; i++)
		u->b[i] = d->carry[i] ^ d->ws_key[(ph + i) & 3];
	r = parse_mqtt(u, total, dir, f);
	if (r == P_NEED && total == d->ws_left)
		return P_GARBAGE; /* the packet runs past its WebSocket frame */
	if (r != P_FRAME)
		return r;
	if (f->len > d->ws_left)
		return P_GARBAGE;
	if (f->act == ACT_REQ_FAR) /* its id lies masked further on: not read */
		f->act = ACT_REQ_NOID;
	d->ws_left -= f->len;
	d->ws_pos += f->len;
	return P_FRAME;
}

#endif
