/* --probe: loads bpf/wire_probe.bpf.c, attaches it for the run, and turns
 * its maps into a struct wire_stats.
 *
 * Attachments are all links held by blast's descriptors: tcx on the egress
 * and ingress of each interface a target is reached through
 * (bpf_link_create with BPF_TCX_*), sockops on the root cgroup v2, and the
 * tcp:tcp_cong_state_set tracepoint. When blast exits, however it exits,
 * the kernel drops the links and the programs with them: no tc qdisc or
 * filter is ever created. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "protocol/kafka_meta.h"
#include "config/opts.h"
#include "engine/bpf_log.h"
#include "transport/addr.h"
#include "witness/probe.h"
#include "bpf/wire_probe.h"
#include "wire_probe.skel.h"

/* libbpf 1.1's headers predate tcx (Linux 6.6); the kernel's values. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

#define CGROUP2_MAGIC 0x63677270
#define TRACEFS_MAGIC 0x74726163
#define PROBE_MAX_IFS 8

struct probe {
	struct wire_probe_bpf *skel;
	int links[2 * PROBE_MAX_IFS];
	unsigned n_links;
	struct bpf_link *sockops, *cong;
	int ncpu;
	struct wp_counters *percpu; /* scratch for a per-CPU lookup */
	uint64_t *hist_percpu;
	/* The live line: what the last one saw. */
	struct wp_counters live_prev;
	uint64_t *live_buckets; /* [WP_HIST_BUCKETS] */
	struct hist *live_hist;
	uint64_t live_t_ns;
	uint64_t *dash_buckets; /* [WP_HIST_BUCKETS]: as probe_latency_new last read them */
};

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("blast: warning: --probe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("; running without the wire probe\n", stderr);
	va_end(ap);
}

/* An fd on the root of the cgroup v2 hierarchy, mounting one (and
 * detaching the mount at once) when none is mounted. */
static int cgroup2_root_fd(void)
{
	static const char *const paths[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs st;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (statfs(paths[i], &st) == 0 && st.f_type == CGROUP2_MAGIC)
			return open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char dir[] = "/tmp/blast-cgroup2.XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	int fd = -1;
	if (mount("cgroup2", dir, "cgroup2", 0, NULL) == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		umount2(dir, MNT_DETACH);
	}
	rmdir(dir);
	return fd;
}

/* libbpf finds tracepoints through tracefs. */
static void tracefs_ensure(void)
{
	struct statfs st;

	if (statfs("/sys/kernel/tracing", &st) == 0 && st.f_type == TRACEFS_MAGIC)
		return;
	if (access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

static int target_proto(const struct blast_opts *o)
{
	/* Inside TLS there is nothing to parse: segments, bytes, RTT and
	 * retransmits only (the flow's parser gives up at its first byte). */
	if (o->tls)
		return WP_NONE;
	switch (o->proto) {
	case PROTO_MQTT:
		return o->transport == TRANSPORT_WS ? WP_MQTT_WS : WP_MQTT;
	case PROTO_KAFKA:
		return WP_KAFKA;
	case PROTO_WS:
		return WP_WS;
	case PROTO_HTTP:
		return WP_HTTP;
	}
	return -1;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The interface traffic to t leaves through: the route's source address
 * names it, and a local destination means loopback. 0 if unknown. */
static unsigned route_ifindex(const struct blast_target *t)
{
	if (addr_is_loopback(&t->addr))
		return if_nametoindex("lo");
	int fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage src;
	socklen_t len = sizeof(src);
	unsigned idx = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&src, &len) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	struct ifaddrs *ifs, *i;
	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && same_addr(i->ifa_addr, &t->addr)) {
			idx = if_nametoindex("lo"); /* the target is this host */
			break;
		}
	for (i = ifs; i && !idx; i = i->ifa_next)
		if (i->ifa_addr && same_addr(i->ifa_addr, &src))
			idx = if_nametoindex(i->ifa_name);
	freeifaddrs(ifs);
	return idx;
}

static int add_target(struct probe *p, const struct blast_target *t, __u32 proto,
		      unsigned *ifs, unsigned *n_ifs)
{
	struct wp_target k;

	memset(&k, 0, sizeof(k));
	k.family = t->addr.ss_family;
	if (k.family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&t->addr;
		k.addr[0] = a->sin_addr.s_addr;
		k.port = a->sin_port;
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&t->addr;
		memcpy(k.addr, &a->sin6_addr, 16);
		k.port = a->sin6_port;
	}
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.targets), &k, &proto, BPF_ANY))
		return -errno;
	unsigned idx = route_ifindex(t);
	if (!idx)
		return -ENODEV;
	for (unsigned i = 0; i < *n_ifs; i++)
		if (ifs[i] == idx)
			return 0;
	if (*n_ifs < PROBE_MAX_IFS)
		ifs[(*n_ifs)++] = idx;
	return 0;
}

static int attach_tcx(struct probe *p, unsigned ifindex)
{
	static const int types[2] = { BPF_TCX_EGRESS, BPF_TCX_INGRESS };
	int progs[2] = { bpf_program__fd(p->skel->progs.wp_egress),
			 bpf_program__fd(p->skel->progs.wp_ingress) };

	for (int i = 0; i < 2; i++) {
		int fd = bpf_link_create(progs[i], (int)ifindex, types[i], NULL);
		if (fd < 0)
			return -errno;
		p->links[p->n_links++] = fd;
	}
	return 0;
}

/* Opens and loads the object, with room for max_reqs requests awaiting
 * their ack (lru: forget the oldest when full); NULL after a warning. */
static struct probe *probe_open_load(bool pid_filter, uint32_t max_reqs, bool lru,
				     uint32_t fast_slots)
{
	struct probe *p;
	int err;

	bpf_log_init();
	p = calloc(1, sizeof(*p));
	if (!p) {
		warn("out of memory");
		return NULL;
	}
	p->ncpu = libbpf_num_possible_cpus();
	p->skel = wire_probe_bpf__open();
	if (p->ncpu <= 0 || !p->skel) {
		warn("cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	p->skel->rodata->cfg_pid_filter = pid_filter;
	/* Preallocated: a hash map that allocates per update costs about
	 * three times as much per request (measured with test_run). */
	bpf_map__set_max_entries(p->skel->maps.reqs, max_reqs);
	if (lru)
		bpf_map__set_type(p->skel->maps.reqs, BPF_MAP_TYPE_LRU_HASH);
	p->skel->rodata->cfg_fast_slots = fast_slots;
	bpf_map__set_max_entries(p->skel->maps.reqs_fast,
				 fast_slots ? fast_slots * WP_PID_SPACE : 1);
	err = wire_probe_bpf__load(p->skel);
	if (err) {
		warn("cannot load the BPF programs (%s): needs root (CAP_BPF, CAP_NET_ADMIN) "
		     "and a kernel with BPF", strerror(-err));
		goto fail;
	}
	p->percpu = calloc((size_t)p->ncpu, sizeof(*p->percpu));
	p->hist_percpu = calloc((size_t)p->ncpu, sizeof(uint64_t));
	if (!p->percpu || !p->hist_percpu) {
		warn("out of memory");
		goto fail;
	}
	return p;
fail:
	probe_stop(p);
	return NULL;
}

struct probe *probe_load(void)
{
	return probe_open_load(false, 65536, false, PROBE_TEST_FAST_SLOTS);
}

/* Requests that can await their ack at once: every connection's window
 * (MQTT packet ids, Kafka requests), with room to spare. WebSocket
 * messages get receipts on every connection and are never done with: the
 * newest 256 Ki are kept. */
static uint32_t reqs_room(const struct blast_opts *o, const struct kafka_meta *km)
{
	uint64_t n;

	if (o->proto == PROTO_WS)
		return 256 * 1024;
	n = (uint64_t)o->conns * (o->inflight + 1);
	if (o->proto == PROTO_KAFKA)
		n *= (km->n_brokers ? km->n_brokers : 1) * (uint64_t)(o->workers ? o->workers : 1);
	n += n / 4;
	return n < 4096 ? 4096 : n > WP_MAX_REQS ? WP_MAX_REQS : (uint32_t)n;
}

int probe_map_fd(struct probe *p, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(p->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int probe_prog_fd(struct probe *p, bool egress)
{
	return bpf_program__fd(egress ? p->skel->progs.wp_egress : p->skel->progs.wp_ingress);
}

struct probe *probe_start(const struct blast_opts *o, const struct kafka_meta *km)
{
	int proto = target_proto(o);
	unsigned ifs[PROBE_MAX_IFS], n_ifs = 0;
	int err = 0, cg;
	struct probe *p;

	if (proto < 0) {
		warn("no parser for this protocol");
		return NULL;
	}
	/* 512 KiB per fast MQTT connection, for at most 32 of them. */
	uint32_t fast = o->proto == PROTO_MQTT ? o->conns : 0; /* over WebSocket too */
	if (fast > WP_MAX_FAST_SLOTS)
		fast = WP_MAX_FAST_SLOTS;
	p = probe_open_load(true, reqs_room(o, km), o->proto == PROTO_WS, fast);
	if (!p)
		return NULL;
	__u32 me = (__u32)getpid(), one = 1;
	bpf_map_update_elem(bpf_map__fd(p->skel->maps.pids), &me, &one, BPF_ANY);
	if (o->proto == PROTO_KAFKA) {
		for (uint32_t i = 0; i < km->n_brokers && !err; i++)
			err = add_target(p, &km->broker_addr[i], (__u32)proto, ifs, &n_ifs);
	} else {
		for (unsigned i = 0; i < o->n_targets && !err; i++)
			err = add_target(p, &o->targets[i], (__u32)proto, ifs, &n_ifs);
		for (unsigned i = 0; i < o->n_listen && !err; i++)
			err = add_target(p, &o->listen[i], (__u32)proto, ifs, &n_ifs);
	}
	if (err) {
		warn("cannot find the interface to a target: %s", strerror(-err));
		goto fail;
	}
	for (unsigned i = 0; i < n_ifs && !err; i++)
		err = attach_tcx(p, ifs[i]);
	if (err) {
		warn("cannot attach tcx programs (%s): needs Linux 6.6 or later", strerror(-err));
		goto fail;
	}
	cg = cgroup2_root_fd();
	if (cg < 0) {
		warn("no cgroup v2 hierarchy: %s", strerror(errno));
		goto fail;
	}
	p->sockops = bpf_program__attach_cgroup(p->skel->progs.wp_sockops, cg);
	err = -errno;
	close(cg);
	if (!p->sockops) {
		warn("cannot attach the sockops program: %s", strerror(-err));
		goto fail;
	}
	tracefs_ensure();
	p->cong = bpf_program__attach(p->skel->progs.wp_cong_state);
	if (!p->cong) {
		warn("cannot attach to tcp:tcp_cong_state_set: %s", strerror(errno));
		goto fail;
	}
	return p;
fail:
	probe_stop(p);
	return NULL;
}

void probe_worker_init(struct probe *p)
{
	if (!p)
		return;
	__u32 me = (__u32)getpid(), one = 1;
	bpf_map_update_elem(bpf_map__fd(p->skel->maps.pids), &me, &one, BPF_ANY);
	/* The parent holds the links; a worker's copies would only keep the
	 * programs attached for as long as it lives. */
	for (unsigned i = 0; i < p->n_links; i++)
		close(p->links[i]);
	p->n_links = 0;
}

/* The per-CPU counters, summed. */
static int sum_counters(struct probe *p, struct wp_counters *c)
{
	__u32 zero = 0;

	memset(c, 0, sizeof(*c));
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &zero, p->percpu))
		return -errno;
	for (int i = 0; i < p->ncpu; i++) {
		const struct wp_counters *x = &p->percpu[i];
		c->requests += x->requests;
		c->acks += x->acks;
		c->unmatched += x->unmatched;
		c->unparsed += x->unparsed;
		c->bytes_out += x->bytes_out;
		c->bytes_in += x->bytes_in;
		c->segs_out += x->segs_out;
		c->segs_in += x->segs_in;
		c->retransmits += x->retransmits;
		c->rtx_tlp += x->rtx_tlp;
		c->rtx_tlp_repaired += x->rtx_tlp_repaired;
		c->rtx_dsack += x->rtx_dsack;
		c->flows += x->flows;
		c->untracked += x->untracked;
		c->srtt_sum_us += x->srtt_sum_us;
		c->srtt_n += x->srtt_n;
		if (x->srtt_max_us > c->srtt_max_us)
			c->srtt_max_us = x->srtt_max_us;
	}
	return 0;
}

/* Bucket i's count over every CPU. */
static int bucket(struct probe *p, __u32 i, uint64_t *n)
{
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.hist), &i, p->hist_percpu))
		return -errno;
	*n = 0;
	for (int cpu = 0; cpu < p->ncpu; cpu++)
		*n += p->hist_percpu[cpu];
	return 0;
}

int probe_read(struct probe *p, struct wire_stats *out)
{
	struct wp_counters c;
	int err;

	memset(out, 0, sizeof(*out));
	hist_reset(&out->latency);
	out->source = WIRE_PROBE;
	err = sum_counters(p, &c);
	if (err)
		return err;
	out->requests = c.requests;
	out->acks = c.acks;
	out->unmatched = c.unmatched;
	/* A request the map had no room for cannot be matched: its ack
	 * shows up in unmatched; the request itself is unparsed. */
	out->unparsed = c.unparsed + c.untracked;
	out->retransmits = c.retransmits;
	out->retrans_real = wp_rtx_real(&c);
	/* CPUs summed one after another: a repair may be seen before its probe. */
	out->retrans_tlp = c.rtx_tlp > c.rtx_tlp_repaired ? c.rtx_tlp - c.rtx_tlp_repaired : 0;
	out->retrans_dsack = c.rtx_dsack;
	out->bytes_out = c.bytes_out;
	out->bytes_in = c.bytes_in;
	out->segs_out = c.segs_out;
	out->segs_in = c.segs_in;
	out->flows = c.flows;

	/* Flows still open hold their last smoothed RTT. */
	int ffd = bpf_map__fd(p->skel->maps.flows);
	struct wp_flow_key k, nk, *prev = NULL;
	struct wp_flow fl;
	while (bpf_map_get_next_key(ffd, prev, &nk) == 0) {
		k = nk;
		prev = &k;
		if (bpf_map_lookup_elem(ffd, &k, &fl) || !fl.srtt_us)
			continue;
		c.srtt_sum_us += fl.srtt_us;
		c.srtt_n++;
		if (fl.srtt_us > c.srtt_max_us)
			c.srtt_max_us = fl.srtt_us;
	}
	out->srtt_us_max = c.srtt_max_us;
	out->srtt_us_mean = c.srtt_n ? c.srtt_sum_us / c.srtt_n : 0;
	out->srtt_us_sum = c.srtt_sum_us;
	out->srtt_flows = c.srtt_n;

	for (__u32 i = 0; i < WP_HIST_BUCKETS; i++) {
		uint64_t n;
		err = bucket(p, i, &n);
		if (err)
			return err;
		if (n)
			hist_record_n(&out->latency, (int64_t)wp_hist_value(i), n);
	}
	return 0;
}

/* Adds to out the latencies the buckets gained since *seen (allocated on
 * the first call: every latency so far), and moves *seen up to them. */
static int bucket_growth(struct probe *p, uint64_t **seen, struct hist *out)
{
	if (!*seen && !(*seen = calloc(WP_HIST_BUCKETS, sizeof(uint64_t))))
		return -ENOMEM;
	for (__u32 i = 0; i < WP_HIST_BUCKETS; i++) {
		uint64_t n;
		int err = bucket(p, i, &n);
		if (err)
			return err;
		if (n > (*seen)[i])
			hist_record_n(out, (int64_t)wp_hist_value(i), n - (*seen)[i]);
		(*seen)[i] = n;
	}
	return 0;
}

int probe_latency_new(struct probe *p, struct hist *out)
{
	return p ? bucket_growth(p, &p->dash_buckets, out) : -EINVAL;
}

void probe_live(struct probe *p, FILE *f, double elapsed_s, uint64_t now_ns)
{
	struct wp_counters c;

	if (!p)
		return;
	if (!p->live_hist && !(p->live_hist = malloc(sizeof(*p->live_hist))))
		return;
	if (sum_counters(p, &c))
		return;
	/* The last interval's latencies: the buckets' growth since then. */
	hist_reset(p->live_hist);
	if (bucket_growth(p, &p->live_buckets, p->live_hist))
		return;
	double dt = p->live_t_ns && now_ns > p->live_t_ns ? (double)(now_ns - p->live_t_ns) / 1e9 : 1;
	uint64_t real = wp_rtx_real(&c);
	fprintf(f, "[%6.1fs] wire | requests %.0f/s acks %.0f/s | unparsed %llu | "
		   "retransmits %llu real + %llu spurious | p50 %.1fus p99 %.1fus\n",
		elapsed_s, (double)(c.requests - p->live_prev.requests) / dt,
		(double)(c.acks - p->live_prev.acks) / dt,
		(unsigned long long)(c.unparsed + c.untracked), (unsigned long long)real,
		(unsigned long long)(c.retransmits - real),
		(double)hist_percentile(p->live_hist, 50) / 1e3,
		(double)hist_percentile(p->live_hist, 99) / 1e3);
	p->live_prev = c;
	p->live_t_ns = now_ns;
}

void probe_stop(struct probe *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_links; i++)
		close(p->links[i]);
	bpf_link__destroy(p->sockops);
	bpf_link__destroy(p->cong);
	wire_probe_bpf__destroy(p->skel);
	free(p->percpu);
	free(p->hist_percpu);
	free(p->live_buckets);
	free(p->live_hist);
	free(p->dash_buckets);
	free(p);
}
