// SPDX-License-Identifier: MIT
/*
 * The backend registry and the receive threads every non-XDP backend runs
 * in (see feedgate/backend.h). The loop mirrors the AF_XDP consumer's
 * (fg_rxloop.c) and fills the same struct fg_rxq_stats, so that `feedgate
 * run` reports every backend with one set of counters and histograms:
 * burst, skip if empty, stamp the time once, latencies, sink, release,
 * account.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/resource.h>

#include "fg_backend.h"
#include "fg_backend_int.h"
#include "fg_gen.h"
#include "fg_json.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_mcast.h"
#include "fg_rule.h"

/* Empty polls between two on_idle calls of the sink when spinning. */
#define FG_BK_IDLE_EVERY 256
/* Frames a stopping thread still takes while traffic keeps coming. */
#define FG_BK_DRAIN_MAX 65536

struct fg_bk_thread {
	struct fg_rxq_stats st; /* first: cache-line aligned, written by the thread only */
	struct fg_frame frames[FG_BACKEND_MAX_BATCH];
	struct fg_backend *b;
	void *rx;
	unsigned int idx;
	int cpu;
	struct fg_sink sink;
	pthread_t tid;
	bool started;
	int stop;
	int err;
};

struct fg_backend {
	const struct fg_backend_ops *ops;
	struct fg_backend_opts o; /* defaults filled in; feeds point to our copy */
	struct fg_backend_feed *feeds;
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned int n;
	void *rx[FG_BACKEND_MAX_THREADS];
	struct fg_bk_thread *t[FG_BACKEND_MAX_THREADS];
	struct fg_mcast mc;
	struct fg_rxq_stats *snap, *prev; /* live line: [n] each, allocated on first use */
	uint64_t *prev_drops; /* live line: kernel drops at the last line, [n] */
	uint64_t start_ns, prev_ns; /* threads started; last live line */
};

static const struct fg_backend_ops *const fg_backends[] = {
	&fg_afxdp_ops,
	&fg_afpacket_ops,
	&fg_uring_ops,
	&fg_sockrx_ops,
};

#define FG_NBACKENDS (sizeof(fg_backends) / sizeof(fg_backends[0]))

void fg_bk_clock_refresh(struct fg_bk_clock *c)
{
	struct timespec m1, r, m2;
	int64_t mono;

	/* The realtime read bracketed by two monotonic reads: the midpoint. */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec + (int64_t)m2.tv_sec * 1000000000 +
		m2.tv_nsec) /
	       2;
	c->real_minus_mono = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
	c->uses = 0;
}

void fg_bk_opts_defaults(const struct fg_backend_opts *in, struct fg_backend_opts *out)
{
	*out = *in;
	if (!out->threads)
		out->threads = FG_BK_DEF_THREADS;
	if (!out->batch)
		out->batch = FG_BK_DEF_BATCH;
	if (!out->block_size)
		out->block_size = FG_BK_DEF_BLOCK_SIZE;
	if (!out->block_count)
		out->block_count = FG_BK_DEF_BLOCK_COUNT;
	if (!out->frame_size)
		out->frame_size = FG_BK_DEF_FRAME_SIZE;
	if (!out->retire_ms)
		out->retire_ms = FG_BK_DEF_RETIRE_MS;
	if (!out->rcvbuf)
		out->rcvbuf = FG_BK_DEF_RCVBUF;
	if (!out->buf_size)
		out->buf_size = FG_BK_DEF_BUF_SIZE;
	if (!out->ring_buffers)
		out->ring_buffers = FG_BK_DEF_RING_BUFFERS;
}

static const char *const poll_names[] = { "busy", "spin", "wakeup" };

const char *fg_poll_name(enum fg_poll_mode m)
{
	return (unsigned int)m < 3 ? poll_names[m] : "unknown";
}

int fg_poll_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, poll_names[i]))
			return i;
	return -1;
}

int fg_backend_by_name(const char *name, const struct fg_backend_ops **out)
{
	for (size_t i = 0; i < FG_NBACKENDS; i++) {
		if (!strcmp(name, fg_backends[i]->name)) {
			*out = fg_backends[i];
			return 0;
		}
	}
	pr_warn("backend '%s': unknown; use af_xdp, af_packet, io_uring or socket\n", name);
	return -ENOENT;
}

int fg_fanout_parse(const char *s, enum fg_fanout_mode *out)
{
	if (!strcmp(s, "hash"))
		*out = FG_FANOUT_HASH;
	else if (!strcmp(s, "cpu"))
		*out = FG_FANOUT_CPU;
	else
		return -EINVAL;
	return 0;
}

const char *fg_fanout_name(enum fg_fanout_mode m)
{
	return m == FG_FANOUT_CPU ? "cpu" : "hash";
}

/* --- feeds ----------------------------------------------------------------------------------- */

int fg_backend_feed_parse(const char *s, struct fg_backend_feed *f, char *err, size_t errlen)
{
	struct fg_rule_key k;
	int ret;

	ret = fg_rule_key_parse(s, &k, err, errlen);
	if (ret)
		return ret;
	memset(f, 0, sizeof(*f));
	f->family = k.family == FG_FAMILY_IPV6 ? AF_INET6 : AF_INET;
	f->port = ntohs(k.dport);
	memcpy(f->addr, k.addr, 16);
	f->rule_id = FG_RULE_NONE;
	return 0;
}

int fg_backend_feed_format(const struct fg_backend_feed *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(f->family, f->addr, a, sizeof(a)))
		return -EINVAL;
	n = f->family == AF_INET6 ? snprintf(buf, len, "[%s]:%u", a, f->port)
				  : snprintf(buf, len, "%s:%u", a, f->port);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

unsigned int fg_backend_feeds_from_rules(const struct fg_rule_entry *rules, size_t n,
					 struct fg_backend_feed *out, unsigned int max)
{
	unsigned int k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		const struct fg_rule_entry *e = &rules[i];
		struct fg_backend_feed *f = &out[k];

		if (e->rule.action != FG_ACTION_PASS && e->rule.action != FG_ACTION_REDIRECT)
			continue;
		if (e->key.family != FG_FAMILY_IPV4 && e->key.family != FG_FAMILY_IPV6)
			continue;
		memset(f, 0, sizeof(*f));
		f->family = e->key.family == FG_FAMILY_IPV6 ? AF_INET6 : AF_INET;
		f->port = ntohs(e->key.dport);
		memcpy(f->addr, e->key.addr, 16);
		f->src_len = e->rule.src_prefix_len;
		if (f->src_len > (f->family == AF_INET ? 32 : 128))
			continue; /* a hand-written map entry the XDP program ignores too */
		memcpy(f->src, e->rule.src_addr, 16);
		f->rule_id = e->rule.rule_id;
		f->feed_id = e->rule.feed_id;
		k++;
	}
	return k;
}

/* --- the receive thread ---------------------------------------------------------------------- */

static inline void fg_bk_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline unsigned int fg_bk_band(uint64_t ns)
{
	return ns < FG_TAIL_BAND1_NS ? 0 : ns < FG_TAIL_BAND2_NS ? 1 : 2;
}

/*
 * One burst's bookkeeping: receive stamp, latencies, per-rule counts, and
 * what each latency is made of (struct fg_tail): look is when the consumer
 * looked at its ring before this burst (0: never), full whether that look
 * came back with a whole batch.
 */
static void fg_bk_account(struct fg_bk_thread *t, unsigned int n, uint64_t look, bool full)
{
	struct fg_rxq_stats *st = &t->st;
	uint64_t now = fg_now_ns(), bytes = 0, send_ns;
	uint32_t stamped = 0, no_stamp = 0;
	const bool itch = t->b->o.itch_stamps;
	struct fg_tail_band rx[FG_TAIL_BANDS], gen[FG_TAIL_BANDS];

	memset(rx, 0, sizeof(rx));
	memset(gen, 0, sizeof(gen));
	if (full)
		look = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct fg_frame *f = &t->frames[i];
		uint64_t lat = 0, held = 0, glat;
		bool has_gen = false;

		f->take_ns = now;
		bytes += f->len;
		if (f->xdp_ns) {
			struct fg_tail_band *r;

			lat = now > f->xdp_ns ? now - f->xdp_ns : 0;
			held = look > f->xdp_ns ? look - f->xdp_ns : 0;
			if (held > lat)
				held = lat;
			r = &rx[fg_bk_band(lat)];
			fg_hist_record(&st->xdp_lat, lat);
			r->packets++;
			r->held_ns += held;
			r->consumer_ns += lat - held;
		} else {
			no_stamp++;
		}
		if (f->rule_id < FG_MAX_RULES)
			FG_BK_ADD(st->rule_packets[f->rule_id], 1);
		if (fg_gen_trailer_find(f, &send_ns, NULL)) {
			glat = now > send_ns ? now - send_ns : 0;
			has_gen = true;
		} else if (itch && fg_gen_itch_stamp_find(f, &send_ns)) {
			glat = fg_gen_itch_age(now, send_ns);
			has_gen = true;
		}
		if (has_gen) {
			struct fg_tail_band *g = &gen[fg_bk_band(glat)];

			fg_hist_record(&st->gen_lat, glat);
			stamped++;
			g->packets++;
			if (f->xdp_ns && glat >= lat) {
				g->send_ns += glat - lat;
				g->held_ns += held;
				g->consumer_ns += lat - held;
			} else {
				g->consumer_ns += glat; /* no receive stamp: all of it unsplit */
			}
		}
	}
	FG_BK_ADD(st->packets, n);
	FG_BK_ADD(st->bytes, bytes);
	FG_BK_ADD(st->batches, 1);
	if (no_stamp)
		FG_BK_ADD(st->no_meta, no_stamp);
	if (stamped)
		FG_BK_ADD(st->gen_stamped, stamped);
	for (unsigned int k = 0; k < FG_TAIL_BANDS; k++) {
		struct fg_tail_band *a = &st->tail.rx[k], *g = &st->tail.gen[k];

		if (rx[k].packets) {
			FG_BK_ADD(a->packets, rx[k].packets);
			FG_BK_ADD(a->held_ns, rx[k].held_ns);
			FG_BK_ADD(a->consumer_ns, rx[k].consumer_ns);
		}
		if (gen[k].packets) {
			FG_BK_ADD(g->packets, gen[k].packets);
			FG_BK_ADD(g->send_ns, gen[k].send_ns);
			FG_BK_ADD(g->held_ns, gen[k].held_ns);
			FG_BK_ADD(g->consumer_ns, gen[k].consumer_ns);
		}
	}
}

/* A burst this long may hold a context switch (a ~6 us burst of 64 frames does not). */
#define FG_BK_LONG_BURST_NS 20000u

/* Has the thread been switched out since *sw (its context switches so far)?
 * *sw is brought up to date. One getrusage(), ~0.3 us. */
static bool fg_bk_switched(long *sw)
{
	struct rusage r;
	long now;

	if (getrusage(RUSAGE_THREAD, &r))
		return false;
	now = r.ru_nvcsw + r.ru_nivcsw;
	if (now == *sw)
		return false;
	*sw = now;
	return true;
}

/* A thread that never sleeps was away from its ring for ns: was it switched
 * out (another task ran), or not (an interrupt, or the hypervisor)? Asked
 * once per stall, after it: rare. */
static void fg_bk_stall(struct fg_tail *tl, uint64_t ns, long *sw)
{
	FG_BK_ADD(tl->stalls, 1);
	if (ns >= 50000)
		FG_BK_ADD(tl->stalls_50us, 1);
	FG_BK_ADD(tl->stall_ns, ns);
	if (ns > tl->stall_max_ns)
		__atomic_store_n(&tl->stall_max_ns, ns, __ATOMIC_RELAXED);
	if (fg_bk_switched(sw)) {
		FG_BK_ADD(tl->stalls_switched, 1);
		FG_BK_ADD(tl->switched_ns, ns);
	}
}

static void fg_bk_rusage(struct fg_tail *tl, const struct rusage *a)
{
	struct rusage z;

	if (getrusage(RUSAGE_THREAD, &z))
		return;
	__atomic_store_n(&tl->nvcsw, (uint64_t)(z.ru_nvcsw - a->ru_nvcsw), __ATOMIC_RELAXED);
	__atomic_store_n(&tl->nivcsw, (uint64_t)(z.ru_nivcsw - a->ru_nivcsw), __ATOMIC_RELAXED);
	__atomic_store_n(&tl->minflt, (uint64_t)(z.ru_minflt - a->ru_minflt), __ATOMIC_RELAXED);
}

static void *fg_bk_main(void *arg)
{
	struct fg_bk_thread *t = arg;
	const struct fg_backend_ops *ops = t->b->ops;
	const bool spin = t->b->o.spin;
	const unsigned int batch = t->b->o.batch;
	uint64_t empty = 0, drained = 0, look = 0, end = 0;
	bool full = false;
	struct rusage ru0;
	long sw;

	if (getrusage(RUSAGE_THREAD, &ru0))
		memset(&ru0, 0, sizeof(ru0));
	sw = ru0.ru_nvcsw + ru0.ru_nivcsw;
	for (;;) {
		/* every look is timed: the tail's parts (fg_bk_account) and,
		 * spinning, the stalls (one clock read, ~20 ns with the vDSO) */
		const uint64_t t0 = fg_now_ns();
		int n;

		if (spin && end && t0 - end >= FG_TAIL_STALL_NS)
			fg_bk_stall(&t->st.tail, t0 - end, &sw);
		n = ops->rx_burst(t->rx, t->frames, batch);
		if (n < 0) {
			__atomic_store_n(&t->err, n, __ATOMIC_RELAXED);
			break;
		}
		if (!n) {
			look = t0;
			end = t0;
			full = false;
			if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
				break;
			FG_BK_ADD(t->st.empty_polls, 1);
			if (spin)
				fg_bk_relax();
			if ((!spin || ++empty % (t->sink.idle_every ? t->sink.idle_every
								    : FG_BK_IDLE_EVERY) ==
					      0) &&
			    t->sink.on_idle) {
				t->sink.on_idle(t->sink.ctx, fg_now_ns());
				/* the sink's own work (timers, requests) is no stall */
				if (spin)
					end = fg_now_ns();
			}
			continue;
		}
		fg_bk_account(t, (unsigned int)n, look, full);
		if (t->sink.on_batch)
			t->sink.on_batch(t->sink.ctx, t->frames, (unsigned int)n);
		ops->rx_release(t->rx);
		look = t0;
		full = (unsigned int)n >= batch;
		if (spin) {
			end = fg_now_ns();
			/* A switch inside a long burst is no stall of the loop's:
			 * take it into the count now, or the next stall, often a
			 * mere interrupt, would be called switched out. */
			if (end - t0 >= FG_BK_LONG_BURST_NS)
				(void)fg_bk_switched(&sw);
		}
		if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
			drained += (uint64_t)n;
			if (drained > FG_BK_DRAIN_MAX)
				break;
		}
	}
	fg_bk_rusage(&t->st.tail, &ru0);
	return NULL;
}

/* --- life cycle ------------------------------------------------------------------------------ */

static int fg_bk_check(const struct fg_backend_ops *ops, const struct fg_backend_opts *o,
		       struct fg_blame *blame)
{
	if (!o->ifname || !*o->ifname) {
		pr_warn("%s: no interface given\n", ops->name);
		return -EINVAL;
	}
	if (!o->nfeeds && !ops->live_feeds) {
		fg_blame_set(blame, FG_INPUT_FEEDS, "%s: %s: no feeds to receive", ops->name,
			     o->ifname);
		return -EINVAL;
	}
	if (o->nfeeds > FG_BACKEND_MAX_FEEDS) {
		pr_warn("%s: %u feeds: at most %u\n", ops->name, o->nfeeds, FG_BACKEND_MAX_FEEDS);
		return -E2BIG;
	}
	if (o->threads > FG_BACKEND_MAX_THREADS) {
		pr_warn("%s: %u threads: at most %u\n", ops->name, o->threads,
			FG_BACKEND_MAX_THREADS);
		return -E2BIG;
	}
	if (o->batch > FG_BACKEND_MAX_BATCH) {
		pr_warn("%s: batch %u: at most %u\n", ops->name, o->batch, FG_BACKEND_MAX_BATCH);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < o->nfeeds; i++) {
		const struct fg_backend_feed *f = &o->feeds[i];

		if ((f->family != AF_INET && f->family != AF_INET6) ||
		    f->src_len > (f->family == AF_INET ? 32 : 128)) {
			pr_warn("%s: feed %u: bad address family or source prefix\n", ops->name, i);
			return -EINVAL;
		}
	}
	return 0;
}

int fg_backend_open(const struct fg_backend_ops *ops, const struct fg_backend_opts *o,
		    struct fg_backend **out, struct fg_blame *blame)
{
	struct fg_backend *b;
	char err[256] = "";
	unsigned int n = 0;
	int ret;

	*out = NULL;
	fg_blame_clear(blame);
	ret = fg_bk_check(ops, o, blame);
	if (ret)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b) {
		pr_warn("%s: %s\n", ops->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	b->ops = ops;
	fg_bk_opts_defaults(o, &b->o);
	snprintf(b->ifname, sizeof(b->ifname), "%s", o->ifname);
	b->ifindex = (int)if_nametoindex(o->ifname);
	if (!b->ifindex) {
		pr_warn("%s: no such interface\n", o->ifname);
		free(b);
		return -ENODEV;
	}
	if (ops == &fg_afxdp_ops)
		b->o.threads = o->nqueues;
	b->feeds = malloc((o->nfeeds ? o->nfeeds : 1) * sizeof(*b->feeds));
	if (!b->feeds) {
		pr_warn("%s: %s\n", ops->name, strerror(ENOMEM));
		free(b);
		return -ENOMEM;
	}
	if (o->nfeeds)
		memcpy(b->feeds, o->feeds, o->nfeeds * sizeof(*b->feeds));
	b->o.feeds = b->feeds;
	b->o.ifname = b->ifname;

	ret = ops->open(&b->o, b->rx, &n, err, sizeof(err));
	if (ret) {
		/* The only EOPNOTSUPP of an AF_XDP socket's setup is the driver
		 * refusing a zero-copy bind (fg_xsk_open). */
		if (ret == -EOPNOTSUPP && ops == &fg_afxdp_ops)
			fg_blame_set(blame, FG_INPUT_ZEROCOPY, "%s: %s", ops->name, err);
		else
			pr_warn("%s: %s\n", ops->name, err);
		goto fail;
	}
	b->n = n;
	/* After the sockets: a backend that cannot start sends no IGMP/MLD at all. */
	if (!ops->joins_groups) {
		for (unsigned int i = 0; i < o->nfeeds && !ret; i++) {
			struct fg_rule_key k;

			memset(&k, 0, sizeof(k));
			k.family = b->feeds[i].family == AF_INET6 ? FG_FAMILY_IPV6 : FG_FAMILY_IPV4;
			k.dport = htons(b->feeds[i].port);
			memcpy(k.addr, b->feeds[i].addr, 16);
			ret = fg_mcast_join(&b->mc, b->ifindex, &k, 1, err, sizeof(err));
		}
		if (ret) {
			pr_warn("%s: %s\n", ops->name, err);
			goto fail;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct fg_bk_thread *t;

		if (posix_memalign((void **)&t, 64, sizeof(*t))) {
			pr_warn("%s: %s\n", ops->name, strerror(ENOMEM));
			ret = -ENOMEM;
			goto fail;
		}
		memset(t, 0, sizeof(*t));
		t->b = b;
		t->rx = b->rx[i];
		t->idx = i;
		t->cpu = -1;
		fg_hist_init(&t->st.xdp_lat);
		fg_hist_init(&t->st.gen_lat);
		b->t[i] = t;
	}
	*out = b;
	return 0;
fail:
	fg_backend_close(b);
	return ret;
}

unsigned int fg_backend_nthreads(const struct fg_backend *b)
{
	return b->n;
}

const char *fg_backend_name(const struct fg_backend *b)
{
	return b->ops->name;
}

int fg_backend_start(struct fg_backend *b, const int *cpus, const struct fg_sink *sinks)
{
	b->start_ns = fg_now_ns();
	for (unsigned int i = 0; i < b->n; i++) {
		struct fg_bk_thread *t = b->t[i];
		pthread_attr_t attr;
		cpu_set_t set;
		char name[16];
		int ret;

		t->cpu = cpus ? cpus[i] : -1;
		if (sinks)
			t->sink = sinks[i];
		t->stop = 0;
		t->err = 0;
		pthread_attr_init(&attr);
		if (t->cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(t->cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		if (b->o.rt_priority > 0) {
			struct sched_param sp = { .sched_priority = b->o.rt_priority };

			pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
			pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
			pthread_attr_setschedparam(&attr, &sp);
		}
		ret = -pthread_create(&t->tid, &attr, fg_bk_main, t);
		pthread_attr_destroy(&attr);
		if (ret) {
			if (b->o.rt_priority > 0)
				pr_warn("Couldn't start receive thread %u with SCHED_FIFO priority "
					"%d: "
					"%s\n",
					i, b->o.rt_priority, strerror(-ret));
			fg_backend_stop(b);
			return ret;
		}
		snprintf(name, sizeof(name), "fg-%.6s-%u", b->ops->name, i);
		pthread_setname_np(t->tid, name);
		t->started = true;
	}
	return 0;
}

/* Time for a NAPI poll that already looked the socket up in the xsk_map to
 * finish putting its frames on the ring, before the drain starts. */
#define FG_BK_QUIESCE_NS 20000000

void fg_backend_stop(struct fg_backend *b)
{
	bool running = false;

	for (unsigned int i = 0; i < b->n; i++)
		running |= b->t[i] && b->t[i]->started;
	if (running && b->ops->quiesce) {
		struct timespec ts = { 0, FG_BK_QUIESCE_NS };

		for (unsigned int i = 0; i < b->n; i++)
			b->ops->quiesce(b->rx[i]);
		nanosleep(&ts, NULL);
	}
	for (unsigned int i = 0; i < b->n; i++)
		if (b->t[i] && b->t[i]->started)
			__atomic_store_n(&b->t[i]->stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < b->n; i++) {
		if (b->t[i] && b->t[i]->started) {
			pthread_join(b->t[i]->tid, NULL);
			b->t[i]->started = false;
		}
	}
}

int fg_backend_sync_groups(struct fg_backend *b, const struct fg_rule_entry *rules, size_t n,
			   unsigned int *joined, unsigned int *left, char *err, size_t errlen)
{
	*joined = *left = 0;
	if (b->ops->joins_groups)
		return 0;
	return fg_mcast_sync_rules(&b->mc, b->ifindex, rules, n, joined, left, err, errlen);
}

int fg_backend_thread_error(const struct fg_backend *b, unsigned int t)
{
	return t < b->n ? __atomic_load_n(&b->t[t]->err, __ATOMIC_RELAXED) : -EINVAL;
}

void fg_backend_kstats(const struct fg_backend *b, unsigned int t, struct fg_backend_kstats *out)
{
	memset(out, 0, sizeof(*out));
	if (t < b->n)
		b->ops->kstats(b->rx[t], out);
}

static void fg_bk_band_read(struct fg_tail_band *o, const struct fg_tail_band *a)
{
	o->packets = FG_BK_RD(a->packets);
	o->send_ns = FG_BK_RD(a->send_ns);
	o->held_ns = FG_BK_RD(a->held_ns);
	o->consumer_ns = FG_BK_RD(a->consumer_ns);
}

static void fg_bk_tail_read(struct fg_tail *o, const struct fg_tail *a)
{
	for (unsigned int k = 0; k < FG_TAIL_BANDS; k++) {
		fg_bk_band_read(&o->rx[k], &a->rx[k]);
		fg_bk_band_read(&o->gen[k], &a->gen[k]);
	}
	o->stalls = FG_BK_RD(a->stalls);
	o->stalls_50us = FG_BK_RD(a->stalls_50us);
	o->stall_ns = FG_BK_RD(a->stall_ns);
	o->stall_max_ns = FG_BK_RD(a->stall_max_ns);
	o->stalls_switched = FG_BK_RD(a->stalls_switched);
	o->switched_ns = FG_BK_RD(a->switched_ns);
	o->nvcsw = FG_BK_RD(a->nvcsw);
	o->nivcsw = FG_BK_RD(a->nivcsw);
	o->minflt = FG_BK_RD(a->minflt);
}

static void fg_bk_band_add(struct fg_tail_band *o, const struct fg_tail_band *a)
{
	o->packets += a->packets;
	o->send_ns += a->send_ns;
	o->held_ns += a->held_ns;
	o->consumer_ns += a->consumer_ns;
}

static void fg_bk_tail_add(struct fg_tail *o, const struct fg_tail *a)
{
	for (unsigned int k = 0; k < FG_TAIL_BANDS; k++) {
		fg_bk_band_add(&o->rx[k], &a->rx[k]);
		fg_bk_band_add(&o->gen[k], &a->gen[k]);
	}
	o->stalls += a->stalls;
	o->stalls_50us += a->stalls_50us;
	o->stall_ns += a->stall_ns;
	o->stalls_switched += a->stalls_switched;
	o->switched_ns += a->switched_ns;
	if (a->stall_max_ns > o->stall_max_ns)
		o->stall_max_ns = a->stall_max_ns;
	o->nvcsw += a->nvcsw;
	o->nivcsw += a->nivcsw;
	o->minflt += a->minflt;
}

static void fg_bk_json_bands(FILE *f, const char *name, const struct fg_tail_band *b, bool send)
{
	fprintf(f, "\"%s\":[", name);
	for (unsigned int k = 0; k < FG_TAIL_BANDS; k++) {
		fprintf(f, "%s{\"packets\":%llu,", k ? "," : "", (unsigned long long)b[k].packets);
		if (send)
			fprintf(f, "\"send_ns\":%llu,", (unsigned long long)b[k].send_ns);
		fprintf(f, "\"held_ns\":%llu,\"consumer_ns\":%llu}",
			(unsigned long long)b[k].held_ns, (unsigned long long)b[k].consumer_ns);
	}
	fputc(']', f);
}

/* "tail":{"bands_ns":[10000,100000],"rx":[...],"gen":[...],"stalls":..} */
static void fg_bk_json_tail(FILE *f, const struct fg_tail *t)
{
	fprintf(f, "\"tail\":{\"bands_ns\":[%u,%u],", FG_TAIL_BAND1_NS, FG_TAIL_BAND2_NS);
	fg_bk_json_bands(f, "rx", t->rx, false);
	fputc(',', f);
	fg_bk_json_bands(f, "gen", t->gen, true);
	fprintf(f,
		",\"stall_min_ns\":%u,\"stalls\":%llu,\"stalls_50us\":%llu,\"stall_ns\":%llu,"
		"\"stall_max_ns\":%llu,\"stalls_switched\":%llu,\"switched_ns\":%llu,"
		"\"voluntary_switches\":%llu,"
		"\"involuntary_switches\":%llu,\"minor_faults\":%llu}",
		FG_TAIL_STALL_NS, (unsigned long long)t->stalls, (unsigned long long)t->stalls_50us,
		(unsigned long long)t->stall_ns, (unsigned long long)t->stall_max_ns,
		(unsigned long long)t->stalls_switched, (unsigned long long)t->switched_ns,
		(unsigned long long)t->nvcsw, (unsigned long long)t->nivcsw,
		(unsigned long long)t->minflt);
}

static double fg_bk_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/*
 * For people: the packets at or over 10 us, what their time was made of,
 * and how often a thread that never sleeps was away from its ring.
 */
static void fg_bk_print_tail(FILE *f, const struct fg_tail *t, bool spin, bool xdp)
{
	const char *stamp = xdp ? "XDP" : "kernel";
	uint64_t n = 0, h = 0, c = 0, gn = 0, gs = 0, gh = 0, gc = 0;
	char a[32];

	for (unsigned int k = 1; k < FG_TAIL_BANDS; k++) {
		n += t->rx[k].packets;
		h += t->rx[k].held_ns;
		c += t->rx[k].consumer_ns;
		gn += t->gen[k].packets;
		gs += t->gen[k].send_ns;
		gh += t->gen[k].held_ns;
		gc += t->gen[k].consumer_ns;
	}
	fprintf(f,
		"tail %s -> consumer >= 10 us: %llu packets (%llu >= 100 us), %.0f%% of their time "
		"held before the ring, %.0f%% the consumer's\n",
		stamp, (unsigned long long)n, (unsigned long long)t->rx[2].packets,
		fg_bk_pct(h, h + c), fg_bk_pct(c, h + c));
	if (gn || t->gen[0].packets)
		fprintf(f,
			"tail generator -> consumer >= 10 us: %llu packets (%llu >= 100 us), "
			"%.0f%% "
			"send path, %.0f%% held before the ring, %.0f%% the consumer's\n",
			(unsigned long long)gn, (unsigned long long)t->gen[2].packets,
			fg_bk_pct(gs, gs + gh + gc), fg_bk_pct(gh, gs + gh + gc),
			fg_bk_pct(gc, gs + gh + gc));
	if (spin) {
		fg_fmt_ns(a, sizeof(a), t->stall_max_ns);
		fprintf(f,
			"tail consumer away >= 5 us: %llu times (%llu >= 50 us), %.3f ms in all, "
			"longest %s; %llu of them switched out (%.3f ms), the rest interrupts or "
			"the hypervisor; ",
			(unsigned long long)t->stalls, (unsigned long long)t->stalls_50us,
			(double)t->stall_ns / 1e6, t->stalls ? a : "-",
			(unsigned long long)t->stalls_switched, (double)t->switched_ns / 1e6);
	} else {
		fprintf(f, "tail ");
	}
	fprintf(f, "context switches %llu voluntary, %llu involuntary; %llu minor faults\n",
		(unsigned long long)t->nvcsw, (unsigned long long)t->nivcsw,
		(unsigned long long)t->minflt);
}

void fg_backend_snapshot(const struct fg_backend *b, unsigned int t, struct fg_rxq_stats *out)
{
	const struct fg_rxq_stats *s;
	struct fg_backend_kstats ks;

	memset(out, 0, sizeof(*out));
	if (t >= b->n)
		return;
	s = &b->t[t]->st;
	out->packets = FG_BK_RD(s->packets);
	out->bytes = FG_BK_RD(s->bytes);
	out->batches = FG_BK_RD(s->batches);
	out->empty_polls = FG_BK_RD(s->empty_polls);
	out->no_meta = FG_BK_RD(s->no_meta);
	out->gen_stamped = FG_BK_RD(s->gen_stamped);
	for (unsigned int i = 0; i < FG_MAX_RULES; i++)
		out->rule_packets[i] = FG_BK_RD(s->rule_packets[i]);
	fg_hist_snapshot(&out->xdp_lat, &s->xdp_lat);
	fg_hist_snapshot(&out->gen_lat, &s->gen_lat);
	fg_bk_tail_read(&out->tail, &s->tail);
	b->ops->kstats(b->rx[t], &ks);
	out->syscalls = ks.syscalls;
	out->bad_desc = ks.bad;
}

static void fg_bk_json_kstats(FILE *f, const struct fg_backend_kstats *k)
{
	const char *sep = "{";

#define FG_BK_JSON(n)                                                   \
	fprintf(f, "%s\"" #n "\":%llu", sep, (unsigned long long)k->n); \
	sep = ",";
	FG_BK_KSTATS(FG_BK_JSON)
#undef FG_BK_JSON
	fputc('}', f);
}

static void fg_bk_kstats_add(struct fg_backend_kstats *t, const struct fg_backend_kstats *k)
{
#define FG_BK_SUM(n) t->n += k->n;
	FG_BK_KSTATS(FG_BK_SUM)
#undef FG_BK_SUM
}

void fg_backend_json(const struct fg_backend *b, FILE *f)
{
	const struct fg_backend_opts *o = &b->o;
	struct fg_backend_kstats k, tot;
	unsigned int groups = 0;

	memset(&tot, 0, sizeof(tot));
	fprintf(f, "\"backend\":\"%s\",\"threads\":%u,\"batch\":%u,\"poll\":\"%s\",", b->ops->name,
		b->n, o->batch,
		b->ops == &fg_afxdp_ops ? fg_poll_name(o->poll)
		: o->spin		? "spin"
					: "block");
	if (b->ops == &fg_afxdp_ops)
		fprintf(f, "\"ring\":%u,\"frame_size\":%u,", o->ring ? o->ring : 2048,
			o->xsk_frame_size ? o->xsk_frame_size : 2048);
	else if (b->ops == &fg_afpacket_ops)
		fprintf(f,
			"\"block_size\":%u,\"block_count\":%u,\"frame_size\":%u,"
			"\"retire_ms\":%u,\"fanout\":\"%s\",",
			o->block_size, o->block_count, o->frame_size, o->retire_ms,
			b->n > 1 ? fg_fanout_name(o->fanout) : "none");
	else
		fprintf(f, "\"rcvbuf\":%u,\"buf_size\":%u,\"kernel_timestamps\":%s,", o->rcvbuf,
			o->buf_size, o->no_timestamps ? "false" : "true");
	if (b->ops == &fg_uring_ops)
		fprintf(f, "\"ring_buffers\":%u,", o->ring_buffers);
	if (b->ops->joins_groups)
		for (unsigned int i = 0; i < o->nfeeds; i++)
			groups += fg_mcast_is_group(o->feeds[i].family, o->feeds[i].addr) ? 1 : 0;
	else
		groups = b->mc.n;
	fprintf(f, "\"groups_joined\":%u,\"kstats\":[", groups);
	for (unsigned int i = 0; i < b->n; i++) {
		fg_backend_kstats(b, i, &k);
		fg_bk_kstats_add(&tot, &k);
		if (i)
			fputc(',', f);
		fg_bk_json_kstats(f, &k);
	}
	fprintf(f, "],\"kstats_total\":");
	fg_bk_json_kstats(f, &tot);
}

/* --- reports for `feedgate run` ----------------------------------------------------------------- */

void fg_backend_live_line(struct fg_backend *b, FILE *f, double secs, const char *note)
{
	static struct fg_hist d, tot;
	uint64_t pk = 0, by = 0, drops = 0, now = fg_now_ns();
	char line[2048], r1[32], r2[32], p50[32], p99[32], p999[32];
	struct fg_backend_kstats ks;
	double interval;
	size_t off;

	if (!b->snap) {
		b->snap = calloc(b->n, sizeof(*b->snap));
		b->prev = calloc(b->n, sizeof(*b->prev));
		b->prev_drops = calloc(b->n, sizeof(*b->prev_drops));
		if (!b->snap || !b->prev || !b->prev_drops) {
			free(b->snap);
			free(b->prev);
			free(b->prev_drops);
			b->snap = b->prev = NULL;
			b->prev_drops = NULL;
			return;
		}
		for (unsigned int i = 0; i < b->n; i++) {
			fg_hist_init(&b->prev[i].xdp_lat);
			fg_hist_init(&b->prev[i].gen_lat);
		}
		b->prev_ns = b->start_ns ? b->start_ns : now;
	}
	interval = (double)(now - b->prev_ns) / 1e9;
	if (interval <= 0)
		interval = 1;
	fg_hist_init(&tot);
	for (unsigned int i = 0; i < b->n; i++) {
		fg_backend_snapshot(b, i, &b->snap[i]);
		pk += b->snap[i].packets - b->prev[i].packets;
		by += b->snap[i].bytes - b->prev[i].bytes;
		fg_backend_kstats(b, i, &ks);
		/* over the interval, like the rates beside them */
		drops += ks.kernel_drops - b->prev_drops[i];
		b->prev_drops[i] = ks.kernel_drops;
		fg_hist_delta(&d, &b->snap[i].xdp_lat, &b->prev[i].xdp_lat);
		fg_hist_merge(&tot, &d);
	}
	fg_fmt_rate(r1, sizeof(r1), (double)pk / interval);
	fg_fmt_rate(r2, sizeof(r2), (double)by * 8 / interval);
	off = (size_t)snprintf(line, sizeof(line), "run: %.0fs %s %spps %sb/s drops %llu", secs,
			       b->ops->name, r1, r2, (unsigned long long)drops);
	if (tot.count) {
		fg_fmt_ns(p50, sizeof(p50), fg_hist_percentile(&tot, 50));
		fg_fmt_ns(p99, sizeof(p99), fg_hist_percentile(&tot, 99));
		fg_fmt_ns(p999, sizeof(p999), fg_hist_percentile(&tot, 99.9));
		off += (size_t)snprintf(line + off, sizeof(line) - off, " p50 %s p99 %s p99.9 %s",
					p50, p99, p999);
	}
	if (b->o.spin) {
		/* threads that never sleep: how often they were away from their rings */
		uint64_t n = 0, ns = 0;

		for (unsigned int i = 0; i < b->n; i++) {
			n += b->snap[i].tail.stalls - b->prev[i].tail.stalls;
			ns += b->snap[i].tail.stall_ns - b->prev[i].tail.stall_ns;
		}
		off += (size_t)snprintf(line + off, sizeof(line) - off, " stalls %llu (%.1f ms)",
					(unsigned long long)n, (double)ns / 1e6);
	}
	for (unsigned int i = 0; b->n > 1 && i < b->n && off < sizeof(line) - 64; i++) {
		fg_fmt_rate(r1, sizeof(r1),
			    (double)(b->snap[i].packets - b->prev[i].packets) / interval);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " | t%u %spps", i, r1);
	}
	if (note && off < sizeof(line))
		snprintf(line + off, sizeof(line) - off, " | %s", note);
	fprintf(f, "%s\n", line);
	for (unsigned int i = 0; i < b->n; i++)
		b->prev[i] = b->snap[i];
	b->prev_ns = now;
}

struct fg_bk_moments {
	double n, sum2;
};

static void fg_bk_moment(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum)
{
	struct fg_bk_moments *m = ctx;
	double mid = (double)low + (double)width / 2;

	(void)cum;
	m->n += (double)n;
	m->sum2 += (double)n * mid * mid;
}

/* Standard deviation from the buckets (their midpoints) and the exact mean. */
static double fg_bk_stddev(const struct fg_hist *h)
{
	struct fg_bk_moments m = { 0, 0 };
	double mean = fg_hist_mean(h), var;

	if (h->count < 2)
		return 0;
	fg_hist_foreach(h, fg_bk_moment, &m);
	var = m.sum2 / m.n - mean * mean;
	return var > 0 ? sqrt(var) : 0;
}

static void fg_bk_json_lat(FILE *f, const char *name, const struct fg_hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%llu", name, (unsigned long long)h->count);
	if (h->count)
		fprintf(f,
			",\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"min\":%llu,"
			"\"max\":%llu,\"mean\":%.0f,\"stddev\":%.0f",
			(unsigned long long)fg_hist_percentile(h, 50),
			(unsigned long long)fg_hist_percentile(h, 90),
			(unsigned long long)fg_hist_percentile(h, 99),
			(unsigned long long)fg_hist_percentile(h, 99.9), (unsigned long long)h->min,
			(unsigned long long)h->max, fg_hist_mean(h), fg_bk_stddev(h));
	fputc('}', f);
}

static void fg_bk_print_lat(FILE *f, const char *name, const struct fg_hist *h)
{
	char a[32], b[32], c[32], d[32], e[32];

	if (!h->count) {
		fprintf(f, "latency %-22s no samples\n", name);
		return;
	}
	fg_fmt_ns(a, sizeof(a), fg_hist_percentile(h, 50));
	fg_fmt_ns(b, sizeof(b), fg_hist_percentile(h, 90));
	fg_fmt_ns(c, sizeof(c), fg_hist_percentile(h, 99));
	fg_fmt_ns(d, sizeof(d), fg_hist_percentile(h, 99.9));
	fg_fmt_ns(e, sizeof(e), h->max);
	fprintf(f, "latency %-22s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%llu packets)\n", name,
		a, b, c, d, e, (unsigned long long)h->count);
}

static void fg_bk_json_bucket(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum)
{
	FILE *f = ctx;

	(void)width;
	fprintf(f, "%s[%llu,%llu]", cum == n ? "" : ",", (unsigned long long)low,
		(unsigned long long)n);
}

/* The non-empty buckets as [lower bound ns, count] pairs: enough for a CDF. */
static void fg_bk_json_buckets(FILE *f, const char *name, const struct fg_hist *h)
{
	fprintf(f, "\"%s\":[", name);
	fg_hist_foreach(h, fg_bk_json_bucket, f);
	fputc(']', f);
}

void fg_backend_summary(struct fg_backend *b, FILE *f, bool json, const char *ifname, double secs,
			const struct fg_rule_entry *rules, size_t nrules,
			void (*head)(void *ctx, FILE *f, bool json),
			void (*extra)(void *ctx, FILE *f, bool json), void *ctx)
{
	struct fg_rxq_stats *s = calloc(1, sizeof(*s)), *tot = calloc(1, sizeof(*tot));
	struct fg_backend_kstats ks, kt;
	const bool xdp = b->ops == &fg_afxdp_ops;

	if (!s || !tot) {
		free(s);
		free(tot);
		return;
	}
	memset(&kt, 0, sizeof(kt));
	fg_hist_init(&tot->xdp_lat);
	fg_hist_init(&tot->gen_lat);
	if (json) {
		fprintf(f, "{\"iface\":");
		fg_json_str(f, ifname);
		fprintf(f, ",\"duration_s\":%.3f,", secs);
		if (head)
			head(ctx, f, true);
		fg_backend_json(b, f);
		fprintf(f, ",\"queues\":[");
	} else {
		fprintf(f, "feedgate run %s: %.2f s, backend %s, %u thread%s, poll %s, batch %u\n",
			ifname, secs, b->ops->name, b->n, b->n == 1 ? "" : "s",
			xdp	    ? fg_poll_name(b->o.poll)
			: b->o.spin ? "spinning"
				    : "blocking",
			b->o.batch);
		if (head)
			head(ctx, f, false);
		fprintf(f, "%-6s %-5s %-4s %12s %14s %10s %12s %12s %10s %9s %9s\n", "thread",
			"queue", "cpu", "packets", "bytes", "batches", "syscalls", "kernel_drop",
			xdp ? "no_socket" : "truncated", "p99", "gen_p99");
	}
	for (unsigned int i = 0; i < b->n; i++) {
		fg_backend_snapshot(b, i, s);
		fg_backend_kstats(b, i, &ks);
		fg_bk_kstats_add(&kt, &ks);
		tot->packets += s->packets;
		tot->bytes += s->bytes;
		tot->batches += s->batches;
		tot->empty_polls += s->empty_polls;
		tot->syscalls += s->syscalls;
		tot->no_meta += s->no_meta;
		tot->gen_stamped += s->gen_stamped;
		for (unsigned int k = 0; k < FG_MAX_RULES; k++)
			tot->rule_packets[k] += s->rule_packets[k];
		fg_hist_merge(&tot->xdp_lat, &s->xdp_lat);
		fg_hist_merge(&tot->gen_lat, &s->gen_lat);
		fg_bk_tail_add(&tot->tail, &s->tail);
		if (json) {
			fprintf(f,
				"%s{\"thread\":%u,\"queue\":%d,\"cpu\":%d,\"mode\":\"%s\","
				"\"packets\":%llu,\"bytes\":%llu,\"batches\":%llu,\"empty_polls\":%"
				"llu,"
				"\"syscalls\":%llu,\"no_stamp\":%llu,\"gen_stamped\":%llu,"
				"\"kstats\":",
				i ? "," : "", i, xdp ? ks.queue : (int)i, b->t[i]->cpu,
				xdp ? (ks.zerocopy ? "zerocopy" : "copy") : b->ops->name,
				(unsigned long long)s->packets, (unsigned long long)s->bytes,
				(unsigned long long)s->batches, (unsigned long long)s->empty_polls,
				(unsigned long long)s->syscalls, (unsigned long long)s->no_meta,
				(unsigned long long)s->gen_stamped);
			fg_bk_json_kstats(f, &ks);
			fputc(',', f);
			fg_bk_json_lat(f, "latency_rx_ns", &s->xdp_lat);
			fputc(',', f);
			fg_bk_json_lat(f, "latency_gen_ns", &s->gen_lat);
			fputc(',', f);
			fg_bk_json_tail(f, &s->tail);
			fputc('}', f);
		} else {
			char p99[32] = "-", g99[32] = "-";

			if (s->xdp_lat.count)
				fg_fmt_ns(p99, sizeof(p99), fg_hist_percentile(&s->xdp_lat, 99));
			if (s->gen_lat.count)
				fg_fmt_ns(g99, sizeof(g99), fg_hist_percentile(&s->gen_lat, 99));
			fprintf(f,
				"%-6u %-5d %-4d %12llu %14llu %10llu %12llu %12llu %10llu %9s "
				"%9s\n",
				i, xdp ? ks.queue : (int)i, b->t[i]->cpu,
				(unsigned long long)s->packets, (unsigned long long)s->bytes,
				(unsigned long long)s->batches, (unsigned long long)s->syscalls,
				(unsigned long long)ks.kernel_drops,
				(unsigned long long)(xdp ? ks.xdp_no_socket : ks.truncated), p99,
				g99);
		}
	}
	if (json) {
		fprintf(f,
			"],\"total\":{\"packets\":%llu,\"bytes\":%llu,\"batches\":%llu,"
			"\"empty_polls\":%llu,\"syscalls\":%llu,\"no_stamp\":%llu,"
			"\"gen_stamped\":%llu,\"kstats\":",
			(unsigned long long)tot->packets, (unsigned long long)tot->bytes,
			(unsigned long long)tot->batches, (unsigned long long)tot->empty_polls,
			(unsigned long long)tot->syscalls, (unsigned long long)tot->no_meta,
			(unsigned long long)tot->gen_stamped);
		fg_bk_json_kstats(f, &kt);
		fputc(',', f);
		fg_bk_json_lat(f, "latency_rx_ns", &tot->xdp_lat);
		fputc(',', f);
		fg_bk_json_lat(f, "latency_gen_ns", &tot->gen_lat);
		fputc(',', f);
		fg_bk_json_buckets(f, "latency_rx_buckets", &tot->xdp_lat);
		fputc(',', f);
		fg_bk_json_buckets(f, "latency_gen_buckets", &tot->gen_lat);
		fputc(',', f);
		fg_bk_json_tail(f, &tot->tail);
		fprintf(f, "},\"feeds\":[");
	} else {
		fprintf(f, "%-18s %12llu %14llu %10llu %12llu %12llu %10llu\n", "total",
			(unsigned long long)tot->packets, (unsigned long long)tot->bytes,
			(unsigned long long)tot->batches, (unsigned long long)tot->syscalls,
			(unsigned long long)kt.kernel_drops,
			(unsigned long long)(xdp ? kt.xdp_no_socket : kt.truncated));
	}
	for (size_t k = 0, first = 1; k < nrules; k++) {
		char key[FG_KEY_STR_LEN], name[FG_FEED_NAME_LEN + 1];
		__u32 id = rules[k].rule.rule_id;

		if (id >= FG_MAX_RULES || (rules[k].rule.action != FG_ACTION_PASS &&
					   rules[k].rule.action != FG_ACTION_REDIRECT))
			continue;
		fg_rule_key_format(&rules[k].key, key, sizeof(key));
		fg_rule_feed_name(&rules[k].rule, name);
		if (json) {
			fprintf(f, "%s{\"rule_id\":%u,\"feed_id\":%u,\"group\":\"%s\",\"name\":",
				first ? "" : ",", id, rules[k].rule.feed_id, key);
			fg_json_str(f, name);
			fprintf(f, ",\"packets\":%llu}", (unsigned long long)tot->rule_packets[id]);
		} else {
			fprintf(f, "feed %-22s rule %-4u %-16s received %llu\n", key, id,
				name[0] ? name : "-", (unsigned long long)tot->rule_packets[id]);
		}
		first = 0;
	}
	if (json) {
		fputc(']', f);
		if (extra)
			extra(ctx, f, true);
		fprintf(f, "}\n");
	} else {
		if (xdp)
			fprintf(f,
				"AF_XDP: %llu frames stamped in the metadata, %llu in the "
				"headroom, "
				"%llu without a stamp (%llu classified by the rules, %llu matching "
				"none); rx_dropped %llu, ring_full %llu, fill_ring_empty %llu, "
				"invalid %llu, bad descriptors %llu\n",
				(unsigned long long)kt.stamp_meta,
				(unsigned long long)kt.stamp_head, (unsigned long long)kt.no_stamp,
				(unsigned long long)kt.classified,
				(unsigned long long)kt.unclassified,
				(unsigned long long)kt.rx_dropped,
				(unsigned long long)kt.rx_ring_full,
				(unsigned long long)kt.rx_fill_ring_empty,
				(unsigned long long)kt.rx_invalid_descs,
				(unsigned long long)kt.bad);
		fg_bk_print_lat(f, xdp ? "XDP -> consumer" : "kernel -> consumer", &tot->xdp_lat);
		fg_bk_print_lat(f, "generator -> consumer", &tot->gen_lat);
		fg_bk_print_tail(f, &tot->tail, b->o.spin, xdp);
		if (extra)
			extra(ctx, f, false);
	}
	fflush(f);
	free(s);
	free(tot);
}

void fg_backend_close(struct fg_backend *b)
{
	if (!b)
		return;
	fg_backend_stop(b);
	for (unsigned int i = 0; i < b->n; i++) {
		if (b->rx[i])
			b->ops->close(b->rx[i]);
		free(b->t[i]);
	}
	fg_mcast_leave(&b->mc);
	free(b->feeds);
	free(b->snap);
	free(b->prev);
	free(b->prev_drops);
	free(b);
}
