/* The run form into argv (see control_form.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dist/control_form.h"

static char *keep(struct control_form *f, const char *s, size_t n)
{
	if (f->used + n + 1 > sizeof(f->buf))
		return NULL;
	char *p = f->buf + f->used;
	memcpy(p, s, n);
	p[n] = '\0';
	f->used += n + 1;
	return p;
}

static int push(struct control_form *f, const char *flag, const char *v, size_t n)
{
	char *val = keep(f, v, n);

	if (!val || f->argc + 2 > FORM_MAX_ARGS)
		return -1;
	f->argv[f->argc++] = (char *)flag;
	f->argv[f->argc++] = val;
	f->argv[f->argc] = NULL;
	return 0;
}

/* A field's value without the blanks around it; "" when missing. */
static const char *field(const char *(*arg)(void *q, const char *key), void *q, const char *key,
			 size_t *n)
{
	const char *v = arg(q, key);

	if (!v)
		v = "";
	while (*v == ' ' || *v == '\t')
		v++;
	*n = strlen(v);
	while (*n && (v[*n - 1] == ' ' || v[*n - 1] == '\t'))
		(*n)--;
	return v;
}

static bool whole_number(const char *v, size_t n)
{
	if (!n || n > 12)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

static int form_argv(struct control_form *f, const char *url,
		     const char *(*arg)(void *q, const char *key), void *q, char *err, size_t cap)
{
	static const char *const numbers[][2] = { { "conns", "--conns" }, { "rate", "--rate" },
						  { "messages", "--messages" } };
	static const char *const times[][2] = { { "think", "--think-time" },
						{ "duration", "--duration" } };
	size_t n;
	const char *v;

	memset(f, 0, sizeof(*f));
	f->argv[f->argc++] = "blast";
	if (push(f, "--control", url, strlen(url)))
		goto full;
	v = field(arg, q, "agents", &n);
	if (!whole_number(v, n) || !strncmp(v, "0", n)) {
		snprintf(err, cap, "agents: a whole number of agents, 1 or more, is needed");
		return -1;
	}
	if (push(f, "--agents", v, n))
		goto full;
	v = field(arg, q, "proto", &n);
	static const char *const protos[] = { "mqtt", "kafka", "ws", "http" };
	bool known = false;
	for (size_t i = 0; i < 4; i++)
		known |= n == strlen(protos[i]) && !strncmp(v, protos[i], n);
	if (n && !known) {
		snprintf(err, cap, "protocol %.*s: one of mqtt, kafka, ws, http", (int)(n > 40 ? 40 : n),
			 v);
		return -1;
	}
	if (n && push(f, "--proto", v, n))
		goto full;
	bool mqtt = !n || !strncmp(v, "mqtt", n);
	/* Targets: each its own --target. */
	v = field(arg, q, "target", &n);
	if (!n) {
		snprintf(err, cap, "target: at least one HOST:PORT is needed");
		return -1;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j] != ',' && v[j] != ' ')
			j++;
		if (j > i) {
			if (v[i] == '-') {
				snprintf(err, cap, "target %.*s: not an address", (int)(j - i), v + i);
				return -1;
			}
			if (push(f, "--target", v + i, j - i))
				goto full;
		}
		i = j + 1;
	}
	for (size_t k = 0; k < sizeof(numbers) / sizeof(numbers[0]); k++) {
		v = field(arg, q, numbers[k][0], &n);
		if (!n)
			continue;
		if (!whole_number(v, n)) {
			snprintf(err, cap, "%s %.*s: a whole number is needed", numbers[k][0],
				 (int)(n > 40 ? 40 : n), v);
			return -1;
		}
		if (push(f, numbers[k][1], v, n))
			goto full;
	}
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
		v = field(arg, q, times[k][0], &n);
		if (!n)
			continue;
		if (v[0] == '-') {
			snprintf(err, cap, "%s %.*s: a duration (500ms, 10s, 2m) is needed", times[k][0],
				 (int)(n > 40 ? 40 : n), v);
			return -1;
		}
		if (push(f, times[k][1], v, n))
			goto full;
	}
	v = field(arg, q, "qos", &n);
	if (n && mqtt) {
		if (n != 1 || v[0] < '0' || v[0] > '2') {
			snprintf(err, cap, "QoS %.*s: 0, 1 or 2", (int)(n > 40 ? 40 : n), v);
			return -1;
		}
		if (push(f, "--qos", v, n))
			goto full;
	}
	return 0;
full:
	snprintf(err, cap, "the form's values are too long");
	return -1;
}

int control_form_argv(struct control_form *f, const char *url,
		      const char *(*arg)(void *q, const char *key), void *q, char *err, size_t cap)
{
	int r = form_argv(f, url, arg, q, err, cap);

	/* One line, whatever the values quoted in it hold. */
	for (char *p = err; r && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}
