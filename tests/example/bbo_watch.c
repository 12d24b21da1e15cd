// SPDX-License-Identifier: MIT
/*
 * bbo_watch: replay a capture through libfeedgate's pipeline and print every
 * best-bid/offer change and trade of one symbol (by stock locate). The README shows this file;
 * tests/integration/test_library.sh builds it against the installed library.
 *
 *   cc bbo_watch.c $(pkg-config --cflags --libs feedgate) -o bbo_watch
 *   ./bbo_watch capture.pcap META
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <feedgate.h>

static void on_bbo(void *ctx, uint16_t locate, uint32_t bid, uint64_t bid_shares, uint32_t ask,
		   uint64_t ask_shares)
{
	(void)ctx;
	printf("%u bbo %llu@%u.%04u / %llu@%u.%04u\n", locate, (unsigned long long)bid_shares,
	       bid / 10000, bid % 10000, (unsigned long long)ask_shares, ask / 10000, ask % 10000);
}

static void on_trade(void *ctx, uint16_t locate, uint32_t price, uint64_t shares, uint64_t match)
{
	(void)ctx;
	printf("%u trade %llu@%u.%04u match %llu\n", locate, (unsigned long long)shares,
	       price / 10000, price % 10000, (unsigned long long)match);
}

int main(int argc, char **argv)
{
	/* Only SYMBOL's messages get past the SIMD filter, so every book
	 * event below is one of its own. */
	struct fg_book_callbacks cb = { .on_bbo = on_bbo, .on_trade = on_trade };
	struct fg_pipeline_config cfg = { .books = 1, .book_cb = &cb };
	struct fg_pipeline *p;
	struct fg_cap_record rec;
	struct fg_capfile *cap;
	struct fg_frame f;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: bbo_watch FILE.pcap SYMBOL\n");
		return 2;
	}
	/* Calls that fail return -errno; the reader's errnos say it all, so
	 * the message is ours to word. */
	rc = fg_capfile_open(argv[1], &cap);
	if (rc) {
		fprintf(stderr, "bbo_watch: Couldn't open %s: %s\n", argv[1],
			rc == -EPROTONOSUPPORT ? "not a pcap, pcapng or BinaryFILE capture"
					       : strerror(-rc));
		return 1;
	}
	cfg.symbols = argv[2];
	/* A configuration it refuses is explained through the library's print
	 * function (stderr unless fg_set_print() says otherwise). */
	if (fg_pipeline_new(&cfg, &p)) {
		fg_capfile_close(cap);
		return 1;
	}
	while ((rc = fg_capfile_next(cap, &rec)) == 1)
		if (fg_capfile_frame(&rec, &f) == 0)
			fg_pipeline_frames(p, &f, 1);
	fg_pipeline_finish(p);
	printf("messages %llu\n", (unsigned long long)fg_pipeline_stats(p)->messages);
	fg_pipeline_free(p);
	fg_capfile_close(cap);
	return rc < 0;
}
