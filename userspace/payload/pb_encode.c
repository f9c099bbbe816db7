/* Protobuf payloads, the per-message path: walks the plan (pb_plan.h) and
 * writes wire format directly (varints, zigzag, fixed32/64,
 * length-delimited bodies), with no allocation and no protobuf-c call. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "payload/pb_plan.h"
#include "payload/pb_wire.h"
#include "payload/protobuf.h"

/* splitmix64: one add and three xor-shift-multiplies, good enough for load
 * generation and a fraction of a nanosecond. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double rng_unit(uint64_t *s) /* [0, 1) */
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, span]; span UINT64_MAX is any value. Multiply-shift
 * instead of %, no loop: the bias is below 2^-64 per value. */
static inline uint64_t rng_upto(uint64_t *s, uint64_t span)
{
	uint64_t r = rng_next(s);

	if (span == UINT64_MAX)
		return r;
	return (uint64_t)(((unsigned __int128)r * (span + 1)) >> 64);
}

static inline double rng_gauss(uint64_t *s)
{
	/* Box-Muller; u1 in (0, 1] keeps log() finite. */
	double u1 = (double)((rng_next(s) >> 11) + 1) * 0x1.0p-53;
	double u2 = rng_unit(s);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Rounds d into the integer type of k, saturating at its ends. */
static uint64_t to_int(const struct pb_node *k, double d)
{
	double r = round(d);

	if (k->usig) {
		if (!(r > 0))
			return 0;
		if (r >= (k->wide ? 0x1p64 : 0x1p32))
			return k->wide ? UINT64_MAX : UINT32_MAX;
		return (uint64_t)r;
	}
	if (!(r > (k->wide ? -0x1p63 : -0x1p31)))
		return (uint64_t)(k->wide ? INT64_MIN : INT32_MIN);
	if (r >= (k->wide ? 0x1p63 : 0x1p31))
		return (uint64_t)(k->wide ? INT64_MAX : INT32_MAX);
	return (uint64_t)(int64_t)r;
}

static uint8_t *emit(struct payload_gen *g, const struct pb_node *kids, uint32_t n, uint64_t seq,
		     uint8_t *p)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (uint32_t i = 0; i < n; i++) {
		const struct pb_node *k = &kids[i];
		/* A repeated field: each element drawn anew, written one after
		 * another (unpacked, which every parser accepts). */
		for (uint32_t rep = 0; rep < (k->repeat ? k->repeat : 1); rep++) {
			uint64_t u = 0;
			double d = 0;

			switch (k->kind) {
			case GEN_MSG: {
				uint8_t *body = p + k->tag_len + k->len_len;
				size_t len = (size_t)(emit(g, k->kids, k->n_kids, seq, body) - body);
				unsigned ll = pb_varint_len(len);

				memcpy(p, k->tag, k->tag_len);
				p += k->tag_len;
				/* The body went after room for its longest length. */
				if (ll < k->len_len)
					memmove(p + ll, body, len);
				p = pb_put_varint(p, len) + len;
				continue;
			}
			case GEN_CONST:
				memcpy(p, k->blob, k->offs[1]);
				p += k->offs[1];
				continue;
			case GEN_CHOICE: {
				uint32_t c = (uint32_t)rng_upto(&g->rng, k->n_choices - 1);
				uint32_t len = k->offs[c + 1] - k->offs[c];
				memcpy(p, k->blob + k->offs[c], len);
				p += len;
				continue;
			}
			case GEN_BYTES:
				memcpy(p, k->tag, k->tag_len);
				p = pb_put_varint(p + k->tag_len, k->n_bytes);
				for (uint32_t j = 0; j < k->n_bytes; j += 8) {
					uint64_t r = rng_next(&g->rng);
					for (uint32_t b = 0; b < 8 && j + b < k->n_bytes; b++, r >>= 8)
						p[j + b] = k->type == PB_STRING ?
								   (uint8_t)alnum[(r & 0xff) % 36] :
								   (uint8_t)r;
				}
				p += k->n_bytes;
				continue;
			case GEN_UNIFORM_INT:
				u = k->lo + rng_upto(&g->rng, k->span);
				break;
			case GEN_UNIFORM_FLT:
				d = k->a + k->b * rng_unit(&g->rng);
				break;
			case GEN_NORMAL:
				d = k->a + k->b * rng_gauss(&g->rng);
				if (k->is_int)
					u = to_int(k, d);
				break;
			case GEN_BERNOULLI:
				u = rng_unit(&g->rng) < k->a;
				break;
			case GEN_SEQ:
				u = seq;
				break;
			case GEN_NOW_MS:
				u = (uint64_t)(g->now_sec * 1000 + g->now_nsec / 1000000);
				break;
			case GEN_NOW_SEC:
				u = (uint64_t)g->now_sec;
				break;
			case GEN_NOW_NSEC:
				u = (uint64_t)(int64_t)g->now_nsec;
				break;
			}
			uint64_t w = pb_wire_value(k->type, u, d);
			if (k->implicit && !w)
				continue; /* proto3 leaves a zero out */
			memcpy(p, k->tag, k->tag_len);
			p = pb_put_scalar(p + k->tag_len, k->wire, w);
		}
	}
	return p;
}

ssize_t payload_gen_fill(struct payload_gen *g, uint64_t seq, uint8_t *out, size_t cap)
{
	/* Without room for the worst case, encode aside and copy if it fits:
	 * emit() itself then never needs a bounds check. */
	uint8_t *dst = cap >= g->max ? out : g->scratch;
	size_t n;

	if (g->uses_now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g->now_sec = ts.tv_sec;
		g->now_nsec = (int32_t)ts.tv_nsec;
	}
	n = (size_t)(emit(g, g->root.kids, g->root.n_kids, seq, dst) - dst);
	if (dst != out) {
		if (n > cap)
			return -ENOSPC;
		if (n)
			memcpy(out, dst, n);
	}
	return (ssize_t)n;
}

size_t payload_gen_max_size(const struct payload_gen *g)
{
	return g->max;
}

const char *payload_gen_name(const struct payload_gen *g)
{
	return g->name;
}

void payload_gen_seed(struct payload_gen *g, uint64_t seed)
{
	uint64_t s = seed;

	/* Mix, so seeds 0, 1, 2 start far apart. */
	g->rng = rng_next(&s);
}
