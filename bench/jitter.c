// SPDX-License-Identifier: MIT
/*
 * What a spinning thread loses on a CPU with no packets at all: the floor
 * under the live path's latency tail. Pinned to one CPU, it reads
 * CLOCK_MONOTONIC in a tight loop (with a pause, as the receive loop does)
 * and writes every gap of MIN_NS or more between two reads as
 * "START_NS DURATION_NS" lines; bench/bench_tail.sh traces the CPU
 * meanwhile and puts each gap down to what the trace shows took the CPU
 * (timer tick, softirq, another task) or to nothing the guest can see.
 *
 * Usage: jitter CPU SECONDS OUT [MIN_NS]   (MIN_NS default 5000)
 * Prints "gaps N total_ns T max_ns M" on stdout. Exit 1 on a bad argument,
 * a CPU it may not run on, or an output it cannot write.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GAPS (1u << 20)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

int main(int argc, char **argv)
{
	uint64_t *start, *dur, min_ns = 5000, total = 0, max = 0, prev, end;
	unsigned long cpu;
	double secs;
	unsigned int n = 0;
	char *e1, *e2;
	cpu_set_t set;
	FILE *f;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: jitter CPU SECONDS OUT [MIN_NS]\n");
		return 1;
	}
	cpu = strtoul(argv[1], &e1, 10);
	secs = strtod(argv[2], &e2);
	if (*e1 || *e2 || cpu >= CPU_SETSIZE || !(secs > 0 && secs <= 3600)) {
		fprintf(stderr, "jitter: bad CPU or SECONDS: %s %s\n", argv[1], argv[2]);
		return 1;
	}
	if (argc == 5) {
		min_ns = strtoull(argv[4], &e1, 10);
		if (*e1 || !min_ns) {
			fprintf(stderr, "jitter: bad MIN_NS: %s\n", argv[4]);
			return 1;
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "jitter: CPU %lu: %s\n", cpu, strerror(errno));
		return 1;
	}
	start = calloc(MAX_GAPS, sizeof(*start));
	dur = calloc(MAX_GAPS, sizeof(*dur));
	if (!start || !dur) {
		fprintf(stderr, "jitter: %s\n", strerror(ENOMEM));
		return 1;
	}
	/* every page of the records touched now, not as a gap in the loop */
	memset(start, 0, MAX_GAPS * sizeof(*start));
	memset(dur, 0, MAX_GAPS * sizeof(*dur));
	prev = now_ns();
	end = prev + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t t = now_ns();

		if (t - prev >= min_ns && n < MAX_GAPS) {
			start[n] = prev;
			dur[n++] = t - prev;
		}
		prev = t;
		if (t >= end)
			break;
		relax();
	}
	f = fopen(argv[3], "w");
	if (!f) {
		fprintf(stderr, "jitter: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		fprintf(f, "%llu %llu\n", (unsigned long long)start[i], (unsigned long long)dur[i]);
		total += dur[i];
		if (dur[i] > max)
			max = dur[i];
	}
	if (fclose(f)) {
		fprintf(stderr, "jitter: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	printf("gaps %u total_ns %llu max_ns %llu%s\n", n, (unsigned long long)total,
	       (unsigned long long)max, n == MAX_GAPS ? " (full: later gaps not kept)" : "");
	return 0;
}
