// SPDX-License-Identifier: MIT
/*
 * feedgate run IFACE: the consumer, one path for every capture backend
 * (user/lib/fg_backend.h): af_xdp (default: attaches the filter when it is
 * not attached, one AF_XDP socket per selected receive queue in the
 * filter's xsk_map), af_packet, io_uring, socket. One pinned thread per
 * queue or socket set runs the common receive loop; frames go to the sinks:
 * the market-data pipeline behind the feed router (one sequencer per feed),
 * a pcap writer (--pcap), or none (count only). A live stats line once a
 * second on stderr, one summary on exit (one JSON object with --json).
 * SIGINT/SIGTERM/SIGHUP: traffic back to the filter's policy first, drain,
 * holes reported, summary, exit 0. Exit status: 0 ok, 1 failed, 2 usage
 * error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
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
#include "fg_backend.h"
#include "feedgate/pipeline.h"
#include "fg_gen.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_mcast.h"
#include "fg_rule.h"
#include "fg_ftab.h"
#include "fg_json.h"
#include "fg_out.h"
#include "fg_pcapw.h"
#include "fg_stamp.h"
#include "fg_rereq.h"
#include "fg_router.h"
#include "fg_xsk.h"

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
	const char *backend; /* the name of backend_id */
	int backend_id; /* RUN_BE_* */
	int zc; /* enum fg_zc_mode */
	int poll; /* enum fg_poll_mode */
	unsigned int batch;
	unsigned int ring; /* AF_XDP RX ring entries; 0 = fg_xsk's default (2048) */
	/* af_packet / socket tuning; 0 = the backend's default (checked there) */
	uint32_t block_size, block_count, frame_size, retire_ms, rcvbuf;
	int fanout; /* enum fg_fanout_mode */
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
	/* the latency tail */
	unsigned int rt_priority; /* SCHED_FIFO for the receive threads; 0: no */
	int mlock; /* every page locked in memory before the threads start */
	unsigned int busy_budget; /* SO_BUSY_POLL_BUDGET; 0: --batch */
};

/* --- the options ------------------------------------------------------------------------- */

enum { RUN_BE_AF_XDP, RUN_BE_AF_PACKET, RUN_BE_IO_URING, RUN_BE_SOCKET };

static const struct cli_enum backend_vals[] = {
	{ "af_xdp", RUN_BE_AF_XDP },
	{ "af_packet", RUN_BE_AF_PACKET },
	{ "io_uring", RUN_BE_IO_URING },
	{ "socket", RUN_BE_SOCKET },
	{ NULL, 0 },
};
static const struct cli_enum poll_vals[] = {
	{ "busy", FG_POLL_BUSY },
	{ "spin", FG_POLL_SPIN },
	{ "wakeup", FG_POLL_WAKEUP },
	{ NULL, 0 },
};
static const struct cli_enum zc_vals[] = {
	{ "auto", FG_ZC_AUTO },
	{ "on", FG_ZC_ON },
	{ "off", FG_ZC_OFF },
	{ NULL, 0 },
};
static const struct cli_enum fanout_vals[] = {
	{ "hash", FG_FANOUT_HASH },
	{ "cpu", FG_FANOUT_CPU },
	{ NULL, 0 },
};

/*
 * Every option of run, once. Options with .backends belong to those
 * capture backends only: given with another, the line is refused (exit 2).
 */
static const struct cli_opt run_opts[] = {
	{ .name = "--queues",
	  .type = CLI_STRING,
	  CLI_AT(struct run_cfg, queues),
	  .arg = "LIST|all",
	  .help = "the receive queues to read, like 0-3,5 (default all)" },
	{ .name = "--cpus",
	  .type = CLI_STRING,
	  CLI_AT(struct run_cfg, cpus),
	  .arg = "LIST",
	  .help = "pin the receive threads to these CPUs, one each, like 2-3" },
	{ .name = "--poll",
	  .type = CLI_ENUM,
	  CLI_AT(struct run_cfg, poll),
	  .vals = poll_vals,
	  .def = "busy",
	  .help = "busy: SO_PREFER_BUSY_POLL; spin: user space spins on the rings; wakeup: "
		  "block in poll() (the socket paths block)" },
	{ .name = "--batch",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, batch),
	  .arg = "N",
	  .lo = 1,
	  .hi = FG_BACKEND_MAX_BATCH,
	  .def = "64",
	  .help = "frames taken from the backend at a time" },
	{ .name = "--symbols",
	  .type = CLI_STRING,
	  CLI_AT(struct run_cfg, symbols),
	  .arg = "LIST",
	  .check = cli_symbols_opt,
	  .help = "run the market-data pipeline for these ITCH symbols (comma-separated, upper "
		  "case)" },
	{ .name = "--backend",
	  .type = CLI_ENUM,
	  CLI_AT(struct run_cfg, backend_id),
	  .vals = backend_vals,
	  .def = "af_xdp",
	  .help = "the capture path" },
	{ .name = "--duration",
	  .type = CLI_SECONDS,
	  CLI_AT(struct run_cfg, duration),
	  .arg = "S",
	  .hi = 10000000,
	  .help = "stop after S seconds (default: at SIGINT, SIGTERM or SIGHUP)" },
	{ .name = "--decode",
	  .type = CLI_STRING,
	  CLI_AT(struct run_cfg, decode),
	  .arg = "FILE|-",
	  .help = "write every decoded message as a JSON line to FILE (-: standard output)" },
	{ .name = "--pcap",
	  .type = CLI_STRING,
	  CLI_AT(struct run_cfg, pcap),
	  .arg = "FILE",
	  .help = "write the packets to a pcap file (not with --symbols or --decode)" },
	{ .name = "--json",
	  .type = CLI_FLAG,
	  CLI_AT(struct run_cfg, json),
	  .help = "the summary as one JSON object" },
	{ .name = "--itch-stamps",
	  .type = CLI_FLAG,
	  CLI_AT(struct run_cfg, itch_stamps),
	  .help = "measure generator-to-consumer latency from the ITCH send stamps of gen "
		  "--itch-stamps" },
	{ .name = "--arbitrate",
	  .type = CLI_LIST,
	  CLI_AT(struct run_cfg, arbitrate),
	  .count_off = offsetof(struct run_cfg, narbitrate),
	  .max = RUN_MAX_SPECS,
	  .flags = CLI_PAIR,
	  .arg = "GROUP:PORT=GROUP:PORT",
	  .help = "the A and B lines of one feed, arbitrated into one stream" },
	{ .name = "--rerequest",
	  .type = CLI_LIST,
	  CLI_AT(struct run_cfg, rerequest),
	  .count_off = offsetof(struct run_cfg, nrerequest),
	  .max = RUN_MAX_SPECS,
	  .flags = CLI_PAIR,
	  .arg = "FEED=ADDR:PORT",
	  .help = "ask this MoldUDP64 re-request server for the feed's missing messages" },
	{ .name = "--gap-wait",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, gap_wait_ns),
	  .arg = "US",
	  .lo = 1,
	  .hi = 60000000,
	  .scale = 1000,
	  .unit = "(microseconds)",
	  .help = "how long a hole is waited for before it is given up, in microseconds" },
	{ .name = "--hold",
	  .type = CLI_SIZE,
	  CLI_AT(struct run_cfg, hold),
	  .arg = "N|BYTES",
	  .lo = 16,
	  .hi = 1ul << 24,
	  .scale = 64,
	  .flags = CLI_POW2ONLY,
	  .want = "a power of two of messages from 16 to 16777216, or of bytes with B, KiB, "
		  "MiB (64 bytes a message)",
	  .help = "messages held behind a hole: a power of two, or bytes of buffer like 4MiB" },
	{ .name = "--rt-priority",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, rt_priority),
	  .arg = "N",
	  .lo = 1,
	  .hi = 99,
	  .help = "run the receive threads SCHED_FIFO at this priority (needs CAP_SYS_NICE): "
		  "other work on their CPUs no longer delays them" },
	{ .name = "--mlock",
	  .type = CLI_FLAG,
	  CLI_AT(struct run_cfg, mlock),
	  .help = "lock every page of the consumer in memory before receiving (no page fault "
		  "on the hot path; needs RLIMIT_MEMLOCK or CAP_IPC_LOCK)" },
	{ .name = "--busy-budget",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, busy_budget),
	  .arg = "N",
	  .lo = 1,
	  .hi = 1024,
	  .backends = "af_xdp",
	  .help = "packets one busy poll may take from the driver (SO_BUSY_POLL_BUDGET, "
		  "--poll busy; default --batch)" },
	{ .name = "--zero-copy",
	  .type = CLI_ENUM,
	  CLI_AT(struct run_cfg, zc),
	  .vals = zc_vals,
	  .def = "auto",
	  .backends = "af_xdp",
	  .help = "auto: zero-copy where the driver has it, else copy mode; on: fail without "
		  "it" },
	{ .name = "--ring",
	  .type = CLI_POW2,
	  CLI_AT(struct run_cfg, ring),
	  .arg = "N",
	  .lo = 64,
	  .hi = 16384,
	  .backends = "af_xdp",
	  .help = "AF_XDP RX ring entries, a power of two (default 2048); a deeper ring rides "
		  "out longer stalls of a shared core" },
	{ .name = "--frame-size",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, frame_size),
	  .arg = "BYTES",
	  .lo = 128,
	  .hi = 1ul << 20,
	  .backends = "af_xdp af_packet",
	  .help = "the UMEM frame (af_xdp: 2048 or 4096) or the ring frame (af_packet; default "
		  "2048)" },
	{ .name = "--block-size",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, block_size),
	  .arg = "BYTES",
	  .lo = 4096,
	  .hi = 1ul << 30,
	  .backends = "af_packet",
	  .help = "TPACKET_V3 block size (default 256 KiB)" },
	{ .name = "--block-count",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, block_count),
	  .arg = "N",
	  .lo = 2,
	  .hi = 65536,
	  .backends = "af_packet",
	  .help = "TPACKET_V3 blocks in the ring (default 64)" },
	{ .name = "--retire-ms",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, retire_ms),
	  .arg = "MS",
	  .lo = 1,
	  .hi = 60000,
	  .backends = "af_packet",
	  .help = "block retire timeout, the latency floor at low rates (default 1)" },
	{ .name = "--fanout",
	  .type = CLI_ENUM,
	  CLI_AT(struct run_cfg, fanout),
	  .vals = fanout_vals,
	  .def = "hash",
	  .backends = "af_packet",
	  .help = "PACKET_FANOUT mode across the receive threads" },
	{ .name = "--rcvbuf",
	  .type = CLI_UINT,
	  CLI_AT(struct run_cfg, rcvbuf),
	  .arg = "BYTES",
	  .lo = 65536,
	  .hi = 1ul << 30,
	  .backends = "io_uring socket",
	  .help = "socket receive buffer (default 4 MiB)" },
	{ .name = NULL },
};

static const char *const run_pos_names[] = { "IFACE" };

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.pos = "IFACE",
	.pos_names = run_pos_names,
	.npos = 1,
	.opts = run_opts,
	.backend_opt = "--backend",
	.summary = "the consumer: receive the feeds on IFACE, sequence, decode, count",
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

/* 0, 1 (--help printed) or -1 (error printed). */
static int run_parse(int argc, char **argv, struct run_cfg *c)
{
	const char *pos[1];
	cli_given_t given;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cli_parse(&cli_cmd_run, argc - 1, argv + 1, c, pos, &given);
	if (ret)
		return ret;
	c->ifname = pos[0];
	c->backend = backend_vals[c->backend_id].name;
	if (cli_was_given(&cli_cmd_run, given, "--frame-size") && c->backend_id == RUN_BE_AF_XDP &&
	    c->frame_size != 2048 && c->frame_size != 4096) {
		pr_warn("run: --frame-size %u: AF_XDP frames are 2048 or 4096 bytes\n",
			c->frame_size);
		return -1;
	}
	if (c->busy_budget && c->poll != FG_POLL_BUSY) {
		pr_warn("run: --busy-budget is for --poll busy (the busy poll it sizes)\n");
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
 * rings into the file (fg_pcapw.h: checked writes, whole records only, the
 * link type of the backend's frames). A full ring drops the copy, counted;
 * a failed write stops the file, not the run.
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
	uint32_t head __attribute__((aligned(64))); /* written by the receive thread */
	uint64_t dropped;
	uint32_t tail __attribute__((aligned(64))); /* written by the writer */
};

struct pcap_writer {
	struct fg_pcapw *w;
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

			/* after a failure the record is counted lost by the writer */
			fg_pcapw_write(w->w, (uint64_t)((int64_t)s->ts_ns + w->mono_to_real_ns),
				       s->data, s->caplen, s->len);
			tail++;
			done++;
		}
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
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
			fg_pcapw_flush(w->w); /* quiet: what there is goes out */
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static int pcap_writer_open(struct pcap_writer *w, const char *path, unsigned int nrings,
			    uint32_t linktype)
{
	struct timespec mono, real;
	char err[256];

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
	if (fg_pcapw_open(path, linktype, 65535, &w->w, err, sizeof(err))) {
		pr_warn("run: --pcap: %s\n", err);
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

static void run_pcap_json_members(FILE *f, const char *path, const struct pcap_writer *w)
{
	struct fg_pcapw_result res = { 0 };

	if (w->w)
		fg_pcapw_result(w->w, &res);
	fprintf(f, ",\"pcap\":{\"file\":");
	fg_json_str(f, path);
	fprintf(f, ",\"written\":%llu,\"dropped\":%llu,\"lost\":%llu,\"error\":",
		(unsigned long long)res.written, (unsigned long long)pcap_dropped(w),
		(unsigned long long)res.lost);
	if (res.err)
		fg_json_str(f, strerror(res.err));
	else
		fputs("null", f);
	fputc('}', f);
}

/* After the threads: the rings drained, the file closed; one line when a write failed. */
static void pcap_writer_close(struct pcap_writer *w)
{
	if (w->started) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pthread_join(w->tid, NULL);
		w->started = false;
	}
	if (w->w && w->nrings)
		fg_pcapw_close(w->w);
	w->dropped = pcap_dropped(w);
	for (unsigned int q = 0; q < w->nrings; q++)
		free(w->rings[q].slots);
	w->nrings = 0;
}

/* Did the file fail? Says so once (which file, records whole and lost). */
static bool pcap_writer_failed(const struct pcap_writer *w, const char *path)
{
	struct fg_pcapw_result res;

	if (!w->w)
		return false;
	fg_pcapw_result(w->w, &res);
	if (!res.err)
		return false;
	pr_warn("run: --pcap %s: write failed: %s: %llu packets written whole, %llu lost\n", path,
		strerror(res.err), (unsigned long long)res.written, (unsigned long long)res.lost);
	return true;
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

/*
 * What every receive thread hands its batches to, whatever the backend: the
 * pipeline of the thread (lines by rule id, so that a feed's A and B lines
 * are one stream), behind the router that gives each feed to one thread
 * (fg_router.h), writing --decode through its own stream of the one
 * line-atomic output (fg_out.h); or the pcap writer's ring; or nothing.
 */
/* The pipelines' lines: one per pass or redirect rule, --arbitrate pairs joined. */
struct run_lines {
	struct fg_pipeline_line *lines;
	unsigned int n;
	char (*names)[2 * FG_KEY_STR_LEN + 2];
	char (*groups)[FG_KEY_STR_LEN];
};

struct run_sinks {
	unsigned int n;
	struct fg_pipeline *pipe[FG_MAX_QUEUES];
	FILE *dec[FG_MAX_QUEUES];
	struct fg_router *router;
	struct fg_sink sink[FG_MAX_QUEUES];
	struct run_lines cur; /* the lines at the start */
	/* Rules changed under the run: the lines again, for every pipeline to take
	 * on its own thread before its next batch (run_pipe_batch). */
	pthread_mutex_t mu;
	bool mu_init;
	struct run_lines live;
	uint64_t live_gen;
	struct run_pipe {
		struct run_sinks *sk;
		struct fg_pipeline *pipe;
		uint64_t gen;
	} pctx[FG_MAX_QUEUES];
	struct fg_pipeline_rerequest rr[RUN_MAX_SPECS];
	struct fg_rereq rq[RUN_MAX_SPECS];
	struct fg_rule_key rr_key[RUN_MAX_SPECS]; /* the pass rules that let replies in */
	bool rr_rule[RUN_MAX_SPECS];
	unsigned int nrr;
};

struct run {
	struct run_cfg cfg;
	char others[96]; /* ", other threads on CPU 0" when they were moved off the receive CPUs */
	const struct fg_backend_ops *ops;
	bool xdp; /* the af_xdp backend */
	struct fg_filter_handle h;
	bool have_handle;
	bool attached_here;
	bool iface_gone; /* the interface was deleted under the run */
	int ifindex;
	struct pcap_writer *pcap;
	struct fg_rule_stats *rule_start; /* [FG_MAX_RULES] */
	char napi_defer[32], gro_flush[32], threaded[32];
	uint64_t start_ns, end_ns;
	struct fg_backend *bk;
	struct fg_config xdp_cfg; /* af_xdp: the filter's settings at the start (stamp cookie) */
	struct run_sinks sk;
	struct fg_out *out; /* --decode */
	bool out_closed; /* --decode -: the reader went away (EPIPE) */
	struct fg_ftab_live ftab; /* af_xdp: rules for frames without a stamp, kept current */
	uint64_t ftab_checked_ns;
	int use_fd; /* af_xdp: our share of the filter (fg_iface_use), -1: none */
	bool filter_gone; /* af_xdp: the filter was detached under the run */
	unsigned int redirects; /* redirect rules in force (af_xdp: nothing arrives without one) */
};

/* --- the sinks: pipelines, router, decode output ------------------------------------------- */

/*
 * The rules the run added for itself (the pass rules that let re-request
 * replies through the filter) taken out of a rule list: they are no feed,
 * and the summary lists feeds. Returns the new count.
 */
static size_t run_drop_own_rules(const struct run_sinks *sk, struct fg_rule_entry *rules,
				 size_t nrules)
{
	size_t n = 0;

	for (size_t i = 0; i < nrules; i++) {
		bool own = false;

		for (unsigned int j = 0; j < sk->nrr && !own; j++)
			own = sk->rr_rule[j] &&
			      !memcmp(&rules[i].key, &sk->rr_key[j], sizeof(sk->rr_key[j]));
		if (!own)
			rules[n++] = rules[i];
	}
	return n;
}

/* Where the summary goes: standard error when --decode - owns standard output. */
static FILE *run_summary_file(const struct run *r)
{
	return r->cfg.decode && !strcmp(r->cfg.decode, "-") ? stderr : stdout;
}

/* Index of the line whose rule key is spec ("239.1.1.1:5000"), or -1 (printed unless quiet). */
static int run_line_of(const struct run_lines *L, const struct fg_rule_entry *rules, size_t nrules,
		       const char *spec, const char *opt, bool quiet)
{
	struct fg_rule_key k;
	char err[FG_ERR_LEN];

	if (fg_rule_key_parse(spec, &k, err, sizeof(err))) {
		if (!quiet)
			pr_warn("run: %s: '%s': %s\n", opt, spec, err);
		return -1;
	}
	for (unsigned int i = 0; i < L->n; i++)
		for (size_t j = 0; j < nrules; j++)
			if (rules[j].rule.rule_id == L->lines[i].rule_id &&
			    !memcmp(&rules[j].key, &k, sizeof(k)))
				return (int)i;
	if (!quiet)
		pr_warn("run: %s: no pass or redirect rule for %s on this interface (feedgate rule "
			"add)\n",
			opt, spec);
	return -1;
}

static void run_lines_free(struct run_lines *L)
{
	free(L->lines);
	free(L->names);
	free(L->groups);
	memset(L, 0, sizeof(*L));
}

/*
 * The lines of the rules, --arbitrate pairs joined. live: the rules changed
 * under the run, and a pair whose rule is gone is left apart without a word
 * (it was checked at the start). 0 or -1 (printed).
 */
static int run_lines_build(const struct run *r, const struct fg_rule_entry *rules, size_t nrules,
			   struct run_lines *L, bool live)
{
	memset(L, 0, sizeof(*L));
	L->lines = calloc(nrules ? nrules : 1, sizeof(*L->lines));
	L->names = calloc(nrules ? nrules : 1, sizeof(*L->names));
	L->groups = calloc(nrules ? nrules : 1, sizeof(*L->groups));
	if (!L->lines || !L->names || !L->groups) {
		pr_warn("run: %s\n", strerror(ENOMEM));
		run_lines_free(L);
		return -1;
	}
	for (size_t i = 0; i < nrules; i++) {
		const struct fg_rule_entry *e = &rules[i];
		struct fg_pipeline_line *l = &L->lines[L->n];
		char name[FG_FEED_NAME_LEN + 1];

		if (e->rule.action != FG_ACTION_PASS && e->rule.action != FG_ACTION_REDIRECT)
			continue;
		fg_rule_key_format(&e->key, L->groups[L->n], sizeof(L->groups[0]));
		fg_rule_feed_name(&e->rule, name);
		snprintf(L->names[L->n], sizeof(L->names[0]), "%s", name);
		l->rule_id = e->rule.rule_id;
		l->feed_id = e->rule.feed_id;
		l->group = L->groups[L->n];
		l->feed = name[0] ? L->names[L->n] : NULL;
		L->n++;
	}
	for (unsigned int i = 0; i < r->cfg.narbitrate; i++) {
		char a[128];
		const char *spec = r->cfg.arbitrate[i], *eq = strchr(spec, '=');
		int la, lb;

		snprintf(a, sizeof(a), "%.*s", (int)(eq - spec), spec);
		la = run_line_of(L, rules, nrules, a, "--arbitrate", live);
		lb = la < 0 ? -1 : run_line_of(L, rules, nrules, eq + 1, "--arbitrate", live);
		if ((la < 0 || lb < 0) && live)
			continue;
		if (la < 0 || lb < 0)
			goto err;
		if (la == lb) {
			if (live)
				continue;
			pr_warn("run: --arbitrate '%s': both lines are the same rule\n", spec);
			goto err;
		}
		/* One feed: B takes A's id (and name; an unnamed pair is "A=B"). */
		if (!L->lines[la].feed) {
			snprintf(L->names[la], sizeof(L->names[0]), "%s=%s", L->lines[la].group,
				 L->lines[lb].group);
			L->lines[la].feed = L->names[la];
		}
		L->lines[lb].feed_id = L->lines[la].feed_id;
		L->lines[lb].feed = L->lines[la].feed;
	}
	return 0;
err:
	run_lines_free(L);
	return -1;
}

/* The lines at the start and the --rerequest sockets open. 0 or -1 (printed). */
static int run_sinks_lines(struct run *r, const struct fg_rule_entry *rules, size_t nrules)
{
	struct run_sinks *sk = &r->sk;
	const struct run_lines *L = &sk->cur;
	char err[256];

	if (run_lines_build(r, rules, nrules, &sk->cur, false))
		return -1;
	for (unsigned int i = 0; i < r->cfg.nrerequest; i++) {
		const char *spec = r->cfg.rerequest[i], *eq = strchr(spec, '=');
		struct fg_rule rule = { .action = FG_ACTION_PASS };
		struct fg_rule_key *k = &sk->rr_key[i];
		char feed[128];
		bool known = false;

		snprintf(feed, sizeof(feed), "%.*s", (int)(eq - spec), spec);
		for (unsigned int j = 0; j < L->n; j++)
			if (!strcmp(L->lines[j].feed ? L->lines[j].feed : L->lines[j].group, feed))
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
 * A pipeline's sink: the lines published by run_sinks_relines() taken on
 * the pipeline's own thread, before the batch they may concern.
 */
static void run_pipe_sync(struct run_pipe *pc)
{
	struct run_sinks *sk = pc->sk;
	int ret;

	if (__atomic_load_n(&sk->live_gen, __ATOMIC_ACQUIRE) == pc->gen)
		return;
	pthread_mutex_lock(&sk->mu);
	pc->gen = sk->live_gen;
	ret = fg_pipeline_set_lines(pc->pipe, sk->live.lines, sk->live.n);
	pthread_mutex_unlock(&sk->mu);
	if (ret)
		pr_warn("run: the rules changed, but their feeds could not be followed: %s; the "
			"lines before stay in force\n",
			strerror(-ret));
}

static void run_pipe_batch(void *ctx, const struct fg_frame *frames, unsigned int n)
{
	struct run_pipe *pc = ctx;

	run_pipe_sync(pc);
	fg_pipeline_frames(pc->pipe, frames, n);
}

static void run_pipe_idle(void *ctx, uint64_t now_ns)
{
	struct run_pipe *pc = ctx;

	run_pipe_sync(pc);
	fg_pipeline_idle(pc->pipe, now_ns);
}

/*
 * The rules changed under the run: the pipelines follow (a feed's rule
 * deleted and added again goes on in the same stream, its missed messages a
 * gap; a new feed gets a stream), and the router sends a feed's new rule
 * where its old one went. Main thread.
 */
static void run_sinks_relines(struct run *r, const struct fg_rule_entry *rules, size_t nrules)
{
	struct run_sinks *sk = &r->sk;
	struct run_lines L;

	if (!sk->pipe[0] || run_lines_build(r, rules, nrules, &L, true))
		return;
	for (unsigned int i = 0; sk->router && i < L.n; i++) {
		const char *name = L.lines[i].feed ? L.lines[i].feed : L.lines[i].group;

		for (unsigned int j = 0; j < sk->cur.n; j++) {
			const struct fg_pipeline_line *c = &sk->cur.lines[j];

			if (!strcmp(c->feed ? c->feed : c->group, name) &&
			    c->feed_id != L.lines[i].feed_id) {
				fg_router_alias(sk->router, L.lines[i].feed_id, c->feed_id);
				break;
			}
		}
	}
	pthread_mutex_lock(&sk->mu);
	run_lines_free(&sk->live);
	sk->live = L;
	__atomic_store_n(&sk->live_gen, sk->live_gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sk->mu);
}

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
			.lines = sk->cur.lines,
			.nlines = sk->cur.n,
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
	for (unsigned int i = 0; sk->router && i < sk->cur.n; i++)
		for (size_t j = 0; j < nrules; j++)
			if (rules[j].rule.rule_id == sk->cur.lines[i].rule_id &&
			    rules[j].rule.feed_id != sk->cur.lines[i].feed_id)
				fg_router_alias(sk->router, rules[j].rule.feed_id,
						sk->cur.lines[i].feed_id);
	if (pthread_mutex_init(&sk->mu, NULL)) {
		pr_warn("run: %s\n", strerror(ENOMEM));
		return -1;
	}
	sk->mu_init = true;
	for (unsigned int i = 0; i < n; i++) {
		struct fg_sink ps = {
			.ctx = &sk->pctx[i],
			.on_batch = run_pipe_batch,
			.on_idle = run_pipe_idle,
		};

		sk->pctx[i].sk = sk;
		sk->pctx[i].pipe = sk->pipe[i];
		sk->sink[i] = sk->router ? fg_router_sink(sk->router, i, ps) : ps;
	}
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
	run_lines_free(&sk->cur);
	run_lines_free(&sk->live);
	if (sk->mu_init)
		pthread_mutex_destroy(&sk->mu);
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

/*
 * Keep the receive CPUs to the receive threads: the calling thread (the
 * main loop: live line, rule changes, signals), and every thread it starts
 * from now on (the pcap and output writers), go to the CPUs this process
 * may use that no receive thread is pinned to. Nothing moves when a receive
 * thread is not pinned or when they take every CPU allowed. Best effort: a
 * refusal leaves the thread where it was, said in the start line.
 */
static void run_move_others(struct run *r, const int *cpus, int n)
{
	int allowed[1024], ncpu = allowed_cpus(allowed, 1024), k = 0, len = 0;
	bool cut = false;
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < n; i++)
		if (cpus[i] < 0)
			return;
	for (int j = 0; j < ncpu; j++) {
		bool rx = false;

		for (int i = 0; i < n; i++)
			rx |= cpus[i] == allowed[j];
		if (rx)
			continue;
		CPU_SET(allowed[j], &set);
		if (len < (int)sizeof(r->others) - 16)
			len += snprintf(r->others + len, sizeof(r->others) - (size_t)len, "%s%d",
					k ? "," : ", other threads on CPU ", allowed[j]);
		else
			cut = true;
		k++;
	}
	if (!k)
		return;
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		snprintf(r->others, sizeof(r->others),
			 ", other threads not moved off the receive CPUs");
		return;
	}
	if (cut)
		snprintf(r->others + len, sizeof(r->others) - (size_t)len, ",...");
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
		if (r->bk) {
			ret = fg_backend_sync_groups(r->bk, rules, nrules, &joined, &left, err,
						     sizeof(err));
			if (ret)
				pr_warn("run: %s: %s\n", r->cfg.ifname, err);
			else if (joined || left)
				pr_info("run: %s: rules changed: joined %u group%s, left %u\n",
					r->cfg.ifname, joined, joined == 1 ? "" : "s", left);
		}
		run_sinks_relines(r, rules, nrules);
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

/*
 * Per feed, for the live line: messages delivered, ranges recovered and
 * lost, the hold buffer's high-water mark (the sequencer of the thread that
 * owns the feed; the counters are read while that thread writes them, a
 * second's snapshot). NULL without a pipeline.
 */
static const char *run_feeds_note(const struct run *r, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int shown = 0, more = 0;

	if (!r->sk.pipe[0])
		return NULL;
	buf[0] = '\0';
	for (unsigned int s = 0; s < fg_pipeline_nstreams(r->sk.pipe[0]); s++) {
		uint64_t msgs = 0, rec = 0, lost = 0, high = 0;
		const char *name = NULL;
		int n;

		if (!fg_pipeline_stream(r->sk.pipe[0], s, &name) || !name)
			continue;
		/* the same feed in every thread's pipeline (one of them owns it) */
		for (unsigned int i = 0; i < r->sk.n && r->sk.pipe[i]; i++) {
			for (unsigned int k = 0; k < fg_pipeline_nstreams(r->sk.pipe[i]); k++) {
				const char *nk = NULL;
				const struct fg_seqr *q = fg_pipeline_stream(r->sk.pipe[i], k, &nk);
				const struct fg_seqr_stats *st;

				if (!q || !nk || strcmp(nk, name))
					continue;
				st = fg_seqr_stats(q);
				msgs += st->delivered;
				rec += st->gaps_recovered;
				lost += st->gaps_unrecovered;
				high = st->hold_high > high ? st->hold_high : high;
			}
		}
		if (!msgs && !rec && !lost)
			continue;
		if (shown == 4) {
			more++;
			continue;
		}
		n = snprintf(buf + off, len - off,
			     "%s%s %llu msgs, gaps %llu recovered %llu lost, "
			     "held %llu",
			     shown ? "; " : "feeds: ", name ? name : "?", (unsigned long long)msgs,
			     (unsigned long long)rec, (unsigned long long)lost,
			     (unsigned long long)high);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
		shown++;
	}
	if (more && off < len)
		snprintf(buf + off, len - off, "; %u more", more);
	return shown ? buf : NULL;
}

/*
 * --rt-priority on a thread that never sleeps: what the kernel will do to
 * it. Real-time throttling (sched_rt_runtime_us below its period) stops
 * every real-time task for the rest of each period once it has used its
 * share: a spinning thread is then off its CPU for tens of milliseconds
 * every second, the worst tail there is. And a spinning real-time thread
 * starves whatever shares its CPU.
 */
static long sysctl_long(const char *path)
{
	long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void run_rt_spin_warn(const struct run *r)
{
	long runtime = sysctl_long("/proc/sys/kernel/sched_rt_runtime_us"),
	     period = sysctl_long("/proc/sys/kernel/sched_rt_period_us");

	if (runtime >= 0 && period > 0 && runtime < period)
		pr_warn("run: --rt-priority with --poll %s: the kernel throttles real-time threads "
			"(sched_rt_runtime_us %ld of %ld): a spinning one is stopped %ld ms every "
			"period; use --poll wakeup, or set sched_rt_runtime_us to -1 with a CPU "
			"kept for each receive thread\n",
			fg_poll_name(r->cfg.poll), runtime, period, (period - runtime) / 1000);
	if (!r->cfg.cpus)
		pr_warn("run: --rt-priority with --poll %s: give each receive thread a CPU of its "
			"own (--cpus); a spinning SCHED_FIFO thread starves whatever shares its "
			"CPU\n",
			fg_poll_name(r->cfg.poll));
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

/* af_xdp: how the sockets were bound, from the contexts' counters. */
static const char *run_xdp_mode(const struct run *r, bool *huge)
{
	struct fg_backend_kstats ks;
	unsigned int zc = 0, n = fg_backend_nthreads(r->bk);

	*huge = n > 0;
	for (unsigned int i = 0; i < n; i++) {
		fg_backend_kstats(r->bk, i, &ks);
		zc += ks.zerocopy;
		*huge &= ks.huge_pages != 0;
	}
	return zc == n ? "zerocopy" : zc ? "mixed" : "copy";
}

static const char *zc_name(enum fg_zc_mode m)
{
	return m == FG_ZC_ON ? "on" : m == FG_ZC_OFF ? "off" : "auto";
}

/* What the run got: threads, mode, polling and what it depends on. */
static void run_start_line(const struct run *r, unsigned int nfeeds)
{
	char busy[192] = "";
	unsigned int n = fg_backend_nthreads(r->bk);
	const char *mode;
	bool huge;

	if (!r->xdp) {
		pr_info("run: %s: backend %s, %u thread%s, %s, %u feed%s%s\n", r->cfg.ifname,
			r->ops->name, n, n == 1 ? "" : "s",
			r->cfg.poll != FG_POLL_WAKEUP ? "spinning" : "blocking", nfeeds,
			nfeeds == 1 ? "" : "s", r->others);
		return;
	}
	mode = run_xdp_mode(r, &huge);
	if (r->cfg.poll == FG_POLL_BUSY)
		snprintf(busy, sizeof(busy), ", napi_defer_hard_irqs %s, gro_flush_timeout %s%s",
			 r->napi_defer, r->gro_flush,
			 !strcmp(r->napi_defer, "0")
				 ? " (softirqs still run between the busy polls)"
				 : "");
	pr_info("run: %s: %u queue%s, %s mode, poll %s, stamp %s%s%s%s%s\n", r->cfg.ifname, n,
		n == 1 ? "" : "s", mode, fg_poll_name(r->cfg.poll),
		fg_stamp_name(r->xdp_cfg.stamp_mode),
		huge ? "" : ", UMEM on normal pages (no 2 MB huge pages free)", busy, r->others,
		r->attached_here ? "; filter attached by this run (native, policy pass), detached "
				   "on exit"
				 : "");
}

/* The stamp mode in force now (it may have changed during the run). */
static int run_stamp_mode(struct run *r)
{
	struct fg_config c;

	if (fg_config_read(&r->h, &c))
		return r->xdp_cfg.stamp_mode;
	return c.stamp_mode;
}

/* The summary's af_xdp settings, after the backend's own (fg_backend_summary's head). */
static void run_summary_head(void *ctx, FILE *f, bool json)
{
	struct run *r = ctx;
	const char *mode;
	bool huge;

	if (!r->xdp)
		return;
	mode = run_xdp_mode(r, &huge);
	if (json)
		fprintf(f,
			"\"mode\":\"%s\",\"zero_copy\":\"%s\",\"umem_pages\":\"%s\","
			"\"stamp\":\"%s\",\"napi_defer_hard_irqs\":\"%s\",\"gro_flush_timeout\":\"%"
			"s\","
			"\"threaded_napi\":\"%s\",\"filter_attached_by_run\":%s,",
			mode, zc_name(r->cfg.zc), huge ? "hugetlb" : "normal",
			fg_stamp_name(run_stamp_mode(r)), r->napi_defer, r->gro_flush, r->threaded,
			r->attached_here ? "true" : "false");
	else
		fprintf(f,
			"AF_XDP %s mode (--zero-copy %s), UMEM on %s pages, stamp %s; busy "
			"polling: "
			"napi_defer_hard_irqs %s, gro_flush_timeout %s, threaded NAPI %s\n",
			mode, zc_name(r->cfg.zc), huge ? "huge" : "normal",
			fg_stamp_name(run_stamp_mode(r)), r->napi_defer, r->gro_flush, r->threaded);
}

/* The sinks' part of the summary (fg_backend_summary's extra): what XDP matched
 * per rule, the pcap file, the pipelines. */
static void run_summary_extra(void *ctx, FILE *f, bool json)
{
	struct run *r = ctx;
	struct fg_rule_entry *rules = NULL;
	size_t n = 0;

	if (r->xdp && !fg_rule_list(&r->h, &rules, &n)) {
		if (json)
			fprintf(f, ",\"xdp_matched\":[");
		for (size_t k = 0, first = 1; k < n; k++) {
			__u32 id = rules[k].rule.rule_id;
			unsigned long long m;

			if (id >= FG_MAX_RULES)
				continue;
			m = (unsigned long long)(rules[k].stats.packets -
						 r->rule_start[id].packets);
			if (json)
				fprintf(f, "%s{\"rule_id\":%u,\"packets\":%llu}", first ? "" : ",",
					id, m);
			else if (m)
				fprintf(f, "XDP matched rule %u: %llu packets\n", id, m);
			first = 0;
		}
		if (json)
			fputc(']', f);
		free(rules);
	}
	if (r->pcap && json) {
		run_pcap_json_members(f, r->cfg.pcap, r->pcap);
	} else if (r->pcap) {
		struct fg_pcapw_result res = { 0 };

		if (r->pcap->w)
			fg_pcapw_result(r->pcap->w, &res);
		fprintf(f,
			"pcap %s: %llu packets written, %llu dropped (writer behind), %llu "
			"lost%s\n",
			r->cfg.pcap, (unsigned long long)res.written,
			(unsigned long long)pcap_dropped(r->pcap), (unsigned long long)res.lost,
			res.err ? " (write failed)" : "");
	}
	run_sinks_summary(r, f, json);
}

/* Wait for a signal, the duration, the next rules check or the next live line. */
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
		char note[512];
		struct timespec ts;
		int sig;

		if (deadline && deadline < wake)
			wake = deadline;
		if (r->xdp && r->ftab_checked_ns + FG_FTAB_REFRESH_NS < wake)
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
		if (r->xdp && now >= r->ftab_checked_ns + FG_FTAB_REFRESH_NS) {
			__u32 id = 0;

			/* Detached (or replaced) from another shell: nothing more
			 * can arrive; say so and stop rather than count zeros. */
			if (!bpf_xdp_query_id(r->ifindex, 0, &id) && id != r->h.prog_id &&
			    (int)if_nametoindex(r->cfg.ifname) == r->ifindex) {
				pr_warn("run: %s: the feedgate filter (prog %u) is no longer "
					"attached%s; stopped\n",
					r->cfg.ifname, r->h.prog_id,
					id ? " (another program replaced it)" : "");
				r->filter_gone = true;
				return 0;
			}
			/* Rules changed live (CLI or bpftool): groups joined and
			 * left, frames without a stamp classified by the new ones.
			 * A failed read keeps what is there. */
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
			fg_backend_live_line(r->bk, stderr, (double)(now - r->start_ns) / 1e9,
					     r->xdp && !r->redirects
						     ? "no redirect rule: nothing to receive"
						     : run_feeds_note(r, note, sizeof(note)));
			last = now;
		}
		if (deadline && now >= deadline)
			return 0;
	}
}

/* af_xdp: the filter attached (or attached now) and what the run depends on. 0 or -1. */
static int run_xdp_filter(struct run *r)
{
	int ret;

	/* Our share of the filter, before it may be attached here: a run that
	 * attached it detaches it at the end only when no other consumer
	 * holds a share by then. */
	r->use_fd = fg_iface_use(r->cfg.ifname);
	if (r->use_fd < 0) {
		pr_warn("run: %s: Couldn't take a share of the filter (/run/feedgate/%s.users): "
			"%s\n",
			r->cfg.ifname, r->cfg.ifname, strerror(-r->use_fd));
		return -1;
	}
	ret = fg_filter_is_attached(r->cfg.ifname);
	if (ret < 0) {
		pr_warn("run: %s: %s\n", r->cfg.ifname, strerror(-ret));
		return -1;
	}
	if (ret == 0) {
		struct fg_attach_opts o = { .mode = FG_MODE_NATIVE };
		struct fg_blame blame;

		if (fg_filter_attach(r->cfg.ifname, &o, &r->h, &blame)) {
			cli_warn_blame(&blame);
			return -1;
		}
		r->attached_here = true;
	} else if (fg_filter_open(r->cfg.ifname, &r->h)) {
		return -1;
	}
	r->have_handle = true;
	if (fg_config_read(&r->h, &r->xdp_cfg))
		return -1;
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
	return 0;
}

/* af_xdp: do the interface's frames fit the UMEM frames? 0, or -1 (printed). */
static int run_xdp_mtu(const struct run *r)
{
	char buf[32];
	unsigned long mtu;
	uint32_t frame = r->cfg.frame_size ? r->cfg.frame_size : 2048;
	/* the kernel keeps XDP_PACKET_HEADROOM (256) in front; a head stamp
	 * and up to two VLAN tags come on top of the MTU and the Ethernet header */
	unsigned long room = frame - 256 - FG_STAMP_LEN, need;

	if (netdev_attr_read(r->cfg.ifname, "mtu", buf, sizeof(buf)))
		return 0; /* unknown: nothing to check against */
	mtu = strtoul(buf, NULL, 10);
	need = mtu + 14 + 8;
	if (need <= room)
		return 0;
	if (frame < 4096 && need <= 4096 - 256 - FG_STAMP_LEN)
		pr_warn("run: %s: MTU %lu does not fit AF_XDP frames of %u bytes (%lu of room): "
			"larger datagrams would be dropped; add --frame-size 4096\n",
			r->cfg.ifname, mtu, frame, room);
	else
		pr_warn("run: %s: MTU %lu does not fit AF_XDP frames of %u bytes: larger "
			"datagrams would be dropped (lower the MTU, or use --backend af_packet)\n",
			r->cfg.ifname, mtu, frame);
	return -1;
}

static void run_free(struct run *r)
{
	fg_backend_close(r->bk); /* stops the threads, leaves xsk_map and the groups */
	r->bk = NULL;
	run_sinks_free(r); /* with the handle open: it removes the reply rules */
	fg_ftab_live_free(&r->ftab);
	if (r->pcap) {
		pcap_writer_close(r->pcap);
		fg_pcapw_free(r->pcap->w);
		free(r->pcap);
		r->pcap = NULL;
	}
	free(r->rule_start);
	r->rule_start = NULL;
}

int do_run(int argc, char **argv)
{
	static struct fg_backend_feed feeds[FG_BACKEND_MAX_FEEDS];
	static struct run run;
	struct run *r = &run;
	int queues[FG_MAX_QUEUES], cpus[FG_MAX_QUEUES], n, ret, status = 1;
	struct fg_backend_opts o = { 0 };
	struct fg_blame blame;
	struct fg_rule_entry *rules = NULL;
	size_t nrules = 0;
	sigset_t set;

	memset(r, 0, sizeof(*r));
	r->use_fd = -1;
	r->h.map_rules = r->h.map_rule_stats = r->h.map_stats = -1;
	r->h.map_queue_stats = r->h.map_config = r->h.map_xsk = -1;
	ret = run_parse(argc, argv, &r->cfg);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_backend_by_name(r->cfg.backend, &r->ops))
		return EXIT_USAGE;
	r->xdp = r->ops == &fg_afxdp_ops;
	if (fg_require_root("run"))
		return 1;
	/* Only the main thread takes SIGINT/SIGTERM/SIGHUP (sigtimedwait); one
	 * that comes during the setup ends the run as soon as it is up. A shell
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
		pr_warn("run: %s: no such interface\n", r->cfg.ifname);
		return 1;
	}
	n = run_select(r, queues, cpus);
	if (n < 0)
		return EXIT_USAGE;
	if (r->xdp && run_xdp_mtu(r))
		return EXIT_USAGE;
	r->rule_start = calloc(FG_MAX_RULES, sizeof(*r->rule_start));
	if (!r->rule_start) {
		pr_warn("run: %s\n", strerror(ENOMEM));
		goto out;
	}
	if (r->cfg.pcap) {
		r->pcap = calloc(1, sizeof(*r->pcap));
		if (!r->pcap ||
		    pcap_writer_open(r->pcap, r->cfg.pcap, (unsigned int)n,
				     r->ops->l3 ? FG_PCAPW_LINK_RAW : FG_PCAPW_LINK_ETHERNET))
			goto out;
	}

	if (r->xdp) {
		if (run_xdp_filter(r))
			goto out;
	} else {
		/* The rules live in the filter's maps: it must be attached (either policy). */
		if (fg_filter_open(r->cfg.ifname, &r->h))
			goto out;
		r->have_handle = true;
	}
	if (fg_rule_list(&r->h, &rules, &nrules))
		goto out;
	if (r->xdp) {
		ret = run_ftab_refresh(r);
		if (ret) {
			pr_warn("run: %s: Couldn't build the feed table from the rules: %s\n",
				r->cfg.ifname, strerror(-ret));
			goto out;
		}
		r->ftab_checked_ns = fg_now_ns();
	}

	o.ifname = r->cfg.ifname;
	o.feeds = feeds;
	o.nfeeds = fg_backend_feeds_from_rules(rules, nrules, feeds, FG_BACKEND_MAX_FEEDS);
	o.threads = (unsigned int)n;
	o.batch = r->cfg.batch;
	o.spin = r->cfg.poll != FG_POLL_WAKEUP;
	o.poll = r->cfg.poll;
	o.queues = queues;
	o.nqueues = (unsigned int)n;
	o.zc = r->cfg.zc;
	o.ring = r->cfg.ring;
	o.xsk_frame_size = r->xdp ? r->cfg.frame_size : 0;
	o.filter = r->xdp ? &r->h : NULL;
	o.stamp_cookie = r->xdp_cfg.stamp_cookie;
	o.ftab = r->xdp ? &r->ftab : NULL;
	o.block_size = r->cfg.block_size;
	o.block_count = r->cfg.block_count;
	o.frame_size = r->xdp ? 0 : r->cfg.frame_size;
	o.retire_ms = r->cfg.retire_ms;
	o.itch_stamps = r->cfg.itch_stamps;
	o.rt_priority = (int)r->cfg.rt_priority;
	o.busy_budget = r->cfg.busy_budget;
	o.fanout = r->cfg.fanout;
	o.rcvbuf = r->cfg.rcvbuf;
	if (fg_backend_open(r->ops, &o, &r->bk, &blame)) {
		cli_warn_blame(&blame);
		goto out;
	}
	if (run_sinks_make(r, fg_backend_nthreads(r->bk), rules, nrules))
		goto out;
	run_rule_start(r);
	if (r->xdp && !r->redirects)
		pr_warn("run: %s: no redirect rule: nothing reaches the consumer until one is "
			"added "
			"(feedgate rule add %s GROUP:PORT)\n",
			r->cfg.ifname, r->cfg.ifname);
	/* before any thread starts: they inherit the CPUs left */
	run_move_others(r, cpus, n);
	if (r->pcap) {
		if (pthread_create(&r->pcap->tid, NULL, pcap_writer_main, r->pcap)) {
			pr_warn("run: Couldn't start the pcap writer thread\n");
			goto out;
		}
		r->pcap->started = true;
	}
	if (r->cfg.rt_priority && r->cfg.poll != FG_POLL_WAKEUP)
		run_rt_spin_warn(r);
	if (r->cfg.mlock && mlockall(MCL_CURRENT | MCL_FUTURE)) {
		pr_warn("run: --mlock: Couldn't lock the consumer's memory: %s (raise ulimit -l, "
			"or "
			"CAP_IPC_LOCK)\n",
			strerror(errno));
		goto out;
	}
	if (fg_backend_start(r->bk, cpus, r->sk.sink)) {
		pr_warn("run: Couldn't start the receive threads\n");
		goto out;
	}
	r->start_ns = fg_now_ns();
	run_start_line(r, o.nfeeds);

	run_loop(r);

	/* Traffic back to the policy, drain what is on the rings, then the sinks. */
	fg_backend_stop(r->bk);
	r->end_ns = fg_now_ns();
	if (r->pcap)
		pcap_writer_close(r->pcap);
	run_sinks_finish(r);
	free(rules);
	rules = NULL;
	if (fg_rule_list(&r->h, &rules, &nrules))
		nrules = 0;
	nrules = run_drop_own_rules(&r->sk, rules, nrules);
	fg_backend_summary(r->bk, run_summary_file(r), r->cfg.json, r->cfg.ifname,
			   (double)(r->end_ns - r->start_ns) / 1e9, rules, nrules, run_summary_head,
			   run_summary_extra, r);
	status = run_out_status(r);
	if (r->pcap && pcap_writer_failed(r->pcap, r->cfg.pcap))
		status = 1;
	for (unsigned int i = 0; i < fg_backend_nthreads(r->bk); i++) {
		int e = fg_backend_thread_error(r->bk, i);

		if (e) {
			pr_warn("run: %s: thread %u stopped: %s\n", r->ops->name, i, strerror(-e));
			status = 1;
		}
	}
out:
	free(rules);
	run_free(r);
	if (r->have_handle)
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
	return status;
}
