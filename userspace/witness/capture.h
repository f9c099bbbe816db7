/* --pcap FILE.pcapng: the run's traffic to and from its targets, captured
 * with libpcap (nanosecond timestamps, a 64 MiB TPACKET_V3 ring) on a
 * thread of its own, written as pcapng by our own writer
 * (libpcap 1.10 writes classic pcap only), then analysed after the run
 * with the code of `blast analyze` into results.wire_pcap.
 *
 * Fork: the handle is opened and activated in the parent before any worker
 * exists, so the handshakes are captured; the reader thread runs only
 * while no fork happens (resume after the workers are forked, pause once
 * they have exited), and each worker closes the capture's descriptors. */
#ifndef BLAST_CAPTURE_H
#define BLAST_CAPTURE_H

#include <stdbool.h>

#include "protocol/kafka_meta.h"
#include "config/opts.h"
#include "stats/wire.h"

/* Nothing happens without o->pcap_path. 0, or one line on stderr and the
 * exit status (BLAST_EXIT_USAGE). */
int capture_open(const struct blast_opts *o, const struct kafka_meta *km);
/* In a forked worker: closes the capture's descriptors. */
void capture_child(void);
/* Parent, after forking the workers: the reader thread starts. */
void capture_resume(void);
/* Parent, once the workers have exited: what the kernel still holds is
 * written, the reader thread stops. */
void capture_pause(void);
/* Closes the file, warns of kernel drops and of --pcap-max-bytes, and
 * analyses the file into *out. Returns true when *out was filled. */
bool capture_finish(struct wire_stats *out);

#endif
