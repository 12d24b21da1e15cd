/* SPDX-License-Identifier: MIT */
/*
 * Multicast group membership for the capture paths that do not receive
 * through UDP sockets (AF_XDP, AF_PACKET). Without a membership a real NIC's
 * multicast filter and IGMP/MLD-snooping switches stop delivering the feed;
 * the kernel sends the IGMP / MLD reports when a socket joins and the
 * leaves when it drops the group (or closes).
 *
 * The groups are joined on plain UDP sockets bound to nothing, kept open
 * for the run (a socket that is never bound receives nothing, so nothing
 * queues up on it). An IPv4 socket holds at most
 * net.ipv4.igmp_max_memberships groups (20 by default): more sockets are
 * opened as needed. Each group is joined once per interface even when
 * several feeds share it (different ports).
 */
#ifndef FG_MCAST_H
#define FG_MCAST_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "fg_maps.h"

struct fg_rule_entry; /* fg_loader.h */

struct fg_mcast_group {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t addr[16]; /* network order, IPv4 in the first 4 bytes */
	int fd; /* the socket holding the membership */
};

struct fg_mcast {
	int ifindex;
	unsigned int n; /* groups joined */
	unsigned int cap;
	struct fg_mcast_group *groups;
	int *fds; /* sockets, nfds of them */
	unsigned int nfds;
};

/* Is this a multicast address (224.0.0.0/4, ff00::/8)? family AF_INET / AF_INET6. */
int fg_mcast_is_group(uint8_t family, const uint8_t addr[16]);

/*
 * Join, on ifindex, every multicast group among the keys (unicast and
 * wildcard keys are skipped, duplicates joined once). m must be zeroed
 * (or left by fg_mcast_leave) before the first call; it can be called again
 * to add groups. 0 or -errno with one line in err (may be NULL), the groups
 * of this call that were joined are left again on failure.
 */
int fg_mcast_join(struct fg_mcast *m, int ifindex, const struct fg_rule_key *keys, unsigned int n,
		  char *err, size_t errlen);

/* The same for the rules that let packets up (action pass or redirect). */
int fg_mcast_join_rules(struct fg_mcast *m, int ifindex, const struct fg_rule_entry *rules,
			size_t n, char *err, size_t errlen);

/*
 * Make the memberships follow the rules (rules added or deleted while a run
 * lasts): leave the groups no rule wants any more, join the new ones.
 * *joined / *left say how many changed. 0 or -errno with a line in err.
 */
int fg_mcast_sync_rules(struct fg_mcast *m, int ifindex, const struct fg_rule_entry *rules,
			size_t n, unsigned int *joined, unsigned int *left, char *err,
			size_t errlen);

/* Leave every group, close the sockets, zero m. */
void fg_mcast_leave(struct fg_mcast *m);

/* One group on a socket the caller owns (family AF_INET or AF_INET6). 0 or -errno. */
int fg_mcast_join_fd(int fd, int ifindex, uint8_t family, const uint8_t addr[16]);
int fg_mcast_leave_fd(int fd, int ifindex, uint8_t family, const uint8_t addr[16]);

#endif /* FG_MCAST_H */
