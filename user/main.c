// SPDX-License-Identifier: MIT
/* feedgate: the command line. Dispatches to one do_<cmd> per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "fg_log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "attach", do_attach, "attach IFACE [--mode native|skb] [--policy drop|pass]" },
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
	fprintf(f, "usage: feedgate [-v] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			fg_log_verbosity++;
		} else if (!strcmp(argv[i], "-vv")) {
			fg_log_verbosity += 2;
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
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	pr_warn("unknown command '%s'; see 'feedgate --help'\n", argv[i]);
	return 2;
}
