// SPDX-License-Identifier: MIT
/*
 * Readers for pcap, pcapng and NASDAQ BinaryFILE (see include/feedgate/capfile.h).
 *
 * Formats: pcap as in draft-ietf-opsawg-pcap (file header 24 bytes, record
 * header 16); pcapng as in draft-ietf-opsawg-pcapng (blocks of type, total
 * length, body, total length again; section header block 0x0A0D0D0A with the
 * byte-order magic 0x1A2B3C4D; IDB 1, PB 2, SPB 3, EPB 6); BinaryFILE as in
 * ../shared/docs/itch50-moldudp64.md. Our own parsers rather than libpcap:
 * detection by content and BinaryFILE need them anyway, and the whole file is
 * walked in place from a read-only mapping.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feedgate/capfile.h"
#include "feedgate/itch.h"

#define MAX_RECORD (256u * 1024) /* larger captured lengths are corruption, not packets */
#define MAX_IFACES 256
#define BF_PROBE_STRICT 16 /* BinaryFILE: these first messages must be known ITCH types */
#define BF_PROBE_WALK 1024 /* and this many must have sane lengths */

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 1u
#define PCAPNG_PB 2u
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define PCAPNG_BOM 0x1A2B3C4Du

struct iface {
	uint16_t linktype;
	uint32_t snaplen;
	uint8_t tsresol; /* pcapng if_tsresol: bit 7 clear = 10^-n, set = 2^-n */
	int64_t tsoffset; /* seconds */
};

struct fg_capfile {
	const uint8_t *base;
	size_t size;
	size_t off;
	int mapped;
	int truncated;
	int big; /* pcap/pcapng fields are big-endian */
	enum fg_capfile_format format;
	/* pcap */
	uint32_t frac_ns; /* ns per unit of the sub-second field */
	uint16_t linktype;
	uint32_t snaplen;
	uint64_t bad_lengths; /* records with caplen above snaplen or origlen */
	/* pcapng */
	unsigned int nifs;
	struct iface ifs[MAX_IFACES];
};

static uint16_t rd16(const struct fg_capfile *c, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return c->big ? be16toh(v) : le16toh(v);
}

static uint32_t rd32(const struct fg_capfile *c, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return c->big ? be32toh(v) : le32toh(v);
}

static uint64_t rd64(const struct fg_capfile *c, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return c->big ? be64toh(v) : le64toh(v);
}

static uint16_t norm_linktype(uint32_t lt)
{
	lt &= 0xffff; /* the upper bits carry FCS information in newer files */
	if (lt == 12 || lt == 14) /* DLT_RAW on some systems */
		return FG_LINKTYPE_RAW;
	return (uint16_t)lt;
}

/* --- recognition --------------------------------------------------------------------------- */

static int probe_pcap(struct fg_capfile *c)
{
	static const struct {
		uint8_t m[4];
		int big;
		uint32_t frac_ns;
	} magics[] = {
		{ { 0xd4, 0xc3, 0xb2, 0xa1 }, 0, 1000 },
		{ { 0xa1, 0xb2, 0xc3, 0xd4 }, 1, 1000 },
		{ { 0x4d, 0x3c, 0xb2, 0xa1 }, 0, 1 },
		{ { 0xa1, 0xb2, 0x3c, 0x4d }, 1, 1 },
	};

	if (c->size < 4)
		return 0;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		if (memcmp(c->base, magics[i].m, 4))
			continue;
		c->format = FG_CAPFILE_PCAP;
		c->big = magics[i].big;
		c->frac_ns = magics[i].frac_ns;
		return 1;
	}
	return 0;
}

static int probe_pcapng(struct fg_capfile *c)
{
	uint32_t bom;

	if (c->size < 12)
		return 0;
	memcpy(&bom, c->base + 8, 4);
	if (memcmp(c->base, "\x0a\x0d\x0d\x0a", 4))
		return 0;
	if (bom != htole32(PCAPNG_BOM) && bom != htobe32(PCAPNG_BOM))
		return 0;
	c->format = FG_CAPFILE_PCAPNG;
	return 1;
}

/*
 * BinaryFILE has no magic: walk a prefix. The first messages must be known
 * ITCH types of exactly their length (a day starts with S and R), and the
 * prefix must hold together as a chain of non-empty length prefixes.
 */
static int probe_binaryfile(struct fg_capfile *c)
{
	size_t off = 0;
	unsigned int n = 0;

	while (n < BF_PROBE_WALK && c->size - off >= 2) {
		uint16_t l = fg_load_be16(c->base + off);

		if (l == 0)
			return 0;
		if (c->size - off - 2 < l)
			break; /* truncated at the end: judged on what came before */
		if (n < BF_PROBE_STRICT && fg_itch_msg_len(c->base[off + 2]) != l)
			return 0;
		off += 2 + (size_t)l;
		n++;
	}
	if (!n)
		return 0;
	c->format = FG_CAPFILE_BINARYFILE;
	return 1;
}

static int start(struct fg_capfile *c)
{
	if (probe_pcap(c)) {
		if (c->size < 24) {
			c->truncated = 1;
			return -EBADMSG;
		}
		c->linktype = norm_linktype(rd32(c, c->base + 20));
		c->snaplen = rd32(c, c->base + 16);
		c->off = 24;
		return 0;
	}
	if (probe_pcapng(c))
		return 0;
	if (probe_binaryfile(c))
		return 0;
	return -EPROTONOSUPPORT;
}

int fg_capfile_open_mem(const uint8_t *buf, size_t len, struct fg_capfile **out)
{
	struct fg_capfile *c;
	int rc;

	if (!len)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base = buf;
	c->size = len;
	rc = start(c);
	if (rc) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int fg_capfile_open(const char *path, struct fg_capfile **out)
{
	struct stat st;
	void *m;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	rc = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	rc = fg_capfile_open_mem(m, (size_t)st.st_size, out);
	if (rc) {
		munmap(m, (size_t)st.st_size);
		return rc;
	}
	(*out)->mapped = 1;
	return 0;
}

void fg_capfile_close(struct fg_capfile *c)
{
	if (!c)
		return;
	if (c->mapped)
		munmap((void *)c->base, c->size);
	free(c);
}

/* --- records ------------------------------------------------------------------------------- */

static int next_pcap(struct fg_capfile *c, struct fg_cap_record *r)
{
	const uint8_t *p = c->base + c->off;
	size_t left = c->size - c->off;
	uint32_t caplen;

	if (!left)
		return 0;
	if (left < 16) {
		c->truncated = 1;
		return 0;
	}
	caplen = rd32(c, p + 8);
	if (caplen > MAX_RECORD)
		return -EBADMSG;
	if (left - 16 < caplen) {
		c->truncated = 1;
		return 0;
	}
	r->data = p + 16;
	r->caplen = caplen;
	r->origlen = rd32(c, p + 12);
	/* A writer that stored more than its snap length, or more than the
	 * packet had: the bytes are read as stored, and the file flagged. */
	if (r->origlen < caplen || (c->snaplen && caplen > c->snaplen))
		c->bad_lengths++;
	if (r->origlen < caplen)
		r->origlen = caplen;
	r->ts_ns = (uint64_t)rd32(c, p) * 1000000000ull + (uint64_t)rd32(c, p + 4) * c->frac_ns;
	r->linktype = c->linktype;
	c->off += 16 + (size_t)caplen;
	return 1;
}

#define READ_AHEAD 1024 /* bytes: about 35 records of a NASDAQ day */

static int next_binaryfile(struct fg_capfile *c, struct fg_cap_record *r)
{
	size_t left = c->size - c->off;
	uint16_t l;

	if (!left)
		return 0;
	if (left < 2) {
		c->truncated = 1;
		return 0;
	}
	/* Each record's length says where the next one starts, so the walk is a chain of
	 * dependent loads, and the hardware prefetcher stops at every 4 KiB page of the
	 * mapping: asking for the file a little ahead took about a tenth off a replay of a
	 * generated day (its book included). */
	if (left > READ_AHEAD)
		__builtin_prefetch(c->base + c->off + READ_AHEAD, 0, 3);
	l = fg_load_be16(c->base + c->off);
	if (left - 2 < l) {
		c->truncated = 1;
		return 0;
	}
	r->data = c->base + c->off + 2;
	r->caplen = l;
	r->origlen = l;
	r->ts_ns = 0;
	r->linktype = FG_LINKTYPE_NONE;
	c->off += 2 + (size_t)l;
	return 1;
}

/* pcapng timestamp (units of the interface's resolution) to ns since the epoch. */
static uint64_t ng_ts_ns(const struct iface *ifc, uint64_t ts)
{
	uint8_t r = ifc->tsresol;
	uint64_t ns;

	if (r & 0x80) {
		unsigned int e = r & 0x7f;

		if (e >= 64)
			return 0;
		/* ts / 2^e seconds, without overflowing: whole seconds, then the fraction. */
		ns = (ts >> e) * 1000000000ull +
		     (uint64_t)(((unsigned __int128)(ts & ((1ull << e) - 1)) * 1000000000ull) >> e);
	} else if (r <= 9) {
		uint64_t m = 1;

		for (unsigned int i = r; i < 9; i++)
			m *= 10;
		ns = ts * m;
	} else {
		uint64_t d = 1;

		for (unsigned int i = 9; i < r && i < 28; i++) {
			if (d > UINT64_MAX / 10)
				return 0;
			d *= 10;
		}
		ns = ts / d;
	}
	return ns + (uint64_t)ifc->tsoffset * 1000000000ull;
}

/* Interface Description Block: link type, snap length, and the options that set the clock. */
static int ng_idb(struct fg_capfile *c, const uint8_t *b, uint32_t blen)
{
	struct iface *ifc;
	const uint8_t *o, *end = b + blen - 4;

	if (blen < 20)
		return -EBADMSG;
	if (c->nifs == MAX_IFACES)
		return -EBADMSG;
	ifc = &c->ifs[c->nifs++];
	ifc->linktype = norm_linktype(rd16(c, b + 8));
	ifc->snaplen = rd32(c, b + 12);
	ifc->tsresol = 6; /* default: microseconds */
	ifc->tsoffset = 0;
	for (o = b + 16; end - o >= 4;) {
		uint16_t code = rd16(c, o), olen = rd16(c, o + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;

		if (code == 0)
			break;
		if ((size_t)(end - o - 4) < padded)
			break; /* a bad option list ends the options, not the file */
		if (code == 9 && olen >= 1)
			ifc->tsresol = o[4];
		else if (code == 14 && olen >= 8)
			ifc->tsoffset = (int64_t)rd64(c, o + 4);
		o += 4 + padded;
	}
	return 0;
}

static int next_pcapng(struct fg_capfile *c, struct fg_cap_record *r)
{
	for (;;) {
		const uint8_t *b = c->base + c->off;
		size_t left = c->size - c->off;
		uint32_t type, blen, caplen;
		const struct iface *ifc;
		int rc;

		if (!left)
			return 0;
		if (left < 12) {
			c->truncated = 1;
			return 0;
		}
		type = rd32(c, b);
		if (type == PCAPNG_SHB) { /* the same in both byte orders */
			uint32_t bom;

			memcpy(&bom, b + 8, 4);
			if (bom == htole32(PCAPNG_BOM))
				c->big = 0;
			else if (bom == htobe32(PCAPNG_BOM))
				c->big = 1;
			else
				return -EBADMSG;
		}
		blen = rd32(c, b + 4);
		if (blen < 12 || blen % 4)
			return -EBADMSG;
		if (blen > left) {
			c->truncated = 1;
			return 0;
		}
		if (rd32(c, b + blen - 4) != blen)
			return -EBADMSG;
		c->off += blen;

		switch (type) {
		case PCAPNG_SHB:
			if (blen < 28)
				return -EBADMSG;
			c->nifs = 0; /* interfaces are numbered per section */
			break;
		case PCAPNG_IDB:
			rc = ng_idb(c, b, blen);
			if (rc)
				return rc;
			break;
		case PCAPNG_EPB:
		case PCAPNG_PB: {
			uint32_t ifid;

			if (blen < 32)
				return -EBADMSG;
			ifid = type == PCAPNG_EPB ? rd32(c, b + 8) : rd16(c, b + 8);
			caplen = rd32(c, b + 20);
			if (ifid >= c->nifs || caplen > blen - 32 || caplen > MAX_RECORD)
				return -EBADMSG;
			ifc = &c->ifs[ifid];
			r->data = b + 28;
			r->caplen = caplen;
			r->origlen = rd32(c, b + 24);
			if (r->origlen < caplen)
				r->origlen = caplen;
			r->ts_ns =
				ng_ts_ns(ifc, ((uint64_t)rd32(c, b + 12) << 32) | rd32(c, b + 16));
			r->linktype = ifc->linktype;
			return 1;
		}
		case PCAPNG_SPB:
			if (blen < 16 || !c->nifs)
				return -EBADMSG;
			ifc = &c->ifs[0];
			r->origlen = rd32(c, b + 8);
			caplen = r->origlen;
			/* No captured length: the original, cut by the snap length and the block. */
			if (ifc->snaplen && caplen > ifc->snaplen)
				caplen = ifc->snaplen;
			if (caplen > blen - 16)
				caplen = blen - 16;
			if (caplen > MAX_RECORD)
				return -EBADMSG;
			r->data = b + 12;
			r->caplen = caplen;
			r->ts_ns = 0;
			r->linktype = ifc->linktype;
			return 1;
		default:
			break; /* statistics, name resolution, custom, ...: not ours */
		}
	}
}

int fg_capfile_next(struct fg_capfile *c, struct fg_cap_record *rec)
{
	switch (c->format) {
	case FG_CAPFILE_PCAP:
		return next_pcap(c, rec);
	case FG_CAPFILE_PCAPNG:
		return next_pcapng(c, rec);
	case FG_CAPFILE_BINARYFILE:
		return next_binaryfile(c, rec);
	}
	return -EINVAL;
}

enum fg_capfile_format fg_capfile_format(const struct fg_capfile *c)
{
	return c->format;
}

const char *fg_capfile_format_name(enum fg_capfile_format f)
{
	switch (f) {
	case FG_CAPFILE_PCAP:
		return "pcap";
	case FG_CAPFILE_PCAPNG:
		return "pcapng";
	case FG_CAPFILE_BINARYFILE:
		return "binaryfile";
	}
	return "unknown";
}

uint64_t fg_capfile_bad_lengths(const struct fg_capfile *c)
{
	return c->bad_lengths;
}

int fg_capfile_truncated(const struct fg_capfile *c)
{
	return c->truncated;
}

uint64_t fg_capfile_offset(const struct fg_capfile *c)
{
	return c->off;
}

uint64_t fg_capfile_size(const struct fg_capfile *c)
{
	return c->size;
}

int fg_capfile_frame(const struct fg_cap_record *rec, struct fg_frame *f)
{
	const uint8_t *d = rec->data;
	uint32_t len = rec->caplen;
	uint16_t proto;

	memset(f, 0, sizeof(*f));
	f->rule_id = FG_RULE_NONE;
	f->take_ns = rec->ts_ns;
	switch (rec->linktype) {
	case FG_LINKTYPE_ETHERNET:
		break;
	case FG_LINKTYPE_RAW:
	case FG_LINKTYPE_IPV4:
	case FG_LINKTYPE_IPV6:
		f->l3 = 1;
		break;
	case FG_LINKTYPE_LINUX_SLL: /* 16-byte header, protocol last */
	case FG_LINKTYPE_LINUX_SLL2: { /* 20-byte header, protocol first */
		uint32_t hl = rec->linktype == FG_LINKTYPE_LINUX_SLL ? 16 : 20;

		if (len < hl)
			return -EPROTONOSUPPORT;
		proto = fg_load_be16(d + (rec->linktype == FG_LINKTYPE_LINUX_SLL ? 14 : 0));
		if (proto != 0x0800 && proto != 0x86dd)
			return -EPROTONOSUPPORT;
		d += hl;
		len -= hl;
		f->l3 = 1;
		break;
	}
	default:
		return -EPROTONOSUPPORT;
	}
	f->data = d;
	f->len = len;
	return 0;
}
