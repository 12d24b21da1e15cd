/* SPDX-License-Identifier: MIT */
/*
 * What the capture backends (fg_afpacket.c, fg_uring.c, fg_sockrx.c) share
 * and nobody else needs: error lines, the realtime -> monotonic conversion
 * of kernel receive stamps, and the UDP feed sockets of the two socket
 * paths with the synthetic L3 header they put in front of each payload
 * (see fg_backend.h).
 */
#ifndef FG_BACKEND_INT_H
#define FG_BACKEND_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "fg_backend.h"
#include "fg_log.h"

/* Relaxed whole-value counter updates: one writer, readers in other threads. */
#define FG_BK_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)
#define FG_BK_RD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Defaults of struct fg_backend_opts. */
#define FG_BK_DEF_THREADS 1
#define FG_BK_DEF_BATCH 64
#define FG_BK_DEF_BLOCK_SIZE (256u << 10)
#define FG_BK_DEF_BLOCK_COUNT 64
#define FG_BK_DEF_FRAME_SIZE 2048
#define FG_BK_DEF_RETIRE_MS 1
#define FG_BK_DEF_RCVBUF (4u << 20)
#define FG_BK_DEF_BUF_SIZE 2048
#define FG_BK_DEF_RING_BUFFERS 4096

/* Room the synthetic header needs in front of a payload (IPv6 + UDP). */
#define FG_BK_L3_HEADROOM 48

/* The options with every 0 field set to its default. */
void fg_bk_opts_defaults(const struct fg_backend_opts *in, struct fg_backend_opts *out);

/*
 * Kernel receive stamps are CLOCK_REALTIME; latencies are measured on
 * CLOCK_MONOTONIC. The offset between the two only moves when the clock is
 * stepped, so it is read again now and then (not per packet).
 */
struct fg_bk_clock {
	int64_t real_minus_mono;
	uint32_t uses;
};

void fg_bk_clock_refresh(struct fg_bk_clock *c);

static inline uint64_t fg_bk_real_to_mono(struct fg_bk_clock *c, uint64_t real_ns)
{
	int64_t mono;

	if (!real_ns)
		return 0;
	if (++c->uses >= 65536)
		fg_bk_clock_refresh(c);
	mono = (int64_t)real_ns - c->real_minus_mono;
	return mono > 0 ? (uint64_t)mono : 0;
}

/* --- UDP feed sockets (fg_sockrx.c) ----------------------------------------------------------- */

/* One socket per feed: bound to the feed's address and port, joined to it when it is a group. */
struct fg_fsock {
	int fd;
	int ifindex;
	bool joined;
	struct fg_backend_feed feed;
	uint64_t drops_base; /* SO_MEMINFO drops when opened */
};

/*
 * Open the socket of a feed on ifindex: SO_REUSEADDR, bound to the device
 * and to GROUP:PORT (or the wildcard), IP(V6)_MULTICAST_ALL off, the group
 * joined, IP_PKTINFO / IPV6_RECVPKTINFO, SO_TIMESTAMPNS unless
 * o->no_timestamps, SO_RCVBUFFORCE (SO_RCVBUF when not permitted). Non-blocking
 * when nonblock. 0 or -errno with a line in err; nothing left open on failure.
 */
int fg_fsock_open(const struct fg_backend_opts *o, int ifindex, const struct fg_backend_feed *f,
		  bool nonblock, struct fg_fsock *s, char *err, size_t errlen);
/* Leave the group, close. */
void fg_fsock_close(struct fg_fsock *s);
/* Datagrams the kernel dropped on this socket since it was opened (SO_MEMINFO). */
uint64_t fg_fsock_drops(const struct fg_fsock *s);

/*
 * kstats() of the two socket backends: the counters their receive thread
 * keeps in own (read relaxed: the thread may be writing them) and the kernel
 * drops summed over the context's nsock feed sockets.
 */
void fg_fsock_kstats(const struct fg_backend_kstats *own, const struct fg_fsock *socks,
		     unsigned int nsock, struct fg_backend_kstats *out);

/* Set up the receive context of thread t of nthreads (its feeds: fg_bk_share()). */
typedef int (*fg_fsock_open_one_fn)(const struct fg_backend_opts *o, int ifindex, unsigned int t,
				    unsigned int nthreads, void **out, char *err, size_t errlen);

/*
 * open() of the two socket backends once the options are checked: one
 * context per thread, no more threads than feeds, each made by open_one.
 * When one fails, those made already are closed and its error is returned.
 */
int fg_fsock_open_threads(const struct fg_backend_opts *o, int ifindex,
			  fg_fsock_open_one_fn open_one, void (*close_one)(void *rx), void **rx,
			  unsigned int *n, char *err, size_t errlen);

/* Control-message space a feed socket's receive needs (pktinfo + stamp). */
#define FG_FSOCK_CMSG_SPACE 128

/* What fg_fsock_frame() made of a datagram. */
enum fg_fsock_verdict { FG_FSOCK_OK = 0, FG_FSOCK_SRC_FILTERED, FG_FSOCK_BAD };

/*
 * Turn a received datagram into an L3 frame: the payload sits at payload
 * (plen bytes) with at least FG_BK_L3_HEADROOM writable bytes in front of
 * it; name/namelen is the source address, ctrl/ctrllen the control
 * messages (they may lie inside the headroom: they are read first). Fills
 * f (data, len, l3, rule and feed ids, xdp_ns from the kernel stamp).
 */
enum fg_fsock_verdict fg_fsock_frame(const struct fg_fsock *s, const void *name, uint32_t namelen,
				     const void *ctrl, size_t ctrllen, uint8_t *payload,
				     uint32_t plen, struct fg_bk_clock *clk, struct fg_frame *f);

/* The feeds thread t of nthreads owns: t, t + nthreads, ... (count). */
static inline unsigned int fg_bk_share(unsigned int nfeeds, unsigned int nthreads, unsigned int t)
{
	return t < nfeeds % nthreads ? nfeeds / nthreads + 1 : nfeeds / nthreads;
}

#endif /* FG_BACKEND_INT_H */
