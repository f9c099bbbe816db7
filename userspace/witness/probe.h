/* --probe: kernel programs on the path to the target that see each request
 * and its ack as packets (bpf/wire_probe.bpf.c), for the run only. Every
 * program is attached through a link held by blast's own file descriptors,
 * so nothing stays behind however blast ends (normal end, SIGINT, SIGKILL). */
#ifndef BLAST_PROBE_H
#define BLAST_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/wire.h"

struct blast_opts;
struct kafka_meta;
struct probe;

/* Loads and attaches the programs for o's targets (km's brokers for
 * Kafka). Call before any worker connects. Returns NULL after printing one
 * warning line on stderr when probing is impossible (no privileges, no BPF,
 * an unsupported protocol); the run then goes on unprobed. */
struct probe *probe_start(const struct blast_opts *o, const struct kafka_meta *km);
/* In a forked worker, before it connects: its connections are counted. */
void probe_worker_init(struct probe *p);
/* Sums the programs' maps into *out (source WIRE_PROBE). 0 or -errno. */
int probe_read(struct probe *p, struct wire_stats *out);
/* Adds to out (an empty or used histogram) the wire latencies recorded
 * since the last call, every one so far on the first: for the live
 * dashboard, which keeps its own count apart from the live line's. 0 or
 * -errno. */
int probe_latency_new(struct probe *p, struct hist *out);
/* The live line's second half: the wire's requests and acks per second,
 * and its p50 and p99 since the last call. NULL prints nothing. */
void probe_live(struct probe *p, FILE *f, double elapsed_s, uint64_t now_ns);
/* Detaches and unloads. NULL is fine. */
void probe_stop(struct probe *p);

/* For tests of the parser (tests/unit/test_wire_probe.c): the programs
 * loaded, attached nowhere, counting every flow in the "flows" map (MQTT
 * fast rows 0..PROBE_TEST_FAST_SLOTS-1); a map's fd by name; the tc
 * program's fd. */
#define PROBE_TEST_FAST_SLOTS 8
struct probe *probe_load(void);
int probe_map_fd(struct probe *p, const char *name);
int probe_prog_fd(struct probe *p, bool egress);

#endif
