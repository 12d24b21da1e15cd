// SPDX-License-Identifier: MIT
/*
 * The library's one way out for messages: a replaceable print function
 * (feedgate/log.h), by default stderr with a "feedgate: " prefix on warnings.
 */
#include <stdio.h>
#include <bpf/libbpf.h>

#include "fg_log.h"

int fg_log_verbosity = FG_PRINT_INFO;

static int fg_print_default(enum fg_print_level level, const char *fmt, va_list ap)
{
	int n;

	if ((int)level > fg_log_verbosity)
		return 0;
	/* prefix and message as one line, whatever other threads print */
	flockfile(stderr);
	if (level == FG_PRINT_WARN)
		fputs("feedgate: ", stderr);
	n = vfprintf(stderr, fmt, ap);
	funlockfile(stderr);
	return n;
}

/* Read on every message, possibly from receive threads: atomic, so a
 * fg_set_print() racing with them hands over cleanly. */
static fg_print_fn_t fg_print_fn = fg_print_default;

fg_print_fn_t fg_set_print(fg_print_fn_t fn)
{
	return __atomic_exchange_n(&fg_print_fn, fn, __ATOMIC_ACQ_REL);
}

static void fg_vlog(enum fg_print_level lvl, const char *fmt, va_list ap)
{
	fg_print_fn_t fn = __atomic_load_n(&fg_print_fn, __ATOMIC_ACQUIRE);

	if (fn)
		fn(lvl, fmt, ap);
}

void fg_log(enum fg_print_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_vlog(lvl, fmt, ap);
	va_end(ap);
}

void fg_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

const char *fg_input_name(enum fg_input in)
{
	switch (in) {
	case FG_INPUT_NONE:
		break;
	case FG_INPUT_GROUP:
		return "group";
	case FG_INPUT_SRC:
		return "src";
	case FG_INPUT_ACTION:
		return "action";
	case FG_INPUT_FEED:
		return "feed";
	case FG_INPUT_XDP_MODE:
		return "mode";
	case FG_INPUT_STAMP:
		return "stamp";
	case FG_INPUT_ZEROCOPY:
		return "zero-copy";
	case FG_INPUT_FEEDS:
		return "feeds";
	}
	return "";
}

void fg_blame_clear(struct fg_blame *b)
{
	if (!b)
		return;
	b->input = FG_INPUT_NONE;
	b->msg[0] = '\0';
}

void fg_blame_set(struct fg_blame *b, enum fg_input in, const char *fmt, ...)
{
	char line[FG_BLAME_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b ? b->msg : line, b ? sizeof(b->msg) : sizeof(line), fmt, ap);
	va_end(ap);
	if (b)
		b->input = in;
	else
		pr_warn("%s\n", line);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle ourselves (probing, fallbacks):
	 * keep it quiet unless asked. */
	int want = level == LIBBPF_WARN ? FG_PRINT_DEBUG : FG_PRINT_DEBUG + 1;

	if (want > fg_log_verbosity)
		return 0;
	fg_vlog(FG_PRINT_DEBUG, fmt, ap);
	return 0;
}

void fg_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
