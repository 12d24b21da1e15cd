/* SPDX-License-Identifier: MIT */
/*
 * Capture-file readers for `feedgate replay`: classic pcap (either byte
 * order, microsecond or nanosecond timestamps), pcapng (SHB/IDB/EPB/SPB and
 * the obsolete PB, either byte order, unknown blocks skipped) and NASDAQ
 * BinaryFILE (u16 big-endian length + message, no MoldUDP64 header). The
 * format is recognised from the content, not the file name.
 *
 * The file is mapped read-only and walked in place (the page cache streams
 * large files); every record is bounds-checked against the end of the file,
 * so a truncated file ends early (fg_capfile_truncated() tells) and is never
 * read past.
 */
#ifndef FEEDGATE_CAPFILE_H
#define FEEDGATE_CAPFILE_H

#include <stdint.h>
#include <stddef.h>

#include "feedgate/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fg_capfile_format {
	FG_CAPFILE_PCAP = 1,
	FG_CAPFILE_PCAPNG,
	FG_CAPFILE_BINARYFILE,
};

/* Link types (LINKTYPE_* of the pcap/pcapng specifications) the replay understands. */
#define FG_LINKTYPE_ETHERNET 1
#define FG_LINKTYPE_RAW 101 /* raw IPv4/IPv6 (also seen as DLT_RAW 12 and 14) */
#define FG_LINKTYPE_LINUX_SLL 113
#define FG_LINKTYPE_IPV4 228
#define FG_LINKTYPE_IPV6 229
#define FG_LINKTYPE_LINUX_SLL2 276
#define FG_LINKTYPE_NONE 0xffff /* BinaryFILE: records are ITCH messages */

struct fg_capfile;

/* One record: a packet (pcap, pcapng) or one ITCH message (BinaryFILE). */
struct fg_cap_record {
	const uint8_t *data;
	uint32_t caplen; /* bytes at data */
	uint32_t origlen; /* length on the wire (>= caplen) */
	uint64_t ts_ns; /* capture time, ns since the epoch (0 for BinaryFILE) */
	uint16_t linktype; /* FG_LINKTYPE_* of the record's interface */
};

/*
 * Open and recognise a file. Returns 0, or -errno: -ENOENT etc. from the
 * system, -EINVAL for something that is not a regular non-empty file,
 * -EPROTONOSUPPORT when the content is none of the three formats,
 * -EBADMSG for a recognised file whose first header is corrupt.
 */
int fg_capfile_open(const char *path, struct fg_capfile **out);
/* The same over a caller's buffer (kept, not copied): for tests and fuzzing. */
int fg_capfile_open_mem(const uint8_t *buf, size_t len, struct fg_capfile **out);
void fg_capfile_close(struct fg_capfile *c);

/*
 * Next record: 1 with *rec filled, 0 at the end (or at a truncated last
 * record), -EBADMSG when the structure is corrupt (a block length that does
 * not fit, a record larger than 256 KiB).
 */
int fg_capfile_next(struct fg_capfile *c, struct fg_cap_record *rec);

enum fg_capfile_format fg_capfile_format(const struct fg_capfile *c);
const char *fg_capfile_format_name(enum fg_capfile_format f);
/* 1 if the file ended inside a record (or a block). */
int fg_capfile_truncated(const struct fg_capfile *c);
/* Records so far whose captured length is above the file's snap length or
 * the packet's original length (read as stored; a sign of a broken writer). */
uint64_t fg_capfile_bad_lengths(const struct fg_capfile *c);
/* Bytes consumed so far and the file size, for progress. */
uint64_t fg_capfile_offset(const struct fg_capfile *c);
uint64_t fg_capfile_size(const struct fg_capfile *c);

/*
 * Turn a packet record into a frame for the pipeline: Ethernet as is; raw
 * IP and Linux cooked captures (SLL, SLL2) as L3 frames. Returns 0, or
 * -EPROTONOSUPPORT for a link type (or SLL protocol) that carries no IP.
 */
int fg_capfile_frame(const struct fg_cap_record *rec, struct fg_frame *f);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_CAPFILE_H */
