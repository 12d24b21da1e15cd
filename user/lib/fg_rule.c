// SPDX-License-Identifier: MIT
/*
 * Parsing and formatting of feed rules (GROUP:PORT, source PREFIX, action,
 * feed name) into the map layout of include/fg_maps.h. Every refusal says
 * which part of the input is wrong, because these strings come from people
 * typing at a shell and from scripts that need to know what to fix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fg_rule.h"

/* Longest GROUP:PORT or PREFIX accepted: the longest IPv6 text form plus
 * brackets, port / length; anything longer is refused before parsing. */
#define FG_INPUT_MAX 64

static int fg_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message, with what the user typed in it made printable: a control
 * byte in a name never reaches the terminal raw ("\x1b"). */
static int fg_err(char *err, size_t errlen, const char *fmt, ...)
{
	char raw[512];
	size_t o = 0;
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
			if (*p >= ' ' && *p <= '~') {
				if (o + 1 >= errlen)
					break;
				err[o++] = (char)*p;
			} else {
				if (o + 4 >= errlen)
					break;
				o += (size_t)snprintf(err + o, errlen - o, "\\x%02x", *p);
			}
		}
		err[o] = '\0';
	}
	return -EINVAL;
}

static int fg_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Decimal number of at most max_digits digits (no sign, no spaces).
 * Returns 0, -EINVAL when not a number, -ERANGE when too many digits. */
static int fg_parse_uint(const char *s, unsigned int max_digits, unsigned long *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (!fg_all_digits(s))
		return -EINVAL;
	while (n > 1 && *s == '0') { /* leading zeros do not count as digits */
		s++;
		n--;
	}
	if (n > max_digits)
		return -ERANGE;
	for (; *s; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	*out = v;
	return 0;
}

/* An address of n bytes at s into family/addr; v6 says the caller saw
 * brackets (or a colon) and wants IPv6. */
static int fg_parse_addr(const char *s, size_t n, int v6, __u8 *family, __u32 addr[4], char *err,
			 size_t errlen)
{
	char buf[FG_INPUT_MAX + 1];
	struct in6_addr a6;
	struct in_addr a4;

	if (!n)
		return fg_err(err, errlen, "missing address");
	if (n > FG_INPUT_MAX)
		return fg_err(err, errlen, "address too long");
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (v6) {
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return fg_err(err, errlen, "bad IPv6 address '%s'", buf);
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return fg_err(err, errlen,
				      "'%s' is an IPv4-mapped IPv6 address; write the IPv4 address",
				      buf);
		memcpy(addr, &a6, 16);
		*family = FG_FAMILY_IPV6;
		return 0;
	}
	if (inet_pton(AF_INET, buf, &a4) != 1)
		return fg_err(err, errlen, "bad IPv4 address '%s'", buf);
	addr[0] = a4.s_addr;
	*family = FG_FAMILY_IPV4;
	return 0;
}

int fg_rule_key_parse(const char *s, struct fg_rule_key *key, char *err, size_t errlen)
{
	const char *addr, *port, *end;
	unsigned long v;
	int ret, v6;

	if (!s || !*s)
		return fg_err(err, errlen, "empty rule; expected GROUP:PORT");
	if (strlen(s) > FG_INPUT_MAX)
		return fg_err(err, errlen, "too long for GROUP:PORT");
	memset(key, 0, sizeof(*key));
	if (s[0] == '[') {
		addr = s + 1;
		end = strchr(addr, ']');
		if (!end)
			return fg_err(err, errlen, "missing ']' after the IPv6 address");
		if (end[1] == '\0')
			return fg_err(err, errlen, "missing port");
		if (end[1] != ':')
			return fg_err(err, errlen, "expected ':' after ']'");
		port = end + 2;
		v6 = 1;
	} else {
		end = strrchr(s, ':');
		if (!end) {
			if (fg_all_digits(s))
				return fg_err(err, errlen, "missing address; expected GROUP:PORT");
			return fg_err(err, errlen, "missing port");
		}
		addr = s;
		if (memchr(addr, ':', (size_t)(end - addr)))
			return fg_err(err, errlen, "IPv6 address must be in brackets");
		port = end + 1;
		v6 = 0;
	}
	ret = fg_parse_addr(addr, (size_t)(end - addr), v6, &key->family, key->addr, err, errlen);
	if (ret)
		return ret;
	if (!*port)
		return fg_err(err, errlen, "missing port");
	ret = fg_parse_uint(port, 5, &v);
	if (ret == -EINVAL)
		return fg_err(err, errlen, "port '%s' is not a number", port);
	if (ret || v == 0 || v > 65535)
		return fg_err(err, errlen, "port out of range");
	if (port[0] == '0') /* as 239.001.1.1 is refused: no leading zeros */
		return fg_err(err, errlen, "port '%s' has a leading zero", port);
	key->dport = htons((__u16)v);
	return 0;
}

int fg_rule_key_format(const struct fg_rule_key *key, char *buf, size_t len)
{
	char a[FG_ADDR_STR_LEN];
	int n;

	if (key->family == FG_FAMILY_IPV4) {
		if (!inet_ntop(AF_INET, &key->addr[0], a, sizeof(a)))
			return -errno;
		n = snprintf(buf, len, "%s:%u", a, ntohs(key->dport));
	} else if (key->family == FG_FAMILY_IPV6) {
		if (!inet_ntop(AF_INET6, key->addr, a, sizeof(a)))
			return -errno;
		n = snprintf(buf, len, "[%s]:%u", a, ntohs(key->dport));
	} else {
		snprintf(buf, len, "family%u:%u", key->family, ntohs(key->dport));
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int fg_rule_key_is_wildcard(const struct fg_rule_key *key)
{
	return !(key->addr[0] | key->addr[1] | key->addr[2] | key->addr[3]);
}

/* Network-order mask of the bits of word i covered by a prefix of len. */
static __u32 fg_prefix_mask(unsigned int len, unsigned int i)
{
	unsigned int bits = len > i * 32 ? len - i * 32 : 0;

	if (bits == 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return htonl(~0u << (32 - bits));
}

int fg_prefix_parse(const char *s, struct fg_prefix *p, char *err, size_t errlen)
{
	const char *slash, *a;
	unsigned int width, words;
	unsigned long len;
	size_t n;
	int v6, ret;

	if (!s || !*s)
		return fg_err(err, errlen, "empty prefix; expected ADDR/LEN");
	if (strlen(s) > FG_INPUT_MAX)
		return fg_err(err, errlen, "too long for ADDR/LEN");
	memset(p, 0, sizeof(*p));
	slash = strchr(s, '/');
	a = s;
	n = slash ? (size_t)(slash - s) : strlen(s);
	v6 = memchr(a, ':', n) != NULL;
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
		v6 = 1;
	}
	ret = fg_parse_addr(a, n, v6, &p->family, p->addr, err, errlen);
	if (ret)
		return ret;
	width = p->family == FG_FAMILY_IPV4 ? 32 : 128;
	words = width / 32;
	if (!slash) {
		p->len = (__u8)width;
		return 0;
	}
	if (!slash[1])
		return fg_err(err, errlen, "missing prefix length after '/'");
	ret = fg_parse_uint(slash + 1, 3, &len);
	if (ret == -EINVAL)
		return fg_err(err, errlen, "prefix length '%s' is not a number", slash + 1);
	if (ret || len > width)
		return fg_err(err, errlen, "prefix length %s too long for %s", slash + 1,
			      width == 32 ? "IPv4" : "IPv6");
	p->len = (__u8)len;
	for (unsigned int i = 0; i < words; i++) {
		if (p->addr[i] & ~fg_prefix_mask(p->len, i)) {
			struct fg_prefix fixed = *p;
			char buf[FG_PREFIX_STR_LEN];

			for (unsigned int j = 0; j < words; j++)
				fixed.addr[j] &= fg_prefix_mask(p->len, j);
			fg_prefix_format(&fixed, buf, sizeof(buf));
			return fg_err(err, errlen, "host bits set; did you mean %s?", buf);
		}
	}
	return 0;
}

int fg_prefix_format(const struct fg_prefix *p, char *buf, size_t len)
{
	char a[FG_ADDR_STR_LEN];
	int af = p->family == FG_FAMILY_IPV4 ? AF_INET : AF_INET6;
	int n;

	if (p->family != FG_FAMILY_IPV4 && p->family != FG_FAMILY_IPV6) {
		snprintf(buf, len, "family%u/%u", p->family, p->len);
		return -EINVAL;
	}
	if (!inet_ntop(af, p->addr, a, sizeof(a)))
		return -errno;
	n = snprintf(buf, len, "%s/%u", a, p->len);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static const struct {
	const char *name;
	__u8 action;
} fg_actions[] = {
	{ "redirect", FG_ACTION_REDIRECT },
	{ "pass", FG_ACTION_PASS },
	{ "drop", FG_ACTION_DROP },
};

int fg_action_parse(const char *s, __u8 *action, char *err, size_t errlen)
{
	for (size_t i = 0; s && i < sizeof(fg_actions) / sizeof(fg_actions[0]); i++) {
		if (!strcmp(s, fg_actions[i].name)) {
			*action = fg_actions[i].action;
			return 0;
		}
	}
	return fg_err(err, errlen, "unknown action; use redirect, pass or drop");
}

const char *fg_action_name(__u8 action)
{
	for (size_t i = 0; i < sizeof(fg_actions) / sizeof(fg_actions[0]); i++)
		if (fg_actions[i].action == action)
			return fg_actions[i].name;
	return "invalid";
}

int fg_policy_parse(const char *s, __u8 *policy, char *err, size_t errlen)
{
	if (s && !strcmp(s, "pass")) {
		*policy = FG_ACTION_PASS;
		return 0;
	}
	if (s && !strcmp(s, "drop")) {
		*policy = FG_ACTION_DROP;
		return 0;
	}
	return fg_err(err, errlen, "unknown policy; use pass or drop");
}

int fg_feed_name_check(const char *s, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (!n)
		return fg_err(err, errlen, "feed name is empty");
	if (n > FG_FEED_NAME_LEN - 1)
		return fg_err(err, errlen, "feed name longer than %d characters",
			      FG_FEED_NAME_LEN - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Printable ASCII without space: names go into tables and JSON. */
		if (c <= ' ' || c > '~')
			return fg_err(
				err, errlen,
				"feed name has a space or unprintable character at position %zu",
				i + 1);
	}
	/* "-" is what tables print for a rule without a name */
	if (!strcmp(s, "-"))
		return fg_err(err, errlen,
			      "feed name '-' reads as no name in rule list; pick another");
	return 0;
}

void fg_rule_feed_name(const struct fg_rule *r, char out[FG_FEED_NAME_LEN + 1])
{
	memcpy(out, r->feed_name, FG_FEED_NAME_LEN);
	out[FG_FEED_NAME_LEN] = '\0';
}

void fg_rule_src(const struct fg_rule_key *key, const struct fg_rule *r, struct fg_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = key->family;
	p->len = r->src_prefix_len;
	memcpy(p->addr, r->src_addr, sizeof(p->addr));
}

int fg_rule_parse(const char *group, const char *src, const char *action, const char *feed,
		  struct fg_rule_key *key, struct fg_rule *r, enum fg_input *input, char *err,
		  size_t errlen)
{
	enum fg_input bad = FG_INPUT_NONE;
	char why[FG_ERR_LEN];
	struct fg_prefix p;
	const char *text;
	int ret;

	memset(r, 0, sizeof(*r));
	if (input)
		*input = FG_INPUT_NONE;
	text = group ? group : "";
	ret = fg_rule_key_parse(group, key, why, sizeof(why));
	if (ret) {
		bad = FG_INPUT_GROUP;
		goto fail;
	}
	r->action = FG_ACTION_REDIRECT;
	text = action;
	if (action && (ret = fg_action_parse(action, &r->action, why, sizeof(why)))) {
		bad = FG_INPUT_ACTION;
		goto fail;
	}
	text = src;
	if (src) {
		ret = fg_prefix_parse(src, &p, why, sizeof(why));
		if (!ret && p.family != key->family) {
			char k[FG_KEY_STR_LEN];

			fg_rule_key_format(key, k, sizeof(k));
			snprintf(why, sizeof(why), "source family does not match group %s", k);
			ret = -EINVAL;
		}
		if (ret) {
			bad = FG_INPUT_SRC;
			goto fail;
		}
		r->src_prefix_len = p.len;
		memcpy(r->src_addr, p.addr, sizeof(r->src_addr));
	}
	text = feed;
	if (feed) {
		ret = fg_feed_name_check(feed, why, sizeof(why));
		if (ret) {
			bad = FG_INPUT_FEED;
			goto fail;
		}
		memcpy(r->feed_name, feed, strlen(feed));
	}
	return 0;
fail:
	if (input)
		*input = bad;
	/* The part's own text and why; naming the part is the caller's business. */
	return fg_err(err, errlen, "'%s': %s", text, why);
}
