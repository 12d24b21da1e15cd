/* SPDX-License-Identifier: MIT */
/*
 * Feed rules as people write them, and as the XDP program reads them.
 *
 *   GROUP:PORT   239.1.1.1:5000, [ff15::1]:5000; 0.0.0.0:PORT and [::]:PORT
 *                are the wildcard for that port (any destination address).
 *   PREFIX       ADDR/LEN (10.0.0.0/8, fd00::/64; [fd00::]/64 also accepted).
 *                A bare ADDR means the full-length prefix (/32 or /128).
 *                Host bits beyond LEN must be zero: 10.0.0.1/8 is refused
 *                ("did you mean 10.0.0.0/8?") rather than silently widened,
 *                because a typo in a source filter should not let a whole
 *                network through.
 *   action       redirect | pass | drop
 *   feed name    1..15 printable characters, no spaces (FG_FEED_NAME_LEN - 1)
 *
 * Parsers return 0 or -EINVAL and, on error, write a short reason for people
 * into err ("port out of range", "missing port", ...); callers add the
 * input and the command. Nothing here touches the kernel; fg_loader.c puts
 * the results into the maps.
 */
#ifndef FG_RULE_H
#define FG_RULE_H

#include <stddef.h>
#include <linux/types.h>

#include "fg_log.h"
#include "fg_maps.h"

#define FG_ADDR_STR_LEN 46 /* INET6_ADDRSTRLEN */
#define FG_KEY_STR_LEN 56 /* "[" address "]:" 65535 NUL */
#define FG_PREFIX_STR_LEN 52 /* address "/128" NUL */
#define FG_ERR_LEN 160 /* enough for any message written here */

/* A source prefix: family FG_FAMILY_*, network-order address, length. */
struct fg_prefix {
	__u8 family;
	__u8 len;
	__u32 addr[4];
};

/* GROUP:PORT -> key (family, dport and addr in network byte order). */
int fg_rule_key_parse(const char *s, struct fg_rule_key *key, char *err, size_t errlen);
/* key -> "239.1.1.1:5000" / "[ff15::1]:5000"; -EINVAL for a bad family,
 * -ENOSPC when len is too small (FG_KEY_STR_LEN always fits). */
int fg_rule_key_format(const struct fg_rule_key *key, char *buf, size_t len);
/* Is this key the wildcard (all-zero address) for its port? */
int fg_rule_key_is_wildcard(const struct fg_rule_key *key);

/* ADDR/LEN (or bare ADDR) -> prefix, host bits must be zero. */
int fg_prefix_parse(const char *s, struct fg_prefix *p, char *err, size_t errlen);
/* prefix -> "10.0.0.0/8" / "fd00::/64". */
int fg_prefix_format(const struct fg_prefix *p, char *buf, size_t len);

/* "redirect" / "pass" / "drop" -> FG_ACTION_*. */
int fg_action_parse(const char *s, __u8 *action, char *err, size_t errlen);
/* FG_ACTION_* -> its name; "invalid" for anything else. */
const char *fg_action_name(__u8 action);
/* "pass" / "drop" -> FG_ACTION_PASS / FG_ACTION_DROP (miss and fragment policies). */
int fg_policy_parse(const char *s, __u8 *policy, char *err, size_t errlen);

/* 1..15 printable characters without spaces. */
int fg_feed_name_check(const char *s, char *err, size_t errlen);
/* The rule's feed name as a C string (the map holds 16 bytes that a
 * hand-written bpftool update may leave unterminated). */
void fg_rule_feed_name(const struct fg_rule *r, char out[FG_FEED_NAME_LEN + 1]);
/* The rule's source prefix (len 0 = any source). */
void fg_rule_src(const struct fg_rule_key *key, const struct fg_rule *r, struct fg_prefix *p);

/*
 * Build a complete rule from its textual parts, as `feedgate rule add` takes
 * them: group ("GROUP:PORT"), src (NULL = any source), action (NULL =
 * redirect) and feed (NULL = unnamed). rule_id and feed_id are left 0 for
 * fg_rule_insert() to assign. On error (-EINVAL) *input (may be NULL) says
 * which part is wrong (FG_INPUT_GROUP, _SRC, _ACTION or _FEED) and err
 * holds that part's text and why, for the caller to prefix with its own
 * name for the part:
 *   "'239.1.1.1:99999': port out of range"            (group)
 *   "'10.0.0.1/8': host bits set; did you mean 10.0.0.0/8?"  (src)
 *   "'fd00::/64': source family does not match group 239.1.1.1:5000"  (src)
 */
int fg_rule_parse(const char *group, const char *src, const char *action, const char *feed,
		  struct fg_rule_key *key, struct fg_rule *r, enum fg_input *input, char *err,
		  size_t errlen);

#endif /* FG_RULE_H */
