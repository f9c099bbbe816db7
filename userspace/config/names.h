/* The words that stand for each enum of a run, as the command line takes
 * them and the reports print them: one table per enum, read both ways. */
#ifndef BLAST_NAMES_H
#define BLAST_NAMES_H

#include <limits.h>

/* One spelling of a value. A table ends with { NULL, 0 }; several
 * spellings may share a value, and the first of them is the one printed. */
struct name_value {
	const char *name;
	int value;
};

/* A spelling blast knows but does not support ("--compression snappy"),
 * so the error can say so instead of "must be". */
#define NAME_UNSUPPORTED INT_MIN

extern const struct name_value proto_names[];        /* enum blast_proto */
extern const struct name_value transport_names[];    /* enum blast_transport */
extern const struct name_value rx_stamps_names[];    /* enum rx_stamps */
extern const struct name_value tls_version_names[];  /* enum tls_version */
extern const struct name_value tls_resume_names[];   /* enum tls_resume */
extern const struct name_value sasl_mech_names[];    /* enum sasl_mech (encoders/sasl.h) */
extern const struct name_value qos_names[];          /* MQTT QoS 0, 1, 2 */
extern const struct name_value mqtt_version_names[]; /* the protocol level: 4 or 5 */
extern const struct name_value acks_names[];         /* Kafka acks: 0, 1 or -1 */
extern const struct name_value compression_names[];  /* enum kafka_compression */
extern const struct name_value limit_mode_names[];   /* enum limit_mode, as --find-limit */

/* Sets *value to the value spelled s and returns 0; -1 when s is not in t. */
int name_find(const struct name_value *t, const char *s, int *value);

/* The first spelling of value in t, or NULL. */
const char *name_of(const struct name_value *t, int value);

#endif
