/* Kafka error names and rules, and the keyed partitioner
 * (encoders/kafka_names.c), against the Java client's tables and
 * librdkafka's murmur2 vectors. */
#include <stdint.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"
#include "guard.h"
#include "t.h"

static void test_errors(void)
{
	CHECK(!strcmp(kafka_error_name(-1), "UNKNOWN_SERVER_ERROR"));
	CHECK(!strcmp(kafka_error_name(0), "NONE"));
	CHECK(!strcmp(kafka_error_name(2), "CORRUPT_MESSAGE"));
	CHECK(!strcmp(kafka_error_name(3), "UNKNOWN_TOPIC_OR_PARTITION"));
	CHECK(!strcmp(kafka_error_name(5), "LEADER_NOT_AVAILABLE"));
	CHECK(!strcmp(kafka_error_name(6), "NOT_LEADER_OR_FOLLOWER"));
	CHECK(!strcmp(kafka_error_name(7), "REQUEST_TIMED_OUT"));
	CHECK(!strcmp(kafka_error_name(10), "MESSAGE_TOO_LARGE"));
	CHECK(!strcmp(kafka_error_name(19), "NOT_ENOUGH_REPLICAS"));
	CHECK(!strcmp(kafka_error_name(20), "NOT_ENOUGH_REPLICAS_AFTER_APPEND"));
	CHECK(!strcmp(kafka_error_name(35), "UNSUPPORTED_VERSION"));
	CHECK(!strcmp(kafka_error_name(87), "INVALID_RECORD"));
	CHECK(!strcmp(kafka_error_name(100), "UNKNOWN_TOPIC_ID"));
	CHECK(!strcmp(kafka_error_name(120), "TRANSACTION_ABORTABLE"));
	CHECK(!strcmp(kafka_error_name(-2), "UNKNOWN_SERVER_ERROR"));
	CHECK(!strcmp(kafka_error_name(9999), "UNKNOWN_SERVER_ERROR"));
	for (int c = -1; c <= KAFKA_ERR_MAX_KNOWN; c++)
		CHECK(kafka_error_name((int16_t)c) != NULL);
	/* Guide's Retriable column. */
	CHECK(kafka_error_retriable(2) && kafka_error_retriable(3) && kafka_error_retriable(5));
	CHECK(kafka_error_retriable(6) && kafka_error_retriable(7) && kafka_error_retriable(19));
	CHECK(kafka_error_retriable(20) && kafka_error_retriable(56) && kafka_error_retriable(89));
	CHECK(!kafka_error_retriable(0) && !kafka_error_retriable(-1) && !kafka_error_retriable(10));
	CHECK(!kafka_error_retriable(87) && !kafka_error_retriable(29) && !kafka_error_retriable(8));
	CHECK(!kafka_error_retriable(9999));
	CHECK(kafka_error_refresh_metadata(6) && kafka_error_refresh_metadata(3));
	CHECK(kafka_error_refresh_metadata(5) && kafka_error_refresh_metadata(74));
	CHECK(!kafka_error_refresh_metadata(7) && !kafka_error_refresh_metadata(19));
	CHECK(!kafka_error_refresh_metadata(0));
}

static void test_murmur2(void)
{
	/* apache/kafka clients/src/test/java/org/apache/kafka/common/utils/
	 * UtilsTest.java, testMurmur2. */
	static const struct {
		const char *key;
		int32_t h;
	} java[] = {
		{ "21", -973932308 },
		{ "foobar", -790332482 },
		{ "a-little-bit-long-string", -985981536 },
		{ "a-little-bit-longer-string", -1486304829 },
		{ "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
		{ "abc", 479470107 },
	};
	/* librdkafka src/rdmurmur2.c unittest_murmur2 ("java_murmur2_results"). */
	static const struct {
		const char *key;
		uint32_t h;
	} rdk[] = {
		{ "kafka", 0xd067cf64 },
		{ "giberish123456789", 0x8f552b0c },
		{ "1234", 0x9fc97b14 },
		{ "234", 0xe7c009ca },
		{ "34", 0x873930da },
		{ "4", 0x5a4b5ca1 },
		{ "PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c },
		{ "reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377 },
		{ "eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e },
		{ "AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f },
		{ "", 0x106e08d9 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(java); i++)
		CHECK_EQ_INT((int32_t)kafka_murmur2((const uint8_t *)java[i].key,
						    strlen(java[i].key)),
			     java[i].h);
	for (size_t i = 0; i < ARRAY_SIZE(rdk); i++) {
		size_t n = strlen(rdk[i].key);

		/* Unaligned too: the key placed at the guard page. */
		CHECK_EQ_INT(kafka_murmur2(guard_copy(rdk[i].key, n), n), rdk[i].h);
	}
	/* toPositive(-973932308) % 7 = (0x45f3cfec ... ) computed the Java way. */
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"21", 2, 7),
		     (int32_t)(((uint32_t)-973932308 & 0x7fffffff) % 7));
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"abc", 3, 1), 0);
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"abc", 3, 0), -EINVAL);
	CHECK(!kafka_is_flexible(KAFKA_API_PRODUCE, 8) && kafka_is_flexible(KAFKA_API_PRODUCE, 9));
	CHECK(!kafka_is_flexible(KAFKA_API_METADATA, 8) && kafka_is_flexible(KAFKA_API_METADATA, 9));
	CHECK(!kafka_is_flexible(KAFKA_API_API_VERSIONS, 2) &&
	      kafka_is_flexible(KAFKA_API_API_VERSIONS, 3));
}

int main(void)
{
	if (guard_init(1 << 14)) {
		perror("guard page");
		return T_FAIL;
	}
	test_errors();
	test_murmur2();
	return t_done("test_kafka_names");
}
