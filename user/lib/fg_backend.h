/* SPDX-License-Identifier: MIT */
/*
 * The capture backends of `feedgate run`, all behind one interface: one
 * launcher, one receive loop per thread, one set of counters and latency
 * histograms, one summary. Internal to feedgate (not installed): a strategy
 * embeds the pipeline (feedgate/pipeline.h) and brings its own capture.
 *
 *   af_xdp     one AF_XDP socket per receive queue (fg_afxdp.c), registered
 *              in the XDP filter's xsk_map; each frame's feed from the XDP
 *              stamp, or from the rules in force when it has none (fg_ftab.h).
 *              Polling: busy (a non-blocking recvfrom() lets the kernel run
 *              the queue's NAPI poll in this thread, with SO_PREFER_BUSY_POLL,
 *              SO_BUSY_POLL and SO_BUSY_POLL_BUDGET = batch), spin (the ring
 *              indexes only, no system call) or wakeup (poll(), for a shared
 *              core).
 *   af_packet  TPACKET_V3 mmap ring per thread, PACKET_FANOUT (hash or cpu)
 *              across threads, a classic BPF socket filter generated from
 *              the feeds so that only feed packets are copied up. Frames
 *              start at Ethernet (a VLAN tag the kernel took out is put
 *              back, so frames read as they did on the wire); their rule
 *              and feed ids are looked up from the headers.
 *   io_uring   UDP sockets joined to the feed groups, one multishot
 *              recvmsg per socket into a provided buffer ring, completions
 *              taken in batches (spin: peek the CQ; block: wait on it).
 *   socket     the same sockets read with recvmmsg (block: MSG_WAITFORONE;
 *              spin: MSG_DONTWAIT).
 *
 * The socket paths receive UDP payloads only. Each is handed on as an L3
 * frame (fg_frame.l3 = 1): a synthetic IPv4/IPv6 + UDP header is written
 * into the buffer right in front of the payload (addresses and ports from
 * the datagram's source and IP_PKTINFO / IPV6_PKTINFO destination, lengths
 * from the payload, checksums 0), so the pipeline finds the flow exactly as
 * for a captured frame. The IP stack trims the Ethernet trailer, so the
 * generator's send stamp (fg_gen.h) is not seen on these paths.
 *
 * Receive time: for every backend here, fg_frame.xdp_ns carries the
 * kernel's receive timestamp (TPACKET_V3 tp_sec/tp_nsec, SO_TIMESTAMPNS),
 * converted from CLOCK_REALTIME to CLOCK_MONOTONIC; the loop records
 * take_ns - xdp_ns in the histogram the AF_XDP loop fills with its XDP
 * stamp (fg_rxq_stats.xdp_lat), so "kernel -> consumer" is comparable
 * across backends. 0 when unknown (stamps off).
 *
 * Threads: af_packet opens one socket per thread in one fanout group; the
 * socket paths give each thread its own sockets, the feeds dealt round
 * robin (a multicast datagram is delivered to every socket that joined the
 * group, so two threads must never share a feed); at most one thread per
 * feed is used.
 *
 * Multicast membership: af_packet joins the groups on plain sockets
 * (fg_mcast.h) for the run; the socket paths join on their own sockets
 * (IP_MULTICAST_ALL off, so a socket gets exactly the groups it joined).
 * Both leave on close.
 */
#ifndef FEEDGATE_BACKEND_H
#define FEEDGATE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "feedgate/frame.h"
#include "fg_hist.h"
#include "fg_log.h"
#include "fg_maps.h"

#define FG_BACKEND_MAX_THREADS 64
#define FG_BACKEND_MAX_BATCH 256
#define FG_BACKEND_MAX_FEEDS 4096
/* How long a blocking receive waits before it looks at the stop flag. */
#define FG_BACKEND_WAIT_MS 20

/* One feed to receive: UDP to addr:port, optionally only from src/src_len. */
struct fg_backend_feed {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t src_len; /* source prefix length; 0 = any source */
	uint16_t port; /* UDP destination port, host order */
	uint8_t addr[16]; /* network order, IPv4 in the first 4 bytes; all zero = any address */
	uint8_t src[16]; /* source prefix, host bits zero */
	uint32_t rule_id; /* the XDP rule it came from, FG_RULE_NONE if none */
	uint16_t feed_id; /* the rule's feed id, 0 if none */
};

enum fg_fanout_mode { FG_FANOUT_HASH = 0, FG_FANOUT_CPU };

/* How a receive thread waits when its ring is empty (af_xdp names them; the
 * other backends spin for busy and spin, and block for wakeup). */
enum fg_poll_mode { FG_POLL_BUSY = 0, FG_POLL_SPIN, FG_POLL_WAKEUP };

/* "busy" / "spin" / "wakeup" and back (-1 when unknown). */
const char *fg_poll_name(enum fg_poll_mode m);
int fg_poll_parse(const char *s);

struct fg_ftab_live;
struct fg_filter_handle;

struct fg_backend_opts {
	const char *ifname;
	const struct fg_backend_feed *feeds;
	unsigned int nfeeds;
	unsigned int threads; /* receive threads (default 1) */
	unsigned int batch; /* frames per burst, <= FG_BACKEND_MAX_BATCH (default 64) */
	bool spin; /* poll without sleeping system calls; else block */
	bool no_timestamps; /* socket paths: no SO_TIMESTAMPNS (xdp_ns stays 0) */
	/* generator -> consumer latency from ITCH send stamps (feedgate gen
	 * --itch-stamps) for frames without the generator's trailer */
	bool itch_stamps;
	/* SCHED_FIFO priority of the receive threads (1-99); 0 = the normal
	 * scheduler. Needs CAP_SYS_NICE: the threads do not start without it. */
	int rt_priority;
	/* af_packet */
	uint32_t block_size; /* TPACKET_V3 block, power of two >= page (default 256 KiB) */
	uint32_t block_count; /* blocks per ring (default 64) */
	/* tp_frame_size, multiple of 16 (default 2048). TPACKET_V3 packs frames
	 * into the blocks whatever their size; the kernel only checks it. */
	uint32_t frame_size;
	uint32_t retire_ms; /* a block is handed over after this long at most (default 1) */
	enum fg_fanout_mode fanout;
	/* io_uring, socket */
	uint32_t rcvbuf; /* SO_RCVBUF(FORCE) bytes per socket (default 4 MiB) */
	uint32_t buf_size; /* bytes per datagram buffer, headers included (default 2048) */
	uint32_t
		ring_buffers; /* io_uring provided buffers per thread, power of two (default 4096) */
	/* af_xdp */
	const int *queues; /* the receive queues, one thread each (threads = nqueues) */
	unsigned int nqueues;
	enum fg_poll_mode poll;
	int zc; /* enum fg_zc_mode (fg_xsk.h) */
	uint32_t ring; /* RX ring entries; 0 = fg_xsk's default */
	uint32_t xsk_frame_size; /* UMEM frame: 2048 or 4096; 0 = 2048 */
	unsigned int busy_poll_us; /* SO_BUSY_POLL with --poll busy; 0 = 20 */
	unsigned int busy_budget; /* SO_BUSY_POLL_BUDGET with --poll busy; 0 = batch */
	struct fg_filter_handle *filter; /* xsk_map to register in, queue_stats to read */
	uint64_t stamp_cookie; /* the filter's fg_config.stamp_cookie */
	struct fg_ftab_live *ftab; /* rules for frames without a stamp (may be NULL) */
};

/*
 * Counters of one receive context, beyond the loop's fg_rxq_stats: what the
 * kernel reports and what the backend skipped. Readable from any thread.
 */
struct fg_backend_kstats {
	uint64_t kernel_packets; /* af_packet: tp_packets (passed the filter) */
	uint64_t kernel_drops; /* af_packet: tp_drops (ring full); sockets: SO_MEMINFO drops */
	uint64_t freeze_q; /* af_packet: tp_freeze_q_cnt */
	uint64_t syscalls; /* poll / recvmmsg / io_uring_enter */
	uint64_t truncated; /* frames or datagrams larger than the buffer: skipped */
	uint64_t src_filtered; /* socket paths: datagrams from outside the feed's source prefix */
	uint64_t bad; /* malformed ring entries or completions: skipped */
	uint64_t vlan_restored; /* af_packet: VLAN tags put back into the frame */
	uint64_t no_buffers; /* io_uring: multishot ended for want of buffers (ENOBUFS) */
	uint64_t rearms; /* io_uring: multishot receives armed again */
	/* af_xdp: XDP_STATISTICS of the socket, the filter's queue_stats since open */
	uint64_t rx_dropped, rx_ring_full, rx_fill_ring_empty, rx_invalid_descs;
	uint64_t xdp_redirected, xdp_no_socket;
	/* af_xdp: how each frame's feed was known */
	uint64_t stamp_meta; /* XDP stamp in the metadata area */
	uint64_t stamp_head; /* XDP stamp prepended to the frame */
	uint64_t no_stamp; /* no stamp: looked up in the rules ... */
	uint64_t classified; /* ... and found */
	uint64_t unclassified; /* ... and matching no rule */
	uint64_t fill_stalls; /* fill ring full (should never happen) */
	/* what the context is (af_xdp) */
	int32_t queue; /* receive queue, -1: not one */
	uint8_t zerocopy; /* bound in zero-copy mode */
	uint8_t huge_pages; /* UMEM on huge pages */
};

/* Every counter of struct fg_backend_kstats by name, for the summaries:
 * X(name) once per uint64_t member, in order. */
/* clang-format off */
#define FG_BK_KSTATS(X)        \
	X(kernel_packets)      \
	X(kernel_drops)        \
	X(freeze_q)            \
	X(syscalls)            \
	X(truncated)           \
	X(src_filtered)        \
	X(bad)                 \
	X(vlan_restored)       \
	X(no_buffers)          \
	X(rearms)              \
	X(rx_dropped)          \
	X(rx_ring_full)        \
	X(rx_fill_ring_empty)  \
	X(rx_invalid_descs)    \
	X(xdp_redirected)      \
	X(xdp_no_socket)       \
	X(stamp_meta)          \
	X(stamp_head)          \
	X(no_stamp)            \
	X(classified)          \
	X(unclassified)        \
	X(fill_stalls)
/* clang-format on */

/*
 * A backend. open() sets up o->threads receive contexts (or fewer, *n
 * says); context i belongs to thread i and is used by that thread only,
 * except kstats(). On failure it returns -errno, with one line for people
 * in err, and leaves nothing open.
 *
 * rx_burst() fills up to max frames (max <= FG_BACKEND_MAX_BATCH) and
 * returns how many, 0 when there were none (spinning: at once; blocking:
 * after FG_BACKEND_WAIT_MS at most), or -errno when the context cannot go
 * on. The frames stay valid until rx_release() (or the next rx_burst()),
 * which gives their buffers back to the kernel.
 */
struct fg_backend_ops {
	const char *name;
	bool joins_groups; /* its sockets join the groups; else fg_backend_open() does */
	bool l3; /* its frames start at the IP header (fg_frame.l3): pcap link type raw */
	bool live_feeds; /* follows rule changes while it runs (no feeds needed at open) */
	int (*open)(const struct fg_backend_opts *o, void **rx, unsigned int *n, char *err,
		    size_t errlen);
	int (*rx_burst)(void *rx, struct fg_frame *frames, unsigned int max);
	void (*rx_release)(void *rx);
	void (*kstats)(void *rx, struct fg_backend_kstats *ks);
	/* before the threads stop: let no more traffic in (af_xdp: leave xsk_map), so
	 * that what is on the rings can be drained. May be NULL. */
	void (*quiesce)(void *rx);
	void (*close)(void *rx);
};

extern const struct fg_backend_ops fg_afxdp_ops;
extern const struct fg_backend_ops fg_afpacket_ops;
extern const struct fg_backend_ops fg_uring_ops;
extern const struct fg_backend_ops fg_sockrx_ops;

/* "af_xdp" / "af_packet" / "io_uring" / "socket". -ENOENT with one pr_warn line
 * for any other name. */
int fg_backend_by_name(const char *name, const struct fg_backend_ops **out);
/* "hash" / "cpu" -> mode; -EINVAL (nothing printed) otherwise. */
int fg_fanout_parse(const char *s, enum fg_fanout_mode *out);
const char *fg_fanout_name(enum fg_fanout_mode m);

/* --- feeds ----------------------------------------------------------------------------------- */

/* "239.1.1.1:5000", "[ff15::1]:5000", "0.0.0.0:5000" -> feed (any source, no rule).
 * -EINVAL with a reason in err. */
int fg_backend_feed_parse(const char *s, struct fg_backend_feed *f, char *err, size_t errlen);
/* "239.1.1.1:5000" / "[ff15::1]:5000". */
int fg_backend_feed_format(const struct fg_backend_feed *f, char *buf, size_t len);

struct fg_rule_entry; /* fg_loader.h */

/*
 * What the latency tail is made of. A frame's receive stamp -> consumer time
 * is cut at the consumer's previous look at its ring (the burst before the
 * one that took the frame): before that look the frame was stamped but not
 * yet readable ("held": the kernel had not flushed it to the ring, the rest
 * of a NAPI poll or the receive softirq interrupted; on the socket backends,
 * not yet queued), after it the time is the consumer's (polling, the
 * previous burst, a wake-up, or off its CPU). When the previous burst came
 * back full the frame may have been waiting behind it, and all of its time
 * is the consumer's. A generator send stamp adds the send part (send stamp ->
 * receive stamp: the sender's system call, the device, the softirq). Sums by
 * band of the latency the band is cut by: rx by receive stamp -> consumer,
 * gen by send stamp -> consumer.
 */
#define FG_TAIL_BANDS 3 /* < 10 us, 10 us to 100 us, >= 100 us */
#define FG_TAIL_BAND1_NS 10000u
#define FG_TAIL_BAND2_NS 100000u
#define FG_TAIL_STALL_NS 5000u /* an empty look this long, or this long between looks */

struct fg_tail_band {
	uint64_t packets;
	uint64_t send_ns; /* gen only: send stamp -> receive stamp */
	uint64_t held_ns; /* stamped, not yet readable when the consumer last looked */
	uint64_t consumer_ns; /* from that look to taken */
};

struct fg_tail {
	struct fg_tail_band rx[FG_TAIL_BANDS];
	struct fg_tail_band gen[FG_TAIL_BANDS];
	/* Threads that never sleep (spin, busy): the loop away from its ring,
	 * an empty look that took FG_TAIL_STALL_NS or more, or as long from
	 * the end of a burst to the next look: an interrupt, another task on
	 * the CPU, a page fault (or, busy polling, the kernel's own poll). */
	uint64_t stalls;
	uint64_t stalls_50us;
	uint64_t stall_ns;
	uint64_t stall_max_ns;
	uint64_t stalls_switched; /* of them, those in which the thread was switched out */
	uint64_t switched_ns;
	/* the thread's getrusage over its run: voluntary and involuntary
	 * context switches, minor page faults (written when it ends) */
	uint64_t nvcsw, nivcsw, minflt;
};

/*
 * The counters every receive thread keeps, whatever the backend: written by
 * the thread only (relaxed atomic stores), read by the live line and the
 * summary. rx_lat: receive stamp (the XDP program's, or the kernel's) to
 * the moment the consumer took the frame; gen_lat: the generator's send
 * stamp to the same moment.
 */
struct fg_rxq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t batches;
	uint64_t empty_polls;
	uint64_t syscalls;
	uint64_t no_meta; /* frames without a receive stamp */
	uint64_t gen_stamped; /* frames carrying a generator send stamp */
	uint64_t bad_desc;
	uint64_t rule_packets[FG_MAX_RULES]; /* by XDP rule id */
	struct fg_hist xdp_lat; /* receive stamp -> taken off the ring ("latency_rx_ns") */
	struct fg_hist gen_lat; /* generator send stamp -> taken off the ring */
	struct fg_tail tail;
} __attribute__((aligned(64)));

/*
 * The feeds of the rules that let packets up the stack: action pass or
 * redirect (a redirect rule with no AF_XDP socket on the queue falls back to
 * the policy). Returns how many were written to out (at most max), with
 * source prefix, rule id and feed id.
 */
unsigned int fg_backend_feeds_from_rules(const struct fg_rule_entry *rules, size_t n,
					 struct fg_backend_feed *out, unsigned int max);

/* --- running a backend ----------------------------------------------------------------------- */

struct fg_backend;

/*
 * Check the options, join the groups (unless the backend's sockets do) and
 * open the receive contexts. Returns 0, or -errno after ONE pr_warn line
 * ("feedgate: io_uring: Couldn't create a ring: ... (kernel.io_uring_disabled
 * is 2)"); nothing is left open. Two failures are blamed on an option and
 * go to blame instead (fg_log.h; NULL: printed too): no feeds for a backend
 * that needs them (FG_INPUT_FEEDS, -EINVAL) and the driver refusing the
 * zero-copy AF_XDP asked for (FG_INPUT_ZEROCOPY, -EOPNOTSUPP).
 */
int fg_backend_open(const struct fg_backend_ops *ops, const struct fg_backend_opts *o,
		    struct fg_backend **out, struct fg_blame *blame);
unsigned int fg_backend_nthreads(const struct fg_backend *b);
const char *fg_backend_name(const struct fg_backend *b);

/*
 * One thread per context, thread i pinned to cpus[i] (cpus NULL or -1: not
 * pinned), handing its batches to sinks[i] (sinks NULL, or on_batch NULL:
 * count only). The loop is the AF_XDP consumer's: burst, skip if empty,
 * stamp the time once, latencies (kernel stamp, generator trailer), sink,
 * release, account; on_idle every 256 empty polls (every poll when
 * blocking). 0 or -errno (threads already started are stopped).
 */
int fg_backend_start(struct fg_backend *b, const int *cpus, const struct fg_sink *sinks);
/* Let no more traffic in (ops->quiesce), give what is in flight a moment,
 * then ask every thread to drain what is ready and exit; wait for them. */
void fg_backend_stop(struct fg_backend *b);

/* Make the groups the backend joined follow the rules (live rule changes;
 * backends that do not join themselves). 0 or -errno with a line in err. */
int fg_backend_sync_groups(struct fg_backend *b, const struct fg_rule_entry *rules, size_t n,
			   unsigned int *joined, unsigned int *left, char *err, size_t errlen);
/* The -errno a thread stopped with (0: none): a broken ring or socket. */
int fg_backend_thread_error(const struct fg_backend *b, unsigned int t);

/* Counters of thread t, in the AF_XDP loop's struct (syscalls from the backend). */
void fg_backend_snapshot(const struct fg_backend *b, unsigned int t, struct fg_rxq_stats *out);
void fg_backend_kstats(const struct fg_backend *b, unsigned int t, struct fg_backend_kstats *out);

/* The backend's settings and kernel counters as JSON members (no braces):
 * "backend":"af_packet","threads":2,...,"kstats":{...}. */
void fg_backend_json(const struct fg_backend *b, FILE *f);

/*
 * For `feedgate run`. The live line (one line on f) with the rates and the
 * kernel -> consumer latency over the interval since the previous call:
 *   run: 3s af_packet 20.0kpps 12.3Mb/s kdrop 0 p50 4.1us p99 9.8us p99.9 21us | t0 10.0kpps ...
 * with, for threads that never sleep, their stalls over the interval ("stalls 370 (11.2 ms)":
 * struct fg_tail) after the latencies.
 */
void fg_backend_live_line(struct fg_backend *b, FILE *f, double secs, const char *note);

/*
 * The summary at the end of a run, the same for every backend: one JSON
 * object with a newline (json) or lines for people. Settings, then per
 * thread ("queues") and in total: packets, bytes, batches, empty polls,
 * system calls, every kernel counter (kstats), and the latencies receive
 * stamp -> consumer ("latency_rx_ns": the XDP program's stamp on af_xdp,
 * the kernel's receive timestamp elsewhere) and generator stamp -> consumer
 * ("latency_gen_ns"): count, p50, p90, p99, p999, min, max, mean, stddev;
 * with buckets in total. Per feed rule the packets received (rules may be
 * NULL). head (may be NULL) adds members right after the settings (it
 * writes "key":value,); extra (may be NULL) adds the sinks' part: called
 * before the JSON object's closing brace (it writes ,"key":value) or after
 * the text.
 */
void fg_backend_summary(struct fg_backend *b, FILE *f, bool json, const char *ifname, double secs,
			const struct fg_rule_entry *rules, size_t nrules,
			void (*head)(void *ctx, FILE *f, bool json),
			void (*extra)(void *ctx, FILE *f, bool json), void *ctx);

/* Stop (if running), close the contexts, leave the groups. NULL is fine. */
void fg_backend_close(struct fg_backend *b);

/* --- af_packet's classic BPF filter ---------------------------------------------------------- */

struct sock_filter; /* linux/filter.h */
#define FG_CBPF_MAX_INSNS 4096 /* BPF_MAXINSNS */
#define FG_CBPF_ACCEPT 0x40000u /* snap length returned for a feed packet */

/*
 * The classic BPF program that accepts exactly the UDP datagrams of feeds:
 * Ethernet with up to two 802.1Q/802.1ad tags in the frame, IPv4 (any IHL
 * >= 5, not a fragment) or IPv6 (up to 6 hop-by-hop, routing, AH,
 * destination options or atomic fragment headers), destination address
 * (all-zero = any) + UDP port, source prefix when the feed has one. Returns
 * FG_CBPF_ACCEPT for those, 0 for everything else (truncated frames too).
 * Writes *len instructions; -E2BIG when more than max are needed, -EINVAL
 * for no feeds or a feed of an unknown family.
 */
int fg_afpacket_filter_build(const struct fg_backend_feed *feeds, unsigned int n,
			     struct sock_filter *insns, unsigned int max, unsigned int *len);

#endif /* FEEDGATE_BACKEND_H */
