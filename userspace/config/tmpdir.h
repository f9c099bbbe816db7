/* Where blast's own temporary files go: $TMPDIR when it names one, as
 * mktemp(1) and the C library's tmpfile conventions have it, else /tmp. */
#ifndef BLAST_CONFIG_TMPDIR_H
#define BLAST_CONFIG_TMPDIR_H

#include <stddef.h>

const char *tmp_dir(void);

/* DIR/NAME into buf (size n), DIR from tmp_dir(). Returns 0, or -1 when
 * it does not fit (buf is then empty). */
int tmp_path(char *buf, size_t n, const char *name);

#endif
