/* --config FILE (see config.h). Format, one per line:
 *
 *	# a comment (a whole line; '#' inside a value is the value's)
 *	--conns 100       or  conns 100   or  conns = 100   or  --conns=100
 *	--reconnect       (a switch: no value)
 *	--topic 'a b'     (quotes around a value are taken off)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "cli/config.h"
#include "cli/fail.h"
#include "cli/flags.h"

#define CONFIG_MAX (1u << 20) /* a run file is a few lines; this bounds a mistake */

/* Where --config is in argv: the index of its value, or 0. */
static int config_arg(int argc, char **argv, const char **path, int *at)
{
	*path = NULL;
	*at = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--config", 8) || (a[8] && a[8] != '='))
			continue;
		if (*path)
			return cli_fail("--config given twice");
		if (a[8] == '=') {
			*path = a + 9;
		} else if (i + 1 < argc) {
			*path = argv[++i];
		} else {
			return cli_fail("--config needs a value");
		}
		*at = i;
	}
	return 0;
}

/* Which flags the command line gives (they replace the file's). */
static void given_on_line(int argc, char **argv, bool *given)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int id = -1;
		if (!strncmp(a, "--", 2))
			id = flag_by_name(a + 2, strcspn(a + 2, "="));
		else if (a[0] == '-' && a[1])
			id = flag_by_letter(a[1]);
		if (id >= 0)
			given[id] = true;
	}
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f) {
		cli_fail("--config %s: %s", cli_quote(path), strerror(errno));
		return NULL;
	}
	buf = malloc(CONFIG_MAX + 1);
	n = buf ? fread(buf, 1, CONFIG_MAX + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!buf) {
		cli_fail("out of memory");
		return NULL;
	}
	if (err || n > CONFIG_MAX) {
		cli_fail("--config %s: %s", cli_quote(path), err ? "cannot be read" : "over 1 MiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		cli_fail("--config %s: not a text file (a NUL byte)", cli_quote(path));
		free(buf);
		return NULL;
	}
	return buf;
}

/* One line, trimmed (at most len bytes at s), into "--name=value" or
 * "--name" at *out (NULL for a blank or comment line). Errors name the
 * line (cli_fail_at is set by the caller). */
static int line_flag(const char *s, size_t len, const bool *given, char **out)
{
	*out = NULL;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!len || *s == '#')
		return 0;
	if (len >= 2 && s[0] == '-' && s[1] == '-')
		s += 2, len -= 2;
	size_t nl = 0;
	while (nl < len && !isspace((unsigned char)s[nl]) && s[nl] != '=')
		nl++;
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)(nl < 63 ? nl : 63), s);
	int id = nl < 64 ? flag_by_name(s, nl) : -1;
	if (id < 0) {
		const char *near = flag_nearest(name);
		return near ? cli_fail("unknown flag --%s (see blast --help); did you mean --%s?",
				       cli_quote(name), near) :
			      cli_fail("unknown flag --%s (see blast --help)", cli_quote(name));
	}
	if (id == F_CONFIG || id == F_HELP || id == F_VERSION)
		return cli_fail("--%s is for the command line, not a run file", name);
	/* The value: after spaces, or an '=' with spaces around it. */
	const char *v = s + nl;
	size_t vl = len - nl;
	while (vl && isspace((unsigned char)*v))
		v++, vl--;
	if (vl && *v == '=') {
		v++, vl--;
		while (vl && isspace((unsigned char)*v))
			v++, vl--;
	}
	bool quoted = vl >= 2 && (v[0] == '\'' || v[0] == '"') && v[vl - 1] == v[0];
	if (quoted)
		v++, vl -= 2;
	const struct flag *f = &flags[id];
	bool takes = f->kind != FLAG_SWITCH && f->kind != FLAG_ACTION;
	if (!takes && (vl || quoted))
		return cli_fail("--%s takes no value", name);
	if (takes && !vl && !quoted && !f->fallback)
		return cli_fail("--%s needs a value", name);
	if (given[id])
		return 0; /* the command line says otherwise */
	size_t cap = 2 + nl + 1 + vl + 1;
	char *t = malloc(cap);
	if (!t)
		return cli_fail("out of memory");
	if (takes && (vl || quoted))
		snprintf(t, cap, "--%s=%.*s", name, (int)vl, v);
	else
		snprintf(t, cap, "--%s", name);
	*out = t;
	return 0;
}

int config_expand(int argc, char **argv, struct config_args *ca)
{
	const char *path;
	int at, r;

	memset(ca, 0, sizeof(*ca));
	ca->argc = argc;
	ca->argv = argv;
	if ((r = config_arg(argc, argv, &path, &at)) || !path)
		return r;
	bool given[F__COUNT] = { false };
	given_on_line(argc, argv, given);
	if (!(ca->text = read_all(path)))
		return BLAST_EXIT_USAGE;
	ca->path = path;
	size_t lines = 1;
	for (const char *p = ca->text; *p; p++)
		lines += *p == '\n';
	ca->made = calloc(lines, sizeof(*ca->made));
	ca->argv = calloc(lines + (size_t)argc + 1, sizeof(*ca->argv));
	ca->line = calloc(lines + (size_t)argc + 1, sizeof(*ca->line));
	if (!ca->made || !ca->argv || !ca->line)
		return cli_fail("out of memory");
	ca->argv[ca->argc = 0] = argv[0];
	ca->argc = 1;
	unsigned no = 0;
	for (const char *p = ca->text; *p || !no;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *t;
		no++;
		cli_fail_at(path, no);
		r = line_flag(p, len, given, &t);
		cli_fail_at(NULL, 0);
		if (r)
			return r;
		if (t) {
			ca->made[ca->n_made++] = t;
			ca->line[ca->argc] = no;
			ca->argv[ca->argc++] = t;
		}
		if (!end)
			break;
		p = end + 1;
	}
	/* Then the command line, whose flags come later and so win. */
	for (int i = 1; i < argc; i++)
		ca->argv[ca->argc++] = argv[i];
	ca->argv[ca->argc] = NULL;
	return 0;
}

char *config_take_text(struct config_args *ca)
{
	char *t = ca->text;

	ca->text = NULL;
	return t;
}

void config_args_free(struct config_args *ca)
{
	for (int i = 0; i < ca->n_made; i++)
		free(ca->made[i]);
	free(ca->made);
	free(ca->text);
	free(ca->line);
	if (ca->path)
		free(ca->argv);
	memset(ca, 0, sizeof(*ca));
}
