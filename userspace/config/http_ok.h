/* --ok-status "2xx,3xx,404": which HTTP statuses count as acked. One
 * reading for the command line and for a report's config read back (a
 * merge), so both agree on what a status was. */
#ifndef BLAST_CONFIG_HTTP_OK_H
#define BLAST_CONFIG_HTTP_OK_H

#include <stdbool.h>
#include <stddef.h>

#include "config/opts.h"

/* s[0..len): classes (2xx) and codes (404), comma-separated, first digit
 * 1 to 5. Sets ok[] for each (clearing the rest first); 0, or -EINVAL
 * with ok[] untouched. */
int http_ok_parse(const char *s, size_t len, bool ok[HTTP_STATUS_SLOTS]);

#endif
