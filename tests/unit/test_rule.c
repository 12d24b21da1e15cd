// SPDX-License-Identifier: MIT
/*
 * Unit tests of user/lib/fg_rule.c: GROUP:PORT, PREFIX, action, policy and
 * feed-name parsing and formatting, including every malformed form and the
 * reason given for it (people read these messages).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "fg_cunit.h"
#include "fg_rule.h"

static char err[FG_ERR_LEN];

static __u32 v4(const char *s)
{
	struct in_addr a;

	CU_ASSERT_FATAL(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static void v6(const char *s, __u32 out[4])
{
	CU_ASSERT_FATAL(inet_pton(AF_INET6, s, out) == 1);
}

/* Parsing s must fail with a message containing want. */
static void key_refused(const char *s, const char *want)
{
	struct fg_rule_key k;

	err[0] = '\0';
	CU_ASSERT_EQUAL(fg_rule_key_parse(s, &k, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		printf("\n    '%s': got message '%s', want '%s' ", s ? s : "(null)", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void prefix_refused(const char *s, const char *want)
{
	struct fg_prefix p;

	err[0] = '\0';
	CU_ASSERT_EQUAL(fg_prefix_parse(s, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		printf("\n    '%s': got message '%s', want '%s' ", s ? s : "(null)", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

/* --- GROUP:PORT ------------------------------------------------------------- */

static void test_rule_parses_ipv4_group_and_port(void)
{
	struct fg_rule_key k;

	memset(&k, 0xaa, sizeof(k));
	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("239.1.1.1:5000", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.family, FG_FAMILY_IPV4);
	CU_ASSERT_EQUAL(k.pad, 0);
	CU_ASSERT_EQUAL(k.dport, htons(5000));
	CU_ASSERT_EQUAL(k.addr[0], v4("239.1.1.1"));
	CU_ASSERT_EQUAL(k.addr[1] | k.addr[2] | k.addr[3], 0);
	CU_ASSERT_FALSE(fg_rule_key_is_wildcard(&k));
}

static void test_rule_key_is_network_byte_order_on_the_wire(void)
{
	struct fg_rule_key k;
	const unsigned char *b = (const unsigned char *)&k;

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("239.1.1.1:5000", &k, err, sizeof(err)), 0);
	/* Exactly the bytes a bpftool key line carries (README). */
	CU_ASSERT_EQUAL(b[0], 2);
	CU_ASSERT_EQUAL(b[1], 0);
	CU_ASSERT_EQUAL(b[2], 0x13);
	CU_ASSERT_EQUAL(b[3], 0x88);
	CU_ASSERT_EQUAL(b[4], 239);
	CU_ASSERT_EQUAL(b[5], 1);
	CU_ASSERT_EQUAL(b[6], 1);
	CU_ASSERT_EQUAL(b[7], 1);
	CU_ASSERT_EQUAL(sizeof(k), 20);
}

static void test_rule_parses_ipv6_group_in_brackets(void)
{
	struct fg_rule_key k;
	__u32 want[4];

	v6("ff15::1", want);
	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("[ff15::1]:5000", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.family, FG_FAMILY_IPV6);
	CU_ASSERT_EQUAL(k.dport, htons(5000));
	CU_ASSERT_EQUAL(memcmp(k.addr, want, 16), 0);
	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("[FF02:0:0:0:0:1:FF00:1]:1", &k, err, sizeof(err)),
			      0);
	v6("ff02::1:ff00:1", want);
	CU_ASSERT_EQUAL(memcmp(k.addr, want, 16), 0);
}

static void test_rule_parses_ipv4_wildcard(void)
{
	struct fg_rule_key k;

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("0.0.0.0:26477", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.family, FG_FAMILY_IPV4);
	CU_ASSERT_EQUAL(k.dport, htons(26477));
	CU_ASSERT_TRUE(fg_rule_key_is_wildcard(&k));
}

static void test_rule_parses_ipv6_wildcard(void)
{
	struct fg_rule_key k;

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("[::]:6000", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.family, FG_FAMILY_IPV6);
	CU_ASSERT_EQUAL(k.dport, htons(6000));
	CU_ASSERT_TRUE(fg_rule_key_is_wildcard(&k));
}

static void test_rule_accepts_ports_1_and_65535(void)
{
	struct fg_rule_key k;

	CU_ASSERT_EQUAL(fg_rule_key_parse("10.0.0.1:1", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.dport, htons(1));
	CU_ASSERT_EQUAL(fg_rule_key_parse("10.0.0.1:65535", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.dport, htons(65535));
}

/* As 239.001.1.1 is refused, so is a port written with leading zeros. */
static void test_rule_rejects_port_with_leading_zeros(void)
{
	key_refused("10.0.0.1:005000", "port '005000' has a leading zero");
	key_refused("239.1.1.1:05000", "port '05000' has a leading zero");
	key_refused("[ff15::1]:0100", "port '0100' has a leading zero");
}

/* "-" is how tables show a rule without a name: a feed cannot be called that. */
static void test_rule_rejects_feed_named_dash(void)
{
	struct fg_rule_key k;
	struct fg_rule r;

	CU_ASSERT_EQUAL(
		fg_rule_parse("239.1.1.1:5000", NULL, NULL, "-", &k, &r, NULL, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "feed name '-'"));
	CU_ASSERT_EQUAL(
		fg_rule_parse("239.1.1.1:5000", NULL, NULL, "-A", &k, &r, NULL, err, sizeof(err)),
		0);
}

/* A control byte typed in a name never reaches the terminal raw. */
static void test_rule_error_shows_control_bytes_escaped(void)
{
	struct fg_rule_key k;
	struct fg_rule r;

	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", NULL, NULL, "a\x1b[2Jb", &k, &r, NULL, err,
				      sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NULL(strchr(err, 0x1b));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a\\x1b[2Jb"));
}

static void test_rule_rejects_port_above_65535(void)
{
	key_refused("239.1.1.1:99999", "port out of range");
	key_refused("239.1.1.1:65536", "port out of range");
	key_refused("[ff15::1]:70000", "port out of range");
}

static void test_rule_rejects_port_zero(void)
{
	key_refused("239.1.1.1:0", "port out of range");
	key_refused("[::]:00", "port out of range");
}

static void test_rule_rejects_huge_port_without_overflow(void)
{
	/* 2^64 + 5000 would wrap to 5000 in a careless parser. */
	key_refused("239.1.1.1:18446744073709556616", "port out of range");
}

static void test_rule_rejects_non_numeric_port(void)
{
	key_refused("239.1.1.1:50a0", "port '50a0' is not a number");
	key_refused("239.1.1.1:+5000", "is not a number");
	key_refused("239.1.1.1:-1", "is not a number");
	key_refused("239.1.1.1: 5000", "is not a number");
	key_refused("239.1.1.1:5000 ", "is not a number");
	key_refused("239.1.1.1:0x1388", "is not a number");
	key_refused("[ff15::1]:5000x", "is not a number");
	key_refused("[ff15::1]:5000:1", "is not a number");
}

static void test_rule_rejects_missing_port(void)
{
	key_refused("239.1.1.1", "missing port");
	key_refused("239.1.1.1:", "missing port");
	key_refused("[ff15::1]", "missing port");
	key_refused("[ff15::1]:", "missing port");
}

static void test_rule_rejects_missing_address(void)
{
	key_refused(":5000", "missing address");
	key_refused("[]:5000", "missing address");
	key_refused("5000", "missing address");
}

static void test_rule_rejects_ipv6_without_brackets(void)
{
	key_refused("ff15::1:5000", "IPv6 address must be in brackets");
	key_refused("ff15::1", "IPv6 address must be in brackets");
	key_refused("::5000", "IPv6 address must be in brackets");
	key_refused("ff15::1]:5000", "IPv6 address must be in brackets");
}

static void test_rule_rejects_unclosed_bracket(void)
{
	key_refused("[ff15::1:5000", "missing ']'");
}

static void test_rule_rejects_garbage_between_bracket_and_port(void)
{
	key_refused("[ff15::1]5000", "expected ':' after ']'");
	key_refused("[ff15::1] :5000", "expected ':' after ']'");
}

static void test_rule_rejects_bad_ipv4_address(void)
{
	key_refused("239.1.1:5000", "bad IPv4 address '239.1.1'");
	key_refused("256.1.1.1:5000", "bad IPv4 address");
	key_refused("239.1.1.1.1:5000", "bad IPv4 address");
	key_refused("feeds.example.com:5000", "bad IPv4 address");
	key_refused(" 239.1.1.1:5000", "bad IPv4 address");
	key_refused("[239.1.1.1:5000", "missing ']'");
}

static void test_rule_rejects_bad_ipv6_address(void)
{
	key_refused("[ff15:::1]:5000", "bad IPv6 address 'ff15:::1'");
	key_refused("[239.1.1.1]:5000", "bad IPv6 address");
	key_refused("[fe80::1%eth0]:5000", "bad IPv6 address");
	key_refused("[ff15::g]:5000", "bad IPv6 address");
}

static void test_rule_rejects_ipv4_mapped_ipv6(void)
{
	key_refused("[::ffff:239.1.1.1]:5000", "IPv4-mapped");
}

static void test_rule_rejects_empty_and_null(void)
{
	key_refused("", "empty rule");
	key_refused(NULL, "empty rule");
}

static void test_rule_rejects_overlong_input(void)
{
	char s[200];

	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	key_refused(s, "too long");
}

static void test_rule_key_format_round_trips(void)
{
	static const char *const forms[] = {
		"239.1.1.1:5000",     "0.0.0.0:1",	   "233.54.12.111:26477",
		"10.0.0.1:65535",     "[ff15::1]:5000",	   "[::]:6000",
		"[ff02::1:ff00:1]:1", "[fd00:fe::2]:7000", "[2001:db8:1:2:3:4:5:6]:65535",
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct fg_rule_key k, k2;
		char buf[FG_KEY_STR_LEN];

		CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse(forms[i], &k, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL_FATAL(fg_rule_key_format(&k, buf, sizeof(buf)), 0);
		CU_ASSERT_STRING_EQUAL(buf, forms[i]);
		CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse(buf, &k2, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(memcmp(&k, &k2, sizeof(k)), 0);
	}
}

static void test_rule_key_format_canonicalises_ipv6(void)
{
	struct fg_rule_key k;
	char buf[FG_KEY_STR_LEN];

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("[FF15:0:0::0:1]:5000", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_rule_key_format(&k, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[ff15::1]:5000");
}

static void test_rule_key_format_longest_fits(void)
{
	struct fg_rule_key k;
	char buf[FG_KEY_STR_LEN];
	const char *s = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse(s, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_rule_key_format(&k, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, s);
}

static void test_rule_key_format_reports_small_buffer(void)
{
	struct fg_rule_key k;
	char buf[8];

	CU_ASSERT_EQUAL_FATAL(fg_rule_key_parse("239.1.1.1:5000", &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_rule_key_format(&k, buf, sizeof(buf)), -ENOSPC);
	CU_ASSERT_EQUAL(strlen(buf), sizeof(buf) - 1);
}

static void test_rule_key_format_rejects_unknown_family(void)
{
	struct fg_rule_key k = { .family = 7, .dport = htons(5000) };
	char buf[FG_KEY_STR_LEN];

	CU_ASSERT_EQUAL(fg_rule_key_format(&k, buf, sizeof(buf)), -EINVAL);
}

/* --- PREFIX -------------------------------------------------------------------- */

static void test_prefix_parses_ipv4(void)
{
	struct fg_prefix p;

	CU_ASSERT_EQUAL_FATAL(fg_prefix_parse("10.199.0.0/24", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.family, FG_FAMILY_IPV4);
	CU_ASSERT_EQUAL(p.len, 24);
	CU_ASSERT_EQUAL(p.addr[0], v4("10.199.0.0"));
	CU_ASSERT_EQUAL(p.addr[1] | p.addr[2] | p.addr[3], 0);
}

static void test_prefix_parses_ipv6(void)
{
	struct fg_prefix p;
	__u32 want[4];

	v6("fd00:fe::", want);
	CU_ASSERT_EQUAL_FATAL(fg_prefix_parse("fd00:fe::/64", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.family, FG_FAMILY_IPV6);
	CU_ASSERT_EQUAL(p.len, 64);
	CU_ASSERT_EQUAL(memcmp(p.addr, want, 16), 0);
	CU_ASSERT_EQUAL_FATAL(fg_prefix_parse("[fd00:fe::]/64", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 64);
	CU_ASSERT_EQUAL(memcmp(p.addr, want, 16), 0);
}

static void test_prefix_bare_address_is_full_length(void)
{
	struct fg_prefix p;

	CU_ASSERT_EQUAL_FATAL(fg_prefix_parse("10.1.2.3", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL_FATAL(fg_prefix_parse("fd00::1", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 128);
}

static void test_prefix_accepts_zero_and_full_lengths(void)
{
	struct fg_prefix p;

	CU_ASSERT_EQUAL(fg_prefix_parse("0.0.0.0/0", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(fg_prefix_parse("::/0", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(fg_prefix_parse("10.0.0.1/32", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(fg_prefix_parse("fd00::1/128", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p.len, 128);
}

static void test_prefix_rejects_host_bits(void)
{
	prefix_refused("10.199.0.1/24", "host bits set; did you mean 10.199.0.0/24?");
	prefix_refused("10.0.0.1/31", "did you mean 10.0.0.0/31?");
	prefix_refused("10.0.0.0/0", "did you mean 0.0.0.0/0?");
	prefix_refused("fd00:fe::1/64", "did you mean fd00:fe::/64?");
	prefix_refused("fd00::8000:0:0:0/64", "did you mean fd00::/64?");
	prefix_refused("fd00::1/127", "did you mean fd00::/127?");
}

static void test_prefix_host_bits_at_word_boundaries(void)
{
	struct fg_prefix p;

	CU_ASSERT_EQUAL(fg_prefix_parse("10.0.0.2/31", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_prefix_parse("fd00:0:0:1::/64", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_prefix_parse("fd00:0:0:1:8000::/65", &p, err, sizeof(err)), 0);
	prefix_refused("fd00:0:0:1:4000::/65", "host bits set");
	prefix_refused("fd00::1/96", "did you mean fd00::/96?");
	CU_ASSERT_EQUAL(fg_prefix_parse("fd00::1:0:0/96", &p, err, sizeof(err)), 0);
}

static void test_prefix_rejects_length_33_for_ipv4(void)
{
	prefix_refused("10.0.0.0/33", "prefix length 33 too long for IPv4");
	prefix_refused("10.0.0.0/4294967328", "too long for IPv4");
}

static void test_prefix_rejects_length_129_for_ipv6(void)
{
	prefix_refused("fd00::/129", "prefix length 129 too long for IPv6");
}

static void test_prefix_rejects_missing_length(void)
{
	prefix_refused("10.0.0.0/", "missing prefix length");
}

static void test_prefix_rejects_non_numeric_length(void)
{
	prefix_refused("10.0.0.0/x", "prefix length 'x' is not a number");
	prefix_refused("10.0.0.0/-1", "is not a number");
	prefix_refused("10.0.0.0/8/9", "prefix length '8/9' is not a number");
	prefix_refused("10.0.0.0/ 8", "is not a number");
}

static void test_prefix_rejects_missing_address(void)
{
	prefix_refused("/8", "missing address");
	prefix_refused("[]/64", "missing address");
	prefix_refused("", "empty prefix");
	prefix_refused(NULL, "empty prefix");
}

static void test_prefix_rejects_bad_addresses(void)
{
	prefix_refused("10.0.0/8", "bad IPv4 address '10.0.0'");
	prefix_refused("fd00:::/64", "bad IPv6 address");
	prefix_refused("[10.0.0.0]/8", "bad IPv6 address");
	prefix_refused("::ffff:10.0.0.0/104", "IPv4-mapped");
}

static void test_prefix_format_round_trips(void)
{
	static const char *const forms[] = {
		"10.199.0.0/24", "0.0.0.0/0", "10.1.2.3/32", "fd00:fe::/64", "::/0", "fd00::1/128",
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct fg_prefix p, p2;
		char buf[FG_PREFIX_STR_LEN];

		CU_ASSERT_EQUAL_FATAL(fg_prefix_parse(forms[i], &p, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL_FATAL(fg_prefix_format(&p, buf, sizeof(buf)), 0);
		CU_ASSERT_STRING_EQUAL(buf, forms[i]);
		CU_ASSERT_EQUAL_FATAL(fg_prefix_parse(buf, &p2, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(memcmp(&p, &p2, sizeof(p)), 0);
	}
}

/* --- actions, policies, feed names ------------------------------------------------- */

static void test_action_parses_every_name(void)
{
	__u8 a = 0;

	CU_ASSERT_EQUAL(fg_action_parse("redirect", &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a, FG_ACTION_REDIRECT);
	CU_ASSERT_EQUAL(fg_action_parse("pass", &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a, FG_ACTION_PASS);
	CU_ASSERT_EQUAL(fg_action_parse("drop", &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a, FG_ACTION_DROP);
	CU_ASSERT_STRING_EQUAL(fg_action_name(FG_ACTION_REDIRECT), "redirect");
	CU_ASSERT_STRING_EQUAL(fg_action_name(FG_ACTION_PASS), "pass");
	CU_ASSERT_STRING_EQUAL(fg_action_name(FG_ACTION_DROP), "drop");
	CU_ASSERT_STRING_EQUAL(fg_action_name(0), "invalid");
	CU_ASSERT_STRING_EQUAL(fg_action_name(9), "invalid");
}

static void test_action_rejects_unknown_names(void)
{
	static const char *const bad[] = { "", "REDIRECT", "fwd", "redirect ", "dro" };
	__u8 a = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(fg_action_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown action"));
	}
	CU_ASSERT_EQUAL(fg_action_parse(NULL, &a, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(a, 77);
}

static void test_policy_parses_pass_and_drop_only(void)
{
	__u8 p = 0;

	CU_ASSERT_EQUAL(fg_policy_parse("pass", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p, FG_ACTION_PASS);
	CU_ASSERT_EQUAL(fg_policy_parse("drop", &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(p, FG_ACTION_DROP);
	CU_ASSERT_EQUAL(fg_policy_parse("redirect", &p, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown policy"));
}

static void test_feed_name_accepts_15_printable_chars(void)
{
	CU_ASSERT_EQUAL(fg_feed_name_check("A", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_feed_name_check("NASDAQ-TV.A_1:x", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fg_feed_name_check("~!@#$%^&*()[]{}", err, sizeof(err)), 0);
}

static void test_feed_name_rejects_16_chars(void)
{
	CU_ASSERT_EQUAL(fg_feed_name_check("0123456789abcdef", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 15 characters"));
}

static void test_feed_name_rejects_empty(void)
{
	CU_ASSERT_EQUAL(fg_feed_name_check("", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
	CU_ASSERT_EQUAL(fg_feed_name_check(NULL, err, sizeof(err)), -EINVAL);
}

static void test_feed_name_rejects_spaces_and_control_chars(void)
{
	CU_ASSERT_EQUAL(fg_feed_name_check("feed A", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "position 5"));
	CU_ASSERT_EQUAL(fg_feed_name_check("a\tb", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(fg_feed_name_check("a\x7f", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(fg_feed_name_check("caf\xc3\xa9", err, sizeof(err)), -EINVAL);
}

static void test_rule_feed_name_terminates_a_full_16_byte_field(void)
{
	struct fg_rule r;
	char name[FG_FEED_NAME_LEN + 1];

	memset(&r, 0, sizeof(r));
	memcpy(r.feed_name, "0123456789abcdef", 16); /* as a careless bpftool line could */
	fg_rule_feed_name(&r, name);
	CU_ASSERT_STRING_EQUAL(name, "0123456789abcdef");
}

/* --- whole rules ----------------------------------------------------------------------- */

static void test_rule_parse_defaults_to_redirect_any_source_unnamed(void)
{
	struct fg_rule_key k;
	struct fg_rule r;
	static const char zero[FG_FEED_NAME_LEN];

	memset(&r, 0x55, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(
		fg_rule_parse("239.1.1.1:5000", NULL, NULL, NULL, &k, &r, NULL, err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL(r.action, FG_ACTION_REDIRECT);
	CU_ASSERT_EQUAL(r.src_prefix_len, 0);
	CU_ASSERT_EQUAL(r.src_addr[0] | r.src_addr[1] | r.src_addr[2] | r.src_addr[3], 0);
	CU_ASSERT_EQUAL(r.rule_id, 0);
	CU_ASSERT_EQUAL(r.feed_id, 0);
	CU_ASSERT_EQUAL(memcmp(r.feed_name, zero, sizeof(zero)), 0);
}

static void test_rule_parse_fills_every_part(void)
{
	struct fg_rule_key k;
	struct fg_rule r;
	struct fg_prefix p;
	__u32 want[4];

	CU_ASSERT_EQUAL_FATAL(fg_rule_parse("[ff15::1]:5000", "fd00:fe::/64", "pass", "ITCH-A", &k,
					    &r, NULL, err, sizeof(err)),
			      0);
	v6("fd00:fe::", want);
	CU_ASSERT_EQUAL(k.family, FG_FAMILY_IPV6);
	CU_ASSERT_EQUAL(r.action, FG_ACTION_PASS);
	CU_ASSERT_EQUAL(r.src_prefix_len, 64);
	CU_ASSERT_EQUAL(memcmp(r.src_addr, want, 16), 0);
	CU_ASSERT_EQUAL(strncmp(r.feed_name, "ITCH-A", FG_FEED_NAME_LEN), 0);
	CU_ASSERT_EQUAL(r.feed_name[6], '\0');
	fg_rule_src(&k, &r, &p);
	CU_ASSERT_EQUAL(p.family, FG_FAMILY_IPV6);
	CU_ASSERT_EQUAL(p.len, 64);
}

static void test_rule_parse_rejects_source_family_mismatch(void)
{
	struct fg_rule_key k;
	struct fg_rule r;
	enum fg_input in;

	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", "fd00::/64", NULL, NULL, &k, &r, &in, err,
				      sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_SRC);
	CU_ASSERT_STRING_EQUAL(err,
			       "'fd00::/64': source family does not match group 239.1.1.1:5000");
	CU_ASSERT_EQUAL(fg_rule_parse("[ff15::1]:5000", "10.0.0.0/8", NULL, NULL, &k, &r, &in, err,
				      sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_SRC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "source family does not match group [ff15::1]:5000"));
}

/* The part at fault comes back as an input, its text and the reason as the
 * message: the caller names the part (`rule add` prefixes its option). */
static void test_rule_parse_names_the_wrong_part(void)
{
	struct fg_rule_key k;
	struct fg_rule r;
	enum fg_input in;

	CU_ASSERT_EQUAL(
		fg_rule_parse("239.1.1.1:99999", NULL, NULL, NULL, &k, &r, &in, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_GROUP);
	CU_ASSERT_STRING_EQUAL(err, "'239.1.1.1:99999': port out of range");
	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", "10.0.0.1/8", NULL, NULL, &k, &r, &in, err,
				      sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_SRC);
	CU_ASSERT_STRING_EQUAL(err, "'10.0.0.1/8': host bits set; did you mean 10.0.0.0/8?");
	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", NULL, "forward", NULL, &k, &r, &in, err,
				      sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_ACTION);
	CU_ASSERT_STRING_EQUAL(err, "'forward': unknown action; use redirect, pass or drop");
	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", NULL, NULL, "much-too-long-name", &k, &r,
				      &in, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_FEED);
	CU_ASSERT_STRING_EQUAL(err, "'much-too-long-name': feed name longer than 15 characters");
	CU_ASSERT_EQUAL(fg_rule_parse(NULL, NULL, NULL, NULL, &k, &r, &in, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(in, FG_INPUT_GROUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty rule"));
	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:5000", "10.0.0.0/8", "drop", "F1", &k, &r, &in,
				      err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(in, FG_INPUT_NONE);
	CU_ASSERT_STRING_EQUAL(fg_input_name(FG_INPUT_SRC), "src");
	CU_ASSERT_STRING_EQUAL(fg_input_name(FG_INPUT_NONE), "");
}

static void test_rule_parse_survives_tiny_error_buffer(void)
{
	struct fg_rule_key k;
	struct fg_rule r;
	char small[4] = "xyz";

	CU_ASSERT_EQUAL(fg_rule_parse("239.1.1.1:99999", NULL, NULL, NULL, &k, &r, NULL, small,
				      sizeof(small)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(small, "'23");
	CU_ASSERT_EQUAL(fg_rule_key_parse("239.1.1.1", &k, NULL, 0), -EINVAL);
}

static const struct fg_test tests[] = {
	FG_TEST(test_rule_parses_ipv4_group_and_port),
	FG_TEST(test_rule_key_is_network_byte_order_on_the_wire),
	FG_TEST(test_rule_parses_ipv6_group_in_brackets),
	FG_TEST(test_rule_parses_ipv4_wildcard),
	FG_TEST(test_rule_parses_ipv6_wildcard),
	FG_TEST(test_rule_accepts_ports_1_and_65535),
	FG_TEST(test_rule_rejects_port_above_65535),
	FG_TEST(test_rule_rejects_port_with_leading_zeros),
	FG_TEST(test_rule_rejects_feed_named_dash),
	FG_TEST(test_rule_error_shows_control_bytes_escaped),
	FG_TEST(test_rule_rejects_port_zero),
	FG_TEST(test_rule_rejects_huge_port_without_overflow),
	FG_TEST(test_rule_rejects_non_numeric_port),
	FG_TEST(test_rule_rejects_missing_port),
	FG_TEST(test_rule_rejects_missing_address),
	FG_TEST(test_rule_rejects_ipv6_without_brackets),
	FG_TEST(test_rule_rejects_unclosed_bracket),
	FG_TEST(test_rule_rejects_garbage_between_bracket_and_port),
	FG_TEST(test_rule_rejects_bad_ipv4_address),
	FG_TEST(test_rule_rejects_bad_ipv6_address),
	FG_TEST(test_rule_rejects_ipv4_mapped_ipv6),
	FG_TEST(test_rule_rejects_empty_and_null),
	FG_TEST(test_rule_rejects_overlong_input),
	FG_TEST(test_rule_key_format_round_trips),
	FG_TEST(test_rule_key_format_canonicalises_ipv6),
	FG_TEST(test_rule_key_format_longest_fits),
	FG_TEST(test_rule_key_format_reports_small_buffer),
	FG_TEST(test_rule_key_format_rejects_unknown_family),
	FG_TEST(test_prefix_parses_ipv4),
	FG_TEST(test_prefix_parses_ipv6),
	FG_TEST(test_prefix_bare_address_is_full_length),
	FG_TEST(test_prefix_accepts_zero_and_full_lengths),
	FG_TEST(test_prefix_rejects_host_bits),
	FG_TEST(test_prefix_host_bits_at_word_boundaries),
	FG_TEST(test_prefix_rejects_length_33_for_ipv4),
	FG_TEST(test_prefix_rejects_length_129_for_ipv6),
	FG_TEST(test_prefix_rejects_missing_length),
	FG_TEST(test_prefix_rejects_non_numeric_length),
	FG_TEST(test_prefix_rejects_missing_address),
	FG_TEST(test_prefix_rejects_bad_addresses),
	FG_TEST(test_prefix_format_round_trips),
	FG_TEST(test_action_parses_every_name),
	FG_TEST(test_action_rejects_unknown_names),
	FG_TEST(test_policy_parses_pass_and_drop_only),
	FG_TEST(test_feed_name_accepts_15_printable_chars),
	FG_TEST(test_feed_name_rejects_16_chars),
	FG_TEST(test_feed_name_rejects_empty),
	FG_TEST(test_feed_name_rejects_spaces_and_control_chars),
	FG_TEST(test_rule_feed_name_terminates_a_full_16_byte_field),
	FG_TEST(test_rule_parse_defaults_to_redirect_any_source_unnamed),
	FG_TEST(test_rule_parse_fills_every_part),
	FG_TEST(test_rule_parse_rejects_source_family_mismatch),
	FG_TEST(test_rule_parse_names_the_wrong_part),
	FG_TEST(test_rule_parse_survives_tiny_error_buffer),
};

FG_TEST_MAIN("rule", tests, NULL, NULL)
