/* Helpers for the protobuf payload tests (tests/unit/test_protobuf_*.c):
 * a blast_opts with just the protobuf settings, GEN() for a generator that
 * must be made and BAD() for one that must be refused with a given line,
 * and a scratch directory for .desc files. Inline, so a test that leaves
 * one out compiles without warnings. */
#ifndef BLAST_TESTS_PROTOBUF_T_H
#define BLAST_TESTS_PROTOBUF_T_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payload/protobuf.h"
#include "t.h"

#define FIELDS_MAX 32

/* A blast_opts with just the protobuf settings; fields are "name=gen". */
struct popts {
	struct blast_opts o;
	struct field_spec f[FIELDS_MAX];
	char text[FIELDS_MAX][256];
};

static inline void popts_set(struct popts *p, const char *msg, const char *desc,
			     const char *const *fields)
{
	memset(p, 0, sizeof(*p));
	p->o.payload_proto = (char *)msg;
	p->o.payload_proto_desc = (char *)desc;
	p->o.fields = p->f;
	for (size_t i = 0; fields && fields[i]; i++) {
		char *eq;
		snprintf(p->text[i], sizeof(p->text[i]), "%s", fields[i]);
		eq = strchr(p->text[i], '=');
		*eq = '\0';
		p->f[i].name = p->text[i];
		p->f[i].gen = eq + 1;
		p->o.n_fields++;
	}
}

#define FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static inline struct payload_gen *gen_at(const char *file, int line, const char *msg,
					 const char *desc, const char *const *fields)
{
	struct popts p;
	char err[512];
	struct payload_gen *g;

	popts_set(&p, msg, desc, fields);
	g = payload_gen_new(&p.o, err, sizeof(err));
	t_checks++;
	if (!g) {
		t_failures++;
		fprintf(stderr, "%s:%d: payload_gen_new refused: %s\n", file, line, err);
	}
	return g;
}

#define GEN(msg, desc, ...) gen_at(__FILE__, __LINE__, msg, desc, FIELDS(__VA_ARGS__))

/* payload_gen_new must fail with one line containing want. */
static inline void bad_at(const char *file, int line, const char *want, const char *msg,
			  const char *desc, const char *const *fields)
{
	struct popts p;
	char err[512];
	struct payload_gen *g;

	popts_set(&p, msg, desc, fields);
	memset(err, 'x', sizeof(err));
	g = payload_gen_new(&p.o, err, sizeof(err));
	t_checks++;
	if (g || !strstr(err, want) || strchr(err, '\n')) {
		t_failures++;
		fprintf(stderr, "%s:%d: wanted failure \"%s\", got %s: [%s]\n", file, line, want,
			g ? "a generator" : "NULL", g ? "" : err);
	}
	payload_gen_free(g);
}

#define BAD(want, msg, desc, ...) bad_at(__FILE__, __LINE__, want, msg, desc, FIELDS(__VA_ARGS__))

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a scratch directory ---- */

static char tmpdir[64] __attribute__((unused));

/* Makes /tmp/NAME.XXXXXX; exits T_FAIL if it cannot. */
static inline void tmpdir_make(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(T_FAIL);
	}
}

static inline char *tmp_path(const char *name)
{
	static char bufs[8][4096 + 64];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static inline void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(T_FAIL);
	}
}

/* system() on a printf-formatted command. */
static inline int __attribute__((format(printf, 1, 2))) run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

#endif
