/* CRC-32C: published vectors through both implementations, the hardware
 * one against the tables at every length and alignment, and chaining. */
#include <stdint.h>
#include <string.h>

#include "encoders/crc32c.h"
#include "t.h"

/* RFC 3720 B.4 (iSCSI) "CRC Examples", and the check value of the
 * catalogue of CRCs ("123456789" -> 0xe3069283), which librdkafka's
 * crc32c unit test also uses. */
static void test_vectors(void)
{
	uint8_t buf[48];

	CHECK_EQ_INT(crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ_INT(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ_INT(crc32c(0, "", 0), 0);

	memset(buf, 0, 32); /* B.4: 32 bytes of zeros */
	CHECK_EQ_INT(crc32c(0, buf, 32), 0x8a9136aau);
	CHECK_EQ_INT(crc32c_sw(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32); /* 32 bytes of ones */
	CHECK_EQ_INT(crc32c(0, buf, 32), 0x62a8ab43u);
	CHECK_EQ_INT(crc32c_sw(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++) /* 32 incrementing bytes */
		buf[i] = (uint8_t)i;
	CHECK_EQ_INT(crc32c(0, buf, 32), 0x46dd794eu);
	CHECK_EQ_INT(crc32c_sw(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++) /* 32 decrementing bytes */
		buf[i] = (uint8_t)(31 - i);
	CHECK_EQ_INT(crc32c(0, buf, 32), 0x113fdb5cu);
	CHECK_EQ_INT(crc32c_sw(0, buf, 32), 0x113fdb5cu);

	/* B.4: an iSCSI SCSI Read (10) command PDU. */
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_EQ_INT(crc32c(0, pdu, sizeof(pdu)), 0xd9963a56u);
	CHECK_EQ_INT(crc32c_sw(0, pdu, sizeof(pdu)), 0xd9963a56u);
}

static void test_agree(void)
{
	static uint8_t buf[1024 + 16];
	uint32_t x = 0x12345678;
	int bad = 0, bad_chain = 0;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	/* Every alignment and every length through the 8-byte loops' edges. */
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; n <= 1024; n += n < 80 ? 1 : 61) {
			uint32_t a = crc32c(0, buf + off, n), b = crc32c_sw(0, buf + off, n);

			bad += a != b;
			/* Chaining: split anywhere, same result. */
			for (size_t k = 0; k <= n; k += 7)
				bad_chain += crc32c(crc32c(0, buf + off, k), buf + off + k, n - k) != a ||
					     crc32c_sw(crc32c_sw(0, buf + off, k), buf + off + k,
						       n - k) != a;
		}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(bad_chain, 0);
}

int main(void)
{
	test_vectors();
	test_agree();
	return t_done("test_crc32c");
}
