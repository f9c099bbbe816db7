/* The verifier budget: every BPF program blast ships, from the objects
 * each installed clang-N builds ($(OUT)/bpf/clang-N/, see the Makefile),
 * is loaded as blast configures it, with the largest maps blast asks for.
 * Prints each program's verified instructions (bpf_prog_info) and each
 * object's load time as a table, and fails a program over 15% of the
 * verifier's 1,000,000-instruction limit: a margin that a kernel patch
 * level or a compiler upgrade does not eat. Load times are shown, over
 * 100 ms marked; only one over a second fails (the instruction count is
 * the steady measure; time on a shared machine is not). Needs root (CAP_BPF, CAP_NET_ADMIN): an unprivileged
 * run is a skip, a root run that cannot load is a failure. */
#include <dirent.h>
#include <errno.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/rx_stamp.h"
#include "t.h"
#include "bpf/wire_probe.h"

#define INSN_BUDGET 150000u
#define LOAD_MS_BUDGET 100.0
#define LOAD_MS_FAIL 1000.0

struct knob {
	const char *name;
	uint32_t value;
};

/* What blast sets before it loads each object (userspace/witness/probe.c,
 * userspace/engine/rxseg.c), at the sizes that cost the most. */
struct object_setup {
	const char *object;
	struct knob rodata[4];
	struct knob max_entries[4];
};

static const struct object_setup setups[] = {
	{ "wire_probe",
	  { { "cfg_pid_filter", 1 }, { "cfg_fast_slots", WP_MAX_FAST_SLOTS } },
	  { { "reqs", WP_MAX_REQS }, { "reqs_fast", WP_MAX_FAST_SLOTS * WP_PID_SPACE } } },
	{ "rx_stamp",
	  { { "cfg_ring_mask", RXS_RING_MAX - 1 } },
	  { { "slots", 1024 }, { "heads", 1024 }, { "rings", 1024 * 256 } } },
};

static const char *out_dir(void)
{
	const char *d = getenv("BLAST_OUT");

	return d && *d ? d : ".output";
}

/* A const volatile u32 in .rodata, found through the object's BTF (the
 * layout of .rodata is the compiler's, so no skeleton of one build fits
 * another's). */
static int set_rodata_u32(struct bpf_object *obj, const char *name, uint32_t v)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m;
	size_t sz = 0;
	const char *init;

	bpf_object__for_each_map(m, obj)
		if (strstr(bpf_map__name(m), ".rodata"))
			break;
	if (!btf || !m || !(init = bpf_map__initial_value(m, &sz)))
		return -ENOENT;
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	const struct btf_type *sec = btf__type_by_id(btf, (uint32_t)id);
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != sizeof(v) || vs->offset + sizeof(v) > sz)
			return -EINVAL;
		char *data = malloc(sz);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, sz);
		memcpy(data + vs->offset, &v, sizeof(v));
		int r = bpf_map__set_initial_value(m, data, sz);
		free(data);
		return r;
	}
	return -ENOENT;
}

static const struct object_setup *setup_of(const char *object)
{
	for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); i++)
		if (!strcmp(setups[i].object, object))
			return &setups[i];
	return NULL;
}

/* This thread's CPU time, user and kernel: the verifier runs inside our
 * bpf() calls, so this is the load's own cost, which other work on a busy
 * machine does not stretch the way it stretches wall time. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* dir/file opened and set up as blast sets it up; NULL after a failed check. */
static struct bpf_object *open_configured(const char *path, const struct object_setup *st)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	CHECK(obj);
	if (!obj)
		return NULL;
	for (int i = 0; i < 4 && st->rodata[i].name; i++)
		CHECK_EQ_INT(set_rodata_u32(obj, st->rodata[i].name, st->rodata[i].value), 0);
	for (int i = 0; i < 4 && st->max_entries[i].name; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, st->max_entries[i].name);
		CHECK(m);
		if (m)
			CHECK_EQ_INT(bpf_map__set_max_entries(m, st->max_entries[i].value), 0);
	}
	return obj;
}

/* Loads dir/file (an object built by clang), prints its rows; 1 if it
 * could not be loaded for want of privileges. The load's CPU time is the
 * median of three. */
static int budget_object(const char *clang, const char *dir, const char *file)
{
	char path[1024], object[64];
	const char *dot = strstr(file, ".bpf.o");
	const struct object_setup *st;

	snprintf(object, sizeof(object), "%.*s", (int)(dot - file), file);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	st = setup_of(object);
	if (!st) {
		fprintf(stderr, "%s: no budget setup for this object: add it to setups[]\n", path);
		CHECK(st);
		return 0;
	}
	struct bpf_object *obj = NULL;
	double ms[3];
	for (int round = 0; round < 3; round++) {
		bpf_object__close(obj);
		obj = open_configured(path, st);
		if (!obj)
			return 0;
		double t0 = now_ms();
		int err = bpf_object__load(obj);
		ms[round] = now_ms() - t0;
		if (err == -EPERM && geteuid() != 0) {
			bpf_object__close(obj);
			return 1;
		}
		if (err) {
			fprintf(stderr, "%s: cannot load: %s (BLAST_BPF_DEBUG=1 shows the verifier's log)\n",
				path, strerror(-err));
			CHECK_EQ_INT(err, 0);
			bpf_object__close(obj);
			return 0;
		}
	}
	double lo = ms[0] < ms[1] ? ms[0] : ms[1], hi = ms[0] < ms[1] ? ms[1] : ms[0];
	double median = ms[2] < lo ? lo : ms[2] > hi ? hi : ms[2];
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		CHECK_EQ_INT(bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len), 0);
		bool over = info.verified_insns > INSN_BUDGET;
		printf("%-9s %-11s %-14s %9u %6.2f%% %9.1f%s\n", clang, object, bpf_program__name(p),
		       info.verified_insns, 100.0 * info.verified_insns / 1e6, median,
		       over ? "  OVER BUDGET" : "");
		CHECK(info.verified_insns > 0);
		CHECK(!over);
	}
	if (median > LOAD_MS_BUDGET)
		printf("%-9s %-11s load took %.1f ms: OVER BUDGET (%.0f ms)\n", clang, object, median,
		       LOAD_MS_BUDGET);
	CHECK(median <= LOAD_MS_FAIL);
	bpf_object__close(obj);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_clang_n(const struct dirent *e)
{
	return !strncmp(e->d_name, "clang-", 6) && e->d_name[6] >= '0' && e->d_name[6] <= '9';
}

static int only_objects(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 6 && !strcmp(e->d_name + n - 6, ".bpf.o");
}

int main(void)
{
	struct dirent **clangs, **objs;
	char dir[400];
	int unprivileged = 0, n_objs = 0;

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	/* Every installed clang-N must have built its objects. */
	int n = scandir("/usr/bin", &clangs, only_clang_n, by_name);
	CHECK(n > 0);
	printf("%-9s %-11s %-14s %9s %7s %9s\n", "compiler", "object", "program", "verified",
	       "of 1M", "load ms");
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/bpf/%s", out_dir(), clangs[i]->d_name);
		int k = scandir(dir, &objs, only_objects, by_name);
		if (k <= 0)
			fprintf(stderr, "%s: no objects (make builds one set per installed clang)\n", dir);
		CHECK(k > 0);
		for (int j = 0; j < k; j++) {
			unprivileged |= budget_object(clangs[i]->d_name, dir, objs[j]->d_name);
			n_objs++;
			free(objs[j]);
		}
		if (k > 0)
			free(objs);
		free(clangs[i]);
	}
	if (n > 0)
		free(clangs);
	printf("budget: %u verified instructions a program, %.0f ms an object's load; %d objects\n",
	       INSN_BUDGET, LOAD_MS_BUDGET, n_objs);
	fflush(stdout);
	if (unprivileged) {
		fprintf(stderr, "test_bpf_budget: needs root (CAP_BPF) to load the programs\n");
		return T_SKIP;
	}
	return t_done("test_bpf_budget");
}
