/* Error lines for bad input: quoted, cut short and one line each. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/opts.h"
#include "cli/fail.h"

#define QUOTE_MAX 64

static char where[300]; /* "run.conf:3: " while a run file's line is read */

void cli_fail_at(const char *file, unsigned line)
{
	if (file)
		snprintf(where, sizeof(where), "%s:%u: ", file, line);
	else
		where[0] = '\0';
}

const char *cli_quote(const char *s)
{
	static char bufs[4][QUOTE_MAX + 4];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = strlen(s);

	if (!n)
		return "''";
	if (n <= QUOTE_MAX)
		return s;
	memcpy(b, s, QUOTE_MAX);
	memcpy(b + QUOTE_MAX, "...", 4);
	return b;
}

/* Control characters from user input become '?' so a value with a newline
 * cannot split the line. */
int cli_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fflush(stdout);
	fprintf(stderr, "blast: %s%s\n", where, line);
	return BLAST_EXIT_USAGE;
}
