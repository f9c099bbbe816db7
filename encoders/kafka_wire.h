/* Kafka protocol constants (kafka.apache.org/protocol, "A Guide To The
 * Kafka Protocol", and the Message Format section of the documentation):
 * numbers only, no code, like mqtt_wire.h. */
#ifndef BLAST_KAFKA_WIRE_H
#define BLAST_KAFKA_WIRE_H

/* ---- error codes (protocol guide, "Error Codes"; names as in Java's
 * org.apache.kafka.common.protocol.Errors) ---- */
#define KAFKA_ERR_UNKNOWN_SERVER_ERROR -1
#define KAFKA_ERR_NONE 0
#define KAFKA_ERR_OFFSET_OUT_OF_RANGE 1
#define KAFKA_ERR_CORRUPT_MESSAGE 2
#define KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION 3
#define KAFKA_ERR_INVALID_FETCH_SIZE 4
#define KAFKA_ERR_LEADER_NOT_AVAILABLE 5
#define KAFKA_ERR_NOT_LEADER_OR_FOLLOWER 6
#define KAFKA_ERR_REQUEST_TIMED_OUT 7
#define KAFKA_ERR_BROKER_NOT_AVAILABLE 8
#define KAFKA_ERR_REPLICA_NOT_AVAILABLE 9
#define KAFKA_ERR_MESSAGE_TOO_LARGE 10
#define KAFKA_ERR_NETWORK_EXCEPTION 13
#define KAFKA_ERR_INVALID_TOPIC_EXCEPTION 17
#define KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM 33
#define KAFKA_ERR_SASL_AUTHENTICATION_FAILED 58
#define KAFKA_ERR_RECORD_LIST_TOO_LARGE 18
#define KAFKA_ERR_NOT_ENOUGH_REPLICAS 19
#define KAFKA_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND 20
#define KAFKA_ERR_INVALID_REQUIRED_ACKS 21
#define KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED 29
#define KAFKA_ERR_INVALID_TIMESTAMP 32
#define KAFKA_ERR_UNSUPPORTED_VERSION 35
#define KAFKA_ERR_INVALID_REQUEST 42
#define KAFKA_ERR_KAFKA_STORAGE_ERROR 56
#define KAFKA_ERR_LISTENER_NOT_FOUND 72
#define KAFKA_ERR_FENCED_LEADER_EPOCH 74
#define KAFKA_ERR_UNKNOWN_LEADER_EPOCH 75
#define KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE 76
#define KAFKA_ERR_INVALID_RECORD 87
#define KAFKA_ERR_THROTTLING_QUOTA_EXCEEDED 89
#define KAFKA_ERR_UNKNOWN_TOPIC_ID 100
#define KAFKA_ERR_MAX_KNOWN 120 /* TRANSACTION_ABORTABLE; higher codes are named UNKNOWN_SERVER_ERROR */

/* ---- RecordBatch v2 (Message Format, "Record Batch") ---- */
#define KAFKA_MAGIC_V2 2
/* attributes: bits 0-2 compression, bit 3 timestamp type, bit 4
 * transactional, bit 5 control batch. */
#define KAFKA_ATTR_COMPRESSION_MASK 0x07
#define KAFKA_COMPRESSION_NONE 0
#define KAFKA_COMPRESSION_GZIP 1
#define KAFKA_COMPRESSION_SNAPPY 2
#define KAFKA_COMPRESSION_LZ4 3
#define KAFKA_COMPRESSION_ZSTD 4
#define KAFKA_ATTR_LOG_APPEND_TIME 0x08
#define KAFKA_ATTR_TRANSACTIONAL 0x10
#define KAFKA_ATTR_CONTROL 0x20

/* Field offsets from the first byte of a batch (baseOffset). */
#define KAFKA_BATCH_OF_BASE_OFFSET 0
#define KAFKA_BATCH_OF_LENGTH 8 /* int32: bytes after this field */
#define KAFKA_BATCH_OF_LEADER_EPOCH 12
#define KAFKA_BATCH_OF_MAGIC 16
#define KAFKA_BATCH_OF_CRC 17 /* CRC-32C of attributes .. end of batch */
#define KAFKA_BATCH_OF_ATTRIBUTES 21
#define KAFKA_BATCH_OF_LAST_OFFSET_DELTA 23
#define KAFKA_BATCH_OF_BASE_TIMESTAMP 27
#define KAFKA_BATCH_OF_MAX_TIMESTAMP 35
#define KAFKA_BATCH_OF_PRODUCER_ID 43
#define KAFKA_BATCH_OF_PRODUCER_EPOCH 51
#define KAFKA_BATCH_OF_BASE_SEQUENCE 53
#define KAFKA_BATCH_OF_RECORD_COUNT 57
#define KAFKA_BATCH_HEADER_SIZE 61 /* records start here */
#define KAFKA_BATCH_LENGTH_OVERHEAD 12 /* baseOffset + batchLength */

/* ---- varints (protocol guide, "Protocol Primitive Types") ---- */
#define KAFKA_VARINT_MAX 5   /* zigzag int32 or unsigned varint of a u32 */
#define KAFKA_VARLONG_MAX 10 /* zigzag int64 */

/* ---- Request framing ---- */
#define KAFKA_SIZE_LEN 4 /* int32 Size before every request and response */
#define KAFKA_CLIENT_SOFTWARE_NAME "blast" /* ApiVersions v3+ (KIP-511) */

#endif
