/* The protocols, by --proto (an explicit table: greppable, and nothing
 * for the linker to drop). */
#include "protocol/registry.h"

static const struct proto_ops *const protocols[] = {
	[PROTO_MQTT] = &mqtt_proto,
	[PROTO_KAFKA] = &kafka_proto,
	[PROTO_WS] = &ws_proto,
	[PROTO_HTTP] = &http_proto,
};

const struct proto_ops *protocol_for(const struct blast_opts *o)
{
	return protocols[o->proto];
}
