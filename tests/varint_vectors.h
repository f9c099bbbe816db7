/* MQTT's Variable Byte Integer at the edges of each size, shared by the
 * MQTT encoder and decoder tests and the byte reader's (test_rbuf.c). */
#ifndef BLAST_VARINT_VECTORS_H
#define BLAST_VARINT_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* spec 3.1.1 2.2.3 Table 2.4 and spec 5.0 1.5.5 Table 1-1: the edges of
 * each Remaining Length size. */
static const struct {
	uint32_t v;
	uint8_t b[4];
	size_t n;
} varint_vec[] = {
	{ 0, { 0x00 }, 1 },
	{ 127, { 0x7f }, 1 },
	{ 128, { 0x80, 0x01 }, 2 },
	{ 16383, { 0xff, 0x7f }, 2 },
	{ 16384, { 0x80, 0x80, 0x01 }, 3 },
	{ 2097151, { 0xff, 0xff, 0x7f }, 3 },
	{ 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
	{ 268435455, { 0xff, 0xff, 0xff, 0x7f }, 4 },
};

#endif
