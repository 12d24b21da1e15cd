// SPDX-License-Identifier: MIT
/*
 * Two order-book implementations side by side on one day: the current one
 * (user/lib/fg_book.c, fed in batches through fg_books_apply_batch()) and
 * an earlier one (fed message by message), built from a past revision with
 * its symbols renamed old_* (bench/book.mk). At every checkpoint, every
 * book of every stock locate must be the same in both: each level of each
 * side, best first (price, shares, orders), the BBO, and the counters.
 *
 *   book_diff FILE [--every N] [--capacity N]
 * FILE is a NASDAQ BinaryFILE (bench/mkday). Exit status 0 when they agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feedgate/book.h"
#include "feedgate/itch.h"

/* The earlier implementation, under other names (bench/book_old_names.h). */
struct old_fg_books;
struct old_fg_books *old_fg_books_new(uint32_t order_capacity, const struct fg_book_callbacks *cb);
void old_fg_books_free(struct old_fg_books *b);
void old_fg_books_apply(struct old_fg_books *b, const struct fg_itch_msg *m);
unsigned int old_fg_books_top(const struct old_fg_books *b, uint16_t locate, char side,
			      struct fg_level *out, unsigned int depth);
int old_fg_books_bbo(const struct old_fg_books *b, uint16_t locate, struct fg_bbo *out);
void old_fg_books_get_stats(const struct old_fg_books *b, struct fg_books_stats *out);

#define RUN 1024
#define DEPTH 65536

static struct fg_level lo[DEPTH], ln[DEPTH];

/* Differences between the two at this point; prints the first few. */
static unsigned long compare(const struct old_fg_books *o, const struct fg_books *n, uint64_t at,
			     uint64_t *levels)
{
	struct fg_books_stats so, sn;
	unsigned long bad = 0;

	*levels = 0;
	for (uint32_t loc = 1; loc < 65536; loc++) {
		struct fg_bbo bo, bn;
		int ro = old_fg_books_bbo(o, (uint16_t)loc, &bo),
		    rn = fg_books_bbo(n, (uint16_t)loc, &bn);

		if (ro != rn || memcmp(&bo, &bn, sizeof(bo))) {
			if (bad++ < 5)
				fprintf(stderr, "book_diff: message %llu, locate %u: BBO differs\n",
					(unsigned long long)at, loc);
		}
		for (int s = 0; s < 2; s++) {
			char side = s ? 'S' : 'B';
			unsigned int a = old_fg_books_top(o, (uint16_t)loc, side, lo, DEPTH);
			unsigned int c = fg_books_top(n, (uint16_t)loc, side, ln, DEPTH);

			*levels += a;
			if (a != c || memcmp(lo, ln, a * sizeof(*lo))) {
				if (bad++ < 5)
					fprintf(stderr,
						"book_diff: message %llu, locate %u side %c: %u "
						"levels "
						"vs %u, or a level differs\n",
						(unsigned long long)at, loc, side, a, c);
			}
		}
	}
	old_fg_books_get_stats(o, &so);
	fg_books_get_stats(n, &sn);
	/* Everything but what describes the tables themselves (capacity, probes). */
	so.order_capacity = sn.order_capacity;
	so.max_probe = sn.max_probe;
	if (memcmp(&so, &sn, sizeof(so))) {
		bad++;
		fprintf(stderr, "book_diff: message %llu: counters differ\n",
			(unsigned long long)at);
	}
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t every = 1000000, cap = 1u << 22, n = 0, next, levels = 0;
	static struct fg_itch_msg run[RUN];
	struct old_fg_books *o;
	struct fg_books *b = NULL;
	unsigned long bad = 0;
	unsigned int checks = 0;
	struct stat st;
	const uint8_t *p;
	size_t off = 0;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: book_diff FILE [--every N] [--capacity N]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--every"))
			every = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--capacity"))
			cap = strtoull(argv[i + 1], NULL, 0);
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "feedgate: book_diff: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	o = old_fg_books_new((uint32_t)cap, NULL);
	if (p == MAP_FAILED || !o || fg_books_new((uint32_t)cap, NULL, &b)) {
		fprintf(stderr, "feedgate: book_diff: out of memory\n");
		return 1;
	}
	next = every;
	while (off + 2 <= (size_t)st.st_size) {
		unsigned int k = 0;

		while (k < RUN && off + 2 <= (size_t)st.st_size && n + k < next) {
			size_t len = (size_t)p[off] << 8 | p[off + 1];

			if (off + 2 + len > (size_t)st.st_size)
				break;
			if (fg_itch_decode(p + off + 2, len, &run[k]))
				run[k].type = 0;
			old_fg_books_apply(o, &run[k]);
			k++;
			off += 2 + len;
		}
		if (!k)
			break;
		fg_books_apply_batch(b, run, k);
		n += k;
		if (n == next || off + 2 > (size_t)st.st_size) {
			bad += compare(o, b, n, &levels);
			checks++;
			next += every;
		}
	}
	printf("book_diff: %llu messages, %u checkpoints, %llu levels at the last: %s\n",
	       (unsigned long long)n, checks, (unsigned long long)levels,
	       bad ? "DIFFERENT" : "the same books");
	old_fg_books_free(o);
	fg_books_free(b);
	return bad ? 1 : 0;
}
