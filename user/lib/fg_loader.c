// SPDX-License-Identifier: MIT
/*
 * Attach, find, and detach the XDP filter; read and write its maps.
 *
 * Two facts shape this file (see docs/lab.md, "Traps"):
 *  - `ip netns exec` remounts /sys, so /sys/fs/bpf there is a fresh, empty
 *    bpffs (or none): pins cannot be the only way back to the maps. The
 *    program attached to the interface is: bpf_xdp_query() gives its id, its
 *    info gives its map ids, and the maps are re-pinned from there.
 *  - Pins outlive programs. A pin left by an earlier attach names maps that
 *    no program uses any more, so a pin is trusted only when its map id is
 *    one of the attached program's map ids.
 * Every step that changes the system is undone when a later step fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_loader.h"
#include "fg_log.h"
#include "fg_rule.h"
#include "feedgate.skel.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define FG_NMAPS 6
#define FG_MAX_PROG_MAPS 64 /* a program with more maps than this is not ours */

/* feedgate's maps: names, where their fds go, and the shape the user side
 * was built for (the loader adopts a live map only with exactly this). */
static const struct {
	const char *name;
	size_t off;
	__u32 type, key_size, value_size, max_entries;
} fg_map_table[FG_NMAPS] = {
	{ FG_MAP_RULES, offsetof(struct fg_filter_handle, map_rules), BPF_MAP_TYPE_HASH,
	  sizeof(struct fg_rule_key), sizeof(struct fg_rule), FG_MAX_RULES },
	{ FG_MAP_RULE_STATS, offsetof(struct fg_filter_handle, map_rule_stats),
	  BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct fg_rule_stats), FG_MAX_RULES },
	{ FG_MAP_STATS, offsetof(struct fg_filter_handle, map_stats), BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(struct fg_filter_stats), 1 },
	{ FG_MAP_QUEUE_STATS, offsetof(struct fg_filter_handle, map_queue_stats),
	  BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct fg_queue_stats), FG_MAX_QUEUES },
	{ FG_MAP_CONFIG, offsetof(struct fg_filter_handle, map_config), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct fg_config), 1 },
	{ FG_MAP_XSK, offsetof(struct fg_filter_handle, map_xsk), BPF_MAP_TYPE_XSKMAP,
	  sizeof(__u32), sizeof(__u32), FG_MAX_QUEUES },
};

static int *fg_map_fd(struct fg_filter_handle *h, int i)
{
	return (int *)((char *)h + fg_map_table[i].off);
}

static void fg_handle_init(struct fg_filter_handle *h)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < FG_NMAPS; i++)
		*fg_map_fd(h, i) = -1;
}

void fg_filter_close(struct fg_filter_handle *h)
{
	if (!h)
		return;
	for (int i = 0; i < FG_NMAPS; i++) {
		int *fd = fg_map_fd(h, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

const char *fg_mode_name(enum fg_xdp_mode mode)
{
	return mode == FG_MODE_SKB ? "skb" : "native";
}

static __u32 fg_mode_flag(enum fg_xdp_mode mode)
{
	return mode == FG_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* Kernel interface names are 1..15 bytes without '/' (and never "." or
 * ".."); checking here also keeps pin paths inside FG_PIN_ROOT. */
static int fg_ifname_valid(const char *ifname)
{
	size_t n = ifname ? strlen(ifname) : 0;

	return n > 0 && n < IF_NAMESIZE && !strchr(ifname, '/') && strcmp(ifname, ".") &&
	       strcmp(ifname, "..");
}

int fg_pin_dir(const char *ifname, char *buf, size_t len)
{
	int n;

	if (!fg_ifname_valid(ifname))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", FG_PIN_ROOT, ifname);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* ifindex of ifname, or -ENODEV with the one message. */
static int fg_iface_index(const char *ifname)
{
	unsigned int idx;

	if (!fg_ifname_valid(ifname)) {
		pr_warn("%s: no such interface\n", ifname ? ifname : "");
		return -ENODEV;
	}
	idx = if_nametoindex(ifname);
	if (!idx) {
		pr_warn("%s: no such interface\n", ifname);
		return -ENODEV;
	}
	return (int)idx;
}

/* --- what is attached ------------------------------------------------------- */

struct fg_xdp_state {
	__u32 prog_id; /* 0: nothing attached */
	enum fg_xdp_mode mode;
	char name[BPF_OBJ_NAME_LEN];
	int ours; /* name and all six maps match, in name and shape */
	char abi[160]; /* named like ours, but a map of another shape: what differs */
	__u32 map_ids[FG_NMAPS]; /* ours only: ids in fg_map_table order */
};

/* A map named like ours of another shape: what differs, into why. 0 if none. */
static int fg_map_shape_differs(int i, const struct bpf_map_info *m, char *why, size_t len)
{
	if (m->type == fg_map_table[i].type && m->key_size == fg_map_table[i].key_size &&
	    m->value_size == fg_map_table[i].value_size &&
	    m->max_entries == fg_map_table[i].max_entries)
		return 0;
	if (why)
		snprintf(why, len,
			 "map %s is type %u, key %u, value %u bytes, %u entries; this feedgate "
			 "expects type %u, key %u, value %u, %u entries",
			 m->name, m->type, m->key_size, m->value_size, m->max_entries,
			 fg_map_table[i].type, fg_map_table[i].key_size, fg_map_table[i].value_size,
			 fg_map_table[i].max_entries);
	return 1;
}

/* Find feedgate's maps among a program's map ids by name, and check each
 * one's shape. Fills ids (and fds when not NULL: caller closes them). 0
 * when all six were found; -EPROTO (what differs in why) when one has
 * another shape: a build with another layout, never to be written to. */
static int fg_prog_maps(const __u32 *ids, __u32 nr, __u32 out_ids[FG_NMAPS], int *fds, char *why,
			size_t whylen)
{
	int bad = 0;

	int found = 0;

	memset(out_ids, 0, sizeof(__u32) * FG_NMAPS);
	for (__u32 j = 0; j < nr; j++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[j]);
		int keep = 0;

		if (fd < 0) {
			/* Out of descriptors or memory says nothing about the maps:
			 * that is the error, not "no such map". */
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == EPERM) {
				int e = -errno;

				for (int i = 0; fds && i < FG_NMAPS; i++)
					if (fds[i] >= 0) {
						close(fds[i]);
						fds[i] = -1;
					}
				return e;
			}
			continue;
		}
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			for (int i = 0; i < FG_NMAPS; i++) {
				if (!out_ids[i] && !strcmp(info.name, fg_map_table[i].name)) {
					if (!bad && fg_map_shape_differs(i, &info, why, whylen))
						bad = 1;
					out_ids[i] = info.id;
					found++;
					if (fds) {
						fds[i] = fd;
						keep = 1;
					}
					break;
				}
			}
		}
		if (!keep)
			close(fd);
	}
	if (bad)
		return -EPROTO;
	return found == FG_NMAPS ? 0 : -ENOENT;
}

/* The program attached to ifindex (driver or generic mode) and whether it
 * is feedgate's. Prints nothing. */
static int fg_xdp_state_get(int ifindex, struct fg_xdp_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[FG_MAX_PROG_MAPS];
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, err;

	memset(st, 0, sizeof(*st));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (q.drv_prog_id) {
		st->prog_id = q.drv_prog_id;
		st->mode = FG_MODE_NATIVE;
	} else if (q.skb_prog_id) {
		st->prog_id = q.skb_prog_id;
		st->mode = FG_MODE_SKB;
	} else if (q.hw_prog_id) {
		st->prog_id = q.hw_prog_id;
		st->mode = FG_MODE_NATIVE;
		snprintf(st->name, sizeof(st->name), "offloaded");
		return 0;
	} else {
		return 0;
	}
	fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (fd < 0) {
		if (errno == EPERM || errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			return -errno;
		snprintf(st->name, sizeof(st->name), "?");
		return 0;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = FG_MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(st->name, sizeof(st->name), "%s", info.name);
		if (!strcmp(info.name, FG_PROG_NAME) && info.nr_map_ids <= FG_MAX_PROG_MAPS) {
			int pm = fg_prog_maps(ids, info.nr_map_ids, st->map_ids, NULL, st->abi,
					      sizeof(st->abi));

			if (pm == -EMFILE || pm == -ENFILE || pm == -ENOMEM || pm == -EPERM) {
				close(fd);
				return pm;
			}
			st->ours = !pm;
		}
	} else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

/* How to remove someone else's program by hand, for the messages. */
static const char *fg_off_cmd(enum fg_xdp_mode mode)
{
	return mode == FG_MODE_SKB ? "xdpgeneric off" : "xdp off";
}

int fg_filter_is_attached(const char *ifname)
{
	struct fg_xdp_state st;
	unsigned int idx;
	int err;

	if (!fg_ifname_valid(ifname))
		return -ENODEV;
	idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	err = fg_xdp_state_get((int)idx, &st);
	if (err)
		return err;
	return st.prog_id && st.ours;
}

/* --- bpffs and pins ----------------------------------------------------------- */

static int fg_bpffs_mounted(void)
{
	struct statfs sf;

	return !statfs(FG_BPFFS, &sf) && sf.f_type == BPF_FS_MAGIC;
}

/* /sys/fs/bpf must be a bpffs; mount one when it is not (a host without it,
 * or the fresh sysfs of `ip netns exec`). */
static int fg_bpffs_ensure(void)
{
	if (fg_bpffs_mounted())
		return 0;
	if (mount("bpf", FG_BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	return fg_bpffs_mounted() ? 0 : -ENOTSUP;
}

static int fg_pin_path(const char *ifname, int i, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", FG_PIN_ROOT, ifname, fg_map_table[i].name);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int fg_pin_mkdirs(const char *ifname)
{
	char dir[PATH_MAX];
	int err = fg_pin_dir(ifname, dir, sizeof(dir));

	if (err)
		return err;
	if (mkdir(FG_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Remove our pins of ifname and the directories when they are empty. */
static void fg_unpin_all(const char *ifname)
{
	char path[PATH_MAX];

	for (int i = 0; i < FG_NMAPS; i++)
		if (!fg_pin_path(ifname, i, path, sizeof(path)))
			unlink(path);
	if (!fg_pin_dir(ifname, path, sizeof(path)))
		rmdir(path);
	rmdir(FG_PIN_ROOT);
}

/* Pin fd as map i of ifname (replacing whatever is there), mode 0600. */
static int fg_pin_one(const char *ifname, int i, int fd)
{
	char path[PATH_MAX];
	int err = fg_pin_path(ifname, i, path, sizeof(path));

	if (err)
		return err;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(fd, path))
		return -errno;
	if (chmod(path, 0600))
		return -errno;
	return 0;
}

static __u32 fg_pinned_id(const char *ifname, int i);

/* What a map is, for people: "map id 12 (hash, key 20, value 40, 4096 entries, name x)". */
static void fg_map_describe(int fd, char *buf, size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	const char *type;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		snprintf(buf, len, "a map (%s)", strerror(errno));
		return;
	}
	type = libbpf_bpf_map_type_str(info.type);
	snprintf(buf, len, "map id %u (%s, key %u, value %u, %u entries, name %s)", info.id,
		 type ? type : "?", info.key_size, info.value_size, info.max_entries, info.name);
}

/*
 * The pins of ifname against the attached program's maps: 0 when each pin
 * is missing or names the program's map, or when none names them (pins of
 * an earlier program, or of another bpffs: replaced as a whole). Some
 * naming the program's maps and some not: someone put another map in their
 * place, and whatever was written to it (bpftool map update on the pin)
 * would be lost if it were re-pinned. Refused: -EEXIST and one line.
 */
static int fg_pins_check(const char *ifname, const __u32 map_ids[FG_NMAPS], const int *fds)
{
	int match = 0, other = -1;
	__u32 pinned[FG_NMAPS];
	char path[PATH_MAX], a[160], b[160];
	int fd;

	for (int i = 0; i < FG_NMAPS; i++) {
		pinned[i] = fg_pinned_id(ifname, i);
		if (pinned[i] && pinned[i] == map_ids[i])
			match++;
		else if (pinned[i] && other < 0)
			other = i;
	}
	if (!match || other < 0)
		return 0;
	if (fg_pin_path(ifname, other, path, sizeof(path)))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	fg_map_describe(fd, a, sizeof(a));
	close(fd);
	fg_map_describe(fds[other], b, sizeof(b));
	pr_warn("%s: the pin %s is %s, not the attached program's %s; not replaced: anything "
		"written to it would be lost (remove it, or detach and attach again)\n",
		ifname, path, a, b);
	return -EEXIST;
}

/* Id of the map pinned as map i of ifname, 0 when none. */
static __u32 fg_pinned_id(const char *ifname, int i)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), id = 0;
	char path[PATH_MAX];
	int fd;

	if (fg_pin_path(ifname, i, path, sizeof(path)))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		id = info.id;
	close(fd);
	return id;
}

/* --- attach / open / detach ---------------------------------------------------- */

static void fg_warn_attached(const char *ifname, const struct fg_xdp_state *st)
{
	if (st->ours)
		pr_warn("%s: feedgate already attached (prog id %u, %s mode); run 'feedgate detach "
			"%s' first\n",
			ifname, st->prog_id, fg_mode_name(st->mode), ifname);
	else if (st->abi[0])
		pr_warn("%s: a feedgate program of another build is attached (id %u: %s); remove "
			"it "
			"first (ip link set dev %s %s)\n",
			ifname, st->prog_id, st->abi, ifname, fg_off_cmd(st->mode));
	else
		pr_warn("%s: another XDP program is attached (id %u, name '%s'); remove it first "
			"(ip link set dev %s %s)\n",
			ifname, st->prog_id, st->name, ifname, fg_off_cmd(st->mode));
}

/*
 * Does the kernel let XDP programs call bpf_xdp_adjust_meta()? A trial
 * load of four instructions, because the answer differs between builds
 * of one kernel version, and libbpf's helper probe (libbpf 1.1) reads
 * this kernel's refusal ("program of this type cannot use helper") as
 * support. 1 yes, 0 no, -errno when the trial could not be made.
 */
int fg_probe_xdp_meta(void)
{
	const struct bpf_insn insns[] = {
		/* r2 = -8; call bpf_xdp_adjust_meta(ctx = r1, r2); r0 = XDP_PASS; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = -8 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_xdp_adjust_meta },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fg_probe_meta", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	err = -errno;
	/* EINVAL is the verifier's no; EPERM/ENOMEM say nothing about the helper. */
	return err == -EINVAL ? 0 : err;
}

const char *fg_stamp_name(int mode)
{
	switch (mode) {
	case FG_STAMP_META:
		return "meta";
	case FG_STAMP_HEAD:
		return "head";
	case FG_STAMP_NONE:
		return "none";
	case FG_STAMP_AUTO:
		return "auto";
	}
	return "none";
}

/* A random, non-zero cookie for the stamps of one attachment. */
static __u64 fg_stamp_cookie_new(void)
{
	__u64 c = 0;

	while (!c) {
		if (syscall(SYS_getrandom, &c, sizeof(c), 0) != (long)sizeof(c)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			c = ((__u64)ts.tv_nsec << 32) ^ (__u64)ts.tv_sec ^ ((__u64)getpid() << 17) ^
			    0x9e3779b97f4a7c15ull;
		}
	}
	return c;
}

/* The stamp mode to load for a request, after the probe. */
static int fg_stamp_resolve(const char *ifname, __u8 want, int meta_ok, __u8 *mode,
			    struct fg_blame *blame)
{
	switch (want) {
	case FG_STAMP_AUTO:
		*mode = meta_ok ? FG_STAMP_META : FG_STAMP_HEAD;
		return 0;
	case FG_STAMP_META:
		if (!meta_ok) {
			fg_blame_set(blame, FG_INPUT_STAMP,
				     "%s: this kernel refuses bpf_xdp_adjust_meta in XDP programs: "
				     "no metadata stamp",
				     ifname);
			return -EOPNOTSUPP;
		}
		/* fallthrough */
	case FG_STAMP_HEAD:
	case FG_STAMP_NONE:
		*mode = want;
		return 0;
	}
	pr_warn("%s: invalid stamp mode %u\n", ifname, want);
	return -EINVAL;
}

int fg_stamp_set(struct fg_filter_handle *h, __u8 want, __u8 *mode, struct fg_blame *blame)
{
	struct fg_config c;
	int err;

	fg_blame_clear(blame);
	err = fg_config_read(h, &c);
	if (err)
		return err;
	err = fg_stamp_resolve(h->ifname, want, c.meta_ok, mode, blame);
	if (err)
		return err;
	c.stamp_mode = *mode;
	return fg_config_write(h, &c);
}

/* ifname's index and the program attached there: 0, or -errno after one
 * line (no such interface, or the query failed). */
static int fg_iface_state(const char *ifname, int *ifindex, struct fg_xdp_state *st)
{
	int err;

	*ifindex = fg_iface_index(ifname);
	if (*ifindex < 0)
		return *ifindex;
	err = fg_xdp_state_get(*ifindex, st);
	if (err)
		pr_warn("%s: couldn't query the attached XDP program: %s\n", ifname,
			strerror(-err));
	return err;
}

/* An fd for the program of that id, or -errno after one line. */
static int fg_prog_fd(const char *ifname, __u32 id)
{
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0) {
		fd = -errno;
		pr_warn("%s: couldn't open XDP program %u: %s\n", ifname, id, strerror(-fd));
	}
	return fd;
}

static int fg_policy_ok(__u8 p)
{
	return p == 0 || p == FG_ACTION_PASS || p == FG_ACTION_DROP;
}

int fg_filter_attach(const char *ifname, const struct fg_attach_opts *o, struct fg_filter_handle *h,
		     struct fg_blame *blame)
{
	const struct fg_attach_opts def = { FG_MODE_NATIVE, FG_ACTION_PASS, FG_ACTION_PASS,
					    FG_STAMP_AUTO };
	struct fg_config cfg = {};
	struct feedgate_bpf *skel = NULL;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), zero = 0;
	struct fg_xdp_state st;
	int ifindex, prog_fd = -1, err, attached = 0, meta_ok;
	__u32 flags;

	fg_blame_clear(blame);
	fg_handle_init(h);
	ifindex = fg_iface_index(ifname);
	if (ifindex < 0)
		return ifindex;
	if (!o)
		o = &def;
	if ((o->mode != FG_MODE_NATIVE && o->mode != FG_MODE_SKB) ||
	    !fg_policy_ok(o->miss_policy) || !fg_policy_ok(o->frag_policy)) {
		pr_warn("%s: invalid attach options (mode %d, policies %u/%u)\n", ifname, o->mode,
			o->miss_policy, o->frag_policy);
		return -EINVAL;
	}
	err = fg_xdp_state_get(ifindex, &st);
	if (err) {
		pr_warn("%s: couldn't query the attached XDP program: %s\n", ifname,
			strerror(-err));
		return err;
	}
	if (st.prog_id) {
		fg_warn_attached(ifname, &st);
		return st.ours ? -EEXIST : -EBUSY;
	}
	/* bpffs first: when pinning is impossible, nothing gets attached. */
	err = fg_bpffs_ensure();
	if (err) {
		pr_warn("%s: bpffs unusable: couldn't mount it on %s: %s\n", ifname, FG_BPFFS,
			strerror(-err));
		return err;
	}
	err = fg_pin_mkdirs(ifname);
	if (err) {
		pr_warn("%s: bpffs unusable: couldn't create %s/%s: %s\n", ifname, FG_PIN_ROOT,
			ifname, strerror(-err));
		fg_unpin_all(ifname);
		return err;
	}

	meta_ok = fg_probe_xdp_meta();
	if (meta_ok < 0) {
		err = meta_ok;
		pr_warn("%s: couldn't probe the kernel's XDP helpers: %s\n", ifname,
			strerror(-err));
		goto out;
	}
	err = fg_stamp_resolve(ifname, o->stamp, meta_ok, &cfg.stamp_mode, blame);
	if (err)
		goto out;
	skel = feedgate_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("%s: couldn't open the XDP program: %s\n", ifname, strerror(-err));
		goto out;
	}
	/* Without the helper the verifier must never see the call. */
	skel->rodata->fg_meta_ok = (__u8)meta_ok;
	err = feedgate_bpf__load(skel);
	if (err) {
		err = err < 0 ? err : -errno;
		pr_warn("%s: couldn't load the XDP program: %s (run with -v for libbpf's log)\n",
			ifname, strerror(-err));
		goto out;
	}
	cfg.miss_policy = o->miss_policy ? o->miss_policy : FG_ACTION_PASS;
	cfg.frag_policy = o->frag_policy ? o->frag_policy : FG_ACTION_PASS;
	cfg.meta_ok = (__u8)meta_ok;
	cfg.stamp_cookie = fg_stamp_cookie_new();
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fg_config), &zero, &cfg, BPF_ANY)) {
		err = -errno;
		pr_warn("%s: couldn't write the filter's config: %s\n", ifname, strerror(-err));
		goto out;
	}
	prog_fd = bpf_program__fd(skel->progs.fg_xdp_filter);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		err = -errno;
		pr_warn("%s: couldn't read the program's info: %s\n", ifname, strerror(-err));
		goto out;
	}

	flags = XDP_FLAGS_UPDATE_IF_NOEXIST | fg_mode_flag(o->mode);
	err = bpf_xdp_attach(ifindex, prog_fd, flags, NULL);
	if (err) {
		if ((err == -EBUSY || err == -EEXIST) && !fg_xdp_state_get(ifindex, &st) &&
		    st.prog_id)
			fg_warn_attached(ifname, &st);
		else if (o->mode == FG_MODE_NATIVE)
			fg_blame_set(blame, FG_INPUT_XDP_MODE,
				     "%s: couldn't attach in native mode: %s", ifname,
				     strerror(-err));
		else
			pr_warn("%s: couldn't attach in skb mode: %s\n", ifname, strerror(-err));
		goto out;
	}
	attached = 1;

	/* Stale pins from an earlier attach are replaced: nothing of ours was
	 * attached a moment ago, so no live program uses them here. */
	for (int i = 0; i < FG_NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, fg_map_table[i].name);

		err = m ? fg_pin_one(ifname, i, bpf_map__fd(m)) : -ENOENT;
		if (err) {
			pr_warn("%s: bpffs unusable: couldn't pin %s/%s/%s: %s; not attached\n",
				ifname, FG_PIN_ROOT, ifname, fg_map_table[i].name, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < FG_NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, fg_map_table[i].name);
		int fd = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 3);

		if (fd < 0) {
			err = -errno;
			pr_warn("%s: couldn't duplicate a map fd: %s; not attached\n", ifname,
				strerror(-err));
			goto out;
		}
		*fg_map_fd(h, i) = fd;
	}
	h->ifindex = ifindex;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	h->prog_id = info.id;
	h->mode = o->mode;
	err = 0;
out:
	if (err) {
		if (attached) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, dopts, .old_prog_fd = prog_fd);

			/* By expected fd: never removes a program that replaced ours. */
			bpf_xdp_detach(ifindex, fg_mode_flag(o->mode) | XDP_FLAGS_REPLACE, &dopts);
		}
		fg_filter_close(h);
		fg_unpin_all(ifname);
	}
	feedgate_bpf__destroy(skel);
	return err;
}

int fg_filter_open(const char *ifname, struct fg_filter_handle *h)
{
	__u32 ids[FG_MAX_PROG_MAPS], map_ids[FG_NMAPS];
	int fds[FG_NMAPS] = { -1, -1, -1, -1, -1, -1 };
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct fg_xdp_state st;
	int ifindex, fd, err, repin = 0;

	fg_handle_init(h);
	err = fg_iface_state(ifname, &ifindex, &st);
	if (err)
		return err;
	if (!st.prog_id) {
		pr_warn("%s: feedgate is not attached; run 'feedgate attach %s' first\n", ifname,
			ifname);
		return -ENOENT;
	}
	if (!st.ours && st.abi[0]) {
		pr_warn("%s: the attached feedgate program (id %u) is of another build, not used: "
			"%s\n",
			ifname, st.prog_id, st.abi);
		return -EPROTO;
	}
	if (!st.ours) {
		pr_warn("%s: the attached XDP program (id %u, name '%s') is not feedgate's\n",
			ifname, st.prog_id, st.name);
		return -EBUSY;
	}

	/* The maps of the program attached now, by id: the kernel's word. */
	fd = fg_prog_fd(ifname, st.prog_id);
	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = FG_MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (!err && info.nr_map_ids > FG_MAX_PROG_MAPS)
		err = -E2BIG;
	if (!err)
		err = fg_prog_maps(ids, info.nr_map_ids, map_ids, fds, NULL, 0);
	if (err) {
		for (int i = 0; i < FG_NMAPS; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		pr_warn("%s: couldn't find the maps of XDP program %u: %s\n", ifname, st.prog_id,
			strerror(-err));
		return err;
	}
	for (int i = 0; i < FG_NMAPS; i++)
		*fg_map_fd(h, i) = fds[i];
	h->ifindex = ifindex;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	h->prog_id = info.id;
	h->mode = st.mode;

	/* Pins: keep the ones that name these maps, replace missing or stale
	 * ones (best effort: the maps are open either way), but never one that
	 * someone swapped for another map. */
	err = fg_bpffs_mounted() ? fg_pins_check(ifname, map_ids, fds) : 0;
	if (err) {
		fg_filter_close(h);
		return err;
	}
	for (int i = 0; i < FG_NMAPS; i++)
		if (!fg_bpffs_mounted() || fg_pinned_id(ifname, i) != map_ids[i])
			repin = 1;
	if (repin) {
		err = fg_bpffs_ensure();
		if (!err)
			err = fg_pin_mkdirs(ifname);
		for (int i = 0; !err && i < FG_NMAPS; i++)
			if (fg_pinned_id(ifname, i) != map_ids[i])
				err = fg_pin_one(ifname, i, fds[i]);
		if (err)
			pr_debug("%s: couldn't pin the maps again: %s\n", ifname, strerror(-err));
		else
			pr_debug("%s: maps pinned again under %s/%s\n", ifname, FG_PIN_ROOT,
				 ifname);
	}
	return 0;
}

int fg_filter_detach(const char *ifname)
{
	struct fg_xdp_state st;
	int ifindex, fd, err;

	err = fg_iface_state(ifname, &ifindex, &st);
	if (err)
		return err;
	if (!st.prog_id) {
		/* Leftover pins of a program that is gone are only clutter. */
		if (fg_bpffs_mounted())
			fg_unpin_all(ifname);
		pr_warn("%s: feedgate is not attached\n", ifname);
		return -ENOENT;
	}
	if (!st.ours) {
		pr_warn("%s: the attached XDP program (id %u, name '%s') is not feedgate's%s%s; "
			"not "
			"detaching it (ip link set dev %s %s)\n",
			ifname, st.prog_id, st.name, st.abi[0] ? ": " : "", st.abi, ifname,
			fg_off_cmd(st.mode));
		return -EBUSY;
	}
	fd = fg_prog_fd(ifname, st.prog_id);
	if (fd < 0)
		return fd;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, dopts, .old_prog_fd = fd);

		/* XDP_FLAGS_REPLACE with the expected program: if someone swapped
		 * it meanwhile, the kernel refuses instead of removing theirs. */
		err = bpf_xdp_detach(ifindex, fg_mode_flag(st.mode) | XDP_FLAGS_REPLACE, &dopts);
	}
	close(fd);
	if (err) {
		pr_warn("%s: couldn't detach XDP program %u: %s\n", ifname, st.prog_id,
			strerror(-err));
		return err;
	}
	if (fg_bpffs_mounted())
		fg_unpin_all(ifname);
	return 0;
}

/* An interface deleted under a running filter takes its XDP
 * program with it, but the pins under FG_PIN_ROOT/IFACE keep the maps alive.
 * Only for a name that no longer exists here, so a live filter is never
 * unpinned by mistake. */
int fg_filter_forget(const char *ifname)
{
	if (!fg_ifname_valid(ifname))
		return -EINVAL;
	if (if_nametoindex(ifname))
		return -EEXIST;
	if (fg_bpffs_mounted())
		fg_unpin_all(ifname);
	return 0;
}

/* --- who uses an interface's filter -------------------------------------------------------- */

#define FG_RUN_DIR "/run/feedgate"

int fg_iface_use(const char *ifname)
{
	char path[128];
	int fd;

	if (!fg_ifname_valid(ifname))
		return -EINVAL;
	if (mkdir(FG_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s.users", FG_RUN_DIR, ifname);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Shared: every consumer holds one for as long as it runs; the kernel
	 * drops it when the process ends, however it ends. */
	if (flock(fd, LOCK_SH)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int fg_iface_sole_user(int fd)
{
	/* Exclusive only when no other process holds its shared lock. */
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 1;
	return errno == EWOULDBLOCK ? 0 : -errno;
}

int fg_require_root(const char *cmd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	int ok = 0;

	if (!syscall(SYS_capget, &hdr, data)) {
#define FG_HAS_CAP(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
		/* CAP_SYS_ADMIN covers CAP_BPF on kernels before 5.8. */
		ok = FG_HAS_CAP(CAP_NET_ADMIN) &&
		     (FG_HAS_CAP(CAP_BPF) || FG_HAS_CAP(CAP_SYS_ADMIN));
#undef FG_HAS_CAP
	}
	if (ok)
		return 0;
	pr_warn("%s: must be run as root (CAP_NET_ADMIN, CAP_BPF)\n", cmd);
	return -EPERM;
}

int fg_iface_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = {};
	char path[PATH_MAX];
	struct dirent *de;
	int fd, n = 0;
	DIR *d;

	if (!fg_ifname_valid(ifname))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		ifr.ifr_data = (void *)&ch;
		if (!ioctl(fd, SIOCETHTOOL, &ifr))
			n = (int)(ch.rx_count + ch.combined_count);
		close(fd);
		if (n > 0)
			return n;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "rx-", 3))
				n++;
		closedir(d);
	}
	return n > 0 ? n : 1;
}

/* --- maps -------------------------------------------------------------------- */

static int fg_check_open(struct fg_filter_handle *h, int fd, const char *what)
{
	if (fd < 0) {
		pr_warn("%s: %s map is not open\n", h ? h->ifname : "?", what);
		return -EBADF;
	}
	return 0;
}

/* Sum the per-CPU copies of a value made of nwords __u64 counters. */
static int fg_percpu_sum(int fd, __u32 key, __u64 *out, size_t nwords)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *buf;
	int err = 0;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	buf = calloc((size_t)ncpus, nwords * sizeof(__u64));
	if (!buf)
		return -ENOMEM;
	memset(out, 0, nwords * sizeof(__u64));
	if (bpf_map_lookup_elem(fd, &key, buf)) {
		err = -errno;
	} else {
		for (int c = 0; c < ncpus; c++)
			for (size_t w = 0; w < nwords; w++)
				out[w] += buf[(size_t)c * nwords + w];
	}
	free(buf);
	return err;
}

int fg_config_read(struct fg_filter_handle *h, struct fg_config *c)
{
	__u32 zero = 0;
	int err = fg_check_open(h, h->map_config, FG_MAP_CONFIG);

	if (err)
		return err;
	if (bpf_map_lookup_elem(h->map_config, &zero, c)) {
		err = -errno;
		pr_warn("%s: couldn't read %s: %s\n", h->ifname, FG_MAP_CONFIG, strerror(-err));
	}
	return err;
}

int fg_config_write(struct fg_filter_handle *h, const struct fg_config *c)
{
	__u32 zero = 0;
	int err = fg_check_open(h, h->map_config, FG_MAP_CONFIG);

	if (err)
		return err;
	if (!fg_policy_ok(c->miss_policy) || !fg_policy_ok(c->frag_policy)) {
		pr_warn("%s: invalid policies %u/%u\n", h->ifname, c->miss_policy, c->frag_policy);
		return -EINVAL;
	}
	if (bpf_map_update_elem(h->map_config, &zero, c, BPF_ANY)) {
		err = -errno;
		pr_warn("%s: couldn't write %s: %s\n", h->ifname, FG_MAP_CONFIG, strerror(-err));
	}
	return err;
}

/*
 * Entry key of a per-CPU counter map, summed over the CPUs into out (size
 * bytes of u64 counters). what names a key in the range message ("rule
 * id"); max 0 marks a map of one entry, whose messages show no key.
 */
static int fg_counters_read(struct fg_filter_handle *h, int fd, const char *map, const char *what,
			    __u32 key, __u32 max, void *out, size_t size)
{
	int err = fg_check_open(h, fd, map);

	if (err)
		return err;
	if (max && key >= max) {
		pr_warn("%s: %s %u out of range (< %u)\n", h->ifname, what, key, max);
		return -ERANGE;
	}
	err = fg_percpu_sum(fd, key, (__u64 *)out, size / 8);
	if (err && max)
		pr_warn("%s: couldn't read %s[%u]: %s\n", h->ifname, map, key, strerror(-err));
	else if (err)
		pr_warn("%s: couldn't read %s: %s\n", h->ifname, map, strerror(-err));
	return err;
}

int fg_rule_stats_read(struct fg_filter_handle *h, __u32 rule_id, struct fg_rule_stats *out)
{
	return fg_counters_read(h, h->map_rule_stats, FG_MAP_RULE_STATS, "rule id", rule_id,
				FG_MAX_RULES, out, sizeof(*out));
}

int fg_filter_stats_read(struct fg_filter_handle *h, struct fg_filter_stats *out)
{
	return fg_counters_read(h, h->map_stats, FG_MAP_STATS, NULL, 0, 0, out, sizeof(*out));
}

int fg_queue_stats_read(struct fg_filter_handle *h, __u32 queue, struct fg_queue_stats *out)
{
	return fg_counters_read(h, h->map_queue_stats, FG_MAP_QUEUE_STATS, "queue", queue,
				FG_MAX_QUEUES, out, sizeof(*out));
}

int fg_rule_lookup(struct fg_filter_handle *h, const struct fg_rule_key *k, struct fg_rule *r)
{
	if (h->map_rules < 0)
		return -EBADF;
	return bpf_map_lookup_elem(h->map_rules, k, r) ? -errno : 0;
}

/* A key and value the program can use: the shape fg_rule_parse() makes. */
static int fg_rule_valid(const struct fg_rule_key *k, const struct fg_rule *r)
{
	unsigned int width;

	if (k->family == FG_FAMILY_IPV4)
		width = 32;
	else if (k->family == FG_FAMILY_IPV6)
		width = 128;
	else
		return 0;
	if (k->pad || !k->dport)
		return 0;
	if (width == 32 && (k->addr[1] | k->addr[2] | k->addr[3]))
		return 0;
	if (r->action < FG_ACTION_PASS || r->action > FG_ACTION_REDIRECT)
		return 0;
	if (r->src_prefix_len > width)
		return 0;
	if (width == 32 && (r->src_addr[1] | r->src_addr[2] | r->src_addr[3]))
		return 0;
	return 1;
}

/* Walk feed_rules calling fn(key, value, ctx) for every entry; stops early
 * when fn returns non-zero. Entries deleted during the walk are skipped. */
static int fg_rules_walk(int fd,
			 int (*fn)(const struct fg_rule_key *, const struct fg_rule *, void *),
			 void *ctx)
{
	struct fg_rule_key cur, next;
	struct fg_rule val;
	int first = 1, n = 0;

	/* Bounded: a concurrent delete restarts get_next_key from the top. */
	while (n++ < 4 * FG_MAX_RULES) {
		if (bpf_map_get_next_key(fd, first ? NULL : &cur, &next))
			return errno == ENOENT ? 0 : -errno;
		first = 0;
		cur = next;
		if (bpf_map_lookup_elem(fd, &cur, &val))
			continue;
		if (fn(&cur, &val, ctx))
			return 0;
	}
	return 0;
}

/*
 * Serialise rule inserts on one interface: choosing the lowest free rule id
 * and inserting is a read-modify-write of feed_rules. The lock is an
 * abstract unix socket name: it belongs to the network namespace (as the
 * interface does), vanishes with the process, and leaves no file behind.
 * Returns the lock fd, or -1 when locking is impossible (insert anyway).
 */
static int fg_rules_lock(const char *ifname)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, n;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "feedgate/rules/%s", ifname);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	for (int i = 0; i < 1000; i++) { /* 10 s: a holder only scans 4096 entries */
		if (!bind(fd, (struct sockaddr *)&sa, len))
			return fd;
		if (errno != EADDRINUSE)
			break;
		usleep(10000);
	}
	pr_debug("%s: couldn't take the rule lock: %s\n", ifname, strerror(errno));
	close(fd);
	return -1;
}

static void fg_rules_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

struct fg_alloc_ctx {
	unsigned char used_ids[FG_MAX_RULES / 8 + 1];
	unsigned char used_feeds[65536 / 8];
	const char *name; /* NUL-padded FG_FEED_NAME_LEN bytes, "" when unnamed */
	__u16 same_feed; /* feed id of a rule with the same name, 0 = none */
};

static int fg_alloc_scan(const struct fg_rule_key *k, const struct fg_rule *v, void *p)
{
	struct fg_alloc_ctx *c = p;

	(void)k;
	if (v->rule_id < FG_MAX_RULES)
		c->used_ids[v->rule_id / 8] |= (unsigned char)(1u << (v->rule_id % 8));
	c->used_feeds[v->feed_id / 8] |= (unsigned char)(1u << (v->feed_id % 8));
	if (c->name[0] && !c->same_feed && v->feed_id &&
	    !memcmp(v->feed_name, c->name, FG_FEED_NAME_LEN))
		c->same_feed = v->feed_id;
	return 0;
}

static int fg_rule_insert_locked(struct fg_filter_handle *h, const struct fg_rule_key *k,
				 struct fg_rule *r, const char *ks)
{
	struct fg_alloc_ctx *c;
	struct fg_rule old;
	__u32 id = FG_MAX_RULES;
	__u32 feed = 0;
	void *zeroes;
	int err, ncpus;

	if (!bpf_map_lookup_elem(h->map_rules, k, &old)) {
		pr_warn("%s: a rule for %s already exists (rule %u); delete it first\n", h->ifname,
			ks, old.rule_id);
		return -EEXIST;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		pr_warn("%s: out of memory\n", h->ifname);
		return -ENOMEM;
	}
	c->name = r->feed_name;
	c->used_feeds[0] |= 1; /* feed id 0 means "unknown" to the consumer */
	err = fg_rules_walk(h->map_rules, fg_alloc_scan, c);
	if (err) {
		free(c);
		pr_warn("%s: couldn't read %s: %s\n", h->ifname, FG_MAP_RULES, strerror(-err));
		return err;
	}
	for (__u32 i = 0; i < FG_MAX_RULES; i++) {
		if (!(c->used_ids[i / 8] & (1u << (i % 8)))) {
			id = i;
			break;
		}
	}
	if (c->same_feed) {
		feed = c->same_feed;
	} else {
		for (__u32 i = 1; i < 65536; i++) {
			if (!(c->used_feeds[i / 8] & (1u << (i % 8)))) {
				feed = i;
				break;
			}
		}
	}
	free(c);
	if (id >= FG_MAX_RULES) {
		pr_warn("%s: rule table full (%d rules)\n", h->ifname, FG_MAX_RULES);
		return -E2BIG;
	}
	if (!feed) {
		pr_warn("%s: no free feed id for %s\n", h->ifname, ks);
		return -E2BIG;
	}

	/* Counters start at zero: an earlier rule with this id may have left
	 * its counts behind. */
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		pr_warn("%s: couldn't count the CPUs\n", h->ifname);
		return ncpus < 0 ? ncpus : -EINVAL;
	}
	zeroes = calloc((size_t)ncpus, sizeof(struct fg_rule_stats));
	if (!zeroes) {
		pr_warn("%s: out of memory\n", h->ifname);
		return -ENOMEM;
	}
	err = bpf_map_update_elem(h->map_rule_stats, &id, zeroes, BPF_ANY) ? -errno : 0;
	free(zeroes);
	if (err) {
		pr_warn("%s: couldn't reset the counters of rule %u: %s\n", h->ifname, id,
			strerror(-err));
		return err;
	}

	r->rule_id = id;
	r->feed_id = (__u16)feed;
	if (bpf_map_update_elem(h->map_rules, k, r, BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST)
			pr_warn("%s: a rule for %s already exists; delete it first\n", h->ifname,
				ks);
		else if (err == -E2BIG)
			pr_warn("%s: rule table full (%d rules)\n", h->ifname, FG_MAX_RULES);
		else
			pr_warn("%s: couldn't insert rule %s: %s\n", h->ifname, ks, strerror(-err));
		return err;
	}
	return 0;
}

int fg_rule_insert(struct fg_filter_handle *h, const struct fg_rule_key *k, struct fg_rule *r)
{
	char ks[FG_KEY_STR_LEN];
	int err, lock;

	err = fg_check_open(h, h->map_rules, FG_MAP_RULES);
	if (!err)
		err = fg_check_open(h, h->map_rule_stats, FG_MAP_RULE_STATS);
	if (err)
		return err;
	fg_rule_key_format(k, ks, sizeof(ks));
	if (!fg_rule_valid(k, r)) {
		pr_warn("%s: rule %s is inconsistent (family, port, action or source prefix)\n",
			h->ifname, ks);
		return -EINVAL;
	}
	lock = fg_rules_lock(h->ifname);
	err = fg_rule_insert_locked(h, k, r, ks);
	fg_rules_unlock(lock);
	return err;
}

int fg_rule_remove(struct fg_filter_handle *h, const struct fg_rule_key *k)
{
	char ks[FG_KEY_STR_LEN];
	int err = fg_check_open(h, h->map_rules, FG_MAP_RULES);

	if (err)
		return err;
	fg_rule_key_format(k, ks, sizeof(ks));
	if (bpf_map_delete_elem(h->map_rules, k)) {
		err = -errno;
		if (err == -ENOENT)
			pr_warn("%s: no rule for %s\n", h->ifname, ks);
		else
			pr_warn("%s: couldn't delete rule %s: %s\n", h->ifname, ks, strerror(-err));
	}
	return err;
}

struct fg_list_ctx {
	struct fg_rule_entry *v;
	size_t n, cap;
	int err;
};

static int fg_list_add(const struct fg_rule_key *k, const struct fg_rule *r, void *p)
{
	struct fg_list_ctx *c = p;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct fg_rule_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].key = *k;
	c->v[c->n].rule = *r;
	c->n++;
	return 0;
}

static int fg_entry_cmp(const void *a, const void *b)
{
	const struct fg_rule_entry *x = a, *y = b;

	if (x->rule.rule_id != y->rule.rule_id)
		return x->rule.rule_id < y->rule.rule_id ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

int fg_rule_list(struct fg_filter_handle *h, struct fg_rule_entry **out, size_t *n)
{
	struct fg_list_ctx c = {};
	size_t w = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = fg_check_open(h, h->map_rules, FG_MAP_RULES);
	if (!err)
		err = fg_check_open(h, h->map_rule_stats, FG_MAP_RULE_STATS);
	if (err)
		return err;
	err = fg_rules_walk(h->map_rules, fg_list_add, &c);
	if (!err)
		err = c.err;
	if (err) {
		free(c.v);
		pr_warn("%s: couldn't read %s: %s\n", h->ifname, FG_MAP_RULES, strerror(-err));
		return err;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), fg_entry_cmp);
	for (size_t i = 0; i < c.n; i++) {
		/* A walk restarted by a concurrent delete may repeat keys. */
		if (w && !memcmp(&c.v[w - 1].key, &c.v[i].key, sizeof(c.v[i].key)))
			continue;
		c.v[w] = c.v[i];
		if (c.v[w].rule.rule_id < FG_MAX_RULES) {
			err = fg_percpu_sum(h->map_rule_stats, c.v[w].rule.rule_id,
					    (__u64 *)&c.v[w].stats, sizeof(c.v[w].stats) / 8);
			if (err) {
				free(c.v);
				pr_warn("%s: couldn't read %s: %s\n", h->ifname, FG_MAP_RULE_STATS,
					strerror(-err));
				return err;
			}
		}
		w++;
	}
	if (!w) {
		free(c.v);
		c.v = NULL;
	}
	*out = c.v;
	*n = w;
	return 0;
}
