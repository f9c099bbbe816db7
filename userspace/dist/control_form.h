/* The run form of `blast dashboard` into a coordinator's argv: pure, so
 * the checks that need no run (a known protocol, whole numbers, no flag
 * smuggled in a value) are unit-tested; opts_parse checks the rest. */
#ifndef BLAST_DIST_CONTROL_FORM_H
#define BLAST_DIST_CONTROL_FORM_H

#include <stddef.h>

#define FORM_MAX_ARGS 160

struct control_form {
	char *argv[FORM_MAX_ARGS + 1]; /* "blast", "--control", URL, "--agents", N, ... (in this order) */
	int argc;
	char buf[4096];                /* the strings argv points into */
	size_t used;
};

/* arg(q, KEY) gives a field or NULL: proto, target (several separated by
 * commas or spaces), conns, rate (empty: no limit), think, qos, duration,
 * messages, agents. 0, or -1 with one line in err. */
int control_form_argv(struct control_form *f, const char *url,
		      const char *(*arg)(void *q, const char *key), void *q, char *err, size_t cap);

#endif
