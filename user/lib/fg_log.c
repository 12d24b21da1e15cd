// SPDX-License-Identifier: MIT
/* Logging to stderr with a "feedgate: " prefix on warnings. */
#include <stdio.h>
#include <bpf/libbpf.h>

#include "fg_log.h"

int fg_log_verbosity = FG_LOG_INFO;

void fg_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

void fg_log(enum fg_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > fg_log_verbosity)
		return;
	if (lvl == FG_LOG_WARN)
		fputs("feedgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle ourselves (probing, fallbacks):
	 * keep it quiet unless asked. */
	int want = level == LIBBPF_WARN ? FG_LOG_DEBUG : FG_LOG_DEBUG + 1;

	if (want > fg_log_verbosity)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fg_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
