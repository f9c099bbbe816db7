/* libbpf's messages: see bpf_log.h. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/bpf_log.h"

static int print_if_asked(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!getenv("BLAST_BPF_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bpf_log_init(void)
{
	libbpf_set_print(print_if_asked);
}
