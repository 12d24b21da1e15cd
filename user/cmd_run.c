// SPDX-License-Identifier: MIT
/*
 * feedgate run IFACE: the AF_XDP consumer. Attaches the filter when it is
 * not attached, opens one AF_XDP socket per selected receive queue, puts
 * each in the filter's xsk_map and drives it from its own pinned thread
 * (user/lib/fg_rxloop.c). Frames go to a sink: the market-data pipeline
 * (--symbols / --decode), a pcap writer (--pcap), or none (count only).
 * A live stats line once a second on stderr, a summary on exit (one JSON
 * object with --json). SIGINT/SIGTERM: sockets out of the xsk_map first
 * (traffic falls back to the filter's policy), drain, summary, exit 0.
 * Exit status: 0 ok, 1 failed, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#define PCAP_DONT_INCLUDE_PCAP_BPF_H /* linux/bpf.h has its own struct bpf_insn */
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "feedgate/backend.h"
#include "feedgate/pipeline.h"
#include "fg_gen.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_mcast.h"
#include "fg_rule.h"
#include "fg_rxloop.h"
#include "fg_ftab.h"
#include "fg_json.h"
#include "fg_out.h"
#include "fg_rereq.h"
#include "fg_router.h"
#include "fg_xsk.h"

#define RUN_USAGE                                                                                 \
	"run IFACE [--queues LIST|all] [--cpus LIST] [--zero-copy auto|on|off]\n"                 \
	"               [--poll busy|spin|wakeup] [--batch N] [--ring N] [--symbols LIST]\n"      \
	"               [--backend af_xdp|af_packet|io_uring|socket] [--duration S] [--decode "   \
	"FILE|-] [--pcap FILE] "                                                                  \
	"[--json] [--itch-stamps]\n"                                                              \
	"               [--arbitrate GROUP:PORT=GROUP:PORT]... [--rerequest FEED=ADDR:PORT]...\n" \
	"               [--gap-wait US] [--hold N|BYTES]\n"                                       \
	"               af_packet: [--block-size BYTES] [--block-count N] [--frame-size BYTES]\n" \
	"                          [--retire-ms MS] [--fanout hash|cpu]\n"                        \
	"               io_uring, socket: [--rcvbuf BYTES]"

const char cmd_run_usage[] = RUN_USAGE;

#define FG_BUSY_POLL_US 20
/* Time for a NAPI poll that already looked the socket up in the xsk_map to
 * finish putting its frames on the ring, before the drain starts. */
#define FG_UNREGISTER_GRACE_NS 20000000

#define RUN_MAX_SPECS 64 /* --arbitrate / --rerequest given */

struct run_cfg {
	const char *ifname;
	const char *queues;
	const char *cpus;
	const char *symbols;
	const char *decode;
	const char *pcap;
	const char *backend;
	enum fg_zc_mode zc;
	enum fg_poll_mode poll;
	unsigned int batch;
	unsigned int ring; /* AF_XDP RX ring entries; 0 = fg_xsk's default (2048) */
	/* af_packet / socket tuning; 0 = the backend's default (checked there) */
	uint32_t block_size, block_count, frame_size, retire_ms, rcvbuf;
	enum fg_fanout_mode fanout;
	double duration;
	int json;
	int itch_stamps; /* backends: gen->consumer latency from ITCH send stamps */
	/* the feeds' sequencers */
	const char *arbitrate[RUN_MAX_SPECS];
	unsigned int narbitrate;
	const char *rerequest[RUN_MAX_SPECS]; /* "FEED=ADDR:PORT" */
	unsigned int nrerequest;
	uint64_t gap_wait_ns; /* 0: the sequencer's default */
	uint32_t hold; /* messages; 0: the sequencer's default */
};

/* --- option parsing ------------------------------------------------------------------------ */

/* "0-3,5" into out[] (sorted, no duplicates); every value < limit. */
static int parse_list(const char *what, const char *s, int *out, int max, int limit)
{
	char seen[1024] = { 0 };
	const char *p = s;
	int n = 0;

	if (limit > (int)sizeof(seen))
		limit = (int)sizeof(seen);
	while (*p) {
		char *end;
		long a, b;

		errno = 0;
		a = strtol(p, &end, 10);
		if (end == p || errno || a < 0)
			goto bad;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || errno || b < a)
				goto bad;
			p = end;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad; /* "1,": a list does not end with a comma */
		for (long v = a; v <= b; v++) {
			if (v >= limit) {
				pr_warn("run: %s %ld out of range (0-%d)\n", what, v, limit - 1);
				return -ERANGE;
			}
			seen[v] = 1;
		}
	}
	for (int v = 0; v < limit; v++) {
		if (!seen[v])
			continue;
		if (n == max) {
			pr_warn("run: too many %ss in '%s' (at most %d)\n", what, s, max);
			return -E2BIG;
		}
		out[n++] = v;
	}
	if (!n)
		goto bad;
	return n;
bad:
	pr_warn("run: '%s': want a %s list like 0-3,5\n", s, what);
	return -EINVAL;
}

static int parse_uint(const char *opt, const char *v, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
		pr_warn("run: %s '%s': want a whole number from %lu to %lu\n", opt, v, lo, hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

/*
 * --hold: messages ("65536"), or bytes of hold buffer ("4MiB", "512KiB",
 * "1048576B"; 64 bytes a message). A power of two of messages from 16 to
 * 2^24 either way.
 */
static int parse_hold(const char *v, uint32_t *out)
{
	static const struct {
		const char *suffix;
		unsigned long mult;
	} units[] = {
		{ "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 }, { "GiB", 1024ul << 20 }
	};
	char *end;
	unsigned long x, msgs;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || v[0] == '-')
		goto bad;
	msgs = x;
	if (*end) {
		size_t k;

		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (!strcmp(end, units[k].suffix))
				break;
		if (k == sizeof(units) / sizeof(units[0]) || x > (1ul << 40) / units[k].mult)
			goto bad;
		msgs = x * units[k].mult / 64;
	}
	if (msgs < 16 || msgs > (1ul << 24) || (msgs & (msgs - 1)))
		goto bad;
	*out = (uint32_t)msgs;
	return 0;
bad:
	pr_warn("run: --hold '%s': want a power of two of messages from 16 to 16777216, or of "
		"bytes with B, KiB, MiB (64 bytes a message)\n",
		v);
	return -EINVAL;
}

/* 0, 1 (--help printed) or -1 (error printed). */
static int run_parse(int argc, char **argv, struct run_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->zc = FG_ZC_AUTO;
	c->poll = FG_POLL_BUSY;
	c->batch = 64;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t len = strcspn(a, "=");
		unsigned long u;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: feedgate %s\n", RUN_USAGE);
			return 1;
		}
		if (a[0] != '-') {
			if (c->ifname) {
				pr_warn("run: unexpected argument '%s' (usage: feedgate %s)\n", a,
					RUN_USAGE);
				return -1;
			}
			c->ifname = a;
			continue;
		}
		if (!strcmp(a, "--json")) {
			c->json = 1;
			continue;
		}
		if (!strcmp(a, "--itch-stamps")) {
			c->itch_stamps = 1;
			continue;
		}
#define RUN_OPT(name) (len == strlen(name) && !strncmp(a, name, len))
		if (!(RUN_OPT("--queues") || RUN_OPT("--cpus") || RUN_OPT("--zero-copy") ||
		      RUN_OPT("--poll") || RUN_OPT("--batch") || RUN_OPT("--ring") ||
		      RUN_OPT("--block-size") || RUN_OPT("--block-count") ||
		      RUN_OPT("--frame-size") || RUN_OPT("--retire-ms") || RUN_OPT("--fanout") ||
		      RUN_OPT("--rcvbuf") || RUN_OPT("--symbols") || RUN_OPT("--backend") ||
		      RUN_OPT("--duration") || RUN_OPT("--decode") || RUN_OPT("--pcap") ||
		      RUN_OPT("--arbitrate") || RUN_OPT("--rerequest") || RUN_OPT("--gap-wait") ||
		      RUN_OPT("--hold"))) {
			pr_warn("run: unknown option '%.*s' (usage: feedgate %s)\n", (int)len, a,
				RUN_USAGE);
			return -1;
		}
		if (a[len] == '=')
			v = a + len + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		if (!v) {
			pr_warn("run: %.*s needs a value (usage: feedgate %s)\n", (int)len, a,
				RUN_USAGE);
			return -1;
		}
		if (RUN_OPT("--queues")) {
			c->queues = v;
		} else if (RUN_OPT("--cpus")) {
			c->cpus = v;
		} else if (RUN_OPT("--zero-copy")) {
			if (!strcmp(v, "auto"))
				c->zc = FG_ZC_AUTO;
			else if (!strcmp(v, "on"))
				c->zc = FG_ZC_ON;
			else if (!strcmp(v, "off"))
				c->zc = FG_ZC_OFF;
			else {
				pr_warn("run: --zero-copy '%s': use auto, on or off\n", v);
				return -1;
			}
		} else if (RUN_OPT("--poll")) {
			int m = fg_poll_parse(v);

			if (m < 0) {
				pr_warn("run: --poll '%s': use busy, spin or wakeup\n", v);
				return -1;
			}
			c->poll = (enum fg_poll_mode)m;
		} else if (RUN_OPT("--batch")) {
			if (parse_uint("--batch", v, 1, FG_RX_MAX_BATCH, &u))
				return -1;
			c->batch = (unsigned int)u;
		} else if (RUN_OPT("--ring")) {
			/* A deeper RX ring rides out longer stalls of a shared core
			 * (the fill ring and the UMEM grow with it). */
			if (parse_uint("--ring", v, 64, 16384, &u))
				return -1;
			if (u & (u - 1)) {
				pr_warn("run: --ring %s: must be a power of two (64-16384)\n", v);
				return -1;
			}
			c->ring = (unsigned int)u;
		} else if (RUN_OPT("--block-size")) {
			if (parse_uint("--block-size", v, 4096, 1ul << 30, &u))
				return -1;
			c->block_size = (uint32_t)u;
		} else if (RUN_OPT("--block-count")) {
			if (parse_uint("--block-count", v, 2, 65536, &u))
				return -1;
			c->block_count = (uint32_t)u;
		} else if (RUN_OPT("--frame-size")) {
			if (parse_uint("--frame-size", v, 128, 1ul << 20, &u))
				return -1;
			c->frame_size = (uint32_t)u;
		} else if (RUN_OPT("--retire-ms")) {
			if (parse_uint("--retire-ms", v, 1, 60000, &u))
				return -1;
			c->retire_ms = (uint32_t)u;
		} else if (RUN_OPT("--fanout")) {
			if (fg_fanout_parse(v, &c->fanout)) {
				pr_warn("run: --fanout '%s': use hash or cpu\n", v);
				return -1;
			}
		} else if (RUN_OPT("--rcvbuf")) {
			if (parse_uint("--rcvbuf", v, 65536, 1ul << 30, &u))
				return -1;
			c->rcvbuf = (uint32_t)u;
		} else if (RUN_OPT("--symbols")) {
			if (cli_symbols_check("run", v))
				return -1;
			c->symbols = v;
		} else if (RUN_OPT("--backend")) {
			c->backend = v;
		} else if (RUN_OPT("--duration")) {
			char *end;

			errno = 0;
			c->duration = strtod(v, &end);
			if (errno || end == v || *end || !(c->duration > 0) || c->duration > 1e7) {
				pr_warn("run: --duration '%s': want a number of seconds above 0, "
					"at most "
					"10000000\n",
					v);
				return -1;
			}
		} else if (RUN_OPT("--decode")) {
			c->decode = v;
		} else if (RUN_OPT("--pcap")) {
			c->pcap = v;
		} else if (RUN_OPT("--arbitrate") || RUN_OPT("--rerequest")) {
			bool arb = RUN_OPT("--arbitrate");

			if ((arb ? c->narbitrate : c->nrerequest) == RUN_MAX_SPECS) {
				pr_warn("run: at most %d %s options\n", RUN_MAX_SPECS,
					arb ? "--arbitrate" : "--rerequest");
				return -1;
			}
			if (!strchr(v, '=') || *v == '=' || strchr(v, '=')[1] == '\0') {
				pr_warn("run: %s '%s': want %s\n",
					arb ? "--arbitrate" : "--rerequest", v,
					arb ? "GROUP:PORT=GROUP:PORT" : "FEED=ADDR:PORT");
				return -1;
			}
			if (arb)
				c->arbitrate[c->narbitrate++] = v;
			else
				c->rerequest[c->nrerequest++] = v;
		} else if (RUN_OPT("--gap-wait")) {
			if (parse_uint("--gap-wait (microseconds)", v, 1, 60000000, &u))
				return -1;
			c->gap_wait_ns = (uint64_t)u * 1000;
		} else if (RUN_OPT("--hold")) {
			if (parse_hold(v, &c->hold))
				return -1;
		}
#undef RUN_OPT
	}
	if (!c->ifname) {
		pr_warn("run: missing IFACE (usage: feedgate %s)\n", RUN_USAGE);
		return -1;
	}
	if (c->backend && strcmp(c->backend, "af_xdp") && strcmp(c->backend, "af_packet") &&
	    strcmp(c->backend, "io_uring") && strcmp(c->backend, "socket")) {
		pr_warn("run: --backend '%s': use af_xdp, af_packet, io_uring or socket\n",
			c->backend);
		return -1;
	}
	if (c->pcap && (c->symbols || c->decode)) {
		/* one sink per receive thread: the capture, or the pipeline */
		pr_warn("run: --pcap writes what arrives; it does not go with --symbols or "
			"--decode "
			"(replay the capture for those)\n");
		return -1;
	}
	return 0;
}

/* --- pcap sink ----------------------------------------------------------------------------- */

/*
 * Each receive thread copies its frames into its own single-producer ring
 * (no lock, no stdio on the receive path); one writer thread drains the
 * rings into the file with libpcap. A full ring drops the copy, counted.
 */
#define PCAP_SLOTS 4096
#define PCAP_SNAP 2048

struct pcap_slot {
	uint32_t len;
	uint32_t caplen;
	uint64_t ts_ns;
	uint8_t data[PCAP_SNAP];
};

struct pcap_ring {
	struct pcap_slot *slots;
	uint32_t head __attribute__((aligned(FG_CACHELINE))); /* written by the receive thread */
	uint64_t dropped;
	uint32_t tail __attribute__((aligned(FG_CACHELINE))); /* written by the writer */
};

struct pcap_writer {
	pcap_t *pd;
	pcap_dumper_t *dumper;
	struct pcap_ring rings[FG_MAX_QUEUES];
	unsigned int nrings;
	int64_t mono_to_real_ns;
	uint64_t written;
	uint64_t dropped; /* summed from the rings when closing */
	int stop;
	pthread_t tid;
	bool started;
};

static void pcap_sink_batch(void *ctx, const struct fg_frame *frames, unsigned int n)
{
	struct pcap_ring *r = ctx;
	uint32_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < n; i++) {
		struct pcap_slot *s;

		if (head - tail == PCAP_SLOTS) {
			__atomic_store_n(&r->dropped, r->dropped + (n - i), __ATOMIC_RELAXED);
			break;
		}
		s = &r->slots[head % PCAP_SLOTS];
		s->len = frames[i].len;
		s->caplen = frames[i].len < PCAP_SNAP ? frames[i].len : PCAP_SNAP;
		s->ts_ns = frames[i].xdp_ns ? frames[i].xdp_ns : frames[i].take_ns;
		memcpy(s->data, frames[i].data, s->caplen);
		head++;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
}

static unsigned int pcap_drain(struct pcap_writer *w)
{
	unsigned int done = 0;

	for (unsigned int q = 0; q < w->nrings; q++) {
		struct pcap_ring *r = &w->rings[q];
		uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail;

		while (tail != head) {
			const struct pcap_slot *s = &r->slots[tail % PCAP_SLOTS];
			int64_t real = (int64_t)s->ts_ns + w->mono_to_real_ns;
			struct pcap_pkthdr h = {
				.ts = { .tv_sec = real / 1000000000, .tv_usec = real % 1000000000 },
				.caplen = s->caplen,
				.len = s->len,
			};

			pcap_dump((u_char *)w->dumper, &h, s->data);
			tail++;
			done++;
		}
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	w->written += done;
	return done;
}

static void *pcap_writer_main(void *arg)
{
	struct pcap_writer *w = arg;
	struct timespec ts = { 0, 1000000 };

	for (;;) {
		int stop = __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);

		if (!pcap_drain(w)) {
			if (stop)
				break;
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static int pcap_writer_open(struct pcap_writer *w, const char *path, unsigned int nrings)
{
	struct timespec mono, real;

	memset(w, 0, sizeof(*w));
	w->nrings = nrings;
	for (unsigned int q = 0; q < nrings; q++) {
		w->rings[q].slots = calloc(PCAP_SLOTS, sizeof(struct pcap_slot));
		if (!w->rings[q].slots) {
			pr_warn("run: --pcap: Couldn't allocate the capture buffers: %s\n",
				strerror(ENOMEM));
			return -ENOMEM;
		}
	}
	w->pd = pcap_open_dead_with_tstamp_precision(1 /* DLT_EN10MB */, 65535,
						     PCAP_TSTAMP_PRECISION_NANO);
	if (!w->pd) {
		pr_warn("run: --pcap: Couldn't set up libpcap\n");
		return -ENOMEM;
	}
	w->dumper = pcap_dump_open(w->pd, path);
	if (!w->dumper) {
		pr_warn("run: --pcap '%s': %s\n", path, pcap_geterr(w->pd));
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	w->mono_to_real_ns =
		((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
	return 0;
}

static uint64_t pcap_dropped(const struct pcap_writer *w)
{
	uint64_t d = w->dropped;

	for (unsigned int q = 0; q < w->nrings; q++)
		d += __atomic_load_n(&w->rings[q].dropped, __ATOMIC_RELAXED);
	return d;
}

static void run_pcap_json_members(FILE *f, const char *path, uint64_t written, uint64_t dropped)
{
	fprintf(f, ",\"pcap\":{\"file\":");
	fg_json_str(f, path);
	fprintf(f, ",\"written\":%llu,\"dropped\":%llu}", (unsigned long long)written,
		(unsigned long long)dropped);
}

static void pcap_writer_close(struct pcap_writer *w)
{
	if (w->started) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pthread_join(w->tid, NULL);
		w->started = false;
	}
	if (w->dumper)
		pcap_dump_close(w->dumper);
	if (w->pd)
		pcap_close(w->pd);
	w->dumper = NULL;
	w->pd = NULL;
	w->dropped = pcap_dropped(w);
	for (unsigned int q = 0; q < w->nrings; q++)
		free(w->rings[q].slots);
	w->nrings = 0;
}

/* --- interface settings busy polling depends on ------------------------------------------ */

/*
 * Read /sys/class/net/IFACE/ATTR of the interface in *our* network
 * namespace. /sys shows the namespace it was mounted in (nsenter keeps the
 * host's), so outside the initial namespace a child process mounts a sysfs
 * of its own in a private mount namespace, as `ip netns exec` does.
 */
static int netdev_attr_read(const char *ifname, const char *attr, char *buf, size_t len)
{
	struct stat self, init;
	char path[128];
	int pfd[2], fd;
	ssize_t n = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	if (!stat("/proc/self/ns/net", &self) && !stat("/proc/1/ns/net", &init) &&
	    self.st_ino == init.st_ino && self.st_dev == init.st_dev) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, buf, len - 1);
		close(fd);
	} else {
		if (pipe(pfd))
			return -errno;
		pid = fork();
		if (pid < 0) {
			close(pfd[0]);
			close(pfd[1]);
			return -errno;
		}
		if (!pid) {
			close(pfd[0]);
			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) ||
			    umount2("/sys", MNT_DETACH) || mount("sysfs", "/sys", "sysfs", 0, NULL))
				_exit(1);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				_exit(1);
			n = read(fd, buf, len - 1);
			if (n > 0 && write(pfd[1], buf, (size_t)n) != n)
				_exit(1);
			_exit(0);
		}
		close(pfd[1]);
		n = read(pfd[0], buf, len - 1);
		close(pfd[0]);
		waitpid(pid, NULL, 0);
	}
	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* --- the run ------------------------------------------------------------------------------- */

struct run_queue {
	struct fg_rxq rxq; /* first: it is cache-line aligned */
	bool registered;
	struct fg_queue_stats xdp_start, xdp_end;
	struct xdp_statistics xsk_end;
	struct xdp_statistics xs_prev; /* at the last live line */
};

/*
 * What every receive thread hands its batches to, whatever the backend: the
 * pipeline of the thread (lines by rule id, so that a feed's A and B lines
 * are one stream), behind the router that gives each feed to one thread
 * (fg_router.h), writing --decode through its own stream of the one
 * line-atomic output (fg_out.h); or the pcap writer's ring; or nothing.
 */
struct run_sinks {
	unsigned int n;
	struct fg_pipeline *pipe[FG_MAX_QUEUES];
	FILE *dec[FG_MAX_QUEUES];
	struct fg_router *router;
	struct fg_sink sink[FG_MAX_QUEUES];
	struct fg_pipeline_line *lines;
	unsigned int nlines;
	char (*names)[2 * FG_KEY_STR_LEN + 2];
	char (*groups)[FG_KEY_STR_LEN];
	struct fg_pipeline_rerequest rr[RUN_MAX_SPECS];
	struct fg_rereq rq[RUN_MAX_SPECS];
	struct fg_rule_key rr_key[RUN_MAX_SPECS]; /* the pass rules that let replies in */
	bool rr_rule[RUN_MAX_SPECS];
	unsigned int nrr;
};

struct run {
	struct run_cfg cfg;
	struct fg_filter_handle h;
	bool attached_here;
	bool iface_gone; /* the interface was deleted under the run (issue 6) */
	int ifindex;
	unsigned int nq;
	struct run_queue *q[FG_MAX_QUEUES];
	struct pcap_writer *pcap;
	struct fg_rule_stats *rule_start; /* [FG_MAX_RULES] */
	char napi_defer[32], gro_flush[32], threaded[32];
	uint64_t start_ns, end_ns;
	struct fg_rxq_stats *snap, *prev; /* live line scratch, [nq] */
	struct fg_backend *bk; /* --backend other than af_xdp */
	struct fg_mcast mc; /* af_xdp: the feed groups, joined for the run */
	struct fg_config xdp_cfg; /* af_xdp: the filter's settings at the start (stamp cookie) */
	struct run_sinks sk;
	struct fg_out *out; /* --decode */
	bool out_closed; /* --decode -: the reader went away (EPIPE) */
	struct fg_ftab_live ftab; /* af_xdp: rules for frames without a stamp, kept current */
	uint64_t ftab_checked_ns;
	bool mc_live; /* af_xdp: memberships follow the rules while the run lasts */
	int use_fd; /* af_xdp: our share of the filter (fg_iface_use), -1: none */
	bool filter_gone; /* af_xdp: the filter was detached under the run */
	unsigned int redirects; /* redirect rules in force (af_xdp: nothing arrives without one) */
};

/* --- the sinks: pipelines, router, decode output ------------------------------------------- */

/* Where the summary goes: standard error when --decode - owns standard output. */
static FILE *run_summary_file(const struct run *r)
{
	return r->cfg.decode && !strcmp(r->cfg.decode, "-") ? stderr : stdout;
}

/* Index of the line whose rule key is spec ("239.1.1.1:5000"), or -1 (printed). */
static int run_line_of(struct run_sinks *sk, const struct fg_rule_entry *rules, size_t nrules,
		       const char *spec, const char *opt)
{
	struct fg_rule_key k;
	char err[FG_ERR_LEN];

	if (fg_rule_key_parse(spec, &k, err, sizeof(err))) {
		pr_warn("run: %s: '%s': %s\n", opt, spec, err);
		return -1;
	}
	for (unsigned int i = 0; i < sk->nlines; i++)
		for (size_t j = 0; j < nrules; j++)
			if (rules[j].rule.rule_id == sk->lines[i].rule_id &&
			    !memcmp(&rules[j].key, &k, sizeof(k)))
				return (int)i;
	pr_warn("run: %s: no pass or redirect rule for %s on this interface (feedgate rule add)\n",
		opt, spec);
	return -1;
}

/* The lines of the rules, --arbitrate pairs joined, --rerequest sockets open. 0 or -1. */
static int run_sinks_lines(struct run *r, const struct fg_rule_entry *rules, size_t nrules)
{
	struct run_sinks *sk = &r->sk;
	char err[256];

	sk->lines = calloc(nrules ? nrules : 1, sizeof(*sk->lines));
	sk->names = calloc(nrules ? nrules : 1, sizeof(*sk->names));
	sk->groups = calloc(nrules ? nrules : 1, sizeof(*sk->groups));
	if (!sk->lines || !sk->names || !sk->groups) {
		pr_warn("run: %s\n", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < nrules; i++) {
		const struct fg_rule_entry *e = &rules[i];
		struct fg_pipeline_line *l = &sk->lines[sk->nlines];
		char name[FG_FEED_NAME_LEN + 1];

		if (e->rule.action != FG_ACTION_PASS && e->rule.action != FG_ACTION_REDIRECT)
			continue;
		fg_rule_key_format(&e->key, sk->groups[sk->nlines], sizeof(sk->groups[0]));
		fg_rule_feed_name(&e->rule, name);
		snprintf(sk->names[sk->nlines], sizeof(sk->names[0]), "%s", name);
		l->rule_id = e->rule.rule_id;
		l->feed_id = e->rule.feed_id;
		l->group = sk->groups[sk->nlines];
		l->feed = name[0] ? sk->names[sk->nlines] : NULL;
		sk->nlines++;
	}
	for (unsigned int i = 0; i < r->cfg.narbitrate; i++) {
		char a[128];
		const char *spec = r->cfg.arbitrate[i], *eq = strchr(spec, '=');
		int la, lb;

		snprintf(a, sizeof(a), "%.*s", (int)(eq - spec), spec);
		la = run_line_of(sk, rules, nrules, a, "--arbitrate");
		lb = la < 0 ? -1 : run_line_of(sk, rules, nrules, eq + 1, "--arbitrate");
		if (la < 0 || lb < 0)
			return -1;
		if (la == lb) {
			pr_warn("run: --arbitrate '%s': both lines are the same rule\n", spec);
			return -1;
		}
		/* One feed: B takes A's id (and name; an unnamed pair is "A=B"). */
		if (!sk->lines[la].feed) {
			snprintf(sk->names[la], sizeof(sk->names[0]), "%s=%s", sk->lines[la].group,
				 sk->lines[lb].group);
			sk->lines[la].feed = sk->names[la];
		}
		sk->lines[lb].feed_id = sk->lines[la].feed_id;
		sk->lines[lb].feed = sk->lines[la].feed;
	}
	for (unsigned int i = 0; i < r->cfg.nrerequest; i++) {
		const char *spec = r->cfg.rerequest[i], *eq = strchr(spec, '=');
		struct fg_rule rule = { .action = FG_ACTION_PASS };
		struct fg_rule_key *k = &sk->rr_key[i];
		char feed[128];
		bool known = false;

		snprintf(feed, sizeof(feed), "%.*s", (int)(eq - spec), spec);
		for (unsigned int j = 0; j < sk->nlines; j++)
			if (!strcmp(sk->lines[j].feed ? sk->lines[j].feed : sk->lines[j].group,
				    feed))
				known = true;
		if (!known) {
			pr_warn("run: --rerequest '%s': no feed named '%s' (rule add ... --feed "
				"%s)\n",
				spec, feed, feed);
			return -1;
		}
		if (fg_rereq_open(eq + 1, &sk->rq[i], err, sizeof(err))) {
			pr_warn("run: --rerequest: %s\n", err);
			return -1;
		}
		sk->nrr = i + 1;
		sk->rr[i].feed = spec; /* the name, up to '=': copied below */
		sk->rr[i].fd = sk->rq[i].fd;
		/* Replies come to the socket's port on this host: through the filter
		 * whatever its policy, for the run only. */
		memset(k, 0, sizeof(*k));
		k->family = sk->rq[i].family == AF_INET6 ? FG_FAMILY_IPV6 : FG_FAMILY_IPV4;
		k->dport = htons(sk->rq[i].local_port);
		if (fg_rule_insert(&r->h, k, &rule))
			return -1;
		sk->rr_rule[i] = true;
	}
	return 0;
}

static char run_rr_names[RUN_MAX_SPECS][128];

/*
 * The pipeline runs when something needs it: symbols, decoding, a
 * re-request server, --arbitrate or its knobs, or a feed with two lines or
 * more (A and B: one sequencer must join them). A plain capture of
 * single-line feeds only counts, as fast as the rings go.
 */
static bool run_wants_pipeline(const struct run *r, const struct fg_rule_entry *rules,
			       size_t nrules)
{
	if (r->cfg.pcap)
		return false;
	if (r->cfg.symbols || r->cfg.decode || r->cfg.nrerequest || r->cfg.narbitrate ||
	    r->cfg.gap_wait_ns || r->cfg.hold)
		return true;
	for (size_t i = 0; i < nrules; i++) {
		if (rules[i].rule.action != FG_ACTION_REDIRECT &&
		    rules[i].rule.action != FG_ACTION_PASS)
			continue;
		for (size_t j = i + 1; j < nrules; j++)
			if ((rules[j].rule.action == FG_ACTION_REDIRECT ||
			     rules[j].rule.action == FG_ACTION_PASS) &&
			    rules[j].rule.feed_id == rules[i].rule.feed_id)
				return true;
	}
	return false;
}

/* Pipelines (or the pcap rings) for n receive threads, and the router. 0 or -1 (printed). */
static int run_sinks_make(struct run *r, unsigned int n, const struct fg_rule_entry *rules,
			  size_t nrules)
{
	struct run_sinks *sk = &r->sk;
	char err[256];

	sk->n = n;
	if (!run_wants_pipeline(r, rules, nrules)) {
		for (unsigned int i = 0; i < n; i++) {
			memset(&sk->sink[i], 0, sizeof(sk->sink[i]));
			if (r->pcap) {
				sk->sink[i].ctx = &r->pcap->rings[i];
				sk->sink[i].on_batch = pcap_sink_batch;
			}
		}
		return 0;
	}
	if (run_sinks_lines(r, rules, nrules))
		return -1;
	for (unsigned int i = 0; i < sk->nrr; i++) {
		snprintf(run_rr_names[i], sizeof(run_rr_names[i]), "%.*s",
			 (int)(strchr(r->cfg.rerequest[i], '=') - r->cfg.rerequest[i]),
			 r->cfg.rerequest[i]);
		sk->rr[i].feed = run_rr_names[i];
	}
	if (r->cfg.decode) {
		if (fg_out_open(r->cfg.decode, &r->out, err, sizeof(err))) {
			pr_warn("run: --decode: %s\n", err);
			return -1;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct fg_pipeline_config pc = {
			.symbols = r->cfg.symbols,
			.lines = sk->lines,
			.nlines = sk->nlines,
			.rerequest = sk->rr,
			.nrerequest = sk->nrr,
			.gap_window_ns =
				r->cfg.gap_wait_ns ? r->cfg.gap_wait_ns : FG_SEQR_DEF_GAP_WAIT_NS,
			.hold = r->cfg.hold,
		};

		if (r->out) {
			sk->dec[i] = fg_out_stream(r->out);
			if (!sk->dec[i]) {
				pr_warn("run: --decode: %s\n", strerror(ENOMEM));
				return -1;
			}
			pc.decode = sk->dec[i];
		}
		if (fg_pipeline_new(&pc, &sk->pipe[i]))
			return -1;
	}
	if (n > 1 && fg_router_new(n, 0, &sk->router)) {
		pr_warn("run: Couldn't set up the rings between the receive threads: %s\n",
			strerror(ENOMEM));
		return -1;
	}
	/* --arbitrate: B's frames go where A's go */
	for (unsigned int i = 0; sk->router && i < sk->nlines; i++)
		for (size_t j = 0; j < nrules; j++)
			if (rules[j].rule.rule_id == sk->lines[i].rule_id &&
			    rules[j].rule.feed_id != sk->lines[i].feed_id)
				fg_router_alias(sk->router, rules[j].rule.feed_id,
						sk->lines[i].feed_id);
	for (unsigned int i = 0; i < n; i++)
		sk->sink[i] = sk->router
				      ? fg_router_sink(sk->router, i, fg_pipeline_sink(sk->pipe[i]))
				      : fg_pipeline_sink(sk->pipe[i]);
	return 0;
}

/* After the threads stopped: holes reported, decode output flushed and closed. */
static void run_sinks_finish(struct run *r)
{
	for (unsigned int i = 0; i < r->sk.n; i++)
		if (r->sk.pipe[i])
			fg_pipeline_finish(r->sk.pipe[i]);
	if (r->out)
		fg_out_close(r->out);
}

static void run_sinks_free(struct run *r)
{
	struct run_sinks *sk = &r->sk;

	for (unsigned int i = 0; i < FG_MAX_QUEUES; i++) {
		if (sk->pipe[i])
			fg_pipeline_free(sk->pipe[i]);
		sk->pipe[i] = NULL;
	}
	fg_out_free(r->out); /* closes the threads' streams too */
	r->out = NULL;
	fg_router_free(sk->router);
	for (unsigned int i = 0; i < sk->nrr; i++) {
		if (sk->rr_rule[i])
			fg_rule_remove(&r->h, &sk->rr_key[i]);
		fg_rereq_close(&sk->rq[i]);
	}
	free(sk->lines);
	free(sk->names);
	free(sk->groups);
	memset(sk, 0, sizeof(*sk));
}

/*
 * Per feed, the sequencing of the thread that owned it (the other threads'
 * copies of the stream saw nothing), then per thread the pipeline, the
 * router and the decode output. JSON: members for the caller's object.
 */
static void run_sinks_summary(struct run *r, FILE *f, bool json)
{
	struct run_sinks *sk = &r->sk;
	unsigned int ns = sk->pipe[0] ? fg_pipeline_nstreams(sk->pipe[0]) : 0;
	bool first = true;

	if (!sk->pipe[0])
		return;
	if (json)
		fprintf(f, ",\"feeds_sequenced\":[");
	for (unsigned int s = 0; s < ns; s++) {
		unsigned int best = 0;
		uint64_t most = 0;

		for (unsigned int i = 0; i < sk->n; i++) {
			uint64_t pk = s < fg_pipeline_nstreams(sk->pipe[i])
					      ? fg_pipeline_stream_packets(sk->pipe[i], s)
					      : 0;

			if (pk > most) {
				most = pk;
				best = i;
			}
		}
		if (!most)
			continue;
		if (json) {
			fprintf(f, "%s", first ? "" : ",");
			fg_pipeline_stream_json(sk->pipe[best], s, f);
		} else {
			fg_pipeline_stream_print(sk->pipe[best], s, f);
		}
		first = false;
	}
	if (json)
		fputc(']', f);
	if (sk->router) {
		struct fg_router_stats t = { 0 }, one;

		for (unsigned int i = 0; i < sk->n; i++) {
			fg_router_get_stats(sk->router, i, &one);
			t.forwarded += one.forwarded;
			t.ring_full += one.ring_full;
			t.too_long += one.too_long;
		}
		if (json)
			fprintf(f,
				",\"router\":{\"forwarded\":%llu,\"ring_full\":%llu,\"too_long\":%"
				"llu}",
				(unsigned long long)t.forwarded, (unsigned long long)t.ring_full,
				(unsigned long long)t.too_long);
		else
			fprintf(f,
				"threads     %llu frames handed to the thread of their feed, %llu "
				"dropped (ring full %llu, too long %llu)\n",
				(unsigned long long)t.forwarded,
				(unsigned long long)(t.ring_full + t.too_long),
				(unsigned long long)t.ring_full, (unsigned long long)t.too_long);
	}
	if (json)
		fprintf(f, ",\"pipeline\":[");
	for (unsigned int i = 0; i < sk->n; i++) {
		if (json) {
			char *buf = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&buf, &len);

			if (!m)
				continue;
			fg_pipeline_summary_json(sk->pipe[i], m);
			fclose(m);
			while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
				len--;
			fprintf(f, "%s%.*s", i ? "," : "", (int)len, buf);
			free(buf);
		} else {
			if (sk->n > 1)
				fprintf(f, "pipeline of thread %u:\n", i);
			fg_pipeline_summary_print(sk->pipe[i], f);
		}
	}
	if (json)
		fputc(']', f);
	if (r->out) {
		struct fg_out_result o;

		fg_out_result(r->out, &o);
		if (json)
			fprintf(f,
				",\"decode\":{\"lines\":%llu,\"lost\":%llu,\"bytes\":%llu,"
				"\"error\":%s%s%s}",
				(unsigned long long)o.lines, (unsigned long long)o.lost,
				(unsigned long long)o.bytes, o.err ? "\"" : "",
				o.err ? strerror(o.err) : "null", o.err ? "\"" : "");
	}
}

/* The decode output's fate: one line when it failed; the exit status it asks for. */
static int run_out_status(struct run *r)
{
	struct fg_out_result o;
	char line[512];

	if (!r->out)
		return 0;
	fg_out_result(r->out, &o);
	if (!o.err)
		return 0;
	fg_out_describe(&o, line, sizeof(line));
	pr_warn("run: --decode %s\n", line);
	/* standard output closed by its reader (head): the normal end of a pipeline */
	return o.err == EPIPE ? 0 : 1;
}

static const char *zc_name(enum fg_zc_mode m)
{
	return m == FG_ZC_ON ? "on" : m == FG_ZC_OFF ? "off" : "auto";
}

static bool run_all_zerocopy(const struct run *r)
{
	for (unsigned int i = 0; i < r->nq; i++)
		if (!r->q[i]->rxq.xsk.zerocopy)
			return false;
	return true;
}

static bool run_any_zerocopy(const struct run *r)
{
	for (unsigned int i = 0; i < r->nq; i++)
		if (r->q[i]->rxq.xsk.zerocopy)
			return true;
	return false;
}

static const char *run_mode_name(const struct run *r)
{
	if (run_all_zerocopy(r))
		return "zerocopy";
	return run_any_zerocopy(r) ? "mixed" : "copy";
}

/* CPUs this process may run on, in order. */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/* Queue and CPU selection. 0 or -1 (printed). */
static int run_select(struct run *r, int *queues, int *cpus)
{
	int nq_dev = fg_iface_rx_queues(r->cfg.ifname), n, ncpu, allowed[1024], list[1024];

	if (nq_dev > FG_MAX_QUEUES)
		nq_dev = FG_MAX_QUEUES;
	if (!r->cfg.queues || !strcmp(r->cfg.queues, "all")) {
		n = nq_dev;
		for (int i = 0; i < n; i++)
			queues[i] = i;
	} else {
		n = parse_list("queue", r->cfg.queues, queues, FG_MAX_QUEUES, 1024);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			if (queues[i] >= nq_dev) {
				pr_warn("run: %s: queue %d out of range (%d receive queue%s: "
					"0-%d)\n",
					r->cfg.ifname, queues[i], nq_dev, nq_dev == 1 ? "" : "s",
					nq_dev - 1);
				return -1;
			}
		}
	}
	ncpu = allowed_cpus(allowed, 1024);
	if (r->cfg.cpus) {
		int m = parse_list("cpu", r->cfg.cpus, list, 1024, CPU_SETSIZE);

		if (m < 0)
			return -1;
		for (int i = 0; i < m; i++) {
			bool ok = false;

			for (int j = 0; j < ncpu; j++)
				ok |= allowed[j] == list[i];
			if (!ok) {
				pr_warn("run: --cpus: CPU %d is not available to this process\n",
					list[i]);
				return -1;
			}
		}
		for (int i = 0; i < n; i++)
			cpus[i] = list[i % m];
	} else if (ncpu <= 0) {
		for (int i = 0; i < n; i++)
			cpus[i] = -1;
	} else {
		/* One CPU per queue, keeping off CPU 0 (where housekeeping and
		 * most interrupts land) when there are CPUs to spare. */
		int first = ncpu > n && allowed[0] == 0 ? 1 : 0, avail = ncpu - first;

		for (int i = 0; i < n; i++)
			cpus[i] = allowed[first + i % avail];
	}
	return n;
}

static void run_close_queues(struct run *r)
{
	for (unsigned int i = 0; i < r->nq; i++) {
		struct run_queue *q = r->q[i];

		if (!q)
			continue;
		if (q->registered) {
			__u32 key = q->rxq.xsk.queue;

			bpf_map_delete_elem(r->h.map_xsk, &key);
			q->registered = false;
		}
		fg_rxq_stop(&q->rxq);
		fg_xsk_close(&q->rxq.xsk);
		free(q);
		r->q[i] = NULL;
	}
}

/*
 * The rules in force as the receive threads' feed table, for frames that
 * come without a stamp (stamp mode none, or a frame the program could not
 * stamp). Called at the start and every FG_FTAB_REFRESH_NS while the run
 * lasts; a table is replaced only when the rules changed. 0 or -errno.
 */
#define FG_FTAB_REFRESH_NS 250000000ull

static int run_ftab_refresh(struct run *r)
{
	static struct fg_backend_feed feeds[FG_BACKEND_MAX_FEEDS];
	struct fg_rule_entry *rules = NULL;
	struct fg_ftab *t;
	size_t nrules = 0;
	unsigned int n, joined, left;
	char err[256];
	int ret;

	ret = fg_rule_list(&r->h, &rules, &nrules);
	if (ret)
		return ret;
	r->redirects = 0;
	for (size_t i = 0; i < nrules; i++)
		r->redirects += rules[i].rule.action == FG_ACTION_REDIRECT;
	n = fg_backend_feeds_from_rules(rules, nrules, feeds, FG_BACKEND_MAX_FEEDS);
	if (!fg_ftab_same(__atomic_load_n(&r->ftab.cur, __ATOMIC_ACQUIRE), feeds, n)) {
		/* The rules changed: memberships follow (a rule added live must be
		 * joined, or a NIC's multicast filter never lets its feed in). */
		if (r->mc_live) {
			ret = fg_mcast_sync_rules(&r->mc, r->ifindex, rules, nrules, &joined, &left,
						  err, sizeof(err));
			if (ret)
				pr_warn("run: %s: %s\n", r->cfg.ifname, err);
			else if (joined || left)
				pr_info("run: %s: rules changed: joined %u group%s, left %u\n",
					r->cfg.ifname, joined, joined == 1 ? "" : "s", left);
		}
		ret = fg_ftab_build(feeds, n, &t);
		if (!ret) {
			ret = fg_ftab_live_publish(&r->ftab, t);
			if (ret)
				fg_ftab_free(t); /* a reader still holds the last one: next tick */
		}
	}
	free(rules);
	return ret;
}

/* Sockets, sinks, registration. 0 or -1 (printed). */
static int run_setup_queues(struct run *r, const int *queues, const int *cpus, unsigned int n)
{
	char err[256];
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		struct fg_xsk_config xc = {
			.ifindex = r->ifindex,
			.queue = (uint32_t)queues[i],
			.zc = r->cfg.zc,
			.need_wakeup = r->cfg.poll != FG_POLL_SPIN,
			.rx_size = r->cfg.ring,
		};
		struct run_queue *q;

		if (posix_memalign((void **)&q, FG_CACHELINE, sizeof(*q))) {
			pr_warn("run: %s\n", strerror(ENOMEM));
			return -1;
		}
		memset(q, 0, sizeof(*q));
		r->q[i] = q;
		r->nq = i + 1;
		q->rxq.cpu = cpus[i];
		q->rxq.poll = r->cfg.poll;
		q->rxq.batch = r->cfg.batch;
		q->rxq.cookie = r->xdp_cfg.stamp_cookie;
		q->rxq.ftab = &r->ftab;
		q->rxq.ftab_reader = fg_ftab_live_reader(&r->ftab);
		ret = fg_xsk_open(&xc, &q->rxq.xsk, err, sizeof(err));
		if (ret) {
			q->rxq.xsk.fd = -1;
			pr_warn("run: %s: %s\n", r->cfg.ifname, err);
			return -1;
		}
		if (fg_rxq_setup_poll(&q->rxq, FG_BUSY_POLL_US, err, sizeof(err))) {
			pr_warn("run: %s: %s\n", r->cfg.ifname, err);
			return -1;
		}
		q->rxq.sink = r->sk.sink[i];
	}
	/* Counters before the sockets get traffic: the run's share is the
	 * difference at the end. */
	for (unsigned int i = 0; i < n; i++)
		if (fg_queue_stats_read(&r->h, (__u32)queues[i], &r->q[i]->xdp_start))
			return -1;
	for (unsigned int i = 0; i < n; i++) {
		struct run_queue *q = r->q[i];
		__u32 key = (__u32)queues[i];
		int fd = q->rxq.xsk.fd;

		if (bpf_map_update_elem(r->h.map_xsk, &key, &fd, BPF_ANY)) {
			pr_warn("run: %s: Couldn't register the socket of queue %u in xsk_map: "
				"%s\n",
				r->cfg.ifname, key, strerror(errno));
			return -1;
		}
		q->registered = true;
	}
	return 0;
}

/* The live stats line: rates and latencies over the last interval. */
static void run_live_line(struct run *r, double secs, double interval)
{
	static struct fg_hist lat, tot, one;
	uint64_t pk = 0, by = 0, drop = 0, full = 0, fqe = 0, inv = 0;
	char line[2048], a[32], b[32], c[32], d[32];
	size_t off;

	fg_hist_init(&tot);
	for (unsigned int i = 0; i < r->nq; i++) {
		struct xdp_statistics xs;

		fg_rxq_snapshot(&r->q[i]->rxq, &r->snap[i]);
		pk += r->snap[i].packets - r->prev[i].packets;
		by += r->snap[i].bytes - r->prev[i].bytes;
		if (!fg_xsk_stats(&r->q[i]->rxq.xsk, &xs)) {
			/* over the interval, like the rates beside them */
			struct xdp_statistics *p = &r->q[i]->xs_prev;

			drop += xs.rx_dropped - p->rx_dropped;
			full += xs.rx_ring_full - p->rx_ring_full;
			fqe += xs.rx_fill_ring_empty_descs - p->rx_fill_ring_empty_descs;
			inv += xs.rx_invalid_descs - p->rx_invalid_descs;
			*p = xs;
		}
		fg_hist_delta(&lat, &r->snap[i].xdp_lat, &r->prev[i].xdp_lat);
		fg_hist_merge(&tot, &lat);
	}
	fg_fmt_rate(a, sizeof(a), (double)pk / interval);
	fg_fmt_rate(b, sizeof(b), (double)by * 8 / interval);
	off = (size_t)snprintf(line, sizeof(line),
			       "run: %.0fs %spps %sb/s (last second: drop %llu full %llu "
			       "fq_empty %llu inv %llu)",
			       secs, a, b, (unsigned long long)drop, (unsigned long long)full,
			       (unsigned long long)fqe, (unsigned long long)inv);
	if (tot.count) {
		fg_fmt_ns(a, sizeof(a), fg_hist_percentile(&tot, 50));
		fg_fmt_ns(c, sizeof(c), fg_hist_percentile(&tot, 99));
		fg_fmt_ns(d, sizeof(d), fg_hist_percentile(&tot, 99.9));
		off += (size_t)snprintf(line + off, sizeof(line) - off, " p50 %s p99 %s p99.9 %s",
					a, c, d);
	}
	if (r->nq > 1) {
		for (unsigned int i = 0; i < r->nq && off < sizeof(line) - 64; i++) {
			uint64_t qp = r->snap[i].packets - r->prev[i].packets;

			fg_fmt_rate(a, sizeof(a), (double)qp / interval);
			fg_hist_delta(&one, &r->snap[i].xdp_lat, &r->prev[i].xdp_lat);
			fg_fmt_ns(c, sizeof(c), fg_hist_percentile(&one, 99));
			off += (size_t)snprintf(line + off, sizeof(line) - off,
						" | q%u %spps p99 %s", r->q[i]->rxq.xsk.queue, a,
						one.count ? c : "-");
		}
	}
	if (!r->redirects)
		snprintf(line + off, sizeof(line) - off, " | no redirect rule: nothing to receive");
	fprintf(stderr, "%s\n", line);
	for (unsigned int i = 0; i < r->nq; i++)
		r->prev[i] = r->snap[i];
}

/* --- summary --------------------------------------------------------------------------------- */

static void json_lat(FILE *f, const char *name, const struct fg_hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%llu", name, (unsigned long long)h->count);
	if (h->count)
		fprintf(f,
			",\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"min\":%llu,\"max\":%llu,"
			"\"mean\":%.0f",
			(unsigned long long)fg_hist_percentile(h, 50),
			(unsigned long long)fg_hist_percentile(h, 99),
			(unsigned long long)fg_hist_percentile(h, 99.9), (unsigned long long)h->min,
			(unsigned long long)h->max, fg_hist_mean(h));
	fputc('}', f);
}

static void json_bucket(void *ctx, uint64_t low, uint64_t width, uint64_t n, uint64_t cum)
{
	FILE *f = ctx;

	(void)width;
	fprintf(f, "%s[%llu,%llu]", cum == n ? "" : ",", (unsigned long long)low,
		(unsigned long long)n);
}

/* The non-empty buckets as [lower bound ns, count] pairs: enough for a CDF. */
static void json_buckets(FILE *f, const char *name, const struct fg_hist *h)
{
	fprintf(f, "\"%s\":[", name);
	fg_hist_foreach(h, json_bucket, f);
	fputc(']', f);
}

static void print_lat(FILE *f, const char *name, const struct fg_hist *h)
{
	char a[32], b[32], c[32], d[32];

	if (!h->count) {
		fprintf(f, "latency %-22s no samples\n", name);
		return;
	}
	fg_fmt_ns(a, sizeof(a), fg_hist_percentile(h, 50));
	fg_fmt_ns(b, sizeof(b), fg_hist_percentile(h, 99));
	fg_fmt_ns(c, sizeof(c), fg_hist_percentile(h, 99.9));
	fg_fmt_ns(d, sizeof(d), h->max);
	fprintf(f, "latency %-22s p50 %s  p99 %s  p99.9 %s  max %s  (%llu packets)\n", name, a, b,
		c, d, (unsigned long long)h->count);
}

struct run_totals {
	uint64_t packets, bytes, no_meta, bad_desc, fill_stalls, gen_stamped, syscalls;
	uint64_t stamp_meta, stamp_head, classified, unclassified;
	uint64_t xdp_redirected, xdp_no_socket;
	uint64_t rx_dropped, rx_ring_full, rx_fill_empty, rx_invalid;
	struct fg_hist xdp_lat, gen_lat;
	uint64_t rule_packets[FG_MAX_RULES];
};

/* The stamp mode in force now (it may have changed during the run). */
static int run_stamp_mode(struct run *r)
{
	struct fg_config c;

	if (fg_config_read(&r->h, &c))
		return r->xdp_cfg.stamp_mode;
	return c.stamp_mode;
}

static void run_summary(struct run *r, struct fg_rxq_stats *fin)
{
	FILE *f = run_summary_file(r);
	static struct run_totals t;
	struct fg_rule_entry *rules = NULL;
	size_t nrules = 0;
	double secs = (double)(r->end_ns - r->start_ns) / 1e9;
	const char *mode = run_mode_name(r);
	const char *umem = r->q[0]->rxq.xsk.huge ? "hugetlb" : "normal";

	memset(&t, 0, sizeof(t));
	fg_hist_init(&t.xdp_lat);
	fg_hist_init(&t.gen_lat);
	for (unsigned int i = 0; i < r->nq; i++) {
		struct run_queue *q = r->q[i];
		struct fg_rxq_stats *s = &fin[i];

		t.packets += s->packets;
		t.bytes += s->bytes;
		t.no_meta += s->no_meta;
		t.stamp_meta += s->stamp_meta;
		t.stamp_head += s->stamp_head;
		t.classified += s->classified;
		t.unclassified += s->unclassified;
		t.bad_desc += s->bad_desc;
		t.fill_stalls += s->fill_stalls;
		t.gen_stamped += s->gen_stamped;
		t.syscalls += s->syscalls;
		t.xdp_redirected += q->xdp_end.redirected - q->xdp_start.redirected;
		t.xdp_no_socket += q->xdp_end.no_socket - q->xdp_start.no_socket;
		t.rx_dropped += q->xsk_end.rx_dropped;
		t.rx_ring_full += q->xsk_end.rx_ring_full;
		t.rx_fill_empty += q->xsk_end.rx_fill_ring_empty_descs;
		t.rx_invalid += q->xsk_end.rx_invalid_descs;
		fg_hist_merge(&t.xdp_lat, &s->xdp_lat);
		fg_hist_merge(&t.gen_lat, &s->gen_lat);
		for (unsigned int k = 0; k < FG_MAX_RULES; k++)
			t.rule_packets[k] += s->rule_packets[k];
	}
	if (fg_rule_list(&r->h, &rules, &nrules))
		nrules = 0;

	if (r->cfg.json) {
		fprintf(f, "{\"iface\":");
		fg_json_str(f, r->cfg.ifname);
		fprintf(f,
			",\"backend\":\"af_xdp\",\"mode\":\"%s\",\"zero_copy\":\"%s\","
			"\"poll\":\"%s\",\"batch\":%u,\"umem_pages\":\"%s\",\"duration_s\":%.3f,",
			mode, zc_name(r->cfg.zc), fg_poll_name(r->cfg.poll), r->cfg.batch, umem,
			secs);
		fprintf(f,
			"\"napi_defer_hard_irqs\":\"%s\",\"gro_flush_timeout\":\"%s\","
			"\"threaded_napi\":\"%s\",\"filter_attached_by_run\":%s,"
			"\"stamp\":\"%s\",",
			r->napi_defer, r->gro_flush, r->threaded,
			r->attached_here ? "true" : "false", fg_stamp_name(run_stamp_mode(r)));
		fprintf(f, "\"queues\":[");
		for (unsigned int i = 0; i < r->nq; i++) {
			struct run_queue *q = r->q[i];
			struct fg_rxq_stats *s = &fin[i];

			fprintf(f,
				"%s{\"queue\":%u,\"cpu\":%d,\"mode\":\"%s\",\"packets\":%llu,"
				"\"bytes\":%llu,\"xdp_redirected\":%llu,\"xdp_no_socket\":%llu,",
				i ? "," : "", q->rxq.xsk.queue, q->rxq.cpu,
				q->rxq.xsk.zerocopy ? "zerocopy" : "copy",
				(unsigned long long)s->packets, (unsigned long long)s->bytes,
				(unsigned long long)(q->xdp_end.redirected -
						     q->xdp_start.redirected),
				(unsigned long long)(q->xdp_end.no_socket -
						     q->xdp_start.no_socket));
			fprintf(f,
				"\"xdp_statistics\":{\"rx_dropped\":%llu,\"rx_invalid_descs\":%llu,"
				"\"rx_ring_full\":%llu,\"rx_fill_ring_empty_descs\":%llu},",
				(unsigned long long)q->xsk_end.rx_dropped,
				(unsigned long long)q->xsk_end.rx_invalid_descs,
				(unsigned long long)q->xsk_end.rx_ring_full,
				(unsigned long long)q->xsk_end.rx_fill_ring_empty_descs);
			fprintf(f,
				"\"no_meta\":%llu,\"bad_desc\":%llu,\"batches\":%llu,"
				"\"empty_polls\":%llu,\"syscalls\":%llu,\"gen_stamped\":%llu,",
				(unsigned long long)s->no_meta, (unsigned long long)s->bad_desc,
				(unsigned long long)s->batches, (unsigned long long)s->empty_polls,
				(unsigned long long)s->syscalls,
				(unsigned long long)s->gen_stamped);
			json_lat(f, "latency_xdp_ns", &s->xdp_lat);
			fputc(',', f);
			json_lat(f, "latency_gen_ns", &s->gen_lat);
			fputc('}', f);
		}
		fprintf(f,
			"],\"total\":{\"packets\":%llu,\"bytes\":%llu,\"xdp_redirected\":%llu,"
			"\"xdp_no_socket\":%llu,\"xdp_statistics\":{\"rx_dropped\":%llu,"
			"\"rx_invalid_descs\":%llu,\"rx_ring_full\":%llu,"
			"\"rx_fill_ring_empty_descs\":%llu},\"no_meta\":%llu,\"bad_desc\":%llu,"
			"\"gen_stamped\":%llu,\"stamp_meta\":%llu,\"stamp_head\":%llu,"
			"\"classified_by_rules\":%llu,\"unclassified\":%llu,",
			(unsigned long long)t.packets, (unsigned long long)t.bytes,
			(unsigned long long)t.xdp_redirected, (unsigned long long)t.xdp_no_socket,
			(unsigned long long)t.rx_dropped, (unsigned long long)t.rx_invalid,
			(unsigned long long)t.rx_ring_full, (unsigned long long)t.rx_fill_empty,
			(unsigned long long)t.no_meta, (unsigned long long)t.bad_desc,
			(unsigned long long)t.gen_stamped, (unsigned long long)t.stamp_meta,
			(unsigned long long)t.stamp_head, (unsigned long long)t.classified,
			(unsigned long long)t.unclassified);
		json_lat(f, "latency_xdp_ns", &t.xdp_lat);
		fputc(',', f);
		json_lat(f, "latency_gen_ns", &t.gen_lat);
		fputc(',', f);
		json_buckets(f, "latency_xdp_buckets", &t.xdp_lat);
		fputc(',', f);
		json_buckets(f, "latency_gen_buckets", &t.gen_lat);
		fprintf(f, "},\"feeds\":[");
		for (size_t k = 0, first = 1; k < nrules; k++) {
			char key[FG_KEY_STR_LEN], name[FG_FEED_NAME_LEN + 1];
			__u32 id = rules[k].rule.rule_id;

			if (id >= FG_MAX_RULES || rules[k].rule.action != FG_ACTION_REDIRECT)
				continue;
			fg_rule_key_format(&rules[k].key, key, sizeof(key));
			fg_rule_feed_name(&rules[k].rule, name);
			fprintf(f, "%s{\"rule_id\":%u,\"feed_id\":%u,\"group\":\"%s\",\"name\":",
				first ? "" : ",", id, rules[k].rule.feed_id, key);
			fg_json_str(f, name);
			fprintf(f, ",\"packets\":%llu,\"xdp_matched\":%llu}",
				(unsigned long long)t.rule_packets[id],
				(unsigned long long)(rules[k].stats.packets -
						     r->rule_start[id].packets));
			first = 0;
		}
		fputc(']', f);
		if (r->pcap)
			run_pcap_json_members(f, r->cfg.pcap, r->pcap->written,
					      pcap_dropped(r->pcap));
		run_sinks_summary(r, f, true);
		fprintf(f, "}\n");
	} else {
		fprintf(f,
			"feedgate run %s: %.2f s, %u queue%s, %s mode (--zero-copy %s), poll %s, "
			"batch %u, UMEM on %s pages\n",
			r->cfg.ifname, secs, r->nq, r->nq == 1 ? "" : "s", mode, zc_name(r->cfg.zc),
			fg_poll_name(r->cfg.poll), r->cfg.batch, umem);
		fprintf(f, "%-5s %-4s %12s %14s %12s %10s %10s %10s %10s %8s %9s %9s\n", "queue",
			"cpu", "packets", "bytes", "xdp_redir", "no_socket", "rx_dropped",
			"ring_full", "fq_empty", "invalid", "p99", "gen_p99");
		for (unsigned int i = 0; i < r->nq; i++) {
			struct run_queue *q = r->q[i];
			struct fg_rxq_stats *s = &fin[i];
			char p99[32] = "-", g99[32] = "-";

			if (s->xdp_lat.count)
				fg_fmt_ns(p99, sizeof(p99), fg_hist_percentile(&s->xdp_lat, 99));
			if (s->gen_lat.count)
				fg_fmt_ns(g99, sizeof(g99), fg_hist_percentile(&s->gen_lat, 99));
			fprintf(f,
				"%-5u %-4d %12llu %14llu %12llu %10llu %10llu %10llu %10llu %8llu "
				"%9s %9s\n",
				q->rxq.xsk.queue, q->rxq.cpu, (unsigned long long)s->packets,
				(unsigned long long)s->bytes,
				(unsigned long long)(q->xdp_end.redirected -
						     q->xdp_start.redirected),
				(unsigned long long)(q->xdp_end.no_socket - q->xdp_start.no_socket),
				(unsigned long long)q->xsk_end.rx_dropped,
				(unsigned long long)q->xsk_end.rx_ring_full,
				(unsigned long long)q->xsk_end.rx_fill_ring_empty_descs,
				(unsigned long long)q->xsk_end.rx_invalid_descs, p99, g99);
		}
		fprintf(f, "%-10s %12llu %14llu %12llu %10llu %10llu %10llu %10llu %8llu\n",
			"total", (unsigned long long)t.packets, (unsigned long long)t.bytes,
			(unsigned long long)t.xdp_redirected, (unsigned long long)t.xdp_no_socket,
			(unsigned long long)t.rx_dropped, (unsigned long long)t.rx_ring_full,
			(unsigned long long)t.rx_fill_empty, (unsigned long long)t.rx_invalid);
		for (size_t k = 0; k < nrules; k++) {
			char key[FG_KEY_STR_LEN], name[FG_FEED_NAME_LEN + 1];
			__u32 id = rules[k].rule.rule_id;

			if (id >= FG_MAX_RULES || rules[k].rule.action != FG_ACTION_REDIRECT)
				continue;
			fg_rule_key_format(&rules[k].key, key, sizeof(key));
			fg_rule_feed_name(&rules[k].rule, name);
			for (char *p = name; *p; p++)
				if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~')
					*p = '?';
			fprintf(f, "feed %-22s rule %-4u %-16s received %llu (XDP matched %llu)\n",
				key, id, name[0] ? name : "-",
				(unsigned long long)t.rule_packets[id],
				(unsigned long long)(rules[k].stats.packets -
						     r->rule_start[id].packets));
		}
		fprintf(f,
			"stamp mode %s: %llu frames stamped in the metadata, %llu in the headroom, "
			"%llu without a stamp (%llu classified by the rules, %llu matching none)\n",
			fg_stamp_name(run_stamp_mode(r)), (unsigned long long)t.stamp_meta,
			(unsigned long long)t.stamp_head, (unsigned long long)t.no_meta,
			(unsigned long long)t.classified, (unsigned long long)t.unclassified);
		if (t.bad_desc)
			fprintf(f, "bad descriptors %llu\n", (unsigned long long)t.bad_desc);
		print_lat(f, "XDP -> consumer", &t.xdp_lat);
		print_lat(f, "generator -> consumer", &t.gen_lat);
		if (r->cfg.poll == FG_POLL_BUSY)
			fprintf(f,
				"busy polling: napi_defer_hard_irqs %s, gro_flush_timeout %s, "
				"threaded NAPI %s\n",
				r->napi_defer, r->gro_flush, r->threaded);
		if (r->pcap)
			fprintf(f, "pcap %s: %llu packets written, %llu dropped (writer behind)\n",
				r->cfg.pcap, (unsigned long long)r->pcap->written,
				(unsigned long long)pcap_dropped(r->pcap));
		run_sinks_summary(r, f, false);
	}
	fflush(f);
	free(rules);
}

/* Rule counters at the start, so the summary shows this run's share. */
static void run_rule_start(struct run *r)
{
	struct fg_rule_entry *rules = NULL;
	size_t n = 0;

	if (fg_rule_list(&r->h, &rules, &n))
		return;
	for (size_t k = 0; k < n; k++)
		if (rules[k].rule.rule_id < FG_MAX_RULES)
			r->rule_start[rules[k].rule.rule_id] = rules[k].stats;
	free(rules);
}

/* What the run got: queues, mode, polling and what it depends on. */
static void run_start_line(const struct run *r)
{
	char busy[192] = "", umem[64] = "";

	if (!r->q[0]->rxq.xsk.huge)
		snprintf(umem, sizeof(umem), ", UMEM on normal pages (no 2 MB huge pages free)");
	if (r->cfg.poll == FG_POLL_BUSY)
		snprintf(busy, sizeof(busy), ", napi_defer_hard_irqs %s, gro_flush_timeout %s%s",
			 r->napi_defer, r->gro_flush,
			 !strcmp(r->napi_defer, "0")
				 ? " (softirqs still run between the busy polls)"
				 : "");
	pr_info("run: %s: %u queue%s, %s mode, poll %s, stamp %s%s%s%s\n", r->cfg.ifname, r->nq,
		r->nq == 1 ? "" : "s", run_mode_name(r), fg_poll_name(r->cfg.poll),
		fg_stamp_name(r->xdp_cfg.stamp_mode), umem, busy,
		r->attached_here ? "; filter attached by this run (native, policy pass), detached "
				   "on exit"
				 : "");
}

/* Wait for SIGINT/SIGTERM, the duration, or the next live line. */
static int run_loop(struct run *r)
{
	sigset_t set;
	uint64_t last = r->start_ns, deadline = 0;

	if (r->cfg.duration > 0)
		deadline = r->start_ns + (uint64_t)(r->cfg.duration * 1e9);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		uint64_t now = fg_now_ns(), next = last + 1000000000ull, wake = next;
		struct timespec ts;
		int sig;

		if (deadline && deadline < wake)
			wake = deadline;
		if (!r->bk && r->ftab_checked_ns + FG_FTAB_REFRESH_NS < wake)
			wake = r->ftab_checked_ns + FG_FTAB_REFRESH_NS;
		if (wake > now) {
			ts.tv_sec = (time_t)((wake - now) / 1000000000ull);
			ts.tv_nsec = (long)((wake - now) % 1000000000ull);
			sig = sigtimedwait(&set, NULL, &ts);
			if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
				return sig;
		}
		/* --decode failed (disk full) or its reader went away: the run
		 * ends on a closed standard output; a full disk stops the output
		 * only (said at the end), the books go on. */
		if (r->out && fg_out_failed(r->out) && !strcmp(r->cfg.decode, "-"))
			return 0;
		now = fg_now_ns();
		if (!r->bk && now >= r->ftab_checked_ns + FG_FTAB_REFRESH_NS) {
			__u32 id = 0;

			/* Detached (or replaced) from another shell: nothing more
			 * can arrive; say so and stop rather than count zeros. */
			if (!bpf_xdp_query_id(r->ifindex, 0, &id) && id != r->h.prog_id &&
			    (int)if_nametoindex(r->cfg.ifname) == r->ifindex) {
				pr_warn("run: %s: the feedgate filter (prog %u) is no longer "
					"attached%s; "
					"stopped\n",
					r->cfg.ifname, r->h.prog_id,
					id ? " (another program replaced it)" : "");
				r->filter_gone = true;
				return 0;
			}
			/* Rules changed live (CLI or bpftool): frames without a
			 * stamp follow them. A failed read keeps the table. */
			run_ftab_refresh(r);
			r->ftab_checked_ns = now;
		}
		if (now >= next) {
			/* The interface deleted (or renamed) under us: the kernel
			 * took the program with it and the sockets see nothing
			 * more. Stop instead of polling a dead queue forever. */
			if ((int)if_nametoindex(r->cfg.ifname) != r->ifindex) {
				r->iface_gone = true;
				return 0;
			}
			if (r->bk)
				fg_backend_live_line(r->bk, stderr,
						     (double)(now - r->start_ns) / 1e9);
			else
				run_live_line(r, (double)(now - r->start_ns) / 1e9,
					      (double)(now - last) / 1e9);
			last = now;
		}
		if (deadline && now >= deadline)
			return 0;
	}
}

static void run_free(struct run *r)
{
	run_close_queues(r);
	run_sinks_free(r);
	fg_ftab_live_free(&r->ftab);
	fg_mcast_leave(&r->mc);
	if (r->pcap) {
		pcap_writer_close(r->pcap);
		free(r->pcap);
	}
	free(r->rule_start);
	free(r->snap);
	free(r->prev);
}

/* --- the other capture backends (feedgate/backend.h) ---------------------------------------- */

/* The sinks' part of the summary (fg_backend_summary's extra). */
static void run_backend_extra(void *ctx, FILE *f, bool json)
{
	struct run *r = ctx;

	if (r->pcap && json)
		run_pcap_json_members(f, r->cfg.pcap, r->pcap->written, pcap_dropped(r->pcap));
	else if (r->pcap)
		fprintf(f, "pcap %s: %llu packets written, %llu dropped (writer behind)\n",
			r->cfg.pcap, (unsigned long long)r->pcap->written,
			(unsigned long long)pcap_dropped(r->pcap));
	run_sinks_summary(r, f, json);
}

/*
 * --backend af_packet|io_uring|socket: the feeds are those of the filter's
 * rules that let packets up the stack (pass; redirect falls back to the
 * policy without an AF_XDP socket), one thread per selected queue (socket
 * paths: at most one per feed), the same sinks, live line and summary.
 * --poll wakeup blocks, busy and spin spin. Returns the exit status.
 */
static int run_backend(struct run *r, const int *cpus, int n)
{
	static struct fg_backend_feed feeds[FG_BACKEND_MAX_FEEDS];
	struct fg_backend_opts o = { 0 };
	const struct fg_backend_ops *ops;
	struct fg_rule_entry *rules = NULL;
	size_t nrules = 0;
	int status = 1;

	if (fg_backend_by_name(r->cfg.backend, &ops))
		return 1;
	/* The rules live in the filter's maps: it must be attached (either policy). */
	if (fg_filter_open(r->cfg.ifname, &r->h))
		return 1;
	if (fg_rule_list(&r->h, &rules, &nrules))
		goto out;
	o.ifname = r->cfg.ifname;
	o.feeds = feeds;
	o.nfeeds = fg_backend_feeds_from_rules(rules, nrules, feeds, FG_BACKEND_MAX_FEEDS);
	o.threads = (unsigned int)n;
	o.batch = r->cfg.batch;
	o.spin = r->cfg.poll != FG_POLL_WAKEUP;
	o.block_size = r->cfg.block_size;
	o.block_count = r->cfg.block_count;
	o.frame_size = r->cfg.frame_size;
	o.retire_ms = r->cfg.retire_ms;
	o.itch_stamps = r->cfg.itch_stamps;
	o.fanout = r->cfg.fanout;
	o.rcvbuf = r->cfg.rcvbuf;
	if (fg_backend_open(ops, &o, &r->bk))
		goto out;
	if (run_sinks_make(r, fg_backend_nthreads(r->bk), rules, nrules))
		goto out;
	if (r->pcap) {
		if (pthread_create(&r->pcap->tid, NULL, pcap_writer_main, r->pcap)) {
			pr_warn("run: Couldn't start the pcap writer thread\n");
			goto out;
		}
		r->pcap->started = true;
	}
	if (fg_backend_start(r->bk, cpus, r->sk.sink)) {
		pr_warn("run: Couldn't start the receive threads\n");
		goto out;
	}
	r->start_ns = fg_now_ns();
	pr_info("run: %s: backend %s, %u thread%s, %s, %u feed%s\n", r->cfg.ifname, ops->name,
		r->sk.n, r->sk.n == 1 ? "" : "s", o.spin ? "spinning" : "blocking", o.nfeeds,
		o.nfeeds == 1 ? "" : "s");
	run_loop(r);
	fg_backend_stop(r->bk);
	r->end_ns = fg_now_ns();
	if (r->pcap)
		pcap_writer_close(r->pcap);
	run_sinks_finish(r);
	fg_backend_summary(r->bk, run_summary_file(r), r->cfg.json, r->cfg.ifname,
			   (double)(r->end_ns - r->start_ns) / 1e9, rules, nrules,
			   run_backend_extra, r);
	status = run_out_status(r);
	for (unsigned int i = 0; i < r->sk.n; i++) {
		int e = fg_backend_thread_error(r->bk, i);

		if (e) {
			pr_warn("run: %s: thread %u stopped: %s\n", ops->name, i, strerror(-e));
			status = 1;
		}
	}
out:
	fg_backend_close(r->bk);
	r->bk = NULL;
	run_sinks_free(r); /* before the handle goes: it removes the reply rules */
	free(rules);
	fg_filter_close(&r->h);
	return status;
}

int do_run(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	int queues[FG_MAX_QUEUES], cpus[FG_MAX_QUEUES], n, ret, status = 1;
	bool have_handle = false;
	sigset_t set;
	struct fg_rxq_stats *fin = NULL;

	memset(r, 0, sizeof(*r));
	r->use_fd = -1;
	r->h.map_rules = r->h.map_rule_stats = r->h.map_stats = -1;
	r->h.map_queue_stats = r->h.map_config = r->h.map_xsk = -1;
	ret = run_parse(argc, argv, &r->cfg);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_require_root("run"))
		return 1;
	/* Only the main thread takes SIGINT/SIGTERM (sigtimedwait); one that
	 * comes during the setup ends the run as soon as it is up. A shell
	 * starts background jobs with SIGINT ignored, and an ignored signal is
	 * discarded even while blocked: back to the default first. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A closed standard output is a write error (EPIPE) the run reports and
	 * ends on, cleanly, not a signal that kills it half way. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->ifindex = (int)if_nametoindex(r->cfg.ifname);
	if (!r->ifindex) {
		pr_warn("%s: no such interface\n", r->cfg.ifname);
		return 1;
	}
	n = run_select(r, queues, cpus);
	if (n < 0)
		return EXIT_USAGE;
	r->rule_start = calloc(FG_MAX_RULES, sizeof(*r->rule_start));
	r->snap = calloc((size_t)n, sizeof(*r->snap));
	r->prev = calloc((size_t)n, sizeof(*r->prev));
	fin = calloc((size_t)n, sizeof(*fin));
	if (!r->rule_start || !r->snap || !r->prev || !fin) {
		pr_warn("run: %s\n", strerror(ENOMEM));
		goto out;
	}
	if (r->cfg.pcap && !r->cfg.symbols && !r->cfg.decode) {
		r->pcap = calloc(1, sizeof(*r->pcap));
		if (!r->pcap || pcap_writer_open(r->pcap, r->cfg.pcap, (unsigned int)n))
			goto out;
	}

	if (r->cfg.backend && strcmp(r->cfg.backend, "af_xdp")) {
		status = run_backend(r, cpus, n);
		goto out;
	}
	/* Our share of the filter, before it may be attached here: a run
	 * that attached it detaches it at the end only when no other
	 * consumer holds a share by then. */
	r->use_fd = fg_iface_use(r->cfg.ifname);
	if (r->use_fd < 0) {
		pr_warn("run: %s: Couldn't take a share of the filter (%s/%s.users): %s\n",
			r->cfg.ifname, "/run/feedgate", r->cfg.ifname, strerror(-r->use_fd));
		goto out;
	}
	ret = fg_filter_is_attached(r->cfg.ifname);
	if (ret < 0) {
		pr_warn("run: %s: %s\n", r->cfg.ifname, strerror(-ret));
		goto out;
	}
	if (ret == 0) {
		struct fg_attach_opts o = { .mode = FG_MODE_NATIVE };

		if (fg_filter_attach(r->cfg.ifname, &o, &r->h))
			goto out;
		r->attached_here = true;
		have_handle = true;
	} else if (fg_filter_open(r->cfg.ifname, &r->h)) {
		goto out;
	}
	have_handle = true;
	if (fg_config_read(&r->h, &r->xdp_cfg))
		goto out;
	/* What busy polling depends on (napi_defer_hard_irqs 0 means softirqs
	 * keep running between the polls), and where receive work runs. */
	if (netdev_attr_read(r->cfg.ifname, "napi_defer_hard_irqs", r->napi_defer,
			     sizeof(r->napi_defer)))
		snprintf(r->napi_defer, sizeof(r->napi_defer), "unknown");
	if (netdev_attr_read(r->cfg.ifname, "gro_flush_timeout", r->gro_flush,
			     sizeof(r->gro_flush)))
		snprintf(r->gro_flush, sizeof(r->gro_flush), "unknown");
	if (netdev_attr_read(r->cfg.ifname, "threaded", r->threaded, sizeof(r->threaded)))
		snprintf(r->threaded, sizeof(r->threaded), "unknown");

	{
		struct fg_rule_entry *rules = NULL;
		size_t nrules = 0;

		if (fg_rule_list(&r->h, &rules, &nrules))
			goto out;
		ret = run_sinks_make(r, (unsigned int)n, rules, nrules);
		free(rules);
		if (ret)
			goto out;
	}
	if (run_setup_queues(r, queues, cpus, (unsigned int)n))
		goto out;
	{
		/* Join the feed groups: a NIC's multicast filter and IGMP-snooping
		 * switches deliver nothing to a host that is not a member. */
		struct fg_rule_entry *rules = NULL;
		size_t nrules = 0;
		char err[256];

		if (fg_rule_list(&r->h, &rules, &nrules))
			goto out;
		ret = fg_mcast_join_rules(&r->mc, r->ifindex, rules, nrules, err, sizeof(err));
		free(rules);
		if (ret) {
			pr_warn("run: %s: %s\n", r->cfg.ifname, err);
			goto out;
		}
		r->mc_live = true;
	}
	ret = run_ftab_refresh(r);
	if (ret) {
		pr_warn("run: %s: Couldn't build the feed table from the rules: %s\n",
			r->cfg.ifname, strerror(-ret));
		goto out;
	}
	r->ftab_checked_ns = fg_now_ns();
	if (!r->redirects)
		pr_warn("run: %s: no redirect rule: nothing reaches the consumer until one is "
			"added "
			"(feedgate rule add %s GROUP:PORT)\n",
			r->cfg.ifname, r->cfg.ifname);
	run_rule_start(r);

	if (r->pcap) {
		if (pthread_create(&r->pcap->tid, NULL, pcap_writer_main, r->pcap)) {
			pr_warn("run: Couldn't start the pcap writer thread\n");
			goto out;
		}
		r->pcap->started = true;
	}
	for (int i = 0; i < n; i++) {
		ret = fg_rxq_start(&r->q[i]->rxq);
		if (ret) {
			pr_warn("run: Couldn't start the thread of queue %d: %s\n", queues[i],
				strerror(-ret));
			goto out;
		}
	}
	r->start_ns = fg_now_ns();
	run_start_line(r);

	run_loop(r);

	/* Traffic back to the policy first, then drain what is on the rings. */
	for (int i = 0; i < n; i++) {
		__u32 key = (__u32)queues[i];

		bpf_map_delete_elem(r->h.map_xsk, &key);
		r->q[i]->registered = false;
	}
	{
		struct timespec ts = { 0, FG_UNREGISTER_GRACE_NS };

		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < n; i++)
		fg_rxq_stop(&r->q[i]->rxq);
	r->end_ns = fg_now_ns();
	if (r->pcap)
		pcap_writer_close(r->pcap);
	for (int i = 0; i < n; i++) {
		struct run_queue *q = r->q[i];

		fg_xsk_stats(&q->rxq.xsk, &q->xsk_end);
		fg_queue_stats_read(&r->h, (__u32)queues[i], &q->xdp_end);
		fg_rxq_snapshot(&q->rxq, &fin[i]);
	}
	run_sinks_finish(r);
	run_summary(r, fin);
	status = run_out_status(r);
out:
	run_free(r);
	if (have_handle)
		fg_filter_close(&r->h);
	if (r->iface_gone) {
		/* One line, non-zero exit; nothing attached is left (the
		 * device took it) and the stale pins go too. */
		fg_filter_forget(r->cfg.ifname);
		pr_warn("run: %s: interface removed; stopped, its pins removed\n", r->cfg.ifname);
		status = 1;
	} else if (r->filter_gone) {
		status = 1;
	} else if (r->attached_here) {
		ret = r->use_fd >= 0 ? fg_iface_sole_user(r->use_fd) : 1;
		if (ret == 0)
			pr_info("run: %s: filter left attached: another feedgate consumer still "
				"uses "
				"it\n",
				r->cfg.ifname);
		else if (fg_filter_detach(r->cfg.ifname))
			status = 1;
	}
	if (r->use_fd >= 0)
		close(r->use_fd);
	free(fin);
	return status;
}
