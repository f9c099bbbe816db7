/* The capture witness's HTTP/1.1 matcher (wire_http.c): the k-th response
 * on a connection answers its k-th request. */
#ifndef BLAST_WIRE_HTTP_H
#define BLAST_WIRE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "witness/wire_int.h"

/* As wm_parse_mqtt (wire_parse.h): the client's whole requests, or every
 * byte of the server's (decoded incrementally); PARSE_ERR when the stream
 * is not HTTP/1.1 here. */
size_t wm_parse_http(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		     size_t n, size_t carried, uint64_t cts, uint64_t nts);
/* The server's FIN, every byte before it delivered: ends a response
 * whose body runs until the close (once per flow). */
void wm_http_eof(struct wm *m, uint32_t fid, struct flow *f, uint64_t ts);
/* The flow's response decoder, if any. */
void wm_http_free(struct flow *f);
/* From a client's first bytes: WM_HTTP, WM_WS (a GET asking to upgrade),
 * WM_AUTO (too few bytes to tell), -1 (no request line). */
int wm_sniff_http(const uint8_t *p, size_t n);

#endif
