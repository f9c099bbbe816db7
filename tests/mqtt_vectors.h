/* MQTT golden vectors shared by test_mqtt_enc.c and test_mqtt_dec.c (each
 * encoder's bytes are also what its decoder must read), and the decode
 * helper both use.
 *
Vector sources: "spec 3.1.1" is the OASIS MQTT 3.1.1 standard, "spec 5.0"
 * the OASIS MQTT 5.0 standard; "mosquitto" is bytes captured on loopback
 * through a logging proxy between mosquitto 2.0.11 and mosquitto_pub or
 * mosquitto_sub, with the command line given. */
#ifndef BLAST_MQTT_VECTORS_H
#define BLAST_MQTT_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "encoders/mqtt.h"
#include "guard.h"
#include "t.h"
#include "varint_vectors.h"

/* mosquitto: mosquitto_pub -V 311 -i blast -k 60 -t a/b -m hello -q 0 */
static const uint8_t connect311_min[] = {
	0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c,
	0x00, 0x05, 'b', 'l', 'a', 's', 't',
};
/* mosquitto: mosquitto_pub -V 311 -i blast -k 30 -u user -P pass
 * --will-topic w --will-payload bye --will-qos 1 -t a/b -m hi -q 1 */
static const uint8_t connect311_will[] = {
	0x10, 0x25, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xce, 0x00, 0x1e,
	0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x01, 'w', 0x00, 0x03, 'b', 'y', 'e',
	0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04, 'p', 'a', 's', 's',
};
/* mosquitto: mosquitto_pub -V 5 -i blast -k 60 -D connect session-expiry-interval 60
 * -D connect receive-maximum 100 -D connect topic-alias-maximum 10
 * -D connect maximum-packet-size 1024 ... */
static const uint8_t connect5_props[] = {
	0x10, 0x22, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c,
	0x10, 0x11, 0x00, 0x00, 0x00, 0x3c, 0x21, 0x00, 0x64, 0x22, 0x00, 0x0a,
	0x27, 0x00, 0x00, 0x04, 0x00, 0x00, 0x05, 'b', 'l', 'a', 's', 't',
};
/* mosquitto: mosquitto_pub -V 5 -i blast -u user -P pass --will-topic w
 * --will-payload bye --will-qos 2 --will-retain ... (mosquitto adds
 * receive-maximum 20 on its own) */
static const uint8_t connect5_will[] = {
	0x10, 0x2a, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xf6, 0x00, 0x3c,
	0x03, 0x21, 0x00, 0x14, 0x00, 0x05, 'b', 'l', 'a', 's', 't',
	0x00, 0x00, 0x01, 'w', 0x00, 0x03, 'b', 'y', 'e',
	0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04, 'p', 'a', 's', 's',
};
/* spec 3.1.1 3.1.2.10 Figure 3.6: CONNECT variable header example (user
 * name, password, will qos 1, will, clean session; keep alive 10). */
static const uint8_t spec311_connect_vh[] = {
	0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xce, 0x00, 0x0a,
};
/* spec 5.0 3.1.2.12 Figure 3-6: the same, level 5, then Properties Length 5
 * and Session Expiry Interval (17) = 10. */
static const uint8_t spec5_connect_vh[] = {
	0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xce, 0x00, 0x0a,
	0x05, 0x11, 0x00, 0x00, 0x00, 0x0a,
};

/* mosquitto: mosquitto_pub -V 311 -t a/b -m hello -q 0 */
static const uint8_t publish311_q0[] = {
	0x30, 0x0a, 0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o',
};
/* mosquitto: mosquitto_pub -V 311 -t a/b -m hi -q 1 (packet id 1) */
static const uint8_t publish311_q1[] = {
	0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 311 -t a/b -m x -q 2 -r */
static const uint8_t publish311_q2r[] = {
	0x35, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'x',
};
/* mosquitto: mosquitto_pub -V 5 -D publish message-expiry-interval 30 -t a/b -m hi -q 1 */
static const uint8_t publish5_q1_exp[] = {
	0x32, 0x0f, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01,
	0x05, 0x02, 0x00, 0x00, 0x00, 0x1e, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 5 -t a/b -m hi -q 2 */
static const uint8_t publish5_q2[] = {
	0x34, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 5 -t a/b -m hello -q 0 */
static const uint8_t publish5_q0[] = {
	0x30, 0x0b, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'e', 'l', 'l', 'o',
};
/* spec 3.1.1 3.3.2.3 Figure 3.12: PUBLISH variable header, topic "a/b",
 * packet identifier 10. */
static const uint8_t spec311_publish_vh[] = { 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a };

/* mosquitto: mosquitto_sub -V 311 (PUBACK for id 1) */
static const uint8_t puback311[] = { 0x40, 0x02, 0x00, 0x01 };
/* mosquitto: mosquitto_pub -V 311 -q 2 (PUBREL after PUBREC, id 1) */
static const uint8_t pubrel311[] = { 0x62, 0x02, 0x00, 0x01 };
/* mosquitto: broker PUBREC and PUBCOMP for id 1, either version */
static const uint8_t pubrec_short[] = { 0x50, 0x02, 0x00, 0x01 };
static const uint8_t pubcomp_short[] = { 0x70, 0x02, 0x00, 0x01 };
/* mosquitto: broker PUBACK to a v5 publish nobody subscribed to: reason
 * 0x10 No matching subscribers, 3-byte form (spec 5.0 3.4.2.1). */
static const uint8_t puback5_nomatch[] = { 0x40, 0x03, 0x00, 0x01, 0x10 };

/* mosquitto: mosquitto_sub -V 311 -t a/b -t c/d -q 1 */
static const uint8_t subscribe311[] = {
	0x82, 0x0e, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x01,
	0x00, 0x03, 'c', '/', 'd', 0x01,
};
/* mosquitto: mosquitto_sub -V 5 -t a/b -q 2 */
static const uint8_t subscribe5[] = {
	0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x02,
};
/* spec 3.1.1 3.8.2.1 Figure 3.21 + 3.8.3.1 Figure 3.23: packet id 10,
 * "a/b" qos 1, "c/d" qos 2 (fixed header added: 0x82, remaining 14). */
static const uint8_t spec311_subscribe[] = {
	0x82, 0x0e, 0x00, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x01,
	0x00, 0x03, 'c', '/', 'd', 0x02,
};
/* spec 3.1.1 3.12 Figure 3.33 / spec 5.0 3.12.1 */
static const uint8_t pingreq[] = { 0xc0, 0x00 };
/* mosquitto: mosquitto_pub (3.1.1 and 5, reason 0 short form) */
static const uint8_t disconnect_short[] = { 0xe0, 0x00 };
/* mosquitto: mosquitto_sub -V 5 exiting on timeout: reason 0x04
 * Disconnect with Will Message */
static const uint8_t disconnect5_will[] = { 0xe0, 0x01, 0x04 };

/* Broker to client. */
/* mosquitto: CONNACK 3.1.1 accepted, and refused by allow_anonymous false */
static const uint8_t connack311_ok[] = { 0x20, 0x02, 0x00, 0x00 };
static const uint8_t connack311_noauth[] = { 0x20, 0x02, 0x00, 0x05 };
/* mosquitto: CONNACK 5 with Topic Alias Maximum 10, Receive Maximum 20 */
static const uint8_t connack5_ok[] = {
	0x20, 0x09, 0x00, 0x00, 0x06, 0x22, 0x00, 0x0a, 0x21, 0x00, 0x14,
};
/* mosquitto: CONNACK 5 refused, 0x87 Not authorized, no properties */
static const uint8_t connack5_noauth[] = { 0x20, 0x03, 0x00, 0x87, 0x00 };
/* mosquitto: SUBACK 3.1.1 for two filters granted qos 1 */
static const uint8_t suback311[] = { 0x90, 0x04, 0x00, 0x01, 0x01, 0x01 };
/* mosquitto: SUBACK 5, empty properties, granted qos 2 */
static const uint8_t suback5[] = { 0x90, 0x04, 0x00, 0x01, 0x00, 0x02 };
/* spec 3.1.1 3.9.3.1 Figure 3.27: codes 0, 2 and 0x80 (failure); packet
 * id 10 and fixed header added. */
static const uint8_t spec311_suback[] = { 0x90, 0x05, 0x00, 0x0a, 0x00, 0x02, 0x80 };
/* mosquitto: retained message delivered to a 3.1.1 qos 1 subscriber */
static const uint8_t publish311_in[] = { 0x33, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'x' };
/* mosquitto: the same to a v5 qos 2 subscriber, empty properties */
static const uint8_t publish5_in[] = {
	0x35, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00, 'x',
};

/* Decodes one whole frame placed against the guard page; checks every
 * shorter prefix asks for more (0) and the whole one is consumed. */
static inline ssize_t decode_at_guard(const uint8_t *bytes, size_t n, struct mqtt_frame *f)
{
	for (size_t k = 0; k < n; k++) {
		struct mqtt_frame g;
		ssize_t r = mqtt_decode_frame(guard_copy(bytes, k), k, 0, &g);

		if (r != 0) {
			fprintf(stderr, "  prefix %zu of %zu returned %zd\n", k, n, r);
			CHECK_EQ_INT(r, 0);
			return r;
		}
	}
	return mqtt_decode_frame(guard_copy(bytes, n), n, 0, f);
}

#endif
