/* libFuzzer target for capture files and the capture witness.
 *
 * 1. The input as a capture file: read every packet (each must lie inside
 *    the input), dissect each (the payload must lie inside the packet),
 *    and run the whole analysis on it under each protocol; a failure must
 *    come with its one-line reason.
 * 2. The input as TCP payloads: cut into segments at places the input
 *    picks, sent either way on one connection (sometimes repeated, held
 *    back or dropped), written with our pcapng writer, read back (every
 *    packet must come back) and analysed: reassembly and the MQTT, Kafka
 *    and WebSocket matchers see arbitrary streams. Some files end with an
 *    Interface Statistics Block, whose drops must read back.
 * The per-flow rows (in part 1 under auto-detection) must add up to the totals.
 * Both parts read TLS flows with a key log (RFC 8448's client random with
 * its secrets, and a TLS 1.2 master secret for it): a stream that opens
 * with such a ClientHello goes through the decryption, and every TLS flow
 * must be counted as decrypted, without a key or failed.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files:
 *   cc -DWITH_MAIN -Iencoders -Iuserspace tests/fuzz/fuzz_pcap.c encoders/[a-z]*.c \
 *      userspace/hist.c -lz -lm */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/pcapfile.h"
#include "witness/tls_keys.h"
#include "witness/wire_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, size_t n, const void *lo, size_t len)
{
	const uint8_t *b = p, *l = lo;

	return n == 0 || (b >= l && n <= len && (size_t)(b - l) <= len - n);
}

static struct wire_stats st;

#define RFC8448_RANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"

static const struct tls_keylog *keylog(void)
{
	static const char text[] =
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RFC8448_RANDOM
		" b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " RFC8448_RANDOM
		" b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
		"CLIENT_TRAFFIC_SECRET_0 " RFC8448_RANDOM
		" 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
		"SERVER_TRAFFIC_SECRET_0 " RFC8448_RANDOM
		" a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n"
		"CLIENT_RANDOM " RFC8448_RANDOM " 0102030405060708090a0b0c0d0e0f10111213141516171819"
		"1a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30\n";
	static struct tls_keylog kl;
	char err[200];

	if (!kl.n && tls_keylog_parse(text, sizeof(text) - 1, &kl, err, sizeof(err)))
		abort();
	return &kl;
}

/* Analyses with per-flow rows and checks that they add up to the totals. */
static int analyze_rows(const uint8_t *data, size_t size, const struct wm_opts *o,
			struct wm_counts *c, char *err, size_t err_cap)
{
	struct wm_opts ro = *o;
	struct wm_flow_row *rows;
	size_t n;
	uint64_t req = 0, acks = 0, timed = 0;

	ro.flow_rows = true;
	int e = wm_analyze_buffer(data, size, &ro, &st, c, &rows, &n, err, err_cap);
	if (e)
		return e;
	assert(n == st.flows);
	for (size_t i = 0; i < n; i++) {
		req += rows[i].requests;
		acks += rows[i].acks;
		timed += rows[i].timed;
		assert(rows[i].p50_ns <= rows[i].p99_ns);
		assert(rows[i].proto <= WM_HTTP);
	}
	assert(req == st.requests && acks == st.acks && timed == st.latency.total);
	assert(st.tls_flows == st.tls_decrypted + st.tls_no_key + st.tls_failed);
	assert(st.tls_flows <= st.flows);
	free(rows);
	return 0;
}

static void as_file(const uint8_t *data, size_t size)
{
	struct pcapfile_reader r;
	struct pcap_pkt p;
	struct pkt_tcp t;
	struct wm_counts c;
	char err[200];
	int e;

	if (pcapfile_init(&r, data, size) == 0) {
		while ((e = pcapfile_next(&r, &p)) == 1) {
			assert(inside(p.data, p.caplen, data, size));
			if (pkt_dissect_tcp(p.linktype, p.data, p.caplen, &t) == 1)
				assert(inside(t.payload, t.payload_len, p.data, p.caplen));
		}
		assert(e == 0 || r.err[0]);
	}
	for (int proto = WM_AUTO; proto <= WM_HTTP; proto++) {
		struct wm_opts o = { .proto = (enum wm_proto)proto, .keylog = keylog() };
		err[0] = 0;
		if (proto == WM_AUTO ? analyze_rows(data, size, &o, &c, err, sizeof(err)) :
				       wm_analyze_buffer(data, size, &o, &st, &c, NULL, NULL, err,
							 sizeof(err)))
			assert(err[0]);
		else /* a damaged tail is reported only behind packets read */
			assert(!c.read_err[0] || c.packets > 0);
	}
}

static size_t ip4_tcp(uint8_t *o, bool up, uint32_t seq, uint32_t ack, uint8_t flags,
		      const uint8_t *pl, size_t len)
{
	size_t tot = 40 + len;
	uint16_t sport = up ? 40000 : 1883, dport = up ? 1883 : 40000;

	memset(o, 0, 40);
	o[0] = 0x45;
	o[2] = (uint8_t)(tot >> 8);
	o[3] = (uint8_t)tot;
	o[9] = 6;
	o[12] = 127, o[15] = up ? 1 : 2;
	o[16] = 127, o[19] = up ? 2 : 1;
	o[20] = (uint8_t)(sport >> 8), o[21] = (uint8_t)sport;
	o[22] = (uint8_t)(dport >> 8), o[23] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		o[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
		o[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	o[32] = 5 << 4;
	o[33] = flags;
	if (len)
		memcpy(o + 40, pl, len);
	return tot;
}

static void as_streams(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	enum wm_proto proto = (enum wm_proto)(data[0] % 5);
	uint8_t ctl = data[1];
	data += 2;
	size -= 2;
	if (size > 4096) /* whole captures are part 1's business */
		size = 4096;
	/* Room for every segment's EPB (at most one per input byte, each
	 * maybe twice) and the header. */
	size_t cap = 64 + 2 * (size + 1) * (32 + 40 + 4) + 2 * size + PCAPNG_ISB_SIZE;
	uint8_t *f = malloc(cap), pkt[40 + 256];
	uint32_t seq[2] = { 1000, 5000 };
	size_t o = (size_t)pcapng_encode_header(f, cap, LINKTYPE_RAW, 262144);
	uint64_t ts = 1, written = 0;

	/* The handshake, unless the input says to join mid-stream. */
	for (int up = 1; !(ctl & 1) && up >= 0; up--) {
		size_t n = ip4_tcp(pkt, up, seq[!up] - 1, 0, up ? 0x02 : 0x12, NULL, 0);
		pcapng_encode_epb_header(f + o, ts++, (uint32_t)n, (uint32_t)n);
		memcpy(f + o + PCAPNG_EPB_HEADER, pkt, n);
		o += PCAPNG_EPB_HEADER + n;
		o += pcapng_encode_epb_trailer(f + o, (uint32_t)n);
		written++;
	}
	/* Each segment: a control byte (length 1..64, direction, repeat,
	 * drop), then that many payload bytes. */
	size_t i = 0;
	while (i < size) {
		uint8_t c = data[i++];
		size_t len = (size_t)(c & 63) + 1;
		bool up = !(c & 64);
		if (len > size - i)
			len = size - i;
		int copies = (c & 128) && (ctl & 2) ? 2 : 1;
		bool drop = (c & 128) && (ctl & 4);
		for (int k = 0; k < copies && !drop && len; k++) {
			size_t n = ip4_tcp(pkt, up, seq[!up], seq[up], 0x18, data + i, len);
			pcapng_encode_epb_header(f + o, ts++, (uint32_t)n, (uint32_t)n);
			memcpy(f + o + PCAPNG_EPB_HEADER, pkt, n);
			o += PCAPNG_EPB_HEADER + n;
			o += pcapng_encode_epb_trailer(f + o, (uint32_t)n);
			written++;
		}
		seq[!up] += (uint32_t)len;
		i += len;
	}
	/* Sometimes the capture's statistics: the drops it records. */
	if (ctl & 8) {
		pcapng_encode_isb(f + o, ts, ctl >> 4, (uint64_t)ctl << 33);
		o += PCAPNG_ISB_SIZE;
	}
	assert(o <= cap);

	struct pcapfile_reader r;
	struct pcap_pkt p;
	uint64_t read = 0;
	assert(pcapfile_init(&r, f, o) == 0);
	while (pcapfile_next(&r, &p) == 1)
		read++;
	assert(read == written);

	struct wm_opts wo = { .proto = proto, .keylog = keylog() };
	struct wm_counts c;
	char err[200];
	assert(analyze_rows(f, o, &wo, &c, err, sizeof(err)) == 0);
	assert(c.packets == written);
	assert(!c.read_err[0]);
	assert(c.drops_known == !!(ctl & 8));
	assert(!c.drops_known || (c.ifdrop == (uint64_t)(ctl >> 4) && c.osdrop == (uint64_t)ctl << 33));
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_file(data, size);
	as_streams(data, size);
	return 0;
}

#include "replay.h"
