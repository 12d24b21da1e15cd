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
 * Route libbpf's messages through the print function at FG_PRINT_DEBUG
 * (its warnings from -v, the rest from -vv). For the feedgate command: a
 * library must leave libbpf's printer to the program that embeds it.
 */
void fg_log_setup_libbpf(void);

#define pr_warn(...) fg_log(FG_PRINT_WARN, __VA_ARGS__)
#define pr_info(...) fg_log(FG_PRINT_INFO, __VA_ARGS__)
#define pr_debug(...) fg_log(FG_PRINT_DEBUG, __VA_ARGS__)

#endif /* FG_LOG_H */
