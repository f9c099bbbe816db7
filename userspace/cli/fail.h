/* The one way the command line reports bad input: one line on stderr,
 * exit status 2. */
#ifndef BLAST_CLI_FAIL_H
#define BLAST_CLI_FAIL_H

/* Prints "blast: <msg>" as exactly one line and returns BLAST_EXIT_USAGE. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* From now on, error lines name file:line (a --config file's line being
 * read) before the message; NULL ends that. */
void cli_fail_at(const char *file, unsigned line);

/* User input as an error line quotes it: '' when empty, cut at 64 bytes.
 * Four rotating buffers: one message may quote several values. */
const char *cli_quote(const char *s);

#endif
