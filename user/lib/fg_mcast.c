// SPDX-License-Identifier: MIT
/*
 * Multicast membership on plain sockets (see fg_mcast.h): IP_ADD_MEMBERSHIP
 * with struct ip_mreqn (by interface index), IPV6_JOIN_GROUP with struct
 * ipv6_mreq.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fg_loader.h"
#include "fg_log.h"
#include "fg_mcast.h"

int fg_mcast_is_group(uint8_t family, const uint8_t addr[16])
{
	if (family == AF_INET)
		return (addr[0] & 0xf0) == 0xe0;
	if (family == AF_INET6)
		return addr[0] == 0xff;
	return 0;
}

static int fg_mcast_op(int fd, int ifindex, uint8_t family, const uint8_t addr[16], int join)
{
	int ret;

	if (family == AF_INET) {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof(mr));
		memcpy(&mr.imr_multiaddr, addr, 4);
		mr.imr_ifindex = ifindex;
		ret = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
				 sizeof(mr));
	} else if (family == AF_INET6) {
		struct ipv6_mreq mr;

		memset(&mr, 0, sizeof(mr));
		memcpy(&mr.ipv6mr_multiaddr, addr, 16);
		mr.ipv6mr_interface = (unsigned int)ifindex;
		ret = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr,
				 sizeof(mr));
	} else {
		errno = EAFNOSUPPORT;
		ret = -1;
	}
	return ret ? -errno : 0;
}

int fg_mcast_join_fd(int fd, int ifindex, uint8_t family, const uint8_t addr[16])
{
	return fg_mcast_op(fd, ifindex, family, addr, 1);
}

int fg_mcast_leave_fd(int fd, int ifindex, uint8_t family, const uint8_t addr[16])
{
	return fg_mcast_op(fd, ifindex, family, addr, 0);
}

static bool fg_mcast_have(const struct fg_mcast *m, uint8_t family, const uint8_t addr[16])
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->groups[i].family == family &&
		    !memcmp(m->groups[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

/* A new plain socket of the family, remembered for closing. */
static int fg_mcast_new_fd(struct fg_mcast *m, uint8_t family)
{
	int fd, *fds;

	fds = realloc(m->fds, (m->nfds + 1) * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	m->fds = fds;
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	m->fds[m->nfds++] = fd;
	return fd;
}

/* The newest socket of the family, or -1. */
static int fg_mcast_last_fd(const struct fg_mcast *m, uint8_t family)
{
	for (unsigned int i = m->nfds; i-- > 0;) {
		int dom;
		socklen_t len = sizeof(dom);

		if (!getsockopt(m->fds[i], SOL_SOCKET, SO_DOMAIN, &dom, &len) && dom == family)
			return m->fds[i];
	}
	return -1;
}

static void fg_mcast_drop_last(struct fg_mcast *m)
{
	struct fg_mcast_group *g = &m->groups[--m->n];

	fg_mcast_leave_fd(g->fd, m->ifindex, g->family, g->addr);
}

static int fg_mcast_add(struct fg_mcast *m, uint8_t family, const uint8_t addr[16], char *err,
			size_t errlen)
{
	char a[INET6_ADDRSTRLEN] = "?", ifn[IF_NAMESIZE] = "?";
	int fd, ret;

	if (!fg_mcast_is_group(family, addr) || fg_mcast_have(m, family, addr))
		return 0;
	if (m->n == m->cap) {
		unsigned int cap = m->cap ? 2 * m->cap : 16;
		struct fg_mcast_group *g = realloc(m->groups, cap * sizeof(*g));

		if (!g) {
			fg_errf(err, errlen, "Couldn't join the feed groups: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		m->groups = g;
		m->cap = cap;
	}
	fd = fg_mcast_last_fd(m, family);
	ret = fd < 0 ? -ENOBUFS : fg_mcast_join_fd(fd, m->ifindex, family, addr);
	if (ret == -ENOBUFS) { /* the socket holds igmp_max_memberships groups: take another */
		fd = fg_mcast_new_fd(m, family);
		ret = fd < 0 ? fd : fg_mcast_join_fd(fd, m->ifindex, family, addr);
	}
	if (ret) {
		inet_ntop(family, addr, a, sizeof(a));
		if_indextoname((unsigned int)m->ifindex, ifn);
		fg_errf(err, errlen, "Couldn't join group %s on %s: %s", a, ifn, strerror(-ret));
		return ret;
	}
	m->groups[m->n].family = family;
	memcpy(m->groups[m->n].addr, addr, 16);
	m->groups[m->n].fd = fd;
	m->n++;
	return 0;
}

int fg_mcast_join(struct fg_mcast *m, int ifindex, const struct fg_rule_key *keys, unsigned int n,
		  char *err, size_t errlen)
{
	unsigned int before = m->n;

	if (m->n && m->ifindex != ifindex) {
		fg_errf(err, errlen, "Couldn't join the feed groups: one interface per set");
		return -EINVAL;
	}
	m->ifindex = ifindex;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t addr[16];
		uint8_t family = keys[i].family == FG_FAMILY_IPV6 ? AF_INET6 : AF_INET;
		int ret;

		if (keys[i].family != FG_FAMILY_IPV4 && keys[i].family != FG_FAMILY_IPV6)
			continue;
		memcpy(addr, keys[i].addr, 16);
		ret = fg_mcast_add(m, family, addr, err, errlen);
		if (ret) {
			while (m->n > before)
				fg_mcast_drop_last(m);
			return ret;
		}
	}
	return 0;
}

int fg_mcast_join_rules(struct fg_mcast *m, int ifindex, const struct fg_rule_entry *rules,
			size_t n, char *err, size_t errlen)
{
	unsigned int before = m->n;

	for (size_t i = 0; i < n; i++) {
		int ret;

		if (rules[i].rule.action != FG_ACTION_PASS &&
		    rules[i].rule.action != FG_ACTION_REDIRECT)
			continue;
		ret = fg_mcast_join(m, ifindex, &rules[i].key, 1, err, errlen);
		if (ret) {
			while (m->n > before)
				fg_mcast_drop_last(m);
			return ret;
		}
	}
	return 0;
}

/* Is the group wanted by one of the rules that let packets up? */
static bool fg_mcast_wanted(const struct fg_mcast_group *g, const struct fg_rule_entry *rules,
			    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct fg_rule_entry *e = &rules[i];
		uint8_t family = e->key.family == FG_FAMILY_IPV6 ? AF_INET6 : AF_INET;

		if ((e->rule.action == FG_ACTION_PASS || e->rule.action == FG_ACTION_REDIRECT) &&
		    family == g->family &&
		    !memcmp(e->key.addr, g->addr, family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

int fg_mcast_sync_rules(struct fg_mcast *m, int ifindex, const struct fg_rule_entry *rules,
			size_t n, unsigned int *joined, unsigned int *left, char *err,
			size_t errlen)
{
	unsigned int before;
	int ret;

	*joined = *left = 0;
	for (unsigned int i = 0; i < m->n;) {
		struct fg_mcast_group *g = &m->groups[i];

		if (fg_mcast_wanted(g, rules, n)) {
			i++;
			continue;
		}
		fg_mcast_leave_fd(g->fd, m->ifindex, g->family, g->addr);
		m->groups[i] = m->groups[--m->n];
		(*left)++;
	}
	before = m->n;
	ret = fg_mcast_join_rules(m, ifindex, rules, n, err, errlen);
	if (!ret)
		*joined = m->n - before;
	return ret;
}

void fg_mcast_leave(struct fg_mcast *m)
{
	while (m->n)
		fg_mcast_drop_last(m);
	for (unsigned int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	free(m->groups);
	free(m->fds);
	memset(m, 0, sizeof(*m));
}
