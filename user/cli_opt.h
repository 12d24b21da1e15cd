/* SPDX-License-Identifier: MIT */
/*
 * The options of a subcommand as one table: name, value type, where the
 * value goes in the command's config struct, its default, the words for
 * the usage line, --help and the man page, and (for run) the capture
 * backends it belongs to. cli_parse() fills the config from argv and says
 * what is wrong in one line on stderr; cli_usage(), cli_help() and
 * cli_man() write the text, so the three can never disagree with the
 * parser.
 */
#ifndef FG_CLI_OPT_H
#define FG_CLI_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of a command line the command cannot take (usage error). */
#define EXIT_USAGE 2

enum cli_type {
	CLI_FLAG, /* int, set to 1; no value */
	CLI_STRING, /* const char *, the argument as given */
	CLI_ENUM, /* int, the value of one of vals */
	CLI_UINT, /* unsigned (4 or 8 bytes): lo..hi, times scale */
	CLI_POW2, /* CLI_UINT that must also be a power of two */
	CLI_SIZE, /* a count, or bytes with B, KiB, MiB, GiB (bytes / scale) */
	CLI_SECONDS, /* double: 0 < x <= hi */
	CLI_LIST, /* repeatable: const char *[max] at off, unsigned count at count_off */
	CLI_DOUBLE, /* double (or, with CLI_AS_UINT, unsigned of size): dlo <= x <= dhi */
};

/* Option flags. */
enum {
	CLI_ONCE = 1 << 0, /* refused when given twice (default: the last one counts) */
	CLI_PAIR = 1 << 1, /* the value is "X=Y", both sides non-empty (arg names them) */
	CLI_HIDDEN_DEFAULT = 1 << 2, /* def is applied but not shown */
	CLI_POW2ONLY = 1 << 3, /* CLI_SIZE: the count must be a power of two */
	CLI_REQUIRED = 1 << 4, /* must be given; the usage shows it without brackets */
	CLI_WHOLE = 1 << 5, /* CLI_DOUBLE: refused unless a whole number */
	CLI_AS_UINT = 1 << 6, /* CLI_DOUBLE: stored as an unsigned of size bytes, fraction cut */
};

struct cli_enum {
	const char *name;
	int value;
};

struct cli_cmd;
struct cli_opt;

/* Extra check of a value: 0, or -1 after one line on stderr. */
typedef int (*cli_check_fn)(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v);

struct cli_opt {
	const char *name; /* "--batch" */
	enum cli_type type;
	size_t off; /* where the value goes in the config */
	size_t size; /* its size (CLI_UINT, CLI_POW2, CLI_SIZE: 4 or 8) */
	const char *arg; /* the value's name in the usage: "N", "FILE|-" (enums: derived) */
	const char *help; /* one sentence for --help and the man page */
	const char *def; /* default, parsed as if given (NULL: the config's zero) */
	unsigned long lo, hi; /* CLI_UINT, CLI_POW2, CLI_SIZE, CLI_SECONDS (hi only) */
	double dlo, dhi; /* CLI_DOUBLE */
	unsigned long scale; /* CLI_UINT: stored value = x * scale; CLI_SIZE: bytes a unit */
	const struct cli_enum *vals; /* CLI_ENUM, ends with { NULL, 0 } */
	size_t count_off; /* CLI_LIST */
	unsigned int max; /* CLI_LIST: how many at most */
	const char *what; /* CLI_LIST: the word after "at most N --opt" ("options") */
	const char *unit; /* shown after the name in range errors: "(microseconds)" */
	const char *want; /* replaces the generated "want ..." of a refused value */
	const char *backends; /* space-separated backends that take it; NULL: all */
	cli_check_fn check; /* CLI_STRING, CLI_LIST, CLI_DOUBLE: after the type's own checks */
	unsigned int flags; /* CLI_ONCE, CLI_PAIR, ... */
};

/* Field helpers for the tables: where and how big a config member is. */
#define CLI_AT(cfg, field) .off = offsetof(cfg, field), .size = sizeof(((cfg *)0)->field)

struct cli_cmd {
	const char *name; /* "run", "rule add" */
	const char *pos; /* the positional arguments, as written in the usage: "IFACE" */
	const char *const *pos_names; /* each, for "missing IFACE" */
	int npos; /* how many, all required */
	const struct cli_opt *opts; /* ends with { NULL } */
	const char *summary; /* one line for the man page */
	const char *backend_opt; /* the option that picks the backend ("--backend"), or NULL */
	const char *missing; /* replaces "CMD: missing POS (hint)" and "CMD: missing --x" */
	const char *extra; /* replaces "unexpected argument": printf with (first, second) */
	/* replaces "unknown option" and "unexpected argument": printf with the word
	 * (a form that takes only a few options can name them) */
	const char *unknown;
	/* paragraphs (split by a blank line) after the options in --help and the
	 * man page: what applies to several options at once */
	const char *notes;
};

/* Which options the line gave: bit i for cmd->opts[i] (at most 64 options). */
typedef uint64_t cli_given_t;

/*
 * Fill cfg from argv[0..argc) (the words after the command name): defaults
 * first, then options and positionals (into pos[0..npos)). Returns 0, 1
 * when --help was printed on stdout, or -1 after one line on stderr:
 *   CMD: unknown option '--x' (HINT)      CMD: --x needs a value (HINT)
 *   CMD: --x takes no value               CMD: --x given twice
 *   CMD: --x 'v': want ... / use a, b or c
 *   CMD: --x does not apply to --backend B (it is for A, C)
 *   CMD: missing POS (HINT)               CMD: unexpected argument 'v' (HINT)
 *   CMD: missing --x ARG (HINT)           (a CLI_REQUIRED option not given)
 * HINT is "usage: feedgate USAGE" when the usage fits one line, else
 * "see 'feedgate CMD --help'". given may be NULL.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, void *cfg, const char **pos,
	      cli_given_t *given);

/* Was the option named name given? (It must be in the table.) */
int cli_was_given(const struct cli_cmd *cmd, cli_given_t given, const char *name);

/* The option called name (up to any '='; len bytes), or NULL. */
const struct cli_opt *cli_find(const struct cli_cmd *cmd, const char *name, size_t len);

/* Does option o apply to backend be? */
int cli_applies(const struct cli_opt *o, const char *be);

/* "CMD POS [--opt ARG] ...", wrapped at width columns, continued lines
 * indented by indent spaces; no final newline. */
void cli_usage(FILE *f, const struct cli_cmd *cmd, int width, int indent);

/* What --help prints: "usage: feedgate ..." and one line per option. */
void cli_help(FILE *f, const struct cli_cmd *cmd);

/* The value part of an option in the usage: "N", "auto|on|off", "" for a flag. */
void cli_arg_text(const struct cli_opt *o, char *buf, size_t len);

/* The command's OPTIONS as troff (.TP paragraphs) for a man page. */
void cli_man_options(FILE *f, const struct cli_cmd *cmd);
/* One option as the man page shows it: "\\fB--name\\fR \\fIARG\\fR" (no newline). */
void cli_man_opt(FILE *f, const struct cli_opt *o);

/* The command's notes as troff paragraphs (.PP); nothing without notes. */
void cli_man_notes(FILE *f, const struct cli_cmd *cmd);

/* Text with troff's special characters escaped (\ - and a leading . or '). */
void cli_man_text(FILE *f, const char *s);

#endif /* FG_CLI_OPT_H */
