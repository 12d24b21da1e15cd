// SPDX-License-Identifier: MIT
/*
 * bench_xdp: what the XDP filter (bpf/feedgate.bpf.c) costs per packet,
 * measured with BPF_PROG_TEST_RUN (the kernel runs the program `repeat`
 * times on one buffer and reports the mean duration), beside
 *   - the floor: an empty program, two raw instructions returning XDP_DROP;
 *   - xdp-tools' own filter objects from Debian's libxdp1, xdpfilt_alw_all.o
 *     and xdpfilt_alw_udp.o, loaded with libbpf, maps left empty as
 *     `xdp-filter load` leaves them (see the notes written with the table).
 * Every case runs --rounds times, interleaved, and the medians are
 * reported; with --results FILE the table replaces the section between
 * <!-- xdp:begin --> and <!-- xdp:end --> of FILE (appended if absent).
 *
 * The redirect with a socket needs care: test-run reuses one buffer for
 * all repetitions and never resets its metadata, so from the third run on
 * the program's bpf_xdp_adjust_meta() finds the 32-byte metadata limit
 * reached and skips the stamp. That case therefore runs behind a
 * few-instruction wrapper that gives the metadata back before tail-calling
 * the filter, and the wrapper's own cost (wrapper -> floor, minus floor) is
 * subtracted. The raw figure is printed too.
 *
 * Needs root; runs in a network namespace of its own (its lo carries the
 * AF_XDP socket), so nothing is left behind.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "fg_maps.h"
#include "feedgate.skel.h"
#include "fg_pkt.h"

#ifndef FG_SRCDIR
#define FG_SRCDIR "."
#endif
#define XDPFILT_DIR "/usr/lib/x86_64-linux-gnu/bpf"
#define NASDAQ_PCAP                                                            \
	FG_SRCDIR "/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/" \
		  "OrderDeleteMessage.pcap"
#define MAX_ROUNDS 64

/* The case table below leaves the result fields out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

enum pkt_id { PKT_FEED, PKT_WILD, PKT_NOISE, PKT_IPV6, PKT_VLAN, NPKT };

static struct {
	const char *name; /* for the table */
	__u8 data[FG_PKT_MAX];
	__u32 len;
} pkts[NPKT] = {
	[PKT_FEED] = { .name = "IPv4 UDP to 239.1.1.1:5000" },
	[PKT_WILD] = { .name = "IPv4 UDP to 233.9.9.9:6000 (rule 0.0.0.0:6000)" },
	[PKT_NOISE] = { .name = "IPv4 UDP to 10.0.0.2:53 (no rule)" },
	[PKT_IPV6] = { .name = "IPv6 UDP to [ff3e::1234]:5000" },
	[PKT_VLAN] = { .name = "NASDAQ capture, 802.1Q VLAN 141, 233.54.12.111:26477" },
};

struct bench_case {
	const char *label;
	int prog;
	enum pkt_id pkt;
	__u32 verdict; /* what the program must return, checked before timing */
	__u32 ns[MAX_ROUNDS];
	double median;
};

/* Everything timed, in the order each round runs it. */
enum case_id {
	C_FLOOR,
	C_CLOCK,
	C_LOOKUP,
	C_WRAP_FLOOR,
	C_FEED,
	C_SOCK_RAW,
	C_SOCK_WRAP,
	C_WILD,
	C_NOISE,
	C_IPV6,
	C_VLAN,
	C_ALW_ALL, /* + packet id: xdpfilt_alw_all on each packet */
	C_ALW_UDP = C_ALW_ALL + NPKT, /* + packet id: xdpfilt_alw_udp */
	NCASE = C_ALW_UDP + NPKT,
};

static struct bench_case cases[NCASE];

static int xdpfilt_load(const char *file, struct bpf_object **objp)
{
	char path[256];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	snprintf(path, sizeof(path), "%s/%s", XDPFILT_DIR, file);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "bench_xdp: Couldn't open %s: %s\n", path, strerror(-err));
		return err;
	}
	/* Their maps are LIBBPF_PIN_BY_NAME: never pin (or reuse a pinned map
	 * of a real xdp-filter) from a benchmark. */
	bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(obj);
	prog = bpf_object__next_program(obj, NULL);
	if (err || !prog) {
		fprintf(stderr, "bench_xdp: Couldn't load %s: %s\n", path,
			strerror(err ? -err : ENOENT));
		bpf_object__close(obj);
		return err ? err : -ENOENT;
	}
	*objp = obj;
	return bpf_program__fd(prog);
}

/* Raw programs get the attach type libbpf gives SEC("xdp"): the kernel
 * only tail-calls between programs whose attach types agree. */
static const struct bpf_prog_load_opts xdp_opts = {
	.sz = sizeof(struct bpf_prog_load_opts),
	.expected_attach_type = BPF_XDP,
};

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s_) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s_, 0, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* A map's fd into a register: a two-slot instruction. */
#define LD_MAP(d, fd) \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

static int raw_load(const char *name, const struct bpf_insn *insns, size_t n)
{
	return bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, n, &xdp_opts);
}

/* The floor: return XDP_DROP, nothing else. */
static int floor_load(void)
{
	const struct bpf_insn insns[] = { MOV_IMM(BPF_REG_0, XDP_DROP), EXIT() };

	return raw_load("fg_floor", insns, 2);
}

/* Building block: the floor plus one bpf_ktime_get_ns() call. */
static int clock_load(void)
{
	const struct bpf_insn insns[] = {
		CALL(BPF_FUNC_ktime_get_ns),
		MOV_IMM(BPF_REG_0, XDP_DROP),
		EXIT(),
	};

	return raw_load("fg_b_clock", insns, 3);
}

/* Building block: the floor plus one lookup of an absent 20-byte key (all
 * zero: family 0 never exists) in a feed_rules map. */
static int lookup_load(int rules)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0),
		INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 0),
		INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -20, 0),
		MOV_REG(BPF_REG_2, BPF_REG_10),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -20),
		LD_MAP(BPF_REG_1, rules),
		CALL(BPF_FUNC_map_lookup_elem),
		MOV_IMM(BPF_REG_0, XDP_DROP),
		EXIT(),
	};

	return raw_load("fg_b_lookup", insns, sizeof(insns) / sizeof(insns[0]));
}

/* r6 = ctx; bpf_xdp_adjust_meta(ctx, +16) hands back the previous run's
 * stamp (fails harmlessly when there is none); tail call target; abort. */
static int wrapper_load(int target, int *prog_array)
{
	__u32 zero = 0;
	int pa, fd;

	pa = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "fg_bench_pa", 4, 4, 1, NULL);
	if (pa < 0)
		return pa;
	if (bpf_map_update_elem(pa, &zero, &target, BPF_ANY)) {
		fd = -errno;
		close(pa);
		return fd;
	}
	{
		const struct bpf_insn insns[] = {
			MOV_REG(BPF_REG_6, BPF_REG_1),
			MOV_IMM(BPF_REG_2, sizeof(struct fg_meta)),
			CALL(BPF_FUNC_xdp_adjust_meta),
			MOV_REG(BPF_REG_1, BPF_REG_6),
			LD_MAP(BPF_REG_2, pa),
			MOV_IMM(BPF_REG_3, 0),
			CALL(BPF_FUNC_tail_call),
			MOV_IMM(BPF_REG_0, XDP_ABORTED),
			EXIT(),
		};

		fd = raw_load("fg_bench_wrap", insns, sizeof(insns) / sizeof(insns[0]));
	}
	if (fd < 0) {
		close(pa);
		return fd;
	}
	*prog_array = pa;
	return fd;
}

/* One timed test run: the kernel's mean ns per repetition, or -errno. */
static long time_run(int prog, enum pkt_id p, __u32 repeat, int ifindex, __u32 *retval)
{
	struct xdp_md ctx = { .data_end = pkts[p].len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkts[p].data, .data_size_in = pkts[p].len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog, &opts);

	if (err)
		return err;
	*retval = opts.retval;
	return opts.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static double median(const __u32 *v, int n)
{
	__u32 s[128];

	if (n > 128)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

static int build_packets(void)
{
	const struct fg_pkt_spec specs[] = {
		[PKT_FEED] = { .dst = "239.1.1.1", .dport = 5000, .sport = 40000, .payload = 40 },
		[PKT_WILD] = { .dst = "233.9.9.9", .dport = 6000, .sport = 40000, .payload = 40 },
		[PKT_NOISE] = { .src = "10.0.0.1",
				.dst = "10.0.0.2",
				.sport = 40000,
				.dport = 53,
				.payload = 40 },
		[PKT_IPV6] = { .l3 = FG_PKT_IPV6,
			       .dst = "ff3e::1234",
			       .dport = 5000,
			       .sport = 40000,
			       .payload = 40 },
	};
	struct fg_pcap pc;
	size_t len;
	int n;

	for (int i = 0; i < PKT_VLAN; i++) {
		n = fg_pkt_build(&specs[i], pkts[i].data);
		if (n <= 0)
			return -EINVAL;
		pkts[i].len = n;
	}
	n = fg_pcap_open(&pc, NASDAQ_PCAP);
	if (!n)
		n = fg_pcap_next(&pc, pkts[PKT_VLAN].data, FG_PKT_MAX, &len) == 1 ? 0 : -EIO;
	fg_pcap_close(&pc);
	if (n) {
		fprintf(stderr, "bench_xdp: Couldn't read %s: %s\n", NASDAQ_PCAP, strerror(-n));
		return n;
	}
	pkts[PKT_VLAN].len = len;
	return 0;
}

static int add_rule(int fd, const char *dst, __u16 port, __u32 id)
{
	int af = strchr(dst, ':') ? AF_INET6 : AF_INET;
	struct fg_rule_key k = { .family = af == AF_INET ? FG_FAMILY_IPV4 : FG_FAMILY_IPV6,
				 .dport = htons(port) };
	struct fg_rule v = { .rule_id = id, .action = FG_ACTION_REDIRECT, .feed_id = id };

	if (inet_pton(af, dst, k.addr) != 1)
		return -EINVAL;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY);
}

/* Rules of a plausible deployment: a few feeds, a wildcard, an IPv6 feed,
 * the NASDAQ feed; drop policy (a feed-only NIC). */
static int fg_setup(struct feedgate_bpf *skel)
{
	int rules = bpf_map__fd(skel->maps.feed_rules);
	struct fg_config cfg = { .miss_policy = FG_ACTION_DROP, .frag_policy = FG_ACTION_DROP };
	__u32 zero = 0;
	char grp[32];
	int err = 0;

	for (int i = 0; i < 4 && !err; i++) {
		snprintf(grp, sizeof(grp), "239.1.1.%d", i + 1);
		err = add_rule(rules, grp, 5000 + i, 1 + i);
	}
	if (!err)
		err = add_rule(rules, "0.0.0.0", 6000, 10);
	if (!err)
		err = add_rule(rules, "ff3e::1234", 5000, 11);
	if (!err)
		err = add_rule(rules, "233.54.12.111", 26477, 12);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.fg_config), &zero, &cfg, BPF_ANY);
	return err;
}

static struct {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
} X;

#define XSK_AREA (64 * XSK_UMEM__DEFAULT_FRAME_SIZE)

static int xsk_open(int xsk_map)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_SKB_MODE,
		.bind_flags = XDP_COPY,
	};
	__u32 q = 0;
	int err, fd;

	X.area = mmap(NULL, XSK_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (X.area == MAP_FAILED) {
		X.area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&X.umem, X.area, XSK_AREA, &X.fill, &X.comp, NULL);
	if (!err)
		err = xsk_socket__create(&X.xsk, "lo", 0, X.umem, &X.rx, &X.tx, &cfg);
	if (!err) {
		fd = xsk_socket__fd(X.xsk);
		err = bpf_map_update_elem(xsk_map, &q, &fd, BPF_ANY);
	}
	return err;
}

static void xsk_close(void)
{
	if (X.xsk)
		xsk_socket__delete(X.xsk);
	if (X.umem)
		xsk_umem__delete(X.umem);
	if (X.area)
		munmap(X.area, XSK_AREA);
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			err = -errno;
	} else {
		err = -errno;
	}
	close(s);
	return err;
}

static void cpu_model(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, n, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, n, "%s", c);
			break;
		}
	}
	fclose(f);
}

/* Replace (or append) the marked section of path with text. */
static int write_section(const char *path, const char *text)
{
	static const char begin[] = "<!-- xdp:begin -->", end[] = "<!-- xdp:end -->";
	char *old = NULL, tmp[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");
	const char *b = NULL, *e = NULL;
	int err = 0;

	if (f) {
		long sz;

		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		rewind(f);
		old = calloc(1, sz + 1);
		if (!old || fread(old, 1, sz, f) != (size_t)sz) {
			fclose(f);
			free(old);
			return -EIO;
		}
		n = sz;
		fclose(f);
		b = strstr(old, begin);
		e = b ? strstr(b, end) : NULL;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		free(old);
		return -errno;
	}
	if (b && e) {
		fwrite(old, 1, b - old, f);
		fprintf(f, "%s\n%s%s", begin, text, end);
		e += strlen(end);
		fwrite(e, 1, n - (e - old), f);
	} else {
		if (n)
			fprintf(f, "%s%s\n", old, old[n - 1] == '\n' ? "" : "\n");
		else
			fprintf(f, "# Benchmarks\n\n");
		fprintf(f, "%s\n%s%s\n", begin, text, end);
	}
	if (fclose(f) || rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(old);
	return err;
}

static const char *verdict_name(__u32 v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					 "XDP_REDIRECT" };

	return v < 5 ? n[v] : "?";
}

static void set_case(enum case_id id, const char *label, int prog, enum pkt_id pkt, __u32 verdict)
{
	cases[id] =
		(struct bench_case){ .label = label, .prog = prog, .pkt = pkt, .verdict = verdict };
}

/* Run every case once and check its verdict: a program that bailed out
 * early would look cheap. Then `rounds` interleaved timed rounds. */
static int measure(int rounds, __u32 repeat, int ifindex)
{
	__u32 retval;
	long ns;

	for (int i = 0; i < NCASE; i++) {
		ns = time_run(cases[i].prog, cases[i].pkt, 1, ifindex, &retval);
		if (ns < 0 || retval != cases[i].verdict) {
			fprintf(stderr, "bench_xdp: %s on %s: %s, want %s\n", cases[i].label,
				pkts[cases[i].pkt].name,
				ns < 0 ? strerror(-ns) : verdict_name(retval),
				verdict_name(cases[i].verdict));
			return -EPROTO;
		}
	}
	for (int r = 0; r < rounds; r++) {
		printf("round %d:", r + 1);
		for (int i = 0; i < NCASE; i++) {
			ns = time_run(cases[i].prog, cases[i].pkt, repeat, ifindex, &retval);
			if (ns < 0) {
				fprintf(stderr, "bench_xdp: test run: %s\n", strerror(-ns));
				return ns;
			}
			cases[i].ns[r] = ns;
			printf(" %ld", ns);
		}
		printf("\n");
		fflush(stdout);
	}
	for (int i = 0; i < NCASE; i++)
		cases[i].median = median(cases[i].ns, rounds);
	return 0;
}

/* The markdown section: setup, table, notes. */
static void format_results(FILE *out, int rounds, __u32 repeat, int cpu, double floor_small)
{
	static const struct {
		const char *label;
		enum case_id id; /* C_SOCK_WRAP: corrected, see [a] */
		enum pkt_id pkt;
	} rows[] = {
		{ "feed hit, AF_XDP socket: XDP_REDIRECT [a]", C_SOCK_WRAP, PKT_FEED },
		{ "feed hit, no socket: fallback to the drop policy", C_FEED, PKT_FEED },
		{ "wildcard hit (rule 0.0.0.0:6000), no socket", C_WILD, PKT_WILD },
		{ "noise miss (no rule), drop policy", C_NOISE, PKT_NOISE },
		{ "IPv6 hit, no socket", C_IPV6, PKT_IPV6 },
		{ "VLAN feed hit (real capture), no socket", C_VLAN, PKT_VLAN },
	};
	const double fl = cases[C_FLOOR].median;
	const double wrap = cases[C_WRAP_FLOOR].median - fl;
	char model[128];
	struct utsname un;
	int all_ok = 1;

	cpu_model(model, sizeof(model));
	uname(&un);
	fprintf(out,
		"## XDP filter: cost per packet (BPF_PROG_TEST_RUN)\n\n"
		"`make bench-xdp` (bench/bench_xdp.c): %s (KVM guest), %ld CPUs, bench pinned to "
		"CPU %d, kernel %s. Each case: %d interleaved rounds of one test run with "
		"repeat = %u; figure = median over the rounds of the kernel's mean duration per "
		"repetition, in ns. The machine is shared with other builds: expect a few ns of "
		"noise.\n\n",
		model, sysconf(_SC_NPROCESSORS_ONLN), cpu, un.release, rounds, repeat);
	fprintf(out, "| case | bytes | feedgate ns | x floor | xdpfilt_alw_all ns | x floor | "
		     "alw_all / feedgate | xdpfilt_alw_udp ns | x floor | <= 2x floor | "
		     ">= 2x cheaper than alw_all |\n"
		     "|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|\n");
	fprintf(out,
		"| floor: empty program (2 insns, XDP_DROP) | %u | %.0f | 1.00 | | | | | | | |\n",
		pkts[PKT_FEED].len, fl);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct bench_case *a = &cases[C_ALW_ALL + rows[i].pkt];
		const struct bench_case *u = &cases[C_ALW_UDP + rows[i].pkt];
		double v = cases[rows[i].id].median - (rows[i].id == C_SOCK_WRAP ? wrap : 0);
		int ok_floor = v <= 2 * fl, ok_all = a->median >= 2 * v;

		all_ok &= ok_floor && ok_all;
		fprintf(out,
			"| %s | %u | %.0f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f | %s | %s |\n",
			rows[i].label, pkts[rows[i].pkt].len, v, v / fl, a->median, a->median / fl,
			a->median / v, u->median, u->median / fl, ok_floor ? "yes" : "NO",
			ok_all ? "yes" : "NO");
	}
	fprintf(out,
		"\nBuilding blocks, same run: the floor plus one `bpf_ktime_get_ns()` = %.0f ns "
		"(+%.0f); the floor plus one feed_rules lookup of an absent key = %.0f ns "
		"(+%.0f). A feed hit with a socket pays one lookup and the clock read for its "
		"stamp; a noise miss pays two lookups (exact, then wildcard).\n\n",
		cases[C_CLOCK].median, cases[C_CLOCK].median - fl, cases[C_LOOKUP].median,
		cases[C_LOOKUP].median - fl);
	fprintf(out,
		"Targets (every case <= 2x the floor, >= 2x cheaper than xdpfilt_alw_all): %s.\n\n",
		all_ok ? "met" : "NOT met, see the last two columns");
	fprintf(out, "- Packets: ");
	for (int p = 0; p < NPKT; p++)
		fprintf(out, "%s (%u B)%s", pkts[p].name, pkts[p].len, p + 1 < NPKT ? "; " : ".\n");
	fprintf(out,
		"- feedgate: 7 redirect rules (4 IPv4 groups, 0.0.0.0:6000, one IPv6 group, the "
		"NASDAQ feed), drop policy. Without a socket a hit falls back to that policy "
		"(XDP_DROP) after the rule lookup and counters, without stamping.\n"
		"- [a] Test-run reuses one buffer and never resets its metadata, so from the third "
		"repetition on bpf_xdp_adjust_meta() meets the 32-byte limit and the stamp is "
		"skipped (raw figure: %.0f ns). The row is measured behind a wrapper that hands "
		"the 16 metadata bytes back and tail-calls the filter (%.0f ns), minus the "
		"wrapper's own cost (wrapper + floor %.0f ns - floor = %.0f ns).\n"
		"- xdpfilt_alw_all.o / xdpfilt_alw_udp.o (Debian libxdp1 1.3.1) are xdp-filter's "
		"allow-by-default programs with their maps empty, as `xdp-filter load` leaves "
		"them: every packet is parsed down to UDP, looked up in every deny table and "
		"passed (XDP_PASS), counted in xdp_stats_map. alw_all looks up destination and "
		"source MAC (per-CPU hash), destination and source address (per-CPU hash) and "
		"destination and source port (per-CPU array): 6 lookups. alw_udp only the 2 port "
		"lookups (array lookups, inlined by the verifier). feedgate's hash key is "
		"{family, port, address}; a per-port array cannot express its rules.\n"
		"- The floor is the test-run loop's own cost per repetition, amortised at repeat "
		"= %u. With repeat = 10 the same empty program reports %.0f ns (median of 101 "
		"runs, this run): the 27-29 ns \"harness floor\" of the lab notes is of that "
		"order, and the 2x-floor target reads as if set against it.\n",
		cases[C_SOCK_RAW].median, cases[C_SOCK_WRAP].median, cases[C_WRAP_FLOOR].median,
		wrap, repeat, floor_small);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_xdp [--rounds N] [--repeat N] [--cpu N] [--results FILE]\n");
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "results", required_argument, NULL, 'o' },
		{ 0 },
	};
	int rounds = 5, cpu = -1, opt, err = 1, lo;
	__u32 repeat = 1000000;
	const char *results = NULL;
	struct feedgate_bpf *fg = NULL, *fgs = NULL;
	struct bpf_object *alw_all = NULL, *alw_udp = NULL;
	int floor_fd = -1, clock_fd = -1, lookup_fd = -1, wrap_floor = -1, wrap_sock = -1;
	int pa1 = -1, pa2 = -1, fg_fd, fgs_fd, all_fd, udp_fd;
	char *text = NULL;
	size_t text_sz = 0;
	double floor_small;
	cpu_set_t set;
	FILE *out;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'n':
			repeat = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'o':
			results = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || !repeat) {
		fprintf(stderr, "bench_xdp: --rounds must be 1..%d and --repeat > 0\n", MAX_ROUNDS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_xdp: needs root (BPF_PROG_TEST_RUN, AF_XDP)\n");
		return 1;
	}
	libbpf_set_print(quiet_libbpf);
	/* One CPU (default: the last) for every case: same core, same caches. */
	if (cpu < 0)
		cpu = libbpf_num_possible_cpus() - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "bench_xdp: Couldn't pin to CPU %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	if (unshare(CLONE_NEWNET) || lo_up()) {
		fprintf(stderr, "bench_xdp: Couldn't make a network namespace: %s\n",
			strerror(errno));
		return 1;
	}
	lo = if_nametoindex("lo");
	if (build_packets())
		return 1;

	/* Two instances of the filter: one without, one with a socket. */
	fg = feedgate_bpf__open_and_load();
	fgs = feedgate_bpf__open_and_load();
	if (!fg || !fgs || fg_setup(fg) || fg_setup(fgs)) {
		fprintf(stderr, "bench_xdp: Couldn't load the feedgate XDP program\n");
		goto out;
	}
	fg_fd = bpf_program__fd(fg->progs.fg_xdp_filter);
	fgs_fd = bpf_program__fd(fgs->progs.fg_xdp_filter);
	err = xsk_open(bpf_map__fd(fgs->maps.xsk_map));
	if (err) {
		fprintf(stderr, "bench_xdp: Couldn't bind an AF_XDP socket to lo: %s\n",
			strerror(-err));
		goto out;
	}
	err = 1;
	floor_fd = floor_load();
	clock_fd = clock_load();
	lookup_fd = lookup_load(bpf_map__fd(fg->maps.feed_rules));
	if (floor_fd < 0 || clock_fd < 0 || lookup_fd < 0) {
		fprintf(stderr, "bench_xdp: Couldn't load the reference programs\n");
		goto out;
	}
	wrap_floor = wrapper_load(floor_fd, &pa1);
	wrap_sock = wrapper_load(fgs_fd, &pa2);
	if (wrap_floor < 0 || wrap_sock < 0) {
		fprintf(stderr, "bench_xdp: Couldn't load the metadata wrapper: %s\n",
			strerror(-(wrap_floor < 0 ? wrap_floor : wrap_sock)));
		goto out;
	}
	all_fd = xdpfilt_load("xdpfilt_alw_all.o", &alw_all);
	udp_fd = xdpfilt_load("xdpfilt_alw_udp.o", &alw_udp);
	if (all_fd < 0 || udp_fd < 0)
		goto out;

	set_case(C_FLOOR, "floor", floor_fd, PKT_FEED, XDP_DROP);
	set_case(C_CLOCK, "floor + clock", clock_fd, PKT_FEED, XDP_DROP);
	set_case(C_LOOKUP, "floor + lookup", lookup_fd, PKT_FEED, XDP_DROP);
	set_case(C_WRAP_FLOOR, "wrapper + floor", wrap_floor, PKT_FEED, XDP_DROP);
	set_case(C_FEED, "feed hit, no socket", fg_fd, PKT_FEED, XDP_DROP);
	set_case(C_SOCK_RAW, "feed hit, socket", fgs_fd, PKT_FEED, XDP_REDIRECT);
	set_case(C_SOCK_WRAP, "wrapper + feed hit, socket", wrap_sock, PKT_FEED, XDP_REDIRECT);
	set_case(C_WILD, "wildcard hit", fg_fd, PKT_WILD, XDP_DROP);
	set_case(C_NOISE, "noise miss", fg_fd, PKT_NOISE, XDP_DROP);
	set_case(C_IPV6, "IPv6 hit", fg_fd, PKT_IPV6, XDP_DROP);
	set_case(C_VLAN, "VLAN feed hit", fg_fd, PKT_VLAN, XDP_DROP);
	for (int p = 0; p < NPKT; p++) {
		set_case(C_ALW_ALL + p, "xdpfilt_alw_all", all_fd, p, XDP_PASS);
		set_case(C_ALW_UDP + p, "xdpfilt_alw_udp", udp_fd, p, XDP_PASS);
	}
	printf("cases:");
	for (int i = 0; i < NCASE; i++)
		printf(" %d=%s/%s", i, cases[i].label, pkts[cases[i].pkt].name);
	printf("\n");
	if (measure(rounds, repeat, lo))
		goto out;
	/* The floor as seen with a tiny repeat count, for the record. */
	{
		__u32 small[101], retval;

		for (int i = 0; i < 101; i++) {
			long ns = time_run(floor_fd, PKT_FEED, 10, lo, &retval);

			small[i] = ns < 0 ? 0 : ns;
		}
		floor_small = median(small, 101);
	}

	out = open_memstream(&text, &text_sz);
	if (!out)
		goto out;
	format_results(out, rounds, repeat, cpu, floor_small);
	fclose(out);
	printf("\n%s", text);
	if (results) {
		err = write_section(results, text);
		if (err) {
			fprintf(stderr, "bench_xdp: Couldn't write %s: %s\n", results,
				strerror(-err));
			err = 1;
			goto out;
		}
		printf("\nwritten to %s\n", results);
	}
	err = 0;
out:
	free(text);
	xsk_close();
	{
		const int fds[] = {
			wrap_sock, wrap_floor, pa1, pa2, lookup_fd, clock_fd, floor_fd
		};

		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	bpf_object__close(alw_all);
	bpf_object__close(alw_udp);
	feedgate_bpf__destroy(fgs);
	feedgate_bpf__destroy(fg);
	return err ? 1 : 0;
}
