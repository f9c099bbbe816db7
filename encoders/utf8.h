/* UTF-8 validation shared by the wire decoders. */
#ifndef BLAST_UTF8_H
#define BLAST_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Well formed per RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF. allow_nul false also refuses U+0000 (MQTT strings, 1.5.4).
 * Never reads past s + n. */
bool utf8_valid(const uint8_t *s, size_t n, bool allow_nul);

#endif
