/* Capture files: classic pcap (both magics, both byte orders), crafted
 * pcapng blocks (several interfaces, if_tsresol in powers of 10 and 2,
 * SPB, unknown blocks, a big-endian section, Interface Statistics Blocks'
 * drop counts), every truncation and some
 * corruptions of them; our own pcapng writer read back; and the link, IP
 * and TCP dissector. Reassembly and matching: test_wire_match.c. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/pcapfile.h"
#include "pcap_build.h"
#include "t.h"

/* ---- classic pcap ---- */

static void classic_file(struct capfile *f, bool ns, bool be, uint16_t linktype)
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

static void classic_pkt(struct capfile *f, uint32_t sec, uint32_t frac, const void *d, uint32_t n)
{
	p32(f, sec);
	p32(f, frac);
	p32(f, n);
	p32(f, n);
	pmem(f, d, n);
}

static void test_classic(void)
{
	static struct capfile f;
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

static void test_pcapng(void)
{
	static struct capfile f;
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
		static struct capfile s;
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
	static struct capfile g;
	g.n = 0;
	g.be = false;
	ng_shb(&g);
	ng_idb(&g, LINKTYPE_RAW, 9);
	size_t epb = g.n;
	ng_epb(&g, 0, 1, pkt, (uint32_t)n);
	static struct capfile c;
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

/* An ISB's option: code, 8-byte value, in the section's byte order. */
static void isb_opt(struct capfile *s, uint16_t code, uint64_t v)
{
	p16(s, code);
	p16(s, 8);
	if (s->be) {
		p32(s, (uint32_t)(v >> 32));
		p32(s, (uint32_t)v);
	} else {
		p32(s, (uint32_t)v);
		p32(s, (uint32_t)(v >> 32));
	}
}

static void isb(struct capfile *f, uint32_t ifc, uint64_t ifdrop, uint64_t osdrop, bool opts)
{
	static struct capfile s;
	s.n = 0;
	s.be = f->be;
	p32(&s, ifc);
	p32(&s, 0);
	p32(&s, 7);
	if (opts) {
		isb_opt(&s, 4, 1000); /* isb_ifrecv: not a drop */
		isb_opt(&s, 5, ifdrop);
		isb_opt(&s, 7, osdrop);
		p32(&s, 0);
	}
	ng_block(f, 5, &s);
}

/* Interface Statistics Blocks: the drops a file records, cumulative per
 * interface (the last block of each counts), summed over interfaces and
 * sections, in either byte order; none recorded is said apart from zero. */
static void test_isb(void)
{
	static struct capfile f;
	uint8_t pkt[100];
	size_t n = ip4_tcp(pkt, 1, 2, 1000, 1883, 7, TCP_ACK, "abc", 3);
	struct pcapfile_reader r;
	struct pcap_pkt p;
	uint64_t ifd, osd;

	for (int be = 0; be < 2; be++) {
		f.n = 0;
		f.be = be;
		ng_shb(&f);
		ng_idb(&f, LINKTYPE_RAW, 9);
		ng_idb(&f, LINKTYPE_RAW, 9);
		ng_epb(&f, 0, 1, pkt, (uint32_t)n);
		isb(&f, 0, 0, 0, false); /* no options: says nothing */
		CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
		while (pcapfile_next(&r, &p) == 1)
			;
		CHECK(!pcapfile_drops(&r, &ifd, &osd) && ifd == 0 && osd == 0);
		isb(&f, 0, 1, 2, true);
		isb(&f, 0, 3, 5, true);        /* cumulative: replaces the one above */
		isb(&f, 1, 0, 0x100000000ull, true);
		ng_shb(&f);                    /* a new section: its own interfaces */
		ng_idb(&f, LINKTYPE_RAW, 9);
		isb(&f, 0, 10, 20, true);
		ng_epb(&f, 0, 2, pkt, (uint32_t)n);
		CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
		int e, pkts = 0;
		while ((e = pcapfile_next(&r, &p)) == 1)
			pkts++;
		CHECK_EQ_INT(e, 0);
		CHECK_EQ_INT(pkts, 2);
		CHECK(pcapfile_drops(&r, &ifd, &osd));
		CHECK_EQ_INT(ifd, 13);
		CHECK(osd == 25 + 0x100000000ull);
	}
	/* Our writer's block reads back. */
	f.n = 0;
	f.be = false;
	ng_shb(&f);
	ng_idb(&f, LINKTYPE_RAW, 9);
	pcapng_encode_isb(f.d + f.n, 5, 7, 0x123456789ull);
	f.n += PCAPNG_ISB_SIZE;
	CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
	CHECK_EQ_INT(pcapfile_next(&r, &p), 0);
	CHECK(pcapfile_drops(&r, &ifd, &osd) && ifd == 7 && osd == 0x123456789ull);
	/* Corrupt ones: an undescribed interface, a drop count of 4 bytes. */
	size_t at = f.n;
	isb(&f, 3, 1, 1, true);
	CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
	CHECK_EQ_INT(pcapfile_next(&r, &p), -EPROTO);
	CHECK(strstr(r.err, "interface") != NULL);
	f.n = at;
	static struct capfile s;
	s.n = 0;
	s.be = false;
	p32(&s, 0);
	p32(&s, 0);
	p32(&s, 0);
	p16(&s, 5);
	p16(&s, 4);
	p32(&s, 1);
	p32(&s, 0);
	ng_block(&f, 5, &s);
	CHECK_EQ_INT(pcapfile_init(&r, f.d, f.n), 0);
	CHECK_EQ_INT(pcapfile_next(&r, &p), -EPROTO);
	CHECK(strstr(r.err, "8 bytes") != NULL);
	/* Cut anywhere inside: an error, never a read past the end. */
	for (size_t cut = at + 1; cut < f.n; cut++) {
		CHECK_EQ_INT(pcapfile_init(&r, f.d, cut), 0);
		CHECK_EQ_INT(pcapfile_next(&r, &p), -EPROTO);
	}
}

int main(void)
{
	test_classic();
	test_pcapng();
	test_isb();
	test_writer();
	test_dissect();
	return t_done("test_pcap");
}
