// SPDX-License-Identifier: MIT
/*
 * The `socket` backend (recvmmsg on UDP sockets joined to the feed groups)
 * and the UDP feed sockets it shares with the io_uring backend: opening
 * one socket per feed and one receive context per thread, reading their
 * counters, and turning a received datagram into an L3 frame with a
 * synthetic IPv4 (RFC 791) or IPv6 (RFC 8200) + UDP (RFC 768) header
 * written in front of the payload (see fg_backend.h).
 *
 * Blocking mode: a thread with one socket sleeps in recvmmsg() with
 * MSG_WAITFORONE (SO_RCVTIMEO bounds the sleep so a stop is seen); with
 * several sockets it sleeps in poll() and then takes what each has with
 * MSG_DONTWAIT. Spinning mode: MSG_DONTWAIT on every socket in turn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>

#include "fg_backend_int.h"
#include "fg_mcast.h"

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

/* --- feed sockets ---------------------------------------------------------------------------- */

static int fg_setint(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) ? -errno : 0;
}

static uint64_t fg_fsock_meminfo_drops(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	memset(mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) || len <= SK_MEMINFO_DROPS * 4)
		return 0;
	return mi[SK_MEMINFO_DROPS];
}

int fg_fsock_open(const struct fg_backend_opts *o, int ifindex, const struct fg_backend_feed *f,
		  bool nonblock, struct fg_fsock *s, char *err, size_t errlen)
{
	const bool v6 = f->family == AF_INET6;
	const bool group = fg_mcast_is_group(f->family, f->addr);
	char name[64] = "?";
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->feed = *f;
	s->ifindex = ifindex;
	fg_backend_feed_format(f, name, sizeof(name));
	fd = socket(f->family, SOCK_DGRAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
		    IPPROTO_UDP);
	if (fd < 0) {
		ret = -errno;
		fg_errf(err, errlen, "%s: Couldn't create a UDP socket: %s", name, strerror(errno));
		return ret;
	}
	/* Several sockets may listen on one port (one per group). */
	if ((ret = fg_setint(fd, SOL_SOCKET, SO_REUSEADDR, 1)) ||
	    (v6 && (ret = fg_setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1))) ||
	    (ret = fg_setint(fd, SOL_SOCKET, SO_BINDTOIFINDEX, ifindex)) ||
	    (ret = v6 ? fg_setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
		      : fg_setint(fd, IPPROTO_IP, IP_PKTINFO, 1)) ||
	    /* Only the groups joined on this very socket, never another one's. */
	    (ret = v6 ? fg_setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0)
		      : fg_setint(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0)) ||
	    (!o->no_timestamps && (ret = fg_setint(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1)))) {
		fg_errf(err, errlen, "%s: Couldn't set up the UDP socket: %s", name,
			strerror(-ret));
		goto fail;
	}
	/* SO_RCVBUFFORCE passes net.core.rmem_max; only root may use it. */
	if (fg_setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)o->rcvbuf))
		fg_setint(fd, SOL_SOCKET, SO_RCVBUF, (int)o->rcvbuf);
	if (!nonblock && !o->spin) {
		struct timeval tv = { 0, FG_BACKEND_WAIT_MS * 1000 };

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
			ret = -errno;
			fg_errf(err, errlen, "%s: Couldn't set a receive timeout: %s", name,
				strerror(errno));
			goto fail;
		}
	}
	memset(&sa, 0, sizeof(sa));
	if (v6) {
		sa.v6.sin6_family = AF_INET6;
		sa.v6.sin6_port = htons(f->port);
		memcpy(&sa.v6.sin6_addr, f->addr, 16);
		if (group) /* link-local scoped groups need it; harmless for the others */
			sa.v6.sin6_scope_id = (uint32_t)ifindex;
	} else {
		sa.v4.sin_family = AF_INET;
		sa.v4.sin_port = htons(f->port);
		memcpy(&sa.v4.sin_addr, f->addr, 4);
	}
	if (bind(fd, (struct sockaddr *)&sa, v6 ? sizeof(sa.v6) : sizeof(sa.v4))) {
		ret = -errno;
		fg_errf(err, errlen, "Couldn't bind a UDP socket to %s: %s", name, strerror(errno));
		goto fail;
	}
	if (group) {
		ret = fg_mcast_join_fd(fd, ifindex, f->family, f->addr);
		if (ret) {
			fg_errf(err, errlen, "Couldn't join %s: %s", name, strerror(-ret));
			goto fail;
		}
		s->joined = true;
	}
	s->fd = fd;
	s->drops_base = fg_fsock_meminfo_drops(fd);
	return 0;
fail:
	close(fd);
	return ret;
}

void fg_fsock_close(struct fg_fsock *s)
{
	if (s->fd < 0)
		return;
	if (s->joined)
		fg_mcast_leave_fd(s->fd, s->ifindex, s->feed.family, s->feed.addr);
	close(s->fd);
	s->fd = -1;
	s->joined = false;
}

uint64_t fg_fsock_drops(const struct fg_fsock *s)
{
	uint64_t d;

	if (s->fd < 0)
		return 0;
	d = fg_fsock_meminfo_drops(s->fd);
	return d > s->drops_base ? d - s->drops_base : 0;
}

void fg_fsock_kstats(const struct fg_backend_kstats *own, const struct fg_fsock *socks,
		     unsigned int nsock, struct fg_backend_kstats *out)
{
	memset(out, 0, sizeof(*out));
	out->syscalls = FG_BK_RD(own->syscalls);
	out->truncated = FG_BK_RD(own->truncated);
	out->src_filtered = FG_BK_RD(own->src_filtered);
	out->bad = FG_BK_RD(own->bad);
	out->no_buffers = FG_BK_RD(own->no_buffers);
	out->rearms = FG_BK_RD(own->rearms);
	for (unsigned int i = 0; i < nsock; i++)
		out->kernel_drops += fg_fsock_drops(&socks[i]);
}

int fg_fsock_open_threads(const struct fg_backend_opts *o, int ifindex,
			  fg_fsock_open_one_fn open_one, void (*close_one)(void *rx), void **rx,
			  unsigned int *n, char *err, size_t errlen)
{
	unsigned int nthreads = o->threads < o->nfeeds ? o->threads : o->nfeeds;

	for (unsigned int t = 0; t < nthreads; t++) {
		int ret = open_one(o, ifindex, t, nthreads, &rx[t], err, errlen);

		if (ret) {
			while (t-- > 0)
				close_one(rx[t]);
			return ret;
		}
	}
	*n = nthreads;
	return 0;
}

/* Is addr inside prefix/len? Byte-wise: the addresses are in network order. */
static bool fg_in_prefix(const uint8_t *addr, const uint8_t *prefix, unsigned int len)
{
	unsigned int full = len / 8, rest = len % 8;

	if (memcmp(addr, prefix, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		if ((addr[full] & mask) != (prefix[full] & mask))
			return false;
	}
	return true;
}

static void fg_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 791 header checksum over the 20 bytes (field zero when called). */
static uint16_t fg_ip4_csum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

enum fg_fsock_verdict fg_fsock_frame(const struct fg_fsock *s, const void *name, uint32_t namelen,
				     const void *ctrl, size_t ctrllen, uint8_t *payload,
				     uint32_t plen, struct fg_bk_clock *clk, struct fg_frame *f)
{
	const struct fg_backend_feed *feed = &s->feed;
	const bool v6 = feed->family == AF_INET6;
	const uint8_t *c = ctrl, *end = c + ctrllen;
	uint8_t src[16] = { 0 }, dst[16] = { 0 }, *h, *u;
	bool have_dst = false;
	uint64_t real_ns = 0;
	uint16_t sport;
	uint32_t hl;

	/* Control messages first: they may lie in the headroom written below. */
	while ((size_t)(end - c) >= sizeof(struct cmsghdr)) {
		struct cmsghdr cm;
		const uint8_t *data = c + CMSG_LEN(0);
		size_t dlen;

		memcpy(&cm, c, sizeof(cm));
		if (cm.cmsg_len < CMSG_LEN(0) || cm.cmsg_len > (size_t)(end - c))
			break;
		dlen = cm.cmsg_len - CMSG_LEN(0);
		if (!v6 && cm.cmsg_level == IPPROTO_IP && cm.cmsg_type == IP_PKTINFO &&
		    dlen >= sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;

			memcpy(&pi, data, sizeof(pi));
			memcpy(dst, &pi.ipi_addr, 4);
			have_dst = true;
		} else if (v6 && cm.cmsg_level == IPPROTO_IPV6 && cm.cmsg_type == IPV6_PKTINFO &&
			   dlen >= sizeof(struct in6_pktinfo)) {
			struct in6_pktinfo pi;

			memcpy(&pi, data, sizeof(pi));
			memcpy(dst, &pi.ipi6_addr, 16);
			have_dst = true;
		} else if (cm.cmsg_level == SOL_SOCKET && cm.cmsg_type == SCM_TIMESTAMPNS &&
			   dlen >= sizeof(struct timespec)) {
			struct timespec ts;

			memcpy(&ts, data, sizeof(ts));
			real_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
		if (CMSG_ALIGN(cm.cmsg_len) >= (size_t)(end - c))
			break;
		c += CMSG_ALIGN(cm.cmsg_len);
	}
	if (v6) {
		struct sockaddr_in6 sa;

		if (namelen < sizeof(sa))
			return FG_FSOCK_BAD;
		memcpy(&sa, name, sizeof(sa));
		memcpy(src, &sa.sin6_addr, 16);
		sport = ntohs(sa.sin6_port);
		hl = 48;
	} else {
		struct sockaddr_in sa;

		if (namelen < sizeof(sa))
			return FG_FSOCK_BAD;
		memcpy(&sa, name, sizeof(sa));
		memcpy(src, &sa.sin_addr, 4);
		sport = ntohs(sa.sin_port);
		hl = 28;
	}
	if (!have_dst) {
		static const uint8_t zero[16];

		if (!memcmp(feed->addr, zero, 16))
			return FG_FSOCK_BAD; /* wildcard socket and no IP_PKTINFO: no flow */
		memcpy(dst, feed->addr, 16);
	}
	if (feed->src_len && !fg_in_prefix(src, feed->src, feed->src_len))
		return FG_FSOCK_SRC_FILTERED;
	if (plen > 65535 - hl)
		return FG_FSOCK_BAD;

	h = payload - hl;
	if (v6) {
		memset(h, 0, 40);
		h[0] = 0x60;
		fg_put16(h + 4, 8 + plen);
		h[6] = 17; /* next header: UDP */
		h[7] = 64;
		memcpy(h + 8, src, 16);
		memcpy(h + 24, dst, 16);
		u = h + 40;
	} else {
		memset(h, 0, 20);
		h[0] = 0x45;
		fg_put16(h + 2, 28 + plen);
		fg_put16(h + 6, 0x4000); /* DF: a whole datagram */
		h[8] = 64;
		h[9] = 17;
		memcpy(h + 12, src, 4);
		memcpy(h + 16, dst, 4);
		fg_put16(h + 10, fg_ip4_csum(h));
		u = h + 20;
	}
	fg_put16(u, sport);
	fg_put16(u + 2, feed->port);
	fg_put16(u + 4, 8 + plen);
	fg_put16(u + 6, 0); /* no checksum: the kernel verified it */

	f->data = h;
	f->len = hl + plen;
	f->l3 = 1;
	f->rule_id = feed->rule_id;
	f->feed_id = feed->feed_id;
	f->xdp_ns = real_ns ? fg_bk_real_to_mono(clk, real_ns) : 0;
	return FG_FSOCK_OK;
}

/* --- the recvmmsg backend -------------------------------------------------------------------- */

struct fg_sockrx {
	unsigned int thread;
	unsigned int nsock;
	unsigned int rr; /* socket read first in the next burst */
	bool spin;
	bool multi; /* several sockets: poll() to sleep */
	bool busy; /* the last burst found datagrams */
	uint32_t buf_size;
	struct fg_fsock *socks;
	struct pollfd *pfds;
	uint8_t *bufs; /* FG_BACKEND_MAX_BATCH x buf_size */
	struct mmsghdr msgs[FG_BACKEND_MAX_BATCH];
	struct iovec iov[FG_BACKEND_MAX_BATCH];
	struct sockaddr_in6 names[FG_BACKEND_MAX_BATCH];
	uint8_t ctrl[FG_BACKEND_MAX_BATCH][FG_FSOCK_CMSG_SPACE] __attribute__((aligned(8)));
	struct fg_bk_clock clk;
	struct fg_backend_kstats ks; /* written by the thread */
};

static void fg_sockrx_close(void *rx)
{
	struct fg_sockrx *r = rx;

	if (!r)
		return;
	for (unsigned int i = 0; i < r->nsock; i++)
		fg_fsock_close(&r->socks[i]);
	free(r->socks);
	free(r->pfds);
	free(r->bufs);
	free(r);
}

static int fg_sockrx_open_one(const struct fg_backend_opts *o, int ifindex, unsigned int t,
			      unsigned int nthreads, void **out, char *err, size_t errlen)
{
	unsigned int want = fg_bk_share(o->nfeeds, nthreads, t);
	struct fg_sockrx *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->thread = t;
	r->spin = o->spin;
	r->multi = want > 1;
	r->buf_size = o->buf_size;
	r->socks = calloc(want, sizeof(*r->socks));
	r->pfds = calloc(want, sizeof(*r->pfds));
	r->bufs = malloc((size_t)FG_BACKEND_MAX_BATCH * o->buf_size);
	if (!r->socks || !r->pfds || !r->bufs)
		goto nomem;
	for (unsigned int i = 0; i < FG_BACKEND_MAX_BATCH; i++) {
		/* The payload lands after room for the synthetic header. */
		r->iov[i].iov_base = r->bufs + (size_t)i * o->buf_size + FG_BK_L3_HEADROOM;
		r->iov[i].iov_len = o->buf_size - FG_BK_L3_HEADROOM;
		r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
		r->msgs[i].msg_hdr.msg_iovlen = 1;
		r->msgs[i].msg_hdr.msg_name = &r->names[i];
		r->msgs[i].msg_hdr.msg_control = r->ctrl[i];
	}
	for (unsigned int i = 0; i < want; i++) {
		ret = fg_fsock_open(o, ifindex, &o->feeds[t + i * nthreads], r->multi || o->spin,
				    &r->socks[i], err, errlen);
		if (ret) {
			fg_sockrx_close(r);
			return ret;
		}
		r->nsock++;
		r->pfds[i].fd = r->socks[i].fd;
		r->pfds[i].events = POLLIN;
	}
	fg_bk_clock_refresh(&r->clk);
	*out = r;
	return 0;
nomem:
	fg_sockrx_close(r);
	fg_errf(err, errlen, "Couldn't set up the receive buffers: %s", strerror(ENOMEM));
	return -ENOMEM;
}

static int fg_sockrx_open(const struct fg_backend_opts *o, void **rx, unsigned int *n, char *err,
			  size_t errlen)
{
	int ifindex = (int)if_nametoindex(o->ifname);

	if (!ifindex) {
		fg_errf(err, errlen, "%s: no such interface", o->ifname);
		return -ENODEV;
	}
	if (o->buf_size < FG_BK_L3_HEADROOM + 64 || o->buf_size > 65536) {
		fg_errf(err, errlen, "buffer size %u: want %u to 65536", o->buf_size,
			FG_BK_L3_HEADROOM + 64);
		return -EINVAL;
	}
	return fg_fsock_open_threads(o, ifindex, fg_sockrx_open_one, fg_sockrx_close, rx, n, err,
				     errlen);
}

/* Turn msgs[from, from + cnt) of socket s into frames; returns the frames made. */
static unsigned int fg_sockrx_convert(struct fg_sockrx *r, const struct fg_fsock *s,
				      unsigned int from, unsigned int cnt, struct fg_frame *frames)
{
	unsigned int k = 0, trunc = 0, filt = 0, bad = 0;

	for (unsigned int i = from; i < from + cnt; i++) {
		struct msghdr *m = &r->msgs[i].msg_hdr;
		struct fg_frame *f = &frames[k];

		if (m->msg_flags & MSG_TRUNC) {
			trunc++;
			continue;
		}
		switch (fg_fsock_frame(s, m->msg_name, m->msg_namelen, m->msg_control,
				       m->msg_controllen, r->iov[i].iov_base, r->msgs[i].msg_len,
				       &r->clk, f)) {
		case FG_FSOCK_OK:
			f->queue = (uint16_t)r->thread;
			k++;
			break;
		case FG_FSOCK_SRC_FILTERED:
			filt++;
			break;
		default:
			bad++;
			break;
		}
	}
	if (trunc)
		FG_BK_ADD(r->ks.truncated, trunc);
	if (filt)
		FG_BK_ADD(r->ks.src_filtered, filt);
	if (bad)
		FG_BK_ADD(r->ks.bad, bad);
	return k;
}

/* recvmmsg() into msgs[from, from + max) of socket i: datagrams read, 0 for none, -errno. */
static int fg_sockrx_recv(struct fg_sockrx *r, unsigned int i, unsigned int from, unsigned int max,
			  int flags)
{
	int got;

	for (unsigned int k = from; k < from + max; k++) {
		r->msgs[k].msg_hdr.msg_namelen = sizeof(r->names[k]);
		r->msgs[k].msg_hdr.msg_controllen = FG_FSOCK_CMSG_SPACE;
		r->msgs[k].msg_hdr.msg_flags = 0;
	}
	FG_BK_ADD(r->ks.syscalls, 1);
	got = recvmmsg(r->socks[i].fd, &r->msgs[from], max, flags, NULL);
	if (got >= 0)
		return got;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return -errno;
}

/* One non-blocking pass over the sockets (only the readable ones after a
 * poll), from r->rr on. */
static int fg_sockrx_pass(struct fg_sockrx *r, struct fg_frame *frames, unsigned int max,
			  bool polled)
{
	unsigned int used = 0, n = 0;

	for (unsigned int j = 0; j < r->nsock && used < max; j++) {
		unsigned int i = (r->rr + j) % r->nsock;
		int got;

		if (polled && !r->pfds[i].revents)
			continue;
		got = fg_sockrx_recv(r, i, used, max - used, MSG_DONTWAIT);

		if (got < 0)
			return got;
		n += fg_sockrx_convert(r, &r->socks[i], used, (unsigned int)got, frames + n);
		used += (unsigned int)got;
	}
	r->rr = r->rr + 1 < r->nsock ? r->rr + 1 : 0;
	return (int)n;
}

static int fg_sockrx_burst(void *rx, struct fg_frame *frames, unsigned int max)
{
	struct fg_sockrx *r = rx;
	int got;

	if (max > FG_BACKEND_MAX_BATCH)
		max = FG_BACKEND_MAX_BATCH;
	if (!r->spin && !r->multi) {
		/* Sleep until one datagram is there, then take what else is. */
		got = fg_sockrx_recv(r, 0, 0, max, MSG_WAITFORONE);
		if (got <= 0)
			return got;
		return (int)fg_sockrx_convert(r, &r->socks[0], 0, (unsigned int)got, frames);
	}
	if (r->spin)
		return fg_sockrx_pass(r, frames, max, false);
	/* Several sockets, blocking: after a burst that found datagrams more are
	 * likely waiting, so look first; otherwise sleep in poll() right away. */
	if (r->busy) {
		got = fg_sockrx_pass(r, frames, max, false);
		r->busy = got > 0;
		if (got)
			return got;
	}
	FG_BK_ADD(r->ks.syscalls, 1);
	if (poll(r->pfds, r->nsock, FG_BACKEND_WAIT_MS) <= 0)
		return 0;
	got = fg_sockrx_pass(r, frames, max, true);
	r->busy = got > 0;
	return got;
}

static void fg_sockrx_release(void *rx)
{
	(void)rx; /* the buffers are read into again by the next burst only */
}

static void fg_sockrx_kstats(void *rx, struct fg_backend_kstats *ks)
{
	const struct fg_sockrx *r = rx;

	fg_fsock_kstats(&r->ks, r->socks, r->nsock, ks);
}

const struct fg_backend_ops fg_sockrx_ops = {
	.name = "socket",
	.joins_groups = true,
	.open = fg_sockrx_open,
	.rx_burst = fg_sockrx_burst,
	.rx_release = fg_sockrx_release,
	.kstats = fg_sockrx_kstats,
	.close = fg_sockrx_close,
};
