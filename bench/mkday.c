// SPDX-License-Identifier: MIT
/*
 * Writes a generated ITCH 5.0 day (fg_itchgen) to a NASDAQ BinaryFILE, the
 * input of the whole-process book measurements (`feedgate replay DAY --book
 * SYMBOL`). Without --hold, `feedgate gen --itch-file` writes the same day;
 * --hold, which makes the large-book day, is only here.
 *
 *   mkday --out FILE [--messages N] [--seed S] [--symbols N] [--max-live N] [--hold N]
 *
 * Without --hold the file is fg_itchgen_write_binaryfile()'s output as is.
 *
 * --hold N makes a day whose book holds N more live orders than the
 * generator's own: the generator's mix adds only about 0.4 orders a hundred
 * messages more than it removes, so its live set stays near 100,000 on any
 * day that fits on this disk, whatever --max-live allows. Here a Delete is
 * held back (not written) while fewer than N are held; once N are held, a
 * Delete is rewritten, with probability 1/2, into the Delete of a held
 * order picked at random, and its own order is held instead. The message
 * count and mix are the generator's; every held order is deleted at most
 * once and never named in between, so the day stays consistent; and the
 * rewritten Deletes land anywhere in a book of millions of orders, which is
 * what a large book costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feedgate/itch.h"
#include "feedgate/itchgen.h"

struct held {
	uint64_t ref;
	uint16_t locate;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The day with held deletes (see the top of the file). */
static int write_held(struct fg_itchgen *g, FILE *f, uint64_t n, uint32_t hold)
{
	struct held *h = malloc((size_t)hold * sizeof(*h));
	uint32_t nheld = 0;
	uint8_t rec[2 + 64];
	int err = 0;

	if (!h)
		return -ENOMEM;
	for (uint64_t i = 0; i < n;) {
		uint8_t *p = rec + 2;
		size_t len = fg_itchgen_next(g, p, sizeof(rec) - 2);

		if (p[0] == 'D' && len == FG_ITCH_LEN_D) {
			struct held cur = { get_be(p + 11, 8), (uint16_t)get_be(p + 1, 2) };

			if (nheld < hold) {
				h[nheld++] = cur;
				continue; /* held back: not written, not counted */
			}
			if (next_rand() & 1) {
				uint32_t k = (uint32_t)(next_rand() % hold);

				put_be(p + 1, h[k].locate, 2);
				put_be(p + 11, h[k].ref, 8);
				h[k] = cur;
			}
		}
		put_be(rec, len, 2);
		if (fwrite(rec, 1, 2 + len, f) != 2 + len) {
			err = errno ? -errno : -EIO;
			break;
		}
		i++;
	}
	free(h);
	return err;
}

static int num(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = v ? strtoull(v, &end, 0) : 0;
	if (!v || errno || *end || end == v || *out > max) {
		fprintf(stderr, "feedgate: mkday: %s '%s': want a number up to %llu\n", opt,
			v ? v : "", (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fg_itchgen_config cfg = { .seed = 5 };
	uint64_t n = 20000000, v, hold = 0;
	const char *out = NULL;
	struct fg_itchgen *g;
	int fd, rc;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--out") && val) {
			out = val;
			continue;
		}
		if (!strcmp(a, "--messages")) {
			if (num(a, val, UINT64_MAX, &n))
				return 2;
		} else if (!strcmp(a, "--seed")) {
			if (num(a, val, UINT64_MAX, &cfg.seed))
				return 2;
		} else if (!strcmp(a, "--symbols")) {
			if (num(a, val, FG_ITCHGEN_MAX_SYMBOLS, &v))
				return 2;
			cfg.symbols = (uint32_t)v;
		} else if (!strcmp(a, "--max-live")) {
			if (num(a, val, UINT32_MAX, &v))
				return 2;
			cfg.max_live_orders = (uint32_t)v;
		} else if (!strcmp(a, "--hold")) {
			if (num(a, val, 1u << 30, &hold))
				return 2;
		} else {
			fprintf(stderr, "usage: mkday --out FILE [--messages N] [--seed S] "
					"[--symbols N] [--max-live N] [--hold N]\n");
			return 2;
		}
	}
	if (!out) {
		fprintf(stderr, "feedgate: mkday: --out FILE is required\n");
		return 2;
	}
	rc = fg_itchgen_new(&cfg, &g);
	if (rc) {
		fprintf(stderr, "feedgate: mkday: Couldn't create the generator: %s\n",
			strerror(-rc));
		return 1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "feedgate: mkday: %s: %s\n", out, strerror(errno));
		fg_itchgen_free(g);
		return 1;
	}
	if (hold) {
		/* stdio buffers the records; fclose() says whether the last of them reached the file */
		FILE *f = fdopen(fd, "w");

		if (!f) {
			rc = -errno;
			close(fd);
		} else {
			setvbuf(f, NULL, _IOFBF, 1 << 20);
			rc = write_held(g, f, n, (uint32_t)hold);
			if (fclose(f) && !rc)
				rc = -errno;
		}
	} else {
		rc = fg_itchgen_write_binaryfile(g, fd, n);
		if (close(fd) && !rc)
			rc = -errno;
	}
	if (rc)
		fprintf(stderr, "feedgate: mkday: %s: %s\n", out, strerror(-rc));
	else
		fprintf(stderr, "mkday: %s: %llu messages, seed %llu, %u live in the generator%s\n",
			out, (unsigned long long)n, (unsigned long long)cfg.seed,
			fg_itchgen_live_orders(g), hold ? " (plus the held ones)" : "");
	fg_itchgen_free(g);
	return rc ? 1 : 0;
}
