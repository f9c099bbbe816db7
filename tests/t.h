/* Minimal test harness: CHECK() reports file:line and keeps going; a test
 * binary exits T_PASS (0), T_FAIL (1) or T_SKIP (77), as liburing's tests do,
 * and tests/run.sh tallies them. */
#ifndef BLAST_T_H
#define BLAST_T_H

#include <stdio.h>
#include <string.h>

enum t_result { T_PASS = 0, T_FAIL = 1, T_SKIP = 77 };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int t_failures;
static int t_checks;

#define CHECK(cond)                                                              \
	do {                                                                     \
		t_checks++;                                                      \
		if (!(cond)) {                                                   \
			t_failures++;                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                       \
	do {                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);              \
		t_checks++;                                                      \
		if (_a != _b) {                                                  \
			t_failures++;                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);             \
		}                                                                \
	} while (0)

#define CHECK_MEM(got, got_len, want, want_len)                                  \
	do {                                                                     \
		t_checks++;                                                      \
		if ((size_t)(got_len) != (size_t)(want_len) ||                   \
		    memcmp((got), (want), (want_len)) != 0) {                    \
			t_failures++;                                            \
			fprintf(stderr, "%s:%d: CHECK failed: bytes of %s differ from %s\n", \
				__FILE__, __LINE__, #got, #want);                \
			t_dump("got ", (const unsigned char *)(got), (size_t)(got_len)); \
			t_dump("want", (const unsigned char *)(want), (size_t)(want_len)); \
		}                                                                \
	} while (0)

static inline void t_dump(const char *what, const unsigned char *p, size_t n)
{
	fprintf(stderr, "  %s (%zu):", what, n);
	for (size_t i = 0; i < n && i < 64; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, n > 64 ? " ...\n" : "\n");
}

/* Ends main(): prints a one-line summary and returns the exit status. */
static inline int t_done(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", name, t_checks, t_failures);
	if (t_checks == 0)
		return T_FAIL; /* a test that checked nothing proves nothing */
	return t_failures ? T_FAIL : T_PASS;
}

#endif
