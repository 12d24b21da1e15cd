// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the rule parser (user/lib/fg_rule.h), what `feedgate
 * rule add` feeds the command line into.
 *
 * The input is split at NUL bytes into up to four strings: group, source,
 * action, feed name (a part the input does not reach is NULL, as when the
 * option is not given; an empty one is the empty string, as `--feed ''`). Each goes through its own parser and all of them through
 * fg_rule_parse(). Besides the sanitizers, properties abort:
 *  - an error always leaves a NUL-terminated message that fits errlen, also
 *    with a tiny error buffer;
 *  - a key or prefix that parses formats back (fits FG_KEY_STR_LEN /
 *    FG_PREFIX_STR_LEN) and the formatted text parses to the same bytes;
 *  - a parsed key's pad byte is 0 and an IPv4 key uses addr[0] only;
 *  - a parsed prefix has no host bits set and a length within its family;
 *  - fg_rule_parse() accepts exactly when every part does, and then the
 *    source prefix is of the group's family, the action valid, the feed name
 *    terminated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "fg_rule.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_err(const char *err, size_t errlen)
{
	check(memchr(err, '\0', errlen) != NULL);
}

static void key_round_trip(const struct fg_rule_key *k)
{
	char buf[FG_KEY_STR_LEN], err[FG_ERR_LEN];
	struct fg_rule_key again;

	check(k->pad == 0);
	check(k->family == FG_FAMILY_IPV4 || k->family == FG_FAMILY_IPV6);
	if (k->family == FG_FAMILY_IPV4)
		check(!k->addr[1] && !k->addr[2] && !k->addr[3]);
	check(fg_rule_key_format(k, buf, sizeof(buf)) == 0);
	check(fg_rule_key_parse(buf, &again, err, sizeof(err)) == 0);
	check(!memcmp(k, &again, sizeof(again)));
}

static void prefix_round_trip(const struct fg_prefix *p)
{
	char buf[FG_PREFIX_STR_LEN], err[FG_ERR_LEN];
	struct fg_prefix again;
	int width = p->family == FG_FAMILY_IPV4 ? 32 : 128;
	const uint8_t *a = (const uint8_t *)p->addr;

	check(p->family == FG_FAMILY_IPV4 || p->family == FG_FAMILY_IPV6);
	check(p->len <= width);
	for (int b = p->len; b < 128; b++)
		check(!(a[b / 8] & (0x80 >> (b % 8))));
	check(fg_prefix_format(p, buf, sizeof(buf)) == 0);
	check(fg_prefix_parse(buf, &again, err, sizeof(err)) == 0);
	check(again.family == p->family && again.len == p->len &&
	      !memcmp(again.addr, p->addr, sizeof(again.addr)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *part[4] = { NULL, NULL, NULL, NULL };
	char err[FG_ERR_LEN], tiny[5];
	struct fg_rule_key key, rkey;
	struct fg_prefix pfx;
	struct fg_rule r;
	__u8 action;
	size_t off = 0;
	int n = 0, ok_key, ok_src = 1, ok_act = 1, ok_feed = 1, rc;

	if (size > 512)
		return 0;
	/* Own NUL-terminated copy: the parsers take C strings. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (n < 4 && off <= size) {
		part[n++] = copy + off;
		off += strlen(copy + off) + 1;
	}

	ok_key = fg_rule_key_parse(part[0], &key, err, sizeof(err)) == 0;
	if (ok_key)
		key_round_trip(&key);
	else
		check_err(err, sizeof(err));
	check(fg_rule_key_parse(part[0], &key, tiny, sizeof(tiny)) == (ok_key ? 0 : -EINVAL));
	if (!ok_key)
		check_err(tiny, sizeof(tiny));

	if (part[1]) {
		ok_src = fg_prefix_parse(part[1], &pfx, err, sizeof(err)) == 0;
		if (ok_src) {
			prefix_round_trip(&pfx);
			ok_src = !ok_key || pfx.family == key.family;
		} else {
			check_err(err, sizeof(err));
		}
	}
	if (part[2]) {
		ok_act = fg_action_parse(part[2], &action, err, sizeof(err)) == 0;
		if (ok_act)
			check(action >= FG_ACTION_PASS && action <= FG_ACTION_REDIRECT);
		(void)fg_policy_parse(part[2], &action, err, sizeof(err));
	}
	if (part[3])
		ok_feed = fg_feed_name_check(part[3], err, sizeof(err)) == 0;

	memset(&r, 0xa5, sizeof(r));
	rc = fg_rule_parse(part[0], part[1], part[2], part[3], &rkey, &r, NULL, err, sizeof(err));
	check((rc == 0) == (ok_key && ok_src && ok_act && ok_feed));
	if (rc == 0) {
		char name[FG_FEED_NAME_LEN + 1];
		struct fg_prefix src;

		check(!memcmp(&rkey, &key, sizeof(key)));
		check(r.action >= FG_ACTION_PASS && r.action <= FG_ACTION_REDIRECT);
		fg_rule_feed_name(&r, name);
		check(strlen(name) < sizeof(name));
		fg_rule_src(&rkey, &r, &src);
		if (src.len)
			prefix_round_trip(&src);
	} else {
		check_err(err, sizeof(err));
		/* A tiny buffer still gets a terminated message. */
		rc = fg_rule_parse(part[0], part[1], part[2], part[3], &rkey, &r, NULL, tiny,
				   sizeof(tiny));
		check(rc != 0);
		check_err(tiny, sizeof(tiny));
	}
	free(copy);
	return 0;
}
