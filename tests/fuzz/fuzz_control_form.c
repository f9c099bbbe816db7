/* libFuzzer target for `blast dashboard`'s run form (dist/control_form.c),
 * whose fields come from the network (POST /api/run's query string): the
 * input, split at '&', gives the fields in order; any values make an argv
 * whose strings lie inside the form's buffer and end in NULL, or one
 * non-empty line of refusal.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files (see
 * replay.h). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist/control_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "proto", "target", "conns", "rate", "think",
				     "qos", "duration", "messages", "agents" };
static char *vals[sizeof(keys) / sizeof(keys[0])];

static const char *get(void *q, const char *key)
{
	(void)q;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return vals[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control_form f;
	char *copy = malloc(size + 1), *p = copy, err[300];

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		vals[i] = p;
		p = p ? strchr(p, '&') : NULL;
		if (p)
			*p++ = '\0';
	}
	err[0] = '\0';
	if (control_form_argv(&f, "mqtt://127.0.0.1:1883", get, NULL, err, sizeof(err))) {
		assert(err[0] && !strchr(err, '\n'));
	} else {
		assert(f.argc >= 5 && f.argc <= FORM_MAX_ARGS && f.argv[f.argc] == NULL);
		for (int i = 1; i < f.argc; i += 2) {
			assert(f.argv[i][0] == '-' && f.argv[i][1] == '-');
			assert(f.argv[i + 1] >= f.buf && f.argv[i + 1] < f.buf + sizeof(f.buf));
			assert(f.argv[i + 1][0] != '-');
		}
	}
	free(copy);
	return 0;
}

#ifdef WITH_MAIN
#include "replay.h"
#endif
