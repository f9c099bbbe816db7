/* The spellings of each enum of a run (config/names.h). */
#include <string.h>

#include "config/limit_cfg.h"
#include "config/names.h"
#include "config/opts.h"
#include "encoders/sasl.h"

const struct name_value proto_names[] = {
	{ "mqtt", PROTO_MQTT }, { "kafka", PROTO_KAFKA }, { "ws", PROTO_WS }, { "http", PROTO_HTTP },
	{ NULL, 0 },
};

const struct name_value transport_names[] = {
	{ "tcp", TRANSPORT_TCP }, { "ws", TRANSPORT_WS }, { NULL, 0 },
};

const struct name_value tls_version_names[] = {
	{ "1.2", TLS_VERSION_12 }, { "1.3", TLS_VERSION_13 }, { NULL, 0 },
};

const struct name_value tls_resume_names[] = {
	{ "ticket", TLS_RESUME_TICKET }, { "id", TLS_RESUME_ID }, { "off", TLS_RESUME_OFF },
	{ "psk", TLS_RESUME_PSK },
	{ NULL, 0 },
};

/* As Kafka's SaslHandshake names them (and as typed in lower case). */
const struct name_value sasl_mech_names[] = {
	{ "PLAIN", SASL_PLAIN }, { "SCRAM-SHA-256", SASL_SCRAM_SHA_256 },
	{ "SCRAM-SHA-512", SASL_SCRAM_SHA_512 }, { "plain", SASL_PLAIN },
	{ "scram-sha-256", SASL_SCRAM_SHA_256 }, { "scram-sha-512", SASL_SCRAM_SHA_512 },
	{ NULL, 0 },
};

const struct name_value rx_stamps_names[] = {
	{ "auto", RX_STAMPS_AUTO },
	{ "segment", RX_STAMPS_SEGMENT },
	{ "read", RX_STAMPS_READ },
	{ NULL, 0 },
};

const struct name_value qos_names[] = {
	{ "0", 0 }, { "1", 1 }, { "2", 2 }, { NULL, 0 },
};

const struct name_value mqtt_version_names[] = {
	{ "3.1.1", 4 }, { "311", 4 }, { "4", 4 }, { "5", 5 }, { "5.0", 5 }, { NULL, 0 },
};

const struct name_value acks_names[] = {
	{ "0", 0 }, { "1", 1 }, { "all", -1 }, { "-1", -1 }, { NULL, 0 },
};

const struct name_value compression_names[] = {
	{ "none", KCOMP_NONE },
	{ "gzip", KCOMP_GZIP },
	{ "snappy", NAME_UNSUPPORTED },
	{ "lz4", NAME_UNSUPPORTED },
	{ "zstd", NAME_UNSUPPORTED },
	{ NULL, 0 },
};

const struct name_value limit_mode_names[] = {
	{ "rate", LIMIT_RATE }, { "conns", LIMIT_CONNS }, { NULL, 0 },
};

int name_find(const struct name_value *t, const char *s, int *value)
{
	for (; t->name; t++) {
		if (!strcmp(t->name, s)) {
			*value = t->value;
			return 0;
		}
	}
	return -1;
}

const char *name_of(const struct name_value *t, int value)
{
	for (; t->name; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

const char *opts_proto_name(const struct blast_opts *o)
{
	const char *name = o ? name_of(proto_names, (int)o->proto) : NULL;

	return name ? name : "mqtt";
}
