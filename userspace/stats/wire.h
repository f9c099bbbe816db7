/* The second witness: what the wire showed of a run, independently of the
 * client's own clock and bookkeeping. Filled either by the kernel probes
 * (--probe: tc programs on the path to the target) or by a packet capture
 * (--pcap, and `blast analyze FILE`), read by the summary and the JSON
 * report ("wire" object), where it sits next to the client's figures.
 *
 * A request is what blast (or any client) sends and expects an answer or a
 * receipt for: an MQTT PUBLISH, a Kafka Produce request, a WebSocket
 * message carrying blast's fan-out header. Kafka counts are records (those
 * of each RecordBatch of a Produce request, acked by its response), so that
 * they compare with the client's own. An ack is the answer matched to
 * a request: PUBACK (QoS 1) or PUBCOMP (QoS 2, via PUBREC) by packet id and
 * connection, a Produce response by correlation id and connection, and for
 * WebSocket every receipt of a message by its (run, sequence) header on any
 * connection. Latency runs from the segment carrying the request leaving
 * the client to the segment carrying the ack arriving back. */
#ifndef BLAST_WIRE_H
#define BLAST_WIRE_H

#include <stdint.h>

#include "stats/hist.h"

enum wire_source { WIRE_NONE = 0, WIRE_PROBE, WIRE_PCAP };

struct wire_stats {
	uint32_t source;        /* enum wire_source */
	uint64_t requests;      /* requests seen leaving the client */
	uint64_t acks;          /* acks (or receipts) matched to a request */
	uint64_t unmatched;     /* acks that matched no request seen */
	uint64_t unparsed;      /* stretches of stream that could not be parsed (resynced or given up) */
	uint64_t retransmits;   /* TCP retransmissions on the run's connections (segments), */
	uint64_t retrans_real;  /* of which: repaired a loss (all but the two below) */
	uint64_t retrans_tlp;   /* tail-loss probes not shown to repair a loss (probe only) */
	uint64_t retrans_dsack; /* other retransmissions the receiver reported as duplicates */
	uint64_t bytes_out, bytes_in; /* TCP payload bytes, client -> server and back */
	uint64_t segs_out, segs_in;   /* TCP segments with payload, each way */
	uint64_t flows;         /* connections seen */
	uint64_t srtt_us_max;   /* sockops: largest smoothed RTT seen, 0 if unknown */
	uint64_t srtt_us_mean;  /* sockops: mean of the last smoothed RTT per flow */
	uint64_t srtt_us_sum;   /* the sum and count behind that mean, so that a */
	uint64_t srtt_flows;    /* later reading minus an earlier one gives the flows between */
	struct hist latency;    /* request seen leaving -> ack seen arriving, ns */
	/* A capture's TLS flows, and how each ended (blast analyze --keylog):
	 * decrypted and matched as in the clear, no key for it, or failed. */
	uint64_t tls_flows, tls_decrypted, tls_no_key, tls_failed;
};

/* Retransmissions that were not needed: they add up to retransmits with
 * retrans_real. */
static inline uint64_t wire_retrans_spurious(const struct wire_stats *w)
{
	return w->retrans_tlp + w->retrans_dsack;
}

static inline const char *wire_source_name(uint32_t s)
{
	return s == WIRE_PROBE ? "probe" : s == WIRE_PCAP ? "pcap" : "none";
}

#endif
