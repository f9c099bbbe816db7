/* Files named on the command line. The checks return 0, or print one
 * "blast: ..." line and return BLAST_EXIT_USAGE. */
#ifndef BLAST_CLI_FILES_H
#define BLAST_CLI_FILES_H

#include <stddef.h>

#include "config/opts.h"

/* Reads path into l (what was there is freed), one entry per non-empty
 * line; fails when the file cannot be read, has no entry, or an entry is
 * longer than max_len bytes. */
int list_arg(struct line_list *l, const char *flag, const char *path, size_t max_len);

void line_list_free(struct line_list *l);

/* --report, --hlog, --csv, --html: FILE.tmp can be created beside path. */
int report_check(const char *flag, const char *path);

/* --pcap FILE: the capture file can be created. */
int pcap_check(const char *path);

#endif
