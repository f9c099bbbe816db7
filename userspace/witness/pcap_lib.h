/* libpcap, loaded when a run captures (--pcap) rather than linked: the
 * library and the nine it pulls in cost every run about a millisecond of
 * CPU to map and relocate, and most runs never capture. */
#ifndef BLAST_PCAP_LIB_H
#define BLAST_PCAP_LIB_H

#include <pcap/pcap.h>
#include <stddef.h>

/* Each libpcap call capture.c makes: pcap_NAME is p->NAME. */
#define PCAP_LIB_CALLS(X)                                                                   \
	X(create) X(set_snaplen) X(set_promisc) X(set_immediate_mode) X(set_buffer_size)      \
	X(set_timeout) X(set_tstamp_precision) X(activate) X(statustostr) X(geterr)           \
	X(get_tstamp_precision) X(setnonblock) X(compile) X(freecode) X(datalink)            \
	X(setfilter) X(get_selectable_fd) X(dispatch) X(stats) X(close)

struct pcap_lib {
#define PCAP_LIB_FIELD(name) __typeof__(&pcap_##name) name;
	PCAP_LIB_CALLS(PCAP_LIB_FIELD)
#undef PCAP_LIB_FIELD
};

/* The calls, loading libpcap the first time. NULL, with the reason in
 * err, when it cannot be loaded. */
const struct pcap_lib *pcap_lib(char *err, size_t errlen);

#endif
