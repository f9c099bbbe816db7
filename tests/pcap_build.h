/* Builders for the capture tests (test_pcap.c, test_wire_match.c): a
 * capture file assembled byte by byte in either byte order, raw IPv4 TCP
 * packets, and pcapng blocks. Crafted by hand rather than with our own
 * writer, so the reader is checked against the format, not against
 * itself. Inline, so a test that leaves one out compiles without
 * warnings. */
#ifndef BLAST_TESTS_PCAP_BUILD_H
#define BLAST_TESTS_PCAP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A capture file being built. */
struct capfile {
	uint8_t d[1 << 17];
	size_t n;
	bool be; /* multi-byte fields big endian */
};

static inline void p8(struct capfile *b, uint8_t v)
{
	b->d[b->n++] = v;
}

static inline void p16(struct capfile *b, uint16_t v)
{
	if (b->be) {
		p8(b, (uint8_t)(v >> 8));
		p8(b, (uint8_t)v);
	} else {
		p8(b, (uint8_t)v);
		p8(b, (uint8_t)(v >> 8));
	}
}

static inline void p32(struct capfile *b, uint32_t v)
{
	if (b->be) {
		p16(b, (uint16_t)(v >> 16));
		p16(b, (uint16_t)v);
	} else {
		p16(b, (uint16_t)v);
		p16(b, (uint16_t)(v >> 16));
	}
}

static inline void pmem(struct capfile *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

/* A raw IPv4 TCP packet 10.0.0.S:sport -> 10.0.0.D:dport. */
static inline size_t ip4_tcp(uint8_t *o, uint8_t s, uint8_t d, uint16_t sport, uint16_t dport,
			     uint32_t seq, uint8_t flags, const void *pl, size_t len)
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

/* ---- pcapng ---- */

static inline void ng_block(struct capfile *f, uint32_t type, const struct capfile *body)
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

static inline void ng_shb(struct capfile *f)
{
	static struct capfile s;
	s.n = 0;
	s.be = f->be;
	p32(&s, 0x1a2b3c4d);
	p16(&s, 1);
	p16(&s, 0);
	p32(&s, 0xffffffff);
	p32(&s, 0xffffffff);
	ng_block(f, 0x0a0d0d0a, &s);
}

static inline void ng_idb(struct capfile *f, uint16_t linktype, int tsresol)
{
	static struct capfile s;
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

static inline void ng_epb(struct capfile *f, uint32_t ifc, uint64_t ts, const void *d, uint32_t n)
{
	static struct capfile s;
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

#endif
