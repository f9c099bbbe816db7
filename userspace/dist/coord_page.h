/* `blast --control URL --agents N --dashboard [ADDR:]PORT ...`: the
 * coordinator with its live page (dist/coord_dash.c), docs/dashboard.md. */
#ifndef BLAST_DIST_COORD_PAGE_H
#define BLAST_DIST_COORD_PAGE_H

#include "dist/coord.h"

/* coord_run with the page attached (its report and HTML in temporary
 * files when not asked for), then the final report until Ctrl-C or
 * --dashboard-linger. Returns coord_run's status, or 2 after one line when
 * the page cannot listen. */
int coord_page_main(struct coord_cfg *c, const struct split_whole *whole);

#endif
