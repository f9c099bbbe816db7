/* Values as the command line spells them: numbers with k/m/g, durations,
 * HOST:PORT, partition lists, NAME=VALUE, and the {conn} templates. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "cli/fail.h"
#include "cli/values.h"

#define LINGER_MAX_MS 900000u /* librdkafka's ceiling for linger.ms */
#define PARTITIONS_MAX 65536u

/* Digits only: returns the count consumed, and -ERANGE on overflow. */
static int digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		unsigned d = (unsigned)(s[n] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return n;
}

/* parse_u64 with the reason kept: -EINVAL for junk, -ERANGE for overflow. */
static int u64_parse(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;
	int n = digits(s, &v);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	switch (s[n]) {
	case 'k':
	case 'K':
		mult = 1000;
		n++;
		break;
	case 'm':
	case 'M':
		mult = 1000000;
		n++;
		break;
	case 'g':
	case 'G':
		mult = 1000000000;
		n++;
		break;
	}
	if (s[n])
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	return u64_parse(s, out) ? -EINVAL : 0;
}

static int duration_parse(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "", 1000000000ull },	    { "s", 1000000000ull },
		{ "ms", 1000000ull },	    { "m", 60000000000ull },
		{ "h", 3600000000000ull },  { "us", 1000ull }, /* --pace-batch 200us */
	};
	uint64_t v;
	int n = digits(s, &v);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].ns)
			return -ERANGE;
		*out = v * units[i].ns;
		return 0;
	}
	return -EINVAL;
}

int parse_duration_ns(const char *s, uint64_t *out)
{
	return duration_parse(s, out) ? -EINVAL : 0;
}

int parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
	const char *h, *colon;
	size_t hl;
	uint64_t p;
	int n;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		/* "::1:1883" is ambiguous: IPv6 needs its brackets. */
		if (memchr(h, ':', hl))
			return -EINVAL;
	}
	if (hl == 0 || hl >= host_cap)
		return -EINVAL;
	n = digits(colon + 1, &p);
	if (n <= 0 || colon[1 + n] || p == 0 || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* Writes v in decimal; returns the length. */
static size_t u64_str(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

int template_expand(char *out, size_t cap, const char *tmpl, uint64_t conn, uint64_t seq,
		    uint64_t pid)
{
	size_t n = 0;

	if (cap > INT_MAX)
		cap = INT_MAX; /* the length must fit the return value */
	if (!cap)
		return -ENOSPC;
	for (const char *p = tmpl; *p;) {
		char num[20];
		const char *put = p;
		size_t len = 1, adv = 1;

		if (*p == '{') {
			const char *name = p + 1;
			bool hit = true;
			uint64_t v = 0;

			if (!strncmp(name, "conn}", 5))
				v = conn, adv = 6;
			else if (!strncmp(name, "seq}", 4))
				v = seq, adv = 5;
			else if (!strncmp(name, "pid}", 4))
				v = pid, adv = 5;
			else
				hit = false;
			if (hit) {
				len = u64_str(num, v);
				put = num;
			}
		}
		if (n + len >= cap)
			return -ENOSPC;
		memcpy(out + n, put, len);
		n += len;
		p += adv;
	}
	out[n] = '\0';
	return (int)n;
}

/* Reads a number flag and checks it against [min, max]. */
int num_arg(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int r = u64_parse(s, &v);

	if (r == -EINVAL)
		return cli_fail("%s %s: not a number (digits, with an optional k, m or g suffix)", flag,
			    cli_quote(s));
	if (r == 0 && v >= min && v <= max) {
		*out = v;
		return 0;
	}
	if (max == UINT64_MAX)
		return r ? cli_fail("%s %s: too large", flag, cli_quote(s)) :
			   cli_fail("%s %s: must be at least %llu", flag, cli_quote(s), (unsigned long long)min);
	return cli_fail("%s %s: must be between %llu and %llu", flag, cli_quote(s),
		    (unsigned long long)min, (unsigned long long)max);
}

int duration_arg(const char *flag, const char *s, bool zero_ok, uint64_t *out)
{
	uint64_t v;
	int r = duration_parse(s, &v);

	if (r == -ERANGE)
		return cli_fail("%s %s: too long", flag, cli_quote(s));
	if (r)
		return cli_fail("%s %s: not a duration (like 200us, 500ms, 30s, 2m or 1h; a bare number is seconds)",
			    flag, cli_quote(s));
	if (!v && !zero_ok)
		return cli_fail("%s %s: must be greater than zero", flag, cli_quote(s));
	*out = v;
	return 0;
}

int str_arg(char **dst, const char *flag, const char *s, size_t max_len)
{
	if (strlen(s) > max_len)
		return cli_fail("%s %s: longer than %zu bytes", flag, cli_quote(s), max_len);
	free(*dst);
	*dst = strdup(s);
	if (!*dst)
		return cli_fail("out of memory");
	return 0;
}

/* --linger: milliseconds, as Kafka's linger.ms; "5", "5ms" or "1s". */
int linger_arg(const char *s, uint64_t *out)
{
	uint64_t v, ms;
	int n = digits(s, &v);

	if (n < 0)
		return cli_fail("--linger %s: at most %u ms", cli_quote(s), LINGER_MAX_MS);
	if (n > 0 && (!strcmp(s + n, "") || !strcmp(s + n, "ms")))
		ms = v;
	else if (n > 0 && !strcmp(s + n, "s"))
		ms = v > LINGER_MAX_MS ? v : v * 1000;
	else
		return cli_fail("--linger %s: not a duration (milliseconds: 5, 5ms or 1s)", cli_quote(s));
	if (ms > LINGER_MAX_MS)
		return cli_fail("--linger %s: at most %u ms", cli_quote(s), LINGER_MAX_MS);
	*out = ms * 1000000ull;
	return 0;
}

struct prange {
	uint64_t lo, hi;
};

static int prange_cmp(const void *a, const void *b)
{
	const struct prange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* --partitions "0,2,5-7": sorted, without repeats. Ranges are merged
 * before anything is expanded, so 0-2147483647 fails on the count instead
 * of allocating 8 GiB. */
int partitions_arg(const char *s, int32_t **out, uint32_t *n_out)
{
	size_t n = 1, k = 0;
	struct prange *r;
	uint64_t total = 0;
	int32_t *list;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	r = calloc(n, sizeof(*r));
	if (!r)
		return cli_fail("out of memory");
	for (const char *p = s;; p++) {
		int d = digits(p, &r[k].lo);

		if (d == 0) {
			free(r);
			return cli_fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
				    cli_quote(s));
		}
		if (d < 0 || r[k].lo > INT32_MAX) {
			free(r);
			return cli_fail("--partitions %s: a partition is at most %d", cli_quote(s), INT32_MAX);
		}
		p += d;
		r[k].hi = r[k].lo;
		if (*p == '-') {
			d = digits(++p, &r[k].hi);
			if (d == 0) {
				free(r);
				return cli_fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
					    cli_quote(s));
			}
			if (d < 0 || r[k].hi > INT32_MAX) {
				free(r);
				return cli_fail("--partitions %s: a partition is at most %d", cli_quote(s),
					    INT32_MAX);
			}
			if (r[k].hi < r[k].lo) {
				unsigned long long lo = r[k].lo, hi = r[k].hi;
				free(r);
				return cli_fail("--partitions %s: range %llu-%llu runs backwards", cli_quote(s),
					    lo, hi);
			}
			p += d;
		}
		k++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			free(r);
			return cli_fail("--partitions %s: expected numbers and ranges like 0,2,5-7",
				    cli_quote(s));
		}
	}
	qsort(r, k, sizeof(*r), prange_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && r[i].lo <= r[n - 1].hi + 1) {
			if (r[i].hi > r[n - 1].hi)
				r[n - 1].hi = r[i].hi;
			continue;
		}
		r[n++] = r[i];
	}
	for (size_t i = 0; i < n; i++)
		total += r[i].hi - r[i].lo + 1;
	if (total > PARTITIONS_MAX) {
		free(r);
		return cli_fail("--partitions %s: at most %u partitions", cli_quote(s), PARTITIONS_MAX);
	}
	list = malloc(total * sizeof(*list));
	if (!list) {
		free(r);
		return cli_fail("out of memory");
	}
	k = 0;
	for (size_t i = 0; i < n; i++)
		for (uint64_t p = r[i].lo; p <= r[i].hi; p++)
			list[k++] = (int32_t)p;
	free(r);
	*out = list;
	*n_out = (uint32_t)total;
	return 0;
}

/* Splits "NAME=VALUE" into two new strings. */
int name_value_arg(const char *flag, const char *s, const char *what, char **name,
		   char **value)
{
	const char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return cli_fail("%s %s: expected NAME=%s", flag, cli_quote(s), what);
	*name = strndup(s, (size_t)(eq - s));
	*value = strdup(eq + 1);
	if (!*name || !*value) {
		free(*name);
		free(*value);
		return cli_fail("out of memory");
	}
	return 0;
}
