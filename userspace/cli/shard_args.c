/* The flags of a split run: --shard I/N, --start-at and --hold-start (see
 * shard_args.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/fail.h"
#include "cli/shard_args.h"
#include "stats/clock.h"
#include "stats/shm.h"

/* --start-at more than this far ahead is taken for a mistake. */
#define START_AT_AHEAD_MAX_S (24 * 3600)

/* "I/N": I counts from 0, as a Kubernetes Indexed Job's index does. */
int shard_arg(struct blast_opts *o, const char *flag, const char *arg)
{
	char *end;
	unsigned long i, n;

	errno = 0;
	i = strtoul(arg, &end, 10);
	if (end == arg || *end != '/' || arg[0] == '-')
		return cli_fail("%s %s: must be I/N (this machine's index from 0, and the "
				"machines in all), e.g. 0/3", flag, cli_quote(arg));
	const char *s = end + 1;
	n = strtoul(s, &end, 10);
	if (end == s || *end || *s == '-' || errno || n < 1 || n > 100000)
		return cli_fail("%s %s: N must be 1 to 100000", flag, cli_quote(arg));
	if (i >= n)
		return cli_fail("%s %s: the index counts from 0 and must be below N (%lu)", flag,
				cli_quote(arg), n);
	o->shard_index = (uint32_t)i;
	o->shard_count = (uint32_t)n;
	return 0;
}

/* Digits [lo, hi] of s[at..at+len) as a number, or -1. */
static long digits(const char *s, size_t len, long lo, long hi)
{
	long v = 0;

	for (size_t k = 0; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* The fraction ".25" as ns; *n is the characters it took. */
static long fraction_ns(const char *s, size_t *n)
{
	long ns = 0, scale = 100000000;
	size_t k = 1;

	if (s[0] != '.')
		return *n = 0, 0;
	for (; s[k] >= '0' && s[k] <= '9'; k++) {
		ns += (s[k] - '0') * scale;
		scale /= 10;
	}
	*n = k;
	return k > 1 ? ns : -1;
}

int parse_wall_time(const char *s, uint64_t *ns)
{
	size_t len = strlen(s), n;

	if (len && strspn(s, "0123456789.") == len) {
		char *end;
		errno = 0;
		unsigned long long sec = strtoull(s, &end, 10);
		long frac = fraction_ns(end, &n);
		if (errno || end == s || frac < 0 || end[n] || sec > 1ull << 33)
			return -EINVAL;
		*ns = sec * 1000000000ull + (uint64_t)frac;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -EINVAL;
	struct tm tm = { 0 };
	long y = digits(s, 4, 1970, 9999), mo = digits(s + 5, 2, 1, 12), d = digits(s + 8, 2, 1, 31);
	long h = digits(s + 11, 2, 0, 23), mi = digits(s + 14, 2, 0, 59), se = digits(s + 17, 2, 0, 60);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
		return -EINVAL;
	long frac = fraction_ns(s + 19, &n);
	if (frac < 0)
		return -EINVAL;
	const char *z = s + 19 + n;
	long off = 0;
	if ((z[0] == 'Z' || z[0] == 'z') && !z[1]) {
		off = 0;
	} else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
		long oh = digits(z + 1, 2, 0, 23), om = digits(z + 4, 2, 0, 59);
		if (oh < 0 || om < 0)
			return -EINVAL;
		off = (z[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)se;
	time_t t = timegm(&tm);
	/* timegm normalises 31 February to March: refuse what moved. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	if ((long long)t - off < 0)
		return -EINVAL;
	*ns = (uint64_t)((long long)t - off) * 1000000000ull + (uint64_t)frac;
	return 0;
}

int hold_start_arg(struct blast_opts *o, const char *flag, const char *arg)
{
	char *end;
	unsigned long fd = strtoul(arg, &end, 10);
	unsigned long long tag = *end == ':' ? strtoull(end + 1, &end, 16) : 0;

	if (fd < 3 || fd > 1023 || *end || !tag || fcntl((int)fd, F_GETFD) < 0)
		return cli_fail("%s %s: FD:TAG, an open descriptor (3 or more) and a hex run id "
				"(it is blast agent's)", flag, cli_quote(arg));
	o->hold_fd = (int)fd;
	o->hold_tag = tag;
	return 0;
}

bool hold_start_step(const struct blast_opts *o, struct shm *shm)
{
	static bool said;
	static char line[64];
	static size_t n;
	uint64_t at;

	if (!said) {
		said = true;
		if (write(o->hold_fd, "connected\n", 10) != 10)
			goto gone;
	}
	ssize_t r = recv(o->hold_fd, line + n, sizeof(line) - 1 - n, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r <= 0)
		goto gone;
	n += (size_t)r;
	line[n] = '\0';
	char *nl = strchr(line, '\n');
	if (!nl)
		return n == sizeof(line) - 1 ? (fprintf(stderr, "blast: --hold-start: no start time\n"),
						 shm->stop = 1, true) : false;
	*nl = '\0';
	if (parse_wall_time(line, &at)) {
		fprintf(stderr, "blast: --hold-start: %s: not a start time\n", cli_quote(line));
		shm->stop = 1;
		return true;
	}
	uint64_t mono = mono_ns(), wall = wall_ns();
	shm->start_at_ns = at > wall ? mono + (at - wall) : mono - (wall - at);
	return true;
gone:
	fprintf(stderr, "blast: --hold-start: no start came (its agent is gone)\n");
	shm->stop = 1;
	return true;
}

int start_at_arg(struct blast_opts *o, const char *flag, const char *arg)
{
	struct timespec now;
	uint64_t at;

	if (parse_wall_time(arg, &at))
		return cli_fail("%s %s: must be an RFC 3339 time (2026-12-07T03:00:00Z) or "
				"seconds since the epoch", flag, cli_quote(arg));
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (at + 1000000000ull < now_ns)
		return cli_fail("%s %s: %.1f s in the past (the clock here says %lld)", flag,
				cli_quote(arg), (double)(now_ns - at) / 1e9, (long long)now.tv_sec);
	if (at > now_ns + START_AT_AHEAD_MAX_S * 1000000000ull)
		return cli_fail("%s %s: more than 24 hours ahead", flag, cli_quote(arg));
	o->start_at_ns = at;
	return 0;
}
