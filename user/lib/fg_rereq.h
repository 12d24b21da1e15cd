/* SPDX-License-Identifier: MIT */
/*
 * The client side of a MoldUDP64 re-request server: a UDP socket connected
 * to the server (so that only its datagrams are received), non-blocking,
 * on an ephemeral local port. The sequencer (feedgate/seqr.h) sends the
 * requests and reads the replies through it; `feedgate run` lets the
 * replies through the XDP filter with a pass rule for the local port.
 */
#ifndef FG_REREQ_H
#define FG_REREQ_H

#include <stddef.h>
#include <stdint.h>

struct fg_rereq {
	int fd;
	uint8_t family; /* AF_INET / AF_INET6 */
	uint16_t local_port; /* host order */
	char server[64]; /* "10.0.0.1:9000" */
};

/* "ADDR:PORT" or "[ADDR6]:PORT". 0, or -errno with a line in err (nothing open). */
int fg_rereq_open(const char *server, struct fg_rereq *r, char *err, size_t errlen);
void fg_rereq_close(struct fg_rereq *r);

#endif /* FG_REREQ_H */
