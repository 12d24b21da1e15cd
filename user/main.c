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
	const char *usage;
};

static const struct command commands[] = {
	{ "attach", do_attach,
	  "attach IFACE [--mode native|skb] [--policy drop|pass] [--stamp auto|meta|head|none]" },
	{ "detach", do_detach, "detach IFACE" },
	{ "rule", do_rule,
	  "rule add IFACE GROUP:PORT [--src PREFIX] [--action redirect|pass|drop] [--feed NAME]\n"
	  "  rule del IFACE GROUP:PORT\n"
	  "  rule list IFACE [--json]" },
	{ "stats", do_stats, "stats IFACE [--json] [--watch SECONDS]" },
	{ "run", do_run, cmd_run_usage },
	{ "gen", do_gen, cmd_gen_usage },
	{ "replay", do_replay,
	  "replay FILE [--symbols LIST] [--decode FILE|-] [--book SYMBOL [--depth N]] [--json]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: feedgate [-v] [--version] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
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
			return 0;
		} else {
			pr_warn("unknown option '%s'; see 'feedgate --help'\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	fg_log_setup_libbpf();
	/* A closed standard output is a write error said in one line, not a
	 * silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return out_checked(commands[c].fn(argc - i, argv + i));
	pr_warn("unknown command '%s'; see 'feedgate --help'\n", argv[i]);
	return 2;
}
