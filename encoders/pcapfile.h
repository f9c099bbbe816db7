/* Packet capture files, read and written without libpcap: classic pcap
 * (microsecond and nanosecond magic, either byte order) and pcapng (SHB,
 * IDB, EPB, SPB; if_tsresol; several interfaces and sections), and the
 * link, IP and TCP headers inside each packet. Pure: no I/O, no globals,
 * no allocation.
 *
 * Reader contract: never reads past buf + len, whatever the bytes are. A
 * corrupt or truncated file is an error with a one-line reason in
 * r->err, never a crash. Packet data points into the caller's bytes. */
#ifndef BLAST_PCAPFILE_H
#define BLAST_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Link types (tcpdump.org/linktypes.html) the dissector understands. */
enum {
	LINKTYPE_NULL = 0,        /* BSD loopback: 4-byte host-order family */
	LINKTYPE_EN10MB = 1,
	LINKTYPE_RAW = 101,
	LINKTYPE_LOOP = 108,      /* OpenBSD loopback: network-order family */
	LINKTYPE_LINUX_SLL = 113,
	LINKTYPE_LINUX_SLL2 = 276,
	LINKTYPE_IPV4 = 228,
	LINKTYPE_IPV6 = 229,
};

#define PCAP_MAX_IFACES 64

struct pcap_iface {
	uint16_t linktype;
	uint32_t snaplen;
	/* Timestamps are units of 10^-exp10 s (if_tsresol high bit clear) or
	 * 2^-exp2 s (high bit set); one of the two is used. */
	bool pow2;
	uint8_t exp;
};

struct pcapfile_reader {
	const uint8_t *buf;
	size_t len, pos;
	bool ng;          /* pcapng, else classic pcap */
	bool swap;        /* the section's byte order is not ours */
	struct pcap_iface ifaces[PCAP_MAX_IFACES]; /* classic: one */
	unsigned n_ifaces;
	uint64_t index;   /* packets returned so far */
	/* Drops the file itself records: pcapng Interface Statistics Blocks'
	 * isb_ifdrop (the interface's) and isb_osdrop (the capture's buffer
	 * full), cumulative per interface, so each interface's last block
	 * counts. Classic pcap records none. See pcapfile_drops. */
	uint64_t ifdrop[PCAP_MAX_IFACES], osdrop[PCAP_MAX_IFACES];
	uint64_t ifdrop_done, osdrop_done; /* earlier sections' */
	bool drops_known; /* an ISB carried isb_ifdrop or isb_osdrop */
	char err[160];    /* why pcapfile_next or pcapfile_init failed */
};

struct pcap_pkt {
	uint64_t ts_ns;   /* since the epoch */
	uint16_t linktype;
	uint32_t iface;
	const uint8_t *data;
	size_t caplen;    /* bytes present at data */
	size_t wirelen;   /* bytes on the wire (>= caplen when snapped) */
};

/* Recognises the format from the first block or header. 0, or -EPROTO
 * (err says why). */
int pcapfile_init(struct pcapfile_reader *r, const uint8_t *buf, size_t len);
/* Next packet: 1 with *p filled, 0 at the clean end of the file, -EPROTO
 * for a corrupt or truncated file (err names the packet or block and the
 * offset). Blocks that carry no packet (NRB, custom...) are skipped; an
 * ISB's drop counts are kept for pcapfile_drops. */
int pcapfile_next(struct pcapfile_reader *r, struct pcap_pkt *p);

/* Packets the file says were dropped so far (interface, capture): false
 * when it records nothing about drops (classic pcap, or no ISB with them). */
bool pcapfile_drops(const struct pcapfile_reader *r, uint64_t *ifdrop, uint64_t *osdrop);

/* ---- link, IP and TCP ---- */

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

struct pkt_tcp {
	uint8_t family;    /* 4 or 6 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, the rest 0 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t n_sack;    /* SACK blocks in the options (RFC 2018), at most 4 */
	uint32_t sack[4][2]; /* [start, end) each, in the order sent */
	const uint8_t *payload;
	size_t payload_len; /* bytes captured */
	size_t payload_wire; /* bytes the IP header says were sent (> len when snapped) */
};

/* Finds the TCP segment in one captured packet. 1 when it is TCP over IPv4
 * or IPv6 (extension headers skipped), 0 when it is something else (ARP,
 * UDP, a fragment after the first, an unknown link type), -EPROTO when the
 * headers are cut short or inconsistent. */
int pkt_dissect_tcp(uint16_t linktype, const uint8_t *data, size_t len, struct pkt_tcp *out);

/* ---- pcapng writing (little endian, one interface, nanoseconds) ---- */

/* Section Header Block (no options) + Interface Description Block with
 * if_tsresol = 9. Bytes written, or -ENOSPC. */
ssize_t pcapng_encode_header(uint8_t *out, size_t cap, uint16_t linktype, uint32_t snaplen);
/* Enhanced Packet Block header for a packet of caplen bytes; the data
 * follows, then pcapng_epb_trailer. Total block size is
 * pcapng_epb_size(caplen). */
#define PCAPNG_EPB_HEADER 28
size_t pcapng_epb_size(size_t caplen);
void pcapng_encode_epb_header(uint8_t out[PCAPNG_EPB_HEADER], uint64_t ts_ns, uint32_t caplen,
			      uint32_t wirelen);
/* Padding (to 4 bytes) and the trailing block length: returns bytes written
 * (at most 7). */
size_t pcapng_encode_epb_trailer(uint8_t out[8], uint32_t caplen);
/* Interface Statistics Block for interface 0: isb_ifdrop and isb_osdrop,
 * so that a reader knows what the capture lost. */
#define PCAPNG_ISB_SIZE 52
void pcapng_encode_isb(uint8_t out[PCAPNG_ISB_SIZE], uint64_t ts_ns, uint64_t ifdrop,
		       uint64_t osdrop);

#endif
