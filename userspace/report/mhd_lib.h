/* libmicrohttpd, loaded when a run serves a page (--dashboard, the agent's
 * and the coordinator's) rather than linked: the library and the GnuTLS
 * stack it pulls in (nine shared objects) cost every run about a
 * millisecond of CPU to map and relocate, and most runs serve nothing. */
#ifndef BLAST_MHD_LIB_H
#define BLAST_MHD_LIB_H

#include <microhttpd.h>
#include <stddef.h>

/* Each libmicrohttpd call dashboard.c makes: MHD_NAME is m->NAME. */
#define MHD_LIB_CALLS(X)                                                                    \
	X(start_daemon) X(stop_daemon) X(create_response_from_buffer) X(add_response_header) \
	X(queue_response) X(destroy_response) X(lookup_connection_value)

struct mhd_lib {
#define MHD_LIB_FIELD(name) __typeof__(&MHD_##name) name;
	MHD_LIB_CALLS(MHD_LIB_FIELD)
#undef MHD_LIB_FIELD
};

/* The calls, loading libmicrohttpd the first time. NULL, with the reason
 * in err, when it cannot be loaded. */
const struct mhd_lib *mhd_lib(char *err, size_t errlen);

#endif
