/* MQTT 3.1.1 and 5.0 wire constants, nothing else (like mosquitto's
 * mqtt_protocol.h). Packet types are the high nibble of byte 0 shifted
 * down, as struct mqtt_frame.type holds them: MQTT_PUBACK is 4, not 0x40. */
#ifndef BLAST_MQTT_WIRE_H
#define BLAST_MQTT_WIRE_H

/* Control packet types (3.1.1 2.2.1, 5.0 2.1.2). 0 is reserved. */
#define MQTT_CONNECT     1
#define MQTT_CONNACK     2
#define MQTT_PUBLISH     3
#define MQTT_PUBACK      4
#define MQTT_PUBREC      5
#define MQTT_PUBREL      6
#define MQTT_PUBCOMP     7
#define MQTT_SUBSCRIBE   8
#define MQTT_SUBACK      9
#define MQTT_UNSUBSCRIBE 10
#define MQTT_UNSUBACK    11
#define MQTT_PINGREQ     12
#define MQTT_PINGRESP    13
#define MQTT_DISCONNECT  14
#define MQTT_AUTH        15 /* MQTT 5 only */

/* Fixed header flags (3.1.1 2.2.2, 5.0 2.1.3). PUBREL, SUBSCRIBE and
 * UNSUBSCRIBE carry 0b0010; every other type but PUBLISH carries 0. */
#define MQTT_FLAGS_PUBREL      0x2
#define MQTT_FLAGS_SUBSCRIBE   0x2
#define MQTT_FLAGS_UNSUBSCRIBE 0x2
#define MQTT_PUBLISH_DUP       0x8
#define MQTT_PUBLISH_QOS_MASK  0x6
#define MQTT_PUBLISH_QOS_SHIFT 1
#define MQTT_PUBLISH_RETAIN    0x1

#define MQTT_PROTOCOL_NAME     "MQTT"
#define MQTT_PROTOCOL_NAME_LEN 4

/* CONNECT flags byte (3.1.1 3.1.2.3, 5.0 3.1.2.3). */
#define MQTT_CONNECT_USERNAME    0x80
#define MQTT_CONNECT_PASSWORD    0x40
#define MQTT_CONNECT_WILL_RETAIN 0x20
#define MQTT_CONNECT_WILL_QOS_MASK  0x18
#define MQTT_CONNECT_WILL_QOS_SHIFT 3
#define MQTT_CONNECT_WILL        0x04
#define MQTT_CONNECT_CLEAN_START 0x02 /* "Clean Session" in 3.1.1 */
#define MQTT_CONNECT_RESERVED    0x01

/* CONNACK acknowledge flags (3.2.2.1): bits 7-1 reserved. */
#define MQTT_CONNACK_SESSION_PRESENT 0x01

/* CONNACK return codes, MQTT 3.1.1 (3.2.2.3, Table 3.1). */
#define MQTT_CONNACK_ACCEPTED                      0x00
#define MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION 0x01
#define MQTT_CONNACK_IDENTIFIER_REJECTED           0x02
#define MQTT_CONNACK_SERVER_UNAVAILABLE            0x03
#define MQTT_CONNACK_BAD_USERNAME_OR_PASSWORD      0x04
#define MQTT_CONNACK_NOT_AUTHORIZED                0x05

/* SUBACK return codes, MQTT 3.1.1 (3.9.3). */
#define MQTT_SUBACK_FAILURE 0x80

/* MQTT 5 reason codes (5.0 2.4, Table 2-6). */
#define MQTT_RC_SUCCESS                                0x00
#define MQTT_RC_NORMAL_DISCONNECTION                   0x00
#define MQTT_RC_GRANTED_QOS_0                          0x00
#define MQTT_RC_GRANTED_QOS_1                          0x01
#define MQTT_RC_GRANTED_QOS_2                          0x02
#define MQTT_RC_DISCONNECT_WITH_WILL_MESSAGE           0x04
#define MQTT_RC_NO_MATCHING_SUBSCRIBERS                0x10
#define MQTT_RC_NO_SUBSCRIPTION_EXISTED                0x11
#define MQTT_RC_CONTINUE_AUTHENTICATION                0x18
#define MQTT_RC_RE_AUTHENTICATE                        0x19
#define MQTT_RC_UNSPECIFIED_ERROR                      0x80
#define MQTT_RC_MALFORMED_PACKET                       0x81
#define MQTT_RC_PROTOCOL_ERROR                         0x82
#define MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR          0x83
#define MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION           0x84
#define MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID            0x85
#define MQTT_RC_BAD_USERNAME_OR_PASSWORD               0x86
#define MQTT_RC_NOT_AUTHORIZED                         0x87
#define MQTT_RC_SERVER_UNAVAILABLE                     0x88
#define MQTT_RC_SERVER_BUSY                            0x89
#define MQTT_RC_BANNED                                 0x8A
#define MQTT_RC_SERVER_SHUTTING_DOWN                   0x8B
#define MQTT_RC_BAD_AUTHENTICATION_METHOD              0x8C
#define MQTT_RC_KEEP_ALIVE_TIMEOUT                     0x8D
#define MQTT_RC_SESSION_TAKEN_OVER                     0x8E
#define MQTT_RC_TOPIC_FILTER_INVALID                   0x8F
#define MQTT_RC_TOPIC_NAME_INVALID                     0x90
#define MQTT_RC_PACKET_IDENTIFIER_IN_USE               0x91
#define MQTT_RC_PACKET_IDENTIFIER_NOT_FOUND            0x92
#define MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED               0x93
#define MQTT_RC_TOPIC_ALIAS_INVALID                    0x94
#define MQTT_RC_PACKET_TOO_LARGE                       0x95
#define MQTT_RC_MESSAGE_RATE_TOO_HIGH                  0x96
#define MQTT_RC_QUOTA_EXCEEDED                         0x97
#define MQTT_RC_ADMINISTRATIVE_ACTION                  0x98
#define MQTT_RC_PAYLOAD_FORMAT_INVALID                 0x99
#define MQTT_RC_RETAIN_NOT_SUPPORTED                   0x9A
#define MQTT_RC_QOS_NOT_SUPPORTED                      0x9B
#define MQTT_RC_USE_ANOTHER_SERVER                     0x9C
#define MQTT_RC_SERVER_MOVED                           0x9D
#define MQTT_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED     0x9E
#define MQTT_RC_CONNECTION_RATE_EXCEEDED               0x9F
#define MQTT_RC_MAXIMUM_CONNECT_TIME                   0xA0
#define MQTT_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED 0xA1
#define MQTT_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED   0xA2

/* MQTT 5 property identifiers (5.0 2.2.2.2, Table 2-4). */
#define MQTT_PROP_PAYLOAD_FORMAT_INDICATOR          0x01 /* byte */
#define MQTT_PROP_MESSAGE_EXPIRY_INTERVAL           0x02 /* u32 */
#define MQTT_PROP_CONTENT_TYPE                      0x03 /* utf8 */
#define MQTT_PROP_RESPONSE_TOPIC                    0x08 /* utf8 */
#define MQTT_PROP_CORRELATION_DATA                  0x09 /* binary */
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER           0x0B /* varint */
#define MQTT_PROP_SESSION_EXPIRY_INTERVAL           0x11 /* u32 */
#define MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER        0x12 /* utf8 */
#define MQTT_PROP_SERVER_KEEP_ALIVE                 0x13 /* u16 */
#define MQTT_PROP_AUTHENTICATION_METHOD             0x15 /* utf8 */
#define MQTT_PROP_AUTHENTICATION_DATA               0x16 /* binary */
#define MQTT_PROP_REQUEST_PROBLEM_INFORMATION       0x17 /* byte */
#define MQTT_PROP_WILL_DELAY_INTERVAL               0x18 /* u32 */
#define MQTT_PROP_REQUEST_RESPONSE_INFORMATION      0x19 /* byte */
#define MQTT_PROP_RESPONSE_INFORMATION              0x1A /* utf8 */
#define MQTT_PROP_SERVER_REFERENCE                  0x1C /* utf8 */
#define MQTT_PROP_REASON_STRING                     0x1F /* utf8 */
#define MQTT_PROP_RECEIVE_MAXIMUM                   0x21 /* u16 */
#define MQTT_PROP_TOPIC_ALIAS_MAXIMUM               0x22 /* u16 */
#define MQTT_PROP_TOPIC_ALIAS                       0x23 /* u16 */
#define MQTT_PROP_MAXIMUM_QOS                       0x24 /* byte */
#define MQTT_PROP_RETAIN_AVAILABLE                  0x25 /* byte */
#define MQTT_PROP_USER_PROPERTY                     0x26 /* utf8 pair */
#define MQTT_PROP_MAXIMUM_PACKET_SIZE               0x27 /* u32 */
#define MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE   0x28 /* byte */
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE 0x29 /* byte */
#define MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE     0x2A /* byte */

/* SUBSCRIBE subscription options byte (5.0 3.8.3.1). */
#define MQTT_SUBOPT_QOS_MASK            0x03
#define MQTT_SUBOPT_NO_LOCAL            0x04
#define MQTT_SUBOPT_RETAIN_AS_PUBLISHED 0x08
#define MQTT_SUBOPT_RETAIN_HANDLING_MASK 0x30
#define MQTT_SUBOPT_RESERVED            0xC0

#endif
