// SPDX-License-Identifier: MIT
/*
 * Checked pcap writing (see fg_pcapw.h). The file format: a 24-byte header
 * (magic a1b23c4d for nanosecond timestamps, version 2.4, snap length,
 * link type), then per record a 16-byte header (seconds, nanoseconds,
 * captured length, original length) and the bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg_pcapw.h"

#define FG_PCAPW_BUF (1u << 18)
#define FG_PCAPW_MAX_RECS 8192 /* records in the buffer at once (their ends) */

struct fg_pcapw {
	int fd;
	uint32_t snaplen;
	uint8_t *buf;
	size_t used;
	uint32_t nrec; /* records in the buffer */
	uint32_t ends[FG_PCAPW_MAX_RECS]; /* where each buffered record ends */
	uint64_t off; /* bytes in the file */
	struct fg_pcapw_result res;
};

static int fg_pcapw_out(struct fg_pcapw *w)
{
	size_t done = 0;

	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Of this buffer, the records that got out whole count; a
			 * cut one is taken back off the file. */
			uint32_t whole = 0;
			size_t keep = 0;
			int err = n < 0 ? errno : ENOSPC;

			while (whole < w->nrec && w->ends[whole] <= done)
				keep = w->ends[whole++];
			if (keep < done)
				(void)!ftruncate(w->fd, (off_t)(w->off + keep));
			w->off += keep;
			w->res.written += whole;
			w->res.lost += w->nrec - whole;
			w->res.bytes = w->off;
			w->res.err = err;
			w->used = 0;
			w->nrec = 0;
			return -err;
		}
		done += (size_t)n;
	}
	w->off += w->used;
	w->res.written += w->nrec;
	w->res.bytes = w->off;
	w->used = 0;
	w->nrec = 0;
	return 0;
}

int fg_pcapw_flush(struct fg_pcapw *w)
{
	if (w->res.err)
		return -w->res.err;
	return w->used ? fg_pcapw_out(w) : 0;
}

int fg_pcapw_open(const char *path, uint32_t linktype, uint32_t snaplen, struct fg_pcapw **out,
		  char *err, size_t errlen)
{
	struct fg_pcapw *w = calloc(1, sizeof(*w));
	uint32_t hdr[6] = { 0xa1b23c4d, 2 | (4u << 16), 0, 0, snaplen, linktype };
	struct stat st;
	int ret;

	*out = NULL;
	if (!w || !(w->buf = malloc(FG_PCAPW_BUF))) {
		free(w);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	w->snaplen = snaplen;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "Couldn't create '%s': %s", path, strerror(-ret));
		free(w->buf);
		free(w);
		return ret;
	}
	memcpy(w->buf, hdr, sizeof(hdr));
	w->used = sizeof(hdr);
	ret = fg_pcapw_out(w);
	w->res.written = 0; /* the file header is no record */
	if (ret) {
		snprintf(err, errlen, "Couldn't write '%s': %s", path, strerror(-ret));
		/* a regular file of ours goes; never a device (/dev/full) or a pipe */
		if (!fstat(w->fd, &st) && S_ISREG(st.st_mode))
			unlink(path);
		close(w->fd);
		free(w->buf);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int fg_pcapw_write(struct fg_pcapw *w, uint64_t ts_ns, const void *data, uint32_t caplen,
		   uint32_t origlen)
{
	uint32_t rh[4];
	size_t need;

	if (w->res.err) {
		w->res.lost++;
		return -w->res.err;
	}
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	if (origlen < caplen)
		origlen = caplen;
	need = sizeof(rh) + caplen;
	if (w->used + need > FG_PCAPW_BUF || w->nrec == FG_PCAPW_MAX_RECS) {
		int ret = fg_pcapw_out(w);

		if (ret) {
			w->res.lost++;
			return ret;
		}
	}
	rh[0] = (uint32_t)(ts_ns / 1000000000ull);
	rh[1] = (uint32_t)(ts_ns % 1000000000ull);
	rh[2] = caplen;
	rh[3] = origlen;
	memcpy(w->buf + w->used, rh, sizeof(rh));
	memcpy(w->buf + w->used + sizeof(rh), data, caplen);
	w->used += need;
	w->ends[w->nrec++] = (uint32_t)w->used;
	return 0;
}

void fg_pcapw_result(const struct fg_pcapw *w, struct fg_pcapw_result *r)
{
	*r = w->res;
}

int fg_pcapw_close(struct fg_pcapw *w)
{
	int ret;

	if (!w || w->fd < 0)
		return 0;
	ret = fg_pcapw_flush(w);
	if (close(w->fd) && !ret) {
		ret = -errno;
		w->res.err = -ret;
	}
	w->fd = -1;
	return ret;
}

void fg_pcapw_free(struct fg_pcapw *w)
{
	if (!w)
		return;
	fg_pcapw_close(w);
	free(w->buf);
	free(w);
}
