/* HdrHistogram interval log lines (see hlog.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encoders/hdrlog.h"
#include "stats/hlog.h"

static const struct hdr_params blast_params = {
	.sigfigs = HIST_SIGFIGS,
	.lowest = HIST_LOWEST,
	.highest = HIST_HIGHEST,
};

void hlog_write_header(FILE *f, uint64_t start_wall_ms)
{
	time_t t = (time_t)(start_wall_ms / 1000);
	struct tm tm;
	char when[64] = "";

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", &tm);
	fprintf(f, "#[blast corrected latency (scheduled send -> ack); values in nanoseconds, "
		   "Interval_Max in milliseconds]\n");
	fprintf(f, "#[Histogram log format version 1.3]\n");
	fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", (double)start_wall_ms / 1e3,
		when);
	fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", (double)start_wall_ms / 1e3);
	fprintf(f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
		   "\"Interval_Compressed_Histogram\"\n");
}

char *hlog_interval_line(double start_s, double len_s, const struct hist *h)
{
	uint8_t *z;
	size_t zlen;
	char *line = NULL;

	if (hdr_encode_compressed(h->counts, hist_used_len(h), &blast_params, &z, &zlen))
		return NULL;
	char *b = malloc(base64_len(zlen) + 1);
	if (b) {
		base64_encode(z, zlen, b);
		/* HdrHistogram reports an interval's max as its bucket's highest
		 * equivalent value, which is what a reader decodes. */
		double max_ms = h->total ? (double)hist_highest_equivalent(h->max) / 1e6 : 0;
		if (asprintf(&line, "%.3f,%.3f,%.3f,%s\n", start_s, len_s, max_ms, b) < 0)
			line = NULL;
		free(b);
	}
	free(z);
	return line;
}

int hlog_parse_line(const char *line, double *start_s, double *len_s, struct hist *h)
{
	char *end;
	const char *p = line;

	if (*p == '#' || *p == '"')
		return -EINVAL;
	*start_s = strtod(p, &end);
	if (end == p || *end != ',')
		return -EINVAL;
	p = end + 1;
	*len_s = strtod(p, &end);
	if (end == p || *end != ',')
		return -EINVAL;
	p = strchr(end + 1, ',');
	if (!p)
		return -EINVAL;
	p++;
	size_t n = strcspn(p, "\r\n");
	uint8_t *z = malloc(n / 4 * 3 + 3);
	if (!z)
		return -ENOMEM;
	long zlen = base64_decode(p, n, z);
	struct hdr_params hp;
	size_t filled;
	int r = -EINVAL;
	hist_reset(h);
	if (zlen >= 0 && !hdr_decode_compressed(z, (size_t)zlen, h->counts, HIST_COUNTS_LEN, &hp,
						&filled) &&
	    hp.sigfigs == HIST_SIGFIGS && hp.lowest == HIST_LOWEST && hp.highest == HIST_HIGHEST) {
		/* min and max as a reader knows them: the bucket edges. */
		for (int i = 0; i < HIST_COUNTS_LEN; i++) {
			if (!h->counts[i])
				continue;
			int64_t v = hist_value_at_index(i);
			if (!h->total)
				h->min = v;
			h->max = hist_highest_equivalent(v);
			h->total += h->counts[i];
		}
		r = 0;
	}
	free(z);
	return r;
}
