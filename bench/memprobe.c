// SPDX-License-Identifier: MIT
/*
 * What a cache line beyond the caches costs on this machine, the yardstick
 * of the order book's cost over the day (bench/bench_book.sh prints it next
 * to the book's figures). For each working-set size, two walks over random
 * lines of a buffer of that size (2 MiB-aligned, MADV_HUGEPAGE, every page
 * touched first):
 *   chase   each load's address comes from the previous load (a random
 *           cyclic permutation of the lines): the latency of one miss, as a
 *           book pays it when it follows an order to its level and the
 *           level to its neighbours;
 *   spread  the addresses are known in advance (a precomputed list): as
 *           many misses in flight as the core allows, as a book pays them
 *           for the lines it prefetches.
 * Both print mean ns per load.
 *
 * Usage: memprobe [--cpu N] [--loads N] [SIZE_KIB ...]
 *   (default sizes 256 1024 2048 4096 8192 16384 65536; loads 4000000)
 * Output: a header line, then "SIZE_KIB CHASE_NS SPREAD_NS" per size.
 * Exit 1 on a bad argument, a CPU it may not run on, or no memory.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE 64
#define ALIGN (2u << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static volatile uint64_t sink; /* where the loaded values go, so that the loads stay */

static inline uint64_t next_rand(void)
{
	/* xorshift64*: enough to scatter the walks, and the same on every run */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A decimal number; 0 only where zero_ok. */
static int parse_u64(const char *s, uint64_t *out, int zero_ok)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || (!v && !zero_ok) || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* One buffer of size bytes on a 2 MiB boundary (huge pages where the kernel gives them). */
static char *buffer(size_t size, void **map, size_t *map_size)
{
	size_t len = size + ALIGN;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	*map = p;
	*map_size = len;
	p = (char *)(((uintptr_t)p + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
	madvise(p, size, MADV_HUGEPAGE);
	memset(p, 0, size);
	return p;
}

static int probe(uint64_t kib, uint64_t loads, uint32_t *idx)
{
	size_t size = (size_t)kib << 10, lines = size / LINE;
	void *map;
	size_t map_size;
	char *p;
	uint64_t pos, sum = 0;
	double t0, chase, spread;

	if (lines < 2) {
		fprintf(stderr, "memprobe: %llu KiB: too small\n", (unsigned long long)kib);
		return -1;
	}
	p = buffer(size, &map, &map_size);
	if (!p) {
		fprintf(stderr, "memprobe: %llu KiB: %s\n", (unsigned long long)kib,
			strerror(errno));
		return -1;
	}
	/* Sattolo's shuffle: one cycle through every line. */
	uint64_t *perm = malloc(lines * sizeof(*perm));
	if (!perm) {
		munmap(map, map_size);
		fprintf(stderr, "memprobe: %llu KiB: out of memory\n", (unsigned long long)kib);
		return -1;
	}
	for (uint64_t i = 0; i < lines; i++)
		perm[i] = i;
	for (uint64_t i = lines - 1; i > 0; i--) {
		uint64_t j = next_rand() % i, t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint64_t i = 0; i < lines; i++)
		*(uint64_t *)(p + perm[i] * LINE) = perm[(i + 1) % lines] * LINE;
	free(perm);
	for (uint64_t i = 0; i < loads; i++)
		idx[i] = (uint32_t)(next_rand() % lines);

	/* One lap first, so that the timed walks find the buffer as they leave it. */
	pos = 0;
	for (uint64_t i = 0; i < lines; i++)
		pos = *(volatile uint64_t *)(p + pos);
	t0 = now_ns();
	for (uint64_t i = 0; i < loads; i++)
		pos = *(volatile uint64_t *)(p + pos);
	chase = (now_ns() - t0) / (double)loads;
	sum += pos;
	t0 = now_ns();
	for (uint64_t i = 0; i < loads; i++)
		sum += *(volatile uint64_t *)(p + (size_t)idx[i] * LINE);
	spread = (now_ns() - t0) / (double)loads;
	printf("%llu %.1f %.1f\n", (unsigned long long)kib, chase, spread);
	sink = sum;
	munmap(map, map_size);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint64_t def[] = { 256, 1024, 2048, 4096, 8192, 16384, 65536 };
	uint64_t sizes[64], loads = 4000000, cpu = 0;
	int nsizes = 0, have_cpu = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			if (parse_u64(argv[++i], &cpu, 1) || cpu >= CPU_SETSIZE)
				goto bad;
			have_cpu = 1;
		} else if (!strcmp(argv[i], "--loads") && i + 1 < argc) {
			if (parse_u64(argv[++i], &loads, 0) || loads > (1u << 28))
				goto bad;
		} else if (nsizes < 64 && argv[i][0] != '-') {
			if (parse_u64(argv[i], &sizes[nsizes], 0) || sizes[nsizes] > (64u << 20))
				goto bad;
			nsizes++;
		} else {
			goto bad;
		}
	}
	if (!nsizes) {
		memcpy(sizes, def, sizeof(def));
		nsizes = sizeof(def) / sizeof(def[0]);
	}
	if (have_cpu) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "memprobe: CPU %llu: %s\n", (unsigned long long)cpu,
				strerror(errno));
			return 1;
		}
	}
	uint32_t *idx = malloc(loads * sizeof(*idx));
	if (!idx) {
		fprintf(stderr, "memprobe: out of memory\n");
		return 1;
	}
	printf("# size_kib chase_ns spread_ns\n");
	for (int i = 0; i < nsizes; i++) {
		if (probe(sizes[i], loads, idx)) {
			free(idx);
			return 1;
		}
	}
	free(idx);
	return 0;
bad:
	fprintf(stderr, "usage: memprobe [--cpu N] [--loads N] [SIZE_KIB ...]\n");
	return 1;
}
