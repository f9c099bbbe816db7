/* libpcap on demand (see pcap_lib.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "witness/pcap_lib.h"

/* The shared object's names: Debian's and others' current one first. */
static const char *const sonames[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };

const struct pcap_lib *pcap_lib(char *err, size_t errlen)
{
	static struct pcap_lib lib;
	static void *handle;

	if (handle)
		return &lib;
	void *h = NULL;
	for (size_t i = 0; !h && i < sizeof(sonames) / sizeof(sonames[0]); i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libpcap (Debian package libpcap0.8): %s", dlerror());
		return NULL;
	}
#define PCAP_LIB_LOAD(name)                                                            \
	if (!(*(void **)&lib.name = dlsym(h, "pcap_" #name))) {                        \
		snprintf(err, errlen, "libpcap has no pcap_%s: %s", #name, dlerror()); \
		dlclose(h);                                                            \
		return NULL;                                                           \
	}
	PCAP_LIB_CALLS(PCAP_LIB_LOAD)
#undef PCAP_LIB_LOAD
	handle = h;
	return &lib;
}
