/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the XDP filter, one comment each. Types come from
 * include/fg_maps.h; all maps carry BTF so `bpftool map dump` shows field
 * names. User space finds them by name from the attached program
 * (bpf_xdp_query -> prog -> map ids) and pins them under
 * /sys/fs/bpf/feedgate/IFACE/<name>.
 */
#ifndef FG_BPF_MAPS_H
#define FG_BPF_MAPS_H

/* Feed rules: {family, dport, daddr} -> action, source prefix, ids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_MAX_RULES);
	__type(key, struct fg_rule_key);
	__type(value, struct fg_rule);
} feed_rules SEC(".maps");

/* Per-rule packet/byte counters, indexed by fg_rule.rule_id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fg_rule_stats);
} rule_stats SEC(".maps");

/* Global verdict counters (one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_filter_stats);
} filter_stats SEC(".maps");

/* Per receive queue: redirected, and redirects that found no socket. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct fg_queue_stats);
} queue_stats SEC(".maps");

/* Live settings: miss and fragment policies (all-zero means pass/pass), stamp
 * mode and the attachment's stamp cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_config);
} fg_config SEC(".maps");

/* AF_XDP sockets by receive queue index. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FG_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsk_map SEC(".maps");

#endif /* FG_BPF_MAPS_H */
