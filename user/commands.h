/* SPDX-License-Identifier: MIT */
/*
 * One function per subcommand (do_<cmd>), each in its own cmd_*.c file.
 * argv[0] is the subcommand name; the return value is the exit status.
 */
#ifndef FG_COMMANDS_H
#define FG_COMMANDS_H

#include "cli_opt.h"
#include "fg_log.h"

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_rule(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_run(int argc, char **argv);
int do_gen(int argc, char **argv);
int do_replay(int argc, char **argv);

/* The option tables of the commands (cli_opt.h), beside their parsers;
 * the top-level help and the man page are written from them. */
extern const struct cli_cmd cli_cmd_attach, cli_cmd_detach, cli_cmd_rule_add, cli_cmd_rule_del,
	cli_cmd_rule_list, cli_cmd_stats, cli_cmd_run, cli_cmd_gen, cli_cmd_gen_file,
	cli_cmd_replay;

/* A cli_check_fn for --symbols (cli_symbols_check under the command's name). */
int cli_symbols_opt(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v);

/*
 * --symbols as the commands take it: a comma-separated list of 1-8
 * printable characters each, upper case as ITCH 5.0 writes them. 0, or -1
 * after one line naming cmd ("replay: --symbols 'meta': ... (META?)").
 */
int cli_symbols_check(const char *cmd, const char *v);

/*
 * The library blames an input by its own name (fg_log.h, enum fg_input);
 * here it is named as the command line spells it. cli_input_flag: the
 * option for a rule's part ("--src"), NULL for the positional group.
 * cli_warn_blame: b->msg and the advice that goes with the input, as one
 * warning line ("lo: couldn't attach in native mode: ...; try '--mode
 * skb'"); nothing when b blames no input (the library printed it).
 */
const char *cli_input_flag(enum fg_input in);
void cli_warn_blame(const struct fg_blame *b);

#endif /* FG_COMMANDS_H */
