/* libmicrohttpd on demand (see mhd_lib.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "report/mhd_lib.h"

/* The shared object's names: Debian's and others' current one first. */
static const char *const sonames[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };

const struct mhd_lib *mhd_lib(char *err, size_t errlen)
{
	static struct mhd_lib lib;
	static void *handle;

	if (handle)
		return &lib;
	void *h = NULL;
	for (size_t i = 0; !h && i < sizeof(sonames) / sizeof(sonames[0]); i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libmicrohttpd (Debian package libmicrohttpd12): %s",
			 dlerror());
		return NULL;
	}
#define MHD_LIB_LOAD(name)                                                            \
	if (!(*(void **)&lib.name = dlsym(h, "MHD_" #name))) {                        \
		snprintf(err, errlen, "libmicrohttpd has no MHD_%s: %s", #name, dlerror()); \
		dlclose(h);                                                           \
		return NULL;                                                          \
	}
	MHD_LIB_CALLS(MHD_LIB_LOAD)
#undef MHD_LIB_LOAD
	handle = h;
	return &lib;
}
