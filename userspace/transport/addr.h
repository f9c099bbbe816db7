/* What an address says about the path to it. */
#ifndef BLAST_TRANSPORT_ADDR_H
#define BLAST_TRANSPORT_ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/* 127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1): traffic that never leaves the host, over lo. */
static inline bool addr_is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	if (a->ss_family != AF_INET6)
		return false;
	const struct in6_addr *v6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(v6) || (IN6_IS_ADDR_V4MAPPED(v6) && v6->s6_addr[12] == 127);
}

#endif
