/* SPDX-License-Identifier: MIT */
/*
 * Where libfeedgate's messages go. The library never writes to a stream of
 * its own choosing: every line it has for people (an error it could not
 * express as a return value alone, progress, debugging) goes through one
 * print function, which the embedding program may replace, as with libbpf's
 * libbpf_set_print() and libxdp's libxdp_set_print().
 *
 * Error convention of the whole API: a call that can fail returns 0 (or a
 * count, a length: never negative) on success and -errno on failure. Where
 * the errno alone does not say what was wrong (which field of a
 * configuration, which symbol), the call also prints one FG_PRINT_WARN line
 * that names what it could not do, why, and the errno, and never assumes a
 * command line ("Couldn't <do what>: <which value, what it wants>:
 * <strerror>"). Parsers and readers whose every errno is documented with
 * the function print nothing: the caller words the message.
 *
 * Messages come without a prefix and end with a newline. The default print
 * function writes warnings and progress to standard error (warnings
 * prefixed "feedgate: ") and drops debug lines.
 */
#ifndef FEEDGATE_LOG_H
#define FEEDGATE_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fg_print_level {
	FG_PRINT_WARN = 0, /* something failed or was refused */
	FG_PRINT_INFO, /* progress */
	FG_PRINT_DEBUG, /* detail for whoever debugs a run */
};

/* Called for every message, from whatever thread raised it; the return value is ignored. */
typedef int (*fg_print_fn_t)(enum fg_print_level level, const char *fmt, va_list ap);

/*
 * Install fn as the print function and return the one it replaces (the
 * first call returns the default, so a caller can put it back). NULL
 * silences the library. Meant for program start-up: a message raised on
 * another thread while it runs goes to either the old or the new function.
 */
fg_print_fn_t fg_set_print(fg_print_fn_t fn);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_LOG_H */
