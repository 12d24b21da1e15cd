// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the capture-file readers (pcap, pcapng, BinaryFILE) on
 * arbitrary bytes, and every record they return through the pipeline, as
 * `feedgate replay` does. Records must lie inside the input; nothing may read
 * out of bounds or loop forever.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedgate/capfile.h"
#include "feedgate/pipeline.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_pipeline_config cfg = { 0 };
	struct fg_pipeline *p;
	struct fg_capfile *c;
	struct fg_cap_record r;
	struct fg_frame frames[16];
	const uint8_t *msgs[16];
	uint16_t lens[16];
	unsigned int nf = 0, nm = 0, records = 0;
	uint64_t last_off = 0;
	int rc;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	cfg.decode = devnull;
	if (fg_capfile_open_mem(data, size, &c))
		return 0;
	if (fg_pipeline_new(&cfg, &p))
		abort();
	while ((rc = fg_capfile_next(c, &r)) == 1) {
		if (r.data < data || r.data + r.caplen > data + size || r.origlen < r.caplen)
			abort();
		/* Every record moves forward: no endless loop on a zero-length block. */
		if (fg_capfile_offset(c) <= last_off || fg_capfile_offset(c) > size)
			abort();
		last_off = fg_capfile_offset(c);
		records++;
		if (fg_capfile_format(c) == FG_CAPFILE_BINARYFILE) {
			msgs[nm] = r.data;
			lens[nm++] = (uint16_t)r.caplen;
			if (nm == 16) {
				fg_pipeline_raw(p, msgs, lens, nm);
				nm = 0;
			}
		} else if (!fg_capfile_frame(&r, &frames[nf])) {
			if (frames[nf].data < data ||
			    frames[nf].data + frames[nf].len > data + size)
				abort();
			if (++nf == 16) {
				fg_pipeline_frames(p, frames, nf);
				nf = 0;
			}
		}
	}
	if (rc != 0 && rc != -EBADMSG)
		abort();
	fg_pipeline_frames(p, frames, nf);
	fg_pipeline_raw(p, msgs, lens, nm);
	fg_pipeline_finish(p);
	fg_pipeline_free(p);
	fg_capfile_close(c);
	(void)records;
	return 0;
}
