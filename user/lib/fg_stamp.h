/* SPDX-License-Identifier: MIT */
/*
 * Reading the XDP program's stamp off a received AF_XDP frame, in every
 * stamp mode (include/fg_maps.h): in the metadata area right in front of
 * the frame (meta), as the frame's first FG_STAMP_LEN bytes (head), or
 * absent (none). The program can change mode while frames are in flight,
 * so each frame is recognised by itself: a record counts only with the
 * magic and the cookie of the attachment in force. A metadata record is
 * wiped once read: UMEM frames are reused, and the headroom of the next
 * packet in the same frame must never show the old record as its own.
 */
#ifndef FG_STAMP_H
#define FG_STAMP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#include "fg_maps.h"

/* Smallest frame a head record can precede: the record and an Ethernet header. */
#define FG_STAMP_MIN_FRAME (FG_STAMP_LEN + 14)

/*
 * Find the stamp of the frame at *data (*len bytes), which lies headroom
 * bytes into its UMEM frame (the metadata area can only be there when
 * headroom >= FG_STAMP_LEN). Returns FG_STAMP_META (record before *data,
 * wiped), FG_STAMP_HEAD (record at *data: *data and *len now step over it),
 * or 0 (no stamp of this attachment: nothing changed). The caller checks
 * out->rule_id against the rule table's size before trusting the ids.
 */
static inline int fg_stamp_take(uint8_t **data, uint32_t *len, uint64_t headroom, uint64_t cookie,
				struct fg_stamp *out)
{
	if (!cookie)
		return 0;
	if (headroom >= FG_STAMP_LEN) {
		uint8_t *m = *data - FG_STAMP_LEN;

		memcpy(out, m, sizeof(*out));
		if (out->magic == FG_STAMP_MAGIC && out->cookie == cookie) {
			memset(m + offsetof(struct fg_stamp, magic), 0, sizeof(out->magic));
			return FG_STAMP_META;
		}
	}
	if (*len >= FG_STAMP_MIN_FRAME) {
		memcpy(out, *data, sizeof(*out));
		if (out->magic == FG_STAMP_MAGIC && out->cookie == cookie) {
			*data += FG_STAMP_LEN;
			*len -= FG_STAMP_LEN;
			return FG_STAMP_HEAD;
		}
	}
	return 0;
}

#endif /* FG_STAMP_H */
