// SPDX-License-Identifier: MIT
/*
 * Capture-file readers: pcap (both byte orders, us and ns), pcapng (both
 * byte orders, SHB/IDB/EPB/SPB/PB, unknown blocks, timestamp resolution),
 * NASDAQ BinaryFILE, recognition by content, truncated and corrupt files.
 * Fixtures are built here and written to temporary files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fg_cunit.h"
#include "feedgate/capfile.h"

struct buf {
	uint8_t b[4096];
	size_t len;
	int big;
};

static void w8(struct buf *b, uint8_t v)
{
	b->b[b->len++] = v;
}

static void w16(struct buf *b, uint16_t v)
{
	if (b->big) {
		w8(b, (uint8_t)(v >> 8));
		w8(b, (uint8_t)v);
	} else {
		w8(b, (uint8_t)v);
		w8(b, (uint8_t)(v >> 8));
	}
}

static void w32(struct buf *b, uint32_t v)
{
	if (b->big) {
		w16(b, (uint16_t)(v >> 16));
		w16(b, (uint16_t)v);
	} else {
		w16(b, (uint16_t)v);
		w16(b, (uint16_t)(v >> 16));
	}
}

static void wbytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

/* Write to a temporary file; the caller unlinks it. */
static char *tmpfile_with(const uint8_t *p, size_t n)
{
	char *path = strdup("/tmp/fg-capfile-XXXXXX");
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, p, n) == (ssize_t)n);
	close(fd);
	return path;
}

/* Open a buffer through a real file (mmap path). */
static int open_file(const uint8_t *p, size_t n, struct fg_capfile **c)
{
	char *path = tmpfile_with(p, n);
	int rc = fg_capfile_open(path, c);

	unlink(path);
	free(path);
	return rc;
}

/* --- pcap ---------------------------------------------------------------------------------- */

static void pcap_header(struct buf *b, int big, int ns, uint32_t linktype)
{
	b->len = 0;
	b->big = big;
	w32(b, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	w16(b, 2);
	w16(b, 4);
	w32(b, 0);
	w32(b, 0);
	w32(b, 65535);
	w32(b, linktype);
}

static void pcap_record(struct buf *b, uint32_t sec, uint32_t frac, const char *data)
{
	uint32_t n = (uint32_t)strlen(data);

	w32(b, sec);
	w32(b, frac);
	w32(b, n);
	w32(b, n + 4);
	wbytes(b, data, n);
}

static void check_pcap(int big, int ns)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;

	pcap_header(&b, big, ns, 1);
	pcap_record(&b, 1692700000, 123, "first");
	pcap_record(&b, 1692700001, 999, "second!");
	CU_ASSERT_EQUAL_FATAL(open_file(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_format(c), FG_CAPFILE_PCAP);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 5);
	CU_ASSERT_EQUAL(r.origlen, 9);
	CU_ASSERT_EQUAL(memcmp(r.data, "first", 5), 0);
	CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_ETHERNET);
	CU_ASSERT_EQUAL(r.ts_ns, 1692700000ull * 1000000000ull + 123ull * (ns ? 1 : 1000));
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 7);
	CU_ASSERT_EQUAL(memcmp(r.data, "second!", 7), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 0);
	CU_ASSERT_EQUAL(fg_capfile_truncated(c), 0);
	CU_ASSERT_EQUAL(fg_capfile_offset(c), fg_capfile_size(c));
	fg_capfile_close(c);
}

static void test_pcap_both_byte_orders_and_resolutions(void)
{
	check_pcap(0, 0);
	check_pcap(0, 1);
	check_pcap(1, 0);
	check_pcap(1, 1);
}

static void test_pcap_truncated_at_every_byte(void)
{
	struct buf b;
	struct fg_cap_record r;

	pcap_header(&b, 0, 0, 1);
	pcap_record(&b, 1, 2, "abcdefgh");
	pcap_record(&b, 3, 4, "ijklmnop");
	for (size_t len = 1; len < b.len; len++) {
		uint8_t *copy = malloc(len);
		struct fg_capfile *c;
		int n = 0, rc;

		memcpy(copy, b.b, len);
		rc = fg_capfile_open_mem(copy, len, &c);
		if (len < 4) {
			/* Too short to carry the magic: then it is nothing we know. */
			CU_ASSERT(rc != 0);
			free(copy);
			continue;
		}
		if (len < 24) {
			CU_ASSERT_EQUAL(rc, -EBADMSG);
			free(copy);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		while ((rc = fg_capfile_next(c, &r)) == 1)
			n++;
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(n, len < 24 + 24 ? 0 : 1);
		CU_ASSERT_EQUAL(fg_capfile_truncated(c), len != 24 && len != 48);
		fg_capfile_close(c);
		free(copy);
	}
}

static void test_pcap_corrupt_record_length(void)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;

	pcap_header(&b, 0, 0, 1);
	w32(&b, 1);
	w32(&b, 1);
	w32(&b, 0x7fffffff); /* no real packet is this long */
	w32(&b, 0x7fffffff);
	wbytes(&b, "xxxx", 4);
	CU_ASSERT_EQUAL_FATAL(open_file(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), -EBADMSG);
	fg_capfile_close(c);
}

static void test_frame_from_link_types(void)
{
	struct fg_cap_record r = { 0 };
	struct fg_frame f;
	uint8_t sll[20 + 4] = { 0 };

	r.data = sll;
	r.caplen = sizeof(sll);
	r.ts_ns = 42;
	r.linktype = FG_LINKTYPE_ETHERNET;
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), 0);
	CU_ASSERT_EQUAL(f.l3, 0);
	CU_ASSERT_EQUAL(f.len, sizeof(sll));
	CU_ASSERT_EQUAL(f.take_ns, 42);
	CU_ASSERT_EQUAL(f.rule_id, FG_RULE_NONE);
	r.linktype = FG_LINKTYPE_RAW;
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), 0);
	CU_ASSERT_EQUAL(f.l3, 1);
	/* Linux cooked v1: protocol at 14. */
	r.linktype = FG_LINKTYPE_LINUX_SLL;
	sll[14] = 0x08;
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), 0);
	CU_ASSERT_EQUAL(f.l3, 1);
	CU_ASSERT_EQUAL(f.data, sll + 16);
	CU_ASSERT_EQUAL(f.len, sizeof(sll) - 16);
	sll[14] = 0x08;
	sll[15] = 0x06; /* ARP */
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), -EPROTONOSUPPORT);
	/* Linux cooked v2: protocol first, 20-byte header. */
	r.linktype = FG_LINKTYPE_LINUX_SLL2;
	sll[0] = 0x86;
	sll[1] = 0xdd;
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), 0);
	CU_ASSERT_EQUAL(f.data, sll + 20);
	r.caplen = 19;
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), -EPROTONOSUPPORT);
	r.linktype = 105; /* 802.11 */
	CU_ASSERT_EQUAL(fg_capfile_frame(&r, &f), -EPROTONOSUPPORT);
}

/* --- pcapng -------------------------------------------------------------------------------- */

static void ng_shb(struct buf *b)
{
	w32(b, 0x0A0D0D0A);
	w32(b, 28);
	w32(b, 0x1A2B3C4D);
	w16(b, 1);
	w16(b, 0);
	w32(b, 0xffffffff); /* section length -1: unknown */
	w32(b, 0xffffffff);
	w32(b, 28);
}

/* IDB with an optional if_tsresol option. */
static void ng_idb(struct buf *b, uint16_t linktype, int tsresol)
{
	uint32_t len = 20 + (tsresol >= 0 ? 12 : 0);

	w32(b, 1);
	w32(b, len);
	w16(b, linktype);
	w16(b, 0);
	w32(b, 0);
	if (tsresol >= 0) {
		w16(b, 9);
		w16(b, 1);
		w8(b, (uint8_t)tsresol);
		w8(b, 0);
		w8(b, 0);
		w8(b, 0);
		w16(b, 0); /* opt_endofopt */
		w16(b, 0);
	}
	w32(b, len);
}

static void ng_epb(struct buf *b, uint32_t ifid, uint64_t ts, const char *data)
{
	uint32_t n = (uint32_t)strlen(data), pad = (4 - n % 4) % 4, len = 32 + n + pad;

	w32(b, 6);
	w32(b, len);
	w32(b, ifid);
	w32(b, (uint32_t)(ts >> 32));
	w32(b, (uint32_t)ts);
	w32(b, n);
	w32(b, n);
	wbytes(b, data, n);
	for (uint32_t i = 0; i < pad; i++)
		w8(b, 0);
	w32(b, len);
}

static void ng_spb(struct buf *b, const char *data)
{
	uint32_t n = (uint32_t)strlen(data), pad = (4 - n % 4) % 4, len = 16 + n + pad;

	w32(b, 3);
	w32(b, len);
	w32(b, n);
	wbytes(b, data, n);
	for (uint32_t i = 0; i < pad; i++)
		w8(b, 0);
	w32(b, len);
}

static void ng_unknown(struct buf *b)
{
	w32(b, 0x00000BAD);
	w32(b, 20);
	w32(b, 1);
	w32(b, 2);
	w32(b, 20);
}

static void build_pcapng(struct buf *b, int big)
{
	b->len = 0;
	b->big = big;
	ng_shb(b);
	ng_idb(b, 1, -1); /* if 0: Ethernet, microseconds */
	ng_unknown(b);
	ng_idb(b, 101, 9); /* if 1: raw IP, nanoseconds */
	ng_epb(b, 0, 1692700000123456ull, "eth-frame");
	ng_epb(b, 1, 1692700000123456789ull, "ip");
	ng_spb(b, "simple");
}

static void check_pcapng(int big)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;

	build_pcapng(&b, big);
	CU_ASSERT_EQUAL_FATAL(open_file(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_format(c), FG_CAPFILE_PCAPNG);
	CU_ASSERT_EQUAL_FATAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 9);
	CU_ASSERT_EQUAL(memcmp(r.data, "eth-frame", 9), 0);
	CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_ETHERNET);
	CU_ASSERT_EQUAL(r.ts_ns, 1692700000123456000ull);
	CU_ASSERT_EQUAL_FATAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 2);
	CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_RAW);
	CU_ASSERT_EQUAL(r.ts_ns, 1692700000123456789ull);
	CU_ASSERT_EQUAL_FATAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 6);
	CU_ASSERT_EQUAL(memcmp(r.data, "simple", 6), 0);
	CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_ETHERNET);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 0);
	CU_ASSERT_EQUAL(fg_capfile_truncated(c), 0);
	fg_capfile_close(c);
}

static void test_pcapng_little_endian(void)
{
	check_pcapng(0);
}

static void test_pcapng_big_endian(void)
{
	check_pcapng(1);
}

/* A second section in the other byte order restarts interface numbering. */
static void test_pcapng_two_sections(void)
{
	struct buf a, b;
	struct fg_capfile *c;
	struct fg_cap_record r;
	int n = 0;

	build_pcapng(&a, 0);
	b.len = 0;
	b.big = 1;
	ng_shb(&b);
	ng_idb(&b, 1, 3); /* milliseconds */
	ng_epb(&b, 0, 5, "second-section");
	memcpy(a.b + a.len, b.b, b.len);
	a.len += b.len;
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(a.b, a.len, &c), 0);
	while (fg_capfile_next(c, &r) == 1)
		n++;
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(r.caplen, 14);
	CU_ASSERT_EQUAL(r.ts_ns, 5000000ull);
	fg_capfile_close(c);
}

static void test_pcapng_power_of_two_resolution(void)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;

	b.len = 0;
	b.big = 0;
	ng_shb(&b);
	ng_idb(&b, 1, 0x80 | 10); /* 1/1024 s */
	ng_epb(&b, 0, 3 * 1024 + 512, "x");
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL_FATAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.ts_ns, 3500000000ull);
	fg_capfile_close(c);
}

static void test_pcapng_truncated_at_every_byte(void)
{
	struct buf b;
	struct fg_cap_record r;

	build_pcapng(&b, 0);
	for (size_t len = 12; len < b.len; len++) {
		uint8_t *copy = malloc(len);
		struct fg_capfile *c;
		int rc;

		memcpy(copy, b.b, len);
		CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(copy, len, &c), 0);
		while ((rc = fg_capfile_next(c, &r)) == 1)
			CU_ASSERT(r.data + r.caplen <= copy + len);
		CU_ASSERT_EQUAL(rc, 0);
		fg_capfile_close(c);
		free(copy);
	}
}

static void test_pcapng_corrupt_blocks(void)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;
	size_t epb;

	/* Trailing length differs from the leading one. */
	build_pcapng(&b, 0);
	b.b[b.len - 1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), -EBADMSG);
	fg_capfile_close(c);

	/* A block length that is not a multiple of 4. */
	build_pcapng(&b, 0);
	b.b[28 + 4] = 21;
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), -EBADMSG);
	fg_capfile_close(c);

	/* An EPB for an interface that was never described. */
	b.len = 0;
	b.big = 0;
	ng_shb(&b);
	epb = b.len;
	ng_epb(&b, 3, 0, "x");
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), -EBADMSG);
	fg_capfile_close(c);

	/* An EPB whose captured length runs past its block. */
	b.len = 0;
	ng_shb(&b);
	ng_idb(&b, 1, -1);
	epb = b.len;
	ng_epb(&b, 0, 0, "abcd");
	b.b[epb + 20] = 9;
	CU_ASSERT_EQUAL_FATAL(fg_capfile_open_mem(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), -EBADMSG);
	fg_capfile_close(c);
}

/* --- BinaryFILE and recognition ------------------------------------------------------------ */

static void bf_msg(struct buf *b, char type, size_t len)
{
	b->big = 1;
	w16(b, (uint16_t)len);
	w8(b, (uint8_t)type);
	for (size_t i = 1; i < len; i++)
		w8(b, (uint8_t)i);
}

static void build_binaryfile(struct buf *b)
{
	b->len = 0;
	bf_msg(b, 'S', 12);
	bf_msg(b, 'R', 39);
	bf_msg(b, 'A', 36);
	bf_msg(b, 'D', 19);
	bf_msg(b, 'S', 12);
}

static void test_binaryfile_records_are_messages(void)
{
	struct buf b;
	struct fg_capfile *c;
	struct fg_cap_record r;
	static const char types[] = "SRADS";
	int n = 0;

	build_binaryfile(&b);
	CU_ASSERT_EQUAL_FATAL(open_file(b.b, b.len, &c), 0);
	CU_ASSERT_EQUAL(fg_capfile_format(c), FG_CAPFILE_BINARYFILE);
	CU_ASSERT_STRING_EQUAL(fg_capfile_format_name(fg_capfile_format(c)), "binaryfile");
	while (fg_capfile_next(c, &r) == 1) {
		CU_ASSERT_EQUAL(r.data[0], (uint8_t)types[n]);
		CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_NONE);
		n++;
	}
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(fg_capfile_truncated(c), 0);
	fg_capfile_close(c);
}

static void test_binaryfile_truncated_at_every_byte(void)
{
	struct buf b;
	struct fg_cap_record r;

	build_binaryfile(&b);
	for (size_t len = 1; len < b.len; len++) {
		uint8_t *copy = malloc(len);
		struct fg_capfile *c;
		int n = 0, rc;

		memcpy(copy, b.b, len);
		rc = fg_capfile_open_mem(copy, len, &c);
		if (len < 14) {
			/* Not even one whole message: not recognisable. */
			CU_ASSERT_EQUAL(rc, -EPROTONOSUPPORT);
			free(copy);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		while (fg_capfile_next(c, &r) == 1) {
			CU_ASSERT(r.data + r.caplen <= copy + len);
			n++;
		}
		CU_ASSERT(n >= 1 && n < 5);
		CU_ASSERT_EQUAL(fg_capfile_truncated(c),
				1 - (len == 14 || len == 55 || len == 93 || len == 114));
		fg_capfile_close(c);
		free(copy);
	}
}

static void test_unrecognised_content(void)
{
	static const char text[] = "hello, this is not a capture\n";
	static const uint8_t wrong_len[] = { 0, 13, 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'O', 0 };
	static const uint8_t unknown_type[] = { 0, 12, 'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'O' };
	struct fg_capfile *c;
	char *path;

	CU_ASSERT_EQUAL(open_file((const uint8_t *)text, sizeof(text) - 1, &c), -EPROTONOSUPPORT);
	CU_ASSERT_EQUAL(open_file(wrong_len, sizeof(wrong_len), &c), -EPROTONOSUPPORT);
	CU_ASSERT_EQUAL(open_file(unknown_type, sizeof(unknown_type), &c), -EPROTONOSUPPORT);
	/* Empty file, directory, missing file. */
	path = tmpfile_with((const uint8_t *)"", 0);
	CU_ASSERT_EQUAL(fg_capfile_open(path, &c), -EINVAL);
	unlink(path);
	CU_ASSERT_EQUAL(fg_capfile_open(path, &c), -ENOENT);
	free(path);
	CU_ASSERT_EQUAL(fg_capfile_open("/tmp", &c), -EINVAL);
}

/* --- the real captures --------------------------------------------------------------------- */

static void test_real_pcap_is_read(void)
{
	struct fg_capfile *c;
	struct fg_cap_record r;
	int rc;

	rc = fg_capfile_open(
		FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap", &c);
	if (rc == -ENOENT)
		FG_SKIP("real captures not found");
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(fg_capfile_format(c), FG_CAPFILE_PCAP);
	/* Record 1: 87 bytes; record 2: a 1518-byte frame (1472-byte UDP payload + 46). */
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 87);
	CU_ASSERT_EQUAL(r.linktype, FG_LINKTYPE_ETHERNET);
	/* 0x64e4b858 s + 0x0074e983 ns, the file being nanosecond pcap (magic 4d3cb2a1) */
	CU_ASSERT_EQUAL(r.ts_ns, 0x64e4b858ull * 1000000000ull + 0x0074e983ull);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 1);
	CU_ASSERT_EQUAL(r.caplen, 1518);
	CU_ASSERT_EQUAL(fg_capfile_next(c, &r), 0);
	CU_ASSERT_EQUAL(fg_capfile_truncated(c), 0);
	fg_capfile_close(c);
}

static const struct fg_test tests[] = {
	FG_TEST(test_pcap_both_byte_orders_and_resolutions),
	FG_TEST(test_pcap_truncated_at_every_byte),
	FG_TEST(test_pcap_corrupt_record_length),
	FG_TEST(test_frame_from_link_types),
	FG_TEST(test_pcapng_little_endian),
	FG_TEST(test_pcapng_big_endian),
	FG_TEST(test_pcapng_two_sections),
	FG_TEST(test_pcapng_power_of_two_resolution),
	FG_TEST(test_pcapng_truncated_at_every_byte),
	FG_TEST(test_pcapng_corrupt_blocks),
	FG_TEST(test_binaryfile_records_are_messages),
	FG_TEST(test_binaryfile_truncated_at_every_byte),
	FG_TEST(test_unrecognised_content),
	FG_TEST(test_real_pcap_is_read),
};

FG_TEST_MAIN("capfile", tests, NULL, NULL)
