// SPDX-License-Identifier: MIT
/*
 * print_hook: an embedding program takes libfeedgate's messages
 * (fg_set_print(), <feedgate/log.h>). tests/integration/test_library.sh
 * builds it against the installed library and checks what reaches stdout
 * and stderr. The message comes from fg_filter_new() refusing a bad
 * FG_FILTER_IMPL, a warning any program can provoke without a capture.
 *
 * stdout, one line per step:
 *   captured LEVEL <message>      the program's own printer got it
 *   silenced                      after fg_set_print(NULL): nothing anywhere
 *   restored                      the default printer is back: stderr has it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <feedgate.h>

static char last[512];
static int calls;

static int capture(enum fg_print_level level, const char *fmt, va_list ap)
{
	calls++;
	vsnprintf(last, sizeof(last), fmt, ap);
	printf("captured %d %s", (int)level, last);
	return 0;
}

/* A filter with the override set: the library warns and picks the best one. */
static int provoke(void)
{
	struct fg_filter *f;
	int rc = fg_filter_new(&f);

	if (rc)
		return rc;
	fg_filter_free(f);
	return 0;
}

int main(void)
{
	fg_print_fn_t def;

	setenv("FG_FILTER_IMPL", "no-such-impl", 1);

	def = fg_set_print(capture);
	if (!def || provoke() || calls != 1)
		return 1;

	if (fg_set_print(NULL) != capture || provoke() || calls != 1)
		return 1;
	printf("silenced\n");

	if (fg_set_print(def) != NULL || provoke() || calls != 1)
		return 1;
	printf("restored\n");
	return 0;
}
