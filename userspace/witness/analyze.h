/* `blast analyze FILE`: a capture (pcap or pcapng, from blast --pcap,
 * tcpdump or anything else) read back, its TCP streams reassembled, and
 * requests matched with acks (encoders/wire_match.c), printed as a table
 * like a run's. --pcap runs use analyze_file on their own capture. */
#ifndef BLAST_ANALYZE_H
#define BLAST_ANALYZE_H

#include <stddef.h>
#include <stdio.h>

#include "witness/wire.h"
#include "witness/wire_match.h"

/* argv[0] is "analyze". Returns the exit status: 0, or 2 (one line on
 * stderr) for bad flags and for a file that cannot be read or is corrupt. */
int analyze_main(int argc, char **argv);

/* Maps path and analyses it. 0, or -errno with err set to one line
 * (no "blast: " prefix). */
int analyze_file(const char *path, const struct wm_opts *o, struct wire_stats *out,
		 struct wm_counts *c, char *err, size_t err_cap);

/* The table: counts, then latency percentiles, as a run prints them. */
void analyze_print(FILE *f, const struct wire_stats *s, const struct wm_counts *c);

#endif
