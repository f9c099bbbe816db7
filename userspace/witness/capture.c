/* The capture thread and the pcapng file it writes. See capture.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "witness/analyze.h"
#include "witness/capture.h"
#include "witness/pcap_lib.h"
#include "witness/tls_keys.h"
#include "transport/addr.h"
#include "encoders/pcapfile.h"

#define OUT_BUF (1u << 20)
/* Bytes of ring. Not immediate mode: libpcap then uses TPACKET_V2, whose
 * slots are each as large as the largest packet (a 128 KiB block per
 * 64 KiB loopback packet: 512 packets in 64 MiB, which a descheduled thread
 * overflows under load; measured). TPACKET_V3 packs packets by their size
 * into blocks the kernel hands over when full or RETIRE_MS old. Timestamps
 * are the kernel's either way. */
#define KERNEL_BUF (64 << 20)
#define RETIRE_MS 1

/* One capture per process: a run has one. */
static struct {
	pcap_t *h;
	int fd;
	const char *path;
	const char *keylog;   /* the run's --keylog: its TLS is decrypted with it */
	enum blast_proto proto;
	bool over_ws;         /* MQTT over WebSocket: frames first, MQTT inside */
	uint32_t snaplen;
	uint64_t max_bytes;   /* 0 = no bound */
	uint64_t written;     /* bytes in the file, buffer included */
	uint64_t packets, not_written;
	bool full;            /* --pcap-max-bytes reached */
	int write_err;        /* errno of a failed write, 0 if none */
	uint8_t *buf;
	size_t len;
	pthread_t thread;
	bool running;
	bool stop;            /* asks the reader thread to return */
	uint16_t ports[WM_MAX_PORTS];
	unsigned n_ports;
	int linktype;
} cap = { .fd = -1 };

/* libpcap's calls, loaded by capture_open: set whenever cap.h is. */
static const struct pcap_lib *P;

static void flush_out(void)
{
	size_t off = 0;

	while (off < cap.len && !cap.write_err) {
		ssize_t n = write(cap.fd, cap.buf + off, cap.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			cap.write_err = n < 0 ? errno : EIO;
		else
			off += (size_t)n;
	}
	cap.len = 0;
}

static void out_bytes(const void *p, size_t n)
{
	if (cap.len + n > OUT_BUF)
		flush_out();
	if (n > OUT_BUF) { /* never: snaplen is bounded below the buffer */
		cap.write_err = EMSGSIZE;
		return;
	}
	memcpy(cap.buf + cap.len, p, n);
	cap.len += n;
}

static bool port_listed(uint16_t p)
{
	for (unsigned i = 0; i < cap.n_ports; i++)
		if (cap.ports[i] == p)
			return true;
	return false;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)user;
	uint8_t hdr[PCAPNG_EPB_HEADER], trail[8];
	size_t block = pcapng_epb_size(h->caplen);

	struct pkt_tcp t;
	if (pkt_dissect_tcp((uint16_t)cap.linktype, bytes, h->caplen, &t) != 1 ||
	    (!port_listed(t.sport) && !port_listed(t.dport)))
		return;
	cap.packets++;
	uint64_t need = cap.written + block + PCAPNG_ISB_SIZE; /* the ISB at the end */
	if (cap.full || cap.write_err || (cap.max_bytes && need > cap.max_bytes)) {
		cap.full = cap.full || (cap.max_bytes && need > cap.max_bytes);
		cap.not_written++;
		return;
	}
	/* Nanosecond precision: tv_usec holds nanoseconds. */
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	pcapng_encode_epb_header(hdr, ts, h->caplen, h->len);
	out_bytes(hdr, sizeof(hdr));
	out_bytes(bytes, h->caplen);
	out_bytes(trail, pcapng_encode_epb_trailer(trail, h->caplen));
	cap.written += block;
}

/* Takes what the ring holds, then naps: the thread wakes at most every
 * READ_NAP_NS and the ring absorbs the packets meanwhile. */
#define READ_NAP_NS 1000000
static int take_all(void)
{
	int n, total = 0;

	while ((n = P->dispatch(cap.h, -1, on_packet, NULL)) > 0)
		total += n;
	if (n < 0 && n != PCAP_ERROR_BREAK) {
		fprintf(stderr, "blast: --pcap: capture stopped: %s\n", P->geterr(cap.h));
		return -1;
	}
	return total;
}

static void *reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&cap.stop, __ATOMIC_ACQUIRE)) {
		if (take_all() < 0)
			break;
		struct timespec nap = { 0, READ_NAP_NS };
		nanosleep(&nap, NULL);
	}
	return NULL;
}

static void add_port(uint16_t p)
{
	for (unsigned i = 0; i < cap.n_ports; i++)
		if (cap.ports[i] == p)
			return;
	if (cap.n_ports < WM_MAX_PORTS)
		cap.ports[cap.n_ports++] = p;
}

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "blast: --pcap %s: %s\n", what, why);
	if (cap.h)
		P->close(cap.h);
	cap.h = NULL;
	if (cap.fd >= 0)
		close(cap.fd);
	cap.fd = -1;
	free(cap.buf);
	cap.buf = NULL;
	return BLAST_EXIT_USAGE;
}

/* libpcap's pcap_setfilter also runs the new filter in user space over
 * the ring's first blocks, and there "inbound" (a load of the kernel's
 * packet type) matches nothing: the run's first packets were lost
 * (measured). So a loopback filter goes straight to the socket; what the
 * ring took before it did is dropped by on_packet's port check. */
static const char *set_filter(struct bpf_program *prog, bool lo)
{
	if (!lo)
		return P->setfilter(cap.h, prog) ? P->geterr(cap.h) : NULL;
	struct sock_fprog fp = { .len = (unsigned short)prog->bf_len,
				 .filter = (struct sock_filter *)prog->bf_insns };
	if (setsockopt(P->get_selectable_fd(cap.h), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)))
		return strerror(errno);
	return NULL;
}

int capture_open(const struct blast_opts *o, const struct kafka_meta *km)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	bool lo = true;

	if (!o->pcap_path)
		return 0;
	cap.path = o->pcap_path;
	cap.keylog = o->keylog;
	cap.proto = o->proto;
	cap.over_ws = o->transport == TRANSPORT_WS;
	cap.snaplen = o->pcap_snaplen;
	cap.max_bytes = o->pcap_max_bytes;
	for (unsigned i = 0; i < o->n_targets; i++) {
		lo = lo && addr_is_loopback(&o->targets[i].addr);
		add_port(o->targets[i].port);
	}
	for (unsigned i = 0; i < o->n_listen; i++) {
		lo = lo && addr_is_loopback(&o->listen[i].addr);
		add_port(o->listen[i].port);
	}
	for (unsigned i = 0; km && i < km->n_brokers; i++) {
		lo = lo && addr_is_loopback(&km->broker_addr[i].addr);
		add_port(km->broker_addr[i].port);
	}
	const char *dev = lo ? "lo" : "any";
	char filter[WM_MAX_PORTS * 16 + 64]; /* " or port 65535" each */
	/* Loopback shows every packet twice, leaving and arriving; libpcap
	 * drops the first copy in user space, after the kernel has copied it
	 * into the ring. "inbound" drops it in the kernel filter instead. */
	size_t fl = (size_t)snprintf(filter, sizeof(filter), "%stcp and (", lo ? "inbound and " : "");
	for (unsigned i = 0; i < cap.n_ports && fl < sizeof(filter); i++)
		fl += (size_t)snprintf(filter + fl, sizeof(filter) - fl, "%sport %u", i ? " or " : "",
				       cap.ports[i]);
	if (fl >= sizeof(filter) - 2)
		return fail(cap.path, "too many ports to filter");
	snprintf(filter + fl, sizeof(filter) - fl, ")");

	P = pcap_lib(errbuf, sizeof(errbuf));
	if (!P)
		return fail(cap.path, errbuf);
	cap.buf = malloc(OUT_BUF);
	if (!cap.buf)
		return fail(cap.path, "out of memory");
	cap.h = P->create(dev, errbuf);
	if (!cap.h)
		return fail(dev, errbuf);
	if (P->set_snaplen(cap.h, (int)cap.snaplen) || P->set_promisc(cap.h, 0) ||
	    P->set_immediate_mode(cap.h, 0) || P->set_buffer_size(cap.h, KERNEL_BUF) ||
	    P->set_timeout(cap.h, RETIRE_MS) ||
	    P->set_tstamp_precision(cap.h, PCAP_TSTAMP_PRECISION_NANO))
		return fail(dev, "cannot set capture options");
	int r = P->activate(cap.h);
	if (r < 0) {
		char why[PCAP_ERRBUF_SIZE + 64];
		snprintf(why, sizeof(why), "cannot capture: %s%s", P->statustostr(r),
			 r == PCAP_ERROR_PERM_DENIED ? " (needs root or CAP_NET_RAW)" : "");
		if (r == PCAP_ERROR)
			snprintf(why, sizeof(why), "cannot capture: %s", P->geterr(cap.h));
		return fail(dev, why);
	}
	if (P->get_tstamp_precision(cap.h) != PCAP_TSTAMP_PRECISION_NANO)
		return fail(dev, "no nanosecond timestamps on this system");
	if (P->setnonblock(cap.h, 1, errbuf))
		return fail(dev, errbuf);
	struct bpf_program prog;
	if (P->compile(cap.h, &prog, filter, 1, PCAP_NETMASK_UNKNOWN))
		return fail(filter, P->geterr(cap.h));
	const char *why = set_filter(&prog, lo);
	P->freecode(&prog);
	if (why)
		return fail(filter, why);
	cap.linktype = P->datalink(cap.h);
	cap.fd = open(cap.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (cap.fd < 0)
		return fail(cap.path, strerror(errno));
	uint8_t hdr[64];
	ssize_t n = pcapng_encode_header(hdr, sizeof(hdr), (uint16_t)P->datalink(cap.h), cap.snaplen);
	if (n < 0)
		return fail(cap.path, "cannot encode the pcapng header");
	out_bytes(hdr, (size_t)n);
	cap.written = (uint64_t)n;
	flush_out();
	if (cap.write_err)
		return fail(cap.path, strerror(cap.write_err));
	return 0;
}

void capture_child(void)
{
	if (!cap.h)
		return;
	close(P->get_selectable_fd(cap.h));
	close(cap.fd);
}

void capture_resume(void)
{
	if (!cap.h || cap.running)
		return;
	cap.stop = false;
	if (pthread_create(&cap.thread, NULL, reader, NULL)) {
		fprintf(stderr, "blast: --pcap: cannot start the capture thread\n");
		return;
	}
	cap.running = true;
}

void capture_pause(void)
{
	if (!cap.h || !cap.running)
		return;
	__atomic_store_n(&cap.stop, true, __ATOMIC_RELEASE);
	pthread_join(cap.thread, NULL);
	cap.running = false;
	/* Packets sent on loopback are in the ring by the time send returns;
	 * once the last block has retired, take every one still there. */
	struct timespec retire = { 0, 20 * RETIRE_MS * 1000000L };
	nanosleep(&retire, NULL);
	take_all();
}

bool capture_finish(struct wire_stats *out)
{
	struct pcap_stat st = { 0 };
	bool ok = false;

	if (!cap.h)
		return false;
	capture_pause();
	bool stats = P->stats(cap.h, &st) == 0;
	if (stats && (st.ps_drop || st.ps_ifdrop))
		fprintf(stderr, "blast: --pcap: the kernel dropped %u packets (interface %u): "
				"the capture misses them\n", st.ps_drop, st.ps_ifdrop);
	/* The file says what it lacks, for whoever reads it later: the
	 * kernel's drops and the packets --pcap-max-bytes kept out (room for
	 * this block is kept below the bound). */
	if (stats && !cap.write_err) {
		uint8_t isb[PCAPNG_ISB_SIZE];
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		pcapng_encode_isb(isb, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
				  st.ps_ifdrop, (uint64_t)st.ps_drop + cap.not_written);
		out_bytes(isb, sizeof(isb));
		cap.written += sizeof(isb);
	}
	flush_out();
	if (cap.full)
		fprintf(stderr, "blast: --pcap %s: reached --pcap-max-bytes %" PRIu64
				"; capture stopped writing (%" PRIu64 " packets not written)\n",
			cap.path, cap.max_bytes, cap.not_written);
	if (cap.write_err)
		fprintf(stderr, "blast: --pcap %s: %s\n", cap.path, strerror(cap.write_err));
	if (close(cap.fd) && !cap.write_err)
		fprintf(stderr, "blast: --pcap %s: %s\n", cap.path, strerror(errno));
	cap.fd = -1;
	P->close(cap.h);
	cap.h = NULL;
	free(cap.buf);
	cap.buf = NULL;
	fprintf(stderr, "blast: --pcap %s: %" PRIu64 " packets, %" PRIu64 " bytes written\n",
		cap.path, cap.packets - cap.not_written, cap.written);

	struct wm_opts wo = { .proto = cap.proto == PROTO_KAFKA ? WM_KAFKA :
				       cap.proto == PROTO_HTTP ? WM_HTTP :
				       cap.proto == PROTO_WS || cap.over_ws ? WM_WS : WM_MQTT };
	memcpy(wo.ports, cap.ports, sizeof(wo.ports));
	wo.n_ports = cap.n_ports;
	struct wm_counts c;
	char err[300];
	/* The run's own key log, complete now that its connections are closed. */
	struct tls_keylog kl = { 0 };
	if (cap.keylog && analyze_keylog_read(cap.keylog, &kl, err, sizeof(err)) == 0)
		wo.keylog = &kl;
	else if (cap.keylog)
		fprintf(stderr, "blast: --pcap: cannot decrypt the capture: --keylog %s\n", err);
	if (analyze_file(cap.path, &wo, out, &c, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "blast: --pcap: cannot analyse the capture: %s\n", err);
	} else {
		ok = true;
		struct analyze_warnings warn;
		analyze_warnings(out, &c, &wo, &warn);
		for (unsigned i = 0; i < warn.n; i++)
			fprintf(stderr, "blast: --pcap %s: warning: %s\n", cap.path, warn.line[i]);
		/* One line that scripts can read whatever the report shows. */
		fprintf(stderr, "blast: --pcap %s: wire requests %" PRIu64 " acks %" PRIu64
				" unmatched %" PRIu64 " unparsed %" PRIu64 " retransmits %" PRIu64
				" real %" PRIu64 " p50 %.1fus\n", cap.path, out->requests, out->acks,
			out->unmatched, out->unparsed, out->retransmits, out->retrans_real,
			(double)hist_percentile(&out->latency, 50) / 1e3);
	}
	tls_keylog_free(&kl);
	return ok;
}
