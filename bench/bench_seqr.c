// SPDX-License-Identifier: MIT
/*
 * What the per-feed sequencer (user/lib/fg_seqr.c) costs per packet, side
 * by side in one run: one line in order (the common case, delivered from
 * the packet), two lines (every packet twice: the second copy a
 * duplicate), two lines with B running eight packets behind A, and two
 * lines with 1% loss on A that B fills (the hold buffer at work). The old
 * first-copy-wins sequencer without a hold buffer (fg_mold_seq) is timed on
 * the same packets for reference. Messages are 4 per packet, 30 bytes each.
 *
 * Usage: bench_seqr [PACKETS] [ROUNDS]   (default 1000000 packets, 7 rounds)
 * Prints a markdown table (ns per packet: median and range over the
 * rounds) on stdout; bench/bench_seqr.sh puts it into bench/RESULTS.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feedgate/mold.h"
#include "feedgate/seqr.h"

#define MPP 4
#define MSG_LEN 30

static uint64_t delivered, gaps;

static void on_msg(void *ctx, uint64_t seq, const uint8_t *msg, uint16_t len, unsigned int line,
		   bool in_packet)
{
	(void)ctx;
	(void)seq;
	(void)msg;
	(void)len;
	(void)line;
	(void)in_packet;
	delivered++;
}

static void on_gap(void *ctx, const struct fg_seqr_gap *g)
{
	(void)ctx;
	(void)g;
	gaps++;
}

static void on_mold_gap(void *ctx, const struct fg_mold_gap *g)
{
	(void)ctx;
	(void)g;
	gaps++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* n parsed packets of MPP messages from sequence number 1. */
static struct fg_mold_packet *make_packets(uint64_t n, uint8_t **mem)
{
	const size_t plen = FG_MOLD_HEADER_LEN + MPP * (2 + MSG_LEN);
	struct fg_mold_packet *pk = calloc(n, sizeof(*pk));
	uint8_t *buf = calloc(n, plen);

	if (!pk || !buf) {
		fprintf(stderr, "bench_seqr: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *p = buf + i * plen,
			*q = p + fg_mold_write_header(p, "BENCH00001", 1 + i * MPP, MPP);
		int bad;

		for (int m = 0; m < MPP; m++) {
			q[0] = 0;
			q[1] = MSG_LEN;
			q[2] = 'A';
			memset(q + 3, (int)(i + (uint64_t)m), MSG_LEN - 1);
			q += 2 + MSG_LEN;
		}
		if (fg_mold_parse(p, plen, &pk[i], &bad)) {
			fprintf(stderr, "bench_seqr: packet %llu does not parse\n",
				(unsigned long long)i);
			exit(1);
		}
	}
	*mem = buf;
	return pk;
}

/* The old sequencer as the pipeline used it: the runs of new messages, then
 * a walk over the blocks handing each new one on. */
static void old_take(struct fg_mold_seq *old, const struct fg_mold_packet *p, uint64_t now,
		     struct fg_mold_run *runs)
{
	unsigned int nr = fg_mold_seq_packet(old, &p->h, now, runs), r = 0, k = 0;
	struct fg_mold_iter it;
	const uint8_t *msg;
	uint16_t len;

	fg_mold_iter_init(&it, p);
	for (; r < nr && fg_mold_iter_next(&it, &msg, &len); k++) {
		if (k < runs[r].first)
			continue;
		on_msg(NULL, p->h.seq + k, msg, len, 0, true);
		if (k + 1 == runs[r].first + runs[r].count)
			r++;
	}
}

enum kase { ONE_LINE, TWO_LINES, B_BEHIND, A_LOSES_1PCT, OLD_ONE_LINE, OLD_TWO_LINES, NCASES };

static const char *const names[NCASES] = {
	"one line, in order",
	"two lines (A then B, each packet twice)",
	"two lines, B 8 packets behind A",
	"two lines, A loses 1% (B fills; hold buffer)",
	"old sequencer (no hold), one line",
	"old sequencer (no hold), two lines",
};

/* One round of a case over n packets: ns per packet of the stream. */
static double run_case(enum kase k, const struct fg_mold_packet *pk, uint64_t n)
{
	struct fg_seqr_config c = { .hold = 1u << 16, .on_message = on_msg, .on_gap = on_gap };
	struct fg_mold_run runs[FG_MOLD_MAX_RUNS];
	struct fg_mold_seq *old = NULL;
	struct fg_seqr *s = NULL;
	uint64_t t0, t1, rnd = 0x9e3779b97f4a7c15ull;

	delivered = gaps = 0;
	if (k >= OLD_ONE_LINE) {
		old = malloc(sizeof(*old));
		fg_mold_seq_init(old, 0, 1000000, on_mold_gap, NULL);
	} else if (fg_seqr_new(&c, &s)) {
		fprintf(stderr, "bench_seqr: fg_seqr_new failed\n");
		exit(1);
	}
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		switch (k) {
		case ONE_LINE:
			fg_seqr_packet(s, 0, &pk[i], i);
			break;
		case TWO_LINES:
			fg_seqr_packet(s, 0, &pk[i], i);
			fg_seqr_packet(s, 1, &pk[i], i);
			break;
		case B_BEHIND:
			fg_seqr_packet(s, 0, &pk[i], i);
			if (i >= 8)
				fg_seqr_packet(s, 1, &pk[i - 8], i);
			break;
		case A_LOSES_1PCT:
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			if (rnd % 100)
				fg_seqr_packet(s, 0, &pk[i], i);
			if (i >= 8)
				fg_seqr_packet(s, 1, &pk[i - 8], i);
			break;
		case OLD_ONE_LINE:
			old_take(old, &pk[i], i, runs);
			break;
		case OLD_TWO_LINES:
			old_take(old, &pk[i], i, runs);
			old_take(old, &pk[i], i, runs);
			break;
		case NCASES:
			break;
		}
	}
	t1 = now_ns();
	if (s) {
		fg_seqr_flush(s, NULL);
		if (delivered < (n - 8) * MPP) {
			fprintf(stderr, "bench_seqr: %s: %llu delivered of %llu\n", names[k],
				(unsigned long long)delivered, (unsigned long long)n * MPP);
			exit(1);
		}
		fg_seqr_free(s);
	}
	free(old);
	return (double)(t1 - t0) / (double)n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	double t[NCASES][32];
	struct fg_mold_packet *pk;
	uint8_t *mem;

	if (!n || rounds < 1 || rounds > 32) {
		fprintf(stderr, "usage: bench_seqr [PACKETS] [ROUNDS<=32]\n");
		return 2;
	}
	pk = make_packets(n, &mem);
	/* rounds interleave the cases: a noisy moment hits all of them alike */
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NCASES; k++)
			t[k][r] = run_case((enum kase)k, pk, n);
	printf("| case | ns per packet (median) | range | ns per message |\n|---|--:|--:|--:|\n");
	for (int k = 0; k < NCASES; k++) {
		qsort(t[k], (size_t)rounds, sizeof(double), cmp_d);
		printf("| %s | %.1f | %.1f-%.1f | %.2f |\n", names[k], t[k][rounds / 2], t[k][0],
		       t[k][rounds - 1], t[k][rounds / 2] / MPP);
	}
	free(pk);
	free(mem);
	return 0;
}
