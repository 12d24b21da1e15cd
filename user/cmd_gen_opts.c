// SPDX-License-Identifier: MIT
/*
 * feedgate gen's command line. Each option is checked on its own by the
 * table parser (cli_opt.c); gen_parse() then refuses the combinations that
 * cannot work (a pcap file with a transmit path, bursts longer than their
 * period, two loss ratios on one line, ...) before anything is opened.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_gen_opts.h"
#include "commands.h"
#include "feedgate/itchgen.h"
#include "fg_log.h"
#include "fg_net.h"
#include "fg_rrsrv.h"

/* CLI_ENUM stores an int: the enum field must be one. */
_Static_assert(sizeof(enum fg_gen_tx) == sizeof(int), "--tx is stored as an int");

/* --loss: "R" (every line) or "RA,RB"; each a plain ratio 0..1. 0 or -1. */
static int gen_parse_loss(const char *v, double loss[2])
{
	const char *p = v;

	for (int l = 0; l < 2; l++) {
		char *end;
		double d;

		/* plain decimals: strtod would also take blanks, "nan", hex */
		if (!*p || !strchr("0123456789.", *p))
			return -1;
		errno = 0;
		d = strtod(p, &end);
		if (errno || end == p || !(d >= 0) || d > 1)
			return -1;
		loss[l] = d;
		if (!*end) {
			if (!l)
				loss[1] = d;
			return 0;
		}
		if (*end != ',' || l)
			return -1;
		p = end + 1;
	}
	return -1;
}

/* --- checks of single values ---------------------------------------------------------------- */

static int check_loss(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	double loss[2];

	if (!gen_parse_loss(v, loss))
		return 0;
	pr_warn("%s: %s '%s': want a ratio from 0 to 1, or A_RATIO,B_RATIO\n", cmd->name, o->name,
		v);
	return -1;
}

/* --seed takes what strtoull takes in any base (0x.., 0..): seeds written in hex stay valid. */
static int check_seed(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	char *end;

	errno = 0;
	(void)strtoull(v, &end, 0);
	if (!errno && end != v && !*end)
		return 0;
	pr_warn("%s: %s '%s': want a whole number\n", cmd->name, o->name, v);
	return -1;
}

/* --burst: the range is the table's; a factor of 1 or less would be no burst. */
static int check_burst(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	if (strtod(v, NULL) > 1)
		return 0;
	pr_warn("%s: %s '%s': want a factor above 1 (burst rate over the mean --rate)\n", cmd->name,
		o->name, v);
	return -1;
}

static int check_duration(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	uint64_t ns;
	int err = fg_gen_parse_duration(v, &ns);

	if (!err)
		return 0;
	pr_warn("%s: %s '%s': want a duration like 500us, 1ms or 0.1s%s\n", cmd->name, o->name, v,
		err == -ERANGE ? " (at most an hour)" : "");
	return -1;
}

static int check_endpoint(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	uint8_t fam, addr[16];
	uint16_t port;

	if (!fg_net_parse_endpoint(v, &fam, addr, &port) && port)
		return 0;
	pr_warn("%s: %s '%s': want ADDR:PORT or [ADDR6]:PORT\n", cmd->name, o->name, v);
	return -1;
}

/* --- the tables ----------------------------------------------------------------------------- */

/* In the order of fg_gen_tx_auto_order[] and FG_GEN_TX_NAMES, auto last. */
static const struct cli_enum gen_tx_vals[] = {
	{ "af_xdp", FG_GEN_TX_AF_XDP },
	{ "xdp", FG_GEN_TX_XDP },
	{ "afpacket", FG_GEN_TX_AFPACKET },
	{ "auto", FG_GEN_TX_AUTO },
	{ NULL, 0 },
};
static const struct cli_enum gen_pace_vals[] = { { "spin", 0 }, { "sleep", 1 }, { NULL, 0 } };
static const struct cli_enum gen_lines_vals[] = { { "1", 1 }, { "2", 2 }, { NULL, 0 } };
static const struct cli_enum gen_mode_vals[] = {
	{ "full", FG_RRSRV_FULL },
	{ "partial", FG_RRSRV_PARTIAL },
	{ "garbage", FG_RRSRV_GARBAGE },
	{ "silent", FG_RRSRV_SILENT },
	{ NULL, 0 },
};

static const struct cli_opt gen_opts[] = {
	{ .name = "--pcap",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, pcap),
	  .arg = "FILE",
	  .help = "write the packets to this pcap file, timestamped by the --rate schedule" },
	{ .name = "--iface",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, iface),
	  .arg = "IFACE",
	  .help = "send the packets out of this interface (needs root)" },
	{ .name = "--rate",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, rate),
	  .arg = "PPS",
	  .dlo = 0,
	  .dhi = 1e8,
	  .def = "10000",
	  .help = "packets per second of the mix, feed and noise together; 0: as fast as the "
		  "interface takes them" },
	{ .name = "--count",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, count),
	  .flags = CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = 1e15,
	  .help = "packets of the mix to send; a pcap file without --count or --duration gets "
		  "1000, an interface sends until interrupted" },
	{ .name = "--duration",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, duration),
	  .arg = "S",
	  .dlo = 0.001,
	  .dhi = 1e7,
	  .help = "send for this many seconds (a pcap file: --duration times --rate packets)" },
	{ .name = "--feeds",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, feeds),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = FG_GEN_MAX_FEEDS,
	  .def = "1",
	  .help = "MoldUDP64 feeds, each its own group, port and session" },
	{ .name = "--noise",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, noise),
	  .arg = "RATIO",
	  .dlo = 0,
	  .dhi = 1000,
	  .def = "0",
	  .help = "noise packets (traffic the filter should drop) per feed packet" },
	{ .name = "--messages-per-packet",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, mpp),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = FG_GEN_MAX_MPP,
	  .def = "4",
	  .help = "ITCH messages in each feed packet" },
	{ .name = "--seed",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, seed_arg),
	  .arg = "S",
	  .check = check_seed,
	  .def = "1",
	  .help = "seed of the messages and, on a stream of their own, of the losses" },
	{ .name = "--tx",
	  .type = CLI_ENUM,
	  CLI_AT(struct gen_cfg, tx),
	  .vals = gen_tx_vals,
	  .def = "auto",
	  .help = "how to send on an interface: af_xdp (an AF_XDP socket per queue), xdp "
		  "(BPF_PROG_RUN live frames, copies of one template), afpacket (sendmmsg); auto: "
		  "the first of these that works here" },
	{ .name = "--pace",
	  .type = CLI_ENUM,
	  CLI_AT(struct gen_cfg, pace_sleep),
	  .vals = gen_pace_vals,
	  .def = "spin",
	  .help = "spin: spin the last 50 us before each packet, for exact pacing; sleep: wait "
		  "by sleeping only, leaving the CPU to a consumer on the same core (--tx xdp "
		  "always sleeps)" },
	{ .name = "--itch-stamps",
	  .type = CLI_FLAG,
	  CLI_AT(struct gen_cfg, itch_stamps),
	  .help = "ITCH timestamps are the send time (always so with --tx xdp)" },
	{ .name = "--strict",
	  .type = CLI_FLAG,
	  CLI_AT(struct gen_cfg, strict),
	  .help = "exit 1 when the device took fewer frames than were sent, or the rate reached "
		  "is below --rate, by more than 3% (without it gen warns and exits 0)" },
	{ .name = "--burst",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, burst),
	  .arg = "FACTOR",
	  .dlo = 0,
	  .dhi = 1e6,
	  .check = check_burst,
	  .help = "keep --rate as the mean but send FACTOR times it for --burst-len at the start "
		  "of every --burst-every, slower in between" },
	{ .name = "--burst-len",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, burst_len_arg),
	  .arg = "DUR",
	  .check = check_duration,
	  .def = "1ms",
	  .help = "how long a burst lasts (ns, us, ms or s: 500us, 0.1s)" },
	{ .name = "--burst-every",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, burst_every_arg),
	  .arg = "DUR",
	  .check = check_duration,
	  .def = "100ms",
	  .help = "how often a burst starts" },
	{ .name = "--lines",
	  .type = CLI_ENUM,
	  CLI_AT(struct gen_cfg, lines),
	  .vals = gen_lines_vals,
	  .def = "1",
	  .help = "2: send every feed packet twice, line A then line B, with the same MoldUDP64 "
		  "payload; B's group is A's with 1 added to the second octet (239.2.1.f), same "
		  "port, source port 40063+f (A: 39999+f)" },
	{ .name = "--loss",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, loss_arg),
	  .arg = "RATIO|A_RATIO,B_RATIO",
	  .check = check_loss,
	  .help = "drop a feed packet on line A with probability A_RATIO and on line B with "
		  "B_RATIO, independently (RATIO: the same on every line; one ratio only with "
		  "--lines 1)" },
	{ .name = "--loss-both",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, loss_both),
	  .arg = "RATIO",
	  .dlo = 0,
	  .dhi = 1,
	  .help = "drop a feed packet on every line with this probability, on top of --loss: "
		  "only a re-request server can give it back" },
	{ .name = "--serve-rerequest",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_cfg, serve),
	  .arg = "ADDR:PORT",
	  .check = check_endpoint,
	  .help = "answer MoldUDP64 retransmission requests (20 bytes: session, first sequence "
		  "number, count) on this UDP address of the sending namespace, from every feed "
		  "packet generated, sent or lost; replies go back to the requester" },
	{ .name = "--serve-history",
	  .type = CLI_POW2,
	  CLI_AT(struct gen_cfg, serve_history),
	  .arg = "N",
	  .lo = 1,
	  .hi = 1u << 24,
	  .want = "a power of two from 1 to 16777216 (messages per feed)",
	  .def = "65536",
	  .help = "messages remembered per feed, a power of two" },
	{ .name = "--serve-linger",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, serve_linger),
	  .arg = "S",
	  .dlo = 0,
	  .dhi = 3600,
	  .def = "2",
	  .help = "go on answering this many seconds after the last packet, with a heartbeat "
		  "per feed and line every second" },
	{ .name = "--serve-mode",
	  .type = CLI_ENUM,
	  CLI_AT(struct gen_cfg, serve_mode),
	  .vals = gen_mode_vals,
	  .def = "full",
	  .help = "full: every requested message still remembered; partial: the first half of "
		  "each request; garbage: malformed datagrams only; silent: no reply" },
	{ .name = "--serve-delay",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_cfg, serve_delay_us),
	  .arg = "US",
	  .dlo = 0,
	  .dhi = 10000000,
	  .unit = "(microseconds)",
	  .def = "0",
	  .help = "hold every reply back this many microseconds, in order: a server further "
		  "away" },
	{ .name = NULL },
};

const struct cli_cmd cli_cmd_gen = {
	.name = "gen",
	.opts = gen_opts,
	.summary = "MoldUDP64/ITCH 5.0 feeds plus noise, paced at --rate packets per second, to "
		   "a pcap file or out of an interface",
	.notes = "Feed f (1, 2, ...) is group 239.1.1.f, UDP port 4999+f, session FG00000001 "
		 "for f = 1. --rate and --count count packets of the mix (feed and noise); a "
		 "feed packet counts once, whatever lines carry it.\n\n"
		 "A lost packet is generated and counted (packets, messages) but not sent. "
		 "Losses follow from --seed on a stream of their own: the messages are the same "
		 "with and without loss. Noise is never lost, nor is a feed's first packet (a "
		 "consumer starts where it joins). With lines, loss or a server the run ends "
		 "with a MoldUDP64 heartbeat per feed and line (the next sequence number).\n\n"
		 "The report says what the device did: the frames it took (tx_packets) and "
		 "dropped (tx_dropped) while gen sent. When it took fewer than were sent, or the "
		 "rate reached is below --rate, by more than 3%, one line on stderr says so.",
};

static const struct cli_opt gen_file_opts[] = {
	{ .name = "--itch-file",
	  .type = CLI_STRING,
	  CLI_AT(struct gen_file_cfg, path),
	  .flags = CLI_REQUIRED,
	  .arg = "FILE|-",
	  .help = "write the day to FILE (-: standard output)" },
	{ .name = "--count",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_file_cfg, count),
	  .flags = CLI_REQUIRED | CLI_WHOLE | CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = 1e15,
	  .help = "messages to write" },
	{ .name = "--seed",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_file_cfg, seed),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .arg = "S",
	  .dlo = 0,
	  .dhi = 1e15,
	  .def = "1",
	  .help = "seed of the day" },
	{ .name = "--symbols",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_file_cfg, symbols),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = FG_ITCHGEN_MAX_SYMBOLS,
	  .def = "8000",
	  .help = "symbols traded" },
	{ .name = "--max-live",
	  .type = CLI_DOUBLE,
	  CLI_AT(struct gen_file_cfg, max_live),
	  .flags = CLI_WHOLE | CLI_AS_UINT,
	  .arg = "N",
	  .dlo = 1,
	  .dhi = 1e9,
	  .def = "1000000",
	  .help = "orders live at once at most; once reached, adds become deletes" },
	{ .name = NULL },
};

const struct cli_cmd cli_cmd_gen_file = {
	.name = "gen",
	.opts = gen_file_opts,
	.summary = "a generated trading day as NASDAQ BinaryFILE, the input replay and the "
		   "benchmarks take",
	.missing = "--itch-file FILE and --count N are both needed",
	.unknown = "%s does not go with --itch-file (which takes --count, --seed, --symbols, "
		   "--max-live)",
	.notes = "A file is written under a temporary name beside it and renamed only once "
		 "whole: a full disk leaves no file that claims to be a complete day (through a "
		 "symbolic link, the file it names is replaced). A FIFO or a device is written in "
		 "place, like -. Progress goes to standard error when it takes more than a "
		 "second.",
};

/* The defaults below must stay what the library takes 0 for. */
_Static_assert(FG_ITCHGEN_DEFAULT_SYMBOLS == 8000 && FG_ITCHGEN_DEFAULT_LIVE == 1000000,
	       "--symbols and --max-live show the day generator's defaults");

/* --- the lines ------------------------------------------------------------------------------ */

bool gen_is_file_form(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--itch-file") || !strncmp(argv[i], "--itch-file=", 12))
			return true;
	return false;
}

int gen_file_parse(int argc, char **argv, struct gen_file_cfg *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cli_parse(&cli_cmd_gen_file, argc - 1, argv + 1, c, NULL, NULL);
	if (ret)
		return ret;
	if (!*c->path) {
		pr_warn("gen: %s\n", cli_cmd_gen_file.missing);
		return -1;
	}
	return 0;
}

/* The --serve-* options that mean nothing without a server, in table order. */
static const char *const gen_serve_opts[] = { "--serve-history", "--serve-linger", "--serve-mode",
					      "--serve-delay" };

/* The checks that span options, in the order of the original parser. */
static int gen_check_line(struct gen_cfg *c, cli_given_t given, int argc, char **argv)
{
	const struct cli_cmd *cmd = &cli_cmd_gen;
	bool len_given = cli_was_given(cmd, given, "--burst-len");
	bool pace_given = cli_was_given(cmd, given, "--pace");

	if (!!c->pcap == !!c->iface) {
		pr_warn("gen: give exactly one of --pcap FILE and --iface IFACE; see 'feedgate gen "
			"--help'\n");
		return -1;
	}
	if (c->tx != FG_GEN_TX_AUTO && c->pcap) {
		pr_warn("gen: --tx %s sends on an interface; it does not go with --pcap\n",
			fg_gen_tx_name(c->tx));
		return -1;
	}
	if (c->pcap && !(c->rate > 0)) {
		pr_warn("gen: --pcap needs a --rate above 0 (it sets the capture timestamps)\n");
		return -1;
	}
	if (c->strict && c->pcap) {
		pr_warn("gen: --strict judges what the device took; it does not go with --pcap\n");
		return -1;
	}
	if (pace_given && c->pcap) {
		pr_warn("gen: --pace paces sending on an interface; it does not go with --pcap\n");
		return -1;
	}
	if (c->tx == FG_GEN_TX_XDP && pace_given && !c->pace_sleep) {
		pr_warn("gen: --pace spin: --tx xdp sends in bursts and paces by sleeping only\n");
		return -1;
	}
	if (c->tx == FG_GEN_TX_XDP && c->mpp > 2 * GEN_XDP_MAX_PAIRS) {
		pr_warn("gen: --tx xdp: at most %u messages per packet\n", 2 * GEN_XDP_MAX_PAIRS);
		return -1;
	}
	if ((len_given || cli_was_given(cmd, given, "--burst-every")) && !(c->burst > 0)) {
		pr_warn("gen: %s needs --burst FACTOR\n",
			len_given ? "--burst-len" : "--burst-every");
		return -1;
	}
	if (c->burst > 0) {
		struct fg_pacer p;

		if (!(c->rate > 0)) {
			pr_warn("gen: --burst needs a --rate above 0 (the mean rate the bursts "
				"keep)\n");
			return -1;
		}
		/* the base rate, rate (P - F B) / (P - B), must stay above 0 */
		if (!(c->burst * (double)c->burst_len_ns < (double)c->burst_every_ns)) {
			pr_warn("gen: --burst %g x --burst-len %s is not below --burst-every %s: "
				"bursts that long would carry more than the mean rate\n",
				c->burst, c->burst_len_arg, c->burst_every_arg);
			return -1;
		}
		if (fg_pace_init_burst(&p, c->rate, c->burst, c->burst_len_ns, c->burst_every_ns,
				       0)) {
			pr_warn("gen: --burst %g with --rate %g: the rate between bursts is too "
				"small\n",
				c->burst, c->rate);
			return -1;
		}
	}
	if (c->loss_arg && strchr(c->loss_arg, ',') && c->lines < 2) {
		pr_warn("gen: --loss '%s': two ratios need --lines 2 (one line takes one ratio)\n",
			c->loss_arg);
		return -1;
	}
	/* the first server option of the command line is the one named */
	for (int a = 1; !c->serve && a < argc; a++) {
		for (size_t i = 0; i < sizeof(gen_serve_opts) / sizeof(gen_serve_opts[0]); i++) {
			size_t n = strlen(gen_serve_opts[i]);

			if (!strncmp(argv[a], gen_serve_opts[i], n) &&
			    (!argv[a][n] || argv[a][n] == '=')) {
				pr_warn("gen: %s needs --serve-rerequest ADDR:PORT\n",
					gen_serve_opts[i]);
				return -1;
			}
		}
	}
	if (c->serve && !c->iface) {
		pr_warn("gen: --serve-rerequest needs --iface: requests come over the network, a "
			"pcap file has no one to answer\n");
		return -1;
	}
	if (c->line_mode && c->tx == FG_GEN_TX_XDP) {
		pr_warn("gen: --tx xdp sends copies of one template frame: no --lines 2, --loss, "
			"--loss-both or --serve-rerequest (use --tx af_xdp or afpacket)\n");
		return -1;
	}
	return 0;
}

int gen_parse(int argc, char **argv, struct gen_cfg *c)
{
	cli_given_t given;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cli_parse(&cli_cmd_gen, argc - 1, argv + 1, c, NULL, &given);
	if (ret == 1) {
		/* the other form, so that one --help shows all of gen */
		putchar('\n');
		cli_help(stdout, &cli_cmd_gen_file);
	}
	if (ret)
		return ret;
	/* the table took these values: they parse */
	c->seed = strtoull(c->seed_arg, NULL, 0);
	fg_gen_parse_duration(c->burst_len_arg, &c->burst_len_ns);
	fg_gen_parse_duration(c->burst_every_arg, &c->burst_every_ns);
	if (c->loss_arg)
		gen_parse_loss(c->loss_arg, c->loss);
	c->loss_both_set = cli_was_given(&cli_cmd_gen, given, "--loss-both");
	c->line_mode = c->lines > 1 || c->loss_arg || c->loss_both_set || c->serve;
	if (gen_check_line(c, given, argc, argv))
		return -1;
	if (c->duration > 0 && !c->count && c->pcap)
		c->count = (uint64_t)llround(c->duration * c->rate);
	if (!c->count && !(c->duration > 0) && c->pcap)
		c->count = GEN_PCAP_DEFAULT_COUNT;
	return 0;
}
