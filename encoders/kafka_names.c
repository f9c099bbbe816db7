/* Kafka error names and rules, and the Java client's keyed partitioner
 * (contract in kafka.h). "Guide" is kafka.apache.org/protocol. */
#include <errno.h>

#include "kafka.h"
#include "kafka_wire.h"

/* ---- errors ---- */

struct kafka_err_info {
	const char *name;
	bool retriable; /* Guide, "Error Codes", Retriable column */
};

/* Guide, "Error Codes", with the names of Java's Errors enum. Retriable is
 * true where the Java exception is a RetriableException. */
static const struct kafka_err_info err_table[KAFKA_ERR_MAX_KNOWN + 2] = {
#define E(code, n, r) [(code) + 1] = { n, r }
	E(-1, "UNKNOWN_SERVER_ERROR", false),
	E(0, "NONE", false),
	E(1, "OFFSET_OUT_OF_RANGE", false),
	E(2, "CORRUPT_MESSAGE", true),
	E(3, "UNKNOWN_TOPIC_OR_PARTITION", true),
	E(4, "INVALID_FETCH_SIZE", false),
	E(5, "LEADER_NOT_AVAILABLE", true),
	E(6, "NOT_LEADER_OR_FOLLOWER", true),
	E(7, "REQUEST_TIMED_OUT", true),
	E(8, "BROKER_NOT_AVAILABLE", false),
	E(9, "REPLICA_NOT_AVAILABLE", true),
	E(10, "MESSAGE_TOO_LARGE", false),
	E(11, "STALE_CONTROLLER_EPOCH", false),
	E(12, "OFFSET_METADATA_TOO_LARGE", false),
	E(13, "NETWORK_EXCEPTION", true),
	E(14, "COORDINATOR_LOAD_IN_PROGRESS", true),
	E(15, "COORDINATOR_NOT_AVAILABLE", true),
	E(16, "NOT_COORDINATOR", true),
	E(17, "INVALID_TOPIC_EXCEPTION", false),
	E(18, "RECORD_LIST_TOO_LARGE", false),
	E(19, "NOT_ENOUGH_REPLICAS", true),
	E(20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true),
	E(21, "INVALID_REQUIRED_ACKS", false),
	E(22, "ILLEGAL_GENERATION", false),
	E(23, "INCONSISTENT_GROUP_PROTOCOL", false),
	E(24, "INVALID_GROUP_ID", false),
	E(25, "UNKNOWN_MEMBER_ID", false),
	E(26, "INVALID_SESSION_TIMEOUT", false),
	E(27, "REBALANCE_IN_PROGRESS", false),
	E(28, "INVALID_COMMIT_OFFSET_SIZE", false),
	E(29, "TOPIC_AUTHORIZATION_FAILED", false),
	E(30, "GROUP_AUTHORIZATION_FAILED", false),
	E(31, "CLUSTER_AUTHORIZATION_FAILED", false),
	E(32, "INVALID_TIMESTAMP", false),
	E(33, "UNSUPPORTED_SASL_MECHANISM", false),
	E(34, "ILLEGAL_SASL_STATE", false),
	E(35, "UNSUPPORTED_VERSION", false),
	E(36, "TOPIC_ALREADY_EXISTS", false),
	E(37, "INVALID_PARTITIONS", false),
	E(38, "INVALID_REPLICATION_FACTOR", false),
	E(39, "INVALID_REPLICA_ASSIGNMENT", false),
	E(40, "INVALID_CONFIG", false),
	E(41, "NOT_CONTROLLER", true),
	E(42, "INVALID_REQUEST", false),
	E(43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false),
	E(44, "POLICY_VIOLATION", false),
	E(45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false),
	E(46, "DUPLICATE_SEQUENCE_NUMBER", false),
	E(47, "INVALID_PRODUCER_EPOCH", false),
	E(48, "INVALID_TXN_STATE", false),
	E(49, "INVALID_PRODUCER_ID_MAPPING", false),
	E(50, "INVALID_TRANSACTION_TIMEOUT", false),
	E(51, "CONCURRENT_TRANSACTIONS", false),
	E(52, "TRANSACTION_COORDINATOR_FENCED", false),
	E(53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false),
	E(54, "SECURITY_DISABLED", false),
	E(55, "OPERATION_NOT_ATTEMPTED", false),
	E(56, "KAFKA_STORAGE_ERROR", true),
	E(57, "LOG_DIR_NOT_FOUND", false),
	E(58, "SASL_AUTHENTICATION_FAILED", false),
	E(59, "UNKNOWN_PRODUCER_ID", false),
	E(60, "REASSIGNMENT_IN_PROGRESS", false),
	E(61, "DELEGATION_TOKEN_AUTH_DISABLED", false),
	E(62, "DELEGATION_TOKEN_NOT_FOUND", false),
	E(63, "DELEGATION_TOKEN_OWNER_MISMATCH", false),
	E(64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false),
	E(65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false),
	E(66, "DELEGATION_TOKEN_EXPIRED", false),
	E(67, "INVALID_PRINCIPAL_TYPE", false),
	E(68, "NON_EMPTY_GROUP", false),
	E(69, "GROUP_ID_NOT_FOUND", false),
	E(70, "FETCH_SESSION_ID_NOT_FOUND", true),
	E(71, "INVALID_FETCH_SESSION_EPOCH", true),
	E(72, "LISTENER_NOT_FOUND", true),
	E(73, "TOPIC_DELETION_DISABLED", false),
	E(74, "FENCED_LEADER_EPOCH", true),
	E(75, "UNKNOWN_LEADER_EPOCH", true),
	E(76, "UNSUPPORTED_COMPRESSION_TYPE", false),
	E(77, "STALE_BROKER_EPOCH", false),
	E(78, "OFFSET_NOT_AVAILABLE", true),
	E(79, "MEMBER_ID_REQUIRED", false),
	E(80, "PREFERRED_LEADER_NOT_AVAILABLE", true),
	E(81, "GROUP_MAX_SIZE_REACHED", false),
	E(82, "FENCED_INSTANCE_ID", false),
	E(83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true),
	E(84, "ELECTION_NOT_NEEDED", true),
	E(85, "NO_REASSIGNMENT_IN_PROGRESS", false),
	E(86, "GROUP_SUBSCRIBED_TO_TOPIC", false),
	E(87, "INVALID_RECORD", false),
	E(88, "UNSTABLE_OFFSET_COMMIT", true),
	E(89, "THROTTLING_QUOTA_EXCEEDED", true),
	/* ProducerFencedException is an ApiException, not retriable. */
	E(90, "PRODUCER_FENCED", false),
	E(91, "RESOURCE_NOT_FOUND", false),
	E(92, "DUPLICATE_RESOURCE", false),
	E(93, "UNACCEPTABLE_CREDENTIAL", false),
	E(94, "INCONSISTENT_VOTER_SET", false),
	E(95, "INVALID_UPDATE_VERSION", false),
	E(96, "FEATURE_UPDATE_FAILED", false),
	E(97, "PRINCIPAL_DESERIALIZATION_FAILURE", false),
	E(98, "SNAPSHOT_NOT_FOUND", false),
	E(99, "POSITION_OUT_OF_RANGE", false),
	E(100, "UNKNOWN_TOPIC_ID", true),
	E(101, "DUPLICATE_BROKER_REGISTRATION", false),
	E(102, "BROKER_ID_NOT_REGISTERED", false),
	E(103, "INCONSISTENT_TOPIC_ID", true),
	E(104, "INCONSISTENT_CLUSTER_ID", false),
	E(105, "TRANSACTIONAL_ID_NOT_FOUND", false),
	E(106, "FETCH_SESSION_TOPIC_ID_ERROR", true),
	E(107, "INELIGIBLE_REPLICA", false),
	E(108, "NEW_LEADER_ELECTED", false),
	E(109, "OFFSET_MOVED_TO_TIERED_STORAGE", false),
	E(110, "FENCED_MEMBER_EPOCH", false),
	E(111, "UNRELEASED_INSTANCE_ID", false),
	E(112, "UNSUPPORTED_ASSIGNOR", false),
	E(113, "STALE_MEMBER_EPOCH", false),
	E(114, "MISMATCHED_ENDPOINT_TYPE", false),
	E(115, "UNSUPPORTED_ENDPOINT_TYPE", false),
	E(116, "UNKNOWN_CONTROLLER_ID", false),
	E(117, "UNKNOWN_SUBSCRIPTION_ID", false),
	E(118, "TELEMETRY_TOO_LARGE", false),
	E(119, "INVALID_REGISTRATION", false),
	E(120, "TRANSACTION_ABORTABLE", false),
#undef E
};

static const struct kafka_err_info *err_info(int16_t code)
{
	if (code < -1 || code > KAFKA_ERR_MAX_KNOWN)
		return NULL;
	return &err_table[code + 1];
}

const char *kafka_error_name(int16_t code)
{
	const struct kafka_err_info *e = err_info(code);

	return e ? e->name : "UNKNOWN_SERVER_ERROR";
}

bool kafka_error_retriable(int16_t code)
{
	const struct kafka_err_info *e = err_info(code);

	return e && e->retriable;
}

/* The codes whose Java exceptions are InvalidMetadataException: the Java
 * producer's Sender requests a metadata update on exactly those. */
bool kafka_error_refresh_metadata(int16_t code)
{
	switch (code) {
	case KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KAFKA_ERR_LEADER_NOT_AVAILABLE:
	case KAFKA_ERR_NOT_LEADER_OR_FOLLOWER:
	case KAFKA_ERR_REPLICA_NOT_AVAILABLE:
	case KAFKA_ERR_NETWORK_EXCEPTION:
	case KAFKA_ERR_KAFKA_STORAGE_ERROR:
	case KAFKA_ERR_LISTENER_NOT_FOUND:
	case KAFKA_ERR_FENCED_LEADER_EPOCH:
	case KAFKA_ERR_UNKNOWN_LEADER_EPOCH:
	case 80: /* PREFERRED_LEADER_NOT_AVAILABLE */
	case 83: /* ELIGIBLE_LEADERS_NOT_AVAILABLE */
	case 84: /* ELECTION_NOT_NEEDED */
	case KAFKA_ERR_UNKNOWN_TOPIC_ID:
	case 103: /* INCONSISTENT_TOPIC_ID */
	case 106: /* FETCH_SESSION_TOPIC_ID_ERROR */
		return true;
	default:
		return false;
	}
}

/* ---- partitioner ---- */

/* Java's Utils.murmur2: MurmurHash2 with seed 0x9747b28c over the bytes
 * as little-endian words. Java masks every byte with 0xff before using it,
 * so its signed bytes act as unsigned ones here. All arithmetic is mod
 * 2^32 and >>> is a logical shift: uint32_t does both. */
uint32_t kafka_murmur2(const uint8_t *data, size_t len)
{
	const uint32_t m = 0x5bd1e995;
	const int r = 24;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t len4 = len / 4;

	for (size_t i = 0; i < len4; i++) {
		const uint8_t *b = data + i * 4;
		uint32_t k = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			     (uint32_t)b[3] << 24;

		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len % 4) {
	case 3:
		h ^= (uint32_t)data[(len & ~(size_t)3) + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)data[(len & ~(size_t)3) + 1] << 8;
		/* fall through */
	case 1:
		h ^= data[len & ~(size_t)3];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

/* Java's BuiltInPartitioner.partitionForKey: toPositive(murmur2(key)) %
 * numPartitions, where toPositive(n) = n & 0x7fffffff. */
int32_t kafka_partition_for_key(const uint8_t *key, size_t len, int32_t n_partitions)
{
	if (n_partitions <= 0 || (!key && len))
		return -EINVAL;
	return (int32_t)((kafka_murmur2(key, len) & 0x7fffffff) % (uint32_t)n_partitions);
}
