/* SPDX-License-Identifier: MIT */
/*
 * A main() for one CUnit test file: list the cases once, get a suite, a
 * verbose run, and a last line the runner (tests/run.sh) reads:
 *   RESULT <suite> passed=N failed=M skipped=K
 * A test that cannot run here (no root, no BPF) calls FG_SKIP("why").
 *
 *   static const struct fg_test tests[] = { FG_TEST(test_x), ... };
 *   FG_TEST_MAIN("rule", tests, setup_fn_or_NULL, teardown_fn_or_NULL)
 */
#ifndef FG_CUNIT_H
#define FG_CUNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#ifndef FG_SRCDIR
#define FG_SRCDIR "."
#endif
/* Absolute path of a file in the source tree, e.g. FG_SRC("tests/data/x"). */
#define FG_SRC(rel) FG_SRCDIR "/" rel
/* The real NASDAQ captures, copied from ../shared/data/itch-real (SOURCE.md there). */
#define FG_ITCH_REAL FG_SRCDIR "/tests/data/itch-real"

struct fg_test {
	const char *name;
	void (*fn)(void);
};

#define FG_TEST(f)    \
	{             \
#f, f \
	}

static unsigned int fg_skipped;

/* Mark the running case as skipped (counted, printed) and return from it. */
#define FG_SKIP(why)                                 \
	do {                                         \
		fg_skipped++;                        \
		printf("\n    SKIPPED: %s ", (why)); \
		return;                              \
	} while (0)

static inline int fg_test_main(const char *suite_name, const struct fg_test *tests, size_t n,
			       int (*setup)(void), int (*teardown)(void), int argc, char **argv)
{
	CU_pSuite suite;
	unsigned int run, failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite(suite_name, setup, teardown);
	if (!suite)
		return 2;
	for (size_t i = 0; i < n; i++) {
		/* Optional filter: run only cases whose name contains argv[1]. */
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	if (CU_get_number_of_suites_failed())
		failed = run ? run : 1; /* setup failed: nothing counts as passed */
	/* a suite whose set-up failed ran nothing: nothing passed (never a wrap-around) */
	printf("\nRESULT %s passed=%u failed=%u skipped=%u\n", suite_name,
	       run > failed + fg_skipped ? run - failed - fg_skipped : 0, failed, fg_skipped);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#define FG_TEST_MAIN(name, tests, setup, teardown)                                        \
	int main(int argc, char **argv)                                                   \
	{                                                                                 \
		return fg_test_main(name, tests, sizeof(tests) / sizeof(tests[0]), setup, \
				    teardown, argc, argv);                                \
	}

#ifdef FG_TEST_WARNINGS
/* A print hook (fg_set_print) that counts the library's warnings and keeps
 * the last one, for tests of what a refusal says. */
#include <stdarg.h>
#include "feedgate/log.h"

static char fg_warned[256];
static int fg_nwarned;

static int fg_take_warning(enum fg_print_level level, const char *fmt, va_list ap)
{
	if (level == FG_PRINT_WARN) {
		fg_nwarned++;
		vsnprintf(fg_warned, sizeof(fg_warned), fmt, ap);
	}
	return 0;
}
#endif

#endif /* FG_CUNIT_H */
