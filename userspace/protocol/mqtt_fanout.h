/* MQTT fan-out (--subscribers): every subscribing connection (the
 * subscribers, and with --chat the publishers) subscribes to --sub-topic
 * with its CONNECT, is ready once the SUBACK is in, answers the broker's
 * QoS 1/2 deliveries, and counts each message of this run it receives
 * (blast's fan-out marker at the start of the payload) once, the rest as
 * duplicates, timed from the send on the wall clock (the same machine's
 * or, in a split run, another's: docs/distributed.md). */
#ifndef BLAST_MQTT_FANOUT_H
#define BLAST_MQTT_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "encoders/mqtt.h"

struct worker;
struct conn;

int mqfo_setup(struct worker *w);
void mqfo_teardown(struct worker *w);
/* SUBSCRIBE, sent right behind CONNECT (MQTT lets a client send before
 * the CONNACK, 3.1.1 3.1.4, 5.0 3.1.4). Bytes or -errno. */
ssize_t mqfo_subscribe(struct worker *w, struct conn *c, uint8_t *out, size_t cap);
/* Does c subscribe? Publishers only with --chat. */
bool mqfo_subscribes(const struct worker *w, const struct conn *c);
/* CONNACK accepted: the connection waits for its SUBACK to be ready. */
void mqfo_connacked(struct conn *c);
/* Broker frames for a fan-out connection. 0, or -1 when c was failed. */
int mqfo_on_suback(struct worker *w, struct conn *c, const struct mqtt_frame *f);
int mqfo_on_publish(struct worker *w, struct conn *c, const struct mqtt_frame *f);
int mqfo_on_pubrel(struct worker *w, struct conn *c, const struct mqtt_frame *f);
/* Owed PUBACK/PUBREC/PUBCOMP frames into out, as many as fit; bytes. */
size_t mqfo_put_acks(struct worker *w, struct conn *c, uint8_t *out, size_t cap, uint32_t *frames);
bool mqfo_owes(const struct conn *c);
/* What to add to this host's CLOCK_MONOTONIC for the wall clock: the
 * markers carry wall-clock send times, so a receiver on another machine
 * (a split run) times them too, as well as the clocks agree. */
uint64_t mqfo_wall_off(const struct worker *w);
/* A file line or protobuf message with room for the marker in front.
 * NULL when out of memory. */
const uint8_t *mqfo_payload(struct worker *w, const uint8_t *body, size_t n, size_t *len);

#endif
