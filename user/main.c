// SPDX-License-Identifier: MIT
/* feedgate: the command line. Dispatches to one do_<cmd> per subcommand. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "commands.h"
#include "fg_log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct cli_cmd *const *tables; /* the option tables of its forms, NULL-ended */
};

static const struct cli_cmd *const attach_tables[] = { &cli_cmd_attach, NULL };
static const struct cli_cmd *const detach_tables[] = { &cli_cmd_detach, NULL };
static const struct cli_cmd *const rule_tables[] = { &cli_cmd_rule_add, &cli_cmd_rule_del,
						     &cli_cmd_rule_list, NULL };
static const struct cli_cmd *const stats_tables[] = { &cli_cmd_stats, NULL };
static const struct cli_cmd *const run_tables[] = { &cli_cmd_run, NULL };
static const struct cli_cmd *const gen_tables[] = { &cli_cmd_gen, &cli_cmd_gen_file, NULL };
static const struct cli_cmd *const replay_tables[] = { &cli_cmd_replay, NULL };

static const struct command commands[] = {
	{ "attach", do_attach, attach_tables }, { "detach", do_detach, detach_tables },
	{ "rule", do_rule, rule_tables },	{ "stats", do_stats, stats_tables },
	{ "run", do_run, run_tables },		{ "gen", do_gen, gen_tables },
	{ "replay", do_replay, replay_tables },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: feedgate [-v] [--version] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		for (const struct cli_cmd *const *t = commands[i].tables; *t; t++) {
			fputs("  ", f);
			cli_usage(f, *t, 96, 15);
			fputc('\n', f);
		}
	}
	fprintf(f, "\n'feedgate COMMAND --help' lists the options of a command.\n");
}

/* The options a form must have, as in its usage: " \fB--x\fR \fIARG\fR". */
static void man_required(FILE *f, const struct cli_cmd *cmd)
{
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		if (!(o->flags & CLI_REQUIRED))
			continue;
		fputc(' ', f);
		cli_man_opt(f, o);
	}
}

/* The same for a section heading, where fonts are the heading's. */
static void man_required_plain(FILE *f, const struct cli_cmd *cmd)
{
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		char arg[160];

		if (!(o->flags & CLI_REQUIRED))
			continue;
		cli_arg_text(o, arg, sizeof(arg));
		fputc(' ', f);
		cli_man_text(f, o->name);
		if (arg[0]) {
			fputc(' ', f);
			cli_man_text(f, arg);
		}
	}
}

/*
 * The manual page, troff, from the same tables as the parsers: the build
 * writes it with `feedgate --man > feedgate.8` (not listed in --help).
 */
static void man_page(FILE *f)
{
	fprintf(f, ".\\\" Written by feedgate --man from its option tables; do not edit.\n");
	fprintf(f, ".TH FEEDGATE 8 \"\" \"feedgate %s\" \"System Administration\"\n", FG_VERSION);
	fprintf(f,
		".SH NAME\nfeedgate \\- XDP and AF_XDP market-data packet filter and consumer\n");
	fprintf(f, ".SH SYNOPSIS\n.nf\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		for (const struct cli_cmd *const *t = commands[i].tables; *t; t++) {
			fputs("\\fBfeedgate ", f);
			cli_man_text(f, (*t)->name);
			fputs("\\fR", f);
			if ((*t)->pos) {
				fputs(" \\fI", f);
				cli_man_text(f, (*t)->pos);
				fputs("\\fR", f);
			}
			man_required(f, *t);
			if ((*t)->opts && (*t)->opts[0].name)
				fputs(" [\\fIOPTIONS\\fR]", f);
			fputc('\n', f);
		}
	}
	fprintf(f, ".fi\n.SH DESCRIPTION\n"
		   "feedgate attaches an XDP program that keeps the multicast feeds named by its "
		   "rules and passes or drops the rest, receives the feeds in user space "
		   "(AF_XDP, AF_PACKET, io_uring or sockets), sequences MoldUDP64, decodes ITCH "
		   "5.0 and keeps order books; it replays captures through the same pipeline and "
		   "generates test traffic.\n");
	fprintf(f, ".SH GLOBAL OPTIONS\n.TP\n\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR\n"
		   "more messages (\\fB\\-vv\\fR: more still)\n"
		   ".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nthe version and libbpf's\n"
		   ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nthe commands; "
		   "\\fBfeedgate\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR: the options of one\n");
	fprintf(f, ".SH COMMANDS\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		for (const struct cli_cmd *const *t = commands[i].tables; *t; t++) {
			fputs(".SS ", f);
			cli_man_text(f, (*t)->name);
			if ((*t)->pos) {
				fputc(' ', f);
				cli_man_text(f, (*t)->pos);
			}
			man_required_plain(f, *t);
			fputc('\n', f);
			if ((*t)->summary) {
				cli_man_text(f, (*t)->summary);
				fputs(".\n", f);
			}
			cli_man_options(f, *t);
			cli_man_notes(f, *t);
		}
	}
	fprintf(f,
		".SH EXIT STATUS\n0: success; 1: failure (said in one line on standard "
		"error); %d: a command line the command cannot take.\n",
		EXIT_USAGE);
	fprintf(f,
		".SH FILES\n.TP\n/sys/fs/bpf/feedgate/\\fIIFACE\\fR/\nthe filter's pinned maps\n");
}

/*
 * Whatever a command printed on standard output must have reached it:
 * a full disk, /dev/full or a closed pipe turn a success into a failure,
 * said once. (A reader that closed the pipe after taking what it wanted,
 * as head does, is a normal end: no line, but the status still says it.)
 */
static int out_checked(int status)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);

	if (!bad)
		return status;
	if (errno == EPIPE)
		pr_warn("standard output: closed by its reader before the end\n");
	else
		pr_warn("standard output: write failed: %s\n", strerror(errno ? errno : EIO));
	return status ? status : 1;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			fg_log_verbosity++;
		} else if (!strcmp(argv[i], "-vv")) {
			fg_log_verbosity += 2;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("feedgate %s (libbpf %s)\n", FG_VERSION, libbpf_version_string());
			return out_checked(0);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return out_checked(0);
		} else if (!strcmp(argv[i], "--man")) {
			man_page(stdout);
			return out_checked(0);
		} else {
			pr_warn("unknown option '%s'; see 'feedgate --help'\n", argv[i]);
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	fg_log_setup_libbpf();
	/* A closed standard output is a write error said in one line, not a
	 * silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t c = 0; c < N_COMMANDS; c++)
		if (!strcmp(argv[i], commands[c].name))
			return out_checked(commands[c].fn(argc - i, argv + i));
	pr_warn("unknown command '%s'; see 'feedgate --help'\n", argv[i]);
	return EXIT_USAGE;
}
