/* SPDX-License-Identifier: MIT */
/*
 * Messages for people: pr_warn for errors (one line, "feedgate: ..."),
 * pr_info for progress, pr_debug for -v. libbpf's own chatter is routed
 * through here and only shown with -v.
 */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum fg_log_level { FG_LOG_WARN = 0, FG_LOG_INFO = 1, FG_LOG_DEBUG = 2 };

extern int fg_log_verbosity; /* messages above this level are dropped; default INFO */

void fg_log(enum fg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The library's error text for its caller: format into err (len bytes,
 * always terminated); nothing when err is NULL or len 0.
 */
void fg_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Route libbpf's messages through fg_log (warnings at DEBUG unless -vv). */
void fg_log_setup_libbpf(void);

#define pr_warn(...) fg_log(FG_LOG_WARN, __VA_ARGS__)
#define pr_info(...) fg_log(FG_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) fg_log(FG_LOG_DEBUG, __VA_ARGS__)

#endif /* FG_LOG_H */
