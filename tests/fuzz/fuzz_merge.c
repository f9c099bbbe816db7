/* libFuzzer target for the reports `blast merge` reads
 * (report/merge_read.c, report/exact.c): the input as a report, added to
 * an empty merge and then again (a second report against the first); each
 * is accepted or refused with a line, never read past, never a crash.
 * Then its bytes as an exact histogram and as exact totals in base64.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files (see
 * replay.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/exact.h"
#include "report/merge_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct merge m;
	struct hist *h = hist_new();
	struct blast_totals t;

	if (merge_init(&m) || !h) {
		merge_free(&m);
		free(h);
		return 0;
	}
	/* The reader takes a span, not a C string: give it one with no NUL after. */
	char *buf = malloc(size ? size : 1);
	if (buf) {
		memcpy(buf, data, size);
		if (!merge_add(&m, "fuzz", buf, size))
			merge_add(&m, "fuzz", buf, size);
		exact_hist_parse(buf, size, h);
		exact_totals_parse(buf, size, &t);
	}
	free(buf);
	free(h);
	merge_free(&m);
	return 0;
}

#ifdef WITH_MAIN
#include "replay.h"
#endif
