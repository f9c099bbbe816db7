/* CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of
 * Kafka's RecordBatch v2 and of iSCSI (RFC 3720 B.4). */
#ifndef BLAST_CRC32C_H
#define BLAST_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over buf: start with 0, pass the previous result to chain
 * (crc32c(crc32c(0, a, n), b, m) == crc32c(0, a||b, n+m)). Uses the SSE4.2
 * crc32 instruction when the CPU has it, slice-by-8 tables otherwise. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The table version only, so tests can compare it with the hardware one. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
