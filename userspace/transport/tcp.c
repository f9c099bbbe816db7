/* TCP, the bottom of every transport stack: the socket and its options.
 * The engine's ring does the connecting, reading and writing; bytes pass
 * through this layer unchanged. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/addr.h"
#include "transport/transport.h"

const struct transport_ops tcp_transport = {
	.name = "tcp",
};

/* More than this many connections to a 127.x address spread over eight
 * source addresses. */
#define SPREAD_ABOVE 10000

static int bind_source(const struct blast_target *t, uint32_t id, uint32_t conns, int fd)
{
	if (t->addr.ss_family != AF_INET || conns <= SPREAD_ABOVE || !addr_is_loopback(&t->addr))
		return 0;
	struct sockaddr_in src = { .sin_family = AF_INET };
	src.sin_addr.s_addr = htonl(0x7f000001u + (id % 8));
	int one = 1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&src, sizeof(src));
}

int tcp_socket(const struct blast_target *t, uint32_t id, uint32_t conns, enum blast_err *why)
{
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);

	if (fd < 0) {
		*why = errno == EMFILE || errno == ENFILE ? ERR_FD_LIMIT : ERR_CONNECT_FAILED;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind_source(t, id, conns, fd) < 0) {
		*why = errno == EADDRNOTAVAIL ? ERR_ADDR_UNAVAILABLE : ERR_CONNECT_FAILED;
		close(fd);
		return -1;
	}
	return fd;
}

enum blast_err tcp_connect_error(int res)
{
	switch (res) {
	case -ECONNREFUSED:
		return ERR_CONNECT_REFUSED;
	case -ETIMEDOUT:
		return ERR_CONNECT_TIMEOUT;
	case -EADDRNOTAVAIL:
		return ERR_ADDR_UNAVAILABLE;
	default:
		return ERR_CONNECT_FAILED;
	}
}
