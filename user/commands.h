/* SPDX-License-Identifier: MIT */
/*
 * One function per subcommand (do_<cmd>), each in its own cmd_*.c file.
 * argv[0] is the subcommand name; the return value is the exit status.
 */
#ifndef FG_COMMANDS_H
#define FG_COMMANDS_H

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_rule(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_run(int argc, char **argv);
int do_gen(int argc, char **argv);
int do_replay(int argc, char **argv);

/* The usage text of the commands with many options, kept beside their
 * option parsers so that the top-level help cannot fall behind them. */
extern const char cmd_run_usage[];
extern const char cmd_gen_usage[];

/* Exit status of a command line the command cannot take (usage error). */
#define EXIT_USAGE 2

/*
 * --symbols as the commands take it: a comma-separated list of 1-8
 * printable characters each, upper case as ITCH 5.0 writes them. 0, or -1
 * after one line naming cmd ("replay: --symbols 'meta': ... (META?)").
 */
int cli_symbols_check(const char *cmd, const char *v);

#endif /* FG_COMMANDS_H */
