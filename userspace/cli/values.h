/* One flag's value, read and range-checked. Each function returns 0, or
 * prints one "blast: --flag VALUE: why" line and returns BLAST_EXIT_USAGE.
 * (parse_u64, parse_duration_ns, parse_hostport and template_expand are
 * declared in config/opts.h: other rooms use them too.) */
#ifndef BLAST_CLI_VALUES_H
#define BLAST_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A number with an optional k, m or g suffix, within [min, max]. */
int num_arg(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A duration (500ms, 30s, 2m, 1h; a bare number is seconds); 0 only when
 * zero_ok. */
int duration_arg(const char *flag, const char *s, bool zero_ok, uint64_t *out);

/* A copy of s, at most max_len bytes, in place of *dst. */
int str_arg(char **dst, const char *flag, const char *s, size_t max_len);

/* --linger: milliseconds as Kafka's linger.ms ("5", "5ms" or "1s"). */
int linger_arg(const char *s, uint64_t *out);

/* --partitions "0,2,5-7": a new sorted list without repeats. */
int partitions_arg(const char *s, int32_t **out, uint32_t *n_out);

/* "NAME=VALUE" as two new strings; what names VALUE in the error. */
int name_value_arg(const char *flag, const char *s, const char *what, char **name,
		   char **value);

#endif
