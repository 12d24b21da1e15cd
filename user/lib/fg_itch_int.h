/* SPDX-License-Identifier: MIT */
/*
 * Inside the library: the ITCH wire lengths as the table fg_itch_msg_len()
 * reads, for loops that look a length up per message. Built with -fPIC, a
 * call to the exported function stays a call (it may be interposed); a
 * hidden table is one load.
 */
#ifndef FG_ITCH_INT_H
#define FG_ITCH_INT_H

#include <stdint.h>

/* Indexed by type byte: wire length, 0 for unknown types. */
extern const uint8_t fg_itch_len_tab[256] __attribute__((visibility("hidden")));

#endif /* FG_ITCH_INT_H */
