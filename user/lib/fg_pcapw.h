/* SPDX-License-Identifier: MIT */
/*
 * A pcap file writer that never claims more than the file holds: records
 * are gathered whole in a buffer and written with write(); on a failure
 * (ENOSPC, EIO, EFBIG, a short write) the file is cut back to its last
 * whole record, the writer stops, and every record after is counted as
 * lost. The link type is the caller's: Ethernet for frames captured from
 * the link, raw IP for frames that start at the IP header (the UDP socket
 * backends). Timestamps in nanoseconds. One writer per file, one thread.
 */
#ifndef FG_PCAPW_H
#define FG_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#define FG_PCAPW_LINK_ETHERNET 1 /* LINKTYPE_ETHERNET */
#define FG_PCAPW_LINK_RAW 101 /* LINKTYPE_RAW: IPv4 or IPv6 from the first byte */

struct fg_pcapw;

struct fg_pcapw_result {
	uint64_t written; /* records in the file, whole */
	uint64_t lost; /* records not written (after a failure) */
	uint64_t bytes; /* file size */
	int err; /* 0 or the errno of the failure */
};

/* 0, or -errno with a line in err (no file left behind). */
int fg_pcapw_open(const char *path, uint32_t linktype, uint32_t snaplen, struct fg_pcapw **out,
		  char *err, size_t errlen);
/* One record (caplen bytes at data, cut to the snap length). 0, or -errno once failed. */
int fg_pcapw_write(struct fg_pcapw *w, uint64_t ts_ns, const void *data, uint32_t caplen,
		   uint32_t origlen);
/* Write what is buffered. 0 or -errno. */
int fg_pcapw_flush(struct fg_pcapw *w);
void fg_pcapw_result(const struct fg_pcapw *w, struct fg_pcapw_result *r);
/* Flush and close; the result stays readable until fg_pcapw_free(). 0 or -errno. */
int fg_pcapw_close(struct fg_pcapw *w);
void fg_pcapw_free(struct fg_pcapw *w);

#endif /* FG_PCAPW_H */
