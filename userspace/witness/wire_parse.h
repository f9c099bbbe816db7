/* The capture witness's frame parsers: MQTT, Kafka and WebSocket frames
 * matched as requests and acks (wire_parse.c). */
#ifndef BLAST_WIRE_PARSE_H
#define BLAST_WIRE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "witness/wire_int.h"

/* Whole frames at the start of p (n bytes, the first
 * `carried` of them seen at cts, the rest at nts) go to the matcher. The
 * bytes used, or PARSE_ERR when the stream is not that protocol here. */
size_t wm_parse_mqtt(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		     size_t n, size_t carried, uint64_t cts, uint64_t nts);
size_t wm_parse_kafka(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		      size_t n, size_t carried, uint64_t cts, uint64_t nts);
size_t wm_parse_ws(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		   size_t n, size_t carried, uint64_t cts, uint64_t nts);
/* From a client's first bytes: WM_AUTO when there are too few to tell,
 * -1 when they are none of the four (HTTP by wire_http.c). */
int wm_sniff(const uint8_t *p, size_t n);

#endif
