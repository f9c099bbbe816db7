/* Bytes that end exactly at a PROT_NONE page, so a decoder that reads one
 * byte past its input faults under any build (picohttpparser's trick).
 * Each test binary includes this once: its state is the binary's. */
#ifndef BLAST_GUARD_H
#define BLAST_GUARD_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t *guard_mem;
static size_t guard_size; /* bytes before the guard page */

/* Maps at least room bytes followed by the guard page: 0, or -1. */
static inline int guard_init(size_t room)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	guard_size = (room + page - 1) / page * page;
	guard_mem = mmap(NULL, guard_size + page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_mem == MAP_FAILED)
		return -1;
	return mprotect(guard_mem + guard_size, page, PROT_NONE);
}

/* n bytes ending exactly at the guard page (n <= room). */
static inline uint8_t *guard_slot(size_t n)
{
	return guard_mem + guard_size - n;
}

static inline uint8_t *guard_copy(const void *src, size_t n)
{
	uint8_t *p = guard_slot(n);

	if (n)
		memcpy(p, src, n);
	return p;
}

#endif
