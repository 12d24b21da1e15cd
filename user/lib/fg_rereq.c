// SPDX-License-Identifier: MIT
/*
 * The socket to a MoldUDP64 re-request server (see fg_rereq.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fg_net.h"
#include "fg_rereq.h"

int fg_rereq_open(const char *server, struct fg_rereq *r, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 }, local = { 0 };
	socklen_t len, llen = sizeof(local);
	uint8_t family, addr[16];
	uint16_t port;
	int fd, e;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (fg_net_parse_endpoint(server, &family, addr, &port) || !port) {
		snprintf(err, errlen, "'%s': want ADDR:PORT or [ADDR6]:PORT", server);
		return -EINVAL;
	}
	len = fg_net_sockaddr(family, addr, port, &ss);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "Couldn't open a UDP socket: %s", strerror(e));
		return -e;
	}
	/* connect: a local port is chosen, and only the server's datagrams arrive */
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&local, &llen)) {
		e = errno;
		snprintf(err, errlen, "Couldn't reach re-request server %s: %s", server,
			 strerror(e));
		close(fd);
		return -e;
	}
	r->fd = fd;
	r->family = family;
	r->local_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
						: ((struct sockaddr_in6 *)&local)->sin6_port);
	snprintf(r->server, sizeof(r->server), "%s", server);
	return 0;
}

void fg_rereq_close(struct fg_rereq *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
