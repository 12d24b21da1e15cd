// SPDX-License-Identifier: MIT
/*
 * bench_xdp: what the XDP filter (bpf/feedgate.bpf.c) costs per packet,
 * measured with BPF_PROG_TEST_RUN (the kernel runs the program `repeat`
 * times on one buffer and reports the mean duration), beside
 *   - the floor: an empty program, two raw instructions returning XDP_DROP;
 *   - xdp-tools' own filter objects from Debian's libxdp1, xdpfilt_alw_all.o
 *     and xdpfilt_alw_udp.o, loaded with libbpf, maps left empty as
 *     `xdp-filter load` leaves them;
 *   - optionally an earlier build of the filter (--baseline), for before /
 *     after figures from one run.
 * A feed hit with an AF_XDP socket is timed in every stamp mode (none, head,
 * meta where the kernel takes bpf_xdp_adjust_meta). Where the time goes
 * comes from the filter rebuilt with FG_BENCH_CUT (--cuts: it stops after
 * the entry counters, after the parse, after the rule lookup) and from a few
 * raw building blocks. Every case runs --rounds times, interleaved, and the
 * medians are reported; with --results FILE the report replaces the section
 * between <!-- xdp:begin --> and <!-- xdp:end --> of FILE.
 *
 * A stamp changes the test-run buffer, and test-run reuses that buffer for
 * every repetition without resetting it: the second head stamp would sit in
 * front of the first, and after a few the headroom is gone. Stamped cases
 * therefore run behind a few-instruction wrapper that takes the previous
 * repetition's stamp back off and tail-calls the filter; the wrapper's own
 * cost is measured and subtracted (see the notes written with the table),
 * and the filter's counters are checked afterwards: every repetition must
 * have been stamped.
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
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fg_maps.h"
#include "fg_loader.h"
#include "feedgate.skel.h"
#include "fg_pkt.h"

#ifndef FG_SRCDIR
#define FG_SRCDIR "."
#endif
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif
#define XDPFILT_DIR "/usr/lib/x86_64-linux-gnu/bpf"
#define NASDAQ_PCAP                                                            \
	FG_SRCDIR "/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/" \
		  "OrderDeleteMessage.pcap"
#define MAX_ROUNDS 64
#define MAX_CASES 96
#define NCUT 3

/* The case table below leaves the result fields out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

enum pkt_id { PKT_FEED, PKT_WILD, PKT_NOISE, PKT_IPV6, PKT_VLAN, NPKT };

static struct {
	const char *name; /* for the notes */
	const char *row; /* for the table: the no-socket case on this packet */
	__u8 data[FG_PKT_MAX];
	__u32 len;
} pkts[NPKT] = {
	[PKT_FEED] = { "IPv4 UDP to 239.1.1.1:5000",
		       "feed hit, no socket: fallback to the drop policy" },
	[PKT_WILD] = { "IPv4 UDP to 233.9.9.9:6000 (rule 0.0.0.0:6000)",
		       "wildcard hit (rule 0.0.0.0:6000), no socket" },
	[PKT_NOISE] = { "IPv4 UDP to 10.0.0.2:53 (no rule)", "noise miss (no rule), drop policy" },
	[PKT_IPV6] = { "IPv6 UDP to [ff3e::1234]:5000", "IPv6 hit, no socket" },
	[PKT_VLAN] = { "NASDAQ capture, 802.1Q VLAN 141, 233.54.12.111:26477",
		       "VLAN feed hit (real capture), no socket" },
};

struct bench_case {
	const char *label;
	int prog;
	enum pkt_id pkt;
	__u32 verdict; /* what the program must return, checked before timing */
	__u32 ns[MAX_ROUNDS];
	double median;
};

static struct bench_case cases[MAX_CASES];
static int ncases;

/* Descriptors of the raw programs and their prog arrays, closed at exit. */
static int fds[64];
static int nfds;

/* Keep fd for closing at exit; returns it (or the -errno it is). */
static int keep(int fd)
{
	if (fd >= 0 && nfds < (int)(sizeof(fds) / sizeof(fds[0])))
		fds[nfds++] = fd;
	return fd;
}

/* Case ids of one build of the filter (the current one, or the baseline). */
struct fg_cases {
	int nosock[NPKT]; /* no socket on the queue: every hit falls back */
	int sock_none, sock_head, sock_meta; /* feed hit with a socket; -1: not run */
};

/* A feedgate object under test: skeleton or plain object, and its maps. */
struct fg_inst {
	struct feedgate_bpf *skel; /* the current build */
	struct bpf_object *obj; /* a cut or the baseline, from its file */
	int prog, rules, config, xsk, stats;
};

static int add_case(const char *label, int prog, enum pkt_id pkt, __u32 verdict)
{
	if (ncases == MAX_CASES)
		return -1;
	cases[ncases] =
		(struct bench_case){ .label = label, .prog = prog, .pkt = pkt, .verdict = verdict };
	return ncases++;
}

static double med(int id)
{
	return id >= 0 ? cases[id].median : 0;
}

/* ---- programs ------------------------------------------------------------ */

/* Raw programs get the attach type libbpf gives SEC("xdp"): the kernel
 * only tail-calls between programs whose attach types agree. */
#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s_) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s_, 0, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define ST(size, off, imm) INSN(BPF_ST | BPF_MEM | (size), BPF_REG_10, 0, off, imm)
/* A 64-bit immediate or a map's fd into a register: two-slot instructions. */
#define LD_IMM64(d, v)                                               \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (__s32)(__u32)(v)), \
		INSN(0, 0, 0, 0, (__s32)(__u32)((__u64)(v) >> 32))
#define LD_MAP(d, fd) \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
#define NINSN(a) (sizeof(a) / sizeof((a)[0]))

static int raw_load_opts(const char *name, const struct bpf_insn *insns, size_t n,
			 struct bpf_prog_load_opts *o)
{
	int fd;

	o->expected_attach_type = BPF_XDP;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, n, o);
	return fd < 0 ? -errno : keep(fd);
}

static int raw_load(const char *name, const struct bpf_insn *insns, size_t n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);

	return raw_load_opts(name, insns, n, &o);
}

/* The floor: return XDP_DROP, nothing else. */
static int floor_load(void)
{
	const struct bpf_insn insns[] = { MOV_IMM(BPF_REG_0, XDP_DROP), EXIT() };

	return raw_load("fg_floor", insns, NINSN(insns));
}

/* Building block: the floor plus one bpf_ktime_get_ns() call. */
static int clock_load(void)
{
	const struct bpf_insn insns[] = {
		CALL(BPF_FUNC_ktime_get_ns),
		MOV_IMM(BPF_REG_0, XDP_DROP),
		EXIT(),
	};

	return raw_load("fg_b_clock", insns, NINSN(insns));
}

/*
 * Building block: the floor plus one feed_rules lookup that hits (the key
 * of 239.1.1.1:5000), the key written on the stack either as whole 64-bit
 * words (what the filter does now) or field by field over a zeroed key (as
 * it did before): the hash reads it back in 4- and 8-byte loads.
 */
static int lookup_load(int rules, int by_fields)
{
	struct fg_rule_key k = { .family = FG_FAMILY_IPV4, .dport = htons(5000) };
	__u64 w[3] = { 0 };

	inet_pton(AF_INET, "239.1.1.1", k.addr);
	memcpy(w, &k, sizeof(k));
	if (by_fields) {
		const struct bpf_insn insns[] = {
			ST(BPF_DW, -24, 0),
			ST(BPF_DW, -16, 0),
			ST(BPF_W, -8, 0),
			ST(BPF_B, -24, k.family),
			ST(BPF_H, -22, k.dport),
			ST(BPF_W, -20, (__s32)k.addr[0]),
			MOV_REG(BPF_REG_2, BPF_REG_10),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -24),
			LD_MAP(BPF_REG_1, rules),
			CALL(BPF_FUNC_map_lookup_elem),
			MOV_IMM(BPF_REG_0, XDP_DROP),
			EXIT(),
		};

		return raw_load("fg_b_lk_fields", insns, NINSN(insns));
	} else {
		const struct bpf_insn insns[] = {
			LD_IMM64(BPF_REG_1, w[0]),
			INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, -24, 0),
			ST(BPF_DW, -16, 0),
			ST(BPF_DW, -8, 0),
			MOV_REG(BPF_REG_2, BPF_REG_10),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -24),
			LD_MAP(BPF_REG_1, rules),
			CALL(BPF_FUNC_map_lookup_elem),
			MOV_IMM(BPF_REG_0, XDP_DROP),
			EXIT(),
		};

		return raw_load("fg_b_lk_words", insns, NINSN(insns));
	}
}

/* Building blocks of the head stamp: bpf_xdp_adjust_head(-24) alone (the
 * target behind the wrapper, see wrapper_load), and -24 then +24 (the
 * buffer is as it was after every repetition). */
static int head_load(int give_back)
{
	const struct bpf_insn insns[] = {
		MOV_REG(BPF_REG_6, BPF_REG_1),	  MOV_IMM(BPF_REG_2, -FG_STAMP_LEN),
		CALL(BPF_FUNC_xdp_adjust_head),	  MOV_REG(BPF_REG_1, BPF_REG_6),
		MOV_IMM(BPF_REG_2, FG_STAMP_LEN), CALL(BPF_FUNC_xdp_adjust_head),
		MOV_IMM(BPF_REG_0, XDP_DROP),	  EXIT(),
	};

	if (give_back)
		return raw_load("fg_b_head_pair", insns, NINSN(insns));
	/* Stop after the first call: r0 = XDP_DROP; exit. */
	{
		const struct bpf_insn one[] = { insns[0], insns[1], insns[2], insns[6], insns[7] };

		return raw_load("fg_b_head", one, NINSN(one));
	}
}

/*
 * The wrapper in front of a stamped case: r6 = ctx; take the previous
 * repetition's stamp off (HEAD: bpf_xdp_adjust_head(+24) when the frame is
 * longer than the packet by a stamp; META: bpf_xdp_adjust_meta(+24), which
 * fails harmlessly when there is none); tail-call target; abort.
 */
static int wrapper_load(int target, int meta, __u32 len)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo);
	__u32 zero = 0;
	int pa, fd;

	if (target < 0)
		return target;
	pa = keep(bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "fg_bench_pa", 4, 4, 1, &mo));
	if (pa < 0)
		return -errno;
	if (bpf_map_update_elem(pa, &zero, &target, BPF_ANY))
		return -errno;
	if (meta) {
		const struct bpf_insn insns[] = {
			MOV_REG(BPF_REG_6, BPF_REG_1),
			MOV_IMM(BPF_REG_2, FG_STAMP_LEN),
			CALL(BPF_FUNC_xdp_adjust_meta),
			MOV_REG(BPF_REG_1, BPF_REG_6),
			LD_MAP(BPF_REG_2, pa),
			MOV_IMM(BPF_REG_3, 0),
			CALL(BPF_FUNC_tail_call),
			MOV_IMM(BPF_REG_0, XDP_ABORTED),
			EXIT(),
		};

		fd = raw_load("fg_bench_wrapm", insns, NINSN(insns));
	} else {
		const struct bpf_insn insns[] = {
			MOV_REG(BPF_REG_6, BPF_REG_1),
			/* r2 = data + len + 1; if (r2 > data_end) no stamp there */
			INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0),
			INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 4, 0),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, len + 1),
			INSN(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_2, BPF_REG_3, 3, 0),
			MOV_REG(BPF_REG_1, BPF_REG_6),
			MOV_IMM(BPF_REG_2, FG_STAMP_LEN),
			CALL(BPF_FUNC_xdp_adjust_head),
			MOV_REG(BPF_REG_1, BPF_REG_6),
			LD_MAP(BPF_REG_2, pa),
			MOV_IMM(BPF_REG_3, 0),
			CALL(BPF_FUNC_tail_call),
			MOV_IMM(BPF_REG_0, XDP_ABORTED),
			EXIT(),
		};

		fd = raw_load("fg_bench_wraph", insns, NINSN(insns));
	}
	return fd < 0 ? -errno : keep(fd);
}

/*
 * The hardware RX timestamp kfunc, bpf_xdp_metadata_rx_timestamp(): can it
 * be loaded, and timed? The kernel takes it only in a device-bound program
 * (loaded for one interface: here a veth made in this namespace, veth
 * implements it), and test-runs such a program only if it can. Fills why
 * with what happened; returns a program fd that test-runs, or -errno.
 */
static int kfunc_load(char *why, size_t len)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	__u8 pkt[64] = { 0 };
	int id, fd, err;

	id = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_xdp_metadata_rx_timestamp",
					      BTF_KIND_FUNC)
		     : -ENOENT;
	btf__free(vmlinux);
	if (id < 0) {
		snprintf(why, len, "this kernel has no bpf_xdp_metadata_rx_timestamp kfunc");
		return -ENOENT;
	}
	{
		const struct bpf_insn insns[] = {
			ST(BPF_DW, -8, 0),
			MOV_REG(BPF_REG_2, BPF_REG_10),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8),
			INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id),
			MOV_IMM(BPF_REG_0, XDP_DROP),
			EXIT(),
		};
		char *nl;

		fd = raw_load_opts("fg_b_rxts", insns, NINSN(insns), &o);
		if (fd >= 0) {
			snprintf(why, len, "loads in an ordinary XDP program (not timed)");
			return -EINVAL;
		}
		nl = strchr(log, '\n');
		if (nl)
			*nl = 0;
		if (system("ip link add fgbench0 type veth peer name fgbench1 >/dev/null 2>&1 && "
			   "ip link set fgbench0 up && ip link set fgbench1 up")) {
			snprintf(why, len,
				 "refused in an ordinary XDP program (\"%s\"); no veth to "
				 "bind one to",
				 log);
			return -ENODEV;
		}
		o.prog_ifindex = if_nametoindex("fgbench0");
		o.prog_flags = BPF_F_XDP_DEV_BOUND_ONLY;
		o.log_level = 0;
		o.log_buf = NULL;
		o.log_size = 0;
		fd = raw_load_opts("fg_b_rxts", insns, NINSN(insns), &o);
		if (fd < 0) {
			snprintf(why, len, "refused even device-bound to a veth: %s",
				 strerror(-fd));
			return fd;
		}
	}
	{
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = 1);

		err = bpf_prog_test_run_opts(fd, &t);
	}
	if (err) {
		snprintf(why, len,
			 "the kernel takes it only in a device-bound program (\"%s\"), and "
			 "BPF_PROG_TEST_RUN refuses a device-bound program (%s): not measurable "
			 "here. veth implements it but has no hardware time to give",
			 log, strerror(-err));
		return err;
	}
	snprintf(why, len, "device-bound to a veth (which has no hardware time to give)");
	return fd;
}

/* Set a byte of an object's .rodata (fg_meta_ok) before load, by its BTF. */
static int set_rodata_u8(struct bpf_object *obj, const char *var, __u8 v)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *m;
	int id;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return id;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		bpf_object__for_each_map(m, obj)
		{
			const char *n = bpf_map__name(m);
			size_t nl = strlen(n), sz;
			const __u8 *cur;
			__u8 *copy;
			int err;

			if (nl < 7 || strcmp(n + nl - 7, ".rodata"))
				continue;
			cur = bpf_map__initial_value(m, &sz);
			if (!cur || vs->offset >= sz)
				return -EINVAL;
			copy = malloc(sz);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, cur, sz);
			copy[vs->offset] = v;
			err = bpf_map__set_initial_value(m, copy, sz);
			free(copy);
			return err;
		}
	}
	return -ENOENT;
}

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

/* ---- the filter's set-up ------------------------------------------------- */

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
 * the NASDAQ feed; drop policy (a feed-only NIC); the given stamp mode; with
 * xsk_fd >= 0, that socket on queue 0. */
static int fg_setup(struct fg_inst *in, __u8 stamp, int xsk_fd)
{
	struct fg_config cfg = { .miss_policy = FG_ACTION_DROP,
				 .frag_policy = FG_ACTION_DROP,
				 .stamp_mode = stamp,
				 .stamp_cookie = 0x0123456789abcdefull };
	__u32 zero = 0;
	char grp[32];
	int err = 0;

	for (int i = 0; i < 4 && !err; i++) {
		snprintf(grp, sizeof(grp), "239.1.1.%d", i + 1);
		err = add_rule(in->rules, grp, 5000 + i, 1 + i);
	}
	if (!err)
		err = add_rule(in->rules, "0.0.0.0", 6000, 10);
	if (!err)
		err = add_rule(in->rules, "ff3e::1234", 5000, 11);
	if (!err)
		err = add_rule(in->rules, "233.54.12.111", 26477, 12);
	if (!err)
		err = bpf_map_update_elem(in->config, &zero, &cfg, BPF_ANY);
	if (!err && xsk_fd >= 0)
		err = bpf_map_update_elem(in->xsk, &zero, &xsk_fd, BPF_ANY);
	return err;
}

/* The current build from its skeleton. */
static int fg_open_skel(struct fg_inst *in, int meta_ok)
{
	in->skel = feedgate_bpf__open();
	if (!in->skel)
		return -errno;
	in->skel->rodata->fg_meta_ok = (__u8)meta_ok;
	if (feedgate_bpf__load(in->skel))
		return -EINVAL;
	in->prog = bpf_program__fd(in->skel->progs.fg_xdp_filter);
	in->rules = bpf_map__fd(in->skel->maps.feed_rules);
	in->config = bpf_map__fd(in->skel->maps.fg_config);
	in->xsk = bpf_map__fd(in->skel->maps.xsk_map);
	in->stats = bpf_map__fd(in->skel->maps.filter_stats);
	return 0;
}

/* A cut build or the baseline, from its object file. */
static int fg_open_file(struct fg_inst *in, const char *path, int meta_ok)
{
	struct bpf_program *p;
	int err;

	in->obj = bpf_object__open_file(path, NULL);
	if (!in->obj)
		return -errno;
	err = set_rodata_u8(in->obj, "fg_meta_ok", (__u8)meta_ok);
	if (err && err != -ENOENT) /* builds before the stamp modes have none */
		return err;
	err = bpf_object__load(in->obj);
	p = bpf_object__find_program_by_name(in->obj, FG_PROG_NAME);
	if (err || !p)
		return err ? err : -ENOENT;
	in->prog = bpf_program__fd(p);
	in->rules = bpf_object__find_map_fd_by_name(in->obj, FG_MAP_RULES);
	in->config = bpf_object__find_map_fd_by_name(in->obj, FG_MAP_CONFIG);
	in->xsk = bpf_object__find_map_fd_by_name(in->obj, FG_MAP_XSK);
	in->stats = bpf_object__find_map_fd_by_name(in->obj, FG_MAP_STATS);
	return in->rules < 0 || in->config < 0 || in->xsk < 0 || in->stats < 0 ? -ENOENT : 0;
}

static int fg_open(struct fg_inst *in, const char *path, int meta_ok, __u8 stamp, int xsk_fd)
{
	int err;

	memset(in, 0, sizeof(*in));
	err = path ? fg_open_file(in, path, meta_ok) : fg_open_skel(in, meta_ok);
	if (!err)
		err = fg_setup(in, stamp, xsk_fd);
	if (err)
		fprintf(stderr, "bench_xdp: Couldn't load %s: %s\n",
			path ? path : "the feedgate XDP program", strerror(-err));
	return err;
}

static void fg_close(struct fg_inst *in)
{
	feedgate_bpf__destroy(in->skel);
	bpf_object__close(in->obj);
	memset(in, 0, sizeof(*in));
}

/* filter_stats summed over CPUs. */
static int fg_stats(const struct fg_inst *in, struct fg_filter_stats *out)
{
	int n = libbpf_num_possible_cpus();
	struct fg_filter_stats *v = calloc(n > 0 ? n : 1, sizeof(*v));
	__u32 zero = 0;
	int err;

	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(in->stats, &zero, v) ? -errno : 0;
	memset(out, 0, sizeof(*out));
	for (int c = 0; !err && c < n; c++)
		for (size_t w = 0; w < sizeof(*out) / 8; w++)
			((__u64 *)out)[w] += ((const __u64 *)&v[c])[w];
	free(v);
	return err;
}

/* ---- timing -------------------------------------------------------------- */

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

static const char *verdict_name(__u32 v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					 "XDP_REDIRECT" };

	return v < 5 ? n[v] : "?";
}

/* Run every case once and check its verdict: a program that bailed out
 * early would look cheap. Then `rounds` interleaved timed rounds. */
static int measure(int rounds, __u32 repeat, int ifindex)
{
	__u32 retval;
	long ns;

	for (int i = 0; i < ncases; i++) {
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
		for (int i = 0; i < ncases; i++) {
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
	for (int i = 0; i < ncases; i++)
		cases[i].median = median(cases[i].ns, rounds);
	return 0;
}

/* Was every repetition of a stamped case stamped, in the mode asked? */
static int stamps_check(const struct fg_inst *in, const char *what, __u8 mode, char *bad,
			size_t len)
{
	struct fg_filter_stats s;
	__u64 got;

	if (fg_stats(in, &s))
		return -EIO;
	got = mode == FG_STAMP_META ? s.stamp_meta : s.stamp_head;
	if (s.redirected && got == s.redirected && !s.stamp_failed && !s.stamp_meta_refused)
		return 0;
	snprintf(bad, len,
		 "%s: %llu redirected, %llu stamped (meta %llu, head %llu, refused %llu, "
		 "failed %llu)",
		 what, (unsigned long long)s.redirected, (unsigned long long)got,
		 (unsigned long long)s.stamp_meta, (unsigned long long)s.stamp_head,
		 (unsigned long long)s.stamp_meta_refused, (unsigned long long)s.stamp_failed);
	return -EPROTO;
}

/* ---- the report ---------------------------------------------------------- */

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

struct report {
	int rounds, cpu, meta_ok;
	__u32 repeat;
	const char *base_name; /* NULL: no baseline */
	struct fg_cases now, before;
	int floor, clock, lk_words, lk_fields, head_pair, wrap_floor, wrap_head, wrap_meta, rxts;
	int cut[NCUT][NPKT];
	int alw_all[NPKT], alw_udp[NPKT];
	char rxts_why[512];
	double floor_small;
};

/* A stamped case less its wrapper (see the notes). */
static double corrected(const struct report *R, int id, __u8 mode)
{
	double fl = med(R->floor), pair = med(R->head_pair) - fl;

	if (id < 0)
		return 0;
	if (mode == FG_STAMP_HEAD) /* wrapper, and its give-back (half the pair) */
		return med(id) - (med(R->wrap_head) - med(R->head_pair)) - pair / 2;
	if (mode == FG_STAMP_META)
		return med(id) - (med(R->wrap_meta) - fl);
	return med(id) - (med(R->wrap_floor) - fl);
}

static void row(FILE *out, const struct report *R, const char *label, const char *mode, int pkt,
		double before, double now, int *all_ok)
{
	double fl = med(R->floor), a = med(R->alw_all[pkt]), u = med(R->alw_udp[pkt]);
	int ok_floor = now <= 2 * fl, ok_all = a >= 2 * now;
	char b[32] = "";

	if (R->base_name)
		snprintf(b, sizeof(b), "%.0f", before);
	*all_ok &= ok_floor && ok_all;
	fprintf(out, "| %s | %s | %u | %s | %.0f | %.2f | %.0f | %.2f | %.0f | %s | %s |\n", label,
		mode, pkts[pkt].len, b, now, now / fl, a, a / now, u, ok_floor ? "yes" : "NO",
		ok_all ? "yes" : "NO");
}

static void format_results(FILE *out, const struct report *R)
{
	const double fl = med(R->floor);
	const char *auto_mode = R->meta_ok ? "meta" : "head";
	char model[128], mode_ns[64];
	double load[3] = { 0, 0, 0 };
	struct utsname un;
	int all_ok = 1, all_ok_none = 1;

	cpu_model(model, sizeof(model));
	uname(&un);
	if (getloadavg(load, 3) != 3)
		memset(load, 0, sizeof(load));
	fprintf(out,
		"## XDP filter: cost per packet (BPF_PROG_TEST_RUN)\n\n"
		"`make bench-xdp` (bench/bench_xdp.c): %s (KVM guest), %ld CPUs, bench pinned to "
		"CPU %d, the other CPU left to the machine's other work; kernel %s. Each case: %d "
		"interleaved rounds of one test run with repeat = %u; figure = median over the "
		"rounds of the kernel's mean duration per repetition, in ns. The machine is shared "
		"(load average at the end %.2f %.2f %.2f): expect 1-3 ns of noise between runs. "
		"bpf_xdp_adjust_meta in XDP programs: %s.\n\n",
		model, sysconf(_SC_NPROCESSORS_ONLN), R->cpu, un.release, R->rounds, R->repeat,
		load[0], load[1], load[2],
		R->meta_ok ? "taken by this kernel" : "refused by this kernel (probed at start)");

	fprintf(out,
		"| case | stamp mode | bytes | before ns%s%s%s | feedgate ns | x floor | "
		"xdpfilt_alw_all ns | alw_all / feedgate | xdpfilt_alw_udp ns | <= 2x floor | "
		">= 2x cheaper than alw_all |\n"
		"|---|---|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|\n",
		R->base_name ? " (" : "", R->base_name ? R->base_name : "",
		R->base_name ? ")" : "");
	fprintf(out,
		"| floor: empty program (2 insns, XDP_DROP) | - | %u | %s | %.0f | 1.00 | | | "
		"| | |\n",
		pkts[PKT_FEED].len, R->base_name ? "" : "", fl);
	row(out, R, "feed hit, AF_XDP socket: XDP_REDIRECT [a]", "none", PKT_FEED,
	    corrected(R, R->before.sock_none, FG_STAMP_NONE),
	    corrected(R, R->now.sock_none, FG_STAMP_NONE), &all_ok_none);
	all_ok &= all_ok_none;
	row(out, R, "feed hit, AF_XDP socket: XDP_REDIRECT [a]", "head", PKT_FEED,
	    corrected(R, R->before.sock_head, FG_STAMP_HEAD),
	    corrected(R, R->now.sock_head, FG_STAMP_HEAD), &all_ok);
	if (R->meta_ok)
		row(out, R, "feed hit, AF_XDP socket: XDP_REDIRECT [a]", "meta", PKT_FEED,
		    corrected(R, R->before.sock_meta, FG_STAMP_META),
		    corrected(R, R->now.sock_meta, FG_STAMP_META), &all_ok);
	else
		fprintf(out,
			"| feed hit, AF_XDP socket: XDP_REDIRECT | meta | %u | | not measurable "
			"here: kernel refuses the helper | | | | | | |\n",
			pkts[PKT_FEED].len);
	snprintf(mode_ns, sizeof(mode_ns), "%s (any: no socket, no stamp)", auto_mode);
	for (int p = 0; p < NPKT; p++) {
		int ok = 1;

		row(out, R, pkts[p].row, mode_ns, p, med(R->before.nosock[p]),
		    med(R->now.nosock[p]), &ok);
		all_ok &= ok;
		all_ok_none &= ok;
	}

	fprintf(out,
		"\nTargets (every case <= 2x the floor and >= 2x cheaper than xdpfilt_alw_all): "
		"%s with stamp none; %s counting the stamped rows.\n\n",
		all_ok_none ? "met" : "NOT met", all_ok ? "met" : "NOT met");

	/* Where the time goes. */
	fprintf(out,
		"**Where the time goes** (same run; ns over the previous column's point, from "
		"the filter rebuilt with `FG_BENCH_CUT`, which returns at that point):\n\n"
		"| case | entry: filter_stats, rx counters | parse L2-L4, build the key | rule "
		"lookup (exact, then wildcard) | rule counters, verdict, socket check, policy | "
		"total | parse + lookup alone, x floor |\n"
		"|---|--:|--:|--:|--:|--:|--:|\n");
	for (int p = 0; p < NPKT; p++) {
		double c1 = med(R->cut[0][p]), c2 = med(R->cut[1][p]), c3 = med(R->cut[2][p]);
		double all = med(R->now.nosock[p]);

		fprintf(out, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f |\n", pkts[p].row,
			c1 - fl, c2 - c1, c3 - c2, all - c3, all - fl, c3 / fl);
	}
	{
		double c3 = med(R->cut[2][PKT_FEED]), none = corrected(R, R->now.sock_none, 0);
		double head = corrected(R, R->now.sock_head, FG_STAMP_HEAD);

		fprintf(out,
			"| feed hit with a socket, stamp none: rule counters, verdict, socket "
			"lookup, bpf_redirect_map, queue counters | | | | %.0f | %.0f | |\n"
			"| ... stamp head on top: clock, bpf_xdp_adjust_head, 24-byte record, "
			"counter | | | | +%.0f | %.0f | |\n",
			none - c3, none - fl, head - none, head - fl);
	}
	fprintf(out,
		"\nBuilding blocks, same run (ns over the floor): one `bpf_ktime_get_ns()` %.0f; "
		"one feed_rules lookup that hits, key written as three 64-bit words %.0f, the "
		"same key written field by field over a zeroed key %.0f (a 4- or 8-byte load of "
		"a key spanning two narrower stores cannot be forwarded from the store buffer: "
		"the filter wrote its key that way before); bpf_xdp_adjust_head -24 then +24 "
		"%.0f. Hardware RX timestamp kfunc (bpf_xdp_metadata_rx_timestamp): %s",
		med(R->clock) - fl, med(R->lk_words) - fl, med(R->lk_fields) - fl,
		med(R->head_pair) - fl, R->rxts_why);
	if (R->rxts >= 0)
		fprintf(out, "; %.0f ns over the floor", med(R->rxts) - fl);
	fprintf(out, ".\n\n");
	if (med(R->cut[2][PKT_FEED]) > 2 * fl)
		fprintf(out,
			"A program stopped right after its rule lookup, with no verdict, no rule "
			"counter and no redirect, already costs %.0f ns on the feed packet (%.2fx "
			"the floor): parse and one hash lookup of the 20-byte feed_rules key "
			"(jhash "
			"over 5 words, then a 20-byte compare) leave nothing of the 2.0x "
			"budget.\n\n",
			med(R->cut[2][PKT_FEED]), med(R->cut[2][PKT_FEED]) / fl);

	fprintf(out, "- Packets: ");
	for (int p = 0; p < NPKT; p++)
		fprintf(out, "%s (%u B)%s", pkts[p].name, pkts[p].len, p + 1 < NPKT ? "; " : ".\n");
	fprintf(out,
		"- feedgate: 7 redirect rules (4 IPv4 groups, 0.0.0.0:6000, one IPv6 group, the "
		"NASDAQ feed), drop policy. Without a socket a hit falls back to that policy "
		"(XDP_DROP) after the rule lookup and counters; nothing is stamped then, whatever "
		"the mode (rows marked %s: the mode `--stamp auto` picks on this kernel).\n",
		auto_mode);
	if (R->base_name)
		fprintf(out,
			"- before: the filter as of %s (`git archive` of its bpf/ and include/, "
			"built with the same clang), loaded and set up the same way in the same "
			"run.\n",
			R->base_name);
	else
		fprintf(out, "- before: not measured in this run (`make bench-xdp "
			     "XDP_BASELINE=REV` adds the filter of a git revision).\n");
	fprintf(out,
		"- [a] Test-run reuses one buffer for all repetitions and never resets it, so "
		"a stamp would pile onto the previous one. The socket rows run behind a wrapper "
		"that takes the previous stamp back off (head: bpf_xdp_adjust_head(+24) when the "
		"frame is a stamp longer than the packet; meta: bpf_xdp_adjust_meta(+24)) and "
		"tail-calls the filter. Its cost is subtracted: wrapper without give-back = "
		"wrapper + floor - floor (%.0f ns), or wrapper before a lone adjust_head(-24) "
		"minus the -24/+24 pair (%.0f ns), plus, for head, the give-back itself taken as "
		"half the pair. Raw: stamp none %.0f, head %.0f ns. Every repetition of the "
		"stamped rows was checked to be stamped (filter_stats: stamp_head = redirected, "
		"stamp_failed = 0).\n",
		med(R->wrap_floor) - fl, med(R->wrap_head) - med(R->head_pair),
		med(R->now.sock_none), med(R->now.sock_head));
	fprintf(out,
		"- xdpfilt_alw_all.o / xdpfilt_alw_udp.o (Debian libxdp1 1.3.1) are xdp-filter's "
		"allow-by-default programs with their maps empty, as `xdp-filter load` leaves "
		"them: every packet is parsed down to UDP, looked up in every deny table and "
		"passed (XDP_PASS), counted in xdp_stats_map. alw_all looks up destination and "
		"source MAC (per-CPU hash), destination and source address (per-CPU hash) and "
		"destination and source port (per-CPU array): 6 lookups, on keys of 4-6 bytes. "
		"alw_udp only the 2 port lookups (array lookups, inlined by the verifier). "
		"feedgate's hash key is {family, port, address}, 20 bytes; a per-port array "
		"cannot express its rules.\n"
		"- The floor is the test-run loop's own cost per repetition, amortised at repeat "
		"= %u. With repeat = 10 the same empty program reports %.0f ns (median of 101 "
		"runs, this run): test-run's fixed cost per call, spread over few repetitions. "
		"The 27-29 ns \"harness floor\" of the lab notes is a figure of that kind, not "
		"the floor used here.\n",
		R->repeat, R->floor_small);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: bench_xdp [--rounds N] [--repeat N] [--cpu N] [--results FILE]\n"
			"                 [--cuts DIR] [--baseline OBJ --baseline-name NAME]\n");
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
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

/* The cases of one build of the filter: no socket (every packet), and a
 * feed hit with a socket in each stamp mode the kernel has. Instances are
 * kept in inst[0..4]: no socket, none, head, meta. */
static int add_build(struct report *R, const char *path, struct fg_inst inst[4], int xsk_fd,
		     struct fg_cases *c, const char *tag)
{
	static char labels[2][4][64];
	const int k = path && R->base_name ? 1 : 0;
	const __u8 modes[] = { FG_STAMP_NONE, FG_STAMP_HEAD, FG_STAMP_META };
	int *ids[] = { &c->sock_none, &c->sock_head, &c->sock_meta };
	int wrap;

	if (fg_open(&inst[0], path, R->meta_ok, R->meta_ok ? FG_STAMP_META : FG_STAMP_HEAD, -1))
		return -1;
	for (int p = 0; p < NPKT; p++)
		c->nosock[p] = add_case(tag, inst[0].prog, p, XDP_DROP);
	for (int m = 0; m < 3; m++) {
		*ids[m] = -1;
		if (modes[m] == FG_STAMP_META && !R->meta_ok)
			continue;
		if (fg_open(&inst[1 + m], path, R->meta_ok, modes[m], xsk_fd))
			return -1;
		wrap = wrapper_load(inst[1 + m].prog, modes[m] == FG_STAMP_META,
				    pkts[PKT_FEED].len);
		if (wrap < 0) {
			fprintf(stderr, "bench_xdp: Couldn't load the stamp wrapper: %s\n",
				strerror(-wrap));
			return -1;
		}
		snprintf(labels[k][m], sizeof(labels[k][m]), "%s, socket, stamp %s", tag,
			 m == 0	  ? "none"
			 : m == 1 ? "head"
				  : "meta");
		*ids[m] = add_case(labels[k][m], wrap, PKT_FEED, XDP_REDIRECT);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "results", required_argument, NULL, 'o' },
		{ "cuts", required_argument, NULL, 'k' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "baseline-name", required_argument, NULL, 'B' },
		{ 0 },
	};
	static struct report R = { .rounds = 9, .cpu = -1, .repeat = 1000000 };
	static struct fg_inst now[4], before[4], cut[NCUT];
	static struct fg_pkt_xsk X;
	const char *results = NULL, *cuts = NULL, *baseline = NULL;
	struct bpf_object *alw_all = NULL, *alw_udp = NULL;
	int opt, err = 1, lo, all_fd, udp_fd, fd;
	char *text = NULL, bad[256];
	size_t text_sz = 0;
	cpu_set_t set;
	FILE *out;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			R.rounds = atoi(optarg);
			break;
		case 'n':
			R.repeat = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			R.cpu = atoi(optarg);
			break;
		case 'o':
			results = optarg;
			break;
		case 'k':
			cuts = optarg;
			break;
		case 'b':
			baseline = optarg;
			break;
		case 'B':
			R.base_name = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (R.rounds < 1 || R.rounds > MAX_ROUNDS || !R.repeat) {
		fprintf(stderr, "bench_xdp: --rounds must be 1..%d and --repeat > 0\n", MAX_ROUNDS);
		return 2;
	}
	if (!cuts) {
		fprintf(stderr, "bench_xdp: --cuts DIR (the FG_BENCH_CUT builds) is needed\n");
		return 2;
	}
	if (baseline && !R.base_name)
		R.base_name = baseline;
	if (!baseline)
		R.base_name = NULL;
	if (geteuid() != 0) {
		fprintf(stderr, "bench_xdp: needs root (BPF_PROG_TEST_RUN, AF_XDP)\n");
		return 1;
	}
	libbpf_set_print(quiet_libbpf);
	/* One CPU (default: the last) for every case: same core, same caches. */
	if (R.cpu < 0)
		R.cpu = libbpf_num_possible_cpus() - 1;
	CPU_ZERO(&set);
	CPU_SET(R.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "bench_xdp: Couldn't pin to CPU %d: %s\n", R.cpu, strerror(errno));
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
	R.meta_ok = fg_probe_xdp_meta();
	if (R.meta_ok < 0) {
		fprintf(stderr, "bench_xdp: Couldn't probe bpf_xdp_adjust_meta: %s\n",
			strerror(-R.meta_ok));
		return 1;
	}
	err = fg_pkt_xsk_open(&X, "lo", 0);
	if (err) {
		fprintf(stderr, "bench_xdp: Couldn't bind an AF_XDP socket to lo: %s\n",
			strerror(-err));
		return 1;
	}
	err = 1;

	/* Reference programs, building blocks, the wrappers' own cost. */
	R.floor = add_case("floor", floor_load(), PKT_FEED, XDP_DROP);
	R.clock = add_case("floor + clock", clock_load(), PKT_FEED, XDP_DROP);
	R.head_pair = add_case("floor + adjust_head -24 +24", head_load(1), PKT_FEED, XDP_DROP);
	R.wrap_floor = add_case("wrapper + floor",
				wrapper_load(cases[R.floor].prog, 0, pkts[PKT_FEED].len), PKT_FEED,
				XDP_DROP);
	R.wrap_head =
		add_case("wrapper + adjust_head -24",
			 wrapper_load(head_load(0), 0, pkts[PKT_FEED].len), PKT_FEED, XDP_DROP);
	R.wrap_meta =
		R.meta_ok ? add_case("meta wrapper + floor",
				     wrapper_load(cases[R.floor].prog, 1, 0), PKT_FEED, XDP_DROP)
			  : -1;

	/* The filter now, and before. */
	if (add_build(&R, NULL, now, X.fd, &R.now, "feedgate"))
		goto out;
	memset(&R.before, -1, sizeof(R.before));
	if (baseline && add_build(&R, baseline, before, X.fd, &R.before, "before"))
		goto out;
	R.lk_words = add_case("floor + lookup, key as words", lookup_load(now[0].rules, 0),
			      PKT_FEED, XDP_DROP);
	R.lk_fields = add_case("floor + lookup, key by fields", lookup_load(now[0].rules, 1),
			       PKT_FEED, XDP_DROP);
	fd = kfunc_load(R.rxts_why, sizeof(R.rxts_why));
	R.rxts = fd >= 0 ? add_case("floor + rx timestamp kfunc", fd, PKT_FEED, XDP_DROP) : -1;
	for (int i = 0; i < ncases; i++)
		if (cases[i].prog < 0) {
			fprintf(stderr, "bench_xdp: Couldn't load %s: %s\n", cases[i].label,
				strerror(-cases[i].prog));
			goto out;
		}

	for (int n = 0; n < NCUT; n++) {
		static char paths[NCUT][512];

		snprintf(paths[n], sizeof(paths[n]), "%s/feedgate_cut%d.bpf.o", cuts, n + 1);
		if (fg_open(&cut[n], paths[n], R.meta_ok, FG_STAMP_NONE, -1))
			goto out;
		for (int p = 0; p < NPKT; p++)
			R.cut[n][p] = add_case("feedgate cut", cut[n].prog, p, XDP_DROP);
	}

	all_fd = xdpfilt_load("xdpfilt_alw_all.o", &alw_all);
	udp_fd = xdpfilt_load("xdpfilt_alw_udp.o", &alw_udp);
	if (all_fd < 0 || udp_fd < 0)
		goto out;
	for (int p = 0; p < NPKT; p++) {
		R.alw_all[p] = add_case("xdpfilt_alw_all", all_fd, p, XDP_PASS);
		R.alw_udp[p] = add_case("xdpfilt_alw_udp", udp_fd, p, XDP_PASS);
	}
	if (ncases >= MAX_CASES || ncases < 0) {
		fprintf(stderr, "bench_xdp: too many cases\n");
		goto out;
	}

	printf("cases:");
	for (int i = 0; i < ncases; i++)
		printf(" %d=%s/%s", i, cases[i].label, pkts[cases[i].pkt].name);
	printf("\n");
	if (measure(R.rounds, R.repeat, lo))
		goto out;
	/* A stamp that failed would make its row look cheap. */
	if (stamps_check(&now[2], "feedgate, stamp head", FG_STAMP_HEAD, bad, sizeof(bad)) ||
	    (R.meta_ok &&
	     stamps_check(&now[3], "feedgate, stamp meta", FG_STAMP_META, bad, sizeof(bad))) ||
	    (baseline &&
	     stamps_check(&before[2], "before, stamp head", FG_STAMP_HEAD, bad, sizeof(bad)))) {
		fprintf(stderr, "bench_xdp: not every repetition was stamped: %s\n", bad);
		goto out;
	}
	/* The floor as seen with a tiny repeat count, for the record. */
	{
		__u32 small[101], retval;

		for (int i = 0; i < 101; i++) {
			long ns = time_run(cases[R.floor].prog, PKT_FEED, 10, lo, &retval);

			small[i] = ns < 0 ? 0 : ns;
		}
		R.floor_small = median(small, 101);
	}

	out = open_memstream(&text, &text_sz);
	if (!out)
		goto out;
	format_results(out, &R);
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
	while (nfds > 0)
		close(fds[--nfds]);
	bpf_object__close(alw_all);
	bpf_object__close(alw_udp);
	for (int i = 0; i < 4; i++) {
		fg_close(&now[i]);
		fg_close(&before[i]);
	}
	for (int n = 0; n < NCUT; n++)
		fg_close(&cut[n]);
	fg_pkt_xsk_close(&X);
	return err ? 1 : 0;
}
