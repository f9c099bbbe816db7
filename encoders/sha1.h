/* SHA-1 (FIPS 180-4), for the one place the WebSocket handshake needs it
 * (Sec-WebSocket-Accept, RFC 6455 4.2.2): not for anything secret. Pure,
 * one call over one buffer. Its own code rather than libcrypto's, whose
 * loading and provider set-up cost each run about a millisecond of CPU. */
#ifndef BLAST_SHA1_H
#define BLAST_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

#endif
