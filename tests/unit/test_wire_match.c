/* The capture witness's TCP reassembly and matching (witness/wire_match.c)
 * on crafted packets: MQTT, Kafka, WebSocket and MQTT over WebSocket;
 * frames split across segments, many frames in one segment, retransmits,
 * overlaps, out-of-order segments, gaps and the resynchronisation after
 * them; per-flow rows; DSACK; gaps; the warnings that say a capture is
 * partial; and the whole pipeline on a pcapng buffer (a damaged tail, drops
 * an ISB records). */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/mqtt.h"
#include "encoders/pcapfile.h"
#include "encoders/ws.h"
#include "pcap_build.h"
#include "t.h"
#include "witness/analyze.h"
#include "witness/wire_match.h"

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
	CHECK_EQ_INT(c.gaps, 0);
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
	CHECK_EQ_INT(c.gaps, 1);

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
	CHECK_EQ_INT(c.gaps, 1); /* garbage is unparsed, not a hole */
	wm_free(m);
}

/* Holes the capture has: a last segment the server acknowledged but the
 * capture never had (nothing after it to hold), and a packet the snap
 * length cut. A FIN the peer acknowledges is no hole. */
static void test_gaps(void)
{
	static uint8_t pubs[1024];
	const uint16_t port = 1883;
	struct wm_opts o = { .proto = WM_MQTT };
	struct wire_stats s;
	struct wm_counts c;
	uint32_t cs = 1000, ss = 5000;
	size_t n = mqtt_stream(pubs, sizeof(pubs), 1, 4), half = n / 2;
	struct wm *m = wm_new(&o);

	SYNS(m, cs, ss);
	C2S(m, cs, pubs, half);
	ack_no = cs + 1;
	feed(m, 2, 1, port, 40000, ss, TCP_ACK, NULL, 0);
	ack_no = ss;
	feed(m, 1, 2, 40000, port, cs + (uint32_t)half, TCP_ACK | TCP_FIN, NULL, 0);
	/* The server acknowledges the data and the FIN, one past it. */
	ack_no = cs + (uint32_t)half + 1;
	feed(m, 2, 1, port, 40000, ss, TCP_ACK, NULL, 0);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.gaps, 0);
	wm_free(m);

	m = wm_new(&o);
	SYNS(m, cs, ss);
	C2S(m, cs, pubs, half); /* the second half never captured ... */
	ack_no = cs + (uint32_t)n; /* ... but acknowledged */
	feed(m, 2, 1, port, 40000, ss, TCP_ACK, NULL, 0);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.gaps, 1);
	CHECK_EQ_INT(s.requests, 2);
	wm_result(m, &s, &c); /* asking twice counts it once */
	CHECK_EQ_INT(c.gaps, 1);
	wm_free(m);

	static uint8_t pkt[2048];
	m = wm_new(&o);
	SYNS(m, cs, ss);
	struct pcap_pkt p = { .linktype = LINKTYPE_RAW, .data = pkt, .ts_ns = 1 };
	p.wirelen = ip4_tcp(pkt, 1, 2, 40000, port, cs, TCP_ACK, pubs, n);
	p.caplen = p.wirelen - 5; /* snapped */
	wm_packet(m, &p);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.gaps, 1);
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

/* The whole pipeline on a file: a pcapng with the client's SYN, and a
 * --port filter that leaves another flow out. */
static void test_buffer(void)
{
	static struct capfile f;
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
	CHECK(!c.read_err[0] && !c.drops_known && !c.gaps);
	/* Cut short in the last packet: the figures of what came before it,
	 * and why the rest is missing. */
	CHECK_EQ_INT(wm_analyze_buffer(f.d, f.n - 3, &o, &s, &c, NULL, NULL, err, sizeof(err)), 0);
	CHECK(strstr(c.read_err, "truncated") != NULL);
	CHECK_EQ_INT(s.requests, 5);
	CHECK_EQ_INT(s.acks, 0);
	CHECK_EQ_INT(c.pending, 5);
	/* Cut short before any packet: nothing to show, an error. */
	CHECK_EQ_INT(wm_analyze_buffer(f.d, 70, &o, &s, &c, NULL, NULL, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "truncated") != NULL);
	/* The drops an Interface Statistics Block records. */
	static uint8_t isb[PCAPNG_ISB_SIZE];
	pcapng_encode_isb(isb, 99, 3, 4);
	memcpy(f.d + f.n, isb, sizeof(isb));
	CHECK_EQ_INT(wm_analyze_buffer(f.d, f.n + sizeof(isb), &o, &s, &c, NULL, NULL, err,
				       sizeof(err)), 0);
	CHECK(c.drops_known && c.ifdrop == 3 && c.osdrop == 4 && !c.read_err[0]);
	CHECK_EQ_INT(s.acks, 5);
}

/* Which findings make a capture partial, in order, and what each line
 * says; a whole capture has none. */
static void test_warnings(void)
{
	struct wire_stats s = { .flows = 2, .requests = 5, .acks = 5 };
	struct wm_counts c = { .req_frames = 5, .ack_frames = 5, .drops_known = true };
	struct wm_opts o = { .proto = WM_AUTO };
	struct analyze_warnings w;

	analyze_warnings(&s, &c, &o, &w);
	CHECK_EQ_INT(w.n, 0);
	c.gaps = 3;
	c.osdrop = 7;
	c.ifdrop = 1;
	s.unmatched = 2;
	snprintf(c.read_err, sizeof(c.read_err), "truncated block at byte 99 (packet 4)");
	analyze_warnings(&s, &c, &o, &w);
	CHECK_EQ_INT(w.n, 4);
	CHECK(w.kind[0] == AW_READ && strstr(w.line[0], "truncated block at byte 99") != NULL);
	CHECK(w.kind[1] == AW_DROPS && strstr(w.line[1], "8 packets dropped (7 by the capture, 1 by") != NULL);
	CHECK(w.kind[2] == AW_GAPS && strstr(w.line[2], "3 gaps") != NULL);
	CHECK(w.kind[3] == AW_UNMATCHED && strstr(w.line[3], "2 acks matched no request") != NULL);
	CHECK(!strcmp(analyze_warning_name(AW_GAPS), "gaps"));
	/* Recorded drops of 0 are no warning; unknown drops are none either. */
	c = (struct wm_counts){ .req_frames = 1, .drops_known = true };
	s.unmatched = 0;
	analyze_warnings(&s, &c, &o, &w);
	CHECK_EQ_INT(w.n, 0);
	/* Nothing matching: no flow on the ports, or flows with no message. */
	struct wm_opts po = { .proto = WM_KAFKA, .ports = { 9092, 9093 }, .n_ports = 2 };
	s.flows = 0;
	analyze_warnings(&s, &c, &po, &w);
	CHECK(w.n == 1 && w.kind[0] == AW_NO_FLOW);
	CHECK(strstr(w.line[0], "no TCP flow to --port 9092, 9093") != NULL);
	s.flows = 3;
	c.req_frames = 0;
	analyze_warnings(&s, &c, &po, &w);
	CHECK(w.n == 1 && w.kind[0] == AW_NO_MESSAGE);
	CHECK(strstr(w.line[0], "none of the 3 flows to --port 9092, 9093 carried a request or an ack as --proto kafka") != NULL);
}

/* HTTP/1.1, recognised by its first bytes: pipelined requests (one with a
 * body, one HEAD) split across segments, answered in order: a length,
 * a HEAD's (no body whatever its Content-Length says), a chunked one split
 * mid-chunk after a 100 Continue, and a 500 (answered, not acked). A GET
 * asking to upgrade is WebSocket. */
static void test_http(void)
{
	const uint16_t port = 8080;
	struct wm_opts o = { .proto = WM_AUTO, .flow_rows = true };
	struct wire_stats s;
	struct wm_counts c;
	struct wm_flow_row *rows;
	size_t n;
	struct wm *m = wm_new(&o);
	const char *req = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
			  "POST /p HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhello"
			  "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /e HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nPONG"
			   "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
			   "HTTP/1.1 100 Continue\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
			   "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno";
	size_t rl = strlen(req), sl = strlen(resp), cut = 30, scut = sl - 50;
	uint32_t cs = 1, ss = 1;

	SYNS(m, cs, ss);
	C2S(m, cs, req, 7); /* too few bytes to tell */
	C2S(m, cs + 7, req + 7, cut - 7);
	C2S(m, cs + (uint32_t)cut, req + cut, rl - cut);
	cs += (uint32_t)rl;
	S2C(m, ss, resp, scut);
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.requests, 5);
	CHECK_EQ_INT(c.ack_frames, 3);
	S2C(m, ss + (uint32_t)scut, resp + scut, sl - scut);
	ss += (uint32_t)sl;
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.flows_by_proto[WM_HTTP], 1);
	CHECK_EQ_INT(c.req_frames, 5);
	CHECK_EQ_INT(c.ack_frames, 5);
	CHECK_EQ_INT(s.requests, 5);
	CHECK_EQ_INT(s.acks, 4);
	CHECK_EQ_INT(c.pending, 0);
	CHECK_EQ_INT(s.unmatched, 0);
	CHECK_EQ_INT(s.unparsed, 0);
	CHECK_EQ_INT(wm_flow_rows(m, &rows, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(rows[0].proto, WM_HTTP);
	CHECK_EQ_INT(rows[0].timed, 4);
	CHECK(rows[0].p50_ns > 0);
	free(rows);
	/* A response nobody asked for. */
	const char *extra = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	S2C(m, ss, extra, strlen(extra));
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.unmatched, 1);
	wm_free(m);

	/* An upgrade is WebSocket; a bad chunk size is unparsed. */
	m = wm_new(&o);
	const char *up = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	feed(m, 1, 2, 40001, port, 1, TCP_ACK | TCP_PSH, up, strlen(up));
	feed(m, 1, 2, 40002, port, 0, TCP_SYN, NULL, 0);
	feed(m, 2, 1, port, 40002, 0, TCP_SYN | TCP_ACK, NULL, 0);
	feed(m, 1, 2, 40002, port, 1, TCP_ACK | TCP_PSH, req, 31);
	const char *bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	feed(m, 2, 1, port, 40002, 1, TCP_ACK | TCP_PSH, bad, strlen(bad));
	wm_result(m, &s, &c);
	CHECK_EQ_INT(c.flows_by_proto[WM_WS], 1);
	CHECK_EQ_INT(c.flows_by_proto[WM_HTTP], 1);
	CHECK_EQ_INT(s.requests, 1);
	CHECK_EQ_INT(s.acks, 0);
	CHECK_EQ_INT(s.unparsed, 1);
	wm_free(m);

	/* A body without length runs until the server's FIN; one cut by a
	 * FIN mid-length stays pending. */
	m = wm_new(&o);
	const char *eof = "HTTP/1.1 200 OK\r\n\r\nuntil the close";
	const char *cut2 = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort";
	for (int k = 0; k < 2; k++) {
		uint16_t cp = (uint16_t)(40010 + k);
		const char *r = k ? cut2 : eof;
		feed(m, 1, 2, cp, port, 0, TCP_SYN, NULL, 0);
		feed(m, 2, 1, port, cp, 0, TCP_SYN | TCP_ACK, NULL, 0);
		feed(m, 1, 2, cp, port, 1, TCP_ACK | TCP_PSH, req, 31);
		feed(m, 2, 1, port, cp, 1, TCP_ACK | TCP_PSH, r, strlen(r));
		wm_result(m, &s, &c);
		CHECK_EQ_INT(s.acks, k); /* this flow's answer waits for the FIN */
		feed(m, 2, 1, port, cp, 1 + (uint32_t)strlen(r), TCP_ACK | TCP_FIN, NULL, 0);
	}
	wm_result(m, &s, &c);
	CHECK_EQ_INT(s.requests, 2);
	CHECK_EQ_INT(s.acks, 1);
	CHECK_EQ_INT(c.pending, 1);
	CHECK_EQ_INT(s.unparsed, 0);
	wm_free(m);
}

int main(void)
{
	test_warnings();
	test_mqtt_reassembly();
	test_flow_rows();
	test_kafka();
	test_ws();
	test_ws_mqtt();
	test_http();
	test_dsack();
	test_gaps();
	test_buffer();
	return t_done("test_wire_match");
}
