// SPDX-License-Identifier: MIT
/*
 * Resource exhaustion in the pipeline: a generated NASDAQ BinaryFILE
 * read back through the capture reader (include/feedgate/capfile.h) and the
 * pipeline with books far too small for it. The full order table must be
 * counted (fg_books_stats.overflows), reported in both summaries (the text
 * line and the JSON object that `feedgate replay` / `run` print), and the books
 * must stay consistent: never more live orders than the capacity, no crash,
 * no read out of bounds (this file also runs under `make test-asan`).
 * The CLI has no option for the order capacity, hence a library test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "feedgate/book.h"
#include "feedgate/capfile.h"
#include "feedgate/itchgen.h"
#include "feedgate/pipeline.h"
#include "fg_cunit.h"

#define CAP 500
#define NMSG 200000

/* The BinaryFILE in memory (memfd), written by the generator. */
static uint8_t *make_binaryfile(size_t *len)
{
	struct fg_itchgen_config gc = { .seed = 66, .symbols = 64 };
	struct fg_itchgen *g = NULL;
	int fd = memfd_create("fg-faults", 0);
	uint8_t *buf = NULL;
	off_t end;

	if (fg_itchgen_new(&gc, &g) || fd < 0 || fg_itchgen_write_binaryfile(g, fd, NMSG))
		goto out;
	end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		goto out;
	buf = malloc((size_t)end);
	if (buf && pread(fd, buf, (size_t)end, 0) != end) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)end;
out:
	if (fd >= 0)
		close(fd);
	fg_itchgen_free(g);
	return buf;
}

static void run_file(struct fg_pipeline *p, const uint8_t *buf, size_t len, uint64_t *records)
{
	const uint8_t *msgs[64];
	uint16_t lens[64];
	struct fg_capfile *c = NULL;
	struct fg_cap_record r;
	unsigned int n = 0;
	int rc;

	CU_ASSERT_FATAL(fg_capfile_open_mem(buf, len, &c) == 0);
	CU_ASSERT_EQUAL(fg_capfile_format(c), FG_CAPFILE_BINARYFILE);
	*records = 0;
	while ((rc = fg_capfile_next(c, &r)) == 1) {
		msgs[n] = r.data;
		lens[n] = (uint16_t)r.caplen;
		(*records)++;
		if (++n == 64) {
			fg_pipeline_raw(p, msgs, lens, n);
			n = 0;
		}
	}
	if (n)
		fg_pipeline_raw(p, msgs, lens, n);
	CU_ASSERT_EQUAL(rc, 0);
	fg_pipeline_finish(p);
	fg_capfile_close(c);
}

static void test_full_order_table_is_counted_and_reported(void)
{
	struct fg_pipeline_config pc = { .books = 1, .order_capacity = CAP };
	struct fg_pipeline *p = NULL;
	struct fg_books_stats st;
	uint64_t records;
	size_t len = 0, tlen = 0, jlen = 0;
	uint8_t *buf = make_binaryfile(&len);
	char *text = NULL, *json = NULL, want[96];
	FILE *f;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(fg_pipeline_new(&pc, &p) == 0);
	run_file(p, buf, len, &records);
	CU_ASSERT_EQUAL(records, NMSG);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->messages, NMSG);
	fg_books_get_stats(fg_pipeline_books(p), &st);
	printf("\n    %llu messages, capacity %u: overflows %llu, live %llu, peak %llu, unknown "
	       "refs %llu ",
	       (unsigned long long)records, st.order_capacity, (unsigned long long)st.overflows,
	       (unsigned long long)st.orders_live, (unsigned long long)st.orders_peak,
	       (unsigned long long)st.unknown_refs);
	CU_ASSERT(st.order_capacity >= CAP);
	CU_ASSERT(st.overflows > 0);
	CU_ASSERT(st.orders_live <= st.order_capacity);
	CU_ASSERT(st.orders_peak <= st.order_capacity);
	CU_ASSERT(st.unknown_refs > 0); /* later messages for the dropped adds */

	/* Reported: the text summary says so, the JSON carries the count. */
	f = open_memstream(&text, &tlen);
	CU_ASSERT_FATAL(f != NULL);
	fg_pipeline_summary_print(p, f);
	fclose(f);
	snprintf(want, sizeof(want), "overflows %llu (order table full",
		 (unsigned long long)st.overflows);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	f = open_memstream(&json, &jlen);
	CU_ASSERT_FATAL(f != NULL);
	fg_pipeline_summary_json(p, f);
	fclose(f);
	snprintf(want, sizeof(want), "\"overflows\":%llu", (unsigned long long)st.overflows);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, want));
	CU_ASSERT(jlen > 2 && json[jlen - 2] == '}' && json[jlen - 1] == '\n');

	free(text);
	free(json);
	fg_pipeline_free(p);
	free(buf);
}

/* The same file with books large enough: nothing overflows and the report
 * says 0, so the case above cannot pass by always reporting an overflow. */
static void test_large_enough_table_reports_no_overflow(void)
{
	struct fg_pipeline_config pc = { .books = 1 };
	struct fg_pipeline *p = NULL;
	struct fg_books_stats st;
	uint64_t records;
	size_t len = 0, tlen = 0;
	uint8_t *buf = make_binaryfile(&len);
	char *text = NULL;
	FILE *f;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(fg_pipeline_new(&pc, &p) == 0);
	run_file(p, buf, len, &records);
	fg_books_get_stats(fg_pipeline_books(p), &st);
	CU_ASSERT_EQUAL(st.overflows, 0);
	f = open_memstream(&text, &tlen);
	CU_ASSERT_FATAL(f != NULL);
	fg_pipeline_summary_print(p, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "overflows 0, "));
	CU_ASSERT_PTR_NULL(strstr(text, "order table full"));
	free(text);
	fg_pipeline_free(p);
	free(buf);
}

static const struct fg_test tests[] = {
	FG_TEST(test_full_order_table_is_counted_and_reported),
	FG_TEST(test_large_enough_table_reports_no_overflow),
};

FG_TEST_MAIN("faults", tests, NULL, NULL)
