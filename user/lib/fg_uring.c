// SPDX-License-Identifier: MIT
/*
 * The `io_uring` backend: per thread one ring, the thread's UDP feed
 * sockets (fg_sockrx.c), one multishot recvmsg per socket reading into a
 * ring of provided buffers, completions taken in batches.
 *
 * Buffer layout (IORING_OP_RECVMSG with IORING_RECV_MULTISHOT): each
 * provided buffer receives struct io_uring_recvmsg_out, then msg_namelen
 * bytes of source address, msg_controllen bytes of control messages, then
 * the payload. The name and control room in front of the payload (116
 * bytes) is where the synthetic IP + UDP header is written once they have
 * been read, so a datagram is never copied.
 *
 * The multishot requests are armed by the receive thread itself (in its
 * first burst) so that their completion work runs in that thread. A
 * request ends when the buffer ring runs dry (ENOBUFS): it is armed again
 * once the buffers of the burst are back. Spinning: the CQ is peeked
 * without a system call. Blocking: io_uring_wait_cqe_timeout().
 *
 * Completion work is deferred to the receive thread (DEFER_TASKRUN): the
 * ring is made disabled on the opening thread and enabled by the receive
 * thread in its first burst, which makes it the ring's single issuer. See
 * fg_uring_setup_ring() for why the older COOP_TASKRUN mode is only the
 * fallback.
 *
 * liburing 2.3 has no io_uring_setup_buf_ring(): the buffer ring is mapped
 * and registered by hand (io_uring_register_buf_ring, Linux 5.19).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <liburing.h>

#include "fg_backend_int.h"

#define FG_URING_BGID 1
/* Control room per datagram: IPV6_PKTINFO (the larger) and SCM_TIMESTAMPNS. */
#define FG_URING_CTRL (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct timespec)))
#define FG_URING_PREFIX \
	(sizeof(struct io_uring_recvmsg_out) + sizeof(struct sockaddr_in6) + FG_URING_CTRL)

/*
 * Spinning on a ring without DEFER_TASKRUN: empty peeks between two entries
 * into the kernel that run pending task work even with the flag clear
 * (about 25 us of spinning here; see fg_uring_setup_ring()).
 */
#define FG_URING_SPIN_ENTER 1024

_Static_assert(FG_URING_PREFIX >= FG_BK_L3_HEADROOM, "no room for the synthetic header");
_Static_assert(FG_URING_CTRL <= FG_FSOCK_CMSG_SPACE, "control room");

struct fg_uring {
	unsigned int thread;
	unsigned int nsock;
	bool spin;
	bool armed; /* the first burst arms every socket */
	bool ring_ok;
	bool deferred; /* DEFER_TASKRUN: made disabled, enabled by the receive thread */
	unsigned int idle; /* spinning, no deferred run: empty peeks since the last entry */
	struct fg_fsock *socks;
	bool *rearm; /* [nsock]: its multishot request has ended */
	unsigned int nrearm;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_len;
	uint8_t *bufs;
	uint32_t nbufs;
	uint32_t buf_size;
	struct msghdr tmpl; /* the layout of every buffer: name and control room */
	uint16_t *pending; /* buffer ids consumed, not given back yet */
	unsigned int npending;
	struct io_uring_cqe *cqes[FG_BACKEND_MAX_BATCH];
	struct fg_bk_clock clk;
	struct fg_backend_kstats ks; /* written by the thread */
};

/* Why io_uring is refused here, for the error line. */
static const char *fg_uring_why(int ret, char *buf, size_t len)
{
	char v[16] = "";
	FILE *f;

	if (ret == -ENOSYS)
		return "this kernel has no io_uring";
	if (ret != -EPERM)
		return "";
	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (f) {
		if (!fgets(v, sizeof(v), f))
			v[0] = 0;
		fclose(f);
	}
	v[strcspn(v, "\n")] = 0;
	if (!strcmp(v, "2"))
		snprintf(buf, len, "io_uring is disabled (kernel.io_uring_disabled = 2)");
	else if (!strcmp(v, "1"))
		snprintf(buf, len,
			 "io_uring is restricted to kernel.io_uring_group "
			 "(kernel.io_uring_disabled = 1)");
	else
		snprintf(buf, len, "not permitted (seccomp or a security module?)");
	return buf;
}

static void fg_uring_close(void *rx)
{
	struct fg_uring *u = rx;

	if (!u)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring); /* cancels the receives, drops the buffer ring */
	if (u->br)
		munmap(u->br, u->br_len);
	for (unsigned int i = 0; i < u->nsock; i++)
		fg_fsock_close(&u->socks[i]);
	free(u->socks);
	free(u->rearm);
	free(u->pending);
	free(u->bufs);
	free(u);
}

static int fg_uring_setup_ring(struct fg_uring *u, char *err, size_t errlen)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	char why[128];
	unsigned int sq = 8;
	int ret;

	while (sq < 2 * u->nsock)
		sq <<= 1;
	/*
	 * Every completion but errors holds a buffer: CQ room for all of them.
	 *
	 * DEFER_TASKRUN (Linux 6.1): the receive work of a datagram is queued on
	 * the ring and done when the receive thread enters the kernel for
	 * completions; TASKRUN_FLAG marks the ring when work waits, and
	 * liburing's peek enters the kernel then (cq_ring_needs_flush). No IPI
	 * to the consumer's CPU, no pending work outside the ring's own list.
	 *
	 * COOP_TASKRUN alone (the fallback, 5.19) queues the work as the
	 * thread's task work instead. Measured at 200 kpps over 4 sockets with a
	 * spinning consumer on Linux 6.18: now and then work was pending with
	 * the flag clear, and it waited for the next timer tick (4 ms at
	 * HZ=250): p99 0.8-3 ms, p99.9 2.7-4.4 ms, against 38-50 us for recvmmsg.
	 * Spinning rings on such kernels also enter the kernel now and then
	 * (FG_URING_SPIN_ENTER) to bound that wait.
	 *
	 * No task-run flags at all (before 5.19): every completion interrupts
	 * the consumer's CPU and slows the sender.
	 */
	static const unsigned int modes[] = {
		IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED |
			IORING_SETUP_TASKRUN_FLAG,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};

	ret = -EINVAL;
	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]) && ret == -EINVAL; m++) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | modes[m];
		p.cq_entries = 2 * u->nbufs;
		ret = io_uring_queue_init_params(sq, &u->ring, &p);
		u->deferred = !ret && (modes[m] & IORING_SETUP_DEFER_TASKRUN);
	}
	if (ret < 0) {
		const char *w = fg_uring_why(ret, why, sizeof(why));

		fg_errf(err, errlen, "Couldn't create a ring: %s%s%s", strerror(-ret),
			*w ? ": " : "", w);
		return ret;
	}
	u->ring_ok = true;

	u->br_len = (size_t)u->nbufs * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (u->br == MAP_FAILED) {
		u->br = NULL;
		ret = -errno;
		fg_errf(err, errlen, "Couldn't map the buffer ring: %s", strerror(errno));
		return ret;
	}
	io_uring_buf_ring_init(u->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = u->nbufs;
	reg.bgid = FG_URING_BGID;
	ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (ret) {
		fg_errf(err, errlen, "Couldn't register the buffer ring: %s%s", strerror(-ret),
			ret == -EINVAL ? " (provided buffer rings need Linux 5.19)" : "");
		return ret;
	}
	for (uint32_t i = 0; i < u->nbufs; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * u->buf_size, u->buf_size,
				      (unsigned short)i, io_uring_buf_ring_mask(u->nbufs), (int)i);
	io_uring_buf_ring_advance(u->br, (int)u->nbufs);
	return 0;
}

static int fg_uring_open_one(const struct fg_backend_opts *o, int ifindex, unsigned int t,
			     unsigned int nthreads, void **out, char *err, size_t errlen)
{
	unsigned int want = fg_bk_share(o->nfeeds, nthreads, t);
	struct fg_uring *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u) {
		fg_errf(err, errlen, "Couldn't set up the receive buffers: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	u->thread = t;
	u->spin = o->spin;
	u->nbufs = o->ring_buffers;
	u->buf_size = o->buf_size;
	u->tmpl.msg_namelen = sizeof(struct sockaddr_in6);
	u->tmpl.msg_controllen = FG_URING_CTRL;
	u->socks = calloc(want, sizeof(*u->socks));
	u->rearm = calloc(want, sizeof(*u->rearm));
	u->pending = calloc(u->nbufs, sizeof(*u->pending));
	u->bufs = malloc((size_t)u->nbufs * u->buf_size);
	if (!u->socks || !u->rearm || !u->pending || !u->bufs) {
		fg_uring_close(u);
		fg_errf(err, errlen, "Couldn't set up the receive buffers: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* The ring first: when io_uring is refused, that is the one thing to say. */
	ret = fg_uring_setup_ring(u, err, errlen);
	if (ret) {
		fg_uring_close(u);
		return ret;
	}
	for (unsigned int i = 0; i < want; i++) {
		ret = fg_fsock_open(o, ifindex, &o->feeds[t + i * nthreads], true, &u->socks[i],
				    err, errlen);
		if (ret) {
			fg_uring_close(u);
			return ret;
		}
		u->nsock++;
	}
	fg_bk_clock_refresh(&u->clk);
	*out = u;
	return 0;
}

static int fg_uring_open(const struct fg_backend_opts *o, void **rx, unsigned int *n, char *err,
			 size_t errlen)
{
	int ifindex = (int)if_nametoindex(o->ifname);

	if (!ifindex) {
		fg_errf(err, errlen, "%s: no such interface", o->ifname);
		return -ENODEV;
	}
	if (o->ring_buffers < 16 || o->ring_buffers > 32768 ||
	    (o->ring_buffers & (o->ring_buffers - 1))) {
		fg_errf(err, errlen, "%u provided buffers: want a power of two from 16 to 32768",
			o->ring_buffers);
		return -EINVAL;
	}
	if (o->buf_size < FG_URING_PREFIX + 64 || o->buf_size > 65536) {
		fg_errf(err, errlen, "buffer size %u: want %zu to 65536", o->buf_size,
			FG_URING_PREFIX + 64);
		return -EINVAL;
	}
	return fg_fsock_open_threads(o, ifindex, fg_uring_open_one, fg_uring_close, rx, n, err,
				     errlen);
}

/* Queue a multishot recvmsg on socket i. 0, or -EBUSY when the SQ is full. */
static int fg_uring_arm(struct fg_uring *u, unsigned int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, u->socks[i].fd, &u->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = FG_URING_BGID;
	io_uring_sqe_set_data64(sqe, i);
	return 0;
}

/*
 * Enable a ring made with IORING_SETUP_R_DISABLED. liburing 2.3 declares
 * io_uring_enable_rings() but its shared library does not export it: the
 * system call itself. 0 or -errno.
 */
static int fg_uring_enable(struct fg_uring *u)
{
	if (syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
		    0) < 0)
		return -errno;
	return 0;
}

/*
 * Give the consumed buffers back, arm again the receives that ended (the
 * first time: all of them) and submit. 0 or -errno.
 */
static int fg_uring_flush(struct fg_uring *u)
{
	unsigned int queued = 0;
	int ret;

	if (u->npending) {
		const int mask = io_uring_buf_ring_mask(u->nbufs);

		for (unsigned int k = 0; k < u->npending; k++) {
			uint16_t bid = u->pending[k];

			io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->buf_size,
					      u->buf_size, bid, mask, (int)k);
		}
		io_uring_buf_ring_advance(u->br, (int)u->npending);
		u->npending = 0;
	}
	if (!u->armed) {
		/* The receive thread becomes the single issuer of the ring. */
		if (u->deferred) {
			ret = fg_uring_enable(u);
			if (ret)
				return ret;
		}
		for (unsigned int i = 0; i < u->nsock; i++)
			u->rearm[i] = true;
		u->nrearm = u->nsock;
		u->armed = true;
	}
	if (!u->nrearm)
		return 0;
	for (unsigned int i = 0; i < u->nsock && u->nrearm; i++) {
		if (!u->rearm[i])
			continue;
		if (fg_uring_arm(u, i))
			break; /* SQ full: the rest next time */
		u->rearm[i] = false;
		u->nrearm--;
		queued++;
	}
	if (!queued)
		return 0;
	FG_BK_ADD(u->ks.rearms, queued);
	FG_BK_ADD(u->ks.syscalls, 1);
	ret = io_uring_submit(&u->ring);
	return ret < 0 ? ret : 0;
}

/* The receive cannot work at all (not a transient condition). */
static bool fg_uring_fatal(int res)
{
	return res == -EINVAL || res == -EOPNOTSUPP || res == -EBADF || res == -ENOTSOCK ||
	       res == -EFAULT;
}

/* One completion into frames[*n]. 0, or -errno when the socket cannot be read. */
static int fg_uring_cqe(struct fg_uring *u, const struct io_uring_cqe *cqe, struct fg_frame *frames,
			unsigned int *n)
{
	uint64_t idx = io_uring_cqe_get_data64(cqe);
	struct io_uring_recvmsg_out *out;
	uint8_t *buf, *payload, *name;
	uint32_t plen, namelen;
	uint16_t bid;

	if (idx >= u->nsock) {
		FG_BK_ADD(u->ks.bad, 1);
		return 0;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE) && !u->rearm[idx]) {
		u->rearm[idx] = true;
		u->nrearm++;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (bid >= u->nbufs) {
			FG_BK_ADD(u->ks.bad, 1);
			return 0;
		}
		u->pending[u->npending++] = bid;
	} else {
		if (cqe->res == -ENOBUFS)
			FG_BK_ADD(u->ks.no_buffers, 1);
		else if (fg_uring_fatal(cqe->res))
			return cqe->res;
		else if (cqe->res != -ECANCELED)
			FG_BK_ADD(u->ks.bad, 1); /* EINTR, ENOMEM, ...: armed again */
		return 0;
	}
	if (cqe->res < 0 || (uint32_t)cqe->res > u->buf_size) {
		FG_BK_ADD(u->ks.bad, 1);
		return 0;
	}
	buf = u->bufs + (size_t)bid * u->buf_size;
	out = io_uring_recvmsg_validate(buf, cqe->res, &u->tmpl);
	if (!out || out->controllen > u->tmpl.msg_controllen) {
		FG_BK_ADD(u->ks.bad, 1);
		return 0;
	}
	if (out->flags & MSG_TRUNC) {
		FG_BK_ADD(u->ks.truncated, 1);
		return 0;
	}
	name = io_uring_recvmsg_name(out);
	namelen = out->namelen < u->tmpl.msg_namelen ? out->namelen : u->tmpl.msg_namelen;
	payload = io_uring_recvmsg_payload(out, &u->tmpl);
	plen = io_uring_recvmsg_payload_length(out, cqe->res, &u->tmpl);
	switch (fg_fsock_frame(&u->socks[idx], name, namelen, name + u->tmpl.msg_namelen,
			       out->controllen, payload, plen, &u->clk, &frames[*n])) {
	case FG_FSOCK_OK:
		frames[*n].queue = (uint16_t)u->thread;
		(*n)++;
		break;
	case FG_FSOCK_SRC_FILTERED:
		FG_BK_ADD(u->ks.src_filtered, 1);
		break;
	default:
		FG_BK_ADD(u->ks.bad, 1);
		break;
	}
	return 0;
}

static int fg_uring_burst(void *rx, struct fg_frame *frames, unsigned int max)
{
	struct fg_uring *u = rx;
	unsigned int cnt, n = 0;
	int ret;

	ret = fg_uring_flush(u);
	if (ret)
		return ret;
	/* Every completion of the burst may hold a buffer: never more than there are. */
	if (max > FG_BACKEND_MAX_BATCH)
		max = FG_BACKEND_MAX_BATCH;
	if (max > u->nbufs)
		max = u->nbufs;
	cnt = io_uring_peek_batch_cqe(&u->ring, u->cqes, max);
	if (!cnt && u->spin && !u->deferred && ++u->idle >= FG_URING_SPIN_ENTER) {
		u->idle = 0;
		FG_BK_ADD(u->ks.syscalls, 1);
		ret = io_uring_get_events(&u->ring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
		cnt = io_uring_peek_batch_cqe(&u->ring, u->cqes, max);
	}
	if (!cnt && !u->spin) {
		struct __kernel_timespec ts = { 0, FG_BACKEND_WAIT_MS * 1000000ll };
		struct io_uring_cqe *cqe;

		FG_BK_ADD(u->ks.syscalls, 1);
		ret = io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
		if (ret && ret != -ETIME && ret != -EINTR && ret != -EAGAIN)
			return ret;
		cnt = io_uring_peek_batch_cqe(&u->ring, u->cqes, max);
	}
	for (unsigned int i = 0; i < cnt; i++) {
		ret = fg_uring_cqe(u, u->cqes[i], frames, &n);
		if (ret) {
			io_uring_cq_advance(&u->ring, cnt);
			return ret;
		}
	}
	if (cnt)
		io_uring_cq_advance(&u->ring, cnt);
	return (int)n;
}

static void fg_uring_release(void *rx)
{
	/* An error here shows again in the next burst, which returns it. */
	fg_uring_flush(rx);
}

static void fg_uring_kstats(void *rx, struct fg_backend_kstats *ks)
{
	const struct fg_uring *u = rx;

	fg_fsock_kstats(&u->ks, u->socks, u->nsock, ks);
}

const struct fg_backend_ops fg_uring_ops = {
	.name = "io_uring",
	.joins_groups = true,
	.open = fg_uring_open,
	.rx_burst = fg_uring_burst,
	.rx_release = fg_uring_release,
	.kstats = fg_uring_kstats,
	.close = fg_uring_close,
};
