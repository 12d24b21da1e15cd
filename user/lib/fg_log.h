/* SPDX-License-Identifier: MIT */
/*
 * Messages for people, all through the print function of feedgate/log.h:
 * pr_warn for errors (one line; the default printer prefixes "feedgate: "),
 * pr_info for progress, pr_debug for -v. libbpf's own chatter can be routed
 * through it too and is then only shown with -v.
 */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "feedgate/log.h"

/*
 * What the default print function shows: levels above this are dropped
 * (default FG_PRINT_INFO; `feedgate -v` raises it). A print function the
 * caller installed sees every level and decides for itself.
 */
extern int fg_log_verbosity;

void fg_log(enum fg_print_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Internal modules' error text for their caller: format into err (len
 * bytes, always terminated); nothing when err is NULL or len 0. Not for
 * the public API, which reports through fg_log() (feedgate/log.h).
 */
void fg_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * The input of a call that a failure is blamed on, so that a front end can
 * name it in its own terms (a command-line flag, a configuration key) and
 * add its own advice. The library's messages never spell an input the way
 * one front end does.
 */
enum fg_input {
	FG_INPUT_NONE = 0,
	FG_INPUT_GROUP, /* a rule's GROUP:PORT */
	FG_INPUT_SRC, /* a rule's source prefix */
	FG_INPUT_ACTION, /* a rule's action */
	FG_INPUT_FEED, /* a rule's feed name */
	FG_INPUT_XDP_MODE, /* attach: native or skb */
	FG_INPUT_STAMP, /* attach: the receive stamp mode */
	FG_INPUT_ZEROCOPY, /* AF_XDP: zero-copy on, auto or off */
	FG_INPUT_FEEDS, /* receive: the feeds (groups) to receive */
};

/* "group", "src", "action", "feed", "mode", "stamp", "zero-copy", "feeds"; "" for none. */
const char *fg_input_name(enum fg_input in);

#define FG_BLAME_LEN 256

/*
 * A failure blamed on one input. Calls that take a struct fg_blame leave
 * in it, instead of printing, the failures their header lists as blamed on
 * an input (input set, msg one line without a newline); every other
 * failure they print as usual and leave input FG_INPUT_NONE. With a NULL
 * struct fg_blame they print everything.
 */
struct fg_blame {
	enum fg_input input;
	char msg[FG_BLAME_LEN];
};

/* Clear b (may be NULL) before a call that may blame an input. */
void fg_blame_clear(struct fg_blame *b);
/* Blame input in: into b, or as one warning line when b is NULL. */
void fg_blame_set(struct fg_blame *b, enum fg_input in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Route libbpf's messages through the print function at FG_PRINT_DEBUG
 * (its warnings from -v, the rest from -vv). For the feedgate command: a
 * library must leave libbpf's printer to the program that embeds it.
 */
void fg_log_setup_libbpf(void);

#define pr_warn(...) fg_log(FG_PRINT_WARN, __VA_ARGS__)
#define pr_info(...) fg_log(FG_PRINT_INFO, __VA_ARGS__)
#define pr_debug(...) fg_log(FG_PRINT_DEBUG, __VA_ARGS__)

#endif /* FG_LOG_H */
