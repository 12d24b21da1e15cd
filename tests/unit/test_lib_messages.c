// SPDX-License-Identifier: MIT
/*
 * libfeedgate is embedded in programs that have no `feedgate` command line,
 * so what it says must not tell people to use one of its flags: a refusal
 * is blamed on the library's own input (enum fg_input) and the command adds
 * its advice. Two checks: every string literal in user/lib (adjacent
 * literals joined, as the compiler joins them) is free of "--" followed by
 * a letter, and the refusals the command rewords come out of the library
 * in its own terms, through the print hook or a struct fg_blame.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FG_TEST_WARNINGS
#include "fg_backend.h"
#include "fg_cunit.h"
#include "fg_log.h"
#include "fg_rule.h"

/* A flag as the command spells it: two dashes, then a lower-case letter. */
static const char *find_flag(const char *s)
{
	for (const char *p = strstr(s, "--"); p; p = strstr(p + 1, "--"))
		if (islower((unsigned char)p[2]))
			return p;
	return NULL;
}

/*
 * The string literals of a C file, adjacent ones joined (only blanks and
 * comments between them), each handed to check() with the line it starts
 * on. Comments and character constants are skipped; escapes are kept as
 * written, which is enough to see a "--x".
 */
static void scan_literals(const char *path, const char *src,
			  void (*check)(const char *path, int line, const char *lit))
{
	size_t cap = 4096, len = 0;
	char *lit = malloc(cap);
	int line = 1, lit_line = 0, open = 0;
	const char *p = src;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lit);
	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			for (const char *q = p; q < (e ? e : p + strlen(p)); q++)
				line += *q == '\n';
			p = e ? e + 2 : p + strlen(p);
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (*p == '\'') {
			if (open) {
				lit[len] = '\0';
				check(path, lit_line, lit);
				open = 0;
			}
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
			continue;
		}
		if (*p == '"') {
			if (!open) {
				len = 0;
				lit_line = line;
				open = 1;
			}
			for (p++; *p && *p != '"'; p++) {
				if (len + 3 >= cap) {
					char *n = realloc(lit, cap *= 2);

					CU_ASSERT_PTR_NOT_NULL_FATAL(n);
					lit = n;
				}
				if (*p == '\\' && p[1])
					lit[len++] = *p++;
				lit[len++] = *p;
			}
			if (*p)
				p++;
			continue;
		}
		if (*p == '\n')
			line++;
		if (!isspace((unsigned char)*p) && open) {
			lit[len] = '\0';
			check(path, lit_line, lit);
			open = 0;
		}
		p++;
	}
	if (open) {
		lit[len] = '\0';
		check(path, lit_line, lit);
	}
	free(lit);
}

static unsigned int nliterals, nflagged;

static void no_flag(const char *path, int line, const char *lit)
{
	const char *f = find_flag(lit);

	nliterals++;
	if (f) {
		nflagged++;
		printf("\n    %s:%d names a command-line flag: \"%s\"", path, line, lit);
	}
	CU_ASSERT_PTR_NULL(f);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* The scanner itself: joined literals, comments and char constants. */
static unsigned int nseen;
static char seen[4][64];

static void keep(const char *path, int line, const char *lit)
{
	(void)path;
	(void)line;
	if (nseen < 4)
		snprintf(seen[nseen], sizeof(seen[0]), "%s", lit);
	nseen++;
}

static void test_scanner_joins_literals_and_skips_comments(void)
{
	const char *src = "/* \"--in-comment\" */ x = '\"'; // \"--too\"\n"
			  "f(\"a --\" /* gap */ \"mode\", \"b\\\"c\");\n"
			  "g(\"one\" PRIu64 \"two\");\n";

	nseen = 0;
	scan_literals("inline", src, keep);
	CU_ASSERT_EQUAL_FATAL(nseen, 4);
	CU_ASSERT_STRING_EQUAL(seen[0], "a --mode");
	CU_ASSERT_STRING_EQUAL(seen[1], "b\\\"c");
	CU_ASSERT_STRING_EQUAL(seen[2], "one");
	CU_ASSERT_STRING_EQUAL(seen[3], "two");
	CU_ASSERT_PTR_NOT_NULL(find_flag(seen[0]));
	CU_ASSERT_PTR_NULL(find_flag("a -- b, x--"));
}

static void test_no_library_string_names_a_flag(void)
{
	DIR *d = opendir(FG_SRC("user/lib"));
	unsigned int nfiles = 0;
	struct dirent *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	nliterals = nflagged = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[512];
		char *src;

		if (n < 3 || e->d_name[n - 2] != '.' ||
		    (e->d_name[n - 1] != 'c' && e->d_name[n - 1] != 'h'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FG_SRC("user/lib"), e->d_name);
		src = read_all(path);
		CU_ASSERT_PTR_NOT_NULL(src);
		if (!src)
			continue;
		scan_literals(e->d_name, src, no_flag);
		free(src);
		nfiles++;
	}
	closedir(d);
	/* the scan saw the library, not an empty or wrong directory */
	CU_ASSERT(nfiles > 30);
	CU_ASSERT(nliterals > 500);
	CU_ASSERT_EQUAL(nflagged, 0);
}

/* No feeds: the library says so in its terms, blamed on the feeds. */
static void test_backend_no_feeds_blames_the_feeds(void)
{
	struct fg_backend_opts o = { .ifname = "fgtest0" };
	fg_print_fn_t old = fg_set_print(fg_take_warning);
	struct fg_backend *b = NULL;
	struct fg_blame blame;

	fg_nwarned = 0;
	fg_warned[0] = '\0';
	CU_ASSERT_EQUAL(fg_backend_open(&fg_afpacket_ops, &o, &b, &blame), -EINVAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(fg_nwarned, 0);
	CU_ASSERT_EQUAL(blame.input, FG_INPUT_FEEDS);
	CU_ASSERT_STRING_EQUAL(blame.msg, "af_packet: fgtest0: no feeds to receive");

	/* Without a struct fg_blame the same line is printed. */
	CU_ASSERT_EQUAL(fg_backend_open(&fg_afpacket_ops, &o, &b, NULL), -EINVAL);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_STRING_EQUAL(fg_warned, "af_packet: fgtest0: no feeds to receive\n");
	CU_ASSERT_PTR_NULL(find_flag(fg_warned));
	fg_set_print(old);
}

/* A failure not blamed on an input is printed and leaves blame clear. */
static void test_backend_other_failure_is_printed(void)
{
	struct fg_backend_feed f = { .family = 99 };
	struct fg_backend_opts o = { .ifname = "fgtest0", .feeds = &f, .nfeeds = 1 };
	fg_print_fn_t old = fg_set_print(fg_take_warning);
	struct fg_backend *b = NULL;
	struct fg_blame blame = { .input = FG_INPUT_SRC, .msg = "stale" };

	fg_nwarned = 0;
	CU_ASSERT_EQUAL(fg_backend_open(&fg_afpacket_ops, &o, &b, &blame), -EINVAL);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_EQUAL(blame.input, FG_INPUT_NONE);
	CU_ASSERT_STRING_EQUAL(blame.msg, "");
	fg_set_print(old);
}

/* Every part of a rule comes back by its input, never by a flag. */
static void test_rule_parse_messages_name_no_flag(void)
{
	static const char *const bad[][4] = {
		{ "239.1.1.1:99999", NULL, NULL, NULL },
		{ "239.1.1.1:5000", "10.0.0.1/8", NULL, NULL },
		{ "239.1.1.1:5000", "fd00::/64", NULL, NULL },
		{ "239.1.1.1:5000", NULL, "forward", NULL },
		{ "239.1.1.1:5000", NULL, NULL, "much-too-long-name" },
	};
	static const enum fg_input want[] = { FG_INPUT_GROUP, FG_INPUT_SRC, FG_INPUT_SRC,
					      FG_INPUT_ACTION, FG_INPUT_FEED };
	char err[FG_ERR_LEN];
	struct fg_rule_key k;
	struct fg_rule r;
	enum fg_input in;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_EQUAL(fg_rule_parse(bad[i][0], bad[i][1], bad[i][2], bad[i][3], &k, &r,
					      &in, err, sizeof(err)),
				-EINVAL);
		CU_ASSERT_EQUAL(in, want[i]);
		CU_ASSERT_PTR_NULL(find_flag(err));
		CU_ASSERT_STRING_NOT_EQUAL(fg_input_name(in), "");
	}
}

static void test_blame_set_without_blame_prints(void)
{
	fg_print_fn_t old = fg_set_print(fg_take_warning);
	struct fg_blame b;

	fg_nwarned = 0;
	fg_blame_set(NULL, FG_INPUT_STAMP, "x%d", 1);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_STRING_EQUAL(fg_warned, "x1\n");
	fg_blame_set(&b, FG_INPUT_STAMP, "y%d", 2);
	CU_ASSERT_EQUAL(fg_nwarned, 1);
	CU_ASSERT_EQUAL(b.input, FG_INPUT_STAMP);
	CU_ASSERT_STRING_EQUAL(b.msg, "y2");
	fg_blame_clear(&b);
	CU_ASSERT_EQUAL(b.input, FG_INPUT_NONE);
	fg_blame_clear(NULL);
	fg_set_print(old);
}

static const struct fg_test tests[] = {
	FG_TEST(test_scanner_joins_literals_and_skips_comments),
	FG_TEST(test_no_library_string_names_a_flag),
	FG_TEST(test_backend_no_feeds_blames_the_feeds),
	FG_TEST(test_backend_other_failure_is_printed),
	FG_TEST(test_rule_parse_messages_name_no_flag),
	FG_TEST(test_blame_set_without_blame_prints),
};

FG_TEST_MAIN("lib_messages", tests, NULL, NULL)
