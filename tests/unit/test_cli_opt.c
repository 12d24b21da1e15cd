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
#include "cmd_gen_opts.c"

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
	double ratio;
	uint32_t feeds;
	uint64_t count;
	double lag;
	double factor;
	const char *file;
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

/* Numbers as strtod reads them, and an option that must be given. */
static int at_most_5(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	if (strtod(v, NULL) > 5) {
		pr_warn("%s: %s '%s': above 5\n", cmd->name, o->name, v);
		return -1;
	}
	return 0;
}

static const struct cli_opt num_opts[] = {
	{ .name = "--file",
	  .type = CLI_STRING,
	  CLI_AT(struct cfg, file),
	  .arg = "F",
	  .flags = CLI_REQUIRED },
	{ .name = "--ratio", .type = CLI_DOUBLE, CLI_AT(struct cfg, ratio), .dlo = 0, .dhi = 1 },
	{ .name = "--feeds",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct cfg, feeds),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .dlo = 1,
	  .dhi = 64,
	  .def = "1" },
	{ .name = "--count",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct cfg, count),
	  .flags = CLI_AS_UINT,
	  .dlo = 1,
	  .dhi = 1e15 },
	{ .name = "--lag",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct cfg, lag),
	  .dlo = 0,
	  .dhi = 1e7,
	  .unit = "(microseconds)" },
	{ .name = "--factor",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct cfg, factor),
	  .dlo = 0,
	  .dhi = 10,
	  .want = "a factor up to 10",
	  .check = at_most_5 },
	{ .name = "--hist",
	  .type = CLI_POW2,
	  CLI_AT(struct cfg, ring),
	  .lo = 1,
	  .hi = 1024,
	  .want = "a power of two from 1 to 1024" },
	{ .name = NULL },
};
static const struct cli_cmd num_cmd = { .name = "n", .opts = num_opts };
static const struct cli_cmd few_cmd = {
	.name = "f",
	.opts = num_opts,
	.missing = "--file F is needed",
	.unknown = "%s is not one of this form's options",
	.notes = "First paragraph.\n\nSecond - paragraph.",
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

static void test_double(void)
{
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", NULL), 0);
	CU_ASSERT_EQUAL(c.feeds, 1);
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", "--ratio", "0.25", "--feeds", "64",
				"--count", "1e3", "--lag=2.5", NULL),
			0);
	CU_ASSERT_DOUBLE_EQUAL(c.ratio, 0.25, 1e-12);
	CU_ASSERT_EQUAL(c.feeds, 64);
	CU_ASSERT_EQUAL(c.count, 1000);
	CU_ASSERT_DOUBLE_EQUAL(c.lag, 2.5, 1e-12);
	/* without CLI_WHOLE the fraction is dropped */
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", "--count", "7.9", NULL), 0);
	CU_ASSERT_EQUAL(c.count, 7);
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", "--count", "1e15", NULL), 0);
	CU_ASSERT_EQUAL(c.count, 1000000000000000ull);
	REFUSED("n: --ratio '1.5': want a number from 0 to 1", &num_cmd, "--file", "x", "--ratio",
		"1.5");
	REFUSED("n: --ratio '-0.1': want a number from 0 to 1", &num_cmd, "--file", "x", "--ratio",
		"-0.1");
	REFUSED("n: --ratio 'nan': want a number from 0 to 1", &num_cmd, "--file", "x", "--ratio",
		"nan");
	REFUSED("n: --ratio '0.5x': want a number from 0 to 1", &num_cmd, "--file", "x", "--ratio",
		"0.5x");
	REFUSED("n: --ratio '': want a number from 0 to 1", &num_cmd, "--file", "x", "--ratio=");
	REFUSED("n: --feeds '65': want a number from 1 to 64", &num_cmd, "--file", "x", "--feeds",
		"65");
	REFUSED("n: --feeds '1.5': want a whole number", &num_cmd, "--file", "x", "--feeds", "1.5");
	REFUSED("n: --count '0': want a number from 1 to 1e+15", &num_cmd, "--file", "x", "--count",
		"0");
	REFUSED("n: --lag (microseconds) '2e7': want a number from 0 to 1e+07", &num_cmd, "--file",
		"x", "--lag", "2e7");
	REFUSED("n: --factor '11': want a factor up to 10", &num_cmd, "--file", "x", "--factor",
		"11");
	/* the check comes after the range */
	REFUSED("n: --factor '6': above 5", &num_cmd, "--file", "x", "--factor", "6");
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", "--factor", "5", NULL), 0);
	CU_ASSERT_DOUBLE_EQUAL(c.factor, 5, 1e-12);
}

static void test_pow2_want(void)
{
	CU_ASSERT_EQUAL(parse_t(&num_cmd, "--file", "x", "--hist", "512", NULL), 0);
	CU_ASSERT_EQUAL(c.ring, 512);
	/* with want, one wording for every refusal */
	REFUSED("n: --hist '1000': want a power of two from 1 to 1024", &num_cmd, "--file", "x",
		"--hist", "1000");
	REFUSED("n: --hist '0': want a power of two from 1 to 1024", &num_cmd, "--file", "x",
		"--hist", "0");
}

static void test_required_and_custom_words(void)
{
	REFUSED("n: missing --file F; see 'feedgate n --help'", &num_cmd, "--ratio", "0");
	REFUSED("f: --file F is needed", &few_cmd, "--ratio", "0");
	REFUSED("f: --rate is not one of this form's options", &few_cmd, "--file", "x", "--rate=5");
	REFUSED("f: extra is not one of this form's options", &few_cmd, "--file", "x", "extra");
}

/* --- gen's tables ------------------------------------------------------------------------------- */

static struct gen_cfg g;
static struct gen_file_cfg gf;

static int gen_words(int file_form, const char *const *words)
{
	char *argv[40];
	int argc = 0;

	argv[argc++] = (char *)"gen";
	for (; *words && argc < 40; words++)
		argv[argc++] = (char *)*words;
	said_reset();
	CU_ASSERT_EQUAL(gen_is_file_form(argc, argv), file_form);
	return file_form ? gen_file_parse(argc, argv, &gf) : gen_parse(argc, argv, &g);
}

#define gen(...) gen_words(0, (const char *const[]){ __VA_ARGS__, NULL })
#define gen_file(...) gen_words(1, (const char *const[]){ __VA_ARGS__, NULL })

/* gen refuses the line with exactly this one line. */
#define GEN_REFUSED(want, ...)                           \
	do {                                             \
		CU_ASSERT_EQUAL(gen(__VA_ARGS__), -1);   \
		CU_ASSERT_STRING_EQUAL(said, want "\n"); \
		CU_ASSERT_EQUAL(said_lines, 1);          \
	} while (0)
#define GEN_FILE_REFUSED(want, ...)                         \
	do {                                                \
		CU_ASSERT_EQUAL(gen_file(__VA_ARGS__), -1); \
		CU_ASSERT_STRING_EQUAL(said, want "\n");    \
		CU_ASSERT_EQUAL(said_lines, 1);             \
	} while (0)

static void test_gen_defaults(void)
{
	CU_ASSERT_EQUAL_FATAL(gen("--pcap", "x.pcap"), 0);
	CU_ASSERT_STRING_EQUAL(g.pcap, "x.pcap");
	CU_ASSERT_DOUBLE_EQUAL(g.rate, 10000, 1e-9);
	CU_ASSERT_EQUAL(g.count, 1000); /* a file without --count */
	CU_ASSERT_EQUAL(g.feeds, 1);
	CU_ASSERT_EQUAL(g.mpp, 4);
	CU_ASSERT_EQUAL(g.seed, 1);
	CU_ASSERT_EQUAL(g.tx, FG_GEN_TX_AUTO);
	CU_ASSERT_EQUAL(g.pace_sleep, 0);
	CU_ASSERT_EQUAL(g.lines, 1);
	CU_ASSERT_EQUAL(g.burst_len_ns, 1000000);
	CU_ASSERT_EQUAL(g.burst_every_ns, 100000000);
	CU_ASSERT_EQUAL(g.serve_history, 65536);
	CU_ASSERT_EQUAL(g.serve_mode, FG_RRSRV_FULL);
	CU_ASSERT_DOUBLE_EQUAL(g.serve_linger, 2, 1e-9);
	CU_ASSERT(!g.line_mode);
	CU_ASSERT_EQUAL(said_len, 0);
}

static void test_gen_values(void)
{
	CU_ASSERT_EQUAL_FATAL(gen("--pcap", "x", "--count", "2.7e3", "--feeds", "3", "--seed",
				  "0x10", "--noise", "0.5", "--messages-per-packet=7", "--burst",
				  "5", "--burst-len", "500us", "--burst-every", "0.1s"),
			      0);
	CU_ASSERT_EQUAL(g.count, 2700);
	CU_ASSERT_EQUAL(g.feeds, 3);
	CU_ASSERT_EQUAL(g.seed, 16);
	CU_ASSERT_DOUBLE_EQUAL(g.noise, 0.5, 1e-12);
	CU_ASSERT_EQUAL(g.mpp, 7);
	CU_ASSERT_DOUBLE_EQUAL(g.burst, 5, 1e-12);
	CU_ASSERT_EQUAL(g.burst_len_ns, 500000);
	CU_ASSERT_EQUAL(g.burst_every_ns, 100000000);
	CU_ASSERT_EQUAL_FATAL(gen("--pcap", "x", "--duration", "0.5", "--rate", "100"), 0);
	CU_ASSERT_EQUAL(g.count, 50);
	CU_ASSERT_EQUAL_FATAL(gen("--iface", "lo", "--lines", "2", "--loss", "0.1,0.2",
				  "--loss-both", "0.05", "--serve-rerequest", "10.0.0.1:9000",
				  "--serve-mode", "partial", "--serve-history", "1024",
				  "--serve-delay", "250", "--tx", "afpacket", "--pace", "sleep",
				  "--strict", "--itch-stamps"),
			      0);
	CU_ASSERT_EQUAL(g.lines, 2);
	CU_ASSERT_DOUBLE_EQUAL(g.loss[0], 0.1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(g.loss[1], 0.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(g.loss_both, 0.05, 1e-12);
	CU_ASSERT(g.loss_both_set);
	CU_ASSERT(g.line_mode);
	CU_ASSERT_STRING_EQUAL(g.serve, "10.0.0.1:9000");
	CU_ASSERT_EQUAL(g.serve_mode, FG_RRSRV_PARTIAL);
	CU_ASSERT_EQUAL(g.serve_history, 1024);
	CU_ASSERT_DOUBLE_EQUAL(g.serve_delay_us, 250, 1e-9);
	CU_ASSERT_EQUAL(g.tx, FG_GEN_TX_AFPACKET);
	CU_ASSERT_EQUAL(g.pace_sleep, 1);
	CU_ASSERT_EQUAL(g.strict, 1);
	CU_ASSERT_EQUAL(g.itch_stamps, 1);
	CU_ASSERT_EQUAL(g.count, 0); /* an interface runs until stopped */
	/* one ratio is every line's */
	CU_ASSERT_EQUAL_FATAL(gen("--pcap", "x", "--loss", "0.3"), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.loss[1], 0.3, 1e-12);
}

static void test_gen_refusals(void)
{
	GEN_REFUSED("gen: give exactly one of --pcap FILE and --iface IFACE; see 'feedgate gen "
		    "--help'",
		    "--count", "5");
	GEN_REFUSED("gen: --feeds '1.5': want a whole number", "--pcap", "x", "--feeds", "1.5");
	/* server options without a server: the first one given is named */
	GEN_REFUSED("gen: --serve-delay needs --serve-rerequest ADDR:PORT", "--pcap", "x",
		    "--serve-delay", "5", "--serve-linger", "1");
	GEN_REFUSED("gen: --serve-mode needs --serve-rerequest ADDR:PORT", "--pcap", "x",
		    "--serve-mode=full", "--serve-history", "4");
	GEN_REFUSED("gen: --feeds '65': want a number from 1 to 64", "--pcap", "x", "--feeds",
		    "65");
	GEN_REFUSED("gen: --rate 'x': want a number from 0 to 1e+08", "--pcap", "x", "--rate", "x");
	GEN_REFUSED("gen: --seed '0x': want a whole number", "--pcap", "x", "--seed", "0x");
	GEN_REFUSED("gen: --tx 'dpdk': use af_xdp, xdp, afpacket or auto", "--tx", "dpdk");
	GEN_REFUSED("gen: --lines '3': use 1 or 2", "--pcap", "x", "--lines", "3");
	GEN_REFUSED("gen: --burst '1': want a factor above 1 (burst rate over the mean --rate)",
		    "--pcap", "x", "--burst", "1");
	GEN_REFUSED("gen: --burst 200 x --burst-len 1ms is not below --burst-every 100ms: bursts "
		    "that long would carry more than the mean rate",
		    "--pcap", "x", "--burst", "200");
	GEN_REFUSED("gen: --burst-len 'junk': want a duration like 500us, 1ms or 0.1s", "--pcap",
		    "x", "--burst-len", "junk");
	GEN_REFUSED("gen: --burst-every needs --burst FACTOR", "--pcap", "x", "--burst-every",
		    "1ms");
	GEN_REFUSED("gen: --loss 'x': want a ratio from 0 to 1, or A_RATIO,B_RATIO", "--pcap", "x",
		    "--loss", "x");
	GEN_REFUSED("gen: --loss '0.1,0.2': two ratios need --lines 2 (one line takes one ratio)",
		    "--pcap", "x", "--loss", "0.1,0.2");
	GEN_REFUSED("gen: --serve-history '1000': want a power of two from 1 to 16777216 "
		    "(messages per feed)",
		    "--iface", "lo", "--serve-rerequest", "10.0.0.1:9000", "--serve-history",
		    "1000");
	GEN_REFUSED("gen: --serve-delay (microseconds) 'x': want a number from 0 to 1e+07",
		    "--iface", "lo", "--serve-delay", "x");
	GEN_REFUSED("gen: --serve-mode needs --serve-rerequest ADDR:PORT", "--pcap", "x",
		    "--serve-mode", "full");
	GEN_REFUSED("gen: --strict judges what the device took; it does not go with --pcap",
		    "--pcap", "x", "--strict");
	GEN_REFUSED("gen: --tx xdp sends copies of one template frame: no --lines 2, --loss, "
		    "--loss-both or --serve-rerequest (use --tx af_xdp or afpacket)",
		    "--iface", "lo", "--tx", "xdp", "--lines", "2");
	GEN_REFUSED("gen: unexpected argument 'x'; see 'feedgate gen --help'", "--pcap", "p", "x");
}

static void test_gen_file_form(void)
{
	CU_ASSERT_EQUAL_FATAL(gen_file("--itch-file", "-", "--count", "1e3"), 0);
	CU_ASSERT_STRING_EQUAL(gf.path, "-");
	CU_ASSERT_EQUAL(gf.count, 1000);
	CU_ASSERT_EQUAL(gf.seed, 1);
	CU_ASSERT_EQUAL(gf.symbols, 8000);
	CU_ASSERT_EQUAL(gf.max_live, 1000000);
	CU_ASSERT_EQUAL_FATAL(gen_file("--count", "10", "--itch-file=day.bf", "--seed", "0",
				       "--symbols", "100", "--max-live", "5000"),
			      0);
	CU_ASSERT_STRING_EQUAL(gf.path, "day.bf");
	CU_ASSERT_EQUAL(gf.seed, 0);
	CU_ASSERT_EQUAL(gf.symbols, 100);
	CU_ASSERT_EQUAL(gf.max_live, 5000);
	GEN_FILE_REFUSED("gen: --itch-file FILE and --count N are both needed", "--itch-file", "x");
	GEN_FILE_REFUSED("gen: --itch-file FILE and --count N are both needed", "--itch-file", "",
			 "--count", "5");
	GEN_FILE_REFUSED("gen: --rate does not go with --itch-file (which takes --count, --seed, "
			 "--symbols, --max-live)",
			 "--itch-file", "x", "--count", "5", "--rate", "5");
	GEN_FILE_REFUSED("gen: --count '1.5': want a whole number", "--itch-file", "x", "--count",
			 "1.5");
	GEN_FILE_REFUSED("gen: --symbols '70000': want a number from 1 to 65535", "--itch-file",
			 "x", "--count", "5", "--symbols", "70000");
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

static void test_required_and_notes_in_text(void)
{
	char *u = text_of(usage_wide, &few_cmd), *h = text_of(cli_help, &few_cmd), *m = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&m, &len);

	cli_man_notes(f, &few_cmd);
	fclose(f);
	/* a required option has no brackets */
	CU_ASSERT_EQUAL(strncmp(u, "f --file F [--ratio VALUE]", 26), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "\n\nFirst paragraph.\n\nSecond - paragraph.\n"));
	CU_ASSERT_STRING_EQUAL(m, ".PP\nFirst paragraph.\n.PP\nSecond \\- paragraph.\n");
	free(u);
	free(h);
	free(m);
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
	FG_TEST(test_double),
	FG_TEST(test_pow2_want),
	FG_TEST(test_required_and_custom_words),
	FG_TEST(test_gen_defaults),
	FG_TEST(test_gen_values),
	FG_TEST(test_gen_refusals),
	FG_TEST(test_gen_file_form),
	FG_TEST(test_list),
	FG_TEST(test_missing_value_hint),
	FG_TEST(test_unknown_option),
	FG_TEST(test_repeated),
	FG_TEST(test_positionals),
	FG_TEST(test_backend_applicability),
	FG_TEST(test_help_returns_one),
	FG_TEST(test_text_lists_every_option),
	FG_TEST(test_man_escapes),
	FG_TEST(test_required_and_notes_in_text),
};

FG_TEST_MAIN("cli_opt", tests, setup, NULL)
