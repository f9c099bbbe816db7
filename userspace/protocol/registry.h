/* The protocols, by --proto: each one's ops table for the engine. */
#ifndef BLAST_PROTOCOL_REGISTRY_H
#define BLAST_PROTOCOL_REGISTRY_H

#include "config/opts.h"
#include "engine/protocol.h"

extern const struct proto_ops mqtt_proto;
extern const struct proto_ops kafka_proto;
extern const struct proto_ops ws_proto;
extern const struct proto_ops http_proto;

/* The ops table for o->proto. */
const struct proto_ops *protocol_for(const struct blast_opts *o);

#endif
