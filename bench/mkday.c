// SPDX-License-Identifier: MIT
/*
 * Writes a generated ITCH 5.0 day (fg_itchgen) to a NASDAQ BinaryFILE, the
 * input of the whole-process book measurements (`feedgate replay DAY --book
 * SYMBOL`) until `feedgate gen --itch-file` exists.
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

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The day with held deletes (see the top of the file). */
static int write_held(struct fg_itchgen *g, int fd, uint64_t n, uint32_t hold)
{
	const size_t bufsz = 1 << 20;
	struct held *h = malloc((size_t)hold * sizeof(*h));
	uint8_t *buf = malloc(bufsz);
	uint32_t nheld = 0;
	size_t used = 0;
	int err = 0;

	if (!h || !buf) {
		free(h);
		free(buf);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n && !err;) {
		uint8_t *p = buf + used + 2;
		size_t len;

		if (bufsz - used < 2 + 64) {
			err = write_all(fd, buf, used);
			used = 0;
			continue;
		}
		len = fg_itchgen_next(g, p, 64);
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
		put_be(buf + used, len, 2);
		used += 2 + len;
		i++;
	}
	if (!err && used)
		err = write_all(fd, buf, used);
	free(buf);
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
	rc = hold ? write_held(g, fd, n, (uint32_t)hold) : fg_itchgen_write_binaryfile(g, fd, n);
	if (!rc && close(fd))
		rc = -errno;
	else if (rc)
		close(fd);
	if (rc)
		fprintf(stderr, "feedgate: mkday: %s: %s\n", out, strerror(-rc));
	else
		fprintf(stderr, "mkday: %s: %llu messages, seed %llu, %u live in the generator%s\n",
			out, (unsigned long long)n, (unsigned long long)cfg.seed,
			fg_itchgen_live_orders(g), hold ? " (plus the held ones)" : "");
	fg_itchgen_free(g);
	return rc ? 1 : 0;
}
