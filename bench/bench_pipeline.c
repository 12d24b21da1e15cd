// SPDX-License-Identifier: MIT
/*
 * The market-data pipeline on one core, on a generated ITCH 5.0 day
 * (fg_itchgen, NASDAQ BinaryFILE framing in memory): the length-prefix walk
 * (the floor), fg_itch_decode() of every message, the batch filter (every
 * SIMD variant against the scalar reference, on the batch just walked, as
 * in the pipeline), decode of the selected messages, the order book, and
 * the generator itself. Prints the "Market-data pipeline" section of
 * bench/RESULTS.md (Markdown) on stdout or into --out; bench_pipeline.sh
 * puts it between the markers.
 *
 * The day is made and measured a chunk at a time (1 million messages), so
 * memory stays small; every figure is the median over chunks of ns per
 * input message, because the machine is shared and a chunk that met a
 * neighbour's burst should not move the result. The book is also measured
 * over the day: the mean of each tenth of it (the book grows, and its cost
 * should not), and with --csv every chunk's figures (for the plot that
 * bench/bench_book.sh draws). With --whole, last, replay's own path over
 * the whole day: the day made in memory first (about 31 bytes a message,
 * small pages, as replay's mapping of the file), then read by replay's own
 * reader (fg_capfile_next() over fg_capfile_open_mem()) and fed to a
 * pipeline that keeps every symbol's book (fg_pipeline_raw(), as `feedgate
 * replay DAY --book SYMBOL` does), timed per chunk in one run: the day's
 * tenths as the whole process sees them, opening and mapping the file
 * aside.
 *
 *   bench_pipeline [--quick] [--messages N] [--symbols N] [--seed S] [--max-live N]
 *                  [--batch N] [--subscribe N] [--cpu N] [--out FILE] [--csv FILE]
 *                  [--whole]
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "feedgate/book.h"
#include "feedgate/capfile.h"
#include "feedgate/filter.h"
#include "feedgate/itch.h"
#include "feedgate/itchgen.h"
#include "feedgate/pipeline.h"

#define CHUNK 1000000u
#define MAX_CHUNKS 4096
#define REPLAY_BATCH 1024 /* messages replay hands fg_pipeline_raw() at a time (RAW_BATCH) */
#define BOOK_TYPES "AFECXDU"

struct opts {
	uint64_t messages;
	uint32_t symbols;
	uint64_t seed;
	unsigned int batch;
	unsigned int subscribe;
	int cpu;
	uint32_t max_live;
	const char *out;
	const char *csv;
	int whole;
};

/* Per-chunk ns/message of one measurement. */
struct series {
	double v[MAX_CHUNKS];
	unsigned int n;
	double total_ns;
	uint64_t total_msgs;
};

static void add(struct series *s, double ns, uint64_t msgs)
{
	if (s->n < MAX_CHUNKS && msgs)
		s->v[s->n++] = ns / (double)msgs;
	s->total_ns += ns;
	s->total_msgs += msgs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const struct series *s)
{
	double tmp[MAX_CHUNKS];

	if (!s->n)
		return 0;
	memcpy(tmp, s->v, s->n * sizeof(double));
	qsort(tmp, s->n, sizeof(double), cmp_double);
	return s->n % 2 ? tmp[s->n / 2] : (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

static inline uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_pipeline [--quick] [--messages N] [--symbols N] [--seed S] "
		   "[--max-live N] [--batch N] [--subscribe N] [--cpu N] [--out FILE] "
		   "[--csv FILE] [--whole]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .messages = 50000000,
			    .symbols = 8000,
			    .seed = 1,
			    .batch = 1024,
			    .subscribe = 100,
			    .cpu = -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--quick")) {
			o->messages = 5000000;
			continue;
		}
		if (!strcmp(a, "--whole")) {
			o->whole = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr,
				"feedgate: bench_pipeline: '%s': unknown option or missing "
				"value; see --help\n",
				a);
			return -EINVAL;
		}
		i++;
		if (!strcmp(a, "--out")) {
			o->out = v;
			continue;
		}
		if (!strcmp(a, "--csv")) {
			o->csv = v;
			continue;
		}
		errno = 0;
		unsigned long long n = strtoull(v, &end, 0);

		if (errno || *end || end == v) {
			fprintf(stderr, "feedgate: bench_pipeline: %s '%s': not a number\n", a, v);
			return -EINVAL;
		}
		if (!strcmp(a, "--messages") && n >= 1000) {
			o->messages = n;
		} else if (!strcmp(a, "--symbols") && n >= 1 && n <= FG_ITCHGEN_MAX_SYMBOLS) {
			o->symbols = (uint32_t)n;
		} else if (!strcmp(a, "--seed")) {
			o->seed = n;
		} else if (!strcmp(a, "--max-live") && n <= UINT32_MAX) {
			o->max_live = (uint32_t)n;
		} else if (!strcmp(a, "--batch") && n >= 16 && n <= FG_FILTER_MAX_BATCH) {
			o->batch = (unsigned int)n;
		} else if (!strcmp(a, "--subscribe") && n >= 1 && n <= 4096) {
			o->subscribe = (unsigned int)n;
		} else if (!strcmp(a, "--cpu") && n < 1024) {
			o->cpu = (int)n;
		} else {
			fprintf(stderr,
				"feedgate: bench_pipeline: %s '%s': unknown option or out of "
				"range\n",
				a, v);
			return -EINVAL;
		}
	}
	if (o->subscribe > o->symbols)
		o->subscribe = o->symbols;
	if (o->messages / CHUNK >= MAX_CHUNKS)
		o->messages = (uint64_t)(MAX_CHUNKS - 1) * CHUNK;
	return 0;
}

/* The 1-minute load average, so a reader can tell a busy run from a quiet one. */
static double load1(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void cpu_model(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int hyper = 0, got = 0;

	snprintf(buf, cap, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!got && !strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(buf, cap, "%s", strchr(line, ':') + 2);
			buf[strcspn(buf, "\n")] = '\0';
			got = 1;
		}
		if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
			hyper = 1;
	}
	fclose(f);
	if (hyper && strlen(buf) + 12 < cap)
		strcat(buf, " (KVM guest)");
}

/* The day, a chunk at a time, framed as BinaryFILE. */
struct chunk {
	uint8_t *buf;
	size_t len;
	uint32_t n;
};

static void make_chunk(struct fg_itchgen *g, struct chunk *c, uint32_t n)
{
	size_t off = 0;

	for (uint32_t i = 0; i < n; i++) {
		size_t len = fg_itchgen_next(g, c->buf + off + 2, FG_ITCH_MAX_LEN + 14);

		c->buf[off] = (uint8_t)(len >> 8);
		c->buf[off + 1] = (uint8_t)len;
		off += 2 + len;
	}
	c->len = off;
	c->n = n;
}

/* Walk a batch of at most max messages from *off: fills msgs/lens, returns how many. */
static inline unsigned int walk_batch(const struct chunk *c, size_t *off, const uint8_t **msgs,
				      uint16_t *lens, unsigned int max)
{
	unsigned int k = 0;
	size_t o = *off;

	while (k < max && o + 2 <= c->len) {
		uint16_t len = be16(c->buf + o);

		if (o + 2 + len > c->len)
			break;
		msgs[k] = c->buf + o + 2;
		lens[k++] = len;
		o += 2 + len;
	}
	*off = o;
	return k;
}

static volatile uint64_t sink; /* keeps results alive */
static uint64_t live_at[MAX_CHUNKS]; /* orders live in the book after each chunk */
static uint64_t levels_at[MAX_CHUNKS]; /* price levels live after each chunk */
static double mem_at[MAX_CHUNKS]; /* MiB the book uses after each chunk */

/* Mean of the per-chunk figures [from, to). */
static double mean_of(const struct series *s, unsigned int from, unsigned int to)
{
	double sum = 0;

	if (to > s->n)
		to = s->n;
	if (from >= to)
		return 0;
	for (unsigned int i = from; i < to; i++)
		sum += s->v[i];
	return sum / (to - from);
}

/* Mean ns/message over tenth t (0-9) of the day's chunks. */
static double tenth(const struct series *s, unsigned int t)
{
	return mean_of(s, t * s->n / 10, (t + 1) * s->n / 10);
}

/*
 * --whole: the day in memory, then replay's path over it (walk + fg_pipeline_raw() with every
 * book), one figure a chunk. 0, or -1 after saying why.
 */
static int whole_day(const struct opts *o, const struct fg_itchgen_config *gcfg, struct series *s)
{
	size_t cap = (size_t)o->messages * (FG_ITCH_MAX_LEN + 16), len = 0;
	struct fg_pipeline_config pc = { .books = 1 };
	struct fg_pipeline *pl = NULL;
	struct fg_itchgen *g = NULL;
	struct fg_capfile *cf = NULL;
	struct fg_cap_record r;
	const uint8_t *msgs[REPLAY_BATCH];
	uint16_t lens[REPLAY_BATCH];
	uint8_t *day = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int rc = -1;

	if (day == MAP_FAILED) {
		fprintf(stderr, "feedgate: bench_pipeline: --whole: %s\n", strerror(errno));
		return -1;
	}
	if (fg_itchgen_new(gcfg, &g) || fg_pipeline_new(&pc, &pl)) {
		fprintf(stderr, "feedgate: bench_pipeline: --whole: setup failed\n");
		goto out;
	}
	for (uint64_t i = 0; i < o->messages; i++) {
		size_t l = fg_itchgen_next(g, day + len + 2, FG_ITCH_MAX_LEN + 14);

		day[len] = (uint8_t)(l >> 8);
		day[len + 1] = (uint8_t)l;
		len += 2 + l;
	}
	if (fg_capfile_open_mem(day, len, &cf) || fg_capfile_format(cf) != FG_CAPFILE_BINARYFILE) {
		fprintf(stderr, "feedgate: bench_pipeline: --whole: the day is not BinaryFILE\n");
		goto out;
	}
	for (uint64_t done = 0; done < o->messages;) {
		uint64_t n = o->messages - done < CHUNK ? o->messages - done : CHUNK, got = 0;
		uint64_t t0 = now_ns();

		/* replay_records() (cmd_replay.c): the file's records, RAW_BATCH at a time. */
		while (got < n) {
			unsigned int k = 0;

			while (k < REPLAY_BATCH && got + k < n && fg_capfile_next(cf, &r) == 1) {
				msgs[k] = r.data;
				lens[k++] = (uint16_t)r.caplen;
			}
			if (!k)
				break; /* never: the day holds every message */
			fg_pipeline_raw(pl, msgs, lens, k);
			got += k;
		}
		add(s, (double)(now_ns() - t0), n);
		done += n;
		fprintf(stderr, "\r  whole day: %llu / %llu messages", (unsigned long long)done,
			(unsigned long long)o->messages);
	}
	fg_pipeline_finish(pl);
	fprintf(stderr, "\n");
	rc = 0;
out:
	fg_capfile_close(cf);
	fg_pipeline_free(pl);
	fg_itchgen_free(g);
	munmap(day, cap);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	char cpu[256], csv[4096 * 10] = "", when[64];
	struct chunk c = { 0 };
	struct fg_itchgen_config gcfg;
	struct fg_itchgen *g = NULL, *g2 = NULL;
	struct fg_filter *fsym[FG_FILTER_NIMPL] = { 0 }, *ftyp[FG_FILTER_NIMPL] = { 0 },
			 *fpipe = NULL;
	struct fg_books *book_all = NULL, *book_sub = NULL, *book_batch = NULL;
	static struct series walk, dec, hwalk, hdec, decsel, pipe, book, bookb, whole,
		fsel[FG_FILTER_NIMPL], ftsel[FG_FILTER_NIMPL], gen;
	const uint8_t **msgs = NULL;
	uint16_t *lens = NULL, *out = NULL;
	struct fg_itch_msg *dm = NULL;
	uint64_t selected = 0, selected_t = 0, checksum = 0, t0, gen_file_ns = 0;
	size_t book_mem;
	double load_start, load_end;
	struct fg_books_stats bst, bsub;
	struct rusage ru;
	int nimpl = 0, rc = 1, err;
	FILE *md = stdout;

	if (parse(argc, argv, &o))
		return 2;
	if (o.cpu < 0)
		o.cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			o.cpu = -1; /* not pinned: said in the report */
	}
	cpu_model(cpu, sizeof(cpu));
	load_start = load1();
	gcfg = (struct fg_itchgen_config){ .seed = o.seed,
					   .symbols = o.symbols,
					   .max_live_orders = o.max_live };
	err = fg_itchgen_new(&gcfg, &g);
	err = err ?: fg_itchgen_new(&gcfg, &g2);
	err = err ?: fg_books_new(0, NULL, &book_all);
	err = err ?: fg_books_new(0, NULL, &book_sub);
	c.buf = malloc((size_t)CHUNK * (FG_ITCH_MAX_LEN + 16));
	msgs = calloc(o.batch, sizeof(*msgs));
	lens = calloc(o.batch, sizeof(*lens));
	out = calloc(o.batch + 64, sizeof(*out));
	dm = calloc(o.batch, sizeof(*dm));
	if (err || !c.buf || !msgs || !lens || !out || !dm) {
		fprintf(stderr, "feedgate: bench_pipeline: out of memory\n");
		goto out;
	}
	/* The subscription: every (symbols / subscribe)-th locate. */
	for (unsigned int i = 0; i < o.subscribe; i++) {
		if (i)
			strcat(csv, ",");
		strcat(csv,
		       fg_itchgen_symbol(g, (uint16_t)(1 + (uint64_t)i * o.symbols / o.subscribe)));
	}
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		if (!fg_filter_impl_supported((enum fg_filter_impl)v))
			continue;
		if (fg_filter_new(&fsym[v]) || fg_filter_new(&ftyp[v]) ||
		    fg_filter_set_impl(fsym[v], (enum fg_filter_impl)v) ||
		    fg_filter_set_impl(ftyp[v], (enum fg_filter_impl)v) ||
		    fg_filter_add_symbols(fsym[v], csv) || fg_filter_add_symbols(ftyp[v], csv) ||
		    fg_filter_set_types(ftyp[v], BOOK_TYPES)) {
			fprintf(stderr, "feedgate: bench_pipeline: filter setup failed\n");
			goto out;
		}
		nimpl++;
	}
	if (fg_filter_new(&fpipe) || fg_filter_add_symbols(fpipe, csv)) {
		fprintf(stderr, "feedgate: bench_pipeline: filter setup failed\n");
		goto out;
	}

	/* Pass 1: everything but the batched book, chunk by chunk. */
	for (uint64_t done = 0, ci = 0; done < o.messages; done += c.n, ci++) {
		uint32_t n = o.messages - done < CHUNK ? (uint32_t)(o.messages - done) : CHUNK;
		size_t off;
		uint64_t acc = 0, t_pipe = 0, t_book = 0, t_decsel = 0, t_hwalk = 0, t_hdec = 0;
		uint64_t t_sel[FG_FILTER_NIMPL] = { 0 }, t_typ[FG_FILTER_NIMPL] = { 0 };
		unsigned int bi = 0;

		t0 = now_ns();
		make_chunk(g, &c, n);
		add(&gen, (double)(now_ns() - t0), n);

		/* The floor: walk the length prefixes. */
		t0 = now_ns();
		for (off = 0; off + 2 <= c.len;) {
			uint16_t len = be16(c.buf + off);

			acc += c.buf[off + 2];
			off += 2 + len;
		}
		add(&walk, (double)(now_ns() - t0), n);
		checksum += acc;

		/* Walk + decode every message. */
		t0 = now_ns();
		for (off = 0, acc = 0; off + 2 <= c.len;) {
			uint16_t len = be16(c.buf + off);
			struct fg_itch_msg m;

			if (fg_itch_decode(c.buf + off + 2, len, &m) == 0)
				acc += m.timestamp ^ m.stock_locate;
			off += 2 + len;
		}
		add(&dec, (double)(now_ns() - t0), n);
		checksum += acc;

		/* Batches, as the pipeline sees them (walked just before). */
		for (off = 0; off < c.len; bi++) {
			size_t start = off, o2;
			unsigned int k = walk_batch(&c, &off, msgs, lens, o.batch), ks;
			uint64_t tw, tb;

			/* The batch is in cache now: the floor and the full decode on it. */
			tb = now_ns();
			for (o2 = start, acc = 0; o2 < off;) {
				acc += c.buf[o2 + 2];
				o2 += 2 + be16(c.buf + o2);
			}
			t_hwalk += now_ns() - tb;
			checksum += acc;
			tb = now_ns();
			for (o2 = start, acc = 0; o2 < off;) {
				uint16_t len = be16(c.buf + o2);
				struct fg_itch_msg m;

				if (fg_itch_decode(c.buf + o2 + 2, len, &m) == 0)
					acc += m.timestamp ^ m.stock_locate;
				o2 += 2 + len;
			}
			t_hdec += now_ns() - tb;
			checksum += acc;
			/* What the filtered decode pays for the walk: the batch's pointer arrays. */
			o2 = start;
			tw = now_ns();
			walk_batch(&c, &o2, msgs, lens, o.batch);
			tw = now_ns() - tw;
			/* Directory first (untimed: R only opens the day). */
			for (unsigned int i = 0; i < k; i++) {
				if (msgs[i][0] != 'R' || lens[i] != FG_ITCH_LEN_R)
					continue;
				for (int v = 0; v < FG_FILTER_NIMPL; v++) {
					uint16_t loc = be16(msgs[i] + 1);

					if (fsym[v])
						fg_filter_learn(fsym[v], loc,
								(const char *)msgs[i] + 11);
					if (ftyp[v])
						fg_filter_learn(ftyp[v], loc,
								(const char *)msgs[i] + 11);
				}
			}
			/* Every variant on the same hot batch, in rotating order. */
			for (int r = 0; r < FG_FILTER_NIMPL; r++) {
				int v = (int)((bi + (unsigned int)r) % FG_FILTER_NIMPL);
				uint64_t t;

				if (!fsym[v])
					continue;
				t = now_ns();
				ks = fg_filter_select(fsym[v], msgs, lens, k, out);
				t_sel[v] += now_ns() - t;
				if (v == FG_FILTER_SCALAR)
					selected += ks;
				t = now_ns();
				ks = fg_filter_select(ftyp[v], msgs, lens, k, out);
				t_typ[v] += now_ns() - t;
				if (v == FG_FILTER_SCALAR)
					selected_t += ks;
			}
			/* Filter (best variant, learning R) + decode of the selected. */
			tb = now_ns();
			ks = fg_filter_select_learn(fpipe, msgs, lens, k, out);
			for (unsigned int j = 0; j < ks; j++)
				fg_itch_decode(msgs[out[j]], lens[out[j]], &dm[j]);
			t_decsel += now_ns() - tb + tw;
			/* ... + the book of the subscribed symbols: the whole pipeline. */
			tb = now_ns();
			for (unsigned int j = 0; j < ks; j++)
				fg_books_apply(book_sub, &dm[j]);
			t_pipe += now_ns() - tb;
			/* The book of everything, from decoded messages (decode untimed). */
			for (unsigned int i = 0; i < k; i++)
				if (fg_itch_decode(msgs[i], lens[i], &dm[i]))
					dm[i].type = 0;
			tb = now_ns();
			for (unsigned int i = 0; i < k; i++)
				fg_books_apply(book_all, &dm[i]);
			t_book += now_ns() - tb;
		}
		add(&hwalk, (double)t_hwalk, n);
		add(&hdec, (double)t_hdec, n);
		add(&decsel, (double)t_decsel, n);
		add(&pipe, (double)(t_decsel + t_pipe), n);
		add(&book, (double)t_book, n);
		if (ci < MAX_CHUNKS) {
			struct fg_books_stats cs;

			fg_books_get_stats(book_all, &cs);
			live_at[ci] = cs.orders_live;
			levels_at[ci] = cs.levels_live;
			mem_at[ci] = (double)fg_books_memory(book_all) / 1048576.0;
		}
		for (int v = 0; v < FG_FILTER_NIMPL; v++) {
			if (!fsym[v])
				continue;
			add(&fsel[v], (double)t_sel[v], n);
			add(&ftsel[v], (double)t_typ[v], n);
		}
		fprintf(stderr, "\r  pass 1: %llu / %llu messages", (unsigned long long)(done + n),
			(unsigned long long)o.messages);
	}
	fg_books_get_stats(book_all, &bst);
	book_mem = fg_books_memory(book_all);
	fg_books_get_stats(book_sub, &bsub);
	fg_books_free(book_sub);
	fg_books_free(book_all);
	book_sub = book_all = NULL;

	/* Pass 2: the same day again, the book fed in batches (fg_books_apply_batch). */
	if (fg_books_new(0, NULL, &book_batch))
		goto out;
	for (uint64_t done = 0; done < o.messages; done += c.n) {
		uint32_t n = o.messages - done < CHUNK ? (uint32_t)(o.messages - done) : CHUNK;
		uint64_t t_book = 0;

		make_chunk(g2, &c, n);
		for (size_t off = 0; off < c.len;) {
			unsigned int k = walk_batch(&c, &off, msgs, lens, o.batch);

			for (unsigned int i = 0; i < k; i++)
				if (fg_itch_decode(msgs[i], lens[i], &dm[i]))
					dm[i].type = 0;
			t0 = now_ns();
			fg_books_apply_batch(book_batch, dm, k);
			t_book += now_ns() - t0;
		}
		add(&bookb, (double)t_book, n);
		fprintf(stderr, "\r  pass 2: %llu / %llu messages", (unsigned long long)(done + n),
			(unsigned long long)o.messages);
	}
	fg_books_free(book_batch);
	book_batch = NULL;

	/* The generator as `feedgate gen --itch-file` runs it: BinaryFILE through buffered writes. */
	{
		struct fg_itchgen *g3 = NULL;
		int fd = open("/dev/null", O_WRONLY);

		if (fg_itchgen_new(&gcfg, &g3) == 0 && fd >= 0) {
			t0 = now_ns();
			if (fg_itchgen_write_binaryfile(g3, fd, o.messages) == 0)
				gen_file_ns = now_ns() - t0;
		}
		if (fd >= 0)
			close(fd);
		fg_itchgen_free(g3);
	}
	fprintf(stderr, "\n");
	getrusage(RUSAGE_SELF, &ru);
	if (o.whole && whole_day(&o, &gcfg, &whole))
		goto out;
	load_end = load1();
	sink = checksum;

	/* --- the report ---------------------------------------------------------------------- */
	if (o.out && !(md = fopen(o.out, "w"))) {
		fprintf(stderr, "feedgate: bench_pipeline: %s: %s\n", o.out, strerror(errno));
		goto out;
	}
	{
		time_t tt = time(NULL);

		strftime(when, sizeof(when), "%Y-%m-%d", gmtime(&tt));
	}
	double w = median(&walk), d = median(&dec), ds = median(&decsel), p = median(&pipe);
	double hw = median(&hwalk), hd = median(&hdec);
	double bk = median(&book), bkb = median(&bookb), sc = median(&fsel[FG_FILTER_SCALAR]);
	double sct = median(&ftsel[FG_FILTER_SCALAR]), best_speedup = 0;
	const char *best_name = "none";

	fprintf(md, "## Market-data pipeline: decode, SIMD filter, order book\n\n");
	fprintf(md,
		"`make bench-pipeline` (bench/bench_pipeline.c, bench/bench_pipeline.sh), %s: %s, "
		"%ld CPUs, %s. A generated day (fg_itchgen, seed %llu): %llu messages, %u symbols, "
		"%.1f bytes a message with its length prefix, processed in chunks of %u messages "
		"and batches of %u. Every figure is the median over the chunks of ns per input "
		"message. The machine is shared with other builds (1-minute load average %.1f at "
		"the start, %.1f at the end): compare rows of the same run.\n\n",
		when, cpu, sysconf(_SC_NPROCESSORS_ONLN),
		o.cpu >= 0 ? "pinned to one CPU" : "not pinned", (unsigned long long)o.seed,
		(unsigned long long)o.messages, o.symbols, (double)c.len / c.n, CHUNK, o.batch,
		load_start, load_end);
	fprintf(md, "| stage (one core) | ns/message | million messages/s | target | met |\n");
	fprintf(md, "|---|--:|--:|--:|:-:|\n");
	fprintf(md, "| length-prefix walk, batch in cache (the floor) | %.2f | %.0f | | |\n", hw,
		1e3 / hw);
	fprintf(md,
		"| decode, no filter: walk + fg_itch_decode() of every message, batch in "
		"cache | %.2f | %.0f | <= 3 | %s |\n",
		hd, 1e3 / hd, hd <= 3.0 ? "yes" : "NO");
	fprintf(md, "| ... of which decode (minus the walk) | %.2f | | | |\n", hd - hw);
	fprintf(md, "| length-prefix walk, whole chunk from memory | %.2f | %.0f | | |\n", w,
		1e3 / w);
	fprintf(md, "| decode, no filter, whole chunk from memory | %.2f | %.0f | | |\n", d,
		1e3 / d);
	fprintf(md,
		"| decode, %u-symbol filter: walk + fg_filter_select_learn() (%s) + decode of the "
		"%.2f%% selected, batch in cache | %.2f | %.0f | <= 3 | %s |\n",
		o.subscribe, fg_filter_impl_name(fg_filter_get_impl(fpipe)),
		100.0 * (double)selected / (double)o.messages, ds, 1e3 / ds,
		ds <= 3.0 ? "yes" : "NO");
	fprintf(md, "| book update: fg_books_apply(), every message | %.2f | %.1f | <= 40 | %s |\n",
		bk, 1e3 / bk, bk <= 40.0 ? "yes" : "NO");
	fprintf(md,
		"| book update: fg_books_apply_batch(), every message | %.2f | %.1f | <= 40 | "
		"%s |\n",
		bkb, 1e3 / bkb, bkb <= 40.0 ? "yes" : "NO");
	fprintf(md,
		"| whole pipeline, %u symbols: walk + filter + decode + book | %.2f | %.0f | | |\n",
		o.subscribe, p, 1e3 / p);
	fprintf(md,
		"| generator: fg_itchgen_write_binaryfile() to /dev/null | %.2f | %.1f | "
		"50M in well under 60 s | %s (%.1f s for %llu) |\n\n",
		(double)gen_file_ns / (double)o.messages, 1e3 * (double)o.messages / gen_file_ns,
		gen_file_ns && (double)gen_file_ns / (double)o.messages * 50e6 < 30e9 ? "yes"
										      : "NO",
		gen_file_ns / 1e9, (unsigned long long)o.messages);

	fprintf(md, "Batch filter, every variant on the same batches (each batch walked just "
		    "before, so it is in cache, as in the pipeline); speedup = scalar ns / variant "
		    "ns:\n\n");
	fprintf(md,
		"| variant | %u symbols: ns/message | speedup | %u symbols, types %s: "
		"ns/message | speedup | >= 4x |\n",
		o.subscribe, o.subscribe, BOOK_TYPES);
	fprintf(md, "|---|--:|--:|--:|--:|:-:|\n");
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		double a, b;

		if (!fsym[v])
			continue;
		a = median(&fsel[v]);
		b = median(&ftsel[v]);
		fprintf(md, "| %s | %.3f | %.2f | %.3f | %.2f | %s |\n",
			fg_filter_impl_name((enum fg_filter_impl)v), a, sc / a, b, sct / b,
			v == FG_FILTER_SCALAR ? ""
					      : (sc / a >= 4.0 && sct / b >= 4.0 ? "yes" : "NO"));
		if (v != FG_FILTER_SCALAR && sc / a > best_speedup) {
			best_speedup = sc / a;
			best_name = fg_filter_impl_name((enum fg_filter_impl)v);
		}
	}
	fprintf(md,
		"\nVariants this CPU runs: %d of %d; selected by the %u-symbol subscription: "
		"%.2f%% of messages (%.2f%% with the type subscription); best speedup %.2fx "
		"(%s).\n\n",
		nimpl, FG_FILTER_NIMPL, o.subscribe, 100.0 * (double)selected / (double)o.messages,
		100.0 * (double)selected_t / (double)o.messages, best_speedup, best_name);
	fprintf(md,
		"Book after the day: %llu orders live (peak %llu), %llu price levels, order table "
		"capacity %u (longest probe %u); anomalies: %llu unknown references, %llu clamped, "
		"%llu crossed. The %u-symbol book saw %llu messages. The book of every symbol "
		"used %.1f MB at the end of the day (its tables grow with its live orders; "
		"fg_books_memory()).\n\n",
		(unsigned long long)bst.orders_live, (unsigned long long)bst.orders_peak,
		(unsigned long long)bst.levels_live, bst.order_capacity, bst.max_probe,
		(unsigned long long)bst.unknown_refs, (unsigned long long)bst.clamped,
		(unsigned long long)bst.crossed, o.subscribe, (unsigned long long)bsub.messages,
		(double)book_mem / 1048576.0);
	if (book.n >= 10 && bookb.n >= 10) {
		double f1 = tenth(&book, 0), l1 = tenth(&book, 9);
		double fb = tenth(&bookb, 0), lb = tenth(&bookb, 9);

		fprintf(md, "The book over the day, mean ns/message of each tenth of it (target: "
			    "the last tenth at most 1.3 times the first):\n\n");
		fprintf(md, "| tenth | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | last / first | "
			    "<= 1.3 |\n");
		fprintf(md, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|\n");
		fprintf(md, "| orders live at its end |");
		for (unsigned int t = 0; t < 10; t++)
			fprintf(md, " %llu |",
				(unsigned long long)live_at[(t + 1) * book.n / 10 - 1]);
		fprintf(md, " | |\n| MB the book uses at its end |");
		for (unsigned int t = 0; t < 10; t++)
			fprintf(md, " %.1f |", mem_at[(t + 1) * book.n / 10 - 1]);
		fprintf(md, " | |\n| fg_books_apply() |");
		for (unsigned int t = 0; t < 10; t++)
			fprintf(md, " %.1f |", tenth(&book, t));
		fprintf(md, " %.2f | %s |\n| fg_books_apply_batch() |", l1 / f1,
			l1 <= 1.3 * f1 ? "yes" : "NO");
		for (unsigned int t = 0; t < 10; t++)
			fprintf(md, " %.1f |", tenth(&bookb, t));
		fprintf(md, " %.2f | %s |\n", lb / fb, lb <= 1.3 * fb ? "yes" : "NO");
		if (whole.n >= 10) {
			double fw = tenth(&whole, 0), lw = tenth(&whole, 9);

			fprintf(md, "| replay's path: fg_pipeline_raw(), every book (--whole) |");
			for (unsigned int t = 0; t < 10; t++)
				fprintf(md, " %.1f |", tenth(&whole, t));
			fprintf(md, " %.2f | %s |\n", lw / fw, lw <= 1.3 * fw ? "yes" : "NO");
		}
		fprintf(md, "\n");
	}
	if (o.csv) {
		FILE *f = fopen(o.csv, "w");

		if (!f) {
			fprintf(stderr, "feedgate: bench_pipeline: %s: %s\n", o.csv,
				strerror(errno));
		} else {
			fprintf(f, "# chunk messages book_ns batch_ns orders_live book_mb "
				   "levels_live replay_ns\n");
			for (unsigned int i = 0; i < book.n; i++)
				fprintf(f, "%u %llu %.2f %.2f %llu %.2f %llu %.2f\n", i,
					(unsigned long long)(i + 1) * CHUNK, book.v[i],
					i < bookb.n ? bookb.v[i] : 0.0,
					(unsigned long long)live_at[i], mem_at[i],
					(unsigned long long)levels_at[i],
					i < whole.n ? whole.v[i] : 0.0);
			fclose(f);
		}
	}
	fprintf(md,
		"Peak RSS of the benchmark: %.0f MB (two books at a time, one chunk of the day of "
		"%.0f MB, per-variant filters).\n\n",
		ru.ru_maxrss / 1024.0, (double)CHUNK * (FG_ITCH_MAX_LEN + 16) / 1048576.0);
	fprintf(md,
		"- \"Batch in cache\": each batch (%u messages) is walked once untimed, then "
		"measured, as in the pipeline where the MoldUDP64 block walk has just touched the "
		"frames of a ring batch. \"Whole chunk from memory\": one pass over %.0f MB that "
		"no cache holds (this VM reads about 8 GB/s on one core, and the walk's next "
		"offset waits for the current length). The book figures exclude decoding "
		"(messages decoded into an array first).\n"
		"- The generated day: A 43.6%%, D 42.6%%, U 8.7%%, E 2%%, X 1.2%%, I 1%%, F, P "
		"0.4%%; 70%% of the orders that D, E, C, X and U name are among the 64 most "
		"recent, the other 30%% anywhere in the book, so the book pays cache misses.\n"
		"- For scale (issue 4, same machine, synthetic 50-million-message day): "
		"groovg/itch-book decodes in 7.4 ns/message and keeps its book in 131, "
		"bbalouki/itchcpp 10.1 and 220; walking the length prefixes costs 1.8.\n",
		o.batch, (double)c.len / 1048576.0);
	if (md != stdout)
		fclose(md);
	rc = 0;
out:
	for (int v = 0; v < FG_FILTER_NIMPL; v++) {
		fg_filter_free(fsym[v]);
		fg_filter_free(ftyp[v]);
	}
	fg_filter_free(fpipe);
	fg_books_free(book_all);
	fg_books_free(book_sub);
	fg_books_free(book_batch);
	fg_itchgen_free(g);
	fg_itchgen_free(g2);
	free(c.buf);
	free(msgs);
	free(lens);
	free(out);
	free(dm);
	return rc;
}
