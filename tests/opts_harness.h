/* The command-line tests' harness: opts_parse with stdout and stderr
 * captured, the bad-input contract (status 2, exactly one "blast: " line on
 * stderr, nothing on stdout), and files in a temporary directory. */
#ifndef BLAST_OPTS_HARNESS_H
#define BLAST_OPTS_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/opts.h"
#include "t.h"

#define NARGS(...) (sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *))
/* argv with "blast" in front, as main would get it. */
#define ARGV(...) ((char *[]){ "blast", __VA_ARGS__, NULL })

static char cap_out[32768], cap_err[8192];
static char tmpdir[] = "/tmp/test_opts.XXXXXX";

static inline void slurp(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs opts_parse with stdout and stderr captured into cap_out/cap_err. */
static inline int parse(struct blast_opts *o, int argc, char **argv)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int save_out, save_err, r;

	if (!fo || !fe) {
		perror("tmpfile");
		exit(T_FAIL);
	}
	fflush(stdout);
	fflush(stderr);
	save_out = dup(1);
	save_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r = opts_parse(o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	slurp(fo, cap_out, sizeof(cap_out));
	slurp(fe, cap_err, sizeof(cap_err));
	return r;
}

/* The bad-input contract; want is a piece the line must contain. */
static inline void check_bad(const char *file, int line, const char *want, int argc, char **argv)
{
	struct blast_opts o;
	int r = parse(&o, argc, argv);
	char *nl = strchr(cap_err, '\n');
	bool ok = r == BLAST_EXIT_USAGE && !strncmp(cap_err, "blast: ", 7) && nl && !nl[1] &&
		  !cap_out[0] && strstr(cap_err, want);

	t_checks++;
	if (!ok) {
		t_failures++;
		fprintf(stderr, "%s:%d: bad input not reported as wanted (status %d, want \"%s\")\n",
			file, line, r, want);
		fprintf(stderr, "  argv:");
		for (int i = 1; i < argc; i++)
			fprintf(stderr, " [%s]", argv[i]);
		fprintf(stderr, "\n  stderr: [%s]\n  stdout: [%s]\n", cap_err, cap_out);
	}
	opts_free(&o); /* must be harmless after a failed parse */
}

#define BAD(want, ...) check_bad(__FILE__, __LINE__, want, (int)NARGS(__VA_ARGS__) + 1, ARGV(__VA_ARGS__))

/* Parses a good command line into *o; the caller frees it. */
static inline int good_at(const char *file, int line, struct blast_opts *o, int argc, char **argv)
{
	int r = parse(o, argc, argv);

	t_checks++;
	if (r != 0 || cap_err[0] || cap_out[0]) {
		t_failures++;
		fprintf(stderr, "%s:%d: good input refused (status %d): %s%s", file, line, r,
			cap_err, cap_out);
	}
	return r;
}

#define GOOD(o, ...) good_at(__FILE__, __LINE__, o, (int)NARGS(__VA_ARGS__) + 1, ARGV(__VA_ARGS__))

static inline char *tmp_path(const char *name)
{
	static char bufs[8][256];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, 256, "%s/%s", tmpdir, name);
	return b;
}

static inline char *write_file(const char *name, const char *text, size_t len)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		perror(p);
		exit(T_FAIL);
	}
	return p;
}

/* Makes tmpdir; the tests remove what they write in it, main removes it. */
static inline void tmpdir_make(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(T_FAIL);
	}
}

#endif
