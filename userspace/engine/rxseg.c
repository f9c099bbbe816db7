/* Segment receive stamps: see rxseg.h and bpf/rx_stamp.bpf.c. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/bpf_log.h"
#include "rx_stamp.skel.h"
#include "engine/rxseg.h"

/* Ring memory per worker: with many connections each ring is shorter
 * (each connection then also gets fewer segments between two reads). */
#define RING_BUDGET (16u << 20)
#define RING_MIN 64u

struct rxseg {
	struct rx_stamp_bpf *skel;
	int prog_fd, slots_fd;
	struct rxs_head *heads;
	size_t heads_bytes;
	const struct rxs_entry *ring;
	size_t ring_bytes;
	uint64_t *cookies; /* per slot: the attached socket's, 0 = none */
	uint32_t n_slots, mask;
};

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	return (n + pg - 1) / pg * pg;
}

int rxseg_open(struct rxseg **out, uint32_t slots, char *err, size_t errlen)
{
	struct rxseg *s = calloc(1, sizeof(*s));
	uint32_t len = RXS_RING_MAX;
	int r;

	*out = NULL;
	if (!s || !slots) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (len > RING_MIN && (uint64_t)len * slots * sizeof(struct rxs_entry) > RING_BUDGET)
		len /= 2;
	s->n_slots = slots;
	s->mask = len - 1;
	s->cookies = calloc(slots, sizeof(*s->cookies));
	bpf_log_init();
	s->skel = rx_stamp_bpf__open();
	if (!s->cookies || !s->skel) {
		r = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open the segment-stamp filter: %s", strerror(-r));
		goto fail;
	}
	s->skel->rodata->cfg_ring_mask = s->mask;
	bpf_map__set_max_entries(s->skel->maps.slots, slots);
	bpf_map__set_max_entries(s->skel->maps.heads, slots);
	bpf_map__set_max_entries(s->skel->maps.rings, slots * len);
	r = rx_stamp_bpf__load(s->skel);
	if (r) {
		snprintf(err, errlen, "cannot load the segment-stamp filter: %s%s", strerror(-r),
			 r == -EPERM ? " (needs CAP_BPF, or root)" : "");
		goto fail;
	}
	s->prog_fd = bpf_program__fd(s->skel->progs.rx_stamp);
	s->slots_fd = bpf_map__fd(s->skel->maps.slots);
	s->heads_bytes = page_round((size_t)slots * sizeof(struct rxs_head));
	s->ring_bytes = page_round((size_t)slots * len * sizeof(struct rxs_entry));
	void *h = mmap(NULL, s->heads_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(s->skel->maps.heads), 0);
	void *g = h == MAP_FAILED ? MAP_FAILED :
				    mmap(NULL, s->ring_bytes, PROT_READ, MAP_SHARED,
					 bpf_map__fd(s->skel->maps.rings), 0);
	if (g == MAP_FAILED) {
		r = -errno;
		if (h != MAP_FAILED)
			munmap(h, s->heads_bytes);
		snprintf(err, errlen, "cannot map the segment-stamp rings: %s", strerror(-r));
		goto fail;
	}
	s->heads = h;
	s->ring = g;
	*out = s;
	return 0;
fail:
	rx_stamp_bpf__destroy(s->skel);
	free(s->cookies);
	free(s);
	return r;
}

void rxseg_close(struct rxseg *s)
{
	if (!s)
		return;
	munmap((void *)s->ring, s->ring_bytes);
	munmap(s->heads, s->heads_bytes);
	rx_stamp_bpf__destroy(s->skel);
	free(s->cookies);
	free(s);
}

uint32_t rxseg_ring_len(const struct rxseg *s)
{
	return s->mask + 1;
}

int rxseg_attach(struct rxseg *s, uint32_t slot, int fd, struct rxseg_cur *cur)
{
	uint64_t cookie = 0;
	socklen_t cl = sizeof(cookie);

	memset(cur, 0, sizeof(*cur));
	if (slot >= s->n_slots)
		return -EINVAL;
	rxseg_detach(s, slot);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cl) < 0)
		return -errno;
	/* The ring's indices go on counting across sockets, so an entry the
	 * last socket left never carries a tag the new one expects. */
	struct rxs_head *h = &s->heads[slot];
	__atomic_store_n(&h->flags, 0, __ATOMIC_RELEASE);
	cur->next = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	if (bpf_map_update_elem(s->slots_fd, &cookie, &slot, BPF_ANY) < 0)
		return -errno;
	s->cookies[slot] = cookie;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &s->prog_fd, sizeof(s->prog_fd)) < 0) {
		int e = -errno;
		rxseg_detach(s, slot);
		return e;
	}
	return 0;
}

void rxseg_detach(struct rxseg *s, uint32_t slot)
{
	if (slot >= s->n_slots || !s->cookies[slot])
		return;
	bpf_map_delete_elem(s->slots_fd, &s->cookies[slot]);
	s->cookies[slot] = 0;
}

bool rxseg_ready(const struct rxseg *s, uint32_t slot, struct rxseg_cur *cur)
{
	if (cur->started)
		return true;
	if (slot >= s->n_slots || !s->cookies[slot])
		return false;
	const struct rxs_head *h = &s->heads[slot];
	if (!(__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & RXS_HAVE_IRS))
		return false;
	cur->seq = h->irs + 1;
	cur->contig = cur->seq;
	cur->started = true;
	return true;
}

/* One entry into the readable frontier: a retransmission changes nothing,
 * bytes beyond a hole wait in the ooo range, bytes in order move the
 * frontier (over the ooo range too once they reach it). Entries from two
 * CPUs can be in either order in the ring: a segment that looked beyond
 * a hole is joined by the one before it, at the later of their times. */
static void advance(struct rxseg_cur *c, const struct rxs_entry *e, uint64_t ns)
{
	uint32_t seq = e->seq, end = e->end;

	if ((int32_t)(end - c->contig) <= 0)
		return;
	if (c->lapped && (int32_t)(seq - c->contig) > 0) {
		/* What came before this was lost: take it as read. */
		c->contig = seq;
		c->have_ooo = false;
	} else if (c->lapped) {
		c->lapped = false; /* in order again: exact from here */
	}
	if ((int32_t)(seq - c->contig) > 0) {
		if (!c->have_ooo) {
			c->ooo_start = seq;
			c->ooo_end = end;
			c->ooo_ns = ns;
			c->have_ooo = true;
			return;
		}
		if ((int32_t)(seq - c->ooo_start) < 0)
			c->ooo_start = seq;
		if ((int32_t)(end - c->ooo_end) > 0)
			c->ooo_end = end;
		if (ns > c->ooo_ns)
			c->ooo_ns = ns;
		return;
	}
	if (c->have_ooo && (int32_t)(end - c->ooo_start) >= 0) {
		if ((int32_t)(c->ooo_end - end) > 0)
			end = c->ooo_end;
		if (c->ooo_ns > ns)
			ns = c->ooo_ns;
		c->have_ooo = false;
	}
	c->contig = end;
	c->contig_ns = ns;
}

int rxseg_find(const struct rxs_head *h, const struct rxs_entry *ring, uint32_t mask,
	       struct rxseg_cur *cur, uint32_t end_seq, uint64_t *ns)
{
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	uint64_t len = (uint64_t)mask + 1;
	bool lost = false;

	for (;;) {
		if ((int32_t)(cur->contig - end_seq) >= 0 && cur->contig_ns) {
			*ns = cur->contig_ns;
			return cur->lapped || lost ? 0 : 1;
		}
		if (cur->next >= head)
			return -1;
		if (head - cur->next > len) {
			/* The filter lapped us: what it overwrote is gone. */
			cur->next = head - len;
			cur->lapped = true;
			lost = true;
		}
		const struct rxs_entry *e = &ring[cur->next & mask];
		uint32_t want = (uint32_t)(cur->next + 1);
		uint32_t tag = __atomic_load_n(&e->tag, __ATOMIC_ACQUIRE);
		struct rxs_entry copy = *e;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint32_t again = __atomic_load_n(&e->tag, __ATOMIC_RELAXED);
		if (tag != want || again != want) {
			if ((int32_t)(tag - want) > 0 || (int32_t)(again - want) > 0) {
				cur->next++; /* overwritten while we looked */
				cur->lapped = true;
				lost = true;
				continue;
			}
			return -1; /* reserved, not written yet: none of our bytes */
		}
		advance(cur, &copy, copy.ns);
		cur->next++;
	}
}

int rxseg_time(const struct rxseg *s, uint32_t slot, struct rxseg_cur *cur, uint32_t end_seq,
	       uint64_t *ns)
{
	if (!cur->started || slot >= s->n_slots)
		return -1;
	return rxseg_find(&s->heads[slot], s->ring + (size_t)slot * (s->mask + 1), s->mask, cur,
			  end_seq, ns);
}

