/* SPDX-License-Identifier: MIT */
/*
 * Packet fixtures for the XDP filter's BPF_PROG_TEST_RUN tests and its
 * benchmark: a tiny builder that turns a declarative description (VLAN tags,
 * IPv4 with options / IHL / fragment fields, IPv6 with an extension header
 * chain, UDP, TCP, ICMP, IGMP, ICMPv6, ARP) into frame bytes, and a minimal
 * pcap reader for the real captures. Header-only: the test build compiles one
 * .c per binary.
 *
 * Wire formats: Ethernet II + IEEE 802.1Q tags (TPID 0x8100 / 0x88a8, then a
 * 16-bit TCI and the inner ethertype), IPv4 RFC 791 (header checksum
 * computed; IHL and total length may be overridden to build malformed
 * packets), IPv6 RFC 8200 section 4 (every generic extension header carries a
 * PadN option, section 4.2), UDP RFC 768, ARP RFC 826, IGMPv2 RFC 2236,
 * ICMPv6 ND RFC 4861, MLD RFC 2710. L4 checksums are left zero: the filter
 * never reads them.
 *
 * Also the set-up the BPF_PROG_TEST_RUN tests share: a network namespace of
 * their own with lo up, the program loaded from its skeleton with its map
 * descriptors, and a copy-mode AF_XDP socket for xsk_map.
 */
#ifndef FG_PKT_H
#define FG_PKT_H

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "feedgate.skel.h"
#include "fg_loader.h"

#define FG_PKT_MAX 4096
#define FG_PKT_MAX_TAGS 3
#define FG_PKT_MAX_EXT 10

/* Ethertypes and protocol numbers (host order). */
#define FG_PKT_ETH_IP 0x0800
#define FG_PKT_ETH_ARP 0x0806
#define FG_PKT_ETH_IPV6 0x86dd
#define FG_PKT_ETH_8021Q 0x8100
#define FG_PKT_ETH_8021AD 0x88a8
#define FG_PKT_HOPOPTS 0
#define FG_PKT_ICMP 1
#define FG_PKT_IGMP 2
#define FG_PKT_TCP 6
#define FG_PKT_UDP 17
#define FG_PKT_ROUTING 43
#define FG_PKT_FRAGMENT 44
#define FG_PKT_ICMPV6 58
#define FG_PKT_NONE 59
#define FG_PKT_DSTOPTS 60

enum fg_pkt_l3 {
	FG_PKT_IPV4 = 0, /* the default: most fixtures are IPv4 feeds */
	FG_PKT_IPV6,
	FG_PKT_ARP,
	FG_PKT_RAW, /* just the ethertype, then `payload` zero bytes */
};

struct fg_pkt_tag {
	__u16 tpid; /* FG_PKT_ETH_8021Q or FG_PKT_ETH_8021AD; 0 ends the list */
	__u16 tci; /* PCP/DEI/VID */
};

struct fg_pkt_ext {
	__u8 type; /* FG_PKT_HOPOPTS, _ROUTING, _DSTOPTS or _FRAGMENT */
	__u8 hdrlen; /* generic headers: length in 8-octet units beyond the first 8 */
};

struct fg_pkt_spec {
	struct fg_pkt_tag tags[FG_PKT_MAX_TAGS]; /* outermost first */
	enum fg_pkt_l3 l3;
	__u16 ethertype; /* FG_PKT_RAW only */
	__u8 proto; /* L4 (IPv4 protocol / last IPv6 next header); 0 = UDP */
	const char *src, *dst; /* textual addresses (ARP: sender / target IPv4) */
	__u16 sport, dport;
	__u16 payload; /* L4 payload bytes (pattern-filled); not for ARP */
	int udp_len_adj; /* added to the UDP length field */
	__u8 l4_type; /* first byte of ICMP / IGMP / ICMPv6 headers; TCP flags */
	/* IPv4 */
	__u8 opt_len; /* option bytes (multiple of 4, NOPs then EOL) */
	__u8 ihl; /* override the computed IHL (0 = computed) */
	__u16 frag_off; /* flags and fragment offset field, host order */
	__u8 version; /* override the IP version nibble (0 = right one) */
	/* IPv6 */
	struct fg_pkt_ext ext[FG_PKT_MAX_EXT];
	__u8 n_ext;
	__u16 ext_frag_off; /* fragment headers: offset << 3 | M, host order */
	/* both */
	int len_adj; /* added to the IPv4 total length / IPv6 payload length */
	const __u8 *trailer; /* bytes after the IP packet (link-layer padding) */
	__u16 trailer_len;
};

/* Big-endian stores into a byte buffer (never through a cast pointer). */
static inline void fg_pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline __u16 fg_pkt_csum(const __u8 *p, size_t len)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static inline int fg_pkt_addr(int af, const char *txt, const char *dflt, void *out)
{
	return inet_pton(af, txt ? txt : dflt, out) == 1 ? 0 : -EINVAL;
}

/* Size of the L4 header the builder writes for a protocol. */
static inline size_t fg_pkt_l4_len(__u8 proto)
{
	switch (proto) {
	case FG_PKT_UDP:
		return 8;
	case FG_PKT_TCP:
		return 20;
	case FG_PKT_ICMP:
	case FG_PKT_IGMP:
	case FG_PKT_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

static inline void fg_pkt_l4(__u8 *p, const struct fg_pkt_spec *s, __u8 proto, size_t l4_total)
{
	switch (proto) {
	case FG_PKT_UDP:
		fg_pkt_put16(p, s->sport);
		fg_pkt_put16(p + 2, s->dport);
		fg_pkt_put16(p + 4, (__u16)((int)l4_total + s->udp_len_adj));
		break;
	case FG_PKT_TCP:
		fg_pkt_put16(p, s->sport);
		fg_pkt_put16(p + 2, s->dport);
		p[12] = 5 << 4; /* data offset */
		p[13] = s->l4_type ? s->l4_type : 0x02; /* SYN */
		fg_pkt_put16(p + 14, 65535);
		break;
	case FG_PKT_ICMP:
	case FG_PKT_IGMP:
	case FG_PKT_ICMPV6:
		p[0] = s->l4_type;
		break;
	}
}

/*
 * Build the frame described by s into buf (at least FG_PKT_MAX bytes).
 * Returns the frame length or -EINVAL (bad address, too long).
 */
static inline int fg_pkt_build(const struct fg_pkt_spec *s, __u8 *buf)
{
	static const __u8 dmac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 };
	static const __u8 smac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	__u8 proto = s->proto ? s->proto : FG_PKT_UDP;
	size_t off = 12, l3, l4_len, n, pay = 0;
	__u16 ethertype;

	memset(buf, 0, FG_PKT_MAX);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < FG_PKT_MAX_TAGS && s->tags[i].tpid; i++) {
		fg_pkt_put16(buf + off, s->tags[i].tpid);
		fg_pkt_put16(buf + off + 2, s->tags[i].tci);
		off += 4;
	}
	switch (s->l3) {
	case FG_PKT_IPV4:
		ethertype = FG_PKT_ETH_IP;
		break;
	case FG_PKT_IPV6:
		ethertype = FG_PKT_ETH_IPV6;
		break;
	case FG_PKT_ARP:
		ethertype = FG_PKT_ETH_ARP;
		break;
	default:
		ethertype = s->ethertype;
		break;
	}
	fg_pkt_put16(buf + off, ethertype);
	l3 = off + 2;
	l4_len = fg_pkt_l4_len(proto) + s->payload;

	if (s->l3 == FG_PKT_ARP) {
		__u8 *a = buf + l3;

		fg_pkt_put16(a, 1); /* Ethernet */
		fg_pkt_put16(a + 2, FG_PKT_ETH_IP);
		a[4] = 6;
		a[5] = 4;
		fg_pkt_put16(a + 6, 1); /* request */
		memcpy(a + 8, smac, 6);
		if (fg_pkt_addr(AF_INET, s->src, "10.0.0.1", a + 14) ||
		    fg_pkt_addr(AF_INET, s->dst, "10.0.0.2", a + 24))
			return -EINVAL;
		n = l3 + 28;
	} else if (s->l3 == FG_PKT_RAW) {
		n = l3 + s->payload;
		pay = s->payload;
	} else if (s->l3 == FG_PKT_IPV4) {
		__u8 *ip = buf + l3;
		size_t hlen = 20 + s->opt_len;
		int tot = (int)(hlen + l4_len) + s->len_adj;

		if (l3 + hlen + l4_len > FG_PKT_MAX - 64 || tot < 0 || tot > 0xffff)
			return -EINVAL;
		ip[0] = (s->version ? s->version : 4) << 4 | (s->ihl ? s->ihl : hlen / 4);
		fg_pkt_put16(ip + 2, (__u16)tot);
		fg_pkt_put16(ip + 4, 0x1234);
		fg_pkt_put16(ip + 6, s->frag_off);
		ip[8] = 16;
		ip[9] = proto;
		if (fg_pkt_addr(AF_INET, s->src, "10.0.0.1", ip + 12) ||
		    fg_pkt_addr(AF_INET, s->dst, "239.1.1.1", ip + 16))
			return -EINVAL;
		memset(ip + 20, 1, s->opt_len); /* NOP options ... */
		if (s->opt_len)
			ip[hlen - 1] = 0; /* ... ended by EOL */
		fg_pkt_put16(ip + 10, fg_pkt_csum(ip, hlen));
		fg_pkt_l4(ip + hlen, s, proto, l4_len);
		n = l3 + hlen + l4_len;
		pay = s->payload;
	} else {
		__u8 *ip6 = buf + l3, *p = ip6 + 40, *nh = ip6 + 6;
		int plen;

		ip6[0] = (s->version ? s->version : 6) << 4;
		ip6[7] = 64;
		if (fg_pkt_addr(AF_INET6, s->src, "2001:db8::1", ip6 + 8) ||
		    fg_pkt_addr(AF_INET6, s->dst, "ff3e::1234", ip6 + 24))
			return -EINVAL;
		for (int i = 0; i < s->n_ext && i < FG_PKT_MAX_EXT; i++) {
			size_t elen =
				s->ext[i].type == FG_PKT_FRAGMENT ? 8 : (s->ext[i].hdrlen + 1) * 8u;

			*nh = s->ext[i].type;
			nh = p;
			if (s->ext[i].type == FG_PKT_FRAGMENT) {
				fg_pkt_put16(p + 2, s->ext_frag_off);
				p[4] = 0xab; /* identification */
			} else {
				p[1] = s->ext[i].hdrlen;
				p[2] = 1; /* PadN covering the rest of the header */
				p[3] = (__u8)(elen - 4);
			}
			p += elen;
		}
		*nh = proto;
		if ((size_t)(p - buf) + l4_len > FG_PKT_MAX - 64)
			return -EINVAL;
		plen = (int)(p - ip6 - 40 + l4_len) + s->len_adj;
		if (plen < 0 || plen > 0xffff)
			return -EINVAL;
		fg_pkt_put16(ip6 + 4, (__u16)plen);
		fg_pkt_l4(p, s, proto, l4_len);
		n = (size_t)(p - buf) + l4_len;
		pay = s->payload;
	}
	/* A recognisable payload pattern, after the L4 header. */
	for (size_t i = n - pay; i < n; i++)
		buf[i] = (__u8)(0xa0 + i);
	if (s->trailer_len) {
		if (n + s->trailer_len > FG_PKT_MAX)
			return -EINVAL;
		memcpy(buf + n, s->trailer, s->trailer_len);
		n += s->trailer_len;
	}
	return (int)n;
}

/* ---- pcap files (classic format, microsecond or nanosecond stamps) ---- */

struct fg_pcap {
	FILE *f;
	int swap;
	__u32 linktype;
};

static inline __u32 fg_pcap_u32(const struct fg_pcap *pc, __u32 v)
{
	return pc->swap ? __builtin_bswap32(v) : v;
}

/* Returns 0, or -errno (-EPROTO: not a classic pcap file). */
static inline int fg_pcap_open(struct fg_pcap *pc, const char *path)
{
	__u32 hdr[6];

	pc->swap = 0;
	pc->linktype = 0;
	pc->f = fopen(path, "rb");
	if (!pc->f)
		return -errno;
	if (fread(hdr, sizeof(hdr), 1, pc->f) != 1)
		goto bad;
	switch (hdr[0]) {
	case 0xa1b2c3d4: /* microseconds */
	case 0xa1b23c4d: /* nanoseconds */
		pc->swap = 0;
		break;
	case 0xd4c3b2a1:
	case 0x4d3cb2a1:
		pc->swap = 1;
		break;
	default:
		goto bad;
	}
	pc->linktype = fg_pcap_u32(pc, hdr[5]) & 0x0fffffff;
	return 0;
bad:
	fclose(pc->f);
	pc->f = NULL;
	return -EPROTO;
}

/* Next record into buf: 1 and *len, 0 at the end, -errno when damaged or
 * larger than cap (captures here are never snapped). */
static inline int fg_pcap_next(struct fg_pcap *pc, __u8 *buf, size_t cap, size_t *len)
{
	__u32 rec[4], incl;

	if (fread(rec, sizeof(rec), 1, pc->f) != 1)
		return feof(pc->f) ? 0 : -EIO;
	incl = fg_pcap_u32(pc, rec[2]);
	if (incl > cap || incl != fg_pcap_u32(pc, rec[3]))
		return -EMSGSIZE;
	if (fread(buf, 1, incl, pc->f) != incl)
		return -EIO;
	*len = incl;
	return 1;
}

static inline void fg_pcap_close(struct fg_pcap *pc)
{
	if (pc->f)
		fclose(pc->f);
	pc->f = NULL;
}

/* ---- the program under test ---- */

/* The XDP program loaded from its skeleton, and the descriptors the tests use. */
struct fg_pkt_prog {
	struct feedgate_bpf *skel;
	int prog, rules, rule_stats, filter_stats, queue_stats, config, xsk;
	int ncpus;
	int meta_ok; /* the kernel takes bpf_xdp_adjust_meta in XDP (fg_probe_xdp_meta) */
	int lo; /* ifindex of this namespace's loopback */
	const char *skip; /* why nothing can run here, or NULL */
};

/* libbpf speaks up for warnings only. */
static inline int fg_pkt_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * Suite set-up: move into a network namespace of our own (its lo and any
 * device made in it vanish with the process, whatever happens), bring lo
 * up, load the program and look up its maps. 0 when loaded; 0 with p->skip
 * set when nothing can run here (not root, no namespace); -1 on failure.
 */
static inline int fg_pkt_prog_load(struct fg_pkt_prog *p)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s, ret;

	if (geteuid() != 0) {
		p->skip = "needs root (BPF_PROG_TEST_RUN, maps, AF_XDP)";
		return 0;
	}
	if (unshare(CLONE_NEWNET)) {
		p->skip = "cannot create a network namespace";
		return 0;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	if (ret)
		return -1;
	p->lo = (int)if_nametoindex("lo");

	libbpf_set_print(fg_pkt_libbpf_print);
	/* As the loader does: the metadata path only where the kernel has it. */
	p->meta_ok = fg_probe_xdp_meta();
	if (p->meta_ok < 0) {
		fprintf(stderr, "feedgate: test: cannot probe bpf_xdp_adjust_meta: %s\n",
			strerror(-p->meta_ok));
		return -1;
	}
	p->skel = feedgate_bpf__open();
	if (p->skel) {
		p->skel->rodata->fg_meta_ok = (__u8)p->meta_ok;
		if (feedgate_bpf__load(p->skel)) {
			feedgate_bpf__destroy(p->skel);
			p->skel = NULL;
		}
	}
	if (!p->skel) {
		fprintf(stderr, "feedgate: test: cannot load the XDP program: %s\n",
			strerror(errno));
		return -1;
	}
	p->ncpus = libbpf_num_possible_cpus();
	p->prog = bpf_program__fd(p->skel->progs.fg_xdp_filter);
	p->rules = bpf_map__fd(p->skel->maps.feed_rules);
	p->rule_stats = bpf_map__fd(p->skel->maps.rule_stats);
	p->filter_stats = bpf_map__fd(p->skel->maps.filter_stats);
	p->queue_stats = bpf_map__fd(p->skel->maps.queue_stats);
	p->config = bpf_map__fd(p->skel->maps.fg_config);
	p->xsk = bpf_map__fd(p->skel->maps.xsk_map);
	return p->ncpus > 0 ? 0 : -1;
}

static inline void fg_pkt_prog_unload(struct fg_pkt_prog *p)
{
	feedgate_bpf__destroy(p->skel);
	p->skel = NULL;
}

/* ---- an AF_XDP socket, so that XDP_REDIRECT into xsk_map has somewhere to go ---- */

struct fg_pkt_xsk {
	void *area; /* the UMEM */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	int fd;
};

#define FG_PKT_XSK_FRAMES 64
#define FG_PKT_XSK_AREA (FG_PKT_XSK_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE)

/* Delete what is open; x is all zero afterwards. */
static inline void fg_pkt_xsk_close(struct fg_pkt_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, FG_PKT_XSK_AREA);
	memset(x, 0, sizeof(*x));
}

/* One try of fg_pkt_xsk_open(). */
static inline int fg_pkt_xsk_bind(struct fg_pkt_xsk *x, const char *ifname, __u32 queue)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_SKB_MODE,
		.bind_flags = XDP_COPY,
	};
	int err;

	x->area = mmap(NULL, FG_PKT_XSK_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->area, FG_PKT_XSK_AREA, &x->fill, &x->comp, NULL);
	if (!err)
		err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, &x->tx, &cfg);
	if (!err)
		x->fd = xsk_socket__fd(x->xsk);
	if (err)
		fg_pkt_xsk_close(x);
	return err;
}

/*
 * Bind a copy-mode socket to ifname/queue without letting libxdp load a
 * program of its own (the one under test is the program here); x->fd is
 * the descriptor for xsk_map. The kernel lets go of a closed socket's queue
 * in deferred work, so a queue just given up may still be busy for a
 * moment: EBUSY is tried again for up to a second. 0 or -errno, with
 * nothing left open.
 */
static inline int fg_pkt_xsk_open(struct fg_pkt_xsk *x, const char *ifname, __u32 queue)
{
	int err = fg_pkt_xsk_bind(x, ifname, queue);

	for (int i = 0; err == -EBUSY && i < 100; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		err = fg_pkt_xsk_bind(x, ifname, queue);
	}
	return err;
}

/*
 * x's socket into xsk_map[queue] (map_fd), or, x NULL, the entry out (none
 * there is fine). Out of the map first, then closed: the map holds the
 * socket, and with it the queue's binding, until its entry goes.
 * 0 or -errno.
 */
static inline int fg_pkt_xsk_map(int map_fd, __u32 queue, const struct fg_pkt_xsk *x)
{
	if (x)
		return bpf_map_update_elem(map_fd, &queue, &x->fd, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(map_fd, &queue) && errno != ENOENT ? -errno : 0;
}

#endif /* FG_PKT_H */
