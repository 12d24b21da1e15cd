// SPDX-License-Identifier: MIT
/*
 * The checked pcap writer (user/lib/fg_pcapw.c): what it writes reads back
 * with feedgate's own reader, record for record; a write that fails part
 * way (the file size limit standing in for a full disk) leaves a file of
 * whole records only, and the counts say how many are in it and how many
 * were lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feedgate/capfile.h"
#include "fg_cunit.h"
#include "fg_pcapw.h"

static char path[64];

static void fill(uint8_t *b, uint32_t len, uint32_t k)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(k * 31 + i);
}

/* Records in the file, each checked against fill(); -1 on a mismatch. */
static long read_back(const char *p, uint16_t want_link, uint32_t len, int *truncated)
{
	struct fg_capfile *c;
	struct fg_cap_record r;
	uint8_t b[2048];
	long n = 0;
	int rc;

	if (fg_capfile_open(p, &c))
		return -1;
	while ((rc = fg_capfile_next(c, &r)) == 1) {
		fill(b, len, (uint32_t)n);
		if (r.linktype != want_link || r.caplen != len || memcmp(r.data, b, len) ||
		    r.ts_ns != 1700000000123456789ull + (uint64_t)n * 1000) {
			n = -1;
			break;
		}
		n++;
	}
	*truncated = fg_capfile_truncated(c);
	fg_capfile_close(c);
	return rc < 0 ? -1 : n;
}

static void test_pcapw_reads_back_record_for_record(void)
{
	struct fg_pcapw *w;
	struct fg_pcapw_result res;
	uint8_t b[2048];
	char err[256];
	int trunc = 0;

	snprintf(path, sizeof(path), "/tmp/fg-pcapw-%d.pcap", (int)getpid());
	CU_ASSERT_EQUAL_FATAL(fg_pcapw_open(path, FG_PCAPW_LINK_RAW, 65535, &w, err, sizeof(err)),
			      0);
	/* more than one buffer's worth (256 KiB) */
	for (uint32_t k = 0; k < 500; k++) {
		fill(b, 1000, k);
		CU_ASSERT_EQUAL(fg_pcapw_write(w, 1700000000123456789ull + (uint64_t)k * 1000, b,
					       1000, 1000),
				0);
	}
	CU_ASSERT_EQUAL(fg_pcapw_close(w), 0);
	fg_pcapw_result(w, &res);
	CU_ASSERT_EQUAL(res.written, 500);
	CU_ASSERT_EQUAL(res.lost, 0);
	CU_ASSERT_EQUAL(res.err, 0);
	CU_ASSERT_EQUAL(res.bytes, 24 + 500 * (16 + 1000));
	fg_pcapw_free(w);
	CU_ASSERT_EQUAL(read_back(path, FG_LINKTYPE_RAW, 1000, &trunc), 500);
	CU_ASSERT_EQUAL(trunc, 0);
	unlink(path);
}

/* The file size limit makes write() fail with EFBIG part way through a
 * buffer: the cut record is taken back off, the rest counted lost. */
static void test_pcapw_failed_write_keeps_whole_records_only(void)
{
	struct rlimit old, lim = { 0 };
	struct fg_pcapw *w;
	struct fg_pcapw_result res;
	struct stat stt;
	uint8_t b[2048];
	char err[256];
	int trunc = 1, ret = 0;
	uint64_t tried = 0;
	long n;

	snprintf(path, sizeof(path), "/tmp/fg-pcapw-%d.pcap", (int)getpid());
	CU_ASSERT_EQUAL_FATAL(
		fg_pcapw_open(path, FG_PCAPW_LINK_ETHERNET, 65535, &w, err, sizeof(err)), 0);
	signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_cur = 100000; /* not a whole number of 1016-byte records past the header */
	lim.rlim_max = old.rlim_max;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (uint32_t k = 0; k < 400; k++) {
		fill(b, 1000, k);
		ret = fg_pcapw_write(w, 1700000000123456789ull + (uint64_t)k * 1000, b, 1000, 1000);
		tried++;
		if (ret)
			break;
	}
	if (!ret)
		ret = fg_pcapw_close(w);
	else
		fg_pcapw_close(w);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CU_ASSERT_EQUAL(ret, -EFBIG);
	fg_pcapw_result(w, &res);
	CU_ASSERT_EQUAL(res.err, EFBIG);
	/* (100000 - 24) / 1016 = 98 whole records fit */
	CU_ASSERT_EQUAL(res.written, 98);
	CU_ASSERT(res.lost > 0);
	CU_ASSERT_EQUAL(res.bytes, 24 + 98 * 1016);
	/* writes after the failure are refused and counted */
	CU_ASSERT_EQUAL(fg_pcapw_write(w, 1, b, 10, 10), -EFBIG);
	fg_pcapw_result(w, &res);
	CU_ASSERT_EQUAL(res.written + res.lost, tried + 1); /* every record accounted for */
	fg_pcapw_free(w);
	CU_ASSERT_EQUAL_FATAL(stat(path, &stt), 0);
	CU_ASSERT_EQUAL(stt.st_size, 24 + 98 * 1016);
	n = read_back(path, FG_LINKTYPE_ETHERNET, 1000, &trunc);
	CU_ASSERT_EQUAL(n, 98);
	CU_ASSERT_EQUAL(trunc, 0);
	unlink(path);
}

static void test_pcapw_open_failures_leave_nothing(void)
{
	struct fg_pcapw *w = (struct fg_pcapw *)1;
	char err[256] = "";

	CU_ASSERT_EQUAL(fg_pcapw_open("/nonexistent-dir/x.pcap", FG_PCAPW_LINK_RAW, 65535, &w, err,
				      sizeof(err)),
			-ENOENT);
	CU_ASSERT_PTR_NULL(w);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/x.pcap"));
	if (access("/dev/full", W_OK) == 0) {
		CU_ASSERT_EQUAL(
			fg_pcapw_open("/dev/full", FG_PCAPW_LINK_RAW, 65535, &w, err, sizeof(err)),
			-ENOSPC);
		CU_ASSERT_PTR_NULL(w);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "No space left"));
	}
}

static const struct fg_test tests[] = {
	FG_TEST(test_pcapw_reads_back_record_for_record),
	FG_TEST(test_pcapw_failed_write_keeps_whole_records_only),
	FG_TEST(test_pcapw_open_failures_leave_nothing),
};

FG_TEST_MAIN("pcapw", tests, NULL, NULL)
