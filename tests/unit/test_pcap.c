/* Capture files and the capture witness: classic pcap (both magics, both
 * byte orders), crafted pcapng blocks (several interfaces, if_tsresol in
 * powers of 10 and 2, SPB, unknown blocks, a big-endian section), every
 * truncation and some corruptions of them; the link, IP and TCP
 * dissector; our own pcapng writer read back; and TCP reassembly with
 * MQTT, Kafka and WebSocket matching: frames split across segments, many
 * frames in one segment, retransmits, overlaps, out-of-order segments,
 * gaps and the resynchronisation after them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/mqtt.h"
#include "encoders/pcapfile.h"
#include "t.h"
#include "witness/wire_match.h"
#include "encoders/ws.h"

/* ---- byte builders ---- */

struct b {
	uint8_t d[1 << 17];
	size_t n;
	bool be; /* multi-byte fields big endian */
};

static void p8(struct b *b, uint8_t v)
{
	b->d[b->n++] = v;
}

static void p16(struct b *b, uint16_t v)
{
	if (b->be) {
		p8(b, (uint8_t)(v >> 8));
		p8(b, (uint8_t)v);
	} else {
		p8(b, (uint8_t)v);
		p8(b, (uint8_t)(v >> 8));
	}
}

static void p32(struct b *b, uint32_t v)
{
	if (b->be) {
		p16(b, (uint16_t)(v >> 16));
		p16(b, (uint16_t)v);
	} else {
		p16(b, (uint16_t)v);
		p16(b, (uint16_t)(v >> 16));
	}
}

static void pmem(struct b *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

/* A raw IPv4 TCP packet 10.0.0.S:sport -> 10.0.0.D:dport. */
static size_t ip4_tcp(uint8_t *o, uint8_t s, uint8_t d, uint16_t sport, uint16_t dport, uint32_t seq,
		      uint8_t flags, const void *pl, size_t len)
{
	size_t tot = 20 + 20 + len;

	memset(o, 0, 40);
	o[0] = 0x45;
	o[2] = (uint8_t)(tot >> 8);
	o[3] = (uint8_t)tot;
	o[8] = 64;
	o[9] = 6;
	o[12] = 10, o[15] = s;
	o[16] = 10, o[19] = d;
	uint8_t *t = o + 20;
	t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = flags;
	if (len)
		memcpy(t + 20, pl, len);
	return tot;
}

/* ---- classic pcap ---- */

static void classic_file(struct b *f, bool ns, bool be, uint16_t linktype)
{
	f->n = 0;
	f->be = be;
	p32(f, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	p16(f, 2);
	p16(f, 4);
	p32(f, 0);
	p32(f, 0);
	p32(f, 65535);
	p32(f, linktype);
}

static void classic_pkt(struct b *f, uint32_t sec, uint32_t frac, const void *d, uint32_t n)
{
	p32(f, sec);
	p32(f, frac);
	p32(f, n);
	p32(f, n);
	pmem(f, d, n);
}

static void test_classic(void)
{
	static struct b f;
	uint8_t pkt[100];
	size_t n = ip4_tcp(pkt, 1, 2, 1000, 1883, 7, TCP_ACK, "hello", 5);

	for (int ns = 0; ns < 2; ns++) {
		for (int be = 0; be < 2; be++) {
			struct pcapfile_reader r;
			struct pcap_pkt p;
			classic_file(&f, ns, be, LINKTYPE_RAW);
			classic_pkt(&f, 100, ns ? 123456789 : 123456, pkt, (uint32_t)n);
			classic_pkt(&f, 101, 5, pkt, (uint32_t)n);
			CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
			CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
			CHECK_EQ_INT(p.ts_ns, 100123456789ull - (ns ? 0 : 789));
			CHECK_EQ_INT(p.linktype, LINKTYPE_RAW);
			CHECK_MEM(p.data, p.caplen, pkt, n);
			CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
			CHECK_EQ_INT(p.ts_ns, 101000000000ull + (ns ? 5 : 5000));
			CHECK_EQ_INT(pcapfile_next(&r, &p), 0);
			/* Every cut: the header cut is an init error, a cut
			 * packet a next error; only whole-packet cuts end clean. */
			for (size_t cut = 0; cut < f.n; cut++) {
				uint8_t *copy = malloc(cut ? cut : 1);
				memcpy(copy, f.d, cut);
				int e = pcapfile_init(&r, copy, cut);
				int got = 0, last = 0;
				if (!e)
					while ((last = pcapfile_next(&r, &p)) == 1)
						got++;
				bool boundary = cut == 24 || cut == 24 + 16 + n;
				if (boundary)
					CHECK(e == 0 && last == 0);
				else
					CHECK((e == -EPROTO || last == -EPROTO) && r.err[0]);
				free(copy);
			}
		}
	}
	struct pcapfile_reader r;
	CHECK_EQ_INT(pcapfile_init(&r, (const uint8_t *)"GIF89a..", 8), -EPROTO);
	CHECK(strstr(r.err, "not a pcap") != NULL);
}

/* ---- pcapng ---- */

static void ng_block(struct b *f, uint32_t type, const struct b *body)
{
	size_t pad = (4 - body->n % 4) % 4;
	uint32_t len = (uint32_t)(12 + body->n + pad);

	p32(f, type);
	p32(f, len);
	pmem(f, body->d, body->n);
	for (size_t i = 0; i < pad; i++)
		p8(f, 0);
	p32(f, len);
}

static void ng_shb(struct b *f)
{
	static struct b s;
	s.n = 0;
	s.be = f->be;
	p32(&s, 0x1a2b3c4d);
	p16(&s, 1);
	p16(&s, 0);
	p32(&s, 0xffffffff);
	p32(&s, 0xffffffff);
	ng_block(f, 0x0a0d0d0a, &s);
}

static void ng_idb(struct b *f, uint16_t linktype, int tsresol)
{
	static struct b s;
	s.n = 0;
	s.be = f->be;
	p16(&s, linktype);
	p16(&s, 0);
	p32(&s, 262144);
	/* if_name first, so the reader must walk options. */
	p16(&s, 2);
	p16(&s, 2);
	pmem(&s, "lo\0\0", 4);
	if (tsresol >= 0) {
		p16(&s, 9);
		p16(&s, 1);
		p32(&s, (uint32_t)tsresol); /* value byte then padding, in either order */
		if (f->be)
			memmove(s.d + s.n - 4, s.d + s.n - 1, 1), memset(s.d + s.n - 3, 0, 3);
	}
	p16(&s, 0);
	p16(&s, 0);
	ng_block(f, 1, &s);
}

static void ng_epb(struct b *f, uint32_t ifc, uint64_t ts, const void *d, uint32_t n)
{
	static struct b s;
	s.n = 0;
	s.be = f->be;
	p32(&s, ifc);
	p32(&s, (uint32_t)(ts >> 32));
	p32(&s, (uint32_t)ts);
	p32(&s, n);
	p32(&s, n + 10); /* snapped: 10 bytes more on the wire */
	pmem(&s, d, n);
	ng_block(f, 6, &s);
}

static void test_pcapng(void)
{
	static struct b f;
	uint8_t pkt[100], eth[120];
	size_t n = ip4_tcp(pkt, 1, 2, 1000, 1883, 7, TCP_ACK, "abc", 3);

	memset(eth, 0, 14);
	eth[12] = 0x08;
	memcpy(eth + 14, pkt, n);
	for (int be = 0; be < 2; be++) {
		struct pcapfile_reader r;
		struct pcap_pkt p;
		f.n = 0;
		f.be = be;
		ng_shb(&f);
		ng_idb(&f, LINKTYPE_EN10MB, -1);      /* microseconds (default) */
		ng_idb(&f, LINKTYPE_RAW, 9);          /* nanoseconds */
		ng_idb(&f, LINKTYPE_RAW, 0x80 | 10);  /* 2^-10 s */
		ng_epb(&f, 1, 1234567890123ull, pkt, (uint32_t)n);
		ng_epb(&f, 0, 1500000, eth, (uint32_t)n + 14);
		static struct b s;
		s.n = 0;
		s.be = be;
		p32(&s, 4); /* custom block: skipped */
		ng_block(&f, 0x00000bad, &s);
		ng_epb(&f, 2, 3 * 1024 + 512, pkt, (uint32_t)n);
		s.n = 0;
		p32(&s, (uint32_t)n); /* SPB: interface 0 */
		pmem(&s, pkt, n);
		ng_block(&f, 3, &s);
		CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
		CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
		CHECK_EQ_INT(p.ts_ns, 1234567890123ull);
		CHECK_EQ_INT(p.linktype, LINKTYPE_RAW);
		CHECK_EQ_INT(p.iface, 1);
		CHECK_EQ_INT(p.wirelen, n + 10);
		CHECK_MEM(p.data, p.caplen, pkt, n);
		CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
		CHECK_EQ_INT(p.ts_ns, 1500000000ull);
		CHECK_EQ_INT(p.linktype, LINKTYPE_EN10MB);
		CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
		CHECK_EQ_INT(p.ts_ns, 3500000000ull);
		CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
		CHECK_EQ_INT(p.linktype, LINKTYPE_EN10MB);
		CHECK_MEM(p.data, p.caplen, pkt, n);
		CHECK_EQ_INT(pcapfile_next(&r, &p), 0);

		/* Every cut ends clean only on a block boundary. */
		size_t bounds[16], nb = 0, o = 0;
		while (o < f.n) {
			uint32_t bl;
			memcpy(&bl, f.d + o + 4, 4);
			if (be)
				bl = __builtin_bswap32(bl);
			o += bl;
			bounds[nb++] = o;
		}
		for (size_t cut = 0; cut < f.n; cut++) {
			int e = pcapfile_init(&r, f.d, cut), last = 0;
			if (!e)
				while ((last = pcapfile_next(&r, &p)) == 1)
					;
			bool boundary = false;
			for (size_t i = 0; i < nb; i++)
				boundary |= cut == bounds[i];
			if (boundary)
				CHECK(e == 0 && last == 0);
			else
				CHECK((e == -EPROTO || last == -EPROTO) && r.err[0]);
		}
	}

	/* Corruptions, each one clear error. */
	struct pcapfile_reader r;
	struct pcap_pkt p;
	static struct b g;
	g.n = 0;
	g.be = false;
	ng_shb(&g);
	ng_idb(&g, LINKTYPE_RAW, 9);
	size_t epb = g.n;
	ng_epb(&g, 0, 1, pkt, (uint32_t)n);
	static struct b c;
	memcpy(&c, &g, sizeof(g));
	c.d[epb + 4] = 13; /* block length not a multiple of 4 */
	CHECK(pcapfile_init(&r, c.d, c.n) == 0 && pcapfile_next(&r, &p) == -EPROTO);
	CHECK(strstr(r.err, "block length") != NULL);
	memcpy(&c, &g, sizeof(g));
	c.d[c.n - 1] = 0x7f; /* trailing length disagrees */
	CHECK(pcapfile_init(&r, c.d, c.n) == 0 && pcapfile_next(&r, &p) == -EPROTO);
	memcpy(&c, &g, sizeof(g));
	c.d[epb + 8] = 5; /* interface 5 was never described */
	CHECK(pcapfile_init(&r, c.d, c.n) == 0 && pcapfile_next(&r, &p) == -EPROTO);
	CHECK(strstr(r.err, "interface") != NULL);
	memcpy(&c, &g, sizeof(g));
	c.d[epb + 20] = 0xff; /* captured length past the block */
	CHECK(pcapfile_init(&r, c.d, c.n) == 0 && pcapfile_next(&r, &p) == -EPROTO);
	memcpy(&c, &g, sizeof(g));
	c.d[8] = 0x99; /* byte-order magic */
	CHECK_EQ_INT(pcapfile_init(&r, c.d, c.n), -EPROTO);
}

/* ---- our writer, read back ---- */

static void test_writer(void)
{
	static uint8_t f[4096];
	uint8_t pkt[100];
	size_t n = ip4_tcp(pkt, 1, 2, 1000, 9092, 1, TCP_ACK, "x", 1);
	ssize_t h = pcapng_encode_header(f, sizeof(f), LINKTYPE_RAW, 262144);

	CHECK_EQ_INT(pcapng_encode_header(f, 59, LINKTYPE_RAW, 1), -ENOSPC);
	CHECK(h == 60);
	size_t o = (size_t)h;
	for (uint32_t i = 0; i < 3; i++) {
		pcapng_encode_epb_header(f + o, 1700000000123456789ull + i, (uint32_t)n - i, (uint32_t)n);
		o += PCAPNG_EPB_HEADER;
		memcpy(f + o, pkt, n - i);
		o += n - i;
		o += pcapng_encode_epb_trailer(f + o, (uint32_t)n - i);
	}
	CHECK_EQ_INT(o, 60 + pcapng_epb_size(n) + pcapng_epb_size(n - 1) + pcapng_epb_size(n - 2));
	struct pcapfile_reader r;
	struct pcap_pkt p;
	CHECK_EQ_INT(pcapfile_init(&r, f, o), 0);
	for (uint32_t i = 0; i < 3; i++) {
		CHECK_EQ_INT(pcapfile_next(&r, &p), 1);
		CHECK_EQ_INT(p.ts_ns, 1700000000123456789ull + i);
		CHECK_EQ_INT(p.caplen, n - i);
		CHECK_EQ_INT(p.wirelen, n);
	}
	CHECK_EQ_INT(pcapfile_next(&r, &p), 0);
}

/* ---- dissector ---- */

static void test_dissect(void)
{
	uint8_t ip[100], f[200];
	struct pkt_tcp t;
	size_t n = ip4_tcp(ip, 1, 2, 1234, 1883, 99, TCP_ACK | TCP_PSH, "abcd", 4);

	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_RAW, ip, n, &t), 1);
	CHECK(t.family == 4 && t.sport == 1234 && t.dport == 1883 && t.seq == 99);
	CHECK_MEM(t.payload, t.payload_len, "abcd", 4);
	CHECK_EQ_INT(t.src[3], 1);
	/* Ethernet with a VLAN tag, and padding after the IP packet. */
	memset(f, 0, sizeof(f));
	f[12] = 0x81, f[13] = 0x00, f[16] = 0x08, f[17] = 0x00;
	memcpy(f + 18, ip, n);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_EN10MB, f, 18 + n + 6, &t), 1);
	CHECK_EQ_INT(t.payload_len, 4);
	/* Linux cooked v1 and v2. */
	memset(f, 0, sizeof(f));
	f[14] = 0x08;
	memcpy(f + 16, ip, n);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_LINUX_SLL, f, 16 + n, &t), 1);
	memset(f, 0, sizeof(f));
	f[0] = 0x08;
	memcpy(f + 20, ip, n);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_LINUX_SLL2, f, 20 + n, &t), 1);
	/* BSD and OpenBSD loopback. */
	memset(f, 0, 4);
	f[0] = 2;
	memcpy(f + 4, ip, n);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_NULL, f, 4 + n, &t), 1);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_LOOP, f, 4 + n, &t), 1);
	/* IPv6 with a hop-by-hop header before TCP. */
	memset(f, 0, sizeof(f));
	f[0] = 0x60;
	f[5] = 8 + 20 + 2; /* payload length */
	f[6] = 0;          /* next: hop-by-hop */
	f[23] = 1;         /* ::1 */
	f[39] = 1;
	f[40] = 6; /* hop-by-hop: next TCP, length 0 (8 bytes) */
	memcpy(f + 48, ip + 20, 20);
	memcpy(f + 68, "hi", 2);
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_RAW, f, 70, &t), 1);
	CHECK(t.family == 6 && t.dport == 1883 && t.payload_len == 2 && t.src[15] == 1);
	/* UDP is not ours; cut headers are errors; every cut is safe. */
	ip[9] = 17;
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_RAW, ip, n, &t), 0);
	ip[9] = 6;
	CHECK_EQ_INT(pkt_dissect_tcp(LINKTYPE_RAW, ip, 30, &t), -EPROTO);
	CHECK_EQ_INT(pkt_dissect_tcp(999, ip, n, &t), 0);
	for (size_t cut = 0; cut < 70; cut++)
		CHECK(pkt_dissect_tcp(LINKTYPE_RAW, f, cut, &t) <= 0 || cut >= 68);
}

/* ---- reassembly and matching ---- */

static uint64_t now_ns;
static uint32_t ack_no; /* acknowledgment number of the next packet fed */

static void feed(struct wm *m, uint8_t s, uint8_t d, uint16_t sp, uint16_t dp, uint32_t seq,
		 uint8_t flags, const void *pl, size_t len)
{
	static uint8_t pkt[70000];
	struct pcap_pkt p = { .linktype = LINKTYPE_RAW };

	p.caplen = p.wirelen = ip4_tcp(pkt, s, d, sp, dp, seq, flags, pl, len);
	pkt[28] = (uint8_t)(ack_no >> 24), pkt[29] = (uint8_t)(ack_no >> 16);
	pkt[30] = (uint8_t)(ack_no >> 8), pkt[31] = (uint8_t)ack_no;
	ack_no = 0;
	p.data = pkt;
	p.ts_ns = now_ns;
	now_ns += 1000;
	wm_packet(m, &p);
}

/* Client 10.0.0.1:40000 <-> server 10.0.0.2:port; each acknowledges all
 * the other side has sent so far (cs, ss: the next sequence numbers). */
#define C2S(m, seq, pl, len) (ack_no = ss, feed(m, 1, 2, 40000, port, seq, TCP_ACK | TCP_PSH, pl, len))
#define S2C(m, seq, pl, len) (ack_no = cs, feed(m, 2, 1, port, 40000, seq, TCP_ACK | TCP_PSH, pl, len))
#define SYNS(m, cs, ss)                                                        \
	do {                                                                   \
		feed(m, 1, 2, 40000, port, cs - 1, TCP_SYN, NULL, 0);            \
		feed(m, 2, 1, port, 40000, ss - 1, TCP_SYN | TCP_ACK, NULL, 0);  \
	} while (0)

static size_t mqtt_stream(uint8_t *out, size_t cap, int from, int to)
{
	size_t o = 0;

	for (int id = from; id <= to; id++) {
		struct mqtt_publish pub = { .version = MQTT_V311, .topic = "t/x", .topic_len = 3,
					    .payload = (const uint8_t *)"payload", .payload_len = 7,
					    .packet_id = (uint16_t)id, .qos = 1 };
		o += (size_t)mqtt_encode_publish(out + o, cap - o, &pub, NULL);
	}
	return o;
}

static size_t ack_stream(uint8_t *out, size_t cap, int from, int to)
{
	size_t o = 0;

	for (int id = from; id <= to; id++)
		o += (size_t)mqtt_encode_ack(out + o, cap - o, MQTT_V311, MQTT_PUBACK, (uint16_t)id, 0);
	return o;
}

static void test_mqtt_reassembly(void)
{
	static uint8_t pubs[4096], acks[1024], conn[256];
	const uint16_t port = 1883;
	struct wm_opts o = { .proto = WM_AUTO };
	struct wire_stats s;
	struct wm_counts c;
	struct wm *m = wm_new(&o);
	struct mqtt_connect cn = { .version = MQTT_V311, .client_id = "c", .client_id_len = 1,
				   .keepalive = 60, .clean_start = true };
	size_t cl = (size_t)mqtt_encode_connect(conn, sizeof(conn), &cn);
	size_t pl = mqtt_stream(pubs, sizeof(pubs), 1, 20);
	size_t al = ack_stream(acks, sizeof(acks), 1, 20);
	uint32_t cs = 1000, ss = 5000;

	now_ns = 1000000;
	SYNS(m, cs, ss);
	C2S(m, cs, conn, cl);
	cs += (uint32_t)cl;
	/* Ten PUBLISH in one segment, the next ten split at odd places. */
	size_t ten = pl / 2;
	C2S(m, cs, pubs, ten);
	for (size_t off = ten; off < pl; off += 7) {
		size_t k = pl - off < 7 ? pl - off : 7;
		C2S(m, cs + (uint32_t)off, pubs + off, k);
	}
	/* A retransmit and an overlap: seen once. */
	C2S(m, cs, pubs, ten);
	C2S(m, cs + (uint32_t)ten - 3, pubs + ten - 3, 10);
	cs += (uint32_t)pl;
	/* Acks out of order: the second half first, then the first. */
	size_t half = al / 2;
	S2C(m, ss + (uint32_t)half, acks + half, al - half);
	S2C(m, ss, acks, half);
	ss += (uint32_t)al;
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.requests, 20);
	CHECK_EQ_INT(s.acks, 20);
	CHECK_EQ_INT(s.unmatched, 0);
	CHECK_EQ_INT(s.unparsed, 0);
	CHECK_EQ_INT(s.retransmits, 2);
	CHECK_EQ_INT(s.latency.total, 20);
	CHECK_EQ_INT(s.flows, 1);
	CHECK_EQ_INT(c.flows_by_proto[WM_MQTT], 1);
	CHECK_EQ_INT(c.req_frames, 20);
	CHECK_EQ_INT(c.pending, 0);
	CHECK_EQ_INT(s.bytes_out, cl + pl);
	CHECK_EQ_INT(s.bytes_in, al);

	/* A gap: PUBLISH 21..30 sent in three segments, the middle one never
	 * captured. The gap is one unparsed stretch; the stream resyncs at
	 * the next segment, which starts at a frame boundary. */
	size_t l2 = mqtt_stream(pubs, sizeof(pubs), 21, 30), fr = l2 / 10;
	C2S(m, cs, pubs, 3 * fr);
	/* frames 24, 25 lost */
	C2S(m, cs + (uint32_t)(5 * fr), pubs + 5 * fr, l2 - 5 * fr);
	cs += (uint32_t)l2;
	size_t l3 = ack_stream(acks, sizeof(acks), 21, 30);
	S2C(m, ss, acks, l3);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.requests, 28);
	CHECK_EQ_INT(s.acks, 28);
	CHECK_EQ_INT(s.unmatched, 2); /* acks of 24 and 25: their PUBLISH was lost */
	CHECK_EQ_INT(s.unparsed, 1);

	/* Garbage on the stream: one unparsed stretch, then back in step. */
	uint8_t junk[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0 };
	C2S(m, cs, junk, sizeof(junk));
	cs += sizeof(junk);
	size_t l4 = mqtt_stream(pubs, sizeof(pubs), 31, 31);
	C2S(m, cs, pubs, l4);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.unparsed, 2);
	CHECK_EQ_INT(s.requests, 29);
	CHECK_EQ_INT(c.pending, 1);
	wm_free(m);
}

/* Per-flow rows: two MQTT clients (one of them sending QoS 0), and a
 * flow --port leaves out. Each row is its own flow's share; the rows add
 * up to the totals; p50 and p99 are those of the flow's own acks. */
static void test_flow_rows(void)
{
	static uint8_t pub[64], ack[16];
	struct wm_opts o = { .proto = WM_AUTO, .ports = { 1883 }, .n_ports = 1, .flow_rows = true };
	struct wm *m = wm_new(&o);
	struct wire_stats s;
	struct wm_flow_row *rows;
	size_t n;
	static struct hist want;
	uint32_t cs = 100, ss = 900, cs2 = 7000;

	/* Client 10.0.0.1:40000: PUBLISH 1..5 at 1, 2, ... ms; all acked at 10 ms. */
	feed(m, 1, 2, 40000, 1883, cs - 1, TCP_SYN, NULL, 0);
	feed(m, 2, 1, 1883, 40000, ss - 1, TCP_SYN | TCP_ACK, NULL, 0);
	hist_reset(&want);
	for (int id = 1; id <= 5; id++) {
		struct mqtt_publish p = { .version = MQTT_V311, .topic = "t", .topic_len = 1,
					  .packet_id = (uint16_t)id, .qos = 1 };
		size_t l = (size_t)mqtt_encode_publish(pub, sizeof(pub), &p, NULL);
		now_ns = (uint64_t)id * 1000000;
		feed(m, 1, 2, 40000, 1883, cs, TCP_ACK | TCP_PSH, pub, l);
		cs += (uint32_t)l;
		hist_record(&want, 10000000 - (int64_t)id * 1000000);
	}
	for (int id = 1; id <= 5; id++) {
		size_t l = (size_t)mqtt_encode_ack(ack, sizeof(ack), MQTT_V311, MQTT_PUBACK,
						   (uint16_t)id, 0);
		now_ns = 10000000;
		feed(m, 2, 1, 1883, 40000, ss, TCP_ACK | TCP_PSH, ack, l);
		ss += (uint32_t)l;
	}
	/* Client 10.0.0.3:40001: two QoS 0 PUBLISH, done once on the wire. */
	for (int i = 0; i < 2; i++) {
		struct mqtt_publish p = { .version = MQTT_V311, .topic = "u", .topic_len = 1 };
		size_t l = (size_t)mqtt_encode_publish(pub, sizeof(pub), &p, NULL);
		feed(m, 3, 2, 40001, 1883, cs2, TCP_ACK | TCP_PSH, pub, l);
		cs2 += (uint32_t)l;
	}
	/* Not on --port 1883: no row, no count. */
	feed(m, 1, 2, 40002, 9092, 1, TCP_ACK | TCP_PSH, pub, 10);

	wm_result(m, &s, NULL);
	CHECK_EQ_INT(wm_flow_rows(m, &rows, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(s.flows, 2);
	if (n == 2) {
		const struct wm_flow_row *a = &rows[0], *b = &rows[1];
		CHECK(a->family == 4 && a->client_addr[3] == 1 && a->server_addr[3] == 2);
		CHECK_EQ_INT(a->client_port, 40000);
		CHECK_EQ_INT(a->server_port, 1883);
		CHECK_EQ_INT(a->proto, WM_MQTT);
		CHECK_EQ_INT(a->requests, 5);
		CHECK_EQ_INT(a->acks, 5);
		CHECK_EQ_INT(a->timed, 5);
		CHECK_EQ_INT(a->p50_ns, hist_percentile(&want, 50));
		CHECK_EQ_INT(a->p99_ns, hist_percentile(&want, 99));
		CHECK(a->p50_ns >= 7000000 && a->p50_ns < 7010000); /* 10 ms - 3 ms */
		CHECK(a->p99_ns >= 9000000 && a->p99_ns < 9010000);
		/* The second flow: no SYN seen, the listed port says who serves. */
		CHECK(b->client_addr[3] == 3 && b->client_port == 40001 && b->server_port == 1883);
		CHECK_EQ_INT(b->requests, 2);
		CHECK_EQ_INT(b->acks, 2);
		CHECK_EQ_INT(b->timed, 0);
		CHECK_EQ_INT(b->p50_ns, 0);
		CHECK_EQ_INT(a->requests + b->requests, s.requests);
		CHECK_EQ_INT(a->acks + b->acks, s.acks);
	}
	free(rows);
	wm_free(m);
}

static void test_kafka(void)
{
	static uint8_t req[4096], scratch[1];
	const uint16_t port = 9092;
	struct wm_opts o = { .proto = WM_AUTO };
	struct wire_stats s;
	struct wm_counts c;
	struct wm *m = wm_new(&o);
	uint32_t cs = 1, ss = 1;

	SYNS(m, cs, ss);
	for (int16_t ver = 7; ver <= 9; ver += 2) {
		struct kafka_produce p;
		CHECK_EQ_INT(kafka_produce_begin(&p, req, sizeof(req), ver, 42 + ver, "blast", 1, 1000,
						 "t", 1), 0);
		kafka_produce_partition_begin(&p, 0);
		kafka_batch_begin(&p, 1000, 0, scratch, 0);
		for (int i = 0; i < 3; i++)
			kafka_batch_add(&p, 1000, NULL, 0, (const uint8_t *)"v", 1, NULL, 0);
		kafka_batch_end(&p);
		ssize_t n = kafka_produce_end(&p);
		CHECK(n > 0);
		/* The request straddles two segments. */
		C2S(m, cs, req, 10);
		C2S(m, cs + 10, req + 10, (size_t)n - 10);
		cs += (uint32_t)n;
		/* The response (json shapes): v7 accepts partition 0, v9
		 * refuses it (NOT_LEADER_OR_FOLLOWER), so only v7's 3 records
		 * are acked. */
		static const uint8_t v7[] = {
			0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		};
		static const uint8_t v9[] = {
			0x00, /* response header v1: tagged fields */
			0x02, 0x02, 't', 0x02, 0, 0, 0, 0, 0x00, 0x06,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0x00,
		};
		const uint8_t *body = ver == 7 ? v7 : v9;
		size_t bl = ver == 7 ? sizeof(v7) : sizeof(v9);
		uint8_t resp[128] = { 0, 0, 0, (uint8_t)(4 + bl), 0, 0, 0, (uint8_t)(42 + ver) };
		memcpy(resp + 8, body, bl);
		S2C(m, ss, resp, 8 + bl);
		ss += (uint32_t)(8 + bl);
	}
	uint8_t stray[8] = { 0, 0, 0, 4, 0, 0, 0x30, 0x39 };
	S2C(m, ss, stray, sizeof(stray));
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.flows_by_proto[WM_KAFKA], 1);
	CHECK_EQ_INT(c.req_frames, 2);
	CHECK_EQ_INT(c.ack_frames, 2);
	CHECK_EQ_INT(s.requests, 6);
	CHECK_EQ_INT(s.acks, 3);
	CHECK_EQ_INT(s.unmatched, 1);
	CHECK_EQ_INT(s.unparsed, 0);
	CHECK_EQ_INT(s.latency.total, 3);
	wm_free(m);
}

static void test_ws(void)
{
	const uint16_t port = 7681;
	struct wm_opts o = { .proto = WM_WS };
	struct wire_stats s;
	struct wm_counts c;
	struct wm *m = wm_new(&o);
	const char *up = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
	const char *hdr = "BLWS0000abcd00000000000000070000000000000001rest";
	uint8_t frame[128], key[4] = { 1, 2, 3, 4 };
	ssize_t cf = ws_encode_frame(frame, sizeof(frame), WS_OP_TEXT, true, key,
				     (const uint8_t *)hdr, strlen(hdr));
	uint32_t cs = 1, ss = 1;

	C2S(m, cs, up, strlen(up));
	cs += (uint32_t)strlen(up);
	S2C(m, ss, resp, strlen(resp));
	ss += (uint32_t)strlen(resp);
	C2S(m, cs, frame, (size_t)cf);
	ssize_t sf = ws_encode_frame(frame, sizeof(frame), WS_OP_TEXT, true, NULL,
				     (const uint8_t *)hdr, strlen(hdr));
	S2C(m, ss, frame, (size_t)sf);
	/* The same message received on another connection. */
	feed(m, 3, 2, 40001, port, 1, TCP_ACK | TCP_PSH, up, strlen(up));
	feed(m, 2, 3, port, 40001, 1, TCP_ACK | TCP_PSH, resp, strlen(resp));
	feed(m, 2, 3, port, 40001, 1 + (uint32_t)strlen(resp), TCP_ACK | TCP_PSH, frame, (size_t)sf);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.requests, 1);
	CHECK_EQ_INT(s.acks, 2);
	CHECK_EQ_INT(s.unmatched, 0);
	CHECK_EQ_INT(s.unparsed, 0);
	wm_free(m);
}

/* MQTT over WebSocket: the messages' bytes are an MQTT stream, whose
 * frames may straddle messages. */
static void test_ws_mqtt(void)
{
	const uint16_t port = 8080;
	struct wm_opts o = { .proto = WM_AUTO };
	struct wire_stats s;
	struct wm_counts c;
	struct wm *m = wm_new(&o);
	static uint8_t mq[2048], fr[4096];
	const char *up = "GET /mqtt HTTP/1.1\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
	uint8_t key[4] = { 9, 8, 7, 6 };
	struct mqtt_connect cn = { .version = MQTT_V5, .client_id = "c", .client_id_len = 1,
				   .keepalive = 60, .clean_start = true };
	uint32_t cs = 1, ss = 1;

	SYNS(m, cs, ss);
	C2S(m, cs, up, strlen(up));
	cs += (uint32_t)strlen(up);
	S2C(m, ss, resp, strlen(resp));
	ss += (uint32_t)strlen(resp);
	size_t n = (size_t)mqtt_encode_connect(mq, sizeof(mq), &cn);
	for (int id = 1; id <= 4; id++) {
		struct mqtt_publish pub = { .version = MQTT_V5, .topic = "t", .topic_len = 1,
					    .payload = (const uint8_t *)"xyz", .payload_len = 3,
					    .packet_id = (uint16_t)id, .qos = 1 };
		n += (size_t)mqtt_encode_publish(mq + n, sizeof(mq) - n, &pub, NULL);
	}
	/* Two WebSocket messages, cut in the middle of a PUBLISH. */
	size_t half = n / 2 + 3, o1 = 0;
	o1 += (size_t)ws_encode_frame(fr, sizeof(fr), WS_OP_BINARY, true, key, mq, half);
	o1 += (size_t)ws_encode_frame(fr + o1, sizeof(fr) - o1, WS_OP_BINARY, true, key, mq + half,
				      n - half);
	C2S(m, cs, fr, o1);
	cs += (uint32_t)o1;
	size_t a = ack_stream(mq, sizeof(mq), 1, 4);
	size_t o2 = (size_t)ws_encode_frame(fr, sizeof(fr), WS_OP_BINARY, true, NULL, mq, a);
	S2C(m, ss, fr, o2);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.flows_by_proto[WM_WS], 1);
	CHECK_EQ_INT(s.requests, 4);
	CHECK_EQ_INT(s.acks, 4);
	CHECK_EQ_INT(s.unmatched, 0);
	CHECK_EQ_INT(s.unparsed, 0);
	wm_free(m);
}

/* The whole pipeline on a file: a pcapng with the client's SYN, and a
 * --port filter that leaves another flow out. */
/* The server's pure ACK with a SACK option of n blocks, {start, end} each. */
static void sack_ack(struct wm *m, uint16_t port, uint32_t seq, uint32_t ack, const uint32_t *b,
		     int n)
{
	static uint8_t pkt[80];
	struct pcap_pkt p = { .linktype = LINKTYPE_RAW, .data = pkt, .ts_ns = now_ns++ };
	size_t ol = 4 + 8 * (size_t)n, tot = 40 + ol;

	ip4_tcp(pkt, 2, 1, port, 40000, seq, TCP_ACK, NULL, 0);
	pkt[2] = (uint8_t)(tot >> 8), pkt[3] = (uint8_t)tot;
	pkt[32] = (uint8_t)((5 + ol / 4) << 4);
	for (int i = 0; i < 4; i++)
		pkt[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
	uint8_t *o = pkt + 40;
	o[0] = o[1] = 1; /* NOP NOP, as Linux pads it */
	o[2] = 5, o[3] = (uint8_t)(2 + 8 * n);
	for (int k = 0; k < 2 * n; k++)
		for (int i = 0; i < 4; i++)
			o[4 + 4 * k + i] = (uint8_t)(b[k] >> (24 - 8 * i));
	p.caplen = p.wirelen = (uint32_t)tot;
	wm_packet(m, &p);
}

/* Retransmissions the receiver reports as duplicates (RFC 2883 DSACK: the
 * first block below the cumulative ACK, or inside the second block) are
 * spurious; one a plain SACK follows is real. */
static void test_dsack(void)
{
	static uint8_t pubs[4096];
	const uint16_t port = 1883;
	struct wm_opts o = { .proto = WM_MQTT };
	struct wire_stats s;
	struct wm *m = wm_new(&o);
	uint32_t cs = 1000, ss = 5000;
	size_t n = mqtt_stream(pubs, sizeof(pubs), 1, 4);

	SYNS(m, cs, ss);
	C2S(m, cs, pubs, n);
	C2S(m, cs, pubs, n); /* a probe: the receiver had it */
	sack_ack(m, port, ss, cs + (uint32_t)n, (const uint32_t[]){ cs, cs + (uint32_t)n }, 1);
	cs += (uint32_t)n;
	C2S(m, cs, pubs, n);
	C2S(m, cs, pubs, n);
	uint32_t in2[] = { cs + 4, cs + 8, cs, cs + (uint32_t)n }; /* inside the second block */
	sack_ack(m, port, ss, cs, in2, 2);
	cs += (uint32_t)n;
	C2S(m, cs, pubs, n);
	C2S(m, cs, pubs, n); /* then a plain SACK above the ACK: real */
	uint32_t end = cs + (uint32_t)n;
	sack_ack(m, port, ss, end, (const uint32_t[]){ end + 10, end + 20 }, 1);
	wm_result(m, &s, NULL);
	CHECK_EQ_INT(s.retransmits, 3);
	CHECK_EQ_INT(s.retrans_dsack, 2);
	CHECK_EQ_INT(s.retrans_real, 1);
	CHECK_EQ_INT(s.retrans_tlp, 0);
	wm_free(m);
}

static void test_buffer(void)
{
	static struct b f;
	static uint8_t pubs[512], acks[128], pkt[1024];
	size_t pl = mqtt_stream(pubs, sizeof(pubs), 1, 5), al = ack_stream(acks, sizeof(acks), 1, 5);
	struct wire_stats s;
	struct wm_counts c;
	char err[200];

	f.n = 0;
	f.be = false;
	ng_shb(&f);
	ng_idb(&f, LINKTYPE_RAW, 9);
	for (int flow = 0; flow < 2; flow++) {
		uint16_t port = flow ? 2000 : 1999;
		size_t n = ip4_tcp(pkt, 1, 2, 40000, port, 0, TCP_SYN, NULL, 0);
		ng_epb(&f, 0, 10, pkt, (uint32_t)n);
		n = ip4_tcp(pkt, 1, 2, 40000, port, 1, TCP_ACK, pubs, pl);
		ng_epb(&f, 0, 20, pkt, (uint32_t)n);
		n = ip4_tcp(pkt, 2, 1, port, 40000, 1, TCP_ACK, acks, al);
		ng_epb(&f, 0, 50, pkt, (uint32_t)n);
	}
	struct wm_opts o = { .proto = WM_MQTT, .ports = { 2000 }, .n_ports = 1 };
	CHECK_EQ_INT(wm_analyze_buffer(f.d, f.n, &o, &s, &c, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(s.flows, 1);
	CHECK_EQ_INT(s.requests, 5);
	CHECK_EQ_INT(s.acks, 5);
	CHECK_EQ_INT(s.latency.min, 30);
	CHECK_EQ_INT(s.source, WIRE_PCAP);
	CHECK_EQ_INT(wm_analyze_buffer(f.d, f.n - 3, &o, &s, &c, NULL, NULL, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "truncated") != NULL);
}

int main(void)
{
	test_classic();
	test_pcapng();
	test_writer();
	test_dissect();
	test_mqtt_reassembly();
	test_flow_rows();
	test_kafka();
	test_ws();
	test_ws_mqtt();
	test_dsack();
	test_buffer();
	return t_done("test_pcap");
}
