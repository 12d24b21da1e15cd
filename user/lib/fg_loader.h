/* SPDX-License-Identifier: MIT */
/*
 * The XDP filter's life cycle and its maps, for the CLI (attach, detach,
 * rule, stats) and for the AF_XDP consumer (which needs the xsk_map and the
 * counters of the program already attached).
 *
 * The program is attached through netlink (not a bpf_link), so it stays on
 * the interface after the process exits; its maps are pinned under
 * /sys/fs/bpf/feedgate/IFACE/<map name>. Pins are a convenience only: the
 * kernel is the authority. fg_filter_open() asks which program is attached
 * to the interface, opens that program's maps by the ids the kernel lists
 * for it, keeps the pins that name exactly those maps and replaces missing
 * or stale ones, so every command works from another mount namespace or a
 * fresh bpffs (`ip netns exec`), and stale pins from an earlier attach are
 * never used.
 *
 * Errors: every function returning int prints exactly ONE pr_warn line on
 * failure (callers print nothing more) and returns -errno, except
 * fg_filter_is_attached() and fg_iface_rx_queues(), which print nothing.
 */
#ifndef FG_LOADER_H
#define FG_LOADER_H

#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

#include "fg_log.h"
#include "fg_maps.h"

#define FG_PIN_ROOT "/sys/fs/bpf/feedgate"
#define FG_BPFFS "/sys/fs/bpf"

enum fg_xdp_mode { FG_MODE_NATIVE = 0, FG_MODE_SKB = 1 };

/* Stamp request: FG_STAMP_META/HEAD/NONE (fg_maps.h), or auto = META where
 * the kernel takes bpf_xdp_adjust_meta() for XDP, else HEAD. */
#define FG_STAMP_AUTO 0

struct fg_attach_opts {
	enum fg_xdp_mode mode;
	__u8 miss_policy; /* FG_ACTION_PASS/DROP; 0 = pass */
	__u8 frag_policy; /* FG_ACTION_PASS/DROP; 0 = pass */
	__u8 stamp; /* FG_STAMP_AUTO (0) or FG_STAMP_META/HEAD/NONE */
};

struct fg_filter_handle {
	int ifindex;
	char ifname[IF_NAMESIZE];
	__u32 prog_id;
	enum fg_xdp_mode mode;
	/* map fds, -1 when closed */
	int map_rules, map_rule_stats, map_stats, map_queue_stats, map_config, map_xsk;
};

/* --- life cycle ------------------------------------------------------------ */

/* Load the program, write its config, attach it (native by default) and pin
 * its maps. Refused when any XDP program is attached. Any failure after the
 * attach rolls back: the interface is left as it was. On success h holds the
 * map fds (close with fg_filter_close; the program stays attached).
 * Failures blamed on an option go to blame (fg_log.h; NULL: printed): the
 * driver refusing native mode (FG_INPUT_XDP_MODE, the kernel's errno) and
 * the kernel refusing the metadata stamp (FG_INPUT_STAMP, -EOPNOTSUPP). */
int fg_filter_attach(const char *ifname, const struct fg_attach_opts *o, struct fg_filter_handle *h,
		     struct fg_blame *blame);
/* The live program's maps: -ENOENT when feedgate is not attached ("run
 * 'feedgate attach IFACE' first"), -EBUSY when another XDP program is. */
int fg_filter_open(const char *ifname, struct fg_filter_handle *h);
void fg_filter_close(struct fg_filter_handle *h);
/* Remove feedgate's program (by its expected id: never someone else's), its
 * pins and the empty pin directories. -ENOENT when feedgate is not attached
 * (stale pins are removed anyway), -EBUSY when another program is. */
int fg_filter_detach(const char *ifname);
/* After ifname was deleted: remove its stale pins and empty pin directories.
 * -EEXIST while an interface of that name exists (use fg_filter_detach). */
int fg_filter_forget(const char *ifname);
/* 1 when feedgate's program is attached, 0 when not (or another program
 * is), -errno (-ENODEV: no such interface, -EPERM: not root). Prints
 * nothing. */
int fg_filter_is_attached(const char *ifname);
/* 0 when the process may load and attach BPF programs; else prints
 * "feedgate: CMD: must be run as root (CAP_NET_ADMIN, CAP_BPF)", -EPERM. */
int fg_require_root(const char *cmd);

/*
 * Consumers of an interface's filter (feedgate run). Each holds a shared
 * lock on /run/feedgate/IFACE.users for its lifetime (fg_iface_use: the
 * fd, or -errno); the one that attached the filter detaches it on exit only
 * when fg_iface_sole_user() says no other consumer holds one (1; 0: others
 * do; -errno). Close the fd to let go.
 */
int fg_iface_use(const char *ifname);
int fg_iface_sole_user(int fd);

/* "native" / "skb". */
const char *fg_mode_name(enum fg_xdp_mode mode);
/* Where the maps of ifname are pinned: FG_PIN_ROOT "/" ifname. */
int fg_pin_dir(const char *ifname, char *buf, size_t len);
/* Number of receive queues of ifname (ethtool channels, else sysfs, else 1).
 * Prints nothing. */
int fg_iface_rx_queues(const char *ifname);

/* --- settings --------------------------------------------------------------- */

/* 1 when this kernel lets XDP programs call bpf_xdp_adjust_meta(), 0 when
 * it refuses, -errno when the trial load could not be made. Prints nothing. */
int fg_probe_xdp_meta(void);
/* "meta" / "head" / "none" / "auto". */
const char *fg_stamp_name(int mode);
/* Change the stamp mode of the live program (want: FG_STAMP_AUTO or a
 * mode); *mode gets the one now in force. Frames already on their way keep
 * their old form: consumers recognise each frame's stamp by itself.
 * -EOPNOTSUPP "kernel refuses..." for META where the program has no
 * metadata path, blamed on FG_INPUT_STAMP (into blame; NULL: printed). */
int fg_stamp_set(struct fg_filter_handle *h, __u8 want, __u8 *mode, struct fg_blame *blame);

int fg_config_read(struct fg_filter_handle *h, struct fg_config *c);
int fg_config_write(struct fg_filter_handle *h, const struct fg_config *c);

/* --- rules ------------------------------------------------------------------ */

/* Insert a rule, taking effect at once. Assigns r->rule_id (the lowest free
 * id) and r->feed_id (an unnamed rule gets a feed id of its own; a named one
 * shares the id of the rules with the same name, or gets the lowest unused id
 * >= 1), zeroes the rule's counters and inserts with BPF_NOEXIST.
 * -EEXIST when a rule for the key exists, -E2BIG "rule table full (4096
 * rules)", -EINVAL for an inconsistent rule. */
int fg_rule_insert(struct fg_filter_handle *h, const struct fg_rule_key *k, struct fg_rule *r);
/* -ENOENT "no rule for X". The other rules and their counters are untouched. */
int fg_rule_remove(struct fg_filter_handle *h, const struct fg_rule_key *k);
/* The rule for k, or -ENOENT (printing nothing: a lookup, not an error). */
int fg_rule_lookup(struct fg_filter_handle *h, const struct fg_rule_key *k, struct fg_rule *r);

struct fg_rule_entry {
	struct fg_rule_key key;
	struct fg_rule rule;
	struct fg_rule_stats stats; /* summed over CPUs */
};
/* Every rule with its counters, sorted by rule id (then key). *out is
 * malloc()ed (free() it; NULL when there are no rules). */
int fg_rule_list(struct fg_filter_handle *h, struct fg_rule_entry **out, size_t *n);

/* --- counters (summed over libbpf_num_possible_cpus() CPUs) ----------------- */

int fg_rule_stats_read(struct fg_filter_handle *h, __u32 rule_id, struct fg_rule_stats *out);
int fg_filter_stats_read(struct fg_filter_handle *h, struct fg_filter_stats *out);
int fg_queue_stats_read(struct fg_filter_handle *h, __u32 queue, struct fg_queue_stats *out);

#endif /* FG_LOADER_H */
