// SPDX-License-Identifier: MIT
/*
 * The option tables of the command line (user/cli_opt.c): every value
 * type taken and refused with its one line, missing values, unknown
 * options, repeats, positionals, backends, and the generated text.
 * cli_opt.c lives with the command, not in libfeedgate: it is compiled in
 * here, so the test builds the same way in every flavour (ASan included).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_cunit.h"
#include "cli_opt.c"

/* --- what the parser says ------------------------------------------------------------------ */

static char said[4096];
static size_t said_len;
static int said_lines;

static int capture(enum fg_print_level level, const char *fmt, va_list ap)
{
	int n;

	(void)level;
	n = vsnprintf(said + said_len, sizeof(said) - said_len, fmt, ap);
	if (n > 0)
		said_len += (size_t)n < sizeof(said) - said_len ? (size_t)n : 0;
	for (const char *p = fmt; *p; p++)
		said_lines += *p == '\n';
	return n;
}

static void said_reset(void)
{
	said[0] = '\0';
	said_len = 0;
	said_lines = 0;
}

/* --- a table with one option of each type ------------------------------------------------ */

struct cfg {
	int flag;
	const char *str;
	int mode;
	unsigned int num;
	uint64_t wait_ns;
	unsigned int ring;
	uint32_t hold;
	double secs;
	double watch;
	const char *pairs[3];
	unsigned int npairs;
	int once;
	int be;
};

static int no_x(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	if (strchr(v, 'x')) {
		pr_warn("%s: %s '%s': no x here\n", cmd->name, o->name, v);
		return -1;
	}
	return 0;
}

static const struct cli_enum mode_vals[] = {
	{ "fast", 1 }, { "slow", 2 }, { "off", 3 }, { NULL, 0 }
};
static const struct cli_enum be_vals[] = {
	{ "af_xdp", 0 }, { "af", 1 }, { "sock", 2 }, { NULL, 0 }
};

static const struct cli_opt opts[] = {
	{ .name = "--flag", .type = CLI_FLAG, CLI_AT(struct cfg, flag), .help = "a flag" },
	{ .name = "--str", .type = CLI_STRING, CLI_AT(struct cfg, str), .arg = "S", .check = no_x },
	{ .name = "--mode",
	  .type = CLI_ENUM,
	  CLI_AT(struct cfg, mode),
	  .vals = mode_vals,
	  .def = "slow" },
	{ .name = "--num",
	  .type = CLI_UINT,
	  CLI_AT(struct cfg, num),
	  .arg = "N",
	  .lo = 1,
	  .hi = 100,
	  .def = "7" },
	{ .name = "--wait",
	  .type = CLI_UINT,
	  CLI_AT(struct cfg, wait_ns),
	  .arg = "US",
	  .lo = 1,
	  .hi = 60000000,
	  .scale = 1000,
	  .unit = "(microseconds)" },
	{ .name = "--ring",
	  .type = CLI_POW2,
	  CLI_AT(struct cfg, ring),
	  .arg = "N",
	  .lo = 64,
	  .hi = 16384,
	  .backends = "af_xdp" },
	{ .name = "--hold",
	  .type = CLI_SIZE,
	  CLI_AT(struct cfg, hold),
	  .arg = "N|BYTES",
	  .lo = 16,
	  .hi = 1ul << 24,
	  .scale = 64,
	  .flags = CLI_POW2ONLY,
	  .backends = "af_xdp af" },
	{ .name = "--secs",
	  .type = CLI_SECONDS,
	  CLI_AT(struct cfg, secs),
	  .arg = "S",
	  .hi = 10000000 },
	{ .name = "--watch",
	  .type = CLI_SECONDS,
	  CLI_AT(struct cfg, watch),
	  .arg = "SECONDS",
	  .hi = 86400,
	  .want = "a number of seconds (0 < N <= 86400)",
	  .backends = "sock" },
	{ .name = "--pair",
	  .type = CLI_LIST,
	  CLI_AT(struct cfg, pairs),
	  .count_off = offsetof(struct cfg, npairs),
	  .max = 3,
	  .flags = CLI_PAIR,
	  .arg = "A=B" },
	{ .name = "--once", .type = CLI_FLAG, CLI_AT(struct cfg, once), .flags = CLI_ONCE },
	{ .name = "--be",
	  .type = CLI_ENUM,
	  CLI_AT(struct cfg, be),
	  .vals = be_vals,
	  .def = "af_xdp" },
	{ .name = NULL },
};

static const char *const pos_names[] = { "IFACE", "GROUP" };

static const struct cli_cmd cmd = {
	.name = "t",
	.pos = "IFACE",
	.pos_names = pos_names,
	.npos = 1,
	.opts = opts,
	.backend_opt = "--be",
};

/* A short table: its usage fits one line, so errors repeat it. */
static const struct cli_opt short_opts[] = {
	{ .name = "--json", .type = CLI_FLAG, CLI_AT(struct cfg, flag) },
	{ .name = "--num",
	  .type = CLI_UINT,
	  CLI_AT(struct cfg, num),
	  .arg = "N",
	  .lo = 1,
	  .hi = 9 },
	{ .name = NULL },
};
static const struct cli_cmd short_cmd = {
	.name = "s",
	.pos = "IFACE GROUP",
	.pos_names = pos_names,
	.npos = 2,
	.opts = short_opts,
};
static const struct cli_cmd custom_cmd = {
	.name = "c",
	.pos = "FILE",
	.pos_names = pos_names,
	.npos = 1,
	.opts = short_opts,
	.missing = "which file?",
	.extra = "one FILE only ('%s' and '%s')",
};

static struct cfg c;
static const char *pos[2];
static cli_given_t given;

/* Parse the words of a NULL-ended array with table t. */
static int parse_words(const struct cli_cmd *t, const char *const *words)
{
	char *argv[32];
	int argc = 0;

	for (; *words && argc < 32; words++)
		argv[argc++] = (char *)*words;
	memset(&c, 0, sizeof(c));
	memset(pos, 0, sizeof(pos));
	given = 0;
	said_reset();
	return cli_parse(t, argc, argv, &c, pos, &given);
}

#define parse_t(t, ...) parse_words(t, (const char *const[]){ __VA_ARGS__ })
#define parse(...) parse_t(&cmd, __VA_ARGS__, NULL)

/* Refused with exactly this one line (without the "feedgate: " prefix). */
#define REFUSED(want, ...)                                       \
	do {                                                     \
		CU_ASSERT_EQUAL(parse_t(__VA_ARGS__, NULL), -1); \
		CU_ASSERT_STRING_EQUAL(said, want "\n");         \
		CU_ASSERT_EQUAL(said_lines, 1);                  \
	} while (0)

/* --- the cases ------------------------------------------------------------------------------ */

static void test_defaults_and_positional(void)
{
	CU_ASSERT_EQUAL(parse("eth0"), 0);
	CU_ASSERT_STRING_EQUAL(pos[0], "eth0");
	CU_ASSERT_EQUAL(c.mode, 2);
	CU_ASSERT_EQUAL(c.num, 7);
	CU_ASSERT_EQUAL(c.be, 0);
	CU_ASSERT_EQUAL(c.flag, 0);
	CU_ASSERT_PTR_NULL(c.str);
	CU_ASSERT_EQUAL(given, 0);
	CU_ASSERT_EQUAL(said_len, 0);
}

static void test_flag(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--flag"), 0);
	CU_ASSERT_EQUAL(c.flag, 1);
	CU_ASSERT(cli_was_given(&cmd, given, "--flag"));
	CU_ASSERT(!cli_was_given(&cmd, given, "--num"));
	REFUSED("t: --flag takes no value", &cmd, "eth0", "--flag=1");
}

static void test_string_and_check(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--str", "abc"), 0);
	CU_ASSERT_STRING_EQUAL(c.str, "abc");
	CU_ASSERT_EQUAL(parse("--str=a=b", "eth0"), 0);
	CU_ASSERT_STRING_EQUAL(c.str, "a=b");
	/* a value that starts with a dash is still the value */
	CU_ASSERT_EQUAL(parse("eth0", "--str", "-h"), 0);
	CU_ASSERT_STRING_EQUAL(c.str, "-h");
	REFUSED("t: --str 'axb': no x here", &cmd, "eth0", "--str", "axb");
}

static void test_enum(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--mode", "off"), 0);
	CU_ASSERT_EQUAL(c.mode, 3);
	CU_ASSERT_EQUAL(parse("eth0", "--mode=fast"), 0);
	CU_ASSERT_EQUAL(c.mode, 1);
	REFUSED("t: --mode 'turbo': use fast, slow or off", &cmd, "eth0", "--mode", "turbo");
	REFUSED("t: --mode '': use fast, slow or off", &cmd, "eth0", "--mode=");
	REFUSED("t: --be 'x': use af_xdp, af or sock", &cmd, "eth0", "--be", "x");
}

static void test_uint(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--num", "1"), 0);
	CU_ASSERT_EQUAL(c.num, 1);
	CU_ASSERT_EQUAL(parse("eth0", "--num", "100"), 0);
	CU_ASSERT_EQUAL(c.num, 100);
	CU_ASSERT_EQUAL(parse("eth0", "--wait", "60000000"), 0);
	CU_ASSERT_EQUAL(c.wait_ns, 60000000000ull);
	REFUSED("t: --num '0': want a whole number from 1 to 100", &cmd, "eth0", "--num", "0");
	REFUSED("t: --num '101': want a whole number from 1 to 100", &cmd, "eth0", "--num", "101");
	REFUSED("t: --num '-1': want a whole number from 1 to 100", &cmd, "eth0", "--num", "-1");
	REFUSED("t: --num '5x': want a whole number from 1 to 100", &cmd, "eth0", "--num", "5x");
	REFUSED("t: --num '': want a whole number from 1 to 100", &cmd, "eth0", "--num=");
	REFUSED("t: --num '99999999999999999999999': want a whole number from 1 to 100", &cmd,
		"eth0", "--num", "99999999999999999999999");
	REFUSED("t: --wait (microseconds) '0': want a whole number from 1 to 60000000", &cmd,
		"eth0", "--wait", "0");
}

static void test_power_of_two(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--ring", "64"), 0);
	CU_ASSERT_EQUAL(c.ring, 64);
	CU_ASSERT_EQUAL(parse("eth0", "--ring", "16384"), 0);
	CU_ASSERT_EQUAL(c.ring, 16384);
	REFUSED("t: --ring 1000: must be a power of two (64-16384)", &cmd, "eth0", "--ring",
		"1000");
	REFUSED("t: --ring '32': want a whole number from 64 to 16384", &cmd, "eth0", "--ring",
		"32");
	REFUSED("t: --ring '32768': want a whole number from 64 to 16384", &cmd, "eth0", "--ring",
		"32768");
}

static void test_size(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "65536"), 0);
	CU_ASSERT_EQUAL(c.hold, 65536);
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "4MiB"), 0);
	CU_ASSERT_EQUAL(c.hold, 65536);
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "1KiB"), 0);
	CU_ASSERT_EQUAL(c.hold, 16);
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "1048576B"), 0);
	CU_ASSERT_EQUAL(c.hold, 16384);
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "1GiB"), 0);
	CU_ASSERT_EQUAL(c.hold, 1u << 24);
	REFUSED("t: --hold '15': want a number from 16 to 16777216, or bytes with B, KiB, MiB, "
		"GiB (64 bytes a unit)",
		&cmd, "eth0", "--hold", "15");
	REFUSED("t: --hold '1000': want a number from 16 to 16777216, or bytes with B, KiB, "
		"MiB, GiB (64 bytes a unit)",
		&cmd, "eth0", "--hold", "1000");
	REFUSED("t: --hold '4XiB': want a number from 16 to 16777216, or bytes with B, KiB, "
		"MiB, GiB (64 bytes a unit)",
		&cmd, "eth0", "--hold", "4XiB");
	REFUSED("t: --hold '2GiB': want a number from 16 to 16777216, or bytes with B, KiB, "
		"MiB, GiB (64 bytes a unit)",
		&cmd, "eth0", "--hold", "2GiB");
}

static void test_seconds(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--secs", "0.25"), 0);
	CU_ASSERT_DOUBLE_EQUAL(c.secs, 0.25, 1e-12);
	CU_ASSERT_EQUAL(parse("eth0", "--secs", "1e7"), 0);
	CU_ASSERT_DOUBLE_EQUAL(c.secs, 1e7, 1e-3);
	REFUSED("t: --secs '0': want a number of seconds above 0, at most 10000000", &cmd, "eth0",
		"--secs", "0");
	REFUSED("t: --secs '1e8': want a number of seconds above 0, at most 10000000", &cmd, "eth0",
		"--secs", "1e8");
	REFUSED("t: --secs 'nan': want a number of seconds above 0, at most 10000000", &cmd, "eth0",
		"--secs", "nan");
	REFUSED("t: --secs '2s': want a number of seconds above 0, at most 10000000", &cmd, "eth0",
		"--secs", "2s");
	REFUSED("t: --watch '86401': want a number of seconds (0 < N <= 86400)", &cmd, "eth0",
		"--be", "sock", "--watch", "86401");
}

static void test_list(void)
{
	CU_ASSERT_EQUAL(parse("eth0", "--pair", "a=b", "--pair=c=d"), 0);
	CU_ASSERT_EQUAL(c.npairs, 2);
	CU_ASSERT_STRING_EQUAL(c.pairs[0], "a=b");
	CU_ASSERT_STRING_EQUAL(c.pairs[1], "c=d");
	REFUSED("t: at most 3 --pair options", &cmd, "eth0", "--pair", "a=b", "--pair", "a=b",
		"--pair", "a=b", "--pair", "a=b");
	REFUSED("t: --pair 'ab': want A=B", &cmd, "eth0", "--pair", "ab");
	REFUSED("t: --pair '=b': want A=B", &cmd, "eth0", "--pair", "=b");
	REFUSED("t: --pair 'a=': want A=B", &cmd, "eth0", "--pair", "a=");
}

static void test_missing_value_hint(void)
{
	/* a long usage is not repeated: the line points at --help */
	REFUSED("t: --num needs a value; see 'feedgate t --help'", &cmd, "eth0", "--num");
	REFUSED("s: --num needs a value (usage: feedgate s IFACE GROUP [--json] [--num N])",
		&short_cmd, "a", "b", "--num");
}

static void test_unknown_option(void)
{
	REFUSED("t: unknown option '--nope'; see 'feedgate t --help'", &cmd, "eth0", "--nope");
	REFUSED("t: unknown option '--nope'; see 'feedgate t --help'", &cmd, "eth0", "--nope=3");
	REFUSED("t: unknown option '-x'; see 'feedgate t --help'", &cmd, "eth0", "-x");
	REFUSED("t: unknown option '--'; see 'feedgate t --help'", &cmd, "eth0", "--");
	/* a prefix of an option is not that option */
	REFUSED("t: unknown option '--nu'; see 'feedgate t --help'", &cmd, "eth0", "--nu", "3");
	REFUSED("s: unknown option '--colour' (usage: feedgate s IFACE GROUP [--json] [--num N])",
		&short_cmd, "a", "b", "--colour");
}

static void test_repeated(void)
{
	/* the last value counts, as it always did */
	CU_ASSERT_EQUAL(parse("eth0", "--num", "3", "--num", "4"), 0);
	CU_ASSERT_EQUAL(c.num, 4);
	CU_ASSERT_EQUAL(parse("eth0", "--flag", "--flag"), 0);
	CU_ASSERT_EQUAL(c.flag, 1);
	/* unless the option says once */
	CU_ASSERT_EQUAL(parse("eth0", "--once"), 0);
	REFUSED("t: --once given twice", &cmd, "eth0", "--once", "--once");
}

static void test_positionals(void)
{
	REFUSED("t: missing IFACE; see 'feedgate t --help'", &cmd, "--flag");
	REFUSED("t: unexpected argument 'eth1'; see 'feedgate t --help'", &cmd, "eth0", "eth1");
	REFUSED("s: missing GROUP (usage: feedgate s IFACE GROUP [--json] [--num N])", &short_cmd,
		"a");
	CU_ASSERT_EQUAL(parse_t(&short_cmd, "a", "-", NULL), 0);
	CU_ASSERT_STRING_EQUAL(pos[1], "-");
	REFUSED("c: which file?", &custom_cmd, "--json");
	REFUSED("c: one FILE only ('a' and 'b')", &custom_cmd, "a", "b");
}

static void test_backend_applicability(void)
{
	REFUSED("t: --watch does not apply to --be af_xdp (it is for sock)", &cmd, "eth0",
		"--watch", "1");
	REFUSED("t: --ring does not apply to --be sock (it is for af_xdp)", &cmd, "eth0", "--be",
		"sock", "--ring", "64");
	/* "af" is not "af_xdp", and the other way round */
	REFUSED("t: --ring does not apply to --be af (it is for af_xdp)", &cmd, "eth0", "--be",
		"af", "--ring", "64");
	CU_ASSERT_EQUAL(parse("eth0", "--be", "af", "--hold", "64"), 0);
	CU_ASSERT_EQUAL(parse("eth0", "--hold", "64", "--ring", "128"), 0);
	CU_ASSERT_EQUAL(parse("eth0", "--be", "sock", "--watch", "2"), 0);
	/* the value is checked before the backend */
	REFUSED("t: --ring 100: must be a power of two (64-16384)", &cmd, "eth0", "--be", "sock",
		"--ring", "100");
	CU_ASSERT(cli_applies(&opts[6], "af"));
	CU_ASSERT(cli_applies(&opts[6], "af_xdp"));
	CU_ASSERT(!cli_applies(&opts[6], "sock"));
	CU_ASSERT(!cli_applies(&opts[5], "af"));
	CU_ASSERT(cli_applies(&opts[0], "anything"));
}

static void test_help_returns_one(void)
{
	FILE *saved = stdout, *f = tmpfile();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	stdout = f;
	CU_ASSERT_EQUAL(parse("--num", "3", "--help"), 1);
	CU_ASSERT_EQUAL(parse("-h"), 1);
	stdout = saved;
	fclose(f);
	CU_ASSERT_EQUAL(said_len, 0);
}

static char *text_of(void (*fn)(FILE *, const struct cli_cmd *), const struct cli_cmd *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, t);
	fclose(f);
	return buf;
}

static void usage_wide(FILE *f, const struct cli_cmd *t)
{
	cli_usage(f, t, 80, 8);
}

static void test_text_lists_every_option(void)
{
	char *u = text_of(usage_wide, &cmd), *h = text_of(cli_help, &cmd),
	     *m = text_of(cli_man_options, &cmd);

	for (const struct cli_opt *o = opts; o->name; o++) {
		char esc[64];
		size_t k = 0;

		CU_ASSERT_PTR_NOT_NULL(strstr(u, o->name));
		CU_ASSERT_PTR_NOT_NULL(strstr(h, o->name));
		for (const char *s = o->name; *s; s++) {
			if (*s == '-')
				esc[k++] = '\\';
			esc[k++] = *s;
		}
		esc[k] = '\0';
		CU_ASSERT_PTR_NOT_NULL(strstr(m, esc));
	}
	/* backends get a line of their own; lists say they repeat */
	CU_ASSERT_PTR_NOT_NULL(strstr(u, "\n        af_xdp: [--ring N]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(u, "[--pair A=B]..."));
	CU_ASSERT_PTR_NOT_NULL(strstr(u, "[--mode fast|slow|off]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "(default slow)"));
	for (const char *l = u; l; l = strchr(l + 1, '\n'))
		CU_ASSERT(strcspn(l + 1, "\n") <= 80);
	free(u);
	free(h);
	free(m);
}

static void test_man_escapes(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_man_text(f, ".a-b\\c\n'd");
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "\\&.a\\-b\\ec\n\\&'d");
	free(buf);
}

static int setup(void)
{
	fg_set_print(capture);
	return 0;
}

static const struct fg_test tests[] = {
	FG_TEST(test_defaults_and_positional),
	FG_TEST(test_flag),
	FG_TEST(test_string_and_check),
	FG_TEST(test_enum),
	FG_TEST(test_uint),
	FG_TEST(test_power_of_two),
	FG_TEST(test_size),
	FG_TEST(test_seconds),
	FG_TEST(test_list),
	FG_TEST(test_missing_value_hint),
	FG_TEST(test_unknown_option),
	FG_TEST(test_repeated),
	FG_TEST(test_positionals),
	FG_TEST(test_backend_applicability),
	FG_TEST(test_help_returns_one),
	FG_TEST(test_text_lists_every_option),
	FG_TEST(test_man_escapes),
};

FG_TEST_MAIN("cli_opt", tests, setup, NULL)
