/* Capture files and packet headers. Formats: "PCAP Capture File Format"
 * and "PCAP Next Generation Dump File Format" (IETF opsawg drafts,
 * draft-ietf-opsawg-pcap and draft-ietf-opsawg-pcapng). Every read goes
 * through need(), which checks the bytes are there first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pcapfile.h"
#include "rbuf.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 0x00000001u
#define NG_OPB 0x00000002u /* obsolete Packet Block */
#define NG_SPB 0x00000003u
#define NG_ISB 0x00000005u
#define NG_EPB 0x00000006u
#define NG_BOM 0x1a2b3c4du
#define NG_OPT_TSRESOL 9
#define NG_OPT_IFDROP 5
#define NG_OPT_OSDROP 7

static uint16_t rd16(const uint8_t *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint64_t rd64(const uint8_t *p, bool swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

static int bad(struct pcapfile_reader *r, const char *what, size_t at)
{
	snprintf(r->err, sizeof(r->err), "%s at byte %zu (packet %llu)", what, at,
		 (unsigned long long)r->index + 1);
	return -EPROTO;
}

static uint64_t pow10u(unsigned e)
{
	uint64_t v = 1;

	while (e--)
		v *= 10;
	return v;
}

/* Units of the interface's resolution to nanoseconds (wrapping on absurd
 * values is harmless: unsigned). */
static uint64_t to_ns(const struct pcap_iface *f, uint64_t v)
{
	if (f->pow2)
		return (uint64_t)(((unsigned __int128)v * 1000000000u) >> f->exp);
	if (f->exp <= 9)
		return v * pow10u(9 - f->exp);
	return v / pow10u(f->exp - 9);
}

/* ---- pcapng ---- */

/* Reads the SHB at r->pos: byte order, then the block length. */
static int ng_section(struct pcapfile_reader *r)
{
	const uint8_t *b = r->buf + r->pos;
	size_t left = r->len - r->pos;

	if (left < 28)
		return bad(r, "truncated Section Header Block", r->pos);
	uint32_t bom;
	memcpy(&bom, b + 8, 4);
	if (bom == NG_BOM)
		r->swap = false;
	else if (__builtin_bswap32(bom) == NG_BOM)
		r->swap = true;
	else
		return bad(r, "bad byte-order magic in Section Header Block", r->pos + 8);
	if (rd16(b + 12, r->swap) != 1)
		return bad(r, "unsupported pcapng major version", r->pos + 12);
	/* Interface ids are per section: keep what the last one recorded. */
	for (unsigned i = 0; i < PCAP_MAX_IFACES; i++) {
		r->ifdrop_done += r->ifdrop[i];
		r->osdrop_done += r->osdrop[i];
		r->ifdrop[i] = r->osdrop[i] = 0;
	}
	r->n_ifaces = 0;
	return 0;
}

/* A walk over a block body's options: o is where the next one starts;
 * ng_option sets the current one's code, length and offset (at). */
struct ng_opt {
	size_t o, at;
	uint16_t code, len;
};

/* The next option: 1, or 0 at opt_endofopt or the body's end, or bad()
 * with overrun when the option runs past the body. */
static int ng_option(struct pcapfile_reader *r, const uint8_t *body, size_t n, struct ng_opt *op,
		     const char *overrun)
{
	if (op->o + 4 > n)
		return 0;
	op->at = op->o;
	op->code = rd16(body + op->at, r->swap);
	op->len = rd16(body + op->at + 2, r->swap);
	if (op->code == 0)
		return 0;
	size_t padded = ((size_t)op->len + 3) & ~(size_t)3;
	if (padded > n - op->at - 4)
		return bad(r, overrun, r->pos + 8 + op->at);
	op->o = op->at + 4 + padded;
	return 1;
}

/* An Interface Statistics Block: its drop counters, if it has them. */
static int ng_isb(struct pcapfile_reader *r, const uint8_t *body, size_t n)
{
	if (n < 12)
		return bad(r, "truncated Interface Statistics Block", r->pos);
	uint32_t ifc = rd32(body, r->swap);
	if (ifc >= r->n_ifaces)
		return bad(r, "statistics name an interface not described", r->pos + 8);
	struct ng_opt op = { .o = 12 };
	int k;
	while ((k = ng_option(r, body, n, &op, "option runs past its Interface Statistics Block")) > 0) {
		if (op.code != NG_OPT_IFDROP && op.code != NG_OPT_OSDROP)
			continue;
		if (op.len != 8)
			return bad(r, "a drop count is not 8 bytes", r->pos + 8 + op.at);
		*(op.code == NG_OPT_IFDROP ? &r->ifdrop[ifc] : &r->osdrop[ifc]) =
			rd64(body + op.at + 4, r->swap);
		r->drops_known = true;
	}
	return k;
}

bool pcapfile_drops(const struct pcapfile_reader *r, uint64_t *ifdrop, uint64_t *osdrop)
{
	uint64_t i = r->ifdrop_done, o = r->osdrop_done;

	for (unsigned k = 0; k < PCAP_MAX_IFACES; k++) {
		i += r->ifdrop[k];
		o += r->osdrop[k];
	}
	*ifdrop = i;
	*osdrop = o;
	return r->drops_known;
}

/* Walks an IDB's options for if_tsresol. */
static int ng_idb(struct pcapfile_reader *r, const uint8_t *body, size_t n)
{
	if (n < 8)
		return bad(r, "truncated Interface Description Block", r->pos);
	if (r->n_ifaces >= PCAP_MAX_IFACES)
		return bad(r, "more than 64 interfaces in one section", r->pos);
	struct pcap_iface *f = &r->ifaces[r->n_ifaces];
	f->linktype = rd16(body, r->swap);
	f->snaplen = rd32(body + 4, r->swap);
	f->pow2 = false;
	f->exp = 6; /* default: microseconds */
	struct ng_opt op = { .o = 8 };
	int k;
	while ((k = ng_option(r, body, n, &op, "option runs past its Interface Description Block")) > 0) {
		if (op.code == NG_OPT_TSRESOL) {
			if (op.len != 1)
				return bad(r, "if_tsresol is not 1 byte", r->pos + 8 + op.at);
			uint8_t v = body[op.at + 4];
			f->pow2 = v & 0x80;
			f->exp = v & 0x7f;
			if ((f->pow2 && f->exp > 63) || (!f->pow2 && f->exp > 19))
				return bad(r, "if_tsresol out of range", r->pos + 8 + op.at);
		}
	}
	if (k < 0)
		return k;
	r->n_ifaces++;
	return 0;
}

static int ng_next(struct pcapfile_reader *r, struct pcap_pkt *p)
{
	for (;;) {
		size_t left = r->len - r->pos;
		const uint8_t *b = r->buf + r->pos;

		if (left == 0)
			return 0;
		if (left < 12)
			return bad(r, "truncated block header", r->pos);
		uint32_t type = rd32(b, r->swap);
		if (type == NG_SHB) {
			int e = ng_section(r);
			if (e)
				return e;
		}
		uint32_t blen = rd32(b + 4, r->swap);
		if (blen < 12 || blen % 4)
			return bad(r, "bad block length", r->pos + 4);
		if (blen > left)
			return bad(r, "truncated block", r->pos);
		if (rd32(b + blen - 4, r->swap) != blen)
			return bad(r, "block lengths disagree", r->pos + blen - 4);
		const uint8_t *body = b + 8;
		size_t n = blen - 12;

		if (type == NG_SHB) {
			r->pos += blen;
			continue;
		}
		if (type == NG_IDB) {
			int e = ng_idb(r, body, n);
			if (e)
				return e;
			r->pos += blen;
			continue;
		}
		if (type == NG_ISB) {
			int e = ng_isb(r, body, n);
			if (e)
				return e;
			r->pos += blen;
			continue;
		}
		if (type == NG_EPB || type == NG_OPB || type == NG_SPB) {
			uint32_t ifc = 0, caplen, wirelen;
			uint64_t ts = 0;
			size_t hdr;
			if (type == NG_SPB) {
				if (n < 4)
					return bad(r, "truncated Simple Packet Block", r->pos);
				wirelen = rd32(body, r->swap);
				hdr = 4;
				caplen = wirelen;
				if (r->n_ifaces && r->ifaces[0].snaplen && caplen > r->ifaces[0].snaplen)
					caplen = r->ifaces[0].snaplen;
				if (caplen > n - hdr)
					caplen = (uint32_t)(n - hdr);
			} else {
				if (n < 20)
					return bad(r, "truncated packet block", r->pos);
				if (type == NG_EPB)
					ifc = rd32(body, r->swap);
				else
					ifc = rd16(body, r->swap);
				ts = (uint64_t)rd32(body + 4, r->swap) << 32 | rd32(body + 8, r->swap);
				caplen = rd32(body + 12, r->swap);
				wirelen = rd32(body + 16, r->swap);
				hdr = 20;
				if (caplen > n - hdr)
					return bad(r, "packet data runs past its block", r->pos);
			}
			if (ifc >= r->n_ifaces)
				return bad(r, "packet names an interface not described", r->pos + 8);
			const struct pcap_iface *f = &r->ifaces[ifc];
			p->ts_ns = to_ns(f, ts);
			p->linktype = f->linktype;
			p->iface = ifc;
			p->data = body + hdr;
			p->caplen = caplen;
			p->wirelen = wirelen < caplen ? caplen : wirelen;
			r->pos += blen;
			r->index++;
			return 1;
		}
		r->pos += blen; /* NRB, DSB, custom: nothing to do */
	}
}

/* ---- classic pcap ---- */

static int classic_next(struct pcapfile_reader *r, struct pcap_pkt *p)
{
	size_t left = r->len - r->pos;
	const uint8_t *b = r->buf + r->pos;

	if (left == 0)
		return 0;
	if (left < 16)
		return bad(r, "truncated packet header", r->pos);
	uint32_t sec = rd32(b, r->swap), frac = rd32(b + 4, r->swap);
	uint32_t caplen = rd32(b + 8, r->swap), wirelen = rd32(b + 12, r->swap);
	if (caplen > left - 16)
		return bad(r, "truncated packet data", r->pos + 16);
	/* A record far over the snap length is a corrupt header, not data. */
	if (caplen > 262144 && caplen > r->ifaces[0].snaplen)
		return bad(r, "packet longer than the snap length", r->pos + 8);
	const struct pcap_iface *f = &r->ifaces[0];
	uint64_t units = f->exp == 9 ? 1000000000u : 1000000u;
	if (frac >= units)
		return bad(r, "timestamp fraction out of range", r->pos + 4);
	p->ts_ns = (uint64_t)sec * 1000000000u + to_ns(f, frac);
	p->linktype = f->linktype;
	p->iface = 0;
	p->data = b + 16;
	p->caplen = caplen;
	p->wirelen = wirelen < caplen ? caplen : wirelen;
	r->pos += 16 + (size_t)caplen;
	r->index++;
	return 1;
}

int pcapfile_init(struct pcapfile_reader *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	if (len < 4)
		return bad(r, "file too short for a pcap or pcapng header", 0);
	uint32_t m;
	memcpy(&m, buf, 4);
	if (m == NG_SHB) { /* a palindrome: the BOM tells the order */
		r->ng = true;
		return ng_section(r);
	}
	bool ns;
	if (m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS) {
		r->swap = false;
		ns = m == PCAP_MAGIC_NS;
	} else if (__builtin_bswap32(m) == PCAP_MAGIC_US || __builtin_bswap32(m) == PCAP_MAGIC_NS) {
		r->swap = true;
		ns = __builtin_bswap32(m) == PCAP_MAGIC_NS;
	} else {
		snprintf(r->err, sizeof(r->err), "not a pcap or pcapng file (magic %08x)", rb_be32(buf));
		return -EPROTO;
	}
	if (len < 24)
		return bad(r, "truncated pcap file header", 0);
	if (rd16(buf + 4, r->swap) != 2)
		return bad(r, "unsupported pcap major version", 4);
	r->ifaces[0].snaplen = rd32(buf + 16, r->swap);
	r->ifaces[0].linktype = (uint16_t)rd32(buf + 20, r->swap);
	r->ifaces[0].exp = ns ? 9 : 6;
	r->n_ifaces = 1;
	r->pos = 24;
	return 0;
}

int pcapfile_next(struct pcapfile_reader *r, struct pcap_pkt *p)
{
	if (r->pos > r->len)
		return bad(r, "reader past the end", r->pos);
	return r->ng ? ng_next(r, p) : classic_next(r, p);
}

/* ---- link, IP, TCP ---- */

/* The SACK option's blocks, if any; a malformed option list ends the walk. */
static void tcp_sack(const uint8_t *opt, size_t n, struct pkt_tcp *o)
{
	size_t i = 0;

	o->n_sack = 0;
	while (i < n && opt[i] != 0) {
		if (opt[i] == 1) { /* NOP */
			i++;
			continue;
		}
		if (i + 1 >= n || opt[i + 1] < 2 || i + opt[i + 1] > n)
			return;
		if (opt[i] == 5) {
			size_t blocks = (size_t)(opt[i + 1] - 2) / 8;
			for (size_t b = 0; b < blocks && b < 4; b++) {
				o->sack[b][0] = rb_be32(opt + i + 2 + 8 * b);
				o->sack[b][1] = rb_be32(opt + i + 6 + 8 * b);
			}
			o->n_sack = (uint8_t)(blocks < 4 ? blocks : 4);
		}
		i += opt[i + 1];
	}
}

static int tcp_hdr(const uint8_t *t, size_t avail, size_t wire, struct pkt_tcp *o)
{
	if (avail < 20 || wire < 20)
		return -EPROTO;
	size_t hl = (size_t)(t[12] >> 4) * 4;
	if (hl < 20 || hl > avail || hl > wire)
		return -EPROTO;
	o->sport = rb_be16(t);
	o->dport = rb_be16(t + 2);
	o->seq = rb_be32(t + 4);
	o->ack = rb_be32(t + 8);
	o->flags = t[13];
	tcp_sack(t + 20, hl - 20, o);
	o->payload = t + hl;
	o->payload_len = avail - hl;
	o->payload_wire = wire - hl;
	return 1;
}

static int ipv4(const uint8_t *ip, size_t len, struct pkt_tcp *o)
{
	if (len < 20)
		return -EPROTO;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t tot = rb_be16(ip + 2);
	if (ihl < 20 || ihl > len || tot < ihl)
		return -EPROTO;
	if (ip[9] != 6)
		return 0;
	if (rb_be16(ip + 6) & 0x1fff)
		return 0; /* a later fragment: no TCP header */
	o->family = 4;
	memset(o->src, 0, sizeof(o->src));
	memset(o->dst, 0, sizeof(o->dst));
	memcpy(o->src, ip + 12, 4);
	memcpy(o->dst, ip + 16, 4);
	/* TSO on the sending host may leave the length 0: trust the capture. */
	size_t avail = len - ihl, wire = tot ? tot - ihl : avail;
	if (avail > wire)
		avail = wire; /* Ethernet padding */
	return tcp_hdr(ip + ihl, avail, wire, o);
}

static int ipv6(const uint8_t *ip, size_t len, struct pkt_tcp *o)
{
	if (len < 40)
		return -EPROTO;
	size_t plen = rb_be16(ip + 4), off = 40;
	uint8_t nh = ip[6];
	o->family = 6;
	memcpy(o->src, ip + 8, 16);
	memcpy(o->dst, ip + 24, 16);
	size_t wire = plen ? plen + 40 : len;
	for (int hops = 0; hops < 8; hops++) {
		if (nh == 6) {
			size_t avail = (len < wire ? len : wire);
			if (off > avail || off > wire)
				return -EPROTO;
			return tcp_hdr(ip + off, avail - off, wire - off, o);
		}
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
			return 0;
		if (off + 8 > len)
			return -EPROTO;
		if (nh == 44) {
			if (rb_be16(ip + off + 2) & 0xfff8)
				return 0;
			nh = ip[off];
			off += 8;
		} else {
			size_t hl = ((size_t)ip[off + 1] + 1) * 8;
			nh = ip[off];
			off += hl;
		}
	}
	return 0;
}

static int ip_any(const uint8_t *p, size_t len, struct pkt_tcp *o)
{
	if (len < 1)
		return -EPROTO;
	if (p[0] >> 4 == 4)
		return ipv4(p, len, o);
	if (p[0] >> 4 == 6)
		return ipv6(p, len, o);
	return 0;
}

static int by_ethertype(uint16_t et, const uint8_t *p, size_t len, struct pkt_tcp *o)
{
	if (et == 0x0800)
		return ipv4(p, len, o);
	if (et == 0x86dd)
		return ipv6(p, len, o);
	return 0;
}

int pkt_dissect_tcp(uint16_t linktype, const uint8_t *d, size_t len, struct pkt_tcp *o)
{
	switch (linktype) {
	case LINKTYPE_EN10MB: {
		size_t off = 12;
		if (len < 14)
			return -EPROTO;
		uint16_t et = rb_be16(d + off);
		for (int tags = 0; (et == 0x8100 || et == 0x88a8) && tags < 2; tags++) {
			off += 4;
			if (len < off + 2)
				return -EPROTO;
			et = rb_be16(d + off);
		}
		return by_ethertype(et, d + off + 2, len - off - 2, o);
	}
	case LINKTYPE_LINUX_SLL:
		if (len < 16)
			return -EPROTO;
		return by_ethertype(rb_be16(d + 14), d + 16, len - 16, o);
	case LINKTYPE_LINUX_SLL2:
		if (len < 20)
			return -EPROTO;
		return by_ethertype(rb_be16(d), d + 20, len - 20, o);
	case LINKTYPE_NULL:
	case LINKTYPE_LOOP:
		/* The family's byte order and value vary by OS: the IP
		 * version nibble says the same thing. */
		if (len < 4)
			return -EPROTO;
		return ip_any(d + 4, len - 4, o);
	case LINKTYPE_RAW:
	case LINKTYPE_IPV4:
	case LINKTYPE_IPV6:
		return ip_any(d, len, o);
	default:
		return 0;
	}
}

/* ---- pcapng writing ---- */

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

ssize_t pcapng_encode_header(uint8_t *out, size_t cap, uint16_t linktype, uint32_t snaplen)
{
	if (cap < 60)
		return -ENOSPC;
	/* SHB: no options, section length unknown (-1). */
	wr32(out, NG_SHB);
	wr32(out + 4, 28);
	wr32(out + 8, NG_BOM);
	wr16(out + 12, 1);
	wr16(out + 14, 0);
	memset(out + 16, 0xff, 8);
	wr32(out + 24, 28);
	/* IDB: if_tsresol = 9 (nanoseconds), then opt_endofopt. */
	uint8_t *i = out + 28;
	wr32(i, NG_IDB);
	wr32(i + 4, 32);
	wr16(i + 8, linktype);
	wr16(i + 10, 0);
	wr32(i + 12, snaplen);
	wr16(i + 16, NG_OPT_TSRESOL);
	wr16(i + 18, 1);
	i[20] = 9;
	i[21] = i[22] = i[23] = 0;
	wr32(i + 24, 0); /* opt_endofopt */
	wr32(i + 28, 32);
	return 60;
}

size_t pcapng_epb_size(size_t caplen)
{
	return 32 + ((caplen + 3) & ~(size_t)3);
}

void pcapng_encode_epb_header(uint8_t out[PCAPNG_EPB_HEADER], uint64_t ts_ns, uint32_t caplen,
			      uint32_t wirelen)
{
	wr32(out, NG_EPB);
	wr32(out + 4, (uint32_t)pcapng_epb_size(caplen));
	wr32(out + 8, 0);
	wr32(out + 12, (uint32_t)(ts_ns >> 32));
	wr32(out + 16, (uint32_t)ts_ns);
	wr32(out + 20, caplen);
	wr32(out + 24, wirelen);
}

size_t pcapng_encode_epb_trailer(uint8_t out[8], uint32_t caplen)
{
	size_t pad = (4 - caplen % 4) % 4;

	memset(out, 0, pad);
	wr32(out + pad, (uint32_t)pcapng_epb_size(caplen));
	return pad + 4;
}

void pcapng_encode_isb(uint8_t out[PCAPNG_ISB_SIZE], uint64_t ts_ns, uint64_t ifdrop,
		       uint64_t osdrop)
{
	wr32(out, NG_ISB);
	wr32(out + 4, PCAPNG_ISB_SIZE);
	wr32(out + 8, 0); /* interface 0 */
	wr32(out + 12, (uint32_t)(ts_ns >> 32));
	wr32(out + 16, (uint32_t)ts_ns);
	const struct { uint16_t code; uint64_t v; } opt[] = { { NG_OPT_IFDROP, ifdrop },
							       { NG_OPT_OSDROP, osdrop } };
	uint8_t *o = out + 20;
	for (size_t i = 0; i < 2; i++, o += 12) {
		wr16(o, opt[i].code);
		wr16(o + 2, 8);
		wr32(o + 4, (uint32_t)opt[i].v); /* little endian, as the section */
		wr32(o + 8, (uint32_t)(opt[i].v >> 32));
	}
	wr32(o, 0); /* opt_endofopt */
	wr32(o + 4, PCAPNG_ISB_SIZE);
}
